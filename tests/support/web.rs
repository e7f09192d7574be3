//! A navigator's browser, in-process: the router called with a cookie jar, forms posted with the
//! CSRF token of the page they came from.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::DateTime;
use http_body_util::BodyExt;
use matters::clock::ManualClock;
use matters::config::Config;
use matters::staff::{self, Role};
use matters::web::{AppState, app};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

pub struct Web {
    pub state: AppState,
    pub clock: ManualClock,
    jar: Mutex<BTreeMap<String, String>>,
    /// The CSRF token on the last page fetched.
    csrf: Mutex<String>,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    /// The body as it came (a PDF is not text).
    pub bytes: Vec<u8>,
}

impl Page {
    /// What a reader sees: the text without tags (and without scripts, styles and closed
    /// `<details>`' content, which is not showing), entities decoded, spaces folded.
    pub fn visible(&self) -> String {
        visible_text(&self.body)
    }

    /// The interface's own words, in the page's language (see [`interface_text`]).
    pub fn interface(&self) -> String {
        interface_text(&self.body)
    }

    /// A header's value, when it has one and it is text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// 2026-06-01 10:00 in Toronto.
pub const START: &str = "2026-06-01T14:00:00Z";

impl Web {
    pub async fn new() -> Self {
        Self::with_db("sqlite::memory:").await
    }

    pub async fn with_db(url: &str) -> Self {
        Self::with_config(Config {
            database_url: url.into(),
            centre_name: "CSC Centre-Ville".into(),
            ..Config::default()
        })
        .await
    }

    pub async fn with_config(cfg: Config) -> Self {
        let clock = ManualClock::new(DateTime::parse_from_rfc3339(START).unwrap().to_utc());
        let runner = matters::app::build(&cfg, Arc::new(clock.clone()))
            .await
            .unwrap();
        Self {
            state: AppState::new(Arc::new(runner)).with_web(&cfg),
            clock,
            jar: Mutex::new(BTreeMap::new()),
            csrf: Mutex::new(String::new()),
        }
    }

    /// A browser on a server built elsewhere (with its own channels), on its clock.
    pub fn from_state(state: AppState, clock: ManualClock) -> Self {
        Self {
            state,
            clock,
            jar: Mutex::new(BTreeMap::new()),
            csrf: Mutex::new(String::new()),
        }
    }

    /// Another browser on the same server: no cookies.
    pub fn other_browser(&self) -> Self {
        Self {
            state: self.state.clone(),
            clock: self.clock.clone(),
            jar: Mutex::new(BTreeMap::new()),
            csrf: Mutex::new(String::new()),
        }
    }

    pub fn now(&self) -> i64 {
        matters::clock::to_ms(self.state.runner.clock.now())
    }

    pub fn csrf(&self) -> String {
        self.csrf.lock().unwrap().clone()
    }

    pub async fn request(&self, req: Request<Body>) -> Page {
        let resp = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        for c in headers.get_all(header::SET_COOKIE) {
            let c = c.to_str().unwrap();
            let (pair, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = pair.split_once('=').unwrap();
            let mut jar = self.jar.lock().unwrap();
            if v.is_empty() || attrs.contains("Max-Age=0") {
                jar.remove(k);
            } else {
                jar.insert(k.to_owned(), v.to_owned());
            }
        }
        let location = headers
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        let bytes = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(i) = body.find("name=\"csrf\" value=\"") {
            let rest = &body[i + 19..];
            *self.csrf.lock().unwrap() = rest[..rest.find('"').unwrap()].to_owned();
        }
        Page {
            status,
            location,
            headers,
            body,
            bytes,
        }
    }

    fn cookies(&self) -> String {
        self.jar
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn has_cookie(&self, name: &str) -> bool {
        self.jar.lock().unwrap().contains_key(name)
    }

    pub async fn get(&self, path: &str) -> Page {
        let req = Request::get(path)
            .header(header::COOKIE, self.cookies())
            .body(Body::empty())
            .unwrap();
        self.request(req).await
    }

    /// Posts a form as a browser would: with the CSRF token of the last page.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf();
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts exactly these fields.
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let req = Request::post(path)
            .header(header::COOKIE, self.cookies())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.request(req).await
    }

    pub async fn api(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Page {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.request(req).await
    }

    /// Adds a staff member with a password.
    pub async fn staff(&self, user: &str, role: Role) -> staff::Staff {
        staff::add(
            &self.state.runner.db,
            user,
            &format!("{user} name"),
            role,
            Some("a long enough password"),
            self.now(),
            "test",
        )
        .await
        .unwrap()
    }

    pub async fn sign_in(&self, user: &str) -> Page {
        self.get("/login").await;
        let p = self
            .post(
                "/login",
                &[
                    ("username", user),
                    ("password", "a long enough password"),
                    ("next", "/today"),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        p
    }

    /// Adds a client by the web form, as a navigator would: a phone number of their own, in
    /// English, referred to a walking group for loneliness and social isolation. A field given in
    /// `extra` replaces the default.
    pub async fn add_client(&self, id: &str, extra: &[(&str, &str)]) -> Page {
        self.get("/clients/new").await;
        // Every client has a phone unless the test says otherwise: a real client with none is
        // reached by nothing, not even the simulator.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
        let phone = format!(
            "+1514555{:04}",
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let base = [
            ("id", id),
            ("phone", phone.as_str()),
            ("language", "en"),
            ("time_zone", "America/Toronto"),
            ("program", "Walking group"),
            ("reason", "loneliness"),
            ("reason", "social-isolation"),
        ];
        let mut f: Vec<(&str, &str)> = base
            .into_iter()
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
            .collect();
        f.extend_from_slice(extra);
        self.post("/clients", &f).await
    }

    pub async fn audit_actions(&self, client: &str) -> Vec<(String, String)> {
        sqlx::query_as::<_, (String, String)>(
            "SELECT actor, action FROM audit_log WHERE client_id = $1 ORDER BY id",
        )
        .bind(client)
        .fetch_all(self.state.runner.db.pool())
        .await
        .unwrap()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.state.runner.db.pool())
            .await
            .unwrap()
    }
}

/// What a reader sees: the text of the body without scripts and styles, and of a closed
/// `<details>` only its summary; entities decoded, spaces folded.
pub fn visible_text(html: &str) -> String {
    text_of(html, false)
}

/// The text a reader sees in the page's own language: also without what is marked as another
/// language (`lang="en"` on a French page: the language switch, a language's own name).
pub fn own_language_text(html: &str) -> String {
    text_of(html, true)
}

/// The interface's own words in the page's language: also the words a reader hears or sees
/// outside the text (`aria-label`, `title`, `alt`, `placeholder`, and `data-label`, which a
/// stacked table shows), and without what people wrote (a conversation's texts, a client's own
/// words) or `<code>` (a setting's name).
pub fn interface_text(html: &str) -> String {
    let skip = |e: &scraper::node::Element| {
        e.name() == "code" || e.classes().any(|c| c == "bubble" || c == "client-words")
    };
    let mut text = text_with(html, true, &skip);
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("[aria-label], [title], [alt], [placeholder], [data-label]")
        .unwrap_or_else(|_| unreachable!("a valid selector"));
    for e in doc.select(&sel) {
        for a in ["aria-label", "title", "alt", "placeholder", "data-label"] {
            if let Some(v) = e.value().attr(a) {
                text.push(' ');
                text.push_str(v);
            }
        }
    }
    text
}

fn text_of(html: &str, own_language_only: bool) -> String {
    text_with(html, own_language_only, &|_| false)
}

fn text_with(
    html: &str,
    own_language_only: bool,
    skip: &dyn Fn(&scraper::node::Element) -> bool,
) -> String {
    let doc = scraper::Html::parse_document(html);
    let page_lang = doc
        .root_element()
        .attr("lang")
        .map(str::to_owned)
        .unwrap_or_default();
    let mut out = String::new();
    let lang = own_language_only.then_some(page_lang.as_str());
    collect(doc.tree.root(), lang, skip, &mut out);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn collect(
    node: ego_tree::NodeRef<'_, scraper::Node>,
    lang: Option<&str>,
    skip: &dyn Fn(&scraper::node::Element) -> bool,
    out: &mut String,
) {
    for child in node.children() {
        match child.value() {
            scraper::Node::Text(t) => out.push_str(t),
            scraper::Node::Element(e) => {
                let name = e.name();
                if matches!(name, "script" | "style" | "title" | "template" | "head") || skip(e) {
                    continue;
                }
                if let (Some(page), Some(l)) = (lang, e.attr("lang"))
                    && l != page
                {
                    continue;
                }
                out.push(' ');
                if name == "details" && e.attr("open").is_none() {
                    for c in child.children() {
                        if matches!(c.value(), scraper::Node::Element(s) if s.name() == "summary") {
                            collect(c, lang, skip, out);
                        }
                    }
                } else {
                    collect(child, lang, skip, out);
                }
                out.push(' ');
            }
            _ => {}
        }
    }
}
