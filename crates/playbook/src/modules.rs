//! The modules runbook knows and the options each accepts.
//!
//! Options are checked twice with the same rules: when the playbook is
//! loaded (values without templates) and again after rendering.

use crate::Json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModuleKind {
    CloudFormation,
    CloudFormationInfo,
    CallerInfo,
    SetFact,
    Debug,
    Assert,
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    Str,
    Bool,
    Int,
    List,
    Dict,
    /// A string or a list of strings.
    StrOrList,
    /// A string or a mapping (a policy body as JSON text or YAML).
    StrOrDict,
    Any,
}

impl OptionKind {
    fn describe(self) -> &'static str {
        match self {
            OptionKind::Str => "a string",
            OptionKind::Bool => "a boolean",
            OptionKind::Int => "an integer",
            OptionKind::List => "a list",
            OptionKind::Dict => "a mapping",
            OptionKind::StrOrList => "a string or a list",
            OptionKind::StrOrDict => "a string or a mapping",
            OptionKind::Any => "any value",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    pub name: &'static str,
    pub kind: OptionKind,
    pub required: bool,
    pub aliases: &'static [&'static str],
    pub choices: &'static [&'static str],
}

const fn opt(name: &'static str, kind: OptionKind) -> OptionSpec {
    OptionSpec {
        name,
        kind,
        required: false,
        aliases: &[],
        choices: &[],
    }
}

const fn required(name: &'static str, kind: OptionKind) -> OptionSpec {
    OptionSpec {
        name,
        kind,
        required: true,
        aliases: &[],
        choices: &[],
    }
}

const fn aliased(
    name: &'static str,
    kind: OptionKind,
    aliases: &'static [&'static str],
) -> OptionSpec {
    OptionSpec {
        name,
        kind,
        required: false,
        aliases,
        choices: &[],
    }
}

const fn choice(name: &'static str, choices: &'static [&'static str]) -> OptionSpec {
    OptionSpec {
        name,
        kind: OptionKind::Str,
        required: false,
        aliases: &[],
        choices,
    }
}

#[derive(Debug)]
pub struct ModuleSpec {
    pub kind: ModuleKind,
    pub fqcn: &'static str,
    pub short: &'static str,
    pub options: &'static [OptionSpec],
    /// Options the upstream module has that runbook does not implement, so
    /// the error can say so rather than "unknown option".
    pub unsupported: &'static [&'static str],
    /// Takes any keys (set_fact).
    pub free_keys: bool,
    /// Talks to AWS, so `group/aws` module_defaults apply.
    pub aws: bool,
}

use OptionKind::*;

const AWS_CONNECTION: [OptionSpec; 3] = [
    aliased("region", Str, &["aws_region", "ec2_region"]),
    aliased("profile", Str, &["aws_profile"]),
    aliased("endpoint_url", Str, &["aws_endpoint_url", "ec2_url"]),
];

const AWS_UNSUPPORTED: [&str; 8] = [
    "access_key",
    "secret_key",
    "session_token",
    "validate_certs",
    "aws_ca_bundle",
    "aws_config",
    "debug_botocore_endpoint_logs",
    "security_token",
];

static CLOUDFORMATION_OPTIONS: [OptionSpec; 20] = [
    required("stack_name", Str),
    choice("state", &["present", "absent"]),
    opt("template", Str),
    opt("template_body", StrOrDict),
    opt("template_url", Str),
    opt("template_parameters", Dict),
    opt("tags", Dict),
    opt("capabilities", List),
    opt("disable_rollback", Bool),
    choice("on_create_failure", &["DO_NOTHING", "ROLLBACK", "DELETE"]),
    opt("termination_protection", Bool),
    opt("role_arn", Str),
    opt("notification_arns", StrOrList),
    opt("create_timeout", Int),
    opt("stack_policy_body", StrOrDict),
    opt("create_changeset", Bool),
    opt("changeset_name", Str),
    AWS_CONNECTION[0],
    AWS_CONNECTION[1],
    AWS_CONNECTION[2],
];

static CALLER_INFO_OPTIONS: [OptionSpec; 3] = AWS_CONNECTION;

static CLOUDFORMATION_INFO_OPTIONS: [OptionSpec; 6] = [
    opt("stack_name", Str),
    opt("stack_resources", Bool),
    opt("stack_template", Bool),
    AWS_CONNECTION[0],
    AWS_CONNECTION[1],
    AWS_CONNECTION[2],
];

static SET_FACT_OPTIONS: [OptionSpec; 1] = [opt("cacheable", Bool)];

static DEBUG_OPTIONS: [OptionSpec; 3] = [opt("msg", Any), opt("var", Str), opt("verbosity", Int)];

static ASSERT_OPTIONS: [OptionSpec; 4] = [
    required("that", StrOrList),
    aliased("fail_msg", Any, &["msg"]),
    opt("success_msg", Any),
    opt("quiet", Bool),
];

static FAIL_OPTIONS: [OptionSpec; 1] = [opt("msg", Any)];

pub static MODULES: [ModuleSpec; 7] = [
    ModuleSpec {
        kind: ModuleKind::CloudFormation,
        fqcn: "amazon.aws.cloudformation",
        short: "cloudformation",
        options: &CLOUDFORMATION_OPTIONS,
        unsupported: &[
            "stack_policy",
            "stack_policy_on_update_body",
            "template_format",
            "events_limit",
            "backoff_delay",
            "backoff_max_delay",
            "backoff_retries",
            "purge_stacks",
            "access_key",
            "secret_key",
            "session_token",
            "validate_certs",
            "aws_ca_bundle",
            "aws_config",
            "debug_botocore_endpoint_logs",
            "security_token",
        ],
        free_keys: false,
        aws: true,
    },
    ModuleSpec {
        kind: ModuleKind::CloudFormationInfo,
        fqcn: "amazon.aws.cloudformation_info",
        short: "cloudformation_info",
        options: &CLOUDFORMATION_INFO_OPTIONS,
        unsupported: &[
            "all_facts",
            "stack_events",
            "stack_policy",
            "stack_change_sets",
            "access_key",
            "secret_key",
            "session_token",
            "validate_certs",
            "aws_ca_bundle",
            "aws_config",
            "debug_botocore_endpoint_logs",
            "security_token",
        ],
        free_keys: false,
        aws: true,
    },
    ModuleSpec {
        kind: ModuleKind::CallerInfo,
        fqcn: "amazon.aws.aws_caller_info",
        short: "aws_caller_info",
        options: &CALLER_INFO_OPTIONS,
        unsupported: &AWS_UNSUPPORTED,
        free_keys: false,
        aws: true,
    },
    ModuleSpec {
        kind: ModuleKind::SetFact,
        fqcn: "ansible.builtin.set_fact",
        short: "set_fact",
        options: &SET_FACT_OPTIONS,
        unsupported: &[],
        free_keys: true,
        aws: false,
    },
    ModuleSpec {
        kind: ModuleKind::Debug,
        fqcn: "ansible.builtin.debug",
        short: "debug",
        options: &DEBUG_OPTIONS,
        unsupported: &[],
        free_keys: false,
        aws: false,
    },
    ModuleSpec {
        kind: ModuleKind::Assert,
        fqcn: "ansible.builtin.assert",
        short: "assert",
        options: &ASSERT_OPTIONS,
        unsupported: &[],
        free_keys: false,
        aws: false,
    },
    ModuleSpec {
        kind: ModuleKind::Fail,
        fqcn: "ansible.builtin.fail",
        short: "fail",
        options: &FAIL_OPTIONS,
        unsupported: &[],
        free_keys: false,
        aws: false,
    },
];

/// Finds a module by FQCN, short name, or the `ansible.legacy.` prefix.
pub fn find(name: &str) -> Option<&'static ModuleSpec> {
    let name = name.strip_prefix("ansible.legacy.").unwrap_or(name);
    MODULES.iter().find(|m| m.fqcn == name || m.short == name)
}

/// The modules' full names, for help lines.
pub fn fqcn_list() -> String {
    MODULES
        .iter()
        .map(|m| m.fqcn)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every name a module answers to, for "did you mean".
pub fn all_names() -> impl Iterator<Item = &'static str> {
    MODULES.iter().flat_map(|m| [m.fqcn, m.short])
}

/// Upstream modules people reach for that runbook does not have: the error
/// says so instead of "unknown module".
pub const KNOWN_UNSUPPORTED_MODULES: &[&str] = &[
    "command",
    "shell",
    "copy",
    "template",
    "file",
    "include_tasks",
    "import_tasks",
    "include_role",
    "import_role",
    "include_vars",
    "pause",
    "uri",
    "s3_bucket",
    "iam_role",
    "cloudformation_stack_set",
];

impl ModuleSpec {
    /// The option spec for a name or one of its aliases.
    pub fn option(&self, name: &str) -> Option<&'static OptionSpec> {
        self.options
            .iter()
            .find(|o| o.name == name || o.aliases.contains(&name))
    }
}

/// Checks a concrete (rendered, or template-free) value against its spec.
/// Returns a message on mismatch.
pub fn check_value(spec: &OptionSpec, value: &Json) -> Result<(), String> {
    if value.is_null() {
        return if spec.required {
            Err(format!(
                "option `{}` is required and may not be null",
                spec.name
            ))
        } else {
            Ok(())
        };
    }
    let ok = match spec.kind {
        Str => matches!(value, Json::String(_) | Json::Number(_) | Json::Bool(_)),
        Bool => value.is_boolean() || value.as_str().is_some_and(|s| parse_bool(s).is_some()),
        Int => {
            value.is_i64()
                || value.is_u64()
                || value
                    .as_str()
                    .is_some_and(|s| s.trim().parse::<i64>().is_ok())
        }
        List => value.is_array(),
        Dict => value.is_object(),
        StrOrList => value.is_string() || value.is_array(),
        StrOrDict => value.is_string() || value.is_object(),
        Any => true,
    };
    if !ok {
        return Err(format!(
            "option `{}` must be {}, found {}",
            spec.name,
            spec.kind.describe(),
            json_kind(value)
        ));
    }
    if !spec.choices.is_empty() {
        let text = value.as_str().unwrap_or_default();
        if !spec.choices.contains(&text) {
            return Err(format!(
                "option `{}` must be one of {}, found `{}`",
                spec.name,
                spec.choices.join(", "),
                text
            ));
        }
    }
    Ok(())
}

/// Ansible's boolean strings.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "yes" | "on" | "1" | "true" | "y" | "t" => Some(true),
        "no" | "off" | "0" | "false" | "n" | "f" | "" => Some(false),
        _ => None,
    }
}

pub fn json_kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a mapping",
    }
}

/// The closest of `candidates` to `name`, if close enough to suggest.
pub fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_modules_by_any_name() {
        assert_eq!(
            find("cloudformation").unwrap().fqcn,
            "amazon.aws.cloudformation"
        );
        assert_eq!(
            find("amazon.aws.aws_caller_info").unwrap().short,
            "aws_caller_info"
        );
        assert_eq!(find("ansible.legacy.debug").unwrap().short, "debug");
        assert!(find("cloudformaton").is_none());
        assert_eq!(
            suggest("cloudformaton", all_names()),
            Some("cloudformation")
        );
        assert_eq!(suggest("zzz", all_names()), None);
    }

    #[test]
    fn option_types() {
        let cf = find("cloudformation").unwrap();
        let state = cf.option("state").unwrap();
        assert!(check_value(state, &json!("present")).is_ok());
        assert_eq!(
            check_value(state, &json!("gone")).unwrap_err(),
            "option `state` must be one of present, absent, found `gone`"
        );
        let tp = cf.option("termination_protection").unwrap();
        assert!(check_value(tp, &json!("yes")).is_ok());
        assert!(check_value(tp, &json!([1])).is_err());
        assert_eq!(cf.option("aws_profile").unwrap().name, "profile");
    }
}
