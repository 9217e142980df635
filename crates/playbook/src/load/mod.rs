//! Loading: YAML files -> [`Playbook`], every import, role and block
//! expanded, every problem found reported with its place.
//!
//! - `plays.rs`: plays, `import_playbook`, play keywords, vars_files.
//! - `tasks.rs`: task lists, blocks, tasks, loops, module options.
//! - `includes.rs`: `import_tasks`, `include_tasks`, `import_role`,
//!   `include_role` and play `roles:`.
//! - `roles.rs`: finding a role and reading its files.
//! - `select.rs`: `--tags`, `--skip-tags`, `--start-at-task`.

mod includes;
mod plays;
mod roles;
mod select;
mod tasks;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use runbook_module::Registry;
use runbook_template::{Engine, Layer, Scope};
use runbook_yaml::{Node, Span, Value};

use crate::extra_vars::is_identifier;
use crate::model::{Block, BlockPos, Play, Playbook, RoleRef, Task, VarLayer, VarRank};
use crate::Arg;
use crate::{ErrorKind, Json, Location, PlaybookError};

pub use select::Selection;

/// Loads and checks a playbook against the modules of `registry`.
/// `extra_vars` are needed to resolve templated paths (`vars_files`,
/// includes, roles). Every problem found is returned, not just the first.
pub fn load(
    path: &Path,
    extra_vars: &IndexMap<String, Json>,
    registry: &Registry,
) -> Result<Playbook, Vec<PlaybookError>> {
    load_selected(path, extra_vars, registry, &Selection::default())
}

/// [`load`], keeping only the tasks that `selection` picks.
pub fn load_selected(
    path: &Path,
    extra_vars: &IndexMap<String, Json>,
    registry: &Registry,
    selection: &Selection,
) -> Result<Playbook, Vec<PlaybookError>> {
    let file = Arc::new(path.to_path_buf());
    let dir = parent_dir(path);
    let mut loader = Loader {
        dir: dir.clone(),
        extra_vars,
        registry,
        engine: Engine::new(&dir),
        errors: Vec::new(),
        plays: Vec::new(),
        tasks: Vec::new(),
        blocks: Vec::new(),
        selection_info: Vec::new(),
        files: Vec::new(),
        roles_path: roles::roles_path(&dir),
        roles_seen: Default::default(),
        exported: Vec::new(),
        sources: vec![path.to_path_buf()],
    };
    let source = std::fs::read_to_string(path).map_err(|e| {
        vec![PlaybookError::new(
            ErrorKind::Io,
            format!("cannot read playbook {}: {e}", path.display()),
        )]
    })?;
    loader.playbook(&source, file, &plays::Imported::default());
    if loader.plays.is_empty() && loader.errors.is_empty() {
        loader.errors.push(
            PlaybookError::new(ErrorKind::Schema, "the playbook has no plays")
                .at(Location::start(Arc::new(path.to_path_buf()))),
        );
    }
    if !loader.errors.is_empty() {
        return Err(loader.errors);
    }
    let mut playbook = Playbook {
        path: Arc::new(path.to_path_buf()),
        dir,
        plays: loader.plays,
        tasks: loader.tasks,
        blocks: loader.blocks,
        deselected: Vec::new(),
        sources: loader.sources,
    };
    select::apply(&mut playbook, &loader.selection_info, selection)?;
    Ok(playbook)
}

fn parent_dir(path: &Path) -> PathBuf {
    path.parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// What a task inherits from where it is written: the enclosing blocks,
/// includes, roles and play.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub file: Arc<PathBuf>,
    /// The directory relative task files are looked for first.
    pub base: PathBuf,
    pub play: usize,
    pub when: Vec<Arg>,
    pub include_when: Vec<Arg>,
    pub tags: Vec<String>,
    /// The tags of each enclosing `include_*`: each must be selected for
    /// the task to run, but does not tag it.
    pub gates: Vec<Vec<String>>,
    pub layers: Vec<VarLayer>,
    pub ignore_errors: Option<Arg>,
    pub no_log: Option<Arg>,
    pub block: Option<BlockPos>,
    pub role: Option<Arc<RoleRef>>,
    pub search: Arc<Vec<PathBuf>>,
    pub defaults: Arc<IndexMap<&'static str, IndexMap<String, Arg>>>,
    /// Files being read, for include cycles.
    pub depth: usize,
}

/// What tag selection needs to know about a task.
#[derive(Debug, Clone, Default)]
pub(crate) struct SelectionInfo {
    pub gates: Vec<Vec<String>>,
}

/// Includes nested deeper than this are a cycle (Ansible has no limit but
/// the stack).
const MAX_DEPTH: usize = 32;

pub(crate) struct Loader<'a> {
    /// The top playbook's directory.
    dir: PathBuf,
    extra_vars: &'a IndexMap<String, Json>,
    registry: &'a Registry,
    engine: Engine,
    errors: Vec<PlaybookError>,
    plays: Vec<Play>,
    tasks: Vec<Task>,
    blocks: Vec<Block>,
    selection_info: Vec<SelectionInfo>,
    /// Playbook and task files being read, innermost last.
    files: Vec<PathBuf>,
    roles_path: Vec<PathBuf>,
    /// Roles already run in a play, by (play, directory, parameters).
    roles_seen: std::collections::HashSet<(usize, PathBuf, String)>,
    /// Defaults and vars of the current play's public roles.
    exported: Vec<VarLayer>,
    /// Every file read.
    sources: Vec<PathBuf>,
}

impl Loader<'_> {
    fn loc(file: &Arc<PathBuf>, span: Span) -> Location {
        Location {
            file: file.clone(),
            span,
        }
    }

    fn error(
        &mut self,
        kind: ErrorKind,
        at: Location,
        message: impl Into<String>,
    ) -> &mut PlaybookError {
        self.errors.push(PlaybookError::new(kind, message).at(at));
        self.errors.last_mut().expect("just pushed")
    }

    fn schema(&mut self, at: Location, message: impl Into<String>) -> &mut PlaybookError {
        self.error(ErrorKind::Schema, at, message)
    }

    /// Reads and parses a YAML file, reporting problems; `None` on error.
    fn read_yaml(&mut self, path: &Path, from: Option<Location>, what: &str) -> Option<Node> {
        if !self.sources.iter().any(|p| p == path) {
            self.sources.push(path.to_path_buf());
        }
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                let err = PlaybookError::new(
                    ErrorKind::Io,
                    format!("cannot read {what} {}: {e}", path.display()),
                );
                self.errors.push(match from {
                    Some(at) => err.at(at),
                    None => err,
                });
                return None;
            }
        };
        match runbook_yaml::parse(&text) {
            Ok(node) => Some(node),
            Err(e) => {
                self.errors.push(
                    PlaybookError::new(
                        ErrorKind::Syntax,
                        format!("YAML syntax error: {}", e.message),
                    )
                    .at(Location {
                        file: Arc::new(path.to_path_buf()),
                        span: e.span,
                    }),
                );
                None
            }
        }
    }

    /// Playbooks have no use for YAML tags but Ansible's own (`!unsafe`,
    /// `!vault`), which runbook does not support; say so.
    fn check_tags(&mut self, file: &Arc<PathBuf>, node: &Node) {
        if let Some(tag) = &node.tag {
            self.error(
                ErrorKind::Unsupported,
                Self::loc(file, node.span),
                format!("YAML tag `{tag}` is not supported in playbooks"),
            );
        }
        match &node.value {
            Value::Seq(items) => items.iter().for_each(|n| self.check_tags(file, n)),
            Value::Map(map) => map.iter().for_each(|(_, v)| self.check_tags(file, v)),
            _ => {}
        }
    }

    /// A mapping of variables (play, block, task, include `vars`).
    fn vars_mapping(
        &mut self,
        file: &Arc<PathBuf>,
        node: Option<&Node>,
        what: &str,
    ) -> (IndexMap<String, Json>, IndexMap<String, Location>) {
        let mut vars = IndexMap::new();
        let mut locations = IndexMap::new();
        let Some(node) = node.filter(|n| !n.is_null()) else {
            return (vars, locations);
        };
        let Some(map) = node.as_map() else {
            self.schema(
                Self::loc(file, node.span),
                format!("{what} must be a mapping, found {}", node.kind()),
            );
            return (vars, locations);
        };
        for (key, value) in map.iter() {
            let name = key.scalar_text();
            // Ansible reads keys as YAML 1.1 does: an unquoted `on`, `yes` or
            // `no` is a boolean, and no variable name.
            if let Value::Bool(b) = key.value {
                self.schema(
                    Self::loc(file, key.span),
                    format!("this key is the boolean {b} in YAML 1.1, as Ansible reads it (unquoted `on`, `off`, `yes`, `no`, `true`, `false`), not a variable name: quote it or choose another name"),
                );
                continue;
            }
            if !is_identifier(&name) {
                self.schema(
                    Self::loc(file, key.span),
                    format!("`{name}` is not a valid variable name"),
                );
                continue;
            }
            self.check_tags(file, value);
            locations.insert(name.clone(), Self::loc(file, key.span));
            vars.insert(name, value.to_json());
        }
        (vars, locations)
    }

    /// A variables file (vars_files, a role's defaults or vars): a mapping,
    /// or nothing.
    fn vars_file(
        &mut self,
        path: &Path,
        from: Option<Location>,
        vars: &mut IndexMap<String, Json>,
        locations: &mut IndexMap<String, Location>,
    ) {
        let Some(doc) = self.read_yaml(path, from, "vars file") else {
            return;
        };
        let file = Arc::new(path.to_path_buf());
        match doc.as_map() {
            Some(map) => {
                for (key, value) in map.iter() {
                    let name = key.scalar_text();
                    locations.insert(name.clone(), Self::loc(&file, key.span));
                    vars.insert(name, value.to_json());
                }
            }
            None if doc.is_null() => {}
            None => {
                self.schema(
                    Self::loc(&file, doc.span),
                    format!("a vars file must be a mapping, found {}", doc.kind()),
                );
            }
        }
    }

    /// The scope a load-time template (a file name, a role name, a loop
    /// list of an include) is rendered in: extra vars, what the context
    /// inherits, and the play vars. Facts do not exist yet.
    fn static_scope(&self, ctx: &Ctx, play_vars: &Arc<IndexMap<String, Json>>) -> Scope {
        let mut scope = Scope::new();
        let rank = |r: VarRank| {
            ctx.layers
                .iter()
                .rev()
                .filter(move |l| l.rank == r)
                .map(|l| Layer::shared(l.vars.clone(), true))
        };
        for layer in rank(VarRank::LoopItem) {
            scope.push_lower(layer);
        }
        scope.push_lower(Layer::templated(self.extra_vars.clone()));
        for r in [
            VarRank::IncludeParams,
            VarRank::RoleParams,
            VarRank::BlockVars,
            VarRank::RoleVars,
        ] {
            for layer in rank(r) {
                scope.push_lower(layer);
            }
        }
        scope.push_lower(Layer::shared(play_vars.clone(), true));
        for layer in rank(VarRank::RoleDefaults) {
            scope.push_lower(layer);
        }
        scope.push_lower(Layer::concrete(crate::vars::static_magic(
            &self.dir,
            ctx.role.as_deref(),
        )));
        scope
    }

    /// Renders a value at load time; the error says why it cannot be.
    fn render_static(
        &self,
        value: &Json,
        ctx: &Ctx,
        play_vars: &Arc<IndexMap<String, Json>>,
    ) -> Result<Json, runbook_template::TemplateError> {
        if !has_template(value) {
            return Ok(value.clone());
        }
        self.engine
            .render(value, &self.static_scope(ctx, play_vars))
    }
}

/// Whether a value holds a Jinja template anywhere.
pub(crate) fn has_template(value: &Json) -> bool {
    match value {
        Json::String(s) => s.contains("{{") || s.contains("{%"),
        Json::Array(items) => items.iter().any(has_template),
        Json::Object(map) => map.values().any(has_template),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
