//! Waiting for a stack to settle: adaptive polling (fast first, then
//! backing off), new stack events streamed as they appear, failed
//! resources collected for the report.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::StackEvent;

use super::watch::Ticket;
use super::Api;

/// How a wait ended.
pub enum Settled {
    /// The stack reached this status (complete or failed).
    Status(Box<super::diff::Deployed>),
    /// The stack no longer exists (deleted).
    Gone,
}

/// Whether CloudFormation is still working on the stack. REVIEW_IN_PROGRESS
/// (a change set never executed) does not move by itself.
pub fn in_progress(status: &str) -> bool {
    (status.ends_with("_IN_PROGRESS") && status != "REVIEW_IN_PROGRESS")
        || status == "CREATE_PENDING"
}

pub fn succeeded(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "DELETE_COMPLETE" | "IMPORT_COMPLETE"
    )
}

/// How often a wait fetches stack events to show.
const EVENTS_EVERY: Duration = Duration::from_secs(3);

/// After how long without a status change a wait says what it waits for.
const STILL_AFTER: Duration = Duration::from_secs(30);

/// The pause before the n-th poll: 0.1 s, 0.2 s, 0.4 s, ... up to `max`.
pub fn pause(first: Duration, max: Duration, n: u32) -> Duration {
    first.saturating_mul(1u32 << n.min(16)).min(max)
}

impl Api<'_> {
    /// Waits until the stack leaves `*_IN_PROGRESS`, or `--wait-timeout`.
    /// The account's waiters share one poll (watch.rs), paced so that each
    /// sees its stack's end within 0.5 s or 5 % of its time waited; events
    /// are fetched only when progress is shown, and at most every few
    /// seconds.
    pub async fn wait(&self, doing: &str, seen: &mut HashSet<String>) -> Result<Settled, String> {
        // Waiting costs a share of one poll per account: the task's fork
        // goes to another task meanwhile, and is taken again to go on.
        self.fork.release();
        let settled = self.wait_holding_no_fork(doing, seen).await;
        self.fork.reacquire().await;
        settled
    }

    async fn wait_holding_no_fork(
        &self,
        doing: &str,
        seen: &mut HashSet<String>,
    ) -> Result<Settled, String> {
        let begun = Instant::now();
        let deadline = super::super::deadline_after(self.settings.wait_timeout);
        let mut last_events: Option<Instant> = None;
        let mut status_since: Option<(String, Instant)> = None;
        let mut told = Instant::now();
        let mut ticket: Option<Ticket> = None;
        let mut joined = false;
        let Some(mut stack) = self.describe().await? else {
            return Ok(Settled::Gone);
        };
        loop {
            if !in_progress(&stack.status) {
                return Ok(Settled::Status(Box::new(stack)));
            }
            let now = Instant::now();
            match &status_since {
                Some((status, _)) if *status == stack.status => {}
                _ => status_since = Some((stack.status.clone(), now)),
            }
            // A stack that shows no progress is reported while waiting,
            // with what it waits for.
            if let Some((status, since)) = &status_since {
                let still = now - *since;
                if still >= STILL_AFTER && now - told >= STILL_AFTER {
                    told = now;
                    self.sink.progress(format!(
                        "still {status} after {}s: waiting for CloudFormation to finish {doing}{}",
                        still.as_secs(),
                        if status == "CREATE_PENDING" {
                            " (the stack is queued: another operation may hold it)"
                        } else {
                            ""
                        }
                    ));
                }
            }
            if self.sink.wants()
                && last_events.is_none_or(|t| now - t >= EVENTS_EVERY)
                && self.watches.may_read_events(self.target)
            {
                last_events = Some(now);
                self.stream_events(seen).await;
            }
            if now >= deadline {
                return Err(format!(
                    "timed out after {}s waiting for stack {} to finish {doing} (status {}); it is still going in AWS: run again to pick it up, or raise --wait-timeout",
                    self.settings.wait_timeout.as_secs(),
                    self.stack,
                    stack.status
                ));
            }
            if !joined {
                joined = true;
                ticket = self.watches.join(self.target, &self.client, self.settings);
            }
            let left = deadline.saturating_duration_since(now);
            match &mut ticket {
                Some(shared) => match tokio::time::timeout(left, shared.next()).await {
                    // The deadline: reported above with the last status seen.
                    Err(_) => continue,
                    Ok(snapshot) if snapshot.failed => ticket = None,
                    Ok(snapshot) => {
                        if let Some(status) = snapshot.in_progress.get(self.stack) {
                            stack.status = status.clone();
                            continue;
                        }
                        // Out of the list: settled (or not listed yet).
                    }
                },
                None => {
                    let pause = ((now - begun) / 20)
                        .max(self.settings.first_poll)
                        .min(self.settings.max_poll)
                        .min(left);
                    tokio::time::sleep(pause).await;
                }
            }
            stack = match self.describe().await? {
                Some(stack) => stack,
                None => return Ok(Settled::Gone),
            };
        }
    }

    /// Reports events not seen before, oldest first. Best effort: an error
    /// here must not fail the task.
    pub async fn stream_events(&self, seen: &mut HashSet<String>) {
        if let Ok(events) = self.events().await {
            for event in events.iter().rev() {
                let id = event.event_id().unwrap_or_default().to_string();
                if seen.insert(id) {
                    self.sink.progress(event_line(event).to_string());
                }
            }
        }
    }

    /// Marks every current event as seen, so a wait streams only new ones.
    pub async fn mark_seen(&self, seen: &mut HashSet<String>) {
        if let Ok(events) = self.events().await {
            seen.extend(
                events
                    .iter()
                    .filter_map(|e| e.event_id().map(str::to_string)),
            );
        }
    }

    /// Failed resources and their reasons, newest first, for the report.
    pub async fn failures(&self, since: &HashSet<String>) -> Vec<String> {
        match self.events().await {
            Ok(events) => failed_resources(&events, since),
            Err(_) => Vec::new(),
        }
    }
}

/// The failed resources of the latest operation (events newest first, up
/// to the stack's own `*_IN_PROGRESS` event that began it) not in `since`,
/// with their reasons.
pub fn failed_resources(events: &[StackEvent], since: &HashSet<String>) -> Vec<String> {
    let began = events
        .iter()
        .position(|e| {
            e.resource_type() == Some("AWS::CloudFormation::Stack")
                && e.resource_status().is_some_and(|s| {
                    matches!(
                        s.as_str(),
                        "CREATE_IN_PROGRESS" | "UPDATE_IN_PROGRESS" | "DELETE_IN_PROGRESS"
                    )
                })
        })
        .map_or(events.len(), |i| i + 1);
    events[..began]
        .iter()
        .filter(|e| !since.contains(e.event_id().unwrap_or_default()))
        .filter(|e| {
            e.resource_status()
                .is_some_and(|s| s.as_str().ends_with("_FAILED"))
        })
        .filter(|e| {
            e.resource_status_reason()
                .is_some_and(|r| !r.contains("cancelled"))
        })
        .map(|e| {
            runbook_module::printable(&format!(
                "{} ({}): {}",
                e.logical_resource_id().unwrap_or("?"),
                e.resource_type().unwrap_or("?"),
                e.resource_status_reason().unwrap_or("")
            ))
            .into_owned()
        })
        .collect()
}

/// amazon.aws's event line: "StackEvent TYPE LOGICAL_ID STATUS [reason]".
pub fn event_line(event: &StackEvent) -> String {
    let mut line = format!(
        "StackEvent {} {} {}",
        event.resource_type().unwrap_or("?"),
        event.logical_resource_id().unwrap_or("?"),
        event.resource_status().map(|s| s.as_str()).unwrap_or("?")
    );
    if let Some(reason) = event.resource_status_reason().filter(|r| !r.is_empty()) {
        line.push_str(&format!(" {reason}"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polling_starts_fast_and_backs_off() {
        let first = Duration::from_millis(100);
        let max = Duration::from_secs(5);
        let pauses: Vec<u128> = (0..8).map(|n| pause(first, max, n).as_millis()).collect();
        assert_eq!(pauses, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        assert!(in_progress("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"));
        assert!(!in_progress("ROLLBACK_COMPLETE"));
        assert!(!in_progress("REVIEW_IN_PROGRESS"));
        assert!(succeeded("UPDATE_COMPLETE") && !succeeded("UPDATE_ROLLBACK_COMPLETE"));
    }
}
