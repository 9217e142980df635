//! `runbook destroy`: delete the playbook's stacks, last created first.
//!
//! Stack names and accounts may come from other tasks' results, so the
//! playbook first runs in check mode (no change, nothing printed) to learn
//! them; then each stack is deleted once everything that depends on it is
//! gone, concurrently where the graph allows.

use std::collections::HashSet;
use std::sync::Arc;

use indexmap::IndexMap;
use runbook_executor::{Event, Reporter, RunOptions, Status};
use runbook_playbook::{Arg, Json, ModuleKind, Playbook, TaskId};
use runbook_template::{Engine, Layer};

use crate::args::ApplyArgs;
use crate::diagnostics::Printer;
use crate::exit;

/// Swallows the discovery run's events; its failures are reported after.
struct Quiet;

impl Reporter for Quiet {
    fn event(&self, _: Event) {}
}

pub fn run(args: &ApplyArgs, printer: &Printer) -> i32 {
    let analysed = match super::analyse(&args.common, printer) {
        Ok(a) => a,
        Err(code) => return code,
    };
    super::apply::run_async(
        printer,
        destroy(args, analysed, printer),
        "deletions already started keep going in AWS; run destroy again to finish",
    )
}

/// The options that say where a stack is; the rest do not matter to delete it.
const WHERE: [&str; 4] = ["stack_name", "profile", "region", "endpoint_url"];

async fn destroy(args: &ApplyArgs, analysed: super::Analysed, printer: &Printer) -> i32 {
    let super::Analysed {
        extra_vars,
        playbook,
        graph,
    } = analysed;
    let (pool, runner) = super::apply::runner_for(args);
    if let Err(code) = super::apply::preflight(&graph, &pool, &runner, printer, args.check).await {
        return code;
    }
    let playbook = Arc::new(playbook);
    let extra_vars = Arc::new(extra_vars);

    // Learn every stack's name and account without changing anything.
    let discovery = runbook_executor::run(
        playbook.clone(),
        &graph,
        extra_vars.clone(),
        runner.clone(),
        RunOptions {
            forks: usize::from(args.forks),
            check: true,
            keep_going: false,
            verbosity: 0,
        },
        Arc::new(Quiet),
    )
    .await;
    if discovery.failed() || discovery.not_run() > 0 {
        for (id, record) in discovery.records.iter().enumerate() {
            if let Some(record) = record.as_ref().filter(|r| r.status == Status::Failed) {
                let task = &playbook.tasks[id];
                printer.message(
                    &format!(
                        "cannot work out what to delete: task `{}` ({}) failed in check mode: {}",
                        task.display_name(),
                        task.location,
                        record.message.as_deref().unwrap_or("")
                    ),
                    Some("fix it, or delete the stacks by hand; nothing was deleted"),
                );
            }
        }
        return exit::TASK_FAILED;
    }

    let engine = Engine::new(&playbook.dir);
    let facts = [Layer::concrete(discovery.facts.clone())];
    let mut keep: Vec<TaskId> = Vec::new();
    let mut seen: HashSet<Vec<Json>> = HashSet::new();
    let mut teardown_tasks = Vec::new();
    // Last occurrence first, so a stack managed twice is deleted once, at
    // the position of its last task.
    for task in playbook.tasks.iter().rev() {
        if task.module.kind != ModuleKind::CloudFormation {
            continue;
        }
        let skipped = discovery.records[task.id]
            .as_ref()
            .is_none_or(|r| r.status == Status::Skipped);
        if skipped {
            continue;
        }
        let scope = playbook.task_scope(task, &extra_vars, &facts, true);
        let mut args_out = IndexMap::new();
        for key in WHERE.iter().chain(["state"].iter()) {
            if let Some(arg) = task.arg(key) {
                match engine.render(&arg.value, &scope) {
                    Ok(value) => {
                        args_out.insert(
                            key.to_string(),
                            Arg {
                                value,
                                location: arg.location.clone(),
                            },
                        );
                    }
                    Err(err) => {
                        printer.message(
                            &format!(
                                "cannot work out option `{key}` of task `{}`: {err}",
                                task.display_name()
                            ),
                            Some("nothing was deleted"),
                        );
                        return exit::TASK_FAILED;
                    }
                }
            }
        }
        if args_out.get("state").is_some_and(|a| a.value == "absent") {
            continue;
        }
        let identity: Vec<Json> = WHERE
            .iter()
            .map(|k| {
                args_out
                    .get(*k)
                    .map(|a| a.value.clone())
                    .unwrap_or(Json::Null)
            })
            .collect();
        if !seen.insert(identity) {
            continue;
        }
        args_out.insert(
            "state".into(),
            Arg {
                value: Json::String("absent".into()),
                location: task.location.clone(),
            },
        );
        keep.push(task.id);
        teardown_tasks.push((task.clone(), args_out));
    }
    keep.reverse();
    teardown_tasks.reverse();

    let teardown_graph = graph.teardown(&keep);
    let teardown = teardown_playbook(&playbook, teardown_tasks);
    super::apply::run_reported(
        Arc::new(teardown),
        &teardown_graph,
        extra_vars,
        runner,
        args,
    )
    .await
}

/// A playbook of delete tasks only, numbered in teardown order.
fn teardown_playbook(
    playbook: &Playbook,
    tasks: Vec<(runbook_playbook::Task, IndexMap<String, Arg>)>,
) -> Playbook {
    let mut play = playbook.plays[0].clone();
    play.vars = Arc::new(IndexMap::new());
    play.var_locations = IndexMap::new();
    play.tasks = (0..tasks.len()).collect();
    let tasks = tasks
        .into_iter()
        .enumerate()
        .map(|(id, (mut task, args))| {
            let stack = args
                .get("stack_name")
                .and_then(|a| a.value.as_str())
                .unwrap_or("?")
                .to_string();
            task.id = id;
            task.play = 0;
            task.name = Some(format!("delete {stack} ({})", task.display_name()));
            task.args = args;
            task.register = None;
            task.when = None;
            task.vars = IndexMap::new();
            task.changed_when = None;
            task.failed_when = None;
            task.ignore_errors = None;
            task.depends_on = Vec::new();
            task
        })
        .collect();
    Playbook {
        path: playbook.path.clone(),
        dir: playbook.dir.clone(),
        plays: vec![play],
        tasks,
    }
}
