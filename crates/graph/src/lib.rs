//! The task graph: an edge A -> B means B waits for A, and every edge says
//! why (a registered variable B reads, an export B's template imports, the
//! same stack, or `depends_on`).
//!
//! Building the graph is also where a playbook is checked as a whole:
//! undefined variables, missing or broken templates, unknown `depends_on`
//! names and cycles are all reported here, before anything runs.

mod build;
mod place;
mod reads;
mod reduce;
mod render;

use std::fmt;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use runbook_module::{AccountKey, StaticFacts};

use runbook_playbook::{PlaybookError, TaskId};

pub use build::{build, PORTABLE_DEPENDS_ON};
pub use reduce::Reduction;
pub use render::{Format, RenderOptions};
pub use runbook_module::ResultReads;

/// Why one task waits for another.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EdgeReason {
    /// Reads a variable the other task registers.
    Register(String),
    /// Reads a variable the other task sets as a fact (its module says
    /// which, e.g. set_fact).
    Fact(String),
    /// Imports a name the other task exports (a CloudFormation export).
    Export(String),
    /// Manages the same thing (a stack), so file order is kept.
    Same(&'static str),
    DependsOn,
    /// A block with a rescue runs its tasks in order.
    BlockOrder,
    /// A block's `rescue` waits for the block.
    Rescue,
    /// A block's `always` waits for the block and its rescue.
    Always,
    /// Plays run in file order: the next play starts after this one ends.
    PlayOrder,
    /// Tearing down: a stack goes after the stacks that depend on it.
    Teardown,
}

impl fmt::Display for EdgeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EdgeReason::Register(name) => write!(f, "register {name}"),
            EdgeReason::Fact(name) => write!(f, "fact {name}"),
            EdgeReason::Export(name) => write!(f, "export {name}"),
            EdgeReason::Same(kind) => write!(f, "same {kind}"),
            EdgeReason::DependsOn => write!(f, "depends_on"),
            EdgeReason::BlockOrder => write!(f, "block order"),
            EdgeReason::Rescue => write!(f, "rescue"),
            EdgeReason::Always => write!(f, "always"),
            EdgeReason::PlayOrder => write!(f, "play order"),
            EdgeReason::Teardown => write!(f, "teardown order"),
        }
    }
}

/// A finished, acyclic task graph. Node `i` is task `i` of the playbook.
#[derive(Debug)]
pub struct TaskGraph {
    graph: DiGraph<TaskId, EdgeReason>,
    /// What each task's module worked out before running: where it acts,
    /// what it manages, exports and imports (per loop item).
    pub facts: Vec<TaskFacts>,
    /// Problems that do not stop a run (an import name that cannot be
    /// resolved, an import no task exports).
    pub warnings: Vec<PlaybookError>,
    /// Imports that no task of the playbook exports: they must already
    /// exist in the account (apply checks with ListExports first).
    pub external_imports: Vec<ExternalImport>,
    /// Per task: what the playbook may read of its registered result, so
    /// that modules can skip calls whose only use is a field nobody reads.
    pub result_reads: Vec<ResultReads>,
}

/// What a task's module worked out before running, per loop item.
#[derive(Debug, Clone, Default)]
pub struct TaskFacts {
    /// One per item (one for a task without a loop); empty for a loop over
    /// nothing.
    pub items: Vec<StaticFacts>,
    /// The loop's list is only known once earlier tasks have run: `items`
    /// holds what is known without it.
    pub expands_at_run_time: bool,
    /// The loop's items run one after another, as in Ansible: an item
    /// reads a variable that an earlier item sets (a set_fact that
    /// accumulates).
    pub sequential: bool,
}

impl TaskFacts {
    pub fn single(facts: StaticFacts) -> Self {
        TaskFacts {
            items: vec![facts],
            ..TaskFacts::default()
        }
    }
}

impl TaskGraph {
    /// Every item's facts, of every task.
    pub fn all_facts(&self) -> impl Iterator<Item = &StaticFacts> {
        self.facts.iter().flat_map(|f| f.items.iter())
    }
}

/// An import that must be satisfied by an export already in the account.
#[derive(Debug, Clone)]
pub struct ExternalImport {
    pub task: TaskId,
    pub account: AccountKey,
    pub name: String,
}

impl TaskGraph {
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// The tasks `task` waits for, without duplicates, in file order.
    pub fn dependencies(&self, task: TaskId) -> Vec<TaskId> {
        self.neighbours(task, Direction::Incoming)
    }

    /// The tasks that wait for `task`, without duplicates, in file order.
    pub fn dependents(&self, task: TaskId) -> Vec<TaskId> {
        self.neighbours(task, Direction::Outgoing)
    }

    fn neighbours(&self, task: TaskId, direction: Direction) -> Vec<TaskId> {
        let mut out: Vec<TaskId> = self
            .graph
            .neighbors_directed(NodeIndex::new(task), direction)
            .map(|n| n.index())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every edge as (from, to, reason), sorted.
    pub fn edges(&self) -> Vec<(TaskId, TaskId, &EdgeReason)> {
        let mut edges: Vec<_> = self
            .graph
            .edge_references()
            .map(|e| (e.source().index(), e.target().index(), e.weight()))
            .collect();
        edges.sort();
        edges
    }

    /// Tasks grouped in waves: each wave only waits for earlier waves, so
    /// a wave's tasks can run together.
    pub fn waves(&self) -> Vec<Vec<TaskId>> {
        let mut level = vec![0usize; self.len()];
        // Node indices follow file order, but edges may point backwards
        // (an import of a later task's export), so walk topologically.
        let order = petgraph::algo::toposort(&self.graph, None).unwrap_or_default();
        for node in order {
            let l = self
                .graph
                .neighbors_directed(node, Direction::Incoming)
                .map(|p| level[p.index()] + 1)
                .max()
                .unwrap_or(0);
            level[node.index()] = l;
        }
        let depth = level.iter().copied().max().map_or(0, |m| m + 1);
        let mut waves = vec![Vec::new(); depth];
        for (task, l) in level.into_iter().enumerate() {
            waves[l].push(task);
        }
        waves
    }

    /// The graph for tearing down the tasks `keep` (node `i` is `keep[i]`):
    /// each waits for every kept task that depends on it, directly or
    /// through other tasks, so stacks go in the reverse order of creation.
    pub fn teardown(&self, keep: &[TaskId]) -> TaskGraph {
        // A task may appear more than once (one undo per loop item).
        let mut positions: std::collections::HashMap<TaskId, Vec<usize>> =
            std::collections::HashMap::new();
        for (i, &t) in keep.iter().enumerate() {
            positions.entry(t).or_default().push(i);
        }
        let mut graph = DiGraph::with_capacity(keep.len(), keep.len());
        for i in 0..keep.len() {
            graph.add_node(i);
        }
        for (i, &task) in keep.iter().enumerate() {
            let mut dfs = petgraph::visit::Dfs::new(&self.graph, NodeIndex::new(task));
            while let Some(node) = dfs.next(&self.graph) {
                if node.index() == task {
                    continue;
                }
                for &j in positions.get(&node.index()).into_iter().flatten() {
                    graph.add_edge(NodeIndex::new(j), NodeIndex::new(i), EdgeReason::Teardown);
                }
            }
        }
        TaskGraph {
            graph,
            facts: vec![TaskFacts::default(); keep.len()],
            warnings: Vec::new(),
            external_imports: Vec::new(),
            result_reads: vec![ResultReads::nothing(); keep.len()],
        }
    }

    /// Tasks in an order where each comes after everything it waits for.
    pub fn topological_order(&self) -> Vec<TaskId> {
        petgraph::algo::toposort(&self.graph, None)
            .map(|order| order.into_iter().map(|n| n.index()).collect())
            .unwrap_or_default()
    }
}
