//! The syntax tree of an expression: nodes, access paths, operators by precedence level, and
//! the built-in functions.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
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
pub(super) enum Access {
    Field(String),
    Index(Node),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum UnaryOp {
    Not,
    Neg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BinOp {
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
    pub(super) fn symbol(self) -> &'static str {
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
pub(super) const LEVELS: [&[BinOp]; 6] = [
    &[BinOp::Or],
    &[BinOp::And],
    &[BinOp::Eq, BinOp::Ne, BinOp::StrictEq, BinOp::StrictNe],
    &[BinOp::Lt, BinOp::Le, BinOp::Gt, BinOp::Ge],
    &[BinOp::Add, BinOp::Sub],
    &[BinOp::Mul, BinOp::Div, BinOp::Rem],
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Func {
    Len,
    Contains,
    StartsWith,
    Lower,
    Upper,
}

impl Func {
    pub(super) const ALL: [Func; 5] = [
        Func::Len,
        Func::Contains,
        Func::StartsWith,
        Func::Lower,
        Func::Upper,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Func::Len => "len",
            Func::Contains => "contains",
            Func::StartsWith => "startsWith",
            Func::Lower => "lower",
            Func::Upper => "upper",
        }
    }

    pub(super) fn params(self) -> &'static [&'static str] {
        match self {
            Func::Len => &["value"],
            Func::Contains => &["haystack", "needle"],
            Func::StartsWith => &["string", "prefix"],
            Func::Lower | Func::Upper => &["string"],
        }
    }

    pub(super) fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|func| func.name() == name)
    }
}
