//! A planted secret (a NoEcho parameter's value, given with -e and used in
//! no_log tasks) must appear in no output of any command: stdout, stderr
//! and the JSON report file, for validate, graph, apply (check mode, -v,
//! -vvv, JSON, a failing run) and destroy, and for bad -e arguments that
//! carry it, against moto.

mod common;

use std::path::Path;

use common::{runbook, scratch, Run};
use runbook_testkit::Moto;

const SECRET: &str = "S3cr3t-pl4nted-XYZ";

/// A stack whose NoEcho parameter holds the secret, a no_log debug and
/// set_fact that read it, and an ordinary stack in another account.
const TEMPLATE: &str = "Parameters:\n  Password:\n    Type: String\n    NoEcho: true\n  Name:\n    Type: String\n    Default: plain\nResources:\n  P:\n    Type: AWS::SSM::Parameter\n    Properties:\n      Name: !Sub \"/secrets/${Name}\"\n      Type: String\n      Value: !Ref Password\nOutputs:\n  ParamName:\n    Value: !Ref P\n";

fn playbook(extra: &str) -> String {
    format!(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: secret stack\n      amazon.aws.cloudformation:\n        stack_name: secret\n        profile: cicd\n        template: secret.yml\n        template_parameters:\n          Password: \"{{{{ db_password }}}}\"\n          Name: one\n      register: stack\n    - name: hidden debug\n      debug: {{msg: \"the password is {{{{ db_password }}}}\"}}\n      no_log: true\n    - name: hidden fact\n      set_fact: {{token: \"{{{{ db_password }}}}\"}}\n      no_log: true\n    - name: show the output name\n      debug: {{msg: \"{{{{ stack.stack_outputs.ParamName }}}}\"}}\n    - name: other stack\n      amazon.aws.cloudformation:\n        stack_name: other\n        profile: prod\n        template: secret.yml\n        template_parameters: {{Password: \"{{{{ db_password }}}}\", Name: two}}\n{extra}"
    )
}

/// Fails: a no_log task quoting the secret, and a stack CloudFormation
/// refuses (its NoEcho parameter the secret).
const FAILING: &str = "    - name: hidden failure\n      fail: {msg: \"{{ db_password }} is wrong\"}\n      no_log: true\n      ignore_errors: true\n    - name: refused stack\n      amazon.aws.cloudformation:\n        stack_name: refused\n        profile: cicd\n        template: refused.yml\n        template_parameters: {Password: \"{{ db_password }}\"}\n";

const REFUSED: &str = "Parameters:\n  Password:\n    Type: String\n    NoEcho: true\nResources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Ref Missing\n";

/// Runs a command with the secret given as -e, the JSON report written to
/// a file; checks that nothing holds the secret; returns the run.
fn clean(moto: &Moto, dir: &Path, args: &[&str]) -> Run {
    let report = dir.join("report.json");
    let _ = std::fs::remove_file(&report);
    let mut line: Vec<&str> = args.to_vec();
    let planted = format!("db_password={SECRET}");
    let report_arg = report.to_str().unwrap().to_string();
    line.extend(["-e", &planted, "--report", &report_arg]);
    let run = runbook(Some(moto), &line);
    assert_no_secret(&run, &report, &line);
    run
}

fn assert_no_secret(run: &Run, report: &Path, line: &[&str]) {
    for (what, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !text.contains(SECRET) && !text.contains("pl4nted"),
            "`runbook {}`: the secret is in {what}:\n{text}",
            line.join(" ")
        );
    }
    if let Ok(text) = std::fs::read_to_string(report) {
        assert!(
            !text.contains("pl4nted"),
            "`runbook {}`: the secret is in the JSON report:\n{text}",
            line.join(" ")
        );
    }
}

#[test]
fn a_planted_secret_reaches_no_output_of_any_command() {
    let moto = Moto::start();
    let (dir, path) = scratch(&[
        ("play.yml", &playbook("")),
        ("secret.yml", TEMPLATE),
        ("refused.yml", REFUSED),
        ("failing.yml", &playbook(FAILING)),
    ]);
    let play = path.to_str().unwrap();
    let failing = dir.path().join("failing.yml");
    let failing = failing.to_str().unwrap();
    let d = dir.path();

    clean(&moto, d, &["validate", play]).assert_code(0);
    clean(&moto, d, &["validate", play, "--output", "json"]).assert_code(0);
    for format in ["dot", "mermaid", "json", "text"] {
        clean(&moto, d, &["graph", play, "--format", format]).assert_code(0);
    }
    clean(&moto, d, &["apply", play, "--check"]).assert_code(0);
    clean(&moto, d, &["apply", play, "--check", "--output", "json"]).assert_code(0);
    // Created with every detail shown, then compared in check mode (a
    // NoEcho value cannot be: CloudFormation decides). A second real apply
    // is left out: moto answers the change set runbook then asks for with
    // a ValidationError.
    clean(&moto, d, &["apply", play, "-vvv", "--wait-timeout", "20"]).assert_code(0);
    clean(&moto, d, &["apply", play, "--check", "-vvv"]).assert_code(0);
    clean(
        &moto,
        d,
        &["apply", play, "--check", "--output", "json", "-v"],
    )
    .assert_code(0);
    clean(&moto, d, &["destroy", play, "--check", "-vvv"]).assert_code(0);
    clean(&moto, d, &["destroy", play, "-vvv", "--wait-timeout", "20"]).assert_code(0);
    clean(&moto, d, &["destroy", play, "--output", "json"]).assert_code(0);
    // A failing run: a no_log failure and a stack CloudFormation refuses
    // (moto leaves it half made: each run starts afresh).
    let run = clean(
        &moto,
        d,
        &["apply", failing, "-vvv", "--wait-timeout", "20"],
    );
    run.assert_code(2);
    assert!(
        run.stdout.contains("failed   refused stack"),
        "{}",
        run.stdout
    );
    moto.reset();
    let run = clean(
        &moto,
        d,
        &["apply", failing, "--output", "json", "--wait-timeout", "20"],
    );
    run.assert_code(2);
    assert!(run.stdout.contains("\"failed\": true"), "{}", run.stdout);
}

/// A bad -e that carries the secret, in every form and every command: the
/// error says where, never what.
#[test]
fn a_bad_extra_vars_argument_never_echoes_its_secret() {
    let moto = Moto::start();
    let (dir, path) = scratch(&[("play.yml", &playbook("")), ("secret.yml", TEMPLATE)]);
    let play = path.to_str().unwrap();
    let report = dir.path().join("report.json");
    let report_arg = report.to_str().unwrap();
    let forms = [
        format!("db_password={SECRET} oops"),
        format!("db_password='{SECRET}"),
        format!("a=1 9{SECRET}=x"),
        format!("{{\"db_password\": \"{SECRET}\""),
        format!("{{db_password: {SECRET}, [}}"),
        format!("{{db_password: {SECRET}, due: 2024-02-30}}"),
        SECRET.to_string(),
    ];
    let commands: [&[&str]; 6] = [
        &["validate"],
        &["graph"],
        &["apply"],
        &["apply", "--check", "-vvv"],
        &["destroy"],
        &["apply", "--output", "json"],
    ];
    for form in &forms {
        for command in commands {
            let _ = std::fs::remove_file(&report);
            let mut line: Vec<&str> = command.to_vec();
            line.extend([play, "-e", form.as_str(), "--report", report_arg]);
            let run = runbook(Some(&moto), &line);
            run.assert_code(5);
            assert!(
                run.stderr.contains("invalid extra vars in -e #1")
                    || run.stdout.contains("invalid extra vars in -e #1"),
                "{run:?}"
            );
            assert_no_secret(&run, &report, &line);
            assert!(
                report.exists(),
                "no report for `runbook {}`",
                line.join(" ")
            );
        }
    }
}
