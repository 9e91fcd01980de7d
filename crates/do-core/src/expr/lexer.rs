//! The lexer: characters to tokens (names, numbers, strings, punctuation), with columns for
//! error messages.

use super::{MAX_QUOTED_TOKEN, ParseError};
use serde_json::Number;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Number(Number),
    Str(String),
    /// A name, including `true`, `false` and `null` (which are names after a `.`).
    Name(String),
    Punct(&'static str),
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub(super) tok: Tok,
    /// Character positions in the expression, `end` exclusive.
    pub(super) start: usize,
    pub(super) end: usize,
}

/// Longest first, so that `===` is not read as `==` then `=`.
pub(super) const PUNCTUATION: &[&str] = &[
    "===", "!==", "==", "!=", "<=", ">=", "&&", "||", "(", ")", "[", "]", ",", ".", "!", "<", ">",
    "+", "-", "*", "/", "%",
];

pub(super) fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

pub(super) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

pub(super) struct Lexer {
    pub(super) chars: Vec<char>,
    pub(super) pos: usize,
    /// Characters before the expression in the text columns count from.
    pub(super) offset: usize,
}

impl Lexer {
    pub(super) fn column(&self, pos: usize) -> usize {
        self.offset + pos + 1
    }

    pub(super) fn error_at(&self, pos: usize, message: String) -> ParseError {
        ParseError {
            column: self.column(pos),
            message,
        }
    }

    pub(super) fn at(&self, pos: usize) -> Option<char> {
        self.chars.get(pos).copied()
    }

    pub(super) fn text(&self, start: usize, end: usize) -> String {
        self.chars
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .collect()
    }

    /// Returns how messages name a token: `` `===` ``, or "the end of the expression".
    pub(super) fn describe(&self, token: &Token) -> String {
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
    pub(super) fn name_end(&self, mut pos: usize) -> usize {
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

    pub(super) fn next_token(&mut self) -> Result<Token, ParseError> {
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

    pub(super) fn number(&mut self, start: usize) -> Result<Tok, ParseError> {
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

    pub(super) fn string(&mut self, start: usize, quote: char) -> Result<Tok, ParseError> {
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
