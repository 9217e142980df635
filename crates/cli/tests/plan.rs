//! Plans a reviewer can trust, against moto over HTTP: resource-level
//! changes with replacement predictions, planned outputs downstream,
//! warnings, parameter checks before anything runs, JSON reports, saved
//! plans and the detailed exit code.

mod common;

use std::path::{Path, PathBuf};

use common::{mutating_calls, runbook, scratch, Run, CICD_ARGS};
use runbook_testkit::Moto;

/// The CI/CD playbook, copied (with `edit` applied) into a scratch
/// directory beside a link to the repository's templates.
fn cicd_copy(edit: &dyn Fn(String) -> String) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = common::workspace();
    std::fs::create_dir(dir.path().join("playbooks")).unwrap();
    std::os::unix::fs::symlink(root.join("templates"), dir.path().join("templates")).unwrap();
    let text = std::fs::read_to_string(root.join("playbooks/playbook-cicd-01.yaml")).unwrap();
    let path = dir.path().join("playbooks/cicd.yaml");
    std::fs::write(&path, edit(text)).unwrap();
    (dir, path)
}

fn apply(moto: &Moto, playbook: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["apply", playbook.to_str().unwrap()];
    args.extend(CICD_ARGS);
    args.extend(extra);
    runbook(Some(moto), &args)
}

/// The example: a new bucket name prefix replaces both buckets
/// (their names come from it), says so at the end, and both roles stacks
/// are planned with the new bucket names, computed from the template.
#[test]
fn a_bucket_prefix_change_plans_replacements_and_new_names_downstream() {
    let moto = Moto::start_recording();
    let (_dir, original) = cicd_copy(&|t| t);
    apply(&moto, &original, &[]).assert_code(0);

    let (_dir2, changed) =
        cicd_copy(&|t| t.replace("BucketNamePrefix: cicd", "BucketNamePrefix: cicd2"));
    moto.clear_recording();
    let run = apply(&moto, &changed, &["--check"]);
    run.assert_code(0);
    let out = &run.stdout;
    for bucket in ["ArtifactsBucket", "TemplatesBucket"] {
        assert!(
            out.contains(&format!(
                "resource {bucket} (AWS::S3::Bucket): Modify, Replacement: True (because of parameter BucketNamePrefix)"
            )),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "stack cicd-s3-buckets: {bucket} (AWS::S3::Bucket) is replaced"
            )),
            "{out}"
        );
    }
    let warnings = out.split("WARNINGS").nth(1).expect("a warnings block");
    assert!(warnings.contains("ArtifactsBucket"), "{out}");
    for roles in ["cicd-iam-roles-nonprod", "cicd-iam-roles-prod"] {
        assert!(
            out.contains(&format!("would update stack {roles}")),
            "{out}"
        );
    }
    assert!(
        out.contains("parameter ArtifactsBucketName: cicd-artifacts-111111111111-us-east-1 -> cicd2-artifacts-111111111111-us-east-1"),
        "{out}"
    );
    assert!(!out.contains("cicd-iam-roles-prod is up to date"), "{out}");
    // cicd-mgmt-settings imports the bucket exports: CloudFormation would
    // refuse to change them. The plan says so; an apply stops before it.
    assert!(
        warnings.contains("export `CICD::S3::Artifacts::Name`, which the stack of task `CI/CD account - management settings` imports"),
        "{out}"
    );
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());
    let run = apply(&moto, &changed, &[]);
    run.assert_code(2);
    assert!(
        run.stdout
            .contains("CloudFormation would refuse it half way"),
        "{}",
        run.stdout
    );
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());
}

const V1: &str = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: one\n  Queue:\n    Type: AWS::SQS::Queue\n";
const V2: &str = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: two\n  Extra:\n    Type: AWS::SNS::Topic\n";

fn one_stack(template: &str) -> String {
    format!(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: stack\n      amazon.aws.cloudformation:\n        stack_name: planned\n        profile: cicd\n        template: {template}\n"
    )
}

/// Adding, removing and modifying resources, each with its plan line;
/// --diff shows the template's text diff.
#[test]
fn add_remove_and_modify_resources() {
    let moto = Moto::start_recording();
    let (_dir, playbook) = scratch(&[
        ("play.yml", &one_stack("v1.yml")),
        ("v1.yml", V1),
        ("v2.yml", V2),
    ]);
    runbook(Some(&moto), &["apply", playbook.to_str().unwrap()]).assert_code(0);
    std::fs::write(&playbook, one_stack("v2.yml")).unwrap();
    moto.clear_recording();
    let run = runbook(
        Some(&moto),
        &["apply", playbook.to_str().unwrap(), "--check", "--diff"],
    );
    run.assert_code(0);
    let out = &run.stdout;
    assert!(
        out.contains("resource Extra (AWS::SNS::Topic): Add"),
        "{out}"
    );
    assert!(
        out.contains("resource Queue (AWS::SQS::Queue): Remove"),
        "{out}"
    );
    assert!(
        out.contains("resource Topic (AWS::SNS::Topic): Modify, Replacement: False (because of the template)"),
        "{out}"
    );
    assert!(out.contains("DisplayName: one -> two"), "{out}");
    // The text diff, YAML normalised.
    assert!(out.contains("-      DisplayName: one"), "{out}");
    assert!(out.contains("+      DisplayName: two"), "{out}");
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());

    // --detailed-exitcode: 6 when something would change, 0 when nothing.
    let run = runbook(
        Some(&moto),
        &[
            "apply",
            playbook.to_str().unwrap(),
            "--check",
            "--detailed-exitcode",
        ],
    );
    run.assert_code(6);
    runbook(Some(&moto), &["apply", playbook.to_str().unwrap()]).assert_code(0);
    let run = runbook(
        Some(&moto),
        &[
            "apply",
            playbook.to_str().unwrap(),
            "--check",
            "--detailed-exitcode",
        ],
    );
    run.assert_code(0);
}

/// A misspelled and a missing template parameter are found before any
/// AWS call, with their place.
#[test]
fn parameter_mistakes_fail_before_anything_runs() {
    let moto = Moto::start_recording();
    let template = "Parameters:\n  Name:\n    Type: String\n  Size:\n    Type: Number\n    MinValue: 1\nResources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Ref Name\n";
    let play = "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: stack\n      amazon.aws.cloudformation:\n        stack_name: params\n        profile: cicd\n        template: t.yml\n        template_parameters:\n          Nmae: x\n";
    let (_dir, playbook) = scratch(&[("play.yml", play), ("t.yml", template)]);
    let run = runbook(Some(&moto), &["apply", playbook.to_str().unwrap()]);
    run.assert_code(4);
    assert!(
        run.stderr
            .contains("template parameter `Nmae` is not declared by the template"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean `Name`?"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("template parameter `Name` has no Default and the task does not give it"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("play.yml:9:9"), "{}", run.stderr);
    assert_eq!(
        moto.recorded_calls().len(),
        0,
        "{:?}",
        moto.recorded_calls()
    );
}

/// A plan saved with --check is applied exactly; edited inputs or a stack
/// changed out of band are refused, naming what moved.
#[test]
fn saved_plans_apply_exactly_or_refuse() {
    let moto = Moto::start_recording();
    let (dir, playbook) = scratch(&[
        ("play.yml", &one_stack("v1.yml")),
        ("v1.yml", V1),
        ("v2.yml", V2),
    ]);
    let plan = dir.path().join("plan.json");
    let plan_arg = plan.to_str().unwrap();
    let path = playbook.to_str().unwrap();
    runbook(
        Some(&moto),
        &["apply", path, "--check", "--save-plan", plan_arg],
    )
    .assert_code(0);
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());

    // The template changes after the plan: refused, nothing done.
    std::fs::write(dir.path().join("v1.yml"), V2).unwrap();
    let run = runbook(Some(&moto), &["apply", path, "--plan", plan_arg]);
    run.assert_code(7);
    assert!(
        run.stderr
            .contains("v1.yml changed since the plan was made"),
        "{}",
        run.stderr
    );
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());

    // Unchanged: exactly the planned create.
    std::fs::write(dir.path().join("v1.yml"), V1).unwrap();
    runbook(
        Some(&moto),
        &["apply", path, "--check", "--save-plan", plan_arg],
    )
    .assert_code(0);
    let run = runbook(Some(&moto), &["apply", path, "--plan", plan_arg]);
    run.assert_code(0);
    assert_eq!(mutating_calls(&moto), ["cloudformation CreateStack"]);

    // A plan made against the stack as it is, then the stack changes out
    // of band: the task refuses before it changes anything.
    std::fs::write(&playbook, one_stack("v2.yml")).unwrap();
    runbook(
        Some(&moto),
        &["apply", path, "--check", "--save-plan", plan_arg],
    )
    .assert_code(0);
    let other = dir.path().join("other.yml");
    std::fs::write(
        &other,
        one_stack("v2.yml").replace(
            "stack_name: planned",
            "stack_name: planned\n        tags: {changed: out-of-band}",
        ),
    )
    .unwrap();
    runbook(Some(&moto), &["apply", other.to_str().unwrap()]).assert_code(0);
    moto.clear_recording();
    let run = runbook(Some(&moto), &["apply", path, "--plan", plan_arg]);
    run.assert_code(2);
    assert!(
        run.stdout
            .contains("stack planned changed since the plan was made"),
        "{}",
        run.stdout
    );
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());
}

/// The JSON report validates against its documented schema, and no
/// secret of a NoEcho parameter or a no_log task appears in it.
#[test]
fn json_report_follows_its_schema_and_hides_secrets() {
    let moto = Moto::start();
    let template = "Parameters:\n  Secret:\n    Type: String\n    NoEcho: true\nResources:\n  Param:\n    Type: AWS::SSM::Parameter\n    Properties:\n      Name: /plan/secret\n      Type: String\n      Value: !Ref Secret\n";
    let play = "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: stack\n      amazon.aws.cloudformation:\n        stack_name: secretive\n        profile: cicd\n        template: t.yml\n        template_parameters:\n          Secret: \"{{ secret }}\"\n      register: made\n    - name: hidden\n      debug:\n        msg: \"{{ secret }}\"\n      no_log: true\n";
    let (dir, playbook) = scratch(&[("play.yml", play), ("t.yml", template)]);
    let secret = "S3cr3t-ZZZ-42";
    let report = dir.path().join("report.json");
    for check in [true, false] {
        let mut args = vec![
            "apply",
            playbook.to_str().unwrap(),
            "-e",
            "secret=S3cr3t-ZZZ-42",
            "--output",
            "json",
            "--report",
            report.to_str().unwrap(),
        ];
        if check {
            args.push("--check");
        }
        let run = runbook(Some(&moto), &args);
        run.assert_code(0);
        assert!(!run.stdout.contains(secret), "{}", run.stdout);
        assert!(!run.stderr.contains(secret), "{}", run.stderr);
        let written = std::fs::read_to_string(&report).unwrap();
        assert!(!written.contains(secret), "{written}");
        let out = std::process::Command::new(common::workspace().join(".venv/bin/python"))
            .args([
                "-c",
                "import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))",
                report.to_str().unwrap(),
                common::workspace()
                    .join("docs/report.schema.json")
                    .to_str()
                    .unwrap(),
            ])
            .output()
            .expect(".venv/bin/python runs (scripts/venv.sh installs it)");
        assert!(
            out.status.success(),
            "the report does not follow docs/report.schema.json:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
