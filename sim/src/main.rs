//! The `hcsim` command line. Each subcommand lives in `hcsim::cli::<name>`.

use clap::{Parser, Subcommand};
use hcsim::cli;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "hcsim", version, about = "National simulation and load harness for health-code platforms")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario in virtual time against the in-process platform.
    Run(cli::run::Args),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Run(a) => cli::run::exec(a),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::from(2)
    })
}
