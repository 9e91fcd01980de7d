//! Delivers an execution's notifications: the `notifications` object of the execute request
//! names up to four channels (webhook, command, slack, email); [`deliver`] sends one event to
//! each of them at once and reports every outcome as a [`Delivery`] for the event log. A
//! delivery never fails anything else: errors are data.
//!
//! The event JSON is only ever sent as a body (HTTP) or on stdin (command, email): it is never
//! put on a command line or into a shell string.

mod command;
mod email;
mod http;

use command::deliver_command;
use email::{check_email, deliver_email};
use http::{check_http_url, deliver_slack, deliver_webhook};
use serde_json::Value;
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

/// Per-attempt HTTP timeout when the configuration leaves it at zero.
const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a notification command (or the sendmail command) may run before it is killed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

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
mod tests;
