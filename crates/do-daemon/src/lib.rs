//! The `do` daemon: owns the database, listens on the Unix socket, schedules steps and runs
//! agents as child processes.
//!
//! [`run`] is public so that `do daemon run` and in-process tests start the very same daemon.

mod answers;
mod config_file;
mod dashboard;
mod error;
mod event_log;
mod handlers;
mod http;
mod http_files;
mod http_listener;
mod http_lists;
mod http_registry;
mod ids;
mod log;
mod logs;
mod notify;
pub mod openapi;
mod openapi_examples;
mod process;
mod reaper;
mod runner;
mod schedule_api;
mod schedule_task;
mod scheduler;
mod server;
mod status;
mod submit;
mod time;

pub use config_file::{ConfigError, ConfigFile};
pub use error::DaemonError;
pub use http::DEFAULT_HTTP_ADDR;
pub use http_listener::HttpLimits;
pub use log::{LogLine, log_line, log_lines_dropped};
pub use notify::NotifyConfig;

use do_core::model::AgentSpec;
use do_store::prelude::*;
use std::collections::HashMap;
use std::fs::{self, File};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Everything the daemon needs to know to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Holds the database, the daemon log, step logs and execution workspaces.
    pub data_dir: PathBuf,
    pub socket: PathBuf,
    /// Steps running at once across all executions.
    pub max_parallel: usize,
    /// Time a step's process group gets between SIGTERM and SIGKILL.
    pub kill_grace: Duration,
    /// Where notifications can go besides what each execution names.
    pub notify: NotifyConfig,
    /// Where the HTTP API listens, if anywhere (port 0: any free port, see `http.addr`).
    pub http: Option<std::net::SocketAddr>,
    /// How long and how many HTTP clients the listener serves.
    pub http_limits: HttpLimits,
    /// Whether `POST /agents/registry` may register an agent (a command the daemon's user
    /// runs) when the HTTP API listens beyond loopback
    /// (`daemon.allow_remote_agent_registration`).
    pub allow_remote_agent_registration: bool,
    pub limits: Limits,
}

/// Sizes past which the daemon refuses to hold something in memory or on disk
/// (`[limits]` in config.toml); each error that enforces one names its config key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A workflow document, as JSON (`limits.document_bytes`).
    pub document_bytes: u64,
    /// An execution's input, as JSON (`limits.input_bytes`).
    pub input_bytes: u64,
    /// A step's stdout (`limits.output_bytes`); what happens to more is `output_overflow`.
    pub output_bytes: u64,
    /// What a step's stdout over `output_bytes` does (`limits.output_overflow`).
    pub output_overflow: Overflow,
    /// A step's stderr log per attempt; more is dropped after a marker line (`limits.log_bytes`).
    pub log_bytes: u64,
    /// One request line on the socket; a longer one is refused and its connection closed
    /// (`limits.request_bytes`).
    pub request_bytes: u64,
    /// All request lines being read on the socket at once, past 16 KiB each; a connection
    /// whose line would go past it is refused and closed (`limits.pending_request_bytes`,
    /// by default 4 × `request_bytes`).
    pub pending_request_bytes: u64,
}

/// What a step's output over its limit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Overflow {
    /// The step fails, naming the limit.
    #[default]
    Fail,
    /// The output is cut at the limit (and then read as text), and the step goes on.
    Truncate,
}

const MIB: u64 = 1024 * 1024;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            document_bytes: 10 * MIB,
            input_bytes: 10 * MIB,
            output_bytes: 16 * MIB,
            output_overflow: Overflow::Fail,
            log_bytes: 64 * MIB,
            request_bytes: 16 * MIB,
            pending_request_bytes: 64 * MIB,
        }
    }
}

/// `n` bytes for a message: whole MiB or KiB when exact, else bytes.
pub fn show_bytes(n: u64) -> String {
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

impl Config {
    /// The defaults for a data dir and socket: as many parallel steps as CPUs.
    pub fn new(data_dir: PathBuf, socket: PathBuf) -> Config {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Config {
            data_dir,
            socket,
            max_parallel: cpus,
            kill_grace: Duration::from_secs(5),
            notify: NotifyConfig::default(),
            http: None,
            http_limits: HttpLimits::default(),
            allow_remote_agent_registration: false,
            limits: Limits::default(),
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("do.db")
    }
}

/// State shared by the connection handlers and the scheduler.
pub(crate) struct Shared {
    pub(crate) config: Config,
    store: Mutex<Box<dyn Store>>,
    pub(crate) scheduler: mpsc::UnboundedSender<scheduler::Message>,
    pub(crate) events: broadcast::Sender<do_proto::Event>,
    /// Every line written to a step's log, for `executions.logs` with `follow`.
    pub(crate) log_lines: logs::LogLines,
    pub(crate) started_at: i64,
    /// Attempts running now, for `daemon.status`.
    pub(crate) running_steps: AtomicU64,
    pub(crate) shutdown: tokio::sync::Notify,
    /// Whether the stop asked for ends running steps rather than waiting for them.
    pub(crate) stop_now: std::sync::atomic::AtomicBool,
    /// The registered agents, kept current by [`Shared::refresh_agents`].
    agents: RwLock<Arc<Agents>>,
    /// Wakes the schedule task when a schedule was added, changed or removed.
    pub(crate) schedules_changed: tokio::sync::Notify,
}

/// The registered agents as the scheduler starts them (read from the store once per change,
/// not once per step), and their secret variables.
#[derive(Default)]
pub(crate) struct Agents {
    specs: HashMap<String, Arc<AgentSpec>>,
    /// The variables that agents take as secrets from the daemon's environment. Agents
    /// inherit that environment, so each of these is removed from every agent that does not
    /// declare it.
    secret_names: Arc<[String]>,
}

impl Shared {
    /// Locks the store. Store calls are short; a poisoned lock only means another task panicked
    /// mid-call, and SQLite's transaction rolled that call back, so the store is still sound.
    pub(crate) fn store(&self) -> MutexGuard<'_, Box<dyn Store>> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn agents(&self) -> Arc<Agents> {
        self.agents
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub(crate) fn agent(&self, name: &str) -> Option<Arc<AgentSpec>> {
        self.agents().specs.get(name).cloned()
    }

    pub(crate) fn secret_names(&self) -> Arc<[String]> {
        self.agents().secret_names.clone()
    }

    /// Reads the agents again; called once an agent is added or removed.
    pub(crate) fn refresh_agents(&self) -> Result<(), do_store::StoreError> {
        let specs: HashMap<String, Arc<AgentSpec>> = self
            .store()
            .list_agents()?
            .into_iter()
            .map(|agent| (agent.spec.name.clone(), Arc::new(agent.spec)))
            .collect();
        let mut names: Vec<String> = specs
            .values()
            .flat_map(|spec| &spec.secret_env)
            .filter(|secret| secret.file.is_none())
            .map(|secret| secret.name.clone())
            .collect();
        names.sort_unstable();
        names.dedup();
        *self
            .agents
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(Agents {
            specs,
            secret_names: names.into(),
        });
        Ok(())
    }
}

/// Runs the daemon until it is asked to stop (`daemon.stop`, SIGTERM or SIGINT). `on_ready` is
/// called once the socket accepts connections.
pub async fn run(config: Config, on_ready: impl FnOnce()) -> Result<(), DaemonError> {
    create_private_dir(&config.data_dir)?;
    raise_fd_limit();
    let _lock = lock_data_dir(&config.data_dir)?;
    reaper::start();
    let store: Box<dyn Store> = Box::new(do_store::sqlite::SqliteStore::open(
        &config.database_path(),
    )?);
    let listener = server::bind(&config.socket)?;

    let (scheduler_tx, scheduler_rx) = mpsc::unbounded_channel();
    // Watchers that fall behind re-read the store, so a short ring is enough; it holds its
    // last events in memory for as long as the daemon runs.
    let (events, _) = broadcast::channel(256);
    // Followers that fall behind read the log files again, as watchers re-read the store.
    let (log_lines, _) = broadcast::channel(1024);
    let shared = Arc::new(Shared {
        config,
        store: Mutex::new(store),
        scheduler: scheduler_tx,
        events,
        log_lines,
        started_at: time::now_ms(),
        running_steps: AtomicU64::new(0),
        shutdown: tokio::sync::Notify::new(),
        stop_now: std::sync::atomic::AtomicBool::new(true),
        agents: RwLock::new(Arc::default()),
        schedules_changed: tokio::sync::Notify::new(),
    });
    shared.refresh_agents()?;
    let scheduler = {
        let shared = shared.clone();
        tokio::task::spawn_blocking(move || scheduler::run(shared, scheduler_rx))
    };
    scheduler::recover(&shared)?;
    // After recovery, so that the executions a missed tick would overlap are known.
    let schedules = tokio::spawn(schedule_task::run(shared.clone()));
    let _ = fs::remove_file(crate::http_files::http_addr_path(&shared.config.data_dir));
    let http_server = match shared.config.http {
        Some(addr) => Some(http::start(shared.clone(), addr).await?),
        None => None,
    };
    tracing::info!(socket = %shared.config.socket.display(), pid = std::process::id(), "daemon ready");
    on_ready();

    let mut vital = vec![("the scheduler", scheduler), ("the schedules", schedules)];
    vital.extend(http_server.map(|server| ("the HTTP API", server)));
    supervise(server::serve(shared.clone(), listener), &mut vital).await?;
    let mut vital = vital.into_iter();
    let scheduler = vital.next().map(|(_, task)| task);
    let schedules = vital.next().map(|(_, task)| task);
    let http_server = vital.next().map(|(_, task)| task);

    tracing::info!("daemon stopping");
    if let Some(schedules) = schedules {
        schedules.abort();
    }
    if let Some(server) = http_server {
        // Open event streams end with the runtime; no new request starts.
        server.abort();
        let _ = fs::remove_file(crate::http_files::http_addr_path(&shared.config.data_dir));
    }
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let _ = shared.scheduler.send(scheduler::Message::Shutdown {
        now: shared.stop_now.load(std::sync::atomic::Ordering::Relaxed),
        reply: done_tx,
    });
    let _ = done_rx.await;
    if let Some(scheduler) = scheduler {
        let _ = scheduler.await;
    }
    let _ = fs::remove_file(&shared.config.socket);
    tracing::info!("daemon stopped");
    Ok(())
}

/// Runs `serve` (the socket server) until it returns, when a stop was asked for. The `vital`
/// tasks run as long as the daemon does: if one ends first, or panics, the daemon can no
/// longer do its job while it would still answer as if it could, so it fails instead (and a
/// service manager restarts it).
async fn supervise(
    serve: impl Future<Output = ()>,
    vital: &mut [(&'static str, tokio::task::JoinHandle<()>)],
) -> Result<(), DaemonError> {
    let ended = std::future::poll_fn(|cx| {
        for (task, handle) in vital.iter_mut() {
            if let std::task::Poll::Ready(result) = std::pin::Pin::new(handle).poll(cx) {
                return std::task::Poll::Ready((*task, result));
            }
        }
        std::task::Poll::Pending
    });
    tokio::select! {
        () = serve => Ok(()),
        (task, result) = ended => {
            let how = match result {
                Ok(()) => "ended".to_owned(),
                Err(e) if e.is_panic() => format!("panicked ({})", panic_text(e.into_panic())),
                Err(e) => e.to_string(),
            };
            tracing::error!(task, how, "a vital task of the daemon stopped; the daemon exits");
            Err(DaemonError::TaskEnded { task, how })
        }
    }
}

fn panic_text(panic: Box<dyn std::any::Any + Send>) -> String {
    match panic.downcast::<String>() {
        Ok(text) => *text,
        Err(panic) => panic
            .downcast_ref::<&str>()
            .map_or_else(|| "no message".to_owned(), |text| (*text).to_owned()),
    }
}

/// Every client connection and every running step's pipes take file descriptors; the usual
/// soft limit of 1024 is far below the hard limit. Capped so that agents, which inherit it,
/// do not meet an absurd limit.
fn raise_fd_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    const WANTED: u64 = 65_536;
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        let target = hard.min(WANTED);
        if soft < target {
            let _ = setrlimit(Resource::RLIMIT_NOFILE, target, hard);
        }
    }
}

/// Creates `dir` (and parents) readable by its owner only.
pub fn create_private_dir(dir: &Path) -> Result<(), DaemonError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| DaemonError::Io {
            what: "create directory",
            path: dir.to_owned(),
            source,
        })
}

/// Holds an exclusive lock on the data dir for the daemon's lifetime: two daemons on one
/// database would run every step twice.
fn lock_data_dir(data_dir: &Path) -> Result<File, DaemonError> {
    let path = data_dir.join("daemon.lock");
    let file = File::create(&path).map_err(|source| DaemonError::Io {
        what: "create",
        path: path.clone(),
        source,
    })?;
    let _ = file.set_permissions(fs::Permissions::from_mode(0o600));
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(DaemonError::AlreadyRunning {
            data_dir: data_dir.to_owned(),
        }),
        Err(fs::TryLockError::Error(source)) => Err(DaemonError::Io {
            what: "lock",
            path,
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_vital_task_that_panics_or_ends_fails_the_daemon() {
        let never = std::future::pending::<()>;
        let panics = tokio::spawn(async { panic!("lost the store") });
        let mut vital = vec![("the scheduler", panics)];
        let failed = supervise(never(), &mut vital).await;
        assert!(
            matches!(&failed, Err(DaemonError::TaskEnded { task: "the scheduler", how }) if how.contains("lost the store")),
            "{failed:?}"
        );

        let runs = tokio::spawn(never());
        let ends = tokio::spawn(async {});
        let mut vital = vec![("the scheduler", runs), ("the HTTP API", ends)];
        let failed = supervise(never(), &mut vital).await;
        assert!(
            matches!(&failed, Err(DaemonError::TaskEnded { task: "the HTTP API", how }) if how == "ended"),
            "{failed:?}"
        );
    }

    #[tokio::test]
    async fn the_daemon_stops_without_error_when_its_server_returns() {
        let mut vital = vec![("the scheduler", tokio::spawn(std::future::pending::<()>()))];
        assert!(supervise(async {}, &mut vital).await.is_ok());
    }
}
