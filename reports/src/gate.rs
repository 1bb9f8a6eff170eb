//! The CI gate: a run's metrics against absolute limits and against a
//! baseline. A metric the run does not carry, or a baseline that lacks it,
//! makes its check SKIPPED with the reason: never a silent pass.

pub mod baseline;
pub mod thresholds;

pub use baseline::Baseline;
pub use thresholds::{Limit, RatioLimit, Thresholds};

use crate::format;
use crate::metrics::{self, MetricDef, Reading, Run, Unit};
use crate::table::{self, Align};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    /// `limits` or `baseline`: the table of the thresholds file it came from.
    pub group: &'static str,
    pub metric: String,
    /// The check as a person reads it: `busy_rate <= 1.00 %`.
    pub name: String,
    pub value: Option<f64>,
    pub unit: Unit,
    /// The bound(s) the value had to meet, written out.
    pub limit: String,
    pub status: Status,
    /// Why it failed or was skipped; empty when it passed.
    pub reason: String,
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
    pub seed: u64,
    pub checks: Vec<CheckResult>,
}

/// What to compare relative checks against.
pub enum BaselineSource<'a> {
    /// No `--baseline` was given.
    None,
    /// `--update-baseline`: this run is the new baseline, so comparing with
    /// it would prove nothing.
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

    pub fn to_text(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .checks
            .iter()
            .map(|c| {
                vec![
                    c.name.clone(),
                    c.value_text(),
                    c.limit.clone(),
                    c.status.as_str().into(),
                    c.reason.clone(),
                ]
            })
            .collect();
        let align = [
            Align::Left,
            Align::Right,
            Align::Left,
            Align::Left,
            Align::Left,
        ];
        let mut out = table::render(&["check", "value", "limit", "result", "why"], &align, &rows);
        out += &format!(
            "\ngate {}: {} passed, {} failed, {} skipped\n",
            if self.passed() { "PASSED" } else { "FAILED" },
            self.count(Status::Pass),
            self.count(Status::Fail),
            self.count(Status::Skipped)
        );
        out
    }
}

pub fn evaluate(thresholds: &Thresholds, run: &Run, baseline: BaselineSource) -> Verdict {
    let mut checks = Vec::new();
    for (name, limit) in &thresholds.limits {
        if let Some(def) = metrics::find(&name.0) {
            let mut found = absolute(def, limit, &def.read(run));
            if let Some(context) = metrics::context(def.name, run) {
                for c in found.iter_mut().filter(|c| c.status == Status::Fail) {
                    c.reason = format!("{}; {context}", c.reason);
                }
            }
            checks.extend(found);
        }
    }
    for (name, ratio) in &thresholds.baseline {
        if let Some(def) = metrics::find(&name.0) {
            checks.push(relative(def, ratio, &def.read(run), &baseline));
        }
    }
    Verdict {
        scenario: run.summary.scenario.name.clone(),
        seed: run.summary.scenario.seed,
        checks,
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
    }
}

/// One check per bound, so a table row says which bound broke.
fn absolute(def: &MetricDef, limit: &Limit, reading: &Reading) -> Vec<CheckResult> {
    let bounds = [(limit.min, ">=", "below"), (limit.max, "<=", "above")];
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
            match reading {
                Reading::Missing(why) => c.reason = why.clone(),
                Reading::Value(v) => {
                    c.value = Some(*v);
                    let ok = if op == ">=" { *v >= bound } else { *v <= bound };
                    c.status = if ok { Status::Pass } else { Status::Fail };
                    if !ok {
                        c.reason = format!("{} is {breaks} {shown}", format::value(*v, def.unit));
                    }
                }
            }
            Some(c)
        })
        .collect()
}

fn relative(
    def: &MetricDef,
    ratio: &RatioLimit,
    reading: &Reading,
    baseline: &BaselineSource,
) -> CheckResult {
    let name = match (ratio.tolerance, ratio.min_ratio, ratio.max_ratio) {
        (Some(t), _, _) => format!("{} within ±{} of baseline", def.name, format::percent(t)),
        (None, Some(lo), Some(hi)) => format!("{} in {lo}..{hi} × baseline", def.name),
        (None, Some(lo), None) => format!("{} >= {lo} × baseline", def.name),
        (None, None, Some(hi)) => format!("{} <= {hi} × baseline", def.name),
        (None, None, None) => format!("{} vs baseline", def.name),
    };
    let mut c = check("baseline", def, name, "n/a".into());
    c.value = reading.value();
    let base = match baseline {
        BaselineSource::None => {
            c.reason = "no --baseline given".into();
            return c;
        }
        BaselineSource::Updated => {
            c.reason = "the baseline was just written from this run".into();
            return c;
        }
        BaselineSource::Loaded { path, baseline } => match baseline.metrics.get(def.name) {
            Some(b) => *b,
            None => {
                c.reason = format!(
                    "{path} has no `{}`; write it with --update-baseline",
                    def.name
                );
                return c;
            }
        },
    };
    let lo = ratio.min_ratio.map(|r| r * base);
    let hi = ratio.max_ratio.map(|r| r * base);
    let show = |v: f64| format::value(v, def.unit);
    c.limit = match (lo, hi) {
        (Some(lo), Some(hi)) => format!("{} ..= {} (baseline {})", show(lo), show(hi), show(base)),
        (Some(lo), None) => format!(">= {} (baseline {})", show(lo), show(base)),
        (None, Some(hi)) => format!("<= {} (baseline {})", show(hi), show(base)),
        (None, None) => format!("baseline {}", show(base)),
    };
    let Reading::Value(v) = reading else {
        if let Reading::Missing(why) = reading {
            c.reason = why.clone();
        }
        return c;
    };
    if let Some(lo) = lo.filter(|lo| v < lo) {
        c.status = Status::Fail;
        c.reason = format!("{} is below {}", show(*v), show(lo));
    } else if let Some(hi) = hi.filter(|hi| v > hi) {
        c.status = Status::Fail;
        c.reason = format!("{} is above {}", show(*v), show(hi));
    } else {
        c.status = Status::Pass;
    }
    c
}
