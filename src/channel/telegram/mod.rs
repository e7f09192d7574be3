//! Telegram through teloxide (DESIGN §5): a navigator's one-time invite links a chat to a
//! client; questions with a short list of answers go out with an inline keyboard; updates come
//! by long polling (the default) or by webhook, and each is handled once, in order, across
//! restarts. A client who blocks the bot is opted out in the consent ledger.

pub mod invite;
mod transport;

pub use transport::{Sender, callback_data, keyboard, parse_callback};

use crate::config::{Config, Secret};
use std::time::Duration;
use teloxide::Bot;
use url::Url;

/// Where Telegram's webhook posts go (a path under it will do too).
pub const WEBHOOK_PATH: &str = "/webhooks/telegram";

/// A checked Telegram configuration.
#[derive(Debug, Clone)]
pub struct TelegramConfig {
    pub token: Secret,
    pub api_url: Url,
    /// The public URL and the secret Telegram must send with each update.
    pub webhook: Option<(Url, Secret)>,
    pub invite_hours: u32,
    pub messages_per_second: f64,
    pub chat_interval: Duration,
    pub max_attempts: u32,
    pub backoff: Duration,
    pub poll_timeout: u32,
    /// A send's claim lapses after this long unrenewed (`[dispatch] lease_seconds`).
    pub send_lease: Duration,
}

impl TelegramConfig {
    /// `None` when no bot token is set: Telegram is off.
    ///
    /// # Errors
    /// A malformed token, URL or secret, or a webhook without its secret.
    pub fn from_config(cfg: &Config) -> Result<Option<Self>, String> {
        let t = &cfg.telegram;
        let Some(token) = t
            .bot_token
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            if t.webhook_url.is_some() {
                return Err("TELEGRAM_WEBHOOK_URL is set but TELEGRAM_BOT_TOKEN is not".into());
            }
            return Ok(None);
        };
        if !token_like(token) {
            return Err(
                "TELEGRAM_BOT_TOKEN must look like 123456789:AAE… (the token @BotFather gave)"
                    .into(),
            );
        }
        let api_url = Url::parse(t.api_url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| format!("TELEGRAM_API_URL {:?} is not an http(s) URL", t.api_url))?;
        let webhook = match t
            .webhook_url
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(u) => {
                let url = Url::parse(u)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                    .ok_or_else(|| format!("TELEGRAM_WEBHOOK_URL {u:?} is not an http(s) URL"))?;
                // The route is served beside ours: keep it under its own prefix.
                if !url.path().starts_with(WEBHOOK_PATH) {
                    return Err(format!(
                        "TELEGRAM_WEBHOOK_URL must end in {WEBHOOK_PATH} (or a path under it), as in https://matters.example.org{WEBHOOK_PATH}"
                    ));
                }
                let secret = t
                    .webhook_secret
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .ok_or("TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET: Telegram sends it back with every update, and updates without it are refused")?;
                if !secret_like(secret) {
                    return Err("TELEGRAM_WEBHOOK_SECRET must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -".into());
                }
                Some((url, Secret::new(secret.to_owned())))
            }
        };
        if !(t.messages_per_second > 0.0 && t.messages_per_second.is_finite()) {
            return Err("telegram.messages_per_second must be above 0".into());
        }
        Ok(Some(Self {
            token: Secret::new(token.to_owned()),
            api_url,
            webhook,
            invite_hours: t.invite_hours.max(1),
            messages_per_second: t.messages_per_second,
            chat_interval: Duration::from_millis(t.chat_interval_ms),
            max_attempts: t.max_attempts.max(1),
            backoff: Duration::from_millis(t.backoff_ms),
            poll_timeout: t.poll_timeout.min(15),
            send_lease: Duration::from_secs(u64::from(cfg.dispatch.lease_seconds.max(1))),
        }))
    }

    /// A Bot API client for this bot.
    /// The same settings for a centre's own bot: its token, and its webhook (if webhooks are
    /// on) at the deployment's webhook URL followed by `/<centre>`.
    #[must_use]
    pub fn for_centre(&self, centre: &str, token: Secret) -> Self {
        let mut t = self.clone();
        t.token = token;
        if let Some((url, _)) = &mut t.webhook {
            let path = format!("{}/{centre}", url.path().trim_end_matches('/'));
            url.set_path(&path);
        }
        t
    }

    pub fn bot(&self) -> Bot {
        Bot::new(self.token.expose()).set_api_url(self.api_url.clone())
    }

    /// At most `messages_per_second` for the bot and one per `chat_interval` (a second) per
    /// chat, in order; replies first (the claim's order).
    #[must_use]
    pub fn dispatch_settings(&self) -> crate::channel::SendSettings {
        crate::channel::SendSettings {
            segments_per_second: Some(self.messages_per_second),
            max_attempts: self.max_attempts,
            backoff: self.backoff,
            concurrency: 16,
            poll: Duration::from_secs(1),
            per_address: Some(self.chat_interval),
            lease: self.send_lease,
            sender: format!("telegram:{}", bot_id(self.token.expose())),
        }
    }

    /// What `matters serve` prints.
    #[must_use]
    pub fn describe(&self, username: &str) -> String {
        match &self.webhook {
            Some((url, _)) => format!(
                "channels: telegram (@{username}, webhook {url}; invites: matters client invite <id>)"
            ),
            None => format!(
                "channels: telegram (@{username}, long polling; invites: matters client invite <id>)"
            ),
        }
    }
}

/// Whether `t` looks like a bot token @BotFather gives (`123456789:AAE…`).
#[must_use]
pub fn token_like(t: &str) -> bool {
    t.split_once(':').is_some_and(|(id, rest)| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_digit())
            && !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

fn secret_like(s: &str) -> bool {
    (1..=256).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A Bot API error in words, never with the request's URL (it holds the token).
#[must_use]
pub fn describe_error(e: &teloxide::RequestError) -> String {
    transport::send_error(e).to_string()
}

/// The bot's numeric id: the part of the token before the colon.
#[must_use]
pub fn bot_id(token: &str) -> i64 {
    token
        .split_once(':')
        .and_then(|(id, _)| id.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TelegramSettings;

    fn cfg(t: TelegramSettings) -> Config {
        Config {
            telegram: t,
            ..Config::default()
        }
    }

    #[test]
    fn no_token_is_no_telegram_and_a_bad_one_is_an_error() {
        assert!(
            TelegramConfig::from_config(&Config::default())
                .unwrap()
                .is_none()
        );
        for bad in ["nonsense", "123:", ":abc", "12a:abc", "123:ab c"] {
            let c = cfg(TelegramSettings {
                bot_token: Some(bad.into()),
                ..TelegramSettings::default()
            });
            assert!(TelegramConfig::from_config(&c).is_err(), "{bad}");
        }
        let c = cfg(TelegramSettings {
            bot_token: Some("123456:AAE-x_y".into()),
            ..TelegramSettings::default()
        });
        let t = TelegramConfig::from_config(&c).unwrap().unwrap();
        assert!(t.webhook.is_none());
        assert_eq!(bot_id(t.token.expose()), 123_456);
        assert!(t.describe("centre_bot").contains("long polling"));
    }

    #[test]
    fn a_centres_bot_has_its_token_and_a_webhook_of_its_own() {
        let c = cfg(TelegramSettings {
            bot_token: Some("123456:AAE".into()),
            webhook_url: Some("https://matters.example.org/webhooks/telegram".into()),
            webhook_secret: Some("s3cret".into()),
            ..TelegramSettings::default()
        });
        let t = TelegramConfig::from_config(&c).unwrap().unwrap();
        let west = t.for_centre("west", Secret::new("987654:BBF".into()));
        assert_eq!(bot_id(west.token.expose()), 987_654);
        assert_eq!(
            west.webhook.as_ref().unwrap().0.as_str(),
            "https://matters.example.org/webhooks/telegram/west"
        );
        assert_eq!(
            bot_id(t.token.expose()),
            123_456,
            "the deployment's is unchanged"
        );
    }

    #[test]
    fn a_webhook_needs_a_well_formed_secret() {
        let base = TelegramSettings {
            bot_token: Some("123456:AAE".into()),
            webhook_url: Some("https://matters.example.org/webhooks/telegram".into()),
            ..TelegramSettings::default()
        };
        let err = TelegramConfig::from_config(&cfg(base.clone())).unwrap_err();
        assert!(err.contains("TELEGRAM_WEBHOOK_SECRET"), "{err}");
        let bad = TelegramSettings {
            webhook_secret: Some("has spaces".into()),
            ..base.clone()
        };
        assert!(TelegramConfig::from_config(&cfg(bad)).is_err());
        let clash = TelegramSettings {
            webhook_url: Some("https://matters.example.org/healthz".into()),
            webhook_secret: Some("ok".into()),
            ..base.clone()
        };
        let err = TelegramConfig::from_config(&cfg(clash)).unwrap_err();
        assert!(err.contains("/webhooks/telegram"), "{err}");
        let good = TelegramSettings {
            webhook_secret: Some("s3cret_-X".into()),
            ..base
        };
        let t = TelegramConfig::from_config(&cfg(good)).unwrap().unwrap();
        assert!(
            t.describe("centre_bot")
                .contains("webhook https://matters.example.org")
        );
        assert!(!format!("{t:?}").contains("s3cret"));
    }
}
