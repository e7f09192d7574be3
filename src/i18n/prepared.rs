//! Wording prepared once per catalog (a flow revision's wording) and locale, so that matching a
//! reply reads it instead of formatting and folding every option again.

use super::{Catalog, Vars, normalize};
use crate::domain::Locale;
use std::sync::Arc;

/// What a client may type for one answer option in one locale, prepared once: its label when
/// it is plain text (else it is formatted with the client's variables each time), and each of
/// its words folded (a whole-message match) and spaced as words (a match inside a sentence).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Words {
    pub label: Option<String>,
    pub folded: Vec<String>,
    pub spaced: Vec<String>,
}

impl Words {
    /// Prepares `words` (and `label`, when it is fixed, as one of them).
    #[must_use]
    pub fn new(label: Option<String>, words: impl IntoIterator<Item = String>) -> Self {
        let mut out = Self::default();
        for w in words.into_iter().chain(label.clone()) {
            out.spaced.push(normalize::words(&w));
            out.folded.push(normalize::fold(&w));
        }
        out.label = label;
        out
    }
}

impl Catalog {
    /// Message `id`'s text when it is plain text, the same whatever the variables (no
    /// placeable), as it reaches a client in `locale`; else `None`.
    #[must_use]
    pub fn plain_text(&self, locale: &Locale, id: &str) -> Option<String> {
        let pattern = self
            .chain(locale)
            .into_iter()
            .find_map(|b| b.bundle.get_message(id).and_then(|m| m.value()))?;
        let plain = pattern
            .elements
            .iter()
            .all(|e| matches!(e, fluent_syntax::ast::PatternElement::TextElement { .. }));
        plain
            .then(|| self.format(locale, id, &Vars::new()).ok())
            .flatten()
    }

    /// The words prepared under `key` for `locale`, made by `make` the first time they are
    /// asked for. The catalog is the flow revision's wording, so they live as long as it.
    pub fn prepared(&self, locale: &Locale, key: &str, make: impl FnOnce() -> Words) -> Arc<Words> {
        let k = (locale.clone(), key.to_owned());
        if let Some(w) = self.prepared.lock().ok().and_then(|m| m.get(&k).cloned()) {
            return w;
        }
        // Made outside the lock: two replies at once may both make them; either is kept.
        let w = Arc::new(make());
        if let Ok(mut m) = self.prepared.lock() {
            return m.entry(k).or_insert(w).clone();
        }
        w
    }
}
