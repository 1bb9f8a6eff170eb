//! A timer wheel of agent wake-ups, one bucket per tick over a fixed horizon.
//! Each citizen has at most one pending wake, so the wheel holds 4 bytes per
//! citizen however long the plan.

/// Largest drained buffer a bucket keeps for its next lap. Kept buffers
/// add up to the day's total wakes (several per citizen), so only tiny
/// ones are kept: a bucket then holds about what is scheduled in it.
const KEEP_CAPACITY: usize = 16;

pub struct Wheel {
    buckets: Vec<Vec<u32>>,
    /// Absolute tick of bucket 0's current lap origin.
    now_tick: u64,
}

impl Wheel {
    pub fn new(horizon_ticks: usize) -> Wheel {
        Wheel {
            buckets: vec![Vec::new(); horizon_ticks.max(2)],
            now_tick: 0,
        }
    }

    pub fn horizon(&self) -> u64 {
        self.buckets.len() as u64
    }

    /// Schedules `agent` at absolute tick `at`. Past ticks run next tick;
    /// ticks beyond the horizon are clamped to its end (the agent re-plans).
    pub fn schedule(&mut self, at: u64, agent: u32) {
        let at = at.clamp(self.now_tick + 1, self.now_tick + self.horizon() - 1);
        let n = self.buckets.len();
        self.buckets[(at % n as u64) as usize].push(agent);
    }

    /// Takes the agents due at `tick`, which must not go backwards.
    pub fn take(&mut self, tick: u64, into: &mut Vec<u32>) {
        debug_assert!(tick >= self.now_tick);
        self.now_tick = tick;
        let n = self.buckets.len();
        into.clear();
        std::mem::swap(into, &mut self.buckets[(tick % n as u64) as usize]);
    }

    /// Returns a drained buffer so its allocation is reused, unless it is
    /// large: every bucket keeping its busiest lap's room would cost ~24
    /// bytes per citizen (measured at 1.41 M), against ~6 without.
    pub fn give_back(&mut self, tick: u64, mut buf: Vec<u32>) {
        let n = self.buckets.len();
        let slot = &mut self.buckets[(tick % n as u64) as usize];
        if slot.is_empty() && buf.capacity() <= KEEP_CAPACITY {
            buf.clear();
            *slot = buf;
        }
    }

    pub fn pending(&self) -> usize {
        self.buckets.iter().map(Vec::len).sum()
    }

    pub fn heap_bytes(&self) -> usize {
        self.buckets.iter().map(|b| b.capacity() * 4).sum::<usize>() + self.buckets.capacity() * 24
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
}
