//! What a due job does: a question's timeout (a nudge, then the navigator) and a sequence's
//! steps. A round of jobs is planned and written like a batch of inbound messages: at most one
//! job per client, every effect (the flow's messages, the step's fate, its next occurrence) in
//! one transaction. How batches are taken, run and retried is in `drain`.

use super::effects::{Effects, Item, JobOp};
use super::load::{self, Loaded};
use super::{RunError, Runner};
use crate::clock::{from_ms, to_ms};
use crate::flow::Flow;
use crate::flow::def::StepKind;
use crate::flow::engine::{self, Event, Input};
use crate::schedule::sequence::{CatchUp, IfBusy, Until};
use crate::schedule::{DueJob, NewJob, local_label, next_occurrence};
use crate::store::{Doing, StoreError};
use apply::Written;
use chrono_tz::Tz;
use sqlx::Row;
use std::collections::HashMap;
use std::sync::Arc;

use super::apply;

/// An enrolment as a step job needs it.
#[derive(Debug, Clone)]
struct Enrolment {
    sequence: String,
    status: String,
    /// The referral it follows up (else the client's latest) is closed (steps may run until it
    /// closes).
    referral_closed: bool,
    /// That referral's uptake (steps may stop when it is declined or dropped out).
    uptake: Option<String>,
    /// The referral it follows up: the sessions it starts, and their scores, carry it.
    referral: Option<i64>,
}

/// Whether a flow says anything to the client (a flow of flags only is a navigator's task).
fn speaks(flow: &Flow) -> bool {
    flow.steps
        .iter()
        .any(|s| matches!(&s.kind, StepKind::Say { .. } | StepKind::Ask(_)))
}

/// Whether a flow may go to a client who has not (yet) agreed to messages: only one that asks.
fn asks_consent(flow: &Flow) -> bool {
    flow.steps
        .iter()
        .any(|s| matches!(&s.kind, StepKind::Ask(a) if a.consent))
}

impl Runner {
    async fn enrolments(
        &self,
        tx: &mut crate::store::Tx,
        jobs: &[&DueJob],
    ) -> Result<HashMap<i64, Enrolment>, StoreError> {
        let ids: Vec<i64> = jobs.iter().filter_map(|j| j.enrolment).collect();
        let mut out = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let (list, binds) = crate::store::sql::in_list(
            self.db.backend(),
            1,
            ids.into_iter().map(crate::store::sql::i).collect(),
        );
        let sql = format!(
            "SELECT e.id, e.sequence_id, e.status, r.closed_at, r.uptake, e.referral_id \
             FROM enrolments e LEFT JOIN referrals r ON r.id = COALESCE(e.referral_id, \
                  (SELECT MAX(x.id) FROM referrals x WHERE x.client_id = e.client_id)) \
             WHERE e.id IN ({list})"
        );
        let q = crate::store::sql::bind_all(sqlx::query(&sql), binds);
        for r in q.fetch_all(&mut **tx).await.doing("reading enrolments")? {
            let id: i64 = r.try_get(0).doing("reading enrolments")?;
            out.insert(
                id,
                Enrolment {
                    sequence: r.try_get(1).doing("reading enrolments")?,
                    status: r.try_get(2).doing("reading enrolments")?,
                    referral_closed: r
                        .try_get::<Option<i64>, _>(3)
                        .doing("reading enrolments")?
                        .is_some(),
                    uptake: r.try_get(4).doing("reading enrolments")?,
                    referral: r.try_get(5).doing("reading enrolments")?,
                },
            );
        }
        Ok(out)
    }

    /// Plans and writes a round of jobs (at most one per client) in `tx`.
    pub(super) async fn job_work(
        &self,
        tx: &mut crate::store::Tx,
        jobs: &[&DueJob],
    ) -> Result<Written, RunError> {
        let clients: Vec<&crate::domain::ClientId> = jobs.iter().map(|j| &j.client).collect();
        let loaded = load::load(tx, self.db.backend(), &clients).await?;
        let enrolments = self.enrolments(tx, jobs).await?;
        let mut items = Vec::with_capacity(jobs.len());
        let mut orphans = Vec::new();
        for j in jobs {
            let Some(l) = loaded.get(&j.client) else {
                // The client's row is gone (erasure removes their jobs with it).
                orphans.push(j.id);
                continue;
            };
            let flow = match &l.session {
                Some(a) => Some(self.pinned(tx, &a.state).await?),
                None => None,
            };
            let effects = match j.kind.as_str() {
                "timeout" => self.plan_timeout(j, l, flow)?,
                "step" => {
                    self.plan_step(j, l, flow, j.enrolment.and_then(|e| enrolments.get(&e)))?
                }
                other => {
                    let mut fx = Effects::new(l);
                    fx.jobs.push(JobOp::finish(
                        j,
                        "cancelled",
                        Some(format!("unknown kind of job {other:?}")),
                    ));
                    fx
                }
            };
            items.push(Item {
                loaded: l,
                inbound: None,
                effects,
            });
        }
        let written = apply::write(tx, self, &items).await?;
        if matches!(written, Written::Done(_)) && !orphans.is_empty() {
            let sql = format!(
                "UPDATE jobs SET status = 'cancelled', note = 'the client is gone', lease_until = NULL, claim_token = NULL WHERE id IN ({})",
                crate::store::sql::list(self.db.backend(), orphans.len())
            );
            let mut q = sqlx::query(&sql);
            for id in &orphans {
                q = q.bind(*id);
            }
            q.execute(&mut **tx)
                .await
                .doing("closing jobs of a client who is gone")?;
        }
        Ok(written)
    }

    fn tz_of(&self, l: &Loaded) -> Tz {
        l.time_zone.parse().unwrap_or(self.centre.time_zone)
    }

    /// Why a step or nudge moved: quiet hours, or the part of the day the client chose.
    fn moved_note(&self, l: &Loaded) -> String {
        crate::schedule::moved_note(l.best_time.as_deref(), &self.schedule)
    }

    /// A step or nudge held while a navigator's conversation is open: woken when it closes (by
    /// hand, or when it goes quiet), and looked at again now and then meanwhile.
    fn wait_for_conversation(&self, j: &DueJob, now: chrono::DateTime<chrono::Utc>) -> JobOp {
        JobOp::Defer {
            id: j.id,
            token: j.token.clone(),
            due: to_ms(now + self.schedule.recheck),
            waits_for: None,
            note: Some(super::conversation::WAITING_FOR_CONVERSATION.into()),
        }
    }

    /// A question's timeout: a nudge (or the navigator's task), at a decent hour.
    fn plan_timeout(
        &self,
        j: &DueJob,
        l: &Loaded,
        flow: Option<Arc<Flow>>,
    ) -> Result<Effects, RunError> {
        let mut fx = Effects::new(l);
        let now = self.clock.now();
        if l.consent == "revoked" {
            fx.jobs
                .push(JobOp::finish(j, "cancelled", Some("opted out".into())));
            return Ok(fx);
        }
        if l.channel == super::NO_CHANNEL {
            fx.jobs.push(JobOp::finish(
                j,
                "cancelled",
                Some("no way to reach the client".into()),
            ));
            return Ok(fx);
        }
        let waiting = l.session.as_ref().filter(|a| {
            Some(a.id) == j.session
                && a.state.awaiting.as_ref().map(|s| s.as_str()) == j.step.as_deref()
        });
        let (Some(flow), Some(active)) = (flow, waiting) else {
            fx.jobs.push(JobOp::finish(
                j,
                "cancelled",
                Some("the question is no longer waiting".into()),
            ));
            return Ok(fx);
        };
        if l.conversation.is_some() {
            // No nudge while the navigator is talking with the client.
            fx.jobs.push(self.wait_for_conversation(j, now));
            return Ok(fx);
        }
        let tz = self.tz_of(l);
        let open = self.schedule.next_open_on(
            now,
            tz,
            l.send_window,
            l.best_time.as_deref(),
            l.holidays.as_ref(),
        );
        if open > now {
            fx.jobs.push(JobOp::Defer {
                id: j.id,
                token: j.token.clone(),
                due: to_ms(open),
                waits_for: None,
                note: Some(self.moved_note(l)),
            });
            return Ok(fx);
        }
        let Some(step) = active.state.awaiting.clone() else {
            fx.jobs.push(JobOp::finish(
                j,
                "cancelled",
                Some("the question is no longer waiting".into()),
            ));
            return Ok(fx);
        };
        let vars = self.vars(l);
        let ctx = self.ctx(&flow, &vars, l);
        let (state, mut events) = engine::handle(&ctx, &active.state, Input::Timeout(&step))?;
        // The next nudge's timeout is this same row, due again: one write instead of two.
        let again = events
            .iter()
            .position(|e| matches!(e, Event::ScheduleTimeout { .. }));
        match again.map(|k| events.remove(k)) {
            Some(Event::ScheduleTimeout { at, .. }) => fx.jobs.push(JobOp::Defer {
                id: j.id,
                token: j.token.clone(),
                due: to_ms(at),
                waits_for: None,
                note: None,
            }),
            _ => fx.jobs.push(JobOp::finish(j, "done", None)),
        }
        fx.session_update = Some(state);
        fx.current(events);
        Ok(fx)
    }

    /// A sequence's step: start its flow now, move it out of quiet hours, wait, skip or cancel it.
    #[allow(clippy::too_many_lines)] // one decision after another, in the order they apply
    fn plan_step(
        &self,
        j: &DueJob,
        l: &Loaded,
        flow: Option<Arc<Flow>>,
        enrolment: Option<&Enrolment>,
    ) -> Result<Effects, RunError> {
        let mut fx = Effects::new(l);
        if let Some(r) = enrolment.and_then(|e| e.referral) {
            fx.referral = Some(r);
        }
        let now = self.clock.now();
        let tz = self.tz_of(l);
        if enrolment.is_some_and(|e| e.status == "paused") {
            // Released while paused (the step before it ended): it waits for the resume.
            fx.jobs.push(JobOp::finish(
                j,
                "paused",
                Some("the enrolment is paused".into()),
            ));
            return Ok(fx);
        }
        let Some(e) = enrolment.filter(|e| e.status == "active") else {
            let why = enrolment.map_or("the enrolment is gone".to_owned(), |e| {
                format!("the enrolment is {}", e.status)
            });
            fx.jobs.push(JobOp::finish(j, "cancelled", Some(why)));
            return Ok(fx);
        };
        if l.consent == "revoked" {
            fx.jobs
                .push(JobOp::finish(j, "cancelled", Some("opted out".into())));
            return Ok(fx);
        }
        let seq_step = crate::domain::FlowId::parse(&e.sequence)
            .ok()
            .and_then(|id| self.sequences.get(&id))
            .and_then(|s| {
                j.step
                    .as_deref()
                    .and_then(|st| crate::domain::StepId::parse(st).ok())
                    .and_then(|st| s.step(&st))
            });
        let Some(step) = seq_step else {
            fx.jobs.push(JobOp::finish(
                j,
                "skipped",
                Some(format!("the step is no longer in sequence {}", e.sequence)),
            ));
            fx.jobs.push(JobOp::Release { after: j.id });
            return Ok(fx);
        };
        let planned = from_ms(j.planned_at.unwrap_or(j.due_at));
        let next = next_occurrence(step, tz, planned, j.occurrence).map(|p| {
            let due = self
                .schedule
                .place(p, tz, l.send_window, l.best_time.as_deref(), now);
            NewJob {
                client: l.client.to_string(),
                enrolment: j.enrolment.unwrap_or_default(),
                step: step.id.to_string(),
                occurrence: j.occurrence + 1,
                flow: step.flow.to_string(),
                time_point: step.time_point.clone(),
                status: "pending",
                planned_at: Some(to_ms(p)),
                due_at: to_ms(due),
                after_job: None,
                delay_ms: None,
                note: (due != p).then(|| self.moved_note(l)),
            }
        });
        // Done with this occurrence: the next one, and whatever follows this step.
        let moving_on = |fx: &mut Effects| {
            if let Some(n) = &next {
                fx.jobs.push(JobOp::Insert(n.clone()));
            }
            fx.jobs.push(JobOp::Release { after: j.id });
        };
        if let Some(r) = &step.recurring
            && r.until == Some(Until::ReferralClosed)
            && e.referral_closed
        {
            fx.jobs.push(JobOp::finish(
                j,
                "cancelled",
                Some("the referral is closed".into()),
            ));
            fx.jobs.push(JobOp::Release { after: j.id });
            return Ok(fx);
        }
        if let Some(u) = e.uptake.as_ref().filter(|u| step.stop_when.contains(u)) {
            fx.jobs.push(JobOp::finish(
                j,
                "cancelled",
                Some(crate::schedule::stopped_note(u)),
            ));
            fx.jobs.push(JobOp::Release { after: j.id });
            return Ok(fx);
        }
        // A flow that says nothing to the client (a navigator's call) is a task on their list:
        // it needs no consent, no channel and no quiet hours, and leaves the client's flow be.
        if let Some(f) = self.flows.get(&step.flow).filter(|f| !speaks(f)) {
            let vars = self.vars(l);
            let ctx = self.ctx(&f, &vars, l);
            let (_, events) = engine::start(&ctx, self.catalog.negotiate(&l.language))?;
            for e in events {
                if matches!(e, Event::Flag { .. }) {
                    fx.system(e);
                }
            }
            fx.jobs.push(JobOp::finish(j, "done", None));
            moving_on(&mut fx);
            return Ok(fx);
        }
        if l.conversation.is_some() && !step.sends_during_conversation {
            fx.jobs.push(self.wait_for_conversation(j, now));
            return Ok(fx);
        }
        if l.channel == super::NO_CHANNEL {
            // Woken as soon as a phone number or a Telegram chat is added.
            fx.jobs.push(JobOp::Defer {
                id: j.id,
                token: j.token.clone(),
                due: to_ms(now + self.schedule.recheck),
                waits_for: None,
                note: Some(crate::store::record::WAITING_FOR_CHANNEL.into()),
            });
            return Ok(fx);
        }
        let late = now - from_ms(j.due_at);
        let is_late = late > self.schedule.late_after;
        if is_late && step.catch_up == CatchUp::Skip {
            let why = format!(
                "missed: due {}, found {} late (catch-up: skip)",
                local_label(j.due_at, tz),
                hours(late)
            );
            fx.jobs.push(JobOp::finish(j, "skipped", Some(why)));
            moving_on(&mut fx);
            return Ok(fx);
        }
        let open = self.schedule.next_open_on(
            now,
            tz,
            l.send_window,
            l.best_time.as_deref(),
            l.holidays.as_ref(),
        );
        if open > now {
            let why = if is_late {
                format!("found {} late; moved to the next open window", hours(late))
            } else {
                self.moved_note(l)
            };
            fx.jobs.push(JobOp::Defer {
                id: j.id,
                token: j.token.clone(),
                due: to_ms(open),
                waits_for: None,
                note: Some(why),
            });
            return Ok(fx);
        }
        let Some(f) = self.flows.get(&step.flow) else {
            fx.jobs.push(JobOp::finish(
                j,
                "skipped",
                Some(format!("no flow {}", step.flow)),
            ));
            moving_on(&mut fx);
            return Ok(fx);
        };
        // Consent given already (to another sequence, an invite): it is not asked again.
        if l.consent == "granted" && asks_consent(&f) {
            fx.jobs.push(JobOp::finish(
                j,
                "skipped",
                Some("consent already given".into()),
            ));
            moving_on(&mut fx);
            return Ok(fx);
        }
        if l.consent != "granted" && !asks_consent(&f) {
            fx.jobs.push(JobOp::finish(
                j,
                "skipped",
                Some("the client has not agreed to messages yet".into()),
            ));
            moving_on(&mut fx);
            return Ok(fx);
        }
        let mut note = is_late.then(|| format!("caught up {} late", hours(late)));
        if let (Some(active), Some(running)) = (&l.session, &flow) {
            if active.state.unanswered {
                note = Some(format!("ended the unanswered {}", running.id));
            } else {
                match step.if_busy {
                    IfBusy::Wait => {
                        fx.jobs.push(JobOp::Defer {
                            id: j.id,
                            token: j.token.clone(),
                            due: to_ms(now + self.schedule.recheck),
                            waits_for: Some(active.id),
                            note: Some(format!("waiting for {} to end", running.id)),
                        });
                        return Ok(fx);
                    }
                    IfBusy::Skip => {
                        fx.jobs.push(JobOp::finish(
                            j,
                            "skipped",
                            Some(format!("the client was in {}", running.id)),
                        ));
                        moving_on(&mut fx);
                        return Ok(fx);
                    }
                    IfBusy::Interrupt => note = Some(format!("interrupted {}", running.id)),
                }
            }
            let (s, ev) = engine::interrupt(
                &active.state,
                if active.state.unanswered {
                    "no-response"
                } else {
                    "replaced"
                },
            );
            fx.session_update = Some(s);
            fx.current(ev);
        }
        // A goal check-in starts with the client's first active goal; with none, there is
        // nothing to ask.
        let vars = if super::goals::is_checkin(f.id.as_str()) {
            let Some((goal, text)) = &l.first_goal else {
                fx.jobs.push(JobOp::finish(
                    j,
                    "skipped",
                    Some("the client has no active goal".into()),
                ));
                moving_on(&mut fx);
                return Ok(fx);
            };
            fx.goal = Some(*goal);
            self.goal_vars(l, text)
        } else {
            self.vars(l)
        };
        let ctx = self.ctx(&f, &vars, l);
        let (state, events) = engine::start(&ctx, self.catalog.negotiate(&l.language))?;
        fx.new_session = Some((state, step.time_point.clone()));
        fx.new_session_events(events);
        fx.jobs.push(JobOp::Finish {
            id: j.id,
            token: j.token.clone(),
            status: "done",
            note,
            started: true,
            enrolment: j.enrolment,
        });
        if let Some(n) = &next {
            fx.jobs.push(JobOp::Insert(n.clone()));
        }
        fx.audit.push((
            "flow-start".into(),
            format!(
                "{} ({}; sequence {} step {})",
                step.flow,
                step.time_point.as_deref().unwrap_or("ad hoc"),
                e.sequence,
                step.id
            ),
            "scheduler".into(),
        ));
        Ok(fx)
    }
}

/// `3 h`, `2 d 4 h`.
fn hours(d: chrono::Duration) -> String {
    let h = d.num_hours();
    if h >= 48 {
        format!("{} d {} h", h / 24, h % 24)
    } else if h >= 1 {
        format!("{h} h")
    } else {
        format!("{} min", d.num_minutes().max(0))
    }
}
