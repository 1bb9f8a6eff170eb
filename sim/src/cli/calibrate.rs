//! `hcsim calibrate [DIR]`: runs the calibration scenarios, measures each
//! published figure on them, writes `calibration.json` and
//! `calibration.html`, and exits `exit::CALIBRATION` when a figure that
//! gates lies outside its band.

use crate::calibrate::{calibrate, Options};
use crate::cli::exit;
use crate::cli::run::default_threads;
use hcsim_reports::calibration::{self, Calibration};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Directory of calibration scenarios and their figures.toml.
    #[arg(default_value = "scenarios/calibration")]
    pub dir: PathBuf,
    /// Output directory: calibration.json, calibration.html, and each run in `SCENARIO/`.
    #[arg(long, default_value = "out/calibration")]
    pub out: PathBuf,
    /// Worker threads per run (results are identical at any count).
    #[arg(long, value_parser = super::run::thread_count, default_value_t = default_threads())]
    pub threads: usize,
    /// No progress lines.
    #[arg(long)]
    pub quiet: bool,
}

pub fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let quiet = args.quiet;
    let opts = Options {
        threads: args.threads,
        out: &args.out,
    };
    let c = calibrate(&args.dir, &opts, &|_, _| {}, &mut |line| {
        if !quiet {
            eprintln!("  {line}");
        }
    })?;
    print_table(&c);
    calibration::write(&args.out, &c)?;
    println!(
        "wrote           {0}/calibration.json, {0}/calibration.html, and each run in {0}/<scenario>/",
        args.out.display()
    );
    let failed = c.failed();
    if failed.is_empty() {
        println!("calibrated      every gating figure within its band");
        Ok(exit::code(exit::OK))
    } else {
        println!("NOT calibrated  outside their band: {}", failed.join(", "));
        Ok(exit::code(exit::CALIBRATION))
    }
}

fn print_table(c: &Calibration) {
    println!(
        "{:<36} {:>12} {:>12} {:>7} {:>6}  verdict",
        "figure", "published", "model", "ratio", "band"
    );
    for f in &c.figures {
        let verdict = match (f.within, &f.gap) {
            (true, _) => "within".to_string(),
            (false, Some(gap)) => format!("known gap: {gap}"),
            (false, None) => "OUTSIDE".to_string(),
        };
        println!(
            "{:<36} {:>12} {:>12} {:>7.3} {:>5.0}%  {verdict}",
            f.name,
            calibration::value(f.published),
            calibration::value(f.model),
            f.ratio,
            f.band * 100.0
        );
    }
}
