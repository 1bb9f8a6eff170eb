//! How each published figure is measured on a run: the metric a figure
//! names, computed from `summary.json` (totals and timeline) alone.
//!
//! The published figures use different verbs, and each maps to what the
//! model counts:
//! - a code *display* (亮码) is the holder opening their own code: a
//!   `query` the platform answered;
//! - a place *registration* (Qinghai's 登记) is a scan at a checkpoint;
//! - a *use* or *query* of the platform (Shandong's 查询, the national
//!   code's 使用) is either of the two.

use hcsim_reports::calibration::FigureSeries;
use hcsim_reports::summary::{Summary, TimelinePoint};

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Code displays per code holder per day.
    DisplaysPerHolderDay,
    /// Code displays per resident per day.
    DisplaysPerResidentDay,
    /// Checkpoint scans per code holder per day.
    ScansPerHolderDay,
    /// Displays and scans per resident per day.
    UsesPerResidentDay,
    /// Displays and scans in the busiest reporting interval, per resident
    /// per minute.
    PeakUsesPerResidentMinute,
    /// The busiest interval's uses per minute over the baseline run's mean
    /// uses per minute (both per resident).
    PeakOverBaselineMean,
}

pub const METRICS: [(&str, Metric); 6] = [
    ("displays_per_holder_day", Metric::DisplaysPerHolderDay),
    ("displays_per_resident_day", Metric::DisplaysPerResidentDay),
    ("scans_per_holder_day", Metric::ScansPerHolderDay),
    ("uses_per_resident_day", Metric::UsesPerResidentDay),
    (
        "peak_uses_per_resident_minute",
        Metric::PeakUsesPerResidentMinute,
    ),
    ("peak_over_baseline_mean", Metric::PeakOverBaselineMean),
];

impl Metric {
    pub fn parse(name: &str) -> Option<Metric> {
        METRICS.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
    }

    pub fn name(self) -> &'static str {
        METRICS
            .iter()
            .find(|(_, m)| *m == self)
            .map_or("?", |(n, _)| n)
    }

    pub fn needs_baseline(self) -> bool {
        self == Metric::PeakOverBaselineMean
    }

    pub fn unit(self) -> &'static str {
        match self {
            Metric::DisplaysPerHolderDay => "displays per code holder per day",
            Metric::DisplaysPerResidentDay => "displays per resident per day",
            Metric::ScansPerHolderDay => "scans per code holder per day",
            Metric::UsesPerResidentDay => "uses per resident per day",
            Metric::PeakUsesPerResidentMinute => "uses per resident per minute",
            Metric::PeakOverBaselineMean => "× the baseline day's mean minute",
        }
    }

    /// What the model counts, for the report.
    pub fn note(self) -> &'static str {
        match self {
            Metric::DisplaysPerHolderDay => {
                "answered code queries (a holder opening their code) / registered codes at the end / days"
            }
            Metric::DisplaysPerResidentDay => "answered code queries / citizens / days",
            Metric::ScansPerHolderDay => {
                "checkpoint scans / registered codes at the end / days"
            }
            Metric::UsesPerResidentDay => {
                "(answered code queries + checkpoint scans) / citizens / days"
            }
            Metric::PeakUsesPerResidentMinute => {
                "the busiest reporting interval's (queries + scans) per minute / citizens; the interval is the timeline's, so a one-minute spike inside it is averaged over the interval"
            }
            Metric::PeakOverBaselineMean => {
                "the busiest interval's (queries + scans) per minute per citizen / the baseline run's mean (queries + scans) per minute per citizen"
            }
        }
    }

    /// The figure's model value and its series over the run. `baseline`
    /// is the baseline run for `PeakOverBaselineMean`.
    pub fn measure(self, s: &Summary, baseline: Option<&Summary>) -> (f64, FigureSeries) {
        let t = &s.timeline;
        let interval = t.interval_minutes.max(1) as f64;
        let minutes = (t.points.len() as f64 * interval).max(1.0);
        let days = minutes / 1440.0;
        let citizens = (s.citizens as f64).max(1.0);
        let holders = (registered(s) as f64).max(1.0);
        let per_day = |count: fn(&TimelinePoint) -> u64, per: f64| {
            let total: u64 = t.points.iter().map(count).sum();
            let series = t
                .points
                .iter()
                .map(|p| count(p) as f64 / per * 1440.0 / interval)
                .collect();
            (
                total as f64 / per / days,
                series,
                "model, each interval's rate over a day",
            )
        };
        let (value, values, label) = match self {
            Metric::DisplaysPerHolderDay => per_day(|p| p.queries, holders),
            Metric::DisplaysPerResidentDay => per_day(|p| p.queries, citizens),
            Metric::ScansPerHolderDay => per_day(|p| p.scans, holders),
            Metric::UsesPerResidentDay => per_day(uses, citizens),
            Metric::PeakUsesPerResidentMinute => {
                let series: Vec<f64> = t
                    .points
                    .iter()
                    .map(|p| uses(p) as f64 / interval / citizens)
                    .collect();
                (max(&series), series, "model, uses per resident per minute")
            }
            Metric::PeakOverBaselineMean => {
                let mean = baseline.map_or(0.0, mean_uses_per_resident_minute);
                let series: Vec<f64> = t
                    .points
                    .iter()
                    .map(|p| ratio(uses(p) as f64 / interval / citizens, mean))
                    .collect();
                (
                    max(&series),
                    series,
                    "model, each interval over the baseline mean",
                )
            }
        };
        let series = FigureSeries {
            interval_minutes: t.interval_minutes,
            starts: t.points.iter().map(|p| p.start.clone()).collect(),
            values,
            label: label.to_string(),
        };
        (value, series)
    }
}

fn uses(p: &TimelinePoint) -> u64 {
    p.queries + p.scans
}

/// People holding a code at the end of the run, every colour.
pub fn registered(s: &Summary) -> u64 {
    s.provinces
        .iter()
        .flat_map(|p| p.colors_at_end.values())
        .sum()
}

pub fn mean_uses_per_resident_minute(s: &Summary) -> f64 {
    let t = &s.timeline;
    let minutes = t.points.len() as f64 * t.interval_minutes as f64;
    let total: u64 = t.points.iter().map(uses).sum();
    ratio(total as f64, minutes * s.citizens as f64)
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(0.0, f64::max)
}
