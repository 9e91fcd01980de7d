//! Error handling: a failed task is retried after a backoff, replaced by its fallback,
//! continued past, escalated to a person or fails the execution; and resumption after a restart
//! or a person's retry.

use super::NodeId;
use super::state::{Change, ExecutionState};
use crate::model::StepStatus;
use crate::workflow::{Backoff, ErrorHandling, Strategy};
use serde_json::Value;

impl ExecutionState {
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
    pub(super) fn give_up(&mut self, node: NodeId, error: String, changes: &mut Vec<Change>) {
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
