//! The engine: shard actors, the tick loop, and message routing at the tick
//! barrier.
//!
//! Conservative parallel discrete-event simulation with one tick of
//! lookahead: within a tick shards run in parallel; everything they send each
//! other or the platform is delivered at the barrier, in shard order, so the
//! result never depends on how shards were spread over threads.

pub mod message;
pub mod shard;
pub mod wheel;

use crate::authority::{Authority, AuthorityCounts};
use crate::capacity::retry::{Pending, Retries};
use crate::degrade::ClientDegrade;
use crate::fault::Faults;
use crate::metrics::Metrics;
use crate::scenario::Scenario;
use crate::surge::Surges;
use crate::world::World;
use actix::prelude::*;
use futures::future::join_all;
pub use hcsim_adapters::faults::PlatformFaultEffect;
use hcsim_adapters::{ColorCensus, Platform, PortError};
use hcsim_platform::{Minute, Response};
use hcsim_reports::summary::{PhaseSeconds, RetryTotals, SurgeTotals};
use message::{Agent, Outbox, ShardMsg, Tag};
use shard::Shard;
use std::sync::Arc;

pub struct ShardActor {
    pub shard: Shard,
}

impl Actor for ShardActor {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "Outbox")]
pub struct RunTick {
    pub now: Minute,
    pub inbox: Vec<ShardMsg>,
}

impl Handler<RunTick> for ShardActor {
    type Result = MessageResult<RunTick>;
    fn handle(&mut self, msg: RunTick, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.shard.tick(msg.now, msg.inbox))
    }
}

pub struct ShardReport {
    pub metrics: Metrics,
    pub heap_bytes: usize,
    pub queued: usize,
}

#[derive(Message)]
#[rtype(result = "ShardReport")]
pub struct Report;

impl Handler<Report> for ShardActor {
    type Result = MessageResult<Report>;
    fn handle(&mut self, _: Report, _: &mut Context<Self>) -> Self::Result {
        MessageResult(ShardReport {
            metrics: self.shard.metrics.clone(),
            heap_bytes: self.shard.heap_bytes(),
            queued: self.shard.queued(),
        })
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
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Platform(#[from] PortError),
    #[error("shard actor failed: {0}")]
    Shard(#[from] MailboxError),
}

pub async fn drive<P: Platform>(
    scenario: &Scenario,
    world: Arc<World>,
    shards: &[Addr<ShardActor>],
    platform: &mut P,
    mut oracle: Option<&mut crate::oracle::Oracle>,
    progress: &mut dyn FnMut(&TickProgress),
    observer: &mut dyn crate::policy_diff::ExchangeObserver,
) -> Result<EngineOutput, EngineError> {
    let mut inboxes: Vec<Vec<ShardMsg>> = (0..shards.len()).map(|_| Vec::new()).collect();
    let mut authority = Authority::new(&world, &scenario.epidemic, scenario.population_scale);
    let mut surges = Surges::new(&world, &scenario.surges, scenario.start);
    let mut retries = Retries::new(scenario.capacity.retry, scenario.tick_minutes);
    let mut faults = Faults::new(scenario.seed, &scenario.faults);
    let mut degrade = ClientDegrade::new(scenario.capacity.degrade);
    let mut events = 0u64;
    let ticks = scenario.ticks();
    let interval = scenario.interval_minutes();
    let mut colors_over_time = Vec::new();
    let mut phases = PhaseSeconds::default();
    let started = std::time::Instant::now();
    for tick in 0..ticks {
        let now = scenario.start.plus_minutes(tick * scenario.tick_minutes);
        if tick > 0 && (now.since(scenario.start)).is_multiple_of(interval) {
            colors_over_time.push((now, platform.census(now).await?));
        }
        let directives = authority.step(&world, scenario.start, now);
        for (shard, msg) in directives.notices {
            inboxes[shard as usize].push(msg);
        }

        let sends = shards.iter().zip(inboxes.iter_mut()).map(|(addr, inbox)| {
            addr.send(RunTick {
                now,
                inbox: std::mem::take(inbox),
            })
        });
        let clock = std::time::Instant::now();
        let outboxes = join_all(sends).await;
        phases.agents += clock.elapsed().as_secs_f64();

        let mut tags = Vec::new();
        let mut requests = Vec::new();
        for r in faults.feeds(now, directives.requests) {
            tags.push(Tag::authority());
            requests.push(r);
        }
        for (tag, r) in surges.step(&world, now) {
            tags.push(tag);
            requests.push(r);
        }
        // Attempts so far per request: fresh ones are 1.
        let mut tries = vec![1; requests.len()];
        for Pending {
            tries: t,
            tag,
            request,
        } in retries.take_due(tick)
        {
            tags.push(tag);
            requests.push(request);
            tries.push(t);
        }
        for outbox in outboxes {
            let outbox = outbox?;
            events += outbox.events;
            for (tag, request) in outbox.requests {
                tags.push(tag);
                requests.push(request);
            }
            for (dest, msg) in outbox.messages {
                inboxes[dest as usize].push(msg);
            }
        }
        events += requests.len() as u64;
        tries.resize(requests.len(), 1);
        for tag in degrade.divert(
            now,
            &mut tags,
            &mut requests,
            &mut tries,
            &mut retries.totals,
        ) {
            let response = Response::Busy;
            inboxes[tag.shard as usize].push(ShardMsg::Reply { tag, response });
        }
        if !requests.is_empty() {
            // Kept so that a request answered busy can be sent again.
            let sent = requests.clone();
            let clock = std::time::Instant::now();
            let responses = platform.exchange(now, requests).await?;
            phases.platform += clock.elapsed().as_secs_f64();
            if let Some(o) = oracle.as_deref_mut() {
                let clock = std::time::Instant::now();
                o.observe(now, &tags, &sent, &responses);
                phases.oracle += clock.elapsed().as_secs_f64();
            }
            for (((tag, response), request), t) in
                tags.into_iter().zip(responses).zip(sent).zip(&tries)
            {
                observer.exchange(&world, now, &tag, &request, &response);
                surges.observe(&tag, &response);
                faults.observe(now, &request, &response);
                let tag = match response {
                    Response::Busy => {
                        match degrade.fallback(now, tag, &request, &mut retries.totals) {
                            Some(tag) => tag,
                            None => match retries.busy(tick, *t, tag, request) {
                                Some(tag) => tag,
                                None => continue,
                            },
                        }
                    }
                    _ => {
                        degrade.observe(now, &request, &response);
                        tag
                    }
                };
                match tag.agent {
                    // The authority and the carriers do not act on acks.
                    Agent::Authority | Agent::Telecom => {}
                    _ => inboxes[tag.shard as usize].push(ShardMsg::Reply { tag, response }),
                }
            }
        }
        progress(&TickProgress {
            tick: tick + 1,
            ticks,
            now,
            events,
        });
    }

    phases.driver =
        (started.elapsed().as_secs_f64() - phases.agents - phases.platform - phases.oracle)
            .max(0.0);
    let end = scenario.end();
    let census = platform.census(end).await?;
    colors_over_time.push((end, census.clone()));
    let mut metrics = Metrics::default();
    let mut agent_heap_bytes = 0u64;
    let mut still_queued = 0u64;
    for report in join_all(shards.iter().map(|a| a.send(Report))).await {
        let report = report?;
        metrics.merge(&report.metrics);
        agent_heap_bytes += report.heap_bytes as u64;
        still_queued += report.queued as u64;
    }
    Ok(EngineOutput {
        metrics,
        authority: authority.counts,
        census,
        events,
        agent_heap_bytes,
        still_queued,
        colors_over_time,
        retries: retries.totals,
        surges: surges.totals,
        faults,
        phases,
    })
}
