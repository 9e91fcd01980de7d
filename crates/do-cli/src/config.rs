//! `config.toml`: the daemon's settings (`DO_CONFIG`, default `~/.config/do/config.toml`).
//!
//! ```toml
//! [daemon]
//! max_parallel = 4        # steps running at once (default: CPUs)
//! kill_grace = 5          # seconds between SIGTERM and SIGKILL when a step is ended
//! http = "127.0.0.1:7878" # also serve the HTTP API there (docs/http-api.md)
//! http_connections = 1024 # HTTP connections at once; more are answered 503
//! http_header_timeout = 10 # seconds an HTTP client has to send a request's headers
//! allow_remote_agent_registration = false # POST /agents/registry beyond loopback
//!
//! [notifications]
//! sendmail = ["sendmail", "-t"]
//! timeout = 10            # seconds per webhook attempt
//!
//! [notifications.slack]
//! "#product-launches" = "https://hooks.slack.com/services/…"
//!
//! [limits]                      # bytes; the defaults are shown
//! document_bytes = 10485760     # a workflow document
//! input_bytes = 10485760        # an execution's input
//! output_bytes = 16777216       # a step's stdout; more fails the step, or with
//! output_overflow = "fail"      # "truncate" is cut there
//! log_bytes = 67108864          # a step's stderr log per attempt; more is dropped
//! request_bytes = 16777216      # one request on the daemon's socket
//! pending_request_bytes = 67108864 # all requests being read on the socket at once (4 ×)
//! ```

use crate::exit::UsageError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    #[serde(default)]
    daemon: DaemonSection,
    #[serde(default)]
    notifications: NotificationsSection,
    #[serde(default)]
    limits: LimitsSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsSection {
    document_bytes: Option<u64>,
    input_bytes: Option<u64>,
    output_bytes: Option<u64>,
    output_overflow: Option<do_daemon::Overflow>,
    log_bytes: Option<u64>,
    request_bytes: Option<u64>,
    pending_request_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DaemonSection {
    max_parallel: Option<u32>,
    kill_grace: Option<f64>,
    http: Option<String>,
    http_connections: Option<u32>,
    http_header_timeout: Option<f64>,
    allow_remote_agent_registration: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NotificationsSection {
    sendmail: Option<Vec<String>>,
    timeout: Option<f64>,
    #[serde(default)]
    slack: BTreeMap<String, String>,
}

impl FileConfig {
    /// Reads the file; a missing file is the defaults, an unreadable or invalid one an error
    /// that names it.
    pub(crate) fn load(path: &Path) -> Result<FileConfig, UsageError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileConfig::default()),
            Err(e) => {
                return Err(UsageError(format!(
                    "cannot read the config file `{}`: {e}",
                    path.display()
                )));
            }
        };
        let config: FileConfig = toml::from_str(&text)
            .map_err(|e| UsageError(format!("config file `{}`: {e}", path.display())))?;
        if config.daemon.http_connections == Some(0) {
            return Err(UsageError(format!(
                "config file `{}`: daemon.http_connections must be at least 1",
                path.display()
            )));
        }
        if config
            .daemon
            .http_header_timeout
            .is_some_and(|t| !(t > 0.0 && t <= 3600.0))
        {
            return Err(UsageError(format!(
                "config file `{}`: daemon.http_header_timeout must be more than 0 and at most \
                 3600 seconds",
                path.display()
            )));
        }
        if config.daemon.max_parallel == Some(0) {
            return Err(UsageError(format!(
                "config file `{}`: daemon.max_parallel must be at least 1",
                path.display()
            )));
        }
        if let Some(addr) = &config.daemon.http
            && addr.parse::<std::net::SocketAddr>().is_err()
        {
            return Err(UsageError(format!(
                "config file `{}`: daemon.http must be an address and port such as \"127.0.0.1:7878\", found {addr:?}",
                path.display()
            )));
        }
        for (field, value) in [
            ("daemon.kill_grace", config.daemon.kill_grace),
            ("notifications.timeout", config.notifications.timeout),
        ] {
            if value.is_some_and(|v| !(0.0..=3600.0).contains(&v)) {
                return Err(UsageError(format!(
                    "config file `{}`: {field} must be 0 to 3600 seconds",
                    path.display()
                )));
            }
        }
        let limits = config.limits();
        for (field, value) in [
            ("limits.document_bytes", limits.document_bytes),
            ("limits.input_bytes", limits.input_bytes),
            ("limits.output_bytes", limits.output_bytes),
            ("limits.log_bytes", limits.log_bytes),
            ("limits.request_bytes", limits.request_bytes),
        ] {
            if value == 0 {
                return Err(UsageError(format!(
                    "config file `{}`: {field} must be at least 1 byte",
                    path.display()
                )));
            }
        }
        if limits.request_bytes <= limits.document_bytes.max(limits.input_bytes) {
            return Err(UsageError(format!(
                "config file `{}`: limits.request_bytes ({}) must be larger than \
                 limits.document_bytes ({}) and limits.input_bytes ({}), which travel in a request",
                path.display(),
                limits.request_bytes,
                limits.document_bytes,
                limits.input_bytes
            )));
        }
        if limits.pending_request_bytes < limits.request_bytes {
            return Err(UsageError(format!(
                "config file `{}`: limits.pending_request_bytes ({}) must be at least \
                 limits.request_bytes ({}), or no request of that size could be read",
                path.display(),
                limits.pending_request_bytes,
                limits.request_bytes
            )));
        }
        Ok(config)
    }

    /// The `[limits]` section over the defaults.
    pub(crate) fn limits(&self) -> do_daemon::Limits {
        let defaults = do_daemon::Limits::default();
        let section = &self.limits;
        let request_bytes = section.request_bytes.unwrap_or(defaults.request_bytes);
        do_daemon::Limits {
            document_bytes: section.document_bytes.unwrap_or(defaults.document_bytes),
            input_bytes: section.input_bytes.unwrap_or(defaults.input_bytes),
            output_bytes: section.output_bytes.unwrap_or(defaults.output_bytes),
            output_overflow: section.output_overflow.unwrap_or(defaults.output_overflow),
            log_bytes: section.log_bytes.unwrap_or(defaults.log_bytes),
            request_bytes,
            pending_request_bytes: section
                .pending_request_bytes
                .unwrap_or(request_bytes.saturating_mul(4)),
        }
    }

    /// Applies the file's settings over the daemon's defaults.
    pub(crate) fn apply(self, config: &mut do_daemon::Config) {
        config.limits = self.limits();
        if let Some(n) = self.daemon.max_parallel {
            config.max_parallel = n as usize;
        }
        if let Some(grace) = self.daemon.kill_grace {
            config.kill_grace = Duration::from_secs_f64(grace);
        }
        if let Some(n) = self.daemon.http_connections {
            config.http_limits.connections = n as usize;
        }
        if let Some(timeout) = self.daemon.http_header_timeout {
            config.http_limits.header_timeout = Duration::from_secs_f64(timeout);
        }
        if let Some(addr) = self.daemon.http.and_then(|a| a.parse().ok()) {
            config.http = Some(addr);
        }
        config.allow_remote_agent_registration =
            self.daemon.allow_remote_agent_registration == Some(true);
        config.notify.sendmail = self.notifications.sendmail;
        config.notify.slack_channels = self.notifications.slack;
        if let Some(timeout) = self.notifications.timeout {
            config.notify.timeout = Duration::from_secs_f64(timeout);
        }
    }
}
