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
mod engine;
mod error;
mod filters;
mod lookups;
mod scope;

pub use analysis::References;
pub use engine::{Engine, OMIT};
pub use error::TemplateError;
pub use scope::{Layer, Scope};

/// Variables are JSON values: what modules register and what YAML holds.
pub type Json = serde_json::Value;
