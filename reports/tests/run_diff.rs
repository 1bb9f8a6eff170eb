//! `hcsim diff`'s library: two run directories in, deltas out.

use super::fixture;
use hcsim_reports::run_diff::{diff, load_run, RunDiff};
use hcsim_reports::summary::{Performance, Summary};
use std::path::Path;

fn write_run(dir: &Path, summary: &Summary, performance: Option<&Performance>) {
    std::fs::write(dir.join("summary.json"), summary.to_json()).unwrap();
    if let Some(p) = performance {
        std::fs::write(
            dir.join("performance.json"),
            serde_json::to_string_pretty(p).unwrap(),
        )
        .unwrap();
    }
}

fn metric<'a>(d: &'a RunDiff, name: &str) -> &'a hcsim_reports::run_diff::MetricDelta {
    d.metrics
        .iter()
        .find(|m| m.metric == name)
        .unwrap_or_else(|| panic!("no metric {name}"))
}

/// B has 100 more scans (all refused, all in Hubei) and ran at half the speed.
fn two_runs() -> (tempfile::TempDir, tempfile::TempDir) {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let summary = fixture::summary();
    write_run(a.path(), &summary, Some(&fixture::performance()));
    let mut changed = summary;
    changed.scans.total += 100;
    *changed.scans.by_decision.get_mut("refuse").unwrap() += 100;
    let hubei = changed
        .provinces
        .iter_mut()
        .find(|p| p.province == "hubei")
        .unwrap();
    hubei.scans.total += 100;
    *hubei.scans.by_decision.get_mut("refuse").unwrap() += 100;
    let mut slower = fixture::performance();
    slower.events_per_second /= 2.0;
    write_run(b.path(), &changed, Some(&slower));
    (a, b)
}

#[test]
fn reports_deltas_of_metrics_and_provinces() {
    let (a, b) = two_runs();
    let d = diff(&load_run(a.path()).unwrap(), &load_run(b.path()).unwrap());
    let scans = metric(&d, "scans");
    assert_eq!(scans.delta, Some(100.0));
    let expected = 100.0 / scans.a.unwrap() * 100.0;
    assert!((scans.delta_percent.unwrap() - expected).abs() < 1e-9);
    assert_eq!(metric(&d, "scans_refuse").delta, Some(100.0));
    assert_eq!(metric(&d, "scans_pass").delta, Some(0.0));
    assert_eq!(metric(&d, "events_per_second").delta_percent, Some(-50.0));
    // Metrics neither run carries are left out rather than shown as zero.
    assert!(d.metrics.iter().all(|m| m.metric != "violations"));
    let changed: Vec<&str> = d
        .provinces
        .iter()
        .filter(|p| p.changed())
        .map(|p| p.province.as_str())
        .collect();
    assert_eq!(changed, ["hubei"]);
    assert!(d.notes.is_empty(), "{:?}", d.notes);

    let text = d.to_text();
    assert!(text.contains("per province (1 of 31 changed)"), "{text}");
    let hubei_line = text
        .lines()
        .find(|l| l.starts_with("hubei"))
        .expect("hubei row");
    assert!(hubei_line.contains("+100"), "{hubei_line}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("events_per_second") && l.ends_with("-50.0 %")),
        "{text}"
    );
}

#[test]
fn writes_json_and_html_that_read_back() {
    let (a, b) = two_runs();
    let d = diff(&load_run(a.path()).unwrap(), &load_run(b.path()).unwrap());
    let out = tempfile::tempdir().unwrap();
    d.write(out.path()).unwrap();
    let back: RunDiff =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("diff.json")).unwrap())
            .unwrap();
    assert_eq!(back, d);
    let html = std::fs::read_to_string(out.path().join("diff.html")).unwrap();
    assert!(html.contains("<td>scans_refuse</td>"));
    assert!(html.contains("<td>hubei</td>"));
}

#[test]
fn notes_runs_of_different_seeds_and_works_without_performance() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_run(a.path(), &fixture::summary(), None);
    let mut other = fixture::summary();
    other.scenario.seed = 8;
    write_run(b.path(), &other, None);
    let d = diff(&load_run(a.path()).unwrap(), &load_run(b.path()).unwrap());
    assert_eq!(d.notes, ["different seeds: 7 and 8"]);
    assert!(d.metrics.iter().all(|m| m.metric != "events_per_second"));
}

#[test]
fn unreadable_runs_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_run(dir.path())
        .err()
        .expect("no summary.json")
        .to_string();
    assert!(err.contains("summary.json"), "{err}");
    std::fs::write(
        dir.path().join("summary.json"),
        "{\n  \"schema_version\": 1,\n  \"scenario\": 3\n}\n",
    )
    .unwrap();
    let err = load_run(dir.path())
        .err()
        .expect("bad summary.json")
        .to_string();
    assert!(
        err.contains("summary.json") && err.contains("line 3"),
        "{err}"
    );
}
