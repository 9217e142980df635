//! Ansible-flavoured Jinja on minijinja, checked against ansible-core 2.19
//! (`tests/ansible_cases.*`).
//!
//! - [`Engine`] renders strings the way Ansible does: a template whose whole
//!   output is one `{{ expression }}` keeps the expression's type, one that
//!   writes nothing is `None`, anything else is text; undefined variables
//!   are errors; `<`, `<=`, `>`, `>=` refuse types Python cannot order.
//! - [`Scope`] holds variables in precedence layers; play and task vars are
//!   templated lazily, when read, as Ansible does.
//! - [`analysis`] finds which variables a template reads, and which of those
//!   it guards with `default` or `is defined`, without rendering it; and
//!   what would fail whatever runs (unknown filters, tests and lookups,
//!   template files that look each other up in a loop).
//! - [`TemplateError`] says what went wrong as its variant, and where in the
//!   template text as a [`TemplateSpan`].

pub mod analysis;
mod compare;
mod compile;
mod engine;
mod error;
mod filters;
mod filters_list;
mod filters_text;
mod lookups;
mod pyrepr;
mod scope;

pub use analysis::References;
pub use engine::{Engine, OMIT, TEMPLATE_LOOKUP_LIMIT, VARIABLE_NESTING_LIMIT};
pub use error::{Nesting, Origin, TemplateError, TemplateSpan, Unknown};
pub use lookups::candidates as lookup_candidates;
pub use scope::{Layer, Scope};

/// Variables are JSON values: what modules register and what YAML holds.
pub type Json = serde_json::Value;

/// A JSON value (or anything serializable) as a template value.
pub(crate) fn value_of<T: serde::Serialize>(value: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(value))
}
