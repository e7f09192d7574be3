//! Export (administrators): the evaluation CSV and the FHIR bundle, each download audited.

use crate::web::AppState;
use crate::web::page::{page_ctx, require_admin, store_error};
use crate::web::ui::Auth;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use minijinja::context;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/export", get(export_page))
        .route("/export/evaluation.csv", get(export_csv))
        .route("/export/fhir.json", get(export_fhir))
        .route("/export/health-use", axum::routing::post(import_health_use))
        .route("/export/cohort.csv", get(export_cohort))
}

/// The cohort's figures, small cells suppressed. Audited.
async fn export_cohort(State(st): State<AppState>, a: Auth) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    match crate::cli::export::cohort_figures(&st.runner, a.staff.scope(), &a.staff.actor()).await {
        Ok(out) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"cohort.csv\"",
                ),
                (header::CACHE_CONTROL, "no-store"),
            ],
            out,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the cohort's figures failed");
            crate::web::ui::message_page(
                &st,
                a.lang,
                Some(&a),
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "err-unavailable",
            )
        }
    }
}

#[derive(Debug, Deserialize, Default)]
struct HealthUseForm {
    #[serde(default)]
    csv: String,
}

/// Health-system use pasted as CSV (the command line takes a file of any size). Bad rows are
/// listed by line; the good ones are kept. Audited.
async fn import_health_use(
    State(st): State<AppState>,
    crate::web::ui::Form(a, f): crate::web::ui::Form<HealthUseForm>,
) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    match crate::health_use::import_in(
        &st.runner.db,
        a.staff.scope(),
        f.csv.as_bytes(),
        &a.staff.actor(),
        crate::web::page::now(&st),
    )
    .await
    {
        Ok(report) => st.ui.render(
            "export.html",
            page_ctx(
                &a,
                context! { imported => report.imported, refused => report.errors, pasted => f.csv },
            ),
        ),
        Err(e) => store_error(&st, &a, &e),
    }
}

async fn export_page(State(st): State<AppState>, a: Auth) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    st.ui.render("export.html", page_ctx(&a, context! {}))
}

#[derive(Debug, Deserialize, Default)]
struct ExportQuery {
    #[serde(default)]
    deidentified: Option<String>,
}

async fn export_csv(State(st): State<AppState>, a: Auth, Query(q): Query<ExportQuery>) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    let deid = q.deidentified.is_some();
    let mut out = Vec::new();
    match crate::export::evaluation_csv(
        &st.runner,
        a.staff.scope(),
        deid,
        a.staff.sees_sociodemographics,
        &a.staff.actor(),
        &mut out,
        &mut |_, _| {},
    )
    .await
    {
        Ok(_) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    if deid {
                        "attachment; filename=\"evaluation-deidentified.csv\""
                    } else {
                        "attachment; filename=\"evaluation.csv\""
                    },
                ),
                (header::CACHE_CONTROL, "no-store"),
            ],
            out,
        )
            .into_response(),
        Err(e) => store_error(&st, &a, &e),
    }
}

async fn export_fhir(
    State(st): State<AppState>,
    a: Auth,
    Query(q): Query<ExportQuery>,
) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    match crate::export::fhir_bundle(
        &st.runner,
        a.staff.scope(),
        q.deidentified.is_some(),
        &a.staff.actor(),
        &mut |_, _| {},
    )
    .await
    {
        Ok(b) => (
            [
                (header::CONTENT_TYPE, "application/fhir+json; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"matters-fhir.json\"",
                ),
                (header::CACHE_CONTROL, "no-store"),
            ],
            serde_json::to_string_pretty(&b).unwrap_or_default(),
        )
            .into_response(),
        Err(e) => store_error(&st, &a, &e),
    }
}
