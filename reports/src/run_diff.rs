//! `hcsim diff RUN_A RUN_B`: what changed between two finished runs, from
//! their summary.json (and performance.json when present). Every metric of
//! `metrics::METRICS` that either run carries, and per-province scans,
//! refusals and busy answers.

use crate::error::{create_dir, write_file, ReportError};
use crate::format;
use crate::html::page::{Cell, Page};
use crate::metrics::{Run, METRICS};
use crate::summary::{Performance, Summary};
use crate::table::{self, Align};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const DIFF_SCHEMA_VERSION: u32 = 1;

/// A finished run as read back from its output directory.
pub struct RunFiles {
    pub dir: PathBuf,
    pub summary: Summary,
    pub performance: Option<Performance>,
}

impl RunFiles {
    pub fn run(&self) -> Run<'_> {
        Run {
            summary: &self.summary,
            performance: self.performance.as_ref(),
        }
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
    serde_json::from_str(&text).map_err(|cause| ReportError::Json {
        path: path.to_path_buf(),
        cause,
    })
}

/// Reads `dir/summary.json` (required) and `dir/performance.json` (if any).
pub fn load_run(dir: &Path) -> Result<RunFiles, ReportError> {
    let summary = read_json(&dir.join("summary.json"))?;
    let perf_path = dir.join("performance.json");
    let performance = if perf_path.exists() {
        Some(read_json(&perf_path)?)
    } else {
        None
    };
    Ok(RunFiles {
        dir: dir.to_path_buf(),
        summary,
        performance,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunLabel {
    pub dir: String,
    pub scenario: String,
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricDelta {
    pub metric: String,
    pub a: Option<f64>,
    pub b: Option<f64>,
    /// `b − a`, when both runs carry the metric.
    pub delta: Option<f64>,
    /// `(b − a) / a × 100`, when both carry it and `a ≠ 0`.
    pub delta_percent: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvinceDelta {
    pub province: String,
    pub scans_a: u64,
    pub scans_b: u64,
    pub refuse_a: u64,
    pub refuse_b: u64,
    pub busy_a: u64,
    pub busy_b: u64,
}

impl ProvinceDelta {
    pub fn changed(&self) -> bool {
        self.scans_a != self.scans_b || self.refuse_a != self.refuse_b || self.busy_a != self.busy_b
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDiff {
    pub schema_version: u32,
    pub a: RunLabel,
    pub b: RunLabel,
    /// Why the two runs may not be comparable (different scenario or seed).
    pub notes: Vec<String>,
    pub metrics: Vec<MetricDelta>,
    pub provinces: Vec<ProvinceDelta>,
}

fn label(r: &RunFiles) -> RunLabel {
    RunLabel {
        dir: r.dir.display().to_string(),
        scenario: r.summary.scenario.name.clone(),
        seed: r.summary.scenario.seed,
    }
}

pub fn diff(a: &RunFiles, b: &RunFiles) -> RunDiff {
    let (ra, rb) = (a.run(), b.run());
    let metrics = METRICS
        .iter()
        .filter_map(|m| {
            let (va, vb) = (m.read(&ra).value(), m.read(&rb).value());
            if va.is_none() && vb.is_none() {
                return None;
            }
            let delta = va.zip(vb).map(|(x, y)| y - x);
            let delta_percent = va
                .zip(vb)
                .and_then(|(x, y)| (x != 0.0).then(|| (y - x) / x.abs() * 100.0));
            Some(MetricDelta {
                metric: m.name.to_string(),
                a: va.map(significant),
                b: vb.map(significant),
                delta: delta.map(significant),
                delta_percent: delta_percent.map(significant),
            })
        })
        .collect();
    let mut notes = Vec::new();
    let (sa, sb) = (&a.summary.scenario, &b.summary.scenario);
    if sa.name != sb.name {
        notes.push(format!(
            "different scenarios: `{}` and `{}`",
            sa.name, sb.name
        ));
    }
    if sa.seed != sb.seed {
        notes.push(format!("different seeds: {} and {}", sa.seed, sb.seed));
    }
    if a.summary.schema_version != b.summary.schema_version {
        notes.push(format!(
            "different summary schema versions: {} and {}",
            a.summary.schema_version, b.summary.schema_version
        ));
    }
    RunDiff {
        schema_version: DIFF_SCHEMA_VERSION,
        a: label(a),
        b: label(b),
        notes,
        metrics,
        provinces: province_deltas(&a.summary, &b.summary),
    }
}

/// Twelve significant digits: more than any figure here means, and few
/// enough that diff.json reads back to exactly the same numbers.
fn significant(x: f64) -> f64 {
    format!("{x:.11e}").parse().unwrap_or(x)
}

/// Provinces of A in A's order, then any only B has.
fn province_deltas(a: &Summary, b: &Summary) -> Vec<ProvinceDelta> {
    let mut keys: Vec<&str> = a.provinces.iter().map(|p| p.province.as_str()).collect();
    for p in &b.provinces {
        if !keys.contains(&p.province.as_str()) {
            keys.push(&p.province);
        }
    }
    let find = |s: &Summary, key: &str| {
        s.provinces
            .iter()
            .find(|p| p.province == key)
            .map_or((0, 0, 0), |p| {
                (
                    p.scans.total,
                    p.scans.by_decision.get("refuse").copied().unwrap_or(0),
                    p.scans.busy,
                )
            })
    };
    keys.into_iter()
        .map(|key| {
            let (scans_a, refuse_a, busy_a) = find(a, key);
            let (scans_b, refuse_b, busy_b) = find(b, key);
            ProvinceDelta {
                province: key.to_string(),
                scans_a,
                scans_b,
                refuse_a,
                refuse_b,
                busy_a,
                busy_b,
            }
        })
        .collect()
}

/// One metric row as text: name, A, B, delta, delta %.
fn metric_row(m: &MetricDelta) -> Vec<String> {
    let unit = crate::metrics::find(&m.metric).map_or(crate::metrics::Unit::Count, |d| d.unit);
    let show = |v: Option<f64>| v.map_or("n/a".to_string(), |x| format::value(x, unit));
    vec![
        m.metric.clone(),
        show(m.a),
        show(m.b),
        m.delta.map_or("n/a".into(), |d| format::delta(d, unit)),
        match (m.a, m.b) {
            (Some(x), Some(y)) => format::delta_percent(x, y),
            _ => "n/a".into(),
        },
    ]
}

fn signed(a: u64, b: u64) -> String {
    format::delta(b as f64 - a as f64, crate::metrics::Unit::Count)
}

fn province_row(p: &ProvinceDelta) -> Vec<String> {
    vec![
        p.province.clone(),
        format::grouped(p.scans_a),
        format::grouped(p.scans_b),
        signed(p.scans_a, p.scans_b),
        format::grouped(p.refuse_a),
        format::grouped(p.refuse_b),
        signed(p.refuse_a, p.refuse_b),
        signed(p.busy_a, p.busy_b),
    ]
}

const METRIC_HEADER: [&str; 5] = ["metric", "A", "B", "delta", "delta %"];
const PROVINCE_HEADER: [&str; 8] = [
    "province",
    "scans A",
    "scans B",
    "delta",
    "refuse A",
    "refuse B",
    "delta",
    "busy delta",
];

impl RunDiff {
    /// The terminal view: metrics, then only the provinces that changed.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "A: {} (scenario {}, seed {})\nB: {} (scenario {}, seed {})\n",
            self.a.dir, self.a.scenario, self.a.seed, self.b.dir, self.b.scenario, self.b.seed
        );
        for note in &self.notes {
            out += &format!("note: {note}\n");
        }
        out.push('\n');
        let right = [
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
        ];
        let rows: Vec<Vec<String>> = self.metrics.iter().map(metric_row).collect();
        out += &table::render(&METRIC_HEADER, &right, &rows);
        let changed: Vec<Vec<String>> = self
            .provinces
            .iter()
            .filter(|p| p.changed())
            .map(province_row)
            .collect();
        out.push('\n');
        if changed.is_empty() {
            out += "per province: no scans, refusals or busy answers changed\n";
        } else {
            let mut align = vec![Align::Right; PROVINCE_HEADER.len()];
            align[0] = Align::Left;
            out += &format!(
                "per province ({} of {} changed):\n",
                changed.len(),
                self.provinces.len()
            );
            out += &table::render(&PROVINCE_HEADER, &align, &changed);
        }
        out
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    pub fn to_html(&self) -> String {
        let mut page = Page::default();
        page.heading(
            1,
            &format!("hcsim diff: {} vs {}", self.a.scenario, self.b.scenario),
        );
        page.meta(&format!(
            "A: {} (seed {}) · B: {} (seed {})",
            self.a.dir, self.a.seed, self.b.dir, self.b.seed
        ));
        for note in &self.notes {
            page.paragraph(&format!("Note: {note}"));
        }
        page.heading(2, "Metrics");
        let rows: Vec<Vec<Cell>> = self
            .metrics
            .iter()
            .map(|m| {
                let text = metric_row(m);
                let changed = m.delta.is_some_and(|d| d != 0.0);
                let mut cells = vec![Cell::text(&text[0])];
                cells.extend(text[1..].iter().map(|t| {
                    if changed {
                        Cell::class(t, "n changed")
                    } else {
                        Cell::num(t)
                    }
                }));
                cells
            })
            .collect();
        page.table(&METRIC_HEADER, &rows);
        page.heading(2, "Provinces");
        let rows: Vec<Vec<Cell>> = self
            .provinces
            .iter()
            .map(|p| {
                let text = province_row(p);
                let mut cells = vec![Cell::text(&text[0])];
                cells.extend(text[1..].iter().map(Cell::num));
                cells
            })
            .collect();
        page.table(&PROVINCE_HEADER, &rows);
        page.finish(&format!(
            "hcsim diff: {} vs {}",
            self.a.scenario, self.b.scenario
        ))
    }

    /// Writes `dir/diff.json` and `dir/diff.html`.
    pub fn write(&self, dir: &Path) -> Result<(), ReportError> {
        create_dir(dir)?;
        write_file(&dir.join("diff.json"), self.to_json())?;
        write_file(&dir.join("diff.html"), self.to_html())
    }
}
