//! Named run metrics: one place that knows how to read a figure from a run,
//! shared by the gate (thresholds, baselines), the run-vs-run diff and the
//! report's headline.
//!
//! A metric the summary does not carry yet (no oracle, no latency model in
//! this build) reads as `Reading::Missing` with the reason, so a gate can
//! report it as skipped instead of passing it silently.

use crate::summary::{Performance, Summary};

/// One finished run: its summary and, when present, how fast it ran.
#[derive(Clone, Copy)]
pub struct Run<'a> {
    pub summary: &'a Summary,
    pub performance: Option<&'a Performance>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    Value(f64),
    /// Why the run has no such figure.
    Missing(String),
}

impl Reading {
    pub fn value(&self) -> Option<f64> {
        match self {
            Reading::Value(v) => Some(*v),
            Reading::Missing(_) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    /// A share in 0..=1.
    Ratio,
    Minutes,
    Milliseconds,
    PerSecond,
    Seconds,
    Bytes,
}

/// Whether a metric is a function of the scenario and seed (it belongs in
/// `summary.json`) or of the machine that ran it (`performance.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Summary,
    Performance,
}

/// Whether a figure of the scenario and seed can differ between seeds. The
/// gate compares exactly only a figure that cannot: one that merely was the
/// same in every seed of a baseline may be a rare event none of them drew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    /// Drawn with the seed: it varies, or it is a rare event (a queue, a
    /// retry, a two-minute wait) that a baseline's seeds may all have missed.
    Seeded,
    /// Set by the scenario alone (its population, its world), whatever the
    /// seed.
    Scenario,
    /// 0 in every run of a correct project under any seed: a wrong answer
    /// or a lost record is a defect, never chance.
    Invariant,
}

impl Spread {
    /// The same in every seed by construction.
    pub fn fixed(self) -> bool {
        self != Spread::Seeded
    }
}

pub struct MetricDef {
    pub name: &'static str,
    pub description: &'static str,
    pub unit: Unit,
    pub source: Source,
    pub spread: Spread,
    read: fn(&Run) -> Reading,
}

impl MetricDef {
    pub fn read(&self, run: &Run) -> Reading {
        (self.read)(run)
    }
}

pub fn find(name: &str) -> Option<&'static MetricDef> {
    METRICS.iter().find(|m| m.name == name)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    METRICS.iter().map(|m| m.name)
}

fn count(v: u64) -> Reading {
    Reading::Value(v as f64)
}

fn share(part: u64, whole: u64, of_what: &str) -> Reading {
    if whole == 0 {
        Reading::Missing(format!("no {of_what} in this run"))
    } else {
        Reading::Value(part as f64 / whole as f64)
    }
}

fn decision(run: &Run, d: &str) -> u64 {
    run.summary.scans.by_decision.get(d).copied().unwrap_or(0)
}

fn color(run: &Run, c: &str) -> u64 {
    run.summary.scans.by_color.get(c).copied().unwrap_or(0)
}

fn perf(run: &Run, f: fn(&Performance) -> f64) -> Reading {
    match run.performance {
        Some(p) => Reading::Value(f(p)),
        None => Reading::Missing("no performance.json for this run".into()),
    }
}

/// Scans refused or left unanswered where the code's issuer is not the
/// scanning province: the cost of failed mutual recognition.
fn recognition(run: &Run, f: fn(&crate::summary::RecognitionCell) -> u64) -> u64 {
    run.summary
        .recognition
        .iter()
        .filter(|c| c.issuer != c.receiver)
        .map(f)
        .sum()
}

/// A latency figure of one operation, when the capacity model measured it.
fn latency(run: &Run, op: &str, f: fn(&crate::summary::OpLatency) -> f64) -> Reading {
    match run.summary.latency.get(op) {
        Some(l) if l.answered > 0 => Reading::Value(f(l)),
        _ => Reading::Missing(format!(
            "summary.json has no `{op}` latency (no capacity model in this run)"
        )),
    }
}

fn capacity(run: &Run, f: fn(&crate::summary::CapacitySummary) -> f64) -> Reading {
    if run.summary.capacity.platforms.is_empty() {
        Reading::Missing(
            "summary.json has no platform loads (no capacity model in this run)".into(),
        )
    } else {
        Reading::Value(f(&run.summary.capacity))
    }
}

/// Acknowledged records missing: those the oracle's end-of-run audit could
/// not read back, plus those missing after a platform crash and recovery
/// (a `platform-crash` fault). Missing only when neither audit ran.
fn lost_records(run: &Run) -> Reading {
    let f = &run.summary.faults;
    let after_crash = (f.crashes_recovered > 0).then_some(f.lost_acknowledged_records);
    let at_end = run.summary.oracle.as_ref().map(|o| o.lost_records);
    match (after_crash, at_end) {
        (None, None) => Reading::Missing(
            "summary.json has no record audit (no oracle and no platform crash in this run)".into(),
        ),
        (a, b) => count(a.unwrap_or(0) + b.unwrap_or(0)),
    }
}

/// Acknowledged records no audit read back: a crashed province still down
/// when the run ended, and the oracle's end-of-run reads answered busy.
/// Missing only when neither audit was due.
fn unchecked_records(run: &Run) -> Reading {
    let f = &run.summary.faults;
    let crashed = f.faults.iter().any(|x| x.restarted.is_some());
    let at_end = run.summary.oracle.as_ref().map(|o| o.audit_unanswered);
    match (crashed, at_end) {
        (false, None) => Reading::Missing(
            "summary.json has no record audit (no oracle and no platform crash in this run)".into(),
        ),
        (_, a) => count(f.acknowledged_unchecked + a.unwrap_or(0)),
    }
}

/// Where a failing figure comes from, for the gate's message: the provinces
/// that ended the run down, with the records no audit read back.
pub fn context(name: &str, run: &Run) -> Option<String> {
    let f = &run.summary.faults;
    match name {
        "unchecked_records" | "lost_records" if !f.down_at_end.is_empty() => Some(format!(
            "down at the end of the run: {} ({} acknowledged records unchecked{})",
            f.down_at_end.join(", "),
            f.acknowledged_unchecked,
            run.summary
                .oracle
                .as_ref()
                .filter(|o| o.audit_unanswered > 0)
                .map_or(String::new(), |o| format!(
                    ", {} end-of-run reads answered busy",
                    o.audit_unanswered
                ))
        )),
        _ => None,
    }
}

/// A figure of the rule oracle, when the run had one.
fn oracle(run: &Run, f: fn(&crate::summary::OracleSummary) -> u64) -> Reading {
    match &run.summary.oracle {
        Some(o) => count(f(o)),
        None => Reading::Missing(
            "summary.json carries no rule oracle section (the scenario disabled it)".into(),
        ),
    }
}

/// `metric!(name, unit, source, [spread,] description, read)`; the spread
/// is `Seeded` unless given.
macro_rules! metric {
    ($name:literal, $unit:ident, $source:ident, $desc:literal, $read:expr) => {
        metric!($name, $unit, $source, Seeded, $desc, $read)
    };
    ($name:literal, $unit:ident, $source:ident, $spread:ident, $desc:literal, $read:expr) => {
        MetricDef {
            name: $name,
            description: $desc,
            unit: Unit::$unit,
            source: Source::$source,
            spread: Spread::$spread,
            read: $read,
        }
    };
}

/// Every metric, in the order tables show them.
pub static METRICS: &[MetricDef] = &[
    metric!(
        "citizens",
        Count,
        Summary,
        Scenario,
        "simulated citizens",
        |r| count(r.summary.citizens)
    ),
    metric!(
        "checkpoints",
        Count,
        Summary,
        Scenario,
        "checkpoints in the world",
        |r| count(r.summary.checkpoints)
    ),
    metric!("scans", Count, Summary, "code scans at checkpoints", |r| {
        count(r.summary.scans.total)
    }),
    metric!("scans_pass", Count, Summary, "scans decided pass", |r| {
        count(decision(r, "pass"))
    }),
    metric!(
        "scans_refer",
        Count,
        Summary,
        "scans referred to staff",
        |r| count(decision(r, "refer"))
    ),
    metric!("scans_refuse", Count, Summary, "scans refused", |r| count(
        decision(r, "refuse")
    )),
    metric!(
        "refuse_rate",
        Ratio,
        Summary,
        "refused scans / scans",
        |r| { share(decision(r, "refuse"), r.summary.scans.total, "scans") }
    ),
    metric!(
        "scans_green",
        Count,
        Summary,
        "scans showing a green code",
        |r| count(color(r, "green"))
    ),
    metric!(
        "scans_white",
        Count,
        Summary,
        "scans showing a white code",
        |r| count(color(r, "white"))
    ),
    metric!(
        "scans_yellow",
        Count,
        Summary,
        "scans showing a yellow code",
        |r| count(color(r, "yellow"))
    ),
    metric!(
        "scans_orange",
        Count,
        Summary,
        "scans showing an orange code",
        |r| count(color(r, "orange"))
    ),
    metric!(
        "scans_red",
        Count,
        Summary,
        "scans showing a red code",
        |r| count(color(r, "red"))
    ),
    metric!(
        "busy",
        Count,
        Summary,
        "scans answered \"system busy\"",
        |r| count(r.summary.scans.busy)
    ),
    metric!(
        "scan_busy_rate",
        Ratio,
        Summary,
        "scans answered busy / scans",
        |r| { share(r.summary.scans.busy, r.summary.scans.total, "scans") }
    ),
    metric!(
        "platform_requests",
        Count,
        Summary,
        "requests offered to all platforms (retries count again)",
        |r| {
            count(
                r.summary
                    .timeline
                    .points
                    .iter()
                    .map(|p| p.platform_requests)
                    .sum(),
            )
        }
    ),
    metric!(
        "busy_rate",
        Ratio,
        Summary,
        "platform requests the capacity model refused \"system busy\" / requests offered (a crashed platform's answers are a fault's, counted under faults)",
        |r| {
            let points = &r.summary.timeline.points;
            let requests: u64 = points.iter().map(|p| p.platform_requests).sum();
            if requests == 0 {
                return Reading::Missing(
                    "summary.json counts no platform requests (no capacity model in this run)"
                        .into(),
                );
            }
            share(
                points.iter().map(|p| p.platform_busy).sum(),
                requests,
                "platform requests",
            )
        }
    ),
    metric!(
        "queue_depth_max",
        Count,
        Summary,
        "longest request queue on any one platform",
        |r| {
            capacity(r, |c| {
                c.platforms
                    .iter()
                    .map(|p| p.queue_depth_max as f64)
                    .fold(0.0, f64::max)
            })
        }
    ),
    metric!(
        "utilization_max",
        Ratio,
        Summary,
        "busiest platform's server utilization",
        |r| {
            capacity(r, |c| {
                c.platforms
                    .iter()
                    .map(|p| p.utilization)
                    .fold(0.0, f64::max)
            })
        }
    ),
    metric!(
        "failing_minutes",
        Minutes,
        Summary,
        "minutes the platforms were failing, all together (summary.json `failing`)",
        |r| match capacity(r, |_| 0.0) {
            Reading::Value(_) => Reading::Value(f64::from(r.summary.failing.minutes)),
            missing => missing,
        }
    ),
    metric!(
        "scan_retries",
        Count,
        Summary,
        "rescans after \"system busy\"",
        |r| { count(r.summary.capacity.retries.scan_retries) }
    ),
    metric!(
        "scan_gave_up",
        Count,
        Summary,
        "people who could not be verified after every try",
        |r| { count(r.summary.capacity.retries.scan_gave_up) }
    ),
    metric!(
        "unknown",
        Count,
        Summary,
        "scans of an unknown code or document",
        |r| count(r.summary.scans.unknown)
    ),
    metric!(
        "via_hub",
        Count,
        Summary,
        "scans answered through the national hub",
        |r| count(r.summary.scans.via_hub)
    ),
    metric!(
        "closed",
        Count,
        Summary,
        "arrivals at a closed checkpoint",
        |r| count(r.summary.scans.closed)
    ),
    metric!(
        "still_queued",
        Count,
        Summary,
        "people queueing when the run ended",
        |r| count(r.summary.scans.still_queued)
    ),
    metric!(
        "wait_minutes_mean",
        Minutes,
        Summary,
        "mean checkpoint wait",
        |r| { Reading::Value(r.summary.scans.wait_minutes_mean) }
    ),
    metric!(
        "wait_minutes_max",
        Minutes,
        Summary,
        "longest checkpoint wait",
        |r| count(r.summary.scans.wait_minutes_max)
    ),
    metric!(
        "recognition_refused",
        Count,
        Summary,
        "scans of another system's code that were refused",
        |r| { count(recognition(r, |c| c.refuse)) }
    ),
    metric!(
        "recognition_unanswered",
        Count,
        Summary,
        "scans of another system's code left unanswered",
        |r| { count(recognition(r, |c| c.unanswered)) }
    ),
    metric!(
        "recognition_disagreements",
        Count,
        Summary,
        Invariant,
        "recognitions that mapped a code to a more lenient one",
        |r| oracle(r, |o| o.recognition_disagreements)
    ),
    metric!(
        "violations",
        Count,
        Summary,
        Invariant,
        "oracle disagreements with the platform's codes",
        |r| oracle(r, |o| o.violations)
    ),
    metric!(
        "lost_records",
        Count,
        Summary,
        Invariant,
        "acknowledged declarations the platform lost",
        lost_records
    ),
    metric!(
        "unchecked_records",
        Count,
        Summary,
        "acknowledged records no audit read back (a province down at the end, reads answered busy)",
        unchecked_records
    ),
    metric!(
        "scan_p50_ms",
        Milliseconds,
        Summary,
        "median scan verification latency",
        |r| latency(r, "verify", |l| l.p50_ms)
    ),
    metric!(
        "scan_p99_ms",
        Milliseconds,
        Summary,
        "99th percentile scan verification latency",
        |r| { latency(r, "verify", |l| l.p99_ms) }
    ),
    metric!(
        "scan_p999_ms",
        Milliseconds,
        Summary,
        "99.9th percentile scan verification latency",
        |r| { latency(r, "verify", |l| l.p999_ms) }
    ),
    metric!(
        "query_p99_ms",
        Milliseconds,
        Summary,
        "99th percentile code query latency",
        |r| { latency(r, "query", |l| l.p99_ms) }
    ),
    metric!("confirmed", Count, Summary, "confirmed cases", |r| count(
        r.summary.epidemic.confirmed
    )),
    metric!(
        "close_contacts",
        Count,
        Summary,
        "close contacts traced",
        |r| count(r.summary.epidemic.close_contacts)
    ),
    metric!(
        "released",
        Count,
        Summary,
        "people released from quarantine",
        |r| count(r.summary.epidemic.released)
    ),
    metric!(
        "nat_tests",
        Count,
        Summary,
        "nucleic-acid tests",
        |r| count(r.summary.epidemic.nat_tests)
    ),
    metric!(
        "nat_positive",
        Count,
        Summary,
        "positive nucleic-acid tests",
        |r| count(r.summary.epidemic.nat_positive)
    ),
    metric!(
        "risk_changes",
        Count,
        Summary,
        "county risk-level changes",
        |r| count(r.summary.epidemic.risk_changes)
    ),
    metric!(
        "declarations_acked",
        Count,
        Summary,
        "health declarations acknowledged",
        |r| { count(r.summary.behaviour.declarations_acked) }
    ),
    metric!(
        "trips_started",
        Count,
        Summary,
        "interprovincial trips started",
        |r| count(r.summary.behaviour.trips_started)
    ),
    metric!(
        "events_processed",
        Count,
        Summary,
        "agent activations, messages and requests",
        |r| { count(r.summary.events_processed) }
    ),
    metric!(
        "model_bytes_per_citizen",
        Bytes,
        Summary,
        "bytes per citizen in the model's own arrays",
        |r| { Reading::Value(r.summary.memory.bytes_per_citizen) }
    ),
    metric!(
        "events_per_second",
        PerSecond,
        Performance,
        "events per wall-clock second",
        |r| { perf(r, |p| p.events_per_second) }
    ),
    metric!(
        "wall_seconds",
        Seconds,
        Performance,
        "wall time of the run",
        |r| perf(r, |p| p.wall_seconds)
    ),
    metric!(
        "peak_rss_bytes",
        Bytes,
        Performance,
        "peak resident memory",
        |r| perf(r, |p| p.peak_rss_bytes as f64)
    ),
    metric!(
        "rss_bytes_per_citizen",
        Bytes,
        Performance,
        "peak RSS growth per citizen",
        |r| { perf(r, |p| p.rss_bytes_per_citizen) }
    ),
];
