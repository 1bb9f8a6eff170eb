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

#[cfg(test)]
mod tests {
    use super::*;
    use hcsim_platform::api::{CheckpointKind, CountyRef, DeciCelsius, Place, Relation};
    use hcsim_platform::identity::{DocKind, DocNumber, Identity, NameCode};
    use hcsim_platform::{CodeKeys, Color, Issuer};

    fn p(key: &str) -> ProvinceId {
        ProvinceId::parse(key).unwrap()
    }

    /// Fault numbers 3 (Hubei slow 100–200), 4 (Anhui cut off 150–250),
    /// 5 (every link slow 300–400) and 6 (Hubei down 100, up at 200): the
    /// numbering is the scenario's, not the order within each kind.
    fn plan() -> PlatformFaults {
        PlatformFaults {
            partitions: vec![Partition {
                fault: 4,
                province: p("anhui"),
                from: Minute(150),
                until: Minute(250),
            }],
            slow: vec![
                SlowHub {
                    fault: 3,
                    province: Some(p("hubei")),
                    from: Minute(100),
                    until: Minute(200),
                    added_ms: 50,
                    timeout_ms: 30,
                },
                SlowHub {
                    fault: 5,
                    province: None,
                    from: Minute(300),
                    until: Minute(400),
                    added_ms: 7,
                    timeout_ms: 9,
                },
            ],
            crashes: vec![Crash {
                fault: 6,
                province: p("hubei"),
                at: Minute(100),
                restart: Minute(200),
            }],
        }
    }

    fn effects(s: &FaultState) -> Vec<PlatformFaultEffect> {
        s.effects.lock().unwrap().clone()
    }

    fn person(home: &str, n: u16) -> Identity {
        Identity {
            doc: DocKind::IdCard,
            number: DocNumber::resident(p(home), n, 19_900_101, 7),
            name: NameCode::new(1, 2, Some(3)),
            age: 30,
        }
    }

    fn code(home: &str, serial: u32) -> CodeId {
        CodeKeys::default().sign(Issuer::Province(p(home)), serial)
    }

    #[test]
    fn one_effect_per_fault_number_up_to_the_highest() {
        // Highest number 6: seven effects, numbers 0–2 belonging to faults
        // of other kinds (feeds, surges) the platform does not see.
        assert_eq!(FaultState::new(plan()).effects.lock().unwrap().len(), 7);
        assert_eq!(plan().faults(), 7);
        assert_eq!(PlatformFaults::default().faults(), 0);
        let one = PlatformFaults {
            crashes: plan().crashes,
            ..Default::default()
        };
        assert_eq!(one.faults(), 7);
        assert!(plan().crashes_in(p("hubei")));
        assert!(!plan().crashes_in(p("anhui")));
        assert!(FaultState::new(PlatformFaults::default()).is_empty());
        assert!(!FaultState::new(one).is_empty());
    }

    #[test]
    fn effects_go_to_their_fault_and_unknown_numbers_are_ignored() {
        let s = FaultState::new(plan());
        s.effect(4, |e| e.hub_unreachable += 2);
        s.effect(4, |e| e.hub_unreachable += 1);
        s.effect(99, |e| e.hub_unreachable += 1);
        let e = effects(&s);
        assert_eq!(e[4].hub_unreachable, 3);
        assert_eq!(e.iter().map(|e| e.hub_unreachable).sum::<u64>(), 3);
    }

    #[test]
    fn a_crash_and_its_restart_each_happen_once_at_their_minute() {
        let mut s = FaultState::new(plan());
        let hubei = p("hubei").index();
        assert!(s.events(Minute(99)).is_empty());
        assert_eq!(s.down[hubei], None);
        let at_100 = s.events(Minute(100));
        assert!(matches!(at_100[..], [Event::Crash { crash: 0 }]));
        assert_eq!(s.down[hubei], Some(0));
        assert!(s.events(Minute(150)).is_empty(), "already down");
        assert_eq!(s.down[hubei], Some(0));
        assert!(s.events(Minute(199)).is_empty());
        let at_200 = s.events(Minute(200));
        assert!(
            matches!(at_200[..], [Event::Restart { crash: 0, province }] if province == p("hubei"))
        );
        assert_eq!(s.down[hubei], None);
        assert!(s.events(Minute(300)).is_empty(), "already restarted");
        assert_eq!(s.crash(0).restart, Minute(200));
        // A crash first seen after its restart time goes down and up in
        // the same step.
        let mut late = FaultState::new(plan());
        let both = late.events(Minute(500));
        assert!(matches!(
            both[..],
            [Event::Crash { crash: 0 }, Event::Restart { crash: 0, .. }]
        ));
        assert_eq!(late.down[hubei], None);
    }

    #[test]
    fn links_follow_each_fault_window_from_its_start_to_before_its_end() {
        let s = FaultState::new(plan());
        let (hubei, anhui, beijing) = (p("hubei"), p("anhui"), p("beijing"));
        let slow = |added_ms, timeout_ms| HubLink::Slow {
            added_ms,
            timeout_ms,
        };
        assert_eq!(s.links(Minute(99)), HubLinks::all_up());
        assert_eq!(s.links(Minute(100)).get(hubei), slow(50, 30));
        assert_eq!(s.links(Minute(100)).get(anhui), HubLink::Up);
        assert_eq!(s.links(Minute(199)).get(hubei), slow(50, 30));
        assert_eq!(s.links(Minute(200)).get(hubei), HubLink::Up);
        assert_eq!(s.links(Minute(149)).get(anhui), HubLink::Up);
        assert_eq!(s.links(Minute(150)).get(anhui), HubLink::Partitioned);
        assert_eq!(s.links(Minute(249)).get(anhui), HubLink::Partitioned);
        assert_eq!(s.links(Minute(250)), HubLinks::all_up());
        // A slow hub with no province slows every link.
        for q in [hubei, anhui, beijing] {
            assert_eq!(s.links(Minute(300)).get(q), slow(7, 9));
            assert_eq!(s.links(Minute(399)).get(q), slow(7, 9));
        }
        assert_eq!(s.links(Minute(400)), HubLinks::all_up());

        assert_eq!(s.partition_of(anhui, Minute(150)), Some(4));
        assert_eq!(s.partition_of(anhui, Minute(249)), Some(4));
        assert_eq!(s.partition_of(anhui, Minute(149)), None);
        assert_eq!(s.partition_of(anhui, Minute(250)), None);
        assert_eq!(s.partition_of(hubei, Minute(150)), None);
        assert_eq!(s.slow_of(hubei, Minute(100)), Some(3));
        assert_eq!(s.slow_of(hubei, Minute(199)), Some(3));
        assert_eq!(s.slow_of(hubei, Minute(99)), None);
        assert_eq!(s.slow_of(hubei, Minute(200)), None);
        assert_eq!(s.slow_of(anhui, Minute(100)), None);
        assert_eq!(s.slow_of(beijing, Minute(300)), Some(5));
        assert_eq!(s.slow_of(beijing, Minute(400)), None);
    }

    fn publication(serial: u32) -> Publication {
        Publication {
            code: code("anhui", serial),
            holder: person("anhui", serial as u16),
            color: Color::Green,
            at: Minute(160),
            explanation: None,
            nat: None,
        }
    }

    #[test]
    fn a_partitioned_province_holds_its_publications_until_the_link_is_back() {
        let mut s = FaultState::new(plan());
        let anhui = p("anhui");
        let cut = s.links(Minute(160));
        let held = s.release_publications(
            Minute(160),
            &cut,
            anhui,
            vec![publication(1), publication(2)],
        );
        assert!(held.is_empty());
        let held = s.release_publications(Minute(170), &cut, anhui, vec![publication(3)]);
        assert!(held.is_empty());
        assert_eq!(effects(&s)[4].publications_held, 3);
        let up = s.links(Minute(250));
        let out = s.release_publications(Minute(250), &up, anhui, vec![publication(4)]);
        let serials: Vec<u32> = out.iter().map(|x| x.code.serial).collect();
        assert_eq!(serials, [1, 2, 3, 4], "held first, in order, then fresh");
        let again = s.release_publications(Minute(251), &up, anhui, Vec::new());
        assert!(again.is_empty(), "released once");
        assert_eq!(effects(&s)[4].publications_held, 3);
    }

    #[test]
    fn an_unanswered_query_is_charged_to_the_fault_that_cut_it() {
        let s = FaultState::new(plan());
        let (anhui, hubei, beijing) = (p("anhui"), p("hubei"), p("beijing"));
        let by_code = |from, c| HubQuery {
            from,
            lookup: HubLookup::Code(c),
        };
        // Hubei's own link is slow at 150: the slow hub's fault.
        s.unreachable(
            Minute(150),
            &by_code(hubei, code("beijing", 1)),
            &HubAnswer::Unreachable,
        );
        // Beijing asks about an Anhui code while Anhui is cut off: Anhui's
        // partition, found from the code's issuer and from the document's
        // region prefix (an Anhui ID number starts 34).
        s.unreachable(
            Minute(160),
            &by_code(beijing, code("anhui", 2)),
            &HubAnswer::Unreachable,
        );
        let doc = person("anhui", 5).number;
        assert_eq!(doc.0 / 10u64.pow(15), 34);
        s.unreachable(
            Minute(160),
            &HubQuery {
                from: beijing,
                lookup: HubLookup::Document(doc),
            },
            &HubAnswer::Unreachable,
        );
        // Anhui itself asks while cut off.
        s.unreachable(
            Minute(160),
            &by_code(anhui, code("beijing", 3)),
            &HubAnswer::Unreachable,
        );
        // An answer, or a query no fault explains, is not charged.
        s.unreachable(
            Minute(160),
            &by_code(beijing, code("anhui", 2)),
            &HubAnswer::Unknown,
        );
        s.unreachable(
            Minute(260),
            &by_code(beijing, code("anhui", 2)),
            &HubAnswer::Unreachable,
        );
        s.unreachable(
            Minute(160),
            &by_code(beijing, CodeKeys::default().sign(Issuer::National, 4)),
            &HubAnswer::Unreachable,
        );
        let e = effects(&s);
        assert_eq!(e[3].hub_unreachable, 1);
        assert_eq!(e[4].hub_unreachable, 3);
        assert_eq!(e.iter().map(|e| e.hub_unreachable).sum::<u64>(), 4);
    }

    #[test]
    fn acknowledged_records_are_counted_only_where_a_log_is_kept() {
        let mut s = FaultState::new(plan());
        let (hubei, anhui) = (p("hubei"), p("anhui"));
        let rules = RuleSet::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/rules/hubei.toml"),
        )
        .unwrap();
        s.logs[hubei.index()] = Some((
            DurableLog::new(),
            Arc::new(rules),
            Arc::new(RecognitionPolicy::default()),
            CodeKeys::default().province(hubei).clone(),
        ));
        let (a, b) = (code("hubei", 0), code("hubei", 1));
        let apply = Request::Apply {
            province: hubei,
            identity: person("hubei", 0),
            face_verified: true,
            national: false,
        };
        let declare = Request::Declare {
            code: a,
            temperature: DeciCelsius(365),
            symptoms: false,
            contact: false,
        };
        let temperature = Request::Temperature {
            code: a,
            temperature: DeciCelsius(380),
            place: Place {
                county: CountyRef {
                    province: hubei,
                    county: 0,
                },
                kind: CheckpointKind::Office,
            },
        };
        let family = Request::ApplyFamily {
            proxy: a,
            member: person("hubei", 1),
            relation: Relation::Child,
        };
        let recorded = |seq| Response::Recorded {
            seq,
            color: Color::Green,
        };
        let issued = |code| Response::Issued {
            code,
            color: Color::Green,
        };
        for (p, req, resp) in [
            (hubei, &apply, issued(a)),
            (hubei, &declare, recorded(5)),
            (hubei, &temperature, recorded(6)),
            (hubei, &family, issued(b)),
            // Not acknowledged: nothing to lose.
            (hubei, &declare, Response::Busy),
            (hubei, &Request::Query { code: a }, issued(a)),
            // No durable log in Anhui: nothing is tracked there.
            (anhui, &apply, issued(a)),
            (anhui, &declare, recorded(7)),
        ] {
            s.acknowledge(p, req, &resp);
        }
        // Two registrations and two journal records: 1 + 2 for code a,
        // 1 + 0 for code b.
        assert_eq!(s.acknowledged_count(hubei), 4);
        assert_eq!(s.acknowledged[hubei.index()][&a], [5, 6]);
        assert!(s.acknowledged[hubei.index()][&b].is_empty());
        assert_eq!(s.acknowledged_count(anhui), 0);
    }
}
