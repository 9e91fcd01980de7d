//! How a finished step settles its parents: a sequence goes on, a composite completes with the
//! outputs of its children or fails, and the execution ends once nothing is left to run.

use super::NodeId;
use super::plan::NodeKind;
use super::state::{Change, ExecutionState};
use crate::model::{ExecutionStatus, StepStatus};
use serde_json::{Map, Value};

impl ExecutionState {
    pub(super) fn stopping(&self) -> bool {
        self.failure.is_some() || self.stop.is_some()
    }

    /// Whether the sequence can go on past `node`.
    pub(super) fn done(&self, node: NodeId) -> bool {
        match self.status[node] {
            StepStatus::Completed | StepStatus::Skipped => true,
            StepStatus::Failed => self.continued[node],
            _ => false,
        }
    }

    pub(super) fn set(
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

    pub(super) fn complete(&mut self, node: NodeId, value: Value, changes: &mut Vec<Change>) {
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
    pub(super) fn settle(&mut self, node: NodeId, changes: &mut Vec<Change>) {
        match self.plan.nodes[node].parent {
            Some(parent) => self.settle_node(parent, changes),
            None => self.finish_if_done(changes),
        }
    }

    /// Finishes the composite `node` if nothing under it is left to do, then looks upwards.
    pub(super) fn settle_node(&mut self, node: NodeId, changes: &mut Vec<Change>) {
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
    pub(super) fn busy(&self, node: NodeId) -> bool {
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
    pub(super) fn wind_down(&mut self, node: NodeId, changes: &mut Vec<Change>) {
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
    pub(super) fn failed_child(&self, node: NodeId) -> Option<String> {
        self.plan.nodes[node]
            .children
            .iter()
            .find(|&&c| self.status[c] == StepStatus::Failed && !self.continued[c])
            .map(|&c| format!("step `{}` failed", self.plan.nodes[c].step_id))
    }

    /// A composite step's result. Parallel: its children's results by output name (or id).
    /// Conditional: the result of the last step of the branch taken. Loop: the iterations'
    /// results in item order.
    pub(super) fn composite_output(&self, node: NodeId) -> Value {
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

    pub(super) fn finish_if_done(&mut self, changes: &mut Vec<Change>) {
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
}
