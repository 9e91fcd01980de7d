use crate::common::TestEnv;
use std::os::unix::fs::PermissionsExt;

#[test]
fn any_command_starts_the_daemon_and_stop_stops_it() {
    let env = TestEnv::new();
    let status = env.run(&["daemon", "status"]);
    assert_eq!(status.code, 3, "no daemon yet: {}", status.stdout);
    env.run(&["agent", "list"]).ok();
    let status = env.json(&["daemon", "status"]);
    assert_eq!(status["socket"], env.socket().display().to_string());
    assert!(env.path("data/do.db").is_file());
    let socket_mode = std::fs::metadata(env.socket())
        .expect("socket")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(socket_mode, 0o600);
    let dir_mode = std::fs::metadata(env.path("run"))
        .expect("dir")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
    env.run(&["daemon", "stop"]).ok();
    assert_eq!(env.run(&["daemon", "status"]).code, 3);
    assert!(!env.socket().exists());
}

#[test]
fn concurrent_first_commands_start_one_daemon() {
    let env = TestEnv::new();
    let children: Vec<_> = (0..4)
        .map(|_| {
            env.command()
                .args(["--json", "agent", "list"])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("wait");
        assert!(output.status.success());
    }
    let first = env.json(&["daemon", "status"])["pid"].clone();
    let log = std::fs::read_to_string(env.path("data/daemon.log")).expect("log");
    assert_eq!(
        log.matches("daemon ready").count(),
        1,
        "one daemon started:\n{log}"
    );
    assert_eq!(env.json(&["daemon", "status"])["pid"], first);
}

#[test]
fn daemon_start_is_idempotent_and_data_survives_a_restart() {
    let env = TestEnv::new();
    let started = env.run(&["daemon", "start"]);
    assert!(
        started.ok().contains("Started the daemon"),
        "{}",
        started.stdout
    );
    let again = env.run(&["daemon", "start"]);
    assert!(again.ok().contains("already running"), "{}", again.stdout);
    env.run(&["agent", "add", "a", "--shell", "true"]).ok();
    env.run(&["daemon", "stop"]).ok();
    assert_eq!(env.json(&["agent", "list"])[0]["name"], "a");
}

#[test]
fn a_client_of_another_protocol_version_is_told_to_restart() {
    use std::io::{BufRead, BufReader, Write};
    let env = TestEnv::new();
    env.run(&["daemon", "start"]).ok();
    let mut stream = std::os::unix::net::UnixStream::connect(env.socket()).expect("connect");
    writeln!(
        stream,
        r#"{{"id":"1","method":"workflows.list","params":{{}}}}"#
    )
    .expect("write");
    writeln!(
        stream,
        r#"{{"id":"2","method":"hello","params":{{"protocolVersion":999}}}}"#
    )
    .expect("write");
    writeln!(stream, "this is not json").expect("write");
    let mut reader = BufReader::new(stream);
    let mut lines = Vec::new();
    for _ in 0..3 {
        let mut line = String::new();
        reader.read_line(&mut line).expect("read");
        lines.push(serde_json::from_str::<serde_json::Value>(&line).expect("envelope"));
    }
    assert_eq!(lines[0]["success"], false);
    assert!(
        lines[0]["error"]["message"]
            .as_str()
            .expect("m")
            .contains("hello"),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1]["error"]["code"], "protocol_mismatch");
    assert!(
        lines[1]["error"]["message"]
            .as_str()
            .expect("m")
            .contains("restart"),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2]["error"]["code"], "invalid_request");
    assert_eq!(lines[0]["metadata"]["requestId"], "1");
    assert!(lines[0]["metadata"]["timestamp"].is_string());
}
