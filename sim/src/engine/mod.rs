//! The engine: shards hosted by the workers of a timely dataflow, and the
//! tick barrier where their requests meet the platform.
//!
//! Conservative parallel discrete-event simulation with one tick of
//! lookahead: within a tick every worker runs its shards; everything they
//! send each other or the platform is delivered at the barrier, in a
//! canonical order, so the result never depends on how many workers or
//! processes there are or which shard each one hosts.
//!
//! - `dataflow.rs`: the workers, their shards and the exchanges between them;
//! - `barrier.rs`: the platform side of the barrier (authority, surges,
//!   retries, degrade, faults, the platform, the oracle, observers);
//! - `placement.rs`: which worker hosts which shard;
//! - `hosting.rs`: the provinces held by processes other than 0;
//! - `connect.rs`: the sockets between processes, handed to timely;
//! - `fingerprint.rs`: the build and files every process must share;
//! - `wire.rs`: how records cross a process boundary;
//! - `shard.rs`, `wheel.rs`, `message.rs`: a shard's tick, its timers, and
//!   what crosses shard boundaries;
//! - `observer.rs`: the traits through which features watch exchanges.

pub mod barrier;
mod connect;
pub mod dataflow;
pub mod fingerprint;
pub mod hosting;
pub mod message;
pub mod observer;
pub mod placement;
pub mod pooled;
pub mod registration;
pub mod report;
pub mod shard;
pub mod wheel;
pub mod wire;

use crate::authority::AuthorityCounts;
use crate::fault::Faults;
use crate::metrics::Metrics;
use crate::scenario::Scenario;
use crate::world::World;
use barrier::{Barrier, Deliveries};
use dataflow::{BarrierLine, Call, EngineSpec, Idle, Line, ShardReport, WorkerSeconds};
pub use hcsim_adapters::faults::PlatformFaultEffect;
use hcsim_adapters::{ColorCensus, Platform, PortError};
use hcsim_platform::Minute;
use hcsim_reports::summary::{PhaseSeconds, RetryTotals, SurgeTotals};
use observer::{Checker, ExchangeObserver};
use placement::Placement;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Where the run's workers are: `threads` in each of `processes`
/// processes, this one being `process`; `hosts` gives every process's
/// address (`host:port`) when there is more than one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cluster {
    pub threads: usize,
    pub processes: usize,
    pub process: usize,
    pub hosts: Vec<String>,
}

impl Cluster {
    /// One process with `threads` workers: the embedded default.
    pub fn local(threads: usize) -> Cluster {
        Cluster {
            threads: threads.max(1),
            processes: 1,
            process: 0,
            hosts: Vec::new(),
        }
    }

    /// Which of the workers hosts which of `shards` shards.
    pub fn placement(&self, shards: u32) -> Placement {
        Placement {
            shards,
            threads: self.threads,
            processes: self.processes,
        }
    }

    /// timely's allocators for this process's workers, and what must live
    /// as long as they do: between processes over the sockets
    /// `connect.rs` makes, else within this process.
    fn allocators(
        &self,
    ) -> Result<
        (
            Vec<timely::communication::AllocatorBuilder>,
            Box<dyn std::any::Any + Send>,
        ),
        String,
    > {
        match (self.processes, self.threads) {
            (1, 1) => timely::CommunicationConfig::Thread.try_build(),
            (1, n) => timely::CommunicationConfig::Process(n).try_build(),
            _ => connect::build(self),
        }
    }

    /// Each tick waits on two rounds of progress among a handful of
    /// workers: sent at once, each update reaches the waiting peers without
    /// a later round to carry it (a 3-day national month at 1 M citizens, 2
    /// threads: ~6 % less wall time than `Demand`).
    fn worker_config() -> timely::WorkerConfig {
        timely::WorkerConfig::default().progress_mode(timely::worker::ProgressMode::Eager)
    }
}

/// Progress after each tick: ticks done, simulated time, events so far.
pub struct TickProgress {
    pub tick: u32,
    pub ticks: u32,
    pub now: Minute,
    pub events: u64,
}

pub struct EngineOutput {
    pub metrics: Metrics,
    pub authority: AuthorityCounts,
    pub census: ColorCensus,
    /// Census at each reporting-interval boundary, and at the end.
    pub colors_over_time: Vec<(Minute, ColorCensus)>,
    pub events: u64,
    pub agent_heap_bytes: u64,
    pub still_queued: u64,
    /// Clients' retries after "system busy".
    pub retries: RetryTotals,
    /// What each `[[surge]]` injected.
    pub surges: Vec<SurgeTotals>,
    /// The feed faults and the scans during each `[[fault]]`.
    pub faults: Faults,
    /// Where the tick loop's wall time went (for `performance.json` only).
    pub phases: PhaseSeconds,
    /// Each worker's time in its shards and waiting (worker order).
    pub workers: Vec<WorkerSeconds>,
    /// Payload bytes the processes sent each other.
    pub bytes_between_processes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Platform(#[from] PortError),
    #[error("starting the dataflow: {0}")]
    Start(String),
    #[error("a worker stopped: {0}")]
    Worker(String),
}

static CONNECTING: AtomicBool = AtomicBool::new(false);
static CONNECTED: AtomicBool = AtomicBool::new(false);

/// Whether this process has built what it needs and is reaching the other
/// processes of its run: how long a peer may take is counted from here,
/// not from the start (building a world of 100 M takes minutes).
pub fn connecting() -> bool {
    CONNECTING.load(Ordering::Relaxed)
}

/// Whether this process has reached every other process of its run (true
/// once its workers have started).
pub fn connected() -> bool {
    CONNECTED.load(Ordering::Relaxed)
}

fn engine_spec(
    scenario: &Scenario,
    world: Arc<World>,
    cluster: &Cluster,
    held: hosting::Provinces,
) -> Arc<EngineSpec> {
    Arc::new(EngineSpec {
        world,
        behaviour: scenario.behaviour.clone(),
        start: scenario.start,
        tick_minutes: scenario.tick_minutes,
        interval_minutes: scenario.interval_minutes(),
        ticks: scenario.ticks(),
        placement: cluster.placement(scenario.shards),
        prepared: dataflow::Prepared::new(scenario.shards),
        held: Mutex::new(held),
        fingerprint: if cluster.processes > 1 {
            fingerprint::of(scenario)
        } else {
            0
        },
    })
}

/// Starts this process's workers on threads of their own; worker 0 (in
/// process 0) talks to the barrier through `line`.
fn start_workers(
    spec: Arc<EngineSpec>,
    cluster: &Cluster,
    line: BarrierLine,
    host: Option<hosting::HostClient>,
    abort: Arc<AtomicBool>,
) -> Result<timely::communication::WorkerGuards<()>, EngineError> {
    let host = Mutex::new(host);
    CONNECTING.store(true, Ordering::Relaxed);
    let (builders, others) = cluster.allocators().map_err(EngineError::Start)?;
    let guards =
        timely::execute::execute_from(builders, others, Cluster::worker_config(), move |worker| {
            let port = (worker.index() == 0)
                .then(|| line.lock().unwrap_or_else(|e| e.into_inner()).take())
                .flatten()
                .map(Line);
            let host = (worker.index() == 0)
                .then(|| dataflow::lock(&host).take())
                .flatten();
            dataflow::run_worker(worker, &spec, port, host, &abort, Idle::Park)
        })
        .map_err(EngineError::Start)?;
    CONNECTED.store(true, Ordering::Relaxed);
    Ok(guards)
}

/// A process other than 0 of a cluster: hosts its share of the shards,
/// and the provinces `held` gives the platforms of (`hosting.rs`; none
/// when the run does not spread them), and returns when the run is over.
pub fn follow(
    scenario: &Scenario,
    world: Arc<World>,
    cluster: &Cluster,
    held: hosting::Provinces,
) -> Result<(), EngineError> {
    let line: BarrierLine = Arc::new(Mutex::new(None));
    let spec = engine_spec(scenario, world, cluster, held);
    join(start_workers(
        spec,
        cluster,
        line,
        None,
        Arc::new(AtomicBool::new(false)),
    )?)
}

/// Process 0's workers, started and connected to the other processes'
/// before the platform is built and the population registered: the peers,
/// whose world is ready as soon as this one's, wait for the first tick
/// connected rather than on a connect timeout.
pub enum Started {
    /// On threads of their own, building their shards meanwhile; the
    /// barrier runs on the caller's task (a platform over HTTP needs the
    /// caller's runtime).
    Threads(Threaded),
    /// Connected, to run on the threads of the run's pool with the barrier
    /// on worker 0's (`pooled.rs`).
    Pooled(pooled::Pooled),
}

pub struct Threaded {
    // Declared first, so dropped first: a run that ends before `drive`
    // closes the line, and the workers run out their ticks idle and exit
    // instead of waiting for a barrier that never comes.
    rx: tokio::sync::mpsc::Receiver<Call>,
    abort: Arc<AtomicBool>,
    guards: timely::communication::WorkerGuards<()>,
    /// The barrier's line to the provinces held by other processes, for
    /// the platform (`take_host_link`), and where the workers are left to
    /// be joined when that line is dropped.
    host_link: Option<hosting::HostLink>,
    joined_by_link: Option<hosting::Guards>,
}

impl Started {
    /// The line to the provinces held by other processes, when the run
    /// spreads them (`hosting.rs`): the in-process platform sends their
    /// work through it.
    pub fn take_host_link(&mut self) -> Option<hosting::HostLink> {
        match self {
            Started::Threads(t) => t.host_link.take(),
            Started::Pooled(_) => None,
        }
    }
}

/// Starts process 0's workers on the scenario's shards (see `Started`):
/// on `pool`'s threads when given, which the platform must then be
/// in-process, else on threads of their own. A pool of one thread is not
/// used: its lone worker would read the watchers after its shards, where
/// on a thread of its own the calling thread reads them beside it.
pub fn start(
    scenario: &Scenario,
    world: Arc<World>,
    cluster: &Cluster,
    pool: Option<Arc<rayon::ThreadPool>>,
) -> Result<Started, EngineError> {
    // Over several processes with the in-process platform, the provinces
    // are spread over them (`hosting.rs`); worker 0 then passes the
    // barrier's work to them, from a thread of its own.
    let holders = (cluster.processes > 1 && pool.is_some())
        .then(|| hosting::plan_for(scenario, &world, cluster.processes));
    if let Some(pool) = pool.filter(|pool| pool.current_num_threads() > 1 && holders.is_none()) {
        CONNECTING.store(true, Ordering::Relaxed);
        let (builders, others) = cluster.allocators().map_err(EngineError::Start)?;
        CONNECTED.store(true, Ordering::Relaxed);
        if builders.len() != pool.current_num_threads() {
            return Err(EngineError::Start(format!(
                "{} workers for a pool of {} threads",
                builders.len(),
                pool.current_num_threads()
            )));
        }
        let spec = engine_spec(scenario, world, cluster, Vec::new());
        let preparing = prepare_beside(spec.clone(), cluster.process);
        return Ok(Started::Pooled(pooled::Pooled {
            builders: builders.into_iter().map(|b| Mutex::new(Some(b))).collect(),
            others,
            spec,
            config: Cluster::worker_config(),
            pool,
            preparing,
        }));
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Call>(1);
    let line: BarrierLine = Arc::new(Mutex::new(Some(tx)));
    let abort = Arc::new(AtomicBool::new(false));
    let (host_link, client) = match holders {
        Some(holders) => {
            let (link, client) = hosting::link(holders);
            (Some(link), Some(client))
        }
        None => (None, None),
    };
    let joined_by_link = host_link.as_ref().map(|l| l.guards.clone());
    let spec = engine_spec(scenario, world, cluster, Vec::new());
    let guards = start_workers(spec, cluster, line, client, abort.clone())?;
    Ok(Started::Threads(Threaded {
        rx,
        abort,
        guards,
        host_link,
        joined_by_link,
    }))
}

/// Builds and starts this process's shards on a thread of the lowest
/// priority while the population registers, whose rounds leave the pool's
/// threads idle between them; the workers, once they run, take what is
/// ready and build the rest. At that priority it takes only idle time.
fn prepare_beside(spec: Arc<EngineSpec>, process: usize) -> Option<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("prepare shards".into())
        .spawn(move || {
            // Per thread on Linux; where it fails the thread competes as an
            // equal, which costs time, not results.
            let _ = rustix::process::setpriority_process(None, 19);
            spec.prepared.prepare(&spec, process);
        })
        .ok()
}

/// Runs the scenario's ticks from process 0: its share of the shards on
/// its workers (`start`), and the barrier, which owns `platform`, `oracle`
/// and `observer`: on worker 0's thread when the workers are on the pool
/// (`pooled::drive`), else on the calling task. `registered` (from
/// `registration::register_population`) is the shards' first delivery.
#[allow(clippy::too_many_arguments)]
pub async fn drive<P: Platform + Send>(
    scenario: &Scenario,
    world: Arc<World>,
    workers: Started,
    registered: Deliveries,
    platform: &mut P,
    oracle: Option<Checker<'_>>,
    progress: &mut (dyn FnMut(&TickProgress) + Send),
    observer: &mut dyn ExchangeObserver,
    pool: Option<Arc<rayon::ThreadPool>>,
) -> Result<EngineOutput, EngineError> {
    let Threaded {
        mut rx,
        abort,
        guards,
        host_link: _,
        joined_by_link,
    } = match workers {
        Started::Threads(threads) => threads,
        Started::Pooled(pooled) if platform.in_process() => {
            return pooled::drive(
                scenario, world, pooled, registered, platform, oracle, progress, observer,
            )
            .await
        }
        Started::Pooled(_) => {
            return Err(EngineError::Start(
                "workers on the pool need an in-process platform".to_string(),
            ))
        }
    };
    let started = Instant::now();
    let mut barrier = Barrier::new(scenario, world, platform, oracle, observer, progress, pool);
    barrier.registered(&registered);
    let shards = scenario.shards as usize;
    let mut registered = Some(registered);
    // How long worker 0's calls waited for the barrier to take them: the
    // watchers' share of the tick loop's path.
    let mut waited = 0.0;
    let served: Result<(Vec<ShardReport>, Vec<WorkerSeconds>), EngineError> = async {
        while let Some(call) = rx.recv().await {
            match call {
                Call::Step {
                    close,
                    open,
                    reply,
                    asked,
                    waker,
                } => {
                    // The first call waited for registration: setup's time.
                    if close.is_some() {
                        waited += asked.elapsed().as_secs_f64();
                    }
                    // Empty when nobody registered before the clock.
                    let mut out: Deliveries = registered
                        .take()
                        .filter(|r| r.len() == shards)
                        .unwrap_or_else(|| vec![Vec::new(); shards]);
                    let step = async {
                        if let Some((tick, batches)) = close {
                            barrier.close(tick, batches, &mut out).await?;
                        }
                        if let Some(tick) = open {
                            barrier.open(tick, &mut out).await?;
                        }
                        Ok::<_, EngineError>(())
                    }
                    .await;
                    let failed = step.is_err();
                    let _ = reply.send((!failed).then_some(out));
                    waker.unpark();
                    step?;
                    // Beside the shards' next tick.
                    barrier.watch_pending();
                }
                Call::Finish { reports, workers } => return Ok((reports, workers)),
            }
        }
        Err(EngineError::Worker(
            "worker 0 ended before the run did".to_string(),
        ))
    }
    .await;
    if served.is_err() {
        abort.store(true, Ordering::Relaxed);
    }
    drop(rx);
    // With provinces held elsewhere, worker 0 passes on the platform's
    // calls until the platform is dropped (the census at the end, the
    // oracle's audit), and the link joins the workers then.
    let joined = match joined_by_link {
        Some(slot) => {
            *dataflow::lock(&slot) = Some(guards);
            Ok(())
        }
        None => join(guards),
    };
    let (reports, workers) = served?;
    joined?;
    let loop_seconds = started.elapsed().as_secs_f64();
    let out = barrier.finish().await?;
    Ok(output(out, reports, workers, loop_seconds, waited))
}

/// The run's output from what the barrier and the workers left; `waited`
/// is how long the tick loop's path waited for the watchers.
fn output(
    out: barrier::BarrierOutput,
    reports: Vec<ShardReport>,
    workers: Vec<WorkerSeconds>,
    loop_seconds: f64,
    waited: f64,
) -> EngineOutput {
    let mut metrics = Metrics::default();
    let (mut agent_heap_bytes, mut still_queued) = (0u64, 0u64);
    for r in &reports {
        metrics.merge(&r.metrics);
        agent_heap_bytes += r.heap_bytes;
        still_queued += r.queued;
    }
    let busiest = workers.iter().map(|w| w.agents).fold(0.0, f64::max);
    let phases = PhaseSeconds {
        agents: busiest,
        platform: out.seconds.platform,
        oracle: out.seconds.oracle,
        oracle_waited: waited,
        driver: (loop_seconds - busiest - out.seconds.platform - waited).max(0.0),
    };
    EngineOutput {
        metrics,
        authority: out.authority,
        census: out.census,
        colors_over_time: out.colors_over_time,
        events: out.events,
        agent_heap_bytes,
        still_queued,
        retries: out.retries,
        surges: out.surges,
        faults: out.faults,
        phases,
        bytes_between_processes: workers.iter().map(|w| w.process_bytes_sent).sum(),
        workers,
    }
}

/// Waits for this process's workers; a worker that panicked is an error
/// naming it.
fn join(guards: timely::communication::WorkerGuards<()>) -> Result<(), EngineError> {
    let failed: Vec<String> = guards
        .join()
        .into_iter()
        .enumerate()
        .filter_map(|(i, r)| r.err().map(|e| format!("worker thread {i}: {e}")))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(EngineError::Worker(failed.join("; ")))
    }
}
