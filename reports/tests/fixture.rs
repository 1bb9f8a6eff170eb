//! A small synthetic run: 31 provinces, one day at 15-minute intervals, with
//! refusals in a few recognition cells. Built in code so each test can bend
//! one figure and know exactly what changed.

use hcsim_reports::summary::*;
use std::collections::BTreeMap;

pub const PROVINCES: [&str; 31] = [
    "beijing",
    "tianjin",
    "hebei",
    "shanxi",
    "inner-mongolia",
    "liaoning",
    "jilin",
    "heilongjiang",
    "shanghai",
    "jiangsu",
    "zhejiang",
    "anhui",
    "fujian",
    "jiangxi",
    "shandong",
    "henan",
    "hubei",
    "hunan",
    "guangdong",
    "guangxi",
    "hainan",
    "chongqing",
    "sichuan",
    "guizhou",
    "yunnan",
    "tibet",
    "shaanxi",
    "gansu",
    "qinghai",
    "ningxia",
    "xinjiang",
];

pub const POINTS: usize = 96;

fn map(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn time(i: usize) -> String {
    let minutes = i * 15;
    format!("2020-10-01T{:02}:{:02}", minutes / 60, minutes % 60)
}

fn totals(total: u64, refuse: u64, busy: u64) -> ScanTotals {
    let refer = total / 50;
    ScanTotals {
        total,
        by_color: map(&[
            ("green", total - refer - refuse),
            ("yellow", refer),
            ("red", refuse),
        ]),
        by_decision: map(&[
            ("pass", total - refer - refuse),
            ("refer", refer),
            ("refuse", refuse),
        ]),
        busy,
        unknown: total / 500,
        via_hub: total / 20,
        closed: 3,
        wait_minutes_mean: 0.75,
        wait_minutes_max: 9,
        still_queued: 0,
    }
}

/// A day shaped like a real one: quiet at night, peaks at 8:00 and 18:00.
fn scans_at(i: usize) -> u64 {
    let hour = i as f64 / 4.0;
    let peak = |h: f64, width: f64| (-(hour - h) * (hour - h) / (2.0 * width * width)).exp();
    (40.0 + 900.0 * peak(8.0, 1.2) + 700.0 * peak(12.5, 1.0) + 1000.0 * peak(18.0, 1.5)) as u64
}

pub fn summary() -> Summary {
    let points: Vec<TimelinePoint> = (0..POINTS)
        .map(|i| {
            let scans = scans_at(i);
            let refuse = scans / 200;
            let refer = scans / 50;
            TimelinePoint {
                start: time(i),
                scans,
                pass: scans - refer - refuse,
                refer,
                refuse,
                busy: if (70..76).contains(&i) { scans / 10 } else { 0 },
                unknown: scans / 500,
                via_hub: scans / 20,
                declarations: 5,
                queries: 50,
                wait_minutes_mean: 0.5 + (i % 7) as f64 * 0.25,
                wait_minutes_max: 2 + (i % 11) as u64,
                platform_requests: scans * 2,
                platform_busy: if (70..76).contains(&i) { scans / 5 } else { 0 },
                busy_rate: if (70..76).contains(&i) { 0.1 } else { 0.0 },
                latency_p99_ms: 20.0 + scans as f64 / 10.0,
                queue_depth_max: scans / 40,
            }
        })
        .collect();
    let colors: Vec<ColorPoint> = (0..=24)
        .map(|h| ColorPoint {
            at: format!("2020-10-01T{:02}:00", h.min(23)),
            provinces: PROVINCES
                .iter()
                .enumerate()
                .map(|(p, key)| {
                    let red = if *key == "hubei" {
                        5 + h as u64 * 2
                    } else {
                        (p as u64 + h as u64) % 3
                    };
                    (
                        key.to_string(),
                        map(&[
                            ("green", 400 + p as u64 * 10),
                            ("yellow", 2 + h as u64 % 4),
                            ("red", red),
                        ]),
                    )
                })
                .collect(),
        })
        .collect();
    let total: u64 = points.iter().map(|p| p.scans).sum();
    let refuse: u64 = points.iter().map(|p| p.refuse).sum();
    let busy: u64 = points.iter().map(|p| p.busy).sum();
    let provinces: Vec<ProvinceSummary> = PROVINCES
        .iter()
        .enumerate()
        .map(|(p, key)| ProvinceSummary {
            province: key.to_string(),
            citizens: 400 + p as u64 * 12,
            scheme: if *key == "anhui" {
                "anhui".into()
            } else {
                "default".into()
            },
            colors_at_end: map(&[("green", 400 + p as u64 * 10), ("yellow", 2), ("red", 1)]),
            scans: totals(1000 + p as u64 * 30, 5 + p as u64 % 4, p as u64 % 5),
            scans_by_checkpoint: map(&[("community", 300), ("restaurant", 200)]),
            scans_not_green_by_checkpoint: Default::default(),
        })
        .collect();
    let mut recognition = Vec::new();
    for (i, issuer) in PROVINCES.iter().chain(["national"].iter()).enumerate() {
        for (r, receiver) in PROVINCES.iter().enumerate() {
            let scans = if i == r {
                1000
            } else if (i + r) % 4 == 0 {
                1 + ((i * r) % 30) as u64
            } else {
                0
            };
            if scans == 0 {
                continue;
            }
            let refuse = if *issuer == "national" && r % 9 == 0 {
                1
            } else {
                0
            };
            let unanswered = if i == 12 && r == 4 { 2 } else { 0 };
            recognition.push(RecognitionCell {
                issuer: issuer.to_string(),
                receiver: receiver.to_string(),
                scans,
                pass: scans - refuse - unanswered,
                refer: 0,
                refuse,
                unanswered,
            });
        }
    }
    Summary {
        schema_version: SCHEMA_VERSION,
        scenario: ScenarioEcho {
            name: "synthetic".into(),
            file: "scenarios/synthetic.toml".into(),
            seed: 7,
            start: "2020-10-01T00:00".into(),
            end: "2020-10-02T00:00".into(),
            tick_minutes: 1,
            population_scale: 0.00001,
            shards: 4,
            provinces: PROVINCES.iter().map(|p| p.to_string()).collect(),
            rules: BTreeMap::new(),
        },
        citizens: provinces.iter().map(|p| p.citizens).sum(),
        checkpoints: 900,
        events_processed: 123_456,
        requests: map(&[("verify", total), ("register", 14_000), ("declare", 480)]),
        scans: totals(total, refuse, busy),
        provinces,
        recognition,
        epidemic: EpidemicTotals {
            confirmed: 4,
            close_contacts: 30,
            released: 2,
            nat_tests: 700,
            nat_positive: 3,
            risk_changes: 2,
            ..Default::default()
        },
        behaviour: BehaviourTotals {
            declarations_acked: 480,
            refusals: 12,
            trips_started: 280,
            symptom_onsets: 140,
        },
        timeline: Timeline {
            interval_minutes: 15,
            points,
            colors,
        },
        memory: ModelMemory {
            world_bytes: 1_000_000,
            agent_bytes: 300_000,
            bytes_per_citizen: 75.5,
        },
        latency: [("verify", 42.0), ("query", 12.0), ("hub_query", 8.0)]
            .iter()
            .map(|(op, p99)| (op.to_string(), latency(*p99)))
            .collect(),
        faults: Default::default(),
        capacity: CapacitySummary {
            platforms: PROVINCES
                .iter()
                .chain(["hub"].iter())
                .enumerate()
                .map(|(i, p)| PlatformLoad {
                    platform: p.to_string(),
                    servers: 4,
                    max_wait_ms: 500,
                    requests: 2000 + i as u64,
                    busy: if *p == "hubei" { 120 } else { 0 },
                    busy_rate: if *p == "hubei" { 0.06 } else { 0.0 },
                    utilization: 0.2 + i as f64 / 100.0,
                    queue_depth_max: i as u64,
                    latency: [("verify".to_string(), latency(30.0 + i as f64))]
                        .into_iter()
                        .collect(),
                    timeline: Vec::new(),
                    ..PlatformLoad::default()
                })
                .collect(),
            retries: RetryTotals {
                scan_retries: 150,
                scan_gave_up: 3,
                app_retries: 40,
                app_gave_up: 1,
                ..RetryTotals::default()
            },
            surges: Vec::new(),
            ..CapacitySummary::default()
        },
        oracle: None,
        hub: Default::default(),
        failing: Default::default(),
    }
}

fn latency(p99_ms: f64) -> OpLatency {
    OpLatency {
        answered: 10_000,
        busy: 120,
        busy_rate: 120.0 / 10_120.0,
        p50_ms: p99_ms / 4.0,
        p90_ms: p99_ms / 2.0,
        p99_ms,
        p999_ms: p99_ms * 2.0,
        max_ms: p99_ms * 3.0,
        capped: 0,
    }
}

pub fn performance() -> Performance {
    Performance {
        schema_version: SCHEMA_VERSION,
        threads: 2,
        citizens: 17_000,
        events_processed: 123_456,
        wall_seconds: 0.5,
        setup_seconds: 0.1,
        events_per_second: 308_640.0,
        speedup: 172_800.0,
        peak_rss_bytes: 64 * 1024 * 1024,
        rss_bytes_per_citizen: 900.0,
        phases: PhaseSeconds {
            agents: 0.1,
            platform: 0.2,
            oracle: 0.05,
            oracle_waited: 0.01,
            driver: 0.05,
        },
        ..Default::default()
    }
}
