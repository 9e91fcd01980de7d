//! The expression language and `{{ }}` templates against a fixed scope of inputs and step
//! outputs: any text parses to an expression that evaluates to a value or an error, never a
//! panic, and likewise renders as a template (verbatim when it has no placeholder).

#![no_main]

use do_core::{expr, template};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use std::sync::LazyLock;

/// Names of every kind a condition, a loop's `items` or a task's template may read: the
/// execution's `input`, step outputs of every JSON type, and a loop's `item` and `index`.
static SCOPE: LazyLock<Map<String, Value>> = LazyLock::new(|| {
    let Value::Object(map) = json!({
        "input": {"productName": "CloudSync", "n": 0, "tags": ["a", "b"], "nested": {"x": [1, {"y": null}]}},
        "test-results": {"passed": true, "count": 3, "ratio": 0.5, "names": ["a", "b"]},
        "research-data": "market is large",
        "strategy-doc": {"title": "Plan", "sections": []},
        "item": {"name": "eu-west", "weight": -2.5},
        "index": 7,
        "empty": "",
        "none": null,
        "big": 1e308,
        "tiny": -1e-308,
        "max": 9223372036854775807_i64,
        "min": -9223372036854775808_i64,
        "umax": 18446744073709551615_u64,
        "unicode": "é\u{0}\u{10ffff}",
    }) else {
        unreachable!("an object literal")
    };
    map
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(expression) = expr::parse(text) {
        let _ = expression.names();
        if let Ok(value) = expression.eval(&*SCOPE) {
            let _ = expr::truthy(&value);
        }
    }
    if let Ok(parsed) = template::parse(text) {
        let _ = parsed.names();
        let rendered = parsed.render(&*SCOPE);
        // A task without placeholders is handed to its agent exactly as written.
        if !parsed.has_placeholders() {
            assert_eq!(
                rendered.as_deref(),
                Ok(text),
                "a template without placeholders"
            );
        }
    }
});
