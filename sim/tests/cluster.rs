//! The engine over several processes on loopback: the same summary.json as
//! one process, and a run that ends, with an error naming the cause, when
//! a process cannot connect, dies, or was given other files.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn hcsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hcsim"))
}

fn run_smoke(out: &Path, extra: &[&str]) -> String {
    let status = hcsim()
        .arg("run")
        .arg(super::scenario("smoke.toml"))
        .args(["--quiet", "--out"])
        .arg(out)
        .args(extra)
        .stdout(Stdio::null())
        .status()
        .expect("hcsim runs");
    assert!(status.success(), "hcsim run {extra:?} failed: {status}");
    std::fs::read_to_string(out.join("summary.json")).expect("summary.json written")
}

#[test]
fn smoke_summary_is_identical_over_processes_and_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let one = run_smoke(&tmp.path().join("1x1"), &["--threads", "1"]);
    for (name, extra) in [
        ("1x2", &["--threads", "2"][..]),
        ("2x1", &["--threads", "1", "--processes", "2"][..]),
        ("2x2", &["--threads", "2", "--processes", "2"][..]),
    ] {
        let other = run_smoke(&tmp.path().join(name), extra);
        assert!(
            one == other,
            "summary.json of {name} differs from 1 process × 1 thread"
        );
    }
    let s: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert!(s["scans"]["total"].as_u64().unwrap() > 10_000);
    let perf: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("2x2/performance.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(perf["processes"], 2);
    assert_eq!(perf["workers"].as_array().unwrap().len(), 4);
    assert!(perf["bytes_between_processes"].as_u64().unwrap() > 0);
    // The provinces were spread: each of the 31 on one process, and
    // process 1 (without the hub) holding some, so the same summary.json
    // came from provinces answering over the network.
    let held = perf["provinces_by_process"].as_array().unwrap();
    assert_eq!(held.len(), 2);
    let mut all: Vec<&str> = held
        .iter()
        .flat_map(|p| p.as_array().unwrap())
        .map(|k| k.as_str().unwrap())
        .collect();
    assert!(!held[1].as_array().unwrap().is_empty(), "{held:?}");
    // Each process's own peak memory, process 0's the run's figure.
    let peaks = perf["peak_rss_bytes_by_process"].as_array().unwrap();
    assert_eq!(peaks.len(), 2, "{peaks:?}");
    assert_eq!(peaks[0], perf["peak_rss_bytes"]);
    assert!(peaks[1].as_u64().unwrap() > 1 << 20, "{peaks:?}");
    // And each process's CPU time, which add up to the run's.
    let cpu: Vec<f64> = perf["cpu_seconds_by_process"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_f64().unwrap())
        .collect();
    assert_eq!(cpu.len(), 2, "{cpu:?}");
    assert!(cpu.iter().all(|&t| t > 0.0), "{cpu:?}");
    let total = perf["cpu_seconds"].as_f64().unwrap();
    assert!(
        (cpu.iter().sum::<f64>() - total).abs() < 1e-9,
        "{cpu:?} {total}"
    );
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 31, "{held:?}");
}

/// `hcsim run SCENARIO` as process `process` of two listed in `hosts`.
fn member(scenario: &str, process: &str, hosts: &Path) -> Command {
    let mut c = hcsim();
    c.arg("run")
        .arg(super::scenario(scenario))
        .args([
            "--quiet",
            "--processes",
            "2",
            "--process",
            process,
            "--hostfile",
        ])
        .arg(hosts);
    c
}

/// A free loopback address nobody listens on.
fn silent_host() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("127.0.0.1:{}", l.local_addr().unwrap().port())
}

#[test]
fn a_member_started_by_hand_says_that_its_part_is_done() {
    let tmp = tempfile::tempdir().unwrap();
    let hosts = tmp.path().join("hosts.txt");
    std::fs::write(&hosts, format!("{}\n{}\n", silent_host(), silent_host())).unwrap();
    // As on a second machine: no --quiet, its own output directory.
    let second = hcsim()
        .arg("run")
        .arg(super::scenario("smoke.toml"))
        .args(["--processes", "2", "--process", "1", "--hostfile"])
        .arg(&hosts)
        .arg("--out")
        .arg(tmp.path().join("second"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first = member("smoke.toml", "0", &hosts)
        .arg("--out")
        .arg(tmp.path().join("first"))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    let second = second.wait_with_output().unwrap();
    assert!(first.success(), "process 0: {first}");
    assert!(second.status.success(), "process 1: {}", second.status);
    let said = String::from_utf8_lossy(&second.stdout);
    assert!(said.contains("process 1 of 2: done in"), "stdout: {said}");
    // The smoke day's 8 shards, one worker each: process 1 runs half.
    assert!(said.contains("(4 of 8 shards"), "stdout: {said}");
    assert!(
        said.contains("process 0 writes the results"),
        "stdout: {said}"
    );
    assert!(said.contains(" MiB, CPU "), "stdout: {said}");
    assert!(said.contains(" s); process 0"), "stdout: {said}");
    assert!(tmp.path().join("first/summary.json").exists());
    assert!(!tmp.path().join("second/summary.json").exists());
}

#[test]
fn a_process_that_never_connects_ends_the_run_with_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let hosts = tmp.path().join("hosts.txt");
    std::fs::write(&hosts, format!("{}\n{}\n", silent_host(), silent_host())).unwrap();
    let started = Instant::now();
    let out = member("smoke.toml", "0", &hosts)
        .args(["--connect-timeout", "2", "--out"])
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("could not connect"), "stderr: {err}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(!tmp.path().join("out/summary.json").exists());
}

#[test]
fn a_process_that_dies_ends_the_run_on_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let hosts = tmp.path().join("hosts.txt");
    std::fs::write(&hosts, format!("{}\n{}\n", silent_host(), silent_host())).unwrap();
    let spawn = |i: &str| {
        member("anhui-fortnight.toml", i, &hosts)
            .arg("--out")
            .arg(tmp.path().join("out"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let first = spawn("0");
    let mut second = spawn("1");
    std::thread::sleep(Duration::from_secs(3));
    second.kill().unwrap();
    let _ = second.wait();
    let killed = Instant::now();
    let out = first.wait_with_output().unwrap();
    assert!(
        !out.status.success(),
        "process 0 finished as if nothing happened"
    );
    assert!(killed.elapsed() < Duration::from_secs(20));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("lost its connection"), "stderr: {err}");
    // The cause in the library's words, not where in its source it panicked.
    assert!(err.contains("timely communication error"), "stderr: {err}");
    assert!(!err.contains("panicked at"), "stderr: {err}");
    assert!(!tmp.path().join("out/summary.json").exists());
}

#[test]
fn a_bad_host_file_names_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let hosts = tmp.path().join("hosts.txt");
    std::fs::write(&hosts, "127.0.0.1:4000\nnot-an-address\n").unwrap();
    let out = member("smoke.toml", "0", &hosts).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("hosts.txt:2: host"), "stderr: {err}");
}

#[test]
fn a_process_given_other_files_ends_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let hosts = tmp.path().join("hosts.txt");
    std::fs::write(&hosts, format!("{}\n{}\n", silent_host(), silent_host())).unwrap();
    // The smoke day with another seed, beside the same rule sets.
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let smoke = std::fs::read_to_string(super::scenario("smoke.toml")).unwrap();
    assert!(smoke.contains("seed = 20201001"));
    std::fs::write(
        other.join("smoke.toml"),
        smoke.replace("seed = 20201001", "seed = 7"),
    )
    .unwrap();
    std::os::unix::fs::symlink(super::scenario("rules"), other.join("rules")).unwrap();
    let second = hcsim()
        .arg("run")
        .arg(other.join("smoke.toml"))
        .args([
            "--quiet",
            "--processes",
            "2",
            "--process",
            "1",
            "--hostfile",
        ])
        .arg(&hosts)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first = member("smoke.toml", "0", &hosts)
        .arg("--out")
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    let second = second.wait_with_output().unwrap();
    assert_eq!(second.status.code(), Some(2));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("process 1: process 0 runs another build of hcsim or another scenario"),
        "stderr: {err}"
    );
    assert!(
        !first.status.success(),
        "process 0 finished as if nothing happened"
    );
    assert!(!tmp.path().join("out/summary.json").exists());
}
