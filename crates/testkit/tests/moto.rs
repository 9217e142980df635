//! The testkit against a real moto_server (fails if it is missing).

use aws_sdk_cloudformation::config::{BehaviorVersion, Credentials, Region};
use runbook_testkit::{Moto, RecordedCall};

const TEMPLATE: &str = r#"{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}"#;

/// A CloudFormation client with static keys pointed at the server, built
/// without aws-config so that no process environment is involved.
fn cloudformation(moto: &Moto) -> aws_sdk_cloudformation::Client {
    let config = aws_sdk_cloudformation::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .region(Region::new("us-east-1"))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .endpoint_url(moto.endpoint())
        .build();
    aws_sdk_cloudformation::Client::from_conf(config)
}

async fn stack_names(cfn: &aws_sdk_cloudformation::Client) -> Vec<String> {
    let out = cfn
        .describe_stacks()
        .send()
        .await
        .expect("DescribeStacks against moto");
    out.stacks()
        .iter()
        .filter_map(|s| s.stack_name().map(str::to_string))
        .collect()
}

#[test]
fn start_writes_profiles_and_env() {
    let moto = Moto::start();
    assert!(moto.endpoint().starts_with("http://127.0.0.1:"));
    let config = std::fs::read_to_string(moto.config_file()).expect("config file");
    for (profile, account) in runbook_testkit::PROFILES {
        assert!(config.contains(&format!("[profile {profile}]")), "{config}");
        assert!(config.contains(&format!("arn:aws:iam::{account}:role/")));
    }
    let credentials = std::fs::read_to_string(moto.credentials_file()).expect("credentials");
    assert!(credentials.contains("[base]"));
    let env = moto.env();
    assert!(env
        .iter()
        .any(|(k, v)| k == "AWS_ENDPOINT_URL" && v == moto.endpoint()));
    assert!(env
        .iter()
        .any(|(k, v)| k == "AWS_EC2_METADATA_DISABLED" && v == "true"));
    assert!(Moto::REMOVE_ENV.contains(&"AWS_PROFILE"));
}

#[tokio::test]
async fn reset_wipes_stacks() {
    let moto = Moto::start();
    let cfn = cloudformation(&moto);
    cfn.create_stack()
        .stack_name("kept-until-reset")
        .template_body(TEMPLATE)
        .send()
        .await
        .expect("CreateStack against moto");
    assert_eq!(stack_names(&cfn).await, ["kept-until-reset"]);
    moto.reset();
    assert!(stack_names(&cfn).await.is_empty());
}

#[tokio::test]
async fn recording_counts_calls() {
    let moto = Moto::start_recording();
    assert!(
        moto.recorded_calls().is_empty(),
        "start-up probes are cleared"
    );
    let cfn = cloudformation(&moto);
    cfn.create_stack()
        .stack_name("recorded")
        .template_body(TEMPLATE)
        .send()
        .await
        .expect("CreateStack against moto");
    stack_names(&cfn).await;
    moto.reset();

    let calls = moto.recorded_calls();
    let create = RecordedCall {
        service: "cloudformation".into(),
        action: "CreateStack".into(),
        method: "POST".into(),
    };
    assert_eq!(
        calls.iter().filter(|c| **c == create).count(),
        1,
        "{calls:?}"
    );
    assert_eq!(moto.count_calls("cloudformation", "DescribeStacks"), 1);
    assert_eq!(
        calls.iter().filter(|c| c.is_mutating()).count(),
        1,
        "only CreateStack mutates; moto-api calls are left out: {calls:?}"
    );

    moto.clear_recording();
    assert!(moto.recorded_calls().is_empty());
}

#[test]
fn servers_are_independent() {
    let a = Moto::start();
    let b = Moto::start();
    assert_ne!(a.endpoint(), b.endpoint());
    assert_ne!(a.config_file(), b.config_file());
}
