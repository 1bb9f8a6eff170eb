//! The `failing` section of `summary.json`: when the simulated platforms
//! were failing, by the rule in `compare` (`FAILING_RULE`), nationally and
//! per platform, as windows of consecutive failing intervals, so a gate can
//! limit them and the report can mark them.

use crate::compare::{service_points, FAILING_SHARE};
use crate::summary::{FailingReport, FailingWindow, IntervalLoad, PlatformFailing, Summary};

/// The failing windows of a finished run's summary.
pub fn report(s: &Summary) -> FailingReport {
    let national: Vec<bool> = service_points(s).iter().map(|p| p.failing).collect();
    let timeout_ms = s.capacity.timeout_ms as f64;
    let platforms = s
        .capacity
        .platforms
        .iter()
        .filter_map(|p| {
            let failing: Vec<bool> = p
                .timeline
                .iter()
                .map(|t| interval_fails(t, timeout_ms))
                .collect();
            let windows = windows(s, &failing);
            (!windows.is_empty()).then(|| PlatformFailing {
                platform: p.platform.clone(),
                minutes: windows.iter().map(|w| w.minutes).sum(),
                windows,
            })
        })
        .collect();
    let national = windows(s, &national);
    FailingReport {
        minutes: national.iter().map(|w| w.minutes).sum(),
        national,
        platforms,
    }
}

/// One platform's interval, by the same rule as the national one.
fn interval_fails(t: &IntervalLoad, timeout_ms: f64) -> bool {
    let unusable = t.busy + t.timeouts;
    let share = if t.requests == 0 {
        0.0
    } else {
        unusable as f64 / t.requests as f64
    };
    share > FAILING_SHARE || (timeout_ms > 0.0 && t.p99_ms > timeout_ms)
}

/// Runs of `true` in `failing` (aligned with `timeline.points`) as windows.
fn windows(s: &Summary, failing: &[bool]) -> Vec<FailingWindow> {
    let points = &s.timeline.points;
    let step = s.timeline.interval_minutes;
    let start_of = |i: usize| {
        points
            .get(i)
            .map_or_else(|| s.scenario.end.clone(), |p| p.start.clone())
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < failing.len() {
        if !failing[i] {
            i += 1;
            continue;
        }
        let first = i;
        while i < failing.len() && failing[i] {
            i += 1;
        }
        out.push(FailingWindow {
            from: start_of(first),
            until: start_of(i),
            minutes: (i - first) as u32 * step,
        });
    }
    out
}
