//! Goal check-ins: a session is about one goal, quoted in the client's words; when it ends, the
//! next active goal's check-in starts straight away, so one check-in covers every active goal.

use super::effects::Effects;
use super::load::Loaded;
use super::{RunError, Runner};
use crate::flow::engine;

/// The flow that checks in on a goal.
pub const GOAL_CHECKIN: &str = "goal-checkin";

/// Whether a flow is the goal check-in (its sessions are each about one goal).
#[must_use]
pub fn is_checkin(flow: &str) -> bool {
    flow == GOAL_CHECKIN
}

impl Runner {
    /// After a goal's check-in is completed, the next active goal's starts in the same input.
    pub(super) fn next_goal(&self, loaded: &Loaded, fx: &mut Effects) -> Result<(), RunError> {
        let Some(st) = &fx.session_update else {
            return Ok(());
        };
        if !is_checkin(st.flow.as_str())
            || st.ended.as_deref() != Some("completed")
            || fx.new_session.is_some()
        {
            return Ok(());
        }
        let Some((id, text)) = &loaded.next_goal else {
            return Ok(());
        };
        let Some(flow) = self.flows.get(&st.flow) else {
            return Ok(());
        };
        let locale = st.locale.clone();
        let vars = self.goal_vars(loaded, text);
        let ctx = self.ctx(&flow, &vars, loaded);
        let (state, events) = engine::start(&ctx, locale)?;
        let active = loaded.session.as_ref();
        fx.new_session = Some((state, active.and_then(|a| a.time_point.clone())));
        fx.goal = Some(*id);
        if let Some(r) = active.and_then(|a| a.referral) {
            fx.referral = Some(r);
        }
        fx.new_session_events(events);
        Ok(())
    }

    /// What a goal's check-in may say: the usual, and this goal in the client's words.
    pub(super) fn goal_vars(&self, loaded: &Loaded, goal: &str) -> crate::i18n::Vars {
        let mut v = self.vars(loaded);
        v.insert("goal".into(), goal.to_owned());
        v
    }
}
