//! The client record: who the client is and how to reach them, their referral, follow-up,
//! scores, conversation and answers; the actions on it are in `actions`.

mod actions;

use crate::domain::ClientId;
use crate::schedule::actions as schedule;
use crate::staff;
use crate::web::AppState;
use crate::web::page::{Done, access, flow_ids, notice, now, page_ctx, sequence_ids, store_error};
use crate::web::ui::{Auth, charts, message_page};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::{Value, context};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/clients/{id}", get(client_page))
        .route("/clients/{id}/{action}", post(actions::client_action))
}

#[derive(Debug, Deserialize, Default)]
struct RecordQuery {
    #[serde(default)]
    done: Option<String>,
}

/// Time points in the order a chart shows them.
const TIME_POINTS: [&str; 3] = ["baseline", "3-month", "6-month"];

async fn client_page(
    State(st): State<AppState>,
    a: Auth,
    Path(id): Path<String>,
    Query(q): Query<RecordQuery>,
) -> Response {
    let meta = match access(&st, &a, &id).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let Ok(client) = ClientId::parse(&id) else {
        return message_page(&st, a.lang, Some(&a), StatusCode::NOT_FOUND, "not-found");
    };
    let actor = a.staff.actor();
    let record = match crate::store::record::read(&st.runner.db, &client, &actor, now(&st)).await {
        Ok(Some(r)) => r,
        Ok(None) => return message_page(&st, a.lang, Some(&a), StatusCode::NOT_FOUND, "not-found"),
        Err(e) => return store_error(&st, &a, &e),
    };
    let timeline = match schedule::timeline(&st.runner, &client, &actor).await {
        Ok(t) => t,
        Err(e) => return store_error(&st, &a, &e),
    };
    let mut upcoming: Vec<String> = timeline
        .iter()
        .filter(|e| matches!(e.status.as_str(), "pending" | "blocked" | "paused"))
        .map(|e| e.step.clone())
        .collect();
    upcoming.dedup();
    let paused = timeline.iter().any(|e| e.status == "paused");
    // Scores by measure and time point (the latest of each), and their trend.
    let mut table: std::collections::BTreeMap<String, [Option<String>; 3]> =
        std::collections::BTreeMap::new();
    let mut numbers: std::collections::BTreeMap<String, [Option<i64>; 3]> =
        std::collections::BTreeMap::new();
    // Scores taken outside a time point (a flow started ad hoc): the latest, beside the others.
    let mut other: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for s in record
        .scores
        .iter()
        .filter(|s| s.complete && s.time_point.is_none())
    {
        if let Some(v) = s
            .total
            .map(|t| t.to_string())
            .or_else(|| s.category.clone())
        {
            other.insert(s.instrument.clone(), v);
            table.entry(s.instrument.clone()).or_default();
        }
    }
    for s in record.scores.iter().filter(|s| s.complete) {
        let Some(k) = s
            .time_point
            .as_deref()
            .and_then(|tp| TIME_POINTS.iter().position(|p| *p == tp))
        else {
            continue;
        };
        let shown = s
            .total
            .map(|t| t.to_string())
            .or_else(|| s.category.clone());
        table.entry(s.instrument.clone()).or_default()[k] = shown;
        if let Some(t) = s.total {
            numbers.entry(s.instrument.clone()).or_default()[k] = Some(t);
        }
    }
    let score_rows: Vec<Value> = table
        .iter()
        .map(|(inst, v)| {
            let change = numbers.get(inst).and_then(|n| n[0].zip(n[2])).map(|(b, s)| format!("{:+}", s - b));
            context! { instrument => inst, baseline => v[0], three => v[1], six => v[2], other => other.get(inst), change => change }
        })
        .collect();
    let labels = [
        st.ui.text.get(a.lang, "baseline", None),
        st.ui.text.get(a.lang, "three-months", None),
        st.ui.text.get(a.lang, "six-months", None),
    ];
    let xl = [labels[0].as_str(), labels[1].as_str(), labels[2].as_str()];
    let mut chart_list = Vec::new();
    if let Some(u) = numbers.get("ucla3") {
        chart_list.push(charts::trend(
            "UCLA-3 (3–9)",
            xl,
            3,
            9,
            &[("UCLA-3".into(), *u)],
        ));
    }
    let ons: Vec<(String, [Option<i64>; 3])> = numbers
        .iter()
        .filter(|(k, _)| k.starts_with("ons4-"))
        .map(|(k, v)| (k.trim_start_matches("ons4-").to_owned(), *v))
        .collect();
    if !ons.is_empty() {
        chart_list.push(charts::trend("ONS4 (0–10)", xl, 0, 10, &ons));
    }
    let messages: Vec<Value> = record.messages.iter().map(Value::from_serialize).collect();
    let staff_list = if a.staff.is_admin() {
        staff::list(&st.runner.db).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let flows = flow_ids(&st);
    let sequences = sequence_ids(&st);
    st.ui.render(
        "client.html",
        page_ctx(
            &a,
            context! {
                c => Value::from_serialize(&record.client),
                name => meta.name,
                navigator => meta.navigator,
                consent => record.consent,
                referrals => record.referrals,
                support_levels => crate::web::record::actions::SUPPORT_LEVELS,
                uptakes => crate::web::record::actions::UPTAKES,
                current => record.referrals.iter().rev().find(|r| r.closed_at.is_none()).map(Value::from_serialize),
                closing_reasons => ["goal-met", "attended", "declined", "no-contact", "moved", "referred-elsewhere", "other"],
                flags => record.flags,
                timeline => timeline,
                upcoming => upcoming,
                paused => paused,
                score_rows => score_rows,
                charts => chart_list,
                messages => messages,
                answers => record.answers,
                flows => flows,
                sequences => sequences,
                staff => staff_list,
                notice => notice(&st, a.lang, &Done { done: q.done }),
            },
        ),
    )
}

/// The Telegram link and its QR code (an SVG made here from the link; no outside service),
/// shown once on the page that answers the form, never put in a URL.
pub(crate) fn invite_page(
    st: &AppState,
    a: &Auth,
    client: &str,
    bot: &str,
    inv: &crate::channel::telegram::invite::Invite,
) -> Response {
    let link = format!("https://t.me/{bot}?start={}", inv.code);
    let svg = match qrcode::QrCode::new(link.as_bytes()) {
        Ok(qr) => qr
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
        Err(e) => {
            tracing::error!(error = %e, "a QR code failed");
            String::new()
        }
    };
    let until = crate::web::page::local(inv.expires_at, st.runner.centre.time_zone);
    st.ui.render(
        "invite.html",
        page_ctx(
            a,
            context! { client => client, link => link, qr => svg, until => until },
        ),
    )
}
