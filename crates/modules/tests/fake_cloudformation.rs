//! Stack states moto cannot produce (it never rolls back: a failed create
//! stays CREATE_IN_PROGRESS), exercised against an IN-PROCESS FAKE of the
//! CloudFormation query API: a tiny HTTP server in this test that answers
//! with canned XML. The real SDK client, pool and module talk to it over
//! HTTP, as they would to AWS.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use runbook_aws::{ClientPool, PoolSettings};
use runbook_executor::{run, Event, Reporter, RunOptions, Status};
use runbook_module::Services;
use runbook_modules::{AwsContext, RunnerSettings};

const NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/fake/1";
const TEMPLATE: &str =
    "Parameters:\n  Name:\n    Type: String\nResources:\n  T:\n    Type: AWS::SNS::Topic\n";

type Handler = dyn Fn(&str) -> (u16, String) + Send + Sync;

/// Serves the query protocol: each request's `Action` goes to `handler`;
/// every action is recorded.
struct FakeCloudFormation {
    endpoint: String,
    actions: Arc<Mutex<Vec<String>>>,
    /// The form body of each request, in the same order.
    bodies: Arc<Mutex<Vec<String>>>,
}

fn form_action(body: &str) -> String {
    body.split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .unwrap_or("")
        .to_string()
}

impl FakeCloudFormation {
    fn start(handler: Arc<Handler>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let actions = Arc::new(Mutex::new(Vec::new()));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let recorded = actions.clone();
        let recorded_bodies = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let handler = handler.clone();
                let recorded = recorded.clone();
                let recorded_bodies = recorded_bodies.clone();
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
                        let action = form_action(&body);
                        {
                            // One lock order for both, so they stay aligned.
                            let mut actions = recorded.lock().unwrap();
                            actions.push(action.clone());
                            recorded_bodies.lock().unwrap().push(body);
                        }
                        let (status, xml) = handler(&action);
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
        FakeCloudFormation {
            endpoint,
            actions,
            bodies,
        }
    }

    fn actions(&self) -> Vec<String> {
        self.actions.lock().unwrap().clone()
    }

    /// A form parameter of each request of `action`, oldest first.
    fn parameter(&self, action: &str, key: &str) -> Vec<Option<String>> {
        let actions = self.actions.lock().unwrap();
        let bodies = self.bodies.lock().unwrap();
        actions
            .iter()
            .zip(bodies.iter())
            .filter(|(a, _)| a.as_str() == action)
            .map(|(_, body)| {
                body.split('&')
                    .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
                    .map(str::to_string)
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

fn error(code: &str, message: &str) -> (u16, String) {
    error_with(400, code, message)
}

/// An error answer with its HTTP status; 5xx are the server's fault.
fn error_with(status: u16, code: &str, message: &str) -> (u16, String) {
    let kind = if status >= 500 { "Receiver" } else { "Sender" };
    (
        status,
        format!("<ErrorResponse xmlns=\"{NS}\"><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"),
    )
}

/// DescribeStacks of the one fake stack, which is either `GONE` or in
/// `state`.
fn describe(state: &str) -> (u16, String) {
    if state == "GONE" {
        error("ValidationError", "Stack with id fake does not exist")
    } else {
        ok("DescribeStacks", &stack_xml(state, "n"))
    }
}

fn stack_xml(status: &str, name_param: &str) -> String {
    format!(
        "<Stacks><member><StackId>{STACK_ID}</StackId><StackName>fake</StackName><CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>{status}</StackStatus><Parameters><member><ParameterKey>Name</ParameterKey><ParameterValue>{name_param}</ParameterValue></member></Parameters><Outputs><member><OutputKey>Out</OutputKey><OutputValue>v</OutputValue></member></Outputs></member></Stacks>"
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[derive(Default)]
struct Collect(Mutex<Vec<Event>>);

impl Reporter for Collect {
    fn event(&self, event: Event) {
        self.0.lock().unwrap().push(event);
    }
}

/// Runs a one-task playbook whose stack lives on the fake.
/// With `show`, a second task prints the whole registered result, so the
/// module must fetch events and resources too.
async fn apply_on(
    fake: &FakeCloudFormation,
    check: bool,
    show: bool,
) -> (Vec<Option<Status>>, Vec<Event>) {
    apply_with_attempts(fake, check, show, 1).await
}

async fn apply_with_attempts(
    fake: &FakeCloudFormation,
    check: bool,
    show: bool,
    max_attempts: u32,
) -> (Vec<Option<Status>>, Vec<Event>) {
    apply_with(fake, check, show, max_attempts, false).await
}

async fn apply_with(
    fake: &FakeCloudFormation,
    check: bool,
    show: bool,
    max_attempts: u32,
    change_sets: bool,
) -> (Vec<Option<Status>>, Vec<Event>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.yml"), TEMPLATE).unwrap();
    let play = format!(
        "- hosts: localhost\n  tasks:\n    - name: fake stack\n      amazon.aws.cloudformation:\n        stack_name: fake\n        region: us-east-1\n        endpoint_url: {}\n        template: t.yml\n        template_parameters: {{Name: n}}\n      register: fake\n{}",
        fake.endpoint,
        if show { "    - name: show\n      debug: {var: fake}\n" } else { "" }
    );
    let path = dir.path().join("p.yml");
    std::fs::write(&path, play).unwrap();
    let vars = IndexMap::new();
    let playbook =
        Arc::new(runbook_playbook::load(&path, &vars, &runbook_modules::registry()).unwrap());
    let graph = runbook_graph::build(&playbook, &vars).unwrap();
    let pool = ClientPool::new(PoolSettings {
        max_attempts,
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
            first_poll: std::time::Duration::from_millis(10),
            max_poll: std::time::Duration::from_millis(20),
            change_sets,
            keep_change_sets: false,
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
    let statuses = summary
        .records
        .iter()
        .map(|r| r.as_ref().map(|r| r.status))
        .collect();
    let events = reporter.0.lock().unwrap().clone();
    (statuses, events)
}

fn text_of(events: &[Event]) -> String {
    events
        .iter()
        .map(|e| match e {
            Event::Progress { message, .. } => format!("progress: {message}\n"),
            Event::Finished { message, .. } => {
                format!("finished: {}\n", message.clone().unwrap_or_default())
            }
            Event::Started { .. } => String::new(),
        })
        .collect()
}

/// CloudFormation actions only (the pool also asks STS who we are).
fn cfn_actions(fake: &FakeCloudFormation) -> Vec<String> {
    fake.actions()
        .into_iter()
        .filter(|a| a != "GetCallerIdentity")
        .collect()
}

#[tokio::test]
async fn a_stack_left_in_rollback_complete_is_deleted_and_created_afresh() {
    let state = Arc::new(Mutex::new("ROLLBACK_COMPLETE"));
    let s = state.clone();
    let fake = FakeCloudFormation::start(Arc::new(move |action: &str| {
        let mut state = s.lock().unwrap();
        match action {
            "DescribeStacks" => describe(&state),
            "DescribeStackEvents" => ok(action, "<StackEvents></StackEvents>"),
            "DeleteStack" => {
                *state = "GONE";
                ok(action, "")
            }
            "CreateStack" => {
                *state = "CREATE_COMPLETE";
                ok(action, &format!("<StackId>{STACK_ID}</StackId>"))
            }
            "ListStackResources" => ok(action, "<StackResourceSummaries></StackResourceSummaries>"),
            _ => error("InvalidAction", "not faked"),
        }
    }));
    let (statuses, events) = apply_on(&fake, false, true).await;
    let text = text_of(&events);
    assert_eq!(
        statuses,
        [Some(Status::Changed), Some(Status::Ok)],
        "{text}"
    );
    assert!(text.contains("stack is ROLLBACK_COMPLETE from a failed first create: deleting it to create it afresh"), "{text}");
    let mut actions = cfn_actions(&fake);
    // Events and resources are fetched together at the end: either order.
    actions[6..].sort();
    assert_eq!(
        actions,
        [
            "DescribeStacks",
            "DescribeStackEvents",
            "DeleteStack",
            "DescribeStacks",
            "CreateStack",
            "DescribeStacks",
            "DescribeStackEvents",
            "ListStackResources"
        ]
    );
}

#[tokio::test]
async fn check_mode_plans_the_recreate_without_calling_anything_mutating() {
    let fake = FakeCloudFormation::start(Arc::new(|action: &str| match action {
        "DescribeStacks" => ok(action, &stack_xml("ROLLBACK_COMPLETE", "n")),
        _ => error("InvalidAction", "check mode must not get here"),
    }));
    let (statuses, events) = apply_on(&fake, true, false).await;
    assert_eq!(statuses, [Some(Status::Changed)], "{}", text_of(&events));
    assert_eq!(cfn_actions(&fake), ["DescribeStacks"]);
}

#[tokio::test]
async fn a_stack_in_progress_is_waited_on_then_reconciled() {
    let polls = Arc::new(Mutex::new(0));
    let p = polls.clone();
    let fake = FakeCloudFormation::start(Arc::new(move |action: &str| {
        let mut polls = p.lock().unwrap();
        match action {
            "DescribeStacks" => {
                *polls += 1;
                let status = if *polls <= 3 {
                    "UPDATE_IN_PROGRESS"
                } else {
                    "UPDATE_COMPLETE"
                };
                ok(action, &stack_xml(status, "n"))
            }
            "DescribeStackEvents" => ok(action, "<StackEvents></StackEvents>"),
            "GetTemplate" => ok(
                action,
                &format!("<TemplateBody>{}</TemplateBody>", xml_escape(TEMPLATE)),
            ),
            _ => error("InvalidAction", "an unchanged stack needs no other call"),
        }
    }));
    let (statuses, events) = apply_on(&fake, false, false).await;
    let text = text_of(&events);
    assert_eq!(statuses, [Some(Status::Ok)], "{text}");
    assert!(
        text.contains("stack is UPDATE_IN_PROGRESS, waiting for it to finish"),
        "{text}"
    );
    assert!(text.contains("stack fake is up to date"), "{text}");
    assert_eq!(*polls.lock().unwrap(), 4);
}

#[tokio::test]
async fn update_rollback_failed_stops_with_the_fix() {
    let fake = FakeCloudFormation::start(Arc::new(|action: &str| match action {
        "DescribeStacks" => ok(action, &stack_xml("UPDATE_ROLLBACK_FAILED", "n")),
        _ => error("InvalidAction", "must stop before any other call"),
    }));
    let (statuses, events) = apply_on(&fake, false, false).await;
    let text = text_of(&events);
    assert_eq!(statuses, [Some(Status::Failed)], "{text}");
    assert!(
        text.contains("continue-update-rollback --stack-name fake"),
        "{text}"
    );
    assert_eq!(cfn_actions(&fake), ["DescribeStacks"]);
}

#[tokio::test]
async fn a_failed_update_reports_the_failed_resources() {
    let state = Arc::new(Mutex::new("UPDATE_COMPLETE"));
    let s = state.clone();
    let fake = FakeCloudFormation::start(Arc::new(move |action: &str| {
        let mut state = s.lock().unwrap();
        match action {
            // The deployed Name differs, so an update is needed.
            "DescribeStacks" => ok(action, &stack_xml(&state, "old")),
            "GetTemplate" => ok(action, &format!("<TemplateBody>{}</TemplateBody>", xml_escape(TEMPLATE))),
            "DescribeStackEvents" if *state == "UPDATE_COMPLETE" => ok(action, "<StackEvents></StackEvents>"),
            "DescribeStackEvents" => ok(
                action,
                "<StackEvents><member><EventId>e2</EventId><StackId>x</StackId><StackName>fake</StackName><LogicalResourceId>T</LogicalResourceId><ResourceType>AWS::SNS::Topic</ResourceType><Timestamp>2026-01-01T00:00:01Z</Timestamp><ResourceStatus>UPDATE_FAILED</ResourceStatus><ResourceStatusReason>Topic name already taken</ResourceStatusReason></member></StackEvents>",
            ),
            "UpdateStack" => {
                *state = "UPDATE_ROLLBACK_COMPLETE";
                ok(action, &format!("<StackId>{STACK_ID}</StackId>"))
            }
            _ => error("InvalidAction", "not faked"),
        }
    }));
    let (statuses, events) = apply_on(&fake, false, false).await;
    let text = text_of(&events);
    assert_eq!(statuses, [Some(Status::Failed)], "{text}");
    assert!(
        text.contains("stack fake failed to update: UPDATE_ROLLBACK_COMPLETE"),
        "{text}"
    );
    assert!(
        text.contains("T (AWS::SNS::Topic): Topic name already taken"),
        "{text}"
    );
}

#[tokio::test]
async fn events_and_resources_are_fetched_only_when_something_reads_them() {
    let created = Arc::new(Mutex::new(false));
    let c = created.clone();
    let fake = FakeCloudFormation::start(Arc::new(move |action: &str| {
        let mut created = c.lock().unwrap();
        match action {
            "DescribeStacks" if !*created => {
                error("ValidationError", "Stack with id fake does not exist")
            }
            "DescribeStacks" => ok(action, &stack_xml("CREATE_COMPLETE", "n")),
            "CreateStack" => {
                *created = true;
                ok(action, &format!("<StackId>{STACK_ID}</StackId>"))
            }
            _ => error("InvalidAction", "a lean create needs no other call"),
        }
    }));
    let (statuses, events) = apply_on(&fake, false, false).await;
    assert_eq!(statuses, [Some(Status::Changed)], "{}", text_of(&events));
    assert_eq!(
        cfn_actions(&fake),
        ["DescribeStacks", "CreateStack", "DescribeStacks"]
    );
}

/// A CreateStack whose answer is lost (here: a 500 after the stack was
/// made) is retried by the SDK with the same ClientRequestToken, which is
/// how CloudFormation tells a retry from a second create of the same name.
/// This fake answers the retry as CloudFormation does for a known token.
#[tokio::test]
async fn a_retried_create_carries_the_same_request_token() {
    let state = Arc::new(Mutex::new("GONE"));
    let s = state.clone();
    let fake = FakeCloudFormation::start(Arc::new(move |action: &str| {
        let mut state = s.lock().unwrap();
        match action {
            "DescribeStacks" => describe(&state),
            "CreateStack" if *state == "GONE" => {
                *state = "CREATE_COMPLETE";
                error_with(500, "InternalFailure", "lost")
            }
            "CreateStack" => ok(action, &format!("<StackId>{STACK_ID}</StackId>")),
            _ => error("InvalidAction", "not faked"),
        }
    }));
    let (statuses, events) = apply_with_attempts(&fake, false, false, 2).await;
    assert_eq!(statuses, [Some(Status::Changed)], "{}", text_of(&events));
    let tokens = fake.parameter("CreateStack", "ClientRequestToken");
    assert_eq!(tokens.len(), 2, "{:?}", fake.actions());
    let first = tokens[0].clone().expect("a token");
    assert!(first.starts_with("runbook-CreateStack-"), "{first}");
    assert_eq!(tokens[1].as_deref(), Some(first.as_str()));
}

/// The preflight listing stops the run only when AWS refuses the
/// credentials themselves; a role that may not list every stack (a scoped
/// DescribeStacks) is left to describe its stacks one by one.
#[tokio::test]
async fn the_listing_reports_refused_credentials_but_not_missing_rights() {
    let answer = Arc::new(Mutex::new((
        "ExpiredToken",
        "The security token included in the request is expired",
    )));
    let a = answer.clone();
    let fake = FakeCloudFormation::start(Arc::new(move |action: &str| match action {
        "DescribeStacks" => {
            let (code, message) = *a.lock().unwrap();
            error_with(403, code, message)
        }
        _ => error("InvalidAction", "not faked"),
    }));
    let pool = ClientPool::new(PoolSettings {
        max_attempts: 1,
        env_overrides: Some(vec![
            ("AWS_ACCESS_KEY_ID".into(), "fake".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "fake".into()),
            ("AWS_CONFIG_FILE".into(), "/nonexistent".into()),
            ("AWS_SHARED_CREDENTIALS_FILE".into(), "/nonexistent".into()),
        ]),
        ..PoolSettings::default()
    });
    let aws = AwsContext::new(pool, RunnerSettings::default());
    let target = runbook_aws::Target {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(fake.endpoint.clone()),
    };
    let accounts = [(target.clone(), false)];

    let refused = aws.prefetch_stacks(&accounts).await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].0, target);
    assert_eq!(refused[0].1.code.as_deref(), Some("ExpiredToken"));

    *answer.lock().unwrap() = (
        "AccessDenied",
        "not authorized to perform: cloudformation:DescribeStacks",
    );
    assert!(aws.prefetch_stacks(&accounts).await.is_empty());
    assert_eq!(cfn_actions(&fake), ["DescribeStacks", "DescribeStacks"]);
}

/// `--change-sets`: the plan is CloudFormation's own, read over every
/// page, with replacement, scope, details and their causes; in check mode
/// the change set is deleted afterwards. moto reports every resource of
/// an update change set as Add, so this runs against the labelled fake.
#[tokio::test]
async fn change_set_plans_are_read_in_full_and_deleted_in_check_mode() {
    let polls = Arc::new(Mutex::new(0));
    let p = polls.clone();
    let change = |logical: &str, replacement: &str| {
        format!(
            "<member><Type>Resource</Type><ResourceChange><Action>Modify</Action><LogicalResourceId>{logical}</LogicalResourceId><ResourceType>AWS::SNS::Topic</ResourceType><Replacement>{replacement}</Replacement><Scope><member>Properties</member></Scope><Details><member><Target><Attribute>Properties</Attribute><Name>TopicName</Name><RequiresRecreation>Always</RequiresRecreation></Target><Evaluation>Static</Evaluation><ChangeSource>ParameterReference</ChangeSource><CausingEntity>Name</CausingEntity></member></Details></ResourceChange></member>"
        )
    };
    let first_page = change("T", "True");
    let second_page = change("U", "Conditional");
    let fake = FakeCloudFormation::start(Arc::new(move |action: &str| match action {
        "DescribeStacks" => ok("DescribeStacks", &stack_xml("CREATE_COMPLETE", "old")),
        "GetTemplate" => ok(
            "GetTemplate",
            &format!("<TemplateBody>{}</TemplateBody>", xml_escape(TEMPLATE)),
        ),
        "CreateChangeSet" => ok("CreateChangeSet", "<Id>arn:cs</Id><StackId>s</StackId>"),
        "DescribeChangeSet" => {
            let mut n = p.lock().unwrap();
            *n += 1;
            match *n {
                1 => ok("DescribeChangeSet", "<Status>CREATE_PENDING</Status>"),
                2 => ok(
                    "DescribeChangeSet",
                    &format!("<Status>CREATE_COMPLETE</Status><Changes>{first_page}</Changes><NextToken>page2</NextToken>"),
                ),
                _ => ok(
                    "DescribeChangeSet",
                    &format!("<Status>CREATE_COMPLETE</Status><Changes>{second_page}</Changes>"),
                ),
            }
        }
        "DeleteChangeSet" => ok("DeleteChangeSet", ""),
        _ => error("InvalidAction", "not faked"),
    }));
    let (statuses, events) = apply_with(&fake, true, false, 1, true).await;
    assert_eq!(statuses, [Some(Status::Changed)]);
    let details = events
        .iter()
        .find_map(|e| match e {
            Event::Finished { details, .. } => Some(details.join("\n")),
            _ => None,
        })
        .unwrap();
    assert!(
        details.contains("resource T (AWS::SNS::Topic): Modify, Replacement: True, Scope: Properties [CloudFormation]"),
        "{details}"
    );
    assert!(
        details.contains("resource U (AWS::SNS::Topic): Modify, Replacement: Conditional"),
        "{details}"
    );
    assert!(
        details.contains("Properties.TopicName: Static ParameterReference (caused by Name), requires recreation: Always"),
        "{details}"
    );
    let actions = cfn_actions(&fake);
    assert!(
        actions.contains(&"DeleteChangeSet".to_string()),
        "{actions:?}"
    );
    assert!(
        !actions
            .iter()
            .any(|a| a == "ExecuteChangeSet" || a == "UpdateStack"),
        "{actions:?}"
    );
    assert_eq!(
        fake.parameter("CreateChangeSet", "IncludeNestedStacks"),
        [Some("true".to_string())]
    );
    // The second page was asked for with the first page's token.
    assert_eq!(
        fake.parameter("DescribeChangeSet", "NextToken")
            .last()
            .cloned()
            .flatten(),
        Some("page2".to_string())
    );
}

/// CloudFormation answers a change set without changes with a FAILED
/// change set (moto refuses CreateChangeSet itself): both are `ok`.
#[tokio::test]
async fn a_change_set_without_changes_is_an_unchanged_ok() {
    let fake = FakeCloudFormation::start(Arc::new(|action: &str| {
        match action {
        // A parameter that looks changed (as a NoEcho one always does), which
        // CloudFormation finds to be no change.
        "DescribeStacks" => ok("DescribeStacks", &stack_xml("UPDATE_COMPLETE", "old")),
        "GetTemplate" => ok(
            "GetTemplate",
            &format!("<TemplateBody>{}</TemplateBody>", xml_escape(TEMPLATE)),
        ),
        "CreateChangeSet" => ok("CreateChangeSet", "<Id>arn:cs</Id><StackId>s</StackId>"),
        "DescribeChangeSet" => ok(
            "DescribeChangeSet",
            "<Status>FAILED</Status><StatusReason>The submitted information didn't contain changes. Submit different information to create a change set.</StatusReason>",
        ),
        "DeleteChangeSet" => ok("DeleteChangeSet", ""),
        _ => error("InvalidAction", "not faked"),
    }
    }));
    let (statuses, _) = apply_with(&fake, false, false, 1, true).await;
    assert_eq!(statuses, [Some(Status::Ok)]);
    let actions = cfn_actions(&fake);
    assert!(
        !actions
            .iter()
            .any(|a| a == "ExecuteChangeSet" || a == "UpdateStack"),
        "{actions:?}"
    );
    // The failed change set is not left behind on the stack.
    assert!(
        actions.contains(&"DeleteChangeSet".to_string()),
        "{actions:?}"
    );
}

/// Another operation took the stack between the look and the update: the
/// task waits for it, reads the stack again, and finds nothing left to do.
#[tokio::test]
async fn a_stack_another_operation_holds_is_waited_on_then_reconciled() {
    let describes = Arc::new(Mutex::new(0));
    let d = describes.clone();
    let fake = FakeCloudFormation::start(Arc::new(move |action: &str| match action {
        "DescribeStacks" => {
            let mut n = d.lock().unwrap();
            *n += 1;
            match *n {
                1 => ok(action, &stack_xml("UPDATE_COMPLETE", "old")),
                2 => ok(action, &stack_xml("UPDATE_IN_PROGRESS", "n")),
                _ => ok(action, &stack_xml("UPDATE_COMPLETE", "n")),
            }
        }
        "GetTemplate" => ok(
            action,
            &format!("<TemplateBody>{}</TemplateBody>", xml_escape(TEMPLATE)),
        ),
        "UpdateStack" => error(
            "ValidationError",
            &format!("Stack:{STACK_ID} is in UPDATE_IN_PROGRESS state and can not be updated."),
        ),
        "DescribeStackEvents" => ok(action, "<StackEvents></StackEvents>"),
        _ => error("InvalidAction", "not faked"),
    }));
    let (statuses, events) = apply_on(&fake, false, false).await;
    let text = text_of(&events);
    assert_eq!(statuses, [Some(Status::Ok)], "{text}");
    assert!(
        text.contains("reading the stack again to reconcile"),
        "{text}"
    );
    assert!(text.contains("stack fake is up to date"), "{text}");
    let actions = cfn_actions(&fake);
    assert_eq!(
        actions.iter().filter(|a| *a == "UpdateStack").count(),
        1,
        "{actions:?}"
    );
}
