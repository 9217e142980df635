//! How a task sees variables: Ansible's precedence, highest first.
//!
//! loop item > extra vars > include params > role params > set_fact /
//! registered results > task vars > block vars > role vars > play vars and
//! vars_files > role defaults > magic variables (`playbook_dir`, `omit`,
//! `role_path`, ...).

use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use runbook_template::{Layer, Scope, OMIT};

use crate::model::{RoleRef, VarLayer, VarRank};
use crate::{Json, Playbook, Task};

/// Variables runbook itself defines, as Ansible does.
pub const MAGIC_VARS: &[&str] = &[
    "playbook_dir",
    "omit",
    "inventory_hostname",
    "inventory_hostname_short",
    "ansible_check_mode",
    "ansible_play_name",
    "role_path",
    "role_name",
    "ansible_role_name",
];

/// The magic variables known before running (for load-time templates).
pub(crate) fn static_magic(dir: &Path, role: Option<&RoleRef>) -> IndexMap<String, Json> {
    let mut vars: IndexMap<String, Json> = [
        ("playbook_dir", Json::String(absolute(dir))),
        ("omit", Json::String(OMIT.to_string())),
        ("inventory_hostname", Json::String("localhost".into())),
        ("inventory_hostname_short", Json::String("localhost".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if let Some(role) = role {
        vars.insert("role_path".into(), Json::String(absolute(&role.dir)));
        vars.insert("role_name".into(), Json::String(role.name.clone()));
        vars.insert("ansible_role_name".into(), Json::String(role.name.clone()));
    }
    vars
}

fn absolute(dir: &Path) -> String {
    std::fs::canonicalize(dir)
        .unwrap_or_else(|_| dir.to_path_buf())
        .display()
        .to_string()
}

impl Playbook {
    /// The absolute directory of the playbook, as `playbook_dir` shows it.
    pub fn absolute_dir(&self) -> String {
        absolute(&self.dir)
    }

    fn magic_vars(&self, task: &Task, check_mode: bool) -> IndexMap<String, Json> {
        let play_name = self.plays[task.play].name.clone().unwrap_or_default();
        let mut vars = static_magic(&self.dir, task.role.as_deref());
        vars.insert("ansible_check_mode".into(), Json::Bool(check_mode));
        vars.insert("ansible_play_name".into(), Json::String(play_name));
        vars
    }

    /// The scope a task renders in. `facts` holds registered results and
    /// set_fact values known so far, newest first (empty when analysing
    /// offline); `item` a loop item's variables. Shared maps are pointed
    /// at, not copied.
    pub fn task_scope(
        &self,
        task: &Task,
        extra_vars: &Arc<IndexMap<String, Json>>,
        facts: &[Layer],
        check_mode: bool,
    ) -> Scope {
        self.item_scope(task, extra_vars, facts, check_mode, None)
    }

    /// [`Playbook::task_scope`] for one item of a loop.
    pub fn item_scope(
        &self,
        task: &Task,
        extra_vars: &Arc<IndexMap<String, Json>>,
        facts: &[Layer],
        check_mode: bool,
        item: Option<Layer>,
    ) -> Scope {
        let mut scope = Scope::new();
        if let Some(item) = item {
            scope.push_lower(item);
        }
        push_ranked(&mut scope, &task.layers, VarRank::LoopItem);
        scope.push_lower(Layer::shared(extra_vars.clone(), true));
        push_ranked(&mut scope, &task.layers, VarRank::IncludeParams);
        push_ranked(&mut scope, &task.layers, VarRank::RoleParams);
        for layer in facts {
            scope.push_lower(layer.clone());
        }
        scope.push_lower(Layer::templated(
            task.vars
                .iter()
                .map(|(k, a)| (k.clone(), a.value.clone()))
                .collect(),
        ));
        let play = &self.plays[task.play];
        push_ranked(&mut scope, &task.layers, VarRank::BlockVars);
        push_ranked(&mut scope, &task.layers, VarRank::RoleVars);
        push_ranked(&mut scope, &play.role_layers, VarRank::RoleVars);
        scope.push_lower(Layer::shared(play.vars.clone(), true));
        push_ranked(&mut scope, &task.layers, VarRank::RoleDefaults);
        push_ranked(&mut scope, &play.role_layers, VarRank::RoleDefaults);
        scope.push_lower(Layer::concrete(self.magic_vars(task, check_mode)));
        scope.set_search(task.search.clone());
        scope
    }
}

/// Adds a task's layers of one rank, innermost (latest) first.
fn push_ranked(scope: &mut Scope, layers: &[VarLayer], rank: VarRank) {
    for layer in layers.iter().rev().filter(|l| l.rank == rank) {
        scope.push_lower(Layer::shared(layer.vars.clone(), true));
    }
}

impl Playbook {
    /// A task's variable layers of one rank, in the order the scope reads
    /// them: its own (innermost first), then those its play's roles give
    /// every task (latest first).
    pub fn layers_of<'a>(
        &'a self,
        task: &'a Task,
        rank: VarRank,
    ) -> impl Iterator<Item = &'a VarLayer> {
        let own = task.layers.iter().rev().filter(move |l| l.rank == rank);
        let play = self.plays[task.play]
            .role_layers
            .iter()
            .rev()
            .filter(move |l| l.rank == rank);
        own.chain(play)
    }
}
