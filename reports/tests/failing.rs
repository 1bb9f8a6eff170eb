//! The `failing` section: consecutive failing intervals merged into
//! windows, nationally and per platform.

use hcsim_reports::failing::report;
use hcsim_reports::summary::*;

fn load(platform: &str, per_interval: &[(u64, u64, f64)]) -> PlatformLoad {
    PlatformLoad {
        platform: platform.into(),
        timeline: per_interval
            .iter()
            .map(|&(requests, busy, p99_ms)| IntervalLoad {
                requests,
                busy,
                p99_ms,
                ..IntervalLoad::default()
            })
            .collect(),
        ..PlatformLoad::default()
    }
}

#[test]
fn windows_merge_consecutive_intervals_nationally_and_per_platform() {
    let mut s = super::fixture::summary();
    s.scenario.end = "2020-10-01T01:15".into();
    s.timeline.interval_minutes = 15;
    s.timeline.points = ["00:00", "00:15", "00:30", "00:45", "01:00"]
        .iter()
        .map(|t| TimelinePoint {
            start: format!("2020-10-01T{t}"),
            ..TimelinePoint::default()
        })
        .collect();
    s.capacity.timeout_ms = 1000;
    // Shaanxi refuses most requests in the 2nd and 3rd intervals and is
    // slow in the last; Beijing, far larger, never fails, so nationally
    // only the slow interval (any platform's p99 over the time-out) does.
    s.capacity.platforms = vec![
        load(
            "shaanxi",
            &[
                (10, 0, 5.0),
                (10, 9, 5.0),
                (10, 6, 5.0),
                (10, 5, 5.0),
                (10, 0, 1500.0),
            ],
        ),
        load("beijing", &[(1000, 0, 5.0); 5]),
    ];
    let f = report(&s);
    let w = |from: &str, until: &str, minutes| FailingWindow {
        from: format!("2020-10-01T{from}"),
        until: format!("2020-10-01T{until}"),
        minutes,
    };
    assert_eq!(f.national, [w("01:00", "01:15", 15)]);
    assert_eq!(f.minutes, 15);
    assert_eq!(
        f.platforms,
        [PlatformFailing {
            platform: "shaanxi".into(),
            minutes: 45,
            windows: vec![w("00:15", "00:45", 30), w("01:00", "01:15", 15)],
        }]
    );
}
