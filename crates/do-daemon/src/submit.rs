//! Queuing an execution of a workflow: its input and runners checked, its record and first
//! event stored, the scheduler told. Asked for by a person (socket, HTTP) or by a schedule.

use crate::answers::{field_error, internal, within_limit, workflow_not_found};
use crate::scheduler::Message;
use crate::{Shared, event_log, ids, status, time};
use do_core::engine::Plan;
use do_core::model::{ExecutionStatus, Priority, WorkflowStatus, json_type};
use do_core::validate::{Diagnostic, did_you_mean};
use do_core::workflow::{StepKind, WorkflowDocument};
use do_proto::{ApiError, ErrorCode, Event, EventKind, ExecutionData};
use do_store::prelude::*;
use do_store::{ExecutionRecord, StoreError, WorkflowRecord};
use serde_json::{Value, json};

pub(crate) fn load_workflow(shared: &Shared, id: &str) -> Result<WorkflowRecord, ApiError> {
    shared
        .store()
        .workflow(id)
        .map_err(internal)?
        .ok_or_else(|| workflow_not_found(id))
}

/// The execution input: an object, `{}` when absent, within `limits.input_bytes`.
pub(crate) fn execution_input(shared: &Shared, input: Option<Value>) -> Result<Value, ApiError> {
    let input = match input {
        None | Some(Value::Null) => json!({}),
        Some(Value::Object(map)) => Value::Object(map),
        Some(other) => {
            return Err(field_error(
                "input",
                &format!("must be a JSON object, found {}", json_type(&other)),
            ));
        }
    };
    within_limit(
        &input,
        shared.config.limits.input_bytes,
        "the execution's input",
        "limits.input_bytes",
    )
    .map_err(|e| {
        let details = json!({"errors": [{"path": "input", "message": e.message}]});
        e.with_details(details)
    })?;
    Ok(input)
}

/// Refuses to execute a document whose agents or teams do not exist.
pub(crate) fn check_runners(
    shared: &Shared,
    workflow: &str,
    document: &WorkflowDocument,
) -> Result<(), ApiError> {
    let missing = unknown_runners(shared, document)?;
    if missing.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = missing.iter().map(|d| format!("  {d}")).collect();
    Err(ApiError::new(
        ErrorCode::InvalidRequest,
        format!(
            "workflow `{workflow}` uses agents or teams that do not exist:\n{}",
            lines.join("\n")
        ),
    )
    .with_details(json!({ "errors": missing })))
}

/// Checks an execute request's `notifications`; the error names the field in
/// `details.errors`, as a document's errors do.
pub(crate) fn check_notifications(
    shared: &Shared,
    notifications: Option<&Value>,
) -> Result<(), ApiError> {
    if let Some(notifications) = notifications {
        crate::notify::Notifications::from_value(notifications)
            .and_then(|n| n.check_config(&shared.config.notify))
            .map_err(|e| field_error(&e.path, &e.message))?;
    }
    Ok(())
}

/// A queued execution of the workflow's current version.
pub(crate) fn new_execution(
    workflow: &WorkflowRecord,
    input: Value,
    priority: Option<Priority>,
    notifications: Option<Value>,
    now: i64,
) -> ExecutionRecord {
    let plan = Plan::new(&workflow.document);
    ExecutionRecord {
        id: ids::new_id("exec"),
        workflow_id: workflow.id.clone(),
        workflow_version: workflow.version,
        workflow_name: workflow.document.name.clone(),
        status: ExecutionStatus::Queued,
        priority: priority.unwrap_or(Priority::Normal),
        input,
        notifications: notifications.unwrap_or(Value::Null),
        current_step: None,
        steps_completed: 0,
        steps_total: u32::try_from(plan.roots().len()).unwrap_or(u32::MAX),
        error: None,
        cancel_reason: None,
        created_at: now,
        started_at: None,
        completed_at: None,
        schedule: None,
    }
}

/// Stores a new execution with its first event; a draft workflow becomes active.
pub(crate) fn queue_execution(
    w: &mut dyn Tx,
    workflow: &WorkflowRecord,
    record: &ExecutionRecord,
    now: i64,
) -> Result<Event, StoreError> {
    w.insert_execution(record)?;
    if workflow.status == WorkflowStatus::Draft {
        w.set_workflow_status(&workflow.id, WorkflowStatus::Active, now)?;
    }
    let mut data = json!({"priority": record.priority});
    if let Some(schedule) = &record.schedule {
        data["schedule"] = json!({
            "id": schedule.id,
            "name": schedule.name,
            "scheduledAt": time::rfc3339(schedule.scheduled_at),
        });
    }
    event_log::append_event(w, &record.id, now, EventKind::ExecutionQueued, None, data)
}

/// After the commit of [`queue_execution`]: announces the event, hands the execution to the
/// scheduler and answers with its status.
pub(crate) fn execution_queued(
    shared: &Shared,
    event: Event,
    record: &ExecutionRecord,
) -> Result<ExecutionData, ApiError> {
    let _ = shared.events.send(event);
    tracing::info!(execution = %record.id, workflow = %record.workflow_id, "execution queued");
    let _ = shared.scheduler.send(Message::Start(record.id.clone()));
    status::execution_data(shared, &record.id, false)
}

/// Steps whose agent is not registered or whose team is not defined.
pub(crate) fn unknown_runners(
    shared: &Shared,
    document: &WorkflowDocument,
) -> Result<Vec<Diagnostic>, ApiError> {
    let agents = shared.store().list_agents().map_err(internal)?;
    let teams = shared.store().list_teams().map_err(internal)?;
    let names: Vec<&str> = agents.iter().map(|a| a.spec.name.as_str()).collect();
    let team_ids: Vec<&str> = teams.iter().map(|t| t.spec.id.as_str()).collect();
    let mut found = Vec::new();
    document.walk(&mut |path, step| match &step.kind {
        StepKind::Task(task) if !names.contains(&task.agent.as_str()) => {
            found.push(unknown_agent(&format!("{path}.agent"), &task.agent, &names));
        }
        StepKind::Team(team) if !team_ids.contains(&team.team_id.as_str()) => {
            let hint = match did_you_mean(&team.team_id, team_ids.iter().copied()) {
                Some(id) => format!("did you mean `{id}`? "),
                None => String::new(),
            };
            found.push(Diagnostic {
                path: format!("{path}.teamId"),
                message: format!(
                    "team `{}` is not defined; {hint}define it with `do team create {} --members a,b`",
                    team.team_id, team.team_id
                ),
            });
        }
        _ => {}
    });
    Ok(found)
}

pub(crate) fn unknown_agent(path: &str, agent: &str, names: &[&str]) -> Diagnostic {
    let hint = match did_you_mean(agent, names.iter().copied()) {
        Some(name) => format!("did you mean `{name}`? "),
        None => String::new(),
    };
    Diagnostic {
        path: path.to_owned(),
        message: format!(
            "agent `{agent}` is not registered; {hint}add it with `do agent add {agent} -- COMMAND…`"
        ),
    }
}
