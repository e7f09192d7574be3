//! Follow-up sequences on the virtual clock: the whole `standard` sequence in English and French
//! for clients in Toronto and Winnipeg across both daylight-saving changes, quiet hours and
//! holidays, silence → nudges → a task, STOP in week 3, crisis words in week 5, a crash and a
//! restart with downtime, cron across the gap and the repeated hour, navigator actions, and two
//! schedulers on one database (SQLite and a real Postgres) claiming each due job exactly once.

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use matters::clock::{Clock, ManualClock, from_ms, to_ms};
use matters::config::Config;
use matters::domain::{Channel, ClientId, FlowId, Locale};
use matters::enrolment::simulate::{Line, Options, Script, render, run};
use matters::enrolment::{self, actions};
use matters::loops::scheduler;
use matters::runner::{IfBusy, Inbound, Runner};
use matters::schedule::time::{OpenHours, local, parse_local, resolve};
use matters::schedule::{self, sequence};
use matters::store::record::{self, NewClient, NewReferral};
use sqlx::Row;
use std::path::Path;
use std::sync::Arc;

mod support;
use support::pg::postgres;

const TORONTO: Tz = chrono_tz::America::Toronto;
const WINNIPEG: Tz = chrono_tz::America::Winnipeg;

async fn build(url: &str) -> (Runner, ManualClock) {
    let clock = ManualClock::new(at(TORONTO, "2026-01-01 00:00"));
    let cfg = Config {
        database_url: url.to_owned(),
        ..Config::default()
    };
    let runner = matters::app::build(&cfg, Arc::new(clock.clone()))
        .await
        .unwrap();
    (runner, clock)
}

fn at(tz: Tz, s: &str) -> DateTime<Utc> {
    resolve(tz, parse_local(s).unwrap())
}

fn naive(s: &str) -> NaiveDateTime {
    parse_local(s).unwrap()
}

/// A sequence made for a test, beside the shipped ones.
fn with_sequence(runner: Runner, source: &str) -> Runner {
    let id = source
        .lines()
        .find_map(|l| l.strip_prefix("id = \""))
        .and_then(|l| l.strip_suffix('"'))
        .unwrap()
        .to_owned();
    let s = sequence::parse(Path::new(&format!("{id}.toml")), source, &runner.flows).unwrap();
    let mut set = sequence::SequenceSet::default();
    for seq in runner.sequences.all() {
        set.insert(seq.clone());
    }
    set.insert(s);
    Runner {
        sequences: Arc::new(set),
        ..runner
    }
}

fn options(lang: &str, tz: Tz, start: &str, days: i64, script: &str) -> Options {
    Options {
        sequence: "standard".into(),
        days,
        language: Locale::parse(lang).unwrap(),
        time_zone: tz,
        start: at(tz, start),
        client: ClientId::parse("sim-client").unwrap(),
        reply_after: Duration::minutes(7),
        script: Script::parse(script).unwrap(),
    }
}

/// (step, occurrence, status, fired_at, note) of every step job of the client, in order.
async fn steps(runner: &Runner) -> Vec<(String, i64, String, Option<i64>, Option<String>)> {
    sqlx::query(
        "SELECT step_id, occurrence, status, fired_at, note FROM jobs WHERE kind = 'step' ORDER BY due_at, id",
    )
    .fetch_all(runner.db.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.get::<String, _>(0),
            r.get::<i64, _>(1),
            r.get::<String, _>(2),
            r.get::<Option<i64>, _>(3),
            r.get::<Option<String>, _>(4),
        )
    })
    .collect()
}

/// A client's days in the standard sequence on a fresh database: the runner, the timeline, and
/// the timeline as text for assertion messages.
async fn simulated(
    lang: &str,
    tz: Tz,
    start: &str,
    days: i64,
    script: &str,
) -> (Runner, Vec<Line>, String) {
    let (runner, clock) = build("sqlite::memory:").await;
    let lines = run(&runner, &clock, options(lang, tz, start, days, script))
        .await
        .unwrap();
    let shown = render(&lines, tz);
    (runner, lines, shown)
}

fn lines_of<'a>(lines: &'a [Line], kind: &str, what: &str) -> Vec<&'a Line> {
    lines
        .iter()
        .filter(|l| l.kind == kind && l.what.contains(what))
        .collect()
}

/// A scheduled message (a step's first message, a nudge) goes out between 09:00 and 20:00.
fn in_window(tz: Tz, t: DateTime<Utc>) -> bool {
    let l = local(tz, t);
    (9..20).contains(&l.hour())
}

#[tokio::test]
async fn the_standard_sequence_runs_six_months_in_each_language_and_zone_across_both_clock_changes()
{
    for (lang, tz, went) in [
        ("en", TORONTO, "Did you go to"),
        ("fr", WINNIPEG, "Avez-vous pu aller"),
        ("fr", TORONTO, "Avez-vous pu aller"),
        ("en", WINNIPEG, "Did you go to"),
    ] {
        // Enrolled on a Monday afternoon in October: fall-back on 1 November, spring-forward
        // on 14 March, the six-month survey in April.
        let (runner, lines, shown) = simulated(lang, tz, "2026-10-19 14:00", 200, "").await;
        let jobs = steps(&runner).await;
        // Every step went out once; none was skipped, lost or left waiting.
        assert!(
            jobs.iter().all(|j| j.2 == "done"),
            "{lang} {tz}: {jobs:#?}\n{shown}"
        );
        let count = |step: &str| jobs.iter().filter(|j| j.0 == step).count();
        assert_eq!(count("weekly"), 8, "{shown}");
        for s in [
            "consent",
            "baseline-loneliness",
            "baseline-wellbeing",
            "baseline-belonging",
            "what-matters",
            "loneliness-3m",
            "wellbeing-3m",
            "belonging-3m",
            "loneliness-6m",
            "wellbeing-6m",
            "belonging-6m",
        ] {
            assert_eq!(count(s), 1, "{s}: {jobs:#?}");
        }
        // Each step started in the client's open hours.
        for j in &jobs {
            let t = from_ms(j.3.unwrap());
            assert!(in_window(tz, t), "{} at {}", j.0, local(tz, t));
        }
        // Weekly: every Monday at 10:00 local, before and after clocks fall back.
        let weekly: Vec<NaiveDateTime> = jobs
            .iter()
            .filter(|j| j.0 == "weekly")
            .map(|j| local(tz, from_ms(j.3.unwrap())))
            .collect();
        assert_eq!(weekly[0], naive("2026-10-26 10:00"), "{shown}");
        assert_eq!(weekly[7], naive("2026-12-14 10:00"), "{shown}");
        for w in &weekly {
            assert_eq!((w.weekday(), w.hour(), w.minute()), (Weekday::Mon, 10, 0));
        }
        let utc_hours: Vec<u32> = jobs
            .iter()
            .filter(|j| j.0 == "weekly")
            .map(|j| from_ms(j.3.unwrap()).hour())
            .collect();
        assert_ne!(
            utc_hours[0], utc_hours[1],
            "the same local hour is another UTC hour once clocks fall back"
        );
        // Outcomes: three and six months after the referral, at 10:00 local (after spring-forward).
        let fired = |s: &str| {
            local(
                tz,
                from_ms(jobs.iter().find(|j| j.0 == s).unwrap().3.unwrap()),
            )
        };
        assert_eq!(fired("loneliness-3m"), naive("2027-01-19 10:00"));
        assert_eq!(fired("loneliness-6m"), naive("2027-04-19 10:00"));
        assert_eq!(fired("what-matters"), naive("2026-10-21 10:00"));
        // The record: UCLA-3 at each time point, once.
        let scores: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT instrument, time_point FROM scores WHERE instrument = 'ucla3' ORDER BY id",
        )
        .fetch_all(runner.db.pool())
        .await
        .unwrap();
        let points: Vec<&str> = scores.iter().map(|s| s.1.as_deref().unwrap()).collect();
        assert_eq!(points, ["baseline", "3-month", "6-month"]);
        // No message twice: every question went out once per session.
        let dupes: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT session_id, message_key FROM messages WHERE direction = 'out' \
             GROUP BY session_id, message_key HAVING COUNT(*) > 1) AS d",
        )
        .fetch_one(runner.db.pool())
        .await
        .unwrap();
        assert_eq!(dupes, 0, "{shown}");
        assert_eq!(lines_of(&lines, "out", "rf-went").len(), 8);
        assert!(
            lines_of(&lines, "out", "rf-went")
                .iter()
                .all(|l| l.detail.starts_with(went)),
            "{shown}"
        );
        let status: String = sqlx::query_scalar("SELECT status FROM enrolments")
            .fetch_one(runner.db.pool())
            .await
            .unwrap();
        assert_eq!(status, "completed");
    }
}

#[tokio::test]
async fn a_step_due_in_quiet_hours_or_on_a_holiday_waits_for_the_next_open_window() {
    let (_, lines, shown) = simulated("en", WINNIPEG, "2026-11-03 22:30", 1, "").await;
    let first = lines.iter().find(|l| l.kind == "out").unwrap();
    assert_eq!(
        local(WINNIPEG, first.at),
        naive("2026-11-04 09:00"),
        "{shown}"
    );

    // Christmas Eve at 21:00 with the 25th and 26th as holidays: the 27th at 09:00.
    let (runner, clock) = build("sqlite::memory:").await;
    let mut settings = (*runner.schedule).clone();
    settings.holidays = ["2026-12-25", "2026-12-26"]
        .iter()
        .map(|d| schedule::time::parse_date(d).unwrap())
        .collect();
    let runner = Runner {
        schedule: Arc::new(settings),
        ..runner
    };
    let lines = run(
        &runner,
        &clock,
        options("fr", TORONTO, "2026-12-24 21:00", 4, ""),
    )
    .await
    .unwrap();
    let first = lines.iter().find(|l| l.kind == "out").unwrap();
    assert_eq!(local(TORONTO, first.at), naive("2026-12-27 09:00"));
    let note: Option<String> =
        sqlx::query_scalar("SELECT note FROM jobs WHERE step_id = 'consent'")
            .fetch_one(runner.db.pool())
            .await
            .unwrap();
    assert_eq!(note.as_deref(), Some("moved out of quiet hours"));
}

#[tokio::test]
async fn silence_gets_a_nudge_at_a_decent_hour_then_a_task_and_the_next_step_goes_on() {
    // Consent given, then nothing more.
    let (runner, lines, shown) = simulated(
        "en",
        TORONTO,
        "2026-10-19 18:30",
        12,
        "yes\nEnglish\n1\n(silent from here)\n",
    )
    .await;
    let nudges = lines_of(&lines, "nudge", "nudge-gentle");
    assert!(!nudges.is_empty(), "{shown}");
    for n in &nudges {
        assert!(in_window(TORONTO, n.at), "{shown}");
    }
    // The loneliness question, asked at 18:5x, is nudged 48 hours later, at a decent hour.
    let asked = lines_of(&lines, "out", "ucla3-companionship")[0].at;
    assert!(nudges[0].at >= asked + Duration::hours(48), "{shown}");
    let flags = lines_of(&lines, "flag", "no-response");
    assert!(!flags.is_empty(), "{shown}");
    assert!(flags[0].at > nudges[0].at);
    // "No response" is on the record, and the navigator has an open task.
    let no_response: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM answers WHERE status = 'no-response'")
            .fetch_one(runner.db.pool())
            .await
            .unwrap();
    assert!(no_response >= 1);
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM flags WHERE kind = 'no-response' AND status = 'open'",
    )
    .fetch_one(runner.db.pool())
    .await
    .unwrap();
    assert!(open >= 1);
    // What-matters fell due while the survey waited: it waited, then replaced the unanswered
    // survey the moment the navigator was told (an open hour); nothing was dropped.
    let wm = lines_of(&lines, "out", "wm-intro");
    assert_eq!(wm.len(), 1, "{shown}");
    assert_eq!(wm[0].at, flags[0].at, "{shown}");
    let ended: String = sqlx::query_scalar(
        "SELECT status FROM sessions WHERE flow_id = 'loneliness' AND time_point = 'baseline'",
    )
    .fetch_one(runner.db.pool())
    .await
    .unwrap();
    assert_eq!(ended, "no-response");
    let jobs = steps(&runner).await;
    assert!(
        jobs.iter().all(|j| j.2 != "skipped" && j.2 != "cancelled"),
        "{jobs:#?}"
    );
}

#[tokio::test]
async fn stop_in_week_three_cancels_everything_after_it() {
    let (runner, lines, shown) =
        simulated("fr", WINNIPEG, "2026-10-19 14:00", 200, "@16 ARRÊT\n").await;
    let stop = lines
        .iter()
        .position(|l| l.kind == "in" && l.detail == "ARRÊT")
        .unwrap();
    let after: Vec<&Line> = lines[stop + 1..]
        .iter()
        .filter(|l| l.kind == "out" || l.kind == "nudge")
        .collect();
    assert_eq!(after.len(), 1, "only the confirmation: {shown}");
    assert!(after[0].what.contains("stop-confirmation"), "{shown}");
    let jobs = steps(&runner).await;
    let stopped_at = to_ms(lines[stop].at);
    for j in &jobs {
        if j.2 == "done" {
            assert!(j.3.unwrap() < stopped_at, "{j:?}");
        } else {
            assert_eq!(
                (j.2.as_str(), j.4.as_deref()),
                ("cancelled", Some("opted out")),
                "{j:?}"
            );
        }
    }
    assert!(
        jobs.iter()
            .any(|j| j.0 == "loneliness-6m" && j.2 == "cancelled")
    );
    let pending: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status IN ('pending', 'blocked')")
            .fetch_one(runner.db.pool())
            .await
            .unwrap();
    assert_eq!(pending, 0);
    let (status, reason): (String, Option<String>) =
        sqlx::query_as("SELECT status, end_reason FROM enrolments")
            .fetch_one(runner.db.pool())
            .await
            .unwrap();
    assert_eq!(
        (status.as_str(), reason.as_deref()),
        ("cancelled", Some("opted out"))
    );
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'jobs-cancelled'")
            .fetch_one(runner.db.pool())
            .await
            .unwrap();
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn crisis_words_in_week_five_get_the_fixed_reply_and_the_sequence_goes_on() {
    let (runner, lines, shown) = simulated(
        "en",
        TORONTO,
        "2026-10-19 14:00",
        70,
        "@30 i just want to end my life\n",
    )
    .await;
    let k = lines
        .iter()
        .position(|l| l.kind == "in" && l.detail.contains("end my life"))
        .unwrap();
    let reply = lines[k + 1..].iter().find(|l| l.kind == "out").unwrap();
    assert!(reply.what.contains("crisis-reply"), "{shown}");
    assert!(
        reply.detail.contains("988") || reply.detail.contains("9-8-8"),
        "{shown}"
    );
    let crisis = lines_of(&lines, "flag", "crisis");
    assert_eq!(crisis.len(), 1, "{shown}");
    assert!(crisis[0].detail.starts_with("urgent"), "{shown}");
    // The weekly check-ins after it still go out.
    let later: Vec<&Line> = lines_of(&lines, "out", "rf-went")
        .into_iter()
        .filter(|l| l.at > lines[k].at)
        .collect();
    assert!(later.len() >= 2, "{shown}");
    let jobs = steps(&runner).await;
    assert_eq!(
        jobs.iter()
            .filter(|j| j.0 == "weekly" && j.2 == "done")
            .count(),
        8,
        "{jobs:#?}"
    );
}

const RESTART: &str = r#"
id = "restart"
spec_version = 1

[[step]]
id = "weekly"
flow = "referral-followup"
anchor = "enrolment"
every = "0 10 * * Mon"
count = 4
if_busy = "interrupt"
catch_up = "skip"
time_point = "weekly"

[[step]]
id = "outcome"
flow = "loneliness"
anchor = "enrolment"
offset = "10d"
at = "10:00"
if_busy = "interrupt"
time_point = "3-month"
"#;

async fn consenting_client(runner: &Runner, id: &str, tz: Tz, lang: &str) -> ClientId {
    let client = ClientId::parse(id).unwrap();
    let now = to_ms(runner.clock.now());
    let new = NewClient {
        id: client.clone(),
        language: Locale::parse(lang).unwrap(),
        time_zone: tz,
        chart_number: None,
        reach: Some((Channel::Simulator, id.to_owned())),
        centre: matters::domain::DEFAULT_CENTRE.into(),
    };
    record::add_client(&runner.db, &new, now, "test")
        .await
        .unwrap();
    record::add_referral(&runner.db, &client, &NewReferral::default(), now, "test")
        .await
        .unwrap();
    // Consent was recorded by the navigator at intake.
    sqlx::query("UPDATE clients SET consent = 'granted' WHERE id = $1")
        .bind(id)
        .execute(runner.db.pool())
        .await
        .unwrap();
    client
}

async fn sent(runner: &Runner, key: &str) -> Vec<DateTime<Utc>> {
    let rows: Vec<i64> = sqlx::query_scalar(
        "SELECT created_at FROM messages WHERE direction = 'out' AND message_key = $1 ORDER BY id",
    )
    .bind(key)
    .fetch_all(runner.db.pool())
    .await
    .unwrap();
    rows.into_iter().map(from_ms).collect()
}

#[tokio::test]
async fn a_crashed_worker_and_downtime_lose_nothing_and_send_nothing_twice() {
    let dir = std::env::temp_dir().join(format!("matters-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/r.db?mode=rwc", dir.display());
    let (first, clock) = build(&url).await;
    let first = with_sequence(first, RESTART);
    clock.set(at(TORONTO, "2026-11-02 09:30"));
    let client = consenting_client(&first, "rosa", TORONTO, "en").await;
    actions::enrol(&first, &client, "restart", "test")
        .await
        .unwrap();

    // 10:00: a worker claims the first check-in and dies before running it.
    clock.set(at(TORONTO, "2026-11-02 10:00"));
    let lease = first.schedule.lease;
    let claimed = schedule::claim(&first.db, clock.now(), lease, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    first.db.close().await;

    // The service restarts at once: the job is still leased, so nobody sends it yet…
    let (second, clock2) = build(&url).await;
    let second = with_sequence(second, RESTART);
    clock2.set(at(TORONTO, "2026-11-02 10:01"));
    assert_eq!(scheduler::tick(&second, 10).await.unwrap().claimed, 0);
    // …and once the lease lapses it is claimed again and sent, once.
    clock2.set(at(TORONTO, "2026-11-02 10:00") + lease + Duration::seconds(1));
    assert_eq!(scheduler::tick(&second, 10).await.unwrap().claimed, 1);
    assert_eq!(scheduler::tick(&second, 10).await.unwrap().claimed, 0);
    assert_eq!(sent(&second, "rf-went").await.len(), 1);
    second.db.close().await;

    // Down from then until 23:00 on Friday the 13th: the Monday check-in of the 9th and the
    // outcome survey of the 12th fell due meanwhile, and so did the question's nudge.
    let (third, clock3) = build(&url).await;
    let third = with_sequence(third, RESTART);
    clock3.set(at(TORONTO, "2026-11-13 23:00"));
    scheduler::tick(&third, 10).await.unwrap();
    let jobs = steps(&third).await;
    let weekly2 = jobs.iter().find(|j| j.0 == "weekly" && j.1 == 1).unwrap();
    assert_eq!(weekly2.2, "skipped", "catch-up: skip: {jobs:#?}");
    assert!(
        weekly2
            .4
            .as_deref()
            .unwrap()
            .starts_with("missed: due Mon 2026-11-09 10:00 EST"),
        "{weekly2:?}"
    );
    let weekly3 = jobs.iter().find(|j| j.0 == "weekly" && j.1 == 2).unwrap();
    assert_eq!(
        weekly3.2, "pending",
        "the next occurrence is planned: {jobs:#?}"
    );
    let outcome = jobs.iter().find(|j| j.0 == "outcome").unwrap();
    assert_eq!(outcome.2, "pending", "catch-up: next window: {jobs:#?}");
    assert!(
        outcome.4.as_deref().unwrap().contains("late"),
        "{outcome:?}"
    );
    // Nothing goes out at 23:00.
    assert_eq!(sent(&third, "loneliness-intro").await.len(), 0);
    assert_eq!(sent(&third, "nudge-gentle").await.len(), 0);
    // 09:00 on Saturday: the outcome survey replaces the check-in still waiting for its answer
    // (if_busy: interrupt), so that question's overdue nudge is not sent at all.
    clock3.set(at(TORONTO, "2026-11-14 09:00"));
    scheduler::tick(&third, 10).await.unwrap();
    scheduler::tick(&third, 10).await.unwrap();
    let nudges = sent(&third, "nudge-gentle").await;
    let intro = sent(&third, "loneliness-intro").await;
    assert_eq!((nudges.len(), intro.len()), (0, 1));
    let timeout: (String, Option<String>) =
        sqlx::query_as("SELECT status, note FROM jobs WHERE kind = 'timeout' AND step_id = 'went'")
            .fetch_one(third.db.pool())
            .await
            .unwrap();
    assert_eq!(timeout.0, "cancelled");
    assert_eq!(local(TORONTO, intro[0]), naive("2026-11-14 09:00"));
    // Monday the 16th and the 23rd: the last two check-ins, then nothing.
    for day in ["2026-11-16 10:00", "2026-11-23 10:00", "2026-11-30 10:00"] {
        clock3.set(at(TORONTO, day));
        scheduler::tick(&third, 10).await.unwrap();
    }
    assert_eq!(sent(&third, "rf-went").await.len(), 3);
    let jobs = steps(&third).await;
    assert_eq!(
        jobs.iter()
            .filter(|j| j.0 == "weekly")
            .map(|j| j.2.as_str())
            .collect::<Vec<_>>(),
        ["done", "skipped", "done", "done"]
    );
    third.db.close().await;
    std::fs::remove_dir_all(dir).unwrap();
}

/// Runs every due job in order until none is left before `until`; returns the fire times.
async fn run_until(runner: &Runner, clock: &ManualClock, until: DateTime<Utc>) {
    loop {
        let next: Option<i64> =
            sqlx::query_scalar("SELECT MIN(due_at) FROM jobs WHERE status = 'pending'")
                .fetch_one(runner.db.pool())
                .await
                .unwrap();
        let Some(next) = next.map(from_ms).filter(|t| *t <= until) else {
            break;
        };
        clock.set(next);
        scheduler::tick(runner, 10).await.unwrap();
    }
}

#[tokio::test]
async fn cron_in_local_time_neither_repeats_the_fall_back_hour_nor_fires_in_the_spring_gap() {
    for (tz, expr, start, want) in [
        (
            TORONTO,
            "30 2 * * *",
            "2027-03-12 12:00",
            [
                "2027-03-13 02:30",
                "2027-03-14 03:30",
                "2027-03-15 02:30",
                "2027-03-16 02:30",
            ],
        ),
        (
            WINNIPEG,
            "30 1 * * *",
            "2026-10-30 12:00",
            [
                "2026-10-31 01:30",
                "2026-11-01 01:30",
                "2026-11-02 01:30",
                "2026-11-03 01:30",
            ],
        ),
    ] {
        let source = format!(
            "id = \"nightly\"\nspec_version = 1\n[[step]]\nid = \"n\"\nflow = \"referral-followup\"\nevery = \"{expr}\"\ncount = 4\nif_busy = \"interrupt\"\n"
        );
        let (runner, clock) = build("sqlite::memory:").await;
        let mut settings = (*runner.schedule).clone();
        settings.open = OpenHours::ALWAYS;
        let runner = with_sequence(
            Runner {
                schedule: Arc::new(settings),
                ..runner
            },
            &source,
        );
        clock.set(at(tz, start));
        let client = consenting_client(&runner, "night-owl", tz, "en").await;
        actions::enrol(&runner, &client, "nightly", "test")
            .await
            .unwrap();
        run_until(&runner, &clock, at(tz, start) + Duration::days(10)).await;
        let went = sent(&runner, "rf-went").await;
        let local_times: Vec<NaiveDateTime> = went.iter().map(|t| local(tz, *t)).collect();
        assert_eq!(
            local_times,
            want.iter().map(|w| naive(w)).collect::<Vec<_>>(),
            "{tz}"
        );
        // Four instants, each a day (23, 24 or 25 hours) after the one before.
        for w in went.windows(2) {
            let gap = (w[1] - w[0]).num_hours();
            assert!((23..=25).contains(&gap), "{tz}: {gap} h");
        }
    }
}

#[tokio::test]
async fn navigators_pause_resume_reschedule_and_cancel_a_follow_up() {
    let (runner, clock) = build("sqlite::memory:").await;
    clock.set(at(TORONTO, "2026-11-02 11:00"));
    let client = consenting_client(&runner, "lee", TORONTO, "en").await;
    let e = actions::enrol(&runner, &client, "light", "navigator-1")
        .await
        .unwrap();
    assert_eq!(e.steps.len(), 5);
    assert_eq!(e.steps[1].when, "Mon 2026-11-16 10:00 EST");
    assert_eq!(e.steps[3].when, "when loneliness-6m ends");
    assert!(matches!(
        actions::enrol(&runner, &client, "light", "navigator-1").await,
        Err(actions::ActionError::AlreadyEnrolled(..))
    ));
    assert!(matches!(
        actions::enrol(&runner, &client, "nope", "navigator-1").await,
        Err(actions::ActionError::UnknownSequence(..))
    ));
    // Consent was given at intake: the consent step is not asked again.
    scheduler::tick(&runner, 10).await.unwrap();
    assert_eq!(sent(&runner, "consent-welcome").await.len(), 0);
    let timeline = actions::timeline(&runner, &client, "intake").await.unwrap();
    let consent = timeline.iter().find(|t| t.step == "consent").unwrap();
    assert_eq!(
        (consent.status.as_str(), consent.note.as_deref()),
        ("skipped", Some("consent already given"))
    );
    // A flow under way: what matters to you, started at intake. Then pause: the check-in does
    // not go out on the 16th.
    runner
        .start_flow(
            &client,
            &FlowId::parse("what-matters").unwrap(),
            None,
            IfBusy::Refuse,
            "intake",
        )
        .await
        .unwrap();
    let paused = actions::pause(&runner, &client, "navigator-1")
        .await
        .unwrap();
    assert!(paused >= 2, "{paused}");
    clock.set(at(TORONTO, "2026-11-16 10:00"));
    scheduler::tick(&runner, 10).await.unwrap();
    assert_eq!(sent(&runner, "rf-went").await.len(), 0, "paused");
    // The flow under way is not the follow-up: its nudge still goes.
    assert_eq!(sent(&runner, "nudge-gentle").await.len(), 1);
    // Resumed on the 17th at 15:00: the check-in is late and goes out in the open window now.
    clock.set(at(TORONTO, "2026-11-17 15:00"));
    actions::resume(&runner, &client, "navigator-1")
        .await
        .unwrap();
    // What matters is unanswered and not stale yet: the check-in waits for it…
    scheduler::tick(&runner, 10).await.unwrap();
    assert_eq!(sent(&runner, "rf-went").await.len(), 0);
    // …until the navigator moves it; then it goes at the new time.
    let (due, _) = actions::reschedule(
        &runner,
        &client,
        "check-in",
        naive("2026-11-18 07:00"),
        "navigator-1",
    )
    .await
    .unwrap();
    assert_eq!(
        local(TORONTO, due),
        naive("2026-11-18 09:00"),
        "kept out of quiet hours"
    );
    assert!(matches!(
        actions::reschedule(&runner, &client, "nope", naive("2026-11-19 10:00"), "n").await,
        Err(actions::ActionError::NoSuchStep(..))
    ));
    let timeline = actions::timeline(&runner, &client, "navigator-1")
        .await
        .unwrap();
    let check_in = timeline.iter().find(|t| t.step == "check-in").unwrap();
    assert_eq!(check_in.when, "Wed 2026-11-18 09:00 EST");
    assert_eq!(check_in.note.as_deref(), Some("rescheduled by navigator-1"));
    let cancelled = actions::cancel(&runner, &client, "moved away", "navigator-1")
        .await
        .unwrap();
    assert_eq!(cancelled, 4);
    clock.set(at(TORONTO, "2027-06-01 10:00"));
    scheduler::tick(&runner, 10).await.unwrap();
    scheduler::tick(&runner, 10).await.unwrap();
    assert_eq!(sent(&runner, "rf-went").await.len(), 0);
    assert_eq!(sent(&runner, "loneliness-intro").await.len(), 0);
    let timeline = actions::timeline(&runner, &client, "navigator-1")
        .await
        .unwrap();
    assert!(
        timeline
            .iter()
            .filter(|t| t.step != "consent")
            .all(|t| t.status == "cancelled"
                && t.note.as_deref() == Some("cancelled by navigator-1: moved away")),
        "{timeline:#?}"
    );
    let actions_audited: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE actor = 'navigator-1' ORDER BY id")
            .fetch_all(runner.db.pool())
            .await
            .unwrap();
    assert_eq!(
        actions_audited,
        [
            "enrol",
            "enrolment-pause",
            "enrolment-resume",
            "step-reschedule",
            "timeline-view",
            "enrolment-cancel",
            "timeline-view"
        ]
    );
}

/// Clients mid-survey whose question timed out a minute ago.
async fn due_nudges(runner: &Runner, n: usize) {
    let loneliness = FlowId::parse("loneliness").unwrap();
    for k in 0..n {
        let c = consenting_client(
            runner,
            &format!("c{k:04}"),
            TORONTO,
            if k % 2 == 0 { "en" } else { "fr" },
        )
        .await;
        runner
            .start_flow(&c, &loneliness, Some("baseline"), IfBusy::Refuse, "test")
            .await
            .unwrap();
    }
}

async fn two_schedulers_claim_each_job_once(url: &str) {
    let (a, clock) = build(url).await;
    let mut small = (*a.schedule).clone();
    small.batch = 7;
    let a = Runner {
        schedule: Arc::new(small.clone()),
        ..a
    };
    clock.set(at(TORONTO, "2026-11-24 13:00"));
    due_nudges(&a, 120).await;
    clock.set(at(TORONTO, "2026-11-26 13:01"));
    // A second process on the same database, with its own pool.
    let (b, clock_b) = build(url).await;
    let b = Runner {
        schedule: Arc::new(small),
        ..b
    };
    clock_b.set(clock.now());
    let (ta, tb) = tokio::join!(
        async {
            let mut n = 0;
            loop {
                let t = scheduler::tick(&a, 1).await.unwrap();
                assert_eq!(t.failed, 0);
                if t.claimed == 0 {
                    break n;
                }
                n += t.claimed;
            }
        },
        async {
            let mut n = 0;
            loop {
                let t = scheduler::tick(&b, 1).await.unwrap();
                assert_eq!(t.failed, 0);
                if t.claimed == 0 {
                    break n;
                }
                n += t.claimed;
            }
        }
    );
    assert_eq!(ta + tb, 120, "{ta} + {tb}");
    let per_client: Vec<i64> = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE message_key = 'nudge-gentle' GROUP BY client_id",
    )
    .fetch_all(a.db.pool())
    .await
    .unwrap();
    assert_eq!(per_client.len(), 120);
    assert!(per_client.iter().all(|n| *n == 1), "{per_client:?}");
    let french: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE message_key = 'nudge-gentle' AND body LIKE 'Petit rappel%'",
    )
    .fetch_one(a.db.pool())
    .await
    .unwrap();
    assert_eq!(french, 60, "each nudge in its client's language");
    let running: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status = 'running'")
        .fetch_one(a.db.pool())
        .await
        .unwrap();
    assert_eq!(running, 0);
    a.db.close().await;
    b.db.close().await;
}

/// A due job is written once, when it has run: the transaction that runs it is the one that
/// took it, so no claim is written before it.
#[tokio::test]
async fn a_due_job_is_written_once_when_it_runs() {
    let (runner, clock) = build("sqlite::memory:").await;
    clock.set(at(TORONTO, "2026-11-24 13:00"));
    due_nudges(&runner, 12).await;
    clock.set(at(TORONTO, "2026-11-26 13:01"));
    let pool = runner.db.pool();
    sqlx::query("CREATE TABLE job_writes (job_id INTEGER NOT NULL)")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "CREATE TRIGGER job_written AFTER UPDATE ON jobs BEGIN INSERT INTO job_writes (job_id) VALUES (NEW.id); END",
    )
    .execute(pool)
    .await
    .unwrap();
    let due: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM jobs WHERE status = 'pending' AND due_at <= $1 ORDER BY id",
    )
    .bind(to_ms(clock.now()))
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(due.len(), 12);
    let t = scheduler::tick(&runner, 10).await.unwrap();
    assert_eq!((t.claimed, t.failed), (12, 0));
    let writes: Vec<(i64, i64)> =
        sqlx::query_as("SELECT job_id, COUNT(*) FROM job_writes GROUP BY job_id ORDER BY job_id")
            .fetch_all(pool)
            .await
            .unwrap();
    let written: Vec<(i64, i64)> = writes
        .into_iter()
        .filter(|(id, _)| due.contains(id))
        .collect();
    assert_eq!(
        written,
        due.iter().map(|id| (*id, 1)).collect::<Vec<_>>(),
        "each due job written once"
    );
    let nudged: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE message_key = 'nudge-gentle'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(nudged, 12);
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE status IN ('pending', 'running') AND due_at <= $1",
    )
    .bind(to_ms(clock.now()))
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(open, 0, "nothing due is left behind");
}

#[tokio::test]
async fn two_schedulers_on_one_sqlite_file_claim_each_due_job_once() {
    let dir = std::env::temp_dir().join(format!("matters-two-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    two_schedulers_claim_each_job_once(&format!("sqlite://{}/two.db?mode=rwc", dir.display()))
        .await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn two_schedulers_on_one_postgres_claim_each_due_job_once() {
    let Some((url, schema, admin)) = postgres().await else {
        return;
    };
    two_schedulers_claim_each_job_once(&url).await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(admin.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn the_standard_sequence_and_stop_on_postgres() {
    let Some((url, schema, admin)) = postgres().await else {
        return;
    };
    let (runner, clock) = build(&url).await;
    let lines = run(
        &runner,
        &clock,
        options("fr", WINNIPEG, "2026-10-19 14:00", 200, "@16 ARRÊT\n"),
    )
    .await
    .unwrap();
    let shown = render(&lines, WINNIPEG);
    assert_eq!(lines_of(&lines, "out", "rf-went").len(), 2, "{shown}");
    let jobs = steps(&runner).await;
    assert!(
        jobs.iter().all(|j| j.2 == "done" || j.2 == "cancelled"),
        "{jobs:#?}"
    );
    assert!(
        jobs.iter().filter(|j| j.2 == "done").count() >= 7,
        "{jobs:#?}"
    );
    runner.db.close().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(admin.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_reply_after_the_task_still_resumes_the_survey() {
    let (runner, clock) = build("sqlite::memory:").await;
    clock.set(at(TORONTO, "2026-11-02 11:00"));
    let client = consenting_client(&runner, "kai", TORONTO, "en").await;
    runner
        .start_flow(
            &client,
            &FlowId::parse("loneliness").unwrap(),
            Some("baseline"),
            IfBusy::Refuse,
            "test",
        )
        .await
        .unwrap();
    run_until(&runner, &clock, at(TORONTO, "2026-11-09 11:00")).await;
    assert_eq!(sent(&runner, "nudge-gentle").await.len(), 1);
    let flags: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM flags WHERE kind = 'no-response'")
        .fetch_one(runner.db.pool())
        .await
        .unwrap();
    assert_eq!(flags, 1, "one task, not one per tick");
    let h = runner
        .receive(&Inbound::new(Channel::Simulator, client, None, "often"))
        .await
        .unwrap();
    assert_eq!(
        h.replies.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["ucla3-left-out"]
    );
}

const BUSY: &str = r#"
id = "busy"
spec_version = 1

[[step]]
id = "survey"
flow = "loneliness"
anchor = "enrolment"

[[step]]
id = "check"
flow = "referral-followup"
anchor = "enrolment"
offset = "1h"
if_busy = "skip"

[[step]]
id = "daily"
flow = "referral-followup"
anchor = "enrolment"
every = "0 10 * * *"
until = "referral-closed"
if_busy = "interrupt"
"#;

#[tokio::test]
async fn a_step_that_skips_when_busy_is_recorded_and_a_closed_referral_ends_a_recurrence() {
    let (runner, clock) = build("sqlite::memory:").await;
    let runner = with_sequence(runner, BUSY);
    clock.set(at(TORONTO, "2026-11-02 10:30"));
    let client = consenting_client(&runner, "mo", TORONTO, "en").await;
    actions::enrol(&runner, &client, "busy", "test")
        .await
        .unwrap();
    scheduler::tick(&runner, 10).await.unwrap();
    assert_eq!(sent(&runner, "loneliness-intro").await.len(), 1);
    // 11:30: the client is still in the survey; this step skips rather than wait.
    clock.set(at(TORONTO, "2026-11-02 11:30"));
    scheduler::tick(&runner, 10).await.unwrap();
    let jobs = steps(&runner).await;
    let check = jobs.iter().find(|j| j.0 == "check").unwrap();
    assert_eq!(
        (check.2.as_str(), check.4.as_deref()),
        ("skipped", Some("the client was in loneliness"))
    );
    assert_eq!(sent(&runner, "rf-went").await.len(), 0);
    // Daily at 10:00 from the next day, interrupting whatever runs, until the referral closes.
    for day in ["2026-11-03 10:00", "2026-11-04 10:00"] {
        clock.set(at(TORONTO, day));
        scheduler::tick(&runner, 10).await.unwrap();
    }
    assert_eq!(sent(&runner, "rf-went").await.len(), 2);
    actions::close_referral(&runner, &client, "goal met", "navigator-1")
        .await
        .unwrap();
    assert!(matches!(
        actions::close_referral(&runner, &client, "again", "navigator-1").await,
        Err(actions::ActionError::Invalid(_))
    ));
    for day in ["2026-11-05 10:00", "2026-11-06 10:00", "2026-11-07 10:00"] {
        clock.set(at(TORONTO, day));
        scheduler::tick(&runner, 10).await.unwrap();
    }
    assert_eq!(sent(&runner, "rf-went").await.len(), 2);
    let jobs = steps(&runner).await;
    let daily: Vec<(&str, Option<&str>)> = jobs
        .iter()
        .filter(|j| j.0 == "daily")
        .map(|j| (j.2.as_str(), j.4.as_deref()))
        .collect();
    assert_eq!(
        daily,
        [
            ("done", Some("interrupted loneliness")),
            ("done", Some("interrupted referral-followup")),
            ("cancelled", Some("the referral is closed"))
        ]
    );
    let pending: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'step' AND status = 'pending'")
            .fetch_one(runner.db.pool())
            .await
            .unwrap();
    assert_eq!(pending, 0);
}

/// The claim reads the due jobs through the partial index, never the whole table: the cost of a
/// tick grows with what is due, not with what is scheduled.
/// The plan of `sql` with `binds`: on Postgres the generic plan, the one a statement gets once
/// it has run a few times.
async fn generic_plan(runner: &Runner, sql: &str, binds: &[i64]) -> Vec<String> {
    let mut conn = runner.db.pool().acquire().await.unwrap();
    let rows = match runner.db.backend() {
        matters::store::Backend::Sqlite => {
            let explain = format!("EXPLAIN QUERY PLAN {sql}");
            let mut q = sqlx::query(&explain);
            for b in binds {
                q = q.bind(*b);
            }
            q.fetch_all(&mut *conn).await.unwrap()
        }
        matters::store::Backend::Postgres => {
            sqlx::query("SET plan_cache_mode = force_generic_plan")
                .execute(&mut *conn)
                .await
                .unwrap();
            let types = vec!["bigint"; binds.len()].join(", ");
            sqlx::query(&format!("PREPARE planned ({types}) AS {sql}"))
                .execute(&mut *conn)
                .await
                .unwrap();
            let args: Vec<String> = binds.iter().map(ToString::to_string).collect();
            let rows = sqlx::query(&format!("EXPLAIN EXECUTE planned ({})", args.join(", ")))
                .fetch_all(&mut *conn)
                .await
                .unwrap();
            for reset in ["DEALLOCATE planned", "RESET plan_cache_mode"] {
                sqlx::query(reset).execute(&mut *conn).await.unwrap();
            }
            rows
        }
    };
    rows.iter()
        .map(|r| {
            let k = r.len() - 1;
            r.try_get::<String, _>(k).unwrap_or_default()
        })
        .collect()
}

async fn claim_uses_the_index(url: &str) {
    let (runner, _clock) = build(url).await;
    let client = consenting_client(&runner, "many", TORONTO, "en").await;
    let series = match runner.db.backend() {
        matters::store::Backend::Sqlite => {
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < 50000)"
        }
        matters::store::Backend::Postgres => "WITH n(i) AS (SELECT generate_series(0, 49999))",
    };
    sqlx::query(&format!(
        "{series} INSERT INTO jobs (client_id, kind, step_id, occurrence, due_at, status, created_at, updated_at) \
         SELECT $1, 'step', 'later', n.i, 1900000000000 + n.i, 'pending', 0, 0 FROM n"
    ))
    .bind(client.as_str())
    .execute(runner.db.pool())
    .await
    .unwrap();
    sqlx::query("ANALYZE")
        .execute(runner.db.pool())
        .await
        .unwrap();
    let sql = schedule::claim_sql(runner.db.backend());
    let explain = match runner.db.backend() {
        matters::store::Backend::Sqlite => format!("EXPLAIN QUERY PLAN {sql}"),
        matters::store::Backend::Postgres => format!("EXPLAIN {sql}"),
    };
    let rows = sqlx::query(&explain)
        .bind(1_i64)
        .bind("token")
        .bind(1_800_000_000_000_i64)
        .bind(500_i64)
        .fetch_all(runner.db.pool())
        .await
        .unwrap();
    let plan: Vec<String> = rows
        .iter()
        .map(|r| {
            let k = r.len() - 1;
            r.try_get::<String, _>(k).unwrap_or_default()
        })
        .collect();
    let text = plan.join("\n");
    assert!(
        text.contains("jobs_due"),
        "the due jobs come from their index:\n{text}"
    );
    assert!(
        !plan
            .iter()
            .any(|l| l.trim() == "SCAN jobs" || l.contains("Seq Scan on jobs")),
        "no scan of every job:\n{text}"
    );
    // The scheduler's own statements, as Postgres plans them once it stops planning for each
    // value (a generic plan): the take, and the idle tick's one look.
    let take = matters::store::jobs::take_sql(runner.db.backend());
    for (what, sql, binds) in [
        ("the take", take.as_str(), &[1_800_000_000_000_i64, 500][..]),
        (
            "the idle look",
            matters::store::jobs::ANY_DUE_SQL,
            &[1_800_000_000_000_i64][..],
        ),
    ] {
        let plan = generic_plan(&runner, sql, binds).await;
        let text = plan.join("\n");
        assert!(text.contains("jobs_due"), "{what} reads jobs_due:\n{text}");
        assert!(
            !plan
                .iter()
                .any(|l| l.trim() == "SCAN jobs" || l.contains("Seq Scan on jobs")),
            "{what} scans no table:\n{text}"
        );
    }
    assert!(
        !matters::store::jobs::any_due(&runner.db, from_ms(1_800_000_000_000))
            .await
            .unwrap()
    );
    // And it claims nothing that is not due.
    let got = schedule::claim(
        &runner.db,
        from_ms(1_800_000_000_000),
        Duration::minutes(5),
        500,
    )
    .await
    .unwrap();
    assert!(got.is_empty());
    runner.db.close().await;
}

#[tokio::test]
async fn the_claim_reads_due_jobs_by_index_on_sqlite() {
    claim_uses_the_index("sqlite::memory:").await;
}

#[tokio::test]
async fn the_claim_reads_due_jobs_by_index_on_postgres() {
    let Some((url, schema, admin)) = postgres().await else {
        return;
    };
    claim_uses_the_index(&url).await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(admin.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_job_that_keeps_failing_is_marked_failed_and_the_navigator_told() {
    let (runner, clock) = build("sqlite::memory:").await;
    clock.set(at(TORONTO, "2026-11-02 11:00"));
    let client = consenting_client(&runner, "nia", TORONTO, "en").await;
    // A session pinned to a flow revision nobody has any more: its timeout cannot run.
    let now = to_ms(clock.now());
    let sid: i64 = sqlx::query_scalar(
        "INSERT INTO sessions (client_id, flow_id, revision, state, status, started_at, updated_at) \
         VALUES ($1, 'loneliness', 'gone', '{\"flow\":\"loneliness\",\"revision\":\"gone\",\"locale\":\"en\",\"awaiting\":\"companionship\"}', 'active', $2, $2) RETURNING id",
    )
    .bind(client.as_str())
    .bind(now)
    .fetch_one(runner.db.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO jobs (client_id, session_id, kind, step_id, due_at, status, created_at, updated_at) \
         VALUES ($1, $2, 'timeout', 'companionship', $3, 'pending', $3, $3)",
    )
    .bind(client.as_str())
    .bind(sid)
    .bind(now)
    .execute(runner.db.pool())
    .await
    .unwrap();
    let lease = runner.schedule.lease;
    for attempt in 1..=matters::runner::GIVE_UP_AFTER {
        let t = scheduler::tick(&runner, 10).await.unwrap();
        assert_eq!((t.claimed, t.failed), (1, 1), "attempt {attempt}");
        let status: String = sqlx::query_scalar("SELECT status FROM jobs")
            .fetch_one(runner.db.pool())
            .await
            .unwrap();
        let want = if attempt < matters::runner::GIVE_UP_AFTER {
            "running"
        } else {
            "failed"
        };
        assert_eq!(status, want, "attempt {attempt}");
        clock.advance(lease + Duration::seconds(1));
    }
    assert_eq!(scheduler::tick(&runner, 10).await.unwrap().claimed, 0);
    let note: String = sqlx::query_scalar("SELECT note FROM jobs")
        .fetch_one(runner.db.pool())
        .await
        .unwrap();
    assert!(note.contains("revision gone"), "{note}");
    let task: String = sqlx::query_scalar(
        "SELECT note FROM flags WHERE kind = 'scheduling-failed' AND status = 'open'",
    )
    .fetch_one(runner.db.pool())
    .await
    .unwrap();
    assert!(task.starts_with("companionship could not run: "), "{task}");
}

#[tokio::test]
async fn a_flow_started_now_stands_in_for_its_step_and_consent_is_never_asked_twice() {
    let (runner, clock) = build("sqlite::memory:").await;
    clock.set(at(TORONTO, "2026-11-02 11:00"));
    let client = consenting_client(&runner, "noor", TORONTO, "en").await;
    sqlx::query("UPDATE clients SET consent = 'unknown' WHERE id = 'noor'")
        .execute(runner.db.pool())
        .await
        .unwrap();
    actions::enrol(&runner, &client, "standard", "navigator-1")
        .await
        .unwrap();
    // The navigator, with the client beside them, starts the consent flow at once.
    runner
        .start_flow(
            &client,
            &FlowId::parse("consent").unwrap(),
            None,
            IfBusy::Refuse,
            "staff:nora",
        )
        .await
        .unwrap();
    scheduler::tick(&runner, 10).await.unwrap();
    assert_eq!(
        sent(&runner, "consent-welcome").await.len(),
        1,
        "the enrolled consent step did not ask again"
    );
    let consent = steps(&runner)
        .await
        .into_iter()
        .find(|s| s.0 == "consent")
        .unwrap();
    assert_eq!(
        (consent.2.as_str(), consent.4.as_deref()),
        ("done", Some("started early by staff:nora"))
    );
    // The client agrees; the steps that follow consent go on as planned.
    for reply in ["yes", "English", "1"] {
        runner
            .receive(&Inbound::new(
                Channel::Simulator,
                client.clone(),
                None,
                reply,
            ))
            .await
            .unwrap();
    }
    scheduler::tick(&runner, 10).await.unwrap();
    assert_eq!(sent(&runner, "loneliness-intro").await.len(), 1);
    // Starting a survey ad hoc stands in for no step: the baseline step is not the same survey.
    let before = steps(&runner).await;
    runner
        .start_flow(
            &client,
            &FlowId::parse("wellbeing").unwrap(),
            None,
            IfBusy::Replace,
            "staff:nora",
        )
        .await
        .unwrap();
    let after = steps(&runner).await;
    assert_eq!(
        before.iter().filter(|s| s.2 == "done").count(),
        after.iter().filter(|s| s.2 == "done").count()
    );
    // A second sequence does not ask for consent again: it was given.
    actions::enrol(&runner, &client, "light", "navigator-1")
        .await
        .unwrap();
    clock.advance(Duration::minutes(1));
    scheduler::tick(&runner, 10).await.unwrap();
    assert_eq!(sent(&runner, "consent-welcome").await.len(), 1);
    let skipped: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT j.note FROM jobs j JOIN enrolments e ON e.id = j.enrolment_id \
         WHERE e.sequence_id = 'light' AND j.step_id = 'consent'",
    )
    .fetch_all(runner.db.pool())
    .await
    .unwrap();
    assert_eq!(skipped, [Some("consent already given".to_owned())]);
}

#[tokio::test]
async fn an_evening_client_is_texted_between_17_and_20_across_the_whole_standard_sequence() {
    // Enrolled on a Monday afternoon; she agrees, in English, and says evenings suit her.
    let (runner, lines, shown) = simulated(
        "en",
        TORONTO,
        "2026-10-19 14:00",
        200,
        "yes\nEnglish\nevening\n",
    )
    .await;
    let best: Option<String> = sqlx::query_scalar("SELECT best_time FROM clients")
        .fetch_one(runner.db.pool())
        .await
        .unwrap();
    assert_eq!(best.as_deref(), Some("evening"));
    // Everything after the consent conversation (where she said so) goes out in her evening.
    let thanks = lines_of(&lines, "out", "consent-thanks")[0].at;
    let after: Vec<&Line> = lines
        .iter()
        .filter(|l| l.at > thanks && matches!(l.kind, "out" | "nudge" | "start"))
        .collect();
    assert!(after.len() > 40, "{shown}");
    for l in &after {
        let h = local(TORONTO, l.at).hour();
        assert!(
            (17..20).contains(&h),
            "{} at {}\n{shown}",
            l.what,
            local(TORONTO, l.at)
        );
    }
    // The Monday 10:00 check-in goes out on Monday evening, eight times.
    let jobs = steps(&runner).await;
    let weekly: Vec<NaiveDateTime> = jobs
        .iter()
        .filter(|j| j.0 == "weekly")
        .map(|j| local(TORONTO, from_ms(j.3.unwrap())))
        .collect();
    assert_eq!(weekly.len(), 8, "{jobs:#?}");
    for w in &weekly {
        assert_eq!(
            (w.weekday(), w.hour(), w.minute()),
            (Weekday::Mon, 17, 0),
            "{shown}"
        );
    }
    // The six-month survey: on its day, in the evening.
    let six = jobs.iter().find(|j| j.0 == "loneliness-6m").unwrap();
    assert_eq!(
        local(TORONTO, from_ms(six.3.unwrap())),
        naive("2027-04-19 17:00")
    );
    assert!(jobs.iter().all(|j| j.2 == "done"), "{jobs:#?}");
}

#[tokio::test]
async fn a_navigator_changes_the_best_time_and_the_steps_still_to_come_move() {
    let (runner, clock) = build("sqlite::memory:").await;
    clock.set(at(TORONTO, "2026-10-19 10:00"));
    let id = consenting_client(&runner, "amelie", TORONTO, "en").await;
    actions::enrol(&runner, &id, "standard", "staff:nora")
        .await
        .unwrap();
    let due = |step: &'static str| {
        let runner = &runner;
        async move {
            let ms: i64 = sqlx::query_scalar(
                "SELECT due_at FROM jobs WHERE step_id = $1 AND status = 'pending' ORDER BY occurrence LIMIT 1",
            )
            .bind(step)
            .fetch_one(runner.db.pool())
            .await
            .unwrap();
            local(TORONTO, from_ms(ms))
        }
    };
    assert_eq!(due("what-matters").await, naive("2026-10-21 10:00"));
    let moved = enrolment::best_time::set_best_time(&runner, &id, "afternoon", "staff:nora")
        .await
        .unwrap();
    assert!(moved >= 2, "{moved}");
    assert_eq!(due("what-matters").await, naive("2026-10-21 12:00"));
    assert_eq!(due("weekly").await, naive("2026-10-19 12:00"));
    // A morning client's 10:00 step stays; an afternoon step would come back to the morning.
    enrolment::best_time::set_best_time(&runner, &id, "morning", "staff:nora")
        .await
        .unwrap();
    assert_eq!(due("what-matters").await, naive("2026-10-21 10:00"));
    // Any time: the sequence's own times.
    enrolment::best_time::set_best_time(&runner, &id, "any-time", "staff:nora")
        .await
        .unwrap();
    assert_eq!(due("loneliness-3m").await, naive("2027-01-19 10:00"));
    assert!(
        enrolment::best_time::set_best_time(&runner, &id, "midnight", "staff:nora")
            .await
            .is_err()
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'record-change' AND detail = 'field client.best_time'",
    )
    .fetch_one(runner.db.pool())
    .await
    .unwrap();
    assert_eq!(audited, 3);
}

/// `(step, status, note)` of the weekly check-ins, in order.
async fn weekly_steps(runner: &Runner) -> Vec<(i64, String, Option<String>)> {
    sqlx::query_as(
        "SELECT occurrence, status, note FROM jobs WHERE step_id = 'weekly' ORDER BY occurrence",
    )
    .fetch_all(runner.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_client_who_says_in_week_two_she_will_not_go_is_not_asked_again_and_the_navigator_has_the_task()
 {
    let (runner, lines, shown) = simulated(
        "en",
        TORONTO,
        "2026-10-19 14:00",
        200,
        "yes\nEnglish\nevening\n[referral-followup/went #2] no\n[referral-followup/offer-call] no\n",
    )
    .await;
    // Asked twice, never again: she said no in week 2.
    assert_eq!(lines_of(&lines, "out", "rf-went").len(), 2, "{shown}");
    // What got in the way, and a call offered.
    assert_eq!(
        lines_of(&lines, "out", "referral-followup[weekly]/wm-callback").len(),
        1,
        "{shown}"
    );
    let uptake: String = sqlx::query_scalar("SELECT uptake FROM referrals")
        .fetch_one(runner.db.pool())
        .await
        .unwrap();
    assert_eq!(uptake, "declined");
    let weekly = weekly_steps(&runner).await;
    assert_eq!(
        weekly.len(),
        3,
        "the third, due when she said no, is the last: {weekly:?}"
    );
    assert_eq!(
        (weekly[0].1.as_str(), weekly[1].1.as_str()),
        ("done", "done")
    );
    assert_eq!(weekly[2].1, "cancelled");
    assert_eq!(
        weekly[2].2.as_deref(),
        Some("stopped: the referral's uptake is declined")
    );
    let task: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM flags WHERE kind = 'not-continuing' AND status = 'open'",
    )
    .fetch_one(runner.db.pool())
    .await
    .unwrap();
    assert_eq!(task, 1);
    // The rest of the sequence goes on: the outcome surveys at three and six months.
    let jobs = steps(&runner).await;
    for s in ["loneliness-3m", "loneliness-6m", "belonging-6m"] {
        assert!(
            jobs.iter().any(|j| j.0 == s && j.2 == "done"),
            "{s}: {jobs:#?}"
        );
    }
}

#[tokio::test]
async fn an_evening_client_who_drops_out_in_week_two_gets_no_more_check_ins_and_a_call() {
    let (runner, lines, shown) = simulated(
        "en",
        TORONTO,
        "2026-10-19 14:00",
        120,
        "yes\nEnglish\nevening\n[what-matters/callback] no\n[referral-followup/keep-going #2] no\n",
    )
    .await;
    println!("{shown}");
    assert_eq!(lines_of(&lines, "out", "rf-went").len(), 2, "{shown}");
    let uptake: String = sqlx::query_scalar("SELECT uptake FROM referrals")
        .fetch_one(runner.db.pool())
        .await
        .unwrap();
    assert_eq!(uptake, "dropped-out");
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM flags WHERE status = 'open' ORDER BY id")
            .fetch_all(runner.db.pool())
            .await
            .unwrap();
    assert_eq!(kinds, ["not-continuing", "callback"], "{shown}");
    assert!(
        weekly_steps(&runner)
            .await
            .iter()
            .skip(2)
            .all(|w| w.1 == "cancelled"),
        "{shown}"
    );
    // Everything after consent, in her evening.
    let thanks = lines_of(&lines, "out", "consent-thanks")[0].at;
    for l in lines.iter().filter(|l| l.at > thanks && l.kind == "out") {
        assert!((17..20).contains(&local(TORONTO, l.at).hour()), "{shown}");
    }
}

#[tokio::test]
async fn a_navigator_recording_a_declined_referral_stops_the_check_ins_too() {
    let (runner, clock) = build("sqlite::memory:").await;
    clock.set(at(TORONTO, "2026-10-19 14:00"));
    let id = consenting_client(&runner, "amelie", TORONTO, "en").await;
    actions::enrol(&runner, &id, "standard", "staff:nora")
        .await
        .unwrap();
    let u = matters::runner::casework::ReferralUpdate {
        uptake: "declined".into(),
        ..Default::default()
    };
    matters::runner::casework::update_referral(&runner, &id, &u, "staff:nora")
        .await
        .unwrap();
    let weekly = weekly_steps(&runner).await;
    assert_eq!(weekly.len(), 1, "{weekly:?}");
    assert_eq!(weekly[0].1, "cancelled");
    // Other steps go on.
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE step_id = 'loneliness-3m' AND status = 'pending'",
    )
    .fetch_one(runner.db.pool())
    .await
    .unwrap();
    assert_eq!(pending, 1);
    // A step that says nothing of uptake in its own sequence is not stopped; a bad stop_when is
    // refused with its reason.
    let bad = "id = \"bad\"\nspec_version = 1\n[[step]]\nid = \"a\"\nflow = \"loneliness\"\nstop_when = [\"maybe\"]\n";
    let err = sequence::parse(Path::new("bad.toml"), bad, &runner.flows).unwrap_err();
    assert!(
        err[0]
            .to_string()
            .contains("stop_when \"maybe\" is not an uptake"),
        "{err:?}"
    );
}

/// `(step, status)` of every step job, in order of due time.
async fn step_statuses(runner: &Runner) -> Vec<(String, String)> {
    sqlx::query_as("SELECT step_id, status FROM jobs WHERE kind = 'step' ORDER BY due_at, id")
        .fetch_all(runner.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn each_level_of_support_runs_its_sequence() {
    use matters::enrolment::support;
    let mut seen = Vec::new();
    for (level, sequence) in [
        ("signposting", "signposting"),
        ("light", "light"),
        ("medium", "standard"),
        ("holistic", "holistic"),
    ] {
        let (runner, clock) = build("sqlite::memory:").await;
        clock.set(at(TORONTO, "2026-10-19 14:00"));
        let id = consenting_client(&runner, "amelie", TORONTO, "en").await;
        let change = support::plan(&runner, &id, level).await.unwrap();
        assert_eq!(change.target, sequence);
        assert!(!change.already && change.replaces.is_empty());
        let e = support::apply(&runner, &id, &change, "staff:nora")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(e.sequence, sequence);
        run_until(&runner, &clock, at(TORONTO, "2027-05-01 00:00")).await;
        let jobs = step_statuses(&runner).await;
        let done = |step: &str| jobs.iter().filter(|j| j.0 == step && j.1 == "done").count();
        let flags = |kind: &'static str| {
            let runner = &runner;
            async move {
                sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM flags WHERE kind = $1")
                    .bind(kind)
                    .fetch_one(runner.db.pool())
                    .await
                    .unwrap()
            }
        };
        let said = |key: &'static str| {
            let runner = &runner;
            async move {
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM messages WHERE direction = 'out' AND message_key = $1",
                )
                .bind(key)
                .fetch_one(runner.db.pool())
                .await
                .unwrap()
            }
        };
        match level {
            "signposting" => {
                // The program's details and one check-in; no survey.
                assert_eq!(said("sp-details").await, 1, "{jobs:?}");
                assert_eq!(done("check-in"), 1, "{jobs:?}");
                assert_eq!(said("ucla3-companionship").await, 0);
                assert_eq!(jobs.len(), 3, "{jobs:?}");
            }
            "light" => {
                assert_eq!(done("check-in"), 1, "{jobs:?}");
                assert_eq!(done("loneliness-6m"), 1, "{jobs:?}");
                assert_eq!(said("sp-details").await, 0);
                assert_eq!(said("hat-how").await, 0);
            }
            "medium" => {
                assert_eq!(done("weekly"), 8, "{jobs:?}");
                assert_eq!(done("loneliness-3m"), 1, "{jobs:?}");
                assert_eq!(said("hat-how").await, 0);
                assert_eq!(flags("navigator-call").await, 0);
            }
            "holistic" => {
                // The standard follow-up, plus every other Wednesday and a monthly call task.
                assert_eq!(done("weekly"), 8, "{jobs:?}");
                assert_eq!(done("loneliness-6m"), 1, "{jobs:?}");
                assert_eq!(done("how-are-things"), 12, "{jobs:?}");
                assert_eq!(done("navigator-call"), 6, "{jobs:?}");
                assert_eq!(flags("navigator-call").await, 6);
                let weds: Vec<i64> = sqlx::query_scalar(
                    "SELECT planned_at FROM jobs WHERE step_id = 'how-are-things' AND status = 'done' ORDER BY planned_at",
                )
                .fetch_all(runner.db.pool())
                .await
                .unwrap();
                for pair in weds.windows(2) {
                    let (a, b) = (
                        local(TORONTO, from_ms(pair[0])),
                        local(TORONTO, from_ms(pair[1])),
                    );
                    assert_eq!((b.date() - a.date()).num_days(), 14, "fortnightly: {a} {b}");
                    assert_eq!((b.weekday(), b.hour()), (Weekday::Wed, 10));
                }
                // The call is the navigator's task: nothing about it went to the client.
                assert_eq!(
                    sqlx::query_scalar::<_, i64>(
                        "SELECT COUNT(*) FROM sessions WHERE flow_id = 'navigator-call'"
                    )
                    .fetch_one(runner.db.pool())
                    .await
                    .unwrap(),
                    0
                );
            }
            _ => unreachable!(),
        }
        seen.push(level);
    }
    assert_eq!(seen.len(), 4);
}

#[tokio::test]
async fn changing_the_level_ends_the_old_follow_up_and_enrols_the_new_one() {
    use matters::enrolment::support;
    let (runner, clock) = build("sqlite::memory:").await;
    clock.set(at(TORONTO, "2026-10-19 14:00"));
    let id = consenting_client(&runner, "amelie", TORONTO, "en").await;
    let medium = support::plan(&runner, &id, "medium").await.unwrap();
    support::apply(&runner, &id, &medium, "staff:nora")
        .await
        .unwrap();
    // The same level again: nothing to do.
    let again = support::plan(&runner, &id, "medium").await.unwrap();
    assert!(again.already);
    assert!(
        support::apply(&runner, &id, &again, "staff:nora")
            .await
            .unwrap()
            .is_none()
    );
    // Holistic: the standard enrolment ends, its steps to come are cancelled with the reason.
    let holistic = support::plan(&runner, &id, "holistic").await.unwrap();
    assert_eq!(holistic.replaces.len(), 1);
    assert!(holistic.cancels() > 5, "{holistic:?}");
    support::apply(&runner, &id, &holistic, "staff:nora")
        .await
        .unwrap();
    let enrolments: Vec<(String, String)> =
        sqlx::query_as("SELECT sequence_id, status FROM enrolments ORDER BY id")
            .fetch_all(runner.db.pool())
            .await
            .unwrap();
    assert_eq!(
        enrolments,
        [
            ("standard".to_owned(), "cancelled".to_owned()),
            ("holistic".to_owned(), "active".to_owned())
        ]
    );
    let notes: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT note FROM jobs j JOIN enrolments e ON e.id = j.enrolment_id WHERE e.sequence_id = 'standard'",
    )
    .fetch_all(runner.db.pool())
    .await
    .unwrap();
    assert_eq!(notes, ["replaced: the level of support is now holistic"]);
    assert!(support::plan(&runner, &id, "extreme").await.is_err());
}

#[tokio::test]
async fn a_sequence_follows_up_one_referral_and_its_scores_carry_that_referral() {
    let (runner, clock) = build("sqlite::memory:").await;
    let runner = with_sequence(
        runner,
        "id = \"measure\"\nspec_version = 1\n\n[[step]]\nid = \"lonely\"\nflow = \"loneliness\"\nanchor = \"enrolment\"\ntime_point = \"baseline\"\n",
    );
    clock.set(at(TORONTO, "2026-11-02 11:00"));
    let client = consenting_client(&runner, "rosa", TORONTO, "en").await;
    let first: i64 = sqlx::query_scalar("SELECT id FROM referrals WHERE client_id = 'rosa'")
        .fetch_one(runner.db.pool())
        .await
        .unwrap();
    // A second referral, later: the client's latest open one.
    let second = record::add_referral(
        &runner.db,
        &client,
        &NewReferral::default(),
        to_ms(clock.now()),
        "test",
    )
    .await
    .unwrap();
    assert!(second > first);
    // The navigator enrols her to follow up the first referral.
    let e = actions::enrol_for(&runner, &client, "measure", Some(first), "navigator-1")
        .await
        .unwrap();
    // The same sequence may follow up the other referral too; not the same one twice.
    assert!(matches!(
        actions::enrol_for(&runner, &client, "measure", Some(first), "navigator-1").await,
        Err(actions::ActionError::AlreadyEnrolled(..))
    ));
    let other = actions::enrol_for(&runner, &client, "measure", Some(second), "navigator-1")
        .await
        .unwrap();
    assert_ne!(e.enrolment, other.enrolment);
    // Not a referral she does not have.
    assert!(matches!(
        actions::enrol_for(
            &runner,
            &client,
            "measure",
            Some(second + 100),
            "navigator-1"
        )
        .await,
        Err(actions::ActionError::Invalid(_))
    ));
    let of: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT id, referral_id FROM enrolments ORDER BY id")
            .fetch_all(runner.db.pool())
            .await
            .unwrap();
    assert_eq!(
        of,
        vec![(e.enrolment, Some(first)), (other.enrolment, Some(second))]
    );
    // The first one's step runs (the other waits for it: one conversation at a time).
    scheduler::tick(&runner, 1).await.unwrap();
    let session: (i64, Option<i64>) = sqlx::query_as(
        "SELECT id, referral_id FROM sessions WHERE client_id = 'rosa' AND status = 'active'",
    )
    .fetch_one(runner.db.pool())
    .await
    .unwrap();
    assert_eq!(
        session.1,
        Some(first),
        "the session follows up the first referral"
    );
    for reply in ["often", "often", "some of the time", "never"] {
        runner
            .receive(&Inbound::new(
                Channel::Simulator,
                client.clone(),
                None,
                reply,
            ))
            .await
            .unwrap();
    }
    let scores: Vec<(String, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT instrument, total, referral_id FROM scores WHERE client_id = 'rosa' ORDER BY id",
    )
    .fetch_all(runner.db.pool())
    .await
    .unwrap();
    let ucla = scores
        .iter()
        .find(|s| s.0 == "ucla3")
        .expect("a UCLA-3 score");
    assert_eq!(ucla.1, Some(8));
    assert!(
        scores.iter().all(|s| s.2 == Some(first)),
        "every score carries the referral it measures: {scores:?}"
    );
}

#[tokio::test]
async fn a_scheduled_goal_check_in_covers_each_active_goal_and_is_skipped_without_one() {
    let (runner, clock) = build("sqlite::memory:").await;
    let runner = with_sequence(
        runner,
        r#"
id = "goals"
spec_version = 1

[[step]]
id = "check-in"
flow = "goal-checkin"
anchor = "enrolment"
offset = "1d"
at = "10:00"
"#,
    );
    let with = consenting_client(&runner, "with-goals", TORONTO, "fr").await;
    let without = consenting_client(&runner, "without-goals", TORONTO, "en").await;
    let now = to_ms(runner.clock.now());
    for (text, status) in [
        ("Aller au café le mardi", "active"),
        ("Appeler ma fille", "active"),
        ("Old goal", "dropped"),
    ] {
        let g = matters::store::goals::add(
            &runner.db,
            &with,
            &matters::store::goals::NewGoal {
                text: text.into(),
                ..Default::default()
            },
            "test",
            now,
        )
        .await
        .unwrap();
        if status == "dropped" {
            matters::store::goals::close(&runner.db, &with, g, "dropped", "test", now)
                .await
                .unwrap();
        }
    }
    for c in [&with, &without] {
        actions::enrol(&runner, c, "goals", "test").await.unwrap();
    }
    run_until(&runner, &clock, at(TORONTO, "2026-01-03 00:00")).await;
    let note: Option<String> = sqlx::query_scalar(
        "SELECT note FROM jobs WHERE client_id = 'without-goals' AND step_id = 'check-in'",
    )
    .fetch_one(runner.db.pool())
    .await
    .unwrap();
    assert_eq!(note.as_deref(), Some("the client has no active goal"));
    let asked = |who: &'static str| {
        let db = runner.db.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT body FROM messages WHERE client_id = $1 AND message_key = 'gc-rating' ORDER BY id",
            )
            .bind(who)
            .fetch_all(db.pool())
            .await
            .unwrap()
        }
    };
    assert!(asked("without-goals").await.is_empty());
    let first = asked("with-goals").await;
    assert_eq!(first.len(), 1);
    assert!(first[0].contains("\"Aller au café le mardi\""), "{first:?}");
    // The client answers; the second goal's check-in follows at once, and the dropped one never.
    for reply in ["6", "non", "8", "non"] {
        let m = Inbound::new(Channel::Simulator, with.clone(), None, reply);
        runner.receive(&m).await.unwrap();
    }
    let all = asked("with-goals").await;
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all[1].contains("\"Appeler ma fille\""), "{all:?}");
    let goals = matters::store::goals::of_client(&runner.db, "with-goals")
        .await
        .unwrap();
    let latest: Vec<Option<i64>> = goals
        .iter()
        .map(|g| g.ratings.last().map(|r| r.rating))
        .collect();
    assert_eq!(latest, vec![Some(6), Some(8), None]);
}
