//! What a person sees of a failing or long-running execution: the agent's last lines under a
//! failure in every view, logs followed as they are written, retries, skipped branches,
//! escalations with the command that continues them, the live view, and durations.

use crate::common::{TestEnv, find_step};
use crate::test_watch::{drain, expect, spawn_on_pty, stream};
use serde_json::{Value, json};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Waits up to `limit` for `child` to exit; its exit status, or a panic naming `what`.
fn exits_within(child: &mut Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} still runs {limit:?} after it should have ended");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls the status document of `execution` until `ready` says yes (at most a minute).
fn status_until(env: &TestEnv, execution: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = env.json(&["workflow", "execution", execution]);
        if ready(&status) {
            return status;
        }
        assert!(Instant::now() < deadline, "never ready: {status}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Registers agent `broken`, which writes two lines to stderr and exits 3, and creates a
/// workflow of one step `three` of it.
fn failing_workflow(env: &TestEnv) -> String {
    env.run(&[
        "agent",
        "add",
        "broken",
        "--shell",
        "echo checking >&2; echo 'boom: disk full' >&2; exit 3",
    ])
    .ok();
    env.create(&json!({"name": "fails", "steps": [
        {"id": "three", "agent": "broken", "task": "t"}]}))
}

/// Runs `do ARGS` on a terminal until it exits; its exit status and all it wrote.
fn on_pty_to_the_end(env: &TestEnv, args: &[&str]) -> (std::process::ExitStatus, String) {
    let mut command = env.command();
    command.args(args);
    let (mut child, output) = spawn_on_pty(command);
    let mut seen = Vec::new();
    drain(&output, &mut seen);
    let status = child.wait().expect("wait");
    (status, String::from_utf8_lossy(&seen).into_owned())
}

#[test]
fn a_failed_steps_last_stderr_lines_show_in_wait_and_watch() {
    let env = TestEnv::new();
    let workflow = failing_workflow(&env);
    let waited = env.run(&["workflow", "execute", &workflow, "--wait"]);
    assert_eq!(waited.code, 1);
    assert!(
        waited.stderr.contains(
            "  failed    three: agent `broken` exited with status 3; last lines of its stderr:\n              checking\n              boom: disk full\n"
        ),
        "{}",
        waited.stderr
    );
    let watched = env.run(&["workflow", "execute", &workflow, "--watch"]);
    assert_eq!(watched.code, 1);
    assert!(
        watched.stdout.contains(
            "step.failed three: agent `broken` exited with status 3; last lines of its stderr:\n    checking\n    boom: disk full\n"
        ),
        "{}",
        watched.stdout
    );
}

#[test]
fn logs_follow_gets_each_line_as_written_and_ends_with_the_execution() {
    let env = TestEnv::new();
    // Agents that write for a while, as real ones do: a follower must keep up with them.
    env.run(&[
        "agent",
        "add",
        "chatty",
        "--shell",
        "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do echo \"$DO_STEP_ID line $i\" >&2; sleep 0.1; done",
    ])
    .ok();
    let gate = env.gated_agent("gated", "echo 'after the gate' >&2");
    let script = format!(
        "echo 'before the gate' >&2; while [ ! -e '{}' ]; do sleep 0.02; done; echo 'after the gate' >&2",
        gate.display()
    );
    env.run(&["agent", "add", "gated", "--replace", "--shell", &script])
        .ok();
    let workflow = env.create(&json!({"name": "follow", "steps": [
        {"id": "one", "agent": "chatty", "task": "t"},
        {"id": "two", "agent": "chatty", "task": "t"},
        {"id": "three", "agent": "gated", "task": "t"}]}));
    let started = env.json(&["workflow", "execute", &workflow]);
    let id = started["executionId"].as_str().expect("id");
    let mut follow = env
        .command()
        .args(["workflow", "logs", id, "--follow"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let output = stream(follow.stdout.take().expect("stdout"));
    let mut seen = Vec::new();
    let at = expect(&output, &mut seen, 0, "before the gate\n");
    std::fs::write(&gate, "").expect("open the gate");
    expect(&output, &mut seen, at, "after the gate\n");
    let status = env
        .run(&["--json", "workflow", "execution", id, "--wait"])
        .json();
    assert_eq!(status["status"], "completed");
    let exit = exits_within(
        &mut follow,
        Duration::from_secs(3),
        "logs --follow of an execution that ended",
    );
    assert!(exit.success());
    drain(&output, &mut seen);
    let text = String::from_utf8_lossy(&seen);
    for step in ["one", "two"] {
        assert!(
            text.contains(
                &(1..=15)
                    .map(|i| format!("{step} line {i}\n"))
                    .collect::<String>()
            ),
            "{text}"
        );
    }
}

/// Registers agent `check`, which succeeds while file `ok` exists and fails (exit 3, with two
/// lines on stderr) otherwise; returns the file.
fn check_agent(env: &TestEnv) -> std::path::PathBuf {
    let ok = env.path("ok");
    let script = format!(
        "[ -e '{}' ] || {{ echo 'tests failed' >&2; echo '2 of 9 red' >&2; exit 3; }}; echo passed",
        ok.display()
    );
    env.run(&["agent", "add", "check", "--shell", &script]).ok();
    ok
}

#[test]
fn an_escalated_execution_names_the_failed_step_and_how_to_continue() {
    let env = TestEnv::new();
    let ok = check_agent(&env);
    let workflow = env.create(&json!({"name": "gate",
        "errorHandling": {"escalateOnFailure": true},
        "steps": [
            {"id": "testing", "type": "loop", "items": "input.suites",
             "step": {"id": "suite", "agent": "check", "task": "run {{ item }}"}},
            {"id": "deploy", "agent": "check", "task": "t"}]}));
    let input = r#"{"suites":["unit"]}"#;
    // A first run that completes gives every step a duration to foretell from.
    std::fs::write(&ok, "").expect("ok");
    let (run, _) = env.execute_wait(&workflow, &["--input", input]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::remove_file(&ok).expect("not ok");
    let (run, status) = env.execute_wait(&workflow, &["--input", input]);
    assert_eq!(run.code, 1);
    assert_eq!(status["status"], "escalated");
    assert_eq!(status["currentStep"], "testing", "{status}");
    assert!(status.get("estimatedCompletion").is_none(), "{status}");
    let id = status["executionId"].as_str().expect("id");

    let shown = env.run(&["workflow", "execution", id]);
    let text = shown.ok();
    assert!(text.contains("current step testing"), "{text}");
    assert!(!text.contains("expected to end"), "{text}");
    let loop_row = text
        .lines()
        .find(|l| l.trim_start().starts_with("testing "))
        .expect("the loop's row");
    assert!(loop_row.contains("escalated"), "{loop_row}");
    assert!(
        text.contains(&format!("workflow retry {id} suite[0]`")),
        "{text}"
    );
    assert!(text.contains(&format!("workflow cancel {id}`")), "{text}");
    assert!(text.contains("    2 of 9 red"), "{text}");
}

#[test]
fn a_step_waiting_for_its_retry_shows_as_retrying_with_its_number_and_time() {
    let env = TestEnv::new();
    check_agent(&env);
    let workflow = env.create(&json!({"name": "flaky", "steps": [
        {"id": "flaky", "agent": "check", "task": "t",
         "errorHandling": {"strategy": "retry", "maxRetries": 3, "backoff": "fixed", "initialDelay": 300}}]}));
    let started = env.json(&["workflow", "execute", &workflow]);
    let id = started["executionId"].as_str().expect("id");
    let status = status_until(&env, id, |s| {
        find_step(&s["steps"], "flaky").is_some_and(|f| f["status"] == "retrying")
    });
    let step = find_step(&status["steps"], "flaky").expect("flaky");
    assert_eq!(step["maxRetries"], 3, "{step}");
    assert!(step["retryAt"].is_string(), "{step}");
    let table = env.run(&["workflow", "execution", id]);
    let text = table.ok();
    assert!(
        text.contains("retry 1/3 in 4 min 5") || text.contains("retry 1/3 in 5 min"),
        "{text}"
    );

    let mut watch = env
        .command()
        .args(["workflow", "execution", id, "--watch"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let output = stream(watch.stdout.take().expect("stdout"));
    let mut seen = Vec::new();
    expect(
        &output,
        &mut seen,
        0,
        "step.retrying flaky (retry 1/3 in 5 min): agent `check` exited with status 3",
    );
    let _ = watch.kill();
    let _ = watch.wait();
    env.run(&["workflow", "cancel", id]).ok();
}

#[test]
fn a_branch_not_taken_is_announced_as_skipped() {
    let env = TestEnv::new();
    env.run(&[
        "agent",
        "add",
        "quick",
        "--shell",
        "echo '{\"passed\": true}'",
    ])
    .ok();
    let workflow = env.create(&json!({"name": "branch", "steps": [
        {"id": "testing", "agent": "quick", "task": "t", "output": "results"},
        {"id": "decide", "type": "conditional", "condition": "results.passed === true",
         "then": {"id": "deploy", "agent": "quick", "task": "t"},
         "else": {"id": "fix", "agent": "quick", "task": "t"}}]}));
    let run = env.run(&["workflow", "execute", &workflow, "--watch"]);
    let lines = run.ok();
    assert!(lines.contains(" step.skipped fix\n"), "{lines}");
    assert!(!lines.contains("step.cancelled"), "{lines}");
    let json = env.run(&["--json", "workflow", "execute", &workflow, "--watch"]);
    assert!(
        json.ok().contains(r#""type":"step.skipped""#),
        "{}",
        json.stdout
    );
}

#[test]
fn the_live_view_moves_with_each_step_aligns_names_and_says_paused() {
    let env = TestEnv::new();
    env.run(&["agent", "add", "quick", "--shell", "echo done"])
        .ok();
    let gate = env.gated_agent("slow", "echo done");
    let workflow = env.create(&json!({"name": "live", "steps": [
        {"id": "both", "type": "parallel", "steps": [
            {"id": "fast", "agent": "quick", "task": "t"},
            {"id": "gatekeeper", "agent": "slow", "task": "t"}]}]}));
    let started = env.json(&["workflow", "execute", &workflow]);
    let id = started["executionId"].as_str().expect("id");
    let mut command = env.command();
    command.args(["workflow", "execution", id, "--watch"]);
    let (mut child, output) = spawn_on_pty(command);
    let mut seen = Vec::new();
    let at = expect(&output, &mut seen, 0, "fast        completed");
    let at = expect(&output, &mut seen, at, "1/3 steps");
    env.run(&["workflow", "pause", id]).ok();
    let at = expect(&output, &mut seen, at, "1/3 steps · paused");
    let bar_line = String::from_utf8_lossy(&seen[..at]);
    let bar_line = bar_line.rsplit(['\r', '\n']).next().unwrap_or_default();
    assert!(
        bar_line.contains(&format!("‖ {id} live")),
        "a paused execution's spinner stops: {bar_line:?}"
    );
    env.run(&["workflow", "resume", id]).ok();
    std::fs::write(&gate, "").expect("open the gate");
    drain(&output, &mut seen);
    let status = child.wait().expect("wait");
    let text = String::from_utf8_lossy(&seen);
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(text.contains("gatekeeper  completed"), "{text}");
    assert!(text.contains("completed in"), "{text}");
    assert!(text.contains("3/3 steps"), "{text}");
}

#[test]
fn durations_read_the_same_everywhere_in_the_cli() {
    let env = TestEnv::new();
    env.run(&["agent", "add", "nap", "--shell", "sleep 1.2"])
        .ok();
    let workflow = env.create(&json!({"name": "nap", "steps": [
        {"id": "nap", "agent": "nap", "task": "t"}]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 0);
    assert!(
        status["duration"]
            .as_str()
            .is_some_and(|d| d.ends_with(" seconds")),
        "the status document keeps the API's form: {status}"
    );
    let id = status["executionId"].as_str().expect("id");
    let shown = env.run(&["workflow", "execution", id]);
    let text = shown.ok();
    assert!(!text.contains("second"), "{text}");
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("nap "))
        .expect("the step's row");
    let words: Vec<&str> = row.split_whitespace().collect();
    assert!(
        words
            .windows(2)
            .any(|w| w[0].starts_with("1.") && w[0].len() == 3 && w[1] == "s"),
        "seconds with one decimal: {row}"
    );
    assert!(text.contains("took 1."), "{text}");
    let list = env.run(&["workflow", "executions"]);
    assert!(!list.ok().contains("second"), "{}", list.stdout);
}

#[test]
fn the_live_view_shows_a_failed_steps_last_stderr_lines_under_it() {
    let env = TestEnv::new();
    let workflow = failing_workflow(&env);
    let (status, text) = on_pty_to_the_end(&env, &["workflow", "execute", &workflow, "--watch"]);
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(text.contains("three  failed"), "the step's line: {text}");
    // The bars' terminal library pads each line to the terminal's width: the lines follow,
    // each indented under the step's name.
    let after = &text[text.find("last lines of its stderr:").expect("the excerpt")..];
    let checking = after.find("checking").expect("the first line");
    let boom = after.find("boom: disk full").expect("the second line");
    assert!(checking < boom, "{after:?}");
    assert!(
        after[..boom].contains(&format!("{}checking", " ".repeat(9))),
        "indented: {after:?}"
    );
}

#[test]
fn the_live_view_of_a_retry_counts_the_steps_done_before_it() {
    let env = TestEnv::new();
    let ok = check_agent(&env);
    env.run(&["agent", "add", "quick", "--shell", "echo done"])
        .ok();
    let workflow = env.create(&json!({"name": "again",
        "errorHandling": {"escalateOnFailure": true},
        "steps": [
            {"id": "build", "agent": "quick", "task": "t"},
            {"id": "testing", "agent": "check", "task": "t"}]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(status["status"], "escalated");
    let id = status["executionId"].as_str().expect("id");
    std::fs::write(&ok, "").expect("fixed");
    let (exit, text) = on_pty_to_the_end(&env, &["workflow", "retry", id, "testing", "--watch"]);
    assert_eq!(exit.code(), Some(0), "{text}");
    assert!(text.contains("completed in"), "{text}");
    assert!(text.contains("· 2/2 steps"), "{text}");
}
