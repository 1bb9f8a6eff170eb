//! A baseline (`ci/baselines/NAME.json`): the metrics of accepted runs of a
//! scenario, written deliberately with `hcsim gate --update-baseline`, that
//! later runs are compared against.
//!
//! Format 2 keeps every sample: per metric, one value per seed (in `seeds`
//! order) for figures of the scenario and seed, and one per run (seed-major,
//! `repeat` runs per seed) for figures of the machine. It records the hcsim
//! version and a hash of the scenario file that produced it. Format 1 (one
//! run, one value per metric) still loads, as a baseline of one sample.

use super::Sample;
use crate::error::{write_file, ReportError};
use crate::metrics::{Run, Source, METRICS};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub const BASELINE_SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub schema_version: u32,
    pub scenario: String,
    /// The scenario's own seed, from which `seeds` were derived.
    pub seed: u64,
    /// `crc32:` and the scenario file's CRC-32, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hcsim_version: Option<String>,
    /// The seeds run, in order.
    pub seeds: Vec<u64>,
    /// Runs per seed.
    pub repeat: u32,
    /// Every metric the runs carried, by name: its samples.
    pub metrics: BTreeMap<String, Vec<f64>>,
}

/// Format 1: one run's metrics.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineV1 {
    #[allow(dead_code)]
    schema_version: u32,
    scenario: String,
    seed: u64,
    metrics: BTreeMap<String, f64>,
}

/// What the baseline was made from, beside the runs themselves.
pub struct Provenance<'a> {
    pub scenario_hash: Option<String>,
    pub hcsim_version: Option<&'a str>,
    pub seed: u64,
}

impl Baseline {
    /// A baseline of one run.
    pub fn from_run(run: &Run) -> Baseline {
        let seed = run.summary.scenario.seed;
        Baseline::from_samples(
            &[Sample { seed, run: *run }],
            Provenance {
                scenario_hash: None,
                hcsim_version: None,
                seed,
            },
        )
    }

    /// A baseline of `samples` (each seed's runs together, seeds in order).
    pub fn from_samples(samples: &[Sample], provenance: Provenance) -> Baseline {
        let seeds = super::distinct_seeds(samples);
        let repeat = (samples.len() / seeds.len().max(1)).max(1) as u32;
        let metrics = METRICS
            .iter()
            .filter_map(|m| {
                let values = super::values(m, samples).ok()?;
                Some((m.name.to_string(), values))
            })
            .collect();
        Baseline {
            schema_version: BASELINE_SCHEMA_VERSION,
            scenario: samples
                .first()
                .map(|s| s.run.summary.scenario.name.clone())
                .unwrap_or_default(),
            seed: provenance.seed,
            scenario_hash: provenance.scenario_hash,
            hcsim_version: provenance.hcsim_version.map(str::to_string),
            seeds,
            repeat,
            metrics,
        }
    }

    pub fn load(path: &Path) -> Result<Baseline, ReportError> {
        let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
        Baseline::parse(&text).map_err(|cause| ReportError::Json {
            path: path.to_path_buf(),
            cause,
        })
    }

    /// Either format, told apart by `schema_version`.
    pub fn parse(text: &str) -> Result<Baseline, serde_json::Error> {
        #[derive(Deserialize)]
        struct Version {
            schema_version: u32,
        }
        let version: Version = serde_json::from_str(text)?;
        match version.schema_version {
            1 => {
                let v1: BaselineV1 = serde_json::from_str(text)?;
                Ok(Baseline {
                    schema_version: 1,
                    scenario: v1.scenario,
                    seed: v1.seed,
                    scenario_hash: None,
                    hcsim_version: None,
                    seeds: vec![v1.seed],
                    repeat: 1,
                    metrics: v1.metrics.into_iter().map(|(k, v)| (k, vec![v])).collect(),
                })
            }
            BASELINE_SCHEMA_VERSION => serde_json::from_str(text),
            other => Err(serde::de::Error::custom(format!(
                "baseline schema_version {other} is not known (1 and 2 are)"
            ))),
        }
    }

    pub fn write(&self, path: &Path) -> Result<(), ReportError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::error::create_dir(dir)?;
        }
        write_file(path, self.to_json())
    }

    /// One metric per line, so that a refreshed baseline diffs readably.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\n");
        let field = |k: &str, v: String| format!("  \"{k}\": {v},\n");
        out += &field("schema_version", json(&self.schema_version));
        out += &field("scenario", json(&self.scenario));
        out += &field("seed", json(&self.seed));
        if let Some(h) = &self.scenario_hash {
            out += &field("scenario_hash", json(h));
        }
        if let Some(v) = &self.hcsim_version {
            out += &field("hcsim_version", json(v));
        }
        out += &field("seeds", json(&self.seeds));
        out += &field("repeat", json(&self.repeat));
        out += "  \"metrics\": {\n";
        let rows: Vec<String> = self
            .metrics
            .iter()
            .map(|(k, v)| format!("    {}: {}", json(k), json(v)))
            .collect();
        out += &rows.join(",\n");
        out += "\n  }\n}\n";
        out
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

    /// The one value of `metric` when it was the same in every seed and is
    /// a function of the scenario and seed. Needs at least two seeds to
    /// tell. That alone does not make it deterministic: a rare event can be
    /// missed by every seed (the gate compares exactly only a metric whose
    /// `metrics::Spread` says it is fixed).
    pub fn constant(&self, metric: &str) -> Option<f64> {
        let def = crate::metrics::find(metric)?;
        let values = self.metrics.get(metric)?;
        let first = *values.first()?;
        (def.source == Source::Summary
            && self.seeds.len() >= 2
            && values.iter().all(|v| *v == first))
        .then_some(first)
    }
}

/// The `scenario_hash` of a scenario file's bytes: enough to notice that
/// the file changed since the baseline was written.
pub fn scenario_hash(bytes: &[u8]) -> String {
    format!("crc32:{:08x}", crc32fast::hash(bytes))
}

/// `serde_json` of one value, for `to_json`'s hand-laid lines.
fn json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
