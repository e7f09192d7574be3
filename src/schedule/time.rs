//! Local time for scheduling: turning a wall-clock time in a client's zone into an instant
//! (across daylight-saving gaps and repeated hours), quiet hours and holidays, offsets in days,
//! weeks and months, and cron occurrences, all evaluated in the client's own time zone.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, Months, NaiveDate, NaiveDateTime, NaiveTime,
    Offset as _, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use std::collections::BTreeSet;
use std::str::FromStr;

/// The instant a wall-clock time in `tz` names. A time that happens twice (the repeated hour
/// when clocks fall back) is the first; a time that does not exist (the gap when clocks spring
/// forward) is read with the offset in force before the gap, so 02:30 on that night is 03:30.
#[must_use]
pub fn resolve(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.to_utc(),
        LocalResult::None => {
            // Gaps are at most a few hours: the offset three hours earlier is the one before it.
            let before = tz
                .from_local_datetime(&(local - Duration::hours(3)))
                .earliest()
                .map_or(0, |t| t.offset().fix().local_minus_utc());
            (local - Duration::seconds(i64::from(before))).and_utc()
        }
    }
}

/// The wall-clock time of an instant in `tz`.
#[must_use]
pub fn local(tz: Tz, t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&tz).naive_local()
}

/// When messages may go out, in a client's local time: from `start` to `end` minutes after
/// midnight (`start == 0 && end == 1440`: any time), and never on a holiday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenHours {
    pub start: u32,
    pub end: u32,
}

impl OpenHours {
    pub const ALWAYS: OpenHours = OpenHours {
        start: 0,
        end: 24 * 60,
    };

    /// `09:00-20:00`, or `always`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("always") || s.eq_ignore_ascii_case("none") {
            return Ok(Self::ALWAYS);
        }
        let bad = || format!("{s:?} is not a window like 09:00-20:00 (or \"always\")");
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let start = minutes(a).ok_or_else(bad)?;
        let end = minutes(b).ok_or_else(bad)?;
        if end <= start {
            return Err(format!(
                "{s:?}: the window must end after it starts, on the same day"
            ));
        }
        Ok(Self { start, end })
    }

    fn contains(&self, minute: u32) -> bool {
        minute >= self.start && minute < self.end
    }
}

impl std::fmt::Display for OpenHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if *self == Self::ALWAYS {
            return f.write_str("always");
        }
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

/// `HH:MM` as minutes after midnight (`24:00` is the end of the day).
#[must_use]
pub fn minutes(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

/// The local time of day `minute` minutes after midnight on `date`.
fn at_minute(date: NaiveDate, minute: u32) -> NaiveDateTime {
    let t = NaiveTime::from_hms_opt(minute / 60 % 24, minute % 60, 0).unwrap_or(NaiveTime::MIN);
    date.and_time(t)
}

/// The first instant at or after `t` when a message may go out: inside the open hours, on a
/// day that is not a holiday, in the client's zone.
#[must_use]
pub fn next_open(
    t: DateTime<Utc>,
    tz: Tz,
    open: &OpenHours,
    holidays: &BTreeSet<NaiveDate>,
) -> DateTime<Utc> {
    let mut t = t;
    // A year of holidays in a row is a configuration mistake; stop looking after that.
    for _ in 0..400 {
        let l = local(tz, t);
        let date = l.date();
        let minute = l.hour() * 60 + l.minute();
        if holidays.contains(&date) || minute >= open.end {
            let next = date.succ_opt().unwrap_or(date);
            t = resolve(tz, at_minute(next, open.start)).max(t);
            continue;
        }
        if !open.contains(minute) {
            let opening = resolve(tz, at_minute(date, open.start));
            // On the night clocks change, the opening may resolve before `t`: then `t` is open.
            return opening.max(t);
        }
        return t;
    }
    t
}

/// Whether a message may go out at `t`.
#[must_use]
pub fn is_open(t: DateTime<Utc>, tz: Tz, open: &OpenHours, holidays: &BTreeSet<NaiveDate>) -> bool {
    next_open(t, tz, open, holidays) == t
}

/// An offset from an anchor, in the client's calendar: `0`, `2d`, `8w`, `3mo`, `12h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Offset {
    pub months: u32,
    pub days: i64,
    pub minutes: i64,
}

impl Offset {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let bad = || format!("{s:?} is not an offset like 0, 2d, 8w, 3mo (months) or 12h");
        if s == "0" {
            return Ok(Self::default());
        }
        let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (n, unit) = s.split_at(split);
        let n: u32 = n.parse().map_err(|_| bad())?;
        // A follow-up is months long; anything past ten years is a typo, not a plan.
        let too_far = || format!("{s:?} is more than ten years");
        let mut o = Self::default();
        match unit.trim() {
            "mo" | "month" | "months" => o.months = n,
            "w" | "week" | "weeks" => o.days = i64::from(n) * 7,
            "d" | "day" | "days" => o.days = i64::from(n),
            "h" | "hour" | "hours" => o.minutes = i64::from(n) * 60,
            "m" | "min" | "minutes" => o.minutes = i64::from(n),
            _ => return Err(bad()),
        }
        if o.months > 120 || o.days > 3660 || o.minutes > 3660 * 24 * 60 {
            return Err(too_far());
        }
        Ok(o)
    }

    /// The local time this offset after `from` (months keep the day of the month, or the last
    /// day of a shorter month).
    #[must_use]
    pub fn after(&self, from: NaiveDateTime) -> NaiveDateTime {
        let moved = from
            .checked_add_months(Months::new(self.months))
            .unwrap_or(from);
        moved + Duration::days(self.days) + Duration::minutes(self.minutes)
    }

    /// An approximate length, for offsets counted from when a flow ends.
    #[must_use]
    pub fn approx(&self) -> Duration {
        Duration::days(i64::from(self.months) * 30 + self.days) + Duration::minutes(self.minutes)
    }

    #[must_use]
    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }
}

impl std::fmt::Display for Offset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if self.months > 0 {
            parts.push(format!("{} mo", self.months));
        }
        if self.days > 0 {
            parts.push(format!("{} d", self.days));
        }
        if self.minutes > 0 {
            parts.push(
                format!("{} h {} min", self.minutes / 60, self.minutes % 60).replace(" 0 min", ""),
            );
        }
        if parts.is_empty() {
            return f.write_str("0");
        }
        f.write_str(&parts.join(" "))
    }
}

/// A cron expression (`sec min hour day-of-month month day-of-week [year]`, as the `cron` crate
/// reads it; a five-field expression gets a leading `0` for the seconds).
#[derive(Debug, Clone)]
pub struct Recurrence {
    pub expr: String,
    schedule: cron::Schedule,
}

impl Recurrence {
    pub fn parse(s: &str) -> Result<Self, String> {
        let expr = s.trim().to_owned();
        let fields = expr.split_whitespace().count();
        let full = if fields == 5 {
            format!("0 {expr}")
        } else {
            expr.clone()
        };
        let schedule = cron::Schedule::from_str(&full)
            .map_err(|e| format!("{expr:?} is not a cron expression like \"0 10 * * Mon\": {e}"))?;
        Ok(Self { expr, schedule })
    }

    /// The first wall-clock time strictly after `after` that the expression names. Cron is read
    /// on the local calendar, not on instants: each local time comes once, so the repeated hour
    /// when clocks fall back does not fire twice, and [`resolve`] moves a time in the gap.
    #[must_use]
    pub fn next_local(&self, after: NaiveDateTime) -> Option<NaiveDateTime> {
        self.schedule
            .after(&Utc.from_utc_datetime(&after))
            .next()
            .map(|t| t.naive_utc())
    }
}

/// `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{s:?} is not a date like 2026-12-25"))
}

/// A local date and time typed by a navigator: `2026-12-01 10:00` or `2026-12-01T10:00`.
pub fn parse_local(s: &str) -> Result<NaiveDateTime, String> {
    let s = s.trim();
    [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .or_else(|| parse_date(s).ok().map(|d| at_minute(d, 10 * 60)))
    .ok_or_else(|| format!("{s:?} is not a local time like 2026-12-01 10:00"))
}

/// A weekday name for timelines.
#[must_use]
pub fn weekday(t: NaiveDateTime) -> String {
    t.weekday().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz(s: &str) -> Tz {
        s.parse().unwrap()
    }

    fn naive(s: &str) -> NaiveDateTime {
        parse_local(s).unwrap()
    }

    #[test]
    fn a_time_in_the_spring_gap_moves_forward_by_the_gap() {
        let toronto = tz("America/Toronto");
        // 2027-03-14: clocks go from 02:00 EST to 03:00 EDT.
        let t = resolve(toronto, naive("2027-03-14 02:30"));
        assert_eq!(local(toronto, t), naive("2027-03-14 03:30"));
        assert_eq!(t.to_rfc3339(), "2027-03-14T07:30:00+00:00");
    }

    #[test]
    fn the_repeated_hour_resolves_to_its_first_pass() {
        let winnipeg = tz("America/Winnipeg");
        // 2026-11-01: 01:30 happens twice in Winnipeg, first in CDT (UTC-5).
        let t = resolve(winnipeg, naive("2026-11-01 01:30"));
        assert_eq!(t.to_rfc3339(), "2026-11-01T06:30:00+00:00");
    }

    #[test]
    fn quiet_hours_move_to_the_next_window_and_skip_holidays() {
        let toronto = tz("America/Toronto");
        let open = OpenHours::parse("09:00-20:00").unwrap();
        let none = BTreeSet::new();
        let at = |s: &str| resolve(toronto, naive(s));
        assert_eq!(
            next_open(at("2026-12-01 07:15"), toronto, &open, &none),
            at("2026-12-01 09:00")
        );
        assert_eq!(
            next_open(at("2026-12-01 12:00"), toronto, &open, &none),
            at("2026-12-01 12:00")
        );
        assert_eq!(
            next_open(at("2026-12-01 20:00"), toronto, &open, &none),
            at("2026-12-02 09:00")
        );
        let holidays: BTreeSet<_> = [
            parse_date("2026-12-25").unwrap(),
            parse_date("2026-12-26").unwrap(),
        ]
        .into();
        assert_eq!(
            next_open(at("2026-12-24 21:00"), toronto, &open, &holidays),
            at("2026-12-27 09:00")
        );
        assert!(is_open(at("2026-12-24 19:59"), toronto, &open, &holidays));
        assert!(!is_open(at("2026-12-25 12:00"), toronto, &open, &holidays));
        assert!(is_open(
            at("2026-12-25 03:00"),
            toronto,
            &OpenHours::ALWAYS,
            &none
        ));
    }

    #[test]
    fn open_hours_parse_and_refuse_nonsense() {
        assert_eq!(
            OpenHours::parse("09:00-20:00").unwrap().to_string(),
            "09:00-20:00"
        );
        assert_eq!(OpenHours::parse("always").unwrap(), OpenHours::ALWAYS);
        assert!(OpenHours::parse("20:00-09:00").is_err());
        assert!(OpenHours::parse("9-5").is_err());
        assert!(OpenHours::parse("25:00-26:00").is_err());
    }

    #[test]
    fn offsets_count_on_the_local_calendar() {
        let o = Offset::parse("3mo").unwrap();
        assert_eq!(
            o.after(naive("2026-11-30 10:00")),
            naive("2027-02-28 10:00")
        );
        assert_eq!(
            Offset::parse("2d")
                .unwrap()
                .after(naive("2026-11-07 10:00")),
            naive("2026-11-09 10:00")
        );
        assert_eq!(Offset::parse("8w").unwrap().days, 56);
        assert!(Offset::parse("3x").is_err());
        assert!(Offset::parse("4000000000d").is_err());
        assert!(Offset::parse("121mo").is_err());
        assert!(Offset::parse("").is_err());
        assert!(Offset::parse("0").unwrap().is_zero());
    }

    #[test]
    fn cron_on_the_local_calendar_neither_repeats_nor_loses_a_night() {
        let r = Recurrence::parse("30 1 * * *").unwrap();
        let winnipeg = tz("America/Winnipeg");
        // Daily at 01:30 across the night 01:30 happens twice: one occurrence that night.
        let mut t = naive("2026-10-31 12:00");
        let mut got = Vec::new();
        for _ in 0..3 {
            t = r.next_local(t).unwrap();
            got.push(resolve(winnipeg, t));
        }
        let days: Vec<String> = got
            .iter()
            .map(|t| local(winnipeg, *t).to_string())
            .collect();
        assert_eq!(
            days,
            [
                "2026-11-01 01:30:00",
                "2026-11-02 01:30:00",
                "2026-11-03 01:30:00"
            ]
        );
        // Daily at 02:30 across the spring gap: that night's comes at 03:30, once.
        let r = Recurrence::parse("0 30 2 * * *").unwrap();
        let toronto = tz("America/Toronto");
        let mut t = naive("2027-03-13 12:00");
        let mut got = Vec::new();
        for _ in 0..3 {
            t = r.next_local(t).unwrap();
            got.push(local(toronto, resolve(toronto, t)).to_string());
        }
        assert_eq!(
            got,
            [
                "2027-03-14 03:30:00",
                "2027-03-15 02:30:00",
                "2027-03-16 02:30:00"
            ]
        );
        assert!(Recurrence::parse("every monday").is_err());
    }
}
