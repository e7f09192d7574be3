//! Programs and partners: a catalogue imported from CSV (bad rows said by line, safe to run
//! again), kept on the web by administrators, read by navigators; a referral names a program
//! and the client is texted its details in their language, within two SMS segments.

mod support;

use axum::http::StatusCode;
use matters::domain::{ClientId, Locale};
use matters::enrolment::actions::{self, ClientSpec};
use matters::staff::Role;
use support::web::Web;

const CSV: &str = "code,partner,partner_contact,name_en,description_en,name_fr,description_fr,location,online,schedule,cost,transport,languages,contact,reasons\n\
walking-group,Centretown Community Association,613-555-0170,Tuesday walking group,A gentle one-hour walk with others,Marche du mardi,Une marche douce d'une heure en groupe,\"Dundonald Park, Somerset St W\",no,Tue 10:00,free,Bus 11 to Bank St,\"en,fr\",Lise 613-555-0171,\"loneliness,social-isolation\"\n\
cafe,Maison de quartier,,Community café,,Café-rencontre,,,yes,Thu 14:00,pricey,,fr,,loneliness\n\
nameless,Somewhere,,,,,,1 Main St,no,,free,,,,\n\
knitting,Library,,Knitting circle,,Cercle de tricot,,Main library,no,Someday 10:00,free,,,,\n\
choir,Library,,Community choir,Sing together,Chorale,Chanter ensemble,Main library,no,\"Wed 18:30; 2026-12-16 18:30\",fee-waivable,,\"en,fr\",,\"loneliness,low-mood\"\n";

/// A client by phone in a language, followed by a navigator.
async fn client(w: &Web, id: &str, phone: &str, lang: &str, navigator: i64) {
    let spec = ClientSpec {
        id: id.into(),
        phone: Some(phone.into()),
        language: lang.into(),
        ..ClientSpec::default()
    };
    let checked = actions::check(&w.state.runner, &spec).unwrap();
    actions::add(&w.state.runner, &checked, "cli")
        .await
        .unwrap();
    matters::web::set_profile(
        &w.state.runner.db,
        &ClientId::parse(id).unwrap(),
        None,
        Some(navigator),
        "cli",
        w.now(),
    )
    .await
    .unwrap();
}

async fn import(w: &Web) -> matters::programs::import::Report {
    matters::programs::import::import(&w.state.runner.db, CSV.as_bytes(), w.now(), "cli", |_| {})
        .await
        .unwrap()
}

#[tokio::test]
async fn the_catalogue_imports_from_csv_with_bad_rows_said_and_again_without_duplicates() {
    let w = Web::new().await;
    let mut seen = 0;
    let r = matters::programs::import::import(
        &w.state.runner.db,
        CSV.as_bytes(),
        w.now(),
        "cli",
        |n| seen = n,
    )
    .await
    .unwrap();
    assert_eq!(seen, 5, "the progress saw every row");
    assert_eq!((r.added, r.updated), (2, 0));
    let why: Vec<String> = r
        .rejected
        .iter()
        .map(|(l, w)| format!("{l}: {w}"))
        .collect();
    assert_eq!(why.len(), 3, "{why:?}");
    assert!(why[0].starts_with("3: cost \"pricey\""), "{why:?}");
    assert!(why[1].starts_with("4: a program needs a name"), "{why:?}");
    assert!(
        why[2].starts_with("5: ") && why[2].contains("not a day"),
        "{why:?}"
    );
    // Again: the same programs, changed in place.
    let again = import(&w).await;
    assert_eq!((again.added, again.updated), (0, 2));
    assert_eq!(w.count("SELECT COUNT(*) FROM programs").await, 2);
    assert_eq!(w.count("SELECT COUNT(*) FROM partners").await, 2);
    let p = matters::programs::by_code(&w.state.runner.db, "walking-group")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.name("fr"), "Marche du mardi");
    assert_eq!(
        p.name("ar"),
        "Tuesday walking group",
        "English where there is none"
    );
    assert_eq!(p.reasons, vec!["loneliness", "social-isolation"]);
    // A header this import does not know is refused whole.
    let e = matters::programs::import::import(
        &w.state.runner.db,
        "code,colour\nx,blue\n".as_bytes(),
        w.now(),
        "cli",
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(e.contains("colour"), "{e}");
}

#[tokio::test]
async fn a_programs_details_fit_two_segments_in_english_and_french() {
    let w = Web::new().await;
    import(&w).await;
    let cat = &w.state.runner.catalog;
    for code in ["walking-group", "choir"] {
        let p = matters::programs::by_code(&w.state.runner.db, code)
            .await
            .unwrap()
            .unwrap();
        for lang in ["en", "fr"] {
            let l = cat.negotiate(&Locale::parse(lang).unwrap());
            let text = matters::programs::details_text(cat, &l, &p);
            let cost = matters::sms::cost(&text);
            println!(
                "{code} {lang} ({} segment(s), {}): {text}",
                cost.segments, cost.encoding
            );
            assert!(cost.segments <= 2, "{lang}: {text}");
            assert!(text.contains(&p.name(lang)), "{text}");
        }
    }
    let p = matters::programs::by_code(&w.state.runner.db, "walking-group")
        .await
        .unwrap()
        .unwrap();
    let en =
        matters::programs::details_text(cat, &cat.negotiate(&Locale::parse("en").unwrap()), &p);
    assert!(en.contains("Where: Dundonald Park"), "{en}");
    assert!(en.contains("When: Tuesdays 10:00"), "{en}");
    assert!(en.contains("Free"), "{en}");
    assert!(en.contains("Contact: Lise 613-555-0171"), "{en}");
    let fr =
        matters::programs::details_text(cat, &cat.negotiate(&Locale::parse("fr").unwrap()), &p);
    assert!(fr.contains("Quand : les mardis à 10 h 00"), "{fr}");
    assert!(fr.contains("Gratuit"), "{fr}");
}

#[tokio::test]
async fn a_navigator_refers_to_a_catalogue_program_and_the_client_is_texted_its_details() {
    let w = Web::new().await;
    import(&w).await;
    let nora = w.staff("nora", Role::Navigator).await;
    w.staff("ada", Role::Admin).await;
    let spec = ClientSpec {
        id: "amelie".into(),
        phone: Some("+15145550123".into()),
        language: "fr".into(),
        ..ClientSpec::default()
    };
    let checked = actions::check(&w.state.runner, &spec).unwrap();
    actions::add(&w.state.runner, &checked, "staff:nora")
        .await
        .unwrap();
    matters::web::set_profile(
        &w.state.runner.db,
        &ClientId::parse("amelie").unwrap(),
        Some("Amélie Tremblay"),
        Some(nora.id),
        "staff:nora",
        w.now(),
    )
    .await
    .unwrap();
    sqlx::query("UPDATE clients SET consent = 'granted' WHERE id = 'amelie'")
        .execute(w.state.runner.db.pool())
        .await
        .unwrap();
    w.sign_in("nora").await;
    let rec = w.get("/clients/amelie").await;
    assert!(
        rec.body.contains("value=\"walking-group\""),
        "the catalogue in the form"
    );
    let p = w
        .post(
            "/clients/amelie/referral",
            &[
                ("program_code", "walking-group"),
                ("uptake", "not-yet"),
                ("referred_by", "Dre Roy"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let texts: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM messages WHERE client_id = 'amelie' AND message_key = 'program-details'",
    )
    .fetch_all(w.state.runner.db.pool())
    .await
    .unwrap();
    assert_eq!(texts.len(), 1);
    assert!(texts[0].starts_with("Marche du mardi"), "{}", texts[0]);
    assert!(texts[0].contains("Où : Dundonald Park"), "{}", texts[0]);
    // The record names the program, in the client's language, linked to its page.
    let rec = w.get("/clients/amelie").await;
    assert!(rec.body.contains("href=\"/programs/walking-group\""));
    // Saved again with the same program: not texted twice.
    w.post(
        "/clients/amelie/referral",
        &[("program_code", "walking-group"), ("uptake", "attended")],
    )
    .await;
    assert_eq!(
        w.count("SELECT COUNT(*) FROM messages WHERE message_key = 'program-details'")
            .await,
        1
    );
    // The program's page counts it, for its navigator.
    let page = w.get("/programs/walking-group").await;
    assert_eq!(page.status, StatusCode::OK);
    let v = page.visible();
    assert!(v.contains("Amélie Tremblay"), "{v}");
    assert!(v.contains("100 %"), "one attended of one: {v}");
    // The list, for every navigator.
    let list = w.get("/programs").await;
    assert!(
        list.visible().contains("Tuesday walking group"),
        "{}",
        list.visible()
    );
    assert!(
        !list.body.contains("action=\"/programs\""),
        "navigators do not edit"
    );
    // An unknown program is refused, and nothing changes.
    let bad = w
        .post(
            "/clients/amelie/referral",
            &[("program_code", "nope"), ("uptake", "attended")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn administrators_keep_the_catalogue_on_the_web_and_a_retired_program_takes_no_referral() {
    let w = Web::new().await;
    w.staff("ada", Role::Admin).await;
    w.sign_in("ada").await;
    w.get("/programs").await;
    let bad = w
        .post(
            "/programs",
            &[
                ("code", "Bad Code"),
                ("name_en", "X"),
                ("location", "here"),
                ("cost", "free"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.visible().contains("lower case letters"),
        "{}",
        bad.visible()
    );
    assert_eq!(w.count("SELECT COUNT(*) FROM programs").await, 0);
    let ok = w
        .post(
            "/programs",
            &[
                ("code", "garden"),
                ("partner", "Just Food"),
                ("name_en", "Community garden"),
                ("name_fr", "Jardin communautaire"),
                ("location", "2391 Pepin Ct"),
                ("schedule", "Sat 09:30"),
                ("cost", "low-cost"),
                ("languages", "en"),
                ("languages", "fr"),
                ("reasons", "food-insecurity"),
                ("reasons", "social-isolation"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(
        ok.location.as_deref(),
        Some("/programs/garden?done=program-saved")
    );
    let page = w.get("/programs/garden?done=program-saved").await;
    let v = page.visible();
    assert!(
        v.contains("Community garden") && v.contains("Just Food"),
        "{v}"
    );
    assert!(
        v.contains("Low cost") && v.contains("Saturdays 09:30"),
        "{v}"
    );
    let p = w.post("/programs/garden/retire", &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert!(
        w.get("/programs")
            .await
            .visible()
            .contains("No programs yet")
    );
    // A referral cannot name a retired program.
    let spec = ClientSpec {
        id: "bruno".into(),
        phone: Some("+15145550199".into()),
        language: "en".into(),
        ..ClientSpec::default()
    };
    let checked = actions::check(&w.state.runner, &spec).unwrap();
    actions::add(&w.state.runner, &checked, "staff:ada")
        .await
        .unwrap();
    let e = matters::runner::casework::update_referral(
        &w.state.runner,
        &ClientId::parse("bruno").unwrap(),
        &matters::runner::casework::ReferralUpdate {
            program_code: Some("garden".into()),
            uptake: "not-yet".into(),
            ..Default::default()
        },
        "staff:ada",
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("retired"), "{e}");
    let audit: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE action LIKE 'program-%' ORDER BY id",
    )
    .fetch_all(w.state.runner.db.pool())
    .await
    .unwrap();
    assert!(
        audit.contains(&"program-add".to_owned()) && audit.contains(&"program-retire".to_owned()),
        "{audit:?}"
    );
}

#[tokio::test]
async fn referrals_are_made_and_changed_through_the_api_as_its_openapi_document_says() {
    let w = Web::new().await;
    import(&w).await;
    let db = &w.state.runner.db;
    let (_, write) =
        matters::staff::issue_token(db, "EMR", matters::staff::Scope::Write, "cli", w.now())
            .await
            .unwrap();
    let (_, read) =
        matters::staff::issue_token(db, "Viewer", matters::staff::Scope::Read, "cli", w.now())
            .await
            .unwrap();
    let spec = ClientSpec {
        id: "amelie".into(),
        phone: Some("+15145550123".into()),
        language: "fr".into(),
        ..ClientSpec::default()
    };
    let checked = actions::check(&w.state.runner, &spec).unwrap();
    actions::add(&w.state.runner, &checked, "cli")
        .await
        .unwrap();
    sqlx::query("UPDATE clients SET consent = 'granted' WHERE id = 'amelie'")
        .execute(db.pool())
        .await
        .unwrap();
    let body = serde_json::json!({
        "referred_by": "Dre Roy", "role": "Family physician", "organisation": "ESF Vanier",
        "reasons": ["loneliness"], "program": "walking-group", "support_level": "medium",
        "referred_on": "2026-05-28"
    });
    // A read-only token, a bad reason, an unknown field: refused, nothing written.
    let p = w
        .api(
            "POST",
            "/api/v1/clients/amelie/referrals",
            Some(&read),
            Some(body.clone()),
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let mut bad = body.clone();
    bad["reasons"] = serde_json::json!(["boredom"]);
    let p = w
        .api(
            "POST",
            "/api/v1/clients/amelie/referrals",
            Some(&write),
            Some(bad),
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
    let mut extra = body.clone();
    extra["colour"] = serde_json::json!("blue");
    let p = w
        .api(
            "POST",
            "/api/v1/clients/amelie/referrals",
            Some(&write),
            Some(extra),
        )
        .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST, "{}", p.body);
    assert_eq!(w.count("SELECT COUNT(*) FROM referrals").await, 0);
    // Made: the program's details go to her, in French.
    let p = w
        .api(
            "POST",
            "/api/v1/clients/amelie/referrals",
            Some(&write),
            Some(body),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    let r = p.json();
    assert_eq!(r["program_code"], "walking-group");
    assert_eq!(r["program"], "Marche du mardi");
    assert_eq!(r["referred_by"], "Dre Roy, Family physician, ESF Vanier");
    let rid = r["id"].as_i64().unwrap();
    assert_eq!(
        w.count("SELECT COUNT(*) FROM messages WHERE message_key = 'program-details'")
            .await,
        1
    );
    // A second referral, beside the first.
    let p = w
        .api(
            "POST",
            "/api/v1/clients/amelie/referrals",
            Some(&write),
            Some(
                serde_json::json!({ "program_other": "Food bank", "reasons": ["food-insecurity"], "reminders": true }),
            ),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    let food = p.json()["id"].as_i64().unwrap();
    assert_eq!(
        w.count("SELECT COUNT(*) FROM referrals WHERE client_id = 'amelie'")
            .await,
        2
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM consent_events WHERE client_id = 'amelie' AND purpose = 'reminders' AND change = 'granted'")
            .await,
        1,
        "her agreement to reminders is in the consent ledger"
    );
    // A sequence follows up the first referral, not the latest.
    let p = w
        .api(
            "POST",
            "/api/v1/clients/amelie/enrolments",
            Some(&write),
            Some(serde_json::json!({ "sequence": "light", "referral_id": rid })),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    assert_eq!(p.json()["referral_id"], rid);
    let p = w
        .api(
            "POST",
            "/api/v1/clients/amelie/enrolments",
            Some(&write),
            Some(serde_json::json!({ "sequence": "light" })),
        )
        .await;
    assert_eq!(
        p.status,
        StatusCode::CREATED,
        "the same sequence, for her latest referral: {}",
        p.body
    );
    assert_eq!(p.json()["referral_id"], food);
    // Changed, then closed.
    let path = format!("/api/v1/clients/amelie/referrals/{rid}");
    let patch =
        async |body: serde_json::Value| w.api("PATCH", &path, Some(&write), Some(body)).await;
    let p = patch(serde_json::json!({ "uptake": "attended" })).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(p.json()["uptake"], "attended");
    let p = patch(serde_json::json!({ "closing_reason": "goal-met" })).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(p.json()["closing_reason"], "goal-met");
    let p = patch(serde_json::json!({ "closing_reason": "moved" })).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "closed once");
    let p = w
        .api(
            "PATCH",
            "/api/v1/clients/amelie/referrals/999",
            Some(&write),
            Some(serde_json::json!({ "uptake": "attended" })),
        )
        .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    // The OpenAPI document has both.
    let doc = w.api("GET", "/api/openapi.json", None, None).await.json();
    assert!(doc["paths"]["/api/v1/clients/{id}/referrals"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/clients/{id}/referrals/{rid}"]["patch"].is_object());
    assert!(doc["components"]["schemas"]["NewReferralBody"].is_object());
}

#[tokio::test]
async fn the_referrer_hears_back_in_english_and_french_at_once_or_after_review() {
    let w = Web::new().await;
    import(&w).await;
    let db = &w.state.runner.db;
    let nora = w.staff("nora", Role::Navigator).await;
    for (id, phone) in [("amelie", "+15145550123"), ("bruno", "+15145550199")] {
        client(&w, id, phone, "fr", nora.id).await;
    }
    let refer = |client: &'static str, level: &'static str| {
        let runner = w.state.runner.clone();
        async move {
            matters::runner::referrals::add_referral(
                &runner,
                &ClientId::parse(client).unwrap(),
                &matters::runner::referrals::NewReferralSpec {
                    referred_by: Some("Dre Roy".into()),
                    program_code: Some("walking-group".into()),
                    support_level: Some(level.into()),
                    ..Default::default()
                },
                "staff:nora",
            )
            .await
            .unwrap()
        }
    };
    let medium = refer("amelie", "medium").await;
    let light = refer("bruno", "light").await;
    // Her loneliness at baseline and three months, for this referral: 7, then 5 (lower is
    // better). A score of another referral is not this one's.
    for (tp, total, referral) in [
        ("baseline", 7, medium),
        ("3-month", 5, medium),
        ("3-month", 9, light),
    ] {
        sqlx::query(
            "INSERT INTO scores (client_id, session_id, flow_id, revision, instrument, time_point, total, complete, items, at, referral_id) \
             VALUES ('amelie', 0, 'loneliness', 'r1', 'ucla3', $1, $2, 1, '{}', $3, $4)",
        )
        .bind(tp)
        .bind(total)
        .bind(w.now())
        .bind(referral)
        .execute(db.pool())
        .await
        .unwrap();
    }
    // The client names a barrier, then goes: the uptake changes.
    sqlx::query(
        "INSERT INTO answers (client_id, session_id, flow_id, revision, step_id, record_key, raw_text, value, status, locale, at) \
         VALUES ('amelie', 0, 'referral-followup', 'r1', 'barrier', 'referral.barrier', '1', 'transport', 'answered', 'fr', $1)",
    )
    .bind(w.now())
    .execute(db.pool())
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    for rid in [medium, light] {
        let client = if rid == medium { "amelie" } else { "bruno" };
        matters::runner::referrals::patch_referral(
            &w.state.runner,
            &ClientId::parse(client).unwrap(),
            rid,
            &matters::runner::referrals::ReferralPatch {
                uptake: Some("attended".into()),
                ..Default::default()
            },
            "staff:nora",
        )
        .await
        .unwrap();
    }
    let auto = matters::summaries::of_referral(db, medium).await.unwrap();
    assert_eq!(auto.len(), 1);
    assert_eq!(auto[0].status, "sent", "the medium level sends at once");
    println!("EN: {}\nFR: {}", auto[0].text_en, auto[0].text_fr);
    let en = &auto[0].text_en;
    assert!(
        en.contains("Referral by Dre Roy to Tuesday walking group."),
        "{en}"
    );
    assert!(
        en.contains("The client went to the program. They are still going."),
        "{en}"
    );
    assert!(en.contains("Barriers they named: transport"), "{en}");
    assert!(
        en.contains("Loneliness (UCLA-3, 3 to 9): 7 at baseline, 5 at 3 months (better)."),
        "{en}"
    );
    let fr = &auto[0].text_fr;
    assert!(
        fr.contains("Orientation par Dre Roy vers Marche du mardi."),
        "{fr}"
    );
    assert!(
        fr.contains("Solitude (UCLA-3, de 3 à 9) : 7 au départ, 5 à 3 mois (mieux)."),
        "{fr}"
    );
    // The light level waits for a navigator's review, who sends it from the record.
    let draft = matters::summaries::of_referral(db, light).await.unwrap();
    assert_eq!(draft[0].status, "draft");
    w.sign_in("nora").await;
    let rec = w.get("/clients/bruno").await;
    assert!(
        rec.visible().contains("Waiting for your review"),
        "{}",
        rec.visible()
    );
    let sid = draft[0].id.to_string();
    // Not another client's summary.
    let p = w
        .post("/clients/amelie/summary-send", &[("summary", &sid)])
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    w.get("/clients/bruno").await;
    let p = w
        .post("/clients/bruno/summary-send", &[("summary", &sid)])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(
        matters::summaries::of_referral(db, light).await.unwrap()[0].status,
        "sent"
    );
    // The letter, in both languages; reading it is audited.
    let letter = w.get(&format!("/clients/bruno/summaries/{sid}")).await;
    assert_eq!(letter.status, StatusCode::OK);
    assert!(
        letter.body.contains("Referral update")
            && letter.body.contains("Nouvelles de l'orientation")
    );
    // And as a PDF, read back by a real PDF parser.
    let pdf = w.get(&format!("/clients/bruno/summaries/{sid}/pdf")).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(
        pdf.header("content-type").as_deref(),
        Some("application/pdf")
    );
    let doc = lopdf::Document::load_mem(&pdf.bytes).expect("a PDF");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).expect("its text");
    println!("The PDF letter, as its text reads:\n{text}");
    assert!(text.contains("Referral update"), "{text}");
    assert!(
        text.contains("Nouvelles de l") && text.contains("orientation"),
        "{text}"
    );
    assert!(text.contains("Orientation par Dre Roy vers"), "{text}");
    assert!(text.contains("participé"), "French accents kept: {text}");
    // The record's history of the referral: its uptake, and the word back.
    let rec = w.get("/clients/bruno").await;
    let v = rec.visible();
    assert!(v.contains("Uptake: Attended"), "{v}");
    assert!(
        v.contains("Summary for the referrer, on a change of uptake · sent"),
        "{v}"
    );
    let actions: Vec<String> = w
        .audit_actions("bruno")
        .await
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    for a in [
        "summary-write",
        "summary-send",
        "summary-view",
        "summary-pdf",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    let history: Vec<(String, String)> = sqlx::query_as(
        "SELECT uptake, source FROM referral_uptake WHERE referral_id = $1 ORDER BY id",
    )
    .bind(light)
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(
        history,
        vec![
            ("not-yet".into(), "navigator".into()),
            ("attended".into(), "navigator".into())
        ]
    );
    // The Referrers page: Dre Roy's two referrals, as their navigator sees them.
    let page = w.get("/referrers").await;
    assert_eq!(page.status, StatusCode::OK);
    let v = page.visible();
    assert!(v.contains("Dre Roy"), "{v}");
    assert!(v.contains("2 referrals: 2 open, 0 closed"), "{v}");
    assert!(
        !page.body.contains("action=\"/referrers\""),
        "navigators do not set it"
    );
    // An administrator chooses: the light level goes at once too, signposting waits.
    w.staff("ada", Role::Admin).await;
    w.sign_in("ada").await;
    w.get("/referrers").await;
    let p = w
        .post(
            "/referrers",
            &[
                ("signposting", "review"),
                ("light", "auto"),
                ("medium", "auto"),
                ("holistic", "auto"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    matters::runner::referrals::patch_referral(
        &w.state.runner,
        &ClientId::parse("bruno").unwrap(),
        light,
        &matters::runner::referrals::ReferralPatch {
            uptake: Some("dropped-out".into()),
            ..Default::default()
        },
        "staff:nora",
    )
    .await
    .unwrap();
    let now_light = matters::summaries::of_referral(db, light).await.unwrap();
    assert_eq!(now_light[0].status, "sent", "light now goes at once");
    let fr = w.get("/referrers").await;
    assert!(
        fr.body.contains("value=\"auto\" checked"),
        "the choice shows"
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM audit_log WHERE action = 'summaries-setting'")
            .await,
        1
    );
    // The 6-month outcome: written once when it is in, not while a 6-month step is to come.
    sqlx::query(
        "INSERT INTO scores (client_id, session_id, flow_id, revision, instrument, time_point, total, complete, items, at, referral_id) \
         VALUES ('amelie', 0, 'loneliness', 'r1', 'ucla3', '6-month', 4, 1, '{}', $1, $2)",
    )
    .bind(w.now())
    .bind(medium)
    .execute(db.pool())
    .await
    .unwrap();
    let enrolment: i64 = sqlx::query_scalar(
        "INSERT INTO enrolments (client_id, sequence_id, revision, status, enrolled_at, referral_id, actor, created_at, updated_at) \
         VALUES ('amelie', 'standard', 'r1', 'active', $1, $2, 'test', $1, $1) RETURNING id",
    )
    .bind(w.now())
    .bind(medium)
    .fetch_one(db.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO jobs (client_id, kind, step_id, status, due_at, created_at, updated_at, enrolment_id, time_point, flow_id) \
         VALUES ('amelie', 'step', 'wellbeing-6m', 'blocked', $1, $1, $1, $2, '6-month', 'wellbeing')",
    )
    .bind(w.now())
    .bind(enrolment)
    .execute(db.pool())
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let catalog = w.state.runner.catalog.clone();
    assert_eq!(
        matters::summaries::sweep_outcomes(db, &catalog, w.now())
            .await
            .unwrap(),
        0
    );
    sqlx::query("UPDATE jobs SET status = 'done' WHERE enrolment_id = $1")
        .bind(enrolment)
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(
        matters::summaries::sweep_outcomes(db, &catalog, w.now())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        matters::summaries::sweep_outcomes(db, &catalog, w.now())
            .await
            .unwrap(),
        0
    );
    let six = matters::summaries::of_referral(db, medium).await.unwrap();
    assert_eq!(six[0].event, "outcome");
    assert!(
        six[0]
            .text_en
            .contains("7 at baseline, 4 at 6 months (better)"),
        "{}",
        six[0].text_en
    );
    assert!(
        six[0].text_fr.contains("7 au départ, 4 à 6 mois (mieux)"),
        "{}",
        six[0].text_fr
    );
}

#[tokio::test]
async fn a_client_who_agreed_to_reminders_is_texted_the_day_before_each_session_once() {
    let w = Web::new().await;
    import(&w).await;
    let db = &w.state.runner.db;
    let nora = w.staff("nora", Role::Navigator).await;
    for (id, phone, lang) in [
        ("amelie", "+15145550123", "fr"),
        ("bruno", "+15145550199", "en"),
    ] {
        client(&w, id, phone, lang, nora.id).await;
        sqlx::query("UPDATE clients SET consent = 'granted' WHERE id = $1")
            .bind(id)
            .execute(db.pool())
            .await
            .unwrap();
    }
    // Amélie agrees to reminders on the record's referral form; Bruno is referred without.
    w.sign_in("nora").await;
    w.get("/clients/amelie").await;
    let p = w
        .post(
            "/clients/amelie/referral",
            &[
                ("program_code", "walking-group"),
                ("uptake", "not-yet"),
                ("reasons_shown", "1"),
                ("reasons", "loneliness"),
                ("reasons", "social-isolation"),
                ("reminders_shown", "1"),
                ("reminders", "1"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    w.get("/clients/bruno").await;
    w.post(
        "/clients/bruno/referral",
        &[
            ("program_code", "walking-group"),
            ("uptake", "not-yet"),
            ("reminders_shown", "1"),
        ],
    )
    .await;
    let (reasons, reminders): (String, Option<String>) = sqlx::query_as(
        "SELECT r.reasons, c.reminders FROM referrals r JOIN clients c ON c.id = r.client_id WHERE r.client_id = 'amelie'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(
        reasons, "loneliness,social-isolation",
        "the reasons are edited on the record"
    );
    assert_eq!(reminders.as_deref(), Some("granted"));
    let ledger: Vec<(String, String)> = sqlx::query_as(
        "SELECT purpose, change FROM consent_events WHERE client_id = 'amelie' ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert!(
        ledger.contains(&("reminders".into(), "granted".into())),
        "{ledger:?}"
    );
    let rec = w.get("/clients/amelie").await;
    assert!(
        rec.visible().contains("reminders before program sessions"),
        "{}",
        rec.visible()
    );
    let reminders = async || -> Vec<(String, String)> {
        sqlx::query_as(
            "SELECT client_id, body FROM messages WHERE message_key = 'program-reminder' ORDER BY id",
        )
        .fetch_all(w.state.runner.db.pool())
        .await
        .unwrap()
    };
    // Monday 10:00 in Toronto: the walk is tomorrow, Tuesday at 10:00.
    assert_eq!(
        matters::programs::reminders::sweep(&w.state.runner)
            .await
            .unwrap(),
        1
    );
    let sent = reminders().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, "amelie", "only the client who agreed");
    assert_eq!(
        sent[0].1,
        "Rappel : Marche du mardi a lieu demain à 10 h 00, Dundonald Park, Somerset St W."
    );
    assert!(matters::sms::cost(&sent[0].1).segments <= 2);
    // Once per session.
    assert_eq!(
        matters::programs::reminders::sweep(&w.state.runner)
            .await
            .unwrap(),
        0
    );
    // Tuesday: no session on Wednesday.
    w.clock.advance(chrono::Duration::days(1));
    assert_eq!(
        matters::programs::reminders::sweep(&w.state.runner)
            .await
            .unwrap(),
        0
    );
    // The next Monday, before 10:00: not yet; after: the next week's walk.
    w.clock
        .advance(chrono::Duration::days(6) - chrono::Duration::hours(1));
    assert_eq!(
        matters::programs::reminders::sweep(&w.state.runner)
            .await
            .unwrap(),
        0
    );
    w.clock.advance(chrono::Duration::minutes(90));
    assert_eq!(
        matters::programs::reminders::sweep(&w.state.runner)
            .await
            .unwrap(),
        1
    );
    // She decides not to go: no more reminders.
    w.sign_in("nora").await;
    w.get("/clients/amelie").await;
    let p = w
        .post(
            "/clients/amelie/referral",
            &[("program_code", "walking-group"), ("uptake", "declined")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT client_id, uptake FROM referrals ORDER BY id")
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert!(
        rows.contains(&("amelie".into(), "declined".into())),
        "{rows:?}"
    );
    w.clock.advance(chrono::Duration::days(7));
    assert_eq!(
        matters::programs::reminders::sweep(&w.state.runner)
            .await
            .unwrap(),
        0
    );
    assert_eq!(reminders().await.len(), 2);
    assert_eq!(
        w.count("SELECT COUNT(*) FROM audit_log WHERE action = 'program-reminder-send'")
            .await,
        2
    );
}
