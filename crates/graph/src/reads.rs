//! What each task reads: variable names found in its options, `when`,
//! `changed_when`/`failed_when` and name, with where each was written.

use runbook_playbook::{Json, Location, PlaybookError, Task};
use runbook_template::analysis::{expression_references, references};
use runbook_template::{Engine, References};

/// One variable a task reads.
#[derive(Debug, Clone)]
pub struct Read {
    pub name: String,
    /// Read outside any `default` / `is defined` guard: it must exist.
    pub required: bool,
    pub location: Location,
    /// The dotted paths the same text reads under the name
    /// (`kms.stack_outputs.Arn`), where attributes are constant.
    pub paths: Vec<String>,
}

/// The dotted paths a text reads, by top-level name; empty when they
/// cannot be worked out (the reads themselves report syntax errors).
fn paths_by_name(engine: &Engine, text: &str, bare: bool) -> Vec<String> {
    runbook_template::analysis::variable_paths(engine, text, bare)
        .map(|paths| paths.into_iter().filter(|p| p.contains('.')).collect())
        .unwrap_or_default()
}

/// The paths of `all` under `name`.
fn under(all: &[String], name: &str) -> Vec<String> {
    all.iter()
        .filter(|p| {
            p.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('.'))
        })
        .cloned()
        .collect()
}

/// Collects the reads of a task. Template syntax errors are returned as
/// errors with the location of the value that holds them.
pub fn task_reads(engine: &Engine, task: &Task, errors: &mut Vec<PlaybookError>) -> Vec<Read> {
    let mut reads = Vec::new();
    let label = task.display_name();
    let mut add = |refs: Result<References, runbook_template::TemplateError>,
                   (text, bare): (&str, bool),
                   location: &Location,
                   may_require: bool,
                   skip: Option<&str>,
                   reads: &mut Vec<Read>| match refs {
        Ok(refs) => {
            let paths = if refs.names.is_empty() {
                Vec::new()
            } else {
                paths_by_name(engine, text, bare)
            };
            for name in refs.names {
                if Some(name.as_str()) == skip {
                    continue;
                }
                let required = may_require && refs.required.contains(&name);
                reads.push(Read {
                    paths: under(&paths, &name),
                    name,
                    required,
                    location: location.clone(),
                });
            }
        }
        Err(err) => errors.push(
            PlaybookError::template(&err)
                .at(location.clone())
                .in_task(label.clone()),
        ),
    };
    for (option, arg) in &task.args {
        // `assert: that` and `debug: var` hold bare expressions, not
        // templates.
        let bare = task.module.spec().is_expression(option);
        for text in strings(&arg.value) {
            let refs = if bare {
                expression_references(engine, text)
            } else {
                references(engine, text)
            };
            add(refs, (text, bare), &arg.location, true, None, &mut reads);
        }
    }
    for when in task.include_when.iter().chain(&task.when) {
        for text in condition_strings(&when.value) {
            add(
                expression_references(engine, text),
                (text, true),
                &when.location,
                true,
                None,
                &mut reads,
            );
        }
    }
    if let Some(spec) = &task.loop_ {
        for text in strings(&spec.items.value) {
            add(
                references(engine, text),
                (text, false),
                &spec.items.location,
                true,
                None,
                &mut reads,
            );
        }
        if let Some(label) = &spec.label {
            for text in strings(&label.value) {
                add(
                    references(engine, text),
                    (text, false),
                    &label.location,
                    true,
                    None,
                    &mut reads,
                );
            }
        }
    }
    // A task's own result is what changed_when / failed_when look at.
    let own = task.register.as_deref();
    for condition in [&task.changed_when, &task.failed_when]
        .into_iter()
        .flatten()
    {
        for text in condition_strings(&condition.value) {
            add(
                expression_references(engine, text),
                (text, true),
                &condition.location,
                true,
                own,
                &mut reads,
            );
        }
    }
    for flag in [&task.no_log, &task.ignore_errors].into_iter().flatten() {
        for text in strings(&flag.value) {
            add(
                references(engine, text),
                (text, false),
                &flag.location,
                true,
                None,
                &mut reads,
            );
        }
    }
    // Ansible prints an unrenderable name as written, so a name's variables
    // order the task but need not exist.
    if let Some(name) = &task.name {
        add(
            references(engine, name),
            (name, false),
            &task.location,
            false,
            None,
            &mut reads,
        );
    }
    reads
}

/// The reads of a variable's value (a play or task var), reported at the
/// variable's definition.
pub fn value_reads(
    engine: &Engine,
    value: &Json,
    location: &Location,
    errors: &mut Vec<PlaybookError>,
) -> Vec<Read> {
    let mut reads = Vec::new();
    for text in strings(value) {
        match references(engine, text) {
            Ok(refs) => {
                let paths = if refs.names.is_empty() {
                    Vec::new()
                } else {
                    paths_by_name(engine, text, false)
                };
                reads.extend(refs.names.into_iter().map(|name| Read {
                    required: refs.required.contains(&name),
                    paths: under(&paths, &name),
                    name,
                    location: location.clone(),
                }))
            }
            Err(err) => errors.push(PlaybookError::template(&err).at(location.clone())),
        }
    }
    reads
}

/// Every string inside a value.
pub fn strings(value: &Json) -> Vec<&str> {
    let mut out = Vec::new();
    fn walk<'a>(value: &'a Json, out: &mut Vec<&'a str>) {
        match value {
            Json::String(s) => out.push(s),
            Json::Array(items) => items.iter().for_each(|v| walk(v, out)),
            Json::Object(map) => map.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    walk(value, &mut out);
    out
}

/// A condition is a bare expression, or a list of them.
fn condition_strings(value: &Json) -> Vec<&str> {
    match value {
        Json::String(s) => vec![s.as_str()],
        Json::Array(items) => items.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    }
}
