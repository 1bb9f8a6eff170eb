//! How figures are written for people: thousands grouped, units named,
//! never more digits than mean something. Used by every table and page.

use crate::metrics::{Reading, Unit};

/// `1234567` → `1,234,567`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let head = match digits.len() % 3 {
        0 => 3,
        r => r,
    };
    let mut out = digits[..head].to_string();
    for group in digits.as_bytes()[head..].chunks(3) {
        out.push(',');
        out.push_str(std::str::from_utf8(group).unwrap_or_default());
    }
    out
}

/// A possibly fractional, possibly negative figure with grouped thousands.
pub fn number(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return "n/a".to_string();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    let text = format!("{:.*}", decimals, x.abs());
    let (int, frac) = text
        .split_once('.')
        .map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let int = grouped(int.parse().unwrap_or(0));
    match frac {
        Some(f) => format!("{sign}{int}.{f}"),
        None => format!("{sign}{int}"),
    }
}

pub fn bytes(b: f64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = b;
    let mut unit = 0;
    while v.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{} B", number(v, 0))
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

pub fn percent(ratio: f64) -> String {
    if !ratio.is_finite() {
        return "n/a".to_string();
    }
    let p = ratio * 100.0;
    // Small shares matter here (0.02 % busy), so keep two significant digits.
    if p != 0.0 && p.abs() < 0.1 {
        format!("{p:.3} %")
    } else {
        format!("{p:.2} %")
    }
}

/// A metric's value as its unit is read.
pub fn value(x: f64, unit: Unit) -> String {
    match unit {
        Unit::Count => number(x, if x.fract() == 0.0 { 0 } else { 1 }),
        Unit::Ratio => percent(x),
        Unit::Minutes => format!("{} min", number(x, if x.fract() == 0.0 { 0 } else { 2 })),
        Unit::Milliseconds if x >= crate::summary::LATENCY_CAP_MS => latency_ms(x),
        Unit::Milliseconds => format!("{} ms", number(x, 2)),
        Unit::PerSecond => format!("{}/s", number(x, 0)),
        Unit::Seconds => format!("{} s", number(x, 2)),
        Unit::Bytes => bytes(x),
    }
}

/// Three significant digits with a unit prefix (`14.1 k`, `1.80 M`), for a
/// headline card, which has room for a few characters, not for every digit.
fn significant(x: f64) -> String {
    let (v, prefix) = match x.abs() {
        a if a >= 1e9 => (x / 1e9, " G"),
        a if a >= 1e6 => (x / 1e6, " M"),
        a if a >= 1e4 => (x / 1e3, " k"),
        _ => return number(x, if x.fract() == 0.0 { 0 } else { 1 }),
    };
    let decimals = match v.abs() {
        a if a >= 100.0 => 0,
        a if a >= 10.0 => 1,
        _ => 2,
    };
    format!("{v:.decimals$}{prefix}")
}

/// A latency percentile in ms, or, at the one-hour cap of what is
/// measured, the cap as such: never a cap printed as a measurement.
pub fn latency_ms(ms: f64) -> String {
    if ms >= crate::summary::LATENCY_CAP_MS {
        "≥ 1 h (cap)".to_string()
    } else {
        format!("{ms:.1}")
    }
}

/// A metric's value in a few characters: `1.80 M/s`, `3.23 s`, `14,101`.
pub fn compact(x: f64, unit: Unit) -> String {
    match unit {
        Unit::Count => significant(x).trim_end().to_string(),
        Unit::PerSecond => format!("{}/s", significant(x)).replace(" /", "/"),
        // "(cap)" does not fit a card: the headline says so in its note.
        Unit::Milliseconds if x >= crate::summary::LATENCY_CAP_MS => "≥ 1 h".to_string(),
        Unit::Milliseconds if x.abs() >= 1000.0 => format!("{:.2} s", x / 1000.0),
        Unit::Milliseconds => format!("{} ms", number(x, 1)),
        Unit::Seconds if x.abs() >= 60.0 => format!("{:.1} min", x / 60.0),
        _ => value(x, unit),
    }
}

pub fn compact_reading(r: &Reading, unit: Unit) -> String {
    match r {
        Reading::Value(v) => compact(*v, unit),
        Reading::Missing(_) => "n/a".to_string(),
    }
}

pub fn reading(r: &Reading, unit: Unit) -> String {
    match r {
        Reading::Value(v) => value(*v, unit),
        Reading::Missing(_) => "n/a".to_string(),
    }
}

/// A change between two values, signed; `+0` when equal.
pub fn delta(d: f64, unit: Unit) -> String {
    // A change of an hour is a change, not a latency at the cap.
    let magnitude = match unit {
        Unit::Milliseconds => format!("{} ms", number(d.abs(), 2)),
        _ => value(d.abs(), unit),
    };
    if d < 0.0 {
        format!("-{magnitude}")
    } else {
        format!("+{magnitude}")
    }
}

/// The change in percent of `a`; `n/a` from zero.
pub fn delta_percent(a: f64, b: f64) -> String {
    if a == 0.0 {
        return if b == 0.0 {
            "0.0 %".into()
        } else {
            "n/a".into()
        };
    }
    format!("{:+.1} %", (b - a) / a.abs() * 100.0)
}

/// Escapes text for HTML and XML, attribute values included.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1234567), "1,234,567");
        assert_eq!(number(-1234.5, 1), "-1,234.5");
    }

    #[test]
    fn compact_figures_fit_a_card() {
        assert_eq!(compact(1_804_333.0, Unit::PerSecond), "1.80 M/s");
        assert_eq!(compact(812.0, Unit::PerSecond), "812/s");
        assert_eq!(compact(3231.74, Unit::Milliseconds), "3.23 s");
        assert_eq!(compact(33.471, Unit::Milliseconds), "33.5 ms");
        assert_eq!(compact(1_408_211.0, Unit::Count), "1.41 M");
        assert_eq!(compact(14_101.0, Unit::Count), "14.1 k");
        assert_eq!(compact(9_999.0, Unit::Count), "9,999");
        assert_eq!(compact(0.0, Unit::Count), "0");
        assert_eq!(compact(0.0002, Unit::Ratio), "0.020 %");
        assert_eq!(compact(272.0 * 1048576.0, Unit::Bytes), "272.0 MiB");
        assert_eq!(latency_ms(3_600_810.0), "≥ 1 h (cap)");
        // A scan p99 at the cap, on a card or in a table, is the cap.
        assert_eq!(compact(3_600_810.0, Unit::Milliseconds), "≥ 1 h");
        assert_eq!(value(3_600_810.0, Unit::Milliseconds), "≥ 1 h (cap)");
        assert_eq!(delta(3_600_810.0, Unit::Milliseconds), "+3,600,810.00 ms");
        assert_eq!(latency_ms(3_412.04), "3412.0");
    }

    #[test]
    fn names_units() {
        assert_eq!(bytes(618.0 * 1048576.0), "618.0 MiB");
        assert_eq!(percent(0.0002), "0.020 %");
        assert_eq!(percent(0.5), "50.00 %");
        assert_eq!(delta(-3.0, Unit::Count), "-3");
        assert_eq!(delta_percent(200.0, 150.0), "-25.0 %");
        assert_eq!(delta_percent(0.0, 5.0), "n/a");
        assert_eq!(
            escape("<a href=\"x\">&</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
