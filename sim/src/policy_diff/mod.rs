//! The policy diff: one scenario run under rule set A and under rule set B
//! with the same seed, and who gets a different code, when, and why.
//!
//! A citizen's code history is what the platform returned to or about them
//! (`observe`): their application, check-ins and queries, and scans of
//! their code or ID card. Two runs differ only in the rules, so a citizen
//! whose history differs was treated differently by them. Example
//! histories need every exchange about a few citizens chosen after the
//! comparison, so both runs are repeated watching just those citizens
//! (results are deterministic, so the repeat sees the same run).

mod compare;
mod history;
mod observe;
mod target;

pub use compare::{by_citizen, compare, person_days, Codes};
pub use observe::{CodeChange, ExchangeObserver, Recorder};

use crate::run::{run_observed, RunOptions, RunOutcome};
use crate::scenario::Scenario;
use anyhow::Context;
use hcsim_platform::{ProvinceId, RuleSet};
use hcsim_reports::policy_diff::{CodeAt, Example, PolicyDiff, RulesSide, POLICY_DIFF_VERSION};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub struct Options {
    pub scenario: PathBuf,
    pub rules_a: PathBuf,
    pub rules_b: PathBuf,
    /// Province keys; empty = those whose scheme is A's.
    pub provinces: Vec<String>,
    /// Receives a/ and b/ (the two runs), diff.json, diff.html and the
    /// observed codes as codes-a.csv and codes-b.csv.
    pub out: PathBuf,
    pub threads: usize,
    pub examples: usize,
}

struct Side {
    scenario: Scenario,
    dir: PathBuf,
    outcome: RunOutcome,
    codes: BTreeMap<u32, Codes>,
    homes: Vec<u8>,
}

fn run_side(
    scenario: Scenario,
    dir: PathBuf,
    threads: usize,
    recorder: &mut Recorder,
) -> anyhow::Result<RunOutcome> {
    let opts = RunOptions {
        threads,
        out_dir: dir,
        progress: false,
    };
    run_observed(&scenario, &opts, recorder).with_context(|| {
        format!(
            "running {} under {}",
            scenario.path.display(),
            opts.out_dir.display()
        )
    })
}

pub fn policy_diff(o: &Options) -> anyhow::Result<PolicyDiff> {
    let scenario = Scenario::load(&o.scenario)?;
    let rules_a = RuleSet::load(&o.rules_a)?;
    let rules_b = RuleSet::load(&o.rules_b)?;
    let targets = target::choose(&scenario, rules_a.scheme(), &o.provinces)?;
    let sides = [(&o.rules_a, "a"), (&o.rules_b, "b")].map(|(file, name)| {
        (
            target::with_rules(&scenario, &targets.provinces, file),
            o.out.join(name),
        )
    });
    let mut done = Vec::new();
    for (scenario, dir) in sides {
        let mut recorder = Recorder::default();
        let outcome = run_side(scenario.clone(), dir.clone(), o.threads, &mut recorder)?;
        done.push(Side {
            scenario,
            dir,
            outcome,
            codes: by_citizen(&recorder.changes),
            homes: recorder.homes,
        });
    }
    let (a, b) = (&done[0], &done[1]);
    let comparison = compare(&a.codes, &b.codes);
    let watch: BTreeSet<u32> = compare::pick_examples(&comparison.changed, o.examples)
        .into_iter()
        .collect();
    let mut histories = Vec::new();
    for side in &done {
        let mut recorder = Recorder::new(watch.clone());
        if !watch.is_empty() {
            run_side(
                side.scenario.clone(),
                side.dir.clone(),
                o.threads,
                &mut recorder,
            )?;
        }
        histories.push(recorder);
    }

    let keys: Vec<String> = targets
        .provinces
        .iter()
        .map(|p| p.key().to_string())
        .collect();
    let (sa, sb) = (&a.outcome.summary, &b.outcome.summary);
    let (refused_scans, refused_total) = compare::refusals(sa, sb);
    let targeted: BTreeSet<u8> = targets.provinces.iter().map(|p| p.index() as u8).collect();
    let show = |c: Option<&Codes>| -> Vec<CodeAt> {
        c.into_iter()
            .flatten()
            .map(|(at, color)| CodeAt {
                at: at.to_string(),
                color: color.to_string(),
            })
            .collect()
    };
    let examples = comparison
        .changed
        .iter()
        .filter(|c| watch.contains(&c.citizen))
        .map(|c| Example {
            citizen: c.citizen,
            province: a
                .homes
                .get(c.citizen as usize)
                .map_or("?", |&p| ProvinceId(p).key())
                .to_string(),
            holder: histories[0]
                .holders
                .get(&c.citizen)
                .cloned()
                .unwrap_or_default(),
            change: c.detail.clone(),
            codes_a: show(a.codes.get(&c.citizen)),
            codes_b: show(b.codes.get(&c.citizen)),
            history_a: histories[0]
                .histories
                .get(&c.citizen)
                .cloned()
                .unwrap_or_default(),
            history_b: histories[1]
                .histories
                .get(&c.citizen)
                .cloned()
                .unwrap_or_default(),
        })
        .collect();
    let diff = PolicyDiff {
        schema_version: POLICY_DIFF_VERSION,
        scenario: scenario.name.clone(),
        scenario_file: scenario.path.display().to_string(),
        seed: scenario.seed,
        rules_a: RulesSide {
            file: o.rules_a.display().to_string(),
            scheme: rules_a.scheme().to_string(),
            run: a.dir.display().to_string(),
        },
        rules_b: RulesSide {
            file: o.rules_b.display().to_string(),
            scheme: rules_b.scheme().to_string(),
            run: b.dir.display().to_string(),
        },
        provinces: keys.clone(),
        provinces_chosen_by: targets.chosen_by,
        citizens: sa.citizens,
        citizens_in_provinces: a.homes.iter().filter(|h| targeted.contains(h)).count() as u64,
        citizens_changed: comparison.changed.len() as u64,
        person_days: compare::person_days_ab(sa, sb, &keys),
        colors_over_time: compare::colors_over_time(sa, sb, &keys),
        transitions: comparison.transitions,
        refused_scans,
        refused_total,
        examples,
    };
    write_codes(&o.out.join("codes-a.csv"), &a.codes)?;
    write_codes(&o.out.join("codes-b.csv"), &b.codes)?;
    diff.write(&o.out)?;
    Ok(diff)
}

/// `citizen,at,color`: each citizen's observed codes, one row per change.
fn write_codes(path: &Path, codes: &BTreeMap<u32, Codes>) -> anyhow::Result<()> {
    let mut text = String::from("citizen,at,color\n");
    for (id, list) in codes {
        for (at, color) in list {
            let _ = writeln!(text, "{id},{at},{color}");
        }
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
