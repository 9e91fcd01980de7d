//! The SQLite store of `do`.
//!
//! The daemon never writes SQL itself: this crate offers the operations it needs, so that another
//! backend can later offer the same ones. Times are milliseconds since the Unix epoch (UTC).
//! All writes of one state transition go through one [`Store::write`] call: one transaction.

mod error;
mod migrations;
mod records;

pub use error::StoreError;
pub use records::*;

use rusqlite::Connection;
use do_core::model::{ExecutionStatus, WorkflowStatus};
use std::path::Path;

/// The schema version this build writes; see `migrations.rs`.
pub use migrations::SCHEMA_VERSION;

/// An open database. One writer: the daemon owns exactly one `Store`.
pub struct Store {
    conn: Connection,
}

/// The operations of one write transaction, handed to the closure of [`Store::write`].
pub struct Writer<'a> {
    tx: rusqlite::Transaction<'a>,
}

impl Store {
    /// Opens (creating if needed) the database at `path`: WAL mode, `synchronous=NORMAL`,
    /// foreign keys on, migrations applied. Refuses a database whose schema version is newer
    /// than [`SCHEMA_VERSION`] with [`StoreError::TooNew`].
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        todo!()
    }

    /// Runs `f` in one transaction; commits when it returns `Ok`, rolls back otherwise.
    pub fn write<T>(&mut self, f: impl FnOnce(&mut Writer<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        todo!()
    }

    // ---- workflows ----

    pub fn workflow(&self, id: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        todo!()
    }

    /// The document of one version of a workflow (executions pin the version they started with).
    pub fn workflow_version(&self, id: &str, version: u32) -> Result<Option<do_core::workflow::WorkflowDocument>, StoreError> {
        todo!()
    }

    /// Newest first (by `created_at`, then id), filtered, paginated.
    pub fn list_workflows(&self, filter: &WorkflowFilter) -> Result<Vec<WorkflowRecord>, StoreError> {
        todo!()
    }

    // ---- agents ----

    pub fn agent(&self, name: &str) -> Result<Option<AgentRecord>, StoreError> {
        todo!()
    }

    /// All agents, by name.
    pub fn list_agents(&self) -> Result<Vec<AgentRecord>, StoreError> {
        todo!()
    }

    // ---- executions ----

    pub fn execution(&self, id: &str) -> Result<Option<ExecutionRecord>, StoreError> {
        todo!()
    }

    /// Newest first (by `created_at`, then id), filtered, paginated.
    pub fn list_executions(&self, filter: &ExecutionFilter) -> Result<Vec<ExecutionRecord>, StoreError> {
        todo!()
    }

    /// Executions whose status is one of `statuses`, oldest first (for recovery at start).
    pub fn executions_with_status(&self, statuses: &[ExecutionStatus]) -> Result<Vec<ExecutionRecord>, StoreError> {
        todo!()
    }

    /// Every step row of an execution, in the order they were first written.
    pub fn steps(&self, execution_id: &str) -> Result<Vec<StepRecord>, StoreError> {
        todo!()
    }

    /// Every attempt of an execution's steps, ordered by step then attempt number.
    pub fn attempts(&self, execution_id: &str) -> Result<Vec<AttemptRecord>, StoreError> {
        todo!()
    }

    /// The named outputs of an execution (output names and step ids) with their values.
    pub fn outputs(&self, execution_id: &str) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        todo!()
    }

    /// Events of an execution with `seq > after`, in order.
    pub fn events(&self, execution_id: &str, after: u64) -> Result<Vec<EventRecord>, StoreError> {
        todo!()
    }
}

impl Writer<'_> {
    /// Inserts a new workflow at version 1; fails with [`StoreError::Conflict`] if the id exists.
    pub fn insert_workflow(&mut self, record: &WorkflowRecord) -> Result<(), StoreError> {
        todo!()
    }

    pub fn set_workflow_status(&mut self, id: &str, status: WorkflowStatus, now: i64) -> Result<(), StoreError> {
        todo!()
    }

    /// Inserts or replaces the agent with this name.
    pub fn put_agent(&mut self, record: &AgentRecord) -> Result<(), StoreError> {
        todo!()
    }

    /// Returns whether an agent was removed.
    pub fn remove_agent(&mut self, name: &str) -> Result<bool, StoreError> {
        todo!()
    }

    pub fn insert_execution(&mut self, record: &ExecutionRecord) -> Result<(), StoreError> {
        todo!()
    }

    /// Writes the mutable fields of an execution (status, current step, times, error, ...).
    pub fn update_execution(&mut self, record: &ExecutionRecord) -> Result<(), StoreError> {
        todo!()
    }

    /// Inserts or replaces the row of one step of an execution.
    pub fn put_step(&mut self, record: &StepRecord) -> Result<(), StoreError> {
        todo!()
    }

    /// Inserts or replaces one attempt of a step.
    pub fn put_attempt(&mut self, record: &AttemptRecord) -> Result<(), StoreError> {
        todo!()
    }

    /// Stores a named output. Storing the same name twice for one execution replaces the value
    /// (a re-run after recovery), so each output is stored exactly once.
    pub fn put_output(&mut self, execution_id: &str, name: &str, value: &serde_json::Value) -> Result<(), StoreError> {
        todo!()
    }

    /// Appends an event to the execution's log and returns its sequence number (1, 2, ...).
    pub fn append_event(&mut self, execution_id: &str, at: i64, kind: &str, data: &serde_json::Value) -> Result<u64, StoreError> {
        todo!()
    }
}
