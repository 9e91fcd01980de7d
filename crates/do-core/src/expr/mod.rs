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

use crate::suggest::did_you_mean;
use serde_json::{Map, Number, Value};
use std::cmp::Ordering;
use std::collections::HashSet;

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

// ---------------------------------------------------------------------------------------------
// Syntax tree
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Literal(Value),
    /// A root name, looked up in the scope.
    Name(String),
    Array(Vec<Node>),
    /// A value followed by one or more `.field` or `[index]`.
    Path {
        root: Box<Node>,
        access: Vec<Access>,
    },
    Call {
        func: Func,
        args: Vec<Node>,
    },
    /// Prefix operators, outermost first.
    Unary {
        ops: Vec<UnaryOp>,
        operand: Box<Node>,
    },
    /// Operators of one precedence level, applied left to right.
    Chain {
        first: Box<Node>,
        rest: Vec<(BinOp, Node)>,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Access {
    Field(String),
    Index(Node),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnaryOp {
    Not,
    Neg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    StrictEq,
    StrictNe,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::StrictEq => "===",
            BinOp::StrictNe => "!==",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}

/// Binary operators by precedence level, loosest first.
const LEVELS: [&[BinOp]; 6] = [
    &[BinOp::Or],
    &[BinOp::And],
    &[BinOp::Eq, BinOp::Ne, BinOp::StrictEq, BinOp::StrictNe],
    &[BinOp::Lt, BinOp::Le, BinOp::Gt, BinOp::Ge],
    &[BinOp::Add, BinOp::Sub],
    &[BinOp::Mul, BinOp::Div, BinOp::Rem],
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Len,
    Contains,
    StartsWith,
    Lower,
    Upper,
}

impl Func {
    const ALL: [Func; 5] = [
        Func::Len,
        Func::Contains,
        Func::StartsWith,
        Func::Lower,
        Func::Upper,
    ];

    fn name(self) -> &'static str {
        match self {
            Func::Len => "len",
            Func::Contains => "contains",
            Func::StartsWith => "startsWith",
            Func::Lower => "lower",
            Func::Upper => "upper",
        }
    }

    fn params(self) -> &'static [&'static str] {
        match self {
            Func::Len => &["value"],
            Func::Contains => &["haystack", "needle"],
            Func::StartsWith => &["string", "prefix"],
            Func::Lower | Func::Upper => &["string"],
        }
    }

    fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|func| func.name() == name)
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Number(Number),
    Str(String),
    /// A name, including `true`, `false` and `null` (which are names after a `.`).
    Name(String),
    Punct(&'static str),
    End,
}

#[derive(Debug, Clone, PartialEq)]
struct Token {
    tok: Tok,
    /// Character positions in the expression, `end` exclusive.
    start: usize,
    end: usize,
}

/// Longest first, so that `===` is not read as `==` then `=`.
const PUNCTUATION: &[&str] = &[
    "===", "!==", "==", "!=", "<=", ">=", "&&", "||", "(", ")", "[", "]", ",", ".", "!", "<", ">",
    "+", "-", "*", "/", "%",
];

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    /// Characters before the expression in the text columns count from.
    offset: usize,
}

impl Lexer {
    fn column(&self, pos: usize) -> usize {
        self.offset + pos + 1
    }

    fn error_at(&self, pos: usize, message: String) -> ParseError {
        ParseError {
            column: self.column(pos),
            message,
        }
    }

    fn at(&self, pos: usize) -> Option<char> {
        self.chars.get(pos).copied()
    }

    fn text(&self, start: usize, end: usize) -> String {
        self.chars
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .collect()
    }

    /// Returns how messages name a token: `` `===` ``, or "the end of the expression".
    fn describe(&self, token: &Token) -> String {
        if token.tok == Tok::End {
            return "the end of the expression".to_owned();
        }
        let mut text = self.text(token.start, token.end.min(token.start + MAX_QUOTED_TOKEN));
        if token.end - token.start > MAX_QUOTED_TOKEN {
            text.push('…');
        }
        format!("`{text}`")
    }

    /// Reads the name that starts at the current position.
    fn name_end(&self, mut pos: usize) -> usize {
        loop {
            match self.at(pos) {
                Some(c) if is_name_char(c) => pos += 1,
                Some('-') if self.at(pos + 1).is_some_and(|c| c.is_ascii_alphanumeric()) => {
                    pos += 2;
                }
                _ => return pos,
            }
        }
    }

    fn next_token(&mut self) -> Result<Token, ParseError> {
        while self.at(self.pos).is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(c) = self.at(start) else {
            return Ok(Token {
                tok: Tok::End,
                start,
                end: start,
            });
        };
        let tok = if is_name_start(c) {
            self.pos = self.name_end(start);
            Tok::Name(self.text(start, self.pos))
        } else if c.is_ascii_digit() {
            self.number(start)?
        } else if c == '\'' || c == '"' {
            self.string(start, c)?
        } else if let Some(punct) = PUNCTUATION.iter().find(|p| {
            p.chars()
                .enumerate()
                .all(|(i, pc)| self.at(start + i) == Some(pc))
        }) {
            self.pos += punct.chars().count();
            Tok::Punct(punct)
        } else {
            let message = match c {
                '=' => "unexpected `=`; use `===` (or `==`) to compare".to_owned(),
                '&' => "unexpected `&`; use `&&` for \"and\"".to_owned(),
                '|' => "unexpected `|`; use `||` for \"or\"".to_owned(),
                _ => format!("unexpected character `{}`", c.escape_debug()),
            };
            return Err(self.error_at(start, message));
        };
        Ok(Token {
            tok,
            start,
            end: self.pos,
        })
    }

    fn number(&mut self, start: usize) -> Result<Tok, ParseError> {
        let mut pos = start;
        while self.at(pos).is_some_and(|c| c.is_ascii_digit()) {
            pos += 1;
        }
        let mut decimal = false;
        if self.at(pos) == Some('.') && self.at(pos + 1).is_some_and(|c| c.is_ascii_digit()) {
            decimal = true;
            pos += 1;
            while self.at(pos).is_some_and(|c| c.is_ascii_digit()) {
                pos += 1;
            }
        }
        if self.at(pos).is_some_and(is_name_char) {
            let end = self.name_end(pos);
            return Err(self.error_at(
                start,
                format!(
                    "invalid number `{}`; a name must start with a letter or `_`",
                    self.text(start, end)
                ),
            ));
        }
        self.pos = pos;
        let text = self.text(start, pos);
        let integer = if decimal {
            None
        } else {
            text.parse::<i64>().ok().map(Number::from)
        };
        let number = integer.or_else(|| text.parse::<f64>().ok().and_then(Number::from_f64));
        number
            .map(Tok::Number)
            .ok_or_else(|| self.error_at(start, format!("number `{text}` is too large")))
    }

    fn string(&mut self, start: usize, quote: char) -> Result<Tok, ParseError> {
        let mut pos = start + 1;
        let mut value = String::new();
        let unterminated = |lexer: &Lexer| {
            lexer.error_at(
                start,
                format!("unterminated string: no closing `{quote}` after this one"),
            )
        };
        loop {
            match self.at(pos) {
                None => return Err(unterminated(self)),
                Some(c) if c == quote => break,
                Some('\\') => {
                    let escaped = match self.at(pos + 1) {
                        None => return Err(unterminated(self)),
                        Some('\\') => '\\',
                        Some('\'') => '\'',
                        Some('"') => '"',
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some('r') => '\r',
                        Some(other) => {
                            return Err(self.error_at(
                                pos,
                                format!(
                                    "unknown escape `\\{}` in a string; the escapes are \
                                     \\\\ \\' \\\" \\n \\t \\r",
                                    other.escape_debug()
                                ),
                            ));
                        }
                    };
                    value.push(escaped);
                    pos += 2;
                }
                Some(c) => {
                    value.push(c);
                    pos += 1;
                }
            }
        }
        self.pos = pos + 1;
        Ok(Tok::Str(value))
    }
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

struct Parser {
    lexer: Lexer,
    current: Token,
    /// The punctuation just consumed, for "expected a value after `===`".
    last_punct: Option<&'static str>,
    /// How many parentheses, brackets and calls enclose the current position.
    depth: usize,
    names: Vec<String>,
    seen: HashSet<String>,
}

impl Parser {
    /// Moves to the next token and returns the one that was current.
    fn advance(&mut self) -> Result<Token, ParseError> {
        let next = self.lexer.next_token()?;
        let token = std::mem::replace(&mut self.current, next);
        self.last_punct = match token.tok {
            Tok::Punct(p) => Some(p),
            _ => None,
        };
        Ok(token)
    }

    fn is_punct(&self, punct: &str) -> bool {
        matches!(self.current.tok, Tok::Punct(p) if p == punct)
    }

    fn error_here(&self, message: String) -> ParseError {
        self.lexer.error_at(self.current.start, message)
    }

    /// Enters a parenthesis, bracket or call that opens at `start`.
    fn enter(&mut self, start: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.lexer.error_at(
                start,
                format!(
                    "the expression is nested too deeply: parentheses, brackets and calls may \
                     nest at most {MAX_NESTING} levels"
                ),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Consumes `punct`, or fails with `expected`, followed by what was found instead.
    fn expect(&mut self, punct: &str, expected: String) -> Result<(), ParseError> {
        if self.is_punct(punct) {
            self.advance()?;
            Ok(())
        } else {
            let found = self.lexer.describe(&self.current);
            Err(self.error_here(format!("{expected}, found {found}")))
        }
    }

    fn expression(&mut self) -> Result<Node, ParseError> {
        self.level(0)
    }

    /// Parses operators of precedence `level` and tighter.
    fn level(&mut self, level: usize) -> Result<Node, ParseError> {
        let Some(ops) = LEVELS.get(level) else {
            return self.unary();
        };
        let first = self.level(level + 1)?;
        let mut rest = Vec::new();
        loop {
            let op = match self.current.tok {
                Tok::Punct(p) => ops.iter().copied().find(|op| op.symbol() == p),
                _ => None,
            };
            let Some(op) = op else { break };
            self.advance()?;
            rest.push((op, self.level(level + 1)?));
        }
        Ok(if rest.is_empty() {
            first
        } else {
            Node::Chain {
                first: Box::new(first),
                rest,
            }
        })
    }

    fn unary(&mut self) -> Result<Node, ParseError> {
        let mut ops = Vec::new();
        loop {
            let op = match self.current.tok {
                Tok::Punct("!") => UnaryOp::Not,
                Tok::Punct("-") => UnaryOp::Neg,
                _ => break,
            };
            ops.push(op);
            self.advance()?;
        }
        let operand = self.postfix()?;
        Ok(if ops.is_empty() {
            operand
        } else {
            Node::Unary {
                ops,
                operand: Box::new(operand),
            }
        })
    }

    fn postfix(&mut self) -> Result<Node, ParseError> {
        let root = self.primary()?;
        let mut access = Vec::new();
        loop {
            if self.is_punct(".") {
                self.advance()?;
                if let Tok::Name(_) = self.current.tok {
                    if let Tok::Name(field) = self.advance()?.tok {
                        access.push(Access::Field(field));
                    }
                } else {
                    let found = self.lexer.describe(&self.current);
                    return Err(
                        self.error_here(format!("expected a field name after `.`, found {found}"))
                    );
                }
            } else if self.is_punct("[") {
                let open = self.current.start;
                self.enter(open)?;
                self.advance()?;
                let index = self.expression()?;
                let column = self.lexer.column(open);
                self.expect(
                    "]",
                    format!("expected `]` to close `[` opened at column {column}"),
                )?;
                self.leave();
                access.push(Access::Index(index));
            } else {
                break;
            }
        }
        Ok(if access.is_empty() {
            root
        } else {
            Node::Path {
                root: Box::new(root),
                access,
            }
        })
    }

    fn expected_value(&self) -> ParseError {
        let found = self.lexer.describe(&self.current);
        let after = match self.last_punct {
            Some(p) if p != ")" && p != "]" => format!(" after `{p}`"),
            _ => String::new(),
        };
        let message = if self.current.tok == Tok::End {
            format!("expected a value{after}, found {found}")
        } else {
            format!("unexpected {found}; expected a value{after}")
        };
        self.error_here(message)
    }

    fn primary(&mut self) -> Result<Node, ParseError> {
        let starts_value = matches!(
            self.current.tok,
            Tok::Number(_) | Tok::Str(_) | Tok::Name(_) | Tok::Punct("(" | "[")
        );
        if !starts_value {
            return Err(self.expected_value());
        }
        let token = self.advance()?;
        match token.tok {
            Tok::Number(n) => Ok(Node::Literal(Value::Number(n))),
            Tok::Str(s) => Ok(Node::Literal(Value::String(s))),
            Tok::Name(name) => match name.as_str() {
                "true" => Ok(Node::Literal(Value::Bool(true))),
                "false" => Ok(Node::Literal(Value::Bool(false))),
                "null" => Ok(Node::Literal(Value::Null)),
                _ if self.is_punct("(") => self.call(&name, token.start),
                _ => {
                    if !self.seen.contains(&name) {
                        self.seen.insert(name.clone());
                        self.names.push(name.clone());
                    }
                    Ok(Node::Name(name))
                }
            },
            Tok::Punct("(") => {
                self.enter(token.start)?;
                let inner = self.expression()?;
                let column = self.lexer.column(token.start);
                self.expect(
                    ")",
                    format!("expected `)` to close `(` opened at column {column}"),
                )?;
                self.leave();
                Ok(inner)
            }
            Tok::Punct("[") => {
                self.enter(token.start)?;
                let items = self.list("]", token.start)?;
                self.leave();
                Ok(Node::Array(items))
            }
            // Excluded by `starts_value`.
            _ => Err(self
                .lexer
                .error_at(token.start, "expected a value".to_owned())),
        }
    }

    /// Parses comma-separated expressions up to `closer` (the opener, at `open`, is consumed); a
    /// trailing comma is allowed.
    fn list(&mut self, closer: &str, open: usize) -> Result<Vec<Node>, ParseError> {
        let opener = if closer == ")" { "(" } else { "[" };
        let column = self.lexer.column(open);
        let mut items = Vec::new();
        loop {
            if self.is_punct(closer) {
                self.advance()?;
                return Ok(items);
            }
            items.push(self.expression()?);
            if self.is_punct(",") {
                self.advance()?;
            } else {
                self.expect(
                    closer,
                    format!(
                        "expected `,` or `{closer}` to close `{opener}` opened at column {column}"
                    ),
                )?;
                return Ok(items);
            }
        }
    }

    /// Parses a call of `name` (at `start`), whose `(` is the current token.
    fn call(&mut self, name: &str, start: usize) -> Result<Node, ParseError> {
        let Some(func) = Func::from_name(name) else {
            let names = Func::ALL.map(Func::name);
            let hint = match did_you_mean(name, names) {
                Some(candidate) => format!(" (did you mean `{candidate}`?)"),
                None => String::new(),
            };
            let shown = self.lexer.describe(&Token {
                tok: Tok::Name(String::new()),
                start,
                end: start + name.chars().count(),
            });
            return Err(self.lexer.error_at(
                start,
                format!(
                    "unknown function {shown}{hint}; available: {}",
                    names.join(", ")
                ),
            ));
        };
        let open = self.current.start;
        self.enter(open)?;
        self.advance()?;
        let args = self.list(")", open)?;
        self.leave();
        let params = func.params();
        if args.len() != params.len() {
            let count = params.len();
            let plural = if count == 1 { "" } else { "s" };
            return Err(self.lexer.error_at(
                start,
                format!(
                    "`{}` takes {count} argument{plural} ({}), got {}",
                    func.name(),
                    params.join(", "),
                    args.len()
                ),
            ));
        }
        Ok(Node::Call { func, args })
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

struct Evaluator<'a> {
    scope: &'a dyn Scope,
    source: &'a str,
}

#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn of(value: &Value) -> Option<Num> {
        let Value::Number(n) = value else {
            return None;
        };
        match n.as_i64() {
            Some(i) => Some(Num::Int(i)),
            None => n.as_f64().map(Num::Float),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

impl Evaluator<'_> {
    /// An error about this expression: the message, then "in `source`".
    fn fail(&self, message: impl std::fmt::Display) -> EvalError {
        let source = self.source.trim();
        let mut shown: String = source.chars().take(MAX_QUOTED_SOURCE).collect();
        if source.chars().nth(MAX_QUOTED_SOURCE).is_some() {
            shown.push('…');
        }
        EvalError(format!("{message} in `{shown}`"))
    }

    fn eval(&self, node: &Node) -> Result<Value, EvalError> {
        match node {
            Node::Literal(value) => Ok(value.clone()),
            Node::Name(name) => Ok(self.scope.lookup(name).unwrap_or(Value::Null)),
            Node::Array(items) => items
                .iter()
                .map(|item| self.eval(item))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Node::Path { root, access } => {
                let mut value = self.eval(root)?;
                for step in access {
                    value = match step {
                        Access::Field(field) => field_of(value, field),
                        Access::Index(index) => {
                            let index = self.eval(index)?;
                            index_of(value, &index)
                        }
                    };
                }
                Ok(value)
            }
            Node::Call { func, args } => {
                let args = args
                    .iter()
                    .map(|arg| self.eval(arg))
                    .collect::<Result<Vec<_>, _>>()?;
                self.call(*func, &args)
            }
            Node::Unary { ops, operand } => {
                let mut value = self.eval(operand)?;
                for op in ops.iter().rev() {
                    value = match op {
                        UnaryOp::Not => Value::Bool(!truthy(&value)),
                        UnaryOp::Neg => match Num::of(&value) {
                            Some(Num::Int(i)) if i != 0 && i != i64::MIN => Value::from(-i),
                            Some(Num::Int(0)) => Value::from(0),
                            Some(n) => self.number(-n.as_f64(), "-")?,
                            None => {
                                return Err(self.fail(format_args!(
                                    "cannot apply `-` to {}",
                                    describe(&value)
                                )));
                            }
                        },
                    };
                }
                Ok(value)
            }
            Node::Chain { first, rest } => {
                let mut acc = self.eval(first)?;
                for (op, rhs) in rest {
                    acc = match op {
                        BinOp::And if !truthy(&acc) => acc,
                        BinOp::Or if truthy(&acc) => acc,
                        BinOp::And | BinOp::Or => self.eval(rhs)?,
                        _ => {
                            let rhs = self.eval(rhs)?;
                            self.binary(*op, acc, rhs)?
                        }
                    };
                }
                Ok(acc)
            }
        }
    }

    fn binary(&self, op: BinOp, a: Value, b: Value) -> Result<Value, EvalError> {
        match op {
            BinOp::Eq | BinOp::StrictEq => Ok(Value::Bool(json_eq(&a, &b))),
            BinOp::Ne | BinOp::StrictNe => Ok(Value::Bool(!json_eq(&a, &b))),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let ordering = match (&a, &b) {
                    (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
                    _ => match (Num::of(&a), Num::of(&b)) {
                        (Some(Num::Int(x)), Some(Num::Int(y))) => Some(x.cmp(&y)),
                        (Some(x), Some(y)) => x.as_f64().partial_cmp(&y.as_f64()),
                        _ => {
                            return Err(self.fail(format_args!(
                                "cannot compare {} with {} using `{}`; both sides must be numbers \
                                 or both strings",
                                describe(&a),
                                describe(&b),
                                op.symbol()
                            )));
                        }
                    },
                };
                let result = ordering.is_some_and(|ordering| match op {
                    BinOp::Lt => ordering == Ordering::Less,
                    BinOp::Le => ordering != Ordering::Greater,
                    BinOp::Gt => ordering == Ordering::Greater,
                    _ => ordering != Ordering::Less,
                });
                Ok(Value::Bool(result))
            }
            BinOp::Add => match (a, b) {
                (Value::String(mut x), Value::String(y)) => {
                    x.push_str(&y);
                    Ok(Value::String(x))
                }
                (Value::String(mut x), Value::Number(n)) => {
                    x.push_str(&js_number(&n));
                    Ok(Value::String(x))
                }
                (Value::Number(n), Value::String(y)) => {
                    let mut x = js_number(&n);
                    x.push_str(&y);
                    Ok(Value::String(x))
                }
                (a, b) => match (Num::of(&a), Num::of(&b)) {
                    (Some(x), Some(y)) => self.arithmetic(op, x, y),
                    _ => {
                        let culprit = if matches!(a, Value::String(_) | Value::Number(_)) {
                            &b
                        } else {
                            &a
                        };
                        Err(self.fail(format_args!(
                            "cannot apply `+` to {} (`+` adds numbers or joins strings)",
                            describe(culprit)
                        )))
                    }
                },
            },
            BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem | BinOp::And | BinOp::Or => {
                match (Num::of(&a), Num::of(&b)) {
                    (Some(x), Some(y)) => self.arithmetic(op, x, y),
                    (None, _) => Err(self.fail(format_args!(
                        "cannot apply `{}` to {}",
                        op.symbol(),
                        describe(&a)
                    ))),
                    (_, None) => Err(self.fail(format_args!(
                        "cannot apply `{}` to {}",
                        op.symbol(),
                        describe(&b)
                    ))),
                }
            }
        }
    }

    fn arithmetic(&self, op: BinOp, a: Num, b: Num) -> Result<Value, EvalError> {
        let divides = matches!(op, BinOp::Div | BinOp::Rem);
        if divides && b.as_f64() == 0.0 {
            return Err(self.fail(format_args!("division by zero (`{}`)", op.symbol())));
        }
        if let (Num::Int(x), Num::Int(y)) = (a, b) {
            let exact = match op {
                BinOp::Add => x.checked_add(y),
                BinOp::Sub => x.checked_sub(y),
                BinOp::Mul => x.checked_mul(y),
                BinOp::Div if x.checked_rem(y) == Some(0) => x.checked_div(y),
                BinOp::Rem => x.checked_rem(y),
                _ => None,
            };
            if let Some(result) = exact {
                return Ok(Value::from(result));
            }
        }
        let (x, y) = (a.as_f64(), b.as_f64());
        let result = match op {
            BinOp::Add => x + y,
            BinOp::Sub => x - y,
            BinOp::Mul => x * y,
            BinOp::Div => x / y,
            _ => x % y,
        };
        let integers = matches!((a, b), (Num::Int(_), Num::Int(_)));
        if integers && result.fract() == 0.0 && result.abs() < 9.0e15 {
            return Ok(Value::from(result as i64));
        }
        self.number(result, op.symbol())
    }

    /// A JSON number from a float result, which must be finite.
    fn number(&self, value: f64, symbol: &str) -> Result<Value, EvalError> {
        Number::from_f64(value).map(Value::Number).ok_or_else(|| {
            self.fail(format_args!(
                "the result of `{symbol}` is too large for a number"
            ))
        })
    }

    fn call(&self, func: Func, args: &[Value]) -> Result<Value, EvalError> {
        let name = func.name();
        let result = match (func, args) {
            (Func::Len, [Value::String(s)]) => Value::from(s.chars().count()),
            (Func::Len, [Value::Array(a)]) => Value::from(a.len()),
            (Func::Len, [Value::Object(o)]) => Value::from(o.len()),
            (Func::Len, [other]) => {
                return Err(self.fail(format_args!(
                    "`len` expects a string, an array or an object, got {}",
                    describe(other)
                )));
            }
            (Func::Contains, [Value::String(h), Value::String(n)]) => {
                Value::Bool(h.contains(n.as_str()))
            }
            (Func::Contains, [Value::Array(h), needle]) => {
                Value::Bool(h.iter().any(|item| json_eq(item, needle)))
            }
            (Func::Contains, [Value::Object(h), Value::String(key)]) => {
                Value::Bool(h.contains_key(key))
            }
            (Func::Contains, [Value::String(_), other]) => {
                return Err(self.fail(format_args!(
                    "`contains` looks for a string in a string, got {}",
                    describe(other)
                )));
            }
            (Func::Contains, [Value::Object(_), other]) => {
                return Err(self.fail(format_args!(
                    "`contains` looks for a key (a string) in an object, got {}",
                    describe(other)
                )));
            }
            (Func::Contains, [other, _]) => {
                return Err(self.fail(format_args!(
                    "`contains` looks in a string, an array or an object, got {}",
                    describe(other)
                )));
            }
            (Func::StartsWith, [Value::String(s), Value::String(prefix)]) => {
                Value::Bool(s.starts_with(prefix.as_str()))
            }
            (Func::StartsWith, [Value::String(_), other]) => {
                return Err(self.fail(format_args!(
                    "`startsWith` expects a string prefix, got {}",
                    describe(other)
                )));
            }
            (Func::StartsWith, [other, _]) | (Func::Lower | Func::Upper, [other])
                if !other.is_string() =>
            {
                return Err(self.fail(format_args!(
                    "`{name}` expects a string, got {}",
                    describe(other)
                )));
            }
            (Func::Lower, [Value::String(s)]) => Value::String(s.to_lowercase()),
            (Func::Upper, [Value::String(s)]) => Value::String(s.to_uppercase()),
            // The parser checks arity.
            _ => {
                return Err(self.fail(format_args!(
                    "`{name}` takes {} arguments, got {}",
                    func.params().len(),
                    args.len()
                )));
            }
        };
        Ok(result)
    }
}

/// `value.field`: `null` unless `value` is an object with that field.
fn field_of(value: Value, field: &str) -> Value {
    match value {
        Value::Object(mut map) => map.remove(field).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// `value[index]`: an array element by a non-negative integral number, or an object field by a
/// string; `null` otherwise.
fn index_of(value: Value, index: &Value) -> Value {
    match (value, index) {
        (Value::Array(mut items), Value::Number(n)) => {
            let position = match n.as_u64() {
                Some(i) => usize::try_from(i).ok(),
                // An integral float (`1.0`) is an index too.
                None => match n.as_f64() {
                    Some(f) if f >= 0.0 && f.fract() == 0.0 && f < 9.0e15 => {
                        usize::try_from(f as u64).ok()
                    }
                    _ => None,
                },
            };
            match position {
                Some(i) if i < items.len() => items.swap_remove(i),
                _ => Value::Null,
            }
        }
        (Value::Object(mut map), Value::String(key)) => map.remove(key).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// Deep JSON equality where numbers compare numerically (`1 == 1.0`). Iterative, so a deeply
/// nested value cannot overflow the stack.
fn json_eq(a: &Value, b: &Value) -> bool {
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
fn number_eq(x: &Number, y: &Number) -> bool {
    if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
        return x == y;
    }
    x.as_f64() == y.as_f64()
}

/// How JavaScript writes a number in a string: `1`, `2.5`, and `2` for `2.0`.
fn js_number(n: &Number) -> String {
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
fn describe(value: &Value) -> String {
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

fn write_json_string(s: &str, out: &mut String) {
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

    // --- Names ------------------------------------------------------------------------------

    #[test]
    fn hyphenated_names_and_subtraction() {
        let vars = json!({"a": 5, "b": 3, "a-b": "hyphen", "a-1": "name", "x-2y": 7});
        assert_eq!(value("a-b", vars.clone()), json!("hyphen"));
        assert_eq!(value("a - b", vars.clone()), json!(2));
        assert_eq!(value("a -b", vars.clone()), json!(2));
        assert_eq!(value("a- b", vars.clone()), json!(2));
        assert_eq!(value("a-1", vars.clone()), json!("name"));
        assert_eq!(value("a - 1", vars.clone()), json!(4));
        assert_eq!(value("a -1", vars.clone()), json!(4));
        assert_eq!(value("x-2y", vars.clone()), json!(7));
        // `--` is not part of a name: `a - -b`.
        assert_eq!(value("a--b", vars.clone()), json!(8));
        // `-_` is not part of a name either.
        assert_eq!(parse("a-_b").expect("parses").names(), ["a", "_b"]);
        assert_eq!(parse("a-b - c").expect("parses").names(), ["a-b", "c"]);
        assert_eq!(
            parse("test-results.passed && build-info.ok-ish")
                .expect("parses")
                .names(),
            ["test-results", "build-info"]
        );
        let error = parse_error("a-");
        assert_eq!(error.column, 3);
        assert_eq!(
            error.message,
            "expected a value after `-`, found the end of the expression"
        );
    }

    #[test]
    fn input_and_loop_names() {
        let vars = json!({"input": {"productName": "Widget", "items": [{"name": "x"}]},
                          "item": {"n": 2}, "index": 1});
        assert_eq!(value("input.productName", vars.clone()), json!("Widget"));
        assert_eq!(value("input.items[0].name", vars.clone()), json!("x"));
        assert_eq!(value("item.n * 10 + index", vars.clone()), json!(21));
        let expr = parse("input.productName + item.n + index + input.x").expect("parses");
        assert_eq!(expr.names(), ["input", "item", "index"]);
    }

    #[test]
    fn names_are_listed_once_in_order_without_functions_or_keywords() {
        let expr = parse("len(b) + a[c] > d.e && contains(a, 'x') || true || null || b").unwrap();
        assert_eq!(expr.names(), ["b", "a", "c", "d"]);
        // A function name that is not called is a name.
        assert_eq!(parse("len").unwrap().names(), ["len"]);
        // Field names and keywords after `.` are fields, not names.
        assert_eq!(parse("x.true.null.y").unwrap().names(), ["x"]);
        assert!(parse("1 + 'a'").unwrap().names().is_empty());
    }

    #[test]
    fn unknown_names_are_null() {
        assert_eq!(value("nobody", json!({})), Value::Null);
        assert_eq!(value("nobody == null", json!({})), json!(true));
        assert_eq!(value("nobody.x[3].y", json!({})), Value::Null);
    }

    // --- Literals -----------------------------------------------------------------------------

    #[test]
    fn literals() {
        assert_eq!(value("3", json!({})), json!(3));
        assert!(value("3", json!({})).is_i64());
        assert_eq!(value("2.5", json!({})), json!(2.5));
        assert!(value("2.0", json!({})).is_f64());
        assert_eq!(value("007", json!({})), json!(7));
        assert_eq!(value("'it\\'s'", json!({})), json!("it's"));
        assert_eq!(value("\"say \\\"hi\\\"\"", json!({})), json!("say \"hi\""));
        assert_eq!(value(r"'a\\b\nc\td\r'", json!({})), json!("a\\b\nc\td\r"));
        assert_eq!(value("'x \" y'", json!({})), json!("x \" y"));
        assert_eq!(value("'héllo 🌍'", json!({})), json!("héllo 🌍"));
        assert_eq!(value("true", json!({})), json!(true));
        assert_eq!(value("false", json!({})), json!(false));
        assert_eq!(value("null", json!({})), Value::Null);
        assert_eq!(
            value("[1, 'a', x, [true], []]", json!({"x": {"k": 1}})),
            json!([1, "a", {"k": 1}, [true], []])
        );
        assert_eq!(value("[1, 2,]", json!({})), json!([1, 2]));
        assert_eq!(value("99999999999999999999", json!({})), json!(1e20));
        assert_eq!(
            value("-9223372036854775808", json!({})),
            json!(-9.223372036854776e18)
        );
        assert_eq!(
            parse_error(&"9".repeat(400)).message,
            format!("number `{}` is too large", "9".repeat(400))
        );
    }

    // --- Operators ----------------------------------------------------------------------------

    #[test]
    fn precedence_table() {
        let cases: &[(&str, Value)] = &[
            ("1 + 2 * 3", json!(7)),
            ("(1 + 2) * 3", json!(9)),
            ("10 - 4 - 3", json!(3)),
            ("10 - (4 - 3)", json!(9)),
            ("2 * 3 % 4", json!(2)),
            ("24 / 4 / 2", json!(3)),
            ("-2 * 3", json!(-6)),
            ("-(2 + 3)", json!(-5)),
            ("- -3", json!(3)),
            ("!true == false", json!(true)),
            ("!(1 == 2)", json!(true)),
            ("!!'x'", json!(true)),
            ("!0", json!(true)),
            ("1 + 2 == 3", json!(true)),
            ("1 < 2 == true", json!(true)),
            ("2 > 1 === 1 < 2", json!(true)),
            ("1 + 2 < 4 && 5 > 4", json!(true)),
            ("true || false && false", json!(true)),
            ("(true || false) && false", json!(false)),
            ("false && true || true", json!(true)),
            ("1 == 1 && 2 != 3", json!(true)),
            ("3 >= 3 && 3 <= 3 && !(3 < 3) && !(3 > 3)", json!(true)),
            ("1 + 2 * 3 - 4 / 2 % 3", json!(5)),
            ("'a' + 'b' == 'ab'", json!(true)),
        ];
        for (source, expected) in cases {
            assert_eq!(&value(source, json!({})), expected, "{source}");
        }
    }

    #[test]
    fn arithmetic() {
        let cases: &[(&str, Value)] = &[
            ("10 / 4", json!(2.5)),
            ("10 / 5", json!(2)),
            ("7 % 3", json!(1)),
            ("-7 % 3", json!(-1)),
            ("7.5 % 2", json!(1.5)),
            ("2.5 * 2", json!(5.0)),
            ("0.5 + 0.25", json!(0.75)),
            ("9223372036854775807 + 1", json!(9.223372036854776e18)),
            ("'a' + 1", json!("a1")),
            ("1 + 'a'", json!("1a")),
            ("'a' + 1.5", json!("a1.5")),
            ("'a' + 2.0", json!("a2")),
            ("'a' + 'b'", json!("ab")),
            ("'' + 0", json!("0")),
        ];
        for (source, expected) in cases {
            assert_eq!(&value(source, json!({})), expected, "{source}");
        }
        assert!(value("10 / 5", json!({})).is_i64());
        assert!(value("2.5 * 2", json!({})).is_f64());
        assert!(value("x * 2", json!({"x": 3})).is_i64());
        assert!(value("x * 2", json!({"x": 3.0})).is_f64());
        // Exponents are not part of the language.
        assert_eq!(
            parse_error("1e3").message,
            "invalid number `1e3`; a name must start with a letter or `_`"
        );
    }

    #[test]
    fn equality_is_deep_and_numeric() {
        let vars = json!({"o": {"a": [1, {"b": 2}]}, "p": {"a": [1.0, {"b": 2}]}, "q": {"a": [1]}});
        let cases: &[(&str, bool)] = &[
            ("1 == 1.0", true),
            ("1 === 1.0", true),
            ("1 !== 1.0", false),
            ("'1' == 1", false),
            ("null == false", false),
            ("null == null", true),
            ("null === nobody", true),
            ("[1, 'a'] == [1, 'a']", true),
            ("[1, 'a'] == ['a', 1]", false),
            ("o == p", true),
            ("o === o", true),
            ("o != q", true),
            ("o.a[1] == o.a[1]", true),
            ("[] == []", true),
            ("'a' != 'b'", true),
        ];
        for (source, expected) in cases {
            assert_eq!(value(source, vars.clone()), json!(expected), "{source}");
        }
        let big = json!({"x": u64::MAX, "y": u64::MAX, "z": 1});
        assert_eq!(value("x == y", big.clone()), json!(true));
        assert_eq!(value("x == z", big), json!(false));
    }

    #[test]
    fn comparisons() {
        assert_eq!(value("'abc' < 'abd'", json!({})), json!(true));
        assert_eq!(value("'b' > 'abc'", json!({})), json!(true));
        assert_eq!(value("1.5 < 2", json!({})), json!(true));
        assert_eq!(value("2 <= 1.5", json!({})), json!(false));
        assert_eq!(
            eval_error("x < 3", json!({})),
            "cannot compare null with 3 (a number) using `<`; both sides must be numbers or both \
             strings in `x < 3`"
        );
        assert_eq!(
            eval_error("'a' >= 1", json!({})),
            "cannot compare \"a\" (a string) with 1 (a number) using `>=`; both sides must be \
             numbers or both strings in `'a' >= 1`"
        );
    }

    #[test]
    fn short_circuit_returns_the_deciding_operand() {
        let vars = json!({"s": "abc", "zero": 0, "empty": ""});
        // The right side would be a type error if it were evaluated.
        assert_eq!(value("false && s * 2", vars.clone()), json!(false));
        assert_eq!(value("true || s * 2", vars.clone()), json!(true));
        assert_eq!(value("zero && s * 2", vars.clone()), json!(0));
        assert_eq!(value("s || s * 2", vars.clone()), json!("abc"));
        assert!(eval_in("true && s * 2", vars.clone()).is_err());
        assert!(eval_in("false || s * 2", vars.clone()).is_err());
        assert_eq!(value("'a' && 'b'", vars.clone()), json!("b"));
        assert_eq!(value("empty || 'default'", vars.clone()), json!("default"));
        assert_eq!(value("null || 0", vars.clone()), json!(0));
        assert_eq!(value("missing && missing.x", vars.clone()), Value::Null);
        assert_eq!(value("0 || '' || null", vars.clone()), Value::Null);
        assert_eq!(value("1 && 2 && 3", vars), json!(3));
    }

    // --- Access -------------------------------------------------------------------------------

    #[test]
    fn missing_things_are_null() {
        let vars = json!({"x": {"a": {"b": 1}}, "xs": [10, 20], "s": "abc", "n": 5});
        let cases: &[(&str, Value)] = &[
            ("x.a.b", json!(1)),
            ("x.nope", Value::Null),
            ("x.nope.deeper.still", Value::Null),
            ("x['a']['b']", json!(1)),
            ("x[0]", Value::Null),
            ("xs[0]", json!(10)),
            ("xs[1.0]", json!(20)),
            ("xs[2]", Value::Null),
            ("xs[-1]", Value::Null),
            ("xs[0.5]", Value::Null),
            ("xs['0']", Value::Null),
            ("xs[true]", Value::Null),
            ("xs[null]", Value::Null),
            ("xs.length", Value::Null),
            ("s.length", Value::Null),
            ("s[0]", Value::Null),
            ("n.x", Value::Null),
            ("null.x", Value::Null),
            ("5.x", Value::Null),
            ("[1, 2, 3][1]", json!(2)),
            ("[1, 2, 3][len(xs)]", json!(3)),
            ("'abc'.x", Value::Null),
            ("x.true", Value::Null),
            ("xs[xs[0] - 9]", json!(20)),
            ("xs[18446744073709551615]", Value::Null),
        ];
        for (source, expected) in cases {
            assert_eq!(&value(source, vars.clone()), expected, "{source}");
        }
    }

    // --- Functions ----------------------------------------------------------------------------

    #[test]
    fn functions() {
        let vars = json!({"o": {"a": 1, "b": 2}, "xs": [1, "a", [2], {"k": 1}]});
        let cases: &[(&str, Value)] = &[
            ("len('héllo')", json!(5)),
            ("len('')", json!(0)),
            ("len([1, 2, 3])", json!(3)),
            ("len(o)", json!(2)),
            ("len (xs)", json!(4)),
            ("contains('hello', 'ell')", json!(true)),
            ("contains('hello', 'xyz')", json!(false)),
            ("contains('hello', '')", json!(true)),
            ("contains(xs, 'a')", json!(true)),
            ("contains(xs, 1.0)", json!(true)),
            ("contains(xs, [2])", json!(true)),
            ("contains(xs, 'b')", json!(false)),
            ("contains(o, 'a')", json!(true)),
            ("contains(o, 'c')", json!(false)),
            ("startsWith('hello', 'he')", json!(true)),
            ("startsWith('hello', 'lo')", json!(false)),
            ("lower('ÀB c')", json!("àb c")),
            ("upper('straße')", json!("STRASSE")),
            ("upper(lower('MiXeD'))", json!("MIXED")),
            ("len(lower('ABC')) + 1", json!(4)),
            ("lower('ABC').x", Value::Null),
        ];
        for (source, expected) in cases {
            assert_eq!(&value(source, vars.clone()), expected, "{source}");
        }
    }

    #[test]
    fn function_type_errors() {
        let cases: &[(&str, &str)] = &[
            (
                "len(x)",
                "`len` expects a string, an array or an object, got null in `len(x)`",
            ),
            (
                "len(5)",
                "`len` expects a string, an array or an object, got 5 (a number) in `len(5)`",
            ),
            (
                "contains(5, 'a')",
                "`contains` looks in a string, an array or an object, got 5 (a number) in \
                 `contains(5, 'a')`",
            ),
            (
                "contains('abc', 1)",
                "`contains` looks for a string in a string, got 1 (a number) in \
                 `contains('abc', 1)`",
            ),
            (
                "contains(o, 1)",
                "`contains` looks for a key (a string) in an object, got 1 (a number) in \
                 `contains(o, 1)`",
            ),
            (
                "startsWith(1, 'a')",
                "`startsWith` expects a string, got 1 (a number) in `startsWith(1, 'a')`",
            ),
            (
                "startsWith('a', null)",
                "`startsWith` expects a string prefix, got null in `startsWith('a', null)`",
            ),
            (
                "lower(true)",
                "`lower` expects a string, got true (a boolean) in `lower(true)`",
            ),
            (
                "upper([1])",
                "`upper` expects a string, got [1] (an array) in `upper([1])`",
            ),
        ];
        for (source, expected) in cases {
            assert_eq!(eval_error(source, json!({"o": {}})), *expected, "{source}");
        }
    }

    #[test]
    fn unknown_functions_and_arity_are_parse_errors() {
        let error = parse_error("1 + foo(x)");
        assert_eq!(error.column, 5);
        assert_eq!(
            error.message,
            "unknown function `foo`; available: len, contains, startsWith, lower, upper"
        );
        let error = parse_error("startswith(x, 'a')");
        assert_eq!(error.column, 1);
        assert_eq!(
            error.message,
            "unknown function `startswith` (did you mean `startsWith`?); available: len, \
             contains, startsWith, lower, upper"
        );
        assert!(
            parse_error("lenn(x)")
                .message
                .contains("(did you mean `len`?)")
        );
        assert!(
            parse_error("starts-with(x, 'a')")
                .message
                .contains("(did you mean `startsWith`?)")
        );
        let error = parse_error("x && len()");
        assert_eq!(error.column, 6);
        assert_eq!(error.message, "`len` takes 1 argument (value), got 0");
        let error = parse_error("len(1, 2)");
        assert_eq!(error.message, "`len` takes 1 argument (value), got 2");
        let error = parse_error("contains('a')");
        assert_eq!(
            error.message,
            "`contains` takes 2 arguments (haystack, needle), got 1"
        );
        let error = parse_error("upper('a', 'b', 'c')");
        assert_eq!(error.message, "`upper` takes 1 argument (string), got 3");
        // Keywords cannot be called.
        assert_eq!(parse_error("true(1)").column, 5);
        // Only names can be called.
        assert_eq!(
            parse_error("x.len(1)").message,
            "unexpected `(`; expected an operator or the end of the expression"
        );
    }

    // --- Type errors --------------------------------------------------------------------------

    #[test]
    fn type_errors_quote_the_expression_and_the_value() {
        let vars = json!({"x": "abc", "xs": [1, 2], "o": {"k": "v"}, "t": true, "n": 4});
        let cases: &[(&str, &str)] = &[
            ("x * 2", "cannot apply `*` to \"abc\" (a string) in `x * 2`"),
            ("2 * x", "cannot apply `*` to \"abc\" (a string) in `2 * x`"),
            ("n - t", "cannot apply `-` to true (a boolean) in `n - t`"),
            ("-xs", "cannot apply `-` to [1,2] (an array) in `-xs`"),
            (
                "o / 2",
                "cannot apply `/` to {\"k\":\"v\"} (an object) in `o / 2`",
            ),
            ("nobody % 2", "cannot apply `%` to null in `nobody % 2`"),
            (
                "nobody + 1",
                "cannot apply `+` to null (`+` adds numbers or joins strings) in `nobody + 1`",
            ),
            (
                "x + xs",
                "cannot apply `+` to [1,2] (an array) (`+` adds numbers or joins strings) in \
                 `x + xs`",
            ),
            ("n / 0", "division by zero (`/`) in `n / 0`"),
            ("n % 0", "division by zero (`%`) in `n % 0`"),
            ("1.5 / 0.0", "division by zero (`/`) in `1.5 / 0.0`"),
            (
                "  x * 2  ",
                "cannot apply `*` to \"abc\" (a string) in `x * 2`",
            ),
        ];
        for (source, expected) in cases {
            assert_eq!(eval_error(source, vars.clone()), *expected, "{source}");
        }
        let huge = json!({"f": 1e300});
        assert_eq!(
            eval_error("f * f", huge),
            "the result of `*` is too large for a number in `f * f`"
        );
    }

    #[test]
    fn long_values_and_sources_are_shortened_in_messages() {
        let vars =
            json!({"s": "x".repeat(1000), "deep": (0..100).fold(json!(1), |v, _| json!([v]))});
        let message = eval_error("s * 2", vars.clone());
        assert!(message.len() < 200, "{message}");
        assert!(
            message.starts_with(&format!("cannot apply `*` to \"{}…", "x".repeat(63))),
            "{message}"
        );
        let message = eval_error("deep * 2", vars);
        assert!(
            message.contains(&format!("{}…", "[".repeat(64))),
            "{message}"
        );
        let source = format!("{} * 2", "'y' + ".repeat(100) + "s");
        let message = eval_error(&source, json!({"s": "s"}));
        assert!(message.ends_with("…`"), "{message}");
        assert!(message.len() < 300, "{message}");
    }

    // --- Parse errors -------------------------------------------------------------------------

    #[test]
    fn parse_errors_have_columns_and_say_what_was_expected() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 1, "empty expression"),
            ("   ", 1, "empty expression"),
            (
                "(a + b",
                7,
                "expected `)` to close `(` opened at column 1, found the end of the expression",
            ),
            (
                "a + (b * c",
                11,
                "expected `)` to close `(` opened at column 5, found the end of the expression",
            ),
            (
                "(a b)",
                4,
                "expected `)` to close `(` opened at column 1, found `b`",
            ),
            (
                "a === === b",
                7,
                "unexpected `===`; expected a value after `===`",
            ),
            ("=== b", 1, "unexpected `===`; expected a value"),
            (
                "nothing.here ===",
                17,
                "expected a value after `===`, found the end of the expression",
            ),
            (
                "'abc",
                1,
                "unterminated string: no closing `'` after this one",
            ),
            (
                "a + \"xy",
                5,
                "unterminated string: no closing `\"` after this one",
            ),
            (
                "'abc\\",
                1,
                "unterminated string: no closing `'` after this one",
            ),
            (
                "'a\\qb'",
                3,
                "unknown escape `\\q` in a string; the escapes are \\\\ \\' \\\" \\n \\t \\r",
            ),
            ("a = b", 3, "unexpected `=`; use `===` (or `==`) to compare"),
            ("a & b", 3, "unexpected `&`; use `&&` for \"and\""),
            ("a | b", 3, "unexpected `|`; use `||` for \"or\""),
            ("a @ b", 3, "unexpected character `@`"),
            (
                "a b",
                3,
                "unexpected `b`; expected an operator or the end of the expression",
            ),
            ("a)", 2, "unexpected `)` with no matching `(`"),
            ("a]", 2, "unexpected `]` with no matching `[`"),
            (
                "x.",
                3,
                "expected a field name after `.`, found the end of the expression",
            ),
            ("x.[0]", 3, "expected a field name after `.`, found `[`"),
            ("x.0", 3, "expected a field name after `.`, found `0`"),
            (
                "xs[0",
                5,
                "expected `]` to close `[` opened at column 3, found the end of the expression",
            ),
            (
                "[1, 2",
                6,
                "expected `,` or `]` to close `[` opened at column 1, found the end of the \
                 expression",
            ),
            (
                "len(1 2)",
                7,
                "expected `,` or `)` to close `(` opened at column 4, found `2`",
            ),
            ("[1,,2]", 4, "unexpected `,`; expected a value after `,`"),
            (
                "3abc",
                1,
                "invalid number `3abc`; a name must start with a letter or `_`",
            ),
            (
                "x + 3d-model",
                5,
                "invalid number `3d-model`; a name must start with a letter or `_`",
            ),
            ("()", 2, "unexpected `)`; expected a value after `(`"),
            (
                "a +",
                4,
                "expected a value after `+`, found the end of the expression",
            ),
            ("{a: 1}", 1, "unexpected character `{`"),
            // Columns count characters, not bytes.
            ("'é' + é", 7, "unexpected character `é`"),
            (
                "'日本' ==",
                8,
                "expected a value after `==`, found the end of the expression",
            ),
        ];
        for (source, column, message) in cases {
            let error = parse_error(source);
            assert_eq!(
                (error.column, error.message.as_str()),
                (*column, *message),
                "{source}"
            );
        }
        let error = parse_error("a === === b");
        assert_eq!(
            error.to_string(),
            "unexpected `===`; expected a value after `===` (column 7)"
        );
        let long = format!("x {}", "y".repeat(100));
        assert_eq!(
            parse_error(&long).message,
            format!(
                "unexpected `{}…`; expected an operator or the end of the expression",
                "y".repeat(32)
            )
        );
        assert_eq!(
            parse_error("'a\\\u{1}'").message.split(';').next(),
            Some("unknown escape `\\\\u{1}` in a string")
        );
    }

    #[test]
    fn parse_at_shifts_every_column() {
        let error = parse_at("(a", 10).expect_err("unclosed");
        assert_eq!(error.column, 13);
        assert_eq!(
            error.message,
            "expected `)` to close `(` opened at column 11, found the end of the expression"
        );
        assert_eq!(parse_at("  ", 4).expect_err("empty").column, 5);
    }

    // --- Limits -------------------------------------------------------------------------------

    #[test]
    fn nesting_is_capped_at_64() {
        let ok = format!("{}1{}", "(".repeat(64), ")".repeat(64));
        assert_eq!(value(&ok, json!({})), json!(1));
        let too_deep = format!("{}1{}", "(".repeat(65), ")".repeat(65));
        let error = parse_error(&too_deep);
        assert_eq!(error.column, 65);
        assert!(error.message.contains("nested too deeply"), "{error}");
        assert!(error.message.contains("64"), "{error}");

        let brackets = format!("{}1{}", "[".repeat(64), "]".repeat(64));
        assert!(parse(&brackets).is_ok());
        let brackets = format!("{}1{}", "[".repeat(65), "]".repeat(65));
        assert!(parse_error(&brackets).message.contains("nested too deeply"));

        let calls = format!("{}'a'{}", "lower(".repeat(65), ")".repeat(65));
        assert!(parse_error(&calls).message.contains("nested too deeply"));
        let indexes = format!("{}0{}", "x[".repeat(65), "]".repeat(65));
        assert!(parse_error(&indexes).message.contains("nested too deeply"));
    }

    #[test]
    fn ten_thousand_parentheses_are_a_parse_error_not_a_stack_overflow() {
        for (open, close) in [("(", ")"), ("[", "]"), ("len(", ")"), ("x[", "]")] {
            let source = format!("{}1{}", open.repeat(10_000), close.repeat(10_000));
            let error = parse_error(&source);
            assert!(error.message.contains("nested too deeply"), "{error}");
            let unclosed = open.repeat(10_000);
            assert!(parse(&unclosed).is_err());
        }
    }

    #[test]
    fn long_operator_chains_are_flat() {
        // Prefix operators, chains and paths do not nest, however long.
        let nots = format!("{}x", "!".repeat(10_000));
        assert_eq!(value(&nots, json!({"x": 0})), json!(false));
        let negs = format!("{}x", "- ".repeat(10_001));
        assert_eq!(value(&negs, json!({"x": 2})), json!(-2));
        let path = format!("x{}", ".a".repeat(10_000));
        assert_eq!(value(&path, json!({"x": {"a": {"a": 1}}})), Value::Null);
    }

    #[test]
    fn a_200_kb_expression_is_fine() {
        let sum = vec!["x"; 50_000].join(" + ");
        assert!(sum.len() > 190_000);
        let expr = parse(&sum).expect("parses");
        assert_eq!(expr.names(), ["x"]);
        assert_eq!(expr.eval(&scope(json!({"x": 2}))), Ok(json!(100_000)));

        let ors = format!("{} || 'last'", vec!["a-b"; 40_000].join(" || "));
        assert!(ors.len() > 200_000);
        assert_eq!(value(&ors, json!({})), json!("last"));

        let names: Vec<String> = (0..20_000).map(|i| format!("n{i}")).collect();
        let many = names.join(" && ");
        assert!(many.len() > 100_000);
        assert_eq!(parse(&many).expect("parses").names(), names);

        let string = format!("'{}' + 'b'", "a".repeat(200_000));
        let result = value(&string, json!({}));
        assert_eq!(result.as_str().map(str::len), Some(200_001));

        let array = format!("len([{}])", vec!["1"; 100_000].join(", "));
        assert_eq!(value(&array, json!({})), json!(100_000));
    }

    #[test]
    fn garbage_never_panics() {
        let garbage = [
            "",
            " ",
            "'",
            "\"",
            "'\\",
            "\"\\\"",
            "\\",
            "`",
            "((",
            "))",
            "[[",
            "]]",
            "[,]",
            "(,)",
            ",",
            ".",
            "..",
            "a..b",
            "a.",
            ".a",
            "!",
            "!!",
            "-",
            "--",
            "- -",
            "a -",
            "===",
            "!==!==",
            "<=>",
            "&&||",
            "=",
            "==",
            "a == ",
            "1.",
            "1.2.3",
            "1..2",
            "0x1f",
            "1e10",
            "-0",
            "-0.0 * 1",
            "é",
            "日本語",
            "🌍 + 1",
            "a\u{0}b",
            "\u{feff}a",
            "'\u{fffd}'",
            "len(",
            "len(,)",
            "len)(",
            "contains(1,2,",
            "x[",
            "x[]",
            "x[1][",
            "[1, 2,, ]",
            "a-",
            "-a-",
            "a--",
            "_-_",
            "_",
            "__proto__.constructor",
            "null.null.null",
            "true false",
            "\t\n\r",
            "a\n&&\nb",
            "'\n'",
            "%",
            "1 % -0",
            "startsWith()",
            "upper(lower(len('x')))",
            "[][0][0]",
            "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((x",
        ];
        let values = scope(json!({"a": 1, "x": [1], "_": null, "a-b": "s"}));
        for text in garbage {
            if let Ok(expr) = parse(text) {
                let _ = expr.eval(&values);
                let _ = expr.eval(&Map::new());
            }
        }
        // A cheap pseudo-random soup of the language's characters.
        let alphabet: Vec<char> = "ab-_.[](),'\"\\!=<>&|+*/%0123 9é🌍lentrufsc"
            .chars()
            .collect();
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..2_000 {
            let mut text = String::new();
            for _ in 0..(seed % 24) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            if let Ok(expr) = parse(&text) {
                let _ = expr.eval(&values);
            }
        }
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

    #[test]
    fn expressions_compare_and_clone() {
        let a = parse("x + 1").unwrap();
        assert_eq!(a.clone(), a);
        assert_ne!(parse("x + 2").unwrap(), a);
        assert_eq!(a.source(), "x + 1");
    }
}
