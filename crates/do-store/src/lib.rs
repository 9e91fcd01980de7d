//! The store of `do`: what the daemon keeps (workflows, agents, executions with their steps,
//! attempts, outputs and events, schedules), behind one seam with a backend per database.
//!
//! The daemon never writes SQL itself: it holds a `Box<dyn Store>` ([`seam`]) and writes the
//! engine's changes through [`transition`], the one mapping from the engine's changes to
//! records and events, which every backend shares. Times are milliseconds since the Unix epoch
//! (UTC).

mod error;
mod records;
pub mod seam;
pub mod sqlite;
pub mod transition;

pub use error::StoreError;
pub use records::*;
pub use seam::{
    AgentReads, AgentWrites, ExecutionReads, ExecutionWrites, ScheduleReads, ScheduleWrites, Store,
    Tx, WorkflowReads, WorkflowWrites,
};
pub use sqlite::SCHEMA_VERSION;

/// Every trait of the seam, for `use do_store::prelude::*`: their methods are callable on a
/// `dyn Store` or `dyn Tx` only with them in scope.
pub mod prelude {
    pub use crate::seam::{
        AgentReads, AgentWrites, ExecutionReads, ExecutionWrites, ScheduleReads, ScheduleWrites,
        Store, Tx, WorkflowReads, WorkflowWrites,
    };
}
