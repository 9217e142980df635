//! One task's life: `when`, rendering, the module, then `changed_when`,
//! `failed_when`, `ignore_errors` and what gets registered.

use std::sync::Arc;

use indexmap::IndexMap;
use runbook_module::schema::{check_value, parse_bool};
use runbook_module::{Call, ModuleFailure, ResultReads, Services, NO_LOG_MESSAGE};
use runbook_playbook::{Json, Playbook, Task, TaskId};
use runbook_template::{Engine, Layer, Scope, OMIT};

use crate::progress::EventSink;
use crate::Status;

/// What running a task produced.
pub(crate) struct Outcome {
    pub status: Status,
    pub target: Option<String>,
    pub message: Option<String>,
    pub details: Vec<String>,
    /// The value for `register`.
    pub registered: Json,
    pub facts: IndexMap<String, Json>,
    /// The rendered options the module ran with, when it ran.
    pub args: Option<IndexMap<String, Json>>,
}

impl Outcome {
    /// A module that panicked: a bug in runbook, reported as a failure.
    pub(crate) fn panicked(why: &str) -> Self {
        Outcome::failed(
            format!("internal error in runbook (please report it): {why}"),
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
            args: None,
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
    pub check: bool,
    pub verbosity: u8,
    pub result_reads: ResultReads,
    pub services: Arc<Services>,
}

impl TaskContext {
    fn scope(&self, task: &Task) -> Scope {
        self.playbook
            .task_scope(task, &self.extra_vars, &self.facts, self.check)
    }
}

pub(crate) async fn execute(
    ctx: TaskContext,
    id: TaskId,
    sink: EventSink,
    started: impl FnOnce(Option<String>),
) -> Outcome {
    let task = &ctx.playbook.tasks[id];
    let scope = ctx.scope(task);
    let mut outcome = attempt(&ctx, id, &scope, sink, started).await;
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

async fn attempt(
    ctx: &TaskContext,
    id: TaskId,
    scope: &Scope,
    sink: EventSink,
    started: impl FnOnce(Option<String>),
) -> Outcome {
    let task = &ctx.playbook.tasks[id];
    // Known before anything is evaluated, so that even a condition's error
    // cannot show a secret.
    let no_log = match &task.no_log {
        None => false,
        Some(arg) => match ctx.engine.render(&arg.value, scope) {
            Ok(Json::Bool(b)) => b,
            Ok(Json::String(s)) => parse_bool(&s).unwrap_or(true),
            // Unsure means hidden: a secret must never leak by accident.
            _ => true,
        },
    };

    // A condition's error may quote values; under no_log only its place shows.
    let condition_error = |keyword: &str, location: &dyn std::fmt::Display, err: String| {
        if no_log {
            format!(
                "`{keyword}` at {location} failed; the error is hidden because the task has no_log"
            )
        } else {
            format!("`{keyword}` at {location}: {err}")
        }
    };

    if let Some(when) = &task.when {
        match ctx.engine.eval_condition(&when.value, scope) {
            Ok(true) => {}
            Ok(false) => {
                started(None);
                return Outcome {
                    status: Status::Skipped,
                    target: None,
                    message: None,
                    details: Vec::new(),
                    registered: serde_json::json!({
                        "changed": false,
                        "skipped": true,
                        "skip_reason": "Conditional result was False",
                        "false_condition": when.value,
                    }),
                    facts: IndexMap::new(),
                    args: None,
                };
            }
            Err(err) => {
                started(None);
                return Outcome::failed(
                    condition_error("when", &when.location, err.to_string()),
                    None,
                );
            }
        }
    }

    let args = match render_args(&ctx.engine, task, scope) {
        Ok(args) => args,
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
    let target = task.module.target_label(&args, &ctx.services);
    started(target.clone());

    let ran_with = args.clone();
    let result = task
        .module
        .run(Call {
            args,
            check: ctx.check,
            no_log,
            verbosity: ctx.verbosity,
            reads: &ctx.result_reads,
            engine: &ctx.engine,
            scope,
            base_dir: &ctx.playbook.dir,
            progress: &sink,
            services: &ctx.services,
        })
        .await;

    let (mut changed, mut failed, mut registered, message, details, facts) = match result {
        Ok(output) => {
            let mut map = output.result;
            map.insert("changed".into(), Json::Bool(output.changed));
            map.insert("failed".into(), Json::Bool(false));
            if let Some(msg) = &output.message {
                map.entry("msg")
                    .or_insert_with(|| Json::String(msg.clone()));
            }
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
            result.insert("msg".into(), Json::String(message.clone()));
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
                    return Outcome::failed(
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
                    return Outcome::failed(
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
    let (message, details) = if no_log {
        (message.map(|_| NO_LOG_MESSAGE.to_string()), Vec::new())
    } else {
        (message, details)
    };
    if no_log {
        registered.insert("_ansible_no_log".into(), Json::Bool(true));
    }
    Outcome {
        status,
        target,
        message,
        details,
        registered: Json::Object(registered),
        facts,
        args: Some(ran_with),
    }
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
fn render_args(
    engine: &Engine,
    task: &Task,
    scope: &Scope,
) -> Result<IndexMap<String, Json>, String> {
    let mut out = IndexMap::with_capacity(task.args.len());
    for (name, arg) in &task.args {
        let value = engine
            .render(&arg.value, scope)
            .map_err(|err| format!("option `{name}` at {}: {err}", arg.location))?;
        let Some(value) = drop_omitted(value) else {
            continue;
        };
        let module = task.module.spec();
        if let Some(spec) = module.option(name) {
            // A value that held a template is not quoted: it may be a secret.
            let literal = arg.value == value;
            check_value(spec, &value, literal).map_err(|message| {
                format!("{message} (module {}, at {})", module.fqcn, arg.location)
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
