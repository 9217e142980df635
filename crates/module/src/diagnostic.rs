use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use runbook_yaml::Span;

use crate::Json;

/// A place in a file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    pub file: Arc<PathBuf>,
    pub span: Span,
}

impl Location {
    /// The start of a file.
    pub fn start(file: Arc<PathBuf>) -> Location {
        Location {
            file,
            span: Span { line: 1, column: 1 },
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.span)
    }
}

/// What kind of problem a [`PlaybookError`] is; the CLI maps kinds to exit
/// codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A file could not be read.
    Io,
    /// YAML (or JSON) that does not parse.
    Syntax,
    /// Well-formed YAML that is not a valid playbook: unknown keyword,
    /// module or option, wrong type, missing option.
    Schema,
    /// A bad `-e` value.
    ExtraVars,
    /// A template that does not parse or cannot render.
    Template,
    /// A variable that nothing defines.
    Undefined,
    /// Something runbook deliberately does not do (yet).
    Unsupported,
    /// Tasks that wait for each other in a circle.
    Cycle,
}

/// One problem found in a playbook, with where it is and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PlaybookError {
    pub kind: ErrorKind,
    pub message: String,
    pub location: Option<Location>,
    /// The task the problem is in, by display name.
    pub task: Option<String>,
    pub help: Option<String>,
    /// The part of the location's line to point at, when known.
    pub focus: Option<Box<Focus>>,
}

/// What to underline on a location's line: `context` (a template's text)
/// is looked for from the location's column, and within it `width`
/// characters from character `offset`. A printer that does not find
/// `context` as written (an escaped quote, a folded block) points at the
/// location's column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Focus {
    pub context: String,
    pub offset: usize,
    pub width: usize,
}

impl PlaybookError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        PlaybookError {
            kind,
            message: message.into(),
            location: None,
            task: None,
            help: None,
            focus: None,
        }
    }

    /// A template that does not render or parse, pointing at the failing
    /// part of its text when that text is the one written in the file.
    pub fn template(err: &runbook_template::TemplateError) -> Self {
        let mut out = PlaybookError::new(ErrorKind::Template, err.to_string());
        if let Some(span) = err.span() {
            if span.origin == runbook_template::Origin::Given {
                let line = span.source.lines().nth(span.line.saturating_sub(1));
                if let Some(line) = line {
                    let start = span.range.start.min(span.source.len());
                    let end = span.range.end.clamp(start, span.source.len());
                    let width = span
                        .source
                        .get(start..end)
                        .map(|text| text.lines().next().unwrap_or("").chars().count())
                        .unwrap_or(0)
                        .max(1);
                    out.focus = Some(Box::new(Focus {
                        context: line.to_string(),
                        offset: span.column.saturating_sub(1),
                        width,
                    }));
                }
            }
        }
        out
    }

    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    pub fn in_task(mut self, task: impl Into<String>) -> Self {
        self.task = Some(task.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// A module option or keyword value, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub value: Json,
    pub location: Location,
}
