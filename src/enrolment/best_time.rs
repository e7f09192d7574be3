//! The part of the day a client chose ("what time of day suits you?"), as a navigator sets it on
//! the record: every step still to come moves inside it.

use super::actions::ActionError;
use crate::clock::{from_ms, to_ms};
use crate::domain::ClientId;
use crate::runner::Runner;
use crate::schedule::BEST_TIMES;
use crate::store::Doing;
use crate::store::record;
use sqlx::Row;

/// Sets a client's best time of day (`morning`, `afternoon`, `evening`, `any`) and places every
/// pending step of theirs in it again. Returns how many steps moved.
pub async fn set_best_time(
    runner: &Runner,
    client: &ClientId,
    best: &str,
    actor: &str,
) -> Result<u64, ActionError> {
    if !BEST_TIMES.contains(&best) {
        return Err(ActionError::Invalid(format!(
            "best time {best:?} is not one of {}",
            BEST_TIMES.join(", ")
        )));
    }
    let now = runner.clock.now();
    let now_ms = to_ms(now);
    let mut tx = runner.db.begin().await?;
    let row = sqlx::query(&format!(
        "SELECT c.time_zone, c.send_start, c.send_end, \
                {hol} \
         FROM clients c WHERE c.id = $1",
        hol = crate::store::sql::CENTRE_HOLIDAYS
    ))
    .bind(client.as_str())
    .fetch_optional(&mut *tx)
    .await
    .doing("reading a client")?
    .ok_or_else(|| ActionError::UnknownClient(client.clone()))?;
    let holidays = crate::schedule::holidays_of(
        row.try_get::<Option<String>, _>(3)
            .doing("reading a client")?
            .as_deref(),
    );
    let tz = row
        .try_get::<String, _>(0)
        .doing("reading a client")?
        .parse()
        .unwrap_or(runner.centre.time_zone);
    let own = match (
        row.try_get::<Option<i64>, _>(1).doing("reading a client")?,
        row.try_get::<Option<i64>, _>(2).doing("reading a client")?,
    ) {
        (Some(a), Some(b)) => Some((
            u32::try_from(a).unwrap_or(0),
            u32::try_from(b).unwrap_or(24 * 60),
        )),
        _ => None,
    };
    sqlx::query("UPDATE clients SET best_time = $1, updated_at = $2 WHERE id = $3")
        .bind(best)
        .bind(now_ms)
        .bind(client.as_str())
        .execute(&mut *tx)
        .await
        .doing("setting a best time")?;
    sqlx::query(
        "INSERT INTO fields (client_id, key, value, source, updated_at) VALUES ($1, 'client.best_time', $2, $3, $4) \
         ON CONFLICT (client_id, key) DO UPDATE SET value = excluded.value, source = excluded.source, updated_at = excluded.updated_at",
    )
    .bind(client.as_str())
    .bind(best)
    .bind(actor)
    .bind(now_ms)
    .execute(&mut *tx)
    .await
    .doing("setting a best time")?;
    let pending = sqlx::query(
        "SELECT id, planned_at, due_at FROM jobs WHERE client_id = $1 AND kind = 'step' AND status = 'pending'",
    )
    .bind(client.as_str())
    .fetch_all(&mut *tx)
    .await
    .doing("reading steps to move")?;
    let mut moved = 0;
    for r in pending {
        let id: i64 = r.try_get(0).doing("reading steps to move")?;
        let planned: Option<i64> = r.try_get(1).doing("reading steps to move")?;
        let due: i64 = r.try_get(2).doing("reading steps to move")?;
        let p = from_ms(planned.unwrap_or(due)).max(now);
        let new_due =
            to_ms(
                runner
                    .schedule
                    .place_on(p, tz, own, Some(best), now, holidays.as_ref()),
            );
        if new_due != due {
            moved += 1;
            sqlx::query("UPDATE jobs SET due_at = $1, note = $2, updated_at = $3 WHERE id = $4")
                .bind(new_due)
                .bind(crate::schedule::moved_note(Some(best), &runner.schedule))
                .bind(now_ms)
                .bind(id)
                .execute(&mut *tx)
                .await
                .doing("moving a step")?;
        }
    }
    record::audit(
        &mut tx,
        now_ms,
        actor,
        "record-change",
        Some(client),
        "field client.best_time",
    )
    .await?;
    tx.commit().await.doing("committing a best time")?;
    Ok(moved)
}
