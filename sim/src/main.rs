//! The `hcsim` command line. Each subcommand lives in `hcsim::cli::<name>`.

use clap::{Parser, Subcommand};
use hcsim::cli;
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: hcsim::alloc::Allocator = hcsim::alloc::Allocator;

#[derive(Parser)]
#[command(
    name = "hcsim",
    version,
    about = "National simulation and load harness for health-code platforms"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario in virtual time against the in-process platform.
    Run(cli::run::Args),
    /// Run policy test cases against the provincial rule sets.
    Check(cli::check::Args),
    /// Find the fewest servers per province that meet a service level objective.
    Capacity(cli::capacity::Args),
    /// Serve the real platform over a JSON HTTP API (loopback only).
    Serve(cli::serve::Args),
    /// Drive the real platform in real time with an open-model arrival process.
    Load(cli::load::Args),
    /// Run one scenario under each degrade strategy and compare them side by side.
    Compare(cli::compare::Args),
    /// Compare two finished runs, or a scenario under two rule sets (policy diff).
    Diff(cli::diff::Args),
    /// Run a scenario and check it against thresholds and a baseline (CI).
    Gate(cli::gate::Args),
    /// Re-run one oracle violation's history against a fresh platform.
    Replay(cli::replay::Args),
    /// Run the calibration scenarios and compare their demand with published figures.
    Calibrate(cli::calibrate::Args),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Run(a) => cli::run::exec(a),
        Command::Check(a) => cli::check::exec(a),
        Command::Capacity(a) => cli::capacity::exec(a),
        Command::Serve(a) => cli::serve::exec(a),
        Command::Load(a) => cli::load::exec(a),
        Command::Compare(a) => cli::compare::exec(a),
        Command::Diff(a) => cli::diff::exec(a),
        Command::Gate(a) => cli::gate::exec(a),
        Command::Replay(a) => cli::replay::exec(a),
        Command::Calibrate(a) => cli::calibrate::exec(a),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        cli::exit::code(cli::exit::ERROR)
    })
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// A user reading `hcsim SUBCOMMAND --help` learns what every argument
    /// is for: no positional or flag goes without a description.
    #[test]
    fn every_argument_of_every_subcommand_is_described() {
        let cli = Cli::command();
        let mut undescribed = Vec::new();
        for sub in cli.get_subcommands() {
            if sub.get_about().is_none() {
                undescribed.push(format!("{} (the subcommand)", sub.get_name()));
            }
            for arg in sub.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                let described = arg
                    .get_help()
                    .is_some_and(|h| h.to_string().trim().len() > 10);
                if !described {
                    undescribed.push(format!("{} {id}", sub.get_name()));
                }
            }
        }
        assert!(cli.get_subcommands().count() >= 9);
        assert!(undescribed.is_empty(), "no description: {undescribed:?}");
    }
}
