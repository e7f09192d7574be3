//! SMS through Twilio: our own REST client, signed webhooks for inbound messages and status
//! callbacks, and what Twilio's statuses and error codes mean for the record.

pub mod client;
pub mod signature;

pub use client::{ApiError, Client, codes};

use crate::config::{Config, Secret, SenderKind};

/// A whole, checked Twilio configuration.
#[derive(Debug, Clone)]
pub struct TwilioConfig {
    pub account_sid: String,
    pub auth_token: Secret,
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    /// `https://api.twilio.com`, or a stand-in's URL.
    pub api_base: String,
    /// The base URL Twilio calls (webhooks, status callbacks), without a trailing slash.
    pub public_url: String,
    pub segments_per_second: Option<f64>,
    pub validity_period: Option<u32>,
    pub max_attempts: u32,
    pub backoff_ms: u64,
    pub concurrency: usize,
    /// A send's claim lapses after this long unrenewed (`[dispatch] lease_seconds`).
    pub send_lease: std::time::Duration,
    /// The auth tokens of centres with a Twilio account of their own, read from their files
    /// when first needed (shared by the dispatcher and the webhooks).
    pub tokens: TokenFiles,
}

impl TwilioConfig {
    /// The Twilio part of the configuration: `None` when none of it is set, an error naming
    /// what is missing or malformed when only part of it is.
    ///
    /// # Errors
    /// A message for the operator, naming the settings by their environment variables.
    pub fn from_config(cfg: &Config) -> Result<Option<Self>, String> {
        let t = &cfg.twilio;
        let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        let any = set(&t.account_sid)
            || set(&t.auth_token)
            || set(&t.from)
            || set(&t.messaging_service_sid);
        if !any {
            return Ok(None);
        }
        let mut missing = Vec::new();
        if !set(&t.account_sid) {
            missing.push("TWILIO_ACCOUNT_SID");
        }
        if !set(&t.auth_token) {
            missing.push("TWILIO_AUTH_TOKEN");
        }
        if !set(&t.from) && !set(&t.messaging_service_sid) {
            missing.push("TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID");
        }
        if !set(&cfg.public_url) {
            missing.push("MATTERS_PUBLIC_URL");
        }
        if !missing.is_empty() {
            return Err(format!(
                "Twilio is only partly configured: {} {} missing. Set all of TWILIO_ACCOUNT_SID, \
                 TWILIO_AUTH_TOKEN, TWILIO_FROM (or TWILIO_MESSAGING_SERVICE_SID) and \
                 MATTERS_PUBLIC_URL, or none of them to run without SMS.",
                missing.join(", "),
                if missing.len() == 1 { "is" } else { "are" }
            ));
        }
        let trimmed = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let account_sid = trimmed(&t.account_sid).unwrap_or_default();
        if !sid_like(&account_sid, "AC") {
            return Err("TWILIO_ACCOUNT_SID must be AC followed by 32 hexadecimal digits".into());
        }
        let messaging_service_sid = trimmed(&t.messaging_service_sid);
        if let Some(ms) = &messaging_service_sid
            && !sid_like(ms, "MG")
        {
            return Err(
                "TWILIO_MESSAGING_SERVICE_SID must be MG followed by 32 hexadecimal digits".into(),
            );
        }
        let from = trimmed(&t.from);
        if let Some(f) = &from
            && crate::domain::PhoneNumber::parse(f).is_err()
            && !(f.len() <= 11 && f.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(format!(
                "TWILIO_FROM {f:?} is neither a phone number in E.164 form (+15145550123) nor a \
                 short code or alphanumeric sender id"
            ));
        }
        let from = from
            .map(|f| crate::domain::PhoneNumber::parse(&f).map_or(f, |p| p.as_str().to_owned()));
        let public_url = trimmed(&cfg.public_url).unwrap_or_default();
        let parsed = url::Url::parse(&public_url).map_err(|e| {
            format!("MATTERS_PUBLIC_URL {public_url:?} is not a URL ({e}); give e.g. https://matters.example.org")
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
            return Err(format!(
                "MATTERS_PUBLIC_URL {public_url:?} must be an http(s) URL without a query"
            ));
        }
        let api_base = t.api_base.trim().trim_end_matches('/').to_owned();
        url::Url::parse(&api_base)
            .map_err(|e| format!("TWILIO_API_BASE {api_base:?} is not a URL ({e})"))?;
        let segments_per_second = match t.segments_per_second {
            Some(r) if r.is_nan() || r < 0.0 => {
                return Err("twilio.segments_per_second must be 0 (unpaced) or more".into());
            }
            Some(r) if r <= 0.0 => None,
            Some(r) => Some(r),
            None => Some(t.sender_kind.segments_per_second()),
        };
        Ok(Some(Self {
            account_sid,
            auth_token: Secret::new(trimmed(&t.auth_token).unwrap_or_default()),
            from,
            messaging_service_sid,
            api_base,
            public_url: public_url.trim_end_matches('/').to_owned(),
            segments_per_second,
            validity_period: t.validity_period,
            max_attempts: t.max_attempts.max(1),
            backoff_ms: t.backoff_ms,
            concurrency: t.concurrency.max(1),
            send_lease: std::time::Duration::from_secs(u64::from(
                cfg.dispatch.lease_seconds.max(1),
            )),
            tokens: TokenFiles::default(),
        }))
    }

    /// How the dispatcher paces and retries for this account.
    #[must_use]
    pub fn dispatch_settings(&self) -> crate::channel::SendSettings {
        crate::channel::SendSettings {
            segments_per_second: self.segments_per_second,
            max_attempts: self.max_attempts,
            backoff: std::time::Duration::from_millis(self.backoff_ms),
            concurrency: self.concurrency,
            poll: std::time::Duration::from_secs(1),
            per_address: None,
            lease: self.send_lease,
            sender: format!(
                "twilio:{}:{}",
                self.account_sid,
                self.messaging_service_sid
                    .as_deref()
                    .or(self.from.as_deref())
                    .unwrap_or_default()
            ),
        }
    }

    /// The URL Twilio calls for `path` (which starts with `/`).
    #[must_use]
    pub fn webhook_url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    /// How `matters serve` names this channel at start-up (no secrets).
    #[must_use]
    pub fn describe(&self) -> String {
        let sender = match (&self.messaging_service_sid, &self.from) {
            (Some(ms), _) => format!("messaging service {ms}"),
            (None, Some(f)) => format!("from {f}"),
            (None, None) => String::new(),
        };
        let pace = self
            .segments_per_second
            .map_or_else(|| "unpaced".to_owned(), |r| format!("{r} segment(s)/s"));
        format!(
            "sms (Twilio, {sender}, {pace}; webhooks {0}/webhooks/twilio/sms and {0}/webhooks/twilio/status)",
            self.public_url
        )
    }
}

/// Reads a centre's Twilio auth token from its file: see [`crate::config::read_secret_file`].
///
/// # Errors
/// What is wrong with the file, in words for an administrator (never its content).
pub fn read_token_file(path: &str) -> Result<Secret, String> {
    crate::config::read_secret_file(path, "auth token")
}

/// Centres' auth tokens, read from their files when first needed and kept, by file; a token
/// Twilio refuses is forgotten, so that its file is read again (a rotated token).
#[derive(Debug, Clone, Default)]
pub struct TokenFiles(std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Secret>>>);

impl TokenFiles {
    fn map(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Secret>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The token in `path`.
    ///
    /// # Errors
    /// See [`read_token_file`].
    pub fn get(&self, path: &str) -> Result<Secret, String> {
        if let Some(t) = self.map().get(path) {
            return Ok(t.clone());
        }
        let t = read_token_file(path)?;
        self.map().insert(path.to_owned(), t.clone());
        Ok(t)
    }

    /// Reads `path` again when next asked.
    pub fn forget(&self, path: &str) {
        self.map().remove(path);
    }
}

/// Whether `s` is a Twilio account SID (AC and 32 hexadecimal digits).
#[must_use]
pub fn account_sid_like(s: &str) -> bool {
    sid_like(s, "AC")
}

fn sid_like(s: &str, prefix: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].chars().all(|c| c.is_ascii_hexdigit())
}

impl SenderKind {
    /// Twilio's documented default throughput for the kind of number.
    #[must_use]
    pub fn segments_per_second(self) -> f64 {
        match self {
            Self::LongCode => 1.0,
            Self::TollFree => 3.0,
            Self::ShortCode => 100.0,
        }
    }
}

pub use crate::domain::twilio::{explain, status_rank};
