//! The centre's retention policy (`[retention]`), applied by a daily job and previewed by
//! `matters retention --dry-run`. Message words older than `message_body_days` are replaced by
//! a marker (`purged_at` set, the body emptied), keeping the answers, scores and de-identified
//! facts drawn from them; a client whose referrals all closed more than `client_years` ago is
//! purged whole. Each purge is audited with counts, never with what was purged.

use crate::config::RetentionSettings;
use crate::store::{Db, Doing, StoreError};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// A year, as the policy counts it.
const YEAR_MS: i64 = 365 * DAY_MS;
/// The settings key of the last run (so several processes purge once a day between them).
const LAST_RUN: &str = "retention.last_run";

/// What a purge removes (or, dry, would).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purge {
    /// Messages whose words go.
    pub message_bodies: i64,
    /// Clients purged whole.
    pub clients: Vec<String>,
}

impl Purge {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.message_bodies == 0 && self.clients.is_empty()
    }
}

/// Whether any part of the policy is on.
#[must_use]
pub fn is_on(policy: &RetentionSettings) -> bool {
    policy.message_body_days.is_some() || policy.client_years.is_some()
}

/// Messages older than the policy, whose words are still there.
const BODIES: &str = "FROM messages WHERE purged_at IS NULL AND body <> '' AND status <> 'queued' AND created_at < $1";

/// Clients with referrals, every one closed before the cutoff.
const CLIENTS: &str = "SELECT c.id FROM clients c WHERE EXISTS (SELECT 1 FROM referrals r WHERE r.client_id = c.id) \
     AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.client_id = c.id AND (r.closed_at IS NULL OR r.closed_at >= $1)) ORDER BY c.id";

/// What the policy would purge now.
pub async fn preview(db: &Db, policy: &RetentionSettings, now: i64) -> Result<Purge, StoreError> {
    let doing = "previewing the retention policy";
    let mut out = Purge::default();
    if let Some(days) = policy.message_body_days {
        out.message_bodies = sqlx::query_scalar(&format!("SELECT COUNT(*) {BODIES}"))
            .bind(now - i64::from(days) * DAY_MS)
            .fetch_one(db.pool())
            .await
            .doing(doing)?;
    }
    if let Some(years) = policy.client_years {
        out.clients = sqlx::query_scalar(CLIENTS)
            .bind(now - i64::from(years) * YEAR_MS)
            .fetch_all(db.pool())
            .await
            .doing(doing)?;
    }
    Ok(out)
}

/// Purges what the policy says, in one transaction, and audits it with counts.
pub async fn purge(db: &Db, policy: &RetentionSettings, now: i64) -> Result<Purge, StoreError> {
    let doing = "purging under the retention policy";
    let mut tx = db.begin().await?;
    let mut out = Purge::default();
    if let Some(days) = policy.message_body_days {
        out.message_bodies = i64::try_from(
            sqlx::query(&format!(
                "UPDATE messages SET body = '', purged_at = $2 WHERE id IN (SELECT id {BODIES})"
            ))
            .bind(now - i64::from(days) * DAY_MS)
            .bind(now)
            .execute(&mut *tx)
            .await
            .doing(doing)?
            .rows_affected(),
        )
        .unwrap_or(i64::MAX);
    }
    if let Some(years) = policy.client_years {
        out.clients = sqlx::query_scalar(CLIENTS)
            .bind(now - i64::from(years) * YEAR_MS)
            .fetch_all(&mut *tx)
            .await
            .doing(doing)?;
        for id in &out.clients {
            sqlx::query("DELETE FROM clients WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .doing(doing)?;
            crate::store::record::audit(
                &mut tx,
                now,
                "retention",
                "client-purged",
                crate::domain::ClientId::parse(id).ok().as_ref(),
                &format!("every referral closed more than {years} year(s) ago"),
            )
            .await?;
        }
    }
    if !out.is_empty() {
        crate::store::record::audit(
            &mut tx,
            now,
            "retention",
            "retention-purge",
            None,
            &format!(
                "message bodies: {}; clients: {}",
                out.message_bodies,
                out.clients.len()
            ),
        )
        .await?;
    }
    tx.commit().await.doing(doing)?;
    metrics::counter!(super::metrics::PURGED, "what" => "message-bodies")
        .increment(u64::try_from(out.message_bodies).unwrap_or(0));
    metrics::counter!(super::metrics::PURGED, "what" => "clients")
        .increment(out.clients.len() as u64);
    Ok(out)
}

/// Runs the purge if no process has run it in the last day. `None` when it was not due.
pub async fn run_if_due(
    db: &Db,
    policy: &RetentionSettings,
    now: i64,
) -> Result<Option<Purge>, StoreError> {
    let doing = "checking when the retention policy last ran";
    // Claimed by moving the mark: of several processes, one wins.
    let claimed = sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE CAST(settings.value AS BIGINT) <= $3",
    )
    .bind(LAST_RUN)
    .bind(now.to_string())
    .bind(now - DAY_MS)
    .execute(db.pool())
    .await
    .doing(doing)?
    .rows_affected();
    if claimed == 0 {
        return Ok(None);
    }
    purge(db, policy, now).await.map(Some)
}

/// The daily job: looks every hour whether a day has passed since the last purge.
pub fn spawn(
    runner: std::sync::Arc<crate::runner::Runner>,
    policy: RetentionSettings,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let alive = runner.loops.register("retention");
        let mut stop = runner.shutdown.signal();
        while !stop.is_stopping() {
            alive.beat();
            let now = crate::clock::to_ms(runner.clock.now());
            match run_if_due(&runner.db, &policy, now).await {
                Ok(Some(p)) => tracing::info!(
                    message_bodies = p.message_bodies,
                    clients = p.clients.len(),
                    "retention: purged under the policy"
                ),
                Ok(None) => {}
                Err(_) if runner.db.pool().is_closed() => return,
                Err(e) => {
                    let e = runner.db.explain(e).await;
                    tracing::warn!(error = %e, "retention: the purge failed; it is tried again within the hour");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
                () = stop.wait() => {}
            }
        }
    })
}
