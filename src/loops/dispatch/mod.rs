//! The dispatcher: claims queued messages of one channel (replies before bulk), paces them per
//! sender, sends a few at once, retries with backoff and jitter what may succeed later, and
//! records the outcome. It wakes when the runner queues a message, and polls for the rows
//! other processes queued. A claim is a lease, renewed while the send is in flight; a message
//! whose lease lapsed (its process died mid-send) is *in doubt*, and is looked up at the
//! provider before it is sent again. On a stop it claims nothing more, puts back what has not
//! started and lets the sends in flight finish.

use crate::channel::{Accepted, Lookup, Outgoing, SendError, Transport};
use crate::clock::to_ms;
use crate::domain::Channel;
use crate::runner::Runner;
use crate::store::delivery::{self, Followup};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use tokio::time::Instant;

mod pace;
mod send;

pub use crate::channel::SendSettings as Settings;
use pace::Pace;
pub use pace::{Pacer, backoff};
use send::Sending;

/// A running dispatcher.
#[derive(Debug)]
pub struct Handle {
    /// Counts the batches of outcomes recorded (sent, failed), for whoever waits on them.
    pub recorded: watch::Receiver<u64>,
    /// Ends once the service is stopping and every send started is recorded: the rest were put
    /// back in the queue.
    pub done: tokio::task::JoinHandle<()>,
}

/// Starts a dispatcher for `channel`. It runs until the runner's shutdown is raised; then it
/// claims nothing more, puts back what has not started, and lets the sends in flight finish.
pub fn spawn<T: Transport>(
    runner: Arc<Runner>,
    transport: Arc<T>,
    channel: Channel,
    settings: Settings,
) -> Handle {
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let (recorded_tx, recorded) = watch::channel(0);
    let in_flight = InFlight::default();
    let done = tokio::spawn(recorder(
        runner.clone(),
        channel,
        done_rx,
        recorded_tx,
        in_flight.clone(),
        settings.lease,
    ));
    tokio::spawn(claimer(
        runner, transport, channel, settings, done_tx, in_flight,
    ));
    Handle { recorded, done }
}

/// What became of one claimed message.
#[derive(Debug)]
enum Outcome {
    Sent(Accepted),
    Failed(SendError),
    /// The service stopped before it was tried: it goes back in the queue.
    NotStarted,
    /// The service stopped between tries whose outcome is unknown (a server error, a broken
    /// connection): it stays claimed, and is looked up once its claim lapses.
    InDoubt,
}

type Done = (Outgoing, Outcome);

/// The messages this process has claimed and not yet recorded: their claim is renewed.
#[derive(Debug, Clone, Default)]
struct InFlight(Arc<std::sync::Mutex<std::collections::HashSet<i64>>>);

impl InFlight {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<i64>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// How often a claim is renewed and lapsed claims looked for: a third of the lease, between a
/// tenth of a second and ten seconds.
fn renew_every(lease: Duration) -> Duration {
    (lease / 3).clamp(Duration::from_millis(100), Duration::from_secs(10))
}

async fn claimer<T: Transport>(
    runner: Arc<Runner>,
    transport: Arc<T>,
    channel: Channel,
    settings: Settings,
    done: mpsc::UnboundedSender<Done>,
    in_flight: InFlight,
) {
    let ch = channel.as_str();
    let mut stop = runner.shutdown.signal();
    let mut wake = runner.queued.subscribe();
    let pace = Arc::new(Pace::new(&settings, &runner.db));
    // Sends at once.
    let permits = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    // Messages claimed and not yet started: only what can start within a second, so a reply
    // queued now is not stuck behind a long line of bulk nudges already claimed. A message
    // that waits for its chat (the one before it to the same address) gives its place up.
    let per_second = settings
        .segments_per_second
        .map_or(usize::MAX, |r| r.floor().max(1.0) as usize);
    let claims = Arc::new(Semaphore::new(
        settings.concurrency.max(1).min(per_second).min(64),
    ));
    let mut last_housekeeping: Option<Instant> = None;
    let mut last_cleanup = Instant::now();
    let mut settling: Option<tokio::task::JoinHandle<()>> = None;
    // When each address last got a message, where the channel paces per address.
    let last_sent: Arc<std::sync::Mutex<std::collections::HashMap<String, Instant>>> =
        Arc::default();
    // The send before each one to the same address, which it waits for (keeps them in order).
    let mut chains: std::collections::HashMap<String, oneshot::Receiver<bool>> =
        std::collections::HashMap::new();
    // A provider's "retry after": every send of this sender waits until then.
    let hold = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let lease_ms = i64::try_from(settings.lease.as_millis()).unwrap_or(i64::MAX);
    let alive = runner.loops.register(format!("{ch} dispatcher"));
    loop {
        alive.beat();
        if stop.is_stopping() {
            break;
        }
        let now_ms = to_ms(runner.clock.now());
        if last_housekeeping.is_none_or(|t| t.elapsed() >= renew_every(settings.lease)) {
            last_housekeeping = Some(Instant::now());
            // A dead process's sends: looked up at the provider before anything is sent again.
            if settling
                .as_ref()
                .is_none_or(tokio::task::JoinHandle::is_finished)
            {
                settling = Some(tokio::spawn(settle_in_doubt(
                    runner.clone(),
                    transport.clone(),
                    channel,
                    now_ms - lease_ms,
                )));
            }
        }
        if last_cleanup.elapsed() >= Duration::from_secs(10) {
            last_cleanup = Instant::now();
            if let Some(gap) = settings.per_address {
                let now = Instant::now();
                last_sent
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .retain(|_, t| *t + gap > now);
            }
            chains
                .retain(|_, rx| matches!(rx.try_recv(), Err(oneshot::error::TryRecvError::Empty)));
            // The claim already skips them; this shows them as not sent in the record.
            if let Err(e) = delivery::suppress_opted_out(&runner.db, ch, now_ms).await {
                let e = runner.db.explain(e).await;
                tracing::warn!(channel = ch, error = %e, "could not mark messages to opted-out clients");
            }
        }
        // Room to claim: at least one place, and every place free now.
        let first = tokio::select! {
            p = claims.clone().acquire_owned() => p.ok(),
            () = stop.wait() => None,
        };
        let Some(first) = first else { break };
        let mut places = vec![first];
        while let Ok(p) = claims.clone().try_acquire_owned() {
            places.push(p);
        }
        let claimed = match delivery::claim(&runner.db, ch, places.len(), now_ms).await {
            Ok(c) => c,
            // The service is shutting down.
            Err(_) if runner.db.pool().is_closed() => break,
            Err(e) => {
                drop(places);
                tracing::warn!(channel = ch, error = %e, "could not claim queued messages");
                tokio::select! {
                    () = tokio::time::sleep(settings.poll) => {}
                    () = stop.wait() => break,
                }
                continue;
            }
        };
        places.truncate(claimed.len());
        if claimed.is_empty() {
            tokio::select! {
                _ = wake.changed() => {}
                () = tokio::time::sleep(settings.poll) => {}
                () = stop.wait() => break,
            }
            continue;
        }
        in_flight.lock().extend(claimed.iter().map(|m| m.id));
        for (m, place) in claimed.into_iter().zip(places) {
            let mut before = None;
            let mut finished = None;
            if settings.per_address.is_some() {
                let (tx, rx) = oneshot::channel();
                // Only a send still in flight holds this one back (a refusal long past says
                // nothing about a message queued since, after a /start say).
                before = chains
                    .insert(m.address.clone(), rx)
                    .filter(|b| b.is_empty() && !b.is_terminated());
                finished = Some(tx);
            }
            let job = Sending {
                transport: transport.clone(),
                settings: settings.clone(),
                hold: hold.clone(),
                pace: pace.clone(),
                permits: permits.clone(),
                last_sent: last_sent.clone(),
                stop: stop.clone(),
                channel: ch,
            };
            let done = done.clone();
            tokio::spawn(async move {
                let outcome = job.run(&m, place, before, finished).await;
                let _ = done.send((m, outcome));
            });
        }
    }
    tracing::debug!(channel = ch, "dispatcher stopped claiming");
}

/// Looks up, at the provider, the messages whose claim lapsed before `before`: one the provider
/// has is recorded as sent with its id, never sent twice; one it does not have (or a provider
/// that cannot be asked) goes back in the queue; one it could not be asked about stays in
/// doubt and is looked up again when its new claim lapses.
async fn settle_in_doubt<T: Transport>(
    runner: Arc<Runner>,
    transport: Arc<T>,
    channel: Channel,
    before: i64,
) {
    let ch = channel.as_str();
    let now = to_ms(runner.clock.now());
    let doubts = match delivery::claim_in_doubt(&runner.db, ch, before, now, 64).await {
        Ok(d) => d,
        Err(e) => {
            if !runner.db.pool().is_closed() {
                let e = runner.db.explain(e).await;
                tracing::warn!(channel = ch, error = %e, "could not take up messages in doubt");
            }
            return;
        }
    };
    for d in doubts {
        let id = d.message.id;
        let settled = match transport.lookup(&d.message, d.queued_at).await {
            Ok(Lookup::Found(candidates)) => {
                let sids: Vec<&str> = candidates.iter().map(|a| a.provider_id.as_str()).collect();
                match delivery::known_provider_ids(&runner.db, ch, &sids).await {
                    Ok(known) => Ok(candidates
                        .into_iter()
                        .find(|a| !known.contains(&a.provider_id))),
                    Err(e) => Err(e.to_string()),
                }
            }
            Ok(Lookup::Unsupported) => Ok(None),
            Err(e) => Err(e.to_string()),
        };
        let now = to_ms(runner.clock.now());
        match settled {
            Ok(Some(a)) => {
                tracing::info!(channel = ch, message_id = id, provider_status = %a.provider_status, "a message in doubt had reached the provider: recorded, not sent again");
                match delivery::mark_sent(&runner.db, ch, &[(id, a)], now).await {
                    Ok(followups) => {
                        for f in followups {
                            act_on(&runner, channel, &f).await;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(channel = ch, message_id = id, error = %e, "could not record a message found in doubt");
                    }
                }
            }
            Ok(None) => {
                tracing::info!(
                    channel = ch,
                    message_id = id,
                    "a message in doubt had not reached the provider (or it cannot say): sent again"
                );
                if let Err(e) = delivery::requeue(&runner.db, &[id], now).await {
                    tracing::warn!(channel = ch, message_id = id, error = %e, "could not queue a message in doubt again");
                }
                runner.queued.send_modify(|n| *n = n.wrapping_add(1));
            }
            Err(e) => {
                tracing::warn!(channel = ch, message_id = id, error = %e, "could not ask the provider about a message in doubt; it stays in doubt");
            }
        }
    }
}

/// Records outcomes in batches (one statement for many sent messages), then acts on the errors
/// that mean something for the client's record. Meanwhile it renews the claim of the messages
/// still in flight. It ends when the claimer has stopped and every send is recorded.
async fn recorder(
    runner: Arc<Runner>,
    channel: Channel,
    mut rx: mpsc::UnboundedReceiver<Done>,
    recorded: watch::Sender<u64>,
    in_flight: InFlight,
    lease: Duration,
) {
    let ch = channel.as_str();
    let mut renew = tokio::time::interval(renew_every(lease));
    renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let first = tokio::select! {
            d = rx.recv() => match d {
                Some(d) => d,
                None => break,
            },
            _ = renew.tick() => {
                let ids: Vec<i64> = in_flight.lock().iter().copied().collect();
                let now = to_ms(runner.clock.now());
                if let Err(e) = delivery::renew(&runner.db, &ids, now).await
                    && !runner.db.pool().is_closed()
                {
                    let e = runner.db.explain(e).await;
                    tracing::warn!(channel = ch, error = %e, "could not renew the claim of messages being sent");
                }
                continue;
            }
        };
        let mut batch = vec![first];
        while batch.len() < 256 {
            match rx.try_recv() {
                Ok(d) => batch.push(d),
                Err(_) => break,
            }
        }
        let now = to_ms(runner.clock.now());
        let mut sent = Vec::new();
        let mut back = Vec::new();
        let ids: Vec<i64> = batch.iter().map(|(m, _)| m.id).collect();
        for (m, outcome) in batch {
            match outcome {
                Outcome::Sent(a) => {
                    metrics::counter!(crate::ops::metrics::SENDS, "channel" => ch, "outcome" => "sent").increment(1);
                    tracing::info!(channel = ch, message_id = m.id, outcome = "sent", provider_status = %a.provider_status, segments = a.segments, "message sent");
                    sent.push((m.id, a));
                }
                Outcome::NotStarted => back.push(m.id),
                Outcome::InDoubt => {
                    tracing::info!(
                        channel = ch,
                        message_id = m.id,
                        "stopped mid-send: the message is in doubt and will be looked up"
                    );
                }
                Outcome::Failed(e) => {
                    let reason = match (channel, e.code()) {
                        (Channel::Sms, Some(c)) => {
                            format!("{e} ({})", crate::domain::twilio::explain(c))
                        }
                        _ => e.to_string(),
                    };
                    let code = e
                        .code()
                        .map_or_else(|| "none".to_owned(), |c| c.to_string());
                    metrics::counter!(crate::ops::metrics::SENDS, "channel" => ch, "outcome" => "failed").increment(1);
                    metrics::counter!(crate::ops::metrics::SEND_FAILURES, "channel" => ch, "code" => code.clone()).increment(1);
                    tracing::warn!(channel = ch, message_id = m.id, outcome = "failed", provider_code = %code, "message not sent");
                    tracing::debug!(channel = ch, message_id = m.id, error = %e, "why the message was not sent");
                    if let Err(err) =
                        delivery::mark_failed(&runner.db, m.id, &reason, e.code(), now).await
                    {
                        tracing::error!(channel = ch, message_id = m.id, error = %err, "could not record a failed message");
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
        if !back.is_empty() {
            match delivery::requeue(&runner.db, &back, now).await {
                Ok(n) => tracing::info!(
                    channel = ch,
                    count = n,
                    "stopping: messages not yet sent were put back in the queue"
                ),
                Err(e) => {
                    tracing::error!(channel = ch, error = %e, count = back.len(), "could not put back messages not sent; they are looked up when their claim lapses")
                }
            }
        }
        match delivery::mark_sent(&runner.db, ch, &sent, now).await {
            Ok(followups) => {
                for f in followups {
                    act_on(&runner, channel, &f).await;
                }
            }
            Err(e) if runner.db.pool().is_closed() => {
                tracing::error!(channel = ch, error = %e, count = sent.len(), "the database closed before sent messages were recorded; they are looked up at the next start");
            }
            Err(e) => {
                let e = runner.db.explain(e).await;
                tracing::error!(channel = ch, error = %e, count = sent.len(), "could not record sent messages; they are looked up when their claim lapses");
            }
        }
        {
            let mut f = in_flight.lock();
            for id in ids {
                f.remove(&id);
            }
        }
        recorded.send_modify(|n| *n += 1);
    }
}

/// What an error code means for the record: an opt-out at the carrier, a wrong number, a
/// phone that keeps failing. Errors here are logged: the message row is already right.
pub async fn act_on(runner: &Runner, channel: Channel, f: &Followup) {
    if let Err(e) = runner.act_on_delivery(channel, f).await {
        tracing::error!(channel = channel.as_str(), message_id = f.message_id, error = %e, "could not act on a delivery error");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
