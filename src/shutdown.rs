//! Stopping the service without losing or repeating anything: one signal, raised on SIGTERM or
//! Ctrl-C, that every loop (dispatchers, the scheduler, the Telegram poller) and the webhooks
//! watch. Loops stop taking new work and finish what they started.

use std::sync::Arc;
use tokio::sync::watch;

/// The service's stop signal; cheap to clone.
#[derive(Debug, Clone)]
pub struct Shutdown(Arc<watch::Sender<bool>>);

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    #[must_use]
    pub fn new() -> Self {
        Self(Arc::new(watch::channel(false).0))
    }

    /// Asks everything to stop. Idempotent.
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    #[must_use]
    pub fn is_stopping(&self) -> bool {
        *self.0.borrow()
    }

    /// A receiver that resolves once the stop is asked for.
    #[must_use]
    pub fn signal(&self) -> Stop {
        Stop(self.0.subscribe())
    }
}

/// One loop's view of the stop signal.
#[derive(Debug, Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    #[must_use]
    pub fn is_stopping(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the stop is asked for (at once if it was); never if the sender is gone
    /// without asking.
    pub async fn wait(&mut self) {
        if self.0.wait_for(|s| *s).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Resolves on SIGTERM (systemd, Docker, Kubernetes) or SIGINT (Ctrl-C).
pub async fn signalled() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch for SIGTERM; only Ctrl-C stops gracefully");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("Ctrl-C: shutting down");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stop_reaches_every_receiver_even_one_made_after_it() {
        let s = Shutdown::new();
        let mut before = s.signal();
        assert!(!before.is_stopping());
        s.trigger();
        before.wait().await;
        let mut after = s.signal();
        assert!(after.is_stopping());
        after.wait().await;
    }
}
