//! The daemon's child processes: agents, and the commands of notifications (the notification
//! command, sendmail), each run in a process group of their own, are started through the
//! reaper (which must tell the daemon's own children from what it adopts), and are ended the
//! same way: TERM to the whole group, KILL after a grace period.
//!
//! Also what recovery needs to end what a dead daemon left running: a process's start time,
//! read from `/proc`, so that a reused pid is never taken for the old one.

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::process::ExitStatus;
use std::time::Duration;
use tokio::process::{Child, Command};

/// Spawns `command` as the leader of a new process group, one of the daemon's own children;
/// `attempt` is the reaper's marker of the attempt it runs, if it is an agent.
pub(crate) fn spawn_group(command: &mut Command, attempt: Option<&str>) -> std::io::Result<Child> {
    command.process_group(0);
    crate::reaper::spawn(command, attempt)
}

/// Ends the process group `pgid` led by `child`: SIGTERM to the whole group, SIGKILL to it
/// once `grace` has passed without the leader exiting, and SIGKILL to whatever is left of the
/// group once the leader is gone (a member that ignored SIGTERM would outlive it). Returns
/// the leader's exit status.
pub(crate) async fn end_group(
    pgid: Pid,
    grace: Duration,
    child: &mut Child,
) -> std::io::Result<ExitStatus> {
    let _ = killpg(pgid, Signal::SIGTERM);
    let status = match tokio::time::timeout(grace, child.wait()).await {
        Ok(status) => status,
        Err(_) => {
            let _ = killpg(pgid, Signal::SIGKILL);
            child.wait().await
        }
    };
    let _ = killpg(pgid, Signal::SIGKILL);
    status
}

/// When process `pid` started, in clock ticks since boot (field 22 of `/proc/PID/stat`).
pub(crate) fn process_start(pid: i32) -> Option<i64> {
    process_stat(pid).map(|(_, start)| start)
}

/// When process `pid` started, as [`process_start`], or `None` once it has exited (a zombie
/// that its parent has not reaped yet).
pub(crate) fn running_process_start(pid: i32) -> Option<i64> {
    process_stat(pid).and_then(|(state, start)| (state != "Z").then_some(start))
}

/// The state (field 3) and start time (field 22) of `/proc/PID/stat`.
fn process_stat(pid: i32) -> Option<(String, i64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from its end.
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?.to_owned();
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// Ends what is left of an agent's process group after the daemon that ran it died: only if
/// its leader is still the same process (same start time), so a reused pid is never killed.
pub(crate) fn end_survivor(pgid: i32, started: Option<i64>) -> bool {
    if started.is_none() || process_start(pgid) != started {
        return false;
    }
    killpg(Pid::from_raw(pgid), Signal::SIGKILL).is_ok()
}
