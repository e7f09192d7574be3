//! Normalization of what clients type, so that matching is case-, accent- and script-tolerant:
//! "ARRÊT" = "arret", "٣" = "3", "  Souvent! 🙂" = "souvent".

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Zero code points of the decimal digit runs clients are likely to type. Full-width digits are
/// folded by NFKD already.
const DIGIT_ZEROS: &[u32] = &[
    0x0660, // Arabic-Indic
    0x06F0, // Extended Arabic-Indic (Persian, Urdu)
    0x0966, // Devanagari
    0x09E6, // Bengali
    0x0A66, // Gurmukhi (Punjabi)
    0x0AE6, // Gujarati
    0x0BE6, // Tamil
    0x0E50, // Thai
    0x1040, // Myanmar
    0x17E0, // Khmer
    0xFF10, // Full-width
];

/// The ASCII digit for any decimal digit we know, else `None`.
#[must_use]
pub fn ascii_digit(c: char) -> Option<char> {
    if c.is_ascii_digit() {
        return Some(c);
    }
    let cp = c as u32;
    DIGIT_ZEROS
        .iter()
        .find(|&&zero| (zero..zero + 10).contains(&cp))
        .and_then(|&zero| char::from_digit(cp - zero, 10))
}

/// Folds text for comparison: compatibility decomposition, accents and case dropped, every
/// known digit made ASCII, typographic apostrophes made plain, runs of white space made one
/// space, and anything that is neither a letter nor a digit trimmed from both ends.
#[must_use]
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        let c = match c {
            '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`' | '\u{00B4}' => '\'',
            _ => ascii_digit(c).unwrap_or(c),
        };
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.extend(c.to_lowercase());
    }
    // A message of only emoji or punctuation ("👍") keeps its symbols, so it can still match.
    match trim_edges(&out) {
        "" => out,
        t => t.to_owned(),
    }
}

/// Folds text and then turns every run of non-alphanumeric characters into one space, dropping
/// apostrophes altogether ("can't" → "cant"): the form lexicon phrases are searched in.
#[must_use]
pub fn words(text: &str) -> String {
    let folded = fold(text);
    let mut out = String::with_capacity(folded.len() + 2);
    out.push(' ');
    for c in folded.chars() {
        if c == '\'' {
            continue;
        }
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

fn trim_edges(s: &str) -> &str {
    s.trim_matches(|c: char| !c.is_alphanumeric())
}

/// Parses a whole-message integer in any script ("٣", "３", " 7. "), allowing a trailing
/// "/10"-style denominator.
#[must_use]
pub fn integer(text: &str) -> Option<i64> {
    // `fold` trims a leading minus as punctuation; read it from the text itself.
    let neg = text
        .trim_start()
        .strip_prefix(['-', '\u{2212}'])
        .is_some_and(|r| r.starts_with(|c: char| ascii_digit(c).is_some()));
    let folded = fold(text);
    let digits = folded.split('/').next().unwrap_or("").trim();
    if digits.is_empty() || digits.len() > 9 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    Some(if neg { -n } else { n })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_and_punctuation() {
        assert_eq!(fold("ARRÊT"), "arret");
        assert_eq!(fold("  Souvent! 🙂 "), "souvent");
        assert_eq!(fold("Français"), "francais");
        assert_eq!(fold("«  hardly   ever  »"), "hardly ever");
        assert_eq!(fold("l’été"), "l'ete");
        assert_eq!(fold("👍"), "👍");
        assert_eq!(fold(" ?? "), "??");
    }

    #[test]
    fn digits_from_every_script_become_ascii() {
        assert_eq!(fold("٣"), "3");
        assert_eq!(fold("۳"), "3");
        assert_eq!(fold("３"), "3");
        assert_eq!(fold("੩"), "3");
        assert_eq!(integer("١٠"), Some(10));
        assert_eq!(integer("۷"), Some(7));
        assert_eq!(integer("８/10"), Some(8));
        assert_eq!(integer(" 2. "), Some(2));
        assert_eq!(integer("-3"), Some(-3));
        assert_eq!(integer("- 3"), Some(3), "a dash bullet is not a sign");
        assert_eq!(integer("two"), None);
        assert_eq!(integer(""), None);
        assert_eq!(integer("99999999999999"), None);
    }

    #[test]
    fn ascii_digit_rejects_letters_and_non_digits() {
        assert_eq!(ascii_digit('a'), None);
        assert_eq!(ascii_digit('\u{0669}'), Some('9'));
        assert_eq!(ascii_digit('\u{066A}'), None);
    }

    #[test]
    fn words_pads_and_splits_on_punctuation() {
        assert_eq!(words("I can't go on..."), " i cant go on ");
        assert_eq!(words("Je veux MOURIR!!"), " je veux mourir ");
    }
}
