//! `--watch` (progress bars on a terminal, event lines in a pipe, JSON lines), the agents'
//! `::progress N` lines, and `logs --follow`. Agents wait on FIFOs the test writes to, so the
//! test decides when each step goes on; nothing sleeps.

use crate::common::{TestEnv, find_step};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Longest wait for something the test expects; only reached when it never comes.
const PATIENCE: Duration = Duration::from_secs(60);

fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo {}", path.display());
}

/// Lets an agent blocked reading FIFO `gate` go on.
fn open_gate(gate: &Path) {
    let mut fifo = std::fs::OpenOptions::new()
        .write(true)
        .open(gate)
        .expect("open the gate");
    writeln!(fifo, "go").expect("write the gate");
}

/// Registers agent `gated`: it reports 10 %, waits for the first gate, reports 90 %, waits for
/// the second, and prints `done`.
fn gated_agent(env: &TestEnv) -> (PathBuf, PathBuf) {
    let first = env.path("gate1");
    let second = env.path("gate2");
    mkfifo(&first);
    mkfifo(&second);
    let script = env.script(
        "gated.sh",
        r#"echo "::progress 10" >&2
echo "halfway there" >&2
read _ < "$1"
echo "::progress 90" >&2
read _ < "$2"
echo done"#,
    );
    env.run(&[
        "agent",
        "add",
        "gated",
        "--",
        script.to_str().expect("utf-8"),
        first.to_str().expect("utf-8"),
        second.to_str().expect("utf-8"),
    ])
    .ok();
    (first, second)
}

/// Registers agent `quick`, which reports 10 % and 90 % and prints `done`.
fn quick_agent(env: &TestEnv) {
    env.run(&[
        "agent",
        "add",
        "quick",
        "--shell",
        "echo '::progress 10' >&2; echo '::progress 90' >&2; echo done",
    ])
    .ok();
}

/// A command's output as it comes, in chunks, from a reader thread.
pub(crate) fn stream(mut reader: impl Read + Send + 'static) -> Receiver<Vec<u8>> {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buffer = [0; 4096];
        // A pty's master reads EIO once the last process holding its other side is gone.
        while let Ok(n @ 1..) = reader.read(&mut buffer) {
            if sender.send(buffer[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Reads `output` into `seen` until what came after byte `from` contains `wanted`; returns
/// where it ends.
#[track_caller]
pub(crate) fn expect(
    output: &Receiver<Vec<u8>>,
    seen: &mut Vec<u8>,
    from: usize,
    wanted: &str,
) -> usize {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = String::from_utf8_lossy(&seen[from.min(seen.len())..]).into_owned();
        if let Some(at) = text.find(wanted) {
            return from + at + wanted.len();
        }
        match output.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(chunk) => seen.extend(chunk),
            Err(RecvTimeoutError::Timeout) => panic!("no `{wanted}` in:\n{text}"),
            Err(RecvTimeoutError::Disconnected) => panic!("ended without `{wanted}`:\n{text}"),
        }
    }
}

/// Everything left of `output`, until its writer is gone.
pub(crate) fn drain(output: &Receiver<Vec<u8>>, seen: &mut Vec<u8>) {
    while let Ok(chunk) = output.recv_timeout(PATIENCE) {
        seen.extend(chunk);
    }
}

/// Starts `command` with a pseudo-terminal as its stdin, stdout and stderr.
pub(crate) fn spawn_on_pty(mut command: Command) -> (Child, Receiver<Vec<u8>>) {
    let size = nix::pty::Winsize {
        ws_row: 40,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = nix::pty::openpty(&size, None).expect("openpty");
    let child = command
        .env("TERM", "xterm-256color")
        .stdin(pty.slave.try_clone().expect("dup"))
        .stdout(pty.slave.try_clone().expect("dup"))
        .stderr(pty.slave)
        .spawn()
        .expect("spawn on the pty");
    // The command's copies are the only ones left: reading ends when it exits.
    drop(command);
    (child, stream(std::fs::File::from(pty.master)))
}

#[test]
fn watch_on_a_terminal_draws_bars_with_the_steps_progress() {
    let env = TestEnv::new();
    let (first, second) = gated_agent(&env);
    quick_agent(&env);
    let workflow = env.create(&json!({"name": "watched", "steps": [
        {"id": "research", "agent": "gated", "task": "t"},
        {"id": "summary", "agent": "quick", "task": "t"}]}));
    let mut command = env.command();
    command.args(["workflow", "execute", &workflow, "--watch"]);
    let (mut child, output) = spawn_on_pty(command);
    let mut seen = Vec::new();
    let at_10 = expect(&output, &mut seen, 0, " 10%");
    let drawn = String::from_utf8_lossy(&seen).into_owned();
    let bar = drawn
        .split(['\r', '\n'])
        .rfind(|line| line.contains("research ") && line.contains("[===>"))
        .unwrap_or_else(|| panic!("the step has a bar: {drawn}"));
    assert!(
        bar.contains(" ms [===>") || bar.contains(" s [===>"),
        "the bar says how long the step has run: {bar:?}"
    );
    assert!(
        drawn.contains("0/2 steps"),
        "the execution has a bar: {drawn}"
    );
    open_gate(&first);
    let at_90 = expect(&output, &mut seen, at_10, " 90%");
    open_gate(&second);
    expect(&output, &mut seen, at_90, "research  completed");
    expect(&output, &mut seen, at_90, "completed in");
    drain(&output, &mut seen);
    let status = child.wait().expect("wait");
    let text = String::from_utf8_lossy(&seen);
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(text.contains("2/2 steps"), "{text}");
    assert!(
        text.contains("\x1b[32m✓\x1b[0m research"),
        "finished steps are marked in colour: {text}"
    );
}

#[test]
fn watch_honours_no_color() {
    let env = TestEnv::new();
    quick_agent(&env);
    let workflow = env.create(&json!({"name": "plain", "steps": [
        {"id": "only", "agent": "quick", "task": "t"}]}));
    let mut command = env.command();
    command
        .env("NO_COLOR", "1")
        .args(["workflow", "execute", &workflow, "--watch"]);
    let (mut child, output) = spawn_on_pty(command);
    let mut seen = Vec::new();
    drain(&output, &mut seen);
    assert_eq!(child.wait().expect("wait").code(), Some(0));
    let text = String::from_utf8_lossy(&seen);
    assert!(text.contains("✓ only  completed"), "{text}");
    assert!(!text.contains("\x1b[32m"), "no colour: {text}");
}

#[test]
fn watch_in_a_pipe_prints_one_line_per_event() {
    let env = TestEnv::new();
    quick_agent(&env);
    let workflow = env.create(&json!({"name": "piped", "steps": [
        {"id": "research", "agent": "quick", "task": "t"}]}));
    let run = env.run(&["workflow", "execute", &workflow, "--watch"]);
    let lines: Vec<&str> = run.ok().lines().collect();
    let events: Vec<&str> = lines
        .iter()
        .map(|line| {
            let (clock, event) = line.split_once(' ').expect("time, then the event");
            assert!(
                clock.len() == 8 && clock.chars().filter(|&c| c == ':').count() == 2,
                "{line}"
            );
            event
        })
        .collect();
    assert!(events[0].starts_with("execution.queued exec_"), "{lines:?}");
    assert!(
        events[1].starts_with("execution.started exec_"),
        "{lines:?}"
    );
    assert_eq!(
        &events[2..],
        [
            "step.started research (agent quick)",
            "step.progress research 10%",
            "step.progress research 90%",
            "step.completed research",
            "execution.finished completed",
        ],
        "{lines:?}"
    );
    assert!(!run.stdout.contains('\x1b'), "no terminal codes in a pipe");
}

#[test]
fn watch_json_prints_json_lines_and_exits_1_when_the_execution_fails() {
    let env = TestEnv::new();
    quick_agent(&env);
    env.run(&["agent", "add", "broken", "--shell", "echo oops >&2; exit 3"])
        .ok();
    let workflow = env.create(&json!({"name": "json", "steps": [
        {"id": "research", "agent": "quick", "task": "t"}]}));
    let run = env.run(&["--json", "workflow", "execute", &workflow, "--watch"]);
    let events: Vec<Value> = run
        .ok()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let progress: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "step.progress")
        .map(|e| &e["data"]["percentage"])
        .collect();
    assert_eq!(progress, [&json!(10), &json!(90)], "{}", run.stdout);
    assert_eq!(events.last().expect("events")["type"], "execution.finished");
    assert_eq!(
        events.last().expect("events")["data"]["status"],
        "completed"
    );

    let failing = env.create(&json!({"name": "failing", "steps": [
        {"id": "break", "agent": "broken", "task": "t"}]}));
    let run = env.run(&["--json", "workflow", "execute", &failing, "--watch"]);
    assert_eq!(run.code, 1, "as --wait: {}", run.stderr);
    let last: Value =
        serde_json::from_str(run.stdout.lines().last().expect("a line")).expect("JSON line");
    assert_eq!(last["data"]["status"], "failed");
}

/// Follows execution `id` with `execution --watch --json` until a `step.progress` event.
fn wait_for_progress(env: &TestEnv, id: &str) -> Value {
    let mut watch = env
        .command()
        .args(["--json", "workflow", "execution", id, "--watch"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let output = stream(watch.stdout.take().expect("stdout"));
    let mut seen = Vec::new();
    let end = expect(&output, &mut seen, 0, r#""type":"step.progress""#);
    let _ = watch.kill();
    let _ = watch.wait();
    let text = String::from_utf8_lossy(&seen);
    let start = text[..end].rfind('\n').map_or(0, |at| at + 1);
    let line = text[start..].lines().next().expect("the event's line");
    serde_json::from_str(line).expect("JSON line")
}

#[test]
fn a_progress_line_shows_in_the_status_document_and_the_log() {
    let env = TestEnv::new();
    let (first, second) = gated_agent(&env);
    let workflow = env.create(&json!({"name": "progress", "steps": [
        {"id": "research", "agent": "gated", "task": "t"}]}));
    let started = env.json(&["workflow", "execute", &workflow]);
    let id = started["executionId"].as_str().expect("id");
    let event = wait_for_progress(&env, id);
    assert_eq!(event["stepId"], "research");
    assert_eq!(event["data"], json!({"percentage": 10}));

    let status = env.json(&["workflow", "execution", id]);
    let step = find_step(&status["steps"], "research").expect("research");
    assert_eq!(step["status"], "running");
    assert_eq!(step["progress"], 10, "{status}");

    open_gate(&first);
    open_gate(&second);
    let finished = env.json(&["workflow", "execution", id, "--wait"]);
    let step = find_step(&finished["steps"], "research").expect("research");
    assert_eq!(step["progress"], 90, "the last report stays: {finished}");
    let log = env.run(&["workflow", "logs", id, "research"]);
    assert!(
        log.ok().contains("::progress 10\nhalfway there\n"),
        "progress lines stay in the log: {}",
        log.stdout
    );
}

/// Starts `logs ARGS --follow` with its stdout streamed.
fn follow(env: &TestEnv, args: &[&str]) -> (Child, Receiver<Vec<u8>>) {
    let mut child = env
        .command()
        .args(["workflow", "logs"])
        .args(args)
        .arg("--follow")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let output = stream(child.stdout.take().expect("stdout"));
    (child, output)
}

#[test]
fn logs_follow_streams_a_step_until_it_ends() {
    let env = TestEnv::new();
    let (first, second) = gated_agent(&env);
    quick_agent(&env);
    let workflow = env.create(&json!({"name": "follow", "steps": [
        {"id": "research", "agent": "gated", "task": "t"},
        {"id": "summary", "agent": "quick", "task": "t"}]}));
    let started = env.json(&["workflow", "execute", &workflow]);
    let id = started["executionId"].as_str().expect("id");

    let (mut step, step_output) = follow(&env, &[id, "research"]);
    let (mut all, all_output) = follow(&env, &[id]);
    let mut seen = Vec::new();
    let at = expect(&step_output, &mut seen, 0, "halfway there\n");
    open_gate(&first);
    let at = expect(&step_output, &mut seen, at, "::progress 90\n");
    open_gate(&second);
    drain(&step_output, &mut seen);
    assert_eq!(step.wait().expect("wait").code(), Some(0));
    let text = String::from_utf8_lossy(&seen[at..]).into_owned();
    assert!(!text.contains("summary"), "only the step asked for: {text}");

    let mut everything = Vec::new();
    drain(&all_output, &mut everything);
    assert_eq!(
        all.wait().expect("wait").code(),
        Some(0),
        "ends with the execution"
    );
    let text = String::from_utf8_lossy(&everything);
    let research = text
        .find("==> research attempt 1")
        .expect("research header");
    let summary = text.find("==> summary attempt 1").expect("summary header");
    assert!(research < summary, "{text}");
    assert!(text[research..summary].contains("::progress 10\nhalfway there\n::progress 90\n"));
    assert!(text[summary..].contains("::progress 90\n"), "{text}");
}

#[test]
fn retry_watch_follows_the_execution_from_the_retried_step() {
    let env = TestEnv::new();
    let fixed = env.path("fixed");
    let script = env.script(
        "until-fixed.sh",
        r#"test -e "$1" || { echo 'not fixed yet' >&2; exit 1; }; echo '::progress 50' >&2"#,
    );
    env.run(&[
        "agent",
        "add",
        "fragile",
        "--",
        script.to_str().expect("utf-8"),
        fixed.to_str().expect("utf-8"),
    ])
    .ok();
    let workflow = env.create(&json!({"name": "retry", "steps": [
        {"id": "fragile", "agent": "fragile", "task": "t"}],
        "errorHandling": {"escalateOnFailure": true}}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(status["status"], "escalated");
    let id = status["executionId"].as_str().expect("id");
    std::fs::write(&fixed, "").expect("fix");
    let run = env.run(&["workflow", "retry", id, "fragile", "--watch"]);
    let events: Vec<&str> = run
        .ok()
        .lines()
        .map(|line| line.split_once(' ').expect("time, then the event").1)
        .collect();
    assert_eq!(
        events,
        [
            "execution.resumed",
            "step.started fragile (agent fragile)",
            "step.progress fragile 50%",
            "step.completed fragile",
            "execution.finished completed",
        ],
        "the stream starts at the retry: {}",
        run.stdout
    );
}
