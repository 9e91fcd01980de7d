//! `do workflow schema`: the JSON Schema of workflow documents, checked in for editors.

use crate::common::{TestEnv, repo_root};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// `docs/workflow.schema.json` is what `do workflow schema` prints; regenerate it with
/// `DO_UPDATE_SCHEMA=1 cargo test -p do-cli --test e2e schema`.
#[test]
fn the_schema_in_the_repository_is_up_to_date() {
    let env = TestEnv::new();
    let generated = env.run(&["workflow", "schema"]).ok().to_owned();
    let path = repo_root().join("docs/workflow.schema.json");
    if std::env::var_os("DO_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("write the schema");
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == generated,
        "docs/workflow.schema.json is stale; run with DO_UPDATE_SCHEMA=1"
    );
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("docs/workflow.schema.json")).expect("schema"),
    )
    .expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

fn documents_in(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            documents_in(&path, found);
        } else if path
            .extension()
            .is_some_and(|e| e == "json" || e == "yaml" || e == "yml")
        {
            found.push(path);
        }
    }
}

#[test]
fn the_schema_accepts_every_example() {
    let validator = validator();
    let mut files = Vec::new();
    documents_in(&repo_root().join("examples"), &mut files);
    assert!(files.len() >= 2, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let document: Value = if file.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).expect("JSON")
        } else {
            serde_norway::from_str(&text).expect("YAML")
        };
        let errors: Vec<String> = validator
            .iter_errors(&document)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
}

/// On documents that are right or wrong in shape, the schema and `do`'s validator agree.
/// (What only a whole document can tell — an `input` naming no earlier output, a duplicate
/// id, an expression that does not parse — is left to `do workflow validate`.)
#[test]
fn the_schema_and_the_validator_agree_on_shapes() {
    let validator = validator();
    let task = json!({"agent": "a", "task": "t"});
    let wf = |steps: Value| json!({"name": "w", "steps": steps});
    let valid = [
        wf(json!([task])),
        json!({"name": "w", "description": null, "category": null, "timeout": null,
               "errorHandling": null, "steps": [{"id": "a", "type": null, "agent": "a",
               "task": "", "input": null, "output": null, "timeout": null, "errorHandling": null}]}),
        json!({"name": "w", "owner": "unknown fields are ignored", "steps": [task]}),
        wf(json!([
            {"id": "first", "agent": "a", "task": "t", "output": "facts"},
            {"type": "parallel", "maxConcurrency": 2, "steps": [
                {"agent": "a", "task": "t", "input": "facts"},
                {"type": "team", "teamId": "eng", "task": "t", "input": ["facts", "input.x"]}]},
            {"type": "conditional", "condition": "facts.ok === true",
             "then": {"agent": "a", "task": "t"}, "else": [task, task]},
            {"type": "loop", "items": "input.rows", "maxConcurrency": 3, "output": "all",
             "step": {"agent": "a", "task": "{{ item }}"}},
            {"agent": "a", "task": "t", "timeout": 0.5, "errorHandling": {
                "strategy": "fallback", "maxRetries": 100, "backoff": "linear",
                "initialDelay": 0, "maxDelay": 2.5, "jitter": true, "escalateOnFailure": false,
                "notifyOnError": true, "fallback": {"agent": "b", "task": "t"}}}
        ])),
        json!({"name": "w", "timeout": 31_536_000, "errorHandling": {"strategy": "continue"},
               "steps": [task]}),
    ];
    let invalid = [
        json!({"name": "w"}),
        json!({"name": "", "steps": [task]}),
        json!({"name": "w", "steps": []}),
        json!({"name": "w", "steps": [task], "timeout": 0}),
        wf(json!([{"type": "paralel", "steps": [task]}])),
        wf(json!([{"task": "t"}])),
        wf(json!([{"type": "parallel"}])),
        wf(json!([{"type": "parallel", "steps": [task], "maxConcurrency": 0}])),
        wf(json!([{"type": "conditional", "condition": "true", "then": []}])),
        wf(json!([{"type": "loop", "items": "input.xs", "step": [task]}])),
        wf(json!([{"type": "team", "task": "t"}])),
        wf(json!([{"agent": "a", "task": "t", "output": "two words"}])),
        wf(json!([{"id": 7, "agent": "a", "task": "t"}])),
        wf(json!([{"agent": "a", "task": "t", "errorHandling": {"maxRetries": 101}}])),
        wf(json!([{"agent": "a", "task": "t", "errorHandling": {"strategy": "sometimes"}}])),
        wf(json!([{"agent": "a", "task": "t", "input": 3}])),
        wf(json!(["not a step"])),
    ];
    for document in &valid {
        let parsed = do_core::validate::parse_document(document);
        assert!(
            parsed.is_ok(),
            "the validator refuses {document}: {parsed:?}"
        );
        let errors: Vec<String> = validator
            .iter_errors(document)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "the schema refuses {document}: {errors:#?}"
        );
    }
    for document in &invalid {
        assert!(
            do_core::validate::parse_document(document).is_err(),
            "the validator accepts {document}"
        );
        assert!(
            !validator.is_valid(document),
            "the schema accepts {document}"
        );
    }
}
