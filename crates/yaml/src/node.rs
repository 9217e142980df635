use std::fmt;

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One YAML node: its value, where it starts, and its tag (`!Ref`), if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
    /// A local tag such as `!Ref`, with its `!`. Standard `!!` tags are
    /// applied while parsing and not kept.
    pub tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer outside `i64` (YAML integers, like Python's, have no
    /// limit), as its exact decimal digits with a leading `-` if negative:
    /// `99999999999999999999999`. Never a number that fits an `i64`.
    BigInt(String),
    /// A float; `inf`, `-inf` and `nan` included (`.inf`, `.nan`).
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    Map(Mapping),
}

/// An ordered mapping; keys keep their own positions for error messages.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mapping {
    pub entries: Vec<(Node, Node)>,
}

impl Mapping {
    /// The value under a string key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value node under a string key.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Node, &Node)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Node {
    pub fn new(value: Value, span: Span) -> Self {
        Node {
            value,
            span,
            tag: None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Mapping> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// Looks up a key when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// A short name of the node's kind, for "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::BigInt(_) => "an integer",
            Value::Float(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The node as JSON. Tags are dropped: callers that give tags a meaning
    /// (CloudFormation templates) convert them first.
    ///
    /// JSON numbers cannot hold everything YAML can, so that no value is
    /// ever changed on its way out:
    /// - an integer beyond `i64` is a JSON number while it fits a `u64`, else
    ///   a string of its exact digits (what Ansible renders and what
    ///   `str(value)` gives a CloudFormation parameter; a float would lose
    ///   digits);
    /// - `inf`, `-inf` and `nan` are the strings `"inf"`, `"-inf"`, `"nan"`,
    ///   Python's `str()` of them, which is what Ansible renders into a
    ///   template or passes as a parameter value.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::BigInt(digits) => match digits.parse::<u64>() {
                Ok(u) => J::from(u),
                Err(_) => J::String(digits.clone()),
            },
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or_else(
                || J::String(crate::scalar::python_float_repr(*f)),
                J::Number,
            ),
            Value::String(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(map) => J::Object(
                map.iter()
                    .map(|(k, v)| (k.scalar_text(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// The text of a scalar as a mapping key would show it. Floats read as
    /// Python writes them (`1.0`, `1e+16`, `inf`).
    pub fn scalar_text(&self) -> String {
        match &self.value {
            Value::Null => "null".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::BigInt(digits) => digits.clone(),
            Value::Float(f) => crate::scalar::python_float_repr(*f),
            Value::String(s) => s.clone(),
            Value::Seq(_) | Value::Map(_) => self.to_json().to_string(),
        }
    }
}
