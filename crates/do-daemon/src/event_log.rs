//! Appending to an execution's event log, and its events as clients see them.

use crate::time;
use do_proto::{Event, EventKind};
use do_store::prelude::*;
use do_store::{EventRecord, StoreError, transition};
use serde_json::Value;

/// Appends an event to the execution's log inside a write; returns it for broadcasting once
/// the transaction has committed.
pub(crate) fn append_event(
    w: &mut dyn Tx,
    execution_id: &str,
    at: i64,
    kind: EventKind,
    step_id: Option<&str>,
    data: Value,
) -> Result<Event, StoreError> {
    transition::append_event(w, execution_id, at, kind, step_id, data).map(event)
}

/// An event as the store keeps it, as clients see it.
pub(crate) fn event(mut record: EventRecord) -> Event {
    let step_id = match &mut record.data {
        Value::Object(map) => map
            .remove("stepId")
            .and_then(|v| v.as_str().map(str::to_owned)),
        _ => None,
    };
    let kind = serde_json::from_value(Value::String(record.kind.clone()))
        .unwrap_or(EventKind::ExecutionQueued);
    Event {
        execution_id: record.execution_id,
        seq: record.seq,
        at: time::rfc3339(record.at),
        kind,
        step_id,
        data: record.data,
    }
}
