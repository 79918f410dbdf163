//! Local civil dates and times as the contract writes them (`YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`).
//!
//! No time zone is attached: the national interface carries local time and every rule compares
//! local calendar days.
//!
//! ```
//! use medfund_contract::time::{parse_date, parse_datetime, age_on};
//! let born = parse_date("2010-03-15").unwrap();
//! assert_eq!(age_on(born, parse_date("2024-03-14").unwrap()), 13);
//! assert_eq!(age_on(born, parse_date("2024-03-15").unwrap()), 14);
//! assert_eq!(parse_datetime("2024-03-15 08:30:00").unwrap().to_string(), "2024-03-15 08:30:00");
//! ```

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};

/// Why a date or time text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a valid {what} (expected {expected}) / 日期时间格式错误")]
pub struct DateError {
    pub text: String,
    pub what: &'static str,
    pub expected: &'static str,
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

fn date_bytes(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(
        digits(&b[0..4])? as i32,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )
}

thread_local! {
    /// The last date text parsed on this thread and its value: a file's times cluster on few days
    /// (a visit's lines, a day's settlements), and building the date is most of a time's cost.
    static LAST_DATE: std::cell::Cell<([u8; 10], Option<NaiveDate>)> =
        const { std::cell::Cell::new(([0; 10], None)) };
}

/// [`date_bytes`] of exactly 10 bytes, answered from [`LAST_DATE`] when the text repeats.
fn cached_date(b: &[u8]) -> Option<NaiveDate> {
    let key: [u8; 10] = b.try_into().ok()?;
    LAST_DATE.with(|c| {
        let (k, d) = c.get();
        if k == key && d.is_some() {
            return d;
        }
        let d = date_bytes(b);
        c.set((key, d));
        d
    })
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<NaiveDate, DateError> {
    date_bytes(crate::codes::trim(s).as_bytes()).ok_or_else(|| DateError {
        text: s.to_string(),
        what: "date",
        expected: "YYYY-MM-DD",
    })
}

/// Parses `YYYY-MM-DD HH:MM:SS` (a `T` separator is accepted too). A bare date means midnight,
/// because some hospital systems export admission times without the clock part.
pub fn parse_datetime(s: &str) -> Result<NaiveDateTime, DateError> {
    let b = crate::codes::trim(s).as_bytes();
    let err = || DateError {
        text: s.to_string(),
        what: "date-time",
        expected: "YYYY-MM-DD HH:MM:SS",
    };
    let d = cached_date(b.get(0..10).ok_or_else(err)?).ok_or_else(err)?;
    if b.len() == 10 {
        return Ok(d.and_time(NaiveTime::MIN));
    }
    if b.len() != 19 || !(b[10] == b' ' || b[10] == b'T') || b[13] != b':' || b[16] != b':' {
        return Err(err());
    }
    let t = NaiveTime::from_hms_opt(
        digits(&b[11..13]).ok_or_else(err)?,
        digits(&b[14..16]).ok_or_else(err)?,
        digits(&b[17..19]).ok_or_else(err)?,
    )
    .ok_or_else(err)?;
    Ok(d.and_time(t))
}

/// Formats a date-time as the contract writes it.
pub fn format_datetime(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Whole years of age on `day` (the birthday itself counts). Someone born on 29 February
/// reaches the next year on 1 March in common years.
pub fn age_on(birth: NaiveDate, day: NaiveDate) -> i32 {
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Days of life on `day` counting the birth date as day 1 (a newborn is in days 1–28).
pub fn day_of_life(birth: NaiveDate, day: NaiveDate) -> i64 {
    (day - birth).num_days() + 1
}

/// A calendar month `YYYY-MM`, the partition unit of the claim store and of monthly indicators.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct YearMonth {
    pub year: i32,
    pub month: u32,
}

impl YearMonth {
    pub fn new(year: i32, month: u32) -> Option<YearMonth> {
        (1..=12)
            .contains(&month)
            .then_some(YearMonth { year, month })
    }
    pub fn of(d: NaiveDate) -> YearMonth {
        YearMonth {
            year: d.year(),
            month: d.month(),
        }
    }
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("valid month")
    }
    /// The month `n` months later (negative for earlier).
    pub fn plus(self, n: i32) -> YearMonth {
        let idx = self.year * 12 + self.month as i32 - 1 + n;
        YearMonth {
            year: idx.div_euclid(12),
            month: (idx.rem_euclid(12) + 1) as u32,
        }
    }
    /// Number of days in the month.
    pub fn days(self) -> u32 {
        (self.plus(1).first_day() - self.first_day()).num_days() as u32
    }
    pub fn parse(s: &str) -> Result<YearMonth, DateError> {
        let b = crate::codes::trim(s).as_bytes();
        let err = || DateError {
            text: s.to_string(),
            what: "month",
            expected: "YYYY-MM",
        };
        if b.len() != 7 || b[4] != b'-' {
            return Err(err());
        }
        YearMonth::new(
            digits(&b[0..4]).ok_or_else(err)? as i32,
            digits(&b[5..7]).ok_or_else(err)?,
        )
        .ok_or_else(err)
    }
}

impl std::fmt::Display for YearMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}
impl TryFrom<String> for YearMonth {
    type Error = DateError;
    fn try_from(s: String) -> Result<Self, DateError> {
        YearMonth::parse(&s)
    }
}
impl From<YearMonth> for String {
    fn from(m: YearMonth) -> String {
        m.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_dates_read_like_fresh_ones() {
        // The same day twice (answered from the cache), another day, back again, then a bad
        // date with a good day's time, and the good day once more.
        let t = |s: &str| parse_datetime(s).map(|d| d.to_string());
        assert_eq!(t("2024-02-29 08:00:00").unwrap(), "2024-02-29 08:00:00");
        assert_eq!(t("2024-02-29 23:59:59").unwrap(), "2024-02-29 23:59:59");
        assert_eq!(t("2024-03-01 00:00:00").unwrap(), "2024-03-01 00:00:00");
        assert_eq!(t("2024-02-29").unwrap(), "2024-02-29 00:00:00");
        assert!(t("2023-02-29 08:00:00").is_err());
        assert!(t("2023-02-29 08:00:00").is_err());
        assert_eq!(t("2024-02-29 08:00:01").unwrap(), "2024-02-29 08:00:01");
    }

    #[test]
    fn dates() {
        assert!(parse_date("2024-02-29").is_ok());
        assert!(parse_date("2023-02-29").is_err());
        assert!(parse_date("2024/02/01").is_err());
        assert!(parse_date("24-02-01").is_err());
        assert_eq!(
            parse_datetime("2024-01-02T03:04:05").unwrap().to_string(),
            "2024-01-02 03:04:05"
        );
        assert_eq!(
            parse_datetime("2024-01-02").unwrap().to_string(),
            "2024-01-02 00:00:00"
        );
        assert!(parse_datetime("2024-01-02 25:00:00").is_err());
        assert!(parse_datetime("2024-01-02 1:00:00").is_err());
    }

    #[test]
    fn ages() {
        let b = parse_date("2000-02-29").unwrap();
        assert_eq!(age_on(b, parse_date("2001-02-28").unwrap()), 0);
        assert_eq!(age_on(b, parse_date("2001-03-01").unwrap()), 1);
        assert_eq!(day_of_life(b, b), 1);
        assert_eq!(day_of_life(b, parse_date("2000-03-27").unwrap()), 28);
    }

    #[test]
    fn months() {
        let m = YearMonth::parse("2024-12").unwrap();
        assert_eq!(m.plus(1).to_string(), "2025-01");
        assert_eq!(m.plus(-12).to_string(), "2023-12");
        assert_eq!(YearMonth::parse("2024-02").unwrap().days(), 29);
        assert!(YearMonth::parse("2024-13").is_err());
    }
}
