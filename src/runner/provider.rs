//! What a provider tells us about a client outside their messages: an opt-out at the carrier
//! (Twilio 21610), a number that is not a phone number, a phone that keeps failing.

use super::effects::Effects;
use super::{RunError, Runner};
use crate::domain::{Channel, ClientId};
use crate::flow::def::Urgency;
use crate::flow::engine;
use crate::store::delivery::{self, Followup};

/// Failures in a row, all unreachable or filtered, before a navigator is asked to check.
pub const UNREACHABLE_AFTER: usize = 3;
const UNREACHABLE: &[&str] = &["30003", "30005", "30006", "30007"];

impl Runner {
    /// Acts on a message's final status when its error code means something for the record.
    pub async fn act_on_delivery(&self, channel: Channel, f: &Followup) -> Result<(), RunError> {
        let (Some(client), Some(code)) = (
            f.client.as_deref().and_then(|c| ClientId::parse(c).ok()),
            f.error_code.as_deref(),
        ) else {
            return Ok(());
        };
        match code {
            c if (c == "21610" && channel == Channel::Sms)
                || (c == "403" && channel == Channel::Telegram) =>
            {
                // Twilio: the recipient opted out at the carrier. Telegram: the client blocked
                // the bot (or deleted their account).
                self.provider_opt_out(
                    &client,
                    channel,
                    &format!("error {code}: the recipient has opted out"),
                )
                .await?;
                // What is still queued for them will not be sent (the claim skips it); say so.
                let now = crate::clock::to_ms(self.clock.now());
                delivery::suppress_opted_out(&self.db, channel.as_str(), now).await?;
                Ok(())
            }
            "21211" | "21614" => {
                if delivery::failing_streak(
                    &self.db,
                    client.as_str(),
                    channel.as_str(),
                    &[code],
                    1,
                    "wrong-number",
                )
                .await?
                {
                    let note = format!(
                        "{} refused the client's number ({code}: {}): check it with the client",
                        provider(channel),
                        crate::domain::twilio::explain(code.parse().unwrap_or(0))
                    );
                    self.provider_flag(&client, channel, "wrong-number", note)
                        .await?;
                }
                Ok(())
            }
            c if UNREACHABLE.contains(&c)
                && matches!(f.status.as_str(), "failed" | "undelivered") =>
            {
                if delivery::failing_streak(
                    &self.db,
                    client.as_str(),
                    channel.as_str(),
                    UNREACHABLE,
                    UNREACHABLE_AFTER,
                    "unreachable",
                )
                .await?
                {
                    let note = format!(
                        "the last {UNREACHABLE_AFTER} messages did not reach the client (latest {code}: {}): call them or check the number",
                        crate::domain::twilio::explain(code.parse().unwrap_or(0))
                    );
                    self.provider_flag(&client, channel, "unreachable", note)
                        .await?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The carrier says the client opted out: record it in the consent ledger, end their flow
    /// and cancel every pending job. Nothing is sent (it could not be).
    pub async fn provider_opt_out(
        &self,
        client: &ClientId,
        channel: Channel,
        why: &str,
    ) -> Result<(), RunError> {
        self.one(client, |_, loaded| {
            let mut fx = Effects::new(loaded);
            fx.channel = channel.as_str().to_owned();
            if let Some(active) = &loaded.session {
                let (state, events) = engine::interrupt(&active.state, "stopped");
                fx.session_update = Some(state);
                fx.current(events);
            }
            fx.cancel_all_jobs = true;
            if loaded.consent != "revoked" {
                fx.consent(
                    false,
                    "provider",
                    &format!("{}: {why}", provider(channel)),
                    provider(channel),
                );
            }
            Ok(Some(fx))
        })
        .await
        .map(|_| ())
    }

    async fn provider_flag(
        &self,
        client: &ClientId,
        channel: Channel,
        kind: &str,
        note: String,
    ) -> Result<(), RunError> {
        self.one(client, |_, loaded| {
            let mut fx = Effects::new(loaded);
            fx.channel = channel.as_str().to_owned();
            fx.flag(kind, Urgency::Normal, Some(note.clone()));
            fx.audit.push((
                "delivery-flag".into(),
                kind.to_owned(),
                provider(channel).to_owned(),
            ));
            Ok(Some(fx))
        })
        .await
        .map(|_| ())
    }
}

fn provider(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => "twilio",
        Channel::Telegram => "telegram",
        Channel::Simulator => "simulator",
    }
}
