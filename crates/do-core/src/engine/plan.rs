//! The plan: a workflow's step tree flattened into nodes addressed by index, with loop
//! iterations added when a loop starts and the workflow's fallbacks attached.

use super::NodeId;
use super::policy::retries;
use crate::workflow::{Branch, ErrorHandling, Step, StepKind, WorkflowDocument};

/// The step tree of a workflow, flattened into nodes the scheduler can address by index. Loop
/// iterations are added to it when the loop starts ([`Plan::expand_loop`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub(super) nodes: Vec<Node>,
    pub(super) roots: Vec<NodeId>,
    /// The workflow's `errorHandling`, under every step's own.
    pub(super) defaults: ErrorHandling,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub step_id: String,
    pub parent: Option<NodeId>,
    /// The nodes that run under this one: a parallel's steps, a conditional's `then` then
    /// `else` steps, a loop's iterations.
    pub children: Vec<NodeId>,
    pub kind: NodeKind,
    /// The step's `output` name, if it has one (not set inside loop iterations: their results
    /// are the loop's output).
    pub output: Option<String>,
    /// For the root of a loop iteration: the loop and the item's position.
    pub iteration: Option<(NodeId, usize)>,
    /// The step's `errorHandling` over the workflow's (`fallback` is the step's own only).
    pub handling: ErrorHandling,
    /// The node of the step's `errorHandling.fallback`, run when its retries are exhausted.
    pub fallback: Option<NodeId>,
    /// For a fallback node: the step it stands in for.
    pub fallback_for: Option<NodeId>,
    /// Longest an attempt may run, in seconds.
    pub timeout: Option<f64>,
    /// Whether a conditional or a loop is under this node (its iterations' template and its
    /// fallback included): if not, the walk for decisions need not go in.
    pub decisions_below: bool,
}

/// Who runs a task: an agent, or a member of a team chosen when the step starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Runner {
    Agent(String),
    Team(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Task {
        runner: Runner,
        task: String,
        inputs: Vec<String>,
    },
    Parallel {
        max_concurrency: Option<u32>,
    },
    Conditional {
        condition: String,
        then_count: usize,
    },
    /// `body` is the template of an iteration; it never runs itself.
    Loop {
        items: String,
        max_concurrency: Option<u32>,
        body: NodeId,
    },
}

impl Node {
    /// Returns the agent of a task node (not of a team step, whose member is chosen later).
    pub fn agent(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Task {
                runner: Runner::Agent(agent),
                ..
            } => Some(agent),
            _ => None,
        }
    }

    /// Returns the `type` of the step this node runs.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Task {
                runner: Runner::Agent(_),
                ..
            } => "task",
            NodeKind::Task {
                runner: Runner::Team(_),
                ..
            } => "team",
            NodeKind::Parallel { .. } => "parallel",
            NodeKind::Conditional { .. } => "conditional",
            NodeKind::Loop { .. } => "loop",
        }
    }

    pub(super) fn is_task(&self) -> bool {
        matches!(self.kind, NodeKind::Task { .. })
    }

    /// How many times the task runs again after a failure (its `maxRetries`, or the default
    /// of its strategy).
    pub fn max_retries(&self) -> u32 {
        retries(&self.handling)
    }
}

/// A copy of `step` whose id, and the ids of the steps under it, end with `suffix`.
pub(super) fn with_suffix(step: &Step, suffix: &str) -> Step {
    let mut copy = step.clone();
    rename(&mut copy, suffix);
    copy
}

pub(super) fn rename(step: &mut Step, suffix: &str) {
    step.id.push_str(suffix);
    let rename_all = |steps: &mut [Step]| steps.iter_mut().for_each(|s| rename(s, suffix));
    let rename_branch = |branch: &mut Branch| match branch {
        Branch::One(one) => rename(one, suffix),
        Branch::Many(many) => many.iter_mut().for_each(|s| rename(s, suffix)),
    };
    match &mut step.kind {
        StepKind::Parallel(parallel) => rename_all(&mut parallel.steps),
        StepKind::Conditional(conditional) => {
            rename_branch(&mut conditional.then);
            if let Some(otherwise) = &mut conditional.otherwise {
                rename_branch(otherwise);
            }
        }
        StepKind::Loop(lp) => rename(&mut lp.step, suffix),
        StepKind::Task(_) | StepKind::Team(_) => {}
    }
    if let Some(fallback) = step
        .error_handling
        .as_mut()
        .and_then(|eh| eh.fallback.as_mut())
    {
        rename(fallback, suffix);
    }
}

impl Plan {
    /// Flattens a validated document into a plan.
    pub fn new(document: &WorkflowDocument) -> Plan {
        let mut plan = Plan {
            nodes: Vec::new(),
            roots: Vec::new(),
            defaults: document.error_handling.clone().unwrap_or_default(),
        };
        for step in &document.steps {
            let id = plan.add(step, None);
            plan.roots.push(id);
        }
        plan.add_workflow_fallbacks();
        // Steps come after their parent, so going backwards sees a step's steps first.
        for node in (0..plan.nodes.len()).rev() {
            let step = &plan.nodes[node];
            let body = match step.kind {
                NodeKind::Loop { body, .. } => Some(body),
                _ => None,
            };
            let below = step
                .children
                .iter()
                .chain(&body)
                .chain(&step.fallback)
                .any(|&n| {
                    let under = &plan.nodes[n];
                    under.decisions_below
                        || matches!(
                            under.kind,
                            NodeKind::Conditional { .. } | NodeKind::Loop { .. }
                        )
                });
            plan.nodes[node].decisions_below = below;
        }
        plan
    }

    /// Gives every task that has no fallback of its own a copy of the workflow's
    /// `errorHandling.fallback`, run once its retries are exhausted. Each copy's ids are the
    /// fallback's suffixed with `@STEP` (`notify-oncall@deploy`), so that each run is recorded
    /// apart. Steps inside a fallback get none: a fallback's failure fails its step.
    pub(super) fn add_workflow_fallbacks(&mut self) {
        let Some(fallback) = self.defaults.fallback.clone() else {
            return;
        };
        for node in 0..self.nodes.len() {
            let step = &self.nodes[node];
            if !step.is_task() || step.fallback.is_some() || self.inside_fallback(node) {
                continue;
            }
            let copy = with_suffix(&fallback, &format!("@{}", step.step_id));
            let added = self.add(&copy, Some(node));
            self.nodes[added].fallback_for = Some(node);
            self.nodes[node].fallback = Some(added);
        }
    }

    /// Whether the node runs in place of a failed step (is a fallback or under one).
    pub(super) fn inside_fallback(&self, node: NodeId) -> bool {
        let mut at = Some(node);
        while let Some(n) = at {
            if self.nodes[n].fallback_for.is_some() {
                return true;
            }
            at = self.nodes[n].parent;
        }
        false
    }

    pub(super) fn push(
        &mut self,
        step_id: String,
        parent: Option<NodeId>,
        kind: NodeKind,
        output: Option<String>,
    ) -> NodeId {
        self.nodes.push(Node {
            step_id,
            parent,
            children: Vec::new(),
            kind,
            output,
            iteration: None,
            handling: ErrorHandling::default(),
            fallback: None,
            fallback_for: None,
            timeout: None,
            decisions_below: false,
        });
        self.nodes.len() - 1
    }

    pub(super) fn add(&mut self, step: &Step, parent: Option<NodeId>) -> NodeId {
        let node = self.add_kind(step, parent);
        let own = step.error_handling.clone().unwrap_or_default();
        let mut handling = own.over(&self.defaults);
        // The fallback is a node of its own (below), not part of the handling.
        handling.fallback = None;
        self.nodes[node].handling = handling;
        self.nodes[node].timeout = step.timeout;
        if let Some(fallback) = &own.fallback {
            // Runs in the step's place, so it hangs off the step without being one of its children.
            let fallback = self.add(fallback, Some(node));
            self.nodes[fallback].fallback_for = Some(node);
            self.nodes[node].fallback = Some(fallback);
        }
        node
    }

    pub(super) fn add_kind(&mut self, step: &Step, parent: Option<NodeId>) -> NodeId {
        let id = step.id.clone();
        match &step.kind {
            StepKind::Task(task) => {
                let kind = NodeKind::Task {
                    runner: Runner::Agent(task.agent.clone()),
                    task: task.task.clone(),
                    inputs: input_names(task.input.as_ref()),
                };
                self.push(id, parent, kind, task.output.clone())
            }
            StepKind::Team(team) => {
                let kind = NodeKind::Task {
                    runner: Runner::Team(team.team_id.clone()),
                    task: team.task.clone(),
                    inputs: input_names(team.input.as_ref()),
                };
                self.push(id, parent, kind, team.output.clone())
            }
            StepKind::Parallel(parallel) => {
                let node = self.push(
                    id,
                    parent,
                    NodeKind::Parallel {
                        max_concurrency: parallel.max_concurrency,
                    },
                    None,
                );
                for child in &parallel.steps {
                    let child = self.add(child, Some(node));
                    self.nodes[node].children.push(child);
                }
                node
            }
            StepKind::Conditional(conditional) => {
                let then_count = conditional.then.steps().len();
                let kind = NodeKind::Conditional {
                    condition: conditional.condition.clone(),
                    then_count,
                };
                let node = self.push(id, parent, kind, None);
                let otherwise = conditional
                    .otherwise
                    .as_ref()
                    .map(|b| b.steps())
                    .unwrap_or_default();
                for child in conditional.then.steps().iter().chain(otherwise) {
                    let child = self.add(child, Some(node));
                    self.nodes[node].children.push(child);
                }
                node
            }
            StepKind::Loop(lp) => {
                let kind = NodeKind::Loop {
                    items: lp.items.clone(),
                    max_concurrency: lp.max_concurrency,
                    body: 0,
                };
                let node = self.push(id, parent, kind, lp.output.clone());
                // The template hangs off the loop but is not one of its children.
                let body = self.add(&lp.step, Some(node));
                if let NodeKind::Loop { body: slot, .. } = &mut self.nodes[node].kind {
                    *slot = body;
                }
                node
            }
        }
    }

    /// Adds `count` iterations of a loop's body as its children, with ids `BODY[i]` (and
    /// `CHILD[i]` below them). Does nothing when the loop is already expanded.
    pub fn expand_loop(&mut self, node: NodeId, count: usize) {
        let NodeKind::Loop { body, .. } = self.nodes[node].kind else {
            return;
        };
        if !self.nodes[node].children.is_empty() {
            return;
        }
        for index in 0..count {
            let copy = self.copy(body, node, index);
            self.nodes[copy].iteration = Some((node, index));
            self.nodes[node].children.push(copy);
        }
    }

    pub(super) fn copy(&mut self, template: NodeId, parent: NodeId, index: usize) -> NodeId {
        let original = self.nodes[template].clone();
        let mut kind = original.kind.clone();
        let id = self.push(
            format!("{}[{index}]", original.step_id),
            Some(parent),
            NodeKind::Parallel {
                max_concurrency: None,
            },
            None,
        );
        if let NodeKind::Loop { body, .. } = &mut kind {
            let inner = self.copy(*body, id, index);
            *body = inner;
        }
        self.nodes[id].kind = kind;
        self.nodes[id].output = None;
        self.nodes[id].handling = original.handling.clone();
        self.nodes[id].timeout = original.timeout;
        self.nodes[id].decisions_below = original.decisions_below;
        if let Some(fallback) = original.fallback {
            let copy = self.copy(fallback, id, index);
            self.nodes[copy].fallback_for = Some(id);
            self.nodes[id].fallback = Some(copy);
        }
        for child in original.children {
            let child = self.copy(child, id, index);
            self.nodes[id].children.push(child);
        }
        id
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &Node)> {
        self.nodes.iter().enumerate()
    }

    /// The top-level steps, in order.
    pub fn roots(&self) -> &[NodeId] {
        &self.roots
    }

    /// Finds the node of a step id.
    pub fn find(&self, step_id: &str) -> Option<NodeId> {
        self.nodes.iter().position(|n| n.step_id == step_id)
    }

    /// The nearest loop iteration containing `node` (itself included): the loop and the index.
    pub(super) fn iteration_of(&self, node: NodeId) -> Option<(NodeId, usize)> {
        let mut current = Some(node);
        while let Some(id) = current {
            if let Some(iteration) = self.nodes[id].iteration {
                return Some(iteration);
            }
            current = self.nodes[id].parent;
        }
        None
    }
}

fn input_names(input: Option<&crate::workflow::Inputs>) -> Vec<String> {
    input.map(|i| i.names().to_vec()).unwrap_or_default()
}
