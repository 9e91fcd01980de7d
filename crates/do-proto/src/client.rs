use crate::envelope::{ApiError, Envelope, ErrorCode};
use crate::request::{Hello, Request, encode_request};
use crate::types::{Event, EventKind, HelloData, LogEntry};
use crate::{MAX_LINE_BYTES, PROTOCOL_VERSION};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// Why a call to the daemon did not produce an answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    // The cause is the error's source, which `{:#}` prints after it: not repeated here.
    #[error("cannot connect to the daemon at `{}`", path.display())]
    Connect {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("lost the connection to the daemon")]
    Io(#[from] io::Error),
    #[error(
        "the daemon sent something this client does not understand ({0}); are client and daemon the same version?"
    )]
    Protocol(String),
    #[error(
        "the daemon speaks protocol version {daemon}, this client {client}; restart the daemon with `do daemon stop` \
         (the next command starts the new one)"
    )]
    VersionMismatch { daemon: u32, client: u32 },
    #[error("{0}")]
    Api(ApiError),
}

/// A blocking connection to the daemon, handshake done.
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    next_id: u64,
    /// The daemon's answer to `hello`.
    pub daemon: HelloData,
}

impl Client {
    /// Connects to the socket at `path` and performs the `hello` handshake.
    pub fn connect(path: &Path) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(path).map_err(|source| ClientError::Connect {
            path: path.to_owned(),
            source,
        })?;
        let writer = stream.try_clone()?;
        let mut client = Client {
            reader: BufReader::new(stream),
            writer,
            next_id: 0,
            daemon: HelloData {
                protocol_version: PROTOCOL_VERSION,
                daemon_version: String::new(),
            },
        };
        let hello = Request::Hello(Hello {
            protocol_version: PROTOCOL_VERSION,
            client_version: env!("CARGO_PKG_VERSION").to_owned(),
        });
        client.daemon = match client.call(hello) {
            Ok(data) => data,
            Err(ClientError::Api(ApiError {
                code: ErrorCode::ProtocolMismatch,
                details,
                ..
            })) => {
                let daemon = details
                    .as_ref()
                    .and_then(|d| d.get("protocolVersion"))
                    .and_then(Value::as_u64)
                    .and_then(|v| u32::try_from(v).ok())
                    .unwrap_or(0);
                return Err(ClientError::VersionMismatch {
                    daemon,
                    client: PROTOCOL_VERSION,
                });
            }
            Err(e) => return Err(e),
        };
        Ok(client)
    }

    /// Sends a request and returns its `data`, decoded as `T`.
    pub fn call<T: DeserializeOwned>(&mut self, request: Request) -> Result<T, ClientError> {
        self.send(&request)?;
        self.receive()
    }

    /// Follows an execution's events until it ends, calling `on_event` for each; returns the
    /// final `execution.finished` event.
    pub fn watch(
        &mut self,
        execution_id: &str,
        mut on_event: impl FnMut(&Event),
    ) -> Result<Event, ClientError> {
        self.send(&Request::WatchExecution(crate::Watch {
            notifications: false,
            id: execution_id.to_owned(),
        }))?;
        loop {
            let event: Event = self.receive()?;
            on_event(&event);
            if matches!(
                event.kind,
                EventKind::ExecutionFinished | EventKind::ExecutionEscalated
            ) {
                return Ok(event);
            }
        }
    }

    /// Streams an execution's logs (`executions.logs`), calling `on_entry` for each entry as
    /// it comes, until the stream's `end` or until `on_entry` breaks (the connection is then
    /// left mid-stream: drop the client).
    pub fn logs(
        &mut self,
        request: crate::Logs,
        mut on_entry: impl FnMut(&LogEntry) -> std::ops::ControlFlow<()>,
    ) -> Result<(), ClientError> {
        self.send(&Request::ExecutionLogs(request))?;
        loop {
            let entry: LogEntry = self.receive()?;
            if entry == LogEntry::End || on_entry(&entry).is_break() {
                return Ok(());
            }
        }
    }

    /// Blocks until the daemon closes the connection (after `daemon.stop`, when it exits).
    pub fn wait_closed(&mut self) {
        let _ = io::copy(&mut self.reader, &mut io::sink());
    }

    fn send(&mut self, request: &Request) -> Result<(), ClientError> {
        self.next_id += 1;
        let mut line = encode_request(&self.next_id.to_string(), request);
        line.push('\n');
        self.writer.write_all(line.as_bytes())?;
        Ok(())
    }

    /// Reads one envelope and decodes its `data` as `T` directly (a `--wait` reads two events
    /// per step: no `Value` in between).
    fn receive<T: DeserializeOwned>(&mut self) -> Result<T, ClientError> {
        let mut line = Vec::new();
        let read = (&mut self.reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if read == 0 {
            return Err(ClientError::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the daemon closed the connection",
            )));
        }
        if line.last() != Some(&b'\n') {
            return Err(ClientError::Protocol(
                "an answer longer than the line limit".into(),
            ));
        }
        let protocol = |e: serde_json::Error| ClientError::Protocol(e.to_string());
        let envelope: Envelope<T> = serde_json::from_slice(&line).map_err(protocol)?;
        match (envelope.success, envelope.data, envelope.error) {
            (true, Some(data), _) => Ok(data),
            (true, None, _) => serde_json::from_value(Value::Null).map_err(protocol),
            (false, _, Some(error)) => Err(ClientError::Api(error)),
            (false, _, None) => Err(ClientError::Protocol("a failure without an error".into())),
        }
    }
}
