//! A referral's uptake over time (not yet, attended, declined, dropped out): every change, who
//! made it and where it came from. The referral's `uptake` column is the latest; this is how it
//! got there, for the record and for the word back to the referrer.

use super::{Db, Doing, StoreError, Tx};

/// One change of uptake.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Change {
    pub referral_id: i64,
    pub uptake: String,
    /// navigator | client | api | system | before (the uptake it had when history began)
    pub source: String,
    pub actor: String,
    pub at: i64,
}

/// Where a change came from, by who made it (`staff:…`, `api:…`, `client`).
#[must_use]
pub fn source_of(actor: &str) -> &'static str {
    match actor.split(':').next().unwrap_or_default() {
        "staff" => "navigator",
        "api" => "api",
        "client" => "client",
        _ => "system",
    }
}

/// Records a referral's uptake, in the caller's transaction.
pub async fn record(
    tx: &mut Tx,
    referral: i64,
    uptake: &str,
    actor: &str,
    now: i64,
) -> Result<(), StoreError> {
    let source = source_of(actor);
    sqlx::query(
        "INSERT INTO referral_uptake (referral_id, uptake, source, actor, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(referral)
    .bind(uptake)
    .bind(source)
    .bind(actor)
    .bind(now)
    .execute(&mut **tx)
    .await
    .doing("recording a referral's uptake")?;
    Ok(())
}

/// Every uptake change of a client's referrals, oldest first.
pub async fn of_client(db: &Db, client: &str) -> Result<Vec<Change>, StoreError> {
    let rows: Vec<(i64, String, String, String, i64)> = sqlx::query_as(
        "SELECT u.referral_id, u.uptake, u.source, u.actor, u.at FROM referral_uptake u \
         JOIN referrals r ON r.id = u.referral_id WHERE r.client_id = $1 ORDER BY u.id",
    )
    .bind(client)
    .fetch_all(db.pool())
    .await
    .doing("reading uptake history")?;
    Ok(rows
        .into_iter()
        .map(|(referral_id, uptake, source, actor, at)| Change {
            referral_id,
            uptake,
            source,
            actor,
            at,
        })
        .collect())
}
