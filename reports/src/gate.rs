//! The CI gate: a scenario's runs under several seeds against absolute
//! limits and against a baseline's samples. A metric the runs do not carry,
//! or a baseline that lacks it, makes its check SKIPPED with the reason:
//! never a silent pass.
//!
//! - `[limits]` hold in every run; with `for_minutes` they are read per
//!   timeline interval and fail on a sustained breach (`timeline`).
//! - `[baseline]` metrics are compared sample against sample with the
//!   Mann–Whitney U test (`stats`), Holm-corrected at the file's `alpha`
//!   across the metrics tested, and fail only when the change is both
//!   significant and beyond the metric's threshold. Each states the
//!   smallest change its seeds could detect (`power`).
//! - A metric that was the same in every baseline seed is compared exactly
//!   only when it is so by construction (`metrics::Spread`: set by the
//!   scenario, or 0 in every correct run). Otherwise it is a rare event the
//!   baseline's seeds happened to miss: the candidate seeds that show
//!   another value are tested (`stats::unseen_p`, Fisher's exact test),
//!   Holm-corrected with the rest, so one chance queue in 16 seeds passes
//!   and a queue in most of them fails.
//!
//! A baseline of one run (format 1), or a single candidate run, cannot
//! tell change from noise: its `[baseline]` checks fall back to the plain
//! ratio of the two values, and say so.

pub mod baseline;
pub mod power;
pub mod stats;
pub mod thresholds;
pub mod timeline;

pub use baseline::Baseline;
pub use thresholds::{Limit, RatioLimit, Thresholds};

use crate::format;
use crate::metrics::{self, MetricDef, Reading, Run, Source, Unit};
use crate::table::{self, Align};
use power::Detectable;
use timeline::Breach;

/// One run of the gate: the seed it ran under (runs repeated for
/// wall-clock figures share a seed).
#[derive(Clone, Copy)]
pub struct Sample<'a> {
    pub seed: u64,
    pub run: Run<'a>,
}

/// Peak RSS is the process's, and the gate runs its seeds in one process:
/// only a gate of one run measures it.
const PER_PROCESS: &[&str] = &["peak_rss_bytes", "rss_bytes_per_citizen"];

/// The seeds of `samples`, each once, in order.
pub fn distinct_seeds(samples: &[Sample]) -> Vec<u64> {
    let mut seeds: Vec<u64> = Vec::new();
    for s in samples {
        if !seeds.contains(&s.seed) {
            seeds.push(s.seed);
        }
    }
    seeds
}

/// A metric's samples: one per seed for a figure of the scenario and seed
/// (repeats give the same value), one per run for a figure of the machine.
/// The reason when any run lacks it.
pub fn values(def: &MetricDef, samples: &[Sample]) -> Result<Vec<f64>, String> {
    if samples.len() > 1 && PER_PROCESS.contains(&def.name) {
        return Err(format!(
            "{} is the gate process's, shared by its {} runs: a gate of one run measures it",
            def.name,
            samples.len()
        ));
    }
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for s in samples {
        if def.source == Source::Summary {
            if seen.contains(&s.seed) {
                continue;
            }
            seen.push(s.seed);
        }
        match def.read(&s.run) {
            Reading::Value(v) => out.push(v),
            Reading::Missing(why) => return Err(why),
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Pass,
    Fail,
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skipped => "SKIPPED",
        }
    }
}

/// What kind of failure a check's failure is: each has its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Wrong answers or lost records.
    Correctness,
    /// The project got worse than its baseline, or its outcome moved.
    Regression,
    /// A platform overloaded: busy answers, failing minutes, latency, queues.
    Capacity,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Correctness => "correctness",
            Class::Regression => "regression",
            Class::Capacity => "capacity",
        }
    }

    /// The class of an absolute limit on `metric`.
    pub fn of_limit(metric: &str) -> Class {
        match metric {
            "violations" | "lost_records" | "unchecked_records" | "recognition_disagreements" => {
                Class::Correctness
            }
            "busy" | "busy_rate" | "scan_busy_rate" | "failing_minutes" | "queue_depth_max"
            | "utilization_max" | "scan_retries" | "scan_gave_up" | "still_queued"
            | "wait_minutes_mean" | "wait_minutes_max" | "scan_p50_ms" | "scan_p99_ms"
            | "scan_p999_ms" | "query_p99_ms" => Class::Capacity,
            _ => Class::Regression,
        }
    }
}

/// A `[baseline]` metric's two samples and the test between them.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleTest {
    pub baseline_n: usize,
    pub candidate_n: usize,
    pub baseline_median: f64,
    pub candidate_median: f64,
    pub baseline_sd: f64,
    pub candidate_sd: f64,
    /// Candidate median / baseline median − 1 (for a value the baseline
    /// never showed, the candidates' mean / the baseline's value − 1: the
    /// median sees it only once it is in half the seeds); ±∞ from 0.
    pub change: Option<f64>,
    pub p: f64,
    /// Holm-adjusted across the metrics tested.
    pub p_holm: f64,
    pub method: TestMethod,
    pub detectable: Detectable,
}

/// How a check's samples were tested.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TestMethod {
    /// The Mann–Whitney U test of the candidates against the baseline.
    Ranks { u: f64, method: stats::Method },
    /// Every baseline seed showed `value` and `differing` candidate seeds
    /// did not: the chance of that unchanged (`stats::unseen_p`).
    Unseen { value: f64, differing: usize },
}

impl TestMethod {
    pub fn describe(&self) -> &'static str {
        match self {
            TestMethod::Ranks {
                method: stats::Method::Exact,
                ..
            } => "mann-whitney-u, exact",
            TestMethod::Ranks {
                method: stats::Method::Normal,
                ..
            } => "mann-whitney-u, normal approximation",
            TestMethod::Unseen { .. } => "fisher exact, a value no baseline seed showed",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    /// `limits`, `baseline`, `exact` (the same in every seed by
    /// construction) or `rare` (the same in every baseline seed by chance):
    /// where the check came from.
    pub group: &'static str,
    pub metric: String,
    /// The check as a person reads it: `busy_rate <= 1.00 %`.
    pub name: String,
    /// The run's value (the worst seed's for a limit, the candidates'
    /// median against a baseline).
    pub value: Option<f64>,
    pub unit: Unit,
    /// The bound(s) the value had to meet, written out.
    pub limit: String,
    pub status: Status,
    /// Why it failed or was skipped, or what a sustained limit saw.
    pub reason: String,
    pub class: Class,
    pub test: Option<SampleTest>,
    /// A sustained limit's longest breach, and its seed.
    pub window: Option<(Breach, u64)>,
}

impl CheckResult {
    pub fn value_text(&self) -> String {
        self.value
            .map_or("n/a".into(), |v| format::value(v, self.unit))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub scenario: String,
    /// The scenario's own seed.
    pub seed: u64,
    /// The seeds the candidate ran under.
    pub seeds: Vec<u64>,
    pub runs: usize,
    pub alpha: f64,
    pub checks: Vec<CheckResult>,
    /// What each test could detect, one line per metric tested.
    pub power: Vec<String>,
    /// Thresholds finer than their test can see.
    pub warnings: Vec<String>,
}

/// What to compare relative checks against.
pub enum BaselineSource<'a> {
    /// No `--baseline` was given.
    None,
    /// `--update-baseline`: these runs are the new baseline, so comparing
    /// with them would prove nothing.
    Updated,
    Loaded {
        path: &'a str,
        baseline: &'a Baseline,
    },
}

impl Verdict {
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    pub fn passed(&self) -> bool {
        self.count(Status::Fail) == 0
    }

    /// The classes of the failed checks, most severe first.
    pub fn failed_classes(&self) -> Vec<Class> {
        let mut classes: Vec<Class> = self
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| c.class)
            .collect();
        classes.sort();
        classes.dedup();
        classes
    }

    pub fn to_text(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .checks
            .iter()
            .map(|c| {
                let (change, p) = match &c.test {
                    Some(t) => (
                        t.change.map_or("n/a".into(), signed_percent),
                        format!("{} ({})", p_text(t.p), p_text(t.p_holm)),
                    ),
                    None => (String::new(), String::new()),
                };
                vec![
                    c.name.clone(),
                    c.value_text(),
                    c.limit.clone(),
                    change,
                    p,
                    c.status.as_str().into(),
                    c.reason.clone(),
                ]
            })
            .collect();
        let align = [
            Align::Left,
            Align::Right,
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Left,
            Align::Left,
        ];
        let mut out = table::render(
            &[
                "check", "value", "limit", "change", "p (Holm)", "result", "why",
            ],
            &align,
            &rows,
        );
        if !self.power.is_empty() {
            out += &format!(
                "\npower ({} % chance of detection, α = {} across {} tests):\n",
                (power::POWER * 100.0).round(),
                self.alpha,
                self.power.len()
            );
            for line in &self.power {
                out += &format!("  {line}\n");
            }
        }
        if self.checks.iter().any(|c| {
            c.test
                .as_ref()
                .is_some_and(|t| matches!(t.method, TestMethod::Unseen { .. }))
        }) {
            out += RARE_RULE;
        }
        for w in &self.warnings {
            out += &format!("warning: {w}\n");
        }
        out += &format!(
            "\ngate {}: {} passed, {} failed, {} skipped\n",
            if self.passed() { "PASSED" } else { "FAILED" },
            self.count(Status::Pass),
            self.count(Status::Fail),
            self.count(Status::Skipped)
        );
        out
    }

    /// `verdict.json`: every check with its samples' statistics.
    pub fn to_json(&self) -> String {
        use serde_json::{json, Value};
        let checks: Vec<Value> = self
            .checks
            .iter()
            .map(|c| {
                let mut v = json!({
                    "group": c.group,
                    "metric": c.metric,
                    "check": c.name,
                    "class": c.class.as_str(),
                    "value": c.value,
                    "limit": c.limit,
                    "verdict": c.status.as_str(),
                    "reason": c.reason,
                });
                if let Some(t) = &c.test {
                    v["test"] = json!({
                        "method": t.method.describe(),
                        "baseline": { "n": t.baseline_n, "median": t.baseline_median, "sd": t.baseline_sd },
                        "candidate": { "n": t.candidate_n, "median": t.candidate_median, "sd": t.candidate_sd },
                        "change": t.change,
                        "p": t.p,
                        "p_holm": t.p_holm,
                        "detectable_change": match t.detectable {
                            Detectable::Change(c) => json!(c),
                            _ => Value::Null,
                        },
                    });
                    match t.method {
                        TestMethod::Ranks { u, .. } => v["test"]["u"] = json!(u),
                        TestMethod::Unseen { value, differing } => {
                            v["test"]["baseline_value"] = json!(value);
                            v["test"]["differing_seeds"] = json!(differing);
                            if let Detectable::Seeds(x) = t.detectable {
                                v["test"]["fails_from_seeds"] = json!(x);
                            }
                        }
                    }
                }
                if let Some((b, seed)) = &c.window {
                    v["window"] = json!({
                        "from": b.from, "until": b.until, "minutes": b.minutes, "seed": seed,
                    });
                }
                v
            })
            .collect();
        let v = json!({
            "scenario": self.scenario,
            "seed": self.seed,
            "seeds": self.seeds,
            "runs": self.runs,
            "alpha": self.alpha,
            "passed": self.passed(),
            "failed_classes": self.failed_classes().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            "checks": checks,
            "power": self.power,
            "warnings": self.warnings,
        });
        serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
    }
}

/// The rare-value rule, under the table of any gate that applied it.
const RARE_RULE: &str = "\nrare values: a metric that was the same in every baseline seed is \
compared exactly only when it is so by construction (set by the scenario, or 0 in every \
correct run); otherwise the baseline's seeds may simply have missed a rare event. If x of \
the K candidate seeds show a value none of the N baseline seeds showed, the chance of \
that with nothing changed is C(K, x) / C(N + K, x) (Fisher's exact test), Holm-corrected \
with the other tests; it fails when significant (and, under [baseline], beyond the \
threshold, judged on the candidates' mean). One that could not reach alpha whichever \
seeds were the baseline's cannot fail, and is not counted in Holm's correction.\n";

fn signed_percent(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 {
            "+∞".into()
        } else {
            "−∞".into()
        };
    }
    format!(
        "{}{:.1} %",
        if v >= 0.0 { "+" } else { "−" },
        v.abs() * 100.0
    )
}

fn p_text(p: f64) -> String {
    if p < 0.0001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

/// One run against the thresholds: a gate of one seed.
pub fn evaluate(thresholds: &Thresholds, run: &Run, baseline: BaselineSource) -> Verdict {
    let seed = run.summary.scenario.seed;
    evaluate_samples(thresholds, &[Sample { seed, run: *run }], baseline)
}

/// The runs of one scenario (`samples`, each seed's runs together) against
/// the thresholds and the baseline.
pub fn evaluate_samples(
    thresholds: &Thresholds,
    samples: &[Sample],
    baseline: BaselineSource,
) -> Verdict {
    let alpha = thresholds.gate.alpha;
    let mut checks = Vec::new();
    for (name, limit) in &thresholds.limits {
        if let Some(def) = metrics::find(&name.0) {
            match limit.for_minutes {
                Some(minutes) => checks.push(sustained(def, limit, minutes, samples)),
                None => {
                    let mut found = absolute(def, limit, samples);
                    // Where a failing figure comes from (a province down at
                    // the end), from the first run that says.
                    let context = samples
                        .iter()
                        .find_map(|s| metrics::context(def.name, &s.run));
                    if let Some(context) = context {
                        for c in found.iter_mut().filter(|c| c.status == Status::Fail) {
                            c.reason = format!("{}; {context}", c.reason);
                        }
                    }
                    checks.extend(found);
                }
            }
        }
    }
    let mut family = Family {
        tested: Vec::new(),
        untested: 0,
    };
    let tested = &mut family.tested;
    for (name, ratio) in &thresholds.baseline {
        if let Some(def) = metrics::find(&name.0) {
            let (check, samples_of) = relative(def, ratio, samples, &baseline);
            if let Some((pair, kind)) = samples_of {
                tested.push(Tested {
                    index: checks.len(),
                    ratio: Some(ratio),
                    pair,
                    kind,
                    counted: true,
                });
            }
            checks.push(check);
        }
    }
    if let BaselineSource::Loaded { baseline, .. } = &baseline {
        constants(
            thresholds,
            samples,
            baseline,
            alpha,
            &mut checks,
            &mut family,
        );
    }
    let (power, warnings) = judge_tests(&mut checks, &family, alpha);
    let first = samples.first().map(|s| s.run.summary);
    Verdict {
        scenario: first.map(|s| s.scenario.name.clone()).unwrap_or_default(),
        seed: first.map_or(0, |s| s.scenario.seed),
        seeds: distinct_seeds(samples),
        runs: samples.len(),
        alpha,
        checks,
        power,
        warnings,
    }
}

fn check(group: &'static str, def: &MetricDef, name: String, limit: String) -> CheckResult {
    CheckResult {
        group,
        metric: def.name.to_string(),
        name,
        value: None,
        unit: def.unit,
        limit,
        status: Status::Skipped,
        reason: String::new(),
        class: if group == "limits" {
            Class::of_limit(def.name)
        } else if def.spread == metrics::Spread::Invariant {
            Class::Correctness
        } else {
            Class::Regression
        },
        test: None,
        window: None,
    }
}

/// One check per bound, so a table row says which bound broke; the worst
/// run decides it, and a failure names its seed.
fn absolute(def: &MetricDef, limit: &Limit, samples: &[Sample]) -> Vec<CheckResult> {
    let bounds = [(limit.min, ">=", "below"), (limit.max, "<=", "above")];
    let readings: Result<Vec<(u64, f64)>, String> = samples
        .iter()
        .map(|s| match def.read(&s.run) {
            Reading::Value(v) => Ok((s.seed, v)),
            Reading::Missing(why) => Err(why),
        })
        .collect();
    let seeds = distinct_seeds(samples).len();
    bounds
        .into_iter()
        .filter_map(|(bound, op, breaks)| {
            let bound = bound?;
            let shown = format::value(bound, def.unit);
            let mut c = check(
                "limits",
                def,
                format!("{} {op} {shown}", def.name),
                format!("{op} {shown}"),
            );
            let readings = match &readings {
                Err(why) => {
                    c.reason = why.clone();
                    return Some(c);
                }
                Ok(r) if r.is_empty() => {
                    c.reason = "no runs".into();
                    return Some(c);
                }
                Ok(r) => r,
            };
            let lower = op == ">=";
            let ok = |v: f64| if lower { v >= bound } else { v <= bound };
            let (seed, worst) = readings
                .iter()
                .copied()
                .reduce(|a, b| {
                    if (b.1 < a.1) == lower && b.1 != a.1 {
                        b
                    } else {
                        a
                    }
                })
                .unwrap_or((0, f64::NAN));
            c.value = Some(worst);
            c.status = if ok(worst) {
                Status::Pass
            } else {
                Status::Fail
            };
            if !ok(worst) {
                c.reason = format!("{} is {breaks} {shown}", format::value(worst, def.unit));
                if samples.len() > 1 {
                    let failing: Vec<u64> =
                        distinct(readings.iter().filter(|(_, v)| !ok(*v)).map(|(s, _)| *s));
                    c.reason += &format!(" (seed {seed}; {} of {seeds} seeds)", failing.len());
                }
            }
            Some(c)
        })
        .collect()
}

fn distinct(seeds: impl Iterator<Item = u64>) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    for s in seeds {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// A limit that fails only when broken for `minutes` consecutive minutes
/// of one run's timeline; the check names the longest breach of any seed.
fn sustained(def: &MetricDef, limit: &Limit, minutes: u32, samples: &[Sample]) -> CheckResult {
    let bound = match (limit.min, limit.max) {
        (Some(lo), Some(hi)) => format!(
            "in {} ..= {}",
            format::value(lo, def.unit),
            format::value(hi, def.unit)
        ),
        (Some(lo), None) => format!(">= {}", format::value(lo, def.unit)),
        (_, Some(hi)) => format!("<= {}", format::value(hi, def.unit)),
        (None, None) => String::new(),
    };
    let mut c = check(
        "limits",
        def,
        format!("{} {bound} (sustained {minutes} min)", def.name),
        format!("breach < {minutes} min"),
    );
    c.unit = Unit::Minutes;
    if samples.is_empty() {
        c.reason = "no runs".into();
        return c;
    }
    let mut longest: Option<(Breach, u64)> = None;
    for s in samples {
        if let Some(b) = timeline::longest_breach(s.run.summary, def.name, limit.min, limit.max) {
            if longest.as_ref().is_none_or(|(l, _)| b.minutes > l.minutes) {
                longest = Some((b, s.seed));
            }
        }
    }
    c.value = Some(longest.as_ref().map_or(0.0, |(b, _)| f64::from(b.minutes)));
    match &longest {
        None => {
            c.status = Status::Pass;
        }
        Some((b, seed)) => {
            let failed = b.minutes >= minutes;
            c.status = if failed { Status::Fail } else { Status::Pass };
            let seed_text = if samples.len() > 1 {
                format!(" (seed {seed})")
            } else {
                String::new()
            };
            c.reason = format!(
                "{}{} broken for {} min, {} – {}{seed_text}",
                if failed { "" } else { "longest: " },
                bound,
                b.minutes,
                b.from,
                b.until
            );
        }
    }
    c.window = longest;
    c
}

/// A baseline's and a candidate's samples of one metric.
struct Pair {
    baseline: Vec<f64>,
    candidate: Vec<f64>,
}

/// Which test a pair of samples gets.
#[derive(Clone, Copy)]
enum Kind {
    Ranks,
    /// Every baseline sample was this value, and the metric is not fixed
    /// by construction.
    Unseen(f64),
}

/// A check whose samples are to be tested: where it is in the verdict, its
/// `[baseline]` threshold if it has one, and which test.
struct Tested<'a> {
    index: usize,
    ratio: Option<&'a RatioLimit>,
    pair: Pair,
    kind: Kind,
    /// Counted in Holm's correction: every `[baseline]` test, and a rare
    /// value's test only when it could fail (`Family`).
    counted: bool,
}

/// Holm's family: the tests checked, and how many metrics outside
/// `[baseline]` could have failed a rare-value test but were not tested
/// (their baseline varied), which count as p = 1.
///
/// A rare-value test is a permutation test: unchanged, the baseline's and
/// the candidate's seeds are exchangeable, so given all N + K values of
/// a metric, whichever seeds are labelled baseline, the test can fail only
/// if x = the seeds off one value is few enough for C(K, x) / C(N + K, x)
/// to reach α. Which metrics can is fixed by the pooled values, whatever
/// the labels; one that cannot never fails, so leaving it out of the count
/// keeps the family-wise rate (Tarone's refinement for discrete tests),
/// and a quiet day's dozen rare metrics do not dilute the other tests.
struct Family<'a> {
    tested: Vec<Tested<'a>>,
    untested: usize,
}

/// A `[baseline]` metric's check, and its two samples when they are to be
/// tested (judged later, once every p-value is known for Holm).
fn relative(
    def: &MetricDef,
    ratio: &RatioLimit,
    samples: &[Sample],
    baseline: &BaselineSource,
) -> (CheckResult, Option<(Pair, Kind)>) {
    let (lo, hi) = ratio.bounds(def);
    let name = match (ratio.regress_by, ratio.tolerance, lo, hi) {
        (Some(r), _, None, Some(_)) => {
            format!("{} rises <= {} vs baseline", def.name, format::percent(r))
        }
        (Some(r), _, Some(_), None) => {
            format!("{} falls <= {} vs baseline", def.name, format::percent(r))
        }
        (Some(r), _, _, _) | (None, Some(r), _, _) => {
            format!("{} within ±{} of baseline", def.name, format::percent(r))
        }
        (None, None, Some(lo), Some(hi)) => format!("{} in {lo}..{hi} × baseline", def.name),
        (None, None, Some(lo), None) => format!("{} >= {lo} × baseline", def.name),
        (None, None, None, Some(hi)) => format!("{} <= {hi} × baseline", def.name),
        (None, None, None, None) => format!("{} vs baseline", def.name),
    };
    let mut c = check("baseline", def, name, "n/a".into());
    let candidate = values(def, samples);
    c.value = candidate.as_ref().ok().and_then(|v| stats::median(v));
    let (path, base) = match baseline {
        BaselineSource::None => {
            c.reason = "no --baseline given".into();
            return (c, None);
        }
        BaselineSource::Updated => {
            c.reason = "the baseline was just written from these runs".into();
            return (c, None);
        }
        BaselineSource::Loaded { path, baseline } => (path, baseline),
    };
    let Some(base_values) = base.metrics.get(def.name).filter(|v| !v.is_empty()) else {
        c.reason = format!(
            "{path} has no `{}`; write it with --update-baseline",
            def.name
        );
        return (c, None);
    };
    let base_median = stats::median(base_values).unwrap_or(0.0);
    let show = |v: f64| format::value(v, def.unit);
    c.limit = match (lo, hi) {
        (Some(lo), Some(hi)) => format!("{lo}..{hi} × {}", show(base_median)),
        (Some(lo), None) => format!(">= {lo} × {}", show(base_median)),
        (None, Some(hi)) => format!("<= {hi} × {}", show(base_median)),
        (None, None) => format!("baseline {}", show(base_median)),
    };
    let candidate = match candidate {
        Ok(v) if !v.is_empty() => v,
        Ok(_) => {
            c.reason = "no runs".into();
            return (c, None);
        }
        Err(why) => {
            c.reason = why;
            return (c, None);
        }
    };
    let constant = base.constant(def.name);
    if constant.is_some() && def.spread.fixed() {
        // The same in every seed by construction: any difference is a change.
        let (status, reason) = exact_status(base_median, &candidate, def);
        c.status = status;
        c.reason = reason;
        c.limit = format!("= {} (every baseline seed)", show(base_median));
        return (c, None);
    }
    if let Some(v) = constant {
        c.limit += &format!(" ({} in all {} baseline seeds)", show(v), base_values.len());
        let pair = Pair {
            baseline: base_values.clone(),
            candidate,
        };
        return (c, Some((pair, Kind::Unseen(v))));
    }
    if base_values.len() < 2 || candidate.len() < 2 {
        // One run on either side: no noise to measure, only the ratio.
        let v = stats::median(&candidate).unwrap_or(0.0);
        c.limit += " (one run: ratio only)";
        if let Some(lo) = lo.map(|lo| lo * base_median).filter(|lo| v < *lo) {
            c.status = Status::Fail;
            c.reason = format!("{} is below {}", show(v), show(lo));
        } else if let Some(hi) = hi.map(|hi| hi * base_median).filter(|hi| v > *hi) {
            c.status = Status::Fail;
            c.reason = format!("{} is above {}", show(v), show(hi));
        } else {
            c.status = Status::Pass;
        }
        return (c, None);
    }
    let pair = Pair {
        baseline: base_values.clone(),
        candidate,
    };
    (c, Some((pair, Kind::Ranks)))
}

/// Holm across the tested metrics, then each one's verdict: FAIL when its
/// adjusted p is ≤ α and, under `[baseline]`, its change is beyond the
/// threshold.
fn judge_tests(
    checks: &mut [CheckResult],
    family: &Family,
    alpha: f64,
) -> (Vec<String>, Vec<String>) {
    let tested = &family.tested;
    let tests: Vec<Option<(f64, TestMethod)>> = tested.iter().map(run_test).collect();
    let p: Vec<f64> = tests.iter().map(|t| t.map_or(1.0, |t| t.0)).collect();
    let counted: Vec<f64> = p
        .iter()
        .zip(tested)
        .filter(|(_, t)| t.counted)
        .map(|(p, _)| *p)
        .chain(std::iter::repeat_n(1.0, family.untested))
        .collect();
    let mut holm = stats::holm(&counted).into_iter();
    // A test left out of the count cannot reach α: its own p stands.
    let adjusted: Vec<f64> = p
        .iter()
        .zip(tested)
        .map(|(p, t)| {
            if t.counted {
                holm.next().unwrap_or(1.0)
            } else {
                *p
            }
        })
        .collect();
    // Holm's first step is the strictest: the level power is stated at.
    let level = alpha / counted.len().max(1) as f64;
    let (mut power, mut warnings) = (Vec::new(), Vec::new());
    // Rare-value tests' power, one line for all with the same seeds.
    let mut rare: std::collections::BTreeMap<_, Vec<&str>> = Default::default();
    for ((t, test), p_holm) in tested.iter().zip(&tests).zip(adjusted) {
        let (base, cand) = (&t.pair.baseline, &t.pair.candidate);
        let c = &mut checks[t.index];
        let def = metrics::find(&c.metric).expect("a tested metric is known");
        let Some((p, method)) = *test else {
            c.reason = "a sample is not a finite number".into();
            continue;
        };
        let (bm, cm) = (
            stats::median(base).unwrap_or(0.0),
            stats::median(cand).unwrap_or(0.0),
        );
        let change = match t.kind {
            Kind::Ranks => relative_change(bm, cm),
            Kind::Unseen(v) => relative_change(v, cand.iter().sum::<f64>() / cand.len() as f64),
        };
        let beyond = t.ratio.is_none_or(|ratio| {
            let (lo, hi) = ratio.bounds(def);
            let r = 1.0 + change;
            lo.is_some_and(|lo| r < lo) || hi.is_some_and(|hi| r > hi)
        });
        let significant = p_holm <= alpha;
        c.status = if significant && beyond {
            Status::Fail
        } else {
            Status::Pass
        };
        let seeds = cand.len();
        let detectable = match t.kind {
            Kind::Ranks => {
                c.reason = match (significant, beyond) {
                    (true, true) => format!(
                        "{} → {}: a significant change beyond the threshold",
                        format::value(bm, def.unit),
                        format::value(cm, def.unit)
                    ),
                    (true, false) => "significant, within the threshold".into(),
                    (false, true) => "beyond the threshold, but not significant: noise".into(),
                    (false, false) => String::new(),
                };
                let detectable = power::detectable_change(base, seeds, level);
                let ratio = t.ratio.expect("a rank test has its threshold");
                state_power(def, ratio, &detectable, (base.len(), seeds))
                    .into_iter()
                    .for_each(|(line, warning)| {
                        power.push(line);
                        warnings.extend(warning);
                    });
                detectable
            }
            Kind::Unseen(v) => {
                c.reason = unseen_reason(def, v, cand, base.len(), p, (significant, beyond));
                let needed = stats::unseen_seeds_needed(base.len(), seeds, level);
                rare.entry((base.len(), seeds, needed))
                    .or_default()
                    .push(def.name);
                needed.map_or(Detectable::Never, Detectable::Seeds)
            }
        };
        c.test = Some(SampleTest {
            baseline_n: base.len(),
            candidate_n: seeds,
            baseline_median: bm,
            candidate_median: cm,
            baseline_sd: stats::std_dev(base),
            candidate_sd: stats::std_dev(cand),
            change: Some(change),
            p,
            p_holm,
            method,
            detectable,
        });
    }
    for ((n, k, needed), names) in rare {
        let names = names.join(", ");
        match needed {
            Some(x) => power.push(format!(
                "{names}: the same in all {n} baseline seeds; another value fails when it \
                 shows in {x} or more of {k} seeds"
            )),
            None => {
                power.push(format!(
                    "{names}: the same in all {n} baseline seeds; no number of {k} seeds \
                     showing another value is significant at this α"
                ));
                warnings.push(format!(
                    "{names}: {k} seeds against {n} cannot tell a new value from chance: add seeds"
                ));
            }
        }
    }
    (power, warnings)
}

/// A pair's p-value and how it was found; `None` when a sample is not a
/// finite number.
fn run_test(t: &Tested) -> Option<(f64, TestMethod)> {
    let (base, cand) = (&t.pair.baseline, &t.pair.candidate);
    match t.kind {
        Kind::Ranks => stats::mann_whitney(cand, base).map(|m| {
            (
                m.p,
                TestMethod::Ranks {
                    u: m.u,
                    method: m.method,
                },
            )
        }),
        Kind::Unseen(value) => {
            if cand.iter().chain(base).any(|v| !v.is_finite()) {
                return None;
            }
            let differing = cand.iter().filter(|c| **c != value).count();
            Some((
                stats::unseen_p(base.len(), cand.len(), differing),
                TestMethod::Unseen { value, differing },
            ))
        }
    }
}

/// Candidate / baseline − 1; from a baseline of 0, 0 or ±∞.
fn relative_change(base: f64, candidate: f64) -> f64 {
    if base != 0.0 {
        candidate / base - 1.0
    } else if candidate == 0.0 {
        0.0
    } else {
        f64::INFINITY.copysign(candidate)
    }
}

/// A rank test's power line, and its warning when the threshold is finer
/// than the test.
fn state_power(
    def: &MetricDef,
    ratio: &RatioLimit,
    detectable: &Detectable,
    (n, seeds): (usize, usize),
) -> Option<(String, Option<String>)> {
    let threshold = ratio.smallest_failing_change(def);
    Some(match detectable {
        Detectable::Change(d) => (
            format!(
                "{}: with {seeds} samples against {n}, a {} change is detectable",
                def.name,
                format::percent(*d)
            ),
            (threshold < *d).then(|| {
                format!(
                    "{}: its threshold ({}) is below the smallest change {seeds} samples can \
                     detect ({}); a regression between them passes unseen: add seeds",
                    def.name,
                    format::percent(threshold),
                    format::percent(*d)
                )
            }),
        ),
        Detectable::Never => (
            format!(
                "{}: with {seeds} samples against {n}, no change is detectable at this α",
                def.name
            ),
            Some(format!(
                "{}: {seeds} samples against {n} cannot reach significance: add seeds",
                def.name
            )),
        ),
        Detectable::ZeroMedian => (
            format!(
                "{}: the baseline's median is 0, so no relative change is stated",
                def.name
            ),
            None,
        ),
        Detectable::Seeds(_) => return None,
    })
}

/// Why a metric every baseline seed had at `value` passed or failed.
fn unseen_reason(
    def: &MetricDef,
    value: f64,
    candidate: &[f64],
    n: usize,
    p: f64,
    (significant, beyond): (bool, bool),
) -> String {
    let differing: Vec<f64> = candidate.iter().copied().filter(|v| *v != value).collect();
    // The value farthest from the baseline's names the change.
    let Some(far) = differing.iter().copied().reduce(|a, b| {
        if (b - value).abs() > (a - value).abs() {
            b
        } else {
            a
        }
    }) else {
        return String::new();
    };
    let seen = format!(
        "{}{} in {} of {} seeds, never in the baseline's {n}",
        if differing.iter().any(|d| *d != far) {
            "up to "
        } else {
            ""
        },
        format::value(far, def.unit),
        differing.len(),
        candidate.len()
    );
    match (significant, beyond) {
        (true, true) => format!("{seen}: more often than chance (p = {})", p_text(p)),
        (true, false) => format!("{seen}: significant, within the threshold"),
        (false, _) => format!("{seen}: chance would do it (p = {})", p_text(p)),
    }
}

/// Every candidate value equal to the baseline's one value.
fn exact_status(expected: f64, candidate: &[f64], def: &MetricDef) -> (Status, String) {
    let differing: Vec<f64> = candidate
        .iter()
        .copied()
        .filter(|v| *v != expected)
        .collect();
    match differing.first() {
        None => (Status::Pass, String::new()),
        Some(v) => (
            Status::Fail,
            format!(
                "{} in {} of {} seeds (the baseline had {} in every seed)",
                format::value(*v, def.unit),
                differing.len(),
                candidate.len(),
                format::value(expected, def.unit)
            ),
        ),
    }
}

/// The metrics the same in every baseline seed that `[baseline]` does not
/// already check: compared exactly when fixed by construction (`exact`),
/// otherwise tested for a value the baseline's seeds never showed (`rare`).
fn constants(
    thresholds: &Thresholds,
    samples: &[Sample],
    baseline: &Baseline,
    alpha: f64,
    checks: &mut Vec<CheckResult>,
    family: &mut Family,
) {
    let unchecked = metrics::METRICS
        .iter()
        .filter(|def| !thresholds.baseline.keys().any(|k| k.0 == def.name));
    for def in unchecked {
        let values = values(def, samples);
        let Some(expected) = baseline.constant(def.name) else {
            if !def.spread.fixed() && def.source == metrics::Source::Summary {
                if let (Some(base), Ok(cand)) = (baseline.metrics.get(def.name), &values) {
                    family.untested += usize::from(could_fail(base, cand, alpha));
                }
            }
            continue;
        };
        let shown = format::value(expected, def.unit);
        if def.spread.fixed() {
            let mut c = check(
                "exact",
                def,
                format!("{} = {shown}", def.name),
                format!("= {shown} (every baseline seed)"),
            );
            match values {
                Err(why) => c.reason = why,
                Ok(v) => {
                    c.value = stats::median(&v);
                    (c.status, c.reason) = exact_status(expected, &v, def);
                }
            }
            checks.push(c);
            continue;
        }
        let base = baseline.metrics[def.name].clone();
        let mut c = check(
            "rare",
            def,
            format!("{} rarely ≠ {shown}", def.name),
            format!("= {shown} in all {} baseline seeds", base.len()),
        );
        match values {
            Err(why) => c.reason = why,
            Ok(v) if v.is_empty() => c.reason = "no runs".into(),
            Ok(candidate) => {
                c.value = stats::median(&candidate);
                family.tested.push(Tested {
                    index: checks.len(),
                    ratio: None,
                    counted: could_fail(&base, &candidate, alpha),
                    pair: Pair {
                        baseline: base,
                        candidate,
                    },
                    kind: Kind::Unseen(expected),
                });
            }
        }
        checks.push(c);
    }
}

/// Whether some labelling of these N + K pooled values as baseline and
/// candidate gives a rare-value test that reaches `alpha`: the baseline all
/// one value v and the candidate holding every seed off v.
fn could_fail(baseline: &[f64], candidate: &[f64], alpha: f64) -> bool {
    let (n, k) = (baseline.len(), candidate.len());
    let pooled: Vec<f64> = baseline.iter().chain(candidate).copied().collect();
    pooled.iter().any(|v| {
        let off = pooled.iter().filter(|w| *w != v).count();
        off <= k && pooled.len() - off >= n && stats::unseen_p(n, k, off) <= alpha
    })
}
