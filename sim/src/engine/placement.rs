//! Which worker hosts which shard: a pure function of the shard count and
//! the number of workers, so every process computes the same map without
//! asking, and `performance.json` can print it.

use serde::Serialize;

/// How a run's workers are laid out: `threads` per process, `processes`
/// in all; worker `w` is thread `w % threads` of process `w / threads`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Placement {
    pub shards: u32,
    pub threads: usize,
    pub processes: usize,
}

impl Placement {
    pub fn workers(&self) -> usize {
        self.threads * self.processes
    }

    /// Shards go round-robin: the world's shard plan already balances
    /// citizens per shard, so neighbours in index have similar loads.
    pub fn owner(&self, shard: u32) -> usize {
        shard as usize % self.workers()
    }

    pub fn shards_of(&self, worker: usize) -> impl Iterator<Item = u32> + '_ {
        (0..self.shards).filter(move |s| self.owner(*s) == worker)
    }

    pub fn process_of(&self, worker: usize) -> usize {
        worker / self.threads
    }

    pub fn thread_of(&self, worker: usize) -> usize {
        worker % self.threads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shard_has_exactly_one_owner() {
        let p = Placement {
            shards: 10,
            threads: 2,
            processes: 2,
        };
        let mut seen: Vec<u32> = (0..p.workers()).flat_map(|w| p.shards_of(w)).collect();
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        assert_eq!(p.shards_of(3).collect::<Vec<_>>(), vec![3, 7]);
        assert_eq!(p.process_of(3), 1);
    }
}
