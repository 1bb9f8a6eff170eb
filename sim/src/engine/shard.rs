//! A shard: the citizens and checkpoints of some counties, and its tick.
//!
//! `Shard::tick` is the whole contract with executors: `(state, inbox) →
//! (state, outbox)`. The actix runner calls it from a shard actor; another
//! executor can call it the same way.

use super::message::{Agent, Outbox, ShardMsg};
use super::wheel::Wheel;
use crate::agents::checkpoint::Checkpoints;
use crate::agents::citizen::Citizens;
use crate::agents::flight::Flights;
use crate::agents::{Env, Sink};
use crate::metrics::Metrics;
use crate::scenario::Behaviour;
use crate::world::World;
use hcsim_platform::api::CHECKPOINT_KINDS;
use hcsim_platform::Minute;
use std::sync::Arc;

pub struct Shard {
    pub index: u32,
    run: Run,
    interval_minutes: u32,
    citizens: Citizens,
    checkpoints: Checkpoints,
    flights: Flights,
    wheel: Wheel,
    due: Vec<u32>,
    /// Whether the citizens' first wakes are scheduled.
    started: bool,
    /// Events of scheduling them ahead of the first tick, which counts them.
    start_events: u64,
    pub metrics: Metrics,
}

/// What the shard's agents read of the run, fixed for the run; apart from
/// the agents, so that they can be borrowed beside it.
struct Run {
    world: Arc<World>,
    behaviour: Behaviour,
    seed: u64,
    start: Minute,
    tick_minutes: u32,
    shard: u32,
}

impl Run {
    fn env(&self) -> Env<'_> {
        Env {
            world: &self.world,
            behaviour: &self.behaviour,
            seed: self.seed,
            start: self.start,
            tick_minutes: self.tick_minutes,
            shard: self.shard,
        }
    }
}

impl Shard {
    pub fn new(
        index: u32,
        world: Arc<World>,
        behaviour: Behaviour,
        start: Minute,
        tick_minutes: u32,
        interval_minutes: u32,
    ) -> Shard {
        let plan = &world.shards[index as usize];
        let citizens = Citizens::new(plan.citizens.clone());
        let mut sites = Vec::with_capacity(plan.checkpoints as usize);
        for &c in &plan.counties {
            for r in &world.geography.county_checkpoints[c as usize] {
                sites.extend(r.clone());
            }
        }
        // Two days of ticks: a citizen's next wake is never further ahead.
        let horizon = (2 * 1440 / tick_minutes as usize) + 2;
        let seed = world.seed;
        Shard {
            index,
            run: Run {
                world,
                behaviour,
                seed,
                start,
                tick_minutes,
                shard: index,
            },
            interval_minutes: interval_minutes.max(1),
            citizens,
            checkpoints: Checkpoints::new(sites),
            flights: Flights::default(),
            wheel: Wheel::new(horizon),
            due: Vec::new(),
            started: false,
            start_events: 0,
            metrics: Metrics::default(),
        }
    }

    fn interval_of(&self, now: Minute) -> usize {
        (now.since(self.run.start) / self.interval_minutes) as usize
    }

    fn tick_index(&self, now: Minute) -> u64 {
        (now.since(self.run.start) / self.run.tick_minutes) as u64
    }

    /// Schedules every citizen's first wake before the first tick, as
    /// that tick would: the day plans read neither the codes issued at
    /// registration nor anything a tick delivers, so they can be drawn
    /// while the population registers.
    pub fn prestart(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        self.start_events = self.citizens.len() as u64;
        let env = self.run.env();
        self.citizens.start(&env, self.run.start, &mut self.wheel);
    }

    pub fn tick(&mut self, now: Minute, inbox: Vec<ShardMsg>) -> Outbox {
        let tick = self.tick_index(now);
        let interval = self.interval_of(now);
        let mut out = Outbox::default();
        let env = self.run.env();
        let mut sink = Sink {
            out: &mut out,
            metrics: &mut self.metrics,
        };
        let mut events = 0u64;

        if !self.started {
            // Codes were issued before the clock started (the inbox's
            // `Registered`); the run starts with everyone's day.
            self.started = true;
            events += self.citizens.len() as u64;
            self.citizens.start(&env, now, &mut self.wheel);
        }
        events += std::mem::take(&mut self.start_events);

        events += inbox.len() as u64;
        for msg in inbox {
            match msg {
                ShardMsg::Reply { tag, response } => match tag.agent {
                    Agent::Citizen(id) => {
                        let t = sink.metrics.interval(interval);
                        match &response {
                            hcsim_platform::Response::Recorded { .. } => t.declarations += 1,
                            hcsim_platform::Response::Health { .. } => t.queries += 1,
                            _ => {}
                        }
                        self.citizens.reply(&env, id, &response, &mut sink)
                    }
                    Agent::Checkpoint(local) => {
                        let site =
                            &env.world.geography.checkpoints[self.checkpoints.site(local) as usize];
                        let province = env.world.geography.counties[site.county as usize].province;
                        let kind = CHECKPOINT_KINDS
                            .iter()
                            .position(|k| *k == site.kind)
                            .unwrap_or(0);
                        let issuer = match &response {
                            hcsim_platform::Response::Verdict(v) => v.issuer,
                            _ => hcsim_platform::Issuer::Province(province),
                        };
                        sink.metrics.record_scan(
                            interval,
                            province.index(),
                            issuer,
                            kind,
                            tag.aux,
                            &response,
                        );
                    }
                    Agent::Telecom | Agent::Authority => {}
                },
                ShardMsg::Arrive { checkpoint, visit } => {
                    self.checkpoints.arrive(&env, checkpoint, visit, &mut sink)
                }
                ShardMsg::Notice { citizen, notice } => {
                    self.citizens.notice(&env, citizen, notice, &mut sink)
                }
                ShardMsg::Board { flight, passenger } => {
                    self.flights.board(&env, flight, passenger)
                }
                ShardMsg::Registered(registered) => self.citizens.registered(*registered),
            }
        }

        let mut due = std::mem::take(&mut self.due);
        self.wheel.take(tick, &mut due);
        events += due.len() as u64;
        self.citizens.warm(&env, &due);
        for &id in &due {
            self.citizens
                .wake(&env, id, now, &mut self.wheel, &mut sink);
        }
        self.wheel.give_back(tick, std::mem::take(&mut due));
        self.due = due;

        self.citizens.carriers_record_stays(&env, now, &mut sink);
        self.flights.land(&env, now, &mut sink);
        self.checkpoints.serve(&env, now, &mut sink);
        sink.metrics.events += events;
        out.events = events;
        out
    }

    pub fn citizens(&self) -> usize {
        self.citizens.len()
    }

    /// People still queueing at this shard's checkpoints.
    pub fn queued(&self) -> usize {
        self.checkpoints.queued()
    }

    /// Heap bytes of agent state: a deterministic figure, unlike RSS.
    pub fn heap_bytes(&self) -> usize {
        self.citizens.heap_bytes()
            + self.checkpoints.heap_bytes()
            + self.wheel.heap_bytes()
            + self.flights.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;
    use std::path::Path;

    /// A shard started ahead of the first tick runs the day exactly as one
    /// started by that tick: the same requests, messages and events.
    #[test]
    fn prestart_changes_nothing_the_ticks_do() {
        let text = "name = \"t\"\nseed = 5\nstart = \"2020-10-01T00:00\"\nduration_hours = 24\n\
                    population_scale = 0.0002\nprovinces = [\"anhui\", \"hubei\"]\nshards = 1\n";
        let s = Scenario::parse(Path::new("t.toml"), text).unwrap();
        let world = Arc::new(World::build(&s));
        let shard = || Shard::new(0, world.clone(), s.behaviour.clone(), s.start, 1, 60);
        let (mut early, mut late) = (shard(), shard());
        early.prestart();
        early.prestart();
        // Everyone holds a code, so the day reaches the platform.
        let registered = || {
            let codes = (0..world.citizens()).collect();
            let r = crate::agents::registration::Registered {
                codes,
                ..Default::default()
            };
            vec![ShardMsg::Registered(Box::new(r))]
        };
        let mut requests = 0;
        for tick in 0..1440 {
            let now = s.start.plus_minutes(tick);
            let inbox = || if tick == 0 { registered() } else { Vec::new() };
            let (a, b) = (early.tick(now, inbox()), late.tick(now, inbox()));
            assert_eq!(a.events, b.events, "tick {tick}");
            assert_eq!(format!("{:?}", a.requests), format!("{:?}", b.requests));
            assert_eq!(
                format!("{:?}", a.messages),
                format!("{:?}", b.messages),
                "tick {tick}"
            );
            requests += a.requests.len();
        }
        assert!(
            requests > 100,
            "the day asked the platform {requests} times"
        );
        assert!(early.citizens() > 1000);
    }
}
