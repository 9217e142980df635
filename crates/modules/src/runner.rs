use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indexmap::IndexMap;
use runbook_aws::{ClientPool, Target};
use runbook_executor::{EventSink, ModuleFailure, ModuleOutput, TaskRequest, TaskRunner};
use runbook_playbook::{Json, ModuleKind, Task};

#[derive(Debug, Clone)]
pub struct RunnerSettings {
    /// Bounds every wait for a stack to settle.
    pub wait_timeout: Duration,
    /// The first pause between polls of a stack in progress; pauses then
    /// grow to `max_poll`.
    pub first_poll: Duration,
    pub max_poll: Duration,
}

impl Default for RunnerSettings {
    fn default() -> Self {
        RunnerSettings {
            wait_timeout: Duration::from_secs(3600),
            first_poll: Duration::from_millis(100),
            max_poll: Duration::from_secs(5),
        }
    }
}

/// Runs AWS modules through a shared client pool.
pub struct AwsRunner {
    pub(crate) pool: ClientPool,
    pub(crate) settings: RunnerSettings,
    /// Accounts learnt in preflight, for labels ("cicd 111111111111").
    accounts: Mutex<HashMap<Target, String>>,
    pub(crate) directory: crate::cloudformation::StackDirectory,
    /// Parsed templates by their text: many tasks often share a few.
    templates: Mutex<HashMap<String, Arc<runbook_cfn::Template>>>,
}

impl AwsRunner {
    pub fn new(pool: ClientPool, settings: RunnerSettings) -> Self {
        AwsRunner {
            pool,
            settings,
            accounts: Mutex::new(HashMap::new()),
            directory: Default::default(),
            templates: Mutex::new(HashMap::new()),
        }
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

    pub fn pool(&self) -> &ClientPool {
        &self.pool
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
}

/// The account a task's options point at.
pub fn target_of(args: &IndexMap<String, Json>) -> Target {
    let text = |key: &str| args.get(key).and_then(Json::as_str).map(str::to_string);
    Target {
        profile: text("profile"),
        region: text("region"),
        endpoint_url: text("endpoint_url"),
    }
}

impl TaskRunner for AwsRunner {
    async fn run(
        &self,
        request: TaskRequest,
        events: EventSink,
    ) -> Result<ModuleOutput, ModuleFailure> {
        let target = target_of(&request.args);
        let result = match request.task().module.kind {
            ModuleKind::CallerInfo => {
                crate::caller_info::run(self, &target, &request.result_reads).await
            }
            ModuleKind::CloudFormation => {
                crate::cloudformation::run(self, &target, &request, &events).await
            }
            ModuleKind::CloudFormationInfo => {
                crate::cloudformation_info::run(self, &target, &request.args).await
            }
            other => Err(ModuleFailure::new(format!(
                "{other:?} is not an AWS module"
            ))),
        };
        // Learn accounts found on the way, for later labels.
        if self.account_of(&target).is_none() {
            if let Ok(account) = self.pool.account(&target).await {
                self.remember(target, account);
            }
        }
        result
    }

    fn target_label(&self, task: &Task, args: &IndexMap<String, Json>) -> Option<String> {
        if !task.module.aws {
            return None;
        }
        let target = target_of(args);
        let mut label = target.profile.clone().unwrap_or_else(|| "default".into());
        if let Some(account) = self.account_of(&target) {
            label.push_str(&format!(" {account}"));
        }
        if let Some(region) = &target.region {
            label.push_str(&format!(" {region}"));
        }
        Some(label)
    }
}
