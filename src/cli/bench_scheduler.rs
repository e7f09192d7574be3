//! `matters bench scheduler`: a table of scheduled jobs (by default 1,000,000), of which some are
//! due nudges (by default 100,000: clients who left a survey question unanswered). It times
//! draining the due ones — each taken by the transaction that runs it, its client's quiet hours checked, the
//! nudge rendered in the client's language and queued for SMS — beside a bare claim query on the
//! same table in the same run; then the dispatcher sends them to a local, unpaced stand-in of
//! Twilio. It also reports resident memory, and the time `matters serve` takes to answer
//! `/healthz` on that database.

use super::bench::{Cleanup, database_for};
use super::bench_twilio::{SID, TOKEN, standin, unpaced_twilio};
use crate::channel::twilio::Client;
use crate::clock::{ManualClock, to_ms};
use crate::config::Config;
use crate::domain::Channel;
use crate::loops::dispatch;
use crate::runner::Runner;
use crate::store::Backend;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// sqlite (a throwaway file in WAL mode) or postgres.
    #[arg(long, default_value = "sqlite")]
    pub db: String,
    /// Jobs in the table, due or not.
    #[arg(long, default_value_t = 1_000_000)]
    pub scheduled: usize,
    /// Of those, nudges due now (one per client).
    #[arg(long, default_value_t = 100_000)]
    pub due: usize,
    /// Postgres URL (default: MATTERS_BENCH_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/test).
    #[arg(long)]
    pub url: Option<String>,
    /// Skip starting `matters serve` for the time to healthy.
    #[arg(long)]
    pub no_serve: bool,
    /// Skip sending the nudges to the stand-in after the drain.
    #[arg(long)]
    pub no_send: bool,
    /// Postgres only: also time graphile-worker (npm) draining as many no-op jobs on the same
    /// Postgres, in the same run. Needs Node.js and `npm ci --prefix tests/graphile`; skipped,
    /// with a message saying why, where either is missing.
    #[arg(long)]
    pub graphile: bool,
    /// graphile-worker's concurrent jobs.
    #[arg(long, default_value_t = 16)]
    pub graphile_concurrency: usize,
    /// Idle ticks to time once nothing is due (the tick's cost with every other job scheduled).
    #[arg(long, default_value_t = 200)]
    pub idle_ticks: usize,
}

/// The time zones the clients are spread over.
const ZONES: [&str; 3] = ["America/Toronto", "America/Winnipeg", "America/Vancouver"];

pub async fn run(cfg: &Config, args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.due > 0 && args.scheduled >= args.due,
        "--due must be positive and at most --scheduled"
    );
    let (url, cleanup): (String, Cleanup) = database_for(&args.db, args.url.as_deref()).await?;
    let result = bench(cfg, &args, &url).await;
    cleanup.await;
    result
}

/// A weekday afternoon: open hours in every zone, so every due nudge goes out.
fn afternoon() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T20:00:00Z")
        .map(|t| t.to_utc())
        .unwrap_or_default()
}

#[allow(clippy::too_many_lines)] // set-up, three measures, a report
async fn bench(cfg: &Config, args: &Args, url: &str) -> anyhow::Result<()> {
    let stand_in = standin::StandIn::start_with(SID, TOKEN, false, true).await;
    let mut cfg = cfg.clone();
    cfg.database_url = url.to_owned();
    cfg.public_url = Some("http://127.0.0.1:9".into());
    let twilio = unpaced_twilio(&mut cfg, &stand_in.base)?;
    let clock = ManualClock::new(afternoon());
    let runner = Arc::new(crate::app::build(&cfg, Arc::new(clock.clone())).await?);
    let backend = runner.db.backend();
    eprintln!(
        "loading {} scheduled jobs ({} due nudges for as many clients) into {}…",
        args.scheduled,
        args.due,
        backend.as_str()
    );
    let loading = Instant::now();
    load(&runner, args.due, args.scheduled - args.due).await?;
    let loaded_in = loading.elapsed();
    eprintln!("loaded in {:.1} s", loaded_in.as_secs_f64());
    let rss_loaded = rss_kib("self");

    // The baseline: the same claim statement, alone, over the same due rows; then put back.
    let started = Instant::now();
    let mut claimed = 0;
    loop {
        let got = crate::schedule::claim(
            &runner.db,
            runner.clock.now(),
            runner.schedule.lease,
            runner.schedule.batch,
        )
        .await?;
        if got.is_empty() {
            break;
        }
        claimed += got.len();
    }
    let baseline = claimed as f64 / started.elapsed().as_secs_f64();
    anyhow::ensure!(
        claimed == args.due,
        "the baseline claimed {claimed} jobs, not {}",
        args.due
    );
    sqlx::query("UPDATE jobs SET status = 'pending', lease_until = NULL, claim_token = NULL WHERE status = 'running'")
        .execute(runner.db.pool())
        .await?;

    // The drain: take, check quiet hours, render, queue, in the scheduler's own batches.
    let started = Instant::now();
    let mut ticks = 0;
    loop {
        let t = crate::loops::scheduler::tick(&runner, usize::MAX).await?;
        ticks += 1;
        anyhow::ensure!(t.failed == 0, "{} jobs failed", t.failed);
        if t.claimed == 0 {
            break;
        }
    }
    let drain = started.elapsed();
    let rate = args.due as f64 / drain.as_secs_f64();
    let queued: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE status = 'queued' AND message_key = 'nudge-gentle'",
    )
    .fetch_one(runner.db.pool())
    .await?;
    let french: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE status = 'queued' AND body LIKE 'Petit rappel%'",
    )
    .fetch_one(runner.db.pool())
    .await?;
    anyhow::ensure!(
        queued == i64::try_from(args.due)?,
        "{queued} nudges queued, not {}",
        args.due
    );
    let rss_drained = rss_kib("self");
    let peak_drained = peak_kib("self");

    // Then out through the dispatcher to the stand-in.
    let sent = if args.no_send {
        None
    } else {
        let started = Instant::now();
        dispatch::spawn(
            runner.clone(),
            Arc::new(Client::new(twilio.clone())?),
            Channel::Sms,
            twilio.dispatch_settings(),
        );
        runner.queued.send_modify(|n| *n = n.wrapping_add(1));
        // wait_for gives up after 30 s; keep waiting, up to ten minutes, then say what is missing.
        while stand_in.sent_count() < args.due {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(600),
                "the stand-in got {} of {} nudges in 10 minutes",
                stand_in.sent_count(),
                args.due
            );
            stand_in.wait_for(args.due).await;
        }
        let violations = stand_in.violations();
        anyhow::ensure!(
            violations.is_empty(),
            "requests not valid against Twilio's OpenAPI: {violations:?}"
        );
        Some(args.due as f64 / started.elapsed().as_secs_f64())
    };

    // The idle tick: nothing due, every other job still scheduled.
    // On Postgres the drained jobs leave old entries in the due index until (auto)vacuum clears
    // them: the tick is timed right after the drain, and again once `VACUUM` has run (the
    // steady state, and what the flat-cost target is about).
    let idle = if args.idle_ticks > 0 {
        let fresh = idle_tick(&runner, args.idle_ticks).await?;
        let settled = if backend == Backend::Postgres {
            sqlx::query("VACUUM (ANALYZE) jobs")
                .execute(runner.db.pool())
                .await?;
            Some(idle_tick(&runner, args.idle_ticks).await?)
        } else {
            None
        };
        Some((fresh, settled))
    } else {
        None
    };
    let graphile = if args.graphile {
        Some(graphile(url, backend, args.due, args.graphile_concurrency).await)
    } else {
        None
    };

    let serve = if args.no_serve {
        None
    } else {
        Some(time_to_healthy(url).await?)
    };

    println!(
        "scheduler {}: {} scheduled jobs, {} due nudges ({} in French), batches of {}, {} ticks",
        backend.as_str(),
        args.scheduled,
        args.due,
        french,
        runner.schedule.batch,
        ticks
    );
    println!(
        "  load:      {:.1} s (bulk insert, not timed below)",
        loaded_in.as_secs_f64()
    );
    println!("  baseline:  {baseline:.0} jobs/s (the bare claim statement over the same due rows)");
    println!(
        "  drain:     {rate:.0} nudges/s ({:.2} s: taken, quiet hours checked, rendered, queued)",
        drain.as_secs_f64()
    );
    if let Some(sent) = sent {
        println!(
            "  sent:      {sent:.0} nudges/s to the unpaced Twilio stand-in over loopback HTTP (after the drain)"
        );
    }
    println!(
        "  memory:    bench process {} MiB resident after loading, {} MiB after the drain (peak {} MiB); peak {} MiB with the in-process stand-in holding every nudge sent",
        rss_loaded / 1024,
        rss_drained / 1024,
        peak_drained / 1024,
        peak_kib("self") / 1024
    );
    if let Some((fresh, settled)) = idle {
        match settled {
            Some(settled) => println!(
                "  idle tick: {:.0} µs (mean of {} ticks with {} jobs scheduled, none due, after VACUUM); {:.0} µs right after the drain, before vacuum cleared its old index entries",
                settled.as_secs_f64() * 1e6,
                args.idle_ticks,
                args.scheduled,
                fresh.as_secs_f64() * 1e6
            ),
            None => println!(
                "  idle tick: {:.0} µs (mean of {} ticks with {} jobs scheduled, none due)",
                fresh.as_secs_f64() * 1e6,
                args.idle_ticks,
                args.scheduled
            ),
        }
    }
    let mut peer = None;
    match &graphile {
        Some(Ok((g, c))) => {
            println!(
                "  graphile-worker: {g:.0} no-op jobs/s ({} jobs, {c} concurrent, local queue of 500; same Postgres, same run)",
                args.due
            );
            peer = Some(*g);
        }
        Some(Err(why)) => println!("  graphile-worker: skipped: {why}"),
        None => {}
    }
    if let Some((healthy, rss)) = serve {
        println!(
            "  serve:     healthy {:.0} ms after start with {} scheduled jobs; {} MiB resident",
            healthy.as_secs_f64() * 1000.0,
            args.scheduled,
            rss / 1024
        );
    }
    println!(
        "scheduler {}: {rate:.0} nudges/s, baseline {baseline:.0}/s, ratio {:.2}{}",
        backend.as_str(),
        rate / baseline,
        peer.map_or(String::new(), |g| format!(
            "; graphile-worker {g:.0} no-op jobs/s, ratio {:.2}",
            rate / g
        ))
    );
    // The dispatcher stops once its pool is closed, before the bench's database goes.
    runner.db.close().await;
    Ok(())
}

/// The mean time of `n` ticks that find nothing due.
async fn idle_tick(runner: &Runner, n: usize) -> anyhow::Result<Duration> {
    let started = Instant::now();
    for _ in 0..n {
        let t = crate::loops::scheduler::tick(runner, usize::MAX).await?;
        anyhow::ensure!(t.claimed == 0, "an idle tick claimed {} jobs", t.claimed);
    }
    Ok(started.elapsed() / u32::try_from(n).unwrap_or(u32::MAX))
}

/// Clients mid-survey (half in French) with a due nudge each, and `later` jobs not yet due.
async fn load(runner: &Arc<Runner>, due: usize, later: usize) -> anyhow::Result<()> {
    let now = to_ms(runner.clock.now());
    // Two real sessions, one per language, whose state the others copy.
    let mut templates = Vec::new();
    for lang in ["en", "fr"] {
        let id = super::bench::setup_one(runner, &format!("template-{lang}"), lang).await?;
        let (state, revision): (String, String) =
            sqlx::query_as("SELECT state, revision FROM sessions WHERE client_id = $1")
                .bind(id.as_str())
                .fetch_one(runner.db.pool())
                .await?;
        templates.push((state, revision));
        sqlx::query("DELETE FROM jobs WHERE client_id = $1")
            .bind(id.as_str())
            .execute(runner.db.pool())
            .await?;
    }
    let b = runner.db.backend();
    let (series, pad) = match b {
        Backend::Sqlite => (
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1)",
            "printf('+1613%07d', n.i)",
        ),
        Backend::Postgres => (
            "WITH n(i) AS (SELECT generate_series(0, $1 - 1))",
            "'+1613' || lpad(n.i::text, 7, '0')",
        ),
    };
    let cast = match b {
        Backend::Sqlite => "",
        Backend::Postgres => "::text",
    };
    let zone = format!(
        "CASE n.i % 3 WHEN 0 THEN '{}' WHEN 1 THEN '{}' ELSE '{}' END",
        ZONES[0], ZONES[1], ZONES[2]
    );
    let count = i64::try_from(due)?;
    let mut tx = runner.db.begin().await?;
    sqlx::query(&format!(
        "{series} INSERT INTO clients (id, language, time_zone, consent, created_at, updated_at) \
         SELECT 'b' || n.i{cast}, CASE n.i % 2 WHEN 0 THEN 'en' ELSE 'fr' END, {zone}, 'granted', {now}, {now} FROM n"
    ))
    .bind(count)
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "{series} INSERT INTO channel_addresses (channel, address, client_id, created_at) SELECT 'sms', {pad}, 'b' || n.i{cast}, {now} FROM n"
    ))
    .bind(count)
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "{series} INSERT INTO sessions (client_id, flow_id, revision, state, status, time_point, started_at, updated_at) \
         SELECT 'b' || n.i{cast}, 'loneliness', $2, CASE n.i % 2 WHEN 0 THEN $3 ELSE $4 END, 'active', 'baseline', {now}, {now} FROM n"
    ))
    .bind(count)
    .bind(&templates[0].1)
    .bind(&templates[0].0)
    .bind(&templates[1].0)
    .execute(&mut *tx)
    .await?;
    // Due: each client's question timed out a minute ago.
    sqlx::query(&format!(
        "INSERT INTO jobs (client_id, session_id, kind, step_id, due_at, status, created_at, updated_at) \
         SELECT client_id, id, 'timeout', 'companionship', {due_at}, 'pending', {now}, {now} FROM sessions WHERE client_id LIKE 'b%'",
        due_at = now - 60_000
    ))
    .execute(&mut *tx)
    .await?;
    // Not yet due: sequence steps over the coming year, spread over the same clients.
    if later > 0 {
        sqlx::query(&format!(
            "{series} INSERT INTO jobs (client_id, kind, step_id, flow_id, occurrence, due_at, planned_at, status, created_at, updated_at) \
             SELECT 'b' || (n.i % {due}){cast}, 'step', 'weekly', 'referral-followup', n.i, {now} + 3600000 + (n.i % 8760) * 3600000, \
                    {now} + 3600000 + (n.i % 8760) * 3600000, 'pending', {now}, {now} FROM n"
        ))
        .bind(i64::try_from(later)?)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    // Both measures start from a settled database: statistics (Postgres), the load's WAL folded
    // into the file (SQLite).
    match b {
        Backend::Postgres => sqlx::query("ANALYZE").execute(runner.db.pool()).await?,
        Backend::Sqlite => {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(runner.db.pool())
                .await?
        }
    };
    Ok(())
}

/// Starts `matters serve` on the database and times it to a healthy `/healthz`; also its
/// resident memory then.
async fn time_to_healthy(url: &str) -> anyhow::Result<(Duration, u64)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let exe = std::env::current_exe()?;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(exe)
        .arg("serve")
        .env("MATTERS_DATABASE_URL", url)
        .env("MATTERS_LISTEN", format!("127.0.0.1:{port}"))
        .env_remove("TWILIO_ACCOUNT_SID")
        .env_remove("TELEGRAM_BOT_TOKEN")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let http = reqwest::Client::new();
    let health = format!("http://127.0.0.1:{port}/healthz");
    let healthy = loop {
        if let Ok(r) = http.get(&health).send().await
            && r.status().is_success()
        {
            break started.elapsed();
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "serve was not healthy within a minute"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let rss = child.id().map_or(0, |pid| rss_kib(&pid.to_string()));
    let _ = child.kill().await;
    Ok((healthy, rss))
}

/// Resident memory of a process (`self` or a pid), KiB; 0 where /proc is not there.
fn rss_kib(pid: &str) -> u64 {
    proc_status(pid, "VmRSS:")
}

fn peak_kib(pid: &str) -> u64 {
    proc_status(pid, "VmHWM:")
}

fn proc_status(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// graphile-worker draining `jobs` no-op jobs on the Postgres at `url`: its rate and
/// concurrency, or why it did not run.
async fn graphile(
    url: &str,
    backend: Backend,
    jobs: usize,
    concurrency: usize,
) -> Result<(f64, usize), String> {
    if backend != Backend::Postgres {
        return Err("graphile-worker runs on Postgres only (--db postgres)".into());
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/graphile");
    if !dir.join("node_modules/graphile-worker").is_dir() {
        return Err(format!(
            "graphile-worker is not installed: npm ci --prefix {}",
            dir.display()
        ));
    }
    eprintln!("graphile-worker: draining {jobs} no-op jobs…");
    let out = tokio::process::Command::new("node")
        .arg(dir.join("bench.js"))
        .arg(url)
        .arg(jobs.to_string())
        .arg(concurrency.to_string())
        .output()
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "Node.js (node) is not installed".to_owned(),
            _ => format!("could not run node: {e}"),
        })?;
    if !out.status.success() {
        return Err(format!(
            "node failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(line.trim())
        .map_err(|e| format!("graphile-worker's bench said something else ({e}): {line}"))?;
    v["rate"]
        .as_f64()
        .map(|r| (r, concurrency))
        .ok_or_else(|| format!("no rate in graphile-worker's answer: {line}"))
}
