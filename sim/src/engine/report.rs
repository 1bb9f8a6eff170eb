//! The engine's share of `performance.json`: workers and processes, each
//! worker's time, and what crossed between processes.

use super::{Cluster, EngineOutput};
use crate::scenario::Scenario;
use hcsim_reports::summary::{Performance, WorkerPhases};

/// The fields of `Performance` the engine knows; the run fills the rest.
pub fn performance(
    scenario: &Scenario,
    cluster: &Cluster,
    out: &EngineOutput,
    citizens: u64,
    wall_seconds: f64,
) -> Performance {
    let placement = cluster.placement(scenario.shards);
    let workers: Vec<WorkerPhases> = out
        .workers
        .iter()
        .map(|w| WorkerPhases {
            worker: w.worker,
            process: placement.process_of(w.worker as usize) as u32,
            shards: placement.shards_of(w.worker as usize).collect(),
            agents_seconds: w.agents,
            waiting_seconds: w.waiting,
            provinces_seconds: w.provinces,
        })
        .collect();
    let n = workers.len().max(1) as f64;
    let hours = scenario.duration_minutes as f64 / 60.0;
    let citizen_days = citizens as f64 * scenario.duration_minutes as f64 / 1440.0;
    let bytes = out.bytes_between_processes;
    // Each process's first worker reports its process's peak.
    let mut peak_rss_bytes_by_process = Vec::new();
    let mut cpu_seconds_by_process = Vec::new();
    if cluster.processes > 1 {
        peak_rss_bytes_by_process.resize(cluster.processes, 0u64);
        cpu_seconds_by_process.resize(cluster.processes, 0.0f64);
        for w in &out.workers {
            let p = placement.process_of(w.worker as usize);
            if let Some(peak) = peak_rss_bytes_by_process.get_mut(p) {
                *peak = (*peak).max(w.process_peak_rss);
            }
            if let Some(cpu) = cpu_seconds_by_process.get_mut(p) {
                *cpu = cpu.max(w.process_cpu_seconds);
            }
        }
    }
    Performance {
        threads: cluster.threads,
        processes: cluster.processes,
        agents_seconds_busiest: workers.iter().map(|w| w.agents_seconds).fold(0.0, f64::max),
        agents_seconds_mean: workers.iter().map(|w| w.agents_seconds).sum::<f64>() / n,
        workers,
        bytes_between_processes: bytes,
        bytes_between_processes_per_hour: bytes as f64 / hours.max(1e-9),
        bytes_between_processes_per_citizen_day: bytes as f64 / citizen_days.max(1e-9),
        citizen_days_per_second: citizen_days / wall_seconds.max(1e-9),
        peak_rss_bytes_by_process,
        cpu_seconds_by_process,
        ..Default::default()
    }
}

/// The run's CPU time and the cores it kept busy, from process 0's time
/// over the run (`None`: other runs shared the process) and the other
/// processes' times that their first workers sent.
pub fn add_cpu(performance: &mut Performance, process_zero: Option<f64>) {
    let Some(zero) = process_zero else {
        performance.cpu_seconds_by_process.clear();
        return;
    };
    if let Some(first) = performance.cpu_seconds_by_process.first_mut() {
        *first = zero;
    }
    let total = if performance.cpu_seconds_by_process.is_empty() {
        zero
    } else {
        performance.cpu_seconds_by_process.iter().sum()
    };
    performance.cpu_seconds = Some(total);
    performance.cores_busy = Some(total / performance.wall_seconds.max(1e-9));
}
