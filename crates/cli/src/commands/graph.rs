use runbook_engine::Error;
use runbook_graph::{Format, RenderOptions};

use crate::args::{Common, GraphFormat};
use crate::diagnostics::Printer;

pub fn run(
    common: &Common,
    format: GraphFormat,
    all_edges: bool,
    printer: &Printer,
) -> Result<(), Error> {
    let analysed = super::analyse(common, printer)?;
    if super::listed(common, &analysed) {
        return Ok(());
    }
    let format = RenderOptions {
        format: match format {
            GraphFormat::Dot => Format::Dot,
            GraphFormat::Mermaid => Format::Mermaid,
            GraphFormat::Json => Format::Json,
            GraphFormat::Text => Format::Text,
        },
        all_edges,
    };
    // Names are made printable by the renderer; each line once more here.
    for line in analysed.graph.render(&analysed.playbook, format).lines() {
        println!("{}", runbook_module::printable(line));
    }
    Ok(())
}
