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

/// `runbook graph` on the CI/CD baseline, with or without --all-edges.
fn cicd_graph(format: &str, all_edges: bool) -> String {
    let mut args = vec![
        "graph",
        "playbooks/playbook-cicd-01.yaml",
        "--format",
        format,
    ];
    if all_edges {
        args.push("--all-edges");
    }
    args.extend(CICD_ARGS);
    let run = runbook(None, &args);
    run.assert_code(0);
    assert_eq!(run.stderr, "");
    run.stdout
}

#[test]
fn graph_formats() {
    let graph = |format: &str| cicd_graph(format, false);
    snapshot("cicd.dot", &graph("dot"));
    snapshot("cicd.mermaid", &graph("mermaid"));
    snapshot("cicd.json", &graph("json"));
    snapshot("cicd.txt", &graph("text"));
    snapshot("cicd-all-edges.dot", &cicd_graph("dot", true));
    let json: serde_json::Value = serde_json::from_str(&graph("json")).unwrap();
    assert_eq!(json["nodes"].as_array().unwrap().len(), 8);
    let edges = json["edges"].as_array().unwrap();
    // JSON keeps every edge and reason, the implied ones marked.
    assert_eq!(edges.len(), 17);
    assert_eq!(edges.iter().filter(|e| e["implied"] == false).count(), 9);
    assert!(edges
        .iter()
        .any(|e| e["reason"] == "export CICD::KMS::Key::Arn"
            && e["from"] == 3
            && e["to"] == 7
            && e["implied"] == true
            && e["through"] == serde_json::json!([4, 5])));
    assert_eq!(json["nodes"][3]["owns"][0]["name"], "cicd-kms-key");
    assert_eq!(json["nodes"][3]["accounts"][0]["profile"], "cicd");
    // --all-edges changes nothing in JSON.
    assert_eq!(cicd_graph("json", true), graph("json"));
}

/// The drawn formats show the transitive reduction (9 of the 17 edges)
/// unless --all-edges, tasks in one cluster per account, each labelled
/// with its stack and account.
#[test]
fn graph_draws_the_reduction_in_account_clusters() {
    let arrows = |text: &str, arrow: &str| text.lines().filter(|l| l.contains(arrow)).count();
    let dot = cicd_graph("dot", false);
    assert_eq!(arrows(&dot, " -> "), 9, "{dot}");
    let all = cicd_graph("dot", true);
    assert_eq!(arrows(&all, " -> "), 17, "{all}");
    assert_eq!(all.matches("style=dashed").count(), 8, "{all}");
    assert!(all.contains("  t3 -> t7 [label=\"export CICD::KMS::Key::Arn\", style=dashed];\n"));
    for (i, account) in ["cicd", "nonprod", "prod"].iter().enumerate() {
        assert!(
            dot.contains(&format!(
                "  subgraph cluster_{i} {{\n    label=\"profile {account}, us-east-1\";\n"
            )),
            "{dot}"
        );
    }
    assert!(dot.contains("    t3 [label=\"CI/CD account - KMS key\\ncicd-kms-key @ cicd\"];\n"));
    assert!(dot.contains("    t1 [label=\"Identify the non-prod account\\n@ nonprod\"];\n"));

    let mermaid = cicd_graph("mermaid", false);
    assert_eq!(arrows(&mermaid, " -->|"), 9, "{mermaid}");
    let all = cicd_graph("mermaid", true);
    assert_eq!(arrows(&all, " -->|"), 9, "{all}");
    assert_eq!(arrows(&all, " -.->|"), 8, "{all}");
    assert!(mermaid.contains("  subgraph a1[\"profile nonprod, us-east-1\"]\n"));
    assert!(mermaid.contains(
        "    t5[\"Non-prod account - CI/CD IAM roles<br/>cicd-iam-roles-nonprod @ nonprod\"]\n"
    ));
    assert_eq!(mermaid.matches("\n  end\n").count(), 3, "{mermaid}");

    // Text: the same waves, each task after only what it directly needs.
    let text = cicd_graph("text", false);
    assert!(text.contains(
        "  - CI/CD account - artifacts and templates buckets [cloudformation cicd-s3-buckets @ cicd] after `CI/CD account - KMS key`\n"
    ));
    let all = cicd_graph("text", true);
    assert!(all.contains(
        "  - CI/CD account - artifacts and templates buckets [cloudformation cicd-s3-buckets @ cicd] after `Identify the non-prod account`, `Identify the prod account`, `CI/CD account - KMS key`\n"
    ));
}

/// Task names and a profile made to break out of labels stay inside
/// them; Graphviz itself accepts the output when it is installed.
#[test]
fn graph_keeps_hostile_names_inside_their_labels() {
    for all_edges in [false, true] {
        let mut args = vec!["graph", "tests/fixtures/hostile-names.yml"];
        if all_edges {
            args.push("--all-edges");
        }
        let run = runbook(None, &args);
        run.assert_code(0);
        let dot = &run.stdout;
        // Three nodes, each on one line; no injected node or cluster.
        let nodes = dot
            .lines()
            .filter(|l| l.trim_start().starts_with('t') && !l.contains(" -> "));
        assert_eq!(nodes.count(), 3, "{dot}");
        assert_eq!(dot.matches("\n  subgraph cluster_").count(), 1, "{dot}");
        assert!(!dot.contains("\n  t9 "), "{dot}");
        assert!(
            !run.stdout.chars().any(|c| c.is_control() && c != '\n'),
            "{dot:?}"
        );
        assert!(dot.contains("  t0 [label=\"Deploy \\\"KMS\\\" key\\\\nfake-stack @ prod\"];\n"));
        validate_with_graphviz(dot);
    }
    let args = [
        "graph",
        "tests/fixtures/hostile-names.yml",
        "--format",
        "mermaid",
    ];
    let run = runbook(None, &args);
    run.assert_code(0);
    let mermaid = &run.stdout;
    assert_eq!(mermaid.lines().count(), 8, "{mermaid}");
    assert!(mermaid.contains("  t0[\"Deploy #quot;KMS#quot; key#92;nfake-stack @ prod\"]\n"));
    assert!(
        !mermaid.chars().any(|c| c.is_control() && c != '\n'),
        "{mermaid:?}"
    );
}

/// Runs Graphviz's `dot` on the text when it is installed; says so and
/// checks nothing when it is not (the structural checks stand alone).
fn validate_with_graphviz(text: &str) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!("graphviz `dot` not installed: DOT syntax not checked by Graphviz");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "dot refused the graph:\n{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
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
