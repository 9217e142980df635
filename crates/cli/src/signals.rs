//! Ctrl-C (SIGINT) and SIGTERM: the first stops the command through the
//! executor (no task starts any more, the ones in flight are abandoned
//! and reported, the recap is printed); a second one leaves at once.

use std::future::Future;
use std::sync::{Arc, OnceLock};

use runbook_engine::{Error, Signal};
use runbook_executor::Stop;

use crate::exit;

/// What a command needs to be interrupted cleanly: the executor's stop
/// handle and which signal asked for it.
#[derive(Clone, Default)]
pub struct Interrupt {
    pub stop: Stop,
    signal: Arc<OnceLock<Signal>>,
}

impl Interrupt {
    /// The signal received, once one was.
    pub fn signal(&self) -> Option<Signal> {
        self.signal.get().copied()
    }

    /// The error for a command stopped by the signal; `reported` when the
    /// run's own report already said what happened.
    pub fn error(&self, reported: bool) -> Error {
        Error::Interrupted {
            by: self.signal().unwrap_or(Signal::Interrupt),
            reported,
        }
    }

    /// Runs a step that changes nothing (preflight, discovery), dropping it
    /// when a stop is asked.
    pub async fn unless_stopped<T>(
        &self,
        step: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        tokio::select! {
            biased;
            () = self.stop.requested() => Err(self.error(false)),
            result = step => result,
        }
    }

    /// Waits for SIGINT or SIGTERM, for as long as the command runs.
    pub async fn listen(self) {
        let mut signals = Signals::new();
        loop {
            let signal = signals.next().await;
            if self.stop.is_requested() {
                // A second signal: the user means it.
                eprintln!("\n{signal} again: leaving now, without a recap");
                std::process::exit(match signal {
                    Signal::Interrupt => exit::INTERRUPTED,
                    Signal::Terminate => exit::TERMINATED,
                });
            }
            let _ = self.signal.set(signal);
            self.stop.request();
        }
    }
}

/// The signals a command stops on.
#[cfg(unix)]
struct Signals {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
impl Signals {
    fn new() -> Self {
        use tokio::signal::unix::{signal, SignalKind};
        Signals {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
        }
    }

    async fn next(&mut self) -> Signal {
        async fn recv(stream: &mut Option<tokio::signal::unix::Signal>) {
            let received = match stream {
                Some(stream) => stream.recv().await,
                None => None,
            };
            if received.is_none() {
                // Not watched (or no more): never.
                std::future::pending::<()>().await;
            }
        }
        tokio::select! {
            () = recv(&mut self.interrupt) => Signal::Interrupt,
            () = recv(&mut self.terminate) => Signal::Terminate,
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> Self {
        Signals
    }

    async fn next(&mut self) -> Signal {
        match tokio::signal::ctrl_c().await {
            Ok(()) => Signal::Interrupt,
            Err(_) => std::future::pending().await,
        }
    }
}
