//! The scheduler's loop: claims due jobs in batches under a lease and feeds them to the runner.

use crate::runner::Runner;
use crate::store::Backend;
use crate::store::StoreError;
use crate::store::jobs::claim;
use std::sync::Arc;

/// What one tick did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Ticked {
    pub claimed: usize,
    pub failed: usize,
}

/// Claims and runs due jobs until none is due (or `max_batches` batches ran). On Postgres
/// several workers claim batches side by side (`SKIP LOCKED` keeps them apart); SQLite has one
/// writer, so one.
pub async fn tick(runner: &Runner, max_batches: usize) -> Result<Ticked, StoreError> {
    // Conversations gone quiet close first, so the steps they held are claimed in this tick.
    crate::runner::conversation::close_quiet(runner).await?;
    let workers = match runner.db.backend() {
        Backend::Sqlite => 1,
        Backend::Postgres => runner.schedule.workers.max(1),
    };
    // One worker looks first: an idle tick (nothing due, the usual case) is one claim, not one
    // per worker. Only when that first batch came back full do the others join in.
    let mut t = work(runner, 1).await?;
    if t.claimed < runner.schedule.batch || max_batches <= 1 {
        return Ok(t);
    }
    let results =
        futures_util::future::join_all((0..workers).map(|_| work(runner, max_batches - 1))).await;
    for r in results {
        let r = r?;
        t.claimed += r.claimed;
        t.failed += r.failed;
    }
    Ok(t)
}

async fn work(runner: &Runner, max_batches: usize) -> Result<Ticked, StoreError> {
    let mut t = Ticked::default();
    for _ in 0..max_batches {
        if runner.shutdown.is_stopping() {
            break;
        }
        let now = runner.clock.now();
        let jobs = claim(
            &runner.db,
            now,
            runner.schedule.lease,
            runner.schedule.batch,
        )
        .await?;
        if jobs.is_empty() {
            break;
        }
        t.claimed += jobs.len();
        for r in runner.run_jobs(&jobs).await {
            if let Err(e) = r {
                t.failed += 1;
                tracing::warn!(error = %e, "a scheduled job failed; it is claimed again when its lease ends");
            }
        }
        if jobs.len() < runner.schedule.batch {
            break;
        }
    }
    Ok(t)
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
