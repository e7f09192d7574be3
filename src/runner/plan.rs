//! Planning an input: the global handlers (opt-out first, then opt-in, help, a language switch,
//! crisis language) and then the flow's engine. Nothing is written here; the plan is a set of
//! effects that the runner applies in one transaction.

use super::effects::Effects;
use super::load::Loaded;
use super::{Inbound, RunError, Runner};
use crate::domain::Locale;
use crate::flow::Flow;
use crate::flow::def::{AnswerKind, StepKind, Urgency};
use crate::flow::engine::{self, Ctx, EngineError, Event, Input, Session};
use crate::i18n::Vars;
use crate::safety::Intent;
use crate::store::{Doing, Tx};
use std::sync::Arc;

impl Runner {
    /// Decides what an inbound message does: the global handlers first, then the flow.
    pub(super) async fn plan(
        &self,
        tx: &mut Tx,
        loaded: &Loaded,
        inbound: &Inbound,
    ) -> Result<Effects, RunError> {
        let mut fx = Effects::new(loaded);
        // Replies go back the way the message came.
        fx.channel = inbound.channel.as_str().to_owned();
        if inbound.address.is_some() {
            fx.address.clone_from(&inbound.address);
        }
        let locale = self.catalog.negotiate(&loaded.language);
        let vars = self.vars(loaded);
        let session = loaded.session.as_ref().map(|s| &s.state);
        let flow = match session {
            Some(s) => Some(self.pinned(tx, s).await?),
            None => None,
        };
        let awaiting_language = match (&flow, session) {
            (Some(f), Some(s)) => s.awaiting.as_ref().and_then(|a| f.step(a)).is_some_and(
                |st| matches!(&st.kind, StepKind::Ask(a) if a.answer == AnswerKind::Language),
            ),
            _ => false,
        };
        if let Some(pick) = &inbound.pick {
            return self.pick(loaded, flow, &locale, &vars, pick, fx);
        }
        let mut intent = self.safety.classify(&inbound.text);
        if awaiting_language && matches!(intent, Intent::Language(_)) {
            intent = Intent::Other;
        }
        // The provider's own opt-out handling has the last word on STOP and START (it blocks or
        // unblocks the number whatever we think); its HELP only where we saw nothing else.
        match (&inbound.keyword, &intent) {
            (Some(k @ (Intent::Stop | Intent::Start)), _) => intent = k.clone(),
            (Some(Intent::Help), Intent::Other) => intent = Intent::Help,
            // A command (Telegram's /language) is never crisis language or an answer.
            (Some(k @ (Intent::Language(_) | Intent::Languages)), _) => intent = k.clone(),
            _ => {}
        }
        // A language this centre has not turned on: say which ones it has.
        if let Intent::Language(l) = &intent
            && !self.catalog.is_enabled(l)
        {
            intent = Intent::Languages;
        }
        let provider_confirmed_stop = inbound.keyword == Some(Intent::Stop);
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
                    // Twilio confirmed the opt-out itself and would refuse ours (21610).
                    if !provider_confirmed_stop {
                        fx.system(self.system(&locale, "stop-confirmation", &vars)?);
                    }
                }
                return Ok(fx);
            }
            Intent::Start => {
                if opted_out {
                    fx.consent(true, "keyword", &inbound.text, "client");
                }
                fx.system(self.system(&locale, "start-confirmation", &vars)?);
                return Ok(fx);
            }
            _ if opted_out => {
                // A stopped client gets nothing; a crisis still reaches the navigator.
                if crisis {
                    fx.flag(
                        "crisis",
                        Urgency::Urgent,
                        Some(
                            "crisis language from a client who has opted out: call, do not text"
                                .into(),
                        ),
                    );
                    fx.audit.push((
                        "crisis".into(),
                        "crisis language while opted out".into(),
                        "client".into(),
                    ));
                }
                return Ok(fx);
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
            if loaded.conversation.is_some() {
                fx.conversation = Some(super::conversation::Op::Add);
            }
            fx.flag(
                "crisis",
                Urgency::Urgent,
                Some("crisis language: contact the client today".into()),
            );
            fx.audit.push((
                "crisis".into(),
                "crisis language; fixed 9-8-8/911 reply sent".into(),
                "client".into(),
            ));
            return Ok(fx);
        }
        // A navigator's conversation is open: the bot keeps quiet (HELP still answers), the
        // flow waits, and the text is the navigator's to read.
        if let Some(conv) = loaded.conversation {
            if intent == Intent::Help {
                fx.system(self.system(&locale, "help", &vars)?);
            } else if !self.navigator_answered(tx, loaded, conv).await? {
                // No one has answered yet: the client still hears, now and then, that their
                // text will be read.
                let (replied, _) = self.outside_flow(tx, loaded).await?;
                if !replied {
                    fx.system(self.system(&locale, "no-session", &vars)?);
                }
            }
            fx.conversation = Some(super::conversation::Op::Add);
            return Ok(fx);
        }
        let (Some(flow), Some(s)) = (flow, session) else {
            match intent {
                Intent::Help => fx.system(self.system(&locale, "help", &vars)?),
                Intent::Languages => fx.system(self.language_choice(&locale, &vars)?),
                Intent::Language(l) => {
                    fx.language = Some(l.clone());
                    fx.system(self.system(&l, "language-switched", &vars)?);
                }
                _ => {
                    // One auto-reply a day, and one open task that gathers the texts.
                    let (replied, open) = self.outside_flow(tx, loaded).await?;
                    if !replied {
                        fx.system(self.system(&locale, "no-session", &vars)?);
                    }
                    fx.conversation = Some(super::conversation::Op::Open);
                    if !open {
                        fx.flag(
                            "message",
                            Urgency::Normal,
                            Some("a message outside any flow".into()),
                        );
                    }
                }
            }
            return Ok(fx);
        };
        let ctx = self.ctx(&flow, &vars, loaded);
        let (state, events) = match intent {
            Intent::Help => {
                fx.system(self.system(&s.locale, "help", &vars)?);
                engine::handle(&ctx, s, Input::Repeat)?
            }
            Intent::Languages => {
                fx.system(self.language_choice(&s.locale, &vars)?);
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
        self.next_goal(loaded, &mut fx)?;
        Ok(fx)
    }

    /// A tapped answer button: the answer to the question waiting, if the button is that
    /// question's; else a gentle note (the client tapped an older question's button).
    fn pick(
        &self,
        loaded: &Loaded,
        flow: Option<Arc<Flow>>,
        locale: &Locale,
        vars: &Vars,
        pick: &super::Pick,
        mut fx: Effects,
    ) -> Result<Effects, RunError> {
        if loaded.consent == "revoked" {
            return Ok(fx);
        }
        let waiting = loaded.session.as_ref().filter(|a| {
            a.prompt_message_id == Some(pick.prompt)
                && !pick.step.is_empty()
                && a.state
                    .awaiting
                    .as_ref()
                    .is_some_and(|s| s.as_str().starts_with(&pick.step))
        });
        let (Some(flow), Some(active)) = (flow, waiting) else {
            fx.system(self.system(locale, "stale-button", vars)?);
            return Ok(fx);
        };
        let ctx = self.ctx(&flow, vars, loaded);
        let (state, events) = engine::handle(&ctx, &active.state, Input::Pick(pick.option))?;
        fx.session_update = Some(state);
        fx.current(events);
        self.next_goal(loaded, &mut fx)?;
        Ok(fx)
    }

    /// For a text outside any flow: whether the client got the auto-reply recently, and whether
    /// a "message" task is open for them already.
    async fn outside_flow(&self, tx: &mut Tx, loaded: &Loaded) -> Result<(bool, bool), RunError> {
        let since = crate::clock::to_ms(self.clock.now() - self.auto_reply_every);
        let (replied, open): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM messages WHERE client_id = $1 AND direction = 'out' \
                       AND message_key = 'no-session' AND created_at > $2), \
                    (SELECT COUNT(*) FROM flags WHERE client_id = $1 AND kind = 'message' AND status = 'open')",
        )
        .bind(loaded.client.as_str())
        .bind(since)
        .fetch_one(&mut **tx)
        .await
        .doing("looking for a recent auto-reply")?;
        Ok((replied > 0, open > 0))
    }

    /// Whether a navigator has written to the client since this conversation opened.
    async fn navigator_answered(
        &self,
        tx: &mut Tx,
        loaded: &Loaded,
        conversation: i64,
    ) -> Result<bool, RunError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages WHERE client_id = $1 AND direction = 'out' \
               AND message_key = 'navigator-message' \
               AND created_at >= (SELECT opened_at FROM conversations WHERE id = $2)",
        )
        .bind(loaded.client.as_str())
        .bind(conversation)
        .fetch_one(&mut **tx)
        .await
        .doing("looking for a navigator's answer")?;
        Ok(n > 0)
    }

    /// "To change language, reply with its name: English, Français."
    fn language_choice(&self, locale: &Locale, vars: &Vars) -> Result<Event, RunError> {
        let names: Vec<String> = self
            .catalog
            .locales()
            .iter()
            .map(|l| self.catalog.language_name(l))
            .collect();
        let mut vars = vars.clone();
        vars.insert("languages".into(), names.join(", "));
        self.system(locale, "language-choice", &vars)
    }

    /// The flow revision a session is pinned to, read back from the database if needed.
    pub(super) async fn pinned(&self, tx: &mut Tx, s: &Session) -> Result<Arc<Flow>, RunError> {
        if let Some(f) = self.flows.revision(&s.flow, &s.revision) {
            return Ok(f);
        }
        let source: Option<String> = sqlx::query_scalar(
            "SELECT source FROM flow_revisions WHERE flow_id = $1 AND revision = $2",
        )
        .bind(s.flow.as_str())
        .bind(&s.revision)
        .fetch_optional(&mut **tx)
        .await
        .doing("reading a pinned flow revision")?;
        let unknown = || RunError::UnknownRevision {
            flow: s.flow.clone(),
            revision: s.revision.clone(),
        };
        let source = source.ok_or_else(unknown)?;
        let path = std::path::PathBuf::from(format!("{}.toml", s.flow));
        let flow = Arc::new(crate::flow::parse(&path, &source).map_err(|_| unknown())?);
        self.flows.remember(flow.clone());
        Ok(flow)
    }

    pub(super) fn ctx<'a>(&'a self, flow: &'a Flow, vars: &'a Vars, loaded: &Loaded) -> Ctx<'a> {
        Ctx {
            flow,
            catalog: &self.catalog,
            vars,
            now: self.clock.now(),
            tz: loaded.time_zone.parse().unwrap_or(self.centre.time_zone),
        }
    }

    /// What messages may refer to: the centre and the client's program.
    #[must_use]
    pub fn vars(&self, loaded: &Loaded) -> Vars {
        let mut v = Vars::new();
        v.insert("centre".into(), self.centre.name.clone());
        let program = loaded.program.clone().unwrap_or_else(|| {
            let l = self.catalog.negotiate(&loaded.language);
            self.catalog
                .format(&l, "program-default", &Vars::new())
                .unwrap_or_default()
        });
        v.insert("program".into(), program);
        // A goal check-in quotes the goal it is about, else the first active one.
        if let Some((_, goal)) = loaded
            .session
            .as_ref()
            .and_then(|a| a.goal.as_ref())
            .or(loaded.first_goal.as_ref())
        {
            v.insert("goal".into(), goal.clone());
        }
        v
    }

    fn system(&self, locale: &Locale, key: &str, vars: &Vars) -> Result<Event, RunError> {
        let text = self
            .catalog
            .format(locale, key, vars)
            .map_err(EngineError::from)?;
        Ok(Event::Send {
            key: key.into(),
            text,
            prompt: false,
        })
    }
}
