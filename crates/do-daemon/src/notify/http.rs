//! Deliveries over HTTP: a webhook gets the event JSON, a Slack incoming webhook a one-line
//! summary; both are POSTed with retries on connection errors and 5xx.

use super::{Delivery, NotifyConfig, one_line, plural, summary};
use serde_json::Value;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

/// HTTP tries per webhook or Slack delivery.
const HTTP_ATTEMPTS: u32 = 3;
/// Waits before the second and the third HTTP try.
const HTTP_BACKOFF: [Duration; 2] = [Duration::from_millis(500), Duration::from_millis(1000)];

/// Bytes of a failed HTTP response's body quoted in the error.
const RESPONSE_SNIPPET_BYTES: u64 = 300;

pub(super) async fn deliver_webhook(url: &str, body: &str, timeout: Duration) -> Delivery {
    let (attempts, result) = post_json(url, body.as_bytes().to_vec(), timeout).await;
    let result = result.map_err(|e| {
        format!(
            "POST {url} failed after {attempts} attempt{}: {e}",
            plural(attempts)
        )
    });
    Delivery::new("webhook", url, attempts, result)
}

pub(super) async fn deliver_slack(
    to: &str,
    config: &NotifyConfig,
    event: &Value,
    timeout: Duration,
) -> Delivery {
    let (url, label) = if to.starts_with('#') {
        match config.slack_channels.get(to) {
            Some(url) => (url.as_str(), format!("the Slack webhook of {to}")),
            None => {
                let error = format!(
                    "unknown Slack channel {to}: add it to config.toml under \
                     [notifications.slack], e.g. \"{to}\" = \"https://hooks.slack.com/services/...\""
                );
                return Delivery::new("slack", to, 0, Err(error));
            }
        }
    } else {
        (to, to.to_owned())
    };
    let body = serde_json::json!({ "text": summary(event) }).to_string();
    let (attempts, result) = post_json(url, body.into_bytes(), timeout).await;
    let result = result.map_err(|e| {
        format!(
            "POST to {label} failed after {attempts} attempt{}: {e}",
            plural(attempts)
        )
    });
    Delivery::new("slack", to, attempts, result)
}

/// What one HTTP attempt says about the next.
enum Attempt {
    Done,
    Retry(String),
    GiveUp(String),
}

/// POSTs `body` as JSON, up to [`HTTP_ATTEMPTS`] times on connection errors and 5xx.
/// Returns the attempts made and the last error (which does not name the URL).
pub(super) async fn post_json(
    url: &str,
    body: Vec<u8>,
    timeout: Duration,
) -> (u32, Result<(), String>) {
    let agent = http_agent(url, timeout);
    let body: Arc<[u8]> = body.into();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (agent, url_owned, body) = (agent.clone(), url.to_owned(), body.clone());
        let outcome = tokio::task::spawn_blocking(move || post_once(&agent, &url_owned, &body))
            .await
            .unwrap_or_else(|e| Attempt::GiveUp(format!("the HTTP task failed: {e}")));
        match outcome {
            Attempt::Done => return (attempt, Ok(())),
            Attempt::GiveUp(e) => return (attempt, Err(e)),
            Attempt::Retry(e) if attempt >= HTTP_ATTEMPTS => return (attempt, Err(e)),
            Attempt::Retry(_) => {
                let wait = HTTP_BACKOFF[(attempt as usize - 1).min(HTTP_BACKOFF.len() - 1)];
                tokio::time::sleep(wait).await;
            }
        }
    }
}

fn http_agent(url: &str, timeout: Duration) -> ureq::Agent {
    let mut builder = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        // A redirected POST would silently become a GET without the event: refuse redirects.
        .max_redirects(0)
        .max_redirects_will_error(false)
        .user_agent(concat!("do/", env!("CARGO_PKG_VERSION")));
    if is_loopback(url) {
        // A proxy from the environment cannot reach this machine's own listeners.
        builder = builder.proxy(None);
    }
    ureq::Agent::new_with_config(builder.build())
}

fn post_once(agent: &ureq::Agent, url: &str, body: &[u8]) -> Attempt {
    let response = agent.post(url).content_type("application/json").send(body);
    match response {
        Ok(mut response) => {
            let status = response.status();
            if status.is_success() {
                return Attempt::Done;
            }
            let mut snippet = Vec::new();
            let _ = response
                .body_mut()
                .as_reader()
                .take(RESPONSE_SNIPPET_BYTES)
                .read_to_end(&mut snippet);
            let snippet = one_line(&String::from_utf8_lossy(&snippet));
            let mut error = format!("HTTP {status}");
            if status.is_redirection() {
                error.push_str(" (redirects are not followed)");
            }
            if !snippet.is_empty() {
                error.push_str(": ");
                error.push_str(&snippet);
            }
            if status.is_server_error() {
                Attempt::Retry(error)
            } else {
                Attempt::GiveUp(error)
            }
        }
        Err(
            e @ (ureq::Error::Io(_)
            | ureq::Error::Timeout(_)
            | ureq::Error::HostNotFound
            | ureq::Error::ConnectionFailed
            | ureq::Error::Protocol(_)),
        ) => Attempt::Retry(e.to_string()),
        Err(e) => Attempt::GiveUp(e.to_string()),
    }
}

/// Checks an http(s) URL with a host.
pub(super) fn check_http_url(url: &str) -> Result<(), String> {
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(format!("`{url}` is not an http:// or https:// URL"));
    }
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|e| format!("`{url}` is not a valid URL: {e}"))?;
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("`{url}` has no host"));
    }
    Ok(())
}

fn is_loopback(url: &str) -> bool {
    let Ok(uri) = url.parse::<ureq::http::Uri>() else {
        return false;
    };
    let Some(host) = uri.host() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
