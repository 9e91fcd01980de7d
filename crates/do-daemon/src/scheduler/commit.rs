//! Writing the engine's changes of a transition to the store, and what a committed
//! transition asks for once it is durable (events, notifications, kills, timers).

use super::{Active, Deferred, Scheduler};
use crate::event_log::{self, append_event};
use crate::notify::{self, Notifications};
use crate::time;
use do_core::engine::{Change, NodeId};
use do_proto::{Event, EventKind};
use do_store::prelude::*;
use do_store::transition::{self, Tracked};
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
    transition::step_row(&mut active.rows, active.state.plan(), node, execution_id)
}

/// What a committed transition asks for once it is durable.
#[derive(Default)]
pub(super) struct Effects {
    pub(super) events: Vec<Event>,
    pub(super) kills: Vec<NodeId>,
    /// Retry timers to arm: the task and when it may run again.
    pub(super) timers: Vec<(NodeId, i64)>,
}

/// Writes the engine's changes and the execution's new summary in the open transaction
/// (see [`transition::apply`]); returns the events to broadcast and the tasks to end once it
/// has committed.
pub(super) fn commit(
    w: &mut dyn Tx,
    active: &mut Active,
    changes: Vec<Change>,
    now: i64,
) -> Result<Effects, StoreError> {
    let notifying = notifying(&active.record);
    let tracked = Tracked {
        record: &mut active.record,
        steps: &mut active.rows,
        written: &mut active.written,
        notifying,
    };
    let applied = transition::apply(w, tracked, &active.state, changes, now, &mut fastrand::f64)?;
    Ok(Effects {
        events: applied.events.into_iter().map(event_log::event).collect(),
        kills: applied.kills,
        timers: applied.timers,
    })
}

/// Whether the execution's end is announced to anyone.
pub(super) fn notifying(record: &ExecutionRecord) -> bool {
    Notifications::from_value(&record.notifications).is_ok_and(|n| !n.is_empty())
}
