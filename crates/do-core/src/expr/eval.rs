//! Evaluation of a syntax tree against a [`Scope`]: access, operators and functions, with the
//! type errors that quote the expression and the offending value.

use super::ast::{Access, BinOp, Func, Node, UnaryOp};
use super::value::*;
use super::{EvalError, MAX_QUOTED_SOURCE, Scope, truthy};
use serde_json::{Number, Value};
use std::cmp::Ordering;

pub(super) struct Evaluator<'a> {
    pub(super) scope: &'a dyn Scope,
    pub(super) source: &'a str,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    pub(super) fn of(value: &Value) -> Option<Num> {
        let Value::Number(n) = value else {
            return None;
        };
        match n.as_i64() {
            Some(i) => Some(Num::Int(i)),
            None => n.as_f64().map(Num::Float),
        }
    }

    pub(super) fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

impl Evaluator<'_> {
    /// An error about this expression: the message, then "in `source`".
    pub(super) fn fail(&self, message: impl std::fmt::Display) -> EvalError {
        let source = self.source.trim();
        let mut shown: String = source.chars().take(MAX_QUOTED_SOURCE).collect();
        if source.chars().nth(MAX_QUOTED_SOURCE).is_some() {
            shown.push('…');
        }
        EvalError(format!("{message} in `{shown}`"))
    }

    pub(super) fn eval(&self, node: &Node) -> Result<Value, EvalError> {
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

    pub(super) fn binary(&self, op: BinOp, a: Value, b: Value) -> Result<Value, EvalError> {
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

    pub(super) fn arithmetic(&self, op: BinOp, a: Num, b: Num) -> Result<Value, EvalError> {
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
    pub(super) fn number(&self, value: f64, symbol: &str) -> Result<Value, EvalError> {
        Number::from_f64(value).map(Value::Number).ok_or_else(|| {
            self.fail(format_args!(
                "the result of `{symbol}` is too large for a number"
            ))
        })
    }

    pub(super) fn call(&self, func: Func, args: &[Value]) -> Result<Value, EvalError> {
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
pub(super) fn field_of(value: Value, field: &str) -> Value {
    match value {
        Value::Object(mut map) => map.remove(field).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// `value[index]`: an array element by a non-negative integral number, or an object field by a
/// string; `null` otherwise.
pub(super) fn index_of(value: Value, index: &Value) -> Value {
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
