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
use stats::{rate, Stats, HUB};
use std::collections::BTreeMap;

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

/// `ratelimit`: the share of a platform's capacity admitted per tick.
struct Limiter {
    floor: f64,
    /// Share regained per minute after a trip.
    reopen_per_minute: f64,
    share: Vec<f64>,
    spent_us: Vec<u64>,
    tick_start_us: u64,
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
    stations: Vec<Station>,
    services: Vec<Services>,
    max_wait_ms: Vec<u32>,
    stats: Stats,
    timeout_us: u64,
    limiter: Option<Limiter>,
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
                share: vec![1.0; specs.len()],
                spent_us: vec![0; specs.len()],
                tick_start_us: 0,
            }),
            _ => None,
        };
        Capacity {
            timeout_us: config.timeout_ms as u64 * 1000,
            limiter,
            inner,
            timing,
            cv: config.service_cv,
            stations: specs
                .iter()
                .map(|(n, s)| {
                    let limit = if admission {
                        s.max_wait_ms as u64 * 1000
                    } else {
                        u64::MAX
                    };
                    Station::new(*n, limit)
                })
                .collect(),
            services: specs
                .iter()
                .map(|(_, s)| Services::new(s, config.service_cv))
                .collect(),
            max_wait_ms: specs.iter().map(|(_, s)| s.max_wait_ms).collect(),
            stats: Stats::default(),
        }
    }

    pub fn inner(&mut self) -> &mut P {
        &mut self.inner
    }

    /// Server counts in force: provinces in `ProvinceId` order, then the hub.
    pub fn servers(&self) -> Vec<u32> {
        self.stations.iter().map(Station::servers).collect()
    }

    /// Queues one tick's requests; returns which ones are answered busy.
    fn admit(&mut self, now: Minute, requests: &[Request]) -> Vec<Fate> {
        let t = self.timing;
        let interval = now.since(t.start) / t.interval_minutes.max(1);
        self.stats.enter_interval(interval as usize);
        let tick_us = t.tick_minutes as u64 * US_PER_MINUTE;
        let tick_start = now.0 as u64 * US_PER_MINUTE;
        let mut rng = agent_rng(t.seed, CAPACITY_AGENT, now.0 as u64, CAPACITY_PURPOSE);
        if let Some(l) = &mut self.limiter {
            l.tick_start_us = tick_start;
            let step = l.reopen_per_minute * t.tick_minutes as f64;
            for (share, spent) in l.share.iter_mut().zip(&mut l.spent_us) {
                *share = (*share + step).min(1.0);
                *spent = 0;
            }
        }

        // Every draw happens in request order, whatever is admitted, so a
        // request's timing does not depend on other platforms' settings.
        let n = requests.len();
        let mut plan = Vec::with_capacity(n);
        for req in requests {
            let at = tick_start + rng.random_range(0..tick_us);
            let p = path(req);
            let first = match p {
                Path::Province(q, _) => self.services[q].draw(req.op(), &mut rng),
                Path::Hub => self.services[HUB].draw(req.op(), &mut rng),
                // A broadcast feed costs every province the same.
                Path::Broadcast => self.services[0].draw(Op::Feed, &mut rng),
            };
            let hub = match p {
                Path::Province(_, true) => self.services[HUB].draw(Op::HubQuery, &mut rng),
                _ => 0,
            };
            plan.push((at, p, first, hub, req.op()));
        }
        // Sorted by value, not through `plan`: at national scale a tick has
        // ~10^5 requests and an indirect key misses the cache on every
        // comparison. (time, index) pairs are unique, so an unstable sort is
        // deterministic.
        let mut order: Vec<(u64, u32)> = plan
            .iter()
            .enumerate()
            .map(|(i, e)| (e.0, i as u32))
            .collect();
        order.sort_unstable();

        let mut fate = vec![Fate::Forward; n];
        // (arrival at the hub, request, latency so far)
        let mut at_hub: Vec<(u64, u32, u64)> = Vec::new();
        for &(_, i) in &order {
            let (at, p, service, _, op) = plan[i as usize];
            let feed = op == Op::Feed;
            match p {
                Path::Province(q, cross) => match self.offer(q, at, service, feed) {
                    Admission::Busy => {
                        self.stats.busy_reply(q, op);
                        fate[i as usize] = Fate::Busy;
                    }
                    Admission::Served { done_us, .. } if cross => {
                        at_hub.push((done_us, i, done_us - at));
                    }
                    Admission::Served { done_us, .. } => {
                        self.stats.answered(q, op, done_us - at);
                        if done_us - at > self.timeout_us {
                            self.stats.timed_out(q);
                            fate[i as usize] = Fate::TimedOut;
                        }
                    }
                },
                Path::Hub => at_hub.push((at, i, 0)),
                Path::Broadcast => {
                    for q in 0..PROVINCE_COUNT {
                        if let Admission::Served { done_us, .. } = self.offer(q, at, service, true)
                        {
                            self.stats.answered(q, op, done_us - at);
                        }
                    }
                }
            }
        }

        at_hub.sort_unstable_by_key(|&(at, i, _)| (at, i));
        for (at, i, before) in at_hub {
            let (_, p, first, hub, op) = plan[i as usize];
            let (hub_op, service, home) = match p {
                Path::Province(q, _) => (Op::HubQuery, hub, Some(q)),
                _ => (op, first, None),
            };
            match self.offer(HUB, at, service, op == Op::Feed) {
                Admission::Busy => {
                    self.stats.busy_reply(HUB, hub_op);
                    if let Some(q) = home {
                        self.stats.busy_reply(q, op);
                    }
                    fate[i as usize] = Fate::Busy;
                }
                Admission::Served { done_us, .. } => {
                    self.stats.answered(HUB, hub_op, done_us - at);
                    if let Some(q) = home {
                        self.stats.answered(q, op, before + done_us - at);
                    }
                    if before + done_us - at > self.timeout_us {
                        self.stats.timed_out(home.unwrap_or(HUB));
                        fate[i as usize] = Fate::TimedOut;
                    }
                }
            }
        }
        fate
    }

    fn offer(&mut self, platform: usize, at: u64, service: u64, always: bool) -> Admission {
        self.stats.offered(platform);
        if let (Some(l), false) = (&mut self.limiter, always) {
            // Server time allowed so far in this tick: the admitted share of
            // the servers' time up to `at`, plus a burst of half the
            // admission limit, so admissions are spread over the tick
            // rather than spent by its first arrivals.
            let servers = self.stations[platform].servers() as f64;
            let elapsed = at.saturating_sub(l.tick_start_us) as f64;
            let burst = self.max_wait_ms[platform] as f64 * 500.0;
            let budget = (l.share[platform] * servers * (elapsed + burst)) as u64;
            if l.spent_us[platform] + service > budget {
                self.stats.refused(platform);
                return Admission::Busy;
            }
            l.spent_us[platform] += service;
        }
        let a = self.stations[platform].offer(at, service, always);
        if let (Some(l), Admission::Busy) = (&mut self.limiter, a) {
            // The queue outgrew the limit: cut admissions back to the floor.
            l.share[platform] = l.floor;
        }
        match a {
            Admission::Busy => self.stats.refused(platform),
            Admission::Served { queue_depth, .. } => self.stats.queue_depth(platform, queue_depth),
        }
        a
    }

    /// Closes the run's figures. `provinces`: the simulated ones.
    pub fn report(&mut self, provinces: &[ProvinceId]) -> CapacityReport {
        let t = self.timing;
        let intervals = t.intervals();
        self.stats.finish(intervals);
        let run_us = t.duration_minutes as u64 * US_PER_MINUTE;
        let mut shown: Vec<usize> = provinces.iter().map(|p| p.index()).collect();
        shown.push(HUB);
        let platforms = shown
            .iter()
            .map(|&k| {
                let s = &self.stations[k];
                let mut timeline = self.stats.platform_series(k);
                timeline.truncate(intervals);
                PlatformLoad {
                    platform: if k == HUB {
                        "hub".to_string()
                    } else {
                        ProvinceId(k as u8).key().to_string()
                    },
                    servers: s.servers(),
                    max_wait_ms: self.max_wait_ms[k],
                    requests: self.stats.offered[k],
                    busy: self.stats.refused[k],
                    timeouts: self.stats.timeouts[k],
                    busy_rate: rate(self.stats.refused[k], self.stats.offered[k]),
                    utilization: rate(s.busy_us, s.servers() as u64 * run_us),
                    queue_depth_max: self.stats.depth_max[k],
                    latency: self.stats.platform_latency(k),
                    timeline,
                }
            })
            .collect();
        let mut timeline = self.stats.national_series();
        timeline.truncate(intervals);
        CapacityReport {
            latency: self.stats.by_op(&shown),
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
}

#[cfg(test)]
mod tests;
