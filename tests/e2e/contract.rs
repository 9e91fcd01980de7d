//! Every answer the HTTP e2e tests receive is checked against `docs/openapi.json`: its status
//! must be one the operation documents, and its body must match that response's schema.

use crate::common::repo_root;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

fn openapi() -> &'static Value {
    static OPENAPI: OnceLock<Value> = OnceLock::new();
    OPENAPI.get_or_init(|| {
        let text = std::fs::read_to_string(repo_root().join("docs/openapi.json"))
            .expect("docs/openapi.json");
        serde_json::from_str(&text).expect("docs/openapi.json is JSON")
    })
}

/// A validator for one schema of the document, its `$ref`s resolved in the document.
fn validator(key: &str, schema: &Value) -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    cache
        .entry(key.to_owned())
        .or_insert_with(|| {
            let root = json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "components": openapi()["components"],
                "allOf": [schema],
            });
            Arc::new(
                jsonschema::validator_for(&root)
                    .unwrap_or_else(|e| panic!("{key}: not a valid schema: {e}")),
            )
        })
        .clone()
}

/// The document's path template that `path` (without its query) is an instance of; a
/// template with more fixed segments wins (`/agents/workflows/executions` over `…/{id}`).
fn template_of(path: &str) -> Option<&'static str> {
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').collect();
    openapi()["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .filter_map(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            let fits = parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| p == s || (p.starts_with('{') && !s.is_empty()));
            fits.then(|| {
                (
                    parts.iter().filter(|p| !p.starts_with('{')).count(),
                    template,
                )
            })
        })
        .max_by_key(|(fixed, _)| *fixed)
        .map(|(_, template)| template.as_str())
}

/// Panics unless the operation of `method path` documents `status` and `body` matches its
/// schema. An undocumented path or method must be answered with 404 or 405.
#[track_caller]
pub(crate) fn check(method: &str, path: &str, status: u16, body: &Value) {
    let method = method.to_ascii_lowercase();
    let operation = template_of(path).and_then(|t| openapi()["paths"][t].get(&method));
    let Some(operation) = operation else {
        assert!(
            status == 404 || status == 405 || status == 401,
            "{method} {path} is not in docs/openapi.json but answered {status}"
        );
        check_schema(
            "#/components/schemas/ErrorEnvelope",
            &json!({"$ref": "#/components/schemas/ErrorEnvelope"}),
            body,
        );
        return;
    };
    let id = operation["operationId"].as_str().expect("operationId");
    let response = operation["responses"]
        .get(status.to_string())
        .unwrap_or_else(|| panic!("{id} ({method} {path}) answered {status}, which docs/openapi.json does not list: {body}"));
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        !schema.is_null(),
        "{id} answered {status} with JSON, documented otherwise"
    );
    check_schema(&format!("{id} {status}"), schema, body);
}

/// Panics unless `data`, the `data:` of a Server-Sent Event, is an `EventEnvelope`.
#[track_caller]
pub(crate) fn check_event(data: &Value) {
    let schema = json!({"$ref": "#/components/schemas/EventEnvelope"});
    check_schema("EventEnvelope", &schema, data);
}

#[track_caller]
fn check_schema(key: &str, schema: &Value, body: &Value) {
    let validator = validator(key, schema);
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{key}: the body does not match docs/openapi.json: {errors:#?}\n{body}"
    );
}
