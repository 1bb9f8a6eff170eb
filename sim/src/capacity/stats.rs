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
/// Longest latency tracked exactly: one hour. Admission limits (≤ 10 min)
/// and service times (≤ 1 min) keep every answered request below it.
const MAX_US: u64 = 3_600_000_000;

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

pub struct Stats {
    latency: Vec<[Option<Histogram<u64>>; OP_COUNT]>,
    /// "System busy" answers clients saw, by (platform, op).
    busy_replies: Vec<[u64; OP_COUNT]>,
    pub offered: [u64; PLATFORMS],
    pub refused: [u64; PLATFORMS],
    /// Served after the client had given up (`degrade = "none"`).
    pub timeouts: [u64; PLATFORMS],
    pub depth_max: [u64; PLATFORMS],
    series: Vec<Series>,
    national: Series,
    interval: usize,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            latency: (0..PLATFORMS).map(|_| Default::default()).collect(),
            busy_replies: vec![[0; OP_COUNT]; PLATFORMS],
            offered: [0; PLATFORMS],
            refused: [0; PLATFORMS],
            timeouts: [0; PLATFORMS],
            depth_max: [0; PLATFORMS],
            series: (0..PLATFORMS).map(|_| Series::default()).collect(),
            national: Series::default(),
            interval: 0,
        }
    }
}

impl Stats {
    /// Moves to reporting interval `k`, closing the ones before it.
    pub fn enter_interval(&mut self, k: usize) {
        while self.interval < k {
            // The national histogram is the platforms' merged at the close
            // rather than a third record per answer on the driver thread.
            for s in &self.series {
                if let Some(h) = s.hist.as_ref().filter(|h| !h.is_empty()) {
                    // Same bounds everywhere, so adding cannot fail.
                    let _ = self.national.hist.get_or_insert_with(histogram).add(h);
                }
            }
            for s in &mut self.series {
                s.close();
            }
            self.national.close();
            self.interval += 1;
        }
    }

    pub fn offered(&mut self, platform: usize) {
        self.offered[platform] += 1;
        self.series[platform].current.requests += 1;
        self.national.current.requests += 1;
    }

    pub fn refused(&mut self, platform: usize) {
        self.refused[platform] += 1;
        self.series[platform].current.busy += 1;
        self.national.current.busy += 1;
    }

    pub fn timed_out(&mut self, platform: usize) {
        self.timeouts[platform] += 1;
        self.series[platform].current.timeouts += 1;
        self.national.current.timeouts += 1;
    }

    pub fn queue_depth(&mut self, platform: usize, depth: u32) {
        let d = depth as u64;
        self.depth_max[platform] = self.depth_max[platform].max(d);
        let c = &mut self.series[platform].current;
        c.depth_max = c.depth_max.max(d);
        self.national.current.depth_max = self.national.current.depth_max.max(d);
    }

    pub fn answered(&mut self, platform: usize, op: Op, latency_us: u64) {
        record(&mut self.latency[platform][op_index(op)], latency_us);
        record(&mut self.series[platform].hist, latency_us);
    }

    pub fn busy_reply(&mut self, platform: usize, op: Op) {
        self.busy_replies[platform][op_index(op)] += 1;
    }

    /// Closes every interval up to `intervals` (the run's count).
    pub fn finish(&mut self, intervals: usize) {
        self.enter_interval(intervals);
    }

    pub fn platform_series(&self, platform: usize) -> Vec<IntervalLoad> {
        self.series[platform]
            .done
            .iter()
            .map(IntervalAcc::load)
            .collect()
    }

    pub fn national_series(&self) -> Vec<IntervalLoad> {
        self.national.done.iter().map(IntervalAcc::load).collect()
    }

    /// Latency by operation for one platform.
    pub fn platform_latency(&self, platform: usize) -> BTreeMap<String, OpLatency> {
        self.by_op(&[platform])
    }

    /// Latency by operation over `platforms`, merged in the order given.
    pub fn by_op(&self, platforms: &[usize]) -> BTreeMap<String, OpLatency> {
        let mut out = BTreeMap::new();
        for (k, op) in OPS.iter().enumerate() {
            let mut merged: Option<Histogram<u64>> = None;
            let mut busy = 0;
            for &p in platforms {
                busy += self.busy_replies[p][k];
                if let Some(h) = &self.latency[p][k] {
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
                },
            );
        }
        out
    }
}
