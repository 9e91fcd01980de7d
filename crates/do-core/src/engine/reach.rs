//! Which steps are within reach: the walk that finds the tasks that may start now and the
//! conditionals and loops that can decide, stopping as soon as it has what it was asked for.

use super::NodeId;
use super::plan::NodeKind;
use super::state::ExecutionState;
use crate::model::StepStatus;
use std::cell::Cell;

/// What a walk of the steps within reach collects: the tasks that may start, at most
/// `wanted` of them (the walk ends once it has them), and the conditionals and loops to decide.
pub(super) struct Reach {
    pub(super) tasks: Vec<NodeId>,
    pub(super) wanted: usize,
    pub(super) decisions: Vec<NodeId>,
    /// Whether the walk is for decisions, which it must find all of.
    pub(super) deciding: bool,
}

impl Reach {
    pub(super) fn for_tasks(wanted: usize) -> Reach {
        Reach {
            tasks: Vec::new(),
            wanted,
            decisions: Vec::new(),
            deciding: false,
        }
    }

    pub(super) fn for_decisions() -> Reach {
        Reach {
            deciding: true,
            ..Reach::for_tasks(0)
        }
    }

    pub(super) fn task(&mut self, node: NodeId) {
        if self.tasks.len() < self.wanted {
            self.tasks.push(node);
        }
    }

    pub(super) fn decision(&mut self, node: NodeId) {
        if self.deciding {
            self.decisions.push(node);
        }
    }

    /// Whether the walk can end here.
    pub(super) fn full(&self) -> bool {
        !self.deciding && self.tasks.len() >= self.wanted
    }
}

/// Moves `prefix` past the children that `finished` says are behind us, and returns it.
pub(super) fn skip_while(
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

    pub(super) fn walk(&self, reach: &mut Reach) {
        if !self.stopping() && !self.escalated && self.finished.is_none() {
            self.next_in_sequence(&self.plan.roots, &self.roots_finished_prefix, reach);
        }
    }

    pub(super) fn next_in_sequence(
        &self,
        children: &[NodeId],
        done: &Cell<usize>,
        reach: &mut Reach,
    ) {
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
    pub(super) fn next_in_node(&self, node: NodeId, reach: &mut Reach) -> bool {
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

    pub(super) fn next_concurrently(
        &self,
        node: NodeId,
        max: Option<u32>,
        reach: &mut Reach,
    ) -> bool {
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
}
