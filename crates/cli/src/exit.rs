//! Exit codes, following ansible-playbook's where the meaning matches, and
//! the one place that decides which error gives which.

use runbook_engine::{Error, Signal};

/// Everything worked.
pub const OK: i32 = 0;
/// An error not covered below (for example a file that cannot be written).
pub const ERROR: i32 = 1;
/// One or more tasks failed (ansible-playbook: a host failed).
pub const TASK_FAILED: i32 = 2;
/// AWS could not be reached with the given profiles: unknown profile,
/// missing credentials, failed assume-role (ansible-playbook: unreachable).
pub const UNREACHABLE: i32 = 3;
/// The playbook is invalid: YAML syntax, unknown module, keyword or option,
/// undefined variable, cycle, missing or broken template (ansible-playbook:
/// parser error).
pub const INVALID_PLAYBOOK: i32 = 4;
/// Bad command line: unknown flag, bad `-e` value (ansible-playbook: bad or
/// incomplete options).
pub const BAD_OPTIONS: i32 = 5;
/// `apply --check --detailed-exitcode`: changes would be made.
pub const CHANGES_PLANNED: i32 = 6;
/// `apply --plan FILE`: the saved plan no longer matches the playbook, an
/// input, the `-e` values; nothing was changed.
pub const PLAN_REFUSED: i32 = 7;
/// Interrupted with Ctrl-C, SIGINT (ansible-playbook: user interrupted).
pub const INTERRUPTED: i32 = 99;
/// Stopped by SIGTERM (what CI runners send to cancel a job): 128 + 15,
/// as shells report a process that SIGTERM ended.
pub const TERMINATED: i32 = 143;

/// The exit code for a command's error.
pub fn code(err: &Error) -> i32 {
    match err {
        Error::ExtraVars(_) => BAD_OPTIONS,
        Error::Unreadable(_) | Error::Other(_) => ERROR,
        Error::Invalid(_) | Error::MissingImports(_) => INVALID_PLAYBOOK,
        Error::Unreachable(_) => UNREACHABLE,
        Error::Teardown(_) | Error::TasksFailed(_) => TASK_FAILED,
        Error::ChangesPlanned => CHANGES_PLANNED,
        Error::PlanRefused(_) => PLAN_REFUSED,
        Error::Interrupted {
            by: Signal::Interrupt,
            ..
        } => INTERRUPTED,
        Error::Interrupted {
            by: Signal::Terminate,
            ..
        } => TERMINATED,
    }
}
