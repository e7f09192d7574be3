//! What a centre's IT runs: metrics, readiness and logs of a real `matters serve`; backups under
//! traffic and restores; upgrades (migrate --status, an older binary refused); the retention
//! policy; a client's whole file for an access request; `matters doctor` against stand-ins of
//! Twilio and Telegram; completions, man pages and the version; the Debian package.

mod support;

use matters::clock::{Clock, ManualClock, to_ms};
use matters::domain::{Channel, ClientId, FlowId};
use matters::runner::{IfBusy, Inbound};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use support::bin::{free_port, matters};
use support::twilio::StandIn;

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "f00dfeedf00dfeedf00dfeedf00dfeed";
const OURS: &str = "+15145559999";

/// Runs the binary: did it succeed, and what it said (stdout then stderr).
fn run(c: &mut Command) -> (bool, String) {
    let out = c.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn temp(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("matters-ops-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// A GET over plain HTTP/1.1: status line and body.
fn get(addr: &str, path: &str) -> (String, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    (
        head.lines().next().unwrap_or_default().to_owned(),
        body.to_owned(),
    )
}

fn signal(pid: u32, sig: &str) {
    assert!(
        Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
}

// ---------------------------------------------------------------------------------------------
// Metrics, readiness and logs, from a real `matters serve` sending through a Twilio stand-in.

const PHONE: &str = "+15145550188";
const WORDS: &str = "Rosalind from the choir never calls me back";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_reports_metrics_readiness_and_json_logs_without_a_clients_data() {
    let dir = temp("serve");
    let db = format!("sqlite://{}/m.db?mode=rwc", dir.display());
    let standin = StandIn::start(SID, TOKEN, false).await;
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let public = format!("http://{addr}");
    // A client whose loneliness survey starts at once.
    let (ok, said) = run(matters()
        .args([
            "clients",
            "add",
            "bea",
            "--phone",
            PHONE,
            "--start",
            "loneliness",
        ])
        .env("MATTERS_DATABASE_URL", &db));
    assert!(ok, "{said}");
    let log = dir.join("serve.log");
    let mut child = matters()
        .arg("serve")
        .env("MATTERS_DATABASE_URL", &db)
        .env("MATTERS_LISTEN", &addr)
        .env("MATTERS_PUBLIC_URL", &public)
        .env("MATTERS_CENTRE_NAME", "CSC Centre-Ville")
        .env("MATTERS_TWILIO__SEGMENTS_PER_SECOND", "0")
        .env("MATTERS_LOG_FORMAT", "json")
        .env("MATTERS_LOG", "info")
        .env("TWILIO_ACCOUNT_SID", SID)
        .env("TWILIO_AUTH_TOKEN", TOKEN)
        .env("TWILIO_FROM", OURS)
        .env("TWILIO_API_BASE", &standin.base)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        printed.push_str(&line);
        if line.starts_with("navigators sign in") || line.starts_with("no staff accounts") {
            break;
        }
    }
    std::thread::spawn(move || for _ in out.lines() {});
    assert!(printed.contains("metrics: http://"), "{printed}");
    // The introduction and the first question go out; the client answers three times, by
    // signed webhooks (the second answer is not understood, and asked again).
    standin.wait_for(2).await;
    let http = reqwest::Client::new();
    for (k, body) in ["2", WORDS, "often"].iter().enumerate() {
        let sid = format!("SMin{k:030}");
        let params: Vec<(String, String)> = [
            ("MessageSid", sid.as_str()),
            ("AccountSid", SID),
            ("From", PHONE),
            ("To", OURS),
            ("Body", body),
            ("NumMedia", "0"),
            ("NumSegments", "1"),
            ("ApiVersion", "2010-04-01"),
        ]
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
        let url = format!("{public}/webhooks/twilio/sms");
        let sig = support::twilio::sign(TOKEN, &url, &params);
        let r = http
            .post(&url)
            .header("X-Twilio-Signature", sig)
            .form(&params)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        standin.wait_for(k + 3).await;
    }
    // A forged webhook is refused and counted.
    let r = http
        .post(format!("{public}/webhooks/twilio/sms"))
        .header("X-Twilio-Signature", "forged")
        .form(&[("From", PHONE), ("Body", "hi")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(standin.sent_to(PHONE).len(), 5, "{:?}", standin.sent());

    // The last send is counted once its outcome is recorded, just after Twilio took it.
    let mut metrics = String::new();
    for _ in 0..200 {
        let (status, m) = tokio::task::spawn_blocking({
            let addr = addr.clone();
            move || get(&addr, "/metrics")
        })
        .await
        .unwrap();
        assert!(status.contains("200"), "{status}");
        metrics = m;
        if metrics.contains(r#"matters_sends_total{channel="sms",outcome="sent"} 5"#) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    println!("a scrape of /metrics:\n{metrics}");
    for series in [
        r#"matters_inbound_messages_total{channel="sms",outcome="handled"} 3"#,
        r#"matters_sends_total{channel="sms",outcome="sent"} 5"#,
        r#"matters_webhook_signature_refusals_total{channel="sms"} 1"#,
        r#"matters_outbox_depth{channel="sms",priority="reply"} 0"#,
        "matters_outbox_oldest_queued_seconds",
        "matters_send_seconds_bucket",
        "matters_jobs_due",
        "matters_jobs_oldest_due_lag_seconds",
        r#"matters_flags_open{urgency="urgent"}"#,
        "matters_db_pool_connections",
        "matters_http_requests_total",
    ] {
        assert!(metrics.contains(series), "{series} is not in:\n{metrics}");
    }
    for line in metrics
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        assert!(line.starts_with("matters_"), "{line}");
    }
    let (status, ready) = tokio::task::spawn_blocking({
        let addr = addr.clone();
        move || get(&addr, "/readyz")
    })
    .await
    .unwrap();
    assert!(status.contains("200"), "{status} {ready}");
    let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
    let parts: Vec<&str> = ready["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["part"].as_str().unwrap())
        .collect();
    for p in ["database", "migrations", "sms dispatcher", "scheduler"] {
        assert!(parts.contains(&p), "{parts:?}");
    }
    signal(child.id(), "-TERM");
    assert!(child.wait().unwrap().success());

    let log = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let request = lines
        .iter()
        .find(|l| l["message"] == "request" && l["route"] == "/webhooks/twilio/sms")
        .unwrap_or_else(|| panic!("no request line in:\n{log}"));
    assert_eq!(request["method"], "POST");
    assert_eq!(request["status"], 200);
    assert!(request["duration_ms"].is_number());
    assert_eq!(request["level"], "INFO");
    let send = lines
        .iter()
        .find(|l| l["message"] == "message sent")
        .unwrap_or_else(|| panic!("no send line in:\n{log}"));
    assert_eq!(send["channel"], "sms");
    assert_eq!(send["outcome"], "sent");
    assert!(send["segments"].is_number(), "{send}");
    println!("a JSON log line of a send: {send}");
    println!("a JSON log line of a request: {request}");
    // Nothing of the client's: not the number (in any form), not their words, not the bot's
    // questions to them, not the auth token.
    for secret in [
        PHONE,
        "5145550188",
        "Rosalind",
        "choir",
        "companionship",
        TOKEN,
    ] {
        assert!(!log.contains(secret), "the log holds {secret:?}:\n{log}");
        assert!(!metrics.contains(secret), "the metrics hold {secret:?}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn readiness_names_a_loop_that_stopped() {
    let w = support::web::Web::new().await;
    let p = w.get("/readyz").await;
    assert_eq!(p.status.as_u16(), 200, "{}", p.body);
    let alive = w.state.runner.loops.register("sms dispatcher");
    alive.beat();
    assert_eq!(w.get("/readyz").await.status.as_u16(), 200);
    drop(alive);
    let p = w.get("/readyz").await;
    assert_eq!(p.status.as_u16(), 503);
    let v = p.json();
    let bad: Vec<&serde_json::Value> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .collect();
    assert_eq!(bad.len(), 1, "{v}");
    assert_eq!(bad[0]["part"], "sms dispatcher");
    assert_eq!(bad[0]["problem"], "stopped");
    // /metrics is not on an address that did not ask for it.
    assert_eq!(w.get("/metrics").await.status.as_u16(), 404);
}

// ---------------------------------------------------------------------------------------------
// Backups and restores.

/// Every row of the record's append-only tables with an id at most `upto`, as text.
async fn rows(db: &matters::store::Db, upto: i64) -> Vec<String> {
    let mut out = Vec::new();
    for (table, cols) in [
        (
            "messages",
            "id, client_id, direction, channel, body, status, created_at",
        ),
        (
            "answers",
            "id, client_id, session_id, step_id, raw_text, value, at",
        ),
        ("audit_log", "id, actor, action, client_id, detail"),
    ] {
        let sql = format!("SELECT {cols} FROM {table} WHERE id <= $1 ORDER BY id");
        let n = cols.split(',').count();
        for r in sqlx::query(&sql)
            .bind(upto)
            .fetch_all(db.pool())
            .await
            .unwrap()
        {
            use sqlx::Row;
            let mut line = table.to_owned();
            for k in 0..n {
                let v: Option<String> = r
                    .try_get::<Option<String>, _>(k)
                    .or_else(|_| {
                        r.try_get::<Option<i64>, _>(k)
                            .map(|v| v.map(|v| v.to_string()))
                    })
                    .unwrap();
                line.push('|');
                line.push_str(v.as_deref().unwrap_or("∅"));
            }
            out.push(line);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_traffic_restores_to_the_record_at_that_moment() {
    let dir = temp("backup");
    let url = format!("sqlite://{}/live.db?mode=rwc", dir.display());
    let cfg = matters::config::Config {
        database_url: url.clone(),
        ..matters::config::Config::default()
    };
    let clock = ManualClock::new(chrono::Utc::now());
    let runner = Arc::new(
        matters::app::build(&cfg, Arc::new(clock.clone()))
            .await
            .unwrap(),
    );
    let clients: Vec<ClientId> = (0..20)
        .map(|k| ClientId::parse(&format!("c{k:02}")).unwrap())
        .collect();
    for c in &clients {
        let new = matters::store::record::NewClient {
            id: c.clone(),
            language: matters::domain::Locale::parse("en").unwrap(),
            time_zone: runner.centre.time_zone,
            chart_number: None,
            reach: Some((Channel::Simulator, c.to_string())),
            centre: matters::domain::DEFAULT_CENTRE.into(),
        };
        matters::store::record::add_client(&runner.db, &new, to_ms(clock.now()), "test")
            .await
            .unwrap();
        runner
            .start_flow(
                c,
                &FlowId::parse("loneliness").unwrap(),
                None,
                IfBusy::Refuse,
                "test",
            )
            .await
            .unwrap();
    }
    // Clients keep answering while the backup is taken, in another process.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let traffic = tokio::spawn({
        let (runner, stop, clients) = (runner.clone(), stop.clone(), clients.clone());
        async move {
            let mut k = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let c = &clients[k % clients.len()];
                let text = ["1", "often", "hardly ever", "some of the time"][k % 4];
                runner
                    .receive(&Inbound::new(
                        Channel::Simulator,
                        c.clone(),
                        Some(format!("in-{k}")),
                        text,
                    ))
                    .await
                    .unwrap();
                k += 1;
            }
            k
        }
    });
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM messages WHERE direction = 'in'")
            .fetch_one(runner.db.pool())
            .await
            .unwrap()
            < 40
        {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap();
    let copy = dir.join("copy.db");
    let (ok, said) = tokio::task::spawn_blocking({
        let (url, copy) = (url.clone(), copy.clone());
        move || {
            run(matters()
                .args(["backup", "--out"])
                .arg(&copy)
                .env("MATTERS_DATABASE_URL", &url))
        }
    })
    .await
    .unwrap();
    let handled_after = {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE direction = 'in'")
            .fetch_one(runner.db.pool())
            .await
            .unwrap();
        n
    };
    // Traffic goes on a little after the backup, then stops.
    tokio::task::yield_now().await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = traffic.await.unwrap();
    assert!(ok, "{said}");
    assert!(said.contains("backed up to"), "{said}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the backup is its owner's only");
    }
    // A backup never overwrites a file.
    let (ok, said) = run(matters()
        .args(["backup", "--out"])
        .arg(&copy)
        .env("MATTERS_DATABASE_URL", &url));
    assert!(!ok && said.contains("exists already"), "{said}");

    // Restoring over the live database is refused while it is open.
    let (ok, said) = run(matters()
        .arg("restore")
        .arg(&copy)
        .env("MATTERS_DATABASE_URL", &url));
    assert!(!ok && said.contains("is in use"), "{said}");
    // Restored into a new file: the record as it was at the backup's moment.
    let restored_url = format!("sqlite://{}/restored.db?mode=rwc", dir.display());
    let (ok, said) = run(matters()
        .arg("restore")
        .arg(&copy)
        .env("MATTERS_DATABASE_URL", &restored_url));
    assert!(ok, "{said}");
    let restored = matters::store::Db::connect(&restored_url).await.unwrap();
    let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM messages")
        .fetch_one(restored.pool())
        .await
        .unwrap();
    let inbound: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE direction = 'in'")
        .fetch_one(restored.pool())
        .await
        .unwrap();
    assert!(
        inbound >= 40 && inbound <= handled_after,
        "{inbound} of {handled_after}"
    );
    assert!(
        (sent as i64) > inbound,
        "traffic went on after the backup: {sent} > {inbound}"
    );
    // Every message in the copy has its whole transaction: a client's text and the reply it
    // got are both there or both not. A text can go unanswered for good (after the flow ends,
    // a client hears one auto-reply a day), so the copy's unanswered texts must be exactly
    // the live record's among the same messages, not none.
    let unanswered_sql = "SELECT i.id FROM messages i WHERE i.direction = 'in' AND i.id <= $1 AND NOT EXISTS (SELECT 1 FROM messages o WHERE o.direction = 'out' AND o.client_id = i.client_id AND o.id > i.id) ORDER BY i.id";
    let unanswered_copy: Vec<i64> = sqlx::query_scalar(unanswered_sql)
        .bind(last)
        .fetch_all(restored.pool())
        .await
        .unwrap();
    let unanswered_live: Vec<i64> = sqlx::query_scalar(unanswered_sql)
        .bind(last)
        .fetch_all(runner.db.pool())
        .await
        .unwrap();
    assert_eq!(unanswered_copy, unanswered_live);
    assert!(
        (unanswered_copy.len() as i64) < inbound,
        "most texts in the copy were answered: {} of {inbound} were not",
        unanswered_copy.len()
    );
    let last_audit: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM audit_log")
        .fetch_one(restored.pool())
        .await
        .unwrap();
    let upto = last.max(last_audit);
    let want = rows(&runner.db, upto).await;
    let got = rows(&restored, upto).await;
    let want: Vec<&String> = want
        .iter()
        .filter(|r| {
            let id: i64 = r.split('|').nth(1).unwrap().parse().unwrap();
            if r.starts_with("messages") {
                id <= last
            } else if r.starts_with("audit_log") {
                id <= last_audit
            } else {
                true
            }
        })
        .collect();
    let answers_in_copy: Vec<&String> = got.iter().filter(|r| r.starts_with("answers")).collect();
    let want_answers = want.iter().filter(|r| r.starts_with("answers")).count();
    assert!(answers_in_copy.len() <= want_answers);
    let got_set: std::collections::HashSet<&String> = got.iter().collect();
    for r in want.iter().filter(|r| !r.starts_with("answers")) {
        assert!(got_set.contains(r), "the copy lacks {r}");
    }
    for r in &answers_in_copy {
        assert!(
            want.contains(r),
            "the copy has an answer the original does not: {r}"
        );
    }
    // The record as the service reads it is the same, client by client.
    for c in &clients {
        let a = matters::store::record::read(&restored, c, "test", 0)
            .await
            .unwrap()
            .unwrap();
        let o = matters::store::record::read(&runner.db, c, "test", 0)
            .await
            .unwrap()
            .unwrap();
        let a_msgs: Vec<_> = a.messages.iter().map(|m| (m.id, m.body.clone())).collect();
        let o_msgs: Vec<_> = o
            .messages
            .iter()
            .filter(|m| m.id <= last)
            .map(|m| (m.id, m.body.clone()))
            .collect();
        assert_eq!(a_msgs, o_msgs, "{c}");
    }
    restored.close().await;
    runner.db.close().await;
    drop(runner);
    // With the service stopped, the backup goes in place; the old database is kept.
    let (ok, said) = run(matters()
        .arg("restore")
        .arg(&copy)
        .env("MATTERS_DATABASE_URL", &url));
    assert!(ok, "{said}");
    assert!(said.contains("is kept as"), "{said}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn backup_on_postgres_prints_the_pg_dump_command() {
    let (ok, said) = run(matters().args(["backup", "--out", "/tmp/x.dump"]).env(
        "MATTERS_DATABASE_URL",
        "postgres://matters:s3cret@127.0.0.1:1/matters",
    ));
    // It cannot reach that database; either way it never prints the password.
    assert!(!said.contains("s3cret"), "{said}");
    if let Some((url, _, _)) = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(support::pg::postgres())
    {
        let (ok, said) = run(matters()
            .args(["backup", "--out", "/tmp/x.dump"])
            .env("MATTERS_DATABASE_URL", &url));
        assert!(!ok, "no backup was taken: {said}");
        assert!(
            said.contains("pg_dump --format=custom --file /tmp/x.dump"),
            "{said}"
        );
        assert!(said.contains("pg_restore"), "{said}");
    }
    assert!(!ok);
}

// ---------------------------------------------------------------------------------------------
// Upgrades.

#[tokio::test]
async fn an_older_binary_refuses_a_newer_database_and_migrate_status_lists_it() {
    let dir = temp("upgrade");
    let url = format!("sqlite://{}/u.db?mode=rwc", dir.display());
    // A new database: every migration pending.
    let db = matters::store::Db::connect(&url).await.unwrap();
    let status = matters::ops::migrations::status(&db).await.unwrap();
    assert!(status.applied.is_empty() && !status.pending.is_empty());
    db.close().await;
    drop(db);
    let (ok, said) = run(matters()
        .args(["migrate", "--status"])
        .env("MATTERS_DATABASE_URL", &url));
    assert!(!ok, "pending migrations: exit 1: {said}");
    assert!(
        said.contains("pending  20261204000001 operations"),
        "{said}"
    );
    let (ok, said) = run(matters().arg("migrate").env("MATTERS_DATABASE_URL", &url));
    assert!(ok, "{said}");
    let (ok, said) = run(matters()
        .args(["migrate", "--status"])
        .env("MATTERS_DATABASE_URL", &url));
    assert!(ok, "{said}");
    assert!(said.contains("applied  20261121000001 record"), "{said}");
    assert!(!said.contains("pending "), "{said}");
    // A newer matters migrated it further.
    let db = matters::store::Db::connect(&url).await.unwrap();
    sqlx::query("INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) VALUES (29991231000001, 'from the future', CURRENT_TIMESTAMP, TRUE, x'00', 1)")
        .execute(db.pool())
        .await
        .unwrap();
    db.close().await;
    drop(db);
    let (ok, said) = run(matters()
        .args(["migrate", "--status"])
        .env("MATTERS_DATABASE_URL", &url));
    assert!(
        !ok && said.contains("unknown  29991231000001 from the future"),
        "{said}"
    );
    let (ok, said) = run(matters()
        .arg("serve")
        .env("MATTERS_DATABASE_URL", &url)
        .env("MATTERS_LISTEN", "127.0.0.1:0"));
    assert!(!ok, "{said}");
    assert!(
        said.contains("this database was upgraded by a newer matters: it has migration 29991231000001 (from the future)")
            && said.contains("Run the newer matters, or restore the backup taken before the upgrade"),
        "{said}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Retention, and a client's whole file.

#[tokio::test]
async fn retention_previews_then_purges_old_words_and_closed_clients_with_an_audit() {
    let dir = temp("retention");
    let url = format!("sqlite://{}/r.db?mode=rwc", dir.display());
    let w = support::web::Web::with_db(&url).await;
    let runner = w.state.runner.clone();
    support::seed::everything(&runner, &w.clock).await;
    let amelie = support::seed::CLIENT;
    let count = |sql: &'static str| {
        let db = runner.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(db.pool())
                .await
                .unwrap()
        }
    };
    let scores_before = count("SELECT COUNT(*) FROM scores").await;
    let messages =
        count("SELECT COUNT(*) FROM messages WHERE body <> '' AND status <> 'queued'").await;
    assert!(messages > 0 && scores_before > 0);
    // A year and a half later.
    w.clock.advance(chrono::Duration::days(548));
    let policy = matters::config::RetentionSettings {
        message_body_days: Some(365),
        client_years: None,
    };
    let now = to_ms(w.clock.now());
    let preview = matters::ops::retention::preview(&runner.db, &policy, now)
        .await
        .unwrap();
    assert_eq!(preview.message_bodies, messages);
    // A dry run changes nothing.
    let (ok, said) = run(matters()
        .args(["retention", "--dry-run"])
        .env("MATTERS_DATABASE_URL", &url)
        .env("MATTERS_RETENTION__MESSAGE_BODY_DAYS", "1"));
    assert!(ok, "{said}");
    assert!(
        said.contains(&format!(
            "would purge the words of {messages} message(s) older than 1 days"
        )),
        "{said}"
    );
    assert!(said.contains("a dry run"), "{said}");
    assert_eq!(
        count("SELECT COUNT(*) FROM messages WHERE purged_at IS NOT NULL").await,
        0
    );

    let done = matters::ops::retention::run_if_due(&runner.db, &policy, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.message_bodies, messages);
    // Once a day: a second run the same day does nothing.
    assert!(
        matters::ops::retention::run_if_due(&runner.db, &policy, now + 1000)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM messages WHERE body <> '' AND status <> 'queued'").await,
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM scores").await,
        scores_before,
        "scores stay"
    );
    let audit: String =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'retention-purge'")
            .fetch_one(runner.db.pool())
            .await
            .unwrap();
    assert_eq!(audit, format!("message bodies: {messages}; clients: 0"));
    // The record says what happened, in the navigator's language (Ada is the seed's admin).
    w.sign_in("ada").await;
    let page = w.get(&format!("/clients/{amelie}")).await;
    assert!(
        page.visible()
            .contains("Removed under the centre's retention policy.")
    );
    let audit_page = w.get("/audit").await;
    assert!(
        audit_page.visible().contains(&format!(
            "Message words removed: {messages}; clients purged: 0"
        )) && audit_page.visible().contains("The retention policy"),
        "{}",
        audit_page.visible()
    );

    // Clients whose referrals closed long ago go whole; the others stay.
    sqlx::query(
        "UPDATE referrals SET closed_at = $1, closing_reason = 'goal-met' WHERE client_id = $2",
    )
    .bind(now - 3 * 365 * 86_400_000)
    .bind(amelie)
    .execute(runner.db.pool())
    .await
    .unwrap();
    let policy = matters::config::RetentionSettings {
        message_body_days: None,
        client_years: Some(2),
    };
    let p = matters::ops::retention::purge(&runner.db, &policy, now)
        .await
        .unwrap();
    assert_eq!(p.clients, vec![amelie.to_owned()]);
    for table in [
        "clients",
        "messages",
        "answers",
        "scores",
        "referrals",
        "goals",
        "flags",
        "sessions",
    ] {
        let col = if table == "clients" {
            "id"
        } else {
            "client_id"
        };
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE {col} = $1"))
            .bind(amelie)
            .fetch_one(runner.db.pool())
            .await
            .unwrap();
        assert_eq!(n, 0, "{table} still holds rows of the purged client");
    }
    assert_eq!(
        count("SELECT COUNT(*) FROM clients WHERE id = 'bruno'").await,
        1,
        "a client with an open referral stays"
    );
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'client-purged' AND client_id = 'amelie'",
    )
    .fetch_one(runner.db.pool())
    .await
    .unwrap();
    assert_eq!(detail, "every referral closed more than 2 year(s) ago");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_clients_whole_file_is_exported_for_an_access_request() {
    let dir = temp("access");
    let url = format!("sqlite://{}/a.db?mode=rwc", dir.display());
    let w = support::web::Web::with_db(&url).await;
    let runner = w.state.runner.clone();
    support::seed::everything(&runner, &w.clock).await;
    let amelie = support::seed::CLIENT;
    let out = dir.join("request");
    let (ok, said) = tokio::task::spawn_blocking({
        let (url, out) = (url.clone(), out.clone());
        move || {
            run(matters()
                .args(["clients", "export", amelie, "--out"])
                .arg(&out)
                .env("MATTERS_DATABASE_URL", &url)
                .env("MATTERS_CENTRE_NAME", "CSC Centre-Ville"))
        }
    })
    .await
    .unwrap();
    assert!(ok, "{said}");
    let json_path = out.join(format!("{amelie}-record.json"));
    let html_path = out.join(format!("{amelie}-record.html"));
    #[cfg(unix)]
    for p in [&json_path, &html_path] {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let messages = file["record"]["messages"].as_array().unwrap();
    let n_messages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE client_id = $1")
        .bind(amelie)
        .fetch_one(runner.db.pool())
        .await
        .unwrap();
    assert_eq!(messages.len() as i64, n_messages);
    for key in [
        "record",
        "alerts",
        "goals",
        "sociodemographics",
        "access_log",
    ] {
        assert!(file.get(key).is_some(), "{key}");
    }
    assert!(
        file["access_log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["what"] == "record-view")
    );
    let html = std::fs::read_to_string(&html_path).unwrap();
    let doc = scraper::Html::parse_document(&html);
    let text: String = doc.root_element().text().collect();
    assert!(
        text.contains("Everything CSC Centre-Ville holds about amelie"),
        "{text}"
    );
    // Every message body is on the page, escaped, as the client wrote it.
    for m in messages {
        let body = m["body"].as_str().unwrap();
        assert!(
            body.is_empty() || text.contains(body),
            "the page lacks {body:?}"
        );
    }
    assert!(
        !html.contains("<script"),
        "nothing a client wrote becomes markup"
    );
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'client-export' AND client_id = $1 AND detail LIKE 'everything held, from the command line%'")
        .bind(amelie)
        .fetch_one(runner.db.pool())
        .await
        .unwrap();
    assert_eq!(audited, 1);
    // From the record, the same as a page, audited too; signed out, no door.
    assert_eq!(
        w.get(&format!("/clients/{amelie}/export?format=html"))
            .await
            .status
            .as_u16(),
        303
    );
    w.sign_in("ada").await;
    let record = w.get(&format!("/clients/{amelie}")).await;
    assert!(
        record.body.contains("export?format=html"),
        "the record links to the page"
    );
    let page = w
        .get(&format!("/clients/{amelie}/export?format=html"))
        .await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        page.body
            .contains("Everything CSC Centre-Ville holds about amelie")
    );
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'client-export' AND detail = 'the whole record, as HTML'")
        .fetch_one(runner.db.pool())
        .await
        .unwrap();
    assert_eq!(audited, 1);
    let (ok, said) = run(matters()
        .args(["clients", "export", "nobody", "--out"])
        .arg(&out)
        .env("MATTERS_DATABASE_URL", &url));
    assert!(!ok && said.contains("no client nobody"), "{said}");
    std::fs::remove_dir_all(dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// matters doctor.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_the_setup_against_the_stand_ins() {
    let dir = temp("doctor");
    let url = format!("sqlite://{}/d.db?mode=rwc", dir.display());
    let twilio = StandIn::start(SID, TOKEN, false).await;
    let telegram = support::telegram::StandIn::start().await;
    let public = "https://matters.example.org";
    twilio.add_number(OURS, "https://old-host.example.org/sms");
    let (ok, said) = run(matters().arg("migrate").env("MATTERS_DATABASE_URL", &url));
    assert!(ok, "{said}");
    let doctor = |token: &str| {
        let mut c = matters();
        c.arg("doctor")
            .env("MATTERS_DATABASE_URL", &url)
            .env("MATTERS_PUBLIC_URL", public)
            .env("TWILIO_ACCOUNT_SID", SID)
            .env("TWILIO_AUTH_TOKEN", token)
            .env("TWILIO_FROM", OURS)
            .env("TWILIO_API_BASE", &twilio.base)
            .env("TELEGRAM_BOT_TOKEN", support::telegram::TOKEN)
            .env("TELEGRAM_API_URL", &telegram.base);
        c
    };
    let (ok, said) = tokio::task::spawn_blocking({
        let mut c = doctor(TOKEN);
        move || run(&mut c)
    })
    .await
    .unwrap();
    // The number sends its texts elsewhere: an error, with the fix.
    assert!(!ok, "{said}");
    let line = |part: &str, level: &str| {
        said.lines()
            .any(|l| l.starts_with(level) && l.split_whitespace().nth(1) == Some(part))
    };
    assert!(
        line("twilio", "ok") && said.contains("the account is active"),
        "{said}"
    );
    assert!(
        said.contains(&format!(
            "{OURS} sends incoming texts to https://old-host.example.org/sms, not to matters"
        )) && said.contains(&format!(
            "webhook to {public}/webhooks/twilio/sms (HTTP POST)"
        )),
        "{said}"
    );
    assert!(
        line("telegram", "ok") && said.contains("the token works: the bot is @"),
        "{said}"
    );
    assert!(line("public_url", "ok"), "{said}");
    assert!(
        line("centre", "warning") && said.contains("centre_name is not set"),
        "{said}"
    );
    assert!(
        line("database", "ok") && said.contains("migrations, current"),
        "{said}"
    );
    assert!(line("files", "ok"), "{said}");
    assert!(line("alerts", "warning"), "{said}");
    assert!(line("hours", "ok"), "{said}");
    assert!(
        said.lines().last().unwrap().ends_with("warning(s)"),
        "{said}"
    );
    // Pointed at us, with the right token: no error left.
    let numbers_fixed = StandIn::start(SID, TOKEN, false).await;
    numbers_fixed.add_number(OURS, &format!("{public}/webhooks/twilio/sms"));
    let (ok, said) = tokio::task::spawn_blocking({
        let mut c = doctor(TOKEN);
        c.env("TWILIO_API_BASE", &numbers_fixed.base)
            .env("MATTERS_CENTRE_NAME", "CSC Centre-Ville");
        move || run(&mut c)
    })
    .await
    .unwrap();
    assert!(ok, "{said}");
    assert!(
        said.contains(&format!(
            "{OURS} sends incoming texts to {public}/webhooks/twilio/sms"
        )),
        "{said}"
    );
    // A centre with a Twilio account and a Telegram bot of its own: each is checked.
    const WEST_SID: &str = "AC0000000000000000000000000000beef";
    const WEST_TOKEN: &str = "00112233445566778899aabbccddeeff";
    const WEST_BOT: &str = "7000000003:AAWestDoctorBotToken_012345678901";
    const WEST_NUMBER: &str = "+16135550177";
    numbers_fixed.add_account(WEST_SID, WEST_TOKEN);
    numbers_fixed.add_number_to(
        WEST_SID,
        WEST_NUMBER,
        &format!("{public}/webhooks/twilio/sms"),
    );
    telegram.another_bot(WEST_BOT, 7_000_000_003, "west_doctor_bot");
    let (sid_file, bot_file) = (dir.join("west.token"), dir.join("west.bot"));
    for (f, secret) in [(&sid_file, WEST_TOKEN), (&bot_file, WEST_BOT)] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(f, format!("{secret}\n")).unwrap();
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let (ok, said) = run(matters()
        .args([
            "centres",
            "add",
            "west",
            "--name",
            "West CHC",
            "--time-zone",
            "America/Toronto",
        ])
        .args([
            "--twilio-from",
            WEST_NUMBER,
            "--twilio-account-sid",
            WEST_SID,
        ])
        .args(["--twilio-auth-token-file", sid_file.to_str().unwrap()])
        .args(["--telegram-token-file", bot_file.to_str().unwrap()])
        .env("MATTERS_DATABASE_URL", &url));
    assert!(ok, "{said}");
    let (ok, said) = tokio::task::spawn_blocking({
        let mut c = doctor(TOKEN);
        c.env("TWILIO_API_BASE", &numbers_fixed.base)
            .env("MATTERS_CENTRE_NAME", "CSC Centre-Ville");
        move || run(&mut c)
    })
    .await
    .unwrap();
    assert!(ok, "{said}");
    for want in [
        "West CHC's own account takes its token and is active".to_owned(),
        format!("West CHC: {WEST_NUMBER} sends incoming texts to {public}/webhooks/twilio/sms"),
        "West CHC's own bot is @west_doctor_bot".to_owned(),
    ] {
        assert!(said.contains(&want), "{want}: {said}");
    }
    assert!(
        !said.contains(WEST_TOKEN) && !said.contains(WEST_BOT),
        "no secret is printed"
    );
    // Its token file opened to others: named, with the fix.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&sid_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let (ok, said) = tokio::task::spawn_blocking({
        let mut c = doctor(TOKEN);
        c.env("TWILIO_API_BASE", &numbers_fixed.base);
        move || run(&mut c)
    })
    .await
    .unwrap();
    assert!(
        !ok && said.contains("West CHC: the auth token file") && said.contains("chmod 600"),
        "{said}"
    );
    std::fs::remove_file(&sid_file).unwrap();
    std::fs::remove_file(&bot_file).unwrap();
    // A wrong token is named as such.
    let (ok, said) = tokio::task::spawn_blocking({
        let mut c = doctor("0000feedf00dfeedf00dfeedf00dfeed");
        move || run(&mut c)
    })
    .await
    .unwrap();
    assert!(
        !ok && said.contains("Twilio refused the credentials"),
        "{said}"
    );
    assert!(
        !said.contains(TOKEN) && !said.contains(support::telegram::TOKEN),
        "no secret is printed"
    );
    assert!(twilio.violations().is_empty(), "{:?}", twilio.violations());
    // A database others can read is an error.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join("d.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let (ok, said) = tokio::task::spawn_blocking({
            let mut c = doctor(TOKEN);
            move || run(&mut c)
        })
        .await
        .unwrap();
        assert!(
            !ok && said.contains("other users can read the database") && said.contains("chmod 600"),
            "{said}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// The command line itself.

#[test]
fn completions_man_pages_version_and_every_argument_described() {
    let (ok, v) = run(matters().arg("--version"));
    assert!(ok && v.starts_with("matters 0.1.0 (commit "), "{v}");
    assert!(!v.contains("(commit )"), "{v}");
    let (ok, bash) = run(matters().args(["completions", "bash"]));
    assert!(
        ok && bash.contains("_matters()") && bash.contains("backup"),
        "{}",
        &bash[..200.min(bash.len())]
    );
    let dir = temp("man");
    let (ok, said) = run(matters().args(["man", "--out"]).arg(&dir));
    assert!(ok, "{said}");
    let page = std::fs::read_to_string(dir.join("matters.1")).unwrap();
    assert!(
        page.contains(".TH matters 1") && page.contains("doctor"),
        "{page}"
    );
    assert!(dir.join("matters-backup.1").exists());
    std::fs::remove_dir_all(dir).unwrap();
    // Every argument, positional ones included, says what it is in --help.
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for a in cmd.get_arguments() {
            let builtin = matches!(a.get_id().as_str(), "help" | "version");
            if !builtin && a.get_help().is_none() && a.get_long_help().is_none() {
                missing.push(format!("{path} {}", a.get_id()));
            }
        }
        for s in cmd.get_subcommands() {
            walk(s, &format!("{path} {}", s.get_name()), missing);
        }
    }
    let mut missing = Vec::new();
    walk(&matters::cli::command(), "matters", &mut missing);
    assert!(missing.is_empty(), "undescribed arguments: {missing:#?}");
}

// ---------------------------------------------------------------------------------------------
// The Debian package, built from the binary this test build made, installed, and started.

fn succeeds(c: &mut Command) -> String {
    let (ok, said) = run(c);
    assert!(ok, "{c:?}: {said}");
    said
}

#[test]
fn the_debian_package_installs_and_its_binary_serves_from_the_packaged_layout() {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let cargo_deb = Command::new("cargo")
        .args(["deb", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let dpkg = Command::new("dpkg")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !(root && cargo_deb && dpkg) {
        let why = format!("root: {root}, cargo-deb: {cargo_deb}, dpkg: {dpkg}");
        assert!(
            !ci,
            "the package test cannot run under CI ({why}); .ci/run installs cargo-deb"
        );
        eprintln!(
            "\n*** THE PACKAGE TEST DID NOT RUN ({why}): `cargo install cargo-deb` and run as root ***\n"
        );
        return;
    }
    let here = env!("CARGO_MANIFEST_DIR");
    let out = temp("deb");
    // The test build's binary, packaged as it is (a release build would take 20 minutes more).
    let said = succeeds(
        Command::new("cargo")
            .current_dir(here)
            .args([
                "deb",
                "--no-build",
                "--profile",
                "dev",
                "--fast",
                "--output",
            ])
            .arg(&out),
    );
    let deb = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .unwrap_or_else(|| panic!("no .deb in {}: {said}", out.display()));
    let contents = succeeds(Command::new("dpkg-deb").arg("--contents").arg(&deb));
    for path in [
        "./usr/bin/matters",
        "./usr/share/matters/flows/loneliness.toml",
        "./usr/share/matters/locales/fr/",
        "./etc/matters/matters.toml",
        "matters.service",
    ] {
        assert!(
            contents.contains(path),
            "{path} is not in the package:\n{contents}"
        );
    }
    let _ = Command::new("dpkg").args(["--purge", "matters"]).output();
    let _ = std::fs::remove_dir_all("/var/lib/matters");
    succeeds(Command::new("dpkg").arg("-i").arg(&deb));
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let data = std::fs::metadata("/var/lib/matters").unwrap();
        assert_eq!(data.permissions().mode() & 0o777, 0o700);
        let conf = std::fs::metadata("/etc/matters/matters.toml").unwrap();
        assert_eq!(conf.permissions().mode() & 0o777, 0o640);
        let uid = succeeds(Command::new("id").args(["-u", "matters"]));
        assert_eq!(data.uid().to_string(), uid.trim());
    }
    let unit = [
        "/usr/lib/systemd/system/matters.service",
        "/lib/systemd/system/matters.service",
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok())
    .expect("the systemd unit is installed");
    assert!(
        unit.contains("Restart=on-failure") && unit.contains("NoNewPrivileges=yes"),
        "{unit}"
    );
    // Outside a checkout, the shipped flows are found where the package put them.
    let said = succeeds(
        Command::new("/usr/bin/matters")
            .current_dir("/")
            .args(["flows", "check"]),
    );
    assert!(said.contains("loneliness"), "{said}");
    // The service's command, as its user, in its directory: it serves and is ready.
    let port = free_port();
    let mut child = Command::new("setpriv")
        .args([
            "--reuid=matters",
            "--regid=matters",
            "--init-groups",
            "/usr/bin/matters",
            "--config",
            "/etc/matters/matters.toml",
            "serve",
        ])
        .current_dir("/var/lib/matters")
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("MATTERS_LISTEN", format!("127.0.0.1:{port}"))
        .env("MATTERS_METRICS__LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if line.starts_with("no staff accounts") || line.starts_with("navigators sign in") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    assert!(
        printed.contains(&format!("listening on http://127.0.0.1:{port}")),
        "{printed}"
    );
    let (status, body) = get(&format!("127.0.0.1:{port}"), "/readyz");
    // The packaged configuration gives the metrics an address of their own.
    let metrics_at = printed
        .lines()
        .find_map(|l| l.strip_prefix("metrics: http://"))
        .and_then(|l| l.split_once("/metrics (an address of their own)"))
        .map(|(a, _)| a.to_owned())
        .unwrap_or_else(|| panic!("{printed}"));
    let (m_status, metrics) = get(&metrics_at, "/metrics");
    let (main_status, _) = get(&format!("127.0.0.1:{port}"), "/metrics");
    signal(child.id(), "-TERM");
    let ended = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.contains("200"), "{status} {body}\n{err}");
    assert!(body.contains("\"migrations\""), "{body}");
    assert!(
        m_status.contains("200") && metrics.contains("matters_db_pool_connections"),
        "{m_status}"
    );
    assert!(
        main_status.contains("404"),
        "not on the main address: {main_status}"
    );
    assert!(ended.success(), "{err}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let db = std::fs::metadata("/var/lib/matters/matters.db").unwrap();
        assert_eq!(
            db.permissions().mode() & 0o077,
            0,
            "the database is its owner's only"
        );
    }
    let v = succeeds(Command::new("/usr/bin/matters").arg("--version"));
    assert!(v.contains("(commit "), "{v}");
    succeeds(Command::new("dpkg").args(["--purge", "matters"]));
    assert!(!std::path::Path::new("/usr/bin/matters").exists());
    let _ = std::fs::remove_dir_all("/var/lib/matters");
    std::fs::remove_dir_all(out).unwrap();
}

#[tokio::test]
async fn migrations_readiness_and_retention_on_postgres() {
    let Some((url, schema, admin)) = support::pg::postgres().await else {
        return;
    };
    let w = support::web::Web::with_db(&url).await;
    let runner = w.state.runner.clone();
    support::seed::everything(&runner, &w.clock).await;
    let status = matters::ops::migrations::status(&runner.db).await.unwrap();
    assert!(status.current() && !status.applied.is_empty(), "{status:?}");
    assert_eq!(w.get("/readyz").await.status.as_u16(), 200);
    w.clock.advance(chrono::Duration::days(3 * 365));
    let now = to_ms(w.clock.now());
    sqlx::query("UPDATE referrals SET closed_at = $1 WHERE client_id = 'amelie'")
        .bind(now - 1000 * 86_400_000_i64)
        .execute(runner.db.pool())
        .await
        .unwrap();
    let policy = matters::config::RetentionSettings {
        message_body_days: Some(365),
        client_years: Some(2),
    };
    let preview = matters::ops::retention::preview(&runner.db, &policy, now)
        .await
        .unwrap();
    assert_eq!(preview.clients, vec!["amelie".to_owned()]);
    assert!(preview.message_bodies > 0);
    let done = matters::ops::retention::run_if_due(&runner.db, &policy, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done, preview);
    assert!(
        matters::ops::retention::run_if_due(&runner.db, &policy, now + 1)
            .await
            .unwrap()
            .is_none()
    );
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE client_id = 'amelie'")
        .fetch_one(runner.db.pool())
        .await
        .unwrap();
    assert_eq!(left, 0);
    let words: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE body <> '' AND status <> 'queued'")
            .fetch_one(runner.db.pool())
            .await
            .unwrap();
    assert_eq!(words, 0);
    runner.db.close().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(admin.pool())
        .await
        .unwrap();
}
