//! What the AWS modules share during a run: one client pool, the stack
//! listing, parsed templates and the accounts learnt in preflight.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use runbook_aws::{ClientPool, Target};

use super::cloudformation::{StackDirectory, Watches};

#[derive(Debug, Clone)]
pub struct RunnerSettings {
    /// Bounds every wait for a stack to settle.
    pub wait_timeout: Duration,
    /// The first pause between polls of a stack in progress; pauses then
    /// grow to `max_poll`.
    pub first_poll: Duration,
    pub max_poll: Duration,
    /// Plan and update through change sets (`--change-sets`): the plan is
    /// CloudFormation's own.
    pub change_sets: bool,
    /// Keep the change sets a check run creates, for a saved plan to
    /// execute.
    pub keep_change_sets: bool,
}

impl Default for RunnerSettings {
    fn default() -> Self {
        RunnerSettings {
            wait_timeout: Duration::from_secs(3600),
            first_poll: Duration::from_millis(500),
            max_poll: Duration::from_secs(5),
            change_sets: false,
            keep_change_sets: false,
        }
    }
}

/// The AWS side of a run, given to modules through `Services`.
pub struct AwsContext {
    pub(crate) pool: ClientPool,
    pub(crate) settings: RunnerSettings,
    /// Accounts learnt in preflight, for labels ("cicd 111111111111").
    accounts: Mutex<HashMap<Target, String>>,
    pub(crate) directory: StackDirectory,
    /// One poll per account for the stacks waited on there.
    pub(crate) watches: Watches,
    /// Parsed templates by their text: many tasks often share a few.
    templates: Mutex<HashMap<String, Arc<runbook_cfn::Template>>>,
}

impl AwsContext {
    pub fn new(pool: ClientPool, settings: RunnerSettings) -> Self {
        AwsContext {
            pool,
            settings,
            accounts: Mutex::new(HashMap::new()),
            directory: Default::default(),
            watches: Default::default(),
            templates: Mutex::new(HashMap::new()),
        }
    }

    pub fn pool(&self) -> &ClientPool {
        &self.pool
    }

    /// Parses a template once per distinct text.
    pub(crate) fn parse_template(
        &self,
        body: &str,
    ) -> Result<Arc<runbook_cfn::Template>, runbook_cfn::TemplateError> {
        if let Some(hit) = self
            .templates
            .lock()
            .ok()
            .and_then(|t| t.get(body).cloned())
        {
            return Ok(hit);
        }
        let parsed = Arc::new(runbook_cfn::parse(body)?);
        if let Ok(mut templates) = self.templates.lock() {
            templates.insert(body.to_string(), parsed.clone());
        }
        Ok(parsed)
    }

    /// Lists the stacks of these accounts (concurrently), so that each
    /// task's first look at its stack needs no call; `many` marks accounts
    /// where the playbook manages enough stacks to page through a long
    /// listing. Returns the accounts whose credentials AWS refused
    /// outright, with its answer (see `StackDirectory::prefetch`).
    pub async fn prefetch_stacks(
        &self,
        accounts: &[(Target, bool)],
    ) -> Vec<(Target, runbook_aws::ServiceFailure)> {
        let lists = accounts.iter().map(|(target, many)| async move {
            let client = self.pool.cloudformation(target).await.ok()?;
            self.directory
                .prefetch(&client, target, *many)
                .await
                .err()
                .map(|failure| (target.clone(), failure))
        });
        runbook_aws::join_all(lists.collect())
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    /// Remembers a target's account, so labels can name it.
    pub fn remember(&self, target: Target, account: String) {
        if let Ok(mut accounts) = self.accounts.lock() {
            accounts.insert(target, account);
        }
    }

    pub(crate) fn account_of(&self, target: &Target) -> Option<String> {
        self.accounts.lock().ok()?.get(target).cloned()
    }

    /// Learns the account of a target reached during the run, for later
    /// labels.
    pub(crate) async fn learn_account(&self, target: &Target) {
        if self.account_of(target).is_none() {
            if let Ok(account) = self.pool.account(target).await {
                self.remember(target.clone(), account);
            }
        }
    }
}
