//! The state of one execution (every step's status, every output, the counts kept up to date
//! with them), the changes it reports, and how it is built fresh or restored from the store.

use super::plan::{NodeKind, Plan};
use super::{NodeId, loop_items_key};
use crate::model::{ExecutionStatus, StepStatus};
use crate::workflow::Strategy;
use serde_json::Value;
use std::cell::Cell;
use std::collections::BTreeMap;

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
    pub(super) plan: Plan,
    pub(super) status: Vec<StepStatus>,
    /// Tasks asked to end because the execution is ending.
    pub(super) killing: Vec<bool>,
    pub(super) input: Value,
    pub(super) outputs: BTreeMap<String, Value>,
    /// Each expanded loop's items.
    pub(super) items: BTreeMap<NodeId, Vec<Value>>,
    /// Set once a step failed with strategy `fail`: nothing new starts, and the execution ends
    /// as failed when the last running task has reported.
    pub(super) failure: Option<String>,
    pub(super) finished: Option<ExecutionStatus>,
    /// Attempts started per task.
    pub(super) attempts: Vec<u32>,
    /// Tasks waiting for their retry's backoff delay to pass.
    pub(super) waiting: Vec<bool>,
    /// Tasks whose fallback runs in their place.
    pub(super) in_fallback: Vec<bool>,
    /// Failed tasks the workflow goes on past (strategy `continue`).
    pub(super) continued: Vec<bool>,
    /// A failure escalated to a person: nothing new starts until a retry.
    pub(super) escalated: bool,
    /// Cancelled or timed out: running tasks are ended, then the execution ends so.
    pub(super) stop: Option<(ExecutionStatus, String)>,
    /// Per node: how many of its first children a walk has seen finished (done, in a
    /// sequence), so that walks start after them and a parallel of thousands of steps is not
    /// read from its first step at every turn. Only a retry makes a finished step pending
    /// again, and it resets them all.
    pub(super) finished_prefix: Vec<Cell<usize>>,
    /// The same for the workflow's top-level sequence.
    pub(super) roots_finished_prefix: Cell<usize>,
    /// Per node: how many of its children are running, kept by [`Self::set_status`], so that
    /// a walk knows whether a `maxConcurrency` slot is free without counting them.
    pub(super) running_children: Vec<usize>,
    /// How many top-level steps are done (completed, skipped or passed by `continue`), kept by
    /// [`Self::set_status`] and [`Self::set_continued`]: counting them at every commit made a
    /// chain of n steps cost O(n²).
    pub(super) done_roots: usize,
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
    pub(super) fn set_status(&mut self, node: NodeId, status: StepStatus) {
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
    pub(super) fn set_continued(&mut self, node: NodeId, continued: bool) {
        let was_done = self.done(node);
        self.continued[node] = continued;
        self.count_done_root(node, was_done);
    }

    pub(super) fn count_done_root(&mut self, node: NodeId, was_done: bool) {
        if self.plan.nodes[node].parent.is_some() {
            return;
        }
        match (was_done, self.done(node)) {
            (false, true) => self.done_roots += 1,
            (true, false) => self.done_roots -= 1,
            _ => {}
        }
    }

    pub(super) fn expand(&mut self, node: NodeId, items: Vec<Value>) {
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

    /// The attempts a task has started.
    pub fn attempts(&self, node: NodeId) -> u32 {
        self.attempts[node]
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
