//! Transcript tests: files that script a conversation — what the client types, what the bot must
//! say, what the record must then hold — run through the whole runner on a throwaway database
//! and a virtual clock. `matters flows test` and `cargo test` both run them.
//!
//! ```text
//! flow: loneliness          # the flow started first
//! lang: fr                  # the client's language (enabled for the run if it is not)
//! languages: en, fr, ar     # optional: the languages enabled, in order
//! program: Marche du mardi  # optional: the program they were referred to
//! goals: Walk to church | Call my sister   # optional: their active goals, in their words
//! < @loneliness-intro       # the bot's next message comes from this Fluent id
//! < ~9-8-8                  # … contains this text
//! & ~911                    # and the same message also contains this
//! > parfois                 # the client replies
//! > (timeout)               # the waiting question's timeout fires
//! > (start wellbeing)       # a navigator starts another flow
//! = answer companionship some-of-the-time 2
//! = answer matters "free text, as typed"
//! = status companionship skipped
//! = score ucla3 8           # or: incomplete, or a category
//! = flag crisis urgent      # = no-flag crisis
//! = goal-rating 1 7          # the first goal's latest rating
//! = consent revoked         # = language fr, = field client.best_time morning, = session stopped
//! ```

use crate::clock::{Clock, ManualClock, to_ms};
use crate::config::Config;
use crate::domain::{Channel, ClientId, FlowId, Locale};
use crate::runner::{IfBusy, Inbound, Outbound, Runner};
use crate::store::record::{self, NewClient, NewReferral, Record};
use chrono::{DateTime, Duration};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The outcome of running transcripts.
#[derive(Debug, Default)]
pub struct Report {
    pub passed: usize,
    pub failures: Vec<String>,
}

/// Runs every `*.txt` under `dir`, each on its own in-memory database.
pub async fn run_dir(cfg: &Config, dir: &Path) -> anyhow::Result<Report> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let mut report = Report::default();
    for f in files {
        match run_file(cfg, &f).await {
            Ok(()) => report.passed += 1,
            Err(e) => report.failures.push(e),
        }
    }
    Ok(report)
}

struct Run {
    file: PathBuf,
    runner: Runner,
    clock: ManualClock,
    client: ClientId,
    pending: VecDeque<Outbound>,
    /// The message the last `<` line took, which `&` lines check further.
    last: Option<Outbound>,
}

impl Run {
    fn fail(&self, line: usize, msg: impl std::fmt::Display) -> String {
        format!("{}:{line}: {msg}", self.file.display())
    }

    fn take(
        &mut self,
        h: Result<crate::runner::Handled, crate::runner::RunError>,
        line: usize,
    ) -> Result<(), String> {
        let h = h.map_err(|e| self.fail(line, e))?;
        self.pending.extend(h.replies);
        Ok(())
    }

    fn all_said(&self, line: usize) -> Result<(), String> {
        match self.pending.front() {
            Some(m) => Err(self.fail(line, format!("the bot also said [{}] {:?}", m.key, m.text))),
            None => Ok(()),
        }
    }

    async fn record(&self, line: usize) -> Result<Record, String> {
        record::read(
            &self.runner.db,
            &self.client,
            "transcript",
            to_ms(self.clock.now()),
        )
        .await
        .map_err(|e| self.fail(line, e))?
        .ok_or_else(|| self.fail(line, "the client has no record"))
    }
}

/// Runs one transcript file; the error names the file and line of the first failure.
pub async fn run_file(cfg: &Config, file: &Path) -> Result<(), String> {
    let source = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let fail = |line: usize, m: String| format!("{}:{line}: {m}", file.display());
    let mut header = std::collections::BTreeMap::new();
    let mut body = Vec::new();
    for (i, raw) in source.lines().enumerate() {
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if body.is_empty()
            && let Some((k, v)) = trimmed.split_once(':')
            && ["flow", "lang", "languages", "program", "goals", "time_zone"].contains(&k.trim())
        {
            header.insert(k.trim().to_owned(), v.trim().to_owned());
            continue;
        }
        body.push((i + 1, trimmed.to_owned()));
    }
    let flow = header
        .get("flow")
        .ok_or_else(|| fail(1, "no `flow:` header".into()))?;
    let flow = FlowId::parse(flow).map_err(|e| fail(1, e.to_string()))?;
    let lang = Locale::parse(header.get("lang").map_or("en", String::as_str))
        .map_err(|e| fail(1, e.to_string()))?;

    let mut cfg = cfg.clone();
    cfg.database_url = "sqlite::memory:".into();
    if let Some(list) = header.get("languages") {
        cfg.languages = list
            .split(',')
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect();
    }
    // A transcript in a draft language runs with it turned on, as a centre would.
    if !cfg.languages.iter().any(|l| l == lang.as_str()) {
        cfg.languages.push(lang.to_string());
    }
    // A Monday afternoon in Toronto, so nothing depends on the day the tests run.
    let start = DateTime::parse_from_rfc3339("2026-01-05T15:00:00Z")
        .map_err(|e| e.to_string())?
        .to_utc();
    let clock = ManualClock::new(start);
    let runner = crate::app::build(&cfg, Arc::new(clock.clone()))
        .await
        .map_err(|e| fail(1, e.to_string()))?;
    let client = ClientId::parse("transcript-client").map_err(|e| e.to_string())?;
    let tz = match header.get("time_zone") {
        Some(z) => z
            .parse()
            .map_err(|_| fail(1, format!("bad time_zone {z}")))?,
        None => runner.centre.time_zone,
    };
    let now = to_ms(start);
    let new = NewClient {
        id: client.clone(),
        language: lang,
        time_zone: tz,
        chart_number: None,
        reach: Some((Channel::Simulator, "transcript".into())),
        centre: crate::domain::DEFAULT_CENTRE.into(),
    };
    record::add_client(&runner.db, &new, now, "transcript")
        .await
        .map_err(|e| fail(1, e.to_string()))?;
    if let Some(p) = header.get("program") {
        let r = NewReferral {
            program: Some(p.clone()),
            ..NewReferral::default()
        };
        record::add_referral(&runner.db, &client, &r, now, "transcript")
            .await
            .map_err(|e| fail(1, e.to_string()))?;
    }
    for g in header
        .get("goals")
        .map(|g| {
            g.split('|')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .collect()
        })
        .unwrap_or_else(Vec::new)
    {
        let goal = crate::store::goals::NewGoal {
            text: g.to_owned(),
            ..Default::default()
        };
        crate::store::goals::add(&runner.db, &client, &goal, "transcript", now)
            .await
            .map_err(|e| fail(1, e.to_string()))?;
    }
    let mut run = Run {
        file: file.to_path_buf(),
        runner,
        clock,
        client,
        pending: VecDeque::new(),
        last: None,
    };
    let h = run
        .runner
        .start_flow(
            &run.client,
            &flow,
            Some("baseline"),
            IfBusy::Refuse,
            "transcript",
        )
        .await;
    run.take(h, 1)?;
    for (n, line) in body {
        step(&mut run, n, &line).await?;
    }
    run.all_said(source.lines().count())?;
    run.runner.db.close().await;
    Ok(())
}

async fn step(run: &mut Run, n: usize, line: &str) -> Result<(), String> {
    if let Some(said) = line.strip_prefix('>') {
        run.all_said(n)?;
        let said = said.trim();
        // Each reply comes a minute after the last, on the virtual clock.
        run.clock.advance(Duration::minutes(1));
        if said == "(timeout)" {
            let h = run.runner.fire_timeout(&run.client).await;
            return run.take(h, n);
        }
        if let Some(f) = said
            .strip_prefix("(start ")
            .and_then(|s| s.strip_suffix(')'))
        {
            let flow = FlowId::parse(f).map_err(|e| run.fail(n, e))?;
            let h = run
                .runner
                .start_flow(&run.client, &flow, None, IfBusy::Replace, "transcript")
                .await;
            return run.take(h, n);
        }
        let inbound = Inbound::new(Channel::Simulator, run.client.clone(), None, said);
        let h = run.runner.receive(&inbound).await;
        return run.take(h, n);
    }
    let same = line.starts_with('&');
    if let Some(expect) = line.strip_prefix('<').or_else(|| line.strip_prefix('&')) {
        let expect = expect.trim();
        let m = if same {
            run.last
                .clone()
                .ok_or_else(|| run.fail(n, "`&` checks the message before it, and there is none"))?
        } else {
            let Some(m) = run.pending.pop_front() else {
                return Err(run.fail(
                    n,
                    format!("expected the bot to say {expect:?}, but it said nothing more"),
                ));
            };
            run.last = Some(m.clone());
            m
        };
        let ok = if let Some(key) = expect.strip_prefix('@') {
            m.key == key
        } else if let Some(part) = expect.strip_prefix('~') {
            m.text.contains(part)
        } else {
            m.text == expect
        };
        if !ok {
            return Err(run.fail(
                n,
                format!("expected {expect:?}, the bot said [{}] {:?}", m.key, m.text),
            ));
        }
        if m.text.contains("{$") || m.text.contains("{ $") {
            return Err(run.fail(
                n,
                format!("an unfilled variable reached the client: {:?}", m.text),
            ));
        }
        return Ok(());
    }
    if let Some(check) = line.strip_prefix('=') {
        if let Some(rest) = check.trim().strip_prefix("goal-rating ") {
            return goal_rating(run, rest).await.map_err(|e| run.fail(n, e));
        }
        if let Some(rest) = check.trim().strip_prefix("sdoh ") {
            return sociodemographic(run, rest)
                .await
                .map_err(|e| run.fail(n, e));
        }
        let rec = run.record(n).await?;
        return assert_record(&rec, check.trim()).map_err(|e| run.fail(n, e));
    }
    Err(run.fail(n, format!("a line must start with >, <, & or =: {line:?}")))
}

/// `= sdoh race prefer-not`: what is held for a question (`none`: nothing); `= sdoh consent
/// granted`. The answers table never holds them.
async fn sociodemographic(run: &Run, check: &str) -> Result<(), String> {
    let (q, want) = check
        .split_once(' ')
        .ok_or("sdoh takes a question and a value")?;
    let held = crate::equity::read(&run.runner.db, run.client.as_str())
        .await
        .map_err(|e| e.to_string())?;
    let got = if q == "consent" {
        held.consent.clone()
    } else {
        held.answers.get(q).cloned()
    }
    .unwrap_or_else(|| "none".into());
    let rec = record::read(
        &run.runner.db,
        &run.client,
        "transcript",
        to_ms(run.clock.now()),
    )
    .await
    .map_err(|e| e.to_string())?
    .ok_or("the client has no record")?;
    if let Some(a) = rec
        .answers
        .iter()
        .find(|a| a.record.as_deref().is_some_and(|r| r.starts_with("sdoh.")))
    {
        return Err(format!(
            "a sociodemographic answer ({}) is in the answers table",
            a.step
        ));
    }
    (got == want.trim())
        .then_some(())
        .ok_or_else(|| format!("sociodemographic {q} is {got}, expected {want}"))
}

/// `= goal-rating 2 7`: the second goal's latest rating is 7 (`none`: not rated).
async fn goal_rating(run: &Run, check: &str) -> Result<(), String> {
    let (nth, want) = check
        .split_once(' ')
        .ok_or("goal-rating takes a goal's number and a rating")?;
    let nth: usize = nth.parse().map_err(|_| format!("bad goal number {nth}"))?;
    let goals = crate::store::goals::of_client(&run.runner.db, run.client.as_str())
        .await
        .map_err(|e| e.to_string())?;
    let g = goals
        .get(nth.wrapping_sub(1))
        .ok_or_else(|| format!("there is no goal {nth}"))?;
    let got = g
        .ratings
        .last()
        .map_or_else(|| "none".to_owned(), |r| r.rating.to_string());
    (got == want.trim())
        .then_some(())
        .ok_or_else(|| format!("goal {nth} ({:?}) is rated {got}, expected {want}", g.text))
}

fn assert_record(rec: &Record, check: &str) -> Result<(), String> {
    let words: Vec<&str> = check.split_whitespace().collect();
    let latest_answer = |step: &str| rec.answers.iter().rev().find(|a| a.step == step);
    // `= answer step "a free-text answer"`
    if let ["answer", step, ..] = words.as_slice()
        && let Some(quoted) = check.split_once('"').map(|(_, q)| q.trim_end_matches('"'))
    {
        let a = latest_answer(step).ok_or_else(|| format!("no answer to {step}"))?;
        return (a.value.as_deref() == Some(quoted))
            .then_some(())
            .ok_or_else(|| format!("answer to {step} is {:?}, expected {quoted:?}", a.value));
    }
    match words.as_slice() {
        ["answer", step, value, rest @ ..] => {
            let a = latest_answer(step).ok_or_else(|| format!("no answer to {step}"))?;
            if a.value.as_deref() != Some(*value) {
                return Err(format!(
                    "answer to {step} is {:?}, expected {value}",
                    a.value
                ));
            }
            if let [score] = rest {
                let want: i64 = score.parse().map_err(|_| format!("bad score {score}"))?;
                if a.score != Some(want) {
                    return Err(format!("score of {step} is {:?}, expected {want}", a.score));
                }
            }
            if a.prompt_message_id.is_none() || a.inbound_message_id.is_none() {
                return Err(format!(
                    "answer to {step} lacks its provenance (question or message)"
                ));
            }
            Ok(())
        }
        ["status", step, status] => {
            let a = latest_answer(step).ok_or_else(|| format!("no answer to {step}"))?;
            (a.status == *status)
                .then_some(())
                .ok_or_else(|| format!("answer to {step} is {}, expected {status}", a.status))
        }
        ["no-answer", step] => latest_answer(step).map_or(Ok(()), |a| {
            Err(format!("{step} has an answer: {:?}", a.value))
        }),
        ["score", instrument, want] => {
            let s = rec
                .scores
                .iter()
                .rev()
                .find(|s| s.instrument == *instrument)
                .ok_or_else(|| format!("no score {instrument}"))?;
            let got = match (&s.total, &s.category, s.complete) {
                (_, _, false) => "incomplete".to_owned(),
                (Some(t), _, true) => t.to_string(),
                (None, Some(c), true) => c.clone(),
                (None, None, true) => "empty".to_owned(),
            };
            (got == *want)
                .then_some(())
                .ok_or_else(|| format!("score {instrument} is {got}, expected {want}"))
        }
        ["no-score", instrument] => match rec.scores.iter().find(|s| s.instrument == *instrument) {
            Some(s) => Err(format!("unexpected score {instrument}: {:?}", s.total)),
            None => Ok(()),
        },
        ["flag", kind, rest @ ..] => {
            let f = rec
                .flags
                .iter()
                .rev()
                .find(|f| f.kind == *kind)
                .ok_or_else(|| format!("no {kind} flag"))?;
            match rest {
                [] => Ok(()),
                [u] if f.urgency == *u => Ok(()),
                [u] => Err(format!("{kind} flag is {}, expected {u}", f.urgency)),
                _ => Err(format!("bad check {check:?}")),
            }
        }
        ["no-flag", kind] => rec
            .flags
            .iter()
            .find(|f| f.kind == *kind)
            .map_or(Ok(()), |_| Err(format!("unexpected {kind} flag"))),
        ["consent", want] => (rec.client.consent == *want)
            .then_some(())
            .ok_or_else(|| format!("consent is {}, expected {want}", rec.client.consent)),
        ["language", want] => (rec.client.language == *want)
            .then_some(())
            .ok_or_else(|| format!("language is {}, expected {want}", rec.client.language)),
        ["field", key, value @ ..] => {
            let want = value.join(" ");
            match rec.fields.get(*key) {
                Some(v) if *v == want => Ok(()),
                other => Err(format!("field {key} is {other:?}, expected {want:?}")),
            }
        }
        ["session", want] => {
            let s = rec.sessions.last().ok_or("no session")?;
            (s.status == *want)
                .then_some(())
                .ok_or_else(|| format!("session {} is {}, expected {want}", s.flow, s.status))
        }
        ["suppressed", n] => {
            let got = rec
                .messages
                .iter()
                .filter(|m| m.status == "suppressed")
                .count();
            (got.to_string() == *n)
                .then_some(())
                .ok_or_else(|| format!("{got} suppressed messages, expected {n}"))
        }
        _ => Err(format!("unknown check {check:?}")),
    }
}
