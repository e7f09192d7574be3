//! A client's months on a virtual clock: enrol them in a sequence, jump from one due job (or one
//! reply) to the next, and write down what happened — every message in the client's local time,
//! every nudge, skip, flag and score. `matters simulate --sequence` prints it; the tests read it.

use crate::clock::{ManualClock, from_ms, to_ms};
use crate::domain::{Channel, ClientId, Locale};
use crate::flow::def::{AnswerKind, StepKind};
use crate::runner::{Inbound, Runner};
use crate::store::record::{self, NewClient, NewReferral};
use crate::store::{Doing, StoreError};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use sqlx::Row;
use std::collections::VecDeque;

/// What the simulated client does.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// Replies to questions, in order; `None` is a silence (the question goes unanswered).
    pub answers: VecDeque<Option<String>>,
    /// Messages sent at a time of their own: days after the start (and minutes into that day
    /// after the start's time of day).
    pub timed: Vec<(Duration, String)>,
    /// When the script's answers run out: answer every question (the first option), or stay
    /// silent.
    pub then_silent: bool,
    /// Replies to one question (`flow/step`), the nth time it is asked (0: every time); they
    /// come before the replies in order, which they leave untouched.
    pub keyed: Vec<(String, u32, Option<String>)>,
}

impl Script {
    /// Reads a script: one reply per line, answering the questions in the order they come;
    /// `(silence)` leaves a question unanswered; `@DAY text` (or `@DAY HH:MM text`) sends text
    /// on that day after the start whatever is asked; `[flow/step #N] text` answers that
    /// question the Nth time it is asked (`[flow/step] text`: every time; `(silence)` for text
    /// leaves it unanswered); `(silent from here)` stops the generated answers; `#` starts a
    /// comment.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut s = Self::default();
        for (k, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let bad = || format!("line {}: [flow/step #N] needs a reply after it", k + 1);
                let (key, text) = rest.split_once(']').ok_or_else(bad)?;
                let text = text.trim();
                if text.is_empty() {
                    return Err(bad());
                }
                let (key, nth) = match key.split_once('#') {
                    Some((key, n)) => (
                        key.trim(),
                        n.trim()
                            .parse::<u32>()
                            .ok()
                            .filter(|n| *n >= 1)
                            .ok_or_else(|| format!("line {}: #{n} is not a count from 1", k + 1))?,
                    ),
                    None => (key.trim(), 0),
                };
                if !key.contains('/') {
                    return Err(format!("line {}: {key:?} is not flow/step", k + 1));
                }
                let reply = (text != "(silence)").then(|| text.to_owned());
                s.keyed.push((key.to_owned(), nth, reply));
            } else if line == "(silence)" {
                s.answers.push_back(None);
            } else if line == "(silent from here)" {
                s.then_silent = true;
            } else if let Some(rest) = line.strip_prefix('@') {
                let (day, rest) = rest
                    .split_once(' ')
                    .ok_or_else(|| format!("line {}: @DAY needs a message", k + 1))?;
                let day: i64 = day
                    .parse()
                    .ok()
                    .filter(|d| (0..=3660).contains(d))
                    .ok_or_else(|| {
                        format!("line {}: {day:?} is not a day from 0 to 3660", k + 1)
                    })?;
                let (at, text) = match rest.trim().split_once(' ') {
                    Some((hm, t)) if crate::schedule::time::minutes(hm).is_some() => {
                        (crate::schedule::time::minutes(hm).map(i64::from), t)
                    }
                    _ => (None, rest.trim()),
                };
                s.timed.push((
                    Duration::days(day) + Duration::minutes(at.unwrap_or(0)),
                    text.to_owned(),
                ));
            } else {
                s.answers.push_back(Some(line.to_owned()));
            }
        }
        Ok(s)
    }
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub at: DateTime<Utc>,
    /// `out`, `nudge`, `in`, `skip`, `cancel`, `flag`, `score`, `start`.
    pub kind: &'static str,
    /// Message key, flag kind, instrument, step.
    pub what: String,
    pub detail: String,
}

/// A simulated client.
#[derive(Debug, Clone)]
pub struct Options {
    pub sequence: String,
    pub days: i64,
    pub language: Locale,
    pub time_zone: Tz,
    pub start: DateTime<Utc>,
    pub client: ClientId,
    /// How long the client takes to reply to a question.
    pub reply_after: Duration,
    pub script: Script,
}

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Action(#[from] super::actions::ActionError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Run(#[from] crate::runner::RunError),
}

/// What the client is waiting to answer.
struct Waiting {
    session: i64,
    flow: String,
    step: String,
    asked_at: i64,
    answer: AnswerKind,
    /// The first option as the client sees it.
    first: Option<String>,
}

/// The whole simulation. `runner` must run on `clock`.
pub async fn run(
    runner: &Runner,
    clock: &ManualClock,
    mut o: Options,
) -> Result<Vec<Line>, SimError> {
    // Ten years at most: a virtual clock still has to stop somewhere.
    o.days = o.days.clamp(0, 3660);
    clock.set(o.start);
    let now = to_ms(o.start);
    let new = NewClient {
        id: o.client.clone(),
        language: runner.catalog.negotiate(&o.language),
        time_zone: o.time_zone,
        chart_number: None,
        reach: Some((Channel::Simulator, o.client.to_string())),
        centre: crate::domain::DEFAULT_CENTRE.into(),
    };
    record::add_client(&runner.db, &new, now, "simulate").await?;
    record::add_referral(
        &runner.db,
        &o.client,
        &NewReferral {
            program: Some("the walking group".into()),
            ..NewReferral::default()
        },
        now,
        "simulate",
    )
    .await?;
    super::actions::enrol(runner, &o.client, &o.sequence, "simulate").await?;
    let end = o.start + Duration::days(o.days);
    let mut lines = Vec::new();
    let mut seen = Seen::default();
    let mut answered: Option<(i64, String)> = None;
    let mut asked: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let mut pending_reply: Option<(DateTime<Utc>, Option<String>)> = None;
    o.script.timed.sort_by_key(|t| t.0);
    let mut timed: VecDeque<(DateTime<Utc>, String)> = o
        .script
        .timed
        .iter()
        .map(|(d, t)| (o.start + *d, t.clone()))
        .collect();
    let mut n = 0u32;
    loop {
        n += 1;
        if n > 100_000 {
            break;
        }
        crate::loops::scheduler::tick(runner, 1000).await?;
        seen.collect(runner, &o.client, &mut lines).await?;
        // A question just asked gets its reply (or its silence) planned.
        if let Some(w) = waiting(runner, &o.client).await?
            && answered.as_ref() != Some(&(w.session, w.step.clone()))
        {
            answered = Some((w.session, w.step.clone()));
            let key = format!("{}/{}", w.flow, w.step);
            let count = asked.entry(key.clone()).or_insert(0);
            *count += 1;
            let keyed = o
                .script
                .keyed
                .iter()
                .find(|(k, nth, _)| *k == key && (*nth == 0 || *nth == *count))
                .map(|(_, _, r)| r.clone());
            let reply = match keyed {
                Some(r) => r,
                None => match o.script.answers.pop_front() {
                    Some(r) => r,
                    None if o.script.then_silent => None,
                    None => Some(generated(runner, &w, &o.language)),
                },
            };
            pending_reply = Some((
                from_ms(w.asked_at).max(runner.clock.now()) + o.reply_after,
                reply,
            ));
        }
        let next_job = next_due(runner).await?;
        let next_reply = pending_reply
            .as_ref()
            .filter(|(_, r)| r.is_some())
            .map(|(t, _)| *t);
        let next_timed = timed.front().map(|(t, _)| *t);
        let Some(t) = [next_job, next_reply, next_timed]
            .into_iter()
            .flatten()
            .min()
        else {
            break;
        };
        if t > end {
            break;
        }
        clock.set(t);
        if next_timed == Some(t) {
            if let Some((_, text)) = timed.pop_front() {
                say(runner, &o.client, &text, &mut lines).await?;
            }
        } else if next_reply == Some(t)
            && let Some((_, Some(text))) = pending_reply.take()
        {
            say(runner, &o.client, &text, &mut lines).await?;
        }
    }
    Ok(lines)
}

async fn say(
    runner: &Runner,
    client: &ClientId,
    text: &str,
    lines: &mut Vec<Line>,
) -> Result<(), SimError> {
    let now = runner.clock.now();
    lines.push(Line {
        at: now,
        kind: "in",
        what: String::new(),
        detail: text.to_owned(),
    });
    let id = format!("sim-{}-{}", to_ms(now), lines.len());
    runner
        .receive(&Inbound::new(
            Channel::Simulator,
            client.clone(),
            Some(id),
            text,
        ))
        .await?;
    Ok(())
}

/// A plausible answer: the first option, the lowest point of a scale, the client's language.
fn generated(runner: &Runner, w: &Waiting, language: &Locale) -> String {
    match &w.answer {
        AnswerKind::Choice(_) => "1".into(),
        AnswerKind::YesNo => w.first.clone().unwrap_or_else(|| "yes".into()),
        AnswerKind::Scale { min, max } => ((min + max) / 2).to_string(),
        AnswerKind::Text => "ok".into(),
        AnswerKind::Date => (runner.clock.now() + Duration::days(7))
            .format("%Y-%m-%d")
            .to_string(),
        AnswerKind::Language => runner
            .catalog
            .format(
                &runner.catalog.negotiate(language),
                "language-name",
                &crate::i18n::Vars::new(),
            )
            .unwrap_or_else(|_| language.to_string()),
    }
}

async fn waiting(runner: &Runner, client: &ClientId) -> Result<Option<Waiting>, StoreError> {
    let row = sqlx::query(
        "SELECT s.id, s.state, m.created_at FROM sessions s LEFT JOIN messages m ON m.id = s.prompt_message_id \
         WHERE s.client_id = $1 AND s.status = 'active'",
    )
    .bind(client.as_str())
    .fetch_optional(runner.db.pool())
    .await
    .doing("reading the simulated session")?;
    let Some(row) = row else { return Ok(None) };
    let g = "reading the simulated session";
    let state: crate::flow::engine::Session =
        serde_json::from_str(&row.try_get::<String, _>(1).doing(g)?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let Some(step) = state.awaiting.clone() else {
        return Ok(None);
    };
    let flow = runner
        .flows
        .revision(&state.flow, &state.revision)
        .or_else(|| runner.flows.get(&state.flow));
    let ask = flow
        .as_ref()
        .and_then(|f| f.step(&step).map(|s| s.kind.clone()))
        .and_then(|k| match k {
            StepKind::Ask(a) => Some(a),
            _ => None,
        });
    let answer = ask.as_ref().map_or(AnswerKind::Text, |a| a.answer.clone());
    let vars = crate::i18n::Vars::new();
    let first = ask.and_then(|a| {
        crate::flow::matching::choices(&a, &runner.catalog, &state.locale, &vars)
            .into_iter()
            .next()
            .map(|m| m.label)
    });
    Ok(Some(Waiting {
        flow: state.flow.to_string(),
        session: row.try_get(0).doing(g)?,
        step: step.to_string(),
        asked_at: row
            .try_get::<Option<i64>, _>(2)
            .doing(g)?
            .unwrap_or_default(),
        answer,
        first,
    }))
}

async fn next_due(runner: &Runner) -> Result<Option<DateTime<Utc>>, StoreError> {
    let t: Option<i64> =
        sqlx::query_scalar("SELECT MIN(due_at) FROM jobs WHERE status IN ('pending', 'running')")
            .fetch_one(runner.db.pool())
            .await
            .doing("finding the next due job")?;
    Ok(t.map(from_ms))
}

/// The last row of each kind already written down.
#[derive(Default)]
struct Seen {
    message: i64,
    flag: i64,
    score: i64,
    job_at: i64,
    jobs: std::collections::HashSet<(i64, String)>,
}

impl Seen {
    async fn collect(
        &mut self,
        runner: &Runner,
        client: &ClientId,
        lines: &mut Vec<Line>,
    ) -> Result<(), StoreError> {
        let g = "reading the simulated timeline";
        let mut found: Vec<(i64, u8, Line)> = Vec::new();
        let rows = sqlx::query(
            "SELECT m.id, m.created_at, m.message_key, m.body, m.status, s.flow_id, s.time_point FROM messages m LEFT JOIN sessions s ON s.id = m.session_id \
             WHERE m.client_id = $1 AND m.direction = 'out' AND m.id > $2 ORDER BY m.id",
        )
        .bind(client.as_str())
        .bind(self.message)
        .fetch_all(runner.db.pool())
        .await
        .doing(g)?;
        for r in rows {
            let id: i64 = r.try_get(0).doing(g)?;
            self.message = id;
            let key: Option<String> = r.try_get(2).doing(g)?;
            let key = key.unwrap_or_default();
            let flow: Option<String> = r.try_get(5).doing(g)?;
            let tp: Option<String> = r.try_get(6).doing(g)?;
            let status: String = r.try_get(4).doing(g)?;
            let what = match (&flow, &tp) {
                (Some(f), Some(t)) => format!("{f}[{t}]/{key}"),
                (Some(f), None) => format!("{f}/{key}"),
                _ => key.clone(),
            };
            let mut detail: String = r.try_get(3).doing(g)?;
            if status == "suppressed" {
                detail = format!("(not sent: opted out) {detail}");
            }
            found.push((
                r.try_get(1).doing(g)?,
                0,
                Line {
                    at: from_ms(r.try_get(1).doing(g)?),
                    kind: if key.starts_with("nudge") {
                        "nudge"
                    } else {
                        "out"
                    },
                    what,
                    detail,
                },
            ));
        }
        let rows = sqlx::query("SELECT id, created_at, kind, urgency, note FROM flags WHERE client_id = $1 AND id > $2 ORDER BY id")
            .bind(client.as_str())
            .bind(self.flag)
            .fetch_all(runner.db.pool())
            .await
            .doing(g)?;
        for r in rows {
            self.flag = r.try_get(0).doing(g)?;
            let at: i64 = r.try_get(1).doing(g)?;
            let urgency: String = r.try_get(3).doing(g)?;
            let note: Option<String> = r.try_get(4).doing(g)?;
            found.push((
                at,
                1,
                Line {
                    at: from_ms(at),
                    kind: "flag",
                    what: r.try_get(2).doing(g)?,
                    detail: format!("{urgency}: {}", note.unwrap_or_default()),
                },
            ));
        }
        let rows = sqlx::query(
            "SELECT id, at, instrument, time_point, total, category, complete FROM scores WHERE client_id = $1 AND id > $2 ORDER BY id",
        )
        .bind(client.as_str())
        .bind(self.score)
        .fetch_all(runner.db.pool())
        .await
        .doing(g)?;
        for r in rows {
            self.score = r.try_get(0).doing(g)?;
            let at: i64 = r.try_get(1).doing(g)?;
            let total: Option<i64> = r.try_get(4).doing(g)?;
            let category: Option<String> = r.try_get(5).doing(g)?;
            let complete: i64 = r.try_get(6).doing(g)?;
            let tp: Option<String> = r.try_get(3).doing(g)?;
            let value = total
                .map(|t| t.to_string())
                .or(category)
                .unwrap_or_else(|| "-".into());
            found.push((
                at,
                2,
                Line {
                    at: from_ms(at),
                    kind: "score",
                    what: r.try_get(2).doing(g)?,
                    detail: format!(
                        "{value} at {}{}",
                        tp.unwrap_or_else(|| "-".into()),
                        if complete == 1 { "" } else { " (incomplete)" }
                    ),
                },
            ));
        }
        let rows = sqlx::query(
            "SELECT id, fired_at, step_id, occurrence, status, note FROM jobs WHERE client_id = $1 AND kind = 'step' \
             AND status IN ('skipped', 'cancelled') AND fired_at >= $2 ORDER BY fired_at, id",
        )
        .bind(client.as_str())
        .bind(self.job_at)
        .fetch_all(runner.db.pool())
        .await
        .doing(g)?;
        for r in rows {
            let id: i64 = r.try_get(0).doing(g)?;
            let status: String = r.try_get(4).doing(g)?;
            if !self.jobs.insert((id, status.clone())) {
                continue;
            }
            let at: Option<i64> = r.try_get(1).doing(g)?;
            let at = at.unwrap_or_default();
            self.job_at = self.job_at.max(at);
            let occ: i64 = r.try_get(3).doing(g)?;
            let step: Option<String> = r.try_get(2).doing(g)?;
            let step = step.unwrap_or_default();
            let note: Option<String> = r.try_get(5).doing(g)?;
            found.push((
                at,
                3,
                Line {
                    at: from_ms(at),
                    kind: if status == "skipped" {
                        "skip"
                    } else {
                        "cancel"
                    },
                    what: if occ > 0 {
                        format!("{step} #{}", occ + 1)
                    } else {
                        step
                    },
                    detail: note.unwrap_or_default(),
                },
            ));
        }
        // Jobs cancelled by an opt-out carry no fired_at: they show once, at the opt-out.
        let rows = sqlx::query(
            "SELECT id, updated_at, step_id, occurrence, note FROM jobs WHERE client_id = $1 AND kind = 'step' AND status = 'cancelled' AND fired_at IS NULL ORDER BY id",
        )
        .bind(client.as_str())
        .fetch_all(runner.db.pool())
        .await
        .doing(g)?;
        for r in rows {
            let id: i64 = r.try_get(0).doing(g)?;
            if !self.jobs.insert((id, "cancelled".into())) {
                continue;
            }
            let at: i64 = r.try_get(1).doing(g)?;
            let occ: i64 = r.try_get(3).doing(g)?;
            let step: Option<String> = r.try_get(2).doing(g)?;
            let step = step.unwrap_or_default();
            let note: Option<String> = r.try_get(4).doing(g)?;
            found.push((
                at,
                3,
                Line {
                    at: from_ms(at),
                    kind: "cancel",
                    what: if occ > 0 {
                        format!("{step} #{}", occ + 1)
                    } else {
                        step
                    },
                    detail: note.unwrap_or_default(),
                },
            ));
        }
        found.sort_by_key(|(at, order, _)| (*at, *order));
        lines.extend(found.into_iter().map(|(_, _, l)| l));
        Ok(())
    }
}

/// The timeline as text, in the client's local time.
#[must_use]
pub fn render(lines: &[Line], tz: Tz) -> String {
    let mut out = String::new();
    for l in lines {
        let when = l.at.with_timezone(&tz).format("%a %Y-%m-%d %H:%M %Z");
        let detail: String = l.detail.replace('\n', " / ");
        let detail = if detail.chars().count() > 90 {
            format!("{}…", detail.chars().take(89).collect::<String>())
        } else {
            detail
        };
        let what = if l.what.is_empty() {
            String::new()
        } else {
            format!("{} ", l.what)
        };
        out.push_str(&format!("{when}  {:<6} {what}{detail}\n", l.kind));
    }
    out
}
