//! `hcsim diff RUN_A RUN_B [--out DIR]`: what changed between two finished
//! runs (their output directories).
//!
//! `hcsim diff --rules-a A.toml --rules-b B.toml SCENARIO [--out DIR]`: a
//! policy diff, the scenario run under rule set A and under B (same seed),
//! and who gets a different code.

use crate::cli::run::default_threads;
use crate::policy_diff::{policy_diff, Options};
use anyhow::{bail, Context};
use hcsim_reports::run_diff::{diff, load_run};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Two runs' output directories (each with summary.json, and
    /// performance.json when the machine's figures should be compared too);
    /// or, with --rules-a and --rules-b, one scenario file.
    #[arg(value_name = "RUN_A RUN_B | SCENARIO")]
    pub paths: Vec<PathBuf>,
    /// Write DIR/diff.json and DIR/diff.html (policy diff: also the two runs
    /// in DIR/a and DIR/b; default out/policy-diff).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Policy diff: the rule set in force first.
    #[arg(long, value_name = "FILE", requires = "rules_b")]
    pub rules_a: Option<PathBuf>,
    /// Policy diff: the rule set to compare with A.
    #[arg(long, value_name = "FILE", requires = "rules_a")]
    pub rules_b: Option<PathBuf>,
    /// Policy diff: provinces (keys, comma-separated) whose rule set A and B
    /// replace. Default: every province whose rule set has A's scheme name.
    #[arg(long, value_name = "KEYS", value_delimiter = ',')]
    pub provinces: Vec<String>,
    /// Policy diff: how many changed citizens to show with their histories.
    #[arg(long, default_value_t = 5)]
    pub examples: usize,
    /// Policy diff: worker threads (results are identical at any count).
    #[arg(long, value_parser = super::run::thread_count, default_value_t = default_threads())]
    pub threads: usize,
}

enum Mode<'a> {
    Runs {
        a: &'a PathBuf,
        b: &'a PathBuf,
    },
    Rules {
        scenario: &'a PathBuf,
        a: &'a PathBuf,
        b: &'a PathBuf,
    },
}

impl Args {
    fn mode(&self) -> anyhow::Result<Mode<'_>> {
        match (&self.rules_a, &self.rules_b, self.paths.as_slice()) {
            (Some(a), Some(b), [scenario]) => Ok(Mode::Rules { scenario, a, b }),
            (Some(_), Some(_), other) => bail!(
                "hcsim diff --rules-a A --rules-b B takes one scenario file; got {} path(s)",
                other.len()
            ),
            (_, _, [a, b]) if self.provinces.is_empty() => Ok(Mode::Runs { a, b }),
            (_, _, [_, _]) => bail!("--provinces applies to a policy diff (--rules-a, --rules-b)"),
            (_, _, other) => bail!(
                "hcsim diff compares two run directories (RUN_A RUN_B), or one scenario under --rules-a and --rules-b; got {} path(s)",
                other.len()
            ),
        }
    }
}

pub fn exec(args: Args) -> anyhow::Result<ExitCode> {
    match args.mode()? {
        Mode::Runs { a, b } => {
            let run_a = load_run(a).with_context(|| format!("reading run {}", a.display()))?;
            let run_b = load_run(b).with_context(|| format!("reading run {}", b.display()))?;
            let d = diff(&run_a, &run_b);
            print!("{}", d.to_text());
            if let Some(out) = &args.out {
                d.write(out)?;
                println!("\nwrote {0}/diff.json, {0}/diff.html", out.display());
            }
        }
        Mode::Rules { scenario, a, b } => {
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| PathBuf::from("out/policy-diff"));
            let d = policy_diff(&Options {
                scenario: scenario.clone(),
                rules_a: a.clone(),
                rules_b: b.clone(),
                provinces: args.provinces.clone(),
                out: out.clone(),
                threads: args.threads,
                examples: args.examples,
            })?;
            print!("{}", d.to_text());
            println!(
                "\nwrote {0}/diff.json, {0}/diff.html, {0}/codes-a.csv, {0}/codes-b.csv; the runs in {0}/a and {0}/b",
                out.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
