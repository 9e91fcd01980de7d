//! The Unix socket: binding safely, refusing other users, and one task per connection reading
//! newline-delimited requests.

use crate::answers::{Answer, Data, to_data};
use crate::error::DaemonError;
use crate::handlers::{dispatch, hello_answer};
use crate::status::Sink;
use crate::{Shared, time};
use do_proto::{ApiError, Envelope, ErrorCode, Metadata, decode_request};
use do_proto::{Request, Watch};
use serde_json::json;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::{UnixListener, UnixStream};

/// Binds the socket, replacing a stale socket file but never a live daemon's.
pub(crate) fn bind(socket: &Path) -> Result<UnixListener, DaemonError> {
    if let Some(dir) = socket.parent() {
        crate::create_private_dir(dir)?;
    }
    if socket.exists() {
        if std::os::unix::net::UnixStream::connect(socket).is_ok() {
            return Err(DaemonError::SocketInUse {
                socket: socket.to_owned(),
            });
        }
        fs::remove_file(socket).map_err(|source| DaemonError::Io {
            what: "remove stale socket",
            path: socket.to_owned(),
            source,
        })?;
    }
    let listener = UnixListener::bind(socket).map_err(|source| DaemonError::Io {
        what: "listen on",
        path: socket.to_owned(),
        source,
    })?;
    // The directory is already private; this keeps the socket so if it is moved or the
    // directory was pre-existing with wider permissions.
    fs::set_permissions(socket, fs::Permissions::from_mode(0o600)).map_err(|source| {
        DaemonError::Io {
            what: "restrict",
            path: socket.to_owned(),
            source,
        }
    })?;
    Ok(listener)
}

/// Accepts connections until shutdown is requested.
pub(crate) async fn serve(shared: Arc<Shared>, listener: UnixListener) {
    let own_uid = nix::unistd::getuid().as_raw();
    let budget = Arc::new(LineBudget::new(shared.config.limits.pending_request_bytes));
    let stop = shared.shutdown.notified();
    tokio::pin!(stop);
    let mut signals = Signals::new();
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = signals.recv() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    match stream.peer_cred() {
                        Ok(cred) if cred.uid() == own_uid => {}
                        Ok(cred) => {
                            tracing::warn!(uid = cred.uid(), "refused a connection from another user");
                            refuse(stream, cred.uid(), own_uid);
                            continue;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "refused a connection whose peer is unknown");
                            continue;
                        }
                    }
                    tokio::spawn(connection(shared.clone(), budget.clone(), stream));
                }
                Err(e) => {
                    // Out of file descriptors, the listener stays readable: without a pause
                    // this loop would spin until a connection closes.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
        }
    }
}

/// Tells a client of another user why it is dropped. Its first request is drained for a
/// moment (at most 64 KiB, one second), so that its write does not fail before it reads why.
fn refuse(stream: UnixStream, uid: u32, own_uid: u32) {
    let error = ApiError::new(
        ErrorCode::Unavailable,
        format!(
            "this daemon serves only its own user (uid {own_uid}), not uid {uid}; \
             point `--socket` (or DO_SOCKET) at a socket of your own"
        ),
    );
    tokio::spawn(async move {
        let (read, mut write) = stream.into_split();
        if let Ok(mut line) = serde_json::to_vec(&Envelope::<Data>::err(error, metadata(""))) {
            line.push(b'\n');
            let _ = write.write_all(&line).await;
        }
        let mut first = read.take(64 * 1024);
        let mut sink = tokio::io::sink();
        let drain = tokio::io::copy(&mut first, &mut sink);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), drain).await;
    });
}

struct Signals {
    term: Option<tokio::signal::unix::Signal>,
    int: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> Signals {
        use tokio::signal::unix::{SignalKind, signal};
        Signals {
            term: signal(SignalKind::terminate()).ok(),
            int: signal(SignalKind::interrupt()).ok(),
        }
    }

    async fn recv(&mut self) {
        async fn wait(signal: &mut Option<tokio::signal::unix::Signal>) {
            match signal {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            _ = wait(&mut self.term) => {}
            _ = wait(&mut self.int) => {}
        }
    }
}

/// Serves one client: a line in, one envelope out (or a stream of them for `watch`).
async fn connection(shared: Arc<Shared>, budget: Arc<LineBudget>, stream: UnixStream) {
    let (read, write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut conn = Connection {
        writer: write,
        greeted: false,
    };
    let max = shared.config.limits.request_bytes;
    let mut line = Vec::new();
    loop {
        line.clear();
        let mut held = Held {
            budget: &budget,
            bytes: 0,
        };
        let read = match read_line(&mut reader, &mut line, max, &mut held).await {
            Ok(read) => read,
            Err(e) => {
                tracing::debug!(error = %e, "client connection ended");
                return;
            }
        };
        let error = match read {
            Line::Complete => None,
            Line::End => return,
            Line::Unterminated => Some(ApiError::new(
                ErrorCode::InvalidRequest,
                "request line not terminated by a newline",
            )),
            Line::TooLong => Some(ApiError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "request line longer than {} (limits.request_bytes in config.toml); \
                     the connection is closed",
                    crate::show_bytes(max)
                ),
            )),
            Line::OverBudget => Some(ApiError::new(
                ErrorCode::Unavailable,
                format!(
                    "the daemon already holds {} of unfinished requests from other \
                     connections (limits.pending_request_bytes in config.toml); the connection \
                     is closed, send the request again later",
                    crate::show_bytes(budget.total)
                ),
            )),
        };
        if let Some(error) = error {
            drop(line);
            drop(held);
            let _ = conn.send_error("", error).await;
            return;
        }
        let text = match std::str::from_utf8(&line) {
            Ok(text) => text,
            Err(_) => {
                let error = ApiError::new(ErrorCode::InvalidRequest, "request is not valid UTF-8");
                if conn.send_error("", error).await.is_err() {
                    return;
                }
                continue;
            }
        };
        let (id, request) = decode_request(text);
        let keep_going = match request {
            Ok(request) => handle(&shared, &mut conn, &id, request).await,
            Err(error) => conn.send_error(&id, error).await.is_ok(),
        };
        if !keep_going {
            return;
        }
        // A long line's buffer goes back with its share of the budget: an idle connection
        // holds no more than an ordinary request.
        if line.capacity() > FREE_LINE_BYTES {
            line = Vec::new();
        }
    }
}

/// How reading one request line ended.
#[derive(Debug, PartialEq)]
enum Line {
    /// A whole line, newline included.
    Complete,
    /// The client closed the connection between requests.
    End,
    /// The client closed the connection within a line.
    Unterminated,
    /// Longer than `limits.request_bytes`.
    TooLong,
    /// Its growth past [`FREE_LINE_BYTES`] would take the lines held across all connections
    /// past `limits.pending_request_bytes`.
    OverBudget,
}

/// Bytes one connection's request line may hold without drawing on the [`LineBudget`]: the
/// requests of every command but `workflow create`/`execute` with a large document or input
/// fit, so those never fail on what other connections hold.
const FREE_LINE_BYTES: usize = 16 * 1024;

/// The bytes that request lines being read hold past their free share, across all
/// connections: without this total, many connections each holding a line just under
/// `limits.request_bytes` would take the daemon's memory.
struct LineBudget {
    used: AtomicU64,
    total: u64,
}

impl LineBudget {
    fn new(total: u64) -> LineBudget {
        LineBudget {
            used: AtomicU64::new(0),
            total,
        }
    }
}

/// One line's share of the [`LineBudget`], given back when dropped.
struct Held<'a> {
    budget: &'a LineBudget,
    bytes: u64,
}

impl Held<'_> {
    /// Grows this share to `bytes`; false, and unchanged, when the budget cannot hold it.
    fn grow_to(&mut self, bytes: u64) -> bool {
        let more = bytes.saturating_sub(self.bytes);
        let budget = self.budget;
        let taken = budget
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(more).filter(|&sum| sum <= budget.total)
            });
        if taken.is_ok() {
            self.bytes += more;
        }
        taken.is_ok()
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// Reads one request line into `line`: at most `max` bytes before its newline, and past
/// [`FREE_LINE_BYTES`] only what `held` can draw from the budget, checked before each piece
/// is buffered.
async fn read_line(
    reader: &mut (impl AsyncBufRead + Unpin),
    line: &mut Vec<u8>,
    max: u64,
    held: &mut Held<'_>,
) -> std::io::Result<Line> {
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(if line.is_empty() {
                Line::End
            } else {
                Line::Unterminated
            });
        }
        let (piece, complete) = match available.iter().position(|&b| b == b'\n') {
            Some(newline) => (newline + 1, true),
            None => (available.len(), false),
        };
        let content = line.len() + piece - usize::from(complete);
        if content as u64 > max {
            return Ok(Line::TooLong);
        }
        let length = line.len() + piece;
        if length > FREE_LINE_BYTES && !held.grow_to((length - FREE_LINE_BYTES) as u64) {
            return Ok(Line::OverBudget);
        }
        line.extend_from_slice(&available[..piece]);
        reader.consume(piece);
        if complete {
            return Ok(Line::Complete);
        }
    }
}

/// The writing side of a client connection.
pub(crate) struct Connection {
    writer: OwnedWriteHalf,
    /// Whether `hello` succeeded; nothing else is served before it.
    pub(crate) greeted: bool,
}

impl Connection {
    pub(crate) async fn send(&mut self, envelope: &Envelope<Data>) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(envelope).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.writer.write_all(&line).await
    }

    pub(crate) async fn send_data(&mut self, request_id: &str, data: Data) -> std::io::Result<()> {
        self.send(&Envelope::ok(data, metadata(request_id))).await
    }

    pub(crate) async fn send_answer(
        &mut self,
        request_id: &str,
        answer: Answer,
    ) -> std::io::Result<()> {
        match answer {
            Ok(data) => self.send_data(request_id, data).await,
            Err(error) => self.send_error(request_id, error).await,
        }
    }

    pub(crate) async fn send_error(
        &mut self,
        request_id: &str,
        error: ApiError,
    ) -> std::io::Result<()> {
        self.send(&Envelope::err(error, metadata(request_id))).await
    }
}

fn metadata(request_id: &str) -> Metadata {
    // Echoing the client's id lets it pair answers with requests; a client that sent none still
    // gets an id to quote in a bug report.
    let request_id = if request_id.is_empty() {
        crate::ids::new_id("req")
    } else {
        request_id.to_owned()
    };
    Metadata {
        request_id,
        timestamp: time::rfc3339(time::now_ms()),
        next_offset: None,
    }
}

/// Answers one request; returns whether the connection stays open.
pub(crate) async fn handle(
    shared: &Arc<Shared>,
    conn: &mut Connection,
    id: &str,
    request: Request,
) -> bool {
    let answer = match request {
        Request::Hello(hello) => {
            let answer = hello_answer(hello.protocol_version);
            conn.greeted = answer.is_ok();
            answer
        }
        _ if !conn.greeted => Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "the first request on a connection must be `hello` with the protocol version",
        )),
        Request::WatchExecution(Watch {
            id: execution_id,
            notifications,
        }) => {
            return crate::status::watch(shared, conn, id, &execution_id, notifications).await;
        }
        Request::ExecutionLogs(logs) => return crate::logs::stream(shared, conn, id, logs).await,
        Request::StopDaemon(stop) => {
            shared
                .stop_now
                .store(stop.now, std::sync::atomic::Ordering::Relaxed);
            let sent = conn
                .send_answer(id, to_data(&json!({"stopping": true, "now": stop.now})))
                .await
                .is_ok();
            shared.shutdown.notify_one();
            return sent;
        }
        request => dispatch(shared, request).await,
    };
    conn.send_answer(id, answer).await.is_ok()
}

impl Sink for Connection {
    async fn send_data(&mut self, request_id: &str, data: Data) -> std::io::Result<()> {
        Connection::send_data(self, request_id, data).await
    }

    async fn send_error(&mut self, request_id: &str, error: ApiError) -> std::io::Result<()> {
        Connection::send_error(self, request_id, error).await
    }
}
