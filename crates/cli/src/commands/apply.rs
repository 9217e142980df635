//! `runbook apply`: preflight every account, then walk the graph.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use runbook_engine::{Analysed, Aws, AwsOptions, Error};
use runbook_executor::{Event, Reporter, RunOptions};

use crate::args::{ApplyArgs, Output};
use crate::diagnostics::Printer;
use crate::report::{recap, LineReporter};
use crate::signals::Interrupt;

pub fn run(args: &ApplyArgs, printer: &Printer) -> Result<(), Error> {
    let analysed = super::analyse(&args.common, printer)?;
    if super::listed(&args.common, &analysed) {
        return Ok(());
    }
    run_async(
        |interrupt| apply(args, analysed, interrupt),
        "stack operations already started keep going in AWS; run apply again to reconcile",
    )
}

/// Runs a command's async part on a multi-threaded runtime, listening for
/// Ctrl-C and SIGTERM meanwhile: the first one stops the command through
/// `Interrupt` (the executor starts nothing more and reports what was in
/// flight), then `interrupted` explains what that means.
pub(super) fn run_async<F, Fut>(command: F, interrupted: &str) -> Result<(), Error>
where
    F: FnOnce(Interrupt) -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| Error::Other(format!("cannot start the async runtime: {err}")))?;
    let interrupt = Interrupt::default();
    let result = runtime.block_on(async {
        let listener = tokio::spawn(interrupt.clone().listen());
        let result = command(interrupt.clone()).await;
        listener.abort();
        result
    });
    if let Err(Error::Interrupted { by, .. }) = &result {
        // After the recap: the live display is gone, so this stays.
        eprintln!("\ninterrupted by {by}: {interrupted}");
    }
    result
}

pub(super) fn aws_for(args: &ApplyArgs) -> Aws {
    Aws::new(&AwsOptions {
        max_attempts: args.max_attempts,
        wait_timeout: Duration::from_secs(args.wait_timeout),
        change_sets: args.change_sets,
        keep_change_sets: args.change_sets && args.save_plan.is_some(),
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
    // On a terminal, something moves while the accounts are reached.
    let spinner = (!quiet && std::io::stdout().is_terminal()).then(|| {
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stdout());
        if let Ok(style) = indicatif::ProgressStyle::with_template("  {spinner} {msg} ({elapsed})")
        {
            bar.set_style(style);
        }
        bar.set_message("preflight: reaching every account and listing its stacks");
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    });
    let reached = aws.preflight(analysed).await;
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    let reached = reached?;
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

    fn wants_progress(&self) -> bool {
        false
    }
}

/// Walks the graph with the command's options, printing as tasks go, then
/// the recap (or the JSON report).
pub(super) async fn run_reported(
    analysed: &Analysed,
    aws: &Aws,
    args: &ApplyArgs,
    command: &str,
    saved: Option<Arc<runbook_executor::SavedRun>>,
    interrupt: &Interrupt,
    begun: Instant,
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
        diff: args.diff,
        keep_going: args.keep_going,
        verbosity: args.common.verbose,
        saved,
        stop: interrupt.stop.clone(),
    };
    let mut summary = runbook_engine::run(analysed, aws.services(), options, reporter).await;
    // The time the command took, preflight included.
    summary.elapsed = begun.elapsed();
    if let Some(lines) = &lines {
        lines.finish();
        print!("{}", crate::report::warnings(&summary));
        print!("{}", recap(&summary));
    }
    let report = crate::json::run_report(
        command,
        &args.common.playbook,
        analysed,
        args.check,
        &summary,
    );
    if json || args.common.report.is_some() {
        crate::json::emit(&report, json, args.common.report.as_deref())?;
    }
    if summary.interrupted {
        return Err(interrupt.error(true));
    }
    if let Some(path) = &args.save_plan {
        if !summary.failed() {
            runbook_engine::saved::save(path, analysed, &summary, &report)?;
            if !json {
                println!(
                    "plan saved to {}; apply it with --plan {}",
                    path.display(),
                    path.display()
                );
            }
        }
    }
    let failed = summary
        .records
        .iter()
        .flatten()
        .filter(|r| r.status.is_failure())
        .count();
    if failed > 0 {
        Err(Error::TasksFailed(failed))
    } else if args.detailed_exitcode
        && summary
            .records
            .iter()
            .flatten()
            .any(|r| r.status == runbook_executor::Status::Changed)
    {
        Err(Error::ChangesPlanned)
    } else {
        Ok(())
    }
}

async fn apply(args: &ApplyArgs, analysed: Analysed, interrupt: Interrupt) -> Result<(), Error> {
    // A saved plan is checked against the inputs before anything else.
    let saved = match &args.plan {
        Some(path) => Some(Arc::new(runbook_engine::saved::load(path, &analysed)?)),
        None => None,
    };
    let begun = Instant::now();
    let aws = aws_for(args);
    // Nothing changes before the walk: a signal there just ends it.
    interrupt
        .unless_stopped(async {
            preflight(
                &aws,
                &analysed,
                args.check,
                args.common.output == Output::Json,
            )
            .await?;
            aws.check_imports(&analysed).await?;
            aws.check_previous_values(&analysed)
        })
        .await?;
    run_reported(&analysed, &aws, args, "apply", saved, &interrupt, begun).await
}
