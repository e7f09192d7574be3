//! Matching what a client typed to an ask's answer: numbered options, option words and synonyms
//! in the client's language (then the other enabled ones), case- and accent-insensitive, in any
//! script's digits, with surrounding punctuation and emoji ignored.

use super::def::{AnswerKind, Ask, option_message};
use crate::domain::Locale;
use crate::i18n::normalize::{fold, integer, words as spaced};
use crate::i18n::{Catalog, Vars, Words};
use chrono::{Datelike, NaiveDate};
use std::sync::Arc;

/// Longest free-text answer kept; anything longer is cut (the raw message is kept whole).
pub const MAX_TEXT_ANSWER: usize = 2000;

/// A recognised answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    /// The canonical value (`often`, `yes`, `7`, `2026-03-15`, `fr`, or the text itself).
    pub value: String,
    /// The label the client was shown for it, in their language.
    pub label: String,
}

/// One option with everything a client may type for it.
struct Option_ {
    value: String,
    label: String,
    /// Its words, prepared once per catalog and locale.
    words: Arc<Words>,
    /// The label folded and spaced, when it takes the client's variables (so is not among
    /// the prepared words).
    own: Option<(String, String)>,
}

impl Option_ {
    fn folded(&self) -> impl Iterator<Item = &str> {
        self.words
            .folded
            .iter()
            .map(String::as_str)
            .chain(self.own.as_ref().map(|(f, _)| f.as_str()))
    }

    fn spaced(&self) -> impl Iterator<Item = &str> {
        self.words
            .spaced
            .iter()
            .map(String::as_str)
            .chain(self.own.as_ref().map(|(_, s)| s.as_str()))
    }
}

fn options_in(ask: &Ask, catalog: &Catalog, locale: &Locale, vars: &Vars) -> Vec<Option_> {
    match &ask.answer {
        AnswerKind::Language => catalog
            .locales()
            .into_iter()
            .map(|l| {
                let words = catalog.prepared(&l, "\0language", || {
                    let mut w = Words::new(None, catalog.language_words(&l));
                    w.label = Some(catalog.language_name(&l));
                    w
                });
                Option_ {
                    value: l.to_string(),
                    label: words.label.clone().unwrap_or_else(|| l.to_string()),
                    words,
                    own: None,
                }
            })
            .collect(),
        kind => kind
            .options()
            .into_iter()
            .map(|o| {
                let msg = option_message(&o);
                let bare = o.replace('-', " ");
                let words = catalog.prepared(locale, &msg, || {
                    let mut w = catalog.list_attribute(locale, &msg, "synonyms");
                    w.push(bare.clone());
                    Words::new(catalog.plain_text(locale, &msg), w)
                });
                let (label, own) = match &words.label {
                    Some(l) => (l.clone(), None),
                    None => {
                        let l = catalog.format(locale, &msg, vars).unwrap_or(bare);
                        let own = (fold(&l), spaced(&l));
                        (l, Some(own))
                    }
                };
                Option_ {
                    value: o,
                    label,
                    words,
                    own,
                }
            })
            .collect(),
    }
}

/// The labels of an ask's options, in order, as the client sees them numbered.
#[must_use]
pub fn option_labels(ask: &Ask, catalog: &Catalog, locale: &Locale, vars: &Vars) -> Vec<String> {
    options_in(ask, catalog, locale, vars)
        .into_iter()
        .map(|o| o.label)
        .collect()
}

/// The answers a client can pick from as buttons, in order: the options of a choice, yes/no or
/// language question, or every number of a short scale (up to eleven, as 0 to 10). Empty for
/// free text and dates.
#[must_use]
pub fn choices(ask: &Ask, catalog: &Catalog, locale: &Locale, vars: &Vars) -> Vec<Matched> {
    match &ask.answer {
        AnswerKind::Scale { min, max } if max - min <= 10 => (*min..=*max)
            .map(|n| Matched {
                value: n.to_string(),
                label: n.to_string(),
            })
            .collect(),
        AnswerKind::Scale { .. } | AnswerKind::Text | AnswerKind::Date => Vec::new(),
        _ => options_in(ask, catalog, locale, vars)
            .into_iter()
            .map(|o| Matched {
                value: o.value,
                label: o.label,
            })
            .collect(),
    }
}

/// Matches `text` to an answer of `ask`, or `None` when it is not one.
#[must_use]
pub fn match_answer(
    ask: &Ask,
    text: &str,
    catalog: &Catalog,
    locale: &Locale,
    vars: &Vars,
    today: NaiveDate,
) -> Option<Matched> {
    match &ask.answer {
        AnswerKind::Choice(_) | AnswerKind::YesNo | AnswerKind::Language => {
            let numbered = !matches!(ask.answer, AnswerKind::YesNo);
            if let Some(m) = match_option(ask, text, catalog, locale, vars, numbered) {
                return Some(m);
            }
            // A bilingual client may answer in another enabled language.
            catalog
                .locales()
                .iter()
                .filter(|l| *l != locale)
                .find_map(|l| match_option(ask, text, catalog, l, vars, false))
                .map(|m| {
                    // Report the label in the client's own language.
                    let label = options_in(ask, catalog, locale, vars)
                        .into_iter()
                        .find(|o| o.value == m.value)
                        .map_or(m.label, |o| o.label);
                    Matched {
                        value: m.value,
                        label,
                    }
                })
        }
        AnswerKind::Scale { min, max } => {
            let n = integer(text).or_else(|| number_word(text, catalog, locale))?;
            (*min..=*max).contains(&n).then(|| Matched {
                value: n.to_string(),
                label: n.to_string(),
            })
        }
        AnswerKind::Text => {
            let kept: String = text.trim().chars().take(MAX_TEXT_ANSWER).collect();
            (!kept.is_empty()).then(|| Matched {
                value: kept.clone(),
                label: kept,
            })
        }
        AnswerKind::Date => {
            let d = parse_date(text, today, catalog, locale)?;
            Some(Matched {
                value: d.to_string(),
                label: d.to_string(),
            })
        }
    }
}

fn match_option(
    ask: &Ask,
    text: &str,
    catalog: &Catalog,
    locale: &Locale,
    vars: &Vars,
    numbered: bool,
) -> Option<Matched> {
    let options = options_in(ask, catalog, locale, vars);
    if numbered
        && let Some(n) = integer(text)
        && n >= 1
        && let Some(o) = options.get(usize::try_from(n - 1).ok()?)
    {
        return Some(Matched {
            value: o.value.clone(),
            label: o.label.clone(),
        });
    }
    let typed = fold(text);
    if typed.is_empty() {
        return None;
    }
    // The whole message is an option's word; else it holds exactly one option's word ("the bus",
    // "I'd say sometimes"), or one option's word holds every other option's word found ("还没有"
    // is "not yet", though it holds "没有", "no"). Two options claiming it otherwise is
    // ambiguous: ask again rather than guess.
    let whole = unique(options.iter().filter(|o| o.folded().any(|w| w == typed)));
    let found = whole.or_else(|| {
        let padded = spaced(text);
        let hits: Vec<(&Option_, &str)> = options
            .iter()
            .filter_map(|o| {
                o.spaced()
                    .filter(|w| w.trim().chars().count() > 1 && padded.contains(w))
                    .max_by_key(|w| w.len())
                    .map(|w| (o, w))
            })
            .collect();
        match hits.as_slice() {
            [(o, _)] => Some(*o),
            _ => hits
                .iter()
                .find(|(o, w)| {
                    hits.iter()
                        .all(|(other, ow)| std::ptr::eq(*o, *other) || (w.contains(ow) && w != ow))
                })
                .map(|(o, _)| *o),
        }
    })?;
    Some(Matched {
        value: found.value.clone(),
        label: found.label.clone(),
    })
}

fn unique<'a>(mut hits: impl Iterator<Item = &'a Option_>) -> Option<&'a Option_> {
    let first = hits.next()?;
    hits.next().is_none().then_some(first)
}

/// "five", "cinq": the `.words` attribute of the `numbers` message lists zero to ten.
fn number_word(text: &str, catalog: &Catalog, locale: &Locale) -> Option<i64> {
    let typed = fold(text);
    catalog
        .prepared(locale, "\0numbers", || {
            Words::new(None, catalog.list_attribute(locale, "numbers", "words"))
        })
        .folded
        .iter()
        .position(|w| *w == typed)
        .and_then(|i| i64::try_from(i).ok())
}

/// Dates as clients write them: 2026-03-15, 15/03/2026, 15/03, and today / tomorrow in their
/// language (the `.today` and `.tomorrow` attributes of `dates`).
fn parse_date(
    text: &str,
    today: NaiveDate,
    catalog: &Catalog,
    locale: &Locale,
) -> Option<NaiveDate> {
    let typed = fold(text);
    let is = |attr: &str| {
        catalog
            .prepared(locale, &format!("\0dates.{attr}"), || {
                Words::new(None, catalog.list_attribute(locale, "dates", attr))
            })
            .folded
            .contains(&typed)
    };
    if is("today") {
        return Some(today);
    }
    if is("tomorrow") {
        return today.succ_opt();
    }
    if let Ok(d) = NaiveDate::parse_from_str(&typed, "%Y-%m-%d") {
        return Some(d);
    }
    let parts: Vec<&str> = typed.split(['/', '-', '.']).collect();
    let num = |s: &str| s.trim().parse::<u32>().ok();
    match parts.as_slice() {
        [d, m, y] => {
            let y = num(y)?;
            let y = if y < 100 { 2000 + y } else { y };
            NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, num(m)?, num(d)?)
        }
        [d, m] => {
            let this_year = NaiveDate::from_ymd_opt(today.year(), num(m)?, num(d)?)?;
            // A day and month alone means the next such date.
            if this_year < today {
                NaiveDate::from_ymd_opt(today.year() + 1, num(m)?, num(d)?)
            } else {
                Some(this_year)
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::def::DEFAULT_MAX_ATTEMPTS;
    use crate::i18n::tempdir;
    use std::collections::BTreeMap;

    fn ask(answer: AnswerKind) -> Ask {
        Ask {
            message: "q".into(),
            answer,
            record: None,
            score: BTreeMap::new(),
            timeout: None,
            nudges: Vec::new(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            on_invalid: None,
            branch: BTreeMap::new(),
            consent: false,
            flag: None,
        }
    }

    fn catalog() -> (tempdir::Dir, Catalog) {
        let d = tempdir::Dir::new();
        d.write(
            "en/a.ftl",
            "opt-often = Often\n    .synonyms = a lot\nopt-hardly-ever = Hardly ever\n    .synonyms = not often, rarely\n\
             opt-never = Never\nopt-yes = Yes\n    .synonyms = yeah\nopt-no = No\nlanguage-name = English\n    .synonyms = en\n\
             numbers =\n    .words = zero, one, two, three\ndates =\n    .today = today\n    .tomorrow = tomorrow\n",
        );
        d.write("fr/a.ftl", "opt-often = Souvent\nopt-hardly-ever = Presque jamais\nopt-never = Jamais\nopt-yes = Oui\nopt-no = Non\nlanguage-name = Français\n    .synonyms = fr\n");
        let locales = [Locale::parse("en").unwrap(), Locale::parse("fr").unwrap()];
        let (c, problems) = Catalog::load(d.path(), &locales, &locales[0]);
        assert!(problems.is_empty(), "{problems:?}");
        (d, c)
    }

    fn m(a: &Ask, text: &str, lang: &str) -> Option<String> {
        let (_d, c) = catalog();
        let today = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        match_answer(
            a,
            text,
            &c,
            &Locale::parse(lang).unwrap(),
            &Vars::new(),
            today,
        )
        .map(|m| m.value)
    }

    #[test]
    fn choices_match_by_number_word_synonym_and_inside_a_sentence() {
        let a = ask(AnswerKind::Choice(vec![
            "hardly-ever".into(),
            "often".into(),
            "never".into(),
        ]));
        assert_eq!(m(&a, "2", "en").as_deref(), Some("often"));
        assert_eq!(m(&a, "٢", "en").as_deref(), Some("often"));
        assert_eq!(m(&a, "4", "en"), None);
        assert_eq!(m(&a, "0", "en"), None);
        assert_eq!(m(&a, "A LOT!", "en").as_deref(), Some("often"));
        assert_eq!(
            m(&a, "not often", "en").as_deref(),
            Some("hardly-ever"),
            "a whole-message synonym wins over a word inside it"
        );
        assert_eq!(
            m(&a, "I'd say rarely", "en").as_deref(),
            Some("hardly-ever")
        );
        assert_eq!(
            m(&a, "often, or never", "en"),
            None,
            "two options in one message is ambiguous"
        );
        assert_eq!(
            m(&a, "presque jamais", "fr").as_deref(),
            Some("hardly-ever")
        );
        assert_eq!(m(&a, "jamais", "fr").as_deref(), Some("never"));
        assert_eq!(
            m(&a, "never", "fr").as_deref(),
            Some("never"),
            "another enabled language is understood too"
        );
        assert_eq!(m(&a, "", "en"), None);
        // A word inside a longer option word is not a second answer: "not often" holds
        // "often", but it is one option's own word, so it wins inside a sentence too.
        assert_eq!(
            m(&a, "I would say not often really", "en").as_deref(),
            Some("hardly-ever")
        );
        assert_eq!(
            m(&a, "jamais, presque jamais", "fr").as_deref(),
            Some("hardly-ever"),
            "presque jamais holds jamais: the longer word wins"
        );
    }

    #[test]
    fn option_words_are_prepared_once_and_a_label_with_a_variable_is_the_clients() {
        let d = tempdir::Dir::new();
        d.write(
            "en/a.ftl",
            "opt-often = Often\n    .synonyms = a lot\nopt-never = Never at { $centre }\n",
        );
        let en = Locale::parse("en").unwrap();
        let (c, problems) = Catalog::load(d.path(), std::slice::from_ref(&en), &en);
        assert!(problems.is_empty(), "{problems:?}");
        let a = ask(AnswerKind::Choice(vec!["often".into(), "never".into()]));
        let today = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        let vars = |centre: &str| Vars::from([("centre".to_owned(), centre.to_owned())]);
        let got = |text: &str, centre: &str| match_answer(&a, text, &c, &en, &vars(centre), today);
        assert_eq!(
            got("a lot", "North").map(|m| m.label).as_deref(),
            Some("Often")
        );
        let first = c.prepared(&en, "opt-often", || panic!("made again"));
        assert_eq!(first.label.as_deref(), Some("Often"));
        assert!(first.folded.contains(&"a lot".to_owned()), "{first:?}");
        // The label that takes a variable is the client's own, matched as such, never cached.
        let never = c.prepared(&en, "opt-never", || panic!("made again"));
        assert_eq!(never.label, None, "{never:?}");
        for centre in ["North", "South End"] {
            let m = got(&format!("never at {centre}"), centre).expect("matched");
            assert_eq!(m.value, "never");
            assert_eq!(m.label, format!("Never at {centre}"));
        }
        assert_eq!(
            got("never at south end", "North")
                .map(|m| m.value)
                .as_deref(),
            Some("never"),
            "its bare word still counts"
        );
        assert!(std::sync::Arc::ptr_eq(
            &first,
            &c.prepared(&en, "opt-often", Default::default)
        ));
    }

    #[test]
    fn yes_no_is_not_numbered() {
        let a = ask(AnswerKind::YesNo);
        assert_eq!(m(&a, "1", "en"), None);
        assert_eq!(m(&a, "Yeah!", "en").as_deref(), Some("yes"));
        assert_eq!(m(&a, "NON", "fr").as_deref(), Some("no"));
    }

    #[test]
    fn scales_take_digits_in_any_script_and_number_words_within_bounds() {
        let a = ask(AnswerKind::Scale { min: 0, max: 3 });
        assert_eq!(m(&a, "３", "en").as_deref(), Some("3"));
        assert_eq!(m(&a, "two", "en").as_deref(), Some("2"));
        assert_eq!(m(&a, "4", "en"), None);
        assert_eq!(m(&a, "-1", "en"), None);
        assert_eq!(m(&a, "2/3", "en").as_deref(), Some("2"));
    }

    #[test]
    fn dates_take_iso_day_month_and_words() {
        let a = ask(AnswerKind::Date);
        assert_eq!(m(&a, "2026-12-03", "en").as_deref(), Some("2026-12-03"));
        assert_eq!(m(&a, "3/12/2026", "en").as_deref(), Some("2026-12-03"));
        assert_eq!(m(&a, "3/12", "en").as_deref(), Some("2026-12-03"));
        assert_eq!(
            m(&a, "1/1", "en").as_deref(),
            Some("2027-01-01"),
            "a past day and month means next year"
        );
        assert_eq!(m(&a, "tomorrow", "en").as_deref(), Some("2026-11-22"));
        assert_eq!(m(&a, "31/02/2026", "en"), None);
        assert_eq!(m(&a, "soon", "en"), None);
    }

    #[test]
    fn languages_match_by_name_code_or_number_and_free_text_keeps_what_was_typed() {
        let a = ask(AnswerKind::Language);
        assert_eq!(m(&a, "Français", "en").as_deref(), Some("fr"));
        assert_eq!(m(&a, "FR", "en").as_deref(), Some("fr"));
        assert_eq!(m(&a, "1", "fr").as_deref(), Some("en"));
        let t = ask(AnswerKind::Text);
        assert_eq!(
            m(&t, "  My family 👨‍👩‍👧 ", "en").as_deref(),
            Some("My family 👨‍👩‍👧")
        );
        assert_eq!(m(&t, "   ", "en"), None);
    }
}
