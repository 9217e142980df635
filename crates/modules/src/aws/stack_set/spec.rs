//! The desired stack set, read from a task's rendered options. Every
//! problem names the option it is about: nothing is silently ignored.

use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use runbook_module::schema::{flag, json_kind};
use runbook_module::Json;

pub(crate) use crate::aws::cloudformation::ParamSpec;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionModel {
    SelfManaged,
    ServiceManaged,
}

impl PermissionModel {
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionModel::SelfManaged => "SELF_MANAGED",
            PermissionModel::ServiceManaged => "SERVICE_MANAGED",
        }
    }
}

/// `deployment_targets` (SERVICE_MANAGED).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeploymentTargets {
    pub organizational_units: Vec<String>,
    pub accounts: Vec<String>,
    /// NONE, INTERSECTION, DIFFERENCE or UNION.
    pub account_filter_type: Option<String>,
}

/// `auto_deployment` (SERVICE_MANAGED).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoDeployment {
    pub enabled: bool,
    pub retain_stacks_on_account_removal: Option<bool>,
}

/// How CloudFormation runs each operation (`failure_tolerance`,
/// `region_order`, `region_concurrency_type`, `concurrency_mode`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Preferences {
    pub fail_count: Option<i32>,
    pub fail_percentage: Option<i32>,
    pub parallel_count: Option<i32>,
    pub parallel_percentage: Option<i32>,
    pub region_order: Option<Vec<String>>,
    pub region_concurrency_type: Option<String>,
    pub concurrency_mode: Option<String>,
}

#[derive(Debug, Clone)]
pub struct StackSetSpec {
    pub name: String,
    pub absent: bool,
    pub description: Option<String>,
    pub body: Option<String>,
    pub url: Option<String>,
    /// The parsed body, for parameter defaults, NoEcho and outputs.
    pub template: Option<Arc<runbook_cfn::Template>>,
    pub parameters: Vec<ParamSpec>,
    /// `None`: the task does not manage tags.
    pub tags: Option<IndexMap<String, String>>,
    /// `None`: none are sent (community.aws sends them only when given).
    pub capabilities: Option<Vec<String>>,
    /// SELF_MANAGED targets.
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub administration_role_arn: Option<String>,
    pub execution_role_name: Option<String>,
    /// On removal: delete the instances' stacks (true) or keep them.
    pub purge_stacks: bool,
    pub preferences: Preferences,
    /// `wait_timeout`, bounding the whole task.
    pub wait_timeout: Option<Duration>,
    /// `wait: false` was given (runbook waits anyway: see the docs).
    pub no_wait: bool,
    pub permission_model: PermissionModel,
    pub deployment_targets: Option<DeploymentTargets>,
    pub auto_deployment: Option<AutoDeployment>,
    /// SELF or DELEGATED_ADMIN.
    pub call_as: Option<String>,
    pub managed_execution: Option<bool>,
}

const CAPABILITIES: &[&str] = &[
    "CAPABILITY_IAM",
    "CAPABILITY_NAMED_IAM",
    "CAPABILITY_AUTO_EXPAND",
];
pub const FILTER_TYPES: &[&str] = &["NONE", "INTERSECTION", "DIFFERENCE", "UNION"];
pub const FAILURE_TOLERANCE_KEYS: &[&str] = &[
    "fail_count",
    "fail_percentage",
    "parallel_count",
    "parallel_percentage",
];
pub const DEPLOYMENT_TARGETS_KEYS: &[&str] =
    &["organizational_units", "accounts", "account_filter_type"];
pub const AUTO_DEPLOYMENT_KEYS: &[&str] = &["enabled", "retain_stacks_on_account_removal"];
pub const MANAGED_EXECUTION_KEYS: &[&str] = &["active"];

/// Text of a scalar option; numbers and booleans as written.
fn scalar(value: &Json) -> Option<String> {
    match value {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An AWS account id as the task gives it: a string, or a number (YAML
/// reads an unquoted id as one, dropping leading zeros, which are put
/// back: account ids have 12 digits).
pub fn account_id(value: &Json, option: &str) -> Result<String, String> {
    let text = match value {
        Json::String(s) => s.trim().to_string(),
        Json::Number(n) if n.is_u64() => format!("{:012}", n.as_u64().unwrap_or_default()),
        other => {
            return Err(format!(
                "option `{option}` must hold 12-digit account ids, found {}",
                json_kind(other)
            ))
        }
    };
    if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text)
    } else {
        Err(format!(
            "option `{option}`: `{text}` is not an AWS account id (12 digits)"
        ))
    }
}

/// Ansible's list of a string: its comma-separated items.
fn split(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A list of strings; a string is its comma-separated items, as Ansible
/// reads a `list` option.
pub fn string_list(value: &Json, option: &str) -> Result<Vec<String>, String> {
    match value {
        Json::Array(items) => items
            .iter()
            .map(|item| {
                scalar(item).ok_or_else(|| {
                    format!(
                        "option `{option}` must be a list of strings, found an item that is {}",
                        json_kind(item)
                    )
                })
            })
            .collect(),
        Json::String(s) => Ok(split(s)),
        other => Err(format!(
            "option `{option}` must be a list, found {}",
            json_kind(other)
        )),
    }
}

/// Account ids, deduplicated, from a list or a comma-separated string.
pub fn accounts_of(value: &Json, option: &str) -> Result<Vec<String>, String> {
    let items = match value {
        Json::Array(items) => items.clone(),
        Json::String(text) => split(text).into_iter().map(Json::String).collect(),
        single => vec![single.clone()],
    };
    let mut accounts = Vec::new();
    for item in &items {
        let account = account_id(item, option)?;
        if !accounts.contains(&account) {
            accounts.push(account);
        }
    }
    Ok(accounts)
}

/// The keys of a mapping option that it does not know.
pub fn unknown_keys(
    map: &serde_json::Map<String, Json>,
    known: &[&str],
    option: &str,
) -> Result<(), String> {
    let unknown: Vec<&str> = map
        .keys()
        .map(String::as_str)
        .filter(|k| !known.contains(k))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "option `{option}` has unknown key{} {} (it takes {})",
            if unknown.len() == 1 { "" } else { "s" },
            unknown
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", "),
            known.join(", ")
        ))
    }
}

fn int_of(value: &Json, option: &str) -> Result<i32, String> {
    let n = match value {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    n.and_then(|n| i32::try_from(n).ok())
        .filter(|n| *n >= 0)
        .ok_or_else(|| format!("option `{option}` must be a non-negative integer"))
}

fn bool_of(value: &Json, option: &str) -> Result<bool, String> {
    flag(Some(value)).ok_or_else(|| format!("option `{option}` must be a boolean"))
}

fn choice(value: &Json, option: &str, choices: &[&str]) -> Result<String, String> {
    let text = scalar(value).unwrap_or_default();
    if choices.contains(&text.as_str()) {
        Ok(text)
    } else {
        Err(format!(
            "option `{option}` must be one of {}, found `{text}`",
            choices.join(", ")
        ))
    }
}

impl StackSetSpec {
    /// Reads the rendered options, parsing the template with `parse`
    /// (which may cache); a relative `template` is looked for in `search`.
    pub fn from_args(
        args: &IndexMap<String, Json>,
        search: &[std::path::PathBuf],
        parse: crate::aws::ParseTemplate<'_>,
    ) -> Result<Self, String> {
        let get = |key: &str| args.get(key).filter(|v| !v.is_null());
        let text = |key: &str| get(key).and_then(scalar);
        let name = text("name").ok_or("option `name` is required")?;
        let absent = text("state").as_deref() == Some("absent");

        let given: Vec<&str> = ["template", "template_body", "template_url"]
            .into_iter()
            .filter(|k| get(k).is_some())
            .collect();
        if given.len() > 1 {
            return Err(format!(
                "options {} are mutually exclusive",
                given.join(", ")
            ));
        }
        let (body, template) = crate::aws::given_template(
            search,
            text("template").as_deref(),
            get("template_body"),
            parse,
        )?;

        let mut parameters = Vec::new();
        match get("parameters") {
            Some(Json::Object(map)) => {
                for (key, value) in map {
                    let use_previous = runbook_cfn::parameter_value(value).is_none();
                    parameters.push(ParamSpec {
                        key: key.clone(),
                        value: runbook_cfn::parameter_value(value),
                        use_previous,
                    });
                }
            }
            Some(other) => {
                return Err(format!(
                    "option `parameters` must be a mapping, found {}",
                    json_kind(other)
                ))
            }
            None => {}
        }

        let tags = match get("tags") {
            Some(Json::Object(map)) => Some(
                map.iter()
                    .map(|(k, v)| {
                        let value = match v {
                            Json::String(s) => s.clone(),
                            other => runbook_cfn::parameter_value(other).unwrap_or_default(),
                        };
                        (k.clone(), value)
                    })
                    .collect(),
            ),
            Some(other) => {
                return Err(format!(
                    "option `tags` must be a mapping, found {}",
                    json_kind(other)
                ))
            }
            None => None,
        };

        let capabilities = match get("capabilities") {
            Some(value) => {
                let list = string_list(value, "capabilities")?;
                if let Some(bad) = list.iter().find(|c| !CAPABILITIES.contains(&c.as_str())) {
                    return Err(format!(
                        "option `capabilities`: `{bad}` is not one of {}",
                        CAPABILITIES.join(", ")
                    ));
                }
                Some(list)
            }
            None => None,
        };

        let permission_model = match get("permission_model") {
            Some(v) => match choice(v, "permission_model", &["SELF_MANAGED", "SERVICE_MANAGED"])?
                .as_str()
            {
                "SERVICE_MANAGED" => PermissionModel::ServiceManaged,
                _ => PermissionModel::SelfManaged,
            },
            None => PermissionModel::SelfManaged,
        };
        let service = permission_model == PermissionModel::ServiceManaged;

        let accounts = match get("accounts") {
            Some(value) => accounts_of(value, "accounts")?,
            None => Vec::new(),
        };
        let regions = match get("regions") {
            Some(value) => {
                let mut regions: Vec<String> = Vec::new();
                for region in string_list(value, "regions")? {
                    if !regions.contains(&region) {
                        regions.push(region);
                    }
                }
                regions
            }
            None => Vec::new(),
        };

        let deployment_targets = match get("deployment_targets") {
            Some(Json::Object(map)) => {
                unknown_keys(map, DEPLOYMENT_TARGETS_KEYS, "deployment_targets")?;
                let organizational_units = match map.get("organizational_units") {
                    Some(v) if !v.is_null() => {
                        string_list(v, "deployment_targets.organizational_units")?
                    }
                    _ => Vec::new(),
                };
                let accounts = match map.get("accounts") {
                    Some(v) if !v.is_null() => accounts_of(v, "deployment_targets.accounts")?,
                    _ => Vec::new(),
                };
                let account_filter_type = match map.get("account_filter_type") {
                    Some(v) if !v.is_null() => Some(choice(
                        v,
                        "deployment_targets.account_filter_type",
                        FILTER_TYPES,
                    )?),
                    _ => None,
                };
                Some(DeploymentTargets {
                    organizational_units,
                    accounts,
                    account_filter_type,
                })
            }
            Some(other) => {
                return Err(format!(
                    "option `deployment_targets` must be a mapping, found {}",
                    json_kind(other)
                ))
            }
            None => None,
        };

        let auto_deployment = match get("auto_deployment") {
            Some(Json::Object(map)) => {
                unknown_keys(map, AUTO_DEPLOYMENT_KEYS, "auto_deployment")?;
                let enabled = match map.get("enabled") {
                    Some(v) => bool_of(v, "auto_deployment.enabled")?,
                    None => return Err("option `auto_deployment` needs `enabled`".into()),
                };
                let retain = match map.get("retain_stacks_on_account_removal") {
                    Some(v) if !v.is_null() => Some(bool_of(
                        v,
                        "auto_deployment.retain_stacks_on_account_removal",
                    )?),
                    _ => None,
                };
                Some(AutoDeployment {
                    enabled,
                    retain_stacks_on_account_removal: retain,
                })
            }
            Some(other) => {
                return Err(format!(
                    "option `auto_deployment` must be a mapping, found {}",
                    json_kind(other)
                ))
            }
            None => None,
        };

        let managed_execution = match get("managed_execution") {
            Some(Json::Object(map)) => {
                unknown_keys(map, MANAGED_EXECUTION_KEYS, "managed_execution")?;
                match map.get("active") {
                    Some(v) => Some(bool_of(v, "managed_execution.active")?),
                    None => return Err("option `managed_execution` needs `active`".into()),
                }
            }
            Some(other) => {
                return Err(format!(
                    "option `managed_execution` must be a mapping, found {}",
                    json_kind(other)
                ))
            }
            None => None,
        };

        let call_as = match get("call_as") {
            Some(v) => Some(choice(v, "call_as", &["SELF", "DELEGATED_ADMIN"])?),
            None => None,
        };

        let mut preferences = Preferences::default();
        match get("failure_tolerance") {
            Some(Json::Object(map)) => {
                unknown_keys(map, FAILURE_TOLERANCE_KEYS, "failure_tolerance")?;
                let int = |key: &str| -> Result<Option<i32>, String> {
                    match map.get(key) {
                        Some(v) if !v.is_null() => {
                            int_of(v, &format!("failure_tolerance.{key}")).map(Some)
                        }
                        _ => Ok(None),
                    }
                };
                preferences.fail_count = int("fail_count")?;
                preferences.fail_percentage = int("fail_percentage")?;
                preferences.parallel_count = int("parallel_count")?;
                preferences.parallel_percentage = int("parallel_percentage")?;
                if preferences.fail_count.is_some() && preferences.fail_percentage.is_some() {
                    return Err("options failure_tolerance.fail_count and failure_tolerance.fail_percentage are mutually exclusive".into());
                }
                if preferences.parallel_count.is_some() && preferences.parallel_percentage.is_some()
                {
                    return Err("options failure_tolerance.parallel_count and failure_tolerance.parallel_percentage are mutually exclusive".into());
                }
            }
            Some(other) => {
                return Err(format!(
                    "option `failure_tolerance` must be a mapping, found {}",
                    json_kind(other)
                ))
            }
            None => {}
        }
        if let Some(v) = get("region_order") {
            let order = string_list(v, "region_order")?;
            if let Some(stray) = order.iter().find(|r| !regions.contains(r)) {
                if !absent {
                    return Err(format!(
                        "option `region_order` names `{stray}`, which is not in `regions`"
                    ));
                }
            }
            preferences.region_order = Some(order);
        }
        if let Some(v) = get("region_concurrency_type") {
            preferences.region_concurrency_type = Some(choice(
                v,
                "region_concurrency_type",
                &["SEQUENTIAL", "PARALLEL"],
            )?);
        }
        if let Some(v) = get("concurrency_mode") {
            preferences.concurrency_mode = Some(choice(
                v,
                "concurrency_mode",
                &["STRICT_FAILURE_TOLERANCE", "SOFT_FAILURE_TOLERANCE"],
            )?);
        }

        let wait_timeout = match get("wait_timeout") {
            Some(v) => Some(Duration::from_secs(int_of(v, "wait_timeout")?.max(1) as u64)),
            None => None,
        };
        let no_wait = match get("wait") {
            Some(v) => !bool_of(v, "wait")?,
            None => false,
        };
        let purge_stacks = match get("purge_stacks") {
            Some(v) => bool_of(v, "purge_stacks")?,
            None => true,
        };

        let spec = StackSetSpec {
            name,
            absent,
            description: text("description"),
            body,
            url: text("template_url"),
            template,
            parameters,
            tags,
            capabilities,
            accounts,
            regions,
            administration_role_arn: text("administration_role_arn"),
            execution_role_name: text("execution_role_name"),
            purge_stacks,
            preferences,
            wait_timeout,
            no_wait,
            permission_model,
            deployment_targets,
            auto_deployment,
            call_as,
            managed_execution,
        };
        if let Some(problem) = spec.combination_problem(service) {
            return Err(problem);
        }
        Ok(spec)
    }

    /// Options that do not go together, or that `state: present` needs.
    fn combination_problem(&self, service: bool) -> Option<String> {
        if service {
            if !self.accounts.is_empty() {
                return Some("option `accounts` is for SELF_MANAGED stack sets; with permission_model SERVICE_MANAGED, give `deployment_targets` (organizational_units, accounts, account_filter_type)".into());
            }
            if self.administration_role_arn.is_some() || self.execution_role_name.is_some() {
                return Some("options `administration_role_arn` and `execution_role_name` are for SELF_MANAGED stack sets; SERVICE_MANAGED stack sets use the roles AWS Organizations provides".into());
            }
        } else {
            if self.deployment_targets.is_some() {
                return Some("option `deployment_targets` needs permission_model SERVICE_MANAGED; a SELF_MANAGED stack set targets `accounts`".into());
            }
            if self.auto_deployment.is_some() {
                return Some(
                    "option `auto_deployment` needs permission_model SERVICE_MANAGED".into(),
                );
            }
            if self.call_as.as_deref() == Some("DELEGATED_ADMIN") {
                return Some("call_as DELEGATED_ADMIN needs permission_model SERVICE_MANAGED (only service-managed stack sets have delegated administrators)".into());
            }
        }
        if self.absent {
            return None;
        }
        if self.regions.is_empty() {
            return Some("state=present needs `regions`: the regions of the stack instances (`region` is where the stack set itself lives)".into());
        }
        if service {
            match &self.deployment_targets {
                None => return Some("state=present with permission_model SERVICE_MANAGED needs `deployment_targets` (organizational_units)".into()),
                Some(t) if t.organizational_units.is_empty() => {
                    return Some("option `deployment_targets` needs `organizational_units` (the OU or root ids to deploy to)".into())
                }
                Some(t) if t.account_filter_type.as_deref().is_some_and(|f| f != "NONE") && t.accounts.is_empty() => {
                    return Some("deployment_targets.account_filter_type INTERSECTION, DIFFERENCE or UNION needs deployment_targets.accounts".into())
                }
                Some(t) if !t.accounts.is_empty() && t.account_filter_type.as_deref().is_none_or(|f| f == "NONE") => {
                    return Some("deployment_targets.accounts needs account_filter_type INTERSECTION, DIFFERENCE or UNION (say how the accounts combine with the OUs)".into())
                }
                _ => {}
            }
        } else if self.accounts.is_empty() {
            return Some("state=present needs `accounts`: the accounts to create stack instances in (community.aws requires it too; aws_caller_info gives the current account)".into());
        }
        None
    }

    /// Whether a parameter's value is secret (NoEcho in `template`).
    pub fn is_secret(template: Option<&runbook_cfn::Template>, key: &str) -> bool {
        template
            .and_then(|t| t.parameters.get(key))
            .is_some_and(|p| p.no_echo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(value: Json) -> IndexMap<String, Json> {
        value
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn read(value: Json) -> Result<StackSetSpec, String> {
        StackSetSpec::from_args(&args(value), &[], &|body| {
            runbook_cfn::parse(body).map(Arc::new)
        })
    }

    #[test]
    fn community_options_are_read() {
        let spec = read(json!({
            "name": "s", "template_body": "Resources: {}\n",
            "accounts": ["222222222222", 12345678901u64], "regions": ["us-east-1", "us-east-1"],
            "parameters": {"A": 1, "B": {"use_previous_value": true}},
            "failure_tolerance": {"fail_count": 1, "parallel_count": "2"},
            "purge_stacks": "no", "wait": false, "wait_timeout": 60,
        }))
        .unwrap();
        assert_eq!(spec.accounts, ["222222222222", "012345678901"]);
        assert_eq!(spec.regions, ["us-east-1"]);
        assert_eq!(spec.parameters[0].value.as_deref(), Some("1"));
        assert!(spec.parameters[1].use_previous);
        assert_eq!(spec.preferences.fail_count, Some(1));
        assert_eq!(spec.preferences.parallel_count, Some(2));
        assert!(!spec.purge_stacks && spec.no_wait);
        assert_eq!(spec.wait_timeout, Some(Duration::from_secs(60)));
        assert_eq!(spec.permission_model, PermissionModel::SelfManaged);
        // Ansible reads a string given for a list as its comma-separated items.
        let spec = read(json!({
            "name": "s", "template_body": "Resources: {}\n",
            "accounts": "222222222222, 777777777777", "regions": "us-east-1,eu-west-1",
        }))
        .unwrap();
        assert_eq!(spec.accounts, ["222222222222", "777777777777"]);
        assert_eq!(spec.regions, ["us-east-1", "eu-west-1"]);
    }

    #[test]
    fn problems_name_their_option() {
        let base =
            json!({"name": "s", "template_body": "Resources: {}\n", "regions": ["us-east-1"]});
        let with = |extra: Json| {
            let mut v = base.clone();
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            read(v).unwrap_err()
        };
        assert!(with(json!({})).contains("needs `accounts`"));
        assert!(with(json!({"accounts": ["123"]})).contains("`123` is not an AWS account id"));
        assert!(
            with(json!({"accounts": ["222222222222"], "failure_tolerance": {"fail_cout": 1}}))
                .contains("unknown key `fail_cout`")
        );
        assert!(with(json!({"accounts": ["222222222222"], "failure_tolerance": {"fail_count": 1, "fail_percentage": 5}})).contains("mutually exclusive"));
        assert!(with(json!({"accounts": ["222222222222"], "deployment_targets": {"organizational_units": ["ou-a"]}})).contains("needs permission_model SERVICE_MANAGED"));
        assert!(
            with(json!({"permission_model": "SERVICE_MANAGED", "accounts": ["222222222222"]}))
                .contains("`accounts` is for SELF_MANAGED")
        );
        assert!(with(json!({"permission_model": "SERVICE_MANAGED"}))
            .contains("needs `deployment_targets`"));
        assert!(with(json!({"permission_model": "SERVICE_MANAGED", "deployment_targets": {"organizational_units": ["ou-a"], "accounts": ["222222222222"]}})).contains("needs account_filter_type"));
        assert!(
            with(json!({"accounts": ["222222222222"], "region_order": ["eu-west-1"]}))
                .contains("not in `regions`")
        );
        assert!(
            with(json!({"accounts": ["222222222222"], "capabilities": ["CAPABILITY_X"]}))
                .contains("`CAPABILITY_X` is not one of")
        );
    }

    #[test]
    fn service_managed_targets() {
        let spec = read(json!({
            "name": "s", "template_body": "Resources: {}\n", "regions": ["us-east-1"],
            "permission_model": "SERVICE_MANAGED", "call_as": "DELEGATED_ADMIN",
            "deployment_targets": {"organizational_units": ["ou-ab12-cdef3456"], "accounts": ["222222222222"], "account_filter_type": "DIFFERENCE"},
            "auto_deployment": {"enabled": true, "retain_stacks_on_account_removal": false},
            "managed_execution": {"active": true},
        }))
        .unwrap();
        let targets = spec.deployment_targets.unwrap();
        assert_eq!(targets.organizational_units, ["ou-ab12-cdef3456"]);
        assert_eq!(targets.account_filter_type.as_deref(), Some("DIFFERENCE"));
        assert_eq!(
            spec.auto_deployment,
            Some(AutoDeployment {
                enabled: true,
                retain_stacks_on_account_removal: Some(false)
            })
        );
        assert_eq!(spec.managed_execution, Some(true));
    }

    #[test]
    fn absent_needs_only_the_name() {
        let spec = read(json!({"name": "s", "state": "absent"})).unwrap();
        assert!(spec.absent && spec.purge_stacks);
    }
}
