//! In-process scan verification on one provincial platform with 100,000
//! registered people: scans per second on one core.
//!
//! `cargo bench -p hcsim-platform --bench verify`; the "thrpt" line is
//! scans/s (each iteration verifies a batch of `BATCH` scans).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hcsim_platform::api::{CheckpointKind, CountyRef, Credential, DeciCelsius, Place, Request};
use hcsim_platform::identity::{DocKind, DocNumber, Identity, NameCode};
use hcsim_platform::province::{Outcome, ProvincePlatform};
use hcsim_platform::{CodeKeys, Issuer, Minute, ProvinceId, RuleSet};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

const PEOPLE: u32 = 100_000;
const BATCH: usize = 10_000;

fn rules(file: &str) -> Arc<RuleSet> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/rules")
        .join(file);
    Arc::new(RuleSet::load(&path).expect("bundled rule set"))
}

fn identity(p: ProvinceId, i: u32) -> Identity {
    Identity {
        doc: DocKind::IdCard,
        number: DocNumber(p.info().admin_code as u64 * 10_000_000_000_000_000 + i as u64),
        name: NameCode::new(i, i >> 3, Some(i >> 6)),
        age: (18 + i % 60) as u8,
    }
}

/// A platform with `PEOPLE` registered, and the place its checkpoints are.
fn registered(file: &str, key: &str) -> (ProvincePlatform, Place) {
    let p = ProvinceId::parse(key).expect("province key");
    let mut platform = ProvincePlatform::new(p, rules(file));
    let t0 = Minute::parse("2020-10-01T07:00").expect("time");
    for i in 0..PEOPLE {
        let req = Request::Apply {
            province: p,
            identity: identity(p, i),
            face_verified: true,
            national: false,
        };
        assert!(matches!(platform.handle(t0, &req), Outcome::Done(_)));
    }
    let place = Place {
        county: CountyRef {
            province: p,
            county: 0,
        },
        kind: CheckpointKind::Mall,
    };
    (platform, place)
}

/// Scans spread over the population with a fixed stride (no RNG needed).
fn scans(p: ProvinceId, place: Place, by_id_card: bool) -> Vec<Request> {
    let keys = CodeKeys::default();
    (0..BATCH as u32)
        .map(|k| {
            let i = k.wrapping_mul(7919) % PEOPLE;
            let credential = if by_id_card {
                Credential::IdCard(identity(p, i).number)
            } else {
                Credential::Code(keys.sign(Issuer::Province(p), i))
            };
            Request::Verify {
                credential,
                place,
                temperature: Some(DeciCelsius(365)),
            }
        })
        .collect()
}

fn verify(c: &mut Criterion) {
    let now = Minute::parse("2020-10-01T08:00").expect("time");
    let mut group = c.benchmark_group("verify_100k_registered");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(30);
    group.measurement_time(std::time::Duration::from_secs(3));
    for (file, key) in [("default.toml", "beijing"), ("anhui.toml", "anhui")] {
        let (mut platform, place) = registered(file, key);
        let p = platform.province();
        for (label, by_id_card) in [("code", false), ("id_card", true)] {
            let batch = scans(p, place, by_id_card);
            group.bench_function(format!("{key}/{label}"), |b| {
                b.iter(|| {
                    for req in &batch {
                        black_box(platform.handle(now, black_box(req)));
                    }
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
