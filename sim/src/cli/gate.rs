//! `hcsim gate SCENARIO --thresholds FILE [--seeds K]`: runs a scenario
//! under K seeds and checks the runs against absolute limits and a
//! baseline's samples (`hcsim_reports::gate`).
//!
//! Seeds: the i-th seed (i = 0, 1, …) is the scenario's own seed for i = 0
//! and SplitMix64(scenario seed + i) after it, so `--seeds 1` is one run of
//! the scenario as written and a baseline of 64 seeds holds the first 16 a
//! CI gate runs. `--seed-offset O` starts at i = O: a set of seeds no
//! baseline used, for checking the gate's false-alarm rate.
//!
//! Exit codes (`cli::exit`): 0 passed; 10 a correctness limit failed (or a
//! run broke a conservation identity); 11 a regression against the
//! baseline or an outcome limit; 12 a capacity limit; 2 bad input. With
//! several classes failing the first of that list wins; `--exit-code any`
//! turns every failure into 1.

use crate::cli::exit;
use crate::cli::run::default_threads;
use crate::run::{run, RunOptions, RunOutcome};
use crate::scenario::{InputError, Scenario};
use anyhow::Context;
use hcsim_reports::gate::baseline::{scenario_hash, Provenance};
use hcsim_reports::gate::{evaluate_samples, Baseline, BaselineSource, Class, Sample, Thresholds};
use hcsim_reports::metrics::Run;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExitCodes {
    /// One code per class of failure: 10 correctness, 11 regression, 12 capacity.
    Class,
    /// 1 for any failure, for CI that only tells zero from non-zero.
    Any,
}

#[derive(clap::Args)]
pub struct Args {
    /// The scenario file to run (CI: scenarios/smoke.toml).
    pub scenario: PathBuf,
    /// Limits to check (TOML: [gate], [limits] and [baseline] tables).
    #[arg(long, value_name = "FILE")]
    pub thresholds: PathBuf,
    /// Baseline samples for the [baseline] checks (JSON, format 1 or 2).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write the checks as JUnit XML.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write these runs' samples to the --baseline file instead of comparing.
    #[arg(long, requires = "baseline")]
    pub update_baseline: bool,
    /// How many seeds to run: the scenario's own, then ones derived from it.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub seeds: u32,
    /// Start the derived seeds at this index (0 = the scenario's own seed).
    #[arg(long, default_value_t = 0)]
    pub seed_offset: u64,
    /// Runs per seed, for the wall-clock metrics' spread (the scenario's
    /// figures are the same in every repeat).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// Runs at once (default: one per core, each run on --threads workers).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Exit code on failure: by class of failure, or 1 for any.
    #[arg(long, value_enum, default_value_t = ExitCodes::Class)]
    pub exit_code: ExitCodes,
    /// Output directory: each run's results (in seed-N/ when there are
    /// several) and the gate's verdict.json.
    #[arg(long, default_value = "out/gate")]
    pub out: PathBuf,
    /// Worker threads per run (results are identical at any count); default
    /// all cores for one run, 1 when several runs share the cores.
    #[arg(long, value_parser = super::run::thread_count)]
    pub threads: Option<usize>,
}

/// SplitMix64: one step from state `x`, a well-mixed 64-bit output.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The gate's i-th seed for a scenario seeded `seed`.
pub fn derived_seed(seed: u64, i: u64) -> u64 {
    if i == 0 {
        seed
    } else {
        splitmix64(seed.wrapping_add(i))
    }
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

/// One run to make: its seed and where its results go.
struct Job {
    seed: u64,
    out: PathBuf,
}

pub fn exec(args: Args) -> anyhow::Result<ExitCode> {
    // Every input is read before the runs, so a typo costs no simulation.
    let thresholds = load_thresholds(&args.thresholds)?;
    let scenario = Scenario::load(&args.scenario)?;
    let hash = std::fs::read(&scenario.path)
        .map(|bytes| scenario_hash(&bytes))
        .with_context(|| format!("reading {}", scenario.path.display()))?;
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

    let jobs = plan(&args, scenario.seed);
    let runs = jobs.len();
    let threads = args
        .threads
        .unwrap_or(if runs == 1 { default_threads() } else { 1 });
    let parallel = args
        .jobs
        .unwrap_or_else(|| (default_threads() / threads).max(1))
        .clamp(1, runs);
    let started = std::time::Instant::now();
    let outcomes = run_all(&scenario, &jobs, threads, parallel)?;
    let samples: Vec<Sample> = jobs
        .iter()
        .zip(&outcomes)
        .map(|(job, o)| Sample {
            seed: job.seed,
            run: Run {
                summary: &o.summary,
                performance: Some(&o.performance),
            },
        })
        .collect();

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
    let mut verdict = evaluate_samples(&thresholds, &samples, source);
    verdict.seed = scenario.seed;
    println!(
        "gate {} (seed {}): {} against {}",
        verdict.scenario,
        verdict.seed,
        scenario.path.display(),
        args.thresholds.display()
    );
    println!(
        "ran {} seed{} × {} in {:.1} s, {parallel} at a time × {threads} thread{}{}",
        verdict.seeds.len(),
        if verdict.seeds.len() == 1 { "" } else { "s" },
        args.repeat,
        started.elapsed().as_secs_f64(),
        if threads == 1 { "" } else { "s" },
        match &baseline {
            Some(b) => format!(
                "; baseline {} seed{} × {}",
                b.seeds.len(),
                if b.seeds.len() == 1 { "" } else { "s" },
                b.repeat
            ),
            None => String::new(),
        }
    );
    if let Some(b) = &baseline {
        if b.scenario_hash.as_ref().is_some_and(|h| *h != hash) {
            println!(
                "note: {} changed since the baseline was written ({} → {hash})",
                scenario.path.display(),
                b.scenario_hash.as_deref().unwrap_or_default()
            );
        }
    }
    print!("{}", verdict.to_text());

    // A broken identity is a counting bug: correctness, whatever the limits.
    let mut broken = false;
    for (job, o) in jobs.iter().zip(&outcomes) {
        let breaches = crate::conservation::check(&o.summary);
        if !breaches.is_empty() {
            broken = true;
            eprint!("{}", super::run::render_breaches(&breaches, &job.out));
        }
    }

    if let (true, Some(path)) = (args.update_baseline, &args.baseline) {
        let b = Baseline::from_samples(
            &samples,
            Provenance {
                scenario_hash: Some(hash),
                hcsim_version: Some(env!("CARGO_PKG_VERSION")),
                seed: scenario.seed,
            },
        );
        b.write(path)?;
        println!(
            "wrote baseline {} ({} seeds × {})",
            path.display(),
            b.seeds.len(),
            b.repeat
        );
    }
    write(&args.out.join("verdict.json"), verdict.to_json())?;
    println!("wrote {}", args.out.join("verdict.json").display());
    if let Some(path) = &args.junit {
        write(path, hcsim_reports::junit::render(&verdict))?;
        println!("wrote {}", path.display());
    }

    let mut classes = verdict.failed_classes();
    if broken {
        classes.insert(0, Class::Correctness);
    }
    Ok(exit::code(match (classes.first(), args.exit_code) {
        (None, _) => exit::OK,
        (Some(_), ExitCodes::Any) => exit::ANY_FAILURE,
        (Some(Class::Correctness), ExitCodes::Class) => exit::CORRECTNESS,
        (Some(Class::Regression), ExitCodes::Class) => exit::REGRESSION,
        (Some(Class::Capacity), ExitCodes::Class) => exit::CAPACITY,
    }))
}

/// Every run, each seed's repeats together; one run alone writes to `--out`
/// itself, as `hcsim run` would.
fn plan(args: &Args, seed: u64) -> Vec<Job> {
    let single = args.seeds == 1 && args.repeat == 1;
    (0..u64::from(args.seeds))
        .flat_map(|i| {
            let seed = derived_seed(seed, args.seed_offset + i);
            (0..args.repeat).map(move |r| (seed, r))
        })
        .map(|(seed, r)| Job {
            seed,
            out: if single {
                args.out.clone()
            } else if args.repeat == 1 {
                args.out.join(format!("seed-{seed}"))
            } else {
                args.out.join(format!("seed-{seed}-{}", r + 1))
            },
        })
        .collect()
}

/// The runs, `parallel` at a time, in `jobs` order. The first error stops
/// the gate (the other runs finish first).
fn run_all(
    scenario: &Scenario,
    jobs: &[Job],
    threads: usize,
    parallel: usize,
) -> anyhow::Result<Vec<RunOutcome>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<anyhow::Result<RunOutcome>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..parallel {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let mut seeded = scenario.clone();
                seeded.seed = job.seed;
                let opts = RunOptions {
                    threads,
                    out_dir: job.out.clone(),
                    progress: false,
                };
                let outcome = run(&seeded, &opts).with_context(|| {
                    format!("running {} with seed {}", scenario.path.display(), job.seed)
                });
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(outcome);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(anyhow::anyhow!("a run did not finish"))))
        .collect()
}

fn write(path: &Path, text: String) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_derive_by_splitmix64() {
        // SplitMix64's published first output from state 0.
        assert_eq!(splitmix64(0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(derived_seed(20201001, 0), 20201001);
        assert_eq!(derived_seed(20201001, 3), splitmix64(20201004));
        let seeds: Vec<u64> = (0..64).map(|i| derived_seed(20201001, i)).collect();
        let mut distinct = seeds.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 64);
    }
}
