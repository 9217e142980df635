//! Asking a run to stop from outside (Ctrl-C, SIGTERM): the walk starts no
//! more tasks, abandons the ones in flight and returns what happened.

use std::fmt;
use std::sync::Arc;

use tokio::sync::watch;

/// A cheap, cloneable handle: [`Stop::request`] from anywhere (a signal
/// handler), and every clone sees it.
#[derive(Clone)]
pub struct Stop {
    requested: Arc<watch::Sender<bool>>,
}

impl Default for Stop {
    fn default() -> Self {
        Stop {
            requested: Arc::new(watch::Sender::new(false)),
        }
    }
}

impl fmt::Debug for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stop")
            .field("requested", &self.is_requested())
            .finish()
    }
}

impl Stop {
    pub fn new() -> Self {
        Stop::default()
    }

    /// Asks the run to stop; asking again changes nothing.
    pub fn request(&self) {
        self.requested.send_replace(true);
    }

    pub fn is_requested(&self) -> bool {
        *self.requested.borrow()
    }

    /// Resolves once a stop is requested (at once if it already was).
    pub async fn requested(&self) {
        let mut seen = self.requested.subscribe();
        // The sender lives in `self`, so this only ends with a request.
        let _ = seen.wait_for(|requested| *requested).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_clone_sees_a_request() {
        let stop = Stop::new();
        let other = stop.clone();
        assert!(!other.is_requested());
        let waiter = tokio::spawn(async move { other.requested().await });
        tokio::task::yield_now().await;
        stop.request();
        waiter.await.expect("the waiter ends");
        assert!(stop.is_requested());
        // Already requested: resolves at once.
        stop.requested().await;
    }
}
