//! The playbook model: what a playbook file says, checked against what
//! runbook supports, with a position for every problem.
//!
//! Loading goes raw YAML -> [`Playbook`]; every unknown keyword, module or
//! option is an error naming it, never silently ignored.

pub mod extra_vars;
mod load;
mod model;
mod vars;

pub use load::load;
pub use model::{Play, Playbook, Task, TaskId};
pub use runbook_module::{Arg, ErrorKind, Json, Location, PlaybookError};
pub use vars::MAGIC_VARS;
