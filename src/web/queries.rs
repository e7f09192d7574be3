//! What the navigator's pages and the JSON API read and change beyond the record itself: client
//! lists, today's work, assignment, tasks, one-off messages, erasure, the cohort and the audit
//! log. Every view of a client's data and every change is audited by the caller's actor.

use crate::clock::from_ms;
use crate::domain::ClientId;
use crate::runner::Runner;
use crate::schedule::actions::ActionError;
use crate::store::record::audit;
use crate::store::{Backend, Db, Doing, StoreError};
use chrono_tz::Tz;
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeMap;

/// A time as a navigator reads it, in the centre's time zone.
#[must_use]
pub fn local(ms: i64, tz: Tz) -> String {
    from_ms(ms)
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Who a client is assigned to, and their name.
#[derive(Debug, Clone, Serialize)]
pub struct ClientMeta {
    pub id: String,
    pub name: Option<String>,
    pub navigator_id: Option<i64>,
    pub navigator: Option<String>,
    /// unknown | granted | revoked
    pub consent: String,
    /// real | test
    pub kind: String,
}

pub async fn client_meta(db: &Db, id: &str) -> Result<Option<ClientMeta>, StoreError> {
    let row = sqlx::query(
        "SELECT c.id, c.display_name, c.navigator_id, s.display_name AS nav, c.consent, c.kind FROM clients c \
         LEFT JOIN staff s ON s.id = c.navigator_id WHERE c.id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await
    .doing("reading a client")?;
    row.map(|r| {
        Ok(ClientMeta {
            id: r.try_get(0).doing("reading a client")?,
            name: r.try_get(1).doing("reading a client")?,
            navigator_id: r.try_get(2).doing("reading a client")?,
            navigator: r.try_get(3).doing("reading a client")?,
            consent: r.try_get(4).doing("reading a client")?,
            kind: r.try_get(5).doing("reading a client")?,
        })
    })
    .transpose()
}

/// Sets a client's name and navigator after they were added.
pub async fn set_profile(
    db: &Db,
    id: &ClientId,
    name: Option<&str>,
    navigator: Option<i64>,
    actor: &str,
    now: i64,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE clients SET display_name = $1, navigator_id = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(name.map(str::trim).filter(|n| !n.is_empty()))
    .bind(navigator)
    .bind(now)
    .bind(id.as_str())
    .execute(&mut *tx)
    .await
    .doing("setting a client's profile")?;
    audit(
        &mut tx,
        now,
        actor,
        "client-assign",
        Some(id),
        &navigator.map_or("unassigned".into(), |n| format!("staff {n}")),
    )
    .await?;
    tx.commit().await.doing("committing")?;
    Ok(())
}

/// Filters of the client list. `viewer`: a navigator sees only their own clients.
#[derive(Debug, Clone, Default)]
pub struct ClientFilter {
    pub q: Option<String>,
    /// A staff id, or `none` for unassigned.
    pub navigator: Option<String>,
    /// active, or a consent state (granted, revoked, unknown).
    pub status: Option<String>,
    pub flag: Option<String>,
    pub language: Option<String>,
    pub viewer: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClientSummary {
    pub id: String,
    pub name: Option<String>,
    pub chart_number: Option<String>,
    pub language: String,
    pub time_zone: String,
    pub consent: String,
    pub status: String,
    pub navigator: Option<String>,
    pub open_flags: i64,
    pub urgent: bool,
    /// `real`, or `test`: made by the simulator, reached only by it.
    pub kind: String,
}

/// One page of clients and how many match in all.
pub async fn clients(
    db: &Db,
    f: &ClientFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ClientSummary>, i64), StoreError> {
    let pg = db.backend() == Backend::Postgres;
    let mut wh = vec!["1 = 1".to_owned()];
    let mut args: Vec<Arg> = Vec::new();
    let p = |args: &mut Vec<Arg>, a: Arg| {
        args.push(a);
        if pg {
            format!("${}", args.len())
        } else {
            "?".to_owned()
        }
    };
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let like = format!("%{}%", q.to_lowercase());
        let a = p(&mut args, Arg::S(like.clone()));
        let b = p(&mut args, Arg::S(like.clone()));
        let c = p(&mut args, Arg::S(like));
        wh.push(format!(
            "(LOWER(c.id) LIKE {a} OR LOWER(COALESCE(c.display_name, '')) LIKE {b} OR LOWER(COALESCE(c.chart_number, '')) LIKE {c})"
        ));
    }
    if let Some(v) = f.viewer {
        let a = p(&mut args, Arg::I(v));
        wh.push(format!("c.navigator_id = {a}"));
    }
    match f.navigator.as_deref().filter(|n| !n.is_empty()) {
        Some("none") => wh.push("c.navigator_id IS NULL".into()),
        Some(n) => {
            if let Ok(n) = n.parse::<i64>() {
                let a = p(&mut args, Arg::I(n));
                wh.push(format!("c.navigator_id = {a}"));
            }
        }
        None => {}
    }
    match f.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s @ ("granted" | "revoked" | "unknown")) => {
            let a = p(&mut args, Arg::S(s.to_owned()));
            wh.push(format!("c.consent = {a}"));
        }
        Some(s) => {
            let a = p(&mut args, Arg::S(s.to_owned()));
            wh.push(format!("c.status = {a}"));
        }
        None => {}
    }
    if let Some(k) = f.flag.as_deref().filter(|s| !s.is_empty()) {
        let a = p(&mut args, Arg::S(k.to_owned()));
        wh.push(format!(
            "EXISTS (SELECT 1 FROM flags g WHERE g.client_id = c.id AND g.status = 'open' AND g.kind = {a})"
        ));
    }
    if let Some(l) = f.language.as_deref().filter(|s| !s.is_empty()) {
        let a = p(&mut args, Arg::S(l.to_owned()));
        wh.push(format!("c.language = {a}"));
    }
    let wh = wh.join(" AND ");
    let count_sql = format!("SELECT COUNT(*) FROM clients c WHERE {wh}");
    let mut cq = sqlx::query_scalar::<_, i64>(&count_sql);
    for a in &args {
        cq = a.bind_scalar(cq);
    }
    let total = cq.fetch_one(db.pool()).await.doing("counting clients")?;
    let lim = p(&mut args, Arg::I(limit));
    let off = p(&mut args, Arg::I(offset));
    let sql = format!(
        "SELECT c.id, c.display_name, c.chart_number, c.language, c.time_zone, c.consent, c.status, s.display_name AS nav, \
         (SELECT COUNT(*) FROM flags g WHERE g.client_id = c.id AND g.status = 'open') AS open_flags, \
         (SELECT COUNT(*) FROM flags g WHERE g.client_id = c.id AND g.status = 'open' AND g.urgency = 'urgent') AS urgent, c.kind \
         FROM clients c LEFT JOIN staff s ON s.id = c.navigator_id WHERE {wh} ORDER BY c.id LIMIT {lim} OFFSET {off}"
    );
    let mut q = sqlx::query(&sql);
    for a in &args {
        q = a.bind(q);
    }
    let rows = q.fetch_all(db.pool()).await.doing("listing clients")?;
    let list = rows
        .iter()
        .map(|r| {
            Ok(ClientSummary {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                chart_number: r.try_get(2)?,
                language: r.try_get(3)?,
                time_zone: r.try_get(4)?,
                consent: r.try_get(5)?,
                status: r.try_get(6)?,
                navigator: r.try_get(7)?,
                open_flags: r.try_get(8)?,
                urgent: r.try_get::<i64, _>(9)? > 0,
                kind: r.try_get(10)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .doing("listing clients")?;
    Ok((list, total))
}

enum Arg {
    I(i64),
    S(String),
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;
type AnyScalar<'q> = sqlx::query::QueryScalar<'q, sqlx::Any, i64, sqlx::any::AnyArguments<'q>>;

impl Arg {
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        match self {
            Arg::I(i) => q.bind(*i),
            Arg::S(s) => q.bind(s.clone()),
        }
    }
    fn bind_scalar<'q>(&self, q: AnyScalar<'q>) -> AnyScalar<'q> {
        match self {
            Arg::I(i) => q.bind(*i),
            Arg::S(s) => q.bind(s.clone()),
        }
    }
}

/// A task or flag for a navigator.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub id: i64,
    pub client: Option<String>,
    pub kind: String,
    pub urgency: String,
    pub note: Option<String>,
    pub status: String,
    /// The due time, in the centre's time zone.
    pub due: Option<String>,
    pub created: String,
}

/// Open tasks by urgency: crisis first, then urgent, then by due date and age. A navigator
/// (`viewer`) sees their clients' tasks and those of no client.
pub async fn open_tasks(
    db: &Db,
    viewer: Option<i64>,
    client: Option<&str>,
    tz: Tz,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Task>, i64), StoreError> {
    let (cond, binds): (&str, Vec<Arg>) = match (viewer, client) {
        (_, Some(c)) => ("f.client_id = $1", vec![Arg::S(c.to_owned())]),
        (Some(v), None) => (
            "(f.client_id IS NULL OR c.navigator_id = $1)",
            vec![Arg::I(v)],
        ),
        (None, None) => ("$1 = $1", vec![Arg::I(0)]),
    };
    let base = format!(
        "FROM flags f LEFT JOIN clients c ON c.id = f.client_id WHERE f.status = 'open' AND {cond}"
    );
    let count_sql = format!("SELECT COUNT(*) {base}");
    let mut cq = sqlx::query_scalar::<_, i64>(&count_sql);
    for a in &binds {
        cq = a.bind_scalar(cq);
    }
    let total = cq.fetch_one(db.pool()).await.doing("counting tasks")?;
    let sql = format!(
        "SELECT f.id, f.client_id, f.kind, f.urgency, f.note, f.status, f.due_at, f.created_at {base} \
         ORDER BY CASE WHEN f.kind = 'crisis' THEN 0 WHEN f.urgency = 'urgent' THEN 1 ELSE 2 END, \
         COALESCE(f.due_at, f.created_at), f.id LIMIT $2 OFFSET $3"
    );
    let mut q = sqlx::query(&sql);
    for a in &binds {
        q = a.bind(q);
    }
    let rows = q
        .bind(limit)
        .bind(offset)
        .fetch_all(db.pool())
        .await
        .doing("reading tasks")?;
    let list = rows
        .iter()
        .map(|r| {
            Ok(Task {
                id: r.try_get(0)?,
                client: r.try_get(1)?,
                kind: r.try_get(2)?,
                urgency: r.try_get(3)?,
                note: r.try_get(4)?,
                status: r.try_get(5)?,
                due: r.try_get::<Option<i64>, _>(6)?.map(|d| local(d, tz)),
                created: local(r.try_get(7)?, tz),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .doing("reading tasks")?;
    Ok((list, total))
}

/// A scheduled step that should have gone out and has not, or that failed.
#[derive(Debug, Clone, Serialize)]
pub struct Overdue {
    pub client: String,
    pub step: String,
    pub due: String,
    pub status: String,
    pub note: Option<String>,
}

pub async fn overdue(
    db: &Db,
    viewer: Option<i64>,
    now: i64,
    late_ms: i64,
    tz: Tz,
) -> Result<Vec<Overdue>, StoreError> {
    let rows = sqlx::query(
        "SELECT j.client_id, COALESCE(j.step_id, j.kind), j.due_at, j.status, j.note FROM jobs j JOIN clients c ON c.id = j.client_id \
         WHERE ((j.status IN ('pending', 'running') AND j.due_at < $1) OR j.status = 'failed') \
         AND ($2 = 0 OR c.navigator_id = $3) ORDER BY j.due_at LIMIT 100",
    )
    .bind(now - late_ms)
    .bind(i64::from(viewer.is_some()))
    .bind(viewer.unwrap_or(0))
    .fetch_all(db.pool())
    .await
    .doing("reading overdue steps")?;
    rows.iter()
        .map(|r| {
            Ok(Overdue {
                client: r.try_get(0)?,
                step: r.try_get(1)?,
                due: local(r.try_get(2)?, tz),
                status: r.try_get(3)?,
                note: r.try_get(4)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .doing("reading overdue steps")
}

/// Whose a flag is: `None` when there is no such flag, `Some(None)` when it belongs to no client.
pub async fn flag_client(db: &Db, id: i64) -> Result<Option<Option<String>>, StoreError> {
    let row = sqlx::query("SELECT client_id FROM flags WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await
        .doing("reading a flag")?;
    row.map(|r| r.try_get::<Option<String>, _>(0).doing("reading a flag"))
        .transpose()
}

pub async fn resolve_task(
    db: &Db,
    id: i64,
    client: Option<&str>,
    actor: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let n = sqlx::query(
        "UPDATE flags SET status = 'resolved', resolved_at = $1 WHERE id = $2 AND status = 'open'",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await
    .doing("resolving a task")?
    .rows_affected();
    if n > 0 {
        let c = client.and_then(|c| ClientId::parse(c).ok());
        audit(
            &mut tx,
            now,
            actor,
            "task-resolve",
            c.as_ref(),
            &format!("task {id}"),
        )
        .await?;
    }
    tx.commit().await.doing("committing")?;
    Ok(n > 0)
}

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

/// One audit entry.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub client: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub client: Option<String>,
    pub action: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

pub async fn audit_entries(
    db: &Db,
    f: &AuditFilter,
    tz: Tz,
    limit: i64,
    offset: i64,
) -> Result<Vec<AuditEntry>, StoreError> {
    let s = |v: &Option<String>| v.clone().filter(|x| !x.trim().is_empty());
    let rows = sqlx::query(
        "SELECT id, at, actor, action, client_id, detail FROM audit_log \
         WHERE ($1 = '' OR actor = $1) AND ($2 = '' OR client_id = $2) AND ($3 = '' OR action = $3) \
         AND at >= $4 AND at < $5 ORDER BY id DESC LIMIT $6 OFFSET $7",
    )
    .bind(s(&f.actor).unwrap_or_default())
    .bind(s(&f.client).unwrap_or_default())
    .bind(s(&f.action).unwrap_or_default())
    .bind(f.from.unwrap_or(i64::MIN))
    .bind(f.to.unwrap_or(i64::MAX))
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await
    .doing("reading the audit log")?;
    rows.iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.try_get(0)?,
                at: local(r.try_get(1)?, tz),
                actor: r.try_get(2)?,
                action: r.try_get(3)?,
                client: r.try_get(4)?,
                detail: r.try_get(5)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .doing("reading the audit log")
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

/// A score at a time point, for the cohort and the exports.
#[derive(Debug, Clone)]
pub struct ScorePoint {
    pub client: String,
    pub instrument: String,
    pub time_point: String,
    pub total: Option<i64>,
    pub category: Option<String>,
    pub at: i64,
}

/// The time point of a survey started with none.
pub const AD_HOC: &str = "ad-hoc";

/// Every complete score of a real client, oldest first (a later one at the same time point wins
/// where they are folded); a survey started with no time point is at [`AD_HOC`].
pub async fn score_points(db: &Db, viewer: Option<i64>) -> Result<Vec<ScorePoint>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.client_id, s.instrument, COALESCE(s.time_point, 'ad-hoc'), s.total, s.category, s.at FROM scores s JOIN clients c ON c.id = s.client_id \
         WHERE s.complete = 1 AND c.kind = 'real' AND ($1 = 0 OR c.navigator_id = $2) ORDER BY s.id",
    )
    .bind(i64::from(viewer.is_some()))
    .bind(viewer.unwrap_or(0))
    .fetch_all(db.pool())
    .await
    .doing("reading scores")?;
    rows.iter()
        .map(|r| {
            Ok(ScorePoint {
                client: r.try_get(0)?,
                instrument: r.try_get(1)?,
                time_point: r.try_get(2)?,
                total: r.try_get(3)?,
                category: r.try_get(4)?,
                at: r.try_get(5)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .doing("reading scores")
}

/// The cohort's figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Cohort {
    pub referrals: i64,
    pub reasons: Vec<(String, i64)>,
    /// Uptake value, count, share of referrals.
    pub uptake: Vec<(String, i64, String)>,
    pub responses: Vec<Response>,
    pub outcomes: Vec<Outcome>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Response {
    pub flow: String,
    pub started: i64,
    pub completed: i64,
    pub rate: String,
}

/// The change of one measure between baseline and six months, over clients with both.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub instrument: String,
    pub n: usize,
    pub baseline: String,
    pub six: String,
    pub change: String,
    pub baseline_mean: f64,
    pub six_mean: f64,
}

/// The measures whose change the cohort shows: UCLA-3 and the four ONS4 items.
pub const OUTCOME_MEASURES: [&str; 5] = [
    "ucla3",
    "ons4-life-satisfaction",
    "ons4-worthwhile",
    "ons4-happy",
    "ons4-anxious",
];

fn pct(n: i64, d: i64) -> String {
    if d == 0 {
        "—".into()
    } else {
        #[allow(clippy::cast_precision_loss)]
        let p = n as f64 * 100.0 / d as f64;
        format!("{p:.0}%")
    }
}

/// Paired baseline and six-month values of a measure: client → (baseline, 6-month), the latest of each.
#[must_use]
pub fn paired(points: &[ScorePoint], instrument: &str) -> BTreeMap<String, (i64, i64)> {
    let mut base: BTreeMap<&str, i64> = BTreeMap::new();
    let mut six: BTreeMap<&str, i64> = BTreeMap::new();
    for p in points.iter().filter(|p| p.instrument == instrument) {
        let Some(t) = p.total else { continue };
        match p.time_point.as_str() {
            "baseline" => {
                base.insert(&p.client, t);
            }
            "6-month" => {
                six.insert(&p.client, t);
            }
            _ => {}
        }
    }
    base.into_iter()
        .filter_map(|(c, b)| six.get(c).map(|s| (c.to_owned(), (b, *s))))
        .collect()
}

pub async fn cohort(db: &Db, viewer: Option<i64>) -> Result<Cohort, StoreError> {
    let v = (i64::from(viewer.is_some()), viewer.unwrap_or(0));
    let refs = sqlx::query(
        "SELECT r.reasons, r.uptake FROM referrals r JOIN clients c ON c.id = r.client_id WHERE c.kind = 'real' AND ($1 = 0 OR c.navigator_id = $2)",
    )
    .bind(v.0)
    .bind(v.1)
    .fetch_all(db.pool())
    .await
    .doing("reading referrals")?;
    let mut reasons: BTreeMap<String, i64> = BTreeMap::new();
    let mut uptake: BTreeMap<String, i64> = BTreeMap::new();
    for r in &refs {
        let rs: String = r.try_get(0).doing("reading referrals")?;
        for reason in rs.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            *reasons.entry(reason.to_owned()).or_default() += 1;
        }
        let u: String = r.try_get(1).doing("reading referrals")?;
        *uptake.entry(u).or_default() += 1;
    }
    let total = i64::try_from(refs.len()).unwrap_or(i64::MAX);
    let mut reasons: Vec<(String, i64)> = reasons.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let sessions = sqlx::query(
        "SELECT s.flow_id, COUNT(*), SUM(CASE WHEN s.status = 'completed' THEN 1 ELSE 0 END) FROM sessions s \
         JOIN clients c ON c.id = s.client_id WHERE c.kind = 'real' AND ($1 = 0 OR c.navigator_id = $2) GROUP BY s.flow_id ORDER BY s.flow_id",
    )
    .bind(v.0)
    .bind(v.1)
    .fetch_all(db.pool())
    .await
    .doing("reading response rates")?;
    let responses = sessions
        .iter()
        .map(|r| {
            let started: i64 = r.try_get(1)?;
            let completed: Option<i64> = r.try_get(2)?;
            let completed = completed.unwrap_or(0);
            Ok(Response {
                flow: r.try_get(0)?,
                started,
                completed,
                rate: pct(completed, started),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .doing("reading response rates")?;
    let points = score_points(db, viewer).await?;
    let outcomes = OUTCOME_MEASURES
        .iter()
        .map(|m| {
            let pairs = paired(&points, m);
            #[allow(clippy::cast_precision_loss)]
            let mean = |f: &dyn Fn(&(i64, i64)) -> i64| {
                if pairs.is_empty() {
                    0.0
                } else {
                    pairs.values().map(|p| f(p) as f64).sum::<f64>() / pairs.len() as f64
                }
            };
            let (b, s) = (mean(&|p| p.0), mean(&|p| p.1));
            let show = |x: f64| {
                if pairs.is_empty() {
                    "—".to_owned()
                } else {
                    format!("{x:.1}")
                }
            };
            Outcome {
                instrument: (*m).to_owned(),
                n: pairs.len(),
                baseline: show(b),
                six: show(s),
                change: if pairs.is_empty() {
                    "—".into()
                } else {
                    format!("{:+.1}", s - b)
                },
                baseline_mean: b,
                six_mean: s,
            }
        })
        .collect();
    Ok(Cohort {
        referrals: total,
        reasons,
        uptake: uptake
            .into_iter()
            .map(|(k, n)| {
                let p = pct(n, total);
                (k, n, p)
            })
            .collect(),
        responses,
        outcomes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(c: &str, i: &str, tp: &str, t: i64) -> ScorePoint {
        ScorePoint {
            client: c.into(),
            instrument: i.into(),
            time_point: tp.into(),
            total: Some(t),
            category: None,
            at: 0,
        }
    }

    #[test]
    fn pairs_need_both_time_points_and_take_the_latest() {
        let pts = vec![
            p("a", "ucla3", "baseline", 8),
            p("a", "ucla3", "6-month", 5),
            p("b", "ucla3", "baseline", 7),
            p("c", "ucla3", "baseline", 9),
            p("c", "ucla3", "baseline", 6),
            p("c", "ucla3", "6-month", 4),
            p("c", "ons4-happy", "6-month", 4),
        ];
        let got = paired(&pts, "ucla3");
        assert_eq!(got.len(), 2);
        assert_eq!(got["a"], (8, 5));
        assert_eq!(got["c"], (6, 4));
        assert_eq!(pct(1, 3), "33%");
        assert_eq!(pct(0, 0), "—");
    }
}

/// A flow, with its messages missing and its SMS cost in each locale.
#[derive(Debug, Clone, Serialize)]
pub struct FlowRow {
    pub id: String,
    pub revision: String,
    pub instrument: Option<String>,
    /// Per locale, in the order of [`FlowReport::locales`].
    pub locales: Vec<crate::flow::report::FlowCost>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FlowReport {
    pub locales: Vec<crate::flow::report::LocaleReport>,
    pub flows: Vec<FlowRow>,
    /// Every gap of an enabled locale, as `flow: locale: message`.
    pub problems: Vec<String>,
}

/// Status, completeness and SMS cost of every loaded flow in every available locale.
#[must_use]
pub fn flow_report(runner: &Runner) -> FlowReport {
    let mut locales =
        crate::flow::report::locales(&runner.catalog, &runner.flows, &runner.centre.name);
    let mut problems = Vec::new();
    let mut flows: Vec<FlowRow> = runner
        .flows
        .current()
        .map(|f| FlowRow {
            id: f.id.to_string(),
            revision: f.revision.clone(),
            instrument: f.instrument.clone(),
            locales: Vec::new(),
        })
        .collect();
    for l in &mut locales {
        for (row, cost) in flows.iter_mut().zip(std::mem::take(&mut l.flows)) {
            if l.enabled {
                problems.extend(
                    cost.missing
                        .iter()
                        .map(|m| format!("{}: {}: {m} is missing", row.id, l.locale)),
                );
            }
            row.locales.push(cost);
        }
        // The page lists the longest messages, not every one.
        l.messages.retain(|m| m.segments > 2);
    }
    FlowReport {
        locales,
        flows,
        problems,
    }
}

/// Levels of support (the guidebook's) and uptake values a referral may take.
pub const SUPPORT_LEVELS: [&str; 4] = ["signposting", "light", "medium", "holistic"];
pub const UPTAKES: [&str; 4] = ["not-yet", "attended", "declined", "dropped-out"];

/// What a navigator records about the open referral (or a new one when there is none).
#[derive(Debug, Clone, Default)]
pub struct ReferralUpdate {
    pub referred_by: Option<String>,
    pub rx_type: Option<String>,
    pub program: Option<String>,
    pub support_level: Option<String>,
    pub uptake: String,
}

pub async fn update_referral(
    db: &Db,
    client: &ClientId,
    u: &ReferralUpdate,
    actor: &str,
    now: i64,
) -> Result<i64, ActionError> {
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
