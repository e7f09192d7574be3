//! The referring provider's word back: the summary sent to them carries a link of its own
//! (`/feedback/{summary}/{token}`, the token a keyed hash of the summary, so nothing secret is
//! stored and no account is needed) to a short form: how useful the follow-up was to them, and
//! whether they would refer again. One answer per summary; sent again, it replaces the first.
//! Every answer is audited; the page shows no client data.

use crate::store::record::audit;
use crate::store::{Db, Doing, StoreError};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const KEY: &str = "feedback_key";

/// The token of a summary's link.
#[must_use]
pub fn token(key: &str, summary: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(format!("feedback:{summary}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The deployment's key for feedback links (made once).
pub async fn key(db: &Db) -> Result<String, StoreError> {
    crate::staff::setting_or_init(db, KEY).await
}

/// The link as the referrer reads it: the site's public address, if it has one, and the path
/// of the summary's form under `key`.
#[must_use]
pub fn link_with(key: &str, public_url: Option<&str>, summary: i64) -> String {
    let p = format!("/feedback/{summary}/{}", token(key, summary));
    match public_url {
        Some(base) => format!("{}{p}", base.trim_end_matches('/')),
        None => p,
    }
}

/// The link of one summary.
pub async fn link(db: &Db, public_url: Option<&str>, summary: i64) -> Result<String, StoreError> {
    Ok(link_with(&key(db).await?, public_url, summary))
}

/// The summary a link names, if its token is right: (referral, client).
pub async fn open(db: &Db, summary: i64, given: &str) -> Result<Option<(i64, String)>, StoreError> {
    let want = token(&key(db).await?, summary);
    let same = want.len() == given.len()
        && want
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return Ok(None);
    }
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT r.id, r.client_id FROM referrer_summaries s JOIN referrals r ON r.id = s.referral_id \
         WHERE s.id = $1 AND s.status = 'sent'",
    )
    .bind(summary)
    .fetch_optional(db.pool())
    .await
    .doing("reading a summary")?;
    Ok(row)
}

/// What the provider said.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// 1–5.
    pub useful: Option<i64>,
    pub would_refer: Option<bool>,
    pub comment: Option<String>,
}

/// Records (or replaces) the answer to a summary. Audited on the client's record.
pub async fn record(
    db: &Db,
    summary: i64,
    referral: i64,
    client: &str,
    a: &Answer,
    now: i64,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO provider_feedback (summary_id, referral_id, useful, would_refer, comment, actor, at) \
         VALUES ($1, $2, $3, $4, $5, 'referrer', $6) ON CONFLICT (summary_id) DO UPDATE SET \
         useful = excluded.useful, would_refer = excluded.would_refer, comment = excluded.comment, at = excluded.at",
    )
    .bind(summary)
    .bind(referral)
    .bind(a.useful)
    .bind(a.would_refer.map(i64::from))
    .bind(a.comment.as_deref())
    .bind(now)
    .execute(&mut *tx)
    .await
    .doing("recording a provider's feedback")?;
    let client =
        crate::domain::ClientId::parse(client).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    audit(
        &mut tx,
        now,
        "referrer",
        "provider-feedback",
        Some(&client),
        &format!("summary {summary}"),
    )
    .await?;
    tx.commit().await.doing("recording a provider's feedback")?;
    Ok(())
}

/// Every answer of the real clients' referrals: (referral, useful, would refer).
pub async fn all(db: &Db) -> Result<Vec<(i64, Option<i64>, Option<i64>)>, StoreError> {
    sqlx::query_as(
        "SELECT f.referral_id, f.useful, f.would_refer FROM provider_feedback f \
         JOIN referrals r ON r.id = f.referral_id JOIN clients c ON c.id = r.client_id \
         WHERE c.kind = 'real' ORDER BY f.id",
    )
    .fetch_all(db.pool())
    .await
    .doing("reading providers' feedback")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_token_is_keyed_and_per_summary() {
        let t = super::token("k", 1);
        assert_eq!(t.len(), 32);
        assert_eq!(t, super::token("k", 1));
        assert_ne!(t, super::token("k", 2));
        assert_ne!(t, super::token("other", 1));
    }
}
