//! What the scheduler does when the store refuses a write: the execution whose transition
//! was not recorded is set aside (nothing of it starts, ends or is decided), its messages are
//! held, and every [`RETRY_AFTER`] it is read back from the store and they are handled again.

use super::commit::commit;
use super::{Deferred, Message, RETRY_AFTER, Running, Scheduler};
use crate::time;
use do_core::engine::{NodeId, NodeKind};
use do_core::model::{AttemptStatus, ExecutionStatus, StepStatus};
use do_proto::{ApiError, ErrorCode};
use do_store::StoreError;
use do_store::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use tokio::sync::oneshot;

impl Message {
    /// A copy of a message that reports a fact (an execution queued, an agent ended, a timer
    /// passed), to handle again when what it caused could not be recorded. Decisions of a
    /// person are answered with the error instead; progress and process groups only inform.
    pub(super) fn replayable(&self) -> Option<Message> {
        match self {
            Message::Start(id) => Some(Message::Start(id.clone())),
            Message::Finished {
                execution_id,
                node,
                outcome,
                log_path,
            } => Some(Message::Finished {
                execution_id: execution_id.clone(),
                node: *node,
                outcome: outcome.clone(),
                log_path: log_path.clone(),
            }),
            Message::Wake { execution_id, node } => Some(Message::Wake {
                execution_id: execution_id.clone(),
                node: *node,
            }),
            Message::Timeout(id) => Some(Message::Timeout(id.clone())),
            _ => None,
        }
    }

    /// The execution whose state the message changes.
    pub(super) fn execution_id(&self) -> Option<&str> {
        match self {
            Message::Start(id) | Message::Timeout(id) => Some(id),
            Message::Finished { execution_id, .. }
            | Message::Wake { execution_id, .. }
            | Message::Control { execution_id, .. }
            | Message::Progress { execution_id, .. } => Some(execution_id),
            Message::Spawned { .. }
            | Message::RecordSpawned
            | Message::Shutdown { .. }
            | Message::Retry => None,
        }
    }
}

impl Scheduler {
    /// Handles one message of the turn, unless its execution is set aside: then a fact waits
    /// in `held`, and a person's decision is answered that it cannot be recorded now. A fact
    /// whose transition could not be written joins `held` too; the others are kept in `facts`,
    /// to be handled again if the turn does not commit.
    pub(super) fn turn(
        &mut self,
        store: &mut dyn Store,
        message: Message,
        facts: &mut Vec<Message>,
        shutdown_reply: &mut Option<oneshot::Sender<()>>,
    ) {
        let copy = message.replayable();
        let target = message.execution_id().map(str::to_owned);
        if let Some(id) = &target
            && self.stale.contains(id)
        {
            if let Message::Control { reply, .. } = message {
                self.deferred
                    .push(Deferred::Answer(reply, Err(unrecorded(id))));
            }
            self.held.extend(copy);
            return;
        }
        let handled = self.handle(store, message, facts, shutdown_reply);
        let Some(copy) = copy else {
            return;
        };
        if handled.is_err() || target.is_some_and(|id| self.stale.contains(&id)) {
            self.held.push(copy);
        } else {
            facts.push(copy);
        }
    }

    /// After a turn whose commit failed: none of what it asked for happens (a person's
    /// decision is answered that it was not recorded), the executions it changed are set
    /// aside, and its facts wait to be handled again.
    pub(super) fn undo_turn(&mut self, facts: Vec<Message>, error: &StoreError) {
        for deferred in std::mem::take(&mut self.deferred) {
            if let Deferred::Answer(reply, _) = deferred {
                let _ = reply.send(Err(ApiError::new(
                    ErrorCode::Internal,
                    format!(
                        "the decision was not recorded ({error}); nothing was changed, try again"
                    ),
                )));
            }
        }
        self.ended.clear();
        self.stale.extend(std::mem::take(&mut self.touched));
        self.held.extend(facts);
    }

    /// Sends a `Retry` message after [`RETRY_AFTER`] while anything waits for the store.
    pub(super) fn arm_retry(&mut self) {
        if self.retry_armed || (self.held.is_empty() && self.stale.is_empty()) {
            return;
        }
        self.retry_armed = true;
        let sender = self.shared.scheduler.clone();
        tokio::spawn(async move {
            tokio::time::sleep(RETRY_AFTER).await;
            let _ = sender.send(Message::Retry);
        });
    }

    /// Reads a set-aside execution back from the store (inside the turn, so what this turn
    /// has written counts), keeping the agents of its recorded running attempts: an attempt
    /// recorded as running that no longer runs here has ended, and its `Finished` message is
    /// held. Then applies what the store implies but cannot say (see [`Scheduler::resume`]).
    pub(super) fn reload(&mut self, store: &mut dyn Store, id: &str) -> Result<(), StoreError> {
        let Some(mut old) = self.active.remove(id) else {
            self.stale.remove(id);
            return Ok(());
        };
        let attempts = match store.attempts(id).and_then(|a| {
            self.load(store, id)?;
            Ok(a)
        }) {
            Ok(attempts) => attempts,
            Err(e) => {
                self.active.insert(id.to_owned(), old);
                return Err(e);
            }
        };
        self.stale.remove(id);
        let Some(active) = self.active.get_mut(id) else {
            return Ok(());
        };
        active.dirs_ready = old.dirs_ready;
        // A cancel waits for the execution's end only if the store has it.
        if let Some(reply) = old.cancel_reply.take() {
            if active.record.cancel_reason.is_some() {
                active.cancel_reply = Some(reply);
            } else {
                self.deferred
                    .push(Deferred::Answer(reply, Err(unrecorded(id))));
            }
        }
        for attempt in attempts
            .into_iter()
            .filter(|a| a.status == AttemptStatus::Running)
        {
            let Some(node) = active.state.plan().find(&attempt.step_id) else {
                continue;
            };
            let running = match old.running.remove(&node) {
                Some(running) if running.attempt.attempt == attempt.attempt => running,
                _ => Running {
                    attempt,
                    kill: None,
                    ended: true,
                },
            };
            active.running.insert(node, running);
        }
        // A task recorded as running without an attempt of its own runs its fallback.
        let in_fallback: Vec<NodeId> = active
            .state
            .plan()
            .nodes()
            .filter(|&(node, n)| {
                matches!(n.kind, NodeKind::Task { .. })
                    && active.state.status(node) == StepStatus::Running
                    && !active.running.contains_key(&node)
            })
            .map(|(node, _)| node)
            .collect();
        for node in in_fallback {
            active.state.resume_fallback(node);
        }
        self.running = self
            .active
            .values()
            .flat_map(|a| a.running.values())
            .filter(|r| !r.ended)
            .count();
        self.shared
            .running_steps
            .store(self.running as u64, Ordering::Relaxed);
        tracing::debug!(execution = %id, "execution read back from the store");
        self.resume(store, id);
        Ok(())
    }

    /// What a loaded execution's rows imply but [`ExecutionState::restore`] cannot know: a
    /// cancel under way (its reason is recorded), a step's failure that is stopping it, or
    /// the escalation it waits on. Commits what that decides.
    pub(super) fn resume(&mut self, store: &mut dyn Store, id: &str) {
        let Some(active) = self.active.get_mut(id) else {
            return;
        };
        if active.record.status.is_terminal() {
            return;
        }
        let mut changes = Vec::new();
        if let Some(reason) = &active.record.cancel_reason
            && active.state.stopping_as().is_none()
        {
            changes = active
                .state
                .cancel(ExecutionStatus::Cancelled, reason.clone());
        }
        let escalated = active.record.status == ExecutionStatus::Escalated;
        let rows = &active.rows;
        let errors: HashMap<&str, &str> = rows
            .values()
            .filter_map(|r| Some((r.step_id.as_str(), r.error.as_deref()?)))
            .collect();
        changes.extend(
            active
                .state
                .resume_failure(escalated, |step| errors.get(step).copied()),
        );
        if changes.is_empty() {
            return;
        }
        match store.write(|w| commit(w, active, changes, time::now_ms())) {
            Ok(effects) => self.after_commit(id, effects),
            Err(e) => {
                tracing::error!(execution = %id, error = %e, "cannot record a decision");
                self.stale.insert(id.to_owned());
            }
        }
    }
}

/// A person's decision whose write failed is in memory only: its execution is set aside
/// until it is read back from the store.
pub(super) fn set_aside(stale: &mut HashSet<String>, id: &str, error: StoreError) -> ApiError {
    stale.insert(id.to_owned());
    crate::answers::internal(error)
}

/// The answer to a decision about an execution that is set aside.
fn unrecorded(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::Unavailable,
        format!(
            "execution {id} cannot be changed now: the daemon could not write to its database \
             (see daemon.log); it goes on by itself once writes succeed again, then try again"
        ),
    )
}
