//! The population's codes before the clock starts: every citizen but the
//! newcomers applies (`agents::registration`), against the platform itself
//! rather than the capacity model, so registration is neither load nor
//! time of the run, as in `load`. The oracle and the observer see these
//! exchanges like any other, so a checked citizen is followed from their
//! first code. What was issued reaches each shard as its first delivery.

use super::barrier::Deliveries;
use super::message::{Agent, ShardMsg, Tag};
use super::observer::ExchangeObserver;
use super::EngineError;
use crate::agents::registration::{applications, family_application, first_code_day};
use crate::agents::registration::{Registered, NO_CODE};
use crate::oracle::Oracle;
use crate::scenario::Behaviour;
use crate::world::World;
use hcsim_adapters::Platform;
use hcsim_platform::api::{Refusal, Request, Response};
use hcsim_platform::Minute;

/// Applications per exchange: bounds what is in flight at national scale.
const BATCH: usize = 65_536;

/// What a registration exchange reports to.
pub struct Watchers<'a> {
    pub oracle: Option<&'a mut Oracle>,
    pub observer: &'a mut dyn ExchangeObserver,
    /// Where the oracle tells routine exchanges apart (a whole population
    /// applies here, nearly all of it outside the oracle's sample).
    pub pool: Option<&'a rayon::ThreadPool>,
}

/// Registers everyone who held a code before `now` (the run's start) and
/// returns each shard's `ShardMsg::Registered`.
pub async fn register_population<P: Platform>(
    world: &World,
    behaviour: &Behaviour,
    now: Minute,
    platform: &mut P,
    mut watch: Watchers<'_>,
) -> Result<Deliveries, EngineError> {
    let mut registered: Vec<Registered> = world
        .shards
        .iter()
        .map(|p| Registered::new(p.citizens.len()))
        .collect();
    let local = |id: u32| {
        let shard = world.shard_of_citizen(id);
        (shard, id - world.shards[shard as usize].citizens.start)
    };
    let tag = |id: u32| Tag {
        shard: world.shard_of_citizen(id),
        agent: Agent::Citizen(id),
        aux: 0,
    };

    // Everyone but the newcomers applies, in id order.
    let mut refused = Vec::new();
    let (mut tags, mut requests) = (Vec::with_capacity(BATCH), Vec::with_capacity(BATCH));
    let ids = (0..world.citizens()).filter(|&id| first_code_day(world, behaviour, id).is_none());
    let mut ids = ids.peekable();
    while ids.peek().is_some() {
        tags.clear();
        requests.clear();
        for id in ids.by_ref() {
            for request in applications(world, behaviour, id) {
                tags.push(tag(id));
                requests.push(request);
            }
            if requests.len() >= BATCH {
                break;
            }
        }
        let answers = exchange(world, now, platform, &tags, &requests, &mut watch).await?;
        for ((tag, request), response) in tags.iter().zip(&requests).zip(&answers) {
            let Agent::Citizen(id) = tag.agent else {
                continue;
            };
            let (shard, i) = local(id);
            match (request, response) {
                (
                    Request::Apply {
                        national: false, ..
                    },
                    Response::Refused(Refusal::FaceNotVerified),
                ) => refused.push(id),
                _ => registered[shard as usize].answer(i, response),
            }
        }
    }

    // Those refused for want of face verification: the first adult of
    // their household holding a code applies for them as family.
    let (mut family_tags, mut family) = (Vec::new(), Vec::new());
    for &id in &refused {
        let (shard, i) = local(id);
        let adult = world.people[id as usize]
            .household_members()
            .filter(|&m| m != id && world.people[m as usize].age >= 18)
            .map(|m| (m, registered[shard as usize].codes[local(m).1 as usize]))
            .find(|&(_, serial)| serial != NO_CODE);
        match adult {
            Some((adult, serial)) => {
                family_tags.push(tag(id));
                family.push(family_application(world, adult, serial, id));
            }
            None => registered[shard as usize].waiting_family.push(i),
        }
    }
    for (tags, requests) in family_tags.chunks(BATCH).zip(family.chunks(BATCH)) {
        let answers = exchange(world, now, platform, tags, requests, &mut watch).await?;
        for (tag, response) in tags.iter().zip(&answers) {
            if let Agent::Citizen(id) = tag.agent {
                let (shard, i) = local(id);
                registered[shard as usize].answer(i, response);
            }
        }
    }
    Ok(registered
        .into_iter()
        .map(|r| vec![ShardMsg::Registered(Box::new(r))])
        .collect())
}

async fn exchange<P: Platform>(
    world: &World,
    now: Minute,
    platform: &mut P,
    tags: &[Tag],
    requests: &[Request],
    watch: &mut Watchers<'_>,
) -> Result<Vec<Response>, EngineError> {
    // The platform takes its batch; the watchers read the caller's copy.
    let answers = platform.exchange(now, requests.to_vec()).await?;
    if let Some(oracle) = watch.oracle.as_deref_mut() {
        oracle.observe_on(watch.pool, now, tags, requests, &answers);
    }
    for ((tag, request), response) in tags.iter().zip(requests).zip(&answers) {
        watch.observer.exchange(world, now, tag, request, response);
    }
    Ok(answers)
}
