//! The workflow document of the Workflows API, as serde types.
//!
//! These types describe a document that has already been validated: build them with
//! [`crate::validate::parse_document`], which reports every problem of a raw document at once
//! with its JSON path, and fills in what the API lets a user leave out (a step's `type`).

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;

/// A workflow definition: what `do workflow create` stores.
///
/// Every optional field may also be `null`, which means the same as leaving it out. Fields
/// `do` does not know are accepted and ignored (`do workflow validate` warns about them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "do workflow document")]
pub struct WorkflowDocument {
    /// The workflow's name; `do workflow run` finds the stored workflow by it.
    #[schemars(regex(pattern = r"\S"))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The steps, run one after the other.
    #[schemars(length(min = 1))]
    pub steps: Vec<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_handling: Option<ErrorHandling>,
    /// Maximum wall-clock time of an execution, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("exclusiveMinimum" = 0, "maximum" = 31_536_000))]
    pub timeout: Option<f64>,
    /// When the workflow runs by itself; creating or updating the workflow creates, changes
    /// or removes these schedules (matched by `name`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedules: Vec<crate::schedule::ScheduleSpec>,
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

/// What a step id or an output name looks like (the validator's rule, for the JSON Schema).
const NAME_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$";

/// Written by hand: in a document a step's `type` may be left out (the step is a task) and
/// its `id` too (one is generated), which the serde types of a validated step do not say.
impl JsonSchema for Step {
    fn schema_name() -> Cow<'static, str> {
        "Step".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut types: Vec<Value> = STEP_TYPES.iter().map(|t| Value::from(*t)).collect();
        types.push(Value::Null);
        let is_type = |name: &str| json_schema!({"properties": {"type": {"const": name}}, "required": ["type"]});
        json_schema!({
            "description": "One step. `type` says what it does; a step without one is a task.",
            "type": "object",
            "properties": {
                "id": {
                    "description": "Unique in the workflow; `step-N` is generated when left out.",
                    "type": ["string", "null"],
                    "pattern": NAME_PATTERN,
                },
                "type": {"enum": types},
                "timeout": {
                    "description": "Maximum time of one attempt of this step, in seconds.",
                    "type": ["number", "null"],
                    "exclusiveMinimum": 0,
                    "maximum": 31_536_000,
                },
                "errorHandling": generator.subschema_for::<Option<ErrorHandling>>(),
            },
            "allOf": [
                {
                    "if": {"properties": {"type": {"enum": ["task", null]}}},
                    "then": generator.subschema_for::<TaskStep>(),
                },
                {"if": is_type("parallel"), "then": generator.subschema_for::<ParallelStep>()},
                {"if": is_type("conditional"), "then": generator.subschema_for::<ConditionalStep>()},
                {"if": is_type("loop"), "then": generator.subschema_for::<LoopStep>()},
                {"if": is_type("team"), "then": generator.subschema_for::<TeamStep>()},
            ],
        })
    }
}

/// The JSON Schema (draft 2020-12) of a workflow document as `do` reads it, for editors.
pub fn json_schema() -> Value {
    schemars::schema_for!(WorkflowDocument).to_value()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskStep {
    /// The registered agent that runs the step (`do agent list`).
    #[schemars(regex(pattern = r"\S"))]
    pub agent: String,
    /// What to do: sent to the agent on stdin; `{{ name }}` inserts an output or `input.KEY`.
    pub task: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Inputs>,
    /// The name later steps use for this step's output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = NAME_PATTERN))]
    pub output: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParallelStep {
    /// The steps run at the same time.
    #[schemars(length(min = 1))]
    pub steps: Vec<Step>,
    /// How many of the steps run at once (all when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_concurrency: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalStep {
    /// An expression over outputs and `input.KEY` (`review.approved === true`).
    #[schemars(regex(pattern = r"\S"))]
    pub condition: String,
    pub then: Branch,
    #[serde(default, rename = "else", skip_serializing_if = "Option::is_none")]
    pub otherwise: Option<Branch>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoopStep {
    /// An output name, `input.KEY`, or an expression yielding an array.
    #[schemars(regex(pattern = r"\S"))]
    pub items: String,
    /// The step run for each item (`item` and `index` name the current one).
    pub step: Box<Step>,
    /// How many items run at once (one when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_concurrency: Option<u32>,
    /// The name of the array of the body's outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = NAME_PATTERN))]
    pub output: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamStep {
    /// The team one of whose members runs the step (`do team list`).
    #[schemars(regex(pattern = r"\S"))]
    pub team_id: String,
    /// What to do, as for a task step.
    pub task: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Inputs>,
    /// The name later steps use for this step's output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = NAME_PATTERN))]
    pub output: Option<String>,
}

/// The `then`/`else` of a conditional: one step or a list of steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Branch {
    One(Box<Step>),
    Many(#[schemars(length(min = 1))] Vec<Step>),
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

/// A step's `input`: one name or a list of names (outputs of earlier steps, or `input.KEY`),
/// kept in the shape the author wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorHandling {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    /// How many times a failed step runs again before the strategy gives up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 100))]
    pub max_retries: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Backoff>,
    /// Seconds before the first retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub initial_delay: Option<f64>,
    /// Upper bound of the delay between retries, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub max_delay: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<bool>,
    /// The step run instead when the step fails (strategy `fallback`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Box<Step>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalate_on_failure: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_on_error: Option<bool>,
}

impl ErrorHandling {
    /// A step's handling, completed by the workflow's for each field the step leaves unset; the
    /// fallback is the step's own.
    pub fn over(&self, defaults: &ErrorHandling) -> ErrorHandling {
        ErrorHandling {
            strategy: self.strategy.or(defaults.strategy),
            max_retries: self.max_retries.or(defaults.max_retries),
            backoff: self.backoff.or(defaults.backoff),
            initial_delay: self.initial_delay.or(defaults.initial_delay),
            max_delay: self.max_delay.or(defaults.max_delay),
            jitter: self.jitter.or(defaults.jitter),
            fallback: self.fallback.clone(),
            escalate_on_failure: self.escalate_on_failure.or(defaults.escalate_on_failure),
            notify_on_error: self.notify_on_error.or(defaults.notify_on_error),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    Retry,
    Fallback,
    Continue,
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
