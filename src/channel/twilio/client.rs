//! Our own small client of Twilio's Messages API (the `twilio` crate is unfit: DESIGN §5).
//! Two calls: create a message, and list the messages to a number (to find out whether a send
//! that a crash cut off reached Twilio). Form-encoded, HTTP Basic auth with the account SID and auth token,
//! the base URL configurable so tests and benchmarks talk to a local stand-in.

use super::TwilioConfig;
use crate::channel::{Accepted, Lookup, Outgoing, SendError, Transport};
use crate::config::Secret;
use crate::domain::OwnAccount;
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
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    direction: Option<String>,
    /// RFC 2822, e.g. `Fri, 24 May 2019 17:44:46 +0000`.
    #[serde(default)]
    date_created: Option<String>,
}

impl Message {
    fn accepted(self) -> Accepted {
        Accepted {
            provider_id: self.sid,
            provider_status: self.status,
            segments: self.num_segments.and_then(|n| n.parse().ok()),
        }
    }
}

/// A page of Twilio's Message list.
#[derive(Debug, Clone, Deserialize)]
struct MessagePage {
    messages: Vec<Message>,
    #[serde(default)]
    next_page_uri: Option<String>,
}

/// How many pages of a number's messages a look-up reads at most (50 a page).
const LOOKUP_PAGES: usize = 4;

/// Twilio's clock and ours may differ by this much.
const CLOCK_SKEW_MS: i64 = 60_000;

/// A client of the deployment's Twilio account, and of the accounts of centres that have their
/// own (each message names its centre's, see [`Outgoing::account`]).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    cfg: TwilioConfig,
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
        let status_callback = cfg.webhook_url("/webhooks/twilio/status");
        Ok(Self {
            http,
            cfg,
            status_callback,
        })
    }

    /// The SID and auth token to send as: the centre's own account, or the deployment's.
    fn credentials(&self, account: Option<&OwnAccount>) -> Result<(String, Secret), SendError> {
        match account {
            None => Ok((self.cfg.account_sid.clone(), self.cfg.auth_token.clone())),
            Some(a) => self
                .cfg
                .tokens
                .get(&a.token_file)
                .map(|t| (a.sid.clone(), t))
                // Not sent, and trying again will not help until the file is mended.
                .map_err(|e| SendError::Provider {
                    http: 0,
                    code: None,
                    message: format!("Twilio account {}: {e}", a.sid),
                }),
        }
    }

    /// An account's Messages resource.
    fn messages_url(&self, sid: &str) -> String {
        format!(
            "{}/2010-04-01/Accounts/{sid}/Messages.json",
            self.cfg.api_base.trim_end_matches('/')
        )
    }

    /// The form fields of a Create Message request, in the order they are sent.
    #[must_use]
    pub fn form(&self, to: &str, body: &str) -> Vec<(&'static str, String)> {
        self.form_from(to, body, None)
    }

    /// [`Self::form`] from a sender of its own (a centre's number, or its messaging service
    /// `MG…`) in place of the configured one.
    #[must_use]
    pub fn form_from(
        &self,
        to: &str,
        body: &str,
        sender: Option<&str>,
    ) -> Vec<(&'static str, String)> {
        let mut f = vec![("To", to.to_owned())];
        match sender {
            Some(ms) if ms.starts_with("MG") => f.push(("MessagingServiceSid", ms.to_owned())),
            Some(from) => f.push(("From", from.to_owned())),
            None => {
                if let Some(from) = &self.cfg.from {
                    f.push(("From", from.clone()));
                }
                if let Some(ms) = &self.cfg.messaging_service_sid {
                    f.push(("MessagingServiceSid", ms.clone()));
                }
            }
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
        self.create_message_as(to, body, None, None).await
    }

    /// [`Self::create_message`] from a sender of its own (see [`Self::form_from`]), through
    /// the centre's own account when it has one.
    ///
    /// # Errors
    /// Twilio's error, typed, or a transport failure.
    pub async fn create_message_as(
        &self,
        to: &str,
        body: &str,
        sender: Option<&str>,
        account: Option<&OwnAccount>,
    ) -> Result<Accepted, SendError> {
        let (sid, token) = self.credentials(account)?;
        let (status, bytes) = self
            .call(
                self.http
                    .post(self.messages_url(&sid))
                    .form(&self.form_from(to, body, sender)),
                (&sid, &token, account),
            )
            .await?;
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
        Err(api_error(status, &bytes))
    }

    /// The account, as Twilio describes it (Fetch Account): its status (`active`,
    /// `suspended`, `closed`). For `matters doctor`.
    ///
    /// # Errors
    /// Twilio's error (20003: the credentials are wrong), or a transport failure.
    pub async fn account_status(&self) -> Result<String, SendError> {
        self.account_status_as(None).await
    }

    /// [`Self::account_status`] of a centre's own account (none: the deployment's).
    ///
    /// # Errors
    /// Twilio's error (20003: the credentials are wrong), the token file unreadable, or a
    /// transport failure.
    pub async fn account_status_as(
        &self,
        account: Option<&OwnAccount>,
    ) -> Result<String, SendError> {
        #[derive(serde::Deserialize)]
        struct Account {
            status: Option<String>,
        }
        let (sid, token) = self.credentials(account)?;
        let url = format!(
            "{}/2010-04-01/Accounts/{sid}.json",
            self.cfg.api_base.trim_end_matches('/'),
        );
        let a: Account = self
            .get_json(url, "account", (&sid, &token, account))
            .await?;
        Ok(a.status.unwrap_or_default())
    }

    /// The SMS webhook Twilio has for our sending number (List IncomingPhoneNumber, filtered by
    /// the number): `Ok(None)` when the account has no such number.
    ///
    /// # Errors
    /// Twilio's error, or a transport failure.
    pub async fn number_sms_url(&self, number: &str) -> Result<Option<String>, SendError> {
        self.number_sms_url_as(number, None).await
    }

    /// [`Self::number_sms_url`] in a centre's own account (none: the deployment's).
    ///
    /// # Errors
    /// Twilio's error, the token file unreadable, or a transport failure.
    pub async fn number_sms_url_as(
        &self,
        number: &str,
        account: Option<&OwnAccount>,
    ) -> Result<Option<String>, SendError> {
        #[derive(serde::Deserialize)]
        struct Number {
            sms_url: Option<String>,
        }
        #[derive(serde::Deserialize)]
        struct Numbers {
            incoming_phone_numbers: Vec<Number>,
        }
        let (sid, token) = self.credentials(account)?;
        let mut url = url::Url::parse(&format!(
            "{}/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json",
            self.cfg.api_base.trim_end_matches('/'),
        ))
        .map_err(|e| SendError::Transport(format!("Twilio: bad URL ({e})")))?;
        url.query_pairs_mut()
            .append_pair("PhoneNumber", number)
            .append_pair("PageSize", "20");
        let page: Numbers = self
            .get_json(url, "number list", (&sid, &token, account))
            .await?;
        Ok(page
            .incoming_phone_numbers
            .into_iter()
            .next()
            .map(|n| n.sms_url.unwrap_or_default()))
    }

    /// A GET of one of Twilio's resources, read as `T`; `what` names it in the error.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: impl reqwest::IntoUrl,
        what: &str,
        credentials: (&str, &Secret, Option<&OwnAccount>),
    ) -> Result<T, SendError> {
        let (status, bytes) = self.call(self.http.get(url), credentials).await?;
        if !status.is_success() {
            return Err(api_error(status, &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|e| SendError::Provider {
            http: status.as_u16(),
            code: None,
            message: format!("unreadable {what} from Twilio: {e}"),
        })
    }

    /// Sends a request with an account's credentials; its status and body. When Twilio does
    /// not take a centre's token (401), its file is read again and, if it holds another token
    /// (rotated), the request is sent once more with it: a rotation needs no restart.
    async fn call(
        &self,
        req: reqwest::RequestBuilder,
        (sid, token, account): (&str, &Secret, Option<&OwnAccount>),
    ) -> Result<(reqwest::StatusCode, axum::body::Bytes), SendError> {
        let again = req.try_clone();
        let mut resp = req
            .basic_auth(sid, Some(token.expose()))
            .send()
            .await
            .map_err(|e| SendError::Transport(without_url(&e)))?;
        if resp.status() == reqwest::StatusCode::UNAUTHORIZED
            && let Some(a) = account
        {
            self.cfg.tokens.forget(&a.token_file);
            if let (Some(again), Ok(fresh)) = (again, self.cfg.tokens.get(&a.token_file))
                && fresh != *token
            {
                resp = again
                    .basic_auth(sid, Some(fresh.expose()))
                    .send()
                    .await
                    .map_err(|e| SendError::Transport(without_url(&e)))?;
            }
        }
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| SendError::Transport(without_url(&e)))?;
        Ok((status, bytes))
    }

    /// The query of a ListMessage request for messages from our sender to `to`, newest first.
    /// Through a messaging service the sender is one of its numbers: then by `To` alone.
    #[must_use]
    pub fn list_query(&self, to: &str) -> Vec<(&'static str, String)> {
        self.list_query_from(to, None)
    }

    /// [`Self::list_query`] for messages from a sender of its own (see [`Self::form_from`]).
    #[must_use]
    pub fn list_query_from(&self, to: &str, sender: Option<&str>) -> Vec<(&'static str, String)> {
        let mut q = vec![("To", to.to_owned())];
        match sender {
            Some(ms) if ms.starts_with("MG") => {}
            Some(from) => q.push(("From", from.to_owned())),
            None => {
                if self.cfg.messaging_service_sid.is_none()
                    && let Some(from) = &self.cfg.from
                {
                    q.push(("From", from.clone()));
                }
            }
        }
        q.push(("PageSize", "50".to_owned()));
        q
    }

    /// Messages Twilio holds that we sent to `to` with exactly `body`, created at `since` (ms)
    /// or later, oldest first. `date_created` is the filter, never `DateSent`: it stays empty
    /// while a message waits in Twilio's queue.
    ///
    /// # Errors
    /// Twilio's error, or a transport failure: then nobody knows, and nothing is sent again.
    pub async fn sent_since(
        &self,
        to: &str,
        body: &str,
        since: i64,
    ) -> Result<Vec<Accepted>, SendError> {
        self.sent_since_as(to, body, since, None, None).await
    }

    /// [`Self::sent_since`] from a sender of its own (see [`Self::form_from`]), in the
    /// centre's own account when it has one.
    ///
    /// # Errors
    /// Twilio's error, or a transport failure.
    pub async fn sent_since_as(
        &self,
        to: &str,
        body: &str,
        since: i64,
        sender: Option<&str>,
        account: Option<&OwnAccount>,
    ) -> Result<Vec<Accepted>, SendError> {
        let base = self.cfg.api_base.trim_end_matches('/').to_owned();
        let (sid, token) = self.credentials(account)?;
        let mut url = url::Url::parse(&self.messages_url(&sid))
            .map_err(|e| SendError::Transport(format!("Twilio: bad URL ({e})")))?;
        url.query_pairs_mut()
            .extend_pairs(self.list_query_from(to, sender));
        let mut found = Vec::new();
        for _ in 0..LOOKUP_PAGES {
            let (status, bytes) = self
                .call(self.http.get(url.clone()), (&sid, &token, account))
                .await?;
            if !status.is_success() {
                return Err(api_error(status, &bytes));
            }
            let page: MessagePage =
                serde_json::from_slice(&bytes).map_err(|e| SendError::Provider {
                    http: status.as_u16(),
                    code: None,
                    message: format!("unreadable message list from Twilio: {e}"),
                })?;
            let mut older = 0;
            let count = page.messages.len();
            for m in page.messages {
                let created = m
                    .date_created
                    .as_deref()
                    .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
                    .map(|d| d.timestamp_millis());
                let Some(created) = created else { continue };
                if created < since - CLOCK_SKEW_MS {
                    older += 1;
                    continue;
                }
                let outbound = m
                    .direction
                    .as_deref()
                    .is_some_and(|d| d.starts_with("outbound"));
                if outbound && m.body.as_deref() == Some(body) {
                    found.push((created, m.accepted()));
                }
            }
            // Newest first: a page that reached before `since` ends the search.
            let next = page.next_page_uri.filter(|_| older == 0 && count > 0);
            let Some(next) = next else { break };
            url = url::Url::parse(&format!("{base}{next}"))
                .map_err(|e| SendError::Transport(format!("Twilio: bad next page ({e})")))?;
        }
        found.sort_by_key(|(created, _)| *created);
        Ok(found.into_iter().map(|(_, a)| a).collect())
    }
}

fn api_error(status: reqwest::StatusCode, bytes: &[u8]) -> SendError {
    match serde_json::from_slice::<ApiError>(bytes) {
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

    fn sender_of(&self, m: &Outgoing) -> Option<String> {
        let account = m.account.as_ref().map_or(&self.cfg.account_sid, |a| &a.sid);
        m.from.as_ref().map(|f| format!("twilio:{account}:{f}"))
    }

    async fn send(&self, m: &Outgoing) -> Result<Accepted, SendError> {
        self.create_message_as(&m.address, &m.body, m.from.as_deref(), m.account.as_ref())
            .await
    }

    async fn lookup(&self, m: &Outgoing, since: i64) -> Result<Lookup, SendError> {
        self.sent_since_as(
            &m.address,
            &m.body,
            since,
            m.from.as_deref(),
            m.account.as_ref(),
        )
        .await
        .map(Lookup::Found)
    }
}
