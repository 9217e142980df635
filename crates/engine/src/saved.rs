//! Saved plans: `apply --check --save-plan FILE` writes what the check
//! planned; `apply --plan FILE` applies exactly that, and refuses when the
//! playbook, an input file, the `-e` values or a live stack moved since.
//!
//! The file holds digests of the inputs and of each task's rendered
//! options, each module's own plan (with the live state it was made
//! from), and the run's report for the reviewer; never a secret value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use runbook_executor::{args_digest, RunSummary, SavedItem, SavedRun, SavedTask};
use runbook_module::{ErrorKind, Json, PlaybookError};
use serde_json::json;
use sha2::Digest as _;

use crate::{Analysed, Error};

/// The saved plan's schema name and version.
pub const SCHEMA: &str = "runbook.plan/1";

fn digest(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every file the run reads before running: the playbook's own files and
/// the files modules read (templates by path).
fn input_files(analysed: &Analysed) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = analysed.playbook.sources.clone();
    for facts in analysed.graph.all_facts() {
        for input in &facts.inputs {
            if !files.contains(input) {
                files.push(input.clone());
            }
        }
    }
    files
}

fn file_digests(analysed: &Analysed) -> BTreeMap<String, String> {
    input_files(analysed)
        .into_iter()
        .map(|path| {
            let text = std::fs::read(&path)
                .map(|b| digest(&b))
                .unwrap_or_else(|e| format!("unreadable: {e}"));
            (path.display().to_string(), text)
        })
        .collect()
}

fn extra_vars_digest(analysed: &Analysed) -> String {
    digest(
        serde_json::to_string(&*analysed.extra_vars)
            .unwrap_or_default()
            .as_bytes(),
    )
}

/// Writes what a check run planned.
pub fn save(
    path: &Path,
    analysed: &Analysed,
    summary: &RunSummary,
    report: &Json,
) -> Result<(), Error> {
    let tasks: Vec<Json> = summary
        .records
        .iter()
        .map(|record| match record {
            None => Json::Null,
            Some(record) => {
                let plans: Vec<Json> = match &record.plan {
                    // A loop's plan is per item.
                    Some(Json::Array(items)) if !record.items.is_empty() => items.clone(),
                    Some(plan) => vec![plan.clone()],
                    None => vec![Json::Null],
                };
                let items: Vec<Json> = record
                    .args
                    .iter()
                    .enumerate()
                    .map(|(i, args)| {
                        json!({
                            "args": args.as_ref().map(args_digest),
                            "plan": plans.get(i).cloned().unwrap_or(Json::Null),
                        })
                    })
                    .collect();
                json!({"status": record.status.label(), "items": items})
            }
        })
        .collect();
    let document = json!({
        "schema": SCHEMA,
        "playbook": analysed.playbook.path.display().to_string(),
        "inputs": file_digests(analysed),
        "extra_vars": extra_vars_digest(analysed),
        "tasks": tasks,
        "report": report,
    });
    let text = serde_json::to_string_pretty(&document).unwrap_or_default();
    std::fs::write(path, format!("{text}\n"))
        .map_err(|e| Error::Other(format!("cannot write the plan to {}: {e}", path.display())))
}

/// Reads a saved plan and checks it was made from these inputs; the
/// run to replay it with.
pub fn load(path: &Path, analysed: &Analysed) -> Result<SavedRun, Error> {
    let refuse = |message: String| {
        Error::PlanRefused(vec![PlaybookError::new(ErrorKind::Io, message).help(
            "make a new plan with `runbook apply --check --save-plan FILE` and review it",
        )])
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Other(format!("cannot read the plan {}: {e}", path.display())))?;
    let document: Json = serde_json::from_str(&text)
        .map_err(|e| refuse(format!("{} is not a saved plan: {e}", path.display())))?;
    if document["schema"] != SCHEMA {
        return Err(refuse(format!(
            "{} is not a saved plan of this runbook (schema {}, expected {SCHEMA})",
            path.display(),
            document["schema"]
        )));
    }
    let mut moved = Vec::new();
    let playbook = analysed.playbook.path.display().to_string();
    if document["playbook"] != playbook.as_str() {
        moved.push(format!(
            "the plan is of playbook {}, not {playbook}",
            document["playbook"]
        ));
    }
    let now = file_digests(analysed);
    let then: BTreeMap<String, String> = document["inputs"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    for (file, digest) in &now {
        match then.get(file) {
            Some(old) if old == digest => {}
            Some(_) => moved.push(format!("{file} changed since the plan was made")),
            None => moved.push(format!(
                "{file} is read now but was not when the plan was made"
            )),
        }
    }
    for file in then.keys().filter(|f| !now.contains_key(*f)) {
        moved.push(format!(
            "{file} was read when the plan was made but is not now"
        ));
    }
    if document["extra_vars"] != extra_vars_digest(analysed).as_str() {
        moved.push("the -e values differ from the plan's".to_string());
    }
    if !moved.is_empty() {
        return Err(Error::PlanRefused(
            moved
                .into_iter()
                .map(|m| {
                    PlaybookError::new(ErrorKind::Io, format!("the saved plan no longer applies: {m}"))
                        .help("make a new plan with `runbook apply --check --save-plan FILE` and review it; nothing was changed")
                })
                .collect(),
        ));
    }
    let tasks = document["tasks"]
        .as_array()
        .ok_or_else(|| refuse(format!("{} has no tasks", path.display())))?
        .iter()
        .map(|task| {
            if task.is_null() {
                return None;
            }
            Some(SavedTask {
                status: task["status"].as_str().unwrap_or("").to_string(),
                items: task["items"]
                    .as_array()
                    .map(|items| {
                        items
                            .iter()
                            .map(|item| SavedItem {
                                args: item["args"].as_str().map(str::to_string),
                                plan: Some(item["plan"].clone()).filter(|p| !p.is_null()),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect();
    Ok(SavedRun { tasks })
}
