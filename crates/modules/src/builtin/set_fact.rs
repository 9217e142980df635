//! `ansible.builtin.set_fact`: sets variables for the tasks after it.

use indexmap::IndexMap;
use runbook_module::{
    Arg, BoxFuture, Call, Json, Module, ModuleFailure, ModuleOutput, ModuleSpec, OptionKind,
    OptionSpec,
};

pub struct SetFact;

static OPTIONS: [OptionSpec; 1] = [OptionSpec::new("cacheable", OptionKind::Bool)];

static SPEC: ModuleSpec = ModuleSpec {
    fqcn: "ansible.builtin.set_fact",
    short: "set_fact",
    options: &OPTIONS,
    unsupported: &[],
    free_keys: true,
    free_form: None,
    groups: &[],
    result_fields: &["ansible_facts"],
};

impl Module for SetFact {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn sets_vars(&self, args: &IndexMap<String, Arg>) -> Vec<String> {
        args.keys().filter(|k| *k != "cacheable").cloned().collect()
    }

    fn run<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<ModuleOutput, ModuleFailure>> {
        let facts: IndexMap<String, Json> = call
            .args
            .into_iter()
            .filter(|(k, _)| k != "cacheable")
            .collect();
        let mut result = serde_json::Map::new();
        result.insert(
            "ansible_facts".into(),
            Json::Object(facts.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        );
        Box::pin(std::future::ready(Ok(ModuleOutput {
            facts,
            result,
            ..Default::default()
        })))
    }
}
