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

/// Whether a combining mark carries meaning clients always type: the vowel signs, nasal marks
/// and viramas of the Brahmic scripts (Gurmukhi ਾ ਿ ੀ ਂ, Devanagari…) spell the word itself,
/// unlike Latin accents, Cyrillic breves or Arabic short-vowel marks, which are dropped.
fn keeps_mark(c: char) -> bool {
    matches!(c as u32, 0x0900..=0x0DFF | 0x0E00..=0x0FFF | 0x1000..=0x109F | 0x1780..=0x17FF)
}

/// One spelling for letters clients type either way: Arabic and Persian yeh and kaf (a Persian
/// phone keyboard and an Arabic one give different code points for the same letter), alef
/// maksura, teh marbuta, and the kashida that only stretches a word.
fn letter_variant(c: char) -> Option<char> {
    Some(match c {
        '\u{064A}' | '\u{0649}' => '\u{06CC}', // ي ى → ی
        '\u{0643}' => '\u{06A9}',              // ك → ک
        '\u{0629}' => '\u{0647}',              // ة → ه
        '\u{0640}' | '\u{200C}' | '\u{200D}' | '\u{200E}' | '\u{200F}' | '\u{061C}' => '\0',
        _ => return None,
    })
}

/// Folds text for comparison: compatibility decomposition, accents and case dropped, every
/// known digit made ASCII, typographic apostrophes made plain, Arabic-script letter variants
/// made one, runs of white space made one space, and anything that is neither a letter nor a
/// digit trimmed from both ends.
#[must_use]
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfkd() {
        if is_combining_mark(c) && !keeps_mark(c) {
            continue;
        }
        let c = match c {
            '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`' | '\u{00B4}' => '\'',
            _ => letter_variant(c).unwrap_or_else(|| ascii_digit(c).unwrap_or(c)),
        };
        // Joiners, direction marks and the kashida shape text without changing a word.
        if c == '\0' {
            continue;
        }
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
        if is_ideograph(c) {
            // Chinese is written without spaces: each character is a word of its own, so a
            // phrase is found inside a sentence ("想死" in "我真的想死了").
            if !out.ends_with(' ') {
                out.push(' ');
            }
            out.push(c);
            out.push(' ');
        } else if c.is_alphanumeric() || keeps_mark(c) {
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

/// Han ideographs, and the kana written among them.
fn is_ideograph(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

fn trim_edges(s: &str) -> &str {
    // A Gurmukhi word may end in a vowel sign (ਹਾਂ), which is a mark, not a letter.
    s.trim_matches(|c: char| !c.is_alphanumeric() && !keeps_mark(c))
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
    fn whole_numbers_in_native_digits_parse() {
        // Arabic-Indic, Persian (Extended Arabic-Indic), full-width, Gurmukhi, Devanagari.
        assert_eq!(integer("٠"), Some(0));
        assert_eq!(integer("٢٠٢٦"), Some(2026));
        assert_eq!(integer("۱۰"), Some(10));
        assert_eq!(integer("۴"), Some(4), "Persian four has its own shape");
        assert_eq!(integer("١٠/١٠"), Some(10));
        assert_eq!(integer("１０"), Some(10));
        assert_eq!(integer("੫"), Some(5));
        assert_eq!(integer("५"), Some(5));
        // Mixed scripts in one number are still one number; a digit beside a word is not.
        assert_eq!(integer("1٠"), Some(10));
        assert_eq!(integer("٣ مرات"), None);
        // Arabic and Chinese punctuation around a number is ignored.
        assert_eq!(integer("٣؟"), Some(3));
        assert_eq!(integer("３。"), Some(3));
        assert_eq!(fold("٠١٢٣٤٥٦٧٨٩"), "0123456789");
        assert_eq!(fold("۰۱۲۳۴۵۶۷۸۹"), "0123456789");
        assert_eq!(fold("０１２３４５６７８９"), "0123456789");
        assert_eq!(fold("੦੧੨੩੪੫੬੭੮੯"), "0123456789");
    }

    #[test]
    fn arabic_script_variants_fold_to_one_spelling() {
        // Arabic yeh/kaf typed on a Persian phone and the other way round.
        assert_eq!(fold("كافي"), fold("کافی"));
        // Short-vowel marks, hamza seats, kashida and joiners change nothing.
        assert_eq!(fold("نَعَم"), fold("نعم"));
        assert_eq!(fold("أبدا"), fold("ابدا"));
        assert_eq!(fold("نـــعم"), fold("نعم"));
        assert_eq!(fold("می\u{200C}خواهم"), fold("میخواهم"));
        assert_eq!(fold("حياة"), fold("حياه"));
    }

    #[test]
    fn gurmukhi_vowel_signs_are_kept_and_chinese_splits_into_characters() {
        // ਹਾਂ (yes) and ਹ are different words; dropping the vowel signs would merge them.
        assert_eq!(fold("ਹਾਂ"), "ਹਾਂ");
        assert_ne!(fold("ਹਾਂ"), fold("ਹ"));
        assert_eq!(fold(" ਨਹੀਂ! "), "ਨਹੀਂ");
        assert_eq!(words("ਮੈਂ ਮਰਨਾ ਚਾਹੁੰਦਾ ਹਾਂ"), " ਮੈਂ ਮਰਨਾ ਚਾਹੁੰਦਾ ਹਾਂ ");
        assert_eq!(words("我真的想死了。"), " 我 真 的 想 死 了 ");
        assert!(words("我真的想死了").contains(&words("想死")));
        // Cyrillic and Latin accents still fold: й = и, ї = і.
        assert_eq!(fold("Українська"), "украінська");
    }

    #[test]
    fn words_pads_and_splits_on_punctuation() {
        assert_eq!(words("I can't go on..."), " i cant go on ");
        assert_eq!(words("Je veux MOURIR!!"), " je veux mourir ");
    }
}
