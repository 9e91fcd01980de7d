//! The validation rules of the Workflows API, tested through [`parse_document`]; one file per
//! group of rules.

mod error_handling;
mod fields;
mod references;
mod steps;

use super::*;
use crate::workflow::{Backoff, Branch, Inputs, Step, StepKind, Strategy};
use serde_json::json;

/// The body of the "Create Workflow" example of the Workflows API document, as
/// `examples/` keeps it verbatim.
const SAAS_EXAMPLE: &str = include_str!("../../../../../examples/saas-launch.json");

fn saas() -> Value {
    serde_json::from_str(SAAS_EXAMPLE).expect("the example is JSON")
}

fn ok(doc: &Value) -> Validated {
    match parse_document(doc) {
        Ok(validated) => validated,
        Err(errors) => panic!("unexpected errors: {errors:#?}"),
    }
}

fn expect_errors(doc: &Value) -> Vec<Diagnostic> {
    match parse_document(doc) {
        Ok(validated) => panic!("expected errors, got {:#?}", validated.document),
        Err(errors) => errors,
    }
}

fn one_error(doc: &Value) -> Diagnostic {
    let errors = expect_errors(doc);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.into_iter().next().expect("one error")
}

fn paths(diagnostics: &[Diagnostic]) -> Vec<&str> {
    diagnostics.iter().map(|d| d.path.as_str()).collect()
}

/// Builds an object without `json!`, which would copy (and recurse into) its values.
fn object(fields: Vec<(&str, Value)>) -> Value {
    Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn wf(steps: Value) -> Value {
    object(vec![("name", json!("test")), ("steps", steps)])
}

fn task(id: &str) -> Value {
    json!({"id": id, "agent": "amy", "task": "do it"})
}

fn task_io(id: &str, input: Value, output: &str) -> Value {
    json!({"id": id, "agent": "amy", "task": "do it", "input": input, "output": output})
}

/// Tears a value down without recursion, so that dropping a very deep one cannot overflow.
fn dismantle(value: Value) {
    let mut stack = vec![value];
    while let Some(mut value) = stack.pop() {
        match &mut value {
            Value::Array(items) => stack.append(items),
            Value::Object(fields) => {
                stack.extend(std::mem::take(fields).into_iter().map(|(_, v)| v));
            }
            _ => {}
        }
    }
}

/// A workflow whose one top-level step is `parallels` parallel steps nested in each other
/// around a task, built without recursion.
fn nested_parallels(parallels: usize) -> Value {
    let mut step = task("leaf");
    for level in (0..parallels).rev() {
        step = object(vec![
            ("id", json!(format!("p{level}"))),
            ("type", json!("parallel")),
            ("steps", Value::Array(vec![step])),
        ]);
    }
    wf(Value::Array(vec![step]))
}

// --- The API example -------------------------------------------------------------------

#[test]
fn saas_example_validates() {
    let validated = ok(&saas());
    assert!(validated.warnings.is_empty(), "{:#?}", validated.warnings);
    let doc = &validated.document;
    assert_eq!(doc.name, "SaaS Product Launch Workflow");
    assert_eq!(doc.steps.len(), 5);
    assert_eq!(doc.timeout, Some(604_800.0));
    let eh = doc.error_handling.as_ref().expect("errorHandling");
    assert_eq!(eh.strategy, Some(Strategy::Retry));
    assert_eq!(eh.max_retries, Some(3));
    assert_eq!(eh.escalate_on_failure, Some(true));
    let StepKind::Parallel(parallel) = &doc.steps[2].kind else {
        panic!("steps[2] is not parallel: {:?}", doc.steps[2]);
    };
    assert_eq!(parallel.steps.len(), 2);
    let StepKind::Task(backend) = &parallel.steps[0].kind else {
        panic!("a step without type must be a task");
    };
    assert_eq!(backend.input, Some(Inputs::One("strategy-doc".into())));
    let StepKind::Task(deploy) = &doc.steps[4].kind else {
        panic!("deploy is a task");
    };
    assert_eq!(
        deploy.input.as_ref().map(Inputs::names),
        Some(
            &[
                "backend-code".to_owned(),
                "frontend-code".into(),
                "test-results".into()
            ][..]
        )
    );
}

#[test]
fn saas_example_round_trips_with_types_filled_in() {
    let validated = ok(&saas());
    let mut expected = saas();
    for child in expected["steps"][2]["steps"]
        .as_array_mut()
        .expect("parallel steps")
    {
        child["type"] = json!("task");
    }
    // `timeout` is an f64.
    expected["timeout"] = json!(604_800.0);
    let actual = serde_json::to_value(&validated.document).expect("serializes");
    assert_eq!(actual, expected);
}

#[test]
fn saas_example_parses_from_text() {
    let validated = parse_document_str(SAAS_EXAMPLE).expect("valid");
    assert_eq!(validated.document.steps.len(), 5);
    let with_bom = format!("\u{feff}{SAAS_EXAMPLE}");
    assert!(parse_document_str(&with_bom).is_ok());
}

// --- Rule 1: the root ------------------------------------------------------------------

#[test]
fn root_must_be_an_object() {
    let error = one_error(&json!([1, 2]));
    assert_eq!(error.path, "");
    assert_eq!(
        error.message,
        "a workflow document must be a JSON object, found array"
    );
    assert_eq!(error.to_string(), error.message);
}

#[test]
fn name_is_a_required_non_empty_string() {
    let error = one_error(&json!({"steps": [task("a")]}));
    assert_eq!(
        (error.path.as_str(), error.message.as_str()),
        ("", "missing required field `name`")
    );
    let error = one_error(&json!({"name": "  ", "steps": [task("a")]}));
    assert_eq!(error.path, "name");
    assert!(error.message.contains("must not be empty"), "{error}");
    let error = one_error(&json!({"name": 3, "steps": [task("a")]}));
    assert_eq!(
        error.to_string(),
        "name: `name` must be a string, found number"
    );
}

#[test]
fn description_and_category_are_optional_strings() {
    let doc = json!({"name": "n", "description": "d", "category": "c", "steps": [task("a")]});
    let validated = ok(&doc);
    assert_eq!(validated.document.description.as_deref(), Some("d"));
    assert_eq!(validated.document.category.as_deref(), Some("c"));
    let doc = json!({"name": "n", "description": 1, "category": [], "steps": [task("a")]});
    let errors = expect_errors(&doc);
    assert_eq!(paths(&errors), ["description", "category"]);
    assert_eq!(
        errors[1].message,
        "`category` must be a string, found array"
    );
}

#[test]
fn steps_is_a_required_non_empty_array() {
    let error = one_error(&json!({"name": "n"}));
    assert_eq!(
        (error.path.as_str(), error.message.as_str()),
        ("", "missing required field `steps`")
    );
    let error = one_error(&json!({"name": "n", "steps": []}));
    assert_eq!(error.path, "steps");
    assert!(error.message.contains("at least one step"));
    let error = one_error(&json!({"name": "n", "steps": {"id": "a"}}));
    assert_eq!(error.path, "steps");
    assert!(error.message.contains("found object"));
}

#[test]
fn workflow_timeout_range() {
    for good in [json!(1), json!(0.5), json!(31_536_000), json!(604_800)] {
        let doc = json!({"name": "n", "steps": [task("a")], "timeout": good});
        assert!(parse_document(&doc).is_ok(), "{doc}");
    }
    for bad in [json!(0), json!(-5), json!(31_536_001), json!(1e300)] {
        let doc = json!({"name": "n", "steps": [task("a")], "timeout": bad});
        let error = one_error(&doc);
        assert_eq!(error.path, "timeout");
        assert!(error.message.starts_with("`timeout` must be"), "{error}");
        assert!(error.message.contains("greater than 0"), "{error}");
        assert!(error.message.contains("31536000"), "{error}");
    }
    let doc = json!({"name": "n", "steps": [task("a")], "timeout": "1h"});
    assert!(one_error(&doc).message.ends_with("found string"));
}

#[test]
fn workflow_error_handling_must_be_an_object() {
    let doc = json!({"name": "n", "steps": [task("a")], "errorHandling": "retry"});
    let error = one_error(&doc);
    assert_eq!(error.path, "errorHandling");
    assert_eq!(
        error.message,
        "`errorHandling` must be an object, found string"
    );
}

#[test]
fn null_optional_fields_are_absent() {
    let doc = json!({
        "name": "n", "description": null, "timeout": null,
        "steps": [{"id": null, "type": null, "agent": "a", "task": "t", "output": null}]
    });
    let validated = ok(&doc);
    assert_eq!(validated.document.description, None);
    assert_eq!(validated.document.steps[0].id, "step-1");
    assert!(matches!(
        validated.document.steps[0].kind,
        StepKind::Task(_)
    ));
}

// --- Rules 10 and 11: all errors at once, in document order -----------------------------

#[test]
fn all_errors_at_once_in_document_order() {
    let doc = json!({
        "name": "n",
        "timeout": -1,
        "steps": [
            {"id": "a", "type": "paralel", "steps": []},
            {"id": "b", "task": "t", "input": "nowhere"},
            task_io("c", json!(["b", "nowhere-either"]), "o")
        ]
    });
    let errors = expect_errors(&doc);
    assert_eq!(
        paths(&errors),
        [
            "steps[0].type",
            "steps[1]",
            "steps[1].input",
            "steps[2].input[1]",
            "timeout"
        ]
    );
}

#[test]
fn three_distinct_errors_yield_three_diagnostics() {
    let doc = json!({
        "name": "n",
        "steps": [
            {"id": "a", "agent": 3, "task": "t"},
            {"id": "b", "type": "parallel", "steps": [task_io("c", json!("later"), "x")]},
            task_io("d", json!([]), "later")
        ],
        "errorHandling": {"maxRetries": 1000}
    });
    let errors = expect_errors(&doc);
    assert_eq!(
        paths(&errors),
        [
            "steps[0].agent",
            "steps[1].steps[0].input",
            "errorHandling.maxRetries"
        ]
    );
    assert!(
        errors[1].message.contains("produced later by step `d`"),
        "{}",
        errors[1]
    );
}

#[test]
fn a_bad_type_does_not_cascade_into_reference_errors() {
    let doc = wf(json!([
        {"id": "p", "type": "paralell", "steps": [task_io("a", json!([]), "inner")]},
        task_io("b", json!(["inner", "p"]), "o")
    ]));
    assert_eq!(paths(&expect_errors(&doc)), ["steps[0].type"]);
}

// --- Text parsing -------------------------------------------------------------------------

#[test]
fn syntax_errors_are_located_by_line_and_column() {
    let errors = parse_document_str("{\n  \"name\": \"n\",\n  \"steps\": [,]\n}").expect_err("bad");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path, "line 3, column 13");
    assert_eq!(errors[0].message, "invalid JSON: expected value");
    assert_eq!(
        errors[0].to_string(),
        "line 3, column 13: invalid JSON: expected value"
    );
    let errors = parse_document_str("").expect_err("empty");
    assert!(
        errors[0].message.starts_with("invalid JSON: EOF"),
        "{}",
        errors[0]
    );
}

#[test]
fn text_is_validated_like_a_value() {
    let errors =
        parse_document_str(r#"{"name": "n", "steps": [{"agent": "a"}]}"#).expect_err("invalid");
    assert_eq!(errors[0].path, "steps[0]");
}

// --- Diagnostics ------------------------------------------------------------------------

#[test]
fn diagnostic_display_and_serde() {
    let diagnostic = Diagnostic {
        path: "steps[2].input".into(),
        message: "`strategy-docs` is not produced by any earlier step".into(),
    };
    assert_eq!(
        diagnostic.to_string(),
        "steps[2].input: `strategy-docs` is not produced by any earlier step"
    );
    let value = serde_json::to_value(&diagnostic).expect("serializes");
    assert_eq!(
        value,
        json!({"path": "steps[2].input", "message": diagnostic.message})
    );
    let root = Diagnostic {
        path: String::new(),
        message: "m".into(),
    };
    assert_eq!(root.to_string(), "m");
}
