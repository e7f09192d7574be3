//! An alert's page, where its link leads: what kind of task, who it went to, and one button
//! to acknowledge it. Open to the staff it was sent to, the client's navigator and
//! administrators; anyone else is refused and the attempt audited.

use crate::alerts::{self, AlertView, Via};
use crate::web::AppState;
use crate::web::page::{Empty, now, page_ctx, store_error};
use crate::web::ui::{Auth, Form, message_page};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/alerts/{id}", get(alert_page))
        .route("/alerts/{id}/ack", post(ack))
}

/// The alert, if this staff member may see it.
async fn open(st: &AppState, a: &Auth, id: &str) -> Result<AlertView, Response> {
    let not_found = || message_page(st, a.lang, Some(a), StatusCode::NOT_FOUND, "not-found");
    let Ok(id) = id.parse::<i64>() else {
        return Err(not_found());
    };
    let view = match alerts::views(&st.runner.db, None, Some(id)).await {
        Ok(mut v) if !v.is_empty() => v.swap_remove(0),
        Ok(_) => return Err(not_found()),
        Err(e) => return Err(store_error(st, a, &e)),
    };
    // The navigator and administrators through the usual door; a recipient through theirs.
    let t = now(st);
    match alerts::alerted_about(&st.runner.db, a.staff.id, &view.client, t).await {
        Ok(true) => Ok(view),
        Ok(false) => crate::web::page::access(st, a, &view.client)
            .await
            .map(|_| view),
        Err(e) => Err(store_error(st, a, &e)),
    }
}

async fn alert_page(State(st): State<AppState>, a: Auth, Path(id): Path<String>) -> Response {
    let view = match open(&st, &a, &id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let _ = crate::store::record::audit_one(
        &st.runner.db,
        now(&st),
        &a.staff.actor(),
        "alert-viewed",
        Some(&view.client),
        &format!("alert #{} opened", view.id),
    )
    .await;
    st.ui.render(
        "alert.html",
        page_ctx(&a, context! { alert => Value::from_serialize(&view) }),
    )
}

async fn ack(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Form(a, Empty {}): Form<Empty>,
) -> Response {
    let view = match open(&st, &a, &id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Err(e) = alerts::acknowledge(&st.runner.db, view.id, &a.staff, Via::Link, now(&st)).await
    {
        return store_error(&st, &a, &e);
    }
    Redirect::to(&format!("/clients/{}?done=alert-acked", view.client)).into_response()
}
