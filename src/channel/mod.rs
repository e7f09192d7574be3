//! Channels: how messages reach clients. Each provider is a [`Transport`]; the [`dispatch`]er
//! takes queued rows from the outbox, paces them per sender, sends them, retries what may
//! succeed later, and records what the provider said.

pub mod dispatch;
pub mod telegram;
pub mod twilio;

use std::future::Future;
use std::time::Duration;

/// The answers of a question, for channels that show them as buttons: the step asked and the
/// labels in the client's language, in order (a tap on the n-th answers with option n).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Buttons {
    pub step: String,
    pub labels: Vec<String>,
}

impl Buttons {
    /// The buttons of the question `state` waits on, if it has a short list of answers.
    #[must_use]
    pub fn of(
        runner: &crate::runner::Runner,
        loaded: &crate::runner::Loaded,
        state: &crate::flow::engine::Session,
    ) -> Option<Self> {
        let step = state.awaiting.as_ref()?;
        let flow = runner.flows.revision(&state.flow, &state.revision)?;
        let crate::flow::def::StepKind::Ask(ask) = &flow.step(step)?.kind else {
            return None;
        };
        let vars = runner.vars(loaded);
        let labels: Vec<String> =
            crate::flow::matching::choices(ask, &runner.catalog, &state.locale, &vars)
                .into_iter()
                .map(|m| m.label)
                .collect();
        (!labels.is_empty()).then(|| Self {
            step: step.to_string(),
            labels,
        })
    }
}

/// A queued message, claimed for sending.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: i64,
    pub client: Option<String>,
    /// The client's address on the channel (an E.164 number for SMS).
    pub address: String,
    pub body: String,
    pub segments: u32,
    pub priority: i64,
    /// A question's answers, where the channel shows buttons.
    pub buttons: Option<Buttons>,
}

/// The provider took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub provider_id: String,
    /// The provider's status word (Twilio: queued, accepted…).
    pub provider_status: String,
    pub segments: Option<u32>,
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
    fn send(&self, m: &Outgoing) -> impl Future<Output = Result<Accepted, SendError>> + Send;
    /// Whether a message *in doubt* (its send was cut off by a crash) reached the provider:
    /// what it holds to that address with that text since `since` (ms, when it was queued).
    fn lookup(
        &self,
        m: &Outgoing,
        since: i64,
    ) -> impl Future<Output = Result<Lookup, SendError>> + Send;
}
