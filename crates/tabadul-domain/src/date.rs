//! Partial dates: a birth date is often known only as a year or a year and a month.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// A date known to a year, a year and month, or a full day. Written `YYYY`, `YYYY-MM` or
/// `YYYY-MM-DD`; a full date is always a real calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PartialDate {
    year: i16,
    month: Option<u8>,
    day: Option<u8>,
}

impl PartialDate {
    pub fn year(year: i16) -> Result<Self, DomainError> {
        Self::new(year, None, None)
    }

    pub fn new(year: i16, month: Option<u8>, day: Option<u8>) -> Result<Self, DomainError> {
        if !(1800..=2200).contains(&year) {
            return Err(DomainError::new(format!("year {year} is out of range 1800-2200")));
        }
        if day.is_some() && month.is_none() {
            return Err(DomainError::new("a day needs a month"));
        }
        if let Some(month) = month {
            let month =
                time::Month::try_from(month).map_err(|_| DomainError::new(format!("month {month} is not 1-12")))?;
            if let Some(day) = day {
                time::Date::from_calendar_date(i32::from(year), month, day).map_err(|_| {
                    DomainError::new(format!("{year}-{:02}-{day:02} is not a calendar day", month as u8))
                })?;
            }
        }
        Ok(PartialDate { year, month, day })
    }

    /// The year of a birth date written with two digits (`YYMMDD` in an MRZ or a PAXLST): the
    /// latest century that does not put the birth after `today` (an unknown month or day
    /// counts as the first).
    pub fn birth_year_from_two_digits(yy: u8, month: Option<u8>, day: Option<u8>, today: time::Date) -> i16 {
        let this_year = today.year() as i16;
        let year = this_year - this_year % 100 + i16::from(yy);
        let later = (year, month.unwrap_or(1), day.unwrap_or(1)) > (this_year, u8::from(today.month()), today.day());
        if later { year - 100 } else { year }
    }

    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let text = text.trim();
        let bad = || DomainError::new(format!("`{text}` is not a date (YYYY, YYYY-MM or YYYY-MM-DD)"));
        let mut parts = text.split('-');
        let year_text = parts.next().ok_or_else(bad)?;
        if year_text.len() != 4 {
            return Err(bad());
        }
        let year: i16 = year_text.parse().map_err(|_| bad())?;
        let mut number = |width: usize| -> Result<Option<u8>, DomainError> {
            match parts.next() {
                None => Ok(None),
                Some(part) if part.len() == width && part.bytes().all(|b| b.is_ascii_digit()) => {
                    part.parse().map(Some).map_err(|_| bad())
                }
                Some(_) => Err(bad()),
            }
        };
        let month = number(2)?;
        let day = number(2)?;
        if parts.next().is_some() {
            return Err(bad());
        }
        Self::new(year, month, day)
    }

    pub fn year_value(self) -> i16 {
        self.year
    }

    pub fn month(self) -> Option<u8> {
        self.month
    }

    pub fn day(self) -> Option<u8> {
        self.day
    }

    /// The full calendar date, when day and month are known.
    pub fn to_date(self) -> Option<time::Date> {
        let month = time::Month::try_from(self.month?).ok()?;
        time::Date::from_calendar_date(i32::from(self.year), month, self.day?).ok()
    }
}

impl From<time::Date> for PartialDate {
    fn from(date: time::Date) -> Self {
        PartialDate { year: date.year() as i16, month: Some(date.month() as u8), day: Some(date.day()) }
    }
}

impl PartialDate {
    /// The date as written (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`), appended to `text` without the
    /// formatting machinery: an explanation writes the dates of thousands of hits.
    pub fn write_into(&self, text: &mut String) {
        let (bytes, len) = self.written();
        text.push_str(std::str::from_utf8(&bytes[..len]).unwrap_or_default());
    }

    /// The date's text in ASCII digits and dashes, and its length. The year is always four
    /// digits (1800-2200), the month and day two.
    fn written(&self) -> ([u8; 10], usize) {
        let digit = |n: u32| b'0' + (n % 10) as u8;
        let year = u32::from(self.year.unsigned_abs());
        let mut bytes = [digit(year / 1000), digit(year / 100), digit(year / 10), digit(year), 0, 0, 0, 0, 0, 0];
        let mut len = 4;
        for part in [self.month, self.day].into_iter().map_while(|part| part) {
            bytes[len..len + 3].copy_from_slice(&[b'-', digit(u32::from(part) / 10), digit(u32::from(part))]);
            len += 3;
        }
        (bytes, len)
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (bytes, len) = self.written();
        f.write_str(std::str::from_utf8(&bytes[..len]).map_err(|_| fmt::Error)?)
    }
}

impl TryFrom<String> for PartialDate {
    type Error = DomainError;
    fn try_from(text: String) -> Result<Self, DomainError> {
        PartialDate::parse(&text)
    }
}

impl From<PartialDate> for String {
    fn from(date: PartialDate) -> String {
        date.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every date of the range written as `{:04}-{:02}-{:02}` would write it, a year, a year
    /// and month, or a day.
    #[test]
    fn written_as_year_month_day() {
        for year in (1800..=2200).step_by(7).chain([1800, 1999, 2000, 2200]) {
            for month in [None, Some(1), Some(9), Some(10), Some(12)] {
                for day in [None, Some(1), Some(9), Some(10), Some(28)] {
                    let Ok(date) = PartialDate::new(year, month, day) else { continue };
                    let mut expected = format!("{year:04}");
                    if let Some(month) = month {
                        expected += &format!("-{month:02}");
                    }
                    if let Some(day) = day {
                        expected += &format!("-{day:02}");
                    }
                    assert_eq!(date.to_string(), expected);
                    let mut text = String::from("born ");
                    date.write_into(&mut text);
                    assert_eq!(text, format!("born {expected}"));
                }
            }
        }
    }

    #[test]
    fn two_digit_birth_years_are_never_in_the_future() {
        let today = time::macros::date!(2026 - 11 - 29);
        let year = |yy, month, day| PartialDate::birth_year_from_two_digits(yy, month, day, today);
        assert_eq!(year(74, Some(8), Some(12)), 1974);
        assert_eq!(year(10, Some(1), Some(1)), 2010);
        assert_eq!(year(26, Some(11), Some(29)), 2026);
        assert_eq!(year(26, Some(11), Some(30)), 1926);
        assert_eq!(year(26, None, None), 2026);
    }

    fn check(text: &str, expected: Option<&str>) {
        let parsed = PartialDate::parse(text).ok().map(|d| d.to_string());
        assert_eq!(parsed.as_deref(), expected, "{text}");
    }

    #[test]
    fn parses_partial_dates() {
        check("1975", Some("1975"));
        check("1975-06", Some("1975-06"));
        check("1975-06-01", Some("1975-06-01"));
        check(" 1975-06-01 ", Some("1975-06-01"));
        check("1975-02-30", None);
        check("1975-13", None);
        check("1975-6-1", None);
        check("75", None);
        check("1975-06-01-01", None);
        check("", None);
        check("abcd", None);
        check("1700", None);
    }
}
