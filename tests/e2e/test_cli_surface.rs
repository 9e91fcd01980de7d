//! The command line as a person meets it: the names it suggests, its help, its quick start.

use crate::common::{TestEnv, dowf_bin, repo_root};

/// Started as `dowf`, every command it suggests says `dowf`: `do agent add …` is a syntax
/// error when pasted into bash. The daemon's own messages are renamed too.
#[test]
fn hints_name_the_program_as_it_was_started() {
    let env = TestEnv::new();
    let file = env.file(
        "uses-priya.json",
        r#"{"name": "p", "steps": [{"id": "a", "agent": "priya", "task": "t"}]}"#,
    );
    let output = env
        .command_of(&dowf_bin())
        .args(["workflow", "run", file.to_str().expect("utf-8")])
        .output()
        .expect("dowf");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("add it with `dowf agent add priya -- COMMAND…`"),
        "{stderr}"
    );
    assert!(!stderr.contains("`do "), "{stderr}");
    let output = env
        .command_of(&dowf_bin())
        .args(["agent", "list"])
        .output()
        .expect("dowf");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("`dowf agent add NAME"), "{stdout}");
    // Started as `do`, it says `do`.
    let run = env.run(&["team", "list"]);
    assert!(run.ok().contains("`do team create"), "{}", run.stdout);
}

/// The quick start at the end of `dowf --help` runs as written, in a fresh data dir, from the
/// root of the repository, with `dowf` on PATH.
#[test]
fn the_quick_start_in_help_runs_as_written() {
    let env = TestEnv::new();
    let help = env.run(&["--help"]).ok().to_owned();
    let lines: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Quick start"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    assert!(lines.len() >= 3, "no quick start in:\n{help}");
    run_in_bash(&env, &lines.join("\n"));
}

/// The README's quick start runs as written too.
#[test]
fn the_quick_start_in_the_readme_runs_as_written() {
    let env = TestEnv::new();
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README");
    let block: Vec<&str> = readme
        .lines()
        .skip_while(|l| *l != "## Quick start")
        .skip_while(|l| *l != "```sh")
        .skip(1)
        .take_while(|l| *l != "```")
        .collect();
    assert!(block.len() >= 5, "no quick start in the README");
    run_in_bash(&env, &block.join("\n"));
}

/// Runs a script in bash (`-euo pipefail`) from the root of the repository, with `dowf` on
/// PATH and this test's data dir; asserts that it succeeds.
fn run_in_bash(env: &TestEnv, script: &str) {
    let bin_dir = dowf_bin().parent().expect("bin dir").to_owned();
    let output = std::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("HOME", env.path("home"))
        .env("DO_DATA_DIR", env.path("data"))
        .env("DO_SOCKET", env.socket())
        .current_dir(repo_root())
        .output()
        .expect("bash");
    assert!(
        output.status.success(),
        "failed:\n{script}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `--priority` lists its values in `--help` and completes them in every shell.
#[test]
fn priority_values_are_in_help_and_completion() {
    let env = TestEnv::new();
    let help = env.run(&["workflow", "execute", "--help"]).ok().to_owned();
    assert!(
        help.contains("[possible values: low, normal, high, urgent]"),
        "{help}"
    );
    for shell in ["bash", "zsh", "fish"] {
        let output = env
            .command()
            .env("COMPLETE", shell)
            .env("_CLAP_COMPLETE_INDEX", "5")
            .env("_CLAP_IFS", "\n")
            .args(["--", "do", "workflow", "execute", "wf_x", "--priority", ""])
            .output()
            .expect("do");
        let offered = String::from_utf8_lossy(&output.stdout);
        let offered: Vec<&str> = offered.lines().collect();
        assert_eq!(offered, ["low", "normal", "high", "urgent"], "{shell}");
    }
}

/// `--socket`, `--data-dir` and `--color` sit under their own heading, and a usage error's
/// `Usage:` line shows what was typed, not what came from DO_SOCKET and DO_DATA_DIR.
#[test]
fn global_options_have_their_heading_and_env_values_stay_out_of_usage_errors() {
    let env = TestEnv::new();
    let help = env.run(&["workflow", "list", "--help"]).ok().to_owned();
    let global = help
        .split_once("Global options:")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no global options heading:\n{help}"));
    for option in ["--socket <PATH>", "--data-dir <DIR>", "--color <WHEN>"] {
        assert!(global.contains(option), "{option} not global:\n{help}");
    }
    assert!(global.contains("[env: DO_SOCKET]"), "{help}");
    let run = env.run(&["workflow", "execute"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let usage = run
        .stderr
        .lines()
        .find(|l| l.starts_with("Usage:"))
        .unwrap_or_else(|| panic!("no usage:\n{}", run.stderr));
    assert_eq!(usage, "Usage: do workflow execute <WORKFLOW>");
}

/// `validate` and `run` agree: with a daemon running, `validate` warns about an agent that is
/// not registered (an error with `--strict`); with none, it checks the document alone, says
/// so, and starts no daemon.
#[test]
fn validate_reports_unregistered_agents_when_a_daemon_runs() {
    let env = TestEnv::new();
    let file = env.file(
        "uses-priya.json",
        r#"{"name": "p", "steps": [{"id": "a", "agent": "priya", "task": "t"}]}"#,
    );
    let file = file.to_str().expect("utf-8");
    let run = env.run(&["workflow", "validate", file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("not checked"), "{}", run.stderr);
    assert!(!env.socket().exists(), "validate started a daemon");
    env.run(&["daemon", "start"]).ok();
    let run = env.run(&["workflow", "validate", file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("steps[0].agent: agent `priya` is not registered"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("with 1 warning"), "{}", run.stdout);
    let run = env.run(&["workflow", "validate", "--strict", file]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("--strict"), "{}", run.stderr);
    env.run(&["agent", "add", "priya", "--shell", "true"]).ok();
    env.run(&["workflow", "validate", "--strict", file]).ok();
}

/// `--dry-run` says what each step does when it fails: retries with their delays, fallback,
/// escalation or going on, timeouts; a step's `errorHandling` over the workflow's.
#[test]
fn dry_run_shows_each_steps_error_handling() {
    let env = TestEnv::new();
    env.run(&["agent", "add", "ok", "--shell", "true"]).ok();
    let document = serde_json::json!({
        "name": "handled", "timeout": 600,
        "errorHandling": {"strategy": "retry", "maxRetries": 2, "initialDelay": 0.5},
        "steps": [
            {"id": "a", "agent": "ok", "task": "t", "timeout": 30},
            {"id": "b", "agent": "ok", "task": "t", "errorHandling": {
                "strategy": "fallback", "maxRetries": 0, "escalateOnFailure": true,
                "fallback": {"id": "b-fb", "agent": "ok", "task": "t"}}},
            {"id": "c", "agent": "ok", "task": "t", "errorHandling": {
                "strategy": "continue", "maxRetries": 1, "backoff": "fixed"}}
        ]
    });
    let file = env.file("handled.json", &document.to_string());
    let plan = env.run(&[
        "workflow",
        "run",
        file.to_str().expect("utf-8"),
        "--dry-run",
    ]);
    let plan = plan.ok();
    for line in [
        "   on failure: retry 2 times after 0.5 s, 1 s (exponential backoff), then the execution \
         fails; timeout 30 s per attempt",
        "   on failure: run fallback `b-fb` in its place; if that fails too, escalate: the \
         execution waits for a person",
        "   on failure: retry 1 time after 0.5 s (fixed backoff), then go on (its output is null)",
        "The execution times out after 600 s.",
    ] {
        assert!(plan.lines().any(|l| l == line), "no `{line}` in:\n{plan}");
    }
}
