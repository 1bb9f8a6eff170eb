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
    /// Platform latency by operation, all platforms together (provinces and
    /// hub), from the capacity model. Keys: `apply`, `declare`, `verify`
    /// (a checkpoint scan, end to end), `query`, `hub_query`, `feed`.
    #[serde(default)]
    pub latency: BTreeMap<String, OpLatency>,
    /// Platform load: servers, queues, "system busy", retries, surges.
    #[serde(default)]
    pub capacity: CapacitySummary,
    /// What the scenario's `[[fault]]` entries did; absent without faults.
    #[serde(default, skip_serializing_if = "FaultReport::is_empty")]
    pub faults: FaultReport,
    /// The rule oracle's checks and what they found; absent when the run
    /// had no oracle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oracle: Option<OracleSummary>,
    /// The national hub: recognition policy, cross-province queries,
    /// partitions, the national code, travel and inbound services.
    #[serde(default)]
    pub hub: HubSummary,
    /// When the simulated platforms were failing (`compare::FAILING_RULE`),
    /// nationally and per platform.
    #[serde(default)]
    pub failing: FailingReport,
}

/// Failing reporting intervals, merged into windows of consecutive ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailingReport {
    /// Failing intervals × interval length, over all platforms together.
    pub minutes: u32,
    /// Over all platforms together, in time order.
    pub national: Vec<FailingWindow>,
    /// Each platform (province key or `hub`) that failed on its own, in
    /// `capacity.platforms` order; platforms that never failed are left out.
    pub platforms: Vec<PlatformFailing>,
}

/// Consecutive failing intervals: from the first one's start to the end of
/// the last one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailingWindow {
    pub from: String,
    pub until: String,
    pub minutes: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformFailing {
    pub platform: String,
    pub minutes: u32,
    pub windows: Vec<FailingWindow>,
}

/// The `[[fault]]` entries of a run and their effects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultReport {
    /// Platform crashes that restarted and were audited.
    pub crashes_recovered: u64,
    /// Journal records rebuilt from durable logs, all crashes together.
    pub records_recovered: u64,
    /// Acknowledged registrations and records read back after restarts.
    pub acknowledged_checked: u64,
    /// Of those, the ones missing. Must be 0.
    pub lost_acknowledged_records: u64,
    /// Acknowledged registrations and records no audit read back: their
    /// province was still down when the run ended. Must be 0.
    #[serde(default)]
    pub acknowledged_unchecked: u64,
    /// Provinces whose platform crashed and had not restarted by the end of
    /// the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub down_at_end: Vec<String>,
    /// Feeds still held back by a feed fault when the run ended.
    pub feeds_undelivered: u64,
    /// One entry per `[[fault]]`, in file order.
    pub faults: Vec<FaultSummary>,
}

impl FaultReport {
    pub fn is_empty(&self) -> bool {
        self.faults.is_empty()
    }
}

/// One `[[fault]]`: its window and what it affected. Scan counts are of
/// scans in the fault's province (all provinces when it names none) during
/// the window, every attempt counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSummary {
    /// `hub-partition`, `slow-hub`, `platform-crash`, `feed-delay`,
    /// `feed-duplicate` or `feed-reorder`.
    pub kind: String,
    /// Province key, or `all`.
    pub province: String,
    pub from: String,
    /// For a crash: the restart.
    pub until: String,
    /// The feeds a feed fault touches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feeds: Vec<String>,
    pub scans: u64,
    /// Scans of a code or ID card from another province (answered via the hub).
    pub cross_province_scans: u64,
    pub pass: u64,
    pub refer: u64,
    pub refuse: u64,
    /// Answered "system busy".
    pub busy: u64,
    /// Answered with neither a verdict nor "system busy" (an unknown code,
    /// another refusal).
    #[serde(default)]
    pub unknown: u64,
    /// Cross-province scans answered green: 0 while the hub is unreachable.
    pub cross_province_green: u64,
    /// Hub answers that did not reach the asking province in time.
    pub hub_unreachable: u64,
    /// Status publications that waited for the hub link.
    pub publications_held: u64,
    /// Requests answered busy while the platform was down.
    pub requests_while_down: u64,
    /// Feeds delivered again after the restart.
    pub feeds_redelivered: u64,
    /// Crashes: whether the platform restarted before the run ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restarted: Option<bool>,
    pub records_recovered: u64,
    pub registrations_recovered: u64,
    /// A write torn by the crash, detected and dropped at recovery.
    pub torn_bytes_dropped: u64,
    pub acknowledged_checked: u64,
    pub lost_acknowledged_records: u64,
    /// Crashes that had not restarted by the end: what no audit read back.
    #[serde(default)]
    pub acknowledged_unchecked: u64,
    pub feeds_delayed: u64,
    pub feeds_duplicated: u64,
    pub feeds_reordered: u64,
}

/// What the rule oracle checked and found (`[oracle]` in the scenario).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OracleSummary {
    /// Share of citizens tracked.
    pub sample: f64,
    pub citizens_checked: u64,
    /// Answers compared with the reference model's code.
    pub checks: u64,
    /// Invariants evaluated (privacy, checkpoint table, offline expiry).
    pub invariant_checks: u64,
    /// Disagreements and invariant breaches, all kinds together.
    pub violations: u64,
    pub by_kind: BTreeMap<String, u64>,
    /// Cross-province verdicts checked against the issuer's status.
    pub recognition_checks: u64,
    /// Of those, treated more leniently than the issuer treats the status.
    pub recognition_disagreements: u64,
    /// Acknowledged declarations and temperature records read back at the end.
    pub records_audited: u64,
    pub lost_records: u64,
    /// Records whose read-back was answered "system busy".
    pub audit_unanswered: u64,
    /// Reproducers written to `violations/NNN.json` (the first ones).
    pub violation_files: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HubSummary {
    /// The recognition policy file, or `(default)`.
    pub recognition_policy: String,
    /// Mappings to a more lenient color the policy explicitly allows.
    pub lenient_allowances: Vec<LenientAllowance>,
    /// Scans of a code issued by another province or the national hub.
    pub cross_province_scans: u64,
    /// Queries the hub answered.
    pub hub_queries: u64,
    /// Cross-province scans refused.
    pub recognition_refusals: u64,
    /// Verdicts whose decision differs from what the policy and the
    /// receiver's checkpoint table give for the color shown.
    pub policy_disagreements: u64,
    /// Scans answered without the hub (link down): busy or refer, never pass.
    pub hub_unreachable_busy: u64,
    pub hub_unreachable_refer: u64,
    pub national_codes: u64,
    pub domestic_flights: u64,
    pub flight_passengers: u64,
    pub train_trips: u64,
    pub inbound_flights: u64,
    pub inbound_entries: u64,
    pub entry_queries: u64,
    pub itinerary_declarations: u64,
    pub concealment_flags: u64,
    pub concealing_people: u64,
    pub same_flight_checks: u64,
    pub same_flight_contacts: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LenientAllowance {
    pub issuer: String,
    pub receiver: String,
    pub from: String,
    pub to: String,
    pub reason: String,
    pub line: usize,
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
    /// Requests offered in the interval to the platforms `capacity.platforms`
    /// lists (the simulated provinces and the hub).
    #[serde(default)]
    pub platform_requests: u64,
    /// Of those, refused by admission control ("system busy").
    #[serde(default)]
    pub platform_busy: u64,
    /// `platform_busy / platform_requests`.
    #[serde(default)]
    pub busy_rate: f64,
    /// 99th percentile latency of answered requests, all platforms.
    #[serde(default)]
    pub latency_p99_ms: f64,
    /// Longest queue (requests waiting for a server) on any one platform.
    #[serde(default)]
    pub queue_depth_max: u64,
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
    /// Of those, scans of yellow, orange and red codes: people whose code
    /// keeps them at home, seen at a fever clinic, on the way home from a
    /// trip, or before they learnt of the change.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scans_not_green_by_checkpoint: BTreeMap<String, u64>,
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
    /// NAT samples by why they were taken (diagnosis, contact,
    /// quarantine_release, mass_testing, yellow_release, travel, port,
    /// routine); `nat_tests` is their sum.
    #[serde(default)]
    pub nat_by_reason: BTreeMap<String, u64>,
    /// The same, per simulated day (day 0 is the scenario's first).
    #[serde(default)]
    pub nat_daily: Vec<NatDay>,
    /// Close contacts by where they met a case: household, workplace,
    /// flight (the hub's same-flight check).
    #[serde(default)]
    pub contacts_by_setting: BTreeMap<String, u64>,
    /// Close contacts per case found (confirmed plus port cases).
    #[serde(default)]
    pub contacts_per_case: f64,
    /// Neighbours told of a case in their building.
    #[serde(default)]
    pub same_building_notified: u64,
    /// Arrivals from abroad found positive at the port.
    #[serde(default)]
    pub port_cases: u64,
    /// Arrivals from abroad put into the 14-day quarantine.
    #[serde(default)]
    pub inbound_quarantined: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NatDay {
    pub day: u32,
    pub total: u64,
    pub by_reason: BTreeMap<String, u64>,
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

/// Latency of one operation class: virtual-time queue wait plus service,
/// from the capacity model, over answered requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpLatency {
    pub answered: u64,
    /// Answered "system busy" (after the client's retries, each attempt counts).
    pub busy: u64,
    /// `busy / (answered + busy)`.
    pub busy_rate: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// Answered requests whose latency reached `LATENCY_CAP_MS`, the
    /// longest latency measured: a percentile at or above the cap is the
    /// cap, not a measurement.
    #[serde(default)]
    pub capped: u64,
}

/// The longest latency the capacity model measures (one hour); longer
/// ones are recorded as this.
pub const LATENCY_CAP_MS: f64 = 3_600_000.0;

impl OpLatency {
    /// Share of answered requests whose latency hit the cap.
    pub fn capped_share(&self) -> f64 {
        if self.answered == 0 {
            0.0
        } else {
            self.capped as f64 / self.answered as f64
        }
    }
}

/// The capacity model's results (`[capacity]` in the scenario).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CapacitySummary {
    /// Each simulated province's platform, in province order, then `hub`.
    pub platforms: Vec<PlatformLoad>,
    pub retries: RetryTotals,
    /// One entry per `[[surge]]`, in file order.
    pub surges: Vec<SurgeTotals>,
    /// The degrade strategy in force (`none`, `trip`, `ratelimit`, `cache`, `idcard`).
    #[serde(default)]
    pub degrade: String,
    /// How long a client waits for an answer.
    #[serde(default)]
    pub timeout_ms: u32,
}

/// One platform's load over the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlatformLoad {
    /// Province key, or `hub`.
    pub platform: String,
    pub servers: u32,
    pub max_wait_ms: u32,
    /// Requests offered to this platform (retries count again).
    pub requests: u64,
    /// Refused by this platform's admission control.
    pub busy: u64,
    /// Served after the client had stopped waiting (`degrade = "none"`).
    #[serde(default)]
    pub timeouts: u64,
    /// `busy / requests`.
    pub busy_rate: f64,
    /// Server time used / (servers × run duration).
    pub utilization: f64,
    pub queue_depth_max: u64,
    /// By operation, as `Summary::latency`. A cross-province `verify` counts
    /// at the scanning province, end to end; its hub leg also counts as the
    /// hub's `hub_query`.
    pub latency: BTreeMap<String, OpLatency>,
    /// Per reporting interval, aligned with `timeline.points`.
    pub timeline: Vec<IntervalLoad>,
}

/// One platform in one reporting interval.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IntervalLoad {
    pub requests: u64,
    pub busy: u64,
    pub busy_rate: f64,
    /// Served after the client had stopped waiting.
    #[serde(default)]
    pub timeouts: u64,
    /// `(busy + timeouts) / requests`: requests whose client got no answer.
    #[serde(default)]
    pub failed_rate: f64,
    pub p99_ms: f64,
    pub queue_depth_max: u64,
}

/// Clients retrying after "system busy".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryTotals {
    /// Rescans of a person at a checkpoint.
    pub scan_retries: u64,
    /// People who could not be verified after every try.
    pub scan_gave_up: u64,
    /// Repeated app requests (queries, declarations, applications).
    pub app_retries: u64,
    /// App requests abandoned after every try.
    pub app_gave_up: u64,
    /// `degrade = "cache"`: people let through a checkpoint on the cached
    /// status their app showed, after a busy answer to the scan.
    #[serde(default)]
    pub cached_shown: u64,
    /// `degrade = "cache"`: app requests answered busy whose owner looked at
    /// the cached status instead of retrying.
    #[serde(default)]
    pub cached_app: u64,
    /// `degrade = "idcard"`: people checked by ID card at a checkpoint
    /// instead of by code.
    #[serde(default)]
    pub idcard_checks: u64,
    /// Rescans and app requests answered busy near the end, still waiting
    /// for their next try when the run ended: counted in `scan_retries`
    /// and `app_retries`, never sent.
    #[serde(default)]
    pub scan_retries_pending: u64,
    #[serde(default)]
    pub app_retries_pending: u64,
}

/// What one `[[surge]]` injected.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SurgeTotals {
    /// `morning_rush`, `spring_festival`, `mass_testing` or `announcement`.
    pub kind: String,
    /// Province key, or `all`.
    pub province: String,
    pub city: Option<String>,
    pub start: String,
    pub end: String,
    /// Citizens the surge reaches (for `spring_festival`: residents whose
    /// travel probability it multiplies).
    pub citizens: u64,
    /// Code queries the surge made citizens send.
    pub queries: u64,
    /// NAT results published (`mass_testing`).
    pub nat_results: u64,
    /// Extra scans at metro and bus gates (`morning_rush`).
    pub scans: u64,
    /// Queries not sent because the citizen had no code yet.
    pub without_code: u64,
}

/// How fast this machine ran the scenario (`performance.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    /// Where the tick loop's wall time went.
    #[serde(default)]
    pub phases: PhaseSeconds,
    /// Processes of the run (`threads` workers each).
    #[serde(default = "one")]
    pub processes: usize,
    /// Each worker's wall time in its shards and waiting at barriers, in
    /// worker order, and which process and shards it had.
    #[serde(default)]
    pub workers: Vec<WorkerPhases>,
    /// Seconds in agents of the busiest worker and of the mean one: their
    /// ratio shows imbalance.
    #[serde(default)]
    pub agents_seconds_busiest: f64,
    #[serde(default)]
    pub agents_seconds_mean: f64,
    /// Payload bytes sent between processes, in all, per simulated hour and
    /// per citizen-day.
    #[serde(default)]
    pub bytes_between_processes: u64,
    #[serde(default)]
    pub bytes_between_processes_per_hour: f64,
    #[serde(default)]
    pub bytes_between_processes_per_citizen_day: f64,
    /// Simulated citizen-days per wall second.
    #[serde(default)]
    pub citizen_days_per_second: f64,
    /// The provinces each process held (index = process), when they were
    /// spread over several; empty when process 0 held them all.
    #[serde(default)]
    pub provinces_by_process: Vec<Vec<String>>,
    /// Each process's peak resident memory (index = process), over several
    /// processes; process 0's is `peak_rss_bytes`.
    #[serde(default)]
    pub peak_rss_bytes_by_process: Vec<u64>,
    /// CPU time (user and system) of every process of the run, in seconds:
    /// process 0's from the start of the run, each other process's over
    /// its life. Absent when another run shared process 0 meanwhile (the
    /// gate runs its seeds side by side), since the clock reads the process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_seconds: Option<f64>,
    /// `cpu_seconds` over `wall_seconds`: how many cores the run kept busy
    /// on average (a lone worker's helper threads count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores_busy: Option<f64>,
    /// Each process's share of `cpu_seconds` (index = process), over
    /// several processes.
    #[serde(default)]
    pub cpu_seconds_by_process: Vec<f64>,
}

fn one() -> usize {
    1
}

/// One worker of a run (`performance.json`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerPhases {
    pub worker: u32,
    pub process: u32,
    pub shards: Vec<u32>,
    pub agents_seconds: f64,
    pub waiting_seconds: f64,
    /// Serving the provinces its process holds, out of its waiting.
    #[serde(default)]
    pub provinces_seconds: f64,
}

/// Wall time of the tick loop by phase: agents (shard actors, in
/// parallel), platform (the exchange, capacity model included), oracle, and
/// the driver's own serial routing at the tick barrier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseSeconds {
    pub agents: f64,
    pub platform: f64,
    /// The oracle and the other watchers, who read a tick's exchanges
    /// beside the next tick (the others beside its shards, the oracle,
    /// on the pool, beside its platform exchange).
    pub oracle: f64,
    /// How long the tick loop's path waited for the watchers (and, with
    /// the barrier on a thread of its own, for the hand-over).
    #[serde(default)]
    pub oracle_waited: f64,
    pub driver: f64,
}

impl Summary {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("summary serializes") + "\n"
    }
}
