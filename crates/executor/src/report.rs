use std::time::Duration;

use runbook_playbook::TaskId;

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Ok,
    Changed,
    Skipped,
    Failed,
    /// Failed, but the task has `ignore_errors`.
    Ignored,
    /// Not run: a task it waits for failed (with --keep-going).
    Blocked,
    /// Failed, and a block's `rescue` caught it.
    Rescued,
    /// Abandoned while it ran: the run was asked to stop (a signal).
    Interrupted,
}

impl Status {
    /// Failed, or not run because a task it waits for failed.
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Failed | Status::Blocked)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Changed => "changed",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
            Status::Ignored => "ignored",
            Status::Blocked => "blocked",
            Status::Rescued => "rescued",
            Status::Interrupted => "interrupted",
        }
    }
}

/// What the walk tells the outside world as it happens.
#[derive(Debug, Clone)]
pub enum Event {
    Started {
        task: TaskId,
        name: String,
        target: Option<String>,
    },
    /// Something happening inside a task (a stack event, a wait).
    Progress {
        task: TaskId,
        name: String,
        message: String,
    },
    Finished {
        task: TaskId,
        name: String,
        target: Option<String>,
        status: Status,
        duration: Duration,
        /// The module's message (debug output, failure reason), already
        /// censored for `no_log` tasks.
        message: Option<String>,
        /// Extra lines shown with -v or in check mode (planned changes).
        details: Vec<String>,
    },
}

/// Receives events; must be cheap and must not block.
pub trait Reporter: Send + Sync {
    fn event(&self, event: Event);

    /// Whether `Progress` events are shown; when not, modules skip the
    /// calls that only feed them.
    fn wants_progress(&self) -> bool {
        true
    }
}
