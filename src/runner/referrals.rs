//! Referrals as the API makes and changes them: a new one beside any other the client has, and
//! one referral's uptake, reasons, level or closing. Each is checked whole before anything is
//! written, audited, and tells the referrer (a summary) when there is news.

use super::Runner;
use super::casework::{CLOSING_REASONS, SUPPORT_LEVELS, UPTAKES, send_program_details};
use crate::domain::ClientId;
use crate::schedule::ActionError;
use crate::store::Doing;
use crate::store::record::audit;

/// A new referral, as the API takes it: always a new one, beside any other the client has.
#[derive(Debug, Clone, Default)]
pub struct NewReferralSpec {
    pub referred_by: Option<String>,
    pub reasons: Vec<String>,
    /// A program of the catalogue, by its code.
    pub program_code: Option<String>,
    /// A program outside the catalogue ("other"), by name.
    pub program_other: Option<String>,
    pub support_level: Option<String>,
    /// `YYYY-MM-DD`; unset: today.
    pub referred_on: Option<String>,
    /// The client agrees to reminders before the program's sessions; unset: unchanged.
    pub reminders: Option<bool>,
}

pub(crate) fn check_reasons(reasons: &[String]) -> Result<(), ActionError> {
    if let Some(r) = reasons
        .iter()
        .find(|r| !crate::domain::REASONS.contains(&r.as_str()))
    {
        return Err(ActionError::Invalid(format!(
            "reason {r:?} is not one of {}",
            crate::domain::REASONS.join(", ")
        )));
    }
    Ok(())
}

fn check_level(level: Option<&str>) -> Result<(), ActionError> {
    if let Some(l) = level
        && !SUPPORT_LEVELS.contains(&l)
    {
        return Err(ActionError::Invalid(format!(
            "level of support {l:?} is not one of {}",
            SUPPORT_LEVELS.join(", ")
        )));
    }
    Ok(())
}

/// Makes a referral (checked whole first: nothing is written when a field is wrong). A
/// catalogue program's details are texted to the client. Returns the referral's id.
pub async fn add_referral(
    runner: &Runner,
    client: &ClientId,
    r: &NewReferralSpec,
    actor: &str,
) -> Result<i64, ActionError> {
    let db = &runner.db;
    check_reasons(&r.reasons)?;
    check_level(r.support_level.as_deref())?;
    let row: Option<String> = sqlx::query_scalar("SELECT language FROM clients WHERE id = $1")
        .bind(client.as_str())
        .fetch_optional(db.pool())
        .await
        .doing("reading a client")?;
    let Some(language) = row else {
        return Err(ActionError::UnknownClient(client.clone()));
    };
    let program = match r.program_code.as_deref() {
        Some(code) => {
            let p = crate::programs::for_client(db, code, client.as_str())
                .await?
                .ok_or_else(|| {
                    ActionError::Invalid(format!("there is no program {code:?} in the catalogue"))
                })?;
            if !p.active {
                return Err(ActionError::Invalid(format!(
                    "the program {code} is retired: choose another"
                )));
            }
            Some(p)
        }
        None => None,
    };
    let referred_at = match r
        .referred_on
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        Some(d) => {
            let date = crate::schedule::time::parse_date(d).map_err(ActionError::Invalid)?;
            let t = crate::schedule::time::resolve(
                runner.centre.time_zone,
                date.and_hms_opt(12, 0, 0).unwrap_or_default(),
            );
            if t > runner.clock.now() {
                return Err(ActionError::Invalid(format!(
                    "referral date {d} is in the future"
                )));
            }
            Some(crate::clock::to_ms(t))
        }
        None => None,
    };
    let now = crate::clock::to_ms(runner.clock.now());
    let new = crate::store::record::NewReferral {
        referred_by: r
            .referred_by
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        reasons: r.reasons.clone(),
        program: program
            .as_ref()
            .map(|p| p.name(&language))
            .or_else(|| r.program_other.clone()),
        program_id: program.as_ref().map(|p| p.id),
        support_level: r.support_level.clone(),
        referred_at,
        ..Default::default()
    };
    let id = crate::store::record::add_referral(db, client, &new, now, actor).await?;
    if let Some(granted) = r.reminders {
        let mut tx = db.begin().await?;
        super::casework::set_reminders(&mut tx, client, granted, actor, now).await?;
        tx.commit().await.doing("recording reminders")?;
    }
    if let Some(p) = &program
        && let Err(why) = send_program_details(runner, client, p, actor).await?
    {
        tracing::debug!(why, "a program's details were not sent");
    }
    Ok(id)
}

/// What may change on one referral: its uptake, reasons and level, and its closing.
#[derive(Debug, Clone, Default)]
pub struct ReferralPatch {
    pub uptake: Option<String>,
    pub reasons: Option<Vec<String>>,
    pub support_level: Option<String>,
    /// Closes it with this reason.
    pub closing_reason: Option<String>,
}

/// Changes one referral of a client. An uptake of declined or dropped-out stops the steps that
/// declare it; closing stops the check-ins that run until the referral closes.
pub async fn patch_referral(
    runner: &Runner,
    client: &ClientId,
    referral: i64,
    p: &ReferralPatch,
    actor: &str,
) -> Result<(), ActionError> {
    let db = &runner.db;
    if let Some(u) = &p.uptake
        && !UPTAKES.contains(&u.as_str())
    {
        return Err(ActionError::Invalid(format!(
            "uptake {u:?} is not one of {}",
            UPTAKES.join(", ")
        )));
    }
    if let Some(r) = &p.reasons {
        check_reasons(r)?;
    }
    check_level(p.support_level.as_deref())?;
    if let Some(c) = &p.closing_reason
        && !CLOSING_REASONS.contains(&c.as_str())
    {
        return Err(ActionError::Invalid(format!(
            "closing reason {c:?} is not one of {}",
            CLOSING_REASONS.join(", ")
        )));
    }
    let now = crate::clock::to_ms(runner.clock.now());
    let mut tx = db.begin().await?;
    let row: Option<(String, Option<i64>)> =
        sqlx::query_as("SELECT uptake, closed_at FROM referrals WHERE id = $1 AND client_id = $2")
            .bind(referral)
            .bind(client.as_str())
            .fetch_optional(&mut *tx)
            .await
            .doing("reading a referral")?;
    let Some((before, closed_at)) = row else {
        return Err(ActionError::Invalid(format!(
            "client {client} has no referral {referral}"
        )));
    };
    if closed_at.is_some() && p.closing_reason.is_some() {
        return Err(ActionError::Invalid(format!(
            "referral {referral} is already closed"
        )));
    }
    sqlx::query(
        "UPDATE referrals SET uptake = COALESCE($1, uptake), reasons = COALESCE($2, reasons), \
         support_level = COALESCE($3, support_level), closing_reason = COALESCE($4, closing_reason), \
         closed_at = CASE WHEN $5 = 1 THEN $6 ELSE closed_at END WHERE id = $7",
    )
    .bind(p.uptake.as_deref())
    .bind(p.reasons.as_ref().map(|r| r.join(",")))
    .bind(p.support_level.as_deref())
    .bind(p.closing_reason.as_deref())
    .bind(i64::from(p.closing_reason.is_some()))
    .bind(now)
    .bind(referral)
    .execute(&mut *tx)
    .await
    .doing("changing a referral")?;
    if let Some(u) = &p.uptake
        && *u != before
    {
        crate::store::uptake::record(&mut tx, referral, u, actor, now).await?;
        crate::schedule::stop_for_uptake(
            &mut tx,
            db.backend(),
            &runner.sequences,
            client.as_str(),
            u,
            now,
        )
        .await?;
    }
    // Word back to the referrer: the uptake changed, or the referral closed.
    let uptake_changed = p.uptake.as_ref().is_some_and(|u| *u != before);
    if p.closing_reason.is_some() || uptake_changed {
        let event = if p.closing_reason.is_some() {
            "closed"
        } else {
            "uptake"
        };
        crate::summaries::write(&mut tx, &runner.catalog, referral, event, now, actor).await?;
    }
    let mut what = Vec::new();
    if let Some(u) = &p.uptake {
        what.push(format!("uptake {u}"));
    }
    if p.reasons.is_some() {
        what.push("reasons".into());
    }
    if let Some(l) = &p.support_level {
        what.push(format!("level {l}"));
    }
    if let Some(c) = &p.closing_reason {
        what.push(format!("closed: {c}"));
    }
    audit(
        &mut tx,
        now,
        actor,
        if p.closing_reason.is_some() {
            "referral-close"
        } else {
            "referral-update"
        },
        Some(client),
        &format!("referral {referral}: {}", what.join(", ")),
    )
    .await?;
    tx.commit().await.doing("changing a referral")?;
    Ok(())
}
