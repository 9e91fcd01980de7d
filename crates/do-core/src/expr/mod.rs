//! The expression language of conditions, loop `items` and template placeholders
//! (`DESIGN.md`, "Expressions").
//!
//! It is JavaScript-like, safe and side-effect free:
//!
//! - literals: numbers (`3`, `2.5`), strings in `'…'` or `"…"` (escapes `\\ \' \" \n \t \r`),
//!   `true`, `false`, `null`, arrays (`[1, 'a', x]`);
//! - names (`research-data`, `input`, `item`, `index`), resolved by a [`Scope`]; an unknown name
//!   is `null`;
//! - access: `.field` and `[index]`; a missing field, an index out of range or an access on
//!   anything that is not a container is `null`, never an error;
//! - operators, tightest first: `!` and unary `-`; `* / %`; `+ -`; `< <= > >=`;
//!   `== != === !==`; `&&`; `||`; and parentheses;
//! - functions: `len`, `contains`, `startsWith`, `lower`, `upper`.
//!
//! A name starts with a letter or `_` and goes on with letters, digits and `_`, and with a `-`
//! that is followed by a letter or a digit: `test-results.passed` is the name `test-results`,
//! and so is `a-1` a name. Subtraction needs a space before the `-` (`a - 1`, or `a -1`).
//!
//! Where it differs from JavaScript: `==` and `===` both mean deep JSON equality (numbers compare
//! numerically, `1 == 1.0`, but `'1' == 1` is false); arithmetic needs numbers, comparisons two
//! numbers or two strings (by code point), and `+` adds numbers or joins strings (a string and a
//! number join like in JavaScript, `'a' + 1` is `"a1"`); anything else, and a division by zero,
//! is an [`EvalError`] that quotes the expression and the offending value. Integers stay JSON
//! integers when both operands are integers and the result is integral (`6 / 3` is `2`, `7 / 2`
//! is `3.5`).
//!
//! Parentheses, brackets and calls nest at most 64 levels deep; operator chains and
//! access paths are stored flat, so neither a deep nor a long expression can overflow the stack.

use ast::Node;
use eval::Evaluator;
use lexer::{Lexer, Tok};
use parser::Parser;
use serde_json::{Map, Value};
use std::collections::HashSet;
pub(crate) use value::write_json;

mod ast;
mod eval;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;
mod value;

/// How deep parentheses, brackets and function calls may nest.
const MAX_NESTING: usize = 64;

/// How many characters of an expression an error message quotes.
const MAX_QUOTED_SOURCE: usize = 100;

/// How many characters of a value an error message quotes.
const MAX_QUOTED_VALUE: usize = 64;

/// How many characters of a token a parse error quotes.
const MAX_QUOTED_TOKEN: usize = 32;

/// Where names come from when evaluating: outputs, step ids, `input`, `item`, `index`.
pub trait Scope {
    /// Returns the value of a root name (`research-data`, `input`, `item`, `index`), or None when
    /// unknown.
    fn lookup(&self, name: &str) -> Option<Value>;
}

impl Scope for Map<String, Value> {
    fn lookup(&self, name: &str) -> Option<Value> {
        self.get(name).cloned()
    }
}

/// A parsed expression: its syntax tree and the text it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    source: String,
    root: Node,
    names: Vec<String>,
}

/// Why a text is not an expression, and where (1-based, in characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (column {column})")]
pub struct ParseError {
    pub column: usize,
    pub message: String,
}

/// Why an expression could not be evaluated (a type error, a division by zero).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

/// Parses an expression.
pub fn parse(source: &str) -> Result<Expr, ParseError> {
    parse_at(source, 0)
}

/// Parses an expression that starts after `offset` characters of a larger text (a template):
/// every column, including those quoted in messages, counts from the start of that text.
pub(crate) fn parse_at(source: &str, offset: usize) -> Result<Expr, ParseError> {
    let mut lexer = Lexer {
        chars: source.chars().collect(),
        pos: 0,
        offset,
    };
    let first = lexer.next_token()?;
    if first.tok == Tok::End {
        return Err(ParseError {
            column: offset + 1,
            message: "empty expression".to_owned(),
        });
    }
    let mut parser = Parser {
        lexer,
        current: first,
        last_punct: None,
        depth: 0,
        names: Vec::new(),
        seen: HashSet::new(),
    };
    let root = parser.expression()?;
    if parser.current.tok != Tok::End {
        let token = &parser.current;
        let message = match token.tok {
            Tok::Punct(closer @ (")" | "]")) => {
                let opener = if closer == ")" { "(" } else { "[" };
                format!("unexpected `{closer}` with no matching `{opener}`")
            }
            _ => format!(
                "unexpected {}; expected an operator or the end of the expression",
                parser.lexer.describe(token)
            ),
        };
        return Err(parser.lexer.error_at(token.start, message));
    }
    Ok(Expr {
        source: source.to_owned(),
        root,
        names: parser.names,
    })
}

impl Expr {
    /// Evaluates the expression against `scope`.
    pub fn eval(&self, scope: &dyn Scope) -> Result<Value, EvalError> {
        Evaluator {
            scope,
            source: &self.source,
        }
        .eval(&self.root)
    }

    /// Root names the expression reads (each once, in order of appearance), e.g.
    /// `["test-results", "input"]`; function names are not included.
    pub fn names(&self) -> Vec<String> {
        self.names.clone()
    }

    /// The text the expression was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// JavaScript truthiness: false, null, 0, NaN, "" are false; everything else (including [] and
/// {}) true.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}
