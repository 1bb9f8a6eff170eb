//! The generator's own CPU time, so a report can say what each request
//! cost the machine the target shares.

use rustix::time::{clock_gettime, ClockId};
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

#[cfg(test)]
mod tests {
    use super::*;

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
