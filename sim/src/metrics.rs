//! What shards count while they run. Counters only (no floats), so merging
//! shard metrics in any order gives the same totals.

use bitcode::{Decode, Encode};
use hcsim_platform::api::{Issuer, Op, Response, OPS};
use hcsim_platform::{Decision, PROVINCE_COUNT};
use serde::{Deserialize, Serialize};

/// Issuers: 31 provinces then the national code.
pub const ISSUERS: usize = PROVINCE_COUNT + 1;

pub fn issuer_slot(i: Issuer) -> usize {
    match i {
        Issuer::Province(p) => p.index(),
        Issuer::National => PROVINCE_COUNT,
    }
}

/// A colour that keeps its holder at home: yellow (home observation),
/// orange and red (quarantine), apart from what the order allows.
pub fn restricts(color: hcsim_platform::Color) -> bool {
    use hcsim_platform::Color;
    matches!(color, Color::Yellow | Color::Orange | Color::Red)
}

#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
pub struct RecognitionCell {
    pub scans: u64,
    pub pass: u64,
    pub refer: u64,
    pub refuse: u64,
    /// No verdict: system busy, unknown code, hub unreachable.
    pub unanswered: u64,
}

#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
pub struct ProvinceScans {
    pub scans: u64,
    pub by_color: [u64; 5],
    pub by_decision: [u64; 3],
    pub busy: u64,
    pub unknown: u64,
    pub via_hub: u64,
    pub closed: u64,
    pub wait_seconds_sum: u64,
    pub wait_seconds_max: u64,
    /// Scans by checkpoint kind (CHECKPOINT_KINDS order).
    pub by_kind: [u64; 15],
    /// Scans of yellow, orange and red codes by checkpoint kind: where
    /// people whose code keeps them at home were seen all the same.
    pub not_green_by_kind: [u64; 15],
}

/// Counts within one reporting interval, for charts over time.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
pub struct IntervalCounts {
    pub scans: u64,
    pub pass: u64,
    pub refer: u64,
    pub refuse: u64,
    pub busy: u64,
    pub unknown: u64,
    pub via_hub: u64,
    pub wait_seconds_sum: u64,
    pub wait_seconds_max: u64,
    pub declarations: u64,
    pub queries: u64,
}

impl IntervalCounts {
    fn add(&mut self, o: &IntervalCounts) {
        self.scans += o.scans;
        self.pass += o.pass;
        self.refer += o.refer;
        self.refuse += o.refuse;
        self.busy += o.busy;
        self.unknown += o.unknown;
        self.via_hub += o.via_hub;
        self.wait_seconds_sum += o.wait_seconds_sum;
        self.wait_seconds_max = self.wait_seconds_max.max(o.wait_seconds_max);
        self.declarations += o.declarations;
        self.queries += o.queries;
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
pub struct Metrics {
    /// Per scanning province.
    pub provinces: Vec<ProvinceScans>,
    /// [issuer][receiving province].
    pub recognition: Vec<[RecognitionCell; PROVINCE_COUNT]>,
    /// Requests sent, by `Op` (OPS order).
    pub requests: [u64; 6],
    pub declarations_acked: u64,
    pub refusals: u64,
    pub trips_started: u64,
    pub symptom_onsets: u64,
    pub events: u64,
    /// Per reporting interval since the start.
    pub timeline: Vec<IntervalCounts>,
    /// Verdicts that needed the hub, [issuer][receiving province]
    /// [color * 3 + decision]: what the policy check reads.
    pub hub_verdicts: Vec<[[u64; 15]; PROVINCE_COUNT]>,
    pub travel: TravelCounts,
    /// NAT samples people sought (by day and reason).
    pub nat: crate::nat::NatDaily,
}

/// Journeys and the inbound services citizens used.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
pub struct TravelCounts {
    pub train_trips: u64,
    pub flights_landed: u64,
    pub flight_passengers: u64,
    pub inbound_flights: u64,
    pub inbound_passengers: u64,
    pub inbound_cases: u64,
    /// Arrivals from abroad put into the 14-day quarantine.
    pub inbound_quarantined: u64,
}

impl TravelCounts {
    fn add(&mut self, o: &TravelCounts) {
        self.train_trips += o.train_trips;
        self.flights_landed += o.flights_landed;
        self.flight_passengers += o.flight_passengers;
        self.inbound_flights += o.inbound_flights;
        self.inbound_passengers += o.inbound_passengers;
        self.inbound_cases += o.inbound_cases;
        self.inbound_quarantined += o.inbound_quarantined;
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            provinces: vec![ProvinceScans::default(); PROVINCE_COUNT],
            recognition: vec![[RecognitionCell::default(); PROVINCE_COUNT]; ISSUERS],
            requests: [0; 6],
            declarations_acked: 0,
            refusals: 0,
            trips_started: 0,
            symptom_onsets: 0,
            events: 0,
            timeline: Vec::new(),
            hub_verdicts: vec![[[0; 15]; PROVINCE_COUNT]; ISSUERS],
            travel: TravelCounts::default(),
            nat: Vec::new(),
        }
    }
}

pub fn op_slot(op: Op) -> usize {
    OPS.iter().position(|o| *o == op).unwrap_or(0)
}

impl Metrics {
    /// Records the answer to a verification at a checkpoint in `province`.
    pub fn record_scan(
        &mut self,
        interval: usize,
        province: usize,
        issuer: Issuer,
        kind: usize,
        scan_tag: u32,
        response: &Response,
    ) {
        let wait_seconds = crate::agents::checkpoint::wait_seconds(scan_tag) as u64;
        let p = &mut self.provinces[province];
        p.scans += 1;
        p.by_kind[kind] += 1;
        p.wait_seconds_sum += wait_seconds;
        p.wait_seconds_max = p.wait_seconds_max.max(wait_seconds);
        let cell = &mut self.recognition[issuer_slot(issuer)][province];
        cell.scans += 1;
        let t = Self::slot(&mut self.timeline, interval);
        t.scans += 1;
        t.wait_seconds_sum += wait_seconds;
        t.wait_seconds_max = t.wait_seconds_max.max(wait_seconds);
        match response {
            Response::Verdict(v) => {
                p.by_color[v.color.index()] += 1;
                if restricts(v.color) {
                    p.not_green_by_kind[kind] += 1;
                }
                p.by_decision[v.decision as usize] += 1;
                p.via_hub += u64::from(v.via_hub);
                t.via_hub += u64::from(v.via_hub);
                if v.via_hub {
                    self.hub_verdicts[issuer_slot(issuer)][province]
                        [v.color.index() * 3 + v.decision as usize] += 1;
                }
                match v.decision {
                    Decision::Pass => {
                        cell.pass += 1;
                        t.pass += 1;
                    }
                    Decision::Refer => {
                        cell.refer += 1;
                        t.refer += 1;
                    }
                    Decision::Refuse => {
                        cell.refuse += 1;
                        t.refuse += 1;
                    }
                }
            }
            Response::Busy => {
                p.busy += 1;
                cell.unanswered += 1;
                t.busy += 1;
            }
            _ => {
                p.unknown += 1;
                cell.unanswered += 1;
                t.unknown += 1;
            }
        }
    }

    /// The counts of reporting interval `i`, growing the timeline as needed.
    pub fn interval(&mut self, i: usize) -> &mut IntervalCounts {
        Self::slot(&mut self.timeline, i)
    }

    fn slot(timeline: &mut Vec<IntervalCounts>, i: usize) -> &mut IntervalCounts {
        if timeline.len() <= i {
            timeline.resize(i + 1, IntervalCounts::default());
        }
        &mut timeline[i]
    }

    pub fn merge(&mut self, o: &Metrics) {
        for (a, b) in self.provinces.iter_mut().zip(&o.provinces) {
            a.scans += b.scans;
            for i in 0..5 {
                a.by_color[i] += b.by_color[i];
            }
            for i in 0..3 {
                a.by_decision[i] += b.by_decision[i];
            }
            for i in 0..15 {
                a.by_kind[i] += b.by_kind[i];
                a.not_green_by_kind[i] += b.not_green_by_kind[i];
            }
            a.busy += b.busy;
            a.unknown += b.unknown;
            a.via_hub += b.via_hub;
            a.closed += b.closed;
            a.wait_seconds_sum += b.wait_seconds_sum;
            a.wait_seconds_max = a.wait_seconds_max.max(b.wait_seconds_max);
        }
        for (ra, rb) in self.recognition.iter_mut().zip(&o.recognition) {
            for (a, b) in ra.iter_mut().zip(rb) {
                a.scans += b.scans;
                a.pass += b.pass;
                a.refer += b.refer;
                a.refuse += b.refuse;
                a.unanswered += b.unanswered;
            }
        }
        for i in 0..6 {
            self.requests[i] += o.requests[i];
        }
        self.declarations_acked += o.declarations_acked;
        self.refusals += o.refusals;
        self.trips_started += o.trips_started;
        self.symptom_onsets += o.symptom_onsets;
        self.events += o.events;
        crate::nat::merge(&mut self.nat, &o.nat);
        for (i, t) in o.timeline.iter().enumerate() {
            self.interval(i).add(t);
        }
        for (ra, rb) in self.hub_verdicts.iter_mut().zip(&o.hub_verdicts) {
            for (a, b) in ra.iter_mut().zip(rb) {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
            }
        }
        self.travel.add(&o.travel);
    }
}
