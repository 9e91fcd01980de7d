//! Where the daemon's log lines go: stderr (`daemon.log` when started in the background),
//! written by a thread of its own. A line never makes the daemon wait, nor panic: when the
//! thread is behind by [`QUEUE_LINES`] lines, or stderr refuses a write (a full disk, a
//! closed pipe), the line is dropped and counted. The count is in `daemon status`
//! (`logLinesDropped`), and the next line that can be written is preceded by a note of it.

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

/// Lines waiting for the writer thread; past this, new lines are dropped.
const QUEUE_LINES: usize = 1024;

static DROPPED: AtomicU64 = AtomicU64::new(0);
static QUEUE: OnceLock<Option<SyncSender<Vec<u8>>>> = OnceLock::new();

/// Log lines dropped since the daemon started.
pub fn log_lines_dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// A writer for one log line, for `tracing_subscriber::fmt().with_writer(do_daemon::log_line)`.
pub fn log_line() -> LogLine {
    LogLine
}

/// Hands each write (a formatted log line) to the writer thread.
pub struct LogLine;

impl Write for LogLine {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let queued = match queue() {
            Some(queue) => queue.try_send(line.to_vec()),
            None => Err(TrySendError::Full(Vec::new())),
        };
        if queued.is_err() {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The writer thread's queue, started with the first line; `None` if no thread could start.
fn queue() -> Option<&'static SyncSender<Vec<u8>>> {
    QUEUE
        .get_or_init(|| {
            let (sender, lines) = sync_channel(QUEUE_LINES);
            std::thread::Builder::new()
                .name("log writer".into())
                .spawn(move || write_lines(lines, std::io::stderr()))
                .ok()
                .map(|_| sender)
        })
        .as_ref()
}

/// Writes each line to `out`; counts those it cannot write, and notes the count before the
/// next line it can.
fn write_lines(lines: Receiver<Vec<u8>>, mut out: impl Write) {
    let mut noted = 0;
    for line in lines {
        let dropped = DROPPED.load(Ordering::Relaxed);
        if dropped > noted {
            let note = format!("do: {} log line(s) could not be written\n", dropped - noted);
            if out.write_all(note.as_bytes()).is_ok() {
                noted = dropped;
            }
        }
        if out.write_all(&line).is_err() {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Refuses every write while `full`, like stderr on a full disk.
    struct Disk {
        written: Vec<u8>,
        full: bool,
    }

    impl Write for Disk {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.full {
                return Err(std::io::Error::from_raw_os_error(nix::libc::ENOSPC));
            }
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_line_that_cannot_be_written_is_counted_and_noted_before_the_next_one_that_can() {
        let mut disk = Disk {
            written: Vec::new(),
            full: true,
        };
        let before = log_lines_dropped();
        let (sender, lines) = sync_channel(4);
        sender.send(b"one\n".to_vec()).expect("queue");
        sender.send(b"two\n".to_vec()).expect("queue");
        drop(sender);
        write_lines(lines, &mut disk);
        assert_eq!(log_lines_dropped() - before, 2);
        assert!(disk.written.is_empty());

        disk.full = false;
        let (sender, lines) = sync_channel(4);
        sender.send(b"three\n".to_vec()).expect("queue");
        drop(sender);
        write_lines(lines, &mut disk);
        let written = String::from_utf8(disk.written).expect("text");
        assert!(
            written.starts_with("do: ") && written.ends_with("could not be written\nthree\n"),
            "{written}"
        );
    }
}
