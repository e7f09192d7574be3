//! When a program runs: weekly sessions (`Tue 10:00; Thu 14:00-15:30`) or dated ones
//! (`2026-12-03 10:00`), said in the client's language.

use crate::domain::Locale;
use crate::i18n::{Catalog, Vars};
use chrono::{NaiveDate, NaiveTime, Weekday};

/// One session, or one weekly slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Session {
    Weekly { day: Weekday, at: NaiveTime },
    Dated { on: NaiveDate, at: NaiveTime },
}

const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

/// The same days in French: `mar 10 h`.
const FR_DAYS: [&str; 7] = ["lun", "mar", "mer", "jeu", "ven", "sam", "dim"];

fn time(s: &str) -> Result<NaiveTime, String> {
    // The start of `10:00-11:30`; or the French `10 h`, `10 h 30`.
    let start = s.split('-').next().unwrap_or_default();
    let t: String = start.chars().filter(|c| !c.is_whitespace()).collect();
    let t = t.to_ascii_lowercase().replacen('h', ":", 1);
    let t = if t.ends_with(':') {
        format!("{t}00")
    } else {
        t
    };
    NaiveTime::parse_from_str(&t, "%H:%M")
        .map_err(|_| format!("{s:?} is not a time like 10:00 (or 10 h)"))
}

/// `Tue 10:00; Thu 14:00` or `2026-12-03 10:00; 2026-12-10 10:00`.
pub fn parse(s: &str) -> Result<Vec<Session>, String> {
    let mut out = Vec::new();
    for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (d, t) = part.trim().split_once(' ').ok_or_else(|| {
            format!("{part:?}: write a day and a time (Tue 10:00) or a date and a time (2026-12-03 10:00)")
        })?;
        let at = time(t)?;
        if let Ok(on) = NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            out.push(Session::Dated { on, at });
            continue;
        }
        let lower = d.to_lowercase();
        let day = DAYS
            .iter()
            .find(|(k, _)| lower.starts_with(k))
            .map(|(_, w)| *w)
            .or_else(|| {
                FR_DAYS
                    .iter()
                    .position(|k| lower.starts_with(k))
                    .map(|i| DAYS[i].1)
            })
            .ok_or_else(|| format!("{d:?} is not a day (Mon … Sun) or a date (2026-12-03)"))?;
        out.push(Session::Weekly { day, at });
    }
    if out.is_empty() {
        return Err("the schedule is empty".into());
    }
    Ok(out)
}

/// "Tuesdays at 10:00, Thursdays at 14:00", in the client's language.
#[must_use]
pub fn describe(sessions: &[Session], catalog: &Catalog, locale: &Locale) -> String {
    let f = |key: &str, vars: &[(&str, String)]| {
        let mut v = Vars::new();
        for (k, x) in vars {
            v.insert((*k).to_owned(), x.clone());
        }
        catalog.format(locale, key, &v).unwrap_or_default()
    };
    let clock = |t: &NaiveTime| {
        f(
            "pd-time",
            &[
                ("h", t.format("%-H").to_string()),
                ("hh", t.format("%H").to_string()),
                ("mm", t.format("%M").to_string()),
            ],
        )
    };
    sessions
        .iter()
        .map(|s| match s {
            Session::Weekly { day, at } => f(
                "pd-weekly",
                &[
                    (
                        "day",
                        f(&format!("pd-day-{}", day.to_string().to_lowercase()), &[]),
                    ),
                    ("time", clock(at)),
                ],
            ),
            Session::Dated { on, at } => f(
                "pd-dated",
                &[
                    ("date", on.format("%Y-%m-%d").to_string()),
                    ("time", clock(at)),
                ],
            ),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The sessions that fall on one local date, earliest first.
#[must_use]
pub fn on_date(sessions: &[Session], date: NaiveDate) -> Vec<NaiveTime> {
    use chrono::Datelike;
    let mut out: Vec<NaiveTime> = sessions
        .iter()
        .filter_map(|s| match s {
            Session::Weekly { day, at } if date.weekday() == *day => Some(*at),
            Session::Dated { on, at } if *on == date => Some(*at),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A time of day in the client's language: `10:00`, `10 h 00`.
#[must_use]
pub fn clock(catalog: &Catalog, locale: &Locale, t: NaiveTime) -> String {
    let mut v = Vars::new();
    v.insert("h".into(), t.format("%-H").to_string());
    v.insert("hh".into(), t.format("%H").to_string());
    v.insert("mm".into(), t.format("%M").to_string());
    catalog.format(locale, "pd-time", &v).unwrap_or_default()
}

/// The weekly sessions, described; and the dated ones, as local date-times, for a page to say
/// in its own words.
#[must_use]
pub fn split(sessions: &[Session]) -> (Vec<Session>, Vec<chrono::NaiveDateTime>) {
    let mut weekly = Vec::new();
    let mut dated = Vec::new();
    for s in sessions {
        match s {
            Session::Weekly { .. } => weekly.push(s.clone()),
            Session::Dated { on, at } => dated.push(on.and_time(*at)),
        }
    }
    (weekly, dated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekly_and_dated_sessions_parse_and_mistakes_say_why() {
        let s = parse("Tue 10:00-11:30; thursday 14:00").unwrap();
        assert_eq!(
            s[0],
            Session::Weekly {
                day: Weekday::Tue,
                at: NaiveTime::from_hms_opt(10, 0, 0).unwrap()
            }
        );
        assert!(matches!(
            s[1],
            Session::Weekly {
                day: Weekday::Thu,
                ..
            }
        ));
        assert!(matches!(
            parse("2026-12-03 10:00").unwrap()[0],
            Session::Dated { .. }
        ));
        assert_eq!(parse("mar 10 h").unwrap(), parse("Tue 10:00").unwrap());
        assert_eq!(parse("jeudi 14 h 30").unwrap(), parse("Thu 14:30").unwrap());
        assert!(parse("Tuesdays").unwrap_err().contains("a day and a time"));
        assert!(parse("Tue 25:00").unwrap_err().contains("not a time"));
        assert!(parse("Someday 10:00").unwrap_err().contains("not a day"));
    }
}
