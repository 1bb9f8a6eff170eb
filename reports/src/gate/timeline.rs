//! Sustained breaches: a limit with `for_minutes` reads its metric per
//! timeline interval and fails only when the value stays out of bounds for
//! that many consecutive simulated minutes, so a one-interval blip during a
//! surge does not fail a build that a ten-minute outage should.

use crate::summary::{Summary, TimelinePoint};

/// The metrics a `for_minutes` limit can name, each read from one interval.
pub const METRICS: &[&str] = &[
    "busy_rate",
    "scan_busy_rate",
    "refuse_rate",
    "queue_depth_max",
    "wait_minutes_mean",
    "wait_minutes_max",
];

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// How to read `metric` from one interval, if it has a timeline.
pub fn series(metric: &str) -> Option<fn(&TimelinePoint) -> f64> {
    Some(match metric {
        "busy_rate" => |p| share(p.platform_busy, p.platform_requests),
        "scan_busy_rate" => |p| share(p.busy, p.scans),
        "refuse_rate" => |p| share(p.refuse, p.scans),
        "queue_depth_max" => |p| p.queue_depth_max as f64,
        "wait_minutes_mean" => |p| p.wait_minutes_mean,
        "wait_minutes_max" => |p| p.wait_minutes_max as f64,
        _ => return None,
    })
}

/// Consecutive intervals out of bounds, from the first one's start to the
/// end of the last.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Breach {
    pub from: String,
    pub until: String,
    pub minutes: u32,
}

/// The longest run of intervals whose value of `metric` lies outside
/// `min..=max` (the earliest of equally long ones). `None` when the metric
/// has no timeline or never leaves its bounds.
pub fn longest_breach(
    s: &Summary,
    metric: &str,
    min: Option<f64>,
    max: Option<f64>,
) -> Option<Breach> {
    let read = series(metric)?;
    let points = &s.timeline.points;
    let out = |p: &TimelinePoint| {
        let v = read(p);
        min.is_some_and(|lo| v < lo) || max.is_some_and(|hi| v > hi)
    };
    let start_of = |i: usize| {
        points
            .get(i)
            .map_or_else(|| s.scenario.end.clone(), |p| p.start.clone())
    };
    let mut best: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < points.len() {
        if !out(&points[i]) {
            i += 1;
            continue;
        }
        let first = i;
        while i < points.len() && out(&points[i]) {
            i += 1;
        }
        if best.is_none_or(|(a, b)| i - first > b - a) {
            best = Some((first, i));
        }
    }
    best.map(|(first, end)| Breach {
        from: start_of(first),
        until: start_of(end),
        minutes: (end - first) as u32 * s.timeline.interval_minutes,
    })
}
