//! What each locale costs and lacks: its status, its gaps against the default language, and the
//! SMS segments of every message as sent (questions with their numbered options), with long,
//! realistic names filled in. `matters flows check` prints it; the Flows page shows it.

use super::FlowSet;
use super::def::{AnswerKind, StepKind};
use super::engine::question;
use crate::domain::Locale;
use crate::i18n::{Catalog, LocaleMeta, Vars};
use crate::sms;
use serde::Serialize;

/// Names used to measure messages that name the centre or the program: long, realistic ones.
#[must_use]
pub fn sample_vars(centre: &str, catalog: &Catalog) -> Vars {
    let languages: Vec<String> = catalog
        .locales()
        .iter()
        .map(|l| catalog.language_name(l))
        .collect();
    Vars::from([
        ("centre".to_owned(), centre.to_owned()),
        ("program".to_owned(), "the Tuesday walking group".to_owned()),
        ("count".to_owned(), "5".to_owned()),
        // A goal in the client's words (goal-checkin.ftl).
        (
            "goal".to_owned(),
            "Walk to the library with Rosa every week".to_owned(),
        ),
        ("min".to_owned(), "0".to_owned()),
        ("max".to_owned(), "10".to_owned()),
        ("languages".to_owned(), languages.join(", ")),
        // A catalogue program's details (programs.ftl).
        (
            "where".to_owned(),
            "Dundonald Park, 516 Somerset St W".to_owned(),
        ),
        ("when".to_owned(), "Tuesdays 10:00".to_owned()),
        ("contact".to_owned(), "Lise 613-555-0171".to_owned()),
        ("transport".to_owned(), "Bus 11 to Bank St".to_owned()),
        ("day".to_owned(), "Tuesdays".to_owned()),
        ("time".to_owned(), "10:00".to_owned()),
        ("date".to_owned(), "2026-12-15".to_owned()),
        ("h".to_owned(), "10".to_owned()),
        ("hh".to_owned(), "10".to_owned()),
        ("mm".to_owned(), "00".to_owned()),
    ])
}

/// One message as a client would receive it.
#[derive(Debug, Clone, Serialize)]
pub struct MessageCost {
    /// The Fluent id, or `flow/step (as sent)` for a question with its options.
    pub name: String,
    pub encoding: String,
    pub chars: usize,
    pub segments: usize,
    /// Fluent's complaints formatting it (a variable no caller sets…), with the file.
    pub warnings: Vec<String>,
}

/// One flow in one locale.
#[derive(Debug, Clone, Serialize)]
pub struct FlowCost {
    pub flow: String,
    /// The flow's messages this locale does not define itself (sent from the fallback).
    pub missing: Vec<String>,
    /// Segments of every message the flow can send, each once, as sent: one complete run of a
    /// flow that does not branch, with no re-prompt or nudge.
    pub segments: usize,
    /// The most segments one of its messages takes.
    pub max_segments: usize,
}

/// One locale, enabled or only available.
#[derive(Debug, Clone, Serialize)]
pub struct LocaleReport {
    pub locale: String,
    pub name: String,
    pub meta: Option<LocaleMeta>,
    pub enabled: bool,
    /// Messages it defines of those the default language has.
    pub defined: usize,
    pub total: usize,
    /// The default language's messages it lacks: each reaches clients from the fallback chain.
    pub gaps: Vec<String>,
    pub flows: Vec<FlowCost>,
    pub messages: Vec<MessageCost>,
}

impl LocaleReport {
    #[must_use]
    pub fn complete(&self) -> bool {
        self.gaps.is_empty()
    }

    /// A message past two segments (three or more SMS for one message).
    #[must_use]
    pub fn too_long(&self) -> Vec<&MessageCost> {
        self.messages.iter().filter(|m| m.segments > 2).collect()
    }
}

/// Every available locale: the enabled ones first, in the deployment's order.
#[must_use]
pub fn locales(catalog: &Catalog, flows: &FlowSet, centre: &str) -> Vec<LocaleReport> {
    let vars = sample_vars(centre, catalog);
    catalog
        .available()
        .into_iter()
        .map(|l| locale(catalog, flows, &vars, &l))
        .collect()
}

fn cost(name: String, text: &str) -> MessageCost {
    let c = sms::cost(text);
    MessageCost {
        name,
        encoding: c.encoding.to_string(),
        chars: text.chars().count(),
        segments: c.segments,
        warnings: Vec::new(),
    }
}

fn locale(catalog: &Catalog, flows: &FlowSet, vars: &Vars, l: &Locale) -> LocaleReport {
    let mut messages = Vec::new();
    for (id, file) in catalog.message_sources(l) {
        // Messages with attributes only (option synonyms, number words) are never sent.
        if let Ok((text, errors)) = catalog.format_with_errors(l, &id, vars) {
            let mut c = cost(id.clone(), &text);
            c.warnings = errors
                .into_iter()
                .map(|e| format!("{}: {id}: {e}", file.display()))
                .collect();
            messages.push(c);
        }
    }
    let mut per_flow = Vec::new();
    for flow in flows.current() {
        let mut missing: Vec<String> = flow
            .message_ids()
            .into_iter()
            .map(|(id, _)| id)
            .filter(|id| !catalog.defines(l, id))
            .collect();
        missing.sort();
        missing.dedup();
        let mut sent = Vec::new();
        for step in &flow.steps {
            match &step.kind {
                StepKind::Say { message } => {
                    if let Ok(t) = catalog.format(l, message, vars) {
                        sent.push(cost(message.clone(), &t));
                    }
                }
                StepKind::Ask(ask) => {
                    if let Ok(t) = question(catalog, l, vars, ask) {
                        let listed =
                            !ask.answer.options().is_empty() || ask.answer == AnswerKind::Language;
                        let name = if listed {
                            format!("{}/{} (as sent)", flow.id, step.id)
                        } else {
                            ask.message.clone()
                        };
                        let c = cost(name, &t);
                        if listed {
                            messages.push(c.clone());
                        }
                        sent.push(c);
                    }
                }
                _ => {}
            }
        }
        per_flow.push(FlowCost {
            flow: flow.id.to_string(),
            missing,
            segments: sent.iter().map(|m| m.segments).sum(),
            max_segments: sent.iter().map(|m| m.segments).max().unwrap_or(0),
        });
    }
    let gaps = catalog.gaps(l);
    let total = catalog.message_count();
    LocaleReport {
        locale: l.to_string(),
        name: catalog.language_name(l),
        meta: catalog.meta(l).cloned(),
        enabled: catalog.is_enabled(l),
        defined: total - gaps.len().min(total),
        total,
        gaps,
        flows: per_flow,
        messages,
    }
}
