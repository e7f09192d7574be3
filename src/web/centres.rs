//! Centres (administrators of the whole deployment): the centres it serves, a new one added,
//! whether each shares its de-identified figures, and the group's report.

use crate::centres::{self, NewCentre};
use crate::web::AppState;
use crate::web::page::{Done, notice, now, other_centre, page_ctx, said, store_error};
use crate::web::ui::{Auth, Form};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/centres", get(centres_page).post(add_centre))
        .route("/centres/report.csv", get(report_csv))
        .route("/centres/{id}/{action}", post(share))
}

/// Only an administrator of the whole deployment; anyone else is refused, audited.
async fn deployment_admin(st: &AppState, a: &Auth) -> Result<(), Response> {
    if a.staff.is_admin() && a.staff.all_centres {
        Ok(())
    } else {
        Err(other_centre(st, a, "centres").await)
    }
}

#[derive(Debug, Deserialize, Serialize, Default)]
struct CentreForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    default_language: String,
    #[serde(default)]
    languages: String,
    #[serde(default)]
    send_between: String,
    #[serde(default)]
    holidays: String,
    #[serde(default)]
    twilio_from: String,
    #[serde(default)]
    messaging_service: String,
    #[serde(default)]
    twilio_account_sid: String,
    #[serde(default)]
    twilio_token_file: String,
    #[serde(default)]
    telegram_bot: String,
    #[serde(default)]
    telegram_token_file: String,
    #[serde(default)]
    alert_email: String,
    #[serde(default)]
    crisis_minutes: String,
    #[serde(default)]
    urgent_minutes: String,
    #[serde(default)]
    shares: Option<String>,
    /// The flows and sequences ticked (none ticked: every one).
    #[serde(default)]
    flows: Vec<String>,
    #[serde(default)]
    sequences: Vec<String>,
}

fn listed(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Minutes given in the form: empty is none (the deployment's); a whole number, or what was
/// typed, to say it is not one.
fn minutes(s: &str) -> Result<Option<u32>, String> {
    match given(s) {
        None => Ok(None),
        Some(m) => m.parse().map(Some).map_err(|_| m),
    }
}

fn given(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

async fn view(
    st: &AppState,
    a: &Auth,
    form: &CentreForm,
    error: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let list = match centres::list(&st.runner.db).await {
        Ok(l) => l,
        Err(e) => return store_error(st, a, &e),
    };
    let report = match centres::group_report(&st.runner.db, st.runner.centre.time_zone).await {
        Ok(r) => r,
        Err(e) => return store_error(st, a, &e),
    };
    let sharing: Vec<String> = report
        .sharing
        .iter()
        .map(|(_, name)| name.clone())
        .collect();
    let languages: Vec<(String, String)> = st
        .runner
        .catalog
        .locales()
        .into_iter()
        .map(|l| (l.to_string(), st.runner.catalog.language_name(&l)))
        .collect();
    let mut r = st.ui.render(
        "centres.html",
        page_ctx(
            a,
            context! {
                centres => list,
                form => minijinja::Value::from_serialize(form),
                languages => languages,
                all_flows => crate::web::page::flow_ids(st),
                all_sequences => crate::web::page::sequence_ids(st),
                always_offered => centres::ALWAYS_OFFERED,
                error => error,
                notice => notice,
                sharing => sharing.join(", "),
                not_sharing => report.not_sharing,
                c => minijinja::Value::from_serialize(&report.cohort),
            },
        ),
    );
    *r.status_mut() = status;
    r
}

async fn centres_page(State(st): State<AppState>, a: Auth, Query(d): Query<Done>) -> Response {
    if let Err(r) = deployment_admin(&st, &a).await {
        return r;
    }
    let form = CentreForm {
        time_zone: st.runner.centre.time_zone.name().to_owned(),
        default_language: st.runner.catalog.default_locale().to_string(),
        ..CentreForm::default()
    };
    let n = notice(&st, a.lang, &d, None);
    view(&st, &a, &form, None, n, StatusCode::OK).await
}

async fn add_centre(State(st): State<AppState>, Form(a, f): Form<CentreForm>) -> Response {
    if let Err(r) = deployment_admin(&st, &a).await {
        return r;
    }
    let (crisis, urgent) = match (minutes(&f.crisis_minutes), minutes(&f.urgent_minutes)) {
        (Ok(c), Ok(u)) => (c, u),
        (Err(bad), _) | (_, Err(bad)) => {
            let mut args = fluent_bundle::FluentArgs::new();
            args.set("given", bad);
            let error = st
                .ui
                .text
                .get(a.lang, "centre-minutes-invalid", Some(&args));
            return view(
                &st,
                &a,
                &f,
                Some(error),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let new = NewCentre {
        id: f.code.clone(),
        name: f.name.clone(),
        time_zone: f.time_zone.clone(),
        send_between: given(&f.send_between),
        holidays: listed(&f.holidays),
        languages: listed(&f.languages),
        default_language: f.default_language.clone(),
        twilio_from: given(&f.twilio_from),
        twilio_messaging_service: given(&f.messaging_service),
        twilio_account_sid: given(&f.twilio_account_sid),
        twilio_auth_token_file: given(&f.twilio_token_file),
        telegram_bot: given(&f.telegram_bot),
        telegram_token_file: given(&f.telegram_token_file),
        alert_email: given(&f.alert_email),
        crisis_escalate_minutes: crisis,
        urgent_escalate_minutes: urgent,
        shares_figures: f.shares.is_some(),
        flows: f.flows.clone(),
        sequences: f.sequences.clone(),
    };
    let checked = new.checked().and_then(|c| {
        c.check_offer(&st.runner.flows, &st.runner.sequences)
            .map(|()| c)
    });
    let added = match checked {
        Ok(c) => centres::add(&st.runner.db, c, &a.staff.actor(), now(&st)).await,
        Err(e) => Err(e),
    };
    match added {
        Ok(_) => Redirect::to("/centres?done=centre-added").into_response(),
        Err(centres::CentreError::Store(e)) => store_error(&st, &a, &e),
        Err(e) => {
            view(
                &st,
                &a,
                &f,
                Some(said(&e)),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

async fn share(
    State(st): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    Form(a, crate::web::page::Empty {}): Form<crate::web::page::Empty>,
) -> Response {
    if let Err(r) = deployment_admin(&st, &a).await {
        return r;
    }
    let on = match action.as_str() {
        "share" => true,
        "unshare" => false,
        _ => return crate::web::page::not_found_page(&st, &a),
    };
    match centres::set_sharing(&st.runner.db, &id, on, &a.staff.actor(), now(&st)).await {
        Ok(()) => Redirect::to("/centres?done=centre-sharing").into_response(),
        Err(centres::CentreError::Unknown(_)) => {
            crate::web::ui::message_page(&st, a.lang, Some(&a), StatusCode::NOT_FOUND, "not-found")
        }
        Err(centres::CentreError::Store(e)) => store_error(&st, &a, &e),
        Err(e) => crate::web::page::error_page(
            &st,
            &a,
            StatusCode::UNPROCESSABLE_ENTITY,
            &said(&e),
            "/centres",
        ),
    }
}

async fn report_csv(State(st): State<AppState>, a: Auth) -> Response {
    if let Err(r) = deployment_admin(&st, &a).await {
        return r;
    }
    let r = match centres::group_report(&st.runner.db, st.runner.centre.time_zone).await {
        Ok(r) => r,
        Err(e) => return store_error(&st, &a, &e),
    };
    let Ok(bytes) = centres::group_csv(&r) else {
        return store_error(&st, &a, &"writing the group report");
    };
    let _ = crate::store::record::audit_one(
        &st.runner.db,
        now(&st),
        &a.staff.actor(),
        "group-report",
        None,
        &format!("{} centres sharing", r.sharing.len()),
    )
    .await;
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"group-report.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response()
}
