//! The `hcsim` binary as a user runs it.

use std::process::Command;

fn hcsim() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hcsim"));
    c.current_dir(super::root());
    c
}

#[test]
fn run_writes_summary_and_prints_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let out = hcsim()
        .args([
            "run",
            "scenarios/smoke.toml",
            "--quiet",
            "--threads",
            "2",
            "--out",
        ])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout.contains("oracle          14101 citizens checked")
            && stdout.contains("invariant checks   0 violations"),
        "{stdout}"
    );
    assert!(!stdout.contains("violations/"), "{stdout}");
    for figure in [
        "citizens",
        "events/s",
        "peak RSS",
        "B/citizen",
        "cores busy",
    ] {
        assert!(stdout.contains(figure), "missing {figure} in:\n{stdout}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["scenario"]["name"], "smoke");
    // Every scanned person holds a code: those refused one for want of face
    // verification (Fujian) got it through a household adult's family
    // application.
    assert_eq!(summary["scans"]["unknown"], 0, "{}", summary["scans"]);
    let provinces = summary["provinces"].as_array().unwrap();
    let scheme = |key: &str| {
        provinces.iter().find(|p| p["province"] == key).unwrap()["scheme"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(scheme("fujian"), "fujian");
    assert_eq!(scheme("guangdong"), "guangdong");
    assert_eq!(scheme("beijing"), "default");
    let perf: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("performance.json")).unwrap(),
    )
    .unwrap();
    assert!(perf["events_per_second"].as_f64().unwrap() > 0.0);
    assert!(perf["peak_rss_bytes"].as_u64().unwrap() > 0);
    // The run alone in its process: its CPU time, and the cores that kept
    // busy (a day of 14,000 citizens takes a measurable fraction of a second).
    let (cpu, cores) = (
        perf["cpu_seconds"].as_f64().unwrap(),
        perf["cores_busy"].as_f64().unwrap(),
    );
    assert!(cpu > 0.0, "{perf}");
    let wall = perf["wall_seconds"].as_f64().unwrap();
    assert!((cores - cpu / wall).abs() < 1e-9, "{perf}");
}

#[test]
fn bad_scenario_exits_nonzero_with_location() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("typo.toml");
    std::fs::write(&path, "name = \"x\"\nseed = 1\nstrat = \"2020-10-01\"\n").unwrap();
    let out = hcsim().arg("run").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("typo.toml:3: field `strat`: unknown field `strat`"),
        "{stderr}"
    );
}

/// The whole population cannot fit 24 GiB machines however many processes
/// share it (process 0 holds the hub, the barrier and the oracle for
/// everyone): the run is refused before anything is built, naming the
/// field, the figures and how many larger machines would do, and nothing
/// is written.
#[test]
fn the_whole_population_is_refused_by_the_memory_preflight() {
    let tmp = tempfile::tempdir().unwrap();
    let gib24 = (24u64 << 30).to_string();
    for processes in ["1", "4"] {
        let out = hcsim()
            .args(["run", "scenarios/national-full.toml", "--quiet"])
            .args(["--processes", processes, "--out"])
            .arg(tmp.path())
            .env("HCSIM_MEMORY_AVAILABLE", &gib24)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        for part in [
            "scenarios/national-full.toml:14: population_scale = 1:",
            "1,409,770,000 citizens would need",
            "which has 24.0 GiB available",
            "no number of processes fits machines like this one",
            "at least 77.7 GiB",
            "on machines of 128.0 GiB it needs 2 processes, one per machine",
            "1.4 GiB for the ~25.1 M people its cases send to mass testing",
        ] {
            assert!(stderr.contains(part), "missing {part:?} in:\n{stderr}");
        }
        assert!(!tmp.path().join("summary.json").exists());
    }
    // A run that fits is not held back.
    let out = hcsim()
        .args(["run", "scenarios/smoke.toml", "--quiet", "--out"])
        .arg(tmp.path())
        .env("HCSIM_MEMORY_AVAILABLE", &gib24)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn zero_threads_is_refused_naming_the_flag() {
    for sub in [
        &["run", "scenarios/smoke.toml"][..],
        &[
            "gate",
            "scenarios/smoke.toml",
            "--thresholds",
            "ci/gates.toml",
        ],
        &["serve"],
    ] {
        let out = hcsim().args(sub).args(["--threads", "0"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{sub:?}: {stderr}");
        assert!(
            stderr.contains("'--threads <THREADS>'") && stderr.contains("must be at least 1"),
            "{sub:?}: {stderr}"
        );
    }
}
