//! `ansible.builtin.fail`: fails the task with a message.

use runbook_module::{
    BoxFuture, Call, Json, Module, ModuleFailure, ModuleOutput, ModuleSpec, OptionKind, OptionSpec,
};

pub struct Fail;

static OPTIONS: [OptionSpec; 1] = [OptionSpec::new("msg", OptionKind::Any)];

static SPEC: ModuleSpec = ModuleSpec {
    fqcn: "ansible.builtin.fail",
    short: "fail",
    options: &OPTIONS,
    unsupported: &[],
    free_keys: false,
    free_form: None,
    groups: &[],
    result_fields: &[],
};

impl Module for Fail {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn run<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<ModuleOutput, ModuleFailure>> {
        let msg = call
            .args
            .get("msg")
            .cloned()
            .unwrap_or_else(|| Json::String("Failed as requested from task".into()));
        // Registered as given; shown printable.
        let mut failure = ModuleFailure::new(super::shown(&msg));
        failure.result.insert("msg".into(), msg);
        Box::pin(std::future::ready(Err(failure)))
    }
}
