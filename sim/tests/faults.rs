//! `scenarios/faults.toml`: a hub partition, a slow hub, a platform crash
//! and faulty feeds, with nothing acknowledged lost and no green that the
//! platform could not justify.

use hcsim::run::{run, RunOptions};
use hcsim::scenario::Scenario;
use hcsim_reports::summary::{FaultSummary, Summary};
use std::path::Path;

fn run_text(text: &str, threads: usize, dir: &Path) -> (Summary, String) {
    std::fs::create_dir_all(dir).unwrap();
    // Beside the shipped file, so its rule sets are found the same way.
    let path = super::scenario("faults.toml");
    let scenario = Scenario::parse(&path, text).unwrap_or_else(|e| panic!("{e}"));
    let opts = RunOptions {
        threads,
        out_dir: dir.to_path_buf(),
        progress: false,
    };
    let summary = run(&scenario, &opts).unwrap().summary;
    let json = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    (summary, json)
}

fn fault<'a>(s: &'a Summary, kind: &str) -> &'a FaultSummary {
    s.faults
        .faults
        .iter()
        .find(|f| f.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} fault in the summary"))
}

#[test]
fn faults_scenario_loses_nothing_and_never_greens_without_the_hub() {
    let text = std::fs::read_to_string(super::scenario("faults.toml")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (s, json) = run_text(&text, 2, &tmp.path().join("two"));

    // Crash and recovery: acknowledged records were checked, none lost.
    let f = &s.faults;
    assert_eq!(f.crashes_recovered, 1);
    assert!(f.records_recovered > 0, "{f:?}");
    assert!(f.acknowledged_checked > 0, "{f:?}");
    assert_eq!(f.lost_acknowledged_records, 0, "{f:?}");
    let crash = fault(&s, "platform-crash");
    assert_eq!(crash.restarted, Some(true));
    assert!(crash.torn_bytes_dropped > 0, "the torn write was not seen");
    assert!(crash.requests_while_down > 0 && crash.busy > 0, "{crash:?}");
    assert!(crash.feeds_redelivered > 0, "{crash:?}");
    assert_eq!(crash.pass + crash.refer + crash.refuse, 0, "{crash:?}");

    // Partition: cross-province scans happened there, none was green.
    let cut = fault(&s, "hub-partition");
    assert!(cut.cross_province_scans > 0, "{cut:?}");
    assert_eq!(cut.cross_province_green, 0, "{cut:?}");
    assert!(cut.hub_unreachable >= cut.cross_province_scans, "{cut:?}");
    // Guangdong's own residents still pass where they are known.
    assert!(cut.pass > 0, "{cut:?}");

    // A slow hub times out some answers, not all.
    let slow = fault(&s, "slow-hub");
    assert!(slow.hub_unreachable > 0, "{slow:?}");
    assert!(slow.cross_province_green > 0, "{slow:?}");

    assert!(fault(&s, "feed-delay").feeds_delayed > 0);
    assert!(fault(&s, "feed-duplicate").feeds_duplicated > 0);
    assert!(fault(&s, "feed-reorder").feeds_reordered > 0);
    assert_eq!(f.feeds_undelivered, 0);

    // Crashes and restarts do not make results depend on threads.
    let (_, one) = run_text(&text, 1, &tmp.path().join("one"));
    assert!(one == json, "summary.json differs between 1 and 2 threads");

    // Designations delivered twice count once: the same run with the
    // duplicating fault pointed at a feed nobody sends has the same colors
    // everywhere at every point of the timeline.
    let start = text.find("# Case designations arrive twice.").unwrap();
    let at = start + text[start..].find("feeds = [\"designation\"]").unwrap();
    let without = text[..at].to_string() + &text[at..].replacen("\"designation\"", "\"igg\"", 1);
    let (d, _) = run_text(&without, 2, &tmp.path().join("nodup"));
    assert_eq!(fault(&d, "feed-duplicate").feeds_duplicated, 0);
    assert_eq!(d.epidemic, s.epidemic);
    for (a, b) in d.provinces.iter().zip(&s.provinces) {
        assert_eq!(a.colors_at_end, b.colors_at_end, "{}", a.province);
    }
    assert_eq!(d.timeline.colors, s.timeline.colors);
}

/// A province that acknowledges journal records it never wrote to its
/// durable log (a test-only bug: `Mutant::UnloggedRecord` on Hubei, the
/// province that crashes) loses them at the crash: the restart's audit
/// counts every one, and the CI gate's `lost_records` limit fails.
#[test]
fn an_acknowledged_record_lost_in_the_crash_is_counted_and_fails_the_gate() {
    use hcsim_platform::rules::{Mutant, RuleSet};
    use hcsim_platform::ProvinceId;
    use hcsim_reports::gate::{evaluate, BaselineSource, Status, Thresholds};
    use std::sync::Arc;

    let scenario = Scenario::load(&super::scenario("faults.toml")).unwrap();
    let files = hcsim::platform_setup::rule_files(
        Some(&scenario),
        &hcsim::run::default_rules_dir(&scenario),
    )
    .unwrap();
    let hubei = ProvinceId::parse("hubei").unwrap();
    let rules = files
        .iter()
        .enumerate()
        .map(|(p, f)| {
            let r = RuleSet::load(f).unwrap();
            Arc::new(if p == hubei.index() {
                r.mutated(Mutant::UnloggedRecord)
            } else {
                r
            })
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let opts = RunOptions {
        threads: 2,
        out_dir: tmp.path().to_path_buf(),
        progress: false,
    };
    let s = hcsim::run::run_with_rules(&scenario, &opts, rules)
        .unwrap()
        .summary;
    let crash = fault(&s, "platform-crash");
    assert_eq!(crash.restarted, Some(true));
    assert!(crash.lost_acknowledged_records > 0, "{crash:?}");
    assert!(
        crash.lost_acknowledged_records < crash.acknowledged_checked,
        "only every 8th person's records are unlogged: {crash:?}"
    );
    assert_eq!(
        s.faults.lost_acknowledged_records,
        crash.lost_acknowledged_records
    );

    let gates = std::fs::read_to_string(super::root().join("ci/gates.toml")).unwrap();
    let thresholds = Thresholds::parse(&gates).unwrap();
    let run = hcsim_reports::metrics::Run {
        summary: &s,
        performance: None,
    };
    let verdict = evaluate(&thresholds, &run, BaselineSource::None);
    assert!(!verdict.passed(), "{}", verdict.to_text());
    let lost = verdict
        .checks
        .iter()
        .find(|c| c.metric == "lost_records")
        .expect("ci/gates.toml limits lost_records");
    assert_eq!(lost.status, Status::Fail, "{}", verdict.to_text());
    assert!(lost
        .value
        .is_some_and(|v| v >= crash.lost_acknowledged_records as f64));
}

/// Hubei crashes at 20:00 and would restart ten hours later, past the end
/// of the day: nothing it acknowledged is read back. The summary says so,
/// names the province, and the CI gate fails naming it.
#[test]
fn a_province_down_at_the_end_leaves_its_records_unchecked_and_fails_the_gate() {
    use hcsim_reports::gate::{evaluate, BaselineSource, Status, Thresholds};

    let text = std::fs::read_to_string(super::scenario("faults.toml")).unwrap();
    let shipped = "at = \"2020-10-01T10:00\"\nrestart_after = 30\n";
    assert!(text.contains(shipped));
    let text = text.replace(shipped, "at = \"2020-10-01T20:00\"\nrestart_after = 600\n");
    let tmp = tempfile::tempdir().unwrap();
    let (s, _) = run_text(&text, 2, tmp.path());
    let crash = fault(&s, "platform-crash");
    assert_eq!(crash.restarted, Some(false), "{crash:?}");
    assert_eq!(crash.acknowledged_checked, 0, "{crash:?}");
    assert!(crash.acknowledged_unchecked > 0, "{crash:?}");
    assert_eq!(
        s.faults.acknowledged_unchecked,
        crash.acknowledged_unchecked
    );
    assert_eq!(s.faults.down_at_end, ["hubei"]);

    let gates = std::fs::read_to_string(super::root().join("ci/gates.toml")).unwrap();
    let thresholds = Thresholds::parse(&gates).unwrap();
    let run = hcsim_reports::metrics::Run {
        summary: &s,
        performance: None,
    };
    let verdict = evaluate(&thresholds, &run, BaselineSource::None);
    assert!(!verdict.passed(), "{}", verdict.to_text());
    let unchecked = verdict
        .checks
        .iter()
        .find(|c| c.metric == "unchecked_records")
        .expect("ci/gates.toml limits unchecked_records");
    assert_eq!(unchecked.status, Status::Fail, "{}", verdict.to_text());
    assert!(
        unchecked
            .reason
            .contains("down at the end of the run: hubei")
            && unchecked.reason.contains(&format!(
                "{} acknowledged records unchecked",
                crash.acknowledged_unchecked
            )),
        "{}",
        unchecked.reason
    );
}
