//! Schedules on the wire: their requests and answers.

use do_core::model::{ExecutionStatus, FireOutcome, FireTrigger};
use do_core::schedule::ScheduleSpec;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `schedules.create`: a schedule of a stored workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateSchedule {
    /// The workflow's id.
    pub workflow_id: String,
    /// An empty `name` takes the workflow's (then `NAME-2`, …, while one is taken).
    #[serde(flatten)]
    pub schedule: ScheduleSpec,
}

/// `schedules.list`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListSchedules {
    /// Only this workflow's schedules.
    #[serde(default)]
    pub workflow_id: Option<String>,
}

/// `schedules.get`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GetSchedule {
    /// The schedule's id or name.
    pub id: String,
    /// How many of its latest fires to list.
    #[serde(default = "default_history")]
    pub history: u32,
}

pub fn default_history() -> u32 {
    20
}

/// A schedule: its spec, its workflow and when it fires next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Schedule")]
pub struct ScheduleData {
    pub schedule_id: String,
    pub workflow_id: String,
    #[serde(flatten)]
    pub spec: ScheduleSpec,
    /// Made by the workflow document's `schedules` (and changed with it).
    pub from_document: bool,
    /// The next tick, unless the schedule is paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_fire_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The latest fires, newest first (`schedules.get` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<FireData>>,
}

/// One tick of a schedule and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "ScheduleFire")]
pub struct FireData {
    /// The tick's time: with the schedule, the key that makes it fire once.
    pub scheduled_at: String,
    pub fired_at: String,
    pub trigger: FireTrigger,
    pub outcome: FireOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_id: Option<String>,
    /// The execution's status now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_status: Option<ExecutionStatus>,
    /// Why it was skipped or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Answer to `schedules.remove`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemovedSchedule {
    pub schedule_id: String,
    pub name: String,
    pub removed: bool,
}

/// The schedule tick that started an execution (`schedule` of its status document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "ScheduleRef")]
pub struct ScheduleRefData {
    pub id: String,
    pub name: String,
    pub scheduled_at: String,
}
