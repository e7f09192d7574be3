//! The catalogue of programs and the partners that run them (guidebook Step 4): what a program
//! is, in each language; where and when it runs; what it costs; how to get there; who to call.
//! A referral names one, so its details can be texted to the client (signposting) and its
//! referrals counted together.

pub mod import;
pub mod reminders;
pub mod schedule;

use crate::domain::Locale;
use crate::i18n::{Catalog, Vars};
use crate::store::{Db, Doing, StoreError, Tx};
use sqlx::Row;
use std::collections::BTreeMap;

/// What a program costs the client.
pub const COSTS: [&str; 3] = ["free", "low-cost", "fee-waivable"];

/// A program of the catalogue.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Program {
    pub id: i64,
    pub code: String,
    /// The centre whose catalogue it is in.
    pub centre: String,
    pub partner: Option<String>,
    pub partner_contact: Option<String>,
    pub location: Option<String>,
    pub online: bool,
    pub schedule: Option<String>,
    pub cost: String,
    pub transport: Option<String>,
    pub accessibility: Option<String>,
    pub languages: Vec<String>,
    pub contact: Option<String>,
    pub eligibility: Option<String>,
    pub reasons: Vec<String>,
    pub active: bool,
    /// language → (name, description)
    pub texts: BTreeMap<String, (String, String)>,
}

impl Program {
    /// Its name and description in `lang`, else English, else any language it has.
    #[must_use]
    pub fn text(&self, lang: &str) -> (String, String) {
        self.texts
            .get(lang)
            .or_else(|| self.texts.get("en"))
            .or_else(|| self.texts.values().next())
            .cloned()
            .unwrap_or_else(|| (self.code.clone(), String::new()))
    }

    /// Its name in `lang` (see [`Program::text`]).
    #[must_use]
    pub fn name(&self, lang: &str) -> String {
        self.text(lang).0
    }
}

/// A program as entered (the web's form, a CSV row), before it is checked.
#[derive(Debug, Clone, Default)]
pub struct ProgramInput {
    pub code: String,
    pub partner: String,
    pub partner_contact: String,
    pub location: String,
    pub online: bool,
    pub schedule: String,
    pub cost: String,
    pub transport: String,
    pub accessibility: String,
    pub languages: String,
    pub contact: String,
    pub eligibility: String,
    pub reasons: String,
    pub active: bool,
    /// (language, name, description); an empty name is left out.
    pub texts: Vec<(String, String, String)>,
}

fn blank(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn list_of(s: &str) -> Vec<String> {
    s.split([',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Checks a program: a code, a name in at least one language, a known cost, languages that are
/// language tags, referral reasons that exist, a schedule that parses, somewhere to go.
pub fn check(p: &ProgramInput) -> Result<(), String> {
    let code = p.code.trim();
    if code.is_empty()
        || code.len() > 64
        || !code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(format!(
            "code {code:?}: a short id in lower case letters, digits and dashes, like walking-group"
        ));
    }
    if !p.texts.iter().any(|(_, n, _)| !n.trim().is_empty()) {
        return Err("a program needs a name in at least one language".into());
    }
    for (l, n, d) in &p.texts {
        Locale::parse(l).map_err(|e| format!("name_{l}: {e}"))?;
        if n.chars().count() > 80 {
            return Err(format!("name_{l} is longer than 80 characters"));
        }
        if d.chars().count() > 400 {
            return Err(format!("description_{l} is longer than 400 characters"));
        }
    }
    let cost = if p.cost.trim().is_empty() {
        "free"
    } else {
        p.cost.trim()
    };
    if !COSTS.contains(&cost) {
        return Err(format!("cost {cost:?} is not one of {}", COSTS.join(", ")));
    }
    for l in list_of(&p.languages) {
        Locale::parse(&l).map_err(|e| format!("languages: {e}"))?;
    }
    for r in list_of(&p.reasons) {
        if !crate::domain::REASONS.contains(&r.as_str()) {
            return Err(format!(
                "reason {r:?} is not one of {}",
                crate::domain::REASONS.join(", ")
            ));
        }
    }
    if !p.schedule.trim().is_empty() {
        schedule::parse(&p.schedule)?;
    }
    if p.location.trim().is_empty() && !p.online {
        return Err("say where it runs (an address), or that it is online".into());
    }
    Ok(())
}

/// Adds a program, or changes the one with that code; its partner is found or added by name.
/// Returns its id and whether it was new. Audited.
pub async fn upsert(
    tx: &mut Tx,
    p: &ProgramInput,
    now: i64,
    actor: &str,
) -> Result<(i64, bool), StoreError> {
    upsert_in(tx, crate::domain::DEFAULT_CENTRE, p, now, actor).await
}

/// [`upsert`] in one centre's catalogue. A code another centre's program has is refused (a
/// centre never changes another's program).
pub async fn upsert_in(
    tx: &mut Tx,
    centre: &str,
    p: &ProgramInput,
    now: i64,
    actor: &str,
) -> Result<(i64, bool), StoreError> {
    let partner: Option<i64> = match blank(&p.partner) {
        Some(name) => {
            let id: Option<i64> =
                sqlx::query_scalar("SELECT id FROM partners WHERE name = $1 AND centre_id = $2")
                    .bind(&name)
                    .bind(centre)
                    .fetch_optional(&mut **tx)
                    .await
                    .doing("finding a partner")?;
            Some(match id {
                Some(id) => {
                    if let Some(c) = blank(&p.partner_contact) {
                        sqlx::query("UPDATE partners SET contact = $1, updated_at = $2 WHERE id = $3")
                            .bind(c)
                            .bind(now)
                            .bind(id)
                            .execute(&mut **tx)
                            .await
                            .doing("updating a partner")?;
                    }
                    id
                }
                None => sqlx::query_scalar(
                    "INSERT INTO partners (name, contact, created_at, updated_at, centre_id) VALUES ($1, $2, $3, $3, $4) RETURNING id",
                )
                .bind(&name)
                .bind(blank(&p.partner_contact))
                .bind(now)
                .bind(centre)
                .fetch_one(&mut **tx)
                .await
                .doing("adding a partner")?,
            })
        }
        None => None,
    };
    let code = p.code.trim();
    let cost = blank(&p.cost).unwrap_or_else(|| "free".into());
    let languages = list_of(&p.languages).join(",");
    let reasons = list_of(&p.reasons).join(",");
    let existing: Option<(i64, String)> =
        sqlx::query_as("SELECT id, centre_id FROM programs WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut **tx)
            .await
            .doing("finding a program")?;
    if existing.as_ref().is_some_and(|(_, c)| c != centre) {
        return Err(StoreError::Refused(format!(
            "the code {code} is taken by another centre's program: choose another code"
        )));
    }
    // One statement adds it or changes it (its code is its name; created_at stays).
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO programs (code, partner_id, location, online, schedule, cost, transport, accessibility, \
         languages, contact, eligibility, reasons, active, created_at, updated_at, centre_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15) \
         ON CONFLICT (code) DO UPDATE SET partner_id = excluded.partner_id, location = excluded.location, \
         online = excluded.online, schedule = excluded.schedule, cost = excluded.cost, \
         transport = excluded.transport, accessibility = excluded.accessibility, \
         languages = excluded.languages, contact = excluded.contact, eligibility = excluded.eligibility, \
         reasons = excluded.reasons, active = excluded.active, updated_at = excluded.updated_at \
         RETURNING id",
    )
    .bind(code)
    .bind(partner)
    .bind(blank(&p.location))
    .bind(i64::from(p.online))
    .bind(blank(&p.schedule))
    .bind(&cost)
    .bind(blank(&p.transport))
    .bind(blank(&p.accessibility))
    .bind(&languages)
    .bind(blank(&p.contact))
    .bind(blank(&p.eligibility))
    .bind(&reasons)
    .bind(i64::from(p.active))
    .bind(now)
    .bind(centre)
    .fetch_one(&mut **tx)
    .await
    .doing("saving a program")?;
    for (lang, name, description) in &p.texts {
        let Some(name) = blank(name) else { continue };
        sqlx::query("DELETE FROM program_texts WHERE program_id = $1 AND language = $2")
            .bind(id)
            .bind(lang)
            .execute(&mut **tx)
            .await
            .doing("replacing a program's wording")?;
        sqlx::query(
            "INSERT INTO program_texts (program_id, language, name, description) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(lang)
        .bind(name)
        .bind(description.trim())
        .execute(&mut **tx)
        .await
        .doing("writing a program's wording")?;
    }
    crate::store::record::audit(
        tx,
        now,
        actor,
        if existing.is_some() {
            "program-update"
        } else {
            "program-add"
        },
        None,
        code,
    )
    .await?;
    Ok((id, existing.is_none()))
}

/// Retires a program (no new referrals) or brings it back. False when there is no such code.
pub async fn set_active(
    db: &Db,
    code: &str,
    active: bool,
    now: i64,
    actor: &str,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let n = sqlx::query("UPDATE programs SET active = $1, updated_at = $2 WHERE code = $3")
        .bind(i64::from(active))
        .bind(now)
        .bind(code)
        .execute(&mut *tx)
        .await
        .doing("retiring a program")?
        .rows_affected();
    if n > 0 {
        crate::store::record::audit(
            &mut tx,
            now,
            actor,
            if active {
                "program-restore"
            } else {
                "program-retire"
            },
            None,
            code,
        )
        .await?;
    }
    tx.commit().await.doing("committing")?;
    Ok(n > 0)
}

const COLS: &str = "p.id, p.code, pa.name, pa.contact, p.location, p.online, p.schedule, p.cost, p.transport, \
    p.accessibility, p.languages, p.contact, p.eligibility, p.reasons, p.active, p.centre_id";

async fn read(db: &Db, filter: &str, binds: &[&str]) -> Result<Vec<Program>, StoreError> {
    let sql = format!(
        "SELECT {COLS} FROM programs p LEFT JOIN partners pa ON pa.id = p.partner_id {filter} ORDER BY p.code"
    );
    let mut q = sqlx::query(&sql);
    for b in binds {
        q = q.bind((*b).to_owned());
    }
    let rows = q.fetch_all(db.pool()).await.doing("reading programs")?;
    let mut out: Vec<Program> = rows
        .iter()
        .map(|r| {
            let s = |k: usize| r.try_get::<Option<String>, _>(k);
            Ok(Program {
                id: r.try_get(0)?,
                code: r.try_get(1)?,
                partner: s(2)?,
                partner_contact: s(3)?,
                location: s(4)?,
                online: r.try_get::<i64, _>(5)? != 0,
                schedule: s(6)?,
                cost: r.try_get(7)?,
                transport: s(8)?,
                accessibility: s(9)?,
                languages: list_of(&s(10)?.unwrap_or_default()),
                contact: s(11)?,
                eligibility: s(12)?,
                reasons: list_of(&s(13)?.unwrap_or_default()),
                active: r.try_get::<i64, _>(14)? != 0,
                centre: r.try_get(15)?,
                texts: BTreeMap::new(),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .doing("reading programs")?;
    if out.is_empty() {
        return Ok(out);
    }
    let texts = sqlx::query("SELECT program_id, language, name, description FROM program_texts")
        .fetch_all(db.pool())
        .await
        .doing("reading programs' wording")?;
    for t in &texts {
        let id: i64 = t.try_get(0).doing("reading programs' wording")?;
        if let Some(p) = out.iter_mut().find(|p| p.id == id) {
            p.texts.insert(
                t.try_get(1).doing("reading programs' wording")?,
                (
                    t.try_get(2).doing("reading programs' wording")?,
                    t.try_get(3).doing("reading programs' wording")?,
                ),
            );
        }
    }
    Ok(out)
}

/// The catalogue: active programs, or every one (of every centre).
pub async fn list(db: &Db, with_retired: bool) -> Result<Vec<Program>, StoreError> {
    list_in(db, None, with_retired).await
}

/// One centre's catalogue (none: every centre's).
pub async fn list_in(
    db: &Db,
    centre: Option<&str>,
    with_retired: bool,
) -> Result<Vec<Program>, StoreError> {
    read(
        db,
        if with_retired {
            "WHERE ($1 = '' OR p.centre_id = $1)"
        } else {
            "WHERE p.active = 1 AND ($1 = '' OR p.centre_id = $1)"
        },
        &[centre.unwrap_or_default()],
    )
    .await
}

/// One program by its code.
pub async fn by_code(db: &Db, code: &str) -> Result<Option<Program>, StoreError> {
    Ok(read(db, "WHERE p.code = $1", &[code]).await?.pop())
}

/// One program by its code, in the catalogue of the client's centre (another centre's program
/// is not one this client can be referred to).
pub async fn for_client(db: &Db, code: &str, client: &str) -> Result<Option<Program>, StoreError> {
    Ok(read(
        db,
        "WHERE p.code = $1 AND p.centre_id = (SELECT c.centre_id FROM clients c WHERE c.id = $2)",
        &[code, client],
    )
    .await?
    .pop())
}

/// One program by its id.
pub async fn by_id(db: &Db, id: i64) -> Result<Option<Program>, StoreError> {
    Ok(read(db, "WHERE p.id = $1", &[&id.to_string()])
        .await?
        .into_iter()
        .find(|p| p.id == id))
}

/// The program's details as one text in the client's language: what, where, when, cost and a
/// contact, within two SMS segments wherever the wording allows (the description goes first,
/// then the transport note, when it is too long).
#[must_use]
pub fn details_text(catalog: &Catalog, locale: &Locale, p: &Program) -> String {
    let f = |key: &str, vars: &[(&str, String)]| {
        let mut v = Vars::new();
        for (k, x) in vars {
            v.insert((*k).to_owned(), x.clone());
        }
        catalog.format(locale, key, &v).unwrap_or_default()
    };
    let (name, description) = p.text(locale.as_str());
    let place = match (&p.location, p.online) {
        (Some(l), true) => f("pd-where-both", &[("where", l.clone())]),
        (Some(l), false) => f("pd-where", &[("where", l.clone())]),
        (None, _) => f("pd-online", &[]),
    };
    let when = p
        .schedule
        .as_deref()
        .and_then(|s| schedule::parse(s).ok())
        .map(|s| {
            f(
                "pd-when",
                &[("when", schedule::describe(&s, catalog, locale))],
            )
        });
    let cost = f(&format!("pd-cost-{}", p.cost), &[]);
    let contact = p.contact.clone().or_else(|| p.partner_contact.clone());
    let contact = contact.map(|c| f("pd-contact", &[("contact", c)]));
    let transport = p
        .transport
        .clone()
        .map(|t| f("pd-transport", &[("transport", t)]));
    let build = |desc: bool, trans: bool| {
        let mut parts = vec![if desc && !description.is_empty() {
            format!("{name}: {}", description.trim_end_matches('.'))
        } else {
            name.clone()
        }];
        parts.push(place.clone());
        parts.extend(when.clone());
        parts.push(cost.clone());
        if trans {
            parts.extend(transport.clone());
        }
        parts.extend(contact.clone());
        parts
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(". ")
            + "."
    };
    for (desc, trans) in [(true, true), (true, false), (false, true), (false, false)] {
        let t = build(desc, trans);
        if crate::sms::cost(&t).segments <= 2 {
            return t;
        }
    }
    build(false, false)
}

/// What a program's referrals came to.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    pub referrals: i64,
    pub attended: i64,
    pub declined: i64,
    pub dropped_out: i64,
    pub not_yet: i64,
    /// Attended over those who have an answer (attended, declined, dropped out), in percent.
    pub uptake_rate: Option<i64>,
    /// The barriers its clients named, most common first: (option, count).
    pub barriers: Vec<(String, i64)>,
    /// Clients with a UCLA-3 at baseline and a later one, and the mean change (lower is better).
    pub paired: i64,
    pub ucla_change: Option<f64>,
}

/// A program's referrals, uptake, barriers and outcome change.
pub async fn stats(db: &Db, id: i64) -> Result<Stats, StoreError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT uptake, COUNT(*) FROM referrals WHERE program_id = $1 GROUP BY uptake",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await
    .doing("counting a program's referrals")?;
    let mut s = Stats::default();
    for (u, n) in rows {
        s.referrals += n;
        match u.as_str() {
            "attended" => s.attended = n,
            "declined" => s.declined = n,
            "dropped-out" => s.dropped_out = n,
            _ => s.not_yet += n,
        }
    }
    let answered = s.attended + s.declined + s.dropped_out;
    s.uptake_rate = (answered > 0).then(|| (s.attended * 100 + answered / 2) / answered);
    s.barriers = sqlx::query_as(
        "SELECT a.value, COUNT(*) FROM answers a \
         WHERE a.record_key = 'referral.barrier' AND a.status = 'answered' AND a.value IS NOT NULL \
           AND a.client_id IN (SELECT r.client_id FROM referrals r WHERE r.program_id = $1) \
         GROUP BY a.value ORDER BY COUNT(*) DESC, a.value LIMIT 5",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await
    .doing("counting a program's barriers")?;
    let pairs: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT s.client_id, \
                (SELECT b.total FROM scores b WHERE b.client_id = s.client_id AND b.instrument = 'ucla3' AND b.complete = 1 AND b.time_point = 'baseline' ORDER BY b.id LIMIT 1), \
                s.total \
         FROM scores s WHERE s.instrument = 'ucla3' AND s.complete = 1 AND s.time_point IN ('3-month', '6-month') \
           AND s.client_id IN (SELECT r.client_id FROM referrals r WHERE r.program_id = $1) \
           AND EXISTS (SELECT 1 FROM scores b WHERE b.client_id = s.client_id AND b.instrument = 'ucla3' AND b.complete = 1 AND b.time_point = 'baseline') \
         ORDER BY s.client_id, s.id",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await
    .doing("reading a program's outcomes")?;
    // The latest later score of each client, against their baseline.
    let mut latest: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (c, base, later) in pairs {
        latest.insert(c, (base, later));
    }
    s.paired = i64::try_from(latest.len()).unwrap_or(i64::MAX);
    if !latest.is_empty() {
        #[allow(clippy::cast_precision_loss)] // counts of clients
        let mean = latest.values().map(|(b, l)| (l - b) as f64).sum::<f64>() / latest.len() as f64;
        s.ucla_change = Some((mean * 10.0).round() / 10.0);
    }
    Ok(s)
}
