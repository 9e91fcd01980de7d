//! Exit codes, as DESIGN.md fixes them, and the printing of errors.

use do_proto::{ClientError, ErrorCode};
use std::io::Write;
use std::process::ExitCode;

/// 0: done.
pub(crate) const SUCCESS: u8 = 0;
/// The execution waited for did not complete (or another command failed).
pub(crate) const FAILURE: u8 = 1;
/// Bad usage or an invalid document.
pub(crate) const USAGE: u8 = 2;
/// The daemon cannot be reached.
pub(crate) const UNREACHABLE: u8 = 3;
/// The named workflow, execution or agent does not exist.
pub(crate) const NOT_FOUND: u8 = 4;

/// A mistake in what the user asked for: exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct UsageError(pub(crate) String);

pub(crate) fn finish(result: anyhow::Result<u8>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            if is_broken_pipe(&error) {
                return ExitCode::from(SUCCESS);
            }
            let message = crate::program::localize(&format!("{error:#}"));
            let _ = writeln!(std::io::stderr(), "error: {message}");
            ExitCode::from(code_of(&error))
        }
    }
}

fn code_of(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if cause.is::<UsageError>() {
            return USAGE;
        }
        if let Some(client) = cause.downcast_ref::<ClientError>() {
            return match client {
                ClientError::Connect { .. }
                | ClientError::Io(_)
                | ClientError::VersionMismatch { .. } => UNREACHABLE,
                ClientError::Protocol(_) => FAILURE,
                ClientError::Api(api) => match api.code {
                    ErrorCode::InvalidRequest
                    | ErrorCode::InvalidDocument
                    | ErrorCode::Unauthorized
                    | ErrorCode::Forbidden
                    | ErrorCode::Conflict => USAGE,
                    ErrorCode::NotFound => NOT_FOUND,
                    ErrorCode::ProtocolMismatch | ErrorCode::Unavailable => UNREACHABLE,
                    ErrorCode::Internal => FAILURE,
                },
            };
        }
    }
    FAILURE
}

/// Whether stdout was closed early (`do … | head`), which is no failure. A broken pipe to the
/// daemon is one: it comes wrapped in a `ClientError`.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    for cause in error.chain() {
        if cause.is::<ClientError>() {
            return false;
        }
        if cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
        {
            return true;
        }
    }
    false
}
