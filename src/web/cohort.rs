//! Cohort: the whole evaluation over any filter (period, program, reason, level of support,
//! language, navigator, referrer): referrals by reason, uptake, every measure at baseline, 3 and
//! 6 months with the paired change and its n, goal attainment, health-system use before and
//! after, the client's experience, and outcomes and uptake stratified by each sociodemographic
//! variable and by newcomer status. A cell of fewer than five clients shows "< 5".

use crate::evaluation::{self, Filter};
use crate::web::AppState;
use crate::web::page::{now, page_ctx, store_error};
use crate::web::ui::{Auth, charts};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use minijinja::context;

pub fn routes() -> Router<AppState> {
    Router::new().route("/cohort", get(cohort_page))
}

async fn cohort_page(
    State(st): State<AppState>,
    a: Auth,
    Query(mut filter): Query<Filter>,
) -> Response {
    filter.centre = a.staff.scope().map(str::to_owned);
    let tz = st.runner.centre.time_zone;
    let facts = match evaluation::facts(&st.runner.db, a.viewer(), &filter, tz).await {
        Ok(f) => f,
        Err(e) => return store_error(&st, &a, &e),
    };
    let c = evaluation::cohort(&facts);
    let responses = match evaluation::responses(&st.runner.db, a.viewer(), a.staff.scope()).await {
        Ok(r) => r,
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
    let w = st.words(a.lang);
    #[allow(clippy::cast_precision_loss)]
    let shown: Vec<(String, Vec<f64>)> = c
        .reasons
        .iter()
        .filter(|r| !r.clients.suppressed())
        .map(|r| (w.code("reason", &r.reason), vec![r.clients.count as f64]))
        .collect();
    let reasons_chart = (!shown.is_empty()).then(|| {
        charts::bars(
            &st.ui.text.get(a.lang, "referrals-by-reason", None),
            &["n"],
            &shown,
        )
    });
    let b = st.ui.text.get(a.lang, "baseline", None);
    let s = st.ui.text.get(a.lang, "six-months", None);
    // Only measures whose both means are shown.
    let with_pairs: Vec<(String, Vec<f64>)> = c
        .measures
        .iter()
        .filter_map(|m| {
            let base: f64 = m.at[0].text.parse().ok()?;
            let six: f64 = m.at[2].text.parse().ok()?;
            Some((w.code("measure", &m.measure), vec![base, six]))
        })
        .collect();
    let outcomes_chart = (!with_pairs.is_empty()).then(|| {
        charts::bars(
            &st.ui.text.get(a.lang, "outcomes", None),
            &[&b, &s],
            &with_pairs,
        )
    });
    let programs = crate::programs::list_in(&st.runner.db, a.staff.scope(), true)
        .await
        .unwrap_or_default()
        .iter()
        .map(|p| (p.code.clone(), p.name(a.lang)))
        .collect::<Vec<_>>();
    let navigators = if a.staff.is_admin() {
        crate::staff::list(&st.runner.db, a.staff.scope())
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect()
    } else {
        Vec::new()
    };
    st.ui.render(
        "cohort.html",
        page_ctx(
            &a,
            context! {
                c => c, f => filter, responses => responses,
                equity => a.staff.sees_sociodemographics,
                reasons_chart => reasons_chart, outcomes_chart => outcomes_chart,
                programs => programs, navigators => navigators,
                reasons => crate::domain::REASONS, levels => crate::domain::SUPPORT_LEVELS,
                languages => st.runner.catalog.locales().iter().map(ToString::to_string).collect::<Vec<_>>(),
                points => evaluation::POINTS,
                stratified_measures => evaluation::STRATIFIED_MEASURES,
            },
        ),
    )
}
