//! Our own small client of Twilio's Messages API (the `twilio` crate is unfit: DESIGN §5).
//! One call: create a message. Form-encoded, HTTP Basic auth with the account SID and auth token,
//! the base URL configurable so tests and benchmarks talk to a local stand-in.

use super::TwilioConfig;
use crate::channel::{Accepted, Outgoing, SendError, Transport};
use serde::Deserialize;
use std::time::Duration;

/// Twilio's error JSON: `{"code": 21211, "message": "…", "more_info": "…", "status": 400}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, thiserror::Error)]
#[error("Twilio {code}: {message} (HTTP {status})")]
pub struct ApiError {
    pub code: u32,
    pub message: String,
    #[serde(default)]
    pub more_info: Option<String>,
    pub status: u16,
}

/// Error codes the client itself acts on (the record's are in `runner::provider`).
pub mod codes {
    /// Too many requests: retried.
    pub const TOO_MANY_REQUESTS: u32 = 20429;
}

/// The parts of Twilio's Message resource we use.
#[derive(Debug, Clone, Deserialize)]
struct Message {
    sid: String,
    status: String,
    #[serde(default)]
    num_segments: Option<String>,
}

/// A client of one Twilio account.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    cfg: TwilioConfig,
    endpoint: String,
    status_callback: String,
}

impl Client {
    /// # Errors
    /// When the HTTP client cannot be built (no TLS roots).
    pub fn new(cfg: TwilioConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("matters/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let endpoint = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            cfg.api_base.trim_end_matches('/'),
            cfg.account_sid
        );
        let status_callback = cfg.webhook_url("/webhooks/twilio/status");
        Ok(Self {
            http,
            cfg,
            endpoint,
            status_callback,
        })
    }

    /// The form fields of a Create Message request, in the order they are sent.
    #[must_use]
    pub fn form(&self, to: &str, body: &str) -> Vec<(&'static str, String)> {
        let mut f = vec![("To", to.to_owned())];
        if let Some(from) = &self.cfg.from {
            f.push(("From", from.clone()));
        }
        if let Some(ms) = &self.cfg.messaging_service_sid {
            f.push(("MessagingServiceSid", ms.clone()));
        }
        f.push(("Body", body.to_owned()));
        f.push(("StatusCallback", self.status_callback.clone()));
        if let Some(v) = self.cfg.validity_period {
            f.push(("ValidityPeriod", v.to_string()));
        }
        f
    }

    /// Creates one message.
    ///
    /// # Errors
    /// Twilio's error, typed, or a transport failure.
    pub async fn create_message(&self, to: &str, body: &str) -> Result<Accepted, SendError> {
        let resp = self
            .http
            .post(&self.endpoint)
            .basic_auth(&self.cfg.account_sid, Some(self.cfg.auth_token.expose()))
            .form(&self.form(to, body))
            .send()
            .await
            .map_err(|e| SendError::Transport(without_url(&e)))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| SendError::Transport(without_url(&e)))?;
        if status.is_success() {
            let m: Message = serde_json::from_slice(&bytes).map_err(|e| SendError::Provider {
                http: status.as_u16(),
                code: None,
                message: format!("unreadable answer from Twilio: {e}"),
            })?;
            return Ok(Accepted {
                provider_id: m.sid,
                provider_status: m.status,
                segments: m.num_segments.and_then(|n| n.parse().ok()),
            });
        }
        Err(match serde_json::from_slice::<ApiError>(&bytes) {
            Ok(e) => SendError::Provider {
                http: status.as_u16(),
                code: Some(e.code),
                message: e.message,
            },
            Err(_) => SendError::Provider {
                http: status.as_u16(),
                code: None,
                message: format!("HTTP {status} from Twilio"),
            },
        })
    }
}

/// A reqwest error names the URL, which holds the account SID; keep only the kind.
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_connect() {
        "cannot connect"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "request failed"
    };
    format!("Twilio: {kind}")
}

impl Transport for Client {
    fn sender(&self) -> String {
        self.cfg
            .messaging_service_sid
            .clone()
            .or_else(|| self.cfg.from.clone())
            .unwrap_or_default()
    }

    async fn send(&self, m: &Outgoing) -> Result<Accepted, SendError> {
        self.create_message(&m.address, &m.body).await
    }
}
