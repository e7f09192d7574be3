//! Goals on the record: set with the client (their words, steps, a target date, the referral,
//! how close they are now), rated again at a call or visit, closed as met, changed or dropped.

use super::actions::ActionForm;
use crate::domain::ClientId;
use crate::store::goals::{self, Attainment, GoalError, NewGoal};
use crate::web::AppState;
use crate::web::page::{now, said};
use minijinja::{Value, context};

/// Runs a goal action; Ok: the notice to show.
pub(super) async fn act(
    st: &AppState,
    client: &ClientId,
    action: &str,
    f: &ActionForm,
    actor: &str,
) -> Result<(&'static str, Option<String>), String> {
    let t = now(st);
    let db = &st.runner.db;
    let rating = || -> Result<Option<i64>, String> {
        match f.rating.trim() {
            "" => Ok(None),
            r => r
                .parse::<i64>()
                .map_err(|_| format!("{r:?} is not a rating from 0 to 10"))
                .and_then(|r| goals::check_rating(r).map_err(|e| e.to_string()))
                .map(Some),
        }
    };
    let goal = || {
        f.goal
            .trim()
            .parse::<i64>()
            .map_err(|_| "choose a goal".to_owned())
    };
    let r: Result<(), GoalError> = match action {
        "goal-add" => {
            let g = NewGoal {
                text: f.goal_text.clone(),
                steps: Some(f.goal_steps.clone()),
                target_on: Some(f.target_on.trim().to_owned()).filter(|d| !d.is_empty()),
                referral: f.referral.trim().parse().ok(),
                rating: rating()?,
            };
            goals::add(db, client, &g, actor, t).await.map(|_| ())
        }
        "goal-rate" => {
            let r = rating()?.ok_or("choose how close they are, from 0 to 10")?;
            goals::rate(db, client, goal()?, r, actor, t).await
        }
        _ => goals::close(db, client, goal()?, f.how.trim(), actor, t).await,
    };
    r.map(|()| {
        let notice = match action {
            "goal-add" => "goal-set",
            "goal-rate" => "goal-rated",
            _ => "goal-closed",
        };
        (notice, None)
    })
    .map_err(|e| said(&e))
}

/// Each referral's goals, set and met (what a "goal met" closing stands on), by referral id.
pub(super) fn by_referral(
    list: &[goals::Goal],
) -> std::collections::BTreeMap<String, (usize, usize)> {
    let mut m = std::collections::BTreeMap::new();
    for g in list {
        if let Some(r) = g.referral_id {
            let e: &mut (usize, usize) = m.entry(r.to_string()).or_default();
            e.0 += 1;
            if g.status == "met" {
                e.1 += 1;
            }
        }
    }
    m
}

/// The record's goals, for the page: each with its first and latest rating, and the client's
/// attainment.
pub(super) fn view(list: &[goals::Goal]) -> (Vec<Value>, Value) {
    let a = Attainment::of(list);
    let goals = list
        .iter()
        .map(|g| {
            let (first, latest) = g.first_and_latest().unzip();
            // The target day, at noon UTC: the same day wherever the centre is in the Americas.
            let target_at = g
                .target_on
                .as_deref()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .and_then(|d| d.and_hms_opt(12, 0, 0))
                .map(|d| d.and_utc().timestamp_millis());
            context! { g => Value::from_serialize(g), first => first, latest => latest, rated => g.ratings.len(), target_at => target_at }
        })
        .collect();
    let change = a.change().map(|c| format!("{c:+.1}"));
    (
        goals,
        context! { goals => a.goals, met => a.met, closed => a.closed, rated => a.rated, change => change },
    )
}
