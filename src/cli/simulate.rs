//! `matters simulate <flow> --lang <en|fr>`: a conversation in the terminal, interactive or from a
//! script, on a throwaway database unless one is given.
//!
//! `matters simulate --sequence standard --days 200 --lang fr`: a client's months in a follow-up
//! sequence on a virtual clock, printed as a timeline in their local time.

use crate::clock::{Clock as _, SystemClock, to_ms};
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
    #[arg(required_unless_present = "sequence")]
    pub flow: Option<String>,
    /// Instead of one flow: a whole follow-up sequence (standard, light) on a virtual clock.
    #[arg(long, conflicts_with = "flow")]
    pub sequence: Option<String>,
    /// --sequence: how many days to run.
    #[arg(long, default_value_t = 200)]
    pub days: i64,
    /// --sequence: the client's time zone (default: the centre's).
    #[arg(long)]
    pub tz: Option<String>,
    /// --sequence: when the client is enrolled, their local time (default: now).
    #[arg(long)]
    pub start: Option<String>,
    /// --sequence: the client's replies, one per line, in the order questions come;
    /// `(silence)` leaves a question unanswered, `@DAY text` sends text on that day whatever is
    /// asked, `[flow/step #N] text` answers that question the Nth time it is asked, `(silent from here)` stops answering. Without it (or past its end), every
    /// question gets its first option.
    #[arg(long)]
    pub replies: Option<PathBuf>,
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
    if let Some(seq) = args.sequence.clone() {
        return sequence(cfg, &args, &seq).await;
    }
    let mut cfg = cfg.clone();
    cfg.database_url = args.db.clone().unwrap_or_else(|| "sqlite::memory:".into());
    let runner = crate::app::build(&cfg, Arc::new(SystemClock)).await?;
    let client = ClientId::parse(&args.client)?;
    let flow = super::known_flow(&runner, args.flow.as_deref().unwrap_or_default())?;
    let lang = Locale::parse(&args.lang)?;
    let now = to_ms(runner.clock.now());
    let new = NewClient {
        id: client.clone(),
        language: runner.catalog.negotiate(&lang),
        time_zone: runner.centre.time_zone,
        chart_number: None,
        reach: Some((Channel::Simulator, client.to_string())),
        centre: crate::domain::DEFAULT_CENTRE.into(),
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

/// A whole sequence on a virtual clock.
async fn sequence(cfg: &Config, args: &Args, seq: &str) -> anyhow::Result<i32> {
    use crate::enrolment::simulate::{Options, Script, render, run};
    let mut cfg = cfg.clone();
    cfg.database_url = args.db.clone().unwrap_or_else(|| "sqlite::memory:".into());
    let tz: chrono_tz::Tz = match &args.tz {
        Some(t) => t.parse().map_err(|_| {
            anyhow::anyhow!("--tz {t:?} is not an IANA time zone like America/Winnipeg")
        })?,
        None => cfg.time_zone.parse().map_err(|_| {
            anyhow::anyhow!("time_zone {:?} is not an IANA time zone", cfg.time_zone)
        })?,
    };
    let start = match &args.start {
        Some(s) => crate::schedule::time::resolve(
            tz,
            crate::schedule::time::parse_local(s).map_err(anyhow::Error::msg)?,
        ),
        None => SystemClock.now(),
    };
    let script = match &args.replies {
        Some(p) => Script::parse(
            &std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?,
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
        None => Script::default(),
    };
    let clock = crate::clock::ManualClock::new(start);
    let runner = crate::app::build(&cfg, Arc::new(clock.clone())).await?;
    let o = Options {
        sequence: seq.to_owned(),
        days: args.days.clamp(0, 3660),
        language: Locale::parse(&args.lang)?,
        time_zone: tz,
        start,
        client: ClientId::parse(&args.client)?,
        reply_after: chrono::Duration::minutes(7),
        script,
    };
    let wall = std::time::Instant::now();
    let lines = run(&runner, &clock, o).await?;
    print!("{}", render(&lines, tz));
    let count = |k: &str| lines.iter().filter(|l| l.kind == k).count();
    println!(
        "\n{} days of {seq} for a client in {tz} ({}): {} messages out, {} nudges, {} replies, {} skips, {} flags, {} scores; {:.1} s of real time",
        args.days.clamp(0, 3660),
        args.lang,
        count("out"),
        count("nudge"),
        count("in"),
        count("skip"),
        count("flag"),
        count("score"),
        wall.elapsed().as_secs_f64()
    );
    runner.db.close().await;
    Ok(0)
}
