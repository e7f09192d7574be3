//! Follow-up sequences and the scheduler. A navigator enrols a client in a sequence; each step
//! becomes a durable job row, due at a decent hour in the client's own time zone. The scheduler
//! takes due jobs in batches and the runner runs each batch in the transaction that took it:
//! it starts the flow,
//! moves the step out of quiet hours, waits, skips or cancels it — and records which, and why.

pub mod sequence;
pub mod time;

use crate::clock::from_ms;
use crate::config::ScheduleSettings;
use crate::domain::ClientId;
pub use crate::domain::{DueJob, NewJob};
pub use crate::store::jobs::{claim, claim_sql, insert_jobs};

use crate::store::{Backend, Doing, StoreError, Tx};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sequence::{Anchor, SeqStep, Until};
use sqlx::Row;
use std::collections::BTreeSet;

use time::{OpenHours, next_open, resolve};

/// Why an action on a client's plan (enrol, pause, move a step…) was refused.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("no client {0}")]
    UnknownClient(ClientId),
    #[error("no sequence {0}; the sequences are: {1}")]
    UnknownSequence(String, String),
    #[error("client {0} is already enrolled in {1}")]
    AlreadyEnrolled(ClientId, String),
    #[error("client {0} is not enrolled in any running sequence")]
    NotEnrolled(ClientId),
    #[error("client {0} has opted out: nothing can be scheduled until they opt back in")]
    OptedOut(ClientId),
    #[error("client {0} has no step {1} still to come")]
    NoSuchStep(ClientId, String),
    /// The client's centre does not offer that flow or sequence.
    #[error("client {0}'s centre does not offer the {1} {2}")]
    NotOffered(ClientId, &'static str, String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The scheduler's settings, checked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub open: OpenHours,
    pub holidays: BTreeSet<NaiveDate>,
    pub late_after: Duration,
    pub lease: Duration,
    pub batch: usize,
    /// Batches worked side by side on Postgres.
    pub workers: usize,
    pub tick: std::time::Duration,
    /// How long a step that waits for another flow to end waits before it looks again.
    pub recheck: Duration,
    /// The parts of the day a client may choose: `morning`, `afternoon`, `evening`.
    pub parts: Vec<(String, OpenHours)>,
    /// The sequence each level of support gets: `(level, sequence)`.
    pub levels: Vec<(String, String)>,
}

/// The parts of the day a client may give as their best time, as the consent flow's answers
/// name them (`any-time` is none of them).
pub const BEST_TIMES: [&str; 4] = ["morning", "afternoon", "evening", "any-time"];

impl Default for Settings {
    fn default() -> Self {
        Self::from_config(&ScheduleSettings::default())
            .unwrap_or_else(|_| unreachable!("the default schedule settings are valid"))
    }
}

impl Settings {
    pub fn from_config(c: &ScheduleSettings) -> Result<Self, String> {
        let open =
            OpenHours::parse(&c.send_between).map_err(|e| format!("schedule.send_between: {e}"))?;
        let holidays = c
            .holidays
            .iter()
            .map(|d| time::parse_date(d).map_err(|e| format!("schedule.holidays: {e}")))
            .collect::<Result<_, _>>()?;
        if c.batch == 0 {
            return Err("schedule.batch must be at least 1".into());
        }
        let mut parts = Vec::new();
        for (name, v) in [
            ("morning", &c.morning),
            ("afternoon", &c.afternoon),
            ("evening", &c.evening),
        ] {
            parts.push((
                name.to_owned(),
                OpenHours::parse(v).map_err(|e| format!("schedule.{name}: {e}"))?,
            ));
        }
        Ok(Self {
            open,
            holidays,
            late_after: Duration::minutes(i64::from(c.late_after_minutes)),
            lease: Duration::seconds(i64::from(c.lease_seconds.max(1))),
            batch: c.batch,
            workers: c.workers,
            tick: std::time::Duration::from_millis(c.tick_ms.max(10)),
            recheck: Duration::hours(6),
            parts,
            levels: crate::config::SupportSettings::default().pairs(),
        })
    }

    /// The sequence of a level of support.
    #[must_use]
    pub fn sequence_for(&self, level: &str) -> Option<&str> {
        self.levels
            .iter()
            .find(|(l, _)| l == level)
            .map(|(_, s)| s.as_str())
    }

    /// The window that applies to a client: their own, or the centre's.
    #[must_use]
    pub fn window(&self, own: Option<(u32, u32)>) -> OpenHours {
        match own {
            Some((start, end)) if end > start && end <= 24 * 60 => OpenHours { start, end },
            _ => self.open.clone(),
        }
    }

    /// The hours a client gets scheduled messages in: their own window or the centre's,
    /// narrowed to the part of the day they chose (when that leaves any time: quiet hours win).
    #[must_use]
    pub fn hours_for(&self, own: Option<(u32, u32)>, best: Option<&str>) -> OpenHours {
        let base = self.window(own);
        let Some((_, part)) = best.and_then(|b| self.parts.iter().find(|(n, _)| n == b)) else {
            return base;
        };
        let (start, end) = (base.start.max(part.start), base.end.min(part.end));
        if end > start {
            OpenHours { start, end }
        } else {
            base
        }
    }

    /// The first instant at or after `t` when a client may get a scheduled message.
    #[must_use]
    pub fn next_open(
        &self,
        t: DateTime<Utc>,
        tz: Tz,
        own: Option<(u32, u32)>,
        best: Option<&str>,
    ) -> DateTime<Utc> {
        self.next_open_on(t, tz, own, best, None)
    }

    /// [`Self::next_open`] for a client of a centre with holidays of its own (`holidays`: in
    /// place of the deployment's).
    #[must_use]
    pub fn next_open_on(
        &self,
        t: DateTime<Utc>,
        tz: Tz,
        own: Option<(u32, u32)>,
        best: Option<&str>,
        holidays: Option<&BTreeSet<NaiveDate>>,
    ) -> DateTime<Utc> {
        next_open(
            t,
            tz,
            &self.hours_for(own, best),
            holidays.unwrap_or(&self.holidays),
        )
    }

    /// When a step planned for `p` goes out. For a client who chose a part of the day, the
    /// step moves into it on the same local day — the Monday 10:00 check-in goes on Monday
    /// evening for an evening client, a 14:00 one on that morning for a morning client — but
    /// never before `not_before`; then to the first open moment.
    #[must_use]
    pub fn place(
        &self,
        p: DateTime<Utc>,
        tz: Tz,
        own: Option<(u32, u32)>,
        best: Option<&str>,
        not_before: DateTime<Utc>,
    ) -> DateTime<Utc> {
        self.place_on(p, tz, own, best, not_before, None)
    }

    /// [`Self::place`] for a client of a centre with holidays of its own.
    #[must_use]
    pub fn place_on(
        &self,
        p: DateTime<Utc>,
        tz: Tz,
        own: Option<(u32, u32)>,
        best: Option<&str>,
        not_before: DateTime<Utc>,
        holidays: Option<&BTreeSet<NaiveDate>>,
    ) -> DateTime<Utc> {
        let hours = self.hours_for(own, best);
        let chose = best.is_some_and(|b| self.parts.iter().any(|(n, _)| n == b));
        let l = time::local(tz, p);
        let minute = chrono::Timelike::hour(&l) * 60 + chrono::Timelike::minute(&l);
        let p = if chose && minute >= hours.end {
            let start = l
                .date()
                .and_hms_opt(hours.start / 60, hours.start % 60, 0)
                .unwrap_or(l);
            resolve(tz, start).max(not_before)
        } else {
            p
        };
        next_open(p, tz, &hours, holidays.unwrap_or(&self.holidays))
    }
}

/// A centre's holidays as stored (comma-separated dates): none when it lists none (then the
/// deployment's apply). A date that does not parse is left out (they are checked when set).
#[must_use]
pub fn holidays_of(listed: Option<&str>) -> Option<BTreeSet<NaiveDate>> {
    let set: BTreeSet<NaiveDate> = listed?
        .split(',')
        .filter_map(|d| time::parse_date(d.trim()).ok())
        .collect();
    (!set.is_empty()).then_some(set)
}

/// Why a step or nudge was moved: out of quiet hours, or into the part of the day the client
/// chose (`moved to the client's evening`).
#[must_use]
pub fn moved_note(best: Option<&str>, settings: &Settings) -> String {
    match best.filter(|b| settings.parts.iter().any(|(n, _)| n == b)) {
        Some(b) => format!("moved to the client's {b}"),
        None => "moved out of quiet hours".into(),
    }
}

/// The note on a step stopped by the referral's uptake.
#[must_use]
pub fn stopped_note(uptake: &str) -> String {
    format!("stopped: the referral's uptake is {uptake}")
}

/// The referral's uptake became `uptake`: every step still to come of the client's running
/// enrolments that declares it in `stop_when` is cancelled, and says why; the steps that were to
/// follow one of them are due now. Returns how many steps stopped.
pub async fn stop_for_uptake(
    tx: &mut Tx,
    b: Backend,
    sequences: &sequence::SequenceSet,
    client: &str,
    uptake: &str,
    now: i64,
) -> Result<u64, StoreError> {
    let rows = sqlx::query(
        "SELECT j.id, e.sequence_id, j.step_id FROM jobs j JOIN enrolments e ON e.id = j.enrolment_id \
         WHERE j.client_id = $1 AND j.kind = 'step' AND j.status IN ('pending', 'blocked', 'paused') \
           AND e.status IN ('active', 'paused')",
    )
    .bind(client)
    .fetch_all(&mut **tx)
    .await
    .doing("reading the steps an uptake may stop")?;
    let mut stop = Vec::new();
    for r in rows {
        let id: i64 = r.try_get(0).doing("reading the steps an uptake may stop")?;
        let seq: String = r.try_get(1).doing("reading the steps an uptake may stop")?;
        let step: Option<String> = r.try_get(2).doing("reading the steps an uptake may stop")?;
        let declares = crate::domain::FlowId::parse(&seq)
            .ok()
            .and_then(|s| sequences.get(&s))
            .zip(step.and_then(|s| crate::domain::StepId::parse(&s).ok()))
            .and_then(|(s, st)| s.step(&st))
            .is_some_and(|st| st.stop_when.iter().any(|u| u == uptake));
        if declares {
            stop.push(id);
        }
    }
    if stop.is_empty() {
        return Ok(0);
    }
    let p = |k: usize, n: usize| crate::store::sql::list_from(b, k, n);
    let sql = format!(
        "UPDATE jobs SET status = 'cancelled', note = {}, lease_until = NULL, claim_token = NULL, updated_at = {} \
         WHERE id IN ({})",
        p(1, 1),
        p(2, 1),
        p(3, stop.len())
    );
    let mut q = sqlx::query(&sql).bind(stopped_note(uptake)).bind(now);
    for id in &stop {
        q = q.bind(*id);
    }
    let n = q
        .execute(&mut **tx)
        .await
        .doing("stopping steps")?
        .rows_affected();
    let sql = format!(
        "UPDATE jobs SET status = 'pending', due_at = {now} + COALESCE(delay_ms, 0), planned_at = {now} + COALESCE(delay_ms, 0), \
         updated_at = {now} WHERE status = 'blocked' AND after_job IN ({})",
        p(1, stop.len())
    );
    let mut q = sqlx::query(&sql);
    for id in &stop {
        q = q.bind(*id);
    }
    q.execute(&mut **tx)
        .await
        .doing("releasing the steps after stopped ones")?;
    Ok(n)
}

/// When a step's first occurrence is planned, as an instant (before quiet hours), or `None` for
/// a step that follows the one before it, or a recurring step that has already ended.
#[must_use]
pub fn first_planned(
    step: &SeqStep,
    tz: Tz,
    enrolled: DateTime<Utc>,
    referred: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let anchor = match step.anchor {
        Anchor::Previous => return None,
        Anchor::Enrolment => enrolled,
        Anchor::Referral => referred.unwrap_or(enrolled),
    };
    let base = step.offset.after(time::local(tz, anchor));
    match &step.recurring {
        None => {
            let local = match step.at {
                Some(m) => base.date().and_hms_opt(m / 60, m % 60, 0).unwrap_or(base),
                None => base,
            };
            Some(resolve(tz, local))
        }
        Some(r) => {
            // Occurrences start from the anchor or the enrolment, whichever is later: the count
            // is of check-ins the client gets.
            let from = base.max(time::local(tz, enrolled)) - Duration::seconds(1);
            let next = r.every.next_local(from)?;
            if let Some(Until::Date(d)) = r.until
                && next.date() > d
            {
                return None;
            }
            Some(resolve(tz, next))
        }
    }
}

/// The occurrence of a recurring step after the one planned at `planned`, if it has not ended.
#[must_use]
pub fn next_occurrence(
    step: &SeqStep,
    tz: Tz,
    planned: DateTime<Utc>,
    occurrence: i64,
) -> Option<DateTime<Utc>> {
    let r = step.recurring.as_ref()?;
    if let Some(count) = r.count
        && occurrence + 1 >= i64::from(count)
    {
        return None;
    }
    let mut next = time::local(tz, planned);
    for _ in 0..r.interval.max(1) {
        next = r.every.next_local(next)?;
    }
    if let Some(Until::Date(d)) = r.until
        && next.date() > d
    {
        return None;
    }
    Some(resolve(tz, next))
}

/// The instant `ms` as the client reads it, for notes and timelines.
#[must_use]
pub fn local_label(ms: i64, tz: Tz) -> String {
    from_ms(ms)
        .with_timezone(&tz)
        .format("%a %Y-%m-%d %H:%M %Z")
        .to_string()
}
