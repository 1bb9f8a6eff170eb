//! The engine's tick loop: one simulated day of `scenarios/national-day.toml`
//! scaled down to about 70,000 citizens, shards driving citizens against
//! the in-process platform on one thread. Only `engine::drive` is timed:
//! building the world and starting the actors happen outside the clock.
//! The oracle is off, so the figure is the engine and the platform alone
//! (`benches/oracle.rs` measures the oracle).
//!
//! `cargo bench -p hcsim --bench tick`; the "thrpt" line is engine
//! events/s (each iteration is the whole day, `EngineOutput::events` of it).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hcsim::run::{load_rules, run_on_one_thread};
use hcsim::scenario::Scenario;
use hcsim::world::World;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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
    let (output, elapsed) =
        run_on_one_thread(scenario, &world, &setup, &mut ()).expect("engine run");
    (elapsed, output.events)
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
