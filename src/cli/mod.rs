//! The command line: serve, migrate, check and test flows, simulate a conversation, benchmark.

mod bench;
mod bench_scheduler;
mod bench_twilio;
mod client;
mod export;
mod flows;
mod simulate;
mod staff;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "matters",
    version,
    about = "What matters to you? Follow-up check-ins and surveys for social prescribing."
)]
pub struct Cli {
    /// Configuration file (default: matters.toml in the working directory, if present).
    #[arg(long, global = true, env = "MATTERS_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server with the simulator channel.
    Serve,
    /// Apply the embedded database migrations.
    Migrate,
    /// Check or test the flows.
    Flows {
        #[command(subcommand)]
        command: FlowsCommand,
    },
    /// Add and import clients, enrol them in sequences, pause, resume, cancel, reschedule,
    /// start a flow, read texts from unknown numbers.
    #[command(visible_alias = "client")]
    Clients {
        #[command(subcommand)]
        command: client::ClientCommand,
    },
    /// Hold a conversation with the bot in the terminal.
    Simulate(simulate::Args),
    /// Staff accounts and API tokens.
    Staff {
        #[command(subcommand)]
        command: staff::StaffCommand,
    },
    /// Export the evaluation dataset (CSV) or FHIR R4 resources.
    Export {
        #[command(subcommand)]
        command: export::ExportCommand,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum FlowsCommand {
    /// Validate every flow and locale and print the SMS cost of every message.
    Check,
    /// Run every transcript test under flows/transcripts/.
    Test,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Push simulated replies through the whole inbound pipeline.
    Inbound(bench::Args),
    /// Drain due nudges from a table of scheduled jobs.
    Scheduler(bench_scheduler::Args),
}

/// Runs the command line; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    let cfg = Config::load(cli.config.as_deref())?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match cli.command {
        Command::Serve => serve(&cfg, clock).await.map(|()| 0),
        Command::Migrate => {
            let db = crate::app::connect(&cfg).await?;
            db.migrate().await?;
            println!(
                "migrations applied to {}",
                crate::store::redact_url(&cfg.database_url)
            );
            Ok(0)
        }
        Command::Flows {
            command: FlowsCommand::Check,
        } => Ok(flows::check(&cfg)),
        Command::Flows {
            command: FlowsCommand::Test,
        } => flows::test(&cfg).await,
        Command::Simulate(args) => simulate::run(&cfg, args).await,
        Command::Clients { command } => client::run(&cfg, clock, command).await,
        Command::Staff { command } => staff::run(&cfg, clock, command).await,
        Command::Export { command } => export::run(&cfg, clock, command).await,
        Command::Bench {
            command: BenchCommand::Inbound(args),
        } => bench::inbound(&cfg, args).await.map(|()| 0),
        Command::Bench {
            command: BenchCommand::Scheduler(args),
        } => bench_scheduler::run(&cfg, args).await.map(|()| 0),
    }
}

async fn serve(cfg: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    // A half-configured channel is an error before anything else happens.
    let twilio =
        crate::channel::twilio::TwilioConfig::from_config(cfg).map_err(anyhow::Error::msg)?;
    let telegram =
        crate::channel::telegram::TelegramConfig::from_config(cfg).map_err(anyhow::Error::msg)?;
    let runner = Arc::new(crate::app::build(cfg, clock).await?);
    crate::app::warn_about_drafts(&runner.catalog);
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", cfg.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(database = %crate::store::redact_url(&cfg.database_url), "database ready");
    println!("matters is listening on http://{addr}");
    println!("channels: simulator (POST /simulator/messages, or open http://{addr}/simulator)");
    let mut state = crate::web::AppState::new(runner.clone()).with_web(cfg);

    match twilio {
        Some(t) => {
            let client = crate::channel::twilio::Client::new(t.clone())?;
            crate::channel::dispatch::spawn(
                runner.clone(),
                Arc::new(client),
                crate::domain::Channel::Sms,
                t.dispatch_settings(),
            );
            println!("channels: {}", t.describe());
            state = state.with_twilio(t);
        }
        None => println!(
            "channels: sms is off (set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM and MATTERS_PUBLIC_URL to turn it on)"
        ),
    }
    crate::schedule::spawn(runner.clone());
    println!(
        "scheduler: {} sequences; scheduled messages go out {} in each client's time zone",
        runner.sequences.all().count(),
        match runner.schedule.window(None).to_string().as_str() {
            "always" => "at any hour".to_owned(),
            w => format!("between {}", w.replace('-', " and ")),
        }
    );
    let mut bot_username: Option<String> = None;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut poller = None;
    let mut telegram_router = axum::Router::new();
    match telegram {
        Some(t) => {
            let started = crate::channel::telegram::start(runner.clone(), &t, async move {
                let mut stop = stop_rx;
                let _ = stop.wait_for(|s| *s).await;
            })
            .await
            .map_err(anyhow::Error::msg)?;
            println!("{}", t.describe(&started.username));
            bot_username = Some(started.username.clone());
            telegram_router = started.router;
            poller = started.poller;
        }
        None => println!(
            "channels: telegram is off (set TELEGRAM_BOT_TOKEN to turn it on; TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET for a webhook)"
        ),
    }
    // No staff yet: a one-time link for the first administrator.
    if crate::staff::count(&runner.db).await? == 0 {
        let now = crate::clock::to_ms(runner.clock.now());
        let token = crate::staff::setup_link(&runner.db, None, now, 24).await?;
        let base = cfg
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        println!(
            "no staff accounts yet: open {}/setup/{token} to create the first administrator (valid 24 hours, once)",
            base.trim_end_matches('/')
        );
    } else {
        println!("navigators sign in at http://{addr}/login");
    }
    state.telegram_bot = bot_username;
    let app = crate::web::app(state).merge(telegram_router);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await?;
    // Let the poller confirm what it handled, so the next start does not get it again.
    let _ = stop_tx.send(true);
    if let Some(p) = poller {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), p).await;
    }
    Ok(())
}

/// A flow the runner knows, or an error that lists the ones it does.
fn known_flow(runner: &crate::runner::Runner, name: &str) -> anyhow::Result<crate::domain::FlowId> {
    let flow = crate::domain::FlowId::parse(name)?;
    if runner.flows.get(&flow).is_none() {
        let known: Vec<String> = runner.flows.current().map(|f| f.id.to_string()).collect();
        anyhow::bail!("no flow {flow}; the flows are: {}", known.join(", "));
    }
    Ok(flow)
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
}
