//! The agents shards host: citizens and checkpoints. Stored as
//! struct-of-arrays; an agent's id is its index.

pub mod checkpoint;
pub mod citizen;
pub mod flight;
pub mod plan;
pub mod registration;

use crate::engine::message::Outbox;
use crate::metrics::Metrics;
use crate::scenario::Behaviour;
use crate::world::World;
use hcsim_platform::Minute;

/// What an agent's handler may read and write besides its own state.
pub struct Env<'a> {
    pub world: &'a World,
    pub behaviour: &'a Behaviour,
    pub seed: u64,
    pub start: Minute,
    pub tick_minutes: u32,
    pub shard: u32,
}

impl Env<'_> {
    /// Day index relative to the scenario's first (calendar) day.
    pub fn day_of(&self, now: Minute) -> u32 {
        now.day() - self.start.day()
    }

    /// The tick at which `minute` of simulated `day` falls (rounded up).
    pub fn tick_of(&self, day: u32, minute: u16) -> u64 {
        // `day` wraps to the eve of the run for its steps after midnight.
        let abs = self.start.day().wrapping_add(day) as u64 * 1440 + minute as u64;
        abs.saturating_sub(self.start.0 as u64)
            .div_ceil(self.tick_minutes as u64)
    }
}

/// Output channels of a handler.
pub struct Sink<'a> {
    pub out: &'a mut Outbox,
    pub metrics: &'a mut Metrics,
}
