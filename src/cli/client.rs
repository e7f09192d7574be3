//! `matters client …`: enrol a client, start a flow for them, read the inbox of texts from
//! unknown numbers. Until the navigators' web exists, this is how a centre does it by hand.
//! Queued messages leave through the running `matters serve`.

use crate::clock::{Clock, to_ms};
use crate::config::Config;
use crate::domain::{Channel, ClientId, Locale, PhoneNumber};
use crate::runner::IfBusy;
use crate::store::record::{self, NewClient, NewReferral};
use std::sync::Arc;

#[derive(Debug, clap::Subcommand)]
pub enum ClientCommand {
    /// Enrol a client: with --phone they are texted by SMS, otherwise they use the simulator.
    Add {
        id: String,
        /// Their mobile number (E.164, or a North American number as written).
        #[arg(long)]
        phone: Option<String>,
        #[arg(long, default_value = "en")]
        language: String,
        /// The program they were referred to, as they know it.
        #[arg(long)]
        program: Option<String>,
        /// Start this flow right away (usually consent).
        #[arg(long)]
        start: Option<String>,
    },
    /// Start a flow for a client.
    Start {
        id: String,
        flow: String,
        /// baseline, 6-week, 3-month…
        #[arg(long)]
        time_point: Option<String>,
    },
    /// Texts from numbers that match no client, newest first (the view is audited).
    Unmatched,
    /// A one-time Telegram link for a client: when they open it and press Start, their chat is
    /// linked and the consent flow begins. Earlier unused links of the client stop working.
    Invite {
        id: String,
        /// Hours the link stays valid (default: telegram.invite_hours, 72).
        #[arg(long)]
        hours: Option<u32>,
    },
}

const ACTOR: &str = "cli";

pub async fn run(cfg: &Config, clock: Arc<dyn Clock>, cmd: ClientCommand) -> anyhow::Result<i32> {
    let runner = crate::app::build(cfg, clock).await?;
    let now = to_ms(runner.clock.now());
    match cmd {
        ClientCommand::Add {
            id,
            phone,
            language,
            program,
            start,
        } => {
            let client = ClientId::parse(&id)?;
            let (channel, address) = match phone {
                Some(p) => (Channel::Sms, PhoneNumber::parse(&p)?.to_string()),
                None => (Channel::Simulator, client.to_string()),
            };
            let new = NewClient {
                id: client.clone(),
                language: runner.catalog.negotiate(&Locale::parse(&language)?),
                time_zone: runner.centre.time_zone,
                chart_number: None,
                channel,
                address: address.clone(),
            };
            if !record::add_client(&runner.db, &new, now, ACTOR).await? {
                anyhow::bail!("client {client} already exists");
            }
            if program.is_some() {
                let r = NewReferral {
                    program,
                    ..NewReferral::default()
                };
                record::add_referral(&runner.db, &client, &r, now, ACTOR).await?;
            }
            println!("enrolled {client} ({channel} {address})");
            if let Some(flow) = start {
                start_flow(&runner, &client, &flow, None).await?;
            }
        }
        ClientCommand::Start {
            id,
            flow,
            time_point,
        } => {
            start_flow(
                &runner,
                &ClientId::parse(&id)?,
                &flow,
                time_point.as_deref(),
            )
            .await?;
        }
        ClientCommand::Invite { id, hours } => {
            let Some(t) = crate::channel::telegram::TelegramConfig::from_config(cfg)
                .map_err(anyhow::Error::msg)?
            else {
                anyhow::bail!("Telegram is off: set TELEGRAM_BOT_TOKEN first");
            };
            let me = teloxide::prelude::Requester::get_me(&t.bot())
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "Telegram: getMe failed ({})",
                        crate::channel::telegram::describe_error(&e)
                    )
                })?;
            let username = me.username.clone().unwrap_or_default();
            let client = ClientId::parse(&id)?;
            let hours = hours.unwrap_or(t.invite_hours).max(1);
            let invite =
                crate::channel::telegram::invite::create(&runner.db, &client, hours, now, ACTOR)
                    .await?;
            println!("{}", invite.link(&username));
            println!(
                "valid until {} for {client}, once",
                crate::clock::from_ms(invite.expires_at)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
        }
        ClientCommand::Unmatched => {
            let list = crate::store::delivery::unmatched(&runner.db, 100, now, ACTOR).await?;
            if list.is_empty() {
                println!("no texts from unknown numbers");
            }
            for m in list {
                println!(
                    "{}  {} {}: {}",
                    crate::clock::from_ms(m.at).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    m.channel,
                    m.address,
                    m.body
                );
            }
        }
    }
    runner.db.close().await;
    Ok(0)
}

async fn start_flow(
    runner: &crate::runner::Runner,
    client: &ClientId,
    flow: &str,
    time_point: Option<&str>,
) -> anyhow::Result<()> {
    let flow = super::known_flow(runner, flow)?;
    let h = runner
        .start_flow(client, &flow, time_point, IfBusy::Refuse, ACTOR)
        .await?;
    println!(
        "started {flow} for {client}: {} message(s) queued; `matters serve` sends them",
        h.replies.len()
    );
    Ok(())
}
