//! What an SMS costs: its encoding (GSM-7 or UCS-2) and the number of segments it is split into.
//! One character outside GSM-7 (â, ê, ç, ’, an emoji) makes the whole message UCS-2.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Encoding {
    #[serde(rename = "GSM-7")]
    Gsm7,
    #[serde(rename = "UCS-2")]
    Ucs2,
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        })
    }
}

/// The cost of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cost {
    pub encoding: Encoding,
    /// Septets for GSM-7 (extension characters count two), UTF-16 code units for UCS-2.
    pub units: usize,
    pub segments: usize,
}

const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{000C}";

/// Septets a character takes in GSM-7, or `None` if it is not in the GSM-7 alphabet.
fn gsm7_septets(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// The encoding and segment count of `text` as an SMS.
#[must_use]
pub fn cost(text: &str) -> Cost {
    let septets: Option<usize> = text.chars().map(gsm7_septets).sum();
    match septets {
        Some(units) => Cost {
            encoding: Encoding::Gsm7,
            units,
            segments: segments(units, 160, 153),
        },
        None => {
            let units = text.encode_utf16().count();
            Cost {
                encoding: Encoding::Ucs2,
                units,
                segments: segments(units, 70, 67),
            }
        }
    }
}

fn segments(units: usize, single: usize, part: usize) -> usize {
    if units == 0 {
        0
    } else if units <= single {
        1
    } else {
        units.div_ceil(part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_english_is_gsm7_and_160_fit_in_one_segment() {
        let c = cost(&"a".repeat(160));
        assert_eq!((c.encoding, c.segments), (Encoding::Gsm7, 1));
        assert_eq!(cost(&"a".repeat(161)).segments, 2);
        assert_eq!(cost(&"a".repeat(306)).segments, 2);
        assert_eq!(cost(&"a".repeat(307)).segments, 3);
    }

    #[test]
    fn french_accents_e_grave_and_acute_stay_gsm7_but_circumflex_does_not() {
        assert_eq!(
            cost("Répondez à la question, très bien").encoding,
            Encoding::Gsm7
        );
        for c in ["â", "ê", "î", "ô", "û", "ë", "ï", "ç", "œ", "«", "»", "’"] {
            assert_eq!(cost(c).encoding, Encoding::Ucs2, "{c}");
        }
        // One circumflex turns a one-segment message into three.
        let mut text = "a".repeat(159);
        assert_eq!(cost(&text).segments, 1);
        text.push('ê');
        assert_eq!(cost(&text).segments, 3);
    }

    #[test]
    fn extension_characters_count_twice_and_emoji_are_two_units() {
        assert_eq!(cost("€").units, 2);
        assert_eq!(cost(&"€".repeat(80)).segments, 1);
        assert_eq!(cost(&"€".repeat(81)).segments, 2);
        assert_eq!(cost("🙂").units, 2);
        assert_eq!(cost("").segments, 0);
    }
}
