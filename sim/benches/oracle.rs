//! The rule oracle's cost per checked exchange: the whole day of
//! `scenarios/smoke.toml` (~14,000 citizens, all of them tracked) is run
//! once with the oracle off, every request and answer recorded tick by
//! tick, and then replayed into a fresh `Oracle::observe`. Only the replay
//! is timed; building the oracle's tracked set happens outside the clock,
//! and the end-of-run record audit (a platform round trip) is left out.
//!
//! `cargo bench -p hcsim --bench oracle`; the "thrpt" line is exchanges
//! checked per second (each answer gets the invariant checks; answers about
//! tracked citizens are also compared with the reference model).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hcsim::engine::message::Tag;
use hcsim::engine::observer::ExchangeObserver;
use hcsim::oracle::{file_names, Oracle, Setup};
use hcsim::run::{default_rules_dir, load_rules, run_on_one_thread};
use hcsim::scenario::Scenario;
use hcsim::world::World;
use hcsim_platform::{Minute, Request, Response};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

/// One tick's traffic, as `drive` hands it to the oracle.
struct TickTraffic {
    now: Minute,
    tags: Vec<Tag>,
    requests: Vec<Request>,
    responses: Vec<Response>,
}

#[derive(Default)]
struct Recording {
    ticks: Vec<TickTraffic>,
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
        if self.ticks.last().is_none_or(|t| t.now != now) {
            self.ticks.push(TickTraffic {
                now,
                tags: Vec::new(),
                requests: Vec::new(),
                responses: Vec::new(),
            });
        }
        let t = self.ticks.last_mut().expect("pushed above");
        t.tags.push(*tag);
        t.requests.push(request.clone());
        t.responses.push(response.clone());
    }
}

fn scenario() -> Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/smoke.toml");
    let mut s = Scenario::load(&path).expect("bundled scenario");
    // The recording is replayed into the oracle below; one running during
    // the recording would only cost time.
    s.oracle.disabled = true;
    s
}

fn record(scenario: &Scenario, world: &Arc<World>) -> Recording {
    let setup = load_rules(scenario).expect("bundled rule sets");
    let mut recording = Recording::default();
    run_on_one_thread(scenario, world, &setup, &mut recording).expect("engine run");
    recording
}

/// The oracle a run of `scenario` would start with.
fn fresh_oracle(scenario: &Scenario, world: &World) -> Oracle {
    let files = hcsim::platform_setup::rule_files(Some(scenario), &default_rules_dir(scenario))
        .expect("bundled rule files");
    Oracle::for_world(
        Setup {
            seed: scenario.seed,
            scenario: scenario.path.display().to_string(),
            rules: load_rules(scenario).expect("bundled rule sets").rules,
            rule_files: file_names(&files),
            share: scenario.oracle.share(world.citizens()),
            code_keys: hcsim_platform::CodeKeys::from_seed(scenario.seed),
        },
        world,
    )
}

fn replay(mut oracle: Oracle, recording: &Recording) -> Oracle {
    for t in &recording.ticks {
        oracle.observe(t.now, &t.tags, &t.requests, &t.responses);
    }
    oracle
}

fn oracle(c: &mut Criterion) {
    let scenario = scenario();
    let world = Arc::new(World::build(&scenario));
    let recording = record(&scenario, &world);
    let exchanges: u64 = recording
        .ticks
        .iter()
        .map(|t| t.requests.len() as u64)
        .sum();
    let s = replay(fresh_oracle(&scenario, &world), &recording).summary();
    // A replay that found violations would be timing the reproducer writer,
    // not the checks.
    assert_eq!(s.violations, 0, "the recorded day must be clean");
    eprintln!(
        "oracle bench: {exchanges} exchanges, {} tracked citizens, {} model checks, \
         {} invariant checks, {} recognition checks",
        s.citizens_checked, s.checks, s.invariant_checks, s.recognition_checks
    );

    let mut group = c.benchmark_group("oracle_smoke_day");
    group.throughput(Throughput::Elements(exchanges));
    group.sample_size(10);
    group.bench_function("observe", |b| {
        b.iter_batched(
            || fresh_oracle(&scenario, &world),
            |o| black_box(replay(o, &recording)),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, oracle);
criterion_main!(benches);
