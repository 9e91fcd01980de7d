//! The expression language, tested through [`parse`] and [`Expr::eval`]; one file per stage.

mod eval;
mod lexer;
mod parser;

use super::*;
use serde_json::json;

fn scope(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("scope must be an object"),
    }
}

fn eval_in(source: &str, scope_value: Value) -> Result<Value, EvalError> {
    let expr = parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    expr.eval(&scope(scope_value))
}

fn value(source: &str, scope_value: Value) -> Value {
    eval_in(source, scope_value).unwrap_or_else(|e| panic!("{source}: {e}"))
}

fn eval_error(source: &str, scope_value: Value) -> String {
    match eval_in(source, scope_value) {
        Ok(v) => panic!("{source}: expected an error, got {v}"),
        Err(e) => e.0,
    }
}

fn parse_error(source: &str) -> ParseError {
    match parse(source) {
        Ok(expr) => panic!("{source}: expected a parse error, got {expr:?}"),
        Err(e) => e,
    }
}

// --- The API's example ------------------------------------------------------------------

#[test]
fn the_api_condition() {
    let expr = parse("test-results.passed === true").expect("parses");
    assert_eq!(expr.names(), ["test-results"]);
    assert_eq!(expr.source(), "test-results.passed === true");
    let passed = scope(json!({"test-results": {"passed": true}}));
    assert_eq!(expr.eval(&passed), Ok(json!(true)));
    let failed = scope(json!({"test-results": {"passed": false}}));
    assert_eq!(expr.eval(&failed), Ok(json!(false)));
    assert_eq!(expr.eval(&Map::new()), Ok(json!(false)));
    let no_field = scope(json!({"test-results": {"other": 1}}));
    assert_eq!(expr.eval(&no_field), Ok(json!(false)));
}

// --- Helpers ------------------------------------------------------------------------------

#[test]
fn truthiness_is_javascripts() {
    for falsy in [
        json!(false),
        json!(null),
        json!(0),
        json!(0.0),
        json!(-0.0),
        json!(""),
    ] {
        assert!(!truthy(&falsy), "{falsy}");
    }
    for true_ish in [
        json!(true),
        json!(1),
        json!(-1.5),
        json!("0"),
        json!("false"),
        json!([]),
        json!({}),
    ] {
        assert!(truthy(&true_ish), "{true_ish}");
    }
}

#[test]
fn expressions_compare_and_clone() {
    let a = parse("x + 1").unwrap();
    assert_eq!(a.clone(), a);
    assert_ne!(parse("x + 2").unwrap(), a);
    assert_eq!(a.source(), "x + 1");
}
