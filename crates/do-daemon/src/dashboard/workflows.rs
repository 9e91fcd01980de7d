//! The workflows list, one workflow (document, versions, step tree, recent executions) and
//! the form that executes it.

use super::auth::Csrf;
use super::layout::{self, Nav};
use super::{Dashboard, ask, ask_page, error_page, executions, html, see_other};
use axum::extract::{Extension, Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use do_core::model::{Priority, WorkflowStatus};
use do_core::workflow::{Step, StepKind};
use do_proto::{
    ApiError, ById, ErrorCode, ExecuteWorkflow, ExecutionData, ListExecutions, ListWorkflows,
    Request, WorkflowData, WorkflowVersion,
};
use maud::{Markup, html as markup};

/// Executions shown on a workflow's page.
const RECENT: u32 = 10;

#[derive(serde::Deserialize)]
pub(crate) struct ListQuery {
    page: Option<u32>,
    archived: Option<String>,
}

pub(crate) async fn list(
    State(dashboard): State<Dashboard>,
    Extension(Csrf(csrf)): Extension<Csrf>,
    Query(query): Query<ListQuery>,
) -> Response {
    let csrf = csrf.as_deref();
    let page = query.page.unwrap_or(1).max(1);
    let all = query.archived.as_deref() == Some("1");
    let paged = ask_page(&dashboard.shared, page, |limit, offset| {
        Request::ListWorkflows(ListWorkflows {
            status: None,
            category: None,
            all,
            limit,
            offset,
        })
    });
    let (rows, more): (Vec<WorkflowData>, bool) = match paged.await {
        Ok(paged) => paged,
        Err(e) => return error_page(csrf, &e),
    };
    let url = |page: u32| {
        let archived = if all { "&archived=1" } else { "" };
        format!("/workflows?page={page}{archived}")
    };
    let body = markup! {
        h1 { "Workflows" }
        p {
            @if all { a href="/workflows" { "Hide archived workflows" } }
            @else { a href="/workflows?archived=1" { "Show archived workflows too" } }
        }
        @if rows.is_empty() {
            p class="none" { "No workflows. " code { "dowf workflow create FILE" } " stores one." }
        } @else {
            div class="scroll" {
                table {
                    thead { tr {
                        th scope="col" { "Name" } th scope="col" { "Id" } th scope="col" { "Status" }
                        th scope="col" { "Version" } th scope="col" { "Steps" } th scope="col" { "Updated" }
                    } }
                    tbody {
                        @for w in &rows {
                            tr {
                                td { a href={ "/workflows/" (w.workflow_id) } { (w.document.name) } }
                                td { code { (w.workflow_id) } }
                                td { (layout::status(w.status.as_str())) }
                                td { (w.version) }
                                td { (w.document.steps.len()) }
                                td { (layout::time(Some(&w.updated_at))) }
                            }
                        }
                    }
                }
            }
        }
        (layout::pager((page > 1).then(|| url(page - 1)), more.then(|| url(page + 1)), page))
    };
    html(
        StatusCode::OK,
        layout::page("Workflows", csrf, Nav::Workflows, body),
    )
}

#[derive(serde::Deserialize)]
pub(crate) struct PageQuery {
    version: Option<u32>,
}

pub(crate) async fn page(
    State(dashboard): State<Dashboard>,
    Extension(Csrf(csrf)): Extension<Csrf>,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    let csrf = csrf.as_deref();
    let latest: WorkflowData = match ask(
        &dashboard.shared,
        Request::GetWorkflow(ById { id: id.clone() }),
    )
    .await
    {
        Ok(workflow) => workflow,
        Err(e) => return error_page(csrf, &e),
    };
    let shown = match query.version.filter(|&v| v != latest.version) {
        None => latest.clone(),
        Some(version) => {
            let request = Request::GetWorkflowVersion(WorkflowVersion {
                id: id.clone(),
                version,
            });
            match ask(&dashboard.shared, request).await {
                Ok(workflow) => workflow,
                Err(e) => return error_page(csrf, &e),
            }
        }
    };
    let recent: Vec<ExecutionData> = match ask(
        &dashboard.shared,
        Request::ListExecutions(ListExecutions {
            workflow_id: Some(id.clone()),
            status: None,
            limit: RECENT,
            offset: 0,
        }),
    )
    .await
    {
        Ok(rows) => rows,
        Err(e) => return error_page(csrf, &e),
    };
    let document = serde_json::to_value(&shown.document).unwrap_or_default();
    let body = markup! {
        h1 { (shown.document.name) }
        dl class="facts" {
            dt { "Id" } dd { code { (shown.workflow_id) } }
            dt { "Status" } dd { (layout::status(latest.status.as_str())) }
            dt { "Version" } dd { (shown.version) " of " (latest.version) }
            dt { "Created" } dd { (layout::time(Some(&latest.created_at))) }
            dt { "Updated" } dd { (layout::time(Some(&latest.updated_at))) }
        }
        nav class="versions" aria-label="Versions" {
            "Versions: "
            @for v in 1..=latest.version {
                @if v == shown.version { strong aria-current="page" { (v) } }
                @else { a href={ "/workflows/" (id) "?version=" (v) } { (v) } }
                " "
            }
        }
        @if latest.status != WorkflowStatus::Archived {
            (execute_form(&id, csrf))
        }
        section {
            h2 { "Steps" }
            (tree(&shown.document.steps))
        }
        section {
            h2 { "Recent executions" }
            (executions::table(&recent))
            p { a href={ "/?workflow=" (layout::encode(&id)) } { "All executions of this workflow" } }
        }
        section {
            h2 { "Document" }
            (layout::json(&document))
        }
    };
    let title = shown.document.name.clone();
    html(
        StatusCode::OK,
        layout::page(&title, csrf, Nav::Workflows, body),
    )
}

fn execute_form(id: &str, csrf: Option<&str>) -> Markup {
    markup! {
        section {
            h2 { "Execute" }
            form class="execute" method="post" action={ "/workflows/" (id) "/execute" }
                data-confirm="Execute this workflow now?" {
                @if let Some(csrf) = csrf { input type="hidden" name="csrf" value=(csrf); }
                label for="input" { "Input (a JSON object)" }
                textarea id="input" name="input" rows="4" spellcheck="false" { "{}" }
                label for="priority" { "Priority" }
                select id="priority" name="priority" {
                    @for p in Priority::ALL {
                        option value=(p.as_str()) selected[*p == Priority::Normal] { (p.as_str()) }
                    }
                }
                button type="submit" { "Execute" }
            }
        }
    }
}

/// The document's step tree, as its definition says (an execution's page shows the run).
fn tree(steps: &[Step]) -> Markup {
    markup! {
        ol class="steps" {
            @for step in steps {
                li {
                    div class="step" {
                        div class="step-head" {
                            code class="step-id" { (step.id) }
                            span class="type" { (step.kind.type_name()) }
                            @match &step.kind {
                                StepKind::Task(t) => { span class="runner" { "agent " code { (t.agent) } } }
                                StepKind::Team(t) => { span class="runner" { "team " code { (t.team_id) } } }
                                StepKind::Parallel(p) => {
                                    @if let Some(max) = p.max_concurrency { span class="detail" { (max) " at a time" } }
                                }
                                StepKind::Conditional(c) => { span class="detail" { "if " code { (c.condition) } } }
                                StepKind::Loop(l) => { span class="detail" { "for each of " code { (l.items) } } }
                            }
                        }
                        @match &step.kind {
                            StepKind::Parallel(p) => { (tree(&p.steps)) }
                            StepKind::Conditional(c) => {
                                p class="branch" { "then" }
                                (tree(c.then.steps()))
                                @if let Some(otherwise) = &c.otherwise {
                                    p class="branch" { "else" }
                                    (tree(otherwise.steps()))
                                }
                            }
                            StepKind::Loop(l) => { (tree(std::slice::from_ref(&*l.step))) }
                            _ => {}
                        }
                    }
                }
            }
        }
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct ExecuteForm {
    input: Option<String>,
    priority: Option<String>,
}

pub(crate) async fn execute(
    State(dashboard): State<Dashboard>,
    Extension(Csrf(csrf)): Extension<Csrf>,
    Path(id): Path<String>,
    Form(form): Form<ExecuteForm>,
) -> Response {
    let csrf = csrf.as_deref();
    let input = match form
        .input
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => None,
        Some(text) => match serde_json::from_str(text) {
            Ok(value) => Some(value),
            Err(e) => {
                let error = ApiError::new(
                    ErrorCode::InvalidRequest,
                    format!("the input is not valid JSON: {e}"),
                );
                return error_page(csrf, &error);
            }
        },
    };
    let priority = match form.priority.as_deref().filter(|p| !p.is_empty()) {
        None => None,
        Some(text) => match text.parse::<Priority>() {
            Ok(priority) => Some(priority),
            Err(e) => {
                let error = ApiError::new(ErrorCode::InvalidRequest, format!("priority: {e}"));
                return error_page(csrf, &error);
            }
        },
    };
    let request = Request::ExecuteWorkflow(ExecuteWorkflow {
        workflow_id: id,
        input,
        priority,
        notifications: None,
    });
    match ask::<ExecutionData>(&dashboard.shared, request).await {
        Ok(execution) => see_other(&format!("/executions/{}", execution.execution_id)),
        Err(e) => error_page(csrf, &e),
    }
}
