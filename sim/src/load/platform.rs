//! The real platform for `hcsim serve` and `hcsim load --target inproc`:
//! 31 provinces under the rule sets a scenario names, or the ones in a
//! rules directory.

use crate::scenario::Scenario;
use anyhow::Context as _;
use hcsim_adapters::Direct;
use hcsim_platform::hub::Hub;
use hcsim_platform::province::ProvincePlatform;
use hcsim_platform::rules::RuleSet;
use hcsim_platform::ProvinceId;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The rule-set file of each province, in `ProvinceId` order: the
/// scenario's choice if it makes one, else `<dir>/<province>.toml`, else
/// `<dir>/default.toml`.
pub fn rule_files(scenario: Option<&Scenario>, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    ProvinceId::all()
        .map(|p| {
            if let Some(f) = scenario.and_then(|s| s.rules_for(p)) {
                return Ok(f.to_path_buf());
            }
            let own = dir.join(format!("{}.toml", p.key()));
            let default = dir.join("default.toml");
            if own.is_file() {
                Ok(own)
            } else if default.is_file() {
                Ok(default)
            } else {
                anyhow::bail!(
                    "no rule set for {}: neither {} nor {} exists (see --rules-dir)",
                    p.key(),
                    own.display(),
                    default.display()
                )
            }
        })
        .collect()
}

/// Loads each distinct file once; provinces sharing a file share its rules.
pub fn rule_sets(files: &[PathBuf]) -> anyhow::Result<Vec<Arc<RuleSet>>> {
    let mut loaded: BTreeMap<&Path, Arc<RuleSet>> = BTreeMap::new();
    files
        .iter()
        .map(|f| {
            if let Some(r) = loaded.get(f.as_path()) {
                return Ok(r.clone());
            }
            let r = Arc::new(
                RuleSet::load(f).with_context(|| format!("loading rule set {}", f.display()))?,
            );
            loaded.insert(f, r.clone());
            Ok(r)
        })
        .collect()
}

/// A `Direct` platform with the given rule sets (index = `ProvinceId`).
pub fn direct(rules: &[Arc<RuleSet>]) -> Direct {
    Direct::new(
        |p| ProvincePlatform::new(p, rules[p.index()].clone()),
        Hub::new(),
    )
}
