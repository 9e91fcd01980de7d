//! Cancelling: the answer comes once the execution has ended, and says `cancelled`; a cancel
//! sent while another is ending the execution's steps is refused, and the first one's reason
//! stays. Over the socket (the CLI) and over HTTP.

use crate::common::{TestEnv, kill_daemon};
use crate::http_api::Api;
use crate::test_store_faults::eventually;
use serde_json::{Value, json};
use std::process::{Child, Stdio};
use std::time::Duration;

/// `POST /agents/workflows/executions/ID/cancel`: the status code and the envelope.
fn http_cancel(api: &Api, execution: &str, reason: &str) -> (u16, Value) {
    let reply = api.post(
        &format!("/agents/workflows/executions/{execution}/cancel"),
        &json!({ "reason": reason }),
    );
    (reply.status, reply.body)
}

/// Executes the one-step workflow `workflow` and waits until its step runs.
fn execute_running(env: &TestEnv, workflow: &str) -> String {
    let execution = env.json(&["workflow", "execute", workflow])["executionId"]
        .as_str()
        .expect("executionId")
        .to_owned();
    assert!(
        eventually(Duration::from_secs(20), || {
            env.json(&["workflow", "execution", &execution])["status"] == "running"
        }),
        "{execution} starts"
    );
    execution
}

/// Registers agent `stubborn`, which runs `prelude` and then ignores SIGTERM until it is
/// killed, and executes a workflow of one step of it until the step runs.
fn stubborn_running(env: &TestEnv, prelude: &str) -> String {
    let script = format!("{prelude}trap '' TERM; while :; do sleep 0.05; done");
    env.run(&["agent", "add", "stubborn", "--shell", &script])
        .ok();
    let workflow = env.create(&json!({"name": "stubborn", "steps": [
        {"id": "wait", "agent": "stubborn", "task": "t"}]}));
    execute_running(env, &workflow)
}

/// Starts `workflow cancel EXECUTION --reason first`, which waits for the execution to end,
/// and returns it once the daemon has recorded the cancel.
fn cancel_first(env: &TestEnv, execution: &str) -> Child {
    let first = env
        .command()
        .args(["workflow", "cancel", execution, "--reason", "first"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("first cancel");
    assert!(
        eventually(Duration::from_secs(20), || {
            env.json(&["workflow", "execution", execution])["cancelReason"] == "first"
        }),
        "the first cancel is recorded"
    );
    first
}

#[test]
fn a_cancel_answers_once_the_execution_is_cancelled_over_the_socket_and_http() {
    let env = TestEnv::new();
    let api = Api::start(&env);
    env.run(&["agent", "add", "slow", "--", "/bin/sleep", "30"])
        .ok();
    let workflow = env.create(&json!({"name": "slow", "steps": [
        {"id": "wait", "agent": "slow", "task": "t"}]}));

    let execution = execute_running(&env, &workflow);
    let cancelled = env.run(&["workflow", "cancel", &execution, "--reason", "changed"]);
    assert_eq!(
        cancelled.ok().trim(),
        format!("Cancelled {execution} (now cancelled).")
    );

    let execution = execute_running(&env, &workflow);
    let (status, envelope) = http_cancel(&api, &execution, "changed");
    assert_eq!(status, 200, "{envelope}");
    assert_eq!(envelope["data"]["status"], "cancelled", "{envelope}");
    assert_eq!(envelope["data"]["cancelReason"], "changed", "{envelope}");
}

#[test]
fn a_second_cancel_while_the_first_ends_the_steps_is_refused_and_the_first_reason_stays() {
    let env = TestEnv::new();
    // The agent ignores SIGTERM: its step ends only at the SIGKILL, 2 s after the cancel.
    env.write_config("[daemon]\nkill_grace = 2\n");
    let api = Api::start(&env);
    let execution = stubborn_running(&env, "");
    let first = cancel_first(&env, &execution);

    let second = env.run(&["workflow", "cancel", &execution, "--reason", "second"]);
    assert_eq!(second.code, 2, "{}", second.stderr);
    assert!(
        second.stderr.contains("already being cancelled (first)"),
        "{}",
        second.stderr
    );
    let (status, envelope) = http_cancel(&api, &execution, "third");
    assert_eq!(status, 409, "{envelope}");
    assert!(
        envelope["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("already being cancelled (first)")),
        "{envelope}"
    );

    let first = first.wait_with_output().expect("first cancel ends");
    assert!(first.status.success(), "{first:?}");
    assert_eq!(
        String::from_utf8_lossy(&first.stdout).trim(),
        format!("Cancelled {execution} (now cancelled).")
    );
    let done = env.json(&["workflow", "execution", &execution]);
    assert_eq!(done["status"], "cancelled", "{done}");
    assert_eq!(done["cancelReason"], "first", "{done}");
    assert_eq!(done["error"], "first", "{done}");
}

#[test]
fn a_cancel_under_way_when_the_daemon_dies_is_finished_by_the_next_daemon() {
    let env = TestEnv::new();
    // The step would take 30 s to end: the daemon dies long before.
    env.write_config("[daemon]\nkill_grace = 30\n");
    let ledger = env.path("ledger");
    let execution = stubborn_running(&env, &format!("echo run >> '{}'; ", ledger.display()));
    let first = cancel_first(&env, &execution);
    kill_daemon(&env);
    let lost = first.wait_with_output().expect("the cancel ends");
    assert!(!lost.status.success(), "its daemon died: {lost:?}");

    env.run(&["daemon", "start"]).ok();
    assert!(
        eventually(Duration::from_secs(20), || {
            env.json(&["workflow", "execution", &execution])["status"] == "cancelled"
        }),
        "the next daemon finishes the cancel: {}",
        env.json(&["workflow", "execution", &execution])
    );
    let done = env.json(&["workflow", "execution", &execution]);
    assert_eq!(done["cancelReason"], "first", "{done}");
    assert_eq!(
        std::fs::read_to_string(&ledger)
            .expect("ledger")
            .lines()
            .count(),
        1,
        "the cancelled step did not run again"
    );
}
