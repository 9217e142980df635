//! `amazon.aws.cloudformation`: reconcile one stack.
//!
//! present: no stack -> create; in sync -> nothing (two read calls);
//! different -> update (or a change set where only CloudFormation can
//! tell); left by a failed create -> delete and create again.
//! absent: delete; already gone -> ok.

mod analysis;
mod diff;
mod directory;
mod plan;
mod spec;
mod validate;
mod wait;
mod watch;

pub(crate) use analysis::read_template;
pub(crate) use analysis::StackFacts;
pub(crate) use directory::StackDirectory;
pub(crate) use spec::ParamSpec;
pub(crate) use watch::Watches;

use crate::aws::Retrying;
use std::collections::HashSet;

use aws_sdk_cloudformation::types::{Capability, OnFailure, Parameter, Tag, TemplateStage};
use aws_sdk_cloudformation::Client;
use indexmap::IndexMap;
use runbook_aws::Target;
use runbook_module::{
    Analysis, Arg, BoxFuture, Call, ErrorKind, Module, ModuleFailure, ModuleOutput, ModuleSpec,
    OptionKind, OptionSpec, PlaybookError, Progress, Services, StaticFacts, Teardown,
};
use serde_json::{json, Value as Json};

use super::{AwsContext, RunnerSettings, CONNECTION, GROUP, UNSUPPORTED_CONNECTION};
use diff::{compare, Deployed, Plan};
use spec::StackSpec;
use wait::{succeeded, Settled};

/// How many times a task reads its stack again when the stack changed under
/// it (another run created it or holds it) before it gives up.
const RECONCILE_ROUNDS: u32 = 5;

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
        let undo = super::absent_args(args, &WHERE)?;
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
    /// The task's fork, given back while it waits.
    fork: &'a dyn runbook_module::Fork,
    directory: &'a StackDirectory,
    watches: &'a watch::Watches,
    /// Something reads this task's events or resources: fetch them.
    wants_events: bool,
    /// `--diff`: show the resource plan and the template's text diff.
    diff: bool,
    /// The account, region and stack, for planning values such as
    /// `!Sub "${AWS::AccountId}"`.
    pseudo: runbook_cfn::plan::Pseudo,
    /// Which tasks of the playbook import which names, by account.
    imports: Option<std::sync::Arc<runbook_module::PlaybookImports>>,
    account: runbook_module::AccountKey,
    /// Replaying a saved plan: the stack as it was when the plan was made.
    expected_live: Option<Json>,
    /// Replaying a saved plan: the plan this task made.
    expected: Option<Json>,
    /// Set when a step met a stack that changed under it (it appeared, or
    /// another operation holds it): the task reads the stack again and
    /// reconciles, instead of failing.
    again: std::sync::Mutex<Option<String>>,
}

pub(super) fn aws_error<E, R>(
    api: &Api<'_>,
    operation: &str,
    err: &aws_sdk_cloudformation::error::SdkError<E, R>,
) -> String
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    format!(
        "stack {}: {}",
        api.stack,
        runbook_aws::retry::explained(api.target, operation, err)
    )
}

fn is_missing(code: Option<&str>, message: &str) -> bool {
    code == Some("ValidationError") && message.contains("does not exist")
}

impl Retrying for Api<'_> {
    fn sink(&self) -> &dyn Progress {
        self.sink
    }
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
            .retrying("DescribeStacks", || {
                self.client.describe_stacks().stack_name(self.stack).send()
            })
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
        self.retrying("GetTemplate", || {
            self.client
                .get_template()
                .stack_name(self.stack)
                .template_stage(TemplateStage::Original)
                .send()
        })
        .await
        .map(|out| out.template_body().map(str::to_string))
        .map_err(|err| aws_error(self, "GetTemplate", &err))
    }

    async fn events(&self) -> Result<Vec<aws_sdk_cloudformation::types::StackEvent>, String> {
        self.retrying("DescribeStackEvents", || {
            self.client
                .describe_stack_events()
                .stack_name(self.stack)
                .send()
        })
        .await
        .map(|out| out.stack_events().to_vec())
        .map_err(|err| aws_error(self, "DescribeStackEvents", &err))
    }

    async fn resources(&self) -> Result<Json, String> {
        let mut summaries = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .retrying("ListStackResources", || {
                    self.client
                        .list_stack_resources()
                        .stack_name(self.stack)
                        .set_next_token(token.clone())
                        .send()
                })
                .await
                .map_err(|err| aws_error(self, "ListStackResources", &err))?;
            summaries.extend(page.stack_resource_summaries().iter().cloned());
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
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
        let token = request_token("DeleteStack");
        self.retrying("DeleteStack", || {
            self.client
                .delete_stack()
                .stack_name(self.stack)
                .client_request_token(&token)
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|err| aws_error(self, "DeleteStack", &err))
    }

    /// Marks the step as one to do again after reading the stack anew.
    fn again(&self, why: String) -> String {
        if let Ok(mut again) = self.again.lock() {
            *again = Some(why.clone());
        }
        why
    }

    fn take_again(&self) -> Option<String> {
        self.again.lock().ok()?.take()
    }

    /// Replaying a saved plan whose change set was kept: its name.
    fn reviewed_change_set(&self) -> Option<String> {
        let plan = self.expected.as_ref()?;
        if plan.get("kept") != Some(&Json::Bool(true)) {
            return None;
        }
        plan.get("change_set")?.as_str().map(str::to_string)
    }

    /// Replaying a saved plan: refuses when the stack is not as it was when
    /// the plan was made (created, deleted or changed since).
    fn check_unmoved(&self, now: Option<&Deployed>) -> Result<(), String> {
        let Some(expected) = &self.expected_live else {
            return Ok(());
        };
        let now = live_of(now);
        if &now == expected {
            return Ok(());
        }
        let describe = |live: &Json| match live {
            Json::Null => "absent".to_string(),
            live => format!(
                "{} (last changed {})",
                live["status"].as_str().unwrap_or("?"),
                live["last_changed"].as_str().unwrap_or("?")
            ),
        };
        Err(format!(
            "refused by the saved plan: stack {} changed since the plan was made: it was {}, it is {}; make a new plan",
            self.stack,
            describe(expected),
            describe(&now)
        ))
    }

    /// Fails when another stack imports an export the update removes or
    /// changes: CloudFormation would refuse the update half way.
    async fn check_exports(&self, names: &[String]) -> Result<(), String> {
        // Tasks of this playbook that import it: known without a call.
        if let Some(imports) = &self.imports {
            for name in names {
                // Names the graph resolved before running hold stand-ins
                // for the account id and a region the task does not name.
                let mut offline = name.clone();
                if let Some(account) = &self.pseudo.account_id {
                    offline = offline.replace(account, &self.account.account_placeholder());
                }
                if self.account.region.is_none() {
                    if let Some(region) = &self.pseudo.region {
                        offline = offline.replace(region, runbook_module::REGION_PLACEHOLDER);
                    }
                }
                let importers = imports.importers(&self.account, &offline);
                let importers = if importers.is_empty() {
                    imports.importers(&self.account, name)
                } else {
                    importers
                };
                if !importers.is_empty() {
                    return Err(format!(
                        "stack {}: the update removes or changes export `{name}`, which the stack of task{} {} imports; CloudFormation would refuse it half way. Change the importing stacks first, or keep the export",
                        self.stack,
                        if importers.len() == 1 { "" } else { "s" },
                        importers
                            .iter()
                            .map(|t| format!("`{t}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        for name in names {
            let importers: Vec<String> = match self
                .client
                .list_imports()
                .export_name(name)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
            {
                Ok(stacks) => stacks,
                Err(err) => {
                    let failure = runbook_aws::describe(&err);
                    // CloudFormation's answer when nothing imports it.
                    if failure.message.contains("is not imported by any stack") {
                        continue;
                    }
                    // An endpoint without ListImports (moto): say so, and
                    // leave the verdict to CloudFormation.
                    if failure.code.is_none() {
                        self.sink.progress(format!(
                            "cannot check which stacks import `{name}` (ListImports: {}); CloudFormation refuses the update if one does",
                            failure.message
                        ));
                        continue;
                    }
                    return Err(aws_error(self, "ListImports", &err));
                }
            };
            if !importers.is_empty() {
                return Err(format!(
                    "stack {}: the update removes or changes export `{name}`, which {} import{}; CloudFormation would refuse it half way. Change the importing stacks first, or keep the export",
                    self.stack,
                    importers.join(", "),
                    if importers.len() == 1 { "s" } else { "" }
                ));
            }
        }
        Ok(())
    }

    async fn stack_policy(&self) -> Result<Option<String>, String> {
        self.retrying("GetStackPolicy", || {
            self.client.get_stack_policy().stack_name(self.stack).send()
        })
        .await
        .map(|out| out.stack_policy_body().map(str::to_string))
        .map_err(|err| aws_error(self, "GetStackPolicy", &err))
    }

    async fn set_stack_policy(&self, body: &str) -> Result<(), String> {
        self.retrying("SetStackPolicy", || {
            self.client
                .set_stack_policy()
                .stack_name(self.stack)
                .stack_policy_body(body)
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|err| aws_error(self, "SetStackPolicy", &err))
    }

    async fn set_termination_protection(&self, on: bool) -> Result<(), String> {
        self.retrying("UpdateTerminationProtection", || {
            self.client
                .update_termination_protection()
                .stack_name(self.stack)
                .enable_termination_protection(on)
                .send()
        })
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
        last_changed: stack
            .last_updated_time()
            .or(stack.creation_time())
            .map(|t| t.to_string()),
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
            .set_parameters(Some(parameters_of(&$spec.parameters)))
            .set_tags(tags_of($spec.tags.as_ref()))
            .set_capabilities(Some(capabilities_of($spec)))
            .set_template_body($spec.body.clone())
            .set_template_url($spec.url.clone())
            .set_role_arn($spec.role_arn.clone())
            .set_notification_arns($spec.notification_arns.clone())
    };
}

mod change_set;

/// The parameters of a stack or stack set call, as the task gives them.
pub(crate) fn parameters_of(parameters: &[ParamSpec]) -> Vec<Parameter> {
    parameters
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

/// The tags of a stack or stack set call; `None` leaves them as they are.
pub(crate) fn tags_of(tags: Option<&IndexMap<String, String>>) -> Option<Vec<Tag>> {
    tags.map(|tags| {
        tags.iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect()
    })
}

pub(super) fn capabilities_of(spec: &StackSpec) -> Vec<Capability> {
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
    /// The resource plan as data, when one was made.
    plan: Option<Json>,
    /// Data the plan puts at risk.
    warnings: Vec<String>,
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
            plan: self.plan,
            warnings: self.warnings,
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
        fork: call.fork,
        directory: &runner.directory,
        watches: &runner.watches,
        wants_events: call.reads.may_read("events") || call.reads.may_read("stack_resources"),
        diff: call.diff,
        pseudo: runbook_cfn::plan::Pseudo {
            account_id: runner.account_of(target),
            region: match &target.region {
                Some(region) => Some(region.clone()),
                None => runner
                    .pool
                    .config(target)
                    .await
                    .ok()
                    .and_then(|c| c.region().map(|r| r.to_string())),
            },
            stack_name: Some(spec.name.clone()),
            partition: None,
        },
        imports: call.services.get::<runbook_module::PlaybookImports>(),
        account: runbook_module::AccountKey {
            profile: target.profile.clone(),
            region: target.region.clone(),
            endpoint_url: target.endpoint_url.clone(),
        },
        expected_live: call.expected.and_then(|plan| plan.get("live")).cloned(),
        expected: call.expected.cloned(),
        again: std::sync::Mutex::new(None),
    };
    let report = if spec.absent {
        absent(&api, &spec, call.check).await
    } else {
        present(&api, &spec, call.check).await
    };
    let mut report = report.map_err(ModuleFailure::new)?;
    // A plan, saved, must know the stack it was made from.
    if call.check {
        let live = live_of(
            report
                .stack
                .as_ref()
                .filter(|s| s.stack_id != KNOWN_AFTER_APPLY),
        );
        let plan = report.plan.get_or_insert_with(|| json!({}));
        if let Json::Object(map) = plan {
            map.insert("live".into(), live);
        }
    }
    Ok(report.into_output())
}

/// What identifies the state a plan was made from: the stack, its status,
/// when it last changed (`null`: no stack).
fn live_of(stack: Option<&Deployed>) -> Json {
    match stack {
        None => Json::Null,
        Some(stack) => json!({
            "stack_id": stack.stack_id,
            "status": stack.status,
            "last_changed": stack.last_changed,
        }),
    }
}

async fn absent(api: &Api<'_>, spec: &StackSpec, check: bool) -> Result<Report, String> {
    let first = api.describe_first().await?;
    api.check_unmoved(first.as_ref())?;
    let Some(stack) = first else {
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
            plan: None,
            warnings: Vec::new(),
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
        plan: None,
        warnings: Vec::new(),
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
        plan: None,
        warnings: Vec::new(),
    }
}

fn failure_message(stack: &str, doing: &str, status: &str, reasons: &[String]) -> String {
    let mut message = format!("stack {stack} failed to {doing}: {status}");
    for reason in reasons {
        message.push_str(&format!("\n  - {reason}"));
    }
    message
}

/// Reconciles, reading the stack again when it changed under the task (it
/// appeared after the listing, or another operation holds it): another run
/// of the same playbook, the console, or a create retried after its answer
/// was lost.
async fn present(api: &Api<'_>, spec: &StackSpec, check: bool) -> Result<Report, String> {
    let mut round = 0;
    loop {
        match present_once(api, spec, check).await {
            Err(why) => match api.take_again() {
                Some(reason) if round < RECONCILE_ROUNDS => {
                    round += 1;
                    api.sink
                        .progress(format!("{reason}: reading the stack again to reconcile"));
                }
                _ => return Err(why),
            },
            done => return done,
        }
    }
}

async fn present_once(api: &Api<'_>, spec: &StackSpec, check: bool) -> Result<Report, String> {
    if spec.body.is_none() && spec.url.is_none() {
        return Err("state=present needs `template`, `template_body` or `template_url`".into());
    }
    let mut seen = HashSet::new();
    let mut existing = api.describe_first().await?;
    api.check_unmoved(existing.as_ref())?;
    // A saved plan made through a kept change set executes exactly it.
    if let Some(name) = api.reviewed_change_set() {
        if !check {
            let mut seen = HashSet::new();
            return execute_change_set(api, spec, &name, &mut seen).await;
        }
    }

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
                        let mut report = create_plan(spec, &api.pseudo);
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
            Ok(create_plan(spec, &api.pseudo))
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
    // The resource-level plan: shown in check mode and with --diff, and
    // always checked for exports other stacks import.
    let resources = match (&spec.template, &deployed_template) {
        (Some(desired), Some(text)) => {
            let deployed = runbook_cfn::parse(text).map_err(|e| {
                format!(
                    "stack {}: the deployed template cannot be read: {}",
                    spec.name, e.message
                )
            })?;
            match plan::update(spec, desired, &stack, &deployed, &api.pseudo) {
                Ok(resources) => Some((resources, deployed)),
                // A template runbook cannot evaluate is still CloudFormation's
                // to judge: show what compare says.
                Err(why) => {
                    api.sink.progress(format!("no resource-level plan: {why}"));
                    None
                }
            }
        }
        _ => None,
    };
    // An export another stack imports cannot change: an apply stops here,
    // before UpdateStack; a plan says so and goes on planning.
    let mut refused = None;
    if let Some((resources, _)) = &resources {
        if let Err(why) = api.check_exports(&plan::broken_exports(resources)).await {
            if !check {
                return Err(why);
            }
            refused = Some(why);
        }
    }
    let mut details = plan.describe(spec);
    if let Some((resources, deployed)) = &resources {
        // Resource lines say more than "template changed".
        details.retain(|l| l != "template changed");
        details.extend(plan::describe(resources, Some(&stack)));
        if api.diff {
            if let Some(desired) = &spec.template {
                let text = runbook_cfn::plan::template_diff(
                    deployed,
                    desired,
                    &runbook_cfn::plan::TextDiffOptions::default(),
                );
                details.extend(text.lines().map(|l| format!("  {l}")));
            }
        }
    }
    if check && api.settings.change_sets {
        return change_set_plan(
            api,
            spec,
            stack,
            resources.map(|(r, _)| r),
            details,
            refused,
        )
        .await;
    }
    if check {
        let known = plan.parameters.iter().any(|p| {
            !p.new
                .as_deref()
                .is_some_and(|v| v.contains(KNOWN_AFTER_APPLY))
        }) || plan.tags.is_some()
            || plan.role_arn
            || plan.notification_arns
            || plan.termination_protection.is_some()
            || plan.stack_policy.is_some()
            || resources.as_ref().is_some_and(|(r, _)| plan::certain(r))
            || (plan.template_changed && resources.is_none());
        let waits_for_values = plan.parameters.iter().any(|p| {
            p.new
                .as_deref()
                .is_some_and(|v| v.contains(KNOWN_AFTER_APPLY))
        });
        let mut stack = stack;
        if let Some((resources, _)) = &resources {
            stack.outputs = plan::outputs(resources, Some(&stack));
        }
        return Ok(Report {
            changed: known || waits_for_values,
            output: "Stack would be updated".into(),
            message: if known {
                format!("would update stack {}", spec.name)
            } else if waits_for_values {
                format!(
                    "stack {} may change (it takes values known after apply)",
                    spec.name
                )
            } else {
                format!(
                    "stack {} may change (CloudFormation decides on apply)",
                    spec.name
                )
            },
            details,
            plan: resources
                .as_ref()
                .map(|(r, _)| plan::to_json(r, Some(&stack))),
            warnings: refused
                .iter()
                .map(|why| format!("{why} (apply will stop here)"))
                .chain(
                    resources
                        .as_ref()
                        .map(|(r, _)| plan::warnings(r, &spec.name))
                        .unwrap_or_default(),
                )
                .collect(),
            stack: Some(stack),
            events: Some(Vec::new()),
            resources: None,
        });
    }
    let mut report = update(api, spec, stack, plan, &mut seen).await?;
    if report.changed {
        report.details = details;
        if let Some((resources, _)) = &resources {
            report.plan = Some(plan::to_json(resources, None));
            report.warnings = plan::warnings(resources, &spec.name);
        }
    }
    Ok(report)
}

/// Check mode through a change set: CloudFormation's own plan, shown,
/// then deleted (kept when a saved plan will execute it).
async fn change_set_plan(
    api: &Api<'_>,
    spec: &StackSpec,
    stack: Deployed,
    resources: Option<runbook_cfn::plan::Plan>,
    mut details: Vec<String>,
    refused: Option<String>,
) -> Result<Report, String> {
    let name = change_set::name_for(spec);
    let prepared = change_set::prepare(api, spec, &name).await?;
    let mut stack = stack;
    if let Some(resources) = &resources {
        stack.outputs = plan::outputs(resources, Some(&stack));
    }
    let (lines, cfn_plan) = match prepared {
        change_set::Prepared::Nothing => {
            return Ok(unchanged(
                Some(stack),
                "Stack is already up to date",
                format!(
                    "stack {} is up to date (CloudFormation found no change)",
                    spec.name
                ),
            ))
        }
        change_set::Prepared::Ready { lines, plan, .. } => (lines, plan),
    };
    // CloudFormation's resource lines replace runbook's own.
    details.retain(|l| !l.starts_with("resource ") && !l.starts_with("    "));
    details.extend(lines);
    let kept = api.settings.keep_change_sets;
    if !kept {
        change_set::delete(api, spec, &name).await;
    }
    let mut plan = cfn_plan;
    plan["kept"] = json!(kept);
    Ok(Report {
        changed: true,
        output: "Stack would be updated".into(),
        message: format!("would update stack {} (change set {name})", spec.name),
        details,
        plan: Some(plan),
        warnings: refused
            .iter()
            .map(|why| format!("{why} (apply will stop here)"))
            .chain(
                resources
                    .as_ref()
                    .map(|r| plan::warnings(r, &spec.name))
                    .unwrap_or_default(),
            )
            .collect(),
        stack: Some(stack),
        events: Some(Vec::new()),
        resources: None,
    })
}

fn create_plan(spec: &StackSpec, pseudo: &runbook_cfn::plan::Pseudo) -> Report {
    let mut details = vec!["create".to_string()];
    for p in &spec.parameters {
        if let Some(v) = &p.value {
            details.push(format!("parameter {} = {}", p.key, spec.shown(&p.key, v)));
        }
    }
    let planned = spec
        .template
        .as_ref()
        .and_then(|t| plan::create(spec, t, pseudo).ok());
    // Outputs do not exist yet: later tasks see those the template computes
    // from parameters and names, and a placeholder for the rest.
    let outputs: IndexMap<String, String> = match &planned {
        Some(p) => plan::outputs(p, None),
        None => spec
            .template
            .as_ref()
            .and_then(|t| t.body.get("Outputs"))
            .and_then(Json::as_object)
            .map(|o| {
                o.keys()
                    .map(|k| (k.clone(), KNOWN_AFTER_APPLY.to_string()))
                    .collect()
            })
            .unwrap_or_default(),
    };
    if let Some(p) = &planned {
        details.extend(
            plan::describe(p, None)
                .into_iter()
                .filter(|l| l.starts_with("resource")),
        );
    }
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
        plan: planned.as_ref().map(|p| plan::to_json(p, None)),
        warnings: Vec::new(),
    }
}

/// A token for one mutating call. The SDK resends the same input when it
/// retries (throttling, 5xx, a lost answer), so every attempt carries it and
/// CloudFormation treats a retry whose first attempt got through as the same
/// request, instead of answering AlreadyExistsException or starting a
/// second operation. Tokens match `[a-zA-Z][-a-zA-Z0-9]*`, at most 128.
pub(super) fn request_token(operation: &str) -> String {
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
    let token = request_token("CreateStack");
    let sent = api
        .retrying("CreateStack", || {
            call.clone().client_request_token(&token).send()
        })
        .await;
    if let Err(err) = sent {
        let failure = runbook_aws::describe(&err);
        if failure.code.as_deref() == Some("AlreadyExistsException") {
            return Err(api.again(format!(
                "stack {} appeared since it was looked at",
                spec.name
            )));
        }
        return Err(aws_error(api, "CreateStack", &err));
    }
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
            plan: None,
            warnings: Vec::new(),
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
        plan: None,
        warnings: Vec::new(),
    })
}

async fn update(
    api: &Api<'_>,
    spec: &StackSpec,
    stack: Deployed,
    plan: Plan,
    seen: &mut HashSet<String>,
) -> Result<Report, String> {
    let mut report = if plan.stack_changes() && !spec.create_changeset && !api.settings.change_sets
    {
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
    Ok(report)
}

async fn update_stack(
    api: &Api<'_>,
    spec: &StackSpec,
    seen: &mut HashSet<String>,
) -> Result<Report, String> {
    api.mark_seen(seen).await;
    let token = request_token("UpdateStack");
    let call = stack_arguments!(api.client.update_stack(), spec)
        .set_stack_policy_body(spec.stack_policy_body.clone())
        .set_disable_rollback(spec.disable_rollback)
        .client_request_token(&token);
    api.sink.progress("updating stack".into());
    match api.retrying("UpdateStack", || call.clone().send()).await {
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
            } else if busy(&failure) {
                Err(api.again(format!("stack {} is busy ({})", spec.name, failure.message)))
            } else {
                Err(aws_error(api, "UpdateStack", &err))
            }
        }
    }
}

/// CloudFormation's answer to a change while another operation holds the
/// stack ("... is in UPDATE_IN_PROGRESS state and can not be updated").
fn busy(failure: &runbook_aws::ServiceFailure) -> bool {
    failure.code.as_deref() == Some("ValidationError")
        && failure.message.contains("state and can not be")
}

/// Asks CloudFormation what would change; executes unless the task only
/// wants the change set (`create_changeset`).
async fn change_set(
    api: &Api<'_>,
    spec: &StackSpec,
    stack: &Deployed,
    seen: &mut HashSet<String>,
) -> Result<Report, String> {
    let name = change_set::name_for(spec);
    let (name, lines, count) = match change_set::prepare(api, spec, &name).await? {
        change_set::Prepared::Nothing => {
            return Ok(unchanged(
                Some(stack.clone()),
                "Stack is already up to date",
                format!("stack {} is up to date", spec.name),
            ))
        }
        change_set::Prepared::Ready {
            name, lines, count, ..
        } => (name, lines, count),
    };
    if spec.create_changeset {
        return Ok(Report {
            changed: true,
            output: format!(
                "Change set {name} created with {count} change(s); execute it to apply"
            ),
            stack: Some(stack.clone()),
            events: Some(Vec::new()),
            resources: None,
            message: format!(
                "created change set {name} for stack {} (not executed)",
                spec.name
            ),
            details: lines,
            plan: None,
            warnings: Vec::new(),
        });
    }
    execute_change_set(api, spec, &name, seen).await
}

/// Executes a reviewed change set and waits for the update.
async fn execute_change_set(
    api: &Api<'_>,
    spec: &StackSpec,
    name: &str,
    seen: &mut HashSet<String>,
) -> Result<Report, String> {
    api.mark_seen(seen).await;
    let token = request_token("ExecuteChangeSet");
    api.retrying("ExecuteChangeSet", || {
        api.client
            .execute_change_set()
            .stack_name(&spec.name)
            .change_set_name(name)
            .client_request_token(&token)
            .send()
    })
    .await
    .map_err(|err| aws_error(api, "ExecuteChangeSet", &err))?;
    settle(api, spec, "update", "UPDATE", seen).await
}
