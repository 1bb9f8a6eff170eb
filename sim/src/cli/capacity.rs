//! `hcsim capacity SCENARIO --slo "scan.p99<300ms,busy<0.1%"`: the fewest
//! servers per province that meet a service level objective.

use crate::capacity::search::{search, Metric, SearchOptions, SearchResult, Slo};
use crate::cli::exit;
use crate::cli::run::default_threads;
use crate::scenario::Scenario;
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The scenario file whose platforms are sized (its `[capacity]` is the
    /// starting point).
    pub scenario: PathBuf,
    /// Terms that must all hold, comma-separated: `busy<RATE` (e.g. `0.1%`)
    /// and `OP.PCT<TIME` with OP in scan, query, declare, apply, hub_query,
    /// PCT in p50, p90, p99, p99.9, max, TIME like `300ms` or `1s`.
    #[arg(long)]
    pub slo: String,
    /// Worker threads per run (results are identical at any count).
    #[arg(long, value_parser = super::run::thread_count, default_value_t = default_threads())]
    pub threads: usize,
    /// The most servers a province may get.
    #[arg(long, default_value_t = 1024)]
    pub max_servers: u32,
    /// Output directory: capacity.json, and the confirming run's summary in
    /// `capacity-run/`.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
}

pub fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let slo = Slo::parse(&args.slo)?;
    let scenario = Scenario::load(&args.scenario)?;
    if args.max_servers == 0 {
        anyhow::bail!("--max-servers must be at least 1");
    }
    let opts = SearchOptions {
        threads: args.threads,
        max_servers: args.max_servers,
        scratch: args.out.join("capacity-run"),
    };
    eprintln!(
        "searching servers for {} province(s) of {} against `{}`",
        scenario.provinces.len(),
        scenario.name,
        slo.text
    );
    let result = search(&scenario, &slo, &opts, &mut |line| eprintln!("  {line}"))
        .with_context(|| format!("searching capacity for {}", scenario.path.display()))?;
    print_table(&result, &slo);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating output directory {}", args.out.display()))?;
    let path = args.out.join("capacity.json");
    std::fs::write(&path, serde_json::to_string_pretty(&result)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    let failed: Vec<&str> = result
        .provinces
        .iter()
        .filter(|f| !f.met)
        .map(|f| f.province.as_str())
        .collect();
    if failed.is_empty() {
        println!(
            "confirmed: a run with these counts meets `{}` in every province ({} runs)",
            result.slo, result.runs
        );
    } else {
        println!(
            "NOT confirmed: {} miss `{}` even at their count (max {} servers; {} runs)",
            failed.join(", "),
            result.slo,
            result.max_servers,
            result.runs
        );
    }
    println!(
        "wrote           {} and {}/summary.json (the confirming run)",
        path.display(),
        opts.scratch.display()
    );
    Ok(exit::code(if failed.is_empty() {
        exit::OK
    } else {
        exit::CAPACITY
    }))
}

fn cell(metric: Metric, v: Option<f64>) -> String {
    match (metric, v) {
        (_, None) => "-".to_string(),
        (Metric::Busy, Some(r)) => format!("{:.3}%", r * 100.0),
        (Metric::Latency(..), Some(ms)) => format!("{ms:.1} ms"),
    }
}

fn print_table(r: &SearchResult, slo: &Slo) {
    let mut header = format!("{:<16} {:>8}", "province", "servers");
    for t in &slo.terms {
        header += &format!(" {:>16}", t.text.split(['<', '=']).next().unwrap_or(""));
    }
    header += "  SLO";
    println!("{header}");
    for f in &r.provinces {
        let mut line = format!("{:<16} {:>8}", f.province, f.servers);
        for (t, v) in slo.terms.iter().zip(&f.values) {
            line += &format!(" {:>16}", cell(t.metric, *v));
        }
        line += if f.met { "  met" } else { "  MISSED" };
        println!("{line}");
    }
    let mut line = format!("{:<16} {:>8}", "hub (fixed)", r.hub_servers);
    for (t, v) in slo.terms.iter().zip(&r.hub_values) {
        line += &format!(" {:>16}", cell(t.metric, *v));
    }
    println!("{line}");
}
