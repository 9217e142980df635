//! `ansible.builtin.include_vars`: variables from a YAML or JSON file.
//!
//! The file is read before running when its name is known then, so that
//! the graph orders the tasks that read its variables after this one.

use std::path::PathBuf;

use indexmap::IndexMap;
use runbook_module::{
    find_file, Analysis, BoxFuture, Call, ErrorKind, Json, Known, Module, ModuleFailure,
    ModuleOutput, ModuleSpec, OptionKind, OptionSpec, PlaybookDir, PlaybookError, StaticFacts,
};

pub struct IncludeVars;

static OPTIONS: [OptionSpec; 2] = [
    OptionSpec::new("file", OptionKind::Str).required(),
    OptionSpec::new("name", OptionKind::Str),
];

static SPEC: ModuleSpec = ModuleSpec {
    fqcn: "ansible.builtin.include_vars",
    short: "include_vars",
    options: &OPTIONS,
    unsupported: &[
        "dir",
        "depth",
        "files_matching",
        "ignore_files",
        "extensions",
        "ignore_unknown_extensions",
        "hash_behaviour",
    ],
    free_keys: false,
    free_form: Some("file"),
    groups: &[],
    result_fields: &["ansible_facts", "ansible_included_var_files"],
};

impl Module for IncludeVars {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn analyse(&self, cx: &mut Analysis<'_>) -> StaticFacts {
        let mut facts = StaticFacts::default();
        if let Known::Now(Some(name)) = cx.text_now("name") {
            facts.sets = vec![name];
            return facts;
        }
        let Known::Now(Some(file)) = cx.text_now("file") else {
            return facts;
        };
        match read(cx.search, &file) {
            Ok((_, vars)) => facts.sets = vars.keys().cloned().collect(),
            Err(message) => {
                let mut err = PlaybookError::new(ErrorKind::Io, message)
                    .help("a relative path is looked for in the role's vars/, then beside the playbook and in its vars/");
                if let Some(arg) = cx.args.get("file") {
                    err = err.at(arg.location.clone());
                }
                cx.error(err);
            }
        }
        facts
    }

    fn run<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<ModuleOutput, ModuleFailure>> {
        let file = call.args.get("file").and_then(Json::as_str).unwrap_or("");
        let result = read(call.search, file).map(|(path, vars)| {
            let facts = match call.args.get("name").and_then(Json::as_str) {
                Some(name) => {
                    let mut named = IndexMap::new();
                    named.insert(name.to_string(), Json::Object(vars.into_iter().collect()));
                    named
                }
                None => vars,
            };
            let mut result = serde_json::Map::new();
            result.insert(
                "ansible_facts".into(),
                Json::Object(facts.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            );
            result.insert(
                "ansible_included_var_files".into(),
                Json::Array(vec![Json::String(path.display().to_string())]),
            );
            ModuleOutput {
                facts,
                result,
                ..Default::default()
            }
        });
        Box::pin(std::future::ready(result.map_err(ModuleFailure::new)))
    }
}

/// Finds and reads a vars file: a mapping.
fn read(search: &[PathBuf], file: &str) -> Result<(PathBuf, IndexMap<String, Json>), String> {
    let path = find_file(search, file, &["vars"], PlaybookDir::WithSubdirs).map_err(|looked| {
        format!(
            "include_vars: no file `{file}` (looked at {})",
            looked
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("include_vars: cannot read {}: {e}", path.display()))?;
    let node = runbook_yaml::parse(&text)
        .map_err(|e| format!("include_vars: {}:{}: {}", path.display(), e.span, e.message))?;
    match node.to_json() {
        Json::Object(map) => Ok((path, map.into_iter().collect())),
        Json::Null => Ok((path, IndexMap::new())),
        other => Err(format!(
            "include_vars: {} must hold a mapping, found {}",
            path.display(),
            runbook_module::schema::json_kind(&other)
        )),
    }
}
