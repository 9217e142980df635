//! One task's life: `when`, rendering, the module, then `changed_when`,
//! `failed_when`, `ignore_errors` and what gets registered; for a loop,
//! each item's, then the loop's registered `results`.

use crate::fork::TaskFork;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use indexmap::IndexMap;
use runbook_module::schema::{check_value, parse_bool};
use runbook_module::{printable, Call, ModuleFailure, ResultReads, Services, NO_LOG_MESSAGE};
use runbook_playbook::{Json, Loop, Playbook, Task, TaskId};
use runbook_template::{Engine, Layer, Scope, OMIT};
use tokio::sync::Semaphore;

use crate::progress::EventSink;
use crate::Status;

/// What one item of a loop did, for the recap.
#[derive(Debug, Clone)]
pub struct ItemRecord {
    pub status: Status,
    pub target: Option<String>,
}

/// What running a task produced.
pub(crate) struct Outcome {
    pub status: Status,
    pub target: Option<String>,
    pub message: Option<String>,
    pub details: Vec<String>,
    /// The value for `register`.
    pub registered: Json,
    pub facts: IndexMap<String, Json>,
    /// The rendered options the module ran with, per item (`None` for an
    /// item that did not run).
    pub args: Vec<Option<IndexMap<String, Json>>>,
    /// Per item, for a loop.
    pub items: Vec<ItemRecord>,
    /// The module's plan as data (per item for a loop).
    pub plan: Option<Json>,
    pub warnings: Vec<String>,
    /// An enclosing include's condition was false: the task is not run,
    /// as Ansible never includes it (no status, no register).
    pub not_included: bool,
    /// The task's fork, given back once the walk has taken in what the
    /// task did: a task waiting for a fork then sees whether the run
    /// stopped.
    pub permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Outcome {
    /// A module that panicked: a bug in runbook, reported as a failure.
    pub(crate) fn panicked(why: &str) -> Self {
        Outcome::failed(
            printable(&format!(
                "internal error in runbook (please report it): {why}"
            ))
            .into_owned(),
            None,
        )
    }

    fn failed(message: String, target: Option<String>) -> Self {
        Outcome {
            status: Status::Failed,
            target,
            message: Some(message.clone()),
            details: Vec::new(),
            registered: serde_json::json!({"changed": false, "failed": true, "msg": message}),
            facts: IndexMap::new(),
            args: Vec::new(),
            items: Vec::new(),
            plan: None,
            warnings: Vec::new(),
            not_included: false,
            permit: None,
        }
    }
}

pub(crate) struct TaskContext {
    pub playbook: Arc<Playbook>,
    pub engine: Engine,
    pub extra_vars: Arc<IndexMap<String, Json>>,
    /// Results and facts so far, newest first: one small layer per task
    /// that produced any, so a finished task adds to them without copying.
    pub facts: Arc<Vec<Layer>>,
    /// Variables only this task sees (`ansible_failed_task` in a rescue).
    pub extra: Option<Layer>,
    pub check: bool,
    pub diff: bool,
    pub saved: Option<Arc<crate::SavedRun>>,
    pub verbosity: u8,
    pub result_reads: ResultReads,
    pub services: Arc<Services>,
    /// Bounds how many tasks and loop items run at once (`--forks`).
    pub permits: Arc<Semaphore>,
    /// The loop's items must run one after another (an item reads what an
    /// earlier one set).
    pub sequential: bool,
    /// The fork of a task without a loop, taken by the walk before it
    /// started the task (a loop's items each take their own).
    pub permit: Option<tokio::sync::OwnedSemaphorePermit>,
    /// Wakes the walk when a waiting task gives its fork back.
    pub wake: Arc<tokio::sync::Notify>,
}

impl TaskContext {
    fn fork(&self, permit: Option<tokio::sync::OwnedSemaphorePermit>) -> TaskFork {
        TaskFork::new(permit, self.permits.clone(), self.wake.clone())
    }

    fn scope(&self, task: &Task, item: Option<Layer>, facts: &[Layer]) -> Scope {
        let mut layers: Vec<Layer> = Vec::with_capacity(facts.len() + self.facts.len() + 1);
        layers.extend(facts.iter().cloned());
        layers.extend(self.extra.iter().cloned());
        layers.extend(self.facts.iter().cloned());
        self.playbook
            .item_scope(task, &self.extra_vars, &layers, self.check, item)
    }
}

/// What one run of the module (a task, or one item of a loop) gave.
struct Ran {
    status: Status,
    target: Option<String>,
    message: Option<String>,
    details: Vec<String>,
    registered: serde_json::Map<String, Json>,
    facts: IndexMap<String, Json>,
    args: Option<IndexMap<String, Json>>,
    /// The message is safe to show under no_log (it names only a place).
    safe: bool,
    plan: Option<Json>,
    warnings: Vec<String>,
}

impl Ran {
    fn failed(message: String, target: Option<String>) -> Self {
        let mut registered = serde_json::Map::new();
        registered.insert("changed".into(), Json::Bool(false));
        registered.insert("failed".into(), Json::Bool(true));
        registered.insert("msg".into(), Json::String(message.clone()));
        Ran {
            status: Status::Failed,
            target,
            message: Some(message),
            details: Vec::new(),
            registered,
            facts: IndexMap::new(),
            args: None,
            safe: true,
            plan: None,
            warnings: Vec::new(),
        }
    }

    fn skipped(when: &Json) -> Self {
        let mut registered = serde_json::Map::new();
        registered.insert("changed".into(), Json::Bool(false));
        registered.insert("skipped".into(), Json::Bool(true));
        registered.insert(
            "skip_reason".into(),
            Json::String("Conditional result was False".into()),
        );
        registered.insert("false_condition".into(), when.clone());
        Ran {
            status: Status::Skipped,
            target: None,
            message: None,
            details: Vec::new(),
            registered,
            facts: IndexMap::new(),
            args: None,
            safe: true,
            plan: None,
            warnings: Vec::new(),
        }
    }
}

pub(crate) async fn execute(
    mut ctx: TaskContext,
    id: TaskId,
    sink: EventSink,
    started: impl FnOnce(Option<String>) + Send + 'static,
) -> Outcome {
    let task = &ctx.playbook.tasks[id];
    let scope = ctx.scope(task, None, &[]);
    // Known before anything is evaluated, so that even a condition's error
    // cannot show a secret.
    let no_log = match &task.no_log {
        None => false,
        Some(arg) => match ctx.engine.render(&arg.value, &scope) {
            Ok(Json::Bool(b)) => b,
            Ok(Json::String(s)) => parse_bool(&s).unwrap_or(true),
            // Unsure means hidden: a secret must never leak by accident.
            _ => true,
        },
    };
    // An include's condition decides whether its tasks exist at all.
    for when in &task.include_when {
        match ctx.engine.eval_condition(&when.value, &scope) {
            Ok(true) => {}
            Ok(false) => {
                let mut outcome = Outcome::failed(String::new(), None);
                outcome.not_included = true;
                outcome.permit = ctx.permit.take();
                return outcome;
            }
            Err(err) => {
                started(None);
                let message = if no_log {
                    format!("`when` of the include at {} failed; the error is hidden because the task has no_log", when.location)
                } else {
                    printable(&format!(
                        "`when` of the include at {}: {err}",
                        when.location
                    ))
                    .into_owned()
                };
                return Outcome::failed(message, None);
            }
        }
    }
    let mut outcome = match &task.loop_ {
        None => {
            let permit = ctx.permit.take();
            let fork = ctx.fork(permit);
            let ran = once(
                &ctx,
                task,
                0,
                &scope,
                no_log,
                Some(Box::new(started)),
                Running {
                    sink: &sink,
                    fork: &fork,
                },
            )
            .await;
            let mut outcome = single(ran, no_log);
            outcome.permit = fork.into_permit();
            outcome
        }
        Some(spec) => looped(&ctx, task, spec, &scope, no_log, &sink, started).await,
    };
    // Whatever failed, the module or the task's own templates and
    // conditions, `ignore_errors` lets the run go past it, as in Ansible.
    if outcome.status == Status::Failed {
        if ignores_errors(&ctx.engine, task, &scope) {
            outcome.status = Status::Ignored;
        } else {
            outcome.facts.clear();
        }
    }
    outcome
}

/// The outcome of a task without a loop.
fn single(ran: Ran, no_log: bool) -> Outcome {
    let mut registered = ran.registered;
    if no_log {
        registered.insert("_ansible_no_log".into(), Json::Bool(true));
    }
    let (message, details) = if no_log && !ran.safe {
        (ran.message.map(|_| NO_LOG_MESSAGE.to_string()), Vec::new())
    } else if no_log {
        (ran.message, Vec::new())
    } else {
        (ran.message, ran.details)
    };
    Outcome {
        status: ran.status,
        target: ran.target,
        message,
        details,
        registered: Json::Object(registered),
        facts: ran.facts,
        args: vec![ran.args],
        items: Vec::new(),
        plan: ran.plan,
        warnings: ran.warnings,
        not_included: false,
        permit: None,
    }
}

type Announce = Box<dyn FnOnce(Option<String>) + Send>;

/// Runs the module once (a task, or one item): `when`, rendering, the
/// module, `changed_when`/`failed_when`. `started` is called when the
/// task is known to run (or to be skipped), with its target.
/// What a running task (or item) reports to, and its fork.
#[derive(Clone, Copy)]
struct Running<'a> {
    sink: &'a EventSink,
    fork: &'a TaskFork,
}

async fn once(
    ctx: &TaskContext,
    task: &Task,
    item: usize,
    scope: &Scope,
    no_log: bool,
    started: Option<Announce>,
    to: Running<'_>,
) -> Ran {
    let Running { sink, fork } = to;
    let announce = |started: Option<Announce>, target: Option<String>| {
        if let Some(started) = started {
            started(target);
        }
    };
    // A condition's error may quote values; under no_log only its place shows.
    let condition_error = |keyword: &str, location: &dyn std::fmt::Display, err: String| {
        if no_log {
            format!(
                "`{keyword}` at {location} failed; the error is hidden because the task has no_log"
            )
        } else {
            printable(&format!("`{keyword}` at {location}: {err}")).into_owned()
        }
    };

    for when in &task.when {
        match ctx.engine.eval_condition(&when.value, scope) {
            Ok(true) => {}
            Ok(false) => {
                let target = target_if_known(ctx, task, scope);
                announce(started, target.clone());
                let mut ran = Ran::skipped(&when.value);
                ran.target = target;
                return ran;
            }
            Err(err) => {
                let target = target_if_known(ctx, task, scope);
                announce(started, target.clone());
                return Ran::failed(
                    condition_error("when", &when.location, err.to_string()),
                    target,
                );
            }
        }
    }

    let args = match render_args(&ctx.engine, task, scope) {
        Ok(args) => args,
        Err(message) => {
            let target = target_if_known(ctx, task, scope);
            announce(started, target.clone());
            let message = if no_log {
                NO_LOG_MESSAGE.to_string()
            } else {
                message
            };
            return Ran::failed(message, target);
        }
    };
    let target = task.module.target_label(&args, &ctx.services);
    announce(started, target.clone());
    if let Some(saved) = &ctx.saved {
        if let Some(why) = saved.refuse(task.id, item, &args) {
            return Ran::failed(format!("refused by the saved plan: {why}"), target);
        }
    }
    let expected = ctx.saved.as_ref().and_then(|s| s.plan(task.id, item));

    let ran_with = args.clone();
    let result = task
        .module
        .run(Call {
            args,
            check: ctx.check,
            diff: ctx.diff,
            no_log,
            verbosity: ctx.verbosity,
            reads: &ctx.result_reads,
            engine: &ctx.engine,
            scope,
            search: &task.search,
            progress: sink,
            fork,
            services: &ctx.services,
            expected,
        })
        .await;

    let mut plan = None;
    let mut warnings = Vec::new();
    let (mut changed, mut failed, mut registered, message, details, facts) = match result {
        Ok(output) => {
            let mut map = output.result;
            map.insert("changed".into(), Json::Bool(output.changed));
            map.insert("failed".into(), Json::Bool(false));
            plan = output.plan;
            warnings = output.warnings;
            (
                output.changed,
                false,
                map,
                output.message,
                output.details,
                output.facts,
            )
        }
        Err(ModuleFailure {
            message,
            mut result,
            details,
        }) => {
            result.insert("changed".into(), Json::Bool(false));
            result.insert("failed".into(), Json::Bool(true));
            // A module may register its own `msg` (the raw text of a
            // `fail`), and show a printable one.
            result
                .entry("msg")
                .or_insert_with(|| Json::String(message.clone()));
            (false, true, result, Some(message), details, IndexMap::new())
        }
    };

    // changed_when / failed_when see the task's own result under its
    // register name, as in Ansible.
    if task.changed_when.is_some() || task.failed_when.is_some() {
        let mut own = IndexMap::new();
        if let Some(name) = &task.register {
            own.insert(name.clone(), Json::Object(registered.clone()));
        }
        let mut with_own = scope.clone();
        with_own.push_higher(Layer::concrete(own));
        if let Some(cond) = &task.changed_when {
            match ctx.engine.eval_condition(&cond.value, &with_own) {
                Ok(value) => changed = value,
                Err(err) => {
                    return Ran::failed(
                        condition_error("changed_when", &cond.location, err.to_string()),
                        target,
                    )
                }
            }
        }
        if let Some(cond) = &task.failed_when {
            match ctx.engine.eval_condition(&cond.value, &with_own) {
                Ok(value) => failed = value,
                Err(err) => {
                    return Ran::failed(
                        condition_error("failed_when", &cond.location, err.to_string()),
                        target,
                    )
                }
            }
        }
        registered.insert("changed".into(), Json::Bool(changed));
        registered.insert("failed".into(), Json::Bool(failed));
    }

    let status = match (failed, changed) {
        (true, _) => Status::Failed,
        (false, true) => Status::Changed,
        (false, false) => Status::Ok,
    };
    Ran {
        status,
        target,
        message,
        details,
        registered,
        facts,
        args: Some(ran_with),
        safe: false,
        plan: if no_log { None } else { plan },
        warnings: if no_log { Vec::new() } else { warnings },
    }
}

/// A task with a loop: its items run at once (each taking a fork), or one
/// after another when an item reads what an earlier one set; the result
/// is registered as Ansible shapes it.
async fn looped(
    ctx: &TaskContext,
    task: &Task,
    spec: &Loop,
    scope: &Scope,
    no_log: bool,
    sink: &EventSink,
    started: impl FnOnce(Option<String>) + Send,
) -> Outcome {
    let items = match ctx
        .engine
        .render(&spec.items.value, scope)
        .map_err(|err| {
            printable(&format!(
                "`{}` at {}: {err}",
                spec.kind.keyword(),
                spec.items.location
            ))
            .into_owned()
        })
        .and_then(|value| {
            runbook_playbook::loops::items(spec.kind, value).map_err(|why| {
                printable(&format!("{why} (at {})", spec.items.location)).into_owned()
            })
        }) {
        Ok(items) => items,
        Err(message) => {
            started(None);
            let message = if no_log {
                NO_LOG_MESSAGE.to_string()
            } else {
                message
            };
            return Outcome::failed(message, None);
        }
    };
    started(None);
    if items.is_empty() {
        return Outcome {
            status: Status::Skipped,
            target: None,
            message: None,
            details: Vec::new(),
            registered: serde_json::json!({
                "changed": false,
                "results": [],
                "skipped": true,
                "skipped_reason": "No items in the list",
            }),
            facts: IndexMap::new(),
            args: Vec::new(),
            items: Vec::new(),
            plan: None,
            warnings: Vec::new(),
            not_included: false,
            permit: None,
        };
    }
    let item_layer =
        |index: usize| Layer::concrete(runbook_playbook::loops::item_vars(spec, &items, index));
    let label = |index: usize, scope: &Scope| -> String {
        if no_log {
            return "(hidden: no_log)".into();
        }
        match &spec.label {
            Some(label) => match ctx.engine.render(&label.value, scope) {
                Ok(Json::String(s)) => s,
                Ok(other) => other.to_string(),
                Err(_) => show(&items[index]),
            },
            None => show(&items[index]),
        }
    };

    let mut ran: Vec<Ran> = Vec::with_capacity(items.len());
    if ctx.sequential {
        // Each item sees the facts the items before it set.
        let mut earlier: Vec<Layer> = Vec::new();
        for index in 0..items.len() {
            let scope = ctx.scope(task, Some(item_layer(index)), &earlier);
            let fork = ctx.fork(ctx.permits.clone().acquire_owned().await.ok());
            let result = once(
                ctx,
                task,
                index,
                &scope,
                no_log,
                None,
                Running { sink, fork: &fork },
            )
            .await;
            drop(fork);
            item_progress(sink, &label(index, &scope), &result, no_log);
            if !result.facts.is_empty() {
                earlier.insert(0, Layer::concrete(result.facts.clone()));
            }
            ran.push(result);
        }
    } else {
        let runs: Vec<_> = (0..items.len())
            .map(|index| {
                let scope = ctx.scope(task, Some(item_layer(index)), &[]);
                let name = label(index, &scope);
                async move {
                    let fork = ctx.fork(ctx.permits.clone().acquire_owned().await.ok());
                    let result = once(
                        ctx,
                        task,
                        index,
                        &scope,
                        no_log,
                        None,
                        Running { sink, fork: &fork },
                    )
                    .await;
                    drop(fork);
                    item_progress(sink, &name, &result, no_log);
                    result
                }
            })
            .collect();
        ran = join_all(runs).await;
    }

    let mut results = Vec::with_capacity(ran.len());
    let mut facts = IndexMap::new();
    let mut args = Vec::new();
    let mut records = Vec::new();
    let mut plans = Vec::new();
    let mut warnings = Vec::new();
    let (mut changed, mut failed, mut all_skipped) = (false, false, true);
    let mut failures = Vec::new();
    for (index, item) in ran.into_iter().enumerate() {
        changed |= item.status == Status::Changed;
        failed |= item.status == Status::Failed;
        all_skipped &= item.status == Status::Skipped;
        if item.status == Status::Failed {
            if let Some(message) = &item.message {
                failures.push(format!("item {}: {message}", index + 1));
            }
        }
        records.push(ItemRecord {
            status: item.status,
            target: item.target.clone(),
        });
        facts.extend(item.facts);
        args.push(item.args);
        plans.push(item.plan);
        warnings.extend(item.warnings);
        let mut result = item.registered;
        for (key, value) in runbook_playbook::loops::item_vars(spec, &items, index) {
            result.insert(key, value);
        }
        result.insert(
            "ansible_loop_var".into(),
            Json::String(spec.loop_var.clone()),
        );
        if let Some(index_var) = &spec.index_var {
            result.insert("ansible_index_var".into(), Json::String(index_var.clone()));
        }
        if no_log {
            result.insert("_ansible_no_log".into(), Json::Bool(true));
        }
        results.push(Json::Object(result));
    }
    let targets: std::collections::BTreeSet<_> =
        records.iter().filter_map(|r| r.target.clone()).collect();
    let target = if targets.len() == 1 {
        targets.into_iter().next()
    } else {
        None
    };
    let mut registered = serde_json::Map::new();
    registered.insert("changed".into(), Json::Bool(changed));
    registered.insert("results".into(), Json::Array(results));
    registered.insert("skipped".into(), Json::Bool(all_skipped));
    let status = if failed {
        registered.insert("failed".into(), Json::Bool(true));
        registered.insert(
            "msg".into(),
            Json::String("One or more items failed".into()),
        );
        Status::Failed
    } else if all_skipped {
        registered.insert("msg".into(), Json::String("All items skipped".into()));
        Status::Skipped
    } else {
        registered.insert("msg".into(), Json::String("All items completed".into()));
        if changed {
            Status::Changed
        } else {
            Status::Ok
        }
    };
    let n = records.len();
    let count = |s: Status| records.iter().filter(|r| r.status == s).count();
    let message = if failed && !no_log {
        let mut text = String::from("One or more items failed");
        for line in &failures {
            text.push_str(&format!("\n{line}"));
        }
        Some(text)
    } else if failed {
        Some(NO_LOG_MESSAGE.to_string())
    } else {
        Some(format!(
            "{n} item{}: {} changed, {} ok, {} skipped",
            if n == 1 { "" } else { "s" },
            count(Status::Changed),
            count(Status::Ok),
            count(Status::Skipped)
        ))
    };
    Outcome {
        status,
        target,
        message,
        details: Vec::new(),
        registered: Json::Object(registered),
        facts,
        args,
        items: records,
        plan: if plans.iter().all(Option::is_none) {
            None
        } else {
            Some(Json::Array(
                plans.into_iter().map(|p| p.unwrap_or(Json::Null)).collect(),
            ))
        },
        warnings,
        not_included: false,
        permit: None,
    }
}

/// One line per finished item, as Ansible shows `(item=...)`.
fn item_progress(sink: &EventSink, label: &str, ran: &Ran, no_log: bool) {
    use runbook_module::Progress;
    let mut line = format!("(item={label}) {}", ran.status.label());
    if let Some(target) = &ran.target {
        line.push_str(&format!(" [{target}]"));
    }
    if !no_log {
        if let Some(message) = ran.message.as_ref().filter(|m| !m.is_empty()) {
            line.push_str(&format!(": {}", message.lines().next().unwrap_or("")));
        }
    }
    sink.progress(line);
}

/// An item as Ansible shows it.
fn show(item: &Json) -> String {
    match item {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Polls futures together on the current task (items of one loop share
/// its task; the forks semaphore bounds the work).
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// Whether the task's `ignore_errors` is true (a template that does not
/// render counts as false: the failure stands).
fn ignores_errors(engine: &Engine, task: &Task, scope: &Scope) -> bool {
    match &task.ignore_errors {
        None => false,
        Some(arg) => match engine.render(&arg.value, scope) {
            Ok(Json::Bool(b)) => b,
            Ok(Json::String(s)) => parse_bool(&s) == Some(true),
            _ => false,
        },
    }
}

/// Renders the options, drops `omit`, and checks the rendered values
/// against the module's option types.
/// The target a task would have acted on, for the recap of a task that
/// never got that far (skipped, or an option that does not render): the
/// options that render now, given to the module's `target_label`.
/// An option that does not render counts only if the label does not
/// depend on it: the label must come out the same with a stand-in value.
fn target_if_known(ctx: &TaskContext, task: &Task, scope: &Scope) -> Option<String> {
    let mut rendered = IndexMap::new();
    let mut stand_ins = IndexMap::new();
    for (name, arg) in &task.args {
        match ctx.engine.render(&arg.value, scope) {
            Ok(value) => {
                if let Some(value) = drop_omitted(value) {
                    rendered.insert(name.clone(), value.clone());
                    stand_ins.insert(name.clone(), value);
                }
            }
            Err(_) => {
                stand_ins.insert(name.clone(), Json::String("(not rendered)".into()));
            }
        }
    }
    let label = task.module.target_label(&rendered, &ctx.services)?;
    (rendered.len() == stand_ins.len()
        || task.module.target_label(&stand_ins, &ctx.services).as_ref() == Some(&label))
    .then_some(label)
}

fn render_args(
    engine: &Engine,
    task: &Task,
    scope: &Scope,
) -> Result<IndexMap<String, Json>, String> {
    let mut out = IndexMap::with_capacity(task.args.len());
    for (name, arg) in &task.args {
        let value = engine.render(&arg.value, scope).map_err(|err| {
            printable(&format!("option `{name}` at {}: {err}", arg.location)).into_owned()
        })?;
        let Some(value) = drop_omitted(value) else {
            continue;
        };
        let module = task.module.spec();
        if let Some(spec) = module.option(name) {
            // A value that held a template is not quoted: it may be a secret.
            let literal = arg.value == value;
            check_value(spec, &value, literal).map_err(|message| {
                printable(&format!(
                    "{message} (module {}, at {})",
                    module.fqcn, arg.location
                ))
                .into_owned()
            })?;
        }
        out.insert(name.clone(), value);
    }
    let module = task.module.spec();
    for spec in module.options.iter().filter(|o| o.required) {
        if !out.contains_key(spec.name) {
            return Err(format!(
                "missing required option `{}` for module {} (it rendered to omit)",
                spec.name, module.fqcn
            ));
        }
    }
    Ok(out)
}

/// Removes values equal to `omit`, at any depth of mappings.
fn drop_omitted(value: Json) -> Option<Json> {
    match value {
        Json::String(s) if s == OMIT => None,
        Json::Object(map) => Some(Json::Object(
            map.into_iter()
                .filter_map(|(k, v)| drop_omitted(v).map(|v| (k, v)))
                .collect(),
        )),
        Json::Array(items) => Some(Json::Array(
            items.into_iter().filter_map(drop_omitted).collect(),
        )),
        other => Some(other),
    }
}
