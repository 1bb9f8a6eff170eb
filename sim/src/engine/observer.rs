//! What the engine shows to whoever watches a run's platform exchanges. The
//! trait lives with the engine that calls it: features that observe a run
//! (the policy diff's per-citizen histories, the oracle bench) implement it,
//! and the engine imports none of them.

use super::message::Tag;
use crate::world::World;
use hcsim_platform::api::{Request, Response};
use hcsim_platform::Minute;

/// Sees every platform exchange of a run, with the tag saying on whose
/// behalf the request went. The engine calls it at the tick barrier in the
/// order it routes replies, which is deterministic, on whichever thread of
/// the run's pool is free (hence `Send`).
pub trait ExchangeObserver: Send {
    fn exchange(
        &mut self,
        world: &World,
        now: Minute,
        tag: &Tag,
        request: &Request,
        response: &Response,
    );
}

/// Runs that nobody watches.
impl ExchangeObserver for () {
    fn exchange(&mut self, _: &World, _: Minute, _: &Tag, _: &Request, _: &Response) {}
}
