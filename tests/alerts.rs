//! Urgent flags reach a person: a crisis text at 23:00 on a Saturday is emailed and texted to
//! the person on call within a minute of virtual time, goes to the next on-call person after 15
//! unacknowledged minutes and then to every administrator, and is acknowledged by its link or
//! by a reply "OK" from a staff phone. Mail goes to a local SMTP server (tests/support/smtp.rs)
//! through lettre; texts to the Twilio stand-in, checked against Twilio's OpenAPI description.
//! No alert carries the client's name, id, number or words.

mod support;

use axum::http::StatusCode;
use chrono::DateTime;
use matters::alerts::{Alerter, Sms};
use matters::channel::twilio::{Client, TwilioConfig};
use matters::clock::{Clock, ManualClock, to_ms};
use matters::config::{AlertSettings, Config, OnCall, TwilioSettings};
use matters::domain::{Channel, ClientId, Locale};
use matters::staff::{self, Role};
use matters::store::record::{self, NewClient, NewReferral};
use std::sync::Arc;
use support::smtp::MailServer;
use support::twilio::{StandIn, sign};
use support::web::Web;

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "f00dfeedf00dfeedf00dfeedf00dfeed";
const OURS: &str = "+15145559999";
const CLIENT_PHONE: &str = "+15145550123";
const CRISIS_WORDS: &str = "I can't go on, I want to end my life tonight";

const NORA_PHONE: &str = "+16135550101";
const OMAR_PHONE: &str = "+16135550102";
const ADA_PHONE: &str = "+16135550104";

struct Rig {
    web: Web,
    clock: ManualClock,
    alerter: Alerter,
    mail: MailServer,
    sms: StandIn,
    base: String,
    http: reqwest::Client,
    n: std::sync::atomic::AtomicUsize,
    client: ClientId,
}

/// Saturday 5 December 2026, 23:00 in Toronto.
const SATURDAY_NIGHT: &str = "2026-12-06T04:00:00Z";
/// Monday 7 December 2026, 10:00 in Toronto.
const MONDAY_MORNING: &str = "2026-12-07T15:00:00Z";

async fn rig(start: &str) -> Rig {
    rig_on(start, "sqlite::memory:").await
}

async fn rig_on(start: &str, db: &str) -> Rig {
    let mail = MailServer::start().await;
    let sms = StandIn::start(SID, TOKEN, true).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let cfg = Config {
        database_url: db.into(),
        public_url: Some(base.clone()),
        centre_name: "CSC Centre-Ville".into(),
        twilio: TwilioSettings {
            account_sid: Some(SID.into()),
            auth_token: Some(TOKEN.into()),
            from: Some(OURS.into()),
            api_base: sms.base.clone(),
            segments_per_second: Some(0.0),
            ..TwilioSettings::default()
        },
        alerts: AlertSettings {
            enabled: true,
            smtp_url: Some(mail.url()),
            from: "matters alerts <alerts@csc.example>".into(),
            on_call: vec![
                OnCall {
                    staff: "omar".into(),
                    days: "Sat-Sun".into(),
                    hours: "00:00-24:00".into(),
                },
                OnCall {
                    staff: "priya".into(),
                    days: "every day".into(),
                    hours: "17:00-09:00".into(),
                },
            ],
            ..AlertSettings::default()
        },
        ..Config::default()
    };
    let twilio = TwilioConfig::from_config(&cfg).unwrap().unwrap();
    let clock = ManualClock::new(DateTime::parse_from_rfc3339(start).unwrap().to_utc());
    let runner = Arc::new(
        matters::app::build(&cfg, Arc::new(clock.clone()))
            .await
            .unwrap(),
    );
    let state = matters::web::AppState::new(runner.clone())
        .with_web(&cfg)
        .with_twilio(twilio.clone());
    let app = matters::web::app(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let web = Web::from_state(state, clock.clone());
    let db = &runner.db;
    let now = to_ms(clock.now());
    let nora = web.staff("nora", Role::Navigator).await;
    let omar = web.staff("omar", Role::Navigator).await;
    let priya = web.staff("priya", Role::Navigator).await;
    let ada = web.staff("ada", Role::Admin).await;
    let _quiet = web.staff("sam", Role::Navigator).await; // no contact: never alerted
    for (s, email, phone) in [
        (&nora, "nora@csc.example", NORA_PHONE),
        (&omar, "omar@csc.example", OMAR_PHONE),
        (&priya, "priya@csc.example", ""),
        (&ada, "ada@csc.example", ADA_PHONE),
    ] {
        staff::set_contact(db, s.id, email, phone, "", now, "cli")
            .await
            .unwrap();
    }
    let client = ClientId::parse("amelie").unwrap();
    record::add_client(
        db,
        &NewClient {
            id: client.clone(),
            language: Locale::parse("fr").unwrap(),
            time_zone: chrono_tz::America::Toronto,
            chart_number: Some("HC-0042".into()),
            reach: Some((Channel::Sms, CLIENT_PHONE.into())),
            centre: matters::domain::DEFAULT_CENTRE.into(),
        },
        now,
        "navigator:test",
    )
    .await
    .unwrap();
    record::add_referral(db, &client, &NewReferral::default(), now, "navigator:test")
        .await
        .unwrap();
    sqlx::query("UPDATE clients SET navigator_id = $1, display_name = 'Amélie Tremblay' WHERE id = 'amelie'")
        .bind(nora.id)
        .execute(db.pool())
        .await
        .unwrap();
    let alerter = Alerter::new(
        runner.clone(),
        &cfg,
        Some(Sms::new(Arc::new(Client::new(twilio).unwrap()))),
    )
    .unwrap();
    Rig {
        web,
        clock,
        alerter,
        mail,
        sms,
        base,
        http: reqwest::Client::new(),
        n: std::sync::atomic::AtomicUsize::new(0),
        client,
    }
}

impl Rig {
    /// A text to our number from `from`, signed as Twilio signs it: our answer's status and body.
    async fn texts(&self, from: &str, body: &str) -> (u16, String) {
        let k = self.n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let sid = format!("SMin{k:030}");
        let params: Vec<(String, String)> = [
            ("MessageSid", sid.as_str()),
            ("AccountSid", SID),
            ("From", from),
            ("To", OURS),
            ("Body", body),
            ("NumSegments", "1"),
            ("ApiVersion", "2010-04-01"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let url = format!("{}/webhooks/twilio/sms", self.base);
        let resp = self
            .http
            .post(&url)
            .header("X-Twilio-Signature", sign(TOKEN, &url, &params))
            .form(&params)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    fn advance(&self, secs: i64) {
        self.clock.advance(chrono::Duration::seconds(secs));
    }

    /// Texts to staff phones the stand-in took (not the client's replies).
    fn staff_texts(&self, to: &str) -> Vec<String> {
        self.sms.sent_to(to).into_iter().map(|s| s.body).collect()
    }

    async fn alert_status(&self) -> (String, i64) {
        sqlx::query_as("SELECT status, level FROM alerts ORDER BY id DESC LIMIT 1")
            .fetch_one(self.web.state.runner.db.pool())
            .await
            .unwrap()
    }
}

/// Nothing that names or quotes the client.
fn assert_no_client_data(text: &str) {
    for secret in [
        "amelie",
        "Amélie",
        "Tremblay",
        CLIENT_PHONE,
        "5550123",
        "HC-0042",
        "end my life",
        "go on",
    ] {
        assert!(
            !text.to_lowercase().contains(&secret.to_lowercase()),
            "an alert carries client data ({secret}):\n{text}"
        );
    }
}

#[tokio::test]
async fn a_crisis_on_saturday_night_reaches_the_on_call_person_then_the_next_then_every_admin() {
    let r = rig(SATURDAY_NIGHT).await;
    let texted_at = r.clock.now();
    let (status, _) = r.texts(CLIENT_PHONE, CRISIS_WORDS).await;
    assert_eq!(status, 200);
    // The alerter runs every second; a second of virtual time later it has sent.
    r.advance(1);
    assert_eq!(r.alerter.tick().await.unwrap(), 1);
    let omar = r.mail.to("omar@csc.example");
    assert_eq!(omar.len(), 1, "the on-call person is emailed");
    assert_eq!(r.staff_texts(OMAR_PHONE).len(), 1, "and texted");
    let sent_at: i64 = sqlx::query_scalar("SELECT MIN(at) FROM alert_sends")
        .fetch_one(r.web.state.runner.db.pool())
        .await
        .unwrap();
    let sent_at = matters::clock::from_ms(sent_at);
    assert!(
        sent_at - texted_at <= chrono::Duration::seconds(60),
        "the alert left {} after the text",
        sent_at - texted_at
    );
    // Nora works Monday to Friday: nothing reaches her on Saturday night; nor anyone else yet.
    assert!(r.mail.to("nora@csc.example").is_empty());
    assert!(r.staff_texts(NORA_PHONE).is_empty());
    assert_eq!(r.mail.mail().len(), 1);
    // What it says: the kind and a link, nothing of the client.
    let m = &omar[0];
    println!(
        "--- the alert email as the mail server received it ---\nMAIL FROM:<{}> RCPT TO:<{}>\n{}\n---",
        m.from,
        m.to.join(">, <"),
        m.data
    );
    assert_eq!(m.from, "alerts@csc.example");
    assert!(
        m.header("Subject").unwrap().contains("Crisis"),
        "{}",
        m.data
    );
    assert!(m.header("Date").is_some() && m.header("Message-ID").is_some());
    let body = m.body();
    let link = body
        .split_whitespace()
        .find(|w| w.contains("/alerts/"))
        .expect("a link to the alert")
        .to_owned();
    assert!(link.starts_with(&r.base), "{link}");
    assert_no_client_data(&m.data);
    assert_no_client_data(&body);
    for t in r.staff_texts(OMAR_PHONE) {
        assert!(t.contains(&link), "{t}");
        assert_no_client_data(&t);
    }
    assert!(r.sms.violations().is_empty(), "{:?}", r.sms.violations());

    // 14 minutes on, no one has acknowledged: it waits.
    r.advance(14 * 60);
    assert_eq!(r.alerter.tick().await.unwrap(), 0);
    assert_eq!(r.mail.mail().len(), 1);
    // At 15 minutes it goes to the next person on call.
    r.advance(60);
    assert_eq!(r.alerter.tick().await.unwrap(), 1);
    assert_eq!(r.mail.to("priya@csc.example").len(), 1);
    assert!(r.mail.to("ada@csc.example").is_empty());
    // 15 more: every administrator.
    r.advance(15 * 60);
    assert_eq!(r.alerter.tick().await.unwrap(), 1);
    assert_eq!(r.mail.to("ada@csc.example").len(), 1);
    assert_eq!(r.staff_texts(ADA_PHONE).len(), 1);
    let last = r.mail.to("ada@csc.example")[0].body();
    assert!(last.contains("every administrator"), "{last}");
    // That was the last level: nothing more, however long it waits.
    r.advance(3600);
    assert_eq!(r.alerter.tick().await.unwrap(), 0);
    assert_eq!(r.mail.mail().len(), 3);
    assert!(r.mail.to("sam@csc.example").is_empty());

    // The link works once signed in, for a recipient who is not the client's navigator.
    let path = link.strip_prefix(&r.base).unwrap().to_owned();
    let anon = r.web.other_browser();
    let p = anon.get(&path).await;
    assert!(
        p.status == StatusCode::SEE_OTHER || p.status == StatusCode::UNAUTHORIZED,
        "an alert's page needs sign-in: {}",
        p.status
    );
    r.web.sign_in("priya").await;
    let page = r.web.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.visible().contains("Crisis"), "{}", page.visible());
    let done = r.web.post(&format!("{path}/ack"), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some("/clients/amelie?done=alert-acked")
    );
    assert_eq!(r.alert_status().await.0, "acknowledged");
    // Priya may open the record she was alerted about, and it shows the alert.
    let rec = r.web.get("/clients/amelie?done=alert-acked").await;
    assert_eq!(rec.status, StatusCode::OK);
    let v = rec.visible();
    assert!(v.contains("Acknowledged by priya"), "{v}");
    assert!(v.contains("omar name"), "{v}");
    // Every step is in the audit log, on the client.
    let actions: Vec<String> = r
        .web
        .audit_actions(r.client.as_str())
        .await
        .into_iter()
        .map(|(_, action)| action)
        .collect();
    for want in ["alert-sent", "alert-escalated", "alert-acknowledged"] {
        assert!(actions.iter().any(|a| a == want), "{want} in {actions:?}");
    }
    // Sam, not alerted and not the navigator, is refused the alert, and the attempt audited.
    let sam = r.web.other_browser();
    sam.sign_in("sam").await;
    assert_eq!(sam.get(&path).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn on_postgres_the_alert_goes_out_escalates_and_is_acknowledged_by_a_reply() {
    let Some((url, _schema, _admin)) = support::pg::postgres().await else {
        return;
    };
    let r = rig_on(SATURDAY_NIGHT, &url).await;
    r.texts(CLIENT_PHONE, CRISIS_WORDS).await;
    r.advance(1);
    assert_eq!(r.alerter.tick().await.unwrap(), 1);
    assert_eq!(r.mail.to("omar@csc.example").len(), 1);
    r.advance(15 * 60);
    assert_eq!(r.alerter.tick().await.unwrap(), 1);
    assert_eq!(r.mail.to("priya@csc.example").len(), 1);
    let (_, twiml) = r.texts(OMAR_PHONE, "OK").await;
    assert!(twiml.contains("acknowledged"), "{twiml}");
    assert_eq!(r.alert_status().await.0, "acknowledged");
    r.web.sign_in("omar").await;
    let page = r.web.get("/clients/amelie").await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "an alerted person opens the record"
    );
    assert!(
        page.visible().contains("Acknowledged by omar"),
        "{}",
        page.visible()
    );
}

#[tokio::test]
async fn a_reply_ok_from_a_staff_phone_acknowledges_and_is_never_a_clients_message() {
    let r = rig(SATURDAY_NIGHT).await;
    r.texts(CLIENT_PHONE, CRISIS_WORDS).await;
    r.advance(1);
    r.alerter.tick().await.unwrap();
    let (_, level) = r.alert_status().await;
    assert_eq!(level, 1);
    let db = r.web.state.runner.db.pool();
    let messages_before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
        .fetch_one(db)
        .await
        .unwrap();
    let (status, twiml) = r.texts(OMAR_PHONE, " ok ").await;
    assert_eq!(status, 200);
    assert!(twiml.contains("<Message>"), "{twiml}");
    assert!(twiml.contains("acknowledged"), "{twiml}");
    assert_eq!(r.alert_status().await.0, "acknowledged");
    let messages_after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
        .fetch_one(db)
        .await
        .unwrap();
    assert_eq!(
        messages_before, messages_after,
        "a staff text is no one's message"
    );
    let unmatched: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE client_id IS NULL")
            .fetch_one(db)
            .await
            .unwrap();
    assert_eq!(unmatched, 0);
    // Acknowledged: it goes no further.
    r.advance(3600);
    assert_eq!(r.alerter.tick().await.unwrap(), 0);
    assert!(r.mail.to("priya@csc.example").is_empty());
    // Another word gets a hint, and changes nothing.
    let (_, hint) = r.texts(OMAR_PHONE, "who is this?").await;
    assert!(hint.contains("Reply OK"), "{hint}");
    // A staff number cannot be given to a client's record, nor a client's to staff.
    let omar = staff::list(&r.web.state.runner.db, None)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.username == "omar")
        .unwrap();
    let e = staff::set_contact(
        &r.web.state.runner.db,
        omar.id,
        "",
        CLIENT_PHONE,
        "",
        to_ms(r.clock.now()),
        "cli",
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("client"), "{e}");
}

#[tokio::test]
async fn in_working_hours_the_clients_navigator_hears_first_and_a_done_task_stops_the_alert() {
    let r = rig(MONDAY_MORNING).await;
    r.texts(CLIENT_PHONE, CRISIS_WORDS).await;
    r.advance(1);
    assert_eq!(r.alerter.tick().await.unwrap(), 1);
    assert_eq!(r.mail.to("nora@csc.example").len(), 1);
    assert!(r.mail.to("omar@csc.example").is_empty());
    // Nora's French? No: English staff get English, French staff French.
    sqlx::query("UPDATE staff SET language = 'fr' WHERE username = 'ada'")
        .execute(r.web.state.runner.db.pool())
        .await
        .unwrap();
    // Nora does the task before 15 minutes: the alert closes and goes no further.
    let flag: i64 = sqlx::query_scalar("SELECT id FROM flags WHERE kind = 'crisis'")
        .fetch_one(r.web.state.runner.db.pool())
        .await
        .unwrap();
    r.web.sign_in("nora").await;
    r.web.get("/clients/amelie").await;
    let p = r.web.post(&format!("/tasks/{flag}/resolve"), &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    r.advance(20 * 60);
    assert_eq!(r.alerter.tick().await.unwrap(), 0);
    assert_eq!(r.alert_status().await.0, "closed");
    assert_eq!(r.mail.mail().len(), 1);
    // No one on call on a weekday morning and Nora's task done; a second crisis with Nora's
    // account off goes straight to the administrators, in their language.
    sqlx::query("UPDATE staff SET active = 0 WHERE username = 'nora'")
        .execute(r.web.state.runner.db.pool())
        .await
        .unwrap();
    r.texts(CLIENT_PHONE, "suicide").await;
    r.advance(1);
    assert_eq!(r.alerter.tick().await.unwrap(), 1);
    let to_ada = r.mail.to("ada@csc.example");
    assert_eq!(to_ada.len(), 1);
    assert!(to_ada[0].body().contains("Crise"), "{}", to_ada[0].data);
}

#[tokio::test]
async fn serve_refuses_alerts_that_cannot_reach_anyone_and_says_why() {
    let r = rig(MONDAY_MORNING).await;
    assert!(r.alerter.check().await.is_ok());
    sqlx::query("UPDATE staff SET email = NULL, phone = NULL")
        .execute(r.web.state.runner.db.pool())
        .await
        .unwrap();
    let why = r.alerter.check().await.unwrap_err();
    assert!(why.contains("no one can receive them"), "{why}");
    assert!(why.contains("enabled = false"), "{why}");
    // And the test alert reaches everyone it can, naming no client.
    sqlx::query("UPDATE staff SET email = 'omar@csc.example' WHERE username = 'omar'")
        .execute(r.web.state.runner.db.pool())
        .await
        .unwrap();
    let sent = r.alerter.send_test(None).await.unwrap();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].2.is_ok(), "{:?}", sent[0]);
    let m = &r.mail.to("omar@csc.example")[0];
    assert!(m.header("Subject").unwrap().contains("Test"), "{}", m.data);

    // An administrator sets a contact on the Staff page; a bad value is said, and kept out.
    let nora: i64 = sqlx::query_scalar("SELECT id FROM staff WHERE username = 'nora'")
        .fetch_one(r.web.state.runner.db.pool())
        .await
        .unwrap();
    r.web.sign_in("ada").await;
    r.web.get("/staff").await;
    let form = format!("/staff/{nora}/contact");
    let bad = r
        .web
        .post(
            &form,
            &[
                ("email", "nora@csc.example"),
                ("phone", "12"),
                ("hours", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(bad.body.contains("class=\"error\""), "{}", bad.body);
    let ok = r
        .web
        .post(
            &form,
            &[
                ("email", "nora@csc.example"),
                ("phone", "(613) 555-0109"),
                ("hours", "lun-jeu 8 h 30-16 h 30"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let (phone, hours): (String, String) =
        sqlx::query_as("SELECT phone, working_hours FROM staff WHERE id = $1")
            .bind(nora)
            .fetch_one(r.web.state.runner.db.pool())
            .await
            .unwrap();
    assert_eq!(phone, "+16135550109");
    assert_eq!(hours, "lun-jeu 8 h 30-16 h 30");
    // A navigator cannot.
    let nav = r.web.other_browser();
    nav.sign_in("sam").await;
    nav.get("/today").await;
    let p = nav.post(&form, &[("email", "x@y.z")]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
}

/// On call for another centre is not on call for this client: Omar, moved to another centre,
/// is skipped; the next person on call of the client's centre hears first.
#[tokio::test]
async fn an_alert_goes_only_to_staff_of_the_clients_centre() {
    let r = rig(SATURDAY_NIGHT).await;
    let db = &r.web.state.runner.db;
    matters::centres::add(
        db,
        matters::centres::NewCentre {
            id: "north".into(),
            name: "North End CHC".into(),
            time_zone: "America/Toronto".into(),
            default_language: "en".into(),
            ..Default::default()
        },
        "cli",
        0,
    )
    .await
    .unwrap();
    sqlx::query("UPDATE staff SET centre_id = 'north' WHERE username = 'omar'")
        .execute(db.pool())
        .await
        .unwrap();
    let (status, _) = r.texts(CLIENT_PHONE, CRISIS_WORDS).await;
    assert_eq!(status, 200);
    r.advance(1);
    assert_eq!(r.alerter.tick().await.unwrap(), 1);
    assert!(
        r.mail.to("omar@csc.example").is_empty(),
        "another centre's on-call person"
    );
    assert!(r.staff_texts(OMAR_PHONE).is_empty());
    assert_eq!(
        r.mail.to("priya@csc.example").len(),
        1,
        "the client's centre's on call"
    );
}

/// Monday 7 December 2026, 17:30 in Toronto: 14:30 in Vancouver.
const MONDAY_TORONTO_EVENING: &str = "2026-12-07T22:30:00Z";

/// A centre's alerts keep its own clock and reach its own mailbox: in a Vancouver centre at
/// 14:30 (17:30 in the deployment's Toronto), the client's navigator is in working hours and
/// hears first, the evening on-call shift has not begun; then the administrators and the
/// centre's alert address hear, in words naming that centre and nothing of the client.
#[tokio::test]
async fn a_centres_alerts_keep_its_time_zone_and_reach_its_alert_address() {
    let r = rig(MONDAY_TORONTO_EVENING).await;
    let db = &r.web.state.runner.db;
    matters::centres::add(
        db,
        matters::centres::NewCentre {
            alert_email: Some("crisis-team@west.example".into()),
            ..west()
        },
        "cli",
        0,
    )
    .await
    .unwrap();
    move_to_west(db).await;
    let (status, _) = r.texts(CLIENT_PHONE, CRISIS_WORDS).await;
    assert_eq!(status, 200);
    r.advance(1);
    assert_eq!(r.alerter.tick().await.unwrap(), 1);
    assert_eq!(
        r.mail.to("nora@csc.example").len(),
        1,
        "14:30 in the client's centre: their navigator's working hours"
    );
    assert!(
        r.mail.to("priya@csc.example").is_empty(),
        "the 17:00 shift has not begun in Vancouver"
    );
    assert!(r.mail.to("crisis-team@west.example").is_empty());
    let subject = r.mail.to("nora@csc.example")[0]
        .header("Subject")
        .unwrap()
        .to_owned();
    assert!(subject.contains("West Coast CHC"), "{subject}");

    r.advance(15 * 60);
    assert_eq!(r.alerter.tick().await.unwrap(), 1);
    let team = r.mail.to("crisis-team@west.example");
    assert_eq!(
        team.len(),
        1,
        "the centre's alert address, with its administrators"
    );
    assert!(
        team[0]
            .header("Subject")
            .unwrap()
            .contains("West Coast CHC")
    );
    assert_no_client_data(&team[0].data);
    assert_no_client_data(&team[0].body());
    assert!(
        r.mail.to("omar@csc.example").is_empty(),
        "another centre's staff never hear"
    );
    let (staff, address): (Option<i64>, String) = sqlx::query_as(
        "SELECT staff_id, address FROM alert_sends WHERE address = 'crisis-team@west.example'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(
        (staff, address.as_str()),
        (None, "crisis-team@west.example")
    );
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'alert-escalated' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert!(detail.contains("crisis-team@west.example"), "{detail}");
    // Nora opens the alert: it says who was told, the centre's address among them.
    let id: i64 = sqlx::query_scalar("SELECT id FROM alerts ORDER BY id DESC LIMIT 1")
        .fetch_one(db.pool())
        .await
        .unwrap();
    r.web.sign_in("nora").await;
    let page = r.web.get(&format!("/alerts/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("crisis-team@west.example"),
        "{}",
        page.body
    );
    assert_eq!(r.alert_status().await, ("sent".to_owned(), 2));
}

/// The centre "west": in Vancouver, in English.
fn west() -> matters::centres::NewCentre {
    matters::centres::NewCentre {
        id: "west".into(),
        name: "West Coast CHC".into(),
        time_zone: "America/Vancouver".into(),
        default_language: "en".into(),
        ..Default::default()
    }
}

/// Nora, Priya and Amélie move to the centre "west".
async fn move_to_west(db: &matters::store::Db) {
    for q in [
        "UPDATE staff SET centre_id = 'west' WHERE username IN ('nora', 'priya')",
        "UPDATE clients SET centre_id = 'west' WHERE id = 'amelie'",
    ] {
        sqlx::query(q).execute(db.pool()).await.unwrap();
    }
}

#[tokio::test]
async fn a_centre_that_sets_its_own_escalation_moves_its_alerts_on_at_its_pace() {
    let r = rig(MONDAY_TORONTO_EVENING).await;
    let db = &r.web.state.runner.db;
    // Out of range is refused with the reason, and nothing is added.
    for bad in [0, 1441] {
        let e = matters::centres::add(
            db,
            matters::centres::NewCentre {
                crisis_escalate_minutes: Some(bad),
                ..west()
            },
            "cli",
            0,
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("give 1 to 1440"), "{e}");
    }
    let c = matters::centres::add(
        db,
        matters::centres::NewCentre {
            alert_email: Some("crisis-team@west.example".into()),
            crisis_escalate_minutes: Some(5),
            ..west()
        },
        "cli",
        0,
    )
    .await
    .unwrap();
    assert_eq!(
        (c.crisis_escalate_minutes, c.urgent_escalate_minutes),
        (Some(5), None)
    );
    move_to_west(db).await;
    let (status, _) = r.texts(CLIENT_PHONE, CRISIS_WORDS).await;
    assert_eq!(status, 200);
    r.advance(1);
    assert_eq!(r.alerter.tick().await.unwrap(), 1);
    let first = r.mail.to("nora@csc.example");
    assert_eq!(first.len(), 1);
    assert!(
        first[0].body().contains("within 5 minutes"),
        "the mail gives the centre's own minutes: {}",
        first[0].body()
    );
    // The deployment waits 15 minutes; this centre, 5.
    r.advance(4 * 60);
    assert_eq!(r.alerter.tick().await.unwrap(), 0, "not yet: 4 minutes");
    assert!(r.mail.to("crisis-team@west.example").is_empty());
    r.advance(60);
    assert_eq!(
        r.alerter.tick().await.unwrap(),
        1,
        "5 minutes: on to the next"
    );
    assert_eq!(r.mail.to("crisis-team@west.example").len(), 1);
    assert_eq!(r.alert_status().await, ("sent".to_owned(), 2));
}
