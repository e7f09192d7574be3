//! Staff and tokens (administrators): accounts turned on and off, one-time set-up links, API
//! tokens issued and revoked.

use crate::staff::{self, Role, Scope};
use crate::web::AppState;
use crate::web::page::{
    Done, Empty, chosen_centre, notice, now, other_centre, page_ctx, require_admin, store_error,
};
use crate::web::ui::{Auth, Form, message_page};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff", get(staff_page).post(add_staff))
        .route("/staff/tokens", post(issue_token))
        .route("/staff/{id}/contact", post(set_contact))
        .route("/staff/{id}/{action}", post(staff_action))
        .route("/staff/tokens/{id}/revoke", post(revoke_token))
}

async fn staff_view(
    st: &AppState,
    a: &Auth,
    link: Option<String>,
    secret: Option<String>,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let list = staff::list(&st.runner.db, a.staff.scope())
        .await
        .unwrap_or_default();
    let tokens: Vec<Value> = staff::tokens(&st.runner.db, a.staff.scope())
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|t| context! { id => t.id, name => t.name, scope => t.scope.as_str(), last_used => t.last_used_at, revoked => t.revoked_at.is_some(), centre => t.centre })
        .collect();
    let centres = if a.staff.all_centres {
        crate::centres::list(&st.runner.db)
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    st.ui.render("staff.html", page_ctx(a, context! { staff => list, tokens => tokens, link => link, secret => secret, error => error, notice => notice, centres => centres }))
}

async fn staff_page(State(st): State<AppState>, a: Auth, Query(d): Query<Done>) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    let notice = notice(&st, a.lang, &d, None);
    staff_view(&st, &a, None, None, None, notice).await
}

#[derive(Debug, Deserialize, Default)]
struct StaffForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    scope: String,
    /// The centre (an administrator of the whole deployment chooses; others add to their own).
    #[serde(default)]
    centre: String,
}

/// A staff member `a` may manage: of their centre (any, for an administrator of the whole
/// deployment). Another centre's is refused, audited.
async fn managed(st: &AppState, a: &Auth, id: i64) -> Result<staff::Staff, Response> {
    match staff::by_id(&st.runner.db, id).await {
        Ok(Some(s)) if a.staff.sees_centre(&s.centre) => Ok(s),
        Ok(Some(_)) => Err(other_centre(st, a, "staff").await),
        Ok(None) => Err(crate::web::page::not_found_page(st, a)),
        Err(e) => Err(store_error(st, a, &e)),
    }
}

async fn add_staff(
    State(st): State<AppState>,
    headers: HeaderMap,
    Form(a, f): Form<StaffForm>,
) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    let role = match Role::parse(&f.role) {
        Ok(r) => r,
        Err(e) => return staff_view(&st, &a, None, None, Some(e.to_string()), None).await,
    };
    let centre = match chosen_centre(&st, &a, &f.centre).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let t = now(&st);
    match staff::add_in(
        &st.runner.db,
        &staff::Membership::of(&centre),
        &f.username,
        &f.name,
        role,
        None,
        t,
        &a.staff.actor(),
    )
    .await
    {
        Ok(s) => match staff::setup_link(&st.runner.db, Some(s.id), t, 72).await {
            Ok(token) => {
                let link = format!("{}/setup/{token}", base_url(&st, &headers));
                staff_view(&st, &a, Some(link), None, None, None).await
            }
            Err(e) => store_error(&st, &a, &e),
        },
        Err(e) => staff_view(&st, &a, None, None, Some(e.to_string()), None).await,
    }
}

/// An administrator turns an account off or on, or makes a new set-up link (a forgotten
/// password).
async fn staff_action(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(i64, String)>,
    Form(a, Empty {}): Form<Empty>,
) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    let target = match managed(&st, &a, id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = now(&st);
    let actor = a.staff.actor();
    match action.as_str() {
        "disable" if target.id == a.staff.id => {
            staff_view(
                &st,
                &a,
                None,
                None,
                Some("you cannot turn your own account off".into()),
                None,
            )
            .await
        }
        "sociodemographics-on" | "sociodemographics-off" => {
            match staff::set_sees_sociodemographics(
                &st.runner.db,
                target.id,
                action == "sociodemographics-on",
                &actor,
                t,
            )
            .await
            {
                Ok(_) => Redirect::to("/staff?done=staff-done").into_response(),
                Err(e) => store_error(&st, &a, &e),
            }
        }
        "disable" | "enable" => {
            match staff::set_active(
                &st.runner.db,
                &target.username,
                action == "enable",
                &actor,
                t,
            )
            .await
            {
                Ok(_) => Redirect::to("/staff?done=staff-done").into_response(),
                Err(e) => store_error(&st, &a, &e),
            }
        }
        "link" => match staff::setup_link(&st.runner.db, Some(target.id), t, 72).await {
            Ok(token) => {
                let _ = crate::store::record::audit_one(
                    &st.runner.db,
                    t,
                    &actor,
                    "setup-link",
                    None,
                    &target.username,
                )
                .await;
                let link = format!("{}/setup/{token}", base_url(&st, &headers));
                staff_view(&st, &a, Some(link), None, None, None).await
            }
            Err(e) => store_error(&st, &a, &e),
        },
        _ => message_page(&st, a.lang, Some(&a), StatusCode::NOT_FOUND, "not-found"),
    }
}

#[derive(Debug, Deserialize, Default)]
struct ContactForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    hours: String,
}

/// Where alerts reach a staff member, and when they work.
async fn set_contact(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Form(a, f): Form<ContactForm>,
) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    if let Err(r) = managed(&st, &a, id).await {
        return r;
    }
    match staff::set_contact(
        &st.runner.db,
        id,
        &f.email,
        &f.phone,
        &f.hours,
        now(&st),
        &a.staff.actor(),
    )
    .await
    {
        Ok(()) => Redirect::to("/staff?done=staff-done").into_response(),
        Err(staff::StaffError::Store(e)) => store_error(&st, &a, &e),
        Err(e) => staff_view(&st, &a, None, None, Some(e.to_string()), None).await,
    }
}

/// The site's own address, for links given to people: the configured public URL, else the Host
/// the browser used.
fn base_url(st: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &st.public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

async fn issue_token(State(st): State<AppState>, Form(a, f): Form<StaffForm>) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    let scope = match Scope::parse(&f.scope) {
        Ok(s) => s,
        Err(e) => return staff_view(&st, &a, None, None, Some(e.to_string()), None).await,
    };
    let centre = match chosen_centre(&st, &a, &f.centre).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match staff::issue_token_in(
        &st.runner.db,
        &centre,
        &f.name,
        scope,
        &a.staff.actor(),
        now(&st),
    )
    .await
    {
        Ok((_, secret)) => staff_view(&st, &a, None, Some(secret), None, None).await,
        Err(e) => staff_view(&st, &a, None, None, Some(e.to_string()), None).await,
    }
}

async fn revoke_token(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Form(a, Empty {}): Form<Empty>,
) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    match staff::token_centre(&st.runner.db, id).await {
        Ok(Some(c)) if !a.staff.sees_centre(&c) => return other_centre(&st, &a, "token").await,
        Ok(_) => {}
        Err(e) => return store_error(&st, &a, &e),
    }
    match staff::revoke_token(
        &st.runner.db,
        id,
        a.staff.scope(),
        &a.staff.actor(),
        now(&st),
    )
    .await
    {
        Ok(_) => Redirect::to("/staff?done=revoked").into_response(),
        Err(e) => store_error(&st, &a, &e),
    }
}
