//! Validation of raw workflow documents.
//!
//! [`parse_document`] checks a raw JSON document against the rules of the Workflows API and of
//! `DESIGN.md` ("Step semantics"), reports every problem at once with its JSON path
//! (`steps[2].steps[1].input`), and on success returns the normalized, typed document: every
//! step has its `type` (a step without one is a `task`) and an `id` (`step-N` when the author
//! left it out).
//!
//! The walk works on a copy of the tree that holds only what was validated, so user data is
//! never cloned or recursed into beyond [`MAX_STEP_DEPTH`] levels of steps, and no input makes
//! it panic or overflow the stack.

pub use crate::suggest::did_you_mean;
use crate::workflow::{STEP_TYPES, WorkflowDocument};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::fmt;
use walk::Validator;

mod assemble;
mod fields;
mod refs;
mod schema;
#[cfg(test)]
mod tests;
mod walk;

/// How deep steps may be nested (a top-level step is at level 1).
pub const MAX_STEP_DEPTH: usize = 64;

/// The largest `timeout` a workflow or a step may have, in seconds (one year).
pub const MAX_TIMEOUT_SECONDS: f64 = 31_536_000.0;

/// The largest `maxRetries` of an `errorHandling`.
pub const MAX_RETRIES: u64 = 100;

/// The longest id or output name, in characters.
const MAX_NAME_LEN: usize = 128;

/// How many characters of a user-supplied string a message quotes.
const MAX_QUOTED: usize = 64;

/// One problem with a document, located by its JSON path (`steps[2].steps[1].input`; `` (empty)
/// for the root).
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Diagnostic {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for Diagnostic {}

/// A document that passed validation, with what is worth telling its author anyway.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    pub document: WorkflowDocument,
    pub warnings: Vec<Diagnostic>,
}

/// Parses and validates a raw JSON document, reporting every error at once.
pub fn parse_document(value: &Value) -> Result<Validated, Vec<Diagnostic>> {
    let mut validator = Validator::default();
    validator.workflow(value);
    validator.assign_generated_ids();
    validator.check_references();
    if !validator.errors.is_empty() {
        // Reference errors are found after the walk; each carries the tick of its field.
        validator.errors.sort_by_key(|(tick, _)| *tick);
        return Err(validator.errors.into_iter().map(|(_, d)| d).collect());
    }
    let normalized = validator.assemble();
    match serde_json::from_value::<WorkflowDocument>(normalized) {
        Ok(document) => Ok(Validated {
            document,
            warnings: validator.warnings,
        }),
        Err(err) => Err(vec![Diagnostic {
            path: String::new(),
            message: format!(
                "internal error: the validated document does not fit the workflow types: {err}"
            ),
        }]),
    }
}

/// Same as [`parse_document`], from text; a JSON syntax error is one [`Diagnostic`] whose path
/// is `line L, column C`.
pub fn parse_document_str(text: &str) -> Result<Validated, Vec<Diagnostic>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match serde_json::from_str::<Value>(text) {
        Ok(value) => parse_document(&value),
        Err(err) => Err(vec![syntax_diagnostic(&err)]),
    }
}

/// Turns a serde_json error into a diagnostic located by line and column.
fn syntax_diagnostic(err: &serde_json::Error) -> Diagnostic {
    let (line, column) = (err.line(), err.column());
    let full = err.to_string();
    let suffix = format!(" at line {line} column {column}");
    let bare = full.strip_suffix(&suffix).unwrap_or(&full);
    let message = if bare.starts_with("recursion limit exceeded") {
        "the document is nested too deeply: JSON text may nest arrays and objects at most 128 \
         levels deep"
            .to_owned()
    } else {
        format!("invalid JSON: {bare}")
    };
    Diagnostic {
        path: format!("line {line}, column {column}"),
        message,
    }
}

/// Returns a field's value, treating `null` as absent.
fn get<'v>(obj: &'v Map<String, Value>, field: &str) -> Option<&'v Value> {
    obj.get(field).filter(|value| !value.is_null())
}

/// Returns the JSON type of a value, as messages name it.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Returns the path of a field of the object at `path`.
fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

/// Shortens a user-supplied string for a message.
fn show(text: &str) -> String {
    if text.chars().count() <= MAX_QUOTED {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(MAX_QUOTED).collect();
        short.push('…');
        short
    }
}

/// Appends ` (did you mean `x`?)` when a candidate is close.
fn suggest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match did_you_mean(wanted, candidates) {
        Some(candidate) => format!(" (did you mean `{}`?)", show(candidate)),
        None => String::new(),
    }
}

/// Returns whether `name` is a valid step id or output name:
/// `^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`.
fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    first.is_ascii_alphanumeric()
        && name.len() <= MAX_NAME_LEN
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

const NAME_RULE: &str =
    "1 to 128 letters, digits, `_`, `.` or `-`, starting with a letter or digit";

/// Returns whether a loop's `items` is a plain name to check now rather than an expression to
/// check later (anything with spaces, operators, brackets or parentheses is an expression).
fn is_plain_items(items: &str) -> bool {
    is_valid_name(items)
        || items
            .strip_prefix("input.")
            .is_some_and(|key| !key.is_empty() && !key.contains(is_expression_char))
}

fn is_expression_char(c: char) -> bool {
    c.is_whitespace() || "()[]{}!=<>&|+*/%?:,'\"`".contains(c)
}
