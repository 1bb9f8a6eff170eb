//! `hcsim calibrate`: the demand the model produces against figures
//! published for real health-code platforms (DOMAIN.md, the seeds).
//!
//! A calibration directory (`scenarios/calibration/`) holds one scenario
//! per published situation and `figures.toml`, which names for each figure
//! the scenario it is measured on, the metric (`figures.rs`), the published
//! value with its source and derivation, and the band it must lie in.
//! Every scenario runs once; each figure is then a pure function of the
//! runs' summaries, so the verdict is as deterministic as the runs.

pub mod figures;
pub mod manifest;
pub mod runner;

use hcsim_reports::calibration::Calibration;
use manifest::Manifest;
use std::path::Path;

pub struct Options<'a> {
    pub threads: usize,
    /// Where each run's outputs go (`out/<scenario stem>/`).
    pub out: &'a Path,
}

/// Runs the calibration set in `dir`; `adjust` may change a scenario
/// (given its file name) before it runs.
pub fn calibrate(
    dir: &Path,
    opts: &Options,
    adjust: &dyn Fn(&str, &mut crate::scenario::Scenario),
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<Calibration> {
    let manifest = Manifest::load(dir)?;
    let files = runner::scenario_files(dir)?;
    let summaries = runner::run_all(&files, opts.out, opts.threads, adjust, progress)?;
    runner::judge(&manifest, dir, &summaries)
}
