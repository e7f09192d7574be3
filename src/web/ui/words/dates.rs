//! Times as a reader in the centre reads them: `Mon 30 Nov 2026, 9:00`, `lun. 30 nov. 2026,
//! 9 h 00`, and the scheduler's own labels said again the same way.

use super::{At, Words};
use chrono::{Datelike, Timelike};
use regex::Regex;
use std::sync::LazyLock;

const DAYS_EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const DAYS_FR: [&str; 7] = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];
const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const MONTHS_FR: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];

impl Words<'_> {
    /// A day and time in the centre's zone: `Mon 30 Nov 2026, 9:00`, `lun. 30 nov. 2026, 9 h 00`.
    #[must_use]
    pub fn when(&self, at: At) -> String {
        let t = at.0.with_timezone(&self.tz);
        let (h, m) = (t.hour(), t.minute());
        if self.fr() {
            format!("{}, {h} h {m:02}", self.day(at))
        } else {
            format!("{}, {h}:{m:02}", self.day(at))
        }
    }

    /// A day in the centre's zone: `Mon 30 Nov 2026`, `lun. 30 nov. 2026`.
    #[must_use]
    pub fn day(&self, at: At) -> String {
        let t = at.0.with_timezone(&self.tz);
        let wd = t.weekday().num_days_from_monday() as usize;
        let mo = t.month0() as usize;
        if self.fr() {
            format!("{} {} {} {}", DAYS_FR[wd], t.day(), MONTHS_FR[mo], t.year())
        } else {
            format!("{} {} {} {}", DAYS_EN[wd], t.day(), MONTHS_EN[mo], t.year())
        }
    }

    /// `3 h`, `2 d 4 h`, `45 min` (as the scheduler writes them), in the reader's units.
    pub(super) fn duration(&self, d: &str) -> String {
        if self.fr() {
            d.replace(" d ", " j ")
        } else {
            d.to_owned()
        }
    }

    /// A time the scheduler wrote as `Mon 2026-11-16 10:00 EST`, written for the reader.
    pub(super) fn local_label(&self, s: &str) -> String {
        static RE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^\w{3} (\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}) (\S+)$")
                .unwrap_or_else(|_| unreachable!("a valid pattern"))
        });
        let Some(c) = RE.captures(s) else {
            return s.to_owned();
        };
        let n = |k: usize| c[k].parse::<u32>().unwrap_or(0);
        let Some(date) = chrono::NaiveDate::from_ymd_opt(n(1) as i32, n(2), n(3)) else {
            return s.to_owned();
        };
        let wd = date.weekday().num_days_from_monday() as usize;
        let mo = date.month0() as usize;
        let zone = &c[6];
        if self.fr() {
            format!(
                "{} {} {} {}, {} h {:02} ({zone})",
                DAYS_FR[wd],
                date.day(),
                MONTHS_FR[mo],
                date.year(),
                n(4),
                n(5)
            )
        } else {
            format!(
                "{} {} {} {}, {}:{:02} ({zone})",
                DAYS_EN[wd],
                date.day(),
                MONTHS_EN[mo],
                date.year(),
                n(4),
                n(5)
            )
        }
    }
}
