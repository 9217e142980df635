//! YAML text to a `Node` tree, from yaml-rust2's event stream.
//!
//! What Ansible refuses is refused here too, so that nothing is silently
//! read differently: control characters anywhere (yaml-rust2 would stop at
//! a NUL and drop the rest), a second document, unhashable keys, bad merge
//! keys, nesting past libyaml's depth. Aliases are copied into the tree, so
//! the copies are paid for from a budget that grows with the input and has
//! a ceiling: a "billion laughs" document fails fast instead of filling the
//! memory.

use std::cell::Cell;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use crate::error::{YamlError, YamlErrorKind};
use crate::node::{Mapping, Node, Span, Value};
use crate::scalar::{self, Plain};

/// Nesting deeper than this is refused, as libyaml (Ansible's parser)
/// refuses it; it also keeps recursive walks of the tree off the stack's
/// limit.
pub(crate) const MAX_DEPTH: usize = 1000;

/// What the copies made for aliases may cost, in bytes of nodes: 64 times
/// the input, at least 32 MiB, at most 256 MiB.
fn alias_budget(input_len: usize) -> usize {
    input_len.saturating_mul(64).clamp(32 << 20, 256 << 20)
}

const START: Span = Span { line: 1, column: 1 };

/// Parses the single document of `source`. An empty source is `null`.
pub fn parse(source: &str) -> Result<Node, YamlError> {
    let last = Cell::new(START);
    without_panics(&last, || parse_document(source, &last))
}

fn parse_document(source: &str, last: &Cell<Span>) -> Result<Node, YamlError> {
    // Ansible skips a byte-order mark at the start (and, like Python's
    // `json`, does not read such a text as JSON).
    let (text, bom) = match source.strip_prefix('\u{feff}') {
        Some(rest) => (rest, true),
        None => (source, false),
    };
    check_characters(text)?;
    let referenced = check_structure(text, last)?;
    let mut builder = Builder {
        source: text,
        stack: Vec::new(),
        anchors: HashMap::new(),
        referenced,
        budget: alias_budget(text.len()),
        spent: 0,
        json: !bom && is_json(text),
        nan_keys: 0,
        root: None,
    };
    let mut parser = Parser::new_from_str(text);
    while builder.root.is_none() {
        let (event, mark) = parser.next_token().map_err(|e| syntax_error(e, text))?;
        last.set(span_of(&mark));
        if event == Event::StreamEnd {
            break;
        }
        builder.on_event(event, mark)?;
    }
    Ok(builder
        .root
        .unwrap_or_else(|| Node::new(Value::Null, START)))
}

/// Turns a panic inside the YAML parser into an error, without the panic
/// message reaching the user's terminal.
fn without_panics<T>(
    last: &Cell<Span>,
    f: impl FnOnce() -> Result<T, YamlError>,
) -> Result<T, YamlError> {
    thread_local! {
        static QUIET: Cell<bool> = const { Cell::new(false) };
    }
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.try_with(Cell::get).unwrap_or(false) {
                previous(info);
            }
        }));
    });
    let was_quiet = QUIET.with(|q| q.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was_quiet));
    result.unwrap_or_else(|payload| {
        let why = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(YamlError::new(
            YamlErrorKind::Internal,
            last.get(),
            format!(
                "the YAML parser failed near here ({why}); the text is most likely not valid YAML"
            ),
        ))
    })
}

fn span_of(mark: &Marker) -> Span {
    Span {
        line: mark.line(),
        // yaml-rust2 columns are 0-based.
        column: mark.col() + 1,
    }
}

/// `*name` as written at `span`.
fn alias_name(source: &str, span: Span) -> String {
    let line = source.lines().nth(span.line.saturating_sub(1));
    let name: String = line
        .unwrap_or("")
        .chars()
        .skip(span.column.saturating_sub(1))
        .take_while(|c| !c.is_whitespace() && !",[]{}".contains(*c))
        .take(64)
        .collect();
    if name.starts_with('*') {
        name
    } else {
        "*".to_string()
    }
}

fn syntax_error(e: ScanError, source: &str) -> YamlError {
    if e.info() == "while parsing node, found unknown anchor" {
        let span = span_of(e.marker());
        let name = alias_name(source, span);
        return YamlError::new(
            YamlErrorKind::UnknownAlias,
            span,
            format!(
                "alias `{name}` refers to no anchor (`&{}`) defined before it",
                &name[1..]
            ),
        );
    }
    // yaml-rust2 counts flow levels in a `u8`.
    if e.info() == "recursion limit exceeded" {
        return YamlError::new(
            YamlErrorKind::TooDeep,
            span_of(e.marker()),
            "flow collections (`[...]`, `{...}`) are nested more than 255 levels deep",
        );
    }
    YamlError::new(YamlErrorKind::Syntax, span_of(e.marker()), e.info())
}

/// PyYAML's reader accepts only `[\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF
/// \uE000-\uFFFD\U00010000-\U0010FFFF]`.
fn check_characters(text: &str) -> Result<(), YamlError> {
    let (mut line, mut column) = (1, 1);
    for c in text.chars() {
        let allowed = matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}')
            || (c >= '\u{a0}' && c != '\u{fffe}' && c != '\u{ffff}');
        if !allowed {
            let name = match c {
                '\0' => " (NUL)",
                '\u{1b}' => " (ESC)",
                '\u{7f}' => " (DEL)",
                _ => "",
            };
            return Err(YamlError::new(
                YamlErrorKind::ForbiddenCharacter,
                Span { line, column },
                format!(
                    "unacceptable character #x{:04x}{name}: control characters are not allowed in YAML",
                    c as u32
                ),
            ));
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    Ok(())
}

/// Ansible reads a text with Python's `json` module first, and only when
/// that fails as YAML.
fn is_json(text: &str) -> bool {
    let first = text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .bytes()
        .next();
    matches!(
        first,
        Some(b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n')
    ) && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
}

/// Walks the events once without building anything: the whole text must be
/// valid YAML and a single document, as PyYAML composes it before
/// constructing. Returns the anchors that some alias uses.
fn check_structure(text: &str, last: &Cell<Span>) -> Result<HashSet<usize>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut referenced = HashSet::new();
    let mut documents = 0;
    let mut depth = 0;
    loop {
        let (event, mark) = parser.next_token().map_err(|e| syntax_error(e, text))?;
        last.set(span_of(&mark));
        match event {
            Event::StreamEnd => return Ok(referenced),
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(YamlError::new(
                        YamlErrorKind::MultipleDocuments,
                        span_of(&mark),
                        "expected a single document, but another document starts here; \
                         Ansible reads only one document per file",
                    ));
                }
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(too_deep(span_of(&mark)));
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth -= 1,
            Event::Alias(id) => {
                referenced.insert(id);
            }
            _ => {}
        }
    }
}

fn too_deep(span: Span) -> YamlError {
    YamlError::new(
        YamlErrorKind::TooDeep,
        span,
        format!("collections are nested more than {MAX_DEPTH} levels deep"),
    )
}

/// A finished node and what it holds: bytes of nodes and nesting height.
struct Built {
    node: Node,
    weight: usize,
    height: usize,
    /// A plain `<<`: a merge key if it lands in a key position.
    merge: bool,
}

struct Anchored {
    node: Node,
    weight: usize,
    height: usize,
}

/// A mapping key as Python's dict compares keys: `1`, `1.0` and `true` are
/// the same key; `nan` is never equal to anything.
#[derive(PartialEq, Eq, Hash)]
enum KeyId {
    Null,
    Integer(String),
    Float(u64),
    String(String),
    Unique(usize),
}

enum Open {
    Seq {
        node: Node,
        anchor: usize,
        weight: usize,
        height: usize,
    },
    Map {
        node: Node,
        anchor: usize,
        weight: usize,
        height: usize,
        /// A key waiting for its value, and whether it is a merge key.
        key: Option<(Node, bool)>,
        /// Where each key is in the entries.
        keys: HashMap<KeyId, usize>,
        /// Entries that came from a merge key (an explicit key may override
        /// those).
        merged: HashSet<usize>,
    },
}

struct Builder<'a> {
    source: &'a str,
    stack: Vec<Open>,
    anchors: HashMap<usize, Anchored>,
    referenced: HashSet<usize>,
    budget: usize,
    spent: usize,
    json: bool,
    nan_keys: usize,
    root: Option<Node>,
}

fn node_weight(node: &Node) -> usize {
    let text = match &node.value {
        Value::String(s) | Value::BigInt(s) => s.len(),
        _ => 0,
    };
    std::mem::size_of::<Node>() + text + node.tag.as_ref().map_or(0, String::len)
}

impl Builder<'_> {
    fn on_event(&mut self, event: Event, mark: Marker) -> Result<(), YamlError> {
        let span = span_of(&mark);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let built = self.scalar(text, style, tag.as_ref(), span)?;
                self.finish(built, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(span)?;
                let mut node = Node::new(Value::Seq(Vec::new()), span);
                node.tag = local_tag(tag.as_ref());
                let weight = node_weight(&node);
                self.stack.push(Open::Seq {
                    node,
                    anchor,
                    weight,
                    height: 0,
                });
                Ok(())
            }
            Event::MappingStart(anchor, tag) => {
                self.open(span)?;
                let mut node = Node::new(Value::Map(Mapping::default()), span);
                node.tag = local_tag(tag.as_ref());
                let weight = node_weight(&node);
                self.stack.push(Open::Map {
                    node,
                    anchor,
                    weight,
                    height: 0,
                    key: None,
                    keys: HashMap::new(),
                    merged: HashSet::new(),
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(
                    Open::Seq {
                        node,
                        anchor,
                        weight,
                        height,
                    }
                    | Open::Map {
                        node,
                        anchor,
                        weight,
                        height,
                        ..
                    },
                ) => self.finish(
                    Built {
                        node,
                        weight,
                        height: height + 1,
                        merge: false,
                    },
                    anchor,
                ),
                None => Ok(()),
            },
            Event::Alias(id) => self.alias(id, span),
            _ => Ok(()),
        }
    }

    fn open(&self, span: Span) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(too_deep(span));
        }
        Ok(())
    }

    fn alias(&mut self, id: usize, span: Span) -> Result<(), YamlError> {
        // Names are looked up only for errors: finding one scans the text.
        let Some(anchored) = self.anchors.get(&id) else {
            let name = alias_name(self.source, span);
            return Err(YamlError::new(
                YamlErrorKind::UnknownAlias,
                span,
                format!("alias `{name}` refers to its own anchor's node, which is not finished: recursive structures are not supported"),
            ));
        };
        let (weight, height) = (anchored.weight, anchored.height);
        if self.stack.len() + height > MAX_DEPTH {
            let name = alias_name(self.source, span);
            return Err(YamlError::new(
                YamlErrorKind::TooDeep,
                span,
                format!("alias `{name}` nests collections more than {MAX_DEPTH} levels deep"),
            ));
        }
        if let Err(mut e) = self.charge(weight, span) {
            e.message = format!(
                "alias `{}` at {span}: {}",
                alias_name(self.source, span),
                e.message
            );
            return Err(e);
        }
        let mut node = self.anchors[&id].node.clone();
        node.span = span;
        self.attach(Built {
            node,
            weight,
            height,
            merge: false,
        })
    }

    /// Pays for a copy made for an alias.
    /// The error's message is to follow what was being copied.
    fn charge(&mut self, weight: usize, span: Span) -> Result<(), YamlError> {
        self.spent = self.spent.saturating_add(weight);
        if self.spent <= self.budget {
            return Ok(());
        }
        Err(YamlError::new(
            YamlErrorKind::AliasLimit,
            span,
            format!(
                "the document expands aliases beyond the limit of {} MiB for a text of this size (a \"billion laughs\" document?)",
                self.budget >> 20
            ),
        ))
    }

    fn scalar(
        &mut self,
        text: String,
        style: TScalarStyle,
        tag: Option<&Tag>,
        span: Span,
    ) -> Result<Built, YamlError> {
        let fail = |(kind, message): scalar::ScalarError| {
            YamlError::new(
                kind,
                span,
                format!("cannot read `{}`: {message}", scalar::shorten(&text)),
            )
        };
        let mut merge = false;
        let mut local = None;
        let value = match tag {
            Some(tag) if tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:" => {
                match scalar::construct_tagged(&tag.suffix, &text) {
                    Some(result) => result.map_err(fail)?,
                    None => {
                        return Err(YamlError::new(
                            YamlErrorKind::UnsupportedTag,
                            span,
                            format!("unsupported YAML tag `!!{}`", tag.suffix),
                        ))
                    }
                }
            }
            Some(tag) => {
                local = Some(format!("{}{}", tag.handle, tag.suffix));
                Value::String(text)
            }
            None if style == TScalarStyle::Plain => {
                let resolved = if self.json {
                    scalar::resolve_json_plain(&text)
                } else {
                    scalar::resolve_plain(&text)
                };
                match resolved.map_err(fail)? {
                    Plain::Value(v) => v,
                    Plain::Timestamp(iso) => Value::String(iso),
                    Plain::Merge => {
                        merge = true;
                        Value::String(text)
                    }
                }
            }
            None => Value::String(text),
        };
        let mut node = Node::new(value, span);
        node.tag = local;
        Ok(Built {
            weight: node_weight(&node),
            node,
            height: 0,
            merge,
        })
    }

    /// Keeps an anchored node for its aliases, then attaches it.
    fn finish(&mut self, built: Built, anchor: usize) -> Result<(), YamlError> {
        if anchor > 0 && self.referenced.contains(&anchor) {
            let span = built.node.span;
            if let Err(mut e) = self.charge(built.weight, span) {
                e.message = format!(
                    "anchored node at {span} (kept for its aliases): {}",
                    e.message
                );
                return Err(e);
            }
            self.anchors.insert(
                anchor,
                Anchored {
                    node: built.node.clone(),
                    weight: built.weight,
                    height: built.height,
                },
            );
        }
        self.attach(built)
    }

    /// Attaches a finished node to its parent (or makes it the root).
    fn attach(&mut self, built: Built) -> Result<(), YamlError> {
        let Built {
            node,
            weight: child_weight,
            height: child_height,
            merge,
        } = built;
        let merge_misplaced = |span| {
            YamlError::new(
                YamlErrorKind::InvalidMerge,
                span,
                "a plain `<<` is YAML's merge key and is allowed only as a mapping key; quote it to make it a string",
            )
        };
        let nan_keys = &mut self.nan_keys;
        match self.stack.last_mut() {
            None => {
                if merge {
                    return Err(merge_misplaced(node.span));
                }
                self.root = Some(node);
            }
            Some(Open::Seq {
                node: seq,
                weight,
                height,
                ..
            }) => {
                if merge {
                    return Err(merge_misplaced(node.span));
                }
                *weight += child_weight;
                *height = (*height).max(child_height);
                if let Value::Seq(items) = &mut seq.value {
                    items.push(node);
                }
            }
            Some(Open::Map {
                node: map,
                weight,
                height,
                key,
                keys,
                merged,
                ..
            }) => {
                *weight += child_weight;
                *height = (*height).max(child_height);
                let Some((key_node, is_merge)) = key.take() else {
                    if matches!(node.value, Value::Seq(_) | Value::Map(_)) {
                        return Err(YamlError::new(
                            YamlErrorKind::UnhashableKey,
                            node.span,
                            format!(
                                "{} cannot be a mapping key (Ansible cannot use it as a key)",
                                node.kind()
                            ),
                        ));
                    }
                    // yaml-rust2 places a block mapping at its first value;
                    // its first key is where a reader looks for it.
                    if matches!(&map.value, Value::Map(m) if m.is_empty()) && node.span < map.span {
                        map.span = node.span;
                    }
                    *key = Some((node, merge));
                    return Ok(());
                };
                if merge {
                    return Err(merge_misplaced(node.span));
                }
                let Value::Map(mapping) = &mut map.value else {
                    return Ok(());
                };
                if is_merge {
                    return merge_into(mapping, keys, merged, node, nan_keys);
                }
                let id = key_id(&key_node.value, nan_keys);
                if let Some(&index) = keys.get(&id) {
                    if merged.remove(&index) {
                        mapping.entries[index] = (key_node, node);
                        return Ok(());
                    }
                    let first = mapping.entries[index].0.span;
                    let text = key_node.scalar_text();
                    return Err(YamlError::new(
                        YamlErrorKind::DuplicateKey,
                        key_node.span,
                        format!("duplicate key `{text}` (first defined at {first})"),
                    ));
                }
                keys.insert(id, mapping.entries.len());
                mapping.entries.push((key_node, node));
            }
        }
        Ok(())
    }
}

fn key_id(value: &Value, nan_keys: &mut usize) -> KeyId {
    match value {
        Value::Null => KeyId::Null,
        Value::Bool(b) => KeyId::Integer(u8::from(*b).to_string()),
        Value::Int(i) => KeyId::Integer(i.to_string()),
        Value::BigInt(digits) => KeyId::Integer(digits.clone()),
        Value::Float(f) if f.is_nan() => {
            *nan_keys += 1;
            KeyId::Unique(*nan_keys)
        }
        Value::Float(f) if *f == 0.0 => KeyId::Integer("0".into()),
        Value::Float(f) if f.is_finite() && f.fract() == 0.0 => KeyId::Integer(format!("{f:.0}")),
        Value::Float(f) => KeyId::Float(f.to_bits()),
        Value::String(s) => KeyId::String(s.clone()),
        // Rejected as keys before they get here.
        Value::Seq(_) | Value::Map(_) => {
            *nan_keys += 1;
            KeyId::Unique(*nan_keys)
        }
    }
}

/// YAML 1.1 merge keys (`<<: *defaults`, `<<: [*a, *b]`): keys already
/// present win, and of several sources the first that has a key wins.
fn merge_into(
    mapping: &mut Mapping,
    keys: &mut HashMap<KeyId, usize>,
    merged: &mut HashSet<usize>,
    source: Node,
    nan_keys: &mut usize,
) -> Result<(), YamlError> {
    let sources = match source.value {
        Value::Map(m) => vec![m],
        Value::Seq(items) => items
            .into_iter()
            .map(|n| match n.value {
                Value::Map(m) => Ok(m),
                _ => Err(YamlError::new(
                    YamlErrorKind::InvalidMerge,
                    n.span,
                    format!("expected a mapping for merging, found {}", n.kind()),
                )),
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(YamlError::new(
                YamlErrorKind::InvalidMerge,
                source.span,
                format!(
                    "expected a mapping or list of mappings for merging, found {}",
                    source.kind()
                ),
            ))
        }
    };
    for source in sources {
        for (k, v) in source.entries {
            let id = key_id(&k.value, nan_keys);
            if let Entry::Vacant(slot) = keys.entry(id) {
                slot.insert(mapping.entries.len());
                merged.insert(mapping.entries.len());
                mapping.entries.push((k, v));
            }
        }
    }
    Ok(())
}

fn local_tag(tag: Option<&Tag>) -> Option<String> {
    tag.filter(|t| t.handle == "!")
        .map(|t| format!("!{}", t.suffix))
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
    fn a_panic_in_the_parser_is_an_error() {
        let last = Cell::new(Span { line: 3, column: 7 });
        let err = without_panics::<()>(&last, || panic!("scanner state")).unwrap_err();
        assert_eq!(err.kind, YamlErrorKind::Internal);
        assert_eq!(err.span, Span { line: 3, column: 7 });
        assert!(err.message.contains("scanner state"), "{err}");
        // Parsing still works afterwards.
        assert!(parse("a: 1").is_ok());
    }

    #[test]
    fn empty_document_is_null() {
        assert!(parse("").unwrap().is_null());
        assert!(parse("# only a comment\n").unwrap().is_null());
    }
}
