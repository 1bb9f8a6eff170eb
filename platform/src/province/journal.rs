//! The append-only journal: every declaration, temperature record and fact
//! received about a person, in one vector per platform with a backward chain
//! per person. Nothing is edited or deleted (Guangdong: records cannot be
//! modified; a new one is filed and the latest counts), and the journal is
//! what a late fact is replayed from.

use crate::api::{
    CaseStatus, CheckpointKind, CountyRef, DeciCelsius, JournalKind, Place, QuarantineKind,
    RecordView, RiskLevel,
};
use crate::color::Color;
use crate::region::ProvinceId;
use crate::rules::Fact;
use crate::time::Minute;
use bitcode::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// An entry from abroad: the one record wider than 8 bytes, and rare, so
/// the journal keeps it beside the entries (`Journal::abroad`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
pub(crate) struct Abroad {
    pub origin_country: u16,
    pub port: CountyRef,
    pub flight: u32,
}

/// One journaled record about a person. `Record<u32>` is how the journal
/// stores it: 8 bytes, the entry from abroad replaced by its index.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
pub(crate) enum Record<A = Abroad> {
    Registration {
        unverified_minor: bool,
    },
    /// A later, successful face verification.
    Verification,
    Declaration {
        temperature: DeciCelsius,
        symptoms: bool,
        contact: bool,
    },
    /// Taken by staff or a kiosk.
    Temperature {
        temperature: DeciCelsius,
        kind: CheckpointKind,
    },
    /// Qinghai: the person scanned a place code and added a temperature.
    /// The place is spread into its fields: as a `Place` it carries padding
    /// that would make every record 12 bytes.
    PlaceScan {
        temperature: DeciCelsius,
        province: ProvinceId,
        county: u16,
        kind: CheckpointKind,
    },
    /// An abnormal temperature at a code verification.
    CheckpointTemperature {
        temperature: DeciCelsius,
        kind: CheckpointKind,
    },
    Designation {
        status: CaseStatus,
    },
    Quarantine {
        kind: QuarantineKind,
        end: Minute,
    },
    Nat {
        positive: bool,
        institution: u16,
    },
    Igg {
        positive: bool,
    },
    SameBuilding,
    Stay {
        county: CountyRef,
        level: RiskLevel,
    },
    Entry(A),
    Credit,
    Authority {
        color: Color,
    },
}

impl Record {
    pub fn place_scan(temperature: DeciCelsius, place: Place) -> Record {
        Record::PlaceScan {
            temperature,
            province: place.county.province,
            county: place.county.county,
            kind: place.kind,
        }
    }
}

impl<A> Record<A> {
    /// The same record with the payload of an entry from abroad replaced.
    fn map<B>(self, f: impl FnOnce(A) -> B) -> Record<B> {
        match self {
            Record::Registration { unverified_minor } => Record::Registration { unverified_minor },
            Record::Verification => Record::Verification,
            Record::Declaration {
                temperature,
                symptoms,
                contact,
            } => Record::Declaration {
                temperature,
                symptoms,
                contact,
            },
            Record::Temperature { temperature, kind } => Record::Temperature { temperature, kind },
            Record::PlaceScan {
                temperature,
                province,
                county,
                kind,
            } => Record::PlaceScan {
                temperature,
                province,
                county,
                kind,
            },
            Record::CheckpointTemperature { temperature, kind } => {
                Record::CheckpointTemperature { temperature, kind }
            }
            Record::Designation { status } => Record::Designation { status },
            Record::Quarantine { kind, end } => Record::Quarantine { kind, end },
            Record::Nat {
                positive,
                institution,
            } => Record::Nat {
                positive,
                institution,
            },
            Record::Igg { positive } => Record::Igg { positive },
            Record::SameBuilding => Record::SameBuilding,
            Record::Stay { county, level } => Record::Stay { county, level },
            Record::Entry(a) => Record::Entry(f(a)),
            Record::Credit => Record::Credit,
            Record::Authority { color } => Record::Authority { color },
        }
    }

    pub fn fact(&self) -> Fact {
        match *self {
            Record::Registration { unverified_minor } => Fact::Registered { unverified_minor },
            Record::Verification => Fact::Verified,
            Record::Declaration {
                temperature,
                symptoms,
                contact,
            } => Fact::Declare {
                temperature,
                symptoms,
                contact,
            },
            Record::Temperature { temperature, .. }
            | Record::PlaceScan { temperature, .. }
            | Record::CheckpointTemperature { temperature, .. } => Fact::Reading { temperature },
            Record::Designation { status } => Fact::Designation { status },
            Record::Quarantine { kind, end } => Fact::Quarantine { kind, end },
            Record::Nat { positive, .. } => Fact::Nat { positive },
            Record::SameBuilding => Fact::SameBuilding,
            Record::Stay { level, .. } => Fact::Stay { level },
            Record::Authority { color } => Fact::Authority { color },
            Record::Igg { .. } | Record::Entry(_) | Record::Credit => Fact::Inert,
        }
    }

    pub fn kind(&self) -> JournalKind {
        match self {
            Record::Registration { .. } => JournalKind::REGISTRATION,
            Record::Verification => JournalKind::FACE_VERIFICATION,
            Record::Declaration { .. } => JournalKind::DECLARATION,
            Record::Temperature { .. } => JournalKind::TEMPERATURE,
            Record::PlaceScan { .. } => JournalKind::PLACE_SCAN,
            Record::CheckpointTemperature { .. } => JournalKind::CHECKPOINT_TEMPERATURE,
            Record::Designation { .. } => JournalKind::DESIGNATION,
            Record::Quarantine { .. } => JournalKind::QUARANTINE,
            Record::Nat { .. } => JournalKind::NAT_RESULT,
            Record::Igg { .. } => JournalKind::IGG_RESULT,
            Record::SameBuilding => JournalKind::SAME_BUILDING_CASE,
            Record::Stay { .. } => JournalKind::STAY,
            Record::Entry(_) => JournalKind::ENTRY,
            Record::Credit => JournalKind::CREDIT_VIOLATION,
            Record::Authority { .. } => JournalKind::AUTHORITY_COLOR,
        }
    }

    /// Records the person filed (as opposed to data pushed about them).
    pub fn filed(&self) -> bool {
        matches!(
            self,
            Record::Declaration { .. } | Record::Temperature { .. } | Record::PlaceScan { .. }
        )
    }
}

pub(crate) const NO_ENTRY: u32 = u32::MAX;

/// A journal entry as readers see it.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Entry {
    pub at: Minute,
    pub record: Record,
}

/// A journal entry as it is stored: 16 bytes. A national day files about
/// one per citizen, so each byte here is a megabyte per million people.
#[derive(Copy, Clone)]
struct Slot {
    /// The same person's previous entry, or `NO_ENTRY`.
    prev: u32,
    at: Minute,
    record: Record<u32>,
}

const _: () = assert!(std::mem::size_of::<Slot>() == 16);

#[derive(Default)]
pub(crate) struct Journal {
    slots: Vec<Slot>,
    abroad: Vec<Abroad>,
}

impl Journal {
    /// Appends a record to the chain starting at `head`; returns its `seq`
    /// (1-based, unique within the platform).
    pub fn append(&mut self, head: &mut u32, at: Minute, record: Record) -> u64 {
        let index = self.slots.len() as u32;
        let abroad = &mut self.abroad;
        let record = record.map(|a| {
            abroad.push(a);
            abroad.len() as u32 - 1
        });
        self.slots.push(Slot {
            prev: *head,
            at,
            record,
        });
        *head = index;
        index as u64 + 1
    }

    /// A person's entries, newest first, with their `seq`.
    pub fn chain(&self, head: u32) -> impl Iterator<Item = (u64, Entry)> + '_ {
        let mut next = head;
        std::iter::from_fn(move || {
            let s = self.slots.get(next as usize)?;
            let seq = next as u64 + 1;
            next = s.prev;
            let entry = Entry {
                at: s.at,
                record: s.record.map(|a| self.abroad[a as usize]),
            };
            Some((seq, entry))
        })
    }

    /// A person's entries in the order the rules see them: by fact time,
    /// then by arrival.
    pub fn in_time_order(&self, head: u32) -> Vec<(u64, Entry)> {
        let mut v: Vec<(u64, Entry)> = self.chain(head).collect();
        v.sort_by_key(|(seq, e)| (e.at, *seq));
        v
    }

    pub fn contains(&self, head: u32, at: Minute, record: &Record) -> bool {
        self.chain(head)
            .any(|(_, e)| e.at == at && e.record == *record)
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn reserve(&mut self, additional: usize) {
        self.slots.reserve(additional);
    }
}

pub(crate) fn view(seq: u64, e: &Entry) -> RecordView {
    let (temperature, symptoms, contact) = match e.record {
        Record::Declaration {
            temperature,
            symptoms,
            contact,
        } => (Some(temperature), symptoms, contact),
        Record::Temperature { temperature, .. }
        | Record::PlaceScan { temperature, .. }
        | Record::CheckpointTemperature { temperature, .. } => (Some(temperature), false, false),
        _ => (None, false, false),
    };
    RecordView {
        seq,
        at: e.at,
        kind: e.record.kind(),
        temperature,
        symptoms,
        contact,
    }
}
