//! Same scenario + seed ⇒ byte-identical summary.json at any thread count.

use hcsim::run::{run, RunOptions};
use hcsim::scenario::Scenario;

fn summary_at(threads: usize, dir: &std::path::Path) -> String {
    summary_of(&super::scenario("smoke.toml"), threads, dir)
}

fn summary_of(file: &std::path::Path, threads: usize, dir: &std::path::Path) -> String {
    let scenario = Scenario::load(file).unwrap();
    let opts = RunOptions {
        threads,
        out_dir: dir.to_path_buf(),
        progress: false,
    };
    run(&scenario, &opts).unwrap();
    std::fs::read_to_string(dir.join("summary.json")).unwrap()
}

#[test]
fn smoke_summary_is_identical_at_one_and_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    // An earlier run's outputs, with `report.html` a directory that cannot
    // be written over: the run replaces them whole, or fails leaving them.
    let t1 = tmp.path().join("t1");
    std::fs::create_dir_all(t1.join("report.html")).unwrap();
    std::fs::write(t1.join("report.html").join("x"), "old").unwrap();
    std::fs::write(t1.join("summary.json"), "old").unwrap();
    let one = summary_at(1, &t1);
    assert!(t1.join("report.html").is_file() && t1.join("performance.json").is_file());
    // The same file by another spelling (tests run in `sim/`).
    let relative = std::path::Path::new("../scenarios/smoke.toml");
    assert!(relative.is_file() && !relative.is_absolute());
    let two = summary_of(relative, 2, &tmp.path().join("t2"));
    assert!(
        one == two,
        "summary.json differs between 1 and 2 threads, or between two spellings of its path"
    );
    // The run did real work in every province, so equality is not vacuous.
    let s: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert!(s["scans"]["total"].as_u64().unwrap() > 10_000);
    assert_eq!(s["provinces"].as_array().unwrap().len(), 31);
    for p in s["provinces"].as_array().unwrap() {
        assert!(
            p["scans"]["total"].as_u64().unwrap() > 0,
            "no scans in {}",
            p["province"]
        );
    }
    assert!(
        s["scans"]["via_hub"].as_u64().unwrap() > 0,
        "no cross-province scans"
    );
}

#[test]
fn a_different_seed_gives_a_different_day() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(super::scenario("smoke.toml"))
        .unwrap()
        .replace("seed = 20201001", "seed = 7");
    // Parsed as if it sat beside smoke.toml, so its rule paths resolve.
    let scenario = Scenario::parse(&super::scenario("smoke-seed7.toml"), &text).unwrap();
    let opts = RunOptions {
        threads: 1,
        out_dir: tmp.path().join("out"),
        progress: false,
    };
    let other = run(&scenario, &opts).unwrap().summary;
    let base = summary_at(1, &tmp.path().join("base"));
    let base: hcsim_reports::summary::Summary = serde_json::from_str(&base).unwrap();
    assert_ne!(other.scans, base.scans);
}
