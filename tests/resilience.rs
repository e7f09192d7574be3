//! Stopping, crashing and losing the database, as they happen to a real deployment: `matters
//! serve` as a separate process draining 2,000 queued texts into the Twilio stand-in, stopped
//! with SIGTERM or killed with SIGKILL mid-drain; and a real Postgres that goes away for 20 s
//! (a proxy in front of it refuses connections and cuts the open ones) under signed webhook
//! traffic. Each prints its figures.

mod support;

use matters::clock::{SystemClock, to_ms};
use matters::config::{Config, TwilioSettings};
use matters::domain::{Channel, ClientId, FlowId, Locale};
use matters::runner::IfBusy;
use matters::store::record::{self, NewClient};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::twilio::{StandIn, sign};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "f00dfeedf00dfeedf00dfeedf00dfeed";
const OURS: &str = "+15145559999";
/// Clients in a drain; each has two texts queued (the loneliness survey's introduction and
/// its first question).
const CLIENTS: usize = 1000;

fn temp(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("matters-resilience-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// A database with `CLIENTS` clients by SMS, each with the loneliness survey started: 2,000
/// texts queued, none sent. Returns how many are queued.
async fn queue_texts(db: &str) -> usize {
    let cfg = Config {
        database_url: db.into(),
        centre_name: "CSC Centre-Ville".into(),
        ..Config::default()
    };
    let runner = matters::app::build(&cfg, Arc::new(SystemClock))
        .await
        .unwrap();
    let loneliness = FlowId::parse("loneliness").unwrap();
    for k in 0..CLIENTS {
        let id = ClientId::parse(&format!("c{k:04}")).unwrap();
        let new = NewClient {
            id: id.clone(),
            language: Locale::parse(if k % 2 == 0 { "en" } else { "fr" }).unwrap(),
            time_zone: chrono_tz::America::Toronto,
            chart_number: None,
            reach: Some((Channel::Sms, phone(k))),
            centre: matters::domain::DEFAULT_CENTRE.into(),
        };
        record::add_client(&runner.db, &new, to_ms(runner.clock.now()), "test")
            .await
            .unwrap();
        runner
            .start_flow(&id, &loneliness, None, IfBusy::Refuse, "test")
            .await
            .unwrap();
    }
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE status = 'queued'")
        .fetch_one(runner.db.pool())
        .await
        .unwrap();
    runner.db.close().await;
    usize::try_from(queued).unwrap()
}

fn phone(k: usize) -> String {
    format!("+1514600{k:04}")
}

/// `matters serve` on `db`, sending to the stand-in unpaced, claims lapsing after 2 s. Returns
/// the process once it listens.
fn serve(dir: &std::path::Path, db: &str, standin: &StandIn, run: usize) -> Child {
    let log = std::fs::File::create(dir.join(format!("serve-{run}.log"))).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_matters"))
        .arg("serve")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("MATTERS_DATABASE_URL", db)
        .env("MATTERS_LISTEN", "127.0.0.1:0")
        .env("MATTERS_CENTRE_NAME", "CSC Centre-Ville")
        .env("MATTERS_PUBLIC_URL", "http://127.0.0.1:9")
        .env("MATTERS_TWILIO__SEGMENTS_PER_SECOND", "0")
        .env("MATTERS_DISPATCH__LEASE_SECONDS", "2")
        .env("MATTERS_SHUTDOWN_GRACE_SECONDS", "20")
        .env("MATTERS_LOG", "info")
        .env("TWILIO_ACCOUNT_SID", SID)
        .env("TWILIO_AUTH_TOKEN", TOKEN)
        .env("TWILIO_FROM", OURS)
        .env("TWILIO_API_BASE", &standin.base)
        .env_remove("TWILIO_MESSAGING_SERVICE_SID")
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.contains("listening on"), "{line}");
    // Keep reading what it prints, so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in out.lines() {});
    child
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

/// Waits (in a thread: the process is not ours to await) for the process to end.
async fn exited(mut child: Child) -> std::process::ExitStatus {
    tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap()
}

/// Every (number, text) the stand-in received, with how many times.
fn received(standin: &StandIn) -> HashMap<(String, String), usize> {
    let mut got = HashMap::new();
    for s in standin.sent() {
        *got.entry((s.to, s.body)).or_insert(0) += 1;
    }
    got
}

/// Every text that should have gone out, from the database.
async fn expected(db: &str) -> Vec<(String, String)> {
    let pool = matters::store::Db::connect(db).await.unwrap();
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT address, body FROM messages WHERE direction = 'out' ORDER BY id")
            .fetch_all(pool.pool())
            .await
            .unwrap();
    pool.close().await;
    rows
}

async fn count(db: &str, sql: &str) -> i64 {
    let pool = matters::store::Db::connect(db).await.unwrap();
    let n = sqlx::query_scalar(sql)
        .fetch_one(pool.pool())
        .await
        .unwrap();
    pool.close().await;
    n
}

/// Waits until the stand-in received every expected text at least once (or 60 s pass: the
/// assertions after say what is missing).
async fn all_received(standin: &StandIn, want: &[(String, String)]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = received(standin);
        if want.iter().all(|w| got.contains_key(w)) || Instant::now() > deadline {
            return;
        }
        let n = standin.sent_count();
        standin.wait_for(n + 1).await;
    }
}

/// Waits until no row is queued or being sent (the last results are recorded).
async fn drained(db: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(
        db,
        "SELECT COUNT(*) FROM messages WHERE status IN ('queued', 'sending')",
    )
    .await
        > 0
        && Instant::now() < deadline
    {
        // Another process's work: nothing to advance but real time.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Lost and duplicated texts.
fn tally(want: &[(String, String)], got: &HashMap<(String, String), usize>) -> (usize, usize) {
    let lost = want.iter().filter(|w| !got.contains_key(*w)).count();
    let duplicated = got.values().map(|n| n.saturating_sub(1)).sum();
    (lost, duplicated)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_drain_sends_every_message_exactly_once() {
    let dir = temp("sigterm");
    let db = format!("sqlite://{}/m.db", dir.display());
    assert_eq!(queue_texts(&db).await, 2 * CLIENTS);
    let standin = StandIn::start(SID, TOKEN, false).await;

    let first = serve(&dir, &db, &standin, 1);
    standin.wait_for(300).await;
    signal(&first, "-TERM");
    let status = exited(first).await;
    assert!(status.success(), "SIGTERM exits 0: {status:?}");
    let at_stop = standin.sent_count();
    assert!(at_stop < 2 * CLIENTS, "stopped mid-drain: {at_stop}");
    // Nothing is left claimed: what was in flight was recorded, the rest put back.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM messages WHERE status = 'sending'"
        )
        .await,
        0
    );
    let recorded = count(
        &db,
        "SELECT COUNT(*) FROM messages WHERE provider_id IS NOT NULL",
    )
    .await;
    assert_eq!(
        usize::try_from(recorded).unwrap(),
        at_stop,
        "every text Twilio took before the stop is recorded with its SID"
    );

    let want = expected(&db).await;
    let second = serve(&dir, &db, &standin, 2);
    all_received(&standin, &want).await;
    drained(&db).await;
    signal(&second, "-TERM");
    assert!(exited(second).await.success());
    let (lost, duplicated) = tally(&want, &received(&standin));
    println!(
        "SIGTERM drain: {} expected, {} sent before the stop, {lost} lost, {duplicated} duplicated",
        want.len(),
        at_stop
    );
    assert_eq!((lost, duplicated), (0, 0));
    assert!(
        standin.violations().is_empty(),
        "{:?}",
        standin.violations()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_five_times_mid_drain_loses_nothing_and_sends_nothing_twice() {
    let dir = temp("kill9");
    let db = format!("sqlite://{}/m.db", dir.display());
    assert_eq!(queue_texts(&db).await, 2 * CLIENTS);
    let want = expected(&db).await;
    let standin = StandIn::start(SID, TOKEN, false).await;
    let mut kills = Vec::new();
    for run in 1..=5 {
        let child = serve(&dir, &db, &standin, run);
        let before = standin.sent_count();
        standin.wait_for(before + 250).await;
        signal(&child, "-KILL");
        let status = exited(child).await;
        assert!(!status.success(), "killed: {status:?}");
        kills.push(standin.sent_count());
    }
    // In doubt after the last kill: claimed, maybe taken by Twilio, never recorded.
    let in_doubt = count(
        &db,
        "SELECT COUNT(*) FROM messages WHERE status = 'sending'",
    )
    .await;
    let last = serve(&dir, &db, &standin, 6);
    all_received(&standin, &want).await;
    drained(&db).await;
    signal(&last, "-TERM");
    assert!(exited(last).await.success());

    let got = received(&standin);
    let (lost, duplicated) = tally(&want, &got);
    let lookups = standin.lookups().len();
    let logs: String = (1..=6)
        .map(|r| std::fs::read_to_string(dir.join(format!("serve-{r}.log"))).unwrap_or_default())
        .collect();
    let found = logs.matches("had reached the provider").count();
    println!(
        "kill -9 drain: {} expected, killed 5 times (after {kills:?} accepted), {in_doubt} in doubt after the last kill, {lookups} looked up at the stand-in ({found} found there, not resent), {lost} lost, {duplicated} duplicated",
        want.len()
    );
    assert_eq!(lost, 0, "lost");
    assert_eq!(duplicated, 0, "duplicated");
    assert!(lookups > 0, "messages in doubt were looked up");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(DISTINCT provider_id) FROM messages WHERE direction = 'out'"
        )
        .await,
        i64::try_from(want.len()).unwrap(),
        "every text is recorded with its own SID"
    );
    assert!(
        standin.violations().is_empty(),
        "{:?}",
        standin.violations()
    );
    // Nothing private in the log: no number, no text.
    assert!(!logs.contains("+1514600"), "a phone number in the log");
    assert!(
        want.iter().all(|(_, body)| !logs.contains(body.as_str())),
        "a message body in the log"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// What a signed inbound SMS webhook got: its status and how long the answer took.
async fn text_in(
    http: &reqwest::Client,
    base: &str,
    from: &str,
    sid: &str,
    body: &str,
) -> (u16, Duration) {
    let url = format!("{base}/webhooks/twilio/sms");
    let params: Vec<(String, String)> = [
        ("MessageSid", sid),
        ("AccountSid", SID),
        ("From", from),
        ("To", OURS),
        ("Body", body),
        ("NumMedia", "0"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let started = Instant::now();
    let status = match http
        .post(&url)
        .header("X-Twilio-Signature", sign(TOKEN, &url, &params))
        .form(&params)
        .send()
        .await
    {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    };
    (status, started.elapsed())
}

/// Everything logged, for a test that reads the log.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn postgres_gone_for_20_s_gets_fast_503s_and_every_retried_webhook_is_recorded_once() {
    let Some((url, _schema, _admin)) = support::pg::postgres().await else {
        return;
    };
    let log = Captured::default();
    let writer = log.clone();
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish(),
    );
    // Postgres behind a proxy that can make it go away.
    let mut pg_url = url::Url::parse(&url).unwrap();
    let target = std::net::SocketAddr::new(
        pg_url.host_str().unwrap().parse().unwrap(),
        pg_url.port().unwrap_or(5432),
    );
    let proxy = support::proxy::Proxy::start(target).await;
    pg_url.set_port(Some(proxy.addr.port())).unwrap();

    let standin = StandIn::start(SID, TOKEN, false).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let cfg = Config {
        database_url: pg_url.to_string(),
        centre_name: "CSC Centre-Ville".into(),
        public_url: Some(base.clone()),
        twilio: TwilioSettings {
            account_sid: Some(SID.into()),
            auth_token: Some(TOKEN.into()),
            from: Some(OURS.into()),
            api_base: standin.base.clone(),
            segments_per_second: Some(0.0),
            ..TwilioSettings::default()
        },
        ..Config::default()
    };
    let twilio = matters::channel::twilio::TwilioConfig::from_config(&cfg)
        .unwrap()
        .unwrap();
    let runner = Arc::new(
        matters::app::build(&cfg, Arc::new(SystemClock))
            .await
            .unwrap(),
    );
    matters::loops::dispatch::spawn(
        runner.clone(),
        Arc::new(matters::channel::twilio::Client::new(twilio.clone()).unwrap()),
        Channel::Sms,
        twilio.dispatch_settings(),
    );
    let app = matters::web::app(matters::web::AppState::new(runner.clone()).with_twilio(twilio));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let clients: Vec<String> = (0..10).map(|k| format!("+1514700{k:04}")).collect();
    for (k, p) in clients.iter().enumerate() {
        let new = NewClient {
            id: ClientId::parse(&format!("pg{k}")).unwrap(),
            language: Locale::parse("fr").unwrap(),
            time_zone: chrono_tz::America::Toronto,
            chart_number: None,
            reach: Some((Channel::Sms, p.clone())),
            centre: matters::domain::DEFAULT_CENTRE.into(),
        };
        record::add_client(&runner.db, &new, to_ms(runner.clock.now()), "test")
            .await
            .unwrap();
    }
    let http = reqwest::Client::new();
    let mut n = 0usize;
    let mut sids = Vec::new();
    let mut failed = Vec::new();
    let mut send = |phase: &str| {
        n += 1;
        let sid = format!("SMout{n:029}");
        sids.push(sid.clone());
        (phase.to_owned(), clients[n % clients.len()].clone(), sid)
    };
    // Before: recorded.
    for _ in 0..10 {
        let (_, from, sid) = send("before");
        let (code, _) = text_in(&http, &base, &from, &sid, "bonjour").await;
        assert_eq!(code, 200);
    }
    // Gone for 20 s: every webhook and health check answers 503, fast.
    proxy.stop();
    let gone = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut answers = HashMap::new();
    while gone.elapsed() < Duration::from_secs(20) {
        let (_, from, sid) = send("during");
        let (code, took) = text_in(&http, &base, &from, &sid, "allô?").await;
        slowest = slowest.max(took);
        *answers.entry(code).or_insert(0) += 1;
        if code != 200 {
            failed.push((from, sid));
        }
        let started = Instant::now();
        let health = http.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(health.status().as_u16(), 503);
        slowest = slowest.max(started.elapsed());
    }
    proxy.resume().await;
    let back = Instant::now();
    // Back: Twilio retries every webhook that got a 5xx, and new ones come in.
    let mut retried = 0;
    for (from, sid) in failed.clone() {
        loop {
            let (code, _) = text_in(&http, &base, &from, &sid, "allô?").await;
            retried += 1;
            if code == 200 {
                break;
            }
            assert!(
                back.elapsed() < Duration::from_secs(30),
                "still {code} 30 s after Postgres came back"
            );
        }
    }
    for _ in 0..10 {
        let (_, from, sid) = send("after");
        let (code, _) = text_in(&http, &base, &from, &sid, "merci").await;
        assert_eq!(code, 200, "work resumes with no restart");
    }
    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);

    let during = answers.values().sum::<usize>();
    println!(
        "Postgres gone 20 s: {during} webhooks during the outage answered {answers:?}, slowest answer (webhook or /healthz) {slowest:?}; {} retried {retried} times after, each recorded once",
        failed.len()
    );
    assert_eq!(
        answers.keys().copied().collect::<Vec<_>>(),
        vec![503],
        "only 503s while Postgres is gone"
    );
    // Twilio gives up on a webhook after 15 s; these answered well before.
    assert!(slowest < Duration::from_secs(10), "{slowest:?}");
    // Each message once, whatever the retries.
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT provider_id FROM messages WHERE direction = 'in' AND provider_id IS NOT NULL",
    )
    .fetch_all(runner.db.pool())
    .await
    .unwrap();
    let mut seen = HashMap::new();
    for r in &rows {
        *seen.entry(r.clone()).or_insert(0) += 1;
    }
    assert!(seen.values().all(|c| *c == 1), "a webhook recorded twice");
    assert_eq!(
        sids.iter().filter(|s| seen.contains_key(*s)).count(),
        sids.len(),
        "every webhook is recorded"
    );
    let text = String::from_utf8_lossy(&log.0.lock().unwrap()).to_lowercase();
    assert!(
        text.contains("connection refused"),
        "the log names the cause"
    );
    assert!(!text.contains("pool timed out"), "{text}");
    assert!(!text.contains("+1514700"), "no phone number in the log");
}
