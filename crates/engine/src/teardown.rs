//! `destroy`: what to undo, and in which order.
//!
//! Stack names and accounts may come from other tasks' results, so the
//! playbook first runs in check mode (no change, nothing printed) to learn
//! every task's rendered options; each module then says what undoes its
//! task, and each undo waits for the undoing of everything that depended
//! on it, concurrently where the graph allows.

use std::collections::HashSet;
use std::sync::Arc;

use indexmap::IndexMap;
use runbook_executor::{Event, Reporter, RunOptions, RunSummary, Status};
use runbook_module::{Arg, ErrorKind, Json, PlaybookError, Services};
use runbook_playbook::{Playbook, Task, TaskId};

use crate::{Analysed, Error};

/// The undoing tasks and their graph, ready to run.
pub struct Teardown {
    pub analysed: Analysed,
}

/// Swallows the discovery run's events; its failures are reported after.
struct Quiet;

impl Reporter for Quiet {
    fn event(&self, _: Event) {}

    fn wants_progress(&self) -> bool {
        false
    }
}

/// Runs the playbook in check mode to learn what it manages, then plans
/// its teardown.
pub async fn teardown(
    analysed: &Analysed,
    services: Arc<Services>,
    forks: usize,
) -> Result<Teardown, Error> {
    let discovery = crate::run(
        analysed,
        services,
        RunOptions {
            forks,
            check: true,
            diff: false,
            keep_going: false,
            saved: None,
            verbosity: 0,
            stop: Default::default(),
        },
        Arc::new(Quiet),
    )
    .await;
    plan(analysed, &discovery)
}

fn plan(analysed: &Analysed, discovery: &RunSummary) -> Result<Teardown, Error> {
    let playbook = &analysed.playbook;
    if discovery.failed() || discovery.not_run() > 0 || discovery.interrupted {
        let problems: Vec<PlaybookError> = discovery
            .records
            .iter()
            .enumerate()
            .filter_map(|(id, r)| Some((id, r.as_ref().filter(|r| r.status == Status::Failed)?)))
            .map(|(id, record)| {
                let task = &playbook.tasks[id];
                PlaybookError::new(
                    ErrorKind::Io,
                    format!(
                        "cannot work out what to delete: task `{}` ({}) failed in check mode: {}",
                        task.display_name(),
                        task.location,
                        record.message.as_deref().unwrap_or("")
                    ),
                )
                .help("fix it, or delete the stacks by hand; nothing was deleted")
            })
            .collect();
        return Err(Error::Teardown(problems));
    }

    let mut keep: Vec<TaskId> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut undoing: Vec<Task> = Vec::new();
    // Last occurrence first, so a thing managed twice is undone once, at
    // the position of its last task.
    for task in playbook.tasks.iter().rev() {
        let Some(record) = &discovery.records[task.id] else {
            continue;
        };
        if record.status == Status::Skipped {
            continue;
        }
        // A loop's items undo in reverse too.
        for args in record.args.iter().rev().flatten() {
            let Some(undo) = task.module.teardown(args) else {
                continue;
            };
            let identity = format!(
                "{} {}",
                task.module.spec().fqcn,
                Json::Object(undo.args.clone().into_iter().collect())
            );
            if !seen.insert(identity) {
                continue;
            }
            keep.push(task.id);
            undoing.push(undo_task(task, undo));
        }
    }
    keep.reverse();
    undoing.reverse();

    let graph = analysed.graph.teardown(&keep);
    Ok(Teardown {
        analysed: Analysed {
            extra_vars: analysed.extra_vars.clone(),
            playbook: Arc::new(teardown_playbook(playbook, undoing)),
            graph,
        },
    })
}

/// The task that undoes `task`: the same module and target, options as
/// the module says, nothing of the original's logic.
fn undo_task(task: &Task, undo: runbook_module::Teardown) -> Task {
    let mut undoing = task.clone();
    undoing.name = Some(format!("{} ({})", undo.name, task.display_name()));
    undoing.args = undo
        .args
        .into_iter()
        .map(|(key, value)| {
            let location = task
                .args
                .get(&key)
                .map(|a| a.location.clone())
                .unwrap_or_else(|| task.location.clone());
            (key, Arg { value, location })
        })
        .collect();
    undoing.register = None;
    undoing.when = Vec::new();
    undoing.include_when = Vec::new();
    undoing.loop_ = None;
    undoing.block = None;
    undoing.vars = IndexMap::new();
    undoing.changed_when = None;
    undoing.failed_when = None;
    undoing.ignore_errors = None;
    undoing.depends_on = Vec::new();
    undoing
}

/// A playbook of undoing tasks only, numbered in teardown order.
fn teardown_playbook(playbook: &Playbook, tasks: Vec<Task>) -> Playbook {
    let mut play = playbook.plays[0].clone();
    play.vars = Arc::new(IndexMap::new());
    play.var_locations = IndexMap::new();
    play.tasks = (0..tasks.len()).collect();
    let tasks = tasks
        .into_iter()
        .enumerate()
        .map(|(id, mut task)| {
            task.id = id;
            task.play = 0;
            task
        })
        .collect();
    Playbook {
        path: playbook.path.clone(),
        dir: playbook.dir.clone(),
        plays: vec![play],
        tasks,
        blocks: Vec::new(),
        deselected: Vec::new(),
        sources: playbook.sources.clone(),
    }
}
