//! What is handled before any flow: opt-out, opt-in and help keywords, a language switch, and
//! crisis language. Keywords and the crisis lexicon are data, under `locales/<lang>/`
//! (`keywords.toml`, `crisis.txt`); every enabled language's words apply to every client, since
//! a client in crisis or wanting to stop may not write in the language we think they speak.

use crate::domain::Locale;
use crate::i18n::Catalog;
use crate::i18n::normalize::{fold, words};
use crate::problem::Problem;
use serde::Deserialize;
use std::collections::HashSet;
use std::path::Path;

/// What a whole message means before any flow sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Stop,
    Start,
    Help,
    Language(Locale),
    /// Which languages can I have? (Telegram's `/language` with no name.)
    Languages,
    Crisis,
    Skip,
    /// Anything else: for the flow.
    Other,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeywordFile {
    #[serde(default)]
    stop: Vec<String>,
    #[serde(default)]
    start: Vec<String>,
    #[serde(default)]
    help: Vec<String>,
    #[serde(default)]
    skip: Vec<String>,
}

/// A crisis lexicon entry: words matched on word boundaries, the last one a prefix if it ends
/// with `*`.
#[derive(Debug, Clone)]
struct Phrase {
    words: String,
}

/// The keyword sets and the crisis lexicon of every enabled language.
#[derive(Debug, Default)]
pub struct Safety {
    stop: HashSet<String>,
    start: HashSet<String>,
    help: HashSet<String>,
    skip: HashSet<String>,
    languages: Vec<(Locale, HashSet<String>)>,
    crisis: Vec<Phrase>,
}

impl Safety {
    /// Loads `keywords.toml` and `crisis.txt` of every locale in `catalog`, enabled or only
    /// available (a client may write in a language the centre has not turned on: their crisis
    /// words and their STOP still count), and the language names from the catalog itself.
    pub fn load(locales_dir: &Path, catalog: &Catalog) -> (Self, Vec<Problem>) {
        let mut s = Self::default();
        let mut problems = Vec::new();
        for locale in catalog.available() {
            let dir = locales_dir.join(locale.as_str());
            let kw_file = dir.join("keywords.toml");
            match std::fs::read_to_string(&kw_file) {
                Ok(src) => match toml::from_str::<KeywordFile>(&src) {
                    Ok(kw) => {
                        let fold_all = |v: Vec<String>| {
                            v.into_iter().map(|w| fold(&w)).filter(|w| !w.is_empty())
                        };
                        s.stop.extend(fold_all(kw.stop));
                        s.start.extend(fold_all(kw.start));
                        s.help.extend(fold_all(kw.help));
                        s.skip.extend(fold_all(kw.skip));
                    }
                    Err(e) => problems.push(Problem::at(
                        &kw_file,
                        &src,
                        e.span().map_or(0, |r| r.start),
                        e.message().trim(),
                    )),
                },
                Err(e) => problems.push(Problem::new(&kw_file, 0, format!("cannot read: {e}"))),
            }
            let crisis_file = dir.join("crisis.txt");
            match std::fs::read_to_string(&crisis_file) {
                Ok(src) => {
                    for (i, line) in src.lines().enumerate() {
                        let line = line.trim();
                        if line.is_empty() || line.starts_with('#') {
                            continue;
                        }
                        let prefix = line.ends_with('*');
                        let w = words(line.trim_end_matches('*'));
                        if w.trim().is_empty() {
                            problems.push(Problem::new(
                                &crisis_file,
                                i + 1,
                                "a phrase with no words",
                            ));
                            continue;
                        }
                        let w = if prefix { w.trim_end().to_owned() } else { w };
                        s.crisis.push(Phrase { words: w });
                    }
                }
                Err(e) => problems.push(Problem::new(&crisis_file, 0, format!("cannot read: {e}"))),
            }
            let names: HashSet<String> = catalog
                .language_words(&locale)
                .iter()
                .map(|w| fold(w))
                .filter(|w| !w.is_empty())
                .collect();
            s.languages.push((locale, names));
        }
        for (kind, set) in [("stop", &s.stop), ("start", &s.start), ("help", &s.help)] {
            if set.is_empty() {
                problems.push(Problem::new(
                    locales_dir,
                    0,
                    format!("no {kind} keywords in any enabled language"),
                ));
            }
        }
        (s, problems)
    }

    /// What `text`, taken as a whole message, means before any flow.
    #[must_use]
    pub fn classify(&self, text: &str) -> Intent {
        let typed = fold(text);
        if self.stop.contains(&typed) {
            return Intent::Stop;
        }
        if self.start.contains(&typed) {
            return Intent::Start;
        }
        if self.help.contains(&typed) {
            return Intent::Help;
        }
        if let Some((l, _)) = self
            .languages
            .iter()
            .find(|(_, names)| names.contains(&typed))
        {
            return Intent::Language(l.clone());
        }
        if self.is_crisis(text) {
            return Intent::Crisis;
        }
        if self.skip.contains(&typed) {
            return Intent::Skip;
        }
        Intent::Other
    }

    /// Whether `text` holds crisis language anywhere in it. Deliberately over-triggers.
    #[must_use]
    pub fn is_crisis(&self, text: &str) -> bool {
        // Entries are padded with spaces at word boundaries; a prefix entry has no trailing
        // space, so " suicid" matches " suicidal ".
        let w = words(text);
        self.crisis.iter().any(|p| w.contains(p.words.as_str()))
    }
}
