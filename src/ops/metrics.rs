//! The service's metrics, in Prometheus's text format (`GET /metrics`), through the `metrics`
//! facade and its Prometheus exporter. Every series is named `matters_…` and carries counts,
//! timings and labels from a short fixed list (channel, outcome, priority, provider error code,
//! urgency): never a client, an address or a word a client wrote.
//!
//! Counters and timings are recorded where things happen; the gauges that describe the
//! database (outbox depth, due jobs, open flags, the pool) are read from it at each scrape, so
//! every process of a deployment reports the same and nothing drifts.

use crate::runner::Runner;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use sqlx::Row;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Inbound messages, by `channel` and `outcome` (handled, duplicate, unmatched, error).
pub const INBOUND: &str = "matters_inbound_messages_total";
/// Sends to a provider, by `channel` and `outcome` (sent, failed).
pub const SENDS: &str = "matters_sends_total";
/// Seconds one send took, retries included, by `channel`.
pub const SEND_SECONDS: &str = "matters_send_seconds";
/// Failed sends, by `channel` and the provider's error `code` (`none` when it gave none).
pub const SEND_FAILURES: &str = "matters_send_failures_total";
/// Jobs the scheduler claimed.
pub const SCHEDULER_CLAIMS: &str = "matters_scheduler_claims_total";
/// Webhook requests refused for a bad signature or secret, by `channel`.
pub const SIGNATURE_REFUSALS: &str = "matters_webhook_signature_refusals_total";
/// HTTP requests answered, by `status` class (2xx…).
pub const HTTP_REQUESTS: &str = "matters_http_requests_total";
/// Rows purged under the retention policy, by `what` (message-bodies, clients).
pub const PURGED: &str = "matters_retention_purged_total";

struct Switch {
    inner: PrometheusRecorder,
}

/// Whether recording is on (the inbound benchmark turns it off and on to price it).
static ON: AtomicBool = AtomicBool::new(true);
static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

impl Recorder for Switch {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_counter(key, unit, description);
    }
    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_gauge(key, unit, description);
    }
    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_histogram(key, unit, description);
    }
    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        if ON.load(Ordering::Relaxed) {
            self.inner.register_counter(key, metadata)
        } else {
            Counter::noop()
        }
    }
    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        if ON.load(Ordering::Relaxed) {
            self.inner.register_gauge(key, metadata)
        } else {
            Gauge::noop()
        }
    }
    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        if ON.load(Ordering::Relaxed) {
            self.inner.register_histogram(key, metadata)
        } else {
            Histogram::noop()
        }
    }
}

/// What renders the metrics.
#[derive(Clone)]
pub struct Exporter(PrometheusHandle);

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Exporter")
    }
}

/// Installs the process's recorder (once; later calls give the same handle). `None` when
/// another recorder was installed first.
pub fn install() -> Option<Exporter> {
    install_handle().map(Exporter)
}

fn install_handle() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("seconds".into()),
                    &[0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0],
                )
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let inner = builder.build_recorder();
            let handle = inner.handle();
            metrics::set_global_recorder(Switch { inner }).ok()?;
            describe();
            Some(handle)
        })
        .clone()
}

/// Turns recording on or off for the whole process.
pub fn set_recording(on: bool) {
    ON.store(on, Ordering::Relaxed);
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        INBOUND,
        "Messages received from clients, by channel and outcome."
    );
    describe_counter!(
        SENDS,
        "Messages handed to a provider, by channel and outcome."
    );
    describe_histogram!(
        SEND_SECONDS,
        Unit::Seconds,
        "Time to send one message, retries included."
    );
    describe_counter!(
        SEND_FAILURES,
        "Messages not sent, by channel and provider error code."
    );
    describe_counter!(SCHEDULER_CLAIMS, "Due jobs claimed by the scheduler.");
    describe_counter!(
        SIGNATURE_REFUSALS,
        "Webhook requests refused for a bad signature or secret."
    );
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by status class.");
    describe_counter!(PURGED, "Rows purged under the retention policy.");
    describe_gauge!(
        "matters_outbox_depth",
        "Messages queued to send, by channel and priority."
    );
    describe_gauge!(
        "matters_outbox_oldest_queued_seconds",
        Unit::Seconds,
        "Age of the oldest queued message, by channel."
    );
    describe_gauge!("matters_jobs_due", "Scheduled jobs due and not yet done.");
    describe_gauge!(
        "matters_jobs_oldest_due_lag_seconds",
        Unit::Seconds,
        "How late the oldest due job is."
    );
    describe_gauge!(
        "matters_flags_open",
        "Open flags and tasks for navigators, by urgency."
    );
    describe_gauge!(
        "matters_db_pool_connections",
        "Database connections, by state (idle, in_use)."
    );
    describe_gauge!(
        "matters_db_pool_max_connections",
        "The most database connections the pool opens."
    );
}

/// Counts one inbound message.
pub fn inbound(channel: &str, outcome: &'static str) {
    metrics::counter!(INBOUND, "channel" => channel.to_owned(), "outcome" => outcome).increment(1);
}

/// The channels and priorities a gauge is reported for, zero included (a gauge that goes
/// quiet must read 0, not keep its last value).
const CHANNELS: [&str; 3] = ["sms", "telegram", "simulator"];
const PRIORITIES: [(i64, &str); 2] = [(0, "reply"), (1, "bulk")];
const URGENCIES: [&str; 2] = ["urgent", "normal"];

/// Reads the gauges from the database, then renders every series.
pub async fn scrape(
    runner: &Runner,
    exporter: &Exporter,
) -> Result<String, crate::store::StoreError> {
    let handle = &exporter.0;
    use crate::store::Doing;
    let db = &runner.db;
    let now = crate::clock::to_ms(runner.clock.now());
    let pool = db.pool();
    let size = f64::from(pool.size());
    let idle = pool.num_idle() as f64;
    metrics::gauge!("matters_db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("matters_db_pool_connections", "state" => "in_use").set((size - idle).max(0.0));
    metrics::gauge!("matters_db_pool_max_connections")
        .set(f64::from(pool.options().get_max_connections()));
    let doing = "reading the metrics";
    let mut c = db.acquire(doing).await?;
    let rows = sqlx::query(
        "SELECT channel, priority, COUNT(*), MIN(created_at) FROM messages WHERE status = 'queued' AND direction = 'out' GROUP BY channel, priority",
    )
    .fetch_all(&mut *c)
    .await
    .doing(doing)?;
    let mut depth = std::collections::HashMap::new();
    let mut oldest: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    for r in rows {
        let ch: String = r.try_get(0).doing(doing)?;
        let pr: i64 = r.try_get(1).doing(doing)?;
        let n: i64 = r.try_get(2).doing(doing)?;
        let at: i64 = r.try_get(3).doing(doing)?;
        depth.insert((ch.clone(), pr), n);
        let e = oldest.entry(ch).or_insert(at);
        *e = (*e).min(at);
    }
    for ch in CHANNELS {
        for (p, label) in PRIORITIES {
            let n = depth.get(&(ch.to_owned(), p)).copied().unwrap_or(0);
            metrics::gauge!("matters_outbox_depth", "channel" => ch, "priority" => label)
                .set(n as f64);
        }
        let age = oldest.get(ch).map_or(0, |at| (now - at).max(0));
        metrics::gauge!("matters_outbox_oldest_queued_seconds", "channel" => ch)
            .set(age as f64 / 1000.0);
    }
    let due = sqlx::query(
        "SELECT COUNT(*), MIN(due_at) FROM jobs WHERE status = 'pending' AND due_at <= $1",
    )
    .bind(now)
    .fetch_one(&mut *c)
    .await
    .doing(doing)?;
    let n: i64 = due.try_get(0).doing(doing)?;
    let first: Option<i64> = due.try_get(1).doing(doing)?;
    metrics::gauge!("matters_jobs_due").set(n as f64);
    metrics::gauge!("matters_jobs_oldest_due_lag_seconds")
        .set(first.map_or(0, |f| (now - f).max(0)) as f64 / 1000.0);
    let flags =
        sqlx::query("SELECT urgency, COUNT(*) FROM flags WHERE status = 'open' GROUP BY urgency")
            .fetch_all(&mut *c)
            .await
            .doing(doing)?;
    let mut open = std::collections::HashMap::new();
    for r in flags {
        let u: String = r.try_get(0).doing(doing)?;
        let n: i64 = r.try_get(1).doing(doing)?;
        open.insert(u, n);
    }
    for u in URGENCIES {
        metrics::gauge!("matters_flags_open", "urgency" => u)
            .set(open.get(u).copied().unwrap_or(0) as f64);
    }
    drop(c);
    handle.run_upkeep();
    Ok(handle.render())
}
