//! The parser: tokens to a syntax tree, by precedence climbing over flat operator chains, with
//! the nesting limit that keeps deep input from overflowing the stack.

use super::ast::{Access, Func, LEVELS, Node, UnaryOp};
use super::lexer::{Lexer, Tok, Token};
use super::{MAX_NESTING, ParseError};
use crate::suggest::did_you_mean;
use serde_json::Value;
use std::collections::HashSet;

pub(super) struct Parser {
    pub(super) lexer: Lexer,
    pub(super) current: Token,
    /// The punctuation just consumed, for "expected a value after `===`".
    pub(super) last_punct: Option<&'static str>,
    /// How many parentheses, brackets and calls enclose the current position.
    pub(super) depth: usize,
    pub(super) names: Vec<String>,
    pub(super) seen: HashSet<String>,
}

impl Parser {
    /// Moves to the next token and returns the one that was current.
    pub(super) fn advance(&mut self) -> Result<Token, ParseError> {
        let next = self.lexer.next_token()?;
        let token = std::mem::replace(&mut self.current, next);
        self.last_punct = match token.tok {
            Tok::Punct(p) => Some(p),
            _ => None,
        };
        Ok(token)
    }

    pub(super) fn is_punct(&self, punct: &str) -> bool {
        matches!(self.current.tok, Tok::Punct(p) if p == punct)
    }

    pub(super) fn error_here(&self, message: String) -> ParseError {
        self.lexer.error_at(self.current.start, message)
    }

    /// Enters a parenthesis, bracket or call that opens at `start`.
    pub(super) fn enter(&mut self, start: usize) -> Result<(), ParseError> {
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

    pub(super) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Consumes `punct`, or fails with `expected`, followed by what was found instead.
    pub(super) fn expect(&mut self, punct: &str, expected: String) -> Result<(), ParseError> {
        if self.is_punct(punct) {
            self.advance()?;
            Ok(())
        } else {
            let found = self.lexer.describe(&self.current);
            Err(self.error_here(format!("{expected}, found {found}")))
        }
    }

    pub(super) fn expression(&mut self) -> Result<Node, ParseError> {
        self.level(0)
    }

    /// Parses operators of precedence `level` and tighter.
    pub(super) fn level(&mut self, level: usize) -> Result<Node, ParseError> {
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

    pub(super) fn unary(&mut self) -> Result<Node, ParseError> {
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

    pub(super) fn postfix(&mut self) -> Result<Node, ParseError> {
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

    pub(super) fn expected_value(&self) -> ParseError {
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

    pub(super) fn primary(&mut self) -> Result<Node, ParseError> {
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
    pub(super) fn list(&mut self, closer: &str, open: usize) -> Result<Vec<Node>, ParseError> {
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
    pub(super) fn call(&mut self, name: &str, start: usize) -> Result<Node, ParseError> {
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
