//! The population's codes before the clock starts: every citizen but the
//! newcomers applies (`agents::registration`), against the platform itself
//! rather than the capacity model, so registration is neither load nor
//! time of the run, as in `load`. The oracle and the observer see these
//! exchanges like any other, so a checked citizen is followed from their
//! first code. What was issued reaches each shard as its first delivery.

use super::barrier::Deliveries;
use super::message::{Agent, ShardMsg, Tag};
use super::observer::{Checker, ExchangeObserver};
use super::EngineError;
use crate::agents::registration::{applications, family_application, first_code_day};
use crate::agents::registration::{Registered, NO_CODE};
use crate::scenario::Behaviour;
use crate::world::World;
use hcsim_adapters::Platform;
use hcsim_platform::api::{Refusal, Request, Response};
use hcsim_platform::Minute;

/// Applications per exchange: bounds what is in flight at national scale,
/// where three batches are (one answered, one settled, one built): at
/// 65,536 the 3-day month's peak rose ~8 MiB over registering one batch
/// at a time; at 32,768 it is ~8 MiB below.
const BATCH: usize = 32_768;

/// What a registration exchange reports to.
pub struct Watchers<'a> {
    pub oracle: Option<Checker<'a>>,
    pub observer: &'a mut dyn ExchangeObserver,
    /// Where the oracle tells routine exchanges apart (a whole population
    /// applies here, nearly all of it outside the oracle's sample).
    pub pool: Option<&'a rayon::ThreadPool>,
}

/// One registration exchange: who asks (tags) and what (requests).
#[derive(Default)]
struct Batch {
    tags: Vec<Tag>,
    requests: Vec<Request>,
}

/// Where the answers go: each shard's codes, and who was refused for want
/// of face verification (they apply again through a family member).
struct Book {
    registered: Vec<Registered>,
    refused: Vec<u32>,
}

/// The applicants still to come, one iterator of ids per stream.
type Stream<'a> = std::iter::Peekable<Box<dyn Iterator<Item = u32> + Send + 'a>>;

/// Registers everyone who held a code before `now` (the run's start) and
/// returns each shard's `ShardMsg::Registered`.
pub async fn register_population<P: Platform>(
    world: &World,
    behaviour: &Behaviour,
    now: Minute,
    platform: &mut P,
    mut watch: Watchers<'_>,
) -> Result<Deliveries, EngineError> {
    let mut book = Book {
        registered: world
            .shards
            .iter()
            .map(|p| Registered::new(p.citizens.len()))
            .collect(),
        refused: Vec::new(),
    };

    // Everyone but the newcomers applies, each province's people in id
    // order; a batch holds a share of each stream (below), so that its
    // provinces' rounds can run side by side.
    let mut streams: Vec<Stream> = streams(world)
        .into_iter()
        .map(|ranges| {
            let ids = ranges
                .into_iter()
                .flatten()
                .filter(|&id| first_code_day(world, behaviour, id).is_none());
            (Box::new(ids) as Box<dyn Iterator<Item = u32> + Send>).peekable()
        })
        .collect();
    // An in-process platform answers a batch on this thread while the
    // pool settles the one before and builds the next: each is otherwise
    // idle while the other works. The watchers still read the batches in
    // order, and no batch depends on the answers to another.
    let pool = watch.pool.filter(|_| platform.in_process());
    let mut batch = fill(world, behaviour, &mut streams);
    let mut answered: Option<(Batch, Vec<Response>)> = None;
    while let Some(current) = batch.take() {
        let sent = current.requests.clone();
        let answers = match pool {
            Some(pool) => {
                let mut next = None;
                let answers = pool.in_place_scope(|s| {
                    s.spawn(|_| {
                        if let Some((b, a)) = answered.take() {
                            settle(world, now, &b, &a, &mut watch, &mut book);
                        }
                        next = fill(world, behaviour, &mut streams);
                    });
                    futures::executor::block_on(platform.exchange(now, sent))
                });
                batch = next;
                answers?
            }
            None => {
                if let Some((b, a)) = answered.take() {
                    settle(world, now, &b, &a, &mut watch, &mut book);
                }
                let answers = platform.exchange(now, sent).await?;
                batch = fill(world, behaviour, &mut streams);
                answers
            }
        };
        answered = Some((current, answers));
    }
    if let Some((b, a)) = answered.take() {
        settle(world, now, &b, &a, &mut watch, &mut book);
    }

    // Those refused for want of face verification: the first adult of
    // their household holding a code applies for them as family.
    let Book {
        mut registered,
        refused,
    } = book;
    let (mut family_tags, mut family) = (Vec::new(), Vec::new());
    for &id in &refused {
        let (shard, i) = local(world, id);
        let adult = world.people[id as usize]
            .household_members()
            .filter(|&m| m != id && world.people[m as usize].age >= 18)
            .map(|m| {
                (
                    m,
                    registered[shard as usize].codes[local(world, m).1 as usize],
                )
            })
            .find(|&(_, serial)| serial != NO_CODE);
        match adult {
            Some((adult, serial)) => {
                family_tags.push(tag(world, id));
                family.push(family_application(world, adult, serial, id));
            }
            None => registered[shard as usize].waiting_family.push(i),
        }
    }
    for (tags, requests) in family_tags.chunks(BATCH).zip(family.chunks(BATCH)) {
        let answers = platform.exchange(now, requests.to_vec()).await?;
        watched(world, now, tags, requests, &answers, &mut watch);
        for (tag, response) in tags.iter().zip(&answers) {
            if let Agent::Citizen(id) = tag.agent {
                let (shard, i) = local(world, id);
                registered[shard as usize].answer(i, response);
            }
        }
    }
    Ok(registered
        .into_iter()
        .map(|r| vec![ShardMsg::Registered(Box::new(r))])
        .collect())
}

/// A citizen's shard and index there.
fn local(world: &World, id: u32) -> (u32, u32) {
    let shard = world.shard_of_citizen(id);
    (shard, id - world.shards[shard as usize].citizens.start)
}

fn tag(world: &World, id: u32) -> Tag {
    Tag {
        shard: world.shard_of_citizen(id),
        agent: Agent::Citizen(id),
        aux: 0,
    }
}

/// The next batch: about `BATCH / STREAMS` requests from each stream in
/// turn (more from the later ones once the earlier run dry); `None` when
/// every stream has.
fn fill(world: &World, behaviour: &Behaviour, streams: &mut [Stream]) -> Option<Batch> {
    let mut batch = Batch {
        tags: Vec::with_capacity(BATCH + 1),
        requests: Vec::with_capacity(BATCH + 1),
    };
    for (k, ids) in streams.iter_mut().enumerate() {
        let share = BATCH / STREAMS * (k + 1);
        for id in ids.by_ref() {
            for request in applications(world, behaviour, id) {
                batch.tags.push(tag(world, id));
                batch.requests.push(request);
            }
            if batch.requests.len() >= share {
                break;
            }
        }
    }
    (!batch.requests.is_empty()).then_some(batch)
}

/// The watchers read a batch and its answers, which then go to the book.
fn settle(
    world: &World,
    now: Minute,
    batch: &Batch,
    answers: &[Response],
    watch: &mut Watchers<'_>,
    book: &mut Book,
) {
    watched(world, now, &batch.tags, &batch.requests, answers, watch);
    for ((tag, request), response) in batch.tags.iter().zip(&batch.requests).zip(answers) {
        let Agent::Citizen(id) = tag.agent else {
            continue;
        };
        let (shard, i) = local(world, id);
        match (request, response) {
            (
                Request::Apply {
                    national: false, ..
                },
                Response::Refused(Refusal::FaceNotVerified),
            ) => book.refused.push(id),
            _ => book.registered[shard as usize].answer(i, response),
        }
    }
}

/// Streams a registration batch draws from. Fixed, not the thread count:
/// the order in which the hub sees applications is part of the result.
const STREAMS: usize = 4;

/// The citizens' id ranges (counties) of each stream, in id order: the
/// provinces split into `STREAMS` runs of about equal population, each
/// province whole in one.
fn streams(world: &World) -> Vec<Vec<std::ops::Range<u32>>> {
    let counties = &world.geography.counties;
    let mut population = [0u64; hcsim_platform::PROVINCE_COUNT];
    for (c, county) in counties.iter().enumerate() {
        population[county.province.index()] += world.county_people[c].len() as u64;
    }
    let total = population.iter().sum::<u64>().max(1);
    let mut stream_of = [0usize; hcsim_platform::PROVINCE_COUNT];
    let mut before = 0u64;
    for (p, n) in population.iter().enumerate() {
        // A province goes to the stream its middle person falls in.
        let middle = before + n / 2;
        stream_of[p] = ((middle * STREAMS as u64) / total).min(STREAMS as u64 - 1) as usize;
        before += n;
    }
    let mut order: Vec<usize> = (0..counties.len()).collect();
    order.sort_by_key(|&c| world.county_people[c].start);
    let mut out = vec![Vec::new(); STREAMS];
    for c in order {
        out[stream_of[counties[c].province.index()]].push(world.county_people[c].clone());
    }
    out
}

/// The oracle and the observer read an exchange.
fn watched(
    world: &World,
    now: Minute,
    tags: &[Tag],
    requests: &[Request],
    answers: &[Response],
    watch: &mut Watchers<'_>,
) {
    if let Some(oracle) = watch.oracle.as_deref_mut() {
        oracle.check_tick(watch.pool, now, tags, requests, answers);
    }
    for ((tag, request), response) in tags.iter().zip(requests).zip(answers) {
        watch.observer.exchange(world, now, tag, request, response);
    }
}
