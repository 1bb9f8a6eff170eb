//! Which provinces rule sets A and B apply to, and the scenario with them.
//!
//! The choice: `--provinces` names them; by default, every simulated
//! province whose current rule set has the same scheme name as A (A is
//! usually a province's own file, B an edited copy of it).

use crate::platform_setup::{rule_files, rule_sets};
use crate::run::default_rules_dir;
use crate::scenario::Scenario;
use anyhow::bail;
use hcsim_platform::ProvinceId;
use std::path::Path;

pub struct Targets {
    pub provinces: Vec<ProvinceId>,
    pub chosen_by: String,
}

pub fn choose(scenario: &Scenario, scheme_a: &str, named: &[String]) -> anyhow::Result<Targets> {
    if !named.is_empty() {
        let mut provinces = Vec::new();
        for key in named {
            let Some(p) = ProvinceId::parse(key) else {
                bail!("--provinces: unknown province `{key}`");
            };
            if !scenario.provinces.contains(&p) {
                bail!(
                    "--provinces: {} does not simulate `{key}`",
                    scenario.path.display()
                );
            }
            if !provinces.contains(&p) {
                provinces.push(p);
            }
        }
        return Ok(Targets {
            provinces,
            chosen_by: "named by --provinces".into(),
        });
    }
    let sets = rule_sets(&rule_files(Some(scenario), &default_rules_dir(scenario))?)?;
    let provinces: Vec<ProvinceId> = scenario
        .provinces
        .iter()
        .copied()
        .filter(|p| sets[p.index()].scheme() == scheme_a)
        .collect();
    if provinces.is_empty() {
        bail!(
            "no province of {} runs scheme `{scheme_a}` (the scheme of rule set A); name the provinces with --provinces",
            scenario.path.display()
        );
    }
    Ok(Targets {
        provinces,
        chosen_by: format!("every province whose rule set has A's scheme `{scheme_a}`"),
    })
}

/// The scenario with `file` as the rule set of `provinces`.
pub fn with_rules(scenario: &Scenario, provinces: &[ProvinceId], file: &Path) -> Scenario {
    let mut s = scenario.clone();
    for p in provinces {
        s.rules.insert(p.key().to_string(), file.to_path_buf());
    }
    s
}
