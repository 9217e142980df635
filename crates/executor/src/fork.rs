//! A running task's fork (`--forks`), which its module may give back while
//! it only waits on something outside: a stack that CloudFormation is
//! creating costs runbook nothing but a share of one poll per account, so
//! it need not keep a wide level of the graph waiting for a free fork.

use std::sync::{Arc, Mutex, PoisonError};

use runbook_module::BoxFuture;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

pub(crate) struct TaskFork {
    held: Mutex<Held>,
    permits: Arc<Semaphore>,
    /// Wakes the walk, which starts ready tasks when a fork comes free.
    wake: Arc<Notify>,
}

#[derive(Default)]
struct Held {
    permit: Option<OwnedSemaphorePermit>,
    /// Given back, to take again before the task goes on.
    owed: bool,
}

impl TaskFork {
    pub(crate) fn new(
        permit: Option<OwnedSemaphorePermit>,
        permits: Arc<Semaphore>,
        wake: Arc<Notify>,
    ) -> Self {
        TaskFork {
            held: Mutex::new(Held {
                permit,
                owed: false,
            }),
            permits,
            wake,
        }
    }

    /// The fork, held again, for the walk to give back once the task's
    /// outcome is recorded.
    pub(crate) fn into_permit(self) -> Option<OwnedSemaphorePermit> {
        self.held
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .permit
    }
}

impl runbook_module::Fork for TaskFork {
    fn release(&self) {
        let released = {
            let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
            let permit = held.permit.take();
            held.owed |= permit.is_some();
            permit
        };
        if released.is_some() {
            drop(released);
            self.wake.notify_one();
        }
    }

    fn reacquire(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if !self
                .held
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .owed
            {
                return;
            }
            // The semaphore serves waiters first come, first served, ahead
            // of the walk's try_acquire: a task that has waited its turn
            // goes on before new tasks start. It is never closed.
            if let Ok(permit) = self.permits.clone().acquire_owned().await {
                let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
                held.permit = Some(permit);
                held.owed = false;
            }
        })
    }
}
