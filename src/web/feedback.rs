//! The referring provider's feedback form, reached from the link in the summary they received.
//! No account: the link's token is the key. The page names no client; it says which centre asks.

use crate::feedback::{self, Answer};
use crate::web::AppState;
use crate::web::page::now;
use crate::web::ui::{Lang, message_page, other};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/feedback/{sid}/{token}", get(page).post(save))
}

#[derive(Debug, Deserialize, Default)]
struct FeedbackForm {
    #[serde(default)]
    useful: String,
    #[serde(default)]
    would_refer: String,
    #[serde(default)]
    comment: String,
}

/// The form, in the name of the client's centre (`centre`).
fn form(
    st: &AppState,
    lang: &'static str,
    path: &str,
    centre: &str,
    error: Option<String>,
    done: bool,
) -> Response {
    let mut r = st.ui.render(
        "feedback.html",
        context! {
            lang => lang, other_lang => other(lang), action => path,
            centre => centre, error => error, done => done,
        },
    );
    if error.is_some() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    r
}

async fn page(
    State(st): State<AppState>,
    Lang(lang): Lang,
    Path((sid, token)): Path<(i64, String)>,
) -> Response {
    match opened(&st, lang, sid, &token).await {
        Ok((_, client)) => {
            let centre = centre_of(&st, &client).await;
            form(
                &st,
                lang,
                &format!("/feedback/{sid}/{token}"),
                &centre,
                None,
                false,
            )
        }
        Err(r) => r,
    }
}

/// The name of the client's centre, as the referrer knows it.
async fn centre_of(st: &AppState, client: &str) -> String {
    match crate::centres::of_client(&st.runner.db, client).await {
        Ok(Some(c)) => crate::web::page::centre_name(st, &c).await,
        _ => st.runner.centre.name.clone(),
    }
}

/// The referral and client a link names; else the page that says the link is unknown.
async fn opened(
    st: &AppState,
    lang: &'static str,
    sid: i64,
    token: &str,
) -> Result<(i64, String), Response> {
    match feedback::open(&st.runner.db, sid, token).await {
        Ok(Some(x)) => Ok(x),
        Ok(None) => Err(message_page(
            st,
            lang,
            None,
            StatusCode::NOT_FOUND,
            "feedback-unknown",
        )),
        Err(e) => {
            tracing::error!(error = %e, "a feedback link could not be read");
            Err(message_page(
                st,
                lang,
                None,
                StatusCode::SERVICE_UNAVAILABLE,
                "err-unavailable",
            ))
        }
    }
}

async fn save(
    State(st): State<AppState>,
    Lang(lang): Lang,
    Path((sid, token)): Path<(i64, String)>,
    axum::Form(f): axum::Form<FeedbackForm>,
) -> Response {
    let path = format!("/feedback/{sid}/{token}");
    let (referral, client) = match opened(&st, lang, sid, &token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let centre = centre_of(&st, &client).await;
    let useful = match f.useful.trim() {
        "" => None,
        u => match u.parse::<i64>().ok().filter(|n| (1..=5).contains(n)) {
            Some(n) => Some(n),
            None => {
                let e = st.ui.text.get(lang, "feedback-bad-useful", None);
                return form(&st, lang, &path, &centre, Some(e), false);
            }
        },
    };
    let would_refer = match f.would_refer.trim() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    let comment =
        Some(f.comment.trim().chars().take(2000).collect::<String>()).filter(|c| !c.is_empty());
    if useful.is_none() && would_refer.is_none() && comment.is_none() {
        let e = st.ui.text.get(lang, "feedback-empty", None);
        return form(&st, lang, &path, &centre, Some(e), false);
    }
    let a = Answer {
        useful,
        would_refer,
        comment,
    };
    match feedback::record(&st.runner.db, sid, referral, &client, &a, now(&st)).await {
        Ok(()) => form(&st, lang, &path, &centre, None, true),
        Err(e) => {
            tracing::error!(error = %e, "a provider's feedback could not be saved");
            message_page(
                &st,
                lang,
                None,
                StatusCode::SERVICE_UNAVAILABLE,
                "err-unavailable",
            )
        }
    }
}
