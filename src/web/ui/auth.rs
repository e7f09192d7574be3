//! Who is asking: a signed-in staff member (their session and its CSRF token), the language of
//! a page seen before signing in, and forms whose CSRF token is checked.

use crate::staff::{Session, Staff};
use crate::web::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use minijinja::Value;
use serde::de::DeserializeOwned;

pub const SESSION_COOKIE: &str = "matters_session";
pub const LANG_COOKIE: &str = "matters_lang";
pub const PRE_COOKIE: &str = "matters_pre";
/// The interface languages.
pub const UI_LANGS: [&str; 2] = ["en", "fr"];

/// The interface language of a request: the switch's cookie, else the browser's preference.
pub(crate) fn request_lang(headers: &HeaderMap, staff: Option<&Staff>) -> &'static str {
    let jar = CookieJar::from_headers(headers);
    if let Some(c) = jar.get(LANG_COOKIE) {
        return if c.value() == "fr" { "fr" } else { "en" };
    }
    if let Some(s) = staff {
        return if s.language == "fr" { "fr" } else { "en" };
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.trim_start().starts_with("fr") {
        "fr"
    } else {
        "en"
    }
}

/// A signed-in staff member, their session's CSRF token, and the interface language.
#[derive(Debug, Clone)]
pub struct Auth {
    pub staff: Staff,
    pub csrf: String,
    pub token: String,
    pub lang: &'static str,
    /// The page asked for, for the navigation to mark it.
    pub path: String,
    /// What waits for them, counted in the header.
    pub counts: Counts,
}

/// The header's counts: conversations waiting for an answer, notifications not yet seen.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Counts {
    pub inbox: i64,
    pub notifications: i64,
}

impl Auth {
    #[must_use]
    pub fn viewer(&self) -> Option<i64> {
        (!self.staff.is_admin()).then_some(self.staff.id)
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let to_login = || {
            let next = parts
                .uri
                .path_and_query()
                .map_or("/today", |p| p.as_str())
                .to_owned();
            Redirect::to(&format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            ))
            .into_response()
        };
        let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
            return Err(to_login());
        };
        let now = crate::clock::to_ms(st.runner.clock.now());
        match crate::staff::session(&st.runner.db, &token, now, st.ui.settings.idle_ms).await {
            Ok(Some(Session { staff, csrf })) => {
                let lang = request_lang(&parts.headers, Some(&staff));
                let viewer = (!staff.is_admin()).then_some(staff.id);
                let counts = Counts {
                    inbox: crate::runner::conversation::waiting(
                        &st.runner.db,
                        viewer,
                        staff.scope(),
                    )
                    .await
                    .unwrap_or(0),
                    notifications: crate::web::notifications::unread(&st.runner.db, &staff, viewer)
                        .await
                        .unwrap_or(0),
                };
                Ok(Auth {
                    staff,
                    csrf,
                    token,
                    lang,
                    path: parts.uri.path().to_owned(),
                    counts,
                })
            }
            Ok(None) => Err(to_login()),
            Err(e) => {
                tracing::error!(error = %e, "reading a session failed");
                Err((StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable").into_response())
            }
        }
    }
}

/// The language of a page seen before signing in.
pub struct Lang(pub &'static str);

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang(request_lang(&parts.headers, None)))
    }
}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

pub use crate::config::same_secret;

/// A form posted by a signed-in staff member, its CSRF token checked against their session's.
pub struct Form<T>(pub Auth, pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Form<T> {
    type Rejection = Response;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let auth = Auth::from_request_parts(&mut parts, st).await?;
        let bytes = axum::body::to_bytes(body, 64 * 1024).await.map_err(|_| {
            (StatusCode::PAYLOAD_TOO_LARGE, "the form is too large").into_response()
        })?;
        let c: CsrfField = serde_html_form::from_bytes(&bytes).unwrap_or(CsrfField {
            csrf: String::new(),
        });
        if !same_secret(&c.csrf, &auth.csrf) {
            let now = crate::clock::to_ms(st.runner.clock.now());
            let _ = crate::store::record::audit_one(
                &st.runner.db,
                now,
                &auth.staff.actor(),
                "csrf-refused",
                None,
                parts.uri.path(),
            )
            .await;
            return Err(message_page(
                st,
                auth.lang,
                Some(&auth),
                StatusCode::FORBIDDEN,
                "form-expired",
            ));
        }
        let form: T = serde_html_form::from_bytes(&bytes).map_err(|e| {
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("the form is incomplete: {e}"),
            )
                .into_response()
        })?;
        Ok(Form(auth, form))
    }
}

/// A page with one heading: an error or a notice.
pub fn message_page(
    st: &AppState,
    lang: &str,
    auth: Option<&Auth>,
    status: StatusCode,
    key: &str,
) -> Response {
    let heading = st.ui.text.get(lang, key, None);
    // Not signed in, the reader's language is a guess: said in both.
    let heading_other = auth
        .is_none()
        .then(|| st.ui.text.get(other(lang), key, None));
    let mut r = st.ui.render(
        "message.html",
        minijinja::context! {
            lang => lang,
            other_lang => other(lang),
            me => auth.map(|a| Value::from_serialize(&a.staff)),
            csrf => auth.map(|a| a.csrf.clone()),
            heading => heading,
            heading_other => heading_other,
        },
    );
    *r.status_mut() = status;
    r
}

#[must_use]
pub fn other(lang: &str) -> &'static str {
    if lang == "fr" { "en" } else { "fr" }
}

/// Whether a form posted before signing in carries the token of its cookie.
#[must_use]
pub fn pre_ok(jar: &CookieJar, csrf: &str) -> bool {
    jar.get(PRE_COOKIE)
        .is_some_and(|c| c.value().len() >= 32 && same_secret(c.value(), csrf))
}

/// A pre-session token for the sign-in and set-up forms (double-submit: the cookie and the
/// form must carry the same value).
pub fn pre_token(jar: &CookieJar) -> String {
    jar.get(PRE_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() >= 32)
        .unwrap_or_else(crate::staff::new_token)
}
