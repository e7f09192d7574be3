//! The command line: serve, migrate, check and test flows, simulate a conversation, benchmark.

mod bench;
mod bench_scheduler;
mod bench_twilio;
mod centres;
mod client;
pub mod export;
mod flows;
mod ops;
mod programs;
mod serve;
mod simulate;
mod staff;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

/// The version and the commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("MATTERS_COMMIT"),
    ")"
);

/// [`VERSION`], for messages.
#[must_use]
pub fn version() -> &'static str {
    VERSION
}

/// The command line's description, for completions and man pages.
#[must_use]
pub fn command() -> clap::Command {
    Cli::command()
}

/// Parses the process's arguments (exits with clap's message on bad ones).
#[must_use]
pub fn parse() -> Cli {
    let m = command().get_matches();
    Cli::from_arg_matches(&m).unwrap_or_else(|e| e.exit())
}

#[derive(Debug, Parser)]
#[command(
    name = "matters",
    version = VERSION,
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
    /// Apply the embedded database migrations (`--status`: list applied and pending ones).
    Migrate {
        /// Only list the migrations applied, pending, and unknown to this binary; exit 1 unless
        /// the database is current.
        #[arg(long)]
        status: bool,
    },
    /// Take a consistent copy of the database while the service runs (SQLite; on Postgres it
    /// prints the pg_dump command).
    Backup {
        /// The new file to write (it must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Put a backup in place of the SQLite database. Refused while any matters process has the
    /// database open; the database that was there is kept beside it.
    Restore {
        /// The backup file, as `matters backup` wrote it.
        file: PathBuf,
    },
    /// Purge what the retention policy ([retention]) says to purge, now.
    Retention {
        /// Only say what would be purged.
        #[arg(long)]
        dry_run: bool,
    },
    /// Check the set-up: database, public URL, Twilio, Telegram, centre, languages, hours,
    /// file permissions, alerts. Each is ok, a warning or an error, with the fix.
    Doctor,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write the man pages.
    Man {
        /// The directory to write them into.
        #[arg(long, default_value = "man")]
        out: PathBuf,
    },
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
    /// The catalogue of programs and partners: import from CSV, list.
    Programs {
        #[command(subcommand)]
        command: programs::ProgramsCommand,
    },
    /// The centres this deployment serves: list, add, share figures, the group's report.
    Centres {
        #[command(subcommand)]
        command: centres::CentresCommand,
    },
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
    /// Urgent alerts: send a test alert.
    Alerts {
        #[command(subcommand)]
        command: AlertsCommand,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Send a test alert to every staff member alerts can reach (or to one), by email and
    /// text as configured, and say what happened to each.
    Test {
        /// Only this staff member (their user name).
        #[arg(long)]
        to: Option<String>,
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
        Command::Serve => serve::run(&cfg, clock).await.map(|()| 0),
        Command::Migrate { status } => ops::migrate(&cfg, status).await,
        Command::Backup { out } => ops::backup(&cfg, &out).await,
        Command::Restore { file } => ops::restore(&cfg, &file, &*clock).await,
        Command::Retention { dry_run } => ops::retention(&cfg, clock, dry_run).await,
        Command::Doctor => ops::doctor(&cfg).await,
        Command::Completions { shell } => Ok(ops::completions(shell)),
        Command::Man { out } => ops::man(&out),
        Command::Flows {
            command: FlowsCommand::Check,
        } => Ok(flows::check(&cfg)),
        Command::Flows {
            command: FlowsCommand::Test,
        } => flows::test(&cfg).await,
        Command::Simulate(args) => simulate::run(&cfg, args).await,
        Command::Clients { command } => client::run(&cfg, clock, command).await,
        Command::Centres { command } => centres::run(&cfg, clock, command).await,
        Command::Staff { command } => staff::run(&cfg, clock, command).await,
        Command::Programs { command } => programs::run(&cfg, clock, command).await,
        Command::Export { command } => export::run(&cfg, clock, command).await,
        Command::Alerts {
            command: AlertsCommand::Test { to },
        } => alerts_test(&cfg, clock, to.as_deref()).await,
        Command::Bench {
            command: BenchCommand::Inbound(args),
        } => bench::inbound(&cfg, args).await.map(|()| 0),
        Command::Bench {
            command: BenchCommand::Scheduler(args),
        } => bench_scheduler::run(&cfg, args).await.map(|()| 0),
    }
}

/// `matters alerts test`.
async fn alerts_test(cfg: &Config, clock: Arc<dyn Clock>, to: Option<&str>) -> anyhow::Result<i32> {
    let twilio =
        crate::channel::twilio::TwilioConfig::from_config(cfg).map_err(anyhow::Error::msg)?;
    let sms = match twilio {
        Some(t) => Some(crate::alerts::Sms::new(Arc::new(
            crate::channel::twilio::Client::new(t)?,
        ))),
        None => None,
    };
    let runner = Arc::new(crate::app::build(cfg, clock).await?);
    let alerter = crate::alerts::Alerter::new(runner, cfg, sms).map_err(anyhow::Error::msg)?;
    if !cfg.alerts.enabled {
        println!("note: [alerts] enabled is false: serve sends no alerts until it is true");
    }
    if let Err(why) = alerter.check().await {
        eprintln!("{why}");
        return Ok(1);
    }
    let sent = alerter.send_test(to).await?;
    if sent.is_empty() {
        eprintln!(
            "no one to send to{}",
            to.map(|t| format!(": {t} has no email or phone that alerts can use"))
                .unwrap_or_default()
        );
        return Ok(1);
    }
    let mut failed = 0;
    for (who, channel, r) in &sent {
        match r {
            Ok(()) => println!("{who}: {channel} sent"),
            Err(e) => {
                failed += 1;
                println!("{who}: {channel} NOT sent: {e}");
            }
        }
    }
    Ok(i32::from(failed > 0))
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
