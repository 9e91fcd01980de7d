//! The daemon owns its data dir (issue 15): no file of the CLI names a file in it, and the CLI
//! uses only the do-daemon items that run or start the daemon. A source check, so that a new
//! `std::fs::read(data_dir.join(…))` or `do_daemon::some_file_path` fails here, not in review.

use crate::common::repo_root;
use std::path::{Path, PathBuf};

/// The module that starts the daemon: it creates the data dir, takes the autostart lock and
/// hands the spawned daemon its log, which the issue allows.
const STARTS_THE_DAEMON: &str = "context.rs";

/// Names of files the daemon keeps in its data dir.
const DATA_DIR_FILES: [&str; 6] = [
    "\"api-key\"",
    "\"http.addr\"",
    "\"do.db\"",
    "\"daemon.log\"",
    "\"runs\"",
    "\"autostart.lock\"",
];

/// The do-daemon items each CLI file may use, and why.
const DAEMON_ITEMS: [(&str, &[&str]); 3] = [
    // `daemon run` runs the daemon in this process; `daemon openapi` prints its document.
    (
        "commands/daemon.rs",
        &["Config", "run", "log_line", "openapi", "DEFAULT_HTTP_ADDR"],
    ),
    // Starting the daemon: its private data dir, and its config file checked before the spawn.
    (STARTS_THE_DAEMON, &["create_private_dir", "ConfigFile"]),
    // The size limit's wording in the refusal of a too large document.
    ("commands/workflow/submit.rs", &["show_bytes"]),
];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn the_cli_opens_no_file_of_the_data_dir_and_uses_do_daemon_only_to_run_it() {
    let src = repo_root().join("crates/do-cli/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 10, "found {files:?}");
    let mut problems = Vec::new();
    for path in files {
        let name = path
            .strip_prefix(&src)
            .expect("under src")
            .display()
            .to_string();
        let text = std::fs::read_to_string(&path).expect("read source");
        if name != STARTS_THE_DAEMON {
            for file in DATA_DIR_FILES {
                if text.contains(file) {
                    problems.push(format!("{name} names the data dir's file {file}"));
                }
            }
        }
        let allowed = DAEMON_ITEMS
            .iter()
            .find(|(file, _)| *file == name)
            .map_or(&[][..], |(_, items)| *items);
        if text.contains("use do_daemon") {
            problems.push(format!(
                "{name} imports from do_daemon; name each item in full"
            ));
        }
        for (at, _) in text.match_indices("do_daemon::") {
            let item: String = text[at + "do_daemon::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !allowed.contains(&item.as_str()) {
                problems.push(format!("{name} uses do_daemon::{item}"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
