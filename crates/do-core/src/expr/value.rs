//! JSON values as expressions see them: deep equality with numeric comparison, JavaScript's
//! number formatting, and bounded, non-recursive writing for messages.

use super::MAX_QUOTED_VALUE;
use serde_json::{Number, Value};

/// Deep JSON equality where numbers compare numerically (`1 == 1.0`). Iterative, so a deeply
/// nested value cannot overflow the stack.
pub(super) fn json_eq(a: &Value, b: &Value) -> bool {
    let mut pending = vec![(a, b)];
    while let Some((a, b)) = pending.pop() {
        match (a, b) {
            (Value::Null, Value::Null) => {}
            (Value::Bool(x), Value::Bool(y)) if x == y => {}
            (Value::String(x), Value::String(y)) if x == y => {}
            (Value::Number(x), Value::Number(y)) if number_eq(x, y) => {}
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                pending.extend(x.iter().zip(y));
            }
            (Value::Object(x), Value::Object(y)) if x.len() == y.len() => {
                for (key, value) in x {
                    match y.get(key) {
                        Some(other) => pending.push((value, other)),
                        None => return false,
                    }
                }
            }
            _ => return false,
        }
    }
    true
}

/// Numeric equality: exact between integers, as floats otherwise (`1 == 1.0`).
pub(super) fn number_eq(x: &Number, y: &Number) -> bool {
    if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
        return x == y;
    }
    x.as_f64() == y.as_f64()
}

/// How JavaScript writes a number in a string: `1`, `2.5`, and `2` for `2.0`.
pub(super) fn js_number(n: &Number) -> String {
    match n.as_f64() {
        Some(f) if !(n.is_i64() || n.is_u64()) => {
            if f == 0.0 {
                "0".to_owned()
            } else {
                // Rust writes integral floats without `.0`, like JavaScript.
                f.to_string()
            }
        }
        _ => n.to_string(),
    }
}

/// Returns how messages show a value: `"abc" (a string)`, `[1,2] (an array)`, `null`.
pub(super) fn describe(value: &Value) -> String {
    let kind = match value {
        Value::Null => return "null".to_owned(),
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    let mut preview = String::new();
    write_json(value, &mut preview, Some(MAX_QUOTED_VALUE));
    format!("{preview} ({kind})")
}

/// Appends `value` to `out` as compact JSON, iteratively (a deeply nested value cannot overflow
/// the stack). With a `limit`, stops after about that many characters and appends `…`.
pub(crate) fn write_json(value: &Value, out: &mut String, limit: Option<usize>) {
    enum Frame<'v> {
        Array(std::slice::Iter<'v, Value>, bool),
        Object(serde_json::map::Iter<'v>, bool),
    }
    let start = out.len();
    let over = |out: &String| limit.is_some_and(|limit| out.len() - start > limit * 4);
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut next = Some(value);
    loop {
        if let Some(value) = next.take() {
            match value {
                Value::Null => out.push_str("null"),
                Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                Value::Number(n) => out.push_str(&n.to_string()),
                Value::String(s) => write_json_string(s, out),
                Value::Array(items) => {
                    out.push('[');
                    stack.push(Frame::Array(items.iter(), true));
                }
                Value::Object(map) => {
                    out.push('{');
                    stack.push(Frame::Object(map.iter(), true));
                }
            }
        }
        if over(out) {
            break;
        }
        let Some(frame) = stack.last_mut() else {
            break;
        };
        match frame {
            Frame::Array(items, first) => match items.next() {
                Some(item) => {
                    if !std::mem::take(first) {
                        out.push(',');
                    }
                    next = Some(item);
                }
                None => {
                    out.push(']');
                    stack.pop();
                }
            },
            Frame::Object(entries, first) => match entries.next() {
                Some((key, item)) => {
                    if !std::mem::take(first) {
                        out.push(',');
                    }
                    write_json_string(key, out);
                    out.push(':');
                    next = Some(item);
                }
                None => {
                    out.push('}');
                    stack.pop();
                }
            },
        }
    }
    if let Some(limit) = limit {
        let written = out.get(start..).unwrap_or_default();
        if let Some((cut, _)) = written.char_indices().nth(limit) {
            out.truncate(start + cut);
            out.push('…');
        }
    }
}

pub(super) fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deep_values_are_compared_and_written_without_recursion() {
        let mut a = json!(1);
        let mut b = json!(1.0);
        for _ in 0..100_000 {
            a = Value::Array(vec![a]);
            b = Value::Array(vec![b]);
        }
        assert!(json_eq(&a, &b));
        let mut out = String::new();
        write_json(&a, &mut out, None);
        assert_eq!(out.len(), 200_001);
        let mut short = String::new();
        write_json(&a, &mut short, Some(10));
        assert_eq!(short, format!("{}…", "[".repeat(10)));
        // Dismantle iteratively: dropping a deep `Value` recurses.
        for mut v in [a, b] {
            while let Value::Array(mut items) = v {
                v = items.pop().unwrap_or(Value::Null);
            }
        }
    }

    #[test]
    fn write_json_matches_serde_json() {
        let values = [
            json!(null),
            json!({"a": [1, 2.5, "x\"y\\z\n\u{1}\u{7f}é"], "b": {}, "c": [], "d": true}),
            json!([[], [[]], {"": null}]),
            json!(-0.0),
        ];
        for value in values {
            let mut out = String::new();
            write_json(&value, &mut out, None);
            assert_eq!(out, value.to_string());
        }
    }
}
