use std::sync::Arc;

use runbook_module::Progress;
use runbook_playbook::TaskId;

use crate::{Event, Reporter};

/// A running task's way to report progress: events for the reporter,
/// none at all for `no_log` tasks.
#[derive(Clone)]
pub(crate) struct EventSink {
    pub(crate) task: TaskId,
    pub(crate) name: String,
    pub(crate) reporter: Arc<dyn Reporter>,
    pub(crate) quiet: bool,
}

impl Progress for EventSink {
    fn wants(&self) -> bool {
        !self.quiet && self.reporter.wants_progress()
    }

    fn progress(&self, message: String) {
        if !self.quiet {
            self.reporter.event(Event::Progress {
                task: self.task,
                name: self.name.clone(),
                message,
            });
        }
    }
}
