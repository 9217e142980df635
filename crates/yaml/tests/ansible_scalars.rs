//! Differential test: every scalar of a generated corpus must read in
//! runbook as it reads in Ansible (ansible-core's `from_yaml`, from the
//! repository's `.venv`): same type, same canonical text, or an error in
//! both.
//!
//! Ansible's dates are `date`/`datetime` objects; runbook reads them as the
//! `isoformat()` string Ansible passes to modules, so a `timestamp` from
//! Ansible must be a string with that text here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use runbook_yaml::{parse, Value};

fn casings(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    (0..1u32 << chars.len())
        .map(|mask| {
            chars
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if mask & (1 << i) != 0 {
                        c.to_ascii_uppercase()
                    } else {
                        *c
                    }
                })
                .collect()
        })
        .collect()
}

/// Scalars as written after `key: `, on one line.
fn corpus() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // Booleans and nulls, in every casing.
    for word in [
        "yes", "no", "true", "false", "on", "off", "y", "n", "null", "none", "nil",
    ] {
        out.extend(casings(word));
    }
    out.extend(["~", "", "# a comment", "=", "<<"].map(String::from));
    // Integers: bases, underscores, sexagesimal, sizes, with each sign.
    let ints = [
        "0",
        "7",
        "12",
        "017",
        "0_17",
        "08",
        "0_8",
        "00",
        "0_",
        "0b101",
        "0b_1",
        "0b_",
        "0b2",
        "0b",
        "0B101",
        "0x1F",
        "0x1f",
        "0x_1F",
        "0x_",
        "0xg",
        "0X1F",
        "0o17",
        "0o",
        "1_000",
        "1__0",
        "1_",
        "_1",
        "1,000",
        "1:30",
        "1:5:9",
        "1:60",
        "1:05",
        "0:30",
        "00:30",
        "190:20:30",
        "1_0:3_0",
        "1:30:59:59:59:59:59:59:59:59:59:59:59:59",
        "1:1:1:",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999",
        "0x8000000000000000",
        "0xFFFFFFFFFFFFFFFFFFFFFFFF",
        "07777777777777777777777777",
        "0777",
    ];
    for sign in ["", "+", "-"] {
        out.extend(ints.iter().map(|i| format!("{sign}{i}")));
    }
    out.push(format!("0b{}", "1".repeat(70)));
    out.push("1".repeat(4300));
    out.push("1".repeat(4301));
    out.push(format!("0x{}", "F".repeat(3000)));
    // Floats: with and without dot, exponents with and without sign.
    let floats = [
        "0.",
        ".5",
        "1.5",
        "1.5e3",
        "1.5e+3",
        "1.5E-3",
        "1.5e+03",
        "1.e+3",
        "1e5",
        "1e+5",
        "12e3",
        "5e10",
        "1e40987",
        "123e4567",
        "1_0.5",
        "1._5",
        "1.5_",
        "._5",
        ".5e+3",
        ".5e3",
        "1:30.5",
        "1:30.",
        "1:30.5e+1",
        "1:60.5",
        ".inf",
        ".Inf",
        ".INF",
        ".iNf",
        ".nan",
        ".NaN",
        ".NAN",
        "inf",
        "nan",
        "Infinity",
        "NaN",
        "1.0e+400",
        "1.0e-400",
        "123456789012345678901234567890.5",
        "0.1",
        "1.7976931348623157e+308",
        "2.2250738585072014e-308",
        "4.9e-324",
        "5e-324",
        "0.000001",
        "0.0001",
        "1e16",
        "1.0e16",
        "1.0e+16",
        "100000000000000000.0",
        "1_000.000_1",
        "3.14159265358979323846264338327950288",
        "1.2.3",
        "1.5e",
        "1.5e+",
        ".",
        "..",
        "1.0.",
        "0.0",
        "00.5",
        "09.5",
    ];
    for sign in ["", "+", "-"] {
        out.extend(floats.iter().map(|f| format!("{sign}{f}")));
    }
    out.push(format!("1{}", ":1".repeat(200) + ".5"));
    // Timestamps, valid and not.
    out.extend(
        [
            "2001-12-14",
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14 21:59:43.10 -5",
            "2001-12-15T02:59:43.1Z",
            "2001-12-15 2:59:43.10",
            "2001-1-1",
            "2001-01-01 1:02:03",
            "2001-1-1 1:02:03",
            "2001-02-29",
            "2000-02-29",
            "1900-02-29",
            "0000-01-01",
            "0001-01-01",
            "9999-12-31",
            "2001-13-01",
            "2001-00-01",
            "2001-12-32",
            "2001-12-14 24:00:00",
            "2001-12-14 23:60:00",
            "2001-12-14 23:59:60",
            "2001-12-14T21:59:43.1234567+05:30",
            "2001-12-14T21:59:43+5:99",
            "2001-12-14T21:59:43 -25",
            "2001-12-14T21:59:43 -23:59",
            "2001-12-14T21:59:43-0",
            "2001-12-14T21:59:43.Z",
            "2001-12-14T21:59:43.000000",
            "2001-12-14T21:59:43.",
            "2001-12-14  21:59:43",
            "2001-12-14\t21:59:43",
            "2001-12-14T21:59",
            "20011-12-14",
            "2001-12-14x",
            "2001-12-14 ",
            "2001/12/14",
        ]
        .map(String::from),
    );
    // Odd plain scalars.
    out.extend(
        [
            "-",
            "+",
            "_",
            "__",
            "1 2",
            "a:b",
            "a: b",
            "12 # comment",
            "True!",
            "yes please",
            "0x",
            "0b",
            "1e",
            "e5",
            "x1",
            "1x",
            "  12  ",
            "-.inf",
            "+.inf",
            "-.nan",
            "+.nan",
            "- 1",
            "'a' b",
            "\"a\" b",
            "~~",
            "Null~",
            "NULL ",
            "1_000_",
            "0_0",
            "+0",
            "-0",
        ]
        .map(String::from),
    );
    // Quoted and tagged forms of a sample: quotes always make strings.
    let sample: Vec<String> = out.iter().step_by(3).cloned().collect();
    for s in &sample {
        if s.chars().count() > 100 || s.contains('#') {
            continue;
        }
        out.push(format!("'{}'", s.replace('\'', "''")));
        out.push(format!(
            "\"{}\"",
            s.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\t', "\\t")
        ));
    }
    let tagged = [
        "1",
        "1.5",
        "1e5",
        "0x1F",
        "0o17",
        "017",
        "yes",
        "YeS",
        "y",
        "2001-12-14",
        "2001-1-1",
        "x",
        "",
        "1:30",
        "1:30.5",
        "inf",
        ".inf",
        "  12  ",
        "1_0",
        "0b_",
    ];
    for tag in [
        "!!str",
        "!!int",
        "!!float",
        "!!bool",
        "!!null",
        "!!timestamp",
    ] {
        for s in tagged {
            out.push(format!("{tag} {s}"));
            out.push(format!("{tag} '{s}'"));
        }
    }
    out
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What runbook reads, in the script's terms.
fn describe(line: &str, key: &str) -> (String, String) {
    match parse(line) {
        Err(e) => ("error".into(), e.to_string()),
        Ok(doc) => {
            let Some(node) = doc.get(key) else {
                return ("other".into(), format!("{:?}", doc.to_json()));
            };
            let kind = match &node.value {
                Value::Null => "null",
                Value::Bool(_) => "bool",
                Value::Int(_) | Value::BigInt(_) => "int",
                Value::Float(_) => "float",
                Value::String(_) => "str",
                _ => "other",
            };
            let text = if node.is_null() {
                String::new()
            } else {
                node.scalar_text()
            };
            (kind.into(), text)
        }
    }
}

#[test]
fn scalars_read_as_ansible_reads_them() {
    let python = repo_root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/venv.sh in the repository root (it installs \
         ansible-core, which this test compares runbook's YAML scalars with)",
        python.display()
    );
    let corpus = corpus();
    assert!(corpus.len() >= 500, "corpus has {} scalars", corpus.len());

    let lines: Vec<(String, String)> = corpus
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let key = format!("k{i:04}");
            let line = format!("{key}: {s}").trim_end().to_string();
            (key, line)
        })
        .collect();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(format!("ansible_scalars_{}.yml", std::process::id()));
    let text: String = lines.iter().map(|(_, l)| format!("{l}\n")).collect();
    std::fs::write(&path, &text).unwrap();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ansible_scalars.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg(&path)
        .env("ANSIBLE_DEPRECATION_WARNINGS", "False")
        .env("ANSIBLE_LOCAL_TEMP", dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let _ = std::fs::remove_file(&path);
    assert!(
        output.status.success(),
        "the Ansible loader script failed (run scripts/venv.sh?):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let ansible: BTreeMap<String, (String, String)> =
        serde_json::from_slice(&output.stdout).expect("the script prints JSON");

    let mut mismatches = Vec::new();
    for (key, line) in &lines {
        let (want_kind, want_text) = ansible
            .get(key)
            .cloned()
            .unwrap_or_else(|| ("missing".into(), String::new()));
        let (got_kind, got_text) = describe(line, key);
        let same = match want_kind.as_str() {
            "error" => got_kind == "error",
            "timestamp" => got_kind == "str" && got_text == want_text,
            _ => got_kind == want_kind && got_text == want_text,
        };
        if !same {
            mismatches.push(format!(
                "{line:?}\n    ansible: {want_kind} {want_text:?}\n    runbook: {got_kind} {got_text:?}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} scalars read differently from Ansible:\n{}",
        mismatches.len(),
        lines.len(),
        mismatches.join("\n")
    );
}
