//! `matters bench inbound --channel twilio`: clients answer a survey by SMS. Each answer is a
//! signed webhook over loopback HTTP into `matters serve`'s router; it is recorded, the reply is
//! queued, the dispatcher sends it to a local stand-in of Twilio's Messages API. A reply's
//! latency runs from posting the webhook to the stand-in accepting the reply. Beside it, in the
//! same run: a bare axum handler that only inserts one row per request, on the same pool.

#[path = "../../tests/support/twilio.rs"]
pub(super) mod standin;

use super::bench::{Args, Cleanup, database};
use crate::channel::twilio::{Client, TwilioConfig};
use crate::clock::{SystemClock, to_ms};
use crate::config::{Config, TwilioSettings};
use crate::domain::{Channel, ClientId, FlowId, Locale};
use crate::loops::dispatch;
use crate::runner::{IfBusy, Runner};
use crate::store::record::{self, NewClient};
use anyhow::Context;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(super) const SID: &str = "ACbe4c4be4c4be4c4be4c4be4c4be4c4be";
pub(super) const TOKEN: &str = "bench-token-bench-token-bench-tok";
const OURS: &str = "+15145550000";

/// Each answer moves the loneliness survey one step and gets exactly one message back: the next
/// question, then the thanks.
const ANSWERS: &[&str] = &["2", "often", "3", "never"];

/// Points `cfg` at the Twilio stand-in at `base`, unpaced, and returns the checked configuration.
pub(super) fn unpaced_twilio(cfg: &mut Config, base: &str) -> anyhow::Result<TwilioConfig> {
    cfg.twilio = TwilioSettings {
        account_sid: Some(SID.into()),
        auth_token: Some(TOKEN.into()),
        from: Some(OURS.into()),
        api_base: base.to_owned(),
        segments_per_second: Some(0.0),
        concurrency: 32,
        ..TwilioSettings::default()
    };
    TwilioConfig::from_config(cfg)
        .map_err(anyhow::Error::msg)?
        .context("the bench's Twilio configuration")
}

/// Webhooks in flight at once (closed loop), like a busy Twilio account's.
const CONCURRENCY: usize = 64;

pub async fn run(cfg: &Config, args: &Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.n > 0 && args.clients > 0,
        "--n and --clients must be positive"
    );
    let (url, cleanup): (String, Cleanup) = database(args).await?;
    let stand_in = standin::StandIn::start_with(SID, TOKEN, false, true).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let mut cfg = cfg.clone();
    cfg.database_url = url;
    cfg.public_url = Some(base.clone());
    let twilio = unpaced_twilio(&mut cfg, &stand_in.base)?;
    let runner = Arc::new(crate::app::build(&cfg, Arc::new(SystemClock)).await?);
    let backend = runner.db.backend().as_str();
    dispatch::spawn(
        runner.clone(),
        Arc::new(Client::new(twilio.clone())?),
        Channel::Sms,
        twilio.dispatch_settings(),
    );
    let state = crate::web::AppState::new(runner.clone()).with_twilio(twilio);
    let pool = runner.db.pool().clone();
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_baseline (client_id TEXT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL)")
        .execute(&pool)
        .await?;
    let app = crate::web::app(state).route(
        "/bare",
        axum::routing::post(move |form: axum::Form<Vec<(String, String)>>| {
            let pool = pool.clone();
            async move {
                let from = form
                    .0
                    .iter()
                    .find(|(k, _)| k == "From")
                    .map(|(_, v)| v.clone());
                match sqlx::query(
                    "INSERT INTO bench_baseline (client_id, body, created_at) VALUES ($1, $2, $3)",
                )
                .bind(from.unwrap_or_default())
                .bind("3")
                .bind(0_i64)
                .execute(&pool)
                .await
                {
                    Ok(_) => axum::http::StatusCode::OK,
                    Err(_) => axum::http::StatusCode::SERVICE_UNAVAILABLE,
                }
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY * 2)
        .build()?;
    let bench = Bench {
        runner: runner.clone(),
        stand_in,
        http,
        base,
    };

    // Closed loop: as fast as it goes.
    let clients = args.clients.max(args.n.div_ceil(ANSWERS.len()));
    eprintln!("setting up {clients} SMS clients mid-survey on {backend}…");
    let phones = bench.setup("load", clients).await?;
    let n = args.n;
    let started = Instant::now();
    let mut latencies = bench.closed_loop(&phones, n).await?;
    let elapsed = started.elapsed();
    let rate = latencies.len() as f64 / elapsed.as_secs_f64();

    // Open loop at a steady rate, on fresh clients.
    let paced_n = args.paced.max(1);
    let paced_clients = paced_n.div_ceil(ANSWERS.len());
    let phones = bench.setup("paced", paced_clients).await?;
    let mut paced = bench.open_loop(&phones, paced_n, args.rate).await?;

    let baseline = bench.baseline(n).await?;

    latencies.sort_unstable();
    paced.sort_unstable();
    println!(
        "inbound twilio {backend}: {} replies from {clients} clients over signed webhooks → recorded → sent to the Twilio stand-in, {CONCURRENCY} webhooks in flight, {:.2} s",
        latencies.len(),
        elapsed.as_secs_f64()
    );
    println!(
        "  replies:  {rate:.0} replies/s, latency p50 {:.2} ms, p99 {:.2} ms (webhook posted → reply accepted by the stand-in)",
        ms(pct(&latencies, 0.5)),
        ms(pct(&latencies, 0.99))
    );
    println!(
        "  at {:.0}/s: latency p50 {:.2} ms, p99 {:.2} ms ({} replies, open loop, from when each was due)",
        args.rate,
        ms(pct(&paced, 0.5)),
        ms(pct(&paced, 0.99)),
        paced.len()
    );
    println!(
        "  baseline: {baseline:.0} requests/s (a bare axum handler inserting one row per request, same pool, {CONCURRENCY} in flight)"
    );
    runner.db.close().await;
    cleanup.await;
    println!(
        "inbound twilio {backend}: {rate:.0} replies/s, baseline {baseline:.0} requests/s, ratio {:.2}",
        rate / baseline
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn pct(v: &[Duration], p: f64) -> Duration {
    v.get(((v.len().max(1) - 1) as f64 * p) as usize)
        .copied()
        .unwrap_or_default()
}

#[derive(Clone)]
struct Bench {
    runner: Arc<Runner>,
    stand_in: standin::StandIn,
    http: reqwest::Client,
    base: String,
}

impl Bench {
    /// Clients enrolled by SMS, each sent the survey's first question (two messages).
    async fn setup(&self, prefix: &str, n: usize) -> anyhow::Result<Vec<String>> {
        let offset = if prefix == "load" { 0 } else { 5_000_000 };
        let mut phones = Vec::with_capacity(n);
        let now = to_ms(self.runner.clock.now());
        let flow = FlowId::parse("loneliness")?;
        for k in 0..n {
            let id = ClientId::parse(&format!("{prefix}-{k:06}"))?;
            let phone = format!("+1514{:07}", offset + k);
            let new = NewClient {
                id: id.clone(),
                language: Locale::parse("en")?,
                time_zone: self.runner.centre.time_zone,
                chart_number: None,
                reach: Some((Channel::Sms, phone.clone())),
                centre: crate::domain::DEFAULT_CENTRE.into(),
            };
            record::add_client(&self.runner.db, &new, now, "bench").await?;
            self.runner
                .start_flow(&id, &flow, Some("baseline"), IfBusy::Refuse, "bench")
                .await?;
            phones.push(phone);
        }
        for p in &phones {
            self.stand_in
                .arrival(p, 2)
                .await
                .with_context(|| format!("the first question to {p} never reached the stand-in"))?;
        }
        Ok(phones)
    }

    /// Answer `k` (from 0) of the client at `phone`; returns when the reply reached the stand-in.
    async fn answer(&self, phone: &str, k: usize) -> anyhow::Result<Instant> {
        let sid = format!("SM{:032x}", hash(phone, k));
        let params: Vec<(String, String)> = [
            ("MessageSid", sid.as_str()),
            ("SmsSid", sid.as_str()),
            ("AccountSid", SID),
            ("From", phone),
            ("To", OURS),
            ("Body", ANSWERS[k % ANSWERS.len()]),
            ("NumMedia", "0"),
            ("NumSegments", "1"),
            ("ApiVersion", "2010-04-01"),
        ]
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
        let url = format!("{}/webhooks/twilio/sms", self.base);
        let sig = standin::sign(TOKEN, &url, &params);
        let resp = self
            .http
            .post(&url)
            .header("X-Twilio-Signature", sig)
            .form(&params)
            .send()
            .await?;
        anyhow::ensure!(
            resp.status().is_success(),
            "webhook answered {}",
            resp.status()
        );
        self.stand_in
            .arrival(phone, 3 + k)
            .await
            .with_context(|| format!("reply {k} to {phone} never reached the stand-in"))
    }

    async fn closed_loop(
        self: &Bench,
        phones: &[String],
        n: usize,
    ) -> anyhow::Result<Vec<Duration>> {
        let work: Vec<(String, usize)> = phones
            .iter()
            .enumerate()
            .map(|(c, p)| {
                let quota =
                    (n / phones.len() + usize::from(c < n % phones.len())).min(ANSWERS.len());
                (p.clone(), quota)
            })
            .collect();
        let queue = Arc::new(std::sync::Mutex::new(work));
        let this = Arc::new(self.clone());
        let mut tasks = Vec::new();
        for _ in 0..CONCURRENCY.min(phones.len()) {
            let queue = queue.clone();
            let this = this.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                loop {
                    let next = queue.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.pop();
                    let Some((phone, quota)) = next else { break };
                    for k in 0..quota {
                        let t = Instant::now();
                        let arrived = this.answer(&phone, k).await?;
                        lat.push(arrived.saturating_duration_since(t));
                    }
                }
                Ok::<_, anyhow::Error>(lat)
            }));
        }
        let mut all = Vec::with_capacity(n);
        for t in tasks {
            all.extend(t.await??);
        }
        Ok(all)
    }

    async fn open_loop(
        &self,
        phones: &[String],
        n: usize,
        rate: f64,
    ) -> anyhow::Result<Vec<Duration>> {
        anyhow::ensure!(rate > 0.0, "--rate must be positive");
        let start = Instant::now() + Duration::from_millis(50);
        let this = Arc::new(self.clone());
        let clients = phones.len();
        let mut tasks = Vec::new();
        for (c, phone) in phones.iter().enumerate() {
            let this = this.clone();
            let phone = phone.clone();
            let quota = (n / clients + usize::from(c < n % clients)).min(ANSWERS.len());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                for k in 0..quota {
                    let due = start + Duration::from_secs_f64((k * clients + c) as f64 / rate);
                    tokio::time::sleep_until(due.into()).await;
                    let arrived = this.answer(&phone, k).await?;
                    lat.push(arrived.saturating_duration_since(due));
                }
                Ok::<_, anyhow::Error>(lat)
            }));
        }
        let mut all = Vec::with_capacity(n);
        for t in tasks {
            all.extend(t.await??);
        }
        Ok(all)
    }

    /// The same number of requests as the replies, to a handler that inserts one row each.
    async fn baseline(&self, n: usize) -> anyhow::Result<f64> {
        let url = format!("{}/bare", self.base);
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..CONCURRENCY {
            let (http, url, next) = (self.http.clone(), url.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < n {
                    let r = http
                        .post(&url)
                        .form(&[("From", "+15145550001"), ("Body", "3")])
                        .send()
                        .await?;
                    anyhow::ensure!(
                        r.status().is_success(),
                        "bare handler answered {}",
                        r.status()
                    );
                }
                Ok::<_, anyhow::Error>(())
            }));
        }
        for t in tasks {
            t.await??;
        }
        Ok(n as f64 / started.elapsed().as_secs_f64())
    }
}

fn hash(phone: &str, k: usize) -> u128 {
    let digits: u128 = phone
        .chars()
        .filter(char::is_ascii_digit)
        .fold(0, |a, c| a * 10 + u128::from(c.to_digit(10).unwrap_or(0)));
    digits * 16 + k as u128
}
