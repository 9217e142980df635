//! `runbook apply` against a real moto server over HTTP: one server per
//! test, so tests run in parallel without sharing state.

mod common;

use common::{mutating_calls, param, runbook, scratch, stack, Run};
use runbook_testkit::Moto;

const TOPIC: &str = "Parameters:\n  Name:\n    Type: String\n  Label:\n    Type: String\n    Default: plain\nResources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Ref Name\nOutputs:\n  TopicArn:\n    Value: !Ref Topic\n    Export:\n      Name: !Sub \"${AWS::StackName}-TopicArn\"\n  Label:\n    Value: !Ref Label\n";

/// A queue whose name comes from another stack's export, through
/// Fn::ImportValue only.
const IMPORTER: &str = "Parameters:\n  Source:\n    Type: String\nResources:\n  Param:\n    Type: AWS::SSM::Parameter\n    Properties:\n      Name: !Sub \"/imported/${Source}\"\n      Type: String\n      Value:\n        Fn::ImportValue: !Sub \"${Source}-TopicArn\"\n";

fn apply(moto: &Moto, playbook: &std::path::Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "apply",
        playbook.to_str().unwrap(),
        "--max-attempts",
        "2",
        "--wait-timeout",
        "20",
    ];
    args.extend(extra);
    runbook(Some(moto), &args)
}

fn one_stack_playbook(label: &str, state: &str) -> String {
    format!(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: topic\n      amazon.aws.cloudformation:\n        stack_name: topics\n        state: {state}\n        profile: cicd\n        template: topic.yml\n        template_parameters:\n          Name: runbook-topic\n          Label: {label}\n        tags:\n          Team: platform\n      register: topic\n"
    )
}

#[test]
fn create_then_unchanged_then_update_then_delete() {
    let moto = Moto::start_recording();
    let (dir, playbook) = scratch(&[
        ("play.yml", &one_stack_playbook("one", "present")),
        ("topic.yml", TOPIC),
    ]);

    let run = apply(&moto, &playbook, &[]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("changed  topic [cicd 111111111111] "),
        "{}",
        run.stdout
    );
    let facts = stack(&moto, "cicd", "topics").expect("stack created");
    assert_eq!(facts.status, "CREATE_COMPLETE");
    let create_token =
        moto.recorded_parameter("cloudformation", "CreateStack", "ClientRequestToken");
    assert_eq!(create_token.len(), 1, "{create_token:?}");
    let create_token = create_token[0].clone().expect("CreateStack had a token");
    assert!(
        create_token.starts_with("runbook-CreateStack-"),
        "{create_token}"
    );
    assert_eq!(param(&facts, "Label"), "one");
    assert_eq!(facts.tags, [("Team".to_string(), "platform".to_string())]);

    // Same playbook again: no mutating call at all, and at most two reads
    // for the stack.
    moto.clear_recording();
    let run = apply(&moto, &playbook, &[]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("ok       topic [cicd 111111111111] "),
        "{}",
        run.stdout
    );
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());
    let cfn_reads = moto
        .recorded_calls()
        .iter()
        .filter(|c| c.service == "cloudformation")
        .count();
    assert!(cfn_reads <= 2, "{:?}", moto.recorded_calls());

    // A changed parameter updates the stack.
    std::fs::write(&playbook, one_stack_playbook("two", "present")).unwrap();
    moto.clear_recording();
    let run = apply(&moto, &playbook, &[]);
    run.assert_code(0);
    assert!(run.stdout.contains("changed  topic"), "{}", run.stdout);
    assert_eq!(mutating_calls(&moto), ["cloudformation UpdateStack"]);
    assert_eq!(
        param(&stack(&moto, "cicd", "topics").unwrap(), "Label"),
        "two"
    );

    // state: absent deletes it; a second run finds nothing to do.
    std::fs::write(&playbook, one_stack_playbook("two", "absent")).unwrap();
    apply(&moto, &playbook, &[]).assert_code(0);
    assert!(stack(&moto, "cicd", "topics").is_none());

    // Every mutating call carried its own request token (moto accepts it;
    // CloudFormation uses it to recognise the SDK's retries).
    let mut tokens = vec![create_token];
    for action in ["UpdateStack", "DeleteStack"] {
        let sent = moto.recorded_parameter("cloudformation", action, "ClientRequestToken");
        assert_eq!(sent.len(), 1, "{action}: {sent:?}");
        let token = sent[0]
            .clone()
            .unwrap_or_else(|| panic!("{action} had no token"));
        assert!(token.starts_with(&format!("runbook-{action}-")), "{token}");
        tokens.push(token);
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 3, "{tokens:?}");
    let run = apply(&moto, &playbook, &[]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("stack topics is absent"),
        "{}",
        run.stdout
    );
    drop(dir);
}

#[test]
fn check_mode_makes_no_mutating_call_and_shows_the_plan() {
    let moto = Moto::start_recording();
    let (_dir, playbook) = scratch(&[
        ("play.yml", &one_stack_playbook("one", "present")),
        ("topic.yml", TOPIC),
    ]);
    let run = apply(&moto, &playbook, &["--check"]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("would create stack topics"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("- parameter Label = one"),
        "{}",
        run.stdout
    );
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());
    assert!(stack(&moto, "cicd", "topics").is_none());

    apply(&moto, &playbook, &[]).assert_code(0);
    std::fs::write(&playbook, one_stack_playbook("two", "present")).unwrap();
    moto.clear_recording();
    let run = apply(&moto, &playbook, &["--check"]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("- parameter Label: one -> two"),
        "{}",
        run.stdout
    );
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());
    assert_eq!(
        param(&stack(&moto, "cicd", "topics").unwrap(), "Label"),
        "one"
    );
}

#[test]
fn outputs_flow_across_accounts_and_imports_wait_for_exports() {
    let moto = Moto::start();
    // The importer comes first in the file and shares no variable with the
    // exporter: only the export/import edge orders them.
    let play = "- hosts: localhost\n  tasks:\n    - name: importer\n      amazon.aws.cloudformation:\n        stack_name: importer\n        profile: cicd\n        template: importer.yml\n        template_parameters: {Source: topics}\n    - name: exporter\n      amazon.aws.cloudformation:\n        stack_name: topics\n        profile: cicd\n        template: topic.yml\n        template_parameters: {Name: shared-topic}\n      register: exporter\n    - name: consumer in prod\n      amazon.aws.cloudformation:\n        stack_name: consumer\n        profile: prod\n        template: topic.yml\n        template_parameters:\n          Name: prod-topic\n          Label: \"{{ exporter.stack_outputs.TopicArn }}\"\n";
    let (_dir, playbook) = scratch(&[
        ("play.yml", play),
        ("topic.yml", TOPIC),
        ("importer.yml", IMPORTER),
    ]);
    let run = apply(&moto, &playbook, &[]);
    run.assert_code(0);
    let exporter = stack(&moto, "cicd", "topics").unwrap();
    let arn = common::output(&exporter, "TopicArn");
    assert!(arn.contains(":111111111111:shared-topic"), "{arn}");
    let consumer = stack(&moto, "prod", "consumer").expect("consumer in prod");
    assert_eq!(param(&consumer, "Label"), arn);
    assert_eq!(
        stack(&moto, "cicd", "importer").unwrap().status,
        "CREATE_COMPLETE"
    );
    assert!(
        stack(&moto, "prod", "topics").is_none(),
        "the exporter is only in cicd"
    );
    let start = |name: &str| run.stdout.find(&format!("start    {name} ")).unwrap();
    assert!(start("importer") > start("exporter"), "{}", run.stdout);
}

#[test]
fn independent_stacks_overlap() {
    let moto = Moto::start();
    let play = "- hosts: localhost\n  tasks:\n    - name: a\n      amazon.aws.cloudformation: {stack_name: a, profile: cicd, template: topic.yml, template_parameters: {Name: a}}\n    - name: b\n      amazon.aws.cloudformation: {stack_name: b, profile: nonprod, template: topic.yml, template_parameters: {Name: b}}\n";
    let (_dir, playbook) = scratch(&[("play.yml", play), ("topic.yml", TOPIC)]);
    let run = apply(&moto, &playbook, &[]);
    run.assert_code(0);
    // Lines are printed as events happen: both tasks started before either
    // finished.
    let lines: Vec<&str> = run.stdout.lines().collect();
    let pos = |needle: &str| lines.iter().position(|l| l.contains(needle)).unwrap();
    let first_finish = pos("changed  a ").min(pos("changed  b "));
    assert!(
        pos("start    a ") < first_finish && pos("start    b ") < first_finish,
        "{}",
        run.stdout
    );

    // With one fork, the second starts only once the first has made its
    // call and hands the fork back while CloudFormation works (a waiting
    // stack holds no fork; see tests/latency.rs).
    let moto = Moto::start();
    let run = apply(&moto, &playbook, &["--forks", "1"]);
    run.assert_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let pos = |needle: &str| lines.iter().position(|l| l.contains(needle)).unwrap();
    assert!(
        pos("start    b ") > pos("a: creating stack"),
        "{}",
        run.stdout
    );
}

/// An SSM parameter name already taken makes moto fail CreateStack itself.
const CLAIM: &str = "Resources:\n  P:\n    Type: AWS::SSM::Parameter\n    Properties:\n      Name: /claimed\n      Type: String\n      Value: x\n";

#[test]
fn a_failed_stack_stops_its_dependents_and_exits_2() {
    let moto = Moto::start();
    let play = "- hosts: localhost\n  tasks:\n    - name: first claim\n      amazon.aws.cloudformation: {stack_name: claim-one, profile: cicd, template: claim.yml}\n    - name: second claim\n      amazon.aws.cloudformation: {stack_name: claim-two, profile: cicd, template: claim.yml}\n      depends_on: first claim\n      register: second\n    - name: after\n      amazon.aws.cloudformation:\n        stack_name: after\n        profile: cicd\n        template: topic.yml\n        template_parameters: {Name: \"x{{ second.stack_id | default('') }}\"}\n";
    let (_dir, playbook) = scratch(&[
        ("play.yml", play),
        ("claim.yml", CLAIM),
        ("topic.yml", TOPIC),
    ]);
    let run = apply(&moto, &playbook, &[]);
    run.assert_code(2);
    assert!(
        run.stdout.contains("failed   second claim"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("CreateStack failed"), "{}", run.stdout);
    assert!(!run.stdout.contains("start    after"), "{}", run.stdout);
    assert!(run.stdout.contains("not_run=1"), "{}", run.stdout);
    assert!(stack(&moto, "cicd", "after").is_none());
}

#[test]
fn keep_going_runs_what_does_not_depend_on_the_failure() {
    let moto = Moto::start();
    let play = "- hosts: localhost\n  tasks:\n    - name: first claim\n      amazon.aws.cloudformation: {stack_name: claim-one, profile: cicd, template: claim.yml}\n    - name: second claim\n      amazon.aws.cloudformation: {stack_name: claim-two, profile: cicd, template: claim.yml}\n      depends_on: first claim\n      register: second\n    - name: dependent\n      amazon.aws.cloudformation: {stack_name: dep, profile: cicd, template: topic.yml, template_parameters: {Name: \"{{ second.stack_id }}\"}}\n    - name: independent\n      amazon.aws.cloudformation: {stack_name: ind, profile: prod, template: topic.yml, template_parameters: {Name: ind}}\n      depends_on: second claim\n";
    let (_dir, playbook) = scratch(&[
        ("play.yml", play),
        ("claim.yml", CLAIM),
        ("topic.yml", TOPIC),
    ]);
    let run = apply(&moto, &playbook, &["--keep-going", "--forks", "1"]);
    run.assert_code(2);
    assert!(run.stdout.contains("blocked  dependent"), "{}", run.stdout);
    assert!(
        run.stdout.contains("blocked  independent"),
        "{}",
        run.stdout
    );
    // One task failed; the two it held back are counted apart.
    assert!(
        run.stdout
            .contains("ok=1 changed=1 failed=1 skipped=0 ignored=0 blocked=2"),
        "{}",
        run.stdout
    );

    let play = play.replace("      depends_on: second claim\n", "");
    std::fs::write(&playbook, play).unwrap();
    let moto = Moto::start();
    let run = apply(&moto, &playbook, &["--keep-going", "--forks", "1"]);
    run.assert_code(2);
    assert!(
        run.stdout.contains("changed  independent"),
        "{}",
        run.stdout
    );
    assert!(stack(&moto, "prod", "ind").is_some());
}

#[test]
fn a_missing_profile_stops_before_any_change() {
    let moto = Moto::start_recording();
    let play = "- hosts: localhost\n  tasks:\n    - name: fine\n      amazon.aws.cloudformation: {stack_name: a, profile: cicd, template: topic.yml, template_parameters: {Name: a}}\n    - name: typo\n      amazon.aws.cloudformation: {stack_name: b, profile: nosuchprofile, template: topic.yml, template_parameters: {Name: b}}\n";
    let (_dir, playbook) = scratch(&[("play.yml", play), ("topic.yml", TOPIC)]);
    let run = apply(&moto, &playbook, &[]);
    run.assert_code(3);
    assert!(run.stderr.contains("nosuchprofile"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());
    assert!(stack(&moto, "cicd", "a").is_none());
}

#[test]
fn a_template_cloudformation_rejects_fails_the_task() {
    let moto = Moto::start();
    // Reads an attribute of a resource the template does not declare.
    // (Not `!Ref Missing`: moto answers that with an HTML 500 and leaves the
    // stack CREATE_IN_PROGRESS for ever; see docs/moto.md.)
    let bad = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !GetAtt Nope.Arn\n";
    let play = "- hosts: localhost\n  tasks:\n    - name: bad\n      amazon.aws.cloudformation: {stack_name: bad, profile: cicd, template: bad.yml}\n";
    let (_dir, playbook) = scratch(&[("play.yml", play), ("bad.yml", bad)]);
    let run = apply(&moto, &playbook, &[]);
    run.assert_code(2);
    assert!(
        run.stdout.contains("failed   bad [cicd 111111111111]"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("stack bad: profile cicd, default region: CreateStack failed"),
        "{}",
        run.stdout
    );
}

/// moto leaves a stack whose template it cannot evaluate in
/// CREATE_IN_PROGRESS for ever and answers the SDK's retry of the create
/// with AlreadyExistsException (docs/moto.md), which runbook takes for
/// another creator: the wait says what it waits for, then gives up at the
/// deadline with what to do.
#[test]
fn a_stack_that_never_settles_is_reported_while_waiting_then_times_out() {
    let moto = Moto::start();
    let stuck = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Ref Missing\n";
    let play = "- hosts: localhost\n  tasks:\n    - name: stuck\n      amazon.aws.cloudformation: {stack_name: stuck, profile: cicd, template: stuck.yml}\n";
    let (_dir, playbook) = scratch(&[("play.yml", play), ("stuck.yml", stuck)]);
    let path = playbook.to_str().expect("utf-8 path");
    let run = runbook(Some(&moto), &["apply", path, "-v", "--wait-timeout", "33"]);
    run.assert_code(2);
    assert!(
        run.stdout.contains(
            "still CREATE_IN_PROGRESS after 30s: waiting for CloudFormation to finish its current operation"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("timed out after 33s waiting for stack stuck to finish its current operation (status CREATE_IN_PROGRESS); it is still going in AWS: run again to pick it up, or raise --wait-timeout"),
        "{}",
        run.stdout
    );
}

/// A skipped or failed AWS task is counted under the account it would have
/// acted in, not under localhost.
#[test]
fn skipped_and_failed_aws_tasks_count_under_their_account() {
    let moto = Moto::start();
    let play = "- hosts: localhost\n  tasks:\n    - name: not today\n      amazon.aws.cloudformation: {stack_name: a, profile: prod, template: topic.yml, template_parameters: {Name: a}}\n      when: false\n    - name: broken condition\n      amazon.aws.cloudformation: {stack_name: b, profile: nonprod, template: topic.yml, template_parameters: {Name: b}}\n      when: \"{{ 'x' | int(strict=true) }}\"\n      ignore_errors: true\n";
    let (_dir, playbook) = scratch(&[("play.yml", play), ("topic.yml", TOPIC)]);
    let run = apply(&moto, &playbook, &[]);
    run.assert_code(0);
    let recap = &run.stdout[run.stdout.find("RECAP").expect("a recap")..];
    assert!(!recap.contains("localhost"), "{recap}");
    assert!(
        recap
            .lines()
            .any(|l| l.contains("prod 777777777777") && l.contains("skipped=1")),
        "{recap}"
    );
    assert!(
        recap
            .lines()
            .any(|l| l.contains("nonprod 222222222222") && l.contains("ignored=1")),
        "{recap}"
    );
}

#[test]
fn an_import_nobody_exports_is_caught_before_any_change() {
    let moto = Moto::start_recording();
    let play = "- hosts: localhost\n  tasks:\n    - name: fine\n      amazon.aws.cloudformation: {stack_name: a, profile: cicd, template: topic.yml, template_parameters: {Name: a}}\n    - name: importer\n      amazon.aws.cloudformation: {stack_name: imp, profile: cicd, template: importer.yml, template_parameters: {Source: nowhere}}\n";
    let (_dir, playbook) = scratch(&[
        ("play.yml", play),
        ("topic.yml", TOPIC),
        ("importer.yml", IMPORTER),
    ]);
    let run = apply(&moto, &playbook, &[]);
    run.assert_code(4);
    assert!(
        run.stderr
            .contains("imports `nowhere-TopicArn`, which no task in this playbook exports"),
        "{}",
        run.stderr
    );
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());
}

#[test]
fn no_log_and_noecho_values_never_reach_the_output() {
    let moto = Moto::start();
    let secret_template = "Parameters:\n  Password:\n    Type: String\n    NoEcho: true\nResources:\n  P:\n    Type: AWS::SSM::Parameter\n    Properties:\n      Name: /secret\n      Type: String\n      Value: !Ref Password\n";
    let play = "- hosts: localhost\n  tasks:\n    - name: secret stack\n      amazon.aws.cloudformation:\n        stack_name: secret\n        profile: cicd\n        template: secret.yml\n        template_parameters: {Password: hunter2-secret}\n    - name: hidden\n      debug: {msg: \"hunter2-secret\"}\n      no_log: true\n";
    let (_dir, playbook) = scratch(&[("play.yml", play), ("secret.yml", secret_template)]);
    for extra in [&[][..], &["--check", "-v"][..]] {
        let run = apply(&moto, &playbook, extra);
        run.assert_code(0);
        assert!(!run.stdout.contains("hunter2"), "{}", run.stdout);
        assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    }
    // A NoEcho value cannot be compared: the rerun asks CloudFormation.
    let run = apply(&moto, &playbook, &["--check"]);
    assert!(run.stdout.contains("may change"), "{}", run.stdout);
}

/// A NoEcho value cannot be compared, so the rerun asks CloudFormation with a
/// change set; moto refuses the change set itself ("No updates are to be
/// performed."), CloudFormation fails it: both are an unchanged `ok`.
#[test]
fn an_unchanged_noecho_stack_reruns_as_ok() {
    let moto = Moto::start_recording();
    let template = "Parameters:\n  Password:\n    Type: String\n    NoEcho: true\nResources:\n  P:\n    Type: AWS::SSM::Parameter\n    Properties:\n      Name: /secret\n      Type: String\n      Value: !Ref Password\n";
    let play = "- hosts: localhost\n  tasks:\n    - name: secret stack\n      amazon.aws.cloudformation:\n        stack_name: secret\n        profile: cicd\n        template: secret.yml\n        template_parameters: {Password: hunter2-secret}\n";
    let (_dir, playbook) = scratch(&[("play.yml", play), ("secret.yml", template)]);
    apply(&moto, &playbook, &[]).assert_code(0);
    let created = mutating_calls(&moto).len();
    let rerun = apply(&moto, &playbook, &[]);
    rerun.assert_code(0);
    assert!(
        rerun.stdout.contains("ok=1 changed=0 failed=0"),
        "{}",
        rerun.stdout
    );
    let calls = mutating_calls(&moto);
    assert_eq!(
        calls[created..],
        ["cloudformation CreateChangeSet".to_string()],
        "{calls:?}"
    );
}

#[test]
fn termination_protection_blocks_a_delete_with_a_clear_message() {
    let moto = Moto::start();
    let protected = |state: &str| {
        format!(
            "- hosts: localhost\n  tasks:\n    - name: guarded\n      amazon.aws.cloudformation:\n        stack_name: guarded\n        state: {state}\n        profile: cicd\n        template: topic.yml\n        template_parameters: {{Name: guarded}}\n        termination_protection: true\n"
        )
    };
    let (_dir, playbook) = scratch(&[("play.yml", &protected("present")), ("topic.yml", TOPIC)]);
    apply(&moto, &playbook, &[]).assert_code(0);
    std::fs::write(&playbook, protected("absent")).unwrap();
    let run = apply(&moto, &playbook, &[]);
    run.assert_code(2);
    assert!(
        run.stdout
            .contains("stack guarded has termination protection, so it cannot be deleted"),
        "{}",
        run.stdout
    );
    assert!(stack(&moto, "cicd", "guarded").is_some());
}

#[test]
fn an_import_of_an_existing_export_by_account_id_passes_preflight() {
    let moto = Moto::start();
    let exporter = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\nOutputs:\n  Arn:\n    Value: !Ref Topic\n    Export:\n      Name: !Sub \"${AWS::AccountId}-${AWS::Region}-shared\"\n";
    let importer = "Resources:\n  P:\n    Type: AWS::SSM::Parameter\n    Properties:\n      Name: /shared/arn\n      Type: String\n      Value:\n        Fn::ImportValue: !Sub \"${AWS::AccountId}-${AWS::Region}-shared\"\n";
    let first = "- hosts: localhost\n  tasks:\n    - name: exporter\n      amazon.aws.cloudformation: {stack_name: exporter, profile: cicd, template: exporter.yml}\n";
    let second = "- hosts: localhost\n  tasks:\n    - name: importer\n      amazon.aws.cloudformation: {stack_name: importer, profile: cicd, template: importer.yml}\n";
    let (_dir, playbook) = scratch(&[
        ("first.yml", first),
        ("exporter.yml", exporter),
        ("importer.yml", importer),
        ("second.yml", second),
    ]);
    apply(&moto, &playbook, &[]).assert_code(0);
    let second_path = playbook.with_file_name("second.yml");
    let run = apply(&moto, &second_path, &[]);
    run.assert_code(0);
    assert_eq!(
        stack(&moto, "cicd", "importer").unwrap().status,
        "CREATE_COMPLETE"
    );
    // In another account the export does not exist: stopped before changes.
    let elsewhere = second.replace("profile: cicd", "profile: prod");
    std::fs::write(&second_path, elsewhere).unwrap();
    let run = apply(&moto, &second_path, &[]);
    run.assert_code(4);
    assert!(
        run.stderr
            .contains("imports `777777777777-us-east-1-shared`"),
        "{}",
        run.stderr
    );
}

#[test]
fn many_stacks_in_one_account_are_looked_up_with_one_listing() {
    let moto = Moto::start_recording();
    let play = |label: &str| {
        let mut text = String::from("- hosts: localhost\n  tasks:\n");
        for i in 0..6 {
            let label = if i == 3 { label } else { "plain" };
            text.push_str(&format!(
                "    - name: topic {i}\n      amazon.aws.cloudformation:\n        stack_name: topic-{i}\n        profile: cicd\n        template: topic.yml\n        template_parameters: {{Name: topic-{i}, Label: {label}}}\n"
            ));
        }
        text
    };
    let (_dir, playbook) = scratch(&[("play.yml", &play("plain")), ("topic.yml", TOPIC)]);
    apply(&moto, &playbook, &[]).assert_code(0);

    moto.clear_recording();
    apply(&moto, &playbook, &[]).assert_code(0);
    let calls: Vec<String> = moto
        .recorded_calls()
        .into_iter()
        .filter(|c| c.service == "cloudformation")
        .map(|c| c.action)
        .collect();
    assert_eq!(
        calls.iter().filter(|a| *a == "DescribeStacks").count(),
        1,
        "{calls:?}"
    );
    assert_eq!(
        calls.iter().filter(|a| *a == "GetTemplate").count(),
        6,
        "{calls:?}"
    );
    assert_eq!(calls.len(), 7, "{calls:?}");

    // The listing still shows what changed.
    std::fs::write(&playbook, play("changed")).unwrap();
    moto.clear_recording();
    apply(&moto, &playbook, &[]).assert_code(0);
    assert_eq!(mutating_calls(&moto), ["cloudformation UpdateStack"]);
    assert_eq!(
        param(&stack(&moto, "cicd", "topic-3").unwrap(), "Label"),
        "changed"
    );
}

/// Runs `runbook ARGS` under a pseudo-terminal (util-linux `script`), as a
/// person at a terminal would see it.
fn on_a_terminal(moto: &Moto, args: &[&str], no_color: bool) -> String {
    on_a_terminal_named(moto, args, no_color, "xterm")
}

/// The same on a terminal of type `term` (empty: TERM unset).
fn on_a_terminal_named(moto: &Moto, args: &[&str], no_color: bool, term: &str) -> String {
    // `exec`: the shell script runs the line with must not stay in between.
    let mut line = format!("exec '{}'", env!("CARGO_BIN_EXE_runbook"));
    for arg in args {
        line.push_str(&format!(" '{arg}'"));
    }
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .current_dir(common::workspace());
    moto.apply_env(&mut cmd);
    cmd.env_remove("NO_COLOR");
    if term.is_empty() {
        cmd.env_remove("TERM");
    } else {
        cmd.env("TERM", term);
    }
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    let out = cmd.output().expect("util-linux `script` runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_terminal_gets_live_spinners_and_colour_unless_no_color() {
    let moto = Moto::start();
    let play = "- hosts: localhost\n  tasks:\n    - name: a\n      amazon.aws.cloudformation: {stack_name: a, profile: cicd, template: topic.yml, template_parameters: {Name: a}}\n";
    let (_dir, playbook) = scratch(&[("play.yml", play), ("topic.yml", TOPIC)]);
    let path = playbook.to_str().unwrap();
    let shown = on_a_terminal(&moto, &["apply", path], false);
    // The live line of the running task (indicatif redraws it with ANSI
    // erase codes) and the coloured status.
    assert!(shown.contains("\x1b[2K"), "{shown:?}");
    assert!(shown.contains("\x1b[33mchanged"), "{shown:?}");
    // Something moves while preflight reaches the accounts.
    assert!(
        shown.contains("preflight: reaching every account and listing its stacks"),
        "{shown:?}"
    );
    let plain = on_a_terminal(&moto, &["apply", path], true);
    assert!(
        !plain.contains("\x1b[32m") && !plain.contains("\x1b[33m"),
        "{plain:?}"
    );
    assert!(
        plain.contains("ok       a [cicd 111111111111]"),
        "{plain:?}"
    );
    // A terminal that cannot redraw still gets every line, without
    // spinners.
    for term in ["dumb", ""] {
        let shown = on_a_terminal_named(&moto, &["apply", path], false, term);
        assert!(!shown.contains("\x1b[2K"), "TERM={term}: {shown:?}");
        assert!(
            shown.contains("start    a [cicd 111111111111]")
                && shown.contains("a [cicd 111111111111] 0.")
                && shown.contains("stack a is up to date"),
            "TERM={term}: {shown:?}"
        );
    }
}

/// The recap's time is the command's, preflight included.
#[test]
fn the_recap_time_includes_preflight() {
    let moto = Moto::start();
    let play = "- hosts: localhost\n  tasks:\n    - name: who\n      amazon.aws.aws_caller_info: {profile: cicd}\n";
    let (_dir, playbook) = scratch(&[("play.yml", play)]);
    let run = apply(&moto, &playbook, &[]);
    run.assert_code(0);
    let seconds = |after: &str, before: &str| -> f64 {
        let start = run.stdout.find(after).expect("marker") + after.len();
        let rest = &run.stdout[start..];
        rest[..rest.find(before).expect("end")]
            .parse()
            .expect("seconds")
    };
    let preflight = seconds("111111111111 (", "s)");
    let total = seconds("  in ", "s\n");
    assert!(
        total >= preflight,
        "recap {total}s, preflight {preflight}s\n{}",
        run.stdout
    );
}

#[test]
fn a_changed_stack_policy_is_set_and_an_unchanged_one_left_alone() {
    let moto = Moto::start_recording();
    let play = |effect: &str| {
        format!(
            "- hosts: localhost\n  tasks:\n    - name: guarded\n      amazon.aws.cloudformation:\n        stack_name: guarded\n        profile: cicd\n        template: topic.yml\n        template_parameters: {{Name: guarded}}\n        stack_policy_body:\n          Statement:\n            - {{Effect: {effect}, Action: \"Update:*\", Principal: \"*\", Resource: \"*\"}}\n"
        )
    };
    let (_dir, playbook) = scratch(&[("play.yml", &play("Allow")), ("topic.yml", TOPIC)]);
    apply(&moto, &playbook, &[]).assert_code(0);

    moto.clear_recording();
    let run = apply(&moto, &playbook, &[]);
    run.assert_code(0);
    assert!(run.stdout.contains("is up to date"), "{}", run.stdout);
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());

    std::fs::write(&playbook, play("Deny")).unwrap();
    moto.clear_recording();
    let run = apply(&moto, &playbook, &[]);
    run.assert_code(0);
    assert!(run.stdout.contains("stack policy set"), "{}", run.stdout);
    assert_eq!(mutating_calls(&moto), ["cloudformation SetStackPolicy"]);
}

/// `aws_caller_info` asks AWS only for what the playbook may read: the
/// account of an assume-role profile is in the AssumeRole answer; the ARN
/// costs a GetCallerIdentity and the alias an IAM call.
#[test]
fn caller_info_calls_only_for_fields_that_are_read() {
    let moto = Moto::start_recording();
    let play = |reads: &str| {
        format!(
            "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: who\n      amazon.aws.aws_caller_info:\n        profile: prod\n      register: who\n    - name: show\n      ansible.builtin.debug:\n        msg: \"{reads}\"\n"
        )
    };
    let (_dir, playbook) = scratch(&[("play.yml", &play("id={{ who.account }}"))]);
    let run = apply(&moto, &playbook, &[]);
    run.assert_code(0);
    assert!(run.stdout.contains("id=777777777777"), "{}", run.stdout);
    assert_eq!(moto.count_calls("sts", "GetCallerIdentity"), 0);
    assert_eq!(moto.count_calls("iam", "ListAccountAliases"), 0);

    std::fs::write(
        &playbook,
        play("arn={{ who.arn }} alias={{ who.account_alias }}"),
    )
    .unwrap();
    moto.clear_recording();
    let run = apply(&moto, &playbook, &[]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("arn=arn:aws:sts::777777777777:assumed-role/runbook-moto/"),
        "{}",
        run.stdout
    );
    // No alias: None, which Ansible 2.19 renders as nothing inside text.
    assert!(run.stdout.contains(" alias=\n"), "{}", run.stdout);
    assert_eq!(moto.count_calls("sts", "GetCallerIdentity"), 1);
    assert_eq!(moto.count_calls("iam", "ListAccountAliases"), 1);
}
