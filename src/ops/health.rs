//! Readiness: whether this process can do its work. `/healthz` says only that it answers;
//! `/readyz` says the database is reachable, its migrations are the ones this binary knows,
//! and the loops that send and schedule are alive. Neither names a client.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A loop that has not looked up from its work in this long counts as stuck.
pub const STUCK_AFTER: Duration = Duration::from_secs(180);

/// The long-running loops of this process (dispatchers, the scheduler, pollers).
#[derive(Debug, Clone, Default)]
pub struct Loops(Arc<Mutex<Vec<Registered>>>);

/// A loop's name and its sign of life.
type Registered = (String, Arc<Beat>);

/// One loop's sign of life.
#[derive(Debug)]
pub struct Beat {
    started: Instant,
    /// Milliseconds after `started` of the last beat.
    last: AtomicU64,
    running: AtomicBool,
    /// It waits on others (a long poll) and does not beat: only its end counts.
    quiet: bool,
}

/// Held by a running loop: it beats through it, and dropping it (the loop ended, or panicked)
/// marks the loop stopped.
#[derive(Debug)]
pub struct Alive(Arc<Beat>);

impl Alive {
    /// The loop is at work.
    pub fn beat(&self) {
        let ms = u64::try_from(self.0.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.0.last.store(ms, Ordering::Relaxed);
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.running.store(false, Ordering::Relaxed);
    }
}

/// What is wrong with one loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoopState {
    Alive,
    Stopped,
    Stuck { seconds: u64 },
}

impl Loops {
    /// Registers a loop by name; it is alive until what is returned is dropped.
    pub fn register(&self, name: impl Into<String>) -> Alive {
        self.add(name.into(), false)
    }

    /// Registers a loop that waits on others and does not beat: alive until it ends.
    pub fn register_quiet(&self, name: impl Into<String>) -> Alive {
        self.add(name.into(), true)
    }

    fn add(&self, name: String, quiet: bool) -> Alive {
        let beat = Arc::new(Beat {
            started: Instant::now(),
            last: AtomicU64::new(0),
            running: AtomicBool::new(true),
            quiet,
        });
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((name, beat.clone()));
        Alive(beat)
    }

    /// Every loop registered, and its state.
    #[must_use]
    pub fn states(&self) -> Vec<(String, LoopState)> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(name, b)| {
                let state = if !b.running.load(Ordering::Relaxed) {
                    LoopState::Stopped
                } else if b.quiet {
                    LoopState::Alive
                } else {
                    let now = u64::try_from(b.started.elapsed().as_millis()).unwrap_or(u64::MAX);
                    let since = now.saturating_sub(b.last.load(Ordering::Relaxed));
                    if Duration::from_millis(since) > STUCK_AFTER {
                        LoopState::Stuck {
                            seconds: since / 1000,
                        }
                    } else {
                        LoopState::Alive
                    }
                };
                (name.clone(), state)
            })
            .collect()
    }
}

/// One part of readiness and what is wrong with it, if anything.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    pub part: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Checks the database, its migrations and every registered loop.
pub async fn readiness(runner: &crate::runner::Runner) -> Vec<Check> {
    let mut out = Vec::new();
    let db = match runner.db.ping().await {
        Ok(()) => Check {
            part: "database".into(),
            ok: true,
            problem: None,
        },
        Err(e) => Check {
            part: "database".into(),
            ok: false,
            problem: Some(crate::store::redact_url(
                &runner.db.explain(e).await.to_string(),
            )),
        },
    };
    let reachable = db.ok;
    out.push(db);
    if reachable {
        out.push(match super::migrations::status(&runner.db).await {
            Ok(s) if s.current() => Check {
                part: "migrations".into(),
                ok: true,
                problem: None,
            },
            Ok(s) => Check {
                part: "migrations".into(),
                ok: false,
                problem: Some(s.problem()),
            },
            Err(e) => Check {
                part: "migrations".into(),
                ok: false,
                problem: Some(e.to_string()),
            },
        });
    }
    for (name, state) in runner.loops.states() {
        out.push(match state {
            LoopState::Alive => Check {
                part: name,
                ok: true,
                problem: None,
            },
            LoopState::Stopped => Check {
                part: name,
                ok: false,
                problem: Some(if runner.shutdown.is_stopping() {
                    "stopped: the service is shutting down".into()
                } else {
                    "stopped".into()
                }),
            },
            LoopState::Stuck { seconds } => Check {
                part: name,
                ok: false,
                problem: Some(format!("no sign of life for {seconds} s")),
            },
        });
    }
    out
}
