//! The daemon is its agents' child subreaper: a process that leaves its step's process group or
//! session (`setsid`) and outlives its parent is adopted by the daemon instead of by init, so it
//! cannot escape. Once an attempt's agent has exited, a sweep ends every adopted process that
//! still carries that attempt's `DO_EXECUTION_ID`, `DO_STEP_ID` and `DO_ATTEMPT` (a process
//! inherits them), and reaps adopted processes that have exited.
//!
//! The daemon's own children (agents and notification commands) are waited for by tokio: a
//! sweep never reaps one of them, nor ends the agent of an attempt still running.

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;
use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard, RwLock};
use std::time::Duration;
use tokio::sync::Notify;

/// The pids of the children the daemon started itself, from their spawn until tokio has waited
/// for them.
static OWN: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());
/// Held (shared) from a spawn until its pid is in [`OWN`], and (exclusive) while a sweep reaps:
/// a child that exits at once is never taken for an adopted one.
static SPAWNING: RwLock<()> = RwLock::new(());
/// The attempts whose agent runs, by [`marker`].
static RUNNING: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
/// Asks the sweeper for a sweep.
static SWEEP: Notify = Notify::const_new();

/// Time between two sweeps at most: requests in between are served by one sweep.
const SWEEP_SPACING: Duration = Duration::from_millis(100);
/// Time for killed processes to exit before the next round looks for their adopted children.
const ROUND_SPACING: Duration = Duration::from_millis(10);
/// Rounds of one sweep at most: each round reaches one more generation of descendants.
const MAX_ROUNDS: usize = 100;

fn lock<T>(mutex: &Mutex<BTreeSet<T>>) -> MutexGuard<'_, BTreeSet<T>> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What identifies one attempt among processes: its three variables, which every descendant
/// inherits unless it clears its environment.
pub(crate) fn marker(execution_id: &str, step_id: &str, attempt: u32) -> String {
    format!("{execution_id}\n{step_id}\n{attempt}")
}

/// Makes the daemon the subreaper of everything it starts, and starts the sweeper. Without
/// the prctl (not Linux, or refused), escaped processes go to init as before: logged.
pub(crate) fn start() {
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        tracing::warn!(
            error = %e,
            "cannot become the agents' child subreaper: a process that leaves its step's \
             process group is not ended with its step"
        );
    }
    tokio::spawn(sweeper());
}

/// Spawns `command`, one of the daemon's own children; with `attempt`, the [`marker`] of the
/// attempt it runs, which counts as running until [`agent_ended`].
pub(crate) fn spawn(
    command: &mut tokio::process::Command,
    attempt: Option<&str>,
) -> std::io::Result<tokio::process::Child> {
    if let Some(marker) = attempt {
        lock(&RUNNING).insert(marker.to_owned());
    }
    let _spawning = SPAWNING.read().unwrap_or_else(|p| p.into_inner());
    let spawned = command.spawn();
    match &spawned {
        Ok(child) => {
            if let Some(pid) = child.id().and_then(|id| i32::try_from(id).ok()) {
                lock(&OWN).insert(pid);
            }
        }
        Err(_) => {
            if let Some(marker) = attempt {
                lock(&RUNNING).remove(marker);
            }
        }
    }
    spawned
}

/// Tokio has waited for the daemon's own child `pid` (or dropped it, and reaps it later).
pub(crate) fn waited(pid: i32) {
    lock(&OWN).remove(&pid);
}

/// Forgets one of the daemon's own children, other than an agent, when dropped.
pub(crate) struct OwnChild(pub(crate) Option<u32>);

impl Drop for OwnChild {
    fn drop(&mut self) {
        if let Some(pid) = self.0.and_then(|id| i32::try_from(id).ok()) {
            waited(pid);
        }
    }
}

/// The agent of the attempt `marker` (pid `pid`) has exited and been waited for: what it left
/// behind is ended by a sweep, requested now.
pub(crate) fn agent_ended(pid: Option<i32>, marker: &str) {
    if let Some(pid) = pid {
        waited(pid);
    }
    lock(&RUNNING).remove(marker);
    SWEEP.notify_one();
}

async fn sweeper() {
    loop {
        SWEEP.notified().await;
        for _ in 0..MAX_ROUNDS {
            let Ok(ended) = tokio::task::spawn_blocking(sweep).await else {
                break;
            };
            if ended == 0 {
                break;
            }
            tokio::time::sleep(ROUND_SPACING).await;
        }
        tokio::time::sleep(SWEEP_SPACING).await;
    }
}

/// One round: reaps the daemon's adopted children that have exited and kills those of attempts
/// no longer running; how many it killed (their own children are adopted as they die, for the
/// next round).
fn sweep() -> usize {
    let me = std::process::id();
    let mut exited = Vec::new();
    let mut living = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<i32>().ok())
        else {
            continue;
        };
        match parent_and_state(pid) {
            Some((parent, state)) if parent == me => {
                if state == 'Z' {
                    exited.push(pid);
                } else {
                    living.push(pid);
                }
            }
            _ => {}
        }
    }
    if !exited.is_empty() {
        let _reaping = SPAWNING.write().unwrap_or_else(|p| p.into_inner());
        let own = lock(&OWN);
        for pid in exited {
            if !own.contains(&pid) {
                let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
            }
        }
    }
    let mut killed = 0;
    for pid in living {
        if lock(&OWN).contains(&pid) {
            continue;
        }
        let Some(marker) = attempt_of(pid) else {
            continue;
        };
        let running = lock(&RUNNING).contains(&marker);
        // A child of the daemon stays its child until reaped: its pid cannot have been reused.
        if !running && kill(Pid::from_raw(pid), Signal::SIGKILL).is_ok() {
            tracing::debug!(pid, "ended a process its step left behind");
            killed += 1;
        }
    }
    killed
}

/// The parent (field 4) and state (field 3) of `/proc/PID/stat`.
fn parent_and_state(pid: i32) -> Option<(u32, char)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from its end.
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let parent = fields.next()?.parse().ok()?;
    Some((parent, state))
}

/// The [`marker`] in process `pid`'s environment, if it carries all three variables.
fn attempt_of(pid: i32) -> Option<String> {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    let (mut execution, mut step, mut attempt) = (None, None, None);
    for variable in environ.split(|&b| b == 0) {
        let variable = std::str::from_utf8(variable).ok();
        if let Some(v) = variable.and_then(|v| v.strip_prefix("DO_EXECUTION_ID=")) {
            execution = Some(v);
        } else if let Some(v) = variable.and_then(|v| v.strip_prefix("DO_STEP_ID=")) {
            step = Some(v);
        } else if let Some(v) = variable.and_then(|v| v.strip_prefix("DO_ATTEMPT=")) {
            attempt = v.parse().ok();
        }
    }
    Some(marker(execution?, step?, attempt?))
}
