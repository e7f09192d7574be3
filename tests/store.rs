//! One conformance story, run against SQLite and against a real Postgres (127.0.0.1:5432 here
//! and in CI; under `CI=true` an unreachable Postgres is a failure, never a skip).

use chrono::{DateTime, Duration};
use matters::clock::{Clock, ManualClock, to_ms};
use matters::config::Config;
use matters::domain::{Channel, ClientId, FlowId, Locale};
use matters::flow::FlowSet;
use matters::runner::{IfBusy, Inbound, RunError, Runner};
use matters::store::Db;
use matters::store::record::{self, NewClient, NewReferral};
use std::sync::Arc;

mod support;
use support::pg::postgres;

async fn build(url: &str) -> (Runner, ManualClock) {
    let clock = ManualClock::new(
        DateTime::parse_from_rfc3339("2026-03-07T15:00:00Z")
            .unwrap()
            .to_utc(),
    );
    let cfg = Config {
        database_url: url.to_owned(),
        ..Config::default()
    };
    let runner = matters::app::build(&cfg, Arc::new(clock.clone()))
        .await
        .unwrap();
    (runner, clock)
}

async fn add(runner: &Runner, id: &str, lang: &str, program: Option<&str>) -> ClientId {
    let client = ClientId::parse(id).unwrap();
    let now = to_ms(runner.clock.now());
    let new = NewClient {
        id: client.clone(),
        language: Locale::parse(lang).unwrap(),
        time_zone: chrono_tz::America::Toronto,
        chart_number: Some("A-1".into()),
        reach: Some((Channel::Simulator, id.to_owned())),
        centre: matters::domain::DEFAULT_CENTRE.into(),
    };
    assert!(
        record::add_client(&runner.db, &new, now, "test")
            .await
            .unwrap()
    );
    assert!(
        !record::add_client(&runner.db, &new, now, "test")
            .await
            .unwrap(),
        "adding twice changes nothing"
    );
    if let Some(p) = program {
        record::add_referral(
            &runner.db,
            &client,
            &NewReferral {
                program: Some(p.into()),
                reasons: vec!["loneliness".into()],
                ..Default::default()
            },
            now,
            "test",
        )
        .await
        .unwrap();
    }
    client
}

fn says(client: &ClientId, sid: &str, text: &str) -> Inbound {
    Inbound::new(Channel::Simulator, client.clone(), Some(sid.into()), text)
}

async fn count(db: &Db, sql: &str, client: &ClientId) -> i64 {
    sqlx::query_scalar(sql)
        .bind(client.as_str())
        .fetch_one(db.pool())
        .await
        .unwrap()
}

/// The story every backend must tell the same way.
async fn story(url: &str) {
    let (runner, clock) = build(url).await;
    runner
        .db
        .migrate()
        .await
        .expect("migrations run twice are a no-op");
    let c = add(&runner, "c-1", "fr", Some("Café-tricot")).await;
    let flow = FlowId::parse("referral-followup").unwrap();

    let h = runner
        .start_flow(&c, &flow, Some("weekly"), IfBusy::Refuse, "navigator:amira")
        .await
        .unwrap();
    assert_eq!(h.replies.len(), 1);
    assert!(
        h.replies[0].text.contains("Café-tricot"),
        "{}",
        h.replies[0].text
    );
    let busy = runner
        .start_flow(&c, &flow, None, IfBusy::Refuse, "navigator:amira")
        .await;
    assert!(matches!(busy, Err(RunError::Busy { .. })), "{busy:?}");

    clock.advance(Duration::minutes(5));
    let h = runner.receive(&says(&c, "SM1", "Oui!")).await.unwrap();
    assert_eq!(
        h.replies.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["rf-how"]
    );

    // A provider retry of the same message changes nothing.
    let before = count(
        &runner.db,
        "SELECT COUNT(*) FROM messages WHERE client_id = $1",
        &c,
    )
    .await;
    let again = runner.receive(&says(&c, "SM1", "Oui!")).await.unwrap();
    assert!(again.duplicate && again.replies.is_empty());
    assert_eq!(
        count(
            &runner.db,
            "SELECT COUNT(*) FROM messages WHERE client_id = $1",
            &c
        )
        .await,
        before
    );

    // Two replies racing for the same session: both are applied, one after the other.
    let (m2, m3) = (says(&c, "SM2", "4"), says(&c, "SM3", "peut-être"));
    let (a, b) = tokio::join!(runner.receive(&m2), runner.receive(&m3));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(!a.duplicate && !b.duplicate);
    assert_eq!(
        count(
            &runner.db,
            "SELECT COUNT(*) FROM answers WHERE client_id = $1 AND step_id = 'how'",
            &c
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &runner.db,
            "SELECT COUNT(*) FROM messages WHERE client_id = $1 AND direction = 'in'",
            &c
        )
        .await,
        3
    );

    let rec = record::read(&runner.db, &c, "navigator:amira", to_ms(clock.now()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.referrals[0].uptake, "attended");
    assert_eq!(
        rec.fields.get("referral.uptake").map(String::as_str),
        Some("attended")
    );
    let went = rec.answers.iter().find(|a| a.step == "went").unwrap();
    assert_eq!(
        (
            went.value.as_deref(),
            went.label.as_deref(),
            went.locale.as_str()
        ),
        (Some("yes"), Some("Oui"), "fr")
    );
    assert_eq!(went.time_point.as_deref(), Some("weekly"));
    assert!(went.prompt_message_id.is_some() && went.inbound_message_id.is_some());
    assert_eq!(
        count(
            &runner.db,
            "SELECT COUNT(*) FROM jobs WHERE client_id = $1 AND status = 'pending'",
            &c
        )
        .await,
        1
    );

    // STOP: consent revoked in the ledger, pending jobs cancelled, nothing sent afterwards.
    let h = runner.receive(&says(&c, "SM4", "ARRÊT")).await.unwrap();
    assert_eq!(
        h.replies.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["stop-confirmation"]
    );
    assert_eq!(
        count(
            &runner.db,
            "SELECT COUNT(*) FROM jobs WHERE client_id = $1 AND status = 'pending'",
            &c
        )
        .await,
        0
    );
    let h = runner.receive(&says(&c, "SM5", "oui")).await.unwrap();
    assert!(h.replies.is_empty(), "{h:?}");
    let refused = runner
        .start_flow(
            &c,
            &FlowId::parse("loneliness").unwrap(),
            None,
            IfBusy::Replace,
            "navigator:amira",
        )
        .await;
    assert!(matches!(refused, Err(RunError::OptedOut(_))), "{refused:?}");
    let rec = record::read(&runner.db, &c, "navigator:amira", to_ms(clock.now()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.client.consent, "revoked");
    let last = rec.consent.last().unwrap();
    assert_eq!(
        (
            last.change.as_str(),
            last.source.as_str(),
            last.wording.as_deref()
        ),
        ("revoked", "keyword", Some("ARRÊT"))
    );
    assert_eq!(rec.sessions.last().unwrap().status, "stopped");
    assert_eq!(
        count(
            &runner.db,
            "SELECT COUNT(*) FROM audit_log WHERE client_id = $1 AND action = 'record-view'",
            &c
        )
        .await,
        2
    );
    // The audit log never holds a message body.
    assert_eq!(
        count(
            &runner.db,
            "SELECT COUNT(*) FROM audit_log WHERE client_id = $1 AND detail LIKE '%ARRÊT%'",
            &c
        )
        .await,
        0
    );

    // A crisis: the fixed reply, an urgent flag, the survey interrupted.
    let d = add(&runner, "c-2", "en", None).await;
    runner
        .start_flow(
            &d,
            &FlowId::parse("loneliness").unwrap(),
            Some("baseline"),
            IfBusy::Refuse,
            "navigator:amira",
        )
        .await
        .unwrap();
    let h = runner
        .receive(&says(&d, "SM6", "I want to end my life"))
        .await
        .unwrap();
    assert_eq!(h.replies[0].key, "crisis-reply");
    let rec = record::read(&runner.db, &d, "navigator:amira", to_ms(clock.now()))
        .await
        .unwrap()
        .unwrap();
    assert!(
        rec.flags
            .iter()
            .any(|f| f.kind == "crisis" && f.urgency == "urgent")
    );
    assert_eq!(
        count(
            &runner.db,
            "SELECT COUNT(*) FROM audit_log WHERE client_id = $1 AND action = 'crisis'",
            &d
        )
        .await,
        1
    );
    let flagged = "SELECT COUNT(*) FROM audit_log WHERE client_id = $1 AND action = 'record-change' AND detail = 'flag crisis'";
    assert_eq!(count(&runner.db, flagged, &d).await, 1);

    pinned_revision(&runner, &clock).await;
    batches(&runner).await;
    runner.db.close().await;
}

/// A batch (one transaction) keeps each client's messages in order, drops repeats, and fails
/// only the input that is wrong.
async fn batches(runner: &Runner) {
    let a = add(runner, "b-1", "en", None).await;
    let b = add(runner, "b-2", "fr", None).await;
    let loneliness = FlowId::parse("loneliness").unwrap();
    for c in [&a, &b] {
        runner
            .start_flow(c, &loneliness, None, IfBusy::Refuse, "test")
            .await
            .unwrap();
    }
    let nobody = ClientId::parse("nobody").unwrap();
    let msgs = [
        says(&a, "B1", "1"),
        says(&b, "B2", "souvent"),
        says(&a, "B3", "often"),
        says(&b, "B2", "souvent"),
        says(&nobody, "B4", "hi"),
    ];
    let results = runner.receive_batch(&msgs).await;
    let keys = |k: usize| {
        results[k]
            .as_ref()
            .unwrap()
            .replies
            .iter()
            .map(|r| r.key.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(0), ["ucla3-left-out"]);
    assert_eq!(keys(1), ["ucla3-left-out"]);
    assert_eq!(
        keys(2),
        ["ucla3-isolated"],
        "the second message of b-1 sees what the first did"
    );
    assert!(results[3].as_ref().unwrap().duplicate);
    assert!(
        matches!(results[4], Err(RunError::UnknownClient(_))),
        "{:?}",
        results[4]
    );
    let values: Vec<String> =
        sqlx::query_scalar("SELECT value FROM answers WHERE client_id = $1 ORDER BY id")
            .bind(a.as_str())
            .fetch_all(runner.db.pool())
            .await
            .unwrap();
    assert_eq!(values, ["hardly-ever", "often"]);
    assert_eq!(
        count(
            &runner.db,
            "SELECT COUNT(*) FROM answers WHERE client_id = $1",
            &b
        )
        .await,
        1
    );
}

/// A session started on one revision of a flow finishes on it, even after the file changes and
/// the process restarts knowing only the new revision.
async fn pinned_revision(runner: &Runner, clock: &ManualClock) {
    let e = add(runner, "c-3", "en", None).await;
    let loneliness = FlowId::parse("loneliness").unwrap();
    runner
        .start_flow(&e, &loneliness, Some("baseline"), IfBusy::Refuse, "test")
        .await
        .unwrap();
    let old = runner.flows.get(&loneliness).unwrap();
    let changed = old.source.replace(
        "[[step]]\nid = \"left-out\"",
        "[[step]]\nid = \"new-say\"\nsay = \"survey-thanks\"\n\n[[step]]\nid = \"left-out\"",
    );
    assert_ne!(changed, old.source);
    let new = matters::flow::parse(&old.file, &changed).unwrap();
    assert_ne!(new.revision, old.revision);
    let mut flows = FlowSet::default();
    flows.insert(new);
    let restarted = Runner {
        flows: Arc::new(flows),
        ..runner.clone()
    };
    clock.advance(Duration::minutes(1));
    let h = restarted.receive(&says(&e, "SM7", "1")).await.unwrap();
    assert_eq!(
        h.replies.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["ucla3-left-out"],
        "the old revision goes straight to left-out"
    );
    let rev: String = sqlx::query_scalar("SELECT revision FROM answers WHERE client_id = $1")
        .bind(e.as_str())
        .fetch_one(runner.db.pool())
        .await
        .unwrap();
    assert_eq!(rev, old.revision);
}

#[tokio::test]
async fn the_story_holds_on_sqlite() {
    story("sqlite::memory:").await;
}

#[tokio::test]
async fn the_story_holds_on_a_sqlite_file_in_wal_mode() {
    let path = std::env::temp_dir().join(format!("matters-store-{}.db", std::process::id()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    story(&url).await;
    let db = Db::connect(&url).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    db.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[tokio::test]
async fn the_story_holds_on_postgres() {
    let Some((url, schema, admin)) = postgres().await else {
        return;
    };
    story(&url).await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(admin.pool())
        .await
        .unwrap();
}

/// Migrations that have landed, with their SHA-256. sqlx refuses to start on a database whose
/// applied migration has changed since, so a landed one is never edited: a change is a new file.
const LANDED: &[(&str, &str)] = &[
    (
        "migrations/postgres/20261121000001_record.sql",
        "bb990beb8948520d612766534a4b8def81088b97da19f27568b75ec880cb2dce",
    ),
    (
        "migrations/postgres/20261121000002_delivery.sql",
        "cc7de80a9662e07a28276a6309567f61688fe47de241bc79adb531dd968607bb",
    ),
    (
        "migrations/postgres/20261121000003_telegram.sql",
        "a28389d9a1bee503b17044abcc675c73f218c8614a91d5902abe494edbb6e250",
    ),
    (
        "migrations/postgres/20261121000004_schedule.sql",
        "6702cad6237ab7bff4214f4f5dfdeb27d0d8534303cb4195fab505fb67f94fbe",
    ),
    (
        "migrations/postgres/20261121000005_web.sql",
        "70d8498517a773892da676a46a07b6bb6a663226f2e1275ee2c47cf8aa07ecec",
    ),
    (
        "migrations/postgres/20261130000001_safe.sql",
        "c5880ad14f8187fbec15fef42d5029bac45e188018c809cdb4039290a4feacdd",
    ),
    (
        "migrations/postgres/20261201000001_listen.sql",
        "6b1fe4f4d901dbc54453b8a6016dfe37a4ff17d871deab2376971b273ecefc30",
    ),
    (
        "migrations/postgres/20261201000002_hear.sql",
        "1692c19e9c346fdf60b9cc56f6193ea95c562e83163d0688fb7666ef3eeea3d5",
    ),
    (
        "migrations/postgres/20261201000003_programs.sql",
        "2b3e2c741ccda4aa3059211ecf35d911f5259330f59cb729630640b0059503c2",
    ),
    (
        "migrations/sqlite/20261121000001_record.sql",
        "9ebaadab1208f6681936f4f7de247928d9cb1ace6daf26b08819a1835e327d22",
    ),
    (
        "migrations/sqlite/20261121000002_delivery.sql",
        "7eb6c597280165eae0af8d717f3fca5f878afe8d1f4af821b3f9bd1dbc3c8e49",
    ),
    (
        "migrations/sqlite/20261121000003_telegram.sql",
        "54d4de50b90661e543a51a4533ea7d5c737d959dc818b4fa850f15dd4497fbe8",
    ),
    (
        "migrations/sqlite/20261121000004_schedule.sql",
        "b837d0fa03524a2ec1d7565f63b668c8522a04a3224578531bb825baef54f626",
    ),
    (
        "migrations/sqlite/20261121000005_web.sql",
        "44c3358efce518eeb10ab080bf08b6373eaaaf500a849da324e397ca46596523",
    ),
    (
        "migrations/sqlite/20261130000001_safe.sql",
        "c5880ad14f8187fbec15fef42d5029bac45e188018c809cdb4039290a4feacdd",
    ),
    (
        "migrations/sqlite/20261201000001_listen.sql",
        "6b1fe4f4d901dbc54453b8a6016dfe37a4ff17d871deab2376971b273ecefc30",
    ),
    (
        "migrations/sqlite/20261201000002_hear.sql",
        "cc27308af6d8ee3b0173dd3e4e902a8848a520d7eb72bed84f4e71a23b359f20",
    ),
    (
        "migrations/sqlite/20261201000003_programs.sql",
        "a3137b01b0bc8c9d410d4f35c0f886379b4b07e085d37e3a8e9e6678742a15cb",
    ),
    (
        "migrations/postgres/20261202000001_followthrough.sql",
        "31e4a99b1a8adbd86a5d8a2056af46eda9804fa8e1f4c152d1f20d293ebb13e8",
    ),
    (
        "migrations/sqlite/20261202000001_followthrough.sql",
        "8d10d6b3d1c293bed2652fa3febb6bf991e52cdae0943d30247d654554d3963e",
    ),
    (
        "migrations/postgres/20261203000001_goals_equity.sql",
        "37b94eb572976c822d47dc7671075a2e2212d5eb644995111e3dbe0460be1645",
    ),
    (
        "migrations/sqlite/20261203000001_goals_equity.sql",
        "f57b15c231af9e0724d95d7d18ba8a04119173c892618c3ff322fa47cd6d172b",
    ),
    (
        "migrations/postgres/20261204000001_operations.sql",
        "48ed8dfa1b450c0aff3255b7b0eb4cf6e17cf141597176b9aa31fe2793bc1649",
    ),
    (
        "migrations/sqlite/20261204000001_operations.sql",
        "b17bca8ad690f69213d494c769e824d3b32ff12a31af143404ec0b72416f6a57",
    ),
    (
        "migrations/postgres/20261205000001_processes.sql",
        "fd5312a3db01e981a5d1c4050fd8683030b69ca15105c31e43f207d0d311708d",
    ),
    (
        "migrations/sqlite/20261205000001_processes.sql",
        "dd4f587e368b5c0cd0c6e90cccc94878126d981e002fe8c229098d62fc6227bb",
    ),
    (
        "migrations/postgres/20261206000001_centres.sql",
        "01c5bc8d1266280406dc1a2f49cbc685af878039c56fd31af895561b0a8a4dc6",
    ),
    (
        "migrations/sqlite/20261206000001_centres.sql",
        "d1a266d3baa351888ae9321b1ed39eecebeb31e5b70a0bf5540e3248504eba33",
    ),
    (
        "migrations/postgres/20261207000001_alert_address.sql",
        "f437fe0c264eb79ed77251a9e12ff321fe3ddd39c9fb1a4173a0f2c60aceff96",
    ),
    (
        "migrations/sqlite/20261207000001_alert_address.sql",
        "d4a22616fdb16895d7e065577c64512c9e6b7679e49f977548d73cfc83244c85",
    ),
    (
        "migrations/postgres/20261208000001_hot_updates.sql",
        "3a21d8e39dfdf9a891f0d97da8d97ae8a9dca74c8c37d091c0e371c095ae5707",
    ),
    (
        "migrations/sqlite/20261208000001_hot_updates.sql",
        "886d3426a58e5684da4d0c0fa0f218eb8e7dda929add346aedcb23c504405b96",
    ),
    (
        "migrations/postgres/20261208000002_centre_escalation.sql",
        "11126ebdfa5d6919480c581c64c84a289ccd92743e3405a283af26d6c38629a5",
    ),
    (
        "migrations/sqlite/20261208000002_centre_escalation.sql",
        "11126ebdfa5d6919480c581c64c84a289ccd92743e3405a283af26d6c38629a5",
    ),
    (
        "migrations/postgres/20261209000001_centre_own.sql",
        "156e85fcb24864d5673a79c44e93c4518c54a7b0287c5175100d2130da9df4ad",
    ),
    (
        "migrations/sqlite/20261209000001_centre_own.sql",
        "156e85fcb24864d5673a79c44e93c4518c54a7b0287c5175100d2130da9df4ad",
    ),
];

#[test]
fn a_landed_migration_never_changes() {
    use sha2::{Digest, Sha256};
    for (path, want) in LANDED {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let got: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            &got, want,
            "{path} has landed and must not change (sqlx would refuse every database that applied it): put the change in a new migration"
        );
    }
}

/// A database as it was before the catalogue (migrations up to and including `20261201000001`):
/// a client with two referrals to programs named in free text, and scores of each. Then today's
/// migrations: the referrals stay, as "other" (no catalogue program, their words kept), each
/// score is attached to the referral it measured, and their uptake begins its history.
/// Applies the migrations of `dir` up to and including `last` (there must be `n` of them), as a
/// database made by an older matters would have them.
async fn migrate_until(db: &Db, dir: &str, last: &str, n: usize) {
    let early = std::env::temp_dir().join(format!(
        "matters-early-{}-{}-{last}",
        std::process::id(),
        dir.replace('/', "-")
    ));
    let _ = std::fs::remove_dir_all(&early);
    std::fs::create_dir_all(&early).unwrap();
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.as_str() <= last)
        .collect();
    names.sort();
    assert_eq!(names.len(), n, "{names:?}");
    for n in &names {
        std::fs::copy(format!("{dir}/{n}"), early.join(n)).unwrap();
    }
    sqlx::migrate::Migrator::new(early.as_path())
        .await
        .unwrap()
        .run(db.pool())
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&early);
}

async fn migrating_keeps_free_text_referrals_and_their_scores(url: &str, dir: &str) {
    let db = Db::connect(url).await.unwrap();
    migrate_until(&db, dir, "20261201000001_listen.sql", 7).await;
    let day = 86_400_000_i64;
    let t0 = 1_780_000_000_000_i64;
    for sql in [
        format!(
            "INSERT INTO clients (id, language, time_zone, consent, created_at, updated_at) VALUES ('old-1', 'fr', 'America/Toronto', 'granted', {t0}, {t0})"
        ),
        format!(
            "INSERT INTO referrals (client_id, referred_at, referred_by, reasons, program, support_level, uptake, closed_at, closing_reason, created_at) VALUES ('old-1', {t0}, 'Dre Roy', 'loneliness', 'Café des voisins', 'medium', 'attended', {}, 'goal-met', {t0})",
            t0 + 90 * day
        ),
        format!(
            "INSERT INTO referrals (client_id, referred_at, referred_by, reasons, program, support_level, uptake, created_at) VALUES ('old-1', {}, 'Dre Roy', 'social-isolation', 'Chorale du quartier', 'light', 'not-yet', {})",
            t0 + 100 * day,
            t0 + 100 * day
        ),
        format!(
            "INSERT INTO sessions (client_id, flow_id, revision, state, status, time_point, started_at, updated_at) VALUES ('old-1', 'loneliness', 'r1', '{{}}', 'completed', 'baseline', {}, {})",
            t0 + day,
            t0 + day
        ),
        format!(
            "INSERT INTO sessions (client_id, flow_id, revision, state, status, time_point, started_at, updated_at) VALUES ('old-1', 'loneliness', 'r1', '{{}}', 'completed', 'baseline', {}, {})",
            t0 + 101 * day,
            t0 + 101 * day
        ),
    ] {
        sqlx::query(&sql).execute(db.pool()).await.unwrap();
    }
    let sessions: Vec<i64> = sqlx::query_scalar("SELECT id FROM sessions ORDER BY id")
        .fetch_all(db.pool())
        .await
        .unwrap();
    for (k, s) in sessions.iter().enumerate() {
        let at = t0 + day + 100 * day * i64::try_from(k).unwrap();
        sqlx::query(&format!(
            "INSERT INTO scores (client_id, session_id, flow_id, revision, instrument, time_point, total, complete, items, at) \
             VALUES ('old-1', {s}, 'loneliness', 'r1', 'ucla3', 'baseline', {}, 1, '{{}}', {at})",
            7 - k
        ))
        .execute(db.pool())
        .await
        .unwrap();
    }
    // Today's migrations, on top.
    db.migrate().await.unwrap();
    let referrals: Vec<(i64, Option<String>, Option<i64>, String)> = sqlx::query_as(
        "SELECT id, program, program_id, uptake FROM referrals WHERE client_id = 'old-1' ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(referrals.len(), 2);
    assert_eq!(referrals[0].1.as_deref(), Some("Café des voisins"));
    assert_eq!(referrals[0].2, None, "a free-text program is \"other\"");
    assert_eq!(referrals[1].1.as_deref(), Some("Chorale du quartier"));
    assert_eq!(referrals[1].2, None);
    let scores: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT total, referral_id FROM scores ORDER BY id")
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert_eq!(
        scores,
        vec![(7, Some(referrals[0].0)), (6, Some(referrals[1].0))],
        "each score is attached to the referral open when it was taken"
    );
    let history: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT referral_id, uptake, source FROM referral_uptake ORDER BY referral_id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(
        history,
        vec![
            (referrals[0].0, "attended".into(), "before".into()),
            (referrals[1].0, "not-yet".into(), "before".into())
        ]
    );
    // The record reads them as before, with the referral each score measures.
    let read = record::read(&db, &ClientId::parse("old-1").unwrap(), "test", t0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.referrals.len(), 2);
    assert_eq!(read.referrals[0].program_code, None);
    assert_eq!(read.scores[1].referral_id, Some(referrals[1].0));
    db.close().await;
}

/// A database of before goals and sociodemographics (up to `20261202000001`), with what a client
/// said and scored; then today's migrations keep every answer and score as it was, and the new
/// tables start empty, every client "never asked" and no staff member allowed to see them.
async fn migrating_keeps_every_answer_and_score(url: &str, dir: &str) {
    let db = Db::connect(url).await.unwrap();
    migrate_until(&db, dir, "20261202000001_followthrough.sql", 10).await;
    let t0 = 1_780_000_000_000_i64;
    for sql in [
        format!(
            "INSERT INTO clients (id, language, time_zone, consent, created_at, updated_at) VALUES ('old-2', 'ar', 'America/Toronto', 'granted', {t0}, {t0})"
        ),
        format!(
            "INSERT INTO referrals (client_id, referred_at, reasons, program, uptake, created_at) VALUES ('old-2', {t0}, 'loneliness', 'Café', 'attended', {t0})"
        ),
        format!(
            "INSERT INTO sessions (client_id, flow_id, revision, state, status, time_point, started_at, updated_at, referral_id) \
             VALUES ('old-2', 'what-matters', 'r1', '{{}}', 'completed', NULL, {t0}, {t0}, (SELECT MAX(id) FROM referrals))"
        ),
    ] {
        sqlx::query(&sql).execute(db.pool()).await.unwrap();
    }
    let answers = [
        (
            "matters",
            "wm.what_matters",
            "أحفادي والخروج من البيت",
            None,
        ),
        ("needs", "wm.need", "3", Some("disconnected")),
        ("callback", "wm.callback", "نعم", Some("yes")),
    ];
    for (step, key, raw, value) in answers {
        sqlx::query(
            "INSERT INTO answers (client_id, session_id, flow_id, revision, step_id, record_key, raw_text, value, status, locale, at) \
             VALUES ('old-2', (SELECT MAX(id) FROM sessions), 'what-matters', 'r1', $1, $2, $3, $4, 'answered', 'ar', $5)",
        )
        .bind(step)
        .bind(key)
        .bind(raw)
        .bind(value.unwrap_or(raw))
        .bind(t0)
        .execute(db.pool())
        .await
        .unwrap();
    }
    sqlx::query(&format!(
        "INSERT INTO scores (client_id, session_id, flow_id, revision, instrument, time_point, total, category, complete, items, at, referral_id) \
         VALUES ('old-2', 1, 'belonging', 'r1', 'cchs-belonging', 'baseline', NULL, 'somewhat-weak', 1, '{{}}', {t0}, (SELECT MAX(id) FROM referrals))"
    ))
    .execute(db.pool())
    .await
    .unwrap();
    let before_answers: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT step_id, raw_text, value FROM answers ORDER BY id")
            .fetch_all(db.pool())
            .await
            .unwrap();
    let before_scores: Vec<(String, Option<String>, Option<i64>)> =
        sqlx::query_as("SELECT instrument, category, referral_id FROM scores ORDER BY id")
            .fetch_all(db.pool())
            .await
            .unwrap();
    db.migrate().await.unwrap();
    let after_answers: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT step_id, raw_text, value FROM answers ORDER BY id")
            .fetch_all(db.pool())
            .await
            .unwrap();
    let after_scores: Vec<(String, Option<String>, Option<i64>)> =
        sqlx::query_as("SELECT instrument, category, referral_id FROM scores ORDER BY id")
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert_eq!(after_answers.len(), 3);
    assert_eq!(after_answers, before_answers);
    assert_eq!(after_scores, before_scores);
    let (consent, goal): (Option<String>, Option<i64>) = sqlx::query_as(
        "SELECT c.sociodemographics, s.goal_id FROM clients c JOIN sessions s ON s.client_id = c.id WHERE c.id = 'old-2'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!((consent, goal), (None, None));
    for table in [
        "goals",
        "goal_ratings",
        "sociodemographics",
        "health_use",
        "provider_feedback",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(n, 0, "{table}");
    }
    // The record and the evaluation read them as before.
    let read = record::read(&db, &ClientId::parse("old-2").unwrap(), "test", t0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.answers[0].raw, "أحفادي والخروج من البيت");
    let facts = matters::evaluation::facts(
        &db,
        None,
        &matters::evaluation::Filter::default(),
        chrono_tz::America::Toronto,
    )
    .await
    .unwrap();
    assert_eq!(facts[0].value("cchs-belonging", "baseline"), Some(2.0));
    db.close().await;
}

#[tokio::test]
async fn every_answer_and_score_survives_the_goals_migration_on_sqlite() {
    let file = std::env::temp_dir().join(format!("matters-old-goals-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let url = format!("sqlite://{}", file.display());
    migrating_keeps_every_answer_and_score(&url, "migrations/sqlite").await;
    let _ = std::fs::remove_file(&file);
}

#[tokio::test]
async fn every_answer_and_score_survives_the_goals_migration_on_postgres() {
    let Some((url, schema, admin)) = postgres().await else {
        return;
    };
    migrating_keeps_every_answer_and_score(&url, "migrations/postgres").await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(admin.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn free_text_programs_and_their_scores_survive_the_migration_on_sqlite() {
    let file = std::env::temp_dir().join(format!("matters-old-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let url = format!("sqlite://{}", file.display());
    migrating_keeps_free_text_referrals_and_their_scores(&url, "migrations/sqlite").await;
    let _ = std::fs::remove_file(&file);
}

#[tokio::test]
async fn free_text_programs_and_their_scores_survive_the_migration_on_postgres() {
    let Some((url, schema, admin)) = postgres().await else {
        return;
    };
    migrating_keeps_free_text_referrals_and_their_scores(&url, "migrations/postgres").await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(admin.pool())
        .await
        .unwrap();
}

/// The ids a probe statement returns.
async fn ids_found(
    tx: &mut matters::store::Tx,
    sql: &str,
    binds: Vec<matters::store::sql::V>,
) -> Vec<i64> {
    matters::store::sql::bind_all(sqlx::query(sql), binds)
        .fetch_all(&mut **tx)
        .await
        .unwrap()
        .iter()
        .map(|r| sqlx::Row::get(r, 0))
        .collect()
}

/// A batch read as one JSON value ([`sql::json_rows`]) gives back every value as it was stored:
/// text with quotes, backslashes, new lines and letters beyond ASCII, empty text, NULLs, the
/// largest integers, and a JSON value made in a subquery. A list of keys bound as JSON on
/// Postgres finds what it names.
async fn json_rows_read_back_what_was_stored(url: &str) {
    use matters::store::sql::{fetch_json_rows, i, in_list, json_array, json_col, json_rows, s};
    let db = Db::connect(url).await.unwrap();
    let b = db.backend();
    sqlx::query("CREATE TABLE json_probe (id BIGINT PRIMARY KEY, t TEXT, n BIGINT)")
        .execute(db.pool())
        .await
        .unwrap();
    let rows: Vec<(i64, Option<String>, Option<i64>)> = vec![
        (
            1,
            Some("l'été \"chaud\" \\ à Hawkesbury\nligne 2 ✓ 😊".into()),
            Some(i64::MAX),
        ),
        (2, Some(String::new()), Some(i64::MIN)),
        (3, None, None),
        (4, Some("[1, 2] {\"not\": \"json\"} null".into()), Some(0)),
    ];
    for (id, t, n) in &rows {
        sqlx::query("INSERT INTO json_probe (id, t, n) VALUES ($1, $2, $3)")
            .bind(*id)
            .bind(t.clone())
            .bind(*n)
            .execute(db.pool())
            .await
            .unwrap();
    }
    let pair = json_col(
        b,
        &format!(
            "(SELECT {}(q.t, q.n) FROM json_probe q WHERE q.id = p.id)",
            json_array(b)
        ),
    );
    let sql = json_rows(
        b,
        &["p.id", "p.t", "p.n", &pair],
        "FROM json_probe p WHERE p.id > $1",
    );
    let mut tx = db.begin().await.unwrap();
    type Got = (
        i64,
        Option<String>,
        Option<i64>,
        (Option<String>, Option<i64>),
    );
    let mut got: Vec<Got> = fetch_json_rows(sqlx::query(&sql).bind(0_i64), &mut tx, "probing")
        .await
        .unwrap();
    got.sort_by_key(|g| g.0);
    assert_eq!(got.len(), rows.len());
    for (g, (id, t, n)) in got.iter().zip(&rows) {
        assert_eq!((&g.0, &g.1, &g.2), (id, t, n));
        assert_eq!((&g.3.0, &g.3.1), (t, n), "the subquery's pair of row {id}");
    }
    // No row: an empty list, not an error.
    let none: Vec<Got> = fetch_json_rows(sqlx::query(&sql).bind(99_i64), &mut tx, "probing")
        .await
        .unwrap();
    assert!(none.is_empty());
    // A list of keys ([`sql::in_list`]) finds exactly the rows it names, by text or by number.
    let (texts, binds) = in_list(
        b,
        1,
        vec![s(rows[0].1.as_deref().unwrap()), s(""), s("not stored")],
    );
    let sql = format!("SELECT id FROM json_probe WHERE t IN ({texts}) ORDER BY id");
    let found = ids_found(&mut tx, &sql, binds).await;
    assert_eq!(found, [1, 2]);
    let (ids, mut binds) = in_list(b, 2, vec![i(4), i(3), i(99)]);
    binds.insert(0, i(3));
    let sql = format!(
        "SELECT id FROM json_probe WHERE id >= {} AND id IN ({ids}) ORDER BY id",
        matters::store::sql::list(b, 1)
    );
    let found = ids_found(&mut tx, &sql, binds).await;
    assert_eq!(found, [3, 4]);
    tx.rollback().await.unwrap();
    db.close().await;
}

#[tokio::test]
async fn json_rows_read_back_what_was_stored_on_sqlite() {
    json_rows_read_back_what_was_stored("sqlite::memory:").await;
}

#[tokio::test]
async fn json_rows_read_back_what_was_stored_on_postgres() {
    let Some((url, schema, admin)) = postgres().await else {
        return;
    };
    json_rows_read_back_what_was_stored(&url).await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(admin.pool())
        .await
        .unwrap();
}
