//! The runner: one input (a client's message, a flow start, a timeout) becomes one database
//! transaction. Order of handling: dedupe → client → global handlers (STOP, START, HELP,
//! language, crisis) → engine. The engine's events and the runner's own are applied together
//! (session, record, outbox, audit); messages leave only after the commit.

mod apply;

use crate::clock::Clock;
use crate::domain::{Channel, ClientId, FlowId, Locale};
use crate::flow::def::{AnswerKind, StepKind, Urgency};
use crate::flow::engine::{self, Ctx, EngineError, Event, Input, Session};
use crate::flow::{Flow, FlowSet};
use crate::i18n::{Catalog, Vars};
use crate::safety::{Intent, Safety};
use crate::store::{Db, Doing, StoreError, Tx};
use apply::{Effects, Loaded};
use chrono_tz::Tz;
use std::sync::Arc;

/// The centre, as clients hear of it.
#[derive(Debug, Clone)]
pub struct Centre {
    pub name: String,
    pub time_zone: Tz,
}

/// A message from a client.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub channel: Channel,
    pub client: ClientId,
    /// The provider's id for the message (Twilio MessageSid…), for dedupe.
    pub provider_id: Option<String>,
    pub text: String,
}

/// A message the runner queued for a client.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Outbound {
    pub id: i64,
    pub key: String,
    pub text: String,
}

/// What came of one input.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Handled {
    /// The input was seen before: nothing was done again.
    pub duplicate: bool,
    pub replies: Vec<Outbound>,
}

/// What to do when a flow is started for a client already in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfBusy {
    Refuse,
    /// End the running session as `replaced` and start the new one.
    Replace,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no client {0}")]
    UnknownClient(ClientId),
    #[error("no flow {0}")]
    UnknownFlow(FlowId),
    #[error("client {client} is in the middle of flow {flow}")]
    Busy { client: ClientId, flow: FlowId },
    #[error("client {0} has opted out: nothing can be sent")]
    OptedOut(ClientId),
    #[error("flow {flow} revision {revision} is not known")]
    UnknownRevision { flow: FlowId, revision: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the client's record changed under us {0} times in a row")]
    Contention(u32),
}

impl RunError {
    /// Errors that are about the request rather than the service.
    #[must_use]
    pub fn is_client_error(&self) -> bool {
        matches!(self, RunError::UnknownClient(_) | RunError::UnknownFlow(_) | RunError::Busy { .. } | RunError::OptedOut(_))
    }
}

/// Retries when another process changed the same session between our read and our write.
const MAX_ATTEMPTS: u32 = 8;

/// Everything an input needs: storage, flows, wording, safety lexicons and the clock.
#[derive(Debug, Clone)]
pub struct Runner {
    pub db: Db,
    pub flows: Arc<FlowSet>,
    pub catalog: Arc<Catalog>,
    pub safety: Arc<Safety>,
    pub clock: Arc<dyn Clock>,
    pub centre: Centre,
}

/// The outcome of planning an input, before it is written.
struct Plan {
    effects: Effects,
}

enum Step {
    Done(Handled),
    Conflict,
}

impl Runner {
    /// Records every current flow revision, so sessions can be pinned to them.
    pub async fn register_flows(&self) -> Result<(), StoreError> {
        let now = crate::clock::to_ms(self.clock.now());
        for flow in self.flows.current() {
            sqlx::query("INSERT INTO flow_revisions (flow_id, revision, source, first_seen) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(flow.id.as_str())
                .bind(&flow.revision)
                .bind(&flow.source)
                .bind(now)
                .execute(self.db.pool())
                .await
                .doing("registering flow revisions")?;
        }
        Ok(())
    }

    /// Handles a message from a client.
    pub async fn receive(&self, inbound: &Inbound) -> Result<Handled, RunError> {
        for _ in 0..MAX_ATTEMPTS {
            let mut tx = self.db.begin().await?;
            match self.receive_in(&mut tx, inbound).await? {
                Step::Done(h) => {
                    if h.duplicate {
                        tx.rollback().await.doing("rolling back a duplicate")?;
                    } else {
                        tx.commit().await.doing("committing an inbound message")?;
                    }
                    return Ok(h);
                }
                Step::Conflict => tx.rollback().await.doing("rolling back after a conflict")?,
            }
        }
        Err(RunError::Contention(MAX_ATTEMPTS))
    }

    /// Starts `flow` for a client, labelled with a time point (baseline, 6-month…).
    pub async fn start_flow(&self, client: &ClientId, flow: &FlowId, time_point: Option<&str>, if_busy: IfBusy, actor: &str) -> Result<Handled, RunError> {
        let f = self.flows.get(flow).ok_or_else(|| RunError::UnknownFlow(flow.clone()))?;
        for _ in 0..MAX_ATTEMPTS {
            let mut tx = self.db.begin().await?;
            let loaded = apply::load(&mut tx, client).await?.ok_or_else(|| RunError::UnknownClient(client.clone()))?;
            if loaded.consent == "revoked" {
                return Err(RunError::OptedOut(client.clone()));
            }
            let mut effects = Effects::new(&loaded, None);
            if let Some(active) = &loaded.session {
                if if_busy == IfBusy::Refuse {
                    return Err(RunError::Busy { client: client.clone(), flow: active.state.flow.clone() });
                }
                let (s, ev) = engine::interrupt(&active.state, "replaced");
                effects.session_update = Some(s);
                effects.current(ev);
            }
            let vars = self.vars(&loaded);
            let ctx = self.ctx(&f, &vars, &loaded);
            let (state, events) = engine::start(&ctx, self.catalog.negotiate(&loaded.language))?;
            effects.new_session = Some((state, time_point.map(str::to_owned)));
            effects.new_session_events(events);
            effects.audit.push(("flow-start".into(), format!("{flow} ({})", time_point.unwrap_or("ad hoc")), actor.to_owned()));
            match apply::apply(&mut tx, self, &loaded, effects).await? {
                Some(replies) => {
                    tx.commit().await.doing("committing a flow start")?;
                    return Ok(Handled { duplicate: false, replies });
                }
                None => tx.rollback().await.doing("rolling back after a conflict")?,
            }
        }
        Err(RunError::Contention(MAX_ATTEMPTS))
    }

    /// Fires the timeout of the question a client's session waits on (nudge, then a flag).
    pub async fn fire_timeout(&self, client: &ClientId) -> Result<Handled, RunError> {
        for _ in 0..MAX_ATTEMPTS {
            let mut tx = self.db.begin().await?;
            let loaded = apply::load(&mut tx, client).await?.ok_or_else(|| RunError::UnknownClient(client.clone()))?;
            let Some(active) = &loaded.session else { return Ok(Handled::default()) };
            let Some(step) = active.state.awaiting.clone() else { return Ok(Handled::default()) };
            let flow = self.pinned(&mut tx, &active.state).await?;
            let vars = self.vars(&loaded);
            let ctx = self.ctx(&flow, &vars, &loaded);
            let (state, events) = engine::handle(&ctx, &active.state, Input::Timeout(&step))?;
            let mut effects = Effects::new(&loaded, None);
            effects.session_update = Some(state);
            effects.current(events);
            match apply::apply(&mut tx, self, &loaded, effects).await? {
                Some(replies) => {
                    tx.commit().await.doing("committing a timeout")?;
                    return Ok(Handled { duplicate: false, replies });
                }
                None => tx.rollback().await.doing("rolling back after a conflict")?,
            }
        }
        Err(RunError::Contention(MAX_ATTEMPTS))
    }

    async fn receive_in(&self, tx: &mut Tx, inbound: &Inbound) -> Result<Step, RunError> {
        let loaded = apply::load(tx, &inbound.client).await?.ok_or_else(|| RunError::UnknownClient(inbound.client.clone()))?;
        let Some(inbound_id) = apply::insert_inbound(tx, self, &loaded, inbound).await? else {
            return Ok(Step::Done(Handled { duplicate: true, replies: Vec::new() }));
        };
        let plan = self.plan(tx, &loaded, inbound, inbound_id).await?;
        match apply::apply(tx, self, &loaded, plan.effects).await? {
            Some(replies) => Ok(Step::Done(Handled { duplicate: false, replies })),
            None => Ok(Step::Conflict),
        }
    }

    /// Decides what an inbound message does: the global handlers first, then the flow.
    async fn plan(&self, tx: &mut Tx, loaded: &Loaded, inbound: &Inbound, inbound_id: i64) -> Result<Plan, RunError> {
        let mut fx = Effects::new(loaded, Some(inbound_id));
        let locale = self.catalog.negotiate(&loaded.language);
        let vars = self.vars(loaded);
        let session = loaded.session.as_ref().map(|s| &s.state);
        let flow = match session {
            Some(s) => Some(self.pinned(tx, s).await?),
            None => None,
        };
        let awaiting_language = match (&flow, session) {
            (Some(f), Some(s)) => s.awaiting.as_ref().and_then(|a| f.step(a)).is_some_and(|st| matches!(&st.kind, StepKind::Ask(a) if a.answer == AnswerKind::Language)),
            _ => false,
        };
        let mut intent = self.safety.classify(&inbound.text);
        if awaiting_language && matches!(intent, Intent::Language(_)) {
            intent = Intent::Other;
        }
        let opted_out = loaded.consent == "revoked";
        let crisis = intent == Intent::Crisis;

        match intent {
            Intent::Stop => {
                if let Some(s) = session {
                    let (state, events) = engine::interrupt(s, "stopped");
                    fx.session_update = Some(state);
                    fx.current(events);
                }
                fx.cancel_all_jobs = true;
                if !opted_out {
                    fx.consent(false, "keyword", &inbound.text, "client");
                    fx.system(self.system(&locale, "stop-confirmation", &vars)?);
                }
                return Ok(Plan { effects: fx });
            }
            Intent::Start => {
                if opted_out {
                    fx.consent(true, "keyword", &inbound.text, "client");
                }
                fx.system(self.system(&locale, "start-confirmation", &vars)?);
                return Ok(Plan { effects: fx });
            }
            _ if opted_out => {
                // A stopped client gets nothing; a crisis still reaches the navigator.
                if crisis {
                    fx.flag("crisis", Urgency::Urgent, Some("crisis language from a client who has opted out: call, do not text".into()));
                    fx.audit.push(("crisis".into(), "crisis language while opted out".into(), "client".into()));
                }
                return Ok(Plan { effects: fx });
            }
            _ => {}
        }
        if crisis {
            if let Some(s) = session {
                let (state, events) = engine::interrupt(s, "interrupted");
                fx.session_update = Some(state);
                fx.current(events);
            }
            fx.system(self.system(&locale, "crisis-reply", &vars)?);
            fx.flag("crisis", Urgency::Urgent, Some("crisis language: contact the client today".into()));
            fx.audit.push(("crisis".into(), "crisis language; fixed 9-8-8/911 reply sent".into(), "client".into()));
            return Ok(Plan { effects: fx });
        }
        let (Some(flow), Some(s)) = (flow, session) else {
            match intent {
                Intent::Help => fx.system(self.system(&locale, "help", &vars)?),
                Intent::Language(l) => {
                    fx.language = Some(l.clone());
                    fx.system(self.system(&l, "language-switched", &vars)?);
                }
                _ => {
                    fx.system(self.system(&locale, "no-session", &vars)?);
                    fx.flag("message", Urgency::Normal, Some("a message outside any flow".into()));
                }
            }
            return Ok(Plan { effects: fx });
        };
        let ctx = self.ctx(&flow, &vars, loaded);
        let (state, events) = match intent {
            Intent::Help => {
                fx.system(self.system(&s.locale, "help", &vars)?);
                engine::handle(&ctx, s, Input::Repeat)?
            }
            Intent::Language(l) => {
                let mut switched = s.clone();
                switched.locale = l.clone();
                fx.language = Some(l.clone());
                fx.system(self.system(&l, "language-switched", &vars)?);
                engine::handle(&ctx, &switched, Input::Repeat)?
            }
            Intent::Skip => engine::handle(&ctx, s, Input::Skip)?,
            _ => engine::handle(&ctx, s, Input::Reply(&inbound.text))?,
        };
        fx.session_update = Some(state);
        fx.current(events);
        Ok(Plan { effects: fx })
    }

    /// The flow revision a session is pinned to, read back from the database if needed.
    async fn pinned(&self, tx: &mut Tx, s: &Session) -> Result<Arc<Flow>, RunError> {
        if let Some(f) = self.flows.revision(&s.flow, &s.revision) {
            return Ok(f);
        }
        let source: Option<String> = sqlx::query_scalar("SELECT source FROM flow_revisions WHERE flow_id = $1 AND revision = $2")
            .bind(s.flow.as_str())
            .bind(&s.revision)
            .fetch_optional(&mut **tx)
            .await
            .doing("reading a pinned flow revision")?;
        let unknown = || RunError::UnknownRevision { flow: s.flow.clone(), revision: s.revision.clone() };
        let source = source.ok_or_else(unknown)?;
        let path = std::path::PathBuf::from(format!("{}.toml", s.flow));
        let flow = Arc::new(crate::flow::parse(&path, &source).map_err(|_| unknown())?);
        self.flows.remember(flow.clone());
        Ok(flow)
    }

    fn ctx<'a>(&'a self, flow: &'a Flow, vars: &'a Vars, loaded: &Loaded) -> Ctx<'a> {
        Ctx { flow, catalog: &self.catalog, vars, now: self.clock.now(), tz: loaded.time_zone.parse().unwrap_or(self.centre.time_zone) }
    }

    fn vars(&self, loaded: &Loaded) -> Vars {
        let mut v = Vars::new();
        v.insert("centre".into(), self.centre.name.clone());
        let program = loaded.program.clone().unwrap_or_else(|| {
            let l = self.catalog.negotiate(&loaded.language);
            self.catalog.format(&l, "program-default", &Vars::new()).unwrap_or_default()
        });
        v.insert("program".into(), program);
        v
    }

    fn system(&self, locale: &Locale, key: &str, vars: &Vars) -> Result<Event, RunError> {
        let text = self.catalog.format(locale, key, vars).map_err(EngineError::from)?;
        Ok(Event::Send { key: key.into(), text, prompt: false })
    }
}

/// Messages the runner itself sends, which every enabled locale must define.
pub const SYSTEM_MESSAGES: &[&str] = &[
    "help",
    "stop-confirmation",
    "start-confirmation",
    "language-switched",
    "crisis-reply",
    "no-session",
    "program-default",
    "reprompt-choice",
    "reprompt-yes-no",
    "reprompt-scale",
    "reprompt-date",
    "reprompt-text",
    "language-name",
];
