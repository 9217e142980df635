//! YAML read into a tree whose every node keeps its position and tag.
//!
//! Playbook errors must point at `file:line:column`, and CloudFormation
//! templates use local tags (`!Ref`, `!Sub`, `!ImportValue`) that a plain
//! serde deserializer would drop, so we build our own tree from the event
//! stream of a maintained YAML parser.
//!
//! Plain scalars resolve as YAML 1.1 does in PyYAML (what Ansible uses):
//! `yes`/`no`/`on`/`off` are booleans, `~` is null.

mod emit;
mod node;
mod parse;

pub use emit::to_yaml_string;
pub use node::{Mapping, Node, Span, Value};
pub use parse::{parse, YamlError};
