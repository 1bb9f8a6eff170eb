//! `hcsim run SCENARIO`: one scenario in virtual time.

use super::cluster::Role;
use crate::cli::exit;
use crate::run::{run_cluster, RunOptions, RunOutcome};
use crate::scenario::Scenario;
use anyhow::Context;
use hcsim_reports::format::latency_ms;
use hcsim_reports::summary::{Performance, Summary};
use std::fmt::Write;

/// A line of the run's printout; writing to a `String` cannot fail.
macro_rules! say {
    ($w:expr, $($arg:tt)*) => {
        let _ = writeln!($w, $($arg)*);
    };
}
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The scenario file (TOML; see README "Writing a scenario").
    pub scenario: PathBuf,
    /// Output directory: summary.json, performance.json, report.html,
    /// charts/ and, when the oracle found any, violations/.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Worker threads (results are identical at any count). At 1, the
    /// oracle reads large ticks on a helper thread, so the `cpu` line may
    /// show more than one core busy.
    #[arg(long, value_parser = thread_count, default_value_t = default_threads())]
    pub threads: usize,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// The platform: `inproc` (default), or `http://127.0.0.1:PORT` for a
    /// running `hcsim serve` (start it with `--scenario` of the same file so
    /// it uses the same rule sets). The capacity model still runs here.
    #[arg(long, default_value = "inproc")]
    pub target: String,
    /// Exit 0 even when the rule oracle found violations or acknowledged
    /// records were lost (exploratory runs); they are still printed.
    #[arg(long)]
    pub allow_violations: bool,
    /// Build the world even when the memory preflight estimates that the
    /// run will not fit the memory available.
    #[arg(long)]
    pub no_preflight: bool,
    #[command(flatten)]
    pub cluster: super::cluster::ClusterArgs,
}

pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `--threads N`: a run with no worker would never tick.
pub fn thread_count(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

pub fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let scenario = Scenario::load(&args.scenario)?;
    let opts = RunOptions {
        threads: args.threads,
        out_dir: args.out.clone(),
        progress: !args.quiet,
    };
    let target = (args.target != "inproc").then_some(args.target.as_str());
    let role = args.cluster.role(args.threads)?;
    if !args.no_preflight {
        preflight(&scenario, &role)?;
    }
    let (cluster, children) = match role {
        Role::Member(cluster) => (cluster, None),
        Role::Launch { processes } => {
            let (cluster, children) =
                super::cluster::launch(processes, args.threads, |i, hosts| {
                    member_args(&args, i, hosts)
                })?;
            (cluster, Some(children))
        }
    };
    super::cluster::guard_member(
        &cluster,
        std::time::Duration::from_secs(args.cluster.connect_timeout),
    );
    let started = std::time::Instant::now();
    let outcome = run_cluster(&scenario, &opts, &cluster, target)
        .with_context(|| format!("running {}", scenario.path.display()))?;
    if let Some(children) = children {
        super::cluster::finish(children)?;
    }
    // Only process 0 has the run's results; the others say that their part
    // is done, so that a member started by hand on another machine does not
    // end without a word.
    let Some(outcome) = outcome else {
        if !args.quiet {
            print!(
                "{}",
                render_member(&scenario, &cluster, started.elapsed().as_secs_f64())
            );
        }
        return Ok(ExitCode::SUCCESS);
    };
    print!("{}", render_run(&outcome, &args.out));
    // A broken identity is a counting bug, not a finding about the
    // platform: `--allow-violations` does not excuse it.
    let breaches = crate::conservation::check(&outcome.summary);
    if !breaches.is_empty() {
        eprint!("{}", render_breaches(&breaches, &args.out));
        return Ok(exit::code(exit::CORRECTNESS));
    }
    Ok(exit::code(verdict(&outcome.summary, args.allow_violations)))
}

/// Over several processes, that the figure before it is process 0's, and
/// the largest of the others' (`show` writes one): machines are sized by
/// the largest process, and the busiest one sets the pace.
fn largest_other_process<T: Copy + PartialOrd>(values: &[T], show: impl Fn(T) -> String) -> String {
    let others = values.iter().enumerate().skip(1);
    // The largest; the first of equals.
    match others.clone().max_by(|a, b| {
        a.1.partial_cmp(b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(b.0.cmp(&a.0))
    }) {
        None => String::new(),
        Some((i, &v)) if values.len() == 2 => format!(" on process 0, {} on process {i}", show(v)),
        Some((i, &v)) => format!(
            " on process 0, at most {} on the {} others (process {i})",
            show(v),
            others.count()
        ),
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1048576.0)
}

/// The run's CPU time and the cores it kept busy, and over several
/// processes process 0's share and the largest other; nothing when it was
/// not measured (another run shared the process).
fn cpu_line(p: &Performance) -> Option<String> {
    let (total, cores) = (p.cpu_seconds?, p.cores_busy?);
    let shares = match p.cpu_seconds_by_process.first() {
        Some(zero) => format!(
            ": {zero:.2} s{}",
            largest_other_process(&p.cpu_seconds_by_process, |t| format!("{t:.2} s"))
        ),
        None => String::new(),
    };
    Some(format!(
        "cpu             {total:.2} s (user and system){shares}   {cores:.2} cores busy"
    ))
}

/// What a process other than process 0 prints when its part of the run
/// is done.
fn render_member(scenario: &Scenario, cluster: &crate::engine::Cluster, seconds: f64) -> String {
    let placement = cluster.placement(scenario.shards);
    let shards = (0..placement.workers())
        .filter(|&w| placement.process_of(w) == cluster.process)
        .map(|w| placement.shards_of(w).count())
        .sum::<usize>();
    let mut w = String::new();
    say!(
        w,
        "process {} of {}: done in {seconds:.2} s ({shards} of {} shards, {:.1} MB sent to the other processes, peak RSS {:.1} MiB, CPU {:.2} s); process 0 writes the results",
        cluster.process,
        cluster.processes,
        scenario.shards,
        crate::engine::wire::bytes_sent() as f64 / 1e6,
        crate::memory::peak_rss_bytes() as f64 / 1048576.0,
        crate::cpu::process().as_secs_f64()
    );
    w
}

/// Refuse, before anything is built, a run whose processes would not fit
/// the memory of the machines they run on.
fn preflight(scenario: &Scenario, role: &Role) -> anyhow::Result<()> {
    use crate::preflight::Placement;
    let Some(available) = crate::preflight::available_bytes() else {
        return Ok(());
    };
    let placement = match role {
        Role::Launch { processes } => Placement::ThisMachine {
            processes: *processes,
        },
        Role::Member(c) if c.processes <= 1 => Placement::ThisMachine { processes: 1 },
        Role::Member(c) => Placement::OnePerMachine {
            processes: c.processes,
            process: c.process,
        },
    };
    crate::preflight::check(scenario, placement, available).map_err(anyhow::Error::msg)
}

/// Counts in summary.json that should agree and do not, each with both
/// sides.
pub fn render_breaches(breaches: &[crate::conservation::Breach], out: &Path) -> String {
    let mut w = String::new();
    say!(
        w,
        "error: {} conservation identit{} broken in {}/summary.json:",
        breaches.len(),
        if breaches.len() == 1 { "y" } else { "ies" },
        out.display()
    );
    for b in breaches.iter().take(20) {
        say!(w, "  {b}");
    }
    if breaches.len() > 20 {
        say!(w, "  … and {} more", breaches.len() - 20);
    }
    w
}

/// The command line of process `i` of a loopback launch of `args`.
fn member_args(args: &Args, i: usize, hostfile: &Path) -> Vec<String> {
    vec![
        "run".into(),
        args.scenario.display().to_string(),
        "--quiet".into(),
        "--threads".into(),
        args.threads.to_string(),
        "--processes".into(),
        args.cluster.processes.to_string(),
        "--process".into(),
        i.to_string(),
        "--hostfile".into(),
        hostfile.display().to_string(),
        "--connect-timeout".into(),
        args.cluster.connect_timeout.to_string(),
        // Whether the provinces are spread over the processes depends on it.
        "--target".into(),
        args.target.clone(),
    ]
}

/// Correctness failures of a run: oracle violations (wrong codes, privacy,
/// recognition, records lost at the end-of-run audit) and acknowledged
/// records lost across a platform crash.
pub fn correctness_failures(s: &Summary) -> u64 {
    s.oracle.as_ref().map_or(0, |o| o.violations) + s.faults.lost_acknowledged_records
}

/// The exit code of `hcsim run`: `CORRECTNESS` when anything was wrong,
/// unless the caller allowed it.
pub fn verdict(s: &Summary, allow_violations: bool) -> u8 {
    if correctness_failures(s) > 0 && !allow_violations {
        exit::CORRECTNESS
    } else {
        exit::OK
    }
}

fn render_faults(w: &mut String, f: &hcsim_reports::summary::FaultReport) {
    for x in &f.faults {
        let mut effects = Vec::new();
        let mut note = |name: &str, n: u64| {
            if n > 0 {
                effects.push(format!("{name} {n}"));
            }
        };
        note("scans", x.scans);
        note("cross-province", x.cross_province_scans);
        note("cross-province green", x.cross_province_green);
        note("busy", x.busy);
        note("refer", x.refer);
        note("refuse", x.refuse);
        note("hub unreachable", x.hub_unreachable);
        note("publications held", x.publications_held);
        note("requests while down", x.requests_while_down);
        note("feeds redelivered", x.feeds_redelivered);
        note("records recovered", x.records_recovered);
        note("torn bytes dropped", x.torn_bytes_dropped);
        note("feeds delayed", x.feeds_delayed);
        note("feeds duplicated", x.feeds_duplicated);
        note("feeds reordered", x.feeds_reordered);
        say!(
            w,
            "fault           {} {} {} → {}: {}",
            x.kind,
            x.province,
            x.from,
            x.until,
            effects.join("  ")
        );
    }
    if f.crashes_recovered > 0 {
        say!(
            w,
            "recovery        records recovered {}   acknowledged checked {}   lost acknowledged records {}",
            f.records_recovered, f.acknowledged_checked, f.lost_acknowledged_records
        );
    }
    if !f.down_at_end.is_empty() {
        say!(
            w,
            "not recovered   {} still down at the end of the run: {} acknowledged records unchecked",
            f.down_at_end.join(", "),
            f.acknowledged_unchecked
        );
    }
}

/// What `hcsim run` prints once the run is over.
pub fn render_run(o: &RunOutcome, out: &Path) -> String {
    let mut text = String::new();
    let w = &mut text;
    let s = &o.summary;
    let p = &o.performance;
    say!(
        w,
        "scenario        {} (seed {}), {} → {}",
        s.scenario.name,
        s.scenario.seed,
        s.scenario.start,
        s.scenario.end
    );
    say!(
        w,
        "citizens        {}   checkpoints {}   provinces {}",
        s.citizens,
        s.checkpoints,
        s.provinces.len()
    );
    say!(
        w,
        "scans           {}   pass {}  refer {}  refuse {}   via hub {}   busy {}",
        s.scans.total,
        s.scans.by_decision.get("pass").unwrap_or(&0),
        s.scans.by_decision.get("refer").unwrap_or(&0),
        s.scans.by_decision.get("refuse").unwrap_or(&0),
        s.scans.via_hub,
        s.scans.busy
    );
    let colors: Vec<String> = s
        .scans
        .by_color
        .iter()
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    say!(w, "scan colors     {}", colors.join("  "));
    let c = &s.capacity;
    for p in &c.platforms {
        if p.requests == 0 {
            continue;
        }
        say!(
        w,
            "platform        {:<14} {} servers  {} requests  busy {:.2} %  timeouts {}  utilisation {:.1} %  queue max {}",
            p.platform,
            p.servers,
            p.requests,
            p.busy_rate * 100.0,
            p.timeouts,
            p.utilization * 100.0,
            p.queue_depth_max
        );
    }
    if let Some(v) = s.latency.get("verify") {
        // At the one-hour cap the figure is the cap, which has no unit to add.
        let ms = |x: f64| {
            if x >= hcsim_reports::summary::LATENCY_CAP_MS {
                latency_ms(x)
            } else {
                format!("{} ms", latency_ms(x))
            }
        };
        say!(
            w,
            "scan latency    p50 {}  p90 {}  p99 {}  p99.9 {}  max {}   (degrade {}){}",
            ms(v.p50_ms),
            ms(v.p90_ms),
            ms(v.p99_ms),
            ms(v.p999_ms),
            ms(v.max_ms),
            c.degrade,
            if v.capped > 0 {
                format!(
                    "; {} of answered scans took ≥ 1 h (the cap of what is measured)",
                    hcsim_reports::format::percent(v.capped_share())
                )
            } else {
                String::new()
            }
        );
    }
    render_failing(w, &s.failing);
    say!(
        w,
        "epidemic        confirmed {}  close contacts {}  NAT tests {}  risk changes {}",
        s.epidemic.confirmed,
        s.epidemic.close_contacts,
        s.epidemic.nat_tests,
        s.epidemic.risk_changes
    );
    render_faults(w, &s.faults);
    render_oracle(w, s, out);
    say!(
        w,
        "events          {}   {:.0} events/s   {:.0}× real time",
        p.events_processed,
        p.events_per_second,
        p.speedup
    );
    say!(
        w,
        "wall            {:.2} s (setup {:.2} s) on {} process(es) × {} thread(s)   {:.0} citizen-days/s",
        p.wall_seconds,
        p.setup_seconds,
        p.processes.max(1),
        p.threads,
        p.citizen_days_per_second
    );
    if let Some(line) = cpu_line(p) {
        say!(w, "{line}");
    }
    say!(
        w,
        "tick loop       agents {:.2} s (busiest worker; mean {:.2} s)   platform {:.2} s   watchers {:.2} s (beside the tick; it waited for them {:.2} s)   barrier {:.2} s",
        p.phases.agents,
        p.agents_seconds_mean,
        p.phases.platform,
        p.phases.oracle,
        p.phases.oracle_waited,
        p.phases.driver
    );
    if !p.provinces_by_process.is_empty() {
        let held: Vec<String> = p
            .provinces_by_process
            .iter()
            .enumerate()
            .map(|(q, provinces)| format!("process {q} {}", provinces.len()))
            .collect();
        let serving = p
            .workers
            .iter()
            .map(|w| w.provinces_seconds)
            .fold(0.0, f64::max);
        say!(
            w,
            "provinces       held by {} (process 0 also holds the hub)   serving them {:.2} s (busiest holder, out of its waiting)",
            held.join(", "),
            serving
        );
    }
    if p.processes > 1 {
        say!(
            w,
            "exchange        {:.1} MB between processes   {:.0} B per simulated hour   {:.0} B per citizen-day",
            p.bytes_between_processes as f64 / 1e6,
            p.bytes_between_processes_per_hour,
            p.bytes_between_processes_per_citizen_day
        );
    }
    say!(
        w,
        "memory          peak RSS {:.1} MiB{}   {:.0} B/citizen (RSS)   {:.0} B/citizen (model)",
        p.peak_rss_bytes as f64 / 1048576.0,
        largest_other_process(&p.peak_rss_bytes_by_process, mib),
        p.rss_bytes_per_citizen,
        s.memory.bytes_per_citizen,
    );
    let reproducers = s.oracle.as_ref().map_or(0, |o| o.violation_files);
    let violations = if reproducers > 0 {
        format!(", {}/violations/", out.display())
    } else {
        String::new()
    };
    say!(
        w,
        "wrote           {0}/summary.json, {0}/performance.json, {0}/report.html{violations}",
        out.display()
    );
    text
}

fn render_failing(w: &mut String, f: &hcsim_reports::summary::FailingReport) {
    let window = |x: &hcsim_reports::summary::FailingWindow| {
        format!("{} → {} ({} min)", x.from, x.until, x.minutes)
    };
    if !f.national.is_empty() {
        let windows: Vec<String> = f.national.iter().map(window).collect();
        say!(
            w,
            "service         failing {} minutes: {}",
            f.minutes,
            windows.join(", ")
        );
    }
    for p in &f.platforms {
        let windows: Vec<String> = p.windows.iter().map(window).collect();
        say!(
            w,
            "failing         {:<14} {} minutes: {}",
            p.platform,
            p.minutes,
            windows.join(", ")
        );
    }
}

fn render_oracle(w: &mut String, s: &Summary, out: &Path) {
    let Some(o) = &s.oracle else {
        say!(
            w,
            "oracle          disabled by the scenario: answers not checked"
        );
        return;
    };
    let mut found = format!("{} violations", o.violations);
    if o.violations > 0 {
        let kinds: Vec<String> = o.by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
        found = format!("{found} ({})", kinds.join(", "));
    }
    say!(
        w,
        "oracle          {} citizens checked   {} checks   {} invariant checks   {found}",
        o.citizens_checked,
        o.checks,
        o.invariant_checks
    );
    if o.violation_files > 0 {
        say!(
            w,
            "reproducers     {}/violations/ ({} files; `hcsim replay FILE` re-runs one)",
            out.display(),
            o.violation_files
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{cpu_line, largest_other_process, mib, Performance};

    /// The cpu line of a run of `wall` seconds whose process 0 used
    /// `zero` (`None`: not measured) and whose other processes sent `others`.
    fn line(wall: f64, zero: Option<f64>, others: &[f64]) -> (Option<String>, usize) {
        let mut p = Performance {
            wall_seconds: wall,
            ..Default::default()
        };
        if !others.is_empty() {
            p.cpu_seconds_by_process = [&[0.0][..], others].concat();
        }
        crate::engine::report::add_cpu(&mut p, zero);
        (cpu_line(&p), p.cpu_seconds_by_process.len())
    }

    #[test]
    fn the_cpu_line_says_how_many_cores_the_run_kept_busy() {
        assert_eq!(cpu_line(&Performance::default()), None, "not measured");
        assert_eq!(
            line(10.0, Some(18.5), &[]).0.as_deref(),
            Some("cpu             18.50 s (user and system)   1.85 cores busy")
        );
        assert_eq!(
            line(10.0, Some(11.0), &[9.0]).0.as_deref(),
            Some("cpu             20.00 s (user and system): 11.00 s on process 0, 9.00 s on process 1   2.00 cores busy")
        );
        assert_eq!(
            line(4.0, Some(2.0), &[1.0, 3.0, 3.0]).0.as_deref(),
            Some("cpu             9.00 s (user and system): 2.00 s on process 0, at most 3.00 s on the 3 others (process 2)   2.25 cores busy")
        );
        // Another run shared process 0: no figure, not even the others'.
        assert_eq!(line(4.0, None, &[1.0]), (None, 0));
    }

    #[test]
    fn the_memory_line_names_the_largest_other_process() {
        const MIB: u64 = 1 << 20;
        assert_eq!(largest_other_process(&[], mib), "");
        assert_eq!(largest_other_process(&[5 * MIB], mib), "");
        assert_eq!(
            largest_other_process(&[5 * MIB, 3 * MIB], mib),
            " on process 0, 3.0 MiB on process 1"
        );
        // The first of equal peaks, as the largest.
        assert_eq!(
            largest_other_process(&[5 * MIB, MIB, 7 * MIB, 7 * MIB], mib),
            " on process 0, at most 7.0 MiB on the 3 others (process 2)"
        );
    }
}
