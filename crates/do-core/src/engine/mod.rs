//! The execution state machine: given the state of an execution and an event (a step started,
//! succeeded or failed), it computes the new state and the changes the daemon must make durable
//! and act on. It does no I/O: the daemon persists every [`Change`] before acting on it.
//!
//! Decisions the engine can take alone — which branch of a conditional runs, how many
//! iterations a loop has — are taken by [`ExecutionState::advance`], from the outputs it holds.

use crate::expr::{self, Scope};
use crate::model::{ExecutionStatus, StepStatus, json_type};
use crate::template;
use crate::workflow::{Backoff, Branch, ErrorHandling, Step, StepKind, Strategy, WorkflowDocument};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::collections::BTreeMap;

/// Index of a node in a [`Plan`].
pub type NodeId = usize;

/// The output name under which a loop's resolved items are stored, so that a restarted daemon
/// expands the loop the same way. `#` cannot appear in step ids or output names.
pub fn loop_items_key(loop_step_id: &str) -> String {
    format!("#items:{loop_step_id}")
}

/// The step tree of a workflow, flattened into nodes the scheduler can address by index. Loop
/// iterations are added to it when the loop starts ([`Plan::expand_loop`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    nodes: Vec<Node>,
    roots: Vec<NodeId>,
    /// The workflow's `errorHandling`, under every step's own.
    defaults: ErrorHandling,
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

    fn is_task(&self) -> bool {
        matches!(self.kind, NodeKind::Task { .. })
    }

    /// How many times the task runs again after a failure (its `maxRetries`, or the default
    /// of its strategy).
    pub fn max_retries(&self) -> u32 {
        retries(&self.handling)
    }
}

/// A copy of `step` whose id, and the ids of the steps under it, end with `suffix`.
fn with_suffix(step: &Step, suffix: &str) -> Step {
    let mut copy = step.clone();
    rename(&mut copy, suffix);
    copy
}

fn rename(step: &mut Step, suffix: &str) {
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
    fn add_workflow_fallbacks(&mut self) {
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
    fn inside_fallback(&self, node: NodeId) -> bool {
        let mut at = Some(node);
        while let Some(n) = at {
            if self.nodes[n].fallback_for.is_some() {
                return true;
            }
            at = self.nodes[n].parent;
        }
        false
    }

    fn push(
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

    fn add(&mut self, step: &Step, parent: Option<NodeId>) -> NodeId {
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

    fn add_kind(&mut self, step: &Step, parent: Option<NodeId>) -> NodeId {
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

    fn copy(&mut self, template: NodeId, parent: NodeId, index: usize) -> NodeId {
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
    fn iteration_of(&self, node: NodeId) -> Option<(NodeId, usize)> {
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

/// A durable effect the daemon must record (and then act on) after an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The step's status changed.
    Step {
        node: NodeId,
        status: StepStatus,
        error: Option<String>,
    },
    /// The step produced its result, stored under its id and its `output` name.
    Output { node: NodeId, value: Value },
    /// A loop resolved its items (stored under [`loop_items_key`]) and has one iteration each.
    Expanded { node: NodeId, items: Value },
    /// A task failed and runs again once `delay` seconds (less a random part, with `jitter`)
    /// have passed.
    Retry {
        node: NodeId,
        delay: f64,
        jitter: bool,
        error: String,
    },
    /// A step failed for good and `escalateOnFailure` asks a person to decide: the execution
    /// waits for `retry` or `cancel`.
    Escalated { node: NodeId, error: String },
    /// A running task must be ended (its process group signalled).
    Kill { node: NodeId },
    /// The execution ended.
    Finished {
        status: ExecutionStatus,
        error: Option<String>,
    },
}

/// The state of one execution: every step's status and every stored output.
#[derive(Debug, Clone)]
pub struct ExecutionState {
    plan: Plan,
    status: Vec<StepStatus>,
    /// Tasks asked to end because the execution is ending.
    killing: Vec<bool>,
    input: Value,
    outputs: BTreeMap<String, Value>,
    /// Each expanded loop's items.
    items: BTreeMap<NodeId, Vec<Value>>,
    /// Set once a step failed with strategy `fail`: nothing new starts, and the execution ends
    /// as failed when the last running task has reported.
    failure: Option<String>,
    finished: Option<ExecutionStatus>,
    /// Attempts started per task.
    attempts: Vec<u32>,
    /// Tasks waiting for their retry's backoff delay to pass.
    waiting: Vec<bool>,
    /// Tasks whose fallback runs in their place.
    in_fallback: Vec<bool>,
    /// Failed tasks the workflow goes on past (strategy `continue`).
    continued: Vec<bool>,
    /// A failure escalated to a person: nothing new starts until a retry.
    escalated: bool,
    /// Cancelled or timed out: running tasks are ended, then the execution ends so.
    stop: Option<(ExecutionStatus, String)>,
    /// Per node: how many of its first children a walk has seen finished (done, in a
    /// sequence), so that walks start after them and a parallel of thousands of steps is not
    /// read from its first step at every turn. Only a retry makes a finished step pending
    /// again, and it resets them all.
    finished_prefix: Vec<Cell<usize>>,
    /// The same for the workflow's top-level sequence.
    roots_finished_prefix: Cell<usize>,
    /// Per node: how many of its children are running, kept by [`Self::set_status`], so that
    /// a walk knows whether a `maxConcurrency` slot is free without counting them.
    running_children: Vec<usize>,
    /// How many top-level steps are done (completed, skipped or passed by `continue`), kept by
    /// [`Self::set_status`] and [`Self::set_continued`]: counting them at every commit made a
    /// chain of n steps cost O(n²).
    done_roots: usize,
}

/// What a walk of the steps within reach collects: the tasks that may start, at most
/// `wanted` of them (the walk ends once it has them), and the conditionals and loops to decide.
struct Reach {
    tasks: Vec<NodeId>,
    wanted: usize,
    decisions: Vec<NodeId>,
    /// Whether the walk is for decisions, which it must find all of.
    deciding: bool,
}

impl Reach {
    fn for_tasks(wanted: usize) -> Reach {
        Reach {
            tasks: Vec::new(),
            wanted,
            decisions: Vec::new(),
            deciding: false,
        }
    }

    fn for_decisions() -> Reach {
        Reach {
            deciding: true,
            ..Reach::for_tasks(0)
        }
    }

    fn task(&mut self, node: NodeId) {
        if self.tasks.len() < self.wanted {
            self.tasks.push(node);
        }
    }

    fn decision(&mut self, node: NodeId) {
        if self.deciding {
            self.decisions.push(node);
        }
    }

    /// Whether the walk can end here.
    fn full(&self) -> bool {
        !self.deciding && self.tasks.len() >= self.wanted
    }
}

/// Moves `prefix` past the children that `finished` says are behind us, and returns it.
fn skip_while(
    children: &[NodeId],
    prefix: &Cell<usize>,
    finished: impl Fn(NodeId) -> bool,
) -> usize {
    let mut from = prefix.get().min(children.len());
    while from < children.len() && finished(children[from]) {
        from += 1;
    }
    prefix.set(from);
    from
}

impl ExecutionState {
    /// A fresh execution: every step pending, `input` the execution input.
    pub fn new(plan: Plan, input: Value) -> ExecutionState {
        let n = plan.nodes.len();
        ExecutionState {
            plan,
            status: vec![StepStatus::Pending; n],
            killing: vec![false; n],
            input,
            outputs: BTreeMap::new(),
            items: BTreeMap::new(),
            failure: None,
            finished: None,
            attempts: vec![0; n],
            waiting: vec![false; n],
            in_fallback: vec![false; n],
            continued: vec![false; n],
            escalated: false,
            stop: None,
            finished_prefix: vec![Cell::new(0); n],
            roots_finished_prefix: Cell::new(0),
            running_children: vec![0; n],
            done_roots: 0,
        }
    }

    /// Rebuilds the state of an execution from what the store holds: step statuses by id and
    /// outputs by name (including loops' items). A task recorded as running must be passed as
    /// pending: its attempt was interrupted and it will run again.
    pub fn restore(
        plan: Plan,
        input: Value,
        steps: &BTreeMap<String, (StepStatus, u32)>,
        outputs: BTreeMap<String, Value>,
    ) -> ExecutionState {
        let mut state = ExecutionState::new(plan, input);
        state.outputs = outputs;
        // Expanding adds nodes, some of them loops to expand in turn: go until none is left.
        let mut node = 0;
        while node < state.plan.nodes.len() {
            if matches!(state.plan.nodes[node].kind, NodeKind::Loop { .. })
                && let Some(Value::Array(items)) = state
                    .outputs
                    .get(&loop_items_key(&state.plan.nodes[node].step_id))
            {
                let items = items.clone();
                state.expand(node, items);
            }
            node += 1;
        }
        for id in 0..state.plan.nodes.len() {
            let node = &state.plan.nodes[id];
            if let Some(&(status, attempts)) = steps.get(&node.step_id) {
                state.attempts[id] = attempts;
                let continued = status == StepStatus::Failed
                    && node.fallback.is_none()
                    && node.handling.strategy == Some(Strategy::Continue);
                state.set_continued(id, continued);
                state.set_status(id, status);
            }
        }
        state
    }

    /// Every change of a step's status goes through here, to keep its parent's count of
    /// running children and the count of done top-level steps.
    fn set_status(&mut self, node: NodeId, status: StepStatus) {
        let was_running = self.status[node] == StepStatus::Running;
        let was_done = self.done(node);
        self.status[node] = status;
        self.count_done_root(node, was_done);
        let is_running = status == StepStatus::Running;
        if let Some(parent) = self.plan.nodes[node].parent
            && was_running != is_running
        {
            if is_running {
                self.running_children[parent] += 1;
            } else {
                self.running_children[parent] -= 1;
            }
        }
    }

    /// Every change of whether a failed step was passed by `continue` goes through here.
    fn set_continued(&mut self, node: NodeId, continued: bool) {
        let was_done = self.done(node);
        self.continued[node] = continued;
        self.count_done_root(node, was_done);
    }

    fn count_done_root(&mut self, node: NodeId, was_done: bool) {
        if self.plan.nodes[node].parent.is_some() {
            return;
        }
        match (was_done, self.done(node)) {
            (false, true) => self.done_roots += 1,
            (true, false) => self.done_roots -= 1,
            _ => {}
        }
    }

    fn expand(&mut self, node: NodeId, items: Vec<Value>) {
        self.plan.expand_loop(node, items.len());
        self.status
            .resize(self.plan.nodes.len(), StepStatus::Pending);
        self.killing.resize(self.plan.nodes.len(), false);
        let n = self.plan.nodes.len();
        self.attempts.resize(n, 0);
        self.waiting.resize(n, false);
        self.in_fallback.resize(n, false);
        self.continued.resize(n, false);
        self.finished_prefix.resize(n, Cell::new(0));
        self.running_children.resize(n, 0);
        self.items.insert(node, items);
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    pub fn status(&self, node: NodeId) -> StepStatus {
        self.status[node]
    }

    /// Whether the workflow went on past this failed step (`strategy: continue`).
    pub fn continued(&self, node: NodeId) -> bool {
        self.continued[node]
    }

    /// The execution's end, once it has one.
    pub fn finished(&self) -> Option<ExecutionStatus> {
        self.finished
    }

    /// Returns the task nodes that may start now, in document order. Call [`Self::advance`]
    /// first, so that conditionals and loops within reach have decided.
    pub fn ready(&self) -> Vec<NodeId> {
        self.ready_up_to(usize::MAX)
    }

    /// The first `wanted` of [`Self::ready`]: the walk ends once it has found them, so that
    /// a daemon with two free slots does not list the thousand children of a parallel.
    pub fn ready_up_to(&self, wanted: usize) -> Vec<NodeId> {
        let mut reach = Reach::for_tasks(wanted);
        self.walk(&mut reach);
        reach.tasks
    }

    fn walk(&self, reach: &mut Reach) {
        if !self.stopping() && !self.escalated && self.finished.is_none() {
            self.next_in_sequence(&self.plan.roots, &self.roots_finished_prefix, reach);
        }
    }

    fn next_in_sequence(&self, children: &[NodeId], done: &Cell<usize>, reach: &mut Reach) {
        let from = skip_while(children, done, |c| self.done(c));
        for &child in &children[from..] {
            match self.status[child] {
                StepStatus::Completed | StepStatus::Skipped => continue,
                StepStatus::Pending | StepStatus::Running | StepStatus::Retrying => {
                    self.next_in_node(child, reach);
                }
                StepStatus::Failed | StepStatus::Cancelled => {}
            }
            return;
        }
    }

    /// Adds what can proceed under `node`; returns whether `node` is active (running, or
    /// something under it can start).
    fn next_in_node(&self, node: NodeId, reach: &mut Reach) -> bool {
        let status = self.status[node];
        if status.is_finished() {
            return false;
        }
        let step = &self.plan.nodes[node];
        let undecided = status == StepStatus::Pending
            && matches!(
                step.kind,
                NodeKind::Conditional { .. } | NodeKind::Loop { .. }
            );
        if reach.deciding && !undecided && !step.decisions_below {
            // Active, and nothing to decide in there.
            return true;
        }
        match &step.kind {
            NodeKind::Task { .. } => {
                if self.in_fallback[node] {
                    if let Some(fallback) = self.plan.nodes[node].fallback {
                        self.next_in_node(fallback, reach);
                    }
                } else if status == StepStatus::Pending && !self.waiting[node] {
                    reach.task(node);
                }
                true
            }
            NodeKind::Conditional { .. } => {
                if status == StepStatus::Pending {
                    reach.decision(node);
                } else {
                    self.next_in_sequence(
                        &self.plan.nodes[node].children,
                        &self.finished_prefix[node],
                        reach,
                    );
                }
                true
            }
            NodeKind::Loop {
                max_concurrency, ..
            } if status == StepStatus::Running => {
                self.next_concurrently(node, Some(max_concurrency.unwrap_or(1)), reach)
            }
            NodeKind::Loop { .. } => {
                reach.decision(node);
                true
            }
            NodeKind::Parallel { max_concurrency } => {
                self.next_concurrently(node, *max_concurrency, reach)
            }
        }
    }

    fn next_concurrently(&self, node: NodeId, max: Option<u32>, reach: &mut Reach) -> bool {
        let limit = max.map_or(usize::MAX, |m| m as usize);
        let children = &self.plan.nodes[node].children;
        let from = skip_while(children, &self.finished_prefix[node], |c| {
            self.status[c].is_finished()
        });
        let children = &children[from..];
        // Children under way count against a limit, so they are counted first; without one,
        // as they come. Those that are composite (a conditional's branch, a nested parallel,
        // a loop, a task in its fallback) may have more to start.
        let running = self.running_children[node];
        debug_assert_eq!(
            running,
            children
                .iter()
                .filter(|&&c| self.status[c] == StepStatus::Running)
                .count(),
            "running children of `{}`",
            self.plan.nodes[node].step_id
        );
        let mut active = if max.is_some() { running } else { 0 };
        let mut running_seen = 0;
        for &child in children {
            // With the slots taken and every running child seen, the rest can only wait.
            if reach.full() || (active >= limit && running_seen == running) {
                return true;
            }
            match self.status[child] {
                StepStatus::Running => {
                    running_seen += 1;
                    if max.is_none() {
                        active += 1;
                    }
                    self.next_in_node(child, reach);
                }
                StepStatus::Pending if active < limit && self.next_in_node(child, reach) => {
                    active += 1;
                }
                _ => {}
            }
        }
        active > 0 || self.status[node] == StepStatus::Running
    }

    /// Takes the decisions within reach: evaluates conditions (skipping the branch not taken)
    /// and resolves loops' items (adding their iterations), until nothing more is decidable.
    pub fn advance(&mut self) -> Vec<Change> {
        let mut changes = Vec::new();
        loop {
            let mut reach = Reach::for_decisions();
            self.walk(&mut reach);
            let decisions = reach.decisions;
            if decisions.is_empty() {
                return changes;
            }
            for node in decisions {
                if self.failure.is_some() {
                    return changes;
                }
                match self.plan.nodes[node].kind.clone() {
                    NodeKind::Conditional {
                        condition,
                        then_count,
                    } => self.decide(node, &condition, then_count, &mut changes),
                    NodeKind::Loop { items, .. } => self.unroll(node, &items, &mut changes),
                    NodeKind::Task { .. } | NodeKind::Parallel { .. } => {}
                }
            }
        }
    }

    fn decide(
        &mut self,
        node: NodeId,
        condition: &str,
        then_count: usize,
        changes: &mut Vec<Change>,
    ) {
        let value = expr::parse(condition)
            .map_err(|e| e.to_string())
            .and_then(|e| {
                e.eval(&NodeScope { state: self, node })
                    .map_err(|e| e.to_string())
            });
        let taken = match value {
            Ok(value) => expr::truthy(&value),
            Err(error) => {
                self.fail_composite(node, format!("condition `{condition}`: {error}"), changes);
                return;
            }
        };
        self.start(node).into_iter().for_each(|c| changes.push(c));
        let children = self.plan.nodes[node].children.clone();
        let skipped = if taken {
            &children[then_count..]
        } else {
            &children[..then_count]
        };
        for &child in skipped {
            self.skip(child, changes);
        }
        self.settle_node(node, changes);
    }

    fn skip(&mut self, node: NodeId, changes: &mut Vec<Change>) {
        self.set(node, StepStatus::Skipped, None, changes);
        for child in self.plan.nodes[node].children.clone() {
            self.skip(child, changes);
        }
    }

    fn unroll(&mut self, node: NodeId, source: &str, changes: &mut Vec<Change>) {
        let value = expr::parse(source)
            .map_err(|e| e.to_string())
            .and_then(|e| {
                e.eval(&NodeScope { state: self, node })
                    .map_err(|e| e.to_string())
            });
        let items = match value {
            Ok(Value::Array(items)) => items,
            Ok(other) => {
                let found = json_type(&other);
                let error = format!("`items` (`{source}`) must be an array, found {found}");
                self.fail_composite(node, error, changes);
                return;
            }
            Err(error) => {
                self.fail_composite(node, format!("`items` (`{source}`): {error}"), changes);
                return;
            }
        };
        self.start(node).into_iter().for_each(|c| changes.push(c));
        changes.push(Change::Expanded {
            node,
            items: Value::Array(items.clone()),
        });
        let step_id = self.plan.nodes[node].step_id.clone();
        self.outputs
            .insert(loop_items_key(&step_id), Value::Array(items.clone()));
        self.expand(node, items);
        self.settle_node(node, changes);
    }

    /// A conditional or loop that cannot proceed fails like a task would.
    fn fail_composite(&mut self, node: NodeId, error: String, changes: &mut Vec<Change>) {
        changes.extend(self.start(node));
        changes.extend(self.fail(node, error));
    }

    /// Records that a ready task started; its pending ancestors start with it (listed first,
    /// outermost first, so that events read top-down).
    pub fn start(&mut self, node: NodeId) -> Vec<Change> {
        let mut changes = Vec::new();
        if self.plan.nodes[node].is_task() {
            self.attempts[node] += 1;
        }
        let mut current = Some(node);
        while let Some(id) = current {
            if self.status[id] != StepStatus::Pending {
                break;
            }
            self.set_status(id, StepStatus::Running);
            changes.push(Change::Step {
                node: id,
                status: StepStatus::Running,
                error: None,
            });
            current = self.plan.nodes[id].parent;
        }
        changes.reverse();
        changes
    }

    /// Records a task's success and whatever that completes in turn.
    pub fn succeed(&mut self, node: NodeId, value: Value) -> Vec<Change> {
        let mut changes = Vec::new();
        self.complete(node, value.clone(), &mut changes);
        match self.plan.nodes[node].fallback_for {
            // The fallback's output replaces the failed step's, and the workflow goes on.
            Some(step) if !self.stopping() => {
                self.in_fallback[step] = false;
                self.complete(step, value, &mut changes);
                self.settle(step, &mut changes);
            }
            _ => self.settle(node, &mut changes),
        }
        changes
    }

    /// Records a task's failure, and applies its error handling: retry after a backoff delay,
    /// run its fallback, go on (`continue`), escalate to a person, or (`fail`, the default) stop
    /// the execution: running tasks are ended, nothing new starts, and it fails once they have
    /// all reported.
    pub fn fail(&mut self, node: NodeId, error: String) -> Vec<Change> {
        let mut changes = Vec::new();
        if self.killing[node] || self.stop.is_some() {
            self.set(node, StepStatus::Cancelled, Some(error), &mut changes);
            self.settle(node, &mut changes);
            return changes;
        }
        if let Some(step) = self.plan.nodes[node].fallback_for {
            self.set(node, StepStatus::Failed, Some(error.clone()), &mut changes);
            self.in_fallback[step] = false;
            let fallback = &self.plan.nodes[node].step_id;
            self.give_up(
                step,
                format!("its fallback `{fallback}` failed too: {error}"),
                &mut changes,
            );
            return changes;
        }
        let step = &self.plan.nodes[node];
        if step.is_task() && self.attempts[node] <= retries(&step.handling) {
            let delay = backoff_delay(&step.handling, self.attempts[node]);
            let jitter = step.handling.jitter.unwrap_or(false);
            self.set_status(node, StepStatus::Pending);
            self.waiting[node] = true;
            changes.push(Change::Retry {
                node,
                delay,
                jitter,
                error,
            });
            return changes;
        }
        if let Some(fallback) = step.fallback {
            let message = format!(
                "{error}; running fallback `{}`",
                self.plan.nodes[fallback].step_id
            );
            self.in_fallback[node] = true;
            changes.push(Change::Step {
                node,
                status: StepStatus::Running,
                error: Some(message),
            });
            return changes;
        }
        self.give_up(node, error, &mut changes);
        changes
    }

    /// A step failed for good: the workflow goes on, waits for a person, or stops.
    fn give_up(&mut self, node: NodeId, error: String, changes: &mut Vec<Change>) {
        self.set(node, StepStatus::Failed, Some(error.clone()), changes);
        let step = &self.plan.nodes[node];
        let message = format!("step `{}` failed: {error}", step.step_id);
        if step.handling.strategy == Some(Strategy::Continue) {
            let step_id = step.step_id.clone();
            self.set_continued(node, true);
            self.outputs.insert(step_id, Value::Null);
            if let Some(name) = self.plan.nodes[node].output.clone() {
                self.outputs.insert(name, Value::Null);
            }
            changes.push(Change::Output {
                node,
                value: Value::Null,
            });
            self.settle(node, changes);
        } else if step.handling.escalate_on_failure == Some(true) {
            self.escalated = true;
            changes.push(Change::Escalated {
                node,
                error: message,
            });
        } else {
            if self.failure.is_none() {
                self.failure = Some(message);
                self.kill_running(changes);
            }
            self.settle(node, changes);
        }
    }

    fn kill_running(&mut self, changes: &mut Vec<Change>) {
        for id in 0..self.plan.nodes.len() {
            if self.status[id] == StepStatus::Running
                && self.plan.nodes[id].is_task()
                && !self.killing[id]
            {
                self.killing[id] = true;
                changes.push(Change::Kill { node: id });
            }
        }
    }

    /// Cancels the execution (or times it out): running tasks are ended, nothing new starts,
    /// and it ends with `status` once none runs.
    /// The first stop wins: a timeout during a cancel (or a second cancel) keeps the first's
    /// status and reason.
    pub fn cancel(&mut self, status: ExecutionStatus, reason: String) -> Vec<Change> {
        let mut changes = Vec::new();
        if self.finished.is_some() {
            return changes;
        }
        self.stop.get_or_insert((status, reason));
        self.kill_running(&mut changes);
        self.finish_if_done(&mut changes);
        changes
    }

    /// The status a cancel or timeout under way will end the execution with, and its reason.
    pub fn stopping_as(&self) -> Option<(ExecutionStatus, &str)> {
        self.stop
            .as_ref()
            .map(|(status, reason)| (*status, reason.as_str()))
    }

    /// After [`Self::restore`] of an execution that had not ended: a step that failed for good
    /// and was not continued past was stopping it (`error`, the step's), unless the execution
    /// waits for a person. `error` gives a step's recorded error by id. Returns what that
    /// decides now: the ends of the tasks still running, or the execution's end.
    pub fn resume_failure<'a>(
        &mut self,
        escalated: bool,
        error: impl Fn(&str) -> Option<&'a str>,
    ) -> Vec<Change> {
        let mut changes = Vec::new();
        if escalated {
            self.escalated = true;
            return changes;
        }
        // A task's failure is the cause; a composite fails alone only when its condition or
        // its items could not be evaluated. A failed fallback stands for its step, and a step
        // under `continue` stops nothing.
        let stopped = |n: &NodeId| {
            let node = &self.plan.nodes[*n];
            self.status[*n] == StepStatus::Failed
                && !self.continued[*n]
                && node.fallback_for.is_none()
                && node.handling.strategy != Some(Strategy::Continue)
        };
        let nodes = 0..self.plan.nodes.len();
        let failed = nodes
            .clone()
            .filter(|n| self.plan.nodes[*n].is_task())
            .find(stopped)
            .or_else(|| nodes.clone().find(stopped));
        if let Some(node) = failed
            && self.failure.is_none()
        {
            let step_id = &self.plan.nodes[node].step_id;
            self.failure = Some(match error(step_id) {
                Some(error) => format!("step `{step_id}` failed: {error}"),
                None => format!("step `{step_id}` failed"),
            });
            self.kill_running(&mut changes);
            self.finish_if_done(&mut changes);
        }
        changes
    }

    /// After [`Self::restore`]: `node`, recorded as running while no attempt of its own runs,
    /// is running its fallback.
    pub fn resume_fallback(&mut self, node: NodeId) {
        if self.plan.nodes[node].fallback.is_some() {
            self.in_fallback[node] = true;
        }
    }

    /// Lets a task whose retry delay has passed start again.
    pub fn wake(&mut self, node: NodeId) {
        if let Some(waiting) = self.waiting.get_mut(node) {
            *waiting = false;
        }
    }

    /// Marks a pending task as waiting for its retry delay (after a restart).
    pub fn wait(&mut self, node: NodeId) {
        if let Some(waiting) = self.waiting.get_mut(node) {
            *waiting = true;
        }
    }

    /// Makes a failed step run again (a new attempt, numbered after the earlier ones), with the
    /// steps that were cut short by its failure; the workflow then continues from there.
    pub fn retry_step(&mut self, node: NodeId) -> Result<Vec<Change>, String> {
        let step = &self.plan.nodes[node];
        if self.status[node] != StepStatus::Failed {
            return Err(format!(
                "step `{}` is {}, not failed; only a failed step can be retried",
                step.step_id, self.status[node]
            ));
        }
        if self.continued[node] {
            return Err(format!(
                "step `{}` failed, but the workflow went on past it (`strategy: continue`); \
                 only a step that stopped the execution can be retried",
                step.step_id
            ));
        }
        self.failure = None;
        self.escalated = false;
        self.finished = None;
        self.stop = None;
        self.finished_prefix.iter().for_each(|c| c.set(0));
        self.roots_finished_prefix.set(0);
        let mut changes = Vec::new();
        // Every step that stopped the execution runs again with it (another failed step, a
        // failed fallback, the steps the failure cancelled): left as they are, they would hold
        // the execution forever.
        let mut reset = vec![node];
        reset.extend(
            (0..self.plan.nodes.len()).filter(|&n| match self.status[n] {
                StepStatus::Cancelled => true,
                StepStatus::Failed => !self.continued[n],
                _ => false,
            }),
        );
        for id in reset {
            let mut current = Some(id);
            while let Some(n) = current {
                if matches!(self.status[n], StepStatus::Failed | StepStatus::Cancelled) {
                    self.set_continued(n, false);
                    self.in_fallback[n] = false;
                    self.killing[n] = false;
                    self.set(n, StepStatus::Pending, None, &mut changes);
                }
                current = self.plan.nodes[n].parent;
            }
        }
        Ok(changes)
    }

    /// The attempts a task has started.
    pub fn attempts(&self, node: NodeId) -> u32 {
        self.attempts[node]
    }

    fn stopping(&self) -> bool {
        self.failure.is_some() || self.stop.is_some()
    }

    /// Whether the sequence can go on past `node`.
    fn done(&self, node: NodeId) -> bool {
        match self.status[node] {
            StepStatus::Completed | StepStatus::Skipped => true,
            StepStatus::Failed => self.continued[node],
            _ => false,
        }
    }

    fn set(
        &mut self,
        node: NodeId,
        status: StepStatus,
        error: Option<String>,
        changes: &mut Vec<Change>,
    ) {
        self.set_status(node, status);
        changes.push(Change::Step {
            node,
            status,
            error,
        });
    }

    fn complete(&mut self, node: NodeId, value: Value, changes: &mut Vec<Change>) {
        let step = &self.plan.nodes[node];
        self.outputs.insert(step.step_id.clone(), value.clone());
        if let Some(name) = &step.output {
            self.outputs.insert(name.clone(), value.clone());
        }
        changes.push(Change::Output { node, value });
        self.set(node, StepStatus::Completed, None, changes);
    }

    /// After `node` finished: finishes the composites above it whose children are all done,
    /// and the execution when nothing is left.
    fn settle(&mut self, node: NodeId, changes: &mut Vec<Change>) {
        match self.plan.nodes[node].parent {
            Some(parent) => self.settle_node(parent, changes),
            None => self.finish_if_done(changes),
        }
    }

    /// Finishes the composite `node` if nothing under it is left to do, then looks upwards.
    fn settle_node(&mut self, node: NodeId, changes: &mut Vec<Change>) {
        let mut current = Some(node);
        while let Some(parent) = current {
            if self.status[parent].is_finished() {
                break;
            }
            let from = self.finished_prefix[parent].get();
            if self.plan.nodes[parent].children[from..]
                .iter()
                .any(|&c| !self.status[c].is_finished())
            {
                if !self.stopping() {
                    return;
                }
                // A failing execution leaves pending children unstarted: the parent ends as soon
                // as no task under it is running. A composite child that started but runs
                // nothing now (a branch between two steps) would never report: it ends here.
                let children = self.plan.nodes[parent].children.clone();
                if children.iter().any(|&c| self.busy(c)) {
                    return;
                }
                for &child in &children {
                    if self.status[child] == StepStatus::Running {
                        self.wind_down(child, changes);
                    }
                }
            }
            if let Some(error) = self.failed_child(parent) {
                self.set(parent, StepStatus::Failed, Some(error), changes);
            } else if self.plan.nodes[parent]
                .children
                .iter()
                .all(|&c| self.done(c))
            {
                let value = self.composite_output(parent);
                self.complete(parent, value, changes);
            } else {
                self.set(parent, StepStatus::Cancelled, None, changes);
            }
            current = self.plan.nodes[parent].parent;
        }
        self.finish_if_done(changes);
    }

    /// Whether a task's process runs under `node` (or is `node`'s): a task in its fallback
    /// has none of its own, its fallback may.
    fn busy(&self, node: NodeId) -> bool {
        if self.status[node] != StepStatus::Running {
            return false;
        }
        let step = &self.plan.nodes[node];
        if step.is_task() {
            return match step.fallback {
                Some(fallback) if self.in_fallback[node] => self.busy(fallback),
                _ => true,
            };
        }
        step.children.iter().any(|&c| self.busy(c))
    }

    /// Ends a started step under which nothing runs while the execution stops: failed if a
    /// step under it failed, else cancelled.
    fn wind_down(&mut self, node: NodeId, changes: &mut Vec<Change>) {
        let children = self.plan.nodes[node].children.clone();
        for &child in &children {
            if self.status[child] == StepStatus::Running {
                self.wind_down(child, changes);
            }
        }
        match self.failed_child(node) {
            Some(error) => self.set(node, StepStatus::Failed, Some(error), changes),
            None => self.set(node, StepStatus::Cancelled, None, changes),
        }
    }

    /// The error a composite ends with when one of its steps failed and was not continued
    /// past.
    fn failed_child(&self, node: NodeId) -> Option<String> {
        self.plan.nodes[node]
            .children
            .iter()
            .find(|&&c| self.status[c] == StepStatus::Failed && !self.continued[c])
            .map(|&c| format!("step `{}` failed", self.plan.nodes[c].step_id))
    }

    /// A composite step's result. Parallel: its children's results by output name (or id).
    /// Conditional: the result of the last step of the branch taken. Loop: the iterations'
    /// results in item order.
    fn composite_output(&self, node: NodeId) -> Value {
        let children = &self.plan.nodes[node].children;
        let output_of = |child: NodeId| {
            self.outputs
                .get(&self.plan.nodes[child].step_id)
                .cloned()
                .unwrap_or(Value::Null)
        };
        match &self.plan.nodes[node].kind {
            NodeKind::Loop { .. } => Value::Array(children.iter().map(|&c| output_of(c)).collect()),
            NodeKind::Conditional { .. } => children
                .iter()
                .rev()
                .find(|&&c| self.status[c] == StepStatus::Completed)
                .map_or(Value::Null, |&c| output_of(c)),
            NodeKind::Parallel { .. } | NodeKind::Task { .. } => {
                let mut map = Map::new();
                for &child in children {
                    let node = &self.plan.nodes[child];
                    map.insert(
                        node.output.clone().unwrap_or_else(|| node.step_id.clone()),
                        output_of(child),
                    );
                }
                Value::Object(map)
            }
        }
    }

    fn finish_if_done(&mut self, changes: &mut Vec<Change>) {
        if self.finished.is_some() {
            return;
        }
        let tasks_running = || self.plan.roots.iter().any(|&r| self.busy(r));
        if let Some((status, reason)) = self.stop.clone() {
            if tasks_running() {
                return;
            }
            for n in 0..self.plan.nodes.len() {
                if self.status[n] == StepStatus::Running {
                    self.set(n, StepStatus::Cancelled, None, changes);
                }
            }
            changes.push(Change::Finished {
                status,
                error: Some(reason),
            });
            self.finished = Some(status);
            return;
        }
        let status = if let Some(error) = self.failure.clone() {
            if tasks_running() {
                return;
            }
            for root in self.plan.roots.clone() {
                if self.status[root] == StepStatus::Running {
                    self.wind_down(root, changes);
                }
            }
            changes.push(Change::Finished {
                status: ExecutionStatus::Failed,
                error: Some(error.clone()),
            });
            ExecutionStatus::Failed
        } else if self.plan.roots.iter().all(|&r| self.done(r)) {
            changes.push(Change::Finished {
                status: ExecutionStatus::Completed,
                error: None,
            });
            ExecutionStatus::Completed
        } else {
            return;
        };
        self.finished = Some(status);
    }

    /// The values a task receives: each `input` name mapped to its value (`input.KEY` from the
    /// execution input, `item`/`index` in a loop; an output not produced, e.g. by a skipped
    /// branch, is `null`).
    pub fn inputs_for(&self, node: NodeId) -> Map<String, Value> {
        let mut map = Map::new();
        if let NodeKind::Task { inputs, .. } = &self.plan.nodes[node].kind {
            let scope = NodeScope { state: self, node };
            for name in inputs {
                let value = expr::parse(name)
                    .ok()
                    .and_then(|e| e.eval(&scope).ok())
                    .unwrap_or(Value::Null);
                map.insert(name.clone(), value);
            }
        }
        map
    }

    /// The task text with its `{{ expr }}` placeholders filled in.
    pub fn task_text(&self, node: NodeId) -> Result<String, String> {
        let NodeKind::Task { task, .. } = &self.plan.nodes[node].kind else {
            return Ok(String::new());
        };
        let template = template::parse(task).map_err(|e| format!("task text: {e}"))?;
        template
            .render(&NodeScope { state: self, node })
            .map_err(|e| format!("task text: {e}"))
    }

    /// The loop item and position of a node inside a loop iteration.
    pub fn item_of(&self, node: NodeId) -> Option<(Value, usize)> {
        let (lp, index) = self.plan.iteration_of(node)?;
        Some((
            self.items
                .get(&lp)?
                .get(index)
                .cloned()
                .unwrap_or(Value::Null),
            index,
        ))
    }

    /// Completed (or skipped) top-level steps, for `progress`.
    pub fn completed_roots(&self) -> usize {
        debug_assert_eq!(
            self.done_roots,
            self.plan.roots.iter().filter(|&&r| self.done(r)).count(),
            "done top-level steps"
        );
        self.done_roots
    }

    /// The first top-level step that has not finished, or that failed and holds the execution
    /// (escalated, or stopping it): the API's `currentStep`. An escalated execution's current
    /// step is the one that waits for a person, not the one after it.
    pub fn current_step(&self) -> Option<&str> {
        // The steps before this prefix are done.
        self.plan.roots[self.roots_finished_prefix.get()..]
            .iter()
            .find(|&&r| {
                !self.status[r].is_finished()
                    || (self.status[r] == StepStatus::Failed && !self.continued[r])
            })
            .map(|&r| self.plan.nodes[r].step_id.as_str())
    }
}

fn input_names(input: Option<&crate::workflow::Inputs>) -> Vec<String> {
    input.map(|i| i.names().to_vec()).unwrap_or_default()
}

/// How many times a failed task runs again: `maxRetries`, else 3 under `strategy: retry`, else
/// none.
pub fn retries(handling: &ErrorHandling) -> u32 {
    match (handling.max_retries, handling.strategy) {
        (Some(n), _) => n,
        (None, Some(Strategy::Retry)) => 3,
        (None, _) => 0,
    }
}

/// Seconds to wait before retry number `retry` (1, 2, …): `initialDelay` (default 1 s) grown by
/// the backoff (default exponential), at most `maxDelay` (default 5 minutes).
pub fn backoff_delay(handling: &ErrorHandling, retry: u32) -> f64 {
    let initial = handling.initial_delay.unwrap_or(1.0);
    let n = f64::from(retry.max(1));
    let delay = match handling.backoff.unwrap_or(Backoff::Exponential) {
        Backoff::Exponential => initial * 2f64.powf(n - 1.0),
        Backoff::Linear => initial * n,
        Backoff::Fixed => initial,
    };
    delay.min(handling.max_delay.unwrap_or(300.0)).max(0.0)
}

/// Names as a step sees them: `input`, `item` and `index` inside a loop, outputs and step ids.
struct NodeScope<'a> {
    state: &'a ExecutionState,
    node: NodeId,
}

impl Scope for NodeScope<'_> {
    fn lookup(&self, name: &str) -> Option<Value> {
        match name {
            "input" => Some(self.state.input.clone()),
            "item" => self.state.item_of(self.node).map(|(item, _)| item),
            "index" => self
                .state
                .item_of(self.node)
                .map(|(_, index)| Value::from(index)),
            _ => self.state.outputs.get(name).cloned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(doc: Value) -> Plan {
        let document: WorkflowDocument = serde_json::from_value(doc).expect("test document");
        Plan::new(&document)
    }

    fn task(id: &str, input: Value, output: Option<&str>) -> Value {
        let mut step = json!({"id": id, "type": "task", "agent": "a", "task": format!("do {id}")});
        if !input.is_null() {
            step["input"] = input;
        }
        if let Some(output) = output {
            step["output"] = json!(output);
        }
        step
    }

    fn parallel(id: &str, steps: Vec<Value>) -> Value {
        json!({"id": id, "type": "parallel", "steps": steps})
    }

    /// The API document's SaaS launch workflow, reduced to its shape.
    fn saas() -> ExecutionState {
        let doc = json!({"name": "saas", "steps": [
            task("market-research", Value::Null, Some("research-data")),
            task("product-strategy", json!("research-data"), Some("strategy-doc")),
            parallel("parallel-development", vec![
                task("backend-dev", json!("strategy-doc"), Some("backend-code")),
                task("frontend-dev", json!("strategy-doc"), Some("frontend-code")),
            ]),
            task("testing", json!(["backend-code", "frontend-code"]), Some("test-results")),
            task("deploy", json!(["backend-code", "frontend-code", "test-results"]), Some("deployment-url")),
        ]});
        ExecutionState::new(plan(doc), json!({"productName": "CloudSync Pro"}))
    }

    fn ids(state: &ExecutionState, nodes: &[NodeId]) -> Vec<String> {
        nodes
            .iter()
            .map(|&n| state.plan().node(n).step_id.clone())
            .collect()
    }

    fn node(state: &ExecutionState, id: &str) -> NodeId {
        state.plan().find(id).expect("step exists")
    }

    fn run_ok(state: &mut ExecutionState, id: &str, value: Value) -> Vec<Change> {
        let n = node(state, id);
        state.start(n);
        state.succeed(n, value)
    }

    #[test]
    fn sequence_runs_one_step_at_a_time_in_order() {
        let mut state = saas();
        assert_eq!(ids(&state, &state.ready()), ["market-research"]);
        let n = node(&state, "market-research");
        state.start(n);
        assert!(
            state.ready().is_empty(),
            "nothing else starts while the first step runs"
        );
        assert_eq!(state.current_step(), Some("market-research"));
        state.succeed(n, json!("r"));
        assert_eq!(ids(&state, &state.ready()), ["product-strategy"]);
        assert_eq!(state.completed_roots(), 1);
    }

    #[test]
    fn parallel_children_are_ready_together_and_complete_the_parent() {
        let mut state = saas();
        run_ok(&mut state, "market-research", json!("r"));
        run_ok(&mut state, "product-strategy", json!("s"));
        assert_eq!(ids(&state, &state.ready()), ["backend-dev", "frontend-dev"]);
        let backend = node(&state, "backend-dev");
        let changes = state.start(backend);
        let parent = node(&state, "parallel-development");
        assert!(changes.contains(&Change::Step {
            node: parent,
            status: StepStatus::Running,
            error: None
        }));
        assert_eq!(
            ids(&state, &state.ready()),
            ["frontend-dev"],
            "the sibling is still ready"
        );
        assert_eq!(state.current_step(), Some("parallel-development"));
        state.succeed(backend, json!("b"));
        assert_eq!(state.status(parent), StepStatus::Running);
        let changes = run_ok(&mut state, "frontend-dev", json!("f"));
        assert!(changes.contains(&Change::Step {
            node: parent,
            status: StepStatus::Completed,
            error: None
        }));
        assert!(changes.contains(&Change::Output {
            node: parent,
            value: json!({"backend-code": "b", "frontend-code": "f"})
        }));
        assert_eq!(ids(&state, &state.ready()), ["testing"]);
    }

    #[test]
    fn inputs_resolve_outputs_step_ids_and_execution_input() {
        let mut state = saas();
        run_ok(&mut state, "market-research", json!({"pages": 3}));
        let strategy = node(&state, "product-strategy");
        assert_eq!(
            Value::Object(state.inputs_for(strategy)),
            json!({"research-data": {"pages": 3}})
        );
        run_ok(&mut state, "product-strategy", json!("s"));
        run_ok(&mut state, "backend-dev", json!("b"));
        run_ok(&mut state, "frontend-dev", json!("f"));
        let testing = node(&state, "testing");
        assert_eq!(
            Value::Object(state.inputs_for(testing)),
            json!({"backend-code": "b", "frontend-code": "f"})
        );

        let doc = json!({"name": "w", "steps": [
            task("a", Value::Null, None),
            task("b", json!(["a", "input.productName", "input.missing"]), None),
        ]});
        let mut state = ExecutionState::new(plan(doc), json!({"productName": "CloudSync Pro"}));
        run_ok(&mut state, "a", json!(1));
        let b = node(&state, "b");
        assert_eq!(
            Value::Object(state.inputs_for(b)),
            json!({"a": 1, "input.productName": "CloudSync Pro", "input.missing": null})
        );
    }

    #[test]
    fn the_whole_saas_workflow_completes_with_full_progress() {
        let mut state = saas();
        for id in [
            "market-research",
            "product-strategy",
            "backend-dev",
            "frontend-dev",
            "testing",
        ] {
            run_ok(&mut state, id, json!(id));
            assert_eq!(state.finished(), None);
        }
        let changes = run_ok(&mut state, "deploy", json!("https://example.test"));
        assert_eq!(
            changes.last(),
            Some(&Change::Finished {
                status: ExecutionStatus::Completed,
                error: None
            })
        );
        assert_eq!(state.finished(), Some(ExecutionStatus::Completed));
        assert_eq!(state.completed_roots(), 5);
        assert_eq!(state.current_step(), None);
        assert!(state.ready().is_empty());
    }

    #[test]
    fn a_failed_step_fails_the_execution_and_later_steps_never_start() {
        let mut state = saas();
        run_ok(&mut state, "market-research", json!("r"));
        let n = node(&state, "product-strategy");
        state.start(n);
        let changes = state.fail(n, "exit status 3".into());
        assert_eq!(
            changes.last(),
            Some(&Change::Finished {
                status: ExecutionStatus::Failed,
                error: Some("step `product-strategy` failed: exit status 3".into())
            })
        );
        assert!(state.ready().is_empty());
        for later in ["parallel-development", "backend-dev", "testing", "deploy"] {
            assert_eq!(
                state.status(node(&state, later)),
                StepStatus::Pending,
                "{later}"
            );
        }
    }

    #[test]
    fn a_failing_parallel_child_kills_its_running_sibling_and_waits_for_it() {
        let mut state = saas();
        run_ok(&mut state, "market-research", json!("r"));
        run_ok(&mut state, "product-strategy", json!("s"));
        let (backend, frontend) = (node(&state, "backend-dev"), node(&state, "frontend-dev"));
        state.start(backend);
        state.start(frontend);
        let changes = state.fail(backend, "exit status 1".into());
        assert!(changes.contains(&Change::Kill { node: frontend }));
        assert!(
            !changes.iter().any(|c| matches!(c, Change::Finished { .. })),
            "frontend still runs"
        );
        assert!(state.ready().is_empty());
        let changes = state.fail(frontend, "killed by SIGTERM".into());
        assert_eq!(state.status(frontend), StepStatus::Cancelled);
        let parent = node(&state, "parallel-development");
        assert_eq!(state.status(parent), StepStatus::Failed);
        assert!(matches!(
            changes.last(),
            Some(Change::Finished {
                status: ExecutionStatus::Failed,
                ..
            })
        ));
    }

    #[test]
    fn a_killed_task_that_succeeded_anyway_keeps_its_output() {
        let mut state = saas();
        run_ok(&mut state, "market-research", json!("r"));
        run_ok(&mut state, "product-strategy", json!("s"));
        let (backend, frontend) = (node(&state, "backend-dev"), node(&state, "frontend-dev"));
        state.start(backend);
        state.start(frontend);
        state.fail(backend, "boom".into());
        let changes = state.succeed(frontend, json!("f"));
        assert_eq!(state.status(frontend), StepStatus::Completed);
        assert!(changes.contains(&Change::Output {
            node: frontend,
            value: json!("f")
        }));
        assert!(matches!(
            changes.last(),
            Some(Change::Finished {
                status: ExecutionStatus::Failed,
                ..
            })
        ));
    }

    #[test]
    fn ready_up_to_gives_the_first_ready_tasks_in_document_order() {
        let doc = json!({"name": "w", "steps": [
            parallel("p", (0..6).map(|i| task(&format!("t{i}"), Value::Null, None)).collect()),
        ]});
        let mut state = ExecutionState::new(plan(doc), json!({}));
        assert_eq!(ids(&state, &state.ready_up_to(2)), ["t0", "t1"]);
        state.start(node(&state, "t0"));
        run_ok(&mut state, "t1", json!(1));
        assert_eq!(ids(&state, &state.ready_up_to(3)), ["t2", "t3", "t4"]);
        assert_eq!(ids(&state, &state.ready_up_to(0)), Vec::<String>::new());
        assert_eq!(ids(&state, &state.ready()), ["t2", "t3", "t4", "t5"]);
    }

    #[test]
    fn max_concurrency_limits_parallel_children() {
        let mut doc = json!({"name": "w", "steps": [parallel("p", vec![
            task("a", Value::Null, None), task("b", Value::Null, None), task("c", Value::Null, None),
        ])]});
        doc["steps"][0]["maxConcurrency"] = json!(2);
        let mut state = ExecutionState::new(plan(doc), json!({}));
        assert_eq!(ids(&state, &state.ready()), ["a", "b"]);
        state.start(node(&state, "a"));
        assert_eq!(ids(&state, &state.ready()), ["b"]);
        state.start(node(&state, "b"));
        assert!(state.ready().is_empty());
        state.succeed(node(&state, "a"), json!(null));
        assert_eq!(ids(&state, &state.ready()), ["c"]);
    }

    #[test]
    fn nested_parallel_and_sequence_inside_parallel() {
        let doc = json!({"name": "w", "steps": [
            parallel("outer", vec![
                parallel("inner", vec![task("x", Value::Null, None), task("y", Value::Null, None)]),
                task("z", Value::Null, Some("zed")),
            ]),
            task("after", json!(["x", "zed"]), None),
        ]});
        let mut state = ExecutionState::new(plan(doc), json!({}));
        assert_eq!(ids(&state, &state.ready()), ["x", "y", "z"]);
        let x = node(&state, "x");
        let changes = state.start(x);
        let (inner, outer) = (node(&state, "inner"), node(&state, "outer"));
        assert_eq!(
            changes,
            vec![
                Change::Step {
                    node: outer,
                    status: StepStatus::Running,
                    error: None
                },
                Change::Step {
                    node: inner,
                    status: StepStatus::Running,
                    error: None
                },
                Change::Step {
                    node: x,
                    status: StepStatus::Running,
                    error: None
                },
            ]
        );
        run_ok(&mut state, "y", json!("y"));
        state.succeed(x, json!("x"));
        assert_eq!(state.status(inner), StepStatus::Completed);
        assert_eq!(state.status(outer), StepStatus::Running);
        run_ok(&mut state, "z", json!("z"));
        assert_eq!(state.status(outer), StepStatus::Completed);
        let after = node(&state, "after");
        assert_eq!(
            Value::Object(state.inputs_for(after)),
            json!({"x": "x", "zed": "z"})
        );
        assert_eq!(ids(&state, &state.ready()), ["after"]);
    }

    /// Runs the execution one step at a time, as a daemon whose limit is one running step
    /// does: advance, start the first ready task, let it succeed; returns the tasks in the
    /// order they ran.
    fn run_one_at_a_time(state: &mut ExecutionState) -> Vec<String> {
        let mut ran = Vec::new();
        loop {
            state.advance();
            let Some(&next) = state.ready().first() else {
                return ran;
            };
            ran.push(state.plan().node(next).step_id.clone());
            state.start(next);
            state.succeed(next, json!(ran.len()));
        }
    }

    #[test]
    fn composite_steps_inside_a_parallel_go_on_once_they_are_running() {
        let doc = json!({"name": "w", "steps": [
            parallel("outer", vec![
                parallel("inner", vec![task("x", Value::Null, None), task("y", Value::Null, None)]),
                json!({"id": "cond", "type": "conditional", "condition": "true",
                 "then": [task("a", Value::Null, None), task("b", Value::Null, None)]}),
                json!({"id": "lp", "type": "loop", "items": "[1, 2]",
                 "step": {"id": "it", "type": "task", "agent": "a", "task": "t"}}),
                task("z", Value::Null, None),
            ]),
            task("after", Value::Null, None),
        ]});
        let mut state = ExecutionState::new(plan(doc), json!({}));
        let ran = run_one_at_a_time(&mut state);
        assert_eq!(ran, ["x", "y", "a", "b", "it[0]", "it[1]", "z", "after"]);
        assert_eq!(state.finished(), Some(ExecutionStatus::Completed));
    }

    #[test]
    fn a_loop_of_conditionals_goes_on_one_step_at_a_time() {
        let doc = json!({"name": "w", "steps": [
            {"id": "lp", "type": "loop", "items": "[1, 2]", "maxConcurrency": 2,
             "step": {"id": "c", "type": "conditional", "condition": "true",
                      "then": [task("p", Value::Null, None), task("q", Value::Null, None)]}},
        ]});
        let mut state = ExecutionState::new(plan(doc), json!({}));
        let ran = run_one_at_a_time(&mut state);
        assert_eq!(ran.len(), 4, "{ran:?}");
        assert_eq!(state.finished(), Some(ExecutionStatus::Completed));
    }

    #[test]
    fn restore_continues_where_the_store_left_off() {
        let mut state = saas();
        run_ok(&mut state, "market-research", json!("r"));
        run_ok(&mut state, "product-strategy", json!("s"));
        run_ok(&mut state, "backend-dev", json!("b"));
        let statuses: BTreeMap<String, (StepStatus, u32)> = state
            .plan()
            .nodes()
            .map(|(id, n)| (n.step_id.clone(), (state.status(id), state.attempts(id))))
            .collect();
        let mut outputs = BTreeMap::new();
        for name in [
            "market-research",
            "research-data",
            "product-strategy",
            "strategy-doc",
            "backend-dev",
            "backend-code",
        ] {
            outputs.insert(name.to_owned(), json!(name));
        }
        let restored = ExecutionState::restore(state.plan().clone(), json!({}), &statuses, outputs);
        assert_eq!(ids(&restored, &restored.ready()), ["frontend-dev"]);
        assert_eq!(restored.completed_roots(), 2);
        let testing = node(&restored, "testing");
        assert_eq!(
            Value::Object(restored.inputs_for(testing)),
            json!({"backend-code": "backend-code", "frontend-code": null})
        );
    }

    #[test]
    fn a_second_stop_keeps_the_first_ones_status_and_reason() {
        let mut state = saas();
        let research = node(&state, "market-research");
        state.start(research);
        state.cancel(ExecutionStatus::Cancelled, "first".into());
        state.cancel(ExecutionStatus::TimedOut, "second".into());
        assert_eq!(
            state.stopping_as(),
            Some((ExecutionStatus::Cancelled, "first"))
        );
        let changes = state.fail(research, "killed".into());
        assert!(changes.iter().any(|c| matches!(c,
            Change::Finished { status: ExecutionStatus::Cancelled, error: Some(e) } if e == "first")));
    }

    #[test]
    fn a_restored_execution_whose_step_failed_stops_and_ends_failed_once_nothing_runs() {
        let mut state = saas();
        run_ok(&mut state, "market-research", json!("r"));
        run_ok(&mut state, "product-strategy", json!("s"));
        let (backend, frontend) = (node(&state, "backend-dev"), node(&state, "frontend-dev"));
        state.start(backend);
        state.start(frontend);
        state.fail(backend, "broke".into());
        let statuses: BTreeMap<String, (StepStatus, u32)> = state
            .plan()
            .nodes()
            .map(|(id, n)| (n.step_id.clone(), (state.status(id), state.attempts(id))))
            .collect();
        let mut restored =
            ExecutionState::restore(state.plan().clone(), json!({}), &statuses, BTreeMap::new());
        let changes =
            restored.resume_failure(false, |step| (step == "backend-dev").then_some("broke"));
        assert!(
            matches!(&changes[..], [Change::Kill { node }] if *node == frontend),
            "{changes:?}"
        );
        assert!(restored.ready().is_empty());
        let changes = restored.fail(frontend, "killed".into());
        assert!(
            changes.iter().any(|c| matches!(c,
            Change::Finished { status: ExecutionStatus::Failed, error: Some(e) }
                if e == "step `backend-dev` failed: broke")),
            "{changes:?}"
        );
    }

    fn conditional_doc() -> Value {
        json!({"name": "c", "steps": [
            task("testing", Value::Null, Some("test-results")),
            {"id": "conditional", "type": "conditional", "condition": "test-results.passed === true",
             "then": {"id": "deploy", "type": "task", "agent": "dev", "task": "Deploy to production"},
             "else": {"id": "fix", "type": "task", "agent": "tom", "task": "Fix failing tests"}},
        ]})
    }

    #[test]
    fn a_conditional_runs_the_branch_its_condition_picks_and_skips_the_other() {
        for (passed, runs, skipped) in [(true, "deploy", "fix"), (false, "fix", "deploy")] {
            let mut state = ExecutionState::new(plan(conditional_doc()), json!({}));
            run_ok(&mut state, "testing", json!({"passed": passed}));
            assert!(
                state.ready().is_empty(),
                "the condition is not decided before advance"
            );
            let changes = state.advance();
            let skip = node(&state, skipped);
            assert!(changes.contains(&Change::Step {
                node: skip,
                status: StepStatus::Skipped,
                error: None
            }));
            assert_eq!(ids(&state, &state.ready()), [runs]);
            let changes = run_ok(&mut state, runs, json!("done"));
            let cond = node(&state, "conditional");
            assert!(changes.contains(&Change::Output {
                node: cond,
                value: json!("done")
            }));
            assert_eq!(state.finished(), Some(ExecutionStatus::Completed));
            assert_eq!(state.completed_roots(), 2);
        }
    }

    #[test]
    fn a_false_condition_without_else_completes_with_null() {
        let mut doc = conditional_doc();
        doc["steps"][1]
            .as_object_mut()
            .expect("object")
            .remove("else");
        let mut state = ExecutionState::new(plan(doc), json!({}));
        run_ok(&mut state, "testing", json!({"passed": false}));
        state.advance();
        assert_eq!(
            state.status(node(&state, "conditional")),
            StepStatus::Completed
        );
        assert_eq!(state.finished(), Some(ExecutionStatus::Completed));
    }

    #[test]
    fn a_condition_that_cannot_be_evaluated_fails_the_step_quoting_it() {
        let mut doc = conditional_doc();
        doc["steps"][1]["condition"] = json!("test-results.count * 2 > 1");
        let mut state = ExecutionState::new(plan(doc), json!({}));
        run_ok(&mut state, "testing", json!({"count": "many"}));
        let changes = state.advance();
        let cond = node(&state, "conditional");
        assert_eq!(state.status(cond), StepStatus::Failed);
        let Some(Change::Finished { status, error }) = changes.last() else {
            panic!("{changes:?}")
        };
        assert_eq!(*status, ExecutionStatus::Failed);
        assert!(
            error
                .as_deref()
                .is_some_and(|e| e.contains("test-results.count * 2 > 1")),
            "{error:?}"
        );
    }

    fn loop_doc(items: &str, max: Option<u32>) -> Value {
        let mut lp = json!({"id": "process-items", "type": "loop", "items": items, "output": "processed",
            "step": {"id": "process", "type": "task", "agent": "amy", "task": "Process {{ item }} at {{ index }}"}});
        if let Some(max) = max {
            lp["maxConcurrency"] = json!(max);
        }
        json!({"name": "l", "steps": [task("source", Value::Null, Some("data-array")), lp,
            task("after", json!("processed"), None)]})
    }

    #[test]
    fn a_loop_runs_one_iteration_per_item_within_its_concurrency_and_collects_results_in_order() {
        let mut state = ExecutionState::new(plan(loop_doc("data-array", Some(2))), json!({}));
        run_ok(&mut state, "source", json!(["a", "b", "c"]));
        let changes = state.advance();
        let lp = node(&state, "process-items");
        assert!(changes.contains(&Change::Expanded {
            node: lp,
            items: json!(["a", "b", "c"])
        }));
        assert_eq!(ids(&state, &state.ready()), ["process[0]", "process[1]"]);
        let second = node(&state, "process[1]");
        assert_eq!(state.task_text(second), Ok("Process b at 1".to_owned()));
        assert_eq!(state.item_of(second), Some((json!("b"), 1)));
        state.start(node(&state, "process[0]"));
        state.start(second);
        assert!(state.ready().is_empty(), "two at a time");
        state.succeed(second, json!("B"));
        assert_eq!(ids(&state, &state.ready()), ["process[2]"]);
        run_ok(&mut state, "process[2]", json!("C"));
        let changes = state.succeed(node(&state, "process[0]"), json!("A"));
        assert!(changes.contains(&Change::Output {
            node: lp,
            value: json!(["A", "B", "C"])
        }));
        let after = node(&state, "after");
        assert_eq!(
            Value::Object(state.inputs_for(after)),
            json!({"processed": ["A", "B", "C"]})
        );
    }

    #[test]
    fn a_loop_defaults_to_one_at_a_time_and_an_empty_array_completes_at_once() {
        let mut state = ExecutionState::new(plan(loop_doc("data-array", None)), json!({}));
        run_ok(&mut state, "source", json!([1, 2]));
        state.advance();
        assert_eq!(ids(&state, &state.ready()), ["process[0]"]);

        let mut state = ExecutionState::new(plan(loop_doc("data-array", None)), json!({}));
        run_ok(&mut state, "source", json!([]));
        let changes = state.advance();
        let lp = node(&state, "process-items");
        assert!(changes.contains(&Change::Output {
            node: lp,
            value: json!([])
        }));
        assert_eq!(ids(&state, &state.ready()), ["after"]);
    }

    #[test]
    fn loop_items_may_be_execution_input_or_an_expression_and_must_be_an_array() {
        let mut state =
            ExecutionState::new(plan(loop_doc("input.files", None)), json!({"files": ["x"]}));
        run_ok(&mut state, "source", json!(null));
        state.advance();
        assert_eq!(ids(&state, &state.ready()), ["process[0]"]);

        let mut state = ExecutionState::new(
            plan(loop_doc("[1, 2, len(data-array)]", Some(5))),
            json!({}),
        );
        run_ok(&mut state, "source", json!("abcd"));
        state.advance();
        assert_eq!(
            state.item_of(node(&state, "process[2]")),
            Some((json!(4), 2))
        );

        let mut state = ExecutionState::new(plan(loop_doc("data-array", None)), json!({}));
        run_ok(&mut state, "source", json!({"not": "an array"}));
        let changes = state.advance();
        let lp = node(&state, "process-items");
        assert_eq!(state.status(lp), StepStatus::Failed);
        assert!(changes.iter().any(|c| matches!(c, Change::Step { error: Some(e), .. } if e.contains("must be an array, found an object"))), "{changes:?}");
        assert_eq!(state.finished(), Some(ExecutionStatus::Failed));
    }

    #[test]
    fn restore_re_expands_loops_from_their_stored_items() {
        let mut state = ExecutionState::new(plan(loop_doc("data-array", Some(3))), json!({}));
        run_ok(&mut state, "source", json!(["a", "b"]));
        state.advance();
        run_ok(&mut state, "process[1]", json!("B"));
        let statuses: BTreeMap<String, (StepStatus, u32)> = state
            .plan()
            .nodes()
            .map(|(id, n)| (n.step_id.clone(), (state.status(id), state.attempts(id))))
            .collect();
        let mut outputs = BTreeMap::new();
        outputs.insert("data-array".to_owned(), json!(["a", "b"]));
        outputs.insert(loop_items_key("process-items"), json!(["a", "b"]));
        outputs.insert("process[1]".to_owned(), json!("B"));
        let mut restored = ExecutionState::restore(
            plan(loop_doc("data-array", Some(3))),
            json!({}),
            &statuses,
            outputs,
        );
        assert!(restored.advance().is_empty(), "already decided");
        assert_eq!(ids(&restored, &restored.ready()), ["process[0]"]);
        let changes = run_ok(&mut restored, "process[0]", json!("A"));
        let lp = node(&restored, "process-items");
        assert!(changes.contains(&Change::Output {
            node: lp,
            value: json!(["A", "B"])
        }));
    }

    #[test]
    fn team_steps_are_tasks_whose_runner_is_the_team() {
        let doc = json!({"name": "t", "steps": [
            {"id": "team-project", "type": "team", "teamId": "engineering", "task": "Build {{ input.feature }}"}
        ]});
        let state = ExecutionState::new(plan(doc), json!({"feature": "search"}));
        let n = node(&state, "team-project");
        assert_eq!(ids(&state, &state.ready()), ["team-project"]);
        assert!(
            matches!(&state.plan().node(n).kind, NodeKind::Task { runner: Runner::Team(t), .. } if t == "engineering")
        );
        assert_eq!(state.plan().node(n).type_name(), "team");
        assert_eq!(state.task_text(n), Ok("Build search".to_owned()));
    }

    fn with_handling(handling: Value) -> ExecutionState {
        let mut flaky = task("flaky", Value::Null, Some("result"));
        flaky["errorHandling"] = handling;
        let doc = json!({"name": "eh", "steps": [flaky, task("after", json!("result"), None)]});
        ExecutionState::new(plan(doc), json!({}))
    }

    fn fail_once(state: &mut ExecutionState, id: &str) -> Vec<Change> {
        let n = node(state, id);
        state.start(n);
        state.fail(n, "boom".into())
    }

    #[test]
    fn retries_wait_a_growing_backoff_then_the_step_can_succeed() {
        let mut state = with_handling(
            json!({"strategy": "retry", "maxRetries": 3, "backoff": "exponential", "initialDelay": 0.2}),
        );
        let flaky = node(&state, "flaky");
        for (retry, delay) in [(1, 0.2), (2, 0.4)] {
            let changes = fail_once(&mut state, "flaky");
            assert_eq!(
                changes,
                vec![Change::Retry {
                    node: flaky,
                    delay,
                    jitter: false,
                    error: "boom".into()
                }],
                "retry {retry}"
            );
            assert!(state.ready().is_empty(), "waits for its delay");
            state.wake(flaky);
            assert_eq!(ids(&state, &state.ready()), ["flaky"]);
        }
        run_ok(&mut state, "flaky", json!("ok"));
        assert_eq!(state.attempts(flaky), 3);
        assert_eq!(ids(&state, &state.ready()), ["after"]);
    }

    #[test]
    fn backoff_delays_follow_their_kind_and_stop_at_max_delay() {
        let handling = |backoff: &str| -> ErrorHandling {
            serde_json::from_value(
                json!({"backoff": backoff, "initialDelay": 1.0, "maxDelay": 5.0}),
            )
            .expect("eh")
        };
        let delays = |h: &ErrorHandling| (1..=5).map(|n| backoff_delay(h, n)).collect::<Vec<_>>();
        assert_eq!(delays(&handling("exponential")), [1.0, 2.0, 4.0, 5.0, 5.0]);
        assert_eq!(delays(&handling("linear")), [1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(delays(&handling("fixed")), [1.0; 5]);
    }

    #[test]
    fn exhausted_retries_fail_the_execution_by_default() {
        let mut state = with_handling(json!({"maxRetries": 1, "initialDelay": 0}));
        fail_once(&mut state, "flaky");
        state.wake(node(&state, "flaky"));
        let changes = fail_once(&mut state, "flaky");
        assert!(matches!(
            changes.last(),
            Some(Change::Finished {
                status: ExecutionStatus::Failed,
                ..
            })
        ));
    }

    #[test]
    fn a_fallback_runs_in_place_of_the_failed_step_and_its_output_replaces_it() {
        let mut state = with_handling(json!({"strategy": "fallback",
            "fallback": {"id": "plan-b", "type": "task", "agent": "b", "task": "t"}}));
        let changes = fail_once(&mut state, "flaky");
        let flaky = node(&state, "flaky");
        assert!(
            matches!(&changes[..], [Change::Step { node, status: StepStatus::Running, error: Some(e) }] if *node == flaky && e.contains("plan-b"))
        );
        assert_eq!(ids(&state, &state.ready()), ["plan-b"]);
        let changes = run_ok(&mut state, "plan-b", json!("from b"));
        assert!(changes.contains(&Change::Output {
            node: flaky,
            value: json!("from b")
        }));
        assert_eq!(state.status(flaky), StepStatus::Completed);
        let after = node(&state, "after");
        assert_eq!(
            Value::Object(state.inputs_for(after)),
            json!({"result": "from b"})
        );
    }

    #[test]
    fn the_workflows_fallback_stands_in_for_each_step_without_its_own() {
        let mut own = task("own", Value::Null, None);
        own["errorHandling"] =
            json!({"fallback": {"id": "own-b", "type": "task", "agent": "b", "task": "t"}});
        let doc = json!({"name": "wf", "steps": [
                task("first", Value::Null, Some("result")),
                task("second", Value::Null, None),
                own,
            ],
            "errorHandling": {"maxRetries": 1,
                "fallback": {"id": "page", "type": "task", "agent": "b", "task": "t"}}});
        let mut state = ExecutionState::new(plan(doc), json!({}));
        let first = node(&state, "first");
        let changes = fail_once(&mut state, "first");
        assert!(
            matches!(&changes[..], [Change::Retry { .. }]),
            "{changes:?}"
        );
        state.wake(first);
        let changes = fail_once(&mut state, "first");
        assert!(
            matches!(&changes[..], [Change::Step { error: Some(e), .. }] if e.contains("page@first")),
            "{changes:?}"
        );
        assert_eq!(ids(&state, &state.ready()), ["page@first"]);
        let changes = run_ok(&mut state, "page@first", json!("paged"));
        assert!(changes.contains(&Change::Output {
            node: first,
            value: json!("paged")
        }));
        assert_eq!(state.status(first), StepStatus::Completed);
        // Each step has its own copy, under its own ids; a step's own fallback wins.
        let second = node(&state, "second");
        assert_eq!(
            state
                .plan()
                .node(state.plan().node(second).fallback.expect("copy"))
                .step_id,
            "page@second"
        );
        let own = node(&state, "own");
        assert_eq!(
            state
                .plan()
                .node(state.plan().node(own).fallback.expect("own"))
                .step_id,
            "own-b"
        );
        let page = node(&state, "page@first");
        assert_eq!(
            state.plan().node(page).fallback,
            None,
            "no fallback in a fallback"
        );
    }

    #[test]
    fn a_failing_fallback_fails_the_step() {
        let mut state = with_handling(json!({"strategy": "fallback",
            "fallback": {"id": "plan-b", "type": "task", "agent": "b", "task": "t"}}));
        fail_once(&mut state, "flaky");
        let changes = fail_once(&mut state, "plan-b");
        assert_eq!(state.status(node(&state, "flaky")), StepStatus::Failed);
        assert!(
            matches!(changes.last(), Some(Change::Finished { status: ExecutionStatus::Failed, error: Some(e) }) if e.contains("plan-b"))
        );
    }

    #[test]
    fn continue_goes_on_with_a_null_output_and_the_step_failed() {
        let mut state = with_handling(json!({"strategy": "continue"}));
        fail_once(&mut state, "flaky");
        let flaky = node(&state, "flaky");
        assert_eq!(state.status(flaky), StepStatus::Failed);
        assert_eq!(ids(&state, &state.ready()), ["after"]);
        let after = node(&state, "after");
        assert_eq!(
            Value::Object(state.inputs_for(after)),
            json!({"result": null})
        );
        let changes = run_ok(&mut state, "after", json!(1));
        assert!(matches!(
            changes.last(),
            Some(Change::Finished {
                status: ExecutionStatus::Completed,
                ..
            })
        ));
        assert_eq!(state.completed_roots(), 2);
    }

    #[test]
    fn escalation_waits_for_a_retry_that_continues_the_workflow() {
        let mut state =
            with_handling(json!({"strategy": "retry", "maxRetries": 0, "escalateOnFailure": true}));
        let changes = fail_once(&mut state, "flaky");
        assert!(
            matches!(changes.last(), Some(Change::Escalated { error, .. }) if error.contains("flaky"))
        );
        assert!(state.ready().is_empty());
        assert_eq!(state.finished(), None);
        assert_eq!(
            state.current_step(),
            Some("flaky"),
            "the failed step waits, not the one after it"
        );
        let flaky = node(&state, "flaky");
        let changes = state.retry_step(flaky).expect("retry");
        assert!(changes.contains(&Change::Step {
            node: flaky,
            status: StepStatus::Pending,
            error: None
        }));
        assert_eq!(ids(&state, &state.ready()), ["flaky"]);
        run_ok(&mut state, "flaky", json!("fixed"));
        assert_eq!(state.attempts(flaky), 2, "the attempt counter goes on");
        assert_eq!(ids(&state, &state.ready()), ["after"]);
    }

    #[test]
    fn retry_step_reruns_a_failed_parallel_child_and_its_cut_short_sibling() {
        let mut state = saas();
        run_ok(&mut state, "market-research", json!("r"));
        run_ok(&mut state, "product-strategy", json!("s"));
        let (backend, frontend) = (node(&state, "backend-dev"), node(&state, "frontend-dev"));
        state.start(backend);
        state.start(frontend);
        state.fail(backend, "boom".into());
        state.fail(frontend, "killed".into());
        assert_eq!(state.finished(), Some(ExecutionStatus::Failed));
        assert!(
            state.retry_step(node(&state, "market-research")).is_err(),
            "a completed step is not retried"
        );
        state.retry_step(backend).expect("retry");
        assert_eq!(ids(&state, &state.ready()), ["backend-dev", "frontend-dev"]);
        run_ok(&mut state, "backend-dev", json!("b"));
        run_ok(&mut state, "frontend-dev", json!("f"));
        assert_eq!(
            state.status(node(&state, "parallel-development")),
            StepStatus::Completed
        );
        assert_eq!(ids(&state, &state.ready()), ["testing"]);
    }

    #[test]
    fn cancel_ends_running_tasks_then_the_execution() {
        let mut state = saas();
        let research = node(&state, "market-research");
        state.start(research);
        let changes = state.cancel(ExecutionStatus::Cancelled, "Requirements changed".into());
        assert_eq!(changes, vec![Change::Kill { node: research }]);
        assert!(state.ready().is_empty());
        let changes = state.fail(research, "killed by SIGTERM".into());
        assert_eq!(state.status(research), StepStatus::Cancelled);
        assert_eq!(
            changes.last(),
            Some(&Change::Finished {
                status: ExecutionStatus::Cancelled,
                error: Some("Requirements changed".into())
            })
        );
        let mut idle = saas();
        let changes = idle.cancel(ExecutionStatus::TimedOut, "timed out".into());
        assert!(matches!(
            changes.last(),
            Some(Change::Finished {
                status: ExecutionStatus::TimedOut,
                ..
            })
        ));
    }
}
