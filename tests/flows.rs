//! Flows, locales, the safety lexicons and the engine: everything shipped loads clean, every
//! transcript passes, bad files are refused with file and line, and the engine is pure.

use matters::app::{Content, load_content};
use matters::config::Config;
use matters::domain::{Locale, StepId};
use matters::flow::def::StepKind;
use matters::flow::engine::{self, Ctx, EngineError, Event, Input};
use matters::flow::{FlowSet, parse};
use matters::i18n::{Direction, Status, Vars};
use matters::safety::Intent;
use std::path::{Path, PathBuf};

fn content() -> Content {
    let (c, problems) = load_content(&Config::default());
    assert!(
        problems.is_empty(),
        "shipped content has problems:\n{}",
        problems
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    c
}

/// Every shipped locale turned on, as a centre serving all of them would.
const ALL: [&str; 9] = ["en", "fr", "ar", "zh-Hans", "pa", "es", "tl", "uk", "fa"];
const NEWCOMER: [&str; 7] = ["ar", "zh-Hans", "pa", "es", "tl", "uk", "fa"];

fn all_enabled() -> Config {
    Config {
        languages: ALL.iter().map(|l| (*l).to_owned()).collect(),
        ..Config::default()
    }
}

fn content_all() -> Content {
    let (c, problems) = load_content(&all_enabled());
    assert!(
        problems.is_empty(),
        "with every language on: {}",
        problems
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    c
}

fn locale(s: &str) -> Locale {
    Locale::parse(s).unwrap()
}

#[test]
fn every_shipped_flow_and_locale_loads_without_a_problem() {
    let c = content();
    let ids: Vec<String> = c.flows.current().map(|f| f.id.to_string()).collect();
    for want in [
        "belonging",
        "consent",
        "loneliness",
        "referral-followup",
        "well", /* prefix */
    ] {
        assert!(
            ids.iter().any(|i| i.starts_with(want)),
            "{want} missing from {ids:?}"
        );
    }
    assert_eq!(ids.len(), 12, "{ids:?}");
    assert_eq!(c.catalog.locales(), vec![locale("en"), locale("fr")]);
}

#[tokio::test]
async fn every_transcript_passes() {
    let cfg = Config::default();
    let report = matters::transcript::run_dir(&cfg, Path::new("flows/transcripts"))
        .await
        .unwrap();
    assert!(report.failures.is_empty(), "{}", report.failures.join("\n"));
    assert!(
        report.passed >= 20,
        "only {} transcripts ran",
        report.passed
    );
}

#[test]
fn every_shipped_flow_has_a_transcript_in_english_and_in_french() {
    let c = content();
    let mut covered = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir("flows/transcripts").unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let header = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(k).map(|v| v.trim().to_owned()))
        };
        covered.insert((
            header("flow:").unwrap(),
            header("lang:").unwrap_or_else(|| "en".into()),
        ));
    }
    for f in c.flows.current() {
        for l in ["en", "fr"] {
            assert!(
                covered.contains(&(f.id.to_string(), l.to_owned())),
                "no {l} transcript for {}",
                f.id
            );
        }
    }
}

/// A flows directory holding one flow file, checked against the shipped locales.
fn load_one(name: &str, source: &str) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("matters-flows-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.toml")), source).unwrap();
    let c = content();
    let (_, problems) = FlowSet::load(&dir, &c.catalog);
    std::fs::remove_dir_all(&dir).unwrap();
    problems
        .iter()
        .map(|p| p.to_string().replace(&format!("{}/", dir.display()), ""))
        .collect()
}

#[test]
fn a_bad_flow_is_refused_with_its_file_line_and_reason() {
    let src = r#"id = "bad"
spec_version = 1

[[step]]
id = "q"
ask = "no-such-message"
answer = { choice = ["often"] }
branch = { often = "nowhere" }

[[step]]
id = "after"
end = "completed"

[[step]]
id = "orphan"
say = "survey-thanks"
"#;
    let problems = load_one("bad", src);
    let has = |s: &str| problems.iter().any(|p| p == s);
    // An ask without a timeout waits the default 48 hours: not a problem.
    assert!(
        !problems.iter().any(|p| p.contains("timeout")),
        "{problems:#?}"
    );
    assert!(
        has("bad.toml:5: step q goes to nowhere, which does not exist"),
        "{problems:#?}"
    );
    assert!(
        has("bad.toml:5: message no-such-message is missing in locale en"),
        "{problems:#?}"
    );
    assert!(
        has("bad.toml:5: message no-such-message is missing in locale fr"),
        "{problems:#?}"
    );
    assert!(
        has("bad.toml:15: step orphan can never be reached"),
        "{problems:#?}"
    );
}

#[test]
fn a_flow_file_that_is_not_toml_names_its_line() {
    let problems = load_one("broken", "id = \"broken\"\nspec_version = 1\n[[step]\n");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("broken.toml:3: "), "{problems:?}");
}

#[test]
fn a_newer_spec_version_is_refused() {
    let problems = load_one(
        "future",
        "id = \"future\"\nspec_version = 2\n[[step]]\nid = \"a\"\nsay = \"survey-thanks\"\n",
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("future.toml:2: spec_version 2 is not supported")),
        "{problems:?}"
    );
}

fn ctx<'a>(c: &'a Content, flow: &'a matters::flow::Flow, vars: &'a Vars) -> Ctx<'a> {
    Ctx {
        flow,
        catalog: &c.catalog,
        vars,
        now: chrono::DateTime::from_timestamp(1_767_625_200, 0).unwrap(),
        tz: chrono_tz::America::Toronto,
    }
}

#[test]
fn the_engine_is_a_pure_function_of_its_inputs() {
    let c = content();
    let flow = c.flows.get(&"loneliness".parse().unwrap()).unwrap();
    let vars = Vars::from([
        ("centre".into(), "CSC".into()),
        ("program".into(), "x".into()),
    ]);
    let cx = ctx(&c, &flow, &vars);
    let (s1, e1) = engine::start(&cx, locale("fr")).unwrap();
    let (s2, e2) = engine::start(&cx, locale("fr")).unwrap();
    assert_eq!((s1.clone(), e1), (s2, e2));
    let a = engine::handle(&cx, &s1, Input::Reply("2")).unwrap();
    let b = engine::handle(&cx, &s1, Input::Reply("2")).unwrap();
    assert_eq!(a, b);
    assert!(a.1.iter().any(|e| matches!(e, Event::Answer { value: Some(v), score: Some(2), .. } if v == "some-of-the-time")));
    // The input state is untouched.
    assert_eq!(s1.awaiting, Some(StepId::parse("companionship").unwrap()));
}

#[test]
fn a_stale_timeout_does_nothing() {
    let c = content();
    let flow = c.flows.get(&"loneliness".parse().unwrap()).unwrap();
    let vars = Vars::new();
    let cx = ctx(&c, &flow, &vars);
    let (s, _) = engine::start(&cx, locale("en")).unwrap();
    let (s, _) = engine::handle(&cx, &s, Input::Reply("1")).unwrap();
    let old = StepId::parse("companionship").unwrap();
    let (after, events) = engine::handle(&cx, &s, Input::Timeout(&old)).unwrap();
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(after, s);
}

#[test]
fn a_flow_that_loops_without_asking_is_an_error_not_a_hang() {
    let src = "id = \"spin\"\nspec_version = 1\n[[step]]\nid = \"a\"\nsay = \"survey-thanks\"\ngoto = \"a\"\n";
    let flow = parse(&PathBuf::from("spin.toml"), src).unwrap();
    let c = content();
    let vars = Vars::new();
    let err = engine::start(&ctx(&c, &flow, &vars), locale("en")).unwrap_err();
    assert!(matches!(err, EngineError::Loop(_)), "{err:?}");
}

#[test]
fn every_ask_of_every_shipped_flow_has_a_timeout_and_its_options_have_labels_in_both_languages() {
    let c = content();
    for f in c.flows.current() {
        for s in &f.steps {
            let StepKind::Ask(a) = &s.kind else { continue };
            assert!(a.timeout.is_some(), "{}/{}", f.id, s.id);
            for l in c.catalog.locales() {
                for o in a.answer.options() {
                    assert!(c.catalog.defines(&l, &format!("opt-{o}")), "opt-{o} in {l}");
                }
            }
        }
    }
}

// --- Safety: keywords and the crisis lexicon -------------------------------------------------

fn corpus(name: &str) -> Vec<String> {
    std::fs::read_to_string(format!("tests/corpus/{name}"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn at_least_forty_crisis_phrases_per_language_trigger() {
    let c = content();
    for lang in ["en", "fr"] {
        let phrases = corpus(&format!("crisis-{lang}.txt"));
        assert!(
            phrases.len() >= 40,
            "{lang}: only {} phrases",
            phrases.len()
        );
        let missed: Vec<&String> = phrases
            .iter()
            .filter(|p| c.safety.classify(p) != Intent::Crisis)
            .collect();
        assert!(
            missed.is_empty(),
            "{lang}: these did not trigger: {missed:#?}"
        );
    }
}

#[test]
fn the_everyday_answers_of_every_shipped_flow_do_not_trigger() {
    let c = content();
    let mut everyday: Vec<String> = corpus("everyday-en.txt");
    everyday.extend(corpus("everyday-fr.txt"));
    for l in c.catalog.locales() {
        for f in c.flows.current() {
            for s in &f.steps {
                let StepKind::Ask(a) = &s.kind else { continue };
                for o in a.answer.options() {
                    let id = format!("opt-{o}");
                    everyday.push(c.catalog.format(&l, &id, &Vars::new()).unwrap());
                    everyday.extend(c.catalog.list_attribute(&l, &id, "synonyms"));
                }
            }
        }
    }
    assert!(everyday.len() > 200, "{}", everyday.len());
    let triggered: Vec<&String> = everyday.iter().filter(|t| c.safety.is_crisis(t)).collect();
    assert!(
        triggered.is_empty(),
        "everyday answers taken for a crisis: {triggered:#?}"
    );
}

#[test]
fn opt_out_keywords_are_whole_messages_in_any_case_and_accent() {
    let c = content();
    for stop in [
        "STOP",
        "stop",
        "Stop.",
        "STOPALL",
        "unsubscribe",
        "CANCEL",
        "end",
        "QUIT",
        "ARRÊT",
        "arret",
        "Arrête",
        "ARRETEZ",
        "désabonner",
    ] {
        assert_eq!(c.safety.classify(stop), Intent::Stop, "{stop}");
    }
    for not_stop in [
        "stop sending the bus times",
        "I can't stop worrying",
        "the end of the week",
    ] {
        assert_ne!(c.safety.classify(not_stop), Intent::Stop, "{not_stop}");
    }
    for start in ["START", "unstop", "Commencer"] {
        assert_eq!(c.safety.classify(start), Intent::Start, "{start}");
    }
    for help in ["HELP", "help!", "Info", "AIDE", "aide"] {
        assert_eq!(c.safety.classify(help), Intent::Help, "{help}");
    }
    for (word, lang) in [
        ("FRANÇAIS", "fr"),
        ("francais", "fr"),
        ("FR", "fr"),
        ("French", "fr"),
        ("ENGLISH", "en"),
        ("en", "en"),
        ("Anglais", "en"),
    ] {
        assert_eq!(
            c.safety.classify(word),
            Intent::Language(locale(lang)),
            "{word}"
        );
    }
    for skip in ["skip", "PASSER", "passe"] {
        assert_eq!(c.safety.classify(skip), Intent::Skip, "{skip}");
    }
}

#[test]
fn help_fits_one_sms_names_the_centre_and_says_how_to_stop_in_every_language() {
    let c = content();
    let vars = Vars::from([("centre".to_owned(), "CHC Centre-Ville".to_owned())]);
    for (lang, stop) in [("en", "STOP"), ("fr", "ARRET")] {
        let help = c.catalog.format(&locale(lang), "help", &vars).unwrap();
        assert!(
            help.chars().count() <= 160,
            "{lang}: {} characters",
            help.chars().count()
        );
        assert_eq!(matters::sms::cost(&help).segments, 1, "{lang}: {help}");
        assert!(
            help.contains("CHC Centre-Ville") && help.contains(stop) && help.contains("9-8-8"),
            "{lang}: {help}"
        );
    }
}

// --- Newcomer languages ----------------------------------------------------------------------

#[test]
fn every_listed_locale_is_complete_with_its_status_and_off_unless_turned_on() {
    // By default only the reviewed languages are on; the drafts are loaded, listed and off.
    let c = content();
    assert_eq!(c.catalog.locales(), vec![locale("en"), locale("fr")]);
    let available: Vec<String> = c
        .catalog
        .available()
        .iter()
        .map(ToString::to_string)
        .collect();
    for l in ALL {
        assert!(
            available.contains(&l.to_owned()),
            "{l} not found: {available:?}"
        );
    }
    let c = content_all();
    let report = matters::flow::report::locales(&c.catalog, &c.flows, "CHC Centre-Ville");
    assert_eq!(report.len(), ALL.len());
    for r in &report {
        assert!(r.enabled, "{}", r.locale);
        assert!(r.gaps.is_empty(), "{}: gaps {:?}", r.locale, r.gaps);
        assert_eq!(r.defined, r.total, "{}", r.locale);
        assert!(r.total > 90, "{}", r.total);
        let meta = r
            .meta
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no meta.toml", r.locale));
        let draft = NEWCOMER.contains(&r.locale.as_str());
        assert_eq!(
            meta.status,
            if draft {
                Status::Draft
            } else {
                Status::Reviewed
            },
            "{}",
            r.locale
        );
        if draft {
            assert!(meta.reviewed_by.is_none() && !meta.translated_by.is_empty());
        } else {
            assert!(meta.reviewed_by.is_some() && meta.reviewed_on.is_some());
        }
        for f in &r.flows {
            assert!(
                f.missing.is_empty(),
                "{}: {}: {:?}",
                r.locale,
                f.flow,
                f.missing
            );
        }
    }
    let dir = |l: &str| {
        report
            .iter()
            .find(|r| r.locale == l)
            .and_then(|r| r.meta.as_ref())
            .map(|m| m.direction)
    };
    assert_eq!(dir("ar"), Some(Direction::Rtl));
    assert_eq!(dir("fa"), Some(Direction::Rtl));
    assert_eq!(dir("pa"), Some(Direction::Ltr));
}

#[test]
fn every_message_in_every_locale_fits_two_segments_even_with_every_language_offered() {
    let c = content_all();
    for r in matters::flow::report::locales(&c.catalog, &c.flows, "CHC Centre-Ville") {
        let long: Vec<String> = r
            .too_long()
            .iter()
            .map(|m| format!("{} ({} chars, {})", m.name, m.chars, m.segments))
            .collect();
        assert!(long.is_empty(), "{}: {long:?}", r.locale);
        // Every question with options was measured as sent.
        assert!(
            r.messages
                .iter()
                .any(|m| m.name == "loneliness/companionship (as sent)"),
            "{}",
            r.locale
        );
    }
}

#[test]
fn every_instrument_item_in_a_newcomer_language_is_marked_as_a_project_translation() {
    for l in NEWCOMER {
        for file in ["loneliness.ftl", "wellbeing.ftl", "belonging.ftl"] {
            let src = std::fs::read_to_string(format!("locales/{l}/{file}")).unwrap();
            let lines: Vec<&str> = src.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                let item = ["ucla3-", "ons-lonely", "ons4-", "cchs-"]
                    .iter()
                    .any(|p| line.starts_with(p));
                if item {
                    assert!(
                        i > 0 && lines[i - 1].contains("project translation, pending validation"),
                        "{l}/{file}:{}: {line}",
                        i + 1
                    );
                }
            }
        }
    }
}

#[test]
fn a_crisis_phrase_in_each_newcomer_language_triggers_whoever_writes_it() {
    // With only English and French on: a client may write in a language the centre has not
    // turned on, and their crisis words must still count.
    for c in [content(), content_all()] {
        for lang in NEWCOMER {
            let phrases = corpus(&format!("crisis-{lang}.txt"));
            assert!(phrases.len() >= 10, "{lang}: only {}", phrases.len());
            let missed: Vec<&String> = phrases
                .iter()
                .filter(|p| c.safety.classify(p) != Intent::Crisis)
                .collect();
            assert!(missed.is_empty(), "{lang}: did not trigger: {missed:#?}");
        }
    }
}

#[test]
fn no_answer_word_of_any_language_is_a_keyword_or_crisis_language() {
    let c = content_all();
    let mut everyday: Vec<(String, String)> = Vec::new();
    for l in c.catalog.locales() {
        for f in c.flows.current() {
            for s in &f.steps {
                let StepKind::Ask(a) = &s.kind else { continue };
                for o in a.answer.options() {
                    let id = format!("opt-{o}");
                    let label = c.catalog.format(&l, &id, &Vars::new()).unwrap();
                    everyday.push((format!("{l} {id}"), label));
                    for w in c.catalog.list_attribute(&l, &id, "synonyms") {
                        everyday.push((format!("{l} {id}"), w));
                    }
                }
            }
        }
        for w in c.catalog.list_attribute(&l, "numbers", "words") {
            everyday.push((format!("{l} numbers"), w));
        }
    }
    for lang in NEWCOMER {
        everyday.extend(
            corpus(&format!("everyday-{lang}.txt"))
                .into_iter()
                .map(|t| (format!("everyday-{lang}"), t)),
        );
    }
    assert!(everyday.len() > 900, "{}", everyday.len());
    let clashes: Vec<String> = everyday
        .iter()
        .filter_map(|(from, w)| match c.safety.classify(w) {
            Intent::Other => None,
            i => Some(format!("{from}: {w:?} is {i:?}")),
        })
        .collect();
    assert!(clashes.is_empty(), "{clashes:#?}");
}

#[test]
fn stop_help_and_language_names_work_in_every_language() {
    let c = content_all();
    for (word, want) in [
        ("توقف", Intent::Stop),
        ("停止", Intent::Stop),
        ("退订", Intent::Stop),
        ("ਬੰਦ ਕਰੋ", Intent::Stop),
        ("Parar", Intent::Stop),
        ("TIGIL", Intent::Stop),
        ("Стоп", Intent::Stop),
        ("لغو", Intent::Stop),
        // Carriers' words work whatever the client's language.
        ("STOP", Intent::Stop),
        ("ARRÊT", Intent::Stop),
        ("مساعدة", Intent::Help),
        ("帮助", Intent::Help),
        ("ਮਦਦ", Intent::Help),
        ("Ayuda", Intent::Help),
        ("tulong", Intent::Help),
        ("Допомога", Intent::Help),
        ("کمک", Intent::Help),
        ("HELP", Intent::Help),
        ("AIDE", Intent::Help),
        ("تخطي", Intent::Skip),
        ("跳过", Intent::Skip),
    ] {
        assert_eq!(c.safety.classify(word), want, "{word}");
    }
    for (name, lang) in [
        ("العربية", "ar"),
        ("عربي", "ar"),
        ("中文", "zh-Hans"),
        ("普通话", "zh-Hans"),
        ("ਪੰਜਾਬੀ", "pa"),
        ("Punjabi", "pa"),
        ("Español", "es"),
        ("espanol", "es"),
        ("Tagalog", "tl"),
        ("Filipino", "tl"),
        ("Українська", "uk"),
        ("فارسی", "fa"),
        // Typed on an Arabic keyboard: ي for ی.
        ("فارسي", "fa"),
        ("zh-Hans", "zh-Hans"),
    ] {
        assert_eq!(
            c.safety.classify(name),
            Intent::Language(locale(lang)),
            "{name}"
        );
    }
}

/// Copies the shipped locales to a temporary directory, leaving out message `id` from each of
/// `files` (`ar/loneliness.ftl`).
fn locales_without(name: &str, id: &str, files: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("matters-locales-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for entry in walk(Path::new("locales")) {
        let rel = entry.strip_prefix("locales").unwrap();
        let to = dir.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        let mut text = std::fs::read_to_string(&entry).unwrap();
        if files.iter().any(|f| rel == Path::new(f)) {
            let kept: Vec<&str> = text
                .lines()
                .filter(|l| !l.starts_with(&format!("{id} =")))
                .collect();
            assert!(
                kept.len() < text.lines().count(),
                "{id} not in {}",
                rel.display()
            );
            text = kept.join("\n");
        }
        std::fs::write(to, text).unwrap();
    }
    dir
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn a_message_missing_in_a_locale_reaches_the_client_from_the_fallback_never_as_its_id() {
    let dir = locales_without("fallback", "ucla3-isolated", &["ar/loneliness.ftl"]);
    let cfg = Config {
        locales_dir: dir.clone(),
        languages: vec!["en".into(), "fr".into(), "ar".into()],
        ..Config::default()
    };
    // It loads (the chain has the message) and the gap is reported.
    let (c, problems) = load_content(&cfg);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        c.catalog.gaps(&locale("ar")),
        vec!["ucla3-isolated".to_owned()]
    );
    let report = matters::flow::report::locales(&c.catalog, &c.flows, "CHC");
    let ar = report.iter().find(|r| r.locale == "ar").unwrap();
    assert!(!ar.complete());
    assert_eq!(ar.defined + 1, ar.total);
    let lon = ar.flows.iter().find(|f| f.flow == "loneliness").unwrap();
    assert_eq!(lon.missing, vec!["ucla3-isolated".to_owned()]);
    // A client in Arabic gets that one question in English, with its options in Arabic.
    let script = dir.join("fallback.txt");
    std::fs::write(
        &script,
        "flow: loneliness\nlang: ar\n< @loneliness-intro\n< @ucla3-companionship\n> ١\n\
         < @ucla3-left-out\n> ٢\n< @ucla3-isolated\n& ~How often do you feel isolated from others?\n\
         & ~1 نادرًا\n> ٣\n< @ons-lonely\n& ~كم مرة\n> ٥\n< @survey-thanks\n= score ucla3 6\n",
    )
    .unwrap();
    let outcome = matters::transcript::run_file(&cfg, &script).await;
    std::fs::remove_dir_all(&dir).ok();
    outcome.unwrap();
}

#[test]
fn a_message_missing_in_every_locale_of_the_chain_is_an_error() {
    let dir = locales_without(
        "nochain",
        "ucla3-isolated",
        &["en/loneliness.ftl", "ar/loneliness.ftl"],
    );
    let cfg = Config {
        locales_dir: dir.clone(),
        languages: vec!["en".into(), "ar".into()],
        ..Config::default()
    };
    let (_c, problems) = load_content(&cfg);
    std::fs::remove_dir_all(&dir).ok();
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|p| p.contains("message ucla3-isolated is missing in locale ar")),
        "{text:?}"
    );
}

#[test]
fn help_and_the_crisis_reply_name_what_they_must_in_every_language() {
    let c = content_all();
    let vars = Vars::from([("centre".to_owned(), "CHC Centre-Ville".to_owned())]);
    for l in ALL {
        let help = c.catalog.format(&locale(l), "help", &vars).unwrap();
        assert!(c.catalog.defines(&locale(l), "help"), "{l}");
        // STOP stays in every language: carriers act on it.
        assert!(
            help.contains("CHC Centre-Ville") && help.contains("STOP") || l == "fr",
            "{l}: {help}"
        );
        assert!(
            help.contains("9-8-8") && help.contains("911"),
            "{l}: {help}"
        );
        assert!(matters::sms::cost(&help).segments <= 2, "{l}: {help}");
        let crisis = c.catalog.format(&locale(l), "crisis-reply", &vars).unwrap();
        assert!(
            crisis.contains("9-8-8") && crisis.contains("911"),
            "{l}: {crisis}"
        );
        // Each language's own name, never another's.
        assert_eq!(
            c.catalog.language_name(&locale(l)),
            c.catalog.meta(&locale(l)).unwrap().name,
            "{l}"
        );
    }
}
