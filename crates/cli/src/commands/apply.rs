//! `runbook apply`: preflight every account, then walk the graph.

use std::sync::Arc;
use std::time::{Duration, Instant};

use runbook_engine::{Analysed, Aws, AwsOptions, Error};
use runbook_executor::{Event, Reporter, RunOptions};

use crate::args::{ApplyArgs, Output};
use crate::diagnostics::Printer;
use crate::report::{recap, LineReporter};

pub fn run(args: &ApplyArgs, printer: &Printer) -> Result<(), Error> {
    let analysed = super::analyse(&args.common, printer)?;
    if super::listed(&args.common, &analysed) {
        return Ok(());
    }
    run_async(
        apply(args, analysed),
        "stack operations already started keep going in AWS; run apply again to reconcile",
    )
}

/// Runs a command's async part on a multi-threaded runtime; Ctrl-C stops
/// it with `interrupted` as the explanation.
pub(super) fn run_async(
    command: impl std::future::Future<Output = Result<(), Error>>,
    interrupted: &str,
) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| Error::Other(format!("cannot start the async runtime: {err}")))?;
    runtime.block_on(async {
        tokio::select! {
            result = command => result,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("\ninterrupted: {interrupted}");
                Err(Error::Interrupted)
            }
        }
    })
}

pub(super) fn aws_for(args: &ApplyArgs) -> Aws {
    Aws::new(&AwsOptions {
        max_attempts: args.max_attempts,
        wait_timeout: Duration::from_secs(args.wait_timeout),
    })
}

/// Every account the playbook names must answer before anything changes;
/// prints the accounts found.
pub(super) async fn preflight(
    aws: &Aws,
    analysed: &Analysed,
    check: bool,
    quiet: bool,
) -> Result<(), Error> {
    let begun = Instant::now();
    let reached = aws.preflight(analysed).await?;
    if quiet {
        return Ok(());
    }
    let accounts: Vec<String> = reached
        .iter()
        .map(|r| {
            format!(
                "{} = {}",
                runbook_module::printable(r.profile.as_deref().unwrap_or("default")),
                runbook_module::printable(&r.account)
            )
        })
        .collect();
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

/// Swallows events: the JSON report says it all at the end.
struct Quiet;

impl Reporter for Quiet {
    fn event(&self, _: Event) {}
}

/// Walks the graph with the command's options, printing as tasks go, then
/// the recap (or the JSON report).
pub(super) async fn run_reported(
    analysed: &Analysed,
    aws: &Aws,
    args: &ApplyArgs,
    command: &str,
) -> Result<(), Error> {
    let json = args.common.output == Output::Json;
    let lines = (!json).then(|| {
        Arc::new(LineReporter::new(
            analysed.playbook.tasks.len(),
            args.common.verbose,
        ))
    });
    let reporter: Arc<dyn Reporter> = match &lines {
        Some(lines) => lines.clone(),
        None => Arc::new(Quiet),
    };
    let options = RunOptions {
        forks: usize::from(args.forks),
        check: args.check,
        keep_going: args.keep_going,
        verbosity: args.common.verbose,
    };
    let summary = runbook_engine::run(analysed, aws.services(), options, reporter).await;
    if let Some(lines) = &lines {
        lines.finish();
        print!("{}", recap(&summary));
    }
    if json || args.common.report.is_some() {
        let report = crate::json::run_report(
            command,
            &args.common.playbook,
            analysed,
            args.check,
            &summary,
        );
        crate::json::emit(&report, json, args.common.report.as_deref())?;
    }
    let failed = summary
        .records
        .iter()
        .flatten()
        .filter(|r| r.status.is_failure())
        .count();
    if failed > 0 {
        Err(Error::TasksFailed(failed))
    } else {
        Ok(())
    }
}

async fn apply(args: &ApplyArgs, analysed: Analysed) -> Result<(), Error> {
    let aws = aws_for(args);
    preflight(
        &aws,
        &analysed,
        args.check,
        args.common.output == Output::Json,
    )
    .await?;
    aws.check_imports(&analysed).await?;
    aws.check_previous_values(&analysed)?;
    run_reported(&analysed, &aws, args, "apply").await
}
