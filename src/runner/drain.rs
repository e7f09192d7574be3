//! Running due jobs in batches: a batch is taken and run in one transaction, each job written
//! once when it is done; a batch that cannot run is claimed under a lease and run job by job,
//! and a job that keeps failing is given up with a task for the navigator. What each job does is
//! in `jobs`.

use super::apply::Written;
use super::{RunError, Runner};
use crate::schedule::DueJob;
use crate::store::{Doing, StoreError};
use std::collections::HashSet;

/// A job that failed this many times in a row is marked failed and the navigator told.
pub const GIVE_UP_AFTER: i64 = 5;

/// What one [`Runner::drain`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Due jobs taken (a client's second one is left for the next batch).
    pub taken: usize,
    /// Jobs run.
    pub run: usize,
    /// Of those, jobs that failed (claimed under a lease, to be retried).
    pub failed: usize,
}

impl Runner {
    /// Runs claimed jobs. Results come back in the order of `jobs`; a job whose result is an
    /// error stays claimed and is taken up again when its lease ends — until it has failed
    /// [`GIVE_UP_AFTER`] times: then it is marked failed, with the error, and the navigator gets a
    /// task, so that a step that cannot run is never silently retried forever.
    pub async fn run_jobs(&self, jobs: &[DueJob]) -> Vec<Result<(), RunError>> {
        let mut results = self.run_jobs_once(jobs).await;
        for (j, r) in jobs.iter().zip(&mut results) {
            if let Err(e) = r
                && j.attempts >= GIVE_UP_AFTER
            {
                let why = e.to_string();
                match self.give_up(j, &why).await {
                    Ok(()) => {
                        tracing::error!(job = j.id, client = %j.client, error = %why, "a scheduled job failed {GIVE_UP_AFTER} times: marked failed, navigator told")
                    }
                    Err(e2) => {
                        tracing::warn!(job = j.id, error = %e2, "could not mark a failing job")
                    }
                }
            }
        }
        results
    }

    /// Marks a job that keeps failing as failed, with a task for the navigator.
    async fn give_up(&self, j: &DueJob, why: &str) -> Result<(), StoreError> {
        let now = crate::clock::to_ms(self.clock.now());
        let mut tx = self.db.begin().await?;
        let changed = sqlx::query(
            "UPDATE jobs SET status = 'failed', note = $1, fired_at = $2, lease_until = NULL, claim_token = NULL, updated_at = $2 \
             WHERE id = $3 AND claim_token = $4",
        )
        .bind(why)
        .bind(now)
        .bind(j.id)
        .bind(&j.token)
        .execute(&mut *tx)
        .await
        .doing("marking a job failed")?
        .rows_affected();
        if changed == 1 {
            let what = j.step.as_deref().unwrap_or(j.kind.as_str());
            sqlx::query(
                "INSERT INTO flags (client_id, kind, urgency, note, due_at, created_at) VALUES ($1, 'scheduling-failed', 'normal', $2, $3, $3)",
            )
            .bind(j.client.as_str())
            .bind(format!("{what} could not run: {why}"))
            .bind(now)
            .execute(&mut *tx)
            .await
            .doing("telling the navigator")?;
        }
        tx.commit().await.doing("committing a failed job")
    }

    async fn run_jobs_once(&self, jobs: &[DueJob]) -> Vec<Result<(), RunError>> {
        let mut results: Vec<Option<Result<(), RunError>>> =
            (0..jobs.len()).map(|_| None).collect();
        let mut todo: Vec<usize> = (0..jobs.len()).collect();
        while !todo.is_empty() {
            let mut seen = HashSet::new();
            let (round, later): (Vec<usize>, Vec<usize>) =
                todo.iter().partition(|&&k| seen.insert(&jobs[k].client));
            let batch: Vec<&DueJob> = round.iter().map(|&k| &jobs[k]).collect();
            match self.job_round(&batch).await {
                Ok(()) => round.iter().for_each(|&k| results[k] = Some(Ok(()))),
                Err(e) if round.len() == 1 => results[round[0]] = Some(Err(e)),
                // One job must not hold up the others: on a failed round, take them one by one.
                Err(_) => {
                    for &k in &round {
                        results[k] = Some(self.job_round(&[&jobs[k]]).await);
                    }
                }
            }
            todo = later;
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(RunError::Contention(0))))
            .collect()
    }

    /// One transaction for jobs of distinct clients, retried when a session changed under us.
    async fn job_round(&self, jobs: &[&DueJob]) -> Result<(), RunError> {
        for _ in 0..super::MAX_ATTEMPTS {
            let mut tx = self.db.begin().await?;
            match self.job_work(&mut tx, jobs).await? {
                Written::Done(replies) => {
                    tx.commit().await.doing("committing due jobs")?;
                    self.wake_dispatchers(&replies);
                    return Ok(());
                }
                Written::Conflict => tx.rollback().await.doing("rolling back after a conflict")?,
            }
        }
        Err(RunError::Contention(super::MAX_ATTEMPTS))
    }

    /// Takes up to `limit` due jobs and runs them in the transaction that took them: each job
    /// is written once, when it is finished (no claim written first). A client's second due job
    /// waits for the next batch, so that it sees what the first did. If the batch cannot run
    /// (a job whose plan fails, or contention that does not pass), its jobs are claimed under a
    /// lease and run one by one as [`Runner::run_jobs`] does: the failing one is retried when its
    /// lease ends, and given up after [`GIVE_UP_AFTER`] attempts.
    pub async fn drain(&self, limit: usize) -> Result<Drained, StoreError> {
        let b = self.db.backend();
        for _ in 0..super::MAX_ATTEMPTS {
            let now = self.clock.now();
            let mut tx = self.db.begin().await?;
            let taken = crate::store::jobs::take(&mut tx, b, now, limit).await?;
            if taken.is_empty() {
                tx.rollback().await.doing("ending an empty take")?;
                return Ok(Drained::default());
            }
            let mut seen = HashSet::new();
            let jobs: Vec<&DueJob> = taken.iter().filter(|j| seen.insert(&j.client)).collect();
            let done = Drained {
                taken: taken.len(),
                run: jobs.len(),
                failed: 0,
            };
            match self.job_work(&mut tx, &jobs).await {
                Ok(Written::Done(replies)) => {
                    tx.commit().await.doing("committing due jobs")?;
                    self.wake_dispatchers(&replies);
                    return Ok(done);
                }
                Ok(Written::Conflict) => {
                    tx.rollback().await.doing("rolling back after a conflict")?;
                }
                Err(e) => {
                    tx.rollback()
                        .await
                        .doing("rolling back a batch that failed")?;
                    tracing::debug!(error = %e, "a batch of due jobs failed: run one by one");
                    let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
                    return self.run_one_by_one(now, &ids, done.taken).await;
                }
            }
        }
        // Contention that does not pass: one by one, under a lease.
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let taken = crate::store::jobs::take(&mut tx, b, now, limit).await?;
        tx.rollback().await.doing("ending a take")?;
        let ids: Vec<i64> = taken.iter().map(|j| j.id).collect();
        self.run_one_by_one(now, &ids, taken.len()).await
    }

    async fn run_one_by_one(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        ids: &[i64],
        taken: usize,
    ) -> Result<Drained, StoreError> {
        let claimed =
            crate::store::jobs::claim_ids(&self.db, now, self.schedule.lease, ids).await?;
        let results = self.run_jobs(&claimed).await;
        let mut failed = 0;
        for r in &results {
            if let Err(e) = r {
                failed += 1;
                tracing::warn!(error = %e, "a scheduled job failed; it is claimed again when its lease ends");
            }
        }
        Ok(Drained {
            taken,
            run: claimed.len(),
            failed,
        })
    }
}
