//! Applying one input's effects inside its transaction: the session, the outbox, the record
//! (answers, fields, scores, flags, consent) and the audit log, in as few statements as the
//! work allows. Nothing here sends: messages are queued and leave after the commit.

use super::{Inbound, Outbound, Runner};
use crate::clock::to_ms;
use crate::domain::{ClientId, Locale};
use crate::flow::def::Urgency;
use crate::flow::engine::{Event, Session};
use crate::sms;
use crate::store::{Doing, StoreError, Tx};
use sqlx::Row;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

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
    pub inbound_id: Option<i64>,
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
    pub fn new(loaded: &Loaded, inbound_id: Option<i64>) -> Self {
        Self {
            inbound_id,
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
        self.events.extend(events.into_iter().map(|e| (Scope::Current, e)));
    }

    pub fn new_session_events(&mut self, events: Vec<Event>) {
        self.events.extend(events.into_iter().map(|e| (Scope::New, e)));
    }

    pub fn system(&mut self, send: Event) {
        self.events.push((Scope::Client, send));
    }

    pub fn flag(&mut self, kind: &str, urgency: Urgency, note: Option<String>) {
        self.events.push((Scope::Client, Event::Flag { kind: kind.into(), urgency, note }));
    }

    pub fn consent(&mut self, granted: bool, source: &str, wording: &str, actor: &str) {
        self.consent = Some((granted, source.into(), wording.into(), actor.into()));
    }
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

/// `INSERT INTO table (cols) VALUES ($1, …), (…) suffix` for `rows`.
fn insert_sql(table: &str, cols: &[&str], rows: usize, suffix: &str) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", cols.join(", "));
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..cols.len() {
            n += 1;
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${n}"));
        }
        sql.push(')');
    }
    sql.push(' ');
    sql.push_str(suffix);
    sql
}

fn bind_all<'q>(mut q: Query<'q, sqlx::Any, AnyArguments<'q>>, vals: Vec<V>) -> Query<'q, sqlx::Any, AnyArguments<'q>> {
    for v in vals {
        q = match v {
            V::I(x) => q.bind(x),
            V::S(x) => q.bind(x),
        };
    }
    q
}

async fn insert_rows(tx: &mut Tx, table: &str, cols: &[&str], rows: Vec<Vec<V>>, doing: &'static str) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = insert_sql(table, cols, rows.len(), "");
    bind_all(sqlx::query(&sql), rows.into_iter().flatten().collect()).execute(&mut **tx).await.doing(doing)?;
    Ok(())
}

/// Reads a client and its running session in one query.
pub async fn load(tx: &mut Tx, client: &ClientId) -> Result<Option<Loaded>, StoreError> {
    let row = sqlx::query(
        "SELECT c.language, c.time_zone, c.consent, \
                (SELECT r.program FROM referrals r WHERE r.client_id = c.id AND r.closed_at IS NULL ORDER BY r.id DESC LIMIT 1) AS program, \
                (SELECT a.channel FROM channel_addresses a WHERE a.client_id = c.id ORDER BY a.created_at DESC LIMIT 1) AS channel, \
                s.id, s.state, s.version, s.prompt_message_id, s.time_point \
         FROM clients c LEFT JOIN sessions s ON s.client_id = c.id AND s.status = 'active' \
         WHERE c.id = $1",
    )
    .bind(client.as_str())
    .fetch_optional(&mut **tx)
    .await
    .doing("loading a client")?;
    let Some(row) = row else { return Ok(None) };
    let get_s = |col: &str| row.try_get::<Option<String>, _>(col).doing("reading a client");
    let language = get_s("language")?.unwrap_or_default();
    let language = Locale::parse(&language).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let session = match row.try_get::<Option<i64>, _>("id").doing("reading a session")? {
        Some(id) => {
            let state: String = get_s("state")?.unwrap_or_default();
            let state: Session = serde_json::from_str(&state).map_err(|e| StoreError::Corrupt(format!("session {id}: {e}")))?;
            Some(Active {
                id,
                state,
                version: row.try_get::<Option<i64>, _>("version").doing("reading a session")?.unwrap_or(0),
                prompt_message_id: row.try_get::<Option<i64>, _>("prompt_message_id").doing("reading a session")?,
                time_point: get_s("time_point")?,
            })
        }
        None => None,
    };
    Ok(Some(Loaded {
        client: client.clone(),
        language,
        time_zone: get_s("time_zone")?.unwrap_or_default(),
        consent: get_s("consent")?.unwrap_or_else(|| "unknown".into()),
        program: get_s("program")?,
        channel: get_s("channel")?.unwrap_or_else(|| "simulator".into()),
        session,
    }))
}

/// Records an inbound message; `None` if the provider id was seen before.
pub async fn insert_inbound(tx: &mut Tx, runner: &Runner, loaded: &Loaded, inbound: &Inbound) -> Result<Option<i64>, StoreError> {
    let now = to_ms(runner.clock.now());
    let session_id = loaded.session.as_ref().map(|s| s.id);
    sqlx::query_scalar(
        "INSERT INTO messages (client_id, direction, channel, provider_id, body, session_id, status, created_at, updated_at) \
         VALUES ($1, 'in', $2, $3, $4, $5, 'received', $6, $6) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(loaded.client.as_str())
    .bind(inbound.channel.as_str())
    .bind(inbound.provider_id.as_deref())
    .bind(&inbound.text)
    .bind(session_id)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await
    .doing("recording an inbound message")
}

struct Sent {
    scope: Scope,
    key: String,
    text: String,
    prompt: bool,
}

/// Writes `fx`. Returns the queued replies, or `None` when the session changed under us (the
/// caller rolls back and tries again).
pub async fn apply(tx: &mut Tx, runner: &Runner, loaded: &Loaded, fx: Effects) -> Result<Option<Vec<Outbound>>, StoreError> {
    let now = to_ms(runner.clock.now());
    let client = loaded.client.as_str();
    let current_id = loaded.session.as_ref().map(|s| s.id);

    // Consent after this input: a keyword, or the consent question of a flow.
    let mut consent_rows = Vec::new();
    if let Some((granted, source, wording, actor)) = &fx.consent {
        consent_rows.push((*granted, source.clone(), wording.clone(), actor.clone()));
    }
    for (_, e) in &fx.events {
        if let Event::Consent { granted, wording } = e {
            consent_rows.push((*granted, "consent-flow".into(), wording.clone(), "client".into()));
        }
    }
    let consent_now = consent_rows.last().map_or(loaded.consent.as_str(), |c| if c.0 { "granted" } else { "revoked" });
    // A client who had opted out before this input gets nothing. The input that opts them out
    // (STOP, a "no" to the consent question) still gets its one confirmation.
    let suppress = loaded.consent == "revoked" && consent_now == "revoked";

    let sends: Vec<Sent> = fx
        .events
        .iter()
        .filter_map(|(scope, e)| match e {
            Event::Send { key, text, prompt } => Some(Sent { scope: *scope, key: key.clone(), text: text.clone(), prompt: *prompt }),
            _ => None,
        })
        .collect();

    // Messages of the running session (and system messages), then the session itself.
    let (old_sends, new_sends): (Vec<&Sent>, Vec<&Sent>) = sends.iter().partition(|m| m.scope != Scope::New);
    let old_ids = insert_outbound(tx, client, &fx.channel, current_id, &old_sends, suppress, now).await?;
    let mut replies: Vec<Outbound> = Vec::new();
    if !suppress {
        replies.extend(old_sends.iter().zip(&old_ids).map(|(m, id)| Outbound { id: *id, key: m.key.clone(), text: m.text.clone() }));
    }
    if let (Some(state), Some(active)) = (&fx.session_update, &loaded.session) {
        let prompt_id = old_sends.iter().zip(&old_ids).filter(|(m, _)| m.prompt && m.scope == Scope::Current).map(|(_, id)| *id).last();
        let status = state.ended.as_deref().unwrap_or("active");
        let json = serde_json::to_string(state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let changed = sqlx::query(
            "UPDATE sessions SET state = $1, status = $2, version = version + 1, \
             prompt_message_id = COALESCE($3, prompt_message_id), updated_at = $4, ended_at = $5 \
             WHERE id = $6 AND version = $7",
        )
        .bind(json)
        .bind(status)
        .bind(prompt_id)
        .bind(now)
        .bind(state.ended.as_ref().map(|_| now))
        .bind(active.id)
        .bind(active.version)
        .execute(&mut **tx)
        .await
        .doing("updating a session")?;
        if changed.rows_affected() == 0 {
            return Ok(None);
        }
    }
    let mut new_id = None;
    if let Some((state, time_point)) = &fx.new_session {
        let json = serde_json::to_string(state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let status = state.ended.as_deref().unwrap_or("active");
        let inserted: Result<i64, sqlx::Error> = sqlx::query_scalar(
            "INSERT INTO sessions (client_id, flow_id, revision, state, status, time_point, started_at, updated_at, ended_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING id",
        )
        .bind(client)
        .bind(state.flow.as_str())
        .bind(&state.revision)
        .bind(json)
        .bind(status)
        .bind(time_point.as_deref())
        .bind(now)
        .bind(state.ended.as_ref().map(|_| now))
        .fetch_one(&mut **tx)
        .await;
        let id = match inserted {
            Ok(id) => id,
            // Another input started a session for this client first.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(None),
            Err(e) => return Err(StoreError::Query { doing: "starting a session", source: e }),
        };
        let ids = insert_outbound(tx, client, &fx.channel, Some(id), &new_sends, suppress, now).await?;
        if let Some(prompt_id) = new_sends.iter().zip(&ids).filter(|(m, _)| m.prompt).map(|(_, id)| *id).last() {
            sqlx::query("UPDATE sessions SET prompt_message_id = $1 WHERE id = $2")
                .bind(prompt_id)
                .bind(id)
                .execute(&mut **tx)
                .await
                .doing("pointing a session at its question")?;
        }
        if !suppress {
            replies.extend(new_sends.iter().zip(&ids).map(|(m, id)| Outbound { id: *id, key: m.key.clone(), text: m.text.clone() }));
        }
        new_id = Some(id);
    }
    replies.sort_by_key(|r| r.id);

    let session_of = |scope: Scope| match scope {
        Scope::Current => current_id,
        Scope::New => new_id,
        Scope::Client => None,
    };
    let state_of = |scope: Scope| match scope {
        Scope::Current => fx.session_update.as_ref().or(loaded.session.as_ref().map(|a| &a.state)),
        Scope::New => fx.new_session.as_ref().map(|(s, _)| s),
        Scope::Client => None,
    };
    let time_point_of = |scope: Scope| match scope {
        Scope::Current => loaded.session.as_ref().and_then(|a| a.time_point.clone()),
        Scope::New => fx.new_session.as_ref().and_then(|(_, t)| t.clone()),
        Scope::Client => None,
    };

    let mut answers = Vec::new();
    let mut fields = Vec::new();
    let mut scores = Vec::new();
    let mut flags = Vec::new();
    let mut timeout: Option<(Scope, Option<(String, i64)>)> = None;
    let mut answered_steps = Vec::new();
    for (scope, e) in &fx.events {
        let scope = *scope;
        match e {
            Event::Answer { step, record, raw, value, label, score, status } => {
                let Some(st) = state_of(scope) else { continue };
                answered_steps.push(format!("{}/{step} {}", st.flow, status.as_str()));
                answers.push(vec![
                    s(client),
                    V::I(session_of(scope)),
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
                    V::I(loaded.session.as_ref().and_then(|a| a.prompt_message_id)),
                    V::I(fx.inbound_id),
                    i(now),
                ]);
            }
            Event::SetField { key, value } => {
                let source = state_of(scope).map_or_else(|| "system".to_owned(), |st| format!("{}@{}", st.flow, st.revision));
                fields.retain(|f: &(String, String, String)| f.0 != *key);
                fields.push((key.clone(), value.clone(), source));
            }
            Event::Score { instrument, total, category, complete, items } => {
                let Some(st) = state_of(scope) else { continue };
                scores.push(vec![
                    s(client),
                    V::I(session_of(scope)),
                    s(st.flow.as_str()),
                    s(st.revision.as_str()),
                    s(instrument.as_str()),
                    os(time_point_of(scope)),
                    V::I(*total),
                    os(category.clone()),
                    i(i64::from(*complete)),
                    s(serde_json::to_string(items).unwrap_or_default()),
                    i(now),
                ]);
            }
            Event::Flag { kind, urgency, note } => {
                let due = match urgency {
                    Urgency::Urgent => now,
                    Urgency::Normal => now + chrono::Duration::days(2).num_milliseconds(),
                };
                flags.push(vec![s(client), s(kind.as_str()), s(urgency.as_str()), os(note.clone()), V::I(session_of(scope)), i(due), i(now)]);
            }
            Event::ScheduleTimeout { step, at } => timeout = Some((scope, Some((step.to_string(), to_ms(*at))))),
            Event::CancelTimeout => timeout = Some((scope, None)),
            Event::SetLanguage { .. } | Event::Consent { .. } | Event::Send { .. } | Event::End { .. } => {}
        }
    }
    let language = fx.language.clone().or_else(|| {
        fx.events.iter().rev().find_map(|(_, e)| match e {
            Event::SetLanguage { locale } => Some(locale.clone()),
            _ => None,
        })
    });

    insert_rows(
        tx,
        "answers",
        &[
            "client_id", "session_id", "flow_id", "revision", "step_id", "record_key", "raw_text", "value", "label", "score", "status", "locale",
            "time_point", "prompt_message_id", "inbound_message_id", "at",
        ],
        answers,
        "recording answers",
    )
    .await?;
    // The referral's uptake is also a column of the referral itself.
    let uptake = fields.iter().rev().find(|f| f.0 == "referral.uptake").map(|f| f.1.clone());
    if !fields.is_empty() {
        let sql = insert_sql(
            "fields",
            &["client_id", "key", "value", "source", "updated_at"],
            fields.len(),
            "ON CONFLICT (client_id, key) DO UPDATE SET value = excluded.value, source = excluded.source, updated_at = excluded.updated_at",
        );
        let vals = fields.into_iter().flat_map(|(k, v, src)| [s(client), s(k), s(v), s(src), i(now)]).collect();
        bind_all(sqlx::query(&sql), vals).execute(&mut **tx).await.doing("setting record fields")?;
    }
    insert_rows(
        tx,
        "scores",
        &["client_id", "session_id", "flow_id", "revision", "instrument", "time_point", "total", "category", "complete", "items", "at"],
        scores,
        "recording scores",
    )
    .await?;
    insert_rows(tx, "flags", &["client_id", "kind", "urgency", "note", "session_id", "due_at", "created_at"], flags, "raising flags").await?;
    insert_rows(
        tx,
        "consent_events",
        &["client_id", "channel", "change", "source", "wording", "actor", "at"],
        consent_rows
            .iter()
            .map(|(g, src, w, a)| vec![s(client), s(fx.channel.as_str()), s(if *g { "granted" } else { "revoked" }), s(src.as_str()), s(w.as_str()), s(a.as_str()), i(now)])
            .collect(),
        "writing the consent ledger",
    )
    .await?;
    if consent_now != loaded.consent || language.is_some() {
        sqlx::query("UPDATE clients SET consent = $1, language = COALESCE($2, language), updated_at = $3 WHERE id = $4")
            .bind(consent_now)
            .bind(language.as_ref().map(Locale::as_str))
            .bind(now)
            .bind(client)
            .execute(&mut **tx)
            .await
            .doing("updating a client")?;
    }
    if let Some(uptake) = uptake {
        sqlx::query(
            "UPDATE referrals SET uptake = $1 WHERE id = (SELECT MAX(id) FROM referrals WHERE client_id = $2 AND closed_at IS NULL)",
        )
        .bind(uptake)
        .bind(client)
        .execute(&mut **tx)
        .await
        .doing("recording a referral's uptake")?;
    }
    if fx.cancel_all_jobs {
        sqlx::query("UPDATE jobs SET status = 'cancelled', updated_at = $1 WHERE client_id = $2 AND status = 'pending'")
            .bind(now)
            .bind(client)
            .execute(&mut **tx)
            .await
            .doing("cancelling a client's jobs")?;
    } else if let Some((scope, op)) = timeout {
        let sid = session_of(scope);
        match op {
            Some((step, due)) => {
                sqlx::query(
                    "INSERT INTO jobs (client_id, session_id, kind, step_id, due_at, status, created_at, updated_at) \
                     VALUES ($1, $2, 'timeout', $3, $4, 'pending', $5, $5) \
                     ON CONFLICT (session_id, kind) DO UPDATE SET step_id = excluded.step_id, due_at = excluded.due_at, status = 'pending', updated_at = excluded.updated_at",
                )
                .bind(client)
                .bind(sid)
                .bind(step)
                .bind(due)
                .bind(now)
                .execute(&mut **tx)
                .await
                .doing("scheduling a timeout")?;
            }
            None => {
                sqlx::query("UPDATE jobs SET status = 'cancelled', updated_at = $1 WHERE session_id = $2 AND kind = 'timeout' AND status = 'pending'")
                    .bind(now)
                    .bind(sid)
                    .execute(&mut **tx)
                    .await
                    .doing("cancelling a timeout")?;
            }
        }
    }

    let mut audit: Vec<Vec<V>> = fx.audit.iter().map(|(action, detail, actor)| vec![i(now), s(actor.as_str()), s(action.as_str()), s(client), s(detail.as_str())]).collect();
    if !answered_steps.is_empty() {
        audit.push(vec![i(now), s(format!("client:{}", fx.channel)), s("answer"), s(client), s(answered_steps.join(", "))]);
    }
    if let Some((g, src, _, actor)) = consent_rows.last() {
        audit.push(vec![i(now), s(actor.as_str()), s(if *g { "consent-granted" } else { "consent-revoked" }), s(client), s(src.as_str())]);
    }
    insert_rows(tx, "audit_log", &["at", "actor", "action", "client_id", "detail"], audit, "writing the audit log").await?;
    Ok(Some(replies))
}

async fn insert_outbound(tx: &mut Tx, client: &str, channel: &str, session: Option<i64>, sends: &[&Sent], suppress: bool, now: i64) -> Result<Vec<i64>, StoreError> {
    if sends.is_empty() {
        return Ok(Vec::new());
    }
    let cols = ["client_id", "direction", "channel", "body", "message_key", "session_id", "priority", "status", "encoding", "segments", "created_at", "updated_at"];
    let sql = insert_sql("messages", &cols, sends.len(), "RETURNING id");
    let status = if suppress { "suppressed" } else { "queued" };
    let vals = sends
        .iter()
        .flat_map(|m| {
            let cost = sms::cost(&m.text);
            vec![
                s(client),
                s("out"),
                s(channel),
                s(m.text.as_str()),
                s(m.key.as_str()),
                V::I(session),
                i(0),
                s(status),
                s(cost.encoding.to_string()),
                i(i64::try_from(cost.segments).unwrap_or(i64::MAX)),
                i(now),
                i(now),
            ]
        })
        .collect();
    let rows = bind_all(sqlx::query(&sql), vals).fetch_all(&mut **tx).await.doing("queueing messages")?;
    let mut ids = rows.iter().map(|r| r.try_get::<i64, _>(0)).collect::<Result<Vec<_>, _>>().doing("queueing messages")?;
    // Ids are assigned in the order of the VALUES; sort in case rows come back in another order.
    ids.sort_unstable();
    Ok(ids)
}
