//! What stacks each account has, listed once before the run (one
//! DescribeStacks page per account, fetched alongside preflight), so that a
//! task's first look at its stack costs no call of its own: off the
//! critical path of a deploy, and a no-op over N stacks costs about N
//! GetTemplate calls plus one listing per account instead of 2N calls.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use aws_sdk_cloudformation::Client;
use runbook_aws::Target;

use super::deployed_of;
use super::diff::Deployed;

/// Error codes that mean the credentials are not accepted at all, for any
/// call: not a missing permission.
const BAD_CREDENTIALS: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "InvalidAccessKeyId",
];

#[derive(Default)]
pub struct StackDirectory {
    /// Every live stack per listed account, as seen before the run.
    listings: Mutex<HashMap<Target, HashMap<String, Deployed>>>,
    /// Stacks already looked at: later looks must see this run's changes,
    /// so they describe the stack itself.
    looked: Mutex<HashSet<(Target, String)>>,
}

impl StackDirectory {
    /// Lists the account's stacks. An account with more than one page of
    /// stacks is listed in full only when `many` (the playbook manages many
    /// stacks there); otherwise it is left unlisted and its stacks are
    /// described one by one, which is cheaper than paging through an
    /// account full of stacks the playbook does not touch. A failed listing
    /// also leaves the account unlisted: a role may describe its own stacks
    /// without the right to list them all. Only an answer that the
    /// credentials themselves are bad (expired, unknown, wrongly signed) is
    /// returned, for preflight to stop on.
    pub async fn prefetch(
        &self,
        client: &Client,
        target: &Target,
        many: bool,
    ) -> Result<(), runbook_aws::ServiceFailure> {
        let mut stacks = HashMap::new();
        let mut token = None;
        loop {
            let out = match runbook_aws::retry::with_retries(
                "DescribeStacks",
                || {
                    client
                        .describe_stacks()
                        .set_next_token(token.clone())
                        .send()
                },
                |_| {},
            )
            .await
            {
                Ok(out) => out,
                Err(err) => {
                    let failure = runbook_aws::describe(&err);
                    return match failure.code.as_deref() {
                        Some(code) if BAD_CREDENTIALS.contains(&code) => Err(failure),
                        _ => Ok(()),
                    };
                }
            };
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
                break;
            }
            if !many {
                return Ok(());
            }
        }
        if let Ok(mut listings) = self.listings.lock() {
            listings.insert(target.clone(), stacks);
        }
        Ok(())
    }

    /// The stack as the listing saw it, when this is the first look at it
    /// and its account was listed; `None` means "ask directly".
    pub fn first_look(&self, target: &Target, stack: &str) -> Option<Option<Deployed>> {
        let listings = self.listings.lock().ok()?;
        let listing = listings.get(target)?;
        let first = self
            .looked
            .lock()
            .ok()?
            .insert((target.clone(), stack.to_string()));
        first.then(|| listing.get(stack).cloned())
    }

    /// Whether the listing shows the stack, without counting as a look;
    /// `None` when the account was not listed.
    pub fn listed(&self, target: &Target, stack: &str) -> Option<bool> {
        let listings = self.listings.lock().ok()?;
        Some(listings.get(target)?.contains_key(stack))
    }
}
