//! The runner: one input (a client's message, a flow start, a timeout) becomes one database
//! transaction. Order of handling: dedupe → client → global handlers (STOP, START, HELP,
//! language, crisis) → engine. The engine's events and the runner's own are applied together
//! (session, record, outbox, audit); messages leave only after the commit.

mod apply;
pub mod casework;
pub mod conversation;
mod drain;
mod effects;
mod equity_rows;
pub mod goals;
mod guard;
mod inbox;
mod job_rows;
mod jobs;
mod load;
mod plan;
mod provider;
mod record_rows;
pub mod referrals;

pub use drain::{Drained, GIVE_UP_AFTER};
pub use inbox::{Inbox, MAX_BATCH};
pub use load::{Loaded, NO_CHANNEL};
pub use provider::UNREACHABLE_AFTER;

use crate::clock::Clock;
use crate::domain::{Channel, ClientId, FlowId};
use crate::flow::engine::{self, EngineError, Input};
use crate::flow::{Flow, FlowSet};
use crate::i18n::Catalog;
use crate::safety::{Intent, Safety};
use crate::store::{Db, Doing, StoreError};
use apply::Written;
use chrono_tz::Tz;
use effects::{Effects, Item};
use std::collections::HashSet;
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
    /// Where it came from (a phone number): replies go back there.
    pub address: Option<String>,
    /// The provider's id for the message (Twilio MessageSid…), for dedupe.
    pub provider_id: Option<String>,
    pub text: String,
    /// What the provider made of it (Twilio's `OptOutType`): STOP, START or HELP. Our own
    /// keyword handling applies anyway.
    pub keyword: Option<Intent>,
    /// A tapped answer button (Telegram): `text` is its label.
    pub pick: Option<Pick>,
}

/// An answer button the client tapped: option `option` (from 0) of the question sent as message
/// `prompt`. It answers that question only while it is the one waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    pub prompt: i64,
    pub option: usize,
    /// The step the button was made for, as named in the button (possibly cut short).
    pub step: String,
}

impl Inbound {
    /// A message from a known client, with no provider keyword.
    #[must_use]
    pub fn new(
        channel: Channel,
        client: ClientId,
        provider_id: Option<String>,
        text: impl Into<String>,
    ) -> Self {
        Self {
            channel,
            client,
            address: None,
            provider_id,
            text: text.into(),
            keyword: None,
            pick: None,
        }
    }
}

/// A message from an address (a phone number) not yet matched to a client.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The centre whose number or bot it reached (none: the default centre).
    pub centre: Option<String>,
    pub channel: Channel,
    pub address: String,
    pub provider_id: Option<String>,
    pub text: String,
    pub keyword: Option<Intent>,
    pub pick: Option<Pick>,
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
    /// It came from an address that matches no client: it waits in the navigators' inbox.
    pub unmatched: bool,
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
    #[error("client {0} has no phone number or Telegram chat yet: nothing can reach them")]
    NoChannel(ClientId),
    #[error("client {0} has no active goal to check in on: set one on their record first")]
    NoGoal(ClientId),
    #[error("flow {flow} revision {revision} is not known")]
    UnknownRevision { flow: FlowId, revision: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the client's record changed under us {0} times in a row")]
    Contention(u32),
    #[error("the service is shutting down")]
    Closed,
    /// One failure shared by every message of a batch.
    #[error(transparent)]
    Shared(Arc<StoreError>),
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
    /// Follow-up sequences, by id.
    pub sequences: Arc<crate::schedule::sequence::SequenceSet>,
    /// Quiet hours, holidays and how due jobs are claimed.
    pub schedule: Arc<crate::schedule::Settings>,
    /// Bumped whenever messages are queued, so dispatchers wake at once.
    pub queued: Arc<tokio::sync::watch::Sender<u64>>,
    /// Raised when the service stops: loops finish what they started and take nothing new.
    pub shutdown: crate::shutdown::Shutdown,
    /// A client's text outside any flow gets the auto-reply at most once in this long.
    pub auto_reply_every: chrono::Duration,
    /// A conversation this long without a message either way closes, and the bot resumes.
    pub conversation_quiet: chrono::Duration,
    /// The long-running loops of this process, for `/readyz`.
    pub loops: crate::ops::health::Loops,
}

/// Counts one inbound message in the metrics, by channel and what became of it.
fn count_inbound(channel: Channel, r: &Result<Handled, RunError>) {
    let outcome = match r {
        Ok(h) if h.duplicate => "duplicate",
        Ok(h) if h.unmatched => "unmatched",
        Ok(_) => "handled",
        Err(_) => "error",
    };
    crate::ops::metrics::inbound(channel.as_str(), outcome);
}

/// A fresh signal for [`Runner::queued`].
#[must_use]
pub fn queued_signal() -> Arc<tokio::sync::watch::Sender<u64>> {
    Arc::new(tokio::sync::watch::channel(0).0)
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

    fn wake_dispatchers(&self, replies: &[Vec<Outbound>]) {
        if replies.iter().any(|r| !r.is_empty()) {
            self.queued.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Matches messages from addresses to clients (one query), keeps those from unknown
    /// addresses in the navigators' inbox, and handles the rest like [`Self::receive_batch`].
    pub async fn receive_incoming(&self, msgs: &[Incoming]) -> Vec<Result<Handled, RunError>> {
        let owners = match self.owners(msgs).await {
            Ok(o) => o,
            Err(e) => {
                let e = std::sync::Arc::new(e);
                return msgs
                    .iter()
                    .map(|_| Err(RunError::Shared(e.clone())))
                    .collect();
            }
        };
        let mut results: Vec<Option<Result<Handled, RunError>>> =
            (0..msgs.len()).map(|_| None).collect();
        let mut matched = Vec::new();
        let mut slots = Vec::new();
        let now = crate::clock::to_ms(self.clock.now());
        for (k, m) in msgs.iter().enumerate() {
            match owners.get(&(m.channel.as_str().to_owned(), m.address.clone())) {
                Some(client) => {
                    slots.push(k);
                    matched.push(Inbound {
                        channel: m.channel,
                        client: client.clone(),
                        address: Some(m.address.clone()),
                        provider_id: m.provider_id.clone(),
                        text: m.text.clone(),
                        keyword: m.keyword.clone(),
                        pick: m.pick.clone(),
                    });
                }
                None => {
                    let kept = crate::store::delivery::add_unmatched(
                        &self.db,
                        m.centre.as_deref().unwrap_or(crate::domain::DEFAULT_CENTRE),
                        m.channel.as_str(),
                        &m.address,
                        m.provider_id.as_deref(),
                        &m.text,
                        now,
                    )
                    .await;
                    let r = kept.map_err(RunError::from).map(|added| Handled {
                        duplicate: !added,
                        unmatched: true,
                        replies: Vec::new(),
                    });
                    count_inbound(m.channel, &r);
                    results[k] = Some(r);
                }
            }
        }
        for (k, r) in slots.into_iter().zip(self.receive_batch(&matched).await) {
            results[k] = Some(r);
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(RunError::Contention(0))))
            .collect()
    }

    /// Which client each (channel, address) belongs to.
    async fn owners(
        &self,
        msgs: &[Incoming],
    ) -> Result<std::collections::HashMap<(String, String), ClientId>, StoreError> {
        let mut owners = std::collections::HashMap::new();
        if msgs.is_empty() {
            return Ok(owners);
        }
        let b = self.db.backend();
        let mut channels: Vec<&str> = msgs.iter().map(|m| m.channel.as_str()).collect();
        channels.sort_unstable();
        channels.dedup();
        let mut rows = Vec::new();
        // One query per channel (almost always one), on the (channel, address) key.
        for ch in channels {
            let addresses: Vec<&str> = msgs
                .iter()
                .filter(|m| m.channel.as_str() == ch)
                .map(|m| m.address.as_str())
                .collect();
            let sql = format!(
                "SELECT channel, address, client_id FROM channel_addresses WHERE channel = {} AND address IN ({})",
                crate::store::sql::list(b, 1),
                crate::store::sql::list_from(b, 2, addresses.len())
            );
            let mut q = sqlx::query(&sql).bind(ch);
            for a in addresses {
                q = q.bind(a);
            }
            let mut conn = self.db.acquire("matching senders to clients").await?;
            rows.extend(
                q.fetch_all(&mut *conn)
                    .await
                    .doing("matching senders to clients")?,
            );
        }
        for r in rows {
            use sqlx::Row;
            let (ch, addr, client): (String, String, String) = (
                r.try_get(0).doing("matching senders to clients")?,
                r.try_get(1).doing("matching senders to clients")?,
                r.try_get(2).doing("matching senders to clients")?,
            );
            if let Ok(client) = ClientId::parse(&client) {
                owners.insert((ch, addr), client);
            }
        }
        Ok(owners)
    }

    /// Handles one message from a client.
    pub async fn receive(&self, inbound: &Inbound) -> Result<Handled, RunError> {
        let mut results = self.receive_batch(std::slice::from_ref(inbound)).await;
        results.pop().unwrap_or(Err(RunError::Contention(0)))
    }

    /// Handles messages from clients in as few transactions as their order allows: one per
    /// round, where a round takes at most one message per client (a client's second message
    /// must see what the first did). Results come back in the order of `inbound`.
    pub async fn receive_batch(&self, inbound: &[Inbound]) -> Vec<Result<Handled, RunError>> {
        let mut results: Vec<Option<Result<Handled, RunError>>> =
            (0..inbound.len()).map(|_| None).collect();
        let mut todo: Vec<usize> = (0..inbound.len()).collect();
        while !todo.is_empty() {
            let mut seen = HashSet::new();
            let (round, later): (Vec<usize>, Vec<usize>) =
                todo.iter().partition(|&&k| seen.insert(&inbound[k].client));
            let msgs: Vec<&Inbound> = round.iter().map(|&k| &inbound[k]).collect();
            match self.round(&msgs).await {
                Ok(done) => {
                    for (k, r) in round.iter().zip(done) {
                        results[*k] = Some(r);
                    }
                }
                // One input must not sink the others: on a failed round, take them one by one.
                Err(e) if round.len() == 1 => results[round[0]] = Some(Err(e)),
                Err(_) => {
                    for &k in &round {
                        let one = self.round(&[&inbound[k]]).await;
                        results[k] = Some(
                            one.and_then(|mut v| v.pop().unwrap_or(Err(RunError::Contention(0)))),
                        );
                    }
                }
            }
            todo = later;
        }
        results
            .into_iter()
            .zip(inbound)
            .map(|(r, m)| {
                let r = r.unwrap_or(Err(RunError::Contention(0)));
                count_inbound(m.channel, &r);
                r
            })
            .collect()
    }

    /// One transaction for messages from distinct clients, retried when a session changed under
    /// us. Per-message errors (an unknown client) are in the results; `Err` fails them all.
    async fn round(&self, msgs: &[&Inbound]) -> Result<Vec<Result<Handled, RunError>>, RunError> {
        for _ in 0..MAX_ATTEMPTS {
            let mut tx = self.db.begin().await?;
            let clients: Vec<&ClientId> = msgs.iter().map(|m| &m.client).collect();
            let loaded = load::load(&mut tx, self.db.backend(), &clients).await?;
            let mut repeated = load::seen(&mut tx, self.db.backend(), msgs).await?;
            let mut results: Vec<Option<Result<Handled, RunError>>> =
                Vec::with_capacity(msgs.len());
            let mut items = Vec::new();
            let mut slots = Vec::new();
            for (k, m) in msgs.iter().enumerate() {
                let Some(l) = loaded.get(&m.client) else {
                    results.push(Some(Err(RunError::UnknownClient(m.client.clone()))));
                    continue;
                };
                if let Some(pid) = &m.provider_id
                    && !repeated.insert((m.channel.as_str().to_owned(), pid.clone()))
                {
                    results.push(Some(Ok(Handled {
                        duplicate: true,
                        ..Handled::default()
                    })));
                    continue;
                }
                match self.plan(&mut tx, l, m).await {
                    Ok(effects) => {
                        results.push(None);
                        slots.push(k);
                        items.push(Item {
                            loaded: l,
                            inbound: Some(*m),
                            effects,
                        });
                    }
                    Err(e) => results.push(Some(Err(e))),
                }
            }
            match apply::write(&mut tx, self, &items).await? {
                Written::Done(replies) => {
                    tx.commit().await.doing("committing inbound messages")?;
                    self.wake_dispatchers(&replies);
                    for (k, r) in slots.into_iter().zip(replies) {
                        results[k] = Some(Ok(Handled {
                            replies: r,
                            ..Handled::default()
                        }));
                    }
                    return Ok(results
                        .into_iter()
                        .map(|r| r.unwrap_or(Err(RunError::Contention(0))))
                        .collect());
                }
                Written::Conflict => tx.rollback().await.doing("rolling back after a conflict")?,
            }
        }
        Err(RunError::Contention(MAX_ATTEMPTS))
    }

    /// Starts `flow` for a client, labelled with a time point (baseline, 6-month…). A step of
    /// the client's follow-up still to come that would start the same flow at the same time
    /// point is marked done by this session: the client is not asked twice.
    pub async fn start_flow(
        &self,
        client: &ClientId,
        flow: &FlowId,
        time_point: Option<&str>,
        if_busy: IfBusy,
        actor: &str,
    ) -> Result<Handled, RunError> {
        let f = self
            .flows
            .get(flow)
            .ok_or_else(|| RunError::UnknownFlow(flow.clone()))?;
        let early = self.step_to_come(client, flow, time_point).await?;
        self.one(client, |_, loaded| {
            if loaded.consent == "revoked" {
                return Err(RunError::OptedOut(client.clone()));
            }
            if loaded.channel == NO_CHANNEL {
                return Err(RunError::NoChannel(client.clone()));
            }
            let mut effects = Effects::new(loaded);
            if let Some(active) = &loaded.session {
                if if_busy == IfBusy::Refuse {
                    return Err(RunError::Busy {
                        client: client.clone(),
                        flow: active.state.flow.clone(),
                    });
                }
                let (s, ev) = engine::interrupt(&active.state, "replaced");
                effects.session_update = Some(s);
                effects.current(ev);
            }
            let vars = if goals::is_checkin(f.id.as_str()) {
                let (goal, text) = loaded
                    .first_goal
                    .as_ref()
                    .ok_or_else(|| RunError::NoGoal(client.clone()))?;
                effects.goal = Some(*goal);
                self.goal_vars(loaded, text)
            } else {
                self.vars(loaded)
            };
            let ctx = self.ctx(&f, &vars, loaded);
            let (state, events) = engine::start(&ctx, self.catalog.negotiate(&loaded.language))?;
            effects.new_session = Some((state, time_point.map(str::to_owned)));
            effects.new_session_events(events);
            // Starting a flow hands an open conversation back to the bot: the client's answers
            // go to the flow.
            if loaded.conversation.is_some() {
                effects.close_conversation = Some(actor.to_owned());
            }
            effects.audit.push((
                "flow-start".into(),
                format!("{flow} ({})", time_point.unwrap_or("ad hoc")),
                actor.to_owned(),
            ));
            if let Some((id, enrolment)) = early {
                effects.jobs.push(effects::JobOp::StartedEarly {
                    id,
                    enrolment,
                    note: format!("started early by {actor}"),
                });
            }
            Ok(Some(effects))
        })
        .await
    }

    /// The first step still to come of the client's follow-up that starts `flow` at
    /// `time_point` (a recurring step has no single occurrence to stand in for: never one).
    async fn step_to_come(
        &self,
        client: &ClientId,
        flow: &FlowId,
        time_point: Option<&str>,
    ) -> Result<Option<(i64, Option<i64>)>, StoreError> {
        use sqlx::Row;
        let rows = sqlx::query(
            "SELECT j.id, j.enrolment_id, e.sequence_id, j.step_id, j.time_point FROM jobs j \
             JOIN enrolments e ON e.id = j.enrolment_id \
             WHERE j.client_id = $1 AND j.kind = 'step' AND j.flow_id = $2 \
               AND j.status IN ('pending', 'blocked', 'paused') ORDER BY j.due_at, j.id",
        )
        .bind(client.as_str())
        .bind(flow.as_str())
        .fetch_all(self.db.pool())
        .await
        .doing("looking for a step still to come")?;
        for r in rows {
            let g = "reading a step still to come";
            let tp: Option<String> = r.try_get(4).doing(g)?;
            if tp.as_deref() != time_point {
                continue;
            }
            let sequence: String = r.try_get(2).doing(g)?;
            let step: Option<String> = r.try_get(3).doing(g)?;
            let recurring = FlowId::parse(&sequence)
                .ok()
                .and_then(|s| self.sequences.get(&s))
                .zip(step.and_then(|s| crate::domain::StepId::parse(&s).ok()))
                .and_then(|(seq, st)| seq.step(&st).map(|s| s.recurring.is_some()))
                .unwrap_or(true);
            if !recurring {
                return Ok(Some((r.try_get(0).doing(g)?, r.try_get(1).doing(g)?)));
            }
        }
        Ok(None)
    }

    /// Fires the timeout of the question a client's session waits on (nudge, then a flag).
    pub async fn fire_timeout(&self, client: &ClientId) -> Result<Handled, RunError> {
        self.one(client, |flow, loaded| {
            let (Some(flow), Some(active)) = (flow, &loaded.session) else {
                return Ok(None);
            };
            let Some(step) = active.state.awaiting.clone() else {
                return Ok(None);
            };
            let vars = self.vars(loaded);
            let ctx = self.ctx(&flow, &vars, loaded);
            let (state, events) = engine::handle(&ctx, &active.state, Input::Timeout(&step))?;
            let mut effects = Effects::new(loaded);
            effects.session_update = Some(state);
            effects.current(events);
            Ok(Some(effects))
        })
        .await
    }

    /// One input about one client that did not come from them: plan it from the client's row
    /// (and the flow revision of their running session), write it, commit.
    async fn one<F>(&self, client: &ClientId, plan: F) -> Result<Handled, RunError>
    where
        F: Fn(Option<Arc<Flow>>, &Loaded) -> Result<Option<Effects>, RunError>,
    {
        for _ in 0..MAX_ATTEMPTS {
            let mut tx = self.db.begin().await?;
            let loaded = load::load(&mut tx, self.db.backend(), &[client]).await?;
            let loaded = loaded
                .get(client)
                .ok_or_else(|| RunError::UnknownClient(client.clone()))?;
            let flow = match &loaded.session {
                Some(a) => Some(self.pinned(&mut tx, &a.state).await?),
                None => None,
            };
            let Some(effects) = plan(flow, loaded)? else {
                return Ok(Handled::default());
            };
            let items = [Item {
                loaded,
                inbound: None,
                effects,
            }];
            match apply::write(&mut tx, self, &items).await? {
                Written::Done(mut replies) => {
                    tx.commit().await.doing("committing")?;
                    self.wake_dispatchers(&replies);
                    return Ok(Handled {
                        replies: replies.pop().unwrap_or_default(),
                        ..Handled::default()
                    });
                }
                Written::Conflict => tx.rollback().await.doing("rolling back after a conflict")?,
            }
        }
        Err(RunError::Contention(MAX_ATTEMPTS))
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
    "stale-button",
    "language-choice",
];
