//! The tick barrier's platform side: what happens between one tick of the
//! shards and the next. The health authority opens each tick (census at an
//! interval boundary, its notices and feeds); when the shards' requests of
//! the tick are in, surges and clients' retries join them, the degrade
//! strategy diverts some, the platform answers the rest, and the oracle,
//! the observer, surges, faults and retries see every exchange. Replies
//! become the next tick's deliveries to the shards.
//!
//! It runs on the thread that started the run (process 0), which owns the
//! platform, the oracle and the observer; the dataflow's worker 0 hands it
//! each tick's batches in shard order.
//!
//! The watchers (oracle, observer, surges, faults) read a tick's exchanges
//! after its replies have gone back (`watch_pending`), while the shards
//! run the next tick: nothing the shards receive depends on them, and
//! `close` of the next tick first finishes any watch still pending, so
//! surges and faults act on what they saw exactly as before.

use super::message::{Agent, ShardMsg, Tag};
use super::observer::{Checker, ExchangeObserver};
use super::{EngineError, TickProgress};
use crate::authority::{Authority, AuthorityCounts};
use crate::capacity::retry::{Pending, Retries};
use crate::degrade::ClientDegrade;
use crate::fault::Faults;
use crate::scenario::Scenario;
use crate::surge::Surges;
use crate::world::World;
use bitcode::{Decode, Encode};
use futures::FutureExt;
use hcsim_adapters::{ColorCensus, Platform};
use hcsim_platform::{Minute, Request, Response};
use hcsim_reports::summary::{RetryTotals, SurgeTotals};
use std::sync::Arc;
use std::time::Instant;

/// Exchanges in a tick from which the oracle checks on a thread of its
/// own: below it, starting the thread costs more than it saves.
const ORACLE_THREAD_MIN: usize = 4096;
/// Exchanges in a tick from which the requests are copied for the watchers,
/// and the replies to their shards, on the pool.
const ROUTE_ON_POOL_MIN: usize = 1024;

/// One shard's requests of one tick, and the events it handled.
#[derive(Clone, Debug, Default, Encode, Decode)]
pub struct ShardBatch {
    pub shard: u32,
    pub events: u64,
    pub requests: Vec<(Tag, Request)>,
}

/// What reaches each shard at the start of the next tick, indexed by
/// shard, each in the order the barrier produced it.
pub type Deliveries = Vec<Vec<ShardMsg>>;

/// Wall seconds of the barrier's own phases.
#[derive(Clone, Copy, Debug, Default)]
pub struct BarrierSeconds {
    pub platform: f64,
    /// The watchers' time (oracle, observer, surges, faults): beside the
    /// next tick's agents, not in the tick loop's path.
    pub oracle: f64,
    /// How long the tick's path waited for the oracle after the platform
    /// had answered (the oracle beside the exchange, on the pool).
    pub waited: f64,
}

/// A tick's exchanges, kept for the watchers until the replies are out.
struct Exchanged {
    now: Minute,
    tags: Vec<Tag>,
    sent: Vec<Request>,
    responses: Vec<Response>,
}

/// What the barrier leaves when the run ends.
pub struct BarrierOutput {
    pub authority: AuthorityCounts,
    pub census: ColorCensus,
    pub colors_over_time: Vec<(Minute, ColorCensus)>,
    pub events: u64,
    pub retries: RetryTotals,
    pub surges: Vec<SurgeTotals>,
    pub faults: Faults,
    pub seconds: BarrierSeconds,
}

pub struct Barrier<'a, P: Platform> {
    scenario: &'a Scenario,
    world: Arc<World>,
    platform: &'a mut P,
    oracle: Option<Checker<'a>>,
    observer: &'a mut dyn ExchangeObserver,
    progress: &'a mut (dyn FnMut(&TickProgress) + Send),
    /// This process's thread pool, for the barrier's own large steps.
    pool: Option<Arc<rayon::ThreadPool>>,
    authority: Authority,
    surges: Surges,
    retries: Retries,
    faults: Faults,
    degrade: ClientDegrade,
    /// The authority's feeds issued when the current tick opened.
    feeds: Vec<Request>,
    /// The last closed tick's exchanges, until the watchers have read them.
    unwatched: Option<Exchanged>,
    /// Exchanges the others have read and the oracle has not: on the pool,
    /// the oracle reads a tick beside the next tick's platform exchange.
    unchecked: Option<Exchanged>,
    events: u64,
    colors_over_time: Vec<(Minute, ColorCensus)>,
    seconds: BarrierSeconds,
}

impl<'a, P: Platform + Send> Barrier<'a, P> {
    pub fn new(
        scenario: &'a Scenario,
        world: Arc<World>,
        platform: &'a mut P,
        oracle: Option<Checker<'a>>,
        observer: &'a mut dyn ExchangeObserver,
        progress: &'a mut (dyn FnMut(&TickProgress) + Send),
        pool: Option<Arc<rayon::ThreadPool>>,
    ) -> Self {
        Barrier {
            authority: Authority::new(
                &world,
                &scenario.epidemic,
                &scenario.behaviour,
                scenario.population_scale,
            ),
            surges: Surges::new(&world, &scenario.surges, scenario.start, pool.as_deref()),
            retries: Retries::new(scenario.capacity.retry, scenario.tick_minutes),
            faults: Faults::new(scenario.seed, &scenario.faults),
            degrade: ClientDegrade::new(scenario.capacity.degrade),
            scenario,
            world,
            platform,
            oracle,
            observer,
            progress,
            pool,
            feeds: Vec::new(),
            unwatched: None,
            unchecked: None,
            events: 0,
            colors_over_time: Vec::new(),
            seconds: BarrierSeconds::default(),
        }
    }

    /// The codes issued before the clock started (`registration`): the
    /// surges learn them as they learn those issued during the run.
    pub fn registered(&mut self, registered: &Deliveries) {
        for (plan, messages) in self.world.shards.iter().zip(registered) {
            for m in messages {
                if let ShardMsg::Registered(r) = m {
                    for (id, &serial) in plan.citizens.clone().zip(&r.codes) {
                        if serial != crate::agents::registration::NO_CODE {
                            self.surges.learn(id, serial);
                        }
                    }
                }
            }
        }
    }

    fn now(&self, tick: u32) -> Minute {
        self.scenario
            .start
            .plus_minutes(tick * self.scenario.tick_minutes)
    }

    /// Opens tick `tick`: the census at an interval boundary, then the
    /// authority's notices (delivered before the shards run) and feeds.
    pub async fn open(&mut self, tick: u32, out: &mut Deliveries) -> Result<(), EngineError> {
        let now = self.now(tick);
        let interval = self.scenario.interval_minutes();
        if tick > 0 && now.since(self.scenario.start).is_multiple_of(interval) {
            self.colors_over_time
                .push((now, self.platform.census(now).await?));
        }
        let directives = self.authority.step(&self.world, self.scenario.start, now);
        for (shard, msg) in directives.notices {
            out[shard as usize].push(msg);
        }
        self.feeds = directives.requests;
        Ok(())
    }

    /// Closes tick `tick` with every shard's batch, in shard order: the
    /// platform answers, and the replies go into `out`.
    pub async fn close(
        &mut self,
        tick: u32,
        batches: Vec<ShardBatch>,
        out: &mut Deliveries,
    ) -> Result<(), EngineError> {
        // Surges and faults act on what the last tick's exchanges showed.
        self.watch_pending();
        let now = self.now(tick);
        let mut tags = Vec::new();
        let mut requests = Vec::new();
        for r in self.faults.feeds(now, std::mem::take(&mut self.feeds)) {
            tags.push(Tag::authority());
            requests.push(r);
        }
        for (tag, r) in self.surges.step(&self.world, now, self.pool.as_deref()) {
            tags.push(tag);
            requests.push(r);
        }
        // Attempts so far per request: fresh ones are 1.
        let mut tries = vec![1; requests.len()];
        for Pending {
            tries: t,
            tag,
            request,
        } in self.retries.take_due(tick)
        {
            tags.push(tag);
            requests.push(request);
            tries.push(t);
        }
        // Sized once: at national scale a tick carries ~10^5 requests, and
        // growing these vectors by doubling was a tenth of this thread's time.
        let incoming: usize = batches.iter().map(|b| b.requests.len()).sum();
        tags.reserve(incoming);
        requests.reserve(incoming);
        for batch in batches {
            self.events += batch.events;
            // Most replies go back to the shard that asked.
            out[batch.shard as usize].reserve(batch.requests.len());
            for (tag, request) in batch.requests {
                tags.push(tag);
                requests.push(request);
            }
        }
        self.events += requests.len() as u64;
        tries.resize(requests.len(), 1);
        for tag in self.degrade.divert(
            now,
            &mut tags,
            &mut requests,
            &mut tries,
            &mut self.retries.totals,
        ) {
            let response = Response::Busy;
            out[tag.shard as usize].push(ShardMsg::Reply { tag, response });
        }
        if !requests.is_empty() {
            // Kept so that a request answered busy can be sent again, and
            // for the watchers.
            let sent: Vec<Request> = match self.pool.as_deref() {
                Some(pool) if requests.len() >= ROUTE_ON_POOL_MIN => pool.install(|| {
                    use rayon::prelude::*;
                    requests.par_iter().cloned().collect()
                }),
                _ => requests.clone(),
            };
            let clock = Instant::now();
            // The part of the exchange's wall time that the oracle beside it
            // outlasted the platform.
            let mut oracle_after = 0.0;
            let on_pool = self.on_pool();
            let responses = match self.pool.clone() {
                // Started from a thread of the pool, the platform's parallel
                // steps (lanes, provinces' rounds) split their work among
                // the pool's threads directly, instead of each step handing
                // its work over from outside and sleeping until it is done.
                Some(pool) if self.platform.in_process() && !on_pool => {
                    let platform = &mut *self.platform;
                    pool.install(|| futures::executor::block_on(platform.exchange(now, requests)))?
                }
                // A barrier run by a worker of the pool is there already;
                // the oracle reads the last tick meanwhile, in the gaps the
                // exchange leaves the other workers (its steps one at a
                // time: routing, the hub round).
                Some(_) if self.platform.in_process() => {
                    let platform = &mut *self.platform;
                    let (oracle, unchecked) = (self.oracle.as_deref_mut(), self.unchecked.take());
                    let pool = self.pool.as_deref();
                    let ((answered, answering), checked) = rayon::join(
                        || {
                            // The in-process platform never waits, and this
                            // thread is already inside the barrier's executor.
                            let answered = platform.exchange(now, requests).now_or_never();
                            (answered, clock.elapsed().as_secs_f64())
                        },
                        || {
                            let clock = Instant::now();
                            check(oracle, unchecked, pool);
                            clock.elapsed().as_secs_f64()
                        },
                    );
                    self.seconds.oracle += checked;
                    oracle_after = clock.elapsed().as_secs_f64() - answering;
                    answered.unwrap_or_else(|| {
                        Err(hcsim_adapters::PortError::Unavailable(
                            "the in-process platform did not answer at once".to_string(),
                        ))
                    })?
                }
                _ => self.platform.exchange(now, requests).await?,
            };
            self.seconds.platform += clock.elapsed().as_secs_f64() - oracle_after;
            self.seconds.waited += oracle_after;
            self.route(tick, now, &tags, &sent, &responses, &tries, out);
            self.unwatched = Some(Exchanged {
                now,
                tags,
                sent,
                responses,
            });
        }
        (self.progress)(&TickProgress {
            tick: tick + 1,
            ticks: self.scenario.ticks(),
            now,
            events: self.events,
        });
        Ok(())
    }

    /// The watchers read the last closed tick's exchanges, if they have
    /// not yet.
    pub fn watch_pending(&mut self) {
        if let Some(tick) = self.unwatched.take() {
            let clock = Instant::now();
            // A tick the oracle has not read yet (no exchange came since)
            // goes first.
            check(
                self.oracle.as_deref_mut(),
                self.unchecked.take(),
                self.pool.as_deref(),
            );
            let later = self.checks_later();
            self.watch(&tick, !later);
            if later {
                self.unchecked = Some(tick);
            }
            self.seconds.oracle += clock.elapsed().as_secs_f64();
        }
    }

    /// Every exchange seen by the oracle, the observer, surges and faults.
    /// Each reads the tick's exchanges in order into its own state, so the
    /// oracle, the costliest, checks them beside the others when the tick
    /// is large; `with_oracle` false leaves the tick to the oracle later,
    /// beside the next tick's exchange (`close`).
    fn watch(&mut self, tick: &Exchanged, with_oracle: bool) {
        let Exchanged {
            now,
            tags,
            sent,
            responses,
        } = tick;
        let now = *now;
        let others = |world: &World,
                      observer: &mut dyn ExchangeObserver,
                      surges: &mut Surges,
                      faults: &mut Faults| {
            for ((tag, request), response) in tags.iter().zip(sent).zip(responses) {
                observer.exchange(world, now, tag, request, response);
                surges.observe(tag, response);
                faults.observe(now, request, response);
            }
        };
        let pool = self.pool.as_deref();
        let checked = |oracle: Checker<'_>| oracle.check_tick(pool, now, tags, sent, responses);
        let (world, observer, surges, faults) = (
            &*self.world,
            &mut *self.observer,
            &mut self.surges,
            &mut self.faults,
        );
        let oracle = self.oracle.as_deref_mut().filter(|_| with_oracle);
        match (oracle, pool) {
            (Some(oracle), Some(pool)) if tags.len() >= ORACLE_THREAD_MIN => {
                pool.join(
                    || checked(oracle),
                    || others(world, observer, surges, faults),
                );
            }
            (Some(oracle), None) if tags.len() >= ORACLE_THREAD_MIN => std::thread::scope(|s| {
                let checking = s.spawn(|| checked(oracle));
                others(world, observer, surges, faults);
                // A panic in the oracle is a bug in hcsim: let it surface.
                checking
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e))
            }),
            (Some(oracle), _) => {
                others(world, observer, surges, faults);
                checked(oracle)
            }
            (None, _) => others(world, observer, surges, faults),
        }
    }

    /// Whether the barrier runs on a thread of its pool (called by worker 0
    /// of the pooled engine).
    fn on_pool(&self) -> bool {
        self.pool
            .as_ref()
            .is_some_and(|pool| pool.current_thread_index().is_some())
    }

    /// Whether the oracle reads a tick beside the next tick's exchange.
    fn checks_later(&self) -> bool {
        self.oracle.is_some() && self.platform.in_process() && self.on_pool()
    }

    /// Busy answers retried or degraded; replies to the agents that asked.
    #[allow(clippy::too_many_arguments)]
    fn route(
        &mut self,
        tick: u32,
        now: Minute,
        tags: &[Tag],
        sent: &[Request],
        responses: &[Response],
        tries: &[u8],
        out: &mut Deliveries,
    ) {
        // Retries and degrade decide in order, one reply at a time; the
        // replies, most of this step's memory traffic, are then copied out
        // to their shards beside each other when the tick is large.
        let mut to: Vec<Vec<(u32, Tag)>> = vec![Vec::new(); out.len()];
        for (k, (((&tag, response), request), t)) in
            tags.iter().zip(responses).zip(sent).zip(tries).enumerate()
        {
            let tag = match response {
                Response::Busy => {
                    match self
                        .degrade
                        .fallback(now, tag, request, &mut self.retries.totals)
                    {
                        Some(tag) => tag,
                        None => match self.retries.busy(tick, *t, tag, request.clone()) {
                            Some(tag) => tag,
                            None => continue,
                        },
                    }
                }
                _ => {
                    self.degrade.observe(now, request, response);
                    tag
                }
            };
            match tag.agent {
                // The authority and the carriers do not act on acks.
                Agent::Authority | Agent::Telecom => {}
                _ => to[tag.shard as usize].push((k as u32, tag)),
            }
        }
        let deliver = |(out, to): (&mut Vec<ShardMsg>, Vec<(u32, Tag)>)| {
            out.extend(to.into_iter().map(|(k, tag)| ShardMsg::Reply {
                tag,
                response: responses[k as usize].clone(),
            }))
        };
        match self.pool.as_deref() {
            Some(pool) if responses.len() >= ROUTE_ON_POOL_MIN => pool.install(|| {
                use rayon::prelude::*;
                out.par_iter_mut().zip(to).for_each(deliver)
            }),
            _ => out.iter_mut().zip(to).for_each(deliver),
        }
    }

    /// The census at the end of the run, and everything counted.
    pub async fn finish(mut self) -> Result<BarrierOutput, EngineError> {
        self.watch_pending();
        check(
            self.oracle.as_deref_mut(),
            self.unchecked.take(),
            self.pool.as_deref(),
        );
        let end = self.scenario.end();
        let census = self.platform.census(end).await?;
        self.retries.close();
        self.colors_over_time.push((end, census.clone()));
        Ok(BarrierOutput {
            authority: self.authority.counts,
            census,
            colors_over_time: self.colors_over_time,
            events: self.events,
            retries: self.retries.totals,
            surges: self.surges.totals,
            faults: self.faults,
            seconds: self.seconds,
        })
    }
}

/// The oracle reads a tick the other watchers have read already.
fn check(oracle: Option<Checker<'_>>, tick: Option<Exchanged>, pool: Option<&rayon::ThreadPool>) {
    if let (Some(oracle), Some(x)) = (oracle, tick) {
        oracle.check_tick(pool, x.now, &x.tags, &x.sent, &x.responses);
    }
}
