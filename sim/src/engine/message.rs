//! What crosses a shard boundary: platform replies, visitors arriving at a
//! checkpoint hosted elsewhere, and notices to citizens (the health
//! authority's orders, the platform's text messages).

use bitcode::{Decode, Encode};
use hcsim_platform::api::{Credential, DeciCelsius, Request, Response};
use hcsim_platform::Minute;

/// Where a platform reply goes back to.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Tag {
    pub shard: u32,
    pub agent: Agent,
    /// Agent-specific detail carried through the platform (a checkpoint
    /// keeps the visitor's wait in minutes here).
    pub aux: u32,
}

impl Tag {
    pub const AUTHORITY_SHARD: u32 = u32::MAX;
    pub fn authority() -> Tag {
        Tag {
            shard: Tag::AUTHORITY_SHARD,
            agent: Agent::Authority,
            aux: 0,
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Agent {
    /// Global citizen id.
    Citizen(u32),
    /// Checkpoint index local to the shard.
    Checkpoint(u32),
    /// The carriers' telecom itinerary feed, on behalf of a citizen.
    Telecom,
    Authority,
}

#[derive(Copy, Clone, Debug, PartialEq, Encode, Decode)]
pub struct Visit {
    pub citizen: u32,
    pub credential: Credential,
    pub temperature: DeciCelsius,
    pub arrived: Minute,
}

/// Notices from the health authority to a citizen.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Notice {
    /// Isolate (case or close contact) until this simulated day.
    Isolate { until_day: u32 },
    /// The platform's text message: a fact about the holder (a case in
    /// their building, the end of their quarantine) changed their code.
    ColorChanged,
}

#[derive(Clone, Debug, Encode, Decode)]
pub enum ShardMsg {
    Reply {
        tag: Tag,
        response: Response,
    },
    Arrive {
        checkpoint: u32,
        visit: Visit,
    },
    Notice {
        citizen: u32,
        notice: Notice,
    },
    /// A passenger boards a flight hosted by the receiving shard.
    Board {
        flight: u32,
        passenger: crate::agents::flight::Boarding,
    },
    /// The codes the shard's citizens held before the run started: its
    /// first delivery.
    Registered(Box<crate::agents::registration::Registered>),
}

/// A shard's output for one tick.
#[derive(Default)]
pub struct Outbox {
    pub requests: Vec<(Tag, Request)>,
    /// (destination shard, message), in emission order.
    pub messages: Vec<(u32, ShardMsg)>,
    /// Agent activations and messages handled this tick.
    pub events: u64,
}
