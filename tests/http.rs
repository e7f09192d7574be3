//! The HTTP surface, called in-process: health, the simulator channel, bad input, an outage.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::DateTime;
use http_body_util::BodyExt;
use matters::clock::ManualClock;
use matters::config::Config;
use matters::web::{AppState, app};
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

struct TestApp {
    state: AppState,
    clock: ManualClock,
}

impl TestApp {
    async fn new() -> Self {
        Self::with(Config::default()).await
    }

    async fn with(cfg: Config) -> Self {
        let clock = ManualClock::new(
            DateTime::parse_from_rfc3339("2026-06-01T14:00:00Z")
                .unwrap()
                .to_utc(),
        );
        let cfg = Config {
            database_url: "sqlite::memory:".into(),
            centre_name: "CSC Centre-Ville".into(),
            ..cfg
        };
        let runner = matters::app::build(&cfg, Arc::new(clock.clone()))
            .await
            .unwrap();
        Self {
            state: AppState::new(Arc::new(runner)).with_web(&cfg),
            clock,
        }
    }

    /// A test client in no flow.
    async fn test_client(&self, id: &str) {
        let runner = &self.state.runner;
        let new = matters::store::record::NewClient::test(
            matters::domain::ClientId::parse(id).unwrap(),
            matters::domain::Locale::parse("en").unwrap(),
            chrono_tz::America::Toronto,
        );
        let now = matters::clock::to_ms(matters::clock::Clock::now(&*runner.clock));
        assert!(
            matters::store::record::add_client(&runner.db, &new, now, "simulator")
                .await
                .unwrap()
        );
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.state.runner.db.pool())
            .await
            .unwrap()
    }

    async fn call(&self, req: Request<Body>) -> (StatusCode, Value) {
        let resp = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned())),
        )
    }

    async fn post(&self, body: &str) -> (StatusCode, Value) {
        let req = Request::post("/simulator/messages")
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        self.call(req).await
    }

    async fn say(&self, v: Value) -> (StatusCode, Value) {
        self.post(&v.to_string()).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Request::get(path).body(Body::empty()).unwrap())
            .await
    }
}

fn keys(v: &Value) -> Vec<String> {
    v["replies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn health_answers_ok_while_the_database_does() {
    let t = TestApp::new().await;
    let (status, body) = t.get("/healthz").await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "ok" })));
}

#[tokio::test]
async fn a_new_client_is_welcomed_into_the_consent_flow_and_can_answer() {
    let t = TestApp::new().await;
    let (status, body) = t.say(json!({ "client": "demo", "text": "hello" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["created"], true);
    assert_eq!(
        keys(&body),
        [
            "consent-welcome",
            "consent-expect",
            "consent-privacy",
            "consent-agree"
        ]
    );
    assert!(
        body["replies"][0]["text"]
            .as_str()
            .unwrap()
            .contains("CSC Centre-Ville")
    );
    let (_, body) = t.say(json!({ "client": "demo", "text": "YES" })).await;
    assert_eq!(keys(&body), ["consent-language"]);
    let (status, rec) = t.get("/simulator/clients/demo/record").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rec["client"]["consent"], "granted");
    assert_eq!(rec["answers"][0]["value"], "yes");
    assert!(
        rec["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["direction"] == "out")
            .all(|m| m["status"] == "delivered")
    );
}

#[tokio::test]
async fn a_flow_can_be_started_in_french_with_a_program() {
    let t = TestApp::new().await;
    let (status, body) = t.say(json!({ "client": "amelie", "start": "referral-followup", "language": "fr-CA", "program": "la marche du mardi" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(keys(&body), ["rf-went"]);
    assert!(
        body["replies"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Avez-vous pu aller à la marche du mardi?"),
        "{body}"
    );
}

#[tokio::test]
async fn a_repeated_message_id_is_taken_once() {
    let t = TestApp::new().await;
    t.say(json!({ "client": "c1", "start": "loneliness" }))
        .await;
    let (_, first) = t
        .say(json!({ "client": "c1", "text": "2", "id": "m-1" }))
        .await;
    assert_eq!(keys(&first), ["ucla3-left-out"]);
    let (status, again) = t
        .say(json!({ "client": "c1", "text": "2", "id": "m-1" }))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["duplicate"], true);
    assert!(keys(&again).is_empty());
    let (_, rec) = t.get("/simulator/clients/c1/record").await;
    assert_eq!(rec["answers"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let t = TestApp::new().await;
    for (body, want) in [
        ("{not json", StatusCode::BAD_REQUEST),
        (
            r#"{"client": "x", "txet": "typo"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            r#"{"client": "<script>", "text": "hi"}"#,
            StatusCode::BAD_REQUEST,
        ),
        (r#"{"client": "x"}"#, StatusCode::BAD_REQUEST),
        (
            r#"{"client": "x", "start": "no-such-flow"}"#,
            StatusCode::NOT_FOUND,
        ),
        (
            r#"{"client": "x", "text": "hi", "language": "not a language"}"#,
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, resp) = t.post(body).await;
        assert_eq!(status, want, "{body}: {resp}");
        assert!(
            resp["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{body}: {resp}"
        );
    }
    let (status, _) = t.get("/simulator/clients/x/record").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "no client was created by a refused request"
    );
    let big = json!({ "client": "x", "text": "a".repeat(100_000) }).to_string();
    let (status, _) = t.post(&big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_database_outage_is_a_503_without_internals() {
    let t = TestApp::new().await;
    t.say(json!({ "client": "c1", "start": "loneliness" }))
        .await;
    t.state.runner.db.close().await;
    let (status, body) = t.get("/healthz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, json!({ "status": "database unavailable" }));
    let (status, body) = t.say(json!({ "client": "c1", "text": "2" })).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let text = body.to_string();
    assert!(
        !text.contains("sqlx") && !text.contains("pool"),
        "internals leaked: {text}"
    );
}

#[tokio::test]
async fn the_same_text_a_sixth_time_in_ten_minutes_is_held_back_with_one_flag() {
    let t = TestApp::new().await;
    t.say(json!({ "client": "echo", "start": "loneliness" }))
        .await;
    // An auto-responder answering every text with HELP: each gets the same help and question.
    let mut got = Vec::new();
    for _ in 0..7 {
        let (status, body) = t.say(json!({ "client": "echo", "text": "HELP" })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        got.push(keys(&body));
    }
    assert_eq!(got[0], ["help", "ucla3-companionship"]);
    assert_eq!(got[3], ["help", "ucla3-companionship"]);
    // The question went out with the intro first: its 6th copy is held on the 5th HELP.
    assert_eq!(got[4], ["help"]);
    assert!(got[5].is_empty() && got[6].is_empty(), "{got:?}");
    assert_eq!(
        t.count("SELECT COUNT(*) FROM messages WHERE error_code = 'looping' AND status = 'failed'")
            .await,
        5
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM flags WHERE kind = 'looping' AND status = 'open'")
            .await,
        1,
        "one flag, however long the loop"
    );
    let (_, rec) = t.get("/simulator/clients/echo/record").await;
    let held = rec["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["status"] == "failed")
        .unwrap();
    assert!(
        held["error"]
            .as_str()
            .unwrap()
            .contains("5 times in 10 minutes"),
        "the reason is on the record: {held}"
    );
    // Ten minutes on, the help goes out again.
    t.clock.advance(chrono::Duration::minutes(11));
    let (_, body) = t.say(json!({ "client": "echo", "text": "HELP" })).await;
    assert_eq!(keys(&body), ["help", "ucla3-companionship"]);
}

#[tokio::test]
async fn texts_outside_a_flow_get_one_auto_reply_a_day_and_join_one_task() {
    let t = TestApp::new().await;
    t.test_client("chatty").await;
    let mut replies = Vec::new();
    for text in ["bonjour", "vous êtes là?", "j'ai une question", "allô"] {
        let (_, body) = t.say(json!({ "client": "chatty", "text": text })).await;
        replies.push(keys(&body));
    }
    let (_, rec) = t.get("/simulator/clients/chatty/record").await;
    let in_flow = rec["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["status"] == "active");
    assert!(!in_flow, "{rec:#}");
    assert_eq!(
        replies
            .iter()
            .filter(|r| r.contains(&"no-session".to_owned()))
            .count(),
        1,
        "{replies:?}"
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM flags WHERE kind = 'message' AND status = 'open'")
            .await,
        1
    );
    // A day later the auto-reply comes again; the task is still the one.
    t.clock.advance(chrono::Duration::hours(25));
    let (_, body) = t
        .say(json!({ "client": "chatty", "text": "re-bonjour" }))
        .await;
    assert_eq!(keys(&body), ["no-session"]);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM flags WHERE kind = 'message'")
            .await,
        1
    );
}

#[tokio::test]
async fn the_auto_reply_interval_is_configurable() {
    let t = TestApp::with(Config {
        inbox: matters::config::InboxSettings {
            auto_reply_hours: 1,
            ..matters::config::InboxSettings::default()
        },
        ..Config::default()
    })
    .await;
    t.test_client("c2").await;
    let (_, first) = t.say(json!({ "client": "c2", "text": "hello" })).await;
    t.clock.advance(chrono::Duration::minutes(61));
    let (_, again) = t.say(json!({ "client": "c2", "text": "hello?" })).await;
    assert_eq!(
        (keys(&first), keys(&again)),
        (vec!["no-session".to_owned()], vec!["no-session".to_owned()])
    );
}

#[tokio::test]
async fn a_simulator_turned_off_answers_404_everywhere() {
    let t = TestApp::with(Config {
        simulator: matters::config::SimulatorSettings { enabled: false },
        ..Config::default()
    })
    .await;
    let (status, _) = t.say(json!({ "client": "demo", "text": "hello" })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = t.get("/simulator/clients/demo/record").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = t.get("/simulator").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(t.count("SELECT COUNT(*) FROM clients").await, 0);
}
