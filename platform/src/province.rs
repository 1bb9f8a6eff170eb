//! One provincial platform: its registered people, their records, and the
//! operations of `api::Request`.
//!
//! This first version evaluates a fixed national-style rule (red for a
//! designated case, yellow for symptoms or an abnormal temperature); the rule
//! engine driven by rule-set data replaces `evaluate`.

use crate::api::{
    CaseStatus, CodeId, Credential, DeciCelsius, Feed, Issuer, Refusal, Request, Response, Verdict,
};
use crate::color::{Color, Decision};
use crate::hub::{HubAnswer, HubLookup, HubQuery, Publication};
use crate::identity::{DocNumber, Identity};
use crate::region::ProvinceId;
use crate::time::Minute;
use rustc_hash::FxHashMap;

/// The result of handling one request: either an answer, or a question for
/// the hub that `finish_remote` turns into an answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Done(Response),
    NeedsHub(HubQuery),
}

struct Record {
    identity: Identity,
    color: Color,
    case: Option<CaseStatus>,
    symptomatic: bool,
}

pub struct ProvincePlatform {
    province: ProvinceId,
    records: Vec<Record>,
    by_document: FxHashMap<DocNumber, u32>,
    journal_len: u64,
    publications: Vec<Publication>,
}

const FEVER: DeciCelsius = DeciCelsius(373);

impl ProvincePlatform {
    pub fn new(province: ProvinceId) -> ProvincePlatform {
        ProvincePlatform {
            province,
            records: Vec::new(),
            by_document: FxHashMap::default(),
            journal_len: 0,
            publications: Vec::new(),
        }
    }

    pub fn province(&self) -> ProvinceId {
        self.province
    }

    pub fn registered(&self) -> usize {
        self.records.len()
    }

    /// Status changes since the last call, for the hub.
    pub fn drain_publications(&mut self) -> Vec<Publication> {
        std::mem::take(&mut self.publications)
    }

    /// Color counts over everyone registered here, at `now`.
    pub fn census(&self, _now: Minute) -> [u64; 5] {
        let mut counts = [0u64; 5];
        for r in &self.records {
            counts[r.color.index()] += 1;
        }
        counts
    }

    fn own(&self, code: CodeId) -> Option<usize> {
        (code.issuer == Issuer::Province(self.province)
            && (code.serial as usize) < self.records.len())
        .then_some(code.serial as usize)
    }

    fn code_of(&self, i: usize) -> CodeId {
        CodeId {
            issuer: Issuer::Province(self.province),
            serial: i as u32,
        }
    }

    fn set_color(&mut self, i: usize, now: Minute) {
        let r = &mut self.records[i];
        let color = match r.case {
            Some(CaseStatus::Confirmed | CaseStatus::Suspected | CaseStatus::CloseContact) => {
                Color::Red
            }
            Some(CaseStatus::Asymptomatic) => Color::Red,
            _ if r.symptomatic => Color::Yellow,
            _ => Color::Green,
        };
        if color != r.color {
            r.color = color;
            self.publish(i, now);
        }
    }

    fn publish(&mut self, i: usize, now: Minute) {
        let r = &self.records[i];
        self.publications.push(Publication {
            code: self.code_of(i),
            document: r.identity.number,
            holder: r.identity.masked(),
            color: r.color,
            at: now,
            explanation: None,
            nat: None,
        });
    }

    fn decision(color: Color) -> Decision {
        match color.severity() {
            0 => Decision::Pass,
            3 => Decision::Refuse,
            _ => Decision::Refer,
        }
    }

    pub fn handle(&mut self, now: Minute, req: &Request) -> Outcome {
        Outcome::Done(match req {
            Request::Apply {
                province, identity, ..
            } => {
                if *province != self.province {
                    return Outcome::Done(Response::Refused(Refusal::WrongPlatform));
                }
                if let Some(&i) = self.by_document.get(&identity.number) {
                    let r = &self.records[i as usize];
                    if r.identity.name != identity.name || r.identity.doc != identity.doc {
                        return Outcome::Done(Response::Refused(Refusal::IdentityLocked));
                    }
                    return Outcome::Done(Response::Issued {
                        code: self.code_of(i as usize),
                        color: r.color,
                    });
                }
                let i = self.records.len();
                self.records.push(Record {
                    identity: *identity,
                    color: Color::Green,
                    case: None,
                    symptomatic: false,
                });
                self.by_document.insert(identity.number, i as u32);
                self.publish(i, now);
                Response::Issued {
                    code: self.code_of(i),
                    color: Color::Green,
                }
            }
            Request::Declare {
                code,
                temperature,
                symptoms,
                ..
            } => match self.own(*code) {
                None => Response::Refused(Refusal::NotRegistered),
                Some(i) => {
                    self.records[i].symptomatic = *symptoms || *temperature >= FEVER;
                    self.set_color(i, now);
                    self.journal_len += 1;
                    Response::Recorded {
                        seq: self.journal_len,
                        color: self.records[i].color,
                    }
                }
            },
            Request::Verify {
                credential, place, ..
            } => {
                let local = match credential {
                    Credential::Code(c) | Credential::Offline { code: c, .. } => self.own(*c),
                    Credential::IdCard(d) => self.by_document.get(d).map(|&i| i as usize),
                };
                let _ = place;
                match local {
                    Some(i) => {
                        let r = &self.records[i];
                        Response::Verdict(Verdict {
                            color: r.color,
                            issuer: Issuer::Province(self.province),
                            decision: Self::decision(r.color),
                            holder: r.identity.masked(),
                            explanation: None,
                            nat: None,
                            via_hub: false,
                        })
                    }
                    None => {
                        let lookup = match credential {
                            Credential::Code(c) | Credential::Offline { code: c, .. } => {
                                HubLookup::Code(*c)
                            }
                            Credential::IdCard(d) => HubLookup::Document(*d),
                        };
                        return Outcome::NeedsHub(HubQuery {
                            from: self.province,
                            lookup,
                        });
                    }
                }
            }
            Request::Query { code } => match self.own(*code) {
                None => Response::Refused(Refusal::NotRegistered),
                Some(i) => {
                    let r = &self.records[i];
                    Response::Health {
                        color: r.color,
                        holder: r.identity.masked(),
                        explanation: None,
                        nat: None,
                    }
                }
            },
            Request::Feed {
                feed: Feed::Designation { person, status, at },
                ..
            } => {
                if let Some(&i) = self.by_document.get(person) {
                    self.records[i as usize].case =
                        (*status != CaseStatus::Cleared).then_some(*status);
                    self.set_color(i as usize, *at);
                }
                Response::Ack
            }
            Request::Feed { .. } => Response::Ack,
            _ => Response::Refused(Refusal::Other {
                message: "not supported by this platform yet".into(),
            }),
        })
    }

    /// Completes a verification that needed the hub, under this province's
    /// treatment of the issuer's color.
    pub fn finish_remote(&mut self, _now: Minute, query: &HubQuery, answer: HubAnswer) -> Response {
        let _ = query;
        match answer {
            HubAnswer::Status {
                code,
                holder,
                color,
                explanation,
                nat,
            } => Response::Verdict(Verdict {
                color,
                issuer: code.issuer,
                decision: Self::decision(color),
                holder,
                explanation,
                nat,
                via_hub: true,
            }),
            HubAnswer::Unknown => Response::Refused(Refusal::NotRegistered),
            // Never a green it cannot justify: without the hub, refer to staff.
            HubAnswer::Unreachable => Response::Busy,
        }
    }
}
