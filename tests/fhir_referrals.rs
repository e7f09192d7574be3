//! Referrals from the EMR: a FHIR R4 ServiceRequest makes (or finds) the client and makes the
//! referral; its Task follows the referral through its life on the virtual clock; a bad resource
//! gets an OperationOutcome and nothing is stored. Everything we emit is read back by a real R4
//! model (fhirbolt), strictly.

mod support;

use axum::http::StatusCode;
use fhirbolt::model::r4::Resource;
use matters::domain::ClientId;
use matters::staff::{self, Scope};
use serde_json::{Value, json};
use support::web::Web;

fn r4(v: &Value) -> Resource {
    fhirbolt::json::from_str(&v.to_string(), None).unwrap_or_else(|e| panic!("not R4 ({e}): {v}"))
}

async fn token(w: &Web, scope: Scope) -> String {
    staff::issue_token(&w.state.runner.db, "EMR", scope, "cli", w.now())
        .await
        .unwrap()
        .1
}

fn service_request(ident: &str) -> Value {
    json!({
        "resourceType": "ServiceRequest",
        "identifier": [{ "system": "urn:oid:2.16.840.1.113883.3.239.18", "value": ident }],
        "status": "active",
        "intent": "order",
        "category": [{ "text": "Social prescription" }],
        "code": { "text": "Social prescribing: link worker" },
        "subject": { "reference": "#p" },
        "authoredOn": "2026-06-01",
        "requester": { "reference": "#dr" },
        "reasonCode": [
            { "coding": [{ "system": "https://matters.example/reasons", "code": "loneliness", "display": "Loneliness" }] },
            { "text": "Recently widowed, lives alone" }
        ],
        "note": [{ "text": "Prefers afternoon calls. Speaks French at home." }],
        "contained": [
            {
                "resourceType": "Patient",
                "id": "p",
                "identifier": [{ "system": "urn:chart", "value": "HC-7788" }],
                "name": [{ "family": "Gagnon", "given": ["Louise"] }],
                "telecom": [
                    { "system": "phone", "value": "+16135550111", "use": "home" },
                    { "system": "phone", "value": "+16135550177", "use": "mobile" }
                ],
                "communication": [{ "language": { "coding": [{ "system": "urn:ietf:bcp:47", "code": "fr-CA" }] }, "preferred": true }]
            },
            {
                "resourceType": "PractitionerRole",
                "id": "dr",
                "practitioner": { "display": "Dre Hélène Roy" },
                "organization": { "display": "Équipe de santé familiale Vanier" },
                "code": [{ "text": "Family physician" }]
            }
        ]
    })
}

async fn post(w: &Web, t: &str, body: Value) -> support::web::Page {
    w.api("POST", "/fhir/ServiceRequest", Some(t), Some(body))
        .await
}

#[tokio::test]
async fn a_service_request_for_a_new_patient_makes_the_client_and_the_referral_and_a_retry_is_taken_once()
 {
    let w = Web::new().await;
    let t = token(&w, Scope::Fhir).await;
    let p = post(&w, &t, service_request("SR-1001")).await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    assert!(
        p.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/fhir+json")
    );
    let b = p.json();
    assert!(matches!(r4(&b), Resource::Bundle(_)));
    let sr = &b["entry"][0]["resource"];
    let task = &b["entry"][1]["resource"];
    assert_eq!(sr["resourceType"], "ServiceRequest");
    let id = sr["id"].as_str().unwrap().to_owned();
    assert_eq!(
        p.location.as_deref(),
        Some(format!("/fhir/ServiceRequest/{id}").as_str())
    );
    assert_eq!(task["status"], "requested");
    assert_eq!(
        task["basedOn"][0]["reference"],
        format!("ServiceRequest/{id}")
    );
    assert!(matches!(r4(task), Resource::Task(_)));
    // The client, from the contained Patient: chart number, name, mobile, French.
    let (cid, lang, chart): (String, String, String) =
        sqlx::query_as("SELECT id, language, chart_number FROM clients")
            .fetch_one(w.state.runner.db.pool())
            .await
            .unwrap();
    assert_eq!(
        (cid.as_str(), lang.as_str(), chart.as_str()),
        ("hc-7788", "fr", "HC-7788")
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM channel_addresses WHERE client_id = 'hc-7788' AND address = '+16135550177'").await,
        1,
        "the mobile number"
    );
    let (by, reasons): (String, String) =
        sqlx::query_as("SELECT referred_by, reasons FROM referrals WHERE client_id = 'hc-7788'")
            .fetch_one(w.state.runner.db.pool())
            .await
            .unwrap();
    assert_eq!(
        by,
        "Dre Hélène Roy, Family physician, Équipe de santé familiale Vanier"
    );
    assert_eq!(reasons, "loneliness,other");
    let note: String = sqlx::query_scalar("SELECT body FROM notes WHERE client_id = 'hc-7788'")
        .fetch_one(w.state.runner.db.pool())
        .await
        .unwrap();
    assert!(
        note.contains("Recently widowed") && note.contains("afternoon calls"),
        "{note}"
    );
    // Sent again (a retry): the same resources, nothing new.
    let again = post(&w, &t, service_request("SR-1001")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["entry"][0]["resource"]["id"], id);
    assert_eq!(w.count("SELECT COUNT(*) FROM referrals").await, 1);
    assert_eq!(w.count("SELECT COUNT(*) FROM clients").await, 1);
    // Read back.
    let read = w
        .api("GET", &format!("/fhir/ServiceRequest/{id}"), Some(&t), None)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(matches!(r4(&read.json()), Resource::ServiceRequest(_)));
    // Audited, on the client.
    assert!(
        w.audit_actions("hc-7788")
            .await
            .iter()
            .any(|(_, a)| a == "fhir-service-request")
    );
}

#[tokio::test]
async fn a_service_request_naming_a_known_patient_adds_a_referral_to_their_record() {
    let w = Web::new().await;
    let t = token(&w, Scope::Fhir).await;
    post(&w, &t, service_request("SR-1")).await;
    let by_identifier = json!({
        "resourceType": "ServiceRequest",
        "identifier": [{ "value": "SR-2" }],
        "status": "active",
        "intent": "order",
        "subject": { "identifier": { "system": "urn:chart", "value": "HC-7788" } },
        "requester": { "display": "Dr Singh" },
        "reasonCode": [{ "coding": [{ "code": "food-insecurity" }] }]
    });
    let p = post(&w, &t, by_identifier).await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    assert_eq!(w.count("SELECT COUNT(*) FROM clients").await, 1);
    assert_eq!(
        w.count("SELECT COUNT(*) FROM referrals WHERE client_id = 'hc-7788'")
            .await,
        2
    );
    assert!(matches!(r4(&p.json()), Resource::Bundle(_)));
}

#[tokio::test]
async fn a_bad_resource_gets_an_operation_outcome_and_nothing_is_stored() {
    let w = Web::new().await;
    let t = token(&w, Scope::Fhir).await;
    let mut cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"resourceType": "Patient"}),
            StatusCode::BAD_REQUEST,
            "expected a ServiceRequest",
        ),
        (
            json!({"resourceType": "ServiceRequest", "status": "active", "intent": "order"}),
            StatusCode::BAD_REQUEST,
            "subject is required",
        ),
        (
            json!({"resourceType": "ServiceRequest", "status": "finished", "intent": "order", "subject": {"reference": "#p"}}),
            StatusCode::BAD_REQUEST,
            "status",
        ),
        (
            json!({"resourceType": "ServiceRequest", "status": "active", "intent": "order", "subject": {"reference": "#nobody"}}),
            StatusCode::BAD_REQUEST,
            "no contained Patient",
        ),
        (
            json!({"resourceType": "ServiceRequest", "status": "active", "intent": "order", "subject": {"identifier": {"value": "HC-0000"}}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "no client has the identifier HC-0000",
        ),
    ];
    let mut bad_phone = service_request("SR-9");
    bad_phone["contained"][0]["telecom"] =
        json!([{ "system": "phone", "value": "12", "use": "mobile" }]);
    cases.push((
        bad_phone,
        StatusCode::UNPROCESSABLE_ENTITY,
        "cannot be a client",
    ));
    for (body, status, says) in cases {
        let p = post(&w, &t, body.clone()).await;
        assert_eq!(p.status, status, "{body}: {}", p.body);
        let o = p.json();
        assert_eq!(o["resourceType"], "OperationOutcome");
        assert!(matches!(r4(&o), Resource::OperationOutcome(_)));
        assert!(
            o["issue"][0]["diagnostics"]
                .as_str()
                .unwrap()
                .contains(says),
            "{o}"
        );
    }
    let p = w
        .request(
            axum::http::Request::builder()
                .method("POST")
                .uri("/fhir/ServiceRequest")
                .header("authorization", format!("Bearer {t}"))
                .header("content-type", "application/fhir+json")
                .body(axum::body::Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    assert_eq!(p.json()["issue"][0]["code"], "structure");
    for table in ["clients", "referrals", "service_requests", "notes"] {
        assert_eq!(
            w.count(&format!("SELECT COUNT(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
    // The door: no token, a token of another scope; and a FHIR token opens no other door.
    let none = w
        .api(
            "POST",
            "/fhir/ServiceRequest",
            None,
            Some(service_request("x")),
        )
        .await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.json()["resourceType"], "OperationOutcome");
    let read = token(&w, Scope::Read).await;
    assert_eq!(
        post(&w, &read, service_request("x")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        w.api("GET", "/api/v1/clients", Some(&t), None).await.status,
        StatusCode::FORBIDDEN
    );
    // What is supported, for anyone who asks.
    let m = w.api("GET", "/fhir/metadata", None, None).await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(matches!(r4(&m.json()), Resource::CapabilityStatement(_)));
}

#[tokio::test]
async fn the_task_follows_the_referral_through_its_life() {
    let w = Web::new().await;
    let t = token(&w, Scope::Fhir).await;
    let p = post(&w, &t, service_request("SR-LIFE")).await;
    let id = p.json()["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = ClientId::parse("hc-7788").unwrap();
    let task = async |w: &Web| {
        let p = w
            .api(
                "GET",
                &format!("/fhir/Task?based-on=ServiceRequest/{id}"),
                Some(&t),
                None,
            )
            .await;
        assert_eq!(p.status, StatusCode::OK);
        let b = p.json();
        assert!(matches!(r4(&b), Resource::Bundle(_)));
        assert_eq!(b["total"], 1);
        b["entry"][0]["resource"].clone()
    };
    let show = |stage: &str, t: &Value| {
        println!(
            "{stage:<36} Task/{} status={:<11} businessStatus={:?}{}",
            t["id"].as_str().unwrap_or_default(),
            t["status"].as_str().unwrap_or_default(),
            t["businessStatus"]["text"].as_str().unwrap_or_default(),
            t["statusReason"]["text"]
                .as_str()
                .map(|r| format!(" statusReason={r:?}"))
                .unwrap_or_default()
        );
    };
    let t0 = task(&w).await;
    show("posted", &t0);
    assert_eq!(t0["status"], "requested");
    // She agrees to be contacted (the consent flow, by SMS).
    w.clock.advance(chrono::Duration::hours(2));
    sqlx::query("UPDATE clients SET consent = 'granted' WHERE id = 'hc-7788'")
        .execute(w.state.runner.db.pool())
        .await
        .unwrap();
    let t1 = task(&w).await;
    show("the client agrees to messages", &t1);
    assert_eq!(t1["status"], "accepted");
    // She goes to the program.
    w.clock.advance(chrono::Duration::days(8));
    let referral: i64 =
        sqlx::query_scalar("SELECT referral_id FROM service_requests WHERE id = $1")
            .bind(id.parse::<i64>().unwrap())
            .fetch_one(w.state.runner.db.pool())
            .await
            .unwrap();
    matters::runner::referrals::patch_referral(
        &w.state.runner,
        &client,
        referral,
        &matters::runner::referrals::ReferralPatch {
            uptake: Some("attended".into()),
            ..Default::default()
        },
        "staff:nora",
    )
    .await
    .unwrap();
    let t2 = task(&w).await;
    show("she goes (uptake attended)", &t2);
    assert_eq!(t2["status"], "in-progress");
    // Her loneliness at baseline and three months, measured for this referral.
    for (tp, total) in [("baseline", 8), ("3-month", 5)] {
        sqlx::query(
            "INSERT INTO scores (client_id, session_id, flow_id, revision, instrument, time_point, total, complete, items, at, referral_id) \
             VALUES ('hc-7788', 0, 'loneliness', 'r1', 'ucla3', $1, $2, 1, '{}', $3, $4)",
        )
        .bind(tp)
        .bind(total)
        .bind(w.now())
        .bind(referral)
        .execute(w.state.runner.db.pool())
        .await
        .unwrap();
    }
    // Closed: goal met. At the medium level the summary goes at once, as the Task's output.
    sqlx::query("UPDATE referrals SET support_level = 'medium' WHERE client_id = 'hc-7788'")
        .execute(w.state.runner.db.pool())
        .await
        .unwrap();
    w.clock.advance(chrono::Duration::days(90));
    matters::enrolment::actions::close_referral(&w.state.runner, &client, "goal-met", "staff:nora")
        .await
        .unwrap();
    let t3 = w
        .api("GET", &format!("/fhir/Task/{id}"), Some(&t), None)
        .await
        .json();
    show("closed: goal met", &t3);
    assert_eq!(t3["status"], "completed");
    let output = t3["output"][0]["valueString"].as_str().unwrap_or_default();
    println!("Task/{id} output:\n{output}");
    assert!(output.contains("the client's goal is met"), "{t3}");
    assert!(output.contains("Referral by Dre Hélène Roy"), "{t3}");
    assert!(
        output.contains("8 at baseline, 5 at 3 months (better)"),
        "{t3}"
    );
    assert!(output.contains("l'objectif est atteint"), "{t3}");
    assert!(matches!(r4(&t3), Resource::Task(_)));
    // The same word back, as a Communication to the requester, based on the ServiceRequest.
    let found = w
        .api(
            "GET",
            &format!("/fhir/Communication?based-on=ServiceRequest/{id}"),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let b = found.json();
    assert!(matches!(r4(&b), Resource::Bundle(_)), "{b}");
    // One on the change of uptake (medium was set after it: it waited for review) is a draft,
    // and drafts are not sent: only the closing summary is a Communication.
    assert_eq!(b["total"], 1, "{b}");
    let c = b["entry"][0]["resource"].clone();
    assert!(matches!(r4(&c), Resource::Communication(_)), "{c}");
    assert_eq!(c["status"], "completed");
    assert_eq!(c["basedOn"][0]["reference"], format!("ServiceRequest/{id}"));
    assert!(
        c["payload"][0]["contentString"]
            .as_str()
            .unwrap()
            .contains("the client's goal is met")
    );
    assert!(
        c["payload"][1]["contentString"]
            .as_str()
            .unwrap()
            .contains("l'objectif est atteint")
    );
    // The referrer's system carries the link to the feedback form, which opens.
    let said = c["payload"][2]["contentString"].as_str().unwrap();
    let link = &said[said.find("/feedback/").expect("a feedback link")..];
    assert_eq!(
        w.other_browser().get(link).await.status,
        StatusCode::OK,
        "{link}"
    );
    println!(
        "Communication/{}: to {:?}, sent {}",
        c["id"].as_str().unwrap_or_default(),
        c["recipient"][0]["display"].as_str().unwrap_or_default(),
        c["sent"].as_str().unwrap_or_default()
    );
    let one = w
        .api(
            "GET",
            &format!("/fhir/Communication/{}", c["id"].as_str().unwrap()),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json(), c);
    let none = w
        .api("GET", "/fhir/Communication/99999", Some(&t), None)
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert!(matches!(r4(&none.json()), Resource::OperationOutcome(_)));
    // Another referral, declined, then closed: rejected with the reason.
    let p = post(&w, &t, {
        let mut s = service_request("SR-LIFE-2");
        s["subject"] = json!({ "identifier": { "value": "HC-7788" } });
        s.as_object_mut().unwrap().remove("contained");
        s.as_object_mut().unwrap().remove("requester");
        s
    })
    .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    let id2 = p.json()["entry"][1]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    matters::runner::casework::update_referral(
        &w.state.runner,
        &client,
        &matters::runner::casework::ReferralUpdate {
            uptake: "declined".into(),
            ..Default::default()
        },
        "staff:nora",
    )
    .await
    .unwrap();
    let t4 = w
        .api("GET", &format!("/fhir/Task/{id2}"), Some(&t), None)
        .await
        .json();
    show("a second referral, declined", &t4);
    assert_eq!(t4["status"], "rejected");
    assert!(
        t4["statusReason"]["text"]
            .as_str()
            .unwrap()
            .contains("declined")
    );
}
