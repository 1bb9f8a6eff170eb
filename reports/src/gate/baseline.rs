//! A baseline (`ci/baselines/NAME.json`): the metrics of one accepted run of
//! a scenario, written deliberately with `hcsim gate --update-baseline`, that
//! later runs are compared against.

use crate::error::{write_file, ReportError};
use crate::metrics::{Run, METRICS};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub const BASELINE_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub schema_version: u32,
    pub scenario: String,
    pub seed: u64,
    /// Every metric the run carried, by name.
    pub metrics: BTreeMap<String, f64>,
}

impl Baseline {
    pub fn from_run(run: &Run) -> Baseline {
        Baseline {
            schema_version: BASELINE_SCHEMA_VERSION,
            scenario: run.summary.scenario.name.clone(),
            seed: run.summary.scenario.seed,
            metrics: METRICS
                .iter()
                .filter_map(|m| Some((m.name.to_string(), m.read(run).value()?)))
                .collect(),
        }
    }

    pub fn load(path: &Path) -> Result<Baseline, ReportError> {
        let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
        serde_json::from_str(&text).map_err(|cause| ReportError::Json {
            path: path.to_path_buf(),
            cause,
        })
    }

    pub fn write(&self, path: &Path) -> Result<(), ReportError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::error::create_dir(dir)?;
        }
        write_file(
            path,
            serde_json::to_string_pretty(self).unwrap_or_default() + "\n",
        )
    }

    /// Why this baseline cannot judge a run of scenario `name` with `seed`,
    /// if it cannot: a baseline of another scenario or seed would compare
    /// unrelated numbers.
    pub fn mismatch(&self, name: &str, seed: u64) -> Option<String> {
        (self.scenario != name || self.seed != seed).then(|| {
            format!(
                "the baseline is for scenario `{}` seed {}, this run is `{name}` seed {seed}",
                self.scenario, self.seed
            )
        })
    }
}
