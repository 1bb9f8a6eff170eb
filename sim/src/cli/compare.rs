//! `hcsim compare SCENARIO --vary degrade=none,trip,ratelimit,cache,idcard`:
//! the same scenario and seed under each value, side by side.

use crate::capacity::config::DEGRADE_NAMES;
use crate::cli::run::default_threads;
use crate::run::{run, RunOptions};
use crate::scenario::Scenario;
use anyhow::Context;
use hcsim_reports::compare::{self, CompareRun, Comparison, FAILING_RULE};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The scenario file, run once per value of --vary (same seed).
    pub scenario: PathBuf,
    /// The setting to vary and its values: `degrade=none,trip,ratelimit,cache,idcard`.
    #[arg(long, default_value = "degrade=none,trip,ratelimit,cache,idcard")]
    pub vary: String,
    /// Output directory: compare.json, compare.html, and each run in `VALUE/`.
    #[arg(long, default_value = "out/compare")]
    pub out: PathBuf,
    /// Worker threads per run (results are identical at any count).
    #[arg(long, value_parser = super::run::thread_count, default_value_t = default_threads())]
    pub threads: usize,
    /// No progress lines.
    #[arg(long)]
    pub quiet: bool,
}

/// The values of `--vary`, checked against the setting's known values.
pub fn parse_vary(text: &str) -> anyhow::Result<Vec<String>> {
    let (key, values) = text
        .split_once('=')
        .with_context(|| format!("--vary `{text}`: expected SETTING=V1,V2,..."))?;
    if key.trim() != "degrade" {
        anyhow::bail!(
            "--vary `{text}`: unknown setting `{}`; known: degrade",
            key.trim()
        );
    }
    let values: Vec<String> = values
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() {
        anyhow::bail!("--vary `{text}`: no values given");
    }
    for v in &values {
        if !DEGRADE_NAMES.contains(&v.as_str()) {
            anyhow::bail!(
                "--vary `{text}`: unknown degrade strategy `{v}`; known: {}",
                DEGRADE_NAMES.join(", ")
            );
        }
    }
    Ok(values)
}

/// Runs `scenario` once per degrade strategy in `values`.
pub fn compare_degrade(
    scenario: &Scenario,
    values: &[String],
    out: &std::path::Path,
    threads: usize,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<Comparison> {
    let mut runs = Vec::new();
    let mut interval_minutes = 0;
    for v in values {
        let mut s = scenario.clone();
        s.capacity.degrade = s
            .capacity
            .degrade_params
            .strategy(v)
            .with_context(|| format!("unknown degrade strategy `{v}`"))?;
        progress(&format!("degrade = {v}"));
        let opts = RunOptions {
            threads,
            out_dir: out.join(v),
            progress: false,
        };
        let outcome = run(&s, &opts).with_context(|| format!("running with degrade = {v}"))?;
        interval_minutes = outcome.summary.timeline.interval_minutes;
        runs.push(CompareRun::from_summary(v, &outcome.summary));
    }
    Ok(Comparison {
        scenario: scenario.name.clone(),
        file: scenario.path.display().to_string(),
        seed: scenario.seed,
        vary: "degrade".to_string(),
        interval_minutes,
        failing_rule: FAILING_RULE.to_string(),
        runs,
    })
}

pub fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let values = parse_vary(&args.vary)?;
    let scenario = Scenario::load(&args.scenario)?;
    let quiet = args.quiet;
    let c = compare_degrade(&scenario, &values, &args.out, args.threads, |line| {
        if !quiet {
            eprintln!("  {line}");
        }
    })?;
    print_table(&c);
    compare::write(&args.out, &c)?;
    println!(
        "wrote           {0}/compare.json, {0}/compare.html, and each run's summary in {0}/<strategy>/",
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn print_table(c: &Comparison) {
    print!("{:<18}", "degrade");
    for r in &c.runs {
        print!("{:>12}", r.value);
    }
    println!();
    for (label, values) in c.rows() {
        print!("{label:<18}");
        for v in values {
            print!("{v:>12}");
        }
        println!();
    }
    println!("failing: {}", c.failing_rule);
}
