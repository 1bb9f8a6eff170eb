//! `hcsim run`'s report, `hcsim diff` and `hcsim gate` as a user runs them,
//! on the smoke scenario and the shipped CI thresholds and baseline.

use std::path::Path;
use std::process::{Command, Output};

fn hcsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hcsim"))
        .current_dir(super::root())
        .args(args)
        .output()
        .unwrap()
}

fn text(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn run_writes_a_report_and_diff_of_equal_runs_shows_no_change() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = hcsim(&[
        "run",
        "scenarios/smoke.toml",
        "--quiet",
        "--threads",
        "1",
        "--out",
        text(&out),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("hcsim run: smoke") && html.contains("<svg"),
        "report.html has the run and its charts"
    );
    // Every count of platform requests on the page is the same count:
    // the operations' total, the platform load's total, the metric.
    let summary: hcsim_reports::summary::Summary =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let served: u64 = summary.latency.values().map(|l| l.answered + l.busy).sum();
    let at_platforms: u64 = summary.capacity.platforms.iter().map(|p| p.requests).sum();
    let offered: u64 = summary
        .timeline
        .points
        .iter()
        .map(|p| p.platform_requests)
        .sum();
    assert_eq!((served, at_platforms), (offered, offered));
    let sent: u64 = summary
        .latency
        .keys()
        .filter_map(|op| summary.requests.get(op))
        .sum();
    let n = hcsim_reports::format::grouped;
    let cell = |v: u64| format!("<td class=\"n\">{}</td>", n(v));
    let total = "<td class=\"changed\">total</td>";
    assert!(
        html.contains(&format!("{total}{}{}", cell(sent), cell(offered))),
        "operations' total"
    );
    assert!(
        html.contains(&format!("{total}<td class=\"n\"></td>{}", cell(offered))),
        "platform load's total"
    );
    assert!(
        html.contains(&format!("<td>platform_requests</td>{}", cell(offered))),
        "the platform_requests metric"
    );
    for chart in ["scans", "recognition"] {
        assert!(
            out.join("charts").join(format!("{chart}.png")).exists(),
            "charts/{chart}.png"
        );
    }

    let diff_dir = tmp.path().join("diff");
    let o = hcsim(&["diff", text(&out), text(&out), "--out", text(&diff_dir)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout(&o).contains("per province: no scans, refusals or busy answers changed"),
        "{}",
        stdout(&o)
    );
    let d: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(diff_dir.join("diff.json")).unwrap())
            .unwrap();
    let scans = d["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "scans")
        .unwrap();
    assert_eq!(scans["delta"], 0.0);
    assert!(scans["a"].as_f64().unwrap() > 0.0);
    assert!(diff_dir.join("diff.html").exists());

    // Against a copy whose figures were changed by hand, the diff shows
    // exactly those changes.
    let b = tmp.path().join("run-b");
    std::fs::create_dir_all(&b).unwrap();
    for f in ["summary.json", "performance.json"] {
        std::fs::copy(out.join(f), b.join(f)).unwrap();
    }
    let mut s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(b.join("summary.json")).unwrap()).unwrap();
    let total = s["scans"]["total"].as_u64().unwrap();
    s["scans"]["total"] = (total + 1000).into();
    std::fs::write(b.join("summary.json"), s.to_string()).unwrap();
    let diff_dir = tmp.path().join("diff-b");
    let o = hcsim(&["diff", text(&out), text(&b), "--out", text(&diff_dir)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let d: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(diff_dir.join("diff.json")).unwrap())
            .unwrap();
    let scans = d["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "scans")
        .unwrap();
    assert_eq!(scans["a"].as_f64(), Some(total as f64));
    assert_eq!(scans["b"].as_f64(), Some((total + 1000) as f64));
    assert_eq!(scans["delta"].as_f64(), Some(1000.0));
}

#[test]
fn diff_needs_two_runs() {
    let o = hcsim(&["diff", "out"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("two run directories"));
}

#[test]
fn smoke_gate_passes_with_the_shipped_thresholds_and_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    let junit = tmp.path().join("junit.xml");
    // The shipped thresholds without the machine-speed check: this binary is
    // the test profile's, running beside other tests, so its events/s says
    // nothing; `.ci/run` checks speed with the release build.
    let shipped = std::fs::read_to_string(super::root().join("ci/gates.toml")).unwrap();
    assert!(shipped.contains("\nevents_per_second"));
    let thresholds = tmp.path().join("gates.toml");
    let without_speed: String = shipped
        .lines()
        .filter(|l| !l.starts_with("events_per_second"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&thresholds, without_speed).unwrap();
    // Fewer seeds than `.ci/run`'s, to keep a debug build's test short.
    let o = hcsim(&[
        "gate",
        "scenarios/smoke.toml",
        "--seeds",
        "3",
        "--thresholds",
        text(&thresholds),
        "--baseline",
        "ci/baselines/smoke.json",
        "--junit",
        text(&junit),
        "--out",
        text(&tmp.path().join("run")),
    ]);
    let out = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("gate PASSED"), "{out}");
    assert!(out.contains("ran 3 seeds × 1"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("failures=\"0\""), "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
    // The rule oracle's figures are checked, not skipped.
    for metric in ["violations", "lost_records", "recognition_disagreements"] {
        assert!(
            out.lines()
                .any(|l| l.starts_with(metric) && l.contains("PASS")),
            "{metric}: {out}"
        );
    }
    // The shipped baseline holds samples of many seeds, and every metric
    // that was the same in all of them is compared exactly.
    let baseline =
        hcsim_reports::gate::Baseline::load(&super::root().join("ci/baselines/smoke.json"))
            .unwrap();
    assert_eq!(baseline.schema_version, 2);
    assert!(baseline.seeds.len() >= 32, "{:?}", baseline.seeds);
    let exact: Vec<&String> = baseline
        .metrics
        .keys()
        .filter(|m| baseline.constant(m).is_some())
        .collect();
    assert!(exact.iter().any(|m| *m == "violations"), "{exact:?}");
    let verdict: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("run/verdict.json")).unwrap(),
    )
    .unwrap();
    let checks = verdict["checks"].as_array().unwrap();
    for m in &exact {
        assert!(
            checks
                .iter()
                .any(|c| c["metric"] == m.as_str() && c["verdict"] == "PASS"),
            "{m} compared exactly: {verdict}"
        );
    }
}

/// Runs the gate on the smoke day with `limits`, returning its exit code.
fn gate_exit(limits: &str, extra: &[&str]) -> (Option<i32>, String) {
    let tmp = tempfile::tempdir().unwrap();
    let thresholds = tmp.path().join("gates.toml");
    std::fs::write(&thresholds, limits).unwrap();
    let junit = tmp.path().join("junit.xml");
    let out = tmp.path().join("run");
    let mut args = vec![
        "gate",
        "scenarios/smoke.toml",
        "--thresholds",
        text(&thresholds),
        "--junit",
        text(&junit),
        "--out",
        text(&out),
    ];
    args.extend(extra);
    let o = hcsim(&args);
    let out = stdout(&o);
    if o.status.code() != Some(0) {
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert!(xml.contains("<failure type=\""), "{xml}");
    }
    (o.status.code(), out)
}

#[test]
fn gate_exit_codes_tell_the_class_of_the_failure() {
    // An outcome limit: the smoke day has far fewer scans.
    let (code, out) = gate_exit(
        "[limits]\nscans = { min = 1000000000 }\nviolations = { max = 0 }\n",
        &[],
    );
    assert_eq!(code, Some(11), "{out}");
    assert!(
        out.contains("gate FAILED: 1 passed, 1 failed, 0 skipped"),
        "{out}"
    );
    // A capacity limit: no verify p99 is under a microsecond.
    let (code, out) = gate_exit("[limits]\nscan_p99_ms = { max = 0.001 }\n", &[]);
    assert_eq!(code, Some(12), "{out}");
    // Correctness outranks both (a bound no run can meet, to fail it).
    let (code, out) = gate_exit(
        "[limits]\nviolations = { max = -1 }\nscan_p99_ms = { max = 0.001 }\n\
         scans = { min = 1000000000 }\n",
        &[],
    );
    assert_eq!(code, Some(10), "{out}");
    // One code for any failure, when CI asks.
    let (code, out) = gate_exit(
        "[limits]\nscan_p99_ms = { max = 0.001 }\n",
        &["--exit-code", "any"],
    );
    assert_eq!(code, Some(1), "{out}");
}

#[test]
fn gate_input_errors_name_file_line_and_field_before_running() {
    let tmp = tempfile::tempdir().unwrap();
    let thresholds = tmp.path().join("gates.toml");
    std::fs::write(
        &thresholds,
        "[limits]\nscans = { min = 1 }\nbusy_rat = { max = 0.1 }\n",
    )
    .unwrap();
    let o = hcsim(&[
        "gate",
        "scenarios/smoke.toml",
        "--thresholds",
        text(&thresholds),
        "--out",
        text(tmp.path()),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("gates.toml:3: field `limits.busy_rat`: unknown metric `busy_rat`"),
        "{stderr}"
    );
    assert!(!tmp.path().join("summary.json").exists(), "nothing ran");

    let baseline = tmp.path().join("other.json");
    std::fs::write(
        &baseline,
        "{\"schema_version\": 1, \"scenario\": \"other\", \"seed\": 1, \"metrics\": {}}\n",
    )
    .unwrap();
    let o = hcsim(&[
        "gate",
        "scenarios/smoke.toml",
        "--thresholds",
        "ci/gates.toml",
        "--baseline",
        text(&baseline),
        "--out",
        text(tmp.path()),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("the baseline is for scenario `other`"));

    // A missing file is named once, with its cause said once.
    let missing = tmp.path().join("missing.json");
    let o = hcsim(&[
        "gate",
        "scenarios/smoke.toml",
        "--thresholds",
        "ci/gates.toml",
        "--baseline",
        text(&missing),
        "--out",
        text(tmp.path()),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: {}: No such file or directory (os error 2)",
            missing.display()
        ),
    );
}

#[test]
fn update_baseline_writes_every_seeds_samples() {
    let tmp = tempfile::tempdir().unwrap();
    let baseline = tmp.path().join("new.json");
    let o = hcsim(&[
        "gate",
        "scenarios/smoke.toml",
        "--seeds",
        "2",
        "--thresholds",
        "ci/gates.toml",
        "--baseline",
        text(&baseline),
        "--update-baseline",
        "--out",
        text(&tmp.path().join("run")),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    assert_eq!(b["scenario"], "smoke");
    assert_eq!(b["schema_version"], 2);
    assert_eq!(b["hcsim_version"], env!("CARGO_PKG_VERSION"));
    assert!(b["scenario_hash"].as_str().unwrap().starts_with("crc32:"));
    // The scenario's own seed, then SplitMix64(seed + 1).
    let seed = 20201001u64;
    assert_eq!(
        b["seeds"],
        serde_json::json!([seed, hcsim::cli::gate::derived_seed(seed, 1)])
    );
    let scans = b["metrics"]["scans"].as_array().unwrap();
    assert_eq!(scans.len(), 2);
    assert_ne!(scans[0], scans[1], "two seeds, two days");
    assert_eq!(
        b["metrics"]["events_per_second"].as_array().unwrap().len(),
        2
    );
    assert!(
        b["metrics"].get("peak_rss_bytes").is_none(),
        "one process's peak is not a run's"
    );
    // Each seed's run has its own directory.
    for s in b["seeds"].as_array().unwrap() {
        assert!(tmp
            .path()
            .join(format!("run/seed-{s}/summary.json"))
            .exists());
    }
}

/// The Xi'an announcement spike keeps Shaanxi's platform over 1 % busy
/// answers from 08:30 to 08:45: a 10-minute sustained limit fails and names
/// that window; a 20-minute one passes.
#[test]
fn a_sustained_busy_limit_fails_on_the_announcement_spike_and_names_the_window() {
    use hcsim_reports::gate::{evaluate, BaselineSource, Status, Thresholds};
    let scenario =
        hcsim::scenario::Scenario::load(&super::scenario("announcement-spike.toml")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let opts = hcsim::run::RunOptions {
        threads: 2,
        out_dir: tmp.path().to_path_buf(),
        progress: false,
    };
    let outcome = hcsim::run::run(&scenario, &opts).unwrap();
    let run = hcsim_reports::metrics::Run {
        summary: &outcome.summary,
        performance: None,
    };
    let gate = |minutes: u32| {
        let t = format!("[limits]\nbusy_rate = {{ max = 0.01, for_minutes = {minutes} }}\n");
        evaluate(&Thresholds::parse(&t).unwrap(), &run, BaselineSource::None)
    };
    let v = gate(10);
    let c = &v.checks[0];
    assert_eq!(c.status, Status::Fail, "{}", v.to_text());
    let (window, _) = c.window.as_ref().unwrap();
    assert_eq!(
        (window.from.as_str(), window.until.as_str(), window.minutes),
        ("2021-12-20T08:30", "2021-12-20T08:45", 15),
        "{}",
        v.to_text()
    );
    assert!(
        c.reason
            .contains("broken for 15 min, 2021-12-20T08:30 – 2021-12-20T08:45"),
        "{}",
        c.reason
    );
    assert_eq!(gate(15).checks[0].status, Status::Fail, "15 of 15 minutes");
    let v = gate(20);
    assert_eq!(v.checks[0].status, Status::Pass, "{}", v.to_text());
}
