use crate::args::Common;
use crate::diagnostics::Printer;
use crate::exit;

pub fn run(common: &Common, printer: &Printer) -> i32 {
    match super::analyse(common, printer) {
        Ok(analysed) => {
            let waves = analysed.graph.waves().len();
            println!(
                "{}: valid ({} tasks, {} edges, {} waves{})",
                common.playbook.display(),
                analysed.playbook.tasks.len(),
                analysed.graph.edges().len(),
                waves,
                match analysed.graph.warnings.len() {
                    0 => String::new(),
                    1 => ", 1 warning".to_string(),
                    n => format!(", {n} warnings"),
                }
            );
            exit::OK
        }
        Err(code) => code,
    }
}
