//! `load.json` and the terminal report of a load run.

use super::arrivals::Surge;
use super::workers::{Driven, Tick, LATE_US};
use super::workload::Mix;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub const SCHEMA_VERSION: u32 = 1;

/// Milliseconds, rounded to the microsecond so the file stays readable.
fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
    pub samples: u64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        if h.is_empty() {
            return Percentiles {
                p50: 0.0,
                p90: 0.0,
                p99: 0.0,
                p999: 0.0,
                max: 0.0,
                mean: 0.0,
                samples: 0,
            };
        }
        Percentiles {
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
            mean: h.mean().round() / 1000.0,
            samples: h.len(),
        }
    }
}

#[derive(Serialize, Debug, Clone)]
pub struct Latency {
    /// From the intended send time (coordinated omission corrected): what
    /// a citizen waiting at the checkpoint experiences.
    pub corrected_ms: Percentiles,
    /// From the actual send: what the target alone took.
    pub uncorrected_ms: Percentiles,
    /// How late requests left the generator.
    pub send_lag_ms: Percentiles,
}

#[derive(Serialize, Debug, Clone)]
pub struct Requested {
    pub requests: u64,
    pub rate_per_second: f64,
    pub peak_rate_per_second: f64,
}

#[derive(Serialize, Debug, Clone)]
pub struct Achieved {
    pub sent: u64,
    pub completed: u64,
    pub rate_per_second: f64,
    /// achieved / requested rate.
    pub ratio: f64,
    pub seconds: f64,
}

/// Who held the run back, if anyone.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LimitedBy {
    None,
    Target,
    Generator,
}

#[derive(Serialize, Debug, Clone)]
pub struct LoadReport {
    pub schema_version: u32,
    pub scenario: String,
    pub target: String,
    pub connections: usize,
    pub threads: usize,
    pub duration_seconds: f64,
    /// Virtual seconds per real second.
    pub compress: f64,
    pub virtual_start: String,
    pub virtual_end: String,
    pub surges: Vec<Surge>,
    /// `[[surge]]` entries without a `factor`: they leave the rate alone.
    pub surges_without_factor: usize,
    pub mix: Mix,
    pub population: usize,
    pub registration_seconds: f64,
    pub requested: Requested,
    pub achieved: Achieved,
    /// Arrivals never sent because the run ended first.
    pub dropped: u64,
    /// Sent but not answered before the run's time limit.
    pub unfinished: u64,
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
    pub latency: Latency,
    /// Sent > 2 ms late because every connection was busy waiting.
    pub late_no_connection: u64,
    /// Sent > 2 ms late although a connection was free.
    pub late_generator: u64,
    pub limited_by: LimitedBy,
    pub verdict: String,
    pub timeline: Vec<Tick>,
}

/// The parts of a report that describe the run rather than measure it.
pub struct Setup {
    pub scenario: String,
    pub target: String,
    pub connections: usize,
    pub threads: usize,
    pub compress: f64,
    pub virtual_start: String,
    pub virtual_end: String,
    pub surges: Vec<Surge>,
    pub surges_without_factor: usize,
    pub mix: Mix,
    pub population: usize,
    pub registration_seconds: f64,
}

/// Achieved within 5 % of requested counts as keeping up.
const KEPT_UP: f64 = 0.95;
/// Share of late sends above which someone is said to fall behind.
const LATE_SHARE: f64 = 0.01;

pub fn build(setup: Setup, d: &Driven, requested: Requested, duration_seconds: f64) -> LoadReport {
    let r = &d.recorder;
    // The run lasts at least its schedule; longer if answers trailed.
    let seconds = r
        .last_done
        .map_or(0.0, |t| {
            t.saturating_duration_since(d.started).as_secs_f64()
        })
        .max(duration_seconds);
    let rate = d.completed as f64 / seconds.max(1e-9);
    let ratio = if requested.rate_per_second > 0.0 {
        rate / requested.rate_per_second
    } else {
        1.0
    };
    let sent = d.sent.max(1) as f64;
    let no_conn = r.late_no_connection as f64 / sent;
    let generator = r.late_generator as f64 / sent;
    let connections = setup.connections;
    let (limited_by, verdict) = if ratio >= KEPT_UP
        && d.dropped == 0
        && no_conn < LATE_SHARE
        && generator < LATE_SHARE
    {
        (
            LimitedBy::None,
            format!(
                "kept up: achieved {:.1} % of the requested rate",
                ratio * 100.0
            ),
        )
    } else if no_conn >= generator {
        (
            LimitedBy::Target,
            format!(
                "the target could not keep up: achieved {:.1} % of the requested rate; {:.1} % of requests \
                 waited > 2 ms for one of the {connections} connections to be answered (the corrected \
                 latency includes that wait){}",
                ratio * 100.0,
                no_conn * 100.0,
                dropped_note(d.dropped)
            ),
        )
    } else {
        (
            LimitedBy::Generator,
            format!(
                "the generator could not keep up: achieved {:.1} % of the requested rate; {:.1} % of requests \
                 left > 2 ms late with a connection free (timer or CPU of this machine){}",
                ratio * 100.0,
                generator * 100.0,
                dropped_note(d.dropped)
            ),
        )
    };
    LoadReport {
        schema_version: SCHEMA_VERSION,
        scenario: setup.scenario,
        target: setup.target,
        connections,
        threads: setup.threads,
        duration_seconds,
        compress: setup.compress,
        virtual_start: setup.virtual_start,
        virtual_end: setup.virtual_end,
        surges: setup.surges,
        surges_without_factor: setup.surges_without_factor,
        mix: setup.mix,
        population: setup.population,
        registration_seconds: setup.registration_seconds,
        requested,
        achieved: Achieved {
            sent: d.sent,
            completed: d.completed,
            rate_per_second: rate,
            ratio,
            seconds,
        },
        dropped: d.dropped,
        unfinished: d.unfinished,
        ok: r.ok,
        errors: r.errors.clone(),
        latency: Latency {
            corrected_ms: Percentiles::of(&r.corrected),
            uncorrected_ms: Percentiles::of(&r.uncorrected),
            send_lag_ms: Percentiles::of(&r.send_lag),
        },
        late_no_connection: r.late_no_connection,
        late_generator: r.late_generator,
        limited_by,
        verdict,
        timeline: d.timeline.clone(),
    }
}

fn dropped_note(dropped: u64) -> String {
    if dropped > 0 {
        format!("; {dropped} arrivals were never sent before the run ended")
    } else {
        String::new()
    }
}

/// One progress line.
pub fn progress_line(t: &Tick) -> String {
    format!(
        "[{:>4} s] requested {:>8}/s  achieved {:>8}/s  p99 {:>9.3} ms  errors {:>6}  in flight {}",
        t.second, t.requested, t.completed, t.p99_ms, t.errors, t.in_flight
    )
}

/// The final report as printed on the terminal.
pub fn render(r: &LoadReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "target          {}  ({} connections, {} threads)",
        r.target, r.connections, r.threads
    );
    let _ = writeln!(
        s,
        "scenario        {}  virtual {} → {} ({}× compressed), {} surge(s)",
        r.scenario,
        r.virtual_start,
        r.virtual_end,
        r.compress,
        r.surges.len()
    );
    if r.surges_without_factor > 0 {
        let _ = writeln!(
            s,
            "note            {} [[surge]] entr(ies) without `factor` leave the load rate unchanged",
            r.surges_without_factor
        );
    }
    let _ = writeln!(
        s,
        "population      {} registered in {:.2} s (untimed); mix verify {} query {} declare {}",
        r.population, r.registration_seconds, r.mix.verify, r.mix.query, r.mix.declare
    );
    let _ = writeln!(
        s,
        "requested       {} requests, {:.0}/s mean, {:.0}/s peak",
        r.requested.requests, r.requested.rate_per_second, r.requested.peak_rate_per_second
    );
    let _ = writeln!(
        s,
        "achieved        {} sent, {} completed, {:.0}/s ({:.1} %) over {:.2} s{}",
        r.achieved.sent,
        r.achieved.completed,
        r.achieved.rate_per_second,
        r.achieved.ratio * 100.0,
        r.achieved.seconds,
        if r.dropped > 0 || r.unfinished > 0 {
            format!("; {} never sent, {} unanswered", r.dropped, r.unfinished)
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        s,
        "latency (ms)        p50      p90      p99    p99.9      max"
    );
    for (name, p) in [
        ("corrected", &r.latency.corrected_ms),
        ("uncorrected", &r.latency.uncorrected_ms),
        ("send lag", &r.latency.send_lag_ms),
    ] {
        let _ = writeln!(
            s,
            "  {name:<12} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
            p.p50, p.p90, p.p99, p.p999, p.max
        );
    }
    let errors: Vec<String> = r.errors.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let _ = writeln!(
        s,
        "answers         ok {}  errors {}",
        r.ok,
        if errors.is_empty() {
            "none".to_string()
        } else {
            errors.join(", ")
        }
    );
    let _ = writeln!(
        s,
        "late sends      {} waiting for a connection, {} generator-late (> {} ms)",
        r.late_no_connection,
        r.late_generator,
        LATE_US / 1000
    );
    let _ = writeln!(s, "verdict         {}", r.verdict);
    s
}
