//! The corpus of bad documents (tests/corpus/invalid/) plus generated huge and deep ones: each
//! is refused with exit 2, its JSON path and message, no panic, and no change to the database.

use crate::common::{TestEnv, repo_root};
use std::path::{Path, PathBuf};

/// Every row of every table of the database file, as text: compared before and after.
pub(crate) fn dump_database(path: &Path) -> Vec<String> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open the database");
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("tables")
        .query_map([], |row| row.get(0))
        .expect("tables")
        .collect::<Result<_, _>>()
        .expect("tables");
    tables.sort();
    let mut rows = Vec::new();
    for table in tables {
        let mut statement = conn
            .prepare(&format!("SELECT * FROM \"{table}\""))
            .expect("select");
        let columns = statement.column_count();
        let mut query = statement.query([]).expect("query");
        while let Some(row) = query.next().expect("row") {
            let values: Vec<String> = (0..columns)
                .map(|i| format!("{:?}", row.get_ref(i).expect("value")))
                .collect();
            rows.push(format!("{table}: {}", values.join(" | ")));
        }
    }
    rows.sort();
    rows
}

struct Case {
    name: String,
    file: PathBuf,
    path: String,
    message: String,
}

fn corpus() -> Vec<Case> {
    let dir = repo_root().join("tests/corpus/invalid");
    let mut cases = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("tests/corpus/invalid") {
        let file = entry.expect("entry").path();
        if file.extension().is_none_or(|e| e == "expect") {
            continue;
        }
        let name = file
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let expect = std::fs::read_to_string(dir.join(format!("{name}.expect")))
            .unwrap_or_else(|e| panic!("{name}.expect: {e}"));
        let field = |key: &str| {
            expect
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .unwrap_or_else(|| panic!("{name}.expect has no `{key}`"))
                .trim()
                .to_owned()
        };
        cases.push(Case {
            path: field("path:"),
            message: field("message:"),
            name,
            file,
        });
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

/// The cases too big or too deep to check in.
fn generated(env: &TestEnv) -> Vec<Case> {
    let deep = 10_000;
    let mut step = r#"{"id": "a", "agent": "x", "task": "t"}"#.to_owned();
    for i in 0..deep {
        step = format!(r#"{{"id": "p{i}", "type": "parallel", "steps": [{step}]}}"#);
    }
    let nesting = "objects and arrays are nested more than 128 levels deep";
    // Block YAML grows with the square of its depth: 1,000 levels stay under the size limit.
    let mut yaml = String::from("name: w\nsteps:\n");
    for i in 0..1_000 {
        let indent = "  ".repeat(i);
        yaml.push_str(&format!(
            "{indent}- id: p{i}\n{indent}  type: parallel\n{indent}  steps:\n"
        ));
    }
    let huge = format!(
        r#"{{"name": "w", "description": "{}", "steps": [{{"id": "a", "agent": "x", "task": "t"}}]}}"#,
        "x".repeat(50 * 1024 * 1024)
    );
    let case = |name: &str, text: &str, path: &str, message: &str| Case {
        name: name.to_owned(),
        file: env.file(name, text),
        path: path.to_owned(),
        message: message.to_owned(),
    };
    vec![
        case(
            "deep-steps.json",
            &format!(r#"{{"name": "w", "steps": [{step}]}}"#),
            "line 1",
            nesting,
        ),
        case(
            "deep-arrays.json",
            &format!(
                r#"{{"name": "w", "steps": {}{}}}"#,
                "[".repeat(deep),
                "]".repeat(deep)
            ),
            "line 1",
            nesting,
        ),
        case("deep-steps.yaml", &yaml, "line ", nesting),
        case(
            "deep-flow.yaml",
            &format!("name: w\nsteps: {}{}\n", "[".repeat(deep), "]".repeat(deep)),
            "line 2",
            nesting,
        ),
        case(
            "huge.json",
            &huge,
            "$",
            "larger than the limit of 10 MiB for a workflow document (limits.document_bytes in config.toml)",
        ),
    ]
}

#[test]
fn every_bad_document_is_refused_with_its_path_and_the_database_is_unchanged() {
    let env = TestEnv::new();
    env.run(&["agent", "add", "x", "--shell", "true"]).ok();
    env.run(&[
        "workflow",
        "create",
        repo_root()
            .join("examples/saas-launch.json")
            .to_str()
            .expect("utf-8"),
    ])
    .ok();
    let database = env.path("data/do.db");
    let before = dump_database(&database);
    let corpus = corpus();
    assert!(corpus.len() >= 40, "the corpus has {} cases", corpus.len());
    for case in corpus.iter().chain(&generated(&env)) {
        let file = case.file.to_str().expect("utf-8 path");
        for command in ["create", "validate"] {
            let run = env.run(&["workflow", command, file]);
            let what = format!("{} ({command})", case.name);
            assert_eq!(run.code, 2, "{what}: exit {}\n{}", run.code, run.stderr);
            assert!(run.stdout.is_empty(), "{what}: {}", run.stdout);
            assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
            assert!(
                run.stderr.contains(&case.message),
                "{what}: `{}` not in:\n{}",
                case.message,
                run.stderr
            );
            if case.path != "$" {
                assert!(
                    run.stderr.contains(&case.path),
                    "{what}: path `{}` not in:\n{}",
                    case.path,
                    run.stderr
                );
            }
        }
    }
    assert_eq!(dump_database(&database), before, "the database changed");
    env.run(&["daemon", "status"]).ok();
    let log = std::fs::read_to_string(env.path("data/daemon.log")).expect("daemon log");
    assert!(!log.contains("panicked"), "{log}");
}
