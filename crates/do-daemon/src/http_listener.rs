//! Accepting HTTP connections without letting clients that have not shown the key hold the
//! daemon's resources: a connection must send its request headers (and with them the key)
//! within a timeout, at most a capped number of connections are served at once, and one past
//! the cap is answered 503 with the API's envelope and closed at once, so descriptors stay for
//! the owner's Unix socket and for agents.

use crate::answers::Data;
use axum::Router;
use do_proto::{ApiError, Envelope, ErrorCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// How the HTTP listener limits its clients (`[daemon]` in config.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Connections served at once (`daemon.http_connections`); never more than a quarter of
    /// the open-files limit.
    pub connections: usize,
    /// Time a connection has to send a request's headers, the key among them
    /// (`daemon.http_header_timeout`), for its first request and each one after.
    pub header_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> HttpLimits {
        HttpLimits {
            connections: 1024,
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// Connections past the cap being told so at once; past this many they are closed unanswered.
const REFUSALS_AT_ONCE: usize = 64;
/// Time a refused connection gets to read its 503.
const REFUSAL_TIME: Duration = Duration::from_secs(1);

/// The number of connections served at once: the configured cap, but at most a quarter of the
/// open-files limit, which leaves the rest to the Unix socket, the database and agents' pipes.
pub(crate) fn connection_cap(limits: HttpLimits) -> usize {
    use nix::sys::resource::{Resource, getrlimit};
    let files = getrlimit(Resource::RLIMIT_NOFILE).map_or(1024, |(soft, _)| soft);
    limits
        .connections
        .min(usize::try_from(files / 4).unwrap_or(usize::MAX))
        .max(1)
}

/// Serves `app` on `listener` until the task is aborted.
pub(crate) async fn serve(listener: TcpListener, app: Router, limits: HttpLimits) {
    let cap = connection_cap(limits);
    tracing::info!(
        connections = cap,
        header_timeout_s = limits.header_timeout.as_secs_f64(),
        "HTTP API limits"
    );
    let open = Arc::new(Semaphore::new(cap));
    let refusing = Arc::new(Semaphore::new(REFUSALS_AT_ONCE));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors, the listener stays readable: without a pause this
                // loop would spin until a connection closes.
                tracing::warn!(error = %e, "HTTP accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        match open.clone().try_acquire_owned() {
            Ok(permit) => {
                let app = app.clone();
                tokio::spawn(async move {
                    connection(stream, app, limits.header_timeout).await;
                    drop(permit);
                });
            }
            Err(_) => {
                if let Ok(permit) = refusing.clone().try_acquire_owned() {
                    tokio::spawn(async move {
                        let refusal = refusal_response(cap);
                        let _ = tokio::time::timeout(REFUSAL_TIME, refuse(stream, &refusal)).await;
                        drop(permit);
                    });
                }
            }
        }
    }
}

async fn connection(stream: TcpStream, app: Router, header_timeout: Duration) {
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app))
        .await;
    if let Err(e) = served {
        tracing::debug!(error = %e, "HTTP connection ended");
    }
}

/// Answers 503 and closes, reading (and dropping) what the client sent meanwhile: a socket
/// closed with unread data resets the connection, and the client might not see the answer.
async fn refuse(mut stream: TcpStream, refusal: &[u8]) -> std::io::Result<()> {
    stream.write_all(refusal).await?;
    stream.shutdown().await?;
    let mut sink = tokio::io::sink();
    tokio::io::copy(&mut (&mut stream).take(64 * 1024), &mut sink).await?;
    Ok(())
}

/// The whole HTTP response a connection past the cap gets.
fn refusal_response(cap: usize) -> Vec<u8> {
    let error = ApiError::new(
        ErrorCode::Unavailable,
        format!(
            "the HTTP API serves at most {cap} connections at once \
             (daemon.http_connections in config.toml); try again once one has closed"
        ),
    );
    let body = serde_json::to_string(&Envelope::<Data>::err(error, crate::http::metadata()))
        .unwrap_or_else(|_| String::from("{\"success\":false}"));
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\nretry-after: 1\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
