//! One poll per account for every stack waiting there. A wait that polled
//! its own stack would cost one DescribeStacks per stack per pause: at 50
//! stacks in flight in one account, the kind of call rate CloudFormation
//! throttles. Instead the waiters of an account share one ListStacks of the
//! stacks in progress, paced by the most recently started wait (every 5 %
//! of its time so far, at least `first_poll`, at most `max_poll`); a waiter
//! whose stack has left the list describes it once, for its outputs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::StackStatus;
use aws_sdk_cloudformation::Client;
use runbook_aws::Target;
use tokio::sync::watch;

use crate::aws::context::RunnerSettings;

/// The statuses in which CloudFormation is working on a stack.
/// REVIEW_IN_PROGRESS (a change set not executed) does not move by itself.
const MOVING: &[StackStatus] = &[
    StackStatus::CreateInProgress,
    StackStatus::DeleteInProgress,
    StackStatus::UpdateInProgress,
    StackStatus::UpdateCompleteCleanupInProgress,
    StackStatus::UpdateRollbackInProgress,
    StackStatus::UpdateRollbackCompleteCleanupInProgress,
    StackStatus::RollbackInProgress,
    StackStatus::ImportInProgress,
    StackStatus::ImportRollbackInProgress,
];

/// What one poll of an account saw.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The stacks in progress, by name, with their status.
    pub in_progress: HashMap<String, String>,
    /// The listing failed (e.g. no right to ListStacks): waiters poll their
    /// own stacks instead.
    pub failed: bool,
}

/// The shared polls, one per account and region.
#[derive(Default)]
pub struct Watches {
    accounts: Mutex<HashMap<Target, Arc<AccountWatch>>>,
    /// When each account may next have its stack events read for display.
    events_due: Mutex<HashMap<Target, Instant>>,
}

/// At most this many DescribeStackEvents per second per account for the
/// progress display, however many stacks are in flight there; the events a
/// wait skips are shown with the next ones.
const EVENT_READS_PER_SECOND: u32 = 2;

struct AccountWatch {
    client: Client,
    settings: RunnerSettings,
    state: Mutex<State>,
    snapshots: watch::Sender<Arc<Snapshot>>,
}

#[derive(Default)]
struct State {
    /// When each current waiter began, by ticket.
    waiters: HashMap<u64, Instant>,
    next_ticket: u64,
    polling: bool,
    /// ListStacks failed here once: do not try again this run.
    unavailable: bool,
}

/// A waiter's place in its account's poll; leaving is dropping it.
pub struct Ticket {
    watch: Arc<AccountWatch>,
    id: u64,
    snapshots: watch::Receiver<Arc<Snapshot>>,
}

impl Watches {
    /// Joins the account's poll, starting it if nobody polls there yet.
    /// `None` when the account cannot be listed (the waiter polls alone).
    pub fn join(
        &self,
        target: &Target,
        client: &Client,
        settings: &RunnerSettings,
    ) -> Option<Ticket> {
        let watch = self
            .accounts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(target.clone())
            .or_insert_with(|| {
                Arc::new(AccountWatch {
                    client: client.clone(),
                    settings: settings.clone(),
                    state: Mutex::new(State::default()),
                    snapshots: watch::channel(Arc::new(Snapshot::default())).0,
                })
            })
            .clone();
        let (id, start) = {
            let mut state = watch.state.lock().unwrap_or_else(PoisonError::into_inner);
            if state.unavailable {
                return None;
            }
            let id = state.next_ticket;
            state.next_ticket += 1;
            state.waiters.insert(id, Instant::now());
            let start = !state.polling;
            state.polling = true;
            (id, start)
        };
        // Subscribed before the poller starts, so the first snapshot is news.
        let snapshots = watch.snapshots.subscribe();
        if start {
            tokio::spawn(poll(watch.clone()));
        }
        Some(Ticket {
            watch,
            id,
            snapshots,
        })
    }
}

impl Watches {
    /// Whether a wait may read its stack's events now, within the
    /// account's budget for the progress display.
    pub fn may_read_events(&self, target: &Target) -> bool {
        let now = Instant::now();
        let mut due = self
            .events_due
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match due.get(target) {
            Some(when) if *when > now => false,
            _ => {
                due.insert(
                    target.clone(),
                    now + Duration::from_secs(1) / EVENT_READS_PER_SECOND,
                );
                true
            }
        }
    }
}

impl Ticket {
    /// The next snapshot of the account.
    pub async fn next(&mut self) -> Arc<Snapshot> {
        if self.snapshots.changed().await.is_err() {
            // The poller is gone (it only stops with no waiters): poll alone.
            return Arc::new(Snapshot {
                failed: true,
                ..Snapshot::default()
            });
        }
        self.snapshots.borrow_and_update().clone()
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.watch
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .waiters
            .remove(&self.id);
    }
}

/// The pause before the next poll: the youngest wait's, so that each wait
/// sees its stack's end within `first_poll` or 5 % of its time so far.
fn next_pause(waiters: &HashMap<u64, Instant>, settings: &RunnerSettings) -> Option<Duration> {
    waiters
        .values()
        .map(|since| {
            (since.elapsed() / 20)
                .max(settings.first_poll)
                .min(settings.max_poll)
        })
        .min()
}

async fn poll(watch: Arc<AccountWatch>) {
    loop {
        let pause = {
            let mut state = watch.state.lock().unwrap_or_else(PoisonError::into_inner);
            match next_pause(&state.waiters, &watch.settings) {
                Some(pause) => pause,
                None => {
                    state.polling = false;
                    return;
                }
            }
        };
        tokio::time::sleep(pause).await;
        let snapshot = match list_in_progress(&watch.client).await {
            Ok(in_progress) => Snapshot {
                in_progress,
                failed: false,
            },
            Err(()) => Snapshot {
                in_progress: HashMap::new(),
                failed: true,
            },
        };
        let failed = snapshot.failed;
        watch.snapshots.send_replace(Arc::new(snapshot));
        if failed {
            let mut state = watch.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.unavailable = true;
            state.polling = false;
            return;
        }
    }
}

/// The account's stacks in progress, every page.
async fn list_in_progress(client: &Client) -> Result<HashMap<String, String>, ()> {
    let mut stacks = HashMap::new();
    let mut token = None;
    loop {
        let page = runbook_aws::retry::with_retries(
            "ListStacks",
            || {
                client
                    .list_stacks()
                    .set_stack_status_filter(Some(MOVING.to_vec()))
                    .set_next_token(token.clone())
                    .send()
            },
            |_| {},
        )
        .await
        .map_err(|_| ())?;
        for summary in page.stack_summaries() {
            if let (Some(name), Some(status)) = (summary.stack_name(), summary.stack_status()) {
                stacks.insert(name.to_string(), status.as_str().to_string());
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(stacks);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_youngest_wait_sets_the_pace() {
        let settings = RunnerSettings::default();
        let now = Instant::now();
        let mut waiters = HashMap::new();
        assert_eq!(next_pause(&waiters, &settings), None);
        // Waiting for 200 s: 5 % is 10 s, capped at 5 s.
        waiters.insert(1, now - Duration::from_secs(200));
        assert_eq!(
            next_pause(&waiters, &settings),
            Some(Duration::from_secs(5))
        );
        // 40 s: 2 s.
        waiters.insert(2, now - Duration::from_secs(40));
        let pause = next_pause(&waiters, &settings).unwrap_or_default();
        assert!(
            (Duration::from_secs(2)..Duration::from_millis(2100)).contains(&pause),
            "{pause:?}"
        );
        // Just started: 0.5 s.
        waiters.insert(3, now);
        assert_eq!(next_pause(&waiters, &settings), Some(settings.first_poll));
    }
}
