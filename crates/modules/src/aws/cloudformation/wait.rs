//! Waiting for a stack to settle: adaptive polling (fast first, then
//! backing off), new stack events streamed as they appear, failed
//! resources collected for the report.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::StackEvent;

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

/// The pause before the n-th poll: 0.1 s, 0.2 s, 0.4 s, ... up to `max`.
pub fn pause(first: Duration, max: Duration, n: u32) -> Duration {
    first.saturating_mul(1u32 << n.min(16)).min(max)
}

impl Api<'_> {
    /// Polls until the stack leaves `*_IN_PROGRESS`, or `--wait-timeout`.
    pub async fn wait(&self, doing: &str, seen: &mut HashSet<String>) -> Result<Settled, String> {
        let deadline = super::super::deadline_after(self.settings.wait_timeout);
        let mut polls = 0u32;
        loop {
            let Some(stack) = self.describe().await? else {
                return Ok(Settled::Gone);
            };
            if !in_progress(&stack.status) {
                return Ok(Settled::Status(Box::new(stack)));
            }
            // Stream what happened since the last poll while we wait.
            self.stream_events(seen).await;
            let now = Instant::now();
            if now >= deadline {
                return Err(format!(
                    "timed out after {}s waiting for stack {} to finish {doing} (status {}); it is still going in AWS: run again to pick it up, or raise --wait-timeout",
                    self.settings.wait_timeout.as_secs(),
                    self.stack,
                    stack.status
                ));
            }
            let pause = pause(self.settings.first_poll, self.settings.max_poll, polls)
                .min(deadline.saturating_duration_since(now));
            polls += 1;
            tokio::time::sleep(pause).await;
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
