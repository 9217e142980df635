//! Under `--check`, what a stack set task would leave behind, so that a
//! later `cloudformation_stack_set_info` task of the same run can plan with
//! it: the instances that would be created, and the outputs of their
//! stacks as `(known after apply)`, as `cloudformation` does for a stack
//! it would create. Kept per run (per AWS context), for this run only.

use std::sync::{Arc, Mutex, Weak};

use runbook_aws::Target;

use super::super::AwsContext;

/// What a check-mode run of a stack set task planned.
#[derive(Debug, Clone, Default)]
pub struct Planned {
    /// The template the instances would run (the task's, else the
    /// deployed one).
    pub template_body: Option<String>,
    /// (account, region) of the instances that would be created.
    pub new_instances: Vec<(String, String)>,
    /// The stack set would be created by this run.
    pub new_stack_set: bool,
}

type Entry = (Weak<AwsContext>, Target, String, Planned);

static PLANNED: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

pub fn record(aws: &Arc<AwsContext>, target: &Target, name: &str, planned: Planned) {
    let Ok(mut all) = PLANNED.lock() else {
        return;
    };
    all.retain(|(run, t, n, _)| {
        run.strong_count() > 0
            && !(Weak::ptr_eq(run, &Arc::downgrade(aws)) && t == target && n == name)
    });
    all.push((
        Arc::downgrade(aws),
        target.clone(),
        name.to_string(),
        planned,
    ));
}

pub fn lookup(aws: &Arc<AwsContext>, target: &Target, name: &str) -> Option<Planned> {
    let all = PLANNED.lock().ok()?;
    all.iter()
        .find(|(run, t, n, _)| Weak::ptr_eq(run, &Arc::downgrade(aws)) && t == target && n == name)
        .map(|(_, _, _, planned)| planned.clone())
}
