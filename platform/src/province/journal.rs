//! The append-only journal: every declaration, temperature record and fact
//! received about a person, in one vector per platform with a backward chain
//! per person. Nothing is edited or deleted (Guangdong: records cannot be
//! modified; a new one is filed and the latest counts), and the journal is
//! what a late fact is replayed from.

use crate::api::{
    CaseStatus, CheckpointKind, CountyRef, DeciCelsius, Place, QuarantineKind, RecordView,
    RiskLevel,
};
use crate::color::Color;
use crate::rules::Fact;
use crate::time::Minute;
use serde::{Deserialize, Serialize};

/// One journaled record about a person.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Record {
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
    PlaceScan {
        temperature: DeciCelsius,
        place: Place,
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
    Entry {
        origin_country: u16,
        port: CountyRef,
        flight: u32,
    },
    Credit,
    Authority {
        color: Color,
    },
}

impl Record {
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
            Record::Igg { .. } | Record::Entry { .. } | Record::Credit => Fact::Inert,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Record::Registration { .. } => "registration",
            Record::Verification => "face_verification",
            Record::Declaration { .. } => "declaration",
            Record::Temperature { .. } => "temperature",
            Record::PlaceScan { .. } => "place_scan",
            Record::CheckpointTemperature { .. } => "checkpoint_temperature",
            Record::Designation { .. } => "designation",
            Record::Quarantine { .. } => "quarantine",
            Record::Nat { .. } => "nat_result",
            Record::Igg { .. } => "igg_result",
            Record::SameBuilding => "same_building_case",
            Record::Stay { .. } => "stay",
            Record::Entry { .. } => "entry",
            Record::Credit => "credit_violation",
            Record::Authority { .. } => "authority_color",
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

#[derive(Copy, Clone, Debug)]
pub(crate) struct Entry {
    /// The same person's previous entry, or `NO_ENTRY`.
    prev: u32,
    pub at: Minute,
    pub record: Record,
}

#[derive(Default)]
pub(crate) struct Journal {
    entries: Vec<Entry>,
}

impl Journal {
    /// Appends a record to the chain starting at `head`; returns its `seq`
    /// (1-based, unique within the platform).
    pub fn append(&mut self, head: &mut u32, at: Minute, record: Record) -> u64 {
        let index = self.entries.len() as u32;
        self.entries.push(Entry {
            prev: *head,
            at,
            record,
        });
        *head = index;
        index as u64 + 1
    }

    /// A person's entries, newest first, with their `seq`.
    pub fn chain(&self, head: u32) -> impl Iterator<Item = (u64, &Entry)> {
        let mut next = head;
        std::iter::from_fn(move || {
            let e = self.entries.get(next as usize)?;
            let seq = next as u64 + 1;
            next = e.prev;
            Some((seq, e))
        })
    }

    /// A person's entries in the order the rules see them: by fact time,
    /// then by arrival.
    pub fn in_time_order(&self, head: u32) -> Vec<(u64, Entry)> {
        let mut v: Vec<(u64, Entry)> = self.chain(head).map(|(s, e)| (s, *e)).collect();
        v.sort_by_key(|(seq, e)| (e.at, *seq));
        v
    }

    pub fn contains(&self, head: u32, at: Minute, record: &Record) -> bool {
        self.chain(head)
            .any(|(_, e)| e.at == at && e.record == *record)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn reserve(&mut self, additional: usize) {
        self.entries.reserve(additional);
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
