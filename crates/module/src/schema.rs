//! What a module accepts: its names, options, option types and aliases.
//!
//! Options are checked twice with the same rules: when the playbook is
//! loaded (values that hold no template) and again after rendering.

use crate::Json;

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
    /// Holds bare Jinja expressions rather than templates (`assert: that`,
    /// `debug: var`), so the graph reads it as an expression.
    pub expression: bool,
}

impl OptionSpec {
    /// An optional option of this kind.
    pub const fn new(name: &'static str, kind: OptionKind) -> Self {
        OptionSpec {
            name,
            kind,
            required: false,
            aliases: &[],
            choices: &[],
            expression: false,
        }
    }

    /// A string option limited to `choices`.
    pub const fn choice(name: &'static str, choices: &'static [&'static str]) -> Self {
        OptionSpec {
            choices,
            ..OptionSpec::new(name, OptionKind::Str)
        }
    }

    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub const fn aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }

    pub const fn expression(mut self) -> Self {
        self.expression = true;
        self
    }
}

/// A module's names and options: everything the loader checks.
#[derive(Debug)]
pub struct ModuleSpec {
    pub fqcn: &'static str,
    pub short: &'static str,
    pub options: &'static [OptionSpec],
    /// Options the upstream module has that runbook does not implement, so
    /// the error can say so rather than "unknown option".
    pub unsupported: &'static [&'static str],
    /// Takes any keys as well as its options (set_fact).
    pub free_keys: bool,
    /// The option a bare string sets (`include_vars: file.yml` is
    /// `file: file.yml`); without one, a string holds `key=value` pairs.
    pub free_form: Option<&'static str>,
    /// `module_defaults` groups the module belongs to (`aws` for
    /// `group/aws`).
    pub groups: &'static [&'static str],
    /// The fields of the registered result besides `changed`, `failed`
    /// and `msg`, as the upstream module documents them.
    pub result_fields: &'static [&'static str],
}

impl ModuleSpec {
    /// The option spec for a name or one of its aliases.
    pub fn option(&self, name: &str) -> Option<&'static OptionSpec> {
        self.options
            .iter()
            .find(|o| o.name == name || o.aliases.contains(&name))
    }

    pub fn in_group(&self, group: &str) -> bool {
        self.groups.contains(&group)
    }

    /// Whether an option holds a bare expression.
    pub fn is_expression(&self, option: &str) -> bool {
        self.option(option).is_some_and(|o| o.expression)
    }
}

/// Checks a concrete (rendered, or template-free) value against its spec.
/// Returns a message on mismatch. A value is quoted only when `literal`:
/// a rendered value may hold a secret.
pub fn check_value(spec: &OptionSpec, value: &Json, literal: bool) -> Result<(), String> {
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
        OptionKind::Str => matches!(value, Json::String(_) | Json::Number(_) | Json::Bool(_)),
        OptionKind::Bool => {
            value.is_boolean() || value.as_str().is_some_and(|s| parse_bool(s).is_some())
        }
        OptionKind::Int => {
            value.is_i64()
                || value.is_u64()
                || value
                    .as_str()
                    .is_some_and(|s| s.trim().parse::<i64>().is_ok())
        }
        OptionKind::List => value.is_array(),
        OptionKind::Dict => value.is_object(),
        OptionKind::StrOrList => value.is_string() || value.is_array(),
        OptionKind::StrOrDict => value.is_string() || value.is_object(),
        OptionKind::Any => true,
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
            let found = match value {
                _ if !literal => "another value (not shown: it was rendered)".to_string(),
                Json::String(_) => format!("`{text}`"),
                // YAML 1.1 reads yes/no/on/off as booleans.
                Json::Bool(_) => format!("the boolean `{value}` (quote it to mean a string)"),
                other => format!("{} `{other}`", json_kind(other)),
            };
            return Err(format!(
                "option `{}` must be one of {}, found {found}",
                spec.name,
                spec.choices.join(", "),
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

/// A rendered option read as a boolean the way Ansible reads it; `None`
/// when absent or not a boolean.
pub fn flag(value: Option<&Json>) -> Option<bool> {
    match value? {
        Json::Bool(b) => Some(*b),
        Json::String(s) => parse_bool(s),
        Json::Number(n) => n.as_i64().map(|n| n != 0),
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
    fn option_types() {
        let state = OptionSpec::choice("state", &["present", "absent"]);
        assert!(check_value(&state, &json!("present"), true).is_ok());
        assert_eq!(
            check_value(&state, &json!("gone"), true).unwrap_err(),
            "option `state` must be one of present, absent, found `gone`"
        );
        assert!(!check_value(&state, &json!("s3cr3t"), false)
            .unwrap_err()
            .contains("s3cr3t"));
        let tp = OptionSpec::new("termination_protection", OptionKind::Bool);
        assert!(check_value(&tp, &json!("yes"), true).is_ok());
        assert!(check_value(&tp, &json!([1]), true).is_err());
        let required = OptionSpec::new("stack_name", OptionKind::Str).required();
        assert!(check_value(&required, &Json::Null, true).is_err());
    }

    #[test]
    fn suggestions() {
        let names = ["cloudformation", "debug"];
        assert_eq!(
            suggest("cloudformaton", names.iter().copied()),
            Some("cloudformation")
        );
        assert_eq!(suggest("zzz", names.iter().copied()), None);
    }
}
