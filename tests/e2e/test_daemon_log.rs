//! The daemon's log cannot be written (stderr on a full disk): the daemon keeps working, and
//! counts the lines it dropped.

use crate::common::TestEnv;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

#[test]
fn a_daemon_whose_log_is_on_a_full_disk_keeps_running_workflows_and_counts_dropped_lines() {
    let env = TestEnv::new();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let mut daemon = env
        .command()
        .args(["daemon", "run", "--notify-ready"])
        .stdout(Stdio::piped())
        .stderr(full)
        .spawn()
        .expect("daemon run");
    let mut ready = String::new();
    BufReader::new(daemon.stdout.take().expect("stdout"))
        .read_line(&mut ready)
        .expect("read ready");
    assert_eq!(
        ready.trim(),
        "ready",
        "the daemon starts: {:?}",
        daemon.try_wait()
    );

    env.run(&["agent", "add", "echo", "--shell", "echo hi"])
        .ok();
    let workflow = env.create(&json!({"name": "log", "steps": [
        {"id": "a", "agent": "echo", "task": "t"},
        {"id": "b", "agent": "echo", "task": "t"}]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(status["status"], "completed", "{status}");

    let daemon_status = env.json(&["daemon", "status"]);
    assert_eq!(daemon_status["pid"], daemon.id(), "the same daemon");
    assert!(
        daemon_status["logLinesDropped"].as_u64() > Some(0),
        "{daemon_status}"
    );
    env.run(&["daemon", "stop"]).ok();
    let ended = daemon.wait().expect("the daemon ends");
    assert!(ended.success(), "{ended:?}");
}
