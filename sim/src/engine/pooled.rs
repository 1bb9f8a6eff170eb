//! Process 0's workers on the threads of the run's pool, the barrier run by
//! worker 0 itself: used when the platform is in-process.
//!
//! With the workers on threads of their own and the barrier on a third,
//! every tick handed work between sleeping threads a dozen times (worker 0
//! to the barrier, the barrier to the pool for each parallel step and
//! back, the replies to worker 0, worker 0 to the others): ~30 context
//! switches a tick at 2 threads, on a month of 43,200 one-minute ticks a
//! fifth of the wall time. Here each thread of the pool is one worker; a
//! worker waiting for the others takes the pool's work (the barrier's
//! parallel steps, the watchers) instead of sleeping, so the tick moves
//! from shards to platform and back without a thread hop. The watchers
//! read a tick beside worker 0's next one, offered to whichever worker is
//! idle first. Results are the same as on the threads path: the barrier
//! makes the same calls in the same order.

use super::barrier::{Barrier, Deliveries, ShardBatch};
use super::dataflow::{
    lock, run_worker, BarrierPort, EngineSpec, Idle, ShardReport, WorkerSeconds,
};
use super::observer::{Checker, ExchangeObserver};
use super::{EngineError, EngineOutput, TickProgress};
use crate::scenario::Scenario;
use crate::world::World;
use hcsim_adapters::Platform;
use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use timely::communication::allocator::Thread;
use timely::communication::{Allocator, AllocatorBuilder};
use timely::worker::Worker;

/// Process 0's workers, connected to the other processes but not yet
/// running: they run on `pool` once the barrier is ready.
pub struct Pooled {
    pub(super) builders: Vec<Mutex<Option<AllocatorBuilder>>>,
    /// The network's threads, kept until the workers are done.
    pub(super) others: Box<dyn Any + Send>,
    pub(super) spec: Arc<EngineSpec>,
    pub(super) config: timely::WorkerConfig,
    pub(super) pool: Arc<rayon::ThreadPool>,
    /// Builds shards ahead of the first tick (`super::prepare_beside`).
    pub(super) preparing: Option<std::thread::JoinHandle<()>>,
}

/// Worker 0's barrier, called on its own thread.
struct Inline<'b, 'a, P: Platform> {
    barrier: &'b mut Barrier<'a, P>,
    /// The shards' first delivery: the codes issued before the clock.
    registered: Option<Deliveries>,
    shards: usize,
    error: Option<EngineError>,
    finished: Option<(Vec<ShardReport>, Vec<WorkerSeconds>)>,
    /// Worker 0's wall time in the shards' stage with the watchers beside.
    beside: f64,
}

impl<P: Platform + Send> BarrierPort for &mut Inline<'_, '_, P> {
    fn step(
        &mut self,
        close: Option<(u32, Vec<ShardBatch>)>,
        open: Option<u32>,
    ) -> Option<Deliveries> {
        // Empty when nobody registered before the clock.
        let shards = self.shards;
        let mut out: Deliveries = self
            .registered
            .take()
            .filter(|r| r.len() == shards)
            .unwrap_or_else(|| vec![Vec::new(); shards]);
        let barrier = &mut *self.barrier;
        // The in-process platform answers without waiting on anything.
        let step = futures::executor::block_on(async {
            if let Some((tick, batches)) = close {
                barrier.close(tick, batches, &mut out).await?;
            }
            if let Some(tick) = open {
                barrier.open(tick, &mut out).await?;
            }
            Ok::<_, EngineError>(())
        });
        match step {
            Ok(()) => Some(out),
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }

    fn beside<R: Send>(&mut self, tick: impl FnOnce() -> R + Send) -> R {
        let barrier = &mut *self.barrier;
        // Worker 0 reads the last tick first and offers its shards meanwhile:
        // a worker done with its own takes them, splitting them further,
        // and worker 0 then takes back what is left.
        let clock = Instant::now();
        let ((), result) = rayon::join(|| barrier.watch_pending(), tick);
        self.beside += clock.elapsed().as_secs_f64();
        result
    }

    fn finish(self, reports: Vec<ShardReport>, workers: Vec<WorkerSeconds>) {
        self.finished = Some((reports, workers));
    }
}

/// `super::drive` for workers on the pool: the barrier on worker 0's
/// thread, the caller's thread waiting for the run to end.
#[allow(clippy::too_many_arguments)]
pub(super) async fn drive<P: Platform + Send>(
    scenario: &Scenario,
    world: Arc<World>,
    workers: Pooled,
    registered: Deliveries,
    platform: &mut P,
    oracle: Option<Checker<'_>>,
    progress: &mut (dyn FnMut(&TickProgress) + Send),
    observer: &mut dyn ExchangeObserver,
) -> Result<EngineOutput, EngineError> {
    let Pooled {
        builders,
        others,
        spec,
        config,
        pool,
        preparing,
    } = workers;
    let started = Instant::now();
    let mut barrier = Barrier::new(
        scenario,
        world,
        platform,
        oracle,
        observer,
        progress,
        Some(pool.clone()),
    );
    barrier.registered(&registered);
    let port = Mutex::new(Some(Inline {
        barrier: &mut barrier,
        registered: Some(registered),
        shards: scenario.shards as usize,
        error: None,
        finished: None,
        beside: 0.0,
    }));
    let abort = AtomicBool::new(false);
    let ran: Vec<Result<(), String>> = pool.broadcast(|ctx| {
        let Some(builder) = lock(&builders[ctx.index()]).take() else {
            return Err(format!("worker thread {}: no allocator", ctx.index()));
        };
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            let mut worker = Worker::new(config.clone(), build(builder), Some(Instant::now()));
            let mut inline = (worker.index() == 0).then(|| lock(&port).take()).flatten();
            run_worker(
                &mut worker,
                &spec,
                inline.as_mut(),
                None,
                &abort,
                Idle::Help,
            );
            if let Some(inline) = inline {
                *lock(&port) = Some(inline);
            }
            // Woken now and then, so that a peer's panic is noticed here too.
            while !abort.load(Ordering::Relaxed) && worker.has_dataflows() {
                worker.step_or_park(Some(Duration::from_millis(1)));
            }
        }))
        .map_err(|e| {
            // The others stop waiting for what this worker will not send.
            abort.store(true, Ordering::Relaxed);
            format!("worker thread {}: {}", ctx.index(), panic_message(&*e))
        })
    });
    drop(others);
    // Done by now: every slot it would fill was taken.
    if let Some(preparing) = preparing {
        let _ = preparing.join();
    }
    let loop_seconds = started.elapsed().as_secs_f64();
    let failed: Vec<String> = ran.into_iter().filter_map(Result::err).collect();
    let Some(Inline {
        error,
        finished,
        beside,
        ..
    }) = port.into_inner().unwrap_or_else(|e| e.into_inner())
    else {
        return Err(EngineError::Worker(failed.join("; ")));
    };
    if let Some(e) = error {
        return Err(e);
    }
    if !failed.is_empty() {
        return Err(EngineError::Worker(failed.join("; ")));
    }
    let (reports, workers) = finished
        .ok_or_else(|| EngineError::Worker("worker 0 ended before the run did".to_string()))?;
    let out = barrier.finish().await?;
    // What the watchers added to the tick's path: beside worker 0's own
    // shards (with the evening out of the shards around them), and the
    // oracle's reading beyond the platform's answer.
    let own = workers.first().map_or(0.0, |w| w.agents);
    let waited = (beside - own).max(0.0) + out.seconds.waited;
    Ok(super::output(out, reports, workers, loop_seconds, waited))
}

/// The allocator a worker's thread builds from its builder (what
/// `timely::execute` does on the threads it spawns).
fn build(builder: AllocatorBuilder) -> Allocator {
    match builder {
        AllocatorBuilder::Thread(_) => Allocator::Thread(Thread::default()),
        AllocatorBuilder::Process(p) => Allocator::Process(p.build()),
        AllocatorBuilder::Tcp(t) => Allocator::Tcp(t.build()),
    }
}

/// A panic's message, as its payload carries it.
pub fn panic_message(e: &(dyn Any + Send)) -> String {
    e.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| e.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panicked".to_string())
}
