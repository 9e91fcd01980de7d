//! The HTTP API (`do daemon run --http ADDR`): the API document's REST paths over the same
//! handlers as the socket, behind a bearer key.
//!
//! Bodies are read and parsed here rather than by axum's extractors so that every failure —
//! bad JSON, a body over 16 MiB, a missing key — answers with the API's envelope.

mod schedules;

use crate::answers::{self, Answer, Data};
use crate::error::DaemonError;
use crate::{Shared, handlers, http_files, http_lists, ids, status, time};
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query, Request as HttpRequest, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use do_core::model::{ExecutionStatus, Priority};
use do_proto::{
    ApiError, ById, CancelExecution, CreateWorkflow, DeleteWorkflow, Envelope, ErrorCode,
    EventKind, ExecuteWorkflow, Metadata, Request, RetryStep, UpdateWorkflow,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// The address `--http` without a value listens on.
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:7878";

/// Compares in time independent of where the inputs differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Binds the listener, writes its address to `http.addr` and serves on the daemon's runtime.
pub(crate) async fn start(
    shared: Arc<Shared>,
    addr: SocketAddr,
) -> Result<tokio::task::JoinHandle<()>, DaemonError> {
    let data_dir = shared.config.data_dir.clone();
    let io = |what, source| DaemonError::Io {
        what,
        path: PathBuf::from(addr.to_string()),
        source,
    };
    http_files::ensure_api_key(&data_dir).map_err(|source| DaemonError::Io {
        what: "create the API key",
        path: http_files::api_key_path(&data_dir),
        source,
    })?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| io("listen for HTTP on", e))?;
    let local = listener
        .local_addr()
        .map_err(|e| io("read the address of", e))?;
    std::fs::write(http_files::http_addr_path(&data_dir), format!("{local}\n")).map_err(
        |source| DaemonError::Io {
            what: "write",
            path: http_files::http_addr_path(&data_dir),
            source,
        },
    )?;
    if !local.ip().is_loopback() {
        tracing::warn!(
            address = %local,
            "the HTTP API listens on a non-loopback address: every request needs the API key \
             (`do daemon api-key`), and it travels in clear text without a TLS proxy"
        );
    }
    tracing::info!(address = %local, "HTTP API ready");
    let limits = shared.config.http_limits;
    let app = router(shared);
    Ok(tokio::spawn(crate::http_listener::serve(
        listener, app, limits,
    )))
}

fn router(shared: Arc<Shared>) -> Router {
    const EXEC: &str = "/agents/workflows/executions/{id}";
    let routes = Router::new()
        .route("/agents/workflows", post(create).get(http_lists::list))
        .route(
            "/agents/workflows/{id}",
            get(get_workflow)
                .put(update_workflow)
                .delete(delete_workflow),
        )
        .route("/agents/workflows/{id}/execute", post(execute))
        .route(
            "/agents/workflows/executions",
            get(http_lists::list_executions),
        )
        .route(EXEC, get(get_execution))
        .route(&format!("{EXEC}/cancel"), post(cancel))
        .route(&format!("{EXEC}/pause"), post(pause))
        .route(&format!("{EXEC}/resume"), post(resume))
        .route(&format!("{EXEC}/steps/{{step_id}}/retry"), post(retry))
        .route(&format!("{EXEC}/events"), get(events))
        .merge(schedules::routes())
        .route(&format!("{EXEC}/logs"), get(logs))
        .merge(crate::http_registry::routes())
        .fallback(no_route)
        .layer(middleware::from_fn_with_state(shared.clone(), auth))
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            read_body_first,
        ))
        .layer(DefaultBodyLimit::disable())
        .with_state(shared.clone());
    // Around the whole router, not each route: a 405 gets its `Allow` header outside the
    // routes' layers. The dashboard's pages answer HTML, so they sit outside it.
    Router::new()
        .fallback_service(routes)
        .layer(middleware::map_response(envelope_errors))
        .merge(crate::dashboard::router(shared))
}

pub(crate) fn metadata() -> Metadata {
    Metadata {
        request_id: ids::new_id("req"),
        timestamp: time::rfc3339(time::now_ms()),
        next_offset: None,
    }
}

/// Wraps the errors axum answers by itself (405, a path it cannot decode, …) in the envelope,
/// so that every answer is the API's JSON.
async fn envelope_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if status == StatusCode::METHOD_NOT_ALLOWED {
        let allowed = parts
            .headers
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        format!("method not allowed on this path; it allows {allowed} (docs/http-api.md)")
    } else if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let code = if status.is_server_error() {
        ErrorCode::Internal
    } else {
        ErrorCode::InvalidRequest
    };
    let mut answer = error_with(status, ApiError::new(code, message));
    for name in [header::ALLOW, header::WWW_AUTHENTICATE] {
        if let Some(value) = parts.headers.get(&name) {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

pub(crate) fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidRequest | ErrorCode::InvalidDocument | ErrorCode::ProtocolMismatch => {
            StatusCode::BAD_REQUEST
        }
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub(crate) fn error_with(status: StatusCode, error: ApiError) -> Response {
    (status, axum::Json(Envelope::<Data>::err(error, metadata()))).into_response()
}

pub(crate) fn reply(ok: StatusCode, answer: Answer) -> Response {
    match answer {
        Ok(data) => (ok, axum::Json(Envelope::ok(data, metadata()))).into_response(),
        Err(error) => error_with(status_of(error.code), error),
    }
}

async fn auth(State(shared): State<Arc<Shared>>, request: HttpRequest, next: Next) -> Response {
    // Read per request: `do daemon api-key --rotate` takes effect at once.
    let expected = match std::fs::read_to_string(http_files::api_key_path(&shared.config.data_dir))
    {
        Ok(key) => key.trim().to_owned(),
        Err(e) => {
            return error_with(
                StatusCode::INTERNAL_SERVER_ERROR,
                ApiError::new(ErrorCode::Internal, format!("cannot read the API key: {e}")),
            );
        }
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    match given {
        Some(given)
            if !expected.is_empty() && constant_time_eq(given.as_bytes(), expected.as_bytes()) =>
        {
            next.run(request).await
        }
        _ => {
            let mut response = error_with(
                StatusCode::UNAUTHORIZED,
                ApiError::new(
                    ErrorCode::Unauthorized,
                    "missing or wrong API key: send `Authorization: Bearer KEY`; \
                     `do daemon api-key` prints the key",
                ),
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            response
        }
    }
}

/// The token of an `Authorization: Bearer TOKEN` header; the scheme's case does not matter
/// (RFC 9110, 11.1).
pub(crate) fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

async fn no_route() -> Response {
    error_with(
        StatusCode::NOT_FOUND,
        ApiError::new(
            ErrorCode::NotFound,
            "no such endpoint; docs/http-api.md lists them",
        ),
    )
}

fn too_large(limit: u64) -> Response {
    error_with(
        StatusCode::PAYLOAD_TOO_LARGE,
        ApiError::new(
            ErrorCode::InvalidRequest,
            format!(
                "request body larger than the limit of {} (limits.request_bytes in config.toml)",
                crate::show_bytes(limit)
            ),
        ),
    )
}

/// Reads the request's whole body before anything answers it. An answer that leaves part of
/// the body unread (a 401, or an operation that takes no body such as `cancel`) makes hyper
/// close the connection without saying so, and the client's next request on that kept-alive
/// connection fails. A body over the limit is refused, and the connection closed, as it must be.
async fn read_body_first(
    State(shared): State<Arc<Shared>>,
    request: HttpRequest,
    next: Next,
) -> Response {
    let limit = shared.config.limits.request_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let refuse = || {
        let mut response = too_large(limit);
        response.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
        response
    };
    // Refused before a byte of it is read: the client may not send it at all.
    if declared.is_some_and(|n| n > limit) {
        return refuse();
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX)).await {
        Ok(bytes) => {
            next.run(HttpRequest::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(_) => refuse(),
    }
}

/// Whether the request says its body is JSON (`application/json`, any parameters).
fn declares_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// The request's JSON body, at most `limits.request_bytes` like a socket request; an empty
/// body is `{}` where `empty_ok`. A body of another media type is refused, not guessed at.
pub(crate) async fn read_json(
    shared: &Shared,
    headers: &HeaderMap,
    body: Body,
    empty_ok: bool,
) -> Result<Value, Response> {
    let limit = shared.config.limits.request_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let bytes = axum::body::to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX))
        .await
        .map_err(|_| too_large(limit))?;
    if empty_ok && bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    if !declares_json(headers) {
        return Err(error_with(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::new(
                ErrorCode::InvalidRequest,
                "the request body must be JSON: send `Content-Type: application/json`",
            ),
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        error_with(
            StatusCode::BAD_REQUEST,
            ApiError::new(
                ErrorCode::InvalidRequest,
                format!("the request body is not valid JSON: {e}"),
            ),
        )
    })
}

/// A 400 naming the body field at fault, in the shape of the document errors.
pub(crate) fn bad_field(path: &str, message: String) -> Response {
    error_with(
        StatusCode::BAD_REQUEST,
        ApiError::new(ErrorCode::InvalidRequest, format!("{path}: {message}"))
            .with_details(json!({"errors": [{"path": path, "message": message}]})),
    )
}

// The error is the response itself, handed straight back to axum.
#[allow(clippy::result_large_err)]
fn object(body: Value) -> Result<serde_json::Map<String, Value>, Response> {
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(bad_field(
            "$",
            "the request body must be a JSON object".to_owned(),
        )),
    }
}

pub(crate) async fn call(shared: &Arc<Shared>, ok: StatusCode, request: Request) -> Response {
    let answer = handlers::dispatch(shared, request)
        .await
        .map_err(|mut error| {
            // The handlers' conflicts name the CLI's flags; over HTTP they are query parameters.
            if error.code == ErrorCode::Conflict {
                error.message = error
                    .message
                    .replace("pass `--force`", "add `?force=true`")
                    .replace("pass `--replace`", "add `?replace=true`");
            }
            error
        });
    reply(ok, answer)
}

async fn create(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> Response {
    let document = match read_json(&shared, &headers, body, false).await {
        Ok(document) => document,
        Err(response) => return response,
    };
    call(
        &shared,
        StatusCode::CREATED,
        Request::CreateWorkflow(CreateWorkflow { document }),
    )
    .await
}

async fn get_workflow(State(shared): State<Arc<Shared>>, UrlPath(id): UrlPath<String>) -> Response {
    call(&shared, StatusCode::OK, Request::GetWorkflow(ById { id })).await
}

/// The body is the new document, as for `POST /agents/workflows`.
async fn update_workflow(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let document = match read_json(&shared, &headers, body, false).await {
        Ok(document) => document,
        Err(response) => return response,
    };
    let request = Request::UpdateWorkflow(UpdateWorkflow { id, document });
    call(&shared, StatusCode::OK, request).await
}

/// `?force=true` deletes the workflow's past executions with it.
async fn delete_workflow(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    query: http_lists::QueryResult,
) -> Response {
    let force = match query
        .as_ref()
        .map(|Query(q)| q.get("force").map(String::as_str))
    {
        Ok(None | Some("false")) => false,
        Ok(Some("true")) => true,
        Ok(Some(other)) => return bad_field("force", format!("`{other}` is not true or false")),
        Err(_) => return bad_field("query", "cannot parse the query string".to_owned()),
    };
    let request = Request::DeleteWorkflow(DeleteWorkflow { id, force });
    call(&shared, StatusCode::OK, request).await
}

async fn execute(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut body = match read_json(&shared, &headers, body, true)
        .await
        .and_then(object)
    {
        Ok(body) => body,
        Err(response) => return response,
    };
    let priority = match body.remove("priority") {
        None | Some(Value::Null) => None,
        Some(value) => match serde_json::from_value::<Priority>(value) {
            Ok(priority) => Some(priority),
            Err(e) => return bad_field("priority", e.to_string()),
        },
    };
    let request = Request::ExecuteWorkflow(ExecuteWorkflow {
        workflow_id: id,
        input: body.remove("input"),
        priority,
        notifications: body.remove("notifications").filter(|v| !v.is_null()),
    });
    // Subscribed before the execution exists, so that its start cannot be missed.
    let mut events = shared.events.subscribe();
    let answer = match handlers::dispatch(&shared, request).await {
        Ok(data) => started(&shared, &mut events, &data, &headers).await,
        Err(error) => Err(error),
    };
    reply(StatusCode::ACCEPTED, answer)
}

/// Longest the execute answer waits for the scheduler to start an execution it has room for.
const START_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The execute answer: the execution as it started (`startedAt`, `currentStep`,
/// `estimatedCompletion`) when the scheduler has room for it, else as queued, with the URL
/// where it can be followed.
async fn started(
    shared: &Shared,
    events: &mut tokio::sync::broadcast::Receiver<do_proto::Event>,
    queued: &Data,
    headers: &HeaderMap,
) -> Answer {
    let mut execution: do_proto::ExecutionData = serde_json::from_str(queued.get())
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    let id = execution.execution_id.clone();
    let running = shared
        .running_steps
        .load(std::sync::atomic::Ordering::Relaxed);
    if execution.status == ExecutionStatus::Queued && running < shared.config.max_parallel as u64 {
        let start = async {
            loop {
                match events.recv().await {
                    Ok(event)
                        if event.execution_id == id
                            && matches!(
                                event.kind,
                                EventKind::ExecutionStarted | EventKind::ExecutionFinished
                            ) =>
                    {
                        break;
                    }
                    // A stream that lagged may have dropped the start: the status says.
                    Err(_) => break,
                    Ok(_) => {}
                }
            }
        };
        if tokio::time::timeout(START_WAIT, start).await.is_ok() {
            execution = status::execution_data(shared, &id, false)?;
        }
    }
    // The execution's dashboard page, served by this same listener.
    execution.tracking_url = Some(format!("http://{}/executions/{id}", host(shared, headers)));
    answers::to_data(&execution)
}

/// The authority clients reach this listener at: the request's `Host`, else the configured
/// address.
fn host(shared: &Shared, headers: &HeaderMap) -> String {
    let given = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
    match (given, shared.config.http) {
        (Some(host), _) => host.to_owned(),
        (None, Some(addr)) => addr.to_string(),
        (None, None) => DEFAULT_HTTP_ADDR.to_owned(),
    }
}

async fn get_execution(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
) -> Response {
    call(&shared, StatusCode::OK, Request::GetExecution(ById { id })).await
}

async fn cancel(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut body = match read_json(&shared, &headers, body, true)
        .await
        .and_then(object)
    {
        Ok(body) => body,
        Err(response) => return response,
    };
    let reason = match body.remove("reason") {
        None | Some(Value::Null) => None,
        Some(Value::String(reason)) => Some(reason),
        Some(_) => return bad_field("reason", "must be a string".to_owned()),
    };
    let request = Request::CancelExecution(CancelExecution { id, reason });
    call(&shared, StatusCode::OK, request).await
}

async fn pause(State(shared): State<Arc<Shared>>, UrlPath(id): UrlPath<String>) -> Response {
    call(
        &shared,
        StatusCode::OK,
        Request::PauseExecution(ById { id }),
    )
    .await
}

async fn resume(State(shared): State<Arc<Shared>>, UrlPath(id): UrlPath<String>) -> Response {
    call(
        &shared,
        StatusCode::OK,
        Request::ResumeExecution(ById { id }),
    )
    .await
}

async fn retry(
    State(shared): State<Arc<Shared>>,
    UrlPath((id, step_id)): UrlPath<(String, String)>,
) -> Response {
    call(
        &shared,
        StatusCode::OK,
        Request::RetryStep(RetryStep { id, step_id }),
    )
    .await
}

/// Server-Sent Events of an execution: one `data:` line per envelope (the socket's watch
/// frames), the SSE event named after the event's kind; the stream ends with the execution.
pub(crate) async fn events(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let found = shared.store().execution(&id);
    match found {
        Ok(Some(_)) => {}
        Ok(None) => return reply(StatusCode::OK, Err(answers::execution_not_found(&id))),
        Err(e) => return reply(StatusCode::OK, Err(answers::internal(e))),
    }
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let request_id = ids::new_id("req");
        let mut sink = ChannelSink(tx);
        status::watch(&shared, &mut sink, &request_id, &id, false).await;
    });
    Sse::new(EnvelopeStream(rx))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Server-Sent Events of an execution's step logs (`executions.logs`): `?stepId=`,
/// `&attempt=`, `&follow=true`; each SSE event named after its entry (`attempt`, `lines`,
/// `end`).
pub(crate) async fn logs(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return bad_field("query", "cannot parse the query string".to_owned());
    };
    let attempt = match query.get("attempt").map(|a| a.parse::<u32>()) {
        None => None,
        Some(Ok(attempt)) => Some(attempt),
        Some(Err(_)) => return bad_field("attempt", "not a whole number".to_owned()),
    };
    let follow = match query.get("follow").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return bad_field("follow", format!("`{other}` is not true or false")),
    };
    let request = do_proto::Logs {
        id,
        step_id: query.get("stepId").cloned(),
        attempt,
        follow,
    };
    if let Err(error) = crate::logs::check(&shared, &request) {
        return reply(StatusCode::OK, Err(error));
    }
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let request_id = ids::new_id("req");
        let mut sink = ChannelSink(tx);
        crate::logs::stream(&shared, &mut sink, &request_id, request).await;
    });
    Sse::new(EnvelopeStream(rx))
        .keep_alive(KeepAlive::default())
        .into_response()
}

struct ChannelSink(mpsc::Sender<Envelope<Data>>);

impl status::Sink for ChannelSink {
    async fn send_data(&mut self, request_id: &str, data: Data) -> std::io::Result<()> {
        let metadata = Metadata {
            request_id: request_id.to_owned(),
            timestamp: time::rfc3339(time::now_ms()),
            next_offset: None,
        };
        self.0
            .send(Envelope::ok(data, metadata))
            .await
            .map_err(|_| std::io::Error::other("the HTTP client is gone"))
    }

    async fn send_error(&mut self, request_id: &str, error: ApiError) -> std::io::Result<()> {
        let metadata = Metadata {
            request_id: request_id.to_owned(),
            timestamp: time::rfc3339(time::now_ms()),
            next_offset: None,
        };
        self.0
            .send(Envelope::err(error, metadata))
            .await
            .map_err(|_| std::io::Error::other("the HTTP client is gone"))
    }
}

struct EnvelopeStream(mpsc::Receiver<Envelope<Data>>);

/// The `type` of a streamed event, which names its Server-Sent Event.
#[derive(serde::Deserialize)]
struct EventType<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<&'a str>,
}

impl futures_core::Stream for EnvelopeStream {
    type Item = Result<SseEvent, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|next| {
            next.map(|envelope| {
                let name = match &envelope.data {
                    Some(data) => serde_json::from_str::<EventType<'_>>(data.get())
                        .ok()
                        .and_then(|event| event.kind)
                        .unwrap_or("message")
                        .to_owned(),
                    None => "error".to_owned(),
                };
                let text = serde_json::to_string(&envelope).unwrap_or_default();
                Ok(SseEvent::default().event(name).data(text))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_whole_keys() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    #[test]
    fn error_codes_map_to_statuses() {
        assert_eq!(
            status_of(ErrorCode::InvalidDocument),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(status_of(ErrorCode::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(status_of(ErrorCode::Conflict), StatusCode::CONFLICT);
        assert_eq!(
            status_of(ErrorCode::Unavailable),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn a_key_is_created_once_private_and_rotated() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let key = http_files::ensure_api_key(dir.path()).expect("create");
        assert_eq!(key.len(), 64);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(http_files::ensure_api_key(dir.path()).expect("read"), key);
        let mode = std::fs::metadata(http_files::api_key_path(dir.path()))
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let rotated = http_files::rotate_api_key(dir.path()).expect("rotate");
        assert_ne!(rotated, key);
        assert_eq!(
            http_files::ensure_api_key(dir.path()).expect("read"),
            rotated
        );
    }
}
