//! A text the day before a program's session, to clients who agreed to reminders (a purpose of
//! their own in the consent ledger, apart from agreeing to messages). Sent once per referral and
//! session day, from 10:00 in the client's time zone and inside the hours they may be texted,
//! while the referral is open and the client has not declined or stopped going.

use crate::domain::{ClientId, Locale};
use crate::i18n::Vars;
use crate::runner::Runner;
use crate::store::{Doing, StoreError};
use chrono::{NaiveTime, TimeZone};
use sqlx::Row;

/// From this local hour the day before.
const FROM: u32 = 10;

struct Due {
    referral: i64,
    client: String,
    language: String,
    tz: String,
    window: Option<(u32, u32)>,
    best_time: Option<String>,
    program: i64,
}

/// Sends the reminders due now. Returns how many were queued.
pub async fn sweep(runner: &Runner) -> Result<usize, StoreError> {
    let db = &runner.db;
    let rows = sqlx::query(
        "SELECT r.id, r.client_id, c.language, c.time_zone, c.send_start, c.send_end, c.best_time, r.program_id \
         FROM referrals r JOIN clients c ON c.id = r.client_id JOIN programs p ON p.id = r.program_id \
         WHERE r.closed_at IS NULL AND r.uptake IN ('not-yet', 'attended') AND c.consent = 'granted' \
         AND c.reminders = 'granted' AND p.active = 1 AND p.schedule IS NOT NULL ORDER BY r.id",
    )
    .fetch_all(db.pool())
    .await
    .doing("finding reminders")?;
    let mut due = Vec::with_capacity(rows.len());
    for r in &rows {
        let g = |e| StoreError::Query {
            doing: "finding reminders",
            source: e,
        };
        let (a, b): (Option<i64>, Option<i64>) =
            (r.try_get(4).map_err(g)?, r.try_get(5).map_err(g)?);
        due.push(Due {
            referral: r.try_get(0).map_err(g)?,
            client: r.try_get(1).map_err(g)?,
            language: r.try_get(2).map_err(g)?,
            tz: r.try_get(3).map_err(g)?,
            window: a.zip(b).map(|(a, b)| {
                (
                    u32::try_from(a).unwrap_or(0),
                    u32::try_from(b).unwrap_or(1440),
                )
            }),
            best_time: r.try_get(6).map_err(g)?,
            program: r.try_get(7).map_err(g)?,
        });
    }
    let now = runner.clock.now();
    let mut sent = 0;
    for d in due {
        let tz: chrono_tz::Tz = d.tz.parse().unwrap_or(runner.centre.time_zone);
        let local = now.with_timezone(&tz);
        if local.time() < NaiveTime::from_hms_opt(FROM, 0, 0).unwrap_or_default() {
            continue;
        }
        // Inside the hours this client may be texted, now.
        if runner
            .schedule
            .place(now, tz, d.window, d.best_time.as_deref(), now)
            > now
        {
            continue;
        }
        let Some(program) = super::by_id(db, d.program).await? else {
            continue;
        };
        let sessions = program
            .schedule
            .as_deref()
            .and_then(|s| super::schedule::parse(s).ok())
            .unwrap_or_default();
        let tomorrow = local.date_naive() + chrono::Days::new(1);
        let Some(first) = super::schedule::on_date(&sessions, tomorrow)
            .first()
            .copied()
        else {
            continue;
        };
        // Not for a session that has already been and gone in the program's own time zone.
        if runner
            .centre
            .time_zone
            .from_local_datetime(&tomorrow.and_time(first))
            .earliest()
            .is_some_and(|t| t <= now)
        {
            continue;
        }
        if send_one(runner, &d, &program, tomorrow, first).await? {
            sent += 1;
        }
    }
    if sent > 0 {
        runner.queued.send_modify(|n| *n = n.wrapping_add(1));
    }
    Ok(sent)
}

async fn send_one(
    runner: &Runner,
    d: &Due,
    program: &super::Program,
    on: chrono::NaiveDate,
    at: NaiveTime,
) -> Result<bool, StoreError> {
    let Ok(client) = ClientId::parse(&d.client) else {
        return Ok(false);
    };
    let Some((ch, address)) = crate::runner::casework::channel_of(&runner.db, &client).await?
    else {
        return Ok(false);
    };
    let locale = runner.catalog.negotiate(
        &Locale::parse(&d.language).unwrap_or_else(|_| runner.catalog.default_locale().clone()),
    );
    let body = text(runner, &locale, program, at);
    let now = crate::clock::to_ms(runner.clock.now());
    let mut tx = runner.db.begin().await?;
    let claimed: Option<i64> = sqlx::query_scalar(
        "INSERT INTO program_reminders (referral_id, session_on, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(d.referral)
    .bind(on.format("%Y-%m-%d").to_string())
    .bind(now)
    .fetch_optional(&mut *tx)
    .await
    .doing("recording a reminder")?;
    let Some(claimed) = claimed else {
        // Sent before (or by another process just now).
        return Ok(false);
    };
    let id = crate::runner::casework::queue(
        &mut tx,
        &client,
        &ch,
        &address,
        &body,
        "program-reminder",
        1,
        now,
    )
    .await?;
    sqlx::query("UPDATE program_reminders SET message_id = $1 WHERE id = $2")
        .bind(id)
        .bind(claimed)
        .execute(&mut *tx)
        .await
        .doing("recording a reminder")?;
    crate::store::record::audit(
        &mut tx,
        now,
        "system",
        "program-reminder-send",
        Some(&client),
        &format!(
            "program {} session {}, message {id} on {ch}",
            program.code,
            on.format("%Y-%m-%d")
        ),
    )
    .await?;
    tx.commit().await.doing("recording a reminder")?;
    Ok(true)
}

/// "Reminder: Café-rencontre is tomorrow at 10:00. Where: 12 rue Main." in the client's language.
#[must_use]
pub fn text(runner: &Runner, locale: &Locale, program: &super::Program, at: NaiveTime) -> String {
    let mut v = Vars::new();
    v.insert("program".into(), program.name(locale.as_str()));
    v.insert(
        "time".into(),
        super::schedule::clock(&runner.catalog, locale, at),
    );
    let key = match &program.location {
        Some(l) => {
            v.insert("where".into(), l.clone());
            "pd-reminder"
        }
        None => "pd-reminder-online",
    };
    runner.catalog.format(locale, key, &v).unwrap_or_default()
}
