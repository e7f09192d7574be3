//! A navigator's conversation with a client. A client's text outside any flow opens one; the
//! navigator answers from the record or the Inbox, on the client's channel, paced like replies.
//! While it is open the bot keeps quiet (STOP, crisis language and HELP still work) and the
//! client's scheduled steps wait; it closes by hand, or after [`Runner::conversation_quiet`]
//! without a message either way, and then the steps that waited are due at once.

use super::Runner;
use crate::clock::to_ms;
use crate::domain::ClientId;
use crate::store::{Db, Doing, StoreError, Tx};
use sqlx::Row;

/// The note of a step held while a conversation is open.
pub const WAITING_FOR_CONVERSATION: &str =
    "waiting: a navigator's conversation with the client is open";

/// What a client's text does to the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// A text outside any flow: opens one, or adds to the open one.
    Open,
    /// A text while one is open.
    Add,
}

/// Records the client's text in their open conversation, opening one if none is.
pub async fn client_wrote(
    tx: &mut Tx,
    client: &ClientId,
    _op: Op,
    now: i64,
) -> Result<(), StoreError> {
    let n = sqlx::query(
        "UPDATE conversations SET last_at = $1, unread = unread + 1 WHERE client_id = $2 AND status = 'open'",
    )
    .bind(now)
    .bind(client.as_str())
    .execute(&mut **tx)
    .await
    .doing("adding to a conversation")?
    .rows_affected();
    if n == 0 {
        sqlx::query(
            "INSERT INTO conversations (client_id, status, opened_by, opened_at, last_at, unread) \
             VALUES ($1, 'open', 'client', $2, $2, 1)",
        )
        .bind(client.as_str())
        .bind(now)
        .execute(&mut **tx)
        .await
        .doing("opening a conversation")?;
    }
    Ok(())
}

/// A navigator wrote to the client: the conversation is answered (or opened by them).
pub async fn staff_wrote(
    tx: &mut Tx,
    client: &ClientId,
    actor: &str,
    now: i64,
) -> Result<(), StoreError> {
    let n = sqlx::query(
        "UPDATE conversations SET last_at = $1, unread = 0 WHERE client_id = $2 AND status = 'open'",
    )
    .bind(now)
    .bind(client.as_str())
    .execute(&mut **tx)
    .await
    .doing("answering a conversation")?
    .rows_affected();
    if n == 0 {
        sqlx::query(
            "INSERT INTO conversations (client_id, status, opened_by, opened_at, last_at, unread) \
             VALUES ($1, 'open', $2, $3, $3, 0)",
        )
        .bind(client.as_str())
        .bind(actor)
        .bind(now)
        .execute(&mut **tx)
        .await
        .doing("opening a conversation")?;
    }
    Ok(())
}

/// Closes the client's open conversation: the bot resumes, and the steps that waited are due.
/// False when none was open.
pub async fn close(runner: &Runner, client: &ClientId, actor: &str) -> Result<bool, StoreError> {
    let now = to_ms(runner.clock.now());
    let mut tx = runner.db.begin().await?;
    let n = close_in(&mut tx, client.as_str(), actor, now).await?;
    if n {
        crate::store::record::audit(
            &mut tx,
            now,
            actor,
            "conversation-closed",
            Some(client),
            "the conversation is closed; the bot resumes",
        )
        .await?;
    }
    tx.commit().await.doing("closing a conversation")?;
    Ok(n)
}

pub(crate) async fn close_in(
    tx: &mut Tx,
    client: &str,
    by: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE conversations SET status = 'closed', closed_at = $1, closed_by = $2 \
         WHERE client_id = $3 AND status = 'open'",
    )
    .bind(now)
    .bind(by)
    .bind(client)
    .execute(&mut **tx)
    .await
    .doing("closing a conversation")?
    .rows_affected();
    if n > 0 {
        sqlx::query(
            "UPDATE jobs SET due_at = $1, note = NULL, updated_at = $1 \
             WHERE client_id = $2 AND status = 'pending' AND note = $3",
        )
        .bind(now)
        .bind(client)
        .bind(WAITING_FOR_CONVERSATION)
        .execute(&mut **tx)
        .await
        .doing("waking steps that waited for a conversation")?;
    }
    Ok(n > 0)
}

/// Closes the conversations quiet for longer than the runner's limit.
pub async fn close_quiet(runner: &Runner) -> Result<usize, StoreError> {
    let now = to_ms(runner.clock.now());
    let cut = now - runner.conversation_quiet.num_milliseconds();
    let quiet: Vec<String> = sqlx::query_scalar(
        "SELECT client_id FROM conversations WHERE status = 'open' AND last_at < $1",
    )
    .bind(cut)
    .fetch_all(runner.db.pool())
    .await
    .doing("finding quiet conversations")?;
    if quiet.is_empty() {
        return Ok(0);
    }
    let mut tx = runner.db.begin().await?;
    let hours = runner.conversation_quiet.num_hours();
    for c in &quiet {
        if close_in(&mut tx, c, "quiet", now).await? {
            let id = ClientId::parse(c).ok();
            crate::store::record::audit(
                &mut tx,
                now,
                "scheduler",
                "conversation-closed",
                id.as_ref(),
                &format!("{hours} hours without a message: closed; the bot resumes"),
            )
            .await?;
        }
    }
    tx.commit().await.doing("closing quiet conversations")?;
    Ok(quiet.len())
}

/// An open conversation, as the Inbox lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Open {
    pub client: String,
    pub name: Option<String>,
    pub navigator: Option<String>,
    pub opened_at: i64,
    pub last_at: i64,
    pub unread: i64,
    /// The client's latest text, in their words.
    pub last_text: Option<String>,
    pub last_in_at: Option<i64>,
}

/// The open conversations a viewer may see (a navigator: their clients and the unassigned;
/// `None`: every one), those waiting for an answer first.
/// Only one `centre`'s, when one is given.
pub async fn open_list(
    db: &Db,
    viewer: Option<i64>,
    centre: Option<&str>,
) -> Result<Vec<Open>, StoreError> {
    let scope = if viewer.is_some() {
        "AND ($1 = '' OR c.centre_id = $1) AND (c.navigator_id = $2 OR c.navigator_id IS NULL)"
    } else {
        "AND ($1 = '' OR c.centre_id = $1)"
    };
    let sql = format!(
        "SELECT v.client_id, c.display_name, s.display_name, v.opened_at, v.last_at, v.unread, \
                (SELECT m.body FROM messages m WHERE m.client_id = v.client_id AND m.direction = 'in' ORDER BY m.id DESC LIMIT 1), \
                (SELECT m.created_at FROM messages m WHERE m.client_id = v.client_id AND m.direction = 'in' ORDER BY m.id DESC LIMIT 1) \
         FROM conversations v JOIN clients c ON c.id = v.client_id LEFT JOIN staff s ON s.id = c.navigator_id \
         WHERE v.status = 'open' {scope} ORDER BY v.unread > 0 DESC, v.last_at DESC LIMIT 200"
    );
    let mut q = sqlx::query(&sql).bind(centre.unwrap_or_default());
    if let Some(v) = viewer {
        q = q.bind(v);
    }
    q.fetch_all(db.pool())
        .await
        .doing("listing conversations")?
        .iter()
        .map(|r| {
            Ok(Open {
                client: r.try_get(0)?,
                name: r.try_get(1)?,
                navigator: r.try_get(2)?,
                opened_at: r.try_get(3)?,
                last_at: r.try_get(4)?,
                unread: r.try_get(5)?,
                last_text: r.try_get(6)?,
                last_in_at: r.try_get(7)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .doing("reading conversations")
}

/// The client's open conversation, if any: (opened at, unread).
pub async fn open_of(db: &Db, client: &str) -> Result<Option<(i64, i64)>, StoreError> {
    sqlx::query_as(
        "SELECT opened_at, unread FROM conversations WHERE client_id = $1 AND status = 'open'",
    )
    .bind(client)
    .fetch_optional(db.pool())
    .await
    .doing("reading a conversation")
}

/// How many open conversations wait for an answer, for one viewer (a navigator: their clients
/// and the unassigned; `None`: all), of one `centre` when one is given.
pub async fn waiting(
    db: &Db,
    viewer: Option<i64>,
    centre: Option<&str>,
) -> Result<i64, StoreError> {
    let sql = if viewer.is_some() {
        "SELECT COUNT(*) FROM conversations v JOIN clients c ON c.id = v.client_id \
         WHERE v.status = 'open' AND v.unread > 0 AND ($1 = '' OR c.centre_id = $1) \
         AND (c.navigator_id = $2 OR c.navigator_id IS NULL)"
    } else {
        "SELECT COUNT(*) FROM conversations v JOIN clients c ON c.id = v.client_id \
         WHERE v.status = 'open' AND v.unread > 0 AND ($1 = '' OR c.centre_id = $1)"
    };
    let mut q = sqlx::query_scalar::<_, i64>(sql).bind(centre.unwrap_or_default());
    if let Some(v) = viewer {
        q = q.bind(v);
    }
    q.fetch_one(db.pool()).await.doing("counting conversations")
}
