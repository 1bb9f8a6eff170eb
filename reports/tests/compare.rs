//! `hcsim compare` when one strategy's latencies reach the one-hour cap of
//! what is measured: the table shows the cap as the cap, with the share of
//! requests that hit it, and the p99 chart keeps the other strategies
//! visible.

use hcsim_reports::charts::Figure;
use hcsim_reports::compare::{charts, write, CompareRun, Comparison, ServicePoint};
use hcsim_reports::summary::{OpLatency, LATENCY_CAP_MS};

/// A run of the fixture's day with these verify latencies and, per
/// interval, this largest p99 of any platform.
fn run(value: &str, verify: OpLatency, p99s: &[f64]) -> CompareRun {
    let mut s = super::fixture::summary();
    s.capacity.timeout_ms = 15_000;
    s.latency.insert("verify".into(), verify);
    let mut r = CompareRun::from_summary(value, &s);
    r.timeline = p99s
        .iter()
        .enumerate()
        .map(|(i, p99_ms)| ServicePoint {
            start: format!("2020-10-01T{:02}:00", 8 + i),
            p99_ms: *p99_ms,
            ..ServicePoint::default()
        })
        .collect();
    r
}

fn comparison() -> Comparison {
    // What the histogram reports at the cap: a little above it.
    let cap = LATENCY_CAP_MS + 810.0;
    let queued_for_hours = OpLatency {
        answered: 10_000,
        capped: 9_020,
        p50_ms: cap,
        p90_ms: cap,
        p99_ms: cap,
        p999_ms: cap,
        max_ms: cap,
        ..OpLatency::default()
    };
    let tripped = OpLatency {
        answered: 10_000,
        p50_ms: 2_087.9,
        p90_ms: 3_000.0,
        p99_ms: 3_713.0,
        p999_ms: 5_000.0,
        max_ms: 6_299.6,
        ..OpLatency::default()
    };
    Comparison {
        scenario: "surge".into(),
        vary: "degrade".into(),
        interval_minutes: 60,
        runs: vec![
            run("none", queued_for_hours, &[40.0, 900_000.0, cap]),
            run("trip", tripped, &[40.0, 3_713.0, 2_000.0]),
        ],
        ..Comparison::default()
    }
}

#[test]
fn a_latency_at_the_cap_is_shown_as_the_cap_with_its_share() {
    let c = comparison();
    let rows = c.rows();
    let row = |label: &str| {
        rows.iter()
            .find(|(l, _)| *l == label)
            .unwrap_or_else(|| panic!("no row {label}"))
            .1
            .clone()
    };
    for label in ["verify p50 ms", "verify p99 ms", "verify max ms"] {
        assert_eq!(row(label)[0], "≥ 1 h (cap)", "{label}");
    }
    assert_eq!(row("verify p99 ms")[1], "3713.0");
    assert_eq!(row("verify ≥ 1 h (cap)"), ["90.20 %", "0.00 %"]);
    for (label, cells) in &rows {
        for cell in cells {
            assert!(
                !cell.replace(',', "").contains("3600"),
                "{label}: the cap printed as a measurement: {cell}"
            );
        }
    }

    // The page says the same.
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), &c).unwrap();
    let html = std::fs::read_to_string(tmp.path().join("compare.html")).unwrap();
    assert!(html.contains("≥ 1 h (cap)") && html.contains("90.20 %"));
    assert!(!html.contains("3600810") && !html.contains("3,600,810"));
}

#[test]
fn the_p99_chart_keeps_the_other_strategies_visible() {
    let c = comparison();
    let chart = charts(&c)
        .into_iter()
        .find(|ch| ch.name == "compare-p99")
        .expect("a p99 chart");
    let Figure::Time(t) = &chart.figure else {
        panic!("the p99 chart is a time chart");
    };
    // Drawn up to twice the client time-out: trip's 3.7 s peak is a
    // quarter of the height, not a thousandth of an hour-high scale.
    let top = t
        .lines
        .iter()
        .flat_map(|s| &s.values)
        .fold(0.0, |a: f64, v| a.max(*v));
    assert_eq!(top, 30_000.0);
    assert_eq!(t.lines[0].values, [40.0, 30_000.0, 30_000.0]);
    assert_eq!(t.lines[1].values, [40.0, 3_713.0, 2_000.0]);
    assert!(chart
        .caption
        .contains("twice the client time-out (30,000 ms)"));
}
