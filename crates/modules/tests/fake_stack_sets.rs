//! What moto 5.2.5 cannot show of stack sets (its operations succeed at
//! once; SERVICE_MANAGED targets create no instance; it ignores caller
//! OperationIds and CallAs), exercised against an IN-PROCESS FAKE of the
//! CloudFormation query API: a tiny HTTP server in this test that answers
//! with canned XML. The real SDK client, pool and module talk to it over
//! HTTP, as they would to AWS. Each test's handler is the fake's whole
//! behaviour; every request is recorded with its form body.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use runbook_aws::{ClientPool, PoolSettings};
use runbook_executor::{run, Event, Reporter, RunOptions, Status};
use runbook_module::Services;
use runbook_modules::{AwsContext, RunnerSettings};

const NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
const TEMPLATE: &str = "Parameters:\n  Env:\n    Type: String\n  Secret:\n    Type: String\n    NoEcho: true\n    Default: x\nResources:\n  T:\n    Type: AWS::SNS::Topic\nOutputs:\n  Topic:\n    Value: !Ref T\n";

/// Gets the action and the form body; answers status and XML.
type Handler = dyn Fn(&str, &str) -> (u16, String) + Send + Sync;

struct Fake {
    endpoint: String,
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

fn form_value(body: &str, key: &str) -> Option<String> {
    body.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| decode(v))
    })
}

/// Percent-decoding of a form value.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Fake {
    fn start(handler: Arc<Handler>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let handler = handler.clone();
                let recorded = recorded.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                    let mut stream = stream;
                    loop {
                        let mut length = 0usize;
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        loop {
                            line.clear();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            let header = line.trim_end();
                            if header.is_empty() {
                                break;
                            }
                            if let Some((k, v)) = header.split_once(':') {
                                if k.eq_ignore_ascii_case("content-length") {
                                    length = v.trim().parse().unwrap_or(0);
                                }
                            }
                        }
                        let mut body = vec![0; length];
                        if reader.read_exact(&mut body).is_err() {
                            return;
                        }
                        let body = String::from_utf8_lossy(&body).into_owned();
                        let action = form_value(&body, "Action").unwrap_or_default();
                        recorded
                            .lock()
                            .unwrap()
                            .push((action.clone(), body.clone()));
                        let (status, xml) = handler(&action, &body);
                        let reply = format!(
                            "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{xml}",
                            xml.len()
                        );
                        if stream.write_all(reply.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Fake { endpoint, requests }
    }

    /// CloudFormation actions in order (the pool's STS calls left out).
    fn actions(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|(a, _)| a.clone())
            .filter(|a| a != "GetCallerIdentity")
            .collect()
    }

    /// A form value of each request of `action`, oldest first.
    fn parameter(&self, action: &str, key: &str) -> Vec<Option<String>> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(a, _)| a == action)
            .map(|(_, body)| form_value(body, key))
            .collect()
    }

    /// Every form value of `action`'s requests whose key starts with
    /// `prefix`, as `key=value`, sorted.
    fn parameters(&self, action: &str, prefix: &str) -> Vec<Vec<String>> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(a, _)| a == action)
            .map(|(_, body)| {
                let mut values: Vec<String> = body
                    .split('&')
                    .filter(|kv| kv.starts_with(prefix))
                    .map(decode)
                    .collect();
                values.sort();
                values
            })
            .collect()
    }
}

fn ok(action: &str, result: &str) -> (u16, String) {
    (
        200,
        format!("<{action}Response xmlns=\"{NS}\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{action}Response>"),
    )
}

fn error_with(status: u16, code: &str, message: &str) -> (u16, String) {
    let kind = if status >= 500 { "Receiver" } else { "Sender" };
    (
        status,
        format!("<ErrorResponse xmlns=\"{NS}\"><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"),
    )
}

fn error(code: &str, message: &str) -> (u16, String) {
    error_with(400, code, message)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// DescribeStackSet of stack set `s`: SELF_MANAGED, or SERVICE_MANAGED
/// targeting `ous`; parameter Env, Secret masked as AWS masks NoEcho.
fn stack_set(env: &str, service_ous: Option<&[&str]>) -> (u16, String) {
    let model = match service_ous {
        Some(ous) => format!(
            "<PermissionModel>SERVICE_MANAGED</PermissionModel><AutoDeployment><Enabled>true</Enabled><RetainStacksOnAccountRemoval>false</RetainStacksOnAccountRemoval></AutoDeployment><OrganizationalUnitIds>{}</OrganizationalUnitIds><Regions><member>us-east-1</member></Regions>",
            ous.iter().map(|ou| format!("<member>{ou}</member>")).collect::<String>()
        ),
        None => "<PermissionModel>SELF_MANAGED</PermissionModel><AdministrationRoleARN>arn:aws:iam::111111111111:role/AWSCloudFormationStackSetAdministrationRole</AdministrationRoleARN><ExecutionRoleName>AWSCloudFormationStackSetExecutionRole</ExecutionRoleName>".to_string(),
    };
    ok(
        "DescribeStackSet",
        &format!(
            "<StackSet><StackSetName>s</StackSetName><StackSetId>s:1</StackSetId><Status>ACTIVE</Status><TemplateBody>{}</TemplateBody><Parameters><member><ParameterKey>Env</ParameterKey><ParameterValue>{env}</ParameterValue></member><member><ParameterKey>Secret</ParameterKey><ParameterValue>****</ParameterValue></member></Parameters><Tags></Tags>{model}</StackSet>",
            xml_escape(TEMPLATE)
        ),
    )
}

/// ListStackInstances: (account, region, OU, status).
fn instances(list: &[(&str, &str, Option<&str>, &str)]) -> (u16, String) {
    let members: String = list
        .iter()
        .map(|(account, region, ou, status)| {
            format!(
                "<member><StackSetId>s:1</StackSetId><Region>{region}</Region><Account>{account}</Account><StackId>arn:aws:cloudformation:{region}:{account}:stack/StackSet-s-1/x</StackId><Status>{status}</Status>{}</member>",
                ou.map(|ou| format!("<OrganizationalUnitId>{ou}</OrganizationalUnitId>")).unwrap_or_default()
            )
        })
        .collect();
    ok(
        "ListStackInstances",
        &format!("<Summaries>{members}</Summaries>"),
    )
}

fn operation(id: &str, action: &str, status: &str) -> (u16, String) {
    ok(
        "DescribeStackSetOperation",
        &format!("<StackSetOperation><OperationId>{id}</OperationId><StackSetId>s:1</StackSetId><Action>{action}</Action><Status>{status}</Status></StackSetOperation>"),
    )
}

fn started(action: &str, id: &str) -> (u16, String) {
    ok(action, &format!("<OperationId>{id}</OperationId>"))
}

#[derive(Default)]
struct Collect(Mutex<Vec<Event>>);

impl Reporter for Collect {
    fn event(&self, event: Event) {
        self.0.lock().unwrap().push(event);
    }
}

/// Runs a one-task playbook of `community.aws.cloudformation_stack_set`
/// (`options` in YAML flow style, besides name, endpoint and template)
/// against the fake; returns the task's status and every event as text.
async fn apply(fake: &Fake, options: &str, check: bool, attempts: u32) -> (Option<Status>, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.yml"), TEMPLATE).unwrap();
    let play = format!(
        "- hosts: localhost\n  tasks:\n    - name: set\n      community.aws.cloudformation_stack_set:\n        name: s\n        region: us-east-1\n        endpoint_url: {}\n        template: t.yml\n{options}      register: s\n",
        fake.endpoint
    );
    let path = dir.path().join("p.yml");
    std::fs::write(&path, play).unwrap();
    let vars = IndexMap::new();
    let playbook =
        Arc::new(runbook_playbook::load(&path, &vars, &runbook_modules::registry()).unwrap());
    let graph = runbook_graph::build(&playbook, &vars).unwrap();
    let pool = ClientPool::new(PoolSettings {
        max_attempts: attempts,
        env_overrides: Some(vec![
            ("AWS_ACCESS_KEY_ID".into(), "fake".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "fake".into()),
            ("AWS_CONFIG_FILE".into(), "/nonexistent".into()),
            ("AWS_SHARED_CREDENTIALS_FILE".into(), "/nonexistent".into()),
        ]),
        ..PoolSettings::default()
    });
    let aws = AwsContext::new(
        pool,
        RunnerSettings {
            wait_timeout: std::time::Duration::from_secs(10),
            first_poll: std::time::Duration::from_millis(5),
            max_poll: std::time::Duration::from_millis(10),
            ..RunnerSettings::default()
        },
    );
    let reporter = Arc::new(Collect::default());
    let summary = run(
        playbook,
        &graph,
        Arc::new(vars),
        Arc::new(Services::new().with(Arc::new(aws))),
        RunOptions {
            check,
            ..RunOptions::default()
        },
        reporter.clone(),
    )
    .await;
    let text = reporter
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|e| match e {
            Event::Progress { message, .. } => format!("progress: {message}\n"),
            Event::Finished {
                message, details, ..
            } => {
                let mut text = format!("finished: {}\n", message.clone().unwrap_or_default());
                for d in details {
                    text.push_str(&format!("  - {d}\n"));
                }
                text
            }
            Event::Started { .. } => String::new(),
        })
        .collect();
    (summary.records[0].as_ref().map(|r| r.status), text)
}

const SELF_MANAGED: &str =
    "        accounts: ['222222222222', '777777777777']\n        regions: [us-east-1]\n        parameters: {Env: b}\n";

/// A stack set another operation is working on: the update is refused
/// (OperationInProgressException), runbook waits for that operation, then
/// looks again and updates once.
#[tokio::test]
async fn an_operation_in_progress_is_waited_for_then_reconciled() {
    let polls = Arc::new(Mutex::new(0));
    let refused = Arc::new(Mutex::new(false));
    let (p, r) = (polls.clone(), refused.clone());
    let fake = Fake::start(Arc::new(move |action: &str, body: &str| {
        let mut polls = p.lock().unwrap();
        let mut refused = r.lock().unwrap();
        match action {
            "DescribeStackSet" => stack_set("a", None),
            "ListStackInstances" => instances(&[
                ("222222222222", "us-east-1", None, "CURRENT"),
                ("777777777777", "us-east-1", None, "CURRENT"),
            ]),
            "UpdateStackSet" if !*refused => {
                *refused = true;
                error(
                    "OperationInProgressException",
                    "Another Operation on StackSet s is in progress",
                )
            }
            "UpdateStackSet" => started(action, "mine"),
            "ListStackSetOperations" => ok(
                action,
                "<Summaries><member><OperationId>theirs</OperationId><Action>UPDATE</Action><Status>RUNNING</Status></member></Summaries>",
            ),
            "DescribeStackSetOperation" if form_value(body, "OperationId").as_deref() == Some("theirs") => {
                *polls += 1;
                operation("theirs", "UPDATE", if *polls < 3 { "RUNNING" } else { "SUCCEEDED" })
            }
            "DescribeStackSetOperation" => operation("mine", "UPDATE", "SUCCEEDED"),
            _ => error("InvalidAction", "not faked"),
        }
    }));
    let (status, text) = apply(&fake, SELF_MANAGED, false, 1).await;
    assert_eq!(status, Some(Status::Changed), "{text}");
    assert!(
        text.contains("another operation (theirs) is running on the stack set: waiting for it"),
        "{text}"
    );
    assert!(text.contains("finished: stack set s updated"), "{text}");
    assert_eq!(*polls.lock().unwrap(), 3);
    assert_eq!(
        fake.actions(),
        [
            "DescribeStackSet",
            "ListStackInstances",
            "UpdateStackSet",
            "ListStackSetOperations",
            "DescribeStackSetOperation",
            "DescribeStackSetOperation",
            "DescribeStackSetOperation",
            "DescribeStackSet",
            "ListStackInstances",
            "UpdateStackSet",
            "DescribeStackSetOperation",
            "DescribeStackSet",
            "ListStackInstances",
        ]
    );
    // Two attempts at the update, each with an OperationId of its own.
    let ids = fake.parameter("UpdateStackSet", "OperationId");
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
}

/// A failed operation names each instance that failed, with its account,
/// region and reason (ListStackSetOperationResults).
#[tokio::test]
async fn a_failed_operation_reports_each_failing_instance() {
    let fake = Fake::start(Arc::new(|action: &str, _body: &str| {
        match action {
        "DescribeStackSet" => stack_set("b", None),
        "ListStackInstances" => instances(&[("222222222222", "us-east-1", None, "CURRENT")]),
        "CreateStackInstances" => started(action, "op-1"),
        "DescribeStackSetOperation" => ok(
            action,
            "<StackSetOperation><OperationId>op-1</OperationId><Action>CREATE</Action><Status>FAILED</Status><StatusReason>The Operation op-1 has failed to create Stack Instances.</StatusReason></StackSetOperation>",
        ),
        "ListStackSetOperationResults" => ok(
            action,
            "<Summaries><member><Account>777777777777</Account><Region>us-east-1</Region><Status>FAILED</Status><StatusReason>Account 777777777777 should have 'AWSCloudFormationStackSetExecutionRole' role with trust relationship to Role 'AWSCloudFormationStackSetAdministrationRole'.</StatusReason></member></Summaries>",
        ),
        _ => error("InvalidAction", "not faked"),
    }
    }));
    let (status, text) = apply(&fake, SELF_MANAGED, false, 1).await;
    assert_eq!(status, Some(Status::Failed), "{text}");
    assert!(
        text.contains("stack set s: creating instances in accounts 777777777777 in us-east-1 failed: operation op-1 FAILED (The Operation op-1 has failed to create Stack Instances.)"),
        "{text}"
    );
    assert!(
        text.contains("  - 777777777777 us-east-1: FAILED: Account 777777777777 should have 'AWSCloudFormationStackSetExecutionRole' role"),
        "{text}"
    );
}

/// The OperationId is made once per call: the SDK's retry of an update
/// whose answer was lost carries the same one, so CloudFormation sees one
/// operation, not two.
#[tokio::test]
async fn a_retried_update_carries_the_same_operation_id() {
    let attempts = Arc::new(Mutex::new(0));
    let a = attempts.clone();
    let fake = Fake::start(Arc::new(move |action: &str, body: &str| match action {
        "DescribeStackSet" => stack_set("a", None),
        "ListStackInstances" => instances(&[
            ("222222222222", "us-east-1", None, "CURRENT"),
            ("777777777777", "us-east-1", None, "CURRENT"),
        ]),
        "UpdateStackSet" => {
            let mut attempts = a.lock().unwrap();
            *attempts += 1;
            if *attempts == 1 {
                error_with(500, "InternalFailure", "lost")
            } else {
                started(action, &form_value(body, "OperationId").unwrap_or_default())
            }
        }
        "DescribeStackSetOperation" => operation(
            &form_value(body, "OperationId").unwrap_or_default(),
            "UPDATE",
            "SUCCEEDED",
        ),
        _ => error("InvalidAction", "not faked"),
    }));
    let (status, text) = apply(&fake, SELF_MANAGED, false, 2).await;
    assert_eq!(status, Some(Status::Changed), "{text}");
    let ids = fake.parameter("UpdateStackSet", "OperationId");
    assert_eq!(ids.len(), 2, "{:?}", fake.actions());
    let first = ids[0].clone().expect("an operation id");
    assert!(first.starts_with("runbook-UpdateStackSet-"), "{first}");
    assert_eq!(ids[1].as_deref(), Some(first.as_str()));
    // The wait is for that same operation.
    assert_eq!(
        fake.parameter("DescribeStackSetOperation", "OperationId"),
        [Some(first)]
    );
}

/// An unchanged stack set costs two reads; a NoEcho parameter, masked by
/// AWS, is not a change, and the plan says it was not compared; OUTDATED
/// instances are brought up to date with UpdateStackInstances.
#[tokio::test]
async fn noecho_is_not_compared_and_outdated_instances_are_updated() {
    let outdated = Arc::new(Mutex::new(false));
    let o = outdated.clone();
    let fake = Fake::start(Arc::new(move |action: &str, _body: &str| {
        let stale = *o.lock().unwrap();
        match action {
            "DescribeStackSet" => stack_set("b", None),
            "ListStackInstances" => instances(&[
                ("222222222222", "us-east-1", None, "CURRENT"),
                (
                    "777777777777",
                    "us-east-1",
                    None,
                    if stale { "OUTDATED" } else { "CURRENT" },
                ),
            ]),
            "ListStackSetOperations" => ok(action, "<Summaries></Summaries>"),
            "UpdateStackInstances" => started(action, "op-2"),
            "DescribeStackSetOperation" => operation("op-2", "UPDATE", "SUCCEEDED"),
            _ => error("InvalidAction", "not faked"),
        }
    }));
    let options = "        accounts: ['222222222222', '777777777777']\n        regions: [us-east-1]\n        parameters: {Env: b, Secret: hunter2}\n";
    let (status, text) = apply(&fake, options, true, 1).await;
    assert_eq!(status, Some(Status::Ok), "{text}");
    assert!(
        text.contains("finished: stack set s is up to date"),
        "{text}"
    );
    assert!(
        text.contains("not compared: parameter Secret is NoEcho"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
    // Reads only; the plan notes the latest operation it was made after.
    assert_eq!(
        fake.actions(),
        [
            "DescribeStackSet",
            "ListStackInstances",
            "ListStackSetOperations"
        ]
    );

    *outdated.lock().unwrap() = true;
    let (status, text) = apply(&fake, options, false, 1).await;
    assert_eq!(status, Some(Status::Changed), "{text}");
    assert!(
        text.contains("  - update OUTDATED instance 777777777777 us-east-1"),
        "{text}"
    );
    assert_eq!(
        fake.parameters("UpdateStackInstances", "Accounts.member"),
        [vec!["Accounts.member.1=777777777777".to_string()]]
    );
    assert!(!fake.actions().contains(&"UpdateStackSet".to_string()));
}

const SERVICE_MANAGED: &str = "        permission_model: SERVICE_MANAGED\n        call_as: DELEGATED_ADMIN\n        regions: [us-east-1]\n        parameters: {Env: b}\n        auto_deployment: {enabled: true, retain_stacks_on_account_removal: false}\n        deployment_targets: {organizational_units: [ou-aaaa-11111111, ou-bbbb-22222222]}\n";

/// SERVICE_MANAGED (moto reports success and creates nothing): targets are
/// compared by OU and region; a new OU is one CreateStackInstances naming
/// it in DeploymentTargets; an OU no longer listed is one
/// DeleteStackInstances; every call is made as the delegated admin.
#[tokio::test]
async fn service_managed_targets_are_reconciled_by_ou() {
    let fake = Fake::start(Arc::new(|action: &str, _body: &str| match action {
        "DescribeStackSet" => stack_set("b", Some(&["ou-aaaa-11111111", "ou-old0-00000000"])),
        "ListStackInstances" => instances(&[
            (
                "333333333333",
                "us-east-1",
                Some("ou-aaaa-11111111"),
                "CURRENT",
            ),
            (
                "444444444444",
                "us-east-1",
                Some("ou-old0-00000000"),
                "CURRENT",
            ),
        ]),
        "ListStackSetOperations" => ok(action, "<Summaries></Summaries>"),
        "CreateStackInstances" => started(action, "op-c"),
        "DeleteStackInstances" => started(action, "op-d"),
        "DescribeStackSetOperation" => operation("op", "CREATE", "SUCCEEDED"),
        _ => error("InvalidAction", "not faked"),
    }));
    let (status, text) = apply(&fake, SERVICE_MANAGED, true, 1).await;
    assert_eq!(status, Some(Status::Changed), "{text}");
    assert!(
        text.contains("  - deploy to OU ou-bbbb-22222222 in us-east-1"),
        "{text}"
    );
    assert!(
        text.contains("  - remove OU ou-old0-00000000 in us-east-1 (its stack is deleted)"),
        "{text}"
    );
    assert_eq!(
        fake.actions(),
        [
            "DescribeStackSet",
            "ListStackInstances",
            "ListStackSetOperations"
        ]
    );

    let (status, text) = apply(&fake, SERVICE_MANAGED, false, 1).await;
    assert_eq!(status, Some(Status::Changed), "{text}");
    assert_eq!(
        fake.parameters(
            "CreateStackInstances",
            "DeploymentTargets.OrganizationalUnitIds"
        ),
        [vec![
            "DeploymentTargets.OrganizationalUnitIds.member.1=ou-bbbb-22222222".to_string()
        ]]
    );
    assert_eq!(
        fake.parameters(
            "DeleteStackInstances",
            "DeploymentTargets.OrganizationalUnitIds"
        ),
        [vec![
            "DeploymentTargets.OrganizationalUnitIds.member.1=ou-old0-00000000".to_string()
        ]]
    );
    assert_eq!(
        fake.parameter("DeleteStackInstances", "RetainStacks"),
        [Some("false".to_string())]
    );
    assert!(!fake.actions().contains(&"UpdateStackSet".to_string()));
    // No account list for a SERVICE_MANAGED operation; CallAs everywhere.
    assert_eq!(
        fake.parameters("CreateStackInstances", "Accounts."),
        [Vec::<String>::new()]
    );
    let requests = fake.requests.lock().unwrap().clone();
    for (action, body) in requests.iter().filter(|(a, _)| a != "GetCallerIdentity") {
        assert_eq!(
            form_value(body, "CallAs").as_deref(),
            Some("DELEGATED_ADMIN"),
            "{action}"
        );
    }
}

/// An account filter that now leaves an account out deletes its
/// instances, naming its OU and the account (INTERSECTION).
#[tokio::test]
async fn service_managed_account_filter_deletes_what_it_excludes() {
    let fake = Fake::start(Arc::new(|action: &str, _body: &str| match action {
        "DescribeStackSet" => stack_set("b", Some(&["ou-aaaa-11111111"])),
        "ListStackInstances" => instances(&[
            (
                "333333333333",
                "us-east-1",
                Some("ou-aaaa-11111111"),
                "CURRENT",
            ),
            (
                "444444444444",
                "us-east-1",
                Some("ou-aaaa-11111111"),
                "CURRENT",
            ),
        ]),
        "DeleteStackInstances" => started(action, "op-d"),
        "DescribeStackSetOperation" => operation("op-d", "DELETE", "SUCCEEDED"),
        _ => error("InvalidAction", "not faked"),
    }));
    let options = "        permission_model: SERVICE_MANAGED\n        regions: [us-east-1]\n        parameters: {Env: b}\n        purge_stacks: false\n        deployment_targets: {organizational_units: [ou-aaaa-11111111], accounts: ['444444444444'], account_filter_type: DIFFERENCE}\n";
    let (status, text) = apply(&fake, options, false, 1).await;
    assert_eq!(status, Some(Status::Changed), "{text}");
    assert_eq!(
        fake.parameters("DeleteStackInstances", "DeploymentTargets."),
        [vec![
            "DeploymentTargets.AccountFilterType=INTERSECTION".to_string(),
            "DeploymentTargets.Accounts.member.1=444444444444".to_string(),
            "DeploymentTargets.OrganizationalUnitIds.member.1=ou-aaaa-11111111".to_string(),
        ]]
    );
    assert_eq!(
        fake.parameter("DeleteStackInstances", "RetainStacks"),
        [Some("true".to_string())]
    );
}

/// state: absent of a SERVICE_MANAGED stack set: its instances are
/// deleted by OU, then the stack set.
#[tokio::test]
async fn absent_deletes_instances_by_ou_then_the_stack_set() {
    let gone = Arc::new(Mutex::new(false));
    let g = gone.clone();
    let fake = Fake::start(Arc::new(move |action: &str, _body: &str| {
        let mut gone = g.lock().unwrap();
        match action {
            "DescribeStackSet" if *gone => {
                error("StackSetNotFoundException", "StackSet s not found")
            }
            "DescribeStackSet" => stack_set("b", Some(&["ou-aaaa-11111111"])),
            "ListStackInstances" => instances(&[
                (
                    "333333333333",
                    "us-east-1",
                    Some("ou-aaaa-11111111"),
                    "CURRENT",
                ),
                (
                    "333333333333",
                    "eu-west-1",
                    Some("ou-aaaa-11111111"),
                    "CURRENT",
                ),
            ]),
            "DeleteStackInstances" => started(action, "op-d"),
            "DescribeStackSetOperation" => operation("op-d", "DELETE", "SUCCEEDED"),
            "DeleteStackSet" => {
                *gone = true;
                ok(action, "")
            }
            _ => error("InvalidAction", "not faked"),
        }
    }));
    let (status, text) = apply(&fake, "        state: absent\n", false, 1).await;
    assert_eq!(status, Some(Status::Changed), "{text}");
    assert_eq!(
        fake.actions(),
        [
            "DescribeStackSet",
            "ListStackInstances",
            "DeleteStackInstances",
            "DescribeStackSetOperation",
            "DeleteStackSet"
        ]
    );
    assert_eq!(
        fake.parameters("DeleteStackInstances", "Regions"),
        [vec![
            "Regions.member.1=eu-west-1".to_string(),
            "Regions.member.2=us-east-1".to_string()
        ]]
    );
    let (status, _) = apply(&fake, "        state: absent\n", false, 1).await;
    assert_eq!(status, Some(Status::Ok));
}
