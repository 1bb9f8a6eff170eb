//! Inbound-traveller services: immigration entries, the overseas itinerary
//! declaration checked against the record, and the same-flight self-check.
//!
//! The hub keeps a copy of the national data these need (entries, roaming
//! records, confirmed and suspected cases); a flight's manifest is the set
//! of entries with its flight number on the same Beijing day.

use crate::api::{CaseStatus, EntryView, Feed, InboundAnswer, InboundRequest, QuarantineKind};
use crate::hub::HubCounters;
use crate::identity::DocNumber;
use crate::region::ProvinceId;
use crate::time::{Minute, MINUTES_PER_DAY};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;

/// How far back every inbound service looks.
const WINDOW: u32 = 14 * MINUTES_PER_DAY;

/// Whether the hub keeps a copy of a feed.
pub(super) fn wants(feed: &Feed) -> bool {
    match feed {
        Feed::Entry { .. } | Feed::Roaming { .. } => true,
        Feed::Designation { status, .. } => matches!(
            status,
            CaseStatus::Confirmed | CaseStatus::Suspected | CaseStatus::Cleared
        ),
        _ => false,
    }
}

#[derive(Default)]
pub(super) struct Inbound {
    entries: FxHashMap<DocNumber, Vec<EntryView>>,
    home: FxHashMap<DocNumber, ProvinceId>,
    roaming: FxHashMap<DocNumber, Vec<(Minute, u16)>>,
    /// Confirmed or suspected, since.
    cases: FxHashMap<DocNumber, Minute>,
    /// (flight, Beijing day of arrival) → passengers, in arrival order.
    manifests: BTreeMap<(u32, u32), Vec<DocNumber>>,
    contacts: FxHashSet<DocNumber>,
    concealing: FxHashSet<DocNumber>,
    counters: HubCounters,
}

fn within(at: Minute, now: Minute) -> bool {
    at <= now && now.since(at) <= WINDOW
}

impl Inbound {
    pub fn counters(&self) -> HubCounters {
        self.counters
    }

    pub fn note(&mut self, to: Option<ProvinceId>, feed: &Feed) {
        match *feed {
            Feed::Entry {
                person,
                at,
                origin_country,
                port,
                flight,
            } => {
                let view = EntryView {
                    at,
                    origin_country,
                    port,
                    flight,
                };
                let list = self.entries.entry(person).or_default();
                if list.contains(&view) {
                    return;
                }
                let i = list.partition_point(|e| e.at <= at);
                list.insert(i, view);
                if let Some(p) = to {
                    self.home.insert(person, p);
                }
                self.manifests
                    .entry((flight, at.day()))
                    .or_default()
                    .push(person);
                self.counters.entries += 1;
            }
            Feed::Roaming {
                person,
                country,
                at,
            } => {
                let list = self.roaming.entry(person).or_default();
                if !list.contains(&(at, country)) {
                    list.push((at, country));
                }
            }
            Feed::Designation { person, status, at } => match status {
                CaseStatus::Confirmed | CaseStatus::Suspected => {
                    self.cases.entry(person).or_insert(at);
                }
                CaseStatus::Cleared => {
                    self.cases.remove(&person);
                }
                _ => {}
            },
            _ => {}
        }
    }

    fn recent(&self, person: DocNumber, now: Minute) -> impl Iterator<Item = &EntryView> {
        self.entries
            .get(&person)
            .into_iter()
            .flatten()
            .filter(move |e| within(e.at, now))
    }

    pub fn serve(
        &mut self,
        now: Minute,
        req: &InboundRequest,
        outgoing: &mut Vec<(ProvinceId, Feed)>,
    ) -> InboundAnswer {
        match req {
            InboundRequest::EntryQuery { person } => {
                self.counters.entry_queries += 1;
                InboundAnswer::Entries {
                    entries: self.recent(*person, now).copied().collect(),
                }
            }
            InboundRequest::ItineraryDeclare { person, countries } => {
                self.counters.itinerary_declarations += 1;
                let mut on_record: Vec<u16> = self
                    .recent(*person, now)
                    .map(|e| e.origin_country)
                    .chain(
                        self.roaming
                            .get(person)
                            .into_iter()
                            .flatten()
                            .filter(|(at, _)| within(*at, now))
                            .map(|(_, c)| *c),
                    )
                    .filter(|c| !countries.contains(c))
                    .collect();
                on_record.sort_unstable();
                on_record.dedup();
                if !on_record.is_empty() {
                    self.counters.concealment_flags += 1;
                    if self.concealing.insert(*person) {
                        self.counters.concealing_people += 1;
                    }
                }
                InboundAnswer::Itinerary {
                    concealed: on_record,
                }
            }
            InboundRequest::SameFlightCheck { person } => {
                self.counters.same_flight_checks += 1;
                let mut flights = Vec::new();
                let mut since = None;
                for e in self.recent(*person, now) {
                    let aboard = &self.manifests[&(e.flight, e.at.day())];
                    let case_aboard = aboard
                        .iter()
                        .any(|p| p != person && self.cases.get(p).is_some_and(|at| *at <= now));
                    if case_aboard && !flights.contains(&e.flight) {
                        flights.push(e.flight);
                        since = Some(e.at);
                    }
                }
                if let Some(arrived) = since {
                    if self.contacts.insert(*person) {
                        self.counters.same_flight_contacts += 1;
                        if let Some(&home) = self.home.get(person) {
                            designate(outgoing, home, *person, now, arrived);
                        }
                    }
                }
                InboundAnswer::SameFlight { flights }
            }
        }
    }
}

/// A close contact is quarantined for 14 days from the exposure (the
/// flight's arrival), centrally, as inbound contacts were.
fn designate(
    outgoing: &mut Vec<(ProvinceId, Feed)>,
    home: ProvinceId,
    person: DocNumber,
    now: Minute,
    exposed: Minute,
) {
    outgoing.push((
        home,
        Feed::Designation {
            person,
            status: CaseStatus::CloseContact,
            at: now,
        },
    ));
    let end = exposed.plus_days(14).max(now.plus_days(1));
    outgoing.push((
        home,
        Feed::Quarantine {
            person,
            kind: QuarantineKind::Centralized,
            start: now,
            end,
        },
    ));
}
