//! `amazon.aws.cloudformation_info`: facts about stacks.

use indexmap::IndexMap;
use runbook_aws::{AwsError, Target};
use runbook_executor::{ModuleFailure, ModuleOutput};
use runbook_playbook::Json;
use serde_json::json;

use crate::runner::AwsRunner;

pub(crate) async fn run(
    runner: &AwsRunner,
    target: &Target,
    args: &IndexMap<String, Json>,
) -> Result<ModuleOutput, ModuleFailure> {
    let fail = |err: AwsError| ModuleFailure::new(err.to_string());
    let client = runner.pool.cloudformation(target).await.map_err(fail)?;
    let stack_name = args.get("stack_name").and_then(Json::as_str);
    let flag = |key: &str| match args.get(key) {
        Some(Json::Bool(b)) => *b,
        Some(Json::String(s)) => runbook_playbook::modules::parse_bool(s).unwrap_or(false),
        _ => false,
    };
    let mut stacks = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let result = client
            .describe_stacks()
            .set_stack_name(stack_name.map(str::to_string))
            .set_next_token(token.clone())
            .send()
            .await;
        match result {
            Ok(out) => {
                stacks.extend(out.stacks().iter().cloned());
                token = out.next_token().map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
            Err(err) => {
                let failure = runbook_aws::describe(&err);
                // amazon.aws reports a missing stack as no facts, not an error.
                if failure.code.as_deref() == Some("ValidationError")
                    && failure.message.contains("does not exist")
                {
                    break;
                }
                return Err(fail(AwsError::from_sdk(target, "DescribeStacks", &err)));
            }
        }
    }
    let mut facts = serde_json::Map::new();
    for stack in &stacks {
        let name = stack.stack_name().unwrap_or_default().to_string();
        let mut entry = serde_json::Map::new();
        entry.insert(
            "stack_description".into(),
            json!({
                "stack_name": name,
                "stack_id": stack.stack_id(),
                "stack_status": stack.stack_status().map(|s| s.as_str()),
                "stack_status_reason": stack.stack_status_reason(),
                "creation_time": stack.creation_time().map(|t| t.to_string()),
                "last_updated_time": stack.last_updated_time().map(|t| t.to_string()),
                "description": stack.description(),
                "enable_termination_protection": stack.enable_termination_protection(),
                "role_arn": stack.role_arn(),
            }),
        );
        let outputs: serde_json::Map<String, Json> = stack
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_string(), json!(o.output_value()))))
            .collect();
        entry.insert("stack_outputs".into(), Json::Object(outputs));
        let parameters: serde_json::Map<String, Json> = stack
            .parameters()
            .iter()
            .filter_map(|p| Some((p.parameter_key()?.to_string(), json!(p.parameter_value()))))
            .collect();
        entry.insert("stack_parameters".into(), Json::Object(parameters));
        let tags: serde_json::Map<String, Json> = stack
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), json!(t.value()))))
            .collect();
        entry.insert("stack_tags".into(), Json::Object(tags));
        if flag("stack_resources") {
            let out = client
                .list_stack_resources()
                .stack_name(&name)
                .send()
                .await
                .map_err(|err| fail(AwsError::from_sdk(target, "ListStackResources", &err)))?;
            let list: Vec<Json> = out
                .stack_resource_summaries()
                .iter()
                .map(|r| {
                    json!({
                        "LogicalResourceId": r.logical_resource_id(),
                        "PhysicalResourceId": r.physical_resource_id(),
                        "ResourceType": r.resource_type(),
                        "ResourceStatus": r.resource_status().map(|s| s.as_str()),
                    })
                })
                .collect();
            let by_id: serde_json::Map<String, Json> = out
                .stack_resource_summaries()
                .iter()
                .filter_map(|r| {
                    Some((
                        r.logical_resource_id()?.to_string(),
                        json!(r.physical_resource_id()),
                    ))
                })
                .collect();
            entry.insert("stack_resource_list".into(), Json::Array(list));
            entry.insert("stack_resources".into(), Json::Object(by_id));
        }
        if flag("stack_template") {
            let out = client
                .get_template()
                .stack_name(&name)
                .send()
                .await
                .map_err(|err| fail(AwsError::from_sdk(target, "GetTemplate", &err)))?;
            entry.insert("stack_template".into(), json!(out.template_body()));
        }
        facts.insert(name, Json::Object(entry));
    }
    let count = facts.len();
    let mut result = serde_json::Map::new();
    result.insert("cloudformation".into(), Json::Object(facts));
    Ok(ModuleOutput {
        changed: false,
        result,
        message: Some(format!("{count} stack(s) described")),
        ..Default::default()
    })
}
