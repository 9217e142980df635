//! `runbook apply`: preflight every account, then walk the graph.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use runbook_aws::{ClientPool, PoolSettings, Target};
use runbook_executor::RunOptions;
use runbook_graph::TaskGraph;
use runbook_modules::{AwsRunner, RunnerSettings};
use runbook_playbook::{ErrorKind, PlaybookError};

use crate::args::ApplyArgs;
use crate::diagnostics::{Level, Printer};
use crate::exit;
use crate::report::{recap, LineReporter};

pub fn run(args: &ApplyArgs, printer: &Printer) -> i32 {
    let analysed = match super::analyse(&args.common, printer) {
        Ok(a) => a,
        Err(code) => return code,
    };
    run_async(
        printer,
        apply(args, analysed, printer),
        "stack operations already started keep going in AWS; run apply again to reconcile",
    )
}

/// Runs a command's async part on a multi-threaded runtime; Ctrl-C stops
/// it with exit code 99 and `interrupted` as the explanation.
pub(super) fn run_async(
    printer: &Printer,
    command: impl std::future::Future<Output = i32>,
    interrupted: &str,
) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            printer.message(&format!("cannot start the async runtime: {err}"), None);
            return exit::ERROR;
        }
    };
    runtime.block_on(async {
        tokio::select! {
            code = command => code,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("\ninterrupted: {interrupted}");
                exit::INTERRUPTED
            }
        }
    })
}

/// Walks the graph with the command's options, printing as tasks go, then
/// the recap; returns the exit code.
pub(super) async fn run_reported(
    playbook: Arc<runbook_playbook::Playbook>,
    graph: &TaskGraph,
    extra_vars: Arc<indexmap::IndexMap<String, runbook_playbook::Json>>,
    runner: Arc<AwsRunner>,
    args: &ApplyArgs,
) -> i32 {
    let reporter = Arc::new(LineReporter::new(playbook.tasks.len(), args.common.verbose));
    let options = RunOptions {
        forks: usize::from(args.forks),
        check: args.check,
        keep_going: args.keep_going,
        verbosity: args.common.verbose,
    };
    let summary = runbook_executor::run(
        playbook,
        graph,
        extra_vars,
        runner,
        options,
        reporter.clone(),
    )
    .await;
    reporter.finish();
    print!("{}", recap(&summary));
    if summary.failed() {
        exit::TASK_FAILED
    } else {
        exit::OK
    }
}

fn target_of_key(key: &runbook_graph::AccountKey) -> Target {
    Target {
        profile: key.profile.clone(),
        region: key.region.clone(),
        endpoint_url: key.endpoint_url.clone(),
    }
}

fn targets_of(graph: &TaskGraph) -> Vec<Target> {
    let keys: BTreeSet<_> = graph
        .targets
        .iter()
        .flatten()
        .filter_map(|t| t.account.clone())
        .collect();
    keys.iter().map(target_of_key).collect()
}

/// From this many stacks in one account on, a listing of the account's
/// stacks is paged through in full; below it, an account with more than one
/// page of stacks is not listed (its few stacks are described one by one).
const LIST_STACKS_FROM: usize = 5;

/// The pool and runner for a run, built once and shared by every task.
pub(super) fn runner_for(args: &ApplyArgs) -> (ClientPool, Arc<AwsRunner>) {
    let pool = ClientPool::new(PoolSettings {
        max_attempts: args.max_attempts,
        ..PoolSettings::default()
    });
    let runner = AwsRunner::new(
        pool.clone(),
        RunnerSettings {
            wait_timeout: Duration::from_secs(args.wait_timeout),
            ..RunnerSettings::default()
        },
    );
    (pool, Arc::new(runner))
}

/// Every account the playbook names must answer before anything changes.
/// Prints the accounts found, or the errors (then `Err` holds the code).
pub(super) async fn preflight(
    graph: &TaskGraph,
    pool: &ClientPool,
    runner: &AwsRunner,
    printer: &Printer,
    check: bool,
) -> Result<(), i32> {
    let begun = Instant::now();
    let mut unreachable = 0;
    let mut accounts = Vec::new();
    // Each account's stacks are listed at the same time, so that no task's
    // first look at its stack is a call of its own on the critical path.
    let mut stacks_per_account: HashMap<Target, usize> = HashMap::new();
    for target in graph.targets.iter().flatten() {
        if let (Some(account), Some(_)) = (&target.account, &target.stack_name) {
            *stacks_per_account
                .entry(target_of_key(account))
                .or_default() += 1;
        }
    }
    let accounts_to_list: Vec<(Target, bool)> = stacks_per_account
        .into_iter()
        .map(|(target, n)| (target, n >= LIST_STACKS_FROM))
        .collect();
    let targets = targets_of(graph);
    let (identities, refused) = tokio::join!(
        pool.preflight(&targets),
        runner.prefetch_stacks(&accounts_to_list)
    );
    for (target, result) in identities {
        // Credentials that named their account without a call of their own
        // are proven by the listing: AWS may still refuse them.
        let refusal = refused.iter().find(|(t, _)| *t == target).map(|(_, f)| f);
        let outcome = match (result, refusal) {
            (Err(err), _) => Err(err.to_string()),
            (Ok(_), Some(failure)) => Err(format!(
                "{target}: AWS refused the credentials when listing stacks: {}: {}",
                failure.code.as_deref().unwrap_or("error"),
                failure.message
            )),
            (Ok(account), None) => Ok(account),
        };
        match outcome {
            Ok(account) => {
                accounts.push(format!(
                    "{} = {}",
                    target.profile.as_deref().unwrap_or("default"),
                    account
                ));
                runner.remember(target, account);
            }
            Err(problem) => {
                unreachable += 1;
                printer.print(
                    Level::Error,
                    &PlaybookError::new(ErrorKind::Io, format!("cannot reach AWS: {problem}")).help(
                        "check the profile in your AWS config (aws configure list-profiles), its credentials and role; nothing was changed",
                    ),
                );
            }
        }
    }
    if unreachable > 0 {
        return Err(exit::UNREACHABLE);
    }
    accounts.dedup();
    println!(
        "preflight: {} ({:.2}s){}",
        if accounts.is_empty() {
            "no AWS accounts".to_string()
        } else {
            accounts.join(", ")
        },
        begun.elapsed().as_secs_f64(),
        if check {
            "; check mode: nothing will be changed"
        } else {
            ""
        }
    );
    Ok(())
}

async fn apply(args: &ApplyArgs, analysed: super::Analysed, printer: &Printer) -> i32 {
    let super::Analysed {
        extra_vars,
        playbook,
        graph,
    } = analysed;
    let (pool, runner) = runner_for(args);
    if let Err(code) = preflight(&graph, &pool, &runner, printer, args.check).await {
        return code;
    }
    if let Err(code) = check_external_imports(&graph, &playbook, &pool, printer).await {
        return code;
    }
    run_reported(
        Arc::new(playbook),
        &graph,
        Arc::new(extra_vars),
        runner,
        args,
    )
    .await
}

/// An import that no task exports must already be exported in its account:
/// checked with ListExports before any change, so a typo in an export name
/// does not leave half a deployment behind.
async fn check_external_imports(
    graph: &TaskGraph,
    playbook: &runbook_playbook::Playbook,
    pool: &ClientPool,
    printer: &Printer,
) -> Result<(), i32> {
    let mut exports: HashMap<Target, BTreeSet<String>> = HashMap::new();
    let mut missing = 0;
    for import in &graph.external_imports {
        let target = Target {
            profile: import.account.profile.clone(),
            region: import.account.region.clone(),
            endpoint_url: import.account.endpoint_url.clone(),
        };
        if !exports.contains_key(&target) {
            let names = match list_exports(pool, &target).await {
                Ok(names) => names,
                Err(message) => {
                    printer.print(Level::Error, &PlaybookError::new(ErrorKind::Io, message));
                    return Err(exit::UNREACHABLE);
                }
            };
            exports.insert(target.clone(), names);
        }
        // Names resolved offline stand in for the account id and default
        // region; now both are known.
        let mut name = import.name.clone();
        if let Ok(account) = pool.account(&target).await {
            name = name.replace(
                &runbook_graph::account_placeholder(&import.account),
                &account,
            );
        }
        if let Some(region) = pool
            .config(&target)
            .await
            .ok()
            .and_then(|c| c.region().map(|r| r.to_string()))
        {
            name = name.replace(runbook_graph::REGION_PLACEHOLDER, &region);
        }
        if !exports[&target].contains(&name) {
            missing += 1;
            let task = &playbook.tasks[import.task];
            printer.print(
                Level::Error,
                &PlaybookError::new(
                    ErrorKind::Undefined,
                    format!(
                        "the template imports `{name}`, which no task in this playbook exports and {target} does not export either"
                    ),
                )
                .at(task.location.clone())
                .in_task(task.display_name())
                .help("fix the export name, or deploy the stack that exports it first; nothing was changed"),
            );
        }
    }
    if missing > 0 {
        Err(exit::INVALID_PLAYBOOK)
    } else {
        Ok(())
    }
}

async fn list_exports(pool: &ClientPool, target: &Target) -> Result<BTreeSet<String>, String> {
    let client = pool
        .cloudformation(target)
        .await
        .map_err(|e| e.to_string())?;
    let mut names = BTreeSet::new();
    let mut token = None;
    loop {
        let out = client
            .list_exports()
            .set_next_token(token)
            .send()
            .await
            .map_err(|err| {
                runbook_aws::AwsError::from_sdk(target, "ListExports", &err).to_string()
            })?;
        names.extend(
            out.exports()
                .iter()
                .filter_map(|e| e.name().map(str::to_string)),
        );
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(names);
        }
    }
}
