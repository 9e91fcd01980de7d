//! The database refuses the scheduler's writes for a while (a full disk, as SQLite reports it):
//! nothing starts on the strength of a transition that was not recorded, and once writes
//! succeed again every execution goes on, without a restart and without running a step twice.

use crate::common::TestEnv;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Polls `condition` until it holds, for at most `limit`; whether it did.
pub(crate) fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    condition()
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// How many lines of the daemon's log contain `text`.
fn logged(env: &TestEnv, text: &str) -> usize {
    lines(&env.path("data/daemon.log"))
        .iter()
        .filter(|line| line.contains(text))
        .count()
}

/// Three executions of a workflow of three steps (`a`, `b`, `c`), each held in its first step
/// until the test opens `gate`; every step writes a line `EXECUTION STEP` to `ledger` as it
/// starts.
struct HeldChains {
    ledger: PathBuf,
    gate: PathBuf,
    executions: Vec<String>,
}

/// Starts the three executions and waits until each one's first step has started.
fn start_held_chains(env: &TestEnv) -> HeldChains {
    let ledger = env.path("ledger");
    let gate = env.path("gate");
    let script = format!(
        "echo \"$DO_EXECUTION_ID $DO_STEP_ID\" >> '{}'; \
         while [ ! -e '{}' ]; do sleep 0.02; done; echo done",
        ledger.display(),
        gate.display()
    );
    env.run(&["agent", "add", "step", "--shell", &script]).ok();
    let workflow = env.create(&json!({"name": "chain", "steps": [
        {"id": "a", "agent": "step", "task": "t"},
        {"id": "b", "agent": "step", "task": "t"},
        {"id": "c", "agent": "step", "task": "t"}]}));
    let executions: Vec<String> = (0..3)
        .map(|_| {
            env.json(&["workflow", "execute", &workflow])["executionId"]
                .as_str()
                .expect("executionId")
                .to_owned()
        })
        .collect();
    assert!(
        eventually(Duration::from_secs(20), || lines(&ledger).len() == 3),
        "every execution's first step starts: {:?}",
        lines(&ledger)
    );
    HeldChains {
        ledger,
        gate,
        executions,
    }
}

/// Waits for `execution` to end, asserts it completed and returns its status document.
#[track_caller]
fn wait_completed(env: &TestEnv, execution: &str) -> serde_json::Value {
    let done = env.run(&["--json", "workflow", "execution", execution, "--wait"]);
    let status: serde_json::Value = serde_json::from_str(&done.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", done.stdout, done.stderr));
    assert_eq!(status["status"], "completed", "{status}");
    status
}

#[track_caller]
fn assert_each_step_ran_once(ledger: &Path, executions: &[String]) {
    let mut runs = lines(ledger);
    runs.sort();
    let mut expected: Vec<String> = executions
        .iter()
        .flat_map(|e| ["a", "b", "c"].map(|step| format!("{e} {step}")))
        .collect();
    expected.sort();
    assert_eq!(runs, expected, "every step ran exactly once");
}

/// Makes every write of a `step.completed` event fail, from the test's own connection to the
/// daemon's database, while the table `test_fault` has a row: SQLite fails the daemon's
/// statement as it would on a full disk, at a chosen transition (a step's end) only.
fn refuse_step_ends(db: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(db).expect("open the daemon's database");
    conn.busy_timeout(Duration::from_secs(10))
        .expect("busy timeout");
    conn.execute_batch(
        "CREATE TABLE test_fault (active INTEGER);
         CREATE TRIGGER test_fault_step_completed BEFORE INSERT ON events
         WHEN NEW.kind = 'step.completed' AND EXISTS (SELECT 1 FROM test_fault)
         BEGIN SELECT RAISE(ABORT, 'database or disk is full (injected by the test)'); END;
         INSERT INTO test_fault VALUES (1);",
    )
    .expect("install the fault");
    conn
}

#[test]
fn a_step_end_that_cannot_be_recorded_starts_nothing_and_everything_goes_on_once_it_can() {
    let env = TestEnv::new();
    env.write_config("[daemon]\nmax_parallel = 3\n");
    let HeldChains {
        ledger,
        gate,
        executions,
    } = start_held_chains(&env);

    let fault = refuse_step_ends(&env.path("data/do.db"));
    std::fs::write(&gate, "").expect("open the gate");
    // Each end fails, then fails again when retried: the scheduler keeps trying.
    assert!(
        eventually(Duration::from_secs(20), || logged(
            &env,
            "cannot record a step's end"
        ) >= 6),
        "the step ends fail and are retried; daemon.log:\n{}",
        lines(&env.path("data/daemon.log")).join("\n")
    );
    assert_eq!(
        lines(&ledger).len(),
        3,
        "no step started while the step before it had not been recorded as ended"
    );
    let refused = env.run(&["workflow", "cancel", &executions[0]]);
    assert_ne!(refused.code, 0, "a cancel cannot be recorded either");
    assert!(
        refused.stderr.contains("could not write to its database"),
        "{}",
        refused.stderr
    );

    fault
        .execute("DELETE FROM test_fault", [])
        .expect("lift the fault");
    for execution in &executions {
        let status = wait_completed(&env, execution);
        for step in status["steps"].as_array().expect("steps") {
            assert_eq!(step["status"], "completed", "{step}");
        }
    }
    assert_each_step_ran_once(&ledger, &executions);
}

/// A tmpfs of `size` mounted on `dir`, unmounted on drop (after the test's daemon stopped).
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    /// `None`, with the reason printed, when the test cannot mount (not root).
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        if !nix::unistd::geteuid().is_root() {
            println!("skipped: mounting a small tmpfs as the data dir needs root");
            return None;
        }
        std::fs::create_dir_all(dir).expect("data dir");
        let mounted = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .output()
            .expect("run mount");
        if !mounted.status.success() {
            println!(
                "skipped: cannot mount a tmpfs: {}",
                String::from_utf8_lossy(&mounted.stderr)
            );
            return None;
        }
        Some(Tmpfs(dir.to_owned()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .output();
    }
}

#[test]
fn executions_stopped_by_a_full_disk_finish_once_space_is_back_without_a_restart() {
    let env = TestEnv::new();
    let Some(_tmpfs) = Tmpfs::mount(&env.path("data"), "4m") else {
        return;
    };
    env.write_config("[daemon]\nmax_parallel = 3\n");
    // Its log goes elsewhere, to show what fails.
    let log = env.path("daemon-stderr.log");
    let mut daemon = env
        .command()
        .args(["daemon", "run", "--notify-ready"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("daemon run");
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(daemon.stdout.take().expect("stdout")),
        &mut ready,
    )
    .expect("ready");
    let HeldChains {
        ledger,
        gate,
        executions,
    } = start_held_chains(&env);
    let filler = env.path("data/filler");
    let filled = std::process::Command::new("dd")
        .arg("if=/dev/zero")
        .arg(format!("of={}", filler.display()))
        .arg("bs=4k")
        .output()
        .expect("dd");
    assert!(
        String::from_utf8_lossy(&filled.stderr).contains("No space left"),
        "the disk is full: {filled:?}"
    );
    let failures = || {
        lines(&log)
            .iter()
            .filter(|line| line.contains("disk is full"))
            .count()
    };
    std::fs::write(&gate, "").expect("open the gate");
    assert!(
        eventually(Duration::from_secs(20), || failures() >= 4),
        "the step ends cannot be written, and are retried; the daemon's log:\n{}",
        lines(&log).join("\n")
    );
    assert_eq!(
        lines(&ledger).len(),
        3,
        "no step started while the step before it had not been recorded as ended"
    );

    std::fs::remove_file(&filler).expect("free the disk");
    for execution in &executions {
        wait_completed(&env, execution);
    }
    assert_each_step_ran_once(&ledger, &executions);
    env.run(&["daemon", "stop"]).ok();
    assert!(daemon.wait().expect("the daemon ends").success());
}
