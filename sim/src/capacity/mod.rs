//! The platform's capacity in virtual time: a decorator over any `Platform`
//! adapter that queues each tick's requests at the provincial platforms and
//! the hub, answers "system busy" when the predicted wait exceeds the
//! admission limit (DOMAIN.md, Guangdong), and forwards only admitted
//! requests to the platform it wraps.
//!
//! Each platform is a FIFO M/G/c queue (`queue::Station`) with LogNormal
//! service times per operation class. A tick's requests arrive at seeded
//! uniform offsets within the tick (a Poisson process given their count),
//! are queued in arrival order, and leave the servers busy into later ticks
//! when they cannot keep up. A verification of a code or ID card from
//! another province also queues at the hub once its province has served
//! it. Latency = waits + services; replies still reach agents at the next
//! tick, whatever the latency.
//!
//! The `degrade` strategy decides what happens above capacity: `none`
//! queues everything and clients time out (their requests still cost
//! server time); `trip` refuses above the admission limit; `ratelimit`
//! also caps admissions at a share of capacity that drops on a trip and
//! reopens gradually. The client-side strategies (`cache`, `idcard`) live
//! in `crate::degrade`.

pub mod config;
pub mod queue;
pub mod retry;
pub mod search;
pub mod stats;

use crate::rng::agent_rng;
use config::{CapacityConfig, Degrade, PlatformSpec};
use hcsim_adapters::{route, ColorCensus, Platform, PortError, Route};
use hcsim_platform::api::{Credential, Issuer, Op, Request, Response, OPS};
use hcsim_platform::identity::DocNumber;
use hcsim_platform::{Minute, ProvinceId, PROVINCE_COUNT};
use hcsim_reports::summary::{IntervalLoad, OpLatency, PlatformLoad};
use queue::{Admission, Station};
use rand::RngExt;
use rand_distr::{Distribution, LogNormal};
use stats::{rate, National, PlatformStats, HUB, PLATFORMS};
use std::collections::BTreeMap;
use std::sync::Arc;

const US_PER_MINUTE: u64 = 60_000_000;
/// The capacity model's own random stream (arrival offsets, service times).
const CAPACITY_AGENT: u64 = u64::MAX - 3;
const CAPACITY_PURPOSE: u64 = 0x4341_5041; // "CAPA"

/// Where the run's virtual time starts and how it is cut.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub seed: u64,
    pub start: Minute,
    pub tick_minutes: u32,
    pub interval_minutes: u32,
    pub duration_minutes: u32,
}

impl Timing {
    pub fn intervals(&self) -> usize {
        self.duration_minutes.div_ceil(self.interval_minutes.max(1)) as usize
    }
}

/// Service-time distributions of one platform, by operation (OPS order).
struct Services([Option<LogNormal<f64>>; OPS.len()], [f64; OPS.len()]);

impl Services {
    fn new(spec: &PlatformSpec, cv: f64) -> Services {
        let means = OPS.map(|op| spec.service_ms.for_op(op) * 1000.0);
        Services(means.map(|m| LogNormal::from_mean_cv(m, cv).ok()), means)
    }

    fn draw(&self, op: Op, rng: &mut rand_pcg::Pcg64Mcg) -> u64 {
        let k = stats::op_index(op);
        let us = match &self.0[k] {
            Some(d) => d.sample(rng),
            None => self.1[k],
        };
        (us.round() as u64).max(1)
    }
}

/// Random streams of the capacity model: one per province lane, the hub's,
/// and one for broadcast feeds.
const DRAW_STREAMS: usize = PROVINCE_COUNT + 2;

/// The stream a request draws from: that of the lane it enters first.
fn stream_of(p: Path) -> usize {
    match p {
        Path::Province(q, _) => q,
        Path::Hub => PROVINCE_COUNT,
        Path::Broadcast => PROVINCE_COUNT + 1,
    }
}

/// Which queues a request passes through.
#[derive(Copy, Clone)]
enum Path {
    /// Its province; then the hub when it needs another province's data.
    Province(usize, bool),
    Hub,
    Broadcast,
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Fate {
    Forward,
    Busy,
    /// Served, but after the client stopped waiting.
    TimedOut,
}

/// `ratelimit`: how the admitted share of a platform's capacity moves.
#[derive(Clone, Copy)]
struct Limiter {
    floor: f64,
    /// Share regained per minute after a trip.
    reopen_per_minute: f64,
}

/// One request's draws and route, made from its lane's stream before any
/// queue sees it.
#[derive(Clone, Copy)]
struct Planned {
    at: u64,
    path: Path,
    /// Service at its first platform.
    first: u64,
    /// Service at the hub after its province, for a cross-province scan.
    hub: u64,
    op: Op,
}

/// One platform: its servers, its admitted share and its figures. Within a
/// tick a province's lane depends on nothing but its own requests, so the
/// provinces are admitted in parallel; the hub's lane then takes the
/// cross-province scans they served.
struct Lane {
    station: Station,
    max_wait_ms: u32,
    /// `ratelimit`: the share of capacity admitted, and server time spent
    /// in this tick.
    share: f64,
    spent_us: u64,
    stats: PlatformStats,
}

/// What a province's lane decided in one tick. Sized on the driving
/// thread, like the lanes' histograms, so that admitting a lane on a worker
/// thread allocates nothing but its queue's own growth: memory allocated
/// there stays in that thread's allocator arena, which at national scale
/// had cost tens of MB of resident memory.
struct LaneOutcome {
    refused: Vec<(u32, Fate)>,
    /// (arrival at the hub, request, latency so far)
    to_hub: Vec<(u64, u32, u64)>,
}

impl Lane {
    fn offer(
        &mut self,
        limiter: Option<Limiter>,
        tick_start_us: u64,
        at: u64,
        service: u64,
        always: bool,
    ) -> Admission {
        self.stats.offered();
        if let (Some(_), false) = (limiter, always) {
            // Server time allowed so far in this tick: the admitted share of
            // the servers' time up to `at`, plus a burst of half the
            // admission limit, so admissions are spread over the tick
            // rather than spent by its first arrivals.
            let servers = self.station.servers() as f64;
            let elapsed = at.saturating_sub(tick_start_us) as f64;
            let burst = self.max_wait_ms as f64 * 500.0;
            let budget = (self.share * servers * (elapsed + burst)) as u64;
            if self.spent_us + service > budget {
                self.stats.refused();
                return Admission::Busy;
            }
            self.spent_us += service;
        }
        let a = self.station.offer(at, service, always);
        if let (Some(l), Admission::Busy) = (limiter, a) {
            // The queue outgrew the limit: cut admissions back to the floor.
            self.share = l.floor;
        }
        match a {
            Admission::Busy => self.stats.refused(),
            Admission::Served { queue_depth, .. } => self.stats.queue_depth(queue_depth),
        }
        a
    }

    /// Queues a province's requests of the tick, `list` in arrival order.
    fn admit(
        &mut self,
        list: &[u32],
        plan: &[Planned],
        limiter: Option<Limiter>,
        tick_start_us: u64,
        timeout_us: u64,
        out: &mut LaneOutcome,
    ) {
        for &i in list {
            let Planned {
                at,
                path,
                first,
                op,
                ..
            } = plan[i as usize];
            let feed = op == Op::Feed;
            if let Path::Broadcast = path {
                // A broadcast feed costs every province the same.
                if let Admission::Served { done_us, .. } =
                    self.offer(limiter, tick_start_us, at, first, true)
                {
                    self.stats.answered(op, done_us - at);
                }
                continue;
            }
            let cross = matches!(path, Path::Province(_, true));
            match self.offer(limiter, tick_start_us, at, first, feed) {
                Admission::Busy => {
                    self.stats.busy_reply(op);
                    out.refused.push((i, Fate::Busy));
                }
                Admission::Served { done_us, .. } if cross => {
                    out.to_hub.push((done_us, i, done_us - at));
                }
                Admission::Served { done_us, .. } => {
                    self.stats.answered(op, done_us - at);
                    if done_us - at > timeout_us {
                        self.stats.timed_out();
                        out.refused.push((i, Fate::TimedOut));
                    }
                }
            }
        }
    }
}

/// One stream's draws for a tick.
struct Drawn {
    /// In the order of the stream's requests in the batch; moved into the
    /// tick's plan once drawn.
    plans: Vec<Planned>,
    /// (arrival, request), sorted.
    arrivals: Vec<(u64, u32)>,
    /// Operations drawn, by `op_index` bit.
    ops: u32,
    /// Scans that go on to the hub.
    cross: usize,
}

/// The requests of two lists sorted by (arrival, request), in that order.
fn merge_arrivals(a: &[(u64, u32)], b: &[(u64, u32)]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.iter().peekable(), b.iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x <= y => a.next(),
            (Some(_), Some(_)) => b.next(),
            (Some(_), None) => a.next(),
            (None, _) => b.next(),
        };
        match next {
            Some(&(_, i)) => out.push(i),
            None => return out,
        }
    }
}

/// The province a resident ID card was issued in: its first two digits.
fn doc_province(d: DocNumber) -> Option<ProvinceId> {
    ProvinceId::from_admin_code((d.0 / 1_000_000_000_000_000) as u8)
}

/// A scan of a code or ID card from another province: the scanning
/// platform asks the hub for the holder's status.
fn needs_hub(req: &Request, p: ProvinceId) -> bool {
    let foreign = |c: &hcsim_platform::CodeId| c.issuer != Issuer::Province(p);
    match req {
        Request::Verify { credential, .. } => match credential {
            Credential::Code(c) | Credential::Offline { code: c, .. } => foreign(c),
            Credential::IdCard(d) => doc_province(*d).is_some_and(|q| q != p),
        },
        Request::PlaceScan { code, .. } => foreign(code),
        _ => false,
    }
}

fn path(req: &Request) -> Path {
    match route(req) {
        Route::Province(p) => Path::Province(p.index(), needs_hub(req, p)),
        Route::Hub => Path::Hub,
        Route::Broadcast => Path::Broadcast,
    }
}

pub struct Capacity<P> {
    inner: P,
    timing: Timing,
    cv: f64,
    /// Provinces in `ProvinceId` order, then the hub.
    lanes: Vec<Lane>,
    services: Vec<Services>,
    national: National,
    /// Platforms whose figures the national series adds up: the simulated
    /// provinces and the hub (all until `reporting` says otherwise), the
    /// same ones `report` lists, so the two agree.
    counted: [bool; PLATFORMS],
    timeout_us: u64,
    limiter: Option<Limiter>,
    /// Where the provinces' lanes are admitted; one after another without.
    pool: Option<Arc<rayon::ThreadPool>>,
}

/// The capacity model's figures for the summary.
pub struct CapacityReport {
    /// By operation, over the simulated provinces and the hub.
    pub latency: BTreeMap<String, OpLatency>,
    pub platforms: Vec<PlatformLoad>,
    /// All platforms together, per reporting interval.
    pub timeline: Vec<IntervalLoad>,
}

impl<P: Platform> Capacity<P> {
    /// `citizens[p]`: simulated citizens of province `p`, for sizing
    /// platforms whose server count the scenario leaves open.
    pub fn new(
        inner: P,
        config: &CapacityConfig,
        timing: Timing,
        citizens: &[u64; PROVINCE_COUNT],
    ) -> Capacity<P> {
        let mut specs: Vec<(u32, &PlatformSpec)> = ProvinceId::all()
            .map(|p| {
                (
                    config.province_servers(p, citizens[p.index()]),
                    config.spec(p),
                )
            })
            .collect();
        specs.push((config.hub_servers(citizens.iter().sum()), &config.hub));
        let admission = config.degrade.admission();
        let limiter = match config.degrade {
            Degrade::RateLimit {
                floor,
                reopen_minutes,
            } => Some(Limiter {
                floor,
                reopen_per_minute: (1.0 - floor) / reopen_minutes.max(1) as f64,
            }),
            _ => None,
        };
        Capacity {
            timeout_us: config.timeout_ms as u64 * 1000,
            limiter,
            inner,
            timing,
            cv: config.service_cv,
            lanes: specs
                .iter()
                .map(|(n, s)| {
                    let limit = if admission {
                        s.max_wait_ms as u64 * 1000
                    } else {
                        u64::MAX
                    };
                    Lane {
                        station: Station::new(*n, limit),
                        max_wait_ms: s.max_wait_ms,
                        share: 1.0,
                        spent_us: 0,
                        stats: PlatformStats::default(),
                    }
                })
                .collect(),
            services: specs
                .iter()
                .map(|(_, s)| Services::new(s, config.service_cv))
                .collect(),
            national: National::default(),
            counted: [true; PLATFORMS],
            pool: None,
        }
    }

    /// Admits the provinces' lanes on `pool`'s threads. The figures do not
    /// depend on it: each lane sees its requests in the same order.
    pub fn with_pool(mut self, pool: Arc<rayon::ThreadPool>) -> Capacity<P> {
        self.pool = Some(pool);
        self
    }

    /// Counts only `provinces` and the hub in the national series: a
    /// broadcast feed also reaches the platforms of provinces the scenario
    /// does not simulate, which the report does not list.
    pub fn reporting(mut self, provinces: &[ProvinceId]) -> Capacity<P> {
        self.counted = [false; PLATFORMS];
        for p in provinces {
            self.counted[p.index()] = true;
        }
        self.counted[HUB] = true;
        self
    }

    pub fn inner(&mut self) -> &mut P {
        &mut self.inner
    }

    /// Server counts in force: provinces in `ProvinceId` order, then the hub.
    pub fn servers(&self) -> Vec<u32> {
        self.lanes.iter().map(|l| l.station.servers()).collect()
    }

    fn enter_interval(&mut self, k: usize) {
        // The answers each lane held back since the last interval go into
        // its histograms here; lanes do it beside each other rather than
        // one after another inside the national step (at a boundary that
        // is nearly every answer of the interval, on the tick's path).
        if let (Some(pool), true) = (&self.pool, self.national.closes_before(k)) {
            use rayon::prelude::*;
            let lanes = &mut self.lanes;
            pool.install(|| lanes.par_iter_mut().for_each(|l| l.stats.flush()));
        }
        let counted = self.counted;
        let mut platforms: Vec<(bool, &mut PlatformStats)> = self
            .lanes
            .iter_mut()
            .enumerate()
            .map(|(k, l)| (counted[k], &mut l.stats))
            .collect();
        self.national.enter_interval(k, &mut platforms);
    }

    /// Queues one tick's requests; returns which ones are answered busy.
    fn admit(&mut self, now: Minute, requests: &[Request]) -> Vec<Fate> {
        let t = self.timing;
        let interval = now.since(t.start) / t.interval_minutes.max(1);
        self.enter_interval(interval as usize);
        let tick_us = t.tick_minutes as u64 * US_PER_MINUTE;
        let tick_start = now.0 as u64 * US_PER_MINUTE;
        let limiter = self.limiter;
        if let Some(l) = limiter {
            let step = l.reopen_per_minute * t.tick_minutes as f64;
            for lane in &mut self.lanes {
                lane.share = (lane.share + step).min(1.0);
                lane.spent_us = 0;
            }
        }

        // Each request draws from the stream of the lane it enters first,
        // keyed by (seed, lane, tick), in the batch's canonical order: a
        // lane's draws depend on its own requests only, never on other
        // lanes' traffic or settings, and the lanes draw in parallel.
        let n = requests.len();
        let mut by_lane: Vec<Vec<u32>> = vec![Vec::new(); DRAW_STREAMS];
        let paths: Vec<Path> = match &self.pool {
            Some(pool) => pool.install(|| {
                use rayon::prelude::*;
                requests.par_iter().map(path).collect()
            }),
            None => requests.iter().map(path).collect(),
        };
        for (i, p) in paths.iter().enumerate() {
            by_lane[stream_of(*p)].push(i as u32);
        }
        let services = &self.services;
        let (seed, tick) = (t.seed, now.0 as u64);
        let paths = &paths;
        // Each stream's draws; its requests in arrival order ((time, index)
        // pairs are unique, so an unstable sort is deterministic, and each
        // stream sorts beside the others); the operations it will record, by
        // `op_index` bit, and its scans that go on to the hub.
        let draw = |(stream, list): (usize, &Vec<u32>)| -> Drawn {
            let mut rng = agent_rng(
                seed,
                CAPACITY_AGENT,
                tick,
                CAPACITY_PURPOSE ^ ((stream as u64 + 1) << 32),
            );
            let plans: Vec<Planned> = list
                .iter()
                .map(|&i| {
                    let req = &requests[i as usize];
                    let path = paths[i as usize];
                    let at = tick_start + rng.random_range(0..tick_us);
                    let first = match path {
                        Path::Province(q, _) => services[q].draw(req.op(), &mut rng),
                        Path::Hub => services[HUB].draw(req.op(), &mut rng),
                        // A broadcast feed costs every province the same.
                        Path::Broadcast => services[0].draw(Op::Feed, &mut rng),
                    };
                    let hub = match path {
                        Path::Province(_, true) => services[HUB].draw(Op::HubQuery, &mut rng),
                        _ => 0,
                    };
                    Planned {
                        at,
                        path,
                        first,
                        hub,
                        op: req.op(),
                    }
                })
                .collect();
            let mut arrivals: Vec<(u64, u32)> =
                plans.iter().zip(list).map(|(e, &i)| (e.at, i)).collect();
            arrivals.sort_unstable();
            let ops = plans
                .iter()
                .fold(0, |ops, e| ops | 1 << stats::op_index(e.op));
            let cross = plans
                .iter()
                .filter(|e| matches!(e.path, Path::Province(_, true)))
                .count();
            Drawn {
                plans,
                arrivals,
                ops,
                cross,
            }
        };
        let mut drawn: Vec<Drawn> = match &self.pool {
            Some(pool) => pool.install(|| {
                use rayon::prelude::*;
                by_lane.par_iter().enumerate().map(draw).collect()
            }),
            None => by_lane.iter().enumerate().map(draw).collect(),
        };
        let mut plan = vec![
            Planned {
                at: 0,
                path: Path::Hub,
                first: 0,
                hub: 0,
                op: Op::Feed,
            };
            n
        ];
        for (list, d) in by_lane.iter().zip(&mut drawn) {
            for (&i, p) in list.iter().zip(std::mem::take(&mut d.plans)) {
                plan[i as usize] = p;
            }
        }
        // Every province receives the broadcasts.
        let broadcast = &drawn[stream_of(Path::Broadcast)];
        for (lane, own) in self.lanes.iter_mut().zip(&drawn[..PROVINCE_COUNT]) {
            lane.stats.prepare(own.ops | broadcast.ops);
        }
        // (arrival at the hub, request, latency so far)
        let mut at_hub: Vec<(u64, u32, u64)> = drawn[stream_of(Path::Hub)]
            .arrivals
            .iter()
            .map(|&(at, i)| (at, i, 0))
            .collect();
        let timeout_us = self.timeout_us;
        let plan = &plan;
        // Sized here rather than on the workers, whose allocator arenas
        // would keep what they allocate.
        let mut outcomes: Vec<LaneOutcome> = drawn[..PROVINCE_COUNT]
            .iter()
            .map(|own| LaneOutcome {
                refused: Vec::with_capacity(own.arrivals.len() + broadcast.arrivals.len()),
                to_hub: Vec::with_capacity(own.cross),
            })
            .collect();
        // A province's arrivals in arrival order: its own stream's merged
        // with the broadcasts.
        let work = |((lane, own), out): ((&mut Lane, &Drawn), &mut LaneOutcome)| {
            let list = merge_arrivals(&own.arrivals, &broadcast.arrivals);
            lane.admit(&list, plan, limiter, tick_start, timeout_us, out)
        };
        let provinces = &mut self.lanes[..PROVINCE_COUNT];
        let own = &drawn[..PROVINCE_COUNT];
        match &self.pool {
            Some(pool) => pool.install(|| {
                use rayon::prelude::*;
                provinces
                    .par_iter_mut()
                    .zip(own)
                    .zip(&mut outcomes)
                    .for_each(work)
            }),
            None => provinces
                .iter_mut()
                .zip(own)
                .zip(&mut outcomes)
                .for_each(work),
        }

        let mut fate = vec![Fate::Forward; n];
        for o in outcomes {
            for (i, f) in o.refused {
                fate[i as usize] = f;
            }
            at_hub.extend(o.to_hub);
        }
        at_hub.sort_unstable_by_key(|&(at, i, _)| (at, i));
        for (at, i, before) in at_hub {
            let Planned {
                path,
                first,
                hub,
                op,
                ..
            } = plan[i as usize];
            let (hub_op, service, home) = match path {
                Path::Province(q, _) => (Op::HubQuery, hub, Some(q)),
                _ => (op, first, None),
            };
            match self.lanes[HUB].offer(limiter, tick_start, at, service, op == Op::Feed) {
                Admission::Busy => {
                    self.lanes[HUB].stats.busy_reply(hub_op);
                    if let Some(q) = home {
                        self.lanes[q].stats.busy_reply(op);
                    }
                    fate[i as usize] = Fate::Busy;
                }
                Admission::Served { done_us, .. } => {
                    self.lanes[HUB].stats.answered(hub_op, done_us - at);
                    if let Some(q) = home {
                        self.lanes[q].stats.answered(op, before + done_us - at);
                    }
                    if before + done_us - at > self.timeout_us {
                        self.lanes[home.unwrap_or(HUB)].stats.timed_out();
                        fate[i as usize] = Fate::TimedOut;
                    }
                }
            }
        }
        fate
    }

    /// Closes the run's figures. `provinces`: the simulated ones.
    pub fn report(&mut self, provinces: &[ProvinceId]) -> CapacityReport {
        let t = self.timing;
        let intervals = t.intervals();
        self.enter_interval(intervals);
        for lane in &mut self.lanes {
            lane.stats.flush();
        }
        let run_us = t.duration_minutes as u64 * US_PER_MINUTE;
        let mut shown: Vec<usize> = provinces.iter().map(|p| p.index()).collect();
        shown.push(HUB);
        let platforms = shown
            .iter()
            .map(|&k| {
                let lane = &self.lanes[k];
                let (s, stats) = (&lane.station, &lane.stats);
                let mut timeline = stats.series();
                timeline.truncate(intervals);
                PlatformLoad {
                    platform: if k == HUB {
                        "hub".to_string()
                    } else {
                        ProvinceId(k as u8).key().to_string()
                    },
                    servers: s.servers(),
                    max_wait_ms: lane.max_wait_ms,
                    requests: stats.offered,
                    busy: stats.refused,
                    timeouts: stats.timeouts,
                    busy_rate: rate(stats.refused, stats.offered),
                    utilization: rate(s.busy_us, s.servers() as u64 * run_us),
                    queue_depth_max: stats.depth_max,
                    latency: stats::by_op(&[stats]),
                    timeline,
                }
            })
            .collect();
        let mut timeline = self.national.series();
        timeline.truncate(intervals);
        let shown: Vec<&PlatformStats> = shown.iter().map(|&k| &self.lanes[k].stats).collect();
        CapacityReport {
            latency: stats::by_op(&shown),
            platforms,
            timeline,
        }
    }

    /// The LogNormal spread in force (for echoing the configuration).
    pub fn service_cv(&self) -> f64 {
        self.cv
    }
}

impl<P: Platform> Platform for Capacity<P> {
    async fn exchange(
        &mut self,
        now: Minute,
        requests: Vec<Request>,
    ) -> Result<Vec<Response>, PortError> {
        let fate = self.admit(now, &requests);
        // Usually every request is admitted: then nothing is filtered or
        // re-laid, which on the driving thread is the bulk of the tick's copying.
        let all = fate.iter().all(|f| *f == Fate::Forward);
        let admitted: Vec<Request> = if all {
            requests
        } else {
            requests
                .into_iter()
                .zip(&fate)
                .filter(|(_, f)| **f == Fate::Forward)
                .map(|(r, _)| r)
                .collect()
        };
        let expected = admitted.len();
        let answers = if admitted.is_empty() {
            Vec::new()
        } else {
            self.inner.exchange(now, admitted).await?
        };
        if answers.len() != expected {
            return Err(PortError::Unavailable(format!(
                "the platform answered {} of {expected} requests",
                answers.len()
            )));
        }
        if all {
            return Ok(answers);
        }
        let mut answers = answers.into_iter();
        Ok(fate
            .into_iter()
            .map(|f| match f {
                // A client that stopped waiting saw no answer: to it, and
                // to its retry logic, a time-out is as good as "busy".
                Fate::Busy | Fate::TimedOut => Response::Busy,
                Fate::Forward => answers.next().unwrap_or(Response::Busy),
            })
            .collect())
    }

    async fn census(&mut self, now: Minute) -> Result<ColorCensus, PortError> {
        self.inner.census(now).await
    }

    fn in_process(&self) -> bool {
        self.inner.in_process()
    }
}

#[cfg(test)]
mod tests;
