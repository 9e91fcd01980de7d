use crate::common::TestEnv;
use serde_json::json;

#[test]
fn agents_are_added_listed_shown_and_removed() {
    let env = TestEnv::new();
    let script = env.script("a.sh", "cat");
    env.run(&[
        "agent",
        "add",
        "argv",
        "--description",
        "echoes",
        "--env",
        "A=1",
        "--",
        script.to_str().expect("utf-8"),
        "x y",
    ])
    .ok();
    env.run(&["agent", "add", "sh", "--shell", "echo hi"]).ok();
    let agents = env.json(&["agent", "list"]);
    assert_eq!(agents.as_array().map(Vec::len), Some(2));
    let argv = env.json(&["agent", "show", "argv"]);
    assert_eq!(argv["kind"], "command");
    assert_eq!(
        argv["command"],
        json!([script.to_str().expect("utf-8"), "x y"])
    );
    assert_eq!(argv["env"], json!({"A": "1"}));
    assert_eq!(argv["description"], "echoes");
    let sh = env.json(&["agent", "show", "sh"]);
    assert_eq!(sh["kind"], "shell");
    assert_eq!(sh["command"][2], "echo hi");
    let table = env.run(&["agent", "list"]);
    assert!(table.ok().contains("echo hi"), "{}", table.stdout);

    let again = env.run(&["agent", "add", "sh", "--shell", "echo bye"]);
    assert_eq!(
        again.code, 2,
        "adding a second agent of one name is refused"
    );
    assert!(again.stderr.contains("--replace"), "{}", again.stderr);
    env.run(&["agent", "add", "sh", "--replace", "--shell", "echo bye"])
        .ok();
    assert_eq!(env.json(&["agent", "show", "sh"])["command"][2], "echo bye");

    env.run(&["agent", "remove", "sh"]).ok();
    let gone = env.run(&["agent", "show", "sh"]);
    assert_eq!(gone.code, 4);
    let typo = env.run(&["agent", "remove", "argb"]);
    assert_eq!(typo.code, 4);
    assert!(
        typo.stderr.contains("did you mean `argv`"),
        "{}",
        typo.stderr
    );
}

#[test]
fn relative_agent_programs_are_made_absolute_and_bad_ones_refused() {
    let env = TestEnv::new();
    env.script("rel.sh", "echo rel");
    // The tests run from `work/`; `../agents/rel.sh` is relative to it.
    let added = env.json(&["agent", "add", "rel", "--", "../agents/rel.sh"]);
    let program = added["command"][0].as_str().expect("program");
    assert!(
        program.starts_with('/') && program.ends_with("agents/rel.sh"),
        "{program}"
    );
    let missing = env.run(&["agent", "add", "missing", "--", "./nope.sh"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("nope.sh"), "{}", missing.stderr);
    let bad_name = env.run(&["agent", "add", "bad name", "--shell", "true"]);
    assert_eq!(bad_name.code, 2);
    assert!(
        bad_name.stderr.contains("invalid agent name"),
        "{}",
        bad_name.stderr
    );
    let neither = env.run(&["agent", "add", "x"]);
    assert_eq!(neither.code, 2);
}

#[test]
fn an_agents_concurrency_limits_its_steps_across_a_parallel_step() {
    let env = TestEnv::new();
    let ledger = env.path("ledger");
    let work = format!(
        "echo start >> '{0}'; sleep 0.2; echo end >> '{0}'; echo done",
        ledger.display()
    );
    env.run(&[
        "agent",
        "add",
        "solo",
        "--concurrency",
        "1",
        "--shell",
        &work,
    ])
    .ok();
    assert_eq!(env.json(&["agent", "show", "solo"])["concurrency"], 1);
    let steps: Vec<serde_json::Value> = (0..3)
        .map(|i| json!({"id": format!("s{i}"), "agent": "solo", "task": "t"}))
        .collect();
    let workflow = env.create(
        &json!({"name": "solo", "steps": [{"id": "all", "type": "parallel", "steps": steps}]}),
    );
    let (run, _) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ledger = std::fs::read_to_string(&ledger).expect("ledger");
    assert_eq!(ledger, "start\nend\n".repeat(3), "one at a time");
}

#[test]
fn a_replaced_agent_runs_as_replaced_from_the_next_step_on() {
    let env = TestEnv::new();
    env.run(&["agent", "add", "v", "--shell", "echo one"]).ok();
    let workflow =
        env.create(&json!({"name": "w", "steps": [{"id": "a", "agent": "v", "task": "t"}]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(status["steps"][0]["output"]["a"], "one");
    // The running daemon keeps the agents in memory: a replacement must reach it.
    env.run(&["agent", "add", "v", "--replace", "--shell", "echo two"])
        .ok();
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(status["steps"][0]["output"]["a"], "two");
}
