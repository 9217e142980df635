use std::path::PathBuf;
use std::sync::Arc;

use indexmap::IndexMap;
use runbook_graph::TaskGraph;
use runbook_playbook::{Json, Playbook, Selection};

use crate::Error;

/// What a command starts from.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub playbook: PathBuf,
    /// `-e` arguments as given: key=value, @file, JSON or YAML.
    pub extra_vars: Vec<String>,
    /// Where `-e @file` paths are found from.
    pub cwd: PathBuf,
    /// `--tags`, `--skip-tags`, `--start-at-task`.
    pub selection: Selection,
}

/// A playbook checked as a whole, offline: everything that can be known
/// before touching AWS.
pub struct Analysed {
    pub extra_vars: Arc<IndexMap<String, Json>>,
    pub playbook: Arc<Playbook>,
    pub graph: TaskGraph,
}

/// Reads `-e`, loads the playbook with the standard modules and builds its
/// graph. Every problem is returned, not just the first.
pub fn analyse(inputs: &Inputs) -> Result<Analysed, Error> {
    let extra_vars = runbook_playbook::extra_vars::parse_all(&inputs.extra_vars, &inputs.cwd)
        .map_err(|problem| Error::ExtraVars(vec![problem]))?;
    let registry = runbook_modules::registry();
    let playbook = runbook_playbook::load_selected(
        &inputs.playbook,
        &extra_vars,
        &registry,
        &inputs.selection,
    )
    .map_err(Error::from_problems)?;
    let graph = runbook_graph::build(&playbook, &extra_vars).map_err(Error::from_problems)?;
    Ok(Analysed {
        extra_vars: Arc::new(extra_vars),
        playbook: Arc::new(playbook),
        graph,
    })
}
