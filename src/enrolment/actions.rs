//! What a navigator does to a client's follow-up, as library functions: the command line calls
//! them now and the web will. Every change and every view is in the audit log.

use crate::clock::{from_ms, to_ms};
use crate::domain::{Channel, ClientId, FlowId, Locale, PhoneNumber};
use crate::runner::Runner;
pub use crate::schedule::ActionError;
use crate::schedule::sequence::Anchor;
use crate::schedule::{NewJob, first_planned, insert_jobs, local_label};
use crate::store::record::{self, NewClient, NewReferral};
use crate::store::{Doing, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use sqlx::Row;

/// A step as planned for a client.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub step: String,
    pub flow: String,
    pub time_point: Option<String>,
    /// In the client's local time, or "after <step>".
    pub when: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Enrolled {
    pub enrolment: i64,
    pub sequence: String,
    pub steps: Vec<Planned>,
}

struct ClientRow {
    tz: Tz,
    consent: String,
    send_window: Option<(u32, u32)>,
    best_time: Option<String>,
    /// Their centre's holidays, when it has its own.
    holidays: Option<std::collections::BTreeSet<chrono::NaiveDate>>,
}

async fn client_row(
    runner: &Runner,
    tx: &mut crate::store::Tx,
    client: &ClientId,
) -> Result<ClientRow, ActionError> {
    let row = sqlx::query(&format!(
        "SELECT c.time_zone, c.consent, c.send_start, c.send_end, c.best_time, \
                {hol} \
         FROM clients c WHERE c.id = $1",
        hol = crate::store::sql::CENTRE_HOLIDAYS
    ))
    .bind(client.as_str())
    .fetch_optional(&mut **tx)
    .await
    .doing("reading a client")?
    .ok_or_else(|| ActionError::UnknownClient(client.clone()))?;
    let tz: String = row.try_get(0).doing("reading a client")?;
    let (a, b): (Option<i64>, Option<i64>) = (
        row.try_get(2).doing("reading a client")?,
        row.try_get(3).doing("reading a client")?,
    );
    let holidays: Option<String> = row.try_get(5).doing("reading a client")?;
    Ok(ClientRow {
        holidays: crate::schedule::holidays_of(holidays.as_deref()),
        best_time: row.try_get(4).doing("reading a client")?,
        tz: tz.parse().unwrap_or(runner.centre.time_zone),
        consent: row.try_get(1).doing("reading a client")?,
        send_window: a.zip(b).map(|(a, b)| {
            (
                u32::try_from(a).unwrap_or(0),
                u32::try_from(b).unwrap_or(1440),
            )
        }),
    })
}

/// Enrols a client in a sequence for their open referral (the latest, when there is more than
/// one): see [`enrol_for`].
pub async fn enrol(
    runner: &Runner,
    client: &ClientId,
    sequence: &str,
    actor: &str,
) -> Result<Enrolled, ActionError> {
    enrol_for(runner, client, sequence, None, actor).await
}

/// Enrols a client in a sequence that follows up one referral (`None`: their latest open one):
/// every step becomes a job, due in the next open window of the client's own time zone, and
/// anchored to the referral's date. Steps that follow another wait for it to end. The sessions
/// the steps start, and their scores, carry the referral.
pub async fn enrol_for(
    runner: &Runner,
    client: &ClientId,
    sequence: &str,
    referral: Option<i64>,
    actor: &str,
) -> Result<Enrolled, ActionError> {
    let known = || {
        runner
            .sequences
            .all()
            .map(|s| s.id.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let seq = FlowId::parse(sequence)
        .ok()
        .and_then(|id| runner.sequences.get(&id))
        .ok_or_else(|| ActionError::UnknownSequence(sequence.to_owned(), known()))?;
    if !crate::centres::offer_for_client(&runner.db, client.as_str())
        .await?
        .sequence(seq.id.as_str())
    {
        return Err(ActionError::NotOffered(
            client.clone(),
            "sequence",
            seq.id.to_string(),
        ));
    }
    let now = runner.clock.now();
    let now_ms = to_ms(now);
    let b = runner.db.backend();
    let mut tx = runner.db.begin().await?;
    let c = client_row(runner, &mut tx, client).await?;
    if c.consent == "revoked" {
        return Err(ActionError::OptedOut(client.clone()));
    }
    let referral = match referral {
        Some(r) => Some(
            sqlx::query("SELECT id, referred_at FROM referrals WHERE client_id = $1 AND id = $2 AND closed_at IS NULL")
                .bind(client.as_str())
                .bind(r)
                .fetch_optional(&mut *tx)
                .await
                .doing("reading a referral")?
                .ok_or_else(|| {
                    ActionError::Invalid(format!("client {client} has no open referral {r}"))
                })?,
        ),
        None => sqlx::query("SELECT id, referred_at FROM referrals WHERE client_id = $1 AND closed_at IS NULL ORDER BY id DESC LIMIT 1")
            .bind(client.as_str())
            .fetch_optional(&mut *tx)
            .await
            .doing("reading a referral")?,
    };
    let (referral_id, referred_at): (Option<i64>, Option<i64>) = match referral {
        Some(r) => (
            Some(r.try_get(0).doing("reading a referral")?),
            Some(r.try_get(1).doing("reading a referral")?),
        ),
        None => (None, None),
    };
    let inserted = sqlx::query(
        "INSERT INTO enrolments (client_id, sequence_id, revision, status, enrolled_at, referral_id, referred_at, actor, created_at, updated_at) \
         VALUES ($1, $2, $3, 'active', $4, $5, $6, $7, $4, $4) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(client.as_str())
    .bind(seq.id.as_str())
    .bind(&seq.revision)
    .bind(now_ms)
    .bind(referral_id)
    .bind(referred_at)
    .bind(actor)
    .fetch_optional(&mut *tx)
    .await
    .doing("enrolling a client")?;
    let Some(row) = inserted else {
        return Err(ActionError::AlreadyEnrolled(
            client.clone(),
            seq.id.to_string(),
        ));
    };
    let enrolment: i64 = row.try_get(0).doing("enrolling a client")?;
    let mut planned = Vec::new();
    let mut previous: Option<(i64, String)> = None;
    for step in &seq.steps {
        let mut job = NewJob {
            client: client.to_string(),
            enrolment,
            step: step.id.to_string(),
            occurrence: 0,
            flow: step.flow.to_string(),
            time_point: step.time_point.clone(),
            status: "pending",
            planned_at: None,
            due_at: now_ms,
            after_job: None,
            delay_ms: None,
            note: None,
        };
        let when = if step.anchor == Anchor::Previous {
            let (after, name) = previous.clone().unwrap_or((0, String::new()));
            job.status = "blocked";
            job.after_job = Some(after);
            job.delay_ms = Some(step.offset.approx().num_milliseconds());
            if step.offset.is_zero() {
                format!("when {name} ends")
            } else {
                format!("{} after {name} ends", step.offset)
            }
        } else {
            match first_planned(step, c.tz, now, referred_at.map(from_ms)) {
                Some(p) => {
                    let due = runner.schedule.place_on(
                        p,
                        c.tz,
                        c.send_window,
                        c.best_time.as_deref(),
                        from_ms(now_ms),
                        c.holidays.as_ref(),
                    );
                    job.planned_at = Some(to_ms(p));
                    job.due_at = to_ms(due);
                    if due != p {
                        job.note = Some(crate::schedule::moved_note(
                            c.best_time.as_deref(),
                            &runner.schedule,
                        ));
                    }
                    local_label(job.due_at, c.tz)
                }
                None => {
                    job.status = "skipped";
                    job.note = Some("its end date had passed at enrolment".into());
                    "never (ended before enrolment)".into()
                }
            }
        };
        let id = insert_jobs(&mut tx, b, std::slice::from_ref(&job), now_ms)
            .await?
            .pop()
            .flatten()
            .unwrap_or_default();
        previous = Some((id, step.id.to_string()));
        planned.push(Planned {
            step: step.id.to_string(),
            flow: step.flow.to_string(),
            time_point: step.time_point.clone(),
            when,
        });
    }
    record::audit(
        &mut tx,
        now_ms,
        actor,
        "enrol",
        Some(client),
        &format!("sequence {} (enrolment {enrolment})", seq.id),
    )
    .await?;
    tx.commit().await.doing("committing an enrolment")?;
    Ok(Enrolled {
        enrolment,
        sequence: seq.id.to_string(),
        steps: planned,
    })
}

/// Changes every running enrolment of a client and its jobs in one statement each; returns the
/// number of jobs changed.
async fn change(
    runner: &Runner,
    client: &ClientId,
    actor: &str,
    action: &str,
    enrolments: (&str, &str),
    jobs: (&str, &str),
    note: &str,
) -> Result<u64, ActionError> {
    let now = to_ms(runner.clock.now());
    let mut tx = runner.db.begin().await?;
    client_row(runner, &mut tx, client).await?;
    let (from, to) = enrolments;
    let ended = if to == "cancelled" {
        format!(", ended_at = {now}, end_reason = $2")
    } else {
        String::new()
    };
    let sql = format!(
        "UPDATE enrolments SET status = '{to}', updated_at = {now}{ended} WHERE client_id = $1 AND status IN ({from}) RETURNING id"
    );
    let mut q = sqlx::query(&sql).bind(client.as_str());
    if to == "cancelled" {
        q = q.bind(note);
    }
    let ids: Vec<i64> = q
        .fetch_all(&mut *tx)
        .await
        .doing("changing enrolments")?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()
        .doing("changing enrolments")?;
    if ids.is_empty() {
        return Err(ActionError::NotEnrolled(client.clone()));
    }
    let (jfrom, jto) = jobs;
    let changed = sqlx::query(&format!(
        "UPDATE jobs SET status = '{jto}', note = $2, updated_at = {now} WHERE client_id = $1 AND kind = 'step' AND status IN ({jfrom})"
    ))
    .bind(client.as_str())
    .bind(note)
    .execute(&mut *tx)
    .await
    .doing("changing scheduled steps")?
    .rows_affected();
    record::audit(
        &mut tx,
        now,
        actor,
        action,
        Some(client),
        &format!("{changed} scheduled step(s)"),
    )
    .await?;
    tx.commit().await.doing("committing")?;
    Ok(changed)
}

/// Holds every step still to come; nothing goes out until [`resume`].
pub async fn pause(runner: &Runner, client: &ClientId, actor: &str) -> Result<u64, ActionError> {
    change(
        runner,
        client,
        actor,
        "enrolment-pause",
        ("'active'", "paused"),
        ("'pending'", "paused"),
        &format!("paused by {actor}"),
    )
    .await
}

/// Lets paused steps go again. One that fell due while paused follows its catch-up policy; the
/// rest keep their times.
pub async fn resume(runner: &Runner, client: &ClientId, actor: &str) -> Result<u64, ActionError> {
    change(
        runner,
        client,
        actor,
        "enrolment-resume",
        ("'paused'", "active"),
        ("'paused'", "pending"),
        &format!("resumed by {actor}"),
    )
    .await
}

/// Ends the client's enrolments: every step still to come is cancelled, with the reason.
pub async fn cancel(
    runner: &Runner,
    client: &ClientId,
    reason: &str,
    actor: &str,
) -> Result<u64, ActionError> {
    let note = format!("cancelled by {actor}: {reason}");
    change(
        runner,
        client,
        actor,
        "enrolment-cancel",
        ("'active', 'paused'", "cancelled"),
        ("'pending', 'blocked', 'paused'", "cancelled"),
        &note,
    )
    .await
}

/// Moves the next occurrence of a step to a local time (kept out of quiet hours). Returns when it
/// is now due, and that time as the client reads it.
pub async fn reschedule(
    runner: &Runner,
    client: &ClientId,
    step: &str,
    at: NaiveDateTime,
    actor: &str,
) -> Result<(DateTime<Utc>, String), ActionError> {
    let now = to_ms(runner.clock.now());
    let mut tx = runner.db.begin().await?;
    let c = client_row(runner, &mut tx, client).await?;
    let planned = crate::schedule::time::resolve(c.tz, at);
    if planned < runner.clock.now() {
        return Err(ActionError::Invalid(format!(
            "{at} has passed in the client's time zone ({})",
            c.tz
        )));
    }
    // A time the navigator chose: quiet hours apply, the client's part of the day does not.
    let due = runner
        .schedule
        .next_open_on(planned, c.tz, c.send_window, None, c.holidays.as_ref());
    let note = format!("rescheduled by {actor}");
    let changed = sqlx::query(
        "UPDATE jobs SET due_at = $1, planned_at = $2, note = $3, status = CASE WHEN status = 'blocked' THEN 'pending' ELSE status END, \
         after_job = NULL, waits_for = NULL, updated_at = $4 \
         WHERE id = (SELECT id FROM jobs WHERE client_id = $5 AND kind = 'step' AND step_id = $6 AND status IN ('pending', 'blocked', 'paused') \
                     ORDER BY occurrence LIMIT 1)",
    )
    .bind(to_ms(due))
    .bind(to_ms(planned))
    .bind(&note)
    .bind(now)
    .bind(client.as_str())
    .bind(step)
    .execute(&mut *tx)
    .await
    .doing("rescheduling a step")?
    .rows_affected();
    if changed == 0 {
        return Err(ActionError::NoSuchStep(client.clone(), step.to_owned()));
    }
    record::audit(
        &mut tx,
        now,
        actor,
        "step-reschedule",
        Some(client),
        &format!("{step} to {}", local_label(to_ms(due), c.tz)),
    )
    .await?;
    tx.commit().await.doing("committing")?;
    Ok((due, local_label(to_ms(due), c.tz)))
}

/// Closes the client's open referral with a reason (goal met, declined, moved…). Recurring steps
/// that run until the referral closes stop at their next occurrence, recorded as cancelled.
pub async fn close_referral(
    runner: &Runner,
    client: &ClientId,
    reason: &str,
    actor: &str,
) -> Result<i64, ActionError> {
    let now = to_ms(runner.clock.now());
    let mut tx = runner.db.begin().await?;
    client_row(runner, &mut tx, client).await?;
    let closed: Option<i64> = sqlx::query_scalar(
        "UPDATE referrals SET closed_at = $1, closing_reason = $2 WHERE id = \
         (SELECT id FROM referrals WHERE client_id = $3 AND closed_at IS NULL ORDER BY id DESC LIMIT 1) RETURNING id",
    )
    .bind(now)
    .bind(reason)
    .bind(client.as_str())
    .fetch_optional(&mut *tx)
    .await
    .doing("closing a referral")?;
    let Some(id) = closed else {
        return Err(ActionError::Invalid(format!(
            "client {client} has no open referral"
        )));
    };
    record::audit(
        &mut tx,
        now,
        actor,
        "referral-close",
        Some(client),
        &format!("referral {id}: {reason}"),
    )
    .await?;
    crate::summaries::write(&mut tx, &runner.catalog, id, "closed", now, actor).await?;
    tx.commit().await.doing("committing")?;
    Ok(id)
}

/// One step of a client's follow-up, past or to come.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    pub job: i64,
    pub sequence: Option<String>,
    pub step: String,
    pub occurrence: i64,
    pub flow: Option<String>,
    pub time_point: Option<String>,
    pub status: String,
    /// When it went out (or was handled), else when it is due; in the client's local time.
    pub when: String,
    pub at: i64,
    pub note: Option<String>,
}

/// The client's scheduled steps, past and to come, in order (the view is audited).
pub async fn timeline(
    runner: &Runner,
    client: &ClientId,
    actor: &str,
) -> Result<Vec<TimelineEntry>, ActionError> {
    let now = to_ms(runner.clock.now());
    let mut tx = runner.db.begin().await?;
    let c = client_row(runner, &mut tx, client).await?;
    let rows = sqlx::query(
        "SELECT j.id, e.sequence_id, j.step_id, j.occurrence, j.flow_id, j.time_point, j.status, j.fired_at, j.due_at, j.note, j.after_job \
         FROM jobs j LEFT JOIN enrolments e ON e.id = j.enrolment_id \
         WHERE j.client_id = $1 AND j.kind = 'step' ORDER BY COALESCE(j.fired_at, j.due_at), j.id",
    )
    .bind(client.as_str())
    .fetch_all(&mut *tx)
    .await
    .doing("reading a client's timeline")?;
    let mut out: Vec<TimelineEntry> = Vec::with_capacity(rows.len());
    // Steps still waiting for the one before them go right after it, in the order they follow.
    let mut waiting = Vec::new();
    for r in rows {
        let g = "reading a client's timeline";
        let status: String = r.try_get(6).doing(g)?;
        let after: Option<i64> = r.try_get(10).doing(g)?;
        let fired: Option<i64> = r.try_get(7).doing(g)?;
        let due: i64 = r.try_get(8).doing(g)?;
        let at = fired.unwrap_or(due);
        let entry = TimelineEntry {
            job: r.try_get(0).doing(g)?,
            sequence: r.try_get(1).doing(g)?,
            step: r
                .try_get::<Option<String>, _>(2)
                .doing(g)?
                .unwrap_or_default(),
            occurrence: r.try_get(3).doing(g)?,
            flow: r.try_get(4).doing(g)?,
            time_point: r.try_get(5).doing(g)?,
            when: if status == "blocked" {
                "after the step before it".into()
            } else {
                local_label(at, c.tz)
            },
            status,
            at,
            note: r.try_get(9).doing(g)?,
        };
        match after {
            Some(a) if entry.status == "blocked" => waiting.push((a, entry)),
            _ => out.push(entry),
        }
    }
    waiting.sort_by_key(|(_, e)| e.job);
    for (after, entry) in waiting {
        let at = out
            .iter()
            .position(|e| e.job == after)
            .map_or(out.len(), |k| k + 1);
        out.insert(at, entry);
    }
    record::audit(
        &mut tx,
        now,
        actor,
        "timeline-view",
        Some(client),
        "scheduled steps",
    )
    .await?;
    tx.commit().await.doing("committing")?;
    Ok(out)
}

/// A client as a navigator adds them (one row of an import).
#[derive(Debug, Clone, Default)]
pub struct ClientSpec {
    pub id: String,
    pub phone: Option<String>,
    pub language: String,
    pub time_zone: Option<String>,
    /// `09:00-20:00`: their own window for scheduled messages.
    pub send_between: Option<String>,
    pub chart_number: Option<String>,
    pub program: Option<String>,
    /// `YYYY-MM-DD`.
    pub referred_on: Option<String>,
    pub reasons: Vec<String>,
    pub sequence: Option<String>,
}

/// A client checked and ready to add.
#[derive(Debug, Clone)]
pub struct Checked {
    pub client: NewClient,
    pub send_window: Option<(u32, u32)>,
    pub referral: Option<NewReferral>,
    pub sequence: Option<String>,
}

/// Checks a client before anything is written: the id, the phone number, a language the centre
/// has enabled, a time zone, a window, a referral date, a known sequence.
pub fn check(runner: &Runner, spec: &ClientSpec) -> Result<Checked, String> {
    let id = ClientId::parse(spec.id.trim()).map_err(|e| e.to_string())?;
    // Without a phone, nothing reaches the client until a number or a Telegram chat is added.
    let reach = match spec
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(p) => Some((
            Channel::Sms,
            PhoneNumber::parse(p)
                .map_err(|e| e.to_string())?
                .to_string(),
        )),
        None => None,
    };
    let wanted = Locale::parse(spec.language.trim()).map_err(|e| e.to_string())?;
    let language = runner.catalog.negotiate(&wanted);
    if language.language() != wanted.language() {
        let enabled: Vec<String> = runner
            .catalog
            .locales()
            .iter()
            .map(ToString::to_string)
            .collect();
        return Err(format!(
            "language {wanted} is not enabled here (enabled: {})",
            enabled.join(", ")
        ));
    }
    let time_zone = match spec
        .time_zone
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(t) => t
            .parse::<Tz>()
            .map_err(|_| format!("time zone {t:?} is not an IANA zone like America/Winnipeg"))?,
        None => runner.centre.time_zone,
    };
    let send_window = match spec
        .send_between
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(w) => {
            let o = crate::schedule::time::OpenHours::parse(w)?;
            Some((o.start, o.end))
        }
        None => None,
    };
    let referred_at = match spec
        .referred_on
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(d) => {
            let date = crate::schedule::time::parse_date(d)?;
            let t = crate::schedule::time::resolve(
                time_zone,
                date.and_hms_opt(12, 0, 0).unwrap_or_default(),
            );
            if t > runner.clock.now() {
                return Err(format!("referral date {d} is in the future"));
            }
            Some(to_ms(t))
        }
        None => None,
    };
    if let Some(s) = &spec.sequence
        && FlowId::parse(s)
            .ok()
            .and_then(|id| runner.sequences.get(&id))
            .is_none()
    {
        return Err(format!("no sequence {s}"));
    }
    let referral = (spec.program.is_some() || referred_at.is_some() || !spec.reasons.is_empty())
        .then(|| NewReferral {
            program: spec.program.clone().filter(|p| !p.trim().is_empty()),
            reasons: spec.reasons.clone(),
            referred_at,
            ..NewReferral::default()
        });
    Ok(Checked {
        client: NewClient {
            id,
            language,
            time_zone,
            chart_number: spec.chart_number.clone().filter(|c| !c.trim().is_empty()),
            reach,
            centre: crate::domain::DEFAULT_CENTRE.into(),
        },
        send_window,
        referral,
        sequence: spec.sequence.clone(),
    })
}

/// Gives a client a mobile number, or a new one: SMS reaches them from now on, and steps held
/// for want of a way to reach them are due at once. A test client of the simulator is refused:
/// only the simulator reaches them. Returns the number in E.164 form.
pub async fn set_phone(
    runner: &Runner,
    client: &ClientId,
    phone: &str,
    actor: &str,
) -> Result<String, ActionError> {
    let number = PhoneNumber::parse(phone)
        .map_err(|e| ActionError::Invalid(e.to_string()))?
        .to_string();
    let now = to_ms(runner.clock.now());
    let mut tx = runner.db.begin().await?;
    let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM clients WHERE id = $1")
        .bind(client.as_str())
        .fetch_optional(&mut *tx)
        .await
        .doing("reading a client")?;
    match kind.as_deref() {
        None => return Err(ActionError::UnknownClient(client.clone())),
        Some("test") => {
            return Err(ActionError::Invalid(format!(
                "{client} is a test client of the simulator: only the simulator reaches them"
            )));
        }
        Some(_) => {}
    }
    let owner: Option<String> = sqlx::query_scalar(
        "SELECT client_id FROM channel_addresses WHERE channel = 'sms' AND address = $1",
    )
    .bind(&number)
    .fetch_optional(&mut *tx)
    .await
    .doing("checking a phone number")?;
    if owner.as_deref().is_some_and(|o| o != client.as_str()) {
        return Err(ActionError::Invalid(format!(
            "{number} is already the number of another client"
        )));
    }
    sqlx::query("DELETE FROM channel_addresses WHERE client_id = $1 AND channel = 'sms'")
        .bind(client.as_str())
        .execute(&mut *tx)
        .await
        .doing("setting a phone number")?;
    // Replies go to the client's newest address: this one.
    let newest: Option<i64> =
        sqlx::query_scalar("SELECT MAX(created_at) FROM channel_addresses WHERE client_id = $1")
            .bind(client.as_str())
            .fetch_one(&mut *tx)
            .await
            .doing("setting a phone number")?;
    sqlx::query("INSERT INTO channel_addresses (channel, address, client_id, created_at) VALUES ('sms', $1, $2, $3)")
        .bind(&number)
        .bind(client.as_str())
        .bind(newest.map_or(now, |n| now.max(n + 1)))
        .execute(&mut *tx)
        .await
        .doing("setting a phone number")?;
    record::audit(
        &mut tx,
        now,
        actor,
        "phone-set",
        Some(client),
        "SMS number set",
    )
    .await?;
    record::channel_added(&mut tx, client, now).await?;
    tx.commit().await.doing("committing")?;
    Ok(number)
}

/// What adding a client did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    New,
    /// The client was there already: nothing changed.
    Existing,
}

/// Adds a checked client (their referral, their window) and enrols them if asked. A client who
/// exists already is left as they are, so an import run twice adds nothing twice.
pub async fn add(runner: &Runner, c: &Checked, actor: &str) -> Result<Added, ActionError> {
    let now = to_ms(runner.clock.now());
    if let Some((channel, address)) = &c.client.reach {
        let taken: Option<String> = sqlx::query_scalar(
            "SELECT client_id FROM channel_addresses WHERE channel = $1 AND address = $2",
        )
        .bind(channel.as_str())
        .bind(address)
        .fetch_optional(runner.db.pool())
        .await
        .doing("checking a phone number")?;
        if let Some(owner) = taken {
            if owner == c.client.id.as_str() {
                return Ok(Added::Existing);
            }
            return Err(ActionError::Invalid(format!(
                "{address} is already the number of another client"
            )));
        }
    }
    if !record::add_client(&runner.db, &c.client, now, actor).await? {
        return Ok(Added::Existing);
    }
    if let Some((a, b)) = c.send_window {
        sqlx::query("UPDATE clients SET send_start = $1, send_end = $2 WHERE id = $3")
            .bind(i64::from(a))
            .bind(i64::from(b))
            .bind(c.client.id.as_str())
            .execute(runner.db.pool())
            .await
            .doing("setting a client's window")?;
    }
    if let Some(r) = &c.referral {
        record::add_referral(&runner.db, &c.client.id, r, now, actor).await?;
    }
    if let Some(s) = &c.sequence {
        enrol(runner, &c.client.id, s, actor).await?;
    }
    Ok(Added::New)
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub added: usize,
    pub already: usize,
    /// Line number (the header is line 1) and why.
    pub rejected: Vec<(usize, String)>,
}

/// The columns an import reads; only `id` and `language` are required.
pub const IMPORT_COLUMNS: &[&str] = &[
    "id",
    "phone",
    "language",
    "time_zone",
    "send_between",
    "chart_number",
    "program",
    "referred_on",
    "reasons",
    "sequence",
];

/// Imports clients from CSV with a header row. Each row is checked, then added on its own: a
/// bad row is reported with its line and the rest go in; a row whose client exists is counted and
/// left alone. `progress` is called after each row with the number of rows done.
pub async fn import<R: std::io::Read>(
    runner: &Runner,
    input: R,
    actor: &str,
    mut progress: impl FnMut(u64),
) -> Result<ImportReport, ActionError> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| ActionError::Invalid(format!("the CSV header cannot be read: {e}")))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase().replace([' ', '-'], "_"))
        .collect();
    for required in ["id", "language"] {
        if !header.iter().any(|h| h == required) {
            return Err(ActionError::Invalid(format!(
                "the CSV header has no {required} column (columns: {})",
                IMPORT_COLUMNS.join(", ")
            )));
        }
    }
    if let Some(unknown) = header
        .iter()
        .find(|h| !IMPORT_COLUMNS.contains(&h.as_str()))
    {
        return Err(ActionError::Invalid(format!(
            "unknown column {unknown:?} (columns: {})",
            IMPORT_COLUMNS.join(", ")
        )));
    }
    let col = |rec: &csv::StringRecord, name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .and_then(|k| rec.get(k))
            .map(str::to_owned)
            .filter(|v| !v.is_empty())
    };
    let mut report = ImportReport::default();
    let mut seen = std::collections::HashSet::new();
    let mut done = 0u64;
    for (k, rec) in rdr.records().enumerate() {
        let line = k + 2;
        done += 1;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                report.rejected.push((line, format!("unreadable row: {e}")));
                progress(done);
                continue;
            }
        };
        let spec = ClientSpec {
            id: col(&rec, "id").unwrap_or_default(),
            phone: col(&rec, "phone"),
            language: col(&rec, "language").unwrap_or_default(),
            time_zone: col(&rec, "time_zone"),
            send_between: col(&rec, "send_between"),
            chart_number: col(&rec, "chart_number"),
            program: col(&rec, "program"),
            referred_on: col(&rec, "referred_on"),
            reasons: col(&rec, "reasons")
                .map(|r| {
                    r.split([';', '|'])
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            sequence: col(&rec, "sequence"),
        };
        let checked = match check(runner, &spec) {
            Ok(c) => c,
            Err(e) => {
                report.rejected.push((line, e));
                progress(done);
                continue;
            }
        };
        if !seen.insert(checked.client.id.clone()) {
            report.rejected.push((
                line,
                format!("client {} appears twice in the file", checked.client.id),
            ));
            progress(done);
            continue;
        }
        match add(runner, &checked, actor).await {
            Ok(Added::New) => report.added += 1,
            Ok(Added::Existing) => report.already += 1,
            Err(ActionError::Store(e)) => return Err(ActionError::Store(e)),
            Err(e) => report.rejected.push((line, e.to_string())),
        }
        progress(done);
    }
    Ok(report)
}

/// Steps of a client's enrolments, for a check that the same step is not planned twice.
pub async fn steps_planned(
    runner: &Runner,
    client: &ClientId,
) -> Result<Vec<(String, i64, String)>, StoreError> {
    let rows = sqlx::query("SELECT step_id, occurrence, status FROM jobs WHERE client_id = $1 AND kind = 'step' ORDER BY id")
        .bind(client.as_str())
        .fetch_all(runner.db.pool())
        .await
        .doing("reading scheduled steps")?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<Option<String>, _>(0)?.unwrap_or_default(),
                r.try_get(1)?,
                r.try_get(2)?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .doing("reading scheduled steps")
}
