//! Reading what an input needs before it is planned: the clients and their running sessions, and
//! which provider message ids were seen before.

use super::Inbound;
use crate::domain::{ClientId, Locale};
use crate::flow::engine::Session;
use crate::store::sql::{
    bind_all, fetch_json_rows, in_list, json_array, json_col, json_rows, list, list_from, s,
};
use crate::store::{Backend, Doing, StoreError, Tx};
use sqlx::Row;
use std::collections::{HashMap, HashSet};

/// The channel of a client with no phone number, Telegram chat or simulator address yet:
/// nothing is sent to them.
pub const NO_CHANNEL: &str = "none";

/// A client's row and running session, as read at the start of an input.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub client: ClientId,
    pub language: Locale,
    pub time_zone: String,
    pub consent: String,
    /// The consent to be asked sociodemographic questions: granted, revoked, or never asked.
    pub sociodemographics: Option<String>,
    pub program: Option<String>,
    /// The client's latest open referral: what a session started now follows up.
    pub referral: Option<i64>,
    /// The channel they were last reached on, or [`NO_CHANNEL`].
    pub channel: String,
    /// The client's address on that channel.
    pub address: Option<String>,
    pub session: Option<Active>,
    /// The client's own window for scheduled messages (minutes after local midnight).
    pub send_window: Option<(u32, u32)>,
    /// The part of the day they chose: `morning`, `afternoon`, `evening` or `any`.
    pub best_time: Option<String>,
    /// A navigator's conversation open with them: the bot keeps quiet.
    pub conversation: Option<i64>,
    /// Their first active goal (id, text in their words): what a goal check-in starts with.
    pub first_goal: Option<(i64, String)>,
    /// The active goal after the running session's goal: the check-in that follows it.
    pub next_goal: Option<(i64, String)>,
    /// The holidays of the client's centre, when it has its own (none: the deployment's).
    pub holidays: Option<std::collections::BTreeSet<chrono::NaiveDate>>,
}

#[derive(Debug, Clone)]
pub struct Active {
    pub id: i64,
    pub state: Session,
    pub version: i64,
    pub prompt_message_id: Option<i64>,
    pub time_point: Option<String>,
    /// The referral this session follows up.
    pub referral: Option<i64>,
    /// The goal a goal check-in is about (id, text in the client's words).
    pub goal: Option<(i64, String)>,
}

/// A client's row as [`load`] reads it: the columns of its statement, in order.
#[derive(serde::Deserialize)]
struct ClientRow {
    client_id: String,
    language: Option<String>,
    time_zone: Option<String>,
    consent: Option<String>,
    sociodemographics: Option<String>,
    /// The latest open referral: its program, and its id.
    referral: Option<(Option<String>, i64)>,
    /// The channel they were last reached on, and their address on it.
    reached: Option<(String, String)>,
    send_start: Option<i64>,
    send_end: Option<i64>,
    best_time: Option<String>,
    conversation: Option<i64>,
    session: Option<i64>,
    state: Option<String>,
    version: Option<i64>,
    prompt_message_id: Option<i64>,
    time_point: Option<String>,
    session_referral: Option<i64>,
    goal: Option<i64>,
    goal_text: Option<String>,
    first_goal: Option<i64>,
    first_goal_text: Option<String>,
    next_goal: Option<i64>,
    next_goal_text: Option<String>,
    centre_holidays: Option<String>,
}

/// Reads clients and their running sessions, in one query.
pub async fn load(
    tx: &mut Tx,
    b: Backend,
    clients: &[&ClientId],
) -> Result<HashMap<ClientId, Loaded>, StoreError> {
    if clients.is_empty() {
        return Ok(HashMap::new());
    }
    let arr = json_array(b);
    let referral = json_col(
        b,
        &format!(
            "(SELECT {arr}(r.program, r.id) FROM referrals r WHERE r.client_id = c.id AND r.closed_at IS NULL ORDER BY r.id DESC LIMIT 1)"
        ),
    );
    let reached = json_col(
        b,
        &format!(
            "(SELECT {arr}(a.channel, a.address) FROM channel_addresses a WHERE a.client_id = c.id ORDER BY a.created_at DESC, a.channel LIMIT 1)"
        ),
    );
    // Each client and session is found by its index. Given a list of ids, Postgres would rather
    // scan both tables whole once they hold some 100,000 clients: a batch's cost would grow with
    // the clients on the record, not with the batch. Each lookup stands apart (`OFFSET 0`) so it
    // cannot be turned back into such a join.
    let (ids, binds) = in_list(b, 1, clients.iter().map(|c| s(c.as_str())).collect());
    let (clients_and_sessions, filter) = match b {
        Backend::Sqlite => (
            "FROM clients c LEFT JOIN sessions s ON s.client_id = c.id AND s.status = 'active'"
                .to_owned(),
            format!("WHERE c.id IN ({ids})"),
        ),
        Backend::Postgres => (
            format!(
                "FROM ({ids}) AS k(id) \
                 CROSS JOIN LATERAL (SELECT * FROM clients c WHERE c.id = k.id OFFSET 0) c \
                 LEFT JOIN LATERAL (SELECT * FROM sessions s WHERE s.client_id = c.id AND s.status = 'active' OFFSET 0) s ON true"
            ),
            String::new(),
        ),
    };
    let sql = json_rows(
        b,
        &[
            "c.id",
            "c.language",
            "c.time_zone",
            "c.consent",
            "c.sociodemographics",
            &referral,
            &reached,
            "c.send_start",
            "c.send_end",
            "c.best_time",
            "(SELECT v.id FROM conversations v WHERE v.client_id = c.id AND v.status = 'open')",
            "s.id",
            "s.state",
            "s.version",
            "s.prompt_message_id",
            "s.time_point",
            "s.referral_id",
            "s.goal_id",
            "sg.text",
            "fg.id",
            "fg.text",
            "ng.id",
            "ng.text",
            crate::store::sql::CENTRE_HOLIDAYS,
        ],
        &format!(
            "{clients_and_sessions} \
             LEFT JOIN goals sg ON sg.id = s.goal_id \
             LEFT JOIN goals fg ON fg.id = (SELECT MIN(g.id) FROM goals g WHERE g.client_id = c.id AND g.status = 'active') \
             LEFT JOIN goals ng ON ng.id = (SELECT MIN(g.id) FROM goals g WHERE g.client_id = c.id AND g.status = 'active' AND g.id > s.goal_id) \
             {filter}"
        ),
    );
    let q = bind_all(sqlx::query(&sql), binds);
    let rows: Vec<ClientRow> = fetch_json_rows(q, tx, "loading clients").await?;
    rows.into_iter()
        .map(loaded_from)
        .map(|l| l.map(|l| (l.client.clone(), l)))
        .collect()
}

fn loaded_from(row: ClientRow) -> Result<Loaded, StoreError> {
    let client = ClientId::parse(&row.client_id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let language = Locale::parse(row.language.as_deref().unwrap_or_default())
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let session = match row.session {
        Some(id) => {
            let state: Session = serde_json::from_str(row.state.as_deref().unwrap_or_default())
                .map_err(|e| StoreError::Corrupt(format!("session {id}: {e}")))?;
            Some(Active {
                id,
                state,
                version: row.version.unwrap_or(0),
                prompt_message_id: row.prompt_message_id,
                time_point: row.time_point,
                referral: row.session_referral,
                goal: row.goal.zip(row.goal_text),
            })
        }
        None => None,
    };
    let send_window = match (row.send_start, row.send_end) {
        (Some(a), Some(b)) => Some((
            u32::try_from(a).unwrap_or(0),
            u32::try_from(b).unwrap_or(24 * 60),
        )),
        _ => None,
    };
    let (program, referral) = match row.referral {
        Some((program, id)) => (program, Some(id)),
        None => (None, None),
    };
    let (channel, address) = match row.reached {
        Some((channel, address)) => (channel, Some(address)),
        None => (NO_CHANNEL.to_owned(), None),
    };
    Ok(Loaded {
        send_window,
        best_time: row.best_time,
        conversation: row.conversation,
        client,
        language,
        time_zone: row.time_zone.unwrap_or_default(),
        consent: row.consent.unwrap_or_else(|| "unknown".into()),
        sociodemographics: row.sociodemographics,
        program,
        referral,
        channel,
        address,
        session,
        first_goal: row.first_goal.zip(row.first_goal_text),
        next_goal: row.next_goal.zip(row.next_goal_text),
        holidays: crate::schedule::holidays_of(row.centre_holidays.as_deref()),
    })
}

/// Which of these provider message ids were already recorded (the provider is retrying).
pub async fn seen(
    tx: &mut Tx,
    b: Backend,
    inbound: &[&Inbound],
) -> Result<HashSet<(String, String)>, StoreError> {
    let ids: Vec<&str> = inbound
        .iter()
        .filter_map(|m| m.provider_id.as_deref())
        .collect();
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let mut channels: Vec<&str> = inbound.iter().map(|m| m.channel.as_str()).collect();
    channels.sort_unstable();
    channels.dedup();
    // The channel first, so the (channel, provider_id) index is used.
    let ch_params = list(b, channels.len());
    let id_params = list_from(b, channels.len() + 1, ids.len());
    let sql = format!(
        "SELECT channel, provider_id FROM messages WHERE channel IN ({ch_params}) AND provider_id IN ({id_params}) AND direction = 'in'"
    );
    let mut q = sqlx::query(&sql);
    for c in channels {
        q = q.bind(c);
    }
    for id in ids {
        q = q.bind(id);
    }
    let rows = q
        .fetch_all(&mut **tx)
        .await
        .doing("checking for repeated messages")?;
    rows.iter()
        .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?)))
        .collect::<Result<_, sqlx::Error>>()
        .doing("checking for repeated messages")
}
