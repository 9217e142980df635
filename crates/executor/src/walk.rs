//! The scheduler: starts each task once everything it waits for is done,
//! and decides, with blocks, what a failure stops.
//!
//! A ready task is spawned at once and waits for a fork (a semaphore
//! permit) before it does anything; a loop's items each take a fork.
//!
//! A failure inside a block with a `rescue` is caught: the block's tasks
//! that have not started never will, and its rescue runs. A failure that no
//! block catches stops the run (or, with `--keep-going`, blocks what
//! depends on it); the `always` tasks of every block that had started run
//! whatever happened.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use runbook_graph::TaskGraph;
use runbook_module::{ResultReads, Services};
use runbook_playbook::{BlockId, BlockPos, Json, Playbook, Section, TaskId};
use runbook_template::{Engine, Layer};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::progress::EventSink;
use crate::stop::Stop;
use crate::task::{execute, ItemRecord, Outcome, TaskContext};
use crate::{Event, Reporter, Status};

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// At most this many tasks (or loop items) at once.
    pub forks: usize,
    /// Make no change; modules say what they would do.
    pub check: bool,
    /// Modules show what changes in detail (`--diff`).
    pub diff: bool,
    /// After a failure, still run every task that does not depend on it.
    pub keep_going: bool,
    /// `-v` count: debug tasks with a higher `verbosity` show nothing.
    pub verbosity: u8,
    /// Replay this saved plan: tasks must run as planned.
    pub saved: Option<Arc<crate::SavedRun>>,
    /// Asked from outside (a signal): no task starts any more, the tasks in
    /// flight are abandoned and recorded as interrupted, and the run
    /// returns; `rescue` and `always` sections do not run.
    pub stop: Stop,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            forks: 10,
            check: false,
            diff: false,
            keep_going: false,
            verbosity: 0,
            saved: None,
            stop: Stop::default(),
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
    /// The rendered options the module ran with, per item (`None` for an
    /// item that did not run; never shown: they may hold secrets).
    pub args: Vec<Option<IndexMap<String, Json>>>,
    /// Per item, for a loop.
    pub items: Vec<ItemRecord>,
    /// What the task registered (or would have, without `register`);
    /// `no_log` results are marked `_ansible_no_log`.
    pub result: Json,
    /// The module's detail lines (the plan, in check mode).
    pub details: Vec<String>,
    /// The module's plan as data (for reports).
    pub plan: Option<Json>,
    /// Risks to repeat at the end (a replaced bucket).
    pub warnings: Vec<String>,
    /// The name as shown (rendered when the task started).
    pub name: String,
}

#[derive(Debug)]
pub struct RunSummary {
    /// Per task, in playbook order; `None` for tasks never started.
    pub records: Vec<Option<TaskRecord>>,
    /// Tasks that were not run by design: a rescue whose block did not
    /// fail, the rest of a block after a caught failure.
    pub not_needed: Vec<bool>,
    /// Registered results and facts at the end of the run.
    pub facts: IndexMap<String, Json>,
    pub elapsed: Duration,
    /// The run was asked to stop (`RunOptions::stop`) before it ended.
    pub interrupted: bool,
}

impl RunSummary {
    pub fn failed(&self) -> bool {
        self.records.iter().flatten().any(|r| r.status.is_failure())
    }

    /// Tasks never started, because the run stopped after a failure.
    pub fn not_run(&self) -> usize {
        self.records
            .iter()
            .zip(&self.not_needed)
            .filter(|(r, skip)| r.is_none() && !**skip)
            .count()
    }
}

/// How a task ended, for the tasks that wait for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolved {
    /// Ran (or was skipped, or not needed): dependents go on.
    Proceed,
    /// Failed, uncaught: dependents are blocked.
    Failed,
    /// Not run because the run stopped: dependents are not run either,
    /// but for `always` tasks.
    Held,
}

/// What the walk knows of a block.
#[derive(Debug, Clone, Default)]
struct BlockState {
    /// Some task of the block (any section) has started.
    started: bool,
    /// The first failure caught by this block's rescue: the task and its
    /// registered result.
    caught: Option<(TaskId, Json)>,
}

struct Walk<'a> {
    playbook: &'a Playbook,
    graph: &'a TaskGraph,
    options: &'a RunOptions,
    reporter: Arc<dyn Reporter>,
    waiting: Vec<usize>,
    /// The worst resolution among each task's finished dependencies.
    inherited: Vec<Resolved>,
    ready: BTreeSet<TaskId>,
    records: Vec<Option<TaskRecord>>,
    not_needed: Vec<bool>,
    blocks: Vec<BlockState>,
    stopping: bool,
    /// Asked to stop from outside: nothing more starts, not even `always`.
    interrupted: bool,
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
    let permits = Arc::new(Semaphore::new(options.forks.max(1)));
    // A task that gives its fork back while it waits wakes the walk.
    let wake = Arc::new(tokio::sync::Notify::new());
    let mut walk = Walk {
        playbook: &playbook,
        graph,
        options: &options,
        reporter: reporter.clone(),
        waiting: (0..count).map(|t| graph.dependencies(t).len()).collect(),
        inherited: vec![Resolved::Proceed; count],
        ready: BTreeSet::new(),
        records: vec![None; count],
        not_needed: vec![false; count],
        blocks: vec![BlockState::default(); playbook.blocks.len()],
        stopping: false,
        interrupted: false,
    };
    walk.ready = (0..count).filter(|&t| walk.waiting[t] == 0).collect();
    // What each task registered or set, by task: a task sees what the
    // tasks before it in the file produced (the latest winning), as in
    // Ansible, whatever finished first; so a later task that sets a name
    // an earlier one reads never has to wait for it.
    let mut produced: Vec<Option<Layer>> = vec![None; count];
    let mut running: JoinSet<(TaskId, Instant, Outcome)> = JoinSet::new();
    // Each running task's id, and when it started and where, as it
    // announced them: what a task abandoned by a stop is reported with.
    let mut in_flight: std::collections::HashMap<tokio::task::Id, (TaskId, Arc<Announced>)> =
        std::collections::HashMap::new();
    // Each task's name as shown when it started.
    let mut shown: Vec<String> = playbook.tasks.iter().map(|t| t.display_name()).collect();

    loop {
        if !walk.interrupted && options.stop.is_requested() {
            walk.interrupt();
            running.abort_all();
        }
        // Ready tasks start in playbook order while forks are free; a
        // loop starts at once, its items each waiting for a fork.
        while let Some(id) = walk.ready.pop_first() {
            let Some(extra) = walk.decide(id) else {
                continue;
            };
            let task = &playbook.tasks[id];
            let permit = if task.loop_.is_some() {
                None
            } else {
                match permits.clone().try_acquire_owned() {
                    Ok(permit) => Some(permit),
                    Err(_) => {
                        walk.ready.insert(id);
                        break;
                    }
                }
            };
            walk.mark_started(id);
            let ctx = TaskContext {
                playbook: playbook.clone(),
                engine: engine.clone(),
                extra_vars: extra_vars.clone(),
                facts: visible(&produced, id),
                extra,
                check: options.check,
                diff: options.diff,
                saved: options.saved.clone(),
                verbosity: options.verbosity,
                result_reads: graph
                    .result_reads
                    .get(id)
                    .cloned()
                    .unwrap_or(ResultReads::Anything),
                services: services.clone(),
                permits: permits.clone(),
                sequential: graph.facts.get(id).is_some_and(|f| f.sequential),
                permit,
                wake: wake.clone(),
            };
            let name = shown_name(
                &engine,
                &playbook,
                task,
                &extra_vars,
                &visible(&produced, id),
            );
            shown[id] = name.clone();
            let sink = EventSink {
                task: id,
                name: name.clone(),
                reporter: reporter.clone(),
                quiet: task.hides_output(),
            };
            let reporter = reporter.clone();
            let announced = Arc::new(Announced::default());
            let shared = announced.clone();
            let handle = running.spawn(async move {
                let at = shared.clone();
                let announce = move |target: Option<String>| {
                    at.set(Instant::now(), target.clone());
                    reporter.event(Event::Started {
                        task: id,
                        name,
                        target,
                    })
                };
                let outcome = execute(ctx, id, sink, announce).await;
                (id, shared.started(), outcome)
            });
            in_flight.insert(handle.id(), (id, announced));
        }
        // Wait for a task to end, or for a stop to be asked.
        let joined = tokio::select! {
            biased;
            () = options.stop.requested(), if !walk.interrupted => {
                walk.interrupt();
                running.abort_all();
                continue;
            }
            joined = running.join_next() => joined,
            // A fork came free: start what is ready.
            () = wake.notified() => continue,
        };
        let Some(joined) = joined else {
            break;
        };
        let (id, started, outcome) = match joined {
            Ok(done) => done,
            // Abandoned because the run was asked to stop.
            Err(err) if err.is_cancelled() => {
                if let Some((id, announced)) = in_flight.get(&err.id()) {
                    walk.cut_short(*id, shown[*id].clone(), announced);
                }
                continue;
            }
            // A panicking module is a bug in runbook: the task fails with
            // that said, and the run stops.
            Err(err) => {
                let Some((id, announced)) = in_flight.get(&err.id()) else {
                    walk.stopping = true;
                    continue;
                };
                walk.stopping = true;
                (
                    *id,
                    announced.started(),
                    Outcome::panicked(&err.to_string()),
                )
            }
        };
        if outcome.not_included {
            walk.not_needed[id] = true;
            walk.release(id, Resolved::Proceed);
            drop(outcome.permit);
            continue;
        }
        let finished = Instant::now();
        let task = &playbook.tasks[id];
        let failed = outcome.status == Status::Failed;
        if !outcome.facts.is_empty() || task.register.is_some() {
            let mut values = outcome.facts;
            if let Some(name) = &task.register {
                values.insert(name.clone(), outcome.registered.clone());
            }
            produced[id] = Some(Layer::concrete(values));
        }
        reporter.event(Event::Finished {
            task: id,
            name: shown[id].clone(),
            target: outcome.target.clone(),
            status: outcome.status,
            duration: finished - started,
            message: outcome.message.clone(),
            details: outcome.details.clone(),
        });
        walk.records[id] = Some(TaskRecord {
            status: outcome.status,
            target: outcome.target,
            started,
            finished,
            message: outcome.message,
            args: outcome.args,
            items: outcome.items,
            result: outcome.registered.clone(),
            details: outcome.details,
            name: shown[id].clone(),
            plan: outcome.plan,
            warnings: outcome.warnings,
        });
        let resolved = if failed {
            walk.fail(id, outcome.registered)
        } else {
            Resolved::Proceed
        };
        walk.release(id, resolved);
        drop(outcome.permit);
    }

    // Everything produced, in file order: the latest task's value wins.
    let mut facts: IndexMap<String, Json> = IndexMap::new();
    for layer in produced.iter().flatten() {
        for (k, v) in layer.vars.iter() {
            facts.insert(k.clone(), v.clone());
        }
    }
    RunSummary {
        interrupted: walk.interrupted,
        records: walk.records,
        not_needed: walk.not_needed,
        facts,
        elapsed: begun.elapsed(),
    }
}

/// When a running task started (as it announced itself) and its target.
struct Announced {
    at: std::sync::Mutex<(Instant, Option<String>)>,
}

impl Default for Announced {
    fn default() -> Self {
        Announced {
            at: std::sync::Mutex::new((Instant::now(), None)),
        }
    }
}

impl Announced {
    fn set(&self, started: Instant, target: Option<String>) {
        if let Ok(mut at) = self.at.lock() {
            *at = (started, target);
        }
    }

    fn started(&self) -> Instant {
        self.at
            .lock()
            .map(|at| at.0)
            .unwrap_or_else(|_| Instant::now())
    }

    fn target(&self) -> Option<String> {
        self.at.lock().ok().and_then(|at| at.1.clone())
    }
}

/// The layers task `id` sees: what earlier tasks produced, latest first.
fn visible(produced: &[Option<Layer>], id: TaskId) -> Arc<Vec<Layer>> {
    Arc::new(produced[..id].iter().rev().flatten().cloned().collect())
}

/// A task's name as Ansible shows it: rendered with the variables known
/// when it starts, or as written when it cannot be.
fn shown_name(
    engine: &Engine,
    playbook: &Playbook,
    task: &runbook_playbook::Task,
    extra_vars: &Arc<IndexMap<String, Json>>,
    facts: &[Layer],
) -> String {
    let name = task.display_name();
    if !name.contains("{{") {
        return name;
    }
    let scope = playbook.task_scope(task, extra_vars, facts, false);
    match engine.render(&Json::String(name.clone()), &scope) {
        Ok(Json::String(shown)) => shown,
        _ => name,
    }
}

impl Walk<'_> {
    /// Whether a ready task runs: `Some(extra variables)` to run it, `None`
    /// when it is resolved without running (and released).
    fn decide(&mut self, id: TaskId) -> Option<Option<Layer>> {
        // Asked to stop: nothing starts, not even a rescue or `always`.
        if self.interrupted {
            return self.hold(id);
        }
        let task = &self.playbook.tasks[id];
        let inherited = self.inherited[id];
        // A rescue runs only when its block caught a failure; it then runs
        // even though the block's other tasks were abandoned.
        if let Some(pos) = task.block.filter(|p| p.section == Section::Rescue) {
            return match self.blocks[pos.block].caught.clone() {
                Some((failed, result)) if !self.stopping || self.runs_after_stop(id) => {
                    Some(Some(self.failure_vars(failed, result)))
                }
                Some(_) => self.hold(id),
                None => self.not_needed(id),
            };
        }
        // The rest of a block whose failure was caught is abandoned, but
        // for `always` sections of blocks that started (a nested block's).
        let always = self.runs_after_stop(id);
        if !always && self.abandoned(id) {
            return self.not_needed(id);
        }
        match inherited {
            _ if self.stopping && !always => self.hold(id),
            Resolved::Failed if !always => {
                self.block(id);
                None
            }
            Resolved::Held if !always => self.hold(id),
            _ => Some(None),
        }
    }

    /// `always` tasks of a block that has started run whatever happened.
    fn runs_after_stop(&self, id: TaskId) -> bool {
        let mut pos = self.playbook.tasks[id].block;
        while let Some(p) = pos {
            if p.section == Section::Always && self.blocks[p.block].started {
                return true;
            }
            pos = self.playbook.blocks[p.block].parent;
        }
        false
    }

    /// Whether the task is in the body of a block (at any depth) whose
    /// failure was caught: Ansible leaves the rest of the body.
    fn abandoned(&self, id: TaskId) -> bool {
        let mut pos = self.playbook.tasks[id].block;
        while let Some(p) = pos {
            if p.section == Section::Block && self.blocks[p.block].caught.is_some() {
                return true;
            }
            pos = self.playbook.blocks[p.block].parent;
        }
        false
    }

    fn mark_started(&mut self, id: TaskId) {
        let mut pos: Option<BlockPos> = self.playbook.tasks[id].block;
        while let Some(p) = pos {
            self.blocks[p.block].started = true;
            pos = self.playbook.blocks[p.block].parent;
        }
    }

    /// `ansible_failed_task` and `ansible_failed_result` for a rescue.
    fn failure_vars(&self, failed: TaskId, result: Json) -> Layer {
        let task = &self.playbook.tasks[failed];
        let mut vars = IndexMap::new();
        vars.insert(
            "ansible_failed_task".into(),
            serde_json::json!({
                "name": task.name.clone().unwrap_or_default(),
                "action": task.module.spec().fqcn,
            }),
        );
        vars.insert("ansible_failed_result".into(), result);
        Layer::concrete(vars)
    }

    fn not_needed(&mut self, id: TaskId) -> Option<Option<Layer>> {
        self.not_needed[id] = true;
        self.release(id, Resolved::Proceed);
        None
    }

    fn hold(&mut self, id: TaskId) -> Option<Option<Layer>> {
        self.release(id, Resolved::Held);
        None
    }

    /// Asked to stop: no task starts any more.
    fn interrupt(&mut self) {
        self.interrupted = true;
        self.stopping = true;
    }

    /// A task abandoned in flight by a stop: recorded as interrupted, and
    /// what waits for it is not run.
    fn cut_short(&mut self, id: TaskId, name: String, announced: &Announced) {
        let now = Instant::now();
        let started = announced.started();
        let target = announced.target();
        self.reporter.event(Event::Finished {
            task: id,
            name: name.clone(),
            target: target.clone(),
            status: Status::Interrupted,
            duration: now.saturating_duration_since(started),
            message: Some(
                "interrupted while it ran; what it had started outside runbook keeps going".into(),
            ),
            details: Vec::new(),
        });
        self.records[id] = Some(TaskRecord {
            status: Status::Interrupted,
            target,
            started,
            finished: now,
            message: Some("interrupted while it ran".into()),
            args: Vec::new(),
            items: Vec::new(),
            result: Json::Null,
            details: Vec::new(),
            plan: None,
            warnings: Vec::new(),
            name,
        });
        self.release(id, Resolved::Held);
    }

    /// Not run: a task it waits for failed (with --keep-going).
    fn block(&mut self, id: TaskId) {
        let task = &self.playbook.tasks[id];
        let now = Instant::now();
        self.reporter.event(Event::Finished {
            task: id,
            name: task.display_name(),
            target: None,
            status: Status::Blocked,
            duration: Duration::ZERO,
            message: Some("not run: a task it waits for failed".into()),
            details: Vec::new(),
        });
        self.records[id] = Some(TaskRecord {
            status: Status::Blocked,
            target: None,
            started: now,
            finished: now,
            message: None,
            args: Vec::new(),
            items: Vec::new(),
            result: Json::Null,
            details: Vec::new(),
            name: task.display_name(),
            plan: None,
            warnings: Vec::new(),
        });
        self.release(id, Resolved::Failed);
    }

    /// A task failed: the innermost block with a rescue that has it in its
    /// body catches it; otherwise the run stops (or, with --keep-going,
    /// what depends on it is blocked).
    fn fail(&mut self, id: TaskId, registered: Json) -> Resolved {
        if let Some(block) = self.catcher(id) {
            let state = &mut self.blocks[block];
            if state.caught.is_none() {
                state.caught = Some((id, registered));
            }
            if let Some(Some(record)) = self.records.get_mut(id) {
                record.status = Status::Rescued;
            }
            return Resolved::Proceed;
        }
        if !self.options.keep_going {
            self.stopping = true;
        }
        Resolved::Failed
    }

    /// The block whose rescue catches a failure of `id`.
    fn catcher(&self, id: TaskId) -> Option<BlockId> {
        let mut pos = self.playbook.tasks[id].block;
        while let Some(p) = pos {
            let block = &self.playbook.blocks[p.block];
            if p.section == Section::Block && block.has_rescue() {
                return Some(p.block);
            }
            pos = block.parent;
        }
        None
    }

    /// Counts a resolved task off its dependents; those with nothing left
    /// to wait for become ready.
    fn release(&mut self, id: TaskId, resolved: Resolved) {
        for dependent in self.graph.dependents(id) {
            let worst = &mut self.inherited[dependent];
            *worst = match (*worst, resolved) {
                (Resolved::Failed, _) | (_, Resolved::Failed) => Resolved::Failed,
                (Resolved::Held, _) | (_, Resolved::Held) => Resolved::Held,
                _ => Resolved::Proceed,
            };
            self.waiting[dependent] -= 1;
            if self.waiting[dependent] == 0 {
                self.ready.insert(dependent);
            }
        }
    }
}
