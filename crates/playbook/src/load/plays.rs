//! Plays and `import_playbook`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use runbook_module::schema::suggest;
use runbook_module::ModuleRef;
use runbook_yaml::{Mapping, Node, Value};

use super::{Ctx, Loader, MAX_DEPTH};
use crate::model::Play;
use crate::Arg;
use crate::{ErrorKind, Json, Location};

const PLAY_KEYS: &[&str] = &[
    "name",
    "hosts",
    "gather_facts",
    "vars",
    "vars_files",
    "tasks",
    "pre_tasks",
    "post_tasks",
    "roles",
    "module_defaults",
    "connection",
    "collections",
    "tags",
];

/// What an `import_playbook` passes on to the plays it imports.
#[derive(Clone, Default)]
pub(crate) struct Imported {
    pub vars: IndexMap<String, Json>,
    pub var_locations: IndexMap<String, Location>,
    pub when: Vec<Arg>,
    pub tags: Vec<String>,
    pub depth: usize,
}

impl Loader<'_> {
    /// A playbook file: a list of plays and `import_playbook` entries.
    pub(super) fn playbook(&mut self, source: &str, file: Arc<PathBuf>, imported: &Imported) {
        let root = match runbook_yaml::parse(source) {
            Ok(root) => root,
            Err(e) => {
                self.error(
                    ErrorKind::Syntax,
                    Self::loc(&file, e.span),
                    format!("YAML syntax error: {}", e.message),
                );
                return;
            }
        };
        let Some(items) = root.as_seq() else {
            self.schema(
                Self::loc(&file, root.span),
                format!("a playbook must be a list of plays, found {}", root.kind()),
            );
            return;
        };
        self.files.push(file.to_path_buf());
        for item in items {
            let import = item.as_map().and_then(|m| {
                m.entry("import_playbook")
                    .or(m.entry("ansible.builtin.import_playbook"))
            });
            match import {
                Some((key, value)) => {
                    let map = item.as_map().expect("checked above");
                    self.import_playbook(&file, map, key, value, imported);
                }
                None => self.play(item, &file, imported),
            }
        }
        self.files.pop();
    }

    fn import_playbook(
        &mut self,
        file: &Arc<PathBuf>,
        map: &Mapping,
        key: &Node,
        value: &Node,
        imported: &Imported,
    ) {
        let at = Self::loc(file, key.span);
        for (k, _) in map.iter() {
            let name = k.scalar_text();
            if !matches!(
                name.as_str(),
                "import_playbook"
                    | "ansible.builtin.import_playbook"
                    | "name"
                    | "vars"
                    | "tags"
                    | "when"
            ) {
                self.error(
                    ErrorKind::Unsupported,
                    Self::loc(file, k.span),
                    format!("`{name}` is not supported on `import_playbook`"),
                )
                .help = Some("`import_playbook` takes `name`, `vars`, `tags` and `when`".into());
            }
        }
        let Some(raw) = value.as_str() else {
            self.schema(
                Self::loc(file, value.span),
                format!(
                    "`import_playbook` takes a file name, found {}",
                    value.kind()
                ),
            );
            return;
        };
        // Only extra vars exist when playbooks are imported.
        let ctx = self.bare_ctx(file);
        let empty = Arc::new(imported.vars.clone());
        let name = match self.render_static(&Json::String(raw.to_string()), &ctx, &empty) {
            Ok(Json::String(s)) => s,
            Ok(other) => other.to_string(),
            Err(err) => {
                self.error(
                    ErrorKind::Template,
                    Self::loc(file, value.span),
                    format!("`import_playbook: {raw}`: {err}"),
                )
                .help = Some("an imported playbook's name can only use extra vars (-e)".into());
                return;
            }
        };
        let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let path = base.join(&name);
        if imported.depth >= MAX_DEPTH || self.files.contains(&path) {
            self.error(
                ErrorKind::Cycle,
                at,
                format!(
                    "`import_playbook: {name}` imports a playbook that is already being imported"
                ),
            );
            return;
        }
        let source = match std::fs::read_to_string(&path) {
            Ok(s) => s,
            Err(e) => {
                self.error(
                    ErrorKind::Io,
                    Self::loc(file, value.span),
                    format!("cannot read imported playbook {}: {e}", path.display()),
                )
                .help = Some(
                    "an imported playbook is found from the importing playbook's directory".into(),
                );
                return;
            }
        };
        self.sources.push(path.clone());
        let mut inner = imported.clone();
        inner.depth += 1;
        let (vars, locations) =
            self.vars_mapping(file, map.get("vars"), "`vars` of import_playbook");
        inner.vars.extend(vars);
        inner.var_locations.extend(locations);
        inner.tags.extend(self.tag_list(file, map.get("tags")));
        if let Some((k, v)) = map.entry("when") {
            inner.when.push(Arg {
                value: v.to_json(),
                location: Self::loc(file, if v.is_null() { k.span } else { v.span }),
            });
        }
        self.playbook(&source, Arc::new(path), &inner);
    }

    /// A context with nothing inherited, for load-time rendering.
    pub(super) fn bare_ctx(&self, file: &Arc<PathBuf>) -> Ctx {
        Ctx {
            file: file.clone(),
            base: file.parent().map(Path::to_path_buf).unwrap_or_default(),
            play: self.plays.len(),
            when: Vec::new(),
            include_when: Vec::new(),
            tags: Vec::new(),
            gates: Vec::new(),
            layers: Vec::new(),
            ignore_errors: None,
            no_log: None,
            block: None,
            role: None,
            search: Arc::new(vec![self.dir.clone()]),
            defaults: Arc::new(IndexMap::new()),
            depth: 0,
        }
    }

    fn play(&mut self, node: &Node, file: &Arc<PathBuf>, imported: &Imported) {
        let index = self.plays.len();
        let Some(map) = node.as_map() else {
            self.schema(
                Self::loc(file, node.span),
                format!("a play must be a mapping, found {}", node.kind()),
            );
            return;
        };
        for (key, value) in map.iter() {
            let name = key.scalar_text();
            if PLAY_KEYS.contains(&name.as_str()) {
                if name == "connection" && value.as_str() != Some("local") {
                    self.error(
                        ErrorKind::Unsupported,
                        Self::loc(file, value.span),
                        format!(
                            "`connection: {}`: runbook runs plays locally",
                            value.scalar_text()
                        ),
                    )
                    .help = Some("use `connection: local`, or leave it out".into());
                }
                continue;
            }
            match name.as_str() {
                "handlers" => {
                    self.error(
                        ErrorKind::Unsupported,
                        Self::loc(file, key.span),
                        format!("play keyword `{name}` is not supported by runbook yet"),
                    )
                    .help = Some("list the work under `tasks`".into());
                }
                _ => {
                    let hint = suggest(&name, PLAY_KEYS.iter().copied());
                    let err = self.schema(
                        Self::loc(file, key.span),
                        format!("unknown or unsupported play keyword `{name}`"),
                    );
                    err.help = Some(match hint {
                        Some(h) => format!(
                            "did you mean `{h}`? runbook plays accept: {}",
                            PLAY_KEYS.join(", ")
                        ),
                        None => format!("runbook plays accept: {}", PLAY_KEYS.join(", ")),
                    });
                }
            }
        }
        let name = map.get("name").map(|n| n.scalar_text());
        self.hosts(file, map, node);
        let gather_facts = match map.get("gather_facts") {
            None => true,
            Some(n) => match &n.value {
                Value::Bool(b) => *b,
                _ => {
                    self.schema(
                        Self::loc(file, n.span),
                        format!("`gather_facts` must be a boolean, found {}", n.kind()),
                    );
                    false
                }
            },
        };
        let mut vars = imported.vars.clone();
        let mut var_locations = imported.var_locations.clone();
        let (own, own_locations) = self.vars_mapping(file, map.get("vars"), "play `vars`");
        vars.extend(own);
        var_locations.extend(own_locations);
        self.vars_files(file, map.get("vars_files"), &mut vars, &mut var_locations);
        let module_defaults = self.module_defaults(file, map.get("module_defaults"));
        let vars = Arc::new(vars);
        self.plays.push(Play {
            index,
            name,
            location: Self::loc(file, node.span),
            gather_facts,
            vars: vars.clone(),
            var_locations,
            module_defaults: module_defaults.clone(),
            tasks: Vec::new(),
            role_layers: Vec::new(),
        });
        let mut tags = imported.tags.clone();
        tags.extend(self.tag_list(file, map.get("tags")));
        let ctx = Ctx {
            file: file.clone(),
            base: file.parent().map(Path::to_path_buf).unwrap_or_default(),
            play: index,
            when: imported.when.clone(),
            include_when: Vec::new(),
            tags,
            gates: Vec::new(),
            layers: Vec::new(),
            ignore_errors: None,
            no_log: None,
            block: None,
            role: None,
            search: Arc::new(vec![self.dir.clone()]),
            defaults: Arc::new(module_defaults),
            depth: imported.depth,
        };
        let first = self.tasks.len();
        // Ansible's order: pre_tasks, roles, tasks, post_tasks.
        if let Some(pre) = map.get("pre_tasks") {
            self.task_list(pre, &ctx, &vars, "pre_tasks");
        }
        if let Some(roles) = map.get("roles") {
            self.play_roles(roles, &ctx, &vars);
        }
        if let Some(tasks) = map.get("tasks") {
            self.task_list(tasks, &ctx, &vars, "tasks");
        }
        if let Some(post) = map.get("post_tasks") {
            self.task_list(post, &ctx, &vars, "post_tasks");
        }
        let ids: Vec<usize> = (first..self.tasks.len()).collect();
        let exported = std::mem::take(&mut self.exported);
        if let Some(play) = self.plays.get_mut(index) {
            play.tasks = ids;
            play.role_layers = exported;
        }
    }

    fn hosts(&mut self, file: &Arc<PathBuf>, map: &Mapping, play: &Node) {
        let Some(hosts) = map.get("hosts") else {
            self.schema(Self::loc(file, play.span), "the play has no `hosts`")
                .help = Some("runbook runs plays on localhost: add `hosts: localhost`".into());
            return;
        };
        let names: Vec<String> = match &hosts.value {
            Value::String(s) => s.split(',').map(|h| h.trim().to_string()).collect(),
            Value::Seq(items) => items.iter().map(|h| h.scalar_text()).collect(),
            _ => vec![hosts.scalar_text()],
        };
        for host in names {
            if !matches!(host.as_str(), "localhost" | "127.0.0.1") {
                self.error(
                    ErrorKind::Unsupported,
                    Self::loc(file, hosts.span),
                    format!("`hosts: {host}`: runbook runs plays on localhost only"),
                )
                .help = Some(
                    "use `hosts: localhost`; AWS accounts are chosen per task with `profile`"
                        .into(),
                );
            }
        }
    }

    /// `tags:` as a list or a comma-separated string.
    pub(super) fn tag_list(&mut self, file: &Arc<PathBuf>, node: Option<&Node>) -> Vec<String> {
        match node {
            None => Vec::new(),
            Some(n) => match &n.value {
                Value::Null => Vec::new(),
                Value::String(s) => s.split(',').map(|t| t.trim().to_string()).collect(),
                Value::Seq(items) => items.iter().map(|t| t.scalar_text()).collect(),
                Value::Int(_) => vec![n.scalar_text()],
                _ => {
                    self.schema(Self::loc(file, n.span), "`tags` must be a string or a list");
                    Vec::new()
                }
            },
        }
    }

    fn vars_files(
        &mut self,
        file: &Arc<PathBuf>,
        node: Option<&Node>,
        vars: &mut IndexMap<String, Json>,
        locations: &mut IndexMap<String, Location>,
    ) {
        let Some(node) = node.filter(|n| !n.is_null()) else {
            return;
        };
        let entries: Vec<&Node> = match &node.value {
            Value::Seq(items) => items.iter().collect(),
            Value::String(_) => vec![node],
            _ => {
                self.schema(
                    Self::loc(file, node.span),
                    format!(
                        "`vars_files` must be a list of paths, found {}",
                        node.kind()
                    ),
                );
                return;
            }
        };
        let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
        for entry in entries {
            let Some(raw) = entry.as_str() else {
                self.schema(
                    Self::loc(file, entry.span),
                    format!(
                        "a `vars_files` entry must be a path, found {}",
                        entry.kind()
                    ),
                );
                continue;
            };
            // Extra vars and the play vars seen so far.
            let ctx = self.bare_ctx(file);
            let seen = Arc::new(vars.clone());
            let rel = match self.render_static(&Json::String(raw.to_string()), &ctx, &seen) {
                Ok(Json::String(p)) => p,
                Ok(other) => other.to_string(),
                Err(message) => {
                    self.error(
                        ErrorKind::Template,
                        Self::loc(file, entry.span),
                        format!("vars_files entry `{raw}`: {message}"),
                    );
                    continue;
                }
            };
            let path = base.join(&rel);
            if !path.is_file() {
                self.error(
                    ErrorKind::Io,
                    Self::loc(file, entry.span),
                    format!(
                        "cannot read vars file {}: {}",
                        path.display(),
                        std::fs::metadata(&path)
                            .err()
                            .map(|e| e.to_string())
                            .unwrap_or_else(|| "it is not a file".into())
                    ),
                )
                .help = Some("vars_files paths are relative to the playbook's directory".into());
                continue;
            }
            self.vars_file(&path, Some(Self::loc(file, entry.span)), vars, locations);
        }
    }

    fn module_defaults(
        &mut self,
        file: &Arc<PathBuf>,
        node: Option<&Node>,
    ) -> IndexMap<&'static str, IndexMap<String, Arg>> {
        let mut out: IndexMap<&'static str, IndexMap<String, Arg>> = IndexMap::new();
        let Some(node) = node.filter(|n| !n.is_null()) else {
            return out;
        };
        let Some(map) = node.as_map() else {
            self.schema(
                Self::loc(file, node.span),
                format!("`module_defaults` must be a mapping, found {}", node.kind()),
            );
            return out;
        };
        for (key, value) in map.iter() {
            let name = key.scalar_text();
            // `group/aws` or `group/amazon.aws.aws`: the group is the last
            // part of the name.
            let group = name
                .strip_prefix("group/")
                .map(|g| g.rsplit('.').next().unwrap_or(g).to_string());
            let targets: Vec<ModuleRef> = match &group {
                Some(group) => {
                    let members: Vec<ModuleRef> = self.registry.group(group).cloned().collect();
                    if members.is_empty() {
                        self.schema(
                            Self::loc(file, key.span),
                            format!("`module_defaults` names `{name}`, a group no runbook module belongs to"),
                        )
                        .help = Some("runbook's modules belong to `group/aws`".into());
                        continue;
                    }
                    members
                }
                None => match self.registry.find(&name) {
                    Some(module) => vec![module.clone()],
                    None => {
                        self.unknown_module(file, &name, key.span, None);
                        continue;
                    }
                },
            };
            for module in targets {
                let args = self.module_args(file, &module, value, None, group.as_deref());
                let entry = out.entry(module.spec().fqcn).or_default();
                for (k, v) in args {
                    // A module's own defaults win over its group's.
                    if group.is_some() {
                        entry.entry(k).or_insert(v);
                    } else {
                        entry.insert(k, v);
                    }
                }
            }
        }
        out
    }
}
