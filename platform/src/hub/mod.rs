//! The national platform hub: provincial platforms publish status changes to
//! it, and a province asks it about codes it did not issue. It also issues
//! the national code (防疫健康信息码, `national`), serves the international
//! version's declarations and the inbound-traveller services (`inbound`).

mod inbound;
mod national;

use crate::api::{
    CodeId, Credential, Explanation, Feed, Issuer, NatShown, Refusal, Request, Response,
};
use crate::color::{Color, ALL_COLORS};
use crate::doc_index::DocIndex;
use crate::identity::{DocKind, DocNumber, Identity, MaskedIdentity, NameCode, NumberWords};
use crate::international::IntlDeclarations;
use crate::region::{ProvinceId, PROVINCE_COUNT};
use crate::rules::{IntlParams, RuleSet};
use crate::time::Minute;
use crate::token::{CodeKeys, Token};
use bitcode::{Decode, Encode};
use inbound::Inbound;
use national::NationalCodes;
use rustc_hash::FxHashMap;

/// A status change a provincial platform sends to the hub. It carries the
/// holder's full identity: the hub is a platform too, and masks the holder
/// only in what it answers.
#[derive(Clone, Debug, PartialEq, Encode, Decode)]
pub struct Publication {
    pub code: CodeId,
    pub holder: Identity,
    pub color: Color,
    pub at: Minute,
    pub explanation: Option<Explanation>,
    pub nat: Option<NatShown>,
}

/// What a receiving province asks the hub.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum HubLookup {
    Code(CodeId),
    /// An offline code shown at a checkpoint: its token and its seal are
    /// checked before its status is given.
    Offline {
        code: CodeId,
        issued: Minute,
        color: Color,
        seal: Token,
    },
    Document(DocNumber),
}

impl HubLookup {
    /// The code the lookup presents (none for a document).
    pub fn code(&self) -> Option<CodeId> {
        match *self {
            HubLookup::Code(c) | HubLookup::Offline { code: c, .. } => Some(c),
            HubLookup::Document(_) => None,
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct HubQuery {
    pub from: ProvinceId,
    pub lookup: HubLookup,
}

#[derive(Clone, Debug, PartialEq, Encode, Decode)]
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
    /// The code's token is not the one its issuer's key gives the serial.
    Forged,
    /// The hub could not be reached in time (partition, overload).
    Unreachable,
}

/// A status as the hub answers it.
struct Status {
    holder: MaskedIdentity,
    color: Color,
    explanation: Option<Explanation>,
    nat: Option<NatShown>,
}

/// The hub's record of one published code: a national table holds one per
/// citizen, so it is kept to 16 bytes and the rare parts (explanation, NAT
/// result) live in `Hub::extras`.
#[derive(Copy, Clone)]
struct Published {
    number: NumberWords,
    name: NameCode,
    age: u8,
    color: u8,
    flags: u8,
    _spare: u8,
}

const PRESENT: u8 = 1;
const PASSPORT: u8 = 2;
/// `Hub::extras` holds an explanation or NAT result for this code.
const EXTRAS: u8 = 4;

impl Published {
    /// No status published for this serial yet.
    const ABSENT: Published = Published {
        number: NumberWords::ZERO,
        name: NameCode(0),
        age: 0,
        color: 0,
        flags: 0,
        _spare: 0,
    };

    fn new(p: &Publication, has_extras: bool) -> Published {
        let h = &p.holder;
        let mut flags = PRESENT;
        if h.doc == DocKind::Passport {
            flags |= PASSPORT;
        }
        if has_extras {
            flags |= EXTRAS;
        }
        Published {
            number: h.number.into(),
            name: h.name,
            age: h.age,
            color: p.color.index() as u8,
            flags,
            _spare: 0,
        }
    }

    fn present(&self) -> bool {
        self.flags & PRESENT != 0
    }

    fn number(&self) -> DocNumber {
        self.number.get()
    }

    fn holder(&self) -> Identity {
        Identity {
            doc: if self.flags & PASSPORT != 0 {
                DocKind::Passport
            } else {
                DocKind::IdCard
            },
            number: self.number(),
            name: self.name,
            age: self.age,
        }
    }

    fn color(&self) -> Color {
        ALL_COLORS[self.color as usize]
    }
}

/// A published status's rare parts.
type Extras = (Option<Explanation>, Option<NatShown>);
/// What a publication does to `Hub::extras`: set (`Some`) or clear (`None`)
/// the entry of (issuer slot, serial).
type ExtrasChange = ((u8, u32), Option<Extras>);

/// Publications in a round from which the hub updates its tables on the
/// pool: below it, splitting the work costs more than it saves.
const PUBLISH_ON_POOL_MIN: usize = 4096;

/// Writes `p` into its issuer's status table; returns the change to the
/// extras it needs, if any.
fn set_status(table: &mut Vec<Published>, slot: usize, p: &Publication) -> Option<ExtrasChange> {
    let i = p.code.serial as usize;
    if table.len() <= i {
        table.resize(i + 1, Published::ABSENT);
    }
    let has_extras = p.explanation.is_some() || p.nat.is_some();
    let key = (slot as u8, p.code.serial);
    let change = if has_extras {
        Some((key, Some((p.explanation.clone(), p.nat))))
    } else if table[i].flags & EXTRAS != 0 {
        Some((key, None))
    } else {
        None
    };
    table[i] = Published::new(p, has_extras);
    change
}

/// `Hub::by_document` packs a code into a `u32`: the issuer slot in the top
/// bits, the serial below. Serials that do not fit (more than 134 M codes
/// from one issuer) go to `Hub::by_document_wide` instead.
const SERIAL_BITS: u32 = 27;
const SERIAL_MASK: u32 = (1 << SERIAL_BITS) - 1;
const _: () = assert!(PROVINCE_COUNT < 1 << (32 - SERIAL_BITS));

/// What the hub counts, for the run report (also served over HTTP, so a
/// run against a remote platform reports the same figures).
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, Encode, Decode,
)]
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
    by_issuer: Vec<Vec<Published>>,
    /// Explanations and NAT results, keyed by (issuer slot, serial); most
    /// published statuses have neither.
    extras: FxHashMap<(u8, u32), Extras>,
    /// Document → packed code (`SERIAL_BITS`) of the first code published
    /// for it; the document is read from the code's record.
    by_document: DocIndex,
    by_document_wide: FxHashMap<DocNumber, CodeId>,
    national: NationalCodes,
    intl: IntlDeclarations,
    inbound: Inbound,
    /// Feeds the hub sends to provincial platforms (same-flight contact
    /// designations), delivered by the adapter before the next requests.
    outgoing: Vec<(ProvinceId, Feed)>,
    pub queries: u64,
    /// Every platform's key: the hub signs national codes and checks the
    /// codes of every issuer it is asked about.
    keys: CodeKeys,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    /// Makes room for the codes each province will publish (index =
    /// `ProvinceId`), so registration neither regrows the status tables nor
    /// rehashes the document index.
    pub fn reserve(&mut self, per_province: &[usize]) {
        for (table, &n) in self.by_issuer.iter_mut().zip(per_province) {
            table.reserve_exact(n.saturating_sub(table.len()));
        }
        let by_issuer = &self.by_issuer;
        self.by_document
            .reserve(per_province.iter().sum(), |c| Self::number_at(by_issuer, c));
    }

    /// A hub whose national code uses green/yellow/red and whose
    /// international version uses the default parameters.
    pub fn new() -> Hub {
        Hub {
            by_issuer: vec![Vec::new(); PROVINCE_COUNT + 1],
            extras: FxHashMap::default(),
            by_document: DocIndex::default(),
            by_document_wide: FxHashMap::default(),
            national: NationalCodes::new(vec![Color::Green, Color::Yellow, Color::Red]),
            intl: IntlDeclarations::new(IntlParams::default()),
            inbound: Inbound::default(),
            outgoing: Vec::new(),
            queries: 0,
            keys: CodeKeys::default(),
        }
    }

    /// Signs and checks codes with `keys` (the same the provinces were
    /// given their own key from).
    pub fn with_code_keys(mut self, keys: CodeKeys) -> Hub {
        self.keys = keys;
        self
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
        if !self.keys.admits(req) {
            return Response::Refused(Refusal::ForgedCode);
        }
        match req {
            Request::Apply {
                identity,
                national: true,
                ..
            } => {
                let code = self
                    .keys
                    .sign(Issuer::National, self.national.apply(identity));
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
                        seal: self.keys.seal(code, now, s.color),
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
                Ok((seq, status)) => Response::IntlRecorded {
                    seq,
                    status: Box::new(status),
                },
                Err(r) => Response::Refused(r),
            },
            Request::IntlStatus { account, subject } => {
                match self.intl.status(now, *account, *subject) {
                    Ok(s) => Response::IntlStatus(Box::new(s)),
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

    fn issuer_of(slot: usize) -> Issuer {
        if slot == PROVINCE_COUNT {
            Issuer::National
        } else {
            Issuer::Province(ProvinceId(slot as u8))
        }
    }

    fn unpack(&self, packed: u32) -> CodeId {
        let issuer = Self::issuer_of((packed >> SERIAL_BITS) as usize);
        self.keys.sign(issuer, packed & SERIAL_MASK)
    }

    /// Bytes the status tables and the document index hold on the heap,
    /// not counting the rare explanations and NAT results.
    pub fn heap_bytes(&self) -> usize {
        self.by_issuer
            .iter()
            .map(|t| t.capacity() * std::mem::size_of::<Published>())
            .sum::<usize>()
            + self.by_document.heap_bytes()
            + self.national.heap_bytes()
    }

    pub fn publish(&mut self, p: &Publication) {
        let slot = Self::slot(p.code.issuer);
        if let Some((key, extras)) = set_status(&mut self.by_issuer[slot], slot, p) {
            self.set_extras(key, extras);
        }
        let number = p.holder.number;
        if p.code.serial > SERIAL_MASK {
            if self.document_code(number).is_none() {
                self.by_document_wide.insert(number, p.code);
            }
            return;
        }
        if !self.by_document_wide.is_empty() && self.by_document_wide.contains_key(&number) {
            return;
        }
        let packed = ((slot as u32) << SERIAL_BITS) | p.code.serial;
        let by_issuer = &self.by_issuer;
        self.by_document
            .insert(number, packed, |c| Self::number_at(by_issuer, c));
    }

    /// `publish` of each publication in order, with the issuers' tables,
    /// then the document index's shards, updated on `pool` side by side:
    /// each issuer's table and each shard sees its publications in order,
    /// and nothing else reads them meanwhile, so the hub ends as one by
    /// one. A code's holder never changes, so the index may resolve codes
    /// against the tables as they stand at the end.
    pub fn publish_all(&mut self, publications: &[Publication], pool: Option<&rayon::ThreadPool>) {
        use rayon::prelude::*;
        // Wide serials interleave two indexes; they only occur past 134 M
        // codes of one issuer, where the order matters more than the time.
        let wide = !self.by_document_wide.is_empty()
            || publications.iter().any(|p| p.code.serial > SERIAL_MASK);
        let pool = match pool {
            Some(pool) if !wide && publications.len() >= PUBLISH_ON_POOL_MIN => pool,
            _ => {
                publications.iter().for_each(|p| self.publish(p));
                return;
            }
        };
        let mut by_slot: Vec<Vec<&Publication>> = vec![Vec::new(); self.by_issuer.len()];
        for p in publications {
            by_slot[Self::slot(p.code.issuer)].push(p);
        }
        let extras: Vec<Vec<ExtrasChange>> = pool.install(|| {
            self.by_issuer
                .par_iter_mut()
                .zip(by_slot)
                .enumerate()
                .map(|(slot, (table, publications))| {
                    publications
                        .into_iter()
                        .filter_map(|p| set_status(table, slot, p))
                        .collect()
                })
                .collect()
        });
        // Keyed by issuer slot, so no two slots' changes touch one entry.
        for (key, change) in extras.into_iter().flatten() {
            self.set_extras(key, change);
        }
        let entries: Vec<(DocNumber, u32)> = publications
            .iter()
            .map(|p| {
                let slot = Self::slot(p.code.issuer) as u32;
                (p.holder.number, (slot << SERIAL_BITS) | p.code.serial)
            })
            .collect();
        let by_issuer = &self.by_issuer;
        self.by_document
            .insert_all(&entries, |c| Self::number_at(by_issuer, c), Some(pool));
    }

    fn set_extras(&mut self, key: (u8, u32), change: Option<Extras>) {
        match change {
            Some(extras) => {
                self.extras.insert(key, extras);
            }
            None => {
                self.extras.remove(&key);
            }
        }
    }

    fn number_at(by_issuer: &[Vec<Published>], packed: u32) -> DocNumber {
        by_issuer[(packed >> SERIAL_BITS) as usize][(packed & SERIAL_MASK) as usize].number()
    }

    /// The first code published for a document.
    fn document_code(&self, d: DocNumber) -> Option<CodeId> {
        let by_issuer = &self.by_issuer;
        self.by_document
            .get(d, |c| Self::number_at(by_issuer, c))
            .map(|c| self.unpack(c))
            .or_else(|| self.by_document_wide.get(&d).copied())
    }

    pub fn query(&mut self, q: &HubQuery) -> HubAnswer {
        self.queries += 1;
        self.answer(q)
    }

    /// `query`'s answer, without counting it: many can be answered at once.
    pub fn answer(&self, q: &HubQuery) -> HubAnswer {
        let code = match q.lookup {
            HubLookup::Code(c) if !self.keys.signs(&c) => return HubAnswer::Forged,
            HubLookup::Code(c) => c,
            HubLookup::Offline {
                code,
                issued,
                color,
                seal,
            } => {
                let shown = Credential::Offline {
                    code,
                    issued,
                    color,
                    seal,
                };
                if !self.keys.vouches(&shown) {
                    return HubAnswer::Forged;
                }
                code
            }
            HubLookup::Document(d) => match self.document_code(d) {
                Some(c) => c,
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
            let holder = self.national.get(code.serial)?;
            let provincial = self
                .document_code(holder.number)
                .and_then(|c| self.provincial(c).map(|r| (c, r)));
            return Some(match provincial {
                Some((c, r)) => {
                    let (explanation, nat) = self.extras_of(c, &r);
                    Status {
                        holder: holder.masked(),
                        color: self.national.in_scheme(r.color()),
                        explanation,
                        nat,
                    }
                }
                None => Status {
                    holder: holder.masked(),
                    color: Color::Green,
                    explanation: None,
                    nat: None,
                },
            });
        }
        let r = self.provincial(code)?;
        let (explanation, nat) = self.extras_of(code, &r);
        Some(Status {
            holder: r.holder().masked(),
            color: r.color(),
            explanation,
            nat,
        })
    }

    fn provincial(&self, code: CodeId) -> Option<Published> {
        self.by_issuer[Self::slot(code.issuer)]
            .get(code.serial as usize)
            .filter(|r| r.present())
            .copied()
    }

    fn extras_of(&self, code: CodeId, r: &Published) -> (Option<Explanation>, Option<NatShown>) {
        if r.flags & EXTRAS == 0 {
            return (None, None);
        }
        self.extras
            .get(&(Self::slot(code.issuer) as u8, code.serial))
            .cloned()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
