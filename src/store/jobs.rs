//! The jobs table: step jobs inserted (a retried write schedules nothing twice) and due jobs
//! claimed in batches under a lease.

use super::sql::{V, bind_all, i, insert_sql, os, s};
use super::{Backend, Db, Doing, StoreError, Tx};
use crate::clock::to_ms;
use crate::domain::{ClientId, DueJob, NewJob};
use chrono::{DateTime, Duration, Utc};
use sqlx::Row;

const NEW_JOB_COLS: [&str; 14] = [
    "client_id",
    "kind",
    "enrolment_id",
    "step_id",
    "occurrence",
    "flow_id",
    "time_point",
    "status",
    "planned_at",
    "due_at",
    "after_job",
    "delay_ms",
    "note",
    "created_at",
];

fn job_values(j: &NewJob, now: i64) -> Vec<V> {
    vec![
        s(j.client.as_str()),
        s("step"),
        i(j.enrolment),
        s(j.step.as_str()),
        i(j.occurrence),
        s(j.flow.as_str()),
        os(j.time_point.clone()),
        s(j.status),
        V::I(j.planned_at),
        i(j.due_at),
        V::I(j.after_job),
        V::I(j.delay_ms),
        os(j.note.clone()),
        i(now),
    ]
}

/// Inserts step jobs; one already there (the same enrolment, step and occurrence) is left as it
/// is, so a retried write schedules nothing twice. Returns the new ids, in order.
pub async fn insert_jobs(
    tx: &mut Tx,
    b: Backend,
    jobs: &[NewJob],
    now: i64,
) -> Result<Vec<Option<i64>>, StoreError> {
    let mut ids = Vec::with_capacity(jobs.len());
    for j in jobs {
        let mut cols = NEW_JOB_COLS.to_vec();
        cols.push("updated_at");
        let mut vals = job_values(j, now);
        vals.push(i(now));
        let sql = insert_sql(b, "jobs", &cols, 1, "ON CONFLICT DO NOTHING RETURNING id");
        let row = bind_all(sqlx::query(&sql), vals)
            .fetch_optional(&mut **tx)
            .await
            .doing("scheduling a step")?;
        ids.push(
            row.map(|r| r.try_get::<i64, _>(0))
                .transpose()
                .doing("scheduling a step")?,
        );
    }
    Ok(ids)
}

/// The columns a claimed or taken job is read with, in [`due_job`]'s order.
const DUE_COLS: &str = "id, client_id, kind, step_id, due_at, planned_at, occurrence, enrolment_id, flow_id, time_point, session_id, attempts";

/// The claim statement: `$1` lease end, `$2` claim token, `$3` now, `$4` batch size. Two index
/// lookups, each bounded by the batch (an `OR` of the two would make Postgres scan the table).
#[must_use]
pub fn claim_sql(b: Backend) -> String {
    let lock = match b {
        Backend::Sqlite => "",
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
    };
    format!(
        "WITH due AS (SELECT id FROM jobs WHERE status = 'pending' AND due_at <= $3 ORDER BY due_at LIMIT $4 {lock}), \
              lapsed AS (SELECT id FROM jobs WHERE status = 'running' AND lease_until < $3 LIMIT $4 {lock}) \
         UPDATE jobs SET status = 'running', lease_until = $1, claim_token = $2, updated_at = $3, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM due UNION ALL SELECT id FROM lapsed) \
         RETURNING {DUE_COLS}"
    )
}

/// The take statement: `$1` now, `$2` batch size. The same two lookups as the claim, read
/// without a write: the transaction that runs the jobs holds them (Postgres locks the rows,
/// skipping those another worker holds; SQLite has one writer).
#[must_use]
pub fn take_sql(b: Backend) -> String {
    let lock = match b {
        Backend::Sqlite => "",
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
    };
    format!(
        "WITH due AS (SELECT {DUE_COLS}, claim_token FROM jobs WHERE status = 'pending' AND due_at <= $1 ORDER BY due_at LIMIT $2 {lock}), \
              lapsed AS (SELECT {DUE_COLS}, claim_token FROM jobs WHERE status = 'running' AND lease_until < $1 LIMIT $2 {lock}) \
         SELECT * FROM due UNION ALL SELECT * FROM lapsed"
    )
}

/// A job as read by the claim or the take: `None` for a client id that does not parse.
fn due_job(
    r: &sqlx::any::AnyRow,
    token: String,
    attempts: i64,
) -> Result<Option<DueJob>, StoreError> {
    let get = |e: sqlx::Error| StoreError::Query {
        doing: "reading a due job",
        source: e,
    };
    let client: String = r.try_get(1).map_err(get)?;
    let Ok(client) = ClientId::parse(&client) else {
        return Ok(None);
    };
    Ok(Some(DueJob {
        id: r.try_get(0).map_err(get)?,
        client,
        kind: r.try_get(2).map_err(get)?,
        step: r.try_get(3).map_err(get)?,
        due_at: r.try_get(4).map_err(get)?,
        planned_at: r.try_get(5).map_err(get)?,
        occurrence: r.try_get(6).map_err(get)?,
        enrolment: r.try_get(7).map_err(get)?,
        flow: r.try_get(8).map_err(get)?,
        time_point: r.try_get(9).map_err(get)?,
        session: r.try_get(10).map_err(get)?,
        attempts: r.try_get::<i64, _>(11).map_err(get)? + attempts,
        token,
    }))
}

/// Claims up to `limit` due jobs (and jobs whose claim has lapsed: a crashed worker's) for
/// `lease`. The cost grows with the jobs claimed, not with the jobs scheduled: both lookups
/// run on partial indexes of due and running jobs.
pub async fn claim(
    db: &Db,
    now: DateTime<Utc>,
    lease: Duration,
    limit: usize,
) -> Result<Vec<DueJob>, StoreError> {
    let now_ms = to_ms(now);
    let token = format!("{:016x}", rand::random::<u64>());
    let sql = claim_sql(db.backend());
    let mut conn = db.acquire("claiming due jobs").await?;
    let rows = sqlx::query(&sql)
        .bind(to_ms(now + lease))
        .bind(&token)
        .bind(now_ms)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *conn)
        .await
        .doing("claiming due jobs")?;
    drop(conn);
    let mut jobs = Vec::with_capacity(rows.len());
    for r in &rows {
        jobs.extend(due_job(r, token.clone(), 0)?);
    }
    jobs.sort_by_key(|j| (j.due_at, j.id));
    Ok(jobs)
}

/// The idle look: `$1` now; a count, above 0 if any job is due.
pub const ANY_DUE_SQL: &str = "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE status = 'pending' AND due_at <= $1 ORDER BY due_at LIMIT 1) d) \
     + (SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE status = 'running' AND lease_until < $1 ORDER BY lease_until LIMIT 1) l)";

/// Whether any job is due (or its claim has lapsed): an idle tick's one look, without a
/// transaction. Each lookup is ordered by its partial index's column, so that Postgres walks
/// the index (a generic plan with a bare `LIMIT 1` scanned the table: 125 ms at 1,000,000 jobs).
pub async fn any_due(db: &Db, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar(ANY_DUE_SQL)
        .bind(to_ms(now))
        .fetch_one(db.pool())
        .await
        .doing("looking for due jobs")?;
    Ok(n > 0)
}

/// Takes up to `limit` due jobs (and jobs whose claim has lapsed) inside `tx`, writing nothing:
/// the transaction that runs them finishes each with its one write. A job taken this way
/// carries the claim token it had (empty if none), and counts this attempt.
pub async fn take(
    tx: &mut Tx,
    b: Backend,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<DueJob>, StoreError> {
    let rows = sqlx::query(&take_sql(b))
        .bind(to_ms(now))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut **tx)
        .await
        .doing("taking due jobs")?;
    let mut jobs = Vec::with_capacity(rows.len());
    for r in &rows {
        let token: Option<String> = r.try_get(12).doing("reading a due job")?;
        jobs.extend(due_job(r, token.unwrap_or_default(), 1)?);
    }
    jobs.sort_by_key(|j| (j.due_at, j.id));
    Ok(jobs)
}

/// Claims the jobs of `ids` that are still due (or whose claim has lapsed) for `lease`: the
/// way a batch that could not run in one transaction is run again, job by job.
pub async fn claim_ids(
    db: &Db,
    now: DateTime<Utc>,
    lease: Duration,
    ids: &[i64],
) -> Result<Vec<DueJob>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let now_ms = to_ms(now);
    let token = format!("{:016x}", rand::random::<u64>());
    let sql = format!(
        "UPDATE jobs SET status = 'running', lease_until = $1, claim_token = $2, updated_at = $3, attempts = attempts + 1 \
         WHERE id IN ({}) AND ((status = 'pending' AND due_at <= $3) OR (status = 'running' AND lease_until < $3)) \
         RETURNING {DUE_COLS}",
        (4..4 + ids.len())
            .map(|k| format!("${k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut q = sqlx::query(&sql)
        .bind(to_ms(now + lease))
        .bind(&token)
        .bind(now_ms);
    for id in ids {
        q = q.bind(*id);
    }
    let rows = q
        .fetch_all(db.pool())
        .await
        .doing("claiming jobs to run one by one")?;
    let mut jobs = Vec::with_capacity(rows.len());
    for r in &rows {
        jobs.extend(due_job(r, token.clone(), 0)?);
    }
    jobs.sort_by_key(|j| (j.due_at, j.id));
    Ok(jobs)
}
