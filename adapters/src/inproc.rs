//! The in-process adapter: the platform's provinces and hub as actix actors
//! on the caller's arbiters, driven in the three rounds of
//! `hcsim_platform::actors`.

use crate::port::{route, ColorCensus, Platform, PortError, Route};
use actix::prelude::*;
use futures::future::join_all;
use hcsim_platform::actors::{
    Census, FinishRound, HubActor, HubRound, ProvinceActor, ProvinceRound,
};
use hcsim_platform::api::{Refusal, Request, Response};
use hcsim_platform::hub::Hub;
use hcsim_platform::province::{Outcome, ProvincePlatform};
use hcsim_platform::{Minute, ProvinceId, PROVINCE_COUNT};

pub struct InProcess {
    provinces: Vec<Addr<ProvinceActor>>,
    hub: Addr<HubActor>,
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
        let hub = HubActor::start_in_arbiter(&arbiters[0], move |_| HubActor { hub });
        InProcess { provinces, hub }
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
        for (i, req) in requests.into_iter().enumerate() {
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
                Route::Hub => {
                    responses[i] = Some(Response::Refused(Refusal::Other {
                        message: "national-code operations are not served by this platform yet"
                            .into(),
                    }))
                }
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
                        pending.push((p, i));
                        queries.push(q);
                    }
                }
            }
        }

        if !publications.is_empty() || !queries.is_empty() {
            let answers = self
                .hub
                .send(HubRound {
                    now,
                    publications,
                    queries: queries.clone(),
                })
                .await
                .map_err(mailbox)?;
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
