//! `summary.json`: the results of one run. A stable, versioned schema.
//!
//! Everything here is a function of the scenario and seed alone, so two runs
//! of the same scenario write byte-identical files at any thread count.
//! How fast this machine ran it lives in `performance.json` (`Performance`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub schema_version: u32,
    pub scenario: ScenarioEcho,
    pub citizens: u64,
    pub checkpoints: u64,
    /// Agent activations, messages handled and platform requests.
    pub events_processed: u64,
    /// Platform requests by operation.
    pub requests: BTreeMap<String, u64>,
    pub scans: ScanTotals,
    pub provinces: Vec<ProvinceSummary>,
    /// Scans per (issuing system, receiving province) pair that occurred.
    pub recognition: Vec<RecognitionCell>,
    pub epidemic: EpidemicTotals,
    pub behaviour: BehaviourTotals,
    pub timeline: Timeline,
    pub memory: ModelMemory,
}

/// Counts per reporting interval, and code colors per province over time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    pub interval_minutes: u32,
    pub points: Vec<TimelinePoint>,
    pub colors: Vec<ColorPoint>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelinePoint {
    /// Start of the interval, Beijing time.
    pub start: String,
    pub scans: u64,
    pub pass: u64,
    pub refer: u64,
    pub refuse: u64,
    pub busy: u64,
    pub unknown: u64,
    pub via_hub: u64,
    pub declarations: u64,
    pub queries: u64,
    pub wait_minutes_mean: f64,
    pub wait_minutes_max: u64,
}

/// Registered people by color per province, at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColorPoint {
    pub at: String,
    pub provinces: BTreeMap<String, BTreeMap<String, u64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioEcho {
    pub name: String,
    pub file: String,
    pub seed: u64,
    pub start: String,
    pub end: String,
    pub tick_minutes: u32,
    pub population_scale: f64,
    pub shards: u32,
    pub provinces: Vec<String>,
    /// Rule-set file per province key, `default` and `national`.
    pub rules: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanTotals {
    pub total: u64,
    pub by_color: BTreeMap<String, u64>,
    pub by_decision: BTreeMap<String, u64>,
    /// Answered "system busy".
    pub busy: u64,
    /// Unknown code or document, or another refusal.
    pub unknown: u64,
    /// Needed the national hub (a code from another province).
    pub via_hub: u64,
    /// Arrivals at a closed checkpoint.
    pub closed: u64,
    pub wait_minutes_mean: f64,
    pub wait_minutes_max: u64,
    /// People still queueing when the run ended.
    pub still_queued: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvinceSummary {
    pub province: String,
    pub citizens: u64,
    /// The rule set (scheme) its platform runs.
    pub scheme: String,
    /// Registered people by color at the end, under the province's scheme.
    pub colors_at_end: BTreeMap<String, u64>,
    /// Scans at checkpoints in this province.
    pub scans: ScanTotals,
    pub scans_by_checkpoint: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecognitionCell {
    /// Province key, or `national`.
    pub issuer: String,
    pub receiver: String,
    pub scans: u64,
    pub pass: u64,
    pub refer: u64,
    pub refuse: u64,
    pub unanswered: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EpidemicTotals {
    pub confirmed: u64,
    pub close_contacts: u64,
    pub released: u64,
    pub nat_tests: u64,
    pub nat_positive: u64,
    pub risk_changes: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BehaviourTotals {
    pub declarations_acked: u64,
    pub refusals: u64,
    pub trips_started: u64,
    pub symptom_onsets: u64,
}

/// Memory the model's own data structures hold: deterministic, unlike RSS.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelMemory {
    pub world_bytes: u64,
    pub agent_bytes: u64,
    pub bytes_per_citizen: f64,
}

/// How fast this machine ran the scenario (`performance.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Performance {
    pub schema_version: u32,
    pub threads: usize,
    pub citizens: u64,
    pub events_processed: u64,
    pub wall_seconds: f64,
    pub setup_seconds: f64,
    pub events_per_second: f64,
    /// Simulated seconds per wall-clock second.
    pub speedup: f64,
    pub peak_rss_bytes: u64,
    /// (peak RSS − RSS before the world was built) / citizens.
    pub rss_bytes_per_citizen: f64,
}

impl Summary {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("summary serializes") + "\n"
    }
}
