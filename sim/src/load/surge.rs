//! The rate shape of a scenario's `[[surge]]` entries, for load mode.
//!
//! A surge's times and shape mean what they mean for `hcsim run` (see
//! `crate::surge`); load mode adds only `factor`, the request-rate
//! multiplier at the surge's peak. An entry without `factor` leaves the load
//! rate alone (it still shapes virtual-time runs). What else an entry says
//! (kind, province, share...) describes who takes part in a virtual-time
//! run and does not apply to a rate.
//!
//! ```toml
//! [[surge]]
//! kind = "announcement"
//! province = "shaanxi"
//! start = "2021-12-20T08:30"   # Beijing time
//! duration_minutes = 60        # or duration_hours, days, end
//! share = 0.8
//! ramp_minutes = 5             # linear rise from start to the peak
//! decay_minutes = 15           # exponential fall after the peak
//! factor = 10.0                # hcsim load: rate × 10 at the peak
//! ```

use super::arrivals::{RateShape, Surge};
use hcsim_platform::Minute;
use std::path::Path;

/// The shape, and how many entries have no `factor`.
pub fn read(path: &Path) -> Result<(RateShape, usize), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn parse(text: &str) -> Result<(RateShape, usize), String> {
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| e.message().to_string())?;
    let Some(entries) = doc.get("surge") else {
        return Ok((RateShape::constant(), 0));
    };
    let entries = entries
        .as_array()
        .ok_or("`surge` must be an array of tables ([[surge]])")?;
    let mut surges = Vec::new();
    let mut without_factor = 0;
    for (n, entry) in entries.iter().enumerate() {
        let at = |field: &str, msg: String| format!("[[surge]] #{}: field `{field}`: {msg}", n + 1);
        let table = entry
            .as_table()
            .ok_or_else(|| format!("[[surge]] #{} is not a table", n + 1))?;
        let number = |key: &str| -> Result<Option<f64>, String> {
            match table.get(key) {
                None => Ok(None),
                Some(v) => v
                    .as_float()
                    .or_else(|| v.as_integer().map(|i| i as f64))
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .map(Some)
                    .ok_or_else(|| at(key, "expected a number ≥ 0".into())),
            }
        };
        let time = |key: &str| -> Result<Option<Minute>, String> {
            match table.get(key) {
                None => Ok(None),
                Some(v) => {
                    let s = v
                        .as_str()
                        .ok_or_else(|| at(key, "expected a Beijing time string".into()))?;
                    Minute::parse(s).map(Some).map_err(|m| at(key, m))
                }
            }
        };
        let Some(factor) = number("factor")? else {
            without_factor += 1;
            continue;
        };
        if factor > 10_000.0 {
            return Err(at("factor", format!("{factor} is out of range 0..=10000")));
        }
        let start = time("start")?.ok_or_else(|| at("start", "missing".into()))?;
        let duration = match (
            time("end")?,
            number("duration_minutes")?,
            number("duration_hours")?,
            number("days")?,
        ) {
            (Some(end), None, None, None) if end > start => end.since(start) as f64,
            (Some(end), None, None, None) => {
                return Err(at("end", format!("{end} is not after start {start}")))
            }
            (None, Some(m), None, None) => m,
            (None, None, Some(h), None) => h * 60.0,
            (None, None, None, Some(d)) => d * 1440.0,
            _ => {
                return Err(at(
                    "end",
                    "give exactly one of `end`, `duration_minutes`, `duration_hours`, `days`"
                        .into(),
                ))
            }
        };
        let duration_minutes = duration.round() as u32;
        if duration_minutes == 0 {
            return Err(at(
                "duration_minutes",
                "the surge must last at least a minute".into(),
            ));
        }
        let ramp_minutes = number("ramp_minutes")?.unwrap_or(0.0).round() as u32;
        if ramp_minutes > duration_minutes {
            return Err(at(
                "ramp_minutes",
                format!("{ramp_minutes} is longer than the surge ({duration_minutes} minutes)"),
            ));
        }
        surges.push(Surge {
            start,
            duration_minutes,
            ramp_minutes,
            decay_minutes: number("decay_minutes")?.unwrap_or(0.0).round() as u32,
            factor,
        });
    }
    Ok((RateShape { surges }, without_factor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_factor_surges_and_counts_the_others() {
        let (shape, without) = parse(
            "name = \"x\"\n\
             [[surge]]\nkind = \"announcement\"\nprovince = \"shaanxi\"\nshare = 0.8\n\
             start = \"2021-12-20T08:00\"\nduration_hours = 2\nfactor = 10\n\
             [[surge]]\nkind = \"mass_testing\"\nstart = \"2021-12-20T12:00\"\nend = \"2021-12-20T12:30\"\n\
             factor = 2.5\nramp_minutes = 5\ndecay_minutes = 10\n\
             [[surge]]\nkind = \"spring_festival\"\nstart = \"2021-02-05T00:00\"\ndays = 3\nmultiplier = 8.0\n",
        )
        .unwrap();
        assert_eq!(without, 1);
        assert_eq!(shape.surges.len(), 2);
        assert_eq!(shape.surges[0].duration_minutes, 120);
        assert_eq!(shape.surges[0].factor, 10.0);
        assert_eq!(shape.surges[1].duration_minutes, 30);
        assert_eq!(shape.surges[1].ramp_minutes, 5);
        assert_eq!(shape.surges[1].decay_minutes, 10);
    }

    #[test]
    fn no_surge_is_a_constant_rate() {
        assert_eq!(parse("name = \"x\"\n").unwrap(), (RateShape::constant(), 0));
    }

    #[test]
    fn errors_name_the_entry_and_field() {
        let e = parse("[[surge]]\nstart = \"2021-12-20T08:00\"\nfactor = 2\n").unwrap_err();
        assert!(e.starts_with("[[surge]] #1: field `end`"), "{e}");
        let e = parse(
            "[[surge]]\nstart = \"2021-12-20T08:00\"\nend = \"2021-12-20T07:00\"\nfactor = 2\n",
        )
        .unwrap_err();
        assert!(e.contains("not after start"), "{e}");
        let e = parse("[[surge]]\nstart = \"2021-12-20T08:00\"\nend = \"2021-12-20T09:00\"\nfactor = \"big\"\n")
            .unwrap_err();
        assert!(e.starts_with("[[surge]] #1: field `factor`"), "{e}");
    }
}
