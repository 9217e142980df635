//! Each command: parse, call the engine, print. Errors come back as one
//! type, printed and turned into an exit code in [`main`].

mod apply;
mod destroy;
mod graph;
mod validate;

use clap::Parser;
use runbook_engine::{Analysed, Error, Inputs};
use runbook_module::printable;

use crate::args::{Cli, Command, Common};
use crate::diagnostics::{Level, Printer};
use crate::exit;

/// Runs the command line; returns the exit code.
pub fn main() -> i32 {
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
    let (name, common, result) = match &cli.command {
        Command::Validate(common) => ("validate", common, validate::run(common, &printer)),
        Command::Graph {
            common,
            format,
            all_edges,
        } => (
            "graph",
            common,
            graph::run(common, *format, *all_edges, &printer),
        ),
        Command::Apply(args) => ("apply", &args.common, apply::run(args, &printer)),
        Command::Destroy(args) => ("destroy", &args.common, destroy::run(args, &printer)),
    };
    match result {
        Ok(()) => exit::OK,
        Err(err) => {
            report(&printer, &common.playbook, &err);
            let code = exit::code(&err);
            // Failed tasks, and a run interrupted while it ran, are in the
            // run's own report.
            if !matches!(
                err,
                Error::TasksFailed(_) | Error::Interrupted { reported: true, .. }
            ) {
                let json = common.output == crate::args::Output::Json;
                if json || common.report.is_some() {
                    let report = crate::json::error_report(name, &common.playbook, &err, code);
                    if let Err(write) = crate::json::emit(&report, json, common.report.as_deref()) {
                        eprintln!("{}", printable(&write.to_string()));
                    }
                }
            }
            code
        }
    }
}

/// Prints an error's problems, each with its place.
fn report(printer: &Printer, playbook: &std::path::Path, err: &Error) {
    for problem in err.problems() {
        printer.print(Level::Error, problem);
    }
    match err {
        Error::Invalid(problems) | Error::Unreadable(problems) => {
            let n = problems.len();
            eprintln!(
                "{}: {n} error{} found, nothing was run",
                printable(&playbook.display().to_string()),
                if n == 1 { "" } else { "s" }
            );
        }
        Error::Other(message) => printer.message(message, None),
        // Failed tasks were reported as they ran, the interruption when it
        // came.
        _ => {}
    }
}

/// What every command starts with: extra vars, the playbook, the graph;
/// warnings are printed.
pub fn analyse(common: &Common, printer: &Printer) -> Result<Analysed, Error> {
    let inputs = Inputs {
        playbook: common.playbook.clone(),
        extra_vars: common.extra_vars.clone(),
        cwd: std::env::current_dir().unwrap_or_else(|_| ".".into()),
        selection: runbook_playbook::Selection {
            tags: common.tags.clone(),
            skip_tags: common.skip_tags.clone(),
            start_at_task: common.start_at_task.clone(),
        },
    };
    let analysed = runbook_engine::analyse(&inputs)?;
    for warning in &analysed.graph.warnings {
        printer.print(Level::Warning, warning);
    }
    Ok(analysed)
}

/// `--list-tasks` / `--list-tags`: prints and says the command is done.
pub fn listed(common: &Common, analysed: &Analysed) -> bool {
    if !common.list_tasks && !common.list_tags {
        return false;
    }
    let playbook = &analysed.playbook;
    println!(
        "\nplaybook: {}\n",
        printable(&common.playbook.display().to_string())
    );
    for (index, play) in playbook.plays.iter().enumerate() {
        println!(
            "  play #{} (localhost): {}\tTAGS: []",
            index + 1,
            printable(play.name.as_deref().unwrap_or(""))
        );
        if common.list_tags {
            let tags: std::collections::BTreeSet<&str> = play
                .tasks
                .iter()
                .flat_map(|&t| playbook.tasks[t].tags.iter().map(String::as_str))
                .collect();
            println!(
                "      TASK TAGS: [{}]",
                printable(&tags.into_iter().collect::<Vec<_>>().join(", "))
            );
        }
        if common.list_tasks {
            println!("    tasks:");
            for &id in &play.tasks {
                let task = &playbook.tasks[id];
                let name = match &task.role {
                    Some(role) => format!("{} : {}", role.name, task.display_name()),
                    None => task.display_name(),
                };
                let mut tags: Vec<&str> = task.tags.iter().map(String::as_str).collect();
                tags.sort_unstable();
                tags.dedup();
                println!(
                    "      {}\tTAGS: [{}]",
                    printable(&name),
                    printable(&tags.join(", "))
                );
            }
        }
        println!();
    }
    true
}
