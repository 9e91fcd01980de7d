use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// The API's response envelope; also the frame of every streamed event. The daemon writes
/// its `data` already serialised (`Box<RawValue>`); a client reads it as the type it expects,
/// or as a `Value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<D = Value> {
    pub success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<D>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
    pub metadata: Metadata,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub request_id: String,
    pub timestamp: String,
    /// On a page of a list that has more after it: the `offset` of the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u32>,
}

impl<D> Envelope<D> {
    pub fn ok(data: D, metadata: Metadata) -> Envelope<D> {
        Envelope {
            success: true,
            data: Some(data),
            error: None,
            metadata,
        }
    }

    pub fn err(error: ApiError, metadata: Metadata) -> Envelope<D> {
        Envelope {
            success: false,
            data: None,
            error: Some(error),
            metadata,
        }
    }
}

/// What went wrong, in a form both a person and a program can act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "error_details")]
    pub details: Option<Value>,
}

/// What a client can rely on in `details`: `errors`, when the request or document has
/// problems, each with the JSON path of its field (`steps[2].agent`, `notifications.slack`).
fn error_details(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let diagnostic = generator.subschema_for::<do_core::validate::Diagnostic>();
    schemars::json_schema!({
        "type": ["object", "null"],
        "properties": {"errors": {"type": "array", "items": diagnostic}},
    })
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = Some(details);
        self
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed or names an unknown method.
    InvalidRequest,
    /// A workflow document failed validation; `details` lists `{path,message}`.
    InvalidDocument,
    NotFound,
    /// An HTTP request without the right API key.
    Unauthorized,
    /// The request is understood but this daemon's settings do not allow it.
    Forbidden,
    /// The request conflicts with the current state (an existing name, a finished execution).
    Conflict,
    /// Client and daemon speak different protocol versions.
    ProtocolMismatch,
    /// The daemon is shutting down.
    Unavailable,
    Internal,
}
