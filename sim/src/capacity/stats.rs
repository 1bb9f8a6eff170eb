//! What the capacity model measures: latency histograms per (platform,
//! operation), busy answers, queue depth, and the same per reporting
//! interval.
//!
//! Latencies are virtual-time integers (microseconds) recorded in request
//! order, and histograms are merged in platform order, so the figures are a
//! function of the scenario alone. Histograms are created on first use:
//! each holds ~190 KiB.

use hcsim_platform::api::{Op, OPS};
use hcsim_platform::PROVINCE_COUNT;
use hcsim_reports::summary::{IntervalLoad, OpLatency};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;

/// 31 provincial platforms, then the hub.
pub const PLATFORMS: usize = PROVINCE_COUNT + 1;
pub const HUB: usize = PROVINCE_COUNT;
const OP_COUNT: usize = OPS.len();
/// Longest latency tracked: one hour. Admission limits (≤ 10 min) and
/// service times (≤ 1 min) keep every request answered under admission
/// control below it; without (`degrade = "none"`) queues can pass it, and
/// such requests are counted as `capped`.
const MAX_US: u64 = (hcsim_reports::summary::LATENCY_CAP_MS * 1000.0) as u64;

pub fn op_index(op: Op) -> usize {
    OPS.iter().position(|o| *o == op).unwrap_or(0)
}

fn histogram<C: hdrhistogram::Counter>() -> Histogram<C> {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("constant histogram bounds are valid")
}

fn record<C: hdrhistogram::Counter>(h: &mut Option<Histogram<C>>, us: u64) {
    h.get_or_insert_with(histogram)
        .saturating_record(us.clamp(1, MAX_US));
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// A ratio of two counters, rounded so that no float noise reaches a file.
pub fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 1e6).round() / 1e6
    }
}

#[derive(Clone, Copy, Default)]
struct IntervalAcc {
    requests: u64,
    busy: u64,
    timeouts: u64,
    p99_us: u64,
    depth_max: u64,
}

impl IntervalAcc {
    fn load(&self) -> IntervalLoad {
        IntervalLoad {
            requests: self.requests,
            busy: self.busy,
            busy_rate: rate(self.busy, self.requests),
            timeouts: self.timeouts,
            failed_rate: rate(self.busy + self.timeouts, self.requests),
            p99_ms: ms(self.p99_us),
            queue_depth_max: self.depth_max,
        }
    }
}

/// Per-interval figures for one platform, or for all together.
#[derive(Default)]
struct Series {
    done: Vec<IntervalAcc>,
    current: IntervalAcc,
    /// 32-bit counts: an interval is far from 4 G answers, and the half-size
    /// histograms stay in cache on the driver thread, which records one per
    /// answer.
    hist: Option<Histogram<u32>>,
}

impl Series {
    fn close(&mut self) {
        let mut acc = std::mem::take(&mut self.current);
        if let Some(h) = &mut self.hist {
            acc.p99_us = if h.is_empty() {
                0
            } else {
                h.value_at_quantile(0.99)
            };
            h.reset();
        }
        self.done.push(acc);
    }
}

/// One platform's figures. Only its own lane writes them, so provinces'
/// lanes can be admitted in parallel.
#[derive(Default)]
pub struct PlatformStats {
    latency: [Option<Histogram<u64>>; OP_COUNT],
    /// "System busy" answers clients saw, by op.
    busy_replies: [u64; OP_COUNT],
    pub offered: u64,
    pub refused: u64,
    /// Served after the client had given up (`degrade = "none"`).
    pub timeouts: u64,
    pub depth_max: u64,
    series: Series,
    /// Answers not yet in the histograms: (op index, latency in µs, at most
    /// `MAX_US`). A platform's histograms are large and cold by its next
    /// answer, so recording each answer as it comes missed the cache twice;
    /// recorded a few thousand at a time, they stay warm. The counts do
    /// not depend on when they are added.
    pending: Vec<(u8, u32)>,
}

/// Answers a platform holds before it records them.
const PENDING_MAX: usize = 4096;

impl PlatformStats {
    pub fn offered(&mut self) {
        self.offered += 1;
        self.series.current.requests += 1;
    }

    pub fn refused(&mut self) {
        self.refused += 1;
        self.series.current.busy += 1;
    }

    pub fn timed_out(&mut self) {
        self.timeouts += 1;
        self.series.current.timeouts += 1;
    }

    pub fn queue_depth(&mut self, depth: u32) {
        let d = depth as u64;
        self.depth_max = self.depth_max.max(d);
        let c = &mut self.series.current;
        c.depth_max = c.depth_max.max(d);
    }

    pub fn answered(&mut self, op: Op, latency_us: u64) {
        let us = latency_us.clamp(1, MAX_US) as u32;
        self.pending.push((op_index(op) as u8, us));
        if self.pending.len() >= PENDING_MAX {
            self.flush();
        }
    }

    /// Records the answers held back by `answered`: before any histogram
    /// is read.
    pub fn flush(&mut self) {
        for &(k, us) in &self.pending {
            record(&mut self.latency[k as usize], us as u64);
        }
        for &(_, us) in &self.pending {
            record(&mut self.series.hist, us as u64);
        }
        self.pending.clear();
    }

    pub fn busy_reply(&mut self, op: Op) {
        self.busy_replies[op_index(op)] += 1;
    }

    /// Creates the histograms answers of `ops` (bits by `op_index`) will be
    /// recorded in. Lanes are admitted on worker threads; histograms made
    /// there would live in those threads' allocator arenas and leave them
    /// fragmented (tens of MB at national scale).
    pub fn prepare(&mut self, ops: u32) {
        for (k, h) in self.latency.iter_mut().enumerate() {
            if ops & (1 << k) != 0 {
                h.get_or_insert_with(histogram);
            }
        }
        if ops != 0 {
            self.series.hist.get_or_insert_with(histogram);
            self.pending.reserve(PENDING_MAX);
        }
    }

    pub fn series(&self) -> Vec<IntervalLoad> {
        self.series.done.iter().map(IntervalAcc::load).collect()
    }
}

/// All platforms together, per reporting interval: made from the
/// platforms' figures when an interval closes.
#[derive(Default)]
pub struct National {
    series: Series,
    interval: usize,
}

impl National {
    /// Whether moving to interval `k` closes any.
    pub fn closes_before(&self, k: usize) -> bool {
        self.interval < k
    }

    /// Moves to reporting interval `k`, closing the ones before it. Every
    /// platform's interval closes; only the counted ones add to the nation's.
    pub fn enter_interval(&mut self, k: usize, platforms: &mut [(bool, &mut PlatformStats)]) {
        while self.interval < k {
            let n = &mut self.series;
            for (counted, p) in platforms.iter_mut() {
                p.flush();
                if !*counted {
                    p.series.close();
                    continue;
                }
                let c = &p.series.current;
                n.current.requests += c.requests;
                n.current.busy += c.busy;
                n.current.timeouts += c.timeouts;
                n.current.depth_max = n.current.depth_max.max(c.depth_max);
                if let Some(h) = p.series.hist.as_ref().filter(|h| !h.is_empty()) {
                    // Same bounds everywhere, so adding cannot fail.
                    let _ = n.hist.get_or_insert_with(histogram).add(h);
                }
                p.series.close();
            }
            n.close();
            self.interval += 1;
        }
    }

    pub fn series(&self) -> Vec<IntervalLoad> {
        self.series.done.iter().map(IntervalAcc::load).collect()
    }
}

/// Latency by operation over `platforms`, merged in the order given.
pub fn by_op(platforms: &[&PlatformStats]) -> BTreeMap<String, OpLatency> {
    let mut out = BTreeMap::new();
    for (k, op) in OPS.iter().enumerate() {
        let mut merged: Option<Histogram<u64>> = None;
        let mut busy = 0;
        for p in platforms {
            busy += p.busy_replies[k];
            if let Some(h) = &p.latency[k] {
                let m = merged.get_or_insert_with(histogram);
                // Same bounds everywhere, so adding cannot fail.
                let _ = m.add(h);
            }
        }
        let answered = merged.as_ref().map_or(0, |h| h.len());
        if answered + busy == 0 {
            continue;
        }
        let q = |x: f64| merged.as_ref().map_or(0.0, |h| ms(h.value_at_quantile(x)));
        out.insert(
            op.as_str().to_string(),
            OpLatency {
                answered,
                busy,
                busy_rate: rate(busy, answered + busy),
                p50_ms: q(0.5),
                p90_ms: q(0.9),
                p99_ms: q(0.99),
                p999_ms: q(0.999),
                max_ms: merged.as_ref().map_or(0.0, |h| ms(h.max())),
                capped: merged.as_ref().map_or(0, |h| {
                    h.count_between(h.lowest_equivalent(MAX_US), h.highest_equivalent(MAX_US))
                }),
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Latencies as a platform's answers bring them, 1 µs to ~1 s.
    fn latencies(n: usize, salt: u64) -> Vec<u64> {
        (0..n as u64)
            .map(|k| (k * 2_654_435_761 + salt) % 1_000_000 + 1)
            .collect()
    }

    /// Answers held back to be recorded together still count in the
    /// interval they came in, and in the run's figures, however many the
    /// platform held when a figure was read.
    #[test]
    fn answers_held_back_count_in_their_interval_and_in_the_run() {
        let mut platform = PlatformStats::default();
        let mut nation = National::default();
        platform.prepare(u32::MAX);
        // More than the platform holds at once, then a few.
        let first = latencies(PENDING_MAX * 2 + 100, 7);
        let second = latencies(10, 11);
        let mut run: Histogram<u64> = histogram();
        let mut p99 = Vec::new();
        for (k, interval) in [&first, &second].into_iter().enumerate() {
            let mut alone: Histogram<u64> = histogram();
            for &us in interval {
                platform.offered();
                platform.answered(Op::Verify, us);
                alone.record(us).unwrap();
                run.record(us).unwrap();
            }
            p99.push(ms(alone.value_at_quantile(0.99)));
            nation.enter_interval(k + 1, &mut [(true, &mut platform)]);
        }
        let series = platform.series();
        assert_eq!(series.len(), 2);
        for (k, interval) in [&first, &second].into_iter().enumerate() {
            assert_eq!(series[k].requests, interval.len() as u64);
            assert_eq!(series[k].p99_ms, p99[k], "interval {k}");
            assert_eq!(
                nation.series()[k].p99_ms,
                p99[k],
                "the nation's interval {k}"
            );
        }
        // The rest is recorded before the run's figures are read.
        platform.answered(Op::Verify, 999_999);
        run.record(999_999).unwrap();
        platform.flush();
        let verify = &by_op(&[&platform])["verify"];
        assert_eq!(
            verify.answered,
            first.len() as u64 + second.len() as u64 + 1
        );
        assert_eq!(verify.p50_ms, ms(run.value_at_quantile(0.5)));
        assert_eq!(verify.p99_ms, ms(run.value_at_quantile(0.99)));
        assert_eq!(verify.max_ms, ms(run.max()));
    }
}
