//! `runbook destroy` on moto: stacks go in the reverse order of creation.

mod common;

use common::{mutating_calls, runbook, scratch, stack};
use runbook_testkit::Moto;

const TOPIC: &str = "Parameters:\n  Name:\n    Type: String\nResources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Ref Name\nOutputs:\n  TopicArn:\n    Value: !Ref Topic\n    Export:\n      Name: !Sub \"${AWS::StackName}-TopicArn\"\n";
const IMPORTER: &str = "Parameters:\n  Source:\n    Type: String\nResources:\n  Param:\n    Type: AWS::SSM::Parameter\n    Properties:\n      Name: !Sub \"/imported/${Source}\"\n      Type: String\n      Value:\n        Fn::ImportValue: !Sub \"${Source}-TopicArn\"\n";

/// Who am I (caller info) -> exporter -> importer (through the export) and
/// a consumer in prod (through the exporter's outputs); the stack name of
/// the consumer comes from a registered result.
const PLAY: &str = "- hosts: localhost\n  tasks:\n    - name: who\n      amazon.aws.aws_caller_info: {profile: prod}\n      register: who\n    - name: exporter\n      amazon.aws.cloudformation: {stack_name: topics, profile: cicd, template: topic.yml, template_parameters: {Name: shared}}\n      register: exporter\n    - name: importer\n      amazon.aws.cloudformation: {stack_name: importer, profile: cicd, template: importer.yml, template_parameters: {Source: topics}}\n    - name: consumer\n      amazon.aws.cloudformation:\n        stack_name: \"consumer-{{ who.account }}\"\n        profile: prod\n        template: topic.yml\n        template_parameters: {Name: \"{{ exporter.stack_outputs.TopicArn | regex_replace('[:]', '-') }}\"}\n";

fn run(moto: &Moto, command: &str, playbook: &std::path::Path, extra: &[&str]) -> common::Run {
    let mut args = vec![
        command,
        playbook.to_str().unwrap(),
        "--max-attempts",
        "2",
        "--wait-timeout",
        "20",
    ];
    args.extend(extra);
    runbook(Some(moto), &args)
}

#[test]
fn destroy_deletes_dependents_first_and_check_mode_changes_nothing() {
    let moto = Moto::start_recording();
    let (_dir, playbook) = scratch(&[
        ("play.yml", PLAY),
        ("topic.yml", TOPIC),
        ("importer.yml", IMPORTER),
    ]);
    run(&moto, "apply", &playbook, &[]).assert_code(0);
    assert!(stack(&moto, "prod", "consumer-777777777777").is_some());

    moto.clear_recording();
    let plan = run(&moto, "destroy", &playbook, &["--check"]);
    plan.assert_code(0);
    assert!(
        plan.stdout.contains("would delete stack topics"),
        "{}",
        plan.stdout
    );
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());

    let run = run(&moto, "destroy", &playbook, &["--forks", "1"]);
    run.assert_code(0);
    for (profile, name) in [
        ("cicd", "topics"),
        ("cicd", "importer"),
        ("prod", "consumer-777777777777"),
    ] {
        assert!(
            stack(&moto, profile, name).is_none(),
            "{name} still exists\n{}",
            run.stdout
        );
    }
    let start = |name: &str| {
        run.stdout
            .find(&format!("start    delete {name} "))
            .unwrap_or_else(|| panic!("{}", run.stdout))
    };
    assert!(start("importer") < start("topics"), "{}", run.stdout);
    assert!(
        start("consumer-777777777777") < start("topics"),
        "{}",
        run.stdout
    );
    // Nothing left: a second destroy is a no-op.
    let again = runbook(Some(&moto), &["destroy", playbook.to_str().unwrap()]);
    again.assert_code(0);
    assert!(
        again.stdout.contains("changed=0 failed=0"),
        "{}",
        again.stdout
    );
}
