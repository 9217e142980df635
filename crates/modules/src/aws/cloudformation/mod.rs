//! `amazon.aws.cloudformation`: reconcile one stack.
//!
//! present: no stack -> create; in sync -> nothing (two read calls);
//! different -> update (or a change set where only CloudFormation can
//! tell); left by a failed create -> delete and create again.
//! absent: delete; already gone -> ok.

mod analysis;
mod diff;
mod directory;
mod spec;
mod validate;
mod wait;

pub(crate) use analysis::StackFacts;
pub(crate) use directory::StackDirectory;

use std::collections::HashSet;

use aws_sdk_cloudformation::types::{
    Capability, ChangeSetType, OnFailure, Parameter, Tag, TemplateStage,
};
use aws_sdk_cloudformation::Client;
use indexmap::IndexMap;
use runbook_aws::{AwsError, Target};
use runbook_module::{
    Analysis, Arg, BoxFuture, Call, ErrorKind, Module, ModuleFailure, ModuleOutput, ModuleSpec,
    OptionKind, OptionSpec, PlaybookError, Progress, Services, StaticFacts, Teardown,
};
use serde_json::{json, Value as Json};

use super::{AwsContext, RunnerSettings, CONNECTION, GROUP, UNSUPPORTED_CONNECTION};
use diff::{compare, Deployed, Plan};
use spec::StackSpec;
use wait::{succeeded, Settled};

/// What a value that only exists after apply shows in check mode.
pub const KNOWN_AFTER_APPLY: &str = "(known after apply)";

/// `amazon.aws.cloudformation`.
pub struct CloudFormation;

static OPTIONS: [OptionSpec; 20] = [
    OptionSpec::new("stack_name", OptionKind::Str).required(),
    OptionSpec::choice("state", &["present", "absent"]),
    OptionSpec::new("template", OptionKind::Str),
    OptionSpec::new("template_body", OptionKind::StrOrDict),
    OptionSpec::new("template_url", OptionKind::Str),
    OptionSpec::new("template_parameters", OptionKind::Dict),
    OptionSpec::new("tags", OptionKind::Dict),
    OptionSpec::new("capabilities", OptionKind::List),
    OptionSpec::new("disable_rollback", OptionKind::Bool),
    OptionSpec::choice("on_create_failure", &["DO_NOTHING", "ROLLBACK", "DELETE"]),
    OptionSpec::new("termination_protection", OptionKind::Bool),
    OptionSpec::new("role_arn", OptionKind::Str),
    OptionSpec::new("notification_arns", OptionKind::StrOrList),
    OptionSpec::new("create_timeout", OptionKind::Int),
    OptionSpec::new("stack_policy_body", OptionKind::StrOrDict),
    OptionSpec::new("create_changeset", OptionKind::Bool),
    OptionSpec::new("changeset_name", OptionKind::Str),
    CONNECTION[0],
    CONNECTION[1],
    CONNECTION[2],
];

static SPEC: ModuleSpec = ModuleSpec {
    fqcn: "amazon.aws.cloudformation",
    short: "cloudformation",
    options: &OPTIONS,
    unsupported: &[
        "stack_policy",
        "stack_policy_on_update_body",
        "template_format",
        "events_limit",
        "backoff_delay",
        "backoff_max_delay",
        "backoff_retries",
        "purge_stacks",
        UNSUPPORTED_CONNECTION[0],
        UNSUPPORTED_CONNECTION[1],
        UNSUPPORTED_CONNECTION[2],
        UNSUPPORTED_CONNECTION[3],
        UNSUPPORTED_CONNECTION[4],
        UNSUPPORTED_CONNECTION[5],
        UNSUPPORTED_CONNECTION[6],
        UNSUPPORTED_CONNECTION[7],
    ],
    free_keys: false,
    free_form: None,
    groups: GROUP,
    result_fields: &[
        "output",
        "stack_id",
        "stack_outputs",
        "events",
        "stack_resources",
    ],
};

/// The options that say where a stack is: all `destroy` needs.
const WHERE: [&str; 4] = ["stack_name", "profile", "region", "endpoint_url"];

impl Module for CloudFormation {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn check(&self, args: &IndexMap<String, Arg>) -> Vec<PlaybookError> {
        let mut errors = Vec::new();
        let given: Vec<&str> = ["template", "template_body", "template_url"]
            .into_iter()
            .filter(|k| args.contains_key(*k))
            .collect();
        if given.len() > 1 {
            errors.push(PlaybookError::new(
                ErrorKind::Schema,
                format!("options {} are mutually exclusive", given.join(", ")),
            ));
        }
        if args.contains_key("on_create_failure") && args.contains_key("disable_rollback") {
            errors.push(PlaybookError::new(
                ErrorKind::Schema,
                "options on_create_failure and disable_rollback are mutually exclusive",
            ));
        }
        let absent = args.get("state").is_some_and(|a| a.value == "absent");
        if given.is_empty() && !absent {
            errors.push(PlaybookError::new(
                ErrorKind::Schema,
                "state=present needs one of `template`, `template_body` or `template_url`",
            ));
        }
        errors.extend(validate::written(args));
        errors
    }

    fn analyse(&self, cx: &mut Analysis<'_>) -> StaticFacts {
        analysis::analyse(cx)
    }

    fn run<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<ModuleOutput, ModuleFailure>> {
        Box::pin(async move {
            let aws = super::context(call.services)?;
            let target = super::target_of(&call.args);
            let result = run(&aws, &target, &call).await;
            aws.learn_account(&target).await;
            result
        })
    }

    fn target_label(&self, args: &IndexMap<String, Json>, services: &Services) -> Option<String> {
        super::target_label(args, services)
    }

    fn teardown(&self, args: &IndexMap<String, Json>) -> Option<Teardown> {
        if args.get("state").is_some_and(|s| s == "absent") {
            return None;
        }
        let mut undo: IndexMap<String, Json> = WHERE
            .iter()
            .filter_map(|k| Some((k.to_string(), args.get(*k)?.clone())))
            .collect();
        undo.insert("state".into(), Json::String("absent".into()));
        let stack = args.get("stack_name").and_then(Json::as_str).unwrap_or("?");
        Some(Teardown {
            name: format!("delete {stack}"),
            args: undo,
        })
    }
}

/// The CloudFormation calls for one stack, with errors that name it.
pub(crate) struct Api<'a> {
    client: Client,
    target: &'a Target,
    stack: &'a str,
    settings: &'a RunnerSettings,
    sink: &'a dyn Progress,
    directory: &'a StackDirectory,
    /// Something reads this task's events or resources: fetch them.
    wants_events: bool,
}

fn aws_error<E, R>(
    api: &Api<'_>,
    operation: &str,
    err: &aws_sdk_cloudformation::error::SdkError<E, R>,
) -> String
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let err = AwsError::from_sdk(api.target, operation, err);
    let mut message = format!("stack {}: {err}", api.stack);
    if err.is_transient() {
        message.push_str(" (AWS kept throttling or the network failed after retries; lower --forks or try again)");
    }
    message
}

fn is_missing(code: Option<&str>, message: &str) -> bool {
    code == Some("ValidationError") && message.contains("does not exist")
}

impl Api<'_> {
    /// The task's first look at its stack: from the account listing when
    /// there is one.
    async fn describe_first(&self) -> Result<Option<Deployed>, String> {
        match self.directory.first_look(self.target, self.stack) {
            Some(seen) => Ok(seen),
            None => self.describe().await,
        }
    }

    async fn describe(&self) -> Result<Option<Deployed>, String> {
        match self
            .client
            .describe_stacks()
            .stack_name(self.stack)
            .send()
            .await
        {
            Ok(out) => Ok(out.stacks().first().map(deployed_of)),
            Err(err) => {
                let failure = runbook_aws::describe(&err);
                if is_missing(failure.code.as_deref(), &failure.message) {
                    Ok(None)
                } else {
                    Err(aws_error(self, "DescribeStacks", &err))
                }
            }
        }
    }

    async fn template(&self) -> Result<Option<String>, String> {
        self.client
            .get_template()
            .stack_name(self.stack)
            .template_stage(TemplateStage::Original)
            .send()
            .await
            .map(|out| out.template_body().map(str::to_string))
            .map_err(|err| aws_error(self, "GetTemplate", &err))
    }

    async fn events(&self) -> Result<Vec<aws_sdk_cloudformation::types::StackEvent>, String> {
        self.client
            .describe_stack_events()
            .stack_name(self.stack)
            .send()
            .await
            .map(|out| out.stack_events().to_vec())
            .map_err(|err| aws_error(self, "DescribeStackEvents", &err))
    }

    async fn resources(&self) -> Result<Json, String> {
        let summaries: Vec<_> = self
            .client
            .list_stack_resources()
            .stack_name(self.stack)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|err| aws_error(self, "ListStackResources", &err))?;
        Ok(Json::Array(
            summaries
                .iter()
                .map(|r| {
                    json!({
                        "logical_resource_id": r.logical_resource_id(),
                        "physical_resource_id": r.physical_resource_id(),
                        "resource_type": r.resource_type(),
                        "last_updated_time": r.last_updated_timestamp().map(|t| t.to_string()),
                        "status": r.resource_status().map(|s| s.as_str()),
                        "status_reason": r.resource_status_reason(),
                    })
                })
                .collect(),
        ))
    }

    async fn delete(&self) -> Result<(), String> {
        self.client
            .delete_stack()
            .stack_name(self.stack)
            .client_request_token(request_token("DeleteStack"))
            .send()
            .await
            .map(|_| ())
            .map_err(|err| aws_error(self, "DeleteStack", &err))
    }

    async fn stack_policy(&self) -> Result<Option<String>, String> {
        self.client
            .get_stack_policy()
            .stack_name(self.stack)
            .send()
            .await
            .map(|out| out.stack_policy_body().map(str::to_string))
            .map_err(|err| aws_error(self, "GetStackPolicy", &err))
    }

    async fn set_stack_policy(&self, body: &str) -> Result<(), String> {
        self.client
            .set_stack_policy()
            .stack_name(self.stack)
            .stack_policy_body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|err| aws_error(self, "SetStackPolicy", &err))
    }

    async fn set_termination_protection(&self, on: bool) -> Result<(), String> {
        self.client
            .update_termination_protection()
            .stack_name(self.stack)
            .enable_termination_protection(on)
            .send()
            .await
            .map(|_| ())
            .map_err(|err| aws_error(self, "UpdateTerminationProtection", &err))
    }
}

fn deployed_of(stack: &aws_sdk_cloudformation::types::Stack) -> Deployed {
    Deployed {
        stack_id: stack.stack_id().unwrap_or_default().to_string(),
        status: stack
            .stack_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        parameters: stack
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_string(),
                    p.parameter_value().unwrap_or_default().to_string(),
                ))
            })
            .collect(),
        tags: stack
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect(),
        termination_protection: stack.enable_termination_protection().unwrap_or(false),
        role_arn: stack.role_arn().map(str::to_string),
        notification_arns: stack.notification_arns().to_vec(),
        outputs: stack
            .outputs()
            .iter()
            .filter_map(|o| {
                Some((
                    o.output_key()?.to_string(),
                    o.output_value().unwrap_or_default().to_string(),
                ))
            })
            .collect(),
    }
}

/// Sets what CreateStack, UpdateStack and CreateChangeSet share. A macro,
/// because the SDK's three builders are distinct types with the same
/// setters.
macro_rules! stack_arguments {
    ($builder:expr, $spec:expr) => {
        $builder
            .stack_name(&$spec.name)
            .set_parameters(Some(parameters_of($spec)))
            .set_tags(tags_of($spec))
            .set_capabilities(Some(capabilities_of($spec)))
            .set_template_body($spec.body.clone())
            .set_template_url($spec.url.clone())
            .set_role_arn($spec.role_arn.clone())
            .set_notification_arns($spec.notification_arns.clone())
    };
}

fn parameters_of(spec: &StackSpec) -> Vec<Parameter> {
    spec.parameters
        .iter()
        .map(|p| {
            let mut b = Parameter::builder().parameter_key(&p.key);
            if p.use_previous {
                b = b.use_previous_value(true);
            } else if let Some(v) = &p.value {
                b = b.parameter_value(v);
            }
            b.build()
        })
        .collect()
}

fn tags_of(spec: &StackSpec) -> Option<Vec<Tag>> {
    spec.tags.as_ref().map(|tags| {
        tags.iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect()
    })
}

fn capabilities_of(spec: &StackSpec) -> Vec<Capability> {
    spec.capabilities
        .iter()
        .map(|c| Capability::from(c.as_str()))
        .collect()
}

/// The registered result, in amazon.aws's shape.
struct Report {
    changed: bool,
    output: String,
    stack: Option<Deployed>,
    /// `None` when nothing reads them: the call was skipped.
    events: Option<Vec<String>>,
    resources: Option<Json>,
    message: String,
    details: Vec<String>,
}

impl Report {
    fn into_output(self) -> ModuleOutput {
        let mut result = serde_json::Map::new();
        result.insert("output".into(), json!(self.output));
        if let Some(stack) = &self.stack {
            result.insert("stack_id".into(), json!(stack.stack_id));
            result.insert(
                "stack_outputs".into(),
                Json::Object(
                    stack
                        .outputs
                        .iter()
                        .map(|(k, v)| (k.clone(), json!(v)))
                        .collect(),
                ),
            );
        } else {
            result.insert("stack_outputs".into(), json!({}));
        }
        if let Some(events) = self.events {
            result.insert("events".into(), json!(events));
        }
        if let Some(resources) = self.resources {
            result.insert("stack_resources".into(), resources);
        }
        ModuleOutput {
            changed: self.changed,
            result,
            facts: IndexMap::new(),
            message: Some(self.message),
            details: self.details,
        }
    }
}

async fn run(
    runner: &AwsContext,
    target: &Target,
    call: &Call<'_>,
) -> Result<ModuleOutput, ModuleFailure> {
    let spec =
        StackSpec::from_args_with(&call.args, call.search, &|body| runner.parse_template(body))
            .map_err(ModuleFailure::new)?;
    let client = runner
        .pool
        .cloudformation(target)
        .await
        .map_err(|e| ModuleFailure::new(e.to_string()))?;
    let api = Api {
        client,
        target,
        stack: &spec.name,
        settings: &runner.settings,
        sink: call.progress,
        directory: &runner.directory,
        wants_events: call.reads.may_read("events") || call.reads.may_read("stack_resources"),
    };
    let report = if spec.absent {
        absent(&api, &spec, call.check).await
    } else {
        present(&api, &spec, call.check).await
    };
    report.map(Report::into_output).map_err(ModuleFailure::new)
}

async fn absent(api: &Api<'_>, spec: &StackSpec, check: bool) -> Result<Report, String> {
    let Some(stack) = api.describe_first().await? else {
        return Ok(unchanged(
            None,
            "Stack doesn't exist",
            format!("stack {} is absent", spec.name),
        ));
    };
    if stack.termination_protection {
        return Err(format!(
            "stack {} has termination protection, so it cannot be deleted; set `termination_protection: false` on a present run first, or run: aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name {}",
            spec.name, spec.name
        ));
    }
    if check {
        return Ok(Report {
            changed: true,
            output: "Stack would be deleted".into(),
            stack: Some(stack),
            events: Some(Vec::new()),
            resources: None,
            message: format!("would delete stack {}", spec.name),
            details: vec!["delete".into()],
        });
    }
    let mut seen = HashSet::new();
    api.mark_seen(&mut seen).await;
    delete_and_wait(api, &mut seen).await?;
    Ok(Report {
        changed: true,
        output: "Stack Deleted".into(),
        stack: None,
        events: Some(Vec::new()),
        resources: None,
        message: format!("deleted stack {}", spec.name),
        details: Vec::new(),
    })
}

async fn delete_and_wait(api: &Api<'_>, seen: &mut HashSet<String>) -> Result<(), String> {
    let before = seen.clone();
    api.delete().await?;
    match api.wait("deleting", seen).await? {
        Settled::Gone => Ok(()),
        Settled::Status(s) if s.status == "DELETE_COMPLETE" => Ok(()),
        Settled::Status(s) => {
            let reasons = api.failures(&before).await;
            Err(failure_message(api.stack, "delete", &s.status, &reasons))
        }
    }
}

fn unchanged(stack: Option<Deployed>, output: &str, message: String) -> Report {
    Report {
        changed: false,
        output: output.into(),
        stack,
        events: Some(Vec::new()),
        resources: None,
        message,
        details: Vec::new(),
    }
}

fn failure_message(stack: &str, doing: &str, status: &str, reasons: &[String]) -> String {
    let mut message = format!("stack {stack} failed to {doing}: {status}");
    for reason in reasons {
        message.push_str(&format!("\n  - {reason}"));
    }
    message
}

async fn present(api: &Api<'_>, spec: &StackSpec, check: bool) -> Result<Report, String> {
    if spec.body.is_none() && spec.url.is_none() {
        return Err("state=present needs `template`, `template_body` or `template_url`".into());
    }
    let mut seen = HashSet::new();
    let mut existing = api.describe_first().await?;

    // Another run (or the console) is working on it: wait, then reconcile.
    if let Some(stack) = &existing {
        if wait::in_progress(&stack.status) {
            if check {
                return Err(format!(
                    "stack {} is {} (another operation is running); try again when it has finished",
                    spec.name, stack.status
                ));
            }
            api.sink.progress(format!(
                "stack is {}, waiting for it to finish",
                stack.status
            ));
            existing = match api.wait("its current operation", &mut seen).await? {
                Settled::Gone => None,
                Settled::Status(s) => Some(*s),
            };
        }
    }

    if let Some(stack) = &existing {
        match stack.status.as_str() {
            "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" | "REVIEW_IN_PROGRESS"
            | "DELETE_COMPLETE" => {
                if stack.status != "DELETE_COMPLETE" {
                    if check {
                        let mut report = create_plan(spec);
                        report.details.insert(
                            0,
                            format!(
                                "delete the stack left by a failed create ({})",
                                stack.status
                            ),
                        );
                        return Ok(report);
                    }
                    api.sink.progress(format!(
                        "stack is {} from a failed first create: deleting it to create it afresh",
                        stack.status
                    ));
                    api.mark_seen(&mut seen).await;
                    delete_and_wait(api, &mut seen).await?;
                }
                existing = None;
            }
            "UPDATE_ROLLBACK_FAILED" => {
                return Err(format!(
                    "stack {} is UPDATE_ROLLBACK_FAILED: fix the cause, then run `aws cloudformation continue-update-rollback --stack-name {}` (with the account's profile) and run runbook again",
                    spec.name, spec.name
                ));
            }
            _ => {}
        }
    }

    let Some(stack) = existing else {
        validate::previous_values_need_a_stack(&spec.name, &spec.parameters)?;
        return if check {
            Ok(create_plan(spec))
        } else {
            create(api, spec, &mut seen).await
        };
    };

    let deployed_template = match &spec.body {
        Some(_) => api.template().await?,
        None => None,
    };
    let mut plan = compare(spec, &stack, deployed_template.as_deref());
    // A stack policy is not part of DescribeStacks: only when the task sets
    // one does it cost a third read.
    if let Some(wanted) = &spec.stack_policy_body {
        let current = api.stack_policy().await?;
        if !diff::same_policy(wanted, current.as_deref()) {
            plan.stack_policy = Some(wanted.clone());
        }
    }
    if plan.is_noop() {
        return Ok(unchanged(
            Some(stack),
            "Stack is already up to date",
            format!("stack {} is up to date", spec.name),
        ));
    }
    if check {
        let changed = plan.stack_changes()
            || plan.termination_protection.is_some()
            || plan.stack_policy.is_some();
        return Ok(Report {
            changed,
            output: "Stack would be updated".into(),
            message: if changed {
                format!("would update stack {}", spec.name)
            } else {
                format!(
                    "stack {} may change (CloudFormation decides on apply)",
                    spec.name
                )
            },
            details: plan.describe(spec),
            stack: Some(stack),
            events: Some(Vec::new()),
            resources: None,
        });
    }
    update(api, spec, stack, plan, &mut seen).await
}

fn create_plan(spec: &StackSpec) -> Report {
    let mut details = vec!["create".to_string()];
    for p in &spec.parameters {
        if let Some(v) = &p.value {
            details.push(format!("parameter {} = {}", p.key, spec.shown(&p.key, v)));
        }
    }
    // Outputs do not exist yet; later tasks see a placeholder.
    let outputs: IndexMap<String, String> = spec
        .template
        .as_ref()
        .and_then(|t| t.body.get("Outputs"))
        .and_then(Json::as_object)
        .map(|o| {
            o.keys()
                .map(|k| (k.clone(), KNOWN_AFTER_APPLY.to_string()))
                .collect()
        })
        .unwrap_or_default();
    Report {
        changed: true,
        output: "Stack would be created".into(),
        stack: Some(Deployed {
            stack_id: KNOWN_AFTER_APPLY.into(),
            outputs,
            ..Default::default()
        }),
        events: Some(Vec::new()),
        resources: None,
        message: format!("would create stack {}", spec.name),
        details,
    }
}

/// A token for one mutating call. The SDK resends the same input when it
/// retries (throttling, 5xx, a lost answer), so every attempt carries it and
/// CloudFormation treats a retry whose first attempt got through as the same
/// request, instead of answering AlreadyExistsException or starting a
/// second operation. Tokens match `[a-zA-Z][-a-zA-Z0-9]*`, at most 128.
fn request_token(operation: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "runbook-{operation}-{}-{nanos:x}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

async fn create(
    api: &Api<'_>,
    spec: &StackSpec,
    seen: &mut HashSet<String>,
) -> Result<Report, String> {
    let mut call = stack_arguments!(api.client.create_stack(), spec)
        .set_timeout_in_minutes(spec.create_timeout)
        .set_stack_policy_body(spec.stack_policy_body.clone())
        .set_enable_termination_protection(spec.termination_protection);
    // CloudFormation takes one of the two.
    if let Some(on_failure) = &spec.on_create_failure {
        call = call.on_failure(OnFailure::from(on_failure.as_str()));
    } else {
        call = call.set_disable_rollback(spec.disable_rollback);
    }
    api.sink.progress("creating stack".into());
    call.client_request_token(request_token("CreateStack"))
        .send()
        .await
        .map_err(|err| aws_error(api, "CreateStack", &err))?;
    settle(api, spec, "create", "CREATE", seen).await
}

/// Waits for a create or update, then reports with outputs and events.
async fn settle(
    api: &Api<'_>,
    spec: &StackSpec,
    doing: &str,
    verb: &str,
    seen: &mut HashSet<String>,
) -> Result<Report, String> {
    let before = seen.clone();
    let stack = match api.wait(doing, seen).await? {
        Settled::Gone => {
            return Err(format!(
                "stack {} disappeared while it was being {doing}d",
                spec.name
            ))
        }
        Settled::Status(s) => *s,
    };
    let ok = succeeded(&stack.status);
    if ok && !api.wants_events {
        // Nothing reads the events or resources: skip both calls.
        return Ok(Report {
            changed: true,
            output: format!("Stack {verb} complete"),
            message: format!("stack {} {}", spec.name, stack.status),
            stack: Some(stack),
            events: None,
            resources: None,
            details: Vec::new(),
        });
    }
    // Events for the report (and the failure reasons) and, on success, the
    // resources: one round trip instead of two.
    let (events, resources) = tokio::join!(api.events(), async {
        if ok {
            api.resources().await.ok()
        } else {
            None
        }
    });
    let events = events.unwrap_or_default();
    if !ok {
        let reasons = wait::failed_resources(&events, &before);
        return Err(failure_message(&spec.name, doing, &stack.status, &reasons));
    }
    let events: Vec<String> = events
        .iter()
        .filter(|e| !before.contains(e.event_id().unwrap_or_default()))
        .map(wait::event_line)
        .collect();
    Ok(Report {
        changed: true,
        output: format!("Stack {verb} complete"),
        message: format!("stack {} {}", spec.name, stack.status),
        stack: Some(stack),
        events: Some(events),
        resources,
        details: Vec::new(),
    })
}

async fn update(
    api: &Api<'_>,
    spec: &StackSpec,
    stack: Deployed,
    plan: Plan,
    seen: &mut HashSet<String>,
) -> Result<Report, String> {
    let details = plan.describe(spec);
    let mut report = if plan.stack_changes() && !spec.create_changeset {
        update_stack(api, spec, seen).await?
    } else if plan.stack_changes() || !plan.uncertain.is_empty() {
        change_set(api, spec, &stack, seen).await?
    } else {
        unchanged(
            Some(stack),
            "Stack is already up to date",
            format!("stack {} is up to date", spec.name),
        )
    };
    if let Some(policy) = &plan.stack_policy {
        api.set_stack_policy(policy).await?;
        report.changed = true;
        report.message = format!("{}; stack policy set", report.message);
    }
    if let Some(on) = plan.termination_protection {
        api.set_termination_protection(on).await?;
        report.changed = true;
        report.message = format!(
            "{}; termination protection {}",
            report.message,
            if on { "on" } else { "off" }
        );
    }
    if report.changed {
        report.details = details;
    }
    Ok(report)
}

async fn update_stack(
    api: &Api<'_>,
    spec: &StackSpec,
    seen: &mut HashSet<String>,
) -> Result<Report, String> {
    api.mark_seen(seen).await;
    let call = stack_arguments!(api.client.update_stack(), spec)
        .set_stack_policy_body(spec.stack_policy_body.clone())
        .set_disable_rollback(spec.disable_rollback)
        .client_request_token(request_token("UpdateStack"));
    api.sink.progress("updating stack".into());
    match call.send().await {
        Ok(_) => settle(api, spec, "update", "UPDATE", seen).await,
        Err(err) => {
            let failure = runbook_aws::describe(&err);
            // CloudFormation's answer for "nothing to change".
            if failure.message.contains("No updates are to be performed") {
                let stack = api.describe().await?;
                Ok(unchanged(
                    stack,
                    "Stack is already up to date",
                    format!("stack {} is up to date", spec.name),
                ))
            } else {
                Err(aws_error(api, "UpdateStack", &err))
            }
        }
    }
}

/// Asks CloudFormation what would change; executes unless the task only
/// wants the change set (`create_changeset`).
async fn change_set(
    api: &Api<'_>,
    spec: &StackSpec,
    stack: &Deployed,
    seen: &mut HashSet<String>,
) -> Result<Report, String> {
    let name = spec
        .changeset_name
        .clone()
        .unwrap_or_else(|| format!("runbook-{}", std::process::id()));
    stack_arguments!(api.client.create_change_set(), spec)
        .change_set_name(&name)
        .change_set_type(ChangeSetType::Update)
        .send()
        .await
        .map_err(|err| aws_error(api, "CreateChangeSet", &err))?;
    let deadline = super::deadline_after(api.settings.wait_timeout);
    let mut polls = 0;
    let (status, reason, changes) = loop {
        let out = api
            .client
            .describe_change_set()
            .stack_name(&spec.name)
            .change_set_name(&name)
            .send()
            .await
            .map_err(|err| aws_error(api, "DescribeChangeSet", &err))?;
        let status = out
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        if !matches!(status.as_str(), "CREATE_PENDING" | "CREATE_IN_PROGRESS") {
            break (
                status,
                out.status_reason().unwrap_or_default().to_string(),
                out.changes().len(),
            );
        }
        if std::time::Instant::now() >= deadline {
            return Err(format!(
                "timed out waiting for change set {name} of stack {}",
                spec.name
            ));
        }
        tokio::time::sleep(wait::pause(
            api.settings.first_poll,
            api.settings.max_poll,
            polls,
        ))
        .await;
        polls += 1;
    };
    if status == "FAILED" {
        let nothing = reason.contains("didn't contain changes")
            || reason.contains("No updates are to be performed");
        let _ = api
            .client
            .delete_change_set()
            .stack_name(&spec.name)
            .change_set_name(&name)
            .send()
            .await;
        return if nothing {
            Ok(unchanged(
                Some(stack.clone()),
                "Stack is already up to date",
                format!("stack {} is up to date", spec.name),
            ))
        } else {
            Err(format!(
                "change set {name} of stack {} failed: {reason}",
                spec.name
            ))
        };
    }
    if spec.create_changeset {
        return Ok(Report {
            changed: true,
            output: format!(
                "Change set {name} created with {changes} change(s); execute it to apply"
            ),
            stack: Some(stack.clone()),
            events: Some(Vec::new()),
            resources: None,
            message: format!(
                "created change set {name} for stack {} (not executed)",
                spec.name
            ),
            details: Vec::new(),
        });
    }
    api.mark_seen(seen).await;
    api.client
        .execute_change_set()
        .stack_name(&spec.name)
        .change_set_name(&name)
        .client_request_token(request_token("ExecuteChangeSet"))
        .send()
        .await
        .map_err(|err| aws_error(api, "ExecuteChangeSet", &err))?;
    settle(api, spec, "update", "UPDATE", seen).await
}
