//! The playbook model: what a playbook file says, checked against what
//! runbook supports, with a position for every problem.
//!
//! Loading goes raw YAML -> [`Playbook`]; every unknown keyword, module or
//! option is an error naming it, never silently ignored.

mod error;
pub mod extra_vars;
mod load;
mod model;
pub mod modules;
mod vars;

pub use error::{ErrorKind, Location, PlaybookError};
pub use load::load;
pub use model::{Arg, Play, Playbook, Task, TaskId};
pub use modules::{ModuleKind, ModuleSpec, OptionKind, OptionSpec};
pub use vars::MAGIC_VARS;

pub type Json = serde_json::Value;
