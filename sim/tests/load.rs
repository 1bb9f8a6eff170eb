//! `hcsim load`: the open-model generator and its latency correction.

use hcsim::load::arrivals::{Clock, RateShape, Schedule};
use hcsim::load::workers::{drive, Answer, Pacing, Run, Session};
use hcsim_platform::api::{CodeId, Request};
use hcsim_platform::{Issuer, Minute, ProvinceId};
use std::future::Future;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// Answers at once, except that its `stall_at`-th call hangs for `stall`:
/// a target that freezes once, as a platform does in a GC pause or a
/// failover.
struct StallOnce {
    calls: u64,
    stall_at: u64,
    stall: Duration,
}

impl Session for StallOnce {
    fn call(&mut self, _now: Minute, _req: &Request) -> impl Future<Output = Answer> + Send {
        self.calls += 1;
        let wait = if self.calls == self.stall_at {
            self.stall
        } else {
            Duration::ZERO
        };
        async move {
            tokio::time::sleep(wait).await;
            Answer::Ok
        }
    }
}

#[test]
fn a_stalled_target_shows_in_corrected_latency_only() {
    // tokio's paused clock makes the run exact and instant: time moves only
    // when every task waits.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let driven = runtime.block_on(async {
        let clock = Clock {
            start: Minute::parse("2020-10-01T08:00").unwrap(),
            compress: 1.0,
        };
        let schedule = Schedule::new(
            1000.0,
            Duration::from_secs(2),
            &RateShape::constant(),
            clock,
        );
        let code = CodeId {
            issuer: Issuer::Province(ProvinceId(0)),
            serial: 0,
        };
        let mut run = Run::new(
            schedule,
            clock,
            Arc::new(move |_| Request::Query { code }),
            1,
        );
        run.pacing = Pacing::Runtime;
        let session = StallOnce {
            calls: 0,
            stall_at: 500,
            stall: Duration::from_millis(300),
        };
        drive(Arc::new(run), vec![session], Duration::from_secs(5), |_| {}).await
    });
    let r = &driven.recorder;
    assert_eq!(driven.completed, 2000);
    assert_eq!(driven.dropped, 0);
    let p99 = |h: &hdrhistogram::Histogram<u64>| h.value_at_quantile(0.99);
    // One request in 2000 took 300 ms: invisible at p99 when measured from
    // the actual send...
    assert!(
        p99(&r.uncorrected) < 1_000,
        "uncorrected p99 {} µs",
        p99(&r.uncorrected)
    );
    assert!(r.uncorrected.max() >= 300_000);
    // ...but the ~300 arrivals due during the stall all waited behind it.
    assert!(
        p99(&r.corrected) > 250_000,
        "corrected p99 {} µs",
        p99(&r.corrected)
    );
    assert!(r.corrected.value_at_quantile(0.90) > 50_000);
    assert!(r.late_no_connection > 250, "{}", r.late_no_connection);
}

#[test]
fn load_inproc_achieves_the_requested_rate() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hcsim"))
        .current_dir(super::root())
        .args([
            "load",
            "scenarios/smoke.toml",
            "--target",
            "inproc",
            "--rate",
            "400",
            "--duration",
            "1s",
            "--connections",
            "8",
            "--people",
            "2000",
            "--quiet",
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
    for line in [
        "requested",
        "achieved",
        "corrected",
        "uncorrected",
        "generator       ",
        "target          kept up",
    ] {
        assert!(stdout.contains(line), "missing {line} in:\n{stdout}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("load.json")).unwrap())
            .unwrap();
    assert_eq!(report["requested"]["requests"], 400);
    assert_eq!(report["achieved"]["completed"], 400);
    assert_eq!(report["dropped"], 0);
    assert_eq!(report["population"], 2000);
    assert_eq!(report["errors"], serde_json::json!({}), "{report}");
    let ratio = report["achieved"]["ratio"].as_f64().unwrap();
    // Everything was answered; the rate can only fall short by answers
    // trailing past the end of the second on a busy machine.
    assert!(
        (0.8..=1.01).contains(&ratio),
        "achieved/requested = {ratio}"
    );
    let p99 = report["latency"]["corrected_ms"]["p99"].as_f64().unwrap();
    let p99_uncorrected = report["latency"]["uncorrected_ms"]["p99"].as_f64().unwrap();
    assert!(p99 >= p99_uncorrected);
}

#[test]
fn load_refuses_a_non_loopback_target() {
    let out = Command::new(env!("CARGO_BIN_EXE_hcsim"))
        .current_dir(super::root())
        .args([
            "load",
            "scenarios/smoke.toml",
            "--target",
            "http://192.0.2.1:80",
            "--rate",
            "1",
            "--duration",
            "1s",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}

/// `hcsim run --target` against `hcsim serve`: the same summary.json, byte
/// for byte, as the in-process run; a second run resets the server first;
/// a server that holds a run's state and cannot be reset is refused.
#[test]
fn run_against_a_remote_platform_over_http_writes_the_same_summary() {
    use hcsim::run::{run, run_against, RunOptions};
    use hcsim::scenario::Scenario;
    use hcsim_adapters::http::server::MakePlatform;
    use hcsim_adapters::http::{Limits, Server};

    let scenario = Scenario::load(&super::scenario("smoke.toml")).unwrap();
    let setup =
        Arc::new(hcsim::load::platform::setup(Some(&scenario), &super::scenario("rules")).unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let make: MakePlatform = {
        let setup = setup.clone();
        Arc::new(move || setup.direct())
    };
    let loopback = || "127.0.0.1:0".parse().unwrap();
    let resettable = runtime
        .block_on(Server::bind_resettable(
            loopback(),
            make,
            scenario.start,
            Limits::default(),
        ))
        .unwrap();
    let fixed = runtime
        .block_on(Server::bind(
            loopback(),
            Arc::new(setup.direct()),
            scenario.start,
        ))
        .unwrap();
    let url = |s: &Server| format!("http://{}", s.local_addr());
    let tmp = tempfile::tempdir().unwrap();
    let opts = |dir: &str| RunOptions {
        threads: 2,
        out_dir: tmp.path().join(dir),
        progress: false,
    };
    let bytes = |dir: &str| std::fs::read(tmp.path().join(dir).join("summary.json")).unwrap();
    run(&scenario, &opts("local")).unwrap();
    run_against(&scenario, &opts("remote"), Some(&url(&resettable))).unwrap();
    // The server now holds that run: the next one resets it first.
    run_against(&scenario, &opts("again"), Some(&url(&resettable))).unwrap();
    // A fresh server without --allow-reset is fine once, and refused after.
    run_against(&scenario, &opts("fixed"), Some(&url(&fixed))).unwrap();
    let refused = run_against(&scenario, &opts("refused"), Some(&url(&fixed)))
        .err()
        .expect("a server holding a run's state is refused");
    runtime.block_on(resettable.shutdown());
    runtime.block_on(fixed.shutdown());

    let local = bytes("local");
    for dir in ["remote", "again", "fixed"] {
        assert!(
            bytes(dir) == local,
            "{dir}: summary.json differs from the in-process run"
        );
    }
    let s: serde_json::Value = serde_json::from_slice(&local).unwrap();
    assert!(s["scans"]["total"].as_u64().unwrap() > 10_000);
    assert!(
        s["hub"]["hub_queries"].as_u64().unwrap() > 0,
        "{}",
        s["hub"]
    );
    let message = format!("{refused:#}");
    assert!(
        message.contains("holds another run's state") && message.contains("--allow-reset"),
        "{message}"
    );
    assert!(!tmp.path().join("refused").join("summary.json").exists());
}

fn load_inproc(rate: &str, extra: &[&str], out: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hcsim"))
        .current_dir(super::root())
        .args([
            "load",
            "scenarios/smoke.toml",
            "--target",
            "inproc",
            "--rate",
            rate,
            "--duration",
            "50ms",
            "--connections",
            "1",
            "--people",
            "1000",
            "--quiet",
        ])
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn load_exits_13_when_the_target_falls_short_of_the_required_share() {
    // Four million requests a second through one in-process connection:
    // far more than one core answers, so the achieved rate falls short.
    let tmp = tempfile::tempdir().unwrap();
    let out = load_inproc("4000000", &[], tmp.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(13),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("target          fell short"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("load.json")).unwrap())
            .unwrap();
    assert_eq!(report["verdict"]["target_kept_up"], false);
    assert_eq!(report["verdict"]["min_rate_share"], 0.95);
    assert!(report["achieved"]["ratio"].as_f64().unwrap() < 0.95);

    // The same shortfall passes when no share is required.
    let out = load_inproc("4000000", &["--min-rate-share", "0"], tmp.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("target          kept up"));
}
