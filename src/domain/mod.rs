//! Types parsed once at the edge, so that code past the edge cannot hold a malformed value.

pub mod job;
pub mod outbox;
pub mod twilio;

pub use job::{DueJob, NewJob};
pub use outbox::{Accepted, Buttons, Outgoing, OwnAccount};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use unic_langid::LanguageIdentifier;

/// The levels of support a referral may have (the guidebook's spectrum of support).
pub const SUPPORT_LEVELS: [&str; 4] = ["signposting", "light", "medium", "holistic"];

/// What became of a referral: the client has not gone yet, went, will not go, or stopped going.
/// The reasons a client is referred, as the referral form and the catalogue name them.
pub const REASONS: [&str; 9] = [
    "social-isolation",
    "loneliness",
    "low-mood",
    "food-insecurity",
    "housing",
    "income",
    "transportation",
    "bereavement",
    "other",
];

pub const UPTAKES: [&str; 4] = ["not-yet", "attended", "declined", "dropped-out"];

/// Why a value from outside was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {reason}")]
pub struct ParseError {
    pub what: &'static str,
    pub reason: String,
}

fn refuse(what: &'static str, reason: impl Into<String>) -> ParseError {
    ParseError {
        what,
        reason: reason.into(),
    }
}

macro_rules! slug_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, ParseError> {
                if s.is_empty() || s.len() > $max {
                    return Err(refuse($what, format!("must be 1 to {} characters", $max)));
                }
                if !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
                    return Err(refuse($what, format!("{s:?} may use only letters, digits, '-', '_' and '.'")));
                }
                Ok(Self(s.to_owned()))
            }

            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, ParseError> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(s: String) -> Result<Self, ParseError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

slug_type!(
    /// The centre's identifier for a client (not a name, not a phone number).
    ClientId, "client id", 64
);
slug_type!(
    /// The id of a flow, e.g. `loneliness`.
    FlowId, "flow id", 64
);
slug_type!(
    /// The id of a step within a flow.
    StepId, "step id", 64
);

/// A BCP 47 language tag we hold text for, e.g. `en`, `fr`, `fr-CA`, `zh-Hans`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Locale(String);

impl Locale {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let id: LanguageIdentifier = s.trim().parse().map_err(|_| {
            refuse(
                "language",
                format!("{s:?} is not a language tag like en, fr or fr-CA"),
            )
        })?;
        if id.language.is_empty() {
            return Err(refuse("language", format!("{s:?} names no language")));
        }
        Ok(Self(id.to_string()))
    }

    /// The language subtag alone: `fr` for `fr-CA`.
    #[must_use]
    pub fn language(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    #[must_use]
    pub fn langid(&self) -> LanguageIdentifier {
        self.0.parse().unwrap_or_default()
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Locale {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Locale {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}

impl From<Locale> for String {
    fn from(v: Locale) -> String {
        v.0
    }
}

/// A phone number in E.164 form: `+` then 8 to 15 digits, the first not zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts E.164, and North American numbers written with spaces, dots, dashes or
    /// parentheses, with or without the leading 1.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let trimmed = s.trim();
        let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
        if trimmed
            .chars()
            .any(|c| !(c.is_ascii_digit() || " +-.()".contains(c)))
        {
            return Err(refuse(
                "phone number",
                format!("{s:?} has characters other than digits"),
            ));
        }
        let e164 = if trimmed.starts_with('+') {
            digits
        } else if digits.len() == 10 {
            format!("1{digits}")
        } else if digits.len() == 11 && digits.starts_with('1') {
            digits
        } else {
            return Err(refuse(
                "phone number",
                format!("{s:?} is not in +<country><number> form"),
            ));
        };
        if !(8..=15).contains(&e164.len()) || e164.starts_with('0') {
            return Err(refuse(
                "phone number",
                format!("{s:?} is not a valid E.164 number"),
            ));
        }
        Ok(Self(format!("+{e164}")))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}

impl From<PhoneNumber> for String {
    fn from(v: PhoneNumber) -> String {
        v.0
    }
}

/// The ways a client is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Telegram,
    Simulator,
}

impl Channel {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Telegram => "telegram",
            Channel::Simulator => "simulator",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "sms" => Ok(Channel::Sms),
            "telegram" => Ok(Channel::Telegram),
            "simulator" => Ok(Channel::Simulator),
            _ => Err(refuse(
                "channel",
                format!("{s:?} is not sms, telegram or simulator"),
            )),
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The centre a single-centre deployment is, and the one rows made before centres belong to.
pub const DEFAULT_CENTRE: &str = "default";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_refuse_empty_long_and_odd_characters() {
        assert!(ClientId::parse("c-0001").is_ok());
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse(&"a".repeat(65)).is_err());
        assert!(ClientId::parse("a b").is_err());
        assert!(ClientId::parse("<script>").is_err());
    }

    #[test]
    fn locales_parse_and_expose_their_language() {
        let l = Locale::parse("fr-CA").unwrap();
        assert_eq!(l.as_str(), "fr-CA");
        assert_eq!(l.language(), "fr");
        assert_eq!(Locale::parse("zh-Hans").unwrap().language(), "zh");
        assert!(Locale::parse("not a tag").is_err());
        assert!(Locale::parse("").is_err());
    }

    #[test]
    fn phone_numbers_become_e164() {
        assert_eq!(
            PhoneNumber::parse("+1 (416) 555-0199").unwrap().as_str(),
            "+14165550199"
        );
        assert_eq!(
            PhoneNumber::parse("416.555.0199").unwrap().as_str(),
            "+14165550199"
        );
        assert_eq!(
            PhoneNumber::parse("1-416-555-0199").unwrap().as_str(),
            "+14165550199"
        );
        assert!(PhoneNumber::parse("555-0199").is_err());
        assert!(PhoneNumber::parse("+0123456789").is_err());
        assert!(PhoneNumber::parse("call me").is_err());
    }
}
