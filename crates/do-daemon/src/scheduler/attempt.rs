//! What an attempt's agent reports while and after it runs: its process group, its progress,
//! its end; and ending every running agent at a stop.

use super::commit::{Effects, commit, row_mut};
use super::{Message, RECORD_SPAWNED_AFTER, Scheduler};
use crate::event_log::append_event;
use crate::process;
use crate::runner::Outcome;
use crate::time;
use do_core::engine::NodeId;
use do_core::model::{AttemptStatus, StepStatus};
use do_proto::EventKind;
use do_store::StoreError;
use do_store::prelude::*;
use serde_json::json;
use std::sync::atomic::Ordering;

impl Scheduler {
    pub(super) fn finished(
        &mut self,
        store: &mut dyn Store,
        id: &str,
        node: NodeId,
        outcome: Outcome,
        log_path: Option<String>,
    ) -> Result<(), StoreError> {
        let shared = self.shared.clone();
        let Some(active) = self.active.get_mut(id) else {
            return Ok(());
        };
        let Some(running) = active.running.remove(&node) else {
            return Ok(());
        };
        // The attempt's row, written below, is all an ended agent needs.
        self.unrecorded_spawns.remove(&(id.to_owned(), node));
        if !running.ended {
            self.running -= 1;
            shared.running_steps.fetch_sub(1, Ordering::Relaxed);
        }
        let now = time::now_ms();
        let mut attempt = running.attempt;
        attempt.completed_at = Some(now);
        attempt.log_path = log_path;
        let changes = match outcome {
            Outcome::Succeeded(value) => {
                attempt.status = AttemptStatus::Succeeded;
                active.state.succeed(node, value)
            }
            Outcome::Failed { error, exit_code } => {
                attempt.status = AttemptStatus::Failed;
                attempt.exit_code = exit_code;
                attempt.error = Some(error.clone());
                active.state.fail(node, error)
            }
            Outcome::Killed { error } if self.stopping => {
                // Not a failure of the step: it runs again when the daemon starts.
                attempt.status = AttemptStatus::Interrupted;
                attempt.error = Some(format!("interrupted by the daemon stopping ({error})"));
                store.write(|w| {
                    w.put_attempt(&attempt)?;
                    let row = row_mut(active, node, id);
                    row.status = StepStatus::Pending;
                    row.started_at = None;
                    w.put_step(row)
                })?;
                self.touched.insert(id.to_owned());
                return Ok(());
            }
            Outcome::Killed { error } => {
                attempt.status = AttemptStatus::Cancelled;
                attempt.error = Some(error.clone());
                active.state.fail(node, error)
            }
        };
        let effects = store.write(|w| {
            w.put_attempt(&attempt)?;
            commit(w, active, changes, now)
        })?;
        self.after_commit(id, effects);
        Ok(())
    }

    /// Notes an agent's process group, which recovery ends if this daemon dies while the
    /// agent runs. It is stored, with the leader's start time, a few milliseconds later rather
    /// than at once: most agents of a busy pipeline have ended by then, and the write that
    /// records their end is the only one they need. This saves a transaction and a read of
    /// `/proc` per step (about 13% of the daemon's CPU in a chain of short steps); only a
    /// crash inside that window leaves a process that recovery does not know of.
    pub(super) fn spawned(&mut self, id: &str, node: NodeId, pgid: i32) {
        let Some(running) = self
            .active
            .get_mut(id)
            .and_then(|a| a.running.get_mut(&node))
        else {
            return;
        };
        running.attempt.pgid = Some(pgid);
        self.unrecorded_spawns.insert((id.to_owned(), node));
        if !self.record_armed {
            self.record_armed = true;
            let sender = self.shared.scheduler.clone();
            tokio::spawn(async move {
                tokio::time::sleep(RECORD_SPAWNED_AFTER).await;
                let _ = sender.send(Message::RecordSpawned);
            });
        }
    }

    /// Stores the process groups (and their leaders' start times) of the agents that still
    /// run, in one transaction.
    pub(super) fn record_spawned(&mut self, store: &mut dyn Store) -> Result<(), StoreError> {
        self.record_armed = false;
        let mut attempts = Vec::new();
        for (id, node) in std::mem::take(&mut self.unrecorded_spawns) {
            let Some(running) = self
                .active
                .get_mut(&id)
                .and_then(|a| a.running.get_mut(&node))
            else {
                continue;
            };
            // Still running, so its pid cannot have been reused yet. An agent that has exited
            // but whose end is not handled yet needs no record: once its leader is reaped,
            // recovery could not tell its group from another.
            let Some(start) = running
                .attempt
                .pgid
                .and_then(process::running_process_start)
            else {
                continue;
            };
            running.attempt.pgid_start = Some(start);
            attempts.push(running.attempt.clone());
        }
        if attempts.is_empty() {
            return Ok(());
        }
        store.write(|w| {
            for attempt in &attempts {
                w.put_attempt(attempt)?;
            }
            Ok(())
        })
    }

    /// Records a running attempt's progress and tells the watchers; a report that changes
    /// nothing, or that comes from an attempt no longer running, writes nothing.
    pub(super) fn progress(
        &mut self,
        store: &mut dyn Store,
        id: &str,
        node: NodeId,
        attempt: u32,
        percentage: u8,
    ) -> Result<(), StoreError> {
        let Some(active) = self.active.get_mut(id) else {
            return Ok(());
        };
        if active
            .running
            .get(&node)
            .is_none_or(|r| r.attempt.attempt != attempt)
        {
            return Ok(());
        }
        let row = row_mut(active, node, id);
        if row.progress == Some(percentage) {
            return Ok(());
        }
        row.progress = Some(percentage);
        let step_id = row.step_id.clone();
        let event = store.write(|w| {
            w.put_step(row)?;
            append_event(
                w,
                id,
                time::now_ms(),
                EventKind::StepProgress,
                Some(&step_id),
                json!({"percentage": percentage}),
            )
        })?;
        self.after_commit(
            id,
            Effects {
                events: vec![event],
                ..Effects::default()
            },
        );
        Ok(())
    }

    pub(super) fn kill_all(&mut self) {
        for active in self.active.values_mut() {
            for running in active.running.values_mut() {
                if let Some(kill) = running.kill.take() {
                    let _ = kill.send(());
                }
            }
        }
    }
}
