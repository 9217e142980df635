use runbook_playbook::{ErrorKind as ProblemKind, PlaybookError};

/// Why a command did not succeed. The kind is data: the CLI maps it to an
/// exit code in one place, and prints the problems.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A `-e` value that cannot be read.
    #[error("invalid extra vars")]
    ExtraVars(Vec<PlaybookError>),
    /// The playbook file itself cannot be read.
    #[error("the playbook cannot be read")]
    Unreadable(Vec<PlaybookError>),
    /// Problems found before running: syntax, schema, undefined
    /// variables, cycles, templates.
    #[error("the playbook is invalid")]
    Invalid(Vec<PlaybookError>),
    /// Accounts that did not answer in preflight (profile, credentials,
    /// assume-role); nothing was changed.
    #[error("AWS could not be reached")]
    Unreachable(Vec<PlaybookError>),
    /// Imports that no task exports and the account does not export.
    #[error("imports that nothing exports")]
    MissingImports(Vec<PlaybookError>),
    /// `destroy` could not work out what to delete; nothing was deleted.
    #[error("cannot work out what to delete")]
    Teardown(Vec<PlaybookError>),
    /// A saved plan that no longer matches the playbook, its inputs or
    /// its `-e` values; nothing was changed.
    #[error("the saved plan no longer applies")]
    PlanRefused(Vec<PlaybookError>),
    /// `--check --detailed-exitcode` found changes to make.
    #[error("check mode found changes")]
    ChangesPlanned,
    /// One or more tasks failed (reported as they ran).
    #[error("{0} task(s) failed")]
    TasksFailed(usize),
    /// Stopped by a signal (Ctrl-C, SIGTERM). `reported`: the run's own
    /// report (recap, JSON) already says what ran and what did not.
    #[error("interrupted by {by}")]
    Interrupted { by: Signal, reported: bool },
    /// Something else: the async runtime cannot start, a file cannot be
    /// written.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// The problems to print, each with its place.
    pub fn problems(&self) -> &[PlaybookError] {
        match self {
            Error::ExtraVars(problems)
            | Error::Unreadable(problems)
            | Error::Invalid(problems)
            | Error::Unreachable(problems)
            | Error::MissingImports(problems)
            | Error::Teardown(problems)
            | Error::PlanRefused(problems) => problems,
            Error::TasksFailed(_)
            | Error::ChangesPlanned
            | Error::Interrupted { .. }
            | Error::Other(_) => &[],
        }
    }

    /// Loading and analysis problems, sorted into the error they make.
    pub(crate) fn from_problems(problems: Vec<PlaybookError>) -> Self {
        if problems.iter().all(|e| e.kind == ProblemKind::ExtraVars) {
            return Error::ExtraVars(problems);
        }
        if problems
            .iter()
            .all(|e| e.kind == ProblemKind::Io && e.location.is_none())
        {
            return Error::Unreadable(problems);
        }
        Error::Invalid(problems)
    }
}

/// The signal that stopped a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C on a terminal.
    Interrupt,
    /// SIGTERM: what CI runners and process managers send to cancel a job.
    Terminate,
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        })
    }
}
