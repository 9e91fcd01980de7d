//! Writing the engine's changes of a transition to the store, and what a committed
//! transition asks for once it is durable (events, notifications, kills, timers).

use super::{Active, Deferred, ExecutionRow, Scheduler};
use crate::notify::{self, Notifications};
use crate::status::append_event;
use crate::time;
use do_core::engine::{Change, NodeId, loop_items_key};
use do_core::model::{ExecutionStatus, StepStatus};
use do_proto::{Event, EventKind};
use do_store::prelude::*;
use do_store::{ExecutionRecord, StepRecord, StoreError};
use futures_core::future::BoxFuture;
use serde_json::{Value, json};

impl Scheduler {
    /// Queues what a transition asks for until the turn has committed: its events (and the
    /// notifications they warrant), the ends of tasks the engine cancelled, and forgetting an
    /// execution that has ended. Retry timers are armed at once: they only send a message.
    pub(super) fn after_commit(&mut self, id: &str, effects: Effects) {
        self.touched.insert(id.to_owned());
        for event in effects.events {
            if let Some(active) = self.active.get(id)
                && let Some(delivery) = self.notify(active, &event)
            {
                self.deferred.push(Deferred::Spawn(delivery));
            }
            self.deferred.push(Deferred::Broadcast(event));
        }
        for (node, at) in effects.timers {
            self.arm_wake(id, node, at);
        }
        let Some(active) = self.active.get_mut(id) else {
            return;
        };
        for node in effects.kills {
            if let Some(kill) = active.running.get_mut(&node).and_then(|r| r.kill.take()) {
                self.deferred.push(Deferred::Kill(kill));
            }
        }
        if active.state.finished().is_some() {
            if let Some(reply) = active.cancel_reply.take() {
                self.deferred.push(Deferred::Answer(reply, Ok(())));
            }
            if active.running.is_empty() {
                self.ended.push(id.to_owned());
            }
        }
    }

    /// The delivery of the execution's notifications for an event that warrants one (its end,
    /// an escalation, a step's failure under `notifyOnError`), to run in the background: a
    /// delivery never holds up or fails the execution, and its outcome joins the event log.
    pub(super) fn notify(&self, active: &Active, event: &Event) -> Option<BoxFuture<'static, ()>> {
        let wanted = match event.kind {
            EventKind::ExecutionFinished | EventKind::ExecutionEscalated => true,
            EventKind::StepFailed => event
                .step_id
                .as_deref()
                .and_then(|step| active.state.plan().find(step))
                .is_some_and(|node| {
                    active.state.plan().node(node).handling.notify_on_error == Some(true)
                }),
            _ => false,
        };
        if !wanted {
            return None;
        }
        let targets = match Notifications::from_value(&active.record.notifications) {
            Ok(targets) if !targets.is_empty() => targets,
            _ => return None,
        };
        let mut payload = serde_json::to_value(event).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut payload {
            map.insert("workflowId".into(), json!(active.record.workflow_id));
            map.insert("workflowName".into(), json!(active.record.workflow_name));
            if let Some(status) = event.data.get("status") {
                map.insert("status".into(), status.clone());
            }
        }
        let shared = self.shared.clone();
        let execution_id = active.record.id.clone();
        let config = self.shared.config.notify.clone();
        let ends = matches!(
            event.kind,
            EventKind::ExecutionFinished | EventKind::ExecutionEscalated
        );
        Some(Box::pin(async move {
            let deliveries = notify::deliver(&targets, &config, &payload).await;
            for delivery in deliveries {
                if !delivery.ok {
                    tracing::warn!(execution = %execution_id, channel = delivery.channel, error = ?delivery.error, "notification not delivered");
                }
                let data = serde_json::to_value(&delivery).unwrap_or(Value::Null);
                let now = time::now_ms();
                let event = shared.store().write(|w| {
                    append_event(w, &execution_id, now, EventKind::Notification, None, data)
                });
                if let Ok(event) = event {
                    let _ = shared.events.send(event);
                }
            }
            if ends {
                let now = time::now_ms();
                let done = shared.store().write(|w| {
                    append_event(
                        w,
                        &execution_id,
                        now,
                        EventKind::NotificationsDone,
                        None,
                        json!({}),
                    )
                });
                if let Ok(event) = done {
                    let _ = shared.events.send(event);
                }
            }
        }))
    }
}

pub(super) fn row_mut<'a>(
    active: &'a mut Active,
    node: NodeId,
    execution_id: &str,
) -> &'a mut StepRecord {
    let step_id = active.state.plan().node(node).step_id.clone();
    active.rows.entry(node).or_insert_with(|| StepRecord {
        execution_id: execution_id.to_owned(),
        step_id,
        status: StepStatus::Pending,
        agent: None,
        started_at: None,
        completed_at: None,
        output: None,
        error: None,
        progress: None,
        attempts: 0,
        retry_at: None,
    })
}

/// What a committed transition asks for once it is durable.
#[derive(Default)]
pub(super) struct Effects {
    pub(super) events: Vec<Event>,
    pub(super) kills: Vec<NodeId>,
    /// Retry timers to arm: the task and when it may run again.
    pub(super) timers: Vec<(NodeId, i64)>,
}

/// Writes the engine's changes and the execution's new summary in the open transaction;
/// returns the events to broadcast and the tasks to end once it has committed. Each step row
/// that changed is written once, after all the changes: a step's status and its output often
/// come as two changes.
pub(super) fn commit(
    w: &mut dyn Tx,
    active: &mut Active,
    changes: Vec<Change>,
    now: i64,
) -> Result<Effects, StoreError> {
    let id = active.record.id.clone();
    let mut events = Vec::new();
    let mut kills = Vec::new();
    let mut timers = Vec::new();
    let mut changed_rows: Vec<NodeId> = Vec::new();
    let mut row_changed = |node: NodeId| {
        if !changed_rows.contains(&node) {
            changed_rows.push(node);
        }
    };
    if active.record.status == ExecutionStatus::Queued {
        active.record.status = ExecutionStatus::Running;
        active.record.started_at = Some(now);
        events.push(append_event(
            w,
            &id,
            now,
            EventKind::ExecutionStarted,
            None,
            json!({}),
        )?);
    }
    for change in changes {
        match change {
            Change::Step {
                node,
                status,
                error,
            } => {
                let row = row_mut(active, node, &id);
                row.status = status;
                row.retry_at = None;
                if status == StepStatus::Running {
                    row.started_at.get_or_insert(now);
                    row.completed_at = None;
                    if error.is_some() {
                        row.error = error.clone();
                    }
                } else if status == StepStatus::Pending {
                    row.started_at = None;
                    row.completed_at = None;
                    row.error = None;
                } else if status.is_finished() {
                    row.completed_at = Some(now);
                    row.error = error.clone();
                }
                row_changed(node);
                let kind = match status {
                    StepStatus::Running => EventKind::StepStarted,
                    StepStatus::Completed => EventKind::StepCompleted,
                    StepStatus::Failed => EventKind::StepFailed,
                    StepStatus::Cancelled => EventKind::StepCancelled,
                    StepStatus::Skipped => EventKind::StepSkipped,
                    StepStatus::Pending | StepStatus::Retrying => continue,
                };
                let step_id = row.step_id.clone();
                let mut data = json!({"status": status});
                // Who runs it and which attempt this is, so that a watcher knows without asking.
                if status == StepStatus::Running
                    && let Some(agent) = &row.agent
                {
                    data["agent"] = json!(agent);
                    data["attempt"] = json!(row.attempts);
                }
                if let Some(error) = error {
                    data["error"] = Value::String(error);
                }
                events.push(append_event(w, &id, now, kind, Some(&step_id), data)?);
            }
            Change::Output { node, value } => {
                // Under the step's id the output lives in its row; `Scheduler::load` reads it
                // from there. Only an `output` name needs a row of its own.
                if let Some(name) = &active.state.plan().node(node).output {
                    w.put_output(&id, name, &value)?;
                }
                row_mut(active, node, &id).output = Some(value);
                row_changed(node);
            }
            Change::Expanded { node, items } => {
                let step_id = active.state.plan().node(node).step_id.clone();
                w.put_output(&id, &loop_items_key(&step_id), &items)?;
            }
            Change::Kill { node } => kills.push(node),
            Change::Retry {
                node,
                delay,
                jitter,
                error,
            } => {
                // Full jitter keeps retries of many steps from arriving together.
                let delay = if jitter {
                    delay * (0.5 + fastrand::f64() / 2.0)
                } else {
                    delay
                };
                let at = now + (delay * 1000.0) as i64;
                let max_retries = active.state.plan().node(node).max_retries();
                let row = row_mut(active, node, &id);
                row.status = StepStatus::Pending;
                row.retry_at = Some(at);
                row.error = Some(error.clone());
                let step_id = row.step_id.clone();
                let data = json!({
                    "error": error,
                    "delay": delay,
                    "attempt": row.attempts,
                    "maxRetries": max_retries,
                    "retryAt": time::rfc3339(at),
                });
                row_changed(node);
                events.push(append_event(
                    w,
                    &id,
                    now,
                    EventKind::StepRetrying,
                    Some(&step_id),
                    data,
                )?);
                timers.push((node, at));
            }
            Change::Escalated { node, error } => {
                active.record.status = ExecutionStatus::Escalated;
                active.record.error = Some(error.clone());
                let data = json!({"status": ExecutionStatus::Escalated, "error": error, "notifying": notifying(&active.record)});
                // The failed step that waits: the one to retry.
                let step_id = active.state.plan().node(node).step_id.clone();
                events.push(append_event(
                    w,
                    &id,
                    now,
                    EventKind::ExecutionEscalated,
                    Some(&step_id),
                    data,
                )?);
            }
            Change::Finished { status, error } => {
                active.record.status = status;
                active.record.completed_at = Some(now);
                active.record.error = error.clone();
                events.push(append_event(
                    w,
                    &id,
                    now,
                    EventKind::ExecutionFinished,
                    None,
                    json!({"status": status, "error": error, "notifying": notifying(&active.record)}),
                )?);
            }
        }
    }
    for node in changed_rows {
        w.put_step(row_mut(active, node, &id))?;
    }
    active.record.current_step = active.state.current_step().map(str::to_owned);
    active.record.steps_completed =
        u32::try_from(active.state.completed_roots()).unwrap_or(u32::MAX);
    if !active.written.matches(&active.record) {
        ExecutionRow::write(w, active)?;
    }
    Ok(Effects {
        events,
        kills,
        timers,
    })
}

/// Whether the execution's end is announced to anyone.
pub(super) fn notifying(record: &ExecutionRecord) -> bool {
    Notifications::from_value(&record.notifications).is_ok_and(|n| !n.is_empty())
}
