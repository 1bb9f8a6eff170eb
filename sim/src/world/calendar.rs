//! Which days people work and children go to school.
//!
//! Public holidays and their make-up working days (调休) follow the State
//! Council's notices for 2020–2022, the years the scenarios cover; school
//! breaks are the usual national dates (provinces differ by a few days).

use hcsim_platform::Minute;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DayKind {
    Workday,
    /// Saturday or Sunday that is not a make-up working day.
    Weekend,
    /// A statutory holiday (the national day week, the spring festival...).
    Holiday,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Calendar {
    pub kind: DayKind,
    /// Schools are closed: a rest day, or the winter or summer break.
    pub school_closed: bool,
}

impl Calendar {
    pub fn rest_day(self) -> bool {
        self.kind != DayKind::Workday
    }
}

/// First and last day of each statutory holiday.
const HOLIDAYS: [(&str, &str); 20] = [
    ("2020-01-01", "2020-01-01"),
    ("2020-01-24", "2020-02-02"),
    ("2020-04-04", "2020-04-06"),
    ("2020-05-01", "2020-05-05"),
    ("2020-06-25", "2020-06-27"),
    ("2020-10-01", "2020-10-08"),
    ("2021-01-01", "2021-01-03"),
    ("2021-02-11", "2021-02-17"),
    ("2021-04-03", "2021-04-05"),
    ("2021-05-01", "2021-05-05"),
    ("2021-06-12", "2021-06-14"),
    ("2021-09-19", "2021-09-21"),
    ("2021-10-01", "2021-10-07"),
    ("2022-01-01", "2022-01-03"),
    ("2022-01-31", "2022-02-06"),
    ("2022-04-03", "2022-04-05"),
    ("2022-04-30", "2022-05-04"),
    ("2022-06-03", "2022-06-05"),
    ("2022-09-10", "2022-09-12"),
    ("2022-10-01", "2022-10-07"),
];

/// Weekend days that are working days to make up for a holiday.
const MAKE_UP_WORKDAYS: [&str; 16] = [
    "2020-01-19",
    "2020-04-26",
    "2020-05-09",
    "2020-06-28",
    "2020-09-27",
    "2020-10-10",
    "2021-02-07",
    "2021-02-20",
    "2021-04-25",
    "2021-05-08",
    "2021-09-18",
    "2021-09-26",
    "2021-10-09",
    "2022-01-29",
    "2022-01-30",
    "2022-10-08",
];

/// Winter and summer school breaks.
const SCHOOL_BREAKS: [(&str, &str); 5] = [
    ("2020-01-18", "2020-05-10"), // winter break, extended by the outbreak
    ("2020-07-18", "2020-08-31"),
    ("2021-01-23", "2021-02-28"),
    ("2021-07-10", "2021-08-31"),
    ("2022-01-15", "2022-02-20"),
];

fn day(date: &str) -> u32 {
    // The tables above are constants checked by the tests below.
    Minute::parse(date).map_or(u32::MAX, Minute::day)
}

fn within(ranges: &[(&str, &str)], d: u32) -> bool {
    ranges.iter().any(|&(a, b)| (day(a)..=day(b)).contains(&d))
}

/// The calendar of a day number (`Minute::day`).
pub fn of(d: u32) -> Calendar {
    // 2020-01-01, day 0, was a Wednesday: Monday is 0.
    let weekday = (d + 2) % 7;
    let kind = if within(&HOLIDAYS, d) {
        DayKind::Holiday
    } else if weekday >= 5 && !MAKE_UP_WORKDAYS.iter().any(|&w| day(w) == d) {
        DayKind::Weekend
    } else {
        DayKind::Workday
    };
    Calendar {
        kind,
        school_closed: kind != DayKind::Workday || within(&SCHOOL_BREAKS, d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(date: &str) -> Calendar {
        of(Minute::parse(date).unwrap().day())
    }

    #[test]
    fn every_table_date_parses() {
        for (a, b) in HOLIDAYS.iter().chain(SCHOOL_BREAKS.iter()) {
            assert!(day(a) <= day(b), "{a}..{b}");
            assert_ne!(day(b), u32::MAX);
        }
        for w in MAKE_UP_WORKDAYS {
            let weekday = (day(w) + 2) % 7;
            assert!(weekday >= 5, "{w} is not a weekend day");
        }
    }

    #[test]
    fn the_national_day_week_is_a_holiday_and_schools_close() {
        for d in 1..=8 {
            let c = on(&format!("2020-10-{d:02}"));
            assert_eq!(c.kind, DayKind::Holiday);
            assert!(c.school_closed);
        }
        // Friday 9th works; Saturday 10th is the make-up working day.
        assert_eq!(on("2020-10-09").kind, DayKind::Workday);
        assert_eq!(on("2020-10-10").kind, DayKind::Workday);
        assert!(!on("2020-10-10").school_closed);
        assert_eq!(on("2020-10-11").kind, DayKind::Weekend);
    }

    #[test]
    fn winter_break_closes_schools_on_working_days() {
        let c = on("2021-02-08");
        assert_eq!(c.kind, DayKind::Workday);
        assert!(c.school_closed);
        assert!(!on("2021-03-01").school_closed);
    }
}
