//! The executions list, one execution's page (its live part re-rendered for the page's
//! script), a step attempt's log, and the buttons that steer an execution.

use super::auth::Csrf;
use super::layout::{self, Nav};
use super::{Dashboard, ask, ask_page, error_page, html, see_other, steps};
use crate::answers;
use crate::{handlers, http, logs, status};
use axum::extract::{Extension, Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use do_core::model::{AttemptStatus, ExecutionStatus};
use do_proto::{
    ApiError, AttemptData, ById, CancelExecution, ErrorCode, ExecutionData, ListExecutions,
    ListWorkflows, LogEntry, Logs, Request, RetryStep, WorkflowData,
};
use maud::{Markup, html as markup};
use std::collections::HashMap;

#[derive(serde::Deserialize)]
pub(crate) struct ListQuery {
    status: Option<String>,
    workflow: Option<String>,
    page: Option<u32>,
}

fn list_url(status: Option<ExecutionStatus>, workflow: Option<&str>, page: u32) -> String {
    let mut query = Vec::new();
    if let Some(status) = status {
        query.push(format!("status={status}"));
    }
    if let Some(workflow) = workflow {
        query.push(format!("workflow={}", layout::encode(workflow)));
    }
    if page > 1 {
        query.push(format!("page={page}"));
    }
    if query.is_empty() {
        "/".to_owned()
    } else {
        format!("/?{}", query.join("&"))
    }
}

/// Newest first, filtered by status and workflow, a page at a time (the store pages in SQL).
pub(crate) async fn list(
    State(dashboard): State<Dashboard>,
    Extension(Csrf(csrf)): Extension<Csrf>,
    Query(query): Query<ListQuery>,
) -> Response {
    let csrf = csrf.as_deref();
    let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => match text.parse::<ExecutionStatus>() {
            Ok(status) => Some(status),
            Err(e) => {
                let error = ApiError::new(ErrorCode::InvalidRequest, format!("status: {e}"));
                return error_page(csrf, &error);
            }
        },
    };
    let workflow = query.workflow.filter(|w| !w.is_empty());
    let page = query.page.unwrap_or(1).max(1);
    let paged = ask_page(&dashboard.shared, page, |limit, offset| {
        Request::ListExecutions(ListExecutions {
            workflow_id: workflow.clone(),
            status,
            limit,
            offset,
        })
    });
    let (rows, more): (Vec<ExecutionData>, bool) = match paged.await {
        Ok(paged) => paged,
        Err(e) => return error_page(csrf, &e),
    };
    let workflows: Vec<WorkflowData> = ask(
        &dashboard.shared,
        Request::ListWorkflows(ListWorkflows {
            status: None,
            category: None,
            all: true,
            limit: 200,
            offset: 0,
        }),
    )
    .await
    .unwrap_or_default();
    let body = markup! {
        h1 { "Executions" }
        form class="filters" method="get" action="/" {
            label for="status" { "Status" }
            select id="status" name="status" {
                option value="" { "any" }
                @for s in ExecutionStatus::ALL {
                    option value=(s.as_str()) selected[status == Some(*s)] { (s.as_str()) }
                }
            }
            label for="workflow" { "Workflow" }
            select id="workflow" name="workflow" {
                option value="" { "any" }
                @for w in &workflows {
                    option value=(w.workflow_id) selected[workflow.as_deref() == Some(w.workflow_id.as_str())] {
                        (w.document.name) " (" (w.workflow_id) ")"
                    }
                }
            }
            button type="submit" { "Filter" }
        }
        (table(&rows))
        (layout::pager(
            (page > 1).then(|| list_url(status, workflow.as_deref(), page - 1)),
            more.then(|| list_url(status, workflow.as_deref(), page + 1)),
            page,
        ))
    };
    html(
        StatusCode::OK,
        layout::page("Executions", csrf, Nav::Executions, body),
    )
}

/// A table of executions (the list page, a workflow's recent executions).
pub(crate) fn table(rows: &[ExecutionData]) -> Markup {
    markup! {
        @if rows.is_empty() {
            p class="none" { "No executions." }
        } @else {
            div class="scroll" {
                table class="executions" {
                    thead { tr {
                        th scope="col" { "Execution" } th scope="col" { "Status" }
                        th scope="col" { "Workflow" } th scope="col" { "Priority" }
                        th scope="col" { "Progress" } th scope="col" { "Started" }
                        th scope="col" { "Duration" }
                    } }
                    tbody {
                        @for e in rows {
                            tr data-execution=(e.execution_id) {
                                td { a href={ "/executions/" (e.execution_id) } { code { (e.execution_id) } } }
                                td { (layout::status(e.status.as_str())) }
                                td { a href={ "/workflows/" (e.workflow_id) } { (e.workflow_name) } }
                                td { (e.priority.as_str()) }
                                td { (steps::progress(e)) }
                                td { (layout::time(e.started_at.as_deref())) }
                                td { (e.duration.as_deref().unwrap_or("—")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn execution(dashboard: &Dashboard, id: &str) -> Result<ExecutionData, ApiError> {
    status::execution_data(&dashboard.shared, id, true)
}

/// The workflow version the execution runs, for the step tree's labels.
async fn document(dashboard: &Dashboard, data: &ExecutionData) -> Option<WorkflowData> {
    let request = Request::GetWorkflowVersion(do_proto::WorkflowVersion {
        id: data.workflow_id.clone(),
        version: data.workflow_version,
    });
    ask(&dashboard.shared, request).await.ok()
}

pub(crate) async fn page(
    State(dashboard): State<Dashboard>,
    Extension(Csrf(csrf)): Extension<Csrf>,
    Path(id): Path<String>,
) -> Response {
    let csrf = csrf.as_deref();
    let data = match execution(&dashboard, &id) {
        Ok(data) => data,
        Err(e) => return error_page(csrf, &e),
    };
    let workflow = document(&dashboard, &data).await;
    let body = markup! {
        h1 { "Execution " code { (data.execution_id) } }
        p {
            "Workflow " a href={ "/workflows/" (data.workflow_id) } { (data.workflow_name) }
            " · version " (data.workflow_version)
        }
        p class="connection" id="connection" role="status" aria-live="polite" {}
        div id="live" data-fragment={ "/executions/" (id) "/live" }
            data-events={ "/executions/" (id) "/events" } data-kinds=(steps::event_kinds()) {
            (steps::live(&data, workflow.as_ref().map(|w| &w.document), csrf))
        }
        (steps::cancel_form(&data, csrf))
        section {
            h2 { "Input" }
            (layout::json(data.input.as_ref().unwrap_or(&serde_json::Value::Null)))
        }
    };
    let title = format!("Execution {id}");
    html(
        StatusCode::OK,
        layout::page(&title, csrf, Nav::Executions, body),
    )
}

/// The part of the execution page that changes, for the page's script to swap in.
pub(crate) async fn live(
    State(dashboard): State<Dashboard>,
    Extension(Csrf(csrf)): Extension<Csrf>,
    Path(id): Path<String>,
) -> Response {
    let csrf = csrf.as_deref();
    let data = match execution(&dashboard, &id) {
        Ok(data) => data,
        Err(e) => return error_page(csrf, &e),
    };
    let workflow = document(&dashboard, &data).await;
    html(
        StatusCode::OK,
        steps::live(&data, workflow.as_ref().map(|w| &w.document), csrf),
    )
}

/// The API's event stream, behind the browser session.
pub(crate) async fn events(State(dashboard): State<Dashboard>, Path(id): Path<String>) -> Response {
    http::events(State(dashboard.shared.clone()), Path(id)).await
}

fn find_attempt(steps: &[do_proto::StepData], step: &str, attempt: u32) -> Option<AttemptData> {
    steps.iter().find_map(|s| {
        if s.id == step {
            s.attempts.iter().find(|a| a.attempt == attempt).cloned()
        } else {
            find_attempt(&s.steps, step, attempt)
        }
    })
}

/// Collects what the logs stream (`executions.logs`) sends, for a page.
#[derive(Default)]
struct Collected {
    lines: Vec<String>,
    error: Option<ApiError>,
}

impl status::Sink for Collected {
    async fn send_data(&mut self, _: &str, data: answers::Data) -> std::io::Result<()> {
        if let Ok(LogEntry::Lines { lines, .. }) = serde_json::from_str(data.get()) {
            self.lines.extend(lines);
        }
        Ok(())
    }

    async fn send_error(&mut self, _: &str, error: ApiError) -> std::io::Result<()> {
        self.error = Some(error);
        Ok(())
    }
}

/// One attempt's stderr, as `executions.logs` serves it; while the attempt runs, the page's
/// script follows the same stream (`…/logs?follow=true`) and replaces the text with it.
pub(crate) async fn log(
    State(dashboard): State<Dashboard>,
    Extension(Csrf(csrf)): Extension<Csrf>,
    Path((id, step, attempt)): Path<(String, String, u32)>,
) -> Response {
    let csrf = csrf.as_deref();
    let data = match execution(&dashboard, &id) {
        Ok(data) => data,
        Err(e) => return error_page(csrf, &e),
    };
    let Some(found) = find_attempt(data.steps.as_deref().unwrap_or_default(), &step, attempt)
    else {
        let error = ApiError::new(
            ErrorCode::NotFound,
            format!("execution `{id}` has no attempt {attempt} of step `{step}`"),
        );
        return error_page(csrf, &error);
    };
    let request = Logs {
        id: id.clone(),
        step_id: Some(step.clone()),
        attempt: Some(attempt),
        follow: false,
    };
    let mut collected = Collected::default();
    logs::stream(&dashboard.shared, &mut collected, "dashboard", request).await;
    if let Some(error) = collected.error {
        return error_page(csrf, &error);
    }
    let running = found.status == AttemptStatus::Running;
    let stream = format!(
        "/executions/{id}/logs?stepId={}&attempt={attempt}&follow=true",
        layout::encode(&step)
    );
    let body = markup! {
        h1 { "Log of " code { (step) } ", attempt " (attempt) }
        p {
            a href={ "/executions/" (id) } { "Execution " code { (id) } }
            " · " (layout::status(found.status.as_str())) " · agent " code { (found.agent) }
            @if let Some(code) = found.exit_code { " · exit code " (code) }
        }
        @if let Some(error) = &found.error { p class="error" { (error) } }
        @if collected.lines.is_empty() {
            p class="none" id="log-empty" {
                @if running { "Nothing on stderr yet; this page follows the log." }
                @else { "The agent wrote nothing on stderr." }
            }
        }
        pre id="log" class="log" tabindex="0" aria-label="Log"
            data-stream=[running.then_some(&stream)] {
            @for line in &collected.lines { (line) "\n" }
        }
    };
    let title = format!("Log of {step}");
    html(
        StatusCode::OK,
        layout::page(&title, csrf, Nav::Executions, body),
    )
}

/// The API's log stream, behind the browser session.
pub(crate) async fn log_stream(
    State(dashboard): State<Dashboard>,
    Path(id): Path<String>,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    http::logs(State(dashboard.shared.clone()), Path(id), query).await
}

#[derive(serde::Deserialize)]
pub(crate) struct CancelForm {
    reason: Option<String>,
}

async fn control(
    dashboard: &Dashboard,
    csrf: Option<String>,
    id: &str,
    request: Request,
) -> Response {
    match handlers::dispatch(&dashboard.shared, request).await {
        Ok(_) => see_other(&format!("/executions/{id}")),
        Err(e) => error_page(csrf.as_deref(), &e),
    }
}

pub(crate) async fn cancel(
    State(dashboard): State<Dashboard>,
    Extension(Csrf(csrf)): Extension<Csrf>,
    Path(id): Path<String>,
    Form(form): Form<CancelForm>,
) -> Response {
    let reason = form
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    let request = Request::CancelExecution(CancelExecution {
        id: id.clone(),
        reason,
    });
    control(&dashboard, csrf, &id, request).await
}

pub(crate) async fn pause(
    State(dashboard): State<Dashboard>,
    Extension(Csrf(csrf)): Extension<Csrf>,
    Path(id): Path<String>,
) -> Response {
    let request = Request::PauseExecution(ById { id: id.clone() });
    control(&dashboard, csrf, &id, request).await
}

pub(crate) async fn resume(
    State(dashboard): State<Dashboard>,
    Extension(Csrf(csrf)): Extension<Csrf>,
    Path(id): Path<String>,
) -> Response {
    let request = Request::ResumeExecution(ById { id: id.clone() });
    control(&dashboard, csrf, &id, request).await
}

pub(crate) async fn retry(
    State(dashboard): State<Dashboard>,
    Extension(Csrf(csrf)): Extension<Csrf>,
    Path((id, step_id)): Path<(String, String)>,
) -> Response {
    let request = Request::RetryStep(RetryStep {
        id: id.clone(),
        step_id,
    });
    control(&dashboard, csrf, &id, request).await
}
