//! The navigator's web interface in a real browser: headless Chromium driven over WebDriver
//! (chromedriver) by fantoccini.
//!
//! - A day's path: set-up link, sign-in, add a client, enrol, the record, the live segment
//!   counter, a client's markup shown as text with nothing run, the French interface.
//! - Every page, in English and in French, at 1280 px and at 320 px, checked by axe-core
//!   (vendored under `tests/assets/axe-core/`): any violation fails. At 320 px no page may
//!   scroll sideways (WCAG 1.4.10), and a screenshot of each is kept under
//!   `target/screenshots/320/`.
//! - The main path walked with the keyboard only, the focus visible at every stop.
//!
//! `.ci/run` installs Debian's `chromium` and `chromium-driver`. Without them these tests say so
//! loudly, and fail under `CI=true`. The tests take turns: one browser at a time.

mod support;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use matters::clock::ManualClock;
use matters::config::Config;
use matters::domain::{ClientId, FlowId};
use matters::runner::{IfBusy, Runner};
use matters::web::{AppState, app};
use serde_json::json;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use support::seed;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const XSS: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>";

fn find_driver() -> Option<PathBuf> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn find_chromium() -> Option<PathBuf> {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// chromedriver on a free port; its own words say when it is ready.
async fn start_driver(driver: &PathBuf) -> (Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(l) = lines.next_line().await.unwrap() {
        if l.contains("started successfully") {
            break;
        }
    }
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, port)
}

struct Browser {
    c: Client,
    base: String,
    shots: PathBuf,
}

impl Browser {
    async fn go(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    async fn fill(&self, css: &str, text: &str) {
        let e = self
            .c
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Clicks something that loads a new page, and waits for that page: the old one is marked,
    /// so the wait ends when a body without the mark is there.
    async fn submit(&self, css: &str) {
        self.c
            .execute("document.body.setAttribute('data-old', '1')", vec![])
            .await
            .unwrap();
        self.click(css).await;
        self.c
            .wait()
            .for_element(Locator::Css("body:not([data-old])"))
            .await
            .unwrap_or_else(|e| panic!("no new page after {css}: {e}"));
    }

    async fn text(&self, css: &str) -> String {
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    async fn path(&self) -> String {
        let u = self.c.current_url().await.unwrap();
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        }
    }

    /// Every form control on the page has a label a screen reader announces.
    async fn all_labelled(&self) {
        let bare = self
            .c
            .execute(
                "return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                   .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))
                   .map(e => e.name || e.id);",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            bare,
            json!([]),
            "unlabelled controls on {}",
            self.path().await
        );
    }

    async fn shot(&self, name: &str) {
        self.all_labelled().await;
        let png = self.c.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }
}

/// One browser at a time: the tests take turns.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The vendored axe-core (see `tests/assets/axe-core/README.md`).
const AXE: &str = include_str!("assets/axe-core/axe.min.js");

/// The service on a real port, on its own embedded database, and a browser driving it.
struct Rig {
    runner: Arc<Runner>,
    clock: ManualClock,
    b: Browser,
    base: String,
    _driver: Child,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

/// `None` (said loudly; a failure under `CI=true`) when Chromium or chromedriver is missing.
async fn rig(telegram: bool) -> Option<Rig> {
    let (Some(driver), Some(chromium)) = (find_driver(), find_chromium()) else {
        let msg = "BROWSER TESTS NOT RUN: chromium and chromedriver are not installed (apt-get install chromium chromium-driver; .ci/run does)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg} (CI=true requires them)");
        }
        eprintln!("\n!!!!!!!!!!\n!!! {msg}\n!!!!!!!!!!\n");
        return None;
    };
    let turn = TURN.lock().await;
    let clock = ManualClock::new(
        chrono::DateTime::parse_from_rfc3339("2026-06-01T14:00:00Z")
            .unwrap()
            .to_utc(),
    );
    let cfg = Config {
        database_url: "sqlite::memory:".into(),
        centre_name: "CSC Centre-Ville".into(),
        ..Config::default()
    };
    let runner = Arc::new(
        matters::app::build(&cfg, Arc::new(clock.clone()))
            .await
            .unwrap(),
    );
    let mut state = AppState::new(runner.clone()).with_web(&cfg);
    if telegram {
        state.telegram_bot = Some("matters_centre_bot".into());
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, app(state)).into_future());

    let (driver, port) = start_driver(&driver).await;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1600", "--lang=en", "--hide-scrollbars"]
        }),
    );
    // Two TLS back ends are linked in; WebDriver here is plain HTTP on loopback anyway.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let c = ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(shots.join("320")).unwrap();
    Some(Rig {
        runner,
        clock,
        b: Browser {
            c,
            base: base.clone(),
            shots,
        },
        base,
        _driver: driver,
        _turn: turn,
    })
}

/// How a page is reached: a link, or a form filled in and sent from another page.
enum Open {
    Get(String),
    Form {
        from: String,
        form: String,
        fields: Vec<(&'static str, String)>,
    },
}

fn get(p: impl Into<String>) -> Open {
    Open::Get(p.into())
}

fn form(from: &str, form: &str, fields: &[(&'static str, &str)]) -> Open {
    Open::Form {
        from: from.into(),
        form: form.into(),
        fields: fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
    }
}

impl Browser {
    async fn open(&self, o: &Open) {
        match o {
            Open::Get(p) => self.go(p).await,
            Open::Form { from, form, fields } => {
                self.go(from).await;
                for (name, value) in fields {
                    self.c
                        .execute(
                            "const f = document.querySelector(arguments[0]); f.elements[arguments[1]].value = arguments[2];",
                            vec![json!(form), json!(name), json!(value)],
                        )
                        .await
                        .unwrap_or_else(|e| panic!("{form} {name}: {e}"));
                }
                self.submit(&format!("{form} button")).await;
            }
        }
    }

    /// The viewport `width` CSS pixels wide, checked.
    async fn width(&self, width: u32) {
        self.c.set_window_size(width, 900).await.unwrap();
        let inner = self
            .c
            .execute("return window.innerWidth", vec![])
            .await
            .unwrap();
        let inner = inner.as_u64().unwrap_or(0);
        if inner != u64::from(width) {
            // The window's frame takes some: make the viewport itself the width asked.
            let frame = 1280u64.saturating_sub(inner).min(200);
            let outer = u32::try_from(u64::from(width) + frame).unwrap_or(width);
            self.c.set_window_size(outer, 900).await.unwrap();
        }
        let inner = self
            .c
            .execute("return window.innerWidth", vec![])
            .await
            .unwrap();
        assert_eq!(inner, json!(width), "the viewport is {width} px wide");
    }

    /// axe-core's violations on the page: `rule (impact): where`.
    async fn axe(&self) -> Vec<String> {
        self.c.execute(AXE, vec![]).await.unwrap();
        let r = self
            .c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
                   .catch(e => done(['axe did not run: ' + e]));",
                vec![],
            )
            .await
            .unwrap();
        r.as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The page's width beyond the viewport, if it scrolls sideways.
    async fn overflow(&self) -> Option<(u64, u64)> {
        let r = self
            .c
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth]",
                vec![],
            )
            .await
            .unwrap();
        let (s, i) = (r[0].as_u64().unwrap_or(0), r[1].as_u64().unwrap_or(0));
        (s > i).then_some((s, i))
    }

    /// A screenshot of the whole page at `width`: the window as tall as the page.
    async fn full_page_shot(&self, width: u32) -> Vec<u8> {
        let h = self
            .c
            .execute("return document.documentElement.scrollHeight", vec![])
            .await
            .unwrap();
        let h = u32::try_from(h.as_u64().unwrap_or(900).clamp(600, 12_000)).unwrap_or(900);
        self.c.set_window_size(width, h).await.unwrap();
        let png = self.c.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        self.width(width).await;
        png
    }

    async fn key(&self, k: Key) {
        let k: char = k.into();
        self.c
            .perform_actions(
                KeyActions::new("keyboard".into())
                    .then(KeyAction::Down { value: k })
                    .then(KeyAction::Up { value: k }),
            )
            .await
            .unwrap();
    }

    /// Types into whatever has the focus.
    async fn type_text(&self, text: &str) {
        let mut a = KeyActions::new("keyboard".into());
        for ch in text.chars() {
            a = a
                .then(KeyAction::Down { value: ch })
                .then(KeyAction::Up { value: ch });
        }
        self.c.perform_actions(a).await.unwrap();
    }

    /// Presses Tab until the focus is on `css`; at every stop the focus shows (an outline of
    /// at least 2 px, not `none`). Fails after `max` presses.
    async fn tab_to(&self, css: &str, max: usize) {
        for _ in 0..max {
            self.key(Key::Tab).await;
            let r = self
                .c
                .execute(
                    "const e = document.activeElement; const s = getComputedStyle(e);
                     return [e.matches(arguments[0]), e.tagName + (e.id ? '#' + e.id : '') + ' ' + (e.textContent || '').trim().slice(0, 40), s.outlineStyle, parseFloat(s.outlineWidth)];",
                    vec![json!(css)],
                )
                .await
                .unwrap();
            assert!(
                r[2] != json!("none") && r[3].as_f64().unwrap_or(0.0) >= 2.0,
                "the focus does not show on {} ({} {})",
                r[1],
                r[2],
                r[3]
            );
            if r[0] == json!(true) {
                return;
            }
        }
        panic!("{css} was not reached in {max} presses of Tab");
    }

    /// Enter on what has the focus, and the page it loads.
    async fn enter(&self) {
        self.c
            .execute("document.body.setAttribute('data-old', '1')", vec![])
            .await
            .unwrap();
        self.key(Key::Enter).await;
        self.c
            .wait()
            .for_element(Locator::Css("body:not([data-old])"))
            .await
            .unwrap_or_else(|e| panic!("no new page after Enter: {e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_navigator_works_in_a_real_browser() {
    let Some(rig) = rig(false).await else {
        return;
    };
    let Rig {
        runner, b, base, ..
    } = &rig;
    let (runner, b, base) = (runner.clone(), b, base.clone());

    // The first admin's one-time link, as `matters serve` prints it.
    let now = matters::clock::to_ms(runner.clock.now());
    let token = matters::staff::setup_link(&runner.db, None, now, 24)
        .await
        .unwrap();
    b.go(&format!("/setup/{token}")).await;
    b.shot("01-setup").await;
    b.fill("#username", "ada").await;
    b.fill("#name", "Ada Lovelace").await;
    b.fill("#password", "a long enough password").await;
    b.submit("button[type=submit]").await;
    assert_eq!(b.path().await, "/login?done=setup-done");
    assert_eq!(
        b.text("[role=status]").await,
        "Your account is ready. Sign in."
    );

    // Sign in.
    b.fill("#username", "ada").await;
    b.fill("#password", "a long enough password").await;
    b.shot("02-sign-in").await;
    b.submit("button[type=submit]").await;
    assert_eq!(b.path().await, "/today");
    assert_eq!(b.text("h1").await, "Today");
    // The session cookie is out of reach of scripts.
    let cookies = b.c.execute("return document.cookie", vec![]).await.unwrap();
    assert!(
        !cookies.as_str().unwrap().contains("matters_session"),
        "{cookies}"
    );
    b.shot("03-today").await;

    // Add a client and enrol her in the standard sequence.
    b.submit("a[href='/clients/new']").await;
    b.fill("#id", "amelie").await;
    b.fill("#name", "Amélie Tremblay").await;
    b.fill("#phone", "514 555 0123").await;
    b.fill("#program", "Café-rencontre").await;
    b.click("input[name=reason][value=loneliness]").await;
    b.c.find(Locator::Css("#language"))
        .await
        .unwrap()
        .select_by_value("fr")
        .await
        .unwrap();
    b.c.find(Locator::Css("#sequence"))
        .await
        .unwrap()
        .select_by_value("standard")
        .await
        .unwrap();
    b.shot("04-add-client").await;
    b.submit("form[action='/clients'] button[type=submit]")
        .await;
    assert_eq!(b.path().await, "/clients/amelie?done=added");
    assert_eq!(b.text("[role=status]").await, "Amélie Tremblay was added.");
    assert_eq!(b.text("h1").await, "Amélie Tremblay (amelie)");
    let timeline = b.text("section[aria-labelledby=timeline-h] table").await;
    assert!(
        timeline.contains("Standard follow-up")
            && timeline.contains("Consent and language")
            && timeline.contains("Loneliness survey (at 6 months)"),
        "{timeline}"
    );
    // Enrolling twice in the same sequence is refused with the reason, nothing lost.
    b.c.find(Locator::Css("#enrol-seq"))
        .await
        .unwrap()
        .select_by_value("standard")
        .await
        .unwrap();
    b.submit("form[action='/clients/amelie/enrol'] button")
        .await;
    let refused = b.text("main").await;
    assert!(
        refused.contains("amelie is already enrolled in Standard follow-up."),
        "{refused}"
    );
    b.go("/clients/amelie").await;
    b.c.find(Locator::Css("#enrol-seq"))
        .await
        .unwrap()
        .select_by_value("light")
        .await
        .unwrap();
    b.submit("form[action='/clients/amelie/enrol'] button")
        .await;
    assert_eq!(b.path().await, "/clients/amelie?done=enrolled&item=light");
    assert!(
        b.text("section[aria-labelledby=timeline-h] table")
            .await
            .contains("Light follow-up")
    );

    // Her reply carries markup: it shows as text and runs nothing.
    let id = ClientId::parse("amelie").unwrap();
    runner
        .start_flow(
            &id,
            &FlowId::parse("what-matters").unwrap(),
            None,
            IfBusy::Replace,
            "test",
        )
        .await
        .unwrap();
    // She is a real client: the public simulator neither speaks for her nor shows her record.
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{base}/simulator/messages"))
        .json(&json!({ "client": "amelie", "text": "STOP" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = http
        .get(format!("{base}/simulator/clients/amelie/record"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let mut reply = matters::runner::Inbound::new(
        matters::domain::Channel::Sms,
        id.clone(),
        Some("SMbrowser0001".into()),
        XSS,
    );
    reply.address = Some("+15145550123".into());
    runner.receive(&reply).await.unwrap();
    b.go("/clients/amelie").await;
    let shown = b.c.execute(
        "const cells = [...document.querySelectorAll('td.bubble')]; return cells.map(c => c.textContent);",
        vec![],
    ).await.unwrap();
    assert!(
        shown
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.as_str() == Some(XSS)),
        "{shown}"
    );
    let injected =
        b.c.execute(
            "return document.querySelectorAll('td img, td script').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(injected, json!(0));
    assert!(b.c.get_alert_text().await.is_err(), "no alert ran");
    let dir =
        b.c.execute(
            "return document.querySelector('td.bubble').getAttribute('dir')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(dir, json!("auto"));

    // The live segment counter of a one-off message.
    b.fill("#body", "Bonjour Amélie!").await;
    assert_eq!(
        b.text("#counter").await,
        "15 characters, 1 SMS segments (GSM-7)"
    );
    b.fill("#body", "Привет, как дела?").await;
    assert_eq!(
        b.text("#counter").await,
        "17 characters, 1 SMS segments (UCS-2)"
    );
    b.shot("05-client-record").await;
    b.submit("form[action='/clients/amelie/message'] button")
        .await;
    assert_eq!(b.path().await, "/clients/amelie?done=sent");

    // The other pages an admin uses.
    for (path, h1, name) in [
        ("/clients", "Clients", "06-clients"),
        ("/flows", "Flows", "07-flows"),
        ("/flows/simulator", "Simulator", "08-simulator"),
        ("/cohort", "Cohort", "09-cohort"),
        ("/audit", "Audit log", "10-audit"),
        ("/staff", "Staff and API tokens", "11-staff"),
        ("/export", "Export", "12-export"),
    ] {
        b.go(path).await;
        assert_eq!(b.text("h1").await, h1, "{path}");
        b.shot(name).await;
    }

    // The French interface, from the switch in the header.
    b.go("/today").await;
    b.submit("header a[lang=fr]").await;
    assert_eq!(b.path().await, "/today");
    assert_eq!(b.text("h1").await, "Aujourd'hui");
    let lang =
        b.c.execute("return document.documentElement.lang", vec![])
            .await
            .unwrap();
    assert_eq!(lang, json!("fr"));
    b.go("/clients/amelie").await;
    assert!(b.text("#timeline-h").await == "Suivi");
    let suivi = b.text("section[aria-labelledby=timeline-h] table").await;
    assert!(
        suivi.contains("à venir") && suivi.contains("après l'étape précédente"),
        "{suivi}"
    );
    b.shot("13-record-fr").await;

    // A form whose CSRF token was taken out is refused, and nothing changes.
    b.go("/lang/en").await;
    b.go("/clients/new").await;
    b.fill("#id", "forged").await;
    b.c.execute(
        "document.querySelector(\"form[action='/clients'] input[name=csrf]\").remove()",
        vec![],
    )
    .await
    .unwrap();
    b.submit("form[action='/clients'] button[type=submit]")
        .await;
    assert!(b.text("h1").await.contains("This form has expired"));
    b.go("/clients?q=forged").await;
    assert!(b.text("main").await.contains("No clients match."));

    // A navigator opening a client who is not theirs: 403, and the attempt is in the audit.
    matters::staff::add(
        &runner.db,
        "omar",
        "Omar K.",
        matters::staff::Role::Navigator,
        Some("a long enough password"),
        now,
        "test",
    )
    .await
    .unwrap();
    b.submit("header form[action='/logout'] button").await;
    assert_eq!(b.path().await, "/login");
    b.fill("#username", "omar").await;
    b.fill("#password", "a long enough password").await;
    b.submit("button[type=submit]").await;
    b.go("/clients/amelie").await;
    assert!(b.text("h1").await.contains("assigned to another navigator"));
    b.shot("14-forbidden").await;
    let denied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE actor = 'staff:omar' AND action = 'access-denied' AND client_id = 'amelie'")
        .fetch_one(runner.db.pool())
        .await
        .unwrap();
    assert_eq!(denied, 1);
    b.c.clone().close().await.unwrap();
}

/// The pages as an administrator sees them, on the seeded record.
fn signed_in_pages(nora: i64) -> Vec<(&'static str, Open)> {
    let amelie = "/clients/amelie";
    vec![
        ("today", get("/today")),
        ("clients", get("/clients")),
        (
            "clients-filtered",
            get(format!("/clients?navigator={nora}&flag=crisis")),
        ),
        ("client-new", get("/clients/new")),
        (
            "client-new-refused",
            form(
                "/clients/new",
                "form[action='/clients']",
                &[("id", "x y"), ("phone", "12")],
            ),
        ),
        ("record", get(amelie)),
        (
            "record-notice",
            get("/clients/amelie?done=enrolled&item=standard"),
        ),
        ("record-other", get("/clients/bruno")),
        ("not-found", get("/clients/personne")),
        (
            "consent-confirm",
            form(
                amelie,
                "form[action='/clients/amelie/invite']:has(input[value=sms])",
                &[],
            ),
        ),
        (
            "telegram-invite",
            form(
                amelie,
                "form[action='/clients/amelie/invite']:has(input[value=telegram])",
                &[],
            ),
        ),
        ("flows", get("/flows")),
        ("simulator", get("/flows/simulator")),
        (
            "simulator-turn",
            form(
                "/flows/simulator",
                "form[action='/flows/simulator']",
                &[
                    ("client", "test-ada"),
                    ("start", "loneliness"),
                    ("language", "fr"),
                ],
            ),
        ),
        ("cohort", get("/cohort")),
        ("audit", get("/audit")),
        ("staff", get("/staff")),
        ("export", get("/export")),
        ("inbox", get("/inbox")),
        ("notifications", get("/notifications")),
        ("alert", get("/alerts/1")),
        ("programs", get("/programs")),
        ("program", get("/programs/cafe-rencontre")),
        ("letter", get("/clients/amelie/summaries/1")),
        ("referrers", get("/referrers")),
        (
            "sociodemographics",
            get("/clients/amelie/sociodemographics"),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_in_both_languages_at_both_widths_and_reflows_at_320_px() {
    let Some(rig) = rig(true).await else {
        return;
    };
    let b = &rig.b;
    let runner = &rig.runner;
    let seeded = seed::everything(runner, &rig.clock).await;
    let omar = matters::staff::list(&runner.db, None)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.username == "omar")
        .unwrap();
    let token = matters::staff::setup_link(
        &runner.db,
        Some(omar.id),
        matters::clock::to_ms(runner.clock.now()),
        24,
    )
    .await
    .unwrap();
    let signed_out: Vec<(&str, Open)> = vec![
        ("sign-in", get("/login")),
        (
            "sign-in-refused",
            form(
                "/login",
                "form[action='/login']",
                &[("username", "personne"), ("password", "not the password")],
            ),
        ),
        ("setup", get(format!("/setup/{token}"))),
        ("setup-used", get("/setup/not-a-link-at-all")),
        ("public-simulator", get("/simulator")),
        (
            "public-simulator-turn",
            form(
                "/simulator",
                "form[action='/simulator']",
                &[("client", "essai"), ("start", "loneliness")],
            ),
        ),
    ];
    let navigator: Vec<(&str, Open)> = vec![
        ("navigator-today", get("/today")),
        ("navigator-forbidden", get("/clients/bruno")),
    ];
    // axe runs, and finds what it should: a picture with no text and a button with no name.
    b.go("/login").await;
    b.c.execute(
        "document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\\'/x.png\\'><button></button>')",
        vec![],
    )
    .await
    .unwrap();
    let planted = b.axe().await;
    assert!(
        planted.iter().any(|v| v.starts_with("image-alt"))
            && planted.iter().any(|v| v.starts_with("button-name")),
        "{planted:?}"
    );
    // And the reflow check sees a page wider than the phone.
    b.width(320).await;
    b.go("/login").await;
    assert_eq!(b.overflow().await, None);
    b.c.execute(
        "const d = document.createElement('div'); d.style.width = '600px'; d.style.height = '1px'; document.querySelector('main').append(d);",
        vec![],
    )
    .await
    .unwrap();
    assert!(
        b.overflow().await.is_some(),
        "a 600 px block scrolls sideways"
    );
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for lang in ["en", "fr"] {
        for (who, pages) in [
            ("", &signed_out),
            ("ada", &signed_in_pages(seeded.nora)),
            ("nora", &navigator),
        ] {
            // Signed out, or signed in as who; the interface in lang.
            b.go("/today").await;
            if b.c
                .find(Locator::Css("header form[action='/logout'] button"))
                .await
                .is_ok()
            {
                b.submit("header form[action='/logout'] button").await;
            }
            if !who.is_empty() {
                b.go("/login").await;
                b.fill("#username", who).await;
                b.fill("#password", seed::PASSWORD).await;
                b.submit("form[action='/login'] button").await;
            }
            b.go(&format!("/lang/{lang}")).await;
            for (name, open) in pages {
                let mut line = format!("{lang} {name:<22}");
                for width in [1280, 320] {
                    b.width(width).await;
                    b.open(open).await;
                    let page_lang =
                        b.c.execute("return document.documentElement.lang", vec![])
                            .await
                            .unwrap();
                    assert_eq!(page_lang, json!(lang), "{name} in {lang}");
                    assert!(
                        b.c.find(Locator::Css("h1")).await.is_ok(),
                        "{name}: a heading"
                    );
                    let v = b.axe().await;
                    line.push_str(&format!(" | axe {width}px: {} violations", v.len()));
                    failures.extend(
                        v.into_iter()
                            .map(|v| format!("{lang} {name} {width}px: {v}")),
                    );
                    if width == 320 {
                        match b.overflow().await {
                            None => line.push_str(" | no sideways scroll"),
                            Some((s, i)) => {
                                line.push_str(&format!(" | SCROLLS SIDEWAYS ({s} > {i})"));
                                failures.push(format!(
                                    "{lang} {name}: {s} px wide in a {i} px viewport"
                                ));
                            }
                        }
                        let png = b.full_page_shot(320).await;
                        std::fs::write(b.shots.join(format!("320/{lang}-{name}.png")), png)
                            .unwrap();
                    }
                }
                report.push(line);
            }
        }
    }
    b.width(1280).await;
    let report = report.join("\n");
    println!("\nEvery page, axe-core 4.14.1 and the 320 px reflow:\n{report}\n");
    std::fs::write(b.shots.join("320/report.txt"), &report).unwrap();
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every page was seen in both languages.
    assert_eq!(
        report.lines().count(),
        2 * (6 + signed_in_pages(0).len() + 2)
    );
    b.c.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_navigator_walks_the_main_path_with_the_keyboard_only() {
    let Some(rig) = rig(false).await else {
        return;
    };
    let b = &rig.b;
    let runner = &rig.runner;
    let seeded = seed::everything(runner, &rig.clock).await;
    b.width(1280).await;
    // Sign in: the user name has the focus; Tab to the password; Enter sends.
    b.go("/login?next=/today").await;
    let focused =
        b.c.execute("return document.activeElement.id", vec![])
            .await
            .unwrap();
    assert_eq!(focused, json!("username"));
    b.type_text("nora").await;
    b.tab_to("#password", 1).await;
    b.type_text(seed::PASSWORD).await;
    b.enter().await;
    assert_eq!(b.path().await, "/today");
    // The first stop is the skip link; it takes the focus to the page's content.
    b.tab_to("a.skip", 1).await;
    b.key(Key::Enter).await;
    let at = b.c.execute("return location.hash", vec![]).await.unwrap();
    assert_eq!(at, json!("#main"));
    // From Today, the crisis task's client, by keyboard.
    b.tab_to("main a[href='/clients/amelie']", 40).await;
    b.enter().await;
    assert_eq!(b.path().await, "/clients/amelie");
    // On the record, the crisis task comes before any form: Mark done, with its name said.
    let task = format!(
        "form[action='/tasks/{}/resolve'] button",
        seeded.crisis_task
    );
    b.tab_to(
        "main a, main button, main input, main select, main textarea",
        14,
    )
    .await;
    let first_action = b
        .c
        .execute(
            "return document.activeElement.closest('section').id || document.activeElement.closest('section').getAttribute('aria-labelledby')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(first_action, json!("tasks-h"), "the tasks come first");
    // The first of them is the urgent one: the crisis.
    let on_task =
        b.c.execute(
            "return document.activeElement.matches(arguments[0])",
            vec![json!(task)],
        )
        .await
        .unwrap();
    assert_eq!(
        on_task,
        json!(true),
        "the crisis task's button is the first stop"
    );
    let said =
        b.c.execute("return document.activeElement.textContent", vec![])
            .await
            .unwrap();
    assert_eq!(said, json!("Mark done — Crisis"));
    b.enter().await;
    assert_eq!(b.text("[role=status]").await, "The task is marked done.");
    let open: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM flags WHERE id = $1 AND status = 'open'")
            .bind(seeded.crisis_task)
            .fetch_one(runner.db.pool())
            .await
            .unwrap();
    assert_eq!(open, 0);
    // Back on her record, a message by keyboard: Tab to the text, type, Tab to Send, Enter.
    b.go("/clients/amelie").await;
    b.tab_to("#body", 120).await;
    b.type_text("Bonjour Amélie, je vous appelle demain matin.")
        .await;
    b.tab_to("form[action='/clients/amelie/message'] button", 1)
        .await;
    b.enter().await;
    assert_eq!(b.path().await, "/clients/amelie?done=sent");
    assert_eq!(
        b.text("[role=status]").await,
        "Your message to Amélie Tremblay is on its way."
    );
    let sent: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE client_id = 'amelie' AND message_key = 'navigator-message' AND body = 'Bonjour Amélie, je vous appelle demain matin.'",
    )
    .fetch_one(runner.db.pool())
    .await
    .unwrap();
    assert_eq!(sent, 1);
    // The header's navigation, by keyboard, marks where you are.
    b.tab_to("header a[href='/clients']", 5).await;
    b.enter().await;
    let current =
        b.c.execute(
            "return document.querySelector('header a[aria-current=page]').getAttribute('href')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(current, json!("/clients"));
    b.c.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_staff_page_button_adds_a_staff_member() {
    let Some(rig) = rig(false).await else {
        return;
    };
    let b = &rig.b;
    let runner = &rig.runner;
    seed::everything(runner, &rig.clock).await;
    b.go("/login").await;
    b.fill("#username", "ada").await;
    b.fill("#password", seed::PASSWORD).await;
    b.submit("form[action='/login'] button").await;
    b.go("/staff").await;
    let label = b.text("form[action='/staff'] button").await;
    assert_eq!(label, "Add the staff member");
    b.fill("form[action='/staff'] [name=username]", "lea").await;
    b.fill("form[action='/staff'] [name=name]", "Léa Roy").await;
    b.submit("form[action='/staff'] button").await;
    assert!(b.text("main").await.contains("Léa Roy"));
    b.go("/lang/fr").await;
    b.go("/staff").await;
    assert_eq!(
        b.text("form[action='/staff'] button").await,
        "Ajouter le membre du personnel"
    );
    b.c.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_navigator_answers_a_client_from_the_inbox_and_the_reply_appears_on_the_record() {
    let Some(rig) = rig(false).await else {
        return;
    };
    let b = &rig.b;
    let runner = &rig.runner;
    seed::everything(runner, &rig.clock).await;
    b.go("/login").await;
    b.fill("#username", "nora").await;
    b.fill("#password", seed::PASSWORD).await;
    b.submit("form[action='/login'] button").await;
    // The header counts the conversation waiting; the Inbox shows her words.
    let nav = b.text("header nav").await;
    assert!(nav.contains("Inbox 1"), "{nav}");
    b.go("/inbox").await;
    assert!(
        b.text("main").await.contains("Merci pour le café de mardi"),
        "{}",
        b.text("main").await
    );
    b.fill(
        "form[action='/inbox/amelie/reply'] textarea",
        "Avec plaisir ! On se voit mardi. Nora",
    )
    .await;
    b.submit("form[action='/inbox/amelie/reply'] button").await;
    assert_eq!(b.path().await, "/inbox?done=sent");
    let answer: String = sqlx::query_scalar(
        "SELECT body FROM messages WHERE client_id = 'amelie' AND message_key = 'navigator-message' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(runner.db.pool())
    .await
    .unwrap();
    assert_eq!(answer, "Avec plaisir ! On se voit mardi. Nora");
    // She answers; the bot stays quiet, and the record shows her reply.
    let out_before: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE client_id = 'amelie' AND direction = 'out'",
    )
    .fetch_one(runner.db.pool())
    .await
    .unwrap();
    let mut reply = matters::runner::Inbound::new(
        matters::domain::Channel::Sms,
        matters::domain::ClientId::parse("amelie").unwrap(),
        Some("SMinbox0001".into()),
        "Super, à mardi !",
    );
    reply.address = Some("+15145550123".into());
    runner.receive(&reply).await.unwrap();
    let out_after: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE client_id = 'amelie' AND direction = 'out'",
    )
    .fetch_one(runner.db.pool())
    .await
    .unwrap();
    assert_eq!(out_before, out_after, "the bot kept quiet");
    b.go("/clients/amelie").await;
    let shown =
        b.c.execute(
            "return [...document.querySelectorAll('td.bubble')].map(c => c.textContent);",
            vec![],
        )
        .await
        .unwrap();
    let shown: Vec<String> = shown
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    assert!(shown.iter().any(|t| t == "Super, à mardi !"), "{shown:?}");
    assert!(
        shown
            .iter()
            .any(|t| t == "Avec plaisir ! On se voit mardi. Nora"),
        "{shown:?}"
    );
    // She closes the conversation from the record: the bot resumes.
    b.submit("form[action='/clients/amelie/close-conversation'] button")
        .await;
    assert_eq!(b.path().await, "/clients/amelie?done=conversation-closed");
    b.shot("inbox-closed").await;
    b.c.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_navigator_refers_to_a_catalogue_program_and_an_administrator_sends_the_word_back() {
    let Some(rig) = rig(false).await else {
        return;
    };
    let b = &rig.b;
    let runner = &rig.runner;
    let seeded = seed::everything(runner, &rig.clock).await;
    // Bruno is Nora's, and agreed to messages.
    sqlx::query("UPDATE clients SET navigator_id = $1, consent = 'granted' WHERE id = 'bruno'")
        .bind(seeded.nora)
        .execute(runner.db.pool())
        .await
        .unwrap();
    b.go("/login").await;
    b.fill("#username", "nora").await;
    b.fill("#password", seed::PASSWORD).await;
    b.submit("form[action='/login'] button").await;
    b.go("/clients/bruno").await;
    // She picks the café from the catalogue, and his reasons.
    b.c.execute(
        "document.querySelector('#ref-catalogue').value = 'cafe-rencontre';",
        vec![],
    )
    .await
    .unwrap();
    b.c.find(Locator::Css("#ref-reason-loneliness"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.submit("form[action='/clients/bruno/referral'] button")
        .await;
    assert_eq!(b.path().await, "/clients/bruno?done=referral-saved");
    // His texts: the program's details, in English, on the record's conversation.
    let texts: Vec<(String, String)> = sqlx::query_as(
        "SELECT body, status FROM messages WHERE client_id = 'bruno' AND message_key = 'program-details'",
    )
    .fetch_all(runner.db.pool())
    .await
    .unwrap();
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(
        texts[0].0.starts_with("Neighbourhood café"),
        "{}",
        texts[0].0
    );
    assert_eq!(texts[0].1, "queued", "in the outbox for his phone");
    let main = b.text("main").await;
    assert!(
        main.contains("Neighbourhood café: Coffee with neighbours"),
        "{main}"
    );
    let reasons: String =
        sqlx::query_scalar("SELECT reasons FROM referrals WHERE client_id = 'bruno'")
            .fetch_one(runner.db.pool())
            .await
            .unwrap();
    assert!(reasons.split(',').any(|r| r == "loneliness"), "{reasons}");
    // He went: she records it. With no level of support set, the word back waits for review.
    b.c.execute(
        "document.querySelector('#ref-uptake').value = 'attended';",
        vec![],
    )
    .await
    .unwrap();
    b.submit("form[action='/clients/bruno/referral'] button")
        .await;
    assert!(b.text("main").await.contains("Waiting for your review"));
    // An administrator reviews the summary and sends it.
    b.c.delete_all_cookies().await.unwrap();
    b.go("/login").await;
    b.fill("#username", "ada").await;
    b.fill("#password", seed::PASSWORD).await;
    b.submit("form[action='/login'] button").await;
    b.go("/referrers").await;
    let page = b.text("main").await;
    assert!(page.contains("Waiting for your review"), "{page}");
    b.go("/clients/bruno").await;
    b.submit("form[action='/clients/bruno/summary-send'] button")
        .await;
    assert_eq!(b.path().await, "/clients/bruno?done=summary-sent");
    let sent: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT s.status, s.sent_by FROM referrer_summaries s JOIN referrals r ON r.id = s.referral_id WHERE r.client_id = 'bruno'",
    )
    .fetch_all(runner.db.pool())
    .await
    .unwrap();
    assert_eq!(
        sent,
        vec![("sent".to_owned(), Some("staff:ada".to_owned()))]
    );
    let main = b.text("main").await;
    assert!(
        main.contains("Summary for the referrer, on a change of uptake · sent"),
        "{main}"
    );
    b.shot("referrer-summary-sent").await;
    b.c.clone().close().await.unwrap();
}
