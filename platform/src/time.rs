//! Platform time: whole minutes since 2020-01-01 00:00 Beijing time (UTC+8).
//!
//! All rules in the source material are stated in Beijing time and in days or
//! hours, so a minute is fine enough; a u32 keeps records small and lasts
//! ~8,000 years.

use bitcode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use std::fmt;

pub const MINUTES_PER_HOUR: u32 = 60;
pub const MINUTES_PER_DAY: u32 = 24 * 60;

#[derive(
    Copy,
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    Encode,
    Decode,
)]
#[serde(transparent)]
pub struct Minute(pub u32);

impl Minute {
    pub const ZERO: Minute = Minute(0);

    /// Calendar day number (Beijing time) since 2020-01-01.
    pub fn day(self) -> u32 {
        self.0 / MINUTES_PER_DAY
    }
    pub fn minute_of_day(self) -> u32 {
        self.0 % MINUTES_PER_DAY
    }
    pub fn plus_minutes(self, m: u32) -> Minute {
        Minute(self.0.saturating_add(m))
    }
    pub fn plus_hours(self, h: u32) -> Minute {
        self.plus_minutes(h.saturating_mul(MINUTES_PER_HOUR))
    }
    pub fn plus_days(self, d: u32) -> Minute {
        self.plus_minutes(d.saturating_mul(MINUTES_PER_DAY))
    }
    pub fn minus_days(self, d: u32) -> Minute {
        Minute(self.0.saturating_sub(d.saturating_mul(MINUTES_PER_DAY)))
    }
    pub fn since(self, earlier: Minute) -> u32 {
        self.0.saturating_sub(earlier.0)
    }

    /// Parses `YYYY-MM-DDTHH:MM` or `YYYY-MM-DD HH:MM` (Beijing time), or a
    /// bare `YYYY-MM-DD` meaning midnight. Years before 2020 are rejected.
    pub fn parse(s: &str) -> Result<Minute, String> {
        let s = s.trim();
        let (date, time) = match s.find(['T', ' ']) {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        };
        let bad = || format!("`{s}` is not a Beijing time like 2020-10-01T08:30");
        let mut parts = date.split('-');
        let y: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let mo: u32 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let d: u32 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        if parts.next().is_some() || !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
            return Err(bad());
        }
        let (h, mi) = match time {
            None => (0, 0),
            Some(t) => {
                let t = t.trim_end_matches("+08:00");
                let mut tp = t.split(':');
                let h: u32 = tp.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
                let mi: u32 = tp.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
                // Seconds are accepted but must be zero: the platform counts minutes.
                if let Some(sec) = tp.next() {
                    if sec.parse::<u32>().ok() != Some(0) {
                        return Err(bad());
                    }
                }
                if h > 23 || mi > 59 {
                    return Err(bad());
                }
                (h, mi)
            }
        };
        let days = days_from_civil(y, mo, d) - days_from_civil(2020, 1, 1);
        if days < 0 {
            return Err(format!("`{s}` is before 2020-01-01, the platform's epoch"));
        }
        let total = days as u64 * MINUTES_PER_DAY as u64 + (h * 60 + mi) as u64;
        u32::try_from(total).map(Minute).map_err(|_| bad())
    }
}

impl fmt::Display for Minute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(days_from_civil(2020, 1, 1) + self.day() as i64);
        let md = self.minute_of_day();
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}", md / 60, md % 60)
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

// Howard Hinnant's days_from_civil: proleptic Gregorian date to days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format_round_trip() {
        for s in [
            "2020-01-01T00:00",
            "2020-02-29T23:59",
            "2021-12-20T08:31",
            "2022-01-10T10:00",
        ] {
            assert_eq!(Minute::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(Minute::parse("2020-01-02").unwrap(), Minute(1440));
        assert_eq!(Minute::parse("2020-01-01 01:30").unwrap(), Minute(90));
    }

    #[test]
    fn rejects_bad_times() {
        for s in [
            "2019-12-31T23:59",
            "2021-02-29T00:00",
            "2020-13-01",
            "2020-01-01T24:00",
            "noon",
            "",
        ] {
            assert!(Minute::parse(s).is_err(), "{s} should not parse");
        }
    }
}
