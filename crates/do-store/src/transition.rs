//! From the engine's changes to records and events: the one mapping every backend shares, so
//! that the scheduler and the transitions benchmark write a transition the same way, and a new
//! backend only stores rows.

use crate::seam::Tx;
use crate::{EventRecord, ExecutionRecord, StepRecord, StoreError};
use do_core::engine::{Change, ExecutionState, NodeId, Plan, loop_items_key};
use do_core::model::{ExecutionStatus, StepStatus};
use do_proto::time::rfc3339;
use do_proto::{EventKind, EventPayload, ExecutionEnded, StepChanged, StepRetrying};
use serde_json::{Value, json};
use std::collections::HashMap;

/// What the daemon keeps of an execution that its transitions change: its row, the rows of
/// the steps that have one, and which of the row's columns were last written.
pub struct Tracked<'a> {
    pub record: &'a mut ExecutionRecord,
    pub steps: &'a mut HashMap<NodeId, StepRecord>,
    pub written: &'a mut Summary,
    /// Whether the execution's end is announced to anyone; its end events say so.
    pub notifying: bool,
}

/// The columns of an execution's row that change while it runs. Most transitions of a
/// parallel step change none of them; their commits skip the row (one page less to write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    status: ExecutionStatus,
    current_step: Option<String>,
    steps_completed: u32,
    error: Option<String>,
    cancel_reason: Option<String>,
    started_at: Option<i64>,
    completed_at: Option<i64>,
}

impl Summary {
    /// The summary of a row as it is stored.
    pub fn of(record: &ExecutionRecord) -> Self {
        Summary {
            status: record.status,
            current_step: record.current_step.clone(),
            steps_completed: record.steps_completed,
            error: record.error.clone(),
            cancel_reason: record.cancel_reason.clone(),
            started_at: record.started_at,
            completed_at: record.completed_at,
        }
    }

    /// Writes the execution's row and remembers what was written.
    pub fn write(&mut self, tx: &mut dyn Tx, record: &ExecutionRecord) -> Result<(), StoreError> {
        tx.update_execution(record)?;
        *self = Summary::of(record);
        Ok(())
    }
}

/// What a transition asks for once it is durable.
#[derive(Debug, Default)]
pub struct Applied {
    /// The events it appended, in order.
    pub events: Vec<EventRecord>,
    /// Tasks whose running agent must be ended.
    pub kills: Vec<NodeId>,
    /// Retry timers to arm: the task and when it may run again.
    pub timers: Vec<(NodeId, i64)>,
}

/// The step's row, made (pending, never run) if it has none yet.
pub fn step_row<'a>(
    steps: &'a mut HashMap<NodeId, StepRecord>,
    plan: &Plan,
    node: NodeId,
    execution_id: &str,
) -> &'a mut StepRecord {
    steps.entry(node).or_insert_with(|| StepRecord {
        execution_id: execution_id.to_owned(),
        step_id: plan.node(node).step_id.clone(),
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

/// Appends an event; a step's event carries its id in `stepId`, where readers look for it.
pub fn append_event(
    tx: &mut dyn Tx,
    execution_id: &str,
    at: i64,
    kind: EventKind,
    step_id: Option<&str>,
    mut data: Value,
) -> Result<EventRecord, StoreError> {
    if let (Some(step_id), Value::Object(map)) = (step_id, &mut data) {
        map.insert("stepId".into(), Value::String(step_id.to_owned()));
    }
    let seq = tx.append_event(execution_id, at, kind.as_str(), &data)?;
    Ok(EventRecord {
        execution_id: execution_id.to_owned(),
        seq,
        at,
        kind: kind.as_str().to_owned(),
        data,
    })
}

fn payload(payload: impl EventPayload) -> Value {
    serde_json::to_value(payload).unwrap_or(Value::Null)
}

/// Writes the engine's changes and the execution's new summary in the open transaction.
/// Each step row that changed is written once, after all the changes: a step's status and its
/// output often come as two changes. A queued execution that changes starts running.
/// `random` (in `[0, 1)`) spreads the delays of retries with jitter.
pub fn apply(
    tx: &mut dyn Tx,
    tracked: Tracked<'_>,
    state: &ExecutionState,
    changes: Vec<Change>,
    now: i64,
    random: &mut dyn FnMut() -> f64,
) -> Result<Applied, StoreError> {
    let Tracked {
        record,
        steps,
        written,
        notifying,
    } = tracked;
    let plan = state.plan();
    let id = record.id.clone();
    let mut applied = Applied::default();
    let mut changed_rows: Vec<NodeId> = Vec::new();
    let mut row_changed = |node: NodeId| {
        if !changed_rows.contains(&node) {
            changed_rows.push(node);
        }
    };
    if record.status == ExecutionStatus::Queued {
        record.status = ExecutionStatus::Running;
        record.started_at = Some(now);
        applied.events.push(append_event(
            tx,
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
                let row = step_row(steps, plan, node, &id);
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
                // Who runs it and which attempt this is, so that a watcher knows without asking.
                let runner = (status == StepStatus::Running)
                    .then(|| row.agent.clone().map(|agent| (agent, row.attempts)))
                    .flatten();
                let data = payload(StepChanged {
                    status,
                    attempt: runner.as_ref().map(|(_, attempt)| *attempt),
                    agent: runner.map(|(agent, _)| agent),
                    error,
                });
                let step_id = row.step_id.clone();
                applied
                    .events
                    .push(append_event(tx, &id, now, kind, Some(&step_id), data)?);
            }
            Change::Output { node, value } => {
                // Under the step's id the output lives in its row, where loading reads it
                // from. Only an `output` name needs a row of its own.
                if let Some(name) = &plan.node(node).output {
                    tx.put_output(&id, name, &value)?;
                }
                step_row(steps, plan, node, &id).output = Some(value);
                row_changed(node);
            }
            Change::Expanded { node, items } => {
                tx.put_output(&id, &loop_items_key(&plan.node(node).step_id), &items)?;
            }
            Change::Kill { node } => applied.kills.push(node),
            Change::Retry {
                node,
                delay,
                jitter,
                error,
            } => {
                // Full jitter keeps retries of many steps from arriving together.
                let delay = if jitter {
                    delay * (0.5 + random() / 2.0)
                } else {
                    delay
                };
                let at = now + (delay * 1000.0) as i64;
                let max_retries = plan.node(node).max_retries();
                let row = step_row(steps, plan, node, &id);
                row.status = StepStatus::Pending;
                row.retry_at = Some(at);
                row.error = Some(error.clone());
                let data = payload(StepRetrying {
                    error,
                    delay,
                    attempt: row.attempts,
                    max_retries,
                    retry_at: rfc3339(at),
                });
                let step_id = row.step_id.clone();
                row_changed(node);
                applied.events.push(append_event(
                    tx,
                    &id,
                    now,
                    EventKind::StepRetrying,
                    Some(&step_id),
                    data,
                )?);
                applied.timers.push((node, at));
            }
            Change::Escalated { node, error } => {
                record.status = ExecutionStatus::Escalated;
                record.error = Some(error.clone());
                let data = payload(ExecutionEnded {
                    status: ExecutionStatus::Escalated,
                    error: Some(error),
                    notifying,
                });
                // The failed step that waits: the one to retry.
                let step_id = plan.node(node).step_id.clone();
                applied.events.push(append_event(
                    tx,
                    &id,
                    now,
                    EventKind::ExecutionEscalated,
                    Some(&step_id),
                    data,
                )?);
            }
            Change::Finished { status, error } => {
                record.status = status;
                record.completed_at = Some(now);
                record.error = error.clone();
                let data = payload(ExecutionEnded {
                    status,
                    error,
                    notifying,
                });
                applied.events.push(append_event(
                    tx,
                    &id,
                    now,
                    EventKind::ExecutionFinished,
                    None,
                    data,
                )?);
            }
        }
    }
    for node in changed_rows {
        tx.put_step(step_row(steps, plan, node, &id))?;
    }
    record.current_step = state.current_step().map(str::to_owned);
    record.steps_completed = u32::try_from(state.completed_roots()).unwrap_or(u32::MAX);
    if *written != Summary::of(record) {
        written.write(tx, record)?;
    }
    Ok(applied)
}
