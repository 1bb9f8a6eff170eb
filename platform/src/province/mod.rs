//! One provincial platform: its registered people, their journal, and the
//! operations of `api::Request`, evaluated under the province's rule set.
//!
//! Data layout: a 40-byte hot record per person (identity, journal head,
//! rule state) in a vector indexed by code serial; everything rare (NAT
//! results, credit records, family links, facts about people not yet
//! registered) lives in side tables keyed by serial or document.

mod durable;
mod feeds;
mod journal;
mod register;
mod risk;
mod views;

use crate::api::{
    CodeId, Credential, Issuer, NatShown, Place, Refusal, Request, Response, Verdict,
};
use crate::color::Color;
use crate::doc_index::DocIndex;
use crate::hub::{HubAnswer, HubLookup, HubQuery, Publication};
use crate::identity::{DocKind, DocNumber, Identity, NameCode, NumberWords};
use crate::recognition::{RecognitionPolicy, Unreachable};
use crate::region::ProvinceId;
use crate::rules::{RuleSet, State};
use crate::time::Minute;
use crate::token::{CodeKey, CodeKeys};
use durable::LogEntry;
pub use durable::{DurableLog, RecoverError, Recovery};
use journal::{Journal, Record};
use risk::RiskTable;
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

/// The result of handling one request: either an answer, or a question for
/// the hub that `finish_remote` turns into an answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Done(Response),
    NeedsHub(HubQuery),
}

/// The hot record.
#[derive(Clone, Debug)]
struct Person {
    number: NumberWords,
    name: NameCode,
    /// Newest journal entry of this person.
    head: u32,
    age: u8,
    doc: DocKind,
    state: State,
}

impl Person {
    fn identity(&self) -> Identity {
        Identity {
            doc: self.doc,
            number: self.number.get(),
            name: self.name,
            age: self.age,
        }
    }
}

#[derive(Default)]
struct NatSide {
    latest_negative: Option<NatShown>,
    latest_igg_positive: Option<Minute>,
}

#[derive(Default)]
struct SideTables {
    nat: FxHashMap<u32, NatSide>,
    credit: FxHashMap<u32, u16>,
    /// Proxy serial → members it applied for, in application order.
    family: FxHashMap<u32, Vec<(u32, crate::api::Relation)>>,
    /// Facts about documents nobody has registered yet; applied at
    /// registration (the code is assigned from data, not only declarations).
    pending: FxHashMap<DocNumber, Vec<(Minute, Record)>>,
}

pub struct ProvincePlatform {
    province: ProvinceId,
    rules: Arc<RuleSet>,
    people: Vec<Person>,
    /// Document → serial; the number is read from `people`.
    by_document: DocIndex,
    journal: Journal,
    risk: RiskTable,
    side: SideTables,
    /// Releases that come due with time alone: (when, serial). Stale
    /// entries are harmless: settling an already-settled person does nothing.
    releases: BinaryHeap<Reverse<(Minute, u32)>>,
    /// People by the color of their stored state (`Color::index`), kept as
    /// states change so a census need not read every person.
    stored_colors: [u64; 5],
    publications: Vec<Publication>,
    /// Where state changes are written before they are acknowledged, for
    /// recovery after a crash; `None`: state lives in memory only.
    log: Option<DurableLog>,
    /// How this province treats codes from elsewhere.
    recognition: Arc<RecognitionPolicy>,
    /// Signs this province's codes; a code of this province whose token it
    /// does not give is refused before anything is looked up.
    key: CodeKey,
}

impl ProvincePlatform {
    pub fn new(province: ProvinceId, rules: Arc<RuleSet>) -> ProvincePlatform {
        ProvincePlatform {
            province,
            rules,
            people: Vec::new(),
            by_document: DocIndex::default(),
            journal: Journal::default(),
            risk: RiskTable::default(),
            side: SideTables::default(),
            releases: BinaryHeap::new(),
            stored_colors: [0; 5],
            publications: Vec::new(),
            log: None,
            recognition: Arc::new(RecognitionPolicy::default()),
            key: CodeKeys::default().province(province).clone(),
        }
    }

    /// Signs and checks this province's codes with `key` (the province's
    /// own from the platform's `CodeKeys`).
    pub fn with_code_key(mut self, key: CodeKey) -> ProvincePlatform {
        self.key = key;
        self
    }

    pub fn code_key(&self) -> &CodeKey {
        &self.key
    }

    /// Writes every state change to `log` from now on (a fresh platform:
    /// `recover` replays the log from its start).
    pub fn with_durable_log(mut self, log: DurableLog) -> ProvincePlatform {
        self.log = Some(log);
        self
    }

    fn durable(&self, entry: impl FnOnce() -> LogEntry) {
        if let Some(log) = &self.log {
            log.append(&entry());
        }
    }

    /// Appends to person `i`'s journal, durably first.
    fn journal_append(&mut self, i: usize, at: Minute, record: Record) -> u64 {
        #[cfg(feature = "mutant")]
        let logged = !i.is_multiple_of(8)
            || self.rules.mutant() != Some(crate::rules::Mutant::UnloggedRecord);
        #[cfg(not(feature = "mutant"))]
        let logged = true;
        if logged {
            self.durable(|| LogEntry::Journaled {
                person: i as u32,
                at,
                record,
            });
        }
        self.journal.append(&mut self.people[i].head, at, record)
    }

    /// How this province treats codes from elsewhere.
    pub fn recognition(&self) -> &Arc<RecognitionPolicy> {
        &self.recognition
    }

    /// Sets the interprovincial recognition policy (default: every color
    /// taken as issued, busy when the hub is unreachable).
    pub fn with_recognition(mut self, policy: Arc<RecognitionPolicy>) -> ProvincePlatform {
        self.recognition = policy;
        self
    }

    pub fn province(&self) -> ProvinceId {
        self.province
    }

    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    pub fn registered(&self) -> usize {
        self.people.len()
    }

    /// Journal entries held, all people together.
    pub fn journal_len(&self) -> usize {
        self.journal.len()
    }

    /// Status changes since the last call, for the hub.
    pub fn drain_publications(&mut self) -> Vec<Publication> {
        std::mem::take(&mut self.publications)
    }

    /// Color counts over everyone registered here, at `now`.
    ///
    /// A color changes with time alone only by a release, and everyone whose
    /// release has come due has an entry in `releases` at that time (it is
    /// scheduled with every change of state, and `advance` settles what it
    /// pops). So the census is the stored colors, corrected for the people
    /// with entries due by `now`.
    pub fn census(&self, now: Minute) -> [u64; 5] {
        let mut counts = self.stored_colors;
        let mut due: Vec<u32> = self
            .releases
            .iter()
            .filter(|Reverse((at, _))| *at <= now)
            .map(|Reverse((_, i))| *i)
            .collect();
        due.sort_unstable();
        due.dedup();
        for i in due {
            let state = &self.people[i as usize].state;
            counts[state.color().index()] -= 1;
            counts[self.rules.at(state, now).color().index()] += 1;
        }
        counts
    }

    /// Replaces person `i`'s rule state, keeping `stored_colors` true.
    fn set_state(&mut self, i: usize, state: State) {
        let old = std::mem::replace(&mut self.people[i].state, state);
        self.stored_colors[old.color().index()] -= 1;
        self.stored_colors[state.color().index()] += 1;
    }

    /// The color of one of this platform's codes at `now`.
    pub fn color_of(&self, code: CodeId, now: Minute) -> Option<Color> {
        let i = self.own(code)?;
        Some(self.rules.at(&self.people[i].state, now).color())
    }

    /// Publishes releases that came due by `now` with time alone (the way
    /// back completed between two facts). `handle` calls it; a driver with
    /// idle ticks may call it too.
    pub fn advance(&mut self, now: Minute) {
        while let Some(&Reverse((at, i))) = self.releases.peek() {
            if at > now {
                break;
            }
            self.releases.pop();
            let i = i as usize;
            let state = self.people[i].state;
            let settled = self.rules.at(&state, now);
            if settled != state {
                self.set_state(i, settled);
                self.publish(i, settled.since());
            }
        }
    }

    /// The serial registered under a document.
    fn serial_of(&self, number: DocNumber) -> Option<usize> {
        self.by_document
            .get(number, |i| self.people[i as usize].number.get())
            .map(|i| i as usize)
    }

    /// Appends a person with a fresh rule state and indexes their document;
    /// registration and recovery both add people this way.
    fn add_person(&mut self, identity: &Identity) -> usize {
        let i = self.people.len();
        self.people.push(Person {
            number: identity.number.into(),
            name: identity.name,
            head: journal::NO_ENTRY,
            age: identity.age,
            doc: identity.doc,
            state: State::default(),
        });
        self.stored_colors[State::default().color().index()] += 1;
        self.index_document(i);
        i
    }

    /// Indexes person `i`, who must already be in `people`.
    fn index_document(&mut self, i: usize) {
        let people = &self.people;
        self.by_document
            .insert(people[i].number.get(), i as u32, |s| {
                people[s as usize].number.get()
            });
    }

    /// Makes room for `people` registrations at once: a run that knows its
    /// population neither regrows the person table nor rehashes the index
    /// while everyone registers.
    pub fn reserve(&mut self, people: usize) {
        self.people.reserve_exact(people);
        let records = &self.people;
        self.by_document
            .reserve(people, |s| records[s as usize].number.get());
        // One registration record each, most of a day's journal.
        self.journal.reserve(people);
    }

    /// Bytes the hot records and the document index hold on the heap (the
    /// per-citizen part of the platform; journal and side tables excluded).
    pub fn heap_bytes(&self) -> usize {
        self.people.capacity() * std::mem::size_of::<Person>() + self.by_document.heap_bytes()
    }

    fn own(&self, code: CodeId) -> Option<usize> {
        (code.issuer == Issuer::Province(self.province)
            && (code.serial as usize) < self.people.len())
        .then_some(code.serial as usize)
    }

    /// Reads the hot record of every person of this province that
    /// `requests` name, by code or by document, in a loop of independent
    /// loads, before they are served: a round's people are scattered over
    /// the province's records and its document index, and served one by
    /// one each began with cache misses waited for alone (a document's
    /// three: the index's control byte, its slot, the record).
    pub fn warm<'a>(&self, requests: impl Iterator<Item = &'a Request>) {
        let mut touched = 0u64;
        for req in requests {
            let person = match req {
                Request::Verify {
                    credential: Credential::IdCard(d),
                    ..
                } => self.serial_of(*d),
                Request::Feed { feed, .. } => feed.person().and_then(|d| self.serial_of(d)),
                // Mostly not there yet: the look-up loads where it will go.
                Request::Apply { identity, .. } => self.serial_of(identity.number),
                _ => req.code().and_then(|c| self.own(c)),
            };
            if let Some(i) = person {
                let p = &self.people[i];
                touched ^= u64::from(p.head) ^ u64::from(p.age);
            }
        }
        std::hint::black_box(touched);
    }

    fn code_of(&self, i: usize) -> CodeId {
        self.key.sign(Issuer::Province(self.province), i as u32)
    }

    /// A request presenting a code of this province whose token this
    /// province's key does not give its serial, or an offline code of this
    /// province whose seal it did not make. Codes of other issuers are the
    /// hub's to check.
    fn forged(&self, req: &Request) -> bool {
        #[cfg(feature = "mutant")]
        if self.rules.mutant() == Some(crate::rules::Mutant::AcceptForgedCodes) {
            return false;
        }
        let own = |c: &CodeId| c.issuer == Issuer::Province(self.province);
        let unsigned = req.code().is_some_and(|c| own(&c) && !self.key.signs(&c));
        let unsealed = match req {
            Request::Verify {
                credential: credential @ Credential::Offline { code, .. },
                ..
            } => own(code) && !self.key.seals(credential),
            _ => false,
        };
        unsigned || unsealed
    }

    fn publish(&mut self, i: usize, at: Minute) {
        let p = &self.people[i];
        let state = self.rules.at(&p.state, at);
        self.publications.push(Publication {
            code: self.code_of(i),
            holder: p.identity(),
            color: state.color(),
            at,
            explanation: self.explanation(&state),
            nat: self.nat_shown(i),
        });
    }

    fn schedule_release(&mut self, i: usize) {
        if let Some(at) = self.rules.release_at(&self.people[i].state) {
            self.releases.push(Reverse((at, i as u32)));
        }
    }

    /// Journals a record about person `i` and evaluates it. A record older
    /// than what the person's state already reflects is replayed from the
    /// journal, so the result does not depend on arrival order.
    fn record(&mut self, i: usize, at: Minute, record: Record, now: Minute) -> u64 {
        let seq = self.journal_append(i, at, record);
        self.note_side(i, at, &record);
        let state = self.people[i].state;
        if at < state.applied() || at < state.since() {
            self.replay(i, now);
        } else {
            let mut state = state;
            let change = self.rules.apply(&mut state, at, &record.fact());
            self.set_state(i, state);
            for (when, _) in change.iter() {
                self.publish(i, when);
            }
        }
        self.schedule_release(i);
        seq
    }

    fn replay(&mut self, i: usize, now: Minute) {
        let mut state = State::default();
        for (_, e) in self.journal.in_time_order(self.people[i].head) {
            self.rules.apply(&mut state, e.at, &e.record.fact());
        }
        self.set_state(i, self.rules.at(&state, now));
        self.publish(i, now);
    }

    /// Side tables that are not part of the rule state.
    fn note_side(&mut self, i: usize, at: Minute, record: &Record) {
        let i = i as u32;
        match *record {
            Record::Nat {
                positive: false,
                institution,
            } => {
                let side = self.side.nat.entry(i).or_default();
                if side.latest_negative.is_none_or(|n| n.at < at) {
                    side.latest_negative = Some(NatShown { at, institution });
                }
            }
            Record::Igg { positive: true } => {
                let side = self.side.nat.entry(i).or_default();
                if side.latest_igg_positive.is_none_or(|t| t < at) {
                    side.latest_igg_positive = Some(at);
                }
            }
            Record::Credit => *self.side.credit.entry(i).or_default() += 1,
            _ => {}
        }
    }

    pub fn handle(&mut self, now: Minute, req: &Request) -> Outcome {
        if self.forged(req) {
            return Outcome::Done(Response::Refused(Refusal::ForgedCode));
        }
        self.advance(now);
        Outcome::Done(match req {
            Request::Apply {
                province,
                identity,
                face_verified,
                national,
            } => {
                if *province != self.province || *national {
                    Response::Refused(Refusal::WrongPlatform)
                } else {
                    self.apply(now, identity, *face_verified)
                }
            }
            Request::ApplyFamily {
                proxy,
                member,
                relation,
            } => self.apply_family(now, *proxy, member, *relation),
            Request::Declare {
                code,
                temperature,
                symptoms,
                contact,
            } => match self.own(*code) {
                None => Response::Refused(Refusal::NotRegistered),
                Some(i) => {
                    let rec = Record::Declaration {
                        temperature: *temperature,
                        symptoms: *symptoms,
                        contact: *contact,
                    };
                    let seq = self.record(i, now, rec, now);
                    self.recorded(i, seq, now)
                }
            },
            Request::Temperature {
                code,
                temperature,
                place,
            } => match self.own(*code) {
                None => Response::Refused(Refusal::NotRegistered),
                Some(i) => {
                    let rec = Record::Temperature {
                        temperature: *temperature,
                        kind: place.kind,
                    };
                    let seq = self.record(i, now, rec, now);
                    self.recorded(i, seq, now)
                }
            },
            Request::Verify {
                credential,
                place,
                temperature,
            } => return self.verify(now, credential, place, *temperature),
            Request::PlaceScan {
                code,
                place,
                temperature,
            } => match self.own(*code) {
                None => {
                    return Outcome::NeedsHub(HubQuery {
                        from: self.province,
                        lookup: HubLookup::Code(*code),
                    })
                }
                Some(i) => {
                    let rec = Record::place_scan(*temperature, *place);
                    self.record(i, now, rec, now);
                    Response::Verdict(self.verdict(i, now))
                }
            },
            Request::Query { code } => match self.own(*code) {
                None => Response::Refused(Refusal::NotRegistered),
                Some(i) => self.health(i, now),
            },
            Request::Offline { code } => match self.own(*code) {
                None => Response::Refused(Refusal::NotRegistered),
                Some(i) => {
                    let color = self.rules.at(&self.people[i].state, now).color();
                    Response::OfflineCode {
                        code: *code,
                        issued: now,
                        color,
                        seal: self.key.seal(code, now, color),
                    }
                }
            },
            Request::Records { code } => match self.records_of(*code) {
                None => Response::Refused(Refusal::NotRegistered),
                Some(records) => Response::Records {
                    code: *code,
                    records,
                },
            },
            Request::Feed { feed, .. } => self.feed(now, feed),
            // The international version is served by the national hub.
            Request::IntlDeclare { .. } | Request::IntlStatus { .. } | Request::Inbound(_) => {
                Response::Refused(Refusal::WrongPlatform)
            }
        })
    }

    fn recorded(&self, i: usize, seq: u64, now: Minute) -> Response {
        Response::Recorded {
            seq,
            color: self.rules.at(&self.people[i].state, now).color(),
        }
    }

    fn verify(
        &mut self,
        now: Minute,
        credential: &Credential,
        place: &Place,
        temperature: Option<crate::api::DeciCelsius>,
    ) -> Outcome {
        // An expired offline code is never passed, whoever issued it.
        if let Credential::Offline { issued, .. } = credential {
            let hours = self.rules.offline_valid_hours();
            #[cfg(feature = "mutant")]
            let hours = match self.rules.mutant() {
                Some(crate::rules::Mutant::OfflineExpiresLate) => hours + 24,
                _ => hours,
            };
            let expires = issued.plus_hours(hours);
            if *issued > now || now >= expires {
                return Outcome::Done(Response::Refused(Refusal::OfflineExpired));
            }
        }
        let local = match credential {
            Credential::Code(c) | Credential::Offline { code: c, .. } => self.own(*c),
            Credential::IdCard(d) => self.serial_of(*d),
        };
        let Some(i) = local else {
            // The hub holds the issuer's key: it checks the token and, for
            // an offline code, the seal.
            let lookup = match *credential {
                Credential::Code(c) => HubLookup::Code(c),
                Credential::Offline {
                    code,
                    issued,
                    color,
                    seal,
                } => HubLookup::Offline {
                    code,
                    issued,
                    color,
                    seal,
                },
                Credential::IdCard(d) => HubLookup::Document(d),
            };
            return Outcome::NeedsHub(HubQuery {
                from: self.province,
                lookup,
            });
        };
        if let Some(t) = temperature.filter(|t| self.rules.checkpoint_reading_matters(*t)) {
            let rec = Record::CheckpointTemperature {
                temperature: t,
                kind: place.kind,
            };
            self.record(i, now, rec, now);
        }
        Outcome::Done(Response::Verdict(self.verdict(i, now)))
    }

    /// Completes a verification that needed the hub: the issuer's color,
    /// treated as the recognition policy says for this province, decided
    /// under this province's checkpoint table.
    pub fn finish_remote(&mut self, _now: Minute, query: &HubQuery, answer: HubAnswer) -> Response {
        let _ = query;
        match answer {
            HubAnswer::Status {
                code,
                holder,
                color,
                explanation,
                nat,
            } => {
                let treated = self.recognition.treat(code.issuer, self.province, color);
                #[cfg(feature = "mutant")]
                let treated = match self.rules.mutant() {
                    Some(crate::rules::Mutant::RecognitionUnmapped) => color,
                    _ => treated,
                };
                Response::Verdict(Verdict {
                    color,
                    issuer: code.issuer,
                    decision: self.rules.checkpoint_decision(treated),
                    holder,
                    explanation,
                    nat,
                    via_hub: true,
                    resume_work: None,
                })
            }
            HubAnswer::Unknown => Response::Refused(Refusal::NotRegistered),
            HubAnswer::Forged => Response::Refused(Refusal::ForgedCode),
            // Never a green it cannot justify: without the hub, busy or a
            // referral to a manual check, as the policy says.
            HubAnswer::Unreachable => match self.recognition.unreachable(self.province) {
                Unreachable::Busy => Response::Busy,
                Unreachable::Refer => Response::Refused(Refusal::HubUnreachable),
            },
        }
    }
}

#[cfg(test)]
mod tests;
