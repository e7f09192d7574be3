//! What one input changes, as planned before anything is written.

use super::Inbound;
use super::load::Loaded;
use crate::domain::Locale;
use crate::flow::def::Urgency;
use crate::flow::engine::{Event, Session};

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
    /// Where replies go on that channel.
    pub address: Option<String>,
    pub events: Vec<(Scope, Event)>,
    pub session_update: Option<Session>,
    pub new_session: Option<(Session, Option<String>)>,
    /// The referral the new session follows up (a step's enrolment's, else the open one).
    pub referral: Option<i64>,
    /// The goal the new session checks in on (a goal check-in).
    pub goal: Option<i64>,
    /// Granted?, source, wording, actor.
    pub consent: Option<(bool, String, String, String)>,
    pub language: Option<Locale>,
    pub cancel_all_jobs: bool,
    /// Action, detail (never a message body), actor.
    pub audit: Vec<(String, String, String)>,
    /// What becomes of the scheduled jobs this input is about.
    pub jobs: Vec<JobOp>,
    /// The client's text opens a conversation with the navigator, or adds to the open one.
    pub conversation: Option<super::conversation::Op>,
    /// A navigator started a flow: their open conversation hands back to the bot (the actor).
    pub close_conversation: Option<String>,
}

/// A change to the job rows, written in the input's transaction.
#[derive(Debug, Clone)]
pub enum JobOp {
    /// The claimed job is over: done, skipped or cancelled, and why. `started`: it started the
    /// session this input starts.
    Finish {
        id: i64,
        token: String,
        status: &'static str,
        note: Option<String>,
        started: bool,
        enrolment: Option<i64>,
    },
    /// The claimed job goes back to pending, due later (quiet hours, waiting on a flow).
    Defer {
        id: i64,
        token: String,
        due: i64,
        waits_for: Option<i64>,
        note: Option<String>,
    },
    /// The next occurrence of a recurring step.
    Insert(crate::schedule::NewJob),
    /// Steps that follow job `after` are due now (plus their delay): it was skipped or cancelled.
    Release { after: i64 },
    /// A step still to come whose flow a navigator started now: it is done, by the session this
    /// input starts, so the client is not asked again.
    StartedEarly {
        id: i64,
        enrolment: Option<i64>,
        note: String,
    },
}

impl JobOp {
    pub fn finish(j: &crate::schedule::DueJob, status: &'static str, note: Option<String>) -> Self {
        JobOp::Finish {
            id: j.id,
            token: j.token.clone(),
            status,
            note,
            started: false,
            enrolment: j.enrolment,
        }
    }
}

impl Effects {
    pub fn new(loaded: &Loaded) -> Self {
        Self {
            channel: loaded.channel.clone(),
            address: loaded.address.clone(),
            events: Vec::new(),
            session_update: None,
            new_session: None,
            referral: loaded.referral,
            goal: None,
            consent: None,
            language: None,
            cancel_all_jobs: false,
            audit: Vec::new(),
            jobs: Vec::new(),
            conversation: None,
            close_conversation: None,
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
