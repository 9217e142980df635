use std::collections::{BTreeMap, BTreeSet, HashMap};

use indexmap::IndexMap;
use petgraph::graph::{DiGraph, NodeIndex};
use runbook_module::schema::suggest;
use runbook_module::{printable, AccountKey, Analysis, Owned};
use runbook_playbook::{
    ErrorKind, Json, Location, Playbook, PlaybookError, Section, TaskId, VarRank, MAGIC_VARS,
};
use runbook_template::Engine;

use crate::reads::{task_reads, value_reads, Read};
use crate::{EdgeReason, ExternalImport, ResultReads, TaskFacts, TaskGraph};

/// The task variable that orders a task after others by name or register,
/// as `depends_on` does, in a playbook ansible-playbook also runs.
pub const PORTABLE_DEPENDS_ON: &str = "runbook_depends_on";

/// Drops repeated problems (the same one found for every loop item).
fn dedupe(problems: &mut Vec<PlaybookError>) {
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| {
        seen.insert((
            p.message.clone(),
            p.location.as_ref().map(|l| l.to_string()),
            p.task.clone(),
        ))
    });
}

/// Where a variable's value comes from, for a reader at some point.
enum Source {
    /// Registered or set by an earlier task.
    Task(TaskId),
    /// An extra, task or play variable (templated when read).
    Value(Json, Location),
    Magic,
    Missing,
}

/// Builds and checks the task graph. Problems that must stop a run are
/// returned as errors (all of them); the rest are warnings in the graph.
pub fn build(
    playbook: &Playbook,
    extra_vars: &IndexMap<String, Json>,
) -> Result<TaskGraph, Vec<PlaybookError>> {
    let engine = Engine::new(&playbook.dir);
    let mut builder = Builder {
        playbook,
        extra_vars,
        engine,
        graph: DiGraph::with_capacity(playbook.tasks.len(), playbook.tasks.len() * 2),
        edge_set: BTreeSet::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
        producers: HashMap::new(),
    };
    for task in &playbook.tasks {
        builder.graph.add_node(task.id);
    }
    let facts = builder.all_facts();
    builder.index_producers(&facts);
    builder.data_edges(&facts);
    let external_imports = builder.module_edges(&facts);
    builder.depends_on_edges();
    builder.block_edges();
    builder.play_order_edges();
    if builder.errors.is_empty() {
        builder.check_cycles();
    }
    if builder.errors.is_empty() {
        Ok(TaskGraph {
            graph: builder.graph,
            facts,
            warnings: builder.warnings,
            external_imports,
            result_reads: result_reads(playbook, extra_vars),
        })
    } else {
        Err(builder.errors)
    }
}

struct Builder<'a> {
    playbook: &'a Playbook,
    extra_vars: &'a IndexMap<String, Json>,
    engine: Engine,
    graph: DiGraph<TaskId, EdgeReason>,
    edge_set: BTreeSet<(TaskId, TaskId, EdgeReason)>,
    errors: Vec<PlaybookError>,
    warnings: Vec<PlaybookError>,
    /// Tasks that set each variable (register or set_fact), in file order.
    producers: HashMap<String, Vec<(TaskId, EdgeReason)>>,
}

impl Builder<'_> {
    fn edge(&mut self, from: TaskId, to: TaskId, reason: EdgeReason) {
        if from != to && self.edge_set.insert((from, to, reason.clone())) {
            self.graph
                .add_edge(NodeIndex::new(from), NodeIndex::new(to), reason);
        }
    }

    fn index_producers(&mut self, facts: &[TaskFacts]) {
        for task in &self.playbook.tasks {
            if let Some(name) = &task.register {
                self.producers
                    .entry(name.clone())
                    .or_default()
                    .push((task.id, EdgeReason::Register(name.clone())));
            }
            let mut sets: Vec<String> = task.module.sets_vars(&task.args);
            for item in &facts[task.id].items {
                for name in &item.sets {
                    if !sets.contains(name) {
                        sets.push(name.clone());
                    }
                }
            }
            for key in sets {
                self.producers
                    .entry(key.clone())
                    .or_default()
                    .push((task.id, EdgeReason::SetFact(key)));
            }
        }
    }

    /// The nearest task before `reader` that sets `name`.
    fn producer_before(&self, name: &str, reader: TaskId) -> Option<(TaskId, EdgeReason)> {
        self.producers
            .get(name)?
            .iter()
            .rev()
            .find(|(id, _)| *id < reader)
            .cloned()
    }

    fn producer_after(&self, name: &str, reader: TaskId) -> Option<TaskId> {
        self.producers
            .get(name)?
            .iter()
            .find(|(id, _)| *id > reader)
            .map(|(id, _)| *id)
    }

    /// Where `name` comes from for `reader`, in Ansible's precedence (see
    /// `runbook_playbook::Playbook::task_scope`).
    fn source(&self, name: &str, reader: TaskId) -> Source {
        let task = &self.playbook.tasks[reader];
        let layer = |rank: VarRank| {
            self.playbook.layers_of(task, rank).find_map(|l| {
                let value = l.vars.get(name)?;
                let location = l
                    .locations
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| task.location.clone());
                Some(Source::Value(value.clone(), location))
            })
        };
        if let Some(spec) = &task.loop_ {
            let defined = name == spec.loop_var
                || spec.index_var.as_deref() == Some(name)
                || (spec.extended && name == "ansible_loop");
            if defined {
                return Source::Magic;
            }
        }
        if let Some(found) = layer(VarRank::LoopItem) {
            return found;
        }
        if let Some(value) = self.extra_vars.get(name) {
            return Source::Value(value.clone(), task.location.clone());
        }
        for rank in [VarRank::IncludeParams, VarRank::RoleParams] {
            if let Some(found) = layer(rank) {
                return found;
            }
        }
        if let Some((producer, _)) = self.producer_before(name, reader) {
            return Source::Task(producer);
        }
        if let Some(arg) = task.vars.get(name) {
            return Source::Value(arg.value.clone(), arg.location.clone());
        }
        for rank in [VarRank::BlockVars, VarRank::RoleVars] {
            if let Some(found) = layer(rank) {
                return found;
            }
        }
        let play = &self.playbook.plays[task.play];
        if let Some(value) = play.vars.get(name) {
            let location = play
                .var_locations
                .get(name)
                .cloned()
                .unwrap_or_else(|| play.location.clone());
            return Source::Value(value.clone(), location);
        }
        if let Some(found) = layer(VarRank::RoleDefaults) {
            return found;
        }
        if MAGIC_VARS.contains(&name) {
            return Source::Magic;
        }
        if matches!(name, "ansible_failed_task" | "ansible_failed_result") && self.in_rescue(task) {
            return Source::Magic;
        }
        Source::Missing
    }

    /// Whether a task is in a `rescue` section, directly or through nested
    /// blocks.
    fn in_rescue(&self, task: &runbook_playbook::Task) -> bool {
        let mut pos = task.block;
        while let Some(p) = pos {
            if p.section == Section::Rescue {
                return true;
            }
            pos = self.playbook.blocks[p.block].parent;
        }
        false
    }

    /// Data edges: each variable a task reads, followed through the vars
    /// that hold templates, leads to the task that produces it.
    fn data_edges(&mut self, facts: &[TaskFacts]) {
        for task in &self.playbook.tasks {
            let mut errors = Vec::new();
            let mut pending: Vec<(Read, Vec<String>)> = task_reads(&self.engine, task, &mut errors)
                .into_iter()
                .map(|r| (r, Vec::new()))
                .collect();
            let mut seen: BTreeSet<String> = BTreeSet::new();
            let mut reported: BTreeSet<String> = BTreeSet::new();
            while let Some((read, via)) = pending.pop() {
                match self.source(&read.name, task.id) {
                    Source::Task(producer) => {
                        let (_, reason) = self
                            .producer_before(&read.name, task.id)
                            .expect("source found a producer");
                        if matches!(reason, EdgeReason::Register(_)) {
                            for (problem, required) in
                                self.unknown_keys(&read, producer, &facts[producer])
                            {
                                if required {
                                    errors.push(problem);
                                } else {
                                    self.warnings.push(problem.in_task(task.display_name()));
                                }
                            }
                        }
                        self.edge(producer, task.id, reason);
                    }
                    Source::Value(value, location) => {
                        // Reading a variable while working out its own value:
                        // a loop that can never render.
                        if read.required
                            && via.contains(&read.name)
                            && reported.insert(read.name.clone())
                        {
                            errors.push(self.recursive(&read, &via));
                        }
                        if seen.insert(read.name.clone()) {
                            let mut chain = via.clone();
                            chain.push(read.name.clone());
                            for inner in value_reads(&self.engine, &value, &location, &mut errors) {
                                pending.push((inner, chain.clone()));
                            }
                        }
                    }
                    Source::Magic => {}
                    Source::Missing => {
                        if read.required && reported.insert(read.name.clone()) {
                            errors.push(self.undefined(&read, &via, task.id));
                        }
                    }
                }
            }
            for err in errors {
                let label = task.display_name();
                self.errors.push(if err.task.is_none() {
                    err.in_task(label)
                } else {
                    err
                });
            }
        }
    }

    /// Reads of keys that the producer's registered result will not have
    /// (an output its stack's template does not declare), each with
    /// whether the read is unguarded (an error) or guarded (a warning).
    fn unknown_keys(
        &self,
        read: &Read,
        producer: TaskId,
        facts: &TaskFacts,
    ) -> Vec<(PlaybookError, bool)> {
        let task = &self.playbook.tasks[producer];
        // A loop registers `results`; its items' fields are not dotted
        // paths of the name.
        let [item] = facts.items.as_slice() else {
            return Vec::new();
        };
        if task.loop_.is_some() || facts.expands_at_run_time {
            return Vec::new();
        }
        let mut problems = Vec::new();
        for path in &read.paths {
            let mut parts = path.split('.').skip(1);
            let (Some(field), Some(key)) = (parts.next(), parts.next()) else {
                continue;
            };
            let Some(known) = item.result_keys.iter().find(|k| k.field == field) else {
                continue;
            };
            if known.keys.contains(key) {
                continue;
            }
            let declared = if known.keys.is_empty() {
                format!("it declares no {}s", known.noun)
            } else {
                format!(
                    "{}s: {}",
                    known.noun,
                    known.keys.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            };
            let help = match suggest(key, known.keys.iter().map(String::as_str)) {
                Some(near) => format!("did you mean `{}.{field}.{near}`?", read.name),
                None => format!("read one of its {}s, or declare `{key}` there", known.noun),
            };
            let problem = PlaybookError::new(
                ErrorKind::Undefined,
                format!(
                    "`{path}` does not exist: task `{}` registers `{}`, and {} declares no {} `{key}` ({declared})",
                    task.display_name(),
                    read.name,
                    known.source,
                    known.noun,
                ),
            )
            .at(read.location.clone())
            .help(format!(
                "{help} (task `{}` is at {})",
                printable(&task.display_name()),
                task.location
            ));
            problems.push((problem, read.required));
        }
        problems
    }

    fn recursive(&self, read: &Read, via: &[String]) -> PlaybookError {
        let start = via.iter().position(|v| *v == read.name).unwrap_or(0);
        let chain: Vec<&str> = via[start..]
            .iter()
            .map(String::as_str)
            .chain([read.name.as_str()])
            .collect();
        PlaybookError::new(
            ErrorKind::Template,
            format!(
                "variable `{}` refers to itself: {}",
                read.name,
                chain.join(" -> ")
            ),
        )
        .at(read.location.clone())
        .help(
            "give one of these variables a value that does not read the others, or pass it with -e",
        )
    }

    fn undefined(&self, read: &Read, via: &[String], reader: TaskId) -> PlaybookError {
        let task = &self.playbook.tasks[reader];
        let through = if via.is_empty() {
            String::new()
        } else {
            format!(
                " (through {})",
                via.iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(" -> ")
            )
        };
        if let Some(skipped) = self.playbook.deselected.iter().find(|d| {
            d.register.as_deref() == Some(read.name.as_str()) || d.sets.contains(&read.name)
        }) {
            return PlaybookError::new(
                ErrorKind::Undefined,
                format!(
                    "`{}`{through} is set by task `{}` ({}), which does not run: {}",
                    read.name, skipped.name, skipped.location, skipped.reason
                ),
            )
            .at(read.location.clone())
            .in_task(task.display_name())
            .help("select that task too (--tags), or guard the read with `| default(...)`");
        }
        if matches!(
            read.name.as_str(),
            "ansible_failed_task" | "ansible_failed_result"
        ) {
            return PlaybookError::new(
                ErrorKind::Undefined,
                format!(
                    "`{}` is only defined in a block's `rescue` tasks",
                    read.name
                ),
            )
            .at(read.location.clone())
            .in_task(task.display_name());
        }
        if read.name.starts_with("ansible_") {
            return PlaybookError::new(
                ErrorKind::Undefined,
                format!(
                    "`{}` is a host fact{through}, and runbook gathers no host facts",
                    read.name
                ),
            )
            .at(read.location.clone())
            .in_task(task.display_name())
            .help("pass the value with -e or set it in vars");
        }
        let mut err = PlaybookError::new(
            ErrorKind::Undefined,
            format!("undefined variable `{}`{through}", read.name),
        )
        .at(read.location.clone())
        .in_task(task.display_name());
        err.help = Some(match self.producer_after(&read.name, reader) {
            Some(later) => format!(
                "`{}` is only set by a later task, `{}` ({}); move that task earlier or add `| default(...)`",
                read.name,
                printable(&self.playbook.tasks[later].display_name()),
                self.playbook.tasks[later].location
            ),
            None => format!(
                "define it with -e {}=..., in vars or vars_files, or guard it with `| default(...)`",
                read.name
            ),
        });
        err
    }

    /// Asks a task's module what it will do, per loop item when the loop's
    /// list is known before running.
    fn task_facts(
        &mut self,
        task: &runbook_playbook::Task,
        extra_vars: &std::sync::Arc<IndexMap<String, Json>>,
    ) -> TaskFacts {
        let name = task.display_name();
        let analyse = |builder: &mut Self, scope: &runbook_template::Scope| {
            let mut cx = Analysis::new(
                &builder.engine,
                scope,
                &task.args,
                &name,
                &task.location,
                &task.search,
                &mut builder.errors,
                &mut builder.warnings,
            );
            task.module.analyse(&mut cx)
        };
        let scope = self.playbook.task_scope(task, extra_vars, &[], false);
        let Some(spec) = &task.loop_ else {
            return TaskFacts::single(analyse(self, &scope));
        };
        let items = match self.engine.render(&spec.items.value, &scope) {
            Ok(value) => match runbook_playbook::loops::items(spec.kind, value) {
                Ok(items) => items,
                Err(why) => {
                    self.errors.push(
                        PlaybookError::new(ErrorKind::Template, why)
                            .at(spec.items.location.clone())
                            .in_task(name.clone()),
                    );
                    return TaskFacts::default();
                }
            },
            Err(err) if runbook_module::not_known_yet(&err) => {
                return TaskFacts {
                    items: vec![analyse(self, &scope)],
                    expands_at_run_time: true,
                    sequential: self.sets_what_it_reads(task),
                };
            }
            Err(err) => {
                self.errors.push(
                    PlaybookError::template(&err)
                        .at(spec.items.location.clone())
                        .in_task(name.clone()),
                );
                return TaskFacts::default();
            }
        };
        let facts = (0..items.len())
            .map(|index| {
                let vars = runbook_playbook::loops::item_vars(spec, &items, index);
                let scope = self.playbook.item_scope(
                    task,
                    extra_vars,
                    &[],
                    false,
                    Some(runbook_template::Layer::concrete(vars)),
                );
                analyse(self, &scope)
            })
            .collect();
        TaskFacts {
            items: facts,
            expands_at_run_time: false,
            sequential: self.sets_what_it_reads(task),
        }
    }

    /// Whether a task reads a variable it sets itself (set_fact that
    /// accumulates over a loop's items).
    fn sets_what_it_reads(&self, task: &runbook_playbook::Task) -> bool {
        let sets = task.module.sets_vars(&task.args);
        if sets.is_empty() {
            return false;
        }
        let mut errors = Vec::new();
        task_reads(&self.engine, task, &mut errors)
            .iter()
            .any(|r| sets.contains(&r.name))
    }

    /// Edges from what each task's module worked out before running: two
    /// tasks that manage the same thing in one account keep file order,
    /// and an importer waits for the exporter of the name it imports.
    /// What every task's module worked out before running.
    fn all_facts(&mut self) -> Vec<TaskFacts> {
        let extra_vars = std::sync::Arc::new(self.extra_vars.clone());
        let all = self
            .playbook
            .tasks
            .iter()
            .map(|task| self.task_facts(task, &extra_vars))
            .collect();
        dedupe(&mut self.errors);
        dedupe(&mut self.warnings);
        all
    }

    fn module_edges(&mut self, all: &[TaskFacts]) -> Vec<ExternalImport> {
        let mut owners: BTreeMap<(AccountKey, Owned), Vec<TaskId>> = BTreeMap::new();
        let mut exports: HashMap<(AccountKey, String), Vec<TaskId>> = HashMap::new();
        let mut imports: Vec<(TaskId, AccountKey, String, Location)> = Vec::new();
        for (id, facts) in all
            .iter()
            .enumerate()
            .flat_map(|(id, f)| f.items.iter().map(move |item| (id, item)))
        {
            let Some(account) = facts.placement.account() else {
                continue;
            };
            for owned in &facts.owns {
                let owners = owners.entry((account.clone(), owned.clone())).or_default();
                if owners.last() != Some(&id) {
                    owners.push(id);
                }
            }
            for name in &facts.exports {
                let exporters = exports.entry((account.clone(), name.clone())).or_default();
                if exporters.last() != Some(&id) {
                    exporters.push(id);
                }
            }
            for import in &facts.imports {
                imports.push((
                    id,
                    account.clone(),
                    import.name.clone(),
                    import.location.clone(),
                ));
            }
        }

        let mut external = Vec::new();
        // One export name, one stack, in an account and region.
        for ((account, name), tasks) in &exports {
            let stacks: BTreeSet<String> = tasks
                .iter()
                .flat_map(|&t| all[t].items.iter().flat_map(|f| f.owns.iter()))
                .map(|o| o.name.clone())
                .collect();
            if tasks.len() > 1 && stacks.len() > 1 {
                let names: Vec<String> = tasks
                    .iter()
                    .map(|&t| format!("`{}`", self.playbook.tasks[t].display_name()))
                    .collect();
                let last = tasks[tasks.len() - 1];
                self.errors.push(
                    PlaybookError::new(
                        ErrorKind::Schema,
                        format!(
                            "export `{name}` is made by more than one stack in {account} (tasks {}): CloudFormation allows one",
                            names.join(", ")
                        ),
                    )
                    .at(self.playbook.tasks[last].location.clone())
                    .in_task(self.playbook.tasks[last].display_name())
                    .help("give each stack its own export names (the stack name in the export name is a common way)"),
                );
            }
        }
        // Two tasks that want one thing differently undo each other.
        for ((account, owned), tasks) in &owners {
            let wanted: Vec<(TaskId, &Json)> = tasks
                .iter()
                .filter_map(|&t| {
                    let item = &all[t];
                    if item.items.len() != 1 {
                        return None;
                    }
                    item.items[0].settings.as_ref().map(|s| (t, s))
                })
                .collect();
            if let Some(pair) = wanted.windows(2).find(|w| w[0].1 != w[1].1) {
                let (a, b) = (
                    &self.playbook.tasks[pair[0].0],
                    &self.playbook.tasks[pair[1].0],
                );
                self.errors.push(
                    PlaybookError::new(
                        ErrorKind::Schema,
                        format!(
                            "tasks `{}` ({}) and `{}` both manage {} `{}` in {account} with different options: it would change back and forth on every run",
                            a.display_name(),
                            a.location,
                            b.display_name(),
                            owned.kind,
                            owned.name
                        ),
                    )
                    .at(b.location.clone())
                    .in_task(b.display_name())
                    .help("manage it in one task, or give the tasks the same options"),
                );
            }
        }
        for ((_, owned), tasks) in owners {
            for pair in tasks.windows(2) {
                self.edge(pair[0], pair[1], EdgeReason::Same(owned.kind));
            }
        }
        for (importer, account, name, location) in imports {
            match exports.get(&(account.clone(), name.clone())) {
                Some(exporters) => {
                    for &exporter in exporters {
                        self.edge(exporter, importer, EdgeReason::Export(name.clone()));
                    }
                }
                None => {
                    self.warnings.push(
                        PlaybookError::new(
                            ErrorKind::Undefined,
                            format!("imports `{name}`, which no task in this playbook exports in {account}"),
                        )
                        .at(location)
                        .in_task(self.playbook.tasks[importer].display_name())
                        .help("the export must already exist in that account; `runbook apply` checks it before changing anything"),
                    );
                    external.push(ExternalImport {
                        task: importer,
                        account,
                        name,
                    });
                }
            }
        }
        external
    }

    fn depends_on_edges(&mut self) {
        for task in &self.playbook.tasks {
            // `vars: {runbook_depends_on: [...]}` is the same, in a form
            // ansible-playbook accepts (it is only a variable there).
            let portable: Vec<runbook_playbook::Arg> = match task.vars.get(PORTABLE_DEPENDS_ON) {
                None => Vec::new(),
                Some(arg) => match &arg.value {
                    Json::Array(items) => items
                        .iter()
                        .map(|v| runbook_playbook::Arg {
                            value: v.clone(),
                            location: arg.location.clone(),
                        })
                        .collect(),
                    _ => vec![arg.clone()],
                },
            };
            for entry in task.depends_on.iter().chain(portable.iter()) {
                let Some(wanted) = entry.value.as_str() else {
                    continue;
                };
                let matches: Vec<TaskId> = self
                    .playbook
                    .tasks
                    .iter()
                    .filter(|t| {
                        t.name.as_deref() == Some(wanted) || t.register.as_deref() == Some(wanted)
                    })
                    .map(|t| t.id)
                    .collect();
                if matches.is_empty() {
                    let names =
                        self.playbook.tasks.iter().flat_map(|t| {
                            t.name.as_deref().into_iter().chain(t.register.as_deref())
                        });
                    let hint = suggest(wanted, names);
                    let mut err = PlaybookError::new(
                        ErrorKind::Schema,
                        format!("`depends_on: {wanted}` names no task (by name or register)"),
                    )
                    .at(entry.location.clone())
                    .in_task(task.display_name());
                    if let Some(h) = hint {
                        err = err.help(format!("did you mean `{}`?", printable(h)));
                    }
                    self.errors.push(err);
                }
                for other in matches {
                    if other == task.id {
                        self.errors.push(
                            PlaybookError::new(
                                ErrorKind::Cycle,
                                format!("`depends_on: {wanted}` names the task itself"),
                            )
                            .at(entry.location.clone())
                            .in_task(task.display_name()),
                        );
                    } else {
                        self.edge(other, task.id, EdgeReason::DependsOn);
                    }
                }
            }
        }
    }

    /// A block's `rescue` waits for every task of the block, and its
    /// `always` for every task of the block and the rescue: the executor
    /// then decides whether they run.
    fn block_edges(&mut self) {
        for block in &self.playbook.blocks {
            let (body, rescue, always) = (&block.tasks[0], &block.tasks[1], &block.tasks[2]);
            // A block with a rescue is a try: its tasks run in order, so
            // that those after a failure do not run, as in Ansible.
            if !rescue.is_empty() {
                for pair in body.windows(2) {
                    self.edge(pair[0], pair[1], EdgeReason::BlockOrder);
                }
            }
            for &r in rescue {
                for &b in body {
                    self.edge(b, r, EdgeReason::Rescue);
                }
            }
            for &a in always {
                for &b in body.iter().chain(rescue) {
                    self.edge(b, a, EdgeReason::Always);
                }
            }
        }
    }

    /// Plays run one after another, as in Ansible: the tasks that end a
    /// play (nothing in it waits for them) come before the tasks that start
    /// the next one (they wait for nothing in it).
    fn play_order_edges(&mut self) {
        let plays = &self.playbook.plays;
        for pair in plays.windows(2) {
            let (done, next) = (&pair[0].tasks, &pair[1].tasks);
            if done.is_empty() || next.is_empty() {
                continue;
            }
            let inside = |task: TaskId, range: &[TaskId]| range.contains(&task);
            let ends: Vec<TaskId> = done
                .iter()
                .copied()
                .filter(|&t| {
                    !self
                        .graph
                        .neighbors(NodeIndex::new(t))
                        .any(|n| inside(n.index(), done))
                })
                .collect();
            let starts: Vec<TaskId> = next
                .iter()
                .copied()
                .filter(|&t| {
                    !self
                        .graph
                        .neighbors_directed(NodeIndex::new(t), petgraph::Direction::Incoming)
                        .any(|n| inside(n.index(), next))
                })
                .collect();
            for &end in &ends {
                for &start in &starts {
                    self.edge(end, start, EdgeReason::PlayOrder);
                }
            }
        }
    }

    fn check_cycles(&mut self) {
        for component in petgraph::algo::tarjan_scc(&self.graph) {
            if component.len() < 2 {
                continue;
            }
            let members: BTreeSet<NodeIndex> = component.iter().copied().collect();
            let start = *members.iter().next().expect("non-empty component");
            let path = cycle_through(&self.graph, start, &members);
            let tasks = &self.playbook.tasks;
            let mut lines = Vec::new();
            for pair in path.windows(2) {
                let (from, to) = (pair[0], pair[1]);
                let reason = self
                    .graph
                    .edges_connecting(from, to)
                    .map(|e| e.weight().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                // One help line per edge: the names inside are made
                // printable so none of them can start a line of its own.
                lines.push(
                    printable(&format!(
                        "`{}` ({}) waits for `{}` ({reason})",
                        tasks[to.index()].display_name(),
                        tasks[to.index()].location,
                        tasks[from.index()].display_name(),
                    ))
                    .into_owned(),
                );
            }
            let names: Vec<String> = path
                .iter()
                .map(|n| format!("`{}`", tasks[n.index()].display_name()))
                .collect();
            self.errors.push(
                PlaybookError::new(
                    ErrorKind::Cycle,
                    format!("dependency cycle: {}", names.join(" -> ")),
                )
                .at(tasks[start.index()].location.clone())
                .help(lines.join("\n")),
            );
        }
    }
}

/// A path start -> ... -> start inside one strongly connected component.
fn cycle_through(
    graph: &DiGraph<TaskId, EdgeReason>,
    start: NodeIndex,
    members: &BTreeSet<NodeIndex>,
) -> Vec<NodeIndex> {
    // Breadth-first from start's successors back to start keeps the
    // reported cycle as short as possible.
    let mut parent: HashMap<NodeIndex, NodeIndex> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        let mut next: Vec<NodeIndex> = graph
            .neighbors(node)
            .filter(|n| members.contains(n))
            .collect();
        next.sort();
        for succ in next {
            if succ == start {
                let mut path = vec![node];
                let mut cur = node;
                while cur != start {
                    cur = parent[&cur];
                    path.push(cur);
                }
                path.reverse();
                path.push(start);
                return path;
            }
            if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(succ) {
                e.insert(node);
                queue.push_back(succ);
            }
        }
    }
    vec![start, start]
}

/// For each task, what the playbook's templates and expressions may read
/// of its registered result, from the dotted variable paths they use.
fn result_reads(playbook: &Playbook, extra_vars: &IndexMap<String, Json>) -> Vec<ResultReads> {
    let engine = Engine::new(&playbook.dir);
    // (text, is a bare expression) of everything that may read variables.
    let mut texts: Vec<(&str, bool)> = Vec::new();
    for task in &playbook.tasks {
        for (option, arg) in &task.args {
            let bare = task.module.spec().is_expression(option);
            texts.extend(
                crate::reads::strings(&arg.value)
                    .into_iter()
                    .map(|t| (t, bare)),
            );
        }
        for arg in task.vars.values() {
            texts.extend(
                crate::reads::strings(&arg.value)
                    .into_iter()
                    .map(|t| (t, false)),
            );
        }
        if let Some(spec) = &task.loop_ {
            texts.extend(
                crate::reads::strings(&spec.items.value)
                    .into_iter()
                    .map(|t| (t, false)),
            );
        }
        for condition in task.when.iter().chain(
            [&task.changed_when, &task.failed_when]
                .into_iter()
                .flatten(),
        ) {
            texts.extend(
                crate::reads::strings(&condition.value)
                    .into_iter()
                    .map(|t| (t, true)),
            );
        }
        for flag in [&task.no_log, &task.ignore_errors].into_iter().flatten() {
            texts.extend(
                crate::reads::strings(&flag.value)
                    .into_iter()
                    .map(|t| (t, false)),
            );
        }
        texts.extend(task.name.as_deref().map(|t| (t, false)));
    }
    for value in playbook
        .plays
        .iter()
        .flat_map(|p| p.vars.values())
        .chain(extra_vars.values())
    {
        texts.extend(crate::reads::strings(value).into_iter().map(|t| (t, false)));
    }
    let mut paths: Vec<String> = Vec::new();
    for (text, bare) in texts {
        match runbook_template::analysis::variable_paths(&engine, text, bare) {
            Ok(found) => paths.extend(found),
            // Unparsable text is reported elsewhere; here it may read anything.
            Err(_) => return vec![ResultReads::Anything; playbook.tasks.len()],
        }
    }
    playbook
        .tasks
        .iter()
        .map(|task| match &task.register {
            None => ResultReads::nothing(),
            Some(name) => reads_of(&paths, name),
        })
        .collect()
}

/// What the dotted paths read of `name`: `name` alone reads anything,
/// `name.field...` reads `field`.
fn reads_of(paths: &[String], name: &str) -> ResultReads {
    let mut fields = std::collections::BTreeSet::new();
    for path in paths {
        match path.strip_prefix(name) {
            Some("") => return ResultReads::Anything,
            Some(rest) => {
                if let Some(tail) = rest.strip_prefix('.') {
                    fields.insert(tail.split('.').next().unwrap_or("").to_string());
                }
                // Otherwise another name that starts the same.
            }
            None => {}
        }
    }
    ResultReads::Fields(fields)
}

#[cfg(test)]
mod tests {
    use super::{reads_of, ResultReads};

    #[test]
    fn fields_read_from_paths() {
        let paths: Vec<String> = [
            "kms.stack_outputs.Arn",
            "kms2.events",
            "other",
            "kms.stack_id",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let ResultReads::Fields(fields) = reads_of(&paths, "kms") else {
            panic!()
        };
        assert_eq!(
            fields.into_iter().collect::<Vec<_>>(),
            ["stack_id", "stack_outputs"]
        );
        assert_eq!(reads_of(&["kms".to_string()], "kms"), ResultReads::Anything);
    }
}
