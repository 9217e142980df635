//! `ansible.builtin.assert`: fails unless every condition holds.

use runbook_module::schema::flag;
use runbook_module::{
    printable, BoxFuture, Call, Json, Module, ModuleFailure, ModuleOutput, ModuleSpec, OptionKind,
    OptionSpec,
};

use super::{display, shown};

pub struct Assert;

static OPTIONS: [OptionSpec; 4] = [
    OptionSpec::new("that", OptionKind::StrOrList)
        .required()
        .expression(),
    OptionSpec::new("fail_msg", OptionKind::Any).aliases(&["msg"]),
    OptionSpec::new("success_msg", OptionKind::Any),
    OptionSpec::new("quiet", OptionKind::Bool),
];

static SPEC: ModuleSpec = ModuleSpec {
    fqcn: "ansible.builtin.assert",
    short: "assert",
    options: &OPTIONS,
    unsupported: &[],
    free_keys: false,
    free_form: None,
    groups: &[],
    result_fields: &["assertion", "evaluated_to"],
};

impl Module for Assert {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn run<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<ModuleOutput, ModuleFailure>> {
        Box::pin(std::future::ready(assert(&call)))
    }
}

fn assert(call: &Call<'_>) -> Result<ModuleOutput, ModuleFailure> {
    let args = &call.args;
    let conditions: Vec<Json> = match args.get("that") {
        Some(Json::Array(items)) => items.clone(),
        Some(other) => vec![other.clone()],
        None => Vec::new(),
    };
    for condition in conditions {
        let holds = call
            .engine
            .eval_condition(&condition, call.scope)
            .map_err(|err| {
                ModuleFailure::new(printable(&format!(
                    "assert `{}`: {err}",
                    display(&condition)
                )))
            })?;
        if !holds {
            let msg = args
                .get("fail_msg")
                .cloned()
                .unwrap_or_else(|| Json::String("Assertion failed".into()));
            let mut failure = ModuleFailure::new(shown(&msg));
            failure.result.insert("msg".into(), msg);
            failure.result.insert("assertion".into(), condition.clone());
            failure
                .result
                .insert("evaluated_to".into(), Json::Bool(false));
            return Err(failure);
        }
    }
    let quiet = flag(args.get("quiet")).unwrap_or(false);
    let msg = args
        .get("success_msg")
        .cloned()
        .unwrap_or_else(|| Json::String("All assertions passed".into()));
    let mut result = serde_json::Map::new();
    let message = shown(&msg);
    result.insert("msg".into(), msg);
    Ok(ModuleOutput {
        result,
        message: (!quiet).then_some(message),
        ..Default::default()
    })
}
