//! The platforms as actix actors: one per province plus the hub.
//!
//! A tick's exchange is three rounds, so that a cross-province scan is
//! answered within the tick without any actor waiting on another:
//! 1. each province handles its requests (`ProvinceRound`), answering local
//!    ones and turning the rest into hub queries, and hands over its status
//!    publications;
//! 2. the hub applies all publications, then answers all queries (`HubRound`);
//! 3. each province completes its pending verifications (`FinishRound`).
//!
//! Messages carry whole batches, so actor overhead is per tick, not per scan.

use crate::api::{Feed, Request, Response};
use crate::hub::{Hub, HubAnswer, HubCounters, HubQuery, Publication};
use crate::hub_link::{HubLink, HubLinks};
use crate::province::{Outcome, ProvincePlatform};
use crate::region::ProvinceId;
use crate::time::Minute;
use actix::prelude::*;

pub struct ProvinceActor {
    pub platform: ProvincePlatform,
}

impl Actor for ProvinceActor {
    type Context = Context<Self>;
}

/// Requests for one province, each tagged with the caller's index.
#[derive(Message)]
#[rtype(result = "ProvinceRoundResult")]
pub struct ProvinceRound {
    pub now: Minute,
    pub requests: Vec<(u32, Request)>,
}

#[derive(MessageResponse)]
pub struct ProvinceRoundResult {
    pub outcomes: Vec<(u32, Outcome)>,
    pub publications: Vec<Publication>,
}

impl ProvinceRound {
    /// The round on `platform`, by whoever owns it this tick (its actor,
    /// or the engine's worker that holds the province).
    pub fn apply(self, platform: &mut ProvincePlatform) -> ProvinceRoundResult {
        platform.warm(self.requests.iter().map(|(_, r)| r));
        let outcomes = self
            .requests
            .iter()
            .map(|(i, r)| (*i, platform.handle(self.now, r)))
            .collect();
        ProvinceRoundResult {
            outcomes,
            publications: platform.drain_publications(),
        }
    }
}

impl Handler<ProvinceRound> for ProvinceActor {
    type Result = ProvinceRoundResult;
    fn handle(&mut self, msg: ProvinceRound, _: &mut Context<Self>) -> ProvinceRoundResult {
        msg.apply(&mut self.platform)
    }
}

#[derive(Message)]
#[rtype(result = "Vec<(u32, crate::api::Response)>")]
pub struct FinishRound {
    pub now: Minute,
    pub answers: Vec<(u32, HubQuery, HubAnswer)>,
}

impl FinishRound {
    pub fn apply(self, platform: &mut ProvincePlatform) -> Vec<(u32, crate::api::Response)> {
        self.answers
            .into_iter()
            .map(|(i, q, a)| (i, platform.finish_remote(self.now, &q, a)))
            .collect()
    }
}

impl Handler<FinishRound> for ProvinceActor {
    type Result = MessageResult<FinishRound>;
    fn handle(&mut self, msg: FinishRound, _: &mut Context<Self>) -> Self::Result {
        MessageResult(msg.apply(&mut self.platform))
    }
}

#[derive(Message)]
#[rtype(result = "[u64; 5]")]
pub struct Census {
    pub now: Minute,
}

impl Handler<Census> for ProvinceActor {
    type Result = MessageResult<Census>;
    fn handle(&mut self, msg: Census, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.platform.census(msg.now))
    }
}

pub struct HubActor {
    pub hub: Hub,
    /// Publications of provinces cut off from the hub, delivered once the
    /// link is back, in the order they were made.
    pub backlog: Vec<Publication>,
}

impl HubActor {
    pub fn new(hub: Hub) -> HubActor {
        HubActor {
            hub,
            backlog: Vec::new(),
        }
    }
}

impl Actor for HubActor {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "HubRoundResult")]
pub struct HubRound {
    pub now: Minute,
    pub publications: Vec<Publication>,
    pub queries: Vec<HubQuery>,
    /// Requests the hub serves itself (national code, international
    /// version, inbound services), in request order.
    pub requests: Vec<Request>,
    /// Copies of national data feeds, with the province they were sent to.
    pub feeds: Vec<(Option<ProvinceId>, Feed)>,
    /// Each province's link to the hub this round. A province cut off gets
    /// `Unreachable` for its queries and its publications wait; a slow link
    /// past its timeout is cut for that query.
    pub links: HubLinks,
}

#[derive(MessageResponse)]
pub struct HubRoundResult {
    /// One per query.
    pub answers: Vec<HubAnswer>,
    /// One per hub request.
    pub responses: Vec<Response>,
    /// Feeds the hub sends to provinces (same-flight contact designations).
    pub outgoing: Vec<(ProvinceId, Feed)>,
}

fn link_up(links: &HubLinks, issuer: crate::api::Issuer) -> bool {
    match issuer {
        crate::api::Issuer::Province(p) => links.get(p) != HubLink::Partitioned,
        crate::api::Issuer::National => true,
    }
}

impl Handler<HubRound> for HubActor {
    type Result = HubRoundResult;
    fn handle(&mut self, msg: HubRound, _: &mut Context<Self>) -> HubRoundResult {
        self.round(msg)
    }
}

impl HubActor {
    /// The hub's round, by whoever owns the hub this tick.
    pub fn round(&mut self, msg: HubRound) -> HubRoundResult {
        self.round_on(msg, None)
    }

    /// The hub's round, its publications and queries spread over `pool`
    /// when given. Publications apply in order, then feeds and the hub's
    /// own requests in order (they change what queries see), then the
    /// queries, which only read: the answers do not depend on the pool.
    pub fn round_on(&mut self, msg: HubRound, pool: Option<&rayon::ThreadPool>) -> HubRoundResult {
        let links = msg.links;
        let (ready, waiting): (Vec<Publication>, Vec<Publication>) =
            std::mem::take(&mut self.backlog)
                .into_iter()
                .chain(msg.publications)
                .partition(|p| link_up(&links, p.code.issuer));
        self.hub.publish_all(&ready, pool);
        self.backlog = waiting;
        for (to, feed) in &msg.feeds {
            self.hub.note_feed(*to, feed);
        }
        let responses = msg
            .requests
            .iter()
            .map(|r| self.hub.handle(msg.now, r))
            .collect();
        let hub = &self.hub;
        let answer = |(k, q): (usize, &HubQuery)| {
            if links.cut(msg.now, k, q) {
                (HubAnswer::Unreachable, false)
            } else {
                (links.vouch(q, hub.answer(q)), true)
            }
        };
        let answered: Vec<(HubAnswer, bool)> = match pool {
            Some(pool) if msg.queries.len() >= QUERIES_ON_POOL_MIN => pool.install(|| {
                use rayon::prelude::*;
                msg.queries.par_iter().enumerate().map(answer).collect()
            }),
            _ => msg.queries.iter().enumerate().map(answer).collect(),
        };
        let mut answers = Vec::with_capacity(answered.len());
        for (a, asked) in answered {
            self.hub.queries += u64::from(asked);
            answers.push(a);
        }
        HubRoundResult {
            answers,
            responses,
            outgoing: self.hub.drain_outgoing(),
        }
    }
}

/// Queries in a round from which the hub answers them on the pool.
const QUERIES_ON_POOL_MIN: usize = 64;

/// The hub's counters, for the run report.
#[derive(Message)]
#[rtype(result = "HubCounters")]
pub struct HubStats;

impl Handler<HubStats> for HubActor {
    type Result = MessageResult<HubStats>;
    fn handle(&mut self, _: HubStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.hub.counters())
    }
}
