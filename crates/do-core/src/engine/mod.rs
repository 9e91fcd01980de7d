//! The execution state machine: given the state of an execution and an event (a step started,
//! succeeded or failed), it computes the new state and the changes the daemon must make durable
//! and act on. It does no I/O: the daemon persists every [`Change`] before acting on it.
//!
//! Decisions the engine can take alone — which branch of a conditional runs, how many
//! iterations a loop has — are taken by [`ExecutionState::advance`], from the outputs it holds.

mod plan;
mod policy;
mod reach;
mod scope;
mod settle;
mod state;
#[cfg(test)]
mod tests;
mod transitions;

pub use plan::{Node, NodeKind, Plan, Runner};
pub use policy::{backoff_delay, retries};
pub use state::{Change, ExecutionState};

/// Index of a node in a [`Plan`].
pub type NodeId = usize;

/// The output name under which a loop's resolved items are stored, so that a restarted daemon
/// expands the loop the same way. `#` cannot appear in step ids or output names.
pub fn loop_items_key(loop_step_id: &str) -> String {
    format!("#items:{loop_step_id}")
}
