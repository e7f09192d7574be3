//! The inbox: every inbound message goes through one queue, drained by writer tasks that take
//! whatever has queued up (at most [`MAX_BATCH`]) into one transaction. Under light load a batch
//! is one message and nothing waits; under heavy load the cost of each commit is shared (group
//! commit), which is what lets a single SQLite writer keep up with thousands of replies a second.

use super::{Handled, Inbound, Incoming, RunError, Runner};
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

/// Most messages one transaction takes.
pub const MAX_BATCH: usize = 256;

enum Message {
    /// From a known client (the simulator).
    Client(Inbound),
    /// From an address to match (a phone number).
    Address(Incoming),
}

type Job = (Message, oneshot::Sender<Result<Handled, RunError>>);

/// A handle to submit messages; cheap to clone.
#[derive(Debug, Clone)]
pub struct Inbox {
    tx: mpsc::Sender<Job>,
}

impl Inbox {
    /// Starts `writers` writer tasks (one for SQLite, which has one writer; a few for Postgres).
    #[must_use]
    pub fn spawn(runner: Arc<Runner>, writers: usize) -> Self {
        let (tx, rx) = mpsc::channel::<Job>(MAX_BATCH * 64);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..writers.max(1) {
            tokio::spawn(writer(runner.clone(), rx.clone()));
        }
        Self { tx }
    }

    /// Handles one message; returns when it is committed (or refused).
    pub async fn submit(&self, inbound: Inbound) -> Result<Handled, RunError> {
        self.send(Message::Client(inbound)).await
    }

    /// Handles one message from an address: matched to its client, or kept in the navigators'
    /// inbox of unmatched messages. Returns when it is committed.
    pub async fn submit_from(&self, incoming: Incoming) -> Result<Handled, RunError> {
        self.send(Message::Address(incoming)).await
    }

    async fn send(&self, m: Message) -> Result<Handled, RunError> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send((m, done))
            .await
            .map_err(|_| RunError::Closed)?;
        wait.await.map_err(|_| RunError::Closed)?
    }
}

async fn writer(runner: Arc<Runner>, rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
    loop {
        let mut batch = Vec::new();
        {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
        }
        let mut from_clients = Vec::new();
        let mut from_addresses = Vec::new();
        for (m, done) in batch {
            match m {
                Message::Client(i) => from_clients.push((i, done)),
                Message::Address(i) => from_addresses.push((i, done)),
            }
        }
        // The caller may have gone away (a closed HTTP request); the work is committed anyway.
        if !from_addresses.is_empty() {
            let (msgs, waiting): (Vec<Incoming>, Vec<_>) = from_addresses.into_iter().unzip();
            for (done, result) in waiting
                .into_iter()
                .zip(runner.receive_incoming(&msgs).await)
            {
                let _ = done.send(result);
            }
        }
        if !from_clients.is_empty() {
            let (msgs, waiting): (Vec<Inbound>, Vec<_>) = from_clients.into_iter().unzip();
            for (done, result) in waiting.into_iter().zip(runner.receive_batch(&msgs).await) {
                let _ = done.send(result);
            }
        }
    }
}
