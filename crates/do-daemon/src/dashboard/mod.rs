//! The web dashboard on the HTTP listener: server-rendered pages (maud) over the same handlers
//! as the API and the socket, a small stylesheet and script embedded in the binary, and a
//! browser login that turns the API key into a session cookie.
//!
//! Nothing here decides anything about workflows: every page asks `handlers::dispatch` (or the
//! status document's builder) what the API would answer, and renders it.

mod agents;
mod auth;
mod executions;
mod layout;
mod steps;
mod workflows;

use crate::answers::Answer;
use crate::handlers;
use crate::{Shared, http};
use auth::Sessions;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use do_proto::{ApiError, ErrorCode, Request};
use maud::Markup;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// What every dashboard handler is given: the daemon and the browser sessions.
#[derive(Clone)]
pub(crate) struct Dashboard {
    shared: Arc<Shared>,
    sessions: Arc<Sessions>,
}

/// The dashboard's routes, each behind a session (or the bearer key); the login page and the
/// two assets are open.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let state = Dashboard {
        shared,
        sessions: Arc::new(Sessions::default()),
    };
    let pages = Router::new()
        .route("/", get(executions::list))
        .route("/executions/{id}", get(executions::page))
        .route("/executions/{id}/live", get(executions::live))
        .route("/executions/{id}/events", get(executions::events))
        .route("/executions/{id}/logs", get(executions::log_stream))
        .route(
            "/executions/{id}/steps/{step}/attempts/{attempt}/log",
            get(executions::log),
        )
        .route("/executions/{id}/cancel", post(executions::cancel))
        .route("/executions/{id}/pause", post(executions::pause))
        .route("/executions/{id}/resume", post(executions::resume))
        .route(
            "/executions/{id}/steps/{step}/retry",
            post(executions::retry),
        )
        .route("/workflows", get(workflows::list))
        .route("/workflows/{id}", get(workflows::page))
        .route("/workflows/{id}/execute", post(workflows::execute))
        .route("/runners", get(agents::page))
        .route("/logout", post(auth::logout))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_session,
        ));
    Router::new()
        .merge(pages)
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/assets/dashboard.css", get(stylesheet))
        .route("/assets/dashboard.js", get(script))
        .with_state(state)
}

async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("assets/dashboard.css"),
    )
}

async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("assets/dashboard.js"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// Asks the handlers what the API would answer, decoded into the API's own type.
async fn ask<T: DeserializeOwned>(shared: &Arc<Shared>, request: Request) -> Result<T, ApiError> {
    decode(handlers::dispatch(shared, request).await)
}

/// Rows per page of a list page.
const PAGE: u32 = 50;

/// Page `page` (from 1) of a list the handlers page with a limit and an offset: its rows, and
/// whether there is a next page (known from asking for one row more than a page holds).
/// `request` builds the request from its limit and offset.
async fn ask_page<T: DeserializeOwned>(
    shared: &Arc<Shared>,
    page: u32,
    request: impl FnOnce(u32, u32) -> Request,
) -> Result<(Vec<T>, bool), ApiError> {
    let offset = (page - 1).saturating_mul(PAGE);
    let mut rows: Vec<T> = ask(shared, request(PAGE + 1, offset)).await?;
    let more = rows.len() > PAGE as usize;
    rows.truncate(PAGE as usize);
    Ok((rows, more))
}

fn decode<T: DeserializeOwned>(answer: Answer) -> Result<T, ApiError> {
    let data = answer?;
    serde_json::from_str(data.get()).map_err(|e| {
        ApiError::new(
            ErrorCode::Internal,
            format!("cannot read the daemon's answer: {e}"),
        )
    })
}

/// An HTML page with a status and the headers every page carries.
fn html(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            // Same-origin scripts and styles only: no CDN, no inline script.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        markup.into_string(),
    )
        .into_response()
}

/// The API's error as a page, with the status code the API would answer with.
fn error_page(csrf: Option<&str>, error: &ApiError) -> Response {
    html(
        http::status_of(error.code),
        layout::page("Error", csrf, layout::Nav::None, layout::error_box(error)),
    )
}

/// After a control or an execute: back to the page that shows its effect.
fn see_other(path: &str) -> Response {
    Redirect::to(path).into_response()
}
