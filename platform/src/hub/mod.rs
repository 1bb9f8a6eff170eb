//! The national platform hub: provincial platforms publish status changes to
//! it, and a province asks it about codes it did not issue. It also issues
//! the national code (防疫健康信息码, `national`), serves the international
//! version's declarations and the inbound-traveller services (`inbound`).

mod inbound;
mod national;

use crate::api::{CodeId, Explanation, Feed, Issuer, NatShown, Refusal, Request, Response};
use crate::color::Color;
use crate::identity::{DocNumber, MaskedIdentity};
use crate::international::IntlDeclarations;
use crate::region::{ProvinceId, PROVINCE_COUNT};
use crate::rules::{IntlParams, RuleSet};
use crate::time::Minute;
use inbound::Inbound;
use national::NationalCodes;
use rustc_hash::FxHashMap;

/// A status change a provincial platform sends to the hub.
#[derive(Clone, Debug, PartialEq)]
pub struct Publication {
    pub code: CodeId,
    pub document: DocNumber,
    pub holder: MaskedIdentity,
    pub color: Color,
    pub at: Minute,
    pub explanation: Option<Explanation>,
    pub nat: Option<NatShown>,
}

/// What a receiving province asks the hub.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum HubLookup {
    Code(CodeId),
    Document(DocNumber),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct HubQuery {
    pub from: ProvinceId,
    pub lookup: HubLookup,
}

#[derive(Clone, Debug, PartialEq)]
pub enum HubAnswer {
    Status {
        code: CodeId,
        holder: MaskedIdentity,
        color: Color,
        explanation: Option<Explanation>,
        nat: Option<NatShown>,
    },
    /// The hub has no record of the code or document.
    Unknown,
    /// The hub could not be reached in time (partition, overload).
    Unreachable,
}

#[derive(Clone)]
struct Status {
    holder: MaskedIdentity,
    color: Color,
    explanation: Option<Explanation>,
    nat: Option<NatShown>,
}

/// What the hub counts, for the run report.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct HubCounters {
    pub queries: u64,
    pub national_codes: u64,
    pub entries: u64,
    pub entry_queries: u64,
    pub itinerary_declarations: u64,
    /// Declarations that left out a country on record.
    pub concealment_flags: u64,
    /// People flagged at least once.
    pub concealing_people: u64,
    pub same_flight_checks: u64,
    /// People designated close contacts by the same-flight self-check.
    pub same_flight_contacts: u64,
}

pub struct Hub {
    /// Status per issuer, indexed by serial.
    by_issuer: Vec<Vec<Option<Status>>>,
    by_document: FxHashMap<DocNumber, CodeId>,
    national: NationalCodes,
    intl: IntlDeclarations,
    inbound: Inbound,
    /// Feeds the hub sends to provincial platforms (same-flight contact
    /// designations), delivered by the adapter before the next requests.
    outgoing: Vec<(ProvinceId, Feed)>,
    pub queries: u64,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    /// A hub whose national code uses green/yellow/red and whose
    /// international version uses the default parameters.
    pub fn new() -> Hub {
        Hub {
            by_issuer: vec![Vec::new(); PROVINCE_COUNT + 1],
            by_document: FxHashMap::default(),
            national: NationalCodes::new(vec![Color::Green, Color::Yellow, Color::Red]),
            intl: IntlDeclarations::new(IntlParams::default()),
            inbound: Inbound::default(),
            outgoing: Vec::new(),
            queries: 0,
        }
    }

    /// A hub under the national rule set: its colors for the national code
    /// and its `[international]` parameters.
    pub fn with_rules(national: &RuleSet) -> Hub {
        Hub {
            national: NationalCodes::new(national.colors().to_vec()),
            intl: IntlDeclarations::new(national.international().clone()),
            ..Hub::new()
        }
    }

    pub fn counters(&self) -> HubCounters {
        let mut c = self.inbound.counters();
        c.queries = self.queries;
        c.national_codes = self.national.len() as u64;
        c
    }

    /// Feeds for provincial platforms produced since the last call.
    pub fn drain_outgoing(&mut self) -> Vec<(ProvinceId, Feed)> {
        std::mem::take(&mut self.outgoing)
    }

    /// Requests the hub serves itself: the national code, the international
    /// version, the inbound services.
    pub fn handle(&mut self, now: Minute, req: &Request) -> Response {
        match req {
            Request::Apply {
                identity,
                national: true,
                ..
            } => {
                let code = self.national.apply(identity);
                let color = self.status_of(code).map_or(Color::Green, |s| s.color);
                Response::Issued { code, color }
            }
            Request::Query { code } if code.issuer == Issuer::National => {
                match self.status_of(*code) {
                    None => Response::Refused(Refusal::NotRegistered),
                    Some(s) => Response::Health {
                        color: s.color,
                        holder: s.holder,
                        explanation: s.explanation,
                        nat: s.nat,
                        credit_violations: None,
                        resume_work: None,
                    },
                }
            }
            Request::Offline { code } if code.issuer == Issuer::National => {
                match self.status_of(*code) {
                    None => Response::Refused(Refusal::NotRegistered),
                    Some(s) => Response::OfflineCode {
                        code: *code,
                        issued: now,
                        color: s.color,
                    },
                }
            }
            Request::IntlDeclare {
                account,
                identity,
                subject,
                declaration,
            } => match self
                .intl
                .declare(now, *account, identity, subject.as_ref(), declaration)
            {
                Ok((seq, status)) => Response::IntlRecorded { seq, status },
                Err(r) => Response::Refused(r),
            },
            Request::IntlStatus { account, subject } => {
                match self.intl.status(now, *account, *subject) {
                    Ok(s) => Response::IntlStatus(s),
                    Err(r) => Response::Refused(r),
                }
            }
            Request::Inbound(service) => {
                let answer = self.inbound.serve(now, service, &mut self.outgoing);
                Response::Inbound(answer)
            }
            // Declarations and data about a national-code holder are kept by
            // the provincial platform that holds their records; the national
            // code shows what that data gives.
            _ => Response::Refused(Refusal::WrongPlatform),
        }
    }

    /// National data the hub keeps a copy of (immigration entries, roaming,
    /// case designations), sent to the platform of `to`.
    pub fn note_feed(&mut self, to: Option<ProvinceId>, feed: &Feed) {
        self.inbound.note(to, feed);
    }

    /// Whether the hub keeps a copy of this feed.
    pub fn wants_feed(feed: &Feed) -> bool {
        inbound::wants(feed)
    }

    fn slot(issuer: Issuer) -> usize {
        match issuer {
            Issuer::Province(p) => p.index(),
            Issuer::National => PROVINCE_COUNT,
        }
    }

    pub fn publish(&mut self, p: &Publication) {
        let table = &mut self.by_issuer[Self::slot(p.code.issuer)];
        let i = p.code.serial as usize;
        if table.len() <= i {
            table.resize(i + 1, None);
        }
        table[i] = Some(Status {
            holder: p.holder,
            color: p.color,
            explanation: p.explanation.clone(),
            nat: p.nat,
        });
        self.by_document.entry(p.document).or_insert(p.code);
    }

    pub fn query(&mut self, q: &HubQuery) -> HubAnswer {
        self.queries += 1;
        let code = match q.lookup {
            HubLookup::Code(c) => c,
            HubLookup::Document(d) => match self.by_document.get(&d) {
                Some(c) => *c,
                None => return HubAnswer::Unknown,
            },
        };
        match self.status_of(code) {
            Some(s) => HubAnswer::Status {
                code,
                holder: s.holder,
                color: s.color,
                explanation: s.explanation,
                nat: s.nat,
            },
            None => HubAnswer::Unknown,
        }
    }

    /// A code's status. A national code shows the holder's status in the
    /// provincial data (equal validity), in the national scheme's colors,
    /// never more leniently; a holder with no provincial record yet is green.
    fn status_of(&self, code: CodeId) -> Option<Status> {
        if code.issuer == Issuer::National {
            let (document, holder) = self.national.get(code.serial)?;
            let provincial = self
                .by_document
                .get(&document)
                .and_then(|c| self.provincial(*c));
            return Some(match provincial {
                Some(s) => Status {
                    color: self.national.in_scheme(s.color),
                    holder,
                    ..s
                },
                None => Status {
                    holder,
                    color: Color::Green,
                    explanation: None,
                    nat: None,
                },
            });
        }
        self.provincial(code)
    }

    fn provincial(&self, code: CodeId) -> Option<Status> {
        match self.by_issuer[Self::slot(code.issuer)].get(code.serial as usize) {
            Some(Some(s)) => Some(s.clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
