//! The real platform a run, `hcsim serve` and `hcsim load --target inproc`
//! build alike: 31 provinces under the rule sets a scenario names, or the
//! ones in a rules directory; and which rule-set file each province reads
//! (the files every process of a run must share).

use crate::scenario::Scenario;
use anyhow::Context as _;
use hcsim_adapters::Direct;
use hcsim_platform::hub::Hub;
use hcsim_platform::province::ProvincePlatform;
use hcsim_platform::recognition::RecognitionPolicy;
use hcsim_platform::rules::RuleSet;
use hcsim_platform::{CodeKeys, ProvinceId};
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

/// How the platform under test is configured: each province's rule set
/// (index = `ProvinceId`), the recognition policy, and the national rule
/// set the hub issues national codes under. `hcsim run`, `serve` and `load`
/// all build their platform from one, so they answer alike.
pub struct PlatformSetup {
    pub rules: Vec<Arc<RuleSet>>,
    pub recognition: Arc<RecognitionPolicy>,
    national: Option<RuleSet>,
    /// Every platform's code key: from the scenario's seed (a run gives the
    /// same codes wherever its platform runs), else the default keys;
    /// `hcsim serve` replaces them (`--code-key-seed` or a random secret).
    pub code_keys: CodeKeys,
}

/// The setup a scenario names, with `dir` (a rules directory) for what it
/// leaves out: `dir/<province>.toml` or `dir/default.toml`,
/// `dir/national.toml`, and `dir/../recognition/policy.toml`.
pub fn setup(scenario: Option<&Scenario>, dir: &Path) -> anyhow::Result<PlatformSetup> {
    let rules = rule_sets(&rule_files(scenario, dir)?)?;
    let policy_file = scenario.and_then(Scenario::recognition_policy).or_else(|| {
        let beside = dir.parent()?.join("recognition/policy.toml");
        beside.is_file().then_some(beside)
    });
    let recognition = Arc::new(match policy_file {
        Some(f) => RecognitionPolicy::load(&f)
            .with_context(|| format!("loading recognition policy {}", f.display()))?,
        None => RecognitionPolicy::default(),
    });
    let national_file = scenario
        .and_then(|s| s.rules.get("national").cloned())
        .unwrap_or_else(|| dir.join("national.toml"));
    let national = if national_file.is_file() {
        Some(
            RuleSet::load(&national_file)
                .with_context(|| format!("loading rule set {}", national_file.display()))?,
        )
    } else {
        None
    };
    Ok(PlatformSetup {
        rules,
        recognition,
        national,
        code_keys: scenario.map_or_else(CodeKeys::default, |s| CodeKeys::from_seed(s.seed)),
    })
}

impl PlatformSetup {
    pub fn province(&self, p: ProvinceId) -> ProvincePlatform {
        ProvincePlatform::new(p, self.rules[p.index()].clone())
            .with_recognition(self.recognition.clone())
            .with_code_key(self.code_keys.province(p).clone())
    }

    /// The hub, under the national rule set when there is one.
    pub fn hub(&self) -> Hub {
        match &self.national {
            Some(r) => Hub::with_rules(r),
            None => Hub::new(),
        }
        .with_code_keys(self.code_keys.clone())
    }

    /// The platform as a `Direct` (no actors), for `serve` and `load`.
    pub fn direct(&self) -> Direct {
        Direct::new(|p| self.province(p), self.hub())
    }
}
