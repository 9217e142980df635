//! The scheduler: starts each task once everything it waits for is done.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use runbook_graph::TaskGraph;
use runbook_module::{ResultReads, Services};
use runbook_playbook::{Json, Playbook, TaskId};
use runbook_template::{Engine, Layer};
use tokio::task::JoinSet;

use crate::progress::EventSink;
use crate::task::{execute, Outcome, TaskContext};
use crate::{Event, Reporter, Status};

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// At most this many tasks at once.
    pub forks: usize,
    /// Make no change; modules say what they would do.
    pub check: bool,
    /// After a failure, still run every task that does not depend on it.
    pub keep_going: bool,
    /// `-v` count: debug tasks with a higher `verbosity` show nothing.
    pub verbosity: u8,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            forks: 10,
            check: false,
            keep_going: false,
            verbosity: 0,
        }
    }
}

/// What happened to one task.
#[derive(Debug, Clone)]
pub struct TaskRecord {
    pub status: Status,
    pub target: Option<String>,
    pub started: Instant,
    pub finished: Instant,
    pub message: Option<String>,
    /// The rendered options the module ran with, when it ran (never
    /// shown: they may hold secrets).
    pub args: Option<IndexMap<String, Json>>,
}

#[derive(Debug)]
pub struct RunSummary {
    /// Per task, in playbook order; `None` for tasks never started (the run
    /// stopped after a failure).
    pub records: Vec<Option<TaskRecord>>,
    /// Registered results and facts at the end of the run.
    pub facts: IndexMap<String, Json>,
    pub elapsed: Duration,
}

impl RunSummary {
    pub fn failed(&self) -> bool {
        self.records
            .iter()
            .flatten()
            .any(|r| matches!(r.status, Status::Failed | Status::Blocked))
    }

    pub fn not_run(&self) -> usize {
        self.records.iter().filter(|r| r.is_none()).count()
    }
}

/// Runs the playbook's tasks along the graph. `services` are handed to
/// every module (the AWS context).
pub async fn run(
    playbook: Arc<Playbook>,
    graph: &TaskGraph,
    extra_vars: Arc<IndexMap<String, Json>>,
    services: Arc<Services>,
    options: RunOptions,
    reporter: Arc<dyn Reporter>,
) -> RunSummary {
    let begun = Instant::now();
    let engine = Engine::new(&playbook.dir);
    let count = playbook.tasks.len();
    let mut waiting: Vec<usize> = (0..count).map(|t| graph.dependencies(t).len()).collect();
    let mut blocked = vec![false; count];
    let mut ready: BTreeSet<TaskId> = (0..count).filter(|&t| waiting[t] == 0).collect();
    let mut records: Vec<Option<TaskRecord>> = vec![None; count];
    let mut facts: IndexMap<String, Json> = IndexMap::new();
    // What tasks see: one small layer per producing task, newest first,
    // shared by reference; a finished task adds a layer, copying nothing.
    let mut fact_layers: Arc<Vec<Layer>> = Arc::new(Vec::new());
    let mut running: JoinSet<(TaskId, Instant, Outcome)> = JoinSet::new();
    let mut in_flight: std::collections::HashMap<tokio::task::Id, (TaskId, Instant)> =
        std::collections::HashMap::new();
    let mut stopping = false;
    let forks = options.forks.max(1);

    loop {
        while !stopping && running.len() < forks {
            let Some(id) = ready.pop_first() else { break };
            let task = &playbook.tasks[id];
            if blocked[id] {
                let now = Instant::now();
                reporter.event(Event::Finished {
                    task: id,
                    name: task.display_name(),
                    target: None,
                    status: Status::Blocked,
                    duration: Duration::ZERO,
                    message: Some("not run: a task it waits for failed".into()),
                    details: Vec::new(),
                });
                records[id] = Some(TaskRecord {
                    status: Status::Blocked,
                    target: None,
                    started: now,
                    finished: now,
                    message: None,
                    args: None,
                });
                release(graph, id, true, &mut waiting, &mut blocked, &mut ready);
                continue;
            }
            let ctx = TaskContext {
                playbook: playbook.clone(),
                engine: engine.clone(),
                extra_vars: extra_vars.clone(),
                facts: fact_layers.clone(),
                check: options.check,
                verbosity: options.verbosity,
                result_reads: graph
                    .result_reads
                    .get(id)
                    .cloned()
                    .unwrap_or(ResultReads::Anything),
                services: services.clone(),
            };
            let sink = EventSink {
                task: id,
                name: task.display_name(),
                reporter: reporter.clone(),
                quiet: task.hides_output(),
            };
            let reporter = reporter.clone();
            let name = task.display_name();
            let spawned_at = Instant::now();
            let handle = running.spawn(async move {
                let started = Instant::now();
                let announce = |target: Option<String>| {
                    reporter.event(Event::Started {
                        task: id,
                        name,
                        target,
                    })
                };
                let outcome = execute(ctx, id, sink, announce).await;
                (id, started, outcome)
            });
            in_flight.insert(handle.id(), (id, spawned_at));
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (id, started, outcome) = match joined {
            Ok(done) => done,
            // A panicking module is a bug in runbook: the task fails with
            // that said, and the run stops.
            Err(err) => {
                let Some((id, started)) = in_flight.get(&err.id()).copied() else {
                    stopping = true;
                    continue;
                };
                stopping = true;
                (id, started, Outcome::panicked(&err.to_string()))
            }
        };
        let finished = Instant::now();
        let task = &playbook.tasks[id];
        let failed = outcome.status == Status::Failed;
        if !outcome.facts.is_empty() || task.register.is_some() {
            let mut produced = outcome.facts;
            if let Some(name) = &task.register {
                produced.insert(name.clone(), outcome.registered);
            }
            for (k, v) in &produced {
                facts.insert(k.clone(), v.clone());
            }
            let mut layers = Vec::with_capacity(fact_layers.len() + 1);
            layers.push(Layer::concrete(produced));
            layers.extend(fact_layers.iter().cloned());
            fact_layers = Arc::new(layers);
        }
        reporter.event(Event::Finished {
            task: id,
            name: task.display_name(),
            target: outcome.target.clone(),
            status: outcome.status,
            duration: finished - started,
            message: outcome.message.clone(),
            details: outcome.details,
        });
        records[id] = Some(TaskRecord {
            status: outcome.status,
            target: outcome.target,
            started,
            finished,
            message: outcome.message,
            args: outcome.args,
        });
        if failed && !options.keep_going {
            stopping = true;
        }
        release(graph, id, failed, &mut waiting, &mut blocked, &mut ready);
    }

    RunSummary {
        records,
        facts,
        elapsed: begun.elapsed(),
    }
}

/// Counts a finished task off its dependents; those with nothing left to
/// wait for become ready (blocked, if this one failed).
fn release(
    graph: &TaskGraph,
    id: TaskId,
    failed: bool,
    waiting: &mut [usize],
    blocked: &mut [bool],
    ready: &mut BTreeSet<TaskId>,
) {
    for dependent in graph.dependents(id) {
        if failed {
            blocked[dependent] = true;
        }
        waiting[dependent] -= 1;
        if waiting[dependent] == 0 {
            ready.insert(dependent);
        }
    }
}
