//! `amazon.aws.cloudformation_info`: facts about stacks.

use indexmap::IndexMap;
use runbook_aws::retry::with_retries;
use runbook_aws::{AwsError, Target};
use runbook_module::schema::flag;
use runbook_module::{
    Analysis, BoxFuture, Call, Module, ModuleFailure, ModuleOutput, ModuleSpec, OptionKind,
    OptionSpec, Services, StaticFacts,
};
use serde_json::{json, Value as Json};

use super::{AwsContext, CONNECTION, GROUP, UNSUPPORTED_CONNECTION};

pub struct CloudFormationInfo;

static OPTIONS: [OptionSpec; 6] = [
    OptionSpec::new("stack_name", OptionKind::Str),
    OptionSpec::new("stack_resources", OptionKind::Bool),
    OptionSpec::new("stack_template", OptionKind::Bool),
    CONNECTION[0],
    CONNECTION[1],
    CONNECTION[2],
];

static SPEC: ModuleSpec = ModuleSpec {
    fqcn: "amazon.aws.cloudformation_info",
    short: "cloudformation_info",
    options: &OPTIONS,
    unsupported: &[
        "all_facts",
        "stack_events",
        "stack_policy",
        "stack_change_sets",
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
    result_fields: &["cloudformation"],
};

impl Module for CloudFormationInfo {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    /// A named stack is read in file order with the tasks that change it.
    fn analyse(&self, cx: &mut Analysis<'_>) -> StaticFacts {
        super::reads_only(cx, "stack_name", "stack")
    }

    fn run<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<ModuleOutput, ModuleFailure>> {
        Box::pin(async move {
            let aws = super::context(call.services)?;
            let target = super::target_of(&call.args);
            let result = run(&aws, &target, &call.args).await;
            aws.learn_account(&target).await;
            result
        })
    }

    fn target_label(&self, args: &IndexMap<String, Json>, services: &Services) -> Option<String> {
        super::target_label(args, services)
    }
}

async fn run(
    runner: &AwsContext,
    target: &Target,
    args: &IndexMap<String, Json>,
) -> Result<ModuleOutput, ModuleFailure> {
    let fail = |err: AwsError| ModuleFailure::new(err.to_string());
    let client = runner.pool.cloudformation(target).await.map_err(fail)?;
    let stack_name = args.get("stack_name").and_then(Json::as_str);
    let flag = |key: &str| flag(args.get(key)).unwrap_or(false);
    let mut pages = Ok(Vec::new());
    let mut token = None;
    while let Ok(stacks) = &mut pages {
        match with_retries(
            "DescribeStacks",
            || {
                client
                    .describe_stacks()
                    .set_stack_name(stack_name.map(str::to_string))
                    .set_next_token(token.clone())
                    .send()
            },
            |_| {},
        )
        .await
        {
            Ok(page) => {
                stacks.extend(page.stacks().iter().cloned());
                token = page.next_token().map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
            Err(err) => pages = Err(err),
        }
    }
    let stacks = match pages {
        Ok(stacks) => stacks,
        Err(err) => {
            let failure = runbook_aws::describe(&err);
            // amazon.aws reports a missing stack as no facts, not an error.
            if failure.code.as_deref() == Some("ValidationError")
                && failure.message.contains("does not exist")
            {
                Vec::new()
            } else {
                return Err(fail(AwsError::from_sdk(target, "DescribeStacks", &err)));
            }
        }
    };
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
            let mut summaries = Vec::new();
            let mut token = None;
            loop {
                let page = with_retries(
                    "ListStackResources",
                    || {
                        client
                            .list_stack_resources()
                            .stack_name(&name)
                            .set_next_token(token.clone())
                            .send()
                    },
                    |_| {},
                )
                .await
                .map_err(|err| fail(AwsError::from_sdk(target, "ListStackResources", &err)))?;
                summaries.extend(page.stack_resource_summaries().iter().cloned());
                token = page.next_token().map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
            let list: Vec<Json> = summaries
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
            let by_id: serde_json::Map<String, Json> = summaries
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
            let out = with_retries(
                "GetTemplate",
                || client.get_template().stack_name(&name).send(),
                |_| {},
            )
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
