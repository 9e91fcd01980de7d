//! One function per protocol method. Each validates its parameters, talks to the store and the
//! scheduler, and answers with the API's envelope.

use crate::answers::{Answer, internal, to_data, within_limit, workflow_not_found};
use crate::scheduler::{Control, control};
use crate::submit::{
    check_notifications, check_runners, execution_input, execution_queued, load_workflow,
    new_execution, queue_execution, unknown_agent, unknown_runners,
};
use crate::{Shared, ids, schedule_api, status, time};
use do_core::model::{ExecutionStatus, WorkflowStatus};
use do_core::validate::{Diagnostic, did_you_mean, parse_document};
use do_core::workflow::WorkflowDocument;
use do_proto::{
    AddAgent, AgentData, ApiError, ApiKey, ApiKeyData, ById, ByName, CancelExecution, CreateTeam,
    CreateWorkflow, DaemonStatusData, DeleteWorkflow, DeletedWorkflow, ErrorCode, ExecuteWorkflow,
    HelloData, ListExecutions, ListWorkflows, PROTOCOL_VERSION, Request, RetryStep, RunData,
    RunOutcome, RunWorkflow, TeamData, UpdateWorkflow, ValidationData, WorkflowData,
    WorkflowVersion,
};
use do_store::{
    AgentRecord, ExecutionFilter, StoreError, TeamRecord, WorkflowFilter, WorkflowRecord,
};
use serde_json::{Value, json};
use std::sync::Arc;

/// Answers one request that has a single answer: every method but `hello`, `executions.watch`
/// and `daemon.stop`, which belong to a socket connection. The socket and the HTTP API both
/// come through here, so they answer alike.
pub(crate) async fn dispatch(shared: &Arc<Shared>, request: Request) -> Answer {
    match request {
        Request::CancelExecution(CancelExecution {
            id: execution_id,
            reason,
        }) => control(shared, execution_id, Control::Cancel(reason)).await,
        Request::PauseExecution(ById { id: execution_id }) => {
            control(shared, execution_id, Control::Pause).await
        }
        Request::ResumeExecution(ById { id: execution_id }) => {
            control(shared, execution_id, Control::Resume).await
        }
        Request::RetryStep(RetryStep {
            id: execution_id,
            step_id,
        }) => control(shared, execution_id, Control::Retry(step_id)).await,
        Request::TriggerSchedule(ById { id }) => schedule_api::trigger(shared, &id).await,
        request => handle_plain(shared, request),
    }
}

fn handle_plain(shared: &Arc<Shared>, request: Request) -> Answer {
    match request {
        Request::CreateWorkflow(params) => create_workflow(shared, params),
        Request::ValidateWorkflow(params) => validate_workflow(shared, params),
        Request::ListWorkflows(params) => list_workflows(shared, params),
        Request::GetWorkflow(ById { id }) => {
            to_data(&workflow_data(&load_workflow(shared, &id)?, Vec::new()))
        }
        Request::GetWorkflowVersion(params) => get_workflow_version(shared, params),
        Request::UpdateWorkflow(params) => update_workflow(shared, params),
        Request::DeleteWorkflow(params) => delete_workflow(shared, params),
        Request::ArchiveWorkflow(ById { id }) => archive_workflow(shared, &id),
        Request::RunWorkflow(params) => run_workflow(shared, params),
        Request::ExecuteWorkflow(params) => execute_workflow(shared, params),
        Request::GetExecution(ById { id }) => to_data(&status::execution_data(shared, &id, true)?),
        Request::ListExecutions(params) => list_executions(shared, params),
        Request::AddAgent(params) => add_agent(shared, params),
        Request::ListAgents(_) => {
            let agents = shared.store().list_agents().map_err(internal)?;
            to_data(&agents.into_iter().map(agent_data).collect::<Vec<_>>())
        }
        Request::GetAgent(ByName { name }) => to_data(&agent_data(load_agent(shared, &name)?)),
        Request::RemoveAgent(ByName { name }) => {
            let removed = shared
                .store()
                .write(|w| w.remove_agent(&name))
                .map_err(internal)?;
            if !removed {
                return Err(agent_not_found(shared, &name));
            }
            shared.refresh_agents().map_err(internal)?;
            to_data(&json!({"name": name, "removed": true}))
        }
        Request::CreateTeam(params) => create_team(shared, params),
        Request::ListTeams(_) => {
            let teams = shared.store().list_teams().map_err(internal)?;
            to_data(&teams.into_iter().map(team_data).collect::<Vec<_>>())
        }
        Request::GetTeam(ById { id }) => {
            let team = shared.store().team(&id).map_err(internal)?;
            to_data(&team_data(team.ok_or_else(|| team_not_found(shared, &id))?))
        }
        Request::RemoveTeam(ById { id }) => {
            let removed = shared
                .store()
                .write(|w| w.remove_team(&id))
                .map_err(internal)?;
            if !removed {
                return Err(team_not_found(shared, &id));
            }
            to_data(&json!({"id": id, "removed": true}))
        }
        Request::CreateSchedule(params) => schedule_api::create(shared, params),
        Request::ListSchedules(params) => schedule_api::list(shared, params),
        Request::GetSchedule(params) => schedule_api::get(shared, params),
        Request::PauseSchedule(ById { id }) => schedule_api::set_paused(shared, &id, true),
        Request::ResumeSchedule(ById { id }) => schedule_api::set_paused(shared, &id, false),
        Request::RemoveSchedule(ById { id }) => schedule_api::remove(shared, &id),
        Request::DaemonStatus(_) => daemon_status(shared),
        Request::DaemonApiKey(ApiKey { rotate }) => api_key(shared, rotate),
        Request::Hello(_)
        | Request::WatchExecution(_)
        | Request::ExecutionLogs(_)
        | Request::StopDaemon(_)
        | Request::CancelExecution(_)
        | Request::PauseExecution(_)
        | Request::ResumeExecution(_)
        | Request::RetryStep(_)
        | Request::TriggerSchedule(_) => Err(ApiError::new(
            ErrorCode::Internal,
            "request routed to the wrong handler",
        )),
    }
}

pub(crate) fn hello_answer(client_protocol: u32) -> Answer {
    if client_protocol != PROTOCOL_VERSION {
        return Err(ApiError::new(
            ErrorCode::ProtocolMismatch,
            format!(
                "this daemon speaks protocol version {PROTOCOL_VERSION}, the client {client_protocol}; \
                 restart the daemon with `do daemon stop` so that the next command starts a matching one"
            ),
        )
        .with_details(json!({"protocolVersion": PROTOCOL_VERSION})));
    }
    to_data(&HelloData {
        protocol_version: PROTOCOL_VERSION,
        daemon_version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

/// Validates a raw document; unregistered agents are warnings here (an error at execute time).
fn checked_document(
    shared: &Shared,
    document: &Value,
) -> Result<(WorkflowDocument, Vec<Diagnostic>), ApiError> {
    within_limit(
        document,
        shared.config.limits.document_bytes,
        "the workflow document",
        "limits.document_bytes",
    )?;
    let validated = parse_document(document).map_err(|errors| {
        let count = errors.len();
        let lines: Vec<String> = errors.iter().map(|d| format!("  {d}")).collect();
        ApiError::new(
            ErrorCode::InvalidDocument,
            format!(
                "the workflow document is invalid ({count} error{}):\n{}",
                if count == 1 { "" } else { "s" },
                lines.join("\n")
            ),
        )
        .with_details(json!({ "errors": errors }))
    })?;
    let mut warnings = validated.warnings;
    warnings.extend(unknown_runners(shared, &validated.document)?);
    Ok((validated.document, warnings))
}

fn create_workflow(shared: &Shared, params: CreateWorkflow) -> Answer {
    let (document, warnings) = checked_document(shared, &params.document)?;
    let now = time::now_ms();
    let record = WorkflowRecord {
        id: ids::new_id("wf"),
        version: 1,
        status: WorkflowStatus::Draft,
        document,
        created_at: now,
        updated_at: now,
    };
    shared
        .store()
        .write(|w| {
            w.insert_workflow(&record)?;
            schedule_api::sync_document(w, &record, now)
        })
        .map_err(schedule_api::conflict)?;
    shared.schedules_changed.notify_one();
    tracing::info!(workflow = %record.id, "workflow created");
    to_data(&workflow_data(&record, warnings))
}

fn validate_workflow(shared: &Shared, params: CreateWorkflow) -> Answer {
    let (document, warnings) = checked_document(shared, &params.document)?;
    to_data(&ValidationData {
        name: document.name,
        steps: document.steps.len(),
        warnings,
    })
}

fn workflow_data(record: &WorkflowRecord, warnings: Vec<Diagnostic>) -> WorkflowData {
    WorkflowData {
        workflow_id: record.id.clone(),
        document: record.document.clone(),
        status: record.status,
        version: record.version,
        created_at: time::rfc3339(record.created_at),
        updated_at: time::rfc3339(record.updated_at),
        warnings,
    }
}

fn list_workflows(shared: &Shared, params: ListWorkflows) -> Answer {
    let filter = WorkflowFilter {
        hide_archived: params.status.is_none() && !params.all,
        status: params.status,
        category: params.category,
        limit: params.limit,
        offset: params.offset,
    };
    let records = shared.store().list_workflows(&filter).map_err(internal)?;
    to_data(
        &records
            .iter()
            .map(|r| workflow_data(r, Vec::new()))
            .collect::<Vec<_>>(),
    )
}

fn execute_workflow(shared: &Shared, params: ExecuteWorkflow) -> Answer {
    let workflow = load_workflow(shared, &params.workflow_id)?;
    if workflow.status == WorkflowStatus::Archived {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "workflow `{}` ({}) is archived and cannot be executed; store the document \
                 again with `do workflow create FILE` or `do workflow run FILE`",
                workflow.id, workflow.document.name
            ),
        ));
    }
    let input = execution_input(shared, params.input)?;
    check_runners(shared, &workflow.id, &workflow.document)?;
    check_notifications(shared, params.notifications.as_ref())?;
    let now = time::now_ms();
    let record = new_execution(&workflow, input, params.priority, params.notifications, now);
    let event = shared
        .store()
        .write(|w| queue_execution(w, &workflow, &record, now))
        .map_err(internal)?;
    to_data(&execution_queued(shared, event, &record)?)
}

fn get_workflow_version(shared: &Shared, params: WorkflowVersion) -> Answer {
    let mut workflow = load_workflow(shared, &params.id)?;
    if params.version != workflow.version {
        let document = shared
            .store()
            .workflow_version(&params.id, params.version)
            .map_err(internal)?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!(
                        "workflow `{}` has no version {}; its versions are 1 to {}",
                        workflow.id, params.version, workflow.version
                    ),
                )
            })?;
        workflow.document = (*document).clone();
        workflow.version = params.version;
    }
    to_data(&workflow_data(&workflow, Vec::new()))
}

fn update_workflow(shared: &Shared, params: UpdateWorkflow) -> Answer {
    let (document, warnings) = checked_document(shared, &params.document)?;
    let now = time::now_ms();
    let updated = shared
        .store()
        .write(|w| {
            let Some(current) = w.workflow(&params.id)? else {
                return Ok(None);
            };
            let version = w.add_workflow_version(&current.id, &document, now)?;
            let updated = WorkflowRecord {
                version,
                document,
                updated_at: now,
                ..current
            };
            schedule_api::sync_document(w, &updated, now)?;
            Ok(Some(updated))
        })
        .map_err(schedule_api::conflict)?
        .ok_or_else(|| workflow_not_found(&params.id))?;
    shared.schedules_changed.notify_one();
    tracing::info!(workflow = %updated.id, version = updated.version, "workflow updated");
    to_data(&workflow_data(&updated, warnings))
}

fn archive_workflow(shared: &Shared, id: &str) -> Answer {
    let now = time::now_ms();
    let archived = shared
        .store()
        .write(|w| {
            let Some(current) = w.workflow(id)? else {
                return Ok(None);
            };
            w.set_workflow_status(id, WorkflowStatus::Archived, now)?;
            Ok(Some(WorkflowRecord {
                status: WorkflowStatus::Archived,
                updated_at: now,
                ..current
            }))
        })
        .map_err(internal)?
        .ok_or_else(|| workflow_not_found(id))?;
    tracing::info!(workflow = %id, "workflow archived");
    to_data(&workflow_data(&archived, Vec::new()))
}

/// Deletes a workflow that has no execution left to run. Its ended executions keep it unless
/// `force` deletes them too (records, logs and workspaces): history is not lost by accident,
/// and `archive` is the way to retire a workflow but keep it.
fn delete_workflow(shared: &Shared, params: DeleteWorkflow) -> Answer {
    let id = params.id;
    let deleted = shared
        .store()
        .write(|w| {
            if w.workflow(&id)?.is_none() {
                return Ok(Err(workflow_not_found(&id)));
            }
            let (live, all) = w.workflow_execution_counts(&id)?;
            if live > 0 {
                return Ok(Err(ApiError::new(
                    ErrorCode::Conflict,
                    format!(
                        "workflow `{id}` has {live} execution{} not ended yet (queued, running, \
                         paused or escalated); cancel {} first (`do workflow executions \
                         --workflow {id}` lists them)",
                        if live == 1 { "" } else { "s" },
                        if live == 1 { "it" } else { "them" },
                    ),
                )));
            }
            if all > 0 && !params.force {
                return Ok(Err(ApiError::new(
                    ErrorCode::Conflict,
                    format!(
                        "workflow `{id}` has {all} past execution{}; pass `--force` to delete \
                         {} too, or `do workflow archive {id}` to hide the workflow and keep them",
                        if all == 1 { "" } else { "s" },
                        if all == 1 { "it" } else { "them" },
                    ),
                )));
            }
            Ok(Ok(w.delete_workflow(&id)?.unwrap_or_default()))
        })
        .map_err(internal)??;
    for execution in &deleted {
        for dir in ["runs", "workspaces"] {
            let path = shared.config.data_dir.join(dir).join(execution);
            match std::fs::remove_dir_all(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot remove the files of a deleted execution");
                }
            }
        }
    }
    tracing::info!(workflow = %id, executions = deleted.len(), "workflow deleted");
    to_data(&DeletedWorkflow {
        workflow_id: id,
        deleted: true,
        executions_deleted: deleted,
    })
}

/// `workflow run`: the workflow is found by name among the live ones and the decision to
/// create, reuse or add a version is taken in the same transaction as the execution's insert,
/// so concurrent runs of one document store it once.
fn run_workflow(shared: &Shared, params: RunWorkflow) -> Answer {
    let (document, warnings) = checked_document(shared, &params.document)?;
    let input = execution_input(shared, params.input)?;
    check_runners(shared, &document.name, &document)?;
    check_notifications(shared, params.notifications.as_ref())?;
    let now = time::now_ms();
    let (outcome, workflow, record, event) = shared
        .store()
        .write(|w| {
            let (outcome, workflow) = match w.live_workflow_named(&document.name)? {
                Some(existing) if existing.document == document => (RunOutcome::Reused, existing),
                Some(existing) => {
                    let version = w.add_workflow_version(&existing.id, &document, now)?;
                    let updated = WorkflowRecord {
                        version,
                        document,
                        updated_at: now,
                        ..existing
                    };
                    (RunOutcome::Updated, updated)
                }
                None => {
                    let created = WorkflowRecord {
                        id: ids::new_id("wf"),
                        version: 1,
                        status: WorkflowStatus::Draft,
                        document,
                        created_at: now,
                        updated_at: now,
                    };
                    w.insert_workflow(&created)?;
                    (RunOutcome::Created, created)
                }
            };
            if outcome != RunOutcome::Reused {
                schedule_api::sync_document(w, &workflow, now)?;
            }
            let record =
                new_execution(&workflow, input, params.priority, params.notifications, now);
            let event = queue_execution(w, &workflow, &record, now)?;
            Ok((outcome, workflow, record, event))
        })
        .map_err(schedule_api::conflict)?;
    shared.schedules_changed.notify_one();
    tracing::info!(workflow = %workflow.id, version = workflow.version, ?outcome, "workflow run");
    let execution = execution_queued(shared, event, &record)?;
    let mut workflow = workflow_data(&workflow, warnings);
    if workflow.status == WorkflowStatus::Draft {
        workflow.status = WorkflowStatus::Active;
    }
    to_data(&RunData {
        outcome,
        workflow,
        execution,
    })
}

fn list_executions(shared: &Shared, params: ListExecutions) -> Answer {
    let filter = ExecutionFilter {
        workflow_id: params.workflow_id,
        status: params.status,
        limit: params.limit,
        offset: params.offset,
    };
    let store = shared.store();
    let records = store.list_executions(&filter).map_err(internal)?;
    let mut list: Vec<_> = records.iter().map(status::summary).collect();
    if list.iter().any(|e| e.status == ExecutionStatus::Queued) {
        let queue = store.queue().map_err(internal)?;
        let positions: std::collections::HashMap<&str, usize> = queue
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i + 1))
            .collect();
        for execution in &mut list {
            execution.queue_position = positions
                .get(execution.execution_id.as_str())
                .and_then(|&p| u32::try_from(p).ok());
        }
    }
    to_data(&list)
}

fn add_agent(shared: &Shared, params: AddAgent) -> Answer {
    let spec = params.agent;
    if !valid_agent_name(&spec.name) {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!(
                "invalid agent name `{}`: use 1 to 64 letters, digits, `-`, `_` or `.`, starting with a letter or digit",
                spec.name
            ),
        ));
    }
    if spec.command.is_empty() || spec.command[0].is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("agent `{}` needs a command to run", spec.name),
        ));
    }
    for secret in &spec.secret_env {
        let name = &secret.name;
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "agent `{}`: secret variable name `{name}` must be letters, digits and `_`, \
                     not starting with a digit",
                    spec.name
                ),
            ));
        }
        if secret
            .file
            .as_ref()
            .is_some_and(|file| !std::path::Path::new(file).is_absolute())
        {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "agent `{}`: the file of secret variable `{name}` must be an absolute path",
                    spec.name
                ),
            ));
        }
    }
    let record = AgentRecord {
        spec,
        created_at: time::now_ms(),
    };
    let name = record.spec.name.clone();
    shared
        .store()
        .write(|w| {
            if !params.replace && w.agent_exists(&name)? {
                return Err(StoreError::Conflict { what: "agent", id: name.clone() });
            }
            w.put_agent(&record)
        })
        .map_err(|e| match e {
            StoreError::Conflict { .. } => ApiError::new(
                ErrorCode::Conflict,
                format!("agent `{name}` already exists; pass `--replace` to change it, or `do agent remove {name}` first"),
            ),
            other => internal(other),
        })?;
    shared.refresh_agents().map_err(internal)?;
    to_data(&agent_data(record))
}

fn valid_agent_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn agent_data(record: AgentRecord) -> AgentData {
    AgentData {
        spec: record.spec,
        created_at: time::rfc3339(record.created_at),
    }
}

fn load_agent(shared: &Shared, name: &str) -> Result<AgentRecord, ApiError> {
    // The store's lock is released before `agent_not_found` takes it again.
    let found = shared.store().agent(name).map_err(internal)?;
    found.ok_or_else(|| agent_not_found(shared, name))
}

fn agent_not_found(shared: &Shared, name: &str) -> ApiError {
    let agents = shared.store().list_agents().unwrap_or_default();
    let hint = match did_you_mean(name, agents.iter().map(|a| a.spec.name.as_str())) {
        Some(other) => format!("; did you mean `{other}`?"),
        None => "; `do agent list` shows the registered ones".to_owned(),
    };
    ApiError::new(ErrorCode::NotFound, format!("no agent `{name}`{hint}"))
}

fn create_team(shared: &Shared, params: CreateTeam) -> Answer {
    let spec = params.team;
    if !valid_agent_name(&spec.id) {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!(
                "invalid team id `{}`: use 1 to 64 letters, digits, `-`, `_` or `.`, starting with a letter or digit",
                spec.id
            ),
        ));
    }
    if spec.members.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("team `{}` needs at least one member", spec.id),
        ));
    }
    let agents = shared.store().list_agents().map_err(internal)?;
    let names: Vec<&str> = agents.iter().map(|a| a.spec.name.as_str()).collect();
    for (i, member) in spec.members.iter().enumerate() {
        if spec.members[..i].contains(member) {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("member `{member}` is listed twice"),
            ));
        }
        if !names.contains(&member.as_str()) {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                unknown_agent("--members", member, &names).to_string(),
            ));
        }
    }
    let record = TeamRecord {
        spec,
        next: 0,
        created_at: time::now_ms(),
    };
    let id = record.spec.id.clone();
    shared
        .store()
        .write(|w| {
            if !params.replace && w.team_exists(&id)? {
                return Err(StoreError::Conflict { what: "team", id: id.clone() });
            }
            w.put_team(&record)
        })
        .map_err(|e| match e {
            StoreError::Conflict { .. } => ApiError::new(
                ErrorCode::Conflict,
                format!("team `{id}` already exists; pass `--replace` to change it, or `do team remove {id}` first"),
            ),
            other => internal(other),
        })?;
    to_data(&team_data(record))
}

fn team_data(record: TeamRecord) -> TeamData {
    TeamData {
        spec: record.spec,
        created_at: time::rfc3339(record.created_at),
    }
}

fn team_not_found(shared: &Shared, id: &str) -> ApiError {
    let teams = shared.store().list_teams().unwrap_or_default();
    let hint = match did_you_mean(id, teams.iter().map(|t| t.spec.id.as_str())) {
        Some(other) => format!("; did you mean `{other}`?"),
        None => "; `do team list` shows the defined ones".to_owned(),
    };
    ApiError::new(ErrorCode::NotFound, format!("no team `{id}`{hint}"))
}

fn daemon_status(shared: &Shared) -> Answer {
    let running = shared
        .store()
        .executions_with_status(&[ExecutionStatus::Running])
        .map_err(internal)?
        .len();
    to_data(&DaemonStatusData {
        pid: std::process::id(),
        daemon_version: env!("CARGO_PKG_VERSION").to_owned(),
        protocol_version: PROTOCOL_VERSION,
        data_dir: shared.config.data_dir.display().to_string(),
        socket: shared.config.socket.display().to_string(),
        started_at: time::rfc3339(shared.started_at),
        running_executions: running as u64,
        running_steps: shared
            .running_steps
            .load(std::sync::atomic::Ordering::Relaxed),
        max_parallel: u32::try_from(shared.config.max_parallel).unwrap_or(u32::MAX),
        log_lines_dropped: crate::log_lines_dropped(),
        http: bound_http_addr(shared),
    })
}

/// The address the HTTP API listens on, as written to DATA_DIR/http.addr when it bound.
fn bound_http_addr(shared: &Shared) -> Option<String> {
    let text =
        std::fs::read_to_string(crate::http_files::http_addr_path(&shared.config.data_dir)).ok()?;
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The HTTP API's key: the daemon keeps the file, so a client never opens the data dir.
fn api_key(shared: &Shared, rotate: bool) -> Answer {
    let data_dir = &shared.config.data_dir;
    let path = crate::http_files::api_key_path(data_dir);
    let key = if rotate {
        crate::http_files::rotate_api_key(data_dir)
    } else {
        crate::http_files::ensure_api_key(data_dir)
    }
    .map_err(|e| {
        ApiError::new(
            ErrorCode::Internal,
            format!(
                "cannot read or write the API key `{}`: {e}; check the data dir's permissions",
                path.display()
            ),
        )
    })?;
    to_data(&ApiKeyData {
        api_key: key,
        path: path.display().to_string(),
    })
}
