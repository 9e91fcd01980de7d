//! The seam between the daemon and a backend: what any store of `do` answers and accepts.
//!
//! A backend implements the read traits on its store and the write traits on its transaction,
//! then [`Store`] (opening transactions) and [`Tx`]. The daemon holds a `Box<dyn Store>` and
//! never names a backend; the store test suite runs against every backend.
//!
//! Writes happen only inside [`Store::write`]: all of a closure's writes commit together or not
//! at all. [`Store::batch`] groups the writes of one scheduler turn into one commit; each write
//! inside it is undone alone when its closure fails.

use crate::{
    AgentRecord, AttemptRecord, EventRecord, ExecutionFilter, ExecutionRecord, FireRecord,
    ScheduleRecord, StepRecord, StoreError, TeamRecord, WorkflowFilter, WorkflowRecord,
};
use do_core::model::{ExecutionStatus, WorkflowStatus};
use do_core::workflow::WorkflowDocument;
use serde_json::Value;
use std::sync::Arc;

/// Workflows and their versions, as read outside a transaction.
pub trait WorkflowReads {
    fn workflow(&self, id: &str) -> Result<Option<WorkflowRecord>, StoreError>;
    /// One version's document; versions never change, so a backend may keep them parsed.
    fn workflow_version(
        &self,
        id: &str,
        version: u32,
    ) -> Result<Option<Arc<WorkflowDocument>>, StoreError>;
    /// Newest first, filtered and paginated as `filter` says.
    fn list_workflows(&self, filter: &WorkflowFilter) -> Result<Vec<WorkflowRecord>, StoreError>;
}

/// Agents and teams, as read outside a transaction.
pub trait AgentReads {
    fn agent(&self, name: &str) -> Result<Option<AgentRecord>, StoreError>;
    fn team(&self, id: &str) -> Result<Option<TeamRecord>, StoreError>;
    /// By id.
    fn list_teams(&self) -> Result<Vec<TeamRecord>, StoreError>;
    /// By name.
    fn list_agents(&self) -> Result<Vec<AgentRecord>, StoreError>;
}

/// Executions and what they accumulate, as read outside a transaction.
pub trait ExecutionReads {
    fn execution(&self, id: &str) -> Result<Option<ExecutionRecord>, StoreError>;
    /// Newest first, filtered and paginated as `filter` says.
    fn list_executions(&self, filter: &ExecutionFilter)
    -> Result<Vec<ExecutionRecord>, StoreError>;
    /// The queued executions' ids, by priority (highest first), then age (oldest first).
    fn queue(&self) -> Result<Vec<String>, StoreError>;
    /// `(step id, milliseconds)` of the completed steps of the workflow's last `executions`
    /// completed executions.
    fn step_durations(
        &self,
        workflow_id: &str,
        executions: u32,
    ) -> Result<Vec<(String, i64)>, StoreError>;
    /// Milliseconds of the agent's last `limit` completed steps, in any workflow.
    fn agent_durations(&self, agent: &str, limit: u32) -> Result<Vec<i64>, StoreError>;
    fn executions_with_status(
        &self,
        statuses: &[ExecutionStatus],
    ) -> Result<Vec<ExecutionRecord>, StoreError>;
    /// In the order the steps were first written.
    fn steps(&self, execution_id: &str) -> Result<Vec<StepRecord>, StoreError>;
    /// By step id, then attempt number.
    fn attempts(&self, execution_id: &str) -> Result<Vec<AttemptRecord>, StoreError>;
    /// Named outputs (and loop item lists), by name.
    fn outputs(&self, execution_id: &str) -> Result<Vec<(String, Value)>, StoreError>;
    /// The events numbered above `after`, in order.
    fn events(&self, execution_id: &str, after: u64) -> Result<Vec<EventRecord>, StoreError>;
}

/// Schedules and their fires, as read outside a transaction.
pub trait ScheduleReads {
    /// By id, or else by name.
    fn schedule(&self, id_or_name: &str) -> Result<Option<ScheduleRecord>, StoreError>;
    fn list_schedules(&self, workflow_id: Option<&str>) -> Result<Vec<ScheduleRecord>, StoreError>;
    /// The schedule's last `limit` fires, newest first.
    fn schedule_fires(&self, schedule_id: &str, limit: u32) -> Result<Vec<FireRecord>, StoreError>;
    /// Ids of the schedule's executions that have not ended.
    fn live_schedule_executions(&self, schedule_id: &str) -> Result<Vec<String>, StoreError>;
}

/// Writes (and the reads they decide on) of workflows, inside a transaction.
pub trait WorkflowWrites {
    /// [`StoreError::Conflict`] when the id is taken.
    fn insert_workflow(&mut self, record: &WorkflowRecord) -> Result<(), StoreError>;
    fn workflow(&mut self, id: &str) -> Result<Option<WorkflowRecord>, StoreError>;
    /// The workflow of that name that is not archived.
    fn live_workflow_named(&mut self, name: &str) -> Result<Option<WorkflowRecord>, StoreError>;
    /// Stores `document` as the workflow's next version; returns its number.
    fn add_workflow_version(
        &mut self,
        id: &str,
        document: &WorkflowDocument,
        now: i64,
    ) -> Result<u32, StoreError>;
    /// `(all, not ended)` executions of the workflow.
    fn workflow_execution_counts(&mut self, id: &str) -> Result<(u64, u64), StoreError>;
    /// Deletes the workflow with its versions and executions; returns the executions' ids, or
    /// `None` when there was no such workflow.
    fn delete_workflow(&mut self, id: &str) -> Result<Option<Vec<String>>, StoreError>;
    fn set_workflow_status(
        &mut self,
        id: &str,
        status: WorkflowStatus,
        now: i64,
    ) -> Result<(), StoreError>;
}

/// Writes of agents and teams, inside a transaction.
pub trait AgentWrites {
    /// Inserts or replaces.
    fn put_agent(&mut self, record: &AgentRecord) -> Result<(), StoreError>;
    /// Inserts or replaces.
    fn put_team(&mut self, record: &TeamRecord) -> Result<(), StoreError>;
    fn team_exists(&mut self, id: &str) -> Result<bool, StoreError>;
    /// The round-robin position of a team's next member.
    fn set_team_cursor(&mut self, id: &str, next: u32) -> Result<(), StoreError>;
    /// Whether there was such a team.
    fn remove_team(&mut self, id: &str) -> Result<bool, StoreError>;
    fn agent_exists(&mut self, name: &str) -> Result<bool, StoreError>;
    /// Whether there was such an agent.
    fn remove_agent(&mut self, name: &str) -> Result<bool, StoreError>;
}

/// Writes of executions, inside a transaction.
pub trait ExecutionWrites {
    /// [`StoreError::Conflict`] when the id is taken.
    fn insert_execution(&mut self, record: &ExecutionRecord) -> Result<(), StoreError>;
    /// Writes the columns that change while it runs (status, current step, counts, error,
    /// cancel reason, times).
    fn update_execution(&mut self, record: &ExecutionRecord) -> Result<(), StoreError>;
    /// Inserts or replaces; a step keeps the position it was first written at.
    fn put_step(&mut self, record: &StepRecord) -> Result<(), StoreError>;
    /// Inserts or replaces.
    fn put_attempt(&mut self, record: &AttemptRecord) -> Result<(), StoreError>;
    /// Inserts or replaces the named output.
    fn put_output(
        &mut self,
        execution_id: &str,
        name: &str,
        value: &Value,
    ) -> Result<(), StoreError>;
    /// Appends an event; returns its number, one more than the execution's last event's (the
    /// first is 1), never reused even after a rollback.
    fn append_event(
        &mut self,
        execution_id: &str,
        at: i64,
        kind: &str,
        data: &Value,
    ) -> Result<u64, StoreError>;
}

/// Writes of schedules and fires, inside a transaction.
pub trait ScheduleWrites {
    /// [`StoreError::Conflict`] when the id or name is taken.
    fn insert_schedule(&mut self, record: &ScheduleRecord) -> Result<(), StoreError>;
    /// [`StoreError::Conflict`] when the new name is another schedule's.
    fn update_schedule(&mut self, record: &ScheduleRecord) -> Result<(), StoreError>;
    /// By id, or else by name.
    fn schedule(&mut self, id_or_name: &str) -> Result<Option<ScheduleRecord>, StoreError>;
    fn workflow_schedules(&mut self, workflow_id: &str) -> Result<Vec<ScheduleRecord>, StoreError>;
    /// Moves the cursor forward to `cursor`, never back.
    fn advance_schedule_cursor(&mut self, id: &str, cursor: i64) -> Result<(), StoreError>;
    /// Whether there was such a schedule; its fires go with it.
    fn remove_schedule(&mut self, id: &str) -> Result<bool, StoreError>;
    /// Whether the fire was new: a schedule fires once per scheduled time, whichever daemon
    /// records it first.
    fn insert_fire(&mut self, fire: &FireRecord) -> Result<bool, StoreError>;
    fn update_fire(&mut self, fire: &FireRecord) -> Result<(), StoreError>;
    /// Fires skipped or waiting for room, oldest first.
    fn waiting_fires(&mut self, schedule_id: &str) -> Result<Vec<FireRecord>, StoreError>;
    fn live_schedule_executions(&mut self, schedule_id: &str) -> Result<Vec<String>, StoreError>;
}

/// A transaction: every write trait.
pub trait Tx: WorkflowWrites + AgentWrites + ExecutionWrites + ScheduleWrites {}

impl<T: WorkflowWrites + AgentWrites + ExecutionWrites + ScheduleWrites + ?Sized> Tx for T {}

/// An open store: every read trait, and transactions. Object-safe; the generic
/// [`write`](dyn Store::write) and [`batch`](dyn Store::batch) are on `dyn Store`.
pub trait Store: WorkflowReads + AgentReads + ExecutionReads + ScheduleReads + Send {
    /// Runs `f` once, in one transaction (a savepoint inside a batch): commits when it
    /// returns `Ok`, undoes its writes otherwise and returns its error.
    fn write_dyn(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Tx) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// Runs `f` once, in which every write joins one transaction, committed when `f` returns.
    /// Batches do not nest.
    fn batch_dyn(&mut self, f: &mut dyn FnMut(&mut dyn Store)) -> Result<(), StoreError>;

    /// The backend's name and where it keeps its data, for `daemon status` and errors.
    fn describe(&self) -> String;
}

/// The contract of [`Store::write_dyn`] and [`Store::batch_dyn`] that lets the generic wrappers
/// hand back the closure's value.
const CALLED_ONCE: &str =
    "a store calls the closure of a write that succeeded, and of every batch, exactly once";

impl<'s> dyn Store + 's {
    /// Runs `f` in one transaction, or one savepoint of the transaction of a [`batch`]: its
    /// writes are undone when it fails, and durable when the transaction commits.
    ///
    /// [`batch`]: Self::batch
    pub fn write<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut f = Some(f);
        let mut value = None;
        self.write_dyn(&mut |tx| {
            if let Some(f) = f.take() {
                value = Some(f(tx)?);
            }
            Ok(())
        })?;
        Ok(value.expect(CALLED_ONCE))
    }

    /// Runs `f`, in which every [`write`](Self::write) joins one transaction, committed when
    /// `f` returns: the transitions of one turn of the scheduler cost one commit. Nothing `f`
    /// wrote is durable before this returns; a failed commit undoes all of it (and the error
    /// says so), while `f`'s own result is returned either way.
    pub fn batch<T>(&mut self, f: impl FnOnce(&mut dyn Store) -> T) -> (T, Result<(), StoreError>) {
        let mut f = Some(f);
        let mut value = None;
        let committed = self.batch_dyn(&mut |store| {
            if let Some(f) = f.take() {
                value = Some(f(store));
            }
        });
        (value.expect(CALLED_ONCE), committed)
    }
}
