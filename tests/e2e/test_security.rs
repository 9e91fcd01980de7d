//! Who may talk to the daemon, what happens to a socket already in use, text that looks like
//! shell code, and secret variables that must never be stored.

use crate::common::{TestEnv, all_steps, do_bin};
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn daemon_pid(env: &TestEnv) -> i32 {
    let status = env.json(&["daemon", "status"]);
    i32::try_from(status["pid"].as_i64().expect("pid")).expect("pid fits")
}

#[test]
fn the_socket_and_data_dir_are_private_and_other_users_are_refused() {
    let env = TestEnv::new();
    env.run(&["agent", "list"]).ok();
    let socket = env.socket();
    assert_eq!(mode(socket.parent().expect("socket dir")), 0o700);
    assert_eq!(mode(&socket), 0o600);
    assert_eq!(mode(&env.path("data")), 0o700);

    if !is_root() {
        println!("skipped the other-user check: it needs root to run a client as `nobody`");
        return;
    }
    // Open everything up, so that only the daemon's SO_PEERCRED check stands in the way.
    for dir in [env.root.path(), socket.parent().expect("socket dir")] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let as_nobody = Command::new("setpriv")
        .args(["--reuid", "nobody", "--regid", "nogroup", "--clear-groups"])
        .arg(do_bin())
        .args(["daemon", "status"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent")
        .env("DO_DATA_DIR", "/nonexistent/do")
        .env("DO_SOCKET", &socket)
        .output()
        .expect("run setpriv");
    let stdout = String::from_utf8_lossy(&as_nobody.stdout);
    let stderr = String::from_utf8_lossy(&as_nobody.stderr);
    assert_eq!(as_nobody.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("serves only its own user") && stderr.contains("not uid 65534"),
        "{stderr}"
    );
    assert!(!stdout.contains("pid"), "nobody got an answer: {stdout}");
    // The same request from the owner is answered: the refusal is about the uid.
    env.run(&["daemon", "status"]).ok();
    let log = std::fs::read_to_string(env.path("data/daemon.log")).expect("daemon log");
    assert!(
        log.contains("refused a connection from another user"),
        "{log}"
    );
}

#[test]
fn a_live_daemons_socket_is_not_taken_and_a_stale_one_is_replaced() {
    let env = TestEnv::new();
    env.run(&["agent", "list"]).ok();
    let first = daemon_pid(&env);
    let second = env
        .command()
        .args(["daemon", "run", "--data-dir"])
        .arg(env.path("other-data"))
        .output()
        .expect("second daemon");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_ne!(second.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&env.socket().display().to_string()) && stderr.contains("already listens"),
        "{stderr}"
    );
    assert_eq!(daemon_pid(&env), first, "the first daemon still answers");

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(first),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill the daemon");
    // The killed daemon's socket file stays behind; the next command starts a daemon over it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while Path::new(&format!("/proc/{first}")).exists() && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert!(env.socket().exists(), "a stale socket file is left");
    env.run(&["agent", "list"]).ok();
    assert_ne!(daemon_pid(&env), first);
}

#[test]
fn task_text_inputs_and_items_reach_the_agent_verbatim_and_no_shell_reads_them() {
    let env = TestEnv::new();
    let pwned = env.path("pwned");
    let evil = format!(
        "$(touch {p}) `touch {p}`; touch {p}\n'single' \"double\" \\ $HOME ${{IFS}} | & > {p} <",
        p = pwned.display()
    );
    let record = env.script(
        "record",
        r#"cat > "$DO_WORKSPACE/task.$DO_STEP_ID"
printf '%s' "$DO_INPUT" > "$DO_WORKSPACE/input.$DO_STEP_ID"
printf '%s' "$DO_EXECUTION_INPUT" > "$DO_WORKSPACE/execution-input.$DO_STEP_ID"
if [ -n "${DO_ITEM+set}" ]; then printf '%s' "$DO_ITEM" > "$DO_WORKSPACE/item.$DO_INDEX"; fi
printf '%s' "$DO_TASK" > "$DO_WORKSPACE/env-task.$DO_STEP_ID""#,
    );
    env.run(&[
        "agent",
        "add",
        "record",
        "--",
        record.to_str().expect("utf-8"),
    ])
    .ok();
    env.run(&[
        "agent",
        "add",
        "shell",
        "--shell",
        r#"printf '%s' "$DO_TASK" > "$DO_WORKSPACE/shell-task""#,
    ])
    .ok();
    let workflow = env.create(&json!({"name": "verbatim", "steps": [
        {"id": "literal", "agent": "record", "task": evil, "output": "first"},
        {"id": "templated", "agent": "record", "task": "{{ input.evil }}", "input": "first"},
        {"id": "each", "type": "loop", "items": "input.items",
         "step": {"id": "one", "agent": "record", "task": "{{ item }}"}},
        {"id": "sh", "agent": "shell", "task": "{{ input.evil }}"}
    ]}));
    let input = json!({"evil": evil, "items": [evil, {"nested": evil}]});
    let (run, status) = env.execute_wait(&workflow, &["--input", &input.to_string()]);
    assert_eq!(status["status"], "completed", "{}", run.stderr);
    let exec = status["executionId"].as_str().expect("id");
    let workspace = env.path(&format!("data/workspaces/{exec}"));
    let read =
        |name: &str| std::fs::read(workspace.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    for step in ["literal", "templated"] {
        assert_eq!(
            read(&format!("task.{step}")),
            evil.as_bytes(),
            "{step} stdin"
        );
        assert_eq!(
            read(&format!("env-task.{step}")),
            evil.as_bytes(),
            "{step} DO_TASK"
        );
        let execution_input: Value =
            serde_json::from_slice(&read(&format!("execution-input.{step}"))).expect("json");
        assert_eq!(execution_input, input);
    }
    let inputs: Value = serde_json::from_slice(&read("input.templated")).expect("json");
    assert_eq!(
        inputs["first"],
        Value::Null,
        "`first` is the literal step's empty output"
    );
    assert_eq!(read("item.0"), json!(evil).to_string().as_bytes());
    assert_eq!(
        read("item.1"),
        json!({"nested": evil}).to_string().as_bytes()
    );
    assert_eq!(read("shell-task"), evil.as_bytes());
    assert!(!pwned.exists(), "a shell interpreted the text");
    assert_eq!(all_steps(&status["steps"]).len(), 6);
}

#[test]
fn secret_variables_reach_the_agent_and_are_never_stored_or_shown() {
    let env = TestEnv::new();
    let from_env = "s3cr3t-from-env-5f1c9e";
    let from_file = "s3cr3t-from-file-77ab02";
    let secret_file = env.path("api-token");
    std::fs::write(&secret_file, format!("{from_file}\n")).expect("secret file");
    let agent = env.script(
        "check",
        &format!(
            r#"[ "$API_KEY" = "{from_env}" ] || {{ echo "API_KEY is wrong" >&2; exit 1; }}
[ "$TOKEN" = "{from_file}" ] || {{ echo "TOKEN is wrong" >&2; exit 1; }}
echo "checked the secrets" >&2
echo ok"#
        ),
    );
    // The daemon starts with this command, so it has API_KEY in its environment.
    let token = format!("TOKEN=@{}", secret_file.display());
    let added = env.run_with_env(
        &[("API_KEY", from_env)],
        &[
            "--json",
            "agent",
            "add",
            "check",
            "--secret-env",
            "API_KEY",
            "--secret-env",
            &token,
            "--",
            agent.to_str().expect("utf-8"),
        ],
    );
    added.ok();
    let workflow = env.create(&json!({"name": "secrets", "steps": [
        {"id": "use", "agent": "check", "task": "use the key"}
    ]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(status["status"], "completed", "{}", run.stderr);
    assert_eq!(status["steps"][0]["output"]["use"], "ok");
    let exec = status["executionId"].as_str().expect("id");

    let mut shown = vec![added.stdout, run.stdout, run.stderr];
    for args in [
        vec!["--json", "agent", "show", "check"],
        vec!["agent", "show", "check"],
        vec!["--json", "agent", "list"],
        vec!["--json", "workflow", "execution", exec],
        vec!["workflow", "logs", exec],
    ] {
        let out = env.run(&args);
        shown.push(out.ok().to_owned());
        shown.push(out.stderr);
    }
    assert!(
        shown.iter().any(|s| s.contains("checked the secrets")),
        "the log is shown"
    );
    assert!(
        shown.iter().any(|s| s.contains("TOKEN")),
        "the names are shown"
    );
    for text in &shown {
        for secret in [from_env, from_file] {
            assert!(!text.contains(secret), "`{secret}` shown:\n{text}");
        }
    }
    env.run(&["daemon", "stop"]).ok();
    let mut files = Vec::new();
    let mut dirs = vec![env.path("data")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    assert!(files.iter().any(|f| f.ends_with("do.db")));
    for file in files {
        // The stopping daemon's last close checkpoints and removes `do.db-wal` and `-shm`;
        // what they held is in `do.db` by then.
        let bytes = match std::fs::read(&file) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            other => other.expect("read"),
        };
        for secret in [from_env, from_file] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "`{secret}` is in {}",
                file.display()
            );
        }
    }
}

#[test]
fn a_secret_from_the_daemons_environment_reaches_only_the_agents_that_declare_it() {
    let env = TestEnv::new();
    let secret = "s3cr3t-only-for-check-41d0";
    let check = env.script(
        "check",
        &format!(r#"[ "$API_KEY" = "{secret}" ] && echo ok || echo "API_KEY is wrong""#),
    );
    let other = env.script("other", r#"echo "${API_KEY-unset} ${PLAIN-unset}""#);
    // The daemon starts with the first command and inherits both variables; `check` declares
    // its secret after that, so the daemon learns of it from the running registry.
    env.run_with_env(
        &[("API_KEY", secret), ("PLAIN", "plain")],
        &[
            "agent",
            "add",
            "other",
            "--",
            other.to_str().expect("utf-8"),
        ],
    )
    .ok();
    let check = check.to_str().expect("utf-8");
    env.run(&[
        "agent",
        "add",
        "check",
        "--secret-env",
        "API_KEY",
        "--",
        check,
    ])
    .ok();
    let workflow = env.create(&json!({"name": "secrets", "steps": [
        {"id": "mine", "agent": "check", "task": "t"},
        {"id": "theirs", "agent": "other", "task": "t"}
    ]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(status["status"], "completed", "{}", run.stderr);
    assert_eq!(status["steps"][0]["output"]["mine"], "ok");
    assert_eq!(status["steps"][1]["output"]["theirs"], "unset plain");

    // Once no agent declares it, the variable is an ordinary one of the daemon's again.
    env.run(&["agent", "remove", "check"]).ok();
    let workflow = env.create(&json!({"name": "after", "steps": [
        {"id": "theirs", "agent": "other", "task": "t"}
    ]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(status["status"], "completed", "{}", run.stderr);
    assert_eq!(
        status["steps"][0]["output"]["theirs"],
        format!("{secret} plain")
    );
}

#[test]
fn a_missing_secret_fails_the_step_naming_the_variable() {
    let env = TestEnv::new();
    env.run(&[
        "agent",
        "add",
        "needs",
        "--secret-env",
        "NOT_SET_ANYWHERE",
        "--shell",
        "echo hi",
    ])
    .ok();
    env.run(&[
        "agent",
        "add",
        "needs-file",
        "--secret-env",
        "KEY=@/nonexistent/key",
        "--shell",
        "echo hi",
    ])
    .ok();
    env.run(&[
        "agent",
        "add",
        "endless",
        "--secret-env",
        "KEY=@/dev/zero",
        "--shell",
        "echo hi",
    ])
    .ok();
    for (agent, fragments) in [
        (
            "needs",
            vec!["`NOT_SET_ANYWHERE`", "not set in the daemon's environment"],
        ),
        ("needs-file", vec!["`KEY`", "/nonexistent/key"]),
        (
            "endless",
            vec!["`KEY`", "/dev/zero", "larger than the 128 KiB"],
        ),
    ] {
        let workflow = env.create(&json!({"name": "w", "steps": [
            {"id": "a", "agent": agent, "task": "t"}
        ]}));
        let (_, status) = env.execute_wait(&workflow, &[]);
        assert_eq!(status["status"], "failed");
        let error = status["steps"][0]["error"].to_string();
        for fragment in fragments {
            assert!(error.contains(fragment), "`{fragment}` not in {error}");
        }
    }
    let run = env.run(&[
        "agent",
        "add",
        "inline",
        "--secret-env",
        "KEY=value",
        "--shell",
        "true",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("KEY=@FILE"), "{}", run.stderr);
}
