//! `ansible.builtin.fail`: fails the task with a message.

use runbook_module::{
    BoxFuture, Call, Module, ModuleFailure, ModuleOutput, ModuleSpec, OptionKind, OptionSpec,
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
        let message = call
            .args
            .get("msg")
            .map(super::display)
            .unwrap_or_else(|| "Failed as requested from task".into());
        Box::pin(std::future::ready(Err(ModuleFailure::new(message))))
    }
}
