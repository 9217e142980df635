//! One run of a module: what it is given and what it gives back.

use std::any::{Any, TypeId};
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use indexmap::IndexMap;
use runbook_template::{Engine, Scope};

use crate::Json;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the playbook may read of one task's registered result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultReads {
    /// Only these top-level fields (`r.stack_outputs.X` reads
    /// `stack_outputs`); empty when nothing reads it.
    Fields(BTreeSet<String>),
    /// The whole result may be read (`debug: var=r`, `r is changed`,
    /// `r[key]`).
    Anything,
}

impl ResultReads {
    pub fn nothing() -> Self {
        ResultReads::Fields(BTreeSet::new())
    }

    pub fn may_read(&self, field: &str) -> bool {
        match self {
            ResultReads::Fields(fields) => fields.contains(field),
            ResultReads::Anything => true,
        }
    }
}

/// Where a running task reports what happens inside it (a stack event, a
/// wait). Must be cheap and must not block.
pub trait Progress: Send + Sync {
    fn progress(&self, message: String);

    /// Whether progress is shown at all: a module may skip calls whose
    /// only use is progress (stack events), when nobody watches.
    fn wants(&self) -> bool {
        true
    }
}

/// A task's share of `--forks`. A module that only waits on something
/// outside (CloudFormation working on a stack) gives it back meanwhile, so
/// that a wide level of the graph does not run in waves of `--forks`; it
/// takes one again before it goes on.
pub trait Fork: Send + Sync {
    /// Gives the fork back; nothing when it is not held.
    fn release(&self);
    /// Takes a fork again, waiting for one; nothing when it is held.
    fn reacquire(&self) -> BoxFuture<'_, ()>;
}

/// The fork of a call made outside a run (tests, tools): nothing to give.
pub struct NoFork;

impl Fork for NoFork {
    fn release(&self) {}

    fn reacquire(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// The shared things a run gives its modules (the AWS client pool and
/// caches), by type, so that the executor passes them on without knowing
/// what they are.
#[derive(Clone, Default)]
pub struct Services {
    by_type: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl Services {
    pub fn new() -> Self {
        Services::default()
    }

    pub fn with<T: Any + Send + Sync>(mut self, service: Arc<T>) -> Self {
        self.by_type.insert(TypeId::of::<T>(), service);
        self
    }

    pub fn get<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.by_type
            .get(&TypeId::of::<T>())
            .cloned()
            .and_then(|s| s.downcast::<T>().ok())
    }
}

/// One task, its options rendered, ready for its module.
pub struct Call<'a> {
    /// Rendered options; options that rendered to `omit` are dropped.
    pub args: IndexMap<String, Json>,
    /// Make no change: say what would be done.
    pub check: bool,
    /// Show what changes in detail (`--diff`): resource by resource, and
    /// the template text.
    pub diff: bool,
    /// The task's output must not be shown (`no_log`).
    pub no_log: bool,
    /// The `-v` count.
    pub verbosity: u8,
    /// What the playbook may read of the result: a module may skip calls
    /// that only fill fields nobody reads.
    pub reads: &'a ResultReads,
    /// The task's variables, for modules that evaluate expressions.
    pub engine: &'a Engine,
    pub scope: &'a Scope,
    /// Where relative files (templates) are looked for, in order: a
    /// role's directory, then the playbook's (see [`find_file`]).
    pub search: &'a [PathBuf],
    pub progress: &'a dyn Progress,
    /// The task's fork, to give back while it only waits.
    pub fork: &'a dyn Fork,
    pub services: &'a Services,
    /// When replaying a saved plan: the plan this task made then
    /// (`ModuleOutput::plan`); the module refuses to act if what it was
    /// made from (a live stack) has moved since.
    pub expected: Option<&'a Json>,
}

/// What a module reports back.
#[derive(Debug, Clone, Default)]
pub struct ModuleOutput {
    pub changed: bool,
    /// Fields of the registered result (besides `changed` and `failed`).
    pub result: serde_json::Map<String, Json>,
    /// Variables the task sets (set_fact).
    pub facts: IndexMap<String, Json>,
    /// A line to show (debug output, "stack created").
    pub message: Option<String>,
    /// More lines to show with -v or in check mode.
    pub details: Vec<String>,
    /// What the module plans (or did), as data for reports; secrets
    /// already hidden.
    pub plan: Option<Json>,
    /// Risks a reviewer must see (data lost by a replacement or removal),
    /// repeated at the end of the run.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ModuleFailure {
    pub message: String,
    /// Fields of the registered result, if the module has any to give.
    pub result: serde_json::Map<String, Json>,
    pub details: Vec<String>,
}

impl ModuleFailure {
    pub fn new(message: impl Into<String>) -> Self {
        ModuleFailure {
            message: message.into(),
            ..Default::default()
        }
    }
}

/// Where [`find_file`] looks in the playbook's directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaybookDir {
    /// Only the directory itself (a cloudformation `template`).
    Only,
    /// Its subdirectories first, as in a role (`include_vars`'s `vars/`).
    WithSubdirs,
}

/// Finds a relative file the way Ansible finds a role's files: in a
/// role's directory, each of `subdirs` (`files`, `templates`, `vars`) then
/// the directory itself; last, the playbook's directory (the last of
/// `search`). Returns the first that exists, or every place looked at.
pub fn find_file(
    search: &[PathBuf],
    rel: &str,
    subdirs: &[&str],
    playbook_dir: PlaybookDir,
) -> Result<PathBuf, Vec<PathBuf>> {
    let path = Path::new(rel);
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let mut looked = Vec::new();
    for (i, dir) in search.iter().enumerate() {
        if i + 1 < search.len() || playbook_dir == PlaybookDir::WithSubdirs {
            for sub in subdirs {
                looked.push(dir.join(sub).join(path));
            }
        }
        looked.push(dir.join(path));
    }
    match looked.iter().find(|p| p.is_file()) {
        Some(found) => Ok(found.clone()),
        None => Err(looked),
    }
}
