use crate::common::{TestEnv, do_bin};
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

#[test]
fn a_stopped_daemon_resumes_the_execution_and_reruns_only_the_interrupted_step() {
    use std::io::{BufRead, BufReader};
    let env = TestEnv::new();
    env.run(&[
        "agent",
        "add",
        "quick",
        "--shell",
        r#"echo "ran $DO_STEP_ID""#,
    ])
    .ok();
    let slow = env.script(
        "slow.sh",
        r#"if [ -e "$DO_WORKSPACE/go" ]; then echo "done on attempt $DO_ATTEMPT"; else echo waiting >&2; exec sleep 30; fi"#,
    );
    env.run(&["agent", "add", "slow", "--", slow.to_str().expect("utf-8")])
        .ok();
    let workflow = env.create(&serde_json::json!({"name": "resume", "steps": [
        {"id": "first", "agent": "quick", "task": "t"},
        {"id": "blocked", "agent": "slow", "task": "t"},
        {"id": "last", "agent": "quick", "task": "t"},
    ]}));
    let mut waiting = env
        .command()
        .args(["workflow", "execute", &workflow, "--wait"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut execution = String::new();
    let mut lines = BufReader::new(waiting.stderr.take().expect("stderr")).lines();
    for line in lines.by_ref() {
        let line = line.expect("line");
        if let Some(id) = line.strip_prefix("Started execution ") {
            execution = id.trim_end_matches('.').to_owned();
        }
        if line.contains("started   blocked") {
            break;
        }
    }
    assert!(execution.starts_with("exec_"), "{execution}");
    env.run(&["daemon", "stop", "--now"]).ok();
    let code = waiting.wait().expect("wait").code();
    assert_eq!(code, Some(3), "the waiting client reports the lost daemon");

    std::fs::write(env.path(&format!("data/workspaces/{execution}/go")), "").expect("go");
    let run = env.run(&["--json", "workflow", "execution", &execution, "--wait"]);
    let status = run.json();
    assert_eq!(status["status"], "completed", "{status}");
    let step = |id: &str| {
        crate::common::find_step(&status["steps"], id)
            .expect("step")
            .clone()
    };
    assert_eq!(
        step("first")["attempts"].as_array().map(Vec::len),
        Some(1),
        "a finished step is not run again"
    );
    assert_eq!(
        step("blocked")["attempts"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(step("blocked")["attempts"][0]["status"], "interrupted");
    assert_eq!(step("blocked")["output"]["blocked"], "done on attempt 2");
    assert_eq!(step("last")["output"]["last"], "ran last");
}

#[test]
fn daemon_stop_waits_for_running_steps_and_now_interrupts_them() {
    use std::io::{BufRead, BufReader};
    let env = TestEnv::new();
    let gate = env.gated_agent("gated", "echo passed");
    let workflow = env.create(&serde_json::json!({"name": "stop", "steps": [{"id": "wait", "agent": "gated", "task": "t"}]}));
    let (mut waiting, execution, _) =
        crate::test_failures::execute_until(&env, &workflow, &["started   wait"]);
    let mut stop = env
        .command()
        .args(["daemon", "stop"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("stop");
    let mut stop_err = BufReader::new(stop.stderr.take().expect("stderr")).lines();
    let line = stop_err.next().expect("a line").expect("utf-8");
    assert!(line.contains("Waiting for 1 running step"), "{line}");
    std::fs::write(&gate, "").expect("open the gate");
    assert!(stop.wait().expect("stop").success());
    let _ = waiting.wait();
    let status = env.json(&["workflow", "execution", &execution]);
    assert_eq!(
        status["status"], "completed",
        "the running step finished before the daemon stopped"
    );
    let step = crate::common::find_step(&status["steps"], "wait").expect("wait");
    assert_eq!(step["attempts"].as_array().map(Vec::len), Some(1), "{step}");
}

#[test]
fn a_database_from_a_newer_do_is_refused_and_left_untouched() {
    let env = TestEnv::new();
    env.run(&["agent", "add", "a", "--shell", "true"]).ok();
    env.run(&["daemon", "stop"]).ok();
    let db = env.path("data/do.db");
    let bump = std::process::Command::new("python3")
        .args(["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version = 999'); c.commit(); c.close()"])
        .arg(&db)
        .status()
        .expect("python3");
    assert!(bump.success());
    let before = std::fs::read(&db).expect("db");
    let run = env.run(&["agent", "list"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("schema version 999") && run.stderr.contains("upgrade `do`"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(&db).expect("db"),
        before,
        "the database is not modified"
    );
}

#[test]
fn daemon_start_passes_max_parallel_to_the_daemon() {
    let env = TestEnv::new();
    env.run(&["daemon", "start", "--max-parallel", "3"]).ok();
    assert_eq!(env.json(&["daemon", "status"])["maxParallel"], 3);
    let refused = env.run(&["daemon", "start", "--max-parallel", "0"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
}

#[test]
fn install_service_prints_or_writes_a_systemd_user_unit() {
    let env = TestEnv::new();
    let printed = env.run(&["daemon", "install-service", "--print"]);
    let unit = printed.ok();
    let exec_start = unit
        .lines()
        .find(|l| l.starts_with("ExecStart="))
        .unwrap_or_else(|| panic!("no ExecStart:\n{unit}"));
    assert!(
        exec_start.contains(&format!("\"{}\" daemon run", do_bin().display())),
        "{exec_start}"
    );
    assert!(
        exec_start.contains(&format!("--data-dir \"{}\"", env.path("data").display())),
        "{exec_start}"
    );
    assert!(unit.contains("WantedBy=default.target"), "{unit}");
    let unit_path = env.path("home/.config/systemd/user/do.service");
    assert!(!unit_path.exists(), "--print must not write the unit");

    let written = env.run(&["daemon", "install-service"]);
    assert!(
        written.ok().contains("systemctl --user"),
        "{}",
        written.stdout
    );
    assert_eq!(std::fs::read_to_string(&unit_path).expect("unit"), unit);
}
