//! One-time invites: a navigator creates one for a client and gives them the link
//! `https://t.me/<bot>?start=<code>`; the client's `/start <code>` links their chat to the
//! client. Only the code's SHA-256 is kept, so the table cannot be used to link a chat.

use crate::domain::ClientId;
use crate::staff::token_hash;
use crate::store::record::audit;
use crate::store::{Db, Doing, StoreError};
use base64::Engine;
use rand::RngCore;
use sqlx::Row;

/// A new invite.
#[derive(Debug, Clone)]
pub struct Invite {
    pub code: String,
    pub expires_at: i64,
}

impl Invite {
    /// The link the client taps.
    #[must_use]
    pub fn link(&self, bot_username: &str) -> String {
        format!("https://t.me/{bot_username}?start={}", self.code)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    #[error("no client {0}")]
    UnknownClient(ClientId),
    #[error("{0} is a test client of the simulator: only the simulator reaches them")]
    TestClient(ClientId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether `code` could be one of ours (Telegram allows A-Z, a-z, 0-9, _ and - in a start
/// parameter, at most 64 of them).
fn code_like(code: &str) -> bool {
    (16..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Creates an invite for `client`, valid for `hours`. Earlier unused invites of the client
/// stop working: only the newest link can be used. Audited.
pub async fn create(
    db: &Db,
    client: &ClientId,
    hours: u32,
    now: i64,
    actor: &str,
) -> Result<Invite, InviteError> {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let code = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let expires_at = now + i64::from(hours) * 3_600_000;
    let mut tx = db.begin().await?;
    let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM clients WHERE id = $1")
        .bind(client.as_str())
        .fetch_optional(&mut *tx)
        .await
        .doing("looking up a client")?;
    match kind.as_deref() {
        None => return Err(InviteError::UnknownClient(client.clone())),
        Some("test") => return Err(InviteError::TestClient(client.clone())),
        Some(_) => {}
    }
    sqlx::query("UPDATE telegram_invites SET expires_at = $1 WHERE client_id = $2 AND used_at IS NULL AND expires_at > $1")
        .bind(now)
        .bind(client.as_str())
        .execute(&mut *tx)
        .await
        .doing("retiring earlier invites")?;
    sqlx::query("INSERT INTO telegram_invites (code_hash, client_id, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(token_hash(&code))
        .bind(client.as_str())
        .bind(actor)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await
        .doing("creating an invite")?;
    audit(
        &mut tx,
        now,
        actor,
        "telegram-invite",
        Some(client),
        &format!("valid {hours} h"),
    )
    .await?;
    tx.commit().await.doing("creating an invite")?;
    Ok(Invite { code, expires_at })
}

/// What a `/start <code>` came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// The chat is now the client's Telegram address.
    Linked(ClientId),
    /// This chat used this code before (an update handled twice): nothing more to do.
    Again(ClientId),
    /// No such code, used by another chat, expired, or for a client another bot serves.
    Invalid,
}

/// Redeems `code` for `chat`: one transaction that marks the invite used, makes the chat the
/// client's Telegram address (replacing an earlier chat, and unlinking the chat from anyone
/// else), and audits it.
pub async fn redeem(
    db: &Db,
    code: &str,
    chat: &str,
    now: i64,
    bot_centre: &str,
) -> Result<Redeemed, StoreError> {
    if !code_like(code) {
        return Ok(Redeemed::Invalid);
    }
    let mut tx = db.begin().await?;
    let row = sqlx::query(
        "SELECT client_id, expires_at, used_at, used_chat FROM telegram_invites WHERE code_hash = $1",
    )
    .bind(token_hash(code))
    .fetch_optional(&mut *tx)
    .await
    .doing("looking up an invite")?;
    let Some(row) = row else {
        return Ok(Redeemed::Invalid);
    };
    let client: String = row.try_get(0).doing("reading an invite")?;
    let expires_at: i64 = row.try_get(1).doing("reading an invite")?;
    let used_at: Option<i64> = row.try_get(2).doing("reading an invite")?;
    let used_chat: Option<String> = row.try_get(3).doing("reading an invite")?;
    let Ok(client) = ClientId::parse(&client) else {
        return Ok(Redeemed::Invalid);
    };
    // An invite works on the bot of the client's centre only: a centre's own bot, or the
    // deployment's (`bot_centre` empty) for a centre without one.
    let served_by: Option<String> = sqlx::query_scalar(
        "SELECT CASE WHEN ce.telegram_token_file IS NULL OR ce.id = 'default' THEN '' ELSE ce.id END \
         FROM clients c JOIN centres ce ON ce.id = c.centre_id WHERE c.id = $1",
    )
    .bind(client.as_str())
    .fetch_optional(&mut *tx)
    .await
    .doing("finding the bot of an invite's client")?;
    if served_by.as_deref() != Some(bot_centre) {
        return Ok(Redeemed::Invalid);
    }
    if used_at.is_some() {
        return Ok(if used_chat.as_deref() == Some(chat) {
            Redeemed::Again(client)
        } else {
            Redeemed::Invalid
        });
    }
    if expires_at <= now {
        return Ok(Redeemed::Invalid);
    }
    sqlx::query("UPDATE telegram_invites SET used_at = $1, used_chat = $2 WHERE code_hash = $3")
        .bind(now)
        .bind(chat)
        .bind(token_hash(code))
        .execute(&mut *tx)
        .await
        .doing("using an invite")?;
    sqlx::query(
        "DELETE FROM channel_addresses WHERE channel = 'telegram' AND (client_id = $1 OR address = $2)",
    )
    .bind(client.as_str())
    .bind(chat)
    .execute(&mut *tx)
    .await
    .doing("unlinking an earlier chat")?;
    // Replies go to the client's newest address: make sure this one is newer than any other.
    let newest: Option<i64> =
        sqlx::query_scalar("SELECT MAX(created_at) FROM channel_addresses WHERE client_id = $1")
            .bind(client.as_str())
            .fetch_one(&mut *tx)
            .await
            .doing("linking a chat")?;
    let at = newest.map_or(now, |n| now.max(n + 1));
    sqlx::query("INSERT INTO channel_addresses (channel, address, client_id, created_at) VALUES ('telegram', $1, $2, $3)")
        .bind(chat)
        .bind(client.as_str())
        .bind(at)
        .execute(&mut *tx)
        .await
        .doing("linking a chat")?;
    audit(
        &mut tx,
        now,
        "client",
        "telegram-linked",
        Some(&client),
        "invite used",
    )
    .await?;
    crate::store::record::channel_added(&mut tx, &client, now).await?;
    tx.commit().await.doing("linking a chat")?;
    Ok(Redeemed::Linked(client))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plausible_codes_are_looked_up() {
        assert!(code_like("AbCdEfGhIjKlMnOpQrStUvWxYz012345"));
        assert!(!code_like("short"));
        assert!(!code_like("has spaces in it, sixteen+"));
        assert!(!code_like(&"a".repeat(65)));
        assert_eq!(token_hash("x").len(), 64);
    }
}
