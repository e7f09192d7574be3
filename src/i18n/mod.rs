//! All wording lives in Fluent files under `locales/<lang>/`. The catalog loads them, negotiates
//! a client's language (`fr-CA` → `fr` → the centre's default) and formats messages with the
//! names of the centre and the program. A message missing in a language falls back along that
//! chain, so a client never receives a raw message id.

pub mod normalize;
mod prepared;

pub use prepared::Words;

use crate::domain::Locale;
use crate::problem::Problem;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Values for the variables messages may use: `centre`, `program`, `name`…
pub type Vars = BTreeMap<String, String>;

struct LocaleBundle {
    bundle: FluentBundle<FluentResource>,
    /// Message id → the file that defines it.
    sources: BTreeMap<String, PathBuf>,
}

/// Every locale's messages: the enabled ones, which clients may be written in, and the other
/// locales found under the directory (with a `meta.toml`), loaded so that `flows check` and the
/// Flows page can report on them and their crisis words still count.
pub struct Catalog {
    default: Locale,
    bundles: HashMap<Locale, LocaleBundle>,
    dirs: BTreeMap<Locale, PathBuf>,
    /// In the order the deployment lists them: the consent question offers them so.
    enabled: Vec<Locale>,
    metas: BTreeMap<Locale, LocaleMeta>,
    /// Answer options' words, prepared once per catalog (a flow revision's wording) and locale:
    /// matching a reply reads them instead of formatting and folding every label again.
    prepared: Mutex<HashMap<(Locale, String), Arc<Words>>>,
}

/// Whether a locale's wording has been checked by a fluent speaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Written by the project, not yet checked: off unless a deployment enables it.
    Draft,
    Reviewed,
}

impl Status {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Reviewed => "reviewed",
        }
    }
}

/// Which way a script runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[default]
    Ltr,
    Rtl,
}

/// `locales/<lang>/meta.toml`: what a locale is and who vouches for its wording.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct LocaleMeta {
    /// The language's own name (`العربية`).
    pub name: String,
    /// Its name in English, for staff (`Arabic`).
    pub english_name: String,
    #[serde(default)]
    pub direction: Direction,
    pub status: Status,
    /// Who wrote the wording, and when (`YYYY-MM-DD`).
    pub translated_by: String,
    pub translated_on: String,
    /// Who checked it, and when: required once the status is `reviewed`.
    #[serde(default)]
    pub reviewed_by: Option<String>,
    #[serde(default)]
    pub reviewed_on: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

impl LocaleMeta {
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let date = |field: &str, v: &str| {
            chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .err()
                .map(|_| format!("{field} {v:?} is not a date like 2026-11-21"))
        };
        out.extend(date("translated_on", &self.translated_on));
        match (self.status, &self.reviewed_by, &self.reviewed_on) {
            (Status::Reviewed, Some(by), Some(on)) if !by.trim().is_empty() => {
                out.extend(date("reviewed_on", on));
            }
            (Status::Reviewed, ..) => out.push(
                "status is reviewed, so reviewed_by and reviewed_on must say who checked it and when"
                    .into(),
            ),
            (Status::Draft, None, None) => {}
            (Status::Draft, ..) => out.push(
                "status is draft, yet reviewed_by or reviewed_on is set: make it reviewed, or remove them"
                    .into(),
            ),
        }
        out
    }
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("default", &self.default)
            .field("locales", &self.dirs.keys())
            .finish()
    }
}

/// Why a message could not be formatted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("message {id:?} is missing in {locale} and every fallback")]
pub struct Missing {
    pub id: String,
    pub locale: Locale,
}

impl Catalog {
    /// Loads `dir/<locale>/*.ftl` for each of `locales`. Problems (a missing directory, a parse
    /// error, a message defined twice) are returned beside whatever loaded, so a check can list
    /// them all.
    ///
    /// Every other subdirectory with a `meta.toml` is loaded too, as an available locale that is
    /// not enabled; its problems are reported the same way.
    pub fn load(dir: &Path, locales: &[Locale], default: &Locale) -> (Self, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut bundles = HashMap::new();
        let mut dirs = BTreeMap::new();
        let mut metas = BTreeMap::new();
        let mut enabled: Vec<Locale> = Vec::new();
        for l in locales {
            if !enabled.contains(l) {
                enabled.push(l.clone());
            }
        }
        let mut all = enabled.clone();
        all.extend(discover(dir).into_iter().filter(|l| !enabled.contains(l)));
        for locale in &all {
            let ldir = dir.join(locale.as_str());
            let meta_file = ldir.join("meta.toml");
            match std::fs::read_to_string(&meta_file) {
                Ok(src) => match toml::from_str::<LocaleMeta>(&src) {
                    Ok(meta) => {
                        problems.extend(
                            meta.problems()
                                .into_iter()
                                .map(|m| Problem::new(&meta_file, 0, m)),
                        );
                        metas.insert(locale.clone(), meta);
                    }
                    Err(e) => problems.push(Problem::at(
                        &meta_file,
                        &src,
                        e.span().map_or(0, |r| r.start),
                        e.message().trim(),
                    )),
                },
                // A locale without one is reported by `flows check` as of unknown status.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => problems.push(Problem::new(&meta_file, 0, format!("cannot read: {e}"))),
            }
            let (bundle, mut p) = load_locale(&ldir, locale);
            problems.append(&mut p);
            dirs.insert(locale.clone(), ldir);
            bundles.insert(locale.clone(), bundle);
        }
        if !enabled.contains(default) {
            problems.push(Problem::new(
                dir,
                0,
                format!("the default language {default} is not among the enabled ones"),
            ));
        }
        (
            Self {
                default: default.clone(),
                bundles,
                dirs,
                enabled,
                metas,
                prepared: Mutex::default(),
            },
            problems,
        )
    }

    #[must_use]
    pub fn default_locale(&self) -> &Locale {
        &self.default
    }

    /// The enabled locales, in the order the deployment lists them.
    #[must_use]
    pub fn locales(&self) -> Vec<Locale> {
        self.enabled.clone()
    }

    /// Every loaded locale: the enabled ones, then the others found, by tag.
    #[must_use]
    pub fn available(&self) -> Vec<Locale> {
        let mut all = self.enabled.clone();
        all.extend(
            self.dirs
                .keys()
                .filter(|l| !self.enabled.contains(l))
                .cloned(),
        );
        all
    }

    #[must_use]
    pub fn is_enabled(&self, locale: &Locale) -> bool {
        self.enabled.contains(locale)
    }

    /// A locale's `meta.toml`, when it has one.
    #[must_use]
    pub fn meta(&self, locale: &Locale) -> Option<&LocaleMeta> {
        self.metas.get(locale)
    }

    /// The enabled locale that serves a wanted one: exact, then by language, then the default.
    #[must_use]
    pub fn negotiate(&self, wanted: &Locale) -> Locale {
        if self.enabled.contains(wanted) {
            return wanted.clone();
        }
        self.enabled
            .iter()
            .find(|l| l.language() == wanted.language())
            .cloned()
            .unwrap_or_else(|| self.default.clone())
    }

    /// The chain a message is looked up along for `locale`.
    fn chain(&self, locale: &Locale) -> Vec<&LocaleBundle> {
        let mut order = vec![locale.clone()];
        if let Ok(lang) = Locale::parse(locale.language()) {
            order.push(lang);
        }
        order.push(self.default.clone());
        let mut seen = BTreeSet::new();
        order
            .into_iter()
            .filter(|l| seen.insert(l.clone()))
            .filter_map(|l| self.bundles.get(&l))
            .collect()
    }

    /// Whether `locale` itself (no fallback) defines message `id`.
    #[must_use]
    pub fn defines(&self, locale: &Locale, id: &str) -> bool {
        self.bundles
            .get(locale)
            .is_some_and(|b| b.bundle.has_message(id))
    }

    /// A language's own name (`العربية`): its `language-name`, else its `meta.toml` name, else
    /// its tag. Never another language's name, which a fallback would give.
    #[must_use]
    pub fn language_name(&self, locale: &Locale) -> String {
        if self.defines(locale, "language-name")
            && let Ok(name) = self.format(locale, "language-name", &Vars::new())
        {
            return name;
        }
        self.meta(locale)
            .map_or_else(|| locale.to_string(), |m| m.name.clone())
    }

    /// Everything a client may type to choose a language: its own name, its `.synonyms`, its
    /// `meta.toml` names and its tag.
    #[must_use]
    pub fn language_words(&self, locale: &Locale) -> Vec<String> {
        let mut words = if self.defines(locale, "language-name") {
            self.list_attribute(locale, "language-name", "synonyms")
        } else {
            Vec::new()
        };
        words.push(self.language_name(locale));
        if let Some(m) = self.meta(locale) {
            words.push(m.name.clone());
            words.push(m.english_name.clone());
        }
        words.push(locale.to_string());
        words
    }

    /// Whether message `id` reaches a client in `locale`: defined there or along its chain.
    #[must_use]
    pub fn resolves(&self, locale: &Locale, id: &str) -> bool {
        self.chain(locale).iter().any(|b| b.bundle.has_message(id))
    }

    /// The default locale's messages that `locale` does not define itself: each is sent from
    /// further along the chain (the default language, at the last).
    #[must_use]
    pub fn gaps(&self, locale: &Locale) -> Vec<String> {
        self.bundles
            .get(&self.default)
            .map(|d| {
                d.sources
                    .keys()
                    .filter(|id| !self.defines(locale, id))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many messages the default locale has: what a complete locale defines.
    #[must_use]
    pub fn message_count(&self) -> usize {
        self.bundles
            .get(&self.default)
            .map_or(0, |d| d.sources.len())
    }

    /// Message ids `locale` defines, with the file each comes from.
    #[must_use]
    pub fn message_sources(&self, locale: &Locale) -> BTreeMap<String, PathBuf> {
        self.bundles
            .get(locale)
            .map(|b| b.sources.clone())
            .unwrap_or_default()
    }

    /// Formats message `id` in `locale`, falling back along the chain.
    pub fn format(&self, locale: &Locale, id: &str, vars: &Vars) -> Result<String, Missing> {
        self.format_with_errors(locale, id, vars)
            .map(|(text, _)| text)
    }

    /// Like [`Catalog::format`], also returning Fluent's complaints (an unknown variable…).
    pub fn format_with_errors(
        &self,
        locale: &Locale,
        id: &str,
        vars: &Vars,
    ) -> Result<(String, Vec<String>), Missing> {
        let args = to_args(vars);
        for b in self.chain(locale) {
            let Some(pattern) = b.bundle.get_message(id).and_then(|m| m.value()) else {
                continue;
            };
            let mut errors = Vec::new();
            let text = b
                .bundle
                .format_pattern(pattern, Some(&args), &mut errors)
                .into_owned();
            return Ok((text, errors.iter().map(ToString::to_string).collect()));
        }
        Err(Missing {
            id: id.to_owned(),
            locale: locale.clone(),
        })
    }

    /// An attribute of a message (e.g. `.synonyms`), falling back along the chain only when the
    /// message itself is missing: a language that defines an option but no synonyms has none.
    #[must_use]
    pub fn attribute(&self, locale: &Locale, id: &str, attr: &str, vars: &Vars) -> Option<String> {
        let args = to_args(vars);
        for b in self.chain(locale) {
            let Some(msg) = b.bundle.get_message(id) else {
                continue;
            };
            let pattern = msg.get_attribute(attr)?.value();
            let mut errors = Vec::new();
            return Some(
                b.bundle
                    .format_pattern(pattern, Some(&args), &mut errors)
                    .into_owned(),
            );
        }
        None
    }

    /// A comma-separated list attribute, split and trimmed.
    #[must_use]
    pub fn list_attribute(&self, locale: &Locale, id: &str, attr: &str) -> Vec<String> {
        self.attribute(locale, id, attr, &Vars::new())
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Subdirectories of `dir` that hold a locale: a language tag as name and a `meta.toml`.
fn discover(dir: &Path) -> Vec<Locale> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<Locale> = rd
        .filter_map(Result::ok)
        .filter(|e| e.path().join("meta.toml").is_file())
        .filter_map(|e| Locale::parse(&e.file_name().to_string_lossy()).ok())
        .collect();
    found.sort();
    found
}

fn to_args(vars: &Vars) -> FluentArgs<'_> {
    let mut args = FluentArgs::new();
    for (k, v) in vars {
        args.set(k.as_str(), v.as_str());
    }
    args
}

fn load_locale(dir: &Path, locale: &Locale) -> (LocaleBundle, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut bundle = FluentBundle::new_concurrent(vec![locale.langid()]);
    // Unicode isolation marks around placeables would turn every SMS with a name in it into
    // UCS-2 and cost clients double; names here are short and in the message's own script.
    bundle.set_use_isolating(false);
    let mut sources: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "ftl"))
            .collect(),
        Err(e) => {
            problems.push(Problem::new(
                dir,
                0,
                format!("cannot read the locale directory: {e}"),
            ));
            Vec::new()
        }
    };
    files.sort();
    for file in files {
        let source = match std::fs::read_to_string(&file) {
            Ok(s) => s,
            Err(e) => {
                problems.push(Problem::new(&file, 0, format!("cannot read: {e}")));
                continue;
            }
        };
        let resource = match FluentResource::try_new(source.clone()) {
            Ok(r) => r,
            Err((r, errors)) => {
                for e in errors {
                    // Report the entry the error is in, where the parser knows it: that is
                    // where a writer looks.
                    let at = e.slice.as_ref().map_or(e.pos.start, |s| s.start);
                    problems.push(Problem::at(
                        &file,
                        &source,
                        at,
                        format!("Fluent syntax: {:?}", e.kind),
                    ));
                }
                r
            }
        };
        for entry in resource.entries() {
            if let fluent_syntax::ast::Entry::Message(m) = entry {
                let id = m.id.name.to_owned();
                if let Some(first) = sources.get(&id) {
                    let offset = source.find(&format!("\n{id} =")).map_or(0, |o| o + 1);
                    problems.push(Problem::at(
                        &file,
                        &source,
                        offset,
                        format!(
                            "message {id} is defined again (first in {})",
                            first.display()
                        ),
                    ));
                }
                sources.entry(id).or_insert_with(|| file.clone());
            }
        }
        // Duplicates are reported above; add the rest.
        bundle.add_resource_overriding(resource);
    }
    (LocaleBundle { bundle, sources }, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> (tempdir::Dir, Catalog) {
        let d = tempdir::Dir::new();
        d.write("en/a.ftl", "hello = Hello from { $centre }\nonly-en = English only\nopt = Often\n    .synonyms = a lot, frequently\n");
        d.write(
            "fr/a.ftl",
            "hello = Bonjour de { $centre }\nopt = Souvent\n",
        );
        let locales = [Locale::parse("en").unwrap(), Locale::parse("fr").unwrap()];
        let (c, problems) = Catalog::load(d.path(), &locales, &locales[0]);
        assert!(problems.is_empty(), "{problems:?}");
        (d, c)
    }

    #[test]
    fn negotiates_region_to_language_to_default() {
        let (_d, c) = catalog();
        assert_eq!(c.negotiate(&Locale::parse("fr-CA").unwrap()).as_str(), "fr");
        assert_eq!(c.negotiate(&Locale::parse("es").unwrap()).as_str(), "en");
        assert_eq!(c.negotiate(&Locale::parse("en").unwrap()).as_str(), "en");
    }

    #[test]
    fn formats_without_isolation_marks_and_falls_back_to_default() {
        let (_d, c) = catalog();
        let fr = Locale::parse("fr").unwrap();
        let vars = Vars::from([("centre".to_owned(), "CSC Centre-Ville".to_owned())]);
        assert_eq!(
            c.format(&fr, "hello", &vars).unwrap(),
            "Bonjour de CSC Centre-Ville"
        );
        assert_eq!(c.format(&fr, "only-en", &vars).unwrap(), "English only");
        assert!(c.format(&fr, "nowhere", &vars).is_err());
        assert_eq!(
            c.list_attribute(&Locale::parse("en").unwrap(), "opt", "synonyms"),
            vec!["a lot", "frequently"]
        );
        assert!(c.list_attribute(&fr, "opt", "synonyms").is_empty());
    }

    #[test]
    fn finds_locales_by_their_meta_and_checks_who_vouches_for_them() {
        let d = tempdir::Dir::new();
        let meta = |status: &str, extra: &str| {
            format!(
                "name = \"X\"\nenglish_name = \"X\"\nstatus = \"{status}\"\ntranslated_by = \"us\"\ntranslated_on = \"2026-11-21\"\n{extra}"
            )
        };
        d.write("en/a.ftl", "hello = Hello\nlanguage-name = English\n");
        d.write(
            "en/meta.toml",
            &meta(
                "reviewed",
                "reviewed_by = \"Ana\"\nreviewed_on = \"2026-11-21\"\n",
            ),
        );
        d.write("ar/a.ftl", "hello = مرحبا\n");
        d.write("ar/meta.toml", &meta("draft", ""));
        // Not a locale: no meta.toml (the web UI's wording lives beside the locales).
        d.write("ui/en.ftl", "x = y\n");
        // Reviewed without saying by whom; a draft claiming a reviewer; a bad date.
        d.write("es/a.ftl", "hello = Hola\n");
        d.write("es/meta.toml", &meta("reviewed", ""));
        d.write("uk/a.ftl", "hello = Привіт\n");
        d.write("uk/meta.toml", &meta("draft", "reviewed_by = \"Ana\"\n"));
        d.write("fa/a.ftl", "hello = سلام\n");
        d.write(
            "fa/meta.toml",
            &meta("draft", "").replace("2026-11-21", "21/11/2026"),
        );
        let en = Locale::parse("en").unwrap();
        let (c, problems) = Catalog::load(d.path(), std::slice::from_ref(&en), &en);
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 3, "{text:?}");
        assert!(
            text.iter()
                .any(|p| p.contains("es") && p.contains("reviewed_by and reviewed_on"))
        );
        assert!(
            text.iter()
                .any(|p| p.contains("uk") && p.contains("status is draft"))
        );
        assert!(
            text.iter()
                .any(|p| p.contains("fa") && p.contains("not a date"))
        );
        let avail: Vec<String> = c.available().iter().map(ToString::to_string).collect();
        assert_eq!(avail, ["en", "ar", "es", "fa", "uk"]);
        assert_eq!(c.locales(), vec![en.clone()]);
        let ar = Locale::parse("ar").unwrap();
        assert!(!c.is_enabled(&ar));
        assert_eq!(c.meta(&ar).unwrap().status, Status::Draft);
        // Not enabled: a client asking for Arabic is served in the default.
        assert_eq!(c.negotiate(&ar), en);
        // Arabic has no language-name: its meta's name, never English's by fallback.
        assert_eq!(c.language_name(&ar), "X");
        assert_eq!(c.language_name(&en), "English");
        assert_eq!(c.gaps(&ar), vec!["language-name".to_owned()]);
        assert!(c.resolves(&ar, "language-name"));
        assert!(!c.resolves(&ar, "nowhere"));
    }

    #[test]
    fn reports_syntax_errors_and_duplicates_with_lines() {
        let d = tempdir::Dir::new();
        d.write("en/a.ftl", "ok = fine\n\nbroken = { \n");
        d.write("en/b.ftl", "x = one\nok = again\n");
        let en = Locale::parse("en").unwrap();
        let (_c, problems) = Catalog::load(d.path(), std::slice::from_ref(&en), &en);
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(
            text.iter().any(|p| p.contains("a.ftl:3: Fluent syntax")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|p| p.contains("b.ftl:2: message ok is defined again")),
            "{text:?}"
        );
    }
}

/// A throwaway directory for tests, removed on drop.
#[cfg(test)]
pub(crate) mod tempdir {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new() -> Self {
            static N: AtomicUsize = AtomicUsize::new(0);
            let p = std::env::temp_dir().join(format!(
                "matters-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ));
            std::fs::create_dir_all(&p).unwrap();
            Self(p)
        }
        pub fn path(&self) -> &Path {
            &self.0
        }
        pub fn write(&self, rel: &str, text: &str) {
            let p = self.0.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
