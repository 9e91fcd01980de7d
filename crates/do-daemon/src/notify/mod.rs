//! Delivers an execution's notifications: the `notifications` object of the execute request
//! names up to four channels (webhook, command, slack, email); [`deliver`] sends one event to
//! each of them at once and reports every outcome as a [`Delivery`] for the event log. A
//! delivery never fails anything else: errors are data.
//!
//! The event JSON is only ever sent as a body (HTTP) or on stdin (command, email): it is never
//! put on a command line or into a shell string.

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::Value;
use std::collections::BTreeMap;
use std::future::Future;
use std::io::Read;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// HTTP tries per webhook or Slack delivery.
const HTTP_ATTEMPTS: u32 = 3;
/// Waits before the second and the third HTTP try.
const HTTP_BACKOFF: [Duration; 2] = [Duration::from_millis(500), Duration::from_millis(1000)];
/// Per-attempt HTTP timeout when the configuration leaves it at zero.
const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a notification command (or the sendmail command) may run before it is killed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// After a command exits, how long its stderr may stay open (held by a background child).
const STDERR_GRACE: Duration = Duration::from_secs(1);
/// Bytes of a command's stderr kept to quote its last line.
const STDERR_TAIL_BYTES: usize = 8 * 1024;
/// Bytes of a failed HTTP response's body quoted in the error.
const RESPONSE_SNIPPET_BYTES: u64 = 300;

/// The http(s) URLs the schema of `notifications` admits: a subset of those
/// [`check_http_url`] accepts, so that a client following the schema is never refused.
macro_rules! url_pattern {
    () => {
        r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._~-]+(:[0-9]{1,4})?(/[A-Za-z0-9._~!$&'()*+,;=:@/-]*)?(\?[A-Za-z0-9._~!$&'()*+,;=:@/?-]*)?"
    };
}

/// Where an execution's notifications go: the `notifications` object of the execute request.
/// A channel not listed here is refused (400), not ignored.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub(crate) struct Notifications {
    /// An http(s) URL: the event JSON is POSTed to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = concat!(r"^\s*", url_pattern!(), r"\s*$")))]
    pub(crate) webhook: Option<String>,
    /// Run with `sh -c CMD`, the event JSON on stdin. The command is the user's own
    /// configuration, like a shell agent's script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"\S"))]
    pub(crate) command: Option<String>,
    /// A Slack incoming-webhook URL, or a `#channel` mapped to one under
    /// `[notifications.slack]` in config.toml (an unmapped channel is refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = concat!(r"^\s*(#[^\s\x00-\x1f\x7f-\x9f]+|", url_pattern!(), r")\s*$")))]
    pub(crate) slack: Option<String>,
    /// An address; the mail goes through the configured sendmail-compatible command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(
        pattern = r"^\s*[^\s\x00-\x1f\x7f-\x9f,;<>@-][^\s\x00-\x1f\x7f-\x9f,;<>@]*@[^\s\x00-\x1f\x7f-\x9f,;<>]+\s*$"
    ))]
    pub(crate) email: Option<String>,
}

/// A field of the `notifications` object that cannot be used, with its JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    /// `notifications.slack`
    pub(crate) path: String,
    pub(crate) message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`: {}", self.path, self.message)
    }
}

impl Notifications {
    /// Reads and checks the `notifications` object of an execute request; `null` means none.
    /// The error names the offending field. A channel `do` does not know is refused rather
    /// than ignored: a misspelt channel would otherwise lose its notifications in silence.
    pub(crate) fn from_value(v: &Value) -> Result<Notifications, FieldError> {
        let error = |path: String, message: String| FieldError { path, message };
        let map = match v {
            Value::Null => return Ok(Notifications::default()),
            Value::Object(map) => map,
            _ => {
                return Err(error(
                    "notifications".to_owned(),
                    "must be an object".to_owned(),
                ));
            }
        };
        let mut n = Notifications::default();
        for (key, value) in map {
            let path = format!("notifications.{key}");
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s.trim().to_owned(),
                _ => return Err(error(path, "must be a string".to_owned())),
            };
            match key.as_str() {
                "webhook" => {
                    check_http_url(&text).map_err(|e| error(path, e))?;
                    n.webhook = Some(text);
                }
                "command" => {
                    if text.is_empty() {
                        return Err(error(path, "is empty".to_owned()));
                    }
                    // Keep the command exactly as given (only a blank one is refused).
                    n.command = value.as_str().map(str::to_owned);
                }
                "slack" => {
                    if let Some(channel) = text.strip_prefix('#') {
                        if channel.is_empty()
                            || channel.chars().any(|c| c.is_whitespace() || c.is_control())
                        {
                            return Err(error(path, format!("`{text}` is not a channel name")));
                        }
                    } else {
                        check_http_url(&text).map_err(|e| {
                            error(
                                path,
                                format!("must be an incoming-webhook URL or a #channel: {e}"),
                            )
                        })?;
                    }
                    n.slack = Some(text);
                }
                "email" => {
                    check_email(&text).map_err(|e| error(path, e))?;
                    n.email = Some(text);
                }
                other => {
                    return Err(error(
                        path,
                        format!(
                            "unknown notification channel `{other}` (expected webhook, \
                             command, slack or email)"
                        ),
                    ));
                }
            }
        }
        Ok(n)
    }

    /// Refuses a Slack `#channel` that config.toml maps to no incoming webhook, before the
    /// execution starts rather than in its event log.
    pub(crate) fn check_config(&self, config: &NotifyConfig) -> Result<(), FieldError> {
        match &self.slack {
            Some(channel)
                if channel.starts_with('#') && !config.slack_channels.contains_key(channel) =>
            {
                Err(FieldError {
                    path: "notifications.slack".to_owned(),
                    message: format!(
                        "unknown Slack channel {channel}: add it to config.toml under \
                         [notifications.slack], e.g. \"{channel}\" = \
                         \"https://hooks.slack.com/services/...\", or give the incoming-webhook \
                         URL itself"
                    ),
                })
            }
            _ => Ok(()),
        }
    }

    /// True when no channel is set.
    pub(crate) fn is_empty(&self) -> bool {
        self.webhook.is_none()
            && self.command.is_none()
            && self.slack.is_none()
            && self.email.is_none()
    }
}

/// Daemon-wide settings for deliveries (`[notifications]` in config.toml).
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// `"#product-launches"` → incoming-webhook URL (`[notifications.slack]`).
    pub slack_channels: BTreeMap<String, String>,
    /// The sendmail-compatible command as argv, e.g. `["sendmail", "-t"]`; the message, with
    /// its `To:` and `Subject:` headers, goes on its stdin.
    pub sendmail: Option<Vec<String>>,
    /// Per HTTP attempt; zero means the default, 10 s.
    pub timeout: Duration,
}

impl Default for NotifyConfig {
    fn default() -> NotifyConfig {
        NotifyConfig {
            slack_channels: BTreeMap::new(),
            sendmail: None,
            timeout: DEFAULT_HTTP_TIMEOUT,
        }
    }
}

/// The outcome of one delivery, to be appended to the execution's event log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct Delivery {
    /// `webhook`, `command`, `slack` or `email`.
    pub(crate) channel: &'static str,
    /// The URL, command, `#channel` or address, as configured.
    pub(crate) target: String,
    pub(crate) ok: bool,
    pub(crate) attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

impl Delivery {
    fn new(channel: &'static str, target: &str, attempts: u32, result: Result<(), String>) -> Self {
        Delivery {
            channel,
            target: target.to_owned(),
            ok: result.is_ok(),
            attempts,
            error: result.err(),
        }
    }
}

/// Delivers `event` (the event JSON: `{executionId, type, status, ...}`) to every configured
/// channel, concurrently; never fails — failures are reported in the returned deliveries, in
/// the order webhook, command, slack, email.
pub(crate) async fn deliver(
    targets: &Notifications,
    config: &NotifyConfig,
    event: &Value,
) -> Vec<Delivery> {
    let timeout = if config.timeout.is_zero() {
        DEFAULT_HTTP_TIMEOUT
    } else {
        config.timeout
    };
    let body = event.to_string();
    let (webhook, command, slack, email) = tokio::join!(
        maybe(
            targets
                .webhook
                .as_deref()
                .map(|url| deliver_webhook(url, &body, timeout))
        ),
        maybe(targets.command.as_deref().map(|cmd| deliver_command(
            cmd,
            &body,
            event,
            COMMAND_TIMEOUT
        ))),
        maybe(
            targets
                .slack
                .as_deref()
                .map(|to| deliver_slack(to, config, event, timeout))
        ),
        maybe(targets.email.as_deref().map(|addr| deliver_email(
            addr,
            config,
            event,
            COMMAND_TIMEOUT
        ))),
    );
    [webhook, command, slack, email]
        .into_iter()
        .flatten()
        .collect()
}

async fn maybe<F: Future<Output = Delivery>>(f: Option<F>) -> Option<Delivery> {
    match f {
        Some(f) => Some(f.await),
        None => None,
    }
}

async fn deliver_webhook(url: &str, body: &str, timeout: Duration) -> Delivery {
    let (attempts, result) = post_json(url, body.as_bytes().to_vec(), timeout).await;
    let result = result.map_err(|e| {
        format!(
            "POST {url} failed after {attempts} attempt{}: {e}",
            plural(attempts)
        )
    });
    Delivery::new("webhook", url, attempts, result)
}

async fn deliver_slack(
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

async fn deliver_command(cmd: &str, body: &str, event: &Value, timeout: Duration) -> Delivery {
    let argv = ["sh".to_owned(), "-c".to_owned(), cmd.to_owned()];
    let result = run_process(&argv, body.as_bytes().to_vec(), event, timeout).await;
    Delivery::new("command", cmd, 1, result)
}

async fn deliver_email(
    addr: &str,
    config: &NotifyConfig,
    event: &Value,
    timeout: Duration,
) -> Delivery {
    let Some(argv) = config.sendmail.as_deref() else {
        let error = "no sendmail command configured (set notifications.sendmail in config.toml)";
        return Delivery::new("email", addr, 0, Err(error.to_owned()));
    };
    if argv.is_empty() {
        let error = "the sendmail command in config.toml (notifications.sendmail) is empty";
        return Delivery::new("email", addr, 0, Err(error.to_owned()));
    }
    if let Err(e) = check_email(addr) {
        return Delivery::new("email", addr, 0, Err(e));
    }
    let message = email_message(addr, event);
    let result = run_process(argv, message.into_bytes(), event, timeout)
        .await
        .map_err(|e| format!("`{}` failed: {e}", argv.join(" ")));
    Delivery::new("email", addr, 1, result)
}

// ---------------------------------------------------------------------------------------------
// HTTP

/// What one HTTP attempt says about the next.
enum Attempt {
    Done,
    Retry(String),
    GiveUp(String),
}

/// POSTs `body` as JSON, up to [`HTTP_ATTEMPTS`] times on connection errors and 5xx.
/// Returns the attempts made and the last error (which does not name the URL).
async fn post_json(url: &str, body: Vec<u8>, timeout: Duration) -> (u32, Result<(), String>) {
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
fn check_http_url(url: &str) -> Result<(), String> {
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

// ---------------------------------------------------------------------------------------------
// Processes

/// Runs `argv` in its own process group with `stdin` on its stdin and the `DO_EVENT_TYPE` and
/// `DO_EXECUTION_ID` environment; ok on exit 0. On timeout the whole group is killed.
async fn run_process(
    argv: &[String],
    stdin: Vec<u8>,
    event: &Value,
    timeout: Duration,
) -> Result<(), String> {
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    for (var, field) in [
        ("DO_EVENT_TYPE", "type"),
        ("DO_EXECUTION_ID", "executionId"),
    ] {
        if let Some(value) = event.get(field).and_then(Value::as_str) {
            command.env(var, value);
        }
    }
    let mut child = crate::reaper::spawn(&mut command, None)
        .map_err(|e| format!("cannot start `{}`: {e}", argv[0]))?;
    let _own = crate::reaper::OwnChild(child.id());
    let pgid = child.id().map(|id| Pid::from_raw(id as i32));

    // Keep the tail of stderr, read by a task so that a chatty command never blocks.
    let tail = Arc::new(Mutex::new(Vec::<u8>::new()));
    let reader = child.stderr.take().map(|mut stderr| {
        let tail = Arc::clone(&tail);
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                let mut tail = tail.lock().unwrap_or_else(|p| p.into_inner());
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > STDERR_TAIL_BYTES {
                    let cut = tail.len() - STDERR_TAIL_BYTES;
                    tail.drain(..cut);
                }
            }
        })
    });

    let mut stdin_pipe = child.stdin.take();
    let waited = tokio::time::timeout(timeout, async {
        let write = async {
            if let Some(pipe) = stdin_pipe.as_mut() {
                // A command that does not read its stdin is fine (EPIPE is ignored).
                let _ = pipe.write_all(&stdin).await;
            }
            drop(stdin_pipe.take());
        };
        tokio::pin!(write);
        let mut written = false;
        loop {
            tokio::select! {
                () = &mut write, if !written => written = true,
                status = child.wait() => break status,
            }
        }
    })
    .await;

    let result = match waited {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(status.to_string()),
        Ok(Err(e)) => Err(format!("cannot wait for the process: {e}")),
        Err(_) => {
            if let Some(pgid) = pgid {
                let _ = killpg(pgid, Signal::SIGKILL);
            }
            let _ = child.kill().await;
            Err(format!(
                "timed out after {}, killed",
                humantime::format_duration(timeout)
            ))
        }
    };
    if let Some(mut reader) = reader {
        // A background child may still hold stderr open: then quote what came so far.
        if tokio::time::timeout(STDERR_GRACE, &mut reader)
            .await
            .is_err()
        {
            reader.abort();
        }
    }
    result.map_err(|e| {
        let tail = tail.lock().unwrap_or_else(|p| p.into_inner());
        let text = String::from_utf8_lossy(&tail);
        match text.lines().map(str::trim).rfind(|l| !l.is_empty()) {
            Some(line) => format!("{e}: {line}"),
            None => e,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Texts

/// One line for a human: `do: Launch (exec_123): execution.finished, status completed`.
fn summary(event: &Value) -> String {
    let field = |name: &str| event.get(name).and_then(Value::as_str).map(one_line);
    let mut text = String::from("do: ");
    let id = field("executionId").unwrap_or_else(|| "execution".to_owned());
    match field("workflowName") {
        Some(name) if !name.is_empty() => text.push_str(&format!("{name} ({id})")),
        _ => text.push_str(&id),
    }
    text.push_str(": ");
    text.push_str(&field("type").unwrap_or_else(|| "event".to_owned()));
    if let Some(step) = field("stepId") {
        text.push_str(&format!(", step {step}"));
    }
    if let Some(status) = field("status") {
        text.push_str(&format!(", status {status}"));
    }
    let error = field("error").or_else(|| {
        event
            .get("data")
            .and_then(|d| d.get("error"))
            .and_then(Value::as_str)
            .map(one_line)
    });
    if let Some(error) = error {
        text.push_str(&format!(": {}", truncate(&error, 300)));
    }
    text
}

/// A minimal RFC 5322 message: To, Subject, a plain UTF-8 body holding the pretty event JSON.
fn email_message(addr: &str, event: &Value) -> String {
    let field = |name: &str| event.get(name).and_then(Value::as_str).map(one_line);
    let mut subject = String::from("[do]");
    for part in [field("workflowName"), field("type"), field("executionId")]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
    {
        subject.push(' ');
        subject.push_str(&part);
    }
    let body = serde_json::to_string_pretty(event).unwrap_or_else(|_| event.to_string());
    format!(
        "To: {addr}\nSubject: {}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\
         Content-Transfer-Encoding: 8bit\nAuto-Submitted: auto-generated\n\n{body}\n",
        encode_header(&subject)
    )
}

/// An address, alone: something@something, no spaces, no list, nothing that could end a header.
fn check_email(addr: &str) -> Result<(), String> {
    let bad = addr.is_empty()
        || addr
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | ';' | '<' | '>'))
        || addr.starts_with('-')
        || !addr
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
    if bad {
        Err(format!("`{addr}` is not an email address"))
    } else {
        Ok(())
    }
}

/// A header value: ASCII as is, anything else as an RFC 2047 encoded word.
fn encode_header(text: &str) -> String {
    if text.is_ascii() {
        text.to_owned()
    } else {
        format!("=?UTF-8?B?{}?=", base64(text.as_bytes()))
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Control characters (newlines included) become spaces; runs of spaces shrink to one.
fn one_line(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::{BufRead, BufReader, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::mpsc;

    /// One request as the test server saw it.
    struct Received {
        head: String,
        body: Vec<u8>,
    }

    /// Serves one request per entry of `statuses` (in order) on 127.0.0.1, then stops.
    /// Returns the URL and the channel of received requests.
    fn server(statuses: Vec<u16>) -> (String, mpsc::Receiver<Received>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for status in statuses {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                let received = serve_one(stream, status);
                if tx.send(received).is_err() {
                    return;
                }
            }
        });
        (url, rx)
    }

    fn serve_one(stream: TcpStream, status: u16) -> Received {
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let length = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().unwrap())
            })
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let (reason, reply) = match status {
            200 => ("OK", "ok"),
            404 => ("Not Found", "no such hook"),
            _ => ("Internal Server Error", "boom"),
        };
        let mut stream = reader.into_inner();
        write!(
            stream,
            "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
            reply.len()
        )
        .unwrap();
        stream.flush().unwrap();
        Received { head, body }
    }

    fn event() -> Value {
        json!({
            "executionId": "exec_abc123",
            "type": "execution.finished",
            "status": "completed",
            "workflowName": "Launch",
            "at": "2024-10-27T18:00:00Z"
        })
    }

    #[tokio::test]
    async fn webhook_receives_the_exact_event_json() {
        let (url, rx) = server(vec![200]);
        let targets = Notifications {
            webhook: Some(url.clone()),
            ..Notifications::default()
        };
        let deliveries = deliver(&targets, &NotifyConfig::default(), &event()).await;
        assert_eq!(
            deliveries,
            vec![Delivery {
                channel: "webhook",
                target: url,
                ok: true,
                attempts: 1,
                error: None
            }]
        );
        let received = rx.recv_timeout(Duration::from_secs(2)).unwrap();
        assert!(
            received.head.starts_with("POST /hook HTTP/1.1\r\n"),
            "{}",
            received.head
        );
        assert!(
            received
                .head
                .to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{}",
            received.head
        );
        let body: Value = serde_json::from_slice(&received.body).unwrap();
        assert_eq!(body, event());
        assert_eq!(received.body, event().to_string().into_bytes());
    }

    #[tokio::test]
    async fn webhook_retries_server_errors() {
        let (url, rx) = server(vec![500, 500, 200]);
        let targets = Notifications {
            webhook: Some(url),
            ..Notifications::default()
        };
        let deliveries = deliver(&targets, &NotifyConfig::default(), &event()).await;
        assert_eq!(deliveries.len(), 1);
        assert!(deliveries[0].ok, "{:?}", deliveries[0]);
        assert_eq!(deliveries[0].attempts, 3);
        assert_eq!(deliveries[0].error, None);
        for _ in 0..3 {
            let received = rx.recv_timeout(Duration::from_secs(2)).unwrap();
            assert_eq!(received.body, event().to_string().into_bytes());
        }
    }

    #[tokio::test]
    async fn webhook_gives_up_after_three_server_errors() {
        let (url, _rx) = server(vec![500, 500, 500]);
        let targets = Notifications {
            webhook: Some(url.clone()),
            ..Notifications::default()
        };
        let deliveries = deliver(&targets, &NotifyConfig::default(), &event()).await;
        let d = &deliveries[0];
        assert!(!d.ok);
        assert_eq!(d.attempts, 3);
        let error = d.error.as_deref().unwrap();
        assert!(error.contains(&url) && error.contains("500"), "{error}");
    }

    #[tokio::test]
    async fn webhook_to_a_dead_port_fails_after_three_attempts() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/hook");
        let targets = Notifications {
            webhook: Some(url.clone()),
            ..Notifications::default()
        };
        let started = std::time::Instant::now();
        let deliveries = deliver(&targets, &NotifyConfig::default(), &event()).await;
        let d = &deliveries[0];
        assert!(!d.ok);
        assert_eq!(d.attempts, 3);
        assert_eq!(d.target, url);
        let error = d.error.as_deref().unwrap();
        assert!(error.contains(&url), "{error}");
        // The backoff (0.5 s, then 1 s) was waited, and not much more.
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(1400), "{took:?}");
        assert!(took < Duration::from_secs(4), "{took:?}");
    }

    #[tokio::test]
    async fn webhook_client_errors_are_not_retried() {
        let (url, _rx) = server(vec![404]);
        let (attempts, result) = post_json(&url, b"{}".to_vec(), DEFAULT_HTTP_TIMEOUT).await;
        assert_eq!(attempts, 1);
        assert!(result.unwrap_err().contains("404"));
    }

    #[tokio::test]
    async fn command_gets_the_event_on_stdin_and_in_its_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("event.json");
        let env_file = dir.path().join("env.txt");
        let cmd = format!(
            "cat > '{}'; printf '%s %s' \"$DO_EVENT_TYPE\" \"$DO_EXECUTION_ID\" > '{}'",
            file.display(),
            env_file.display()
        );
        let targets = Notifications {
            command: Some(cmd.clone()),
            ..Notifications::default()
        };
        let deliveries = deliver(&targets, &NotifyConfig::default(), &event()).await;
        assert_eq!(
            deliveries,
            vec![Delivery {
                channel: "command",
                target: cmd,
                ok: true,
                attempts: 1,
                error: None
            }]
        );
        let written = std::fs::read_to_string(&file).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&written).unwrap(), event());
        assert_eq!(
            std::fs::read_to_string(&env_file).unwrap(),
            "execution.finished exec_abc123"
        );
    }

    #[tokio::test]
    async fn failing_command_reports_its_status_and_last_stderr_line() {
        let targets = Notifications {
            command: Some("echo first >&2; echo 'no route to pager' >&2; exit 3".to_owned()),
            ..Notifications::default()
        };
        let deliveries = deliver(&targets, &NotifyConfig::default(), &event()).await;
        let d = &deliveries[0];
        assert!(!d.ok);
        assert_eq!(d.attempts, 1);
        let error = d.error.as_deref().unwrap();
        assert!(error.contains("exit status: 3"), "{error}");
        assert!(error.ends_with("no route to pager"), "{error}");
    }

    #[tokio::test]
    async fn command_that_ignores_stdin_still_succeeds() {
        let big = json!({ "type": "x", "executionId": "exec_1", "pad": "y".repeat(300_000) });
        let argv = ["sh".to_owned(), "-c".to_owned(), "exit 0".to_owned()];
        let result = run_process(&argv, big.to_string().into_bytes(), &big, COMMAND_TIMEOUT).await;
        assert_eq!(result, Ok(()));
    }

    #[tokio::test]
    async fn command_over_its_timeout_is_killed_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let argv = [
            "sh".to_owned(),
            "-c".to_owned(),
            format!("sleep 30 & echo $! > '{}'; sleep 30", pid_file.display()),
        ];
        let started = std::time::Instant::now();
        let result = run_process(&argv, Vec::new(), &event(), Duration::from_millis(300)).await;
        let error = result.unwrap_err();
        assert!(error.contains("timed out"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(3));
        // The background grandchild went with the group (gone, or a zombie awaiting its reaper).
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let stat = format!("/proc/{}/stat", pid.trim());
        let alive = || {
            std::fs::read_to_string(&stat).is_ok_and(|s| {
                s.rsplit(')')
                    .next()
                    .is_some_and(|r| !r.trim_start().starts_with('Z'))
            })
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while alive() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(), "the grandchild {} survived", pid.trim());
    }

    #[tokio::test]
    async fn slack_unknown_channel_points_at_the_config_file() {
        let targets = Notifications {
            slack: Some("#unknown".to_owned()),
            ..Notifications::default()
        };
        let deliveries = deliver(&targets, &NotifyConfig::default(), &event()).await;
        let d = &deliveries[0];
        assert_eq!(
            (d.channel, d.target.as_str(), d.ok),
            ("slack", "#unknown", false)
        );
        let error = d.error.as_deref().unwrap();
        assert!(
            error.contains("config.toml") && error.contains("[notifications.slack]"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn slack_channel_is_posted_a_text_summary() {
        let (url, rx) = server(vec![200]);
        let config = NotifyConfig {
            slack_channels: BTreeMap::from([("#launches".to_owned(), url)]),
            ..NotifyConfig::default()
        };
        let targets = Notifications {
            slack: Some("#launches".to_owned()),
            ..Notifications::default()
        };
        let deliveries = deliver(&targets, &config, &event()).await;
        assert!(deliveries[0].ok, "{:?}", deliveries[0]);
        let received = rx.recv_timeout(Duration::from_secs(2)).unwrap();
        let body: Value = serde_json::from_slice(&received.body).unwrap();
        let object = body.as_object().unwrap();
        assert_eq!(object.len(), 1, "{body}");
        let text = object["text"].as_str().unwrap();
        assert!(!text.contains('\n'));
        assert!(
            text.contains("exec_abc123")
                && text.contains("execution.finished")
                && text.contains("completed")
                && text.contains("Launch"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn email_without_sendmail_fails_with_a_hint() {
        let targets = Notifications {
            email: Some("ops@example.com".to_owned()),
            ..Notifications::default()
        };
        let deliveries = deliver(&targets, &NotifyConfig::default(), &event()).await;
        let d = &deliveries[0];
        assert!(!d.ok);
        assert_eq!(
            d.error.as_deref(),
            Some("no sendmail command configured (set notifications.sendmail in config.toml)")
        );
    }

    #[tokio::test]
    async fn email_goes_through_the_sendmail_command() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mail.txt");
        let config = NotifyConfig {
            sendmail: Some(vec![
                "sh".to_owned(),
                "-c".to_owned(),
                format!("cat > '{}'", file.display()),
            ]),
            ..NotifyConfig::default()
        };
        let targets = Notifications {
            email: Some("ops@example.com".to_owned()),
            ..Notifications::default()
        };
        let deliveries = deliver(&targets, &config, &event()).await;
        assert!(deliveries[0].ok, "{:?}", deliveries[0]);
        let mail = std::fs::read_to_string(&file).unwrap();
        assert!(mail.starts_with("To: ops@example.com\n"), "{mail}");
        assert!(
            mail.contains("\nSubject: [do] Launch execution.finished exec_abc123\n"),
            "{mail}"
        );
        let (_, body) = mail.split_once("\n\n").unwrap();
        assert_eq!(serde_json::from_str::<Value>(body).unwrap(), event());
    }

    #[tokio::test]
    async fn all_channels_are_delivered_at_once_in_a_fixed_order() {
        let (url, _rx) = server(vec![200]);
        let targets = Notifications {
            webhook: Some(url),
            command: Some("cat > /dev/null".to_owned()),
            slack: Some("#nowhere".to_owned()),
            email: Some("a@b.c".to_owned()),
        };
        let deliveries = deliver(&targets, &NotifyConfig::default(), &event()).await;
        let summary: Vec<_> = deliveries.iter().map(|d| (d.channel, d.ok)).collect();
        assert_eq!(
            summary,
            [
                ("webhook", true),
                ("command", true),
                ("slack", false),
                ("email", false)
            ]
        );
        assert!(
            deliver(
                &Notifications::default(),
                &NotifyConfig::default(),
                &event()
            )
            .await
            .is_empty()
        );
    }

    #[test]
    fn from_value_reads_and_checks_the_request_object() {
        assert_eq!(
            Notifications::from_value(&Value::Null),
            Ok(Notifications::default())
        );
        assert!(Notifications::from_value(&json!({})).unwrap().is_empty());
        let n = Notifications::from_value(&json!({
            "webhook": "https://example.com/hook",
            "command": "notify-send done",
            "slack": "#product-launches",
            "email": "team@example.com"
        }))
        .unwrap();
        assert_eq!(
            n,
            Notifications {
                webhook: Some("https://example.com/hook".to_owned()),
                command: Some("notify-send done".to_owned()),
                slack: Some("#product-launches".to_owned()),
                email: Some("team@example.com".to_owned()),
            }
        );
        assert!(!n.is_empty());
        let slack_url = Notifications::from_value(&json!({ "slack": "https://hooks.slack.com/x" }));
        assert!(slack_url.is_ok());
        for (bad, needle) in [
            (json!([]), "must be an object"),
            (json!({ "webhook": "ftp://x" }), "notifications.webhook"),
            (json!({ "webhook": 3 }), "must be a string"),
            (json!({ "command": "  " }), "notifications.command"),
            (
                json!({ "slack": "product-launches" }),
                "notifications.slack",
            ),
            (json!({ "slack": "#" }), "notifications.slack"),
            (json!({ "email": "nobody" }), "notifications.email"),
            (
                json!({ "email": "a@b.c\nBcc: x@y.z" }),
                "notifications.email",
            ),
            (
                json!({ "pager": "x" }),
                "unknown notification channel `pager`",
            ),
        ] {
            let error = Notifications::from_value(&bad).unwrap_err().to_string();
            assert!(error.contains(needle), "{bad}: {error}");
        }
    }

    #[test]
    fn serialized_deliveries_leave_out_a_missing_error() {
        let d = Delivery::new("webhook", "http://x", 1, Ok(()));
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            json!({ "channel": "webhook", "target": "http://x", "ok": true, "attempts": 1 })
        );
    }

    #[test]
    fn non_ascii_subjects_are_encoded() {
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
        assert_eq!(encode_header("[do] plain"), "[do] plain");
        assert_eq!(encode_header("é"), "=?UTF-8?B?w6k=?=");
        let mail = email_message("a@b.c", &json!({ "workflowName": "Lancement\nété" }));
        assert!(mail.contains("Subject: =?UTF-8?B?"), "{mail}");
    }
}
