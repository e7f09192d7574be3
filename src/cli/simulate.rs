//! `matters simulate <flow> --lang <en|fr>`: a conversation in the terminal, interactive or from a
//! script, on a throwaway database unless one is given.

use crate::clock::{SystemClock, to_ms};
use crate::config::Config;
use crate::domain::{Channel, ClientId, Locale};
use crate::runner::{IfBusy, Inbound};
use crate::store::record::{self, NewClient, NewReferral};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The flow to run, e.g. loneliness.
    pub flow: String,
    /// The client's language.
    #[arg(long, default_value = "en")]
    pub lang: String,
    /// Read the client's replies from FILE, one per line (`-` for standard input).
    #[arg(long)]
    pub script: Option<PathBuf>,
    /// Print the client's record as JSON at the end.
    #[arg(long)]
    pub record_json: bool,
    /// Database URL (default: a throwaway in-memory SQLite database).
    #[arg(long)]
    pub db: Option<String>,
    /// The test client's id.
    #[arg(long, default_value = "sim-client")]
    pub client: String,
    /// The program the client was referred to.
    #[arg(long)]
    pub program: Option<String>,
}

pub async fn run(cfg: &Config, args: Args) -> anyhow::Result<i32> {
    let mut cfg = cfg.clone();
    cfg.database_url = args.db.clone().unwrap_or_else(|| "sqlite::memory:".into());
    let runner = crate::app::build(&cfg, Arc::new(SystemClock)).await?;
    let client = ClientId::parse(&args.client)?;
    let flow = super::known_flow(&runner, &args.flow)?;
    let lang = Locale::parse(&args.lang)?;
    let now = to_ms(runner.clock.now());
    let new = NewClient {
        id: client.clone(),
        language: runner.catalog.negotiate(&lang),
        time_zone: runner.centre.time_zone,
        chart_number: None,
        channel: Channel::Simulator,
        address: client.to_string(),
    };
    if record::add_client(&runner.db, &new, now, "simulate").await? && args.program.is_some() {
        let r = NewReferral {
            program: args.program.clone(),
            ..NewReferral::default()
        };
        record::add_referral(&runner.db, &client, &r, now, "simulate").await?;
    }
    // With --record-json, standard output carries only the JSON; the conversation goes to
    // standard error so that `| jq` works.
    let mut out: Box<dyn Write> = if args.record_json {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    };
    let h = runner
        .start_flow(&client, &flow, None, IfBusy::Replace, "simulate")
        .await?;
    for r in &h.replies {
        writeln!(out, "bot> {}", r.text.replace('\n', "\n     "))?;
    }
    let interactive = args.script.is_none() && std::io::stdin().is_terminal();
    let reader: Box<dyn BufRead> = match &args.script {
        Some(p) if p.as_os_str() == "-" => Box::new(std::io::BufReader::new(std::io::stdin())),
        Some(p) => Box::new(std::io::BufReader::new(
            std::fs::File::open(p)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?,
        )),
        None => Box::new(std::io::BufReader::new(std::io::stdin())),
    };
    let mut lines = reader.lines();
    loop {
        if !session_active(&runner, &client).await? {
            writeln!(out, "(the flow has ended)")?;
            break;
        }
        if interactive {
            write!(out, "you> ")?;
            out.flush()?;
        }
        let Some(line) = lines.next() else { break };
        let line = line?;
        if !interactive {
            writeln!(out, "you> {line}")?;
        }
        let h = runner
            .receive(&Inbound::new(
                Channel::Simulator,
                client.clone(),
                None,
                line,
            ))
            .await?;
        for r in &h.replies {
            writeln!(out, "bot> {}", r.text.replace('\n', "\n     "))?;
        }
    }
    if args.record_json {
        let rec = record::read(&runner.db, &client, "simulate", to_ms(runner.clock.now())).await?;
        println!("{}", serde_json::to_string_pretty(&rec)?);
    }
    runner.db.close().await;
    Ok(0)
}

async fn session_active(runner: &crate::runner::Runner, client: &ClientId) -> anyhow::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions WHERE client_id = $1 AND status = 'active'",
    )
    .bind(client.as_str())
    .fetch_one(runner.db.pool())
    .await?;
    Ok(n > 0)
}
