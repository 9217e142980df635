//! validate and graph on fixture playbooks: exit codes and the exact
//! messages, pinned as snapshots in tests/fixtures/*.stderr. Run with
//! RUNBOOK_BLESS=1 to rewrite a snapshot after a deliberate change.

mod common;

use common::{runbook, workspace, CICD_ARGS};

fn snapshot(name: &str, actual: &str) {
    let path = workspace().join("tests/fixtures").join(name);
    if std::env::var_os("RUNBOOK_BLESS").is_some() {
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "snapshot {} missing ({e}); run with RUNBOOK_BLESS=1",
            path.display()
        )
    });
    assert_eq!(actual, expected, "snapshot {name} differs");
}

fn invalid(fixture: &str) {
    let run = runbook(
        None,
        &["validate", &format!("tests/fixtures/{fixture}.yml")],
    );
    run.assert_code(4);
    assert_eq!(run.stdout, "");
    snapshot(&format!("{fixture}.stderr"), &run.stderr);
}

#[test]
fn unsupported_reuse_constructs_are_named_with_their_place() {
    invalid("unsupported-reuse");
}

#[test]
fn yaml_syntax_error() {
    invalid("syntax-error");
}

#[test]
fn unknown_module_suggests_the_right_one() {
    invalid("unknown-module");
}

#[test]
fn unknown_option_bad_type_and_unsupported_keyword() {
    invalid("bad-option");
}

#[test]
fn undefined_variable_through_a_play_var() {
    invalid("undefined");
}

#[test]
fn unknown_filters_and_tests_are_found_before_running() {
    invalid("unknown-filter");
}

#[test]
fn cycle_lists_the_tasks_in_order() {
    invalid("cycle");
}

#[test]
fn missing_template_file() {
    invalid("missing-template");
}

#[test]
fn broken_template_points_into_the_template() {
    invalid("broken-template");
}

#[test]
fn hosts_other_than_localhost() {
    invalid("not-localhost");
}

#[test]
fn bad_extra_vars_exit_5() {
    let run = runbook(
        None,
        &["validate", "tests/fixtures/undefined.yml", "-e", "who"],
    );
    run.assert_code(5);
    assert_eq!(
        run.stderr,
        "error: invalid extra vars in -e #1: word 1 is not key=value\n   = help: use -e key=value, -e @vars.yml, or -e '{\"key\": \"value\"}' (values are not shown: they may be secret)\n"
    );
}

#[test]
fn bad_flags_exit_5() {
    runbook(None, &["validate", "--no-such-flag", "x.yml"]).assert_code(5);
    runbook(None, &["apply", "x.yml", "--forks", "0"]).assert_code(5);
    // Numbers that would overflow a deadline or make no sense are refused
    // before anything is read, naming the range.
    for (flag, value) in [
        ("--wait-timeout", "18446744073709551615"),
        ("--wait-timeout", "604801"),
        ("--wait-timeout", "0"),
        ("--forks", "257"),
        ("--max-attempts", "101"),
        ("--max-attempts", "0"),
    ] {
        let run = runbook(None, &["apply", "x.yml", flag, value]);
        run.assert_code(5);
        assert!(
            run.stderr.contains(&format!("for '{flag}")),
            "{}",
            run.stderr
        );
    }
    runbook(None, &["apply", "--help"]).assert_code(0);
}

#[test]
fn missing_playbook_file() {
    let run = runbook(None, &["validate", "tests/fixtures/nope.yml"]);
    run.assert_code(1);
    assert!(
        run.stderr
            .starts_with("error: cannot read playbook tests/fixtures/nope.yml: "),
        "{}",
        run.stderr
    );
}

#[test]
fn cicd_playbook_validates() {
    let mut args = vec!["validate", "playbooks/playbook-cicd-01.yaml"];
    args.extend(CICD_ARGS);
    let run = runbook(None, &args);
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "playbooks/playbook-cicd-01.yaml: valid (8 tasks, 17 edges, 5 waves)\n"
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn cicd_playbook_validates_from_another_directory() {
    let playbook = workspace().join("playbooks/playbook-cicd-01.yaml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_runbook"))
        .current_dir(std::env::temp_dir())
        .arg("validate")
        .arg(&playbook)
        .args(CICD_ARGS)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn graph_formats() {
    let graph = |format: &str| {
        let mut args = vec![
            "graph",
            "playbooks/playbook-cicd-01.yaml",
            "--format",
            format,
        ];
        args.extend(CICD_ARGS);
        let run = runbook(None, &args);
        run.assert_code(0);
        run.stdout
    };
    snapshot("cicd.dot", &graph("dot"));
    snapshot("cicd.mermaid", &graph("mermaid"));
    snapshot("cicd.json", &graph("json"));
    snapshot("cicd.txt", &graph("text"));
    let json: serde_json::Value = serde_json::from_str(&graph("json")).unwrap();
    assert_eq!(json["nodes"].as_array().unwrap().len(), 8);
    assert_eq!(json["edges"].as_array().unwrap().len(), 17);
    assert!(json["edges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["reason"] == "export CICD::KMS::Key::Arn" && e["from"] == 3 && e["to"] == 7));
}

#[test]
fn help_lists_exit_codes() {
    let run = runbook(None, &["apply", "--help"]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("4   invalid playbook"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_import_no_task_exports_is_a_warning_offline() {
    let run = runbook(None, &["validate", "tests/fixtures/unexported-import.yml"]);
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "tests/fixtures/unexported-import.yml: valid (1 task, 0 edges, 1 wave, 1 warning)\n"
    );
    snapshot("unexported-import.stderr", &run.stderr);
}

/// Newlines, carriage returns and escape sequences in task names, messages
/// and source lines are shown escaped: nothing from a playbook can forge a
/// line of runbook's own, erase one, or reach the terminal as a control.
#[test]
fn control_characters_from_the_playbook_cannot_forge_lines() {
    let play = "- hosts: localhost\n  tasks:\n    - name: \"evil\\nchanged  FAKE STACK DELETED [prod 777777777777 us-east-1]\\r\\e[2K\"\n      debug: {msg: \"one\\nchanged  FAKE msg\\e[31m\"}\n    - name: \"boom\\nfailed  FAKE\"\n      fail: {msg: \"two\\nok  FAKE\\u2028x\\u202ey\"}\n      ignore_errors: true\n      register: failure\n    - name: shown\n      debug: {msg: \"{{ failure.msg }}\"}\n";
    let (_dir, path) = common::scratch(&[("play.yml", play)]);
    let run = runbook(None, &["apply", path.to_str().unwrap(), "-v"]);
    run.assert_code(0);
    let forged = |text: &str| {
        text.lines().any(|l| {
            l.trim_start().starts_with("changed  FAKE")
                || l.trim_start().starts_with("ok  FAKE")
                || l.trim_start().starts_with("failed  FAKE")
        })
    };
    for text in [&run.stdout, &run.stderr] {
        assert!(!forged(text), "{text}");
        assert!(
            !text.contains(['\x1b', '\r', '\u{2028}', '\u{202e}']),
            "{text:?}"
        );
    }
    assert!(
        run.stdout
            .contains("start    evil\\nchanged  FAKE STACK DELETED [prod 777777777777 us-east-1]\\r\\x1b[2K\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(": one\\nchanged  FAKE msg\\x1b[31m\n"),
        "{}",
        run.stdout
    );
    // The registered msg is the value as given; only its display is escaped.
    assert!(
        run.stdout
            .contains(": two\\nok  FAKE\\u{2028}x\\u{202e}y\n"),
        "{}",
        run.stdout
    );

    // Diagnostics: the message, the task and the source line.
    let bad = "- hosts: localhost\n  tasks:\n    - name: \"x\\nerror: FAKE\"\n      debug: {msg: \"{{ nope }}\"}\n    - name: raw\n      debug: {msg: \"a\x1b[2Kb\"}\n";
    let (_dir, path) = common::scratch(&[("bad.yml", bad)]);
    let run = runbook(None, &["validate", path.to_str().unwrap()]);
    run.assert_code(4);
    assert!(!run.stderr.contains('\x1b'), "{:?}", run.stderr);
    assert!(
        !run.stderr.lines().any(|l| l.starts_with("error: FAKE")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("\\x1b[2K"), "{}", run.stderr);
}
