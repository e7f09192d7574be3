//! The scheduler's loop: takes due jobs in batches and has the runner run each batch in the
//! transaction that took it.

use crate::runner::Runner;
use crate::store::Backend;
use crate::store::StoreError;
use std::sync::Arc;

/// What one tick did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Ticked {
    pub claimed: usize,
    pub failed: usize,
}

/// Takes and runs due jobs until none is due (or `max_batches` batches ran). On Postgres
/// several workers take batches side by side (`SKIP LOCKED` keeps them apart); SQLite has one
/// writer, so one.
pub async fn tick(runner: &Runner, max_batches: usize) -> Result<Ticked, StoreError> {
    // Conversations gone quiet close first, so the steps they held are claimed in this tick.
    crate::runner::conversation::close_quiet(runner).await?;
    let workers = match runner.db.backend() {
        Backend::Sqlite => 1,
        Backend::Postgres => runner.schedule.workers.max(1),
    };
    // An idle tick (nothing due, the usual case) is one look, without a transaction.
    if !crate::store::jobs::any_due(&runner.db, runner.clock.now()).await? {
        return Ok(Ticked::default());
    }
    // One worker goes first. Only when that first batch came back full do the others join in.
    let (mut t, full) = work(runner, 1).await?;
    if !full || max_batches <= 1 {
        return Ok(t);
    }
    let results =
        futures_util::future::join_all((0..workers).map(|_| work(runner, max_batches - 1))).await;
    for r in results {
        let (r, _) = r?;
        t.claimed += r.claimed;
        t.failed += r.failed;
    }
    Ok(t)
}

/// Runs up to `max_batches` batches; `true` if more may be due (the last batch came back full,
/// or left a client's second job for the next).
async fn work(runner: &Runner, max_batches: usize) -> Result<(Ticked, bool), StoreError> {
    let mut t = Ticked::default();
    let mut full = false;
    for _ in 0..max_batches {
        if runner.shutdown.is_stopping() {
            break;
        }
        let d = runner.drain(runner.schedule.batch).await?;
        t.claimed += d.run;
        t.failed += d.failed;
        // A client's second due job was left for the next batch: that batch is due now too.
        full = d.taken >= runner.schedule.batch || d.run < d.taken;
        if !full {
            break;
        }
    }
    Ok((t, full))
}

/// Runs the scheduler until the runner's shutdown is raised: a tick, then a pause while
/// nothing is due. A batch under way when the stop comes is finished (it is one transaction per
/// client); no batch is claimed after it.
pub fn spawn(runner: Arc<Runner>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let alive = runner.loops.register("scheduler");
        let mut stop = runner.shutdown.signal();
        while !stop.is_stopping() {
            alive.beat();
            match tick(&runner, 64).await {
                Ok(t) if t.claimed > 0 => {
                    metrics::counter!(crate::ops::metrics::SCHEDULER_CLAIMS)
                        .increment(t.claimed as u64);
                    continue;
                }
                Ok(_) => {}
                Err(_) if runner.db.pool().is_closed() => return,
                Err(e) => {
                    let e = runner.db.explain(e).await;
                    tracing::warn!(error = %e, "the scheduler could not claim jobs");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(runner.schedule.tick) => {}
                () = stop.wait() => {}
            }
        }
        tracing::debug!("scheduler stopped claiming");
    })
}
