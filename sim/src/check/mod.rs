//! `hcsim check`: policy test cases. Each case is one person's timeline
//! (registration, declarations, data feeds, scans, international
//! declarations) with the colors, decisions, explanations, alerts and
//! refusals the rule set must produce. The runner drives the platform
//! directly, without a simulation, so a policy team can change a number in
//! a rule set and see exactly which cases now differ, and how.
//!
//! The case format and the rule → case table are in
//! `scenarios/cases/README.md`.

mod case;
mod error;
mod runner;

pub use case::Case;
pub use error::CaseError;

use anyhow::Context as _;
use hcsim_platform::RuleSet;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The outcome of one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseResult {
    pub name: String,
    pub file: PathBuf,
    pub line: usize,
    /// The first difference, or `None` when the case passed.
    pub failure: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// In file order, files sorted by name.
    pub cases: Vec<CaseResult>,
}

impl CheckReport {
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.failure.is_none()).count()
    }
    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed()
    }
    pub fn ok(&self) -> bool {
        self.failed() == 0
    }
    pub fn get(&self, name: &str) -> Option<&CaseResult> {
        self.cases.iter().find(|c| c.name == name)
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.cases {
            match &c.failure {
                None => writeln!(f, "PASS {}", c.name)?,
                Some(why) => writeln!(f, "FAIL {}: {why}", c.name)?,
            }
        }
        write!(f, "{} passed, {} failed", self.passed(), self.failed())
    }
}

/// The case files under `path`: the file itself, or a directory's `*.toml`
/// files sorted by name (not recursive).
fn case_files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("cannot read case directory {}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        anyhow::bail!("{}: no *.toml case files", path.display());
    }
    Ok(files)
}

/// Where rule-set names resolve: the first `rules/` or `scenarios/rules/`
/// directory holding a `default.toml`, looking up from the case file.
fn rules_dir(case_file: &Path) -> Option<PathBuf> {
    let start = case_file.parent()?.to_path_buf();
    let start = if start.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        start
    };
    let start = start.canonicalize().unwrap_or(start);
    start.ancestors().find_map(|a| {
        [a.join("rules"), a.join("scenarios").join("rules")]
            .into_iter()
            .find(|d| d.join("default.toml").is_file())
    })
}

/// Runs every case in `path` (a case file or a directory of them).
/// `rules_override` replaces the rule set of every case whose rule set has
/// the same `scheme`: edit a copy of `anhui.toml`, keep `scheme = "anhui"`,
/// and see which Anhui cases now differ.
pub fn run_cases(path: &Path, rules_override: Option<&Path>) -> anyhow::Result<CheckReport> {
    let override_rules = rules_override
        .map(|p| RuleSet::load(p).map(Arc::new))
        .transpose()?;
    let mut loaded: BTreeMap<PathBuf, Arc<RuleSet>> = BTreeMap::new();
    let mut report = CheckReport::default();
    let mut seen: BTreeMap<String, (PathBuf, usize)> = BTreeMap::new();
    let mut overridden = 0;

    for file in case_files(path)? {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| CaseError::whole_file(&file, format!("cannot read: {e}")))?;
        let cases = case::parse_file(&file, &text, rules_dir(&file).as_deref())?;
        for c in cases {
            if let Some((f, line)) = seen.get(&c.name) {
                return Err(CaseError {
                    file: c.file.clone(),
                    line: c.line,
                    field: Some("name".into()),
                    message: format!(
                        "case `{}` is already defined at {}:{line}",
                        c.name,
                        f.display()
                    ),
                }
                .into());
            }
            seen.insert(c.name.clone(), (c.file.clone(), c.line));
            let rules = match loaded.get(&c.rules) {
                Some(r) => r.clone(),
                None => {
                    let r = Arc::new(RuleSet::load(&c.rules)?);
                    loaded.insert(c.rules.clone(), r.clone());
                    r
                }
            };
            let rules = match &override_rules {
                Some(o) if o.scheme() == rules.scheme() => {
                    overridden += 1;
                    o.clone()
                }
                _ => rules,
            };
            report.cases.push(CaseResult {
                failure: runner::run_case(&c, rules).err(),
                name: c.name,
                file: c.file,
                line: c.line,
            });
        }
    }
    if let (Some(o), 0) = (&override_rules, overridden) {
        anyhow::bail!(
            "{}: its scheme `{}` is the scheme of no case in {}",
            o.origin(),
            o.scheme(),
            path.display()
        );
    }
    Ok(report)
}

#[cfg(test)]
mod tests;
