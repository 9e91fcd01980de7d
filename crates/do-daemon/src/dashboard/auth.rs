//! Browser sessions: the API key, entered once on the login page, becomes a random session
//! token in an HttpOnly, SameSite=Strict cookie; the daemon keeps the token, never the browser
//! the key. Every POST carries the session's anti-forgery token (the `csrf` form field or the
//! `X-CSRF-Token` header). Programs keep sending `Authorization: Bearer KEY` instead.

use super::{Dashboard, html, layout};
use crate::http;
use axum::body::Body;
use axum::extract::{Form, FromRequest, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html as markup;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const COOKIE: &str = "do_session";

/// A session unused this long is forgotten.
const IDLE: Duration = Duration::from_secs(12 * 3600);

/// Sessions held at once; the least recently used goes first past this.
const MOST_SESSIONS: usize = 256;

/// The browser sessions of this daemon, in memory: a restart logs everyone out.
#[derive(Default)]
pub(crate) struct Sessions(Mutex<HashMap<String, Session>>);

struct Session {
    csrf: String,
    /// The API key the session was opened with: rotating the key ends it.
    key: String,
    used: Instant,
}

/// The anti-forgery token of the request's session, for the forms a page renders. Requests
/// authorised by the bearer key have none and need none.
#[derive(Clone)]
pub(crate) struct Csrf(pub(crate) Option<String>);

impl Sessions {
    fn open(&self, key: &str) -> std::io::Result<String> {
        let token = random_token()?;
        let csrf = random_token()?;
        let mut sessions = self.0.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, s| s.used.elapsed() < IDLE);
        if sessions.len() >= MOST_SESSIONS
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.used)
                .map(|(t, _)| t.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(
            token.clone(),
            Session {
                csrf,
                key: key.to_owned(),
                used: Instant::now(),
            },
        );
        Ok(token)
    }

    /// The session's anti-forgery token, when the token names a live session opened with the
    /// current key.
    fn check(&self, token: &str, key: &str) -> Option<String> {
        let mut sessions = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let session = sessions.get_mut(token)?;
        if session.used.elapsed() >= IDLE
            || !http::constant_time_eq(session.key.as_bytes(), key.as_bytes())
        {
            sessions.remove(token);
            return None;
        }
        session.used = Instant::now();
        Some(session.csrf.clone())
    }

    fn close(&self, token: &str) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token);
    }
}

/// 32 bytes from the system's random source, as hex.
fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn current_key(dashboard: &Dashboard) -> Option<String> {
    // Read per request, as the API does: `do daemon api-key --rotate` takes effect at once.
    std::fs::read_to_string(crate::http_files::api_key_path(
        &dashboard.shared.config.data_dir,
    ))
    .ok()
    .map(|k| k.trim().to_owned())
    .filter(|k| !k.is_empty())
}

fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

fn bearer_is(headers: &HeaderMap, key: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(http::bearer_token)
        .is_some_and(|given| http::constant_time_eq(given.as_bytes(), key.as_bytes()))
}

#[derive(serde::Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

/// Lets a request through with a live session (a POST only with its anti-forgery token) or
/// the bearer key; sends a browser without a session to the login page.
pub(crate) async fn require_session(
    State(dashboard): State<Dashboard>,
    request: Request,
    next: Next,
) -> Response {
    let Some(key) = current_key(&dashboard) else {
        return refused(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the daemon cannot read its API key file; see daemon.log",
        );
    };
    if bearer_is(request.headers(), &key) {
        let mut request = request;
        request.extensions_mut().insert(Csrf(None));
        return next.run(request).await;
    }
    let csrf = session_token(request.headers()).and_then(|t| dashboard.sessions.check(t, &key));
    let Some(csrf) = csrf else {
        if request.method() == Method::GET {
            let path = request
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned();
            return Redirect::to(&format!("/login?next={}", layout::encode(&path))).into_response();
        }
        return refused(
            StatusCode::UNAUTHORIZED,
            "not logged in: open /login and enter the API key (`do daemon api-key` prints it)",
        );
    };
    let request = if request.method() == Method::POST {
        match with_checked_csrf(&dashboard, request, &csrf).await {
            Ok(request) => request,
            Err(response) => return response,
        }
    } else {
        request
    };
    let mut request = request;
    request.extensions_mut().insert(Csrf(Some(csrf)));
    next.run(request).await
}

/// Reads the form body to find the anti-forgery token, then hands the body on unchanged.
async fn with_checked_csrf(
    dashboard: &Dashboard,
    request: Request,
    csrf: &str,
) -> Result<Request, Response> {
    let forged = || {
        refused(
            StatusCode::FORBIDDEN,
            "this form was not sent by a dashboard page of this session (missing or wrong \
             anti-forgery token); reload the page and send it again",
        )
    };
    let header_token = request
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(given) = header_token {
        return if http::constant_time_eq(given.as_bytes(), csrf.as_bytes()) {
            Ok(request)
        } else {
            Err(forged())
        };
    }
    let limit = dashboard.shared.config.limits.request_bytes;
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX))
        .await
        .map_err(|_| {
            refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the form is larger than limits.request_bytes in config.toml",
            )
        })?;
    let mut probe = Request::new(Body::from(bytes.clone()));
    *probe.method_mut() = Method::POST;
    *probe.headers_mut() = parts.headers.clone();
    let given = Form::<CsrfField>::from_request(probe, &())
        .await
        .ok()
        .and_then(|Form(field)| field.csrf);
    match given {
        Some(given) if http::constant_time_eq(given.as_bytes(), csrf.as_bytes()) => {
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
        _ => Err(forged()),
    }
}

fn refused(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

/// Only a path on this site: never another host (`//host`, `/\host`).
fn safe_next(next: Option<&String>) -> &str {
    match next {
        Some(next) if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') => {
            next
        }
        _ => "/",
    }
}

pub(crate) async fn login_page(Query(query): Query<HashMap<String, String>>) -> Response {
    login_form(StatusCode::OK, safe_next(query.get("next")), None)
}

fn login_form(status: StatusCode, next: &str, problem: Option<&str>) -> Response {
    let body = markup! {
        section class="login" {
            h1 { "Log in" }
            p { "Enter the daemon's API key once; " code { "dowf daemon api-key" } " prints it. "
                "The browser keeps a session cookie, not the key." }
            @if let Some(problem) = problem {
                p class="problem" role="alert" { (problem) }
            }
            form method="post" action="/login" {
                input type="hidden" name="next" value=(next);
                label for="key" { "API key" }
                input id="key" name="key" type="password" autocomplete="current-password" required autofocus;
                button type="submit" { "Log in" }
            }
        }
    };
    html(
        status,
        layout::page("Log in", None, layout::Nav::None, body),
    )
}

#[derive(serde::Deserialize)]
pub(crate) struct LoginForm {
    key: String,
    next: Option<String>,
}

pub(crate) async fn login(
    State(dashboard): State<Dashboard>,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_ref()).to_owned();
    let Some(key) = current_key(&dashboard) else {
        return login_form(
            StatusCode::INTERNAL_SERVER_ERROR,
            &next,
            Some("the daemon cannot read its API key file; see daemon.log"),
        );
    };
    if !http::constant_time_eq(form.key.trim().as_bytes(), key.as_bytes()) {
        return login_form(
            StatusCode::UNAUTHORIZED,
            &next,
            Some("wrong API key: `dowf daemon api-key` prints the current one"),
        );
    }
    let token = match dashboard.sessions.open(&key) {
        Ok(token) => token,
        Err(e) => {
            return login_form(
                StatusCode::INTERNAL_SERVER_ERROR,
                &next,
                Some(&format!("cannot make a session token: {e}")),
            );
        }
    };
    let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
    let mut response = Redirect::to(&next).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

pub(crate) async fn logout(State(dashboard): State<Dashboard>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers) {
        dashboard.sessions.close(token);
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("do_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(
            safe_next(Some(&"/executions/x".to_owned())),
            "/executions/x"
        );
        assert_eq!(safe_next(Some(&"//evil.example".to_owned())), "/");
        assert_eq!(safe_next(Some(&"/\\evil.example".to_owned())), "/");
        assert_eq!(safe_next(Some(&"https://evil.example".to_owned())), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn a_session_ends_when_the_key_changes() {
        let sessions = Sessions::default();
        let token = sessions.open("key-1").expect("token");
        assert!(sessions.check(&token, "key-1").is_some());
        assert!(sessions.check(&token, "key-2").is_none());
        assert!(sessions.check(&token, "key-1").is_none(), "forgotten");
        assert!(sessions.check("made-up", "key-1").is_none());
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; do_session=abc; b=2"),
        );
        assert_eq!(session_token(&headers), Some("abc"));
    }
}
