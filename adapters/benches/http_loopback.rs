//! What the adapters cost on top of the platform, on this machine:
//! - `direct`: one verification through `Direct` (routing, locks);
//! - `http_loopback/verify`: one `POST /v1/code/verify` round trip on a
//!   keep-alive connection to a server on 127.0.0.1 (client and server in
//!   this process, one thread each);
//! - `http_loopback/batch_1000`: 1000 verifications in one `POST /v1/batch`.
//!
//! `cargo bench -p hcsim-adapters --bench http_loopback`. For the load
//! generator's ceiling with many connections, see the README's "Load mode"
//! (`hcsim load` against `hcsim serve`).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hcsim_adapters::http::body::encode;
use hcsim_adapters::http::{Connection, Server};
use hcsim_adapters::Direct;
use hcsim_platform::api::{
    CheckpointKind, CountyRef, Credential, DeciCelsius, Place, Request, Response,
};
use hcsim_platform::hub::Hub;
use hcsim_platform::identity::{DocKind, DocNumber, Identity, NameCode};
use hcsim_platform::province::ProvincePlatform;
use hcsim_platform::{Minute, ProvinceId, RuleSet};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const PEOPLE: u32 = 10_000;

fn platform() -> Direct {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/rules/default.toml");
    let rules = Arc::new(RuleSet::load(&path).expect("bundled rule set"));
    Direct::new(|p| ProvincePlatform::new(p, rules.clone()), Hub::new())
}

/// Registers `PEOPLE` in Beijing and returns one verification per person.
fn scans(d: &Direct) -> Vec<Request> {
    let p = ProvinceId::parse("beijing").expect("province");
    let t0 = Minute::parse("2020-10-01T07:00").expect("time");
    let applications: Vec<Request> = (0..PEOPLE)
        .map(|i| Request::Apply {
            province: p,
            identity: Identity {
                doc: DocKind::IdCard,
                number: DocNumber(11_010_100_000_000_000 + i as u64),
                name: NameCode::new(i, i >> 3, Some(i >> 6)),
                age: 30,
            },
            face_verified: true,
            national: false,
        })
        .collect();
    let place = Place {
        county: CountyRef {
            province: p,
            county: 0,
        },
        kind: CheckpointKind::Mall,
    };
    d.handle_batch(t0, &applications)
        .into_iter()
        .map(|r| match r {
            Response::Issued { code, .. } => Request::Verify {
                credential: Credential::Code(code),
                place,
                temperature: Some(DeciCelsius(365)),
            },
            other => panic!("registration refused: {other:?}"),
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let now = Minute::parse("2020-10-01T08:00").expect("time");
    let direct = Arc::new(platform());
    let scans = scans(&direct);

    let mut group = c.benchmark_group("direct");
    group.throughput(Throughput::Elements(scans.len() as u64));
    group.bench_function("verify", |b| {
        b.iter(|| {
            for s in &scans {
                black_box(direct.handle(now, s));
            }
        })
    });
    group.finish();

    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("server runtime");
    let server = server_rt
        .block_on(Server::bind(
            "127.0.0.1:0".parse().expect("addr"),
            direct.clone(),
            now,
        ))
        .expect("bind 127.0.0.1:0");
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let mut conn = Connection::new(server.local_addr()).expect("loopback");
    let timeout = Duration::from_secs(10);
    let bodies: Vec<(&str, Vec<u8>)> = scans
        .iter()
        .map(|s| encode(s, Some(now)).expect("encodable"))
        .collect();
    let batch = serde_json::to_vec(&serde_json::json!({
        "now": now.to_string(),
        "requests": &scans[..1000],
    }))
    .expect("batch body");

    let mut group = c.benchmark_group("http_loopback");
    group.throughput(Throughput::Elements(1));
    let mut k = 0;
    group.bench_function("verify", |b| {
        b.iter(|| {
            let (path, body) = &bodies[k % bodies.len()];
            k += 1;
            client_rt
                .block_on(conn.post(path, body.clone(), timeout))
                .expect("answer")
        })
    });
    group.throughput(Throughput::Elements(1000));
    group.bench_function("batch_1000", |b| {
        b.iter(|| {
            client_rt
                .block_on(conn.post("/v1/batch", batch.clone(), timeout))
                .expect("answer")
        })
    });
    group.finish();
    drop(conn);
    server_rt.block_on(server.shutdown());
}

criterion_group!(all, benches);
criterion_main!(all);
