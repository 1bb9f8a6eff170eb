//! The thresholds file (`ci/gates.toml`): which metrics a run must keep
//! within which limits. Strict: an unknown metric, an unknown key or a limit
//! without bounds is an error at its line.
//!
//! ```toml
//! [limits]                        # absolute: `min`, `max`, or both
//! busy_rate = { max = 0.01 }
//! scans = { min = 5000 }
//!
//! [baseline]                      # relative to the --baseline file
//! events_per_second = { min_ratio = 0.3 }
//! scans = { tolerance = 0.25 }    # within ±25 % of the baseline
//! ```

use crate::metrics;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    #[serde(default)]
    pub limits: BTreeMap<MetricName, Limit>,
    #[serde(default)]
    pub baseline: BTreeMap<MetricName, RatioLimit>,
}

impl Thresholds {
    /// Parses a thresholds file's text. The error carries toml's span, so a
    /// caller can name the line and field.
    pub fn parse(text: &str) -> Result<Thresholds, toml::de::Error> {
        toml::from_str(text)
    }
}

/// A name from `metrics::METRICS`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MetricName(pub String);

impl<'de> Deserialize<'de> for MetricName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        if metrics::find(&name).is_none() {
            let known: Vec<&str> = metrics::names().collect();
            return Err(serde::de::Error::custom(format!(
                "unknown metric `{name}`, expected one of {}",
                known.join(", ")
            )));
        }
        Ok(MetricName(name))
    }
}

/// An absolute limit: the value must lie in `min..=max`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawLimit")]
pub struct Limit {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimit {
    min: Option<f64>,
    max: Option<f64>,
}

impl TryFrom<RawLimit> for Limit {
    type Error = String;
    fn try_from(r: RawLimit) -> Result<Limit, String> {
        match (r.min, r.max) {
            (None, None) => Err("a limit needs `min`, `max` or both".into()),
            (Some(lo), Some(hi)) if lo > hi => Err(format!("`min` ({lo}) is above `max` ({hi})")),
            (lo, hi) if lo.into_iter().chain(hi).any(|v| !v.is_finite()) => {
                Err("limits must be finite".into())
            }
            (min, max) => Ok(Limit { min, max }),
        }
    }
}

/// A limit relative to the baseline: `value / baseline` must lie in
/// `min_ratio..=max_ratio`. `tolerance = t` means `1 − t ..= 1 + t`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawRatio")]
pub struct RatioLimit {
    pub min_ratio: Option<f64>,
    pub max_ratio: Option<f64>,
    /// Set when the file said `tolerance`, to show it as written.
    pub tolerance: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRatio {
    min_ratio: Option<f64>,
    max_ratio: Option<f64>,
    tolerance: Option<f64>,
}

impl TryFrom<RawRatio> for RatioLimit {
    type Error = String;
    fn try_from(r: RawRatio) -> Result<RatioLimit, String> {
        let given = [r.min_ratio, r.max_ratio, r.tolerance];
        if given.iter().flatten().any(|v| !v.is_finite() || *v < 0.0) {
            return Err("ratios and tolerances must be finite and not negative".into());
        }
        match (r.min_ratio, r.max_ratio, r.tolerance) {
            (None, None, None) => {
                Err("a baseline limit needs `min_ratio`, `max_ratio` or `tolerance`".into())
            }
            (None, None, Some(t)) => Ok(RatioLimit {
                min_ratio: Some((1.0 - t).max(0.0)),
                max_ratio: Some(1.0 + t),
                tolerance: Some(t),
            }),
            (_, _, Some(_)) => Err("give `tolerance` alone, or `min_ratio`/`max_ratio`".into()),
            (Some(lo), Some(hi), None) if lo > hi => {
                Err(format!("`min_ratio` ({lo}) is above `max_ratio` ({hi})"))
            }
            (min_ratio, max_ratio, None) => Ok(RatioLimit {
                min_ratio,
                max_ratio,
                tolerance: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> (usize, String) {
        let e = Thresholds::parse(text).unwrap_err();
        let line = e
            .span()
            .map_or(0, |s| text[..s.start].matches('\n').count() + 1);
        (line, e.message().to_string())
    }

    #[test]
    fn reads_limits_and_ratios() {
        let t = Thresholds::parse(
            "[limits]\nbusy_rate = { max = 0.01 }\nscans = { min = 10, max = 20 }\n\
             [baseline]\nevents_per_second = { min_ratio = 0.3 }\nscans = { tolerance = 0.25 }\n",
        )
        .unwrap();
        assert_eq!(
            t.limits[&MetricName("scans".into())],
            Limit {
                min: Some(10.0),
                max: Some(20.0)
            }
        );
        let r = &t.baseline[&MetricName("scans".into())];
        assert_eq!((r.min_ratio, r.max_ratio), (Some(0.75), Some(1.25)));
    }

    #[test]
    fn errors_point_at_the_line() {
        let (line, msg) = err("[limits]\nscans = { min = 1 }\nscnas = { min = 1 }\n");
        assert_eq!(line, 3);
        assert!(msg.starts_with("unknown metric `scnas`"), "{msg}");
        let (line, msg) = err("[limits]\n\nbusy_rate = { mx = 1 }\n");
        assert_eq!(line, 3);
        assert!(msg.contains("unknown field `mx`"), "{msg}");
        let (line, msg) = err("[limits]\nscans = {}\n");
        assert_eq!(line, 2);
        assert!(msg.contains("needs `min`, `max`"), "{msg}");
        let (line, msg) = err("[baseline]\nscans = { tolerance = 0.1, min_ratio = 0.5 }\n");
        assert_eq!(line, 2);
        assert!(msg.contains("`tolerance` alone"), "{msg}");
        let (line, msg) = err("[limit]\n");
        assert_eq!(line, 1);
        assert!(msg.contains("unknown field `limit`"), "{msg}");
    }
}
