use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// Why a template could not be parsed or rendered.
///
/// What went wrong is the variant, never its text: match on the variant.
/// Most variants say where in the template text it happened (`at`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("template syntax error: {message}")]
    Syntax {
        message: String,
        at: Option<Box<TemplateSpan>>,
    },
    /// A variable that no layer of the scope defines.
    #[error("undefined variable `{name}`")]
    Undefined {
        name: String,
        at: Option<Box<TemplateSpan>>,
    },
    /// An attribute, key or index that a defined value does not have
    /// (`r.missing`, `list[9]`), or another undefined value that is not a
    /// variable. `expr` is the expression as written, when it is known.
    #[error("undefined value in `{expr}` (an attribute or key that does not exist?)")]
    UndefinedValue {
        expr: String,
        at: Option<Box<TemplateSpan>>,
    },
    /// Any other failure while rendering: a filter's, a lookup's, a
    /// comparison of types that have no order, ...
    #[error("{message}")]
    Render {
        message: String,
        at: Option<Box<TemplateSpan>>,
    },
    #[error("variable `{name}` refers to itself: {}", chain.join(" -> "))]
    Recursive { name: String, chain: Vec<String> },
    /// The render used up its fuel: a runaway loop, most likely.
    #[error("the template did too much work (more than {limit} steps): a runaway loop?")]
    TooMuchWork {
        limit: u64,
        at: Option<Box<TemplateSpan>>,
    },
    /// Templates looked up inside templates, or lazy variables read inside
    /// lazy variables, deeper than runbook allows. `chain` is outermost
    /// first, with a repeating stretch written once and followed by `...`.
    #[error("{nesting} nest more than {limit} deep: {}", chain.join(" -> "))]
    TooDeep {
        nesting: Nesting,
        limit: usize,
        chain: Vec<String>,
    },
    /// Template files that look each other up in a loop, found before
    /// anything runs (see [`crate::analysis`]): `a.j2 -> b.j2 -> a.j2`.
    #[error("lookup('template') loops: {}", chain.join(" -> "))]
    LookupCycle {
        chain: Vec<String>,
        at: Option<Box<TemplateSpan>>,
    },
    /// A filter, test or lookup runbook does not have, found before anything
    /// runs (see [`crate::analysis`]).
    #[error("{}", unknown_message(*.kind, name))]
    Unknown {
        kind: Unknown,
        name: String,
        at: Option<Box<TemplateSpan>>,
    },
}

/// What nested too deeply in [`TemplateError::TooDeep`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// `lookup('template', ...)` inside a looked-up template.
    TemplateLookups,
    /// A variable whose value is a template reading another such variable.
    Variables,
}

impl fmt::Display for Nesting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Nesting::TemplateLookups => "template lookups",
            Nesting::Variables => "templated variables",
        })
    }
}

/// What [`TemplateError::Unknown`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    Filter,
    Test,
    Lookup,
    /// A lookup Ansible has that runs commands or reaches the network
    /// (`pipe`, `url`, ...), which runbook refuses.
    RefusedLookup,
}

fn unknown_message(kind: Unknown, name: &str) -> String {
    match kind {
        Unknown::Filter => format!(
            "unknown filter `{name}`: runbook does not have it (its filters are listed in docs/playbooks.md#filters)"
        ),
        Unknown::Test => format!(
            "unknown test `{name}`: runbook does not have it (its tests are listed in docs/playbooks.md#tests)"
        ),
        Unknown::Lookup => format!(
            "lookup plugin `{name}` is not supported (runbook has {})",
            crate::lookups::SUPPORTED.join(", ")
        ),
        Unknown::RefusedLookup => format!(
            "lookup plugin `{name}` runs commands or reaches outside the playbook: runbook refuses it"
        ),
    }
}

/// Where in a template's text an error happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSpan {
    /// Whose text `source` is.
    pub origin: Origin,
    /// The whole text the error is in.
    pub source: Arc<str>,
    /// Byte range of the failing expression or statement within `source`.
    pub range: Range<usize>,
    /// 1-based line of `range.start` within `source`.
    pub line: usize,
    /// 1-based column (in characters) of `range.start` within its line.
    pub column: usize,
}

/// Whose text a [`TemplateSpan`] points into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The string passed to `Engine::render` / `eval_condition` (for a
    /// value with several strings, the one that failed: see `source`).
    Given,
    /// The value of this templated variable, read on the way.
    Variable(String),
    /// A file read by `lookup('template', ...)`, as the lookup names it.
    File(String),
}

impl TemplateSpan {
    pub(crate) fn new(origin: Origin, source: Arc<str>, range: Range<usize>) -> Self {
        let start = floor_char_boundary(&source, range.start.min(source.len()));
        let end = floor_char_boundary(&source, range.end.clamp(start, source.len()));
        let before = &source[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = source[line_start..start].chars().count() + 1;
        TemplateSpan {
            origin,
            source,
            range: start..end,
            line,
            column,
        }
    }

    /// The line of `source` holding the error, and a caret line under the
    /// failing part of it:
    ///
    /// ```text
    /// {{ count > 20 }}
    ///    ^^^^^^^^^^
    /// ```
    pub fn caret(&self) -> String {
        let line_start = self.source[..self.range.start]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line_end = self.source[self.range.start..]
            .find('\n')
            .map_or(self.source.len(), |i| self.range.start + i);
        let text = &self.source[line_start..line_end];
        let width = self.source[self.range.start..self.range.end.min(line_end)]
            .chars()
            .count()
            .max(1);
        format!(
            "{text}\n{}{}",
            " ".repeat(self.column - 1),
            "^".repeat(width)
        )
    }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

impl TemplateError {
    /// Where in the template text the error happened, when known.
    pub fn span(&self) -> Option<&TemplateSpan> {
        match self {
            TemplateError::Syntax { at, .. }
            | TemplateError::Undefined { at, .. }
            | TemplateError::UndefinedValue { at, .. }
            | TemplateError::Render { at, .. }
            | TemplateError::TooMuchWork { at, .. }
            | TemplateError::LookupCycle { at, .. }
            | TemplateError::Unknown { at, .. } => at.as_deref(),
            TemplateError::Recursive { .. } | TemplateError::TooDeep { .. } => None,
        }
    }

    /// Sets where the error happened, unless an inner render already did.
    pub(crate) fn located(mut self, span: Option<TemplateSpan>) -> Self {
        let Some(span) = span else { return self };
        match &mut self {
            TemplateError::Syntax { at, .. }
            | TemplateError::Undefined { at, .. }
            | TemplateError::UndefinedValue { at, .. }
            | TemplateError::Render { at, .. }
            | TemplateError::TooMuchWork { at, .. }
            | TemplateError::LookupCycle { at, .. }
            | TemplateError::Unknown { at, .. } => {
                if at.is_none() {
                    *at = Some(Box::new(span));
                }
            }
            TemplateError::Recursive { .. } | TemplateError::TooDeep { .. } => {}
        }
        self
    }

    pub(crate) fn render(message: impl Into<String>) -> Self {
        TemplateError::Render {
            message: message.into(),
            at: None,
        }
    }

    /// Converts a minijinja error, without its place (see
    /// [`crate::engine`], which knows the source it came from).
    pub(crate) fn from_minijinja(err: &minijinja::Error) -> Self {
        use minijinja::ErrorKind;
        if err.kind() == ErrorKind::OutOfFuel {
            return TemplateError::TooMuchWork {
                limit: crate::engine::FUEL,
                at: None,
            };
        }
        let mut message = match err.detail() {
            // Filters, lookups and comparisons say what failed themselves.
            Some(detail) if err.kind() == ErrorKind::InvalidOperation => detail.to_string(),
            Some(detail) => format!("{}: {detail}", kind_text(err.kind())),
            None => kind_text(err.kind()).to_string(),
        };
        // A filter or lookup error carries its own cause; show it.
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        match err.kind() {
            ErrorKind::SyntaxError | ErrorKind::BadEscape => {
                TemplateError::Syntax { message, at: None }
            }
            _ => TemplateError::Render { message, at: None },
        }
    }
}

fn kind_text(kind: minijinja::ErrorKind) -> &'static str {
    use minijinja::ErrorKind::*;
    match kind {
        SyntaxError => "syntax error",
        UndefinedError => "undefined value",
        UnknownFilter => "unknown filter",
        UnknownTest => "unknown test",
        UnknownFunction => "unknown function",
        InvalidOperation => "invalid operation",
        MissingArgument => "missing argument",
        TooManyArguments => "too many arguments",
        BadSerialization => "value cannot be converted",
        _ => "template error",
    }
}

/// Writes a chain of names with a repeating stretch written once:
/// `main -> a -> b -> a -> b -> a` becomes `main -> a -> b -> a -> ...`.
pub(crate) fn collapse_chain(chain: &[String]) -> Vec<String> {
    for start in 0..chain.len() {
        let tail = &chain[start..];
        // The shortest period the tail repeats with, seen at least twice.
        let period =
            (1..=tail.len() / 2).find(|p| tail.iter().skip(*p).zip(tail).all(|(a, b)| a == b));
        if let Some(p) = period {
            let mut out: Vec<String> = chain[..=start + p].to_vec();
            out.push("...".to_string());
            return out;
        }
    }
    chain.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_collapse_their_repeats() {
        let chain = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(collapse_chain(&chain("a a a a")), chain("a a ..."));
        assert_eq!(collapse_chain(&chain("a b a b a b")), chain("a b a ..."));
        assert_eq!(collapse_chain(&chain("a b c")), chain("a b c"));
        assert_eq!(collapse_chain(&chain("m a b a b a")), chain("m a b a ..."));
    }

    #[test]
    fn span_lines_and_carets() {
        let span = TemplateSpan::new(Origin::Given, "x\n{{ a > 1 }}".into(), 5..10);
        assert_eq!((span.line, span.column), (2, 4));
        assert_eq!(span.caret(), "{{ a > 1 }}\n   ^^^^^");
    }
}
