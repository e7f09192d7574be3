//! The navigator's record of a client: adding clients and referrals, and reading the whole
//! record back (every read is audited).

use super::{Db, Doing, StoreError};
use crate::clock::from_ms;
use crate::domain::{Channel, ClientId, Locale};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

/// A client to enrol.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub id: ClientId,
    pub language: Locale,
    pub time_zone: chrono_tz::Tz,
    pub chart_number: Option<String>,
    /// How they are reached: a phone number, or none yet (then nothing reaches them until one
    /// is added). On the simulator channel the client is a *test* client, only ever reached
    /// by the simulator.
    pub reach: Option<(Channel, String)>,
    /// The centre they belong to.
    pub centre: String,
}

impl NewClient {
    /// A test client of the simulator: their address is their id.
    #[must_use]
    pub fn test(id: ClientId, language: Locale, time_zone: chrono_tz::Tz) -> Self {
        let address = id.to_string();
        Self {
            id,
            language,
            time_zone,
            chart_number: None,
            reach: Some((Channel::Simulator, address)),
            centre: crate::domain::DEFAULT_CENTRE.into(),
        }
    }

    /// `test` or `real`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match &self.reach {
            Some((Channel::Simulator, _)) => "test",
            _ => "real",
        }
    }

    /// How the record names the channel: `sms`, `telegram`, `simulator` or `none`.
    #[must_use]
    pub fn channel_name(&self) -> &'static str {
        self.reach.as_ref().map_or("none", |(c, _)| c.as_str())
    }
}

/// A referral (a social prescription).
#[derive(Debug, Clone, Default)]
pub struct NewReferral {
    pub referred_by: Option<String>,
    pub reasons: Vec<String>,
    pub rx_type: Option<String>,
    pub program: Option<String>,
    pub support_level: Option<String>,
    /// When the client was referred (ms); unset: now.
    pub referred_at: Option<i64>,
    /// A program of the catalogue (`program` then holds its name in the client's language).
    pub program_id: Option<i64>,
}

/// Adds a client with one channel address. Returns false if the client already existed (then
/// nothing changes).
pub async fn add_client(db: &Db, c: &NewClient, now: i64, actor: &str) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let created = sqlx::query(
        "INSERT INTO clients (id, chart_number, language, time_zone, kind, created_at, updated_at, centre_id) VALUES ($1, $2, $3, $4, $5, $6, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(c.id.as_str())
    .bind(c.chart_number.as_deref())
    .bind(c.language.as_str())
    .bind(c.time_zone.name())
    .bind(c.kind())
    .bind(now)
    .bind(&c.centre)
    .execute(&mut *tx)
    .await
    .doing("adding a client")?
    .rows_affected()
        == 1;
    if created {
        if let Some((channel, address)) = &c.reach {
            sqlx::query("INSERT INTO channel_addresses (channel, address, client_id, created_at) VALUES ($1, $2, $3, $4)")
                .bind(channel.as_str())
                .bind(address)
                .bind(c.id.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await
                .doing("adding a channel address")?;
        }
        audit(
            &mut tx,
            now,
            actor,
            "client-add",
            Some(&c.id),
            &format!("{} {} ({})", c.language, c.channel_name(), c.kind()),
        )
        .await?;
    }
    tx.commit().await.doing("committing a new client")?;
    Ok(created)
}

/// Opens a referral for a client.
pub async fn add_referral(
    db: &Db,
    client: &ClientId,
    r: &NewReferral,
    now: i64,
    actor: &str,
) -> Result<i64, StoreError> {
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO referrals (client_id, referred_at, referred_by, reasons, rx_type, program, support_level, program_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(client.as_str())
    .bind(r.referred_at.unwrap_or(now))
    .bind(r.referred_by.as_deref())
    .bind(r.reasons.join(","))
    .bind(r.rx_type.as_deref())
    .bind(r.program.as_deref())
    .bind(r.support_level.as_deref())
    .bind(r.program_id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .doing("adding a referral")?;
    super::uptake::record(&mut tx, id, "not-yet", actor, now).await?;
    audit(
        &mut tx,
        now,
        actor,
        "referral-add",
        Some(client),
        &format!("referral {id}"),
    )
    .await?;
    tx.commit().await.doing("committing a referral")?;
    Ok(id)
}

/// The note of a step held because nothing reaches the client yet.
pub const WAITING_FOR_CHANNEL: &str =
    "waiting for a way to reach the client (no phone number or Telegram chat yet)";

/// A client now has a way to be reached: steps held for want of one are due at once.
pub async fn channel_added(
    tx: &mut super::Tx,
    client: &ClientId,
    now: i64,
) -> Result<u64, StoreError> {
    sqlx::query(
        "UPDATE jobs SET due_at = $1, note = NULL, updated_at = $1 \
         WHERE client_id = $2 AND status = 'pending' AND note = $3",
    )
    .bind(now)
    .bind(client.as_str())
    .bind(WAITING_FOR_CHANNEL)
    .execute(&mut **tx)
    .await
    .doing("waking steps that waited for a channel")
    .map(|r| r.rows_affected())
}

/// Writes one audit entry. `detail` must never hold a message body.
pub async fn audit(
    tx: &mut super::Tx,
    now: i64,
    actor: &str,
    action: &str,
    client: Option<&ClientId>,
    detail: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, client_id, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(now)
    .bind(actor)
    .bind(action)
    .bind(client.map(ClientId::as_str))
    .bind(detail)
    .execute(&mut **tx)
    .await
    .doing("writing the audit log")?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub client: ClientInfo,
    pub consent: Vec<ConsentEntry>,
    pub referrals: Vec<Referral>,
    pub fields: BTreeMap<String, String>,
    pub answers: Vec<Answer>,
    pub scores: Vec<Score>,
    pub flags: Vec<Flag>,
    pub sessions: Vec<SessionRow>,
    pub messages: Vec<Message>,
    /// What navigators recorded: calls, visits, accompaniments, attempts, notes.
    pub notes: Vec<Note>,
    /// Conversations with a navigator, open and closed.
    pub conversations: Vec<Conversation>,
}

/// A navigator's note or contact with the client. Never sent to the client.
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub id: i64,
    /// call | visit | accompaniment | no-answer | note | task
    pub kind: String,
    pub body: String,
    pub staff: Option<String>,
    pub flag_id: Option<i64>,
    pub happened_at: i64,
    pub created_at: i64,
}

/// The kinds of note a navigator records.
pub const NOTE_KINDS: [&str; 5] = ["call", "visit", "accompaniment", "no-answer", "note"];

#[derive(Debug, Clone, Serialize)]
pub struct Conversation {
    pub status: String,
    pub opened_by: String,
    pub opened_at: i64,
    pub last_at: i64,
    pub closed_at: Option<i64>,
    pub closed_by: Option<String>,
    pub unread: i64,
}

/// A note to record.
#[derive(Debug, Clone)]
pub struct NewNote<'a> {
    pub client: &'a ClientId,
    pub staff: Option<i64>,
    pub kind: &'a str,
    pub body: &'a str,
    pub flag: Option<i64>,
    pub happened_at: i64,
}

/// Records a navigator's note or contact (`kind` from [`NOTE_KINDS`], or `task` with the
/// flag it resolved), audited without its words.
pub async fn add_note(
    tx: &mut super::Tx,
    n: &NewNote<'_>,
    now: i64,
    actor: &str,
) -> Result<i64, StoreError> {
    let client = n.client;
    let kind = n.kind;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO notes (client_id, staff_id, kind, body, flag_id, happened_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(client.as_str())
    .bind(n.staff)
    .bind(kind)
    .bind(n.body)
    .bind(n.flag)
    .bind(n.happened_at)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
    .doing("recording a note")?;
    audit(
        tx,
        now,
        actor,
        "note-add",
        Some(client),
        &format!("note {id} ({kind})"),
    )
    .await?;
    Ok(id)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClientInfo {
    pub id: String,
    pub chart_number: Option<String>,
    pub language: String,
    pub time_zone: String,
    pub consent: String,
    pub status: String,
    /// `real`, or `test`: a client the simulator made, reached only by the simulator.
    pub kind: String,
    pub channels: Vec<String>,
    /// The part of the day that suits them (`morning`, `afternoon`, `evening`, `any-time`):
    /// scheduled messages go out in it.
    pub best_time: Option<String>,
    /// Agreed to a text the day before a program's session: granted | revoked | None.
    pub reminders: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConsentEntry {
    pub at: String,
    pub channel: String,
    pub change: String,
    pub source: String,
    pub wording: Option<String>,
    pub actor: String,
    /// messaging (what the client's consent follows) | reminders (before a program's session)
    pub purpose: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Referral {
    pub id: i64,
    pub referred_at: String,
    pub referred_by: Option<String>,
    pub reasons: Vec<String>,
    pub rx_type: Option<String>,
    pub program: Option<String>,
    /// The program of the catalogue, when it is one (else `program` is free text: "other").
    pub program_id: Option<i64>,
    pub program_code: Option<String>,
    pub support_level: Option<String>,
    pub uptake: String,
    pub closed_at: Option<String>,
    pub closing_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Answer {
    pub at: String,
    pub flow: String,
    pub revision: String,
    pub step: String,
    pub record: Option<String>,
    pub raw: String,
    pub value: Option<String>,
    pub label: Option<String>,
    pub score: Option<i64>,
    pub status: String,
    pub locale: String,
    pub time_point: Option<String>,
    pub prompt_message_id: Option<i64>,
    pub inbound_message_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Score {
    pub at: String,
    pub instrument: String,
    pub flow: String,
    pub revision: String,
    pub time_point: Option<String>,
    pub total: Option<i64>,
    pub category: Option<String>,
    pub complete: bool,
    /// Each item's score, by step.
    #[schema(value_type = Object)]
    pub items: serde_json::Value,
    /// The referral it measures.
    pub referral_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Flag {
    pub id: i64,
    pub kind: String,
    pub urgency: String,
    pub note: Option<String>,
    pub status: String,
    pub due_at: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionRow {
    pub id: i64,
    pub flow: String,
    pub revision: String,
    pub status: String,
    pub time_point: Option<String>,
    pub started_at: String,
    pub ended_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: i64,
    pub at: String,
    pub direction: String,
    pub channel: String,
    pub body: String,
    pub key: Option<String>,
    pub status: String,
    /// The provider's own word for it (Twilio: queued, sent, delivered…).
    pub provider_status: Option<String>,
    /// Why it was not sent or not delivered, for a navigator.
    pub error: Option<String>,
    pub encoding: Option<String>,
    pub segments: Option<i64>,
    /// Status callbacks, in the order they came.
    pub timeline: Vec<DeliveryEvent>,
    /// Part of the sociodemographic questions: shown only to staff who may see them.
    pub sociodemographic: bool,
    /// When its words were removed under the retention policy.
    pub purged_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeliveryEvent {
    pub at: String,
    pub status: String,
    pub error_code: Option<String>,
}

fn t(ms: i64) -> String {
    from_ms(ms).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn st(r: &AnyRow, c: &str) -> Result<String, StoreError> {
    r.try_get::<String, _>(c).doing("reading the record")
}
fn ost(r: &AnyRow, c: &str) -> Result<Option<String>, StoreError> {
    r.try_get::<Option<String>, _>(c)
        .doing("reading the record")
}
fn int(r: &AnyRow, c: &str) -> Result<i64, StoreError> {
    r.try_get::<i64, _>(c).doing("reading the record")
}
fn oint(r: &AnyRow, c: &str) -> Result<Option<i64>, StoreError> {
    r.try_get::<Option<i64>, _>(c).doing("reading the record")
}

async fn rows(db: &Db, sql: &str, client: &ClientId) -> Result<Vec<AnyRow>, StoreError> {
    sqlx::query(sql)
        .bind(client.as_str())
        .fetch_all(db.pool())
        .await
        .doing("reading the record")
}

/// The whole record of a client, or `None` if there is no such client. The read is audited
/// under `actor`.
pub async fn read(
    db: &Db,
    client: &ClientId,
    actor: &str,
    now: i64,
) -> Result<Option<Record>, StoreError> {
    let Some(c) = sqlx::query(
        "SELECT id, chart_number, language, time_zone, consent, status, kind, best_time, reminders FROM clients WHERE id = $1",
    )
    .bind(client.as_str())
    .fetch_optional(db.pool())
    .await
    .doing("reading the record")?
    else {
        return Ok(None);
    };
    let channels = rows(
        db,
        "SELECT channel, address FROM channel_addresses WHERE client_id = $1 ORDER BY created_at",
        client,
    )
    .await?
    .iter()
    .map(|r| Ok(format!("{}:{}", st(r, "channel")?, st(r, "address")?)))
    .collect::<Result<_, StoreError>>()?;
    let client_info = ClientInfo {
        id: st(&c, "id")?,
        chart_number: ost(&c, "chart_number")?,
        language: st(&c, "language")?,
        time_zone: st(&c, "time_zone")?,
        consent: st(&c, "consent")?,
        status: st(&c, "status")?,
        kind: st(&c, "kind")?,
        channels,
        best_time: ost(&c, "best_time")?,
        reminders: ost(&c, "reminders")?,
    };
    let consent = rows(db, "SELECT at, channel, change, source, wording, actor, purpose FROM consent_events WHERE client_id = $1 ORDER BY id", client)
        .await?
        .iter()
        .map(|r| {
            Ok(ConsentEntry {
                at: t(int(r, "at")?),
                channel: st(r, "channel")?,
                change: st(r, "change")?,
                source: st(r, "source")?,
                wording: ost(r, "wording")?,
                actor: st(r, "actor")?,
                purpose: st(r, "purpose")?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    let referrals = rows(
        db,
        "SELECT r.id, r.referred_at, r.referred_by, r.reasons, r.rx_type, r.program, r.program_id, p.code AS program_code, r.support_level, r.uptake, r.closed_at, r.closing_reason \
         FROM referrals r LEFT JOIN programs p ON p.id = r.program_id WHERE r.client_id = $1 ORDER BY r.id",
        client,
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Referral {
            id: int(r, "id")?,
            referred_at: t(int(r, "referred_at")?),
            referred_by: ost(r, "referred_by")?,
            reasons: st(r, "reasons")?.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            rx_type: ost(r, "rx_type")?,
            program: ost(r, "program")?,
            program_id: oint(r, "program_id")?,
            program_code: ost(r, "program_code")?,
            support_level: ost(r, "support_level")?,
            uptake: st(r, "uptake")?,
            closed_at: oint(r, "closed_at")?.map(t),
            closing_reason: ost(r, "closing_reason")?,
        })
    })
    .collect::<Result<_, StoreError>>()?;
    let fields = rows(
        db,
        "SELECT key, value FROM fields WHERE client_id = $1 ORDER BY key",
        client,
    )
    .await?
    .iter()
    .map(|r| Ok((st(r, "key")?, st(r, "value")?)))
    .collect::<Result<_, StoreError>>()?;
    let answers = rows(
        db,
        "SELECT at, flow_id, revision, step_id, record_key, raw_text, value, label, score, status, locale, time_point, prompt_message_id, inbound_message_id \
         FROM answers WHERE client_id = $1 ORDER BY id",
        client,
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Answer {
            at: t(int(r, "at")?),
            flow: st(r, "flow_id")?,
            revision: st(r, "revision")?,
            step: st(r, "step_id")?,
            record: ost(r, "record_key")?,
            raw: st(r, "raw_text")?,
            value: ost(r, "value")?,
            label: ost(r, "label")?,
            score: oint(r, "score")?,
            status: st(r, "status")?,
            locale: st(r, "locale")?,
            time_point: ost(r, "time_point")?,
            prompt_message_id: oint(r, "prompt_message_id")?,
            inbound_message_id: oint(r, "inbound_message_id")?,
        })
    })
    .collect::<Result<_, StoreError>>()?;
    let scores = rows(
        db,
        "SELECT at, instrument, flow_id, revision, time_point, total, category, complete, items, referral_id FROM scores WHERE client_id = $1 ORDER BY id",
        client,
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Score {
            at: t(int(r, "at")?),
            instrument: st(r, "instrument")?,
            flow: st(r, "flow_id")?,
            revision: st(r, "revision")?,
            time_point: ost(r, "time_point")?,
            total: oint(r, "total")?,
            category: ost(r, "category")?,
            complete: int(r, "complete")? != 0,
            items: serde_json::from_str(&st(r, "items")?).unwrap_or(serde_json::Value::Null),
            referral_id: oint(r, "referral_id")?,
        })
    })
    .collect::<Result<_, StoreError>>()?;
    let flags = rows(db, "SELECT id, kind, urgency, note, status, due_at, created_at FROM flags WHERE client_id = $1 ORDER BY id", client)
        .await?
        .iter()
        .map(|r| {
            Ok(Flag {
                id: int(r, "id")?,
                kind: st(r, "kind")?,
                urgency: st(r, "urgency")?,
                note: ost(r, "note")?,
                status: st(r, "status")?,
                due_at: oint(r, "due_at")?.map(t),
                created_at: t(int(r, "created_at")?),
            })
        })
        .collect::<Result<_, StoreError>>()?;
    let sessions = rows(db, "SELECT id, flow_id, revision, status, time_point, started_at, ended_at FROM sessions WHERE client_id = $1 ORDER BY id", client)
        .await?
        .iter()
        .map(|r| {
            Ok(SessionRow {
                id: int(r, "id")?,
                flow: st(r, "flow_id")?,
                revision: st(r, "revision")?,
                status: st(r, "status")?,
                time_point: ost(r, "time_point")?,
                started_at: t(int(r, "started_at")?),
                ended_at: oint(r, "ended_at")?.map(t),
            })
        })
        .collect::<Result<_, StoreError>>()?;
    let messages = rows(
        db,
        "SELECT id, created_at, direction, channel, body, message_key, status, provider_status, error, encoding, segments, provider_id, purged_at, \
                CASE WHEN session_id IN (SELECT s.id FROM sessions s WHERE s.client_id = messages.client_id AND s.flow_id = 'sociodemographics') \
                     THEN 1 ELSE 0 END AS sociodemographic \
         FROM messages WHERE client_id = $1 ORDER BY id",
        client,
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Message {
            id: int(r, "id")?,
            at: t(int(r, "created_at")?),
            direction: st(r, "direction")?,
            channel: st(r, "channel")?,
            body: st(r, "body")?,
            key: ost(r, "message_key")?,
            status: st(r, "status")?,
            provider_status: ost(r, "provider_status")?,
            error: ost(r, "error")?,
            encoding: ost(r, "encoding")?,
            segments: oint(r, "segments")?,
            timeline: Vec::new(),
            sociodemographic: int(r, "sociodemographic")? != 0,
            purged_at: oint(r, "purged_at")?.map(t),
        })
    })
    .collect::<Result<_, StoreError>>()?;
    let mut messages: Vec<Message> = messages;
    let events = rows(
        db,
        "SELECT m.id AS message_id, e.at, e.status, e.error_code FROM delivery_events e \
         JOIN messages m ON m.channel = e.channel AND m.provider_id = e.provider_id \
         WHERE m.client_id = $1 AND m.direction = 'out' ORDER BY e.id",
        client,
    )
    .await?;
    for r in &events {
        let id = int(r, "message_id")?;
        if let Some(m) = messages.iter_mut().find(|m| m.id == id) {
            m.timeline.push(DeliveryEvent {
                at: t(int(r, "at")?),
                status: st(r, "status")?,
                error_code: ost(r, "error_code")?,
            });
        }
    }
    let mut tx = db.begin().await?;
    audit(
        &mut tx,
        now,
        actor,
        "record-view",
        Some(client),
        "whole record",
    )
    .await?;
    tx.commit().await.doing("auditing a record view")?;
    let notes = sqlx::query(
        "SELECT n.id, n.kind, n.body, s.display_name, n.flag_id, n.happened_at, n.created_at \
         FROM notes n LEFT JOIN staff s ON s.id = n.staff_id WHERE n.client_id = $1 \
         ORDER BY n.happened_at DESC, n.id DESC",
    )
    .bind(client.as_str())
    .fetch_all(db.pool())
    .await
    .doing("reading notes")?
    .iter()
    .map(|r| {
        Ok(Note {
            id: r.try_get(0)?,
            kind: r.try_get(1)?,
            body: r.try_get(2)?,
            staff: r.try_get(3)?,
            flag_id: r.try_get(4)?,
            happened_at: r.try_get(5)?,
            created_at: r.try_get(6)?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()
    .doing("reading notes")?;
    let conversations = sqlx::query(
        "SELECT status, opened_by, opened_at, last_at, closed_at, closed_by, unread \
         FROM conversations WHERE client_id = $1 ORDER BY id DESC",
    )
    .bind(client.as_str())
    .fetch_all(db.pool())
    .await
    .doing("reading conversations")?
    .iter()
    .map(|r| {
        Ok(Conversation {
            status: r.try_get(0)?,
            opened_by: r.try_get(1)?,
            opened_at: r.try_get(2)?,
            last_at: r.try_get(3)?,
            closed_at: r.try_get(4)?,
            closed_by: r.try_get(5)?,
            unread: r.try_get(6)?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()
    .doing("reading conversations")?;
    Ok(Some(Record {
        client: client_info,
        consent,
        referrals,
        fields,
        answers,
        scores,
        flags,
        sessions,
        messages,
        notes,
        conversations,
    }))
}

/// Writes one audit entry on its own.
pub async fn audit_one(
    db: &Db,
    now: i64,
    actor: &str,
    action: &str,
    client: Option<&str>,
    detail: &str,
) -> Result<(), StoreError> {
    let c = client.and_then(|c| ClientId::parse(c).ok());
    let mut tx = db.begin().await?;
    audit(&mut tx, now, actor, action, c.as_ref(), detail).await?;
    tx.commit().await.doing("committing the audit log")
}
