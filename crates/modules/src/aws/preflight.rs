//! Before anything changes: every account the playbook names must answer,
//! each account's stacks are listed, and exports imported from outside
//! the playbook must exist.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use runbook_aws::Target;
use runbook_module::{AccountKey, ErrorKind, PlaybookError, StaticFacts, REGION_PLACEHOLDER};

use super::cloudformation::StackFacts;
use super::{target_of_key, AwsContext};

/// From this many stacks in one account on, a listing of the account's
/// stacks is paged through in full; below it, an account with more than one
/// page of stacks is not listed (its few stacks are described one by one).
const LIST_STACKS_FROM: usize = 5;

/// An account that answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reached {
    /// The profile, `None` for default credentials.
    pub profile: Option<String>,
    pub account: String,
}

/// An account that did not answer, and why (the profile is named).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreachable {
    pub problem: String,
}

/// An import that no task exports and the account does not export either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportProblem {
    /// The `index`-th import: its name (account and region filled in) is
    /// not exported in `account`.
    Missing {
        index: usize,
        name: String,
        account: String,
    },
    /// The exports of an account could not be listed.
    Unreachable(String),
}

impl AwsContext {
    /// Resolves the credentials of every account the tasks name and lists
    /// each account's stacks, concurrently; then remembers each account.
    pub async fn preflight<'a>(
        &self,
        facts: impl Iterator<Item = &'a StaticFacts>,
    ) -> Result<Vec<Reached>, Vec<Unreachable>> {
        let mut accounts: BTreeMap<AccountKey, usize> = BTreeMap::new();
        for fact in facts {
            if let Some(account) = fact.placement.account() {
                let stacks = fact.owns.iter().filter(|o| o.kind == "stack").count();
                *accounts.entry(account.clone()).or_default() += stacks;
            }
        }
        let targets: Vec<Target> = accounts.keys().map(target_of_key).collect();
        // Each account's stacks are listed at the same time, so that no
        // task's first look at its stack is a call of its own on the
        // critical path.
        let to_list: Vec<(Target, bool)> = accounts
            .iter()
            .filter(|(_, stacks)| **stacks > 0)
            .map(|(key, stacks)| (target_of_key(key), *stacks >= LIST_STACKS_FROM))
            .collect();
        let (identities, refused) = tokio::join!(
            self.pool.preflight(&targets),
            self.prefetch_stacks(&to_list)
        );
        let mut reached = Vec::new();
        let mut problems = Vec::new();
        for (target, result) in identities {
            // Credentials that named their account without a call of their
            // own are proven by the listing: AWS may still refuse them.
            let refusal = refused.iter().find(|(t, _)| *t == target).map(|(_, f)| f);
            match (result, refusal) {
                (Err(err), _) => problems.push(Unreachable {
                    problem: err.to_string(),
                }),
                (Ok(_), Some(failure)) => problems.push(Unreachable {
                    problem: format!(
                        "{target}: AWS refused the credentials when listing stacks: {}: {}",
                        failure.code.as_deref().unwrap_or("error"),
                        failure.message
                    ),
                }),
                (Ok(account), None) => {
                    reached.push(Reached {
                        profile: target.profile.clone(),
                        account: account.clone(),
                    });
                    self.remember(target, account);
                }
            }
        }
        if problems.is_empty() {
            reached.dedup();
            Ok(reached)
        } else {
            Err(problems)
        }
    }

    /// Stacks that the account listing shows do not exist, whose first
    /// task in the playbook gives a parameter `use_previous_value`: there
    /// is no previous value, and CloudFormation would refuse the create
    /// after other tasks had made their changes. `facts` are each task's
    /// (per item), in file order, with the task's index; returns the
    /// index of each task in the wrong, with the problem (placed at its
    /// `template_parameters`). Accounts that were not listed are not
    /// checked: the task itself refuses before any call.
    pub fn check_previous_values<'a>(
        &self,
        facts: impl Iterator<Item = (usize, &'a StaticFacts)>,
    ) -> Vec<(usize, PlaybookError)> {
        let mut managed: BTreeSet<(AccountKey, String)> = BTreeSet::new();
        let mut problems = Vec::new();
        for (task, fact) in facts {
            let Some(account) = fact.placement.account() else {
                continue;
            };
            let Some(stack) = fact
                .detail
                .as_ref()
                .and_then(|d| d.clone().downcast::<StackFacts>().ok())
            else {
                continue;
            };
            let Some(name) = stack.stack_name.clone() else {
                continue;
            };
            // A task after the first that manages the stack may find it made.
            if !managed.insert((account.clone(), name.clone())) || stack.state_absent {
                continue;
            }
            if stack.previous_values.is_empty() {
                continue;
            }
            let target = target_of_key(account);
            if self.directory.listed(&target, &name) != Some(false) {
                continue;
            }
            let keys: Vec<String> = stack
                .previous_values
                .iter()
                .map(|k| format!("`{k}`"))
                .collect();
            let mut problem = PlaybookError::new(
                ErrorKind::Undefined,
                format!(
                    "stack {name} does not exist in {target}, so parameter{} {} cannot use `use_previous_value`: there is no previous value",
                    if keys.len() == 1 { "" } else { "s" },
                    keys.join(", ")
                ),
            )
            .help("give the parameter a value for the first deploy; nothing was changed");
            problem.location = stack.parameters_at.clone();
            problems.push((task, problem));
        }
        problems
    }

    /// Checks with ListExports that each `(account, name)` is exported.
    /// Names resolved offline stand in for the account id and default
    /// region; both are known now.
    pub async fn check_imports(&self, imports: &[(AccountKey, String)]) -> Vec<ImportProblem> {
        let mut exports: HashMap<Target, BTreeSet<String>> = HashMap::new();
        let mut problems = Vec::new();
        for (index, (key, name)) in imports.iter().enumerate() {
            let target = target_of_key(key);
            if !exports.contains_key(&target) {
                match self.list_exports(&target).await {
                    Ok(names) => {
                        exports.insert(target.clone(), names);
                    }
                    Err(message) => {
                        problems.push(ImportProblem::Unreachable(message));
                        return problems;
                    }
                }
            }
            let mut name = name.clone();
            if let Ok(account) = self.pool.account(&target).await {
                name = name.replace(&key.account_placeholder(), &account);
            }
            if let Some(region) = self
                .pool
                .config(&target)
                .await
                .ok()
                .and_then(|c| c.region().map(|r| r.to_string()))
            {
                name = name.replace(REGION_PLACEHOLDER, &region);
            }
            if !exports[&target].contains(&name) {
                problems.push(ImportProblem::Missing {
                    index,
                    name,
                    account: target.to_string(),
                });
            }
        }
        problems
    }

    async fn list_exports(&self, target: &Target) -> Result<BTreeSet<String>, String> {
        let client = self
            .pool
            .cloudformation(target)
            .await
            .map_err(|e| e.to_string())?;
        let mut names = BTreeSet::new();
        let mut token = None;
        loop {
            let page = runbook_aws::retry::with_retries(
                "ListExports",
                || client.list_exports().set_next_token(token.clone()).send(),
                |_| {},
            )
            .await
            .map_err(|err| {
                runbook_aws::AwsError::from_sdk(target, "ListExports", &err).to_string()
            })?;
            names.extend(
                page.exports()
                    .iter()
                    .filter_map(|e| e.name().map(str::to_string)),
            );
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(names);
            }
        }
    }
}
