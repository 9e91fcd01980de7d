//! The HTTP routes of the agent registry and of teams: list, get, add, remove.
//!
//! Adding an agent registers a command the daemon's user will run, so over HTTP it needs the
//! API key (like every route) and, on a listener beyond loopback, the explicit consent of
//! config.toml (`[daemon] allow_remote_agent_registration = true`).

use crate::Shared;
use crate::http::{bad_field, call, error_with, read_json};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use do_core::model::{AgentSpec, TeamSpec};
use do_proto::{AddAgent, ApiError, ById, ByName, CreateTeam, Empty, ErrorCode, Request};
use std::collections::HashMap;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/agents/registry", get(list_agents).post(add_agent))
        .route(
            "/agents/registry/{name}",
            get(get_agent).delete(remove_agent),
        )
        .route("/agents/teams", get(list_teams).post(create_team))
        .route("/agents/teams/{id}", get(get_team).delete(remove_team))
}

/// `?replace=true` replaces an agent or team of the same name instead of answering 409.
#[allow(clippy::result_large_err)]
fn replace(query: &HashMap<String, String>) -> Result<bool, Response> {
    match query.get("replace").map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(bad_field(
            "replace",
            format!("`{other}` is not true or false"),
        )),
    }
}

/// The body as `T`, or a 400 naming the field serde stopped at.
#[allow(clippy::result_large_err)]
fn parse<T: serde::de::DeserializeOwned>(body: serde_json::Value) -> Result<T, Response> {
    if !body.is_object() {
        return Err(bad_field(
            "$",
            "the request body must be a JSON object".to_owned(),
        ));
    }
    serde_json::from_value(whole_numbers(body)).map_err(|e| bad_field("$", e.to_string()))
}

/// What adding an agent or creating a team sends: the spec in the body and `?replace`, or the
/// answer that refuses them (a bad `replace` before the body is read).
#[allow(clippy::result_large_err)]
async fn registration<T: serde::de::DeserializeOwned>(
    shared: &Arc<Shared>,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: Body,
) -> Result<(T, bool), Response> {
    let replace = replace(query)?;
    let spec = read_json(shared, headers, body, false)
        .await
        .and_then(parse)?;
    Ok((spec, replace))
}

/// `2.0` as `2`: JSON Schema counts a number with a zero fraction as an integer, and so do
/// clients that write every number as a float.
fn whole_numbers(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f >= 0.0 && f <= u32::MAX as f64 => {
                Value::from(f as u64)
            }
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(whole_numbers).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, whole_numbers(v)))
                .collect(),
        ),
        other => other,
    }
}

async fn list_agents(State(shared): State<Arc<Shared>>) -> Response {
    call(&shared, StatusCode::OK, Request::ListAgents(Empty {})).await
}

async fn get_agent(State(shared): State<Arc<Shared>>, UrlPath(name): UrlPath<String>) -> Response {
    call(&shared, StatusCode::OK, Request::GetAgent(ByName { name })).await
}

async fn remove_agent(
    State(shared): State<Arc<Shared>>,
    UrlPath(name): UrlPath<String>,
) -> Response {
    call(
        &shared,
        StatusCode::OK,
        Request::RemoveAgent(ByName { name }),
    )
    .await
}

async fn add_agent(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let remote = shared.config.http.is_some_and(|a| !a.ip().is_loopback());
    if remote && !shared.config.allow_remote_agent_registration {
        return error_with(
            StatusCode::FORBIDDEN,
            ApiError::new(
                ErrorCode::Forbidden,
                "registering an agent runs its command as the daemon's user, and this listener \
                 is not on loopback: register it with `do agent add` on the machine, or set \
                 `allow_remote_agent_registration = true` under [daemon] in config.toml",
            ),
        );
    }
    let (agent, replace) = match registration::<AgentSpec>(&shared, &query, &headers, body).await {
        Ok(registration) => registration,
        Err(response) => return response,
    };
    let request = Request::AddAgent(AddAgent { agent, replace });
    call(&shared, StatusCode::CREATED, request).await
}

async fn list_teams(State(shared): State<Arc<Shared>>) -> Response {
    call(&shared, StatusCode::OK, Request::ListTeams(Empty {})).await
}

async fn get_team(State(shared): State<Arc<Shared>>, UrlPath(id): UrlPath<String>) -> Response {
    call(&shared, StatusCode::OK, Request::GetTeam(ById { id })).await
}

async fn remove_team(State(shared): State<Arc<Shared>>, UrlPath(id): UrlPath<String>) -> Response {
    call(&shared, StatusCode::OK, Request::RemoveTeam(ById { id })).await
}

async fn create_team(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (team, replace) = match registration::<TeamSpec>(&shared, &query, &headers, body).await {
        Ok(registration) => registration,
        Err(response) => return response,
    };
    let request = Request::CreateTeam(CreateTeam { team, replace });
    call(&shared, StatusCode::CREATED, request).await
}
