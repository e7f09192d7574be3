//! The client record: who the client is and how to reach them, their referral, follow-up,
//! scores, conversation and answers; the actions on it are in `actions`.

mod actions;
mod goals;
mod level;
mod scores;

use crate::enrolment::actions as schedule;
use crate::staff;
use crate::web::AppState;
use crate::web::page::{
    Done, flow_ids, notice, now, open_client, page_ctx, sequence_ids, store_error,
};
use crate::web::ui::{Auth, message_page};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/clients/{id}", get(client_page))
        .route("/clients/{id}/export", get(export_record))
        .route("/clients/{id}/summaries/{sid}", get(summary_letter))
        .route("/clients/{id}/summaries/{sid}/pdf", get(summary_pdf))
        .route("/clients/{id}/{action}", post(actions::client_action))
}

/// What matters to the client, in their words and script: the latest answer to each question
/// of the "what matters to you" conversation.
#[derive(Debug, Clone, serde::Serialize)]
struct Matter {
    field: String,
    text: String,
    /// Their own words (not an option they picked): shown as they wrote them.
    own_words: bool,
}

fn what_matters(
    w: &crate::web::ui::words::Words<'_>,
    answers: &[crate::store::record::Answer],
) -> Vec<Matter> {
    let mut latest: std::collections::BTreeMap<&str, &crate::store::record::Answer> =
        std::collections::BTreeMap::new();
    for a in answers
        .iter()
        .filter(|a| a.flow == "what-matters" && a.status == "answered")
    {
        latest.insert(a.step.as_str(), a);
    }
    ["matters", "gifts", "needs", "needs-other", "callback"]
        .iter()
        .filter_map(|step| latest.get(step))
        .map(|a| {
            let option = a.value.as_deref().and_then(|v| w.option(v));
            Matter {
                field: a.record.as_deref().map_or_else(
                    || w.question(&a.flow, &a.step).unwrap_or_default(),
                    |r| w.code("field", r),
                ),
                own_words: option.is_none(),
                text: option.unwrap_or_else(|| a.raw.clone()),
            }
        })
        .collect()
}

/// A client this staff member may open, and their whole record (the read is audited).
async fn whole_record(
    st: &AppState,
    a: &Auth,
    id: &str,
) -> Result<
    (
        crate::domain::ClientId,
        crate::web::page::ClientMeta,
        crate::store::record::Record,
    ),
    Response,
> {
    let (client, meta) = open_client(st, a, id).await?;
    match crate::store::record::read(&st.runner.db, &client, &a.staff.actor(), now(st)).await {
        Ok(Some(r)) => Ok((client, meta, r)),
        Ok(None) => Err(message_page(
            st,
            a.lang,
            Some(a),
            StatusCode::NOT_FOUND,
            "not-found",
        )),
        Err(e) => Err(store_error(st, a, &e)),
    }
}

async fn client_page(
    State(st): State<AppState>,
    a: Auth,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> Response {
    let (client, meta, mut record) = match whole_record(&st, &a, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    // The sociodemographic questions and answers are for staff who may see them.
    if !a.staff.sees_sociodemographics {
        for m in record.messages.iter_mut().filter(|m| m.sociodemographic) {
            m.body.clear();
        }
    }
    let actor = a.staff.actor();
    let timeline = match schedule::timeline(&st.runner, &client, &actor).await {
        Ok(t) => t,
        Err(e) => return store_error(&st, &a, &e),
    };
    let alerts = match crate::alerts::views(&st.runner.db, Some(&id), None).await {
        Ok(v) => v,
        Err(e) => return store_error(&st, &a, &e),
    };
    let mut summaries = Vec::new();
    for r in &record.referrals {
        match crate::summaries::of_referral(&st.runner.db, r.id).await {
            Ok(mut list) => summaries.append(&mut list),
            Err(e) => return store_error(&st, &a, &e),
        }
    }
    // Each referral's history: its uptake over time, and each word back to the referrer.
    let mut history: Vec<Value> = match crate::store::uptake::of_client(&st.runner.db, &id).await {
        Ok(list) => list
            .iter()
            .map(|u| {
                context! { referral_id => u.referral_id, at => u.at, kind => "uptake", uptake => u.uptake, actor => u.actor, source => u.source }
            })
            .collect(),
        Err(e) => return store_error(&st, &a, &e),
    };
    history.extend(summaries.iter().map(|s| {
        context! { referral_id => s.referral_id, at => s.created_at, kind => "summary", event => s.event, status => s.status }
    }));
    history.sort_by_key(|h| {
        h.get_attr("at")
            .ok()
            .and_then(|v| i64::try_from(v).ok())
            .unwrap_or(0)
    });
    let programs: Vec<Value> = crate::programs::list_in(&st.runner.db, Some(&meta.centre), false)
        .await
        .unwrap_or_default()
        .iter()
        .map(|p| {
            let label = match &p.partner {
                Some(partner) => format!("{} — {partner}", p.name(a.lang)),
                None => p.name(a.lang),
            };
            context! { id => p.id, code => p.code, label => label }
        })
        .collect();
    // What the client's centre offers: the flows to start and sequences to enrol in.
    let offer = crate::centres::offer_of(&st.runner.db, &meta.centre)
        .await
        .unwrap_or_default();
    let w = st.words(a.lang);
    // Steps still to come, for the reschedule form: each once, by name.
    let mut upcoming: Vec<(String, String)> = Vec::new();
    for e in timeline
        .iter()
        .filter(|e| matches!(e.status.as_str(), "pending" | "blocked" | "paused"))
    {
        if !upcoming.iter().any(|(s, _)| *s == e.step) {
            let name = w.step(e.flow.as_deref(), &e.step, e.time_point.as_deref());
            upcoming.push((e.step.clone(), name));
        }
    }
    let paused = timeline.iter().any(|e| e.status == "paused");
    let (score_rows, chart_list) = scores::table(&w, &record.scores);
    let matters = what_matters(&w, &record.answers);
    let (goal_list, attainment, goal_counts) =
        match crate::store::goals::of_client(&st.runner.db, &id).await {
            Ok(list) => {
                let (g, a) = goals::view(&list);
                (g, a, goals::by_referral(&list))
            }
            Err(e) => return store_error(&st, &a, &e),
        };
    let staff_list = if a.staff.is_admin() {
        staff::list(&st.runner.db, Some(&meta.centre))
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let has_sms = record.client.channels.iter().any(|c| c.starts_with("sms:"));
    let name = meta.name.clone().unwrap_or_else(|| id.clone());
    st.ui.render(
        "record.html",
        page_ctx(
            &a,
            context! {
                c => Value::from_serialize(&record.client),
                reach => record.client.channels.iter().filter_map(|c| c.split_once(':')).collect::<Vec<_>>(),
                name => meta.name,
                navigator => meta.navigator,
                consent => record.consent,
                referrals => record.referrals,
                support_levels => crate::runner::casework::SUPPORT_LEVELS,
                uptakes => crate::runner::casework::UPTAKES,
                current => record.referrals.iter().rev().find(|r| r.closed_at.is_none()).map(Value::from_serialize),
                closing_reasons => crate::runner::casework::CLOSING_REASONS,
                best_times => crate::schedule::BEST_TIMES,
                flags => record.flags,
                alerts => alerts,
                programs => programs,
                summaries => summaries,
                history => history,
                reasons => crate::domain::REASONS,
                conversation_open => record.conversations.iter().find(|v| v.status == "open").map(Value::from_serialize),
                notes => record.notes,
                note_kinds => crate::store::record::NOTE_KINDS,
                today => crate::clock::from_ms(now(&st)).with_timezone(&st.runner.centre.time_zone).format("%Y-%m-%d").to_string(),
                matters => matters,
                goals => goal_list,
                attainment => attainment,
                goal_counts => goal_counts,
                goal_closings => crate::store::goals::CLOSINGS,
                timeline => timeline,
                upcoming => upcoming,
                paused => paused,
                score_rows => score_rows,
                charts => chart_list,
                messages => record.messages,
                answers => record.answers,
                flows => flow_ids(&st).into_iter().filter(|f| offer.flow(f)).collect::<Vec<_>>(),
                sequences => sequence_ids(&st).into_iter().filter(|s| offer.sequence(s)).collect::<Vec<_>>(),
                time_points => scores::TIME_POINTS,
                staff => staff_list,
                has_sms => has_sms,
                telegram_on => st.telegram_bot.is_some(),
                notice => notice(&st, a.lang, &q, Some(&name)),
            },
        ),
    )
}

/// Everything held about the client, for their request to see it (PHIPA): as JSON, or
/// (`?format=html`) as a page a person can read. Audited.
async fn export_record(
    State(st): State<AppState>,
    a: Auth,
    Path(id): Path<String>,
    Query(q): Query<ExportFormat>,
) -> Response {
    let (client, meta) = match open_client(&st, &a, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let file = match crate::ops::access::whole_file(
        &st.runner.db,
        &client,
        &a.staff.actor(),
        now(&st),
        a.staff.sees_sociodemographics,
    )
    .await
    {
        Ok(Some(f)) => f,
        Ok(None) => return message_page(&st, a.lang, Some(&a), StatusCode::NOT_FOUND, "not-found"),
        Err(e) => return store_error(&st, &a, &e),
    };
    let html = q.format.as_deref() == Some("html");
    let _ = crate::store::record::audit_one(
        &st.runner.db,
        now(&st),
        &a.staff.actor(),
        "client-export",
        Some(&id),
        if html {
            "the whole record, as HTML"
        } else {
            "the whole record, as JSON"
        },
    )
    .await;
    let centre = crate::web::page::centre_name(&st, &meta.centre).await;
    let (kind, name, body) = if html {
        let generated = crate::clock::from_ms(now(&st))
            .format("%Y-%m-%d %H:%M UTC")
            .to_string();
        (
            "text/html; charset=utf-8",
            format!("{id}-record.html"),
            crate::ops::access::html(&file, &id, &centre, &generated),
        )
    } else {
        (
            "application/json",
            format!("{id}-record.json"),
            serde_json::to_string_pretty(&file).unwrap_or_default(),
        )
    };
    (
        [
            (axum::http::header::CONTENT_TYPE, kind.to_owned()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (axum::http::header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

#[derive(Debug, serde::Deserialize)]
struct ExportFormat {
    format: Option<String>,
}

/// One summary of one of this client's referrals, with the record (the read is audited).
async fn summary_of(
    st: &AppState,
    a: &Auth,
    id: &str,
    sid: i64,
) -> Result<
    (
        crate::web::page::ClientMeta,
        crate::store::record::Record,
        crate::summaries::Summary,
    ),
    Response,
> {
    let (_, meta, record) = whole_record(st, a, id).await?;
    match crate::summaries::by_id(&st.runner.db, sid).await {
        Ok(Some(s)) if record.referrals.iter().any(|r| r.id == s.referral_id) => {
            Ok((meta, record, s))
        }
        Ok(_) => Err(message_page(
            st,
            a.lang,
            Some(a),
            StatusCode::NOT_FOUND,
            "not-found",
        )),
        Err(e) => Err(store_error(st, a, &e)),
    }
}

/// Where the referrer of a sent summary tells us how the referral went for them.
async fn feedback_link(st: &AppState, summary: &crate::summaries::Summary) -> Option<String> {
    if summary.status != "sent" {
        return None;
    }
    crate::feedback::link(&st.runner.db, st.public_url.as_deref(), summary.id)
        .await
        .ok()
}

/// A summary for the referrer as a printable letter, in English and French. Audited.
async fn summary_letter(
    State(st): State<AppState>,
    a: Auth,
    Path((id, sid)): Path<(String, i64)>,
) -> Response {
    let (meta, record, summary) = match summary_of(&st, &a, &id, sid).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let referral = record
        .referrals
        .iter()
        .find(|r| r.id == summary.referral_id);
    let _ = crate::store::record::audit_one(
        &st.runner.db,
        now(&st),
        &a.staff.actor(),
        "summary-view",
        Some(&id),
        &format!("summary {sid} read as a letter"),
    )
    .await;
    let feedback = feedback_link(&st, &summary).await;
    let centre = crate::web::page::centre_name(&st, &meta.centre).await;
    st.ui.render(
        "letter.html",
        page_ctx(
            &a,
            context! {
                s => Value::from_serialize(&summary),
                client => id, name => meta.name, chart => record.client.chart_number,
                referred_by => referral.and_then(|r| r.referred_by.clone()),
                centre => centre,
                feedback => feedback,
            },
        ),
    )
}

/// A summary for the referrer as a PDF letter, in English and French. Audited.
async fn summary_pdf(
    State(st): State<AppState>,
    a: Auth,
    Path((id, sid)): Path<(String, i64)>,
) -> Response {
    let (meta, record, summary) = match summary_of(&st, &a, &id, sid).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let referred_by = record
        .referrals
        .iter()
        .find(|r| r.id == summary.referral_id)
        .and_then(|r| r.referred_by.clone());
    let date = crate::clock::from_ms(summary.created_at)
        .with_timezone(&st.runner.centre.time_zone)
        .format("%Y-%m-%d")
        .to_string();
    let about = meta.name.clone().unwrap_or_else(|| id.clone());
    let feedback = feedback_link(&st, &summary).await;
    let centre = crate::web::page::centre_name(&st, &meta.centre).await;
    let bytes = crate::letter::pdf(&crate::letter::Letter {
        centre: &centre,
        date: &date,
        referred_by: referred_by.as_deref(),
        about: &about,
        chart: record.client.chart_number.as_deref(),
        text_en: &summary.text_en,
        text_fr: &summary.text_fr,
        feedback: feedback.as_deref(),
    });
    let _ = crate::store::record::audit_one(
        &st.runner.db,
        now(&st),
        &a.staff.actor(),
        "summary-pdf",
        Some(&id),
        &format!("summary {sid} as a PDF"),
    )
    .await;
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/pdf".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"referral-update-{sid}.pdf\""),
            ),
            (axum::http::header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
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
    let until = st
        .words(a.lang)
        .when(crate::web::ui::words::At::ms(inv.expires_at));
    st.ui.render(
        "invite.html",
        page_ctx(
            a,
            context! { client => client, link => link, qr => svg, until => until },
        ),
    )
}
