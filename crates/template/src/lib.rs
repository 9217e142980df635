//! Ansible-flavoured Jinja on minijinja.
//!
//! - [`Engine`] renders strings the way Ansible does: a string that is exactly
//!   one `{{ expression }}` keeps the expression's type, anything else is text;
//!   undefined variables are errors.
//! - [`Scope`] holds variables in precedence layers; play and task vars are
//!   templated lazily, when read, as Ansible does.
//! - [`analysis`] finds which variables a template reads, and which of those
//!   it guards with `default` or `is defined`, without rendering it.

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
pub use scope::{Layer, Scope};

/// Variables are JSON values: what modules register and what YAML holds.
pub type Json = serde_json::Value;

/// A JSON value (or anything serializable) as a template value.
pub(crate) fn value_of<T: serde::Serialize>(value: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(value))
}
