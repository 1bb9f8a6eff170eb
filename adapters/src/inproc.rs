//! The in-process adapter: the platform's provinces and hub as actix actors
//! on the caller's arbiters, driven in the three rounds of
//! `hcsim_platform::actors`.

use crate::port::{hub_copy, route, ColorCensus, Platform, PortError, Route};
use actix::prelude::*;
use futures::future::join_all;
use hcsim_platform::actors::{
    Census, FinishRound, HubActor, HubRound, HubStats, ProvinceActor, ProvinceRound,
};
use hcsim_platform::api::{Feed, Refusal, Request, Response};
use hcsim_platform::hub::{Hub, HubCounters};
use hcsim_platform::province::{Outcome, ProvincePlatform};
use hcsim_platform::{Minute, ProvinceId, PROVINCE_COUNT};

pub struct InProcess {
    provinces: Vec<Addr<ProvinceActor>>,
    hub: Addr<HubActor>,
    /// Whether each province can reach the hub (`set_hub_link`).
    links: [bool; PROVINCE_COUNT],
    /// Feeds the hub sent to provinces, delivered before the next requests.
    from_hub: Vec<(ProvinceId, Feed)>,
    /// Hub queries each province could not make because its link was down.
    unreachable: [u64; PROVINCE_COUNT],
}

fn mailbox(e: MailboxError) -> PortError {
    PortError::Unavailable(format!("platform actor: {e}"))
}

impl InProcess {
    /// Starts one actor per province, spread round-robin over `arbiters`,
    /// and the hub on the first arbiter.
    pub fn start(
        arbiters: &[ArbiterHandle],
        mut make: impl FnMut(ProvinceId) -> ProvincePlatform,
        hub: Hub,
    ) -> InProcess {
        assert!(!arbiters.is_empty(), "InProcess needs at least one arbiter");
        let provinces = ProvinceId::all()
            .map(|p| {
                let platform = make(p);
                ProvinceActor::start_in_arbiter(&arbiters[p.index() % arbiters.len()], move |_| {
                    ProvinceActor { platform }
                })
            })
            .collect();
        let hub = HubActor::start_in_arbiter(&arbiters[0], move |_| HubActor::new(hub));
        InProcess {
            provinces,
            hub,
            links: [true; PROVINCE_COUNT],
            from_hub: Vec::new(),
            unreachable: [0; PROVINCE_COUNT],
        }
    }

    /// Per province: cross-province scans answered without the hub because
    /// the link was down (busy or refer, per the recognition policy).
    pub fn unreachable_answers(&self) -> [u64; PROVINCE_COUNT] {
        self.unreachable
    }

    /// Cuts a province off from the national hub (`up = false`) or
    /// reconnects it, from the next exchange on. While cut off, the
    /// province's cross-province scans get no hub answer (it answers busy or
    /// refer, per the recognition policy) and its status publications wait
    /// and reach the hub, in order, once the link is back.
    pub fn set_hub_link(&mut self, province: ProvinceId, up: bool) {
        self.links[province.index()] = up;
    }

    /// Whether `province` can currently reach the hub.
    pub fn hub_link(&self, province: ProvinceId) -> bool {
        self.links[province.index()]
    }

    /// The hub's counters: queries, national codes, inbound services.
    pub async fn hub_counters(&self) -> Result<HubCounters, PortError> {
        self.hub.send(HubStats).await.map_err(mailbox)
    }
}

impl Platform for InProcess {
    async fn exchange(
        &mut self,
        now: Minute,
        requests: Vec<Request>,
    ) -> Result<Vec<Response>, PortError> {
        let n = requests.len();
        let mut responses: Vec<Option<Response>> = vec![None; n];
        let mut per_province: Vec<Vec<(u32, Request)>> = vec![Vec::new(); PROVINCE_COUNT];
        for (p, feed) in std::mem::take(&mut self.from_hub) {
            per_province[p.index()].push((u32::MAX, Request::Feed { to: Some(p), feed }));
        }
        let mut hub_requests: Vec<(u32, Request)> = Vec::new();
        let mut hub_feeds = Vec::new();
        for (i, req) in requests.into_iter().enumerate() {
            hub_feeds.extend(hub_copy(&req));
            match route(&req) {
                Route::Province(p) => per_province[p.index()].push((i as u32, req)),
                Route::Broadcast => {
                    for (p, batch) in per_province.iter_mut().enumerate() {
                        // Only the first copy's answer is reported; every
                        // province applies the feed.
                        let tag = if p == 0 { i as u32 } else { u32::MAX };
                        batch.push((tag, req.clone()));
                    }
                }
                Route::Hub => hub_requests.push((i as u32, req)),
            }
        }

        let round1 = join_all(
            per_province
                .into_iter()
                .enumerate()
                .filter(|(_, b)| !b.is_empty())
                .map(|(p, requests)| {
                    let addr = self.provinces[p].clone();
                    async move { (p, addr.send(ProvinceRound { now, requests }).await) }
                }),
        )
        .await;

        let mut publications = Vec::new();
        let mut queries = Vec::new();
        let mut pending: Vec<(usize, u32)> = Vec::new();
        for (p, result) in round1 {
            let result = result.map_err(mailbox)?;
            publications.extend(result.publications);
            for (i, outcome) in result.outcomes {
                match outcome {
                    Outcome::Done(r) if i != u32::MAX => responses[i as usize] = Some(r),
                    Outcome::Done(_) => {}
                    Outcome::NeedsHub(q) => {
                        if !self.links[q.from.index()] {
                            self.unreachable[q.from.index()] += 1;
                        }
                        pending.push((p, i));
                        queries.push(q);
                    }
                }
            }
        }

        let links_down = self.links.iter().any(|up| !up);
        if !publications.is_empty()
            || !queries.is_empty()
            || !hub_requests.is_empty()
            || !hub_feeds.is_empty()
            || links_down
        {
            let (tags, hub_requests): (Vec<u32>, Vec<Request>) = hub_requests.into_iter().unzip();
            let result = self
                .hub
                .send(HubRound {
                    now,
                    publications,
                    queries: queries.clone(),
                    requests: hub_requests,
                    feeds: hub_feeds,
                    links: self.links,
                })
                .await
                .map_err(mailbox)?;
            for (i, r) in tags.into_iter().zip(result.responses) {
                responses[i as usize] = Some(r);
            }
            self.from_hub.extend(result.outgoing);
            let answers = result.answers;
            let mut finish: Vec<Vec<_>> = vec![Vec::new(); PROVINCE_COUNT];
            for (((p, i), q), a) in pending.into_iter().zip(queries).zip(answers) {
                finish[p].push((i, q, a));
            }
            let round3 = join_all(
                finish
                    .into_iter()
                    .enumerate()
                    .filter(|(_, f)| !f.is_empty())
                    .map(|(p, answers)| {
                        let addr = self.provinces[p].clone();
                        async move { addr.send(FinishRound { now, answers }).await }
                    }),
            )
            .await;
            for done in round3 {
                for (i, r) in done.map_err(mailbox)? {
                    responses[i as usize] = Some(r);
                }
            }
        }

        Ok(responses
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Response::Refused(Refusal::Other {
                        message: "no platform answered".into(),
                    })
                })
            })
            .collect())
    }

    async fn census(&mut self, now: Minute) -> Result<ColorCensus, PortError> {
        let all = join_all(self.provinces.iter().map(|a| a.send(Census { now }))).await;
        all.into_iter().map(|r| r.map_err(mailbox)).collect()
    }
}
