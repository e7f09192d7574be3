//! `matters flows check` and `matters flows test`.

use crate::config::Config;
use crate::flow::report;

/// Validates everything and prints, per locale, its status, completeness and the SMS cost of
/// every message; returns the exit code.
pub fn check(cfg: &Config) -> i32 {
    let (content, problems) = crate::app::load_content(cfg);
    let catalog = &content.catalog;
    let reports = report::locales(catalog, &content.flows, &cfg.centre_name);
    let mut warnings = 0;
    println!(
        "{:<8} {:<34} {:<6} {:>5} {:>8}",
        "locale", "message", "enc", "chars", "segments"
    );
    for r in &reports {
        for m in &r.messages {
            let warn = if m.segments > 2 {
                warnings += 1;
                "  warning: more than two segments"
            } else {
                ""
            };
            println!(
                "{:<8} {:<34} {:<6} {:>5} {:>8}{warn}",
                r.locale, m.name, m.encoding, m.chars, m.segments
            );
        }
    }
    // Fluent's complaints (a variable a message uses that no caller sets…).
    for w in reports
        .iter()
        .flat_map(|r| &r.messages)
        .flat_map(|m| &m.warnings)
    {
        warnings += 1;
        println!("warning: {w}");
    }

    println!(
        "\n{:<8} {:<12} {:<9} {:<8} {:<9} who and when",
        "locale", "language", "status", "enabled", "complete"
    );
    for r in &reports {
        let (status, who) = match &r.meta {
            Some(m) => (
                m.status.as_str(),
                match (&m.reviewed_by, &m.reviewed_on) {
                    (Some(by), Some(on)) => format!("reviewed by {by}, {on}"),
                    _ => format!("translated by {}, {}", m.translated_by, m.translated_on),
                },
            ),
            None => ("unknown", format!("no {}/meta.toml", r.locale)),
        };
        println!(
            "{:<8} {:<12} {:<9} {:<8} {:<9} {who}",
            r.locale,
            r.name,
            status,
            if r.enabled { "yes" } else { "no" },
            format!("{}/{}", r.defined, r.total),
        );
    }
    for r in &reports {
        for g in &r.gaps {
            warnings += 1;
            println!(
                "warning: {}: {g} is missing; clients get it from the fallback ({})",
                r.locale,
                catalog.default_locale()
            );
        }
    }

    if let Some(first) = reports.first() {
        println!("\nSMS segments per flow, each message once as sent (the most for one message):");
        print!("{:<8}", "locale");
        for f in &first.flows {
            print!(" {:>18}", f.flow);
        }
        println!();
        for r in &reports {
            print!("{:<8}", r.locale);
            for f in &r.flows {
                print!(" {:>18}", format!("{} ({})", f.segments, f.max_segments));
            }
            println!();
        }
    }
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
    if cfg.centre_name_unset() {
        warnings += 1;
        println!(
            "warning: centre_name is not set: clients read \"{}\" where the centre's name belongs (\"Bonjour de la part de {0}\"); set centre_name in matters.toml or MATTERS_CENTRE_NAME",
            cfg.centre_name
        );
    }
    if problems.is_empty() {
        let complete = reports.iter().filter(|r| r.complete()).count();
        println!(
            "\n{flows} flows, {sequences} sequences and {} locales are valid ({} enabled, {complete} of {} complete); {warnings} warnings",
            reports.len(),
            catalog.locales().len(),
            reports.len()
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
