//! `hcsim diff RUN_A RUN_B [--out DIR]`: what changed between two finished
//! runs (their output directories).

use anyhow::{bail, Context};
use hcsim_reports::run_diff::{diff, load_run};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The two runs' output directories (each with summary.json, and
    /// performance.json when the machine's figures should be compared too).
    /// Positional paths leave room for other comparison modes that take
    /// different operands; `mode` decides which one a command line asks for.
    #[arg(value_name = "RUN_A RUN_B")]
    pub paths: Vec<PathBuf>,
    /// Also write DIR/diff.json and DIR/diff.html.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

enum Mode<'a> {
    Runs { a: &'a PathBuf, b: &'a PathBuf },
}

impl Args {
    fn mode(&self) -> anyhow::Result<Mode<'_>> {
        match self.paths.as_slice() {
            [a, b] => Ok(Mode::Runs { a, b }),
            other => bail!(
                "hcsim diff compares two run directories (RUN_A RUN_B); got {} path(s)",
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
    }
    Ok(ExitCode::SUCCESS)
}
