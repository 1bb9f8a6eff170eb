//! When requests are due: an open-model arrival schedule.
//!
//! Arrival times are fixed before the run and never depend on responses
//! (like wrk2), so a slow answer cannot slow the offered load down and hide
//! itself. The rate is `rate × factor(virtual time)`, where the factor comes
//! from the scenario's surges and virtual time runs `compress` times faster
//! than real time. Arrivals are evenly spaced at the current rate (the
//! inverse of the cumulative rate), which is deterministic and needs no
//! random draw.

use hcsim_platform::Minute;
use serde::Serialize;
use std::time::Duration;

/// Decay is cut off after this many time constants (e^−5 < 1 %), as in
/// the simulation's surges.
const DECAY_SPAN: f64 = 5.0;

/// A period of raised (or lowered) demand, in virtual time, with the shape
/// `[[surge]]` gives it for `hcsim run`: intensity 0 → 1 over the ramp, 1
/// until the end of the peak, then e^(−t/decay).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Surge {
    pub start: Minute,
    /// From `start` to the end of the peak.
    pub duration_minutes: u32,
    pub ramp_minutes: u32,
    pub decay_minutes: u32,
    /// Rate multiplier at full intensity.
    pub factor: f64,
}

impl Surge {
    /// Intensity in 0..=1 at virtual minute `m`.
    pub fn intensity(&self, m: f64) -> f64 {
        let t = m - self.start.0 as f64;
        let (r, d, k) = (
            self.ramp_minutes as f64,
            self.duration_minutes as f64,
            self.decay_minutes as f64,
        );
        if t < 0.0 {
            0.0
        } else if t < r {
            t / r
        } else if t < d {
            1.0
        } else if k > 0.0 && t < d + DECAY_SPAN * k {
            (-(t - d) / k).exp()
        } else {
            0.0
        }
    }
}

/// The rate multiplier over virtual time: 1 outside every surge; where
/// surges overlap, the largest multiplier counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RateShape {
    pub surges: Vec<Surge>,
}

impl RateShape {
    pub fn constant() -> RateShape {
        RateShape::default()
    }

    /// The multiplier at virtual minute `m` (fractional).
    pub fn factor_at(&self, m: f64) -> f64 {
        self.surges
            .iter()
            .filter(|s| s.intensity(m) > 0.0)
            .map(|s| 1.0 + (s.factor - 1.0) * s.intensity(m))
            .reduce(f64::max)
            .unwrap_or(1.0)
    }
}

/// Maps the run's real time to the platform's virtual time.
#[derive(Copy, Clone, Debug, PartialEq, Serialize)]
pub struct Clock {
    pub start: Minute,
    /// Virtual seconds per real second.
    pub compress: f64,
}

impl Clock {
    pub fn virtual_minutes(&self, real: f64) -> f64 {
        self.start.0 as f64 + real * self.compress / 60.0
    }
    pub fn now(&self, real: Duration) -> Minute {
        Minute(
            self.virtual_minutes(real.as_secs_f64())
                .floor()
                .min(u32::MAX as f64) as u32,
        )
    }
}

/// The intended send time of every arrival of the run.
///
/// The run is cut into short steps of constant rate; `cumulative[k]` is the
/// number of arrivals due before step k. Arrival i is sent when the
/// cumulative count reaches i, so the i-th offset is found by a binary
/// search and needs no table of its own.
pub struct Schedule {
    step: f64,
    rates: Vec<f64>,
    cumulative: Vec<f64>,
    total: u64,
    duration: f64,
}

/// Whole arrivals below a cumulative count, forgiving the rounding of a
/// long float sum (1000/s for 2 s must give 2000, not 2001).
fn settle(count: f64) -> u64 {
    (count - 1e-6).ceil().max(0.0) as u64
}

/// Steps at most this long (seconds): fine enough to follow a ramp.
const STEP_MAX: f64 = 0.01;
/// And at most this many, so a long run stays small.
const STEPS_MAX: f64 = 200_000.0;

impl Schedule {
    pub fn new(rate: f64, duration: Duration, shape: &RateShape, clock: Clock) -> Schedule {
        let duration = duration.as_secs_f64();
        let steps = (duration / STEP_MAX).ceil().clamp(1.0, STEPS_MAX) as usize;
        let step = duration / steps as f64;
        let mut rates = Vec::with_capacity(steps);
        let mut cumulative = Vec::with_capacity(steps + 1);
        let mut sum = 0.0;
        cumulative.push(0.0);
        for k in 0..steps {
            let mid = (k as f64 + 0.5) * step;
            let r = (rate * shape.factor_at(clock.virtual_minutes(mid))).max(0.0);
            rates.push(r);
            sum += r * step;
            cumulative.push(sum);
        }
        // Arrival i is due when the count reaches i: 0, 1, ... below `sum`.
        let total = settle(sum);
        Schedule {
            step,
            rates,
            cumulative,
            total,
            duration,
        }
    }

    /// Arrivals in the run.
    pub fn len(&self) -> u64 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration)
    }

    /// When arrival `i` (< `len()`) is due, from the start of the run.
    pub fn offset(&self, i: u64) -> Duration {
        let x = i as f64;
        // The last step whose cumulative count is ≤ i; its rate is > 0
        // because the count grows past i within it.
        let k = self
            .cumulative
            .partition_point(|&c| c <= x)
            .saturating_sub(1);
        let k = k.min(self.rates.len() - 1);
        let within = if self.rates[k] > 0.0 {
            (x - self.cumulative[k]) / self.rates[k]
        } else {
            0.0
        };
        Duration::from_secs_f64((k as f64 * self.step + within).min(self.duration))
    }

    /// Arrivals due before `t` seconds into the run.
    pub fn due_before(&self, t: f64) -> u64 {
        if t <= 0.0 {
            return 0;
        }
        let t = t.min(self.duration);
        let k = ((t / self.step) as usize).min(self.rates.len() - 1);
        let c = self.cumulative[k] + self.rates[k] * (t - k as f64 * self.step);
        settle(c).min(self.total)
    }

    /// Mean rate over the run.
    pub fn mean_rate(&self) -> f64 {
        self.total as f64 / self.duration.max(1e-9)
    }

    /// The highest rate of any step.
    pub fn peak_rate(&self) -> f64 {
        self.rates.iter().copied().fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> Clock {
        Clock {
            start: Minute::parse("2020-10-01T08:00").unwrap(),
            compress: 60.0,
        }
    }

    #[test]
    fn constant_rate_is_evenly_spaced() {
        let s = Schedule::new(
            1000.0,
            Duration::from_secs(2),
            &RateShape::constant(),
            clock(),
        );
        assert_eq!(s.len(), 2000);
        assert_eq!(s.offset(0), Duration::ZERO);
        assert!((s.offset(500).as_secs_f64() - 0.5).abs() < 1e-9);
        assert!((s.offset(1999).as_secs_f64() - 1.999).abs() < 1e-9);
        assert_eq!(s.due_before(1.0), 1000);
        assert_eq!(s.due_before(5.0), 2000);
        for i in 1..s.len() {
            assert!(s.offset(i) > s.offset(i - 1));
        }
    }

    #[test]
    fn surge_multiplies_the_rate_in_virtual_time() {
        // One real second = one virtual minute; the surge covers virtual
        // minutes 08:10-08:20, i.e. real seconds 10-20 of a 30 s run.
        let shape = RateShape {
            surges: vec![Surge {
                start: Minute::parse("2020-10-01T08:10").unwrap(),
                duration_minutes: 10,
                ramp_minutes: 0,
                decay_minutes: 0,
                factor: 10.0,
            }],
        };
        let s = Schedule::new(100.0, Duration::from_secs(30), &shape, clock());
        assert_eq!(s.len(), 100 * 20 + 1000 * 10);
        assert_eq!(s.due_before(10.0), 1000);
        assert_eq!(s.due_before(20.0) - s.due_before(10.0), 10_000);
        assert!((s.peak_rate() - 1000.0).abs() < 1e-6);
        assert!((s.mean_rate() - 400.0).abs() < 1e-6);
    }

    #[test]
    fn ramp_decay_and_overlaps() {
        let m = |s: &str| Minute::parse(s).unwrap().0 as f64;
        let shape = RateShape {
            surges: vec![
                Surge {
                    start: Minute::parse("2020-10-01T09:00").unwrap(),
                    duration_minutes: 60,
                    ramp_minutes: 20,
                    decay_minutes: 10,
                    factor: 5.0,
                },
                Surge {
                    start: Minute::parse("2020-10-01T09:30").unwrap(),
                    duration_minutes: 10,
                    ramp_minutes: 0,
                    decay_minutes: 0,
                    factor: 8.0,
                },
            ],
        };
        let at = |s: &str| shape.factor_at(m(s));
        assert_eq!(at("2020-10-01T08:59"), 1.0);
        assert_eq!(at("2020-10-01T09:10"), 3.0);
        assert_eq!(at("2020-10-01T09:20"), 5.0);
        assert_eq!(at("2020-10-01T09:35"), 8.0);
        assert!((at("2020-10-01T10:10") - (1.0 + 4.0 * (-1.0f64).exp())).abs() < 1e-12);
        assert_eq!(at("2020-10-01T10:51"), 1.0);
    }
}
