//! Conservation: `summary.json` reports the same events from several
//! angles (nationally and per province, per interval, per colour and
//! decision, per recognition cell, per platform and operation), and every
//! angle must account for the same total. A miscounted or dropped counter
//! anywhere breaks one of these identities; `hcsim run` checks them all
//! at the end and fails with the broken identity named.
//!
//! Only identities that hold by construction are listed: a scan that is
//! still in flight when the run ends has been requested but not recorded,
//! so scans are bounded by requests rather than equal to them.

use hcsim_reports::summary::{
    FaultSummary, IntervalLoad, OpLatency, RecognitionCell, ScanTotals, Summary, TimelinePoint,
};
use std::collections::BTreeMap;
use std::fmt;

/// One identity that does not hold: `left` should equal `right` (or, for a
/// bound, not exceed it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    pub identity: String,
    pub left: u64,
    pub right: u64,
    pub bound: bool,
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = if self.bound { "≤" } else { "=" };
        write!(
            f,
            "{} does not hold: {} {op} {} is false",
            self.identity, self.left, self.right
        )
    }
}

#[derive(Default)]
struct Ledger {
    breaches: Vec<Breach>,
}

impl Ledger {
    fn equal(&mut self, identity: impl FnOnce() -> String, left: u64, right: u64) {
        if left != right {
            self.breaches.push(Breach {
                identity: identity(),
                left,
                right,
                bound: false,
            });
        }
    }

    fn at_most(&mut self, identity: impl FnOnce() -> String, left: u64, right: u64) {
        if left > right {
            self.breaches.push(Breach {
                identity: identity(),
                left,
                right,
                bound: true,
            });
        }
    }
}

/// A counter of `T` by name.
type Field<T> = (&'static str, fn(&T) -> u64);
/// A counter of `T` by name, with the total its values must add up to.
type Summed<T> = (&'static str, u64, fn(&T) -> u64);

const DECISIONS: [&str; 3] = ["pass", "refer", "refuse"];

fn get(m: &BTreeMap<String, u64>, k: &str) -> u64 {
    m.get(k).copied().unwrap_or(0)
}

/// Every identity `s` breaks; empty when the summary is consistent.
pub fn check(s: &Summary) -> Vec<Breach> {
    let mut l = Ledger::default();
    scans(&mut l, "scans", &s.scans);
    provinces(&mut l, s);
    timeline(&mut l, s);
    recognition(&mut l, s);
    platforms(&mut l, s);
    requests(&mut l, s);
    faults(&mut l, s);
    if let Some(o) = &s.oracle {
        l.equal(
            || "oracle.violations = Σ oracle.by_kind".into(),
            o.violations,
            o.by_kind.values().sum(),
        );
    }
    l.breaches
}

/// Every scan ends in a decision, "system busy" or an unknown answer, and
/// every decision shows a colour.
fn scans(l: &mut Ledger, at: &str, t: &ScanTotals) {
    let decided: u64 = t.by_decision.values().sum();
    l.equal(
        || format!("{at}.total = pass + refer + refuse + busy + unknown"),
        t.total,
        decided + t.busy + t.unknown,
    );
    l.equal(
        || format!("Σ {at}.by_color = Σ {at}.by_decision"),
        t.by_color.values().sum(),
        decided,
    );
}

fn provinces(l: &mut Ledger, s: &Summary) {
    let n = &s.scans;
    let sum = |f: &dyn Fn(&ScanTotals) -> u64| s.provinces.iter().map(|p| f(&p.scans)).sum();
    let fields: [Field<ScanTotals>; 5] = [
        ("total", |t| t.total),
        ("busy", |t| t.busy),
        ("unknown", |t| t.unknown),
        ("via_hub", |t| t.via_hub),
        ("closed", |t| t.closed),
    ];
    for (name, f) in fields {
        l.equal(
            || format!("Σ provinces[].scans.{name} = scans.{name}"),
            sum(&f),
            f(n),
        );
    }
    for d in DECISIONS {
        l.equal(
            || format!("Σ provinces[].scans.by_decision.{d} = scans.by_decision.{d}"),
            sum(&|t| get(&t.by_decision, d)),
            get(&n.by_decision, d),
        );
    }
    let colors: std::collections::BTreeSet<&String> = n
        .by_color
        .keys()
        .chain(s.provinces.iter().flat_map(|p| p.scans.by_color.keys()))
        .collect();
    for c in colors {
        l.equal(
            || format!("Σ provinces[].scans.by_color.{c} = scans.by_color.{c}"),
            sum(&|t| get(&t.by_color, c)),
            get(&n.by_color, c),
        );
    }
    l.equal(
        || "max provinces[].scans.wait_minutes_max = scans.wait_minutes_max".into(),
        s.provinces
            .iter()
            .map(|p| p.scans.wait_minutes_max)
            .max()
            .unwrap_or(0),
        n.wait_minutes_max,
    );
    for p in &s.provinces {
        let at = format!("provinces[{}].scans", p.province);
        scans(l, &at, &p.scans);
        l.equal(
            || {
                format!(
                    "Σ provinces[{}].scans_by_checkpoint = {at}.total",
                    p.province
                )
            },
            p.scans_by_checkpoint.values().sum(),
            p.scans.total,
        );
        let not_green = ["yellow", "orange", "red"];
        l.equal(
            || {
                format!(
                    "Σ provinces[{}].scans_not_green_by_checkpoint = {at}.by_color.{{yellow, orange, red}}",
                    p.province
                )
            },
            p.scans_not_green_by_checkpoint.values().sum(),
            not_green.iter().map(|c| get(&p.scans.by_color, c)).sum(),
        );
        for (kind, n) in &p.scans_not_green_by_checkpoint {
            l.at_most(
                || {
                    format!(
                        "provinces[{}].scans_not_green_by_checkpoint.{kind} ≤ its scans_by_checkpoint.{kind}",
                        p.province
                    )
                },
                *n,
                p.scans_by_checkpoint.get(kind).copied().unwrap_or(0),
            );
        }
        l.at_most(
            || format!("Σ provinces[{}].colors_at_end ≤ its citizens", p.province),
            p.colors_at_end.values().sum(),
            p.citizens,
        );
    }
}

fn timeline(l: &mut Ledger, s: &Summary) {
    let points = &s.timeline.points;
    let n = &s.scans;
    let fields: [Summed<TimelinePoint>; 7] = [
        ("scans", n.total, |p| p.scans),
        ("pass", get(&n.by_decision, "pass"), |p| p.pass),
        ("refer", get(&n.by_decision, "refer"), |p| p.refer),
        ("refuse", get(&n.by_decision, "refuse"), |p| p.refuse),
        ("busy", n.busy, |p| p.busy),
        ("unknown", n.unknown, |p| p.unknown),
        ("via_hub", n.via_hub, |p| p.via_hub),
    ];
    for (name, total, f) in fields {
        l.equal(
            || format!("Σ timeline.points[].{name} = scans total of {name}"),
            points.iter().map(f).sum(),
            total,
        );
    }
    l.equal(
        || "Σ timeline.points[].declarations = behaviour.declarations_acked".into(),
        points.iter().map(|p| p.declarations).sum(),
        s.behaviour.declarations_acked,
    );
    l.equal(
        || "max timeline.points[].wait_minutes_max = scans.wait_minutes_max".into(),
        points.iter().map(|p| p.wait_minutes_max).max().unwrap_or(0),
        n.wait_minutes_max,
    );
    // The last census is taken at the end, when the provinces' colours are.
    if let Some(last) = s.timeline.colors.last().filter(|c| c.at == s.scenario.end) {
        for p in &s.provinces {
            let census = last.provinces.get(&p.province);
            let colors: std::collections::BTreeSet<&String> = p
                .colors_at_end
                .keys()
                .chain(census.into_iter().flat_map(|c| c.keys()))
                .collect();
            for c in colors {
                l.equal(
                    || {
                        format!(
                            "timeline.colors[last].{}.{c} = provinces[{}].colors_at_end.{c}",
                            p.province, p.province
                        )
                    },
                    census.map_or(0, |m| get(m, c)),
                    get(&p.colors_at_end, c),
                );
            }
        }
    }
}

fn recognition(l: &mut Ledger, s: &Summary) {
    let cells = &s.recognition;
    let n = &s.scans;
    for c in cells {
        l.equal(
            || {
                format!(
                    "recognition[{}→{}].scans = pass + refer + refuse + unanswered",
                    c.issuer, c.receiver
                )
            },
            c.scans,
            c.pass + c.refer + c.refuse + c.unanswered,
        );
    }
    l.equal(
        || "Σ recognition[].scans = scans.total".into(),
        cells.iter().map(|c| c.scans).sum(),
        n.total,
    );
    let decided: [Field<RecognitionCell>; 3] = [
        ("pass", |c| c.pass),
        ("refer", |c| c.refer),
        ("refuse", |c| c.refuse),
    ];
    for (d, f) in decided {
        l.equal(
            || format!("Σ recognition[].{d} = scans.by_decision.{d}"),
            cells.iter().map(f).sum(),
            get(&n.by_decision, d),
        );
    }
    l.equal(
        || "Σ recognition[].unanswered = scans.busy + scans.unknown".into(),
        cells.iter().map(|c| c.unanswered).sum(),
        n.busy + n.unknown,
    );
    l.equal(
        || "Σ recognition[issuer ≠ receiver].scans = hub.cross_province_scans".into(),
        cells
            .iter()
            .filter(|c| c.issuer != c.receiver)
            .map(|c| c.scans)
            .sum(),
        s.hub.cross_province_scans,
    );
    for p in &s.provinces {
        l.equal(
            || {
                format!(
                    "Σ recognition[→{0}].scans = provinces[{0}].scans.total",
                    p.province
                )
            },
            cells
                .iter()
                .filter(|c| c.receiver == p.province)
                .map(|c| c.scans)
                .sum(),
            p.scans.total,
        );
    }
}

/// The capacity model's requests: by platform, operation and interval.
fn platforms(l: &mut Ledger, s: &Summary) {
    let platforms = &s.capacity.platforms;
    for p in platforms {
        let name = &p.platform;
        l.equal(
            || format!("capacity.platforms[{name}].requests = Σ its latency[].answered + busy"),
            p.requests,
            p.latency.values().map(|o| o.answered + o.busy).sum(),
        );
        l.equal(
            || format!("capacity.platforms[{name}].busy = Σ its latency[].busy"),
            p.busy,
            p.latency.values().map(|o| o.busy).sum(),
        );
        let series: [Summed<IntervalLoad>; 3] = [
            ("requests", p.requests, |t| t.requests),
            ("busy", p.busy, |t| t.busy),
            ("timeouts", p.timeouts, |t| t.timeouts),
        ];
        for (field, total, f) in series {
            l.equal(
                || format!("Σ capacity.platforms[{name}].timeline[].{field} = its {field}"),
                p.timeline.iter().map(f).sum(),
                total,
            );
        }
    }
    let ops: std::collections::BTreeSet<&String> = s
        .latency
        .keys()
        .chain(platforms.iter().flat_map(|p| p.latency.keys()))
        .collect();
    for op in ops {
        let national = s.latency.get(op);
        let of = |f: fn(&OpLatency) -> u64| -> u64 {
            platforms
                .iter()
                .filter_map(|p| p.latency.get(op))
                .map(f)
                .sum()
        };
        l.equal(
            || format!("Σ capacity.platforms[].latency.{op}.answered = latency.{op}.answered"),
            of(|o| o.answered),
            national.map_or(0, |o| o.answered),
        );
        l.equal(
            || format!("Σ capacity.platforms[].latency.{op}.busy = latency.{op}.busy"),
            of(|o| o.busy),
            national.map_or(0, |o| o.busy),
        );
    }
    for (i, point) in s.timeline.points.iter().enumerate() {
        let at = |f: fn(&IntervalLoad) -> u64| -> u64 {
            platforms
                .iter()
                .filter_map(|p| p.timeline.get(i))
                .map(f)
                .sum()
        };
        l.equal(
            || {
                format!(
                    "Σ capacity.platforms[].timeline[{i}].requests = timeline.points[{i}].platform_requests ({})",
                    point.start
                )
            },
            at(|t| t.requests),
            point.platform_requests,
        );
        l.equal(
            || {
                format!(
                    "Σ capacity.platforms[].timeline[{i}].busy = timeline.points[{i}].platform_busy ({})",
                    point.start
                )
            },
            at(|t| t.busy),
            point.platform_busy,
        );
    }
}

/// Requests the agents sent (`requests`) against what the platforms were
/// offered (`latency`): every retry and surge query is one more request.
fn requests(l: &mut Ledger, s: &Summary) {
    let sent = |op: &str| get(&s.requests, op);
    let offered = |op: &str| s.latency.get(op).map_or(0, |o| o.answered + o.busy);
    let r = &s.capacity.retries;
    // A checkpoint on ID cards (`degrade = "idcard"`) checks some people
    // without sending anything, so the scans offered can fall short of the
    // ones attempted by at most the ID-card checks; without them they match.
    // Retries still waiting when the run ended were counted, never sent.
    let attempted = sent("verify") + r.scan_retries.saturating_sub(r.scan_retries_pending);
    l.at_most(
        || {
            "latency.verify.answered + busy ≤ requests.verify + retries.scan_retries − scan_retries_pending"
                .into()
        },
        offered("verify"),
        attempted,
    );
    l.at_most(
        || {
            "requests.verify + retries.scan_retries − scan_retries_pending ≤ latency.verify.answered + busy + retries.idcard_checks"
                .into()
        },
        attempted,
        offered("verify") + r.idcard_checks,
    );
    let app = ["apply", "declare", "query"];
    let surge_queries: u64 = s.capacity.surges.iter().map(|x| x.queries).sum();
    l.equal(
        || {
            "Σ latency.{apply,declare,query}.answered + busy = requests.{apply,declare,query} + retries.app_retries − app_retries_pending + Σ surges[].queries"
                .into()
        },
        app.iter().map(|op| offered(op)).sum(),
        app.iter().map(|op| sent(op)).sum::<u64>()
            + r.app_retries.saturating_sub(r.app_retries_pending)
            + surge_queries,
    );
    l.at_most(
        || "scans.total ≤ requests.verify (a scan is recorded when answered)".into(),
        s.scans.total,
        sent("verify"),
    );
}

fn faults(l: &mut Ledger, s: &Summary) {
    let f = &s.faults;
    for (k, x) in f.faults.iter().enumerate() {
        let at = format!("faults[{k}] ({} {})", x.kind, x.province);
        l.equal(
            || format!("{at}.scans = pass + refer + refuse + busy + unknown"),
            x.scans,
            x.pass + x.refer + x.refuse + x.busy + x.unknown,
        );
        l.at_most(
            || format!("{at}.cross_province_green ≤ cross_province_scans"),
            x.cross_province_green,
            x.cross_province_scans,
        );
        l.at_most(
            || format!("{at}.cross_province_scans ≤ scans"),
            x.cross_province_scans,
            x.scans,
        );
    }
    let sum = |g: fn(&FaultSummary) -> u64| f.faults.iter().map(g).sum();
    l.equal(
        || "Σ faults[].lost_acknowledged_records = faults.lost_acknowledged_records".into(),
        sum(|x| x.lost_acknowledged_records),
        f.lost_acknowledged_records,
    );
    l.equal(
        || "Σ faults[].acknowledged_checked = faults.acknowledged_checked".into(),
        sum(|x| x.acknowledged_checked),
        f.acknowledged_checked,
    );
    l.equal(
        || "Σ faults[].records_recovered = faults.records_recovered".into(),
        sum(|x| x.records_recovered),
        f.records_recovered,
    );
}
