//! Provinces held by other processes of a run. A province's platform state
//! (its person table, document index and journal, ~60 B a citizen) is the
//! largest part of what the process running the barrier holds; spread over
//! the run's processes, that process keeps the hub and its own share.
//!
//! The barrier still decides everything in the same order: `InProcess`
//! sends each remote province its round's batch (the same batch, in the
//! same order, as a local province would get), the province's process
//! applies it and sends back the outcome, and the answers are merged in
//! province order. A province's state evolves exactly as it would in one
//! process, so the run's results do not depend on where it is held.

use crate::port::PortError;
use bitcode::{Decode, Encode};
use hcsim_platform::actors::{FinishRound, ProvinceRound};
use hcsim_platform::api::{Request, Response};
use hcsim_platform::hub::{HubAnswer, HubQuery, Publication};
use hcsim_platform::province::{Outcome, ProvincePlatform};
use hcsim_platform::{Minute, ProvinceId};

/// What the barrier asks of a province held elsewhere.
#[derive(Clone, Debug, Encode, Decode)]
pub enum HostWork {
    /// Round 1: the province's requests of the exchange, tagged.
    Round {
        now: Minute,
        requests: Vec<(u32, Request)>,
    },
    /// Round 3: the hub's answers to the province's questions.
    Finish {
        now: Minute,
        answers: Vec<(u32, HubQuery, HubAnswer)>,
    },
    /// Its people by color.
    Census { now: Minute },
}

/// A request's outcome as it crosses processes.
#[derive(Clone, Debug, Encode, Decode)]
pub enum WireOutcome {
    Done(Response),
    NeedsHub(HubQuery),
}

/// A tagged answer as it crosses processes.
#[derive(Clone, Debug, Encode, Decode)]
pub struct Answered(pub u32, pub Response);

/// What a province held elsewhere answers `HostWork`.
#[derive(Clone, Debug, Encode, Decode)]
pub enum HostDone {
    Round {
        outcomes: Vec<(u32, WireOutcome)>,
        publications: Vec<Publication>,
    },
    Finish(Vec<Answered>),
    Census([u64; 5]),
    /// The process asked does not hold the province: the processes of the
    /// run disagree on where provinces are (another version, another
    /// scenario).
    NotHeld,
}

/// Applies `work` to `platform`: what the process holding a province does
/// with each piece of work it receives.
pub fn serve(platform: &mut ProvincePlatform, work: HostWork) -> HostDone {
    match work {
        HostWork::Round { now, requests } => {
            let result = ProvinceRound { now, requests }.apply(platform);
            HostDone::Round {
                outcomes: result
                    .outcomes
                    .into_iter()
                    .map(|(i, o)| (i, o.into()))
                    .collect(),
                publications: result.publications,
            }
        }
        HostWork::Finish { now, answers } => HostDone::Finish(
            FinishRound { now, answers }
                .apply(platform)
                .into_iter()
                .map(|(i, r)| Answered(i, r))
                .collect(),
        ),
        HostWork::Census { now } => HostDone::Census(platform.census(now)),
    }
}

/// The other processes holding provinces, as the barrier's process reaches
/// them.
pub trait ProvinceHosts: Send {
    /// Whether `province` is held by another process.
    fn remote(&self, province: ProvinceId) -> bool;

    /// Sends each province its work; `receive` gives the answers.
    fn send(&mut self, work: Vec<(ProvinceId, HostWork)>) -> Result<(), PortError>;

    /// The answers to the last `send`, in the order of its work.
    fn receive(&mut self) -> Result<Vec<HostDone>, PortError>;
}

/// A `HostDone` that is not the kind of answer the work asked for: a
/// process that does not hold the province, or of another version.
pub fn mismatch(province: ProvinceId) -> PortError {
    PortError::Unavailable(format!(
        "{}: the process sent its work does not hold it or answered another kind of work \
         (were all processes started with the same scenario and flags?)",
        province.key()
    ))
}

impl From<WireOutcome> for Outcome {
    fn from(o: WireOutcome) -> Outcome {
        match o {
            WireOutcome::Done(r) => Outcome::Done(r),
            WireOutcome::NeedsHub(q) => Outcome::NeedsHub(q),
        }
    }
}

impl From<Outcome> for WireOutcome {
    fn from(o: Outcome) -> WireOutcome {
        match o {
            Outcome::Done(r) => WireOutcome::Done(r),
            Outcome::NeedsHub(q) => WireOutcome::NeedsHub(q),
        }
    }
}
