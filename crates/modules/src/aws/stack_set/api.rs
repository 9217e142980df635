//! The CloudFormation calls for one stack set, with errors that name it,
//! the waits for its operations, and the failure of an operation told per
//! instance.

use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::{
    AccountFilterType, AutoDeployment as SdkAutoDeployment, CallAs, Capability, ConcurrencyMode,
    DeploymentTargets, ManagedExecution, PermissionModels, RegionConcurrencyType,
    StackInstanceSummary, StackSetOperationPreferences,
};
use aws_sdk_cloudformation::Client;
use runbook_aws::Target;
use runbook_module::Progress;
use serde_json::Value as Json;

use super::plan::{Deployed, Instance, Targets};
use super::report;
use super::spec::{AutoDeployment, PermissionModel, Preferences, StackSetSpec};
use crate::aws::cloudformation::{parameters_of, tags_of};
use crate::aws::Retrying;

/// Why a mutating call did not start.
#[derive(Debug)]
pub enum Refusal {
    /// Another operation is running on the stack set: wait for it, then
    /// reconcile again.
    Busy,
    /// The stack set is not in the state the call assumed (it appeared or
    /// disappeared meanwhile): reconcile again.
    Stale,
    Failed(String),
}

impl From<String> for Refusal {
    fn from(message: String) -> Self {
        Refusal::Failed(message)
    }
}

pub struct Api<'a> {
    pub client: Client,
    pub target: &'a Target,
    pub name: &'a str,
    pub call_as: Option<CallAs>,
    pub first_poll: Duration,
    pub max_poll: Duration,
    pub deadline: Instant,
    pub timeout: Duration,
    pub sink: &'a dyn Progress,
    /// The task's fork, given back while an operation runs.
    pub fork: &'a dyn runbook_module::Fork,
}

/// The pause before the n-th poll: first, doubling, up to `max`.
pub fn pause(first: Duration, max: Duration, n: u32) -> Duration {
    first.saturating_mul(1u32 << n.min(16)).min(max)
}

/// A token for one mutating call, the same on every attempt the SDK makes
/// (`OperationId`, `ClientRequestToken`): CloudFormation treats a retry
/// whose first attempt got through as the same request. Tokens match
/// `[a-zA-Z][-a-zA-Z0-9]*`, at most 128 characters.
pub fn request_token(operation: &str) -> String {
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

/// What one finished operation says (DescribeStackSetOperation).
pub struct Finished {
    pub operation: Json,
}

impl Retrying for Api<'_> {
    fn sink(&self) -> &dyn Progress {
        self.sink
    }
}

/// What CreateStackSet and UpdateStackSet are both given: the stack set
/// as the task describes it, and the caller.
macro_rules! stack_set_arguments {
    ($api:expr, $builder:expr, $spec:expr) => {
        $builder
            .stack_set_name($api.name)
            .set_description($spec.description.clone())
            .set_template_body($spec.body.clone())
            .set_template_url($spec.url.clone())
            .set_parameters(Some(parameters_of(&$spec.parameters)))
            .set_tags(tags_of($spec.tags.as_ref()))
            .set_capabilities(capabilities_of($spec))
            .set_administration_role_arn($spec.administration_role_arn.clone())
            .set_execution_role_name($spec.execution_role_name.clone())
            .set_auto_deployment($spec.auto_deployment.map(auto_deployment))
            .set_managed_execution($spec.managed_execution.map(managed_execution))
            .set_call_as($api.call_as.clone())
    };
}

/// What every stack instance operation (create, update, delete) is given:
/// the stack set, the targets, the preferences, the caller and the token.
macro_rules! instances_arguments {
    ($api:expr, $builder:expr, $targets:expr, ($accounts:expr, $deployment:expr), $preferences:expr, $token:expr) => {
        $builder
            .stack_set_name($api.name)
            .set_accounts($accounts.clone())
            .set_deployment_targets($deployment.clone())
            .set_regions(Some($targets.regions.clone()))
            .set_operation_preferences(preferences($preferences, &$targets.regions))
            .set_call_as($api.call_as.clone())
            .operation_id($token.clone())
    };
}

impl Api<'_> {
    fn error<E, R>(
        &self,
        operation: &str,
        err: &aws_sdk_cloudformation::error::SdkError<E, R>,
    ) -> String
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        format!(
            "stack set {}: {}",
            self.name,
            runbook_aws::retry::explained(self.target, operation, err)
        )
    }

    fn refusal<E, R>(
        &self,
        operation: &str,
        err: &aws_sdk_cloudformation::error::SdkError<E, R>,
    ) -> Refusal
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let failure = runbook_aws::describe(err);
        match failure.code.as_deref() {
            Some("OperationInProgressException") => Refusal::Busy,
            Some(
                "NameAlreadyExistsException"
                | "StackSetNotFoundException"
                | "StackSetNotEmptyException"
                | "CreatedButModifiedException",
            ) => Refusal::Stale,
            _ => Refusal::Failed(self.error(operation, err)),
        }
    }

    /// The stack set, or `None` when there is none (or it was deleted).
    pub async fn describe(&self) -> Result<Option<(Deployed, Json)>, String> {
        match self
            .retrying("DescribeStackSet", || {
                self.client
                    .describe_stack_set()
                    .stack_set_name(self.name)
                    .set_call_as(self.call_as.clone())
                    .send()
            })
            .await
        {
            Ok(out) => Ok(out
                .stack_set()
                .filter(|s| s.status().is_none_or(|s| s.as_str() != "DELETED"))
                .map(|s| (report::deployed_of(s), report::stack_set_json(s)))),
            Err(err) => {
                let failure = runbook_aws::describe(&err);
                if failure.code.as_deref() == Some("StackSetNotFoundException") {
                    Ok(None)
                } else {
                    Err(self.error("DescribeStackSet", &err))
                }
            }
        }
    }

    pub async fn instances(&self) -> Result<Vec<(Instance, Json)>, String> {
        let summaries: Vec<StackInstanceSummary> = self
            .client
            .list_stack_instances()
            .stack_set_name(self.name)
            .set_call_as(self.call_as.clone())
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|err| self.error("ListStackInstances", &err))?;
        let mut instances: Vec<(Instance, Json)> = summaries
            .iter()
            .map(|s| (report::instance_of(s), report::instance_json(s)))
            .collect();
        // community.aws's order.
        instances.sort_by(|a, b| (&a.0.region, &a.0.account).cmp(&(&b.0.region, &b.0.account)));
        Ok(instances)
    }

    /// Every operation on the stack set, oldest first (`operations_log`).
    pub async fn operations_log(&self) -> Result<Vec<Json>, String> {
        let summaries: Vec<_> = self
            .client
            .list_stack_set_operations()
            .stack_set_name(self.name)
            .set_call_as(self.call_as.clone())
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|err| self.error("ListStackSetOperations", &err))?;
        let mut log: Vec<Json> = summaries
            .iter()
            .map(report::operation_summary_json)
            .collect();
        log.sort_by(|a, b| {
            let key = |v: &Json| {
                v.get("creation_timestamp")
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            key(a).cmp(&key(b))
        });
        Ok(log)
    }

    /// The operations still going on the stack set.
    pub async fn running(&self) -> Result<Vec<String>, String> {
        Ok(self
            .operations_log()
            .await?
            .iter()
            .filter(|op| {
                matches!(
                    op.get("status").and_then(Json::as_str),
                    Some("RUNNING" | "QUEUED" | "STOPPING")
                )
            })
            .filter_map(|op| {
                op.get("operation_id")
                    .and_then(Json::as_str)
                    .map(str::to_string)
            })
            .collect())
    }

    /// Waits for an operation to end. A failed or stopped one is an error
    /// that lists each instance that did not succeed, with its reason.
    pub async fn wait(&self, id: &str, what: &str) -> Result<Finished, (String, Option<Json>)> {
        // Polling an operation costs little: the task's fork goes to
        // another task meanwhile, and is taken again to go on.
        self.fork.release();
        let finished = self.wait_holding_no_fork(id, what).await;
        self.fork.reacquire().await;
        finished
    }

    async fn wait_holding_no_fork(
        &self,
        id: &str,
        what: &str,
    ) -> Result<Finished, (String, Option<Json>)> {
        let mut polls = 0u32;
        let mut last = String::new();
        let mut not_found = 0u32;
        loop {
            let out = self
                .retrying("DescribeStackSetOperation", || {
                    self.client
                        .describe_stack_set_operation()
                        .stack_set_name(self.name)
                        .operation_id(id)
                        .set_call_as(self.call_as.clone())
                        .send()
                })
                .await;
            let operation = match out {
                Ok(out) => out.stack_set_operation().cloned(),
                Err(err) => {
                    let failure = runbook_aws::describe(&err);
                    // Just started: it may not be visible yet.
                    if failure.code.as_deref() == Some("OperationNotFoundException")
                        && not_found < 5
                    {
                        not_found += 1;
                        None
                    } else {
                        return Err((self.error("DescribeStackSetOperation", &err), None));
                    }
                }
            };
            if let Some(operation) = operation {
                let status = operation
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default();
                let json = report::operation_json(&operation);
                if status != last {
                    self.sink
                        .progress(format!("{what}: operation {id} {status}"));
                    last = status.clone();
                }
                match status.as_str() {
                    "SUCCEEDED" => return Ok(Finished { operation: json }),
                    "FAILED" | "STOPPED" => {
                        let reasons = self.failed_instances(id).await;
                        let mut message = format!(
                            "stack set {}: {what} failed: operation {id} {status}",
                            self.name
                        );
                        if let Some(reason) = operation.status_reason().filter(|r| !r.is_empty()) {
                            message.push_str(&format!(" ({reason})"));
                        }
                        for reason in reasons {
                            message.push_str(&format!("\n  - {reason}"));
                        }
                        return Err((message, Some(json)));
                    }
                    _ => {}
                }
            }
            let now = Instant::now();
            if now >= self.deadline {
                return Err((
                    format!(
                        "stack set {}: timed out after {}s waiting for {what} (operation {id}, {}); it is still going in AWS: run again to pick it up, or raise wait_timeout",
                        self.name,
                        self.timeout.as_secs(),
                        if last.is_empty() { "not seen yet" } else { last.as_str() }
                    ),
                    None,
                ));
            }
            tokio::time::sleep(
                pause(self.first_poll, self.max_poll, polls).min(self.deadline - now),
            )
            .await;
            polls += 1;
        }
    }

    /// "ACCOUNT REGION: STATUS: reason" for each instance of an operation
    /// that did not succeed (best effort: the failure is reported anyway).
    pub async fn failed_instances(&self, id: &str) -> Vec<String> {
        let results: Result<Vec<_>, _> = self
            .client
            .list_stack_set_operation_results()
            .stack_set_name(self.name)
            .operation_id(id)
            .set_call_as(self.call_as.clone())
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await;
        match results {
            Ok(results) => results
                .iter()
                .filter(|r| r.status().is_some_and(|s| s.as_str() != "SUCCEEDED"))
                .map(|r| {
                    let mut line = format!(
                        "{} {}: {}",
                        r.account().unwrap_or("?"),
                        r.region().unwrap_or("?"),
                        r.status().map(|s| s.as_str()).unwrap_or("?")
                    );
                    if let Some(ou) = r.organizational_unit_id() {
                        line.push_str(&format!(" (OU {ou})"));
                    }
                    if let Some(reason) = r.status_reason().filter(|s| !s.is_empty()) {
                        line.push_str(&format!(": {reason}"));
                    }
                    line
                })
                .collect(),
            Err(err) => vec![format!(
                "(the per-instance results could not be read: {})",
                self.error("ListStackSetOperationResults", &err)
            )],
        }
    }

    pub async fn create_stack_set(&self, spec: &StackSetSpec) -> Result<(), Refusal> {
        self.sink.progress("creating stack set".into());
        let token = request_token("CreateStackSet");
        self.retrying("CreateStackSet", || {
            stack_set_arguments!(self, self.client.create_stack_set(), spec)
                .permission_model(permission_model(spec.permission_model))
                .client_request_token(token.clone())
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|err| self.refusal("CreateStackSet", &err))
    }

    /// One UpdateStackSet of every instance. Returns the operation id
    /// CloudFormation answers with.
    pub async fn update_stack_set(&self, spec: &StackSetSpec) -> Result<String, Refusal> {
        let template_given = spec.body.is_some() || spec.url.is_some();
        let token = request_token("UpdateStackSet");
        let out = self
            .retrying("UpdateStackSet", || {
                stack_set_arguments!(self, self.client.update_stack_set(), spec)
                    .set_use_previous_template((!template_given).then_some(true))
                    .set_operation_preferences(preferences(&spec.preferences, &spec.regions))
                    .operation_id(token.clone())
                    .send()
            })
            .await
            .map_err(|err| self.refusal("UpdateStackSet", &err))?;
        Ok(out.operation_id().unwrap_or_default().to_string())
    }

    pub async fn create_instances(
        &self,
        spec: &StackSetSpec,
        targets: &Targets,
    ) -> Result<String, Refusal> {
        let (accounts, deployment) = split_targets(spec.permission_model, targets);
        let token = request_token("CreateStackInstances");
        let out = self
            .retrying("CreateStackInstances", || {
                instances_arguments!(
                    self,
                    self.client.create_stack_instances(),
                    targets,
                    (&accounts, &deployment),
                    &spec.preferences,
                    &token
                )
                .send()
            })
            .await
            .map_err(|err| self.refusal("CreateStackInstances", &err))?;
        Ok(out.operation_id().unwrap_or_default().to_string())
    }

    pub async fn update_instances(
        &self,
        spec: &StackSetSpec,
        targets: &Targets,
    ) -> Result<String, Refusal> {
        let (accounts, deployment) = split_targets(spec.permission_model, targets);
        let token = request_token("UpdateStackInstances");
        let out = self
            .retrying("UpdateStackInstances", || {
                instances_arguments!(
                    self,
                    self.client.update_stack_instances(),
                    targets,
                    (&accounts, &deployment),
                    &spec.preferences,
                    &token
                )
                .send()
            })
            .await
            .map_err(|err| self.refusal("UpdateStackInstances", &err))?;
        Ok(out.operation_id().unwrap_or_default().to_string())
    }

    pub async fn delete_instances(
        &self,
        model: PermissionModel,
        preferences_of: &Preferences,
        targets: &Targets,
        retain_stacks: bool,
    ) -> Result<String, Refusal> {
        let (accounts, deployment) = split_targets(model, targets);
        let token = request_token("DeleteStackInstances");
        let out = self
            .retrying("DeleteStackInstances", || {
                instances_arguments!(
                    self,
                    self.client.delete_stack_instances(),
                    targets,
                    (&accounts, &deployment),
                    preferences_of,
                    &token
                )
                .retain_stacks(retain_stacks)
                .send()
            })
            .await
            .map_err(|err| self.refusal("DeleteStackInstances", &err))?;
        Ok(out.operation_id().unwrap_or_default().to_string())
    }

    pub async fn delete_stack_set(&self) -> Result<(), Refusal> {
        self.sink.progress("deleting stack set".into());
        self.retrying("DeleteStackSet", || {
            self.client
                .delete_stack_set()
                .stack_set_name(self.name)
                .set_call_as(self.call_as.clone())
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|err| self.refusal("DeleteStackSet", &err))
    }
}

/// SELF_MANAGED operations name accounts; SERVICE_MANAGED ones name OUs
/// (with an account filter) in DeploymentTargets.
fn split_targets(
    model: PermissionModel,
    targets: &Targets,
) -> (Option<Vec<String>>, Option<DeploymentTargets>) {
    match model {
        PermissionModel::SelfManaged => (Some(targets.accounts.clone()), None),
        PermissionModel::ServiceManaged => {
            let deployment = DeploymentTargets::builder()
                .set_organizational_unit_ids(Some(targets.organizational_units.clone()))
                .set_accounts((!targets.accounts.is_empty()).then(|| targets.accounts.clone()))
                .set_account_filter_type(
                    targets
                        .account_filter_type
                        .as_deref()
                        .map(AccountFilterType::from),
                )
                .build();
            (None, Some(deployment))
        }
    }
}

fn permission_model(model: PermissionModel) -> PermissionModels {
    PermissionModels::from(model.as_str())
}

fn auto_deployment(a: AutoDeployment) -> SdkAutoDeployment {
    SdkAutoDeployment::builder()
        .enabled(a.enabled)
        .set_retain_stacks_on_account_removal(a.retain_stacks_on_account_removal)
        .build()
}

fn managed_execution(active: bool) -> ManagedExecution {
    ManagedExecution::builder().active(active).build()
}

pub fn call_as(spec: &StackSetSpec) -> Option<CallAs> {
    spec.call_as.as_deref().map(CallAs::from)
}

/// The operation preferences for an operation over `regions`; the region
/// order keeps only those regions (community.aws sends `regions` as the
/// order when no order is given).
fn preferences(p: &Preferences, regions: &[String]) -> Option<StackSetOperationPreferences> {
    let order: Vec<String> = match &p.region_order {
        Some(order) => order
            .iter()
            .filter(|r| regions.contains(r))
            .cloned()
            .collect(),
        None => regions.to_vec(),
    };
    Some(
        StackSetOperationPreferences::builder()
            .set_region_order((!order.is_empty()).then_some(order))
            .set_failure_tolerance_count(p.fail_count)
            .set_failure_tolerance_percentage(p.fail_percentage)
            .set_max_concurrent_count(p.parallel_count)
            .set_max_concurrent_percentage(p.parallel_percentage)
            .set_region_concurrency_type(
                p.region_concurrency_type
                    .as_deref()
                    .map(RegionConcurrencyType::from),
            )
            .set_concurrency_mode(p.concurrency_mode.as_deref().map(ConcurrencyMode::from))
            .build(),
    )
}

fn capabilities_of(spec: &StackSetSpec) -> Option<Vec<Capability>> {
    spec.capabilities
        .as_ref()
        .map(|caps| caps.iter().map(|c| Capability::from(c.as_str())).collect())
}
