//! The JSON report (`--output json`, `--report FILE`): one document per
//! command, versioned, with secrets hidden. docs/cli.md describes it.

use std::path::Path;

use runbook_engine::{Analysed, Error};
use runbook_executor::{RunSummary, Status};
use runbook_module::NO_LOG_MESSAGE;
use serde_json::{json, Value as Json};

/// The report's schema name and version; bumped on incompatible change.
pub const SCHEMA: &str = "runbook.report/1";

/// The report of `apply` or `destroy`.
pub fn run_report(
    command: &str,
    playbook: &Path,
    analysed: &Analysed,
    check: bool,
    summary: &RunSummary,
) -> Json {
    let tasks: Vec<Json> = analysed
        .playbook
        .tasks
        .iter()
        .map(|task| {
            let record = summary.records.get(task.id).and_then(Option::as_ref);
            let mut entry = json!({
                "id": task.id,
                "name": record.map(|r| r.name.clone()).unwrap_or_else(|| task.display_name()),
                "module": task.module.spec().fqcn,
                "location": task.location.to_string(),
            });
            let Some(record) = record else {
                entry["status"] = json!(if summary.not_needed.get(task.id) == Some(&true) {
                    "not_needed"
                } else {
                    "not_run"
                });
                return entry;
            };
            entry["status"] = json!(record.status.label());
            entry["target"] = json!(record.target);
            entry["duration_s"] = json!((record.finished - record.started).as_secs_f64());
            entry["message"] = json!(record.message);
            entry["changes"] = json!(record.details);
            if !record.items.is_empty() {
                entry["items"] = Json::Array(
                    record
                        .items
                        .iter()
                        .map(|i| json!({"status": i.status.label(), "target": i.target}))
                        .collect(),
                );
            }
            entry["result"] = censored(&record.result);
            if let Some(plan) = &record.plan {
                entry["plan"] = plan.clone();
            }
            entry["warnings"] = json!(record.warnings);
            entry
        })
        .collect();
    let count = |s: Status| {
        summary
            .records
            .iter()
            .flatten()
            .filter(|r| r.status == s)
            .count()
    };
    json!({
        "schema": SCHEMA,
        "command": command,
        "playbook": playbook.display().to_string(),
        "check": check,
        "tasks": tasks,
        "totals": {
            "ok": count(Status::Ok),
            "changed": count(Status::Changed),
            "failed": count(Status::Failed),
            "skipped": count(Status::Skipped),
            "ignored": count(Status::Ignored),
            "rescued": count(Status::Rescued),
            "blocked": count(Status::Blocked),
            "interrupted": count(Status::Interrupted),
            "not_run": summary.not_run(),
        },
        "elapsed_s": summary.elapsed.as_secs_f64(),
        "failed": summary.failed(),
        "interrupted": summary.interrupted,
    })
}

/// A registered result as a report may show it: `no_log` results only say
/// they are hidden, at any depth (a loop's items).
fn censored(value: &Json) -> Json {
    match value {
        Json::Object(map) if map.get("_ansible_no_log") == Some(&Json::Bool(true)) => {
            json!({"censored": NO_LOG_MESSAGE})
        }
        Json::Object(map) => {
            Json::Object(map.iter().map(|(k, v)| (k.clone(), censored(v))).collect())
        }
        Json::Array(items) => Json::Array(items.iter().map(censored).collect()),
        other => other.clone(),
    }
}

/// The report of a command that stopped with an error before running.
pub fn error_report(command: &str, playbook: &Path, err: &Error, code: i32) -> Json {
    let problems: Vec<Json> = err
        .problems()
        .iter()
        .map(|p| {
            json!({
                "kind": format!("{:?}", p.kind).to_lowercase(),
                "message": p.message,
                "location": p.location.as_ref().map(|l| l.to_string()),
                "task": p.task,
                "help": p.help,
            })
        })
        .collect();
    json!({
        "schema": SCHEMA,
        "command": command,
        "playbook": playbook.display().to_string(),
        "error": err.to_string(),
        "problems": problems,
        "exit_code": code,
    })
}

/// Writes a report where the command line asked.
pub fn emit(report: &Json, stdout: bool, file: Option<&Path>) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(report).unwrap_or_default();
    if stdout {
        println!("{text}");
    }
    if let Some(path) = file {
        std::fs::write(path, format!("{text}\n")).map_err(|e| {
            Error::Other(format!(
                "cannot write the report to {}: {e}",
                path.display()
            ))
        })?;
    }
    Ok(())
}
