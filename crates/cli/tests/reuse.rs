//! Differential tests of the reuse features (loops, includes, imports,
//! roles, blocks, tags, play structure): each playbook under tests/reuse/
//! runs under ansible-playbook (its JSON callback) and under runbook
//! (`--output json`); both must run the same tasks in the same order with
//! the same status and the same result values, and agree on the recap.
//!
//! ansible-playbook counts `include_tasks` / `include_role` themselves as
//! tasks; runbook counts only what they include (docs/playbooks.md), so
//! those entries are left out of the comparison.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value as Json;

/// Result keys that say how a task went, compared through its status.
const STATUS_KEYS: &[&str] = &[
    "action",
    "invocation",
    "changed",
    "failed",
    "skipped",
    "skip_reason",
    "false_condition",
    "exception",
    "item",
    "ansible_loop_var",
    "results",
];

#[derive(Debug, PartialEq)]
struct Ran {
    name: String,
    status: String,
    /// The result's values (msg, a debug var, ansible_facts).
    values: Json,
}

#[derive(Debug, PartialEq)]
struct Recap {
    ok: u64,
    changed: u64,
    failures: u64,
    skipped: u64,
    rescued: u64,
    ignored: u64,
}

fn ansible(dir: &Path, args: &[&str]) -> (Vec<Ran>, Recap) {
    let out = Command::new(common::workspace().join(".venv/bin/ansible-playbook"))
        .current_dir(dir)
        .arg("site.yml")
        .args(args)
        .env("ANSIBLE_STDOUT_CALLBACK", "ansible.posix.json")
        .env("ANSIBLE_LOCALHOST_WARNING", "False")
        .env("ANSIBLE_INVENTORY_UNPARSED_WARNING", "False")
        .output()
        .expect("ansible-playbook runs (scripts/venv.sh installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "ansible-playbook's JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut ran = Vec::new();
    let (mut includes_ok, mut includes_skipped) = (0, 0);
    for play in report["plays"].as_array().expect("plays") {
        for task in play["tasks"].as_array().expect("tasks") {
            let result = &task["hosts"]["localhost"];
            let flag = |k: &str| result[k].as_bool().unwrap_or(false);
            if matches!(
                result["action"].as_str(),
                Some("include_tasks" | "include_role")
            ) {
                // A looped include counts once per item.
                match result["results"].as_array() {
                    Some(items) => {
                        for item in items {
                            if item["skipped"].as_bool().unwrap_or(false) {
                                includes_skipped += 1;
                            } else {
                                includes_ok += 1;
                            }
                        }
                    }
                    None if flag("skipped") => includes_skipped += 1,
                    None => includes_ok += 1,
                }
                continue;
            }
            let status = if flag("skipped") {
                "skipped"
            } else if flag("failed") {
                "failed"
            } else if flag("changed") {
                "changed"
            } else {
                "ok"
            };
            let name = task["task"]["name"].as_str().unwrap_or("");
            // Ansible shows a role's task as `role : name`.
            let name = name.split_once(" : ").map_or(name, |(_, n)| n);
            let values: serde_json::Map<String, Json> = result
                .as_object()
                .expect("a result")
                .iter()
                .filter(|(k, _)| !STATUS_KEYS.contains(&k.as_str()) && !k.starts_with("_ansible"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            ran.push(Ran {
                name: name.to_string(),
                status: status.to_string(),
                values: Json::Object(values),
            });
        }
    }
    let stats = &report["stats"]["localhost"];
    let n = |k: &str| stats[k].as_u64().unwrap_or(0);
    let recap = Recap {
        ok: n("ok") - includes_ok,
        changed: n("changed"),
        failures: n("failures"),
        skipped: n("skipped") - includes_skipped,
        rescued: n("rescued"),
        ignored: n("ignored"),
    };
    (ran, recap)
}

fn runbook(dir: &Path, args: &[&str], keys: &[Ran]) -> (Vec<Ran>, Recap, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_runbook"))
        .current_dir(dir)
        .args(["apply", "site.yml", "--output", "json", "--forks", "1"])
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("runbook runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "runbook's JSON report ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(report["schema"], "runbook.report/1");
    let mut ran = Vec::new();
    for task in report["tasks"].as_array().expect("tasks") {
        let status = task["status"].as_str().unwrap_or("");
        let status = match status {
            "not_needed" | "not_run" => continue,
            // ansible-playbook reports these as failed, then goes on.
            "ignored" | "rescued" => "failed",
            other => other,
        };
        // Compare the values Ansible's result has, by key.
        let wanted = keys
            .get(ran.len())
            .and_then(|r| r.values.as_object())
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        let values: serde_json::Map<String, Json> = wanted
            .into_iter()
            .map(|k| {
                let v = task["result"].get(&k).cloned().unwrap_or(Json::Null);
                (k, v)
            })
            .collect();
        ran.push(Ran {
            name: task["name"].as_str().unwrap_or("").to_string(),
            status: status.to_string(),
            values: Json::Object(values),
        });
    }
    let totals = &report["totals"];
    let n = |k: &str| totals[k].as_u64().unwrap_or(0);
    let recap = Recap {
        ok: n("ok") + n("changed") + n("ignored"),
        changed: n("changed"),
        failures: n("failed"),
        skipped: n("skipped"),
        rescued: n("rescued"),
        ignored: n("ignored"),
    };
    (ran, recap, out.status.code().unwrap_or(-1))
}

fn agree(case: &str, args: &[&str]) {
    let dir = common::workspace().join("tests/reuse").join(case);
    let (theirs, their_recap) = ansible(&dir, args);
    let (ours, our_recap, code) = runbook(&dir, args, &theirs);
    assert_eq!(code, 0, "runbook failed on {case} {args:?}");
    for (i, (t, o)) in theirs.iter().zip(&ours).enumerate() {
        assert_eq!(o, t, "{case} {args:?}: task {i} differs");
    }
    assert_eq!(
        ours.len(),
        theirs.len(),
        "{case} {args:?}: runbook ran {ours:#?}\nansible ran {theirs:#?}"
    );
    assert_eq!(our_recap, their_recap, "{case} {args:?}: recap");
}

#[test]
fn loops_register_what_ansible_registers() {
    agree("loops", &[]);
}

#[test]
fn includes_and_imports_run_what_ansible_runs() {
    agree("includes", &[]);
}

#[test]
fn roles_params_precedence_dependencies_and_files() {
    agree("roles", &[]);
}

#[test]
fn blocks_rescue_and_always() {
    agree("blocks", &[]);
}

#[test]
fn play_structure_and_templated_names() {
    agree("plays", &[]);
}

#[test]
fn tag_selection_matches_ansible() {
    for args in [
        &[][..],
        &["--tags", "a"],
        &["--tags", "b,blk"],
        &["--skip-tags", "a"],
        &["--tags", "debug"],
        &["--tags", "inc"],
        &["--tags", "inner"],
        &["--tags", "imp"],
        &["--tags", "never"],
        &["--skip-tags", "always"],
        &["--tags", "tagged"],
        &["--tags", "untagged"],
    ] {
        agree("tags", args);
    }
}

#[test]
fn start_at_task_matches_ansible() {
    agree("tags", &["--start-at-task", "tagged a b"]);
}
