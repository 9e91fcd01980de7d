use crate::common::{TestEnv, repo_root};
use serde_json::json;

/// Each invalid document with the fragments its error must contain (JSON path first).
fn invalid_cases() -> Vec<(&'static str, String, Vec<&'static str>)> {
    vec![
        (
            "missing field",
            json!({"name": "w", "steps": [{"id": "a", "task": "t"}]}).to_string(),
            vec!["steps[0]", "missing required field `agent`"],
        ),
        (
            "missing name",
            json!({"steps": [{"id": "a", "agent": "x", "task": "t"}]}).to_string(),
            vec!["name"],
        ),
        (
            "unknown type",
            json!({"name": "w", "steps": [{"id": "a", "type": "paralel", "steps": []}]})
                .to_string(),
            vec!["steps[0].type", "paralel", "did you mean `parallel`"],
        ),
        (
            "duplicate id at depth",
            json!({"name": "w", "steps": [
                {"id": "a", "agent": "x", "task": "t"},
                {"id": "p", "type": "parallel", "steps": [{"id": "a", "agent": "x", "task": "t"}]}
            ]})
            .to_string(),
            vec!["steps[1].steps[0].id", "`a`"],
        ),
        (
            "unknown input",
            json!({"name": "w", "steps": [
                {"id": "a", "agent": "x", "task": "t", "output": "strategy-doc"},
                {"id": "b", "agent": "x", "task": "t", "input": "strategy-docs"}
            ]})
            .to_string(),
            vec![
                "steps[1].input",
                "strategy-docs",
                "did you mean `strategy-doc`",
            ],
        ),
        (
            "nested unknown input",
            json!({"name": "w", "steps": [
                {"id": "a", "agent": "x", "task": "t"},
                {"id": "p", "type": "parallel", "steps": [
                    {"id": "b", "agent": "x", "task": "t"},
                    {"id": "c", "agent": "x", "task": "t", "input": ["a", "nothing"]}
                ]}
            ]})
            .to_string(),
            vec!["steps[1].steps[1].input[1]", "nothing"],
        ),
        (
            "not JSON",
            "{\"name\": \"w\",\n \"steps\": [".to_owned(),
            vec!["not valid JSON", "line 2"],
        ),
    ]
}

#[test]
fn invalid_documents_exit_2_with_the_json_path_and_store_nothing() {
    let env = TestEnv::new();
    env.run(&["agent", "add", "x", "--shell", "true"]).ok();
    for (name, document, fragments) in invalid_cases() {
        let file = env.file("bad.json", &document);
        let file = file.to_str().expect("utf-8");
        for command in ["create", "validate"] {
            let run = env.run(&["workflow", command, file]);
            assert_eq!(run.code, 2, "{name} ({command}): {}", run.stderr);
            for fragment in &fragments {
                assert!(
                    run.stderr.contains(fragment),
                    "{name} ({command}): `{fragment}` not in:\n{}",
                    run.stderr
                );
            }
            assert!(run.stdout.is_empty(), "{name}: {}", run.stdout);
        }
        let run = env.run_stdin(&["workflow", "create", "-"], &document);
        assert_eq!(run.code, 2, "{name} (stdin): {}", run.stderr);
    }
    assert_eq!(
        env.json(&["workflow", "list"]),
        json!([]),
        "nothing was stored"
    );
}

#[test]
fn all_errors_are_reported_at_once() {
    let env = TestEnv::new();
    let document = json!({"name": "w", "steps": [
        {"id": "a", "task": "t"},
        {"id": "b", "type": "nope"},
        {"id": "a", "agent": "x", "task": "t", "input": "missing"}
    ]});
    let file = env.file("bad.json", &document.to_string());
    let run = env.run(&["workflow", "validate", file.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2);
    for path in ["steps[0]", "steps[1].type", "steps[2].id", "steps[2].input"] {
        assert!(
            run.stderr.contains(path),
            "`{path}` not in:\n{}",
            run.stderr
        );
    }
}

#[test]
fn valid_documents_validate_and_create_from_stdin() {
    let env = TestEnv::new();
    let example = repo_root().join("examples/saas-launch.json");
    // A running daemon knows the agents; `validate` starts none itself.
    env.run(&["daemon", "start"]).ok();
    let run = env.run(&["workflow", "validate", example.to_str().expect("utf-8")]);
    assert!(run.ok().contains("valid workflow"), "{}", run.stdout);
    assert!(
        run.stderr.contains("agent `mira` is not registered"),
        "unknown agents warn: {}",
        run.stderr
    );
    assert_eq!(
        env.json(&["workflow", "list"]),
        json!([]),
        "validate stores nothing"
    );

    let text = std::fs::read_to_string(&example).expect("example");
    let created = env
        .run_stdin(&["--json", "workflow", "create", "-"], &text)
        .json();
    assert_eq!(created["name"], "SaaS Product Launch Workflow");
    assert_eq!(created["steps"].as_array().map(Vec::len), Some(5));
    assert_eq!(created["errorHandling"]["maxRetries"], 3);
    assert_eq!(created["timeout"], 604800.0);
    let shown = env.json(&[
        "workflow",
        "show",
        created["workflowId"].as_str().expect("id"),
    ]);
    assert_eq!(shown["steps"], created["steps"]);
    let table = env.run(&[
        "workflow",
        "show",
        created["workflowId"].as_str().expect("id"),
    ]);
    assert!(
        table.ok().contains("parallel-development"),
        "{}",
        table.stdout
    );
}

#[test]
fn workflow_list_filters_and_pages() {
    let env = TestEnv::new();
    for (name, category) in [("one", "ops"), ("two", "dev"), ("three", "ops")] {
        env.create(&json!({"name": name, "category": category, "steps": [{"id": "a", "agent": "x", "task": "t"}]}));
    }
    let names = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["workflow", "list"];
        all.extend_from_slice(args);
        env.json(&all)
            .as_array()
            .expect("list")
            .iter()
            .map(|w| w["name"].as_str().expect("name").to_owned())
            .collect()
    };
    assert_eq!(names(&[]), ["three", "two", "one"]);
    assert_eq!(names(&["--category", "ops"]), ["three", "one"]);
    assert_eq!(names(&["--limit", "1", "--offset", "1"]), ["two"]);
    assert_eq!(names(&["--status", "draft"]).len(), 3);
    assert!(names(&["--status", "active"]).is_empty());
    let run = env.run(&["workflow", "list", "--status", "bogus"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("draft"), "{}", run.stderr);
}

#[test]
fn yaml_and_json_forms_of_the_example_create_identical_workflows() {
    let env = TestEnv::new();
    let json_file = repo_root().join("examples/saas-launch.json");
    let yaml_file = repo_root().join("examples/saas-launch.yaml");
    let from_json = env.json(&["workflow", "create", json_file.to_str().expect("utf-8")]);
    let from_yaml = env.json(&["workflow", "create", yaml_file.to_str().expect("utf-8")]);
    for field in ["name", "description", "steps", "errorHandling", "timeout"] {
        assert_eq!(from_json[field], from_yaml[field], "{field}");
    }
    let yaml = std::fs::read_to_string(&yaml_file).expect("yaml");
    let from_stdin = env
        .run_stdin(&["--json", "workflow", "create", "-"], &yaml)
        .json();
    assert_eq!(from_stdin["steps"], from_json["steps"]);
    let bad = env.file("bad.yaml", "name: w\nsteps:\n  - id: a\n   agent: x\n");
    let run = env.run(&["workflow", "validate", bad.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not valid YAML") && run.stderr.contains("line 4"),
        "{}",
        run.stderr
    );
}
