//! The domain of `do`: workflow documents, their validation, and the execution state machine.
//!
//! Nothing here does I/O, so every rule can be tested without processes or a database.

pub mod engine;
pub mod expr;
pub mod model;
pub mod schedule;
mod suggest;
pub mod template;
pub mod validate;
pub mod workflow;
