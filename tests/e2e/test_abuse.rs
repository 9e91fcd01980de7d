//! Clients and agents that misbehave: garbage and huge lines on the socket, half requests,
//! thousands of connections, agents flooding stdout and stderr. The daemon keeps answering
//! others, never exits, and its memory stays bounded.

use crate::common::TestEnv;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;

/// A raw connection to the daemon's socket.
struct Raw {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Raw {
    fn connect(env: &TestEnv) -> Raw {
        let stream = UnixStream::connect(env.socket()).expect("connect");
        Raw {
            writer: stream.try_clone().expect("clone"),
            reader: BufReader::new(stream),
        }
    }

    fn hello(env: &TestEnv) -> Raw {
        let mut raw = Raw::connect(env);
        let answer = raw.ask(&hello(do_proto::PROTOCOL_VERSION));
        assert_eq!(answer["success"], true, "{answer}");
        raw
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write");
    }

    fn receive(&mut self) -> Option<Value> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(serde_json::from_str(&line).expect("an envelope")),
        }
    }

    fn ask(&mut self, line: &str) -> Value {
        self.send(format!("{line}\n").as_bytes());
        self.receive().expect("an answer")
    }
}

fn hello(version: u32) -> String {
    json!({"id": "h", "method": "hello", "params": {"protocolVersion": version, "clientVersion": "test"}})
        .to_string()
}

fn status_request() -> String {
    json!({"id": "s", "method": "daemon.status", "params": {}}).to_string()
}

fn daemon_pid(env: &TestEnv) -> u32 {
    let status = env.json(&["daemon", "status"]);
    u32::try_from(status["pid"].as_u64().expect("pid")).expect("pid fits")
}

/// The daemon's peak resident memory, in bytes (`VmHWM` of /proc/PID/status).
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kib * 1024
}

const MEMORY_BOUND: u64 = 100 * 1024 * 1024;

/// The daemon's log has no panic in it (its stderr goes there).
#[track_caller]
fn assert_no_panic(env: &TestEnv) {
    let log = std::fs::read_to_string(env.path("data/daemon.log")).expect("daemon log");
    assert!(!log.contains("panicked"), "{log}");
}

fn error_message(answer: &Value) -> String {
    assert_eq!(answer["success"], false, "{answer}");
    answer["error"]["message"]
        .as_str()
        .expect("error message")
        .to_owned()
}

#[test]
fn garbage_half_lines_and_unknown_versions_are_answered_and_the_daemon_stays() {
    let env = TestEnv::new();
    env.run(&["agent", "list"]).ok();
    let pid = daemon_pid(&env);

    let mut raw = Raw::connect(&env);
    let answer = raw.ask(&hello(999));
    let message = error_message(&answer);
    assert_eq!(answer["error"]["code"], "protocol_mismatch", "{answer}");
    assert!(
        message.contains(&format!(
            "protocol version {}, the client 999",
            do_proto::PROTOCOL_VERSION
        )),
        "{message}"
    );
    assert!(
        error_message(&raw.ask(&status_request())).contains("must be `hello`"),
        "nothing is served after a refused hello"
    );

    let mut raw = Raw::hello(&env);
    for garbage in [
        "garbage",
        "{\"id\": 1, \"method\":",
        "[1, 2, 3]",
        "{}",
        "\"hello\"",
    ] {
        let message = error_message(&raw.ask(garbage));
        assert!(message.contains("request"), "{garbage}: {message}");
    }
    raw.send(b"\xff\xfe not utf-8\n");
    assert!(error_message(&raw.receive().expect("answer")).contains("UTF-8"));
    let method = raw.ask(&json!({"id": 2, "method": "workflows.explode"}).to_string());
    assert!(
        error_message(&method).contains("workflows.explode"),
        "{method}"
    );
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_request =
        json!({"id": 3, "method": "workflows.validate", "params": {"document": "X"}})
            .to_string()
            .replace("\"X\"", &deep);
    assert!(error_message(&raw.ask(&deep_request)).contains("more than 128 deep"));
    assert_eq!(
        raw.ask(&status_request())["success"],
        true,
        "the connection still works"
    );

    // A half line and then nothing: the daemon answers others meanwhile.
    let mut half = Raw::hello(&env);
    half.send(b"{\"id\": \"x\", \"method\": \"daemon.st");
    env.run(&["daemon", "status"]).ok();
    drop(half);
    // A whole request, then gone before the answer.
    let mut gone = Raw::hello(&env);
    gone.send(
        format!(
            "{}\n",
            json!({"id": 1, "method": "workflows.list", "params": {}})
        )
        .as_bytes(),
    );
    drop(gone);
    // A half line, then end of input: refused as unterminated.
    let mut unterminated = Raw::hello(&env);
    unterminated.send(b"{\"id\": 1");
    unterminated
        .writer
        .shutdown(std::net::Shutdown::Write)
        .expect("shutdown");
    assert!(error_message(&unterminated.receive().expect("answer")).contains("not terminated"));
    assert!(
        unterminated.receive().is_none(),
        "then the connection is closed"
    );

    assert_eq!(daemon_pid(&env), pid, "the same daemon answers");
    assert_no_panic(&env);
}

#[test]
fn a_huge_request_line_is_refused_without_being_buffered() {
    let env = TestEnv::new();
    env.run(&["agent", "list"]).ok();
    let pid = daemon_pid(&env);
    let mut raw = Raw::hello(&env);
    let mut writer = raw.writer.try_clone().expect("clone");
    // 100 MB with no newline; the daemon stops reading after its limit, so the writes fail.
    let flood = std::thread::spawn(move || {
        let chunk = vec![b'x'; 1024 * 1024];
        let mut sent = 0;
        while sent < 100 && writer.write_all(&chunk).is_ok() {
            sent += 1;
        }
        sent
    });
    let answer = raw.receive().expect("an answer");
    let message = error_message(&answer);
    assert!(
        message.contains("longer than 16 MiB") && message.contains("limits.request_bytes"),
        "{message}"
    );
    assert!(raw.receive().is_none(), "the connection is closed");
    let sent = flood.join().expect("flood thread");
    assert!(sent < 100, "the daemon read all 100 MB");
    env.run(&["daemon", "status"]).ok();
    assert_eq!(daemon_pid(&env), pid);
    let peak = peak_rss(pid);
    assert!(peak < MEMORY_BOUND, "the daemon peaked at {peak} bytes");
    assert_no_panic(&env);
}

/// The daemon's resident memory now, in bytes (`VmRSS` of /proc/PID/status).
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib * 1024
}

#[test]
fn many_unfinished_request_lines_are_bounded_in_total() {
    const MIB: usize = 1024 * 1024;
    let env = TestEnv::new();
    env.write_config(
        "[limits]\ndocument_bytes = 1048576\ninput_bytes = 1048576\nrequest_bytes = 4194304\n\
         pending_request_bytes = 8388608\n",
    );
    env.run(&["agent", "list"]).ok();
    let pid = daemon_pid(&env);
    let before = rss(pid);
    // 40 lines of 3 MiB, each under the 4 MiB line limit and never ended: 120 MiB held
    // without a total. Past the 8 MiB total a connection is refused, so its writes fail.
    let line = vec![b'x'; 3 * MIB];
    let mut connections: Vec<Raw> = (0..40).map(|_| Raw::connect(&env)).collect();
    let mut refused = 0;
    for raw in &mut connections {
        if raw.writer.write_all(&line).is_err() {
            refused += 1;
        }
    }
    let big = json!({"id": "b", "method": "hello", "params": {"protocolVersion": do_proto::PROTOCOL_VERSION,
        "clientVersion": "x".repeat(100_000)}});
    // Another client is served meanwhile.
    env.run(&["daemon", "status"]).ok();
    let grown = rss(pid).saturating_sub(before);
    println!(
        "RSS grew by {} KiB; {refused} of 40 connections refused",
        grown / 1024
    );
    assert!(
        grown < 40 * MIB as u64,
        "40 unfinished 3 MiB lines grew the daemon by {} MiB",
        grown / MIB as u64
    );
    assert!(refused > 0, "no connection was refused");
    let last = connections.last_mut().expect("a connection");
    let message = error_message(&last.receive().expect("an answer"));
    assert!(
        message.contains("limits.pending_request_bytes"),
        "{message}"
    );
    drop(connections);
    // Once they are gone, the budget is back: a request larger than a line's free share is
    // read again.
    let mut raw = Raw::connect(&env);
    assert_eq!(raw.ask(&big.to_string())["success"], true);
    assert_eq!(daemon_pid(&env), pid);
    assert_no_panic(&env);
}

#[test]
fn two_thousand_connections_at_once_are_all_served() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
    let wanted = 4_500.min(hard);
    if soft < wanted {
        setrlimit(Resource::RLIMIT_NOFILE, wanted, hard).expect("setrlimit");
    }
    let env = TestEnv::new();
    env.run(&["agent", "list"]).ok();
    let pid = daemon_pid(&env);
    let count = if wanted >= 4_500 {
        2_000
    } else {
        (wanted as usize - 100) / 2
    };
    println!("{count} connections (RLIMIT_NOFILE hard limit {hard})");
    let mut connections: Vec<Raw> = (0..count).map(|_| Raw::connect(&env)).collect();
    for raw in &mut connections {
        raw.send(format!("{}\n", hello(do_proto::PROTOCOL_VERSION)).as_bytes());
    }
    // Another client is served while they all wait.
    env.run(&["daemon", "status"]).ok();
    for raw in &mut connections {
        assert_eq!(raw.receive().expect("hello answer")["success"], true);
        raw.send(format!("{}\n", status_request()).as_bytes());
    }
    for raw in &mut connections {
        let answer = raw.receive().expect("status answer");
        assert_eq!(answer["data"]["pid"], pid, "{answer}");
    }
    drop(connections);
    env.run(&["daemon", "status"]).ok();
    assert_eq!(daemon_pid(&env), pid);
    assert_no_panic(&env);
}

#[test]
fn agents_flooding_stdout_and_stderr_are_capped_and_memory_stays_bounded() {
    let env = TestEnv::new();
    env.write_config("[limits]\nlog_bytes = 1048576\n");
    env.run(&[
        "agent",
        "add",
        "stdout-flood",
        "--shell",
        "head -c 1073741824 /dev/zero",
    ])
    .ok();
    env.run(&[
        "agent",
        "add",
        "stderr-flood",
        "--shell",
        "yes \"$(printf 'a line of log %0990d' 0)\" | head -c 1073741824 >&2; echo finished",
    ])
    .ok();
    let pid = daemon_pid(&env);
    let workflow = env.create(&json!({"name": "floods", "steps": [
        {"id": "err", "agent": "stderr-flood", "task": "t"},
        {"id": "out", "agent": "stdout-flood", "task": "t"}
    ]}));
    let (_, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(status["status"], "failed");
    let steps = status["steps"].as_array().expect("steps");
    assert_eq!(steps[0]["status"], "completed", "{}", steps[0]);
    assert_eq!(steps[0]["output"]["err"], "finished");
    assert_eq!(steps[1]["status"], "failed");
    let error = steps[1]["error"].as_str().expect("error");
    assert!(
        error.contains("larger than 16 MiB") && error.contains("limits.output_bytes"),
        "{error}"
    );
    let exec = status["executionId"].as_str().expect("id");
    let log =
        std::fs::read_to_string(env.path(&format!("data/runs/{exec}/err.1.log"))).expect("the log");
    assert!(
        log.len() <= 1024 * 1024 + 200,
        "the log has {} bytes",
        log.len()
    );
    assert!(
        log.ends_with("[do: log truncated at 1 MiB; limit: limits.log_bytes in config.toml]\n"),
        "{}",
        &log[log.len().saturating_sub(200)..]
    );
    assert!(log.starts_with("a line of log 000"));
    let peak = peak_rss(pid);
    assert!(peak < MEMORY_BOUND, "the daemon peaked at {peak} bytes");
    println!(
        "daemon peak RSS after 2 GB of agent output: {} MiB",
        peak / (1024 * 1024)
    );
}

#[test]
fn output_over_the_limit_is_cut_when_configured_to_truncate() {
    let env = TestEnv::new();
    env.write_config("[limits]\noutput_bytes = 1024\noutput_overflow = \"truncate\"\n");
    env.run(&[
        "agent",
        "add",
        "chatty",
        "--shell",
        "yes 0123456789 | head -c 5000000",
    ])
    .ok();
    let workflow = env.create(&json!({"name": "cut", "steps": [
        {"id": "long", "agent": "chatty", "task": "t"}
    ]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let output = status["steps"][0]["output"]["long"]
        .as_str()
        .expect("text output");
    assert_eq!(output.len(), 1024);
    assert!(output.starts_with("0123456789\n0123456789"), "{output}");

    env.write_config("[limits]\noutput_overflow = \"drop\"\n");
    env.run(&["daemon", "stop"]).ok();
    let refused = env.run(&["daemon", "start"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("output_overflow"),
        "{}",
        refused.stderr
    );
}

#[test]
fn document_and_input_limits_come_from_the_config_file_and_name_their_keys() {
    let env = TestEnv::new();
    env.write_config("[limits]\ndocument_bytes = 2000\ninput_bytes = 1000\nrequest_bytes = 4096\n");
    env.run(&["agent", "add", "echo", "--shell", "cat"]).ok();
    let small =
        env.create(&json!({"name": "w", "steps": [{"id": "a", "agent": "echo", "task": "t"}]}));
    let big = json!({"name": "w", "description": "d".repeat(2500), "steps": [
        {"id": "a", "agent": "echo", "task": "t"}
    ]});
    let file = env.file("big.json", &big.to_string());
    let run = env.run(&["workflow", "create", file.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("limits.document_bytes"),
        "{}",
        run.stderr
    );

    // Past the client, the daemon holds the same limit: YAML under 2000 bytes that is more
    // than 2000 bytes as JSON (each blank line of the block is `\n` there).
    let yaml = env.file(
        "blank-lines.yaml",
        &format!(
            "name: w\ndescription: |\n  a\n{}  b\nsteps:\n  - {{id: a, agent: echo, task: t}}\n",
            "\n".repeat(1500)
        ),
    );
    assert!(std::fs::metadata(&yaml).expect("yaml").len() <= 2000);
    let run = env.run(&["workflow", "create", yaml.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("as JSON, more than the limit of 2000 bytes (limits.document_bytes"),
        "{}",
        run.stderr
    );

    let input = json!({"text": "i".repeat(1500)}).to_string();
    let run = env.run(&["workflow", "execute", &small, "--input", &input]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("the execution's input") && run.stderr.contains("limits.input_bytes"),
        "{}",
        run.stderr
    );
    let mut raw = Raw::hello(&env);
    let long =
        json!({"id": 1, "method": "workflows.list", "params": {"category": "c".repeat(5000)}});
    let message = error_message(&raw.ask(&long.to_string()));
    assert!(message.contains("longer than 4 KiB"), "{message}");

    env.write_config("[limits]\ndocument_bytes = 20000000\n");
    let run = env.run(&["workflow", "create", file.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("limits.request_bytes") && run.stderr.contains("must be larger"),
        "{}",
        run.stderr
    );
    for (config, key) in [
        (
            "[limits]\npending_request_bytes = 1000\n",
            "limits.pending_request_bytes (1000) must be at least limits.request_bytes",
        ),
        (
            "[daemon]\nhttp_header_timeout = 0\n",
            "daemon.http_header_timeout must be more than 0",
        ),
        (
            "[daemon]\nhttp_connections = 0\n",
            "daemon.http_connections must be at least 1",
        ),
    ] {
        env.write_config(config);
        let run = env.run(&["workflow", "create", file.to_str().expect("utf-8")]);
        assert_eq!(run.code, 2, "{config}");
        assert!(run.stderr.contains(key), "{config}: {}", run.stderr);
    }
}
