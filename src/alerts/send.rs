//! How an alert leaves: email through the centre's mail server (lettre), SMS through the
//! centre's Twilio sender.

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;

/// The centre's mail server and the alerts' sender.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// `smtp://host:25`, `smtp://host:587?tls=required`, `smtps://user:pass@host:465`.
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("[alerts] smtp_url {}: {e}", crate::store::redact_url(url)))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("[alerts] from {from:?} is not an email address: {e}"))?;
        Ok(Self { transport, from })
    }

    /// Sends one plain-text email, dated `at`.
    pub async fn send(
        &self,
        to: &str,
        subject: &str,
        body: &str,
        at: std::time::SystemTime,
    ) -> Result<(), String> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| format!("not an email address: {e}"))?;
        let msg = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .date(at)
            .message_id(None)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| format!("the email could not be built: {e}"))?;
        self.transport
            .send(msg)
            .await
            .map(|_| ())
            .map_err(|e| format!("the mail server refused or could not be reached: {e}"))
    }
}

/// Alert texts through the centre's Twilio sender.
#[derive(Debug, Clone)]
pub struct Sms {
    client: Arc<crate::channel::twilio::Client>,
}

impl Sms {
    #[must_use]
    pub fn new(client: Arc<crate::channel::twilio::Client>) -> Self {
        Self { client }
    }

    pub async fn send(&self, to: &str, body: &str) -> Result<(), String> {
        self.client
            .create_message(to, body)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
