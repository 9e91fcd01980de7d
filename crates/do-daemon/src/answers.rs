//! What a request is answered with, and the errors every room of the daemon answers alike.

use do_proto::{ApiError, ErrorCode};
use do_store::StoreError;
use serde::Serialize;
use serde_json::{Value, json};

/// An answer's `data`, serialised once, straight from the handler's types.
pub(crate) type Data = Box<serde_json::value::RawValue>;

pub(crate) type Answer = Result<Data, ApiError>;

pub(crate) fn to_data(data: &impl Serialize) -> Answer {
    serde_json::value::to_raw_value(data)
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("cannot encode answer: {e}")))
}

pub(crate) fn internal(error: StoreError) -> ApiError {
    tracing::error!(error = %error, "store error");
    ApiError::new(ErrorCode::Internal, error.to_string())
}

/// An `invalid_request` about one field of the request, with its path in `details.errors`.
pub(crate) fn field_error(path: &str, message: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidRequest, format!("`{path}`: {message}"))
        .with_details(json!({"errors": [{"path": path, "message": message}]}))
}

pub(crate) fn workflow_not_found(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("no workflow `{id}`; `do workflow list --all` shows the stored ones"),
    )
}

pub(crate) fn execution_not_found(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("no execution `{id}`; `do workflow executions` lists them"),
    )
}

/// Refuses a value larger, as JSON, than a `[limits]` setting, naming the setting.
pub(crate) fn within_limit(
    value: &Value,
    limit: u64,
    what: &str,
    key: &str,
) -> Result<(), ApiError> {
    let size = serde_json::to_vec(value).map_or(0, |bytes| bytes.len() as u64);
    if size <= limit {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::InvalidRequest,
        format!(
            "{what} is {size} bytes as JSON, more than the limit of {} ({key} in config.toml)",
            crate::show_bytes(limit)
        ),
    ))
}
