//! Each command: parse, analyse, then (for apply) run.

mod apply;
mod destroy;
mod graph;
mod validate;

use clap::Parser;
use indexmap::IndexMap;
use runbook_graph::TaskGraph;
use runbook_playbook::{ErrorKind, Json, Playbook, PlaybookError};

use crate::args::{Cli, Command, Common};
use crate::diagnostics::{Level, Printer};
use crate::exit;

pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() {
                exit::BAD_OPTIONS
            } else {
                exit::OK
            };
            let _ = err.print();
            return code;
        }
    };
    let printer = Printer::for_stderr();
    match cli.command {
        Command::Validate(common) => validate::run(&common, &printer),
        Command::Graph { common, format } => graph::run(&common, format, &printer),
        Command::Apply(args) => apply::run(&args, &printer),
        Command::Destroy(args) => destroy::run(&args, &printer),
    }
}

/// The exit code for a set of playbook errors.
pub fn code_for(errors: &[PlaybookError]) -> i32 {
    if errors.iter().all(|e| e.kind == ErrorKind::ExtraVars) {
        exit::BAD_OPTIONS
    } else if errors
        .iter()
        .all(|e| e.kind == ErrorKind::Io && e.location.is_none())
    {
        // The playbook file itself cannot be read: not a playbook error.
        exit::ERROR
    } else {
        exit::INVALID_PLAYBOOK
    }
}

/// What every command starts with: extra vars, the playbook, the graph.
pub struct Analysed {
    pub extra_vars: IndexMap<String, Json>,
    pub playbook: Playbook,
    pub graph: TaskGraph,
}

/// Loads and checks everything that can be checked offline, printing
/// errors and warnings. `Err` carries the exit code.
pub fn analyse(common: &Common, printer: &Printer) -> Result<Analysed, i32> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let extra_vars =
        runbook_playbook::extra_vars::parse_all(&common.extra_vars, &cwd).map_err(|err| {
            printer.print(Level::Error, &err);
            exit::BAD_OPTIONS
        })?;
    let report = |errors: Vec<PlaybookError>| {
        for err in &errors {
            printer.print(Level::Error, err);
        }
        let n = errors.len();
        eprintln!(
            "{}: {n} error{} found, nothing was run",
            common.playbook.display(),
            if n == 1 { "" } else { "s" }
        );
        code_for(&errors)
    };
    let playbook = runbook_playbook::load(&common.playbook, &extra_vars).map_err(report)?;
    let graph = runbook_graph::build(&playbook, &extra_vars).map_err(report)?;
    for warning in &graph.warnings {
        printer.print(Level::Warning, warning);
    }
    Ok(Analysed {
        extra_vars,
        playbook,
        graph,
    })
}
