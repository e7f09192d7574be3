//! Many `matters serve` processes on one Postgres behave as one: they keep one sender's pace
//! together and finish a killed one's sends exactly once; one of them at a time long-polls a
//! Telegram bot and another takes over when it dies, losing and repeating no update; the
//! sign-in lock-out counts every process's failures. And a second `serve` on one SQLite file is
//! refused. Real processes, started by the test, on the real Postgres.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use support::bin::{free_port, matters};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "f00dfeedf00dfeedf00dfeedf00dfeed";
const OURS: &str = "+15145559999";

/// A `matters serve`, killed when dropped.
struct Serve {
    child: Child,
    addr: String,
}

impl Serve {
    /// Starts `serve` with `env` on a free port and waits until it is ready.
    fn start(env: &[(&str, &str)]) -> Self {
        let addr = format!("127.0.0.1:{}", free_port());
        let mut c = matters();
        c.arg("serve")
            .env("MATTERS_LISTEN", &addr)
            .env("MATTERS_PUBLIC_URL", format!("http://{addr}"))
            .env("MATTERS_CENTRE_NAME", "CSC Centre-Ville")
            .env("MATTERS_LOG", "matters=warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c.spawn().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut printed = String::new();
        loop {
            let mut line = String::new();
            if out.read_line(&mut line).unwrap() == 0 {
                panic!("serve stopped before it was ready: {printed}");
            }
            printed.push_str(&line);
            if line.starts_with("navigators sign in") || line.starts_with("no staff accounts") {
                break;
            }
        }
        std::thread::spawn(move || for _ in out.lines() {});
        Self { child, addr }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill9();
    }
}

// ---------------------------------------------------------------------------------------------
// One sender's pace, kept by three processes; one is killed halfway.

const MESSAGES: usize = 600;
const REPLIES: usize = 60;
const RATE: f64 = 10.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_keep_one_senders_pace_and_finish_a_killed_ones_sends_exactly_once() {
    let Some((url, _schema, _admin)) = support::pg::postgres().await else {
        return;
    };
    let db = matters::store::Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let standin = support::twilio::StandIn::start(SID, TOKEN, false).await;
    // Two centres on the deployment's number: one client of each, messages to them in turn.
    matters::centres::add(
        &db,
        matters::centres::NewCentre {
            id: "north".into(),
            name: "North End CHC".into(),
            time_zone: "America/Toronto".into(),
            default_language: "en".into(),
            ..Default::default()
        },
        "test",
        0,
    )
    .await
    .unwrap();
    for (client, centre) in [("c-default", "default"), ("c-north", "north")] {
        sqlx::query(
            "INSERT INTO clients (id, language, time_zone, consent, created_at, updated_at, centre_id) \
             VALUES ($1, 'en', 'America/Toronto', 'granted', 0, 0, $2)",
        )
        .bind(client)
        .bind(centre)
        .execute(db.pool())
        .await
        .unwrap();
    }
    let queue = async |n: usize, priority: i64, from: usize| {
        for k in from..from + n {
            sqlx::query(
                "INSERT INTO messages (client_id, direction, channel, address, body, priority, status, segments, created_at, updated_at) \
                 VALUES ($5, 'out', 'sms', $1, $2, $3, 'queued', 1, $4, $4)",
            )
            .bind(format!("+1514555{k:04}"))
            .bind(format!("message {k}"))
            .bind(priority)
            .bind(matters::store::shared::wall_ms())
            .bind(if k % 2 == 0 { "c-default" } else { "c-north" })
            .execute(db.pool())
            .await
            .unwrap();
        }
    };
    // Bulk nudges first; replies come in later and must go ahead of the bulk left.
    queue(MESSAGES - REPLIES, 1, 0).await;
    let rate = RATE.to_string();
    let env = [
        ("MATTERS_DATABASE_URL", url.as_str()),
        ("TWILIO_ACCOUNT_SID", SID),
        ("TWILIO_AUTH_TOKEN", TOKEN),
        ("TWILIO_FROM", OURS),
        ("TWILIO_API_BASE", standin.base.as_str()),
        ("MATTERS_TWILIO__SEGMENTS_PER_SECOND", rate.as_str()),
        ("MATTERS_DISPATCH__LEASE_SECONDS", "3"),
    ];
    let mut procs: Vec<Serve> = (0..3).map(|_| Serve::start(&env)).collect();
    let wait_until = async |n: usize, limit: Duration| {
        let t0 = Instant::now();
        while standin.sent_count() < n && t0.elapsed() < limit {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        standin.sent_count()
    };
    wait_until(150, Duration::from_secs(60)).await;
    queue(REPLIES, 0, MESSAGES - REPLIES).await;
    let replies_queued_at = standin.sent_count();
    wait_until(MESSAGES / 2, Duration::from_secs(60)).await;
    // kill -9: its claimed sends are left mid-way, its reservation of the sender unused.
    procs[0].kill9();
    let killed_at = standin.sent_count();
    let got = wait_until(MESSAGES, Duration::from_secs(120)).await;
    // Nothing more arrives: nothing is sent twice, late.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let sent = standin.sent();
    assert_eq!(got, MESSAGES, "only {got} of {MESSAGES} were sent");
    assert_eq!(sent.len(), MESSAGES, "sent more than once");
    let mut bodies: Vec<&str> = sent.iter().map(|s| s.body.as_str()).collect();
    bodies.sort_unstable();
    bodies.dedup();
    assert_eq!(bodies.len(), MESSAGES, "some message was sent twice");
    assert!(
        standin.violations().is_empty(),
        "{:?}",
        standin.violations()
    );
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE status <> 'sent'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(left, 0, "messages not recorded as sent");
    // The pace: one segment each, so the sender's rate is messages over time.
    let arrivals = standin.all_arrivals();
    let span = arrivals[MESSAGES - 1] - arrivals[0];
    let measured = (MESSAGES - 1) as f64 / span.as_secs_f64();
    // Replies went ahead of the bulk still queued.
    let last_reply = sent
        .iter()
        .rposition(|s| reply_number(&s.body) >= MESSAGES - REPLIES)
        .unwrap();
    println!(
        "pacing: 3 processes on one Postgres, two centres on one sender, one process killed (-9) after {killed_at} of {MESSAGES}: {MESSAGES} messages in {:.2} s = {measured:.3} segments/s against a limit of {RATE}/s ({:+.2} %); every message sent once; the {REPLIES} replies, queued after {replies_queued_at} sends, all out by send {}; {} lookups of messages in doubt",
        span.as_secs_f64(),
        (measured / RATE - 1.0) * 100.0,
        last_reply + 1,
        standin.lookups().len()
    );
    assert!(
        (measured - RATE).abs() <= RATE * 0.02,
        "the aggregate rate {measured:.3}/s is not within 2 % of {RATE}/s"
    );
    assert!(
        last_reply + 1 < MESSAGES - 100,
        "the replies did not go ahead of the bulk: the last left at send {}",
        last_reply + 1
    );
}

fn reply_number(body: &str) -> usize {
    body.trim_start_matches("message ").parse().unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// One Telegram bot, two processes: one polls; when it dies the other takes over.

const CHATS: i64 = 20;

/// The process (by pid) holding the poller's lease, if any.
async fn poller(db: &matters::store::Db) -> Option<u32> {
    let name = format!("telegram-poller:{}", support::telegram::BOT_ID);
    let now = matters::store::shared::wall_ms();
    let holder = matters::store::shared::lease_holder(db, &name, now)
        .await
        .unwrap()?;
    holder.split('/').nth(1).and_then(|p| p.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_one_bot_one_poller_and_a_takeover_losing_and_repeating_nothing() {
    use matters::domain::{Channel, ClientId, FlowId, Locale};
    use matters::runner::IfBusy;
    let Some((url, _schema, _admin)) = support::pg::postgres().await else {
        return;
    };
    let tg = support::telegram::StandIn::start().await;
    // Twenty clients on Telegram, each sent the loneliness survey's first question.
    let cfg = matters::config::Config {
        database_url: url.clone(),
        ..matters::config::Config::default()
    };
    let clock = std::sync::Arc::new(matters::clock::SystemClock);
    let runner = matters::app::build(&cfg, clock).await.unwrap();
    let db = runner.db.clone();
    let chat = |k: i64| 5_000 + k;
    for k in 1..=CHATS {
        let id = ClientId::parse(&format!("tg{k}")).unwrap();
        let new = matters::store::record::NewClient {
            id: id.clone(),
            language: Locale::parse("en").unwrap(),
            time_zone: chrono_tz::America::Toronto,
            chart_number: None,
            reach: Some((Channel::Telegram, chat(k).to_string())),
            centre: matters::domain::DEFAULT_CENTRE.into(),
        };
        let now = matters::store::shared::wall_ms();
        matters::store::record::add_client(&db, &new, now, "test")
            .await
            .unwrap();
        runner
            .start_flow(
                &id,
                &FlowId::parse("loneliness").unwrap(),
                None,
                IfBusy::Refuse,
                "test",
            )
            .await
            .unwrap();
    }
    let env = [
        ("MATTERS_DATABASE_URL", url.as_str()),
        ("TELEGRAM_BOT_TOKEN", support::telegram::TOKEN),
        ("TELEGRAM_API_URL", tg.base.as_str()),
        ("MATTERS_DISPATCH__LEASE_SECONDS", "3"),
    ];
    let mut a = Serve::start(&env);
    let mut b = Serve::start(&env);
    let each_has = async |from: i64, to: i64, n: usize| {
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(40) {
            if (from..=to).all(|k| tg.all_sent_to(chat(k)).len() >= n) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    };
    assert!(
        each_has(1, CHATS, 2).await,
        "the first questions did not all go out"
    );
    let leader = poller(&db).await.expect("a process polls");
    assert!(leader == a.pid() || leader == b.pid());
    // Half the clients answer; the leader handles them, and the replies are sent and recorded.
    for k in 1..=CHATS / 2 {
        tg.says(chat(k), "2");
    }
    assert!(
        each_has(1, CHATS / 2, 3).await,
        "the first answers were not all handled"
    );
    let settled = async || {
        for _ in 0..500 {
            let busy: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM messages WHERE status IN ('queued', 'sending')",
            )
            .fetch_one(db.pool())
            .await
            .unwrap();
            if busy == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("messages stayed queued");
    };
    settled().await;
    let conflicts_before = tg.book().poll_conflicts;
    assert_eq!(
        conflicts_before, 0,
        "two processes polled the bot at once while both were alive"
    );
    // kill -9 the poller; the others answer at once.
    let (dead, alive) = if leader == a.pid() {
        (&mut a, &b)
    } else {
        (&mut b, &a)
    };
    dead.kill9();
    let killed = Instant::now();
    for k in CHATS / 2 + 1..=CHATS {
        tg.says(chat(k), "2");
    }
    assert!(
        each_has(CHATS / 2 + 1, CHATS, 3).await,
        "the answers sent after the poller died were not all handled"
    );
    let first_after = (CHATS / 2 + 1..=CHATS)
        .filter_map(|k| tg.all_sent_to(chat(k)).get(2).map(|s| s.at))
        .min()
        .unwrap();
    let takeover = first_after - killed;
    assert_eq!(
        poller(&db).await,
        Some(alive.pid()),
        "the other process polls"
    );
    settled().await;
    // Nothing lost, nothing repeated: each client's answer recorded once, each reply sent once.
    for k in 1..=CHATS {
        assert_eq!(tg.all_sent_to(chat(k)).len(), 3, "chat {}", chat(k));
    }
    let answers: Vec<(String, i64)> = sqlx::query_as(
        "SELECT client_id, COUNT(*) FROM messages WHERE direction = 'in' GROUP BY client_id ORDER BY client_id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(answers.len(), CHATS as usize, "{answers:?}");
    assert!(answers.iter().all(|(_, n)| *n == 1), "{answers:?}");
    // The dead one's last long poll may be ended by the new poller (Telegram would); no other.
    let conflicts = tg.book().poll_conflicts;
    println!(
        "telegram: one poller of two processes; after kill -9 of the poller the other answered the first update {:.2} s later; {CHATS} answers each handled once; getUpdates conflicts: {conflicts_before} while both lived, {conflicts} in all",
        takeover.as_secs_f64()
    );
    assert!(conflicts <= 1, "{conflicts} getUpdates conflicts");
    assert!(
        takeover < Duration::from_secs(10),
        "the take-over took {takeover:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The sign-in lock-out counts every process's failures.

/// Signs in at `addr` as a browser would (the form's token and its cookie): the status.
async fn sign_in(http: &reqwest::Client, addr: &str, user: &str, password: &str) -> u16 {
    let r = http
        .get(format!("http://{addr}/login"))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = r
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next().map(str::to_owned))
        .collect();
    let html = r.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    http.post(format!("http://{addr}/login"))
        .header(reqwest::header::COOKIE, cookies.join("; "))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_lock_out_counts_the_failures_of_every_process() {
    use std::io::Write;
    let Some((url, _schema, _admin)) = support::pg::postgres().await else {
        return;
    };
    let mut add = matters()
        .args(["staff", "add", "ada", "--role", "admin", "--password-stdin"])
        .env("MATTERS_DATABASE_URL", &url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    assert!(add.wait().unwrap().success());
    let env = [("MATTERS_DATABASE_URL", url.as_str())];
    let (a, b) = (Serve::start(&env), Serve::start(&env));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Five failures, split between the two processes (the lock-out allows five).
    for k in 0..5 {
        let at = if k % 2 == 0 { &a.addr } else { &b.addr };
        assert_eq!(sign_in(&http, at, "ada", "wrong").await, 401);
    }
    // Neither process saw five alone, and both refuse even the right password now.
    assert_eq!(
        sign_in(&http, &a.addr, "ADA", "a long enough password").await,
        429
    );
    assert_eq!(
        sign_in(&http, &b.addr, "ada", "a long enough password").await,
        429
    );
    // Another user name is not locked out.
    assert_eq!(sign_in(&http, &b.addr, "bob", "wrong").await, 401);
}

// ---------------------------------------------------------------------------------------------
// SQLite is one process.

#[test]
fn a_second_serve_on_one_sqlite_file_is_refused() {
    let dir = std::env::temp_dir().join(format!("matters-processes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/m.db", dir.display());
    let first = Serve::start(&[("MATTERS_DATABASE_URL", url.as_str())]);
    let out = matters()
        .arg("serve")
        .env("MATTERS_DATABASE_URL", &url)
        .env("MATTERS_LISTEN", format!("127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        said.contains("another `matters serve` is running on") && said.contains("Postgres"),
        "{said}"
    );
    // The first one still serves.
    let r = std::net::TcpStream::connect(&first.addr);
    assert!(r.is_ok());
    drop(first);
    // Once it is gone, a serve starts again.
    let again = Serve::start(&[("MATTERS_DATABASE_URL", url.as_str())]);
    drop(again);
    let _ = std::fs::remove_dir_all(&dir);
}
