//! A saved plan, replayed: each task must run with the options it was
//! planned with, and its module gets the plan it made then, to refuse
//! acting on something that moved since.

use indexmap::IndexMap;
use runbook_playbook::Json;
use sha2::Digest as _;

/// What a `--check` run planned, task by task (by id).
#[derive(Debug, Clone, Default)]
pub struct SavedRun {
    pub tasks: Vec<Option<SavedTask>>,
}

#[derive(Debug, Clone)]
pub struct SavedTask {
    /// The status the plan gave it (`ok`, `changed`, `skipped`, ...).
    pub status: String,
    /// One per item that ran (one for a task without a loop).
    pub items: Vec<SavedItem>,
}

#[derive(Debug, Clone)]
pub struct SavedItem {
    /// [`args_digest`] of the rendered options; `None` when the item did
    /// not run (skipped).
    pub args: Option<String>,
    /// The plan the module made.
    pub plan: Option<Json>,
}

/// A digest of rendered options: equal options, equal digest. Only the
/// digest is saved, never the options (they may hold secrets).
pub fn args_digest(args: &IndexMap<String, Json>) -> String {
    let text = serde_json::to_string(args).unwrap_or_default();
    let digest = sha2::Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl SavedRun {
    /// Why a task may not run as it is about to, if it may not.
    pub(crate) fn refuse(
        &self,
        task: usize,
        item: usize,
        args: &IndexMap<String, Json>,
    ) -> Option<String> {
        let Some(saved) = self.tasks.get(task).and_then(Option::as_ref) else {
            return Some("the saved plan did not run this task: apply a new plan".into());
        };
        let Some(planned) = saved.items.get(item) else {
            return Some(format!(
                "the saved plan ran this task {} time(s), not {}: apply a new plan",
                saved.items.len(),
                item + 1
            ));
        };
        let Some(planned_args) = &planned.args else {
            return Some(format!(
                "the saved plan did not run it ({}): make a new plan",
                saved.status
            ));
        };
        if *planned_args != args_digest(args) {
            return Some(
                "its options differ from the saved plan's (a variable, a template or an input changed since the plan was made): make a new plan"
                    .into(),
            );
        }
        None
    }

    pub(crate) fn plan(&self, task: usize, item: usize) -> Option<&Json> {
        self.tasks
            .get(task)?
            .as_ref()?
            .items
            .get(item)?
            .plan
            .as_ref()
    }
}
