//! Checkpoints: lanes that scan people's codes at a fixed rate. People who
//! arrive faster than the lanes scan wait in a queue; the wait is what
//! planners read as checkpoint queueing time.

use super::{Env, Sink};
use crate::engine::message::{Agent, Tag, Visit};
use crate::metrics::op_slot;
use hcsim_platform::api::{Place, Request};
use hcsim_platform::Minute;
use std::collections::VecDeque;

pub struct Checkpoints {
    /// Global checkpoint id per local index.
    sites: Vec<u32>,
    queues: Vec<VecDeque<Visit>>,
    active: Vec<u32>,
    is_active: Vec<bool>,
}

impl Checkpoints {
    pub fn new(sites: Vec<u32>) -> Checkpoints {
        let n = sites.len();
        Checkpoints {
            sites,
            queues: (0..n).map(|_| VecDeque::new()).collect(),
            active: Vec::new(),
            is_active: vec![false; n],
        }
    }

    pub fn len(&self) -> usize {
        self.sites.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }

    pub fn arrive(&mut self, env: &Env, local: u32, visit: Visit, sink: &mut Sink) {
        let Some(&gid) = self.sites.get(local as usize) else {
            return;
        };
        let site = &env.world.geography.checkpoints[gid as usize];
        let minute = visit.arrived.minute_of_day() as u16;
        if minute < site.open_minute || minute >= site.close_minute {
            let province = env.world.geography.counties[site.county as usize].province;
            sink.metrics.provinces[province.index()].closed += 1;
            return;
        }
        self.queues[local as usize].push_back(visit);
        if !self.is_active[local as usize] {
            self.is_active[local as usize] = true;
            self.active.push(local);
        }
    }

    /// Scans as many queued people as the lanes allow this tick.
    pub fn serve(&mut self, env: &Env, now: Minute, sink: &mut Sink) {
        let mut still_active = Vec::with_capacity(self.active.len());
        for &local in &self.active {
            let gid = self.sites[local as usize];
            let site = &env.world.geography.checkpoints[gid as usize];
            let county = &env.world.geography.counties[site.county as usize];
            let capacity = site.lanes as u32 * site.scans_per_lane_minute as u32 * env.tick_minutes;
            let queue = &mut self.queues[local as usize];
            for _ in 0..capacity.min(queue.len() as u32) {
                let Some(v) = queue.pop_front() else { break };
                let wait = now.since(v.arrived);
                let request = Request::Verify {
                    credential: v.credential,
                    place: Place {
                        county: county.county_ref(),
                        kind: site.kind,
                    },
                    temperature: Some(v.temperature),
                };
                sink.metrics.requests[op_slot(request.op())] += 1;
                sink.out.requests.push((
                    Tag {
                        shard: env.shard,
                        agent: Agent::Checkpoint(local),
                        aux: wait,
                    },
                    request,
                ));
            }
            if queue.is_empty() {
                // A rush leaves a long buffer behind; the next one is hours
                // away, so give the memory back rather than hold it for it.
                if queue.capacity() > 64 {
                    *queue = VecDeque::new();
                }
                self.is_active[local as usize] = false;
            } else {
                still_active.push(local);
            }
        }
        self.active = still_active;
    }

    /// The global id of a local checkpoint.
    pub fn site(&self, local: u32) -> u32 {
        self.sites[local as usize]
    }

    pub fn queued(&self) -> usize {
        self.active
            .iter()
            .map(|&l| self.queues[l as usize].len())
            .sum()
    }

    pub fn heap_bytes(&self) -> usize {
        self.sites.capacity() * 4
            + self.queues.capacity() * std::mem::size_of::<VecDeque<Visit>>()
            + self
                .queues
                .iter()
                .map(|q| q.capacity() * std::mem::size_of::<Visit>())
                .sum::<usize>()
            + self.is_active.capacity()
    }
}
