//! Flows, locales, the safety lexicons and the engine: everything shipped loads clean, every
//! transcript passes, bad files are refused with file and line, and the engine is pure.

use matters::app::{Content, load_content};
use matters::config::Config;
use matters::domain::{Locale, StepId};
use matters::flow::def::StepKind;
use matters::flow::engine::{self, Ctx, EngineError, Event, Input};
use matters::flow::{FlowSet, parse};
use matters::i18n::Vars;
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
    assert_eq!(ids.len(), 6, "{ids:?}");
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
