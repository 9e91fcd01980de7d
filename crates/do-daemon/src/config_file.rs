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

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
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
    output_overflow: Option<crate::Overflow>,
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

impl ConfigFile {
    /// Reads the file; a missing file is the defaults, an unreadable or invalid one an error
    /// that names it.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
            Err(e) => {
                return Err(ConfigError::Read {
                    path: path.to_owned(),
                    source: e,
                });
            }
        };
        let config: ConfigFile = toml::from_str(&text).map_err(|e| invalid(path, e.to_string()))?;
        if config.daemon.http_connections == Some(0) {
            return Err(invalid(
                path,
                "daemon.http_connections must be at least 1".to_owned(),
            ));
        }
        if config
            .daemon
            .http_header_timeout
            .is_some_and(|t| !(t > 0.0 && t <= 3600.0))
        {
            return Err(invalid(
                path,
                "daemon.http_header_timeout must be more than 0 and at most 3600 seconds"
                    .to_owned(),
            ));
        }
        if config.daemon.max_parallel == Some(0) {
            return Err(invalid(
                path,
                "daemon.max_parallel must be at least 1".to_owned(),
            ));
        }
        if let Some(addr) = &config.daemon.http
            && addr.parse::<std::net::SocketAddr>().is_err()
        {
            return Err(invalid(
                path,
                "daemon.http must be an address and port such as \"127.0.0.1:7878\", found {addr:?}".to_owned(),
            ));
        }
        for (field, value) in [
            ("daemon.kill_grace", config.daemon.kill_grace),
            ("notifications.timeout", config.notifications.timeout),
        ] {
            if value.is_some_and(|v| !(0.0..=3600.0).contains(&v)) {
                return Err(invalid(path, format!("{field} must be 0 to 3600 seconds")));
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
                return Err(invalid(path, format!("{field} must be at least 1 byte")));
            }
        }
        if limits.request_bytes <= limits.document_bytes.max(limits.input_bytes) {
            return Err(invalid(
                path,
                format!(
                    "limits.request_bytes ({}) must be larger than \
                 limits.document_bytes ({}) and limits.input_bytes ({}), which travel in a request",
                    limits.request_bytes, limits.document_bytes, limits.input_bytes
                ),
            ));
        }
        if limits.pending_request_bytes < limits.request_bytes {
            return Err(invalid(
                path,
                format!(
                    "limits.pending_request_bytes ({}) must be at least \
                 limits.request_bytes ({}), or no request of that size could be read",
                    limits.pending_request_bytes, limits.request_bytes
                ),
            ));
        }
        Ok(config)
    }

    /// The `[limits]` section over the defaults.
    pub fn limits(&self) -> crate::Limits {
        let defaults = crate::Limits::default();
        let section = &self.limits;
        let request_bytes = section.request_bytes.unwrap_or(defaults.request_bytes);
        crate::Limits {
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
    pub fn apply(self, config: &mut crate::Config) {
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

/// A config file that cannot be read or has a bad setting; the message names the file and key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file `{}`: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

fn invalid(path: &Path, message: String) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_owned(),
        message,
    }
}
