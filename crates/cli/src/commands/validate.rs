use runbook_engine::Error;
use serde_json::json;

use crate::args::{Common, Output};
use crate::diagnostics::Printer;

pub fn run(common: &Common, printer: &Printer) -> Result<(), Error> {
    let analysed = super::analyse(common, printer)?;
    if super::listed(common, &analysed) {
        return Ok(());
    }
    let graph = &analysed.graph;
    if common.output == Output::Json || common.report.is_some() {
        let warnings: Vec<_> = graph
            .warnings
            .iter()
            .map(|w| {
                json!({
                    "message": w.message,
                    "location": w.location.as_ref().map(|l| l.to_string()),
                    "task": w.task,
                    "help": w.help,
                })
            })
            .collect();
        let report = json!({
            "schema": crate::json::SCHEMA,
            "command": "validate",
            "playbook": common.playbook.display().to_string(),
            "valid": true,
            "tasks": analysed.playbook.tasks.len(),
            "edges": graph.edges().len(),
            "waves": graph.waves().len(),
            "warnings": warnings,
        });
        crate::json::emit(
            &report,
            common.output == Output::Json,
            common.report.as_deref(),
        )?;
        if common.output == Output::Json {
            return Ok(());
        }
    }
    let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    println!(
        "{}: valid ({}, {}, {}{})",
        runbook_module::printable(&common.playbook.display().to_string()),
        count(analysed.playbook.tasks.len(), "task"),
        count(graph.edges().len(), "edge"),
        count(graph.waves().len(), "wave"),
        match graph.warnings.len() {
            0 => String::new(),
            1 => ", 1 warning".to_string(),
            n => format!(", {n} warnings"),
        }
    );
    Ok(())
}
