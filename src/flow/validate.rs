//! Checks a parsed flow against itself and the catalog: step references resolve, every message
//! exists in every enabled locale, every ask has a timeout (48 h unless it says), scores name scored asks, and no step
//! is unreachable.

use super::def::{AnswerKind, Flow, ScoreKind, StepKind};
use crate::domain::StepId;
use crate::i18n::Catalog;
use crate::problem::Problem;
use std::collections::BTreeSet;

/// Every problem with `flow`, given the enabled locales in `catalog`.
#[must_use]
pub fn validate(flow: &Flow, catalog: &Catalog) -> Vec<Problem> {
    let mut problems = Vec::new();
    let p = |line: usize, reason: String| Problem::new(&flow.file, line, reason);

    let exists = |id: &StepId| flow.position(id).is_some();
    for step in &flow.steps {
        let mut targets: Vec<&StepId> = step.goto.iter().collect();
        match &step.kind {
            StepKind::Ask(a) => {
                targets.extend(a.branch.values());
                targets.extend(a.on_invalid.iter());
                let options = a.answer.options();
                for key in a.branch.keys().filter(|k| *k != "_") {
                    if !options.is_empty() && !options.contains(key) {
                        problems.push(p(
                            step.line,
                            format!("branch on {key:?}, which is not an option of {}", step.id),
                        ));
                    }
                }
                for key in a.score.keys() {
                    if !options.contains(key) {
                        problems.push(p(
                            step.line,
                            format!("score for {key:?}, which is not an option of {}", step.id),
                        ));
                    }
                }
                if !a.score.is_empty() && a.score.len() != options.len() {
                    problems.push(p(
                        step.line,
                        format!("score of {} misses some options", step.id),
                    ));
                }
                if a.consent && a.answer != AnswerKind::YesNo {
                    problems.push(p(
                        step.line,
                        format!("consent ask {} must be yes_no", step.id),
                    ));
                }
            }
            StepKind::Branch { on, cases, default } => {
                targets.extend(cases.values());
                targets.extend(default.iter());
                match flow.step(on).map(|s| &s.kind) {
                    Some(StepKind::Ask(_)) => {}
                    _ => problems.push(p(
                        step.line,
                        format!("branch_on {on} is not an ask of this flow"),
                    )),
                }
            }
            StepKind::Flag { kind, .. } if kind.is_empty() => {
                problems.push(p(step.line, "a flag step needs a kind".into()));
            }
            _ => {}
        }
        for t in targets {
            if !exists(t) {
                problems.push(p(
                    step.line,
                    format!("step {} goes to {t}, which does not exist", step.id),
                ));
            }
        }
    }

    for score in &flow.scores {
        for item in &score.items {
            let ok = match flow.step(item).map(|s| &s.kind) {
                Some(StepKind::Ask(a)) => {
                    score.kind == ScoreKind::Category
                        || !a.score.is_empty()
                        || matches!(a.answer, AnswerKind::Scale { .. })
                }
                _ => false,
            };
            if !ok {
                problems.push(p(
                    1,
                    format!(
                        "score {} counts {item}, which is not a scored ask",
                        score.id
                    ),
                ));
            }
        }
        if score.kind == ScoreKind::Category && score.items.len() != 1 {
            problems.push(p(
                1,
                format!("category score {} must have exactly one item", score.id),
            ));
        }
    }

    // A message one locale lacks is sent from further along its chain (`flows check` lists
    // such gaps); only a message no locale on the chain has is an error.
    for locale in catalog.locales() {
        for (id, line) in flow.message_ids() {
            if !catalog.resolves(&locale, &id) {
                problems.push(p(
                    line,
                    format!("message {id} is missing in locale {locale}"),
                ));
            }
        }
        if flow
            .steps
            .iter()
            .any(|s| matches!(&s.kind, StepKind::Ask(a) if a.answer == AnswerKind::Language))
            && !catalog.resolves(&locale, "language-name")
        {
            problems.push(p(
                1,
                format!("message language-name is missing in locale {locale}"),
            ));
        }
    }

    let reachable = reachable(flow);
    for (i, step) in flow.steps.iter().enumerate() {
        if !reachable.contains(&i) {
            problems.push(p(
                step.line,
                format!("step {} can never be reached", step.id),
            ));
        }
    }
    problems
}

/// Indexes of the steps reachable from the first.
fn reachable(flow: &Flow) -> BTreeSet<usize> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![0usize];
    while let Some(i) = todo.pop() {
        if i >= flow.steps.len() || !seen.insert(i) {
            continue;
        }
        let step = &flow.steps[i];
        let next = step
            .goto
            .as_ref()
            .and_then(|g| flow.position(g))
            .unwrap_or(i + 1);
        match &step.kind {
            StepKind::End { .. } => {}
            StepKind::Ask(a) => {
                todo.extend(a.branch.values().filter_map(|t| flow.position(t)));
                todo.extend(a.on_invalid.iter().filter_map(|t| flow.position(t)));
                // A skip follows `_` (else the next step); so does an answer the branch does not
                // name; an answer that stays invalid follows on_invalid (else the next step).
                if !a.branch.contains_key("_") || a.on_invalid.is_none() {
                    todo.push(next);
                }
            }
            StepKind::Branch { cases, default, .. } => {
                todo.extend(cases.values().filter_map(|t| flow.position(t)));
                match default {
                    Some(d) => todo.extend(flow.position(d)),
                    None => todo.push(next),
                }
            }
            _ => todo.push(next),
        }
    }
    seen
}
