//! The job rows of a batch: claimed jobs finished or put back, next occurrences, and the steps
//! that were waiting for a flow that ended in this batch.

use super::effects::{JobOp, Scope};
use super::record_rows::Sessions;
use crate::flow::engine::Event;
use crate::store::sql::{V, bind_all, i, list, os, rows_source, s};
use crate::store::{Backend, Doing, StoreError, Tx};

/// Writes the job changes of a batch. `Ok(false)`: a claimed job is no longer ours (its lease
/// lapsed and another worker took it): roll back.
pub async fn write(
    tx: &mut Tx,
    b: Backend,
    now: i64,
    sessions: &Sessions<'_, '_>,
) -> Result<bool, StoreError> {
    let items = sessions.items;
    let mut updates = Vec::new();
    let mut count = 0usize;
    let mut inserts = Vec::new();
    let mut released = Vec::new();
    let mut enrolments = Vec::new();
    for (k, it) in items.iter().enumerate() {
        for op in &it.effects.jobs {
            match op {
                JobOp::Finish {
                    id,
                    token,
                    status,
                    note,
                    started,
                    enrolment,
                } => {
                    let session = if *started {
                        sessions.of(k, Scope::New)
                    } else {
                        None
                    };
                    let fired = (*status != "paused").then_some(now);
                    updates.extend([
                        i(*id),
                        s(token.as_str()),
                        s(*status),
                        os(note.clone()),
                        V::I(None),
                        V::I(None),
                        V::I(session),
                        V::I(fired),
                    ]);
                    count += 1;
                    enrolments.extend(*enrolment);
                }
                JobOp::Defer {
                    id,
                    token,
                    due,
                    waits_for,
                    note,
                } => {
                    updates.extend([
                        i(*id),
                        s(token.as_str()),
                        s("pending"),
                        os(note.clone()),
                        i(*due),
                        V::I(*waits_for),
                        V::I(None),
                        V::I(None),
                    ]);
                    count += 1;
                }
                JobOp::Insert(j) => inserts.push(j.clone()),
                JobOp::Release { after } => released.push(*after),
                JobOp::StartedEarly {
                    id,
                    enrolment,
                    note,
                } => {
                    // Not claimed by the scheduler right now: then the scheduler has it.
                    sqlx::query(&format!(
                        "UPDATE jobs SET status = 'done', note = $1, session_id = $2, fired_at = {now}, updated_at = {now} \
                         WHERE id = $3 AND status IN ('pending', 'blocked', 'paused')"
                    ))
                    .bind(note)
                    .bind(sessions.of(k, Scope::New))
                    .bind(*id)
                    .execute(&mut **tx)
                    .await
                    .doing("marking a step started early")?;
                    enrolments.extend(*enrolment);
                }
            }
        }
    }
    if count > 0 {
        let (source, updates) = rows_source(b, updates, 8);
        let sql = format!(
            "UPDATE jobs SET status = v.column3, note = COALESCE(v.column4, jobs.note), due_at = COALESCE(v.column5, jobs.due_at), \
             waits_for = v.column6, session_id = COALESCE(v.column7, jobs.session_id), fired_at = COALESCE(v.column8, jobs.fired_at), \
             lease_until = NULL, claim_token = NULL, attempts = 0, updated_at = {now} \
             FROM {source} AS v WHERE jobs.id = v.column1 AND COALESCE(jobs.claim_token, '') = v.column2"
        );
        let changed = bind_all(sqlx::query(&sql), updates)
            .execute(&mut **tx)
            .await
            .doing("finishing jobs")?;
        if changed.rows_affected() != count as u64 {
            return Ok(false);
        }
    }
    crate::schedule::insert_jobs(tx, b, &inserts, now).await?;
    if !released.is_empty() {
        let sql = format!(
            "UPDATE jobs SET status = 'pending', due_at = {now} + COALESCE(delay_ms, 0), planned_at = {now} + COALESCE(delay_ms, 0), \
             updated_at = {now} WHERE status = 'blocked' AND after_job IN ({})",
            list(b, released.len())
        );
        bind_all(sqlx::query(&sql), released.into_iter().map(i).collect())
            .execute(&mut **tx)
            .await
            .doing("releasing the steps after a skipped one")?;
    }
    // Flows that ended: the steps that follow them, and the steps waiting for them, are due. A
    // flow whose nudges all went unanswered holds up no waiting step either.
    let mut ended = Vec::new();
    let mut waited_on = Vec::new();
    for (k, it) in items.iter().enumerate() {
        for (scope, e) in &it.effects.events {
            let Some(sid) = sessions.of(k, *scope) else {
                continue;
            };
            match e {
                Event::End { .. } => {
                    ended.push(sid);
                    waited_on.push(sid);
                }
                Event::Flag { kind, .. } if kind == "no-response" => waited_on.push(sid),
                _ => {}
            }
        }
    }
    if !ended.is_empty() {
        let sql = format!(
            "UPDATE jobs SET status = 'pending', due_at = {now} + COALESCE(delay_ms, 0), planned_at = {now} + COALESCE(delay_ms, 0), \
             updated_at = {now} WHERE status = 'blocked' AND after_job IN (SELECT id FROM jobs WHERE kind = 'step' AND session_id IN ({}))",
            list(b, ended.len())
        );
        bind_all(sqlx::query(&sql), ended.iter().copied().map(i).collect())
            .execute(&mut **tx)
            .await
            .doing("releasing the steps after a flow")?;
    }
    if !waited_on.is_empty() {
        let sql = format!(
            "UPDATE jobs SET due_at = {now}, waits_for = NULL, updated_at = {now} WHERE waits_for IN ({}) AND status = 'pending'",
            list(b, waited_on.len())
        );
        bind_all(sqlx::query(&sql), waited_on.into_iter().map(i).collect())
            .execute(&mut **tx)
            .await
            .doing("waking the steps that waited for a flow")?;
    }
    if !enrolments.is_empty() {
        enrolments.sort_unstable();
        enrolments.dedup();
        let sql = format!(
            "UPDATE enrolments SET status = 'completed', ended_at = {now}, end_reason = 'every step done', updated_at = {now} \
             WHERE status = 'active' AND id IN ({}) AND NOT EXISTS \
             (SELECT 1 FROM jobs j WHERE j.enrolment_id = enrolments.id AND j.status IN ('pending', 'running', 'blocked', 'paused'))",
            list(b, enrolments.len())
        );
        bind_all(sqlx::query(&sql), enrolments.into_iter().map(i).collect())
            .execute(&mut **tx)
            .await
            .doing("completing enrolments")?;
    }
    Ok(true)
}
