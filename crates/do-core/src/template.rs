//! Templates: text with `{{ expr }}` placeholders (`DESIGN.md`, "Step semantics"), such as a
//! task's `Market research for {{ input.productName }}`.
//!
//! Text outside placeholders is literal (a lone `{`, `}` or `}}` included); there is no escape
//! for a literal `{{`. A placeholder ends at the first `}}` that is not inside a string, so
//! `{{ '}}' }}` is the text `}}`. Rendering inserts strings raw and every other value as compact
//! JSON (`null`, `3`, `{"a":[1,2]}`).

use crate::expr::{self, EvalError, Expr, ParseError, Scope};
use std::collections::HashSet;

/// A parsed template: literal text and expressions, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Placeholder(Expr),
}

/// Parses `{{ expr }}` placeholders. Text outside placeholders is literal; `{{` without a
/// closing `}}` is a ParseError (column of the `{{`); an expression's ParseError column is
/// reported relative to the whole template text.
pub fn parse(text: &str) -> Result<Template, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut pos = 0;
    while let Some(&c) = chars.get(pos) {
        if c != '{' || chars.get(pos + 1) != Some(&'{') {
            literal.push(c);
            pos += 1;
            continue;
        }
        let start = pos + 2;
        let Some(end) = closing(&chars, start) else {
            return Err(ParseError {
                column: pos + 1,
                message: "unclosed `{{`: no `}}` ends this placeholder".to_owned(),
            });
        };
        let source: String = chars.get(start..end).unwrap_or_default().iter().collect();
        let expr = expr::parse_at(&source, start)?;
        if !literal.is_empty() {
            parts.push(Part::Text(std::mem::take(&mut literal)));
        }
        parts.push(Part::Placeholder(expr));
        pos = end + 2;
    }
    if !literal.is_empty() {
        parts.push(Part::Text(literal));
    }
    Ok(Template { parts })
}

/// Returns where the placeholder whose expression starts at `start` ends: the first `}}` outside
/// a string or, when a string is left open, simply the first `}}` (so that parsing the expression
/// reports the unterminated string).
fn closing(chars: &[char], start: usize) -> Option<usize> {
    let is_close = |i: usize| chars.get(i) == Some(&'}') && chars.get(i + 1) == Some(&'}');
    let mut quote: Option<char> = None;
    let mut i = start;
    while let Some(&c) = chars.get(i) {
        match quote {
            Some(_) if c == '\\' => i += 1,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if is_close(i) => return Some(i),
            None => {}
        }
        i += 1;
    }
    (start..chars.len()).find(|&i| is_close(i))
}

impl Template {
    /// Strings are inserted raw, other values as compact JSON (null as `null`).
    pub fn render(&self, scope: &dyn Scope) -> Result<String, EvalError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Placeholder(expr) => match expr.eval(scope)? {
                    serde_json::Value::String(s) => out.push_str(&s),
                    other => expr::write_json(&other, &mut out, None),
                },
            }
        }
        Ok(out)
    }

    /// Root names the placeholders read (each once, in order of appearance).
    pub fn names(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        let mut names = Vec::new();
        for part in &self.parts {
            if let Part::Placeholder(expr) = part {
                for name in expr.names() {
                    if seen.insert(name.clone()) {
                        names.push(name);
                    }
                }
            }
        }
        names
    }

    /// Whether the text has any `{{ … }}` (a template without is its text, verbatim).
    pub fn has_placeholders(&self) -> bool {
        self.parts
            .iter()
            .any(|part| matches!(part, Part::Placeholder(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value, json};

    fn scope(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("scope must be an object"),
        }
    }

    fn render(text: &str, values: Value) -> String {
        let template = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        template
            .render(&scope(values))
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn parse_error(text: &str) -> ParseError {
        match parse(text) {
            Ok(template) => panic!("{text}: expected an error, got {template:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn the_api_example_renders_a_raw_string() {
        let text = "Market research for {{ input.productName }}";
        let template = parse(text).expect("parses");
        assert!(template.has_placeholders());
        assert_eq!(template.names(), ["input"]);
        let values = json!({"input": {"productName": "Widget \"Pro\""}});
        assert_eq!(
            template.render(&scope(values)),
            Ok("Market research for Widget \"Pro\"".to_owned())
        );
        // A missing field renders as `null`.
        assert_eq!(render(text, json!({})), "Market research for null");
    }

    #[test]
    fn other_values_render_as_compact_json() {
        let values = json!({"n": 3, "f": 2.5, "t": true, "z": null,
                            "o": {"a": [1, 2], "s": "x\ny"}, "xs": ["a", "b"]});
        assert_eq!(render("{{n}}", values.clone()), "3");
        assert_eq!(render("{{ f }}", values.clone()), "2.5");
        assert_eq!(render("{{ t }}", values.clone()), "true");
        assert_eq!(render("{{ z }}", values.clone()), "null");
        assert_eq!(render("{{ missing }}", values.clone()), "null");
        assert_eq!(
            render("{{ o }}", values.clone()),
            r#"{"a":[1,2],"s":"x\ny"}"#
        );
        assert_eq!(render("{{ xs }}", values.clone()), r#"["a","b"]"#);
        assert_eq!(render("{{ xs[1] }}", values.clone()), "b");
        assert_eq!(render("{{ o.s }}", values.clone()), "x\ny");
        assert_eq!(render("{{ n * 2 + 1 }}", values.clone()), "7");
        assert_eq!(render("{{ 'n=' + n }}", values), "n=3");
    }

    #[test]
    fn multiple_placeholders() {
        let values = json!({"a": "A", "b": 2, "input": {"who": "you"}});
        assert_eq!(
            render("{{a}}{{b}}-{{ a }}!{{input.who}}", values.clone()),
            "A2-A!you"
        );
        let text = "Hello {{ input.who }},\nsee {{ a }} and {{ b }} ({{ len(a) + b }}).";
        let template = parse(text).expect("parses");
        assert_eq!(template.names(), ["input", "a", "b"]);
        assert_eq!(
            template.render(&scope(values)),
            Ok("Hello you,\nsee A and 2 (3).".to_owned())
        );
    }

    #[test]
    fn text_without_placeholders_is_verbatim() {
        for text in [
            "",
            "plain text",
            "{ single } braces",
            "a } } b }} c",
            "{",
            "}}",
            "{ {",
            "日本語 🌍",
        ] {
            let template = parse(text).expect("parses");
            assert!(!template.has_placeholders(), "{text}");
            assert!(template.names().is_empty());
            assert_eq!(template.render(&Map::new()), Ok(text.to_owned()));
        }
    }

    #[test]
    fn braces_inside_strings_do_not_close_a_placeholder() {
        assert_eq!(render("{{ '}}' }}", json!({})), "}}");
        assert_eq!(render("<{{ \"}}\" + x }}>", json!({"x": 1})), "<}}1>");
        assert_eq!(render("{{ 'it\\'s }}' }}", json!({})), "it's }}");
        assert_eq!(render("{{ x }}}", json!({"x": 1})), "1}");
    }

    #[test]
    fn an_unclosed_placeholder_is_an_error_at_its_braces() {
        let error = parse_error("Hello {{ name");
        assert_eq!(error.column, 7);
        assert_eq!(
            error.message,
            "unclosed `{{`: no `}}` ends this placeholder"
        );
        assert_eq!(
            error.to_string(),
            "unclosed `{{`: no `}}` ends this placeholder (column 7)"
        );
        assert_eq!(parse_error("{{").column, 1);
        assert_eq!(parse_error("ok {{ a }} then {{ b }").column, 17);
        assert_eq!(parse_error("é {{ x } }").column, 3);
    }

    #[test]
    fn expression_errors_are_located_in_the_whole_text() {
        let error = parse_error("Hi {{ a === }}");
        assert_eq!(error.column, 13);
        assert_eq!(
            error.message,
            "expected a value after `===`, found the end of the expression"
        );
        let error = parse_error("x {{ (a }}");
        assert_eq!(error.column, 9);
        assert_eq!(
            error.message,
            "expected `)` to close `(` opened at column 6, found the end of the expression"
        );
        let error = parse_error("{{ 'abc }}");
        assert_eq!(error.column, 4);
        assert!(error.message.starts_with("unterminated string"), "{error}");
        let error = parse_error("ab {{ }}");
        assert_eq!(
            (error.column, error.message.as_str()),
            (6, "empty expression")
        );
        let error = parse_error("line one\n{{ foo(x) }}");
        assert_eq!(error.column, 13);
        assert!(
            error.message.starts_with("unknown function `foo`"),
            "{error}"
        );
        let error = parse_error("日本 {{ a @ }}");
        assert_eq!(error.column, 9);
    }

    #[test]
    fn render_errors_quote_the_placeholder() {
        let template = parse("Total: {{ x * 2 }}").expect("parses");
        let error = template
            .render(&scope(json!({"x": "abc"})))
            .expect_err("type error");
        assert_eq!(error.0, "cannot apply `*` to \"abc\" (a string) in `x * 2`");
    }

    #[test]
    fn deep_values_render() {
        // As deep as serde_json parses (a deeper `Value` overflows the stack when cloned or
        // dropped, before a template sees it).
        let mut deep = json!(1);
        for _ in 0..120 {
            deep = Value::Array(vec![deep]);
        }
        let template = parse("{{ d }}").expect("parses");
        let text = template.render(&scope(json!({"d": deep})));
        assert_eq!(text.map(|t| t.len()), Ok(241));
    }

    #[test]
    fn garbage_never_panics() {
        let values = scope(json!({"a": 1, "s": "x"}));
        for text in [
            "{{",
            "}}",
            "{{{",
            "}}}",
            "{{}}",
            "{{{{}}}}",
            "{{ { }}",
            "{{ ' }}",
            "{{ \" }}",
            "{{ '\\",
            "{{ a }}{{",
            "{{a}}}}",
            "{{ 'é' }}🌍{{ s }}",
            "{{\n}}",
            "{{ ( }}",
            "{{ [ }}",
            "{{ ) }}",
            "{{ len( }}",
            "{{ a- }}",
            "{{ '}}' ",
            "x{{y}}z{{",
        ] {
            if let Ok(template) = parse(text) {
                let _ = template.render(&values);
                let _ = template.names();
            }
        }
    }
}
