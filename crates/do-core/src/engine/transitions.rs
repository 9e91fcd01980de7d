//! The events an execution goes through: decisions (conditions, loop items), a task starting
//! and succeeding, cancellation; each returns the changes to make durable.

use super::plan::NodeKind;
use super::reach::Reach;
use super::scope::NodeScope;
use super::state::{Change, ExecutionState};
use super::{NodeId, loop_items_key};
use crate::expr;
use crate::model::json_type;
use crate::model::{ExecutionStatus, StepStatus};
use serde_json::Value;

impl ExecutionState {
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

    pub(super) fn decide(
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

    pub(super) fn skip(&mut self, node: NodeId, changes: &mut Vec<Change>) {
        self.set(node, StepStatus::Skipped, None, changes);
        for child in self.plan.nodes[node].children.clone() {
            self.skip(child, changes);
        }
    }

    pub(super) fn unroll(&mut self, node: NodeId, source: &str, changes: &mut Vec<Change>) {
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
    pub(super) fn fail_composite(
        &mut self,
        node: NodeId,
        error: String,
        changes: &mut Vec<Change>,
    ) {
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

    pub(super) fn kill_running(&mut self, changes: &mut Vec<Change>) {
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
}
