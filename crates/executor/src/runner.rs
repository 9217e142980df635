use std::future::Future;
use std::sync::Arc;

use indexmap::IndexMap;
use runbook_playbook::{Json, Playbook, Task, TaskId};

use crate::{Event, Reporter};

/// One task to run, with its options rendered.
pub struct TaskRequest {
    pub playbook: Arc<Playbook>,
    pub task: TaskId,
    /// Rendered options; options that rendered to `omit` are dropped.
    pub args: IndexMap<String, Json>,
    pub check: bool,
    /// The task's output must not be shown (`no_log`).
    pub no_log: bool,
    /// What the playbook may read of the registered result: a module may
    /// skip calls that only fill fields nobody reads.
    pub result_reads: runbook_graph::ResultReads,
}

impl TaskRequest {
    pub fn task(&self) -> &Task {
        &self.playbook.tasks[self.task]
    }
}

/// What a module reports back.
#[derive(Debug, Clone, Default)]
pub struct ModuleOutput {
    pub changed: bool,
    /// Fields of the registered result (besides `changed` and `failed`).
    pub result: serde_json::Map<String, Json>,
    /// Facts set by set_fact.
    pub facts: IndexMap<String, Json>,
    /// A line to show (debug output, "stack created").
    pub message: Option<String>,
    /// More lines to show with -v or in check mode.
    pub details: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ModuleFailure {
    pub message: String,
    /// Fields of the registered result, if the module has any to give.
    pub result: serde_json::Map<String, Json>,
    pub details: Vec<String>,
}

impl ModuleFailure {
    pub fn new(message: impl Into<String>) -> Self {
        ModuleFailure {
            message: message.into(),
            ..Default::default()
        }
    }
}

/// A task's way to report progress while it runs.
#[derive(Clone)]
pub struct EventSink {
    pub(crate) task: TaskId,
    pub(crate) name: String,
    pub(crate) reporter: Arc<dyn Reporter>,
    pub(crate) quiet: bool,
}

impl EventSink {
    pub fn progress(&self, message: impl Into<String>) {
        if !self.quiet {
            self.reporter.event(Event::Progress {
                task: self.task,
                name: self.name.clone(),
                message: message.into(),
            });
        }
    }
}

/// Runs modules. Implemented by the modules crate for real AWS, and by
/// in-process fakes in tests.
pub trait TaskRunner: Send + Sync + 'static {
    fn run(
        &self,
        request: TaskRequest,
        events: EventSink,
    ) -> impl Future<Output = Result<ModuleOutput, ModuleFailure>> + Send;

    /// A short label of where the task acts ("cicd 111111111111 us-east-1").
    fn target_label(&self, _task: &Task, _args: &IndexMap<String, Json>) -> Option<String> {
        None
    }
}
