//! Telegram over real loopback HTTP: teloxide talks to a local stand-in of the Bot API
//! (tests/support/telegram.rs), by long polling and by webhook. A client is invited, links their
//! chat, consents, and answers the French loneliness survey half by buttons and half typed.

mod support;

use chrono::DateTime;
use matters::channel::telegram::{self, TelegramConfig, invite};
use matters::clock::{Clock, ManualClock, to_ms};
use matters::config::{Config, TelegramSettings};
use matters::domain::{ClientId, FlowId, Locale};
use matters::loops::dispatch::Handle;
use matters::runner::{IfBusy, RunError, Runner};
use matters::store::record::{self, NewClient};
use serde_json::Value;
use sqlx::Row;
use std::sync::Arc;
use std::time::Duration;
use support::telegram::{Sent, StandIn, TOKEN, USERNAME, check};

const SECRET: &str = "webhook-secret_42";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Polling,
    Webhook,
}

struct Harness {
    runner: Arc<Runner>,
    clock: Arc<ManualClock>,
    standin: StandIn,
    /// Our server's address (webhook mode).
    base: String,
    dispatch: Handle,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn config(db: &str, standin: &StandIn, webhook: Option<&str>, chat_interval_ms: u64) -> Config {
    Config {
        database_url: db.to_owned(),
        telegram: TelegramSettings {
            bot_token: Some(TOKEN.into()),
            api_url: standin.base.clone(),
            webhook_url: webhook.map(|b| format!("{b}/webhooks/telegram")),
            webhook_secret: webhook.map(|_| SECRET.into()),
            chat_interval_ms,
            poll_timeout: 1,
            backoff_ms: 10,
            max_attempts: 5,
            ..TelegramSettings::default()
        },
        ..Config::default()
    }
}

/// Starts matters' Telegram side (and, for a webhook, its HTTP server on `port`, 0 for any).
async fn harness(
    db: &str,
    standin: &StandIn,
    mode: Mode,
    port: u16,
    chat_interval_ms: u64,
) -> Harness {
    // A restarted server takes its predecessor's port once the old listener is gone.
    let mut tries = 0;
    let listener = loop {
        match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => break l,
            Err(e) if tries < 1000 => {
                tries += 1;
                let _ = e;
                tokio::task::yield_now().await;
            }
            Err(e) => panic!("cannot listen on port {port}: {e}"),
        }
    };
    let base = format!("http://{}", listener.local_addr().unwrap());
    let cfg = config(
        db,
        standin,
        (mode == Mode::Webhook).then_some(base.as_str()),
        chat_interval_ms,
    );
    let clock = Arc::new(ManualClock::new(
        DateTime::parse_from_rfc3339("2026-11-21T15:00:00Z")
            .unwrap()
            .to_utc(),
    ));
    let runner = Arc::new(matters::app::build(&cfg, clock.clone()).await.unwrap());
    let t = TelegramConfig::from_config(&cfg).unwrap().unwrap();
    let started = matters::loops::telegram::start(runner.clone(), &t, std::future::pending())
        .await
        .unwrap();
    assert_eq!(started.username, USERNAME);
    let app = matters::web::app(matters::web::AppState::new(runner.clone()))
        .merge(started.router.clone());
    let mut tasks = vec![tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    })];
    tasks.extend(started.pollers);
    Harness {
        runner,
        clock,
        standin: standin.clone(),
        base,
        dispatch: started.dispatch,
        tasks,
    }
}

impl Harness {
    /// A navigator starts `flow` for the client.
    async fn start(&self, client: &ClientId, flow: &str, time_point: Option<&str>) {
        self.runner
            .start_flow(
                client,
                &FlowId::parse(flow).unwrap(),
                time_point,
                IfBusy::Refuse,
                "navigator:test",
            )
            .await
            .unwrap();
    }

    async fn enrol(&self, id: &str, language: &str) -> ClientId {
        let client = ClientId::parse(id).unwrap();
        let new = NewClient {
            id: client.clone(),
            language: Locale::parse(language).unwrap(),
            time_zone: chrono_tz::America::Toronto,
            chart_number: None,
            reach: None,
            centre: matters::domain::DEFAULT_CENTRE.into(),
        };
        assert!(
            record::add_client(&self.runner.db, &new, to_ms(self.clock.now()), "test")
                .await
                .unwrap()
        );
        client
    }

    async fn invite(&self, client: &ClientId) -> String {
        let now = to_ms(self.clock.now());
        let inv = invite::create(&self.runner.db, client, 72, now, "navigator:test")
            .await
            .unwrap();
        let link = inv.link(USERNAME);
        assert!(
            link.starts_with(&format!("https://t.me/{USERNAME}?start=")),
            "{link}"
        );
        inv.code
    }

    /// Waits for the question of `step` (the message whose buttons name it) to reach `chat`.
    async fn question(&self, chat: i64, step: &str) -> Sent {
        let suffix = format!(":{step}");
        self.standin
            .until(&format!("the question {step}"), |b| {
                b.sent
                    .iter()
                    .rev()
                    .find(|s| {
                        s.chat == chat && s.buttons().iter().any(|(_, d)| d.ends_with(&suffix))
                    })
                    .cloned()
            })
            .await
    }

    /// Taps the button labelled `label` under `q`.
    fn tap(&self, chat: i64, q: &Sent, label: &str) -> i64 {
        let (_, data) = q
            .buttons()
            .into_iter()
            .find(|(l, _)| l == label)
            .unwrap_or_else(|| panic!("no button {label} in {:?}", q.buttons()));
        self.standin.taps(chat, q.message_id, &data)
    }

    async fn answers(&self, client: &ClientId, flow: &str) -> Vec<(String, String, String)> {
        sqlx::query("SELECT step_id, COALESCE(value, ''), raw_text FROM answers WHERE client_id = $1 AND flow_id = $2 ORDER BY id")
            .bind(client.as_str())
            .bind(flow)
            .fetch_all(self.runner.db.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect()
    }

    async fn consent(&self, client: &ClientId) -> String {
        sqlx::query_scalar("SELECT consent FROM clients WHERE id = $1")
            .bind(client.as_str())
            .fetch_one(self.runner.db.pool())
            .await
            .unwrap()
    }

    /// Invite → /start <code> → consent by button, language typed, best time by button, in the
    /// client's language (`en` or `fr`).
    async fn link_and_consent(&self, client: &ClientId, chat: i64, lang: &str) {
        let fr = lang == "fr";
        let code = self.invite(client).await;
        self.standin.says(chat, &format!("/start {code}"));
        let agree = self.question(chat, "agree").await;
        assert_eq!(
            agree
                .buttons()
                .iter()
                .map(|(l, _)| l.as_str())
                .collect::<Vec<_>>(),
            if fr { ["Oui", "Non"] } else { ["Yes", "No"] }
        );
        // The numbered list SMS needs is not repeated above buttons.
        assert!(!agree.text.contains("\n1 "), "{}", agree.text);
        self.tap(chat, &agree, if fr { "Oui" } else { "Yes" });
        let language = self.question(chat, "language").await;
        self.standin
            .says(chat, if fr { "français" } else { "English" });
        let best = self.question(chat, "best-time").await;
        assert!(best.message_id > language.message_id);
        let before = self.standin.all_sent_to(chat).len();
        self.tap(chat, &best, if fr { "Le soir" } else { "Morning" });
        self.standin.sent_to(chat, before + 1).await;
        assert_eq!(self.consent(client).await, "granted");
    }
}

/// The French loneliness survey, half by buttons and half typed; returns the UCLA-3 total.
async fn french_survey(h: &Harness, client: &ClientId, chat: i64) -> i64 {
    h.start(client, "loneliness", Some("baseline")).await;
    let q1 = h.question(chat, "companionship").await;
    assert_eq!(
        q1.buttons()
            .iter()
            .map(|(l, _)| l.as_str())
            .collect::<Vec<_>>(),
        ["Presque jamais", "Parfois", "Souvent"]
    );
    let before = h.standin.book().answered_callbacks.len();
    h.tap(chat, &q1, "Souvent");
    let q2 = h.question(chat, "left-out").await;
    // The tap was acknowledged, and the keyboard now marks the answer.
    assert!(h.standin.book().answered_callbacks.len() > before);
    let marked = h
        .standin
        .until("the answered keyboard", |b| {
            b.sent
                .iter()
                .find(|s| s.chat == chat && s.message_id == q1.message_id)
                .filter(|s| s.buttons().iter().any(|(l, _)| l == "✓ Souvent"))
                .cloned()
        })
        .await;
    assert_eq!(marked.buttons().len(), 1);
    h.standin.says(chat, "parfois");
    let q3 = h.question(chat, "isolated").await;
    assert!(q3.message_id > q2.message_id);
    h.tap(chat, &q3, "Presque jamais");
    let q4 = h.question(chat, "ons-lonely").await;
    let before = h.standin.all_sent_to(chat).len();
    h.standin.says(chat, "2");
    // The thanks.
    let after = h.standin.sent_to(chat, before + 1).await;
    assert!(
        after.last().unwrap().text.contains("Merci"),
        "{:?}",
        after.last().unwrap().text
    );
    assert!(q4.message_id > q3.message_id);

    let answers = h.answers(client, "loneliness").await;
    let got: Vec<(&str, &str)> = answers
        .iter()
        .map(|(s, v, _)| (s.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("companionship", "often"),
            ("left-out", "some-of-the-time"),
            ("isolated", "hardly-ever"),
            ("ons-lonely", "some-of-the-time"),
        ]
    );
    // What the client tapped is kept as they saw it.
    assert_eq!(answers[0].2, "Souvent");
    let row = sqlx::query("SELECT total, complete, time_point FROM scores WHERE client_id = $1 AND instrument = 'ucla3'")
        .bind(client.as_str())
        .fetch_one(h.runner.db.pool())
        .await
        .unwrap();
    let total: i64 = row.get(0);
    let complete: i64 = row.get(1);
    let time_point: String = row.get(2);
    assert_eq!((complete, time_point.as_str()), (1, "baseline"));
    total
}

async fn whole_conversation(db: &str, mode: Mode) {
    let standin = StandIn::start().await;
    let h = harness(db, &standin, mode, 0, 0).await;
    let chat = 5_550_001;
    let client = h.enrol("camille", "fr").await;
    h.link_and_consent(&client, chat, "fr").await;
    assert_eq!(french_survey(&h, &client, chat).await, 3 + 2 + 1);
    // The record shows the Telegram conversation with the SMS-style provenance.
    let channels: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT channel FROM messages WHERE client_id = $1")
            .bind(client.as_str())
            .fetch_all(h.runner.db.pool())
            .await
            .unwrap();
    assert_eq!(channels, ["telegram"]);
    let audit: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log WHERE client_id = $1 AND action LIKE 'telegram-%' ORDER BY id")
        .bind(client.as_str())
        .fetch_all(h.runner.db.pool())
        .await
        .unwrap();
    assert_eq!(audit, ["telegram-invite", "telegram-linked"]);
    if mode == Mode::Webhook {
        assert!(standin.book().deliveries.iter().all(|(_, s)| *s == 200));
        assert_eq!(
            standin.book().conflicts,
            0,
            "no getUpdates while the webhook is set"
        );
    }
    let violations = all_violations(&standin);
    assert!(violations.is_empty(), "{violations:#?}");
}

#[tokio::test]
async fn a_whole_conversation_by_long_polling_on_sqlite() {
    whole_conversation("sqlite::memory:", Mode::Polling).await;
}

#[tokio::test]
async fn a_whole_conversation_by_webhook_on_sqlite() {
    whole_conversation("sqlite::memory:", Mode::Webhook).await;
}

#[tokio::test]
async fn a_whole_conversation_by_long_polling_on_postgres() {
    let Some((url, _schema, _admin)) = support::pg::postgres().await else {
        return;
    };
    whole_conversation(&url, Mode::Polling).await;
}

#[tokio::test]
async fn a_whole_conversation_by_webhook_on_postgres() {
    let Some((url, _schema, _admin)) = support::pg::postgres().await else {
        return;
    };
    whole_conversation(&url, Mode::Webhook).await;
}

fn spec() -> Value {
    serde_json::from_str(include_str!("protocols/telegram/objects.json")).unwrap()
}

fn all_violations(standin: &StandIn) -> Vec<String> {
    let spec = spec();
    standin
        .book()
        .objects
        .iter()
        .flat_map(|(types, v)| check(&spec, types, v, &types.join("|")))
        .collect()
}

#[tokio::test]
async fn every_object_the_stand_in_returns_carries_every_required_field() {
    let standin = StandIn::start().await;
    let h = harness("sqlite::memory:", &standin, Mode::Polling, 0, 0).await;
    let chat = 5_550_002;
    let client = h.enrol("dana", "en").await;
    let code = h.invite(&client).await;
    standin.says(chat, &format!("/start {code}"));
    let agree = h.question(chat, "agree").await;
    h.tap(chat, &agree, "Yes");
    h.question(chat, "language").await;
    standin.says(5_550_003, "hello?");
    standin.sent_to(5_550_003, 1).await;
    standin.blocks(chat);
    h.standin
        .until("the opt-out", |b| {
            b.requests
                .iter()
                .any(|(m, _)| m == "editMessageReplyMarkup")
                .then_some(())
        })
        .await;
    // getWebhookInfo, setWebhook and deleteWebhook answer too.
    let http = reqwest::Client::new();
    for m in [
        "getWebhookInfo",
        "setWebhook",
        "getWebhookInfo",
        "deleteWebhook",
    ] {
        let r: Value = http
            .post(format!("{}/bot{TOKEN}/{m}", standin.base))
            .json(&serde_json::json!({ "url": "https://example.org/hook" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["ok"], true, "{m}: {r}");
    }
    let book_types: std::collections::BTreeSet<String> = standin
        .book()
        .objects
        .iter()
        .flat_map(|(t, _)| t.clone())
        .collect();
    for t in [
        "User",
        "Message",
        "Update",
        "Array of Update",
        "Boolean",
        "WebhookInfo",
    ] {
        assert!(book_types.contains(t), "no {t} was checked: {book_types:?}");
    }
    let violations = all_violations(&standin);
    assert!(violations.is_empty(), "{violations:#?}");
    // The check itself catches what teloxide would choke on.
    let spec = spec();
    let broken = serde_json::json!({ "message_id": 1, "chat": { "id": 1 } });
    let found = check(&spec, &["Message".into()], &broken, "Message");
    assert!(
        found.iter().any(|p| p.contains("required field date")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|p| p.contains("required field type")),
        "{found:?}"
    );
    let member = serde_json::json!({ "status": "kicked", "user": { "id": 1, "is_bot": true } });
    assert!(!check(&spec, &["ChatMember".into()], &member, "m").is_empty());
}

#[tokio::test]
async fn a_wrong_webhook_secret_is_401_and_changes_nothing() {
    let standin = StandIn::start().await;
    let h = harness("sqlite::memory:", &standin, Mode::Webhook, 0, 0).await;
    let client = h.enrol("eli", "en").await;
    let code = h.invite(&client).await;
    let update = serde_json::json!({
        "update_id": 1,
        "message": {
            "message_id": 1, "date": 1_795_791_600,
            "chat": { "id": 5_550_010, "type": "private", "first_name": "Eli" },
            "from": { "id": 5_550_010, "is_bot": false, "first_name": "Eli" },
            "text": format!("/start {code}"),
        }
    });
    let http = reqwest::Client::new();
    for secret in [Some("wrong"), None] {
        let mut req = http
            .post(format!("{}/webhooks/telegram", h.base))
            .json(&update);
        if let Some(s) = secret {
            req = req.header("X-Telegram-Bot-Api-Secret-Token", s);
        }
        assert_eq!(req.send().await.unwrap().status().as_u16(), 401);
    }
    let linked: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM channel_addresses WHERE channel = 'telegram'")
            .fetch_one(h.runner.db.pool())
            .await
            .unwrap();
    let last: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM telegram_updates")
        .fetch_one(h.runner.db.pool())
        .await
        .unwrap();
    assert_eq!((linked, last), (0, 0));
    assert!(standin.book().sent.is_empty());
    // The same update with the right secret links the chat.
    let r = http
        .post(format!("{}/webhooks/telegram", h.base))
        .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    h.question(5_550_010, "agree").await;
}

async fn restart_mid_conversation(mode: Mode) {
    let path = std::env::temp_dir().join(format!(
        "matters-telegram-restart-{}-{}.db",
        std::process::id(),
        mode == Mode::Webhook
    ));
    let _ = std::fs::remove_file(&path);
    let db = format!("sqlite://{}?mode=rwc", path.display());
    let standin = StandIn::start().await;
    let chat = 5_550_020;
    let h1 = harness(&db, &standin, mode, 0, 0).await;
    let port: u16 = h1.base.rsplit(':').next().unwrap().parse().unwrap();
    let client = h1.enrol("farah", "fr").await;
    let code = h1.invite(&client).await;
    standin.says(chat, &format!("/start {code}"));
    let agree = h1.question(chat, "agree").await;
    let tap = h1.tap(chat, &agree, "Oui");
    h1.question(chat, "language").await;
    let sent_before = standin.all_sent_to(chat).len();
    // The process dies. Telegram sends the tap again (its acknowledgement was lost), and the
    // client answers while we are down.
    drop(h1);
    standin.replay(standin.update(tap));
    standin.says(chat, "français");
    let port = if mode == Mode::Webhook { port } else { 0 };
    let h2 = harness(&db, &standin, mode, port, 0).await;
    let best = h2.question(chat, "best-time").await;
    h2.tap(chat, &best, "Le matin");
    standin.sent_to(chat, sent_before + 2).await;
    // Nothing was lost, nothing handled twice.
    let answers = h2.answers(&client, "consent").await;
    let steps: Vec<&str> = answers.iter().map(|(s, _, _)| s.as_str()).collect();
    assert_eq!(steps, ["agree", "language", "best-time"]);
    let texts: Vec<String> = standin
        .all_sent_to(chat)
        .iter()
        .map(|s| s.text.clone())
        .collect();
    let mut unique = texts.clone();
    unique.dedup();
    assert_eq!(texts, unique, "a message was sent twice");
    let inbound: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE client_id = $1 AND direction = 'in'",
    )
    .bind(client.as_str())
    .fetch_one(h2.runner.db.pool())
    .await
    .unwrap();
    assert_eq!(inbound, 3, "the tap, the typed language and the second tap");
    drop(h2);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_restart_by_long_polling_loses_and_repeats_no_update() {
    restart_mid_conversation(Mode::Polling).await;
}

#[tokio::test]
async fn a_restart_by_webhook_loses_and_repeats_no_update() {
    restart_mid_conversation(Mode::Webhook).await;
}

#[tokio::test]
async fn a_client_who_blocks_the_bot_is_opted_out_and_gets_nothing_more() {
    let standin = StandIn::start().await;
    let h = harness("sqlite::memory:", &standin, Mode::Polling, 0, 0).await;
    let loneliness = FlowId::parse("loneliness").unwrap();

    // Blocked, and Telegram says so with a my_chat_member update.
    let chat = 5_550_030;
    let client = h.enrol("gabriel", "en").await;
    h.link_and_consent(&client, chat, "en").await;
    standin.blocks(chat);
    // Updates are handled in order: once a later one is answered, the block was handled.
    standin.says(5_550_039, "hello?");
    standin.sent_to(5_550_039, 1).await;
    assert_eq!(h.consent(&client).await, "revoked");
    let err = h
        .runner
        .start_flow(&client, &loneliness, None, IfBusy::Refuse, "navigator:test")
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::OptedOut(_)), "{err}");
    let ledger: (String, String) = sqlx::query_as(
        "SELECT source, actor FROM consent_events WHERE client_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(client.as_str())
    .fetch_one(h.runner.db.pool())
    .await
    .unwrap();
    assert_eq!(ledger, ("provider".into(), "telegram".into()));

    // Blocked with no update: the first send gets 403, and that opts them out.
    let chat2 = 5_550_031;
    let client2 = h.enrol("hana", "en").await;
    h.link_and_consent(&client2, chat2, "en").await;
    standin.blocked_silently(chat2);
    let sends_before_block = sends_to(&standin, chat2);
    h.start(&client2, "loneliness", None).await;
    wait_consent(&h, &client2, "revoked").await;
    let failed: String = sqlx::query_scalar("SELECT COALESCE(error, '') FROM messages WHERE client_id = $1 AND status = 'failed' ORDER BY id LIMIT 1")
        .bind(client2.as_str())
        .fetch_one(h.runner.db.pool())
        .await
        .unwrap();
    assert!(failed.contains("blocked"), "{failed}");
    let attempts_before = sends_to(&standin, chat2);
    assert!(
        h.runner
            .start_flow(
                &client2,
                &loneliness,
                None,
                IfBusy::Replace,
                "navigator:test"
            )
            .await
            .is_err()
    );
    // What was still queued for them is marked not sent, and nothing more reaches Telegram.
    let mut recorded = h.dispatch.recorded.clone();
    for _ in 0..100 {
        let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE client_id = $1 AND status IN ('queued', 'sending')")
            .bind(client2.as_str())
            .fetch_one(h.runner.db.pool())
            .await
            .unwrap();
        if queued == 0 {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), recorded.changed()).await;
    }
    let not_sent: Vec<String> = sqlx::query_scalar("SELECT status FROM messages WHERE client_id = $1 AND direction = 'out' AND message_key LIKE 'ucla3%'")
        .bind(client2.as_str())
        .fetch_all(h.runner.db.pool())
        .await
        .unwrap();
    assert!(
        !not_sent.is_empty() && not_sent.iter().all(|s| s == "failed" || s == "suppressed"),
        "{not_sent:?}"
    );
    assert_eq!(sends_to(&standin, chat2), attempts_before);
    assert_eq!(
        attempts_before,
        sends_before_block + 1,
        "one refused send, then nothing more was tried"
    );

    // /start opts back in; unblocking alone would not have.
    standin.book().blocked.remove(&chat2);
    let before = standin.all_sent_to(chat2).len();
    standin.says(chat2, "/start");
    standin.sent_to(chat2, before + 1).await;
    assert_eq!(h.consent(&client2).await, "granted");
}

fn sends_to(standin: &StandIn, chat: i64) -> usize {
    standin
        .book()
        .requests
        .iter()
        .filter(|(m, p)| m == "sendMessage" && p["chat_id"] == chat)
        .count()
}

/// Waits for the dispatcher to record outcomes until the client's consent is `want`.
async fn wait_consent(h: &Harness, client: &ClientId, want: &str) {
    let mut recorded = h.dispatch.recorded.clone();
    for _ in 0..100 {
        if h.consent(client).await == want {
            return;
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), recorded.changed()).await;
    }
    panic!("consent of {client} never became {want}");
}

#[tokio::test]
async fn flood_control_and_server_errors_are_waited_out() {
    let standin = StandIn::start().await;
    let h = harness("sqlite::memory:", &standin, Mode::Polling, 0, 0).await;
    let chat = 5_550_040;
    let client = h.enrol("ines", "en").await;
    h.link_and_consent(&client, chat, "en").await;
    let before = standin.all_sent_to(chat).len();
    standin.flood(1, 1);
    h.start(&client, "loneliness", None).await;
    h.question(chat, "companionship").await;
    let sent = standin.all_sent_to(chat);
    assert!(sent.len() >= before + 2);
    // The retry came no sooner than Telegram's retry_after.
    let refused = standin.book().flood_refused_at.expect("a 429 was answered");
    let next = sent[before].at;
    assert!(
        next.duration_since(refused) >= Duration::from_millis(990),
        "{:?}",
        next.duration_since(refused)
    );

    // Bad Gateway, then through (teloxide itself waits 10 s after a 5xx).
    standin.failing(1);
    let before = sends_to(&standin, chat);
    standin.says(chat, "often");
    h.question(chat, "left-out").await;
    assert_eq!(sends_to(&standin, chat), before + 2);
}

#[tokio::test]
async fn strangers_and_bad_codes_learn_who_we_are_and_nothing_is_kept() {
    let standin = StandIn::start().await;
    let h = harness("sqlite::memory:", &standin, Mode::Polling, 0, 0).await;
    let client = h.enrol("jules", "fr").await;
    let code = h.invite(&client).await;
    let stranger = 5_550_050;
    standin.says(stranger, "/start");
    standin.says(stranger, "/start not-a-real-code-at-all-0000");
    standin.says(stranger, "bonjour, c'est Jules");
    let replies = standin.sent_to(stranger, 3).await;
    for r in &replies {
        assert!(r.text.contains("This bot sends check-ins"), "{}", r.text);
        assert!(r.text.contains("Ce robot envoie des suivis"), "{}", r.text);
        assert!(r.reply_markup.is_none());
    }
    // An expired code is no better.
    h.clock.advance(chrono::Duration::hours(73));
    standin.says(stranger, &format!("/start {code}"));
    let r = standin.sent_to(stranger, 4).await;
    assert!(r[3].text.contains("This bot sends check-ins"));
    let kept: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE address = $1 OR body LIKE '%Jules%'",
    )
    .bind(stranger.to_string())
    .fetch_one(h.runner.db.pool())
    .await
    .unwrap();
    let linked: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM channel_addresses WHERE channel = 'telegram'")
            .fetch_one(h.runner.db.pool())
            .await
            .unwrap();
    assert_eq!((kept, linked), (0, 0));

    // A fresh invite works once; the same link from another chat does not.
    let code = h.invite(&client).await;
    standin.says(5_550_051, &format!("/start {code}"));
    h.question(5_550_051, "agree").await;
    standin.says(5_550_052, &format!("/start {code}"));
    let r = standin.sent_to(5_550_052, 1).await;
    assert!(r[0].text.contains("Ce robot envoie des suivis"));
}

#[tokio::test]
async fn a_button_of_an_earlier_question_gets_a_gentle_note() {
    let standin = StandIn::start().await;
    let h = harness("sqlite::memory:", &standin, Mode::Polling, 0, 0).await;
    let chat = 5_550_060;
    let client = h.enrol("kim", "en").await;
    h.link_and_consent(&client, chat, "en").await;
    h.start(&client, "loneliness", None).await;
    let q1 = h.question(chat, "companionship").await;
    // Answered by typing: the buttons of q1 are now an earlier question's.
    standin.says(chat, "hardly ever");
    h.question(chat, "left-out").await;
    let before = standin.all_sent_to(chat).len();
    let callbacks = standin.book().answered_callbacks.len();
    h.tap(chat, &q1, "Often");
    let note = standin.sent_to(chat, before + 1).await;
    assert!(
        note[before].text.contains("earlier question"),
        "{}",
        note[before].text
    );
    assert_eq!(standin.book().answered_callbacks.len(), callbacks + 1);
    // Its keyboard is taken away; the answer stands as typed.
    standin
        .until("q1's keyboard removed", |b| {
            b.sent
                .iter()
                .find(|s| s.message_id == q1.message_id && s.chat == chat)
                .filter(|s| s.buttons().is_empty())
                .map(|_| ())
        })
        .await;
    let answers = h.answers(&client, "loneliness").await;
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].1, "hardly-ever");
    // A forged button (data we never made) is acknowledged and does nothing.
    standin.taps(chat, q1.message_id, "garbage");
    standin
        .until("the forged tap acknowledged", |b| {
            (b.answered_callbacks.len() == callbacks + 2).then_some(())
        })
        .await;
    assert_eq!(h.answers(&client, "loneliness").await.len(), 1);
}

#[tokio::test]
async fn one_chat_gets_at_most_one_message_a_second() {
    let standin = StandIn::start().await;
    // The default pacing: a second between two messages to one chat.
    let h = harness("sqlite::memory:", &standin, Mode::Polling, 0, 1000).await;
    let chat = 5_550_070;
    let client = h.enrol("lea", "en").await;
    let code = h.invite(&client).await;
    standin.says(chat, &format!("/start {code}"));
    // Welcome, what to expect, privacy, then the question: four messages.
    let sent = standin.sent_to(chat, 4).await;
    for w in sent.windows(2) {
        let gap = w[1].at.duration_since(w[0].at);
        assert!(gap >= Duration::from_millis(990), "{gap:?}");
    }
    assert!(
        !sent[3].buttons().is_empty(),
        "the question comes last, in order"
    );
}

#[tokio::test]
async fn one_busy_chat_holds_up_no_other_chat() {
    let standin = StandIn::start().await;
    let h = harness("sqlite::memory:", &standin, Mode::Polling, 0, 1000).await;
    let (busy, other) = (5_550_080_i64, 5_550_081_i64);
    // Twenty messages wait for one chat (a second apart), then one for another chat.
    let now = to_ms(h.clock.now());
    for (chat, n) in [(busy, 20), (other, 1)] {
        for k in 0..n {
            sqlx::query(
                "INSERT INTO messages (direction, channel, address, body, priority, status, segments, created_at, updated_at) \
                 VALUES ('out', 'telegram', $1, $2, 1, 'queued', 1, $3, $3)",
            )
            .bind(chat.to_string())
            .bind(format!("message {k} to {chat}"))
            .bind(now)
            .execute(h.runner.db.pool())
            .await
            .unwrap();
        }
    }
    h.runner.queued.send_modify(|n| *n += 1);
    let first = standin.sent_to(other, 1).await;
    let busy_so_far = standin.all_sent_to(busy);
    // The other chat's message did not wait behind the busy chat's second-apart line.
    assert!(
        busy_so_far.len() < 4,
        "the other chat waited for {} of the busy chat's messages",
        busy_so_far.len()
    );
    assert!(first[0].at < busy_so_far.last().unwrap().at + Duration::from_millis(1500));
}

#[tokio::test]
async fn a_forged_or_unknown_button_never_touches_the_waiting_keyboard() {
    let standin = StandIn::start().await;
    let h = harness("sqlite::memory:", &standin, Mode::Polling, 0, 0).await;
    let chat = 5_550_040;
    let client = h.enrol("ines", "en").await;
    h.link_and_consent(&client, chat, "en").await;
    h.start(&client, "loneliness", None).await;
    let q1 = h.question(chat, "companionship").await;
    let (_, real) = q1.buttons()[0].clone();
    let (prompt, _, step) = telegram::parse_callback(&real).unwrap();
    let edits_before = standin.book().edits.len();
    let sent_before = standin.all_sent_to(chat).len();
    // Forged on the waiting question's own message: another question's id, an option that is
    // not there, data we never made.
    for forged in [
        telegram::callback_data(prompt + 1000, 0, step),
        telegram::callback_data(prompt, 7, step),
        "not ours at all".to_owned(),
    ] {
        standin.taps(chat, q1.message_id, &forged);
    }
    // Updates are handled in order: once a later one is answered, the taps were handled.
    standin.says(5_550_049, "hello?");
    standin.sent_to(5_550_049, 1).await;
    let touched: Vec<(i64, i64, Value)> = standin.book().edits[edits_before..]
        .iter()
        .filter(|(c, id, _)| *c == chat && *id == q1.message_id)
        .cloned()
        .collect();
    assert!(
        touched.is_empty(),
        "the waiting keyboard was changed: {touched:?}"
    );
    assert!(
        h.answers(&client, "loneliness").await.is_empty(),
        "nothing was answered"
    );
    // The real button still answers the question.
    h.tap(chat, &q1, "Often");
    h.question(chat, "left-out").await;
    assert_eq!(h.answers(&client, "loneliness").await[0].1, "often");
    assert!(standin.all_sent_to(chat).len() > sent_before);
}

#[tokio::test]
async fn a_webhook_update_is_acknowledged_only_once_it_is_committed() {
    let standin = StandIn::start().await;
    let h = harness("sqlite::memory:", &standin, Mode::Webhook, 0, 0).await;
    let chat = 5_550_050;
    let client = h.enrol("jon", "en").await;
    h.link_and_consent(&client, chat, "en").await;
    // The database refuses this one message, as a database that is failing would.
    sqlx::query(
        "CREATE TRIGGER refuse BEFORE INSERT ON messages WHEN NEW.body = 'boom' \
         BEGIN SELECT RAISE(ABORT, 'refused for the test'); END",
    )
    .execute(h.runner.db.pool())
    .await
    .unwrap();
    let id = standin.says(chat, "boom");
    standin
        .until("a refused delivery", |b| {
            (b.deliveries
                .iter()
                .filter(|(u, s)| *u == id && *s >= 500)
                .count()
                >= 2)
                .then_some(())
        })
        .await;
    // Not acknowledged: Telegram keeps it and sends it again.
    assert!(
        !standin
            .book()
            .deliveries
            .iter()
            .any(|(u, s)| *u == id && *s == 200)
    );
    sqlx::query("DROP TRIGGER refuse")
        .execute(h.runner.db.pool())
        .await
        .unwrap();
    standin
        .until("the acknowledgement", |b| {
            b.deliveries
                .iter()
                .any(|(u, s)| *u == id && *s == 200)
                .then_some(())
        })
        .await;
    let kept: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE client_id = $1 AND direction = 'in' AND body = 'boom'",
    )
    .bind(client.as_str())
    .fetch_one(h.runner.db.pool())
    .await
    .unwrap();
    assert_eq!(kept, 1, "recorded once, after the retries");
}

/// A centre with a Telegram bot of its own: its bot starts beside the deployment's, its
/// clients' invites work on it only, it links and talks to them (the consent question comes
/// from it), a stranger who writes to it learns that centre's name, and the deployment's bot
/// neither links nor answers that centre's clients.
#[tokio::test]
async fn a_centre_with_a_bot_of_its_own_talks_to_its_clients_through_it_by_long_polling() {
    own_bot(Mode::Polling).await;
}

#[tokio::test]
async fn a_centre_with_a_bot_of_its_own_talks_to_its_clients_through_it_by_webhook() {
    own_bot(Mode::Webhook).await;
}

async fn own_bot(mode: Mode) {
    use matters::centres::{self, NewCentre};
    use std::os::unix::fs::PermissionsExt;
    const WEST_TOKEN: &str = "7000000002:AAWestCentreOwnBotToken_0123456789";
    const WEST_BOT: &str = "west_checkins_bot";
    let standin = StandIn::start().await;
    let west = standin.another_bot(WEST_TOKEN, 7_000_000_002, WEST_BOT);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let cfg = config(
        "sqlite::memory:",
        &standin,
        (mode == Mode::Webhook).then_some(base.as_str()),
        0,
    );
    let clock = Arc::new(ManualClock::new(
        DateTime::parse_from_rfc3339("2026-11-21T15:00:00Z")
            .unwrap()
            .to_utc(),
    ));
    let runner = Arc::new(matters::app::build(&cfg, clock.clone()).await.unwrap());
    let dir = std::env::temp_dir().join(format!(
        "matters-bots-{}-{}",
        std::process::id(),
        base.rsplit(':').next().unwrap()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("west.bot");
    std::fs::write(&file, format!("{WEST_TOKEN}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let now = to_ms(clock.now());
    // West has its own bot; a second centre given the same bot is refused at start, with the
    // reason, and west's runs.
    for (id, name) in [("west", "West CHC"), ("west-annex", "West CHC annex")] {
        centres::add(
            &runner.db,
            NewCentre {
                id: id.into(),
                name: name.into(),
                time_zone: "America/Toronto".into(),
                default_language: "fr".into(),
                telegram_token_file: Some(file.to_str().unwrap().into()),
                ..NewCentre::default()
            },
            "cli",
            now,
        )
        .await
        .unwrap();
    }
    let t = TelegramConfig::from_config(&cfg).unwrap().unwrap();
    let started = matters::loops::telegram::start(runner.clone(), &t, std::future::pending())
        .await
        .unwrap();
    assert_eq!(started.failed.len(), 1, "{:?}", started.failed);
    assert_eq!(started.failed[0].0, "west-annex");
    assert!(
        started.failed[0].1.contains("already another centre's"),
        "{:?}",
        started.failed
    );
    let mut tasks: Vec<_> = started.pollers;
    if mode == Mode::Polling {
        assert_eq!(tasks.len(), 2, "one poller a bot");
    } else {
        assert!(tasks.is_empty());
        assert_eq!(
            west.book().webhook.as_ref().map(|(url, _)| url.clone()),
            Some(format!("{base}/webhooks/telegram/west")),
            "west's bot posts to a webhook of its own"
        );
    }
    let app = matters::web::app(matters::web::AppState::new(runner.clone()))
        .merge(started.router.clone());
    tasks.push(tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    }));
    assert_eq!(started.username, USERNAME);
    assert_eq!(
        started.centres,
        vec![("west".to_owned(), WEST_BOT.to_owned())]
    );
    assert_eq!(
        centres::get(&runner.db, "west")
            .await
            .unwrap()
            .unwrap()
            .telegram_bot
            .as_deref(),
        Some(WEST_BOT),
        "invites name the bot getMe gave"
    );
    let wes = ClientId::parse("wes").unwrap();
    let new = NewClient {
        id: wes.clone(),
        language: Locale::parse("fr").unwrap(),
        time_zone: chrono_tz::America::Toronto,
        chart_number: None,
        reach: None,
        centre: "west".into(),
    };
    assert!(
        record::add_client(&runner.db, &new, now, "test")
            .await
            .unwrap()
    );
    let code = invite::create(&runner.db, &wes, 72, now, "navigator:test")
        .await
        .unwrap()
        .code;
    let chat = 5_550_200;
    // The code on the deployment's bot: not its client; who we are, and nothing kept.
    standin.says(chat, &format!("/start {code}"));
    let r = standin.sent_to(chat, 1).await;
    assert!(
        r[0].text.contains("Ce robot envoie des suivis"),
        "{}",
        r[0].text
    );
    let linked = |runner: Arc<Runner>| async move {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM channel_addresses WHERE channel = 'telegram' AND client_id = 'wes'",
        )
        .fetch_one(runner.db.pool())
        .await
        .unwrap()
    };
    assert_eq!(linked(runner.clone()).await, 0);
    // On west's own bot: linked, and the consent question comes from it.
    west.says(chat, &format!("/start {code}"));
    let q = west
        .until("the consent question from west's bot", |b| {
            b.sent
                .iter()
                .find(|s| s.chat == chat && s.buttons().iter().any(|(_, d)| d.ends_with(":agree")))
                .cloned()
        })
        .await;
    assert!(!q.buttons().is_empty());
    assert_eq!(linked(runner.clone()).await, 1);
    // Wes answers on west's bot; the deployment's bot never carries west's messages.
    west.taps(chat, q.message_id, &q.buttons()[0].1);
    west.sent_to(chat, 2).await;
    assert_eq!(
        standin.all_sent_to(chat).len(),
        1,
        "only the stranger's note came from the deployment's bot"
    );
    // Wes writes to the deployment's bot: it does not know them there.
    standin.says(chat, "bonjour");
    let r = standin.sent_to(chat, 2).await;
    assert!(
        r[1].text.contains("Ce robot envoie des suivis"),
        "{}",
        r[1].text
    );
    // A stranger on west's bot learns that it is West CHC's.
    west.says(5_550_201, "allo?");
    let r = west.sent_to(5_550_201, 1).await;
    assert!(r[0].text.contains("West CHC"), "{}", r[0].text);
    if mode == Mode::Webhook {
        let got = west.book().deliveries.clone();
        assert!(
            !got.is_empty() && got.iter().all(|(_, s)| *s == 200),
            "{got:?}"
        );
    }
    for t in &tasks {
        t.abort();
    }
    started.dispatch.done.abort();
    let _ = std::fs::remove_dir_all(&dir);
}
