//! The desired stack, read from a task's rendered options.

use std::sync::Arc;

use indexmap::IndexMap;
use runbook_module::Json;

/// One template parameter as the task gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    pub key: String,
    /// `None` with `use_previous`.
    pub value: Option<String>,
    pub use_previous: bool,
}

#[derive(Debug, Clone)]
pub struct StackSpec {
    pub name: String,
    pub absent: bool,
    pub body: Option<String>,
    pub url: Option<String>,
    /// The parsed body, for parameter defaults, NoEcho and transforms.
    pub template: Option<Arc<runbook_cfn::Template>>,
    pub parameters: Vec<ParamSpec>,
    /// `None`: the task does not manage tags.
    pub tags: Option<IndexMap<String, String>>,
    pub capabilities: Vec<String>,
    pub disable_rollback: Option<bool>,
    pub on_create_failure: Option<String>,
    pub termination_protection: Option<bool>,
    pub role_arn: Option<String>,
    pub notification_arns: Option<Vec<String>>,
    pub create_timeout: Option<i32>,
    pub stack_policy_body: Option<String>,
    pub create_changeset: bool,
    pub changeset_name: Option<String>,
}

impl StackSpec {
    /// Reads the options; a relative `template` is found from `playbook_dir`.
    #[cfg(test)]
    pub fn from_args(
        args: &IndexMap<String, Json>,
        playbook_dir: &std::path::Path,
    ) -> Result<Self, String> {
        Self::from_args_with(args, &[playbook_dir.to_path_buf()], &|body| {
            runbook_cfn::parse(body).map(Arc::new)
        })
    }

    /// Reads the options, parsing the template with `parse` (which may
    /// cache: a template is often shared by many tasks); a relative
    /// `template` is looked for in `search` (`runbook_module::find_file`).
    pub fn from_args_with(
        args: &IndexMap<String, Json>,
        search: &[std::path::PathBuf],
        parse: crate::aws::ParseTemplate<'_>,
    ) -> Result<Self, String> {
        let text = |key: &str| -> Option<String> {
            args.get(key).and_then(|v| match v {
                Json::String(s) => Some(s.clone()),
                Json::Null => None,
                other => Some(other.to_string()),
            })
        };
        let flag = |key: &str| -> Option<bool> {
            args.get(key).and_then(|v| match v {
                Json::Bool(b) => Some(*b),
                Json::String(s) => runbook_module::schema::parse_bool(s),
                _ => None,
            })
        };
        let name = text("stack_name").ok_or("option `stack_name` is required")?;
        // Rendered values: refused before any call, never quoted.
        for option in super::validate::CHECKED {
            if let Some(value) = args.get(option).filter(|v| !v.is_null()) {
                if let Some(problem) = super::validate::option_problem(option, value, false) {
                    return Err(problem);
                }
            }
        }
        let absent = text("state").as_deref() == Some("absent");
        let (body, template) = crate::aws::given_template(
            search,
            text("template").as_deref(),
            args.get("template_body").filter(|v| !v.is_null()),
            parse,
        )?;
        let mut parameters = Vec::new();
        if let Some(Json::Object(map)) = args.get("template_parameters") {
            for (key, value) in map {
                let use_previous = matches!(value, Json::Object(m) if m.get("use_previous_value").is_some_and(|v| v == &Json::Bool(true) || v.as_str().and_then(runbook_module::schema::parse_bool) == Some(true)));
                parameters.push(ParamSpec {
                    key: key.clone(),
                    value: runbook_cfn::parameter_value(value),
                    use_previous,
                });
            }
        }
        let tags = match args.get("tags") {
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
            _ => None,
        };
        let capabilities = match args.get("capabilities") {
            Some(Json::Array(items)) => items
                .iter()
                .filter_map(|c| c.as_str().map(str::to_string))
                .collect(),
            // amazon.aws's default.
            _ => vec![
                "CAPABILITY_IAM".to_string(),
                "CAPABILITY_NAMED_IAM".to_string(),
            ],
        };
        let notification_arns = match args.get("notification_arns") {
            Some(Json::String(s)) => Some(
                s.split(',')
                    .map(|a| a.trim().to_string())
                    .filter(|a| !a.is_empty())
                    .collect(),
            ),
            Some(Json::Array(items)) => Some(
                items
                    .iter()
                    .filter_map(|a| a.as_str().map(str::to_string))
                    .collect(),
            ),
            _ => None,
        };
        let create_timeout = match args.get("create_timeout") {
            None | Some(Json::Null) => None,
            Some(value) => Some(super::validate::create_timeout(value, false)?),
        };
        let stack_policy_body = match args.get("stack_policy_body") {
            Some(Json::String(s)) => Some(s.clone()),
            Some(other @ Json::Object(_)) => Some(other.to_string()),
            _ => None,
        };
        Ok(StackSpec {
            name,
            absent,
            body,
            url: text("template_url"),
            template,
            parameters,
            tags,
            capabilities,
            disable_rollback: flag("disable_rollback"),
            on_create_failure: text("on_create_failure"),
            termination_protection: flag("termination_protection"),
            role_arn: text("role_arn"),
            notification_arns,
            create_timeout,
            stack_policy_body,
            create_changeset: flag("create_changeset").unwrap_or(false),
            changeset_name: text("changeset_name"),
        })
    }

    /// Whether a parameter's value is secret (NoEcho in the template).
    pub fn is_secret(&self, key: &str) -> bool {
        self.template
            .as_ref()
            .and_then(|t| t.parameters.get(key))
            .is_some_and(|p| p.no_echo)
    }

    /// A parameter value fit to print.
    pub fn shown(&self, key: &str, value: &str) -> String {
        if self.is_secret(key) {
            "****".to_string()
        } else {
            value.to_string()
        }
    }
}
