//! runbook's templates against ansible-core's own results.
//!
//! `ansible_cases.json` holds each case and what ansible-core 2.19 made of
//! it; `ansible_cases.py` beside this file computes it (its docstring says
//! how to run it again after adding a case).

use std::path::Path;

use runbook_template::{Engine, Layer, Scope};
use serde_json::Value as Json;

/// Cases where runbook knowingly differs from ansible, and why.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "?[1] < ['a']",
        "minijinja computes comparisons of literals when it compiles; `validate` reports them",
    ),
    (
        "?(1, 2) < [1, 3]",
        "minijinja computes comparisons of literals when it compiles; `validate` reports them",
    ),
    (
        "{{ [3, 'a'] | sort }}",
        "minijinja's `sort` orders mixed types instead of failing",
    ),
    (
        "{{ [3, 'a'] | max }}",
        "minijinja's `max` orders mixed types instead of failing",
    ),
];

/// Cases whose list ansible builds through a Python set: its order changes
/// from run to run, so only the items are compared.
const UNORDERED: &[&str] = &["{{ ['b', 'a'] | union(['c', 'a']) }}"];

fn same(source: &str, got: &Json, want: &Json) -> bool {
    if !UNORDERED.contains(&source) {
        return got == want;
    }
    let sorted = |v: &Json| {
        let mut items: Vec<String> = v
            .as_array()
            .into_iter()
            .flatten()
            .map(Json::to_string)
            .collect();
        items.sort();
        items
    };
    sorted(got) == sorted(want)
}

#[test]
fn templates_render_as_ansible_renders_them() {
    let data: Json = serde_json::from_str(include_str!("ansible_cases.json")).unwrap();
    let vars = data["vars"].as_object().unwrap();
    let mut scope = Scope::new();
    scope.push_lower(Layer::concrete(
        vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    ));
    let engine = Engine::new(Path::new("."));
    let mut failures = Vec::new();
    for case in data["cases"].as_array().unwrap() {
        let source = case["case"].as_str().unwrap();
        if KNOWN_DIFFERENCES.iter().any(|(c, _)| *c == source) {
            continue;
        }
        let got = match source.strip_prefix('?') {
            Some(condition) => engine
                .eval_condition(&Json::String(condition.into()), &scope)
                .map(Json::Bool),
            None => engine.render(&Json::String(source.into()), &scope),
        };
        match (got, case.get("ok")) {
            (Ok(got), Some(want)) if same(source, &got, want) => {}
            (Ok(got), Some(want)) => {
                failures.push(format!("{source}\n    got  {got}\n    want {want}"))
            }
            (Ok(got), None) => failures.push(format!(
                "{source}\n    got  {got}\n    want an error like: {}",
                case["error"]
            )),
            (Err(err), Some(want)) => {
                failures.push(format!("{source}\n    got  error: {err}\n    want {want}"))
            }
            (Err(err), None) => {
                let text = err.to_string();
                for must in case["error_contains"].as_array().into_iter().flatten() {
                    let must = must.as_str().unwrap();
                    if !text.contains(must) {
                        failures.push(format!(
                            "{source}\n    got  error: {text}\n    want it to say: {must}"
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of the cases differ from ansible:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
