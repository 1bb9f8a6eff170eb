//! A timer wheel of agent wake-ups over a fixed horizon, in two levels.
//! The ticks of the current group of `GROUP` ticks have a bucket each;
//! a wake in a later group waits, with its tick, in that group's bucket
//! and moves to its tick's bucket when the group begins. A wake planned
//! hours ahead thus lands in one of a few dozen group buckets, whose ends
//! stay in cache, rather than in one of the horizon's thousands of tick
//! buckets, each a cache miss. Each citizen has at most one pending wake,
//! so the wheel holds 4 bytes per citizen (5 while its group waits).
//!
//! A tick's agents wake in the order they were scheduled, as with one
//! bucket per tick: calls made before the tick's group began reach its
//! bucket, in their order, when the group begins, and later calls are
//! appended after them.

/// Ticks per group: a power of two.
const GROUP_BITS: u32 = 6;
const GROUP: u64 = 1 << GROUP_BITS;

/// Largest drained buffer a group's bucket keeps for its next lap. Kept
/// buffers add up to two days of wakes (several per citizen), so only tiny
/// ones are kept: a bucket then holds about what is scheduled in it.
const KEEP_CAPACITY: usize = 16;

/// Largest drained buffer a tick's bucket keeps: there are only `GROUP`
/// of them, reused every group, so they keep a busy tick's room.
const KEEP_TICK_CAPACITY: usize = 4096;

#[derive(Default)]
struct Waiting {
    agents: Vec<u32>,
    offsets: Vec<u8>,
}

pub struct Wheel {
    /// The ticks of group `group`, by tick % GROUP.
    ticks: Vec<Vec<u32>>,
    /// Later groups, by group % groups.len(): each wake's agent and its
    /// tick's offset in the group, side by side (5 bytes, not a padded 8).
    groups: Vec<Waiting>,
    horizon: u64,
    now_tick: u64,
    /// The group whose ticks `ticks` holds.
    group: u64,
}

impl Wheel {
    pub fn new(horizon_ticks: usize) -> Wheel {
        let horizon = horizon_ticks.max(2) as u64;
        Wheel {
            ticks: vec![Vec::new(); GROUP as usize],
            // Groups from the next one to the horizon's last, each its own.
            groups: (0..horizon / GROUP + 2)
                .map(|_| Waiting::default())
                .collect(),
            horizon,
            now_tick: 0,
            group: 0,
        }
    }

    pub fn horizon(&self) -> u64 {
        self.horizon
    }

    /// Schedules `agent` at absolute tick `at`. Past ticks run next tick;
    /// ticks beyond the horizon are clamped to its end (the agent re-plans).
    pub fn schedule(&mut self, at: u64, agent: u32) {
        let at = at.clamp(self.now_tick + 1, self.now_tick + self.horizon - 1);
        let group = at >> GROUP_BITS;
        let offset = at & (GROUP - 1);
        if group == self.group {
            self.ticks[offset as usize].push(agent);
        } else {
            let n = self.groups.len() as u64;
            let waiting = &mut self.groups[(group % n) as usize];
            waiting.agents.push(agent);
            waiting.offsets.push(offset as u8);
        }
    }

    /// Takes the agents due at `tick`, which must not go backwards.
    pub fn take(&mut self, tick: u64, into: &mut Vec<u32>) {
        debug_assert!(tick >= self.now_tick);
        self.now_tick = tick;
        while self.group < tick >> GROUP_BITS {
            self.group += 1;
            self.begin_group();
        }
        into.clear();
        std::mem::swap(into, &mut self.ticks[(tick & (GROUP - 1)) as usize]);
    }

    /// Moves the waiting wakes of group `group` to their ticks' buckets.
    fn begin_group(&mut self) {
        let n = self.groups.len() as u64;
        let slot = (self.group % n) as usize;
        let mut waiting = std::mem::take(&mut self.groups[slot]);
        for (&agent, &offset) in waiting.agents.iter().zip(&waiting.offsets) {
            self.ticks[offset as usize].push(agent);
        }
        if waiting.agents.capacity() <= KEEP_CAPACITY {
            waiting.agents.clear();
            waiting.offsets.clear();
            self.groups[slot] = waiting;
        }
    }

    /// Returns a drained buffer so its allocation is reused, unless it is
    /// large (see `KEEP_TICK_CAPACITY`).
    pub fn give_back(&mut self, tick: u64, mut buf: Vec<u32>) {
        let slot = &mut self.ticks[(tick & (GROUP - 1)) as usize];
        if slot.is_empty() && buf.capacity() <= KEEP_TICK_CAPACITY {
            buf.clear();
            *slot = buf;
        }
    }

    pub fn pending(&self) -> usize {
        self.ticks.iter().map(Vec::len).sum::<usize>()
            + self.groups.iter().map(|w| w.agents.len()).sum::<usize>()
    }

    pub fn heap_bytes(&self) -> usize {
        self.ticks.iter().map(|b| b.capacity() * 4).sum::<usize>()
            + self
                .groups
                .iter()
                .map(|w| w.agents.capacity() * 4 + w.offsets.capacity())
                .sum::<usize>()
            + self.ticks.capacity() * 24
            + self.groups.capacity() * 48
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wakes_in_order_and_clamps() {
        let mut w = Wheel::new(10);
        w.schedule(3, 7);
        w.schedule(3, 8);
        w.schedule(100, 9); // clamped to tick 9
        let mut buf = Vec::new();
        w.take(3, &mut buf);
        assert_eq!(buf, vec![7, 8]);
        w.give_back(3, std::mem::take(&mut buf));
        w.take(9, &mut buf);
        assert_eq!(buf, vec![9]);
    }

    /// Against one bucket per tick: every tick's agents, in the order they
    /// were scheduled, over several laps and group boundaries, for the
    /// horizons of 1-, 15- and 60-minute ticks and ones shorter than a group.
    #[test]
    fn matches_one_bucket_per_tick() {
        for horizon in [2 * 1440 + 2, 2 * 96 + 2, 2 * 24 + 2, 64, 65, 3] {
            matches_one_bucket_per_tick_over(horizon);
        }
    }

    fn matches_one_bucket_per_tick_over(horizon: usize) {
        let mut wheel = Wheel::new(horizon);
        let mut reference: Vec<Vec<u32>> = vec![Vec::new(); horizon];
        let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ horizon as u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut buf = Vec::new();
        let mut woken = 0;
        for agent in 0..2000u32 {
            let at = (next() % horizon as u64).clamp(1, horizon as u64 - 1);
            wheel.schedule(at, agent);
            reference[at as usize % horizon].push(agent);
        }
        for tick in 0..4 * horizon as u64 {
            wheel.take(tick, &mut buf);
            let expected = std::mem::take(&mut reference[tick as usize % horizon]);
            assert_eq!(buf, expected, "tick {tick} of horizon {horizon}");
            woken += buf.len();
            for &agent in &buf {
                // Near, far and beyond the horizon (clamped).
                let ahead = match next() % 4 {
                    0 => 1 + next() % 64,
                    1 => 1 + next() % 600,
                    2 => 1 + next() % (horizon as u64 - 1),
                    _ => horizon as u64 + next() % 100,
                };
                let at = (tick + ahead).min(tick + horizon as u64 - 1);
                wheel.schedule(tick + ahead, agent);
                reference[at as usize % horizon].push(agent);
            }
            wheel.give_back(tick, std::mem::take(&mut buf));
        }
        assert!(woken > 4000, "{woken} wakes over horizon {horizon}");
        assert_eq!(wheel.pending(), 2000);
    }
}
