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
         RETURNING id, client_id, kind, step_id, due_at, planned_at, occurrence, enrolment_id, flow_id, time_point, session_id, attempts"
    )
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
    for r in rows {
        let get = |e: sqlx::Error| StoreError::Query {
            doing: "reading a claimed job",
            source: e,
        };
        let client: String = r.try_get(1).map_err(get)?;
        let Ok(client) = ClientId::parse(&client) else {
            continue;
        };
        jobs.push(DueJob {
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
            attempts: r.try_get(11).map_err(get)?,
            token: token.clone(),
        });
    }
    jobs.sort_by_key(|j| (j.due_at, j.id));
    Ok(jobs)
}
