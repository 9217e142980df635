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
        async {
            let aws = super::apply::aws_for(args);
            let quiet = args.common.output == crate::args::Output::Json;
            super::apply::preflight(&aws, &analysed, args.check, quiet).await?;
            let teardown =
                runbook_engine::teardown(&analysed, aws.services(), usize::from(args.forks))
                    .await?;
            super::apply::run_reported(&teardown.analysed, &aws, args, "destroy", None).await
        },
        "deletions already started keep going in AWS; run destroy again to finish",
    )
}
