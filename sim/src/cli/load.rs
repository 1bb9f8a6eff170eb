//! `hcsim load SCENARIO --target inproc|http://127.0.0.1:PORT`: real-time
//! load with an open-model arrival process; writes `load.json`.

use super::exit;
use crate::load::report::{progress_line, render, MIN_RATE_SHARE};
use crate::load::workers::Tick;
use crate::load::workload::Mix;
use crate::load::{run, LoadOptions, OnTick, Target};
use anyhow::Context as _;
use hcsim_platform::Minute;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// The scenario file: its surges shape the rate, its population the
    /// people registered.
    pub scenario: PathBuf,
    /// `inproc` (this process) or `http://127.0.0.1:PORT` (a running `hcsim serve`).
    #[arg(long, value_parser = Target::parse)]
    pub target: Target,
    /// Requests per second outside surges (surges multiply it).
    #[arg(long)]
    pub rate: f64,
    /// Length of the run: `30s`, `500ms`, `2m`, or seconds.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Duration,
    /// Concurrent virtual users, each with its own connection.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Most requests in flight on one HTTP connection (HTTP/1.1
    /// pipelining, 1..=1024): the open model sends on schedule, so a slow
    /// answer has later requests queue behind it on the wire.
    #[arg(long, default_value_t = 16)]
    pub pipeline: usize,
    /// Virtual seconds per real second [default: the whole scenario in --duration].
    #[arg(long)]
    pub compress: Option<f64>,
    /// Virtual start time, Beijing time [default: the scenario's start].
    #[arg(long, value_parser = Minute::parse)]
    pub from: Option<Minute>,
    /// Citizens registered (untimed) before the run, sampled from the
    /// scenario's; at most the scenario's population (smoke.toml: 14,101).
    #[arg(long, default_value_t = 100_000)]
    pub people: usize,
    /// Operation weights.
    #[arg(long, default_value = "verify=85,query=10,declare=5", value_parser = Mix::parse)]
    pub mix: Mix,
    /// Seconds one request may take before it counts as a timeout.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
    /// Worker threads of the generator (and of the in-process platform).
    #[arg(long, value_parser = super::run::thread_count, default_value_t = super::run::default_threads())]
    pub threads: usize,
    /// Rule sets for provinces the scenario does not name (inproc target).
    #[arg(long, default_value = "scenarios/rules")]
    pub rules_dir: PathBuf,
    /// Share of the requested rate the target must answer; below it the
    /// run exits with code 13.
    #[arg(long, default_value_t = MIN_RATE_SHARE)]
    pub min_rate_share: f64,
    /// Output directory for load.json.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// No progress lines.
    #[arg(long)]
    pub quiet: bool,
}

/// `30s`, `500ms`, `2m`, `1h`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 30s, 500ms or 2m"))?;
    let seconds = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("unknown unit `{unit}` in `{s}`: use ms, s, m or h")),
    };
    if !(seconds > 0.0 && seconds <= 7.0 * 86_400.0) {
        return Err(format!(
            "`{s}` is out of range: more than 0 and at most a week"
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

pub fn exec(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 3600.0,
        "--timeout must be within (0, 3600] seconds"
    );
    let quiet = args.quiet;
    let opts = LoadOptions {
        scenario: args.scenario,
        target: args.target,
        rate: args.rate,
        duration: args.duration,
        connections: args.connections,
        pipeline: args.pipeline,
        compress: args.compress,
        from: args.from,
        people: args.people,
        threads: args.threads,
        timeout: Duration::from_secs_f64(args.timeout),
        mix: args.mix,
        rules_dir: args.rules_dir,
        min_rate_share: args.min_rate_share,
        on_tick: (!quiet).then(|| Box::new(|t: &Tick| eprintln!("{}", progress_line(t))) as OnTick),
    };
    let report = run(opts)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating output directory {}", args.out.display()))?;
    let path = args.out.join("load.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    print!("{}", render(&report));
    println!("wrote           {}", path.display());
    Ok(exit::code(if report.verdict.target_kept_up {
        exit::OK
    } else {
        exit::SCHEDULE
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("3 fortnights").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
