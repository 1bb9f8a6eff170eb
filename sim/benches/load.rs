//! The HTTP load generator against a minimal local echo endpoint: a raw
//! TCP server answering every request with a fixed verdict, so nearly all
//! the time is the generator's and the kernel's.
//!
//! - `generator/pipeline=N`: 20,000 requests all due at once over 16
//!   connections on one generator thread, at most N in flight per
//!   connection; "thrpt" is requests/s the generator gets through.
//! - `wire/write_request`, `wire/read_answer`: the per-request work of
//!   building a verify request and reading its answer, without I/O.
//!
//! `cargo bench -p hcsim --bench load`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hcsim::load::arrivals::{Clock, RateShape, Schedule};
use hcsim::load::http1::{classify, parse_response, Parsed, RequestWriter};
use hcsim::load::pipelined::{drive, Plan};
use hcsim::load::workers::Run;
use hcsim_platform::api::CHECKPOINT_KINDS;
use hcsim_platform::api::{CodeId, CountyRef, Credential, DeciCelsius, Place, Request};
use hcsim_platform::{Issuer, Minute, ProvinceId};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ANSWER: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 36\r\n\r\n{\"result\":\"verdict\",\"color\":\"green\"}";

/// Answers each request read with `ANSWER`, all of a read's answers in one
/// write.
fn echo(mut s: TcpStream) {
    let _ = s.set_nodelay(true);
    let mut input = Vec::with_capacity(1 << 16);
    let mut chunk = vec![0u8; 1 << 16];
    let mut out = Vec::with_capacity(1 << 16);
    loop {
        let n = match s.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        input.extend_from_slice(&chunk[..n]);
        let mut at = 0;
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 8];
            let mut req = httparse::Request::new(&mut headers);
            let Ok(httparse::Status::Complete(head)) = req.parse(&input[at..]) else {
                break;
            };
            let length: usize = req
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok()?.parse().ok())
                .unwrap_or(0);
            if input.len() - at < head + length {
                break;
            }
            at += head + length;
            out.extend_from_slice(ANSWER);
        }
        input.drain(..at);
        if s.write_all(&out).is_err() {
            return;
        }
        out.clear();
    }
}

fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("loopback port");
    let addr = listener.local_addr().expect("bound");
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            std::thread::spawn(move || echo(s));
        }
    });
    addr
}

fn verify() -> Request {
    Request::Verify {
        credential: Credential::Code(CodeId {
            issuer: Issuer::Province(ProvinceId(0)),
            serial: 7,
            token: Default::default(),
        }),
        place: Place {
            county: CountyRef {
                province: ProvinceId(0),
                county: 3,
            },
            kind: CHECKPOINT_KINDS[2],
        },
        temperature: Some(DeciCelsius(365)),
    }
}

const REQUESTS: u64 = 20_000;

fn generator(c: &mut Criterion) {
    let addr = echo_server();
    let clock = Clock {
        start: Minute::parse("2020-10-01T08:00").expect("constant"),
        compress: 1.0,
    };
    let mut group = c.benchmark_group("generator");
    group.throughput(Throughput::Elements(REQUESTS));
    group.sample_size(10);
    for pipeline in [1, 16] {
        group.bench_function(format!("pipeline={pipeline}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    // All due within a millisecond: the generator sends as
                    // fast as its connections take them.
                    let schedule = Schedule::new(
                        REQUESTS as f64 * 1000.0,
                        Duration::from_millis(1),
                        &RateShape::constant(),
                        clock,
                    );
                    let mut run = Run::new(schedule, clock, Arc::new(|_| verify()), 1);
                    run.send_grace = Duration::from_secs(60);
                    let plan = Plan {
                        addr,
                        connections: 16,
                        threads: 1,
                        pipeline,
                        timeout: Duration::from_secs(30),
                    };
                    let started = Instant::now();
                    let driven = drive(&run, &plan, |_| {}).expect("generator runs");
                    total += started.elapsed();
                    assert_eq!(driven.recorder.ok, REQUESTS, "{:?}", driven.recorder.errors);
                }
                total
            })
        });
    }
    group.finish();
}

fn wire(c: &mut Criterion) {
    let mut group = c.benchmark_group("wire");
    group.throughput(Throughput::Elements(1));
    let req = verify();
    let now = Minute::parse("2020-10-01T08:00").expect("constant");
    let mut writer = RequestWriter::new("127.0.0.1:8080");
    let mut out = Vec::with_capacity(4096);
    group.bench_function("write_request", |b| {
        b.iter(|| {
            out.clear();
            writer.write(&mut out, &req, now).expect("serializable");
            out.len()
        })
    });
    group.bench_function("read_answer", |b| {
        b.iter(|| match parse_response(std::hint::black_box(ANSWER)) {
            Parsed::Complete { status, body, .. } => classify(status, &ANSWER[body]),
            other => panic!("{other:?}"),
        })
    });
    group.finish();
}

criterion_group!(benches, generator, wire);
criterion_main!(benches);
