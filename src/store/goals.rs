//! Goals: what matters to the client, turned with their navigator into a short text in their own
//! words (never translated), with optional steps, a target date and the referral it belongs to.
//! Each has a 0–10 self-rating, "how close are you to this goal?", taken when it is set and at
//! each follow-up; it closes as met, changed or dropped. Every change is audited.

use super::record::audit;
use super::{Db, Doing, StoreError, Tx};
use crate::domain::ClientId;
use serde::Serialize;

/// How a goal ends.
pub const CLOSINGS: [&str; 3] = ["met", "changed", "dropped"];
/// The longest goal text: it is quoted in a text message.
pub const MAX_TEXT: usize = 200;

#[derive(Debug, Clone, Serialize)]
pub struct Goal {
    pub id: i64,
    pub referral_id: Option<i64>,
    pub text: String,
    pub steps: Option<String>,
    pub target_on: Option<String>,
    /// active | met | changed | dropped
    pub status: String,
    pub created_by: String,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub ratings: Vec<Rating>,
}

impl Goal {
    /// The rating when the goal was set (the first), and the latest.
    #[must_use]
    pub fn first_and_latest(&self) -> Option<(i64, i64)> {
        Some((self.ratings.first()?.rating, self.ratings.last()?.rating))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Rating {
    pub rating: i64,
    /// set | client | navigator
    pub source: String,
    pub actor: String,
    pub at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct NewGoal {
    pub text: String,
    pub steps: Option<String>,
    pub target_on: Option<String>,
    pub referral: Option<i64>,
    /// How close they are now, 0–10 (asked when the goal is set).
    pub rating: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum GoalError {
    #[error("{0}")]
    Invalid(String),
    #[error("no such goal for this client")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A rating in 0..=10, else a clear error.
pub fn check_rating(r: i64) -> Result<i64, GoalError> {
    if (0..=10).contains(&r) {
        Ok(r)
    } else {
        Err(GoalError::Invalid(format!(
            "a rating is a whole number from 0 to 10, not {r}"
        )))
    }
}

fn check(g: &NewGoal) -> Result<(), GoalError> {
    let n = g.text.trim().chars().count();
    if n == 0 {
        return Err(GoalError::Invalid(
            "a goal needs a few words, in the client's own words".into(),
        ));
    }
    if n > MAX_TEXT {
        return Err(GoalError::Invalid(format!(
            "a goal is at most {MAX_TEXT} characters (it is quoted in a text message); this one has {n}"
        )));
    }
    if let Some(d) = &g.target_on
        && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err()
    {
        return Err(GoalError::Invalid(format!(
            "the target date {d:?} is not a date (YYYY-MM-DD)"
        )));
    }
    if let Some(r) = g.rating {
        check_rating(r)?;
    }
    Ok(())
}

/// Sets a goal for a client (and its first rating, if given). Audited; returns its id.
pub async fn add(
    db: &Db,
    client: &ClientId,
    g: &NewGoal,
    actor: &str,
    now: i64,
) -> Result<i64, GoalError> {
    check(g)?;
    let mut tx = db.begin().await?;
    if let Some(r) = g.referral {
        let owned: Option<i64> =
            sqlx::query_scalar("SELECT id FROM referrals WHERE id = $1 AND client_id = $2")
                .bind(r)
                .bind(client.as_str())
                .fetch_optional(&mut *tx)
                .await
                .doing("checking a goal's referral")?;
        if owned.is_none() {
            return Err(GoalError::Invalid(format!(
                "referral {r} is not one of this client's"
            )));
        }
    }
    let steps = g.steps.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO goals (client_id, referral_id, text, steps, target_on, status, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'active', $6, $7) RETURNING id",
    )
    .bind(client.as_str())
    .bind(g.referral)
    .bind(g.text.trim())
    .bind(steps)
    .bind(g.target_on.as_deref())
    .bind(actor)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .doing("setting a goal")?;
    if let Some(r) = g.rating {
        insert_rating(&mut tx, id, client.as_str(), r, "set", None, actor, now).await?;
    }
    audit(
        &mut tx,
        now,
        actor,
        "goal-set",
        Some(client),
        &format!("goal {id}"),
    )
    .await?;
    tx.commit().await.doing("setting a goal")?;
    Ok(id)
}

/// One rating of a goal, in the caller's transaction.
#[allow(clippy::too_many_arguments)]
async fn insert_rating(
    tx: &mut Tx,
    goal: i64,
    client: &str,
    rating: i64,
    source: &str,
    session: Option<i64>,
    actor: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO goal_ratings (goal_id, client_id, rating, source, session_id, actor, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(goal)
    .bind(client)
    .bind(rating)
    .bind(source)
    .bind(session)
    .bind(actor)
    .bind(now)
    .execute(&mut **tx)
    .await
    .doing("rating a goal")?;
    Ok(())
}

/// A navigator records how close the client says they are (at a call, a visit). Audited.
pub async fn rate(
    db: &Db,
    client: &ClientId,
    goal: i64,
    rating: i64,
    actor: &str,
    now: i64,
) -> Result<(), GoalError> {
    check_rating(rating)?;
    let mut tx = db.begin().await?;
    owned(&mut tx, client, goal).await?;
    insert_rating(
        &mut tx,
        goal,
        client.as_str(),
        rating,
        "navigator",
        None,
        actor,
        now,
    )
    .await?;
    audit(
        &mut tx,
        now,
        actor,
        "goal-rated",
        Some(client),
        &format!("goal {goal}"),
    )
    .await?;
    tx.commit().await.doing("rating a goal")?;
    Ok(())
}

async fn owned(tx: &mut Tx, client: &ClientId, goal: i64) -> Result<String, GoalError> {
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM goals WHERE id = $1 AND client_id = $2")
            .bind(goal)
            .bind(client.as_str())
            .fetch_optional(&mut **tx)
            .await
            .doing("reading a goal")?;
    status.ok_or(GoalError::NotFound)
}

/// Closes a goal as met, changed or dropped. Audited.
pub async fn close(
    db: &Db,
    client: &ClientId,
    goal: i64,
    how: &str,
    actor: &str,
    now: i64,
) -> Result<(), GoalError> {
    if !CLOSINGS.contains(&how) {
        return Err(GoalError::Invalid(format!(
            "a goal closes as {}, not {how:?}",
            CLOSINGS.join(", ")
        )));
    }
    let mut tx = db.begin().await?;
    if owned(&mut tx, client, goal).await? != "active" {
        return Err(GoalError::Invalid("this goal is already closed".into()));
    }
    sqlx::query("UPDATE goals SET status = $1, closed_by = $2, closed_at = $3 WHERE id = $4")
        .bind(how)
        .bind(actor)
        .bind(now)
        .bind(goal)
        .execute(&mut *tx)
        .await
        .doing("closing a goal")?;
    audit(
        &mut tx,
        now,
        actor,
        "goal-closed",
        Some(client),
        &format!("goal {goal}: {how}"),
    )
    .await?;
    tx.commit().await.doing("closing a goal")?;
    Ok(())
}

/// A client's goals, oldest first, each with its ratings.
pub async fn of_client(db: &Db, client: &str) -> Result<Vec<Goal>, StoreError> {
    let rows: Vec<GoalRow> = sqlx::query_as(
        "SELECT id, referral_id, text, steps, target_on, status, created_by, created_at, closed_at \
         FROM goals WHERE client_id = $1 ORDER BY id",
    )
    .bind(client)
    .fetch_all(db.pool())
    .await
    .doing("reading goals")?;
    let ratings: Vec<(i64, i64, String, String, i64)> = sqlx::query_as(
        "SELECT goal_id, rating, source, actor, at FROM goal_ratings WHERE client_id = $1 ORDER BY id",
    )
    .bind(client)
    .fetch_all(db.pool())
    .await
    .doing("reading goal ratings")?;
    Ok(rows
        .into_iter()
        .map(|r| Goal {
            ratings: ratings
                .iter()
                .filter(|x| x.0 == r.0)
                .map(|x| Rating {
                    rating: x.1,
                    source: x.2.clone(),
                    actor: x.3.clone(),
                    at: x.4,
                })
                .collect(),
            id: r.0,
            referral_id: r.1,
            text: r.2,
            steps: r.3,
            target_on: r.4,
            status: r.5,
            created_by: r.6,
            created_at: r.7,
            closed_at: r.8,
        })
        .collect())
}

type GoalRow = (
    i64,
    Option<i64>,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    i64,
    Option<i64>,
);

/// Goal attainment over some goals: how many, how many met, and over the goals rated at least
/// twice, the mean change from the first rating to the latest.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Attainment {
    pub goals: usize,
    pub met: usize,
    pub closed: usize,
    /// Goals with a first and a later rating.
    pub rated: usize,
    pub mean_first: Option<f64>,
    pub mean_latest: Option<f64>,
}

impl Attainment {
    #[must_use]
    pub fn of<'a>(goals: impl IntoIterator<Item = &'a Goal>) -> Self {
        let mut a = Attainment::default();
        let (mut first, mut latest) = (0i64, 0i64);
        for g in goals {
            a.goals += 1;
            if g.status == "met" {
                a.met += 1;
            }
            if g.status != "active" {
                a.closed += 1;
            }
            if g.ratings.len() >= 2
                && let Some((f, l)) = g.first_and_latest()
            {
                a.rated += 1;
                first += f;
                latest += l;
            }
        }
        if a.rated > 0 {
            #[allow(clippy::cast_precision_loss)]
            let n = a.rated as f64;
            #[allow(clippy::cast_precision_loss)]
            {
                a.mean_first = Some(first as f64 / n);
                a.mean_latest = Some(latest as f64 / n);
            }
        }
        a
    }

    /// The mean change in rating, first to latest.
    #[must_use]
    pub fn change(&self) -> Option<f64> {
        Some(self.mean_latest? - self.mean_first?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goal(status: &str, ratings: &[i64]) -> Goal {
        Goal {
            id: 1,
            referral_id: None,
            text: "x".into(),
            steps: None,
            target_on: None,
            status: status.into(),
            created_by: "t".into(),
            created_at: 0,
            closed_at: None,
            ratings: ratings
                .iter()
                .map(|r| Rating {
                    rating: *r,
                    source: "set".into(),
                    actor: "t".into(),
                    at: 0,
                })
                .collect(),
        }
    }

    #[test]
    fn attainment_counts_met_and_the_change_of_goals_rated_twice() {
        let gs = [
            goal("met", &[2, 5, 9]),
            goal("active", &[4, 6]),
            goal("dropped", &[3]),
        ];
        let a = Attainment::of(&gs);
        assert_eq!((a.goals, a.met, a.closed, a.rated), (3, 1, 2, 2));
        assert_eq!(a.mean_first, Some(3.0));
        assert_eq!(a.mean_latest, Some(7.5));
        assert_eq!(a.change(), Some(4.5));
        assert_eq!(Attainment::of(&[]).change(), None);
        assert!(check_rating(11).is_err() && check_rating(0).is_ok());
    }
}
