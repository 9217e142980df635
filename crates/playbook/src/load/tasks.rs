//! Task lists, blocks, tasks, loops and module options.

use std::path::PathBuf;
use std::sync::Arc;

use indexmap::IndexMap;
use runbook_module::schema::{self, suggest};
use runbook_module::ModuleRef;
use runbook_yaml::{Mapping, Node, Span, Value};

use super::{has_template, Ctx, Loader, SelectionInfo};
use crate::extra_vars::{is_identifier, split_words};
use crate::model::{Block, BlockPos, Loop, LoopKind, Section, Task, VarLayer, VarRank};
use crate::{Arg, ErrorKind, Json};

/// Task keywords runbook implements (besides the module and loop keys).
pub(super) const TASK_KEYWORDS: &[&str] = &[
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
    "loop",
    "loop_control",
    "connection",
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
    "check_mode",
    "collections",
    "debugger",
    "delay",
    "delegate_facts",
    "delegate_to",
    "diff",
    "environment",
    "ignore_unreachable",
    "listen",
    "local_action",
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

/// Keywords a block takes.
const BLOCK_KEYWORDS: &[&str] = &[
    "block",
    "rescue",
    "always",
    "name",
    "when",
    "vars",
    "tags",
    "ignore_errors",
    "no_log",
];

/// The `with_*` loops runbook implements.
fn loop_kind(keyword: &str) -> Option<LoopKind> {
    Some(match keyword {
        "loop" => LoopKind::Loop,
        "with_items" => LoopKind::Items,
        "with_list" => LoopKind::List,
        "with_dict" => LoopKind::Dict,
        "with_together" => LoopKind::Together,
        "with_sequence" => LoopKind::Sequence,
        "with_nested" | "with_cartesian" => LoopKind::Nested,
        _ => return None,
    })
}

/// The names of the include and import "modules".
pub(super) fn include_kind(key: &str) -> Option<&'static str> {
    let key = key
        .strip_prefix("ansible.builtin.")
        .or_else(|| key.strip_prefix("ansible.legacy."))
        .unwrap_or(key);
    Some(match key {
        "import_tasks" => "import_tasks",
        "include_tasks" => "include_tasks",
        "import_role" => "import_role",
        "include_role" => "include_role",
        "include" => "include",
        _ => return None,
    })
}

impl Loader<'_> {
    /// A list of tasks (`tasks:`, a block section, a task file).
    pub(super) fn task_list(
        &mut self,
        node: &Node,
        ctx: &Ctx,
        play_vars: &Arc<IndexMap<String, Json>>,
        what: &str,
    ) {
        if node.is_null() {
            return;
        }
        let Some(items) = node.as_seq() else {
            self.schema(
                Self::loc(&ctx.file, node.span),
                format!("`{what}` must be a list, found {}", node.kind()),
            );
            return;
        };
        for item in items {
            self.task_entry(item, ctx, play_vars);
        }
    }

    fn task_entry(&mut self, node: &Node, ctx: &Ctx, play_vars: &Arc<IndexMap<String, Json>>) {
        let Some(map) = node.as_map() else {
            self.schema(
                Self::loc(&ctx.file, node.span),
                format!("a task must be a mapping, found {}", node.kind()),
            );
            return;
        };
        if map.get("block").is_some() {
            self.block(node, map, ctx, play_vars);
            return;
        }
        if let Some((key, kind)) = map
            .iter()
            .find_map(|(k, _)| include_kind(&k.scalar_text()).map(|kind| (k, kind)))
        {
            self.include(node, map, key, kind, ctx, play_vars);
            return;
        }
        if let Some(task) = self.task(node, map, ctx, play_vars) {
            self.push_task(task, ctx);
        }
    }

    pub(super) fn push_task(&mut self, mut task: Task, ctx: &Ctx) {
        task.id = self.tasks.len();
        self.tasks.push(task);
        self.selection_info.push(SelectionInfo {
            gates: ctx.gates.clone(),
        });
    }

    fn block(
        &mut self,
        node: &Node,
        map: &Mapping,
        ctx: &Ctx,
        play_vars: &Arc<IndexMap<String, Json>>,
    ) {
        let file = ctx.file.clone();
        for (key, _) in map.iter() {
            let name = key.scalar_text();
            if !BLOCK_KEYWORDS.contains(&name.as_str()) {
                let hint = suggest(&name, BLOCK_KEYWORDS.iter().copied());
                self.error(
                    ErrorKind::Unsupported,
                    Self::loc(&file, key.span),
                    format!("`{name}` is not supported on a block"),
                )
                .help = Some(match hint {
                    Some(h) => format!(
                        "did you mean `{h}`? blocks take: {}",
                        BLOCK_KEYWORDS.join(", ")
                    ),
                    None => format!("blocks take: {}", BLOCK_KEYWORDS.join(", ")),
                });
            }
        }
        let id = self.blocks.len();
        self.blocks.push(Block {
            id,
            name: map.get("name").map(|n| n.scalar_text()),
            location: Self::loc(&file, node.span),
            parent: ctx.block,
            tasks: [Vec::new(), Vec::new(), Vec::new()],
        });
        let mut inner = ctx.clone();
        if let Some(when) = self.keyword_arg(&file, map, "when") {
            inner.when.push(when);
        }
        inner.tags.extend(self.tag_list(&file, map.get("tags")));
        let (vars, locations) = self.vars_mapping(&file, map.get("vars"), "block `vars`");
        if !vars.is_empty() {
            inner.layers.push(VarLayer {
                rank: VarRank::BlockVars,
                vars: Arc::new(vars),
                locations: Arc::new(locations),
            });
        }
        if let Some(flag) = self.flag_arg(&file, map, "ignore_errors", None) {
            inner.ignore_errors = Some(flag);
        }
        if let Some(flag) = self.flag_arg(&file, map, "no_log", None) {
            inner.no_log = Some(flag);
        }
        for (index, section) in [
            ("block", Section::Block),
            ("rescue", Section::Rescue),
            ("always", Section::Always),
        ]
        .into_iter()
        .enumerate()
        {
            let Some(list) = map.get(section.0) else {
                continue;
            };
            let mut part = inner.clone();
            part.block = Some(BlockPos {
                block: id,
                section: section.1,
            });
            let first = self.tasks.len();
            self.task_list(list, &part, play_vars, section.0);
            let ids: Vec<usize> = (first..self.tasks.len()).collect();
            self.blocks[id].tasks[index] = ids;
        }
    }

    /// A keyword's value as an [`Arg`], YAML tags refused.
    pub(super) fn keyword_arg(
        &mut self,
        file: &Arc<PathBuf>,
        map: &Mapping,
        key: &str,
    ) -> Option<Arg> {
        map.entry(key).map(|(k, v)| {
            self.check_tags(file, v);
            Arg {
                value: v.to_json(),
                location: Self::loc(file, if v.is_null() { k.span } else { v.span }),
            }
        })
    }

    /// A boolean keyword (`no_log`, `ignore_errors`): a boolean or a
    /// template.
    fn flag_arg(
        &mut self,
        file: &Arc<PathBuf>,
        map: &Mapping,
        key: &str,
        task: Option<&str>,
    ) -> Option<Arg> {
        let arg = self.keyword_arg(file, map, key)?;
        if !(arg.value.is_boolean() || arg.value.as_str().is_some_and(|s| s.contains("{{"))) {
            let err = self.schema(arg.location.clone(), format!("`{key}` must be a boolean"));
            err.task = task.map(str::to_string);
        }
        Some(arg)
    }

    fn task(
        &mut self,
        node: &Node,
        map: &Mapping,
        ctx: &Ctx,
        play_vars: &Arc<IndexMap<String, Json>>,
    ) -> Option<Task> {
        let file = ctx.file.clone();
        let raw_name = map.get("name").map(|n| n.scalar_text());
        let label = raw_name
            .clone()
            .unwrap_or_else(|| format!("task at line {}", node.span.line));
        let errors_before = self.errors.len();
        let mut module: Option<(ModuleRef, &Node, &Node)> = None;
        let mut loop_key: Option<(&Node, &Node, LoopKind)> = None;
        for (key, value) in map.iter() {
            let key_name = key.scalar_text();
            if TASK_KEYWORDS.contains(&key_name.as_str()) {
                if key_name == "loop" {
                    self.loop_keyword(&file, &mut loop_key, key, value, LoopKind::Loop, &label);
                }
                if key_name == "connection" && value.as_str() != Some("local") {
                    let err = self.error(
                        ErrorKind::Unsupported,
                        Self::loc(&file, value.span),
                        format!(
                            "`connection: {}`: runbook runs tasks locally",
                            value.scalar_text()
                        ),
                    );
                    err.task = Some(label.clone());
                }
                continue;
            }
            if UNSUPPORTED_TASK_KEYWORDS.contains(&key_name.as_str()) {
                let err = self.error(
                    ErrorKind::Unsupported,
                    Self::loc(&file, key.span),
                    format!("task keyword `{key_name}` is not supported by runbook"),
                );
                err.task = Some(label.clone());
                continue;
            }
            if let Some(name) = key_name.strip_prefix("with_") {
                match loop_kind(&key_name) {
                    Some(kind) => self.loop_keyword(&file, &mut loop_key, key, value, kind, &label),
                    None => {
                        let err = self.error(
                            ErrorKind::Unsupported,
                            Self::loc(&file, key.span),
                            format!("task keyword `{key_name}` (a loop over the `{name}` lookup) is not supported by runbook"),
                        );
                        err.task = Some(label.clone());
                        err.help = Some("runbook loops with `loop`, `with_items`, `with_list`, `with_dict`, `with_together`, `with_sequence`, `with_nested` and `with_cartesian`".into());
                    }
                }
                continue;
            }
            if matches!(key_name.as_str(), "block" | "rescue" | "always") {
                let err = self.schema(
                    Self::loc(&file, key.span),
                    format!("`{key_name}` belongs to a block, which needs a `block:` list"),
                );
                err.task = Some(label.clone());
                continue;
            }
            match self.registry.find(&key_name).cloned() {
                Some(found) => {
                    if let Some((first, first_key, _)) = &module {
                        let (first, at) = (first.spec().short, first_key.span);
                        let err = self.schema(
                            Self::loc(&file, key.span),
                            format!(
                                "a task has one module, but this one has `{first}` (at {at}) and `{key_name}`",
                            ),
                        );
                        err.task = Some(label.clone());
                    } else {
                        module = Some((found, key, value));
                    }
                }
                None => self.unknown_module(&file, &key_name, key.span, Some(&label)),
            }
        }
        let Some((module, module_key, args_node)) = module else {
            if self.errors.len() == errors_before {
                let list = self.registry.fqcn_list();
                let err = self.schema(Self::loc(&file, node.span), "the task names no module");
                err.task = Some(label.clone());
                err.help = Some(format!("add one of: {list}"));
            }
            return None;
        };
        let spec = module.spec();
        let mut args = ctx.defaults.get(spec.fqcn).cloned().unwrap_or_default();
        args.extend(self.module_args(&file, &module, args_node, Some(&label), None));
        self.check_required(&file, &module, &args, module_key.span, &label);

        let register = map.get("register").and_then(|n| match n.as_str() {
            Some(r) if is_identifier(r) => Some(r.to_string()),
            _ => {
                let err = self.schema(
                    Self::loc(&file, n.span),
                    format!(
                        "`register` must be a variable name, found `{}`",
                        n.scalar_text()
                    ),
                );
                err.task = Some(label.clone());
                None
            }
        });
        let mut when = ctx.when.clone();
        when.extend(self.keyword_arg(&file, map, "when"));
        let no_log = self
            .flag_arg(&file, map, "no_log", Some(&label))
            .or_else(|| ctx.no_log.clone());
        let ignore_errors = self
            .flag_arg(&file, map, "ignore_errors", Some(&label))
            .or_else(|| ctx.ignore_errors.clone());
        let changed_when = self.keyword_arg(&file, map, "changed_when");
        let failed_when = self.keyword_arg(&file, map, "failed_when");
        let mut tags = ctx.tags.clone();
        tags.extend(self.tag_list(&file, map.get("tags")));
        let vars = {
            let (vars, locations) = self.vars_mapping(&file, map.get("vars"), "task `vars`");
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
                    location: Self::loc(&file, n.span),
                }],
                Value::Seq(items) => items
                    .iter()
                    .map(|i| Arg {
                        value: Json::String(i.scalar_text()),
                        location: Self::loc(&file, i.span),
                    })
                    .collect(),
                _ => {
                    self.schema(
                        Self::loc(&file, n.span),
                        "`depends_on` must be a task name or a list of task names",
                    );
                    Vec::new()
                }
            },
        };
        let loop_ =
            loop_key.map(|(key, value, kind)| self.loop_spec(&file, map, key, value, kind, &label));
        if loop_.is_none() {
            if let Some((k, _)) = map.entry("loop_control") {
                let err = self.schema(Self::loc(&file, k.span), "`loop_control` without a loop");
                err.task = Some(label.clone());
            }
        }
        let name = raw_name.map(|n| self.static_name(n, ctx, play_vars));
        Some(Task {
            id: 0,
            play: ctx.play,
            name,
            location: Self::loc(&file, node.span),
            module,
            args,
            register,
            when,
            include_when: ctx.include_when.clone(),
            vars,
            tags,
            no_log,
            ignore_errors,
            changed_when,
            failed_when,
            depends_on,
            loop_,
            layers: ctx.layers.clone(),
            block: ctx.block,
            role: ctx.role.clone(),
            search: ctx.search.clone(),
        })
    }

    /// A templated name is shown rendered when its variables are known
    /// before running (a looped include's item); otherwise as written,
    /// and the run renders it.
    pub(super) fn static_name(
        &self,
        name: String,
        ctx: &Ctx,
        play_vars: &Arc<IndexMap<String, Json>>,
    ) -> String {
        if !name.contains("{{") || !ctx.layers.iter().any(|l| l.rank == VarRank::LoopItem) {
            return name;
        }
        match self.render_static(&Json::String(name.clone()), ctx, play_vars) {
            Ok(Json::String(s)) => s,
            _ => name,
        }
    }

    fn loop_keyword<'n>(
        &mut self,
        file: &Arc<PathBuf>,
        slot: &mut Option<(&'n Node, &'n Node, LoopKind)>,
        key: &'n Node,
        value: &'n Node,
        kind: LoopKind,
        label: &str,
    ) {
        if let Some((first, _, first_kind)) = slot {
            let err = self.schema(
                Self::loc(file, key.span),
                format!(
                    "a task has one loop, but this one has `{}` (at {}) and `{}`",
                    first_kind.keyword(),
                    first.span,
                    key.scalar_text()
                ),
            );
            err.task = Some(label.to_string());
            return;
        }
        *slot = Some((key, value, kind));
    }

    fn loop_spec(
        &mut self,
        file: &Arc<PathBuf>,
        map: &Mapping,
        key: &Node,
        value: &Node,
        kind: LoopKind,
        label: &str,
    ) -> Loop {
        self.check_tags(file, value);
        let items = Arg {
            value: value.to_json(),
            location: Self::loc(
                file,
                if value.is_null() {
                    key.span
                } else {
                    value.span
                },
            ),
        };
        if kind == LoopKind::Loop
            && !matches!(value.value, Value::Seq(_))
            && !value.as_str().is_some_and(|s| s.contains("{{"))
        {
            let err = self.schema(
                items.location.clone(),
                format!(
                    "`loop` takes a list or a template that renders one, found {}",
                    value.kind()
                ),
            );
            err.task = Some(label.to_string());
        }
        let mut spec = Loop {
            kind,
            items,
            loop_var: "item".into(),
            index_var: None,
            label: None,
            extended: false,
        };
        let Some(control) = map.get("loop_control") else {
            return spec;
        };
        let Some(control_map) = control.as_map() else {
            let err = self.schema(
                Self::loc(file, control.span),
                format!("`loop_control` must be a mapping, found {}", control.kind()),
            );
            err.task = Some(label.to_string());
            return spec;
        };
        for (k, v) in control_map.iter() {
            let name = k.scalar_text();
            match name.as_str() {
                "loop_var" | "index_var" => match v.as_str() {
                    Some(var) if is_identifier(var) => {
                        if name == "loop_var" {
                            spec.loop_var = var.to_string();
                        } else {
                            spec.index_var = Some(var.to_string());
                        }
                    }
                    _ => {
                        let err = self.schema(
                            Self::loc(file, v.span),
                            format!("`loop_control.{name}` must be a variable name"),
                        );
                        err.task = Some(label.to_string());
                    }
                },
                "label" => {
                    spec.label = Some(Arg {
                        value: v.to_json(),
                        location: Self::loc(file, v.span),
                    })
                }
                "extended" => match v.value {
                    Value::Bool(b) => spec.extended = b,
                    _ => {
                        let err = self.schema(
                            Self::loc(file, v.span),
                            "`loop_control.extended` must be a boolean",
                        );
                        err.task = Some(label.to_string());
                    }
                },
                // Items of AWS tasks run at once; a pause between them
                // would only slow the run (docs/playbooks.md).
                "pause" => {}
                _ => {
                    let err = self.error(
                        ErrorKind::Unsupported,
                        Self::loc(file, k.span),
                        format!("`loop_control.{name}` is not supported by runbook"),
                    );
                    err.task = Some(label.to_string());
                    err.help =
                        Some("runbook takes loop_var, index_var, label, extended and pause".into());
                }
            }
        }
        spec
    }

    pub(super) fn unknown_module(
        &mut self,
        file: &Arc<PathBuf>,
        name: &str,
        span: Span,
        task: Option<&str>,
    ) {
        let list = self.registry.fqcn_list();
        let err = if self.registry.is_refused(name) {
            let err = self.error(
                ErrorKind::Unsupported,
                Self::loc(file, span),
                format!("module `{name}` is not supported by runbook"),
            );
            err.help = Some(format!("runbook runs these modules: {list}"));
            err
        } else {
            let hint = suggest(
                name,
                self.registry.names().chain(TASK_KEYWORDS.iter().copied()),
            );
            let err = self.schema(
                Self::loc(file, span),
                format!("unknown module or keyword `{name}`"),
            );
            err.help = Some(match hint {
                Some(h) => format!("did you mean `{h}`?"),
                None => format!("runbook runs these modules: {list}"),
            });
            err
        };
        err.task = task.map(str::to_string);
    }

    /// Reads a module's options (mapping or `k=v` string), checking names
    /// and the types of values that hold no template.
    /// `group` is set when reading a group's defaults (`group/aws`).
    pub(super) fn module_args(
        &mut self,
        file: &Arc<PathBuf>,
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
                self.check_tags(file, node);
                map.iter()
                    .map(|(k, v)| (k.scalar_text(), k.span, v.to_json()))
                    .collect()
            }
            Value::String(text) if spec.free_form.is_some() && !text.contains('=') => {
                vec![(
                    spec.free_form.unwrap_or_default().to_string(),
                    node.span,
                    Json::String(text.clone()),
                )]
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
                                    Self::loc(file, node.span),
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
                        Self::loc(file, node.span),
                        format!("cannot read `{}` options: {why}", spec.short),
                    );
                    Vec::new()
                }
            },
            _ => {
                let err = self.schema(
                    Self::loc(file, node.span),
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
            let location = Self::loc(file, span);
            let canonical = match spec.option(&key) {
                Some(opt) => {
                    if !has_template(&value) {
                        if let Err(message) = schema::check_value(opt, &value, true) {
                            let err = self.schema(
                                location.clone(),
                                format!("{message} (module {})", spec.fqcn),
                            );
                            err.task = task.map(str::to_string);
                        }
                    }
                    opt.name.to_string()
                }
                None if spec.free_keys => {
                    if !is_identifier(&key) {
                        let err = self.schema(
                            location.clone(),
                            format!("`{key}` is not a valid variable name"),
                        );
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
                        location,
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
                        location,
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
        file: &Arc<PathBuf>,
        module: &ModuleRef,
        args: &IndexMap<String, Arg>,
        span: Span,
        task: &str,
    ) {
        let spec = module.spec();
        for opt in spec.options.iter().filter(|o| o.required) {
            if !args.contains_key(opt.name) {
                let err = self.schema(
                    Self::loc(file, span),
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
                err.location = Some(Self::loc(file, span));
            }
            err.task = Some(task.to_string());
            self.errors.push(err);
        }
    }
}
