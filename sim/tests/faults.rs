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
