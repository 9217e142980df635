//! `community.aws.cloudformation_stack_set`: reconcile one stack set and
//! its instances, from the administrator account.
//!
//! present: no stack set -> CreateStackSet, then CreateStackInstances;
//! in sync (template, parameters, tags and settings, instances) -> nothing
//! but DescribeStackSet and ListStackInstances; settings differ -> one
//! UpdateStackSet, which updates every instance; targets differ ->
//! DeleteStackInstances / CreateStackInstances for exactly the instances
//! that differ. An operation already running on the stack set is waited
//! for, then the stack set is looked at again.
//! absent: DeleteStackInstances (keeping their stacks unless
//! `purge_stacks`), then DeleteStackSet.
//!
//! `cloudformation_stack_set_info` ([`info`]) registers a stack set's
//! instances and the outputs of their stacks.

mod analysis;
mod api;
mod info;
mod plan;
mod planned;
mod report;
mod spec;

pub(crate) use info::StackSetInfo;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use indexmap::IndexMap;
use runbook_aws::Target;
use runbook_module::{
    Analysis, Arg, BoxFuture, Call, ErrorKind, Module, ModuleFailure, ModuleOutput, ModuleSpec,
    OptionKind, OptionSpec, PlaybookError, Services, StaticFacts, Teardown,
};
use serde_json::{json, Value as Json};

use super::{AwsContext, CONNECTION, GROUP, UNSUPPORTED_CONNECTION};
use api::{Api, Refusal};
use plan::{Deployed, Instance, Plan, Targets};
use spec::{PermissionModel, StackSetSpec};

/// What a value that only exists after apply shows in check mode.
const KNOWN_AFTER_APPLY: &str = "(known after apply)";

/// `community.aws.cloudformation_stack_set`.
pub struct StackSet;

static OPTIONS: [OptionSpec; 28] = [
    OptionSpec::new("name", OptionKind::Str).required(),
    OptionSpec::choice("state", &["present", "absent"]),
    OptionSpec::new("description", OptionKind::Str),
    OptionSpec::new("template", OptionKind::Str),
    OptionSpec::new("template_body", OptionKind::StrOrDict),
    OptionSpec::new("template_url", OptionKind::Str),
    OptionSpec::new("parameters", OptionKind::Dict),
    OptionSpec::new("tags", OptionKind::Dict),
    OptionSpec::new("capabilities", OptionKind::List),
    OptionSpec::new("accounts", OptionKind::Any),
    OptionSpec::new("regions", OptionKind::StrOrList),
    OptionSpec::new("administration_role_arn", OptionKind::Str).aliases(&[
        "admin_role_arn",
        "administration_role",
        "admin_role",
    ]),
    OptionSpec::new("execution_role_name", OptionKind::Str).aliases(&[
        "execution_role",
        "exec_role",
        "exec_role_name",
    ]),
    OptionSpec::new("purge_stacks", OptionKind::Bool),
    OptionSpec::new("failure_tolerance", OptionKind::Dict),
    OptionSpec::new("wait", OptionKind::Bool),
    OptionSpec::new("wait_timeout", OptionKind::Int),
    OptionSpec::choice("permission_model", &["SELF_MANAGED", "SERVICE_MANAGED"]),
    OptionSpec::new("deployment_targets", OptionKind::Dict),
    OptionSpec::new("auto_deployment", OptionKind::Dict),
    OptionSpec::choice("call_as", &["SELF", "DELEGATED_ADMIN"]),
    OptionSpec::new("region_order", OptionKind::StrOrList),
    OptionSpec::choice("region_concurrency_type", &["SEQUENTIAL", "PARALLEL"]),
    OptionSpec::choice(
        "concurrency_mode",
        &["STRICT_FAILURE_TOLERANCE", "SOFT_FAILURE_TOLERANCE"],
    ),
    OptionSpec::new("managed_execution", OptionKind::Dict),
    CONNECTION[0],
    CONNECTION[1],
    CONNECTION[2],
];

static SPEC: ModuleSpec = ModuleSpec {
    fqcn: "community.aws.cloudformation_stack_set",
    short: "cloudformation_stack_set",
    options: &OPTIONS,
    unsupported: &UNSUPPORTED_CONNECTION,
    free_keys: false,
    free_form: None,
    groups: GROUP,
    result_fields: &[
        "operations",
        "operations_log",
        "stack_instances",
        "stack_set",
    ],
};

/// The options that say which stack set, and how to reach it: all that
/// `destroy` needs besides `purge_stacks`.
const WHERE: [&str; 5] = ["name", "call_as", "profile", "region", "endpoint_url"];

/// Whether a written value holds a template (checked after rendering).
pub(crate) fn templated(value: &Json) -> bool {
    match value {
        Json::String(s) => s.contains("{{") || s.contains("{%"),
        Json::Array(items) => items.iter().any(templated),
        Json::Object(map) => map.values().any(templated),
        _ => false,
    }
}

impl Module for StackSet {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    /// Problems visible in the options as written; values that hold
    /// templates are checked again, rendered, when the task runs.
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
        let is_templated = |k: &str| args.get(k).is_some_and(|a| templated(&a.value));
        // A missing `name` is the loader's to report.
        if is_templated("state") || is_templated("permission_model") || !args.contains_key("name") {
            return errors;
        }
        // The options as written, without the template (read at analysis)
        // and without values that hold templates (checked once rendered).
        let literal: IndexMap<String, Json> = args
            .iter()
            .filter(|(k, a)| {
                !matches!(k.as_str(), "template" | "template_body") && !templated(&a.value)
            })
            .map(|(k, a)| (k.clone(), a.value.clone()))
            .collect();
        if let Err(message) =
            StackSetSpec::from_args(&literal, &[], &|b| runbook_cfn::parse(b).map(Arc::new))
        {
            // The options the message names, by their top-level name.
            let named: Vec<String> = message
                .split('`')
                .skip(1)
                .step_by(2)
                .map(|n| n.split('.').next().unwrap_or(n).to_string())
                .collect();
            if named.iter().any(|n| is_templated(n)) {
                return errors;
            }
            let mut err = PlaybookError::new(ErrorKind::Schema, message);
            err.location = named
                .iter()
                .find_map(|n| args.get(n))
                .map(|a| a.location.clone());
            errors.push(err);
        }
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

    /// Deletes the instances (their stacks too, unless the task kept them
    /// with `purge_stacks: false`), then the stack set.
    fn teardown(&self, args: &IndexMap<String, Json>) -> Option<Teardown> {
        let mut undo = super::absent_args(args, &WHERE)?;
        if let Some(purge) = args.get("purge_stacks") {
            undo.insert("purge_stacks".into(), purge.clone());
        }
        if let Some(timeout) = args.get("wait_timeout") {
            undo.insert("wait_timeout".into(), timeout.clone());
        }
        let name = args.get("name").and_then(Json::as_str).unwrap_or("?");
        Some(Teardown {
            name: format!("delete stack set {name}"),
            args: undo,
        })
    }
}

/// What the task reports.
#[derive(Default)]
struct Outcome {
    changed: bool,
    message: String,
    details: Vec<String>,
    stack_set: Option<Json>,
    instances: Option<Vec<Json>>,
    msg: Option<String>,
    /// The plan as data, for the JSON report and saved plans.
    plan: Option<Json>,
    /// Risks a reviewer must see (stacks deleted with their instances).
    warnings: Vec<String>,
}

/// One run of the task: the API, the desired state and what this run did.
struct Reconcile<'a> {
    api: Api<'a>,
    spec: &'a StackSetSpec,
    check: bool,
    /// This run's operations, as DescribeStackSetOperation ended them.
    operations: Vec<Json>,
    changed: bool,
    aws: &'a Arc<AwsContext>,
    /// Replaying a saved plan: the stack set as it was when the plan was
    /// made (`live` of the plan).
    expected_live: Option<Json>,
    /// What the first look saw, to tell a saved plan what it was made
    /// from: (stack set id, instances); `None` before, or no stack set.
    seen: Option<(String, Vec<Instance>)>,
    looked: bool,
    diff: bool,
}

/// Why one pass of reconciling stopped before its end.
enum Stop {
    /// Another operation runs on the stack set: wait for it, then look
    /// again.
    Busy,
    /// The stack set changed under us: look again.
    Again,
    Failed(String),
}

impl From<String> for Stop {
    fn from(message: String) -> Self {
        Stop::Failed(message)
    }
}

impl From<Refusal> for Stop {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Busy => Stop::Busy,
            Refusal::Stale => Stop::Again,
            Refusal::Failed(message) => Stop::Failed(message),
        }
    }
}

async fn run(
    aws: &Arc<AwsContext>,
    target: &Target,
    call: &Call<'_>,
) -> Result<ModuleOutput, ModuleFailure> {
    let spec = StackSetSpec::from_args(&call.args, call.search, &|body| aws.parse_template(body))
        .map_err(ModuleFailure::new)?;
    let client = aws
        .pool
        .cloudformation(target)
        .await
        .map_err(|e| ModuleFailure::new(e.to_string()))?;
    let timeout = spec.wait_timeout.unwrap_or(aws.settings.wait_timeout);
    let mut r = Reconcile {
        api: Api {
            client,
            target,
            name: &spec.name,
            call_as: api::call_as(&spec),
            first_poll: aws.settings.first_poll,
            max_poll: aws.settings.max_poll,
            deadline: crate::aws::deadline_after(timeout),
            timeout,
            sink: call.progress,
            fork: call.fork,
        },
        spec: &spec,
        check: call.check,
        operations: Vec::new(),
        changed: false,
        aws,
        expected_live: call
            .expected
            .map(|plan| plan.get("live").cloned().unwrap_or(Json::Null)),
        seen: None,
        looked: false,
        diff: call.diff,
    };
    let mut passes = 0u32;
    let outcome = loop {
        passes += 1;
        let pass = if spec.absent {
            absent(&mut r).await
        } else {
            present(&mut r).await
        };
        match pass {
            Ok(outcome) => break Ok(outcome),
            Err(Stop::Failed(message)) => break Err(message),
            Err(Stop::Busy) => {
                if let Err(message) = r.wait_for_others().await {
                    break Err(message);
                }
            }
            Err(Stop::Again) => {
                if Instant::now() >= r.api.deadline || passes > 20 {
                    break Err(format!(
                        "stack set {}: it kept changing while runbook reconciled it (created or deleted elsewhere?); run again",
                        spec.name
                    ));
                }
                tokio::time::sleep(api::pause(r.api.first_poll, r.api.max_poll, passes - 1)).await;
            }
        }
    };
    let mut result = serde_json::Map::new();
    result.insert("operations".into(), Json::Array(r.operations.clone()));
    match outcome {
        Ok(mut outcome) => {
            if spec.no_wait {
                outcome.details.push(
                    "wait: false: runbook waits for each operation it starts anyway, as community.aws does".into(),
                );
            }
            if let Some(stack_set) = outcome.stack_set.take() {
                result.insert("stack_set".into(), stack_set);
            }
            if let Some(instances) = outcome.instances.take() {
                result.insert("stack_instances".into(), Json::Array(instances));
            }
            if let Some(msg) = outcome.msg.take() {
                result.insert("msg".into(), Json::String(msg));
            }
            // One more call, made only when the playbook may read it.
            if call.reads.may_read("operations_log") && !spec.absent {
                let log = r.api.operations_log().await.unwrap_or_default();
                result.insert("operations_log".into(), Json::Array(log));
            }
            // A plan, saved, must know the stack set it was made from.
            let mut plan = outcome.plan.take();
            if call.check {
                let live = r.live().await.map_err(|message| ModuleFailure {
                    message,
                    ..ModuleFailure::default()
                })?;
                if let Some(Json::Object(map)) = plan.as_mut() {
                    map.insert("live".into(), live);
                }
            }
            Ok(ModuleOutput {
                changed: outcome.changed,
                result,
                facts: IndexMap::new(),
                message: Some(outcome.message),
                details: outcome.details,
                plan,
                warnings: outcome.warnings,
            })
        }
        Err(message) => {
            // What the failure left, best effort, as community.aws reports.
            if !call.check {
                if let Ok((Some(stack_set), instances)) = r.current().await {
                    result.insert("stack_set".into(), stack_set);
                    result.insert("stack_instances".into(), Json::Array(instances));
                }
            }
            Err(ModuleFailure {
                message,
                result,
                details: Vec::new(),
            })
        }
    }
}

impl Reconcile<'_> {
    /// What the first look saw; on replaying a saved plan, refuses when
    /// the stack set moved since the plan was made. Only before this run
    /// changes anything.
    async fn first_look(&mut self, seen: Option<(String, Vec<Instance>)>) -> Result<(), Stop> {
        if self.looked {
            return Ok(());
        }
        self.looked = true;
        self.seen = seen;
        let Some(expected) = self.expected_live.clone() else {
            return Ok(());
        };
        let now = self.live().await?;
        if now == expected {
            return Ok(());
        }
        let describe = |live: &Json| match live {
            Json::Null => "absent".to_string(),
            live => format!(
                "{} instance(s), last operation {}",
                live["instances"].as_array().map_or(0, Vec::len),
                live["last_operation"]["operation_id"]
                    .as_str()
                    .unwrap_or("none")
            ),
        };
        Err(Stop::Failed(format!(
            "refused by the saved plan: stack set {} changed since the plan was made: it was {}, it is {}; make a new plan",
            self.spec.name,
            describe(&expected),
            describe(&now)
        )))
    }

    /// What identifies the state a plan was made from: the stack set, its
    /// instances and their status, its latest operation (every change of
    /// a stack set is an operation); `null`: no stack set.
    async fn live(&self) -> Result<Json, String> {
        let Some((id, instances)) = &self.seen else {
            return Ok(Json::Null);
        };
        // Best effort: a plan made without it is refused on replay.
        let last = match self.api.operations_log().await {
            Ok(mut log) => log.pop().map(|op| {
                json!({
                    "operation_id": op.get("operation_id"),
                    "status": op.get("status"),
                })
            }),
            Err(_) => Some(json!("unknown")),
        };
        let mut listed: Vec<Json> = instances
            .iter()
            .map(|i| json!([i.account, i.region, i.status]))
            .collect();
        listed.sort_by_key(|v| v.to_string());
        Ok(json!({
            "stack_set_id": id,
            "instances": listed,
            "last_operation": last,
        }))
    }

    /// Waits for the operations that others run on the stack set.
    async fn wait_for_others(&mut self) -> Result<(), String> {
        let running = self.api.running().await?;
        if running.is_empty() {
            // Ended between the refusal and the listing, or not listed
            // yet: look again after a pause.
            if Instant::now() >= self.api.deadline {
                return Err(format!(
                    "stack set {}: another operation kept it busy until the timeout ({}s); run again, or raise wait_timeout",
                    self.spec.name,
                    self.api.timeout.as_secs()
                ));
            }
            tokio::time::sleep(self.api.max_poll).await;
            return Ok(());
        }
        for id in running {
            self.api.sink.progress(format!(
                "another operation ({id}) is running on the stack set: waiting for it"
            ));
            // Its failure is not ours: what it left is reconciled next.
            match self.api.wait(&id, "the other operation").await {
                Ok(_) => {}
                Err((message, _)) if message.contains("timed out") => return Err(message),
                Err(_) => {}
            }
        }
        Ok(())
    }

    /// Starts an operation and waits for it; records it.
    async fn operate(
        &mut self,
        what: String,
        started: Result<String, Refusal>,
    ) -> Result<(), Stop> {
        let id = started?;
        self.changed = true;
        match self.api.wait(&id, &what).await {
            Ok(finished) => {
                self.operations.push(finished.operation);
                Ok(())
            }
            Err((message, operation)) => {
                if let Some(operation) = operation {
                    self.operations.push(operation);
                }
                Err(Stop::Failed(message))
            }
        }
    }

    /// The stack set and its instances as they are now, for the result.
    async fn current(&self) -> Result<(Option<Json>, Vec<Json>), String> {
        let Some((_, json)) = self.api.describe().await? else {
            return Ok((None, Vec::new()));
        };
        let instances = self.api.instances().await?;
        Ok((Some(json), instances.into_iter().map(|(_, j)| j).collect()))
    }
}

async fn present(r: &mut Reconcile<'_>) -> Result<Outcome, Stop> {
    let spec = r.spec;
    let Some((deployed, stack_set_json)) = r.api.describe().await? else {
        r.first_look(None).await?;
        if spec.body.is_none() && spec.url.is_none() {
            return Err(Stop::Failed(format!(
                "stack set {} does not exist, and no template was given: give one of `template`, `template_body` or `template_url`",
                spec.name
            )));
        }
        let plan = plan::create_plan(spec);
        if r.check {
            return Ok(create_plan_outcome(r, &plan));
        }
        r.api.create_stack_set(spec).await?;
        r.changed = true;
        // Its instances next, from a fresh look.
        return Err(Stop::Again);
    };
    if let Some(model) = &deployed.permission_model {
        if model != spec.permission_model.as_str() {
            return Err(Stop::Failed(format!(
                "stack set {} is {model}, and the task asks for permission_model {}: CloudFormation changes a permission model only on a stack set without instances; delete the stack set (state: absent) and create it again",
                spec.name,
                spec.permission_model.as_str()
            )));
        }
    }
    let instances = r.api.instances().await?;
    let only: Vec<Instance> = instances.iter().map(|(i, _)| i.clone()).collect();
    r.first_look(Some((id_of(&stack_set_json), only.clone())))
        .await?;
    let plan = plan::compare(spec, &deployed, &only);
    let template = plan::effective_template(spec, Some(&deployed));
    let mut details = plan.describe(template.as_deref());
    // --diff: the template's text, when it changes.
    if r.diff && plan.set_changes.iter().any(|c| c == "template changed") {
        let deployed_template = deployed
            .template_body
            .as_deref()
            .and_then(|b| runbook_cfn::parse(b).ok());
        if let (Some(old), Some(new)) = (deployed_template, spec.template.as_deref()) {
            let text = runbook_cfn::plan::template_diff(
                &old,
                new,
                &runbook_cfn::plan::TextDiffOptions::default(),
            );
            details.extend(text.lines().map(|l| format!("  {l}")));
        }
    }
    let warnings = deletion_warnings(&plan, spec);
    if r.check {
        record_plan(r, &plan, Some(&deployed), &only);
        let mut listed: Vec<Json> = instances.iter().map(|(_, j)| j.clone()).collect();
        listed.extend(planned_instances(&plan));
        let changed = !plan.is_noop();
        return Ok(Outcome {
            changed,
            message: if changed {
                format!("would {}", summary(&plan, &spec.name))
            } else {
                format!("stack set {} is up to date", spec.name)
            },
            plan: Some(plan_json(
                spec,
                if changed { "update" } else { "none" },
                &plan,
                &details,
            )),
            warnings,
            details,
            stack_set: Some(stack_set_json),
            instances: Some(listed),
            msg: None,
        });
    }
    if plan.is_noop() {
        return Ok(Outcome {
            changed: r.changed,
            message: if r.changed {
                format!("stack set {} created", spec.name)
            } else {
                format!("stack set {} is up to date", spec.name)
            },
            details: plan
                .notes
                .iter()
                .map(|n| format!("not compared: {n}"))
                .collect(),
            stack_set: Some(stack_set_json),
            instances: Some(instances.into_iter().map(|(_, j)| j).collect()),
            msg: None,
            ..Outcome::default()
        });
    }

    let created = r.changed;
    let retain = !spec.purge_stacks;
    for targets in &plan.deletes {
        let what = format!("deleting instances of {}", targets.describe());
        r.api.sink.progress(what.clone());
        let started = r
            .api
            .delete_instances(spec.permission_model, &spec.preferences, targets, retain)
            .await;
        r.operate(what, started).await?;
    }
    if plan.updates_set() {
        let what = format!("updating the stack set ({} instance(s))", instances.len());
        r.api.sink.progress(what.clone());
        let started = r.api.update_stack_set(spec).await;
        r.operate(what, started).await?;
    }
    for targets in &plan.outdated {
        let what = format!("updating OUTDATED instances of {}", targets.describe());
        r.api.sink.progress(what.clone());
        let started = r.api.update_instances(spec, targets).await;
        r.operate(what, started).await?;
    }
    for targets in &plan.creates {
        let what = format!("creating instances in {}", targets.describe());
        r.api.sink.progress(what.clone());
        let started = r.api.create_instances(spec, targets).await;
        r.operate(what, started).await?;
    }
    let (stack_set, listed) = r.current().await?;
    Ok(Outcome {
        changed: true,
        message: if created {
            summary_done(&plan, &spec.name).replacen(
                &format!("stack set {}", spec.name),
                &format!("stack set {} created", spec.name),
                1,
            )
        } else {
            summary_done(&plan, &spec.name)
        },
        plan: Some(plan_json(spec, "update", &plan, &details)),
        warnings,
        details,
        stack_set,
        instances: Some(listed),
        msg: None,
    })
}

fn id_of(stack_set: &Json) -> String {
    stack_set
        .get("stack_set_id")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Instances deleted with their stacks: their resources go too.
fn deletion_warnings(plan: &Plan, spec: &StackSetSpec) -> Vec<String> {
    if !spec.purge_stacks {
        return Vec::new();
    }
    plan.deletes
        .iter()
        .map(|t| {
            format!(
                "stack set {}: the instances of {} are deleted with their stacks and every resource in them (purge_stacks)",
                spec.name,
                t.describe()
            )
        })
        .collect()
}

fn targets_json(targets: &[Targets]) -> Json {
    Json::Array(
        targets
            .iter()
            .map(|t| {
                let mut map = serde_json::Map::new();
                if !t.accounts.is_empty() {
                    map.insert("accounts".into(), json!(t.accounts));
                }
                if !t.organizational_units.is_empty() {
                    map.insert("organizational_units".into(), json!(t.organizational_units));
                }
                if let Some(filter) = &t.account_filter_type {
                    map.insert("account_filter_type".into(), json!(filter));
                }
                map.insert("regions".into(), json!(t.regions));
                Json::Object(map)
            })
            .collect(),
    )
}

/// The plan as data (the JSON report's `plan`): what happens to the stack
/// set and to which instances; the lines are the detail lines (NoEcho
/// values already hidden).
fn plan_json(spec: &StackSetSpec, action: &str, plan: &Plan, lines: &[String]) -> Json {
    json!({
        "stack_set": spec.name,
        "action": action,
        "update_stack_set": plan.updates_set(),
        "changes": lines,
        "instances": {
            "create": targets_json(&plan.creates),
            "delete": targets_json(&plan.deletes),
            "update_outdated": targets_json(&plan.outdated),
        },
    })
}

/// "update stack set NAME, create 2 instance(s)" (what the plan does).
fn summary(plan: &Plan, name: &str) -> String {
    let mut parts = Vec::new();
    if plan.updates_set() {
        parts.push(format!("update stack set {name}"));
    }
    let count = |targets: &[Targets]| -> usize {
        targets
            .iter()
            .map(|t| t.regions.len() * t.accounts.len().max(1))
            .sum()
    };
    if !plan.outdated.is_empty() {
        parts.push(format!(
            "update {} OUTDATED instance(s)",
            count(&plan.outdated)
        ));
    }
    if !plan.creates.is_empty() {
        parts.push(format!(
            "create instances ({})",
            plan.creates
                .iter()
                .map(Targets::describe)
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if !plan.deletes.is_empty() {
        parts.push(format!(
            "delete instances ({})",
            plan.deletes
                .iter()
                .map(Targets::describe)
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if parts.is_empty() {
        format!("leave stack set {name} as it is")
    } else {
        parts.join(", ")
    }
}

fn summary_done(plan: &Plan, name: &str) -> String {
    let mut done = Vec::new();
    if plan.updates_set() {
        done.push("updated".to_string());
    }
    if !plan.outdated.is_empty() {
        done.push("OUTDATED instances updated".to_string());
    }
    let list = |targets: &[Targets]| {
        targets
            .iter()
            .map(Targets::describe)
            .collect::<Vec<_>>()
            .join("; ")
    };
    if !plan.creates.is_empty() {
        done.push(format!("instances created in {}", list(&plan.creates)));
    }
    if !plan.deletes.is_empty() {
        done.push(format!("instances deleted in {}", list(&plan.deletes)));
    }
    if done == ["updated"] {
        format!("stack set {name} updated")
    } else {
        format!("stack set {name}: {}", done.join(", "))
    }
}

/// The instances a plan would create, as `stack_instances` entries whose
/// ids and status only exist after apply (SELF_MANAGED: one per account
/// and region; SERVICE_MANAGED: the accounts of an OU are not known).
fn planned_instances(plan: &Plan) -> Vec<Json> {
    plan.creates
        .iter()
        .flat_map(|t| {
            t.accounts.iter().flat_map(move |account| {
                t.regions.iter().map(move |region| {
                    json!({
                        "account": account,
                        "region": region,
                        "stack_id": KNOWN_AFTER_APPLY,
                        "stack_set_id": KNOWN_AFTER_APPLY,
                        "status": KNOWN_AFTER_APPLY,
                    })
                })
            })
        })
        .collect()
}

fn create_plan_outcome(r: &Reconcile<'_>, plan: &Plan) -> Outcome {
    let spec = r.spec;
    let template = spec.template.as_deref();
    let mut details = vec![format!("create stack set {}", spec.name)];
    for p in &spec.parameters {
        if let Some(v) = &p.value {
            details.push(format!(
                "parameter {} = {}",
                p.key,
                plan::shown(template, &p.key, v)
            ));
        }
    }
    if let Some(tags) = &spec.tags {
        details.push(format!("tags: {}", plan::tags_text(tags)));
    }
    details.extend(plan.instance_lines.iter().cloned());
    record_plan(r, plan, None, &[]);
    let instances = if spec.permission_model == PermissionModel::SelfManaged {
        planned_instances(plan)
    } else {
        Vec::new()
    };
    Outcome {
        changed: true,
        plan: Some(plan_json(spec, "create", plan, &details)),
        message: format!(
            "would create stack set {} with {}",
            spec.name,
            match spec.permission_model {
                PermissionModel::SelfManaged => format!("{} instance(s)", instances.len()),
                PermissionModel::ServiceManaged => plan
                    .creates
                    .iter()
                    .map(|t| format!("instances in {}", t.describe()))
                    .collect::<Vec<_>>()
                    .join("; "),
            }
        ),
        details,
        stack_set: Some(json!({
            "stack_set_name": spec.name,
            "stack_set_id": KNOWN_AFTER_APPLY,
            "stack_set_arn": KNOWN_AFTER_APPLY,
            "status": KNOWN_AFTER_APPLY,
            "permission_model": spec.permission_model.as_str(),
        })),
        instances: Some(instances),
        msg: None,
        ..Outcome::default()
    }
}

/// Keeps what this check-mode task plans, for a later info task.
fn record_plan(r: &Reconcile<'_>, plan: &Plan, deployed: Option<&Deployed>, existing: &[Instance]) {
    let existing: BTreeSet<(&str, &str)> = existing
        .iter()
        .map(|i| (i.account.as_str(), i.region.as_str()))
        .collect();
    let new_instances = plan
        .creates
        .iter()
        .flat_map(|t| {
            t.accounts
                .iter()
                .flat_map(move |a| t.regions.iter().map(move |g| (a.clone(), g.clone())))
        })
        .filter(|(a, g)| !existing.contains(&(a.as_str(), g.as_str())))
        .collect();
    planned::record(
        r.aws,
        r.api.target,
        &r.spec.name,
        planned::Planned {
            template_body: r
                .spec
                .body
                .clone()
                .or_else(|| deployed.and_then(|d| d.template_body.clone())),
            new_instances,
            new_stack_set: deployed.is_none(),
        },
    );
}

async fn absent(r: &mut Reconcile<'_>) -> Result<Outcome, Stop> {
    let spec = r.spec;
    let Some((deployed, stack_set_json)) = r.api.describe().await? else {
        r.first_look(None).await?;
        let msg = format!("Stack set {} does not exist", spec.name);
        return Ok(Outcome {
            changed: r.changed,
            message: if r.changed {
                format!("stack set {} deleted", spec.name)
            } else {
                format!("stack set {} is absent", spec.name)
            },
            details: Vec::new(),
            stack_set: None,
            instances: None,
            msg: Some(if r.changed {
                format!("Stack set {} deleted", spec.name)
            } else {
                msg
            }),
            ..Outcome::default()
        });
    };
    let model = match deployed.permission_model.as_deref() {
        Some("SERVICE_MANAGED") => PermissionModel::ServiceManaged,
        _ => PermissionModel::SelfManaged,
    };
    let instances: Vec<Instance> = r
        .api
        .instances()
        .await?
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    r.first_look(Some((id_of(&stack_set_json), instances.clone())))
        .await?;
    let groups = deletion_groups(model, &instances);
    let keep = if spec.purge_stacks {
        "its stack is deleted"
    } else {
        "its stack is kept: purge_stacks is false"
    };
    if r.check {
        let mut details: Vec<String> = instances
            .iter()
            .map(|i| format!("delete instance {} {} ({keep})", i.account, i.region))
            .collect();
        details.push(format!("delete stack set {}", spec.name));
        let plan = Plan {
            deletes: groups.clone(),
            ..Plan::default()
        };
        return Ok(Outcome {
            changed: true,
            plan: Some(plan_json(spec, "delete", &plan, &details)),
            message: format!(
                "would delete stack set {} and its {} instance(s)",
                spec.name,
                instances.len()
            ),
            details,
            stack_set: None,
            instances: None,
            msg: Some(format!("Stack set {} would be deleted", spec.name)),
            ..Outcome::default()
        });
    }
    for targets in &groups {
        let what = format!("deleting instances of {}", targets.describe());
        r.api.sink.progress(what.clone());
        let started = r
            .api
            .delete_instances(model, &spec.preferences, targets, !spec.purge_stacks)
            .await;
        r.operate(what, started).await?;
    }
    match r.api.delete_stack_set().await {
        Ok(()) => {}
        // Instances appeared meanwhile (auto-deployment, another run), or
        // the stack set went: look again.
        Err(other) => return Err(other.into()),
    }
    r.changed = true;
    Ok(Outcome {
        changed: true,
        message: format!(
            "deleted stack set {} and its {} instance(s)",
            spec.name,
            instances.len()
        ),
        details: Vec::new(),
        stack_set: None,
        instances: None,
        msg: Some(format!("Stack set {} deleted", spec.name)),
        ..Outcome::default()
    })
}

/// The operations that delete every instance: by account (SELF_MANAGED)
/// or by OU (SERVICE_MANAGED), per group of regions.
fn deletion_groups(model: PermissionModel, instances: &[Instance]) -> Vec<Targets> {
    match model {
        PermissionModel::SelfManaged => {
            let pairs: BTreeSet<(String, String)> = instances
                .iter()
                .map(|i| (i.account.clone(), i.region.clone()))
                .collect();
            plan::group_pairs(&pairs)
        }
        PermissionModel::ServiceManaged => {
            let pairs: BTreeSet<(String, String)> = instances
                .iter()
                .filter_map(|i| Some((i.organizational_unit_id.clone()?, i.region.clone())))
                .collect();
            plan::group_pairs(&pairs)
                .into_iter()
                .map(|t| Targets {
                    organizational_units: t.accounts,
                    regions: t.regions,
                    ..Targets::default()
                })
                .collect()
        }
    }
}
