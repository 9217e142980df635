//! `community.aws.cloudformation_stack_set` end to end on moto, which runs
//! SELF_MANAGED stack sets for real across accounts and regions: the
//! StackSets variant of the CI/CD baseline deploys, reruns as a no-op,
//! changes one parameter with one UpdateStackSet, plans under --check and
//! is destroyed without a trace; a new region is one CreateStackInstances.
//! The final state is checked in every target account and region directly:
//! community.aws's own module cannot run on moto 5.2.5 (last test), so
//! there is no differential run of it. SERVICE_MANAGED targets, running
//! and failing operations: crates/modules/tests/fake_stack_sets.rs.

mod common;

use common::{mutating_calls, output, param, pool, runbook, scratch, stack, with_args};
use runbook_aws::Target;
use runbook_testkit::Moto;

const PLAYBOOK: &str = "playbooks/playbook-cicd-stacksets.yaml";
const ACCOUNTS: [(&str, &str); 3] = [
    ("cicd", "111111111111"),
    ("nonprod", "222222222222"),
    ("prod", "777777777777"),
];
/// What moto names an instance's stack (AWS: `StackSet-<name>-<id>`).
const INSTANCE_STACK: &str = "StackSet:cicd-iam-roles";

/// The seed's -e arguments; the KMS stack without termination protection,
/// so that destroy may delete it.
const ARGS: &[&str] = &[
    "-e",
    "cicd_account_profile=cicd",
    "-e",
    "nonprod_account_profile=nonprod",
    "-e",
    "prod_account_profile=prod",
    "-e",
    "kms_termination_protection=false",
];

fn run_seed(moto: &Moto, command: &str, extra: &[&str]) -> common::Run {
    let mut args = with_args(
        &[
            command,
            PLAYBOOK,
            "--max-attempts",
            "2",
            "--wait-timeout",
            "60",
        ],
        ARGS,
    );
    args.extend(extra);
    runbook(Some(moto), &args)
}

fn target(profile: &str, region: &str) -> Target {
    Target::profile(profile).with_region(region)
}

/// A stack set's parameters and tags, sorted; `None` when there is none.
#[allow(clippy::type_complexity)]
fn stack_set(
    moto: &Moto,
    profile: &str,
    name: &str,
) -> Option<(Vec<(String, String)>, Vec<(String, String)>)> {
    let pool = pool(moto);
    common::block_on(async {
        let client = pool
            .cloudformation(&target(profile, "us-east-1"))
            .await
            .expect("client");
        let out = client
            .describe_stack_set()
            .stack_set_name(name)
            .send()
            .await
            .ok()?;
        let set = out.stack_set()?;
        let mut parameters: Vec<(String, String)> = set
            .parameters()
            .iter()
            .map(|p| {
                (
                    p.parameter_key().unwrap_or_default().to_string(),
                    p.parameter_value().unwrap_or_default().to_string(),
                )
            })
            .collect();
        parameters.sort();
        let mut tags: Vec<(String, String)> = set
            .tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect();
        tags.sort();
        Some((parameters, tags))
    })
}

/// The (account, region) of each instance of a stack set, sorted; empty
/// when the stack set is gone.
fn instances(moto: &Moto, name: &str) -> Vec<(String, String)> {
    let pool = pool(moto);
    common::block_on(async {
        let client = pool
            .cloudformation(&target("cicd", "us-east-1"))
            .await
            .expect("client");
        let Ok(out) = client
            .list_stack_instances()
            .stack_set_name(name)
            .send()
            .await
        else {
            return Vec::new();
        };
        let mut all: Vec<(String, String)> = out
            .summaries()
            .iter()
            .map(|s| {
                (
                    s.account().unwrap_or_default().to_string(),
                    s.region().unwrap_or_default().to_string(),
                )
            })
            .collect();
        all.sort();
        all
    })
}

/// The names of the live stacks of one account and region.
fn stack_names(moto: &Moto, profile: &str, region: &str) -> Vec<String> {
    let pool = pool(moto);
    common::block_on(async {
        let client = pool
            .cloudformation(&target(profile, region))
            .await
            .expect("client");
        let out = client
            .describe_stacks()
            .send()
            .await
            .expect("DescribeStacks");
        let mut names: Vec<String> = out
            .stacks()
            .iter()
            .filter(|s| {
                s.stack_status()
                    .is_some_and(|s| s.as_str() != "DELETE_COMPLETE")
            })
            .filter_map(|s| s.stack_name().map(str::to_string))
            .collect();
        names.sort();
        names
    })
}

/// The outputs of a stack in one account and region.
fn outputs_in(moto: &Moto, profile: &str, region: &str, name: &str) -> Vec<(String, String)> {
    let pool = pool(moto);
    common::block_on(async {
        let client = pool
            .cloudformation(&target(profile, region))
            .await
            .expect("client");
        let out = client
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .expect("DescribeStacks");
        let mut outputs: Vec<(String, String)> = out.stacks()[0]
            .outputs()
            .iter()
            .map(|o| {
                (
                    o.output_key().unwrap_or_default().to_string(),
                    o.output_value().unwrap_or_default().to_string(),
                )
            })
            .collect();
        outputs.sort();
        outputs
    })
}

/// The SSM parameters under a path, by name (us-east-1).
fn ssm_values(moto: &Moto, profile: &str, path: &str) -> Vec<(String, String)> {
    ssm_values_in(moto, profile, "us-east-1", path)
}

fn ssm_values_in(moto: &Moto, profile: &str, region: &str, path: &str) -> Vec<(String, String)> {
    let pool = pool(moto);
    common::block_on(async {
        let config = pool.config(&target(profile, region)).await.expect("config");
        let ssm = aws_sdk_ssm::Client::new(&config);
        let out = ssm
            .get_parameters_by_path()
            .path(path)
            .recursive(true)
            .send()
            .await
            .expect("GetParametersByPath");
        let mut values: Vec<(String, String)> = out
            .parameters()
            .iter()
            .map(|p| {
                (
                    p.name().unwrap_or_default().to_string(),
                    p.value().unwrap_or_default().to_string(),
                )
            })
            .collect();
        values.sort();
        values
    })
}

fn value<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {key} in {pairs:?}"))
}

#[test]
fn stacksets_variant_deploys_reruns_as_a_no_op_and_one_parameter_is_one_update() {
    let moto = Moto::start_recording();
    let run = run_seed(&moto, "apply", &[]);
    run.assert_code(0);
    assert!(run.stdout.contains("changed=7 failed=0"), "{}", run.stdout);
    assert!(
        run.stdout.contains("stack set cicd-iam-roles created: instances created in accounts 222222222222, 777777777777 in us-east-1"),
        "{}",
        run.stdout
    );

    // The StackSets roles: administration role in the administrator
    // account, execution role in each target account.
    let admin = stack(&moto, "cicd", "cicd-stackset-administration-role").expect("admin role");
    assert_eq!(
        output(&admin, "AdministrationRoleArn"),
        "arn:aws:iam::111111111111:role/AWSCloudFormationStackSetAdministrationRole"
    );
    for profile in ["nonprod", "prod"] {
        let execution = stack(&moto, profile, "cicd-stackset-execution-role").expect("exec role");
        assert_eq!(param(&execution, "AdministratorAccountId"), "111111111111");
    }

    // One stack set in the CI/CD account, one instance in each target
    // account, each instance's stack in its own account.
    let (parameters, tags) = stack_set(&moto, "cicd", "cicd-iam-roles").expect("the stack set");
    assert_eq!(value(&parameters, "ProdAccountId"), "777777777777");
    assert_eq!(value(&parameters, "CicdAccountId"), "111111111111");
    assert_eq!(value(&tags, "ManagedBy"), "runbook");
    assert_eq!(
        instances(&moto, "cicd-iam-roles"),
        [
            ("222222222222".to_string(), "us-east-1".to_string()),
            ("777777777777".to_string(), "us-east-1".to_string())
        ]
    );
    assert!(!stack_names(&moto, "cicd", "us-east-1").contains(&INSTANCE_STACK.to_string()));
    let nonprod = outputs_in(&moto, "nonprod", "us-east-1", INSTANCE_STACK);
    let prod = outputs_in(&moto, "prod", "us-east-1", INSTANCE_STACK);
    assert_eq!(value(&nonprod, "EnvironmentName"), "nonprod");
    assert_eq!(value(&prod, "EnvironmentName"), "prod");
    assert_eq!(
        value(&nonprod, "CrossAccountRoleArn"),
        "arn:aws:iam::222222222222:role/cicd-nonprod-cross-account"
    );
    assert_eq!(
        value(&prod, "CrossAccountRoleArn"),
        "arn:aws:iam::777777777777:role/cicd-prod-cross-account"
    );

    // Each instance's outputs reach the settings stack and its SSM values
    // in the CI/CD account.
    let settings = stack(&moto, "cicd", "cicd-mgmt-settings").expect("settings");
    assert_eq!(
        param(&settings, "NonProdCrossAccountRoleId"),
        value(&nonprod, "CrossAccountRoleId")
    );
    assert_eq!(
        param(&settings, "ProdCloudFormationRoleArn"),
        value(&prod, "CloudFormationRoleArn")
    );
    let ssm = ssm_values(&moto, "cicd", "/cicd/settings");
    assert_eq!(
        value(&ssm, "/cicd/settings/prod/cross-account-role/arn"),
        value(&prod, "CrossAccountRoleArn")
    );
    assert_eq!(
        value(&ssm, "/cicd/settings/nonprod/cross-account-role/id"),
        value(&nonprod, "CrossAccountRoleId")
    );

    // A rerun changes nothing and makes no mutating call.
    moto.clear_recording();
    let run = run_seed(&moto, "apply", &[]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("ok=11 changed=0 failed=0"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("stack set cicd-iam-roles is up to date"),
        "{}",
        run.stdout
    );
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());
    // The stack set costs two reads: DescribeStackSet, ListStackInstances.
    let calls: Vec<String> = moto
        .recorded_calls()
        .into_iter()
        .filter(|c| c.action.contains("StackSet") || c.action.contains("StackInstance"))
        .map(|c| c.action)
        .collect();
    assert_eq!(
        calls.iter().filter(|a| *a == "DescribeStackSet").count(),
        2,
        "{calls:?}"
    );
    assert_eq!(
        calls.iter().filter(|a| *a == "ListStackInstances").count(),
        2,
        "{calls:?}"
    );

    // One parameter changed: exactly one UpdateStackSet, which covers both
    // instances; nothing else changes.
    moto.clear_recording();
    let boundary = "arn:aws:iam::777777777777:policy/boundary";
    let run = run_seed(
        &moto,
        "apply",
        &["-e", &format!("prod_boundary_policy={boundary}")],
    );
    run.assert_code(0);
    assert!(
        run.stdout.contains("ok=11 changed=1 failed=0"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "parameter ProdPermissionsBoundary: none -> {boundary}"
        )),
        "{}",
        run.stdout
    );
    assert_eq!(mutating_calls(&moto), ["cloudformation UpdateStackSet"]);
    let (parameters, _) = stack_set(&moto, "cicd", "cicd-iam-roles").unwrap();
    assert_eq!(value(&parameters, "ProdPermissionsBoundary"), boundary);
    assert_eq!(value(&parameters, "NonProdPermissionsBoundary"), "none");
    // The operation id runbook sent is the one moto's UpdateStackSet kept.
    let sent = moto.recorded_parameter("cloudformation", "UpdateStackSet", "OperationId");
    assert!(
        sent[0]
            .as_deref()
            .is_some_and(|id| id.starts_with("runbook-UpdateStackSet-")),
        "{sent:?}"
    );
}

#[test]
fn stacksets_variant_check_mode_plans_the_instances_and_changes_nothing() {
    let moto = Moto::start_recording();
    let plan = run_seed(&moto, "apply", &["--check"]);
    plan.assert_code(0);
    for line in [
        "would create stack set cicd-iam-roles with 2 instance(s)",
        "- create instance 222222222222 us-east-1",
        "- create instance 777777777777 us-east-1",
        "- parameter KmsKeyArn = (known after apply)",
        // The settings stack plans with the outputs the instances will have.
        "- parameter ProdCrossAccountRoleArn = (known after apply)",
    ] {
        assert!(plan.stdout.contains(line), "{line}\n{}", plan.stdout);
    }
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());

    run_seed(&moto, "apply", &[]).assert_code(0);
    moto.clear_recording();
    let plan = run_seed(
        &moto,
        "apply",
        &[
            "--check",
            "-e",
            "nonprod_boundary_policy=arn:aws:iam::aws:policy/PowerUserAccess",
        ],
    );
    plan.assert_code(0);
    assert!(
        plan.stdout
            .contains("would update stack set cicd-iam-roles"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(
            "- parameter NonProdPermissionsBoundary: none -> arn:aws:iam::aws:policy/PowerUserAccess"
        ),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("ok=11 changed=1 failed=0"),
        "{}",
        plan.stdout
    );
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());
}

#[test]
fn stacksets_variant_destroy_leaves_nothing() {
    let moto = Moto::start_recording();
    run_seed(&moto, "apply", &[]).assert_code(0);
    moto.clear_recording();
    let plan = run_seed(&moto, "destroy", &["--check"]);
    plan.assert_code(0);
    assert!(
        plan.stdout
            .contains("would delete stack set cicd-iam-roles and its 2 instance(s)"),
        "{}",
        plan.stdout
    );
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());

    let run = run_seed(&moto, "destroy", &[]);
    run.assert_code(0);
    // The stack set goes before the roles StackSets needs to delete it, and
    // after the settings stack that read its outputs.
    let start = |name: &str| {
        run.stdout
            .find(&format!("start    delete {name} "))
            .unwrap_or_else(|| panic!("{name}\n{}", run.stdout))
    };
    assert!(start("cicd-mgmt-settings") < start("stack set cicd-iam-roles"));
    assert!(start("stack set cicd-iam-roles") < start("cicd-stackset-administration-role"));
    assert!(start("stack set cicd-iam-roles") < start("cicd-stackset-execution-role"));

    for (profile, _) in ACCOUNTS {
        for region in ["us-east-1", "us-west-2"] {
            assert_eq!(
                stack_names(&moto, profile, region),
                Vec::<String>::new(),
                "{profile} {region}\n{}",
                run.stdout
            );
        }
    }
    assert_eq!(ssm_values(&moto, "cicd", "/cicd"), Vec::new());
    assert!(stack_set(&moto, "cicd", "cicd-iam-roles").is_none());
    assert_eq!(instances(&moto, "cicd-iam-roles"), Vec::new());
    // The instances' roles went with their stacks.
    for profile in ["nonprod", "prod"] {
        let roles: Vec<String> = common::block_on(async {
            let iam = pool(&moto)
                .iam(&target(profile, "us-east-1"))
                .await
                .expect("iam");
            let out = iam.list_roles().send().await.expect("ListRoles");
            out.roles()
                .iter()
                .map(|r| r.role_name().to_string())
                .collect()
        });
        assert_eq!(roles, Vec::<String>::new(), "{profile}");
    }
    // A second destroy has nothing left to do.
    let again = run_seed(&moto, "destroy", &[]);
    again.assert_code(0);
    assert!(
        again.stdout.contains("changed=0 failed=0"),
        "{}",
        again.stdout
    );
}

const REGIONAL: &str = "Parameters:\n  Env:\n    Type: String\nResources:\n  Setting:\n    Type: AWS::SSM::Parameter\n    Properties:\n      Name: !Sub \"/regional/${Env}\"\n      Type: String\n      Value: !Sub \"${Env} in ${AWS::AccountId} ${AWS::Region}\"\nOutputs:\n  Where:\n    Value: !Sub \"${Env} in ${AWS::AccountId} ${AWS::Region}\"\n  Name:\n    Value: !Ref Setting\n";

fn regional_play(accounts: &str, regions: &str) -> String {
    format!(
        "- hosts: localhost\n  tasks:\n    - name: regional settings\n      community.aws.cloudformation_stack_set:\n        name: regional\n        profile: cicd\n        template: regional.yml\n        accounts: {accounts}\n        regions: {regions}\n        parameters: {{Env: test}}\n        failure_tolerance: {{fail_count: 1, parallel_count: 2}}\n"
    )
}

/// IAM is global, so the roles stack set lives in one region: targets are
/// changed here on a regional template.
#[test]
fn a_new_region_is_one_create_stack_instances_and_a_dropped_account_one_delete() {
    let moto = Moto::start_recording();
    let both = "[\"222222222222\", \"777777777777\"]";
    let (dir, playbook) = scratch(&[
        ("play.yml", &regional_play(both, "[us-east-1]")),
        ("regional.yml", REGIONAL),
    ]);
    let apply = |moto: &Moto| {
        runbook(
            Some(moto),
            &["apply", playbook.to_str().unwrap(), "--wait-timeout", "60"],
        )
    };
    apply(&moto).assert_code(0);
    assert_eq!(instances(&moto, "regional").len(), 2);

    // A region more: exactly one CreateStackInstances, for both accounts.
    std::fs::write(
        dir.path().join("play.yml"),
        regional_play(both, "[us-east-1, us-west-2]"),
    )
    .unwrap();
    moto.clear_recording();
    let check = runbook(
        Some(&moto),
        &["apply", playbook.to_str().unwrap(), "--check"],
    );
    check.assert_code(0);
    assert!(
        check
            .stdout
            .contains("- create instance 222222222222 us-west-2\n"),
        "{}",
        check.stdout
    );
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());
    let run = apply(&moto);
    run.assert_code(0);
    assert_eq!(
        mutating_calls(&moto),
        ["cloudformation CreateStackInstances"]
    );
    let regions =
        moto.recorded_parameter("cloudformation", "CreateStackInstances", "Regions.member.1");
    assert_eq!(regions, [Some("us-west-2".to_string())]);
    for (profile, account) in [("nonprod", "222222222222"), ("prod", "777777777777")] {
        for region in ["us-east-1", "us-west-2"] {
            let outputs = outputs_in(&moto, profile, region, "StackSet:regional");
            assert_eq!(
                value(&outputs, "Where"),
                format!("test in {account} {region}")
            );
            assert_eq!(
                ssm_values_in(&moto, profile, region, "/regional"),
                [(
                    "/regional/test".to_string(),
                    format!("test in {account} {region}")
                )]
            );
        }
    }

    // An account less: exactly one DeleteStackInstances, its stacks gone.
    std::fs::write(
        dir.path().join("play.yml"),
        regional_play("[\"222222222222\"]", "[us-east-1, us-west-2]"),
    )
    .unwrap();
    moto.clear_recording();
    let run = apply(&moto);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("- delete instance 777777777777 us-west-2 (its stack is deleted)"),
        "{}",
        run.stdout
    );
    assert_eq!(
        mutating_calls(&moto),
        ["cloudformation DeleteStackInstances"]
    );
    for region in ["us-east-1", "us-west-2"] {
        assert_eq!(stack_names(&moto, "prod", region), Vec::<String>::new());
        assert_eq!(
            stack_names(&moto, "nonprod", region),
            ["StackSet:regional".to_string()]
        );
    }
    moto.clear_recording();
    apply(&moto).assert_code(0);
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());

    // destroy: nothing left in any target account or region, SSM values
    // of the instances included.
    let run = runbook(Some(&moto), &["destroy", playbook.to_str().unwrap()]);
    run.assert_code(0);
    assert_eq!(instances(&moto, "regional"), Vec::new());
    assert!(stack_set(&moto, "cicd", "regional").is_none());
    for profile in ["nonprod", "prod"] {
        for region in ["us-east-1", "us-west-2"] {
            assert_eq!(stack_names(&moto, profile, region), Vec::<String>::new());
            assert_eq!(
                ssm_values_in(&moto, profile, region, "/regional"),
                Vec::new(),
                "{profile} {region}"
            );
        }
    }
}

/// A saved plan of a stack set is applied exactly, and refused when the
/// stack set moved since; the JSON report carries the plan as data;
/// --diff shows the template's text.
#[test]
fn saved_plans_reports_and_diffs_of_a_stack_set() {
    let moto = Moto::start_recording();
    let both = "[\"222222222222\", \"777777777777\"]";
    let (dir, playbook) = scratch(&[
        ("play.yml", &regional_play(both, "[us-east-1]")),
        ("regional.yml", REGIONAL),
    ]);
    let path = playbook.to_str().unwrap();
    let plan = dir.path().join("plan.json");
    let plan_arg = plan.to_str().unwrap();
    runbook(Some(&moto), &["apply", path]).assert_code(0);

    // Planned, saved, applied: exactly the planned instances.
    std::fs::write(
        dir.path().join("play.yml"),
        regional_play(both, "[us-east-1, us-west-2]"),
    )
    .unwrap();
    let report = dir.path().join("report.json");
    runbook(
        Some(&moto),
        &[
            "apply",
            path,
            "--check",
            "--save-plan",
            plan_arg,
            "--report",
            report.to_str().unwrap(),
        ],
    )
    .assert_code(0);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let task_plan = &report["tasks"][0]["plan"];
    assert_eq!(task_plan["action"], "update", "{report:#}");
    assert_eq!(
        task_plan["instances"]["create"],
        serde_json::json!([{"accounts": ["222222222222", "777777777777"], "regions": ["us-west-2"]}]),
        "{report:#}"
    );
    assert!(task_plan["live"]["stack_set_id"].is_string(), "{report:#}");
    moto.clear_recording();
    let run = runbook(Some(&moto), &["apply", path, "--plan", plan_arg]);
    run.assert_code(0);
    assert_eq!(
        mutating_calls(&moto),
        ["cloudformation CreateStackInstances"]
    );

    // Planned, then the stack set moves out of band: refused, nothing done.
    std::fs::write(
        dir.path().join("play.yml"),
        regional_play(both, "[us-east-1]"),
    )
    .unwrap();
    runbook(
        Some(&moto),
        &["apply", path, "--check", "--save-plan", plan_arg],
    )
    .assert_code(0);
    let other = dir.path().join("other.yml");
    std::fs::write(
        &other,
        regional_play("[\"222222222222\"]", "[us-east-1, us-west-2]"),
    )
    .unwrap();
    runbook(Some(&moto), &["apply", other.to_str().unwrap()]).assert_code(0);
    moto.clear_recording();
    let run = runbook(Some(&moto), &["apply", path, "--plan", plan_arg]);
    run.assert_code(2);
    assert!(
        run.stdout.contains(
            "refused by the saved plan: stack set regional changed since the plan was made"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());

    // --diff: the template's text, as for a stack.
    std::fs::write(
        dir.path().join("regional.yml"),
        REGIONAL.replace(
            "Type: String\n      Value",
            "Type: String\n      Description: a setting\n      Value",
        ),
    )
    .unwrap();
    let run = runbook(Some(&moto), &["apply", path, "--check", "--diff"]);
    run.assert_code(0);
    assert!(run.stdout.contains("- template changed"), "{}", run.stdout);
    assert!(
        run.stdout.contains("+") && run.stdout.contains("Description: a setting"),
        "{}",
        run.stdout
    );
}

/// Every option that does not fit is an error before anything runs,
/// naming the option; an option community.aws lacks is not silently
/// dropped.
#[test]
fn misfit_options_are_errors_that_name_them() {
    let play = |options: &str| {
        format!("- hosts: localhost\n  tasks:\n    - name: s\n      community.aws.cloudformation_stack_set:\n        name: s\n        template_body: 'Resources: {{}}'\n        regions: [us-east-1]\n{options}")
    };
    for (options, wanted) in [
        (
            "        accounts: ['222222222222']\n        failure_tolerance: {fail_cout: 1}\n",
            "option `failure_tolerance` has unknown key `fail_cout`",
        ),
        (
            "        accounts: ['222222222222']\n        deployment_targets: {organizational_units: [ou-ab12-cdef3456]}\n",
            "option `deployment_targets` needs permission_model SERVICE_MANAGED",
        ),
        (
            "        permission_model: SERVICE_MANAGED\n        deployment_targets: {organizational_units: [ou-ab12-cdef3456], acounts: ['222222222222']}\n",
            "option `deployment_targets` has unknown key `acounts`",
        ),
        ("", "state=present needs `accounts`"),
        (
            "        accounts: ['2222']\n",
            "option `accounts`: `2222` is not an AWS account id",
        ),
        (
            "        accounts: ['222222222222']\n        purge_stack_instances: true\n",
            "unknown option `purge_stack_instances`",
        ),
        (
            "        accounts: ['222222222222']\n        access_key: x\n",
            "option `access_key` of community.aws.cloudformation_stack_set is not supported by runbook",
        ),
    ] {
        let (_dir, playbook) = scratch(&[("play.yml", &play(options))]);
        let run = runbook(None, &["validate", playbook.to_str().unwrap()]);
        assert_ne!(run.code, 0, "{options}\n{}", run.stderr);
        assert!(run.stderr.contains(wanted), "{wanted}\n{}", run.stderr);
    }
    let info = "- hosts: localhost\n  tasks:\n    - name: i\n      cloudformation_stack_set_info:\n        name: s\n        instance_profiles: {'222222222222': nonprod}\n";
    let (_dir, playbook) = scratch(&[("play.yml", info)]);
    let run = runbook(None, &["validate", playbook.to_str().unwrap()]);
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("option `instance_profiles` is only used to read the instances' outputs"),
        "{}",
        run.stderr
    );
}

/// The graph: the stack set task acts in the administrator account, keeps
/// file order with the tasks on the same stack set, and a task of that
/// account importing one of its exports (names known before running)
/// waits for it.
#[test]
fn the_graph_orders_by_stack_set_and_by_its_exports() {
    let template = "Resources:\n  P:\n    Type: AWS::SSM::Parameter\n    Properties:\n      Type: String\n      Value: x\nOutputs:\n  P:\n    Value: !Ref P\n    Export:\n      Name: !Sub \"shared-${AWS::Region}-${AWS::AccountId}\"\n";
    let importer = "Resources:\n  Q:\n    Type: AWS::SSM::Parameter\n    Properties:\n      Type: String\n      Value: !ImportValue shared-us-east-1-111111111111\n";
    let play = "- hosts: localhost\n  tasks:\n    - name: importer\n      amazon.aws.cloudformation: {stack_name: imp, profile: cicd, region: us-east-1, template: importer.yml}\n    - name: set\n      community.aws.cloudformation_stack_set: {name: shared, profile: cicd, region: us-east-1, template: shared.yml, accounts: ['111111111111', '222222222222'], regions: [us-east-1]}\n    - name: info\n      cloudformation_stack_set_info: {name: shared, profile: cicd, region: us-east-1}\n";
    let (_dir, playbook) = scratch(&[
        ("play.yml", play),
        ("shared.yml", template),
        ("importer.yml", importer),
    ]);
    let run = runbook(
        None,
        &["graph", playbook.to_str().unwrap(), "--format", "json"],
    );
    run.assert_code(0);
    let graph: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let edges: Vec<(u64, u64, String)> = graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["from"].as_u64().unwrap(),
                e["to"].as_u64().unwrap(),
                e["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        edges.contains(&(1, 0, "export shared-us-east-1-111111111111".to_string())),
        "{edges:?}"
    );
    assert!(
        edges
            .iter()
            .any(|(f, t, r)| (*f, *t) == (1, 2) && r.contains("stack set")),
        "{edges:?}"
    );
}

/// community.aws's own module cannot run on moto 5.2.5: it sends its own
/// OperationId to CreateStackInstances, which moto ignores (it makes up
/// another), so its DescribeStackSetOperation of that id fails, even with
/// `wait: false`. Hence no differential run of it (docs/moto.md).
#[test]
fn community_aws_stack_set_module_fails_on_moto() {
    let moto = Moto::start();
    let (_dir, playbook) = scratch(&[
        (
            "play.yml",
            "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: stack set\n      community.aws.cloudformation_stack_set:\n        name: regional\n        profile: cicd\n        region: us-east-1\n        template: regional.yml\n        accounts: ['222222222222']\n        regions: [us-east-1]\n        parameters: {Env: test}\n        wait: false\n",
        ),
        ("regional.yml", REGIONAL),
    ]);
    let mut cmd =
        std::process::Command::new(common::workspace().join("scripts/ansible-playbook.sh"));
    cmd.current_dir(playbook.parent().unwrap()).arg(&playbook);
    moto.apply_env(&mut cmd);
    let out = cmd
        .output()
        .expect("scripts/ansible-playbook.sh runs (scripts/venv.sh installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("DescribeStackSetOperation")
            && text.contains("Ansible-StackInstance-Create-"),
        "{text}"
    );
    // moto did create the instance, under an operation id of its own.
    assert_eq!(
        instances(&moto, "regional"),
        [("222222222222".to_string(), "us-east-1".to_string())]
    );
}
