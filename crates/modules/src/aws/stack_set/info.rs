//! `cloudformation_stack_set_info` (runbook's own: community.aws has no
//! such module): a stack set's instances and, when asked, the outputs of
//! each instance's stack, read in the instance's own account through the
//! profile `instance_profiles` names for it.

use indexmap::IndexMap;
use runbook_aws::Target;
use runbook_module::schema::flag;
use runbook_module::{
    Analysis, Arg, BoxFuture, Call, ErrorKind, Module, ModuleFailure, ModuleOutput, ModuleSpec,
    OptionKind, OptionSpec, PlaybookError, Services, StaticFacts,
};
use serde_json::{json, Map, Value as Json};

use super::super::{AwsContext, CONNECTION, GROUP, UNSUPPORTED_CONNECTION};
use super::api::Api;
use super::spec::{account_id, accounts_of, string_list};
use super::{planned, KNOWN_AFTER_APPLY};

pub struct StackSetInfo;

static OPTIONS: [OptionSpec; 9] = [
    OptionSpec::new("name", OptionKind::Str).required(),
    OptionSpec::new("accounts", OptionKind::Any),
    OptionSpec::new("regions", OptionKind::StrOrList),
    OptionSpec::new("instance_outputs", OptionKind::Bool),
    OptionSpec::new("instance_profiles", OptionKind::Dict),
    OptionSpec::choice("call_as", &["SELF", "DELEGATED_ADMIN"]),
    CONNECTION[0],
    CONNECTION[1],
    CONNECTION[2],
];

static SPEC: ModuleSpec = ModuleSpec {
    fqcn: "runbook.aws.cloudformation_stack_set_info",
    short: "cloudformation_stack_set_info",
    options: &OPTIONS,
    unsupported: &UNSUPPORTED_CONNECTION,
    free_keys: false,
    free_form: None,
    groups: GROUP,
    result_fields: &["stack_set", "stack_instances", "outputs"],
};

impl Module for StackSetInfo {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    /// Problems visible in the options as written (none hold a template).
    fn check(&self, args: &IndexMap<String, Arg>) -> Vec<PlaybookError> {
        if !args.contains_key("name") || args.values().any(|a| super::templated(&a.value)) {
            return Vec::new();
        }
        let literal: IndexMap<String, Json> = args
            .iter()
            .map(|(k, a)| (k.clone(), a.value.clone()))
            .collect();
        match options(&literal) {
            Ok(_) => Vec::new(),
            Err(message) => vec![PlaybookError::new(ErrorKind::Schema, message)],
        }
    }

    /// Read in file order with the tasks that change the stack set.
    fn analyse(&self, cx: &mut Analysis<'_>) -> StaticFacts {
        super::super::reads_only(cx, "name", "stack set")
    }

    fn run<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<ModuleOutput, ModuleFailure>> {
        Box::pin(async move {
            let aws = super::super::context(call.services)?;
            let target = super::super::target_of(&call.args);
            let result = run(&aws, &target, &call).await;
            aws.learn_account(&target).await;
            result.map_err(ModuleFailure::new)
        })
    }

    fn target_label(&self, args: &IndexMap<String, Json>, services: &Services) -> Option<String> {
        super::super::target_label(args, services)
    }
}

struct Options {
    name: String,
    accounts: Option<Vec<String>>,
    regions: Option<Vec<String>>,
    outputs: bool,
    profiles: IndexMap<String, String>,
    call_as: Option<String>,
}

fn options(args: &IndexMap<String, Json>) -> Result<Options, String> {
    let get = |key: &str| args.get(key).filter(|v| !v.is_null());
    let name = get("name")
        .and_then(Json::as_str)
        .ok_or("option `name` is required")?
        .to_string();
    let accounts = get("accounts")
        .map(|a| accounts_of(a, "accounts"))
        .transpose()?;
    let regions = get("regions")
        .map(|r| string_list(r, "regions"))
        .transpose()?;
    let mut profiles = IndexMap::new();
    match get("instance_profiles") {
        Some(Json::Object(map)) => {
            for (account, profile) in map {
                let account = account_id(&Json::String(account.clone()), "instance_profiles")?;
                let profile = profile.as_str().ok_or_else(|| {
                    format!("option `instance_profiles`: the profile of {account} must be a string")
                })?;
                profiles.insert(account, profile.to_string());
            }
        }
        Some(_) => {
            return Err(
                "option `instance_profiles` must be a mapping of account ids to profiles".into(),
            )
        }
        None => {}
    }
    let outputs = match get("instance_outputs") {
        Some(v) => flag(Some(v)).ok_or("option `instance_outputs` must be a boolean")?,
        None => false,
    };
    if !outputs && !profiles.is_empty() {
        return Err("option `instance_profiles` is only used to read the instances' outputs: set `instance_outputs: true`, or leave it out".into());
    }
    Ok(Options {
        name,
        accounts,
        regions,
        outputs,
        profiles,
        call_as: get("call_as").and_then(Json::as_str).map(str::to_string),
    })
}

/// One instance of the result, with its stack to read when asked.
struct Row {
    json: Map<String, Json>,
    account: String,
    region: String,
    stack_id: Option<String>,
}

async fn run(
    aws: &std::sync::Arc<AwsContext>,
    target: &Target,
    call: &Call<'_>,
) -> Result<ModuleOutput, String> {
    let opts = options(&call.args)?;
    let client = aws
        .pool
        .cloudformation(target)
        .await
        .map_err(|e| e.to_string())?;
    let api = Api {
        client,
        target,
        name: &opts.name,
        call_as: opts
            .call_as
            .as_deref()
            .map(aws_sdk_cloudformation::types::CallAs::from),
        first_poll: aws.settings.first_poll,
        max_poll: aws.settings.max_poll,
        deadline: crate::aws::deadline_after(aws.settings.wait_timeout),
        timeout: aws.settings.wait_timeout,
        sink: call.progress,
        fork: call.fork,
    };
    let keep = |account: &str, region: &str| {
        opts.accounts
            .as_ref()
            .is_none_or(|a| a.iter().any(|x| x == account))
            && opts
                .regions
                .as_ref()
                .is_none_or(|r| r.iter().any(|x| x == region))
    };
    let described = api.describe().await?;
    let planned = if call.check {
        planned::lookup(aws, target, &opts.name)
    } else {
        None
    };
    let mut result = Map::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut template_body = None;
    if let Some((deployed, json)) = &described {
        result.insert("stack_set".into(), json.clone());
        template_body = deployed.template_body.clone();
        for (instance, json) in api.instances().await? {
            if keep(&instance.account, &instance.region) {
                rows.push(Row {
                    json: json.as_object().cloned().unwrap_or_default(),
                    account: instance.account,
                    region: instance.region,
                    stack_id: instance.stack_id,
                });
            }
        }
    }
    // Under --check, the instances an earlier task of this run would
    // create: their stacks only exist after apply.
    let mut new_rows = Vec::new();
    if let Some(planned) = &planned {
        if described.is_none() && planned.new_stack_set {
            result.insert(
                "stack_set".into(),
                json!({"stack_set_name": opts.name, "stack_set_id": KNOWN_AFTER_APPLY, "status": KNOWN_AFTER_APPLY}),
            );
        }
        if planned.template_body.is_some() {
            template_body = planned.template_body.clone();
        }
        for (account, region) in &planned.new_instances {
            if keep(account, region)
                && !rows
                    .iter()
                    .any(|r| &r.account == account && &r.region == region)
            {
                new_rows.push((account.clone(), region.clone()));
            }
        }
    }

    let mut outputs: Map<String, Json> = Map::new();
    if opts.outputs {
        let admin = if rows.iter().any(|r| !opts.profiles.contains_key(&r.account)) {
            aws.pool.account(target).await.ok()
        } else {
            None
        };
        let mut missing: Vec<String> = rows
            .iter()
            .filter(|r| {
                !opts.profiles.contains_key(&r.account)
                    && admin.as_deref() != Some(r.account.as_str())
            })
            .map(|r| r.account.clone())
            .collect();
        missing.dedup();
        if !missing.is_empty() {
            return Err(format!(
                "stack set {}: no profile to read the stacks of account(s) {} (instance_outputs: true reads each instance's stack in its own account)",
                opts.name,
                missing.join(", ")
            ) + "; add them to `instance_profiles`, or leave them out with `accounts`");
        }
        let reads = rows.iter().map(|row| {
            let instance_target = Target {
                profile: match opts.profiles.get(&row.account) {
                    Some(p) => Some(p.clone()),
                    None => target.profile.clone(),
                },
                region: Some(row.region.clone()),
                endpoint_url: target.endpoint_url.clone(),
            };
            let stack_id = row.stack_id.clone();
            let name = opts.name.clone();
            async move { instance_outputs(aws, &instance_target, stack_id.as_deref(), &name).await }
        });
        let read = runbook_aws::join_all(reads.collect()).await;
        for (row, read) in rows.iter_mut().zip(read) {
            let values = read?;
            let map: Map<String, Json> =
                values.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            row.json
                .insert("stack_outputs".into(), Json::Object(map.clone()));
            outputs
                .entry(row.account.clone())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .map(|by_region| by_region.insert(row.region.clone(), Json::Object(map)));
        }
    }
    let placeholder_outputs: Map<String, Json> = template_body
        .as_deref()
        .and_then(|b| runbook_cfn::parse(b).ok())
        .and_then(|t| t.body.get("Outputs").and_then(Json::as_object).cloned())
        .map(|o| {
            o.keys()
                .map(|k| (k.clone(), json!(KNOWN_AFTER_APPLY)))
                .collect()
        })
        .unwrap_or_default();
    let mut listed: Vec<Json> = rows.into_iter().map(|r| Json::Object(r.json)).collect();
    for (account, region) in new_rows {
        let mut row = json!({
            "account": account,
            "region": region,
            "stack_id": KNOWN_AFTER_APPLY,
            "stack_set_id": KNOWN_AFTER_APPLY,
            "status": KNOWN_AFTER_APPLY,
        });
        if opts.outputs {
            row["stack_outputs"] = Json::Object(placeholder_outputs.clone());
            outputs
                .entry(account.clone())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .map(|by_region| {
                    by_region.insert(region.clone(), Json::Object(placeholder_outputs.clone()))
                });
        }
        listed.push(row);
    }
    let count = listed.len();
    result.insert("stack_instances".into(), Json::Array(listed));
    if opts.outputs {
        result.insert("outputs".into(), Json::Object(outputs));
    }
    Ok(ModuleOutput {
        changed: false,
        result,
        message: Some(match (&described, &planned) {
            (None, Some(p)) if p.new_stack_set => format!(
                "stack set {} would be created: {count} instance(s) planned",
                opts.name
            ),
            (None, _) => format!("stack set {} does not exist", opts.name),
            _ => format!("stack set {}: {count} instance(s)", opts.name),
        }),
        ..Default::default()
    })
}

/// The outputs of an instance's stack, read in its account. The stack is
/// found by the id ListStackInstances gives; moto 5.2.5 gives ids that name
/// no stack and names the stack `StackSet:<name>`, which is tried next (a
/// colon is not valid in a CloudFormation stack name, so this never finds
/// another stack on AWS). No stack (a failed create): no outputs.
async fn instance_outputs(
    aws: &AwsContext,
    target: &Target,
    stack_id: Option<&str>,
    name: &str,
) -> Result<IndexMap<String, String>, String> {
    let client = aws
        .pool
        .cloudformation(target)
        .await
        .map_err(|e| e.to_string())?;
    let moto_name = format!("StackSet:{name}");
    for stack in stack_id.into_iter().chain([moto_name.as_str()]) {
        match client.describe_stacks().stack_name(stack).send().await {
            Ok(out) => {
                if let Some(stack) = out.stacks().first().filter(|s| {
                    s.stack_status()
                        .is_none_or(|st| st.as_str() != "DELETE_COMPLETE")
                }) {
                    return Ok(stack
                        .outputs()
                        .iter()
                        .filter_map(|o| {
                            Some((
                                o.output_key()?.to_string(),
                                o.output_value().unwrap_or_default().to_string(),
                            ))
                        })
                        .collect());
                }
            }
            Err(err) => {
                let failure = runbook_aws::describe(&err);
                let missing = failure.code.as_deref() == Some("ValidationError")
                    && (failure.message.contains("does not exist")
                        || failure.message.contains("Member must satisfy"));
                if !missing {
                    return Err(format!(
                        "stack set {name}: reading an instance's stack: {}",
                        runbook_aws::AwsError::from_sdk(target, "DescribeStacks", &err)
                    ));
                }
            }
        }
    }
    Ok(IndexMap::new())
}
