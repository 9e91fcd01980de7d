//! What every command needs: resolved paths, output mode, and a connection to the daemon
//! (started on demand).

use crate::cli::GlobalArgs;
use crate::exit::UsageError;
use anyhow::{Context as _, bail};
use do_proto::{Client, ClientError};
use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub(crate) struct Context {
    pub(crate) json: bool,
    /// `-q`: ids, a status word or nothing on stdout.
    pub(crate) quiet: bool,
    /// Whether to colour what goes to stdout (`--color`, NO_COLOR, a terminal).
    pub(crate) color: bool,
    pub(crate) data_dir: PathBuf,
    pub(crate) socket: PathBuf,
    /// The daemon's `config.toml`.
    pub(crate) config_file: PathBuf,
}

impl Context {
    pub(crate) fn new(global: &GlobalArgs) -> anyhow::Result<Context> {
        let dirs = directories::ProjectDirs::from("", "", "do");
        let given_data_dir = global.data_dir.clone().or_else(|| env_path("DO_DATA_DIR"));
        let given_socket = global.socket.clone().or_else(|| env_path("DO_SOCKET"));
        let data_dir = match (&given_data_dir, &dirs) {
            (Some(dir), _) => absolute(dir)?,
            (None, Some(dirs)) => dirs.data_dir().to_owned(),
            (None, None) => bail!(
                "cannot find a home directory for the data dir; pass `--data-dir` or set DO_DATA_DIR"
            ),
        };
        // A data dir chosen by hand gets its own socket, so that two data dirs never share a
        // daemon by accident.
        let socket = match (
            &given_socket,
            &given_data_dir,
            dirs.as_ref().and_then(|d| d.runtime_dir()),
        ) {
            (Some(socket), _, _) => absolute(socket)?,
            (None, None, Some(runtime)) => runtime.join("do.sock"),
            (None, _, _) => data_dir.join("do.sock"),
        };
        let config_file = match (std::env::var_os("DO_CONFIG"), &dirs) {
            (Some(file), _) => PathBuf::from(file),
            (None, Some(dirs)) => dirs.config_dir().join("config.toml"),
            (None, None) => data_dir.join("config.toml"),
        };
        let color = match global.color {
            clap::ColorChoice::Always => true,
            clap::ColorChoice::Never => false,
            clap::ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        Ok(Context {
            json: global.json,
            quiet: global.quiet,
            color,
            data_dir,
            socket,
            config_file,
        })
    }

    /// Whether stdout is a person's terminal (tables with borders, colours) or a pipe.
    pub(crate) fn is_terminal(&self) -> bool {
        std::io::stdout().is_terminal()
    }

    /// Connects to the daemon, starting it first when none answers.
    pub(crate) fn client(&self) -> anyhow::Result<Client> {
        match Client::connect(&self.socket) {
            Err(ClientError::Connect { source, .. }) if no_daemon(&source) => {}
            other => return other.map_err(Into::into),
        }
        // One client starts the daemon; the others wait for the lock and then find it running.
        // The data dir is made private here already: the daemon would not change it later.
        do_daemon::create_private_dir(&self.data_dir)
            .with_context(|| format!("cannot create the data dir `{}`", self.data_dir.display()))?;
        let lock_path = self.data_dir.join("autostart.lock");
        let lock = File::create(&lock_path)
            .with_context(|| format!("cannot create `{}`", lock_path.display()))?;
        lock.lock()
            .with_context(|| format!("cannot lock `{}`", lock_path.display()))?;
        match Client::connect(&self.socket) {
            Err(ClientError::Connect { source, .. }) if no_daemon(&source) => {}
            other => return other.map_err(Into::into),
        }
        self.spawn_daemon(&DaemonOptions::default())?;
        Ok(Client::connect(&self.socket)?)
    }

    /// Whether a daemon answers on the socket, for commands that use one only when it runs.
    pub(crate) fn daemon_runs(&self) -> anyhow::Result<bool> {
        match Client::connect(&self.socket) {
            Ok(_) => Ok(true),
            Err(ClientError::Connect { source, .. }) if no_daemon(&source) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// Starts `do daemon run` in the background and waits until it listens.
    pub(crate) fn spawn_daemon(&self, options: &DaemonOptions) -> anyhow::Result<()> {
        // A bad config file is this command's usage error, not a daemon that failed to start.
        load_config(&self.config_file)?;
        do_daemon::create_private_dir(&self.data_dir)
            .with_context(|| format!("cannot create the data dir `{}`", self.data_dir.display()))?;
        let log_path = self.log_path();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("cannot open the daemon log `{}`", log_path.display()))?;
        let exe = std::env::current_exe()
            .context("cannot find the path of this program to start the daemon")?;
        let mut command = Command::new(exe);
        command.args(["daemon", "run", "--notify-ready"]);
        if let Some(addr) = options.http {
            command.arg("--http").arg(addr.to_string());
        }
        if let Some(n) = options.max_parallel {
            command.arg("--max-parallel").arg(n.to_string());
        }
        let mut child = command
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--socket")
            .arg(&self.socket)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            // Its own process group: a Ctrl-C in this terminal must not reach the daemon.
            .process_group(0)
            .spawn()
            .context("cannot start the daemon")?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            // The daemon prints one line once it listens, or exits: either ends this read.
            BufReader::new(stdout)
                .read_line(&mut line)
                .context("cannot read from the starting daemon")?;
        }
        if line.trim() != "ready" {
            let status = child.wait().ok().map(|s| s.to_string()).unwrap_or_default();
            bail!(
                "the daemon did not start ({status}); its log `{}` says:\n{}",
                log_path.display(),
                log_tail(&log_path)
            );
        }
        Ok(())
    }

    pub(crate) fn log_path(&self) -> PathBuf {
        self.data_dir.join("daemon.log")
    }
}

/// What `daemon start` passes on to the daemon it starts; the rest comes from `config.toml`.
#[derive(Debug, Default)]
pub(crate) struct DaemonOptions {
    /// Serve the HTTP API there too.
    pub(crate) http: Option<std::net::SocketAddr>,
    pub(crate) max_parallel: Option<u32>,
}

/// A path from the environment; an empty variable counts as unset.
fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn no_daemon(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
    )
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot resolve `{}`", path.display()))
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

/// The daemon's config file, parsed by the daemon's own reader; a bad one is a usage error.
pub(crate) fn load_config(path: &Path) -> Result<do_daemon::ConfigFile, UsageError> {
    do_daemon::ConfigFile::load(path).map_err(|e| UsageError(e.to_string()))
}
