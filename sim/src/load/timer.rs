//! A wake-up to the microsecond for the generator's event loop.
//!
//! epoll's own timeout counts whole milliseconds, so a loop sleeping on it
//! would send every request up to a millisecond late, and that lateness
//! would be added to every corrected latency. A timerfd in the same epoll
//! set wakes the loop when the next arrival is due, or when a socket is
//! ready, whichever comes first.

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use rustix::fd::{AsRawFd as _, OwnedFd};
use rustix::time::{
    timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags,
    Timespec,
};
use std::io;
use std::time::{Duration, Instant};

pub struct Timer {
    fd: OwnedFd,
    /// When the armed timer fires, if it is armed.
    armed: Option<Instant>,
}

impl Timer {
    pub fn new(registry: &Registry, token: Token) -> io::Result<Timer> {
        let fd = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        registry.register(&mut SourceFd(&fd.as_raw_fd()), token, Interest::READABLE)?;
        Ok(Timer { fd, armed: None })
    }

    /// Makes sure the loop wakes by `at`. A timer already set to fire
    /// between now and `at` is left alone: waking early costs one empty
    /// turn of the loop, re-arming costs a system call every turn.
    pub fn wake_by(&mut self, at: Instant, now: Instant) -> io::Result<()> {
        if self.armed.is_some_and(|a| a <= at && a > now) {
            return Ok(());
        }
        // A zero value would disarm the timer instead of firing it.
        let wait = at
            .saturating_duration_since(now)
            .max(Duration::from_micros(1));
        let spec = Itimerspec {
            it_interval: Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: Timespec {
                tv_sec: wait.as_secs() as _,
                tv_nsec: wait.subsec_nanos() as _,
            },
        };
        timerfd_settime(&self.fd, TimerfdTimerFlags::empty(), &spec)?;
        self.armed = Some(now + wait);
        Ok(())
    }

    /// The timer fired: clears its count so the next expiry wakes the
    /// loop again.
    pub fn fired(&mut self) {
        let mut count = [0u8; 8];
        let _ = rustix::io::read(&self.fd, &mut count);
        self.armed = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wakes_the_poll_when_due_and_not_before() {
        let mut poll = mio::Poll::new().unwrap();
        let mut events = mio::Events::with_capacity(4);
        let mut timer = Timer::new(poll.registry(), Token(0)).unwrap();
        let now = Instant::now();
        timer.wake_by(now + Duration::from_millis(3), now).unwrap();
        // A later wish does not push the wake-up back.
        timer
            .wake_by(now + Duration::from_secs(60), Instant::now())
            .unwrap();
        poll.poll(&mut events, Some(Duration::from_secs(10)))
            .unwrap();
        assert!(events.iter().any(|e| e.token() == Token(0)));
        assert!(Instant::now() >= now + Duration::from_millis(3));
        timer.fired();
        // Disarmed after firing: nothing more comes.
        poll.poll(&mut events, Some(Duration::from_millis(20)))
            .unwrap();
        assert!(events.is_empty());
    }
}
