//! The execution status document and the event stream, built from what the store holds.

use crate::answers::{Data, execution_not_found, internal};
use crate::event_log::event;
use crate::{Shared, time};
use do_core::engine::{ExecutionState, NodeId, NodeKind, Plan};
use do_core::model::{ExecutionStatus, StepStatus};
use do_proto::{
    ApiError, AttemptData, ErrorCode, Event, EventKind, ExecutionData, Progress, StepData,
};
use do_store::{ExecutionRecord, StepRecord};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use tokio::sync::broadcast::error::RecvError;

/// The status document of an execution; with `with_steps`, its step tree and input too. An
/// unfinished execution's `estimatedCompletion` is there either way.
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
    if record.status == ExecutionStatus::Queued {
        let queue = store.queue().map_err(internal)?;
        data.queue_position = queue
            .iter()
            .position(|q| q == id)
            .and_then(|p| u32::try_from(p + 1).ok());
    }
    if with_steps || !record.status.is_terminal() {
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
        let mut estimates = Estimates {
            store: &**store,
            rows: &rows,
            plan,
            by_step: HashMap::new(),
            by_agent: HashMap::new(),
            now: time::now_ms(),
        };
        // Paused and escalated executions wait for a person: no time can be foretold.
        if matches!(
            record.status,
            ExecutionStatus::Queued | ExecutionStatus::Running
        ) {
            estimates.by_step = history(&**store, &record.workflow_id)?;
            let remaining: Option<i64> = plan
                .roots()
                .iter()
                .map(|&root| estimates.remaining(root))
                .sum();
            data.estimated_completion = remaining.map(|ms| time::rfc3339(estimates.now + ms));
        }
        if with_steps {
            data.steps = Some(
                plan.roots()
                    .iter()
                    .map(|&root| step_data(root, &mut estimates, &mut attempts))
                    .collect(),
            );
            data.input = Some(record.input.clone());
        }
    }
    Ok(data)
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
        queue_position: None,
        schedule: record
            .schedule
            .as_ref()
            .map(|schedule| do_proto::ScheduleRefData {
                id: schedule.id.clone(),
                name: schedule.name.clone(),
                scheduled_at: time::rfc3339(schedule.scheduled_at),
            }),
        tracking_url: None,
    }
}

/// Earlier executions the estimates learn from.
const HISTORY: u32 = 20;

/// Each step's durations (ms, sorted) in the workflow's latest completed executions.
fn history(
    store: &dyn do_store::Store,
    workflow_id: &str,
) -> Result<HashMap<String, Vec<i64>>, ApiError> {
    let mut by_step: HashMap<String, Vec<i64>> = HashMap::new();
    for (step, took) in store
        .step_durations(workflow_id, HISTORY)
        .map_err(internal)?
    {
        by_step.entry(step).or_default().push(took);
    }
    for durations in by_step.values_mut() {
        durations.sort_unstable();
    }
    Ok(by_step)
}

fn median(sorted: &[i64]) -> Option<i64> {
    sorted.get(sorted.len() / 2).copied()
}

/// Expected durations of an execution's steps: the median of the same step in the workflow's
/// latest completed executions, else of the agent's latest steps; unknown otherwise, never
/// invented.
struct Estimates<'a> {
    store: &'a dyn do_store::Store,
    rows: &'a HashMap<String, StepRecord>,
    plan: &'a Plan,
    by_step: HashMap<String, Vec<i64>>,
    /// The agent's median, looked up once per agent.
    by_agent: HashMap<String, Option<i64>>,
    now: i64,
}

impl Estimates<'_> {
    /// How long the step takes, from history alone.
    fn expected(&mut self, node_id: NodeId) -> Option<i64> {
        let node = self.plan.node(node_id);
        if let Some(median) = self.by_step.get(&node.step_id).and_then(|d| median(d)) {
            return Some(median);
        }
        let row = self.rows.get(&node.step_id);
        // A team step's member is known once it started.
        let agent = row
            .and_then(|r| r.agent.as_deref())
            .or_else(|| node.agent())?
            .to_owned();
        let store = self.store;
        *self.by_agent.entry(agent).or_insert_with_key(|agent| {
            let mut durations = store.agent_durations(agent, HISTORY).ok()?;
            durations.sort_unstable();
            median(&durations)
        })
    }

    /// When a running step should end.
    fn step_end(&mut self, node_id: NodeId) -> Option<i64> {
        let row = self.rows.get(&self.plan.node(node_id).step_id)?;
        if row.status != StepStatus::Running {
            return None;
        }
        Some(row.started_at? + self.expected(node_id)?)
    }

    /// What is left of the step, in ms; `None` when unknown.
    fn remaining(&mut self, node_id: NodeId) -> Option<i64> {
        let node = self.plan.node(node_id);
        let row = self.rows.get(&node.step_id);
        let status = row.map_or(StepStatus::Pending, |r| r.status);
        if matches!(
            status,
            StepStatus::Completed | StepStatus::Skipped | StepStatus::Cancelled
        ) {
            return Some(0);
        }
        let elapsed = row
            .filter(|r| r.status == StepStatus::Running)
            .and_then(|r| r.started_at)
            .map_or(0, |started| self.now - started);
        if let Some(expected) = self.expected(node_id) {
            return Some((expected - elapsed).max(0));
        }
        let children = node.children.clone();
        match &node.kind {
            NodeKind::Task { .. } => None,
            NodeKind::Parallel { .. } => children
                .iter()
                .map(|&c| self.remaining(c))
                .try_fold(0, |longest, r| Some(longest.max(r?))),
            NodeKind::Conditional { then_count, .. } => {
                let decided = children
                    .iter()
                    .any(|&c| self.rows.contains_key(&self.plan.node(c).step_id));
                let (then, otherwise) = children.split_at((*then_count).min(children.len()));
                let then: Option<i64> = then.iter().map(|&c| self.remaining(c)).sum();
                let otherwise: Option<i64> = otherwise.iter().map(|&c| self.remaining(c)).sum();
                // Skipped steps count nothing, so once decided the sum is the branch taken.
                if decided {
                    Some(then? + otherwise?)
                } else {
                    Some(then?.max(otherwise?))
                }
            }
            NodeKind::Loop {
                max_concurrency, ..
            } => {
                if children.is_empty() {
                    return None;
                }
                let total: i64 = children
                    .iter()
                    .map(|&c| self.remaining(c))
                    .sum::<Option<i64>>()?;
                Some(total / i64::from(max_concurrency.unwrap_or(1).max(1)))
            }
        }
    }
}

fn step_data(
    node_id: NodeId,
    estimates: &mut Estimates<'_>,
    attempts: &mut HashMap<String, Vec<AttemptData>>,
) -> StepData {
    let plan = estimates.plan;
    let rows = estimates.rows;
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
    let retry_at = row
        .filter(|r| r.status == StepStatus::Pending)
        .and_then(|r| r.retry_at);
    StepData {
        id: node.step_id.clone(),
        step_type: node.type_name().to_owned(),
        // The store keeps a task waiting for its next attempt `pending` with a `retry_at`.
        status: match (row, retry_at) {
            (_, Some(_)) => StepStatus::Retrying,
            (Some(r), None) => r.status,
            (None, None) => StepStatus::Pending,
        },
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
        retry_at: retry_at.map(time::rfc3339),
        max_retries: retry_at.map(|_| node.max_retries()),
        estimated_completion: estimates.step_end(node_id).map(time::rfc3339),
        steps: node
            .children
            .iter()
            .map(|&child| step_data(child, estimates, attempts))
            .collect(),
    }
}

/// Where a watch stream's envelopes go: a socket connection, or an HTTP response's
/// Server-Sent Events.
pub(crate) trait Sink: Send {
    fn send_data(
        &mut self,
        request_id: &str,
        data: Data,
    ) -> impl std::future::Future<Output = std::io::Result<()>> + Send;
    fn send_error(
        &mut self,
        request_id: &str,
        error: ApiError,
    ) -> impl std::future::Future<Output = std::io::Result<()>> + Send;
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
    let data = match serde_json::value::to_raw_value(event) {
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
