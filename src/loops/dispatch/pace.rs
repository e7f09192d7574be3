//! A sender's pace: each message reserves its segments' share of the sender's throughput, in
//! this process (SQLite) or in the database, shared by every process (Postgres); and the backoff
//! between retries.

use super::Settings;
use rand::Rng;
use std::time::Duration;
use tokio::time::Instant;

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

/// Where a dispatcher's pace is kept. SQLite is one process: its pace is in memory. On Postgres
/// any number of processes send through the same sender: its pace is one row of the database
/// (`sender_pace`), and each send reserves its share of it just before it starts, one
/// reservation at a time per process, so a process that dies leaves at most one slot unused.
#[derive(Debug)]
pub(super) enum Pace {
    Unpaced,
    /// A pacer per sender: the dispatcher's own, and each centre's number of its own.
    Local {
        rate: f64,
        pacers: std::sync::Mutex<std::collections::HashMap<Option<String>, Pacer>>,
    },
    Shared {
        db: crate::store::Db,
        sender: String,
        per_segment_us: i64,
        /// Per sender, one reservation at a time, waited out before the next is made (fair:
        /// first come, first served, so the claim's order, replies first, is kept).
        gates: std::sync::Mutex<
            std::collections::HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>,
        >,
    },
}

impl Pace {
    pub(super) fn new(settings: &Settings, db: &crate::store::Db) -> Self {
        let per = settings
            .segments_per_second
            .filter(|r| *r > 0.0 && r.is_finite());
        match (per, db.backend()) {
            (None, _) => Self::Unpaced,
            (Some(r), crate::store::Backend::Sqlite) => Self::Local {
                rate: r,
                pacers: std::sync::Mutex::default(),
            },
            (Some(r), crate::store::Backend::Postgres) => Self::Shared {
                db: db.clone(),
                sender: settings.sender.clone(),
                per_segment_us: ((1_000_000.0 / r).round() as i64).max(1),
                gates: std::sync::Mutex::default(),
            },
        }
    }

    /// Waits until a message of `segments` may start from `sender` (none: the dispatcher's
    /// own sender). `None`: the service is stopping.
    pub(super) async fn wait_turn(
        &self,
        sender: Option<&str>,
        segments: u32,
        stop: &mut crate::shutdown::Stop,
    ) -> Option<()> {
        match self {
            Self::Unpaced => Some(()),
            Self::Local { rate, pacers } => {
                let start = pacers
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .entry(sender.map(str::to_owned))
                    .or_insert_with(|| Pacer::new(Some(*rate)))
                    .reserve(Instant::now(), segments);
                tokio::select! {
                    () = tokio::time::sleep_until(start) => Some(()),
                    () = stop.wait() => None,
                }
            }
            Self::Shared {
                db,
                sender: own,
                per_segment_us,
                gates,
            } => {
                let sender = sender.unwrap_or(own);
                let gate = gates
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .entry(sender.to_owned())
                    .or_default()
                    .clone();
                let _turn = tokio::select! {
                    g = gate.lock() => g,
                    () = stop.wait() => return None,
                };
                let cost = per_segment_us * i64::from(segments.max(1));
                let mut wait = Duration::from_millis(100);
                loop {
                    let now = crate::store::shared::wall_us();
                    match crate::store::shared::reserve_pace(db, sender, now, cost).await {
                        Ok(start) => {
                            let ahead = Duration::from_micros(
                                u64::try_from(start - crate::store::shared::wall_us()).unwrap_or(0),
                            );
                            return tokio::select! {
                                () = tokio::time::sleep(ahead) => Some(()),
                                () = stop.wait() => None,
                            };
                        }
                        Err(e) => {
                            // Sending unpaced could get the sender blocked: wait for the database.
                            tracing::warn!(error = %e, "could not reserve the sender's time; trying again");
                            tokio::select! {
                                () = tokio::time::sleep(wait) => {}
                                () = stop.wait() => return None,
                            }
                            wait = (wait * 2).min(Duration::from_secs(5));
                        }
                    }
                }
            }
        }
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
}
