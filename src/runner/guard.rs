//! The outbound loop guard: the same text to the same client more than [`LIMIT`] times within
//! [`WINDOW_MS`] is not sent. It is failed as `looping`, with the reason on the record, and the
//! navigator gets one flag. Two bots answering each other (an auto-responder on the client's
//! phone) would otherwise text forever on a metered plan.

use crate::store::sql::{V, bind_all, i, insert_rows, list, list_from, s};
use crate::store::{Backend, Doing, StoreError, Tx};
use sqlx::Row;
use std::collections::{HashMap, HashSet};

/// Texts with the same words to one client allowed within the window.
pub const LIMIT: i64 = 5;
/// Ten minutes.
pub const WINDOW_MS: i64 = 10 * 60_000;
/// The error code a stopped message carries.
pub const CODE: &str = "looping";
/// Why, for the navigator.
pub const REASON: &str =
    "not sent: the same text went to this client 5 times in 10 minutes (an auto-reply loop?)";

/// Messages the guard never holds back: a client in crisis always gets the 9-8-8 reply.
const EXEMPT: [&str; 1] = ["crisis-reply"];

/// For each `(client, key, body)` about to be queued, whether it would loop.
pub async fn looping(
    tx: &mut Tx,
    b: Backend,
    now: i64,
    sends: &[(&str, &str, &str)],
) -> Result<Vec<bool>, StoreError> {
    let mut clients: Vec<&str> = sends.iter().map(|(c, _, _)| *c).collect();
    clients.sort_unstable();
    clients.dedup();
    if clients.is_empty() {
        return Ok(Vec::new());
    }
    // Only (client, text) pairs already near the limit come back.
    let mut in_batch: HashMap<(&str, &str), i64> = HashMap::new();
    for (c, _, body) in sends {
        *in_batch.entry((*c, *body)).or_insert(0) += 1;
    }
    let most = in_batch.values().copied().max().unwrap_or(1);
    let mut bodies: Vec<&str> = sends.iter().map(|(_, _, body)| *body).collect();
    bodies.sort_unstable();
    bodies.dedup();
    let sql = format!(
        "SELECT client_id, body, COUNT(*) FROM messages \
         WHERE client_id IN ({}) AND direction = 'out' AND created_at > {} AND body IN ({}) \
           AND status <> 'suppressed' AND COALESCE(error_code, '') <> '{CODE}' \
         GROUP BY client_id, body HAVING COUNT(*) > {}",
        list(b, clients.len()),
        list_from(b, clients.len() + 1, 1),
        list_from(b, clients.len() + 2, bodies.len()),
        (LIMIT - most).max(0)
    );
    let mut q = sqlx::query(&sql);
    for c in &clients {
        q = q.bind(*c);
    }
    q = q.bind(now - WINDOW_MS);
    for body in &bodies {
        q = q.bind(*body);
    }
    let rows = q
        .fetch_all(&mut **tx)
        .await
        .doing("looking for a message loop")?;
    let mut sent: HashMap<(String, String), i64> = HashMap::new();
    for r in rows {
        let g = "reading a message loop";
        sent.insert(
            (r.try_get(0).doing(g)?, r.try_get(1).doing(g)?),
            r.try_get(2).doing(g)?,
        );
    }
    Ok(sends
        .iter()
        .map(|(c, key, body)| {
            let n = sent
                .entry(((*c).to_owned(), (*body).to_owned()))
                .or_insert(0);
            *n += 1;
            *n > LIMIT && !EXEMPT.contains(key)
        })
        .collect())
}

/// One open flag for each client whose text was held back, unless one is open already.
pub async fn flag(tx: &mut Tx, b: Backend, now: i64, clients: &[&str]) -> Result<(), StoreError> {
    let mut clients: Vec<&str> = clients.to_vec();
    clients.sort_unstable();
    clients.dedup();
    if clients.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT client_id FROM flags WHERE kind = '{CODE}' AND status = 'open' AND client_id IN ({})",
        list(b, clients.len())
    );
    let open: HashSet<String> =
        bind_all(sqlx::query(&sql), clients.iter().map(|c| s(*c)).collect())
            .fetch_all(&mut **tx)
            .await
            .doing("looking for an open loop flag")?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<_, _>>()
            .doing("looking for an open loop flag")?;
    let rows: Vec<Vec<V>> = clients
        .iter()
        .filter(|c| !open.contains(**c))
        .map(|c| {
            vec![
                s(*c),
                s(CODE),
                s("normal"),
                s("the same text kept going to this client; it was stopped. An auto-reply on their phone? Check the conversation"),
                i(now),
                i(now),
            ]
        })
        .collect();
    insert_rows(
        tx,
        b,
        "flags",
        &[
            "client_id",
            "kind",
            "urgency",
            "note",
            "due_at",
            "created_at",
        ],
        rows,
        "flagging a message loop",
    )
    .await
}
