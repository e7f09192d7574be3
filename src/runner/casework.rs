//! What a navigator records outside a conversation: their own message to a client, the
//! referral, and an erasure. Each is audited in the same transaction; the web's record page and
//! the command line call these.

use super::Runner;
use crate::domain::ClientId;
use crate::schedule::actions::ActionError;
use crate::store::record::audit;
use crate::store::{Db, Doing, StoreError};
use sqlx::Row;

/// Queues a navigator's own message to a client on their channel (SMS first, then Telegram,
/// else the simulator). Refused after an opt-out. Returns the message id.
pub async fn send_message(
    runner: &Runner,
    client: &ClientId,
    body: &str,
    actor: &str,
) -> Result<i64, ActionError> {
    let body = body.trim();
    if body.is_empty() {
        return Err(ActionError::Invalid("the message is empty".into()));
    }
    if body.chars().count() > 1000 {
        return Err(ActionError::Invalid(
            "the message is longer than 1000 characters".into(),
        ));
    }
    let now = crate::clock::to_ms(runner.clock.now());
    let db = &runner.db;
    let consent: Option<String> = sqlx::query_scalar("SELECT consent FROM clients WHERE id = $1")
        .bind(client.as_str())
        .fetch_optional(db.pool())
        .await
        .doing("sending a navigator's message")?;
    match consent.as_deref() {
        None => return Err(ActionError::UnknownClient(client.clone())),
        Some("revoked") => {
            return Err(ActionError::Invalid(format!(
                "{client} has opted out: nothing can be sent until they opt back in"
            )));
        }
        _ => {}
    }
    let channel = sqlx::query(
        "SELECT channel, address FROM channel_addresses WHERE client_id = $1 \
         ORDER BY CASE channel WHEN 'sms' THEN 0 WHEN 'telegram' THEN 1 ELSE 2 END LIMIT 1",
    )
    .bind(client.as_str())
    .fetch_optional(db.pool())
    .await
    .doing("sending a navigator's message")?
    .ok_or_else(|| ActionError::Invalid(format!("{client} has no channel to message")))?;
    let ch: String = channel.try_get(0).doing("sending a navigator's message")?;
    let address: String = channel.try_get(1).doing("sending a navigator's message")?;
    let cost = crate::sms::cost(body);
    // The simulator has nobody to deliver to: it is delivered as soon as it is written.
    let status = if ch == "simulator" {
        "delivered"
    } else {
        "queued"
    };
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO messages (client_id, direction, channel, address, body, message_key, priority, status, encoding, segments, created_at, updated_at) \
         VALUES ($1, 'out', $2, $3, $4, 'navigator-message', 0, $5, $6, $7, $8, $8) RETURNING id",
    )
    .bind(client.as_str())
    .bind(&ch)
    .bind(&address)
    .bind(body)
    .bind(status)
    .bind(cost.encoding.to_string())
    .bind(i64::try_from(cost.segments).unwrap_or(i64::MAX))
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .doing("sending a navigator's message")?;
    audit(
        &mut tx,
        now,
        actor,
        "message-send",
        Some(client),
        &format!("message {id} on {ch}, {} segment(s)", cost.segments),
    )
    .await?;
    // The navigator is talking with the client: the bot waits until the conversation closes.
    super::conversation::staff_wrote(&mut tx, client, actor, now).await?;
    tx.commit().await.doing("sending a navigator's message")?;
    Ok(id)
}

/// Erases a client and everything recorded about them. The audit log keeps a tombstone: who
/// erased which client id, when, and how many rows went.
pub async fn erase_client(
    db: &Db,
    client: &ClientId,
    actor: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let mut gone = 0u64;
    for sql in [
        "DELETE FROM delivery_events WHERE EXISTS (SELECT 1 FROM messages m WHERE m.client_id = $1 AND m.channel = delivery_events.channel AND m.provider_id = delivery_events.provider_id)",
        "DELETE FROM telegram_invites WHERE client_id = $1",
        "DELETE FROM alert_sends WHERE alert_id IN (SELECT id FROM alerts WHERE client_id = $1)",
        "DELETE FROM alerts WHERE client_id = $1",
        "DELETE FROM conversations WHERE client_id = $1",
        "DELETE FROM notes WHERE client_id = $1",
        "DELETE FROM jobs WHERE client_id = $1",
        "DELETE FROM enrolments WHERE client_id = $1",
        "DELETE FROM messages WHERE client_id = $1",
        "DELETE FROM answers WHERE client_id = $1",
        "DELETE FROM scores WHERE client_id = $1",
        "DELETE FROM flags WHERE client_id = $1",
        "DELETE FROM fields WHERE client_id = $1",
        "DELETE FROM sessions WHERE client_id = $1",
        "DELETE FROM referrals WHERE client_id = $1",
        "DELETE FROM consent_events WHERE client_id = $1",
        "DELETE FROM channel_addresses WHERE client_id = $1",
    ] {
        gone += sqlx::query(sql)
            .bind(client.as_str())
            .execute(&mut *tx)
            .await
            .doing("erasing a client")?
            .rows_affected();
    }
    let n = sqlx::query("DELETE FROM clients WHERE id = $1")
        .bind(client.as_str())
        .execute(&mut *tx)
        .await
        .doing("erasing a client")?
        .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    audit(
        &mut tx,
        now,
        actor,
        "client-erase",
        Some(client),
        &format!("tombstone: client erased with {gone} related rows"),
    )
    .await?;
    tx.commit().await.doing("committing an erasure")?;
    Ok(true)
}

/// Why a referral is closed.
pub const CLOSING_REASONS: [&str; 7] = [
    "goal-met",
    "attended",
    "declined",
    "no-contact",
    "moved",
    "referred-elsewhere",
    "other",
];

pub use crate::domain::{SUPPORT_LEVELS, UPTAKES};

/// What a navigator records about the open referral (or a new one when there is none).
#[derive(Debug, Clone, Default)]
pub struct ReferralUpdate {
    pub referred_by: Option<String>,
    pub rx_type: Option<String>,
    pub program: Option<String>,
    pub support_level: Option<String>,
    pub uptake: String,
}

/// Records the referral. An uptake of declined or dropped-out stops the steps that declare it
/// (`stop_when`), as when the client says so. Returns the referral's id.
pub async fn update_referral(
    runner: &Runner,
    client: &ClientId,
    u: &ReferralUpdate,
    actor: &str,
) -> Result<i64, ActionError> {
    let db = &runner.db;
    let now = crate::clock::to_ms(runner.clock.now());
    if let Some(l) = &u.support_level
        && !SUPPORT_LEVELS.contains(&l.as_str())
    {
        return Err(ActionError::Invalid(format!(
            "level of support {l:?} is not one of {}",
            SUPPORT_LEVELS.join(", ")
        )));
    }
    if !UPTAKES.contains(&u.uptake.as_str()) {
        return Err(ActionError::Invalid(format!(
            "uptake {:?} is not one of {}",
            u.uptake,
            UPTAKES.join(", ")
        )));
    }
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let mut tx = db.begin().await?;
    let open: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM referrals WHERE client_id = $1 AND closed_at IS NULL ORDER BY id DESC LIMIT 1",
    )
    .bind(client.as_str())
    .fetch_optional(&mut *tx)
    .await
    .doing("recording a referral")?;
    let before: Option<String> = match open {
        Some(id) => sqlx::query_scalar("SELECT uptake FROM referrals WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .doing("recording a referral")?,
        None => None,
    };
    let id = match open {
        Some(id) => {
            sqlx::query(
                "UPDATE referrals SET referred_by = $1, rx_type = $2, program = $3, support_level = $4, uptake = $5 WHERE id = $6",
            )
            .bind(clean(&u.referred_by))
            .bind(clean(&u.rx_type))
            .bind(clean(&u.program))
            .bind(clean(&u.support_level))
            .bind(&u.uptake)
            .bind(id)
            .execute(&mut *tx)
            .await
            .doing("recording a referral")?;
            id
        }
        None => sqlx::query_scalar(
            "INSERT INTO referrals (client_id, referred_at, referred_by, rx_type, program, support_level, uptake, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $2) RETURNING id",
        )
        .bind(client.as_str())
        .bind(now)
        .bind(clean(&u.referred_by))
        .bind(clean(&u.rx_type))
        .bind(clean(&u.program))
        .bind(clean(&u.support_level))
        .bind(&u.uptake)
        .fetch_one(&mut *tx)
        .await
        .doing("recording a referral")?,
    };
    if before.as_deref() != Some(u.uptake.as_str()) {
        crate::schedule::stop_for_uptake(
            &mut tx,
            db.backend(),
            &runner.sequences,
            client.as_str(),
            &u.uptake,
            now,
        )
        .await?;
    }
    audit(
        &mut tx,
        now,
        actor,
        "referral-update",
        Some(client),
        &format!("referral {id}: uptake {}", u.uptake),
    )
    .await?;
    tx.commit().await.doing("recording a referral")?;
    Ok(id)
}
