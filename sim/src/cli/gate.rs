//! `hcsim gate SCENARIO --thresholds FILE`: runs a scenario and checks its
//! metrics against absolute limits and a baseline. Exit 0 when every check
//! passed or was skipped, 1 when one failed, 2 on a usage or input error.

use crate::cli::run::default_threads;
use crate::run::{run, RunOptions};
use crate::scenario::{InputError, Scenario};
use anyhow::Context;
use hcsim_reports::gate::{evaluate, Baseline, BaselineSource, Thresholds};
use hcsim_reports::metrics::Run;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The scenario file to run (CI: scenarios/smoke.toml).
    pub scenario: PathBuf,
    /// Limits to check (TOML: [limits] and [baseline] tables).
    #[arg(long, value_name = "FILE")]
    pub thresholds: PathBuf,
    /// Baseline metrics for the [baseline] checks (JSON).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write the checks as JUnit XML.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write this run's metrics to the --baseline file instead of comparing.
    #[arg(long, requires = "baseline")]
    pub update_baseline: bool,
    /// Output directory for the run's summary.json, performance.json and report.
    #[arg(long, default_value = "out/gate")]
    pub out: PathBuf,
    /// Worker threads (results are identical at any count).
    #[arg(long, value_parser = super::run::thread_count, default_value_t = default_threads())]
    pub threads: usize,
}

pub fn load_thresholds(path: &Path) -> Result<Thresholds, InputError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::whole_file(path, format!("cannot read thresholds: {e}")))?;
    let t = Thresholds::parse(&text).map_err(|e| InputError::from_toml(path, &text, &e))?;
    // A file that checks nothing would pass every run.
    if t.limits.is_empty() && t.baseline.is_empty() {
        return Err(InputError {
            file: path.to_path_buf(),
            line: 1,
            field: Some("limits".into()),
            message: "no checks: name at least one metric under [limits] or [baseline]".into(),
        });
    }
    Ok(t)
}

pub fn exec(args: Args) -> anyhow::Result<ExitCode> {
    // Every input is read before the run, so a typo costs no simulation.
    let thresholds = load_thresholds(&args.thresholds)?;
    let scenario = Scenario::load(&args.scenario)?;
    let baseline = match &args.baseline {
        Some(path) if !args.update_baseline => {
            let b = Baseline::load(path)?;
            if let Some(why) = b.mismatch(&scenario.name, scenario.seed) {
                anyhow::bail!("{}: {why}", path.display());
            }
            Some(b)
        }
        _ => None,
    };
    let opts = RunOptions {
        threads: args.threads,
        out_dir: args.out.clone(),
        progress: false,
    };
    let outcome =
        run(&scenario, &opts).with_context(|| format!("running {}", scenario.path.display()))?;
    let run = Run {
        summary: &outcome.summary,
        performance: Some(&outcome.performance),
    };

    let path_text = args
        .baseline
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let source = match (&baseline, args.update_baseline) {
        (_, true) => BaselineSource::Updated,
        (Some(b), false) => BaselineSource::Loaded {
            path: &path_text,
            baseline: b,
        },
        (None, false) => BaselineSource::None,
    };
    let verdict = evaluate(&thresholds, &run, source);
    println!(
        "gate {} (seed {}): {} against {}",
        verdict.scenario,
        verdict.seed,
        scenario.path.display(),
        args.thresholds.display()
    );
    print!("{}", verdict.to_text());
    if let (true, Some(path)) = (args.update_baseline, &args.baseline) {
        Baseline::from_run(&run).write(path)?;
        println!("wrote baseline {}", path.display());
    }
    if let Some(path) = &args.junit {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(path, hcsim_reports::junit::render(&verdict))
            .with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(if verdict.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
