//! The vocabulary of a workflow document (its fields, step kinds and strategies) and the tree
//! of validated nodes that the walk builds and the assembly turns back into JSON.

use serde_json::{Map, Value};

pub(super) const ROOT_FIELDS: &[&str] = &[
    "name",
    "description",
    "category",
    "steps",
    "errorHandling",
    "timeout",
    "schedules",
];

pub(super) const COMMON_STEP_FIELDS: &[&str] = &["id", "type", "timeout", "errorHandling"];

pub(super) const ERROR_HANDLING_FIELDS: &[&str] = &[
    "strategy",
    "maxRetries",
    "backoff",
    "initialDelay",
    "maxDelay",
    "jitter",
    "fallback",
    "escalateOnFailure",
    "notifyOnError",
];

pub(super) const STRATEGIES: &[&str] = &["retry", "fallback", "continue", "fail"];

pub(super) const BACKOFFS: &[&str] = &["exponential", "linear", "fixed"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Task,
    Parallel,
    Conditional,
    Loop,
    Team,
}

impl Kind {
    pub(super) const ALL: [Kind; 5] = [
        Kind::Task,
        Kind::Parallel,
        Kind::Conditional,
        Kind::Loop,
        Kind::Team,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::Task => "task",
            Kind::Parallel => "parallel",
            Kind::Conditional => "conditional",
            Kind::Loop => "loop",
            Kind::Team => "team",
        }
    }

    pub(super) fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The fields a step of this type has besides [`COMMON_STEP_FIELDS`].
    pub(super) fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Task => &["agent", "task", "input", "output"],
            Kind::Parallel => &["steps", "maxConcurrency"],
            Kind::Conditional => &["condition", "then", "else"],
            Kind::Loop => &["items", "step", "maxConcurrency", "output"],
            Kind::Team => &["teamId", "task", "input", "output"],
        }
    }

    /// Returns how messages name a step of this type: "a task step" (every type name starts
    /// with a consonant).
    pub(super) fn described(self) -> String {
        format!("a {} step", self.name())
    }
}

/// How a step hangs from its parent in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Relation {
    /// In the workflow's `steps`.
    Top,
    /// In a parallel step's `steps`.
    ParallelChild,
    /// In a conditional's `then`.
    Then,
    /// In a conditional's `else`.
    Else,
    /// A loop's `step`.
    LoopBody,
    /// The `errorHandling.fallback` of a step.
    Fallback,
    /// The `errorHandling.fallback` of the workflow.
    WorkflowFallback,
}

/// A conditional's `then` or `else` as the author wrote it.
#[derive(Debug)]
pub(super) enum BranchNode {
    One(usize),
    Many(Vec<usize>),
}

impl BranchNode {
    pub(super) fn steps(&self) -> &[usize] {
        match self {
            BranchNode::One(step) => std::slice::from_ref(step),
            BranchNode::Many(steps) => steps,
        }
    }
}

/// A name a step uses: one of its `input` names, or a loop's `items`.
#[derive(Debug)]
pub(super) struct Ref {
    pub(super) name: String,
    pub(super) path: String,
    /// Where the reference sits in the walk, to report it in document order.
    pub(super) tick: u64,
    /// A loop's `items`, which may also access a field of a visible name (`data.rows`).
    pub(super) items: bool,
}

/// A validated `errorHandling`: its plain fields, normalized, and its fallback step.
#[derive(Debug, Default)]
pub(super) struct ErrorHandlingNode {
    pub(super) fields: Map<String, Value>,
    pub(super) fallback: Option<usize>,
}

/// One step object of the document, reduced to what was validated.
#[derive(Debug)]
pub(super) struct Node {
    pub(super) path: String,
    pub(super) parent: Option<usize>,
    pub(super) relation: Relation,
    pub(super) id: Option<String>,
    pub(super) id_generated: bool,
    /// `None` when the `type` is invalid; such a node has no fields or children.
    pub(super) kind: Option<Kind>,
    pub(super) output: Option<String>,
    /// Normalized plain fields (`agent`, `task`, `input`, `timeout`, …).
    pub(super) fields: Map<String, Value>,
    pub(super) children: Vec<usize>,
    pub(super) then: Option<BranchNode>,
    pub(super) otherwise: Option<BranchNode>,
    pub(super) body: Option<usize>,
    pub(super) error_handling: Option<ErrorHandlingNode>,
    pub(super) refs: Vec<Ref>,
}

impl Node {
    pub(super) fn new(path: String, parent: Option<usize>, relation: Relation) -> Node {
        Node {
            path,
            parent,
            relation,
            id: None,
            id_generated: false,
            kind: None,
            output: None,
            fields: Map::new(),
            children: Vec::new(),
            then: None,
            otherwise: None,
            body: None,
            error_handling: None,
            refs: Vec::new(),
        }
    }
}

/// Guesses the type a step without `type` was meant to have from its fields.
pub(super) fn infer_type(obj: &Map<String, Value>) -> Option<Kind> {
    [
        ("steps", Kind::Parallel),
        ("condition", Kind::Conditional),
        ("then", Kind::Conditional),
        ("items", Kind::Loop),
        ("step", Kind::Loop),
        ("teamId", Kind::Team),
    ]
    .into_iter()
    .find(|(field, _)| obj.contains_key(*field))
    .map(|(_, kind)| kind)
}
