//! What AWS says about a stack set, its instances and operations, as the
//! comparison needs it and as community.aws registers it (its keys in
//! snake_case, tags as a mapping).

use aws_sdk_cloudformation::types::{
    StackInstanceSummary, StackSet, StackSetOperation, StackSetOperationPreferences,
    StackSetOperationSummary,
};
use serde_json::{json, Map, Value as Json};

use super::plan::{Deployed, Instance};
use super::spec::AutoDeployment;

pub fn deployed_of(s: &StackSet) -> Deployed {
    Deployed {
        description: s.description().map(str::to_string),
        template_body: s.template_body().map(str::to_string),
        parameters: s
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_string(),
                    p.parameter_value().unwrap_or_default().to_string(),
                ))
            })
            .collect(),
        tags: s
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect(),
        administration_role_arn: s.administration_role_arn().map(str::to_string),
        execution_role_name: s.execution_role_name().map(str::to_string),
        permission_model: s.permission_model().map(|p| p.as_str().to_string()),
        auto_deployment: s.auto_deployment().and_then(|a| {
            Some(AutoDeployment {
                enabled: a.enabled()?,
                retain_stacks_on_account_removal: a.retain_stacks_on_account_removal(),
            })
        }),
        managed_execution: s.managed_execution().and_then(|m| m.active()),
        organizational_unit_ids: s.organizational_unit_ids().to_vec(),
        regions: s.regions().to_vec(),
    }
}

pub fn instance_of(s: &StackInstanceSummary) -> Instance {
    Instance {
        account: s.account().unwrap_or_default().to_string(),
        region: s.region().unwrap_or_default().to_string(),
        organizational_unit_id: s.organizational_unit_id().map(str::to_string),
        status: s
            .status()
            .map(|x| x.as_str().to_string())
            .unwrap_or_default(),
        status_reason: s.status_reason().map(str::to_string),
        detailed_status: s
            .stack_instance_status()
            .and_then(|d| d.detailed_status())
            .map(|d| d.as_str().to_string()),
        stack_id: s.stack_id().map(str::to_string),
        stack_set_id: s.stack_set_id().map(str::to_string),
        drift_status: s.drift_status().map(|d| d.as_str().to_string()),
    }
}

/// Drops null fields, as boto3 leaves absent ones out.
fn compact(value: Json) -> Json {
    match value {
        Json::Object(map) => Json::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, compact(v)))
                .collect(),
        ),
        other => other,
    }
}

/// `stack_set` as community.aws registers it. NoEcho values (which AWS
/// masks and moto does not) show as `****`.
pub fn stack_set_json(s: &StackSet) -> Json {
    let template = s
        .template_body()
        .and_then(|body| runbook_cfn::parse(body).ok());
    let parameters: Vec<Json> = s
        .parameters()
        .iter()
        .map(|p| {
            let key = p.parameter_key().unwrap_or_default();
            let secret = template
                .as_ref()
                .and_then(|t| t.parameters.get(key))
                .is_some_and(|t| t.no_echo);
            compact(json!({
                "parameter_key": key,
                "parameter_value": if secret { Some("****") } else { p.parameter_value() },
                "use_previous_value": p.use_previous_value(),
                "resolved_value": p.resolved_value(),
            }))
        })
        .collect();
    let tags: Map<String, Json> = s
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), json!(t.value()?))))
        .collect();
    compact(json!({
        "stack_set_name": s.stack_set_name(),
        "stack_set_id": s.stack_set_id(),
        "stack_set_arn": s.stack_set_arn(),
        "description": s.description(),
        "status": s.status().map(|x| x.as_str()),
        "template_body": s.template_body(),
        "parameters": parameters,
        "capabilities": s.capabilities().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "tags": tags,
        "administration_role_arn": s.administration_role_arn(),
        "execution_role_name": s.execution_role_name(),
        "permission_model": s.permission_model().map(|p| p.as_str()),
        "auto_deployment": s.auto_deployment().map(|a| compact(json!({
            "enabled": a.enabled(),
            "retain_stacks_on_account_removal": a.retain_stacks_on_account_removal(),
        }))),
        "managed_execution": s.managed_execution().map(|m| json!({"active": m.active()})),
        "organizational_unit_ids": (!s.organizational_unit_ids().is_empty()).then(|| s.organizational_unit_ids().to_vec()),
        "regions": (!s.regions().is_empty()).then(|| s.regions().to_vec()),
    }))
}

pub fn instance_json(s: &StackInstanceSummary) -> Json {
    compact(json!({
        "account": s.account(),
        "region": s.region(),
        "stack_id": s.stack_id(),
        "stack_set_id": s.stack_set_id(),
        "status": s.status().map(|x| x.as_str()),
        "status_reason": s.status_reason(),
        "stack_instance_status": s.stack_instance_status().map(|d| compact(json!({
            "detailed_status": d.detailed_status().map(|x| x.as_str()),
        }))),
        "organizational_unit_id": s.organizational_unit_id(),
        "drift_status": s.drift_status().map(|x| x.as_str()),
        "last_drift_check_timestamp": s.last_drift_check_timestamp().map(|t| t.to_string()),
        "last_operation_id": s.last_operation_id(),
    }))
}

fn preferences_json(p: Option<&StackSetOperationPreferences>) -> Json {
    match p {
        None => Json::Null,
        Some(p) => compact(json!({
            "region_order": (!p.region_order().is_empty()).then(|| p.region_order().to_vec()),
            "failure_tolerance_count": p.failure_tolerance_count(),
            "failure_tolerance_percentage": p.failure_tolerance_percentage(),
            "max_concurrent_count": p.max_concurrent_count(),
            "max_concurrent_percentage": p.max_concurrent_percentage(),
            "region_concurrency_type": p.region_concurrency_type().map(|x| x.as_str()),
            "concurrency_mode": p.concurrency_mode().map(|x| x.as_str()),
        })),
    }
}

/// One of `operations` (DescribeStackSetOperation).
pub fn operation_json(o: &StackSetOperation) -> Json {
    compact(json!({
        "operation_id": o.operation_id(),
        "stack_set_id": o.stack_set_id(),
        "action": o.action().map(|x| x.as_str()),
        "status": o.status().map(|x| x.as_str()),
        "status_reason": o.status_reason(),
        "status_details": o.status_details().map(|d| compact(json!({
            "failed_stack_instances_count": d.failed_stack_instances_count(),
        }))),
        "operation_preferences": preferences_json(o.operation_preferences()),
        "retain_stacks": o.retain_stacks(),
        "administration_role_arn": o.administration_role_arn(),
        "execution_role_name": o.execution_role_name(),
        "creation_timestamp": o.creation_timestamp().map(|t| t.to_string()),
        "end_timestamp": o.end_timestamp().map(|t| t.to_string()),
    }))
}

/// One of `operations_log` (ListStackSetOperations).
pub fn operation_summary_json(o: &StackSetOperationSummary) -> Json {
    compact(json!({
        "operation_id": o.operation_id(),
        "action": o.action().map(|x| x.as_str()),
        "status": o.status().map(|x| x.as_str()),
        "status_reason": o.status_reason(),
        "status_details": o.status_details().map(|d| compact(json!({
            "failed_stack_instances_count": d.failed_stack_instances_count(),
        }))),
        "operation_preferences": preferences_json(o.operation_preferences()),
        "creation_timestamp": o.creation_timestamp().map(|t| t.to_string()),
        "end_timestamp": o.end_timestamp().map(|t| t.to_string()),
    }))
}
