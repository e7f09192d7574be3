//! Signing in and out, a one-time set-up link, and the interface language.

use crate::staff;
use crate::web::AppState;
use crate::web::page::{Done, Empty, notice, now};
use crate::web::ui::{
    Form, Lang, PRE_COOKIE, SESSION_COOKIE, message_page, other, pre_ok, pre_token,
};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use minijinja::context;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/today") }))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/setup/{token}", get(setup_page).post(setup))
        .route("/lang/{lang}", get(switch_lang))
}

#[derive(Debug, Deserialize, Default)]
struct Next {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

/// Only a path on this site: never `//elsewhere`, a full URL, or anything a browser would read
/// as one once it drops tabs and line breaks (`/\t/evil.example/`); no control characters,
/// spaces, backslashes or non-ASCII (a header cannot carry them).
fn safe_next(n: Option<&str>) -> String {
    let ok = |n: &str| {
        n.len() <= 2048
            && n.starts_with('/')
            && !n.starts_with("//")
            && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
            && url::Url::parse("http://matters.invalid/")
                .and_then(|base| base.join(n))
                .is_ok_and(|u| u.host_str() == Some("matters.invalid"))
    };
    match n {
        Some(n) if ok(n) => n.to_owned(),
        _ => "/today".to_owned(),
    }
}

async fn login_page(
    State(st): State<AppState>,
    Lang(lang): Lang,
    jar: CookieJar,
    Query(q): Query<Next>,
) -> Response {
    login_form(
        &st,
        lang,
        jar,
        q.next.as_deref(),
        None,
        notice(
            &st,
            lang,
            &Done {
                done: q.done,
                item: None,
            },
            None,
        ),
        StatusCode::OK,
    )
}

fn login_form(
    st: &AppState,
    lang: &str,
    jar: CookieJar,
    next: Option<&str>,
    error: Option<&str>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let pre = pre_token(&jar);
    let jar = jar.add(st.ui.cookie(PRE_COOKIE, pre.clone()));
    // Not signed in, the reader's language is a guess: an error is said in both.
    let error_other = error.map(|k| st.ui.text.get(other(lang), k, None));
    let error = error.map(|k| st.ui.text.get(lang, k, None));
    let mut r = st.ui.render(
        "login.html",
        context! { lang => lang, other_lang => other(lang), csrf => pre, next => safe_next(next), error => error, error_other => error_other, notice => notice },
    );
    *r.status_mut() = status;
    (jar, r).into_response()
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

async fn login(
    State(st): State<AppState>,
    Lang(lang): Lang,
    jar: CookieJar,
    axum::Form(f): axum::Form<LoginForm>,
) -> Response {
    if !pre_ok(&jar, &f.csrf) {
        return message_page(&st, lang, None, StatusCode::FORBIDDEN, "form-expired");
    }
    let t = now(&st);
    let user = f.username.trim().to_lowercase();
    let allowed = match st.ui.login_allowed(&st.runner.db, &user, t).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "counting failed sign-ins failed");
            return message_page(&st, lang, None, StatusCode::SERVICE_UNAVAILABLE, "error");
        }
    };
    if !allowed {
        let _ = crate::store::record::audit_one(
            &st.runner.db,
            t,
            "web",
            "sign-in-limited",
            None,
            &user,
        )
        .await;
        return login_form(
            &st,
            lang,
            jar,
            f.next.as_deref(),
            Some("too-many-attempts"),
            None,
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    // The account is read here; argon2 (tens of milliseconds of CPU) runs off the async workers.
    let checked = match staff::login_candidate(&st.runner.db, &user).await {
        Ok(candidate) => {
            let password = f.password.clone();
            tokio::task::spawn_blocking(move || staff::check_password(candidate, &password))
                .await
                .map(Ok)
        }
        Err(e) => Ok(Err(e)),
    };
    match checked {
        Ok(Ok(Some(s))) => {
            if let Err(e) = st.ui.login_succeeded(&st.runner.db, &user).await {
                tracing::warn!(error = %e, "could not forget the failed sign-ins of a user who signed in");
            }
            match staff::start_session(&st.runner.db, &s, t, st.ui.settings.idle_ms).await {
                Ok(token) => {
                    let jar = jar
                        .remove(Cookie::from(PRE_COOKIE))
                        .add(st.ui.cookie(SESSION_COOKIE, token));
                    (jar, Redirect::to(&safe_next(f.next.as_deref()))).into_response()
                }
                Err(e) => {
                    tracing::error!(error = %e, "starting a session failed");
                    message_page(&st, lang, None, StatusCode::SERVICE_UNAVAILABLE, "error")
                }
            }
        }
        Ok(Ok(None)) => {
            if let Err(e) = st.ui.login_failed(&st.runner.db, &user, t).await {
                tracing::error!(error = %e, "could not count a failed sign-in");
            }
            let _ = crate::store::record::audit_one(
                &st.runner.db,
                t,
                "web",
                "sign-in-failed",
                None,
                &user,
            )
            .await;
            login_form(
                &st,
                lang,
                jar,
                f.next.as_deref(),
                Some("sign-in-failed"),
                None,
                StatusCode::UNAUTHORIZED,
            )
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "signing in failed");
            message_page(&st, lang, None, StatusCode::SERVICE_UNAVAILABLE, "error")
        }
        Err(e) => {
            tracing::error!(error = %e, "signing in failed");
            message_page(&st, lang, None, StatusCode::SERVICE_UNAVAILABLE, "error")
        }
    }
}

async fn logout(
    State(st): State<AppState>,
    jar: CookieJar,
    Form(a, Empty {}): Form<Empty>,
) -> Response {
    let _ = staff::end_session(&st.runner.db, &a.token, &a.staff.actor(), now(&st)).await;
    (
        jar.remove(Cookie::from(SESSION_COOKIE)),
        Redirect::to("/login"),
    )
        .into_response()
}

async fn setup_page(
    State(st): State<AppState>,
    Lang(lang): Lang,
    jar: CookieJar,
    Path(token): Path<String>,
) -> Response {
    match staff::setup_target(&st.runner.db, &token, now(&st)).await {
        Ok(Some(target)) => {
            let pre = pre_token(&jar);
            let jar = jar.add(st.ui.cookie(PRE_COOKIE, pre.clone()));
            let r = st.ui.render(
                "setup.html",
                context! {
                    lang => lang, other_lang => other(lang), csrf => pre,
                    first => target.is_none(),
                    target => target.map(|s| format!("{} ({})", s.name, s.username)),
                },
            );
            (jar, r).into_response()
        }
        // Used, expired or unknown: said in both languages, with the way to sign in.
        Ok(None) => {
            let mut r = st.ui.render(
                "message.html",
                context! {
                    lang => lang, other_lang => other(lang),
                    heading => st.ui.text.get(lang, "err-bad-link", None),
                    heading_other => st.ui.text.get(other(lang), "err-bad-link", None),
                    link => "/login",
                    link_text => st.ui.text.get(lang, "sign-in", None),
                },
            );
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "reading a set-up link failed");
            message_page(&st, lang, None, StatusCode::SERVICE_UNAVAILABLE, "error")
        }
    }
}

#[derive(Debug, Deserialize)]
struct SetupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

async fn setup(
    State(st): State<AppState>,
    Lang(lang): Lang,
    jar: CookieJar,
    Path(token): Path<String>,
    axum::Form(f): axum::Form<SetupForm>,
) -> Response {
    if !pre_ok(&jar, &f.csrf) {
        return message_page(&st, lang, None, StatusCode::FORBIDDEN, "form-expired");
    }
    match staff::use_setup_link(
        &st.runner.db,
        &token,
        &f.username,
        &f.name,
        &f.password,
        now(&st),
    )
    .await
    {
        Ok(_) => Redirect::to("/login?done=setup-done").into_response(),
        Err(
            e @ (staff::StaffError::Invalid(_)
            | staff::StaffError::Taken(_)
            | staff::StaffError::BadLink),
        ) => {
            let said = e.to_string();
            let mut r = st.ui.render(
                "message.html",
                context! {
                    lang => lang, other_lang => other(lang),
                    heading => st.words(lang).error(&said),
                    heading_other => st.words(other(lang)).error(&said),
                    link => format!("/setup/{token}"),
                    link_text => st.ui.text.get(lang, "setup-title", None),
                },
            );
            *r.status_mut() = StatusCode::BAD_REQUEST;
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "setting up an account failed");
            message_page(&st, lang, None, StatusCode::SERVICE_UNAVAILABLE, "error")
        }
    }
}

/// Switches the interface language (a link, so it works before signing in and without forms).
async fn switch_lang(
    State(st): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(lang): Path<String>,
) -> Response {
    let lang = if lang == "fr" { "fr" } else { "en" };
    if let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned())
        && let Ok(Some(s)) =
            staff::session(&st.runner.db, &token, now(&st), st.ui.settings.idle_ms).await
    {
        let _ = staff::set_language(&st.runner.db, s.staff.id, lang).await;
    }
    // Back where the switch was pressed, if that was a page of this site.
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .map(|u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        });
    let c = st.ui.cookie(crate::web::ui::LANG_COOKIE, lang.to_owned());
    (jar.add(c), Redirect::to(&safe_next(back.as_deref()))).into_response()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_only_ever_a_path_on_this_site() {
        for good in ["/clients/amelie", "/clients?q=x&page=2", "/today"] {
            assert_eq!(safe_next(Some(good)), good);
        }
        for bad in [
            "//evil.example/",
            "/\t/evil.example/",
            "/\r\nSet-Cookie: x=1",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "/clients?q=a b",
            "/clients/amélie",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/today", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/today");
    }
}
