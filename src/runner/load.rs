//! Reading what an input needs before it is planned: the clients and their running sessions, and
//! which provider message ids were seen before.

use super::Inbound;
use crate::domain::{ClientId, Locale};
use crate::flow::engine::Session;
use crate::store::sql::{list, list_from};
use crate::store::{Backend, Doing, StoreError, Tx};
use sqlx::Row;
use sqlx::any::AnyRow;
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

/// Reads clients and their running sessions, in one query.
pub async fn load(
    tx: &mut Tx,
    b: Backend,
    clients: &[&ClientId],
) -> Result<HashMap<ClientId, Loaded>, StoreError> {
    if clients.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT c.id AS client_id, c.language, c.time_zone, c.consent, c.sociodemographics, \
                (SELECT r.program FROM referrals r WHERE r.client_id = c.id AND r.closed_at IS NULL ORDER BY r.id DESC LIMIT 1) AS program, \
                (SELECT r.id FROM referrals r WHERE r.client_id = c.id AND r.closed_at IS NULL ORDER BY r.id DESC LIMIT 1) AS open_referral, \
                (SELECT a.channel FROM channel_addresses a WHERE a.client_id = c.id ORDER BY a.created_at DESC, a.channel LIMIT 1) AS channel, \
                (SELECT a.address FROM channel_addresses a WHERE a.client_id = c.id ORDER BY a.created_at DESC, a.channel LIMIT 1) AS address, \
                c.send_start, c.send_end, c.best_time, \
                (SELECT v.id FROM conversations v WHERE v.client_id = c.id AND v.status = 'open') AS conversation, \
                s.id, s.state, s.version, s.prompt_message_id, s.time_point, s.referral_id AS session_referral, \
                s.goal_id, sg.text AS goal_text, fg.id AS first_goal, fg.text AS first_goal_text, \
                ng.id AS next_goal, ng.text AS next_goal_text, \
                {hol} AS centre_holidays \
         FROM clients c LEFT JOIN sessions s ON s.client_id = c.id AND s.status = 'active' \
         LEFT JOIN goals sg ON sg.id = s.goal_id \
         LEFT JOIN goals fg ON fg.id = (SELECT MIN(g.id) FROM goals g WHERE g.client_id = c.id AND g.status = 'active') \
         LEFT JOIN goals ng ON ng.id = (SELECT MIN(g.id) FROM goals g WHERE g.client_id = c.id AND g.status = 'active' AND g.id > s.goal_id) \
         WHERE c.id IN ({})",
        list(b, clients.len()),
        hol = crate::store::sql::CENTRE_HOLIDAYS
    );
    let mut q = sqlx::query(&sql);
    for c in clients {
        q = q.bind(c.as_str());
    }
    let rows = q.fetch_all(&mut **tx).await.doing("loading clients")?;
    rows.iter()
        .map(loaded_from)
        .map(|l| l.map(|l| (l.client.clone(), l)))
        .collect()
}

fn loaded_from(row: &AnyRow) -> Result<Loaded, StoreError> {
    let get_s = |col: &str| {
        row.try_get::<Option<String>, _>(col)
            .doing("reading a client")
    };
    let client = ClientId::parse(&get_s("client_id")?.unwrap_or_default())
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let language = Locale::parse(&get_s("language")?.unwrap_or_default())
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let session = match row
        .try_get::<Option<i64>, _>("id")
        .doing("reading a session")?
    {
        Some(id) => {
            let state: Session = serde_json::from_str(&get_s("state")?.unwrap_or_default())
                .map_err(|e| StoreError::Corrupt(format!("session {id}: {e}")))?;
            Some(Active {
                id,
                state,
                version: row
                    .try_get::<Option<i64>, _>("version")
                    .doing("reading a session")?
                    .unwrap_or(0),
                prompt_message_id: row
                    .try_get::<Option<i64>, _>("prompt_message_id")
                    .doing("reading a session")?,
                time_point: get_s("time_point")?,
                referral: row
                    .try_get::<Option<i64>, _>("session_referral")
                    .doing("reading a session")?,
                goal: goal_of(row, "goal_id", "goal_text")?,
            })
        }
        None => None,
    };
    let get_i = |col: &str| row.try_get::<Option<i64>, _>(col).doing("reading a client");
    let send_window = match (get_i("send_start")?, get_i("send_end")?) {
        (Some(a), Some(b)) => Some((
            u32::try_from(a).unwrap_or(0),
            u32::try_from(b).unwrap_or(24 * 60),
        )),
        _ => None,
    };
    Ok(Loaded {
        send_window,
        best_time: get_s("best_time")?,
        conversation: get_i("conversation")?,
        client,
        language,
        time_zone: get_s("time_zone")?.unwrap_or_default(),
        consent: get_s("consent")?.unwrap_or_else(|| "unknown".into()),
        sociodemographics: get_s("sociodemographics")?,
        program: get_s("program")?,
        referral: get_i("open_referral")?,
        channel: get_s("channel")?.unwrap_or_else(|| NO_CHANNEL.into()),
        address: get_s("address")?,
        session,
        first_goal: goal_of(row, "first_goal", "first_goal_text")?,
        next_goal: goal_of(row, "next_goal", "next_goal_text")?,
        holidays: crate::schedule::holidays_of(get_s("centre_holidays")?.as_deref()),
    })
}

/// A goal's id and text, from two columns of a row.
fn goal_of(row: &AnyRow, id: &str, text: &str) -> Result<Option<(i64, String)>, StoreError> {
    let id = row.try_get::<Option<i64>, _>(id).doing("reading a goal")?;
    let text = row
        .try_get::<Option<String>, _>(text)
        .doing("reading a goal")?;
    Ok(id.zip(text))
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
