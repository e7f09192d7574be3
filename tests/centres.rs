//! Many centres in one deployment: staff, tokens, lists and exports of one centre hold nothing
//! of another's, by every route; a refusal is a 403 and an audit entry; a text finds its centre
//! by the number it reached; the group's report pools only the centres that share, small cells
//! suppressed. Run on SQLite and on the real Postgres (the scoping is SQL).

mod support;

use axum::http::StatusCode;
use matters::centres::{self, NewCentre};
use matters::channel::twilio::TwilioConfig;
use matters::clock::ManualClock;
use matters::config::{Config, TwilioSettings};
use matters::staff::{self, Membership, Role, Scope};
use matters::web::AppState;
use serde_json::json;
use std::sync::Arc;
use support::seed::{self, PASSWORD};
use support::web::{START, Web};

const PUBLIC: &str = "https://matters.example.org";
const SID: &str = "AC00000000000000000000000000000001";
const TOKEN: &str = "centres-test-auth-token";
const DEFAULT_NUMBER: &str = "+16135550100";
const NORTH_NUMBER: &str = "+16135550199";

/// A deployment of two centres: the default one (today's configuration) holding the seeded day
/// (Amélie, Bruno, Ada who administers every centre, Nora), and "north", with its own
/// administrator Bea, navigator Ben, client Zoé and tokens. Cora administers the default
/// centre only.
struct Two {
    w: Web,
    north_write: String,
    north_fhir: String,
    default_write: String,
    crisis_task: i64,
}

async fn two_centres(url: &str) -> Two {
    let cfg = Config {
        database_url: url.into(),
        centre_name: "CSC Centre-Ville".into(),
        public_url: Some(PUBLIC.into()),
        twilio: TwilioSettings {
            account_sid: Some(SID.into()),
            auth_token: Some(TOKEN.into()),
            from: Some(DEFAULT_NUMBER.into()),
            api_base: "http://127.0.0.1:9".into(),
            ..TwilioSettings::default()
        },
        ..Config::default()
    };
    let clock = ManualClock::new(
        chrono::DateTime::parse_from_rfc3339(START)
            .unwrap()
            .to_utc(),
    );
    let runner = matters::app::build(&cfg, Arc::new(clock.clone()))
        .await
        .unwrap();
    let state = AppState::new(Arc::new(runner))
        .with_web(&cfg)
        .with_twilio(TwilioConfig::from_config(&cfg).unwrap().unwrap());
    let w = Web::from_state(state, clock.clone());
    let seeded = seed::everything(&w.state.runner, &clock).await;
    let db = &w.state.runner.db;
    let now = w.now();
    let north = centres::add(
        db,
        NewCentre {
            id: "north".into(),
            name: "North End CHC".into(),
            time_zone: "America/Toronto".into(),
            default_language: "en".into(),
            twilio_from: Some(NORTH_NUMBER.into()),
            ..NewCentre::default()
        },
        "cli",
        now,
    )
    .await
    .unwrap();
    assert_eq!(north.id, "north");
    let home = Membership::of("north");
    for (user, role) in [("bea", Role::Admin), ("ben", Role::Navigator)] {
        staff::add_in(db, &home, user, user, role, Some(PASSWORD), now, "cli")
            .await
            .unwrap();
    }
    staff::add_in(
        db,
        &Membership::of("default"),
        "cora",
        "Cora",
        Role::Admin,
        Some(PASSWORD),
        now,
        "cli",
    )
    .await
    .unwrap();
    let token = |centre: &'static str, scope: Scope| async move {
        staff::issue_token_in(db, centre, "EMR", scope, "cli", now)
            .await
            .unwrap()
            .1
    };
    let north_write = token("north", Scope::Write).await;
    let north_fhir = token("north", Scope::Fhir).await;
    let default_write = token("default", Scope::Write).await;
    let default_fhir = token("default", Scope::Fhir).await;
    // A referral from the EMR to the default centre (a ServiceRequest and its Task).
    let p = w
        .api(
            "POST",
            "/fhir/ServiceRequest",
            Some(&default_fhir),
            Some(service_request()),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    // Zoé, added by Bea on the web: she belongs to Bea's centre.
    w.sign_in("bea").await;
    let p = w
        .add_client("zoe", &[("name", "Zoé Nord"), ("chart_number", "NE-0001")])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(
        centres::of_client(db, "zoe").await.unwrap().as_deref(),
        Some("north")
    );
    assert_eq!(
        centres::of_client(db, "amelie").await.unwrap().as_deref(),
        Some("default")
    );
    w.post("/logout", &[]).await;
    Two {
        w,
        north_write,
        north_fhir,
        default_write,
        crisis_task: seeded.crisis_task,
    }
}

fn service_request() -> serde_json::Value {
    json!({
        "resourceType": "ServiceRequest",
        "identifier": [{ "system": "urn:oid:2.16.840.1.113883.3.239.18", "value": "SR-C-1" }],
        "status": "active",
        "intent": "order",
        "subject": { "reference": "#p" },
        "authoredOn": "2026-06-01",
        "reasonCode": [{ "text": "Lives alone" }],
        "contained": [{
            "resourceType": "Patient",
            "id": "p",
            "identifier": [{ "system": "urn:chart", "value": "HC-7788" }],
            "name": [{ "family": "Gagnon", "given": ["Louise"] }],
            "telecom": [{ "system": "phone", "value": "+16135550177", "use": "mobile" }]
        }]
    })
}

async fn scalar(w: &Web, sql: &str) -> i64 {
    w.count(sql).await
}

async fn refusals(w: &Web, actor: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_log WHERE actor = $1 AND action = 'access-denied'",
    )
    .bind(actor)
    .fetch_one(w.state.runner.db.pool())
    .await
    .unwrap()
}

/// Words of the default centre's day that must never show to the other centre.
const DEFAULT_WORDS: &[&str] = &[
    "amelie",
    "Amélie",
    "Tremblay",
    "bruno",
    "HC-0042",
    "HC-7788",
    "Gagnon",
    "Nora Benali",
    "cafe-rencontre",
    "Café-rencontre",
];

fn holds_nothing_of(body: &str, words: &[&str], what: &str) {
    for word in words {
        assert!(!body.contains(word), "{what} shows {word:?}:\n{body}");
    }
}

async fn staff_of_one_centre_reach_nothing_of_another(t: &Two) {
    let w = &t.w;
    let db = &w.state.runner.db;
    w.sign_in("bea").await;
    let id_of = |sql: &'static str| async move { scalar(w, sql).await.to_string() };
    let nora = id_of("SELECT id FROM staff WHERE username = 'nora'").await;
    let summary = id_of("SELECT COALESCE(MAX(id), 1) FROM referrer_summaries").await;
    let alert = id_of("SELECT MIN(id) FROM alerts").await;
    let default_token = id_of("SELECT MIN(id) FROM api_tokens WHERE centre_id = 'default'").await;
    let task = t.crisis_task.to_string();
    // Every page of one client, and every action on them.
    let mut gets = vec![
        "/clients/amelie".to_owned(),
        "/clients/amelie/export".to_owned(),
        "/clients/amelie/sociodemographics".to_owned(),
        format!("/clients/amelie/summaries/{summary}"),
        format!("/clients/amelie/summaries/{summary}/pdf"),
        format!("/alerts/{alert}"),
        "/programs/cafe-rencontre".to_owned(),
    ];
    gets.push("/clients/bruno".into());
    let mut posts: Vec<(String, Vec<(&str, &str)>)> = [
        "enrol",
        "pause",
        "resume",
        "cancel",
        "close-referral",
        "reschedule",
        "start-flow",
        "referral",
        "goal-add",
        "goal-rate",
        "goal-close",
        "note",
        "summary-send",
        "close-conversation",
        "message",
        "best-time",
        "phone",
        "invite",
        "assign",
        "erase",
    ]
    .iter()
    .map(|a| {
        (
            format!("/clients/amelie/{a}"),
            vec![("body", "hello"), ("note", "x"), ("confirm", "amelie")],
        )
    })
    .collect();
    posts.extend([
        (
            "/clients/amelie/sociodemographics".to_owned(),
            vec![("consent", "yes")],
        ),
        ("/inbox/amelie/reply".to_owned(), vec![("body", "hello")]),
        ("/inbox/amelie/close".to_owned(), vec![]),
        (format!("/tasks/{task}/resolve"), vec![("note", "done")]),
        (format!("/alerts/{alert}/ack"), vec![]),
        ("/programs/cafe-rencontre/retire".to_owned(), vec![]),
        (
            "/programs".to_owned(),
            vec![
                ("code", "cafe-rencontre"),
                ("name_en", "Taken over"),
                ("location", "Here"),
            ],
        ),
        (format!("/staff/{nora}/disable"), vec![]),
        (format!("/staff/{nora}/link"), vec![]),
        (format!("/staff/{nora}/sociodemographics-on"), vec![]),
        (
            format!("/staff/{nora}/contact"),
            vec![("email", "x@example.org")],
        ),
        (format!("/staff/tokens/{default_token}/revoke"), vec![]),
        (
            "/staff".to_owned(),
            vec![
                ("username", "intruder"),
                ("role", "admin"),
                ("centre", "default"),
            ],
        ),
        (
            "/staff/tokens".to_owned(),
            vec![("name", "x"), ("scope", "write"), ("centre", "default")],
        ),
        (
            "/centres".to_owned(),
            vec![("code", "mine"), ("name", "Mine")],
        ),
        ("/centres/default/unshare".to_owned(), vec![]),
    ]);
    for path in &gets {
        let n = refusals(w, "staff:bea").await;
        let p = w.get(path).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "GET {path}: {}", p.body);
        holds_nothing_of(&p.body, DEFAULT_WORDS, path);
        assert_eq!(
            refusals(w, "staff:bea").await,
            n + 1,
            "GET {path} was not audited"
        );
    }
    for (path, fields) in &posts {
        w.get("/today").await; // a fresh CSRF token, as a browser has
        let n = refusals(w, "staff:bea").await;
        let p = w.post(path, fields).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "POST {path}: {}", p.body);
        assert_eq!(
            refusals(w, "staff:bea").await,
            n + 1,
            "POST {path} was not audited"
        );
    }
    // Nothing changed: no entry but the refusals, Amélie's record as it was, Nora still on,
    // no account or token made in the other centre, the program still the default centre's.
    assert_eq!(
        scalar(
            w,
            "SELECT COUNT(*) FROM audit_log WHERE actor = 'staff:bea' AND action <> 'access-denied' \
             AND client_id IN (SELECT id FROM clients WHERE centre_id = 'default')",
        )
        .await,
        0,
        "Bea read or changed nothing of the default centre's clients"
    );
    assert_eq!(
        scalar(w, "SELECT COUNT(*) FROM clients WHERE id = 'amelie'").await,
        1
    );
    assert_eq!(
        scalar(w, "SELECT active FROM staff WHERE username = 'nora'").await,
        1
    );
    assert_eq!(
        scalar(w, "SELECT COUNT(*) FROM staff WHERE username = 'intruder'").await,
        0
    );
    assert_eq!(
        scalar(
            w,
            "SELECT COUNT(*) FROM api_tokens WHERE centre_id = 'default' AND revoked_at IS NOT NULL AND name = 'EMR'"
        )
        .await,
        0
    );
    assert_eq!(
        scalar(
            w,
            "SELECT COUNT(*) FROM programs WHERE code = 'cafe-rencontre' AND centre_id = 'default' AND active = 1"
        )
        .await,
        1
    );
    assert_eq!(
        scalar(w, "SELECT COUNT(*) FROM centres WHERE id = 'mine'").await,
        0
    );
    // Every list and export of Bea's centre: Zoé, and nothing of the default centre.
    for path in [
        "/clients",
        "/today",
        "/inbox",
        "/notifications",
        "/referrers",
        "/cohort",
        "/programs",
        "/staff",
        "/audit",
        "/export/evaluation.csv",
        "/export/evaluation.csv?deidentified=1",
        "/export/fhir.json",
        "/export/cohort.csv",
    ] {
        let p = w.get(path).await;
        assert_eq!(p.status, StatusCode::OK, "GET {path}: {}", p.body);
        holds_nothing_of(&p.body, DEFAULT_WORDS, path);
        if path == "/clients" || path == "/export/evaluation.csv" {
            assert!(p.body.contains("zoe"), "{path} lacks Bea's own client");
        }
        if path == "/staff" {
            assert!(p.body.contains(">ben<"), "{path} lacks Bea's own staff");
            holds_nothing_of(&p.body, &[">nora<", ">cora<"], path);
        }
    }
    // Her centre's own staff and tokens she manages; a program of her own she makes.
    let ben = id_of("SELECT id FROM staff WHERE username = 'ben'").await;
    w.get("/staff").await;
    let p = w
        .post(
            &format!("/staff/{ben}/contact"),
            &[("email", "ben@north.example")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    w.get("/staff").await;
    let p = w
        .post("/staff", &[("username", "bill"), ("role", "navigator")])
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(
        sqlx::query_scalar::<_, String>("SELECT centre_id FROM staff WHERE username = 'bill'")
            .fetch_one(db.pool())
            .await
            .unwrap(),
        "north"
    );
    w.post("/logout", &[]).await;

    // Ben, Bea's navigator, cannot be assigned a default-centre client, nor open one.
    w.sign_in("cora").await;
    w.get("/clients/bruno").await;
    let p = w
        .post("/clients/bruno/assign", &[("navigator", ben.as_str())])
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
    assert!(p.visible().contains("own centre"), "{}", p.visible());
    // Cora, an administrator of the default centre only: Zoé is out of reach, and every list
    // of hers holds nothing of north.
    let n = refusals(w, "staff:cora").await;
    let p = w.get("/clients/zoe").await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(refusals(w, "staff:cora").await, n + 1);
    for path in [
        "/clients",
        "/cohort",
        "/export/evaluation.csv",
        "/export/cohort.csv",
        "/staff",
        "/audit",
    ] {
        let p = w.get(path).await;
        assert_eq!(p.status, StatusCode::OK, "GET {path}");
        holds_nothing_of(&p.body, &["zoe", "Zoé", "NE-0001"], path);
        if path == "/staff" {
            holds_nothing_of(&p.body, &[">bea<", ">ben<"], path);
        }
    }
    let p = w.get("/centres").await;
    assert_eq!(
        p.status,
        StatusCode::FORBIDDEN,
        "only the deployment's administrators"
    );
    w.post("/logout", &[]).await;
}

async fn tokens_reach_one_centre(t: &Two) {
    let w = &t.w;
    let north = Some(t.north_write.as_str());
    for path in [
        "/api/v1/clients/amelie",
        "/api/v1/clients/amelie/referrals",
        "/api/v1/clients/amelie/enrolments",
        "/api/v1/clients/amelie/answers",
        "/api/v1/clients/amelie/scores",
    ] {
        let n = refusals(w, "api:EMR").await;
        let p = w.api("GET", path, north, None).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{path}: {}", p.body);
        holds_nothing_of(&p.body, &["Amélie", "Tremblay", "HC-0042"], path);
        assert_eq!(refusals(w, "api:EMR").await, n + 1, "{path} not audited");
    }
    for (method, path, body) in [
        (
            "POST",
            "/api/v1/clients/amelie/referrals",
            json!({"reasons": ["loneliness"]}),
        ),
        (
            "PATCH",
            "/api/v1/clients/amelie/referrals/1",
            json!({"uptake": "declined"}),
        ),
        (
            "POST",
            "/api/v1/clients/amelie/enrolments",
            json!({"sequence": "standard"}),
        ),
    ] {
        let p = w.api(method, path, north, Some(body)).await;
        assert_eq!(
            p.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {}",
            p.body
        );
    }
    // Its lists hold its centre's only.
    let p = w.api("GET", "/api/v1/clients", north, None).await;
    assert_eq!(p.status, StatusCode::OK);
    let ids: Vec<String> = p.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, vec!["zoe"], "{}", p.body);
    for path in ["/api/v1/tasks", "/api/v1/cohort"] {
        let p = w.api("GET", path, north, None).await;
        assert_eq!(p.status, StatusCode::OK);
        holds_nothing_of(&p.body, DEFAULT_WORDS, path);
    }
    let p = w.api("GET", "/api/v1/cohort", north, None).await;
    assert_eq!(p.json()["referrals"]["text"], "< 5", "{}", p.body);
    // A client the API adds belongs to the token's centre; the other centre's token cannot
    // read them.
    let p = w
        .api(
            "POST",
            "/api/v1/clients",
            north,
            Some(json!({"id": "yan", "phone": "+16135550123", "language": "en"})),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    let p = w
        .api("GET", "/api/v1/clients/yan", Some(&t.default_write), None)
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = w.api("GET", "/api/v1/clients/yan", north, None).await;
    assert_eq!(p.status, StatusCode::OK);
    // FHIR: the default centre's ServiceRequest, Task and Communications are out of reach of
    // north's token; a chart number of the default centre makes a new client in north.
    let sr = scalar(w, "SELECT MIN(id) FROM service_requests").await;
    let fhir = Some(t.north_fhir.as_str());
    for path in [
        format!("/fhir/ServiceRequest/{sr}"),
        format!("/fhir/Task/{sr}"),
        format!("/fhir/Task?based-on=ServiceRequest/{sr}"),
    ] {
        let p = w.api("GET", &path, fhir, None).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{path}: {}", p.body);
        holds_nothing_of(&p.body, &["Gagnon", "HC-7788"], &path);
    }
    let mut again = service_request();
    again["identifier"][0]["value"] = json!("SR-C-2");
    // The same chart number at the other centre is another person's (a number is one client's).
    again["contained"][0]["telecom"][0]["value"] = json!("+16135550178");
    let p = w
        .api("POST", "/fhir/ServiceRequest", fhir, Some(again))
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    assert_eq!(
        scalar(
            w,
            "SELECT COUNT(*) FROM clients WHERE chart_number = 'HC-7788' AND centre_id = 'north'"
        )
        .await,
        1,
        "north's referral made north's own client, not the default centre's"
    );
    // The retry of the default centre's request, by north's token: refused.
    let p = w
        .api(
            "POST",
            "/fhir/ServiceRequest",
            fhir,
            Some(service_request()),
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
}

async fn texts_find_their_centre(t: &Two) {
    let w = &t.w;
    for (to, sid) in [
        (NORTH_NUMBER, "SMc0000000000000000000000000000001"),
        (DEFAULT_NUMBER, "SMc0000000000000000000000000000002"),
    ] {
        let params: Vec<(String, String)> = [
            ("MessageSid", sid),
            ("AccountSid", SID),
            ("From", "+16135550142"),
            ("To", to),
            ("Body", "who is this"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let url = format!("{PUBLIC}/webhooks/twilio/sms");
        let sig = support::twilio::sign(TOKEN, &url, &params);
        let req = axum::http::Request::post("/webhooks/twilio/sms")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("X-Twilio-Signature", sig)
            .body(axum::body::Body::from(
                serde_urlencoded::to_string(&params).unwrap(),
            ))
            .unwrap();
        let p = w.request(req).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    }
    assert_eq!(
        scalar(
            w,
            "SELECT COUNT(*) FROM messages WHERE client_id IS NULL AND centre_id = 'north'"
        )
        .await,
        1
    );
    let db = &w.state.runner.db;
    let north = matters::store::delivery::unmatched(db, Some("north"), 50, w.now(), "test")
        .await
        .unwrap();
    assert_eq!(north.len(), 1);
    let default = matters::store::delivery::unmatched(db, Some("default"), 50, w.now(), "test")
        .await
        .unwrap();
    assert_eq!(default.len(), 1);
    assert_ne!(north[0].id, default[0].id);
}

async fn the_group_report_pools_the_centres_that_share(t: &Two) {
    let w = &t.w;
    w.sign_in("ada").await;
    // The refusals, in words, in the audit log of the whole deployment's administrator.
    let p = w.get("/audit?actor=staff:bea&action=access-denied").await;
    let seen = p.visible();
    for words in [
        "another centre's client",
        "another centre's staff member",
        "another centre's API token",
        "the Centres page, for the deployment's administrators only",
    ] {
        assert!(seen.contains(words), "{words:?} not in {seen}");
    }
    let p = w.get("/centres").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.visible().contains("North End CHC"));
    assert!(p.visible().contains("No centre shares its figures yet"));
    // A centre added on the web; then the default centre and north share.
    let p = w
        .post(
            "/centres",
            &[
                ("code", "east"),
                ("name", "East Side CHC"),
                ("time_zone", "America/Toronto"),
                ("default_language", "fr"),
                ("twilio_from", NORTH_NUMBER),
            ],
        )
        .await;
    assert_eq!(
        p.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a number another centre has is refused"
    );
    assert!(p.visible().contains("another centre"), "{}", p.visible());
    // Its own escalation minutes: words are refused with the reason, kept in the form.
    let p = w
        .post(
            "/centres",
            &[
                ("code", "east"),
                ("name", "East Side CHC"),
                ("time_zone", "America/Toronto"),
                ("default_language", "fr"),
                ("crisis_minutes", "ten"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.visible().contains("“ten” is not a number of minutes"),
        "{}",
        p.visible()
    );
    assert!(
        p.body.contains("value=\"East Side CHC\""),
        "the form keeps what was typed"
    );
    let p = w
        .post(
            "/centres",
            &[
                ("code", "east"),
                ("name", "East Side CHC"),
                ("time_zone", "America/Toronto"),
                ("default_language", "fr"),
                ("crisis_minutes", "10"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let p = w.get("/centres").await;
    assert!(
        p.visible()
            .contains("Alerts go on after: crisis 10 min, urgent — min"),
        "{}",
        p.visible()
    );
    for c in ["default", "north"] {
        w.get("/centres").await;
        let p = w.post(&format!("/centres/{c}/share"), &[]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    }
    let p = w.get("/centres").await;
    assert!(
        p.visible()
            .contains("Centres in the report: CSC Centre-Ville, North End CHC")
    );
    assert!(p.visible().contains("Centres not sharing: 1"));
    let p = w.get("/centres/report.csv").await;
    assert_eq!(p.status, StatusCode::OK);
    holds_nothing_of(&p.body, DEFAULT_WORDS, "the group report");
    holds_nothing_of(&p.body, &["zoe", "Zoé"], "the group report");
    // Fewer than five referrals in all: every count is suppressed.
    assert!(p.body.contains("< 5"), "{}", p.body);
    assert!(
        p.body.contains(
            "group,centres-sharing,,,,CSC Centre-Ville (default); North End CHC (north),"
        )
    );
    assert!(
        scalar(
            w,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'group-report' AND actor = 'staff:ada'"
        )
        .await
            == 1
    );
}

async fn suite(url: &str) {
    let t = two_centres(url).await;
    staff_of_one_centre_reach_nothing_of_another(&t).await;
    tokens_reach_one_centre(&t).await;
    texts_find_their_centre(&t).await;
    the_group_report_pools_the_centres_that_share(&t).await;
}

#[tokio::test]
async fn two_centres_on_sqlite_are_kept_apart() {
    suite("sqlite::memory:").await;
}

#[tokio::test]
async fn two_centres_on_postgres_are_kept_apart() {
    let Some((url, _schema, _admin)) = support::pg::postgres().await else {
        return;
    };
    suite(&url).await;
}

/// Today's configuration is the default centre, filled from it at every start; a centre is
/// checked before it is added; staff and tokens made as before belong to the default centre,
/// an administrator made so to every centre.
#[tokio::test]
async fn the_single_centre_configuration_is_the_default_centre() {
    let w = Web::new().await;
    let db = &w.state.runner.db;
    let all = centres::list(db).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id, "default");
    assert_eq!(all[0].name, "CSC Centre-Ville");
    assert_eq!(all[0].time_zone, "America/Toronto");
    let ada = w.staff("ada", Role::Admin).await;
    assert!(ada.all_centres && ada.centre == "default");
    let nora = w.staff("nora", Role::Navigator).await;
    assert!(!nora.all_centres && nora.centre == "default");
    let (tok, _) = staff::issue_token(db, "x", Scope::Read, "cli", w.now())
        .await
        .unwrap();
    assert_eq!(tok.centre, "default");
    let bad = centres::add(
        db,
        NewCentre {
            id: "default".into(),
            name: "Again".into(),
            time_zone: "America/Toronto".into(),
            default_language: "en".into(),
            ..NewCentre::default()
        },
        "cli",
        w.now(),
    )
    .await;
    assert!(
        matches!(bad, Err(centres::CentreError::Taken(_))),
        "{bad:?}"
    );
    // A staff member of a centre sees its navigation; only the deployment's administrators the
    // centres page.
    w.sign_in("ada").await;
    let p = w.get("/today").await;
    assert!(p.body.contains("href=\"/centres\""));
}

/// A centre's own time zone, languages and quiet hours shape the clients its staff add.
#[tokio::test]
async fn a_new_client_takes_the_centres_time_zone_languages_and_hours() {
    let w = Web::new().await;
    let db = &w.state.runner.db;
    centres::add(
        db,
        NewCentre {
            id: "ouest".into(),
            name: "CSC de l'Ouest".into(),
            time_zone: "America/Winnipeg".into(),
            default_language: "fr".into(),
            languages: vec!["fr".into()],
            send_between: Some("10:00-18:00".into()),
            ..NewCentre::default()
        },
        "cli",
        w.now(),
    )
    .await
    .unwrap();
    staff::add_in(
        db,
        &Membership::of("ouest"),
        "odile",
        "Odile",
        Role::Navigator,
        Some(PASSWORD),
        w.now(),
        "cli",
    )
    .await
    .unwrap();
    w.sign_in("odile").await;
    let form = w.get("/clients/new").await;
    assert!(form.body.contains("Winnipeg"), "the centre's time zone");
    assert!(
        form.body.contains("value=\"fr\"") && !form.body.contains("value=\"en\""),
        "only the centre's languages are offered"
    );
    let p = w.add_client("pierre", &[("language", "en")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.visible().contains("does not offer the language en"),
        "{}",
        p.visible()
    );
    let p = w
        .add_client(
            "pierre",
            &[("language", "fr"), ("time_zone", "America/Winnipeg")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let (tz, window, centre): (String, Option<i64>, String) =
        sqlx::query_as("SELECT time_zone, send_start, centre_id FROM clients WHERE id = 'pierre'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(tz, "America/Winnipeg");
    assert_eq!(
        window,
        Some(600),
        "the centre's quiet hours: sends from 10:00"
    );
    assert_eq!(centre, "ouest");
}

/// A centre's own holidays keep its clients' scheduled messages off them; another centre's
/// clients are not held by them.
#[tokio::test]
async fn a_centres_holidays_hold_its_clients_messages_only() {
    use matters::enrolment::actions::{self, ClientSpec};
    let w = Web::new().await;
    let runner = &w.state.runner;
    centres::add(
        &runner.db,
        NewCentre {
            id: "ouest".into(),
            name: "CSC de l'Ouest".into(),
            time_zone: "America/Toronto".into(),
            default_language: "en".into(),
            holidays: vec!["2026-06-03".into()],
            ..NewCentre::default()
        },
        "cli",
        w.now(),
    )
    .await
    .unwrap();
    let mut due = Vec::new();
    for (id, centre) in [("here", "default"), ("west", "ouest")] {
        let spec = ClientSpec {
            id: id.into(),
            phone: Some(format!(
                "+1613555{}",
                if id == "here" { "0301" } else { "0302" }
            )),
            language: "en".into(),
            time_zone: Some("America/Toronto".into()),
            sequence: Some("standard".into()),
            ..ClientSpec::default()
        };
        let mut checked = actions::check(runner, &spec).unwrap();
        checked.client.centre = centre.into();
        actions::add(runner, &checked, "test").await.unwrap();
        let step: String = sqlx::query_scalar(
            "SELECT step_id FROM jobs WHERE client_id = $1 AND kind = 'step' AND status = 'pending' ORDER BY due_at LIMIT 1",
        )
        .bind(id)
        .fetch_one(runner.db.pool())
        .await
        .unwrap();
        let at = chrono::NaiveDate::from_ymd_opt(2026, 6, 3)
            .unwrap()
            .and_hms_opt(11, 0, 0)
            .unwrap();
        let client = matters::domain::ClientId::parse(id).unwrap();
        let (when, _) = actions::reschedule(runner, &client, &step, at, "test")
            .await
            .unwrap();
        due.push(
            when.with_timezone(&chrono_tz::America::Toronto)
                .date_naive()
                .to_string(),
        );
    }
    assert_eq!(
        due[0], "2026-06-03",
        "the default centre has no such holiday"
    );
    assert_eq!(due[1], "2026-06-04", "the west centre's holiday is skipped");
}

/// A centre offers only the flows and follow-up sequences it enables: the Centres form refuses
/// a sequence whose flows it leaves out, its staff are offered only its own on a record, and
/// enrolling or starting anything else is refused on the web and through the API.
#[tokio::test]
async fn a_centre_offers_only_the_flows_and_sequences_it_enables() {
    let w = Web::new().await;
    let db = &w.state.runner.db;
    w.staff("ada", Role::Admin).await;
    w.sign_in("ada").await;
    let form = |sequence: &'static str| {
        vec![
            ("code", "sud"),
            ("name", "CSC du Sud"),
            ("time_zone", "America/Toronto"),
            ("default_language", "en"),
            ("flows", "program-details"),
            ("flows", "referral-followup"),
            ("sequences", sequence),
        ]
    };
    let page = w.get("/centres").await;
    assert!(
        page.body.contains("name=\"flows\" value=\"loneliness\""),
        "every flow can be ticked"
    );
    // Its own Twilio account needs a token file the service can read.
    let mut own = form("signposting");
    own.extend([
        ("twilio_from", "+16135550177"),
        ("twilio_account_sid", "AC0000000000000000000000000000beef"),
        ("twilio_token_file", "/nowhere/sud.token"),
    ]);
    let p = w.post("/centres", &own).await;
    assert_eq!(
        p.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        p.visible()
    );
    assert!(p.visible().contains("cannot be read"), "{}", p.visible());
    assert!(
        p.body.contains("sud.token") && p.body.contains("AC0000000000000000000000000000beef"),
        "the form keeps what was typed"
    );
    let p = w.post("/centres", &form("standard")).await;
    assert_eq!(
        p.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        p.visible()
    );
    assert!(
        p.visible().contains("uses the flow loneliness"),
        "{}",
        p.visible()
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM centres WHERE id = 'sud'")
            .await,
        0
    );
    let p = w.post("/centres", &form("signposting")).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.visible());
    let sud = centres::get(db, "sud").await.unwrap().unwrap();
    assert_eq!(sud.flows, vec!["program-details", "referral-followup"]);
    assert_eq!(sud.sequences, vec!["signposting"]);
    // The list names what it offers in words, not codes.
    let list = w.get("/centres").await.visible();
    assert!(
        list.contains("Offers: The program's details, Referral follow-up; Signposting follow-up"),
        "{list}"
    );
    w.post("/logout", &[]).await;
    staff::add_in(
        db,
        &Membership::of("sud"),
        "sol",
        "Sol",
        Role::Navigator,
        Some(PASSWORD),
        w.now(),
        "cli",
    )
    .await
    .unwrap();
    w.sign_in("sol").await;
    let new = w.get("/clients/new").await;
    assert!(new.body.contains("value=\"signposting\""));
    assert!(!new.body.contains("value=\"standard\""));
    let p = w.add_client("sam", &[("name", "Sam Sud")]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.visible());
    let record = w.get("/clients/sam").await;
    assert!(record.body.contains("<option value=\"signposting\">"));
    assert!(!record.body.contains("<option value=\"standard\">"));
    assert!(record.body.contains("<option value=\"program-details\">"));
    assert!(!record.body.contains("<option value=\"loneliness\">"));
    let p = w
        .post("/clients/sam/enrol", &[("sequence", "standard")])
        .await;
    assert!(
        p.visible()
            .contains("does not offer the follow-up standard"),
        "{}",
        p.visible()
    );
    let p = w
        .post("/clients/sam/start-flow", &[("flow", "loneliness")])
        .await;
    assert!(
        p.visible().contains("does not offer the survey loneliness"),
        "{}",
        p.visible()
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM sessions WHERE client_id = 'sam' AND flow_id = 'loneliness'")
            .await,
        0
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM enrolments WHERE client_id = 'sam'")
            .await,
        0
    );
    let p = w
        .post("/clients/sam/enrol", &[("sequence", "signposting")])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.visible());
    assert_eq!(
        w.count("SELECT COUNT(*) FROM enrolments WHERE client_id = 'sam' AND sequence_id = 'signposting'")
            .await,
        1
    );
    // Through the API, with the centre's token: refused, 422, with the reason.
    let (_, token) = staff::issue_token_in(db, "sud", "EMR", Scope::Write, "cli", w.now())
        .await
        .unwrap();
    let r = w
        .api(
            "POST",
            "/api/v1/clients/sam/enrolments",
            Some(&token),
            Some(json!({ "sequence": "standard" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("does not offer the sequence standard"),
        "{}",
        r.body
    );
}
