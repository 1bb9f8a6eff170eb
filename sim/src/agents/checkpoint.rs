//! Checkpoints: lanes that scan people's codes at a fixed rate. People who
//! arrive faster than the lanes scan wait in a queue; the wait is what
//! planners read as checkpoint queueing time.
//!
//! The queue runs in continuous time inside the tick: each visitor arrives
//! at a second of their planned minute, the lanes together scan one person
//! every `60 / (lanes × rate)` seconds, and a visitor's wait is from their
//! arrival to their scan's start, so a wait can be shorter than a tick.

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
    /// Per local checkpoint: microsecond (since the epoch) its lanes are
    /// next free.
    free_at: Vec<u64>,
}

const US_PER_MINUTE: u64 = 60_000_000;

/// A scan's tag carries, packed, the whole minutes since the visitor
/// arrived (what the oracle needs to know the order in force then) and
/// the wait in seconds.
pub fn scan_tag(minutes_since_arrival: u32, wait_seconds: u32) -> u32 {
    (minutes_since_arrival.min(0xffff) << 16) | wait_seconds.min(0xffff)
}

/// Minutes from the visitor's arrival to the scan's tick.
pub fn minutes_since_arrival(tag: u32) -> u32 {
    tag >> 16
}

/// Seconds the visitor queued before being scanned.
pub fn wait_seconds(tag: u32) -> u32 {
    tag & 0xffff
}

/// Microsecond of a visitor's arrival: a second of their planned minute
/// drawn from who they are and when.
fn arrival_us(v: &Visit) -> u64 {
    let within = crate::rng::mix(v.citizen as u64, v.arrived.0 as u64, 0x4152_5256) % US_PER_MINUTE;
    v.arrived.0 as u64 * US_PER_MINUTE + within
}

impl Checkpoints {
    pub fn new(sites: Vec<u32>) -> Checkpoints {
        let n = sites.len();
        Checkpoints {
            sites,
            queues: (0..n).map(|_| VecDeque::new()).collect(),
            active: Vec::new(),
            is_active: vec![false; n],
            free_at: vec![0; n],
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

    /// Scans everyone whose turn at the lanes comes by `now`.
    pub fn serve(&mut self, env: &Env, now: Minute, sink: &mut Sink) {
        let horizon = now.0 as u64 * US_PER_MINUTE;
        let mut still_active = Vec::with_capacity(self.active.len());
        for &local in &self.active {
            let gid = self.sites[local as usize];
            let site = &env.world.geography.checkpoints[gid as usize];
            let county = &env.world.geography.counties[site.county as usize];
            let per_minute = (site.lanes as u64 * site.scans_per_lane_minute as u64).max(1);
            let service = US_PER_MINUTE / per_minute;
            let queue = &mut self.queues[local as usize];
            // Visitors reach the lanes in the order they arrived.
            queue
                .make_contiguous()
                .sort_by_key(|v| (arrival_us(v), v.citizen));
            let free_at = &mut self.free_at[local as usize];
            while let Some(v) = queue.front() {
                let arrived = arrival_us(v);
                let start = arrived.max(*free_at);
                if start > horizon {
                    break;
                }
                *free_at = start + service;
                let v = queue.pop_front().expect("front exists");
                let wait = ((start - arrived) / 1_000_000) as u32;
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
                        aux: scan_tag(now.since(v.arrived), wait),
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
            + self.free_at.capacity() * 8
    }
}
