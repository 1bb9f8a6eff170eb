//! The engine's tick loop: one simulated day of `scenarios/national-day.toml`
//! scaled down to about 70,000 citizens, shards driving citizens against
//! the in-process platform on one thread. Only `engine::drive` is timed:
//! building the world and starting the actors happen outside the clock.
//! The oracle is off, so the figure is the engine and the platform alone
//! (`benches/oracle.rs` measures the oracle).
//!
//! `cargo bench -p hcsim --bench tick`; the "thrpt" line is engine
//! events/s (each iteration is the whole day, `EngineOutput::events` of it).

use actix::prelude::*;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hcsim::engine::drive;
use hcsim::run::{capacity_over, load_rules, local_platform, start_shards};
use hcsim::scenario::Scenario;
use hcsim::world::World;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// About 70,000 citizens: large enough that per-citizen work outweighs the
/// fixed cost of 1,440 tick barriers, small enough for ~1 s iterations.
const POPULATION_SCALE: f64 = 0.00005;

fn scenario() -> Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/national-day.toml");
    let mut s = Scenario::load(&path).expect("bundled scenario");
    s.population_scale = POPULATION_SCALE;
    s.oracle.disabled = true;
    s
}

/// One whole run on one arbiter; returns the time spent in the tick loop
/// and the events it processed.
fn run_day(scenario: &Scenario) -> (Duration, u64) {
    let setup = load_rules(scenario).expect("bundled rule sets");
    let world = Arc::new(World::build(scenario));
    actix::System::new().block_on(async {
        let arbiter = Arbiter::new();
        let handles = [arbiter.handle()];
        let shards = start_shards(scenario, &world, &handles);
        let local = local_platform(&world, &setup, &handles, Default::default());
        let mut platform = capacity_over(local, scenario, &world);
        let started = Instant::now();
        let output = drive(
            scenario,
            world.clone(),
            &shards,
            &mut platform,
            None,
            &mut |_| {},
            &mut (),
        )
        .await
        .expect("engine run");
        let elapsed = started.elapsed();
        arbiter.stop();
        (elapsed, output.events)
    })
}

fn tick(c: &mut Criterion) {
    let scenario = scenario();
    // Same seed, same events: one run sizes the throughput for all.
    let (_, events) = run_day(&scenario);
    let mut group = c.benchmark_group("engine_day_70k_citizens");
    group.throughput(Throughput::Elements(events));
    group.sample_size(10);
    group.bench_function("national-day/1-thread", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| run_day(&scenario).0).sum())
    });
    group.finish();
}

criterion_group!(benches, tick);
criterion_main!(benches);
