//! `--json` and `-q` on every command: the test walks the command tree through `--help`, so a
//! new command fails it until its row below says what both flags print.

use crate::common::TestEnv;
use serde_json::json;
use std::collections::BTreeMap;

/// What a command prints with `--json`.
#[derive(Clone, Copy, Debug)]
enum AsJson {
    /// One JSON document.
    Document,
    /// One JSON object per line.
    Lines,
    /// Refused with exit 2: the command prints a script or a page.
    Refused,
}

/// What a command prints with `-q`.
#[derive(Clone, Copy, Debug)]
enum AsQuiet {
    /// Ids, a status word or nothing: one word per line.
    Words,
    /// Its text as without `-q` (a document, a script, logs).
    Text,
}

struct Row {
    /// Run first; `{new}` in later commands is what the first one printed.
    prepare: &'static [&'static [&'static str]],
    args: &'static [&'static str],
    json: AsJson,
    quiet: AsQuiet,
}

const fn row(args: &'static [&'static str], json: AsJson, quiet: AsQuiet) -> Row {
    Row {
        prepare: &[],
        args,
        json,
        quiet,
    }
}

const EXECUTE_SLOW: &[&str] = &["workflow", "execute", "{slow}", "-q"];

fn rows() -> BTreeMap<&'static str, Row> {
    use AsJson::*;
    use AsQuiet::*;
    BTreeMap::from([
        ("workflow create", row(&["{file}"], Document, Words)),
        ("workflow validate", row(&["{file}"], Document, Words)),
        ("workflow schema", row(&[], Document, Text)),
        ("workflow list", row(&[], Document, Words)),
        ("workflow show", row(&["{wf}"], Document, Words)),
        ("workflow update", row(&["{wf}", "{file}"], Document, Words)),
        (
            "workflow delete",
            Row {
                prepare: &[&["workflow", "create", "-q", "{file}"]],
                ..row(&["{new}"], Document, Words)
            },
        ),
        (
            "workflow archive",
            Row {
                prepare: &[&["workflow", "create", "-q", "{file}"]],
                ..row(&["{new}"], Document, Words)
            },
        ),
        ("workflow run", row(&["{file}"], Document, Words)),
        ("workflow execute", row(&["{wf}"], Document, Words)),
        ("workflow execution", row(&["{exec}"], Document, Words)),
        ("workflow executions", row(&[], Document, Words)),
        (
            "workflow cancel",
            Row {
                prepare: &[EXECUTE_SLOW],
                ..row(&["{new}"], Document, Words)
            },
        ),
        (
            "workflow pause",
            Row {
                prepare: &[EXECUTE_SLOW],
                ..row(&["{new}"], Document, Words)
            },
        ),
        (
            "workflow resume",
            Row {
                prepare: &[EXECUTE_SLOW, &["workflow", "pause", "{new}"]],
                ..row(&["{new}"], Document, Words)
            },
        ),
        (
            "workflow retry",
            Row {
                prepare: &[
                    &["workflow", "execute", "{failing}", "-q"],
                    &["workflow", "execution", "{new}", "--wait"],
                ],
                ..row(&["{new}", "boom"], Document, Words)
            },
        ),
        ("workflow logs", row(&["{exec}"], Lines, Text)),
        ("workflow output", row(&["{exec}", "only"], Document, Text)),
        (
            "agent add",
            row(&["extra", "--replace", "--shell", "true"], Document, Words),
        ),
        ("agent list", row(&[], Document, Words)),
        ("agent show", row(&["ok"], Document, Words)),
        (
            "agent remove",
            Row {
                prepare: &[&["agent", "add", "spare", "--replace", "--shell", "true"]],
                ..row(&["spare"], Document, Words)
            },
        ),
        (
            "team create",
            row(&["crew2", "--members", "ok", "--replace"], Document, Words),
        ),
        ("team list", row(&[], Document, Words)),
        ("team show", row(&["crew"], Document, Words)),
        (
            "team remove",
            Row {
                prepare: &[&["team", "create", "spare", "--members", "ok", "--replace"]],
                ..row(&["spare"], Document, Words)
            },
        ),
        (
            "schedule add",
            Row {
                prepare: &[&["schedule", "remove", "spare"]],
                ..row(
                    &["{wf}", "--cron", "0 0 1 1 *", "--name", "spare"],
                    Document,
                    Words,
                )
            },
        ),
        ("schedule list", row(&[], Document, Words)),
        ("schedule show", row(&["yearly"], Document, Words)),
        ("schedule pause", row(&["yearly"], Document, Words)),
        ("schedule resume", row(&["yearly"], Document, Words)),
        ("schedule trigger", row(&["yearly"], Document, Words)),
        (
            "schedule remove",
            Row {
                prepare: &[&[
                    "schedule",
                    "add",
                    "{wf}",
                    "--cron",
                    "0 0 1 1 *",
                    "--name",
                    "gone",
                ]],
                ..row(&["gone"], Document, Words)
            },
        ),
        ("daemon start", row(&[], Document, Words)),
        ("daemon status", row(&[], Document, Words)),
        ("daemon api-key", row(&[], Document, Words)),
        ("daemon install-service", row(&["--print"], Document, Text)),
        // Last in the walk's order is no promise: the next command starts a daemon again.
        ("daemon stop", row(&["--now"], Document, Words)),
        ("completions", row(&["bash"], Refused, Text)),
        ("man", row(&[], Refused, Text)),
    ])
}

/// Commands not run here, and why.
const NOT_RUN: &[(&str, &str)] = &[(
    "daemon run",
    "runs the daemon in the foreground; it prints nothing on stdout, whatever the flags",
)];

/// The leaves of the command tree, found through `--help` (`Commands:` sections).
fn leaves(env: &TestEnv, path: &[String], out: &mut Vec<String>) {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let help = env.run(&args).ok().to_owned();
    let subcommands: Vec<String> = help
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    if subcommands.is_empty() {
        out.push(path.join(" "));
    }
    for name in subcommands {
        let mut sub = path.to_vec();
        sub.push(name);
        leaves(env, &sub, out);
    }
}

#[test]
fn every_command_honours_json_and_quiet() {
    let env = TestEnv::new();
    // The executions left sleeping (paused, resumed) must not hold up the others.
    env.write_config("[daemon]\nmax_parallel = 16\n");
    let mut all = Vec::new();
    leaves(&env, &[], &mut all);
    assert!(all.len() > 30, "{all:?}");
    let rows = rows();
    for leaf in &all {
        assert!(
            rows.contains_key(leaf.as_str()) || NOT_RUN.iter().any(|(c, _)| c == leaf),
            "`{leaf}` is not in this test: say what --json and -q print for it"
        );
    }

    env.run(&[
        "agent",
        "add",
        "ok",
        "--shell",
        "echo working >&2; echo done",
    ])
    .ok();
    env.run(&["agent", "add", "slow", "--shell", "sleep 30"])
        .ok();
    env.run(&["agent", "add", "bad", "--shell", "exit 3"]).ok();
    env.run(&["team", "create", "crew", "--members", "ok"]).ok();
    let document = json!({"name": "modes", "steps": [{"id": "only", "agent": "ok", "task": "t"}]});
    let file = env.file("modes.json", &document.to_string());
    let file = file.to_str().expect("utf-8").to_owned();
    let wf = env.create(&document);
    let slow = env
        .create(&json!({"name": "slow", "steps": [{"id": "nap", "agent": "slow", "task": "t"}]}));
    let failing = env.create(
        &json!({"name": "failing", "steps": [{"id": "boom", "agent": "bad", "task": "t"}]}),
    );
    env.run(&[
        "schedule",
        "add",
        &wf,
        "--cron",
        "0 0 1 1 *",
        "--name",
        "yearly",
    ])
    .ok();
    let (_, status) = env.execute_wait(&wf, &[]);
    let exec = status["executionId"].as_str().expect("id").to_owned();
    let fill = |arg: &str, new: &str| {
        arg.replace("{file}", &file)
            .replace("{wf}", &wf)
            .replace("{slow}", &slow)
            .replace("{failing}", &failing)
            .replace("{exec}", &exec)
            .replace("{new}", new)
    };

    for (leaf, row) in &rows {
        assert!(all.contains(&leaf.to_string()), "`{leaf}` is no command");
        for flag in ["--json", "-q"] {
            let mut new = String::new();
            for (i, prepare) in row.prepare.iter().enumerate() {
                let args: Vec<String> = prepare.iter().map(|a| fill(a, &new)).collect();
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let run = env.run(&args);
                if i == 0 {
                    new = run.stdout.trim().to_owned();
                }
            }
            let mut args: Vec<String> = vec![flag.to_owned()];
            args.extend(leaf.split(' ').map(str::to_owned));
            args.extend(row.args.iter().map(|a| fill(a, &new)));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = env.run(&args);
            let what = format!("`do {}`", args.join(" "));
            match (flag, row.json, row.quiet) {
                ("--json", AsJson::Refused, _) => {
                    assert_eq!(run.code, 2, "{what}: {}", run.stderr);
                    assert!(run.stderr.contains("--json"), "{what}: {}", run.stderr);
                }
                ("--json", AsJson::Document, _) => {
                    let text = run.ok();
                    assert!(
                        serde_json::from_str::<serde_json::Value>(text).is_ok(),
                        "{what} printed no JSON:\n{text}"
                    );
                }
                ("--json", AsJson::Lines, _) => {
                    let text = run.ok();
                    assert!(!text.is_empty(), "{what} printed nothing");
                    for line in text.lines() {
                        assert!(
                            serde_json::from_str::<serde_json::Value>(line).is_ok(),
                            "{what}: not a JSON line: {line}"
                        );
                    }
                }
                (_, _, AsQuiet::Words) => {
                    let text = run.ok();
                    assert!(
                        text.lines()
                            .all(|l| !l.is_empty() && !l.contains(char::is_whitespace)),
                        "{what} printed more than ids or a status word:\n{text}"
                    );
                }
                (_, _, AsQuiet::Text) => {
                    assert!(!run.ok().is_empty(), "{what} printed nothing");
                }
            }
        }
    }
}
