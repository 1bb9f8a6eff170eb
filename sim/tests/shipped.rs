//! Every shipped scenario (`scenarios/*.toml`, `scenarios/incidents/`,
//! `scenarios/incidents/full/`),
//! scaled down to at most `MAX_CITIZENS` so CI stays quick: its summary keeps
//! every conservation identity, and is byte-identical at one and two
//! threads. Each scenario runs once per thread count; both tests share the
//! runs.

use hcsim::conservation;
use hcsim::run::{run, RunOptions};
use hcsim::scenario::Scenario;
use hcsim_platform::region::PROVINCES;
use hcsim_reports::summary::Summary;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// Citizens a scenario is scaled down to when it would simulate more: a
/// smoke-sized world, a second or two per run in the test profile.
const MAX_CITIZENS: f64 = 15_000.0;

fn shipped() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["", "incidents", "incidents/full"] {
        for e in std::fs::read_dir(super::scenario(dir)).unwrap() {
            let path = e.unwrap().path();
            if path.extension().is_some_and(|x| x == "toml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The scenario at `path`, its population scaled so that it simulates at
/// most `MAX_CITIZENS`; its days, surges, faults and capacity are kept.
fn small(path: &std::path::Path) -> Scenario {
    let mut s = Scenario::load(path).unwrap();
    let census: f64 = s
        .provinces
        .iter()
        .map(|p| PROVINCES[p.index()].population_millions * 1e6)
        .sum();
    let citizens = s.population_scale * census;
    if citizens > MAX_CITIZENS {
        s.population_scale *= MAX_CITIZENS / citizens;
    }
    s
}

type Runs = Mutex<BTreeMap<(PathBuf, usize), Arc<OnceLock<String>>>>;

/// `summary.json` of the small `path` at `threads`, run once per test binary.
fn summary_json(path: &std::path::Path, threads: usize) -> String {
    static RUNS: OnceLock<Runs> = OnceLock::new();
    let cell = RUNS
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry((path.to_path_buf(), threads))
        .or_default()
        .clone();
    cell.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let opts = RunOptions {
            threads,
            out_dir: tmp.path().to_path_buf(),
            progress: false,
        };
        run(&small(path), &opts).unwrap();
        std::fs::read_to_string(tmp.path().join("summary.json")).unwrap()
    })
    .clone()
}

fn summary(path: &std::path::Path, threads: usize) -> Summary {
    serde_json::from_str(&summary_json(path, threads)).unwrap()
}

fn name(path: &std::path::Path) -> String {
    path.strip_prefix(super::scenario(""))
        .unwrap()
        .display()
        .to_string()
}

#[test]
fn every_shipped_scenario_keeps_every_conservation_identity_and_the_oracle_finds_nothing() {
    let files = shipped();
    assert!(files.len() >= 12, "{files:?}");
    let mut broken = Vec::new();
    let (mut retried, mut rate_limited, mut faulted, mut surged) = (false, false, false, false);
    for path in &files {
        let s = summary(path, 2);
        assert!(s.scans.total > 0, "{}: no scans", name(path));
        for b in conservation::check(&s) {
            broken.push(format!("{}: {b}", name(path)));
        }
        // The clean platform: what the oracle's mutants are caught against.
        if let Some(o) = s.oracle.as_ref().filter(|o| o.violations > 0) {
            broken.push(format!("{}: oracle violations {:?}", name(path), o.by_kind));
        }
        retried |= s.capacity.retries.scan_retries > 0 && s.capacity.retries.app_retries > 0;
        rate_limited |= s.capacity.degrade == "ratelimit" && s.scans.busy > 0;
        faulted |= s.faults.faults.iter().any(|f| f.busy > 0);
        surged |= s.capacity.surges.iter().any(|x| x.queries > 0);
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    // The identities were tested where they are hardest to keep.
    assert!(retried && rate_limited && faulted && surged);
}

#[test]
fn every_shipped_scenario_is_byte_identical_at_one_and_two_threads() {
    let mut differ = Vec::new();
    for path in shipped() {
        let (one, two) = (summary_json(&path, 1), summary_json(&path, 2));
        if one != two {
            let line = one
                .lines()
                .zip(two.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            differ.push(format!(
                "{}: first difference at line {}: {:?} vs {:?}",
                name(&path),
                line + 1,
                one.lines().nth(line),
                two.lines().nth(line)
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// One counter changed by one breaks an identity, and the breach names it.
#[test]
fn one_perturbed_counter_breaks_a_named_identity() {
    let clean = summary(&super::scenario("faults.toml"), 2);
    assert_eq!(conservation::check(&clean), vec![]);
    type Perturb = fn(&mut Summary);
    let cases: [(&str, Perturb); 14] = [
        ("scans.total = pass", |s| s.scans.busy += 1),
        ("provinces[].scans.by_color.green", |s| {
            *s.provinces[3].scans.by_color.get_mut("green").unwrap() += 1
        }),
        ("Σ provinces[beijing].scans_by_checkpoint", |s| {
            *s.provinces[0]
                .scans_by_checkpoint
                .values_mut()
                .next()
                .unwrap() += 1
        }),
        ("Σ timeline.points[].scans", |s| {
            s.timeline.points[600 / 15].scans += 1
        }),
        ("Σ timeline.points[].declarations", |s| {
            s.behaviour.declarations_acked -= 1
        }),
        ("timeline.colors[last]", |s| {
            let last = s.timeline.colors.last_mut().unwrap();
            *last
                .provinces
                .get_mut("anhui")
                .unwrap()
                .get_mut("green")
                .unwrap() += 1
        }),
        ("Σ recognition[].refuse", |s| {
            let cell = s.recognition.iter_mut().find(|c| c.refuse > 0).unwrap();
            cell.refuse -= 1;
            cell.unanswered += 1;
        }),
        ("hub.cross_province_scans", |s| {
            s.hub.cross_province_scans += 1
        }),
        ("capacity.platforms[hub].requests", |s| {
            s.capacity.platforms.last_mut().unwrap().requests -= 1
        }),
        ("latency.query.busy", |s| {
            s.capacity.platforms[5]
                .latency
                .get_mut("query")
                .unwrap()
                .busy += 1
        }),
        ("platform_requests", |s| {
            s.timeline.points[40].platform_requests += 1
        }),
        ("requests.verify + retries.scan_retries", |s| {
            s.capacity.retries.scan_retries += 1
        }),
        ("faults[1] (slow-hub all).scans", |s| {
            s.faults.faults[1].unknown += 1
        }),
        ("oracle.violations", |s| {
            s.oracle
                .as_mut()
                .unwrap()
                .by_kind
                .insert("wrong_code".into(), 1);
        }),
    ];
    for (identity, perturb) in cases {
        let mut s = clean.clone();
        perturb(&mut s);
        let breaches = conservation::check(&s);
        assert!(
            breaches.iter().any(|b| b.to_string().contains(identity)),
            "perturbing for {identity:?} gave {breaches:#?}"
        );
    }
}
