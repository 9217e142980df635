//! Ansible's control modules (set_fact, debug, assert, fail). They need the
//! task's variables rather than AWS, so they run here, not in a runner.

use indexmap::IndexMap;
use runbook_playbook::{Json, ModuleKind};
use runbook_template::{Engine, Scope};

use crate::runner::{ModuleFailure, ModuleOutput};

/// Runs a builtin module, or `None` when the module is not a builtin.
pub(crate) fn run(
    kind: ModuleKind,
    args: &IndexMap<String, Json>,
    engine: &Engine,
    scope: &Scope,
    verbosity: u8,
) -> Option<Result<ModuleOutput, ModuleFailure>> {
    Some(match kind {
        ModuleKind::SetFact => Ok(set_fact(args)),
        ModuleKind::Debug => debug(args, engine, scope, verbosity),
        ModuleKind::Assert => assert(args, engine, scope),
        ModuleKind::Fail => Err(ModuleFailure::new(
            args.get("msg")
                .map(display)
                .unwrap_or_else(|| "Failed as requested from task".into()),
        )),
        ModuleKind::CloudFormation | ModuleKind::CloudFormationInfo | ModuleKind::CallerInfo => {
            return None
        }
    })
}

/// Registered results of `no_log` tasks are shown censored, as in Ansible.
fn censor(value: Json) -> Json {
    match value {
        Json::Object(map) if map.get("_ansible_no_log") == Some(&Json::Bool(true)) => {
            serde_json::json!({"censored": crate::task::NO_LOG_MESSAGE})
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

fn set_fact(args: &IndexMap<String, Json>) -> ModuleOutput {
    let facts: IndexMap<String, Json> = args
        .iter()
        .filter(|(k, _)| *k != "cacheable")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut result = serde_json::Map::new();
    result.insert(
        "ansible_facts".into(),
        Json::Object(facts.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
    );
    ModuleOutput {
        facts,
        result,
        ..Default::default()
    }
}

fn debug(
    args: &IndexMap<String, Json>,
    engine: &Engine,
    scope: &Scope,
    verbosity: u8,
) -> Result<ModuleOutput, ModuleFailure> {
    let threshold = args.get("verbosity").and_then(|v| match v {
        Json::Number(n) => n.as_u64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    });
    if threshold.is_some_and(|t| t > u64::from(verbosity)) {
        return Ok(ModuleOutput {
            message: None,
            ..Default::default()
        });
    }
    let mut result = serde_json::Map::new();
    let message = if let Some(var) = args.get("var").and_then(Json::as_str) {
        let expr = format!("{{{{ {var} }}}}");
        let value = engine
            .render(&Json::String(expr), scope)
            .map(censor)
            .map_err(|err| ModuleFailure::new(format!("debug var `{var}`: {err}")))?;
        result.insert(var.to_string(), value.clone());
        format!("{var}: {}", display(&value))
    } else {
        let msg = censor(
            args.get("msg")
                .cloned()
                .unwrap_or_else(|| Json::String("Hello world!".into())),
        );
        result.insert("msg".into(), msg.clone());
        display(&msg)
    };
    Ok(ModuleOutput {
        result,
        message: Some(message),
        ..Default::default()
    })
}

fn assert(
    args: &IndexMap<String, Json>,
    engine: &Engine,
    scope: &Scope,
) -> Result<ModuleOutput, ModuleFailure> {
    let conditions: Vec<Json> = match args.get("that") {
        Some(Json::Array(items)) => items.clone(),
        Some(other) => vec![other.clone()],
        None => Vec::new(),
    };
    for condition in conditions {
        let holds = engine.eval_condition(&condition, scope).map_err(|err| {
            ModuleFailure::new(format!("assert `{}`: {err}", display(&condition)))
        })?;
        if !holds {
            let message = args
                .get("fail_msg")
                .map(display)
                .unwrap_or_else(|| "Assertion failed".into());
            let mut failure = ModuleFailure::new(message);
            failure.result.insert("assertion".into(), condition.clone());
            failure
                .result
                .insert("evaluated_to".into(), Json::Bool(false));
            return Err(failure);
        }
    }
    let quiet = match args.get("quiet") {
        Some(Json::Bool(b)) => *b,
        Some(Json::String(s)) => runbook_playbook::modules::parse_bool(s).unwrap_or(false),
        _ => false,
    };
    let message = args
        .get("success_msg")
        .map(display)
        .unwrap_or_else(|| "All assertions passed".into());
    Ok(ModuleOutput {
        message: (!quiet).then_some(message),
        ..Default::default()
    })
}
