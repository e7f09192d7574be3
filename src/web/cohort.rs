//! Cohort: referrals by reason, uptake, response rates per flow, and the change of each
//! outcome measure between baseline and six months.

use crate::store::scores::{paired, score_points};
use crate::store::{Db, Doing, StoreError};
use crate::web::AppState;
use crate::web::page::{now, page_ctx, store_error};
use crate::web::ui::{Auth, charts};
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new().route("/cohort", get(cohort_page))
}

async fn cohort_page(State(st): State<AppState>, a: Auth) -> Response {
    let c = match cohort(&st.runner.db, a.viewer()).await {
        Ok(c) => c,
        Err(e) => return store_error(&st, &a, &e),
    };
    let _ = crate::store::record::audit_one(
        &st.runner.db,
        now(&st),
        &a.staff.actor(),
        "cohort-view",
        None,
        "",
    )
    .await;
    #[allow(clippy::cast_precision_loss)]
    let w = st.words(a.lang);
    let reasons_chart = (!c.reasons.is_empty()).then(|| {
        let g: Vec<(String, Vec<f64>)> = c
            .reasons
            .iter()
            .map(|(k, n)| (w.code("reason", k), vec![*n as f64]))
            .collect();
        charts::bars(
            &st.ui.text.get(a.lang, "referrals-by-reason", None),
            &["n"],
            &g,
        )
    });
    let b = st.ui.text.get(a.lang, "baseline", None);
    let s = st.ui.text.get(a.lang, "six-months", None);
    let with_pairs: Vec<(String, Vec<f64>)> = c
        .outcomes
        .iter()
        .filter(|o| o.n > 0)
        .map(|o| {
            (
                w.code("field", &o.instrument),
                vec![o.baseline_mean, o.six_mean],
            )
        })
        .collect();
    let outcomes_chart = (!with_pairs.is_empty()).then(|| {
        charts::bars(
            &st.ui.text.get(a.lang, "outcomes", None),
            &[&b, &s],
            &with_pairs,
        )
    });
    st.ui.render(
        "cohort.html",
        page_ctx(
            &a,
            context! { reasons => c.reasons, uptake => c.uptake, responses => c.responses, outcomes => c.outcomes, reasons_chart => reasons_chart, outcomes_chart => outcomes_chart },
        ),
    )
}

/// The cohort's figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Cohort {
    pub referrals: i64,
    pub reasons: Vec<(String, i64)>,
    /// Uptake value, count, share of referrals.
    pub uptake: Vec<(String, i64, String)>,
    pub responses: Vec<ResponseRate>,
    pub outcomes: Vec<Outcome>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResponseRate {
    pub flow: String,
    pub started: i64,
    pub completed: i64,
    pub rate: String,
}

/// The change of one measure between baseline and six months, over clients with both.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub instrument: String,
    pub n: usize,
    pub baseline: String,
    pub six: String,
    pub change: String,
    pub baseline_mean: f64,
    pub six_mean: f64,
}

/// The measures whose change the cohort shows: UCLA-3 and the four ONS4 items.
pub const OUTCOME_MEASURES: [&str; 5] = [
    "ucla3",
    "ons4-life-satisfaction",
    "ons4-worthwhile",
    "ons4-happy",
    "ons4-anxious",
];

fn pct(n: i64, d: i64) -> String {
    if d == 0 {
        "—".into()
    } else {
        #[allow(clippy::cast_precision_loss)]
        let p = n as f64 * 100.0 / d as f64;
        format!("{p:.0}%")
    }
}

pub async fn cohort(db: &Db, viewer: Option<i64>) -> Result<Cohort, StoreError> {
    let v = (i64::from(viewer.is_some()), viewer.unwrap_or(0));
    let refs = sqlx::query(
        "SELECT r.reasons, r.uptake FROM referrals r JOIN clients c ON c.id = r.client_id WHERE c.kind = 'real' AND ($1 = 0 OR c.navigator_id = $2)",
    )
    .bind(v.0)
    .bind(v.1)
    .fetch_all(db.pool())
    .await
    .doing("reading referrals")?;
    let mut reasons: BTreeMap<String, i64> = BTreeMap::new();
    let mut uptake: BTreeMap<String, i64> = BTreeMap::new();
    for r in &refs {
        let rs: String = r.try_get(0).doing("reading referrals")?;
        for reason in rs.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            *reasons.entry(reason.to_owned()).or_default() += 1;
        }
        let u: String = r.try_get(1).doing("reading referrals")?;
        *uptake.entry(u).or_default() += 1;
    }
    let total = i64::try_from(refs.len()).unwrap_or(i64::MAX);
    let mut reasons: Vec<(String, i64)> = reasons.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let sessions = sqlx::query(
        "SELECT s.flow_id, COUNT(*), SUM(CASE WHEN s.status = 'completed' THEN 1 ELSE 0 END) FROM sessions s \
         JOIN clients c ON c.id = s.client_id WHERE c.kind = 'real' AND ($1 = 0 OR c.navigator_id = $2) GROUP BY s.flow_id ORDER BY s.flow_id",
    )
    .bind(v.0)
    .bind(v.1)
    .fetch_all(db.pool())
    .await
    .doing("reading response rates")?;
    let responses = sessions
        .iter()
        .map(|r| {
            let started: i64 = r.try_get(1)?;
            let completed: Option<i64> = r.try_get(2)?;
            let completed = completed.unwrap_or(0);
            Ok(ResponseRate {
                flow: r.try_get(0)?,
                started,
                completed,
                rate: pct(completed, started),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .doing("reading response rates")?;
    let points = score_points(db, viewer).await?;
    let outcomes = OUTCOME_MEASURES
        .iter()
        .map(|m| {
            let pairs = paired(&points, m);
            #[allow(clippy::cast_precision_loss)]
            let mean = |f: &dyn Fn(&(i64, i64)) -> i64| {
                if pairs.is_empty() {
                    0.0
                } else {
                    pairs.values().map(|p| f(p) as f64).sum::<f64>() / pairs.len() as f64
                }
            };
            let (b, s) = (mean(&|p| p.0), mean(&|p| p.1));
            let show = |x: f64| {
                if pairs.is_empty() {
                    "—".to_owned()
                } else {
                    format!("{x:.1}")
                }
            };
            Outcome {
                instrument: (*m).to_owned(),
                n: pairs.len(),
                baseline: show(b),
                six: show(s),
                change: if pairs.is_empty() {
                    "—".into()
                } else {
                    format!("{:+.1}", s - b)
                },
                baseline_mean: b,
                six_mean: s,
            }
        })
        .collect();
    Ok(Cohort {
        referrals: total,
        reasons,
        uptake: uptake
            .into_iter()
            .map(|(k, n)| {
                let p = pct(n, total);
                (k, n, p)
            })
            .collect(),
        responses,
        outcomes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::scores::ScorePoint;

    fn p(c: &str, i: &str, tp: &str, t: i64) -> ScorePoint {
        ScorePoint {
            client: c.into(),
            instrument: i.into(),
            time_point: tp.into(),
            total: Some(t),
            category: None,
            at: 0,
        }
    }

    #[test]
    fn pairs_need_both_time_points_and_take_the_latest() {
        let pts = vec![
            p("a", "ucla3", "baseline", 8),
            p("a", "ucla3", "6-month", 5),
            p("b", "ucla3", "baseline", 7),
            p("c", "ucla3", "baseline", 9),
            p("c", "ucla3", "baseline", 6),
            p("c", "ucla3", "6-month", 4),
            p("c", "ons4-happy", "6-month", 4),
        ];
        let got = paired(&pts, "ucla3");
        assert_eq!(got.len(), 2);
        assert_eq!(got["a"], (8, 5));
        assert_eq!(got["c"], (6, 4));
        assert_eq!(pct(1, 3), "33%");
        assert_eq!(pct(0, 0), "—");
    }
}
