//! The outbox seen from the dispatcher: claiming queued messages, recording what the provider
//! said, status callbacks that never move a message backwards, and the inbox of messages from
//! numbers that match no client.

use super::sql::{bind_all, i, list, list_from, rows_source, s};
use super::{Backend, Db, Doing, StoreError};
use crate::domain::{Accepted, Outgoing, OwnAccount};
use sqlx::Row;

pub use crate::domain::outbox::{FINAL_RANK, SENDING_RANK};

/// Claims up to `limit` queued messages of `channel`, replies (priority 0) before bulk, oldest
/// first, never one to a client who has opted out since it was queued (but the confirmation of
/// the opt-out itself). On Postgres, concurrent dispatchers skip each other's rows.
pub async fn claim(
    db: &Db,
    channel: &str,
    limit: usize,
    now: i64,
) -> Result<Vec<Outgoing>, StoreError> {
    let lock = match db.backend() {
        Backend::Sqlite => "",
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
    };
    let sql = format!(
        "UPDATE messages SET status = 'sending', status_rank = {SENDING_RANK}, claimed_at = $1, \
                attempts = attempts + 1, updated_at = $1 \
         WHERE id IN (SELECT id FROM messages m WHERE status = 'queued' AND channel = $2 \
                        AND (COALESCE(message_key, '') = 'stop-confirmation' OR NOT EXISTS \
                             (SELECT 1 FROM clients c WHERE c.id = m.client_id AND c.consent = 'revoked')) \
                      ORDER BY priority, id LIMIT $3 {lock}) \
         RETURNING id, client_id, address, body, segments, priority, buttons, \
                 {centre}",
        centre = centre_columns()
    );
    let mut conn = db.acquire("claiming queued messages").await?;
    let rows = sqlx::query(&sql)
        .bind(now)
        .bind(channel)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *conn)
        .await
        .doing("claiming queued messages")?;
    let mut out = rows
        .iter()
        .map(outgoing)
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .doing("reading claimed messages")?;
    out.sort_by_key(|m| (m.priority, m.id));
    Ok(out)
}

/// The columns of a claimed message that name its client's centre's own sender, Twilio
/// account and Telegram bot (each NULL: the deployment's).
fn centre_columns() -> String {
    use super::sql::{CENTRE_ACCOUNT, CENTRE_BOT, CENTRE_SENDER, CENTRE_TOKEN_FILE};
    format!(
        "{CENTRE_SENDER} AS centre_sender, {CENTRE_ACCOUNT} AS centre_account, \
         {CENTRE_TOKEN_FILE} AS centre_token_file, {CENTRE_BOT} AS centre_bot"
    )
}

/// Marks queued messages to clients who have opted out since they were queued as suppressed:
/// a stopped client gets nothing more. The confirmation of the opt-out itself still goes.
pub async fn suppress_opted_out(db: &Db, channel: &str, now: i64) -> Result<u64, StoreError> {
    let done = sqlx::query(&format!(
        "UPDATE messages SET status = 'suppressed', status_rank = {FINAL_RANK}, \
                error = 'not sent: the client opted out before it left', updated_at = $1 \
         WHERE status = 'queued' AND channel = $2 \
           AND COALESCE(message_key, '') <> 'stop-confirmation' \
           AND EXISTS (SELECT 1 FROM clients c WHERE c.id = messages.client_id AND c.consent = 'revoked')"
    ))
    .bind(now)
    .bind(channel)
    .execute(db.pool())
    .await
    .doing("suppressing messages to clients who opted out")?;
    Ok(done.rows_affected())
}

/// A message whose send was cut off (its process died mid-send): it may or may not have
/// reached the provider.
#[derive(Debug, Clone)]
pub struct InDoubt {
    pub message: Outgoing,
    /// When it was queued: the provider cannot have it from before.
    pub queued_at: i64,
}

/// Takes up to `limit` messages of `channel` whose claim lapsed before `before` (a dead
/// process's sends), leasing them again from `now` so that one process looks each up. On
/// Postgres, concurrent dispatchers skip each other's rows.
pub async fn claim_in_doubt(
    db: &Db,
    channel: &str,
    before: i64,
    now: i64,
    limit: usize,
) -> Result<Vec<InDoubt>, StoreError> {
    let lock = match db.backend() {
        Backend::Sqlite => "",
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
    };
    let sql = format!(
        "UPDATE messages SET claimed_at = $1, updated_at = $1 \
         WHERE id IN (SELECT id FROM messages WHERE status = 'sending' AND channel = $2 AND claimed_at < $3 \
                      ORDER BY id LIMIT $4 {lock}) \
         RETURNING id, client_id, address, body, segments, priority, buttons, created_at, \
                 {centre}",
        centre = centre_columns()
    );
    let rows = sqlx::query(&sql)
        .bind(now)
        .bind(channel)
        .bind(before)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(db.pool())
        .await
        .doing("taking up messages in doubt")?;
    let mut out = rows
        .iter()
        .map(|r| {
            Ok(InDoubt {
                message: outgoing(r)?,
                queued_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .doing("reading messages in doubt")?;
    out.sort_by_key(|d| d.message.id);
    Ok(out)
}

/// Puts claimed messages back in the queue: they never started (a stop), or the provider does
/// not have them (in doubt, looked up).
pub async fn requeue(db: &Db, ids: &[i64], now: i64) -> Result<u64, StoreError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "UPDATE messages SET status = 'queued', status_rank = 0, claimed_at = NULL, updated_at = {now} \
         WHERE status = 'sending' AND id IN ({})",
        list(db.backend(), ids.len())
    );
    bind_all(sqlx::query(&sql), ids.iter().map(|id| i(*id)).collect())
        .execute(db.pool())
        .await
        .doing("putting messages back in the queue")
        .map(|r| r.rows_affected())
}

/// Renews the claim of messages still being sent by this process, so that no other takes them
/// for a dead process's.
pub async fn renew(db: &Db, ids: &[i64], now: i64) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE messages SET claimed_at = {now} WHERE status = 'sending' AND id IN ({})",
        list(db.backend(), ids.len())
    );
    bind_all(sqlx::query(&sql), ids.iter().map(|id| i(*id)).collect())
        .execute(db.pool())
        .await
        .doing("renewing the claim of messages being sent")?;
    Ok(())
}

/// Which of these provider ids are already recorded on one of our messages.
pub async fn known_provider_ids(
    db: &Db,
    channel: &str,
    ids: &[&str],
) -> Result<std::collections::HashSet<String>, StoreError> {
    if ids.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    let b = db.backend();
    let sql = format!(
        "SELECT provider_id FROM messages WHERE channel = {} AND direction = 'out' AND provider_id IN ({})",
        list(b, 1),
        list_from(b, 2, ids.len())
    );
    let mut q = sqlx::query_scalar::<_, String>(&sql).bind(channel);
    for id in ids {
        q = q.bind(*id);
    }
    Ok(q.fetch_all(db.pool())
        .await
        .doing("looking up provider ids")?
        .into_iter()
        .collect())
}

fn outgoing(r: &sqlx::any::AnyRow) -> Result<Outgoing, sqlx::Error> {
    Ok(Outgoing {
        id: r.try_get("id")?,
        client: r.try_get("client_id")?,
        address: r
            .try_get::<Option<String>, _>("address")?
            .unwrap_or_default(),
        body: r.try_get("body")?,
        segments: r
            .try_get::<Option<i64>, _>("segments")?
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(1),
        priority: r.try_get("priority")?,
        // Buttons that do not parse are dropped: the text still lists the answers.
        buttons: r
            .try_get::<Option<String>, _>("buttons")?
            .and_then(|b| serde_json::from_str(&b).ok()),
        from: r.try_get("centre_sender")?,
        account: r
            .try_get::<Option<String>, _>("centre_account")?
            .zip(r.try_get::<Option<String>, _>("centre_token_file")?)
            .map(|(sid, token_file)| OwnAccount { sid, token_file }),
        bot: r.try_get("centre_bot")?,
    })
}

/// Records the provider's ids for sent messages, then applies any status callbacks that
/// arrived before the ids were known.
pub async fn mark_sent(
    db: &Db,
    channel: &str,
    sent: &[(i64, Accepted)],
    now: i64,
) -> Result<Vec<Followup>, StoreError> {
    if sent.is_empty() {
        return Ok(Vec::new());
    }
    let b = db.backend();
    let mut vals = Vec::new();
    for (id, a) in sent {
        let (ours, rank) =
            crate::domain::twilio::status_rank(&a.provider_status).unwrap_or(("sent", 10));
        vals.extend([
            i(*id),
            s(a.provider_id.as_str()),
            s(a.provider_status.as_str()),
            s(ours),
            i(rank),
        ]);
    }
    let (source, vals) = rows_source(b, vals, 5);
    let sql = format!(
        "UPDATE messages SET provider_id = v.column2, provider_status = v.column3, status = v.column4, \
                status_rank = v.column5, sent_at = {now}, updated_at = {now} \
         FROM {source} AS v WHERE messages.id = v.column1 AND messages.status_rank < v.column5"
    );
    bind_all(sqlx::query(&sql), vals)
        .execute(db.pool())
        .await
        .doing("recording sent messages")?;
    let ids: Vec<&str> = sent.iter().map(|(_, a)| a.provider_id.as_str()).collect();
    let sql = format!(
        "SELECT provider_id, status, error_code FROM delivery_events \
         WHERE provider_id IN ({}) AND channel = {} ORDER BY id",
        list(b, ids.len()),
        list_from(b, ids.len() + 1, 1)
    );
    let mut q = sqlx::query(&sql);
    for id in &ids {
        q = q.bind(*id);
    }
    q = q.bind(channel);
    let early = q
        .fetch_all(db.pool())
        .await
        .doing("reading early status callbacks")?;
    let mut followups = Vec::new();
    for r in &early {
        let (pid, status, code): (String, String, Option<String>) = (
            r.try_get(0).doing("reading early status callbacks")?,
            r.try_get(1).doing("reading early status callbacks")?,
            r.try_get(2).doing("reading early status callbacks")?,
        );
        if let Some(f) = apply_status(db, channel, &pid, &status, code.as_deref(), now).await? {
            followups.push(f);
        }
    }
    Ok(followups)
}

/// Marks a message that could not be sent as failed, with its reason.
pub async fn mark_failed(
    db: &Db,
    id: i64,
    reason: &str,
    code: Option<u32>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "UPDATE messages SET status = 'failed', status_rank = {FINAL_RANK}, error = $1, error_code = $2, updated_at = $3 WHERE id = $4"
    ))
    .bind(reason)
    .bind(code.map(|c| c.to_string()))
    .bind(now)
    .bind(id)
    .execute(db.pool())
    .await
    .doing("marking a message failed")?;
    Ok(())
}

/// A status change that may need more than the message row: an opt-out, a flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Followup {
    pub message_id: i64,
    pub client: Option<String>,
    pub status: String,
    pub error_code: Option<String>,
}

/// A status callback: kept in the timeline, and applied to the message when it moves it
/// forward. Returns the change when there was one.
pub async fn record_status(
    db: &Db,
    channel: &str,
    provider_id: &str,
    status: &str,
    error_code: Option<&str>,
    now: i64,
) -> Result<Option<Followup>, StoreError> {
    let mut conn = db.acquire("recording a status callback").await?;
    sqlx::query(
        "INSERT INTO delivery_events (channel, provider_id, status, error_code, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(channel)
    .bind(provider_id)
    .bind(status)
    .bind(error_code)
    .bind(now)
    .execute(&mut *conn)
    .await
    .doing("recording a status callback")?;
    drop(conn);
    apply_status(db, channel, provider_id, status, error_code, now).await
}

async fn apply_status(
    db: &Db,
    channel: &str,
    provider_id: &str,
    status: &str,
    error_code: Option<&str>,
    now: i64,
) -> Result<Option<Followup>, StoreError> {
    let Some((ours, rank)) = crate::domain::twilio::status_rank(status) else {
        return Ok(None);
    };
    let error = error_code.map(|c| {
        let explained = c.parse().map_or(
            "see Twilio's error dictionary",
            crate::domain::twilio::explain,
        );
        format!("{c}: {explained}")
    });
    let row = sqlx::query(
        "UPDATE messages SET provider_status = $1, status = $2, status_rank = $3, \
                error_code = COALESCE($4, error_code), error = COALESCE($5, error), updated_at = $6 \
         WHERE channel = $7 AND provider_id = $8 AND direction = 'out' AND status_rank < $3 \
         RETURNING id, client_id",
    )
    .bind(status)
    .bind(ours)
    .bind(rank)
    .bind(error_code)
    .bind(error)
    .bind(now)
    .bind(channel)
    .bind(provider_id)
    .fetch_optional(db.pool())
    .await
    .doing("applying a status callback")?;
    row.map(|r| {
        Ok(Followup {
            message_id: r.try_get(0)?,
            client: r.try_get(1)?,
            status: ours.to_owned(),
            error_code: error_code.map(str::to_owned),
        })
    })
    .transpose()
    .doing("applying a status callback")
}

/// Whether the client's last `n` finished messages on `channel` all failed with one of `codes`
/// (and no open flag of `kind` says so already).
pub async fn failing_streak(
    db: &Db,
    client: &str,
    channel: &str,
    codes: &[&str],
    n: usize,
    kind: &str,
) -> Result<bool, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT error_code FROM messages WHERE client_id = $1 AND channel = $2 AND direction = 'out' \
           AND status_rank >= {FINAL_RANK} AND status <> 'suppressed' ORDER BY id DESC LIMIT $3"
    ))
    .bind(client)
    .bind(channel)
    .bind(i64::try_from(n).unwrap_or(i64::MAX))
    .fetch_all(db.pool())
    .await
    .doing("counting failed messages")?;
    let streak = rows.len() == n
        && rows.iter().all(|r| {
            r.try_get::<Option<String>, _>(0)
                .ok()
                .flatten()
                .is_some_and(|c| codes.contains(&c.as_str()))
        });
    if !streak {
        return Ok(false);
    }
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM flags WHERE client_id = $1 AND kind = $2 AND status = 'open'",
    )
    .bind(client)
    .bind(kind)
    .fetch_one(db.pool())
    .await
    .doing("looking for an open flag")?;
    Ok(open == 0)
}

/// A message from a number that matches no client.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unmatched {
    pub id: i64,
    pub at: i64,
    pub channel: String,
    pub address: String,
    pub body: String,
}

/// Puts a message from an unknown address in the navigators' inbox. False when the provider
/// sent it before (a retry).
pub async fn add_unmatched(
    db: &Db,
    centre: &str,
    channel: &str,
    address: &str,
    provider_id: Option<&str>,
    body: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO messages (client_id, direction, channel, address, provider_id, body, status, created_at, updated_at, centre_id) \
         VALUES (NULL, 'in', $1, $2, $3, $4, 'unmatched', $5, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(channel)
    .bind(address)
    .bind(provider_id)
    .bind(body)
    .bind(now)
    .bind(centre)
    .execute(db.pool())
    .await
    .doing("keeping a message from an unknown number")?;
    Ok(done.rows_affected() == 1)
}

/// The navigators' inbox of messages from unknown numbers, newest first, of one centre (none:
/// every centre). Reading it is audited.
pub async fn unmatched(
    db: &Db,
    centre: Option<&str>,
    limit: usize,
    now: i64,
    actor: &str,
) -> Result<Vec<Unmatched>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, created_at, channel, address, body FROM messages \
         WHERE client_id IS NULL AND direction = 'in' AND ($2 = '' OR COALESCE(centre_id, 'default') = $2) \
         ORDER BY id DESC LIMIT $1",
    )
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .bind(centre.unwrap_or_default())
    .fetch_all(db.pool())
    .await
    .doing("reading unmatched messages")?;
    let list = rows
        .iter()
        .map(|r| {
            Ok(Unmatched {
                id: r.try_get(0)?,
                at: r.try_get(1)?,
                channel: r.try_get(2)?,
                address: r.try_get::<Option<String>, _>(3)?.unwrap_or_default(),
                body: r.try_get(4)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .doing("reading unmatched messages")?;
    let mut tx = db.begin().await?;
    super::record::audit(
        &mut tx,
        now,
        actor,
        "unmatched-view",
        None,
        &format!("{} message(s)", list.len()),
    )
    .await?;
    tx.commit().await.doing("auditing the unmatched inbox")?;
    Ok(list)
}
