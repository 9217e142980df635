//! Property tests of the YAML layer: whatever the input, `parse` returns
//! (never panics, never aborts) in bounded time, and what it returns can be
//! used (`to_json`, `scalar_text`, `to_yaml_string` and back).
//!
//! Case counts are kept so the whole file runs in a few seconds in CI; set
//! `PROPTEST_CASES` to run longer locally.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use runbook_yaml::{parse, to_yaml_string, Node, Value, YamlErrorKind};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(cases),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Parses, checks the time, and uses the result.
fn check(source: &str) -> Result<(), TestCaseError> {
    let started = Instant::now();
    let result = parse(source);
    let elapsed = started.elapsed();
    prop_assert!(
        elapsed < Duration::from_secs(5),
        "took {elapsed:?} on {source:?}"
    );
    match result {
        Ok(node) => {
            walk(&node);
            let json = node.to_json();
            // What runbook writes, it reads back the same.
            let text = to_yaml_string(&json);
            let again = parse(&text);
            prop_assert!(again.is_ok(), "{text:?} does not parse: {again:?}");
            prop_assert_eq!(again.unwrap().to_json(), json, "through {:?}", text);
        }
        Err(e) => {
            // A panic inside the parser is turned into an error; one in our
            // own code must be found here, not hidden.
            prop_assert!(
                e.kind != YamlErrorKind::Internal,
                "internal error on {source:?}: {e}"
            );
            prop_assert!(e.span.line >= 1 && e.span.column >= 1, "{e:?}");
        }
    }
    Ok(())
}

fn walk(node: &Node) {
    let _ = node.scalar_text();
    let _ = node.kind();
    match &node.value {
        Value::Seq(items) => items.iter().for_each(walk),
        Value::Map(map) => map.iter().for_each(|(k, v)| {
            walk(k);
            walk(v);
        }),
        _ => {}
    }
}

/// Characters that mean something to YAML, and a few that must be refused.
const ALPHABET: &[char] = &[
    ' ', ' ', ' ', '\n', '\n', '\t', '\r', '-', '-', ':', ':', '?', ',', '[', ']', '{', '}', '&',
    '*', '!', '|', '>', '\'', '"', '%', '@', '`', '#', '<', '=', '~', '.', '_', '+', '\\', 'a',
    'b', 'x', 'e', 'E', 'y', 'n', '0', '1', '5', '9', '\u{0}', '\u{85}', '\u{feff}', '\u{2028}',
    'é', '😀',
];

fn yamlish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(ALPHABET), 0..120)
        .prop_map(|chars| chars.into_iter().collect())
}

const SCALARS: &[&str] = &[
    "x",
    "yes",
    "No",
    "oFf",
    "~",
    "null",
    "",
    "1",
    "-0",
    "+12",
    "0x_1F",
    "0b101",
    "0b_",
    "017",
    "08",
    "1:30",
    "1:60",
    "1_000",
    "1__0",
    "_1",
    "1e5",
    "1.5e+3",
    "0.",
    ".5",
    "+.5",
    "-.inf",
    ".NaN",
    "2001-12-14",
    "2001-02-30",
    "2001-12-14 21:59:43.10 -5",
    "99999999999999999999999",
    "'q'",
    "\"d\\x41\"",
    "\"\\u263A\"",
    "=",
    "<<",
    "!!int 7",
    "!!float 1",
    "!!bool y",
    "!!str 1",
    "!!binary aGk=",
    "!Ref r",
    "!Sub '${A}'",
    "!GetAtt a.b",
    "a b",
    "http://x:1/y",
];

/// Anchors that the trees' aliases (`*a0` to `*a5`) can refer to; a tree
/// may redefine them.
const ANCHORS: [&str; 6] = [
    "&a0 {k: 1, j: [x]}",
    "&a1 [x, y]",
    "&a2 y",
    "&a3 {m: *a0 , <<: *a0 }",
    "&a4 {}",
    "&a5 [*a1 , *a1 ]",
];

#[derive(Debug, Clone)]
enum Tree {
    Scalar(&'static str),
    Alias(u8),
    Seq(Vec<Tree>),
    Map(Vec<(Tree, Tree)>),
    /// `<<: *aN` or `<<: [*aN, *aM]` inside a mapping.
    Merge(Vec<u8>, Vec<(Tree, Tree)>),
    Anchored(u8, Box<Tree>),
    Tagged(&'static str, Box<Tree>),
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        4 => prop::sample::select(SCALARS).prop_map(Tree::Scalar),
        1 => (0u8..6).prop_map(Tree::Alias),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Tree::Seq),
            prop::collection::vec((inner.clone(), inner.clone()), 0..6).prop_map(Tree::Map),
            (
                // Mostly the anchors of mappings.
                prop::collection::vec(prop::sample::select(&[0u8, 3, 4, 0, 3, 4, 1, 2][..]), 1..4),
                prop::collection::vec((inner.clone(), inner.clone()), 0..4)
            )
                .prop_map(|(a, m)| Tree::Merge(a, m)),
            (0u8..6, inner.clone()).prop_map(|(a, t)| Tree::Anchored(a, Box::new(t))),
            (
                prop::sample::select(&["!Sub", "!!map", "!!seq", "!Ref"][..]),
                inner
            )
                .prop_map(|(tag, t)| Tree::Tagged(tag, Box::new(t))),
        ]
    })
}

/// Whether an anchor or tag can be put before `t` (not before an alias, a
/// tagged scalar, or another anchor or tag).
fn takes_properties(t: &Tree) -> bool {
    match t {
        Tree::Scalar(s) => !s.starts_with('!'),
        Tree::Seq(_) | Tree::Map(_) | Tree::Merge(..) => true,
        Tree::Alias(_) | Tree::Anchored(..) | Tree::Tagged(..) => false,
    }
}

/// Writes a tree in flow style.
fn flow(t: &Tree, out: &mut String) {
    match t {
        Tree::Scalar(s) => out.push_str(s),
        Tree::Alias(a) => out.push_str(&format!("*a{a} ")),
        Tree::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(item, out);
            }
            out.push(']');
        }
        Tree::Map(entries) | Tree::Merge(_, entries) => {
            out.push('{');
            if let Tree::Merge(aliases, _) = t {
                out.push_str(&merge_value(aliases));
                out.push_str(", ");
            }
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str("? ");
                flow(k, out);
                out.push_str(" : ");
                flow(v, out);
            }
            out.push('}');
        }
        Tree::Anchored(a, inner) => {
            if takes_properties(inner) {
                out.push_str(&format!("&a{a} "));
            }
            flow(inner, out);
        }
        Tree::Tagged(tag, inner) => {
            if takes_properties(inner) {
                out.push_str(tag);
                out.push(' ');
            }
            flow(inner, out);
        }
    }
}

fn merge_value(aliases: &[u8]) -> String {
    let names: Vec<String> = aliases.iter().map(|a| format!("*a{a} ")).collect();
    if names.len() == 1 {
        format!("<<: {}", names[0])
    } else {
        format!("<<: [{}]", names.join(", "))
    }
}

/// Writes a tree in block style where it can, at `indent`.
fn block(t: &Tree, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match t {
        Tree::Seq(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&format!("\n{pad}- "));
                block(item, indent + 2, out);
            }
        }
        Tree::Map(entries) | Tree::Merge(_, entries)
            if !entries.is_empty() || matches!(t, Tree::Merge(..)) =>
        {
            if let Tree::Merge(aliases, _) = t {
                out.push_str(&format!("\n{pad}{}", merge_value(aliases)));
            }
            for (k, v) in entries {
                let mut key = String::new();
                flow(k, &mut key);
                out.push_str(&format!("\n{pad}? {key}\n{pad}: "));
                block(v, indent + 2, out);
            }
        }
        Tree::Anchored(a, inner) => {
            if takes_properties(inner) {
                out.push_str(&format!("&a{a} "));
            }
            block(inner, indent, out);
        }
        Tree::Tagged(tag, inner) => {
            if takes_properties(inner) {
                out.push_str(tag);
                out.push(' ');
            }
            block(inner, indent, out);
        }
        _ => flow(t, out),
    }
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        check(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn arbitrary_strings(s in any::<String>()) {
        check(&s)?;
    }

    #[test]
    fn yaml_alphabet_soup(s in yamlish()) {
        check(&s)?;
    }

    #[test]
    fn structured_flow(t in tree()) {
        let mut text = format!("[{}, ", ANCHORS.join(", "));
        flow(&t, &mut text);
        text.push(']');
        check(&text)?;
    }

    #[test]
    fn structured_block(t in tree(), prefix in prop::sample::select(&["", "---\n", "\u{feff}", "# c\n"][..])) {
        let mut text = String::from(prefix);
        for anchor in ANCHORS {
            text.push_str(&format!("- {anchor}\n"));
        }
        text.push_str("- ");
        block(&t, 2, &mut text);
        text.push('\n');
        check(&text)?;
    }

    #[test]
    fn line_per_scalar(lines in prop::collection::vec((prop::sample::select(SCALARS), "[ a-z0-9:.+_-]{0,12}"), 1..20)) {
        let text: String = lines
            .iter()
            .enumerate()
            .map(|(i, (a, b))| format!("k{i}: {a}{b}\n"))
            .collect();
        check(&text)?;
    }
}

proptest! {
    #![proptest_config(config(24))]

    /// Aliases multiplied level by level: an error or a small document,
    /// quickly either way.
    #[test]
    fn alias_towers(levels in 1usize..40, width in 1usize..12, merge in any::<bool>()) {
        let mut text = String::from("a0: &a0 {k: [lol, lol]}\n");
        for level in 1..levels {
            let prev = format!("*a{}", level - 1);
            let items = vec![prev.clone(); width].join(", ");
            if merge {
                text.push_str(&format!("a{level}: &a{level} {{<<: [{items}], x: [{items}]}}\n"));
            } else {
                text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
            }
        }
        check(&text)?;
    }
}
