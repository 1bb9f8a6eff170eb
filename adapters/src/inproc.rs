//! The in-process adapter: the platform's 31 provinces and hub, driven in
//! the three rounds of `hcsim_platform::actors`. Each province is an actor
//! in the model's sense: private state, touched only through its round's
//! batch. The rounds of all provinces run in parallel on the run's thread
//! pool (work-stealing, so a tick ends about when its largest province
//! does), and their results are gathered in province order, so the answers
//! do not depend on the pool's size. Platform faults (`faults.rs`) are
//! injected here: hub links per round, crashes and restarts between rounds.
//! Provinces held by other processes of a run (`hosting.rs`) are sent
//! their batches instead, and answer in the same order.

use crate::faults::{Event, FaultEffects, FaultState, PlatformFaults};
use crate::hosting::{mismatch, HostDone, HostWork, ProvinceHosts};
use crate::port::{hub_copy, route, ColorCensus, Platform, PortError, Route};
use hcsim_platform::actors::{FinishRound, HubActor, HubRound, ProvinceRound, ProvinceRoundResult};
use hcsim_platform::api::{Feed, Refusal, Request, Response};
use hcsim_platform::hub::{Hub, HubAnswer, HubCounters};
use hcsim_platform::hub_link::HubLink;
use hcsim_platform::province::{DurableLog, Outcome, ProvincePlatform};
use hcsim_platform::{Minute, ProvinceId, PROVINCE_COUNT};
use rayon::prelude::*;
use std::sync::Arc;

pub struct InProcess {
    /// In `ProvinceId` order.
    provinces: Vec<ProvincePlatform>,
    hub: HubActor,
    /// Where the provinces' rounds run; one after another without.
    pool: Option<Arc<rayon::ThreadPool>>,
    faults: FaultState,
    /// Whether each province can reach the hub (`set_hub_link`).
    links: [bool; PROVINCE_COUNT],
    /// Feeds the hub sent to provinces, delivered before the next requests.
    from_hub: Vec<(ProvinceId, Feed)>,
    /// Hub queries each province could not make because its link was down.
    unreachable: [u64; PROVINCE_COUNT],
    /// The processes holding the provinces this one does not (`with_hosts`).
    hosts: Option<Box<dyn ProvinceHosts>>,
}

/// Runs `round` on every province with a non-empty batch, on `pool` when
/// there is one; results in province order whatever ran first.
fn each_province<B, T, F>(
    pool: Option<&rayon::ThreadPool>,
    provinces: &mut [ProvincePlatform],
    batches: Vec<Vec<B>>,
    round: F,
) -> Vec<(usize, T)>
where
    B: Send,
    T: Send,
    F: Fn(&mut ProvincePlatform, Vec<B>) -> T + Sync + Send,
{
    let mut work: Vec<(usize, &mut ProvincePlatform, Vec<B>)> = provinces
        .iter_mut()
        .zip(batches)
        .enumerate()
        .filter(|(_, (_, b))| !b.is_empty())
        .map(|(p, (platform, b))| (p, platform, b))
        .collect();
    let mut done: Vec<(usize, T)> = match pool {
        Some(pool) if work.len() > 1 => {
            // Largest batches first, each its own task: the tick's round
            // ends about when its largest province does.
            work.sort_by_key(|(p, _, b)| (std::cmp::Reverse(b.len()), *p));
            pool.install(|| {
                work.into_par_iter()
                    .with_max_len(1)
                    .map(|(p, platform, b)| (p, round(platform, b)))
                    .collect()
            })
        }
        _ => work
            .into_iter()
            .map(|(p, platform, b)| (p, round(platform, b)))
            .collect(),
    };
    done.sort_by_key(|(p, _)| *p);
    done
}

impl InProcess {
    /// The platform of `make`'s provinces and `hub`, its rounds run on
    /// `pool` when given.
    pub fn start(
        pool: Option<Arc<rayon::ThreadPool>>,
        make: impl FnMut(ProvinceId) -> ProvincePlatform,
        hub: Hub,
    ) -> InProcess {
        InProcess::start_with_faults(pool, make, hub, PlatformFaults::default())
    }

    /// Like `start`, with platform faults at fixed times. Provinces that
    /// will crash write a durable log from the start.
    pub fn start_with_faults(
        pool: Option<Arc<rayon::ThreadPool>>,
        mut make: impl FnMut(ProvinceId) -> ProvincePlatform,
        hub: Hub,
        plan: PlatformFaults,
    ) -> InProcess {
        let mut faults = FaultState::new(plan);
        let provinces = ProvinceId::all()
            .map(|p| {
                let mut platform = make(p);
                if faults.plan.crashes_in(p) {
                    let log = DurableLog::new();
                    faults.logs[p.index()] = Some((
                        log.clone(),
                        platform.rules().clone(),
                        platform.recognition().clone(),
                        platform.code_key().clone(),
                    ));
                    platform = platform.with_durable_log(log);
                }
                platform
            })
            .collect();
        InProcess {
            provinces,
            hub: HubActor::new(hub),
            pool,
            faults,
            links: [true; PROVINCE_COUNT],
            from_hub: Vec::new(),
            unreachable: [0; PROVINCE_COUNT],
            hosts: None,
        }
    }

    /// The same platform with the provinces `hosts` names held by other
    /// processes: their rounds and census go there, and the platforms kept
    /// here for them stay empty. Provinces that crash must stay here.
    pub fn with_hosts(mut self, hosts: Box<dyn ProvinceHosts>) -> InProcess {
        self.hosts = Some(hosts);
        self
    }

    fn is_remote(&self, p: ProvinceId) -> bool {
        self.hosts.as_ref().is_some_and(|h| h.remote(p))
    }

    /// Takes the batches of provinces held elsewhere out of `batches` and
    /// sends them, each made into its work by `work`; returns the provinces
    /// sent to, in province order.
    fn send_remote<B>(
        &mut self,
        batches: &mut [Vec<B>],
        work: impl Fn(Vec<B>) -> HostWork,
    ) -> Result<Vec<ProvinceId>, PortError> {
        let Some(hosts) = self.hosts.as_mut() else {
            return Ok(Vec::new());
        };
        let mut sent = Vec::new();
        let mut out = Vec::new();
        for p in ProvinceId::all() {
            let batch = &mut batches[p.index()];
            if hosts.remote(p) && !batch.is_empty() {
                out.push((p, work(std::mem::take(batch))));
                sent.push(p);
            }
        }
        if !out.is_empty() {
            hosts.send(out)?;
        }
        Ok(sent)
    }

    /// The answers to `send_remote`'s work, for the provinces it sent to.
    fn receive_remote(&mut self, sent: &[ProvinceId]) -> Result<Vec<HostDone>, PortError> {
        match self.hosts.as_mut() {
            Some(hosts) if !sent.is_empty() => {
                let done = hosts.receive()?;
                if done.len() != sent.len() {
                    return Err(PortError::Unavailable(format!(
                        "{} answers from the processes holding provinces, {} asked",
                        done.len(),
                        sent.len()
                    )));
                }
                Ok(done)
            }
            _ => Ok(Vec::new()),
        }
    }

    /// What the faults did so far, one entry per fault of the plan.
    pub fn fault_effects(&self) -> FaultEffects {
        self.faults.effects.clone()
    }

    /// The crash drops the province's platform with everything it held in
    /// memory; the write it was doing is torn off the log.
    fn crash(&mut self, k: usize) {
        let p = self.faults.crash(k).province;
        // Unchecked until the restart's audit reads them back; if the run
        // ends first, they stay so in the report.
        let unchecked = self.faults.acknowledged_count(p);
        self.faults.effect(self.faults.crash(k).fault, |e| {
            e.acknowledged_unchecked = unchecked;
        });
        if let Some((log, ..)) = &self.faults.logs[p.index()] {
            log.tear();
        }
        // Until the restart requests for it are answered busy; an empty
        // platform stands in for `census`, which counts nobody there.
        let setup = self.faults.logs[p.index()]
            .as_ref()
            .map(|(_, r, g, k)| (r.clone(), g.clone(), k.clone()));
        if let Some((rules, recognition, key)) = setup {
            self.provinces[p.index()] = ProvincePlatform::new(p, rules)
                .with_recognition(recognition)
                .with_code_key(key);
        }
    }

    /// Recovers the province from its log, then reads back everything it
    /// acknowledged before the crash.
    fn restart(&mut self, k: usize, now: Minute) -> Result<(), PortError> {
        let crash = self.faults.crash(k).clone();
        let p = crash.province;
        let Some((log, rules, recognition, key)) = self.faults.logs[p.index()].clone() else {
            return Ok(());
        };
        let (platform, recovery) = ProvincePlatform::recover(p, rules, log, now)
            .map_err(|e| PortError::Unavailable(format!("{}: recovery failed: {e}", p.key())))?;
        self.provinces[p.index()] = platform.with_recognition(recognition).with_code_key(key);
        let acknowledged = &self.faults.acknowledged[p.index()];
        let audit: Vec<(u32, Request)> = acknowledged
            .keys()
            .enumerate()
            .map(|(i, code)| (i as u32, Request::Records { code: *code }))
            .collect();
        let result = ProvinceRound {
            now,
            requests: audit,
        }
        .apply(&mut self.provinces[p.index()]);
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
            self.hub.round(HubRound {
                now,
                publications,
                queries: Vec::new(),
                requests: Vec::new(),
                feeds: Vec::new(),
                links,
            });
        }
        self.faults.effect(crash.fault, |e| {
            e.restarted = true;
            e.records_recovered += recovery.records;
            e.registrations_recovered += recovery.registered;
            e.torn_bytes_dropped += recovery.torn_bytes;
            e.acknowledged_checked += checked;
            e.lost_acknowledged += lost;
            e.acknowledged_unchecked = 0;
        });
        Ok(())
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
        Ok(self.hub.hub.counters())
    }
}

impl Platform for InProcess {
    async fn exchange(
        &mut self,
        now: Minute,
        requests: Vec<Request>,
    ) -> Result<Vec<Response>, PortError> {
        let n = requests.len();
        // Filled in place; `answered` marks which slots a platform wrote, so
        // the answers are moved once rather than through an Option. The
        // placeholders are made, not cloned: `vec![Busy; n]` is a call per
        // slot on the tick's one-at-a-time path.
        let mut responses: Vec<Response> =
            std::iter::repeat_with(|| Response::Busy).take(n).collect();
        let mut answered = vec![false; n];
        // Routed on the pool, then each province's batch sized once:
        // growing them by doubling cost more than the first pass.
        let routes: Vec<Route> = match &self.pool {
            Some(pool) => pool.install(|| requests.par_iter().map(route).collect()),
            None => requests.iter().map(route).collect(),
        };
        let mut sizes = [0usize; PROVINCE_COUNT];
        for r in &routes {
            match *r {
                Route::Province(p) if p.index() < PROVINCE_COUNT => sizes[p.index()] += 1,
                Route::Broadcast => sizes.iter_mut().for_each(|n| *n += 1),
                _ => {}
            }
        }
        let mut per_province: Vec<Vec<(u32, Request)>> =
            sizes.iter().map(|n| Vec::with_capacity(*n)).collect();
        let faulty = !self.faults.is_empty();
        // Requests to provinces that will crash, to note what they acknowledged.
        let mut watched: Vec<(usize, ProvinceId, Request)> = Vec::new();
        if faulty {
            for event in self.faults.events(now) {
                match event {
                    Event::Crash { crash, .. } => self.crash(crash),
                    Event::Restart { crash, province } => {
                        self.restart(crash, now)?;
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
        let mut links = self.faults.links(now);
        for p in ProvinceId::all().filter(|p| !self.links[p.index()]) {
            links.set(p, HubLink::Partitioned);
        }
        for (p, feed) in std::mem::take(&mut self.from_hub) {
            per_province[p.index()].push((u32::MAX, Request::Feed { to: Some(p), feed }));
        }
        let mut hub_requests: Vec<(u32, Request)> = Vec::new();
        let mut hub_feeds = Vec::new();
        for ((i, req), to) in requests.into_iter().enumerate().zip(routes) {
            hub_feeds.extend(hub_copy(&req));
            match to {
                Route::Province(p) if faulty && self.faults.down[p.index()].is_some() => {
                    let k = self.faults.down[p.index()].unwrap_or_default();
                    let fault = self.faults.crash(k).fault;
                    self.faults.effect(fault, |e| e.requests_while_down += 1);
                    if matches!(req, Request::Feed { .. }) {
                        self.faults.redeliver[p.index()].push(req);
                    }
                    (responses[i], answered[i]) = (Response::Busy, true);
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
                                (responses[i], answered[i]) = (Response::Ack, true);
                            }
                            continue;
                        }
                        batch.push((tag, req.clone()));
                    }
                }
                Route::Hub => hub_requests.push((i as u32, req)),
            }
        }

        let remote = self.send_remote(&mut per_province, |requests| HostWork::Round {
            now,
            requests,
        })?;
        let mut round1 = each_province(
            self.pool.as_deref(),
            &mut self.provinces,
            per_province,
            |platform, requests| ProvinceRound { now, requests }.apply(platform),
        );
        if !remote.is_empty() {
            for (p, done) in remote.iter().zip(self.receive_remote(&remote)?) {
                let HostDone::Round {
                    outcomes,
                    publications,
                } = done
                else {
                    return Err(mismatch(*p));
                };
                let result = ProvinceRoundResult {
                    outcomes: outcomes.into_iter().map(|(i, o)| (i, o.into())).collect(),
                    publications,
                };
                round1.push((p.index(), result));
            }
            round1.sort_by_key(|(p, _)| *p);
        }

        let mut publications = Vec::new();
        let mut queries = Vec::new();
        let mut pending: Vec<(usize, u32)> = Vec::new();
        for (p, result) in round1 {
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
                    Outcome::Done(r) if i != u32::MAX => {
                        (responses[i as usize], answered[i as usize]) = (r, true)
                    }
                    Outcome::Done(_) => {}
                    Outcome::NeedsHub(q) => {
                        pending.push((p, i));
                        queries.push(q);
                    }
                }
            }
        }

        let links_down = !links.is_up();
        if !publications.is_empty()
            || !queries.is_empty()
            || !hub_requests.is_empty()
            || !hub_feeds.is_empty()
            || links_down
        {
            let (tags, hub_requests): (Vec<u32>, Vec<Request>) = hub_requests.into_iter().unzip();
            let result = self.hub.round_on(
                HubRound {
                    now,
                    publications,
                    queries: queries.clone(),
                    requests: hub_requests,
                    feeds: hub_feeds,
                    links,
                },
                self.pool.as_deref(),
            );
            for (i, r) in tags.into_iter().zip(result.responses) {
                (responses[i as usize], answered[i as usize]) = (r, true);
            }
            self.from_hub.extend(result.outgoing);
            let answers = result.answers;
            let mut finish: Vec<Vec<_>> = vec![Vec::new(); PROVINCE_COUNT];
            for (((p, i), q), a) in pending.into_iter().zip(queries).zip(answers) {
                if a == HubAnswer::Unreachable {
                    self.unreachable[q.from.index()] += 1;
                }
                if faulty {
                    self.faults.unreachable(now, &q, &a);
                }
                finish[p].push((i, q, a));
            }
            let remote =
                self.send_remote(&mut finish, |answers| HostWork::Finish { now, answers })?;
            let mut round3 = each_province(
                self.pool.as_deref(),
                &mut self.provinces,
                finish,
                |platform, answers| FinishRound { now, answers }.apply(platform),
            );
            for (p, done) in remote.iter().zip(self.receive_remote(&remote)?) {
                let HostDone::Finish(answered) = done else {
                    return Err(mismatch(*p));
                };
                round3.push((
                    p.index(),
                    answered.into_iter().map(|a| (a.0, a.1)).collect(),
                ));
            }
            for (_, done) in round3 {
                for (i, r) in done {
                    (responses[i as usize], answered[i as usize]) = (r, true);
                }
            }
        }

        for (i, p, req) in watched {
            if answered[i] {
                let r = &responses[i];
                self.faults.acknowledge(p, &req, r);
            }
        }
        for (r, _) in responses.iter_mut().zip(&answered).filter(|(_, a)| !**a) {
            *r = Response::Refused(Refusal::Other {
                message: "no platform answered".into(),
            });
        }
        Ok(responses)
    }

    async fn census(&mut self, now: Minute) -> Result<ColorCensus, PortError> {
        let remote: Vec<ProvinceId> = ProvinceId::all().filter(|&p| self.is_remote(p)).collect();
        if let (Some(hosts), false) = (self.hosts.as_mut(), remote.is_empty()) {
            hosts.send(
                remote
                    .iter()
                    .map(|&p| (p, HostWork::Census { now }))
                    .collect(),
            )?;
        }
        let census = |p: &ProvincePlatform| p.census(now);
        let mut counts: ColorCensus = match &self.pool {
            Some(pool) => pool.install(|| self.provinces.par_iter().map(census).collect()),
            None => self.provinces.iter().map(census).collect(),
        };
        for (p, done) in remote.iter().zip(self.receive_remote(&remote)?) {
            let HostDone::Census(c) = done else {
                return Err(mismatch(*p));
            };
            counts[p.index()] = c;
        }
        Ok(counts)
    }

    fn in_process(&self) -> bool {
        true
    }
}
