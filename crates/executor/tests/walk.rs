//! The scheduler with an in-process fake runner (no AWS): ordering,
//! concurrency, failure handling, and Ansible's task keywords.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indexmap::IndexMap;
use runbook_executor::{run, Event, Reporter, RunOptions, RunSummary, Status};
use runbook_module::{
    BoxFuture, Call, Json, Module, ModuleFailure, ModuleOutput, ModuleSpec, OptionKind, OptionSpec,
    Registry, Services,
};
use serde_json::json;

/// A module that only exists here: it sleeps `outputs.Sleep` ms, reports
/// progress, and registers its `outputs`; `id: panic` makes it panic.
/// Builtins (set_fact, debug, fail, assert) come from the real registry.
struct Work;

static WORK_OPTIONS: [OptionSpec; 3] = [
    OptionSpec::new("id", OptionKind::Str).required(),
    OptionSpec::new("outputs", OptionKind::Dict),
    OptionSpec::new("flag", OptionKind::Bool),
];

static WORK: ModuleSpec = ModuleSpec {
    fqcn: "example.fake.work",
    short: "work",
    options: &WORK_OPTIONS,
    unsupported: &[],
    free_keys: false,
    free_form: None,
    groups: &[],
    result_fields: &["outputs"],
};

impl Module for Work {
    fn spec(&self) -> &'static ModuleSpec {
        &WORK
    }

    fn run<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<ModuleOutput, ModuleFailure>> {
        Box::pin(async move {
            let outputs = call.args.get("outputs").cloned().unwrap_or(json!({}));
            let sleep = outputs.get("Sleep").and_then(Json::as_u64).unwrap_or(0);
            if call.args.get("id") == Some(&json!("panic")) {
                panic!("the fake module broke");
            }
            call.progress.progress("working".into());
            tokio::time::sleep(Duration::from_millis(sleep)).await;
            let mut result = serde_json::Map::new();
            result.insert("outputs".into(), outputs);
            Ok(ModuleOutput {
                changed: true,
                result,
                ..Default::default()
            })
        })
    }
}

fn registry() -> Registry {
    runbook_modules::registry().register(Work)
}

#[derive(Default)]
struct Collect(Mutex<Vec<Event>>);

impl Reporter for Collect {
    fn event(&self, event: Event) {
        self.0.lock().unwrap().push(event);
    }
}

async fn run_playbook(text: &str, options: RunOptions) -> (RunSummary, Vec<Event>) {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("p.yml");
    std::fs::write(&path, text).unwrap();
    let vars = IndexMap::new();
    let playbook = Arc::new(runbook_playbook::load(&path, &vars, &registry()).unwrap());
    let graph = runbook_graph::build(&playbook, &vars).unwrap();
    let reporter = Arc::new(Collect::default());
    let summary = run(
        playbook,
        &graph,
        Arc::new(vars),
        Arc::new(Services::new()),
        options,
        reporter.clone(),
    )
    .await;
    let events = reporter.0.lock().unwrap().clone();
    (summary, events)
}

fn statuses(summary: &RunSummary) -> Vec<Option<Status>> {
    summary
        .records
        .iter()
        .map(|r| r.as_ref().map(|r| r.status))
        .collect()
}

fn stack(name: &str, sleep: u64, extra: &str) -> String {
    format!(
        "    - name: {name}\n      work:\n        id: {name}\n        outputs:\n          Sleep: {sleep}\n{extra}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn independent_tasks_overlap_and_dependents_wait() {
    let text = format!(
        "- hosts: localhost\n  tasks:\n{}{}{}",
        stack("a", 200, "      register: a\n"),
        stack("b", 200, "      register: b\n"),
        stack(
            "c",
            0,
            "          From: \"{{ a.outputs.Sleep }}-{{ b.outputs.Sleep }}\"\n      register: c\n"
        ),
    );
    let (summary, _) = run_playbook(&text, RunOptions::default()).await;
    let r: Vec<_> = summary.records.iter().map(|r| r.clone().unwrap()).collect();
    // a and b ran at the same time: each started before the other finished.
    assert!(r[0].started < r[1].finished && r[1].started < r[0].finished);
    // c started only after both finished, and saw their outputs.
    assert!(r[2].started >= r[0].finished && r[2].started >= r[1].finished);
    assert_eq!(summary.facts["c"]["outputs"]["From"], json!("200-200"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forks_bounds_concurrency() {
    let text = format!(
        "- hosts: localhost\n  tasks:\n{}{}",
        stack("a", 100, ""),
        stack("b", 100, "")
    );
    let (summary, _) = run_playbook(
        &text,
        RunOptions {
            forks: 1,
            ..Default::default()
        },
    )
    .await;
    let r: Vec<_> = summary.records.iter().map(|r| r.clone().unwrap()).collect();
    assert!(r[1].started >= r[0].finished || r[0].started >= r[1].finished);
}

const FAILING: &str = "- hosts: localhost\n  tasks:\n    - name: boom\n      fail: {msg: broken}\n      register: boom\n    - name: after boom\n      debug: {msg: \"{{ boom }}\"}\n    - name: independent\n      debug: {msg: fine}\n";

#[tokio::test]
async fn a_failure_stops_the_run() {
    let (summary, events) = run_playbook(
        FAILING,
        RunOptions {
            forks: 1,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(statuses(&summary), [Some(Status::Failed), None, None]);
    assert!(summary.failed());
    let failed_message = events.iter().find_map(|e| match e {
        Event::Finished {
            status: Status::Failed,
            message,
            ..
        } => message.clone(),
        _ => None,
    });
    assert_eq!(failed_message.as_deref(), Some("broken"));
}

#[tokio::test]
async fn keep_going_runs_what_does_not_depend_on_the_failure() {
    let (summary, _) = run_playbook(
        FAILING,
        RunOptions {
            forks: 1,
            keep_going: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        statuses(&summary),
        [
            Some(Status::Failed),
            Some(Status::Blocked),
            Some(Status::Ok)
        ]
    );
}

#[tokio::test]
async fn ignore_errors_lets_the_playbook_go_on() {
    let text = FAILING.replace(
        "      register: boom\n",
        "      register: boom\n      ignore_errors: true\n",
    );
    let (summary, _) = run_playbook(&text, RunOptions::default()).await;
    assert_eq!(
        statuses(&summary),
        [Some(Status::Ignored), Some(Status::Ok), Some(Status::Ok)]
    );
    assert_eq!(summary.facts["boom"]["failed"], json!(true));
    assert!(!summary.failed());
}

#[tokio::test]
async fn when_skips_and_registers_skipped() {
    let text = "- hosts: localhost\n  vars:\n    enabled: false\n  tasks:\n    - name: maybe\n      debug: {msg: hi}\n      when: enabled | bool\n      register: maybe\n    - name: check\n      debug: {msg: \"{{ maybe is skipped }}\"}\n      register: check\n";
    let (summary, _) = run_playbook(text, RunOptions::default()).await;
    assert_eq!(
        statuses(&summary),
        [Some(Status::Skipped), Some(Status::Ok)]
    );
    assert_eq!(summary.facts["maybe"]["skipped"], json!(true));
    assert_eq!(summary.facts["check"]["msg"], json!(true));
}

#[tokio::test]
async fn changed_when_and_failed_when_see_the_result() {
    let text = format!(
        "- hosts: localhost\n  tasks:\n{}{}",
        stack(
            "quiet",
            0,
            "      register: quiet\n      changed_when: false\n"
        ),
        stack(
            "strict",
            0,
            "      register: strict\n      failed_when: strict.outputs.Sleep == 0\n"
        ),
    );
    let (summary, _) = run_playbook(
        &text,
        RunOptions {
            keep_going: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(statuses(&summary), [Some(Status::Ok), Some(Status::Failed)]);
}

#[tokio::test]
async fn no_log_hides_messages_and_progress() {
    let text = format!(
        "- hosts: localhost\n  tasks:\n    - name: secret\n      debug: {{msg: hunter2}}\n      no_log: true\n{}      no_log: true\n",
        stack("s", 0, "")
    );
    let (_, events) = run_playbook(&text, RunOptions::default()).await;
    let shown = format!("{events:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!shown.contains("working"), "{shown}");
    assert!(shown.contains("no_log: true"), "{shown}");
}

#[tokio::test]
async fn bad_rendered_option_types_fail_the_task() {
    let text = "- hosts: localhost\n  vars:\n    tp: [1]\n  tasks:\n    - name: t\n      work:\n        id: s\n        flag: \"{{ tp }}\"\n";
    let (summary, events) = run_playbook(text, RunOptions::default()).await;
    assert_eq!(statuses(&summary), [Some(Status::Failed)]);
    let message = events.iter().find_map(|e| match e {
        Event::Finished { message, .. } => message.clone(),
        _ => None,
    });
    assert!(message
        .unwrap()
        .starts_with("option `flag` must be a boolean, found a list"),);
}

#[tokio::test]
async fn assert_and_debug_var() {
    let text = "- hosts: localhost\n  vars:\n    n: 3\n  tasks:\n    - name: shown\n      debug: {var: n}\n      register: shown\n    - name: holds\n      assert: {that: [\"n > 2\", \"n is defined\"], success_msg: fine}\n    - name: breaks\n      assert: {that: \"n > 5\", fail_msg: \"n too small\"}\n";
    let (summary, events) = run_playbook(text, RunOptions::default()).await;
    assert_eq!(
        statuses(&summary),
        [Some(Status::Ok), Some(Status::Ok), Some(Status::Failed)]
    );
    assert_eq!(summary.facts["shown"]["n"], json!(3));
    let messages: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Finished { message, .. } => message.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(messages, ["n: 3", "fine", "n too small"]);
}

#[tokio::test]
async fn assert_waits_for_the_fact_it_checks() {
    let text = "- hosts: localhost\n  tasks:\n    - name: set\n      set_fact: {x: 1}\n    - name: check\n      assert: {that: \"x == 1\"}\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.yml");
    std::fs::write(&path, text).unwrap();
    let vars = IndexMap::new();
    let playbook = runbook_playbook::load(&path, &vars, &registry()).unwrap();
    let graph = runbook_graph::build(&playbook, &vars).unwrap();
    assert_eq!(graph.dependencies(1), vec![0]);
}

#[tokio::test]
async fn debug_of_a_no_log_result_is_censored() {
    let text = "- hosts: localhost\n  tasks:\n    - name: secret\n      debug: {msg: hunter2}\n      no_log: true\n      register: secret\n    - name: show\n      debug: {var: secret}\n";
    let (_, events) = run_playbook(text, RunOptions::default()).await;
    let shown = format!("{events:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("censored"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_module_fails_its_task_and_stops_the_run() {
    let text = format!(
        "- hosts: localhost\n  tasks:\n{}{}",
        stack("panic", 0, ""),
        stack("later", 0, "      depends_on: panic\n")
    );
    let (summary, events) = run_playbook(&text, RunOptions::default()).await;
    assert_eq!(statuses(&summary), [Some(Status::Failed), None]);
    let message = events.iter().find_map(|e| match e {
        Event::Finished { message, .. } => message.clone(),
        _ => None,
    });
    assert!(message.unwrap().starts_with("internal error in runbook"));
}

#[tokio::test]
async fn condition_errors_of_no_log_tasks_show_only_where() {
    let play = |no_log: &str| {
        format!(
            "- hosts: localhost\n  vars:\n    secret: hunter2\n  tasks:\n    - name: guarded\n      debug: {{msg: hi}}\n      when: secret.a.b\n{no_log}    - name: judged\n      debug: {{msg: hi}}\n      failed_when: secret.a.b\n      ignore_errors: true\n{no_log}"
        )
    };
    let messages = |events: &[Event]| -> Vec<String> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Finished { message, .. } => message.clone(),
                _ => None,
            })
            .collect()
    };
    let options = || RunOptions {
        keep_going: true,
        ..RunOptions::default()
    };

    let (_, events) = run_playbook(&play(""), options()).await;
    let shown = messages(&events);
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(shown[0].starts_with("`when` at "), "{shown:?}");
    assert!(shown[0].contains("undefined"), "{shown:?}");

    let (_, events) = run_playbook(&play("      no_log: true\n"), options()).await;
    let shown = messages(&events);
    assert_eq!(shown.len(), 2, "{shown:?}");
    for (message, keyword) in shown.iter().zip(["when", "failed_when"]) {
        assert!(
            message.starts_with(&format!("`{keyword}` at ")),
            "{shown:?}"
        );
        assert!(
            message.ends_with("failed; the error is hidden because the task has no_log"),
            "{shown:?}"
        );
        assert!(!message.contains("undefined"), "{shown:?}");
    }
}

#[tokio::test]
async fn ignore_errors_covers_templating_and_condition_errors() {
    // As in Ansible 2.19: a task whose options or `when` fail to render is
    // a failed task, and `ignore_errors` lets the run go on past it.
    let text = "- hosts: localhost\n  vars:\n    n: 1\n  tasks:\n    - name: bad option\n      debug:\n        msg: \"{{ n.a.b }}\"\n      ignore_errors: true\n    - name: bad condition\n      debug: {msg: hi}\n      when: n.a.b\n      ignore_errors: \"{{ n == 1 }}\"\n    - name: after\n      debug: {msg: after}\n      depends_on: [bad option, bad condition]\n";
    let (summary, _) = run_playbook(text, RunOptions::default()).await;
    assert_eq!(
        statuses(&summary),
        [
            Some(Status::Ignored),
            Some(Status::Ignored),
            Some(Status::Ok)
        ]
    );
    // Without it the first failure stops the run.
    let text = text.replace("      ignore_errors: true\n", "");
    let (summary, _) = run_playbook(&text, RunOptions::default()).await;
    assert_eq!(statuses(&summary)[0], Some(Status::Failed));
    assert_eq!(statuses(&summary)[2], None);
}

/// Each task sees the values file order implies, whatever finished first:
/// `second` sets `v` before `first` does, yet `read1` (after `first` in the
/// file) sees `first`'s value and `read2` sees `second`'s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_follow_file_order_not_completion_order() {
    let text = format!(
        "- hosts: localhost\n  tasks:\n{}    - name: first\n      set_fact: {{v: \"first-{{{{ slow.outputs.Sleep }}}}\"}}\n    - name: read1\n      debug: {{msg: \"{{{{ v }}}}\"}}\n      register: r1\n    - name: second\n      set_fact: {{v: second}}\n    - name: read2\n      debug: {{msg: \"{{{{ v }}}}\"}}\n      register: r2\n",
        stack("slow", 150, "      register: slow\n")
    );
    let (summary, _) = run_playbook(&text, RunOptions::default()).await;
    assert_eq!(summary.facts["r1"]["msg"], json!("first-150"));
    assert_eq!(summary.facts["r2"]["msg"], json!("second"));
    assert_eq!(summary.facts["v"], json!("second"));
    let r: Vec<_> = summary.records.iter().map(|r| r.clone().unwrap()).collect();
    // `second` did not wait for `read1`.
    assert!(r[3].finished <= r[1].started);
}

/// A stop asked while a task runs: nothing more starts (not even an
/// `always`), the task in flight is abandoned and recorded as
/// interrupted, and the run returns at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_abandons_the_tasks_in_flight_and_starts_nothing() {
    let text = format!(
        "- hosts: localhost\n  tasks:\n{}{}    - block:\n{}      always:\n{}",
        stack("quick", 0, ""),
        stack("slow", 60_000, "      register: slow\n"),
        stack(
            "inner",
            0,
            "          After: \"{{ slow.outputs.Sleep }}\"\n"
        )
        .replace("\n    ", "\n        ")
        .replacen("    - name", "        - name", 1),
        stack("cleanup", 0, "")
            .replace("\n    ", "\n        ")
            .replacen("    - name", "        - name", 1),
    );
    let options = RunOptions::default();
    let stop = options.stop.clone();
    let begun = std::time::Instant::now();
    let asked = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.request();
    });
    let (summary, events) = run_playbook(&text, options).await;
    asked.await.unwrap();
    assert!(
        begun.elapsed() < Duration::from_secs(10),
        "{:?}",
        begun.elapsed()
    );
    assert!(summary.interrupted);
    assert_eq!(
        statuses(&summary),
        [Some(Status::Changed), Some(Status::Interrupted), None, None]
    );
    assert_eq!(summary.not_run(), 2);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Finished { name, status: Status::Interrupted, .. } if name == "slow"
    )));
}
