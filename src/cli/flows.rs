//! `matters flows check` and `matters flows test`.

use crate::config::Config;
use crate::flow::def::{AnswerKind, StepKind};
use crate::flow::engine::question;
use crate::sms;

/// Validates everything and prints the SMS cost table; returns the exit code.
pub fn check(cfg: &Config) -> i32 {
    let (content, problems) = crate::app::load_content(cfg);
    let vars = crate::flow::sample_vars(&cfg.centre_name);
    let catalog = &content.catalog;
    let mut warnings = 0;
    let mut row = |locale: &str, name: &str, text: &str| {
        let cost = sms::cost(text);
        let warn = if cost.segments > 2 {
            warnings += 1;
            "  warning: more than two segments"
        } else {
            ""
        };
        let enc = cost.encoding.to_string();
        println!(
            "{locale:<8} {name:<34} {enc:<6} {:>5} {:>8}{warn}",
            text.chars().count(),
            cost.segments
        );
    };
    println!(
        "{:<8} {:<34} {:<6} {:>5} {:>8}",
        "locale", "message", "enc", "chars", "segments"
    );
    let mut fluent_warnings = Vec::new();
    for locale in catalog.locales() {
        for (id, file) in catalog.message_sources(&locale) {
            // Messages with attributes only (option synonyms, number words) are never sent.
            let Ok((text, errors)) = catalog.format_with_errors(&locale, &id, &vars) else {
                continue;
            };
            row(locale.as_str(), &id, &text);
            fluent_warnings.extend(
                errors
                    .into_iter()
                    .map(|e| format!("warning: {}: {id}: {e}", file.display())),
            );
        }
        // Questions go out with their numbered options: measure them as sent.
        for flow in content.flows.current() {
            for step in &flow.steps {
                let StepKind::Ask(ask) = &step.kind else {
                    continue;
                };
                if ask.answer.options().is_empty() && ask.answer != AnswerKind::Language {
                    continue;
                }
                if let Ok(text) = question(catalog, &locale, &vars, ask) {
                    row(
                        locale.as_str(),
                        &format!("{}/{} (as sent)", flow.id, step.id),
                        &text,
                    );
                }
            }
        }
    }
    for w in &fluent_warnings {
        println!("{w}");
    }
    let warnings = warnings + fluent_warnings.len();
    let flows = content.flows.current().count();
    let sequences = content.sequences.all().count();
    if sequences > 0 {
        println!(
            "\n{:<10} {:<20} {:<18} {:<10} when",
            "sequence", "step", "flow", "time point"
        );
    }
    for seq in content.sequences.all() {
        for st in &seq.steps {
            println!(
                "{:<10} {:<20} {:<18} {:<10} {}",
                seq.id.as_str(),
                st.id.as_str(),
                st.flow.as_str(),
                st.time_point.as_deref().unwrap_or("-"),
                describe_step(st)
            );
        }
    }
    if problems.is_empty() {
        println!(
            "\n{flows} flows, {sequences} sequences and {} locales are valid; {warnings} warnings",
            catalog.locales().len()
        );
        0
    } else {
        eprintln!();
        for p in &problems {
            eprintln!("{p}");
        }
        eprintln!("{} problems", problems.len());
        1
    }
}

/// Runs every transcript; returns the exit code.
pub async fn test(cfg: &Config) -> anyhow::Result<i32> {
    let report = crate::transcript::run_dir(cfg, &cfg.flows_dir.join("transcripts")).await?;
    for f in &report.failures {
        eprintln!("FAIL {f}");
    }
    println!("{} passed, {} failed", report.passed, report.failures.len());
    Ok(i32::from(!report.failures.is_empty()))
}

/// When a sequence step happens, in words.
fn describe_step(st: &crate::schedule::sequence::SeqStep) -> String {
    use crate::schedule::sequence::{Anchor, Until};
    let anchor = match st.anchor {
        Anchor::Enrolment => "enrolment",
        Anchor::Referral => "referral",
        Anchor::Previous => "the end of the step before",
    };
    let at = st
        .at
        .map(|m| format!(" at {:02}:{:02}", m / 60, m % 60))
        .unwrap_or_default();
    let mut s = if st.offset.is_zero() {
        format!("at {anchor}{at}")
    } else {
        format!("{} after {anchor}{at}", st.offset)
    };
    if let Some(r) = &st.recurring {
        s = format!("cron \"{}\" from {anchor}", r.every.expr);
        if let Some(n) = r.count {
            s.push_str(&format!(", {n} times"));
        }
        match &r.until {
            Some(Until::Date(d)) => s.push_str(&format!(", until {d}")),
            Some(Until::ReferralClosed) => s.push_str(", until the referral closes"),
            None => {}
        }
    }
    format!("{s}; if busy: {}", st.if_busy.as_str())
}
