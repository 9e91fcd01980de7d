//! A person's decisions about an execution: cancel, pause, resume, retry a failed step.

use super::commit::commit;
use super::set_aside::set_aside;
use super::{Control, Deferred, Scheduler};
use crate::event_log::append_event;
use crate::time;
use do_core::model::ExecutionStatus;
use do_proto::{ApiError, ErrorCode, EventKind};
use do_store::prelude::*;
use serde_json::json;

impl Scheduler {
    /// Carries out a person's decision: cancel, pause, resume, or retry a failed step.
    pub(super) fn control(
        &mut self,
        store: &mut dyn Store,
        id: &str,
        action: Control,
    ) -> Result<(), ApiError> {
        let internal = crate::answers::internal;
        let record = match self.active.get(id) {
            Some(active) => active.record.clone(),
            None => store
                .execution(id)
                .map_err(internal)?
                .ok_or_else(|| crate::answers::execution_not_found(id))?,
        };
        if !record.status.is_terminal() && !self.active.contains_key(id) {
            // Its loading failed when it was queued or recovered: it is loaded now.
            self.load(store, id).map_err(internal)?;
            self.resume(store, id);
        }
        let refuse = |what: &str| {
            Err(ApiError::new(
                ErrorCode::Conflict,
                format!("execution {id} is {}; {what}", record.status),
            ))
        };
        let now = time::now_ms();
        match action {
            Control::Cancel(reason) => {
                if record.status.is_terminal() {
                    return refuse("only an execution that has not ended can be cancelled");
                }
                let Some(active) = self.active.get_mut(id) else {
                    return refuse("it is not loaded");
                };
                // The first cancel wins: its reason stays, and the execution ends as it says.
                if let Some((status, first)) = active.state.stopping_as() {
                    let what = if status == ExecutionStatus::TimedOut {
                        "timing out"
                    } else {
                        "being cancelled"
                    };
                    return Err(ApiError::new(
                        ErrorCode::Conflict,
                        format!(
                            "execution {id} is already {what} ({first}); it ends once its running \
                             steps have ended (`do workflow execution {id} --wait` waits for it)"
                        ),
                    ));
                }
                // Stored even when no reason is given: it tells a daemon that reads the
                // execution back (after a restart) that a cancel is under way.
                let reason = reason.unwrap_or_else(|| "cancelled by the user".to_owned());
                active.record.cancel_reason = Some(reason.clone());
                let changes = active.state.cancel(ExecutionStatus::Cancelled, reason);
                let effects = store
                    .write(|w| commit(w, active, changes, now))
                    .map_err(|e| set_aside(&mut self.stale, id, e))?;
                self.after_commit(id, effects);
            }
            Control::Pause | Control::Resume => {
                let pause = matches!(action, Control::Pause);
                let allowed = if pause {
                    matches!(
                        record.status,
                        ExecutionStatus::Running | ExecutionStatus::Queued
                    )
                } else {
                    record.status == ExecutionStatus::Paused
                };
                if !allowed {
                    return refuse(if pause {
                        "only a running or queued execution can be paused"
                    } else {
                        "only a paused execution can be resumed"
                    });
                }
                let Some(active) = self.active.get_mut(id) else {
                    return refuse("it is not loaded");
                };
                let (status, kind) = if pause {
                    (ExecutionStatus::Paused, EventKind::ExecutionPaused)
                } else if active.record.started_at.is_some() {
                    (ExecutionStatus::Running, EventKind::ExecutionResumed)
                } else {
                    (ExecutionStatus::Queued, EventKind::ExecutionResumed)
                };
                if let Some((_, reason)) = active.state.stopping_as() {
                    return Err(ApiError::new(
                        ErrorCode::Conflict,
                        format!(
                            "execution {id} is being cancelled ({reason}); it cannot be paused or resumed"
                        ),
                    ));
                }
                active.record.status = status;
                let event = store
                    .write(|w| {
                        active.written.write(w, &active.record)?;
                        append_event(w, id, now, kind, None, json!({"status": status}))
                    })
                    .map_err(|e| set_aside(&mut self.stale, id, e))?;
                self.touched.insert(id.to_owned());
                self.deferred.push(Deferred::Broadcast(event));
            }
            Control::Retry(step_id) => {
                if !matches!(
                    record.status,
                    ExecutionStatus::Failed | ExecutionStatus::Escalated
                ) {
                    return refuse("only a step of a failed or escalated execution can be retried");
                }
                self.load(store, id).map_err(internal)?;
                let Some(active) = self.active.get_mut(id) else {
                    return refuse("it cannot be loaded");
                };
                let Some(node) = active.state.plan().find(&step_id) else {
                    let ids: Vec<&str> = active
                        .state
                        .plan()
                        .nodes()
                        .map(|(_, n)| n.step_id.as_str())
                        .collect();
                    let hint = do_core::validate::did_you_mean(&step_id, ids.iter().copied())
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    return Err(ApiError::new(
                        ErrorCode::NotFound,
                        format!("execution {id} has no step `{step_id}`{hint}"),
                    ));
                };
                let changes = active
                    .state
                    .retry_step(node)
                    .map_err(|e| ApiError::new(ErrorCode::Conflict, e))?;
                active.record.status = ExecutionStatus::Running;
                active.record.completed_at = None;
                active.record.error = None;
                let effects = store
                    .write(|w| {
                        let resumed = append_event(
                            w,
                            id,
                            now,
                            EventKind::ExecutionResumed,
                            Some(&step_id),
                            json!({"retry": true}),
                        );
                        let mut effects = commit(w, active, changes, now)?;
                        effects.events.insert(0, resumed?);
                        Ok(effects)
                    })
                    .map_err(|e| set_aside(&mut self.stale, id, e))?;
                self.after_commit(id, effects);
            }
        }
        Ok(())
    }
}
