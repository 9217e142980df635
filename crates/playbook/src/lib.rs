//! The playbook model: what a playbook file says, checked against what
//! runbook supports, with a position for every problem.
//!
//! Loading goes raw YAML -> [`Playbook`]; every unknown keyword, module or
//! option is an error naming it, never silently ignored.

pub mod extra_vars;
mod load;
pub mod loops;
mod model;
mod vars;

pub use load::{load, load_selected, Selection};
pub use model::{
    Block, BlockId, BlockPos, Deselected, Loop, LoopKind, Play, Playbook, RoleRef, Section, Task,
    TaskId, VarLayer, VarRank,
};
pub use runbook_module::{Arg, ErrorKind, Focus, Json, Location, PlaybookError};
pub use vars::MAGIC_VARS;
