//! When someone works or is on call: `Mon-Fri 09:00-17:00`, `Sat,Sun 00:00-24:00`,
//! `every day 17:00-09:00` (hours past midnight run into the next day), several joined by `;`.

use chrono::{Datelike, NaiveDateTime, Timelike, Weekday};

const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

/// One or more spans of the week, in local time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hours {
    spans: Vec<Span>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Span {
    /// Days the span starts on (Monday = 0).
    days: [bool; 7],
    /// Minutes after midnight; `end <= start` runs past midnight.
    start: u32,
    end: u32,
}

/// The same days in French: `lun-ven 09:00-17:00`.
const FR_DAYS: [&str; 7] = ["lun", "mar", "mer", "jeu", "ven", "sam", "dim"];

fn day(s: &str) -> Result<usize, String> {
    let s = s.trim().to_ascii_lowercase();
    DAYS.iter()
        .position(|(d, _)| s.starts_with(d))
        .or_else(|| FR_DAYS.iter().position(|d| s.starts_with(d)))
        .ok_or_else(|| format!("{s:?} is not a day (Mon, Tue, … Sun; lun, mar, … dim)"))
}

fn days(s: &str) -> Result<[bool; 7], String> {
    let s = s.trim();
    let mut out = [false; 7];
    if ["every day", "daily", "all", "*", "tous les jours"]
        .iter()
        .any(|a| s.eq_ignore_ascii_case(a))
    {
        return Ok([true; 7]);
    }
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day(a)?, day(b)?);
                let mut d = a;
                loop {
                    out[d] = true;
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => out[day(part)?] = true,
        }
    }
    Ok(out)
}

fn minutes(s: &str) -> Result<u32, String> {
    let bad = || format!("{s:?} is not a time like 09:00 (or 9 h)");
    // `09:00`, or the French `9 h`, `9h30`.
    let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let t = t.to_ascii_lowercase().replacen('h', ":", 1);
    let (h, m) = t.split_once(':').ok_or_else(bad)?;
    let m = if m.is_empty() { "0" } else { m };
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m > 59 || h > 24 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl Hours {
    /// `Mon-Fri 09:00-17:00; Sat 10:00-14:00`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut spans = Vec::new();
        for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            // The days, then the hours from the first digit on.
            let (d, h) = part
                .find(|c: char| c.is_ascii_digit())
                .filter(|&i| i > 0)
                .map(|i| part.split_at(i))
                .ok_or_else(|| {
                    format!("{part:?}: write days then hours, like Mon-Fri 09:00-17:00")
                })?;
            spans.push(Self::span(d, h)?);
        }
        if spans.is_empty() {
            return Err(format!(
                "{s:?}: write days then hours, like Mon-Fri 09:00-17:00"
            ));
        }
        Ok(Self { spans })
    }

    /// An on-call shift: its days and its hours, given apart.
    pub fn shift(days_s: &str, hours: &str) -> Result<Self, String> {
        Ok(Self {
            spans: vec![Self::span(days_s, hours)?],
        })
    }

    fn span(d: &str, h: &str) -> Result<Span, String> {
        let (a, b) = h
            .split_once('-')
            .ok_or_else(|| format!("{h:?} is not hours like 09:00-17:00"))?;
        let (start, end) = (minutes(a)?, minutes(b)?);
        Ok(Span {
            days: days(d)?,
            start,
            end: if end == start { start + 24 * 60 } else { end },
        })
    }

    /// Whether a local time falls inside.
    #[must_use]
    pub fn covers(&self, t: NaiveDateTime) -> bool {
        let today = t.weekday().num_days_from_monday() as usize;
        let yesterday = (today + 6) % 7;
        let m = t.hour() * 60 + t.minute();
        self.spans.iter().any(|s| {
            if s.end > s.start {
                // Same day; `24:00` and a full day end at midnight.
                (s.days[today] && m >= s.start && m < s.end.min(24 * 60))
                    || (s.end > 24 * 60 && s.days[yesterday] && m < s.end - 24 * 60)
            } else {
                (s.days[today] && m >= s.start) || (s.days[yesterday] && m < s.end)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn office_hours_cover_weekdays_only() {
        let h = Hours::parse("Mon-Fri 09:00-17:00").unwrap();
        assert!(h.covers(at("2026-11-30 09:00"))); // Monday
        assert!(h.covers(at("2026-12-04 16:59"))); // Friday
        assert!(!h.covers(at("2026-12-04 17:00")));
        assert!(!h.covers(at("2026-12-05 12:00"))); // Saturday
        assert!(!h.covers(at("2026-11-30 08:59")));
    }

    #[test]
    fn overnight_shifts_run_into_the_next_day() {
        let h = Hours::shift("Fri-Sun", "17:00-09:00").unwrap();
        assert!(h.covers(at("2026-12-05 23:00"))); // Saturday night
        assert!(h.covers(at("2026-12-07 08:00"))); // Monday morning, from Sunday
        assert!(!h.covers(at("2026-12-07 17:30"))); // Monday evening
        assert!(!h.covers(at("2026-12-03 23:00"))); // Thursday night
        let all = Hours::shift("Sat,Sun", "00:00-24:00").unwrap();
        assert!(all.covers(at("2026-12-05 00:00")));
        assert!(all.covers(at("2026-12-06 23:59")));
        assert!(!all.covers(at("2026-12-07 00:00")));
        let every = Hours::shift("every day", "00:00-00:00").unwrap();
        assert!(every.covers(at("2026-12-02 13:00")));
    }

    #[test]
    fn bad_hours_say_why() {
        assert!(Hours::parse("weekdays").unwrap_err().contains("Mon-Fri"));
        assert!(Hours::parse("Mon-Fri 9-17").unwrap_err().contains("09:00"));
        assert!(
            Hours::parse("Mon-Fry 09:00-17:00")
                .unwrap_err()
                .contains("not a day")
        );
        assert!(Hours::parse("Mon 25:00-26:00").is_err());
        let two = Hours::parse("Mon-Fri 09:00-17:00; Sat 10:00-14:00").unwrap();
        assert!(two.covers(at("2026-12-05 11:00")));
        assert_eq!(
            Hours::parse("lun-ven 9 h-17 h").unwrap(),
            Hours::parse("Mon-Fri 09:00-17:00").unwrap()
        );
    }
}
