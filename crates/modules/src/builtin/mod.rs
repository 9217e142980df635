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
