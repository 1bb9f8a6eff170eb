//! The in-process adapter: the platform's provinces and hub as actix actors
//! on the caller's arbiters, driven in the three rounds of
//! `hcsim_platform::actors`. Platform faults (`faults.rs`) are injected
//! here: hub links per round, crashes and restarts between rounds.

use crate::faults::{Event, FaultEffects, FaultState, PlatformFaults};
use crate::port::{route, ColorCensus, Platform, PortError, Route};
use actix::prelude::*;
use futures::future::join_all;
use hcsim_platform::actors::{
    Census, FinishRound, HubActor, HubRound, ProvinceActor, ProvinceRound,
};
use hcsim_platform::api::{Refusal, Request, Response};
use hcsim_platform::hub::Hub;
use hcsim_platform::province::{DurableLog, Outcome, ProvincePlatform};
use hcsim_platform::{Minute, ProvinceId, PROVINCE_COUNT};

pub struct InProcess {
    provinces: Vec<Addr<ProvinceActor>>,
    hub: Addr<HubActor>,
    arbiters: Vec<ArbiterHandle>,
    faults: FaultState,
}

fn mailbox(e: MailboxError) -> PortError {
    PortError::Unavailable(format!("platform actor: {e}"))
}

impl InProcess {
    /// Starts one actor per province, spread round-robin over `arbiters`,
    /// and the hub on the first arbiter.
    pub fn start(
        arbiters: &[ArbiterHandle],
        make: impl FnMut(ProvinceId) -> ProvincePlatform,
        hub: Hub,
    ) -> InProcess {
        InProcess::start_with_faults(arbiters, make, hub, PlatformFaults::default())
    }

    /// Like `start`, with platform faults at fixed times. Provinces that
    /// will crash write a durable log from the start.
    pub fn start_with_faults(
        arbiters: &[ArbiterHandle],
        mut make: impl FnMut(ProvinceId) -> ProvincePlatform,
        hub: Hub,
        plan: PlatformFaults,
    ) -> InProcess {
        assert!(!arbiters.is_empty(), "InProcess needs at least one arbiter");
        let mut faults = FaultState::new(plan);
        let provinces = ProvinceId::all()
            .map(|p| {
                let mut platform = make(p);
                if faults.plan.crashes_in(p) {
                    let log = DurableLog::new();
                    faults.logs[p.index()] = Some((log.clone(), platform.rules().clone()));
                    platform = platform.with_durable_log(log);
                }
                ProvinceActor::start_in_arbiter(&arbiters[p.index() % arbiters.len()], move |_| {
                    ProvinceActor { platform }
                })
            })
            .collect();
        let hub = HubActor::start_in_arbiter(&arbiters[0], move |_| HubActor { hub });
        InProcess {
            provinces,
            hub,
            arbiters: arbiters.to_vec(),
            faults,
        }
    }

    /// What the faults did so far, one entry per fault of the plan.
    pub fn fault_effects(&self) -> FaultEffects {
        self.faults.effects.clone()
    }

    /// The crash drops the province's actor with everything it held in
    /// memory; the write it was doing is torn off the log.
    fn crash(&mut self, k: usize) {
        let p = self.faults.crash(k).province;
        if let Some((log, _)) = &self.faults.logs[p.index()] {
            log.tear();
        }
        let arbiter = &self.arbiters[p.index() % self.arbiters.len()];
        // Until the restart requests for it are answered busy; an empty
        // platform stands in for `census`, which counts nobody there.
        let rules = self.faults.logs[p.index()].as_ref().map(|(_, r)| r.clone());
        if let Some(rules) = rules {
            let platform = ProvincePlatform::new(p, rules);
            self.provinces[p.index()] =
                ProvinceActor::start_in_arbiter(arbiter, move |_| ProvinceActor { platform });
        }
    }

    /// Recovers the province from its log on a new actor, then reads back
    /// everything it acknowledged before the crash.
    async fn restart(&mut self, k: usize, now: Minute) -> Result<(), PortError> {
        let crash = self.faults.crash(k).clone();
        let p = crash.province;
        let Some((log, rules)) = self.faults.logs[p.index()].clone() else {
            return Ok(());
        };
        let (platform, recovery) = ProvincePlatform::recover(p, rules, log, now)
            .map_err(|e| PortError::Unavailable(format!("{}: recovery failed: {e}", p.key())))?;
        let arbiter = &self.arbiters[p.index() % self.arbiters.len()];
        self.provinces[p.index()] =
            ProvinceActor::start_in_arbiter(arbiter, move |_| ProvinceActor { platform });
        let acknowledged = &self.faults.acknowledged[p.index()];
        let audit: Vec<(u32, Request)> = acknowledged
            .keys()
            .enumerate()
            .map(|(i, code)| (i as u32, Request::Records { code: *code }))
            .collect();
        let result = self.provinces[p.index()]
            .send(ProvinceRound {
                now,
                requests: audit,
            })
            .await
            .map_err(mailbox)?;
        let (mut checked, mut lost) = (0u64, 0u64);
        for ((_, seqs), (_, outcome)) in acknowledged.iter().zip(&result.outcomes) {
            checked += 1 + seqs.len() as u64;
            match outcome {
                Outcome::Done(Response::Records { records, .. }) => {
                    lost += seqs
                        .iter()
                        .filter(|s| !records.iter().any(|r| r.seq == **s))
                        .count() as u64;
                }
                _ => lost += 1 + seqs.len() as u64,
            }
        }
        // The recovered platform republished everyone: the hub catches up.
        let publications = result.publications;
        let links = self.faults.links(now);
        let publications = self
            .faults
            .release_publications(now, &links, p, publications);
        if !publications.is_empty() {
            self.hub
                .send(HubRound {
                    now,
                    publications,
                    queries: Vec::new(),
                    links,
                })
                .await
                .map_err(mailbox)?;
        }
        self.faults.effect(crash.fault, |e| {
            e.restarted = true;
            e.records_recovered += recovery.records;
            e.registrations_recovered += recovery.registered;
            e.torn_bytes_dropped += recovery.torn_bytes;
            e.acknowledged_checked += checked;
            e.lost_acknowledged += lost;
        });
        Ok(())
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
        let faulty = !self.faults.is_empty();
        // Requests to provinces that will crash, to note what they acknowledged.
        let mut watched: Vec<(usize, ProvinceId, Request)> = Vec::new();
        if faulty {
            for event in self.faults.events(now) {
                match event {
                    Event::Crash { crash, .. } => self.crash(crash),
                    Event::Restart { crash, province } => {
                        self.restart(crash, now).await?;
                        // Feeds kept for it are delivered first.
                        for req in std::mem::take(&mut self.faults.redeliver[province.index()]) {
                            let fault = self.faults.crash(crash).fault;
                            self.faults.effect(fault, |e| e.feeds_redelivered += 1);
                            per_province[province.index()].push((u32::MAX, req));
                        }
                    }
                }
            }
        }
        let links = self.faults.links(now);
        for (i, req) in requests.into_iter().enumerate() {
            match route(&req) {
                Route::Province(p) if faulty && self.faults.down[p.index()].is_some() => {
                    let k = self.faults.down[p.index()].unwrap_or_default();
                    let fault = self.faults.crash(k).fault;
                    self.faults.effect(fault, |e| e.requests_while_down += 1);
                    if matches!(req, Request::Feed { .. }) {
                        self.faults.redeliver[p.index()].push(req);
                    }
                    responses[i] = Some(Response::Busy);
                }
                Route::Province(p) => {
                    if faulty && self.faults.logs[p.index()].is_some() {
                        watched.push((i, p, req.clone()));
                    }
                    per_province[p.index()].push((i as u32, req))
                }
                Route::Broadcast => {
                    for (p, batch) in per_province.iter_mut().enumerate() {
                        // Only the first copy's answer is reported; every
                        // province applies the feed.
                        let tag = if p == 0 { i as u32 } else { u32::MAX };
                        if faulty && self.faults.down[p].is_some() {
                            self.faults.redeliver[p].push(req.clone());
                            if p == 0 {
                                responses[i] = Some(Response::Ack);
                            }
                            continue;
                        }
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
            if faulty {
                let province = ProvinceId(p as u8);
                publications.extend(self.faults.release_publications(
                    now,
                    &links,
                    province,
                    result.publications,
                ));
            } else {
                publications.extend(result.publications);
            }
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
                    links,
                })
                .await
                .map_err(mailbox)?;
            let mut finish: Vec<Vec<_>> = vec![Vec::new(); PROVINCE_COUNT];
            for (((p, i), q), a) in pending.into_iter().zip(queries).zip(answers) {
                if faulty {
                    self.faults.unreachable(now, &q, &a);
                }
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

        for (i, p, req) in watched {
            if let Some(r) = &responses[i] {
                self.faults.acknowledge(p, &req, r);
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
