//! What the graph learns about a task before running: where it acts, what
//! it manages, the names it exports and imports.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use indexmap::IndexMap;
use runbook_template::{Engine, Scope, TemplateError, OMIT};

use crate::{Arg, Json, Location, PlaybookError};

/// The account a task talks to, as far as names tell before running: the
/// profile, region and endpoint. Two keys that differ may still be one
/// account; `apply` learns the real account ids during preflight.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountKey {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

impl AccountKey {
    /// The stand-in for an account id in names resolved before running:
    /// the same for every task of one key, so exports and imports of one
    /// account still match. `apply` replaces it with the real id.
    pub fn account_placeholder(&self) -> String {
        format!("<account of {self}>")
    }
}

/// The stand-in for the region of a task that names none.
pub const REGION_PLACEHOLDER: &str = "<region>";

impl fmt::Display for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.profile {
            Some(p) => write!(f, "profile {p}")?,
            None => write!(f, "default credentials")?,
        }
        if let Some(r) = &self.region {
            write!(f, ", {r}")?;
        }
        if let Some(e) = &self.endpoint_url {
            write!(f, ", {e}")?;
        }
        Ok(())
    }
}

/// Where a task acts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Placement {
    /// On the machine runbook runs on (set_fact, debug, ...).
    #[default]
    Local,
    /// In this account, known before running.
    Account(AccountKey),
    /// In an account that depends on another task's result.
    Later,
}

impl Placement {
    pub fn account(&self) -> Option<&AccountKey> {
        match self {
            Placement::Account(key) => Some(key),
            _ => None,
        }
    }
}

/// Something a task manages in its account (a stack). Two tasks that
/// manage the same thing keep their file order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Owned {
    /// What kind of thing ("stack", "stack set"); kinds never collide.
    pub kind: &'static str,
    pub name: String,
}

/// A name the task needs another task (or the account) to export.
#[derive(Debug, Clone)]
pub struct Import {
    pub name: String,
    pub location: Location,
}

/// What a module tells the graph about one task before anything runs.
#[derive(Clone, Default)]
pub struct StaticFacts {
    pub placement: Placement,
    pub owns: Vec<Owned>,
    /// Names it publishes in its account (CloudFormation exports).
    pub exports: Vec<String>,
    /// Names it needs in its account.
    pub imports: Vec<Import>,
    /// Variables it sets, when known before running (the keys of a file
    /// include_vars reads), besides `Module::sets_vars`.
    pub sets: Vec<String>,
    /// Files the module reads when it runs (a template by path): a saved
    /// plan checks none changed.
    pub inputs: Vec<std::path::PathBuf>,
    /// What the task wants of what it manages, when fully known before
    /// running: two tasks that manage one thing with different settings
    /// would change it back and forth on every run.
    pub settings: Option<Json>,
    /// Fields of the registered result whose keys are all known before
    /// running (a stack's outputs, from its template): the graph refuses
    /// a read of any other key.
    pub result_keys: Vec<KnownKeys>,
    /// Whatever else the module worked out (a parsed template), kept for
    /// its own later use.
    pub detail: Option<Arc<dyn Any + Send + Sync>>,
}

/// A field of a task's registered result that is a mapping with exactly
/// these keys whenever the task succeeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownKeys {
    /// The field (`stack_outputs`).
    pub field: String,
    /// Every key it will have.
    pub keys: std::collections::BTreeSet<String>,
    /// What a key is, for messages (`output`).
    pub noun: &'static str,
    /// What declares the keys, for messages (`its template topic.yml`).
    pub source: String,
}

impl fmt::Debug for StaticFacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticFacts")
            .field("placement", &self.placement)
            .field("owns", &self.owns)
            .field("exports", &self.exports)
            .field("imports", &self.imports)
            .field("result_keys", &self.result_keys)
            .finish_non_exhaustive()
    }
}

/// A value that may only be known once other tasks have run.
#[derive(Debug, Clone, PartialEq)]
pub enum Known<T> {
    Now(T),
    Later,
}

impl<T> Known<T> {
    pub fn now(self) -> Option<T> {
        match self {
            Known::Now(v) => Some(v),
            Known::Later => None,
        }
    }
}

/// What a module sees while the graph is built: the task's options as
/// written, a way to render those that do not depend on other tasks, and
/// where to report problems.
pub struct Analysis<'a> {
    pub engine: &'a Engine,
    pub scope: &'a Scope,
    pub args: &'a IndexMap<String, Arg>,
    /// The task's display name, for messages.
    pub task: &'a str,
    pub location: &'a Location,
    /// Where relative files are looked for (see `find_file`).
    pub search: &'a [std::path::PathBuf],
    errors: &'a mut Vec<PlaybookError>,
    warnings: &'a mut Vec<PlaybookError>,
}

impl<'a> Analysis<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        engine: &'a Engine,
        scope: &'a Scope,
        args: &'a IndexMap<String, Arg>,
        task: &'a str,
        location: &'a Location,
        search: &'a [std::path::PathBuf],
        errors: &'a mut Vec<PlaybookError>,
        warnings: &'a mut Vec<PlaybookError>,
    ) -> Self {
        Analysis {
            engine,
            scope,
            args,
            task,
            location,
            search,
            errors,
            warnings,
        }
    }

    /// Renders a value now if it does not depend on any task's result.
    /// Errors other than "not known yet" are reported.
    pub fn render_now(&mut self, arg: &Arg) -> Known<Json> {
        match self.engine.render(&arg.value, self.scope) {
            Ok(value) => Known::Now(value),
            Err(err) if not_known_yet(&err) => Known::Later,
            Err(err) => {
                let err = PlaybookError::template(&err).at(arg.location.clone());
                self.error(err);
                Known::Later
            }
        }
    }

    /// An option rendered now: `Now(None)` when absent or omitted.
    pub fn option_now(&mut self, name: &str) -> Known<Option<Json>> {
        let Some(arg) = self.args.get(name) else {
            return Known::Now(None);
        };
        match self.render_now(arg) {
            Known::Now(Json::Null) => Known::Now(None),
            Known::Now(Json::String(s)) if s == OMIT => Known::Now(None),
            Known::Now(value) => Known::Now(Some(value)),
            Known::Later => Known::Later,
        }
    }

    /// An option rendered now, as text.
    pub fn text_now(&mut self, name: &str) -> Known<Option<String>> {
        match self.option_now(name) {
            Known::Now(Some(Json::String(s))) => Known::Now(Some(s)),
            Known::Now(Some(other)) => Known::Now(Some(other.to_string())),
            Known::Now(None) => Known::Now(None),
            Known::Later => Known::Later,
        }
    }

    /// Reports a problem that must stop the run; the task is named.
    pub fn error(&mut self, err: PlaybookError) {
        let err = self.locate(err);
        self.errors.push(err);
    }

    /// Reports a problem that does not stop the run.
    pub fn warn(&mut self, err: PlaybookError) {
        let err = self.locate(err);
        self.warnings.push(err);
    }

    fn locate(&self, mut err: PlaybookError) -> PlaybookError {
        if err.location.is_none() {
            err.location = Some(self.location.clone());
        }
        if err.task.is_none() {
            err.task = Some(self.task.to_string());
        }
        err
    }
}

/// Whether a render failed only because a value is unknown until another
/// task has run, or undefined (reported by the graph's variable check with
/// a better message).
pub fn not_known_yet(err: &TemplateError) -> bool {
    matches!(
        err,
        TemplateError::Undefined { .. }
            | TemplateError::UndefinedValue { .. }
            | TemplateError::Recursive { .. }
    )
}

/// Which tasks of the playbook import each name, per account: a module
/// about to remove or change an export can tell who would break. The run
/// provides it through `Services`.
#[derive(Debug, Clone, Default)]
pub struct PlaybookImports {
    by_account: std::collections::HashMap<AccountKey, IndexMap<String, Vec<String>>>,
}

impl PlaybookImports {
    pub fn add(&mut self, account: AccountKey, name: String, task: String) {
        let tasks = self
            .by_account
            .entry(account)
            .or_default()
            .entry(name)
            .or_default();
        if !tasks.contains(&task) {
            tasks.push(task);
        }
    }

    /// The tasks that import `name` in the account behind `target` (its
    /// profile, region and endpoint as the task named them).
    pub fn importers(&self, account: &AccountKey, name: &str) -> &[String] {
        self.by_account
            .get(account)
            .and_then(|names| names.get(name))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}
