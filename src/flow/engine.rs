//! The conversation engine: a pure function of (flow, session state, input, now) that returns the
//! new state and the events to apply. No I/O, no clock, no randomness: the runner applies the
//! events in one transaction, and transcript tests replay conversations exactly.

use super::def::{AnswerKind, Ask, Flow, ScoreKind, StepKind, Urgency};
use super::matching::{Matched, choices, match_answer, option_labels};
use crate::domain::{FlowId, Locale, StepId};
use crate::i18n::{Catalog, Missing, Vars};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most steps one input may run through before the engine calls it a loop.
const MAX_STEPS_PER_INPUT: usize = 500;

/// What the engine reads besides the state and the input.
pub struct Ctx<'a> {
    pub flow: &'a Flow,
    pub catalog: &'a Catalog,
    pub vars: &'a Vars,
    pub now: DateTime<Utc>,
    /// The client's time zone (dates like "tomorrow" are theirs).
    pub tz: Tz,
}

/// A client's place in a flow. Stored as JSON beside the session row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub flow: FlowId,
    pub revision: String,
    pub locale: Locale,
    /// The ask waiting for an answer, if any.
    pub awaiting: Option<StepId>,
    #[serde(default)]
    pub attempts: u8,
    #[serde(default)]
    pub nudges_sent: u8,
    /// What was given for each ask so far, for branching and scoring.
    #[serde(default)]
    pub given: BTreeMap<StepId, Given>,
    /// Set when the session is over: `completed`, `declined`, `stopped`, `interrupted`…
    #[serde(default)]
    pub ended: Option<String>,
    /// Every nudge of the waiting question went unanswered and the navigator was told. The
    /// question stays open (a late reply resumes the flow), but a scheduled step due now no
    /// longer waits for it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unanswered: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Given {
    pub value: Option<String>,
    pub score: Option<i64>,
}

/// What happened to an ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnswerStatus {
    Answered,
    Skipped,
    /// Still not understood after the last attempt.
    Invalid,
    /// No reply after every nudge (a late reply is recorded again, as answered).
    NoResponse,
}

impl AnswerStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerStatus::Answered => "answered",
            AnswerStatus::Skipped => "skipped",
            AnswerStatus::Invalid => "invalid",
            AnswerStatus::NoResponse => "no-response",
        }
    }
}

/// An input to a session.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A reply from the client (already past the global handlers).
    Reply(&'a str),
    /// The client asked to skip the current question.
    Skip,
    /// The timeout of an ask fired.
    Timeout(&'a StepId),
    /// Send the current question again (after HELP or a language switch).
    Repeat,
    /// The client tapped the answer at this position (from 0) of the question's buttons
    /// ([`crate::flow::matching::choices`]): nothing to match. The runner checks that the
    /// button belongs to the question now waiting.
    Pick(usize),
}

/// Effects of one input, applied by the runner in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A message to the client. `key` is the Fluent id it was built from; `prompt` marks the
    /// question of an ask (answers point back to it).
    Send {
        key: String,
        text: String,
        prompt: bool,
    },
    Answer {
        step: StepId,
        record: Option<String>,
        raw: String,
        value: Option<String>,
        label: Option<String>,
        score: Option<i64>,
        status: AnswerStatus,
    },
    SetField {
        key: String,
        value: String,
    },
    SetLanguage {
        locale: Locale,
    },
    Consent {
        granted: bool,
        wording: String,
    },
    Score {
        instrument: String,
        total: Option<i64>,
        category: Option<String>,
        complete: bool,
        items: BTreeMap<StepId, Option<i64>>,
    },
    Flag {
        kind: String,
        urgency: Urgency,
        note: Option<String>,
    },
    ScheduleTimeout {
        step: StepId,
        at: DateTime<Utc>,
    },
    CancelTimeout,
    End {
        outcome: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Missing(#[from] Missing),
    #[error("flow {flow} has no step {step}")]
    NoSuchStep { flow: FlowId, step: StepId },
    #[error("flow {0} ran {MAX_STEPS_PER_INPUT} steps without waiting for an answer")]
    Loop(FlowId),
    #[error("session is for flow {session}, not {flow}")]
    WrongFlow { session: FlowId, flow: FlowId },
}

/// The new state and its events.
pub type Outcome = (Session, Vec<Event>);

/// Starts `ctx.flow` for a client speaking `locale`.
pub fn start(ctx: &Ctx<'_>, locale: Locale) -> Result<Outcome, EngineError> {
    let mut s = Session {
        flow: ctx.flow.id.clone(),
        revision: ctx.flow.revision.clone(),
        locale,
        awaiting: None,
        attempts: 0,
        nudges_sent: 0,
        given: BTreeMap::new(),
        ended: None,
        unanswered: false,
    };
    let mut events = Vec::new();
    advance(ctx, &mut s, 0, &mut events)?;
    Ok((s, events))
}

/// Feeds one input to a running session.
pub fn handle(ctx: &Ctx<'_>, session: &Session, input: Input<'_>) -> Result<Outcome, EngineError> {
    if session.flow != ctx.flow.id {
        return Err(EngineError::WrongFlow {
            session: session.flow.clone(),
            flow: ctx.flow.id.clone(),
        });
    }
    let mut s = session.clone();
    let mut events = Vec::new();
    if matches!(input, Input::Reply(_) | Input::Skip | Input::Pick(_)) {
        s.unanswered = false;
    }
    let Some(step_id) = s.awaiting.clone() else {
        return Ok((s, events));
    };
    let pos = ctx
        .flow
        .position(&step_id)
        .ok_or_else(|| no_step(ctx, &step_id))?;
    let StepKind::Ask(ask) = &ctx.flow.steps[pos].kind else {
        return Err(no_step(ctx, &step_id));
    };
    match input {
        Input::Repeat => events.push(prompt(ctx, &s, ask)?),
        Input::Timeout(step) if *step != step_id => {}
        Input::Timeout(_) => timeout(ctx, &mut s, &step_id, ask, &mut events)?,
        Input::Skip => {
            events.push(answer_event(&step_id, ask, "", None, AnswerStatus::Skipped));
            s.given.insert(
                step_id.clone(),
                Given {
                    value: None,
                    score: None,
                },
            );
            let next = follow(ctx, pos, ask.branch.get("_"));
            events.push(Event::CancelTimeout);
            advance(ctx, &mut s, next, &mut events)?;
        }
        Input::Reply(text) => {
            let today = ctx.now.with_timezone(&ctx.tz).date_naive();
            let m = match_answer(ask, text, ctx.catalog, &s.locale, ctx.vars, today);
            reply(ctx, &mut s, pos, ask, text, m, &mut events)?;
        }
        Input::Pick(n) => {
            let m = choices(ask, ctx.catalog, &s.locale, ctx.vars)
                .into_iter()
                .nth(n);
            let raw = m.as_ref().map(|m| m.label.clone()).unwrap_or_default();
            reply(ctx, &mut s, pos, ask, &raw, m, &mut events)?;
        }
    }
    Ok((s, events))
}

/// Ends a session from outside the flow (STOP, a crisis), with no further message.
#[must_use]
pub fn interrupt(session: &Session, outcome: &str) -> Outcome {
    let mut s = session.clone();
    s.awaiting = None;
    s.ended = Some(outcome.to_owned());
    (
        s,
        vec![
            Event::CancelTimeout,
            Event::End {
                outcome: outcome.to_owned(),
            },
        ],
    )
}

fn no_step(ctx: &Ctx<'_>, step: &StepId) -> EngineError {
    EngineError::NoSuchStep {
        flow: ctx.flow.id.clone(),
        step: step.clone(),
    }
}

/// Where to go after step `pos`: an explicit target, else the step's goto, else the next step.
fn follow(ctx: &Ctx<'_>, pos: usize, target: Option<&StepId>) -> usize {
    target
        .or(ctx.flow.steps[pos].goto.as_ref())
        .and_then(|t| ctx.flow.position(t))
        .unwrap_or(pos + 1)
}

/// An answer to `ask`: `matched` when it was understood, else a re-prompt (or, past the attempt
/// limit, the `on_invalid` fallback).
fn reply(
    ctx: &Ctx<'_>,
    s: &mut Session,
    pos: usize,
    ask: &Ask,
    text: &str,
    matched: Option<Matched>,
    events: &mut Vec<Event>,
) -> Result<(), EngineError> {
    let step_id = ctx.flow.steps[pos].id.clone();
    let Some(m) = matched else {
        s.attempts = s.attempts.saturating_add(1);
        if s.attempts < ask.max_attempts {
            events.push(reprompt(ctx, s, ask)?);
            return Ok(());
        }
        events.push(answer_event(
            &step_id,
            ask,
            text,
            None,
            AnswerStatus::Invalid,
        ));
        s.given.insert(
            step_id,
            Given {
                value: None,
                score: None,
            },
        );
        events.push(Event::CancelTimeout);
        let next = follow(ctx, pos, ask.on_invalid.as_ref());
        return advance(ctx, s, next, events);
    };
    let score = ask
        .score
        .get(&m.value)
        .copied()
        .or_else(|| match ask.answer {
            AnswerKind::Scale { .. } => m.value.parse().ok(),
            _ => None,
        });
    events.push(Event::Answer {
        step: step_id.clone(),
        record: ask.record.clone(),
        raw: text.to_owned(),
        value: Some(m.value.clone()),
        label: Some(m.label.clone()),
        score,
        status: AnswerStatus::Answered,
    });
    if ask.consent {
        let wording = ctx.catalog.format(&s.locale, &ask.message, ctx.vars)?;
        events.push(Event::Consent {
            granted: m.value == "yes",
            wording,
        });
    }
    if ask.answer == AnswerKind::Language
        && let Ok(locale) = Locale::parse(&m.value)
    {
        s.locale = locale.clone();
        events.push(Event::SetLanguage { locale });
    }
    if let Some(kind) = &ask.flag {
        events.push(Event::Flag {
            kind: kind.clone(),
            urgency: Urgency::Normal,
            note: Some(m.value.clone()),
        });
    }
    s.given.insert(
        step_id,
        Given {
            value: Some(m.value.clone()),
            score,
        },
    );
    events.push(Event::CancelTimeout);
    let target = ask.branch.get(&m.value).or_else(|| ask.branch.get("_"));
    let next = follow(ctx, pos, target);
    advance(ctx, s, next, events)
}

fn timeout(
    ctx: &Ctx<'_>,
    s: &mut Session,
    step_id: &StepId,
    ask: &Ask,
    events: &mut Vec<Event>,
) -> Result<(), EngineError> {
    let sent = usize::from(s.nudges_sent);
    if let Some(nudge) = ask.nudges.get(sent) {
        let text = ctx.catalog.format(&s.locale, nudge, ctx.vars)?;
        events.push(Event::Send {
            key: nudge.clone(),
            text,
            prompt: false,
        });
        s.nudges_sent = s.nudges_sent.saturating_add(1);
        if let Some(after) = ask.timeout {
            events.push(Event::ScheduleTimeout {
                step: step_id.clone(),
                at: ctx.now + after,
            });
        }
        return Ok(());
    }
    // Nudges are spent: the record says so and the navigator takes over. The question stays
    // open, so a late reply still resumes the flow.
    if s.unanswered {
        return Ok(());
    }
    s.unanswered = true;
    events.push(answer_event(
        step_id,
        ask,
        "",
        None,
        AnswerStatus::NoResponse,
    ));
    events.push(Event::Flag {
        kind: "no-response".into(),
        urgency: Urgency::Normal,
        note: Some(format!("{}/{}", ctx.flow.id, step_id)),
    });
    Ok(())
}

/// Runs steps from `pos` until an ask waits for an answer or the flow ends.
fn advance(
    ctx: &Ctx<'_>,
    s: &mut Session,
    mut pos: usize,
    events: &mut Vec<Event>,
) -> Result<(), EngineError> {
    s.awaiting = None;
    s.attempts = 0;
    s.nudges_sent = 0;
    for _ in 0..MAX_STEPS_PER_INPUT {
        let Some(step) = ctx.flow.steps.get(pos) else {
            finish(ctx, s, "completed", events);
            return Ok(());
        };
        match &step.kind {
            StepKind::Say { message } => {
                let text = ctx.catalog.format(&s.locale, message, ctx.vars)?;
                events.push(Event::Send {
                    key: message.clone(),
                    text,
                    prompt: false,
                });
                pos = follow(ctx, pos, None);
            }
            StepKind::Set { key, value } => {
                events.push(Event::SetField {
                    key: key.clone(),
                    value: value.clone(),
                });
                pos = follow(ctx, pos, None);
            }
            StepKind::Flag {
                kind,
                urgency,
                note,
            } => {
                let note = note
                    .as_ref()
                    .map(|n| ctx.catalog.format(&s.locale, n, ctx.vars))
                    .transpose()?;
                events.push(Event::Flag {
                    kind: kind.clone(),
                    urgency: *urgency,
                    note,
                });
                pos = follow(ctx, pos, None);
            }
            StepKind::Branch { on, cases, default } => {
                let value = s.given.get(on).and_then(|g| g.value.as_ref());
                let target = value.and_then(|v| cases.get(v)).or(default.as_ref());
                pos = follow(ctx, pos, target);
            }
            StepKind::End { outcome } => {
                finish(ctx, s, outcome, events);
                return Ok(());
            }
            StepKind::Ask(ask) => {
                events.push(prompt(ctx, s, ask)?);
                s.awaiting = Some(step.id.clone());
                if let Some(after) = ask.timeout {
                    events.push(Event::ScheduleTimeout {
                        step: step.id.clone(),
                        at: ctx.now + after,
                    });
                }
                return Ok(());
            }
        }
    }
    Err(EngineError::Loop(ctx.flow.id.clone()))
}

fn finish(ctx: &Ctx<'_>, s: &mut Session, outcome: &str, events: &mut Vec<Event>) {
    for def in &ctx.flow.scores {
        let items: BTreeMap<StepId, Option<i64>> = def
            .items
            .iter()
            .map(|i| (i.clone(), s.given.get(i).and_then(|g| g.score)))
            .collect();
        if !def.items.iter().any(|i| s.given.contains_key(i)) {
            continue;
        }
        let complete = items.values().all(Option::is_some);
        let (total, category) = match def.kind {
            ScoreKind::Sum => (complete.then(|| items.values().flatten().sum()), None),
            ScoreKind::Category => (
                None,
                def.items
                    .first()
                    .and_then(|i| s.given.get(i))
                    .and_then(|g| g.value.clone()),
            ),
        };
        let complete = complete || (def.kind == ScoreKind::Category && category.is_some());
        events.push(Event::Score {
            instrument: def.id.clone(),
            total,
            category,
            complete,
            items,
        });
    }
    s.awaiting = None;
    s.ended = Some(outcome.to_owned());
    events.push(Event::End {
        outcome: outcome.to_owned(),
    });
}

/// The question of an ask as the client receives it, with its options numbered where it has a
/// list.
pub fn question(
    catalog: &Catalog,
    locale: &Locale,
    vars: &Vars,
    ask: &Ask,
) -> Result<String, Missing> {
    let mut text = catalog.format(locale, &ask.message, vars)?;
    if matches!(ask.answer, AnswerKind::Choice(_) | AnswerKind::Language) {
        text.push_str(&numbered(&option_labels(ask, catalog, locale, vars)));
    }
    Ok(text)
}

fn prompt(ctx: &Ctx<'_>, s: &Session, ask: &Ask) -> Result<Event, EngineError> {
    let text = question(ctx.catalog, &s.locale, ctx.vars, ask)?;
    Ok(Event::Send {
        key: ask.message.clone(),
        text,
        prompt: true,
    })
}

fn numbered(labels: &[String]) -> String {
    labels
        .iter()
        .enumerate()
        .map(|(i, l)| format!("\n{} {l}", i + 1))
        .collect()
}

/// "Sorry, I didn't understand" with what would be understood.
fn reprompt(ctx: &Ctx<'_>, s: &Session, ask: &Ask) -> Result<Event, EngineError> {
    let mut vars = ctx.vars.clone();
    let (key, suffix) = match &ask.answer {
        AnswerKind::Choice(_) | AnswerKind::Language => {
            let labels = option_labels(ask, ctx.catalog, &s.locale, ctx.vars);
            vars.insert("count".into(), labels.len().to_string());
            ("reprompt-choice", numbered(&labels))
        }
        AnswerKind::YesNo => ("reprompt-yes-no", String::new()),
        AnswerKind::Scale { min, max } => {
            vars.insert("min".into(), min.to_string());
            vars.insert("max".into(), max.to_string());
            ("reprompt-scale", String::new())
        }
        AnswerKind::Date => ("reprompt-date", String::new()),
        AnswerKind::Text => ("reprompt-text", String::new()),
    };
    let mut text = ctx.catalog.format(&s.locale, key, &vars)?;
    text.push_str(&suffix);
    Ok(Event::Send {
        key: key.into(),
        text,
        prompt: false,
    })
}

fn answer_event(
    step: &StepId,
    ask: &Ask,
    raw: &str,
    value: Option<String>,
    status: AnswerStatus,
) -> Event {
    Event::Answer {
        step: step.clone(),
        record: ask.record.clone(),
        raw: raw.to_owned(),
        value,
        label: None,
        score: None,
        status,
    }
}
