//! The navigator's web interface: server-rendered pages (minijinja, every value HTML-escaped),
//! English and French (Fluent), working without JavaScript. Sign-in sessions live in HttpOnly,
//! SameSite=Strict cookies (Secure behind HTTPS); every form carries a CSRF token; sign-in is
//! rate limited; idle sessions end. The pages themselves are modules of `web`, one a page.

mod auth;
pub mod charts;
pub mod words;

pub use auth::*;

use super::AppState;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum_extra::extract::cookie::{Cookie, SameSite};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use minijinja::value::Kwargs;
use minijinja::{AutoEscape, Environment, State, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The interface's own assets.
pub fn routes() -> Router<AppState> {
    Router::new().route("/assets/counter.js", get(counter_js))
}

async fn counter_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../assets/counter.js"),
    )
        .into_response()
}

/// The interface's wording, per language.
pub struct UiText {
    bundles: HashMap<&'static str, FluentBundle<FluentResource>>,
}

impl std::fmt::Debug for UiText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UiText").finish_non_exhaustive()
    }
}

const EN: &str = include_str!("../../../locales/ui/en.ftl");
const FR: &str = include_str!("../../../locales/ui/fr.ftl");

impl UiText {
    #[must_use]
    pub fn load() -> Self {
        let mut bundles = HashMap::new();
        for (lang, src) in [("en", EN), ("fr", FR)] {
            let res = FluentResource::try_new(src.to_owned()).unwrap_or_else(|(r, _)| r);
            let id: unic_langid::LanguageIdentifier = lang.parse().unwrap_or_default();
            let mut b = FluentBundle::new_concurrent(vec![id]);
            // Bidi isolation marks would show up inside HTML attributes and tests.
            b.set_use_isolating(false);
            let _ = b.add_resource(res);
            bundles.insert(lang, b);
        }
        Self { bundles }
    }

    /// The text of `key` in `lang` (English where missing; the key itself as a last resort).
    #[must_use]
    pub fn get(&self, lang: &str, key: &str, args: Option<&FluentArgs>) -> String {
        for l in [lang, "en"] {
            if let Some(b) = self.bundles.get(l)
                && let Some(m) = b.get_message(key)
                && let Some(p) = m.value()
            {
                let mut errors = Vec::new();
                return b.format_pattern(p, args, &mut errors).into_owned();
            }
        }
        key.to_owned()
    }

    /// The text of `key` in `lang`, else in English; `None` when neither has it.
    #[must_use]
    pub fn lookup(&self, lang: &str, key: &str, args: Option<&FluentArgs>) -> Option<String> {
        for l in [lang, "en"] {
            if let Some(b) = self.bundles.get(l)
                && let Some(m) = b.get_message(key)
                && let Some(p) = m.value()
            {
                let mut errors = Vec::new();
                return Some(b.format_pattern(p, args, &mut errors).into_owned());
            }
        }
        None
    }

    /// Message ids of one language.
    #[must_use]
    pub fn keys(lang: &str) -> Vec<String> {
        let src = if lang == "fr" { FR } else { EN };
        src.lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with(' '))
            .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim().to_owned()))
            .collect()
    }
}

/// Web settings resolved from the configuration.
#[derive(Debug, Clone)]
pub struct WebSettings {
    pub idle_ms: i64,
    pub secure_cookies: bool,
    pub login_attempts: usize,
    pub login_window_ms: i64,
}

/// The interface: templates, wording, and the sign-in limiter's settings (its counts are kept
/// in the database, shared by every process).
pub struct Ui {
    env: Environment<'static>,
    pub text: Arc<UiText>,
    pub settings: WebSettings,
}

impl std::fmt::Debug for Ui {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ui")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

macro_rules! templates {
    ($env:ident, $($name:literal),*) => {
        $( $env.add_template($name, include_str!(concat!("../templates/", $name)))
            .unwrap_or_else(|e| panic!("template {} does not parse: {e}", $name)); )*
    };
}

impl Ui {
    #[must_use]
    pub fn new(settings: WebSettings, content: Content) -> Self {
        let text = Arc::new(UiText::load());
        let mut env = Environment::new();
        // Every template is HTML (the SVG chart is included into pages): escape everything.
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        templates!(
            env,
            "base.html",
            "message.html",
            "login.html",
            "setup.html",
            "today.html",
            "clients.html",
            "client_new.html",
            "record.html",
            "chart.html",
            "flows.html",
            "simulator.html",
            "cohort.html",
            "audit.html",
            "staff.html",
            "export.html",
            "invite.html",
            "confirm.html",
            "alert.html",
            "inbox.html",
            "notifications.html",
            "program_form.html",
            "programs.html",
            "program.html",
            "letter.html",
            "referrers.html",
            "centres.html",
            "sociodemographics.html",
            "feedback.html"
        );
        words::template::register(&mut env, &text, &content);
        // `{{ v(status) }}`: a stored value (pending, granted, attended…) in the reader's
        // language; a value without wording shows as stored.
        let tv = text.clone();
        env.add_function("v", move |state: &State, value: Option<String>| -> String {
            let Some(value) = value else {
                return String::new();
            };
            let key = format!("v-{value}");
            tv.lookup(&lang_of(state), &key, None).unwrap_or(value)
        });
        let t = text.clone();
        env.add_function(
            "t",
            move |state: &State, key: &str, kwargs: Kwargs| -> Result<String, minijinja::Error> {
                let lang = state
                    .lookup("lang")
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "en".into());
                let mut args = FluentArgs::new();
                for k in kwargs.args() {
                    let v: Value = kwargs.get(k)?;
                    args.set(k.to_owned(), v.to_string());
                }
                Ok(t.get(&lang, key, Some(&args)))
            },
        );
        Self {
            env,
            text,
            settings,
        }
    }

    /// Renders a template; a failure is logged and shown as a plain error page.
    pub fn render(&self, name: &str, ctx: Value) -> Response {
        match self.env.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(html) => with_security_headers(Html(html).into_response()),
            Err(e) => {
                tracing::error!(template = name, error = %e, "a page failed to render");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the page failed to render",
                )
                    .into_response()
            }
        }
    }

    /// Whether a user name may try to sign in now, counting the failures of every process on
    /// the database; records nothing.
    ///
    /// # Errors
    /// The database failed.
    pub async fn login_allowed(
        &self,
        db: &crate::store::Db,
        username: &str,
        now: i64,
    ) -> Result<bool, crate::store::StoreError> {
        let failed = crate::store::shared::sign_in_failures(
            db,
            &username.to_lowercase(),
            now - self.settings.login_window_ms,
        )
        .await?;
        Ok(usize::try_from(failed).unwrap_or(usize::MAX) < self.settings.login_attempts)
    }

    /// Counts a failed sign-in, for every process.
    ///
    /// # Errors
    /// The database failed.
    pub async fn login_failed(
        &self,
        db: &crate::store::Db,
        username: &str,
        now: i64,
    ) -> Result<(), crate::store::StoreError> {
        crate::store::shared::sign_in_failed(
            db,
            &username.to_lowercase(),
            now,
            now - self.settings.login_window_ms,
        )
        .await
    }

    /// Forgets a user name's failures: it signed in.
    ///
    /// # Errors
    /// The database failed.
    pub async fn login_succeeded(
        &self,
        db: &crate::store::Db,
        username: &str,
    ) -> Result<(), crate::store::StoreError> {
        crate::store::shared::sign_in_succeeded(db, &username.to_lowercase()).await
    }

    /// A cookie with this deployment's flags.
    #[must_use]
    pub fn cookie(&self, name: &'static str, value: String) -> Cookie<'static> {
        Cookie::build((name, value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.settings.secure_cookies)
            .build()
    }
}

/// What the words of a page are made from, beside the interface's own wording.
#[derive(Debug, Clone)]
pub struct Content {
    pub catalog: Arc<crate::i18n::Catalog>,
    pub flows: Arc<crate::flow::FlowSet>,
    pub tz: chrono_tz::Tz,
}

/// The reading language of a template's page.
pub(crate) fn lang_of(state: &State) -> String {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "en".into())
}

/// Headers every page carries: no framing, no sniffing, scripts only from this server.
fn with_security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_interface_message_is_in_both_languages() {
        let en = UiText::keys("en");
        let fr = UiText::keys("fr");
        assert!(en.len() > 100, "{}", en.len());
        let missing_fr: Vec<_> = en.iter().filter(|k| !fr.contains(k)).collect();
        let missing_en: Vec<_> = fr.iter().filter(|k| !en.contains(k)).collect();
        assert!(missing_fr.is_empty(), "missing in French: {missing_fr:?}");
        assert!(missing_en.is_empty(), "missing in English: {missing_en:?}");
        let t = UiText::load();
        assert_eq!(t.get("fr", "sign-in", None), "Se connecter");
        assert_eq!(t.get("fr", "no-such-key", None), "no-such-key");
    }

    #[test]
    fn templates_parse_and_escape() {
        let ui = Ui::new(
            WebSettings {
                idle_ms: 1,
                secure_cookies: false,
                login_attempts: 5,
                login_window_ms: 1,
            },
            Content {
                catalog: Arc::new(
                    crate::i18n::Catalog::load(
                        std::path::Path::new("locales"),
                        &[crate::domain::Locale::parse("en").unwrap()],
                        &crate::domain::Locale::parse("en").unwrap(),
                    )
                    .0,
                ),
                flows: Arc::new(crate::flow::FlowSet::default()),
                tz: chrono_tz::America::Toronto,
            },
        );
        let r = ui.render(
            "message.html",
            minijinja::context! { lang => "en", other_lang => "fr", heading => "<script>x</script>" },
        );
        assert_eq!(r.status(), StatusCode::OK);
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
