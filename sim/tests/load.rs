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
            token: Default::default(),
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
        Arc::new(hcsim::platform_setup::setup(Some(&scenario), &super::scenario("rules")).unwrap());
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

/// How the test server of the HTTP generator's tests answers.
#[derive(Copy, Clone)]
enum Reply {
    /// `200` with a verdict, at once.
    Verdict,
    /// Reads for `pause` before each read, so pipelines fill up.
    Slowly(Duration),
    /// Holds the first answer back for this long.
    StallOnce(Duration),
    /// Not HTTP.
    Garbage,
    /// Half an answer, then the connection closes.
    CloseMidway,
    /// `500` for everything.
    ServerError,
    /// Reads and never answers.
    Silent,
}

const VERDICT: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 36\r\n\r\n{\"result\":\"verdict\",\"color\":\"green\"}";

/// A raw HTTP/1.1 server on a free loopback port, a thread per connection;
/// it lives as long as the test binary.
fn test_server(reply: Reply) -> std::net::SocketAddr {
    use std::sync::atomic::AtomicBool;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stalled = Arc::new(AtomicBool::new(false));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let stalled = stalled.clone();
            std::thread::spawn(move || answer(stream, reply, &stalled));
        }
    });
    addr
}

fn answer(mut stream: std::net::TcpStream, reply: Reply, stalled: &std::sync::atomic::AtomicBool) {
    use std::io::{Read, Write};
    let mut input = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if let Reply::Slowly(pause) = reply {
            std::thread::sleep(pause);
        }
        let n = match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        input.extend_from_slice(&chunk[..n]);
        let mut out = Vec::new();
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 16];
            let mut req = httparse::Request::new(&mut headers);
            let head = match req.parse(&input) {
                Ok(httparse::Status::Complete(head)) => head,
                Ok(httparse::Status::Partial) => break,
                Err(_) => return,
            };
            let length: usize = req
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok()?.parse().ok())
                .unwrap_or(0);
            if input.len() < head + length {
                break;
            }
            input.drain(..head + length);
            match reply {
                Reply::Verdict | Reply::Slowly(_) => out.extend_from_slice(VERDICT),
                Reply::StallOnce(pause) => {
                    if !stalled.swap(true, std::sync::atomic::Ordering::Relaxed) {
                        std::thread::sleep(pause);
                    }
                    out.extend_from_slice(VERDICT);
                }
                Reply::Garbage => out.extend_from_slice(b"garbage\r\n\r\n"),
                Reply::CloseMidway => {
                    let _ = stream.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"result\":\"ver",
                    );
                    return;
                }
                Reply::ServerError => out.extend_from_slice(
                    b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 2\r\n\r\n{}",
                ),
                Reply::Silent => {}
            }
        }
        if stream.write_all(&out).is_err() {
            return;
        }
    }
}

/// Drives `rate` per second for `seconds` with the HTTP generator. Sends
/// may trail the schedule by up to a minute on a busy machine and answers
/// by `timeout`: what the tests check are counts, never speed.
fn drive_http(
    addr: std::net::SocketAddr,
    rate: f64,
    seconds: f64,
    connections: usize,
    pipeline: usize,
    timeout: Duration,
) -> hcsim::load::workers::Driven {
    use hcsim::load::pipelined::{drive, Plan};
    let clock = Clock {
        start: Minute::parse("2020-10-01T08:00").unwrap(),
        compress: 1.0,
    };
    let schedule = Schedule::new(
        rate,
        Duration::from_secs_f64(seconds),
        &RateShape::constant(),
        clock,
    );
    let code = CodeId {
        issuer: Issuer::Province(ProvinceId(0)),
        serial: 0,
        token: Default::default(),
    };
    let mut run = Run::new(
        schedule,
        clock,
        Arc::new(move |_| Request::Query { code }),
        1,
    );
    run.send_grace = Duration::from_secs(60);
    let plan = Plan {
        addr,
        connections,
        threads: 2,
        pipeline,
        timeout,
    };
    drive(&run, &plan, |_| {}).unwrap()
}

/// Every request of the schedule was sent, and every one sent ended.
fn assert_all_accounted(d: &hcsim::load::workers::Driven, requests: u64) {
    assert_eq!(d.sent, requests, "sent");
    assert_eq!(d.dropped, 0, "dropped");
    assert_eq!(d.unfinished, 0, "unfinished");
    assert_eq!(d.completed, d.sent, "completed");
    let r = &d.recorder;
    let errors: u64 = r.errors.values().sum();
    assert_eq!(r.ok + errors, d.completed, "{:?}", r.errors);
}

#[test]
fn deep_pipelines_answer_every_request_sent() {
    // The server reads every 50 ms, so requests pile up on the two
    // connections to the bound of 512 each and then wait for room.
    let addr = test_server(Reply::Slowly(Duration::from_millis(50)));
    let d = drive_http(addr, 20_000.0, 0.25, 2, 512, Duration::from_secs(60));
    assert_all_accounted(&d, 5000);
    assert_eq!(d.recorder.ok, 5000, "{:?}", d.recorder.errors);
    assert_eq!(d.recorder.answered, 5000);
    assert!(
        d.recorder.late_no_connection > 0,
        "the pipelines never filled"
    );
}

#[test]
fn one_request_per_connection_at_a_time_answers_every_request() {
    let addr = test_server(Reply::Verdict);
    let d = drive_http(addr, 2000.0, 0.25, 4, 1, Duration::from_secs(60));
    assert_all_accounted(&d, 500);
    assert_eq!(d.recorder.ok, 500, "{:?}", d.recorder.errors);
}

#[test]
fn a_stalled_http_target_shows_in_corrected_latency() {
    // One connection, one request at a time: the arrivals due during a
    // 300 ms stall wait for the connection, and are measured from when
    // they were due.
    let addr = test_server(Reply::StallOnce(Duration::from_millis(300)));
    let d = drive_http(addr, 1000.0, 0.5, 1, 1, Duration::from_secs(60));
    assert_all_accounted(&d, 500);
    let r = &d.recorder;
    assert!(r.corrected.max() >= 300_000, "{}", r.corrected.max());
    assert!(r.uncorrected.max() >= 300_000, "{}", r.uncorrected.max());
    // Far more requests waited than the one that stalled.
    assert!(r.late_no_connection >= 100, "{}", r.late_no_connection);
    assert!(r.corrected.value_at_quantile(0.5) > r.uncorrected.value_at_quantile(0.5));
}

fn assert_only_errors(d: &hcsim::load::workers::Driven, kinds: &[&str]) {
    let r = &d.recorder;
    assert_eq!(r.ok, 0);
    assert_eq!(r.answered, 0, "no answer is the platform's");
    assert!(!r.errors.is_empty());
    for kind in r.errors.keys() {
        assert!(kinds.contains(&kind.as_str()), "{:?}", r.errors);
    }
}

#[test]
fn garbage_answers_are_counted_as_protocol_errors() {
    let addr = test_server(Reply::Garbage);
    let d = drive_http(addr, 2000.0, 0.25, 4, 16, Duration::from_secs(60));
    assert_all_accounted(&d, 500);
    assert_only_errors(&d, &["protocol"]);
}

#[test]
fn a_connection_closed_mid_answer_fails_its_requests() {
    let addr = test_server(Reply::CloseMidway);
    let d = drive_http(addr, 2000.0, 0.25, 4, 16, Duration::from_secs(60));
    assert_all_accounted(&d, 500);
    // A close with unread requests may reach the generator as a reset;
    // a reconnect racing the server's close may be refused.
    assert_only_errors(&d, &["closed", "reset", "connect"]);
}

#[test]
fn server_errors_are_counted_by_status() {
    let addr = test_server(Reply::ServerError);
    let d = drive_http(addr, 2000.0, 0.25, 4, 16, Duration::from_secs(60));
    assert_all_accounted(&d, 500);
    assert_only_errors(&d, &["http_500"]);
    assert_eq!(d.recorder.errors["http_500"], 500);
}

#[test]
fn a_silent_server_times_requests_out() {
    let addr = test_server(Reply::Silent);
    let d = drive_http(addr, 400.0, 0.25, 2, 16, Duration::from_millis(200));
    assert_all_accounted(&d, 100);
    assert_only_errors(&d, &["timeout"]);
}

#[test]
fn a_target_that_is_not_listening_gives_connect_errors() {
    // Bound and closed at once: nothing listens on the port.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let d = drive_http(addr, 2000.0, 0.1, 4, 16, Duration::from_secs(60));
    assert_all_accounted(&d, 200);
    assert_only_errors(&d, &["connect"]);
}

#[test]
fn load_over_http_is_answered_by_hcsim_serve() {
    use hcsim::scenario::Scenario;
    use hcsim_adapters::http::Server;

    let scenario = Scenario::load(&super::scenario("smoke.toml")).unwrap();
    let platform = Arc::new(
        hcsim::platform_setup::setup(Some(&scenario), &super::scenario("rules"))
            .unwrap()
            .direct(),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime
        .block_on(Server::bind(
            "127.0.0.1:0".parse().unwrap(),
            platform,
            scenario.start,
        ))
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hcsim"))
        .current_dir(super::root())
        .args(["load", "scenarios/smoke.toml", "--target"])
        .arg(format!("http://{}", server.local_addr()))
        .args([
            "--rate",
            "400",
            "--duration",
            "1s",
            "--connections",
            "4",
            "--threads",
            "1",
            "--pipeline",
            "8",
            "--people",
            "1000",
            "--min-rate-share",
            "0",
            "--quiet",
            "--out",
        ])
        .arg(tmp.path())
        .output()
        .unwrap();
    runtime.block_on(server.shutdown());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("generator cost  "), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("load.json")).unwrap())
            .unwrap();
    assert_eq!(report["requested"]["requests"], 400);
    assert_eq!(report["achieved"]["completed"], 400);
    // Every body the generator wrote was one the server parsed: a 400
    // would show as `http_400`.
    assert_eq!(report["errors"], serde_json::json!({}), "{report}");
    assert_eq!(report["pipeline"], 8);
    let cost = &report["generator_cost"];
    assert!(cost["cpu_seconds"].as_f64().unwrap() > 0.0, "{cost}");
    assert!(cost["cpu_per_request_us"].as_f64().unwrap() > 0.0, "{cost}");
    assert_eq!(cost["includes_target"], false);
}

#[test]
fn load_refuses_more_threads_than_cores_beside_a_local_target() {
    let out = Command::new(env!("CARGO_BIN_EXE_hcsim"))
        .current_dir(super::root())
        .args([
            "load",
            "scenarios/smoke.toml",
            "--target",
            "http://127.0.0.1:9",
            "--rate",
            "1",
            "--duration",
            "1s",
            "--threads",
            "100000",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--threads 100000 is more than this machine's"),
        "{stderr}"
    );
}
