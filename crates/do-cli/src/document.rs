//! Reading a workflow document (JSON or YAML) into a JSON value, refusing what a plain
//! `serde_json::Value` would let through unnoticed: a key given twice in one object, of which
//! only the last would count.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Objects and arrays nest at most this deep in a document: serde_json's and serde_norway's
/// recursion limit, which keeps a hostile document from overflowing the stack.
pub(crate) const MAX_NESTING: usize = 128;

/// A JSON value whose objects have no duplicate keys.
pub(crate) struct Strict(pub(crate) Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Strict, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Strict::deserialize(deserializer).map(|strict| strict.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "duplicate key `{key}`: each key may appear once in an object"
                )));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// A parser's message made plain: its recursion limit explained.
pub(crate) fn explain(message: &str) -> String {
    if message.starts_with("recursion limit exceeded") {
        format!(
            "objects and arrays are nested more than {MAX_NESTING} levels deep; \
             a workflow needs far fewer, so flatten the document"
        )
    } else if message.starts_with("repetition limit exceeded") {
        "its aliases (`*name`) expand to too many values; write the values out instead".to_owned()
    } else {
        message.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_validation_error_names_each_field_by_its_json_path() {
        let document = r#"{"name": "v", "steps": [
            {"id": "a", "type": "task", "agent": "x", "task": "t", "output": "o"},
            {"id": "a", "type": "task", "task": "t", "input": "missing"},
            {"id": "p", "type": "parallel", "steps": []}
        ]}"#;
        let errors = do_core::validate::parse_document_str(document).expect_err("invalid");
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        insta::assert_snapshot!(shown.join("\n"));
    }

    #[test]
    fn duplicate_keys_are_refused_in_json_and_yaml() {
        let error = serde_json::from_str::<Strict>("{\"a\": {\"b\": 1, \"b\": 2}}")
            .err()
            .expect("refused");
        assert!(error.to_string().contains("duplicate key `b`"), "{error}");
        let error = serde_norway::from_str::<Strict>("a: 1\na: 2\n")
            .err()
            .expect("refused");
        assert!(error.to_string().contains("duplicate key `a`"), "{error}");
    }

    #[test]
    fn values_read_as_serde_json_reads_them() {
        let text = r#"{"s": "x", "n": [1, -2, 2.5, null, true], "o": {}}"#;
        let Strict(value) = serde_json::from_str(text).expect("parses");
        assert_eq!(
            value,
            json!({"s": "x", "n": [1, -2, 2.5, null, true], "o": {}})
        );
        let Strict(value) =
            serde_norway::from_str("s: x\nn: [1, -2, 2.5, ~, true]\n").expect("parses");
        assert_eq!(value, json!({"s": "x", "n": [1, -2, 2.5, null, true]}));
    }

    #[test]
    fn deep_documents_are_refused_with_a_plain_message() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let error = serde_json::from_str::<Strict>(&deep)
            .err()
            .expect("refused");
        assert!(explain(&error.to_string()).contains("nested more than 128 levels"));
        let error = serde_norway::from_str::<Strict>(&deep)
            .err()
            .expect("refused");
        assert!(explain(&error.to_string()).contains("nested more than 128 levels"));
    }
}
