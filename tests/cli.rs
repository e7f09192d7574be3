//! The binary as a user runs it: flows check, flows test, simulate, migrate, serve, bench.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

fn matters() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_matters"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("MATTERS_DATABASE_URL")
        .env_remove("MATTERS_LISTEN")
        .env_remove("MATTERS_PUBLIC_URL");
    for v in [
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_FROM",
        "TWILIO_MESSAGING_SERVICE_SID",
        "TWILIO_API_BASE",
    ] {
        c.env_remove(v);
    }
    c
}

/// Runs the binary on database `db`: did it succeed, and what it said (stdout then stderr).
fn on_db(db: &str) -> impl Fn(&[&str]) -> (bool, String) + '_ {
    move |args: &[&str]| {
        let out = matters()
            .args(args)
            .env("MATTERS_DATABASE_URL", db)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    }
}

/// Runs the binary, which must succeed; returns its standard output.
fn succeeds(args: &[&str]) -> String {
    let out = matters().args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn temp(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("matters-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

#[test]
fn flows_check_is_clean_and_prints_the_sms_cost_of_every_message() {
    // Until the centre is named, clients would read "the health centre": a warning.
    let unnamed = matters().args(["flows", "check"]).output().unwrap();
    let unnamed = String::from_utf8_lossy(&unnamed.stdout);
    assert!(
        unnamed.contains("warning: centre_name is not set")
            && unnamed.contains("complete); 1 warnings"),
        "{unnamed}"
    );
    let out = matters()
        .args(["flows", "check"])
        .env("MATTERS_CENTRE_NAME", "CSC Centre-Ville")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(
            "12 flows, 4 sequences and 9 locales are valid (2 enabled, 9 of 9 complete); 0 warnings"
        ),
        "{stdout}"
    );
    // One status row per locale: complete, draft and off unless it is English or French.
    for (l, status, enabled) in [
        ("en", "reviewed", "yes"),
        ("fr", "reviewed", "yes"),
        ("ar", "draft", "no"),
        ("zh-Hans", "draft", "no"),
        ("pa", "draft", "no"),
        ("es", "draft", "no"),
        ("tl", "draft", "no"),
        ("uk", "draft", "no"),
        ("fa", "draft", "no"),
    ] {
        let row = stdout
            .lines()
            .find(|r| {
                r.split_whitespace().next() == Some(l)
                    && (r.contains(" reviewed ") || r.contains(" draft "))
            })
            .unwrap_or_else(|| panic!("no status row for {l}:\n{stdout}"));
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert!(cells.contains(&status) && cells.contains(&enabled), "{row}");
        let complete = cells.iter().find(|c| c.contains('/')).unwrap();
        let (have, of) = complete.split_once('/').unwrap();
        assert_eq!(have, of, "{row}");
        // Segments per message in this locale, and per flow.
        assert!(
            stdout
                .lines()
                .any(|r| r.starts_with(&format!("{l:<8} ucla3-companionship"))),
            "{l}"
        );
        assert!(
            stdout
                .lines()
                .any(|r| r.starts_with(&format!("{l:<8} ")) && r.contains(") ")),
            "{l}: no per-flow SMS cost row"
        );
    }
    assert!(
        stdout.lines().any(|l| l.starts_with("fr")
            && l.contains("ucla3-companionship")
            && l.contains("UCS-2")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("en") && l.contains("help ") && l.contains("GSM-7")),
        "{stdout}"
    );
    assert!(
        stdout.contains("loneliness/companionship (as sent)"),
        "{stdout}"
    );
}

#[test]
fn flows_check_names_the_file_and_line_of_each_problem_and_fails() {
    let dir = temp("badflows");
    std::fs::write(
        dir.join("broken.toml"),
        "id = \"broken\"\nspec_version = 1\n[[step]\n",
    )
    .unwrap();
    std::fs::write(dir.join("dangling.toml"), "id = \"dangling\"\nspec_version = 1\n\n[[step]]\nid = \"a\"\nsay = \"survey-thanks\"\ngoto = \"b\"\n").unwrap();
    let out = matters()
        .args(["flows", "check"])
        .env("MATTERS_FLOWS_DIR", &dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("broken.toml:3: "), "{stderr}");
    assert!(
        stderr.contains("dangling.toml:5: step a goes to b, which does not exist"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn flows_test_runs_every_transcript() {
    let out = matters().args(["flows", "test"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.trim_end().ends_with(" passed, 0 failed"), "{stdout}");
}

#[test]
fn simulate_a_french_loneliness_survey_from_a_script_and_print_the_record() {
    let mut child = matters()
        .args([
            "simulate",
            "loneliness",
            "--lang",
            "fr",
            "--script",
            "-",
            "--record-json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("parfois\n3\nSouvent!\njamais\n".as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let conversation = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{conversation}");
    assert!(
        conversation.contains("bot> À quelle fréquence"),
        "{conversation}"
    );
    let rec: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is the record as JSON");
    let values: Vec<&str> = rec["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["some-of-the-time", "often", "often", "never"]);
    let ucla = rec["scores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["instrument"] == "ucla3")
        .unwrap();
    assert_eq!(
        (ucla["total"].as_i64(), ucla["complete"].as_bool()),
        (Some(8), Some(true))
    );
    let ons = rec["scores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["instrument"] == "ons-loneliness")
        .unwrap();
    assert_eq!(ons["category"], "never");
    assert!(rec["flags"].as_array().unwrap().is_empty());
    assert_eq!(rec["client"]["consent"], "unknown");
}

#[test]
fn simulate_refuses_an_unknown_flow_and_lists_the_real_ones() {
    let out = matters()
        .args(["simulate", "lonliness", "--script", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("no flow lonliness") && stderr.contains("loneliness"),
        "{stderr}"
    );
}

#[test]
fn migrate_creates_the_database_and_can_run_again() {
    let dir = temp("migrate");
    let url = format!("sqlite://{}/m.db?mode=rwc", dir.display());
    for _ in 0..2 {
        let out = matters()
            .arg("migrate")
            .env("MATTERS_DATABASE_URL", &url)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(dir.join("m.db").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn serve_answers_health_and_the_simulator_on_the_default_embedded_database() {
    let dir = temp("serve");
    let log = std::fs::File::create(dir.join("serve.log")).unwrap();
    let mut child = matters()
        .arg("serve")
        .env("MATTERS_LISTEN", "127.0.0.1:0")
        .env(
            "MATTERS_DATABASE_URL",
            format!("sqlite://{}/serve.db?mode=rwc", dir.display()),
        )
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first.rsplit("http://").next().unwrap().to_owned();
    let second = lines.next().unwrap().unwrap();
    assert!(
        second.contains("simulator is on, for test clients only"),
        "{second}"
    );
    let get = |path: &str, body: Option<&str>| {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        let req = match body {
            None => format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            Some(b) => format!(
                "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
                b.len()
            ),
        };
        s.write_all(req.as_bytes()).unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        resp
    };
    let health = get("/healthz", None);
    let sim = get(
        "/simulator/messages",
        Some(r#"{"client":"demo","start":"loneliness"}"#),
    );
    // SIGTERM: a clean stop, exit 0.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let log = std::fs::read_to_string(dir.join("serve.log")).unwrap();
    assert!(
        log.contains("centre_name is not set"),
        "serve warns until the centre is named: {log}"
    );
    std::fs::remove_dir_all(dir).unwrap();
    assert!(
        health.starts_with("HTTP/1.1 200") && health.contains(r#"{"status":"ok"}"#),
        "{health}"
    );
    assert!(
        sim.starts_with("HTTP/1.1 200")
            && sim.contains("How often do you feel that you lack companionship?"),
        "{sim}"
    );
}

#[test]
fn the_inbound_benchmark_prints_its_figure_beside_its_baseline() {
    // Not a speed test: it only checks that the benchmark runs and reports in its documented form.
    let stdout = succeeds(&["bench", "inbound", "--n", "200", "--clients", "20"]);
    let last = stdout.lines().last().unwrap();
    let re_ok = last.starts_with("inbound sqlite: ")
        && last.contains(" replies/s, baseline ")
        && last.contains(" inserts/s, ratio ");
    assert!(re_ok, "{last}");
}

#[test]
fn serve_refuses_a_partial_twilio_configuration_and_names_what_is_missing() {
    let dir = temp("partial");
    let out = matters()
        .arg("serve")
        .env("MATTERS_LISTEN", "127.0.0.1:0")
        .env(
            "MATTERS_DATABASE_URL",
            format!("sqlite://{}/p.db?mode=rwc", dir.display()),
        )
        .env("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef")
        .env("TWILIO_FROM", "+15145559999")
        .output()
        .unwrap();
    std::fs::remove_dir_all(dir).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("TWILIO_AUTH_TOKEN") && stderr.contains("MATTERS_PUBLIC_URL"),
        "{stderr}"
    );
}

#[test]
fn serve_says_which_channels_are_on() {
    let dir = temp("channels");
    let mut child = matters()
        .arg("serve")
        .env("MATTERS_LISTEN", "127.0.0.1:0")
        .env(
            "MATTERS_DATABASE_URL",
            format!("sqlite://{}/c.db?mode=rwc", dir.display()),
        )
        .env("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef")
        .env("TWILIO_AUTH_TOKEN", "secret-token-never-printed")
        .env("TWILIO_FROM", "+1 (514) 555-9999")
        .env("TWILIO_API_BASE", "http://127.0.0.1:9")
        .env("MATTERS_PUBLIC_URL", "https://matters.example.org")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut said: Vec<String> = Vec::new();
    while let Some(Ok(l)) = lines.next() {
        let last = l.contains("no staff accounts yet") || l.contains("sign in at");
        said.push(l);
        if last || said.len() > 20 {
            break;
        }
    }
    child.kill().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    child.wait().unwrap();
    std::fs::remove_dir_all(dir).unwrap();
    let said = said.join("\n");
    assert!(said.contains("channels: simulator"), "{said}");
    assert!(
        said.contains("channels: sms (Twilio, from +15145559999, 1 segment(s)/s")
            && said.contains("https://matters.example.org/webhooks/twilio/sms"),
        "{said}"
    );
    assert!(!said.contains("secret-token") && !stderr.contains("secret-token"));
    // No staff yet: a one-time link for the first admin, on the public URL.
    assert!(
        said.contains("no staff accounts yet: open https://matters.example.org/setup/"),
        "{said}"
    );
}

#[test]
fn the_twilio_benchmark_prints_its_figures_beside_its_baseline() {
    let stdout = succeeds(&[
        "bench",
        "inbound",
        "--channel",
        "twilio",
        "--n",
        "200",
        "--clients",
        "50",
        "--paced",
        "100",
    ]);
    assert!(stdout.contains("  at 500/s: latency p50 "), "{stdout}");
    let last = stdout.lines().last().unwrap();
    assert!(
        last.starts_with("inbound twilio sqlite: ")
            && last.contains(" replies/s, baseline ")
            && last.contains(" requests/s, ratio "),
        "{last}"
    );
}

#[test]
fn a_client_is_enrolled_by_phone_and_a_flow_started_from_the_command_line() {
    let dir = temp("client");
    let db = format!("sqlite://{}/c.db?mode=rwc", dir.display());
    let run = on_db(&db);
    let (ok, said) = run(&[
        "client",
        "add",
        "amelie",
        "--phone",
        "(514) 555-0123",
        "--language",
        "fr-CA",
        "--start",
        "consent",
    ]);
    assert!(ok, "{said}");
    assert!(
        said.contains("added amelie (sms +15145550123, America/Toronto)"),
        "{said}"
    );
    assert!(
        said.contains("started consent for amelie: 4 message(s) queued"),
        "{said}"
    );
    let (ok, said) = run(&["client", "add", "amelie", "--phone", "5145550123"]);
    assert!(!ok && said.contains("already exists"), "{said}");
    let (ok, said) = run(&["client", "add", "bob", "--phone", "not a phone"]);
    assert!(!ok && said.contains("phone number"), "{said}");
    let (ok, said) = run(&["client", "start", "amelie", "nope"]);
    assert!(
        !ok && said.contains("the flows are:") && said.contains("loneliness"),
        "{said}"
    );
    let (ok, said) = run(&["client", "unmatched"]);
    assert!(
        ok && said.contains("no texts from unknown numbers"),
        "{said}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bench_scheduler_prints_its_rate_beside_the_bare_claim() {
    // graphile-worker is a Postgres peer: on SQLite the bench says why it is left out.
    let stdout = succeeds(&[
        "bench",
        "scheduler",
        "--scheduled",
        "3000",
        "--due",
        "300",
        "--graphile",
        "--idle-ticks",
        "20",
    ]);
    assert!(
        stdout.contains("300 due nudges (150 in French)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  idle tick: ")
            && stdout.contains("(mean of 20 ticks with 3000 jobs scheduled, none due)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "  graphile-worker: skipped: graphile-worker runs on Postgres only (--db postgres)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("  serve:     healthy "), "{stdout}");
    let last = stdout.lines().last().unwrap();
    let number = |s: &str| s.trim().parse::<f64>().is_ok();
    let parts: Option<(&str, &str)> = last
        .strip_prefix("scheduler sqlite: ")
        .and_then(|r| r.split_once(" nudges/s, baseline "));
    let (rate, rest) = parts.unwrap_or_else(|| panic!("{last}"));
    let (baseline, ratio) = rest.split_once("/s, ratio ").unwrap();
    assert!(number(rate) && number(baseline) && number(ratio), "{last}");
}

#[test]
fn clients_are_imported_enrolled_and_followed_up_from_the_command_line() {
    let dir = temp("import");
    let db = format!("sqlite://{}/i.db?mode=rwc", dir.display());
    let run = on_db(&db);
    let csv = dir.join("clients.csv");
    std::fs::write(
        &csv,
        "id,phone,language,time_zone,program,referred_on,sequence\n\
         ana,(613) 555-0101,fr,America/Toronto,the walking group,2026-11-02,standard\n\
         ben,613-555-0102,en,America/Winnipeg,coffee and colouring,,light\n\
         cal,555,en,,,,\n\
         dee,613 555 0104,klingon,,,,\n\
         eve,613 555 0105,en,Mars/Olympus,,,\n\
         ana,613 555 0199,en,,,,\n\
         fay,613 555 0106,en,,,,nope\n\
         gus,6135550101,en,,,,\n",
    )
    .unwrap();
    let path = csv.display().to_string();
    let (ok, said) = run(&["clients", "import", &path]);
    assert!(ok, "{said}");
    assert!(
        said.contains("2 added, 0 already there, 6 rejected"),
        "{said}"
    );
    for (line, why) in [
        (4, "phone number"),
        (5, "language klingon is not enabled"),
        (6, "time zone \"Mars/Olympus\""),
        (7, "ana appears twice"),
        (8, "no sequence nope"),
        (9, "already the number of another client"),
    ] {
        assert!(
            said.lines()
                .any(|l| l.starts_with(&format!("  line {line}: ")) && l.contains(why)),
            "line {line}: {why}\n{said}"
        );
    }
    // Run again: nothing is added or enrolled twice.
    let (ok, said) = run(&["clients", "import", &path]);
    assert!(
        ok && said.contains("0 added, 2 already there, 6 rejected"),
        "{said}"
    );
    let (ok, said) = run(&["clients", "timeline", "ana"]);
    assert!(ok, "{said}");
    assert_eq!(
        said.lines().filter(|l| l.contains("weekly")).count(),
        1,
        "one weekly step planned at a time: {said}"
    );
    assert!(said.contains("loneliness-6m"), "{said}");
    assert!(said.contains("after the step before it"), "{said}");
    // A step waiting on another is listed right after it.
    let row = |step: &str| {
        said.lines()
            .position(|l| l.split_whitespace().any(|w| w == step))
            .unwrap_or_else(|| panic!("{step}: {said}"))
    };
    assert_eq!(row("baseline-loneliness"), row("consent") + 1, "{said}");
    assert_eq!(
        row("baseline-wellbeing"),
        row("baseline-loneliness") + 1,
        "{said}"
    );
    let (ok, said) = run(&["clients", "enrol", "ana", "standard"]);
    assert!(
        !ok && said.contains("already enrolled in standard"),
        "{said}"
    );
    let (ok, said) = run(&["clients", "pause", "ben"]);
    assert!(ok && said.contains("paused ben: "), "{said}");
    let (ok, said) = run(&["clients", "resume", "ben"]);
    assert!(ok && said.contains("resumed ben: "), "{said}");
    let (ok, said) = run(&[
        "clients",
        "reschedule",
        "ben",
        "check-in",
        "2099-01-04 07:30",
    ]);
    assert!(
        ok && said.contains("check-in of ben is now due Sun 2099-01-04 09:00 CST"),
        "{said}"
    );
    let (ok, said) = run(&["clients", "cancel", "ben", "--reason", "moved away"]);
    assert!(
        ok && said.contains("cancelled the follow-up of ben"),
        "{said}"
    );
    let (ok, said) = run(&["clients", "pause", "ben"]);
    assert!(
        !ok && said.contains("not enrolled in any running sequence"),
        "{said}"
    );
    let (ok, said) = run(&[
        "clients",
        "add",
        "hal",
        "--language",
        "fr",
        "--sequence",
        "light",
    ]);
    assert!(ok && said.contains("enrolled in light"), "{said}");
    assert!(said.contains("no phone or Telegram yet"), "{said}");
    // Nothing reaches a client with no phone: starting a flow says so and queues nothing.
    let (ok, said) = run(&["clients", "start-flow", "hal", "loneliness"]);
    assert!(
        !ok && said.contains("hal has no phone number or Telegram chat yet"),
        "{said}"
    );
    let (ok, said) = run(&["clients", "phone", "hal", "(204) 555-0188"]);
    assert!(
        ok && said.contains("hal is now reached by SMS at +12045550188"),
        "{said}"
    );
    let (ok, said) = run(&[
        "clients",
        "start-flow",
        "hal",
        "loneliness",
        "--time-point",
        "someday",
    ]);
    assert!(!ok && said.contains("is not one of baseline"), "{said}");
    let (ok, said) = run(&["clients", "start-flow", "hal", "loneliness"]);
    assert!(ok && said.contains("started loneliness for hal"), "{said}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn simulate_a_sequence_prints_a_timeline_in_local_time() {
    let dir = temp("simseq");
    let replies = dir.join("replies.txt");
    std::fs::write(&replies, "oui\nFrançais\n1\n(silence)\n@16 ARRÊT\n").unwrap();
    let out = matters()
        .args([
            "simulate",
            "--sequence",
            "standard",
            "--days",
            "30",
            "--lang",
            "fr",
            "--tz",
            "America/Winnipeg",
            "--start",
            "2026-10-19 14:00",
            "--replies",
        ])
        .arg(&replies)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = stdout.lines().next().unwrap();
    assert!(
        first.starts_with("Mon 2026-10-19 14:00 CDT  out    consent/consent-welcome"),
        "{stdout}"
    );
    assert!(
        stdout.contains("nudge  loneliness[baseline]/nudge-gentle Petit rappel"),
        "{stdout}"
    );
    assert!(stdout.contains("in     ARRÊT"), "{stdout}");
    assert!(
        stdout.contains("cancel loneliness-6m opted out"),
        "{stdout}"
    );
    assert!(
        stdout.contains("30 days of standard for a client in America/Winnipeg (fr)"),
        "{stdout}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn staff_tokens_and_exports_from_the_command_line() {
    let dir = temp("staff");
    let db = format!("sqlite://{}/c.db?mode=rwc", dir.display());
    let run = on_db(&db);
    let (ok, said) = run(&[
        "staff",
        "add",
        "nora",
        "--name",
        "Nora B.",
        "--role",
        "navigator",
    ]);
    assert!(ok, "{said}");
    assert!(said.contains("added Nora B. (nora) as navigator"), "{said}");
    assert!(
        said.contains(
            "one-time link to choose a password (valid 72 hours): http://127.0.0.1:8080/setup/"
        ),
        "{said}"
    );
    let (ok, said) = run(&["staff", "add", "nora"]);
    assert!(
        !ok && said.contains("already a staff member called nora"),
        "{said}"
    );
    let (ok, said) = run(&["staff", "add", "x", "--role", "boss"]);
    assert!(!ok && said.contains("not admin or navigator"), "{said}");
    let mut child = matters()
        .args(["staff", "add", "ada", "--role", "admin", "--password-stdin"])
        .env("MATTERS_DATABASE_URL", &db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && !said.contains("/setup/"), "{said}");
    let (ok, said) = run(&["staff", "list"]);
    assert!(
        ok && said.contains("ada") && said.contains("admin") && said.contains("Nora B."),
        "{said}"
    );
    let (ok, said) = run(&["staff", "disable", "nora"]);
    assert!(ok && said.contains("nora can no longer sign in"), "{said}");
    let (ok, said) = run(&["staff", "list"]);
    assert!(ok && said.contains("Nora B.  (off)"), "{said}");
    let (ok, said) = run(&["staff", "enable", "nora"]);
    assert!(ok && said.contains("nora can sign in again"), "{said}");
    let (ok, said) = run(&["staff", "link", "nora"]);
    assert!(
        ok && said.contains("give Nora B. this one-time link"),
        "{said}"
    );
    let (ok, said) = run(&["staff", "disable", "nobody"]);
    assert!(
        !ok && said.contains("no staff member called nobody"),
        "{said}"
    );
    let (ok, said) = run(&["staff", "token", "dashboard", "--scope", "read"]);
    assert!(ok, "{said}");
    let secret = said.lines().nth(1).unwrap().trim().to_owned();
    assert!(secret.starts_with("mt_") && secret.len() > 40, "{said}");
    let (ok, said) = run(&["staff", "revoke", "1"]);
    assert!(ok && said.contains("token 1 revoked"), "{said}");
    let (ok, _) = run(&["staff", "revoke", "1"]);
    assert!(!ok);

    let (ok, said) = run(&[
        "clients",
        "add",
        "amelie",
        "--phone",
        "+15145550123",
        "--language",
        "fr",
        "--program",
        "Café",
    ]);
    assert!(ok, "{said}");
    let csv = dir.join("eval.csv");
    let (ok, said) = run(&[
        "export",
        "csv",
        "--deidentified",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(
        ok && said.contains("1 clients exported, de-identified"),
        "{said}"
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(
        text.starts_with("pseudonym,referral_number,language,"),
        "{text}"
    );
    assert!(
        text.lines().nth(1).unwrap().starts_with("P-")
            && !text.contains("amelie")
            && !text.contains("5550123")
    );
    let fhir = dir.join("fhir.json");
    let (ok, said) = run(&["export", "fhir", "--out", fhir.to_str().unwrap()]);
    assert!(ok && said.contains("3 resources exported"), "{said}");
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fhir).unwrap()).unwrap();
    assert_eq!(b["resourceType"], "Bundle");
    assert_eq!(b["entry"][0]["resource"]["resourceType"], "Questionnaire");
    let figures = dir.join("cohort.csv");
    let (ok, said) = run(&["export", "cohort", "--out", figures.to_str().unwrap()]);
    assert!(
        ok && said.contains("the cohort's figures exported"),
        "{said}"
    );
    let text = std::fs::read_to_string(&figures).unwrap();
    assert!(
        text.starts_with("section,variable,group,figure,time_point,value,n\n"),
        "{text}"
    );
    // One client: every figure is a small cell.
    assert!(text.contains("cohort,,,clients,,< 5,\n"), "{text}");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&figures).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn flows_check_reports_a_gap_that_falls_back_and_still_passes() {
    let dir = temp("gap");
    for entry in std::fs::read_dir("locales").unwrap() {
        let p = entry.unwrap().path();
        let sub = dir.join(p.file_name().unwrap());
        std::fs::create_dir_all(&sub).unwrap();
        for f in std::fs::read_dir(&p).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, sub.join(f.file_name().unwrap())).unwrap();
        }
    }
    let file = dir.join("pa/what-matters.ftl");
    let text = std::fs::read_to_string(&file).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("wm-gifts"))
        .collect();
    std::fs::write(&file, kept.join("\n")).unwrap();
    let out = matters()
        .args(["flows", "check"])
        .env("MATTERS_LOCALES_DIR", &dir)
        .env("MATTERS_LANGUAGES", "en,fr,pa")
        .env("MATTERS_CENTRE_NAME", "CSC Centre-Ville")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("warning: pa: wm-gifts is missing; clients get it from the fallback (en)"),
        "{stdout}"
    );
    let row = stdout
        .lines()
        .find(|r| r.starts_with("pa ") && r.contains(" draft "))
        .unwrap();
    assert!(row.contains(" yes ") && !row.contains("95/95"), "{row}");
    assert!(
        stdout.contains("9 locales are valid (3 enabled, 8 of 9 complete); 1 warnings"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_new_database_and_its_exports_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp("owner");
    // No `?mode=rwc`: the database is created all the same.
    let db = format!("sqlite://{}/new.db", dir.display());
    let run = on_db(&db);
    let (ok, said) = run(&["migrate"]);
    assert!(ok, "{said}");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.join("new.db")), 0o600);
    let (ok, said) = run(&[
        "clients",
        "add",
        "amelie",
        "--phone",
        "+15145550123",
        "--language",
        "fr",
        "--start",
        "loneliness",
        "--time-point",
        "baseline",
    ]);
    assert!(ok, "{said}");
    let wal = dir.join("new.db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600);
    }
    // An export over a file others could read: owner-only afterwards.
    let csv = dir.join("eval.csv");
    std::fs::write(&csv, "old").unwrap();
    std::fs::set_permissions(&csv, std::fs::Permissions::from_mode(0o644)).unwrap();
    let fhir = dir.join("fhir.json");
    for (kind, out) in [("csv", &csv), ("fhir", &fhir)] {
        let (ok, said) = run(&["export", kind, "--out", out.to_str().unwrap()]);
        assert!(ok, "{said}");
        assert_eq!(mode(out), 0o600, "{kind}");
    }
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("client_id,"), "{text}");
    // The time point given to --start labels the survey.
    let tp: Option<String> = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = matters::store::Db::connect(&db).await.unwrap();
        sqlx::query_scalar("SELECT time_point FROM sessions WHERE client_id = 'amelie'")
            .fetch_one(db.pool())
            .await
            .unwrap()
    });
    assert_eq!(tp.as_deref(), Some("baseline"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_configuration_key_that_does_not_exist_is_named_with_the_nearest() {
    let dir = temp("badkey");
    let file = dir.join("matters.toml");
    std::fs::write(
        &file,
        "centre_nam = \"CSC Centre-Ville\"\n[schedule]\nsend_betwen = \"10:00-18:00\"\n",
    )
    .unwrap();
    let out = matters()
        .args(["--config", file.to_str().unwrap(), "flows", "check"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("unknown configuration key `centre_nam`")
            && err.contains("did you mean `centre_name`?"),
        "{err}"
    );
    std::fs::write(
        &file,
        "centre_name = \"CSC Centre-Ville\"\n[schedule]\nsend_betwen = \"10:00-18:00\"\n",
    )
    .unwrap();
    let out = matters()
        .args(["--config", file.to_str().unwrap(), "flows", "check"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`schedule.send_betwen`") && err.contains("`schedule.send_between`"),
        "{err}"
    );
    let out = matters()
        .args(["flows", "check"])
        .env("MATTERS_SEND_BETWEEN", "10:00-18:00")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("MATTERS_SEND_BETWEEN")
            && err.contains("`schedule.send_between`"),
        "{err}"
    );
    // Nested keys by environment: MATTERS_<TABLE>__<KEY>.
    let out = matters()
        .args(["flows", "check"])
        .env("MATTERS_SCHEDULE__SEND_BETWEEN", "10:00-18:00")
        .env("MATTERS_CENTRE_NAME", "CSC Centre-Ville")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[path = "support/smtp.rs"]
#[allow(dead_code)]
mod smtp;

#[test]
fn serve_refuses_alerts_no_one_can_receive_and_alerts_test_reaches_who_can() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mail = rt.block_on(smtp::MailServer::start());
    let dir = temp("alerts");
    let file = dir.join("matters.toml");
    std::fs::write(
        &file,
        format!(
            "database_url = \"sqlite://{}/a.db?mode=rwc\"\nlisten = \"127.0.0.1:0\"\n[alerts]\nenabled = true\nsmtp_url = \"{}\"\nfrom = \"alerts@csc.example\"\n",
            dir.display(),
            mail.url()
        ),
    )
    .unwrap();
    let cfg = file.to_str().unwrap();
    let out = matters().args(["--config", cfg, "serve"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "serve started with no one to alert");
    assert!(
        err.contains("no one can receive them") && err.contains("matters staff contact"),
        "{err}"
    );
    let ok = |args: &[&str]| {
        let out = matters()
            .args(["--config", cfg])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    ok(&["staff", "add", "ada", "--role", "admin"]);
    let bad = matters()
        .args([
            "--config", cfg, "staff", "contact", "ada", "--hours", "weekdays",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("Mon-Fri"));
    let said = ok(&["staff", "contact", "ada", "--email", "ada@csc.example"]);
    assert!(said.contains("by email on"), "{said}");
    let said = ok(&["alerts", "test"]);
    assert!(said.contains("ada: email sent"), "{said}");
    let got = mail.to("ada@csc.example");
    assert_eq!(got.len(), 1);
    assert!(got[0].header("Subject").unwrap().contains("Test alert"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn programs_import_from_csv_lists_rejected_rows_and_can_run_again() {
    let dir = temp("programs");
    let db = format!("sqlite://{}/p.db?mode=rwc", dir.display());
    let csv = dir.join("catalogue.csv");
    std::fs::write(
        &csv,
        "code,partner,name_en,name_fr,location,schedule,cost\n\
         walking-group,Centretown CA,Tuesday walking group,Marche du mardi,Dundonald Park,Tue 10:00,free\n\
         Bad Code,Somewhere,X,,Here,,free\n",
    )
    .unwrap();
    let run = || {
        matters()
            .args(["programs", "import", csv.to_str().unwrap()])
            .env("MATTERS_DATABASE_URL", &db)
            .output()
            .unwrap()
    };
    let out = run();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "a rejected row fails the import's exit code"
    );
    assert!(said.contains("1 added, 0 updated, 1 rejected"), "{said}");
    assert!(said.contains("line 3: code \"Bad Code\""), "{said}");
    let again = run();
    let said = String::from_utf8_lossy(&again.stdout);
    assert!(said.contains("0 added, 1 updated, 1 rejected"), "{said}");
    let list = matters()
        .args(["programs", "list"])
        .env("MATTERS_DATABASE_URL", &db)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&list.stdout);
    assert!(
        said.contains("walking-group") && said.contains("Tuesday walking group"),
        "{said}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn centres_are_added_staffed_shared_and_reported_from_the_command_line() {
    let dir = temp("centres");
    let db = format!("sqlite://{}/c.db?mode=rwc", dir.display());
    let run = on_db(&db);
    let (ok, said) = run(&["centres", "list"]);
    assert!(ok && said.starts_with("default "), "{said}");
    let (ok, said) = run(&[
        "centres",
        "add",
        "north-end",
        "--name",
        "North End CHC",
        "--time-zone",
        "America/Toronto",
        "--default-language",
        "fr",
        "--twilio-from",
        "(613) 555-0199",
    ]);
    assert!(ok, "{said}");
    assert!(
        said.contains("added centre north-end (North End CHC)"),
        "{said}"
    );
    assert!(
        said.contains("matters staff add NAME --role admin --centre north-end"),
        "{said}"
    );
    for (args, why) in [
        (
            vec![
                "centres",
                "add",
                "north-end",
                "--name",
                "Again",
                "--time-zone",
                "UTC",
            ],
            "already a centre",
        ),
        (
            vec!["centres", "add", "x y", "--name", "X", "--time-zone", "UTC"],
            "letters, digits or dashes",
        ),
        (
            vec![
                "centres",
                "add",
                "west",
                "--name",
                "W",
                "--time-zone",
                "Toronto",
            ],
            "not an IANA time zone",
        ),
        (
            vec![
                "centres",
                "add",
                "west",
                "--name",
                "W",
                "--time-zone",
                "UTC",
                "--flows",
                "program-details",
                "--sequences",
                "standard",
            ],
            "uses the flow",
        ),
        (
            vec![
                "centres",
                "add",
                "west",
                "--name",
                "W",
                "--time-zone",
                "UTC",
                "--flows",
                "nope",
            ],
            "there is no flow \"nope\"",
        ),
        (
            vec![
                "centres",
                "add",
                "west",
                "--name",
                "W",
                "--time-zone",
                "UTC",
                "--twilio-from",
                "+16135550177",
                "--twilio-account-sid",
                "AC0000000000000000000000000000beef",
                "--twilio-auth-token-file",
                "no-such.token",
            ],
            "cannot be read",
        ),
        (
            vec![
                "centres",
                "add",
                "west",
                "--name",
                "W",
                "--time-zone",
                "UTC",
                "--twilio-account-sid",
                "AC0000000000000000000000000000beef",
            ],
            "--twilio-auth-token-file",
        ),
    ] {
        let (ok, said) = run(&args);
        assert!(!ok && said.contains(why), "{args:?}: {said}");
    }
    // A centre of its own Twilio account: the token stays in its file, kept by its full path.
    let token = dir.join("west.token");
    std::fs::write(&token, "0123456789abcdef0123456789abcdef\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let (ok, said) = run(&[
        "centres",
        "add",
        "west",
        "--name",
        "West CHC",
        "--time-zone",
        "America/Toronto",
        "--twilio-from",
        "+16135550177",
        "--twilio-account-sid",
        "AC0000000000000000000000000000beef",
        "--twilio-auth-token-file",
        token.to_str().unwrap(),
        "--flows",
        "program-details,referral-followup",
        "--sequences",
        "signposting",
    ]);
    assert!(ok && said.contains("its own Twilio account"), "{said}");
    assert!(
        !said.contains("0123456789abcdef"),
        "never the token: {said}"
    );
    let (ok, said) = run(&["centres", "list"]);
    assert!(
        ok && said.contains("North End CHC") && said.contains("+16135550199"),
        "{said}"
    );
    let (ok, said) = run(&[
        "staff",
        "add",
        "bea",
        "--role",
        "admin",
        "--centre",
        "north-end",
    ]);
    assert!(ok && said.contains("as admin of north-end"), "{said}");
    let (ok, said) = run(&["staff", "add", "ada", "--role", "admin"]);
    assert!(ok && said.contains("as admin of every centre"), "{said}");
    let (ok, said) = run(&["staff", "add", "zed", "--centre", "nowhere"]);
    assert!(
        !ok && said.contains("there is no centre \"nowhere\""),
        "{said}"
    );
    let (ok, said) = run(&[
        "staff",
        "token",
        "EMR",
        "--scope",
        "fhir",
        "--centre",
        "north-end",
    ]);
    assert!(ok, "{said}");
    let (ok, said) = run(&["staff", "list"]);
    assert!(
        ok && said.contains("north-end") && said.contains("every centre"),
        "{said}"
    );
    // Exports of one centre hold its clients only.
    let (ok, said) = run(&["clients", "add", "amelie", "--phone", "+15145550123"]);
    assert!(ok, "{said}");
    let (ok, said) = run(&["export", "csv"]);
    assert!(ok && said.contains("amelie"), "{said}");
    let (ok, said) = run(&["export", "csv", "--centre", "north-end"]);
    assert!(
        ok && !said.contains("amelie") && said.contains("0 clients exported"),
        "{said}"
    );
    let (ok, said) = run(&["export", "cohort", "--centre", "nowhere"]);
    assert!(
        !ok && said.contains("there is no centre \"nowhere\""),
        "{said}"
    );
    let (ok, said) = run(&["centres", "share", "north-end"]);
    assert!(ok && said.contains("north-end shares"), "{said}");
    let out = dir.join("group.csv");
    let (ok, said) = run(&["centres", "report", "--out", out.to_str().unwrap()]);
    assert!(ok, "{said}");
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(
        csv.starts_with("section,variable,group,figure,time_point,value,n"),
        "{csv}"
    );
    assert!(
        csv.contains("group,centres-sharing,,,,North End CHC (north-end),"),
        "{csv}"
    );
    assert!(csv.contains("group,centres-not-sharing,,,,2,"), "{csv}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the report is its owner's only");
    }
}
