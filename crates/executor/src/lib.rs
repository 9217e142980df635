//! Walks the task graph concurrently.
//!
//! Scheduling (this crate) knows nothing of CloudFormation: a task starts as
//! soon as everything it waits for has finished, at most `forks` at a time;
//! its `when`, options, `changed_when`/`failed_when` and `register` are
//! handled here, and what the module does is the [`TaskRunner`]'s business.

mod builtins;
mod report;
mod runner;
mod task;
mod walk;

pub use report::{Event, Reporter, Status};
pub use runbook_graph::ResultReads;
pub use runner::{EventSink, ModuleFailure, ModuleOutput, TaskRequest, TaskRunner};
pub use walk::{run, RunOptions, RunSummary, TaskRecord};
