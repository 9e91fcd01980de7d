//! The execution status document and the event stream, built from what the store holds.

use crate::handlers::internal;
use crate::server::Connection;
use crate::{Shared, time};
use do_core::engine::{ExecutionState, NodeId, Plan};
use do_core::model::{ExecutionStatus, StepStatus};
use do_proto::{
    ApiError, AttemptData, ErrorCode, Event, EventKind, ExecutionData, Progress, StepData,
};
use do_store::{EventRecord, ExecutionFilter, ExecutionRecord, StepRecord, StoreError, Writer};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use tokio::sync::broadcast::error::RecvError;

/// The status document of an execution; with `with_steps`, its step tree and input too.
pub(crate) fn execution_data(
    shared: &Shared,
    id: &str,
    with_steps: bool,
) -> Result<ExecutionData, ApiError> {
    let store = shared.store();
    let record = store
        .execution(id)
        .map_err(internal)?
        .ok_or_else(|| execution_not_found(id))?;
    let mut data = summary(&record);
    if let (Some(started), false) = (record.started_at, record.status.is_terminal()) {
        let earlier = store
            .list_executions(&ExecutionFilter {
                workflow_id: Some(record.workflow_id.clone()),
                status: Some(ExecutionStatus::Completed),
                limit: 20,
                offset: 0,
            })
            .map_err(internal)?;
        let mut durations: Vec<i64> = earlier
            .iter()
            .filter_map(|e| Some(e.completed_at? - e.started_at?))
            .collect();
        durations.sort_unstable();
        if let Some(&median) = durations.get(durations.len() / 2) {
            data.estimated_completion = Some(time::rfc3339(started + median));
        }
    }
    if with_steps {
        let document = store
            .workflow_version(&record.workflow_id, record.workflow_version)
            .map_err(internal)?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Internal,
                    format!(
                        "version {} of workflow `{}` is missing",
                        record.workflow_version, record.workflow_id
                    ),
                )
            })?;
        // Loops show one child per iteration: expand them as the engine did.
        let items: BTreeMap<String, serde_json::Value> = store
            .outputs(id)
            .map_err(internal)?
            .into_iter()
            .filter(|(name, _)| name.starts_with("#items:"))
            .collect();
        let state =
            ExecutionState::restore(Plan::new(&document), Value::Null, &BTreeMap::new(), items);
        let plan = state.plan();
        let mut attempts: HashMap<String, Vec<AttemptData>> = HashMap::new();
        for a in store.attempts(id).map_err(internal)? {
            attempts
                .entry(a.step_id.clone())
                .or_default()
                .push(AttemptData {
                    attempt: a.attempt,
                    status: a.status,
                    agent: a.agent,
                    started_at: time::rfc3339(a.started_at),
                    completed_at: a.completed_at.map(time::rfc3339),
                    exit_code: a.exit_code,
                    error: a.error,
                });
        }
        let rows: HashMap<String, StepRecord> = store
            .steps(id)
            .map_err(internal)?
            .into_iter()
            .map(|s| (s.step_id.clone(), s))
            .collect();
        data.steps = Some(
            plan.roots()
                .iter()
                .map(|&root| step_data(plan, root, &rows, &mut attempts))
                .collect(),
        );
        data.input = Some(record.input.clone());
    }
    Ok(data)
}

pub(crate) fn execution_not_found(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("no execution `{id}`; `do workflow executions` lists them"),
    )
}

/// How long something that started and ended took, in milliseconds.
fn elapsed_ms(started: Option<i64>, completed: Option<i64>) -> Option<u64> {
    u64::try_from(completed? - started?).ok()
}

/// An execution without its steps: a row of `do workflow executions`.
pub(crate) fn summary(record: &ExecutionRecord) -> ExecutionData {
    let duration_ms = elapsed_ms(record.started_at, record.completed_at);
    ExecutionData {
        execution_id: record.id.clone(),
        workflow_id: record.workflow_id.clone(),
        workflow_name: record.workflow_name.clone(),
        workflow_version: record.workflow_version,
        status: record.status,
        priority: record.priority,
        current_step: record.current_step.clone(),
        progress: Progress::new(record.steps_completed as usize, record.steps_total as usize),
        input: None,
        steps: None,
        created_at: time::rfc3339(record.created_at),
        started_at: record.started_at.map(time::rfc3339),
        completed_at: record.completed_at.map(time::rfc3339),
        duration: duration_ms.map(time::human_duration),
        duration_ms,
        error: record.error.clone(),
        cancel_reason: record.cancel_reason.clone(),
        estimated_completion: None,
    }
}

fn step_data(
    plan: &Plan,
    node_id: NodeId,
    rows: &HashMap<String, StepRecord>,
    attempts: &mut HashMap<String, Vec<AttemptData>>,
) -> StepData {
    let node = plan.node(node_id);
    let row = rows.get(&node.step_id);
    let duration_ms = row.and_then(|r| elapsed_ms(r.started_at, r.completed_at));
    let output = row.and_then(|r| r.output.clone()).map(|value| {
        let mut map = Map::new();
        map.insert(
            node.output.clone().unwrap_or_else(|| node.step_id.clone()),
            value,
        );
        map
    });
    StepData {
        id: node.step_id.clone(),
        step_type: node.type_name().to_owned(),
        status: row.map_or(StepStatus::Pending, |r| r.status),
        agent: row
            .and_then(|r| r.agent.clone())
            .or_else(|| node.agent().map(str::to_owned)),
        started_at: row.and_then(|r| r.started_at).map(time::rfc3339),
        completed_at: row.and_then(|r| r.completed_at).map(time::rfc3339),
        duration: duration_ms.map(time::human_duration),
        duration_ms,
        output,
        error: row.and_then(|r| r.error.clone()),
        progress: row.and_then(|r| r.progress),
        attempts: attempts.remove(&node.step_id).unwrap_or_default(),
        retry_at: row.and_then(|r| r.retry_at).map(time::rfc3339),
        steps: node
            .children
            .iter()
            .map(|&child| step_data(plan, child, rows, attempts))
            .collect(),
    }
}

/// Appends an event to the execution's log inside a write; returns it for broadcasting once
/// the transaction has committed.
pub(crate) fn append_event(
    w: &mut Writer<'_>,
    execution_id: &str,
    at: i64,
    kind: EventKind,
    step_id: Option<&str>,
    mut data: Value,
) -> Result<Event, StoreError> {
    if let (Some(step_id), Value::Object(map)) = (step_id, &mut data) {
        map.insert("stepId".into(), Value::String(step_id.to_owned()));
    }
    let seq = w.append_event(execution_id, at, kind.as_str(), &data)?;
    Ok(event(EventRecord {
        execution_id: execution_id.to_owned(),
        seq,
        at,
        kind: kind.as_str().to_owned(),
        data,
    }))
}

fn event(mut record: EventRecord) -> Event {
    let step_id = match &mut record.data {
        Value::Object(map) => map
            .remove("stepId")
            .and_then(|v| v.as_str().map(str::to_owned)),
        _ => None,
    };
    let kind = serde_json::from_value(Value::String(record.kind.clone()))
        .unwrap_or(EventKind::ExecutionQueued);
    Event {
        execution_id: record.execution_id,
        seq: record.seq,
        at: time::rfc3339(record.at),
        kind,
        step_id,
        data: record.data,
    }
}

/// Where a watch stream's envelopes go: a socket connection, or an HTTP response's
/// Server-Sent Events.
pub(crate) trait Sink: Send {
    fn send_data(
        &mut self,
        request_id: &str,
        data: Value,
    ) -> impl std::future::Future<Output = std::io::Result<()>> + Send;
    fn send_error(
        &mut self,
        request_id: &str,
        error: ApiError,
    ) -> impl std::future::Future<Output = std::io::Result<()>> + Send;
}

impl Sink for Connection {
    async fn send_data(&mut self, request_id: &str, data: Value) -> std::io::Result<()> {
        Connection::send_data(self, request_id, data).await
    }

    async fn send_error(&mut self, request_id: &str, error: ApiError) -> std::io::Result<()> {
        Connection::send_error(self, request_id, error).await
    }
}

/// Streams an execution's events, past and live, until `execution.finished`. Returns whether
/// the connection is still usable.
pub(crate) async fn watch(
    shared: &Shared,
    conn: &mut impl Sink,
    request_id: &str,
    execution_id: &str,
    through_notifications: bool,
) -> bool {
    let mut end = End {
        through_notifications,
        notifying: false,
    };
    // Subscribe before reading the backlog, so no event falls between the two.
    let mut live = shared.events.subscribe();
    let found = shared.store().execution(execution_id);
    match found {
        Ok(Some(_)) => {}
        Ok(None) => {
            return conn
                .send_error(request_id, execution_not_found(execution_id))
                .await
                .is_ok();
        }
        Err(e) => return conn.send_error(request_id, internal(e)).await.is_ok(),
    }
    let mut last = 0;
    loop {
        let backlog = shared.store().events(execution_id, last);
        let backlog = match backlog {
            Ok(events) => events,
            Err(e) => return conn.send_error(request_id, internal(e)).await.is_ok(),
        };
        // An end followed by a resumption (a retried step) is history: the stream starts at
        // the last resumption, so that it ends where the execution now ends.
        let resumed_at = backlog.iter().rposition(|r| {
            r.kind == EventKind::ExecutionResumed.as_str()
                && r.data.get("retry") == Some(&serde_json::Value::Bool(true))
        });
        for (i, record) in backlog.into_iter().enumerate() {
            let event = event(record);
            last = event.seq;
            if resumed_at.is_some_and(|at| i < at) {
                continue;
            }
            match send_event(conn, request_id, &event, &mut end).await {
                Some(keep_going) => return keep_going,
                None => continue,
            }
        }
        loop {
            match live.recv().await {
                Ok(event) if event.execution_id != execution_id || event.seq <= last => continue,
                // A gap means the broadcast and the store disagree for a moment: re-read.
                Ok(event) if event.seq > last + 1 => break,
                Ok(event) => {
                    last = event.seq;
                    if let Some(keep_going) = send_event(conn, request_id, &event, &mut end).await {
                        return keep_going;
                    }
                }
                Err(RecvError::Lagged(_)) => break,
                Err(RecvError::Closed) => return false,
            }
        }
    }
}

/// Sends one event; `Some(open)` when the stream is over (finished, or the client is gone).
/// Where a watch stream ends: at the execution's end (or escalation), or, when asked, after the
/// end's notifications.
struct End {
    through_notifications: bool,
    notifying: bool,
}

async fn send_event(
    conn: &mut impl Sink,
    request_id: &str,
    event: &Event,
    end: &mut End,
) -> Option<bool> {
    let data = match serde_json::to_value(event) {
        Ok(data) => data,
        Err(_) => return Some(false),
    };
    if conn.send_data(request_id, data).await.is_err() {
        return Some(false);
    }
    match event.kind {
        EventKind::ExecutionFinished | EventKind::ExecutionEscalated => {
            let notifying = event.data.get("notifying") == Some(&serde_json::Value::Bool(true));
            if end.through_notifications && notifying {
                end.notifying = true;
                None
            } else {
                Some(true)
            }
        }
        EventKind::NotificationsDone if end.notifying => Some(true),
        _ => None,
    }
}
