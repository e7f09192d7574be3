//! The level of support picks the follow-up (the guidebook's spectrum of support): each level has
//! its sequence (`[support]`). Setting or changing a referral's level enrols the client in that
//! sequence, ending the sequence of the level before; steps still to come of it are cancelled,
//! which a navigator is asked about first.

use super::actions::{ActionError, Enrolled, enrol};
use crate::clock::to_ms;
use crate::domain::ClientId;
use crate::runner::Runner;
use crate::store::Doing;
use crate::store::record;
use sqlx::Row;

/// What setting a level would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelChange {
    pub level: String,
    /// The level's sequence.
    pub target: String,
    /// The client is in it already: nothing to do.
    pub already: bool,
    /// The client has opted out: no enrolment changes.
    pub opted_out: bool,
    /// Running enrolments of another level's sequence that end: `(enrolment, sequence, steps
    /// still to come)`.
    pub replaces: Vec<(i64, String, i64)>,
}

impl LevelChange {
    /// Steps still to come that would be cancelled.
    #[must_use]
    pub fn cancels(&self) -> i64 {
        self.replaces.iter().map(|r| r.2).sum()
    }
}

/// What setting `level` for `client` would do; nothing is written.
pub async fn plan(
    runner: &Runner,
    client: &ClientId,
    level: &str,
) -> Result<LevelChange, ActionError> {
    let target = runner
        .schedule
        .sequence_for(level)
        .ok_or_else(|| {
            ActionError::Invalid(format!(
                "level of support \"{level}\" is not one of {}",
                crate::domain::SUPPORT_LEVELS.join(", ")
            ))
        })?
        .to_owned();
    let consent: Option<String> = sqlx::query_scalar("SELECT consent FROM clients WHERE id = $1")
        .bind(client.as_str())
        .fetch_optional(runner.db.pool())
        .await
        .doing("reading a client")?;
    let consent = consent.ok_or_else(|| ActionError::UnknownClient(client.clone()))?;
    let rows = sqlx::query(
        "SELECT e.id, e.sequence_id, \
                (SELECT COUNT(*) FROM jobs j WHERE j.enrolment_id = e.id AND j.status IN ('pending', 'blocked', 'paused')) \
         FROM enrolments e WHERE e.client_id = $1 AND e.status IN ('active', 'paused') ORDER BY e.id",
    )
    .bind(client.as_str())
    .fetch_all(runner.db.pool())
    .await
    .doing("reading enrolments")?;
    let levels: Vec<&str> = runner
        .schedule
        .levels
        .iter()
        .map(|(_, s)| s.as_str())
        .collect();
    let mut already = false;
    let mut replaces = Vec::new();
    for r in rows {
        let id: i64 = r.try_get(0).doing("reading enrolments")?;
        let seq: String = r.try_get(1).doing("reading enrolments")?;
        let steps: i64 = r.try_get(2).doing("reading enrolments")?;
        if seq == target {
            already = true;
        } else if levels.contains(&seq.as_str()) {
            replaces.push((id, seq, steps));
        }
    }
    Ok(LevelChange {
        level: level.to_owned(),
        target,
        already,
        opted_out: consent == "revoked",
        replaces,
    })
}

/// Does what [`plan`] said: ends the other levels' enrolments (their steps still to come are
/// cancelled, with the reason) and enrols the client in the level's sequence. Returns the new
/// enrolment, or `None` when there was nothing to do.
pub async fn apply(
    runner: &Runner,
    client: &ClientId,
    change: &LevelChange,
    actor: &str,
) -> Result<Option<Enrolled>, ActionError> {
    if change.already || change.opted_out {
        return Ok(None);
    }
    if !change.replaces.is_empty() {
        let now = to_ms(runner.clock.now());
        let mut tx = runner.db.begin().await?;
        for (enrolment, seq, _) in &change.replaces {
            sqlx::query(
                "UPDATE enrolments SET status = 'cancelled', ended_at = $1, end_reason = $2, updated_at = $1 WHERE id = $3",
            )
            .bind(now)
            .bind(format!("the level of support is now {}", change.level))
            .bind(enrolment)
            .execute(&mut *tx)
            .await
            .doing("ending an enrolment")?;
            let n = sqlx::query(
                "UPDATE jobs SET status = 'cancelled', note = $1, lease_until = NULL, claim_token = NULL, updated_at = $2 \
                 WHERE enrolment_id = $3 AND status IN ('pending', 'blocked', 'paused')",
            )
            .bind(format!("replaced: the level of support is now {}", change.level))
            .bind(now)
            .bind(enrolment)
            .execute(&mut *tx)
            .await
            .doing("cancelling steps")?
            .rows_affected();
            record::audit(
                &mut tx,
                now,
                actor,
                "enrolment-cancel",
                Some(client),
                &format!("sequence {seq}: {n} scheduled step(s)"),
            )
            .await?;
        }
        tx.commit().await.doing("committing a change of level")?;
    }
    enrol(runner, client, &change.target, actor).await.map(Some)
}
