//! `hcsim check CASES [--rules FILE]`: run policy test cases (a file or a
//! directory of them) against the provincial platforms' rule sets.

use crate::check::run_cases;
use crate::cli::exit;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// A case file, or a directory whose `*.toml` files are all cases
    /// (exit 10 when a case fails).
    #[arg(value_name = "CASES")]
    pub cases: PathBuf,
    /// Run every case under this rule set instead of the one it names
    /// (to see which cases a rule change breaks).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
}

pub fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let report = run_cases(&args.cases, args.rules.as_deref())?;
    println!("{report}");
    Ok(exit::code(if report.ok() {
        exit::OK
    } else {
        exit::CORRECTNESS
    }))
}
