//! The thresholds file (`ci/gates.toml`): which metrics a run must keep
//! within which limits. Strict: an unknown metric, an unknown key or a limit
//! without bounds is an error at its line.
//!
//! ```toml
//! [gate]
//! alpha = 0.01                    # false-alarm rate of the baseline tests, all together
//!
//! [limits]                        # absolute: `min`, `max`, or both, in every seed
//! scans = { min = 5000 }
//! busy_rate = { max = 0.01, for_minutes = 10 }   # sustained: 10 consecutive minutes over
//!
//! [baseline]                      # against the --baseline file's samples
//! scan_p99_ms = { regress_by = 0.05 }            # fails on a significant rise of > 5 %
//! events_per_second = { regress_by = 0.5 }       # a rate regresses downwards
//! scans = { tolerance = 0.25 }    # a significant change of > 25 % either way
//! ```
//!
//! A `[baseline]` metric fails only when the change is both significant
//! (Mann–Whitney U, Holm-corrected at `alpha` across the metrics tested) and
//! larger than its threshold: `regress_by` in the direction that is worse
//! for the metric (`worse = "higher" | "lower" | "either"`, by default
//! lower for rates per second, either for counts, higher for the rest),
//! `tolerance` either way, `min_ratio`/`max_ratio` as bounds on the ratio of
//! the candidate's median to the baseline's.

use super::timeline;
use crate::metrics::{self, MetricDef, Unit};
use serde::de::{DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

/// The family-wise false-alarm rate when the file does not set one.
pub const DEFAULT_ALPHA: f64 = 0.01;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    #[serde(default)]
    pub gate: GateSettings,
    #[serde(default, deserialize_with = "limits")]
    pub limits: BTreeMap<MetricName, Limit>,
    #[serde(default)]
    pub baseline: BTreeMap<MetricName, RatioLimit>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateSettings {
    /// The probability that an unchanged project fails any baseline test.
    #[serde(default = "default_alpha", deserialize_with = "alpha")]
    pub alpha: f64,
}

impl Default for GateSettings {
    fn default() -> Self {
        GateSettings {
            alpha: DEFAULT_ALPHA,
        }
    }
}

fn default_alpha() -> f64 {
    DEFAULT_ALPHA
}

fn alpha<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let alpha = f64::deserialize(d)?;
    if alpha > 0.0 && alpha < 1.0 {
        Ok(alpha)
    } else {
        Err(serde::de::Error::custom(format!(
            "`alpha` must lie strictly between 0 and 1, not {alpha}"
        )))
    }
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

/// An absolute limit: the value must lie in `min..=max`. With
/// `for_minutes`, the metric is read per timeline interval and the limit
/// fails only when it is broken for that many consecutive minutes.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub for_minutes: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimit {
    min: Option<f64>,
    max: Option<f64>,
    for_minutes: Option<u32>,
}

impl RawLimit {
    fn check(self, metric: &str) -> Result<Limit, String> {
        let (min, max) = match (self.min, self.max) {
            (None, None) => return Err("a limit needs `min`, `max` or both".into()),
            (Some(lo), Some(hi)) if lo > hi => {
                return Err(format!("`min` ({lo}) is above `max` ({hi})"))
            }
            (lo, hi) if lo.into_iter().chain(hi).any(|v| !v.is_finite()) => {
                return Err("limits must be finite".into())
            }
            bounds => bounds,
        };
        if let Some(minutes) = self.for_minutes {
            if minutes == 0 {
                return Err("`for_minutes` must be at least 1".into());
            }
            if timeline::series(metric).is_none() {
                return Err(format!(
                    "`for_minutes` needs a metric with a timeline: {}",
                    timeline::METRICS.join(", ")
                ));
            }
        }
        Ok(Limit {
            min,
            max,
            for_minutes: self.for_minutes,
        })
    }
}

/// `[limits]`: read entry by entry so that a limit is checked knowing its
/// metric, and an error points at the limit's own line.
fn limits<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<MetricName, Limit>, D::Error> {
    struct Entries;
    struct ForMetric<'a>(&'a str);
    impl<'de> DeserializeSeed<'de> for ForMetric<'_> {
        type Value = Limit;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Limit, D::Error> {
            RawLimit::deserialize(d)?
                .check(self.0)
                .map_err(serde::de::Error::custom)
        }
    }
    impl<'de> Visitor<'de> for Entries {
        type Value = BTreeMap<MetricName, Limit>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a table of metric = { min, max, for_minutes }")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(name) = map.next_key::<MetricName>()? {
                let limit = map.next_value_seed(ForMetric(&name.0))?;
                out.insert(name, limit);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Entries)
}

/// Which way a metric gets worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Worse {
    Higher,
    Lower,
    Either,
}

impl Worse {
    /// Rates per second regress downwards; counts are suspect either way
    /// (a model change that loses scans is as wrong as one that adds them);
    /// latencies, waits, shares, times and sizes regress upwards.
    pub fn default_for(def: &MetricDef) -> Worse {
        match def.unit {
            Unit::PerSecond => Worse::Lower,
            Unit::Count => Worse::Either,
            _ => Worse::Higher,
        }
    }
}

/// A limit relative to the baseline: the ratio of the candidate's median to
/// the baseline's must lie in `min_ratio..=max_ratio`. `tolerance = t` means
/// `1 − t ..= 1 + t`; `regress_by = r` means `..= 1 + r` for a metric that
/// gets worse upwards, `1 − r ..` for one that gets worse downwards.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawRatio")]
pub struct RatioLimit {
    pub min_ratio: Option<f64>,
    pub max_ratio: Option<f64>,
    /// Set when the file said `tolerance`, to show it as written.
    pub tolerance: Option<f64>,
    /// Set when the file said `regress_by`; its direction is `worse`, or
    /// the metric's default.
    pub regress_by: Option<f64>,
    pub worse: Option<Worse>,
}

impl RatioLimit {
    /// The bounds on candidate / baseline for metric `def`.
    pub fn bounds(&self, def: &MetricDef) -> (Option<f64>, Option<f64>) {
        match self.regress_by {
            None => (self.min_ratio, self.max_ratio),
            Some(r) => match self.worse.unwrap_or_else(|| Worse::default_for(def)) {
                Worse::Higher => (None, Some(1.0 + r)),
                Worse::Lower => (Some((1.0 - r).max(0.0)), None),
                Worse::Either => (Some((1.0 - r).max(0.0)), Some(1.0 + r)),
            },
        }
    }

    /// The smallest relative change this limit fails on: what the power of
    /// the test must reach for the limit to mean anything.
    pub fn smallest_failing_change(&self, def: &MetricDef) -> f64 {
        let (lo, hi) = self.bounds(def);
        let down = lo.map(|lo| 1.0 - lo);
        let up = hi.map(|hi| hi - 1.0);
        down.into_iter().chain(up).fold(f64::INFINITY, f64::min)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRatio {
    min_ratio: Option<f64>,
    max_ratio: Option<f64>,
    tolerance: Option<f64>,
    regress_by: Option<f64>,
    worse: Option<Worse>,
}

impl TryFrom<RawRatio> for RatioLimit {
    type Error = String;
    fn try_from(r: RawRatio) -> Result<RatioLimit, String> {
        let given = [r.min_ratio, r.max_ratio, r.tolerance, r.regress_by];
        if given.iter().flatten().any(|v| !v.is_finite() || *v < 0.0) {
            return Err("ratios and tolerances must be finite and not negative".into());
        }
        if r.worse.is_some() && r.regress_by.is_none() {
            return Err("`worse` goes with `regress_by`".into());
        }
        let limit = |min_ratio, max_ratio| RatioLimit {
            min_ratio,
            max_ratio,
            tolerance: r.tolerance,
            regress_by: r.regress_by,
            worse: r.worse,
        };
        match (r.min_ratio, r.max_ratio, r.tolerance, r.regress_by) {
            (None, None, None, None) => Err(
                "a baseline limit needs `regress_by`, `tolerance`, `min_ratio` or `max_ratio`"
                    .into(),
            ),
            (None, None, None, Some(_)) => Ok(limit(None, None)),
            (None, None, Some(t), None) => Ok(limit(Some((1.0 - t).max(0.0)), Some(1.0 + t))),
            (_, _, Some(_), _) | (_, _, _, Some(_)) => {
                Err("give `regress_by` alone, `tolerance` alone, or `min_ratio`/`max_ratio`".into())
            }
            (Some(lo), Some(hi), None, None) if lo > hi => {
                Err(format!("`min_ratio` ({lo}) is above `max_ratio` ({hi})"))
            }
            (min_ratio, max_ratio, None, None) => Ok(limit(min_ratio, max_ratio)),
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
                max: Some(20.0),
                for_minutes: None,
            }
        );
        let r = &t.baseline[&MetricName("scans".into())];
        assert_eq!((r.min_ratio, r.max_ratio), (Some(0.75), Some(1.25)));
        assert_eq!(t.gate.alpha, DEFAULT_ALPHA);
    }

    #[test]
    fn regress_by_takes_the_metrics_direction_unless_told() {
        let t = Thresholds::parse(
            "[gate]\nalpha = 0.05\n[baseline]\nscan_p99_ms = { regress_by = 0.05 }\n\
             events_per_second = { regress_by = 0.5 }\nscans = { regress_by = 0.1 }\n\
             busy = { regress_by = 0.2, worse = \"higher\" }\n",
        )
        .unwrap();
        assert_eq!(t.gate.alpha, 0.05);
        let bounds = |m: &str| t.baseline[&MetricName(m.into())].bounds(metrics::find(m).unwrap());
        assert_eq!(bounds("scan_p99_ms"), (None, Some(1.05)));
        assert_eq!(bounds("events_per_second"), (Some(0.5), None));
        assert_eq!(bounds("scans"), (Some(0.9), Some(1.1)));
        assert_eq!(bounds("busy"), (None, Some(1.2)));
        let scans = &t.baseline[&MetricName("scans".into())];
        let change = scans.smallest_failing_change(metrics::find("scans").unwrap());
        assert!((change - 0.1).abs() < 1e-12, "{change}");
    }

    #[test]
    fn for_minutes_needs_a_timeline_metric() {
        let t =
            Thresholds::parse("[limits]\nbusy_rate = { max = 0.01, for_minutes = 10 }\n").unwrap();
        assert_eq!(
            t.limits[&MetricName("busy_rate".into())].for_minutes,
            Some(10)
        );
        let (line, msg) =
            err("[limits]\nscans = { min = 1 }\n\nscans_red = { max = 3, for_minutes = 5 }\n");
        assert_eq!(line, 4);
        assert!(
            msg.contains("`for_minutes` needs a metric with a timeline: busy_rate"),
            "{msg}"
        );
        let (line, msg) = err("[limits]\nbusy_rate = { max = 0.01, for_minutes = 0 }\n");
        assert_eq!(line, 2);
        assert!(msg.contains("at least 1"), "{msg}");
        let (line, msg) = err("[gate]\nalpha = 1.5\n");
        assert_eq!(line, 2);
        assert!(
            msg.contains("`alpha` must lie strictly between 0 and 1"),
            "{msg}"
        );
        let (line, msg) = err("[baseline]\nscans = { worse = \"higher\" }\n");
        assert_eq!(line, 2);
        assert!(msg.contains("`worse` goes with `regress_by`"), "{msg}");
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
