//! ClientPool against real moto servers (the tests fail if moto_server is
//! missing: run scripts/venv.sh).

use std::time::Duration;

use runbook_aws::{AwsError, ClientPool, PoolSettings, Target};
use runbook_testkit::{Moto, PROFILES};

const TEMPLATE: &str = r#"{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}"#;

fn settings(overrides: Vec<(String, String)>) -> PoolSettings {
    PoolSettings {
        max_attempts: 1,
        env_overrides: Some(overrides),
        connect_timeout: Duration::from_secs(2),
        operation_attempt_timeout: Duration::from_secs(30),
        operation_timeout: Duration::from_secs(60),
    }
}

fn pool(moto: &Moto) -> ClientPool {
    ClientPool::new(settings(moto.env_overrides()))
}

/// The moto config plus extra profile sections, in the server's scratch dir.
fn overrides_with_profiles(moto: &Moto, extra: &str) -> Vec<(String, String)> {
    let base = std::fs::read_to_string(moto.config_file()).expect("moto config file");
    let path = moto.dir().join("config-extra");
    std::fs::write(&path, format!("{base}\n{extra}")).expect("write config");
    moto.env_overrides()
        .into_iter()
        .map(|(k, v)| {
            if k == "AWS_CONFIG_FILE" {
                (k, path.display().to_string())
            } else {
                (k, v)
            }
        })
        .collect()
}

#[tokio::test]
async fn three_profiles_are_three_accounts() {
    let moto = Moto::start_recording();
    let pool = pool(&moto);
    let targets: Vec<Target> = PROFILES.iter().map(|(p, _)| Target::profile(*p)).collect();
    let results = pool.preflight(&targets).await;
    assert_eq!(results.len(), 3);
    for ((target, result), (profile, account)) in results.iter().zip(PROFILES) {
        assert_eq!(target.profile.as_deref(), Some(*profile));
        let found = result
            .as_ref()
            .unwrap_or_else(|e| panic!("preflight of {target}: {e}"));
        assert_eq!(found, account, "{target}");
    }
    // The AssumeRole answer names the account: no GetCallerIdentity.
    assert_eq!(moto.count_calls("sts", "AssumeRole"), 3);
    assert_eq!(
        moto.count_calls("sts", "GetCallerIdentity"),
        0,
        "{:?}",
        moto.recorded_calls()
    );
    // The full identity is still there for aws_caller_info, and agrees.
    for (profile, account) in PROFILES {
        let identity = pool
            .identity(&Target::profile(*profile))
            .await
            .expect("identity");
        assert_eq!(identity.account, *account);
        assert!(
            identity.arn.contains(":assumed-role/runbook-moto/"),
            "{}",
            identity.arn
        );
    }
    assert_eq!(moto.count_calls("sts", "GetCallerIdentity"), 3);
}

#[tokio::test]
async fn clients_act_in_the_profiles_account() {
    let moto = Moto::start();
    let pool = pool(&moto);
    let cicd = pool
        .cloudformation(&Target::profile("cicd"))
        .await
        .expect("cicd client");
    cicd.create_stack()
        .stack_name("only-in-cicd")
        .template_body(TEMPLATE)
        .send()
        .await
        .expect("CreateStack");
    let stack_id = |client: aws_sdk_cloudformation::Client| async move {
        let out = client
            .describe_stacks()
            .send()
            .await
            .expect("DescribeStacks");
        out.stacks()
            .iter()
            .filter_map(|s| s.stack_id().map(str::to_string))
            .collect::<Vec<_>>()
    };
    let ids = stack_id(cicd).await;
    assert_eq!(ids.len(), 1);
    assert!(
        ids[0].contains(":111111111111:stack/only-in-cicd/"),
        "{ids:?}"
    );
    let nonprod = pool
        .cloudformation(&Target::profile("nonprod"))
        .await
        .expect("nonprod client");
    assert!(stack_id(nonprod).await.is_empty());
}

#[tokio::test]
async fn a_target_loads_and_assumes_its_role_once() {
    let moto = Moto::start_recording();
    let pool = pool(&moto);
    let target = Target::profile("prod");
    // Concurrent first callers must share one load.
    let (a, b, c, d) = tokio::join!(
        pool.config(&target),
        pool.cloudformation(&target),
        pool.identity(&target),
        pool.preflight(std::slice::from_ref(&target)),
    );
    a.expect("config");
    b.expect("cloudformation");
    c.expect("identity");
    assert!(d[0].1.is_ok());
    pool.cloudformation(&target)
        .await
        .expect("cloudformation")
        .describe_stacks()
        .send()
        .await
        .expect("DescribeStacks");
    pool.iam(&target)
        .await
        .expect("iam")
        .list_roles()
        .send()
        .await
        .expect("ListRoles");
    assert_eq!(
        pool.identity(&target).await.expect("identity").account,
        "777777777777"
    );

    assert_eq!(pool.loads(), 1);
    assert_eq!(
        moto.count_calls("sts", "AssumeRole"),
        1,
        "{:?}",
        moto.recorded_calls()
    );
    assert_eq!(moto.count_calls("sts", "GetCallerIdentity"), 1);
    assert_eq!(moto.count_calls("cloudformation", "DescribeStacks"), 1);
    assert_eq!(moto.count_calls("iam", "ListRoles"), 1);

    // A different region is a different target.
    pool.identity(&target.clone().with_region("eu-west-1"))
        .await
        .expect("identity in eu-west-1");
    assert_eq!(pool.loads(), 2);
}

#[tokio::test]
async fn unknown_profile_is_named() {
    let moto = Moto::start();
    let pool = pool(&moto);
    let err = pool
        .identity(&Target::profile("staging"))
        .await
        .expect_err("unknown profile");
    let text = err.to_string();
    assert!(
        matches!(&err, AwsError::Profile { profile, .. } if profile == "staging"),
        "{err:?}"
    );
    assert!(text.contains("profile `staging` is not in"), "{text}");
    assert!(
        text.contains(&moto.config_file().display().to_string()),
        "{text}"
    );
    assert!(text.contains("cicd"), "lists the known profiles: {text}");
}

#[tokio::test]
async fn target_endpoint_reaches_the_assume_role_call() {
    // Two servers, no AWS_ENDPOINT_URL anywhere: each target's endpoint must
    // carry its STS AssumeRole as well as its service calls.
    let first = Moto::start_recording();
    let second = Moto::start_recording();
    let pool = ClientPool::new(settings(first.env_overrides_without_endpoint()));
    assert!(!pool
        .settings()
        .env_overrides
        .iter()
        .flatten()
        .any(|(k, _)| k.starts_with("AWS_ENDPOINT_URL")));
    let a = Target::profile("nonprod").with_endpoint_url(first.endpoint());
    let b = Target::profile("cicd").with_endpoint_url(second.endpoint());
    let results = pool.preflight(&[a.clone(), b.clone()]).await;
    let accounts: Vec<String> = results
        .into_iter()
        .map(|(t, r)| r.unwrap_or_else(|e| panic!("{t}: {e}")))
        .collect();
    assert_eq!(accounts, ["222222222222", "111111111111"]);
    pool.cloudformation(&b)
        .await
        .expect("client")
        .describe_stacks()
        .send()
        .await
        .expect("DescribeStacks");

    for moto in [&first, &second] {
        assert_eq!(moto.count_calls("sts", "AssumeRole"), 1);
        assert_eq!(moto.count_calls("sts", "GetCallerIdentity"), 0);
    }
    assert_eq!(first.count_calls("cloudformation", "DescribeStacks"), 0);
    assert_eq!(second.count_calls("cloudformation", "DescribeStacks"), 1);
}

#[tokio::test]
async fn missing_credentials_name_the_profile() {
    let moto = Moto::start();
    let overrides = overrides_with_profiles(
        &moto,
        "[profile empty]\nregion = us-east-1\n\n\
         [profile chained]\nrole_arn = arn:aws:iam::111111111111:role/x\n\
         source_profile = empty\nregion = us-east-1\n",
    );
    let pool = ClientPool::new(settings(overrides));

    let err = pool
        .identity(&Target::profile("empty"))
        .await
        .expect_err("no credentials");
    assert!(matches!(err, AwsError::Credentials { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("profile empty, default region: "),
        "{text}"
    );
    assert!(text.contains("credentials for profile `empty`"), "{text}");

    let err = pool
        .identity(&Target::profile("chained"))
        .await
        .expect_err("source profile without credentials");
    assert!(matches!(err, AwsError::Credentials { .. }), "{err:?}");
    assert!(err.to_string().contains("profile `chained`"), "{err}");

    // Credentials errors may heal (e.g. after an SSO login): not cached.
    let before = pool.loads();
    let _ = pool.config(&Target::profile("empty")).await;
    assert_eq!(pool.loads(), before + 1);
}

#[tokio::test]
async fn failed_assume_role_names_the_profile() {
    let moto = Moto::start();
    // A loopback port nobody listens on: AssumeRole cannot connect.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let pool = pool(&moto);
    let target = Target::profile("cicd").with_endpoint_url(format!("http://127.0.0.1:{closed}"));
    let err = pool.identity(&target).await.expect_err("unreachable STS");
    let text = err.to_string();
    assert!(text.contains("profile `cicd`"), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{closed}")), "{text}");
}

#[tokio::test]
async fn ambient_static_keys_are_the_base_account() {
    let moto = Moto::start();
    let mut overrides = moto.env_overrides();
    overrides.extend([
        ("AWS_ACCESS_KEY_ID".to_string(), "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), "testing".to_string()),
        ("AWS_REGION".to_string(), "us-east-1".to_string()),
    ]);
    let pool = ClientPool::new(settings(overrides));
    let identity = pool.identity(&Target::ambient()).await.expect("identity");
    assert_eq!(identity.account, runbook_testkit::BASE_ACCOUNT);
    // Static keys name no account: preflight asks STS, which checks them.
    let preflight = pool.preflight(&[Target::ambient()]).await;
    assert_eq!(
        preflight[0].1.as_deref().expect("preflight"),
        runbook_testkit::BASE_ACCOUNT
    );
    // A named profile wins over the ambient keys.
    let identity = pool
        .identity(&Target::profile("prod"))
        .await
        .expect("identity");
    assert_eq!(identity.account, "777777777777");
}
