//! Referrers: the referrals each referring provider made, and what became of them (uptake,
//! closing, and the word sent back). A navigator sees the referrals of their own clients; an
//! administrator sees all, and chooses per level of support whether the summaries to referrers
//! go at once or wait for the navigator's review.

use crate::web::AppState;
use crate::web::page::{Done, notice, now, page_ctx, require_admin, store_error};
use crate::web::ui::{Auth, Form};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::{Value, context};
use serde::Deserialize;
use sqlx::Row;

pub fn routes() -> Router<AppState> {
    Router::new().route("/referrers", get(page).post(save_setting))
}

/// One referral as the page lists it.
#[derive(Debug, serde::Serialize)]
struct Line {
    id: i64,
    client: String,
    name: Option<String>,
    at: i64,
    program: Option<String>,
    program_code: Option<String>,
    uptake: String,
    closed_at: Option<i64>,
    closing_reason: Option<String>,
    /// The latest summary's status: draft | sent.
    summary: Option<String>,
}

/// A referring provider and their referrals, with counts by state.
#[derive(Debug, serde::Serialize)]
struct Referrer {
    /// As the referral names them; None: not named.
    name: Option<String>,
    open: usize,
    attended: usize,
    declined: usize,
    dropped_out: usize,
    closed: usize,
    referrals: Vec<Line>,
}

async fn lines(
    st: &AppState,
    viewer: Option<i64>,
    centre: Option<&str>,
) -> Result<Vec<(Option<String>, Line)>, sqlx::Error> {
    let scope = if viewer.is_some() {
        "WHERE ($1 = '' OR c.centre_id = $1) AND c.navigator_id = $2"
    } else {
        "WHERE ($1 = '' OR c.centre_id = $1)"
    };
    let sql = format!(
        "SELECT r.id, r.client_id, c.display_name, r.referred_by, r.referred_at, r.program, p.code, r.uptake, r.closed_at, r.closing_reason, \
                (SELECT s.status FROM referrer_summaries s WHERE s.referral_id = r.id ORDER BY s.id DESC LIMIT 1) \
         FROM referrals r JOIN clients c ON c.id = r.client_id LEFT JOIN programs p ON p.id = r.program_id \
         {scope} ORDER BY r.referred_by, r.referred_at DESC, r.id DESC LIMIT 2000"
    );
    let mut q = sqlx::query(&sql).bind(centre.unwrap_or_default().to_owned());
    if let Some(v) = viewer {
        q = q.bind(v);
    }
    q.fetch_all(st.runner.db.pool())
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get::<Option<String>, _>(3)?,
                Line {
                    id: r.try_get(0)?,
                    client: r.try_get(1)?,
                    name: r.try_get(2)?,
                    at: r.try_get(4)?,
                    program: r.try_get(5)?,
                    program_code: r.try_get(6)?,
                    uptake: r.try_get(7)?,
                    closed_at: r.try_get(8)?,
                    closing_reason: r.try_get(9)?,
                    summary: r.try_get(10)?,
                },
            ))
        })
        .collect()
}

/// Groups the referrals by who made them (names compared without case or outer spaces).
fn group(lines: Vec<(Option<String>, Line)>) -> Vec<Referrer> {
    let mut out: Vec<Referrer> = Vec::new();
    for (by, line) in lines {
        let by = by.map(|b| b.trim().to_owned()).filter(|b| !b.is_empty());
        let key = by.as_deref().map(str::to_lowercase);
        let i = match out
            .iter()
            .position(|r| r.name.as_deref().map(str::to_lowercase) == key)
        {
            Some(i) => i,
            None => {
                out.push(Referrer {
                    name: by,
                    open: 0,
                    attended: 0,
                    declined: 0,
                    dropped_out: 0,
                    closed: 0,
                    referrals: Vec::new(),
                });
                out.len() - 1
            }
        };
        let r = &mut out[i];
        if line.closed_at.is_some() {
            r.closed += 1;
        } else {
            r.open += 1;
        }
        match line.uptake.as_str() {
            "attended" => r.attended += 1,
            "declined" => r.declined += 1,
            "dropped-out" => r.dropped_out += 1,
            _ => {}
        }
        r.referrals.push(line);
    }
    // The busiest referrers first; those not named last.
    out.sort_by(|a, b| {
        (
            a.name.is_none(),
            std::cmp::Reverse(a.referrals.len()),
            &a.name,
        )
            .cmp(&(
                b.name.is_none(),
                std::cmp::Reverse(b.referrals.len()),
                &b.name,
            ))
    });
    out
}

async fn page(State(st): State<AppState>, a: Auth, Query(d): Query<Done>) -> Response {
    let listed = match lines(&st, a.viewer(), a.staff.scope()).await {
        Ok(l) => l,
        Err(e) => return store_error(&st, &a, &e),
    };
    let n = listed.len();
    let referrers = group(listed);
    let automatic = async {
        let mut tx = st.runner.db.begin().await?;
        let l = crate::summaries::automatic_levels(&mut tx).await?;
        tx.rollback()
            .await
            .map_err(|e| crate::store::StoreError::Query {
                doing: "reading a setting",
                source: e,
            })?;
        Ok::<_, crate::store::StoreError>(l)
    }
    .await;
    let automatic = match automatic {
        Ok(l) => l,
        Err(e) => return store_error(&st, &a, &e),
    };
    let _ = crate::store::record::audit_one(
        &st.runner.db,
        now(&st),
        &a.staff.actor(),
        "referrers-view",
        None,
        &format!("{n} referrals of {} referrers listed", referrers.len()),
    )
    .await;
    st.ui.render(
        "referrers.html",
        page_ctx(
            &a,
            context! {
                referrers => Value::from_serialize(&referrers),
                levels => crate::domain::SUPPORT_LEVELS,
                automatic => automatic,
                notice => notice(&st, a.lang, &d, None),
            },
        ),
    )
}

/// The administrator's choice: one field per level, `auto` or `review`.
#[derive(Debug, Deserialize, Default)]
struct SettingForm {
    #[serde(default)]
    signposting: String,
    #[serde(default)]
    light: String,
    #[serde(default)]
    medium: String,
    #[serde(default)]
    holistic: String,
}

async fn save_setting(State(st): State<AppState>, Form(a, f): Form<SettingForm>) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    let chosen: Vec<String> = [
        ("signposting", &f.signposting),
        ("light", &f.light),
        ("medium", &f.medium),
        ("holistic", &f.holistic),
    ]
    .into_iter()
    .filter(|(_, v)| v.as_str() == "auto")
    .map(|(l, _)| l.to_owned())
    .collect();
    match crate::summaries::set_automatic_levels(&st.runner.db, &chosen, now(&st), &a.staff.actor())
        .await
    {
        Ok(()) => Redirect::to(&format!(
            "/referrers?{}",
            Done::query("summaries-set", None)
        ))
        .into_response(),
        Err(e) => store_error(&st, &a, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: i64, uptake: &str, closed: bool) -> Line {
        Line {
            id,
            client: format!("c{id}"),
            name: None,
            at: id,
            program: None,
            program_code: None,
            uptake: uptake.into(),
            closed_at: closed.then_some(id),
            closing_reason: None,
            summary: None,
        }
    }

    #[test]
    fn referrals_group_by_referrer_whatever_the_case_and_spaces() {
        let g = group(vec![
            (Some("Dr Tremblay".into()), line(1, "attended", false)),
            (None, line(2, "not-yet", false)),
            (Some(" dr tremblay ".into()), line(3, "declined", true)),
            (Some("NP Okafor".into()), line(4, "dropped-out", false)),
            (Some(String::new()), line(5, "not-yet", false)),
        ]);
        assert_eq!(g.len(), 3);
        assert_eq!(g[0].name.as_deref(), Some("Dr Tremblay"));
        assert_eq!(
            (g[0].open, g[0].closed, g[0].attended, g[0].declined),
            (1, 1, 1, 1)
        );
        assert_eq!(g[1].name.as_deref(), Some("NP Okafor"));
        assert_eq!(g[1].dropped_out, 1);
        // Not named: last, with both unnamed referrals.
        assert_eq!(g[2].name, None);
        assert_eq!(g[2].referrals.len(), 2);
    }
}
