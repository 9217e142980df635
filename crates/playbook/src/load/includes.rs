//! `import_tasks`, `include_tasks`, `import_role`, `include_role` and
//! play `roles:`.
//!
//! All are read before running: their files, and the lists a looped
//! include goes over, must be known then (from vars, vars_files, role
//! defaults and `-e`, not from registered results). A looped include is
//! unrolled, one copy of its tasks per item, so that the graph can run the
//! items' tasks at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use runbook_yaml::{Mapping, Node, Value};

use super::tasks::include_kind;
use super::{Ctx, Loader, MAX_DEPTH};
use crate::model::{LoopKind, VarLayer, VarRank};
use crate::{ErrorKind, Json, Location};

/// Keywords an include or import takes besides its own key.
const INCLUDE_KEYWORDS: &[&str] = &["name", "when", "tags", "vars"];
const LOOP_KEYWORDS: &[&str] = &[
    "loop",
    "loop_control",
    "with_items",
    "with_list",
    "with_dict",
    "with_together",
    "with_sequence",
    "with_nested",
    "with_cartesian",
];

/// A role to read, as an entry of `roles:` or an `*_role` names it.
#[derive(Clone)]
pub(super) struct RoleCall {
    pub name: String,
    pub at: Location,
    pub tasks_from: Option<String>,
    pub vars_from: Option<String>,
    pub defaults_from: Option<String>,
    pub params: IndexMap<String, Json>,
    pub param_locations: IndexMap<String, Location>,
    /// Run once per play for the same parameters (`roles:` and
    /// dependencies, not `*_role`), unless the role allows duplicates.
    pub dedupe: bool,
    /// Its defaults and vars are seen by the whole play (`roles:`,
    /// `import_role`, `include_role` with `public: true`), as Ansible's
    /// default `private_role_vars: false` has it.
    pub public: bool,
}

impl Loader<'_> {
    pub(super) fn include(
        &mut self,
        node: &Node,
        map: &Mapping,
        key: &Node,
        kind: &'static str,
        ctx: &Ctx,
        play_vars: &Arc<IndexMap<String, Json>>,
    ) {
        let file = ctx.file.clone();
        let at = Self::loc(&file, key.span);
        if kind == "include" {
            self.error(
                ErrorKind::Unsupported,
                at,
                "`include` was removed from Ansible (2.16): use `include_tasks` or `import_tasks`",
            );
            return;
        }
        let dynamic = kind.starts_with("include_");
        let label = map
            .get("name")
            .map(|n| n.scalar_text())
            .unwrap_or_else(|| format!("{kind} at line {}", node.span.line));
        for (k, _) in map.iter() {
            let name = k.scalar_text();
            if include_kind(&name).is_some() || INCLUDE_KEYWORDS.contains(&name.as_str()) {
                continue;
            }
            if dynamic && LOOP_KEYWORDS.contains(&name.as_str()) {
                continue;
            }
            let err = self.error(
                ErrorKind::Unsupported,
                Self::loc(&file, k.span),
                if LOOP_KEYWORDS.contains(&name.as_str()) {
                    format!(
                        "`{kind}` cannot loop, as in Ansible: use `include_{}`",
                        &kind[7..]
                    )
                } else {
                    format!("`{name}` is not supported on `{kind}`")
                },
            );
            err.task = Some(label.clone());
            err.help = Some(format!(
                "`{kind}` takes: {}{}",
                INCLUDE_KEYWORDS.join(", "),
                if dynamic {
                    ", loop, loop_control and with_*"
                } else {
                    ""
                }
            ));
        }
        let value = map
            .iter()
            .find(|(k, _)| include_kind(&k.scalar_text()).is_some())
            .map(|(_, v)| v)
            .expect("the include key is in the map");
        let own_tags = self.tag_list(&file, map.get("tags"));
        let (vars, locations) =
            self.vars_mapping(&file, map.get("vars"), &format!("`vars` of {kind}"));
        let when = self.keyword_arg(&file, map, "when");

        // The file or role, and `apply` for a dynamic include.
        let (target, apply) = match self.include_target(kind, value, &file) {
            Some(t) => t,
            None => return,
        };
        let mut apply_tags = Vec::new();
        if let Some(apply) = apply {
            for (k, v) in apply.iter() {
                match k.scalar_text().as_str() {
                    "tags" => apply_tags = self.tag_list(&file, Some(v)),
                    other => {
                        let err = self.error(
                            ErrorKind::Unsupported,
                            Self::loc(&file, k.span),
                            format!("`apply: {other}` is not supported by runbook"),
                        );
                        err.task = Some(label.clone());
                        err.help = Some("runbook applies `tags` to included tasks".into());
                    }
                }
            }
        }

        let mut inner = ctx.clone();
        inner.depth += 1;
        if dynamic {
            inner.include_when.extend(when);
        } else {
            inner.when.extend(when);
        }
        if dynamic {
            // Tags on an include select the include, not what it includes.
            let mut gate = ctx.tags.clone();
            gate.extend(own_tags);
            inner.gates.push(gate);
            inner.tags.extend(apply_tags);
        } else {
            inner.tags.extend(own_tags);
        }
        if !vars.is_empty() {
            inner.layers.push(VarLayer {
                rank: VarRank::IncludeParams,
                vars: Arc::new(vars),
                locations: Arc::new(locations),
            });
        }

        let items = if dynamic {
            match self.include_loop(map, &inner, play_vars, &label) {
                Ok(items) => items,
                Err(()) => return,
            }
        } else {
            None
        };
        let copies: Vec<Ctx> = match items {
            None => vec![inner],
            Some((items, loop_var, index_var, extended, item_at)) => items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    let mut copy = inner.clone();
                    let mut vars = IndexMap::new();
                    let mut locations = IndexMap::new();
                    vars.insert(loop_var.clone(), item.clone());
                    locations.insert(loop_var.clone(), item_at.clone());
                    if let Some(index_var) = &index_var {
                        vars.insert(index_var.clone(), Json::from(index));
                        locations.insert(index_var.clone(), item_at.clone());
                    }
                    if extended {
                        vars.insert("ansible_loop".into(), crate::loops::extended(&items, index));
                        locations.insert("ansible_loop".into(), item_at.clone());
                    }
                    copy.layers.push(VarLayer {
                        rank: VarRank::LoopItem,
                        vars: Arc::new(vars),
                        locations: Arc::new(locations),
                    });
                    copy
                })
                .collect(),
        };
        for copy in copies {
            match &target {
                Target::Tasks(raw) => {
                    let Some(name) = self.static_text(raw, &copy, play_vars, &at, kind) else {
                        return;
                    };
                    self.task_file(&name, &copy, play_vars, &at, kind);
                }
                Target::Role(call) => {
                    let Some(name) = self.static_text(&call.name, &copy, play_vars, &at, kind)
                    else {
                        return;
                    };
                    let mut call = call.resolved(name);
                    for field in [
                        &mut call.tasks_from,
                        &mut call.vars_from,
                        &mut call.defaults_from,
                    ] {
                        if let Some(raw) = field.clone() {
                            *field = self.static_text(&raw, &copy, play_vars, &at, kind);
                        }
                    }
                    self.role(call, &copy, play_vars);
                }
            }
        }
    }

    /// What an include names: a task file (with `apply`) or a role.
    fn include_target<'n>(
        &mut self,
        kind: &str,
        value: &'n Node,
        file: &Arc<PathBuf>,
    ) -> Option<(Target, Option<&'n Mapping>)> {
        let at = Self::loc(file, value.span);
        if kind.ends_with("_tasks") {
            return match &value.value {
                Value::String(s) => Some((Target::Tasks(s.clone()), None)),
                Value::Map(m) => {
                    let mut apply = None;
                    let mut name = None;
                    for (k, v) in m.iter() {
                        match k.scalar_text().as_str() {
                            "file" | "_raw_params" => name = v.as_str().map(str::to_string),
                            "apply" if kind == "include_tasks" => apply = v.as_map(),
                            other => {
                                self.error(
                                    ErrorKind::Unsupported,
                                    Self::loc(file, k.span),
                                    format!(
                                        "`{kind}` option `{other}` is not supported by runbook"
                                    ),
                                );
                            }
                        }
                    }
                    match name {
                        Some(n) => Some((Target::Tasks(n), apply)),
                        None => {
                            self.schema(at, format!("`{kind}` needs a file name (`file:`)"));
                            None
                        }
                    }
                }
                _ => {
                    self.schema(
                        at,
                        format!("`{kind}` takes a file name, found {}", value.kind()),
                    );
                    None
                }
            };
        }
        let Some(m) = value.as_map() else {
            self.schema(
                at,
                format!(
                    "`{kind}` takes a mapping with the role's `name`, found {}",
                    value.kind()
                ),
            );
            return None;
        };
        let mut call = RoleCall::at(at.clone(), false, kind == "import_role");
        let mut apply = None;
        for (k, v) in m.iter() {
            let key = k.scalar_text();
            let text = || {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.scalar_text())
            };
            match key.as_str() {
                "name" | "role" => call.name = text(),
                "tasks_from" => call.tasks_from = Some(text()),
                "vars_from" => call.vars_from = Some(text()),
                "defaults_from" => call.defaults_from = Some(text()),
                // Deduplication is not done for these anyway; `public` is
                // what runbook does (docs/playbooks.md).
                "public" => call.public = v.as_bool().unwrap_or(false) || kind == "import_role",
                "allow_duplicates" => {}
                "apply" if kind == "include_role" => apply = v.as_map(),
                other => {
                    self.error(
                        ErrorKind::Unsupported,
                        Self::loc(file, k.span),
                        format!("`{kind}` option `{other}` is not supported by runbook"),
                    )
                    .help = Some("runbook takes name, tasks_from, vars_from, defaults_from, allow_duplicates, public and (include_role) apply".into());
                }
            }
        }
        if call.name.is_empty() {
            self.schema(at, format!("`{kind}` needs the role's `name`"));
            return None;
        }
        Some((Target::Role(Box::new(call)), apply))
    }

    /// A looped include's items, known before running; `Ok(None)` without
    /// a loop.
    #[allow(clippy::type_complexity)]
    fn include_loop(
        &mut self,
        map: &Mapping,
        ctx: &Ctx,
        play_vars: &Arc<IndexMap<String, Json>>,
        label: &str,
    ) -> Result<Option<(Vec<Json>, String, Option<String>, bool, Location)>, ()> {
        let file = ctx.file.clone();
        let found = map.iter().find_map(|(k, v)| {
            let name = k.scalar_text();
            let kind = match name.as_str() {
                "loop" => LoopKind::Loop,
                "with_items" => LoopKind::Items,
                "with_list" => LoopKind::List,
                "with_dict" => LoopKind::Dict,
                "with_together" => LoopKind::Together,
                "with_sequence" => LoopKind::Sequence,
                "with_nested" | "with_cartesian" => LoopKind::Nested,
                _ => return None,
            };
            Some((kind, v))
        });
        let Some((kind, value)) = found else {
            return Ok(None);
        };
        let at = Self::loc(&file, value.span);
        let rendered = match self.render_static(&value.to_json(), ctx, play_vars) {
            Ok(v) => v,
            Err(err) => {
                let e = self.error(
                    ErrorKind::Unsupported,
                    at,
                    format!("the list of a looped include must be known before running: {err}"),
                );
                e.task = Some(label.to_string());
                e.help = Some("loop over vars, vars_files, role defaults or -e values; to loop over a registered result, loop the task itself instead of an include".into());
                return Err(());
            }
        };
        let items = match crate::loops::items(kind, rendered) {
            Ok(items) => items,
            Err(why) => {
                let e = self.schema(at, format!("`{}`: {why}", kind.keyword()));
                e.task = Some(label.to_string());
                return Err(());
            }
        };
        let mut loop_var = "item".to_string();
        let mut index_var = None;
        let mut extended = false;
        if let Some(control) = map.get("loop_control").and_then(Node::as_map) {
            for (k, v) in control.iter() {
                match k.scalar_text().as_str() {
                    "loop_var" => loop_var = v.scalar_text(),
                    "index_var" => index_var = Some(v.scalar_text()),
                    "extended" => extended = v.as_bool().unwrap_or(false),
                    "label" | "pause" => {}
                    other => {
                        let e = self.error(
                            ErrorKind::Unsupported,
                            Self::loc(&file, k.span),
                            format!("`loop_control.{other}` is not supported by runbook"),
                        );
                        e.task = Some(label.to_string());
                    }
                }
            }
        }
        Ok(Some((
            items,
            loop_var,
            index_var,
            extended,
            Self::loc(&file, value.span),
        )))
    }

    /// Renders a name (file, role) at load time; reports why it cannot be.
    fn static_text(
        &mut self,
        raw: &str,
        ctx: &Ctx,
        play_vars: &Arc<IndexMap<String, Json>>,
        at: &Location,
        kind: &str,
    ) -> Option<String> {
        match self.render_static(&Json::String(raw.to_string()), ctx, play_vars) {
            Ok(Json::String(s)) => Some(s),
            Ok(other) => Some(other.to_string()),
            Err(err) => {
                self.error(
                    ErrorKind::Unsupported,
                    at.clone(),
                    format!("`{kind}: {raw}`: the name must be known before running: {err}"),
                )
                .help = Some("name included files and roles with vars, vars_files, role defaults or -e values".into());
                None
            }
        }
    }

    /// Reads a task file and loads its tasks in `ctx`.
    fn task_file(
        &mut self,
        name: &str,
        ctx: &Ctx,
        play_vars: &Arc<IndexMap<String, Json>>,
        at: &Location,
        kind: &str,
    ) {
        let candidates = self.task_file_candidates(name, ctx);
        let Some(path) = candidates.iter().find(|p| p.is_file()).cloned() else {
            self.error(
                ErrorKind::Io,
                at.clone(),
                format!(
                    "`{kind}: {name}`: no such file (looked at {})",
                    candidates
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            return;
        };
        if ctx.depth >= MAX_DEPTH || self.files.contains(&path) {
            let chain: Vec<String> = self
                .files
                .iter()
                .chain([&path])
                .map(|p| p.display().to_string())
                .collect();
            self.error(
                ErrorKind::Cycle,
                at.clone(),
                format!("`{kind}: {name}` includes itself: {}", chain.join(" -> ")),
            );
            return;
        }
        let Some(node) = self.read_yaml(&path, Some(at.clone()), "task file") else {
            return;
        };
        let mut inner = ctx.clone();
        inner.file = Arc::new(path.clone());
        inner.base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        self.files.push(path);
        self.task_list(&node, &inner, play_vars, "the task file");
        self.files.pop();
    }

    /// Where an included task file is looked for, in order: beside the
    /// including file, in the role's `tasks/`, beside the playbook.
    fn task_file_candidates(&self, name: &str, ctx: &Ctx) -> Vec<PathBuf> {
        let path = Path::new(name);
        if path.is_absolute() {
            return vec![path.to_path_buf()];
        }
        let mut out = vec![ctx.base.join(path)];
        if let Some(role) = &ctx.role {
            out.push(role.dir.join("tasks").join(path));
        }
        out.push(self.dir.join(path));
        out.dedup();
        out
    }

    /// A play's `roles:` list.
    pub(super) fn play_roles(
        &mut self,
        node: &Node,
        ctx: &Ctx,
        play_vars: &Arc<IndexMap<String, Json>>,
    ) {
        let file = ctx.file.clone();
        let Some(items) = node.as_seq() else {
            if !node.is_null() {
                self.schema(
                    Self::loc(&file, node.span),
                    format!("`roles` must be a list, found {}", node.kind()),
                );
            }
            return;
        };
        for item in items {
            let mut inner = ctx.clone();
            let Some(call) = self.role_entry(&file, item, &mut inner, RoleEntry::Play) else {
                continue;
            };
            let at = call.at.clone();
            let Some(name) = self.static_text(&call.name, &inner, play_vars, &at, "roles") else {
                continue;
            };
            self.role(call.resolved(name), &inner, play_vars);
        }
    }

    /// One entry of `roles:` or of a role's `dependencies:`: a name, or a
    /// mapping with `role:` (or `name:`), `when`, `tags`, `vars` and role
    /// parameters. Keywords a role entry cannot take in runbook are errors;
    /// `when` and `tags` go to `inner`.
    pub(super) fn role_entry(
        &mut self,
        file: &Arc<PathBuf>,
        item: &Node,
        inner: &mut Ctx,
        entry: RoleEntry,
    ) -> Option<RoleCall> {
        let at = Self::loc(file, item.span);
        let mut call = RoleCall::at(at.clone(), true, true);
        match &item.value {
            Value::String(name) => call.name = name.clone(),
            Value::Map(map) => {
                for (k, v) in map.iter() {
                    let key = k.scalar_text();
                    match key.as_str() {
                        "role" | "name" => call.name = v.scalar_text(),
                        "when" => inner.when.extend(self.keyword_arg(file, map, "when")),
                        "tags" => inner.tags.extend(self.tag_list(file, Some(v))),
                        "vars" => {
                            let (vars, locations) = self.vars_mapping(file, Some(v), entry.vars());
                            call.params.extend(vars);
                            call.param_locations.extend(locations);
                        }
                        "become" | "become_user" | "delegate_to" | "environment" | "no_log"
                        | "ignore_errors" | "connection" | "any_errors_fatal" => {
                            self.error(
                                ErrorKind::Unsupported,
                                Self::loc(file, k.span),
                                format!("`{key}` on a role is not supported by runbook"),
                            );
                        }
                        _ => {
                            // Anything else is a role parameter.
                            self.check_tags(file, v);
                            call.param_locations
                                .insert(key.clone(), Self::loc(file, k.span));
                            call.params.insert(key, v.to_json());
                        }
                    }
                }
            }
            _ => {
                self.schema(
                    at,
                    format!(
                        "{} must be {}, found {}",
                        entry.noun(),
                        entry.shapes(),
                        item.kind()
                    ),
                );
                return None;
            }
        }
        if call.name.is_empty() {
            self.schema(
                at,
                format!("{} needs `role:` (the role's name)", entry.noun()),
            );
            return None;
        }
        Some(call)
    }
}

/// What an include reads.
enum Target {
    Tasks(String),
    Role(Box<RoleCall>),
}

impl RoleCall {
    /// A call written at `at`, its name and options still to be read.
    pub(super) fn at(at: Location, dedupe: bool, public: bool) -> RoleCall {
        RoleCall {
            name: String::new(),
            at,
            tasks_from: None,
            vars_from: None,
            defaults_from: None,
            params: IndexMap::new(),
            param_locations: IndexMap::new(),
            dedupe,
            public,
        }
    }

    fn resolved(&self, name: String) -> RoleCall {
        RoleCall {
            name,
            ..self.clone()
        }
    }
}

/// Where a role entry is written (a play's `roles:` or a role's
/// `dependencies:`), for its messages.
#[derive(Clone, Copy)]
pub(super) enum RoleEntry {
    Play,
    Dependency,
}

impl RoleEntry {
    fn noun(self) -> &'static str {
        match self {
            RoleEntry::Play => "a `roles` entry",
            RoleEntry::Dependency => "a dependency",
        }
    }

    fn shapes(self) -> &'static str {
        match self {
            RoleEntry::Play => "a name or a mapping",
            RoleEntry::Dependency => "a role name or a mapping",
        }
    }

    fn vars(self) -> &'static str {
        match self {
            RoleEntry::Play => "role `vars`",
            RoleEntry::Dependency => "dependency `vars`",
        }
    }
}
