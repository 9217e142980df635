use runbook_engine::Error;
use runbook_graph::Format;

use crate::args::{Common, GraphFormat};
use crate::diagnostics::Printer;

pub fn run(common: &Common, format: GraphFormat, printer: &Printer) -> Result<(), Error> {
    let analysed = super::analyse(common, printer)?;
    if super::listed(common, &analysed) {
        return Ok(());
    }
    let format = match format {
        GraphFormat::Dot => Format::Dot,
        GraphFormat::Mermaid => Format::Mermaid,
        GraphFormat::Json => Format::Json,
        GraphFormat::Text => Format::Text,
    };
    // Names are made printable by the renderer; each line once more here.
    for line in analysed.graph.render(&analysed.playbook, format).lines() {
        println!("{}", runbook_module::printable(line));
    }
    Ok(())
}
