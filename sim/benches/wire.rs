//! What a record costs to cross between a run's processes: the whole day
//! of `scenarios/smoke.toml` is run once, every request and answer kept
//! tick by tick, and each tick's requests (as the shards send them to
//! worker 0) and answers (as the barrier hands them down) are then written
//! and read back as they cross: `bitcode` inside timely's bincode
//! (`engine::wire`). Only the crossing is timed.
//!
//! `cargo bench -p hcsim --bench wire`; the "thrpt" line is exchanges
//! (one request and its answer) encoded and decoded per second; the bytes
//! per exchange are printed before it.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hcsim::engine::barrier::ShardBatch;
use hcsim::engine::message::{ShardMsg, Tag};
use hcsim::engine::observer::ExchangeObserver;
use hcsim::engine::wire::Wire;
use hcsim::run::{load_rules, run_on_one_thread};
use hcsim::scenario::Scenario;
use hcsim::world::World;
use hcsim_platform::{Minute, Request, Response};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

/// One tick's records as they cross: the requests up, the answers down.
#[derive(Clone)]
struct Tick {
    up: Vec<ShardBatch>,
    down: Vec<(u32, Vec<ShardMsg>)>,
}

#[derive(Default)]
struct Recording {
    now: Option<Minute>,
    ticks: Vec<Tick>,
}

impl ExchangeObserver for Recording {
    fn exchange(
        &mut self,
        _: &World,
        now: Minute,
        tag: &Tag,
        request: &Request,
        response: &Response,
    ) {
        if self.now != Some(now) {
            self.now = Some(now);
            self.ticks.push(Tick {
                up: Vec::new(),
                down: Vec::new(),
            });
        }
        let t = self.ticks.last_mut().expect("pushed above");
        // One batch and one delivery per shard, in the order they were seen.
        match t.up.iter_mut().find(|b| b.shard == tag.shard) {
            Some(b) => b.requests.push((*tag, request.clone())),
            None => t.up.push(ShardBatch {
                shard: tag.shard,
                events: 0,
                requests: vec![(*tag, request.clone())],
            }),
        }
        let reply = ShardMsg::Reply {
            tag: *tag,
            response: response.clone(),
        };
        match t.down.iter_mut().find(|(s, _)| *s == tag.shard) {
            Some((_, m)) => m.push(reply),
            None => t.down.push((tag.shard, vec![reply])),
        }
    }
}

fn record() -> Recording {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/smoke.toml");
    let mut scenario = Scenario::load(&path).expect("bundled scenario");
    scenario.oracle.disabled = true;
    let world = Arc::new(World::build(&scenario));
    let setup = load_rules(&scenario).expect("bundled rule sets");
    let mut recording = Recording::default();
    run_on_one_thread(&scenario, &world, &setup, &mut recording).expect("engine run");
    recording
}

/// Both of a tick's records written as timely writes them and read back,
/// with the bytes they took.
fn cross(tick: Tick) -> (Tick, usize) {
    let up = bincode::serialize(&Wire(tick.up)).expect("writes");
    let down = bincode::serialize(&Wire(tick.down)).expect("writes");
    let up_back: Wire<Vec<ShardBatch>> = bincode::deserialize(&up).expect("reads back");
    let down_back: Wire<Vec<(u32, Vec<ShardMsg>)>> =
        bincode::deserialize(&down).expect("reads back");
    let back = Tick {
        up: up_back.0,
        down: down_back.0,
    };
    (back, up.len() + down.len())
}

fn wire(c: &mut Criterion) {
    let recording = record();
    let exchanges: usize = recording
        .ticks
        .iter()
        .flat_map(|t| &t.up)
        .map(|b| b.requests.len())
        .sum();
    let mut bytes = 0;
    for t in &recording.ticks {
        let (back, n) = cross(t.clone());
        // What is timed below must be a faithful crossing.
        assert_eq!(format!("{:?}", back.up), format!("{:?}", t.up));
        assert_eq!(format!("{:?}", back.down), format!("{:?}", t.down));
        bytes += n;
    }
    eprintln!(
        "wire bench: {exchanges} exchanges in {} ticks, {bytes} bytes ({:.1} per exchange)",
        recording.ticks.len(),
        bytes as f64 / exchanges.max(1) as f64
    );

    let mut group = c.benchmark_group("wire_smoke_day");
    group.throughput(Throughput::Elements(exchanges as u64));
    group.sample_size(10);
    group.bench_function("cross", |b| {
        b.iter_batched(
            || recording.ticks.clone(),
            |ticks| {
                for t in ticks {
                    black_box(cross(t));
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, wire);
criterion_main!(benches);
