//! The workflow document of the Workflows API, as serde types.
//!
//! These types describe a document that has already been validated: build them with
//! [`crate::validate::parse_document`], which reports every problem of a raw document at once
//! with its JSON path, and fills in what the API lets a user leave out (a step's `type`).

use serde::{Deserialize, Serialize};

/// A workflow definition: what `do workflow create` stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowDocument {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub steps: Vec<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_handling: Option<ErrorHandling>,
    /// Maximum wall-clock time of an execution, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
}

/// One step of a workflow, of any type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub id: String,
    #[serde(flatten)]
    pub kind: StepKind,
    /// Maximum time of one attempt of this step, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_handling: Option<ErrorHandling>,
}

/// What a step does, keyed by its `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum StepKind {
    Task(TaskStep),
    Parallel(ParallelStep),
    Conditional(ConditionalStep),
    Loop(LoopStep),
    Team(TeamStep),
}

impl StepKind {
    /// Returns the `type` name of the step as written in documents.
    pub fn type_name(&self) -> &'static str {
        match self {
            StepKind::Task(_) => "task",
            StepKind::Parallel(_) => "parallel",
            StepKind::Conditional(_) => "conditional",
            StepKind::Loop(_) => "loop",
            StepKind::Team(_) => "team",
        }
    }
}

/// The step types a document may name, in the order the API lists them.
pub const STEP_TYPES: [&str; 5] = ["task", "parallel", "conditional", "loop", "team"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskStep {
    pub agent: String,
    pub task: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Inputs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParallelStep {
    pub steps: Vec<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalStep {
    pub condition: String,
    pub then: Branch,
    #[serde(default, rename = "else", skip_serializing_if = "Option::is_none")]
    pub otherwise: Option<Branch>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoopStep {
    /// An output name, `input.KEY`, or an expression yielding an array.
    pub items: String,
    pub step: Box<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamStep {
    pub team_id: String,
    pub task: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Inputs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

/// The `then`/`else` of a conditional: one step or a list of steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Branch {
    One(Box<Step>),
    Many(Vec<Step>),
}

impl Branch {
    /// Returns the branch's steps in order.
    pub fn steps(&self) -> &[Step] {
        match self {
            Branch::One(step) => std::slice::from_ref(step),
            Branch::Many(steps) => steps,
        }
    }
}

/// A step's `input`: one name or a list of names, kept in the shape the author wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Inputs {
    One(String),
    Many(Vec<String>),
}

impl Inputs {
    /// Returns the referenced names in order.
    pub fn names(&self) -> &[String] {
        match self {
            Inputs::One(name) => std::slice::from_ref(name),
            Inputs::Many(names) => names,
        }
    }
}

/// `errorHandling` of the workflow or of one step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorHandling {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Backoff>,
    /// Seconds before the first retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_delay: Option<f64>,
    /// Upper bound of the delay between retries, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delay: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Box<Step>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalate_on_failure: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_on_error: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    Retry,
    Fallback,
    Continue,
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backoff {
    Exponential,
    Linear,
    Fixed,
}

impl WorkflowDocument {
    /// Visits every step of the tree in document order, depth first, with its JSON path
    /// (`steps[2].steps[1]`).
    pub fn walk<'a>(&'a self, visit: &mut dyn FnMut(&str, &'a Step)) {
        for (i, step) in self.steps.iter().enumerate() {
            walk_step(&format!("steps[{i}]"), step, visit);
        }
    }
}

fn walk_step<'a>(path: &str, step: &'a Step, visit: &mut dyn FnMut(&str, &'a Step)) {
    visit(path, step);
    let walk_list = |name: &str, steps: &'a [Step], visit: &mut dyn FnMut(&str, &'a Step)| {
        for (i, child) in steps.iter().enumerate() {
            walk_step(&format!("{path}.{name}[{i}]"), child, visit);
        }
    };
    let walk_branch =
        |name: &str, branch: &'a Branch, visit: &mut dyn FnMut(&str, &'a Step)| match branch {
            Branch::One(child) => walk_step(&format!("{path}.{name}"), child, visit),
            Branch::Many(steps) => walk_list(name, steps, visit),
        };
    match &step.kind {
        StepKind::Parallel(p) => walk_list("steps", &p.steps, visit),
        StepKind::Conditional(c) => {
            walk_branch("then", &c.then, visit);
            if let Some(otherwise) = &c.otherwise {
                walk_branch("else", otherwise, visit);
            }
        }
        StepKind::Loop(l) => walk_step(&format!("{path}.step"), &l.step, visit),
        StepKind::Task(_) | StepKind::Team(_) => {}
    }
}
