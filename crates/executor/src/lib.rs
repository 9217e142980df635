//! Walks the task graph concurrently.
//!
//! Scheduling (this crate) knows no module by name: a task starts as soon
//! as everything it waits for has finished, at most `forks` at a time; its
//! `when`, options, `changed_when`/`failed_when` and `register` are
//! handled here, and what it does is its module's business
//! (`runbook_module::Module::run`).

mod fork;
mod progress;
mod report;
mod saved;
mod stop;
mod task;
mod walk;

pub use report::{Event, Reporter, Status};
pub use saved::{args_digest, SavedItem, SavedRun, SavedTask};
pub use stop::Stop;
pub use task::ItemRecord;
pub use walk::{run, RunOptions, RunSummary, TaskRecord};
