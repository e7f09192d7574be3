//! The Inbox: every open conversation with a client, those waiting for an answer first. A
//! navigator answers from here or from the record; the answer goes out on the client's channel,
//! paced like replies, and the conversation closes by hand or after a quiet spell.

use crate::runner::casework::send_message;
use crate::runner::conversation;
use crate::web::AppState;
use crate::web::page::{
    Done, Empty, access, notice, now, open_client, page_ctx, said, store_error,
};
use crate::web::ui::{Auth, Form};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(inbox))
        .route("/inbox/{id}/reply", post(reply))
        .route("/inbox/{id}/close", post(close))
}

async fn inbox(State(st): State<AppState>, a: Auth, Query(d): Query<Done>) -> Response {
    let list = match conversation::open_list(&st.runner.db, a.viewer(), a.staff.scope()).await {
        Ok(l) => l,
        Err(e) => return store_error(&st, &a, &e),
    };
    let _ = crate::store::record::audit_one(
        &st.runner.db,
        now(&st),
        &a.staff.actor(),
        "inbox-view",
        None,
        &format!("{} open conversations listed", list.len()),
    )
    .await;
    st.ui.render(
        "inbox.html",
        page_ctx(
            &a,
            context! { conversations => list, notice => notice(&st, a.lang, &d, None) },
        ),
    )
}

#[derive(Debug, Deserialize, Default)]
struct ReplyForm {
    #[serde(default)]
    body: String,
}

async fn reply(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Form(a, f): Form<ReplyForm>,
) -> Response {
    let (client, _) = match open_client(&st, &a, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match send_message(&st.runner, &client, &f.body, &a.staff.actor()).await {
        Ok(_) => Redirect::to("/inbox?done=sent").into_response(),
        Err(e) => crate::web::page::error_page(
            &st,
            &a,
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            &said(&e),
            "/inbox",
        ),
    }
}

async fn close(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Form(a, Empty {}): Form<Empty>,
) -> Response {
    if let Err(r) = access(&st, &a, &id).await {
        return r;
    }
    let Ok(client) = crate::domain::ClientId::parse(&id) else {
        return Redirect::to("/inbox").into_response();
    };
    match conversation::close(&st.runner, &client, &a.staff.actor()).await {
        Ok(_) => Redirect::to("/inbox?done=conversation-closed").into_response(),
        Err(e) => store_error(&st, &a, &e),
    }
}
