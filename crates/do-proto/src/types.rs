//! The `data` of responses and events. Times are RFC 3339 strings in UTC, as in the API.

use do_core::model::{AgentSpec, ExecutionStatus, Priority, StepStatus, TeamSpec, WorkflowStatus};
use do_core::validate::Diagnostic;
use do_core::workflow::WorkflowDocument;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Answer to `hello`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelloData {
    pub protocol_version: u32,
    pub daemon_version: String,
}

/// Answer to `daemon.status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DaemonStatusData {
    pub pid: u32,
    pub daemon_version: String,
    pub protocol_version: u32,
    pub data_dir: String,
    pub socket: String,
    pub started_at: String,
    pub running_executions: u64,
    pub running_steps: u64,
    pub max_parallel: u32,
    /// Log lines the daemon could not write (a full disk, a log pipe that is behind).
    #[serde(default)]
    pub log_lines_dropped: u64,
    /// The address the HTTP API listens on, or null when the daemon serves none.
    #[serde(default)]
    pub http: Option<String>,
}

/// Answer to `daemon.apiKey`: the HTTP API's key and the file the daemon keeps it in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyData {
    pub api_key: String,
    pub path: String,
}

/// A stored workflow: the API's create response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Workflow")]
pub struct WorkflowData {
    pub workflow_id: String,
    #[serde(flatten)]
    pub document: WorkflowDocument,
    pub status: WorkflowStatus,
    pub version: u32,
    pub created_at: String,
    pub updated_at: String,
    /// Problems that do not stop the workflow from being stored (an unknown field, an agent
    /// not registered yet).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Diagnostic>,
}

/// What `workflows.run` did with the document it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunOutcome {
    /// No live workflow had the document's name: a new one was stored.
    Created,
    /// The live workflow of that name has this very document as its current version.
    Reused,
    /// The live workflow of that name had another document: this one is its new version.
    Updated,
}

/// Answer to `workflows.run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunData {
    pub outcome: RunOutcome,
    pub workflow: WorkflowData,
    pub execution: ExecutionData,
}

/// Answer to `workflows.delete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletedWorkflow {
    pub workflow_id: String,
    pub deleted: bool,
    /// Ids of the (ended) executions deleted with it (`force`).
    pub executions_deleted: Vec<String>,
}

/// Answer to `workflows.validate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidationData {
    pub name: String,
    pub steps: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Progress {
    pub completed: u32,
    pub total: u32,
    pub percentage: u32,
}

impl Progress {
    pub fn new(completed: usize, total: usize) -> Progress {
        let completed = u32::try_from(completed).unwrap_or(u32::MAX);
        let total = u32::try_from(total).unwrap_or(u32::MAX);
        let percentage = if total == 0 {
            100
        } else {
            (u64::from(completed) * 100 / u64::from(total)) as u32
        };
        Progress {
            completed,
            total,
            percentage,
        }
    }
}

/// The execution status document of the API (`GET /agents/workflows/executions/:id`).
/// Lists of executions leave `steps` and `input` out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Execution")]
pub struct ExecutionData {
    pub execution_id: String,
    pub workflow_id: String,
    pub workflow_name: String,
    pub workflow_version: u32,
    pub status: ExecutionStatus,
    pub priority: Priority,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_step: Option<String>,
    pub progress: Progress,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<StepData>>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    /// When an unfinished execution should end: now plus what its unfinished steps should
    /// still take, each step's time the median of that step in the workflow's latest
    /// completed executions, else of its agent's latest steps. Absent when any is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_completion: Option<String>,
    /// A queued execution's place in the queue (1 starts next), by priority then age.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<u32>,
    /// The schedule whose tick started it, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<crate::ScheduleRefData>,
    /// Where a person can follow the execution: over HTTP, its page on the dashboard of the
    /// same listener (`http://HOST/executions/ID`); absent over the socket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_url: Option<String>,
}

/// One step in the status document; composite steps nest their children under `steps`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "ExecutionStep")]
pub struct StepData {
    pub id: String,
    #[serde(rename = "type")]
    #[schemars(extend("enum" = do_core::workflow::STEP_TYPES))]
    pub step_type: String,
    pub status: StepStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// Human-readable, as in the API ("20.5 hours").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The step's result under its `output` name (or its id when it has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 100))]
    pub progress: Option<u8>,
    /// Every attempt, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<AttemptData>,
    /// When a step waiting to be retried (status `retrying`) runs again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<String>,
    /// Of a `retrying` step: how many retries its error handling allows; the failed attempts
    /// so far (`attempts`) say which retry comes next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// When a running step should end (its start plus its median duration; see
    /// `ExecutionData::estimated_completion`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_completion: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepData>,
}

/// One run of an agent for a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Attempt")]
pub struct AttemptData {
    pub attempt: u32,
    pub status: do_core::model::AttemptStatus,
    pub agent: String,
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Answer to `agents.*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Agent")]
pub struct AgentData {
    #[serde(flatten)]
    pub spec: AgentSpec,
    pub created_at: String,
}

/// Answer to `teams.*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Team")]
pub struct TeamData {
    #[serde(flatten)]
    pub spec: TeamSpec,
    pub created_at: String,
}

/// One entry of an execution's event stream (`executions.watch`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "ExecutionEvent")]
pub struct Event {
    pub execution_id: String,
    pub seq: u64,
    pub at: String,
    #[serde(rename = "type")]
    pub kind: EventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_id: Option<String>,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub data: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum EventKind {
    #[serde(rename = "execution.queued")]
    ExecutionQueued,
    #[serde(rename = "execution.started")]
    ExecutionStarted,
    #[serde(rename = "step.started")]
    StepStarted,
    #[serde(rename = "step.completed")]
    StepCompleted,
    #[serde(rename = "step.failed")]
    StepFailed,
    #[serde(rename = "step.cancelled")]
    StepCancelled,
    /// A step of the branch a conditional did not take.
    #[serde(rename = "step.skipped")]
    StepSkipped,
    /// A running step's agent reported how far along it is (`data.percentage`, 0–100) with a
    /// `::progress N` line on stderr.
    #[serde(rename = "step.progress")]
    StepProgress,
    /// A failed step runs again after `data.delay` seconds.
    #[serde(rename = "step.retrying")]
    StepRetrying,
    #[serde(rename = "execution.paused")]
    ExecutionPaused,
    #[serde(rename = "execution.resumed")]
    ExecutionResumed,
    /// A failure waits for a person (`retry` or `cancel`); a stream ends here too.
    #[serde(rename = "execution.escalated")]
    ExecutionEscalated,
    /// A notification was delivered, or failed to be (`data.ok`).
    #[serde(rename = "notification")]
    Notification,
    /// Every notification of the execution's end has been delivered or given up on.
    #[serde(rename = "notifications.done")]
    NotificationsDone,
    /// The last event of a stream; `data.status` is the execution's final status.
    #[serde(rename = "execution.finished")]
    ExecutionFinished,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ExecutionQueued => "execution.queued",
            EventKind::ExecutionStarted => "execution.started",
            EventKind::StepStarted => "step.started",
            EventKind::StepCompleted => "step.completed",
            EventKind::StepFailed => "step.failed",
            EventKind::StepCancelled => "step.cancelled",
            EventKind::StepSkipped => "step.skipped",
            EventKind::StepProgress => "step.progress",
            EventKind::StepRetrying => "step.retrying",
            EventKind::ExecutionPaused => "execution.paused",
            EventKind::ExecutionResumed => "execution.resumed",
            EventKind::ExecutionEscalated => "execution.escalated",
            EventKind::Notification => "notification",
            EventKind::NotificationsDone => "notifications.done",
            EventKind::ExecutionFinished => "execution.finished",
        }
    }
}

/// One entry of a `executions.logs` stream: an attempt's log starts, one of its lines, or the
/// end of the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum LogEntry {
    /// An attempt whose log follows (sent for every attempt asked for, even one that wrote
    /// nothing, before its lines).
    #[serde(rename_all = "camelCase")]
    Attempt {
        step_id: String,
        attempt: u32,
        status: do_core::model::AttemptStatus,
    },
    /// Lines the attempt's agent wrote on stderr, in order, each without its newline
    /// (invalid UTF-8 replaced).
    #[serde(rename_all = "camelCase")]
    Lines {
        step_id: String,
        attempt: u32,
        lines: Vec<String>,
    },
    /// The stream is over: everything asked for has been sent (with `follow`: the step, or
    /// the execution, has ended or escalated).
    End,
}
