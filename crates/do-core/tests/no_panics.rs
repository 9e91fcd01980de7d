//! Whatever text reaches the expression parser, the template parser or the document
//! validator, and whatever values the names hold, the answer is a value or an error: never a
//! panic.

use do_core::{expr, template, validate};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn scope() -> Map<String, Value> {
    let Value::Object(map) = json!({
        "test-results": {"passed": true, "count": 3, "names": ["a", "b"]},
        "input": {"productName": "CloudSync", "n": 0},
        "item": null,
        "text": "hello",
        "big": 1e308,
    }) else {
        unreachable!("an object literal")
    };
    map
}

/// Text built from the language's own tokens finds the parser's corners faster than noise.
fn tokens() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("test-results".to_owned()),
        Just("input".to_owned()),
        Just(".".to_owned()),
        Just("passed".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just(",".to_owned()),
        Just("'x'".to_owned()),
        Just("\"".to_owned()),
        Just("0".to_owned()),
        Just("-1.5".to_owned()),
        Just("big".to_owned()),
        Just("len".to_owned()),
        Just("contains".to_owned()),
        Just("upper".to_owned()),
        Just("{{".to_owned()),
        Just("}}".to_owned()),
        prop::sample::select(vec![
            "===", "!==", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "!", "+", "-", "*", "/",
            "%"
        ])
        .prop_map(str::to_owned),
        "[a-z]{1,3}",
        "\\PC{0,3}",
    ];
    prop::collection::vec(token, 0..24).prop_map(|t| t.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn expressions_never_panic(text in prop_oneof![tokens(), "\\PC{0,64}", any::<String>()]) {
        if let Ok(expression) = expr::parse(&text) {
            let _ = expression.eval(&scope());
            let _ = expression.names();
        }
    }

    #[test]
    fn templates_never_panic(text in prop_oneof![tokens(), any::<String>()]) {
        if let Ok(parsed) = template::parse(&text) {
            let _ = parsed.render(&scope());
        }
    }

    #[test]
    fn documents_never_panic(condition in tokens(), task in tokens(), input in tokens()) {
        let document = json!({"name": "p", "steps": [
            {"id": "a", "agent": "x", "task": task, "output": "test-results"},
            {"id": "c", "type": "conditional", "condition": condition,
             "then": {"id": "t", "agent": "x", "task": "t", "input": input}}
        ]});
        let _ = validate::parse_document(&document);
    }
}
