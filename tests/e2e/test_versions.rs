//! Versions of a workflow, `workflow run` (create-or-reuse, then execute), `delete`, `archive`.

use crate::common::{Run, TestEnv, find_step, repo_root};
use crate::test_failures::execute_until;
use serde_json::{Value, json};

/// An agent that prints its task, and a two-step document using it.
fn echo_agent(env: &TestEnv) {
    env.run(&["agent", "add", "say", "--shell", r#"echo "$DO_TASK""#])
        .ok();
}

fn document(task: &str) -> Value {
    json!({"name": "release", "steps": [
        {"id": "build", "agent": "say", "task": "build"},
        {"id": "ship", "agent": "say", "task": task}]})
}

/// `do --json workflow run FILE --wait`; returns the run (stderr says what was stored) and the
/// final status document.
fn run_wait(env: &TestEnv, file: &std::path::Path) -> (Run, Value) {
    let run = env.run(&[
        "--json",
        "workflow",
        "run",
        file.to_str().expect("utf-8"),
        "--wait",
    ]);
    let status = run.json();
    (run, status)
}

/// The first line of stderr, e.g. `created wf_… v1`.
fn stored(run: &Run) -> String {
    run.stderr.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn run_twice_stores_one_workflow_and_an_edit_stores_a_second_version() {
    let env = TestEnv::new();
    echo_agent(&env);
    let file = env.file("release.json", &document("ship v1").to_string());

    let (first_run, first) = run_wait(&env, &file);
    assert_eq!(first["status"], "completed");
    let workflow = first["workflowId"].as_str().expect("workflowId").to_owned();
    assert_eq!(stored(&first_run), format!("created {workflow} v1"));
    assert_eq!(first["workflowVersion"], 1);

    let (second_run, second) = run_wait(&env, &file);
    assert_eq!(stored(&second_run), format!("reused {workflow} v1"));
    assert_eq!(second["workflowId"], workflow.as_str());
    assert_ne!(second["executionId"], first["executionId"]);

    let workflows = env.json(&["workflow", "list"]);
    assert_eq!(workflows.as_array().map(Vec::len), Some(1), "{workflows}");
    let executions = env.json(&["workflow", "executions", "--workflow", &workflow]);
    assert_eq!(executions.as_array().map(Vec::len), Some(2), "{executions}");

    std::fs::write(&file, document("ship v2").to_string()).expect("edit");
    let (third_run, third) = run_wait(&env, &file);
    assert_eq!(stored(&third_run), format!("updated {workflow} to v2"));
    assert_eq!(third["workflowVersion"], 2);
    assert_eq!(
        find_step(&third["steps"], "ship").expect("ship")["output"]["ship"],
        "ship v2"
    );
    let workflows = env.json(&["workflow", "list"]);
    assert_eq!(workflows.as_array().map(Vec::len), Some(1), "{workflows}");
    assert_eq!(workflows[0]["version"], 2);

    // The same document in YAML is the same workflow: no third version.
    let yaml = env.file(
        "release.yaml",
        "name: release\nsteps:\n  - id: build\n    agent: say\n    task: build\n  \
         - {id: ship, agent: say, task: ship v2}\n",
    );
    let (yaml_run, _) = run_wait(&env, &yaml);
    assert_eq!(stored(&yaml_run), format!("reused {workflow} v2"));

    // Every execution shows the version it ran, in the list and in the table.
    let versions: Vec<Value> = env
        .json(&["workflow", "executions", "--workflow", &workflow])
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["workflowVersion"].clone())
        .collect();
    assert_eq!(versions, [json!(2), json!(2), json!(1), json!(1)]);
    let table = env.run(&[
        "workflow",
        "execution",
        third["executionId"].as_str().expect("id"),
    ]);
    assert!(
        table.ok().contains("workflow version 2"),
        "{}",
        table.stdout
    );

    // Both versions stay readable.
    let old = env.json(&["workflow", "show", &workflow, "--version", "1"]);
    assert_eq!(old["version"], 1);
    assert_eq!(old["steps"][1]["task"], "ship v1");
    let current = env.json(&["workflow", "show", &workflow]);
    assert_eq!(current["steps"][1]["task"], "ship v2");
    let missing = env.run(&["workflow", "show", &workflow, "--version", "3"]);
    assert_eq!(missing.code, 4);
    assert!(
        missing.stderr.contains("versions are 1 to 2"),
        "{}",
        missing.stderr
    );
}

#[test]
fn concurrent_runs_of_one_document_store_it_once() {
    let env = TestEnv::new();
    echo_agent(&env);
    let file = env.file("release.json", &document("ship").to_string());
    let children: Vec<_> = (0..4)
        .map(|_| {
            env.command()
                .args(["--json", "workflow", "run", file.to_str().expect("utf-8")])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let mut created = 0;
    for child in children {
        let output = child.wait_with_output().expect("run");
        assert!(output.status.success(), "{output:?}");
        created += usize::from(String::from_utf8_lossy(&output.stderr).starts_with("created "));
    }
    assert_eq!(created, 1);
    let workflows = env.json(&["workflow", "list"]);
    assert_eq!(workflows.as_array().map(Vec::len), Some(1), "{workflows}");
    let executions = env.json(&["workflow", "executions"]);
    assert_eq!(executions.as_array().map(Vec::len), Some(4), "{executions}");
}

#[test]
fn an_execution_keeps_running_the_version_it_started_with() {
    let env = TestEnv::new();
    echo_agent(&env);
    let gate = env.gated_agent("gated", "echo open");
    let v1 = json!({"name": "pinned", "steps": [
        {"id": "wait", "agent": "gated", "task": "t"},
        {"id": "after", "agent": "say", "task": "from v1"}]});
    let workflow = env.create(&v1);
    let (mut waiting, execution, _) = execute_until(&env, &workflow, &["started   wait"]);

    let mut v2 = v1.clone();
    v2["steps"][1]["task"] = json!("from v2");
    v2["steps"][1]["id"] = json!("later");
    let file = env.file("v2.json", &v2.to_string());
    let updated = env.json(&[
        "workflow",
        "update",
        &workflow,
        file.to_str().expect("utf-8"),
    ]);
    assert_eq!(updated["version"], 2);

    std::fs::write(&gate, "").expect("open the gate");
    assert!(waiting.wait().expect("wait").success());
    let status = env.json(&["workflow", "execution", &execution]);
    assert_eq!(status["status"], "completed");
    assert_eq!(status["workflowVersion"], 1);
    assert_eq!(
        find_step(&status["steps"], "after").expect("v1's step")["output"]["after"],
        "from v1"
    );
    assert!(find_step(&status["steps"], "later").is_none(), "{status}");

    let (_, next) = env.execute_wait(&workflow, &[]);
    assert_eq!(next["workflowVersion"], 2);
    assert_eq!(
        find_step(&next["steps"], "later").expect("v2's step")["output"]["later"],
        "from v2"
    );
}

#[test]
fn an_invalid_update_stores_nothing() {
    let env = TestEnv::new();
    echo_agent(&env);
    let workflow = env.create(&document("ship"));
    let bad = env.file(
        "bad.json",
        r#"{"name": "release", "steps": [{"id": "a", "agent": "say"}]}"#,
    );
    let run = env.run(&[
        "workflow",
        "update",
        &workflow,
        bad.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("steps[0]"), "{}", run.stderr);
    assert_eq!(env.json(&["workflow", "show", &workflow])["version"], 1);
    let run = env.run(&["workflow", "run", bad.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        env.json(&["workflow", "list"]).as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(env.json(&["workflow", "executions"]), json!([]));
    let missing = env.run(&[
        "workflow",
        "update",
        "wf_nope",
        bad.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        missing.code, 2,
        "the document is checked first: {}",
        missing.stderr
    );
    let good = env.file("good.json", &document("ship").to_string());
    let missing = env.run(&[
        "workflow",
        "update",
        "wf_nope",
        good.to_str().expect("utf-8"),
    ]);
    assert_eq!(missing.code, 4, "{}", missing.stderr);
}

#[test]
fn delete_waits_for_executions_to_end_and_keeps_history_without_force() {
    let env = TestEnv::new();
    let gate = env.gated_agent("gated", "echo open");
    let workflow = env
        .create(&json!({"name": "busy", "steps": [{"id": "wait", "agent": "gated", "task": "t"}]}));
    let (mut waiting, execution, _) = execute_until(&env, &workflow, &["started   wait"]);

    let refused = env.run(&["workflow", "delete", &workflow]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("1 execution not ended yet"),
        "{}",
        refused.stderr
    );
    std::fs::write(&gate, "").expect("open the gate");
    assert!(waiting.wait().expect("wait").success());

    let refused = env.run(&["workflow", "delete", &workflow]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("1 past execution") && refused.stderr.contains("--force"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        env.json(&["workflow", "execution", &execution])["status"],
        "completed"
    );

    let deleted = env.json(&["workflow", "delete", &workflow, "--force"]);
    assert_eq!(deleted["executionsDeleted"], json!([execution]));
    assert_eq!(env.run(&["workflow", "show", &workflow]).code, 4);
    assert_eq!(env.run(&["workflow", "execution", &execution]).code, 4);
    assert!(!env.path(&format!("data/workspaces/{execution}")).exists());

    let unused = env
        .create(&json!({"name": "unused", "steps": [{"id": "a", "agent": "gated", "task": "t"}]}));
    assert!(
        env.run(&["workflow", "delete", &unused])
            .ok()
            .contains("Deleted workflow")
    );
    assert_eq!(env.json(&["workflow", "list", "--all"]), json!([]));
    assert_eq!(env.run(&["workflow", "delete", &unused]).code, 4);
}

#[test]
fn an_archived_workflow_is_hidden_and_cannot_run_but_its_executions_stay() {
    let env = TestEnv::new();
    echo_agent(&env);
    let file = env.file("release.json", &document("ship").to_string());
    let (_, first) = run_wait(&env, &file);
    let workflow = first["workflowId"].as_str().expect("id").to_owned();
    let execution = first["executionId"].as_str().expect("id").to_owned();

    assert_eq!(
        env.json(&["workflow", "archive", &workflow])["status"],
        "archived"
    );
    assert_eq!(env.json(&["workflow", "list"]), json!([]));
    for filter in [&["--all"][..], &["--status", "archived"]] {
        let mut args = vec!["workflow", "list"];
        args.extend_from_slice(filter);
        let listed = env.json(&args);
        assert_eq!(listed[0]["workflowId"], workflow.as_str(), "{filter:?}");
    }
    let refused = env.run(&["workflow", "execute", &workflow]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("is archived"), "{}", refused.stderr);
    assert_eq!(
        env.json(&["workflow", "execution", &execution])["status"],
        "completed"
    );

    // `run` does not bring an archived workflow back: it stores the document anew.
    let (again, status) = run_wait(&env, &file);
    assert!(
        stored(&again).starts_with("created wf_"),
        "{}",
        again.stderr
    );
    assert_ne!(status["workflowId"], workflow.as_str());
}

#[test]
fn run_dry_run_stores_nothing() {
    let env = TestEnv::new();
    echo_agent(&env);
    let example = repo_root().join("examples/saas-launch.yaml");
    let run = env.run(&[
        "workflow",
        "run",
        example.to_str().expect("utf-8"),
        "--dry-run",
    ]);
    assert!(run.ok().contains("nothing is stored"), "{}", run.stdout);
    assert!(
        run.stdout.contains("1. market-research runs agent mira"),
        "{}",
        run.stdout
    );
    assert_eq!(env.json(&["workflow", "list", "--all"]), json!([]));
}
