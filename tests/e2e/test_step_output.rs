//! One step's output and logs without `--json | jq`, and the latest execution without its id.

use crate::common::TestEnv;
use serde_json::{Value, json};

fn run_three_steps(env: &TestEnv) -> String {
    env.run(&[
        "agent",
        "add",
        "json",
        "--shell",
        r#"echo "log one" >&2; printf 'no newline' >&2; echo '{"a":1}'"#,
    ])
    .ok();
    env.run(&[
        "agent",
        "add",
        "text",
        "--shell",
        r"printf 'line1\nline2\n'",
    ])
    .ok();
    env.run(&[
        "agent",
        "add",
        "bad",
        "--shell",
        "echo 'went wrong' >&2; exit 3",
    ])
    .ok();
    let workflow = env.create(&json!({"name": "three", "steps": [
        {"id": "data", "agent": "json", "task": "t"},
        {"id": "prose", "agent": "text", "task": "t"},
        {"id": "boom", "agent": "bad", "task": "t",
         "errorHandling": {"strategy": "retry", "maxRetries": 1, "backoff": "fixed", "initialDelay": 0}}
    ]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    status["executionId"].as_str().expect("id").to_owned()
}

/// `workflow output EXEC STEP` prints the value alone: JSON as JSON, text as text.
#[test]
fn output_prints_one_steps_whole_output() {
    let env = TestEnv::new();
    let execution = run_three_steps(&env);
    let data = env.run(&["workflow", "output", &execution, "data"]);
    let value: Value = serde_json::from_str(data.ok()).expect("JSON");
    assert_eq!(value, json!({"a": 1}));
    let prose = env.run(&["workflow", "output", &execution, "prose"]);
    assert_eq!(prose.ok(), "line1\nline2\n");
    assert_eq!(
        env.json(&["workflow", "output", &execution, "prose"]),
        json!("line1\nline2")
    );
    let none = env.run(&["workflow", "output", &execution, "boom"]);
    assert_eq!(none.code, 1, "{}", none.stderr);
    assert!(none.stderr.contains("no output"), "{}", none.stderr);
    let missing = env.run(&["workflow", "output", &execution, "nope"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
}

/// `logs --failed` prints only the failed steps' attempts; `logs --json` prints JSON lines.
#[test]
fn logs_of_failed_steps_and_as_json_lines() {
    let env = TestEnv::new();
    let execution = run_three_steps(&env);
    let failed = env.run(&["workflow", "logs", &execution, "--failed"]);
    assert_eq!(
        failed.ok(),
        "==> boom attempt 1 (failed) <==\nwent wrong\n==> boom attempt 2 (failed) <==\nwent wrong\n"
    );
    let lines = env.run(&["--json", "workflow", "logs", &execution]);
    let lines: Vec<Value> = lines
        .ok()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let expected = [
        ("data", 1, "log one"),
        ("data", 1, "no newline"),
        ("boom", 1, "went wrong"),
        ("boom", 2, "went wrong"),
    ];
    assert_eq!(lines.len(), expected.len(), "{lines:?}");
    for (line, (step, attempt, text)) in lines.iter().zip(expected) {
        assert_eq!(line["step"], step);
        assert_eq!(line["attempt"], attempt);
        assert_eq!(line["stream"], "stderr");
        assert_eq!(line["line"], text);
        assert!(line.get("time").is_some(), "{line}");
    }
    let bare = env.run(&["-q", "workflow", "logs", &execution, "boom"]);
    assert_eq!(bare.ok(), "went wrong\nwent wrong\n");
}

/// `--last` stands for the latest execution's id, before a STEP too.
#[test]
fn last_names_the_latest_execution() {
    let env = TestEnv::new();
    let none = env.run(&["workflow", "execution", "--last"]);
    assert_eq!(none.code, 4, "{}", none.stderr);
    let execution = run_three_steps(&env);
    assert_eq!(
        env.json(&["workflow", "execution", "--last"])["executionId"],
        execution.as_str()
    );
    assert_eq!(
        env.run(&["-q", "workflow", "execution", "--last"]).ok(),
        "failed\n"
    );
    assert_eq!(
        env.run(&["-q", "workflow", "logs", "--last", "boom", "--attempt", "2"])
            .ok(),
        "went wrong\n"
    );
    assert_eq!(
        env.run(&["workflow", "output", "--last", "prose"]).ok(),
        "line1\nline2\n"
    );
    let both = env.run(&["workflow", "logs", &execution, "boom", "--last"]);
    assert_eq!(both.code, 2, "{}", both.stderr);
}
