//! The gate's library: checks, verdicts and JUnit XML from the synthetic run.

use super::fixture;
use hcsim_reports::gate::{evaluate, Baseline, BaselineSource, Status, Thresholds, Verdict};
use hcsim_reports::metrics::Run;

fn gate(thresholds: &str, baseline: BaselineSource) -> Verdict {
    let (summary, performance) = (fixture::summary(), fixture::performance());
    let run = Run {
        summary: &summary,
        performance: Some(&performance),
    };
    evaluate(&Thresholds::parse(thresholds).unwrap(), &run, baseline)
}

fn status(v: &Verdict, name: &str) -> Status {
    v.checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name}: {v:#?}"))
        .status
}

fn baseline_with(metric: &str, value: f64) -> Baseline {
    let (summary, performance) = (fixture::summary(), fixture::performance());
    let mut b = Baseline::from_run(&Run {
        summary: &summary,
        performance: Some(&performance),
    });
    b.metrics.insert(metric.to_string(), value);
    b
}

#[test]
fn absolute_limits_pass_fail_and_skip() {
    let v = gate(
        "[limits]\nscans = { min = 1000 }\nscan_busy_rate = { max = 0.5 }\nviolations = { max = 0 }\n\
         scan_p99_ms = { max = 40 }\n",
        BaselineSource::None,
    );
    assert_eq!(status(&v, "scans >= 1,000"), Status::Pass);
    assert_eq!(status(&v, "scan_busy_rate <= 50.00 %"), Status::Pass);
    // The synthetic run's verify p99 is 42 ms.
    assert_eq!(status(&v, "scan_p99_ms <= 40.00 ms"), Status::Fail);
    // Not measured yet: skipped, with the reason, never passed.
    let violations = v.checks.iter().find(|c| c.metric == "violations").unwrap();
    assert_eq!(violations.status, Status::Skipped);
    assert!(
        violations.reason.contains("no rule oracle"),
        "{}",
        violations.reason
    );
    assert!(!v.passed());
    let text = v.to_text();
    assert!(
        text.contains("gate FAILED: 2 passed, 1 failed, 1 skipped"),
        "{text}"
    );
    assert!(text.contains("42.00 ms is above 40.00 ms"), "{text}");
}

#[test]
fn a_limit_with_both_bounds_is_two_checks() {
    let v = gate(
        "[limits]\nscans = { min = 1, max = 2 }\n",
        BaselineSource::None,
    );
    assert_eq!(v.checks.len(), 2);
    assert_eq!(status(&v, "scans >= 1"), Status::Pass);
    assert_eq!(status(&v, "scans <= 2"), Status::Fail);
}

#[test]
fn relative_checks_honour_ratio_and_tolerance() {
    // events/s is 308,640 in the synthetic run.
    let thresholds = "[baseline]\nevents_per_second = { min_ratio = 0.3 }\n";
    let b = baseline_with("events_per_second", 1_000_000.0);
    let v = gate(
        thresholds,
        BaselineSource::Loaded {
            path: "b.json",
            baseline: &b,
        },
    );
    assert_eq!(
        status(&v, "events_per_second >= 0.3 × baseline"),
        Status::Pass,
        "0.31 × baseline"
    );
    let b = baseline_with("events_per_second", 1_100_000.0);
    let v = gate(
        thresholds,
        BaselineSource::Loaded {
            path: "b.json",
            baseline: &b,
        },
    );
    assert_eq!(
        status(&v, "events_per_second >= 0.3 × baseline"),
        Status::Fail,
        "0.28 × baseline"
    );

    let scans = fixture::summary().scans.total as f64;
    let thresholds = "[baseline]\nscans = { tolerance = 0.1 }\n";
    for (base, expected) in [
        (scans * 1.05, Status::Pass),
        (scans * 0.95, Status::Pass),
        (scans * 1.2, Status::Fail),
        (scans * 0.85, Status::Fail),
    ] {
        let b = baseline_with("scans", base);
        let v = gate(
            thresholds,
            BaselineSource::Loaded {
                path: "b.json",
                baseline: &b,
            },
        );
        assert_eq!(
            status(&v, "scans within ±10.00 % of baseline"),
            expected,
            "baseline {base} for {scans} scans"
        );
    }
}

#[test]
fn relative_checks_without_a_baseline_are_skipped_with_the_reason() {
    let thresholds = "[baseline]\nscans = { tolerance = 0.1 }\n";
    let v = gate(thresholds, BaselineSource::None);
    assert_eq!(v.checks[0].status, Status::Skipped);
    assert_eq!(v.checks[0].reason, "no --baseline given");
    let mut b = baseline_with("scans", 1.0);
    b.metrics.remove("scans");
    let v = gate(
        thresholds,
        BaselineSource::Loaded {
            path: "ci/b.json",
            baseline: &b,
        },
    );
    assert_eq!(v.checks[0].status, Status::Skipped);
    assert!(
        v.checks[0].reason.starts_with("ci/b.json has no `scans`"),
        "{}",
        v.checks[0].reason
    );
    assert!(v.passed(), "skipped checks do not fail the gate");
}

#[test]
fn baselines_refuse_another_scenario() {
    let summary = fixture::summary();
    let run = Run {
        summary: &summary,
        performance: None,
    };
    let mut b = Baseline::from_run(&run);
    assert_eq!(b.mismatch("synthetic", 7), None);
    assert_eq!(b.metrics["scans"], summary.scans.total as f64);
    assert!(
        !b.metrics.contains_key("events_per_second"),
        "no performance.json, no events/s"
    );
    b.seed += 1;
    assert!(b
        .mismatch("synthetic", 7)
        .unwrap()
        .contains("seed 8, this run is `synthetic` seed 7"));
}

#[test]
fn junit_lists_every_check_with_failures_and_skips() {
    let v = gate(
        "[limits]\nscans = { min = 1, max = 2 }\nviolations = { max = 0 }\n",
        BaselineSource::None,
    );
    let xml = hcsim_reports::junit::render(&v);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
    assert!(
        xml.contains("tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count(), 3);
    assert_eq!(xml.matches("<failure ").count(), 1);
    assert_eq!(xml.matches("<skipped ").count(), 1);
    assert!(
        xml.contains("name=\"scans &lt;= 2\""),
        "names are escaped: {xml}"
    );
    assert_eq!(
        xml,
        hcsim_reports::junit::render(&v),
        "same verdict, same bytes"
    );
}
