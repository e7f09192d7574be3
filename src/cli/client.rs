//! `matters clients …`: add and import clients, enrol them in follow-up sequences, pause, resume,
//! cancel or reschedule their steps, start a flow, read the inbox of texts from unknown numbers.
//! Each is a library function (`enrolment::actions`) that the web uses too. Queued messages and
//! due steps go out through the running `matters serve`.

use crate::clock::{Clock, to_ms};
use crate::config::Config;
use crate::domain::ClientId;
use crate::enrolment::actions;
use crate::runner::IfBusy;
use std::sync::Arc;

#[derive(Debug, clap::Subcommand)]
pub enum ClientCommand {
    /// Add a client: with --phone they are texted by SMS; without one nothing reaches them until
    /// a number is set (`clients phone`) or a Telegram invite is used (`clients invite`).
    Add {
        /// The client's id, as the record shows it (e.g. bea).
        id: String,
        /// Their mobile number (E.164, or a North American number as written).
        #[arg(long)]
        phone: Option<String>,
        /// Their language (en, fr, or another enabled language).
        #[arg(long, default_value = "en")]
        language: String,
        /// Their time zone (default: the centre's), e.g. America/Winnipeg.
        #[arg(long)]
        time_zone: Option<String>,
        /// Their own window for scheduled messages, e.g. 10:00-18:00 (default: the centre's).
        #[arg(long)]
        send_between: Option<String>,
        /// The program they were referred to, as they know it.
        #[arg(long)]
        program: Option<String>,
        /// The referral date, YYYY-MM-DD (default: today).
        #[arg(long)]
        referred_on: Option<String>,
        /// Enrol them in this follow-up sequence (standard, light).
        #[arg(long)]
        sequence: Option<String>,
        /// Start this flow right away (usually consent).
        #[arg(long)]
        start: Option<String>,
        /// The time point of the flow --start starts: baseline, 3-month, 6-month (default: ad
        /// hoc; its answers are in the evaluation as ad hoc).
        #[arg(long, requires = "start")]
        time_point: Option<String>,
    },
    /// Add clients from a CSV file with a header row (id, phone, language, time_zone,
    /// send_between, chart_number, program, referred_on, reasons, sequence). Bad rows are
    /// reported and skipped; clients already there are left alone, so it is safe to run again.
    Import {
        /// The CSV file.
        file: std::path::PathBuf,
    },
    /// Import health-system use for the evaluation's before-and-after, from a CSV with the
    /// header client,period,primary_care,ed_visits,admissions (period: before or after the
    /// referral). Bad rows are reported and skipped; a client's period imported again is replaced.
    HealthUse {
        /// The CSV file.
        file: std::path::PathBuf,
    },
    /// Enrol a client in a follow-up sequence.
    Enrol {
        /// The client's id, as the record shows it (e.g. bea).
        id: String,
        /// The sequence (standard, light, signposting, holistic).
        sequence: String,
    },
    /// Hold a client's scheduled steps until resumed.
    Pause {
        /// The client's id, as the record shows it (e.g. bea).
        id: String,
    },
    /// Let a paused client's steps go again.
    Resume {
        /// The client's id, as the record shows it (e.g. bea).
        id: String,
    },
    /// End a client's follow-up: every step still to come is cancelled.
    Cancel {
        /// The client's id, as the record shows it (e.g. bea).
        id: String,
        /// Why, in a few words (kept on the record).
        #[arg(long, default_value = "navigator's decision")]
        reason: String,
    },
    /// Close the client's referral with a reason; check-ins that run until then stop.
    CloseReferral {
        /// The client's id, as the record shows it (e.g. bea).
        id: String,
        /// The closing reason: goal-met, declined, dropped-out, moved, other.
        #[arg(long)]
        reason: String,
    },
    /// Move the next occurrence of a step to a local time, e.g. "2026-12-01 10:00".
    Reschedule {
        /// The client's id, as the record shows it (e.g. bea).
        id: String,
        /// The step of their sequence, as `clients timeline` names it.
        step: String,
        /// The new local time, "YYYY-MM-DD HH:MM" in the client's time zone.
        at: String,
    },
    /// The client's scheduled steps, past and to come (the view is audited).
    Timeline {
        /// The client's id, as the record shows it (e.g. bea).
        id: String,
    },
    /// Everything held about a client, for their request to see it (PHIPA): writes
    /// <id>-record.json and a readable <id>-record.html (owner-only) into --out. Audited.
    Export {
        /// The client's id, as the record shows it (e.g. bea).
        id: String,
        /// The directory to write into (created if missing).
        #[arg(long, default_value = ".")]
        out: std::path::PathBuf,
    },
    /// Start a flow for a client now.
    #[command(name = "start-flow", visible_alias = "start")]
    StartFlow {
        /// The client's id, as the record shows it (e.g. bea).
        id: String,
        /// The flow (consent, loneliness, wellbeing…).
        flow: String,
        /// baseline, 3-month, 6-month, weekly (default: ad hoc).
        #[arg(long)]
        time_point: Option<String>,
    },
    /// Texts from numbers that match no client, newest first (the view is audited).
    Unmatched,
    /// Give a client a mobile number (or a new one): SMS reaches them from now on.
    Phone {
        /// The client's id, as the record shows it (e.g. bea).
        id: String,
        /// E.164, or a North American number as written.
        number: String,
    },
    /// A one-time Telegram link for a client: when they open it and press Start, their chat is
    /// linked and the consent flow begins. Earlier unused links of the client stop working.
    Invite {
        /// The client's id, as the record shows it (e.g. bea).
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
            time_zone,
            send_between,
            program,
            referred_on,
            sequence,
            start,
            time_point,
        } => {
            let spec = actions::ClientSpec {
                id,
                phone,
                language,
                time_zone,
                send_between,
                program,
                referred_on,
                sequence: sequence.clone(),
                ..actions::ClientSpec::default()
            };
            let checked = actions::check(&runner, &spec).map_err(anyhow::Error::msg)?;
            let client = checked.client.id.clone();
            let checked = actions::Checked {
                sequence: None,
                ..checked
            };
            if actions::add(&runner, &checked, ACTOR).await? == actions::Added::Existing {
                anyhow::bail!("client {client} already exists");
            }
            match &checked.client.reach {
                Some((channel, address)) => println!(
                    "added {client} ({channel} {address}, {})",
                    checked.client.time_zone
                ),
                None => println!(
                    "added {client} ({}; no phone or Telegram yet: nothing reaches them until one is added, e.g. `matters clients invite {client}`)",
                    checked.client.time_zone
                ),
            }
            if let Some(seq) = sequence {
                print_enrolled(&actions::enrol(&runner, &client, &seq, ACTOR).await?);
            }
            if let Some(flow) = start {
                start_flow(&runner, &client, &flow, time_point.as_deref()).await?;
            }
        }
        ClientCommand::HealthUse { file } => {
            let f = std::fs::File::open(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let now = crate::clock::to_ms(runner.clock.now());
            let report = crate::health_use::import(&runner.db, f, ACTOR, now).await?;
            for (line, why) in &report.errors {
                eprintln!("{}:{line}: {why}", file.display());
            }
            println!(
                "{} rows imported, {} refused",
                report.imported,
                report.errors.len()
            );
            if !report.errors.is_empty() {
                return Ok(1);
            }
        }
        ClientCommand::Import { file } => {
            let f = std::fs::File::open(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let rows = std::fs::read_to_string(&file)
                .map(|t| t.lines().count().saturating_sub(1))
                .unwrap_or(0);
            let bar = indicatif::ProgressBar::new(rows as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let report = actions::import(&runner, f, ACTOR, |n| bar.set_position(n)).await;
            bar.finish_and_clear();
            let report = report?;
            println!(
                "{} added, {} already there, {} rejected",
                report.added,
                report.already,
                report.rejected.len()
            );
            for (line, why) in &report.rejected {
                println!("  line {line}: {why}");
            }
        }
        ClientCommand::Enrol { id, sequence } => {
            let client = ClientId::parse(&id)?;
            print_enrolled(&actions::enrol(&runner, &client, &sequence, ACTOR).await?);
        }
        ClientCommand::Pause { id } => {
            let n = actions::pause(&runner, &ClientId::parse(&id)?, ACTOR).await?;
            println!("paused {id}: {n} step(s) on hold");
        }
        ClientCommand::Resume { id } => {
            let n = actions::resume(&runner, &ClientId::parse(&id)?, ACTOR).await?;
            println!("resumed {id}: {n} step(s) back on schedule");
        }
        ClientCommand::Cancel { id, reason } => {
            let n = actions::cancel(&runner, &ClientId::parse(&id)?, &reason, ACTOR).await?;
            println!("cancelled the follow-up of {id}: {n} step(s) will not go out");
        }
        ClientCommand::Reschedule { id, step, at } => {
            let local = crate::schedule::time::parse_local(&at).map_err(anyhow::Error::msg)?;
            let client = ClientId::parse(&id)?;
            let (_, when) = actions::reschedule(&runner, &client, &step, local, ACTOR).await?;
            println!("{step} of {id} is now due {when}");
        }
        ClientCommand::CloseReferral { id, reason } => {
            let r =
                actions::close_referral(&runner, &ClientId::parse(&id)?, &reason, ACTOR).await?;
            println!("closed referral {r} of {id}: {reason}");
        }
        ClientCommand::Export { id, out } => {
            let client = ClientId::parse(&id)?;
            let now = to_ms(runner.clock.now());
            let Some(file) =
                crate::ops::access::whole_file(&runner.db, &client, ACTOR, now, true).await?
            else {
                anyhow::bail!("no client {id}");
            };
            std::fs::create_dir_all(&out)?;
            let generated = runner.clock.now().format("%Y-%m-%d %H:%M UTC").to_string();
            let json = out.join(format!("{id}-record.json"));
            let html = out.join(format!("{id}-record.html"));
            crate::cli::export::write_private(
                &json,
                serde_json::to_string_pretty(&file)?.as_bytes(),
            )?;
            crate::cli::export::write_private(
                &html,
                crate::ops::access::html(&file, &id, &runner.centre.name, &generated).as_bytes(),
            )?;
            crate::store::record::audit_one(
                &runner.db,
                now,
                ACTOR,
                "client-export",
                Some(&id),
                "everything held, from the command line, as JSON and HTML",
            )
            .await?;
            println!(
                "wrote {} and {} (readable by you only)",
                json.display(),
                html.display()
            );
        }
        ClientCommand::Timeline { id } => {
            let client = ClientId::parse(&id)?;
            let entries = actions::timeline(&runner, &client, ACTOR).await?;
            if entries.is_empty() {
                println!("{id} has no scheduled steps");
            }
            for e in entries {
                println!(
                    "{:<28} {:<10} {:<20} {:<18} {:<9} {}",
                    e.when,
                    e.status,
                    if e.occurrence > 0 {
                        format!("{} #{}", e.step, e.occurrence + 1)
                    } else {
                        e.step.clone()
                    },
                    e.flow.unwrap_or_default(),
                    e.time_point.unwrap_or_default(),
                    e.note.unwrap_or_default()
                );
            }
        }
        ClientCommand::StartFlow {
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
            let client = ClientId::parse(&id)?;
            // The bot of the client's centre when it has its own; else the deployment's.
            let t = match crate::centres::get(
                &runner.db,
                &crate::centres::of_client(&runner.db, client.as_str())
                    .await?
                    .unwrap_or_default(),
            )
            .await?
            .filter(|c| c.id != crate::centres::DEFAULT)
            .and_then(|c| c.telegram_token_file.map(|f| (c.id, f)))
            {
                Some((centre, file)) => t.for_centre(
                    &centre,
                    crate::config::read_secret_file(&file, "bot token")
                        .map_err(anyhow::Error::msg)?,
                ),
                None => t,
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
        ClientCommand::Phone { id, number } => {
            let client = ClientId::parse(&id)?;
            let n = actions::set_phone(&runner, &client, &number, ACTOR).await?;
            println!("{client} is now reached by SMS at {n}");
        }
        ClientCommand::Unmatched => {
            let list = crate::store::delivery::unmatched(&runner.db, None, 100, now, ACTOR).await?;
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

fn print_enrolled(e: &actions::Enrolled) {
    println!("enrolled in {} (enrolment {}):", e.sequence, e.enrolment);
    for p in &e.steps {
        println!(
            "  {:<20} {:<18} {:<9} {}",
            p.step,
            p.flow,
            p.time_point.as_deref().unwrap_or(""),
            p.when
        );
    }
}

async fn start_flow(
    runner: &crate::runner::Runner,
    client: &ClientId,
    flow: &str,
    time_point: Option<&str>,
) -> anyhow::Result<()> {
    let flow = super::known_flow(runner, flow)?;
    const KNOWN: [&str; 4] = ["baseline", "weekly", "3-month", "6-month"];
    if let Some(tp) = time_point
        && !KNOWN.contains(&tp)
    {
        anyhow::bail!(
            "--time-point {tp:?} is not one of {} (leave it out for an ad hoc survey)",
            KNOWN.join(", ")
        );
    }
    if !crate::centres::offer_for_client(&runner.db, client.as_str())
        .await?
        .flow(flow.as_str())
    {
        return Err(crate::enrolment::actions::ActionError::NotOffered(
            client.clone(),
            "flow",
            flow.to_string(),
        )
        .into());
    }
    let h = runner
        .start_flow(client, &flow, time_point, IfBusy::Refuse, ACTOR)
        .await?;
    println!(
        "started {flow} for {client}: {} message(s) queued; `matters serve` sends them",
        h.replies.len()
    );
    Ok(())
}
