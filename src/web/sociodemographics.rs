//! A client's sociodemographic answers: shown and entered in person only by staff an
//! administrator allowed to (a setting of each account); every view, entry and refusal audited.
//! Consent comes first: recorded here, after the client hears why the questions are asked and
//! that answering never changes their care, or given by text in the `sociodemographics` flow.

use crate::equity::{self, DO_NOT_KNOW, PREFER_NOT, QUESTIONS};
use crate::web::AppState;
use crate::web::page::{
    Done, error_page, notice, now, open_client, page_ctx, refused, said, store_error,
};
use crate::web::ui::{Auth, Form};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::context;
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new().route("/clients/{id}/sociodemographics", get(page).post(save))
}

/// Staff without the setting get 403, and the attempt is audited.
async fn allowed(st: &AppState, a: &Auth, id: &str) -> Result<(), Response> {
    if a.staff.sees_sociodemographics {
        return Ok(());
    }
    Err(refused(
        st,
        a,
        id,
        "sociodemographics-refused",
        "not allowed to see sociodemographics",
        "forbidden-sociodemographics",
    )
    .await)
}

async fn page(
    State(st): State<AppState>,
    a: Auth,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> Response {
    let (client, meta) = match open_client(&st, &a, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(r) = allowed(&st, &a, &id).await {
        return r;
    }
    let held = match equity::read(&st.runner.db, client.as_str()).await {
        Ok(h) => h,
        Err(e) => return store_error(&st, &a, &e),
    };
    let _ = crate::store::record::audit_one(
        &st.runner.db,
        now(&st),
        &a.staff.actor(),
        "sociodemographics-view",
        Some(&id),
        &format!("{} answers shown", held.answers.len()),
    )
    .await;
    let name = meta.name.clone().unwrap_or_else(|| id.clone());
    st.ui.render(
        "sociodemographics.html",
        page_ctx(
            &a,
            context! {
                client => id, name => meta.name,
                consent => held.consent, answers => held.answers,
                questions => QUESTIONS, others => [PREFER_NOT, DO_NOT_KNOW],
                newcomer => equity::newcomer(&held.answers),
                notice => notice(&st, a.lang, &q, Some(&name)),
            },
        ),
    )
}

async fn save(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Form(a, f): Form<HashMap<String, String>>,
) -> Response {
    let (client, _) = match open_client(&st, &a, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(r) = allowed(&st, &a, &id).await {
        return r;
    }
    let answers: Vec<(String, String)> = QUESTIONS
        .iter()
        .filter_map(|q| {
            let v = f.get(q.id)?.trim();
            (!v.is_empty()).then(|| (q.id.to_owned(), v.to_owned()))
        })
        .collect();
    let back = format!("/clients/{id}/sociodemographics");
    let consent_now = f.get("consent").is_some_and(|v| v == "yes");
    match equity::enter(
        &st.runner.db,
        &client,
        &answers,
        consent_now,
        &a.staff.actor(),
        now(&st),
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("{back}?done=sociodemographics-saved")).into_response(),
        Err(e) => error_page(&st, &a, StatusCode::UNPROCESSABLE_ENTITY, &said(&e), &back),
    }
}
