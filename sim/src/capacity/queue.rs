//! One platform's servers: a FIFO multi-server queue in virtual
//! microseconds, with admission control.
//!
//! Requests must be offered in arrival order. Each takes the server that
//! frees first, which is exactly FIFO M/G/c: start = max(arrival, earliest
//! free), so the wait is known the moment a request arrives and admission
//! control can refuse it before it costs any server time. Server state
//! carries over from tick to tick, so a backlog outlives the burst that
//! caused it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// What became of a request offered to a station.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// The predicted wait was above the limit: "system busy".
    Busy,
    Served {
        wait_us: u64,
        /// When its service ends.
        done_us: u64,
        /// Requests waiting (not yet in service) just after it arrived, itself included.
        queue_depth: u32,
    },
}

pub struct Station {
    /// When each server is next free.
    free_at: BinaryHeap<Reverse<u64>>,
    /// Start times of admitted requests not yet in service. Nondecreasing,
    /// because FIFO starts requests in arrival order.
    waiting: VecDeque<u64>,
    max_wait_us: u64,
    /// Server time spent, for utilisation.
    pub busy_us: u64,
}

impl Station {
    pub fn new(servers: u32, max_wait_us: u64) -> Station {
        Station {
            free_at: (0..servers.max(1)).map(|_| Reverse(0)).collect(),
            waiting: VecDeque::new(),
            max_wait_us,
            busy_us: 0,
        }
    }

    pub fn servers(&self) -> u32 {
        self.free_at.len() as u32
    }

    /// Offers a request arriving at `at_us` needing `service_us`. With
    /// `admit_always` (data feeds, which are queued but never refused) the
    /// limit does not apply.
    pub fn offer(&mut self, at_us: u64, service_us: u64, admit_always: bool) -> Admission {
        let Some(&Reverse(free)) = self.free_at.peek() else {
            return Admission::Busy;
        };
        let wait_us = free.saturating_sub(at_us);
        if wait_us > self.max_wait_us && !admit_always {
            return Admission::Busy;
        }
        let start = at_us + wait_us;
        let done_us = start + service_us;
        self.free_at.pop();
        self.free_at.push(Reverse(done_us));
        self.busy_us += service_us;
        while self.waiting.front().is_some_and(|&s| s <= at_us) {
            self.waiting.pop_front();
        }
        if wait_us > 0 {
            self.waiting.push_back(start);
        }
        Admission::Served {
            wait_us,
            done_us,
            queue_depth: self.waiting.len() as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served(a: Admission) -> (u64, u64, u32) {
        match a {
            Admission::Served {
                wait_us,
                done_us,
                queue_depth,
            } => (wait_us, done_us, queue_depth),
            Admission::Busy => panic!("refused"),
        }
    }

    #[test]
    fn one_server_known_arrivals_give_known_waits() {
        // Service 10 each; arrivals at 0, 2, 4, 30: the second waits until
        // 10, the third until 20, the fourth finds the server idle.
        let mut s = Station::new(1, u64::MAX);
        assert_eq!(served(s.offer(0, 10, false)), (0, 10, 0));
        assert_eq!(served(s.offer(2, 10, false)), (8, 20, 1));
        assert_eq!(served(s.offer(4, 10, false)), (16, 30, 2));
        assert_eq!(served(s.offer(30, 10, false)), (0, 40, 0));
        assert_eq!(s.busy_us, 40);
    }

    #[test]
    fn two_servers_share_the_queue() {
        let mut s = Station::new(2, u64::MAX);
        assert_eq!(served(s.offer(0, 10, false)).0, 0);
        assert_eq!(served(s.offer(0, 4, false)).0, 0);
        // The second server frees first, at 4.
        assert_eq!(served(s.offer(1, 10, false)), (3, 14, 1));
        assert_eq!(served(s.offer(1, 10, false)), (9, 20, 2));
    }

    #[test]
    fn admission_refuses_above_the_limit_and_costs_nothing() {
        let mut s = Station::new(1, 5);
        served(s.offer(0, 10, false));
        // Would wait 9 > 5.
        assert_eq!(s.offer(1, 10, false), Admission::Busy);
        assert_eq!(s.busy_us, 10);
        // Would wait 5 = limit: admitted.
        assert_eq!(served(s.offer(5, 10, false)).0, 5);
        // Feeds are queued whatever the wait.
        assert_eq!(served(s.offer(6, 1, true)).0, 14);
    }
}
