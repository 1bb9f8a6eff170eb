//! Data pushed by the health authority, immigration and the carriers.
//!
//! Feeds may come twice or out of order: an exact duplicate is ignored, a
//! late fact is replayed in time order, a fact dated in the future counts
//! from when it is received, and a fact about a document nobody registered
//! yet waits for the registration.

use super::journal::{Abroad, Record};
use super::ProvincePlatform;
use crate::api::{Feed, Refusal, Response};
use crate::rules::TriggerOn;
use crate::time::Minute;

impl ProvincePlatform {
    pub(super) fn feed(&mut self, now: Minute, feed: &Feed) -> Response {
        let (at, record) = match *feed {
            Feed::RiskArea { county, level, at } => {
                self.durable(|| super::LogEntry::Risk { county, at, level });
                self.risk.set(county, at, level);
                return Response::Ack;
            }
            Feed::Designation { status, at, .. } => (at, Record::Designation { status }),
            Feed::Quarantine {
                kind, start, end, ..
            } => {
                if end <= start {
                    return Response::Refused(Refusal::Other {
                        message: format!("quarantine ends ({end}) before it starts ({start})"),
                    });
                }
                (start, Record::Quarantine { kind, end })
            }
            Feed::NatResult {
                at,
                positive,
                institution,
                ..
            } => (
                at,
                Record::Nat {
                    positive,
                    institution,
                },
            ),
            Feed::IggResult { at, positive, .. } => (at, Record::Igg { positive }),
            Feed::SameBuildingCase { at, .. } => (at, Record::SameBuilding),
            Feed::Stay { county, at, .. } => {
                let level = self.risk.level_at(county, at);
                // Most stays are in low-risk counties and change nothing:
                // keeping them would cost memory for every traveller.
                let matters = self
                    .rules
                    .triggers()
                    .iter()
                    .any(|t| t.on == TriggerOn::Arrival { risk: level });
                if !matters {
                    return Response::Ack;
                }
                (at, Record::Stay { county, level })
            }
            Feed::Entry {
                at,
                origin_country,
                port,
                flight,
                ..
            } => (
                at,
                Record::Entry(Abroad {
                    origin_country,
                    port,
                    flight,
                }),
            ),
            Feed::CreditViolation { at, .. } => (at, Record::Credit),
            // Kept by the national hub for the itinerary check; no rule
            // reads it here.
            Feed::Roaming { .. } => return Response::Ack,
            Feed::AuthorityColor { color, at, .. } => (at, Record::Authority { color }),
        };
        let Some(person) = feed.person() else {
            return Response::Ack;
        };
        let at = at.min(now);
        match self.serial_of(person) {
            Some(i) => {
                if !self.journal.contains(self.people[i].head, at, &record) {
                    self.record(i, at, record, now);
                }
            }
            None => {
                let pending = self.side.pending.entry(person).or_default();
                if !pending.contains(&(at, record)) {
                    pending.push((at, record));
                    self.durable(|| super::LogEntry::Pending {
                        document: person,
                        at,
                        record,
                    });
                }
            }
        }
        Response::Ack
    }
}
