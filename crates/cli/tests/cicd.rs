//! The CI/CD baseline end to end on moto: three accounts, outputs feeding
//! parameters across them, a no-op rerun, and a change that touches only
//! the stack it concerns.

mod common;

use common::{mutating_calls, output, param, pool, runbook, stack, with_args, CICD_ARGS};
use runbook_aws::Target;
use runbook_testkit::Moto;

const PLAYBOOK: &str = "playbooks/playbook-cicd-01.yaml";

fn apply(moto: &Moto, extra: &[&str]) -> common::Run {
    let mut args = with_args(
        &[
            "apply",
            PLAYBOOK,
            "--max-attempts",
            "2",
            "--wait-timeout",
            "30",
        ],
        CICD_ARGS,
    );
    args.extend(extra);
    runbook(Some(moto), &args)
}

fn ssm_value(moto: &Moto, profile: &str, name: &str) -> String {
    let pool = pool(moto);
    common::block_on(async {
        let config = pool
            .config(&Target::profile(profile))
            .await
            .expect("config");
        let ssm = aws_sdk_ssm::Client::new(&config);
        let out = ssm
            .get_parameter()
            .name(name)
            .send()
            .await
            .expect("GetParameter");
        out.parameter()
            .and_then(|p| p.value())
            .unwrap_or_default()
            .to_string()
    })
}

#[test]
fn cicd_baseline_deploys_reruns_as_a_no_op_and_updates_only_what_changed() {
    let moto = Moto::start_recording();
    let run = apply(&moto, &[]);
    run.assert_code(0);
    assert!(run.stdout.contains("total"), "{}", run.stdout);
    assert!(run.stdout.contains("changed=5 failed=0"), "{}", run.stdout);

    // Each stack in its own account.
    let kms = stack(&moto, "cicd", "cicd-kms-key").expect("KMS stack in cicd");
    let buckets = stack(&moto, "cicd", "cicd-s3-buckets").expect("buckets in cicd");
    let nonprod = stack(&moto, "nonprod", "cicd-iam-roles-nonprod").expect("roles in nonprod");
    let prod = stack(&moto, "prod", "cicd-iam-roles-prod").expect("roles in prod");
    let settings = stack(&moto, "cicd", "cicd-mgmt-settings").expect("settings in cicd");
    assert!(stack(&moto, "nonprod", "cicd-kms-key").is_none());
    assert!(stack(&moto, "cicd", "cicd-iam-roles-prod").is_none());

    // The KMS key ARN of the CI/CD account reaches non-prod and prod.
    let key_arn = output(&kms, "KmsKeyArn");
    assert!(
        key_arn.starts_with("arn:aws:kms:us-east-1:111111111111:key/"),
        "{key_arn}"
    );
    assert_eq!(param(&buckets, "KmsKeyArn"), key_arn);
    assert_eq!(param(&nonprod, "KmsKeyArn"), key_arn);
    assert_eq!(param(&prod, "KmsKeyArn"), key_arn);
    assert_eq!(param(&nonprod, "CicdAccountId"), "111111111111");
    assert_eq!(param(&kms, "NonProdAccountId"), "222222222222");
    assert_eq!(param(&kms, "ProdAccountId"), "777777777777");
    assert_eq!(
        param(&nonprod, "ArtifactsBucketName"),
        output(&buckets, "ArtifactsBucketName")
    );

    // The roles of non-prod and prod reach the settings stack and its SSM
    // parameters in the CI/CD account.
    let nonprod_role = output(&nonprod, "CrossAccountRoleArn");
    let prod_role = output(&prod, "CrossAccountRoleArn");
    assert!(
        nonprod_role.starts_with("arn:aws:iam::222222222222:role/"),
        "{nonprod_role}"
    );
    assert!(
        prod_role.starts_with("arn:aws:iam::777777777777:role/"),
        "{prod_role}"
    );
    assert_eq!(param(&settings, "NonProdCrossAccountRoleArn"), nonprod_role);
    assert_eq!(param(&settings, "ProdCrossAccountRoleArn"), prod_role);
    assert_eq!(
        ssm_value(
            &moto,
            "cicd",
            "/cicd/settings/nonprod/cross-account-role/arn"
        ),
        nonprod_role
    );
    assert_eq!(
        ssm_value(&moto, "cicd", "/cicd/settings/prod/cross-account-role/arn"),
        prod_role
    );
    assert_eq!(
        ssm_value(&moto, "cicd", "/cicd/settings/prod/account-id"),
        "777777777777"
    );
    assert_eq!(
        prod.tags,
        [
            ("Environment".to_string(), "prod".to_string()),
            ("ManagedBy".to_string(), "runbook".to_string()),
            ("Project".to_string(), "cicd-baseline".to_string()),
        ]
    );

    // A rerun changes nothing and makes no mutating call; each unchanged
    // stack costs at most two CloudFormation reads.
    moto.clear_recording();
    let run = apply(&moto, &[]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("ok=8 changed=0 failed=0"),
        "{}",
        run.stdout
    );
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());
    let cfn_calls = moto
        .recorded_calls()
        .iter()
        .filter(|c| c.service == "cloudformation")
        .count();
    assert!(cfn_calls <= 2 * 5, "{:?}", moto.recorded_calls());

    // One -e changed: only the prod roles stack is updated; the settings
    // stack reads its outputs, which do not change.
    moto.clear_recording();
    let boundary = "arn:aws:iam::777777777777:policy/boundary";
    let run = apply(&moto, &["-e", &format!("prod_boundary_policy={boundary}")]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("ok=8 changed=1 failed=0"),
        "{}",
        run.stdout
    );
    assert_eq!(mutating_calls(&moto), ["cloudformation UpdateStack"]);
    assert_eq!(
        param(
            &stack(&moto, "prod", "cicd-iam-roles-prod").unwrap(),
            "PermissionsBoundary"
        ),
        boundary
    );
    assert_eq!(
        param(
            &stack(&moto, "nonprod", "cicd-iam-roles-nonprod").unwrap(),
            "PermissionsBoundary"
        ),
        "none"
    );
}

#[test]
fn cicd_check_mode_on_an_empty_account_plans_everything_and_changes_nothing() {
    let moto = Moto::start_recording();
    let run = apply(&moto, &["--check"]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("would create stack cicd-mgmt-settings"),
        "{}",
        run.stdout
    );
    // Values that exist only after apply are shown as such.
    assert!(
        run.stdout
            .contains("parameter KmsKeyArn = (known after apply)"),
        "{}",
        run.stdout
    );
    assert_eq!(mutating_calls(&moto), Vec::<String>::new());
}
