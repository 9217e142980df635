use std::path::PathBuf;
use std::sync::Arc;

use indexmap::IndexMap;
use runbook_module::ModuleRef;

use crate::{Arg, Json, Location};

/// A task's index in the whole playbook, in Ansible's execution order.
pub type TaskId = usize;

/// A block's index in [`Playbook::blocks`].
pub type BlockId = usize;

#[derive(Debug, Clone)]
pub struct Playbook {
    pub path: Arc<PathBuf>,
    /// The playbook's directory: relative paths are found from here.
    pub dir: PathBuf,
    pub plays: Vec<Play>,
    /// Every task to run, imports, roles and blocks expanded, in the order
    /// Ansible would run them.
    pub tasks: Vec<Task>,
    pub blocks: Vec<Block>,
    /// Tasks that `--tags`, `--skip-tags` or `--start-at-task` left out,
    /// so that a task reading what they register can be told why it is
    /// missing.
    pub deselected: Vec<Deselected>,
    /// Every file the playbook was read from (playbooks, vars files, task
    /// files, role files), in the order read: a saved plan checks none
    /// changed.
    pub sources: Vec<PathBuf>,
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
    /// The defaults and vars of the play's roles (`roles:`, `import_role`),
    /// which every task of the play sees, below its own role's.
    pub role_layers: Vec<VarLayer>,
}

/// Where a variable layer sits in Ansible's precedence, lowest first. Play
/// vars sit between role defaults and role vars, task vars between block
/// vars and facts (set_fact, register), facts below role params.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VarRank {
    /// A role's `defaults/`.
    RoleDefaults,
    /// A role's `vars/` (and `vars_from`).
    RoleVars,
    /// A block's `vars`.
    BlockVars,
    /// The parameters a role is given (`roles: [{role: x, param: 1}]`).
    RoleParams,
    /// `vars` of an `include_*` / `import_*`.
    IncludeParams,
    /// A loop's item (`item`, `index_var`, `ansible_loop`): above every
    /// other variable, extra vars included, as in Ansible.
    LoopItem,
}

/// Variables a task inherits from a block, role or include.
#[derive(Debug, Clone)]
pub struct VarLayer {
    pub rank: VarRank,
    pub vars: Arc<IndexMap<String, Json>>,
    pub locations: Arc<IndexMap<String, Location>>,
}

/// The role a task comes from.
#[derive(Debug, Clone)]
pub struct RoleRef {
    pub name: String,
    /// The role's directory (`role_path`).
    pub dir: PathBuf,
}

/// Which part of a block a task belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Block,
    Rescue,
    Always,
}

/// A task's place in a block: the innermost block and section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockPos {
    pub block: BlockId,
    pub section: Section,
}

/// A `block` with its `rescue` and `always`.
#[derive(Debug, Clone)]
pub struct Block {
    pub id: BlockId,
    pub name: Option<String>,
    pub location: Location,
    /// The block this one is in, and in which section.
    pub parent: Option<BlockPos>,
    /// Every task of each section, nested blocks' tasks included, in
    /// order: block, rescue, always.
    pub tasks: [Vec<TaskId>; 3],
}

impl Block {
    pub fn section(&self, section: Section) -> &[TaskId] {
        match section {
            Section::Block => &self.tasks[0],
            Section::Rescue => &self.tasks[1],
            Section::Always => &self.tasks[2],
        }
    }

    pub fn has_rescue(&self) -> bool {
        !self.tasks[1].is_empty()
    }
}

/// How a loop's items are made from its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopKind {
    /// `loop:` a list, as is.
    Loop,
    /// `with_items`: lists in the list are flattened one level.
    Items,
    /// `with_list`: the list as is.
    List,
    /// `with_dict`: a mapping as `{key, value}` items.
    Dict,
    /// `with_together`: lists zipped, the shorter padded with null.
    Together,
    /// `with_sequence`: `start=1 end=5 stride=1 format=...` or `count=N`.
    Sequence,
    /// `with_nested` / `with_cartesian`: the product of lists.
    Nested,
}

impl LoopKind {
    /// The keyword, for messages.
    pub fn keyword(self) -> &'static str {
        match self {
            LoopKind::Loop => "loop",
            LoopKind::Items => "with_items",
            LoopKind::List => "with_list",
            LoopKind::Dict => "with_dict",
            LoopKind::Together => "with_together",
            LoopKind::Sequence => "with_sequence",
            LoopKind::Nested => "with_nested",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Loop {
    pub kind: LoopKind,
    /// The list (or lookup terms) as written.
    pub items: Arg,
    /// `loop_control.loop_var`, `item` by default.
    pub loop_var: String,
    pub index_var: Option<String>,
    /// `loop_control.label`: how an item is shown.
    pub label: Option<Arg>,
    /// `loop_control.extended`: `ansible_loop` is set.
    pub extended: bool,
}

#[derive(Debug, Clone)]
pub struct Task {
    pub id: TaskId,
    pub play: usize,
    /// The name as written (it may hold a template).
    pub name: Option<String>,
    pub location: Location,
    pub module: ModuleRef,
    /// Options as written (module_defaults applied), templates unrendered.
    pub args: IndexMap<String, Arg>,
    pub register: Option<String>,
    /// Conditions that must all hold: those of enclosing blocks, imports and
    /// roles first, the task's own last.
    pub when: Vec<Arg>,
    /// Conditions of enclosing `include_*`: when one is false the task is
    /// not run at all (Ansible never includes it), rather than skipped.
    pub include_when: Vec<Arg>,
    pub vars: IndexMap<String, Arg>,
    /// Effective tags: the task's own and every enclosing one's.
    pub tags: Vec<String>,
    pub no_log: Option<Arg>,
    pub ignore_errors: Option<Arg>,
    pub changed_when: Option<Arg>,
    pub failed_when: Option<Arg>,
    pub depends_on: Vec<Arg>,
    pub loop_: Option<Loop>,
    /// Variables from enclosing blocks, roles and includes.
    pub layers: Vec<VarLayer>,
    pub block: Option<BlockPos>,
    pub role: Option<Arc<RoleRef>>,
    /// Where relative files (templates, lookups) are searched, in order.
    pub search: Arc<Vec<PathBuf>>,
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

/// A task left out by tag selection or `--start-at-task`.
#[derive(Debug, Clone)]
pub struct Deselected {
    pub name: String,
    pub location: Location,
    pub register: Option<String>,
    /// Variables it would have set (set_fact).
    pub sets: Vec<String>,
    /// Why: "--skip-tags aws", "not in --tags x", "before --start-at-task".
    pub reason: String,
}
