//! The module interface: everything runbook knows about a module lives
//! behind [`Module`], so the loader, graph, executor and CLI name none.
//!
//! A module says which options it takes ([`ModuleSpec`]), checks them as
//! written, tells the graph where it acts and what it exports, imports and
//! manages ([`StaticFacts`]), runs ([`Call`] -> [`ModuleOutput`]), and says
//! how to undo itself for `destroy`. A [`Registry`] maps names to modules.

mod analysis;
mod call;
mod diagnostic;
mod registry;
pub mod schema;
pub mod text;

use indexmap::IndexMap;

pub use analysis::{
    not_known_yet, AccountKey, Analysis, Import, Known, KnownKeys, Owned, Placement,
    PlaybookImports, StaticFacts, REGION_PLACEHOLDER,
};
pub use call::{
    find_file, BoxFuture, Call, Fork, ModuleFailure, ModuleOutput, NoFork, PlaybookDir, Progress,
    ResultReads, Services,
};
pub use diagnostic::{Arg, ErrorKind, Focus, Location, PlaybookError};
pub use registry::{ModuleRef, Registry};

pub use schema::{ModuleSpec, OptionKind, OptionSpec};
pub use text::printable;

pub type Json = serde_json::Value;

/// What `no_log` tasks show instead of their output, as in Ansible.
pub const NO_LOG_MESSAGE: &str =
    "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

/// A module: one place for what runbook knows about it.
pub trait Module: Send + Sync + 'static {
    fn spec(&self) -> &'static ModuleSpec;

    /// Problems with the options as written that their types alone do not
    /// show (options that exclude each other). Values may hold templates.
    /// An error without a location is placed at the module's key.
    fn check(&self, _args: &IndexMap<String, Arg>) -> Vec<PlaybookError> {
        Vec::new()
    }

    /// Variables the task sets besides its `register` (set_fact's keys).
    fn sets_vars(&self, _args: &IndexMap<String, Arg>) -> Vec<String> {
        Vec::new()
    }

    /// What the graph must know before running.
    fn analyse(&self, _cx: &mut Analysis<'_>) -> StaticFacts {
        StaticFacts::default()
    }

    /// Runs the task, or in check mode says what it would do.
    fn run<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<ModuleOutput, ModuleFailure>>;

    /// A short label of where the task acts ("cicd 111111111111
    /// us-east-1"), shown beside its name.
    fn target_label(&self, _args: &IndexMap<String, Json>, _services: &Services) -> Option<String> {
        None
    }

    /// For `destroy`: a task of this module that undoes what a task with
    /// these (rendered) options made, or `None` when there is nothing to
    /// undo.
    fn teardown(&self, _args: &IndexMap<String, Json>) -> Option<Teardown> {
        None
    }
}

/// A task that undoes another (`destroy`).
#[derive(Debug, Clone, PartialEq)]
pub struct Teardown {
    /// The options of the undoing task, for the same module. Two tasks
    /// whose teardown options are equal undo the same thing: it is done
    /// once.
    pub args: IndexMap<String, Json>,
    /// What it does, shown as its name ("delete stack-a").
    pub name: String,
}
