//! The direct adapter: the same 31 provinces and hub as `InProcess`, each
//! behind its own lock, called synchronously from whatever thread asks.
//!
//! `InProcess` suits the tick driver: one batch per tick, each province's
//! round a task on the run's pool. A server or a load generator instead has
//! many callers with one request each; giving them a lock per province lets
//! requests for different provinces run in parallel without waiting for a
//! batch.
//!
//! Lock order is province → hub, never the reverse, and no province lock is
//! held while waiting for another province, so callers cannot deadlock.

use crate::port::{hub_copy, route, ColorCensus, Platform, PortError, Route};
use hcsim_platform::api::{Refusal, Request, Response};
use hcsim_platform::hub::{Hub, HubQuery};
use hcsim_platform::province::{Outcome, ProvincePlatform};
use hcsim_platform::{Minute, ProvinceId, PROVINCE_COUNT};
use std::sync::{Mutex, MutexGuard};

pub struct Direct {
    provinces: Vec<Mutex<ProvincePlatform>>,
    hub: Mutex<Hub>,
}

/// A poisoned lock means a platform call panicked mid-request; the platform
/// state may be half-updated, but refusing every later request would turn
/// one bug into a total outage, so the lock is taken over as is.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Direct {
    /// Builds one platform per province with `make`, like `InProcess::start`.
    pub fn new(mut make: impl FnMut(ProvinceId) -> ProvincePlatform, hub: Hub) -> Direct {
        Direct {
            provinces: ProvinceId::all().map(|p| Mutex::new(make(p))).collect(),
            hub: Mutex::new(hub),
        }
    }

    /// Answers one request at `now`: the province handles it; a code from
    /// elsewhere goes to the hub and back to the province to finish.
    pub fn handle(&self, now: Minute, req: &Request) -> Response {
        if let Some((to, feed)) = hub_copy(req) {
            lock(&self.hub).note_feed(to, &feed);
        }
        let p = match route(req) {
            Route::Province(p) => p,
            Route::Hub => return self.hub_request(now, req),
            Route::Broadcast => return self.broadcast(now, req),
        };
        // Ids read from outside are range-checked when deserialized; one
        // built in code past the last province is refused, not indexed.
        let Some(slot) = self.provinces.get(p.index()) else {
            return no_such_province(p);
        };
        let query = {
            let mut province = lock(slot);
            let outcome = province.handle(now, req);
            self.publish(&mut province);
            match outcome {
                Outcome::Done(r) => return r,
                Outcome::NeedsHub(q) => q,
            }
        };
        let answer = lock(&self.hub).query(&query);
        lock(slot).finish_remote(now, &query, answer)
    }

    /// A request the hub serves itself; feeds it sends to provinces (a
    /// same-flight contact designation) are applied at once.
    fn hub_request(&self, now: Minute, req: &Request) -> Response {
        let (response, outgoing) = {
            let mut hub = lock(&self.hub);
            let r = hub.handle(now, req);
            (r, hub.drain_outgoing())
        };
        for (p, feed) in outgoing {
            let mut province = lock(&self.provinces[p.index()]);
            province.handle(now, &Request::Feed { to: Some(p), feed });
            self.publish(&mut province);
        }
        response
    }

    /// Hands a province's status changes to the hub while the province is
    /// still locked, so two callers cannot deliver one province's changes
    /// out of order.
    fn publish(&self, province: &mut ProvincePlatform) {
        let publications = province.drain_publications();
        if !publications.is_empty() {
            let mut hub = lock(&self.hub);
            for p in &publications {
                hub.publish(p);
            }
        }
    }

    /// Every province applies the feed; the first one's answer is reported,
    /// as `InProcess` does.
    fn broadcast(&self, now: Minute, req: &Request) -> Response {
        let mut first = None;
        for slot in &self.provinces {
            let mut province = lock(slot);
            let outcome = province.handle(now, req);
            self.publish(&mut province);
            if first.is_none() {
                first = Some(match outcome {
                    Outcome::Done(r) => r,
                    // A feed never needs the hub; if a rule set ever made it
                    // so, say so rather than guess.
                    Outcome::NeedsHub(_) => no_answer(),
                });
            }
        }
        first.unwrap_or_else(no_answer)
    }

    /// One tick's batch in the three rounds of `InProcess`: every province
    /// handles its share in request order, then the hub answers every
    /// query, then the provinces finish. A cross-province scan in the batch
    /// therefore sees every registration made anywhere in the same batch,
    /// exactly as with `InProcess`.
    pub fn handle_batch(&self, now: Minute, requests: &[Request]) -> Vec<Response> {
        let mut responses: Vec<Option<Response>> = vec![None; requests.len()];
        let mut per_province: Vec<Vec<(usize, bool)>> = vec![Vec::new(); PROVINCE_COUNT];
        let mut hub_requests = Vec::new();
        for (i, req) in requests.iter().enumerate() {
            match route(req) {
                Route::Province(p) if p.index() >= PROVINCE_COUNT => {
                    responses[i] = Some(no_such_province(p));
                }
                Route::Province(p) => per_province[p.index()].push((i, true)),
                Route::Broadcast => {
                    for (p, batch) in per_province.iter_mut().enumerate() {
                        batch.push((i, p == 0));
                    }
                }
                Route::Hub => hub_requests.push(i),
            }
        }

        // Round 1. Publications reach the hub before any query of round 2,
        // in province order, as in `HubRound`.
        let mut pending: Vec<(usize, usize, HubQuery)> = Vec::new();
        for (p, batch) in per_province.iter().enumerate() {
            if batch.is_empty() {
                continue;
            }
            let mut province = lock(&self.provinces[p]);
            for &(i, reported) in batch {
                match province.handle(now, &requests[i]) {
                    Outcome::Done(r) if reported => responses[i] = Some(r),
                    Outcome::NeedsHub(q) if reported => pending.push((p, i, q)),
                    // Copies of a broadcast feed: only the first one answers.
                    Outcome::Done(_) | Outcome::NeedsHub(_) => {}
                }
            }
            self.publish(&mut province);
        }

        // Round 2: national data copies, the hub's own requests, queries.
        let answers: Vec<_> = {
            let mut hub = lock(&self.hub);
            for (to, feed) in requests.iter().filter_map(hub_copy) {
                hub.note_feed(to, &feed);
            }
            for &i in &hub_requests {
                responses[i] = Some(hub.handle(now, &requests[i]));
            }
            pending.iter().map(|(_, _, q)| hub.query(q)).collect()
        };
        let outgoing = lock(&self.hub).drain_outgoing();
        for (p, feed) in outgoing {
            let mut province = lock(&self.provinces[p.index()]);
            province.handle(now, &Request::Feed { to: Some(p), feed });
            self.publish(&mut province);
        }

        // Round 3, in the order the queries were made.
        for ((p, i, q), a) in pending.into_iter().zip(answers) {
            responses[i] = Some(lock(&self.provinces[p]).finish_remote(now, &q, a));
        }

        responses
            .into_iter()
            .map(|r| r.unwrap_or_else(no_answer))
            .collect()
    }

    /// Color counts per province at `now`.
    pub fn color_census(&self, now: Minute) -> ColorCensus {
        self.provinces.iter().map(|p| lock(p).census(now)).collect()
    }

    /// What the hub counted so far.
    pub fn hub_counters(&self) -> hcsim_platform::hub::HubCounters {
        lock(&self.hub).counters()
    }

    /// People registered in all provinces together.
    pub fn registered(&self) -> usize {
        self.provinces.iter().map(|p| lock(p).registered()).sum()
    }
}

fn no_such_province(p: ProvinceId) -> Response {
    Response::Refused(Refusal::Other {
        message: format!("no province with index {}", p.0),
    })
}

fn no_answer() -> Response {
    Response::Refused(Refusal::Other {
        message: "no platform answered".into(),
    })
}

impl Platform for Direct {
    async fn exchange(
        &mut self,
        now: Minute,
        requests: Vec<Request>,
    ) -> Result<Vec<Response>, PortError> {
        Ok(self.handle_batch(now, &requests))
    }

    async fn census(&mut self, now: Minute) -> Result<ColorCensus, PortError> {
        Ok(self.color_census(now))
    }

    fn in_process(&self) -> bool {
        true
    }
}
