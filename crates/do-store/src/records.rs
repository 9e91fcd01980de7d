//! The rows the store reads and writes. Times are milliseconds since the Unix epoch.

use do_core::model::{
    AgentSpec, AttemptStatus, ExecutionStatus, FireOutcome, FireTrigger, Priority, StepStatus,
    TeamSpec, WorkflowStatus,
};
use do_core::schedule::ScheduleSpec;
use do_core::workflow::WorkflowDocument;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowRecord {
    pub id: String,
    pub version: u32,
    pub status: WorkflowStatus,
    pub document: WorkflowDocument,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct WorkflowFilter {
    pub status: Option<WorkflowStatus>,
    /// Leave archived workflows out.
    pub hide_archived: bool,
    pub category: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AgentRecord {
    pub spec: AgentSpec,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionRecord {
    pub id: String,
    pub workflow_id: String,
    pub workflow_version: u32,
    pub workflow_name: String,
    pub status: ExecutionStatus,
    pub priority: Priority,
    /// The execution input (`input.KEY`), a JSON object.
    pub input: Value,
    /// The `notifications` of the execute request, `Value::Null` when none.
    pub notifications: Value,
    pub current_step: Option<String>,
    /// Top-level steps completed, for `progress`.
    pub steps_completed: u32,
    /// Top-level steps of the workflow.
    pub steps_total: u32,
    pub error: Option<String>,
    pub cancel_reason: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    /// The schedule that started it, if one did.
    pub schedule: Option<ScheduleRef>,
}

/// The schedule tick that started an execution.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleRef {
    pub id: String,
    /// The schedule's name when it fired.
    pub name: String,
    pub scheduled_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct ExecutionFilter {
    pub workflow_id: Option<String>,
    pub status: Option<ExecutionStatus>,
    pub limit: u32,
    pub offset: u32,
}

/// The current state of one step (of any type) of an execution.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    pub execution_id: String,
    pub step_id: String,
    pub status: StepStatus,
    pub agent: Option<String>,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub output: Option<Value>,
    pub error: Option<String>,
    /// Percent reported by the agent (`::progress N`).
    pub progress: Option<u8>,
    /// Number of attempts started so far.
    pub attempts: u32,
    /// When a failed step waiting to be retried runs again (its durable backoff timer).
    pub retry_at: Option<i64>,
}

/// One run of an agent for a step.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    pub execution_id: String,
    pub step_id: String,
    /// 1, 2, ...
    pub attempt: u32,
    pub status: AttemptStatus,
    pub agent: String,
    pub started_at: i64,
    pub completed_at: Option<i64>,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
    /// Process group id of the agent, to end a survivor of a crashed daemon.
    pub pgid: Option<i32>,
    /// When the group's leader started (clock ticks since boot, `/proc/PID/stat`), so that a
    /// reused pid is never taken for it.
    pub pgid_start: Option<i64>,
    /// Where the agent's stderr is kept.
    pub log_path: Option<String>,
}

/// One entry of an execution's append-only event log.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub execution_id: String,
    pub seq: u64,
    pub at: i64,
    pub kind: String,
    pub data: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TeamRecord {
    pub spec: TeamSpec,
    /// The round-robin cursor: how many steps the team has been given.
    pub next: u32,
    pub created_at: i64,
}

/// A schedule: a workflow run by itself on a cron expression.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleRecord {
    pub id: String,
    pub workflow_id: String,
    pub spec: ScheduleSpec,
    /// Made from the workflow document's `schedules` (and changed with the document).
    pub from_document: bool,
    /// Every tick at or before this time has been decided: fired, skipped or let go.
    pub cursor: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One tick of a schedule and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct FireRecord {
    pub schedule_id: String,
    /// The tick's time: with the schedule, the key that makes it fire once.
    pub scheduled_at: i64,
    pub fired_at: i64,
    pub trigger: FireTrigger,
    pub outcome: FireOutcome,
    pub execution_id: Option<String>,
    /// Why it was skipped or failed.
    pub detail: Option<String>,
}
