//! A centre's day in one record: a client, Amélie, who holds every kind of value the pages show,
//! made through the library as a navigator and the client would make it (add, enrol, the
//! referral, consent, what matters, two loneliness surveys, a crisis text, a free text, texts
//! sent, delivered and failed at the provider, a step rescheduled, paused and resumed), and,
//! for the kinds a day rarely shows (every kind of task, every note the scheduler leaves, every
//! delivery state), rows written with the exact words the service writes. Staff of both roles,
//! tokens of both scopes, a disabled account.

use matters::channel::Accepted;
use matters::clock::{Clock, ManualClock, to_ms};
use matters::domain::{Channel, ClientId, FlowId};
use matters::enrolment::actions::{self, ClientSpec};
use matters::runner::casework::{ReferralUpdate, update_referral};
use matters::runner::{IfBusy, Inbound, Runner};
use matters::staff::{self, Role, Scope};
use matters::store::delivery;

pub const PASSWORD: &str = "a long enough password";
/// The client who holds everything.
pub const CLIENT: &str = "amelie";
/// A second client, in English, with nothing but a referral.
pub const OTHER: &str = "bruno";

pub struct Seeded {
    pub nora: i64,
    /// A crisis task on Amélie's record.
    pub crisis_task: i64,
}

fn id(s: &str) -> ClientId {
    ClientId::parse(s).unwrap()
}

async fn says(runner: &Runner, client: &str, text: &str) {
    let mut m = Inbound::new(Channel::Sms, id(client), None, text);
    m.address = Some("+15145550123".into());
    runner.receive(&m).await.unwrap();
}

async fn exec(runner: &Runner, sql: &str, binds: &[&str], now: i64) {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.bind(now).execute(runner.db.pool()).await.unwrap();
}

/// Everything, on a fresh database, starting at the clock's time.
pub async fn everything(runner: &Runner, clock: &ManualClock) -> Seeded {
    let now = || to_ms(clock.now());
    let db = &runner.db;
    staff::add(
        db,
        "ada",
        "Ada Lovelace",
        Role::Admin,
        Some(PASSWORD),
        now(),
        "setup",
    )
    .await
    .unwrap();
    let nora = staff::add(
        db,
        "nora",
        "Nora Benali",
        Role::Navigator,
        Some(PASSWORD),
        now(),
        "staff:ada",
    )
    .await
    .unwrap();
    staff::add(
        db,
        "omar",
        "Omar K.",
        Role::Navigator,
        None,
        now(),
        "staff:ada",
    )
    .await
    .unwrap();
    staff::set_active(db, "omar", false, "staff:ada", now())
        .await
        .unwrap();
    staff::issue_token(db, "Rapports mensuels", Scope::Read, "staff:ada", now())
        .await
        .unwrap();
    let (gone, _) = staff::issue_token(db, "Ancien dossier", Scope::Write, "staff:ada", now())
        .await
        .unwrap();
    staff::revoke_token(db, gone.id, None, "staff:ada", now())
        .await
        .unwrap();
    staff::issue_token(db, "Dossier partagé", Scope::Write, "staff:ada", now())
        .await
        .unwrap();

    // Amélie, referred for loneliness and isolation, enrolled in the standard follow-up.
    let spec = ClientSpec {
        id: CLIENT.into(),
        phone: Some("+1 514 555 0123".into()),
        language: "fr".into(),
        time_zone: Some("America/Toronto".into()),
        program: Some("Café-rencontre".into()),
        referred_on: Some("2026-05-25".into()),
        reasons: vec!["loneliness".into(), "social-isolation".into()],
        sequence: Some("standard".into()),
        chart_number: Some("HC-0042".into()),
        ..ClientSpec::default()
    };
    let checked = actions::check(runner, &spec).unwrap();
    actions::add(runner, &checked, "staff:nora").await.unwrap();
    let amelie = id(CLIENT);
    matters::web::set_profile(
        db,
        &amelie,
        Some("Amélie Tremblay"),
        Some(nora.id),
        "staff:nora",
        now(),
    )
    .await
    .unwrap();
    update_referral(
        runner,
        &amelie,
        &ReferralUpdate {
            referred_by: Some("Dre Roy".into()),
            rx_type: Some("Prescription sociale".into()),
            program: Some("Café-rencontre".into()),
            support_level: Some("medium".into()),
            uptake: "attended".into(),
            ..ReferralUpdate::default()
        },
        "staff:nora",
    )
    .await
    .unwrap();

    // She agrees, in French, and says what matters.
    let flow = |f: &str| FlowId::parse(f).unwrap();
    runner
        .start_flow(
            &amelie,
            &flow("consent"),
            None,
            IfBusy::Replace,
            "staff:nora",
        )
        .await
        .unwrap();
    for t in ["OUI", "2", "soiree"] {
        says(runner, CLIENT, t).await;
    }
    runner
        .start_flow(
            &amelie,
            &flow("what-matters"),
            None,
            IfBusy::Replace,
            "staff:nora",
        )
        .await
        .unwrap();
    for t in ["Ma santé et mes amis", "La cuisine", "logement", "oui"] {
        says(runner, CLIENT, t).await;
    }
    // Two loneliness surveys, baseline and six months: the change is better.
    for (tp, answers) in [
        ("baseline", ["3", "3", "3", "4"]),
        ("6-month", ["1", "2", "1", "2"]),
    ] {
        runner
            .start_flow(
                &amelie,
                &flow("loneliness"),
                Some(tp),
                IfBusy::Replace,
                "scheduler",
            )
            .await
            .unwrap();
        for a in answers {
            says(runner, CLIENT, a).await;
        }
        clock.advance(chrono::Duration::hours(1));
    }
    // A survey left half-answered, and a reply that is not an answer.
    runner
        .start_flow(
            &amelie,
            &flow("wellbeing"),
            None,
            IfBusy::Replace,
            "staff:nora",
        )
        .await
        .unwrap();
    says(runner, CLIENT, "je ne sais pas trop").await;
    says(runner, CLIENT, "7").await;
    // A free text, then crisis words.
    runner
        .start_flow(
            &amelie,
            &flow("referral-followup"),
            None,
            IfBusy::Replace,
            "scheduler",
        )
        .await
        .unwrap();
    says(runner, CLIENT, "non").await;
    says(runner, CLIENT, "je veux mourir").await;
    says(runner, CLIENT, "Merci pour le café de mardi").await;

    // Texts go out through the provider: sent, delivered, undelivered, failed.
    let out = delivery::claim(db, "sms", 6, now()).await.unwrap();
    let sent: Vec<(i64, Accepted)> = out
        .iter()
        .enumerate()
        .map(|(k, m)| {
            (
                m.id,
                Accepted {
                    provider_id: format!("SMseed{k:030}"),
                    provider_status: "queued".into(),
                    segments: Some(1),
                },
            )
        })
        .collect();
    delivery::mark_sent(db, "sms", &sent, now()).await.unwrap();
    for (k, status, code) in [
        (0, "delivered", None),
        (1, "delivered", None),
        (2, "undelivered", Some("30003")),
        (3, "failed", Some("30006")),
    ] {
        if let Some((_, a)) = sent.get(k) {
            delivery::record_status(db, "sms", &a.provider_id, status, code, now())
                .await
                .unwrap();
        }
    }
    if let Some(m) = delivery::claim(db, "sms", 1, now()).await.unwrap().first() {
        delivery::mark_failed(
            db,
            m.id,
            "21211: The 'To' number +15145550123 is not a valid phone number. (the number is not a valid phone number)",
            Some(21211),
            now(),
        )
            .await
            .unwrap();
    }

    // A step rescheduled by hand, the follow-up paused then resumed.
    let upcoming = actions::timeline(runner, &amelie, "staff:nora")
        .await
        .unwrap();
    if let Some(step) = upcoming.iter().find(|e| e.status == "pending") {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 9, 14)
            .unwrap()
            .and_hms_opt(10, 30, 0)
            .unwrap();
        actions::reschedule(runner, &amelie, &step.step, at, "staff:nora")
            .await
            .unwrap();
    }
    actions::pause(runner, &amelie, "staff:nora").await.unwrap();
    actions::resume(runner, &amelie, "staff:nora")
        .await
        .unwrap();

    // Every kind of task, with the notes the service writes.
    let n = now();
    for (kind, urgency, note) in [
        ("callback", "normal", ""),
        ("barrier", "normal", "Le bus ne passe plus le mardi"),
        ("no-response", "normal", ""),
        (
            "scheduling-failed",
            "normal",
            "loneliness.3-month could not run: no flow loneliness-v0",
        ),
        (
            "wrong-number",
            "urgent",
            "Twilio refused the client's number (21211: invalid 'To' phone number): check it with the client",
        ),
        (
            "unreachable",
            "urgent",
            "the last 3 messages did not reach the client (latest 30003: unreachable destination handset): call them or check the number",
        ),
        (
            "looping",
            "normal",
            "the same text kept going to this client; it was stopped. An auto-reply on their phone? Check the conversation",
        ),
        ("consent-unclear", "normal", ""),
        ("not-continuing", "normal", ""),
        ("delivery", "normal", ""),
    ] {
        exec(
            runner,
            "INSERT INTO flags (client_id, kind, urgency, note, created_at) VALUES ('amelie', $1, $2, NULLIF($3, ''), $4)",
            &[kind, urgency, note],
            n,
        )
        .await;
    }
    let crisis_task: i64 = sqlx::query_scalar(
        "SELECT id FROM flags WHERE client_id = 'amelie' AND kind = 'crisis' AND status = 'open'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    // Steps the scheduler moved, missed, caught up or cancelled, as its notes say.
    for (status, note) in [
        ("done", "moved out of quiet hours"),
        (
            "skipped",
            "missed: due Mon 2026-11-16 10:00 EST, found 2 d 4 h late (catch-up: skip)",
        ),
        ("done", "caught up 3 h late"),
        ("done", "found 45 min late; moved to the next open window"),
        ("cancelled", "cancelled by staff:ada: a déménagé"),
        ("skipped", "the client has not agreed to messages yet"),
        ("done", "started early by staff:nora"),
        ("failed", "no flow loneliness-v0"),
        ("skipped", "ended the unanswered loneliness"),
    ] {
        exec(
            runner,
            "INSERT INTO jobs (client_id, kind, step_id, flow_id, time_point, due_at, status, note, created_at, updated_at) \
             VALUES ('amelie', 'step', 'check-in', 'loneliness', 'weekly', $3, $1, $2, $3, $3)",
            &[status, note],
            n,
        )
        .await;
    }

    // The crisis went to the on-call person as an alert, acknowledged by no one yet; the
    // navigator noted a call and a visit.
    exec(
        runner,
        "INSERT INTO alerts (flag_id, client_id, kind, level, status, due_at, created_at, updated_at) \
         SELECT id, 'amelie', 'crisis', 1, 'sent', $1, $1, $1 FROM flags WHERE client_id = 'amelie' AND kind = 'crisis' AND status = 'open'",
        &[],
        n,
    )
    .await;
    exec(
        runner,
        "INSERT INTO alert_sends (alert_id, staff_id, channel, address, level, status, at) \
         SELECT a.id, s.id, 'email', 'nora@csc.example', 0, 'sent', $1 FROM alerts a, staff s WHERE s.username = 'nora'",
        &[],
        n,
    )
    .await;
    for (kind, body) in [
        ("call", "Appel : elle ira au café-rencontre mardi."),
        ("no-answer", "Pas de réponse, message laissé."),
    ] {
        exec(
            runner,
            "INSERT INTO notes (client_id, staff_id, kind, body, happened_at, created_at) \
             SELECT 'amelie', id, $1, $2, $3, $3 FROM staff WHERE username = 'nora'",
            &[kind, body],
            n,
        )
        .await;
    }

    // The catalogue: a program with every field, and one retired.
    for input in [
        matters::programs::ProgramInput {
            code: "cafe-rencontre".into(),
            partner: "Maison de quartier Vanier".into(),
            partner_contact: "613-555-0160".into(),
            location: "290, rue Dupuis".into(),
            online: true,
            schedule: "Tue 14:00; 2026-12-15 14:00".into(),
            cost: "fee-waivable".into(),
            transport: "Autobus 12".into(),
            accessibility: "Rez-de-chaussée".into(),
            languages: "fr,en".into(),
            contact: "Lise 613-555-0161".into(),
            eligibility: "Adultes".into(),
            reasons: "loneliness,social-isolation".into(),
            active: true,
            texts: vec![
                (
                    "fr".into(),
                    "Café-rencontre".into(),
                    "Un café entre voisins".into(),
                ),
                (
                    "en".into(),
                    "Neighbourhood café".into(),
                    "Coffee with neighbours".into(),
                ),
            ],
        },
        matters::programs::ProgramInput {
            code: "old-choir".into(),
            location: "Bibliothèque".into(),
            cost: "free".into(),
            active: false,
            texts: vec![("en".into(), "Old choir".into(), String::new())],
            ..Default::default()
        },
    ] {
        let mut tx = db.begin().await.unwrap();
        matters::programs::upsert(&mut tx, &input, now(), "staff:ada")
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    exec(
        runner,
        "UPDATE referrals SET program_id = (SELECT id FROM programs WHERE code = 'cafe-rencontre'), uptake = uptake || '' WHERE client_id = 'amelie' AND $1 > 0",
        &[],
        n,
    )
    .await;

    // Amélie's goals, in her words: one rated twice and met, one still going; her
    // sociodemographics, given in person with her consent; Ada may see them.
    let db = &runner.db;
    let goal = matters::store::goals::NewGoal {
        text: "Retourner à la chorale le jeudi".into(),
        steps: Some("Appeler Lise; demander l'horaire".into()),
        target_on: Some("2026-09-01".into()),
        referral: None,
        rating: Some(3),
    };
    let g = matters::store::goals::add(db, &id(CLIENT), &goal, "staff:nora", now())
        .await
        .unwrap();
    matters::store::goals::rate(db, &id(CLIENT), g, 8, "staff:nora", now())
        .await
        .unwrap();
    matters::store::goals::close(db, &id(CLIENT), g, "met", "staff:nora", now())
        .await
        .unwrap();
    let walk = matters::store::goals::NewGoal {
        text: "Marcher jusqu'au parc avec ma voisine".into(),
        rating: Some(5),
        ..Default::default()
    };
    matters::store::goals::add(db, &id(CLIENT), &walk, "staff:nora", now())
        .await
        .unwrap();
    matters::equity::enter(
        db,
        &id(CLIENT),
        &[
            ("born-in-canada".into(), "no".into()),
            ("arrival".into(), "2020-later".into()),
            ("race".into(), "middle-eastern".into()),
            ("income".into(), "prefer-not".into()),
            ("household".into(), "1".into()),
            ("age".into(), "65-74".into()),
        ],
        true,
        "staff:nora",
        now(),
    )
    .await
    .unwrap();
    let ada = staff::list(db, None)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.username == "ada")
        .unwrap();
    staff::set_sees_sociodemographics(db, ada.id, true, "setup", now())
        .await
        .unwrap();

    // Bruno: English, a referral, nothing else yet.
    let spec = ClientSpec {
        id: OTHER.into(),
        phone: Some("+1 514 555 0199".into()),
        language: "en".into(),
        program: Some("Walking group".into()),
        reasons: vec!["bereavement".into()],
        ..ClientSpec::default()
    };
    let checked = actions::check(runner, &spec).unwrap();
    actions::add(runner, &checked, "staff:ada").await.unwrap();
    Seeded {
        nora: nora.id,
        crisis_task,
    }
}
