//! The `hub` section of `summary.json`: the recognition policy in force,
//! cross-province scans checked against it, partitions, travel and the
//! inbound services.

use crate::metrics::{Metrics, ISSUERS};
use hcsim_platform::api::Issuer;
use hcsim_platform::color::ALL_COLORS;
use hcsim_platform::hub::HubCounters;
use hcsim_platform::recognition::{RecognitionPolicy, Unreachable};
use hcsim_platform::{Decision, ProvinceId, RuleSet, PROVINCE_COUNT};
use hcsim_reports::summary::{HubSummary, LenientAllowance};
use std::sync::Arc;

const DECISIONS: [Decision; 3] = [Decision::Pass, Decision::Refer, Decision::Refuse];

fn issuer_of(slot: usize) -> Issuer {
    if slot == PROVINCE_COUNT {
        Issuer::National
    } else {
        Issuer::Province(ProvinceId(slot as u8))
    }
}

/// Verdicts via the hub whose decision is not what the receiver's
/// checkpoint table gives for the policy's treatment of the color shown.
pub fn disagreements(m: &Metrics, policy: &RecognitionPolicy, rules: &[Arc<RuleSet>]) -> u64 {
    let mut n = 0;
    for (issuer, row) in m.hub_verdicts.iter().enumerate().take(ISSUERS) {
        for (receiver, cell) in row.iter().enumerate() {
            let r = ProvinceId(receiver as u8);
            for color in ALL_COLORS {
                let treated = policy.treat(issuer_of(issuer), r, color);
                let expected = rules[receiver].decision(treated);
                for d in DECISIONS {
                    if d != expected {
                        n += cell[color.index() * 3 + d as usize];
                    }
                }
            }
        }
    }
    n
}

pub fn hub_summary(
    m: &Metrics,
    policy: &RecognitionPolicy,
    rules: &[Arc<RuleSet>],
    counters: HubCounters,
    unreachable: [u64; PROVINCE_COUNT],
) -> HubSummary {
    let mut cross = 0;
    let mut refused = 0;
    for (issuer, row) in m.recognition.iter().enumerate() {
        for (receiver, c) in row.iter().enumerate() {
            if issuer != receiver {
                cross += c.scans;
                refused += c.refuse;
            }
        }
    }
    let (mut busy, mut refer) = (0, 0);
    for p in ProvinceId::all() {
        match policy.unreachable(p) {
            Unreachable::Busy => busy += unreachable[p.index()],
            Unreachable::Refer => refer += unreachable[p.index()],
        }
    }
    HubSummary {
        recognition_policy: policy.origin().to_string(),
        lenient_allowances: policy
            .allowances()
            .iter()
            .map(|a| LenientAllowance {
                issuer: a.issuer_key().to_string(),
                receiver: a.receiver.key().to_string(),
                from: a.from.to_string(),
                to: a.to.to_string(),
                reason: a.reason.clone(),
                line: a.line,
            })
            .collect(),
        cross_province_scans: cross,
        hub_queries: counters.queries,
        recognition_refusals: refused,
        policy_disagreements: disagreements(m, policy, rules),
        hub_unreachable_busy: busy,
        hub_unreachable_refer: refer,
        national_codes: counters.national_codes,
        domestic_flights: m.travel.flights_landed,
        flight_passengers: m.travel.flight_passengers,
        train_trips: m.travel.train_trips,
        inbound_flights: m.travel.inbound_flights,
        inbound_entries: counters.entries,
        entry_queries: counters.entry_queries,
        itinerary_declarations: counters.itinerary_declarations,
        concealment_flags: counters.concealment_flags,
        concealing_people: counters.concealing_people,
        same_flight_checks: counters.same_flight_checks,
        same_flight_contacts: counters.same_flight_contacts,
    }
}
