//! SMS through Twilio, over real loopback HTTP: signed webhooks into `matters`, our REST client
//! out to a local stand-in of Twilio's Messages API (tests/support/twilio.rs), and signed status
//! callbacks back, out of order. The whole story runs on SQLite and on a real Postgres.

mod support;

use chrono::DateTime;
use matters::channel::twilio::signature;
use matters::channel::twilio::{Client, TwilioConfig};
use matters::clock::{ManualClock, to_ms};
use matters::config::{Config, TwilioSettings};
use matters::domain::{Channel, ClientId, FlowId, Locale};
use matters::loops::dispatch::{self, Handle};
use matters::runner::{IfBusy, RunError, Runner};
use matters::store::delivery;
use matters::store::record::{self, NewClient, NewReferral};
use sqlx::Row;
use std::sync::Arc;
use std::time::Duration;
use support::twilio::{BUSY, INVALID, OPTED_OUT, StandIn, sign};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "f00dfeedf00dfeedf00dfeedf00dfeed";
const OURS: &str = "+15145559999";

struct Harness {
    runner: Arc<Runner>,
    base: String,
    standin: StandIn,
    dispatch: Handle,
    http: reqwest::Client,
    n: std::sync::atomic::AtomicUsize,
}

async fn harness(db: &str, immediate: bool) -> Harness {
    harness_with(db, immediate, 300).await
}

/// A harness whose sends' claims lapse after `lease_seconds`.
async fn harness_with(db: &str, immediate: bool, lease_seconds: u32) -> Harness {
    let standin = StandIn::start(SID, TOKEN, immediate).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let cfg = Config {
        database_url: db.to_owned(),
        public_url: Some(base.clone()),
        twilio: TwilioSettings {
            account_sid: Some(SID.into()),
            auth_token: Some(TOKEN.into()),
            from: Some(OURS.into()),
            api_base: standin.base.clone(),
            segments_per_second: Some(0.0),
            max_attempts: 3,
            backoff_ms: 1,
            ..TwilioSettings::default()
        },
        dispatch: matters::config::DispatchSettings { lease_seconds },
        ..Config::default()
    };
    let twilio = TwilioConfig::from_config(&cfg).unwrap().unwrap();
    let clock = ManualClock::new(
        DateTime::parse_from_rfc3339("2026-11-21T15:00:00Z")
            .unwrap()
            .to_utc(),
    );
    let runner = Arc::new(matters::app::build(&cfg, Arc::new(clock)).await.unwrap());
    let dispatch = dispatch::spawn(
        runner.clone(),
        Arc::new(Client::new(twilio.clone()).unwrap()),
        Channel::Sms,
        twilio.dispatch_settings(),
    );
    let app = matters::web::app(matters::web::AppState::new(runner.clone()).with_twilio(twilio));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Harness {
        runner,
        base,
        standin,
        dispatch,
        http: reqwest::Client::new(),
        n: std::sync::atomic::AtomicUsize::new(0),
    }
}

impl Harness {
    async fn enrol(&self, id: &str, phone: &str, lang: &str) -> ClientId {
        let client = ClientId::parse(id).unwrap();
        let now = to_ms(self.runner.clock.now());
        let new = NewClient {
            id: client.clone(),
            language: Locale::parse(lang).unwrap(),
            time_zone: chrono_tz::America::Montreal,
            chart_number: None,
            reach: Some((Channel::Sms, phone.to_owned())),
            centre: matters::domain::DEFAULT_CENTRE.into(),
        };
        assert!(
            record::add_client(&self.runner.db, &new, now, "navigator:test")
                .await
                .unwrap()
        );
        let r = NewReferral {
            program: Some("Café-rencontre".into()),
            ..NewReferral::default()
        };
        record::add_referral(&self.runner.db, &client, &r, now, "navigator:test")
            .await
            .unwrap();
        client
    }

    /// Posts a webhook as Twilio would, signed with `token`; returns status and body.
    async fn post(
        &self,
        path: &str,
        params: &[(&str, &str)],
        token: Option<&str>,
    ) -> (u16, String) {
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let url = format!("{}{path}", self.base);
        let mut req = self.http.post(&url).form(&params);
        if let Some(t) = token {
            req = req.header("X-Twilio-Signature", sign(t, &url, &params));
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// A client texts us; returns the HTTP status and body of our answer.
    async fn texts(&self, from: &str, body: &str) -> (u16, String) {
        let k = self.n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let sid = format!("SMin{k:030}");
        self.texts_with(from, body, &sid, &[]).await
    }

    async fn texts_with(
        &self,
        from: &str,
        body: &str,
        sid: &str,
        extra: &[(&str, &str)],
    ) -> (u16, String) {
        let mut p = vec![
            ("ToCountry", "CA"),
            ("SmsMessageSid", sid),
            ("NumMedia", "0"),
            ("SmsSid", sid),
            ("SmsStatus", "received"),
            ("Body", body),
            ("To", OURS),
            ("NumSegments", "1"),
            ("MessageSid", sid),
            ("AccountSid", SID),
            ("From", from),
            ("ApiVersion", "2010-04-01"),
        ];
        p.extend_from_slice(extra);
        self.post("/webhooks/twilio/sms", &p, Some(TOKEN)).await
    }

    /// A client whose loneliness survey has started and whose texts have gone out.
    async fn surveyed(&self, id: &str, phone: &str) -> ClientId {
        let client = self.enrol(id, phone, "en").await;
        self.runner
            .start_flow(
                &client,
                &FlowId::parse("loneliness").unwrap(),
                None,
                IfBusy::Refuse,
                "test",
            )
            .await
            .unwrap();
        self.settled(&client).await;
        client
    }

    /// Waits until nothing of `client`'s is queued or being sent.
    async fn settled(&self, client: &ClientId) {
        let mut rx = self.dispatch.recorded.clone();
        let done = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                rx.borrow_and_update();
                if self.scalar(&format!("SELECT COUNT(*) FROM messages WHERE client_id = '{client}' AND status IN ('queued', 'sending')")).await == 0 {
                    return;
                }
                if rx.changed().await.is_err() {
                    return;
                }
            }
        })
        .await;
        assert!(
            done.is_ok(),
            "messages to {client} still waiting after 30 s"
        );
    }

    async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(self.runner.db.pool())
            .await
            .unwrap()
    }

    async fn strings(&self, sql: &str) -> Vec<String> {
        sqlx::query(sql)
            .fetch_all(self.runner.db.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| {
                r.try_get::<Option<String>, _>(0)
                    .unwrap()
                    .unwrap_or_default()
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Signatures: Twilio's published vector is a unit test in src; these were computed with Twilio's
// own helper library (the `twilio` Python package, 9.13.0, RequestValidator.compute_signature).

const PY_TOKEN: &str = "0123456789abcdef0123456789abcdef";

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn signatures_match_twilios_helper_library() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (
            "https://matters.example.org/webhooks/twilio/sms",
            &[
                ("AccountSid", "AC00000000000000000000000000000001"),
                ("Body", "Bonjour, ça va? Très bien à Montréal — merci!"),
                ("From", "+15145550123"),
                ("MessageSid", "SM11111111111111111111111111111111"),
                ("To", "+15145559999"),
                ("NumSegments", "1"),
            ],
            "+mOTD0e1fahtgbflleP4pRekATM=",
        ),
        (
            "https://matters.example.org/webhooks/twilio/sms",
            &[
                ("Body", "1 & 2 < 3 > 0 \"quoted\" 'x'"),
                ("From", "+15145550123"),
                ("MessageSid", "SM22222222222222222222222222222222"),
                ("To", "+15145559999"),
            ],
            "u3TrzzRmQSDXZtona+R0SaCbckE=",
        ),
        (
            "https://matters.example.org:8443/webhooks/twilio/sms?centre=east&v=2",
            &[
                ("Body", "Oui"),
                ("From", "+15145550123"),
                ("MessageSid", "SM33333333333333333333333333333333"),
                ("To", "+15145559999"),
            ],
            "+MbWIv4a6CgPxxNN5j+xJPyCV3M=",
        ),
        (
            // A repeated parameter: each distinct value, sorted, as the library does.
            "https://matters.example.org/webhooks/twilio/sms",
            &[
                ("Body", "photo"),
                ("From", "+15145550123"),
                ("MediaUrl", "https://api.twilio.com/b.jpg"),
                ("MediaUrl", "https://api.twilio.com/a.jpg"),
                ("MediaUrl", "https://api.twilio.com/a.jpg"),
                ("MessageSid", "SM44444444444444444444444444444444"),
                ("To", "+15145559999"),
            ],
            "uvWM5f/FUoM2kJAH+rPjMIOQqac=",
        ),
    ];
    for (url, params, expected) in cases {
        let params = pairs(params);
        assert_eq!(
            &signature::compute(PY_TOKEN, url, &params),
            expected,
            "{url}"
        );
        assert!(signature::valid(PY_TOKEN, url, &params, expected), "{url}");
        assert!(!signature::valid(
            "0123456789abcdef0123456789abcdee",
            url,
            &params,
            expected
        ));
        let mut changed = params.clone();
        changed[0].1.push('!');
        assert!(
            !signature::valid(PY_TOKEN, url, &changed, expected),
            "{url}"
        );
        let mut reordered = params.clone();
        reordered.reverse();
        assert!(
            signature::valid(PY_TOKEN, url, &reordered, expected),
            "order of the form does not matter"
        );
    }
    // Twilio signed with the default port; we are configured without it (and the reverse).
    let status = pairs(&[
        ("MessageSid", "SM55555555555555555555555555555555"),
        ("MessageStatus", "delivered"),
        ("ErrorCode", ""),
    ]);
    let with_port = "SF1tqRgEagJrDI1vQ/kzXTv/6XU=";
    assert_eq!(
        signature::compute(
            PY_TOKEN,
            "https://matters.example.org:443/webhooks/twilio/status",
            &status
        ),
        with_port
    );
    assert!(signature::valid(
        PY_TOKEN,
        "https://matters.example.org/webhooks/twilio/status",
        &status,
        with_port
    ));
    let without = signature::compute(
        PY_TOKEN,
        "https://matters.example.org/webhooks/twilio/status",
        &status,
    );
    assert!(signature::valid(
        PY_TOKEN,
        "https://matters.example.org:443/webhooks/twilio/status",
        &status,
        &without
    ));
}

#[tokio::test]
async fn unsigned_or_wrongly_signed_webhooks_are_refused_and_change_nothing() {
    let h = harness("sqlite::memory:", false).await;
    h.enrol("amelie", "+15145550123", "fr").await;
    let p = [
        ("MessageSid", "SMaaaa0000000000000000000000000001"),
        ("From", "+15145550123"),
        ("To", OURS),
        ("Body", "Bonjour"),
        ("AccountSid", SID),
    ];
    assert_eq!(
        h.post("/webhooks/twilio/sms", &p, None).await.0,
        403,
        "no header"
    );
    assert_eq!(
        h.post("/webhooks/twilio/sms", &p, Some("not-the-token"))
            .await
            .0,
        403,
        "wrong token"
    );
    // Signed, then a parameter changed on the way.
    let url = format!("{}/webhooks/twilio/sms", h.base);
    let sig = sign(TOKEN, &url, &pairs(&p));
    let mut changed = pairs(&p);
    changed[3].1 = "Bonsoir".into();
    let resp = h
        .http
        .post(&url)
        .header("X-Twilio-Signature", sig)
        .form(&changed)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403, "changed parameter");
    // An unknown parameter is part of what is signed: adding one unsigned breaks it too.
    let mut extra = pairs(&p);
    extra.push(("FromCity".into(), "MONTREAL".into()));
    let sig = sign(TOKEN, &url, &pairs(&p));
    let resp = h
        .http
        .post(&url)
        .header("X-Twilio-Signature", sig)
        .form(&extra)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403, "unsigned extra parameter");
    let status = [("MessageSid", "SM0"), ("MessageStatus", "delivered")];
    assert_eq!(
        h.post("/webhooks/twilio/status", &status, Some("wrong"))
            .await
            .0,
        403
    );
    assert_eq!(
        h.scalar("SELECT COUNT(*) FROM messages").await,
        0,
        "nothing recorded"
    );
    assert_eq!(h.scalar("SELECT COUNT(*) FROM delivery_events").await, 0);

    // Signed with unknown parameters included: taken.
    let mut known = p.to_vec();
    known.push(("FromCity", "MONTREAL"));
    known.push(("SomeFutureField", "x"));
    let (code, body) = h.post("/webhooks/twilio/sms", &known, Some(TOKEN)).await;
    assert_eq!(code, 200, "{body}");
    assert!(body.ends_with("<Response/>"), "{body}");
    // Signed but malformed: a clear 400, nothing recorded.
    let (code, _) = h
        .post("/webhooks/twilio/sms", &[("Body", "x")], Some(TOKEN))
        .await;
    assert_eq!(code, 400);
    assert_eq!(
        h.scalar("SELECT COUNT(*) FROM messages WHERE direction = 'in'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_whole_french_survey_over_sms_on_sqlite() {
    let h = harness("sqlite::memory:", false).await;
    whole_french_survey(&h).await;
}

#[tokio::test]
async fn a_whole_french_survey_over_sms_on_postgres() {
    let Some((url, _schema, _admin)) = support::pg::postgres().await else {
        return;
    };
    let h = harness(&url, false).await;
    whole_french_survey(&h).await;
}

async fn whole_french_survey(h: &Harness) {
    let phone = "+15145550123";
    let client = h.enrol("amelie", phone, "fr").await;

    // She texts first: matched to her record, answered in French.
    let (code, body) = h.texts(phone, "Bonjour").await;
    assert_eq!(code, 200);
    assert_eq!(body, r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#);
    h.standin.wait_for(1).await;

    // Her navigator starts the loneliness survey; she answers each question by SMS.
    h.runner
        .start_flow(
            &client,
            &FlowId::parse("loneliness").unwrap(),
            Some("baseline"),
            IfBusy::Refuse,
            "navigator:test",
        )
        .await
        .unwrap();
    h.standin.wait_for(3).await;
    let mut expected = 3;
    for answer in ["parfois", "3", "Souvent!", "jamais"] {
        let (code, _) = h.texts(phone, answer).await;
        assert_eq!(code, 200);
        expected += 1;
        h.standin.wait_for(expected).await;
    }
    h.settled(&client).await;

    // Each reply reached Twilio with the right To, From and Body, in order.
    let sent = h.standin.sent_to(phone);
    let outs = h
        .strings(&format!("SELECT body FROM messages WHERE client_id = '{client}' AND direction = 'out' ORDER BY id"))
        .await;
    assert_eq!(
        sent.iter().map(|s| s.body.clone()).collect::<Vec<_>>(),
        outs
    );
    assert!(
        sent.iter()
            .all(|s| s.from.as_deref() == Some(OURS) && s.to == phone)
    );
    assert!(
        sent[0].body.contains("Merci pour votre message"),
        "{}",
        sent[0].body
    );
    assert!(
        sent.iter().any(|s| s.body.contains("compagnie")),
        "the French UCLA-3"
    );
    assert!(
        sent.last().unwrap().body.contains("Merci"),
        "thanks at the end"
    );
    assert!(
        sent.iter().all(|s| s.status_callback.as_deref()
            == Some(&*format!("{}/webhooks/twilio/status", h.base)))
    );
    assert_eq!(
        h.standin.violations(),
        Vec::<String>::new(),
        "every request valid against the OpenAPI description"
    );

    // The answers and the score are in her record.
    let values = h
        .strings(&format!(
            "SELECT value FROM answers WHERE client_id = '{client}' ORDER BY id"
        ))
        .await;
    assert_eq!(values, ["some-of-the-time", "often", "often", "never"]);
    let total = h
        .scalar(&format!(
            "SELECT total FROM scores WHERE client_id = '{client}' AND instrument = 'ucla3'"
        ))
        .await;
    assert_eq!(total, 8);

    // Status callbacks, latest first: delivered, then a late "sent" that must not undo it.
    let codes = h.standin.flush_callbacks().await;
    assert!(codes.iter().all(|c| *c == 204), "{codes:?}");
    h.settled(&client).await;
    let statuses = h
        .strings(&format!("SELECT status FROM messages WHERE client_id = '{client}' AND direction = 'out' ORDER BY id"))
        .await;
    assert!(statuses.iter().all(|s| s == "delivered"), "{statuses:?}");
    let events = h.scalar("SELECT COUNT(*) FROM delivery_events").await;
    assert_eq!(
        events,
        2 * sent.len() as i64,
        "every callback is in the timeline"
    );
    let record = record::read(
        &h.runner.db,
        &client,
        "navigator:test",
        to_ms(h.runner.clock.now()),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(
        record
            .messages
            .iter()
            .filter(|m| m.direction == "out")
            .all(|m| m.status == "delivered")
    );

    // A new survey is waiting on her answer (with its nudge due later) when she texts "arret".
    h.runner
        .start_flow(
            &client,
            &FlowId::parse("wellbeing").unwrap(),
            None,
            IfBusy::Refuse,
            "navigator:test",
        )
        .await
        .unwrap();
    let before = h.standin.sent_to(phone).len() + 2;
    h.standin.wait_for(before).await;
    h.settled(&client).await;
    let before = h.standin.sent_to(phone).len();
    let (code, _) = h.texts(phone, "arret").await;
    assert_eq!(code, 200);
    h.standin.wait_for(before + 1).await;
    h.settled(&client).await;
    let after = h.standin.sent_to(phone);
    assert_eq!(after.len(), before + 1, "one confirmation");
    assert!(
        after.last().unwrap().body.contains("ne recevrez plus"),
        "{}",
        after.last().unwrap().body
    );
    assert_eq!(
        h.scalar(&format!(
            "SELECT COUNT(*) FROM jobs WHERE client_id = '{client}' AND status = 'pending'"
        ))
        .await,
        0,
        "the nudge is cancelled"
    );
    // Nothing more: not the due nudge, not a new flow, not a reply to another text.
    let fired = h.runner.fire_timeout(&client).await.unwrap();
    assert!(fired.replies.is_empty());
    let refused = h
        .runner
        .start_flow(
            &client,
            &FlowId::parse("loneliness").unwrap(),
            None,
            IfBusy::Refuse,
            "navigator:test",
        )
        .await;
    assert!(matches!(refused, Err(RunError::OptedOut(_))), "{refused:?}");
    h.texts(phone, "1").await;
    h.settled(&client).await;
    assert_eq!(
        h.scalar(&format!("SELECT COUNT(*) FROM messages WHERE client_id = '{client}' AND direction = 'out' AND status = 'queued'")).await,
        0
    );
    assert_eq!(
        h.standin.sent_to(phone).len(),
        before + 1,
        "nothing after the confirmation"
    );
}

#[tokio::test]
async fn replays_of_a_message_sid_are_recorded_once() {
    let h = harness("sqlite::memory:", false).await;
    let client = h.enrol("bea", "+15145550124", "en").await;
    for _ in 0..3 {
        let (code, _) = h
            .texts_with(
                "+15145550124",
                "hello",
                "SMrepeat000000000000000000000001",
                &[],
            )
            .await;
        assert_eq!(code, 200);
    }
    h.settled(&client).await;
    assert_eq!(
        h.scalar(&format!(
            "SELECT COUNT(*) FROM messages WHERE client_id = '{client}' AND direction = 'in'"
        ))
        .await,
        1
    );
    assert_eq!(
        h.scalar(&format!(
            "SELECT COUNT(*) FROM messages WHERE client_id = '{client}' AND direction = 'out'"
        ))
        .await,
        1,
        "one reply"
    );
    assert_eq!(h.standin.sent().len(), 1);
}

#[tokio::test]
async fn a_text_from_an_unknown_number_waits_in_the_unmatched_inbox_and_gets_no_reply() {
    let h = harness("sqlite::memory:", false).await;
    for _ in 0..2 {
        let (code, body) = h
            .texts_with(
                "+16135550199",
                "Hi, my worker gave me this number",
                "SMunknown00000000000000000000001",
                &[],
            )
            .await;
        assert_eq!(code, 200);
        assert!(body.ends_with("<Response/>"));
    }
    let inbox = delivery::unmatched(&h.runner.db, None, 50, 0, "navigator:test")
        .await
        .unwrap();
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(inbox[0].address, "+16135550199");
    assert_eq!(inbox[0].body, "Hi, my worker gave me this number");
    assert_eq!(
        h.scalar("SELECT COUNT(*) FROM messages WHERE direction = 'out'")
            .await,
        0,
        "no reply"
    );
    assert_eq!(
        h.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'unmatched-view'")
            .await,
        1
    );
}

#[tokio::test]
async fn twilios_own_stop_opts_out_without_a_second_confirmation() {
    let h = harness("sqlite::memory:", false).await;
    let phone = "+15145550125";
    let client = h.enrol("carl", phone, "en").await;
    // "Stop it please" is not one of our keywords, but Twilio's Advanced Opt-Out took it as STOP.
    let (code, _) = h
        .texts_with(
            phone,
            "Stop it please",
            "SMoptout000000000000000000000001",
            &[("OptOutType", "STOP")],
        )
        .await;
    assert_eq!(code, 200);
    h.settled(&client).await;
    let consent = h
        .strings(&format!(
            "SELECT consent FROM clients WHERE id = '{client}'"
        ))
        .await;
    assert_eq!(consent, ["revoked"]);
    assert_eq!(
        h.standin.sent().len(),
        0,
        "Twilio confirmed it; ours would be refused (21610)"
    );
}

#[tokio::test]
async fn provider_errors_are_recorded_and_acted_on() {
    let h = harness("sqlite::memory:", false).await;
    let lonely = FlowId::parse("loneliness").unwrap();

    // 21610: opted out at the carrier → consent ledger, flow ended, jobs cancelled.
    let gone = h.enrol("opted", OPTED_OUT, "en").await;
    h.runner
        .start_flow(&gone, &lonely, None, IfBusy::Refuse, "navigator:test")
        .await
        .unwrap();
    h.settled(&gone).await;
    let failed = h
        .strings(&format!(
            "SELECT error FROM messages WHERE client_id = '{gone}' AND status = 'failed'"
        ))
        .await;
    assert!(
        !failed.is_empty() && failed.iter().all(|e| e.contains("21610")),
        "{failed:?}"
    );
    assert_eq!(
        h.strings(&format!("SELECT consent FROM clients WHERE id = '{gone}'"))
            .await,
        ["revoked"]
    );
    assert_eq!(
        h.strings(&format!(
            "SELECT source FROM consent_events WHERE client_id = '{gone}'"
        ))
        .await,
        ["provider"]
    );
    assert_eq!(
        h.scalar(&format!(
            "SELECT COUNT(*) FROM jobs WHERE client_id = '{gone}' AND status = 'pending'"
        ))
        .await,
        0
    );
    assert_eq!(
        h.strings(&format!(
            "SELECT status FROM sessions WHERE client_id = '{gone}'"
        ))
        .await,
        ["stopped"]
    );

    // 21211: not a phone number → failed with its reason, a flag to check the number. Never retried.
    let wrong = h.enrol("wrongnum", INVALID, "en").await;
    h.runner
        .start_flow(&wrong, &lonely, None, IfBusy::Refuse, "navigator:test")
        .await
        .unwrap();
    h.settled(&wrong).await;
    assert_eq!(
        h.standin.requests_to(INVALID),
        [400, 400],
        "two messages, one request each"
    );
    let reasons = h
        .strings(&format!(
            "SELECT error FROM messages WHERE client_id = '{wrong}' AND direction = 'out'"
        ))
        .await;
    assert!(
        reasons
            .iter()
            .all(|r| r.contains("21211") && r.contains("not a valid phone number")),
        "{reasons:?}"
    );
    assert_eq!(
        h.strings(&format!(
            "SELECT kind FROM flags WHERE client_id = '{wrong}'"
        ))
        .await,
        ["wrong-number"],
        "one flag, not one per message"
    );
    let record = record::read(&h.runner.db, &wrong, "navigator:test", 0)
        .await
        .unwrap()
        .unwrap();
    assert!(
        record.messages.iter().any(
            |m| m.status == "failed" && m.error.as_deref().is_some_and(|e| e.contains("21211"))
        )
    );

    // 20429 every time: retried up to the limit with backoff, then failed with the reason.
    let busy = h.enrol("busy", BUSY, "en").await;
    h.runner
        .start_flow(&busy, &lonely, None, IfBusy::Refuse, "navigator:test")
        .await
        .unwrap();
    h.settled(&busy).await;
    assert_eq!(
        h.standin.requests_to(BUSY),
        [429; 6],
        "3 attempts for each of 2 messages"
    );
    let reasons = h
        .strings(&format!(
            "SELECT error FROM messages WHERE client_id = '{busy}' AND direction = 'out'"
        ))
        .await;
    assert!(
        reasons
            .iter()
            .all(|r| r.contains("gave up after 3 attempts") && r.contains("20429")),
        "{reasons:?}"
    );

    // 20429 twice, then accepted.
    let flaky = "+15145550126";
    h.standin.busy_for(flaky, 2);
    let f = h.enrol("flaky", flaky, "en").await;
    h.texts(flaky, "hello").await;
    h.settled(&f).await;
    assert_eq!(h.standin.requests_to(flaky), [429, 429, 201]);
    assert_eq!(
        h.strings(&format!(
            "SELECT status FROM messages WHERE client_id = '{f}' AND direction = 'out'"
        ))
        .await,
        ["sent"]
    );

    // 30003 again and again: a flag after the third failure, and only one.
    let far = "+15145550127";
    h.standin
        .outcome(far, &[("sent", None), ("undelivered", Some("30003"))]);
    let u = h.enrol("far", far, "en").await;
    h.runner
        .start_flow(&u, &lonely, None, IfBusy::Refuse, "navigator:test")
        .await
        .unwrap();
    h.standin.wait_for(h.standin.sent().len()).await;
    h.settled(&u).await;
    h.standin.flush_callbacks().await;
    let sql =
        format!("SELECT COUNT(*) FROM flags WHERE client_id = '{u}' AND kind = 'unreachable'");
    let flags = || h.scalar(&sql);
    assert_eq!(flags().await, 0, "two failures are not yet a pattern");
    h.texts(far, "2").await;
    h.settled(&u).await;
    h.texts(far, "2").await;
    h.settled(&u).await;
    h.standin.flush_callbacks().await;
    assert_eq!(flags().await, 1);
    let errors = h
        .strings(&format!(
            "SELECT error FROM messages WHERE client_id = '{u}' AND direction = 'out'"
        ))
        .await;
    assert!(errors.iter().all(|e| e.contains("30003")), "{errors:?}");
    assert_eq!(h.standin.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn replies_go_ahead_of_bulk_and_nothing_queued_reaches_a_client_who_stopped() {
    // No dispatcher here: the outbox is read as a dispatcher would.
    let db = "sqlite::memory:";
    let cfg = Config {
        database_url: db.into(),
        ..Config::default()
    };
    let runner = matters::app::build(&cfg, Arc::new(ManualClock::new(chrono::Utc::now())))
        .await
        .unwrap();
    let now = to_ms(runner.clock.now());
    let lonely = FlowId::parse("loneliness").unwrap();
    let mut clients = Vec::new();
    for (k, phone) in ["+15145550131", "+15145550132", "+15145550133"]
        .iter()
        .enumerate()
    {
        let c = ClientId::parse(&format!("c{k}")).unwrap();
        let new = NewClient {
            id: c.clone(),
            language: Locale::parse("en").unwrap(),
            time_zone: chrono_tz::America::Toronto,
            chart_number: None,
            reach: Some((Channel::Sms, (*phone).to_owned())),
            centre: matters::domain::DEFAULT_CENTRE.into(),
        };
        record::add_client(&runner.db, &new, now, "t")
            .await
            .unwrap();
        clients.push(c);
    }
    // Bulk: surveys started for c0 and c1.
    for c in &clients[..2] {
        runner
            .start_flow(c, &lonely, None, IfBusy::Refuse, "t")
            .await
            .unwrap();
    }
    // c2 texts in: its reply is queued last but claimed first.
    let mut m =
        matters::runner::Inbound::new(Channel::Sms, clients[2].clone(), Some("SMx".into()), "help");
    m.address = Some("+15145550133".into());
    runner.receive(&m).await.unwrap();
    let first = delivery::claim(&runner.db, "sms", 1, now).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].client.as_deref(), Some("c2"));
    assert_eq!(first[0].address, "+15145550133");
    assert_eq!(first[0].priority, 0);
    // c0 stops before its survey left: only the confirmation goes.
    let mut stop =
        matters::runner::Inbound::new(Channel::Sms, clients[0].clone(), Some("SMy".into()), "STOP");
    stop.address = Some("+15145550131".into());
    runner.receive(&stop).await.unwrap();
    assert!(
        delivery::suppress_opted_out(&runner.db, "sms", now)
            .await
            .unwrap()
            >= 2
    );
    let rest = delivery::claim(&runner.db, "sms", 100, now).await.unwrap();
    let to_c0: Vec<_> = rest
        .iter()
        .filter(|m| m.client.as_deref() == Some("c0"))
        .collect();
    assert_eq!(to_c0.len(), 1, "{rest:?}");
    assert!(
        to_c0[0].body.contains("not get any more messages"),
        "{}",
        to_c0[0].body
    );
    assert_eq!(to_c0[0].priority, 0, "the confirmation is a reply");
    assert!(rest.iter().any(|m| m.client.as_deref() == Some("c1")));
    let order: Vec<i64> = rest.iter().map(|m| m.priority).collect();
    assert!(order.is_sorted(), "replies first: {order:?}");
    // Claimed rows are not claimed twice.
    assert!(
        delivery::claim(&runner.db, "sms", 100, now)
            .await
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_partial_twilio_configuration_names_what_is_missing() {
    let mut cfg = Config::default();
    assert!(
        TwilioConfig::from_config(&cfg).unwrap().is_none(),
        "none of it: SMS is off"
    );
    cfg.twilio.account_sid = Some(SID.into());
    cfg.twilio.from = Some(OURS.into());
    let e = TwilioConfig::from_config(&cfg).unwrap_err();
    assert!(
        e.contains("TWILIO_AUTH_TOKEN") && e.contains("MATTERS_PUBLIC_URL"),
        "{e}"
    );
    assert!(!e.contains("TWILIO_ACCOUNT_SID and"), "{e}");
    cfg.twilio.auth_token = Some(TOKEN.into());
    cfg.public_url = Some("https://matters.example.org/".into());
    let ok = TwilioConfig::from_config(&cfg).unwrap().unwrap();
    assert_eq!(
        ok.webhook_url("/webhooks/twilio/sms"),
        "https://matters.example.org/webhooks/twilio/sms"
    );
    assert_eq!(
        ok.segments_per_second,
        Some(1.0),
        "a long code: one segment a second"
    );
    assert!(!format!("{ok:?}").contains(TOKEN), "the token never prints");
    cfg.twilio.account_sid = Some("AC123".into());
    assert!(
        TwilioConfig::from_config(&cfg)
            .unwrap_err()
            .contains("TWILIO_ACCOUNT_SID")
    );
}

#[tokio::test]
async fn with_the_database_down_webhooks_answer_5xx_so_twilio_retries() {
    let h = harness("sqlite::memory:", false).await;
    h.runner.db.close().await;
    let (code, _) = h.texts("+15145550123", "Bonjour").await;
    assert_eq!(code, 503, "Twilio retries a 5xx");
    let (code, _) = h
        .post(
            "/webhooks/twilio/status",
            &[("MessageSid", "SM1"), ("MessageStatus", "delivered")],
            Some(TOKEN),
        )
        .await;
    assert_eq!(code, 503);
}

#[test]
fn every_form_we_send_is_valid_against_twilios_openapi_description() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("protocols/twilio/create_message.json")).unwrap();
    let mut cfg = Config {
        public_url: Some("https://matters.example.org".into()),
        ..Config::default()
    };
    cfg.twilio.account_sid = Some(SID.into());
    cfg.twilio.auth_token = Some(TOKEN.into());
    cfg.twilio.messaging_service_sid = Some("MG0123456789abcdef0123456789abcdef".into());
    cfg.twilio.validity_period = Some(3600);
    let service = Client::new(TwilioConfig::from_config(&cfg).unwrap().unwrap()).unwrap();
    cfg.twilio.messaging_service_sid = None;
    cfg.twilio.validity_period = None;
    cfg.twilio.from = Some("514-555-9999".into());
    let number = Client::new(TwilioConfig::from_config(&cfg).unwrap().unwrap()).unwrap();
    for (client, body) in [
        (
            &service,
            "À quelle fréquence vous sentez-vous seul(e)? 1 Souvent 2 Parfois",
        ),
        (&number, "How often do you feel left out? & < > \"quoted\""),
        (&number, &"long ".repeat(300)),
    ] {
        let form: Vec<(String, String)> = client
            .form("+15145550123", body)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let problems = support::twilio::validate(&schema, SID, &form);
        assert!(problems.is_empty(), "{problems:?}\n{form:?}");
    }
    let with_service = service.form("+15145550123", "x");
    assert!(
        with_service
            .iter()
            .any(|(k, v)| *k == "MessagingServiceSid" && v.starts_with("MG"))
    );
    assert!(
        with_service
            .iter()
            .any(|(k, v)| *k == "ValidityPeriod" && v == "3600")
    );
    let plain = number.form("+15145550123", "x");
    assert!(
        plain
            .iter()
            .any(|(k, v)| *k == "From" && v == "+15145559999")
    );
    assert!(plain.iter().any(|(k, v)| *k == "StatusCallback"
        && v == "https://matters.example.org/webhooks/twilio/status"));
    // And the checker is not a rubber stamp.
    let bad = vec![
        ("To".to_owned(), "+15145550123".to_owned()),
        ("MessagingServiceSid".to_owned(), "MG123".to_owned()),
        ("Body".to_owned(), "x".to_owned()),
        ("ValidityPeriod".to_owned(), "soon".to_owned()),
        ("Colour".to_owned(), "blue".to_owned()),
    ];
    let problems = support::twilio::validate(&schema, SID, &bad);
    assert_eq!(problems.len(), 4, "{problems:?}");
    assert!(!support::twilio::validate(&schema, "AC123", &bad[..1]).is_empty());
}

// ---------------------------------------------------------------------------------------------
// A send cut off by a crash: in doubt, looked up at Twilio, never sent twice.

/// A message as a crashed process leaves it: claimed long ago, never recorded as sent.
async fn in_doubt(h: &Harness, client: &ClientId, phone: &str, body: &str) -> i64 {
    let long_ago = to_ms(h.runner.clock.now()) - 3_600_000;
    sqlx::query_scalar(
        "INSERT INTO messages (client_id, direction, channel, address, body, message_key, priority, status, status_rank, claimed_at, attempts, segments, created_at, updated_at) \
         VALUES ($1, 'out', 'sms', $2, $3, 'nudge-gentle', 1, 'sending', 1, $4, 1, 1, $4, $4) RETURNING id",
    )
    .bind(client.as_str())
    .bind(phone)
    .bind(body)
    .bind(long_ago)
    .fetch_one(h.runner.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_send_cut_off_by_a_crash_is_looked_up_at_twilio_and_never_sent_twice() {
    let h = harness_with("sqlite::memory:", false, 1).await;
    let twilio = Client::new(
        TwilioConfig::from_config(&Config {
            public_url: Some(h.base.clone()),
            twilio: TwilioSettings {
                account_sid: Some(SID.into()),
                auth_token: Some(TOKEN.into()),
                from: Some(OURS.into()),
                api_base: h.standin.base.clone(),
                ..TwilioSettings::default()
            },
            ..Config::default()
        })
        .unwrap()
        .unwrap(),
    )
    .unwrap();
    let phone = "+15145550201";
    let client = h.enrol("crash-1", phone, "en").await;
    // An earlier message with the same words went out and is recorded with its SID.
    let earlier = twilio
        .create_message(phone, "Just a reminder")
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO messages (client_id, direction, channel, address, body, priority, status, status_rank, provider_id, created_at, updated_at) \
         VALUES ($1, 'out', 'sms', $2, 'Just a reminder', 1, 'delivered', 20, $3, 0, 0)",
    )
    .bind(client.as_str())
    .bind(phone)
    .bind(&earlier.provider_id)
    .execute(h.runner.db.pool())
    .await
    .unwrap();
    // 1. Twilio took it, then the process died before it recorded the SID.
    let reached = twilio.create_message(phone, "Did you go?").await.unwrap();
    let a = in_doubt(&h, &client, phone, "Did you go?").await;
    // 2. The process died before Twilio saw it; Twilio holds the same words from before,
    //    but that SID is another message's.
    let b = in_doubt(&h, &client, phone, "Just a reminder").await;
    h.settled(&client).await;

    let sent_to = h.standin.sent_to(phone);
    let bodies: Vec<&str> = sent_to.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(
        bodies,
        ["Just a reminder", "Did you go?", "Just a reminder"],
        "the one Twilio had is not sent again; the one it did not have is"
    );
    let sid_a: String = sqlx::query_scalar("SELECT provider_id FROM messages WHERE id = $1")
        .bind(a)
        .fetch_one(h.runner.db.pool())
        .await
        .unwrap();
    assert_eq!(sid_a, reached.provider_id);
    let sid_b: String = sqlx::query_scalar("SELECT provider_id FROM messages WHERE id = $1")
        .bind(b)
        .fetch_one(h.runner.db.pool())
        .await
        .unwrap();
    assert_eq!(sid_b, sent_to[2].sid);
    assert_ne!(sid_b, earlier.provider_id);
    // Each look-up asked Twilio by To and From, and was valid against its OpenAPI description.
    let lookups = h.standin.lookups();
    assert_eq!(lookups.len(), 2, "{lookups:?}");
    for q in &lookups {
        assert!(q.contains(&("To".into(), phone.into())), "{q:?}");
        assert!(q.contains(&("From".into(), OURS.into())), "{q:?}");
        assert!(!q.iter().any(|(k, _)| k.starts_with("DateSent")), "{q:?}");
    }
    assert!(
        h.standin.violations().is_empty(),
        "{:?}",
        h.standin.violations()
    );
}

#[tokio::test]
async fn the_message_list_we_read_is_twilios_shape_and_our_query_its_parameters() {
    let h = harness("sqlite::memory:", false).await;
    let phone = "+15145550202";
    h.surveyed("lister", phone).await;
    // The stand-in's answer, checked against List Message's response schema.
    let resp = reqwest::Client::new()
        .get(format!(
            "{}/2010-04-01/Accounts/{SID}/Messages.json?To=%2B15145550202&From=%2B15145559999&PageSize=1",
            h.standin.base
        ))
        .basic_auth(SID, Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let page: serde_json::Value = resp.json().await.unwrap();
    let schema = h.standin.list_response_schema();
    let validator = jsonschema::validator_for(&openapi_to_json_schema(&schema)).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&page)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{page:#}");
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
    assert!(
        page["next_page_uri"].is_string(),
        "more than one page: {page:#}"
    );
    // A query that is not Twilio's is refused, and counted as a violation.
    let resp = reqwest::Client::new()
        .get(format!(
            "{}/2010-04-01/Accounts/{SID}/Messages.json?To=%2B12&PageSize=5000&Colour=blue",
            h.standin.base
        ))
        .basic_auth(SID, Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        h.standin.violations().len(),
        3,
        "{:?}",
        h.standin.violations()
    );
}

/// OpenAPI 3.0's `nullable` as JSON Schema's `type: [t, "null"]`, everywhere in `schema`.
fn openapi_to_json_schema(schema: &serde_json::Value) -> serde_json::Value {
    match schema {
        serde_json::Value::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                if k == "nullable" || k == "format" {
                    continue;
                }
                out.insert(k.clone(), openapi_to_json_schema(v));
            }
            if m.get("nullable") == Some(&serde_json::Value::Bool(true))
                && let Some(t) = m.get("type").and_then(|t| t.as_str())
            {
                out.insert("type".into(), serde_json::json!([t, "null"]));
                if let Some(serde_json::Value::Array(e)) = out.get_mut("enum") {
                    e.push(serde_json::Value::Null);
                }
            }
            serde_json::Value::Object(out)
        }
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.iter().map(openapi_to_json_schema).collect())
        }
        v => v.clone(),
    }
}

#[tokio::test]
async fn an_inbound_sid_equal_to_an_outbound_one_is_recorded_as_the_message_it_is() {
    let h = harness("sqlite::memory:", false).await;
    let phone = "+15145550203";
    let client = h.surveyed("same-sid", phone).await;
    let outbound: String = sqlx::query_scalar(
        "SELECT provider_id FROM messages WHERE client_id = $1 AND direction = 'out' ORDER BY id LIMIT 1",
    )
    .bind(client.as_str())
    .fetch_one(h.runner.db.pool())
    .await
    .unwrap();
    // The client's reply, and a text from an unknown number, both carrying that SID.
    let (code, _) = h.texts_with(phone, "2", &outbound, &[]).await;
    assert_eq!(code, 200);
    let (code, _) = h.texts_with("+15145550299", "hello?", &outbound, &[]).await;
    assert_eq!(code, 200);
    let inbound = h
        .scalar(&format!(
            "SELECT COUNT(*) FROM messages WHERE direction = 'in' AND provider_id = '{outbound}'"
        ))
        .await;
    assert_eq!(
        inbound, 1,
        "the client's reply; the second is a replay of the same SID"
    );
    let answers = h
        .scalar(&format!(
            "SELECT COUNT(*) FROM answers WHERE client_id = '{client}'"
        ))
        .await;
    assert_eq!(answers, 1);
}

/// Centres of one deployment: a centre with a number of its own texts its clients from it, one
/// with a messaging service through it, the default centre from the configured number; a text
/// from an unknown number waits in the inbox of the centre whose number it reached. Every
/// request is valid against Twilio's OpenAPI description.
async fn each_centre_texts_from_its_own_sender(h: &Harness) {
    use matters::centres::{self, NewCentre};
    const NORTH: &str = "+15145550400";
    let service = format!("MG{}", "1".repeat(32));
    for (id, from, ms) in [
        ("north", Some(NORTH.to_owned()), None),
        ("east", None, Some(service.clone())),
    ] {
        centres::add(
            &h.runner.db,
            NewCentre {
                id: id.into(),
                name: format!("{id} CHC"),
                time_zone: "America/Toronto".into(),
                default_language: "en".into(),
                twilio_from: from,
                twilio_messaging_service: ms,
                ..NewCentre::default()
            },
            "cli",
            0,
        )
        .await
        .unwrap();
    }
    let phones = [
        ("amelie", "+15145550501", "default"),
        ("zoe", "+15145550502", "north"),
        ("yan", "+15145550503", "east"),
    ];
    for (id, phone, centre) in phones {
        h.enrol(id, phone, "en").await;
        sqlx::query("UPDATE clients SET centre_id = $1 WHERE id = $2")
            .bind(centre)
            .bind(id)
            .execute(h.runner.db.pool())
            .await
            .unwrap();
        let (code, _) = h.texts(phone, "Hello").await;
        assert_eq!(code, 200);
    }
    h.standin.wait_for(3).await;
    let one = |phone: &str| {
        let sent = h.standin.sent_to(phone);
        assert_eq!(sent.len(), 1, "{phone}: {sent:?}");
        sent.into_iter().next().unwrap()
    };
    let a = one(phones[0].1);
    assert_eq!(a.from.as_deref(), Some(OURS));
    assert_eq!(a.messaging_service_sid, None);
    let z = one(phones[1].1);
    assert_eq!(z.from.as_deref(), Some(NORTH));
    assert_eq!(z.messaging_service_sid, None);
    let y = one(phones[2].1);
    assert_eq!(y.from, None);
    assert_eq!(y.messaging_service_sid.as_deref(), Some(service.as_str()));
    assert!(
        h.standin.violations().is_empty(),
        "{:?}",
        h.standin.violations()
    );
    // An unknown number texts north's number: north's inbox holds it, the default centre's not.
    let params: Vec<(&str, &str)> = vec![
        ("MessageSid", "SMin000000000000000000000000north"),
        ("AccountSid", SID),
        ("From", "+15145550999"),
        ("To", NORTH),
        ("Body", "who is this"),
    ];
    let (code, _) = h.post("/webhooks/twilio/sms", &params, Some(TOKEN)).await;
    assert_eq!(code, 200);
    let north = delivery::unmatched(&h.runner.db, Some("north"), 10, 0, "test")
        .await
        .unwrap();
    assert_eq!(north.len(), 1);
    assert_eq!(north[0].body, "who is this");
    let default = delivery::unmatched(&h.runner.db, Some("default"), 10, 0, "test")
        .await
        .unwrap();
    assert!(default.iter().all(|m| m.body != "who is this"));
    a_centre_with_its_own_account(h).await;
}

/// A centre with a Twilio account of its own: its texts go through that account with its
/// token (read from a file only its owner reads), its webhooks and status callbacks are taken
/// when signed with its token and refused when signed with another, and a token rotated in the
/// file is picked up without a restart.
async fn a_centre_with_its_own_account(h: &Harness) {
    use matters::centres::{self, NewCentre};
    use std::os::unix::fs::PermissionsExt;
    const WEST: &str = "+15145550600";
    const WEST_SID: &str = "AC0000000000000000000000000000beef";
    const WEST_TOKEN: &str = "0123456789abcdef0123456789abcdef";
    const ROTATED: &str = "fedcba9876543210fedcba9876543210";
    const WES: &str = "+15145550601";
    let dir = std::env::temp_dir().join(format!(
        "matters-twilio-{}-{}",
        std::process::id(),
        h.base.rsplit(':').next().unwrap()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("west.token");
    std::fs::write(&file, format!("{WEST_TOKEN}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    h.standin.add_account(WEST_SID, WEST_TOKEN);
    centres::add(
        &h.runner.db,
        NewCentre {
            id: "west".into(),
            name: "West CHC".into(),
            time_zone: "America/Toronto".into(),
            default_language: "en".into(),
            twilio_from: Some(WEST.into()),
            twilio_account_sid: Some(WEST_SID.into()),
            twilio_auth_token_file: Some(file.to_str().unwrap().into()),
            ..NewCentre::default()
        },
        "cli",
        0,
    )
    .await
    .unwrap();
    // Nothing of the token is in the database: only where its file is.
    let stored = h
        .strings("SELECT COALESCE(twilio_account_sid, '') || ' ' || COALESCE(twilio_auth_token_file, '') FROM centres WHERE id = 'west'")
        .await;
    assert_eq!(stored, vec![format!("{WEST_SID} {}", file.display())]);
    h.enrol("wes", WES, "en").await;
    sqlx::query("UPDATE clients SET centre_id = 'west' WHERE id = 'wes'")
        .execute(h.runner.db.pool())
        .await
        .unwrap();
    let text = |sid: &'static str, account: &'static str| {
        vec![
            ("MessageSid", sid),
            ("AccountSid", account),
            ("From", WES),
            ("To", WEST),
            ("Body", "Hello"),
        ]
    };
    // West's account, signed with the deployment's token, or an account nobody has: refused.
    for (params, token) in [
        (text("SMin00000000000000000000000west0", WEST_SID), TOKEN),
        (
            text(
                "SMin00000000000000000000000west0",
                "AC00000000000000000000000000000bad",
            ),
            WEST_TOKEN,
        ),
    ] {
        let (code, _) = h.post("/webhooks/twilio/sms", &params, Some(token)).await;
        assert_eq!(code, 403);
    }
    let before = h.standin.sent_count();
    let (code, _) = h
        .post(
            "/webhooks/twilio/sms",
            &text("SMin00000000000000000000000west1", WEST_SID),
            Some(WEST_TOKEN),
        )
        .await;
    assert_eq!(code, 200);
    h.standin.wait_for(before + 1).await;
    let sent = h.standin.sent_to(WES);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].account, WEST_SID, "sent through west's own account");
    assert_eq!(sent[0].from.as_deref(), Some(WEST));
    // Its status callbacks come signed with west's token, and are taken.
    let codes = h.standin.flush_callbacks().await;
    assert!(
        !codes.is_empty() && codes.iter().all(|c| *c == 204),
        "{codes:?}"
    );
    assert_eq!(
        h.strings("SELECT status FROM messages WHERE client_id = 'wes' AND direction = 'out'")
            .await,
        vec!["delivered".to_owned()]
    );
    // The token is rotated in Twilio's console and in the file: the next text goes with it.
    h.standin.add_account(WEST_SID, ROTATED);
    std::fs::write(&file, format!("{ROTATED}\n")).unwrap();
    let (code, _) = h
        .post(
            "/webhooks/twilio/sms",
            &text("SMin00000000000000000000000west2", WEST_SID),
            Some(ROTATED),
        )
        .await;
    assert_eq!(
        code, 200,
        "a webhook signed with the rotated token is taken"
    );
    assert_eq!(
        h.scalar("SELECT COUNT(*) FROM messages WHERE client_id = 'wes' AND direction = 'in'")
            .await,
        2
    );
    // Rotated again with no webhook in between: the dispatcher's first try is refused (401),
    // it reads the file again and sends with the new token.
    const AGAIN: &str = "00112233445566778899aabbccddeeff";
    h.standin.add_account(WEST_SID, AGAIN);
    std::fs::write(&file, format!("{AGAIN}\n")).unwrap();
    h.runner
        .start_flow(
            &ClientId::parse("wes").unwrap(),
            &FlowId::parse("loneliness").unwrap(),
            None,
            IfBusy::Replace,
            "test",
        )
        .await
        .unwrap();
    h.standin.wait_for(before + 3).await;
    let sent = h.standin.sent_to(WES);
    assert!(sent.len() >= 3, "{sent:?}");
    assert!(sent.iter().all(|s| s.account == WEST_SID));
    assert_eq!(
        h.scalar("SELECT COUNT(*) FROM messages WHERE client_id = 'wes' AND status = 'failed'")
            .await,
        0
    );
    assert!(
        h.standin.violations().is_empty(),
        "{:?}",
        h.standin.violations()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn each_centre_texts_from_its_own_sender_on_sqlite() {
    let h = harness("sqlite::memory:", false).await;
    each_centre_texts_from_its_own_sender(&h).await;
}

#[tokio::test]
async fn each_centre_texts_from_its_own_sender_on_postgres() {
    let Some((url, _schema, _admin)) = support::pg::postgres().await else {
        return;
    };
    let h = harness(&url, false).await;
    each_centre_texts_from_its_own_sender(&h).await;
}
