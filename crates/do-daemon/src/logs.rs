//! Step logs served to clients (`executions.logs`): what the log files hold so far, then, when
//! asked to follow, each line as the runner writes it, until the step or the execution ends.
//! Clients never open the data dir.
//!
//! The runner announces every write on a broadcast channel with the file offset it landed at.
//! A follower subscribes before it reads the files, so nothing falls between the two; it keeps,
//! per attempt, how many bytes it has sent, skips what it has already sent, and reads the file
//! again whenever it finds a gap (a follower that fell behind the channel) and once at the end.

use crate::Shared;
use crate::answers::internal;
use crate::status::{self, Sink};
use do_core::model::{AttemptStatus, ExecutionStatus};
use do_proto::{ApiError, ErrorCode, EventKind, LogEntry, Logs, StepData};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::broadcast::{self, error::RecvError};

/// One write to an attempt's log file.
#[derive(Debug)]
pub(crate) struct LogLine {
    execution_id: String,
    step_id: String,
    attempt: u32,
    /// Where in the file the write starts.
    offset: u64,
    bytes: Vec<u8>,
}

pub(crate) type LogLines = broadcast::Sender<Arc<LogLine>>;

/// What the runner of one attempt tells of its log's writes.
pub(crate) struct LogTap {
    sender: LogLines,
    execution_id: String,
    step_id: String,
    attempt: u32,
}

impl LogTap {
    pub(crate) fn new(sender: &LogLines, execution_id: &str, step_id: &str, attempt: u32) -> Self {
        LogTap {
            sender: sender.clone(),
            execution_id: execution_id.to_owned(),
            step_id: step_id.to_owned(),
            attempt,
        }
    }

    /// `bytes` were written at `offset` of the log.
    pub(crate) fn wrote(&self, offset: u64, bytes: &[u8]) {
        // Nobody follows most logs: then a line costs nothing more than its write.
        if self.sender.receiver_count() == 0 {
            return;
        }
        let _ = self.sender.send(Arc::new(LogLine {
            execution_id: self.execution_id.clone(),
            step_id: self.step_id.clone(),
            attempt: self.attempt,
            offset,
            bytes: bytes.to_vec(),
        }));
    }
}

/// The log file of an attempt, as the runner names it.
fn log_path(shared: &Shared, execution_id: &str, step_id: &str, attempt: u32) -> PathBuf {
    shared
        .config
        .data_dir
        .join("runs")
        .join(execution_id)
        .join(format!("{step_id}.{attempt}.log"))
}

/// Larger reads of a log file are sent as several entries, each well under a protocol line.
const BATCH_BYTES: usize = 1024 * 1024;

/// Streams the logs `request` asks for, ending with [`LogEntry::End`]; returns whether the
/// connection is still usable.
pub(crate) async fn stream(
    shared: &Shared,
    conn: &mut impl Sink,
    request_id: &str,
    request: Logs,
) -> bool {
    // Subscribe before the first read, so that no line falls between the two.
    let mut lines = shared.log_lines.subscribe();
    let mut events = shared.events.subscribe();
    if let Err(error) = check(shared, &request) {
        return conn.send_error(request_id, error).await.is_ok();
    }
    let mut follower = Follower {
        shared,
        request: &request,
        sent: HashMap::new(),
    };
    let mut done = !request.follow || follower.ended();
    loop {
        match follower.catch_up(conn, request_id, done).await {
            Ok(true) => {}
            Ok(false) => return false,
            Err(error) => return conn.send_error(request_id, error).await.is_ok(),
        }
        if done {
            return send(conn, request_id, &LogEntry::End).await;
        }
        // Lines as they come, until a gap sends the loop back to the files or the end comes.
        loop {
            tokio::select! {
                line = lines.recv() => match line {
                    Ok(line) => match follower.take(&line) {
                        Take::Send(entry) => {
                            if !send(conn, request_id, &entry).await {
                                return false;
                            }
                        }
                        Take::Skip => {}
                        Take::Gap => break,
                    },
                    Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => return false,
                },
                event = events.recv() => match event {
                    Ok(event) if event.execution_id == request.id && follower.may_end(&event) => {
                        if follower.ended() {
                            done = true;
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => {
                        done = follower.ended();
                        break;
                    }
                    Err(RecvError::Closed) => return false,
                },
            }
        }
    }
}

/// The execution exists, and so does the step asked for.
pub(crate) fn check(shared: &Shared, request: &Logs) -> Result<(), ApiError> {
    let execution = status::execution_data(shared, &request.id, true)?;
    let Some(wanted) = &request.step_id else {
        return Ok(());
    };
    fn has(steps: &[StepData], wanted: &str) -> bool {
        steps
            .iter()
            .any(|s| s.id == wanted || has(&s.steps, wanted))
    }
    if has(execution.steps.as_deref().unwrap_or_default(), wanted) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!(
                "execution {} has no step `{wanted}`; `do workflow execution {}` lists its steps",
                request.id, request.id
            ),
        ))
    }
}

async fn send(conn: &mut impl Sink, request_id: &str, entry: &LogEntry) -> bool {
    match serde_json::value::to_raw_value(entry) {
        Ok(data) => conn.send_data(request_id, data).await.is_ok(),
        Err(_) => false,
    }
}

/// What to do with a line from the channel.
enum Take {
    Send(LogEntry),
    /// Not asked for, or sent already.
    Skip,
    /// Bytes before it were missed: the file has them.
    Gap,
}

struct Follower<'a> {
    shared: &'a Shared,
    request: &'a Logs,
    /// Per attempt announced: how many bytes of its log have been sent.
    sent: HashMap<(String, u32), u64>,
}

impl Follower<'_> {
    fn wants(&self, step_id: &str, attempt: u32) -> bool {
        self.request.step_id.as_deref().is_none_or(|s| s == step_id)
            && self.request.attempt.is_none_or(|a| a == attempt)
    }

    /// Whether what is followed is over: the step asked for has finished, or the execution
    /// has ended or waits for a person.
    fn ended(&self) -> bool {
        let store = self.shared.store();
        let execution = match store.execution(&self.request.id) {
            Ok(Some(execution)) => execution,
            // Deleted, or unreadable: nothing more will come.
            _ => return true,
        };
        if execution.status.is_terminal() || execution.status == ExecutionStatus::Escalated {
            return true;
        }
        let Some(step_id) = &self.request.step_id else {
            return false;
        };
        store.steps(&self.request.id).is_ok_and(|steps| {
            steps
                .iter()
                .any(|s| &s.step_id == step_id && s.status.is_finished())
        })
    }

    /// Whether `event` may end what is followed (then [`Self::ended`] tells).
    fn may_end(&self, event: &do_proto::Event) -> bool {
        match event.kind {
            EventKind::ExecutionFinished | EventKind::ExecutionEscalated => true,
            EventKind::StepCompleted
            | EventKind::StepFailed
            | EventKind::StepCancelled
            | EventKind::StepSkipped => {
                self.request.step_id.is_some() && event.step_id == self.request.step_id
            }
            _ => false,
        }
    }

    fn take(&mut self, line: &LogLine) -> Take {
        if line.execution_id != self.request.id || !self.wants(&line.step_id, line.attempt) {
            return Take::Skip;
        }
        let key = (line.step_id.clone(), line.attempt);
        let sent = self.sent.get(&key).copied().unwrap_or(0);
        if line.offset < sent {
            return Take::Skip;
        }
        if line.offset > sent || !self.sent.contains_key(&key) {
            // A new attempt is announced by the read of its file, with its status.
            return Take::Gap;
        }
        self.sent.insert(key, sent + line.bytes.len() as u64);
        let text = line.bytes.strip_suffix(b"\n").unwrap_or(&line.bytes);
        Take::Send(LogEntry::Lines {
            step_id: line.step_id.clone(),
            attempt: line.attempt,
            lines: vec![String::from_utf8_lossy(text).into_owned()],
        })
    }

    /// Sends, for every attempt asked for, what its log holds past what was sent: whole lines
    /// only while it may still write (`last` says it cannot). Attempts are announced the
    /// first time, oldest first. `Ok(false)`: the connection is gone.
    async fn catch_up(
        &mut self,
        conn: &mut impl Sink,
        request_id: &str,
        last: bool,
    ) -> Result<bool, ApiError> {
        let mut attempts = self
            .shared
            .store()
            .attempts(&self.request.id)
            .map_err(internal)?;
        attempts.retain(|a| self.wants(&a.step_id, a.attempt));
        attempts.sort_by(|a, b| {
            (a.started_at, &a.step_id, a.attempt).cmp(&(b.started_at, &b.step_id, b.attempt))
        });
        for attempt in attempts {
            let key = (attempt.step_id.clone(), attempt.attempt);
            let offset = match self.sent.get(&key) {
                Some(&offset) => offset,
                None => {
                    let announce = LogEntry::Attempt {
                        step_id: attempt.step_id.clone(),
                        attempt: attempt.attempt,
                        status: attempt.status,
                    };
                    if !send(conn, request_id, &announce).await {
                        return Ok(false);
                    }
                    self.sent.insert(key.clone(), 0);
                    0
                }
            };
            let path = log_path(self.shared, &self.request.id, &key.0, key.1);
            let bytes = read_from(&path, offset).await.map_err(|e| {
                ApiError::new(
                    ErrorCode::Internal,
                    format!("cannot read the log `{}`: {e}", path.display()),
                )
            })?;
            let whole = last || attempt.status != AttemptStatus::Running;
            let end = if whole {
                bytes.len()
            } else {
                bytes
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |at| at + 1)
            };
            for entry in batches(&key.0, key.1, &bytes[..end]) {
                if !send(conn, request_id, &entry).await {
                    return Ok(false);
                }
            }
            self.sent.insert(key, offset + end as u64);
        }
        Ok(true)
    }
}

/// The log's bytes from `offset` on; none when there is no log (nothing was written yet).
async fn read_from(path: &std::path::Path, offset: u64) -> std::io::Result<Vec<u8>> {
    let mut file = match tokio::fs::File::open(path).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    file.seek(std::io::SeekFrom::Start(offset)).await?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).await?;
    Ok(bytes)
}

/// `bytes` as entries of whole lines, each entry at most about [`BATCH_BYTES`].
fn batches(step_id: &str, attempt: u32, bytes: &[u8]) -> Vec<LogEntry> {
    let mut entries = Vec::new();
    let mut lines = Vec::new();
    let mut size = 0;
    let text = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if bytes.is_empty() {
        return entries;
    }
    for line in text.split(|&b| b == b'\n') {
        size += line.len() + 1;
        lines.push(String::from_utf8_lossy(line).into_owned());
        if size >= BATCH_BYTES {
            entries.push(LogEntry::Lines {
                step_id: step_id.to_owned(),
                attempt,
                lines: std::mem::take(&mut lines),
            });
            size = 0;
        }
    }
    if !lines.is_empty() {
        entries.push(LogEntry::Lines {
            step_id: step_id.to_owned(),
            attempt,
            lines,
        });
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(entries: &[LogEntry]) -> Vec<&str> {
        entries
            .iter()
            .flat_map(|e| match e {
                LogEntry::Lines { lines, .. } => lines.iter().map(String::as_str).collect(),
                _ => Vec::new(),
            })
            .collect()
    }

    #[test]
    fn a_log_splits_into_its_lines_with_or_without_a_last_newline() {
        assert!(batches("s", 1, b"").is_empty());
        assert_eq!(lines_of(&batches("s", 1, b"a\nb\n")), ["a", "b"]);
        assert_eq!(lines_of(&batches("s", 1, b"a\n\nb")), ["a", "", "b"]);
    }

    #[test]
    fn a_large_log_comes_in_several_entries() {
        let line = "x".repeat(1000);
        let log = format!("{line}\n").repeat(3000);
        let entries = batches("s", 1, log.as_bytes());
        assert!(entries.len() >= 2, "{}", entries.len());
        assert_eq!(lines_of(&entries).len(), 3000);
    }
}
