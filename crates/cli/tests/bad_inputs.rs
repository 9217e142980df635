//! The corpus of bad inputs in tests/bad-inputs: each case is a playbook
//! (`NNN-description.yml`) whose leading comments say how to run it and
//! what must happen:
//!
//! ```text
//! # expect: exit=4 calls=0 mutating=0
//! # message: duplicate key `name`
//! # args: -e env=prod            (added to the command line)
//! # run: graph {playbook} --format x   (the whole command line instead)
//! # absent: S3cr3t               (must appear nowhere in the output)
//! ```
//!
//! Every case runs against its own fresh moto state, with moto's recorder
//! counting the AWS calls it made (`calls`, and `mutating` among them). By
//! default a case runs `apply`: an error that can be known offline must
//! be found before any call, so those cases expect `calls=0`, and `apply`
//! is what proves it (`validate` must then give the same exit code and
//! message). No output may hold an escape character or a carriage
//! return (NO_COLOR is set): values are shown escaped.
//!
//! `RUNBOOK_BLESS=1` rewrites each case's `# expect:` line with what
//! happened, and adds a `# message:` line (the first error) where there is
//! none; review the diff.

mod common;

use std::path::{Path, PathBuf};

use common::{runbook, workspace, Run};
use runbook_testkit::Moto;

/// Cases are spread over this many tests (each with its own moto), so they
/// run in parallel.
const SHARDS: usize = 4;

#[derive(Debug)]
struct Case {
    path: PathBuf,
    /// The command line, `{playbook}` standing for the case's path.
    run: Vec<String>,
    /// Runs `apply` by default: then `validate` is checked too when the
    /// error is known offline.
    default_run: bool,
    args: Vec<String>,
    exit: Option<i32>,
    calls: Option<usize>,
    mutating: Option<usize>,
    messages: Vec<String>,
    absent: Vec<String>,
}

fn dir() -> PathBuf {
    workspace().join("tests/bad-inputs")
}

fn relative(path: &Path) -> String {
    path.strip_prefix(workspace())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The header of a case: its leading `# key: value` lines (bytes, since a
/// case may hold anything further down).
fn header(path: &Path) -> Vec<(String, String)> {
    let bytes = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    text.trim_start_matches('\u{feff}')
        .lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| {
            let (key, value) = l.trim_start_matches('#').split_once(':')?;
            Some((key.trim().to_string(), value.trim().to_string()))
        })
        .collect()
}

fn words(text: &str) -> Vec<String> {
    runbook_playbook::extra_vars::split_words(text)
        .unwrap_or_else(|e| panic!("bad words `{text}`: {e}"))
}

fn cases() -> Vec<Case> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("tests/bad-inputs exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.as_bytes()[0].is_ascii_digit())
        })
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let mut case = Case {
                run: Vec::new(),
                default_run: true,
                args: Vec::new(),
                exit: None,
                calls: None,
                mutating: None,
                messages: Vec::new(),
                absent: Vec::new(),
                path,
            };
            for (key, value) in header(&case.path) {
                match key.as_str() {
                    "expect" => {
                        for word in value.split_whitespace() {
                            let (k, v) = word.split_once('=').expect("key=value");
                            let n: usize = v.parse().expect("a number");
                            match k {
                                "exit" => case.exit = Some(n as i32),
                                "calls" => case.calls = Some(n),
                                "mutating" => case.mutating = Some(n),
                                other => panic!("unknown expectation {other}"),
                            }
                        }
                    }
                    "message" => case.messages.push(value),
                    "absent" => case.absent.push(value),
                    "args" => case.args = words(&value),
                    "run" => {
                        case.run = words(&value);
                        case.default_run = false;
                    }
                    _ => {}
                }
            }
            if case.default_run {
                case.run = [
                    "apply",
                    "{playbook}",
                    "--max-attempts",
                    "1",
                    "--wait-timeout",
                    "30",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect();
            }
            case
        })
        .collect()
}

fn command_line(case: &Case, run: &[String]) -> Vec<String> {
    let playbook = relative(&case.path);
    let mut line: Vec<String> = run
        .iter()
        .map(|w| w.replace("{playbook}", &playbook))
        .collect();
    line.extend(case.args.iter().cloned());
    line
}

/// What went wrong with one case, if anything.
fn check(case: &Case, moto: &Moto, bless: bool) -> Option<String> {
    moto.reset();
    moto.clear_recording();
    let line = command_line(case, &case.run);
    let args: Vec<&str> = line.iter().map(String::as_str).collect();
    let run = runbook(Some(moto), &args);
    let calls = moto.recorded_calls();
    let mutating = calls.iter().filter(|c| c.is_mutating()).count();
    let name = relative(&case.path);
    if bless {
        bless_case(case, &run, calls.len(), mutating);
        return None;
    }
    let mut problems = Vec::new();
    let all = format!("{}\n{}", run.stdout, run.stderr);
    if Some(run.code) != case.exit {
        problems.push(format!("exit code {} (wanted {:?})", run.code, case.exit));
    }
    if Some(calls.len()) != case.calls {
        problems.push(format!(
            "{} AWS calls (wanted {:?}): {:?}",
            calls.len(),
            case.calls,
            calls
                .iter()
                .map(|c| format!("{} {}", c.service, c.action))
                .collect::<Vec<_>>()
        ));
    }
    if case.mutating.is_some_and(|m| m != mutating) {
        problems.push(format!(
            "{mutating} mutating calls (wanted {:?})",
            case.mutating
        ));
    }
    if case.messages.is_empty() {
        problems.push("no `# message:` line".into());
    }
    for message in &case.messages {
        if !all.contains(message.as_str()) {
            problems.push(format!("no `{message}` in the output"));
        }
    }
    for secret in &case.absent {
        if all.contains(secret.as_str()) {
            problems.push(format!("`{secret}` is in the output"));
        }
    }
    if all.contains(['\x1b', '\r']) {
        problems.push("an escape character or carriage return reached the output".into());
    }
    // Known offline: validate finds the same, without AWS.
    if case.default_run && case.calls == Some(0) && matches!(case.exit, Some(4 | 5)) {
        let mut line = vec!["validate".to_string(), relative(&case.path)];
        line.extend(case.args.iter().cloned());
        let args: Vec<&str> = line.iter().map(String::as_str).collect();
        let validated = runbook(None, &args);
        if Some(validated.code) != case.exit {
            problems.push(format!(
                "validate: exit code {} (wanted {:?})",
                validated.code, case.exit
            ));
        }
        let all = format!("{}\n{}", validated.stdout, validated.stderr);
        for message in &case.messages {
            if !all.contains(message.as_str()) {
                problems.push(format!("validate: no `{message}` in the output"));
            }
        }
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{name} ({}):\n  - {}\n--- stdout\n{}--- stderr\n{}",
            line.join(" "),
            problems.join("\n  - "),
            run.stdout,
            run.stderr
        )
    })
}

/// Rewrites a case's `# expect:` line with what happened.
fn bless_case(case: &Case, run: &Run, calls: usize, mutating: usize) {
    let bytes = std::fs::read(&case.path).expect("read case");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let expect = format!(
        "# expect: exit={} calls={calls} mutating={mutating}",
        run.code
    );
    let mut lines: Vec<String> = Vec::new();
    let mut replaced = false;
    let mut in_header = true;
    let mut header_end = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if in_header && !line.trim_start_matches('\u{feff}').starts_with('#') {
            in_header = false;
            header_end = i;
        }
        if in_header && line.trim_start_matches('\u{feff}').starts_with("# expect:") {
            let bom = if line.starts_with('\u{feff}') {
                "\u{feff}"
            } else {
                ""
            };
            lines.push(format!("{bom}{expect}\n"));
            replaced = true;
        } else {
            lines.push(line.to_string());
        }
    }
    if in_header {
        header_end = lines.len();
    }
    if !replaced {
        lines.insert(0, format!("{expect}\n"));
        header_end += 1;
    }
    if case.messages.is_empty() {
        let first = run
            .stderr
            .lines()
            .chain(run.stdout.lines())
            .find(|l| l.starts_with("error:") || l.contains("failed "))
            .unwrap_or("")
            .to_string();
        lines.insert(header_end, format!("# message: {first}\n"));
    }
    if String::from_utf8(bytes).is_ok() {
        std::fs::write(&case.path, lines.concat()).expect("write case");
    } else {
        eprintln!(
            "{}: not UTF-8, bless by hand: {expect}",
            relative(&case.path)
        );
    }
    println!(
        "{}: exit={} calls={calls} mutating={mutating}",
        relative(&case.path),
        run.code
    );
}

fn shard(index: usize) {
    let bless = std::env::var_os("RUNBOOK_BLESS").is_some();
    let all = cases();
    assert!(all.len() >= 150, "only {} cases", all.len());
    let moto = Moto::start_recording();
    let failures: Vec<String> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| i % SHARDS == index)
        .filter_map(|(_, case)| check(case, &moto, bless))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of the corpus's cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn corpus_shard_0() {
    shard(0);
}

#[test]
fn corpus_shard_1() {
    shard(1);
}

#[test]
fn corpus_shard_2() {
    shard(2);
}

#[test]
fn corpus_shard_3() {
    shard(3);
}

/// Case numbers are unique and every case has an expectation.
#[test]
fn corpus_cases_are_numbered_once_and_complete() {
    let all = cases();
    let mut numbers: Vec<String> = all
        .iter()
        .map(|c| {
            c.path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.split('-').next())
                .unwrap_or("")
                .to_string()
        })
        .collect();
    let count = numbers.len();
    numbers.dedup();
    assert_eq!(numbers.len(), count, "a case number is used twice");
    for case in &all {
        assert!(
            case.exit.is_some() && case.calls.is_some() && !case.messages.is_empty(),
            "{} lacks `# expect:` or `# message:`",
            relative(&case.path)
        );
    }
}
