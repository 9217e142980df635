use runbook_graph::Format;

use crate::args::{Common, GraphFormat};
use crate::diagnostics::Printer;
use crate::exit;

pub fn run(common: &Common, format: GraphFormat, printer: &Printer) -> i32 {
    let analysed = match super::analyse(common, printer) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let format = match format {
        GraphFormat::Dot => Format::Dot,
        GraphFormat::Mermaid => Format::Mermaid,
        GraphFormat::Json => Format::Json,
        GraphFormat::Text => Format::Text,
    };
    print!("{}", analysed.graph.render(&analysed.playbook, format));
    exit::OK
}
