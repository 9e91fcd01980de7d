//! The Unix socket: binding safely, refusing other users, and one task per connection reading
//! newline-delimited requests.

use crate::error::DaemonError;
use crate::handlers::{Answer, Data};
use crate::{Shared, handlers, time};
use do_proto::{ApiError, Envelope, ErrorCode, Metadata, decode_request};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
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
                    tokio::spawn(connection(shared.clone(), stream));
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
async fn connection(shared: Arc<Shared>, stream: UnixStream) {
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
        let limit = max + 1;
        match (&mut reader).take(limit).read_until(b'\n', &mut line).await {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(error = %e, "client connection ended");
                return;
            }
        }
        if line.last() != Some(&b'\n') {
            let error = if line.len() as u64 >= limit {
                ApiError::new(
                    ErrorCode::InvalidRequest,
                    format!(
                        "request line longer than {} (limits.request_bytes in config.toml); \
                         the connection is closed",
                        crate::show_bytes(max)
                    ),
                )
            } else {
                ApiError::new(
                    ErrorCode::InvalidRequest,
                    "request line not terminated by a newline",
                )
            };
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
            Ok(request) => handlers::handle(&shared, &mut conn, &id, request).await,
            Err(error) => conn.send_error(&id, error).await.is_ok(),
        };
        if !keep_going {
            return;
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
