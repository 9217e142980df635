//! What each module does, one place per module, and the registry that
//! names them. The AWS modules share an [`AwsContext`] (the client pool and
//! caches) that the run provides through `Services`.

mod aws;
mod builtin;

use runbook_module::Registry;

pub use aws::preflight::{ImportProblem, Reached, Unreachable};
pub use aws::{AwsContext, RunnerSettings};

/// Every module runbook runs. Adding a module is one line here.
pub fn registry() -> Registry {
    Registry::new()
        .register(aws::cloudformation::CloudFormation)
        .register(aws::cloudformation_info::CloudFormationInfo)
        .register(aws::caller_info::CallerInfo)
        .register(aws::stack_set::StackSet)
        .register(aws::stack_set::StackSetInfo)
        .register(builtin::SetFact)
        .register(builtin::Debug)
        .register(builtin::Assert)
        .register(builtin::Fail)
        .register(builtin::IncludeVars)
        .refuse(REFUSED)
}

/// Upstream modules people reach for that runbook does not run: the error
/// says so instead of "unknown module".
const REFUSED: &[&str] = &[
    "command",
    "shell",
    "copy",
    "template",
    "file",
    "pause",
    "uri",
    "s3_bucket",
    "iam_role",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_modules_by_any_name() {
        let registry = registry();
        assert_eq!(
            registry.find("cloudformation").unwrap().spec().fqcn,
            "amazon.aws.cloudformation"
        );
        assert_eq!(
            registry
                .find("amazon.aws.aws_caller_info")
                .unwrap()
                .spec()
                .short,
            "aws_caller_info"
        );
        assert_eq!(
            registry.find("ansible.legacy.debug").unwrap().spec().short,
            "debug"
        );
        assert!(registry.find("cloudformaton").is_none());
        assert_eq!(
            registry
                .find("cloudformation_stack_set")
                .unwrap()
                .spec()
                .fqcn,
            "community.aws.cloudformation_stack_set"
        );
        assert!(!registry.is_refused("community.aws.cloudformation_stack_set"));
        assert!(registry.is_refused("community.aws.iam_role"));
        assert_eq!(registry.group("aws").count(), 5);
    }

    #[test]
    fn cloudformation_options_keep_their_aliases() {
        let registry = registry();
        let cf = registry.find("cloudformation").unwrap().spec();
        assert_eq!(cf.option("aws_profile").unwrap().name, "profile");
    }
}
