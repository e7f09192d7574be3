//! The navigator's web interface in a real browser: headless Chromium driven over WebDriver
//! (chromedriver) by fantoccini. Set-up link, sign-in, add a client, enrol, the record, the live
//! segment counter, a client's markup shown as text with nothing run, and the French interface.
//! A screenshot of each page is kept under `target/screenshots/`.
//!
//! `.ci/run` installs Debian's `chromium` and `chromium-driver`. Without them these tests say so
//! loudly, and fail under `CI=true`.

use fantoccini::{Client, ClientBuilder, Locator};
use matters::clock::ManualClock;
use matters::config::Config;
use matters::domain::{ClientId, FlowId};
use matters::runner::IfBusy;
use matters::web::{AppState, app};
use serde_json::json;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_navigator_works_in_a_real_browser() {
    let (Some(driver), Some(chromium)) = (find_driver(), find_chromium()) else {
        let msg = "BROWSER TESTS NOT RUN: chromium and chromedriver are not installed (apt-get install chromium chromium-driver; .ci/run does)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg} (CI=true requires them)");
        }
        eprintln!("\n!!!!!!!!!!\n!!! {msg}\n!!!!!!!!!!\n");
        return;
    };
    // The service, on a real port, on its own embedded database.
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
    let runner = Arc::new(matters::app::build(&cfg, Arc::new(clock)).await.unwrap());
    let state = AppState::new(runner.clone()).with_web(&cfg);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, app(state)).into_future());

    let (_driver, port) = start_driver(&driver).await;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1600", "--lang=en"]
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
    std::fs::create_dir_all(&shots).unwrap();
    let b = Browser {
        c,
        base: base.clone(),
        shots,
    };

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
        .select_by_label("standard")
        .await
        .unwrap();
    b.shot("04-add-client").await;
    b.submit("form[action='/clients'] button[type=submit]")
        .await;
    assert_eq!(b.path().await, "/clients/amelie?done=added");
    assert_eq!(b.text("[role=status]").await, "Amélie Tremblay was added.");
    assert_eq!(b.text("h1").await, "amelie — Amélie Tremblay");
    let timeline = b.text("section[aria-labelledby=timeline-h] table").await;
    assert!(
        timeline.contains("standard")
            && timeline.contains("consent")
            && timeline.contains("6-month"),
        "{timeline}"
    );
    // Enrolling twice in the same sequence is refused with the reason, nothing lost.
    b.c.find(Locator::Css("#enrol-seq"))
        .await
        .unwrap()
        .select_by_label("standard")
        .await
        .unwrap();
    b.submit("form[action='/clients/amelie/enrol'] button")
        .await;
    assert!(b.text("h1").await.contains("already enrolled in standard"));
    b.go("/clients/amelie").await;
    b.c.find(Locator::Css("#enrol-seq"))
        .await
        .unwrap()
        .select_by_label("light")
        .await
        .unwrap();
    b.submit("form[action='/clients/amelie/enrol'] button")
        .await;
    assert_eq!(b.path().await, "/clients/amelie?done=enrolled&item=light");
    assert!(
        b.text("section[aria-labelledby=timeline-h] table")
            .await
            .contains("light")
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
    b.c.close().await.unwrap();
}
