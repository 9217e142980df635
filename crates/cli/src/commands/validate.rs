use runbook_engine::Error;

use crate::args::Common;
use crate::diagnostics::Printer;

pub fn run(common: &Common, printer: &Printer) -> Result<(), Error> {
    let analysed = super::analyse(common, printer)?;
    if super::listed(common, &analysed) {
        return Ok(());
    }
    let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    println!(
        "{}: valid ({}, {}, {}{})",
        common.playbook.display(),
        count(analysed.playbook.tasks.len(), "task"),
        count(analysed.graph.edges().len(), "edge"),
        count(analysed.graph.waves().len(), "wave"),
        match analysed.graph.warnings.len() {
            0 => String::new(),
            1 => ", 1 warning".to_string(),
            n => format!(", {n} warnings"),
        }
    );
    Ok(())
}
