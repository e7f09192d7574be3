//! Words for what the record stores, in the reader's language: every code (flag kinds, reasons,
//! levels, uptake, measures, time points, roles, audit actions, delivery states…) has a label in
//! the interface's Fluent files, every time is written for the reader and the centre's zone,
//! questions and answers read as the client read them. Notes the service wrote in English (a
//! step moved out of quiet hours, a flag's reason, an audit detail) are recognised and said
//! again in the reader's language. The client's own words are never translated.

use super::UiText;
use crate::clock::from_ms;
use crate::domain::{FlowId, Locale, StepId};
use crate::flow::FlowSet;
use crate::flow::def::StepKind;
use crate::i18n::{Catalog, Vars};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use fluent_bundle::FluentArgs;
use notes::{AUDIT, AUDIT_ACTION, ERRS, FLAGS, JOBS, SEND_ERRS};
use regex::Regex;

mod dates;
mod notes;
pub(super) mod template;
#[cfg(test)]
mod tests;
pub use notes::AUDIT_ACTIONS;

/// What the words are made from: the interface's wording, the client-facing catalog (questions
/// and answer options), the flows, and the centre's time zone.
pub struct Words<'a> {
    pub ui: &'a UiText,
    pub catalog: &'a Catalog,
    pub flows: &'a FlowSet,
    pub lang: &'a str,
    pub tz: Tz,
}

/// A stored time: milliseconds, or RFC 3339 text.
#[derive(Debug, Clone, Copy)]
pub struct At(pub DateTime<Utc>);

impl At {
    #[must_use]
    pub fn ms(ms: i64) -> Self {
        Self(from_ms(ms))
    }

    /// RFC 3339, or a date alone (`2026-11-21`), read at noon UTC so that it names the same
    /// day in every zone a centre is in.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| Self(t.to_utc()))
            .or_else(|| {
                let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
                Some(Self(d.and_hms_opt(12, 0, 0)?.and_utc()))
            })
    }
}

impl Words<'_> {
    fn fr(&self) -> bool {
        self.lang == "fr"
    }

    /// The wording of `key`, if the interface has it.
    #[must_use]
    pub fn key(&self, key: &str, args: &[(&str, String)]) -> Option<String> {
        let mut a = FluentArgs::new();
        for (k, v) in args {
            a.set(*k, v.clone());
        }
        self.ui.lookup(self.lang, key, Some(&a))
    }

    /// The label of a stored value of a kind (`flag-crisis`, `reason-loneliness`…); the value
    /// itself when there is none (a test finds any such gap).
    #[must_use]
    pub fn code(&self, kind: &str, value: &str) -> String {
        // Fluent ids have no dots: `wm.what_matters` is `field-wm-what-matters`.
        let id = format!("{kind}-{}", value.replace(['.', '_'], "-"));
        self.key(&id, &[]).unwrap_or_else(|| value.to_owned())
    }

    /// A language by its own name (`Français`, `العربية`), whatever its code.
    #[must_use]
    pub fn language(&self, code: &str) -> String {
        Locale::parse(code).map_or_else(|_| code.to_owned(), |l| self.catalog.language_name(&l))
    }

    fn locale(&self) -> Locale {
        Locale::parse(self.lang).unwrap_or_else(|_| self.catalog.default_locale().clone())
    }

    /// A question as staff read it: what the client's own text fills in (their program, the
    /// centre) shows as a marked blank, `[program]`, `[programme]`.
    fn vars(&self) -> Vars {
        let mut v = Vars::new();
        for (var, key) in [
            ("program", "blank-program"),
            ("centre", "blank-centre"),
            ("goal", "blank-goal"),
        ] {
            v.insert(var.into(), self.key(key, &[]).unwrap_or_default());
        }
        v
    }

    /// A flow by name: `Loneliness survey`, `Questionnaire sur la solitude`.
    #[must_use]
    pub fn flow(&self, id: &str) -> String {
        self.code("flow", id)
    }

    /// A sequence's step: its flow, and its time point if it has one.
    #[must_use]
    pub fn step(&self, flow: Option<&str>, step: &str, time_point: Option<&str>) -> String {
        let base = flow.map_or_else(|| self.code("step", step), |f| self.flow(f));
        match time_point {
            Some(tp) => format!("{base} ({})", self.code("tp", tp)),
            None => base,
        }
    }

    /// The question of a flow's step as the client read it, in the reader's language.
    #[must_use]
    pub fn question(&self, flow: &str, step: &str) -> Option<String> {
        let f = self.flows.get(&FlowId::parse(flow).ok()?)?;
        let st = f.step(&StepId::parse(step).ok()?)?;
        let StepKind::Ask(ask) = &st.kind else {
            return None;
        };
        self.catalog
            .format(&self.locale(), &ask.message, &self.vars())
            .ok()
    }

    /// An answer option (`often`) as the reader's language names it to clients.
    #[must_use]
    pub fn option(&self, value: &str) -> Option<String> {
        let id = format!("opt-{value}");
        let l = self.locale();
        self.catalog
            .resolves(&l, &id)
            .then(|| self.catalog.format(&l, &id, &Vars::new()).ok())
            .flatten()
    }

    /// An answer for the reader: an option's label, a number, a language's name; else the
    /// client's own words (`true`), as they wrote them.
    #[must_use]
    pub fn answer(&self, value: Option<&str>, raw: &str) -> (String, bool) {
        let Some(v) = value else {
            return (raw.to_owned(), true);
        };
        if let Some(o) = self.option(v) {
            return (o, false);
        }
        if v.parse::<i64>().is_ok() {
            return (v.to_owned(), false);
        }
        if Locale::parse(v).is_ok_and(|l| self.catalog.available().contains(&l)) {
            return (self.language(v), false);
        }
        (raw.to_owned(), true)
    }

    /// A flag's note: the service's own reasons in the reader's words; a code the client chose
    /// as its option's label; the client's own words as they wrote them (`true`: client words).
    #[must_use]
    pub fn flag_note(&self, kind: &str, note: &str) -> (String, bool) {
        if note.is_empty() {
            return (String::new(), false);
        }
        if let Some(said) = self.known(note, &FLAGS) {
            return (said, false);
        }
        if kind == "no-response"
            && let Some((flow, step)) = note.split_once('/')
        {
            let q = self.question(flow, step).unwrap_or_else(|| self.flow(flow));
            return (
                self.key("note-no-response", &[("question", q)])
                    .unwrap_or_else(|| note.to_owned()),
                false,
            );
        }
        match self.option(note) {
            Some(o) => (o, false),
            None => (note.to_owned(), true),
        }
    }

    /// A note the scheduler or a navigator's action left on a step.
    #[must_use]
    pub fn job_note(&self, note: &str) -> String {
        self.known(note, &JOBS).unwrap_or_else(|| note.to_owned())
    }

    /// A number or a share as the reader writes it: `9,0` and `50 %` in French.
    #[must_use]
    pub fn number(&self, n: &str) -> String {
        if self.fr() {
            n.replace('.', ",").replace('%', "\u{202f}%")
        } else {
            n.to_owned()
        }
    }

    /// An audit entry's detail, read for its action first.
    #[must_use]
    pub fn audit_detail(&self, action: &str, detail: &str) -> String {
        let own: Vec<(Regex, &'static str)> = AUDIT_ACTION
            .iter()
            .filter(|(a, _, _)| *a == action)
            .map(|(_, r, k)| (r.clone(), *k))
            .collect();
        self.known(detail, &own)
            .or_else(|| self.known(detail, &AUDIT))
            .unwrap_or_else(|| detail.to_owned())
    }

    /// Why a text did not go: the provider's code or our own guard, in the reader's words; a
    /// reason the service does not know (a connection error's own text) reads as "not sent", its
    /// text kept for the details.
    #[must_use]
    pub fn send_error(&self, text: &str) -> String {
        self.known(text, &SEND_ERRS)
            .or_else(|| self.key("err-send-other", &[]))
            .unwrap_or_else(|| text.to_owned())
    }

    /// Who did it: a staff member, the command line, the scheduler, a client, an API token.
    #[must_use]
    pub fn actor(&self, actor: &str) -> String {
        let (kind, who) = actor.split_once(':').unwrap_or((actor, ""));
        let who = who.to_owned();
        match kind {
            "staff" => self.key("actor-staff", &[("who", who)]),
            "api" => self.key("actor-api", &[("who", who)]),
            "client" if who.is_empty() => self.key("actor-client-any", &[]),
            "client" => self.key("actor-client", &[("channel", self.code("channel", &who))]),
            _ => self.key(&format!("actor-{kind}"), &[]),
        }
        .unwrap_or_else(|| actor.to_owned())
    }

    /// An error a library function gave, for a navigator.
    #[must_use]
    pub fn error(&self, text: &str) -> String {
        self.known(text, &ERRS).unwrap_or_else(|| text.to_owned())
    }

    /// A text the service wrote in English, said again in the reader's language: the first
    /// pattern that matches it gives the message and its arguments; an argument named after a
    /// kind of code (`flow`, `tp`, `seq`…) is labelled in turn.
    fn known(&self, text: &str, table: &[(Regex, &'static str)]) -> Option<String> {
        for (re, key) in table {
            let Some(c) = re.captures(text) else { continue };
            let args: Vec<(&str, String)> = re
                .capture_names()
                .flatten()
                .filter_map(|n| c.name(n).map(|m| (n, self.arg(n, m.as_str()))))
                .collect();
            if let Some(s) = self.key(key, &args) {
                return Some(s);
            }
        }
        None
    }

    fn arg(&self, name: &str, value: &str) -> String {
        match name {
            "flow" => self.flow(value),
            "actor" => self.actor(value),
            "when" => self.local_label(value),
            "dur" => self.duration(value),
            "lang" => self.language(value),
            "items" => value
                .split(", ")
                .map(|i| self.item(i))
                .collect::<Vec<_>>()
                .join(", "),
            "perr" => self
                .key(&format!("perr-{value}"), &[])
                .or_else(|| self.key("perr-other", &[("code", value.to_owned())]))
                .unwrap_or_else(|| value.to_owned()),
            kind @ ("tp" | "seq" | "role" | "scope" | "best" | "level" | "channel" | "uptake"
            | "reason" | "status" | "source" | "kind" | "flag" | "field" | "closing"
            | "step" | "answer") => self.code(kind, value),
            _ => value.to_owned(),
        }
    }

    /// One item of a list in an audit detail: `loneliness/companionship answered`,
    /// `field referral.uptake`, `flag crisis`.
    fn item(&self, item: &str) -> String {
        if let Some(k) = item.strip_prefix("flag ") {
            return self.code("flag", k);
        }
        if let Some(k) = item.strip_prefix("field ") {
            return self.code("field", k);
        }
        if let Some((path, status)) = item.split_once(' ')
            && let Some((flow, step)) = path.split_once('/')
        {
            let q = self.question(flow, step).unwrap_or_else(|| self.flow(flow));
            let status = self.code("answer", status);
            return if self.fr() {
                format!("« {q} » : {status}")
            } else {
                format!("“{q}”: {status}")
            };
        }
        item.to_owned()
    }
}
