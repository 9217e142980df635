//! Plans a reviewer can trust: what an update of a stack would do, worked
//! out from the deployed and the desired template without calling AWS.

pub mod create_only;
pub mod params;

/// A parameter value as a task gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamInput {
    Known(String),
    /// Known only after earlier tasks are applied (e.g. another stack's
    /// output in check mode).
    Unknown,
    /// `use_previous_value: true`: the value the stack has now.
    UsePrevious,
}

pub use params::{check_parameters, ParamProblem, ParamProblemKind, ParamReport};
pub mod eval;
pub mod textdiff;

pub use textdiff::{template_diff, TextDiffOptions};
