//! Errors as data: callers branch on [`YamlErrorKind`], never on message text.

use crate::node::Span;

/// What went wrong. New kinds may be added, so match with a `_` arm.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum YamlErrorKind {
    /// The text is not well-formed YAML (reported by the YAML parser).
    Syntax,
    /// A character YAML forbids anywhere in a stream (a control character
    /// such as NUL, or U+FFFE/U+FFFF).
    ForbiddenCharacter,
    /// A second document (`---` after the first), which Ansible rejects.
    MultipleDocuments,
    /// A mapping key that appears twice.
    DuplicateKey,
    /// A list or mapping used as a mapping key (Ansible cannot hash it).
    UnhashableKey,
    /// An alias (`*name`) whose anchor (`&name`) was not defined before it.
    UnknownAlias,
    /// Aliases expand to more than the document may hold ("billion laughs").
    AliasLimit,
    /// Collections nested deeper than the parser allows.
    TooDeep,
    /// A merge key (`<<`) whose value is not a mapping or list of mappings.
    InvalidMerge,
    /// A scalar that resolves to a type but is not a valid value of it: an
    /// impossible date, a too-long integer, `!!int` on a non-integer, ...
    InvalidScalar,
    /// A standard (`!!`) tag this loader does not construct.
    UnsupportedTag,
    /// The YAML parser failed internally; the input is most likely invalid.
    Internal,
}

/// A syntax or structure error, with the position it was found at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub kind: YamlErrorKind,
    pub span: Span,
    pub message: String,
}

impl YamlError {
    pub fn new(kind: YamlErrorKind, span: Span, message: impl Into<String>) -> Self {
        YamlError {
            kind,
            span,
            message: message.into(),
        }
    }
}
