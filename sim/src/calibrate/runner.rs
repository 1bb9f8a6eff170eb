//! Runs every scenario of a calibration directory once and measures each
//! figure on the runs.

use super::figures::Metric;
use super::manifest::{FigureSpec, Manifest, FILE};
use crate::run::{run, RunOptions};
use crate::scenario::Scenario;
use anyhow::Context as _;
use hcsim_reports::calibration::{Calibration, FigureResult};
use hcsim_reports::summary::Summary;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The scenario files of `dir`: every `*.toml` but `figures.toml`, by name.
pub fn scenario_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("reading directory {}", dir.display()))?;
    let mut files = Vec::new();
    for e in entries {
        let path = e
            .with_context(|| format!("reading directory {}", dir.display()))?
            .path();
        let toml = path.extension().is_some_and(|x| x == "toml");
        if toml && path.file_name().is_some_and(|n| n != FILE) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Runs each scenario (after `adjust`, which may change it: the tests move
/// a behaviour parameter) with its outputs in `out/<file stem>/`; the
/// summaries by file name.
pub fn run_all(
    files: &[PathBuf],
    out: &Path,
    threads: usize,
    adjust: &dyn Fn(&str, &mut Scenario),
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<BTreeMap<String, Summary>> {
    let mut summaries = BTreeMap::new();
    for path in files {
        let name = file_name(path);
        let mut scenario = Scenario::load(path)?;
        adjust(&name, &mut scenario);
        let stem = path
            .file_stem()
            .map_or_else(|| name.clone(), |s| s.to_string_lossy().into_owned());
        progress(&format!("running {name}"));
        let opts = RunOptions {
            threads,
            out_dir: out.join(stem),
            progress: false,
        };
        let outcome =
            run(&scenario, &opts).with_context(|| format!("running {}", path.display()))?;
        summaries.insert(name, outcome.summary);
    }
    Ok(summaries)
}

/// Each figure of `manifest` measured on `summaries`.
pub fn judge(
    manifest: &Manifest,
    dir: &Path,
    summaries: &BTreeMap<String, Summary>,
) -> anyhow::Result<Calibration> {
    let get = |name: &str| {
        summaries
            .get(name)
            .with_context(|| format!("{}: no run of `{name}`", manifest.path.display()))
    };
    let mut figures = Vec::new();
    for f in &manifest.figures {
        let baseline = match &f.baseline {
            Some(b) => Some(get(b)?),
            None => None,
        };
        figures.push(measure(f, get(&f.scenario)?, baseline));
    }
    Ok(Calibration {
        dir: dir.display().to_string(),
        default_band: manifest.band,
        figures,
    })
}

fn measure(f: &FigureSpec, run: &Summary, baseline: Option<&Summary>) -> FigureResult {
    let (model, series) = f.metric.measure(run, baseline);
    let ratio = model / f.published;
    FigureResult {
        name: f.name.clone(),
        title: f.title.clone(),
        scenario: f.scenario.clone(),
        metric: f.metric.name().to_string(),
        metric_note: note(f),
        unit: f.metric.unit().to_string(),
        published: f.published,
        source: f.source.clone(),
        derivation: f.derivation.clone(),
        model,
        ratio,
        band: f.band,
        within: (ratio - 1.0).abs() <= f.band,
        gap: f.gap.clone(),
        series,
    }
}

fn note(f: &FigureSpec) -> String {
    match (&f.baseline, f.metric) {
        (Some(b), Metric::PeakOverBaselineMean) => {
            format!("{} (baseline: {b})", f.metric.note())
        }
        _ => f.metric.note().to_string(),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}
