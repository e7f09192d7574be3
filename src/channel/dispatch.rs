//! The dispatcher: claims queued messages of one channel (replies before bulk), paces them per
//! sender, sends a few at once, retries with backoff and jitter what may succeed later, and
//! records the outcome. It wakes when the runner queues a message, and polls for the rows
//! other processes queued.

use super::{Accepted, Outgoing, SendError, Transport};
use crate::clock::to_ms;
use crate::domain::Channel;
use crate::runner::Runner;
use crate::store::delivery::{self, Followup};
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use tokio::time::Instant;

/// How a dispatcher paces and retries.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `None`: unpaced.
    pub segments_per_second: Option<f64>,
    pub max_attempts: u32,
    pub backoff: Duration,
    pub concurrency: usize,
    /// How often to look for rows queued by other processes.
    pub poll: Duration,
    /// Messages to one address leave one after the other, in order, at most one per this
    /// interval (Telegram: a second per chat). `None`: no order kept between them.
    pub per_address: Option<Duration>,
}

/// Paces one sender: each message reserves its segments' share of the sender's throughput.
#[derive(Debug, Clone)]
pub struct Pacer {
    per_segment: Option<Duration>,
    next_free: Option<Instant>,
}

impl Pacer {
    #[must_use]
    pub fn new(segments_per_second: Option<f64>) -> Self {
        Self {
            per_segment: segments_per_second
                .filter(|r| *r > 0.0 && r.is_finite())
                .map(|r| Duration::from_secs_f64(1.0 / r)),
            next_free: None,
        }
    }

    /// When a message of `segments` may start, given that it is `now`.
    pub fn reserve(&mut self, now: Instant, segments: u32) -> Instant {
        let Some(per) = self.per_segment else {
            return now;
        };
        let start = self.next_free.map_or(now, |t| t.max(now));
        self.next_free = Some(start + per * segments.max(1));
        start
    }

    /// When the sender is next free (now, if unpaced or idle).
    #[must_use]
    pub fn next_free(&self, now: Instant) -> Instant {
        self.next_free.map_or(now, |t| t.max(now))
    }
}

/// The wait before retry number `attempt` (1 for the first retry): doubling from `base`, capped
/// at a minute, with jitter between half and all of it so that retries do not move in step.
#[must_use]
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let full = base
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(Duration::from_secs(60));
    let half = full / 2;
    half + full.mul_f64(rand::rng().random_range(0.0..=0.5))
}

/// A claim older than this is taken to be a dead dispatcher's and queued again.
const LEASE: Duration = Duration::from_secs(300);

/// A running dispatcher.
#[derive(Debug, Clone)]
pub struct Handle {
    /// Counts the batches of outcomes recorded (sent, failed), for whoever waits on them.
    pub recorded: watch::Receiver<u64>,
}

/// Starts a dispatcher for `channel`. It runs until the process ends.
pub fn spawn<T: Transport>(
    runner: Arc<Runner>,
    transport: Arc<T>,
    channel: Channel,
    settings: Settings,
) -> Handle {
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let (recorded_tx, recorded) = watch::channel(0);
    tokio::spawn(recorder(runner.clone(), channel, done_rx, recorded_tx));
    tokio::spawn(claimer(runner, transport, channel, settings, done_tx));
    Handle { recorded }
}

type Done = (Outgoing, Result<Accepted, SendError>);

async fn claimer<T: Transport>(
    runner: Arc<Runner>,
    transport: Arc<T>,
    channel: Channel,
    settings: Settings,
    done: mpsc::UnboundedSender<Done>,
) {
    let ch = channel.as_str();
    let mut wake = runner.queued.subscribe();
    let mut pacer = Pacer::new(settings.segments_per_second);
    let permits = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    // Claim only what can start within a second, so a reply queued now is not stuck behind a
    // long line of bulk nudges already claimed.
    let per_second = settings
        .segments_per_second
        .map_or(usize::MAX, |r| r.floor().max(1.0) as usize);
    let mut last_housekeeping: Option<Instant> = None;
    // When each address may next get a message, where the channel paces per address.
    let mut address_free: std::collections::HashMap<String, Instant> =
        std::collections::HashMap::new();
    // The send before each one to the same address, which it waits for (keeps them in order).
    let mut chains: std::collections::HashMap<String, oneshot::Receiver<bool>> =
        std::collections::HashMap::new();
    // A provider's "retry after": every send of this sender waits until then.
    let hold = Arc::new(std::sync::Mutex::new(None::<Instant>));
    loop {
        let now_ms = to_ms(runner.clock.now());
        if last_housekeeping.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
            last_housekeeping = Some(Instant::now());
            let now = Instant::now();
            address_free.retain(|_, t| *t > now);
            chains
                .retain(|_, rx| matches!(rx.try_recv(), Err(oneshot::error::TryRecvError::Empty)));
            let lease = i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX);
            if let Err(e) = delivery::release_stale(&runner.db, ch, now_ms - lease).await {
                tracing::warn!(channel = ch, error = %e, "could not release stale claims");
            }
            // The claim already skips them; this shows them as not sent in the record.
            if let Err(e) = delivery::suppress_opted_out(&runner.db, ch, now_ms).await {
                tracing::warn!(channel = ch, error = %e, "could not mark messages to opted-out clients");
            }
        }
        // Wait for the sender to be nearly free, then for room in flight.
        let ahead = pacer.next_free(Instant::now());
        if ahead > Instant::now() + Duration::from_secs(1) {
            tokio::time::sleep_until(ahead - Duration::from_secs(1)).await;
        }
        let room = permits.available_permits().max(1).min(per_second).min(64);
        let claimed = match delivery::claim(&runner.db, ch, room, now_ms).await {
            Ok(c) => c,
            // The service is shutting down.
            Err(_) if runner.db.pool().is_closed() => return,
            Err(e) => {
                tracing::warn!(channel = ch, error = %e, "could not claim queued messages");
                tokio::time::sleep(settings.poll).await;
                continue;
            }
        };
        if claimed.is_empty() {
            tokio::select! {
                _ = wake.changed() => {}
                () = tokio::time::sleep(settings.poll) => {}
            }
            continue;
        }
        for m in claimed {
            let mut start = pacer.reserve(Instant::now(), m.segments);
            let mut before = None;
            let mut finished = None;
            if let Some(gap) = settings.per_address {
                let free = address_free.entry(m.address.clone()).or_insert(start);
                start = start.max(*free);
                *free = start + gap;
                let (tx, rx) = oneshot::channel();
                // Only a send still in flight holds this one back (a refusal long past says
                // nothing about a message queued since, after a /start say).
                before = chains
                    .insert(m.address.clone(), rx)
                    .filter(|b| b.is_empty() && !b.is_terminated());
                finished = Some(tx);
            }
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            let transport = transport.clone();
            let done = done.clone();
            let settings = settings.clone();
            let hold = hold.clone();
            tokio::spawn(async move {
                // The message before it to the same address: if the provider said the client is
                // gone (blocked the bot), this one is not even tried.
                let gone = match before {
                    Some(before) => before.await.unwrap_or(false),
                    None => false,
                };
                let result = if gone {
                    Err(SendError::Provider {
                        http: 403,
                        code: Some(403),
                        message: "not sent: the message before it was refused (blocked)".into(),
                    })
                } else {
                    tokio::time::sleep_until(start).await;
                    send_with_retries(&*transport, &m, &settings, &hold).await
                };
                if let Some(f) = finished {
                    let refused = matches!(&result, Err(SendError::Provider { http: 403, .. }));
                    let _ = f.send(refused);
                }
                drop(permit);
                let _ = done.send((m, result));
            });
        }
    }
}

async fn send_with_retries<T: Transport>(
    transport: &T,
    m: &Outgoing,
    settings: &Settings,
    hold: &std::sync::Mutex<Option<Instant>>,
) -> Result<Accepted, SendError> {
    let mut attempt = 1;
    loop {
        let until = *hold
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
        match transport.send(m).await {
            Ok(a) => return Ok(a),
            Err(SendError::RetryAfter(wait)) if attempt < settings.max_attempts => {
                tracing::info!(
                    message = m.id,
                    attempt,
                    ?wait,
                    "the provider asked us to wait"
                );
                let until = Instant::now() + wait;
                {
                    let mut h = hold
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    *h = Some(h.map_or(until, |t| t.max(until)));
                }
                attempt += 1;
            }
            Err(e) if e.retryable() && attempt < settings.max_attempts => {
                tracing::info!(message = m.id, attempt, error = %e, "send failed; will retry");
                tokio::time::sleep(backoff(settings.backoff, attempt)).await;
                attempt += 1;
            }
            Err(e) => {
                return Err(if e.retryable() {
                    SendError::Provider {
                        http: 0,
                        code: e.code(),
                        message: format!("gave up after {attempt} attempts: {e}"),
                    }
                } else {
                    e
                });
            }
        }
    }
}

/// Records outcomes in batches (one statement for many sent messages), then acts on the errors
/// that mean something for the client's record.
async fn recorder(
    runner: Arc<Runner>,
    channel: Channel,
    mut rx: mpsc::UnboundedReceiver<Done>,
    recorded: watch::Sender<u64>,
) {
    let ch = channel.as_str();
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 256 {
            match rx.try_recv() {
                Ok(d) => batch.push(d),
                Err(_) => break,
            }
        }
        let now = to_ms(runner.clock.now());
        let mut sent = Vec::new();
        for (m, result) in batch {
            match result {
                Ok(a) => sent.push((m.id, a)),
                Err(e) => {
                    let reason = match (channel, e.code()) {
                        (Channel::Sms, Some(c)) => format!("{e} ({})", super::twilio::explain(c)),
                        _ => e.to_string(),
                    };
                    tracing::warn!(channel = ch, message = m.id, error = %e, "message not sent");
                    if let Err(err) =
                        delivery::mark_failed(&runner.db, m.id, &reason, e.code(), now).await
                    {
                        tracing::error!(channel = ch, message = m.id, error = %err, "could not record a failed message");
                    }
                    let f = Followup {
                        message_id: m.id,
                        client: m.client.clone(),
                        status: "failed".into(),
                        error_code: e.code().map(|c| c.to_string()),
                    };
                    act_on(&runner, channel, &f).await;
                }
            }
        }
        match delivery::mark_sent(&runner.db, ch, &sent, now).await {
            Ok(followups) => {
                for f in followups {
                    act_on(&runner, channel, &f).await;
                }
            }
            Err(_) if runner.db.pool().is_closed() => return,
            Err(e) => {
                tracing::error!(channel = ch, error = %e, count = sent.len(), "could not record sent messages");
            }
        }
        recorded.send_modify(|n| *n += 1);
    }
}

/// What an error code means for the record: an opt-out at the carrier, a wrong number, a
/// phone that keeps failing. Errors here are logged: the message row is already right.
pub async fn act_on(runner: &Runner, channel: Channel, f: &Followup) {
    if let Err(e) = runner.act_on_delivery(channel, f).await {
        tracing::error!(channel = channel.as_str(), message = f.message_id, error = %e, "could not act on a delivery error");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_segment_a_second_paces_by_segments() {
        let mut p = Pacer::new(Some(1.0));
        let t0 = Instant::now();
        assert_eq!(p.reserve(t0, 1), t0);
        assert_eq!(p.reserve(t0, 2), t0 + Duration::from_secs(1));
        assert_eq!(p.reserve(t0, 1), t0 + Duration::from_secs(3));
        // Idle time is not banked: a sender free since long ago starts now, once.
        let later = t0 + Duration::from_secs(100);
        assert_eq!(p.reserve(later, 1), later);
        assert_eq!(p.reserve(later, 1), later + Duration::from_secs(1));
    }

    #[test]
    fn an_unpaced_sender_never_waits() {
        let mut p = Pacer::new(None);
        let t0 = Instant::now();
        for _ in 0..10 {
            assert_eq!(p.reserve(t0, 3), t0);
        }
        let mut short_code = Pacer::new(Some(100.0));
        short_code.reserve(t0, 1);
        assert_eq!(short_code.reserve(t0, 1), t0 + Duration::from_millis(10));
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let base = Duration::from_millis(100);
        for attempt in 1..=4 {
            let full = base * 2u32.pow(attempt - 1);
            for _ in 0..50 {
                let d = backoff(base, attempt);
                assert!(d >= full / 2 && d <= full, "{attempt}: {d:?}");
            }
        }
        assert!(backoff(base, 30) <= Duration::from_secs(60));
    }

    #[test]
    fn only_busy_server_and_connection_errors_are_retried() {
        let p = |http, code| SendError::Provider {
            http,
            code,
            message: String::new(),
        };
        assert!(p(429, Some(20429)).retryable());
        assert!(p(400, Some(20429)).retryable());
        assert!(p(500, None).retryable());
        assert!(p(503, None).retryable());
        assert!(SendError::Transport("cannot connect".into()).retryable());
        assert!(!p(400, Some(21211)).retryable());
        assert!(!p(400, Some(21610)).retryable());
        assert!(!p(401, Some(20003)).retryable());
        assert!(!p(404, None).retryable());
    }
}
