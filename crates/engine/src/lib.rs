//! One runbook run, from a playbook path to a summary. The stages live in
//! their own crates; this one wires them, with the standard modules and
//! the AWS context, and says what went wrong as one [`Error`] type.
//!
//! - [`analyse`]: `-e` values, the playbook, the task graph (all offline).
//! - [`Aws::preflight`] and [`Aws::check_imports`]: every account answers
//!   and every outside import exists before anything changes.
//! - [`run`]: walks the graph.
//! - [`teardown`]: works out, from a check-mode run, what `destroy`
//!   deletes and in which order.

mod analyse;
mod error;
pub mod saved;
mod teardown;

use std::sync::Arc;
use std::time::Duration;

use runbook_aws::{ClientPool, PoolSettings};
use runbook_executor::{Reporter, RunOptions, RunSummary};
use runbook_module::{ErrorKind, PlaybookError, PlaybookImports, Services};
use runbook_modules::{AwsContext, ImportProblem, Reached, RunnerSettings};

pub use analyse::{analyse, Analysed, Inputs};
pub use error::{Error, Signal};
pub use teardown::{teardown, Teardown};

/// How a run talks to AWS.
#[derive(Debug, Clone)]
pub struct AwsOptions {
    /// Attempts per AWS call (throttling and network errors are retried).
    pub max_attempts: u32,
    /// Bounds every wait for a stack to settle.
    pub wait_timeout: Duration,
    /// Plan and update stacks through change sets (CloudFormation's own
    /// plan).
    pub change_sets: bool,
    /// Keep the change sets a check run makes, for a saved plan.
    pub keep_change_sets: bool,
}

/// The AWS side of a run: one client pool and one context shared by every
/// task, built once.
pub struct Aws {
    context: Arc<AwsContext>,
    services: Arc<Services>,
}

impl Aws {
    pub fn new(options: &AwsOptions) -> Self {
        let pool = ClientPool::new(PoolSettings {
            max_attempts: options.max_attempts,
            ..PoolSettings::default()
        });
        let context = Arc::new(AwsContext::new(
            pool,
            RunnerSettings {
                wait_timeout: options.wait_timeout,
                change_sets: options.change_sets,
                keep_change_sets: options.keep_change_sets,
                ..RunnerSettings::default()
            },
        ));
        let services = Arc::new(Services::new().with(context.clone()));
        Aws { context, services }
    }

    pub fn services(&self) -> Arc<Services> {
        self.services.clone()
    }

    /// Every account the playbook names must answer before anything
    /// changes; each account's stacks are listed on the way.
    pub async fn preflight(&self, analysed: &Analysed) -> Result<Vec<Reached>, Error> {
        self.context
            .preflight(analysed.graph.all_facts())
            .await
            .map_err(|problems| {
                Error::Unreachable(
                    problems
                        .into_iter()
                        .map(|p| {
                            PlaybookError::new(ErrorKind::Io, format!("cannot reach AWS: {}", p.problem))
                                .help("check the profile in your AWS config (aws configure list-profiles), its credentials and role; nothing was changed")
                        })
                        .collect(),
                )
            })
    }

    /// A parameter with `use_previous_value` on a stack that the account
    /// listing shows does not exist (and that no earlier task makes) is
    /// refused before any change.
    pub fn check_previous_values(&self, analysed: &Analysed) -> Result<(), Error> {
        let facts = analysed
            .graph
            .facts
            .iter()
            .enumerate()
            .flat_map(|(task, f)| f.items.iter().map(move |item| (task, item)));
        let mut problems: Vec<PlaybookError> = self
            .context
            .check_previous_values(facts)
            .into_iter()
            .map(|(task, problem)| {
                let task = &analysed.playbook.tasks[task];
                let mut problem = problem.in_task(task.display_name());
                if problem.location.is_none() {
                    problem.location = Some(task.location.clone());
                }
                problem
            })
            .collect();
        problems.dedup();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(problems))
        }
    }

    /// An import that no task exports must already be exported in its
    /// account: checked before any change, so a typo in an export name
    /// does not leave half a deployment behind.
    pub async fn check_imports(&self, analysed: &Analysed) -> Result<(), Error> {
        let imports = &analysed.graph.external_imports;
        let wanted: Vec<_> = imports
            .iter()
            .map(|i| (i.account.clone(), i.name.clone()))
            .collect();
        let problems = self.context.check_imports(&wanted).await;
        if problems.is_empty() {
            return Ok(());
        }
        let mut unreachable = Vec::new();
        let mut missing = Vec::new();
        for problem in problems {
            match problem {
                ImportProblem::Unreachable(message) => {
                    unreachable.push(PlaybookError::new(ErrorKind::Io, message))
                }
                ImportProblem::Missing {
                    index,
                    name,
                    account,
                } => {
                    let task = &analysed.playbook.tasks[imports[index].task];
                    missing.push(
                        PlaybookError::new(
                            ErrorKind::Undefined,
                            format!(
                                "the template imports `{name}`, which no task in this playbook exports and {account} does not export either"
                            ),
                        )
                        .at(task.location.clone())
                        .in_task(task.display_name())
                        .help("fix the export name, or deploy the stack that exports it first; nothing was changed"),
                    );
                }
            }
        }
        if unreachable.is_empty() {
            Err(Error::MissingImports(missing))
        } else {
            Err(Error::Unreachable(unreachable))
        }
    }
}

/// Walks the analysed playbook's graph. Modules also get which tasks
/// import which names ([`PlaybookImports`]).
pub async fn run(
    analysed: &Analysed,
    services: Arc<Services>,
    options: RunOptions,
    reporter: Arc<dyn Reporter>,
) -> RunSummary {
    let mut imports = PlaybookImports::default();
    for (id, facts) in analysed.graph.facts.iter().enumerate() {
        let task = analysed.playbook.tasks[id].display_name();
        for item in &facts.items {
            if let Some(account) = item.placement.account() {
                for import in &item.imports {
                    imports.add(account.clone(), import.name.clone(), task.clone());
                }
            }
        }
    }
    let services = Arc::new((*services).clone().with(Arc::new(imports)));
    runbook_executor::run(
        analysed.playbook.clone(),
        &analysed.graph,
        analysed.extra_vars.clone(),
        services,
        options,
        reporter,
    )
    .await
}
