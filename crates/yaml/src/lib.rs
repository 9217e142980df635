//! YAML read into a tree whose every node keeps its position and tag.
//!
//! Playbook errors must point at `file:line:column`, and CloudFormation
//! templates use local tags (`!Ref`, `!Sub`, `!ImportValue`) that a plain
//! serde deserializer would drop, so we build our own tree from the event
//! stream of a maintained YAML parser.
//!
//! Plain scalars resolve exactly as Ansible's loader (PyYAML's YAML 1.1
//! resolver) resolves them: `yes`/`no`/`on`/`off` are booleans, `~` is null,
//! `1e5` is a string (a float needs a dot), `017` is octal, `1:30` is 90.
//! A text that is valid JSON is read with JSON's numbers, as Ansible tries
//! JSON first. See `scalar.rs` for the representation of what JSON cannot
//! hold (big integers, `inf`, dates).
//!
//! Errors carry a [`YamlErrorKind`]; what Ansible refuses (control
//! characters, several documents, unhashable keys) is refused, and alias
//! expansion is bounded so that no input can exhaust the machine.

mod emit;
mod error;
mod node;
mod parse;
mod scalar;

pub use emit::to_yaml_string;
pub use error::{YamlError, YamlErrorKind};
pub use node::{Mapping, Node, Span, Value};
pub use parse::parse;
