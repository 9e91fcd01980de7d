//! Processes that leave their step's process group or session (`setsid`) still end with the
//! step: at its timeout, at a cancel, and when the agent exits leaving them behind.

use crate::common::{TestEnv, find_step, process_ends};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// An agent that starts two grandchildren in sessions of their own, one keeping the step's
/// stdout and stderr and one on /dev/null, writes their pids into the workspace, then runs
/// `then`. Each would sleep 30 s.
fn escaping_agent(env: &TestEnv, then: &str) {
    let script = env.script(
        "escaper.sh",
        &format!(
            r#"setsid sh -c 'echo $$ > "$DO_WORKSPACE/holder.pid"; exec sleep 30' &
setsid sh -c 'echo $$ > "$DO_WORKSPACE/detached.pid"; exec sleep 30' >/dev/null 2>&1 </dev/null &
while [ ! -s "$DO_WORKSPACE/holder.pid" ] || [ ! -s "$DO_WORKSPACE/detached.pid" ]; do sleep 0.01; done
{then}"#
        ),
    );
    env.run(&[
        "agent",
        "add",
        "escaper",
        "--",
        script.to_str().expect("utf-8"),
    ])
    .ok();
}

/// Starts the workflow without waiting; the execution id.
fn start(env: &TestEnv, workflow: &str) -> String {
    let started = env.json(&["workflow", "execute", workflow]);
    started["executionId"]
        .as_str()
        .expect("executionId")
        .to_owned()
}

/// The pids the agent wrote, once both are there.
fn grandchildren(env: &TestEnv, execution: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let files = ["holder.pid", "detached.pid"]
        .map(|name| env.path(&format!("data/workspaces/{execution}/{name}")));
    loop {
        let pids: Vec<String> = files
            .iter()
            .filter_map(|file| std::fs::read_to_string(file).ok())
            .filter(|pid| pid.ends_with('\n'))
            .collect();
        if pids.len() == files.len() {
            return pids;
        }
        assert!(Instant::now() < deadline, "the agent never started both");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[track_caller]
fn assert_all_end(pids: &[String]) {
    for pid in pids {
        assert!(
            process_ends(pid, Duration::from_secs(10)),
            "the grandchild {} that called setsid survived its step",
            pid.trim()
        );
    }
}

/// The execution's status document once it has ended.
fn ended(env: &TestEnv, execution: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = env.json(&["workflow", "execution", execution]);
        if !["queued", "running"].contains(&status["status"].as_str().expect("status")) {
            return status;
        }
        assert!(Instant::now() < deadline, "still running: {status}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_steps_timeout_ends_descendants_that_left_its_session() {
    let env = TestEnv::new();
    escaping_agent(&env, "sleep 30");
    let workflow = env.create(&json!({"name": "timeout", "steps": [
        {"id": "slow", "agent": "escaper", "task": "t", "timeout": 1}]}));
    let execution = start(&env, &workflow);
    assert_all_end(&grandchildren(&env, &execution));
    let status = ended(&env, &execution);
    let slow = find_step(&status["steps"], "slow").expect("slow");
    assert_eq!(slow["status"], "failed", "{slow}");
    assert!(
        slow["error"]
            .as_str()
            .expect("error")
            .contains("timed out after 1 s"),
        "{slow}"
    );
}

#[test]
fn cancel_ends_descendants_that_left_the_steps_session() {
    let env = TestEnv::new();
    escaping_agent(&env, "sleep 30");
    let workflow = env.create(&json!({"name": "cancel", "steps": [
        {"id": "slow", "agent": "escaper", "task": "t"}]}));
    let execution = start(&env, &workflow);
    let pids = grandchildren(&env, &execution);
    env.run(&["workflow", "cancel", &execution]).ok();
    assert_all_end(&pids);
    assert_eq!(ended(&env, &execution)["status"], "cancelled");
}

#[test]
fn an_agent_that_exits_leaving_descendants_in_other_sessions_ends_them() {
    let env = TestEnv::new();
    escaping_agent(&env, "echo done");
    let workflow = env.create(&json!({"name": "left", "steps": [
        {"id": "quick", "agent": "escaper", "task": "t"}]}));
    let execution = start(&env, &workflow);
    assert_all_end(&grandchildren(&env, &execution));
    let status = ended(&env, &execution);
    assert_eq!(status["status"], "completed", "{status}");
    assert_eq!(
        find_step(&status["steps"], "quick").expect("quick")["output"]["quick"],
        "done"
    );
}
