//! Channels: how messages reach clients. Each provider is a [`Transport`]: it sends one message
//! and says what happened. The dispatcher (`loops::dispatch`) takes queued rows from the outbox,
//! paces them per sender, sends them through a transport, retries what may succeed later, and
//! records what the provider said.

pub mod telegram;
pub mod twilio;

use std::future::Future;
use std::time::Duration;

pub use crate::domain::outbox::{Accepted, Buttons, Outgoing};

/// How a dispatcher paces and retries.
#[derive(Debug, Clone)]
pub struct SendSettings {
    /// `None`: unpaced.
    pub segments_per_second: Option<f64>,
    pub max_attempts: u32,
    pub backoff: Duration,
    pub concurrency: usize,
    /// How often to look for rows queued by other processes.
    pub poll: Duration,
    /// Messages to one address leave one after the other, in order, at most one per this
    /// interval (Telegram: a second per chat). `None`: no order kept between them.
    pub per_address: Option<Duration>,
    /// A claim not renewed for this long is a dead process's: its message is in doubt.
    pub lease: Duration,
    /// The sender's name (its account and number, its bot), under which every process sending
    /// through it shares its pace on Postgres.
    pub sender: String,
}

/// Why a message could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Connection refused, reset, timed out: the provider may never have seen it.
    #[error("{0}")]
    Transport(String),
    /// The provider answered with an error.
    #[error("{}", describe(*.http, *.code, .message))]
    Provider {
        http: u16,
        code: Option<u32>,
        message: String,
    },
    /// The provider asked us to wait this long before trying again (Telegram's `retry_after`).
    #[error("too many requests: retry after {:?}", .0)]
    RetryAfter(Duration),
}

fn describe(http: u16, code: Option<u32>, message: &str) -> String {
    match code {
        Some(c) => format!("{c}: {message}"),
        None => format!("HTTP {http}: {message}"),
    }
}

impl SendError {
    /// Worth trying again: too many requests, a server error, a connection error. Never another
    /// 4xx: the same request would fail the same way.
    #[must_use]
    pub fn retryable(&self) -> bool {
        match self {
            Self::Transport(_) | Self::RetryAfter(_) => true,
            Self::Provider { http, code, .. } => {
                *http == 429 || *http >= 500 || *code == Some(twilio::codes::TOO_MANY_REQUESTS)
            }
        }
    }

    /// Whether the provider may have taken the message although the try failed: a broken
    /// connection or a server error (a refusal, 4xx or 429, says it did not).
    #[must_use]
    pub fn may_have_reached(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::RetryAfter(_) => false,
            Self::Provider { http, .. } => *http >= 500,
        }
    }

    #[must_use]
    pub fn code(&self) -> Option<u32> {
        match self {
            Self::Transport(_) => None,
            Self::RetryAfter(_) => Some(429),
            Self::Provider { code, .. } => *code,
        }
    }
}

/// What a provider knows of a message whose send was cut off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Messages it holds to the same address with the same text, created since the message was
    /// queued, oldest first (maybe none).
    Found(Vec<Accepted>),
    /// The provider cannot say (Telegram): the message is sent again.
    Unsupported,
}

/// A provider's API for sending.
pub trait Transport: Send + Sync + 'static {
    /// Who sends: pacing is per sender.
    fn sender(&self) -> String;
    /// Who sends this message, when not [`Self::sender`] (a centre's own number): its pace key,
    /// as `SendSettings::sender` names senders.
    fn sender_of(&self, _m: &Outgoing) -> Option<String> {
        None
    }
    fn send(&self, m: &Outgoing) -> impl Future<Output = Result<Accepted, SendError>> + Send;
    /// Whether a message *in doubt* (its send was cut off by a crash) reached the provider:
    /// what it holds to that address with that text since `since` (ms, when it was queued).
    fn lookup(
        &self,
        m: &Outgoing,
        since: i64,
    ) -> impl Future<Output = Result<Lookup, SendError>> + Send;
}
