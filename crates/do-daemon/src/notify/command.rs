//! Deliveries through a local command: the notification command, and the sendmail command
//! of email deliveries. The event goes on stdin, never on a command line.

use super::Delivery;
use nix::unistd::Pid;
use serde_json::Value;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// After a command exits, how long its stderr may stay open (held by a background child).
const STDERR_GRACE: Duration = Duration::from_secs(1);
/// Bytes of a command's stderr kept to quote its last line.
const STDERR_TAIL_BYTES: usize = 8 * 1024;
/// How long a command that outlived its timeout has to exit on SIGTERM before its group is
/// killed: the daemon's default `kill_grace`, which agents get.
const COMMAND_KILL_GRACE: Duration = Duration::from_secs(5);

pub(super) async fn deliver_command(
    cmd: &str,
    body: &str,
    event: &Value,
    timeout: Duration,
) -> Delivery {
    let argv = ["sh".to_owned(), "-c".to_owned(), cmd.to_owned()];
    let result = run_process(&argv, body.as_bytes().to_vec(), event, timeout).await;
    Delivery::new("command", cmd, 1, result)
}

/// Runs `argv` in its own process group with `stdin` on its stdin and the `DO_EVENT_TYPE` and
/// `DO_EXECUTION_ID` environment; ok on exit 0. On timeout the whole group is ended as an
/// agent's is: SIGTERM, then SIGKILL after [`COMMAND_KILL_GRACE`].
pub(super) async fn run_process(
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
        .kill_on_drop(true);
    for (var, field) in [
        ("DO_EVENT_TYPE", "type"),
        ("DO_EXECUTION_ID", "executionId"),
    ] {
        if let Some(value) = event.get(field).and_then(Value::as_str) {
            command.env(var, value);
        }
    }
    let mut child = crate::process::spawn_group(&mut command, None)
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
                let _ = crate::process::end_group(pgid, COMMAND_KILL_GRACE, &mut child).await;
            }
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
