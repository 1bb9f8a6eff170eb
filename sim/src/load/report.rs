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
    /// Ended one way or another, failures included.
    pub completed: u64,
    /// Answered by the platform (busy and refused included; time-outs,
    /// connection and HTTP errors not).
    pub answered: u64,
    /// Answered requests per second.
    pub rate_per_second: f64,
    /// achieved / requested rate.
    pub ratio: f64,
    pub seconds: f64,
}

/// What the generator itself cost the machine while the schedule ran.
#[derive(Serialize, Debug, Clone)]
pub struct GeneratorCost {
    /// User and system CPU time of the generator's process, seconds.
    pub cpu_seconds: f64,
    /// `cpu_seconds` per completed request, microseconds.
    pub cpu_per_request_us: f64,
    /// `cpu_seconds` over the run's wall time and this machine's cores.
    pub machine_share: f64,
    pub cores: usize,
    /// In-process target: the platform's own work is in these figures.
    pub includes_target: bool,
    /// Set when the generator took so much of the machine it shares with
    /// the target that the target's figures are understated.
    pub warning: Option<String>,
}

/// A generator taking more than this share of the machine leaves the
/// local target less than half of it.
pub const GENERATOR_SHARE_MAX: f64 = 0.5;

impl GeneratorCost {
    pub fn new(
        cpu: std::time::Duration,
        completed: u64,
        seconds: f64,
        cores: usize,
        includes_target: bool,
    ) -> GeneratorCost {
        let cpu_seconds = cpu.as_secs_f64();
        let machine_share = cpu_seconds / (seconds.max(1e-9) * cores.max(1) as f64);
        let warning = (!includes_target && machine_share > GENERATOR_SHARE_MAX).then(|| {
            format!(
                "the generator took {:.0} % of this machine's {cores} cores, which the target on \
                 this machine shares: its rate and latency are understated (fewer --threads or a \
                 lower --rate leave it more)",
                machine_share * 100.0
            )
        });
        GeneratorCost {
            cpu_seconds,
            cpu_per_request_us: cpu_seconds * 1e6 / completed.max(1) as f64,
            machine_share,
            cores,
            includes_target,
            warning,
        }
    }
}

/// Two questions a load run answers separately: did the generator send
/// each request when the schedule said, and did the target answer the
/// requested rate.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Fewer than 1 % of requests left > 2 ms late with a connection free.
    pub schedule_kept: bool,
    /// The achieved rate reached `min_rate_share` of the requested rate.
    pub target_kept_up: bool,
    /// The share of the requested rate the target must answer
    /// (`--min-rate-share`).
    pub min_rate_share: f64,
    pub generator: String,
    pub target: String,
}

#[derive(Serialize, Debug, Clone)]
pub struct LoadReport {
    pub schema_version: u32,
    pub scenario: String,
    pub target: String,
    pub connections: usize,
    pub threads: usize,
    /// Most requests in flight on one connection.
    pub pipeline: usize,
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
    pub generator_cost: GeneratorCost,
    pub verdict: Verdict,
    pub timeline: Vec<Tick>,
}

/// The parts of a report that describe the run rather than measure it.
pub struct Setup {
    pub scenario: String,
    pub target: String,
    pub connections: usize,
    pub threads: usize,
    pub pipeline: usize,
    pub compress: f64,
    pub virtual_start: String,
    pub virtual_end: String,
    pub surges: Vec<Surge>,
    pub surges_without_factor: usize,
    pub mix: Mix,
    pub population: usize,
    pub registration_seconds: f64,
}

/// The default of `--min-rate-share`: achieved within 5 % of requested
/// counts as keeping up.
pub const MIN_RATE_SHARE: f64 = 0.95;
/// Share of late sends above which the generator is said to fall behind.
const LATE_SHARE: f64 = 0.01;

pub fn build(
    setup: Setup,
    d: &Driven,
    requested: Requested,
    duration_seconds: f64,
    min_rate_share: f64,
    generator_cost: GeneratorCost,
) -> LoadReport {
    let r = &d.recorder;
    // The run lasts at least its schedule; longer if answers trailed.
    let seconds = r
        .last_done
        .map_or(0.0, |t| {
            t.saturating_duration_since(d.started).as_secs_f64()
        })
        .max(duration_seconds);
    let answered = r.answered;
    let rate = answered as f64 / seconds.max(1e-9);
    let ratio = if requested.rate_per_second > 0.0 {
        rate / requested.rate_per_second
    } else {
        1.0
    };
    let connections = setup.connections;
    let verdict = judge(d, ratio, connections, min_rate_share);
    LoadReport {
        schema_version: SCHEMA_VERSION,
        scenario: setup.scenario,
        target: setup.target,
        connections,
        threads: setup.threads,
        pipeline: setup.pipeline,
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
            answered,
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
        generator_cost,
        verdict,
        timeline: d.timeline.clone(),
    }
}

/// The generator's and the target's verdicts, each from its own evidence:
/// late sends with a connection free are the generator's; the achieved
/// rate and the waits for a busy connection are the target's.
fn judge(d: &Driven, ratio: f64, connections: usize, min_rate_share: f64) -> Verdict {
    let r = &d.recorder;
    let sent = d.sent.max(1) as f64;
    let generator_late = r.late_generator as f64 / sent;
    let queued = r.late_no_connection as f64 / sent;
    let schedule_kept = generator_late < LATE_SHARE;
    let target_kept_up = ratio >= min_rate_share;
    let generator = if schedule_kept {
        format!(
            "kept its schedule: {:.1} % of requests left > 2 ms late with a connection free",
            generator_late * 100.0
        )
    } else {
        format!(
            "fell behind its schedule: {:.1} % of requests left > 2 ms late with a connection free \
             (timer or CPU of this machine), so the figures understate the target",
            generator_late * 100.0
        )
    };
    let target =
        format!(
        "{}: answered {:.1} % of the requested rate ({} {:.0} % required); {:.1} % of requests \
         waited > 2 ms for one of the {connections} connections to be answered (the corrected \
         latency includes that wait){}",
        if target_kept_up { "kept up" } else { "fell short" },
        ratio * 100.0,
        if target_kept_up { "at least" } else { "below the" },
        min_rate_share * 100.0,
        queued * 100.0,
        dropped_note(d.dropped)
    );
    Verdict {
        schedule_kept,
        target_kept_up,
        min_rate_share,
        generator,
        target,
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
        "target          {}  ({} connections, {} threads, up to {} in flight per connection)",
        r.target, r.connections, r.threads, r.pipeline
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
        "achieved        {} sent, {} answered, {:.0}/s ({:.1} %) over {:.2} s{}",
        r.achieved.sent,
        r.achieved.answered,
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
    let c = &r.generator_cost;
    let _ = writeln!(
        s,
        "generator cost  {:.2} µs CPU per request{}, {:.1} CPU-s, {:.0} % of {} cores",
        c.cpu_per_request_us,
        if c.includes_target {
            " (platform included)"
        } else {
            ""
        },
        c.cpu_seconds,
        c.machine_share * 100.0,
        c.cores
    );
    if let Some(w) = &c.warning {
        let _ = writeln!(s, "warning         {w}");
    }
    let _ = writeln!(s, "generator       {}", r.verdict.generator);
    let _ = writeln!(s, "target          {}", r.verdict.target);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::workers::Recorder;
    use tokio::time::Instant;

    fn driven(sent: u64, late_no_connection: u64, late_generator: u64) -> Driven {
        Driven {
            recorder: Recorder {
                late_no_connection,
                late_generator,
                answered: sent,
                ..Recorder::default()
            },
            started: Instant::now(),
            sent,
            completed: sent,
            dropped: 0,
            unfinished: 0,
            timeline: Vec::new(),
        }
    }

    #[test]
    fn queueing_at_the_target_does_not_say_it_fell_short() {
        // All answered at the requested rate, 1.8 % waited for a
        // connection: the target kept up, and the generator kept its
        // schedule.
        let v = judge(&driven(1000, 18, 0), 1.0, 64, MIN_RATE_SHARE);
        assert!(v.schedule_kept && v.target_kept_up, "{v:?}");
        assert!(
            v.target.starts_with("kept up: answered 100.0 %"),
            "{}",
            v.target
        );
        assert!(
            v.target.contains("1.8 % of requests waited"),
            "{}",
            v.target
        );
        assert!(
            v.generator.starts_with("kept its schedule"),
            "{}",
            v.generator
        );
    }

    #[test]
    fn each_side_is_judged_on_its_own_evidence() {
        let v = judge(&driven(1000, 0, 50), 0.74, 64, MIN_RATE_SHARE);
        assert!(!v.schedule_kept && !v.target_kept_up, "{v:?}");
        assert!(v.generator.starts_with("fell behind its schedule: 5.0 %"));
        assert!(v.target.starts_with(
            "fell short: answered 74.0 % of the requested rate (below the 95 % required)"
        ));
        // The required share is the user's.
        assert!(judge(&driven(1000, 0, 0), 0.74, 64, 0.7).target_kept_up);
    }
}
