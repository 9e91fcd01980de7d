//! The machine misbehaves: a full disk, a read-only database, an agent program that is gone or
//! not executable. Commands fail saying what and where; the daemon stays up and recovers.

use crate::common::TestEnv;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Runs `mount`/`umount`; panics with its stderr on failure.
fn mount(args: &[&str], target: &Path) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .arg(target)
        .output()
        .expect("run mount");
    assert!(
        out.status.success(),
        "{args:?} {}: {}",
        target.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Unmounts on drop, after the test's daemon has been stopped.
struct Mounted(Vec<PathBuf>);

impl Drop for Mounted {
    fn drop(&mut self) {
        for target in self.0.iter().rev() {
            let _ = Command::new("umount").arg("-l").arg(target).output();
        }
    }
}

/// A test env whose data dir is a 2 MiB tmpfs.
fn small_disk() -> Option<(TestEnv, Mounted)> {
    if !is_root() {
        println!("skipped: mounting a small tmpfs as the data dir needs root");
        return None;
    }
    let env = TestEnv::new();
    let data = env.path("data");
    std::fs::create_dir_all(&data).expect("data dir");
    mount(
        &["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs"],
        &data,
    );
    let mounted = Mounted(vec![data]);
    Some((env, mounted))
}

fn big_document(env: &TestEnv) -> PathBuf {
    let document = json!({"name": "big", "description": "y".repeat(300_000), "steps": [
        {"id": "a", "agent": "echo", "task": "t"}
    ]});
    env.file("big.json", &document.to_string())
}

#[test]
fn a_full_disk_fails_commands_with_the_path_and_the_daemon_recovers_when_space_returns() {
    let Some((env, _mounted)) = small_disk() else {
        return;
    };
    env.run(&["agent", "add", "echo", "--shell", "echo hi"])
        .ok();
    let workflow = env.create(&json!({"name": "small", "steps": [
        {"id": "a", "agent": "echo", "task": "t"}
    ]}));
    let pid = env.json(&["daemon", "status"])["pid"].clone();
    let filler = env.path("data/filler");
    let fill = Command::new("dd")
        .arg("if=/dev/zero")
        .arg(format!("of={}", filler.display()))
        .arg("bs=64k")
        .output()
        .expect("dd");
    assert!(
        String::from_utf8_lossy(&fill.stderr).contains("No space left"),
        "the disk is full"
    );
    let database = env.path("data/do.db").display().to_string();
    let big = big_document(&env);
    let big = big.to_str().expect("utf-8");
    for args in [
        vec!["workflow", "create", big],
        vec!["workflow", "execute", workflow.as_str()],
    ] {
        let run = env.run(&args);
        assert_ne!(run.code, 0, "{args:?}: {}", run.stdout);
        assert!(
            run.stderr.contains("the disk is full") && run.stderr.contains(&database),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert_eq!(
        env.json(&["daemon", "status"])["pid"],
        pid,
        "the daemon is still up"
    );

    std::fs::remove_file(&filler).expect("free the space");
    env.run(&["workflow", "create", big]).ok();
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(status["status"], "completed", "{}", run.stderr);
    assert_eq!(
        env.json(&["daemon", "status"])["pid"],
        pid,
        "the same daemon"
    );
    env.run(&["daemon", "stop"]).ok();
}

#[test]
fn a_read_only_database_fails_writes_with_the_path_and_reads_still_work() {
    let Some((env, mut mounted)) = small_disk() else {
        return;
    };
    env.run(&["agent", "add", "echo", "--shell", "echo hi"])
        .ok();
    let workflow = env.create(&json!({"name": "small", "steps": [
        {"id": "a", "agent": "echo", "task": "t"}
    ]}));
    env.run(&["daemon", "stop"]).ok();
    let database = env.path("data/do.db");
    // The file bound over itself read-only: the directory stays writable, the database not.
    let source = database.to_str().expect("utf-8");
    mount(&["mount", "--bind", "-o", "ro", source], &database);
    mounted.0.push(database.clone());

    let listed = env.json(&["workflow", "list"]);
    assert_eq!(listed[0]["workflowId"], workflow.as_str(), "reads work");
    let file = env.file(
        "w.json",
        &json!({"name": "w", "steps": [{"id": "a", "agent": "echo", "task": "t"}]}).to_string(),
    );
    for args in [
        vec!["workflow", "create", file.to_str().expect("utf-8")],
        vec!["workflow", "execute", workflow.as_str()],
        vec!["agent", "add", "other", "--shell", "true"],
    ] {
        let run = env.run(&args);
        assert_ne!(run.code, 0, "{args:?}: {}", run.stdout);
        assert!(
            run.stderr.contains("read-only")
                && run.stderr.contains(&database.display().to_string()),
            "{args:?}: {}",
            run.stderr
        );
    }
    env.run(&["daemon", "status"]).ok();
    env.run(&["daemon", "stop"]).ok();
    mount(&["umount"], &database);
    mounted.0.pop();
    env.run(&["workflow", "create", file.to_str().expect("utf-8")])
        .ok();
    env.run(&["daemon", "stop"]).ok();
}

#[test]
fn a_missing_or_not_executable_agent_program_fails_the_step_saying_so() {
    let env = TestEnv::new();
    let gone = env.script("gone", "echo hi");
    let not_executable = env.script("not-executable", "echo hi");
    env.run(&["agent", "add", "gone", "--", gone.to_str().expect("utf-8")])
        .ok();
    env.run(&[
        "agent",
        "add",
        "plain",
        "--",
        not_executable.to_str().expect("utf-8"),
    ])
    .ok();
    std::fs::remove_file(&gone).expect("remove");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&not_executable, std::fs::Permissions::from_mode(0o644))
        .expect("chmod");
    for (agent, path, reason) in [
        ("gone", &gone, "No such file or directory"),
        ("plain", &not_executable, "Permission denied"),
    ] {
        let workflow = env.create(&json!({"name": "w", "steps": [
            {"id": "a", "agent": agent, "task": "t"}
        ]}));
        let (_, status) = env.execute_wait(&workflow, &[]);
        assert_eq!(status["status"], "failed");
        let error = status["steps"][0]["error"].as_str().expect("error");
        let path = path.display().to_string();
        assert!(
            error.contains(&format!("agent `{agent}`"))
                && error.contains(&path)
                && error.contains(reason),
            "{error}"
        );
    }
}
