//! The words' own tests: times for the reader, and every pattern's message in both languages.

use super::notes::*;
use super::{At, Words};
use crate::domain::Locale;
use crate::flow::FlowSet;
use crate::web::ui::UiText;
use regex::Regex;

#[test]
fn times_are_written_for_the_reader() {
    let ui = UiText::load();
    let (catalog, _) = crate::i18n::Catalog::load(
        std::path::Path::new("locales"),
        &[Locale::parse("en").unwrap(), Locale::parse("fr").unwrap()],
        &Locale::parse("en").unwrap(),
    );
    let flows = FlowSet::default();
    let w = |lang| Words {
        ui: &ui,
        catalog: &catalog,
        flows: &flows,
        lang,
        tz: chrono_tz::America::Toronto,
    };
    let at = At::parse("2026-11-30T14:00:00Z").unwrap();
    assert_eq!(w("fr").when(at), "lun. 30 nov. 2026, 9 h 00");
    assert_eq!(w("en").when(at), "Mon 30 Nov 2026, 9:00");
    assert_eq!(
        w("fr").local_label("Mon 2026-11-16 10:00 EST"),
        "lun. 16 nov. 2026, 10 h 00 (EST)"
    );
    assert_eq!(w("fr").duration("2 d 4 h"), "2 j 4 h");
    assert_eq!(w("fr").language("fr"), "Français");
}

#[test]
fn every_pattern_compiles_and_its_message_is_in_both_languages() {
    let tables: [(&str, Table); 5] = [
        ("flag notes", FLAG_NOTES),
        ("job notes", JOB_NOTES),
        ("audit details", AUDIT_DETAILS),
        ("errors", ERRORS),
        ("delivery errors", DELIVERY_ERRORS),
    ];
    let mut all: Vec<(&str, &str, &str)> = tables
        .iter()
        .flat_map(|(name, t)| t.iter().map(move |(p, k)| (*name, *p, *k)))
        .collect();
    all.extend(
        AUDIT_BY_ACTION
            .iter()
            .map(|(_, p, k)| ("audit by action", *p, *k)),
    );
    for lang in ["en", "fr"] {
        let keys = UiText::keys(lang);
        for (table, pattern, key) in &all {
            assert!(
                Regex::new(&format!("^{pattern}$")).is_ok(),
                "{table}: {pattern:?} is not a valid pattern"
            );
            assert!(keys.iter().any(|k| k == key), "{table}: no {key} in {lang}");
        }
    }
    assert_eq!(AUDIT_ACTION.len(), AUDIT_BY_ACTION.len());
    // Every audit action has a label in both languages.
    for lang in ["en", "fr"] {
        let keys = UiText::keys(lang);
        for a in AUDIT_ACTIONS {
            assert!(
                keys.iter().any(|k| *k == format!("audit-{a}")),
                "audit-{a} in {lang}"
            );
        }
    }
}

/// A syntax error in the interface's wording drops the broken message silently at load: every
/// entry must parse, in both languages.
#[test]
fn the_interface_wording_parses_without_an_error() {
    for (lang, src) in [
        ("en", include_str!("../../../../locales/ui/en.ftl")),
        ("fr", include_str!("../../../../locales/ui/fr.ftl")),
    ] {
        if let Err((_, errors)) = fluent_bundle::FluentResource::try_new(src.to_owned()) {
            panic!("locales/ui/{lang}.ftl: {errors:?}");
        }
    }
}
