use std::path::PathBuf;
use std::sync::Arc;

use indexmap::IndexMap;

use runbook_module::ModuleRef;

use crate::{Arg, Json, Location};

/// A task's index in the whole playbook, in file order across plays.
pub type TaskId = usize;

#[derive(Debug, Clone)]
pub struct Playbook {
    pub path: Arc<PathBuf>,
    /// The playbook's directory: relative paths are found from here.
    pub dir: PathBuf,
    pub plays: Vec<Play>,
    pub tasks: Vec<Task>,
}

#[derive(Debug, Clone)]
pub struct Play {
    pub index: usize,
    pub name: Option<String>,
    pub location: Location,
    pub gather_facts: bool,
    /// Play vars, then vars_files merged over them, still holding templates.
    /// Shared: every task's scope points at the same map.
    pub vars: Arc<IndexMap<String, Json>>,
    pub var_locations: IndexMap<String, Location>,
    /// Options by module FQCN; `group/aws` defaults are already spread over
    /// each AWS module.
    pub module_defaults: IndexMap<&'static str, IndexMap<String, Arg>>,
    pub tasks: Vec<TaskId>,
}

#[derive(Debug, Clone)]
pub struct Task {
    pub id: TaskId,
    pub play: usize,
    pub name: Option<String>,
    pub location: Location,
    pub module: ModuleRef,
    /// Options as written (module_defaults applied), templates unrendered.
    pub args: IndexMap<String, Arg>,
    pub register: Option<String>,
    pub when: Option<Arg>,
    pub vars: IndexMap<String, Arg>,
    pub tags: Vec<String>,
    pub no_log: Option<Arg>,
    pub ignore_errors: Option<Arg>,
    pub changed_when: Option<Arg>,
    pub failed_when: Option<Arg>,
    pub depends_on: Vec<Arg>,
}

impl Task {
    /// The name shown in output: the task's name, or its module's.
    pub fn display_name(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => self.module.spec().fqcn.to_string(),
        }
    }

    pub fn arg(&self, name: &str) -> Option<&Arg> {
        self.args.get(name)
    }

    /// Whether output about this task must hide values. A templated
    /// `no_log` counts as true until proven false: secrets stay hidden.
    pub fn hides_output(&self) -> bool {
        match self.no_log.as_ref().map(|a| &a.value) {
            None | Some(Json::Bool(false)) | Some(Json::Null) => false,
            Some(Json::String(s)) => !matches!(
                s.trim().to_ascii_lowercase().as_str(),
                "false" | "no" | "off" | "0" | ""
            ),
            Some(_) => true,
        }
    }
}
