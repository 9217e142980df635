//! `ansible.builtin.debug`: shows a message or a variable.

use indexmap::IndexMap;
use runbook_module::{
    Arg, BoxFuture, Call, ErrorKind, Json, Module, ModuleFailure, ModuleOutput, ModuleSpec,
    OptionKind, OptionSpec, PlaybookError,
};

use super::{censor, shown};

pub struct Debug;

static OPTIONS: [OptionSpec; 3] = [
    OptionSpec::new("msg", OptionKind::Any),
    OptionSpec::new("var", OptionKind::Str).expression(),
    OptionSpec::new("verbosity", OptionKind::Int),
];

static SPEC: ModuleSpec = ModuleSpec {
    fqcn: "ansible.builtin.debug",
    short: "debug",
    options: &OPTIONS,
    unsupported: &[],
    free_keys: false,
    free_form: None,
    groups: &[],
    result_fields: &[],
};

impl Module for Debug {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn check(&self, args: &IndexMap<String, Arg>) -> Vec<PlaybookError> {
        if args.contains_key("msg") && args.contains_key("var") {
            vec![PlaybookError::new(
                ErrorKind::Schema,
                "options `msg` and `var` of debug are mutually exclusive",
            )]
        } else {
            Vec::new()
        }
    }

    fn run<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<ModuleOutput, ModuleFailure>> {
        Box::pin(std::future::ready(debug(&call)))
    }
}

fn debug(call: &Call<'_>) -> Result<ModuleOutput, ModuleFailure> {
    let args = &call.args;
    let threshold = args.get("verbosity").and_then(|v| match v {
        Json::Number(n) => n.as_u64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    });
    if threshold.is_some_and(|t| t > u64::from(call.verbosity)) {
        return Ok(ModuleOutput::default());
    }
    let mut result = serde_json::Map::new();
    let message = if let Some(var) = args.get("var").and_then(Json::as_str) {
        let expr = format!("{{{{ {var} }}}}");
        let value = call
            .engine
            .render(&Json::String(expr), call.scope)
            .map(censor)
            .map_err(|err| {
                ModuleFailure::new(runbook_module::printable(&format!(
                    "debug var `{var}`: {err}"
                )))
            })?;
        result.insert(var.to_string(), value.clone());
        format!("{}: {}", runbook_module::printable(var), shown(&value))
    } else {
        let msg = censor(
            args.get("msg")
                .cloned()
                .unwrap_or_else(|| Json::String("Hello world!".into())),
        );
        let message = shown(&msg);
        result.insert("msg".into(), msg);
        message
    };
    Ok(ModuleOutput {
        result,
        message: Some(message),
        ..Default::default()
    })
}
