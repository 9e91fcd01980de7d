//! The schedules' routes: `/agents/workflows/{id}/schedules` and `/agents/schedules/…`.

use super::{bad_field, call, read_json};
use crate::Shared;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use do_core::schedule::ScheduleSpec;
use do_proto::{ById, CreateSchedule, GetSchedule, ListSchedules, Request, default_history};
use std::collections::HashMap;
use std::sync::Arc;

type QueryResult = Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>;

pub(super) fn routes() -> Router<Arc<Shared>> {
    const ONE: &str = "/agents/schedules/{id}";
    Router::new()
        .route(
            "/agents/workflows/{id}/schedules",
            post(create).get(list_of_workflow),
        )
        .route("/agents/schedules", get(list))
        .route(ONE, get(show).delete(remove))
        .route(&format!("{ONE}/pause"), post(pause))
        .route(&format!("{ONE}/resume"), post(resume))
        .route(&format!("{ONE}/trigger"), post(trigger))
}

/// The body is a schedule (`ScheduleSpec`): `cron`, and optionally `name`, `timezone`,
/// `input`, `priority`, `overlap`, `catchUp`, `paused`.
async fn create(
    State(shared): State<Arc<Shared>>,
    UrlPath(workflow_id): UrlPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = match read_json(&shared, &headers, body, false).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let schedule = match serde_json::from_value::<ScheduleSpec>(body) {
        Ok(schedule) => schedule,
        Err(e) => return bad_field("$", e.to_string()),
    };
    let request = Request::CreateSchedule(CreateSchedule {
        workflow_id,
        schedule,
    });
    call(&shared, StatusCode::CREATED, request).await
}

async fn list_of_workflow(
    State(shared): State<Arc<Shared>>,
    UrlPath(workflow_id): UrlPath<String>,
) -> Response {
    let request = Request::ListSchedules(ListSchedules {
        workflow_id: Some(workflow_id),
    });
    call(&shared, StatusCode::OK, request).await
}

/// `?workflowId=` keeps one workflow's schedules.
async fn list(State(shared): State<Arc<Shared>>, query: QueryResult) -> Response {
    let Ok(Query(query)) = query else {
        return bad_field("query", "cannot parse the query string".to_owned());
    };
    let request = Request::ListSchedules(ListSchedules {
        workflow_id: query.get("workflowId").cloned(),
    });
    call(&shared, StatusCode::OK, request).await
}

/// `?history=N` lists the schedule's latest N fires (20 by default).
async fn show(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    query: QueryResult,
) -> Response {
    let Ok(Query(query)) = query else {
        return bad_field("query", "cannot parse the query string".to_owned());
    };
    let history = match query.get("history").map(|n| n.parse::<u32>()) {
        None => default_history(),
        Some(Ok(n)) => n,
        Some(Err(_)) => return bad_field("history", "must be a whole number".to_owned()),
    };
    call(
        &shared,
        StatusCode::OK,
        Request::GetSchedule(GetSchedule { id, history }),
    )
    .await
}

async fn remove(State(shared): State<Arc<Shared>>, UrlPath(id): UrlPath<String>) -> Response {
    call(
        &shared,
        StatusCode::OK,
        Request::RemoveSchedule(ById { id }),
    )
    .await
}

async fn pause(State(shared): State<Arc<Shared>>, UrlPath(id): UrlPath<String>) -> Response {
    call(&shared, StatusCode::OK, Request::PauseSchedule(ById { id })).await
}

async fn resume(State(shared): State<Arc<Shared>>, UrlPath(id): UrlPath<String>) -> Response {
    call(
        &shared,
        StatusCode::OK,
        Request::ResumeSchedule(ById { id }),
    )
    .await
}

async fn trigger(State(shared): State<Arc<Shared>>, UrlPath(id): UrlPath<String>) -> Response {
    call(
        &shared,
        StatusCode::ACCEPTED,
        Request::TriggerSchedule(ById { id }),
    )
    .await
}
