//! `runbook destroy`: undo what the playbook made, last made first.

use runbook_engine::Error;

use crate::args::ApplyArgs;
use crate::diagnostics::Printer;

pub fn run(args: &ApplyArgs, printer: &Printer) -> Result<(), Error> {
    let analysed = super::analyse(&args.common, printer)?;
    if super::listed(&args.common, &analysed) {
        return Ok(());
    }
    super::apply::run_async(
        |interrupt| async move {
            let begun = std::time::Instant::now();
            let aws = super::apply::aws_for(args);
            let quiet = args.common.output == crate::args::Output::Json;
            // Preflight and discovery change nothing: a signal ends them.
            let teardown = interrupt
                .unless_stopped(async {
                    super::apply::preflight(&aws, &analysed, args.check, quiet).await?;
                    runbook_engine::teardown(&analysed, aws.services(), usize::from(args.forks))
                        .await
                })
                .await?;
            super::apply::run_reported(
                &teardown.analysed,
                &aws,
                args,
                "destroy",
                None,
                &interrupt,
                begun,
            )
            .await
        },
        "deletions already started keep going in AWS; run destroy again to finish",
    )
}
