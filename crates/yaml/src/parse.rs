use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::node::{Mapping, Node, Span, Value};

/// A syntax or structure error, with the position it was found at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub span: Span,
    pub message: String,
}

/// Parses the first document of `source`. An empty source is `null`.
pub fn parse(source: &str) -> Result<Node, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(source);
    parser.load(&mut builder, false).map_err(|e| YamlError {
        span: span_of(e.marker()),
        message: e.info().to_string(),
    })?;
    if let Some(err) = builder.error {
        return Err(err);
    }
    Ok(builder
        .root
        .unwrap_or_else(|| Node::new(Value::Null, Span { line: 1, column: 1 })))
}

fn span_of(mark: &Marker) -> Span {
    Span {
        line: mark.line(),
        // yaml-rust2 columns are 0-based.
        column: mark.col() + 1,
    }
}

enum Open {
    Seq(Node, usize),
    /// The mapping, its anchor, a key waiting for its value, and the keys
    /// that came from a merge key (an explicit key may override those).
    Map(Node, usize, Option<Node>, Vec<Value>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    error: Option<YamlError>,
    done: bool,
}

impl Builder {
    fn fail(&mut self, span: Span, message: String) {
        if self.error.is_none() {
            self.error = Some(YamlError { span, message });
        }
    }

    /// Attaches a finished node to its parent (or makes it the root).
    fn push(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Open::Seq(seq, _)) => {
                if let Value::Seq(items) = &mut seq.value {
                    items.push(node);
                }
            }
            Some(Open::Map(map, _, pending_key, merged)) => match pending_key.take() {
                None => {
                    // yaml-rust2 places a block mapping at its first value;
                    // its first key is where a reader looks for it.
                    if matches!(&map.value, Value::Map(m) if m.is_empty()) && node.span < map.span {
                        map.span = node.span;
                    }
                    *pending_key = Some(node)
                }
                Some(key) => {
                    let Value::Map(mapping) = &mut map.value else {
                        return;
                    };
                    if key.tag.is_none() && key.as_str() == Some("<<") {
                        merge_into(mapping, node, merged);
                        return;
                    }
                    let duplicate = mapping
                        .entries
                        .iter()
                        .position(|(k, _)| k.value == key.value);
                    if let Some(index) = duplicate {
                        if let Some(m) = merged.iter().position(|v| *v == key.value) {
                            merged.remove(m);
                            mapping.entries[index] = (key, node);
                            return;
                        }
                        let first = mapping.entries[index].0.span;
                        let text = key.scalar_text();
                        self.fail(
                            key.span,
                            format!("duplicate key `{text}` (first defined at {first})"),
                        );
                        return;
                    }
                    mapping.entries.push((key, node));
                }
            },
        }
    }
}

/// YAML 1.1 merge keys (`<<: *defaults`): keys already present win.
fn merge_into(mapping: &mut Mapping, source: Node, merged: &mut Vec<Value>) {
    let sources = match source.value {
        Value::Map(m) => vec![m],
        Value::Seq(items) => items
            .into_iter()
            .filter_map(|n| match n.value {
                Value::Map(m) => Some(m),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    for source in sources {
        for (k, v) in source.entries {
            if !mapping
                .entries
                .iter()
                .any(|(existing, _)| existing.value == k.value)
            {
                merged.push(k.value.clone());
                mapping.entries.push((k, v));
            }
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.done || self.error.is_some() {
            return;
        }
        let span = span_of(&mark);
        match event {
            Event::DocumentEnd if self.root.is_some() => self.done = true,
            Event::Scalar(text, style, anchor, tag) => {
                let node = match scalar(text, style, tag.as_ref(), span) {
                    Ok(node) => node,
                    Err(message) => return self.fail(span, message),
                };
                self.push(node, anchor);
            }
            Event::SequenceStart(anchor, tag) => {
                let mut node = Node::new(Value::Seq(Vec::new()), span);
                node.tag = local_tag(tag.as_ref());
                self.stack.push(Open::Seq(node, anchor));
            }
            Event::MappingStart(anchor, tag) => {
                let mut node = Node::new(Value::Map(Mapping::default()), span);
                node.tag = local_tag(tag.as_ref());
                self.stack.push(Open::Map(node, anchor, None, Vec::new()));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(Open::Seq(node, anchor) | Open::Map(node, anchor, _, _)) =
                    self.stack.pop()
                {
                    self.push(node, anchor);
                }
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(mut node) => {
                    node.span = span;
                    self.push(node, 0);
                }
                None => self.fail(span, "alias to an unknown anchor".to_string()),
            },
            _ => {}
        }
    }
}

fn local_tag(tag: Option<&Tag>) -> Option<String> {
    tag.filter(|t| t.handle == "!")
        .map(|t| format!("!{}", t.suffix))
}

fn scalar(
    text: String,
    style: TScalarStyle,
    tag: Option<&Tag>,
    span: Span,
) -> Result<Node, String> {
    if let Some(tag) = tag {
        if tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:" {
            let value = match tag.suffix.as_str() {
                "str" => Value::String(text),
                "int" => resolve_int(&text)
                    .map(Value::Int)
                    .ok_or_else(|| format!("`{text}` is not an integer (tagged !!int)"))?,
                "float" => resolve_float(&text)
                    .or_else(|| resolve_int(&text).map(|i| i as f64))
                    .map(Value::Float)
                    .ok_or_else(|| format!("`{text}` is not a number (tagged !!float)"))?,
                "bool" => resolve_bool(&text)
                    .map(Value::Bool)
                    .ok_or_else(|| format!("`{text}` is not a boolean (tagged !!bool)"))?,
                "null" => Value::Null,
                other => return Err(format!("unsupported YAML tag `!!{other}`")),
            };
            return Ok(Node::new(value, span));
        }
        let mut node = Node::new(Value::String(text), span);
        node.tag = Some(format!("{}{}", tag.handle, tag.suffix));
        return Ok(node);
    }
    let value = if style == TScalarStyle::Plain {
        resolve_plain(text)
    } else {
        Value::String(text)
    };
    Ok(Node::new(value, span))
}

fn resolve_plain(text: String) -> Value {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        _ => {}
    }
    if let Some(b) = resolve_bool(&text) {
        return Value::Bool(b);
    }
    if let Some(i) = resolve_int(&text) {
        return Value::Int(i);
    }
    if let Some(f) = resolve_float(&text) {
        return Value::Float(f);
    }
    Value::String(text)
}

fn resolve_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

fn resolve_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let digits = digits.replace('_', "");
    let magnitude = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        // YAML 1.1 octal, as PyYAML reads `0755`.
        i64::from_str_radix(&digits[1..], 8).ok()?
    } else if digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    Some(if negative { -magnitude } else { magnitude })
}

fn resolve_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let body = text.trim_start_matches(['-', '+']);
    // Require a digit and a dot or exponent so that words like `infinity`
    // or version strings like `1.2.3` stay strings.
    let looks_numeric = body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && body.bytes().any(|b| b.is_ascii_digit())
        && body.bytes().any(|b| b == b'.' || b == b'e' || b == b'E')
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+' | b'_'));
    if !looks_numeric {
        return None;
    }
    text.replace('_', "").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let doc = parse("a: 1\nb:\n  - x\n  - !Ref Y\n").unwrap();
        let (key, _) = doc.as_map().unwrap().entry("b").unwrap();
        assert_eq!(key.span, Span { line: 2, column: 1 });
        let items = doc.get("b").unwrap().as_seq().unwrap();
        // A tagged scalar is placed at its text, after the tag.
        assert_eq!(
            items[1].span,
            Span {
                line: 4,
                column: 10
            }
        );
        assert_eq!(items[1].tag.as_deref(), Some("!Ref"));
        assert_eq!(items[1].as_str(), Some("Y"));
    }

    #[test]
    fn yaml_1_1_scalars() {
        let doc =
            parse("a: yes\nb: 'yes'\nc: ~\nd: 0x1f\ne: 1.5\nf: 1.2.3\ng: 010\nh: Off").unwrap();
        let j = doc.to_json();
        assert_eq!(j["a"], true);
        assert_eq!(j["b"], "yes");
        assert!(j["c"].is_null());
        assert_eq!(j["d"], 31);
        assert_eq!(j["e"], 1.5);
        assert_eq!(j["f"], "1.2.3");
        assert_eq!(j["g"], 8);
        assert_eq!(j["h"], false);
    }

    #[test]
    fn tagged_mappings_and_sequences_keep_tags() {
        let doc = parse("x: !Sub\n  - '${A}'\n  - A: b\ny: !GetAtt R.Arn").unwrap();
        assert_eq!(doc.get("x").unwrap().tag.as_deref(), Some("!Sub"));
        assert_eq!(doc.get("y").unwrap().tag.as_deref(), Some("!GetAtt"));
    }

    #[test]
    fn standard_tags_convert() {
        let doc = parse("a: !!str 10\nb: !!int '7'").unwrap();
        assert_eq!(doc.get("a").unwrap().as_str(), Some("10"));
        assert_eq!(doc.get("b").unwrap().value, Value::Int(7));
    }

    #[test]
    fn syntax_error_has_position() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.span.line >= 2, "{err:?}");
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.span, Span { line: 3, column: 1 });
        assert_eq!(err.message, "duplicate key `a` (first defined at 1:1)");
    }

    #[test]
    fn anchors_and_merge_keys() {
        let doc = parse("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n").unwrap();
        let j = doc.to_json();
        assert_eq!(j["other"]["x"], 1);
        assert_eq!(j["other"]["y"], 3);
    }

    #[test]
    fn empty_document_is_null() {
        assert!(parse("").unwrap().is_null());
        assert!(parse("# only a comment\n").unwrap().is_null());
    }
}
