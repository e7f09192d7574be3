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
}

impl TestApp {
    async fn new() -> Self {
        let clock = ManualClock::new(
            DateTime::parse_from_rfc3339("2026-06-01T14:00:00Z")
                .unwrap()
                .to_utc(),
        );
        let cfg = Config {
            database_url: "sqlite::memory:".into(),
            centre_name: "CSC Centre-Ville".into(),
            ..Config::default()
        };
        let runner = matters::app::build(&cfg, Arc::new(clock)).await.unwrap();
        Self {
            state: AppState::new(Arc::new(runner)),
        }
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
async fn the_simulator_page_shows_client_text_as_text() {
    let t = TestApp::new().await;
    let (status, page) = t.get("/simulator").await;
    assert_eq!(status, StatusCode::OK);
    let page = page.as_str().unwrap();
    assert!(page.contains("textContent") && !page.contains("innerHTML"));
}
