//! A private world per test: temp HOME, data dir and socket, and the real binary.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tempfile::TempDir;

pub(crate) struct TestEnv {
    pub(crate) root: TempDir,
}

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts exit 0 and returns stdout.
    #[track_caller]
    pub(crate) fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    #[track_caller]
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(self.ok())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// The path of the `do` binary under test.
pub(crate) fn do_bin() -> PathBuf {
    PathBuf::from(assert_cmd::cargo::cargo_bin!("do"))
}

/// The path of the same binary installed as `dowf`.
pub(crate) fn dowf_bin() -> PathBuf {
    PathBuf::from(assert_cmd::cargo::cargo_bin!("dowf"))
}

/// The repository's root (for `examples/`).
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

impl TestEnv {
    pub(crate) fn new() -> TestEnv {
        let root = tempfile::Builder::new()
            .prefix("do-e2e")
            .tempdir()
            .expect("temp dir");
        std::fs::create_dir_all(root.path().join("home")).expect("home");
        std::fs::create_dir_all(root.path().join("work")).expect("work");
        TestEnv { root }
    }

    pub(crate) fn path(&self, relative: &str) -> PathBuf {
        self.root.path().join(relative)
    }

    pub(crate) fn socket(&self) -> PathBuf {
        self.path("run/do.sock")
    }

    /// A command running `do` with a clean environment pointing into this test's directory.
    pub(crate) fn command(&self) -> Command {
        self.command_of(&do_bin())
    }

    /// The same, running `program` (`dowf_bin()`).
    pub(crate) fn command_of(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("DO_DATA_DIR", self.path("data"))
            .env("DO_SOCKET", self.socket())
            .env("COLUMNS", "120")
            .current_dir(self.path("work"));
        command
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_with_env(&[], args)
    }

    /// Runs `do ARGS` with these variables added to its environment (and so to the daemon's,
    /// when this command starts it).
    pub(crate) fn run_with_env(&self, vars: &[(&str, &str)], args: &[&str]) -> Run {
        let mut command = self.command();
        command.envs(vars.iter().copied()).args(args);
        Run::from(command.output().expect("run do"))
    }

    pub(crate) fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        use std::io::Write;
        let mut child = self
            .command()
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn do");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        Run::from(child.wait_with_output().expect("wait do"))
    }

    /// Runs `do --json ARGS`, asserts success and parses stdout.
    #[track_caller]
    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.run(&all).json()
    }

    /// Registers agent `name`, a script that waits until the test opens its gate (writes the
    /// file whose path this returns), then runs `then`. The gate stays open once opened.
    pub(crate) fn gated_agent(&self, name: &str, then: &str) -> PathBuf {
        let gate = self.path(&format!("gate-{name}"));
        let script = format!(
            "while [ ! -e '{}' ]; do sleep 0.02; done; {then}",
            gate.display()
        );
        self.run(&["agent", "add", name, "--shell", &script]).ok();
        gate
    }

    /// Writes the config file both the daemon and the client read (`config.toml` in the
    /// config dir under the test's HOME).
    pub(crate) fn write_config(&self, toml: &str) {
        let config = self.path("home/.config/do/config.toml");
        std::fs::create_dir_all(config.parent().expect("dir")).expect("config dir");
        std::fs::write(&config, toml).expect("config");
    }

    /// Writes an executable script into the test dir and returns its path.
    pub(crate) fn script(&self, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.path(&format!("agents/{name}"));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("agents dir");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    /// Writes a file (a workflow document) into the test dir and returns its path.
    pub(crate) fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path(&format!("work/{name}"));
        std::fs::write(&path, contents).expect("write file");
        path
    }

    /// Creates a workflow from a JSON value and returns its id.
    #[track_caller]
    pub(crate) fn create(&self, document: &Value) -> String {
        let file = self.file("workflow.json", &document.to_string());
        let created = self.json(&["workflow", "create", file.to_str().expect("utf-8 path")]);
        created["workflowId"]
            .as_str()
            .expect("workflowId")
            .to_owned()
    }

    /// Executes a workflow with `--wait`; returns the run and the final status document.
    pub(crate) fn execute_wait(&self, workflow: &str, extra: &[&str]) -> (Run, Value) {
        let mut args = vec!["--json", "workflow", "execute", workflow, "--wait"];
        args.extend_from_slice(extra);
        let run = self.run(&args);
        let status = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
            panic!(
                "execute --wait printed no status ({e}):\n{}\n{}",
                run.stdout, run.stderr
            )
        });
        (run, status)
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let _ = self.command().args(["daemon", "stop", "--now"]).output();
    }
}

/// Waits up to `limit` for process `pid`, which need not be a child of the test, to end (to be
/// a zombie or gone); whether it did. A process killed with its group may still be exiting when
/// the step that owned it is reported ended: its pipes close before it becomes a zombie.
pub(crate) fn process_ends(pid: &str, limit: std::time::Duration) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use rustix::process::{Pid, PidfdFlags, pidfd_open};
    let raw: i32 = pid.trim().parse().expect("a process id");
    let pid = Pid::from_raw(raw).expect("a positive process id");
    let pidfd = match pidfd_open(pid, PidfdFlags::empty()) {
        Ok(fd) => fd,
        // Ended and reaped already.
        Err(rustix::io::Errno::SRCH) => return true,
        Err(e) => panic!("pidfd_open({raw}): {e}"),
    };
    let timeout = Timespec {
        tv_sec: i64::try_from(limit.as_secs()).expect("seconds"),
        tv_nsec: 0,
    };
    // A pidfd becomes readable when its process ends.
    poll(&mut [PollFd::new(&pidfd, PollFlags::IN)], Some(&timeout)).expect("poll") == 1
}

/// Kills this test's daemon with SIGKILL and waits until its process is gone, so that its
/// socket no longer answers and its lock is released: a `daemon start` right after starts a
/// new daemon instead of finding the dead one still running.
pub(crate) fn kill_daemon(env: &TestEnv) {
    let pid = env.json(&["daemon", "status"])["pid"]
        .as_u64()
        .expect("pid")
        .to_string();
    let killed = Command::new("kill")
        .args(["-9", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    assert!(
        process_ends(&pid, std::time::Duration::from_secs(10)),
        "the daemon {pid} still runs 10 s after SIGKILL"
    );
}

/// Milliseconds since 1970 of an RFC 3339 time in a document.
pub(crate) fn ms(time: &Value) -> u128 {
    let text = time
        .as_str()
        .unwrap_or_else(|| panic!("a time, not {time}"));
    let at = humantime::parse_rfc3339(text).expect("RFC 3339");
    at.duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis()
}

/// Finds a step by id anywhere in a status document's step tree.
pub(crate) fn find_step<'a>(steps: &'a Value, id: &str) -> Option<&'a Value> {
    steps.as_array()?.iter().find_map(|step| {
        if step["id"] == id {
            Some(step)
        } else {
            find_step(&step["steps"], id)
        }
    })
}

/// Every step of a status document's tree, depth first.
pub(crate) fn all_steps(steps: &Value) -> Vec<&Value> {
    let mut all = Vec::new();
    for step in steps.as_array().into_iter().flatten() {
        all.push(step);
        all.extend(all_steps(&step["steps"]));
    }
    all
}
