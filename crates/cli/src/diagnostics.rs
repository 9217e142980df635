//! Turns library errors into messages: what, where (with the source line
//! and a caret), in which task, and what to do.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;

use runbook_module::text::{printable, printable_width};
use runbook_module::Focus;
use runbook_playbook::{Location, PlaybookError};

pub struct Printer {
    color: bool,
    sources: RefCell<HashMap<PathBuf, Option<Vec<String>>>>,
}

#[derive(Clone, Copy)]
pub enum Level {
    Error,
    Warning,
}

impl Printer {
    /// Colours only for a terminal, and never when NO_COLOR is set.
    pub fn for_stderr() -> Self {
        let color = std::io::stderr().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Printer {
            color,
            sources: RefCell::new(HashMap::new()),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn render(&self, level: Level, err: &PlaybookError) -> String {
        let head = match level {
            Level::Error => self.paint("1;31", "error"),
            Level::Warning => self.paint("1;33", "warning"),
        };
        // The message and task name are one line each; help may span
        // lines on purpose (its values were made printable where it was
        // composed). Everything is escaped once more here, so nothing
        // from a playbook, template or AWS can forge or erase a line.
        let mut out = format!("{head}: {}\n", printable(&err.message));
        if let Some(location) = &err.location {
            out.push_str(&self.snippet(location, err.focus.as_deref()));
        }
        if let Some(task) = &err.task {
            out.push_str(&format!("   = task: {}\n", printable(task)));
        }
        if let Some(help) = &err.help {
            let mut lines = help.lines();
            if let Some(first) = lines.next() {
                out.push_str(&format!(
                    "   = {}: {}\n",
                    self.paint("1", "help"),
                    printable(first)
                ));
            }
            for line in lines {
                out.push_str(&format!("           {}\n", printable(line)));
            }
        }
        out
    }

    pub fn print(&self, level: Level, err: &PlaybookError) {
        eprint!("{}", self.render(level, err));
    }

    /// A plain error with no playbook location.
    pub fn message(&self, message: &str, help: Option<&str>) {
        let mut err = PlaybookError::new(runbook_playbook::ErrorKind::Io, message);
        err.help = help.map(str::to_string);
        self.print(Level::Error, &err);
    }

    fn snippet(&self, location: &Location, focus: Option<&Focus>) -> String {
        let mut out = format!(
            "  {} {}\n",
            self.paint("1;34", "-->"),
            printable(&location.to_string())
        );
        let mut sources = self.sources.borrow_mut();
        let lines = sources
            .entry(location.file.to_path_buf())
            .or_insert_with(|| {
                std::fs::read_to_string(location.file.as_path())
                    .ok()
                    .map(|s| s.lines().map(str::to_string).collect())
            });
        let Some(lines) = lines else { return out };
        let Some(line) = lines.get(location.span.line.saturating_sub(1)) else {
            return out;
        };
        let number = location.span.line.to_string();
        let pad = " ".repeat(number.len());
        let bar = self.paint("1;34", "|");
        // The source line as it may be printed (a tab shows as `\t`, an
        // escape sequence as `\x1b`), the caret under the same column, or
        // under the failing part of a template written on this line.
        let (at, width) = focus
            .and_then(|focus| focused(line, location.span.column.saturating_sub(1), focus))
            .unwrap_or((location.span.column.saturating_sub(1), 1));
        let chars: Vec<char> = line.chars().collect();
        let width_of = |cs: &[char]| cs.iter().map(|c| printable_width(*c)).sum::<usize>();
        let caret_at = " ".repeat(width_of(&chars[..at.min(chars.len())]));
        let underline =
            "^".repeat(width_of(&chars[at.min(chars.len())..(at + width).min(chars.len())]).max(1));
        let line = printable(line);
        out.push_str(&format!(" {pad} {bar}\n"));
        out.push_str(&format!(" {} {bar} {line}\n", self.paint("1;34", &number)));
        out.push_str(&format!(
            " {pad} {bar} {caret_at}{}\n",
            self.paint("1;31", &underline)
        ));
        out
    }
}

/// Where on `line` (in characters) the focus is, and how wide: its context
/// looked for from character `from`, as written.
fn focused(line: &str, from: usize, focus: &Focus) -> Option<(usize, usize)> {
    let start = line.char_indices().nth(from).map(|(i, _)| i)?;
    let found = line[start..].find(&focus.context)? + start;
    let at = line[..found].chars().count() + focus.offset;
    Some((at, focus.width))
}
