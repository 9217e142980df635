//! bench/awsproxy.py over HTTP, with the AWS SDK for Rust: latency mode
//! holds stack operations in progress, fault mode throttles and resets.
//! Fails (does not skip) when the venv is missing.
//!
//! Timing: holds are long enough (seconds) that the call right after an
//! operation sees it in progress on a loaded machine, and the end is
//! waited for with a generous deadline; nothing asserts how long it took.

use std::time::{Duration, Instant};

use aws_sdk_cloudformation::config::retry::RetryConfig;
use aws_sdk_cloudformation::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::types::{Stack, StackStatus};
use runbook_testkit::{Moto, Proxy, ProxyOptions};

const TEMPLATE: &str = r#"{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"},
  "Param": {"Type": "AWS::SSM::Parameter",
            "Properties": {"Name": "/proxy/test", "Type": "String", "Value": "v"}}},
 "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}}}}"#;

/// For more stacks in one account: moto fails a second SSM parameter of
/// the same name (leaving the stack CREATE_IN_PROGRESS).
const TOPIC_ONLY: &str = r#"{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}"#;

/// Deadline for a held operation to end (holds here are a few seconds).
const EVENTUALLY: Duration = Duration::from_secs(90);

fn cloudformation(endpoint: &str, retries: bool) -> aws_sdk_cloudformation::Client {
    let retry = if retries {
        RetryConfig::standard()
    } else {
        RetryConfig::disabled()
    };
    let config = aws_sdk_cloudformation::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .region(Region::new("us-east-1"))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .endpoint_url(endpoint)
        .retry_config(retry)
        .build();
    aws_sdk_cloudformation::Client::from_conf(config)
}

async fn describe(cfn: &aws_sdk_cloudformation::Client, name: &str) -> Option<Stack> {
    match cfn.describe_stacks().stack_name(name).send().await {
        Ok(out) => out.stacks().first().cloned(),
        Err(err) if err.message().is_some_and(|m| m.contains("does not exist")) => None,
        Err(err) => panic!("DescribeStacks {name}: {err:?}"),
    }
}

async fn status(cfn: &aws_sdk_cloudformation::Client, name: &str) -> Option<StackStatus> {
    describe(cfn, name)
        .await
        .and_then(|s| s.stack_status().cloned())
}

/// Polls until the stack's status is `want` (`None`: gone).
async fn eventually(cfn: &aws_sdk_cloudformation::Client, name: &str, want: Option<StackStatus>) {
    let deadline = Instant::now() + EVENTUALLY;
    loop {
        let now = status(cfn, name).await;
        if now == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "stack {name} still {now:?} after {EVENTUALLY:?}, waiting for {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn holds_create_update_and_delete_in_progress() {
    let mut options = ProxyOptions::hold("4s");
    options.seed = 1;
    let (moto, proxy) = Moto::start_with_proxy(&options);
    let cfn = cloudformation(proxy.endpoint(), true);
    let direct = cloudformation(moto.endpoint(), true);

    cfn.create_stack()
        .stack_name("held")
        .template_body(TEMPLATE)
        .client_request_token("token-1")
        .send()
        .await
        .expect("CreateStack through the proxy");
    // moto has finished already; through the proxy the stack is creating,
    // without outputs.
    assert_eq!(
        status(&direct, "held").await,
        Some(StackStatus::CreateComplete)
    );
    let creating = describe(&cfn, "held")
        .await
        .expect("described while creating");
    assert_eq!(
        creating.stack_status(),
        Some(&StackStatus::CreateInProgress)
    );
    assert!(creating.outputs().is_empty(), "{creating:?}");

    // CloudFormation refuses to update a stack in progress.
    let refused = cfn
        .update_stack()
        .stack_name("held")
        .template_body(TEMPLATE.replace("\"v\"", "\"w\""))
        .send()
        .await
        .expect_err("UpdateStack while CREATE_IN_PROGRESS");
    assert_eq!(refused.code(), Some("ValidationError"));
    assert!(
        refused
            .message()
            .is_some_and(|m| m.contains("is in CREATE_IN_PROGRESS state and can not be updated")),
        "{refused:?}"
    );

    eventually(&cfn, "held", Some(StackStatus::CreateComplete)).await;
    let created = describe(&cfn, "held").await.expect("created");
    assert_eq!(created.outputs().len(), 1, "outputs once complete");

    // Events: per resource, newest first, the stack's own at both ends.
    let events = cfn
        .describe_stack_events()
        .stack_name("held")
        .send()
        .await
        .expect("DescribeStackEvents");
    let seen: Vec<(String, String)> = events
        .stack_events()
        .iter()
        .map(|e| {
            (
                e.logical_resource_id().unwrap_or_default().to_string(),
                e.resource_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect();
    let first = |lid: &str, st: &str| seen.iter().position(|(l, s)| l == lid && s == st);
    assert_eq!(first("held", "CREATE_COMPLETE"), Some(0), "{seen:?}");
    assert_eq!(
        first("held", "CREATE_IN_PROGRESS"),
        Some(seen.len() - 1),
        "{seen:?}"
    );
    for lid in ["Topic", "Param"] {
        let done = first(lid, "CREATE_COMPLETE").expect("resource complete event");
        let began = first(lid, "CREATE_IN_PROGRESS").expect("resource in-progress event");
        assert!(done < began, "newest first: {seen:?}");
    }
    assert!(events
        .stack_events()
        .iter()
        .all(|e| e.client_request_token() == Some("token-1")));

    cfn.update_stack()
        .stack_name("held")
        .template_body(TEMPLATE.replace("\"v\"", "\"w\""))
        .send()
        .await
        .expect("UpdateStack once complete");
    let updating = status(&cfn, "held").await;
    assert!(
        matches!(
            updating,
            Some(StackStatus::UpdateInProgress | StackStatus::UpdateCompleteCleanupInProgress)
        ),
        "{updating:?}"
    );
    eventually(&cfn, "held", Some(StackStatus::UpdateComplete)).await;

    // moto forgets a deleted stack at once; the proxy describes it as
    // deleting until its time is up.
    cfn.delete_stack()
        .stack_name("held")
        .send()
        .await
        .expect("DeleteStack");
    assert_eq!(status(&direct, "held").await, None);
    assert_eq!(
        status(&cfn, "held").await,
        Some(StackStatus::DeleteInProgress)
    );
    let listed = cfn.describe_stacks().send().await.expect("DescribeStacks");
    assert!(listed
        .stacks()
        .iter()
        .any(|s| s.stack_name() == Some("held")
            && s.stack_status() == Some(&StackStatus::DeleteInProgress)));
    eventually(&cfn, "held", None).await;

    let log = proxy.log();
    let ops: Vec<&str> = log.ops.iter().map(|o| o.op.as_str()).collect();
    assert_eq!(ops, ["CREATE", "UPDATE", "DELETE"]);
    assert!(log.ops.iter().all(|o| o.hold == Duration::from_secs(4)));
    assert!(log.faults().is_empty());
    assert_eq!(log.count("cloudformation", "CreateStack"), 1);
    assert_eq!(log.count("cloudformation", "UpdateStack"), 2);
    assert!(log.calls.iter().any(|c| c.action == "UpdateStack"
        && c.held.as_deref() == Some("refused")
        && !c.forwarded));
    assert!(log
        .calls
        .iter()
        .all(|c| c.account == runbook_testkit::BASE_ACCOUNT));
}

#[tokio::test]
async fn faults_throttle_and_reset() {
    let moto = Moto::start();
    let direct = cloudformation(moto.endpoint(), true);

    // One throttle, then calls pass: the SDK without retries sees it...
    let throttle = Proxy::start(&moto, &ProxyOptions::faults(1.0, &["throttle"], 1));
    let cfn = cloudformation(throttle.endpoint(), false);
    let err = cfn
        .describe_stacks()
        .send()
        .await
        .expect_err("a throttled call");
    assert_eq!(err.code(), Some("Throttling"), "{err:?}");
    assert_eq!(err.message(), Some("Rate exceeded"));
    cfn.describe_stacks()
        .send()
        .await
        .expect("max faults reached");
    // ...and with its standard retries a throttle is invisible.
    let throttle2 = Proxy::start(&moto, &ProxyOptions::faults(1.0, &["throttle"], 1));
    cloudformation(throttle2.endpoint(), true)
        .describe_stacks()
        .send()
        .await
        .expect("retried past one throttle");
    assert_eq!(throttle2.log().faults_by_kind().get("throttle"), Some(&1));
    assert_eq!(throttle2.log().count("cloudformation", "DescribeStacks"), 2);

    // A reset before forwarding: moto never sees the CreateStack.
    let before = Proxy::start(&moto, &ProxyOptions::faults(1.0, &["reset-before"], 1));
    let err = cloudformation(before.endpoint(), false)
        .create_stack()
        .stack_name("never")
        .template_body(TEMPLATE)
        .send()
        .await
        .expect_err("connection reset");
    assert!(
        matches!(
            err,
            SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
        ),
        "{err:?}"
    );
    assert_eq!(status(&direct, "never").await, None);

    // A reset after forwarding: the stack exists and the answer was lost.
    // The SDK retries with the same ClientRequestToken, and the proxy
    // answers the retry as CloudFormation does: with the first answer.
    let after = Proxy::start(&moto, &ProxyOptions::faults(1.0, &["reset-after"], 1));
    cloudformation(after.endpoint(), true)
        .create_stack()
        .stack_name("lost-answer")
        .template_body(TEMPLATE)
        .client_request_token("token-2")
        .send()
        .await
        .expect("the retry of a CreateStack that got through, same token");
    assert_eq!(
        status(&direct, "lost-answer").await,
        Some(StackStatus::CreateComplete)
    );
    let log = after.log();
    assert_eq!(log.faults_by_kind().get("reset-after"), Some(&1));
    let creates: Vec<_> = log
        .calls
        .iter()
        .filter(|c| c.action == "CreateStack")
        .collect();
    assert_eq!(creates.len(), 2, "{creates:?}");
    assert!(creates[0].forwarded && creates[0].status.is_none());
    assert!(!creates[1].forwarded, "{creates:?}");
    assert_eq!(creates[1].held.as_deref(), Some("token-replay"));
    assert_eq!(creates[1].status, Some(200));

    // Without that, the retry reaches moto, which ignores tokens.
    let mut raw = ProxyOptions::faults(1.0, &["reset-after"], 1);
    raw.client_request_tokens = false;
    let after_raw = Proxy::start(&moto, &raw);
    let err = cloudformation(after_raw.endpoint(), true)
        .create_stack()
        .stack_name("lost-answer-raw")
        .template_body(TOPIC_ONLY)
        .client_request_token("token-3")
        .send()
        .await
        .expect_err("moto answers the retry AlreadyExistsException");
    assert_eq!(err.code(), Some("AlreadyExistsException"), "{err:?}");
    assert_eq!(
        status(&direct, "lost-answer-raw").await,
        Some(StackStatus::CreateComplete)
    );

    let log = before.log();
    assert_eq!(log.faults_by_kind().get("reset-before"), Some(&1));
    assert!(!log.calls[0].forwarded);
}

#[test]
fn refuses_non_loopback_and_missing_upstream() {
    // The CLI checks its arguments before binding anything.
    let python = runbook_testkit::workspace_root().join(".venv/bin/python");
    let script = runbook_testkit::workspace_root().join("bench/awsproxy.py");
    for args in [
        ["--upstream", "http://127.0.0.1:9", "--host", "0.0.0.0"],
        ["--upstream", "http://192.0.2.1:80", "--host", "127.0.0.1"],
    ] {
        let out = std::process::Command::new(&python)
            .arg(&script)
            .args(args)
            .output()
            .expect("run awsproxy.py");
        assert!(!out.status.success(), "{args:?} accepted");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("loopback"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
