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

use crate::api::Request;
use crate::hub::{Hub, HubAnswer, HubQuery, Publication};
use crate::hub_link::HubLinks;
use crate::province::{Outcome, ProvincePlatform};
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

impl Handler<ProvinceRound> for ProvinceActor {
    type Result = ProvinceRoundResult;
    fn handle(&mut self, msg: ProvinceRound, _: &mut Context<Self>) -> ProvinceRoundResult {
        let outcomes = msg
            .requests
            .iter()
            .map(|(i, r)| (*i, self.platform.handle(msg.now, r)))
            .collect();
        ProvinceRoundResult {
            outcomes,
            publications: self.platform.drain_publications(),
        }
    }
}

#[derive(Message)]
#[rtype(result = "Vec<(u32, crate::api::Response)>")]
pub struct FinishRound {
    pub now: Minute,
    pub answers: Vec<(u32, HubQuery, HubAnswer)>,
}

impl Handler<FinishRound> for ProvinceActor {
    type Result = MessageResult<FinishRound>;
    fn handle(&mut self, msg: FinishRound, _: &mut Context<Self>) -> Self::Result {
        MessageResult(
            msg.answers
                .into_iter()
                .map(|(i, q, a)| (i, self.platform.finish_remote(msg.now, &q, a)))
                .collect(),
        )
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
}

impl Actor for HubActor {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "Vec<HubAnswer>")]
pub struct HubRound {
    pub now: Minute,
    pub publications: Vec<Publication>,
    pub queries: Vec<HubQuery>,
    /// Each province's link to the hub this round.
    pub links: HubLinks,
}

impl Handler<HubRound> for HubActor {
    type Result = MessageResult<HubRound>;
    fn handle(&mut self, msg: HubRound, _: &mut Context<Self>) -> Self::Result {
        for p in &msg.publications {
            self.hub.publish(p);
        }
        MessageResult(
            msg.queries
                .iter()
                .enumerate()
                .map(|(k, q)| {
                    if msg.links.cut(msg.now, k, q) {
                        HubAnswer::Unreachable
                    } else {
                        msg.links.vouch(q, self.hub.query(q))
                    }
                })
                .collect(),
        )
    }
}
