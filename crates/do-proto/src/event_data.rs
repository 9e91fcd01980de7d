//! Typed payloads of events whose `data` the daemon and its clients both read, so that the field
//! names on the wire are written in one place instead of probed by name in every reader.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::types::{Event, EventKind};
use do_core::model::{ExecutionStatus, StepStatus};

/// A payload and the event kinds that carry it.
pub trait EventPayload: Serialize + DeserializeOwned {
    const KINDS: &'static [EventKind];
}

/// `step.progress`: the agent's last `::progress N` line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepProgress {
    pub percentage: u8,
}

impl EventPayload for StepProgress {
    const KINDS: &'static [EventKind] = &[EventKind::StepProgress];
}

/// `step.retrying`: a failed attempt and when the next one starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepRetrying {
    pub error: String,
    /// Seconds until the next attempt.
    pub delay: f64,
    /// The attempt that failed.
    pub attempt: u32,
    pub max_retries: u32,
    /// RFC 3339 time of the next attempt.
    pub retry_at: String,
}

impl EventPayload for StepRetrying {
    const KINDS: &'static [EventKind] = &[EventKind::StepRetrying];
}

/// `step.started`, `step.completed`, `step.failed`, `step.cancelled` and `step.skipped`: the
/// step's new status; a start names its agent and attempt, a failure its error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepChanged {
    pub status: StepStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl EventPayload for StepChanged {
    const KINDS: &'static [EventKind] = &[
        EventKind::StepStarted,
        EventKind::StepCompleted,
        EventKind::StepFailed,
        EventKind::StepCancelled,
        EventKind::StepSkipped,
    ];
}

/// `execution.finished` and `execution.escalated`: the execution's status and whether
/// notifications of its end are still to come (`notifications.done`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionEnded {
    pub status: ExecutionStatus,
    pub error: Option<String>,
    pub notifying: bool,
}

impl EventPayload for ExecutionEnded {
    const KINDS: &'static [EventKind] =
        &[EventKind::ExecutionFinished, EventKind::ExecutionEscalated];
}

impl Event {
    /// The event's `data` as payload `P`, or `None` when the event is of another kind or its
    /// data does not have `P`'s shape.
    pub fn payload<P: EventPayload>(&self) -> Option<P> {
        if !P::KINDS.contains(&self.kind) {
            return None;
        }
        serde_json::from_value(self.data.clone()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: EventKind, data: serde_json::Value) -> Event {
        Event {
            execution_id: "e1".into(),
            seq: 1,
            at: "2026-01-01T00:00:00Z".into(),
            kind,
            step_id: Some("s".into()),
            data,
        }
    }

    /// The JSON the daemon writes today reads back as the typed payload and serializes to the
    /// same JSON, so the wire format does not change.
    #[test]
    fn payloads_round_trip_the_daemons_json() {
        let retrying = json!({
            "error": "exit 1", "delay": 1.5, "attempt": 2, "maxRetries": 3,
            "retryAt": "2026-01-01T00:00:01Z",
        });
        let typed: StepRetrying = event(EventKind::StepRetrying, retrying.clone())
            .payload()
            .expect("step.retrying payload");
        assert_eq!(typed.max_retries, 3);
        assert_eq!(serde_json::to_value(&typed).unwrap(), retrying);

        let progress = json!({"percentage": 40});
        let typed: StepProgress = event(EventKind::StepProgress, progress.clone())
            .payload()
            .expect("step.progress payload");
        assert_eq!(serde_json::to_value(&typed).unwrap(), progress);

        for (kind, data) in [
            (
                EventKind::ExecutionFinished,
                json!({"status": "completed", "error": null, "notifying": false}),
            ),
            (
                EventKind::ExecutionEscalated,
                json!({"status": "escalated", "error": "exit 1", "notifying": true}),
            ),
        ] {
            let typed: ExecutionEnded = event(kind, data.clone()).payload().expect("end payload");
            assert_eq!(serde_json::to_value(&typed).unwrap(), data);
        }
    }

    #[test]
    fn payload_of_another_kind_is_none() {
        let e = event(EventKind::StepFailed, json!({"percentage": 40}));
        assert_eq!(e.payload::<StepProgress>(), None);
    }
}
