//! The socket protocol of `do`: newline-delimited JSON between the CLI and the daemon.
//!
//! A request is `{"id","method","params"}`; every answer is the Workflows API's envelope
//! (`success`, `data` or `error{code,message,details}`, `metadata{requestId,timestamp}`).
//! The first request on a connection is `hello` with the client's [`PROTOCOL_VERSION`].
//! Methods mirror the API's endpoints (`workflows.create` is `POST /agents/workflows`, ...).

mod client;
mod envelope;
mod event_data;
mod request;
mod schedules;
pub mod time;
mod types;

pub use client::{Client, ClientError};
pub use envelope::{ApiError, Envelope, ErrorCode, Metadata};
pub use event_data::{EventPayload, ExecutionEnded, StepChanged, StepProgress, StepRetrying};
pub use request::*;
pub use schedules::*;
pub use types::*;

/// Bumped whenever a request, response or event changes shape incompatibly.
pub const PROTOCOL_VERSION: u32 = 2;

/// Longest line either side accepts; a longer one is refused, not buffered.
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;
