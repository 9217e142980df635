//! Inputs that were read wrongly, silently truncated, or exhausted the
//! machine, with what they must give now.

use std::time::{Duration, Instant};

use runbook_yaml::{parse, Span, Value, YamlError, YamlErrorKind};

fn err(source: &str) -> YamlError {
    match parse(source) {
        Ok(node) => panic!("{source:?} parsed as {:?}", node.to_json()),
        Err(e) => e,
    }
}

/// The classic "billion laughs": each level aliases the previous one
/// `width` times.
fn laughs(levels: usize, width: usize) -> String {
    let mut out = String::from("a0: &a0 [lol]\n");
    for level in 1..levels {
        let items = vec![format!("*a{}", level - 1); width].join(",");
        out.push_str(&format!("a{level}: &a{level} [{items}]\n"));
    }
    out
}

fn assert_fast(started: Instant) {
    // Generous for a debug build on a shared machine; the old code took
    // 41 s and 10 GB, or aborted.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn alias_bombs_fail_fast_with_a_clear_error() {
    for (levels, width) in [(10, 9), (12, 6), (30, 2), (8, 30)] {
        let source = laughs(levels, width);
        let started = Instant::now();
        let e = err(&source);
        assert_fast(started);
        assert_eq!(e.kind, YamlErrorKind::AliasLimit, "{e}");
        assert!(e.message.contains("billion laughs"), "{e}");
        // The alias that crossed the limit, by name and position.
        let name = e.message.split('`').nth(1).unwrap().to_string();
        assert!(name.starts_with("*a"), "{e}");
        assert!(e.message.contains(&e.span.to_string()), "{e}");
        let line = source.lines().nth(e.span.line - 1).unwrap();
        assert!(
            line[e.span.column - 1..].starts_with(&name),
            "{e} at {line}"
        );
    }
}

#[test]
fn merge_key_bombs_fail_fast() {
    let mut source = String::from("m0: &m0 {k0: lol, k1: lol, k2: lol, k3: lol}\n");
    for level in 1..40 {
        let prev = level - 1;
        source.push_str(&format!(
            "m{level}: &m{level} {{<<: [*m{prev}, *m{prev}, *m{prev}], x{level}: [*m{prev}, *m{prev}, *m{prev}, *m{prev}]}}\n"
        ));
    }
    let started = Instant::now();
    let e = err(&source);
    assert_fast(started);
    assert_eq!(e.kind, YamlErrorKind::AliasLimit, "{e}");
}

#[test]
fn nested_anchors_do_not_copy_quadratically() {
    // Every level anchored and aliased: each anchor keeps a copy of all
    // below it, and each alias copies it again.
    let depth = 250;
    let mut source = String::new();
    for i in 0..depth {
        source.push_str(&format!("&n{i} ["));
    }
    source.push_str(&"]".repeat(depth));
    source.push_str(", [");
    source.push_str(
        &(0..depth)
            .flat_map(|i| vec![format!("*n{i}"); 50])
            .collect::<Vec<_>>()
            .join(","),
    );
    let source = format!("[{source}]]");
    let started = Instant::now();
    let e = err(&source);
    assert_fast(started);
    assert_eq!(e.kind, YamlErrorKind::AliasLimit, "{e}");
}

#[test]
fn reasonable_aliases_and_merge_keys_still_work() {
    let mut source = String::from(
        "defaults: &defaults\n  region: eu-west-1\n  tags: &tags {team: a, env: prod}\n  retries: 3\n",
    );
    for i in 0..2000 {
        source.push_str(&format!(
            "stack{i}:\n  <<: *defaults\n  name: s{i}\n  labels: *tags\n"
        ));
    }
    let started = Instant::now();
    let doc = parse(&source).unwrap();
    assert_fast(started);
    let json = doc.to_json();
    assert_eq!(json["stack1999"]["region"], "eu-west-1");
    assert_eq!(json["stack1999"]["name"], "s1999");
    assert_eq!(json["stack7"]["labels"]["env"], "prod");
    // An alias is placed where it is written.
    let labels = doc.get("stack0").unwrap().get("labels").unwrap();
    assert_eq!(
        labels.span,
        Span {
            line: 8,
            column: 11
        }
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for source in [
        "[".repeat(200_000),
        "{a: ".repeat(200_000),
        (0..5000)
            .map(|i| format!("{}- \n", " ".repeat(i)))
            .collect(),
    ] {
        let started = Instant::now();
        let e = err(&source);
        assert_fast(started);
        assert_eq!(e.kind, YamlErrorKind::TooDeep, "{e}");
    }
    // Aliases cannot stack depth past the limit either.
    let mut source = String::from("l0: &l0 [x]\n");
    for i in 1..40 {
        let inner = format!("{}*l{}{}", "[".repeat(50), i - 1, "]".repeat(50));
        source.push_str(&format!("l{i}: &l{i} {inner}\n"));
    }
    assert_eq!(err(&source).kind, YamlErrorKind::TooDeep);
}

#[test]
fn a_nul_byte_is_refused_where_it_is() {
    let e = err("a: 1 # note\0 the rest\nb: 2\n");
    assert_eq!(e.kind, YamlErrorKind::ForbiddenCharacter);
    assert_eq!(
        e.span,
        Span {
            line: 1,
            column: 12
        }
    );
    assert!(e.message.contains("#x0000"), "{e}");
    for c in [
        '\u{1}', '\u{7f}', '\u{9b}', '\u{fffe}', '\u{ffff}', '\u{1b}',
    ] {
        let e = err(&format!("a: 1\nb: \"x{c}\"\n"));
        assert_eq!(e.kind, YamlErrorKind::ForbiddenCharacter, "{c:?}");
        assert_eq!(e.span, Span { line: 2, column: 6 }, "{c:?}");
    }
    // What YAML allows stays allowed.
    let doc = parse("a: \"tab\there\"\r\nb: \u{85}x\u{a0}\u{10000}\n").unwrap();
    assert_eq!(doc.get("a").unwrap().as_str(), Some("tab\there"));
}

#[test]
fn a_second_document_is_refused() {
    for (source, line) in [
        ("a: 1\n---\nb: 2\n", 2),
        ("a: 1\n---\n", 2),
        ("---\na: 1\n...\n---\nb: 2\n", 4),
        ("a: 1\n...\nb: 2\n", 3),
    ] {
        let e = err(source);
        assert_eq!(e.kind, YamlErrorKind::MultipleDocuments, "{source:?}: {e}");
        assert_eq!(e.span.line, line, "{source:?}: {e}");
    }
    for source in [
        "---\na: 1\n",
        "a: 1\n...\n",
        "--- a\n...\n# end\n",
        "%YAML 1.1\n---\na: 1\n",
    ] {
        parse(source).unwrap_or_else(|e| panic!("{source:?}: {e}"));
    }
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let doc = parse("\u{feff}a: 1\nb: [x]\n").unwrap();
    assert_eq!(doc.get("a").unwrap().value, Value::Int(1));
    assert_eq!(doc.get("b").unwrap().span, Span { line: 2, column: 4 });
    assert!(parse("\u{feff}").unwrap().is_null());
    for source in [
        "\u{feff}- hosts: localhost\n  tasks: []\n",
        "\u{feff}---\n- hosts: localhost\n",
        "\u{feff}# comment\n- hosts: localhost\n",
    ] {
        let doc = parse(source).unwrap_or_else(|e| panic!("{source:?}: {e}"));
        assert_eq!(
            doc.as_seq().unwrap()[0].get("hosts").unwrap().as_str(),
            Some("localhost")
        );
    }
}

#[test]
fn keys_ansible_cannot_hash_are_refused() {
    assert_eq!(err("? [a]\n: 1\n").kind, YamlErrorKind::UnhashableKey);
    assert_eq!(err("{{a: 1}: 2}").kind, YamlErrorKind::UnhashableKey);
    // Python's dict sees 1, 1.0 and true as one key.
    assert_eq!(err("1: a\n1.0: b\n").kind, YamlErrorKind::DuplicateKey);
    assert_eq!(err("1: a\ntrue: b\n").kind, YamlErrorKind::DuplicateKey);
    parse(".nan: a\n.nan: b\n").unwrap();
}

#[test]
fn merge_keys_follow_pyyaml() {
    assert_eq!(err("<<: 1\n").kind, YamlErrorKind::InvalidMerge);
    assert_eq!(err("<<: [{a: 1}, 2]\n").kind, YamlErrorKind::InvalidMerge);
    assert_eq!(err("a: <<\n").kind, YamlErrorKind::InvalidMerge);
    // A quoted `<<` is an ordinary key.
    let doc = parse("'<<': {a: 1}\n").unwrap();
    assert_eq!(doc.to_json()["<<"]["a"], 1);
    // Explicit keys win over merged ones, wherever they are; of several
    // sources the first wins.
    let doc = parse("{a: 1, <<: [{a: 2, b: 3}, {b: 4, c: 5}], c: 6}").unwrap();
    assert_eq!(doc.to_json(), serde_json::json!({"a": 1, "b": 3, "c": 6}));
}

#[test]
fn json_documents_read_numbers_as_json() {
    // Ansible tries Python's json module first.
    let doc =
        parse("{\"a\": 1e5, \"b\": 1.5E3, \"c\": -0, \"d\": 12345678901234567890123}").unwrap();
    assert_eq!(doc.get("a").unwrap().value, Value::Float(100000.0));
    assert_eq!(doc.get("b").unwrap().value, Value::Float(1500.0));
    assert_eq!(doc.get("c").unwrap().value, Value::Int(0));
    assert_eq!(
        doc.get("d").unwrap().value,
        Value::BigInt("12345678901234567890123".into())
    );
    // The same numbers in YAML are strings.
    let doc = parse("a: 1e5\nb: 1.5E3\n").unwrap();
    assert_eq!(doc.get("a").unwrap().as_str(), Some("1e5"));
    assert_eq!(doc.get("b").unwrap().as_str(), Some("1.5E3"));
}

#[test]
fn values_json_cannot_hold_keep_their_text() {
    let doc = parse("big: 99999999999999999999999\nu: 18446744073709551615\nneg: -9223372036854775809\ninf: .inf\nninf: -.inf\nnan: .nan\nexp: 1e40987\n").unwrap();
    let json = doc.to_json();
    assert_eq!(json["big"], "99999999999999999999999");
    assert_eq!(json["u"], serde_json::json!(18446744073709551615u64));
    assert_eq!(json["neg"], "-9223372036854775809");
    assert_eq!(json["inf"], "inf");
    assert_eq!(json["ninf"], "-inf");
    assert_eq!(json["nan"], "nan");
    // Was deployed as `None`: it is a string to Ansible.
    assert_eq!(json["exp"], "1e40987");
    assert_eq!(doc.get("big").unwrap().kind(), "an integer");
}

#[test]
fn impossible_scalars_are_errors_with_position() {
    // A tagged scalar is placed at its text, after the tag.
    let e = err("a: !!int 1.5\n");
    assert_eq!(e.kind, YamlErrorKind::InvalidScalar);
    assert_eq!(
        e.span,
        Span {
            line: 1,
            column: 10
        }
    );
    for source in ["a: 2001-02-29\n", "a: 0b_\n", "a: =\n"] {
        let e = err(source);
        assert_eq!(e.span, Span { line: 1, column: 4 }, "{source:?}: {e}");
        assert!(
            matches!(
                e.kind,
                YamlErrorKind::InvalidScalar | YamlErrorKind::UnsupportedTag
            ),
            "{source:?}: {e}"
        );
    }
    let e = err(&format!("a: {}\n", "1".repeat(4301)));
    assert_eq!(e.kind, YamlErrorKind::InvalidScalar);
    assert!(e.message.len() < 300, "{e}");
}

#[test]
fn syntax_errors_have_a_kind() {
    assert_eq!(err("a: [1, 2\nb: 3\n").kind, YamlErrorKind::Syntax);
    let e = err("a: 1\nb: *nope\n");
    assert_eq!(e.kind, YamlErrorKind::UnknownAlias);
    assert_eq!(e.span, Span { line: 2, column: 4 });
    assert!(e.message.contains("`*nope`"), "{e}");
    assert_eq!(err("a: &x [*x]\n").kind, YamlErrorKind::UnknownAlias);
}
