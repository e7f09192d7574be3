//! Navigators talk with clients: a text outside any flow opens a conversation on the record and
//! in the Inbox; the bot keeps quiet and the scheduled steps wait while it is open (STOP, crisis
//! language and HELP still work); the navigator answers from the Inbox; it closes by hand or
//! after 48 quiet hours and the bot resumes. Notes and encounters go on the record, audited,
//! in the client's export, never to the client. Notifications list what came in, with counts.

mod support;

use axum::http::StatusCode;
use matters::domain::{Channel, ClientId};
use matters::enrolment::actions::{self, ClientSpec};
use matters::runner::Inbound;
use matters::staff::Role;
use support::web::Web;

const PHONE: &str = "+15145550177";

async fn rig() -> Web {
    rig_on(Web::new().await).await
}

async fn rig_on(w: Web) -> Web {
    let nora = w.staff("nora", Role::Navigator).await;
    w.staff("ada", Role::Admin).await;
    let spec = ClientSpec {
        id: "bea".into(),
        phone: Some(PHONE.into()),
        language: "en".into(),
        time_zone: Some("America/Toronto".into()),
        sequence: Some("standard".into()),
        ..ClientSpec::default()
    };
    let checked = actions::check(&w.state.runner, &spec).unwrap();
    actions::add(&w.state.runner, &checked, "staff:nora")
        .await
        .unwrap();
    matters::web::set_profile(
        &w.state.runner.db,
        &ClientId::parse("bea").unwrap(),
        Some("Béatrice Lavoie"),
        Some(nora.id),
        "staff:nora",
        w.now(),
    )
    .await
    .unwrap();
    w
}

async fn says(w: &Web, text: &str) {
    let inbound = Inbound::new(Channel::Sms, ClientId::parse("bea").unwrap(), None, text);
    w.state.runner.receive(&inbound).await.unwrap();
}

async fn n(w: &Web, sql: &str) -> i64 {
    w.count(sql).await
}

/// The bot's messages to Bea so far (not the navigator's).
async fn bot_out(w: &Web) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT COALESCE(message_key, '') FROM messages WHERE client_id = 'bea' AND direction = 'out' \
         AND COALESCE(message_key, '') <> 'navigator-message' ORDER BY id",
    )
    .fetch_all(w.state.runner.db.pool())
    .await
    .unwrap()
}

async fn tick(w: &Web) {
    matters::loops::scheduler::tick(&w.state.runner, 64)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_text_outside_a_flow_opens_a_conversation_the_bot_waits_and_the_navigator_answers() {
    conversation(rig().await).await;
}

#[tokio::test]
async fn the_same_conversation_on_postgres_with_its_notifications() {
    let Some((url, _schema, _admin)) = support::pg::postgres().await else {
        return;
    };
    let w = rig_on(Web::with_db(&url).await).await;
    let w = conversation(w).await;
    // The notifications' union, a note and the whole-record download, on Postgres's types.
    let p = w.get("/notifications").await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(p.visible().contains("rent increase"), "{}", p.visible());
    w.get("/clients/bea").await;
    let p = w
        .post(
            "/clients/bea/note",
            &[("kind", "visit"), ("date", ""), ("note", "Home visit.")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let export = w.get("/clients/bea/export").await;
    assert_eq!(export.status, StatusCode::OK);
    assert_eq!(export.json()["record"]["notes"][0]["body"], "Home visit.");
    assert_eq!(
        export.json()["record"]["conversations"][0]["status"],
        "closed"
    );
}

async fn conversation(w: Web) -> Web {
    // Bea writes before anything was sent: a conversation opens, with one auto-reply.
    says(&w, "Can someone call me about the housing form?").await;
    assert_eq!(
        n(&w, "SELECT COUNT(*) FROM conversations WHERE client_id = 'bea' AND status = 'open' AND unread = 1").await,
        1
    );
    assert_eq!(bot_out(&w).await, vec!["no-session"]);
    // The consent step was due now: it waits while the conversation is open.
    tick(&w).await;
    assert_eq!(bot_out(&w).await, vec!["no-session"], "the bot kept quiet");
    assert_eq!(
        n(
            &w,
            "SELECT COUNT(*) FROM jobs WHERE client_id = 'bea' AND status = 'pending' AND step_id = 'consent' AND note LIKE 'waiting: a navigator%'"
        )
        .await,
        1
    );
    // More texts go to the navigator, not to a flow: no reply.
    says(&w, "It is about the rent increase").await;
    assert_eq!(bot_out(&w).await.len(), 1);
    // HELP still answers.
    says(&w, "HELP").await;
    assert_eq!(bot_out(&w).await.last().map(String::as_str), Some("help"));

    // The navigator sees it in the Inbox, counted in the header, and answers from there.
    w.sign_in("nora").await;
    let inbox = w.get("/inbox").await;
    assert_eq!(inbox.status, StatusCode::OK);
    let v = inbox.visible();
    assert!(v.contains("Béatrice Lavoie"), "{v}");
    assert!(v.contains("HELP") || v.contains("rent increase"), "{v}");
    assert!(v.contains("Inbox 1"), "the header counts it: {v}");
    let p = w
        .post(
            "/inbox/bea/reply",
            &[("body", "Hi Bea, I will call you at 2 pm. Nora")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/inbox?done=sent"));
    assert_eq!(
        n(&w, "SELECT COUNT(*) FROM messages WHERE client_id = 'bea' AND message_key = 'navigator-message' AND priority = 0 AND status = 'queued'").await,
        1,
        "the answer goes out on her channel, paced like a reply"
    );
    assert_eq!(
        n(
            &w,
            "SELECT unread FROM conversations WHERE client_id = 'bea' AND status = 'open'"
        )
        .await,
        0
    );
    // Her reply shows on the record, with the conversation open.
    says(&w, "Thank you, 2 pm is good").await;
    let rec = w.get("/clients/bea").await;
    let v = rec.visible();
    assert!(v.contains("Thank you, 2 pm is good"), "{v}");
    assert!(v.contains("A conversation is open since"), "{v}");
    assert_eq!(bot_out(&w).await.len(), 2, "still quiet");

    // Closed by hand: the bot resumes and the consent question goes out at once.
    w.get("/clients/bea").await;
    let p = w.post("/clients/bea/close-conversation", &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(
        n(
            &w,
            "SELECT COUNT(*) FROM conversations WHERE status = 'open'"
        )
        .await,
        0
    );
    tick(&w).await;
    let out = bot_out(&w).await;
    assert!(out.len() > 2, "the consent step ran: {out:?}");
    let actions = w.audit_actions("bea").await;
    assert!(
        actions.iter().any(|(_, a)| a == "conversation-closed"),
        "{actions:?}"
    );
    w
}

#[tokio::test]
async fn a_quiet_conversation_closes_after_48_hours_and_stop_and_crisis_still_work() {
    let w = rig().await;
    says(&w, "hello?").await;
    tick(&w).await;
    w.clock.advance(chrono::Duration::hours(47));
    tick(&w).await;
    assert_eq!(
        n(
            &w,
            "SELECT COUNT(*) FROM conversations WHERE status = 'open'"
        )
        .await,
        1
    );
    // Crisis language during a conversation: the fixed reply and the urgent task, as ever.
    says(&w, "i want to end my life").await;
    assert_eq!(
        bot_out(&w).await.last().map(String::as_str),
        Some("crisis-reply")
    );
    assert_eq!(
        n(
            &w,
            "SELECT COUNT(*) FROM flags WHERE client_id = 'bea' AND kind = 'crisis'"
        )
        .await,
        1
    );
    // The crisis text is part of the conversation: 48 hours count from it, not from the first.
    w.clock.advance(chrono::Duration::hours(47));
    tick(&w).await;
    assert_eq!(
        n(
            &w,
            "SELECT COUNT(*) FROM conversations WHERE status = 'open'"
        )
        .await,
        1
    );
    w.clock.advance(chrono::Duration::hours(2));
    tick(&w).await;
    assert_eq!(
        n(
            &w,
            "SELECT COUNT(*) FROM conversations WHERE status = 'closed' AND closed_by = 'quiet'"
        )
        .await,
        1,
        "48 hours without a message: closed"
    );
    assert!(
        w.audit_actions("bea")
            .await
            .iter()
            .any(|(a, x)| a == "scheduler" && x == "conversation-closed")
    );
    // STOP during a conversation opts out.
    says(&w, "hi again").await;
    says(&w, "STOP").await;
    assert_eq!(
        n(
            &w,
            "SELECT COUNT(*) FROM clients WHERE id = 'bea' AND consent = 'revoked'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn notes_and_encounters_go_on_the_record_and_the_export_never_to_the_client() {
    let w = rig().await;
    w.sign_in("nora").await;
    w.get("/clients/bea").await;
    let today = matters::clock::from_ms(w.now())
        .with_timezone(&chrono_tz::America::Toronto)
        .date_naive();
    let yesterday = (today - chrono::Duration::days(1)).to_string();
    let p = w
        .post(
            "/clients/bea/note",
            &[
                ("kind", "call"),
                ("date", &yesterday),
                (
                    "note",
                    "Called about the walking group; she will try Tuesday.",
                ),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/clients/bea?done=note-added"));
    let p = w
        .post(
            "/clients/bea/note",
            &[
                ("kind", "no-answer"),
                ("date", ""),
                ("note", "Tried twice, voicemail full."),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    // Bad input is refused and loses nothing.
    let tomorrow = (today + chrono::Duration::days(1)).to_string();
    for fields in [
        vec![("kind", "call"), ("date", tomorrow.as_str()), ("note", "x")],
        vec![("kind", "gossip"), ("date", ""), ("note", "x")],
        vec![("kind", "visit"), ("date", "yesterday"), ("note", "x")],
        vec![("kind", "visit"), ("date", ""), ("note", "  ")],
    ] {
        w.get("/clients/bea").await;
        let p = w.post("/clients/bea/note", &fields).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
    }
    assert_eq!(n(&w, "SELECT COUNT(*) FROM notes").await, 2);
    let rec = w.get("/clients/bea?done=note-added").await;
    let v = rec.visible();
    assert!(v.contains("Phone call"), "{v}");
    assert!(v.contains("Tried, no answer"), "{v}");
    assert!(v.contains("Called about the walking group"), "{v}");
    // Never sent.
    assert_eq!(
        n(
            &w,
            "SELECT COUNT(*) FROM messages WHERE body LIKE '%walking group%'"
        )
        .await,
        0
    );
    // A task resolved with a note.
    sqlx::query("INSERT INTO flags (client_id, kind, urgency, created_at) VALUES ('bea', 'callback', 'normal', 0)")
        .execute(w.state.runner.db.pool())
        .await
        .unwrap();
    let flag: i64 = sqlx::query_scalar("SELECT id FROM flags WHERE kind = 'callback'")
        .fetch_one(w.state.runner.db.pool())
        .await
        .unwrap();
    w.get("/clients/bea").await;
    let p = w
        .post(
            &format!("/tasks/{flag}/resolve"),
            &[("note", "Called back, booked a visit.")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(
        n(
            &w,
            &format!("SELECT COUNT(*) FROM notes WHERE kind = 'task' AND flag_id = {flag}")
        )
        .await,
        1
    );
    // In the client's export, and audited without the words.
    let export = w.get("/clients/bea/export").await;
    assert_eq!(export.status, StatusCode::OK);
    let j = export.json();
    let notes = j["record"]["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 3);
    assert!(export.body.contains("booked a visit"));
    let audit: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'note-add'")
            .fetch_all(w.state.runner.db.pool())
            .await
            .unwrap();
    assert_eq!(audit.len(), 3);
    assert!(audit.iter().all(|d| !d.contains("walking")), "{audit:?}");
    assert!(
        w.audit_actions("bea")
            .await
            .iter()
            .any(|(_, a)| a == "client-export")
    );
}

#[tokio::test]
async fn notifications_list_urgent_tasks_surveys_and_texts_with_an_unread_count() {
    let w = rig().await;
    w.sign_in("nora").await;
    says(&w, "Are you there?").await;
    says(&w, "suicide").await;
    let today = w.get("/today").await;
    let v = today.visible();
    assert!(
        v.contains("Notifications 3") || v.contains("Notifications 2"),
        "{v}"
    );
    let p = w.get("/notifications").await;
    assert_eq!(p.status, StatusCode::OK);
    let v = p.visible();
    assert!(v.contains("Crisis"), "{v}");
    assert!(v.contains("Are you there?"), "{v}");
    assert!(v.contains("New"), "{v}");
    // Seen: the count goes.
    let again = w.get("/today").await.visible();
    assert!(
        !again.contains("Notifications 2") && !again.contains("Notifications 3"),
        "{again}"
    );
    // Another navigator's client is not in Nora's list.
    let other = w.other_browser();
    other.staff("sam", Role::Navigator).await;
    other.sign_in("sam").await;
    let v = other.get("/notifications").await.visible();
    assert!(!v.contains("Are you there?"), "{v}");
}
