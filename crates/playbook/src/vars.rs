//! How a task sees variables: Ansible's precedence, highest first.
//!
//! extra vars > set_fact / registered results > task vars > play vars and
//! vars_files > magic variables (`playbook_dir`, `omit`, ...).

use std::sync::Arc;

use indexmap::IndexMap;
use runbook_template::{Layer, Scope, OMIT};

use crate::{Json, Playbook, Task};

/// Variables runbook itself defines, as Ansible does.
pub const MAGIC_VARS: &[&str] = &[
    "playbook_dir",
    "omit",
    "inventory_hostname",
    "inventory_hostname_short",
    "ansible_check_mode",
    "ansible_play_name",
];

impl Playbook {
    /// The absolute directory of the playbook, as `playbook_dir` shows it.
    pub fn absolute_dir(&self) -> String {
        std::fs::canonicalize(&self.dir)
            .unwrap_or_else(|_| self.dir.clone())
            .display()
            .to_string()
    }

    fn magic_vars(&self, task: &Task, check_mode: bool) -> IndexMap<String, Json> {
        let play_name = self.plays[task.play].name.clone().unwrap_or_default();
        [
            ("playbook_dir", Json::String(self.absolute_dir())),
            ("omit", Json::String(OMIT.to_string())),
            ("inventory_hostname", Json::String("localhost".into())),
            ("inventory_hostname_short", Json::String("localhost".into())),
            ("ansible_check_mode", Json::Bool(check_mode)),
            ("ansible_play_name", Json::String(play_name)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// The scope a task renders in. `facts` holds registered results and
    /// set_fact values known so far, newest first (empty when analysing
    /// offline). Shared maps are pointed at, not copied.
    pub fn task_scope(
        &self,
        task: &Task,
        extra_vars: &Arc<IndexMap<String, Json>>,
        facts: &[Layer],
        check_mode: bool,
    ) -> Scope {
        let mut scope = Scope::new();
        scope.push_lower(Layer::shared(extra_vars.clone(), true));
        for layer in facts {
            scope.push_lower(layer.clone());
        }
        scope.push_lower(Layer::templated(
            task.vars
                .iter()
                .map(|(k, a)| (k.clone(), a.value.clone()))
                .collect(),
        ));
        scope.push_lower(Layer::shared(self.plays[task.play].vars.clone(), true));
        scope.push_lower(Layer::concrete(self.magic_vars(task, check_mode)));
        scope
    }
}
