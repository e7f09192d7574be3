//! One claimed message on its way: it waits for the one before it to the same address, for a
//! permit and for the sender's pace, then is sent, with retries for what may pass later.

use super::pace::{Pace, backoff};
use super::{Outcome, Settings};
use crate::channel::{Outgoing, SendError, Transport};
use std::sync::Arc;
use tokio::sync::{Semaphore, oneshot};
use tokio::time::Instant;

/// What one claimed message needs to be sent.
pub(super) struct Sending<T> {
    pub(super) transport: Arc<T>,
    pub(super) settings: Settings,
    pub(super) hold: Arc<std::sync::Mutex<Option<Instant>>>,
    pub(super) pace: Arc<Pace>,
    pub(super) permits: Arc<Semaphore>,
    pub(super) last_sent: Arc<std::sync::Mutex<std::collections::HashMap<String, Instant>>>,
    pub(super) stop: crate::shutdown::Stop,
    pub(super) channel: &'static str,
}

impl<T: Transport> Sending<T> {
    /// Waits for the message before it to the same address (without holding a place or a
    /// permit: other chats go ahead meanwhile), then for a permit and the sender's pace, and
    /// sends it.
    pub(super) async fn run(
        mut self,
        m: &Outgoing,
        place: tokio::sync::OwnedSemaphorePermit,
        before: Option<oneshot::Receiver<bool>>,
        finished: Option<oneshot::Sender<bool>>,
    ) -> Outcome {
        let ch = self.channel;
        let mut place = Some(place);
        // The message before it to the same address: if the provider said the client is gone
        // (blocked the bot), this one is not even tried.
        let gone = match before {
            Some(before) => {
                place = None;
                tokio::select! {
                    g = before => Some(g.unwrap_or(false)),
                    () = self.stop.wait() => None,
                }
            }
            None => Some(false),
        };
        let outcome = match gone {
            None => Outcome::NotStarted,
            Some(true) => Outcome::Failed(SendError::Provider {
                http: 403,
                code: Some(403),
                message: "not sent: the message before it was refused (blocked)".into(),
            }),
            Some(false) => self.send(m, &mut place, ch).await,
        };
        if let Some(f) = finished {
            let refused = matches!(
                &outcome,
                Outcome::Failed(SendError::Provider { http: 403, .. })
            );
            // A message held back by a stop holds back the ones after it too.
            let _ = f.send(refused);
        }
        drop(place);
        outcome
    }

    async fn send(
        &mut self,
        m: &Outgoing,
        place: &mut Option<tokio::sync::OwnedSemaphorePermit>,
        ch: &'static str,
    ) -> Outcome {
        // One message per interval to an address.
        if let Some(gap) = self.settings.per_address {
            let last = self
                .last_sent
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&m.address)
                .copied();
            if let Some(at) = last.map(|t| t + gap).filter(|t| *t > Instant::now()) {
                *place = None;
                tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = self.stop.wait() => return Outcome::NotStarted,
                }
            }
        }
        let permit = tokio::select! {
            p = self.permits.clone().acquire_owned() => p.ok(),
            () = self.stop.wait() => None,
        };
        let Some(_permit) = permit else {
            return Outcome::NotStarted;
        };
        if self
            .pace
            .wait_turn(
                self.transport.sender_of(m).as_deref(),
                m.segments,
                &mut self.stop,
            )
            .await
            .is_none()
        {
            return Outcome::NotStarted;
        }
        if self.settings.per_address.is_some() {
            self.last_sent
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(m.address.clone(), Instant::now());
        }
        let began = Instant::now();
        let o = send_with_retries(
            &*self.transport,
            m,
            &self.settings,
            &self.hold,
            &mut self.stop,
        )
        .await;
        metrics::histogram!(crate::ops::metrics::SEND_SECONDS, "channel" => ch)
            .record(began.elapsed().as_secs_f64());
        o
    }
}

/// Sends one message, retrying what may pass later. A stop between tries ends it: a message
/// refused for being too many (429) is put back, one whose try broke off is left in doubt.
async fn send_with_retries<T: Transport>(
    transport: &T,
    m: &Outgoing,
    settings: &Settings,
    hold: &std::sync::Mutex<Option<Instant>>,
    stop: &mut crate::shutdown::Stop,
) -> Outcome {
    let mut attempt = 1;
    // Whether an earlier try may have reached the provider.
    let mut maybe_sent = false;
    let stopped = |maybe_sent: bool| {
        if maybe_sent {
            Outcome::InDoubt
        } else {
            Outcome::NotStarted
        }
    };
    loop {
        let until = *hold
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(until) = until {
            tokio::select! {
                () = tokio::time::sleep_until(until) => {}
                () = stop.wait() => return stopped(maybe_sent),
            }
        }
        match transport.send(m).await {
            Ok(a) => return Outcome::Sent(a),
            Err(SendError::RetryAfter(wait)) if attempt < settings.max_attempts => {
                tracing::info!(
                    message_id = m.id,
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
                tracing::info!(message_id = m.id, attempt, error = %e, "send failed; will retry");
                maybe_sent |= e.may_have_reached();
                tokio::select! {
                    () = tokio::time::sleep(backoff(settings.backoff, attempt)) => {}
                    () = stop.wait() => return stopped(maybe_sent),
                }
                attempt += 1;
            }
            Err(e) => {
                return Outcome::Failed(if e.retryable() {
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
