use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use runbook_module::schema::{self, suggest};
use runbook_module::{ModuleRef, Registry};
use runbook_yaml::{Mapping, Node, Span, Value};

use crate::extra_vars::{is_identifier, split_words};
use crate::model::{Play, Playbook, Task};
use crate::{Arg, ErrorKind, Json, Location, PlaybookError};

const PLAY_KEYS: &[&str] = &[
    "name",
    "hosts",
    "gather_facts",
    "vars",
    "vars_files",
    "tasks",
    "module_defaults",
];

const TASK_KEYWORDS: &[&str] = &[
    "name",
    "register",
    "when",
    "vars",
    "tags",
    "no_log",
    "ignore_errors",
    "changed_when",
    "failed_when",
    "depends_on",
];

/// Ansible keywords runbook knows but does not implement: using one is an
/// error naming it, never a silent no-op.
const UNSUPPORTED_TASK_KEYWORDS: &[&str] = &[
    "action",
    "any_errors_fatal",
    "args",
    "async",
    "become",
    "become_method",
    "become_user",
    "block",
    "always",
    "rescue",
    "check_mode",
    "collections",
    "connection",
    "debugger",
    "delay",
    "delegate_facts",
    "delegate_to",
    "diff",
    "environment",
    "ignore_unreachable",
    "listen",
    "local_action",
    "loop",
    "loop_control",
    "module_defaults",
    "notify",
    "poll",
    "port",
    "remote_user",
    "retries",
    "run_once",
    "throttle",
    "timeout",
    "until",
];

/// Loads and checks a playbook against the modules of `registry`.
/// `extra_vars` are needed to resolve templated `vars_files` paths. Every
/// problem found is returned, not just the first.
pub fn load(
    path: &Path,
    extra_vars: &IndexMap<String, Json>,
    registry: &Registry,
) -> Result<Playbook, Vec<PlaybookError>> {
    let file = Arc::new(path.to_path_buf());
    let source = std::fs::read_to_string(path).map_err(|e| {
        vec![PlaybookError::new(
            ErrorKind::Io,
            format!("cannot read playbook {}: {e}", path.display()),
        )]
    })?;
    let dir = path
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let root = runbook_yaml::parse(&source).map_err(|e| {
        vec![PlaybookError::new(
            ErrorKind::Syntax,
            format!("YAML syntax error: {}", e.message),
        )
        .at(Location {
            file: file.clone(),
            span: e.span,
        })]
    })?;
    let mut loader = Loader {
        file,
        dir,
        extra_vars,
        registry,
        errors: Vec::new(),
        tasks: Vec::new(),
    };
    let plays = loader.plays(&root);
    if loader.errors.is_empty() {
        Ok(Playbook {
            path: loader.file,
            dir: loader.dir,
            plays,
            tasks: loader.tasks,
        })
    } else {
        Err(loader.errors)
    }
}

struct Loader<'a> {
    file: Arc<PathBuf>,
    dir: PathBuf,
    extra_vars: &'a IndexMap<String, Json>,
    registry: &'a Registry,
    errors: Vec<PlaybookError>,
    tasks: Vec<Task>,
}

impl Loader<'_> {
    fn loc(&self, span: Span) -> Location {
        Location {
            file: self.file.clone(),
            span,
        }
    }

    fn error(
        &mut self,
        kind: ErrorKind,
        span: Span,
        message: impl Into<String>,
    ) -> &mut PlaybookError {
        let err = PlaybookError::new(kind, message).at(self.loc(span));
        self.errors.push(err);
        self.errors.last_mut().expect("just pushed")
    }

    fn schema(&mut self, span: Span, message: impl Into<String>) -> &mut PlaybookError {
        self.error(ErrorKind::Schema, span, message)
    }

    fn plays(&mut self, root: &Node) -> Vec<Play> {
        let Some(items) = root.as_seq() else {
            self.schema(
                root.span,
                format!("a playbook must be a list of plays, found {}", root.kind()),
            );
            return Vec::new();
        };
        let mut plays = Vec::new();
        for (index, item) in items.iter().enumerate() {
            if let Some(play) = self.play(index, item) {
                plays.push(play);
            }
        }
        if plays.is_empty() && self.errors.is_empty() {
            self.schema(root.span, "the playbook has no plays");
        }
        plays
    }

    fn play(&mut self, index: usize, node: &Node) -> Option<Play> {
        let Some(map) = node.as_map() else {
            self.schema(
                node.span,
                format!("a play must be a mapping, found {}", node.kind()),
            );
            return None;
        };
        for (key, _) in map.iter() {
            let name = key.scalar_text();
            if PLAY_KEYS.contains(&name.as_str()) {
                continue;
            }
            match name.as_str() {
                "import_playbook" | "ansible.builtin.import_playbook" => {
                    self.error(
                        ErrorKind::Unsupported,
                        key.span,
                        "`import_playbook` is not supported by runbook",
                    )
                    .help = Some(
                        "put the plays in one file, or run the playbooks one after another".into(),
                    );
                }
                "roles" | "pre_tasks" | "post_tasks" | "handlers" => {
                    self.error(
                        ErrorKind::Unsupported,
                        key.span,
                        format!("play keyword `{name}` is not supported by runbook yet"),
                    )
                    .help = Some("list the work under `tasks`".into());
                }
                _ => {
                    let hint = suggest(&name, PLAY_KEYS.iter().copied());
                    let err = self.schema(
                        key.span,
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
        self.hosts(map, node.span);
        let gather_facts = match map.get("gather_facts") {
            None => true,
            Some(n) => match &n.value {
                Value::Bool(b) => *b,
                _ => {
                    self.schema(
                        n.span,
                        format!("`gather_facts` must be a boolean, found {}", n.kind()),
                    );
                    false
                }
            },
        };
        let (mut vars, mut var_locations) = self.vars_mapping(map.get("vars"), "play `vars`");
        self.vars_files(map.get("vars_files"), &mut vars, &mut var_locations);
        let module_defaults = self.module_defaults(map.get("module_defaults"));
        let mut tasks = Vec::new();
        match map.get("tasks") {
            None => {}
            Some(n) if n.is_null() => {}
            Some(n) => match n.as_seq() {
                None => {
                    self.schema(
                        n.span,
                        format!("`tasks` must be a list, found {}", n.kind()),
                    );
                }
                Some(items) => {
                    for item in items {
                        if let Some(task) = self.task(index, item, &module_defaults) {
                            tasks.push(task.id);
                            self.tasks.push(task);
                        }
                    }
                }
            },
        }
        Some(Play {
            index,
            name,
            location: self.loc(node.span),
            gather_facts,
            vars: Arc::new(vars),
            var_locations,
            module_defaults,
            tasks,
        })
    }

    fn hosts(&mut self, map: &Mapping, play_span: Span) {
        let Some(hosts) = map.get("hosts") else {
            self.schema(play_span, "the play has no `hosts`").help =
                Some("runbook runs plays on localhost: add `hosts: localhost`".into());
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
                    hosts.span,
                    format!("`hosts: {host}`: runbook runs plays on localhost only"),
                )
                .help = Some(
                    "use `hosts: localhost`; AWS accounts are chosen per task with `profile`"
                        .into(),
                );
            }
        }
    }

    fn vars_mapping(
        &mut self,
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
                node.span,
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
                    key.span,
                    format!("this key is the boolean {b} in YAML 1.1, as Ansible reads it (unquoted `on`, `off`, `yes`, `no`, `true`, `false`), not a variable name: quote it or choose another name"),
                );
                continue;
            }
            if !is_identifier(&name) {
                self.schema(key.span, format!("`{name}` is not a valid variable name"));
                continue;
            }
            self.check_tags(value);
            locations.insert(name.clone(), self.loc(key.span));
            vars.insert(name, value.to_json());
        }
        (vars, locations)
    }

    /// Playbooks have no use for YAML tags but Ansible's own (`!unsafe`,
    /// `!vault`), which runbook does not support; say so.
    fn check_tags(&mut self, node: &Node) {
        if let Some(tag) = &node.tag {
            self.error(
                ErrorKind::Unsupported,
                node.span,
                format!("YAML tag `{tag}` is not supported in playbooks"),
            );
        }
        match &node.value {
            Value::Seq(items) => items.iter().for_each(|n| self.check_tags(n)),
            Value::Map(map) => map.iter().for_each(|(_, v)| self.check_tags(v)),
            _ => {}
        }
    }

    fn vars_files(
        &mut self,
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
                    node.span,
                    format!(
                        "`vars_files` must be a list of paths, found {}",
                        node.kind()
                    ),
                );
                return;
            }
        };
        for entry in entries {
            let Some(raw) = entry.as_str() else {
                self.schema(
                    entry.span,
                    format!(
                        "a `vars_files` entry must be a path, found {}",
                        entry.kind()
                    ),
                );
                continue;
            };
            let rel = match self.render_static(raw, vars) {
                Ok(p) => p,
                Err(message) => {
                    self.error(
                        ErrorKind::Template,
                        entry.span,
                        format!("vars_files entry `{raw}`: {message}"),
                    );
                    continue;
                }
            };
            let path = self.dir.join(&rel);
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    self.error(
                        ErrorKind::Io,
                        entry.span,
                        format!("cannot read vars file {}: {e}", path.display()),
                    )
                    .help =
                        Some("vars_files paths are relative to the playbook's directory".into());
                    continue;
                }
            };
            let file = Arc::new(path.clone());
            match runbook_yaml::parse(&text) {
                Err(e) => self.errors.push(
                    PlaybookError::new(
                        ErrorKind::Syntax,
                        format!("YAML syntax error: {}", e.message),
                    )
                    .at(Location { file, span: e.span }),
                ),
                Ok(doc) => match doc.as_map() {
                    Some(map) => {
                        for (key, value) in map.iter() {
                            let name = key.scalar_text();
                            locations.insert(
                                name.clone(),
                                Location {
                                    file: file.clone(),
                                    span: key.span,
                                },
                            );
                            vars.insert(name, value.to_json());
                        }
                    }
                    None if doc.is_null() => {}
                    None => self.errors.push(
                        PlaybookError::new(
                            ErrorKind::Schema,
                            format!("a vars file must be a mapping, found {}", doc.kind()),
                        )
                        .at(Location {
                            file,
                            span: doc.span,
                        }),
                    ),
                },
            }
        }
    }

    /// Renders a load-time template (a vars_files path) with extra vars and
    /// the play vars seen so far.
    fn render_static(&self, raw: &str, vars: &IndexMap<String, Json>) -> Result<String, String> {
        if !raw.contains("{{") {
            return Ok(raw.to_string());
        }
        let engine = runbook_template::Engine::new(&self.dir);
        let mut scope = runbook_template::Scope::new();
        scope.push_lower(runbook_template::Layer::templated(self.extra_vars.clone()));
        scope.push_lower(runbook_template::Layer::templated(vars.clone()));
        match engine.render(&Json::String(raw.to_string()), &scope) {
            Ok(Json::String(s)) => Ok(s),
            Ok(other) => Ok(other.to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn module_defaults(
        &mut self,
        node: Option<&Node>,
    ) -> IndexMap<&'static str, IndexMap<String, Arg>> {
        let mut out: IndexMap<&'static str, IndexMap<String, Arg>> = IndexMap::new();
        let Some(node) = node.filter(|n| !n.is_null()) else {
            return out;
        };
        let Some(map) = node.as_map() else {
            self.schema(
                node.span,
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
                            key.span,
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
                        self.unknown_module(&name, key.span, None);
                        continue;
                    }
                },
            };
            for module in targets {
                let args = self.module_args(&module, value, None, group.as_deref());
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

    fn unknown_module(&mut self, name: &str, span: Span, task: Option<&str>) {
        let list = self.registry.fqcn_list();
        let err = if self.registry.is_refused(name) {
            let err = self.error(
                ErrorKind::Unsupported,
                span,
                format!("module `{name}` is not supported by runbook"),
            );
            err.help = Some(format!("runbook runs these modules: {list}"));
            err
        } else {
            let hint = suggest(
                name,
                self.registry.names().chain(TASK_KEYWORDS.iter().copied()),
            );
            let err = self.schema(span, format!("unknown module or keyword `{name}`"));
            err.help = Some(match hint {
                Some(h) => format!("did you mean `{h}`?"),
                None => format!("runbook runs these modules: {list}"),
            });
            err
        };
        err.task = task.map(str::to_string);
    }

    fn task(
        &mut self,
        play: usize,
        node: &Node,
        defaults: &IndexMap<&'static str, IndexMap<String, Arg>>,
    ) -> Option<Task> {
        let Some(map) = node.as_map() else {
            self.schema(
                node.span,
                format!("a task must be a mapping, found {}", node.kind()),
            );
            return None;
        };
        let name = map.get("name").map(|n| n.scalar_text());
        let label = name
            .clone()
            .unwrap_or_else(|| format!("task at line {}", node.span.line));
        let errors_before = self.errors.len();
        let mut module: Option<(ModuleRef, &Node, &Node)> = None;
        for (key, value) in map.iter() {
            let key_name = key.scalar_text();
            if TASK_KEYWORDS.contains(&key_name.as_str()) {
                continue;
            }
            if UNSUPPORTED_TASK_KEYWORDS.contains(&key_name.as_str()) {
                let err = self.error(
                    ErrorKind::Unsupported,
                    key.span,
                    format!("task keyword `{key_name}` is not supported by runbook"),
                );
                err.task = Some(label.clone());
                continue;
            }
            if key_name.starts_with("with_") {
                let err = self.error(
                    ErrorKind::Unsupported,
                    key.span,
                    format!("task keyword `{key_name}` (loops) is not supported by runbook"),
                );
                err.task = Some(label.clone());
                continue;
            }
            match self.registry.find(&key_name).cloned() {
                Some(found) => {
                    if let Some((first, first_key, _)) = &module {
                        let (first, at) = (first.spec().short, first_key.span);
                        let err = self.schema(
                            key.span,
                            format!(
                                "a task has one module, but this one has `{first}` (at {at}) and `{key_name}`",
                            ),
                        );
                        err.task = Some(label.clone());
                    } else {
                        module = Some((found, key, value));
                    }
                }
                None => self.unknown_module(&key_name, key.span, Some(&label)),
            }
        }
        let Some((module, module_key, args_node)) = module else {
            if self.errors.len() == errors_before {
                let list = self.registry.fqcn_list();
                let err = self.schema(node.span, "the task names no module");
                err.task = Some(label.clone());
                err.help = Some(format!("add one of: {list}"));
            }
            return None;
        };
        let spec = module.spec();
        let mut args = defaults.get(spec.fqcn).cloned().unwrap_or_default();
        args.extend(self.module_args(&module, args_node, Some(&label), None));
        self.check_required(&module, &args, module_key.span, &label);

        let arg = |loader: &mut Self, key: &str| -> Option<Arg> {
            map.entry(key).map(|(k, v)| {
                loader.check_tags(v);
                Arg {
                    value: v.to_json(),
                    location: loader.loc(if v.is_null() { k.span } else { v.span }),
                }
            })
        };
        let register = map.get("register").and_then(|n| match n.as_str() {
            Some(r) if is_identifier(r) => Some(r.to_string()),
            _ => {
                let err = self.schema(
                    n.span,
                    format!(
                        "`register` must be a variable name, found `{}`",
                        n.scalar_text()
                    ),
                );
                err.task = Some(label.clone());
                None
            }
        });
        let when = arg(self, "when");
        let no_log = arg(self, "no_log");
        let ignore_errors = arg(self, "ignore_errors");
        let changed_when = arg(self, "changed_when");
        let failed_when = arg(self, "failed_when");
        for (keyword, value) in [("no_log", &no_log), ("ignore_errors", &ignore_errors)] {
            if let Some(a) = value {
                if !(a.value.is_boolean() || a.value.as_str().is_some_and(|s| s.contains("{{"))) {
                    let err =
                        self.schema(a.location.span, format!("`{keyword}` must be a boolean"));
                    err.task = Some(label.clone());
                }
            }
        }
        let tags = match map.get("tags") {
            None => Vec::new(),
            Some(n) => match &n.value {
                Value::String(s) => s.split(',').map(|t| t.trim().to_string()).collect(),
                Value::Seq(items) => items.iter().map(|t| t.scalar_text()).collect(),
                _ => {
                    self.schema(n.span, "`tags` must be a string or a list");
                    Vec::new()
                }
            },
        };
        let vars = {
            let (vars, locations) = self.vars_mapping(map.get("vars"), "task `vars`");
            vars.into_iter()
                .map(|(k, v)| {
                    let location = locations[&k].clone();
                    (k, Arg { value: v, location })
                })
                .collect()
        };
        let depends_on = match map.get("depends_on") {
            None => Vec::new(),
            Some(n) => match &n.value {
                Value::String(_) => vec![Arg {
                    value: n.to_json(),
                    location: self.loc(n.span),
                }],
                Value::Seq(items) => items
                    .iter()
                    .map(|i| Arg {
                        value: Json::String(i.scalar_text()),
                        location: self.loc(i.span),
                    })
                    .collect(),
                _ => {
                    self.schema(
                        n.span,
                        "`depends_on` must be a task name or a list of task names",
                    );
                    Vec::new()
                }
            },
        };
        Some(Task {
            id: self.tasks.len(),
            play,
            name,
            location: self.loc(node.span),
            module,
            args,
            register,
            when,
            vars,
            tags,
            no_log,
            ignore_errors,
            changed_when,
            failed_when,
            depends_on,
        })
    }

    /// Reads a module's options (mapping or `k=v` string), checking names
    /// and the types of values that hold no template.
    /// `group` is set when reading a group's defaults (`group/aws`).
    fn module_args(
        &mut self,
        module: &ModuleRef,
        node: &Node,
        task: Option<&str>,
        group: Option<&str>,
    ) -> IndexMap<String, Arg> {
        let spec = module.spec();
        let mut args = IndexMap::new();
        let pairs: Vec<(String, Span, Json)> = match &node.value {
            Value::Null => Vec::new(),
            Value::Map(map) => {
                self.check_tags(node);
                map.iter()
                    .map(|(k, v)| (k.scalar_text(), k.span, v.to_json()))
                    .collect()
            }
            Value::String(text) => match split_words(text) {
                Ok(words) => {
                    let mut pairs = Vec::new();
                    for word in words {
                        match word.split_once('=') {
                            Some((k, v)) => {
                                pairs.push((k.to_string(), node.span, Json::String(v.to_string())))
                            }
                            None => {
                                let err = self.schema(
                                    node.span,
                                    format!("`{}` options must be a mapping or key=value pairs, found `{word}`", spec.short),
                                );
                                err.task = task.map(str::to_string);
                            }
                        }
                    }
                    pairs
                }
                Err(why) => {
                    self.schema(
                        node.span,
                        format!("cannot read `{}` options: {why}", spec.short),
                    );
                    Vec::new()
                }
            },
            _ => {
                let err = self.schema(
                    node.span,
                    format!(
                        "`{}` options must be a mapping, found {}",
                        spec.short,
                        node.kind()
                    ),
                );
                err.task = task.map(str::to_string);
                Vec::new()
            }
        };
        for (key, span, value) in pairs {
            let location = self.loc(span);
            let canonical = match spec.option(&key) {
                Some(opt) => {
                    if !has_template(&value) {
                        if let Err(message) = schema::check_value(opt, &value, true) {
                            let err =
                                self.schema(span, format!("{message} (module {})", spec.fqcn));
                            err.task = task.map(str::to_string);
                        }
                    }
                    opt.name.to_string()
                }
                None if spec.free_keys => {
                    if !is_identifier(&key) {
                        let err =
                            self.schema(span, format!("`{key}` is not a valid variable name"));
                        err.task = task.map(str::to_string);
                    }
                    key
                }
                // Group defaults (group/aws) may set options some of the
                // group's modules lack, as in Ansible; the other modules
                // of the group check the name.
                None if group.is_some_and(|g| {
                    self.registry.group(g).any(|m| {
                        m.spec().option(&key).is_some()
                            || m.spec().unsupported.contains(&key.as_str())
                    })
                }) =>
                {
                    continue
                }
                None if spec.unsupported.contains(&key.as_str()) => {
                    let err = self.error(
                        ErrorKind::Unsupported,
                        span,
                        format!(
                            "option `{key}` of {} is not supported by runbook",
                            spec.fqcn
                        ),
                    );
                    err.task = task.map(str::to_string);
                    continue;
                }
                None => {
                    let names = spec.options.iter().map(|o| o.name);
                    let hint = suggest(&key, names);
                    let err = self.schema(
                        span,
                        format!("unknown option `{key}` for module {}", spec.fqcn),
                    );
                    err.task = task.map(str::to_string);
                    err.help = Some(match hint {
                        Some(h) => format!("did you mean `{h}`?"),
                        None => format!(
                            "{} takes: {}",
                            spec.fqcn,
                            spec.options
                                .iter()
                                .map(|o| o.name)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                    continue;
                }
            };
            args.insert(canonical, Arg { value, location });
        }
        args
    }

    fn check_required(
        &mut self,
        module: &ModuleRef,
        args: &IndexMap<String, Arg>,
        span: Span,
        task: &str,
    ) {
        let spec = module.spec();
        for opt in spec.options.iter().filter(|o| o.required) {
            if !args.contains_key(opt.name) {
                let err = self.schema(
                    span,
                    format!(
                        "missing required option `{}` for module {}",
                        opt.name, spec.fqcn
                    ),
                );
                err.task = Some(task.to_string());
            }
        }
        for mut err in module.check(args) {
            if err.location.is_none() {
                err.location = Some(self.loc(span));
            }
            err.task = Some(task.to_string());
            self.errors.push(err);
        }
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
mod tests {
    use super::*;

    fn load_str(text: &str) -> Result<Playbook, Vec<PlaybookError>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("play.yml");
        std::fs::write(&path, text).unwrap();
        load(&path, &IndexMap::new(), &runbook_modules::registry())
    }

    fn messages(text: &str) -> Vec<String> {
        load_str(text)
            .unwrap_err()
            .into_iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e.location.map(|l| l.span.to_string()).unwrap_or_default(),
                    e.message
                )
            })
            .collect()
    }

    #[test]
    fn loads_a_playbook() {
        let pb = load_str(
            "- name: p\n  hosts: localhost\n  gather_facts: false\n  vars:\n    a: 1\n  module_defaults:\n    group/aws:\n      region: eu-west-1\n  tasks:\n    - name: who\n      amazon.aws.aws_caller_info:\n        profile: x\n      register: me\n    - debug: msg=hi\n",
        )
        .unwrap();
        assert_eq!(pb.tasks.len(), 2);
        let t = &pb.tasks[0];
        assert_eq!(t.module.spec().short, "aws_caller_info");
        assert_eq!(t.args["region"].value, "eu-west-1");
        assert_eq!(t.args["profile"].value, "x");
        assert_eq!(t.register.as_deref(), Some("me"));
        assert_eq!(pb.tasks[1].args["msg"].value, "hi");
        assert_eq!(pb.tasks[1].display_name(), "ansible.builtin.debug");
    }

    #[test]
    fn errors_point_at_the_node() {
        let msgs = messages(
            "- hosts: web\n  connection: local\n  tasks:\n    - name: t\n      cloudformaton:\n        stack_name: x\n    - name: u\n      debug:\n        mesage: x\n      delegate_to: other\n",
        );
        assert_eq!(
            msgs,
            [
                "2:3 unknown or unsupported play keyword `connection`",
                "1:10 `hosts: web`: runbook runs plays on localhost only",
                "5:7 unknown module or keyword `cloudformaton`",
                "10:7 task keyword `delegate_to` is not supported by runbook",
                "9:9 unknown option `mesage` for module ansible.builtin.debug",
            ]
        );
    }

    #[test]
    fn yaml_1_1_boolean_keys_are_no_variable_names() {
        let msgs = messages(
            "- hosts: localhost\n  vars:\n    on: 1\n    \"off\": 2\n    3: x\n  tasks:\n    - debug: {msg: hi}\n",
        );
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(
            msgs[0].contains("3:5") && msgs[0].contains("is the boolean true in YAML 1.1"),
            "{msgs:?}"
        );
        assert!(
            msgs[1].contains("`3` is not a valid variable name"),
            "{msgs:?}"
        );
    }

    #[test]
    fn option_types_and_required() {
        let msgs = messages(
            "- hosts: localhost\n  tasks:\n    - cloudformation:\n        state: maybe\n        template_parameters: [1]\n",
        );
        assert_eq!(
            msgs,
            [
                "4:9 option `state` must be one of present, absent, found `maybe` (module amazon.aws.cloudformation)",
                "5:9 option `template_parameters` must be a mapping, found a list (module amazon.aws.cloudformation)",
                "3:7 missing required option `stack_name` for module amazon.aws.cloudformation",
                "3:7 state=present needs one of `template`, `template_body` or `template_url`",
            ]
        );
    }

    #[test]
    fn templated_values_are_checked_later() {
        let pb = load_str(
            "- hosts: localhost\n  tasks:\n    - cloudformation:\n        stack_name: s\n        template: t.yml\n        termination_protection: \"{{ tp }}\"\n",
        )
        .unwrap();
        assert_eq!(pb.tasks[0].args["termination_protection"].value, "{{ tp }}");
    }

    #[test]
    fn syntax_errors_have_positions() {
        let errs = load_str("- hosts: localhost\n  tasks: [\n").unwrap_err();
        assert_eq!(errs[0].kind, ErrorKind::Syntax);
        assert!(errs[0].location.is_some());
    }

    #[test]
    fn vars_files_are_relative_to_the_playbook() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("vars")).unwrap();
        std::fs::write(dir.path().join("vars/common.yml"), "region: eu-west-1\n").unwrap();
        let path = dir.path().join("play.yml");
        std::fs::write(&path, "- hosts: localhost\n  vars:\n    env: common\n  vars_files:\n    - \"vars/{{ env }}.yml\"\n  tasks: []\n").unwrap();
        let pb = load(&path, &IndexMap::new(), &runbook_modules::registry()).unwrap();
        assert_eq!(pb.plays[0].vars["region"], "eu-west-1");
    }

    #[test]
    fn unsupported_option_is_named() {
        let msgs = messages("- hosts: localhost\n  tasks:\n    - cloudformation:\n        stack_name: s\n        template: t\n        purge_stacks: false\n");
        assert_eq!(msgs, ["6:9 option `purge_stacks` of amazon.aws.cloudformation is not supported by runbook"]);
    }
}
