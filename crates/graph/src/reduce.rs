//! The transitive reduction of the task graph: the edges left once every
//! edge that a longer path already implies is taken away. Both graphs
//! order the tasks the same way; the reduction is what drawings show,
//! while the executor and the JSON keep every edge and its reason.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use petgraph::algo::tred::{dag_to_toposorted_adjacency_list, dag_transitive_reduction_closure};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::IntoNeighbors;

use crate::{TaskGraph, TaskId};

/// The pairs of tasks (from, to) that the transitive reduction keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reduction {
    kept: BTreeSet<(TaskId, TaskId)>,
    /// The kept pairs by `from`, each list in task order.
    next: BTreeMap<TaskId, Vec<TaskId>>,
}

impl Reduction {
    fn new(kept: BTreeSet<(TaskId, TaskId)>) -> Self {
        let mut next: BTreeMap<TaskId, Vec<TaskId>> = BTreeMap::new();
        // BTreeSet order: each `from`'s list comes out sorted.
        for &(from, to) in &kept {
            next.entry(from).or_default().push(to);
        }
        Reduction { kept, next }
    }

    /// Whether `to` waiting for `from` is a kept edge (not implied).
    pub fn contains(&self, from: TaskId, to: TaskId) -> bool {
        self.kept.contains(&(from, to))
    }

    /// How many pairs are kept.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// The kept pairs, sorted.
    pub fn pairs(&self) -> impl Iterator<Item = (TaskId, TaskId)> + '_ {
        self.kept.iter().copied()
    }

    /// For an edge the reduction drops: the tasks strictly between `from`
    /// and `to` on a shortest path of kept edges (the lowest task numbers
    /// among equals), which is why the edge says nothing new. `None` when
    /// the pair is kept or no path joins them.
    pub fn through(&self, from: TaskId, to: TaskId) -> Option<Vec<TaskId>> {
        if from == to || self.contains(from, to) {
            return None;
        }
        let mut parent: BTreeMap<TaskId, TaskId> = BTreeMap::new();
        let mut queue = VecDeque::from([from]);
        while let Some(node) = queue.pop_front() {
            for &succ in self.next.get(&node).into_iter().flatten() {
                if succ == from || parent.contains_key(&succ) {
                    continue;
                }
                parent.insert(succ, node);
                if succ == to {
                    let mut path = Vec::new();
                    let mut cur = parent[&to];
                    while cur != from {
                        path.push(cur);
                        cur = parent[&cur];
                    }
                    path.reverse();
                    return Some(path);
                }
                queue.push_back(succ);
            }
        }
        None
    }
}

impl TaskGraph {
    /// The transitive reduction of the graph's pairs of tasks.
    pub fn reduction(&self) -> Reduction {
        let pairs: BTreeSet<(TaskId, TaskId)> =
            self.edges().into_iter().map(|(a, b, _)| (a, b)).collect();
        reduce(self.len(), &pairs)
    }
}

/// The transitive reduction of a DAG on `nodes` nodes given by its pairs.
fn reduce(nodes: usize, pairs: &BTreeSet<(TaskId, TaskId)>) -> Reduction {
    // One edge per pair: petgraph's algorithm would keep each parallel
    // edge (one pair, several reasons) of a kept pair.
    let mut simple: DiGraph<(), ()> = DiGraph::with_capacity(nodes, pairs.len());
    for _ in 0..nodes {
        simple.add_node(());
    }
    for &(a, b) in pairs {
        simple.add_edge(NodeIndex::new(a), NodeIndex::new(b), ());
    }
    // Built graphs have no cycles (they are refused); should one get here
    // all the same, every edge is kept rather than guessing.
    let Ok(order) = petgraph::algo::toposort(&simple, None) else {
        return Reduction::new(pairs.clone());
    };
    let (sorted, _) = dag_to_toposorted_adjacency_list::<_, u32>(&simple, &order);
    let (tred, _closure) = dag_transitive_reduction_closure(&sorted);
    // `tred` numbers nodes by their rank in `order`.
    let mut kept = BTreeSet::new();
    for rank in tred.node_indices() {
        for succ in (&tred).neighbors(rank) {
            kept.insert((order[rank as usize].index(), order[succ as usize].index()));
        }
    }
    Reduction::new(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(nodes: usize, pairs: &[(TaskId, TaskId)]) -> Reduction {
        reduce(nodes, &pairs.iter().copied().collect())
    }

    fn kept(r: &Reduction) -> Vec<(TaskId, TaskId)> {
        r.pairs().collect()
    }

    #[test]
    fn a_chain_with_a_shortcut_loses_the_shortcut() {
        let r = of(3, &[(0, 1), (1, 2), (0, 2)]);
        assert_eq!(kept(&r), [(0, 1), (1, 2)]);
        assert_eq!(r.through(0, 2), Some(vec![1]));
        assert_eq!(r.through(0, 1), None);
    }

    /// 0 -> {1, 2} -> 3: both sides of a diamond stay, as neither implies
    /// the other; only the edge across it goes.
    #[test]
    fn a_diamond_keeps_both_sides() {
        let r = of(4, &[(0, 1), (0, 2), (1, 3), (2, 3), (0, 3)]);
        assert_eq!(kept(&r), [(0, 1), (0, 2), (1, 3), (2, 3)]);
        // The lowest-numbered of two equally short paths.
        assert_eq!(r.through(0, 3), Some(vec![1]));
    }

    /// Edges may point backwards in file order (an import of a later
    /// task's export); the reduction follows the graph, not the numbers.
    #[test]
    fn backward_edges_are_reduced_too() {
        let r = of(4, &[(3, 0), (0, 1), (3, 1), (1, 2), (3, 2), (0, 2)]);
        assert_eq!(kept(&r), [(0, 1), (1, 2), (3, 0)]);
        assert_eq!(r.through(3, 2), Some(vec![0, 1]));
    }

    #[test]
    fn independent_tasks_and_no_edges() {
        let r = of(3, &[]);
        assert!(r.is_empty());
        assert_eq!(r.through(0, 2), None);
        let r = of(4, &[(0, 1), (2, 3)]);
        assert_eq!(kept(&r), [(0, 1), (2, 3)]);
        assert_eq!(r.through(0, 3), None);
    }

    /// A cycle cannot reach a built graph; if one did, nothing is dropped.
    #[test]
    fn a_cycle_keeps_every_edge() {
        let r = of(3, &[(0, 1), (1, 2), (2, 0), (0, 2)]);
        assert_eq!(r.len(), 4);
    }

    /// A long chain with every shortcut (a set_fact that every later task
    /// reads) reduces to the chain.
    #[test]
    fn every_shortcut_of_a_chain_goes() {
        let n = 12;
        let pairs: Vec<_> = (0..n)
            .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
            .collect();
        let r = of(n, &pairs);
        assert_eq!(kept(&r), (0..n - 1).map(|a| (a, a + 1)).collect::<Vec<_>>());
        assert_eq!(r.through(0, n - 1), Some((1..n - 1).collect()));
    }
}
