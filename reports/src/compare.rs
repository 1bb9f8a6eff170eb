//! `hcsim compare`: one scenario run under several values of one setting
//! (the degrade strategy), side by side: `compare.json` and `compare.html`
//! with the runs' timelines overlaid.
//!
//! Also defines when the service is **failing**, the yardstick of the
//! incident replays: a reporting interval fails when, over the simulated
//! platforms, more than half the requests got no answer the client could
//! use (`(busy + timeouts) / requests > 0.5`), or when any platform's p99
//! latency in the interval exceeds the client's time-out.

use crate::charts::{palette, Chart, Figure, Series, TimeChart};
use crate::error::{create_dir, write_file, ReportError};
use crate::format::{latency_ms, percent};
use crate::html::page::{Cell, Page};
use crate::summary::Summary;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Share of requests without a usable answer above which an interval fails.
pub const FAILING_SHARE: f64 = 0.5;

pub const FAILING_RULE: &str = "an interval fails when more than 50 % of the requests offered to the simulated platforms were answered busy or timed out, or any platform's p99 latency exceeded the client time-out";

/// Per reporting interval, over every simulated platform (provinces and hub).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServicePoint {
    pub start: String,
    pub requests: u64,
    /// Answered busy or timed out.
    pub failed: u64,
    pub failed_rate: f64,
    /// The largest p99 of any platform in the interval.
    pub p99_ms: f64,
    pub failing: bool,
}

/// When the service failed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outage {
    /// Start of the first failing interval; `None` if none failed.
    pub failing_from: Option<String>,
    /// End of the last failing interval: from then on the service holds.
    pub recovered_at: Option<String>,
    /// Failing intervals × interval length.
    pub failing_minutes: u32,
    /// From the first failing interval's start to the recovery.
    pub recovery_minutes: u32,
}

/// The service's state per interval, from a run's summary.
pub fn service_points(s: &Summary) -> Vec<ServicePoint> {
    let timeout_ms = s.capacity.timeout_ms as f64;
    s.timeline
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut requests = 0;
            let mut failed = 0;
            let mut p99_ms: f64 = 0.0;
            for platform in &s.capacity.platforms {
                if let Some(t) = platform.timeline.get(i) {
                    requests += t.requests;
                    failed += t.busy + t.timeouts;
                    p99_ms = p99_ms.max(t.p99_ms);
                }
            }
            let failed_rate = if requests == 0 {
                0.0
            } else {
                failed as f64 / requests as f64
            };
            let slow = timeout_ms > 0.0 && p99_ms > timeout_ms;
            ServicePoint {
                start: p.start.clone(),
                requests,
                failed,
                failed_rate: (failed_rate * 1e6).round() / 1e6,
                p99_ms,
                failing: failed_rate > FAILING_SHARE || slow,
            }
        })
        .collect()
}

/// The failing window of a run (see the module's definition).
pub fn outage(s: &Summary) -> Outage {
    let points = service_points(s);
    let step = s.timeline.interval_minutes;
    let first = points.iter().position(|p| p.failing);
    let last = points.iter().rposition(|p| p.failing);
    match (first, last) {
        (Some(a), Some(b)) => Outage {
            failing_from: Some(points[a].start.clone()),
            recovered_at: Some(
                points
                    .get(b + 1)
                    .map_or_else(|| s.scenario.end.clone(), |p| p.start.clone()),
            ),
            failing_minutes: points.iter().filter(|p| p.failing).count() as u32 * step,
            recovery_minutes: (b + 1 - a) as u32 * step,
        },
        _ => Outage::default(),
    }
}

/// One run of the comparison.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompareRun {
    /// The value of the varied setting (e.g. `trip`).
    pub value: String,
    pub scans: u64,
    /// Scans the platform answered with a verdict.
    pub answered_scans: u64,
    /// "System busy" answers and time-outs, over all platform requests
    /// (each retry counts).
    pub busy_answers: u64,
    pub platform_requests: u64,
    /// People whose scan got no verdict from the platform.
    pub no_valid_code: u64,
    /// Of those: turned away after every rescan.
    pub turned_away: u64,
    /// Of those: let through on a cached code (`cache`).
    pub cached_shown: u64,
    /// Of those: checked by ID card (`idcard`).
    pub idcard_checks: u64,
    pub checkpoint_wait_minutes_mean: f64,
    pub checkpoint_wait_minutes_max: u64,
    /// Scan verification latency, end to end, of answered scans.
    pub verify_p50_ms: f64,
    pub verify_p90_ms: f64,
    pub verify_p99_ms: f64,
    pub verify_p999_ms: f64,
    pub verify_max_ms: f64,
    /// Share of answered verifications whose latency reached the one-hour
    /// cap of what is measured (`summary::LATENCY_CAP_MS`).
    #[serde(default)]
    pub verify_capped_share: f64,
    pub outage: Outage,
    pub timeline: Vec<ServicePoint>,
    /// How long a client waits for an answer.
    #[serde(default)]
    pub timeout_ms: u32,
}

impl CompareRun {
    pub fn from_summary(value: &str, s: &Summary) -> CompareRun {
        let verify = s.latency.get("verify").cloned().unwrap_or_default();
        let r = &s.capacity.retries;
        let platforms = &s.capacity.platforms;
        CompareRun {
            value: value.to_string(),
            scans: s.scans.total,
            answered_scans: s.scans.total.saturating_sub(s.scans.busy + s.scans.unknown),
            busy_answers: platforms.iter().map(|p| p.busy + p.timeouts).sum(),
            platform_requests: platforms.iter().map(|p| p.requests).sum(),
            no_valid_code: s.scans.busy,
            turned_away: r.scan_gave_up,
            cached_shown: r.cached_shown,
            idcard_checks: r.idcard_checks,
            checkpoint_wait_minutes_mean: s.scans.wait_minutes_mean,
            checkpoint_wait_minutes_max: s.scans.wait_minutes_max,
            verify_p50_ms: verify.p50_ms,
            verify_p90_ms: verify.p90_ms,
            verify_p99_ms: verify.p99_ms,
            verify_p999_ms: verify.p999_ms,
            verify_max_ms: verify.max_ms,
            verify_capped_share: verify.capped_share(),
            outage: outage(s),
            timeline: service_points(s),
            timeout_ms: s.capacity.timeout_ms,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub scenario: String,
    pub file: String,
    pub seed: u64,
    /// The varied setting, e.g. `degrade`.
    pub vary: String,
    pub interval_minutes: u32,
    pub failing_rule: String,
    pub runs: Vec<CompareRun>,
}

impl Comparison {
    /// The table rows, one per figure, one column per run.
    pub fn rows(&self) -> Vec<(&'static str, Vec<String>)> {
        let col = |f: &dyn Fn(&CompareRun) -> String| self.runs.iter().map(f).collect();
        let or_dash = |o: &Option<String>| {
            o.as_deref()
                .map_or("-".to_string(), |t| t.get(11..).unwrap_or(t).to_string())
        };
        vec![
            ("scans", col(&|r| r.scans.to_string())),
            ("answered scans", col(&|r| r.answered_scans.to_string())),
            ("busy answers", col(&|r| r.busy_answers.to_string())),
            ("no valid code", col(&|r| r.no_valid_code.to_string())),
            ("  turned away", col(&|r| r.turned_away.to_string())),
            ("  cached code", col(&|r| r.cached_shown.to_string())),
            ("  ID card", col(&|r| r.idcard_checks.to_string())),
            (
                "wait mean (min)",
                col(&|r| format!("{:.2}", r.checkpoint_wait_minutes_mean)),
            ),
            (
                "wait max (min)",
                col(&|r| r.checkpoint_wait_minutes_max.to_string()),
            ),
            ("verify p50 ms", col(&|r| latency_ms(r.verify_p50_ms))),
            ("verify p99 ms", col(&|r| latency_ms(r.verify_p99_ms))),
            ("verify max ms", col(&|r| latency_ms(r.verify_max_ms))),
            (
                "verify ≥ 1 h (cap)",
                col(&|r| percent(r.verify_capped_share)),
            ),
            ("failing from", col(&|r| or_dash(&r.outage.failing_from))),
            ("recovered at", col(&|r| or_dash(&r.outage.recovered_at))),
            (
                "failing minutes",
                col(&|r| r.outage.failing_minutes.to_string()),
            ),
            (
                "time to recovery",
                col(&|r| format!("{} min", r.outage.recovery_minutes)),
            ),
        ]
    }
}

fn overlay(c: &Comparison, name: &str, y_label: &str, f: fn(&ServicePoint) -> f64) -> TimeChart {
    TimeChart {
        x_labels: c
            .runs
            .first()
            .map(|r| r.timeline.iter().map(|p| p.start.clone()).collect())
            .unwrap_or_default(),
        y_label: format!("{y_label} ({name})"),
        stacked: Vec::new(),
        lines: c
            .runs
            .iter()
            .enumerate()
            .map(|(i, r)| Series::new(&r.value, palette::cycle(i), r.timeline.iter().map(f)))
            .collect(),
    }
}

/// The overlaid timelines.
pub fn charts(c: &Comparison) -> Vec<Chart> {
    let every = format!("per {} minutes", c.interval_minutes);
    let chart = |name: &str, title: &str, caption: String, t: TimeChart| Chart {
        name: name.to_string(),
        title: title.to_string(),
        caption,
        size: (1200, 420),
        figure: Figure::Time(t),
    };
    vec![
        chart(
            "compare-failed",
            "Requests without a usable answer",
            format!("Share of platform requests answered busy or timed out, {every}; above 0.5 the interval counts as failing."),
            overlay(c, "share", "busy or timed out", |p| p.failed_rate),
        ),
        chart(
            "compare-offered",
            "Requests offered to the platforms",
            format!("Requests offered {every}, retries included: retries are what turn a surge into an outage."),
            overlay(c, "requests", "offered", |p| p.requests as f64),
        ),
        p99_chart(c, &every),
    ]
}

/// p99 over time, drawn up to twice the client's time-out: a strategy
/// whose queues grow for hours (`none`) would otherwise set a scale on
/// which the others are flat at zero, and past the time-out the client had
/// given up anyway.
fn p99_chart(c: &Comparison, every: &str) -> Chart {
    let mut t = overlay(c, "ms", "p99", |p| p.p99_ms);
    let timeout = c.runs.iter().map(|r| r.timeout_ms).max().unwrap_or(0);
    let clip = 2.0 * timeout as f64;
    let clipped = clip > 0.0 && t.lines.iter().flat_map(|s| &s.values).any(|v| *v > clip);
    let mut caption = format!("The largest p99 of any platform {every}, in ms.");
    if clipped {
        for s in &mut t.lines {
            s.values.iter_mut().for_each(|v| *v = v.min(clip));
        }
        caption.push_str(&format!(
            " Drawn up to twice the client time-out ({} ms): a line along the top is at least that slow.",
            crate::format::grouped(clip as u64)
        ));
    }
    Chart {
        name: "compare-p99".to_string(),
        title: "p99 latency".to_string(),
        caption,
        size: (1200, 420),
        figure: Figure::Time(t),
    }
}

/// Writes `dir/compare.json` and `dir/compare.html`.
pub fn write(dir: &Path, c: &Comparison) -> Result<(), ReportError> {
    create_dir(dir)?;
    let path = dir.join("compare.json");
    let json = serde_json::to_string_pretty(c).map_err(|cause| ReportError::Json {
        path: path.clone(),
        cause,
    })?;
    write_file(&path, json + "\n")?;
    let mut page = Page::default();
    page.heading(1, &format!("hcsim compare: {}", c.scenario));
    page.meta(&format!(
        "{} · seed {} · varying {} over {}",
        c.file,
        c.seed,
        c.vary,
        c.runs
            .iter()
            .map(|r| r.value.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let mut header = vec![""];
    header.extend(c.runs.iter().map(|r| r.value.as_str()));
    let rows: Vec<Vec<Cell>> = c
        .rows()
        .into_iter()
        .map(|(label, values)| {
            let mut row = vec![Cell::text(label)];
            row.extend(values.into_iter().map(Cell::num));
            row
        })
        .collect();
    page.table(&header, &rows);
    page.paragraph(&format!("Failing: {}.", c.failing_rule));
    page.heading(2, "Over time");
    for chart in charts(c) {
        let svg = chart.svg()?;
        page.chart(&chart.name, &svg, &chart.caption);
    }
    write_file(
        &dir.join("compare.html"),
        page.finish(&format!("hcsim compare: {}", c.scenario)),
    )
}
