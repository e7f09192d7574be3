//! Writing the effects of a batch of inputs inside one transaction: sessions, the outbox, the
//! record (answers, fields, scores, flags, consent) and the audit log. Each kind of row is one
//! statement for the whole batch, so the cost of a commit is shared by every input in it (group
//! commit). Nothing here sends: messages are queued and leave after the commit.

use super::{Inbound, Outbound, Runner};
use crate::clock::to_ms;
use crate::domain::{ClientId, Locale};
use crate::flow::def::Urgency;
use crate::flow::engine::{Event, Session};
use crate::sms;
use crate::store::{Backend, Doing, StoreError, Tx};
use sqlx::Row;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use std::collections::{HashMap, HashSet};

/// A client's row and running session, as read at the start of an input.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub client: ClientId,
    pub language: Locale,
    pub time_zone: String,
    pub consent: String,
    pub program: Option<String>,
    pub channel: String,
    pub session: Option<Active>,
}

#[derive(Debug, Clone)]
pub struct Active {
    pub id: i64,
    pub state: Session,
    pub version: i64,
    pub prompt_message_id: Option<i64>,
    pub time_point: Option<String>,
}

/// Which session an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The session running when the input arrived.
    Current,
    /// The session this input starts.
    New,
    /// None: a system message, a flag about the client.
    Client,
}

/// Everything one input changes.
#[derive(Debug)]
pub struct Effects {
    pub channel: String,
    pub events: Vec<(Scope, Event)>,
    pub session_update: Option<Session>,
    pub new_session: Option<(Session, Option<String>)>,
    /// Granted?, source, wording, actor.
    pub consent: Option<(bool, String, String, String)>,
    pub language: Option<Locale>,
    pub cancel_all_jobs: bool,
    /// Action, detail (never a message body), actor.
    pub audit: Vec<(String, String, String)>,
}

impl Effects {
    pub fn new(loaded: &Loaded) -> Self {
        Self {
            channel: loaded.channel.clone(),
            events: Vec::new(),
            session_update: None,
            new_session: None,
            consent: None,
            language: None,
            cancel_all_jobs: false,
            audit: Vec::new(),
        }
    }

    pub fn current(&mut self, events: Vec<Event>) {
        self.events
            .extend(events.into_iter().map(|e| (Scope::Current, e)));
    }

    pub fn new_session_events(&mut self, events: Vec<Event>) {
        self.events
            .extend(events.into_iter().map(|e| (Scope::New, e)));
    }

    pub fn system(&mut self, send: Event) {
        self.events.push((Scope::Client, send));
    }

    pub fn flag(&mut self, kind: &str, urgency: Urgency, note: Option<String>) {
        self.events.push((
            Scope::Client,
            Event::Flag {
                kind: kind.into(),
                urgency,
                note,
            },
        ));
    }

    pub fn consent(&mut self, granted: bool, source: &str, wording: &str, actor: &str) {
        self.consent = Some((granted, source.into(), wording.into(), actor.into()));
    }
}

/// One input of a batch: who, what came in (if anything), and what it changes.
pub struct Item<'a> {
    pub loaded: &'a Loaded,
    pub inbound: Option<&'a Inbound>,
    pub effects: Effects,
}

/// A value bound into a statement built at run time.
enum V {
    I(Option<i64>),
    S(Option<String>),
}

fn s(v: impl Into<String>) -> V {
    V::S(Some(v.into()))
}

fn os(v: Option<impl Into<String>>) -> V {
    V::S(v.map(Into::into))
}

fn i(v: i64) -> V {
    V::I(Some(v))
}

/// How a backend writes parameter `k`: Postgres `$k`; SQLite plain `?`, which it binds in order
/// much faster than numbered ones in statements with many parameters.
fn param(b: Backend, k: usize) -> String {
    match b {
        Backend::Sqlite => "?".to_owned(),
        Backend::Postgres => format!("${k}"),
    }
}

/// `($1, $2), ($3, $4)` for `rows` rows of `cols` values.
fn placeholders(b: Backend, rows: usize, cols: usize) -> String {
    let row = |r: usize| {
        format!(
            "({})",
            (0..cols)
                .map(|c| param(b, r * cols + c + 1))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    (0..rows).map(row).collect::<Vec<_>>().join(", ")
}

/// `$1, $2, …` for a list.
fn list(b: Backend, n: usize) -> String {
    (1..=n).map(|k| param(b, k)).collect::<Vec<_>>().join(", ")
}

fn bind_all<'q>(
    mut q: Query<'q, sqlx::Any, AnyArguments<'q>>,
    vals: Vec<V>,
) -> Query<'q, sqlx::Any, AnyArguments<'q>> {
    for v in vals {
        q = match v {
            V::I(x) => q.bind(x),
            V::S(x) => q.bind(x),
        };
    }
    q
}

async fn insert_rows(
    tx: &mut Tx,
    b: Backend,
    table: &str,
    cols: &[&str],
    rows: Vec<Vec<V>>,
    doing: &'static str,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES {}",
        cols.join(", "),
        placeholders(b, rows.len(), cols.len())
    );
    bind_all(sqlx::query(&sql), rows.into_iter().flatten().collect())
        .execute(&mut **tx)
        .await
        .doing(doing)?;
    Ok(())
}

/// Inserts rows and returns their ids, in the order of `rows`.
async fn insert_returning_ids(
    tx: &mut Tx,
    b: Backend,
    table: &str,
    cols: &[&str],
    rows: Vec<Vec<V>>,
    doing: &'static str,
) -> Result<Vec<i64>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES {} RETURNING id",
        cols.join(", "),
        placeholders(b, rows.len(), cols.len())
    );
    let got = bind_all(sqlx::query(&sql), rows.into_iter().flatten().collect())
        .fetch_all(&mut **tx)
        .await
        .doing(doing)?;
    let mut ids = got
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<Vec<_>, _>>()
        .doing(doing)?;
    // Ids are assigned in the order of the VALUES; sort in case rows come back in another order.
    ids.sort_unstable();
    Ok(ids)
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
        "SELECT c.id AS client_id, c.language, c.time_zone, c.consent, \
                (SELECT r.program FROM referrals r WHERE r.client_id = c.id AND r.closed_at IS NULL ORDER BY r.id DESC LIMIT 1) AS program, \
                (SELECT a.channel FROM channel_addresses a WHERE a.client_id = c.id ORDER BY a.created_at DESC LIMIT 1) AS channel, \
                s.id, s.state, s.version, s.prompt_message_id, s.time_point \
         FROM clients c LEFT JOIN sessions s ON s.client_id = c.id AND s.status = 'active' \
         WHERE c.id IN ({})",
        list(b, clients.len())
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
            })
        }
        None => None,
    };
    Ok(Loaded {
        client,
        language,
        time_zone: get_s("time_zone")?.unwrap_or_default(),
        consent: get_s("consent")?.unwrap_or_else(|| "unknown".into()),
        program: get_s("program")?,
        channel: get_s("channel")?.unwrap_or_else(|| "simulator".into()),
        session,
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
    let sql = format!(
        "SELECT channel, provider_id FROM messages WHERE direction = 'in' AND provider_id IN ({})",
        list(b, ids.len())
    );
    let mut q = sqlx::query(&sql);
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

/// What `write` found.
pub enum Written {
    /// The replies queued for each item, in the order of the items.
    Done(Vec<Vec<Outbound>>),
    /// A session changed under us (another process): roll back and plan again.
    Conflict,
}

struct Send<'a> {
    item: usize,
    scope: Scope,
    key: &'a str,
    text: &'a str,
    prompt: bool,
}

/// Writes every item's effects. The caller owns the transaction.
#[allow(clippy::too_many_lines)] // one pass per table, in the order the rows depend on each other
pub async fn write(
    tx: &mut Tx,
    runner: &Runner,
    items: &[Item<'_>],
) -> Result<Written, StoreError> {
    let now = to_ms(runner.clock.now());
    let b = runner.db.backend();

    // The messages that came in.
    let with_inbound: Vec<(usize, &Inbound)> = items
        .iter()
        .enumerate()
        .filter_map(|(k, it)| it.inbound.map(|m| (k, m)))
        .collect();
    let inbound_rows = with_inbound
        .iter()
        .map(|(k, m)| {
            let l = items[*k].loaded;
            vec![
                s(l.client.as_str()),
                s("in"),
                s(m.channel.as_str()),
                os(m.provider_id.clone()),
                s(m.text.as_str()),
                V::I(l.session.as_ref().map(|a| a.id)),
                s("received"),
                i(now),
                i(now),
            ]
        })
        .collect();
    let cols = [
        "client_id",
        "direction",
        "channel",
        "provider_id",
        "body",
        "session_id",
        "status",
        "created_at",
        "updated_at",
    ];
    let inbound_ids = match insert_returning_ids(
        tx,
        b,
        "messages",
        &cols,
        inbound_rows,
        "recording inbound messages",
    )
    .await
    {
        Err(StoreError::Query {
            source: sqlx::Error::Database(e),
            ..
        }) if e.is_unique_violation() => return Ok(Written::Conflict),
        other => other?,
    };
    let mut inbound_of = vec![None; items.len()];
    for ((k, _), id) in with_inbound.iter().zip(&inbound_ids) {
        inbound_of[*k] = Some(*id);
    }

    // Consent after each input: a keyword, or the consent question of a flow.
    let mut consent_rows = Vec::new();
    let mut consent_now = Vec::with_capacity(items.len());
    let mut suppress = Vec::with_capacity(items.len());
    for (k, it) in items.iter().enumerate() {
        let mut last = None;
        if let Some((granted, source, wording, actor)) = &it.effects.consent {
            consent_rows.push((k, *granted, source.clone(), wording.clone(), actor.clone()));
            last = Some(*granted);
        }
        for (_, e) in &it.effects.events {
            if let Event::Consent { granted, wording } = e {
                consent_rows.push((
                    k,
                    *granted,
                    "consent-flow".into(),
                    wording.clone(),
                    "client".into(),
                ));
                last = Some(*granted);
            }
        }
        let now_state = last.map_or(it.loaded.consent.as_str(), |g| {
            if g { "granted" } else { "revoked" }
        });
        // A client who had opted out before this input gets nothing. The input that opts them
        // out (STOP, a "no" to the consent question) still gets its one confirmation.
        suppress.push(it.loaded.consent == "revoked" && now_state == "revoked");
        consent_now.push(now_state);
    }

    // Running sessions: state first, with the version read at the start (optimistic locking).
    let updates: Vec<(usize, &Session)> = items
        .iter()
        .enumerate()
        .filter_map(|(k, it)| it.effects.session_update.as_ref().map(|st| (k, st)))
        .collect();
    if !updates.is_empty() {
        let mut vals = Vec::new();
        for (k, st) in &updates {
            let active = items[*k].loaded.session.as_ref().ok_or_else(|| {
                StoreError::Corrupt("update of a session that is not running".into())
            })?;
            let json = serde_json::to_string(st).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            vals.extend([
                i(active.id),
                i(active.version),
                s(json),
                s(st.ended.as_deref().unwrap_or("active")),
                V::I(st.ended.as_ref().map(|_| now)),
            ]);
        }
        let sql = format!(
            "UPDATE sessions SET state = v.column3, status = v.column4, version = version + 1, updated_at = {now}, ended_at = v.column5 \
             FROM (VALUES {}) AS v WHERE sessions.id = v.column1 AND sessions.version = v.column2",
            placeholders(b, updates.len(), 5)
        );
        let changed = bind_all(sqlx::query(&sql), vals)
            .execute(&mut **tx)
            .await
            .doing("updating sessions")?;
        if changed.rows_affected() != updates.len() as u64 {
            return Ok(Written::Conflict);
        }
    }

    // Sessions this batch starts.
    let starts: Vec<(usize, &Session, &Option<String>)> = items
        .iter()
        .enumerate()
        .filter_map(|(k, it)| it.effects.new_session.as_ref().map(|(st, tp)| (k, st, tp)))
        .collect();
    let mut new_id = vec![None; items.len()];
    if !starts.is_empty() {
        let mut rows = Vec::new();
        for (k, st, tp) in &starts {
            let json = serde_json::to_string(st).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            rows.push(vec![
                s(items[*k].loaded.client.as_str()),
                s(st.flow.as_str()),
                s(st.revision.as_str()),
                s(json),
                s(st.ended.as_deref().unwrap_or("active")),
                os((*tp).clone()),
                i(now),
                i(now),
                V::I(st.ended.as_ref().map(|_| now)),
            ]);
        }
        let cols = [
            "client_id",
            "flow_id",
            "revision",
            "state",
            "status",
            "time_point",
            "started_at",
            "updated_at",
            "ended_at",
        ];
        let ids =
            match insert_returning_ids(tx, b, "sessions", &cols, rows, "starting sessions").await {
                // Another input started a session for this client first.
                Err(StoreError::Query {
                    source: sqlx::Error::Database(e),
                    ..
                }) if e.is_unique_violation() => return Ok(Written::Conflict),
                other => other?,
            };
        for ((k, _, _), id) in starts.iter().zip(ids) {
            new_id[*k] = Some(id);
        }
    }
    let session_of = |k: usize, scope: Scope| match scope {
        Scope::Current => items[k].loaded.session.as_ref().map(|a| a.id),
        Scope::New => new_id[k],
        Scope::Client => None,
    };

    // The outbox.
    let sends: Vec<Send<'_>> = items
        .iter()
        .enumerate()
        .flat_map(|(k, it)| {
            it.effects
                .events
                .iter()
                .filter_map(move |(scope, e)| match e {
                    Event::Send { key, text, prompt } => Some(Send {
                        item: k,
                        scope: *scope,
                        key,
                        text,
                        prompt: *prompt,
                    }),
                    _ => None,
                })
        })
        .collect();
    let rows = sends
        .iter()
        .map(|m| {
            let cost = sms::cost(m.text);
            vec![
                s(items[m.item].loaded.client.as_str()),
                s("out"),
                s(items[m.item].effects.channel.as_str()),
                s(m.text),
                s(m.key),
                V::I(session_of(m.item, m.scope)),
                i(0),
                s(if suppress[m.item] {
                    "suppressed"
                } else {
                    "queued"
                }),
                s(cost.encoding.to_string()),
                i(i64::try_from(cost.segments).unwrap_or(i64::MAX)),
                i(now),
                i(now),
            ]
        })
        .collect();
    let cols = [
        "client_id",
        "direction",
        "channel",
        "body",
        "message_key",
        "session_id",
        "priority",
        "status",
        "encoding",
        "segments",
        "created_at",
        "updated_at",
    ];
    let ids = insert_returning_ids(tx, b, "messages", &cols, rows, "queueing messages").await?;
    let mut replies = vec![Vec::new(); items.len()];
    let mut prompts: HashMap<i64, i64> = HashMap::new();
    for (m, id) in sends.iter().zip(&ids) {
        if m.prompt
            && let Some(sid) = session_of(m.item, m.scope)
        {
            prompts.insert(sid, *id);
        }
        if !suppress[m.item] {
            replies[m.item].push(Outbound {
                id: *id,
                key: m.key.to_owned(),
                text: m.text.to_owned(),
            });
        }
    }
    if !prompts.is_empty() {
        let vals = prompts
            .iter()
            .flat_map(|(sid, mid)| [i(*sid), i(*mid)])
            .collect();
        let sql = format!(
            "UPDATE sessions SET prompt_message_id = v.column2 FROM (VALUES {}) AS v WHERE sessions.id = v.column1",
            placeholders(b, prompts.len(), 2)
        );
        bind_all(sqlx::query(&sql), vals)
            .execute(&mut **tx)
            .await
            .doing("pointing sessions at their questions")?;
    }

    // The record.
    let mut answers = Vec::new();
    let mut fields = Vec::new();
    let mut scores = Vec::new();
    let mut flags = Vec::new();
    let mut audit = Vec::new();
    let mut timeouts = Vec::new();
    let mut cancels = Vec::new();
    let mut cancel_all = Vec::new();
    let mut client_updates = Vec::new();
    let mut uptakes = Vec::new();
    for (k, it) in items.iter().enumerate() {
        let l = it.loaded;
        let client = l.client.as_str();
        let state_of = |scope: Scope| match scope {
            Scope::Current => it
                .effects
                .session_update
                .as_ref()
                .or(l.session.as_ref().map(|a| &a.state)),
            Scope::New => it.effects.new_session.as_ref().map(|(st, _)| st),
            Scope::Client => None,
        };
        let time_point_of = |scope: Scope| match scope {
            Scope::Current => l.session.as_ref().and_then(|a| a.time_point.clone()),
            Scope::New => it.effects.new_session.as_ref().and_then(|(_, t)| t.clone()),
            Scope::Client => None,
        };
        let mut timeout: Option<(Scope, Option<(String, i64)>)> = None;
        let mut answered = Vec::new();
        let mut item_fields: Vec<(String, String, String)> = Vec::new();
        for (scope, e) in &it.effects.events {
            let scope = *scope;
            match e {
                Event::Answer {
                    step,
                    record,
                    raw,
                    value,
                    label,
                    score,
                    status,
                } => {
                    let Some(st) = state_of(scope) else { continue };
                    answered.push(format!("{}/{step} {}", st.flow, status.as_str()));
                    answers.push(vec![
                        s(client),
                        V::I(session_of(k, scope)),
                        s(st.flow.as_str()),
                        s(st.revision.as_str()),
                        s(step.as_str()),
                        os(record.clone()),
                        s(raw.as_str()),
                        os(value.clone()),
                        os(label.clone()),
                        V::I(*score),
                        s(status.as_str()),
                        s(st.locale.as_str()),
                        os(time_point_of(scope)),
                        V::I(l.session.as_ref().and_then(|a| a.prompt_message_id)),
                        V::I(inbound_of[k]),
                        i(now),
                    ]);
                }
                Event::SetField { key, value } => {
                    let source = state_of(scope).map_or_else(
                        || "system".to_owned(),
                        |st| format!("{}@{}", st.flow, st.revision),
                    );
                    item_fields.retain(|f| f.0 != *key);
                    item_fields.push((key.clone(), value.clone(), source));
                }
                Event::Score {
                    instrument,
                    total,
                    category,
                    complete,
                    items: parts,
                } => {
                    let Some(st) = state_of(scope) else { continue };
                    scores.push(vec![
                        s(client),
                        V::I(session_of(k, scope)),
                        s(st.flow.as_str()),
                        s(st.revision.as_str()),
                        s(instrument.as_str()),
                        os(time_point_of(scope)),
                        V::I(*total),
                        os(category.clone()),
                        i(i64::from(*complete)),
                        s(serde_json::to_string(parts).unwrap_or_default()),
                        i(now),
                    ]);
                }
                Event::Flag {
                    kind,
                    urgency,
                    note,
                } => {
                    let due = match urgency {
                        Urgency::Urgent => now,
                        Urgency::Normal => now + chrono::Duration::days(2).num_milliseconds(),
                    };
                    flags.push(vec![
                        s(client),
                        s(kind.as_str()),
                        s(urgency.as_str()),
                        os(note.clone()),
                        V::I(session_of(k, scope)),
                        i(due),
                        i(now),
                    ]);
                }
                Event::ScheduleTimeout { step, at } => {
                    timeout = Some((scope, Some((step.to_string(), to_ms(*at)))))
                }
                Event::CancelTimeout => timeout = Some((scope, None)),
                Event::SetLanguage { .. }
                | Event::Consent { .. }
                | Event::Send { .. }
                | Event::End { .. } => {}
            }
        }
        if let Some(f) = item_fields.iter().find(|f| f.0 == "referral.uptake") {
            uptakes.push((client, f.1.clone()));
        }
        fields.extend(
            item_fields
                .into_iter()
                .map(|(key, value, source)| vec![s(client), s(key), s(value), s(source), i(now)]),
        );
        let language = it.effects.language.clone().or_else(|| {
            it.effects.events.iter().rev().find_map(|(_, e)| match e {
                Event::SetLanguage { locale } => Some(locale.clone()),
                _ => None,
            })
        });
        if consent_now[k] != l.consent || language.is_some() {
            client_updates.push(vec![
                s(client),
                s(consent_now[k]),
                os(language.map(String::from)),
            ]);
        }
        if it.effects.cancel_all_jobs {
            cancel_all.push(client);
        } else if let Some((scope, op)) = timeout {
            match (session_of(k, scope), op) {
                (Some(sid), Some((step, due))) => timeouts.push(vec![
                    s(client),
                    i(sid),
                    s("timeout"),
                    s(step),
                    i(due),
                    s("pending"),
                    i(now),
                    i(now),
                ]),
                (Some(sid), None) => cancels.push(sid),
                (None, _) => {}
            }
        }
        audit.extend(it.effects.audit.iter().map(|(action, detail, actor)| {
            vec![
                i(now),
                s(actor.as_str()),
                s(action.as_str()),
                s(client),
                s(detail.as_str()),
            ]
        }));
        if !answered.is_empty() {
            audit.push(vec![
                i(now),
                s(format!("client:{}", it.effects.channel)),
                s("answer"),
                s(client),
                s(answered.join(", ")),
            ]);
        }
    }
    for (k, granted, source, _, actor) in &consent_rows {
        let client = items[*k].loaded.client.as_str();
        audit.push(vec![
            i(now),
            s(actor.as_str()),
            s(if *granted {
                "consent-granted"
            } else {
                "consent-revoked"
            }),
            s(client),
            s(source.as_str()),
        ]);
    }

    let answer_cols = [
        "client_id",
        "session_id",
        "flow_id",
        "revision",
        "step_id",
        "record_key",
        "raw_text",
        "value",
        "label",
        "score",
        "status",
        "locale",
        "time_point",
        "prompt_message_id",
        "inbound_message_id",
        "at",
    ];
    insert_rows(tx, b, "answers", &answer_cols, answers, "recording answers").await?;
    if !fields.is_empty() {
        let sql = format!(
            "INSERT INTO fields (client_id, key, value, source, updated_at) VALUES {} \
             ON CONFLICT (client_id, key) DO UPDATE SET value = excluded.value, source = excluded.source, updated_at = excluded.updated_at",
            placeholders(b, fields.len(), 5)
        );
        bind_all(sqlx::query(&sql), fields.into_iter().flatten().collect())
            .execute(&mut **tx)
            .await
            .doing("setting record fields")?;
    }
    let score_cols = [
        "client_id",
        "session_id",
        "flow_id",
        "revision",
        "instrument",
        "time_point",
        "total",
        "category",
        "complete",
        "items",
        "at",
    ];
    insert_rows(tx, b, "scores", &score_cols, scores, "recording scores").await?;
    insert_rows(
        tx,
        b,
        "flags",
        &[
            "client_id",
            "kind",
            "urgency",
            "note",
            "session_id",
            "due_at",
            "created_at",
        ],
        flags,
        "raising flags",
    )
    .await?;
    let consent_vals = consent_rows
        .iter()
        .map(|(k, g, src, w, a)| {
            let it = &items[*k];
            vec![
                s(it.loaded.client.as_str()),
                s(it.effects.channel.as_str()),
                s(if *g { "granted" } else { "revoked" }),
                s(src.as_str()),
                s(w.as_str()),
                s(a.as_str()),
                i(now),
            ]
        })
        .collect();
    insert_rows(
        tx,
        b,
        "consent_events",
        &[
            "client_id",
            "channel",
            "change",
            "source",
            "wording",
            "actor",
            "at",
        ],
        consent_vals,
        "writing the consent ledger",
    )
    .await?;
    if !client_updates.is_empty() {
        let sql = format!(
            "UPDATE clients SET consent = v.column2, language = COALESCE(v.column3, language), updated_at = {now} \
             FROM (VALUES {}) AS v WHERE clients.id = v.column1",
            placeholders(b, client_updates.len(), 3)
        );
        bind_all(
            sqlx::query(&sql),
            client_updates.into_iter().flatten().collect(),
        )
        .execute(&mut **tx)
        .await
        .doing("updating clients")?;
    }
    for (client, uptake) in uptakes {
        // The referral's uptake is also a column of the referral itself.
        sqlx::query("UPDATE referrals SET uptake = $1 WHERE id = (SELECT MAX(id) FROM referrals WHERE client_id = $2 AND closed_at IS NULL)")
            .bind(uptake)
            .bind(client)
            .execute(&mut **tx)
            .await
            .doing("recording a referral's uptake")?;
    }
    if !cancel_all.is_empty() {
        let sql = format!(
            "UPDATE jobs SET status = 'cancelled', updated_at = {now} WHERE status = 'pending' AND client_id IN ({})",
            list(b, cancel_all.len())
        );
        bind_all(sqlx::query(&sql), cancel_all.into_iter().map(s).collect())
            .execute(&mut **tx)
            .await
            .doing("cancelling clients' jobs")?;
    }
    if !cancels.is_empty() {
        let sql = format!(
            "UPDATE jobs SET status = 'cancelled', updated_at = {now} WHERE kind = 'timeout' AND status = 'pending' AND session_id IN ({})",
            list(b, cancels.len())
        );
        bind_all(sqlx::query(&sql), cancels.into_iter().map(i).collect())
            .execute(&mut **tx)
            .await
            .doing("cancelling timeouts")?;
    }
    if !timeouts.is_empty() {
        let sql = format!(
            "INSERT INTO jobs (client_id, session_id, kind, step_id, due_at, status, created_at, updated_at) VALUES {} \
             ON CONFLICT (session_id, kind) DO UPDATE SET step_id = excluded.step_id, due_at = excluded.due_at, status = 'pending', updated_at = excluded.updated_at",
            placeholders(b, timeouts.len(), 8)
        );
        bind_all(sqlx::query(&sql), timeouts.into_iter().flatten().collect())
            .execute(&mut **tx)
            .await
            .doing("scheduling timeouts")?;
    }
    insert_rows(
        tx,
        b,
        "audit_log",
        &["at", "actor", "action", "client_id", "detail"],
        audit,
        "writing the audit log",
    )
    .await?;
    Ok(Written::Done(replies))
}
