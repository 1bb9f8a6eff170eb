//! `hcsim load`: the real platform code in real time, in-process or over
//! HTTP, under an open-model arrival process.
//!
//! - `arrivals`: when each request is due (rate × the scenario's surge
//!   shape, time-compressed);
//! - `surge`: the `[[surge]]` entries of a scenario file;
//! - `workload`: the registered population and what each arrival asks;
//! - `workers`: the CO-corrected recording, and the virtual users of an
//!   in-process target;
//! - `pipelined`: the HTTP generator, an event loop per thread over
//!   pipelined keep-alive connections;
//! - `http1`: requests written and answers read on its wire;
//! - `timer`: its wake-ups to the microsecond;
//! - `report`: `load.json` and the terminal report.
//!
//! Unlike `hcsim run`, this mode is about wall-clock behaviour, so it reads
//! the wall clock by design; nothing it measures reaches `summary.json`.

pub mod arrivals;
pub mod http1;
pub mod pipelined;
pub mod report;
pub mod surge;
pub mod timer;
pub mod workers;
pub mod workload;

use crate::cpu;
use crate::scenario::Scenario;
use crate::world::World;
use anyhow::Context as _;
use arrivals::{Clock, Schedule};
use hcsim_adapters::http::{parse_target, HttpClient};
use hcsim_adapters::Platform as _;
use hcsim_platform::api::{Request, Response};
use hcsim_platform::Minute;
use report::{GeneratorCost, LoadReport, Requested, Setup};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use workers::{drive, Driven, InProcSession, Run, Tick};
use workload::{Mix, Workload};

/// Where the load goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A `Direct` platform in this process.
    InProc,
    /// A running `hcsim serve` on this machine.
    Http(SocketAddr),
}

impl Target {
    pub fn parse(s: &str) -> Result<Target, String> {
        if s == "inproc" {
            Ok(Target::InProc)
        } else {
            parse_target(s).map(Target::Http)
        }
    }
    fn describe(&self) -> String {
        match self {
            Target::InProc => "inproc".into(),
            Target::Http(a) => format!("http://{a}"),
        }
    }
}

/// A progress callback.
pub type OnTick = Box<dyn FnMut(&Tick) + Send>;

pub struct LoadOptions {
    pub scenario: PathBuf,
    pub target: Target,
    /// Requests per second outside surges.
    pub rate: f64,
    pub duration: Duration,
    pub connections: usize,
    /// Most requests in flight on one HTTP connection (pipelined).
    pub pipeline: usize,
    /// Virtual seconds per real second; default: the whole scenario in
    /// `duration`.
    pub compress: Option<f64>,
    /// Virtual start; default: the scenario's start.
    pub from: Option<Minute>,
    /// Citizens registered before the run (a sample of the scenario's).
    pub people: usize,
    pub threads: usize,
    pub timeout: Duration,
    pub mix: Mix,
    pub rules_dir: PathBuf,
    /// The share of the requested rate the target must answer for the
    /// run to pass (`report::MIN_RATE_SHARE` by default).
    pub min_rate_share: f64,
    /// Called with every second of progress.
    pub on_tick: Option<OnTick>,
}

/// Registrations go in batches of this many: large enough to be quick,
/// small enough for one HTTP body.
const REGISTRATION_BATCH: usize = 10_000;

pub fn run(mut opts: LoadOptions) -> anyhow::Result<LoadReport> {
    anyhow::ensure!(
        opts.rate.is_finite() && opts.rate > 0.0,
        "--rate must be a positive number of requests per second"
    );
    anyhow::ensure!(!opts.duration.is_zero(), "--duration must be positive");
    anyhow::ensure!(opts.connections >= 1, "--connections must be at least 1");
    anyhow::ensure!(
        (0.0..=1.0).contains(&opts.min_rate_share),
        "--min-rate-share must be within 0..=1"
    );
    let scenario = Scenario::load(&opts.scenario)?;
    let (shape, surges_without_factor) = surge::read(&opts.scenario).map_err(anyhow::Error::msg)?;
    let compress = opts
        .compress
        .unwrap_or(scenario.duration_minutes as f64 * 60.0 / opts.duration.as_secs_f64());
    anyhow::ensure!(
        compress.is_finite() && compress > 0.0,
        "--compress must be a positive number"
    );
    let clock = Clock {
        start: opts.from.unwrap_or(scenario.start),
        compress,
    };
    let schedule = Schedule::new(opts.rate, opts.duration, &shape, clock);
    anyhow::ensure!(
        !schedule.is_empty(),
        "--rate × --duration gives no request to send"
    );

    let threads = opts.threads.max(1);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if let Target::Http(addr) = opts.target {
        // The target is on this machine (loopback only): generator threads
        // beyond its cores take CPU from the target they measure.
        anyhow::ensure!(
            threads <= cores,
            "--threads {threads} is more than this machine's {cores} cores, which the target at \
             {addr} shares: the generator would take the CPU the target needs"
        );
        anyhow::ensure!(
            (1..=pipelined::PIPELINE_MAX).contains(&opts.pipeline),
            "--pipeline must be within 1..={}",
            pipelined::PIPELINE_MAX
        );
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("starting worker threads")?;
    let world = Arc::new(pool.install(|| World::build(&scenario)));
    let ids = workload::sample(&world, opts.people);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .context("starting the async runtime")?;

    let started = Instant::now();
    let (issued, direct) = runtime.block_on(async {
        let applications = workload::applications(&world, &ids);
        let at = workload::registration_time(clock.start);
        let direct = match opts.target {
            Target::InProc => Some(Arc::new(
                crate::platform_setup::setup(Some(&scenario), &opts.rules_dir)?.direct(),
            )),
            Target::Http(_) => None,
        };
        let issued = register(&opts.target, direct.as_deref(), at, applications).await?;
        anyhow::Ok((issued, direct))
    })?;
    let registration_seconds = started.elapsed().as_secs_f64();
    let workload = Arc::new(Workload::new(
        scenario.seed,
        opts.mix,
        world.clone(),
        &ids,
        &issued,
    ));
    anyhow::ensure!(
        workload.registered() > 0,
        "no citizen was registered: the target refused every application ({:?})",
        issued.first()
    );

    let requested = Requested {
        requests: schedule.len(),
        rate_per_second: schedule.mean_rate(),
        peak_rate_per_second: schedule.peak_rate(),
    };
    let duration_seconds = schedule.duration().as_secs_f64();
    let virtual_end = clock.now(schedule.duration()).to_string();
    let shards = opts.connections.min(16);
    let population = workload.registered();
    let run = Arc::new(Run::new(schedule, clock, workload, shards));
    let mut on_tick = opts.on_tick.take();
    let tick = |t: &Tick| {
        if let Some(f) = on_tick.as_mut() {
            f(t)
        }
    };
    let cpu_before = cpu::process();
    let driven: Driven = match (&opts.target, direct) {
        (Target::InProc, Some(d)) => {
            let sessions = (0..opts.connections)
                .map(|_| InProcSession(d.clone()))
                .collect();
            runtime.block_on(drive(run, sessions, opts.timeout, tick))
        }
        (Target::Http(addr), _) => {
            let plan = pipelined::Plan {
                addr: *addr,
                connections: opts.connections,
                threads,
                pipeline: opts.pipeline,
                timeout: opts.timeout,
            };
            pipelined::drive(&run, &plan, tick).context("running the load generator")?
        }
        (Target::InProc, None) => anyhow::bail!("in-process platform missing"),
    };
    let cost = GeneratorCost::new(
        cpu::process().saturating_sub(cpu_before),
        driven.completed,
        driven.started.elapsed().as_secs_f64(),
        cores,
        opts.target == Target::InProc,
    );
    let setup = Setup {
        scenario: scenario.path.display().to_string(),
        target: opts.target.describe(),
        connections: opts.connections,
        threads,
        pipeline: match opts.target {
            Target::InProc => 1,
            Target::Http(_) => opts.pipeline,
        },
        compress,
        virtual_start: clock.start.to_string(),
        virtual_end,
        surges: shape.surges.clone(),
        surges_without_factor,
        mix: opts.mix,
        population,
        registration_seconds,
    };
    Ok(report::build(
        setup,
        &driven,
        requested,
        duration_seconds,
        opts.min_rate_share,
        cost,
    ))
}

/// Registers everyone before the clock starts; not part of the measurement.
async fn register(
    target: &Target,
    direct: Option<&hcsim_adapters::Direct>,
    at: Minute,
    applications: Vec<Request>,
) -> anyhow::Result<Vec<Response>> {
    let mut issued = Vec::with_capacity(applications.len());
    match (target, direct) {
        (Target::InProc, Some(d)) => {
            for chunk in applications.chunks(REGISTRATION_BATCH) {
                issued.extend(d.handle_batch(at, chunk));
            }
        }
        (Target::Http(addr), _) => {
            let mut client = HttpClient::new(&format!("http://{addr}"))
                .with_context(|| format!("reaching {addr}"))?;
            for chunk in applications.chunks(REGISTRATION_BATCH) {
                let answers = client
                    .exchange(at, chunk.to_vec())
                    .await
                    .with_context(|| format!("registering the population at http://{addr}"))?;
                issued.extend(answers);
            }
        }
        (Target::InProc, None) => anyhow::bail!("in-process platform missing"),
    }
    Ok(issued)
}
