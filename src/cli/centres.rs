//! `matters centres …`: the centres one deployment serves — list them, add one, say whether its
//! de-identified figures go into the group's report, and write that report.

use crate::centres::{self, NewCentre};
use crate::clock::Clock;
use crate::config::Config;
use clap::Subcommand;
use std::path::PathBuf;
use std::sync::Arc;

const ACTOR: &str = "cli";

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once, from the command line
pub enum CentresCommand {
    /// List the centres (the default one is today's configuration).
    List,
    /// Add a centre. Then add its staff (`matters staff add NAME --centre CODE`) and its API
    /// tokens (`matters staff token NAME --centre CODE`).
    Add {
        /// A short code for it: letters, digits and dashes (north-end).
        code: String,
        /// Its name as clients and staff know it.
        #[arg(long)]
        name: String,
        /// Its IANA time zone (America/Toronto).
        #[arg(long)]
        time_zone: String,
        /// The language new clients get unless they choose (en, fr…).
        #[arg(long, default_value = "en")]
        default_language: String,
        /// The languages it offers, comma-separated (default: every language of the deployment).
        #[arg(long, value_delimiter = ',')]
        languages: Vec<String>,
        /// When texts may go, like 09:00-20:00 (default: the deployment's [schedule] send_between).
        #[arg(long)]
        send_between: Option<String>,
        /// Days no text goes, comma-separated YYYY-MM-DD.
        #[arg(long, value_delimiter = ',')]
        holidays: Vec<String>,
        /// Its own Twilio number (E.164); texts to it are its clients'.
        #[arg(long)]
        twilio_from: Option<String>,
        /// Or its own Twilio messaging service (MG…).
        #[arg(long)]
        messaging_service: Option<String>,
        /// Its own Twilio account (AC…), when its number or messaging service is not in the
        /// deployment's account; needs --twilio-auth-token-file.
        #[arg(long, requires = "twilio_auth_token_file")]
        twilio_account_sid: Option<String>,
        /// The file holding that account's auth token, by its full path, readable by the
        /// service's user only (chmod 600). The token itself is never stored in the database.
        #[arg(long, requires = "twilio_account_sid")]
        twilio_auth_token_file: Option<PathBuf>,
        /// Its Telegram bot's user name.
        #[arg(long)]
        telegram_bot: Option<String>,
        /// The file holding its own Telegram bot's token (from @BotFather), readable by the
        /// service's user only (chmod 600); its clients then talk to that bot. Read at `serve`.
        #[arg(long)]
        telegram_token_file: Option<PathBuf>,
        /// Where its alerts go when nobody is on call.
        #[arg(long)]
        alert_email: Option<String>,
        /// Minutes before an unacknowledged crisis alert goes on to the next people (default:
        /// the deployment's [alerts] crisis_escalate_minutes).
        #[arg(long)]
        crisis_escalate_minutes: Option<u32>,
        /// The same for urgent alerts (default: [alerts] urgent_escalate_minutes).
        #[arg(long)]
        urgent_escalate_minutes: Option<u32>,
        /// It agrees to its de-identified figures in the group's report.
        #[arg(long)]
        shares_figures: bool,
        /// The flows its staff may start, comma-separated (default: every flow; consent is
        /// always offered).
        #[arg(long, value_delimiter = ',')]
        flows: Vec<String>,
        /// The follow-up sequences its staff may enrol clients in, comma-separated (default:
        /// every sequence).
        #[arg(long, value_delimiter = ',')]
        sequences: Vec<String>,
    },
    /// Say whether a centre's de-identified figures go into the group's report.
    Share {
        /// The centre's code.
        code: String,
        /// Stop sharing them.
        #[arg(long)]
        off: bool,
    },
    /// Write the group's report: the de-identified figures of the centres that share them,
    /// pooled, small cells suppressed (CSV).
    Report {
        /// The file to write (readable by its owner only); default: standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// A file given on the command line, by its full path: `serve` may start elsewhere.
fn full_path(p: PathBuf) -> String {
    std::path::absolute(&p)
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

/// A centre's code given on the command line, if there is a centre by that code.
pub(crate) async fn known(db: &crate::store::Db, code: &str) -> anyhow::Result<String> {
    let code = code.trim().to_lowercase();
    match centres::get(db, &code).await? {
        Some(c) => Ok(c.id),
        None => anyhow::bail!("there is no centre {code:?} (see `matters centres list`)"),
    }
}

pub async fn run(
    cfg: &Config,
    clock: Arc<dyn Clock>,
    command: CentresCommand,
) -> anyhow::Result<i32> {
    let db = crate::app::connect(cfg).await?;
    db.migrate().await?;
    centres::sync_default(&db, &crate::app::default_centre(cfg)).await?;
    let now = crate::clock::to_ms(clock.now());
    match command {
        CentresCommand::List => {
            for c in centres::list(&db).await? {
                let sender = c
                    .twilio_from
                    .as_deref()
                    .or(c.twilio_messaging_service.as_deref())
                    .unwrap_or("-");
                println!(
                    "{:<16} {:<30} {:<20} {:<14} {}",
                    c.id,
                    c.name,
                    c.time_zone,
                    sender,
                    if c.shares_figures {
                        "shares figures"
                    } else {
                        "does not share"
                    }
                );
            }
        }
        CentresCommand::Add {
            code,
            name,
            time_zone,
            default_language,
            languages,
            send_between,
            holidays,
            twilio_from,
            messaging_service,
            twilio_account_sid,
            twilio_auth_token_file,
            telegram_bot,
            telegram_token_file,
            alert_email,
            crisis_escalate_minutes,
            urgent_escalate_minutes,
            shares_figures,
            flows,
            sequences,
        } => {
            let new = NewCentre {
                id: code,
                name,
                time_zone,
                send_between,
                holidays,
                languages,
                default_language,
                twilio_from,
                twilio_messaging_service: messaging_service,
                twilio_account_sid,
                twilio_auth_token_file: twilio_auth_token_file.map(full_path),
                telegram_bot,
                telegram_token_file: telegram_token_file.map(full_path),
                alert_email,
                crisis_escalate_minutes,
                urgent_escalate_minutes,
                shares_figures,
                flows,
                sequences,
            }
            .checked()?;
            let (content, _) = crate::app::load_content(cfg);
            new.check_offer(&content.flows, &content.sequences)?;
            let c = centres::add(&db, new, ACTOR, now).await?;
            println!("added centre {} ({})", c.id, c.name);
            if c.telegram_token_file.is_some() {
                println!(
                    "its clients talk to its own Telegram bot from the next start of matters serve"
                );
            }
            if let Some(acc) = &c.twilio_account_sid {
                println!(
                    "it sends through its own Twilio account {acc}: point its number's webhooks at \
                     {0}/webhooks/twilio/sms (messages) and {0}/webhooks/twilio/status",
                    cfg.public_url.as_deref().unwrap_or("MATTERS_PUBLIC_URL")
                );
            }
            println!(
                "add its first administrator: matters staff add NAME --role admin --centre {}",
                c.id
            );
        }
        CentresCommand::Share { code, off } => {
            centres::set_sharing(&db, &code, !off, ACTOR, now).await?;
            println!(
                "{code} {} its de-identified figures with the group",
                if off { "no longer shares" } else { "shares" }
            );
        }
        CentresCommand::Report { out } => {
            let tz = cfg.time_zone.parse().unwrap_or(chrono_tz::UTC);
            let r = centres::group_report(&db, tz).await?;
            let bytes = centres::group_csv(&r)?;
            crate::store::record::audit_one(
                &db,
                now,
                ACTOR,
                "group-report",
                None,
                &format!("{} centres sharing", r.sharing.len()),
            )
            .await?;
            match out {
                Some(p) => crate::cli::export::write_private(&p, &bytes)?,
                None => std::io::Write::write_all(&mut std::io::stdout(), &bytes)?,
            }
        }
    }
    Ok(0)
}
