//! One paginated DescribeStacks per account instead of one per stack, for
//! the first look at each stack of an account where the playbook manages
//! many: a no-op run over N stacks then costs about N + N/100 calls, not 2N.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use aws_sdk_cloudformation::Client;
use runbook_aws::Target;
use tokio::sync::OnceCell;

use super::deployed_of;
use super::diff::Deployed;

type Listing = Option<HashMap<String, Deployed>>;

#[derive(Default)]
pub struct StackDirectory {
    /// Accounts worth listing (the playbook manages many stacks there).
    listed: HashSet<Target>,
    listings: Mutex<HashMap<Target, Arc<OnceCell<Listing>>>>,
    /// Stacks already looked at: later looks must see this run's changes,
    /// so they describe the stack itself.
    looked: Mutex<HashSet<(Target, String)>>,
}

impl StackDirectory {
    pub fn new(listed: impl IntoIterator<Item = Target>) -> Self {
        StackDirectory {
            listed: listed.into_iter().collect(),
            ..Default::default()
        }
    }

    /// The stack as the account listing saw it, when this is the first look
    /// at it and its account is listed; `None` means "ask directly".
    pub async fn first_look(
        &self,
        client: &Client,
        target: &Target,
        stack: &str,
    ) -> Option<Option<Deployed>> {
        if !self.listed.contains(target) {
            return None;
        }
        let first = self
            .looked
            .lock()
            .ok()?
            .insert((target.clone(), stack.to_string()));
        if !first {
            return None;
        }
        let cell = self
            .listings
            .lock()
            .ok()?
            .entry(target.clone())
            .or_default()
            .clone();
        let listing = cell.get_or_init(|| list(client)).await.as_ref()?;
        Some(listing.get(stack).cloned())
    }
}

/// Every live stack of the account; `None` if listing fails (callers then
/// describe stacks one by one, as without a directory).
async fn list(client: &Client) -> Listing {
    let mut stacks = HashMap::new();
    let mut token = None;
    loop {
        let out = client
            .describe_stacks()
            .set_next_token(token)
            .send()
            .await
            .ok()?;
        for stack in out.stacks() {
            let deployed = deployed_of(stack);
            if deployed.status != "DELETE_COMPLETE" {
                if let Some(name) = stack.stack_name() {
                    stacks.insert(name.to_string(), deployed);
                }
            }
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Some(stacks);
        }
    }
}
