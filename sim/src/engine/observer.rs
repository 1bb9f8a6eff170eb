//! What the engine shows to whoever watches a run's platform exchanges. The
//! traits live with the engine that calls them: features that observe a run
//! (the policy diff's per-citizen histories, the oracle bench, the rule
//! oracle) implement them, and the engine imports none of them.

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

/// Reads a tick's exchanges whole, the i-th response answering the i-th
/// request: the rule oracle. Nothing in the run acts on what it finds, so
/// the engine may hand it a tick late, beside the next one, and on the
/// run's pool (`pool`) for it to split its reading.
pub trait TickChecker: Send {
    fn check_tick(
        &mut self,
        pool: Option<&rayon::ThreadPool>,
        now: Minute,
        tags: &[Tag],
        requests: &[Request],
        responses: &[Response],
    );
}

/// How the engine holds its checker: the checker owns what it reads
/// (`'static`), so borrowing it again for each tick does not tie the
/// borrow to the object's own lifetime.
pub type Checker<'a> = &'a mut (dyn TickChecker + 'static);

/// Runs that nobody watches.
impl ExchangeObserver for () {
    fn exchange(&mut self, _: &World, _: Minute, _: &Tag, _: &Request, _: &Response) {}
}
