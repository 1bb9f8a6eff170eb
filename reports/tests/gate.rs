//! The gate's library: checks, verdicts and JUnit XML from the synthetic run,
//! and from sets of synthetic runs whose figures are drawn for each seed.

use super::fixture;
use hcsim_reports::gate::baseline::Provenance;
use hcsim_reports::gate::timeline::{longest_breach, Breach};
use hcsim_reports::gate::{
    evaluate, evaluate_samples, Baseline, BaselineSource, Class, Sample, Status, TestMethod,
    Thresholds, Verdict,
};
use hcsim_reports::metrics::Run;
use hcsim_reports::summary::{Performance, Summary};

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
    b.metrics.insert(metric.to_string(), vec![value]);
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
    assert_eq!(b.metrics["scans"], vec![summary.scans.total as f64]);
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

/// One synthetic run per seed: the fixture with its verify p99 latency at
/// `p99(i)` ms and its event rate at `rate(i)` per second.
struct Runs {
    summaries: Vec<Summary>,
    performances: Vec<Performance>,
}

impl Runs {
    fn new(n: usize, p99: impl Fn(usize) -> f64, rate: impl Fn(usize) -> f64) -> Runs {
        let (mut summaries, mut performances) = (Vec::new(), Vec::new());
        for i in 0..n {
            let mut s = fixture::summary();
            s.latency.get_mut("verify").unwrap().p99_ms = p99(i);
            summaries.push(s);
            let mut p = fixture::performance();
            p.events_per_second = rate(i);
            performances.push(p);
        }
        Runs {
            summaries,
            performances,
        }
    }

    fn samples(&self) -> Vec<Sample<'_>> {
        self.summaries
            .iter()
            .zip(&self.performances)
            .enumerate()
            .map(|(i, (s, p))| Sample {
                seed: 100 + i as u64,
                run: Run {
                    summary: s,
                    performance: Some(p),
                },
            })
            .collect()
    }

    fn baseline(&self) -> Baseline {
        Baseline::from_samples(
            &self.samples(),
            Provenance {
                scenario_hash: Some("crc32:00000000".into()),
                hcsim_version: Some("0.1.0"),
                seed: 7,
            },
        )
    }
}

/// A spread of ±5 around `centre`, the same for every set of runs: the
/// i-th value of a fixed scramble of 0..n.
fn spread(centre: f64, i: usize, n: usize) -> f64 {
    let k = (i * 7 + 3) % n;
    centre + 10.0 * (k as f64 / (n - 1) as f64 - 0.5)
}

fn compare(thresholds: &str, baseline: &Baseline, candidate: &Runs) -> Verdict {
    evaluate_samples(
        &Thresholds::parse(thresholds).unwrap(),
        &candidate.samples(),
        BaselineSource::Loaded {
            path: "b.json",
            baseline,
        },
    )
}

fn find<'a>(v: &'a Verdict, metric: &str, group: &str) -> &'a hcsim_reports::gate::CheckResult {
    v.checks
        .iter()
        .find(|c| c.metric == metric && c.group == group)
        .unwrap_or_else(|| panic!("no {group} check of {metric}: {}", v.to_text()))
}

const P99_RISE: &str = "[baseline]\nscan_p99_ms = { regress_by = 0.05 }\n";

#[test]
fn a_significant_rise_beyond_the_threshold_fails_and_noise_does_not() {
    // Baseline: 20 seeds, p99 spread 35–45 ms around 40 ms.
    let base = Runs::new(20, |i| spread(40.0, i, 20), |_| 1e6).baseline();
    assert_eq!(base.seeds.len(), 20);
    assert_eq!(base.metrics["scan_p99_ms"].len(), 20);

    // 12 % higher in every seed: significant and beyond 5 %.
    let worse = Runs::new(12, |i| spread(40.0, i, 12) * 1.12, |_| 1e6);
    let v = compare(P99_RISE, &base, &worse);
    let c = find(&v, "scan_p99_ms", "baseline");
    assert_eq!(c.status, Status::Fail, "{}", v.to_text());
    assert_eq!(c.class, Class::Regression);
    assert_eq!(v.failed_classes(), vec![Class::Regression]);
    let t = c.test.as_ref().unwrap();
    assert_eq!((t.baseline_n, t.candidate_n), (20, 12));
    assert!((t.change.unwrap() - 0.12).abs() < 0.01, "{t:?}");
    assert!(t.p_holm <= 0.01, "{t:?}");

    // The same seeds drawn afresh from the same spread: no failure.
    let same = Runs::new(12, |i| spread(40.0, i + 5, 12), |_| 1e6);
    let v = compare(P99_RISE, &base, &same);
    assert_eq!(find(&v, "scan_p99_ms", "baseline").status, Status::Pass);

    // 3 % higher everywhere: within the 5 % the file allows, significant
    // or not.
    let slight = Runs::new(40, |i| spread(40.0, i, 40) * 1.03, |_| 1e6);
    let tight = Runs::new(40, |i| spread(40.0, i, 40), |_| 1e6).baseline();
    let v = compare(P99_RISE, &tight, &slight);
    let c = find(&v, "scan_p99_ms", "baseline");
    assert_eq!(c.status, Status::Pass, "{}", v.to_text());

    // A fall is no regression of a latency.
    let better = Runs::new(12, |i| spread(40.0, i, 12) * 0.8, |_| 1e6);
    let v = compare(P99_RISE, &base, &better);
    let c = find(&v, "scan_p99_ms", "baseline");
    assert_eq!(c.status, Status::Pass);
    assert!(c.test.as_ref().unwrap().p < 0.001);
}

#[test]
fn holm_corrects_across_the_metrics_tested_and_power_is_stated() {
    let base = Runs::new(20, |i| spread(40.0, i, 20), |i| spread(1000.0, i, 20)).baseline();
    // p99 up 12 %, event rate unchanged.
    let cand = Runs::new(
        12,
        |i| spread(40.0, i, 12) * 1.12,
        |i| spread(1000.0, i, 12),
    );
    let thresholds = "[baseline]\nscan_p99_ms = { regress_by = 0.05 }\n\
                      events_per_second = { regress_by = 0.5 }\n";
    let v = compare(thresholds, &base, &cand);
    let p99 = find(&v, "scan_p99_ms", "baseline").test.clone().unwrap();
    let rate = find(&v, "events_per_second", "baseline")
        .test
        .clone()
        .unwrap();
    // Two tests: the smaller p is doubled, the larger kept (at least the first).
    assert!(p99.p < rate.p);
    assert!((p99.p_holm - 2.0 * p99.p).abs() < 1e-12, "{p99:?}");
    assert!(
        (rate.p_holm - rate.p.max(p99.p_holm)).abs() < 1e-12,
        "{rate:?}"
    );
    assert_eq!(
        find(&v, "events_per_second", "baseline").status,
        Status::Pass
    );
    let tests = |v: &Verdict| {
        v.power
            .iter()
            .filter(|l| l.contains("samples against"))
            .count()
    };
    assert_eq!(tests(&v), 2, "{:?}", v.power);
    let text = v.to_text();
    assert!(
        text.contains("scan_p99_ms: with 12 samples against 20, a ")
            && text.contains("change is detectable"),
        "{text}"
    );
    // A 5 % threshold for a metric spread ±12 %: the test cannot see it.
    assert!(
        v.warnings
            .iter()
            .any(|w| w.starts_with("scan_p99_ms: its threshold (5.00 %) is below")),
        "{:?}",
        v.warnings
    );
    // A 50 % threshold on the event rate, spread ±0.5 %: no warning.
    assert!(!v
        .warnings
        .iter()
        .any(|w| w.starts_with("events_per_second")));
}

#[test]
fn metrics_fixed_by_construction_are_compared_exactly() {
    let base = Runs::new(6, |i| spread(40.0, i, 6), |_| 1e6).baseline();
    assert_eq!(base.constant("checkpoints"), Some(900.0));
    assert_eq!(base.constant("scan_p99_ms"), None, "it varies");
    assert_eq!(base.constant("events_per_second"), None, "the machine's");
    let mut cand = Runs::new(3, |i| spread(40.0, i, 3), |_| 1e6);
    let v = compare(P99_RISE, &base, &cand);
    let c = find(&v, "checkpoints", "exact");
    assert_eq!((c.status, c.class), (Status::Pass, Class::Regression));
    assert!(v.checks.iter().all(|c| c.metric != "events_per_second"));
    // The world is the scenario's: one seed with another is a change,
    // however few seeds ran.
    cand.summaries[1].checkpoints = 901;
    let v = compare(P99_RISE, &base, &cand);
    let c = find(&v, "checkpoints", "exact");
    assert_eq!(c.status, Status::Fail);
    assert_eq!(
        c.reason,
        "901 in 1 of 3 seeds (the baseline had 900 in every seed)"
    );
    // A one-run baseline cannot tell what is constant.
    let one = Runs::new(1, |_| 40.0, |_| 1e6).baseline();
    assert_eq!(one.constant("checkpoints"), None);
}

/// 64 baseline seeds in which `still_queued` (people queueing at the end)
/// is 0 and the longest wait 1 minute, as on the smoke day, and 16
/// candidate seeds of which `queued` end with a queue.
fn rare_runs(n: usize, queued: usize) -> Runs {
    let mut runs = Runs::new(n, |i| spread(40.0, i, n), |_| 1e6);
    for (i, s) in runs.summaries.iter_mut().enumerate() {
        s.scans.still_queued = u64::from(i < queued);
        s.scans.wait_minutes_max = 1;
    }
    runs
}

#[test]
fn a_rare_event_no_baseline_seed_showed_passes_once_and_fails_when_common() {
    let base = rare_runs(64, 0).baseline();
    assert_eq!(base.constant("still_queued"), Some(0.0));
    // One queue in 16 seeds: with none in 64, that one seed of 80 falls
    // among the 16 with chance 16/80 = 0.2. Noise.
    let once = rare_runs(16, 1);
    let v = compare(P99_RISE, &base, &once);
    let c = find(&v, "still_queued", "rare");
    assert_eq!(c.status, Status::Pass, "{}", v.to_text());
    assert_eq!(c.name, "still_queued rarely ≠ 0");
    assert_eq!(
        c.reason,
        "1 in 1 of 16 seeds, never in the baseline's 64: chance would do it (p = 0.2000)"
    );
    let t = c.test.as_ref().unwrap();
    assert_eq!(
        t.method,
        TestMethod::Unseen {
            value: 0.0,
            differing: 1
        }
    );
    assert!((t.p - 0.2).abs() < 1e-12, "{t:?}");
    assert!(v.passed(), "{}", v.to_text());
    // The terminal says why, and from how many seeds it would fail.
    let text = v.to_text();
    assert!(
        text.contains("rare values: a metric that was the same"),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.contains("still_queued")
            && l.contains("the same in all 64 baseline seeds; another value fails when it shows in 3 or more of 16 seeds")),
        "{text}"
    );

    // A queue in 10 of 16 seeds: C(16, 10) / C(80, 10) ≈ 5e-9.
    let often = rare_runs(16, 10);
    let v = compare(P99_RISE, &base, &often);
    let c = find(&v, "still_queued", "rare");
    assert_eq!(
        (c.status, c.class),
        (Status::Fail, Class::Regression),
        "{}",
        v.to_text()
    );
    assert!(
        c.reason
            .starts_with("1 in 10 of 16 seeds, never in the baseline's 64: more often than chance"),
        "{}",
        c.reason
    );
    assert!(c.test.as_ref().unwrap().p_holm < 1e-6);
    assert!(!v.passed());
}

#[test]
fn a_rare_event_under_a_baseline_threshold_is_judged_on_the_candidates_mean() {
    // The longest wait: 1 minute in every baseline seed, 2 in some
    // candidates; `[baseline]` allows a rise of 5 %.
    let thresholds = "[baseline]\nwait_minutes_max = { regress_by = 0.05 }\n";
    let base = rare_runs(64, 0).baseline();
    let mut once = rare_runs(16, 0);
    once.summaries[3].scans.wait_minutes_max = 2;
    let v = compare(thresholds, &base, &once);
    let c = find(&v, "wait_minutes_max", "baseline");
    assert_eq!(c.status, Status::Pass, "{}", v.to_text());
    assert!(
        c.limit.ends_with("(1 min in all 64 baseline seeds)"),
        "{}",
        c.limit
    );
    // The mean rose 1/16 = 6.25 %: beyond 5 %, but chance.
    let t = c.test.as_ref().unwrap();
    assert!((t.change.unwrap() - 0.0625).abs() < 1e-12, "{t:?}");
    assert!(
        c.reason.ends_with("chance would do it (p = 0.2000)"),
        "{}",
        c.reason
    );

    let mut often = rare_runs(16, 0);
    for s in &mut often.summaries[..12] {
        s.scans.wait_minutes_max = 2;
    }
    let v = compare(thresholds, &base, &often);
    let c = find(&v, "wait_minutes_max", "baseline");
    assert_eq!(c.status, Status::Fail, "{}", v.to_text());
    // Significant, but a 5 % rise in the mean needs more than 5 % of a
    // minute: a threshold of 100 % lets 12 of 16 seeds at 2 min pass.
    let v = compare(
        "[baseline]\nwait_minutes_max = { regress_by = 1.0 }\n",
        &base,
        &often,
    );
    let c = find(&v, "wait_minutes_max", "baseline");
    assert_eq!(c.status, Status::Pass, "{}", v.to_text());
    assert!(
        c.reason.ends_with("significant, within the threshold"),
        "{}",
        c.reason
    );
}

#[test]
fn format_1_baselines_load_and_compare_by_ratio() {
    let b = Baseline::parse(
        r#"{"schema_version": 1, "scenario": "synthetic", "seed": 7, "metrics": {"scan_p99_ms": 40.0}}"#,
    )
    .unwrap();
    assert_eq!((b.seeds.clone(), b.repeat), (vec![7], 1));
    assert_eq!(b.metrics["scan_p99_ms"], vec![40.0]);
    let cand = Runs::new(4, |_| 43.0, |_| 1e6);
    let v = compare(P99_RISE, &b, &cand);
    let c = find(&v, "scan_p99_ms", "baseline");
    assert_eq!(c.status, Status::Fail, "43 > 1.05 × 40, no test possible");
    assert!(c.limit.ends_with("(one run: ratio only)"), "{}", c.limit);
    assert!(c.test.is_none());
    let e = Baseline::parse(r#"{"schema_version": 3, "scenario": "s", "seed": 1}"#).unwrap_err();
    assert!(
        e.to_string().contains("schema_version 3 is not known"),
        "{e}"
    );
    // Format 2 survives its own writing.
    let two = Runs::new(3, |i| 40.0 + i as f64, |_| 1e6).baseline();
    assert_eq!(Baseline::parse(&two.to_json()).unwrap(), two);
}

#[test]
fn limits_hold_in_every_seed_and_name_the_failing_one() {
    let runs = Runs::new(4, |i| if i == 2 { 80.0 } else { 40.0 }, |_| 1e6);
    let v = evaluate_samples(
        &Thresholds::parse("[limits]\nscan_p99_ms = { max = 50 }\nviolations = { max = 0 }\n")
            .unwrap(),
        &runs.samples(),
        BaselineSource::None,
    );
    let c = find(&v, "scan_p99_ms", "limits");
    assert_eq!((c.status, c.class), (Status::Fail, Class::Capacity));
    assert_eq!(c.value, Some(80.0));
    assert_eq!(
        c.reason,
        "80.00 ms is above 50.00 ms (seed 102; 1 of 4 seeds)"
    );
    assert_eq!(v.failed_classes(), vec![Class::Capacity]);
}

#[test]
fn exit_classes_order_correctness_before_regression_before_capacity() {
    assert_eq!(Class::of_limit("violations"), Class::Correctness);
    assert_eq!(Class::of_limit("lost_records"), Class::Correctness);
    assert_eq!(Class::of_limit("busy_rate"), Class::Capacity);
    assert_eq!(Class::of_limit("failing_minutes"), Class::Capacity);
    assert_eq!(Class::of_limit("scans"), Class::Regression);
    let mut runs = Runs::new(2, |_| 80.0, |_| 1e6);
    runs.summaries[0].scans.total = 1;
    let v = evaluate_samples(
        &Thresholds::parse("[limits]\nscan_p99_ms = { max = 50 }\nscans = { min = 1000 }\n")
            .unwrap(),
        &runs.samples(),
        BaselineSource::None,
    );
    assert_eq!(v.failed_classes(), vec![Class::Regression, Class::Capacity]);
}

#[test]
fn sustained_breaches_name_their_window() {
    let mut s = fixture::summary();
    s.scenario.end = "2020-10-01T02:00".into();
    let busy = [0, 5, 0, 2, 9, 3, 1, 0];
    s.timeline.points.truncate(busy.len());
    for (p, b) in s.timeline.points.iter_mut().zip(busy) {
        (p.platform_busy, p.platform_requests) = (b, 100);
    }
    // 15-minute intervals: over 1 % at 00:15, then at 00:45–01:30.
    let b = longest_breach(&s, "busy_rate", None, Some(0.01)).unwrap();
    let window = |from: &str, until: &str, minutes| Breach {
        from: from.into(),
        until: until.into(),
        minutes,
    };
    assert_eq!(b, window("2020-10-01T00:45", "2020-10-01T01:30", 45));
    // Exactly 1 % is within the limit; the last interval ends at the end.
    assert_eq!(longest_breach(&s, "busy_rate", None, Some(0.09)), None);
    s.timeline.points[7].platform_busy = 50;
    let b = longest_breach(&s, "busy_rate", None, Some(0.1)).unwrap();
    assert_eq!(b, window("2020-10-01T01:45", "2020-10-01T02:00", 15));

    let run = Run {
        summary: &s,
        performance: None,
    };
    let gate = |minutes: u32| {
        let t = format!("[limits]\nbusy_rate = {{ max = 0.01, for_minutes = {minutes} }}\n");
        evaluate(&Thresholds::parse(&t).unwrap(), &run, BaselineSource::None)
    };
    let v = gate(45);
    let c = &v.checks[0];
    assert_eq!((c.status, c.class), (Status::Fail, Class::Capacity));
    assert_eq!(c.name, "busy_rate <= 1.00 % (sustained 45 min)");
    assert_eq!(
        c.reason,
        "<= 1.00 % broken for 45 min, 2020-10-01T00:45 – 2020-10-01T01:30"
    );
    let v = gate(60);
    assert_eq!(v.checks[0].status, Status::Pass);
    assert!(v.checks[0].reason.starts_with("longest: "));
}

#[test]
fn json_and_junit_carry_each_tests_statistics() {
    let base = Runs::new(20, |i| spread(40.0, i, 20), |_| 1e6).baseline();
    let cand = Runs::new(12, |i| spread(40.0, i, 12) * 1.12, |_| 1e6);
    let v = compare(P99_RISE, &base, &cand);
    let json: serde_json::Value = serde_json::from_str(&v.to_json()).unwrap();
    assert_eq!(json["passed"], false);
    assert_eq!(json["failed_classes"], serde_json::json!(["regression"]));
    let p99 = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "scan_p99_ms")
        .unwrap();
    assert_eq!(p99["verdict"], "FAIL");
    assert_eq!(p99["test"]["baseline"]["n"], 20);
    assert_eq!(p99["test"]["candidate"]["n"], 12);
    assert!(p99["test"]["p_holm"].as_f64().unwrap() <= 0.01);
    assert!(p99["test"]["detectable_change"].as_f64().unwrap() > 0.0);
    let xml = hcsim_reports::junit::render(&v);
    assert!(xml.contains("<failure type=\"regression\""), "{xml}");
    assert!(xml.contains("<property name=\"p_holm\" value=\""), "{xml}");
    assert!(
        xml.contains("<property name=\"candidate_n\" value=\"12\"/>"),
        "{xml}"
    );
}
