//! The national platform hub: provincial platforms publish status changes to
//! it, and a province asks it about codes it did not issue.

use crate::api::{CodeId, Explanation, Issuer, NatShown};
use crate::color::Color;
use crate::identity::{DocNumber, MaskedIdentity};
use crate::region::{ProvinceId, PROVINCE_COUNT};
use crate::time::Minute;
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

#[derive(Default)]
pub struct Hub {
    /// Status per issuer, indexed by serial.
    by_issuer: Vec<Vec<Option<Status>>>,
    by_document: FxHashMap<DocNumber, CodeId>,
    pub queries: u64,
}

impl Hub {
    pub fn new() -> Hub {
        Hub {
            by_issuer: vec![Vec::new(); PROVINCE_COUNT + 1],
            ..Default::default()
        }
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
        match self.by_issuer[Self::slot(code.issuer)].get(code.serial as usize) {
            Some(Some(s)) => HubAnswer::Status {
                code,
                holder: s.holder,
                color: s.color,
                explanation: s.explanation.clone(),
                nat: s.nat,
            },
            _ => HubAnswer::Unknown,
        }
    }
}
