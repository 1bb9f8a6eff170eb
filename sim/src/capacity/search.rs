//! Capacity search: the fewest servers per province that meet a service
//! level objective, found by bisection over whole runs.
//!
//! Provinces are searched together: every run sets each province to its
//! own candidate, and each province's result narrows only its own bracket.
//! That is sound because a province's queue depends only on its own servers
//! once the hub is fixed (the hub keeps the scenario's setting). Feedback
//! through the simulation (a busy scan changes nothing a citizen does
//! later, but retries move load between ticks) is caught by a confirming run
//! with the counts found; a province that fails it is searched again.

use crate::run::{run, RunOptions};
use crate::scenario::Scenario;
use hcsim_platform::api::Op;
use hcsim_platform::ProvinceId;
use hcsim_reports::summary::{PlatformLoad, Summary};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// A latency percentile, or the maximum.
#[derive(Copy, Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantile {
    P50,
    P90,
    P99,
    P999,
    Max,
}

#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Metric {
    Latency(Op, Quantile),
    /// Share of requests a platform refused as "system busy".
    Busy,
}

/// One term of an SLO, e.g. `scan.p99<300ms`.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    pub text: String,
    pub metric: Metric,
    /// Milliseconds for latency, a ratio (0..=1) for busy.
    pub limit: f64,
    /// `<=` rather than `<`.
    pub inclusive: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Slo {
    pub text: String,
    pub terms: Vec<Term>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("SLO term `{term}`: {message}")]
pub struct SloError {
    pub term: String,
    pub message: String,
}

fn op_named(s: &str) -> Option<Op> {
    Some(match s {
        "scan" | "verify" => Op::Verify,
        "query" => Op::Query,
        "declare" => Op::Declare,
        "apply" => Op::Apply,
        "hub_query" => Op::HubQuery,
        _ => return None,
    })
}

fn quantile_named(s: &str) -> Option<Quantile> {
    Some(match s {
        "p50" => Quantile::P50,
        "p90" => Quantile::P90,
        "p99" => Quantile::P99,
        "p99.9" | "p999" => Quantile::P999,
        "max" => Quantile::Max,
        _ => return None,
    })
}

fn number(s: &str) -> Option<f64> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x >= 0.0)
}

impl Term {
    fn parse(text: &str) -> Result<Term, SloError> {
        let fail = |message: String| SloError {
            term: text.to_string(),
            message,
        };
        let (lhs, rhs, inclusive) = if let Some((l, r)) = text.split_once("<=") {
            (l, r, true)
        } else if let Some((l, r)) = text.split_once('<') {
            (l, r, false)
        } else {
            return Err(fail(
                "expected `METRIC<LIMIT`, e.g. `scan.p99<300ms` or `busy<0.1%`".into(),
            ));
        };
        let (lhs, rhs) = (lhs.trim(), rhs.trim());
        if lhs == "busy" {
            let limit = match rhs.strip_suffix('%') {
                Some(pct) => number(pct).map(|x| x / 100.0),
                None => number(rhs),
            }
            .filter(|x| *x <= 1.0)
            .ok_or_else(|| {
                fail(format!(
                    "`{rhs}` is not a busy rate: give a percentage (`0.1%`) or a ratio within 0..=1"
                ))
            })?;
            return Ok(Term {
                text: text.to_string(),
                metric: Metric::Busy,
                limit,
                inclusive,
            });
        }
        let (op, q) = lhs.split_once('.').ok_or_else(|| {
            fail(format!(
                "unknown metric `{lhs}`: use `busy` or OPERATION.PERCENTILE, e.g. `scan.p99`"
            ))
        })?;
        let op = op_named(op).ok_or_else(|| {
            fail(format!(
                "unknown operation `{op}`: use scan, query, declare, apply or hub_query"
            ))
        })?;
        let q = quantile_named(q).ok_or_else(|| {
            fail(format!(
                "unknown percentile `{q}`: use p50, p90, p99, p99.9 or max"
            ))
        })?;
        let limit = if let Some(ms) = rhs.strip_suffix("ms") {
            number(ms)
        } else if let Some(s) = rhs.strip_suffix('s') {
            number(s).map(|x| x * 1000.0)
        } else {
            return Err(fail(format!(
                "`{rhs}` has no unit: write e.g. `300ms` or `0.3s`"
            )));
        }
        .ok_or_else(|| fail(format!("`{rhs}` is not a duration")))?;
        Ok(Term {
            text: text.to_string(),
            metric: Metric::Latency(op, q),
            limit,
            inclusive,
        })
    }

    /// The measured value on a platform: ms, or the busy ratio. `None`
    /// when the platform served none of that operation.
    pub fn value(&self, load: &PlatformLoad) -> Option<f64> {
        match self.metric {
            Metric::Busy => Some(load.busy_rate),
            Metric::Latency(op, q) => {
                let l = load.latency.get(op.as_str())?;
                if l.answered == 0 {
                    return None;
                }
                Some(match q {
                    Quantile::P50 => l.p50_ms,
                    Quantile::P90 => l.p90_ms,
                    Quantile::P99 => l.p99_ms,
                    Quantile::P999 => l.p999_ms,
                    Quantile::Max => l.max_ms,
                })
            }
        }
    }

    /// Whether the term holds on a platform; a platform that served none
    /// of the operation meets it trivially.
    pub fn holds(&self, load: &PlatformLoad) -> bool {
        match self.value(load) {
            None => true,
            Some(v) if self.inclusive => v <= self.limit,
            Some(v) => v < self.limit,
        }
    }

    /// Whether a province's server count can change this term: the hub's
    /// own lookups are the hub's business.
    fn for_provinces(&self) -> bool {
        !matches!(self.metric, Metric::Latency(Op::HubQuery, _))
    }
}

impl Slo {
    pub fn parse(text: &str) -> Result<Slo, SloError> {
        let terms = text
            .split(',')
            .map(str::trim)
            .map(|t| {
                if t.is_empty() {
                    Err(SloError {
                        term: t.to_string(),
                        message: "empty term (two commas, or a trailing comma)".into(),
                    })
                } else {
                    Term::parse(t)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Slo {
            text: text.to_string(),
            terms,
        })
    }

    pub fn province_met(&self, load: &PlatformLoad) -> bool {
        self.terms
            .iter()
            .filter(|t| t.for_provinces())
            .all(|t| t.holds(load))
    }
}

pub struct SearchOptions {
    pub threads: usize,
    pub max_servers: u32,
    /// Where each run's summary goes (overwritten run after run).
    pub scratch: PathBuf,
}

/// The bracket of one province: `lo` fails (0: nothing known), `hi` meets.
#[derive(Clone, Copy, Debug)]
struct Bracket {
    lo: u32,
    hi: Option<u32>,
    /// Meets nothing up to `max_servers`.
    hopeless: bool,
}

impl Bracket {
    fn done(&self) -> bool {
        self.hopeless || self.hi.is_some_and(|h| h <= self.lo + 1)
    }

    /// The count to try next, given the one just tried.
    fn next(&self, tried: u32, max: u32) -> u32 {
        match self.hi {
            _ if self.hopeless => max,
            Some(h) if self.done() => h,
            Some(h) => self.lo + (h - self.lo) / 2,
            None => tried.saturating_mul(2).max(self.lo + 1).min(max),
        }
    }

    fn learn(&mut self, tried: u32, met: bool, max: u32) {
        if met {
            self.hi = Some(self.hi.map_or(tried, |h| h.min(tried)));
        } else {
            self.lo = self.lo.max(tried);
            if self.hi.is_some_and(|h| h <= self.lo) {
                // Not monotone after all (queueing noise): search upwards again.
                self.hi = None;
            }
            self.hopeless = self.lo >= max;
        }
    }
}

/// One province's answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Found {
    pub province: String,
    pub servers: u32,
    /// The SLO held in the confirming run.
    pub met: bool,
    /// Each term's measured value in the confirming run (ms or ratio), in
    /// SLO order; `null` where the province served none of the operation.
    pub values: Vec<Option<f64>>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SearchResult {
    pub scenario: String,
    pub slo: String,
    pub terms: Vec<String>,
    pub max_servers: u32,
    /// Runs made, the confirming one included.
    pub runs: u32,
    pub hub_servers: u32,
    /// The hub's values for each term in the confirming run.
    pub hub_values: Vec<Option<f64>>,
    pub provinces: Vec<Found>,
    /// Every province met the SLO in the confirming run.
    pub confirmed: bool,
}

const MAX_RUNS: u32 = 64;

fn run_with(
    scenario: &Scenario,
    counts: &[(ProvinceId, u32)],
    opts: &SearchOptions,
) -> anyhow::Result<Summary> {
    let mut s = scenario.clone();
    for &(p, n) in counts {
        s.capacity.set_servers(p, n);
    }
    let run_opts = RunOptions {
        threads: opts.threads,
        out_dir: opts.scratch.clone(),
        progress: false,
    };
    Ok(run(&s, &run_opts)?.summary)
}

fn load_of<'a>(summary: &'a Summary, key: &str) -> Option<&'a PlatformLoad> {
    summary
        .capacity
        .platforms
        .iter()
        .find(|l| l.platform == key)
}

/// What a run found, for the search's log: each province's servers, busy
/// rate and whether it met the SLO (a count when there are many), and the
/// run's wall time, since at full size a search runs for an hour or more.
fn outcome(summary: &Summary, slo: &Slo, counts: &[(ProvinceId, u32)], started: Instant) -> String {
    let met = |p: ProvinceId| load_of(summary, p.key()).is_some_and(|l| slo.province_met(l));
    let provinces = if counts.len() <= 4 {
        counts
            .iter()
            .map(|&(p, n)| {
                let busy = load_of(summary, p.key()).map_or(0.0, |l| l.busy_rate);
                let verdict = if met(p) { "met" } else { "missed" };
                format!(
                    "{} {n} servers, busy {:.3} %, {verdict}",
                    p.key(),
                    busy * 100.0
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    } else {
        let n = counts.iter().filter(|&&(p, _)| met(p)).count();
        format!("{n} of {} provinces met the SLO", counts.len())
    };
    format!("{provinces} ({:.1} s)", started.elapsed().as_secs_f64())
}

/// One more run with `counts`, counted in `runs` and logged as `what` with
/// what it found.
fn logged_run(
    scenario: &Scenario,
    counts: &[(ProvinceId, u32)],
    opts: &SearchOptions,
    slo: &Slo,
    runs: &mut u32,
    what: &str,
    log: &mut dyn FnMut(&str),
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let summary = run_with(scenario, counts, opts)?;
    *runs += 1;
    log(&format!(
        "run {runs}, {what}: {}",
        outcome(&summary, slo, counts, started)
    ));
    Ok(summary)
}

/// Searches every simulated province; `log` hears one line per run.
pub fn search(
    scenario: &Scenario,
    slo: &Slo,
    opts: &SearchOptions,
    log: &mut dyn FnMut(&str),
) -> anyhow::Result<SearchResult> {
    let max = opts.max_servers.max(1);
    let provinces = scenario.provinces.clone();
    let mut runs = 0u32;
    // The scenario's own counts are the first guess.
    let started = Instant::now();
    let mut summary = run_with(scenario, &[], opts)?;
    runs += 1;
    let ran: Vec<(ProvinceId, u32)> = provinces
        .iter()
        .map(|&p| (p, load_of(&summary, p.key()).map_or(0, |l| l.servers)))
        .collect();
    log(&format!(
        "run {runs}, the scenario's counts: {}",
        outcome(&summary, slo, &ran, started)
    ));
    let mut counts: Vec<(ProvinceId, u32)> =
        ran.iter().map(|&(p, n)| (p, n.clamp(1, max))).collect();
    // The counts of the run `summary` came from.
    let mut last_run = Some(ran);
    let mut brackets = vec![
        Bracket {
            lo: 0,
            hi: None,
            hopeless: false,
        };
        provinces.len()
    ];
    // Search, confirm; a province that fails confirmation is searched
    // again from its bracket (at most a few rounds).
    for _round in 0..4 {
        loop {
            for (k, b) in brackets.iter_mut().enumerate() {
                let (p, n) = counts[k];
                let met = load_of(&summary, p.key()).is_some_and(|l| slo.province_met(l));
                if !b.done() {
                    b.learn(n, met, max);
                }
            }
            for (k, b) in brackets.iter().enumerate() {
                counts[k].1 = b.next(counts[k].1, max);
            }
            if brackets.iter().all(Bracket::done) || runs >= MAX_RUNS {
                break;
            }
            let open = brackets.iter().filter(|b| !b.done()).count();
            let what = format!("{open} province(s) still searching");
            summary = logged_run(scenario, &counts, opts, slo, &mut runs, &what, log)?;
            last_run = Some(counts.clone());
        }
        // Confirm with the counts found. A run is deterministic: when the
        // last run had exactly these counts, it is the confirming run (at
        // full size a run takes minutes).
        if last_run.as_ref() == Some(&counts) {
            log(&format!("run {runs} had these counts: it confirms them"));
        } else {
            summary = logged_run(scenario, &counts, opts, slo, &mut runs, "confirming", log)?;
            last_run = Some(counts.clone());
        }
        let mut all_met = true;
        for (k, b) in brackets.iter_mut().enumerate() {
            let (p, n) = counts[k];
            let met = load_of(&summary, p.key()).is_some_and(|l| slo.province_met(l));
            if !met && !b.hopeless {
                all_met = false;
                *b = Bracket {
                    lo: n,
                    hi: None,
                    hopeless: n >= max,
                };
            }
        }
        if all_met || runs >= MAX_RUNS {
            break;
        }
    }

    let values = |l: Option<&PlatformLoad>| -> Vec<Option<f64>> {
        slo.terms
            .iter()
            .map(|t| l.and_then(|l| t.value(l)))
            .collect()
    };
    let found: Vec<Found> = counts
        .iter()
        .map(|&(p, n)| {
            let l = load_of(&summary, p.key());
            Found {
                province: p.key().to_string(),
                servers: n,
                met: l.is_some_and(|l| slo.province_met(l)),
                values: values(l),
            }
        })
        .collect();
    let hub = load_of(&summary, "hub");
    Ok(SearchResult {
        scenario: scenario.name.clone(),
        slo: slo.text.clone(),
        terms: slo.terms.iter().map(|t| t.text.clone()).collect(),
        max_servers: max,
        runs,
        hub_servers: hub.map_or(0, |h| h.servers),
        hub_values: values(hub),
        confirmed: found.iter().all(|f| f.met),
        provinces: found,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcsim_reports::summary::OpLatency;

    #[test]
    fn parses_latency_and_busy_terms() {
        let slo = Slo::parse("scan.p99<300ms, busy<0.1%,query.p99.9<=1.5s").unwrap();
        assert_eq!(slo.terms.len(), 3);
        assert_eq!(
            slo.terms[0].metric,
            Metric::Latency(Op::Verify, Quantile::P99)
        );
        assert_eq!(slo.terms[0].limit, 300.0);
        assert_eq!(slo.terms[1].metric, Metric::Busy);
        assert!((slo.terms[1].limit - 0.001).abs() < 1e-15);
        assert_eq!(
            slo.terms[2].metric,
            Metric::Latency(Op::Query, Quantile::P999)
        );
        assert_eq!((slo.terms[2].limit, slo.terms[2].inclusive), (1500.0, true));
    }

    #[test]
    fn errors_name_the_offending_term() {
        let e = Slo::parse("scan.p99<300ms,bsy<1%").unwrap_err();
        assert_eq!(e.term, "bsy<1%");
        assert!(
            e.to_string()
                .starts_with("SLO term `bsy<1%`: unknown metric"),
            "{e}"
        );
        let e = Slo::parse("scan.p99<300").unwrap_err();
        assert!(e.to_string().contains("has no unit"), "{e}");
        let e = Slo::parse("scan.p98<3ms").unwrap_err();
        assert!(e.to_string().contains("unknown percentile `p98`"), "{e}");
        let e = Slo::parse("busy<150%").unwrap_err();
        assert_eq!(e.term, "busy<150%");
        let e = Slo::parse("scan.p99>3ms").unwrap_err();
        assert!(e.message.starts_with("expected `METRIC<LIMIT`"), "{e}");
        assert!(Slo::parse("busy<1%,").is_err());
    }

    #[test]
    fn a_platform_meets_terms_on_its_own_figures() {
        let slo = Slo::parse("scan.p99<300ms,busy<0.1%,hub_query.p99<1ms").unwrap();
        let mut load = PlatformLoad {
            busy_rate: 0.0005,
            ..PlatformLoad::default()
        };
        load.latency.insert(
            "verify".into(),
            OpLatency {
                answered: 10,
                p99_ms: 120.0,
                ..OpLatency::default()
            },
        );
        // hub_query is the hub's: a province is not held to it.
        assert!(slo.province_met(&load));
        load.busy_rate = 0.002;
        assert!(!slo.province_met(&load));
    }

    #[test]
    fn bracket_narrows_to_the_smallest_count_that_meets() {
        // Meets from 13 servers on.
        let meets = |n: u32| n >= 13;
        let mut b = Bracket {
            lo: 0,
            hi: None,
            hopeless: false,
        };
        let mut n = 2;
        for _ in 0..30 {
            if b.done() {
                break;
            }
            b.learn(n, meets(n), 1000);
            n = b.next(n, 1000);
        }
        assert!(b.done());
        assert_eq!(n, 13);
        // Nothing meets: hopeless at the maximum.
        let mut b = Bracket {
            lo: 0,
            hi: None,
            hopeless: false,
        };
        let mut n = 1;
        while !b.done() {
            b.learn(n, false, 64);
            n = b.next(n, 64);
        }
        assert_eq!(n, 64);
    }
}
