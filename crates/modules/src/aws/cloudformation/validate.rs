//! What CloudFormation would refuse, found before any call: stack names,
//! capabilities, `create_timeout`, and `use_previous_value` for a stack
//! that does not exist.
//!
//! The same rules run three times: on values written in the playbook
//! (`Module::check`), on values rendered before running (the analysis),
//! and on the options a task renders at run time, before its first call.
//! A value is quoted only when it is written in the playbook: a rendered
//! one may hold a secret.

use indexmap::IndexMap;
use runbook_module::{Arg, ErrorKind, Json, PlaybookError};

/// The capabilities CloudFormation knows.
pub const CAPABILITIES: [&str; 3] = [
    "CAPABILITY_IAM",
    "CAPABILITY_NAMED_IAM",
    "CAPABILITY_AUTO_EXPAND",
];

/// The longest stack name CloudFormation takes.
pub const MAX_STACK_NAME: usize = 128;

/// The longest `create_timeout`, in minutes: 7 days, as `--wait-timeout`.
pub const MAX_CREATE_TIMEOUT: i64 = 7 * 24 * 60;

/// The options checked here.
pub const CHECKED: [&str; 3] = ["stack_name", "capabilities", "create_timeout"];

/// What is wrong with one option's value, if anything. `literal`: the value
/// is written in the playbook, so the message may quote it.
pub fn option_problem(option: &str, value: &Json, literal: bool) -> Option<String> {
    match option {
        "stack_name" => stack_name(value, literal).err(),
        "capabilities" => capabilities(value, literal).err(),
        "create_timeout" => create_timeout(value, literal).err(),
        _ => None,
    }
}

/// The start of a message about `option`'s value: the value itself when
/// it is written in the playbook, else only that it was rendered.
fn subject(option: &str, text: &str, literal: bool) -> String {
    if literal {
        format!("option `{option}`: `{text}`")
    } else {
        format!("option `{option}` rendered to a value (not shown) that")
    }
}

/// A stack name CloudFormation accepts: `[a-zA-Z][-a-zA-Z0-9]*`, at most
/// 128 characters; or a stack ARN, which names an existing stack.
pub fn stack_name(value: &Json, literal: bool) -> Result<(), String> {
    let name = match value {
        Json::String(s) => s.clone(),
        Json::Number(n) => n.to_string(),
        Json::Bool(b) => b.to_string(),
        // The type check reports other kinds.
        _ => return Ok(()),
    };
    if name.starts_with("arn:") {
        return Ok(());
    }
    let why = if name.is_empty() {
        "it is empty".to_string()
    } else if name.chars().count() > MAX_STACK_NAME {
        format!(
            "it is {} characters long, and CloudFormation takes at most {MAX_STACK_NAME}",
            name.chars().count()
        )
    } else if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        "it must start with a letter".to_string()
    } else if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        if literal {
            format!(
                "it may hold only letters, digits and hyphens, and has `{}`",
                bad.escape_default()
            )
        } else {
            "it may hold only letters, digits and hyphens".to_string()
        }
    } else {
        return Ok(());
    };
    // A long name is not repeated whole.
    let shown = if name.chars().count() > MAX_STACK_NAME {
        format!("{}…", name.chars().take(32).collect::<String>())
    } else {
        name
    };
    Err(format!(
        "{} is not a stack name CloudFormation accepts: {why}",
        subject("stack_name", &shown, literal)
    ))
}

/// Each capability is one CloudFormation knows.
pub fn capabilities(value: &Json, literal: bool) -> Result<(), String> {
    let Json::Array(items) = value else {
        return Ok(());
    };
    for (index, item) in items.iter().enumerate() {
        let known = item.as_str().is_some_and(|c| CAPABILITIES.contains(&c));
        if !known {
            let found = match item {
                Json::String(s) if literal => format!("`{s}`"),
                Json::String(_) => "a value (not shown: it was rendered)".to_string(),
                other => runbook_module::schema::json_kind(other).to_string(),
            };
            return Err(format!(
                "option `capabilities`: item {} is {found}, not one of {}",
                index + 1,
                CAPABILITIES.join(", ")
            ));
        }
    }
    Ok(())
}

/// `create_timeout`: whole minutes, from 1 to 7 days.
pub fn create_timeout(value: &Json, literal: bool) -> Result<i32, String> {
    let minutes = match value {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match minutes {
        Some(m) if (1..=MAX_CREATE_TIMEOUT).contains(&m) => Ok(m as i32),
        _ => {
            let head = match value {
                Json::Number(n) => subject("create_timeout", &n.to_string(), literal),
                Json::String(s) => subject("create_timeout", s, literal),
                other => format!(
                    "option `create_timeout`: {}",
                    runbook_module::schema::json_kind(other)
                ),
            };
            Err(format!(
                "{head} is not a number of minutes from 1 to {MAX_CREATE_TIMEOUT} (7 days)"
            ))
        }
    }
}

/// The checked options written without templates, as `Module::check`
/// sees them; each problem is placed at its option.
pub fn written(args: &IndexMap<String, Arg>) -> Vec<PlaybookError> {
    CHECKED
        .iter()
        .filter_map(|option| {
            let arg = args.get(*option)?;
            if holds_template(&arg.value) {
                return None;
            }
            let message = option_problem(option, &arg.value, true)?;
            Some(
                PlaybookError::new(ErrorKind::Schema, message)
                    .at(arg.location.clone())
                    .help(help(option)),
            )
        })
        .collect()
}

/// What to do about a problem with `option`.
pub fn help(option: &str) -> &'static str {
    match option {
        "stack_name" => {
            "stack names are 1 to 128 letters, digits and hyphens, starting with a letter"
        }
        "capabilities" => {
            "capabilities are CAPABILITY_IAM, CAPABILITY_NAMED_IAM and CAPABILITY_AUTO_EXPAND"
        }
        _ => "give the timeout in whole minutes",
    }
}

/// Whether a value holds a Jinja template anywhere.
pub fn holds_template(value: &Json) -> bool {
    match value {
        Json::String(s) => s.contains("{{") || s.contains("{%"),
        Json::Array(items) => items.iter().any(holds_template),
        Json::Object(map) => map.values().any(holds_template),
        _ => false,
    }
}

/// A parameter with `use_previous_value` needs a value already deployed:
/// for a stack that does not exist yet there is none, and CloudFormation
/// would refuse the create after runbook had started it.
pub fn previous_values_need_a_stack(
    stack: &str,
    parameters: &[super::spec::ParamSpec],
) -> Result<(), String> {
    let keys: Vec<&str> = parameters
        .iter()
        .filter(|p| p.use_previous)
        .map(|p| p.key.as_str())
        .collect();
    if keys.is_empty() {
        return Ok(());
    }
    Err(format!(
        "stack {stack} does not exist yet, so parameter{} {} cannot use `use_previous_value`: give {} a value for the first deploy (nothing was changed)",
        if keys.len() == 1 { "" } else { "s" },
        keys.iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", "),
        if keys.len() == 1 { "it" } else { "them" },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stack_names() {
        assert!(stack_name(&json!("my-stack-1"), true).is_ok());
        assert!(stack_name(&json!("arn:aws:cloudformation:us-east-1:1:stack/a/b"), true).is_ok());
        assert_eq!(
            stack_name(&json!("my_stack!"), true).unwrap_err(),
            "option `stack_name`: `my_stack!` is not a stack name CloudFormation accepts: it may hold only letters, digits and hyphens, and has `_`"
        );
        assert!(stack_name(&json!(""), true)
            .unwrap_err()
            .contains("it is empty"));
        assert!(stack_name(&json!("1abc"), true)
            .unwrap_err()
            .contains("must start with a letter"));
        let long = "a".repeat(129);
        let err = stack_name(&json!(long), true).unwrap_err();
        assert!(err.contains("129 characters long"), "{err}");
        assert!(err.contains(&format!("`{}…`", "a".repeat(32))), "{err}");
        assert!(stack_name(&json!("a".repeat(128)), true).is_ok());
        let rendered = stack_name(&json!("s3cr3t!"), false).unwrap_err();
        assert!(!rendered.contains("s3cr3t"), "{rendered}");
        assert!(!rendered.contains('!'), "{rendered}");
    }

    #[test]
    fn capabilities_and_timeouts() {
        assert!(capabilities(&json!(["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]), true).is_ok());
        assert_eq!(
            capabilities(&json!(["CAPABILITY_IAM", "CAPABILITY_ADMIN"]), true).unwrap_err(),
            "option `capabilities`: item 2 is `CAPABILITY_ADMIN`, not one of CAPABILITY_IAM, CAPABILITY_NAMED_IAM, CAPABILITY_AUTO_EXPAND"
        );
        assert!(capabilities(&json!([1]), true)
            .unwrap_err()
            .contains("item 1 is a number"));
        assert_eq!(create_timeout(&json!(30), true), Ok(30));
        assert_eq!(create_timeout(&json!("45"), true), Ok(45));
        for bad in [
            json!(0),
            json!(-5),
            json!(10081),
            json!(u64::MAX),
            json!("x"),
        ] {
            assert!(create_timeout(&bad, true).is_err(), "{bad}");
        }
        assert!(!create_timeout(&json!("-3"), false)
            .unwrap_err()
            .contains("-3"));
    }

    #[test]
    fn previous_values() {
        let p = |key: &str, use_previous| super::super::spec::ParamSpec {
            key: key.into(),
            value: None,
            use_previous,
        };
        assert!(previous_values_need_a_stack("s", &[p("A", false)]).is_ok());
        let err = previous_values_need_a_stack("s", &[p("A", true), p("B", true)]).unwrap_err();
        assert!(err.contains("parameters `A`, `B` cannot use"), "{err}");
    }
}
