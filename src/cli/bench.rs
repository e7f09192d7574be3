//! `matters bench inbound`: N simulated replies from clients mid-survey pushed through the whole
//! inbound pipeline (dedupe → client → global handlers → engine → one transaction → outbox),
//! beside a baseline measured in the same run on the same pool: one-row-per-transaction inserts.

use crate::clock::{SystemClock, to_ms};
use crate::config::Config;
use crate::domain::{Channel, ClientId, FlowId, Locale};
use crate::runner::{IfBusy, Inbound, Inbox, MAX_BATCH, Runner};
use crate::store::record::{self, NewClient};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// sqlite (a throwaway file in WAL mode) or postgres.
    #[arg(long, default_value = "sqlite")]
    pub db: String,
    /// Replies to push.
    #[arg(long, default_value_t = 20_000)]
    pub n: usize,
    /// Clients the replies are spread over; each is mid-survey and replies as soon as the bot
    /// has answered its last message.
    #[arg(long, default_value_t = 2_000)]
    pub clients: usize,
    /// Writer tasks draining the inbox (default: 1 on SQLite, which has one writer; 4 on Postgres).
    #[arg(long)]
    pub writers: Option<usize>,
    /// Postgres URL (default: MATTERS_BENCH_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/test);
    /// the bench works in a schema of its own and drops it.
    #[arg(long)]
    pub url: Option<String>,
    /// simulator (the runner's inbox, in process) or twilio (signed webhooks over loopback HTTP,
    /// replies sent to a local stand-in of Twilio's API).
    #[arg(long, default_value = "simulator")]
    pub channel: String,
    /// twilio: the steady rate (replies/s) of the latency run.
    #[arg(long, default_value_t = 500.0)]
    pub rate: f64,
    /// twilio: replies in the latency run.
    #[arg(long, default_value_t = 2_000)]
    pub paced: usize,
    /// Serve /metrics on this address while the bench runs (e.g. 127.0.0.1:9464), to scrape.
    #[arg(long)]
    pub metrics_listen: Option<String>,
}

/// What a client mid-way through the loneliness survey sends: answers by number, word and
/// synonym, answers that are not understood, HELP, and a switch to French and back. Every one
/// gets a reply; the tenth completes the survey and scores it.
const REPLIES: &[&str] = &[
    "maybe",
    "1",
    "HELP",
    "some of the time",
    "FR",
    "pas sûr",
    "Souvent!",
    "EN",
    "??",
    "never",
];

/// Concurrent transactions of the baseline.
const BASELINE_TASKS: usize = 16;

pub async fn inbound(cfg: &Config, args: Args) -> anyhow::Result<()> {
    match args.channel.as_str() {
        "simulator" => {}
        "twilio" => return super::bench_twilio::run(cfg, &args).await,
        other => anyhow::bail!("--channel must be simulator or twilio, not {other:?}"),
    }
    anyhow::ensure!(
        args.n > 0 && args.clients > 0,
        "--n and --clients must be positive"
    );
    let (url, cleanup) = database(&args).await?;
    let mut cfg = cfg.clone();
    cfg.database_url = url;
    let runner = Arc::new(crate::app::build(&cfg, Arc::new(SystemClock)).await?);
    let backend = runner.db.backend().as_str();
    let writers = args
        .writers
        .unwrap_or(if backend == "sqlite" { 1 } else { 4 });

    eprintln!(
        "setting up {} clients mid-survey on {backend}…",
        args.clients
    );
    let clients = setup(&runner, args.clients).await?;
    let inbox = Inbox::spawn(runner.clone(), writers);
    // Metrics are recorded as `serve` records them; priced below, off against on.
    let exporter = crate::ops::metrics::install();
    crate::ops::metrics::set_recording(true);
    if let (Some(at), Some(m)) = (&args.metrics_listen, &exporter) {
        let l = tokio::net::TcpListener::bind(at).await?;
        eprintln!(
            "metrics: http://{}/metrics while the bench runs",
            l.local_addr()?
        );
        let router = crate::web::ops::metrics_only(runner.clone(), m.clone());
        tokio::spawn(async move { axum::serve(l, router).await });
    }

    let baseline_before = baseline(&runner, args.n).await?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (c, client) in clients.into_iter().enumerate() {
        let quota = args.n / args.clients + usize::from(c < args.n % args.clients);
        let inbox = inbox.clone();
        tasks.push(tokio::spawn(
            async move { replies(&inbox, client, quota).await },
        ));
    }
    let mut latencies = Vec::with_capacity(args.n);
    for t in tasks {
        latencies.extend(t.await??);
    }
    let elapsed = started.elapsed();
    let alone = light_load(&runner, &inbox).await?;
    let cost = metrics_cost(&runner, &inbox, args.n, args.clients).await?;
    let baseline_after = baseline(&runner, args.n).await?;
    let base = (baseline_before + baseline_after) / 2.0;

    latencies.sort_unstable();
    let rate = latencies.len() as f64 / elapsed.as_secs_f64();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "inbound {backend}: {} replies from {} clients through the inbox ({writers} writer(s), batches of up to {MAX_BATCH}), {:.2} s",
        latencies.len(),
        args.clients,
        elapsed.as_secs_f64()
    );
    println!(
        "  replies:  {rate:.0} replies/s, latency p50 {:.2} ms, p99 {:.2} ms",
        ms(pct(0.50)),
        ms(pct(0.99))
    );
    println!(
        "  alone:    latency p50 {:.2} ms, p99 {:.2} ms (one client replying with no one else in the queue)",
        ms(alone.0),
        ms(alone.1)
    );
    println!(
        "  metrics:  {:.0} replies/s recording, {:.0} replies/s not: {:+.1} % ({} rounds of {} replies each way, alternating)",
        cost.on,
        cost.off,
        (1.0 - cost.on / cost.off) * 100.0,
        cost.rounds,
        cost.per_round
    );
    let per_reply = recording_ns();
    println!(
        "            what serve records for one reply (an inbound count, a request count, a send count and its latency) takes {per_reply:.0} ns: {:.2} % of a reply's {:.0} µs at {rate:.0} replies/s",
        per_reply / (1e9 / rate) * 100.0,
        1e6 / rate
    );
    println!(
        "  baseline: {base:.0} inserts/s (one row per transaction, {BASELINE_TASKS} tasks on the same pool; {baseline_before:.0} before, {baseline_after:.0} after)"
    );
    runner.db.close().await;
    cleanup.await;
    println!(
        "inbound {backend}: {rate:.0} replies/s, baseline {base:.0} inserts/s, ratio {:.2}",
        rate / base
    );
    Ok(())
}

/// Nanoseconds the recording serve does for one reply takes (the inbound count, the request
/// count, the send's count and latency), through the installed recorder, over a million replies.
fn recording_ns() -> f64 {
    const N: u32 = 1_000_000;
    crate::ops::metrics::set_recording(true);
    let started = Instant::now();
    for k in 0..N {
        crate::ops::metrics::inbound("sms", "handled");
        metrics::counter!(crate::ops::metrics::HTTP_REQUESTS, "status" => "2xx").increment(1);
        metrics::counter!(crate::ops::metrics::SENDS, "channel" => "sms", "outcome" => "sent")
            .increment(1);
        metrics::histogram!(crate::ops::metrics::SEND_SECONDS, "channel" => "sms")
            .record(f64::from(k % 100) / 1000.0);
    }
    started.elapsed().as_nanos() as f64 / f64::from(N)
}

/// Throughput with the metrics recorded and not, measured in alternating rounds (off, on, on,
/// off, …) so that drift over the run falls on both alike.
struct Cost {
    on: f64,
    off: f64,
    rounds: usize,
    per_round: usize,
}

async fn metrics_cost(
    runner: &Runner,
    inbox: &Inbox,
    n: usize,
    clients: usize,
) -> anyhow::Result<Cost> {
    const ROUNDS: usize = 8;
    let per_client = REPLIES.len();
    let round_clients = (clients / ROUNDS).max(1);
    let per_round = (n / ROUNDS).max(per_client);
    let (mut on, mut off) = ((0usize, Duration::ZERO), (0usize, Duration::ZERO));
    for round in 0..2 * ROUNDS {
        let recording = matches!(round % 4, 1 | 2);
        let mut ids = Vec::with_capacity(round_clients);
        for c in 0..round_clients {
            ids.push(setup_one(runner, &format!("m{round}-{c:05}"), "en").await?);
        }
        crate::ops::metrics::set_recording(recording);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for (c, id) in ids.into_iter().enumerate() {
            let quota = (per_round / round_clients + usize::from(c < per_round % round_clients))
                .min(per_client);
            let inbox = inbox.clone();
            tasks.push(tokio::spawn(
                async move { replies(&inbox, id, quota).await },
            ));
        }
        let mut done = 0;
        for t in tasks {
            done += t.await??.len();
        }
        let took = started.elapsed();
        let slot = if recording { &mut on } else { &mut off };
        slot.0 += done;
        slot.1 += took;
    }
    crate::ops::metrics::set_recording(true);
    let rate = |(k, d): (usize, Duration)| k as f64 / d.as_secs_f64().max(1e-9);
    Ok(Cost {
        on: rate(on),
        off: rate(off),
        rounds: ROUNDS,
        per_round,
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(super) type Cleanup = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// A throwaway database for the run, and what removes it afterwards.
pub(super) async fn database(args: &Args) -> anyhow::Result<(String, Cleanup)> {
    database_for(&args.db, args.url.as_deref()).await
}

/// A throwaway `db` (sqlite or postgres, at `url` or the default) database.
pub(super) async fn database_for(db: &str, url: Option<&str>) -> anyhow::Result<(String, Cleanup)> {
    match db {
        "sqlite" => {
            let path =
                std::env::temp_dir().join(format!("matters-bench-{}.db", std::process::id()));
            let url = format!("sqlite://{}?mode=rwc", path.display());
            let cleanup: Cleanup = Box::pin(async move {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            });
            Ok((url, cleanup))
        }
        "postgres" => {
            let base = url
                .map(str::to_owned)
                .or_else(|| std::env::var("MATTERS_BENCH_POSTGRES_URL").ok())
                .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
            let admin = crate::store::Db::connect(&base).await?;
            let schema = format!("matters_bench_{}", std::process::id());
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(admin.pool())
                .await?;
            let sep = if base.contains('?') { '&' } else { '?' };
            let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
            let cleanup: Cleanup = Box::pin(async move {
                let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                    .execute(admin.pool())
                    .await;
                admin.close().await;
            });
            Ok((url, cleanup))
        }
        other => anyhow::bail!("--db must be sqlite or postgres, not {other:?}"),
    }
}

async fn setup(runner: &Runner, n: usize) -> anyhow::Result<Vec<ClientId>> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(setup_one(runner, &format!("bench-{i:05}"), "en").await?);
    }
    Ok(out)
}

/// A client speaking `lang` mid-way into the loneliness survey (its first question sent).
pub(super) async fn setup_one(runner: &Runner, id: &str, lang: &str) -> anyhow::Result<ClientId> {
    let id = ClientId::parse(id)?;
    let new = NewClient {
        id: id.clone(),
        language: Locale::parse(lang)?,
        time_zone: runner.centre.time_zone,
        chart_number: None,
        reach: Some((Channel::Simulator, id.to_string())),
        centre: crate::domain::DEFAULT_CENTRE.into(),
    };
    record::add_client(&runner.db, &new, to_ms(runner.clock.now()), "bench").await?;
    runner
        .start_flow(
            &id,
            &FlowId::parse("loneliness")?,
            Some("baseline"),
            IfBusy::Refuse,
            "bench",
        )
        .await?;
    Ok(id)
}

/// One client's replies, each sent once the last has been answered. Returns their latencies.
async fn replies(inbox: &Inbox, client: ClientId, quota: usize) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::with_capacity(quota);
    for k in 0..quota {
        let inbound = Inbound::new(
            Channel::Simulator,
            client.clone(),
            Some(format!("{client}-{k}")),
            REPLIES[k % REPLIES.len()],
        );
        let t = Instant::now();
        let h = inbox.submit(inbound).await?;
        latencies.push(t.elapsed());
        anyhow::ensure!(
            !h.duplicate && !h.replies.is_empty(),
            "reply {k} of {client} got no answer"
        );
    }
    Ok(latencies)
}

/// Latency of one client's replies with nothing else queued: a fresh client answers a whole
/// loneliness survey, several times over. Returns p50 and p99.
async fn light_load(runner: &Runner, inbox: &Inbox) -> anyhow::Result<(Duration, Duration)> {
    let mut all = Vec::new();
    for round in 0..20 {
        let id = setup_one(runner, &format!("alone-{round:02}"), "en").await?;
        all.extend(replies(inbox, id, REPLIES.len()).await?);
    }
    all.sort_unstable();
    let at = |p: f64| all[((all.len() - 1) as f64 * p) as usize];
    Ok((at(0.5), at(0.99)))
}

/// One-row-per-transaction inserts through the same pool.
async fn baseline(runner: &Arc<Runner>, n: usize) -> anyhow::Result<f64> {
    let pool = runner.db.pool().clone();
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_baseline (client_id TEXT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL)")
        .execute(&pool)
        .await?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..BASELINE_TASKS {
        let pool = pool.clone();
        let quota = n / BASELINE_TASKS + usize::from(w < n % BASELINE_TASKS);
        tasks.push(tokio::spawn(async move {
            for k in 0..quota {
                let mut tx = pool.begin().await?;
                sqlx::query(
                    "INSERT INTO bench_baseline (client_id, body, created_at) VALUES ($1, $2, $3)",
                )
                .bind(format!("bench-{w}"))
                .bind("3")
                .bind(i64::try_from(k).unwrap_or_default())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }
            Ok::<_, sqlx::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}
