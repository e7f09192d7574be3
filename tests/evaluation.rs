//! What matters, goals and equity, and the whole evaluation: goals on the record, the
//! sociodemographic questions behind their own consent and a staff setting, the cohort's
//! figures over a seeded cohort with known values (stratified, small cells suppressed), the CSV
//! with a row per referral, the API's figures, and FHIR Goals and Observations read by an R4
//! model library.

mod support;

use axum::http::StatusCode;
use matters::domain::{ClientId, FlowId};
use matters::runner::IfBusy;
use matters::staff::{self, Role, Scope};
use matters::store::record::{NewReferral, add_referral};
use serde_json::{Value, json};
use support::web::Web;

fn id(s: &str) -> ClientId {
    ClientId::parse(s).unwrap()
}

async fn add_client(w: &Web, client: &str, extra: &[(&str, &str)]) {
    let p = w.add_client(client, extra).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
}

/// A score as the runner writes it, attached to a referral at a time point.
async fn score(w: &Web, client: &str, referral: i64, instrument: &str, tp: &str, v: &str) {
    let (total, category): (Option<i64>, Option<&str>) = match v.parse() {
        Ok(t) => (Some(t), None),
        Err(_) => (None, Some(v)),
    };
    sqlx::query(
        "INSERT INTO scores (client_id, session_id, flow_id, revision, instrument, time_point, total, category, complete, items, at, referral_id) \
         VALUES ($1, 0, 'loneliness', 'r', $2, $3, $4, $5, 1, '{}', $6, $7)",
    )
    .bind(client)
    .bind(instrument)
    .bind(tp)
    .bind(total)
    .bind(category)
    .bind(w.now())
    .bind(referral)
    .execute(w.state.runner.db.pool())
    .await
    .unwrap();
}

async fn referral_of(w: &Web, client: &str) -> i64 {
    sqlx::query_scalar("SELECT MAX(id) FROM referrals WHERE client_id = $1")
        .bind(client)
        .fetch_one(w.state.runner.db.pool())
        .await
        .unwrap()
}

async fn says(w: &Web, client: &str, text: &str) {
    let inbound =
        matters::runner::Inbound::new(matters::domain::Channel::Sms, id(client), None, text);
    w.state.runner.receive(&inbound).await.unwrap();
}

#[tokio::test]
async fn a_navigator_sets_rates_and_closes_a_goal_in_the_clients_words_and_the_bot_quotes_it() {
    let w = Web::new().await;
    w.staff("ada", Role::Admin).await;
    w.sign_in("ada").await;
    add_client(&w, "amelie", &[]).await;
    // Nothing to check in on yet: the goal check-in is refused with the reason.
    let start = w
        .post(
            "/clients/amelie/start-flow",
            &[("flow", "goal-checkin"), ("time_point", "")],
        )
        .await;
    assert_eq!(start.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        start.visible().contains("no active goal"),
        "{}",
        start.visible()
    );
    // A rating out of range is refused and nothing is written.
    let bad = w
        .post(
            "/clients/amelie/goal-add",
            &[("goal_text", "Sing again"), ("rating", "11")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(w.count("SELECT COUNT(*) FROM goals").await, 0);
    let words = "Retourner à la chorale le jeudi, avec Lise";
    let rid = referral_of(&w, "amelie").await.to_string();
    let p = w
        .post(
            "/clients/amelie/goal-add",
            &[
                ("goal_text", words),
                ("goal_steps", "Call Lise; ask about the bus"),
                ("target_on", "2026-09-01"),
                ("referral", &rid),
                ("rating", "3"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let page = w.get("/clients/amelie").await;
    assert!(page.body.contains(&format!(
        "<strong dir=\"auto\" class=\"client-words\">{}</strong>",
        "Retourner à la chorale le jeudi, avec Lise"
    )));
    // What matters comes first on the record, then the goals.
    let body = &page.body;
    assert!(body.find("matters-h").unwrap() < body.find("goals-h").unwrap());
    assert!(body.find("goals-h").unwrap() < body.find("who-h").unwrap());
    // The bot quotes the goal as written, and the client's rating is the goal's.
    w.state
        .runner
        .start_flow(
            &id("amelie"),
            &FlowId::parse("goal-checkin").unwrap(),
            None,
            IfBusy::Replace,
            "test",
        )
        .await
        .unwrap();
    let asked: String = sqlx::query_scalar(
        "SELECT body FROM messages WHERE client_id = 'amelie' AND message_key = 'gc-rating'",
    )
    .fetch_one(w.state.runner.db.pool())
    .await
    .unwrap();
    assert!(asked.contains(&format!("\"{words}\"")), "{asked}");
    says(&w, "amelie", "7").await;
    says(&w, "amelie", "no").await;
    let goals = matters::store::goals::of_client(&w.state.runner.db, "amelie")
        .await
        .unwrap();
    assert_eq!(goals.len(), 1);
    let g = &goals[0];
    assert_eq!(g.text, words);
    assert_eq!(
        g.ratings
            .iter()
            .map(|r| (r.rating, r.source.as_str()))
            .collect::<Vec<_>>(),
        vec![(3, "set"), (7, "client")]
    );
    let gid = g.id.to_string();
    let p = w
        .post(
            "/clients/amelie/goal-rate",
            &[("goal", &gid), ("rating", "9")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let p = w
        .post(
            "/clients/amelie/goal-close",
            &[("goal", &gid), ("how", "met")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let page = w.get("/clients/amelie").await.visible();
    assert!(page.contains("Met"), "{page}");
    assert!(page.contains("3 → 9"), "{page}");
    assert!(page.contains("Mean change in rating: +6.0"), "{page}");
    // Closed twice: refused.
    let again = w
        .post(
            "/clients/amelie/goal-close",
            &[("goal", &gid), ("how", "dropped")],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    // "Goal met" as the referral's closing reason stands on the record's goals, and the word
    // back to the referrer says so.
    let p = w
        .post("/clients/amelie/close-referral", &[("reason", "goal-met")])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let page = w.get("/clients/amelie").await.visible();
    assert!(page.contains("Goal met · goals met: 1 of 1"), "{page}");
    let words: String =
        sqlx::query_scalar("SELECT text_en FROM referrer_summaries ORDER BY id DESC LIMIT 1")
            .fetch_one(w.state.runner.db.pool())
            .await
            .unwrap();
    assert!(
        words.contains("Goals set with the client: 1; met: 1."),
        "{words}"
    );
    let actions: Vec<String> = w
        .audit_actions("amelie")
        .await
        .into_iter()
        .map(|a| a.1)
        .collect();
    for want in ["goal-set", "goal-rated", "goal-closed"] {
        assert!(actions.iter().any(|a| a == want), "{want}: {actions:?}");
    }
}

#[tokio::test]
async fn sociodemographics_need_the_setting_and_the_clients_consent_and_every_view_is_audited() {
    let w = Web::new().await;
    w.staff("ada", Role::Admin).await;
    let nora = w.staff("nora", Role::Navigator).await;
    w.sign_in("ada").await;
    add_client(&w, "amelie", &[]).await;
    // An administrator without the setting is refused too, and the attempt is recorded.
    let p = w.get("/clients/amelie/sociodemographics").await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let refused = w
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'sociodemographics-refused' AND client_id = 'amelie'")
        .await;
    assert_eq!(refused, 1);
    let p = w
        .post(&format!("/staff/{}/sociodemographics-on", nora.id), &[])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    // Nora may see them, for her own clients.
    w.post(
        "/clients/amelie/assign",
        &[("navigator", &nora.id.to_string())],
    )
    .await;
    w.sign_in("nora").await;
    let p = w.get("/clients/amelie/sociodemographics").await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(p.visible().contains("Never asked"), "{}", p.visible());
    // Without the client's consent nothing is kept.
    let p = w
        .post(
            "/clients/amelie/sociodemographics",
            &[("race", "black"), ("income", "prefer-not")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.visible().contains("not agreed"), "{}", p.visible());
    assert_eq!(w.count("SELECT COUNT(*) FROM sociodemographics").await, 0);
    // A value that answers nothing is refused, whole.
    let p = w
        .post(
            "/clients/amelie/sociodemographics",
            &[("consent", "yes"), ("race", "martian")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(w.count("SELECT COUNT(*) FROM sociodemographics").await, 0);
    let p = w
        .post(
            "/clients/amelie/sociodemographics",
            &[
                ("consent", "yes"),
                ("race", "black"),
                ("income", "prefer-not"),
                ("age", "65-74"),
                ("gender", ""),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let held = matters::equity::read(&w.state.runner.db, "amelie")
        .await
        .unwrap();
    assert_eq!(held.consent.as_deref(), Some("granted"));
    assert_eq!(
        held.answers.get("income").map(String::as_str),
        Some("prefer-not")
    );
    assert_eq!(held.answers.get("race").map(String::as_str), Some("black"));
    assert!(
        !held.answers.contains_key("gender"),
        "a blank is left alone"
    );
    // Apart from the answers; the consent in the ledger under its own purpose.
    assert_eq!(w.count("SELECT COUNT(*) FROM answers").await, 0);
    assert_eq!(
        w.count("SELECT COUNT(*) FROM consent_events WHERE purpose = 'sociodemographics' AND change = 'granted'")
            .await,
        1
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM consent_events WHERE purpose = 'messaging' AND source = 'in-person'")
            .await,
        0,
        "the messaging consent is not this one"
    );
    let p = w.get("/clients/amelie/sociodemographics").await;
    assert!(p.visible().contains("Prefer not to answer"));
    // The record links to them only for staff who may see them.
    assert!(
        w.get("/clients/amelie")
            .await
            .body
            .contains("/clients/amelie/sociodemographics")
    );
    w.sign_in("ada").await;
    assert!(
        !w.get("/clients/amelie")
            .await
            .body
            .contains("/clients/amelie/sociodemographics")
    );
    let actions: Vec<(String, String)> = w.audit_actions("amelie").await;
    for want in [
        "sociodemographics-refused",
        "sociodemographics-view",
        "sociodemographics-consent",
        "sociodemographics-entered",
    ] {
        assert!(actions.iter().any(|a| a.1 == want), "{want}: {actions:?}");
    }
    assert!(actions.contains(&("staff:nora".into(), "sociodemographics-view".into())));
    // By text: the questions and answers in the conversation are hidden from staff without the
    // setting, on the record and in its export; staff with it see them.
    w.state
        .runner
        .start_flow(
            &id("amelie"),
            &FlowId::parse("sociodemographics").unwrap(),
            None,
            IfBusy::Replace,
            "test",
        )
        .await
        .unwrap();
    for reply in ["yes", "yes", "asian"] {
        says(&w, "amelie", reply).await;
    }
    let page = w.get("/clients/amelie").await;
    assert!(
        !page.body.contains("East Asian"),
        "the race question's follow-up shown"
    );
    assert!(
        page.visible()
            .contains("Sociodemographic questions: shown only")
    );
    let export = w.get("/clients/amelie/export").await;
    assert!(!export.body.contains("East Asian") && !export.body.contains("\"black\""));
    assert!(export.body.contains("withheld"));
    w.sign_in("nora").await;
    assert!(w.get("/clients/amelie").await.body.contains("East Asian"));
    let export = w.get("/clients/amelie/export").await.json();
    assert_eq!(export["sociodemographics"]["answers"]["race"], "black");
    w.sign_in("ada").await;
    // The audit never holds the answers.
    let details: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE action LIKE 'sociodemographics%'")
            .fetch_all(w.state.runner.db.pool())
            .await
            .unwrap();
    assert!(details.iter().all(|d| !d.contains("black")), "{details:?}");
}

/// Seven clients with known figures: five White, one Black, one Latin American; six paired on
/// UCLA-3.
async fn seeded_cohort(w: &Web) {
    let db = &w.state.runner.db;
    let now = w.now();
    let people = [
        ("c1", "white", "attended", 8, 5),
        ("c2", "white", "attended", 9, 6),
        ("c3", "white", "attended", 7, 5),
        ("c4", "white", "declined", 8, 8),
        ("c5", "white", "attended", 9, 4),
        ("c6", "black", "attended", 9, 7),
        ("c7", "latin-american", "not-yet", 8, 0),
    ];
    for (c, race, uptake, base, six) in people {
        add_client(w, c, &[]).await;
        let r = referral_of(w, c).await;
        sqlx::query("UPDATE referrals SET uptake = $1 WHERE id = $2")
            .bind(uptake)
            .bind(r)
            .execute(db.pool())
            .await
            .unwrap();
        score(w, c, r, "ucla3", "baseline", &base.to_string()).await;
        if six > 0 {
            score(w, c, r, "ucla3", "6-month", &six.to_string()).await;
        }
        score(w, c, r, "cchs-belonging", "baseline", "somewhat-weak").await;
        score(w, c, r, "cchs-belonging", "3-month", "somewhat-strong").await;
        matters::equity::enter(
            db,
            &id(c),
            &[
                ("race".into(), race.into()),
                ("born-in-canada".into(), "no".into()),
                ("arrival".into(), "2020-later".into()),
            ],
            true,
            "staff:ada",
            now,
        )
        .await
        .unwrap();
    }
    // c1 was referred a second time.
    add_referral(
        db,
        &id("c1"),
        &NewReferral {
            program: Some("Choir".into()),
            ..NewReferral::default()
        },
        now,
        "test",
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn the_cohort_stratifies_and_suppresses_small_cells_on_the_page_in_the_api_and_the_csv() {
    let w = Web::new().await;
    w.staff("ada", Role::Admin).await;
    w.sign_in("ada").await;
    seeded_cohort(&w).await;
    let (_, secret) = staff::issue_token(
        &w.state.runner.db,
        "evaluator",
        Scope::Read,
        "test",
        w.now(),
    )
    .await
    .unwrap();
    let api = w.api("GET", "/api/v1/cohort", Some(&secret), None).await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let c = api.json();
    let measure = |m: &str| -> Value {
        c["measures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["measure"] == m)
            .unwrap()
            .clone()
    };
    let ucla = measure("ucla3");
    // Baseline: 7 clients, mean 58/7 = 8.3; six paired to a mean change of (-3-3-2+0-5-2)/6.
    assert_eq!(ucla["at"][0], json!({ "n": 7, "text": "8.3" }));
    assert_eq!(ucla["change_6"], json!({ "n": 6, "text": "-2.5" }));
    assert_eq!(ucla["change_3"]["text"], "< 5");
    // Belonging, a category, by its rank: somewhat-weak 2 to somewhat-strong 3 at 3 months.
    let belonging = measure("cchs-belonging");
    assert_eq!(belonging["change_3"], json!({ "n": 7, "text": "+1.0" }));
    let race = c["stratified"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["variable"] == "race")
        .unwrap();
    let group = |v: &str| {
        race["strata"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["value"] == v)
            .unwrap()
            .clone()
    };
    // For the reader of the test's output (`-- --nocapture`): the figures as the API gives them.
    for m in c["measures"].as_array().unwrap() {
        let cell = |v: &Value| match v["n"].as_u64() {
            Some(n) => format!("{} (n {n})", v["text"].as_str().unwrap()),
            None => v["text"].as_str().unwrap().to_owned(),
        };
        eprintln!(
            "{:<24} baseline {:<12} 3 months {:<12} 6 months {:<12} change to 3 {:<12} change to 6 {}",
            m["measure"].as_str().unwrap(),
            cell(&m["at"][0]),
            cell(&m["at"][1]),
            cell(&m["at"][2]),
            cell(&m["change_3"]),
            cell(&m["change_6"])
        );
    }
    eprintln!(
        "race: group | clients | attended | UCLA-3 change | life satisfaction change | belonging change"
    );
    for g in race["strata"].as_array().unwrap() {
        eprintln!(
            "  {} | {} | {} | {} | {} | {}",
            g["value"].as_str().unwrap(),
            g["clients"]["text"].as_str().unwrap(),
            g["attended"]["text"].as_str().unwrap(),
            g["changes"][0]["text"].as_str().unwrap(),
            g["changes"][1]["text"].as_str().unwrap(),
            g["changes"][2]["text"].as_str().unwrap()
        );
    }
    let white = group("white");
    assert_eq!(white["clients"]["text"], "5");
    assert_eq!(
        white["attended"]["text"], "< 5",
        "four attended: a small cell"
    );
    assert_eq!(white["changes"][0], json!({ "n": 5, "text": "-2.6" }));
    let black = group("black");
    assert_eq!(
        black["clients"],
        json!({ "n": null, "text": "< 5" }),
        "no n for a small cell"
    );
    assert_eq!(black["changes"][0]["text"], "< 5");
    let newcomers = c["stratified"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["variable"] == "newcomer")
        .unwrap();
    assert_eq!(newcomers["strata"][0]["value"], "newcomer");
    assert_eq!(newcomers["strata"][0]["clients"]["text"], "7");
    // Uptake: 8 referrals, 5 attended; declined and not yet are small cells.
    assert_eq!(c["referrals"]["text"], "8");
    let uptake: Vec<(String, String)> = c["uptake"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["uptake"].as_str().unwrap().to_owned(),
                u["referrals"]["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        uptake.contains(&("attended".into(), "5".into())),
        "{uptake:?}"
    );
    assert!(
        uptake.contains(&("declined".into(), "< 5".into())),
        "{uptake:?}"
    );
    // A filter narrows it: only the second referral's program, one client, all suppressed.
    let narrow = w
        .api("GET", "/api/v1/cohort?referrer=nobody", Some(&secret), None)
        .await
        .json();
    assert_eq!(narrow["referrals"]["text"], "< 5");

    // The page shows the same, in words; the groups only to staff allowed to see
    // sociodemographics.
    let hidden = w.get("/cohort").await;
    assert!(
        !hidden.body.contains("White"),
        "groups shown to staff without the setting"
    );
    assert!(
        hidden.visible().contains("Only staff allowed"),
        "{}",
        hidden.visible()
    );
    let ada = staff::list(&w.state.runner.db, None)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.username == "ada")
        .unwrap();
    w.post(&format!("/staff/{}/sociodemographics-on", ada.id), &[])
        .await;
    let page = w.get("/cohort").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = scraper::Html::parse_document(&page.body);
    let rows: Vec<String> = html
        .select(&scraper::Selector::parse("tr").unwrap())
        .map(|r| {
            r.text()
                .collect::<Vec<_>>()
                .join(" ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert!(
        rows.iter().any(|r| r.starts_with("White 5 < 5 -2.6")),
        "{rows:#?}"
    );
    assert!(
        rows.iter().any(|r| r.starts_with("Black < 5 < 5 < 5")),
        "{rows:#?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.starts_with("Loneliness (UCLA-3, 3–9, lower is better) 8.3 (7)")),
        "{rows:#?}"
    );
    let filtered = w.get("/cohort?language=en&level=holistic").await;
    assert_eq!(filtered.status, StatusCode::OK);
    assert!(
        filtered.visible().contains("Referrals: < 5"),
        "{}",
        filtered.visible()
    );

    // The CSV: a row per referral, the banded sociodemographics de-identified, with a value
    // fewer than five share shown as "< 5".
    let csv_page = w.get("/export/evaluation.csv?deidentified=1").await;
    assert_eq!(csv_page.status, StatusCode::OK);
    let mut r = csv::Reader::from_reader(csv_page.body.as_bytes());
    let h = r.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 8, "seven clients, c1 twice");
    let col = |row: &csv::StringRecord, k: &str| {
        row.get(
            h.iter()
                .position(|x| x == k)
                .unwrap_or_else(|| panic!("no {k}")),
        )
        .unwrap()
        .to_owned()
    };
    let numbers: Vec<String> = rows.iter().map(|r| col(r, "referral_number")).collect();
    assert_eq!(numbers.iter().filter(|n| *n == "2").count(), 1);
    let races: Vec<String> = rows.iter().map(|r| col(r, "sd_race")).collect();
    assert_eq!(races.iter().filter(|x| *x == "white").count(), 6);
    assert_eq!(races.iter().filter(|x| *x == "< 5").count(), 2);
    assert!(rows.iter().all(|r| col(r, "newcomer") == "yes"));
    assert!(h.iter().any(|x| x == "goal_rating_6_month"));
    assert!(h.iter().any(|x| x == "cchs_belonging_3_month"));
    // The cohort's figures as a CSV: the same cells, small ones "< 5" with no n.
    let figures = w.get("/export/cohort.csv").await;
    assert_eq!(figures.status, StatusCode::OK);
    let lines: Vec<&str> = figures.body.lines().collect();
    assert!(
        lines.contains(&"outcomes,ucla3,,paired change,6-month,-2.5,6"),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"by group,race,black,clients,,< 5,"),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"by group,race,white,clients,,5,5"),
        "{lines:#?}"
    );
    // The identified export holds them only for staff allowed to see them.
    let full = w.get("/export/evaluation.csv").await.body;
    assert!(full.lines().next().unwrap().contains("sd_race"));
    w.post(&format!("/staff/{}/sociodemographics-off", ada.id), &[])
        .await;
    let full = w.get("/export/evaluation.csv").await.body;
    assert!(!full.lines().next().unwrap().contains("sd_race"));
}

#[tokio::test]
async fn health_system_use_is_imported_and_compared_before_and_after() {
    let w = Web::new().await;
    w.staff("ada", Role::Admin).await;
    w.sign_in("ada").await;
    seeded_cohort(&w).await;
    let mut csv = String::from("client,period,primary_care,ed_visits,admissions\n");
    for c in ["c1", "c2", "c3", "c4", "c5"] {
        csv.push_str(&format!("{c},before,6,2,1\n{c},after,4,1,0\n"));
    }
    csv.push_str("c9,before,1,1,1\nc6,sometime,1,1,1\nc7,after,lots,0,0\n");
    let report =
        matters::health_use::import(&w.state.runner.db, csv.as_bytes(), "staff:ada", w.now())
            .await
            .unwrap();
    assert_eq!(report.imported, 10);
    assert_eq!(
        report.errors.iter().map(|e| e.0).collect::<Vec<_>>(),
        vec![12, 13, 14],
        "{:?}",
        report.errors
    );
    let facts = matters::evaluation::facts(
        &w.state.runner.db,
        None,
        &matters::evaluation::Filter::default(),
        chrono_tz::America::Toronto,
    )
    .await
    .unwrap();
    let c = matters::evaluation::cohort(&facts);
    let pc = &c.health[0];
    assert_eq!(
        (pc.before.text.as_str(), pc.after.text.as_str()),
        ("6.0", "4.0")
    );
    assert_eq!(pc.change.text, "-2.0");
    assert_eq!(
        pc.change.n,
        Some(5),
        "one pair per client, whatever their referrals"
    );
    let page = w.get("/cohort").await.visible();
    assert!(
        page.contains("Primary-care visits 6.0 4.0 -2.0 (5)"),
        "{page}"
    );
    // An administrator pastes the same on the Export page: a row sent again replaces the first.
    w.get("/export").await;
    let p = w
        .post(
            "/export/health-use",
            &[("csv", "client,period,primary_care,ed_visits,admissions\nc1,after,0,0,0\nnobody,after,1,1,1\n")],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let v = p.visible();
    assert!(
        v.contains("Rows imported: 1") && v.contains("Line 3: no client"),
        "{v}"
    );
    assert_eq!(
        w.count("SELECT primary_care FROM health_use WHERE client_id = 'c1' AND period = 'after'")
            .await,
        0
    );
    assert_eq!(w.count("SELECT COUNT(*) FROM health_use").await, 10);
}

#[tokio::test]
async fn the_fhir_export_has_goals_and_observations_an_r4_model_reads() {
    use fhirbolt::model::r4::Resource;
    let w = Web::new().await;
    w.staff("ada", Role::Admin).await;
    w.sign_in("ada").await;
    add_client(&w, "amelie", &[]).await;
    let r = referral_of(&w, "amelie").await;
    score(&w, "amelie", r, "ucla3", "baseline", "8").await;
    score(&w, "amelie", r, "cchs-belonging", "baseline", "very-weak").await;
    let g = matters::store::goals::add(
        &w.state.runner.db,
        &id("amelie"),
        &matters::store::goals::NewGoal {
            text: "Walk to the library with Rosa".into(),
            target_on: Some("2026-09-01".into()),
            rating: Some(4),
            ..Default::default()
        },
        "staff:ada",
        w.now(),
    )
    .await
    .unwrap();
    matters::store::goals::close(
        &w.state.runner.db,
        &id("amelie"),
        g,
        "met",
        "staff:ada",
        w.now(),
    )
    .await
    .unwrap();
    for deid in [false, true] {
        let path = if deid {
            "/export/fhir.json?deidentified=1"
        } else {
            "/export/fhir.json"
        };
        let p = w.get(path).await;
        assert_eq!(p.status, StatusCode::OK);
        let whole: Resource = fhirbolt::json::from_str(&p.body, None)
            .unwrap_or_else(|e| panic!("not an R4 Bundle: {e}"));
        assert!(matches!(whole, Resource::Bundle(_)));
        let bundle = p.json();
        let mut goals = Vec::new();
        let mut observations = Vec::new();
        for e in bundle["entry"].as_array().unwrap() {
            let r = &e["resource"];
            let parsed: Resource = fhirbolt::json::from_str(&r.to_string(), None)
                .unwrap_or_else(|err| panic!("{err}: {r}"));
            match parsed {
                Resource::Goal(_) => goals.push(r.clone()),
                Resource::Observation(_) => observations.push(r.clone()),
                _ => {}
            }
        }
        assert_eq!(goals.len(), 1);
        assert_eq!(goals[0]["lifecycleStatus"], "completed");
        assert_eq!(
            goals[0]["achievementStatus"]["coding"][0]["code"],
            "achieved"
        );
        let text = goals[0]["description"]["text"].as_str().unwrap();
        assert_eq!(text.contains("Rosa"), !deid, "{text}");
        assert_eq!(observations.len(), 3, "two scores, one goal rating");
        let ucla = observations
            .iter()
            .find(|o| o["code"]["coding"][0]["code"] == "ucla3")
            .unwrap();
        assert_eq!(ucla["valueInteger"], 8);
        assert_eq!(ucla["identifier"][0]["value"], "baseline");
        let belonging = observations
            .iter()
            .find(|o| o["code"]["coding"][0]["code"] == "cchs-belonging")
            .unwrap();
        assert_eq!(
            belonging["valueCodeableConcept"]["coding"][0]["code"],
            "very-weak"
        );
        let rating = observations
            .iter()
            .find(|o| o["code"]["coding"][0]["code"] == "goal-rating")
            .unwrap();
        assert_eq!(rating["valueInteger"], 4);
        let goal_url = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["resource"]["resourceType"] == "Goal")
            .unwrap()["fullUrl"]
            .clone();
        assert_eq!(rating["focus"][0]["reference"], goal_url);
        if deid {
            assert!(!p.body.contains("amelie"));
        }
    }
}

#[tokio::test]
async fn a_referrer_answers_from_the_link_in_their_summary_and_the_cohort_counts_it() {
    let w = Web::new().await;
    w.staff("ada", Role::Admin).await;
    w.sign_in("ada").await;
    seeded_cohort(&w).await;
    let db = &w.state.runner.db;
    let mut links = Vec::new();
    for c in ["c1", "c2", "c3", "c4", "c5"] {
        let r = referral_of(&w, c).await;
        let mut tx = db.begin().await.unwrap();
        let sid = matters::summaries::write(
            &mut tx,
            &w.state.runner.catalog,
            r,
            "uptake",
            w.now(),
            "test",
        )
        .await
        .unwrap()
        .unwrap();
        tx.commit().await.unwrap();
        // A draft has no link yet: the navigator sends it first.
        let letter = w.get(&format!("/clients/{c}/summaries/{sid}")).await;
        assert!(!letter.body.contains("feedback"), "a draft is not sent");
        assert!(
            matters::summaries::send(db, sid, &id(c), w.now(), "staff:ada")
                .await
                .unwrap()
        );
        let letter = w.get(&format!("/clients/{c}/summaries/{sid}")).await;
        let html = scraper::Html::parse_document(&letter.body);
        let link = html
            .select(&scraper::Selector::parse("a[href]").unwrap())
            .filter_map(|a| a.value().attr("href"))
            .find(|h| h.starts_with("/feedback/"))
            .expect("the letter links to the feedback form")
            .to_owned();
        links.push(link);
    }
    // Signed out, as the referrer: the form names no client.
    let referrer = w.other_browser();
    let page = referrer.get(&links[0]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.visible().contains("How useful"), "{}", page.visible());
    assert!(
        !page.body.contains("Walking group"),
        "the program is the client's"
    );
    // A wrong token, or another summary's, opens nothing.
    let last = if links[0].ends_with('0') { "1" } else { "0" };
    let forged = format!("{}{last}", &links[0][..links[0].len() - 1]);
    assert_eq!(referrer.get(&forged).await.status, StatusCode::NOT_FOUND);
    let bad = referrer.post_raw(&links[0], &[("useful", "9")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(w.count("SELECT COUNT(*) FROM provider_feedback").await, 0);
    for (k, link) in links.iter().enumerate() {
        let useful = if k < 4 { "5" } else { "2" };
        let p = referrer
            .post_raw(
                link,
                &[
                    ("useful", useful),
                    ("would_refer", "yes"),
                    ("comment", "Merci"),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        assert!(p.visible().contains("Thank you"));
    }
    // Sent again: replaced, not added.
    referrer
        .post_raw(&links[4], &[("useful", "4"), ("would_refer", "no")])
        .await;
    assert_eq!(w.count("SELECT COUNT(*) FROM provider_feedback").await, 5);
    let facts = matters::evaluation::facts(
        db,
        None,
        &matters::evaluation::Filter::default(),
        chrono_tz::America::Toronto,
    )
    .await
    .unwrap();
    let c = matters::evaluation::cohort(&facts);
    assert_eq!(c.provider_useful.text, "100%");
    assert_eq!(
        c.provider_would_refer.text, "< 5",
        "four of five: a small cell"
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM audit_log WHERE action = 'provider-feedback' AND actor = 'referrer'")
            .await,
        6
    );
}
