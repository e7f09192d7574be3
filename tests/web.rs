//! The navigator's web interface, the JSON API and the exports, called in-process: accounts and
//! sessions, CSRF, roles and the audit, escaping, the record and its actions, the cohort, the
//! OpenAPI document against the routes, and the FHIR output against a FHIR R4 model library.

mod support;

use axum::http::StatusCode;
use matters::domain::{ClientId, FlowId};
use matters::runner::IfBusy;
use matters::staff::{self, Role, Scope};
use serde_json::{Value, json};
use support::web::Web;

const XSS: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>";

async fn add_client(w: &Web, id: &str, extra: &[(&str, &str)]) -> support::web::Page {
    w.add_client(id, extra).await
}

/// A client's text, as if typed on their phone: on the simulator channel for a test client,
/// through the runner on their own channel for a client with a phone number.
async fn says(w: &Web, client: &str, text: &str) {
    let channel: String =
        sqlx::query_scalar("SELECT channel FROM channel_addresses WHERE client_id = $1")
            .bind(client)
            .fetch_optional(w.state.runner.db.pool())
            .await
            .unwrap()
            .unwrap_or_else(|| "simulator".into());
    if channel == "simulator" {
        let p = w
            .api(
                "POST",
                "/simulator/messages",
                None,
                Some(json!({ "client": client, "text": text })),
            )
            .await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    } else {
        let inbound = matters::runner::Inbound::new(
            matters::domain::Channel::Sms,
            ClientId::parse(client).unwrap(),
            None,
            text,
        );
        w.state.runner.receive(&inbound).await.unwrap();
    }
}

#[tokio::test]
async fn the_first_admin_uses_the_one_time_link_then_signs_in_with_safe_cookies() {
    let w = Web::new().await;
    let db = &w.state.runner.db;
    let token = staff::setup_link(db, None, w.now(), 24).await.unwrap();
    let p = w.get(&format!("/setup/{token}")).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        p.body.contains("Create the first administrator"),
        "{}",
        p.body
    );
    // A short password is refused with the reason; the link still works.
    let p = w
        .post(
            &format!("/setup/{token}"),
            &[
                ("username", "ada"),
                ("name", "Ada L."),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    assert!(p.body.contains("at least 10 characters"));
    let p = w
        .post(
            &format!("/setup/{token}"),
            &[
                ("username", "ada"),
                ("name", "Ada L."),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/login?done=setup-done"));
    // Used once: gone.
    assert_eq!(
        w.get(&format!("/setup/{token}")).await.status,
        StatusCode::NOT_FOUND
    );
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM staff WHERE username = 'ada'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert_eq!(
        w.count("SELECT COUNT(*) FROM staff WHERE role = 'admin'")
            .await,
        1
    );

    // Signed out, a page sends you to sign in and back.
    let p = w.get("/clients?q=x").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(
        p.location.as_deref(),
        Some("/login?next=%2Fclients%3Fq%3Dx")
    );
    let p = w.sign_in("ada").await;
    let cookie = p
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("matters_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain HTTP here: {cookie}");
    let today = w.get("/today").await;
    assert_eq!(today.status, StatusCode::OK);
    assert!(today.body.contains("<h1>Today</h1>"));
    assert!(
        today.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    // The session token is not stored as given.
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM staff_sessions")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert!(!cookie.contains(&stored));
    // Signing out ends the session for good.
    let p = w.post("/logout", &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(w.count("SELECT COUNT(*) FROM staff_sessions").await, 0);
    assert_eq!(w.get("/today").await.status, StatusCode::SEE_OTHER);
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE actor = 'staff:ada' ORDER BY id")
            .fetch_all(db.pool())
            .await
            .unwrap();
    // Today shows the shared inbox of texts from unknown numbers: that view is audited too.
    assert_eq!(actions, ["sign-in", "unmatched-view", "sign-out"]);
}

#[tokio::test]
async fn sign_in_is_rate_limited_and_idle_sessions_end() {
    let w = Web::new().await;
    w.staff("nora", Role::Navigator).await;
    w.get("/login").await;
    for _ in 0..5 {
        let p = w
            .post(
                "/login",
                &[("username", "nora"), ("password", "wrong password!")],
            )
            .await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED);
        assert!(p.body.contains("do not match"));
    }
    // The sixth try is refused even with the right password.
    let p = w
        .post(
            "/login",
            &[("username", "NORA"), ("password", "a long enough password")],
        )
        .await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!w.has_cookie("matters_session"));
    assert_eq!(
        w.count("SELECT COUNT(*) FROM audit_log WHERE action = 'sign-in-failed'")
            .await,
        5
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM audit_log WHERE action = 'sign-in-limited'")
            .await,
        1
    );
    // Fifteen minutes later it works.
    w.clock.advance(chrono::Duration::minutes(16));
    w.sign_in("nora").await;
    assert_eq!(w.get("/today").await.status, StatusCode::OK);
    // Used within the idle timeout, the session lives on; idle for 30 minutes, it ends.
    w.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(w.get("/today").await.status, StatusCode::OK);
    w.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(w.get("/today").await.status, StatusCode::OK);
    w.clock.advance(chrono::Duration::minutes(31));
    let p = w.get("/today").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert!(p.location.unwrap().starts_with("/login"));
    // Sessions left idle are cleared out when anyone signs in: only the new one is kept.
    let second = w.other_browser();
    second.sign_in("nora").await;
    w.clock.advance(chrono::Duration::minutes(31));
    w.other_browser().sign_in("nora").await;
    assert_eq!(w.count("SELECT COUNT(*) FROM staff_sessions").await, 1);
    // A login form posted without its own token is refused.
    let other = w.other_browser();
    let p = other
        .post_raw(
            "/login",
            &[("username", "nora"), ("password", "a long enough password")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let w = Web::new().await;
    w.staff("nora", Role::Navigator).await;
    w.sign_in("nora").await;
    w.get("/clients/new").await;
    let fields = [
        ("id", "amelie"),
        ("language", "fr"),
        ("time_zone", "America/Toronto"),
    ];
    let p = w.post_raw("/clients", &fields).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.body.contains("expired"));
    let p = w
        .post_raw(
            "/clients",
            &[
                ("csrf", "not-the-token"),
                ("id", "amelie"),
                ("language", "fr"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(w.count("SELECT COUNT(*) FROM clients").await, 0);
    assert_eq!(
        w.count("SELECT COUNT(*) FROM audit_log WHERE action = 'csrf-refused'")
            .await,
        2
    );
    // The same form with the page's token goes through.
    w.get("/clients/new").await;
    let p = w.post("/clients", &fields).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(w.count("SELECT COUNT(*) FROM clients").await, 1);
}

#[tokio::test]
async fn a_navigator_adds_and_enrols_a_client_and_reads_the_record() {
    let w = Web::new().await;
    let nora = w.staff("nora", Role::Navigator).await;
    w.sign_in("nora").await;
    let p = add_client(
        &w,
        "amelie",
        &[
            ("name", "Amélie Tremblay"),
            ("phone", "514 555 0123"),
            ("sequence", "standard"),
            ("referred_on", "2026-05-20"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/clients/amelie?done=added"));
    let nav: Option<i64> =
        sqlx::query_scalar("SELECT navigator_id FROM clients WHERE id = 'amelie'")
            .fetch_one(w.state.runner.db.pool())
            .await
            .unwrap();
    assert_eq!(nav, Some(nora.id), "a navigator's new client is theirs");
    assert_eq!(w.count("SELECT COUNT(*) FROM enrolments WHERE client_id = 'amelie' AND sequence_id = 'standard'").await, 1);
    let steps = w
        .count("SELECT COUNT(*) FROM jobs WHERE client_id = 'amelie' AND kind = 'step'")
        .await;
    assert!(steps >= 10, "{steps}");
    let p = w.get("/clients/amelie?done=added").await;
    assert_eq!(p.status, StatusCode::OK);
    for want in [
        "Amélie Tremblay was added.",
        "Amélie Tremblay",
        "+15145550123",
        "Walking group",
        "Loneliness, Social isolation",
        "Standard follow-up",
        "Consent and language",
        "Loneliness survey (at 6 months)",
        "Enrol",
        "Pause",
    ] {
        assert!(p.body.contains(want), "the record lacks {want}");
    }
    // A bad row is refused with its reason, and nothing is added.
    let p = add_client(&w, "bob", &[("phone", "12")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("class=\"error\""), "{}", p.body);
    assert_eq!(
        w.count("SELECT COUNT(*) FROM clients WHERE id = 'bob'")
            .await,
        0
    );
    // The list finds her by name, language and navigator.
    let list = w.get("/clients?q=tremblay").await;
    assert!(list.body.contains("href=\"/clients/amelie\""));
    assert!(
        !w.get("/clients?language=fr")
            .await
            .body
            .contains("href=\"/clients/amelie\"")
    );

    // Pause, reschedule, resume, start a flow, a one-off message, close the referral.
    w.get("/clients/amelie").await;
    assert_eq!(
        w.post("/clients/amelie/pause", &[]).await.status,
        StatusCode::SEE_OTHER
    );
    assert!(
        w.count("SELECT COUNT(*) FROM jobs WHERE client_id = 'amelie' AND status = 'paused'")
            .await
            > 0
    );
    assert!(w.get("/clients/amelie").await.body.contains("Resume"));
    assert_eq!(
        w.post("/clients/amelie/resume", &[]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM jobs WHERE client_id = 'amelie' AND status = 'paused'")
            .await,
        0
    );
    let p = w
        .post(
            "/clients/amelie/reschedule",
            &[("step", "what-matters"), ("at", "2026-06-10T07:00")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let p = w
        .post(
            "/clients/amelie/reschedule",
            &[("step", "what-matters"), ("at", "not a date")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("not a date and time"));
    w.get("/clients/amelie").await;
    let p = w
        .post(
            "/clients/amelie/message",
            &[("body", "Bonjour Amélie, à mardi!")],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/clients/amelie?done=sent"));
    let (status, segments): (String, i64) = sqlx::query_as(
        "SELECT status, segments FROM messages WHERE message_key = 'navigator-message'",
    )
    .fetch_one(w.state.runner.db.pool())
    .await
    .unwrap();
    assert_eq!((status.as_str(), segments), ("queued", 1));
    assert_eq!(
        w.post("/clients/amelie/message", &[("body", "  ")])
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let p = w
        .post("/clients/amelie/close-referral", &[("reason", "goal-met")])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let p = w.get("/clients/amelie").await;
    assert!(p.body.contains("Goal met"), "{}", p.body);
    assert!(!p.visible().contains("goal-met"));
    let actions: Vec<String> = w
        .audit_actions("amelie")
        .await
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    for a in [
        "client-add",
        "client-assign",
        "referral-add",
        "enrol",
        "record-view",
        "enrolment-pause",
        "enrolment-resume",
        "step-reschedule",
        "message-send",
        "referral-close",
    ] {
        assert!(actions.iter().any(|x| x == a), "no {a} in {actions:?}");
    }
}

#[tokio::test]
async fn a_client_message_with_markup_shows_as_text() {
    let w = Web::new().await;
    w.staff("ada", Role::Admin).await;
    w.sign_in("ada").await;
    add_client(&w, "zoe", &[]).await;
    let c = ClientId::parse("zoe").unwrap();
    w.state
        .runner
        .start_flow(
            &c,
            &FlowId::parse("what-matters").unwrap(),
            None,
            IfBusy::Replace,
            "test",
        )
        .await
        .unwrap();
    says(&w, "zoe", XSS).await;
    let p = w.get("/clients/zoe").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        p.body.contains(
            "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;&lt;img src=x onerror=alert(2)&gt;"
        ),
        "{}",
        p.body
    );
    assert!(!p.body.contains("<script>alert"));
    assert!(!p.body.contains("<img src=x"));
    assert!(
        p.body
            .contains("dir=\"auto\" class=\"bubble\">&lt;script&gt;")
    );
    // The only script is our own counter, from this server.
    assert_eq!(p.body.matches("<script").count(), 1);
    assert!(
        p.body
            .contains("<script src=\"/assets/counter.js\" defer></script>")
    );
}

#[tokio::test]
async fn a_navigator_opening_another_navigators_client_gets_403_and_the_attempt_is_audited() {
    let w = Web::new().await;
    w.staff("nora", Role::Navigator).await;
    w.staff("omar", Role::Navigator).await;
    w.staff("ada", Role::Admin).await;
    w.sign_in("nora").await;
    add_client(&w, "amelie", &[]).await;
    let omar = w.other_browser();
    omar.sign_in("omar").await;
    let p = omar.get("/clients/amelie").await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.body.contains("assigned to another navigator"));
    assert!(!p.body.contains("Walking group"));
    let p = omar
        .post("/clients/amelie/message", &[("body", "hi")])
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(w.count("SELECT COUNT(*) FROM messages").await, 0);
    assert!(!omar.get("/clients").await.body.contains("/clients/amelie"));
    assert!(omar.get("/audit").await.status == StatusCode::FORBIDDEN);
    let audit = w.audit_actions("amelie").await;
    assert_eq!(
        audit
            .iter()
            .filter(|(who, what)| who == "staff:omar" && what == "access-denied")
            .count(),
        2,
        "{audit:?}"
    );
    assert!(
        !audit
            .iter()
            .any(|(who, what)| who == "staff:omar" && what == "record-view")
    );
    // Her own navigator and the admin can open it; the admin sees the attempt in the audit page.
    assert_eq!(w.get("/clients/amelie").await.status, StatusCode::OK);
    let admin = w.other_browser();
    admin.sign_in("ada").await;
    assert_eq!(admin.get("/clients/amelie").await.status, StatusCode::OK);
    let page = admin
        .get("/audit?actor=staff%3Aomar&action=access-denied")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body.matches(">Access refused</td>").count(), 2);
    assert!(!page.body.contains(">Opened the record</td>"));
}

#[tokio::test]
async fn the_interface_speaks_french() {
    let w = Web::new().await;
    w.staff("nora", Role::Navigator).await;
    let p = w.get("/lang/fr").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let login = w.get("/login").await;
    assert!(login.body.contains("<html lang=\"fr\">"));
    assert!(login.body.contains("Se connecter"));
    w.sign_in("nora").await;
    let today = w.get("/today").await;
    assert!(
        today.body.contains("<h1>Aujourd&#x27;hui</h1>"),
        "{}",
        today.body
    );
    assert!(today.body.contains("Rien ne vous attend"));
    w.get("/lang/en").await;
    assert!(w.get("/today").await.body.contains("<h1>Today</h1>"));
}

#[tokio::test]
async fn today_puts_crisis_first_and_tasks_are_resolved_with_an_audit_entry() {
    let w = Web::new().await;
    w.staff("nora", Role::Navigator).await;
    w.sign_in("nora").await;
    add_client(&w, "amelie", &[]).await;
    let db = w.state.runner.db.pool();
    for (kind, urgency, note) in [
        ("callback", "normal", "wants a call"),
        ("no-response", "normal", "silent"),
        ("crisis", "urgent", "crisis words"),
    ] {
        sqlx::query("INSERT INTO flags (client_id, kind, urgency, note, created_at) VALUES ('amelie', $1, $2, $3, $4)")
            .bind(kind).bind(urgency).bind(note).bind(w.now()).execute(db).await.unwrap();
    }
    // A flag of someone else's client is not on her page.
    sqlx::query("INSERT INTO clients (id, language, time_zone, created_at, updated_at) VALUES ('other', 'en', 'America/Toronto', 0, 0)").execute(db).await.unwrap();
    sqlx::query("INSERT INTO flags (client_id, kind, urgency, note, created_at) VALUES ('other', 'crisis', 'urgent', 'not hers', 0)").execute(db).await.unwrap();
    let p = w.get("/today").await;
    let (a, b, c) = (
        p.body.find("crisis words").unwrap(),
        p.body.find("wants a call").unwrap(),
        p.body.find("silent").unwrap(),
    );
    assert!(a < b && b < c, "crisis first, then by age");
    assert!(!p.body.contains("not hers"));
    let id: i64 =
        sqlx::query_scalar("SELECT id FROM flags WHERE kind = 'crisis' AND client_id = 'amelie'")
            .fetch_one(db)
            .await
            .unwrap();
    let r = w.post(&format!("/tasks/{id}/resolve"), &[]).await;
    assert_eq!(
        r.location.as_deref(),
        Some("/clients/amelie?done=task-done")
    );
    assert!(!w.get("/today").await.body.contains("crisis words"));
    let other: i64 = sqlx::query_scalar("SELECT id FROM flags WHERE client_id = 'other'")
        .fetch_one(db)
        .await
        .unwrap();
    assert_eq!(
        w.post(&format!("/tasks/{other}/resolve"), &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM flags WHERE status = 'open' AND client_id = 'other'")
            .await,
        1
    );
    assert!(
        w.audit_actions("amelie")
            .await
            .contains(&("staff:nora".into(), "task-resolve".into()))
    );
}

/// A client's loneliness survey at a time point, answered through the simulator channel.
async fn survey(w: &Web, client: &str, tp: &str, answers: &[&str]) {
    let c = ClientId::parse(client).unwrap();
    w.state
        .runner
        .start_flow(
            &c,
            &FlowId::parse("loneliness").unwrap(),
            Some(tp),
            IfBusy::Replace,
            "test",
        )
        .await
        .unwrap();
    for a in answers {
        says(w, client, a).await;
    }
}

#[tokio::test]
async fn the_record_shows_scores_with_a_trend_and_the_cohort_shows_the_change() {
    let w = Web::new().await;
    w.staff("ada", Role::Admin).await;
    w.sign_in("ada").await;
    add_client(&w, "amelie", &[]).await;
    add_client(&w, "bruno", &[]).await;
    survey(&w, "amelie", "baseline", &["3", "3", "3", "1"]).await;
    survey(&w, "amelie", "6-month", &["1", "2", "1", "4"]).await;
    survey(&w, "bruno", "baseline", &["2", "2", "2", "2"]).await;
    // A survey started ad hoc (no time point) shows beside the time points, not in them.
    let bruno = ClientId::parse("bruno").unwrap();
    w.state
        .runner
        .start_flow(
            &bruno,
            &FlowId::parse("loneliness").unwrap(),
            None,
            IfBusy::Replace,
            "test",
        )
        .await
        .unwrap();
    for a in ["1", "1", "1", "5"] {
        says(&w, "bruno", a).await;
    }
    let b = w.get("/clients/bruno").await.visible();
    assert!(
        b.contains("Loneliness (UCLA-3, 3–9, lower is better) 6 — — 3 —"),
        "{b}"
    );
    let p = w.get("/clients/amelie").await;
    let shown = p.visible();
    assert!(
        shown.contains("Loneliness (UCLA-3, 3–9, lower is better) 9 — 4 — -5, better"),
        "{shown}"
    );
    assert!(
        p.body.contains("<svg")
            && p.body.contains(
                "aria-label=\"Loneliness (UCLA-3, 3–9, lower is better): UCLA-3 Baseline 9, 6 months 4\""
            ),
        "{}",
        p.body
    );
    // The question as the client read it, and the answer's label.
    assert!(
        shown.contains("How often do you feel that you lack companionship?"),
        "{shown}"
    );
    assert!(
        p.body.contains("loneliness@"),
        "answers carry their flow and revision, behind the details"
    );
    let c = w.get("/cohort").await;
    assert_eq!(c.status, StatusCode::OK);
    // Only amelie has both time points, 9 → 4: one client, so every figure is a small cell.
    let cohort = c.visible();
    assert!(
        cohort.contains("Loneliness (UCLA-3, 3–9, lower is better) < 5 < 5 < 5 < 5 < 5"),
        "{cohort}"
    );
    assert!(
        cohort.contains("Loneliness < 5") && cohort.contains("Social isolation < 5"),
        "{cohort}"
    );
    assert!(
        cohort.contains("Loneliness survey < 5 < 5 < 5"),
        "four surveys started and completed, fewer than five: {cohort}"
    );
    assert!(!c.body.contains("<svg"), "no chart draws a small cell");
    // Behind the page, the pair is there.
    let facts = matters::evaluation::facts(
        &w.state.runner.db,
        None,
        &matters::evaluation::Filter::default(),
        chrono_tz::America::Toronto,
    )
    .await
    .unwrap();
    let amelie = facts.iter().find(|f| f.client == "amelie").unwrap();
    assert_eq!(
        (
            amelie.value("ucla3", "baseline"),
            amelie.value("ucla3", "6-month")
        ),
        (Some(9.0), Some(4.0))
    );
    let m = matters::evaluation::measure_row(&facts.iter().collect::<Vec<_>>(), "ucla3");
    assert_eq!((m.change_6.n, m.change_6.count), (None, 1));
    assert_eq!(m.change_6.text, "< 5");
}

#[tokio::test]
async fn the_flows_page_and_the_simulator_page() {
    let w = Web::new().await;
    w.staff("nora", Role::Navigator).await;
    w.sign_in("nora").await;
    let p = w.get("/flows").await;
    assert_eq!(p.status, StatusCode::OK);
    let shown = p.visible();
    for f in [
        "Consent and language",
        "Loneliness survey",
        "Wellbeing survey",
        "Referral follow-up",
    ] {
        assert!(shown.contains(f), "{f}");
    }
    assert!(p.body.contains("class=\"notice\">Valid"));
    // Each language's status and completeness, and the SMS cost of each flow in it.
    let fr = p
        .body
        .split("id=\"locale-fr\"")
        .nth(1)
        .expect("a French row");
    let fr = fr.split("</tr>").next().unwrap();
    assert!(fr.contains("Reviewed") && fr.contains("✓ "), "{fr}");
    assert!(p.body.contains("SMS segments per flow"));
    // The add-client form names each language by its own name.
    let form = w.get("/clients/new").await;
    assert!(
        form.body
            .contains("<option value=\"fr\" lang=\"fr\" >Français</option>"),
        "{}",
        form.body
    );
    // A draft language is listed, marked as a draft and off; Arabic runs right to left.
    let ar = p
        .body
        .split("id=\"locale-ar\"")
        .nth(1)
        .expect("an Arabic row");
    let ar = ar.split("</tr>").next().unwrap();
    assert!(ar.contains("dir=\"rtl\"") && ar.contains("العربية"), "{ar}");
    assert!(ar.contains("Draft") && ar.contains(">No</td>"), "{ar}");
    assert!(ar.contains("matters project team"), "{ar}");
    let p = w.get("/flows/simulator").await;
    assert!(p.body.contains("value=\"test-nora\""));
    let p = w
        .post(
            "/flows/simulator",
            &[
                ("client", "test-nora"),
                ("language", "fr"),
                ("start", "loneliness"),
                ("text", ""),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("compagnie"), "{}", p.body);
    let p = w
        .post(
            "/flows/simulator",
            &[
                ("client", "test-nora"),
                ("language", "fr"),
                ("start", ""),
                ("text", "2"),
            ],
        )
        .await;
    assert!(
        p.body.contains(
            "from the client</td><td data-label=\"Message\" dir=\"auto\" class=\"bubble\">2</td>"
        ),
        "{}",
        p.body
    );
    // The simulator keeps the language chosen, turn after turn.
    assert!(
        p.body
            .contains("<option value=\"fr\" lang=\"fr\" selected>Français</option>"),
        "{}",
        p.body
    );
    // Its texts are delivered as written: nothing to a test client waits in a queue.
    let statuses: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT status FROM messages WHERE client_id = 'test-nora' AND direction = 'out'",
    )
    .fetch_all(w.state.runner.db.pool())
    .await
    .unwrap();
    assert_eq!(statuses, ["delivered"]);
    // The test client is hers: its record shows the answer.
    let r = w.get("/clients/test-nora").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.visible()
            .contains("How often do you feel that you lack companionship?"),
        "{}",
        r.visible()
    );
    // In French the stored values read as words: her consent was never asked.
    w.get("/lang/fr").await;
    let fr = w.get("/clients/test-nora").await.visible();
    assert!(fr.contains("pas encore demandé"), "{fr}");
    assert!(fr.contains("À quelle fréquence"), "{fr}");
}

#[tokio::test]
async fn an_admin_erases_a_client_and_the_audit_keeps_a_tombstone() {
    let w = Web::new().await;
    w.staff("ada", Role::Admin).await;
    w.staff("nora", Role::Navigator).await;
    let nav = w.other_browser();
    nav.sign_in("nora").await;
    add_client(&nav, "amelie", &[("sequence", "standard")]).await;
    survey(&w, "amelie", "baseline", &["3", "3", "3", "1"]).await;
    nav.get("/clients/amelie").await;
    assert_eq!(
        nav.post("/clients/amelie/erase", &[("confirm", "amelie")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    w.sign_in("ada").await;
    let p = w.get("/clients/amelie").await;
    assert!(p.body.contains("Erase this client"));
    let p = w
        .post("/clients/amelie/erase", &[("confirm", "amelia")])
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(w.count("SELECT COUNT(*) FROM clients").await, 1);
    let p = w
        .post("/clients/amelie/erase", &[("confirm", "amelie")])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/clients?done=erased"));
    let list = w.get("/clients?done=erased").await;
    assert!(
        list.body
            .contains("role=\"status\">The client was erased.</p>"),
        "{}",
        list.body
    );
    for t in [
        "clients",
        "messages",
        "answers",
        "scores",
        "jobs",
        "enrolments",
        "referrals",
        "consent_events",
        "sessions",
        "channel_addresses",
    ] {
        assert_eq!(
            w.count(&format!("SELECT COUNT(*) FROM {t}")).await,
            0,
            "{t}"
        );
    }
    let audit = w.audit_actions("amelie").await;
    assert_eq!(
        audit.last().unwrap(),
        &("staff:ada".to_owned(), "client-erase".to_owned())
    );
    assert_eq!(w.get("/clients/amelie").await.status, StatusCode::NOT_FOUND);
}

// ---- the JSON API against its OpenAPI document ----

fn validator_for(doc: &Value, schema: &Value) -> jsonschema::Validator {
    // The schema resolves its `#/components/...` references against the whole document.
    let mut root = doc.clone();
    root["allOf"] = json!([schema]);
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&root)
        .unwrap()
}

#[tokio::test]
async fn every_documented_route_answers_as_documented() {
    let w = Web::new().await;
    let db = &w.state.runner.db;
    let (_, write) = staff::issue_token(db, "integration", Scope::Write, "test", w.now())
        .await
        .unwrap();
    let (_, read) = staff::issue_token(db, "dashboard", Scope::Read, "test", w.now())
        .await
        .unwrap();
    let doc = w.api("GET", "/api/openapi.json", None, None).await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc = doc.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // Fill the record through the API itself, then a survey.
    let p = w.api("POST", "/api/v1/clients", Some(&write), Some(json!({ "id": "amelie", "phone": "+15145550111", "language": "fr", "name": "Amélie", "program": "Café", "reasons": ["loneliness"] }))).await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    survey(&w, "amelie", "baseline", &["3", "3", "3", "1"]).await;
    sqlx::query("INSERT INTO flags (client_id, kind, urgency, created_at) VALUES ('amelie', 'callback', 'normal', 0)").execute(db.pool()).await.unwrap();
    let bodies = |path: &str| match path {
        "/api/v1/clients" => json!({ "id": "bruno", "language": "en" }),
        "/api/v1/clients/{id}/referrals" => {
            json!({ "program_other": "Café", "reasons": ["loneliness"], "referred_by": "Dre Roy" })
        }
        "/api/v1/clients/{id}/referrals/{rid}" => json!({ "uptake": "attended" }),
        _ => json!({ "sequence": "light" }),
    };
    let rid: i64 = sqlx::query_scalar("SELECT MIN(id) FROM referrals WHERE client_id = 'amelie'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let url = path
                .replace("{id}", "amelie")
                .replace("{rid}", &rid.to_string());
            let body = (method == "post" || method == "patch").then(|| bodies(path));
            let responses = op["responses"].as_object().unwrap();
            let p = w
                .api(&method.to_uppercase(), &url, Some(&write), body.clone())
                .await;
            let code = p.status.as_u16().to_string();
            let documented = responses.get(&code).unwrap_or_else(|| {
                panic!(
                    "{method} {path} answered {code}, not documented: {}",
                    p.body
                )
            });
            let schema = &documented["content"]["application/json"]["schema"];
            let v = validator_for(&doc, schema);
            let errors: Vec<String> = v
                .iter_errors(&p.json())
                .map(|e| format!("{e} at {}", e.instance_path))
                .collect();
            assert!(errors.is_empty(), "{method} {path}: {errors:?}\n{}", p.body);
            assert!(p.status.is_success(), "{method} {path}: {}", p.body);
            // Without a token: 401, documented, in the one error shape.
            let p = w
                .api(&method.to_uppercase(), &url, None, body.clone())
                .await;
            assert_eq!(p.status, StatusCode::UNAUTHORIZED);
            let err = &responses["401"]["content"]["application/json"]["schema"];
            assert!(validator_for(&doc, err).is_valid(&p.json()), "{}", p.body);
            assert_eq!(p.json()["status"], 401);
            if method == "post" || method == "patch" {
                let p = w.api(&method.to_uppercase(), &url, Some(&read), body).await;
                assert_eq!(p.status, StatusCode::FORBIDDEN, "{path}");
                assert!(responses.contains_key("403"));
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 12);
    // Paging, a missing client, a bad body: documented statuses, one shape.
    let p = w
        .api(
            "GET",
            "/api/v1/clients?per_page=1&page=2",
            Some(&read),
            None,
        )
        .await;
    assert_eq!(
        (
            p.json()["total"].as_i64(),
            p.json()["items"][0]["id"].as_str()
        ),
        (Some(2), Some("bruno"))
    );
    let p = w
        .api("GET", "/api/v1/clients?per_page=0", Some(&read), None)
        .await;
    assert_eq!(
        (p.status, p.json()["status"].as_i64()),
        (StatusCode::BAD_REQUEST, Some(400))
    );
    assert_eq!(
        w.api("GET", "/api/v1/clients/nobody", Some(&read), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let p = w
        .api(
            "POST",
            "/api/v1/clients",
            Some(&write),
            Some(json!({ "id": "x", "language": "en", "colour": "blue" })),
        )
        .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST, "{}", p.body);
    assert_eq!(
        w.api(
            "POST",
            "/api/v1/clients",
            Some(&write),
            Some(json!({ "id": "x", "language": "xx" }))
        )
        .await
        .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Revoked: refused at once. Every call was audited under the token's name.
    let id: i64 = sqlx::query_scalar("SELECT id FROM api_tokens WHERE name = 'dashboard'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    staff::revoke_token(db, id, None, "test", w.now())
        .await
        .unwrap();
    assert_eq!(
        w.api("GET", "/api/v1/tasks", Some(&read), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let audited: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT action FROM audit_log WHERE actor = 'api:integration' ORDER BY action",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    for a in [
        "api-clients-list",
        "api-enrolments-view",
        "api-tasks-list",
        "client-add",
        "enrol",
        "record-view",
    ] {
        assert!(audited.iter().any(|x| x == a), "{a} not in {audited:?}");
    }
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens WHERE token_hash = $1")
        .bind(&write)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(stored, 0, "tokens are stored hashed");
}

// ---- exports ----

#[tokio::test]
async fn the_evaluation_csv_de_identifies_with_a_stable_pseudonym() {
    let w = Web::new().await;
    w.staff("ada", Role::Admin).await;
    w.staff("nora", Role::Navigator).await;
    w.sign_in("ada").await;
    add_client(
        &w,
        "amelie",
        &[
            ("name", "Amélie Tremblay"),
            ("phone", "+15145550123"),
            ("chart_number", "CH-991"),
            ("referred_on", "2026-05-20"),
        ],
    )
    .await;
    survey(&w, "amelie", "baseline", &["3", "3", "3", "1"]).await;
    survey(&w, "amelie", "6-month", &["1", "2", "1", "4"]).await;
    // A survey started with no time point is in the dataset as ad hoc, not dropped.
    let c = ClientId::parse("amelie").unwrap();
    w.state
        .runner
        .start_flow(
            &c,
            &FlowId::parse("loneliness").unwrap(),
            None,
            IfBusy::Replace,
            "test",
        )
        .await
        .unwrap();
    for a in ["2", "2", "1", "3"] {
        says(&w, "amelie", a).await;
    }
    // A test client of the simulator is never in the evaluation.
    let p = w
        .api(
            "POST",
            "/simulator/messages",
            None,
            Some(json!({ "client": "sim-only", "start": "loneliness" })),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    let full = w.get("/export/evaluation.csv").await;
    assert_eq!(full.status, StatusCode::OK);
    assert_eq!(full.headers["content-type"], "text/csv; charset=utf-8");
    let mut r = csv::Reader::from_reader(full.body.as_bytes());
    let h = r.headers().unwrap().clone();
    let row = r.records().next().unwrap().unwrap();
    let get = |k: &str| {
        row.get(h.iter().position(|x| x == k).unwrap())
            .unwrap()
            .to_owned()
    };
    assert_eq!(get("client_id"), "amelie");
    assert_eq!(get("chart_number"), "CH-991");
    assert_eq!(get("referral_date"), "2026-05-20");
    assert_eq!(
        (
            get("ucla3_baseline"),
            get("ucla3_6_month"),
            get("ucla3_change_6_month")
        ),
        ("9".into(), "4".into(), "-5".into())
    );
    assert_eq!(get("ons_loneliness_baseline"), "often-always");
    assert_eq!(get("ucla3_ad_hoc"), "5");
    assert_eq!(get("ons_loneliness_ad_hoc"), "occasionally");
    assert_eq!(
        r.records().count(),
        0,
        "one row: the test client is not in it"
    );
    assert!(!full.body.contains("sim-only"));
    let deid = w.get("/export/evaluation.csv?deidentified=1").await.body;
    for secret in [
        "amelie",
        "Amélie",
        "Tremblay",
        "5550123",
        "CH-991",
        "Walking group",
        "2026-05-20",
    ] {
        assert!(
            !deid.contains(secret),
            "{secret} in the de-identified export"
        );
    }
    let pseudo = |s: &str| {
        s.lines()
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .to_owned()
    };
    let p1 = pseudo(&deid);
    assert!(p1.starts_with("P-"));
    assert_eq!(
        pseudo(&w.get("/export/evaluation.csv?deidentified=1").await.body),
        p1,
        "stable across exports"
    );
    assert!(deid.contains(",2026-05,"), "dates as months");
    // Only an admin exports; every export is audited.
    let nav = w.other_browser();
    nav.sign_in("nora").await;
    assert_eq!(
        nav.get("/export/evaluation.csv").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        w.count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'export-csv' AND actor = 'staff:ada'"
        )
        .await,
        3
    );
}

#[tokio::test]
async fn the_fhir_export_is_r4_by_a_fhir_model_library() {
    use fhirbolt::model::r4::Resource;
    let w = Web::new().await;
    w.staff("ada", Role::Admin).await;
    w.sign_in("ada").await;
    add_client(&w, "amelie", &[]).await;
    survey(&w, "amelie", "baseline", &["3", "2", "1", "1"]).await;
    let c = ClientId::parse("amelie").unwrap();
    w.state
        .runner
        .start_flow(
            &c,
            &FlowId::parse("wellbeing").unwrap(),
            Some("baseline"),
            IfBusy::Replace,
            "test",
        )
        .await
        .unwrap();
    for a in ["7", "8", "6", "3"] {
        says(&w, "amelie", a).await;
    }
    let p = w.get("/export/fhir.json?deidentified=1").await;
    assert_eq!(p.status, StatusCode::OK);
    let bundle = p.json();
    // Strict deserialization into the R4 model: unknown elements, wrong types or a bad choice
    // type would fail here.
    let whole: Resource =
        fhirbolt::json::from_str(&p.body, None).unwrap_or_else(|e| panic!("not an R4 Bundle: {e}"));
    assert!(matches!(whole, Resource::Bundle(_)));
    let mut questionnaires = 0;
    let mut responses = Vec::new();
    let mut observations = Vec::new();
    for e in bundle["entry"].as_array().unwrap() {
        let r = &e["resource"];
        let parsed: Resource = fhirbolt::json::from_str(&r.to_string(), None)
            .unwrap_or_else(|err| panic!("{err}: {r}"));
        match parsed {
            Resource::Questionnaire(q) => {
                questionnaires += 1;
                assert_eq!(r["status"], "active");
                assert!(!q.item.is_empty());
            }
            Resource::QuestionnaireResponse(_) => responses.push(r.clone()),
            Resource::Observation(_) => observations.push(r.clone()),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(questionnaires, 3, "loneliness, wellbeing, belonging");
    assert_eq!(responses.len(), 2);
    // A score is an Observation derived from the response it came from.
    assert_eq!(
        observations.len(),
        6,
        "UCLA-3, ONS loneliness, four ONS4 items"
    );
    let response_urls: Vec<&Value> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "QuestionnaireResponse")
        .map(|e| &e["fullUrl"])
        .collect();
    for o in &observations {
        assert!(
            response_urls.contains(&&o["derivedFrom"][0]["reference"]),
            "{o}"
        );
    }
    // Every entry has its own fullUrl, a urn:uuid.
    let urls: std::collections::BTreeSet<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fullUrl"].as_str().expect("a fullUrl"))
        .collect();
    assert_eq!(urls.len(), 11);
    assert!(
        urls.iter()
            .all(|u| u.starts_with("urn:uuid:") && u.len() == 45),
        "{urls:?}"
    );
    let questionnaire = |flow: &str| {
        bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .find(|r| r["resourceType"] == "Questionnaire" && r["id"] == flow)
            .unwrap()
            .clone()
    };
    // A response names the version of the questionnaire it answered.
    let q = questionnaire("loneliness");
    let versioned = format!(
        "urn:matters:questionnaire:loneliness|{}",
        q["version"].as_str().unwrap()
    );
    let lonely = responses
        .iter()
        .find(|r| r["questionnaire"] == versioned.as_str())
        .unwrap_or_else(|| panic!("no response to {versioned}"));
    // Scored choices carry their score as an ordinal value.
    let often = q["item"][0]["answerOption"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["valueCoding"]["code"] == "often")
        .unwrap();
    assert_eq!(
        often["extension"][0],
        serde_json::json!({ "url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": 3 })
    );
    // De-identified: the month, as in the CSV; never the day and time beside the pseudonym.
    for r in &responses {
        let authored = r["authored"].as_str().unwrap();
        assert!(
            authored.len() == 7 && authored.as_bytes()[4] == b'-',
            "{authored}"
        );
    }
    assert_eq!(lonely["status"], "completed");
    assert_eq!(lonely["item"][0]["linkId"], "companionship");
    assert_eq!(
        lonely["item"][0]["answer"][0]["valueCoding"]["code"],
        "often"
    );
    assert!(
        lonely["subject"]["identifier"]["value"]
            .as_str()
            .unwrap()
            .starts_with("P-")
    );
    assert!(!p.body.contains("amelie"));
    let ons = responses
        .iter()
        .find(|r| {
            r["questionnaire"]
                .as_str()
                .unwrap()
                .starts_with("urn:matters:questionnaire:wellbeing|")
        })
        .unwrap();
    assert_eq!(ons["item"][0]["answer"][0]["valueInteger"], 7);
    assert_eq!(ons["item"][3]["answer"][0]["valueInteger"], 3);
}

#[tokio::test]
async fn the_navigators_day_on_postgres() {
    let Some((url, _schema, _admin)) = support::pg::postgres().await else {
        return;
    };
    let w = Web::with_db(&url).await;
    let nora = w.staff("nora", Role::Navigator).await;
    w.staff("ada", Role::Admin).await;
    w.sign_in("ada").await;
    let id = nora.id.to_string();
    let p = add_client(
        &w,
        "amelie",
        &[
            ("name", "Amélie"),
            ("phone", "+15145550123"),
            ("sequence", "standard"),
            ("navigator", id.as_str()),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(
        add_client(&w, "bruno", &[("language", "fr")]).await.status,
        StatusCode::SEE_OTHER
    );
    survey(&w, "amelie", "baseline", &["3", "3", "3", "1"]).await;
    survey(&w, "amelie", "6-month", &["1", "1", "1", "4"]).await;
    sqlx::query("INSERT INTO flags (client_id, kind, urgency, note, created_at) VALUES ('amelie', 'crisis', 'urgent', 'crisis words', $1)").bind(w.now()).execute(w.state.runner.db.pool()).await.unwrap();
    assert!(
        w.get("/clients?q=AMÉ")
            .await
            .body
            .contains("/clients/amelie")
            || w.get("/clients?q=ame")
                .await
                .body
                .contains("/clients/amelie")
    );
    let un = w.get("/clients?navigator=none").await.body;
    assert!(un.contains("/clients/bruno") && !un.contains("/clients/amelie"));
    assert!(
        w.get(&format!("/clients?navigator={id}&flag=crisis"))
            .await
            .body
            .contains("/clients/amelie")
    );
    assert!(
        !w.get("/clients?status=revoked")
            .await
            .body
            .contains("/clients/amelie")
    );
    let rec = w.get("/clients/amelie").await;
    assert!(
        rec.body
            .contains("<td data-label=\"Baseline\">9</td><td data-label=\"3 months\">—</td><td data-label=\"6 months\">3</td><td data-label=\"Other\">—</td><td data-label=\"Change\">-6, better</td>"),
        "{}",
        rec.body
    );
    let cohort = w.get("/cohort").await.visible();
    assert!(
        cohort.contains("Loneliness (UCLA-3, 3–9, lower is better) < 5 < 5 < 5 < 5 < 5"),
        "one client: a small cell, {cohort}"
    );
    assert!(w.get("/today").await.body.contains("crisis words"));
    let audit = w
        .get("/audit?client=amelie&from=2026-06-01&to=2026-06-01")
        .await
        .body;
    assert!(
        audit.contains("\">Opened the record</td>") && audit.contains("\">Added the client</td>")
    );
    assert!(
        !w.get("/audit?client=amelie&from=2026-06-02")
            .await
            .body
            .contains("\">Added the client</td>")
    );
    // The navigator sees hers, not bruno.
    let nav = w.other_browser();
    nav.sign_in("nora").await;
    assert_eq!(nav.get("/clients/amelie").await.status, StatusCode::OK);
    assert_eq!(
        nav.get("/clients/bruno").await.status,
        StatusCode::FORBIDDEN
    );
    let (_, token) = staff::issue_token(&w.state.runner.db, "etl", Scope::Read, "test", w.now())
        .await
        .unwrap();
    let p = w
        .api("GET", "/api/v1/clients?q=e", Some(&token), None)
        .await;
    assert_eq!(p.json()["total"], 1, "{}", p.body);
    assert_eq!(
        w.api("GET", "/api/v1/tasks", Some(&token), None)
            .await
            .json()["items"][0]["kind"],
        "crisis"
    );
    assert_eq!(
        w.api(
            "GET",
            "/api/v1/clients/amelie/answers?per_page=2&page=2",
            Some(&token),
            None
        )
        .await
        .json()["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(
        w.get("/export/evaluation.csv?deidentified=1")
            .await
            .body
            .contains(",9,")
    );
    assert!(
        w.get("/export/fhir.json")
            .await
            .body
            .contains("QuestionnaireResponse")
    );
    w.get("/clients/amelie").await;
    assert_eq!(
        w.post("/clients/amelie/erase", &[("confirm", "amelie")])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(w.count("SELECT COUNT(*) FROM clients").await, 1);
    assert_eq!(
        w.count("SELECT COUNT(*) FROM audit_log WHERE action = 'client-erase'")
            .await,
        1
    );
}

#[tokio::test]
async fn behind_https_the_session_cookie_is_secure() {
    let w = Web::with_config(matters::config::Config {
        database_url: "sqlite::memory:".into(),
        public_url: Some("https://matters.example.org".into()),
        ..matters::config::Config::default()
    })
    .await;
    w.staff("nora", Role::Navigator).await;
    let p = w.sign_in("nora").await;
    let cookie = p
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("matters_session="))
        .unwrap();
    assert!(
        cookie.contains("Secure")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
}

#[tokio::test]
async fn the_referral_is_recorded_and_a_telegram_invite_shows_its_qr_code() {
    let mut w = Web::new().await;
    w.state.telegram_bot = Some("matters_centre_bot".into());
    w.staff("nora", Role::Navigator).await;
    w.sign_in("nora").await;
    add_client(&w, "amelie", &[]).await;
    w.get("/clients/amelie").await;
    let p = w
        .post(
            "/clients/amelie/referral",
            &[
                ("referred_by", "Dr. Roy"),
                ("rx_type", "walking group"),
                ("program", "Marche du mardi"),
                ("support_level", "medium"),
                ("uptake", "attended"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let (by, level, uptake): (String, String, String) = sqlx::query_as(
        "SELECT referred_by, support_level, uptake FROM referrals WHERE client_id = 'amelie'",
    )
    .fetch_one(w.state.runner.db.pool())
    .await
    .unwrap();
    assert_eq!(
        (by.as_str(), level.as_str(), uptake.as_str()),
        ("Dr. Roy", "medium", "attended")
    );
    let p = w
        .post("/clients/amelie/referral", &[("uptake", "maybe")])
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body.contains("Choose an uptake from the list."),
        "{}",
        p.body
    );
    let cohort = w.get("/cohort").await.visible();
    assert!(cohort.contains("Attended < 5 < 5"), "{cohort}");
    // The Telegram link and its QR code, made here.
    w.get("/clients/amelie").await;
    let p = w
        .post("/clients/amelie/invite", &[("channel", "telegram")])
        .await;
    // Shown once, on the answer to the form: the secret link never goes into a URL.
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.location.is_none());
    // minijinja escapes `/` in text and attributes; the browser reads it back as `/`.
    let page = p.body.replace("&#x2f;", "/");
    assert!(
        page.contains("valid until Thu 4 Jun 2026, 10:00"),
        "72 hours: {page}"
    );
    assert!(
        page.contains("<a href=\"https://t.me/matters_centre_bot?start="),
        "{page}"
    );
    assert!(page.contains("<svg") && page.contains("<rect"), "a QR code");
    assert_eq!(
        w.count("SELECT COUNT(*) FROM telegram_invites WHERE client_id = 'amelie'")
            .await,
        1
    );
    // The SMS invite starts the consent flow.
    let p = w
        .post("/clients/amelie/invite", &[("channel", "sms")])
        .await;
    assert_eq!(p.location.as_deref(), Some("/clients/amelie?done=invited"));
    assert_eq!(
        w.count("SELECT COUNT(*) FROM sessions WHERE client_id = 'amelie' AND flow_id = 'consent'")
            .await,
        1
    );
}

#[tokio::test]
async fn the_simulator_endpoints_refuse_real_clients() {
    let w = Web::new().await;
    w.staff("nora", Role::Navigator).await;
    w.sign_in("nora").await;
    add_client(&w, "amelie", &[("phone", "+15145550123")]).await;
    let p = w
        .api(
            "POST",
            "/simulator/messages",
            None,
            Some(json!({ "client": "amelie", "text": "often" })),
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
    assert_eq!(
        w.count("SELECT COUNT(*) FROM messages WHERE client_id = 'amelie' AND direction = 'in'")
            .await,
        0
    );
    assert_eq!(
        w.api("GET", "/simulator/clients/amelie/record", None, None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // A test client still works as before.
    says(&w, "demo", "hello").await;
    assert_eq!(
        w.api("GET", "/simulator/clients/demo/record", None, None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_admin_turns_an_account_off_and_gives_a_new_set_up_link() {
    let w = Web::new().await;
    let ada = w.staff("ada", Role::Admin).await;
    let nora = w.staff("nora", Role::Navigator).await;
    let nav = w.other_browser();
    nav.sign_in("nora").await;
    w.sign_in("ada").await;
    w.get("/staff").await;
    let p = w.post(&format!("/staff/{}/disable", nora.id), &[]).await;
    assert_eq!(p.location.as_deref(), Some("/staff?done=staff-done"));
    // Her session ended at once, and she cannot sign in.
    assert_eq!(nav.get("/today").await.status, StatusCode::SEE_OTHER);
    nav.get("/login").await;
    let p = nav
        .post(
            "/login",
            &[("username", "nora"), ("password", "a long enough password")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(w.get("/staff").await.body.contains("turned off"));
    // Nobody turns their own account off.
    let p = w.post(&format!("/staff/{}/disable", ada.id), &[]).await;
    assert!(p.body.contains("cannot turn your own account off"));
    // Back on, with a new password through a new one-time link.
    w.post(&format!("/staff/{}/enable", nora.id), &[]).await;
    w.get("/staff").await;
    let p = w.post(&format!("/staff/{}/link", nora.id), &[]).await;
    let body = p.body.replace("&#x2f;", "/");
    let at = body.find("/setup/").unwrap();
    let token: String = body[at + 7..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let p = nav.get(&format!("/setup/{token}")).await;
    assert!(p.body.contains("nora name (nora)"), "{}", p.body);
    let p = nav
        .post(
            &format!("/setup/{token}"),
            &[
                ("username", ""),
                ("name", ""),
                ("password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    nav.get("/login").await;
    let p = nav
        .post(
            "/login",
            &[("username", "nora"), ("password", "a brand new password")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let audit: Vec<String> = sqlx::query_scalar("SELECT actor || ' ' || action FROM audit_log WHERE action IN ('staff-disable', 'staff-enable', 'setup-link', 'password-set') ORDER BY id")
        .fetch_all(w.state.runner.db.pool())
        .await
        .unwrap();
    assert_eq!(
        audit,
        [
            "staff:ada staff-disable",
            "staff:ada staff-enable",
            "staff:ada setup-link",
            "staff:nora password-set"
        ]
    );
}

#[tokio::test]
async fn sign_in_sends_you_back_only_to_a_path_on_this_site() {
    let w = Web::new().await;
    w.staff("ada", Role::Admin).await;
    for (next, want) in [
        ("%2F%09%2Fevil.example%2F", "/today"),
        ("%2F%0D%0ASet-Cookie%3A%20x%3D1", "/today"),
        ("%2F%2Fevil.example", "/today"),
        ("https%3A%2F%2Fevil.example", "/today"),
        ("%2Fclients%3Fq%3Dx", "/clients?q=x"),
    ] {
        let page = w.get(&format!("/login?next={next}")).await;
        assert_eq!(page.status, StatusCode::OK, "{next}");
        assert!(!page.body.contains("evil.example"), "{next}");
        let decoded: String = url::form_urlencoded::parse(format!("n={next}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned();
        let p = w
            .post(
                "/login",
                &[
                    ("username", "ada"),
                    ("password", "a long enough password"),
                    ("next", decoded.as_str()),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{next}: {}", p.body);
        assert_eq!(p.location.as_deref(), Some(want), "{next}");
        w.post("/logout", &[]).await;
    }
}

#[tokio::test]
async fn the_simulator_refuses_every_real_client_however_they_were_made() {
    use matters::enrolment::actions;
    let w = Web::new().await;
    w.staff("ada", Role::Admin).await;
    w.sign_in("ada").await;
    let runner = w.state.runner.clone();
    // The web form, with and without a phone.
    add_client(&w, "by-form", &[]).await;
    add_client(&w, "by-form-no-phone", &[("phone", "")]).await;
    // The API.
    let (_, write) = staff::issue_token(&runner.db, "etl", Scope::Write, "test", w.now())
        .await
        .unwrap();
    let p = w
        .api(
            "POST",
            "/api/v1/clients",
            Some(&write),
            Some(json!({ "id": "by-api", "language": "en" })),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    // The command line's own functions: `clients add` and `clients import`.
    let spec = actions::ClientSpec {
        id: "by-cli".into(),
        language: "fr".into(),
        ..actions::ClientSpec::default()
    };
    let checked = actions::check(&runner, &spec).unwrap();
    actions::add(&runner, &checked, "cli").await.unwrap();
    let report = actions::import(
        &runner,
        "id,language,phone\nby-csv,en,\nby-csv-phone,fr,+15145550177\n".as_bytes(),
        "cli",
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(report.added, 2, "{report:?}");
    // A Telegram invite, used.
    add_client(&w, "by-telegram", &[("phone", "")]).await;
    let c = ClientId::parse("by-telegram").unwrap();
    let inv = matters::channel::telegram::invite::create(&runner.db, &c, 72, w.now(), "test")
        .await
        .unwrap();
    let linked =
        matters::channel::telegram::invite::redeem(&runner.db, &inv.code, "777", w.now(), "")
            .await
            .unwrap();
    assert!(matches!(
        linked,
        matters::channel::telegram::invite::Redeemed::Linked(_)
    ));
    for id in [
        "by-form",
        "by-form-no-phone",
        "by-api",
        "by-cli",
        "by-csv",
        "by-csv-phone",
        "by-telegram",
    ] {
        let counts = format!(
            "SELECT (SELECT COUNT(*) FROM messages WHERE client_id = '{id}') * 1000 \
             + (SELECT COUNT(*) FROM sessions WHERE client_id = '{id}') * 100 \
             + (SELECT COUNT(*) FROM consent_events WHERE client_id = '{id}')"
        );
        let was = w.count(&counts).await;
        let consent: String =
            sqlx::query_scalar(&format!("SELECT consent FROM clients WHERE id = '{id}'"))
                .fetch_one(runner.db.pool())
                .await
                .unwrap();
        for body in [
            json!({ "client": id, "text": "STOP" }),
            json!({ "client": id, "start": "loneliness" }),
        ] {
            let p = w.api("POST", "/simulator/messages", None, Some(body)).await;
            assert_eq!(p.status, StatusCode::FORBIDDEN, "{id}: {}", p.body);
        }
        let p = w
            .api(
                "GET",
                &format!("/simulator/clients/{id}/record"),
                None,
                None,
            )
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{id}: {}", p.body);
        assert!(
            !p.body.contains("chart"),
            "{id}: nothing of the record: {}",
            p.body
        );
        assert_eq!(w.count(&counts).await, was, "{id}: nothing changed");
        let now: String =
            sqlx::query_scalar(&format!("SELECT consent FROM clients WHERE id = '{id}'"))
                .fetch_one(runner.db.pool())
                .await
                .unwrap();
        assert_eq!(now, consent, "{id}");
        assert_eq!(
            w.count(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'simulator-refused' AND client_id = '{id}'"
            ))
            .await,
            3,
            "{id}: each refusal is audited"
        );
    }
    // Every one is real; a client the simulator made is a test client, listed as one.
    assert_eq!(
        w.count("SELECT COUNT(*) FROM clients WHERE kind = 'real'")
            .await,
        7
    );
    let p = w
        .api(
            "POST",
            "/simulator/messages",
            None,
            Some(json!({ "client": "try-me", "text": "hello" })),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    let list = w.get("/clients?q=try-me").await;
    assert!(
        list.body.contains("Test client (simulator only)"),
        "{}",
        list.body
    );
    // A test client is never given a phone or a Telegram chat.
    let test = ClientId::parse("try-me").unwrap();
    assert!(
        actions::set_phone(&runner, &test, "+15145550166", "test")
            .await
            .is_err()
    );
    assert!(
        matters::channel::telegram::invite::create(&runner.db, &test, 72, w.now(), "test")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn sending_the_consent_message_again_to_a_client_who_agreed_asks_first() {
    let w = Web::new().await;
    w.staff("ada", Role::Admin).await;
    w.sign_in("ada").await;
    add_client(&w, "omar", &[]).await;
    let sessions = "SELECT COUNT(*) FROM sessions WHERE client_id = 'omar' AND flow_id = 'consent'";
    // Not yet agreed: sent at once.
    w.get("/clients/omar").await;
    let p = w.post("/clients/omar/invite", &[("channel", "sms")]).await;
    assert_eq!(p.location.as_deref(), Some("/clients/omar?done=invited"));
    assert_eq!(w.count(sessions).await, 1);
    // The client agrees, and the consent flow ends.
    for reply in ["yes", "English", "1"] {
        says(&w, "omar", reply).await;
    }
    assert_eq!(
        w.count("SELECT COUNT(*) FROM clients WHERE id = 'omar' AND consent = 'granted'")
            .await,
        1
    );
    // Agreed: the navigator is asked, and nothing is sent until they say yes.
    w.get("/clients/omar").await;
    let p = w.post("/clients/omar/invite", &[("channel", "sms")]).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("already agreed to messages"), "{}", p.body);
    assert!(
        p.body.contains("name=\"confirm\" value=\"yes\""),
        "{}",
        p.body
    );
    assert_eq!(w.count(sessions).await, 1);
    let p = w
        .post(
            "/clients/omar/invite",
            &[("channel", "sms"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/clients/omar?done=invited"));
    assert_eq!(w.count(sessions).await, 2);
    // A client with no phone is not sent anything: the reason is said.
    add_client(&w, "no-phone", &[("phone", "")]).await;
    w.get("/clients/no-phone").await;
    let p = w
        .post("/clients/no-phone/invite", &[("channel", "sms")])
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body.contains("no mobile number or Telegram chat yet"),
        "{}",
        p.body
    );
    let page = w.get("/clients/no-phone").await;
    assert!(page.body.contains("Nothing reaches this client yet"));
    // The navigator adds a number: now it goes.
    let p = w
        .post("/clients/no-phone/phone", &[("phone", "514 555 0155")])
        .await;
    assert_eq!(
        p.location.as_deref(),
        Some("/clients/no-phone?done=phone-set")
    );
    w.get("/clients/no-phone").await;
    let p = w
        .post("/clients/no-phone/invite", &[("channel", "sms")])
        .await;
    assert_eq!(
        p.location.as_deref(),
        Some("/clients/no-phone?done=invited")
    );
}

#[tokio::test]
async fn the_public_simulator_works_without_javascript_in_both_languages() {
    let w = Web::new().await;
    let p = w.get("/simulator").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(!p.body.contains("<script"), "no script needed");
    assert!(
        p.body
            .replace("&#x2f;", "/")
            .contains("<form method=\"post\" action=\"/simulator\">")
    );
    // A form without its token is refused, said in both languages, and nothing is made.
    let forged = w
        .other_browser()
        .post_raw(
            "/simulator",
            &[("client", "demo"), ("start", "loneliness"), ("text", "")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(w.count("SELECT COUNT(*) FROM clients").await, 0);
    // A turn: the conversation comes back on the page; a client's markup shows as text.
    let p = w
        .post(
            "/simulator",
            &[
                ("client", "demo"),
                ("language", "fr"),
                ("start", "loneliness"),
                ("text", ""),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(p.visible().contains("compagnie"), "{}", p.visible());
    assert!(
        p.body
            .contains("<option value=\"fr\" lang=\"fr\" selected>Français</option>")
    );
    let p = w
        .post(
            "/simulator",
            &[("client", "demo"), ("language", "fr"), ("text", "<b>2</b>")],
        )
        .await;
    assert!(p.body.contains("&lt;b&gt;2&lt;&#x2f;b&gt;"), "{}", p.body);
    assert!(!p.body.contains("<b>2</b>"));
    // Nothing to fill in: the reason, in the reader's language.
    let p = w.post("/simulator", &[("client", "demo")]).await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    assert!(
        p.visible()
            .contains("Write a reply, or choose a survey to start.")
    );
    // In French, from the reader's browser.
    w.get("/lang/fr").await;
    let p = w.get("/simulator").await;
    assert!(p.body.contains("<html lang=\"fr\">"));
    assert!(p.visible().contains("Simulateur") && p.visible().contains("Votre réponse"));
    // A real client is never spoken for: the reason is said, and nothing of theirs is shown.
    w.staff("ada", Role::Admin).await;
    let nav = w.other_browser();
    nav.sign_in("ada").await;
    add_client(&nav, "amelie", &[]).await;
    w.get("/simulator").await;
    let p = w
        .post("/simulator", &[("client", "amelie"), ("text", "STOP")])
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(
        p.visible().contains("amelie est un vrai client"),
        "{}",
        p.visible()
    );
    assert!(!p.body.contains("class=\"bubble\""));
    assert_eq!(
        w.count("SELECT COUNT(*) FROM audit_log WHERE action = 'simulator-refused' AND client_id = 'amelie'")
            .await,
        1
    );
    // Turned off, the page says so in both languages.
    let off = Web::with_config(matters::config::Config {
        database_url: "sqlite::memory:".into(),
        simulator: matters::config::SimulatorSettings { enabled: false },
        ..matters::config::Config::default()
    })
    .await;
    let p = off.get("/simulator").await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert!(p.visible().contains("The simulator is turned off here."));
    assert!(p.visible().contains("Le simulateur est désactivé ici."));
}

/// Every code a page could show raw: each stored value that has a label (`flag-crisis` labels
/// `crisis`), every Fluent id of the interface. Read from the interface's English file.
fn known_codes() -> (
    std::collections::BTreeSet<String>,
    std::collections::BTreeSet<String>,
) {
    let ftl = std::fs::read_to_string("locales/ui/en.ftl").unwrap();
    let ids: Vec<String> = ftl
        .lines()
        .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim().to_owned()))
        .filter(|k| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
        .collect();
    let kinds = [
        "flag", "reason", "level", "uptake", "closing", "seq", "flow", "tp", "measure", "role",
        "scope", "channel", "kind", "answer", "source", "field", "audit", "v", "note", "job",
        "best",
    ];
    // Words that are codes and French words too ("Suivi standard", "client test", "Message").
    let french_too = ["standard", "test", "message"];
    let mut codes: std::collections::BTreeSet<String> = ids
        .iter()
        .filter_map(|k| {
            let (kind, code) = k.split_once('-')?;
            kinds.contains(&kind).then(|| code.to_owned())
        })
        .filter(|c| !french_too.contains(&c.as_str()))
        .collect();
    // The stored forms with dots and underscores, as the record keeps them.
    for c in [
        "ucla3.left_out",
        "ucla3.companionship",
        "ucla3.isolated",
        "wm.what_matters",
        "wm.gifts",
        "wm.need",
        "wm.callback",
        "referral.uptake",
        "referral.went",
        "referral.barrier",
        "consent.messages",
        "client.language",
        "client.best_time",
        "ons.lonely",
        "often-always",
        "social-isolation",
        "goal-met",
        "not-yet",
        "record-view",
        "partially_delivered",
    ] {
        codes.insert(c.to_owned());
    }
    let fluent: std::collections::BTreeSet<String> =
        ids.into_iter().filter(|k| k.contains('-')).collect();
    (codes, fluent)
}

/// English words a French page must not show (whole words, case as written).
const ENGLISH: &[&str] = &[
    "the",
    "and",
    "of",
    "with",
    "from",
    "is",
    "was",
    "not",
    "yet",
    "Open",
    "Mark",
    "done",
    "Today",
    "Add",
    "Send",
    "Sign",
    "Details",
    "Due",
    "due",
    "Baseline",
    "months",
    "better",
    "worse",
    "unchanged",
    "Mon",
    "Tue",
    "Wed",
    "Thu",
    "Fri",
    "Sat",
    "Sun",
    "Jan",
    "Feb",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
    "none",
    "Unassigned",
    "step",
    "Step",
    "survey",
    "Survey",
    "Loneliness",
    "loneliness",
    "queued",
    "pending",
    "delivered",
    "answered",
    "skipped",
    "cancelled",
    "crisis",
    "Crisis",
    "consent",
    "granted",
    "revoked",
    "task",
    "tasks",
    "referral",
    "Referral",
    "uptake",
    "Uptake",
    "weekly",
    "scheduler",
    "staff",
    "token",
    "week",
    "called",
    "missed",
    "moved",
    "quiet",
    "hours",
    "Saved",
    "Save",
    "phone",
    "number",
    "refused",
    "sent",
    "failed",
    "Error",
    "error",
    "Next",
    "Previous",
];

/// The problems on one page: codes, English words, Fluent ids, unformatted dates and times,
/// flow revisions.
fn french_problems(path: &str, html: &str) -> Vec<String> {
    static CODES: std::sync::LazyLock<(
        std::collections::BTreeSet<String>,
        std::collections::BTreeSet<String>,
    )> = std::sync::LazyLock::new(known_codes);
    let (codes, fluent) = &*CODES;
    let text = support::web::interface_text(html);
    let mut out = Vec::new();
    if !html.contains("<html lang=\"fr\">") {
        out.push(format!("{path}: not a French page"));
    }
    let tokens: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | '@')))
        .map(|t| t.trim_matches(|c: char| matches!(c, '.' | '-' | '_')))
        .filter(|t| !t.is_empty())
        .collect();
    for t in &tokens {
        if codes.contains(*t) {
            out.push(format!("{path}: the code {t:?}"));
        }
        if fluent.contains(*t) {
            out.push(format!("{path}: the Fluent id {t:?}"));
        }
        if ENGLISH.contains(t) {
            out.push(format!("{path}: the English word {t:?}"));
        }
        let b = t.as_bytes();
        if b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && t.chars().filter(char::is_ascii_digit).count() == 8
        {
            out.push(format!("{path}: the raw date {t:?}"));
        }
        if let Some((_, rev)) = t.split_once('@')
            && rev.len() >= 8
            && rev.chars().all(|c| c.is_ascii_hexdigit())
        {
            out.push(format!("{path}: the revision {t:?}"));
        }
    }
    // A time written the English way, 9:00.
    let clock: Vec<&str> = text
        .split_whitespace()
        .filter(|w| {
            w.split_once(':').is_some_and(|(h, m)| {
                !h.is_empty()
                    && h.len() <= 2
                    && h.chars().all(|c| c.is_ascii_digit())
                    && m.len() >= 2
                    && m[..2].chars().all(|c| c.is_ascii_digit())
            })
        })
        .collect();
    for c in clock {
        out.push(format!("{path}: the English time {c:?}"));
    }
    out.sort();
    out.dedup();
    out
}

#[tokio::test]
async fn every_page_in_french_shows_words_never_codes() {
    let mut w = Web::new().await;
    w.state.telegram_bot = Some("matters_centre_bot".into());
    let seeded = support::seed::everything(&w.state.runner, &w.clock).await;
    let mut problems = Vec::new();
    let mut check = |path: &str, p: &support::web::Page| {
        assert!(
            !p.status.is_server_error() && p.status != StatusCode::SEE_OTHER,
            "{path}: {}",
            p.status
        );
        problems.extend(french_problems(path, &p.body));
    };
    // Signed out, in French from the browser's choice.
    w.get("/lang/fr").await;
    check("/login", &w.get("/login").await);
    w.get("/login").await;
    check(
        "/login (wrong password)",
        &w.post(
            "/login",
            &[("username", "ada"), ("password", "wrong password!")],
        )
        .await,
    );
    let omar = staff::list(&w.state.runner.db, None)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.username == "omar")
        .unwrap();
    let token = staff::setup_link(&w.state.runner.db, Some(omar.id), w.now(), 24)
        .await
        .unwrap();
    let setup = w.get(&format!("/setup/{token}")).await;
    assert_eq!(setup.status, StatusCode::OK);
    check("/setup", &setup);
    check(
        "/setup (used)",
        &w.get("/setup/not-a-real-token-at-all").await,
    );
    check("/simulator", &w.get("/simulator").await);
    check(
        "/simulator (a turn)",
        &w.post(
            "/simulator",
            &[
                ("client", "essai"),
                ("language", "fr"),
                ("start", "loneliness"),
            ],
        )
        .await,
    );
    check(
        "/simulator (nothing to send)",
        &w.post("/simulator", &[("client", "essai")]).await,
    );
    // Signed in as the administrator, every page.
    w.sign_in("ada").await;
    w.get("/lang/fr").await;
    let id = seeded.nora.to_string();
    for path in [
        "/today".to_owned(),
        "/clients".to_owned(),
        format!("/clients?navigator={id}&flag=crisis"),
        "/clients?q=personne".to_owned(),
        "/clients/new".to_owned(),
        "/clients/amelie".to_owned(),
        "/clients/amelie?done=enrolled&item=standard".to_owned(),
        "/clients/bruno".to_owned(),
        "/clients/personne".to_owned(),
        "/flows".to_owned(),
        "/flows/simulator".to_owned(),
        "/cohort".to_owned(),
        "/audit".to_owned(),
        "/audit?page=2".to_owned(),
        "/audit?action=client-assign".to_owned(),
        "/staff".to_owned(),
        "/export".to_owned(),
        "/clients?done=erased".to_owned(),
        "/inbox".to_owned(),
        "/inbox?done=conversation-closed".to_owned(),
        "/notifications".to_owned(),
        "/alerts/1".to_owned(),
        "/programs".to_owned(),
        "/programs?all=1".to_owned(),
        "/programs/cafe-rencontre".to_owned(),
        "/programs/old-choir?done=program-retired".to_owned(),
        "/clients/amelie/summaries/1".to_owned(),
        "/clients/amelie?done=summary-sent".to_owned(),
        "/clients/amelie?done=note-added".to_owned(),
        "/clients/amelie?done=alert-acked".to_owned(),
        "/referrers".to_owned(),
        "/referrers?done=summaries-set".to_owned(),
        "/clients/amelie/sociodemographics".to_owned(),
        "/clients/amelie/sociodemographics?done=sociodemographics-saved".to_owned(),
        "/clients/amelie?done=goal-set".to_owned(),
        "/cohort?level=holistic&reason=loneliness".to_owned(),
    ] {
        let p = w.get(&path).await;
        check(&path, &p);
    }
    w.get("/flows/simulator").await;
    check(
        "/flows/simulator (a turn)",
        &w.post(
            "/flows/simulator",
            &[
                ("client", "test-ada"),
                ("language", "fr"),
                ("start", "what-matters"),
                ("text", ""),
            ],
        )
        .await,
    );
    // Forms answered with a refusal, and the pages an action shows.
    w.get("/clients/amelie").await;
    check(
        "/clients/amelie/referral (bad uptake)",
        &w.post("/clients/amelie/referral", &[("uptake", "peut-être")])
            .await,
    );
    w.get("/clients/amelie").await;
    check(
        "/clients/amelie/enrol (twice)",
        &w.post("/clients/amelie/enrol", &[("sequence", "standard")])
            .await,
    );
    w.get("/clients/amelie").await;
    check(
        "/clients/amelie/invite (confirm)",
        &w.post("/clients/amelie/invite", &[("channel", "sms")])
            .await,
    );
    w.get("/clients/amelie").await;
    check(
        "/clients/amelie/invite (Telegram)",
        &w.post("/clients/amelie/invite", &[("channel", "telegram")])
            .await,
    );
    w.get("/clients/new").await;
    check(
        "/clients (bad form)",
        &w.post(
            "/clients",
            &[
                ("id", "x y"),
                ("phone", "12"),
                ("language", "fr"),
                ("time_zone", "Mars/Olympus"),
            ],
        )
        .await,
    );
    // A navigator's view: her own client, and one who is not hers.
    let nav = w.other_browser();
    nav.sign_in("nora").await;
    nav.get("/lang/fr").await;
    check("/today (navigator)", &nav.get("/today").await);
    check(
        "/clients/bruno (not hers)",
        &nav.get("/clients/bruno").await,
    );
    check("/audit (navigator)", &nav.get("/audit").await);
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[tokio::test]
async fn the_record_offers_no_action_that_cannot_work() {
    let mut w = Web::new().await;
    w.staff("ada", Role::Admin).await;
    w.sign_in("ada").await;
    add_client(&w, "amelie", &[]).await;
    add_client(&w, "no-phone", &[("phone", "")]).await;
    let invite_sms = "<input type=\"hidden\" name=\"channel\" value=\"sms\">";
    let invite_telegram = "<input type=\"hidden\" name=\"channel\" value=\"telegram\">";
    // Telegram off: no Telegram invite; the SMS consent message only to a client with a phone.
    let with_phone = w.get("/clients/amelie").await.body;
    assert!(with_phone.contains(invite_sms) && !with_phone.contains(invite_telegram));
    let without = w.get("/clients/no-phone").await.body;
    assert!(!without.contains(invite_sms) && !without.contains(invite_telegram));
    // What the record offers instead: a way to add the number.
    assert!(without.contains("action=\"/clients/no-phone/phone\""));
    // Telegram on: its invite is offered, to both.
    w.state.telegram_bot = Some("matters_centre_bot".into());
    assert!(
        w.get("/clients/amelie")
            .await
            .body
            .contains(invite_telegram)
    );
    assert!(
        w.get("/clients/no-phone")
            .await
            .body
            .contains(invite_telegram)
    );
    // A test client is reached by the simulator only: no invite at all.
    w.get("/flows/simulator").await;
    w.post(
        "/flows/simulator",
        &[
            ("client", "test-ada"),
            ("start", "loneliness"),
            ("language", "en"),
        ],
    )
    .await;
    let test = w.get("/clients/test-ada").await.body;
    assert!(!test.contains(invite_sms) && !test.contains(invite_telegram));
}

#[tokio::test]
async fn a_navigator_sets_the_best_time_of_day_on_the_record() {
    let w = Web::new().await;
    w.staff("ada", Role::Admin).await;
    w.sign_in("ada").await;
    add_client(
        &w,
        "amelie",
        &[("name", "Amélie"), ("sequence", "standard")],
    )
    .await;
    let r = w.get("/clients/amelie").await;
    assert!(
        r.visible().contains("Best time of day Not said yet"),
        "{}",
        r.visible()
    );
    let p = w
        .post("/clients/amelie/best-time", &[("best_time", "evening")])
        .await;
    assert_eq!(
        p.location.as_deref(),
        Some("/clients/amelie?done=best-time-set")
    );
    let r = w.get("/clients/amelie?done=best-time-set").await;
    let seen = r.visible();
    assert!(seen.contains("Best time of day Evening"), "{seen}");
    assert!(
        seen.contains("The steps to come for Amélie move to the time of day chosen."),
        "{seen}"
    );
    assert!(
        seen.contains("Moved to the client’s time of day (Evening)."),
        "{seen}"
    );
    let p = w
        .post("/clients/amelie/best-time", &[("best_time", "midnight")])
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.visible().contains("Choose a time of day from the list."));
}

#[tokio::test]
async fn the_level_of_support_picks_the_follow_up_and_asks_before_cancelling_steps() {
    let w = Web::new().await;
    w.staff("ada", Role::Admin).await;
    w.sign_in("ada").await;
    // No follow-up yet: setting the level enrols her at once.
    add_client(&w, "amelie", &[("name", "Amélie")]).await;
    w.get("/clients/amelie").await;
    let p = w
        .post(
            "/clients/amelie/referral",
            &[("support_level", "medium"), ("uptake", "not-yet")],
        )
        .await;
    assert_eq!(
        p.location.as_deref(),
        Some("/clients/amelie?done=level-set&item=standard"),
        "{}",
        p.body
    );
    let r = w.get("/clients/amelie?done=level-set&item=standard").await;
    assert!(
        r.visible()
            .contains("Amélie’s referral is saved, and Amélie now gets the Standard follow-up."),
        "{}",
        r.visible()
    );
    // Holistic: the standard steps still to come would be cancelled — asked first, nothing
    // changed until then.
    let p = w
        .post(
            "/clients/amelie/referral",
            &[
                ("support_level", "holistic"),
                ("uptake", "not-yet"),
                ("program", "Café-rencontre"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    let asked = p.visible();
    assert!(asked.contains("Change the follow-up?"), "{asked}");
    assert!(
        asked.contains("With the level of support “Holistic support”, Amélie is enrolled in Holistic follow-up."),
        "{asked}"
    );
    assert!(
        asked.contains("of Standard follow-up are cancelled"),
        "{asked}"
    );
    let level: Option<String> =
        sqlx::query_scalar("SELECT support_level FROM referrals WHERE client_id = 'amelie'")
            .fetch_one(w.state.runner.db.pool())
            .await
            .unwrap();
    assert_eq!(level.as_deref(), Some("medium"));
    // Confirmed: the referral is saved with its program, the follow-up changes.
    let p = w
        .post(
            "/clients/amelie/referral",
            &[
                ("support_level", "holistic"),
                ("uptake", "not-yet"),
                ("program", "Café-rencontre"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(
        p.location.as_deref(),
        Some("/clients/amelie?done=level-set&item=holistic")
    );
    let running: Vec<String> = sqlx::query_scalar(
        "SELECT sequence_id FROM enrolments WHERE client_id = 'amelie' AND status = 'active'",
    )
    .fetch_all(w.state.runner.db.pool())
    .await
    .unwrap();
    assert_eq!(running, ["holistic"]);
    let program: Option<String> =
        sqlx::query_scalar("SELECT program FROM referrals WHERE client_id = 'amelie'")
            .fetch_one(w.state.runner.db.pool())
            .await
            .unwrap();
    assert_eq!(program.as_deref(), Some("Café-rencontre"));
    let r = w.get("/clients/amelie").await.visible();
    assert!(
        r.contains("Replaced: the level of support is now “Holistic support”."),
        "{r}"
    );
}
