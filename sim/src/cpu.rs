//! CPU time of this process: what the load generator's own work cost the
//! machine the target shares, and how many cores a run kept busy.

use rustix::time::{clock_gettime, ClockId};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

fn duration(t: rustix::time::Timespec) -> Duration {
    Duration::new(
        t.tv_sec.max(0) as u64,
        t.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// User and system time of every thread of this process so far.
pub fn process() -> Duration {
    duration(clock_gettime(ClockId::ProcessCPUTime))
}

/// User and system time of the calling thread so far.
pub fn thread() -> Duration {
    duration(clock_gettime(ClockId::ThreadCPUTime))
}

/// Runs under way in a process, and runs started so far.
#[derive(Default)]
pub struct Runs {
    running: AtomicUsize,
    started: AtomicU64,
}

/// This process's runs.
static RUNS: Runs = Runs {
    running: AtomicUsize::new(0),
    started: AtomicU64::new(0),
};

/// The process's CPU time over one run. The clock reads the whole
/// process, so the time is the run's own only if no other run shared the
/// process meanwhile (the gate runs its seeds side by side in one process).
pub struct RunClock<'a> {
    runs: &'a Runs,
    before: Duration,
    alone_at_start: bool,
    started: u64,
}

impl RunClock<'static> {
    pub fn start() -> RunClock<'static> {
        RunClock::start_among(&RUNS)
    }
}

impl<'a> RunClock<'a> {
    pub fn start_among(runs: &'a Runs) -> RunClock<'a> {
        let alone_at_start = runs.running.fetch_add(1, Ordering::SeqCst) == 0;
        let started = runs.started.fetch_add(1, Ordering::SeqCst) + 1;
        RunClock {
            runs,
            before: process(),
            alone_at_start,
            started,
        }
    }

    /// The CPU time since `start`, or `None` when another run was under
    /// way in the process at any moment since.
    pub fn read(&self) -> Option<Duration> {
        let elapsed = process().saturating_sub(self.before);
        let alone = self.alone_at_start && self.runs.started.load(Ordering::SeqCst) == self.started;
        alone.then_some(elapsed)
    }
}

impl Drop for RunClock<'_> {
    fn drop(&mut self) {
        self.runs.running.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counted among runs of its own, so that runs of other tests in this
    /// process do not change the answers.
    #[test]
    fn a_run_clock_reads_only_while_no_other_run_shares_the_process() {
        let runs = Runs::default();
        let alone = RunClock::start_among(&runs);
        spin();
        let first = alone.read().expect("alone so far");
        assert!(first > Duration::ZERO);
        {
            let beside = RunClock::start_among(&runs);
            assert_eq!(beside.read(), None, "started while another ran");
        }
        assert_eq!(alone.read(), None, "another run started meanwhile");
        drop(alone);
        let after = RunClock::start_among(&runs);
        spin();
        assert!(
            after.read().is_some_and(|t| t > Duration::ZERO),
            "the others have ended"
        );
    }

    fn spin() {
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        std::hint::black_box(x);
    }

    #[test]
    fn work_shows_in_thread_and_process_time() {
        let (p0, t0) = (process(), thread());
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        assert!(thread() > t0, "{x}");
        assert!(process() >= p0 + (thread() - t0) / 2);
    }
}
