//! Faults of the platform itself, injected by the in-process adapter at
//! fixed virtual times: a province cut off from the hub, a slow hub link,
//! a provincial platform that crashes and restarts from its durable log.
//!
//! What the adapter does about each, and why:
//! - partition: the hub round carries the province's link as
//!   `HubLink::Partitioned`; its publications wait at the province and
//!   reach the hub when the link is back.
//! - slow hub: the link is `HubLink::Slow`; answers later than the
//!   province's hub timeout count as unreachable.
//! - crash: the province's actor is dropped (its memory is lost; a write
//!   in flight is torn off the log). Until the restart every request to it
//!   is answered busy, and feeds for it are kept by their sender and
//!   delivered again after the restart. The restart recovers from the log
//!   and audits it: every registration and `seq` the platform acknowledged
//!   before the crash is read back with `Request::Records`.

use hcsim_platform::api::{CodeId, Request, Response};
use hcsim_platform::hub::{HubAnswer, HubLookup, HubQuery, Publication};
use hcsim_platform::hub_link::{HubLink, HubLinks};
use hcsim_platform::province::DurableLog;
use hcsim_platform::recognition::RecognitionPolicy;
use hcsim_platform::{Minute, ProvinceId, RuleSet, PROVINCE_COUNT};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// A province cut off from the hub over `[from, until)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Partition {
    /// Index of the fault, for reporting its effects.
    pub fault: usize,
    pub province: ProvinceId,
    pub from: Minute,
    pub until: Minute,
}

/// A slow hub link over `[from, until)`: for one province, or all.
#[derive(Clone, Debug, PartialEq)]
pub struct SlowHub {
    pub fault: usize,
    pub province: Option<ProvinceId>,
    pub from: Minute,
    pub until: Minute,
    pub added_ms: u32,
    pub timeout_ms: u32,
}

/// A provincial platform down from `at` until `restart`.
#[derive(Clone, Debug, PartialEq)]
pub struct Crash {
    pub fault: usize,
    pub province: ProvinceId,
    pub at: Minute,
    pub restart: Minute,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlatformFaults {
    pub partitions: Vec<Partition>,
    pub slow: Vec<SlowHub>,
    pub crashes: Vec<Crash>,
}

impl PlatformFaults {
    fn faults(&self) -> usize {
        let p = self.partitions.iter().map(|f| f.fault);
        let s = self.slow.iter().map(|f| f.fault);
        let c = self.crashes.iter().map(|f| f.fault);
        p.chain(s).chain(c).max().map_or(0, |m| m + 1)
    }

    /// Provinces that keep a durable log: those that will crash.
    pub fn crashes_in(&self, p: ProvinceId) -> bool {
        self.crashes.iter().any(|c| c.province == p)
    }
}

/// What one fault did to the platform, as the adapter saw it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlatformFaultEffect {
    /// Hub answers that did not reach the asking province.
    pub hub_unreachable: u64,
    /// Status publications that waited for the link to come back.
    pub publications_held: u64,
    /// Requests answered busy because the platform was down.
    pub requests_while_down: u64,
    /// Feeds delivered again after the restart.
    pub feeds_redelivered: u64,
    pub restarted: bool,
    /// Journal records rebuilt from the durable log.
    pub records_recovered: u64,
    pub registrations_recovered: u64,
    /// Bytes of the torn last frame, dropped at recovery.
    pub torn_bytes_dropped: u64,
    /// Acknowledged registrations and records read back after the restart.
    pub acknowledged_checked: u64,
    /// Of those, the ones missing.
    pub lost_acknowledged: u64,
    /// Acknowledged registrations and records not read back, because the
    /// platform was still down when the run ended (set at the crash,
    /// cleared by the restart's audit).
    pub acknowledged_unchecked: u64,
}

/// Shared with whoever reports the run; filled in as the faults happen.
/// What a crashing province restarts from: its durable log, and the rule
/// set, recognition policy and code key it ran under (its codes must still
/// verify after the restart).
pub type CrashKit = (
    DurableLog,
    Arc<RuleSet>,
    Arc<RecognitionPolicy>,
    hcsim_platform::CodeKey,
);

pub type FaultEffects = Arc<Mutex<Vec<PlatformFaultEffect>>>;

pub(crate) struct FaultState {
    pub plan: PlatformFaults,
    pub effects: FaultEffects,
    /// Logs and rule sets of the provinces that will crash.
    pub logs: Vec<Option<CrashKit>>,
    /// Per province: the crash it is down for.
    pub down: Vec<Option<usize>>,
    /// Per crash in the plan: whether it has happened / been recovered.
    crashed: Vec<bool>,
    restarted: Vec<bool>,
    held_publications: Vec<Vec<Publication>>,
    /// Feeds for a down province, delivered again after its restart.
    pub redeliver: Vec<Vec<Request>>,
    /// Per province that will crash: what it acknowledged (registrations
    /// as codes with no `seq`, records as their `seq`).
    pub acknowledged: Vec<BTreeMap<CodeId, Vec<u64>>>,
}

/// What happens at the start of a tick.
pub(crate) enum Event {
    Crash { crash: usize },
    Restart { crash: usize, province: ProvinceId },
}

impl FaultState {
    pub fn new(plan: PlatformFaults) -> FaultState {
        let n = plan.crashes.len();
        FaultState {
            effects: Arc::new(Mutex::new(vec![
                PlatformFaultEffect::default();
                plan.faults()
            ])),
            plan,
            logs: vec![None; PROVINCE_COUNT],
            down: vec![None; PROVINCE_COUNT],
            crashed: vec![false; n],
            restarted: vec![false; n],
            held_publications: vec![Vec::new(); PROVINCE_COUNT],
            redeliver: vec![Vec::new(); PROVINCE_COUNT],
            acknowledged: vec![BTreeMap::new(); PROVINCE_COUNT],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.plan == PlatformFaults::default()
    }

    pub fn effect(&self, fault: usize, f: impl FnOnce(&mut PlatformFaultEffect)) {
        let mut effects = self.effects.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = effects.get_mut(fault) {
            f(e);
        }
    }

    /// Crashes and restarts due at `now`, in plan order.
    pub fn events(&mut self, now: Minute) -> Vec<Event> {
        let mut out = Vec::new();
        for (k, c) in self.plan.crashes.iter().enumerate() {
            if !self.crashed[k] && c.at <= now {
                self.crashed[k] = true;
                self.down[c.province.index()] = Some(k);
                out.push(Event::Crash { crash: k });
            }
            if self.crashed[k] && !self.restarted[k] && c.restart <= now {
                self.restarted[k] = true;
                self.down[c.province.index()] = None;
                out.push(Event::Restart {
                    crash: k,
                    province: c.province,
                });
            }
        }
        out
    }

    pub fn crash(&self, k: usize) -> &Crash {
        &self.plan.crashes[k]
    }

    /// Every province's hub link at `now`.
    pub fn links(&self, now: Minute) -> HubLinks {
        let mut links = HubLinks::all_up();
        for s in &self.plan.slow {
            if s.from <= now && now < s.until {
                let link = HubLink::Slow {
                    added_ms: s.added_ms,
                    timeout_ms: s.timeout_ms,
                };
                match s.province {
                    Some(p) => links.set(p, link),
                    None => ProvinceId::all().for_each(|p| links.set(p, link)),
                }
            }
        }
        for f in &self.plan.partitions {
            if f.from <= now && now < f.until {
                links.set(f.province, HubLink::Partitioned);
            }
        }
        links
    }

    fn partition_of(&self, p: ProvinceId, now: Minute) -> Option<usize> {
        self.plan
            .partitions
            .iter()
            .find(|f| f.province == p && f.from <= now && now < f.until)
            .map(|f| f.fault)
    }

    fn slow_of(&self, p: ProvinceId, now: Minute) -> Option<usize> {
        self.plan
            .slow
            .iter()
            .find(|f| f.province.is_none_or(|q| q == p) && f.from <= now && now < f.until)
            .map(|f| f.fault)
    }

    /// Publications that may go to the hub now: those of provinces whose
    /// link is up, after what they held back.
    pub fn release_publications(
        &mut self,
        now: Minute,
        links: &HubLinks,
        p: ProvinceId,
        fresh: Vec<Publication>,
    ) -> Vec<Publication> {
        if links.get(p) == HubLink::Partitioned {
            if let Some(fault) = self.partition_of(p, now) {
                self.effect(fault, |e| e.publications_held += fresh.len() as u64);
            }
            self.held_publications[p.index()].extend(fresh);
            return Vec::new();
        }
        let mut out = std::mem::take(&mut self.held_publications[p.index()]);
        out.extend(fresh);
        out
    }

    /// Attributes an unreachable hub answer to the fault that caused it.
    pub fn unreachable(&self, now: Minute, q: &HubQuery, answer: &HubAnswer) {
        if *answer != HubAnswer::Unreachable {
            return;
        }
        let issuer = match q.lookup {
            HubLookup::Code(c) | HubLookup::Offline { code: c, .. } => match c.issuer {
                hcsim_platform::Issuer::Province(p) => Some(p),
                hcsim_platform::Issuer::National => None,
            },
            HubLookup::Document(d) => {
                ProvinceId::from_admin_code((d.0 / 1_000_000_000_000_000) as u8)
            }
        };
        let fault = self
            .partition_of(q.from, now)
            .or_else(|| self.slow_of(q.from, now))
            .or_else(|| issuer.and_then(|p| self.partition_of(p, now)));
        if let Some(fault) = fault {
            self.effect(fault, |e| e.hub_unreachable += 1);
        }
    }

    /// Registrations and records `p` acknowledged so far, each one that an
    /// audit would read back.
    pub fn acknowledged_count(&self, p: ProvinceId) -> u64 {
        self.acknowledged[p.index()]
            .values()
            .map(|seqs| 1 + seqs.len() as u64)
            .sum()
    }

    /// Notes what a province that will crash acknowledged.
    pub fn acknowledge(&mut self, p: ProvinceId, req: &Request, resp: &Response) {
        if self.logs[p.index()].is_none() {
            return;
        }
        let acked = &mut self.acknowledged[p.index()];
        match (req, resp) {
            (
                Request::Declare { code, .. } | Request::Temperature { code, .. },
                Response::Recorded { seq, .. },
            ) => acked.entry(*code).or_default().push(*seq),
            (
                Request::Apply { .. } | Request::ApplyFamily { .. },
                Response::Issued { code, .. },
            ) => {
                acked.entry(*code).or_default();
            }
            _ => {}
        }
    }
}
