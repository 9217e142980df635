//! Ansible's control modules. They work on the task's variables rather
//! than on AWS.

mod assert;
mod debug;
mod fail;
mod include_vars;
mod set_fact;

pub use assert::Assert;
pub use debug::Debug;
pub use fail::Fail;
pub use include_vars::IncludeVars;
pub use set_fact::SetFact;

use runbook_module::{Json, NO_LOG_MESSAGE};

/// Registered results of `no_log` tasks are shown censored, as in Ansible.
fn censor(value: Json) -> Json {
    match value {
        Json::Object(map) if map.get("_ansible_no_log") == Some(&Json::Bool(true)) => {
            serde_json::json!({ "censored": NO_LOG_MESSAGE })
        }
        other => other,
    }
}

fn display(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// A value as a task's message shows it: a string with its newlines and
/// escape sequences escaped, as Ansible shows a JSON-encoded `msg`
/// (`runbook_module::text`); other values as pretty JSON, whose strings
/// JSON escapes.
fn shown(value: &Json) -> String {
    runbook_module::printable(&display(value)).into_owned()
}
