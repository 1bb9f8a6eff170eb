//! The oracle: an independent reference model of every scheme's rules that
//! watches the engine's traffic and checks the platform's answers about a
//! sample of citizens, plus invariants checked on every answer.
//!
//! - `model`: what a code must be, recomputed from a citizen's history;
//! - `invariants`: privacy, checkpoint table, offline expiry;
//! - `violation`: a disagreement and its reproducer (`hcsim replay`).
//!
//! The oracle only learns facts the platform acknowledged (a feed answered
//! `Ack`, a declaration answered `Recorded`, an application answered
//! `Issued`): what was never received cannot be held against the platform,
//! and what was acknowledged must count.

pub mod invariants;
pub mod model;
pub mod replay;
pub mod violation;

use crate::engine::message::{Agent, Tag};
use crate::engine::observer::TickChecker;
use hcsim_platform::api::{
    CaseStatus, CodeId, Credential, DeciCelsius, Feed, InboundAnswer, InboundRequest,
    QuarantineKind, Request, Response, Verdict,
};
use hcsim_platform::identity::DocNumber;
use hcsim_platform::rules::RuleSet;
use hcsim_platform::{Color, Minute, ProvinceId};
use hcsim_reports::summary::OracleSummary;
use model::{code_at, Code, Dated, Fact, History, RiskHistory, Scheme};
use rustc_hash::FxHashMap;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use violation::{Event, Sender, Violation};

/// `[oracle]` in a scenario.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OracleConfig {
    /// Off: no checks at all (for measuring the oracle's cost).
    pub disabled: bool,
    /// Share of citizens checked, 0..=1. Absent: everyone in runs of up to
    /// `FULL_CHECK_CITIZENS`, else a seeded sample of about that many.
    pub sample: Option<f64>,
}

/// Runs up to this size check every citizen by default.
pub const FULL_CHECK_CITIZENS: u32 = 50_000;
/// Violation files written per run; all are counted.
pub const MAX_FILES: usize = 100;

impl OracleConfig {
    pub fn share(&self, citizens: u32) -> f64 {
        match self.sample {
            Some(s) => s,
            None if citizens <= FULL_CHECK_CITIZENS => 1.0,
            None => FULL_CHECK_CITIZENS as f64 / citizens as f64,
        }
    }
}

/// Whether a citizen is in the seeded sample.
pub fn sampled(seed: u64, citizen: u32, share: f64) -> bool {
    if share >= 1.0 {
        return true;
    }
    let h = crate::rng::mix(seed, citizen as u64, 0x4f52_4143_4c45);
    ((h >> 11) as f64 / (1u64 << 53) as f64) < share
}

/// Where the oracle gets each province's scheme, and what a reproducer
/// names as its rule files.
pub struct Setup {
    pub seed: u64,
    pub scenario: String,
    /// Index = `ProvinceId`.
    pub rules: Vec<Arc<RuleSet>>,
    pub rule_files: Vec<String>,
    pub share: f64,
    /// The keys the platform under test signs codes with: a code they do
    /// not sign is forged, and its answer must carry no color.
    pub code_keys: hcsim_platform::CodeKeys,
}

struct Tracked {
    citizen: u32,
    home: ProvinceId,
    code: Option<CodeId>,
    history: History,
    /// Fact-bearing requests, for reproducers.
    events: Vec<Kept>,
    /// Acknowledged journal entries: (seq, kind, temperature).
    acked: Vec<(u64, &'static str, DeciCelsius)>,
    /// Filed an application (own, or by a family member as proxy).
    applied: bool,
    reported: bool,
}

#[derive(Default)]
struct Counts {
    checks: u64,
    invariant_checks: u64,
    recognition_checks: u64,
    recognition_disagreements: u64,
    records_audited: u64,
    lost_records: u64,
    audit_unanswered: u64,
    by_kind: BTreeMap<String, u64>,
}

pub struct Oracle {
    setup: Setup,
    schemes: Vec<Arc<Scheme>>,
    slots: Vec<Tracked>,
    by_citizen: FxHashMap<u32, usize>,
    by_doc: FxHashMap<DocNumber, usize>,
    by_code: FxHashMap<CodeId, usize>,
    risk: RiskHistory,
    risk_events: Vec<Kept>,
    order: u64,
    counts: Counts,
    violations: Vec<Violation>,
    audit_slots: Vec<usize>,
    /// Same-flight contacts the hub found this tick: it designates them to
    /// their province with the next exchange, so the oracle learns the
    /// designation then, dated as the hub dates it.
    same_flight: Vec<(usize, Minute, Vec<u32>, Kept)>,
    same_flight_done: std::collections::HashSet<usize>,
}

/// An exchange kept for a reproducer. The answer stays typed until a
/// reproducer is written: as a JSON value it took about 1 KB per exchange,
/// a tenth of a national run's memory.
#[derive(Clone)]
struct Kept {
    order: u64,
    now: Minute,
    sender: Sender,
    request: Request,
    response: Response,
}

impl Kept {
    fn event(&self) -> Event {
        Event {
            order: self.order,
            now: self.now,
            sender: self.sender,
            request: self.request.clone(),
            response: serde_json::to_value(&self.response).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// One request and its answer, made into an `Event` only when a
/// reproducer needs it (serializing every answer would double a run).
#[derive(Clone, Copy)]
struct Seen<'a> {
    now: Minute,
    sender: Sender,
    req: &'a Request,
    resp: &'a Response,
}

/// A scan of a tracked citizen in another province, checked once the tick's
/// facts are all in (the hub answers with the issuer's state after its
/// round, whatever the order within the batch).
struct Remote {
    slot: usize,
    verdict: Verdict,
    event: Event,
}

/// The engine hands the oracle each tick's exchanges through its own trait.
impl TickChecker for Oracle {
    /// As `Oracle::observe`, the routine exchanges told apart on `pool`
    /// first (in pieces of at least 1,024): all but a sample's share of a
    /// large run's traffic is about citizens the oracle does not follow,
    /// and needs only its checks counted.
    fn check_tick(
        &mut self,
        pool: Option<&rayon::ThreadPool>,
        now: Minute,
        tags: &[Tag],
        requests: &[Request],
        responses: &[Response],
    ) {
        use rayon::prelude::*;
        self.learn_same_flight_contacts();
        let routine: Vec<Option<u64>> = match pool {
            Some(pool) => {
                let this = &*self;
                pool.install(|| {
                    requests
                        .par_iter()
                        .zip(responses)
                        .with_min_len(1024)
                        .map(|(req, resp)| this.routine(now, req, resp))
                        .collect()
                })
            }
            _ => Vec::new(),
        };
        let mut remote = Vec::new();
        for (i, ((tag, req), resp)) in tags.iter().zip(requests).zip(responses).enumerate() {
            self.order += 1;
            if let Some(Some(checks)) = routine.get(i) {
                self.counts.invariant_checks += checks;
                continue;
            }
            let sender = match tag.agent {
                Agent::Citizen(id) => Sender::Citizen(id),
                Agent::Checkpoint(_) => Sender::Checkpoint,
                Agent::Authority => Sender::Authority,
                Agent::Telecom => Sender::Telecom(tag.aux),
            };
            self.one(now, sender, (tag.agent, tag.aux), req, resp, &mut remote);
        }
        for r in remote {
            self.check_remote(now, r);
        }
    }
}

impl Oracle {
    pub fn new(setup: Setup) -> Oracle {
        let mut by_file: Vec<(*const RuleSet, Arc<Scheme>)> = Vec::new();
        let schemes = setup
            .rules
            .iter()
            .map(|r| {
                let key = Arc::as_ptr(r);
                if let Some((_, s)) = by_file.iter().find(|(k, _)| *k == key) {
                    return s.clone();
                }
                let s = Arc::new(Scheme::read(r));
                by_file.push((key, s.clone()));
                s
            })
            .collect();
        Oracle {
            setup,
            schemes,
            slots: Vec::new(),
            by_citizen: FxHashMap::default(),
            by_doc: FxHashMap::default(),
            by_code: FxHashMap::default(),
            risk: RiskHistory::default(),
            risk_events: Vec::new(),
            same_flight: Vec::new(),
            same_flight_done: Default::default(),
            order: 0,
            counts: Counts::default(),
            violations: Vec::new(),
            audit_slots: Vec::new(),
        }
    }

    /// The oracle of a run: tracks the scenario's sample of the world.
    pub fn for_world(setup: Setup, world: &crate::world::World) -> Oracle {
        let share = setup.share;
        let seed = setup.seed;
        let mut o = Oracle::new(setup);
        for id in 0..world.citizens() {
            if sampled(seed, id, share) {
                o.track(id, world.home_province(id), world.identity(id).number);
            }
        }
        o
    }

    /// Checks everything that concerns this citizen from now on.
    pub fn track(&mut self, citizen: u32, home: ProvinceId, doc: DocNumber) {
        let slot = self.slots.len();
        self.slots.push(Tracked {
            citizen,
            home,
            code: None,
            history: History::default(),
            events: Vec::new(),
            acked: Vec::new(),
            applied: false,
            reported: false,
        });
        self.by_citizen.insert(citizen, slot);
        self.by_doc.insert(doc, slot);
    }

    pub fn tracked(&self) -> usize {
        self.slots.len()
    }

    fn scheme(&self, p: ProvinceId) -> &Scheme {
        &self.schemes[p.index()]
    }

    fn slot_of_code(&self, c: &CodeId) -> Option<usize> {
        self.by_code.get(c).copied()
    }

    fn slot_of_credential(&self, c: &Credential) -> Option<usize> {
        match c {
            Credential::Code(code) | Credential::Offline { code, .. } => self.slot_of_code(code),
            Credential::IdCard(d) => self.by_doc.get(d).copied(),
        }
    }

    /// One tick's traffic: the i-th response answers the i-th request.
    pub fn observe(
        &mut self,
        now: Minute,
        tags: &[Tag],
        requests: &[Request],
        responses: &[Response],
    ) {
        self.check_tick(None, now, tags, requests, responses);
    }

    /// The invariant checks `one` counts for an exchange that breaks
    /// none and names nobody the oracle follows, whose whole effect that
    /// count is; `None` for every other exchange.
    fn routine(&self, now: Minute, req: &Request, resp: &Response) -> Option<u64> {
        if req.code().is_some() && !self.setup.code_keys.admits(req) {
            return None;
        }
        invariants::privacy(resp).ok()?;
        let table = |scanning: ProvinceId| match resp {
            Response::Verdict(v) => self.table_breach(scanning, v).is_none().then_some(1),
            _ => Some(0),
        };
        match req {
            Request::Apply {
                identity,
                national: false,
                ..
            } => (!self.by_doc.contains_key(&identity.number)).then_some(1),
            Request::Declare { code, .. }
            | Request::Temperature { code, .. }
            | Request::Query { code }
            | Request::Offline { code } => self.slot_of_code(code).is_none().then_some(1),
            Request::Verify {
                credential, place, ..
            } => {
                let scanning = place.county.province;
                let hours = self.scheme(scanning).offline_valid_hours;
                if invariants::offline_expired(credential, now, hours)
                    && !matches!(resp, Response::Refused(_) | Response::Busy)
                {
                    return None;
                }
                let checks = 2 + table(scanning)?;
                self.slot_of_credential(credential)
                    .is_none()
                    .then_some(checks)
            }
            Request::PlaceScan { code, place, .. } => {
                let checks = 1 + table(place.county.province)?;
                self.slot_of_code(code).is_none().then_some(checks)
            }
            _ => None,
        }
    }

    fn kept(&self, now: Minute, sender: Sender, req: &Request, resp: &Response) -> Kept {
        Kept {
            order: self.order,
            now,
            sender,
            request: req.clone(),
            response: resp.clone(),
        }
    }

    fn event(&self, now: Minute, sender: Sender, req: &Request, resp: &Response) -> Event {
        self.kept(now, sender, req, resp).event()
    }

    fn one(
        &mut self,
        now: Minute,
        sender: Sender,
        (tag_agent, tag_aux): (Agent, u32),
        req: &Request,
        resp: &Response,
        remote: &mut Vec<Remote>,
    ) {
        self.counts.invariant_checks += 1;
        if let Some(forged) = req.code().filter(|_| !self.setup.code_keys.admits(req)) {
            if let Err(detail) = invariants::forged_code_uncolored(resp) {
                let e = self.event(now, sender, req, resp);
                // The reproducer carries the history of the holder whose
                // record the forged code names, so that a replay registers
                // them and the forged code names a record there too.
                let genuine = self.setup.code_keys.sign(forged.issuer, forged.serial);
                let holder = self.slot_of_code(&genuine);
                self.violate(
                    holder,
                    "forged_code_colored",
                    now,
                    "refused: forged_code".into(),
                    answer(resp),
                    format!("{detail}: {forged:?}"),
                    e,
                );
            }
        }
        if let Err(detail) = invariants::privacy(resp) {
            let slot = match sender {
                Sender::Citizen(id) | Sender::Telecom(id) => self.by_citizen.get(&id).copied(),
                _ => None,
            };
            let e = self.event(now, sender, req, resp);
            self.violate(
                slot,
                "unmasked_identity",
                now,
                "masked".into(),
                "unmasked".into(),
                detail,
                e,
            );
        }
        match req {
            Request::Apply {
                province,
                identity,
                face_verified,
                national: false,
            } => {
                let Some(&s) = self.by_doc.get(&identity.number) else {
                    return;
                };
                if *province != self.slots[s].home {
                    return;
                }
                self.slots[s].applied = true;
                self.apply(now, sender, s, req, resp, identity.age, *face_verified);
            }
            Request::Declare {
                code,
                temperature,
                symptoms,
                contact,
            } => {
                let Some(s) = self.slot_of_code(code) else {
                    return;
                };
                let fact = Fact::Declared {
                    temperature: temperature.0,
                    symptoms: *symptoms,
                    contact: *contact,
                };
                self.filed(now, sender, s, req, resp, fact, "declaration", *temperature);
            }
            Request::Temperature {
                code, temperature, ..
            } => {
                let Some(s) = self.slot_of_code(code) else {
                    return;
                };
                let fact = Fact::Reading {
                    temperature: temperature.0,
                };
                self.filed(now, sender, s, req, resp, fact, "temperature", *temperature);
            }
            Request::Query { code } | Request::Offline { code } => {
                let Some(s) = self.slot_of_code(code) else {
                    return;
                };
                match resp {
                    Response::Health {
                        color, explanation, ..
                    } => {
                        let x = Seen {
                            now,
                            sender,
                            req,
                            resp,
                        };
                        let expected = self.expect(s, now, *color, x);
                        if expected.color == *color {
                            let shown = explanation.as_ref().map(|x| x.reason.clone());
                            self.check_explanation(s, now, &expected, shown, x);
                        }
                    }
                    Response::OfflineCode { color, .. } => {
                        self.expect(
                            s,
                            now,
                            *color,
                            Seen {
                                now,
                                sender,
                                req,
                                resp,
                            },
                        );
                    }
                    _ => self.refused_registered(now, sender, s, req, resp),
                }
            }
            Request::Verify {
                credential,
                place,
                temperature,
            } => {
                let scanning = place.county.province;
                self.counts.invariant_checks += 1;
                let hours = self.scheme(scanning).offline_valid_hours;
                if invariants::offline_expired(credential, now, hours)
                    && !matches!(resp, Response::Refused(_) | Response::Busy)
                {
                    let e = self.event(now, sender, req, resp);
                    let slot = self.slot_of_credential(credential);
                    self.violate(
                        slot,
                        "offline_expired_accepted",
                        now,
                        "refused (offline code expired)".into(),
                        answer(resp),
                        format!("offline codes are valid {hours} h in {}", scanning.key()),
                        e,
                    );
                    return;
                }
                if let Response::Verdict(v) = resp {
                    self.check_table(now, sender, req, resp, scanning, v);
                }
                let Some(s) = self.slot_of_credential(credential) else {
                    return;
                };
                if let Agent::Checkpoint(_) = tag_agent {
                    let since = crate::agents::checkpoint::minutes_since_arrival(tag_aux);
                    let arrived = Minute(now.0.saturating_sub(since));
                    self.check_isolation(now, sender, s, req, resp, place.kind, arrived);
                }
                // A document not registered when the province handled the
                // scan is looked up at the hub, even in the home province.
                let via_hub = matches!(resp, Response::Verdict(v) if v.via_hub);
                if scanning != self.slots[s].home || via_hub {
                    if let Response::Verdict(v) = resp {
                        let event = self.event(now, sender, req, resp);
                        remote.push(Remote {
                            slot: s,
                            verdict: v.clone(),
                            event,
                        });
                    }
                    return;
                }
                let Response::Verdict(v) = resp else {
                    if self.slots[s].code.is_some() {
                        self.refused_registered(now, sender, s, req, resp);
                    }
                    return;
                };
                if let Some(t) = temperature.filter(|t| self.reading_matters(scanning, *t)) {
                    let fact = Fact::Reading { temperature: t.0 };
                    self.learn(now, sender, s, req, resp, Dated { at: now, fact }, false);
                }
                self.check_local(now, sender, s, req, resp, v);
            }
            Request::PlaceScan {
                code,
                place,
                temperature,
            } => {
                if let Response::Verdict(v) = resp {
                    self.check_table(now, sender, req, resp, place.county.province, v);
                }
                let Some(s) = self.slot_of_code(code) else {
                    return;
                };
                if place.county.province != self.slots[s].home {
                    return;
                }
                if let Response::Verdict(v) = resp {
                    let fact = Fact::Reading {
                        temperature: temperature.0,
                    };
                    self.learn(now, sender, s, req, resp, Dated { at: now, fact }, false);
                    self.check_local(now, sender, s, req, resp, v);
                }
            }
            Request::Inbound(InboundRequest::SameFlightCheck { person }) => {
                let Response::Inbound(InboundAnswer::SameFlight { flights }) = resp else {
                    return;
                };
                let Some(&s) = self.by_doc.get(person) else {
                    return;
                };
                if !flights.is_empty() && self.same_flight_done.insert(s) {
                    let e = self.kept(now, sender, req, resp);
                    self.same_flight.push((s, now, flights.clone(), e));
                }
            }
            Request::ApplyFamily { member, .. } => {
                if let Some(&s) = self.by_doc.get(&member.number) {
                    self.slots[s].applied = true;
                }
            }
            Request::Feed { to, feed } => {
                if !matches!(resp, Response::Ack) {
                    return;
                }
                if let Feed::NatResult { person, at, .. } = feed {
                    self.check_nat_causality(now, sender, req, resp, *person, *at);
                }
                if let (None, Feed::RiskArea { county, level, at }) = (to, feed) {
                    self.risk.set(*county, *at, *level);
                    let e = self.kept(now, sender, req, resp);
                    self.risk_events.push(e);
                    return;
                }
                let Some(person) = feed.person() else { return };
                let Some(&s) = self.by_doc.get(&person) else {
                    return;
                };
                if to.is_some_and(|p| p != self.slots[s].home) {
                    return;
                }
                if let Some(d) = feed_fact(feed, now) {
                    self.learn(now, sender, s, req, resp, d, true);
                }
            }
            _ => {}
        }
    }

    /// Nobody under a quarantine order queues at a checkpoint the order
    /// does not allow (`invariants::allowed_in_quarantine`): the scan's
    /// visitor arrived `wait` minutes before it, under the order in force
    /// then.
    #[allow(clippy::too_many_arguments)]
    fn check_isolation(
        &mut self,
        now: Minute,
        sender: Sender,
        s: usize,
        req: &Request,
        resp: &Response,
        kind: hcsim_platform::api::CheckpointKind,
        arrived: Minute,
    ) {
        self.counts.invariant_checks += 1;
        if invariants::allowed_in_quarantine(kind) {
            return;
        }
        let Some((start, end)) = self.slots[s].history.quarantined_at(arrived) else {
            return;
        };
        let e = self.event(now, sender, req, resp);
        let reported = self.slots[s].reported;
        self.violate(
            Some(s),
            "scan_in_isolation",
            now,
            format!("at home until {end} (quarantine from {start})"),
            format!("scanned at a {} at {arrived}", kind.as_str()),
            "a person under a quarantine order went where the order does not allow".into(),
            e,
        );
        // The simulation's breach, not the platform's: the citizen's one
        // reproducer stays for a rule disagreement.
        self.slots[s].reported = reported;
    }

    /// A NAT result is published after its sample was taken, and only
    /// about a person who has applied for a code: the simulation's own
    /// causality, which the platform takes on trust.
    fn check_nat_causality(
        &mut self,
        now: Minute,
        sender: Sender,
        req: &Request,
        resp: &Response,
        person: DocNumber,
        sampled: Minute,
    ) {
        self.counts.invariant_checks += 1;
        let slot = self.by_doc.get(&person).copied();
        let (expected, detail) = if sampled > now {
            (
                format!("a result published at or after its sample ({sampled})"),
                "a NAT result precedes its sample",
            )
        } else if slot.is_some_and(|s| !self.slots[s].applied) {
            (
                "a result about a person who has applied for a code".to_string(),
                "a NAT result precedes the person's application",
            )
        } else {
            return;
        };
        let e = self.event(now, sender, req, resp);
        // A causality breach is the simulation's, not the platform's: it
        // must not take the citizen's one reproducer from a rule
        // disagreement that may follow.
        let reported = slot.map(|s| self.slots[s].reported);
        self.violate(
            slot,
            "nat_causality",
            now,
            expected,
            format!("published {now}"),
            detail.into(),
            e,
        );
        if let (Some(s), Some(r)) = (slot, reported) {
            self.slots[s].reported = r;
        }
    }

    /// The hub's same-flight contact designation, mirrored: a close contact
    /// from the check, in centralized quarantine for 14 days from the
    /// arrival of the flight that carried the case (at least a day).
    fn learn_same_flight_contacts(&mut self) {
        for (s, at, flights, event) in std::mem::take(&mut self.same_flight) {
            let exposed = self.slots[s]
                .history
                .facts()
                .iter()
                .filter(|d| {
                    matches!(d.fact, Fact::Inert { what: 2, detail }
                        if flights.contains(&(detail as u32)))
                })
                .map(|d| d.at)
                .max()
                .unwrap_or(at);
            let end = exposed.plus_days(14).max(at.plus_days(1));
            for fact in [
                Fact::Designation(CaseStatus::CloseContact),
                Fact::Quarantine {
                    kind: QuarantineKind::Centralized,
                    end,
                },
            ] {
                if self.slots[s].history.add(Dated { at, fact }, true) {
                    self.slots[s].events.push(event.clone());
                }
            }
        }
    }

    /// Readings below every checkpoint threshold of the scheme can fire
    /// nothing; the oracle does not keep them.
    fn reading_matters(&self, p: ProvinceId, t: DeciCelsius) -> bool {
        let rules = &self.setup.rules[p.index()];
        rules.triggers().iter().any(|r| {
            matches!(r.on, hcsim_platform::rules::TriggerOn::CheckpointTemperature { threshold } if t >= threshold)
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn learn(
        &mut self,
        now: Minute,
        sender: Sender,
        s: usize,
        req: &Request,
        resp: &Response,
        d: Dated,
        dedupe: bool,
    ) {
        if self.slots[s].history.add(d, dedupe) {
            let e = self.kept(now, sender, req, resp);
            self.slots[s].events.push(e);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        now: Minute,
        sender: Sender,
        s: usize,
        req: &Request,
        resp: &Response,
        age: u8,
        face_verified: bool,
    ) {
        let home = self.slots[s].home;
        let scheme = self.schemes[home.index()].clone();
        let known = self.slots[s].code.is_some();
        let unverified_minor = !known
            && scheme.face_required
            && !face_verified
            && age < scheme.minor_age
            && scheme.gives_white_to_unverified_minors();
        let refuse = !known && scheme.face_required && !face_verified && !unverified_minor;
        self.counts.checks += 1;
        match resp {
            Response::Issued { code, color } => {
                if refuse {
                    let detail = format!("{} requires face verification", scheme.name);
                    let e = self.event(now, sender, req, resp);
                    self.violate(
                        Some(s),
                        "registration",
                        now,
                        "refused (face not verified)".into(),
                        format!("issued {color}"),
                        detail,
                        e,
                    );
                    return;
                }
                if !known {
                    self.slots[s].code = Some(*code);
                    self.by_code.insert(*code, s);
                    let fact = Fact::Registered { unverified_minor };
                    self.learn(now, sender, s, req, resp, Dated { at: now, fact }, false);
                } else if face_verified && self.slots[s].history.unverified() {
                    self.learn(
                        now,
                        sender,
                        s,
                        req,
                        resp,
                        Dated {
                            at: now,
                            fact: Fact::Verified,
                        },
                        false,
                    );
                }
                self.expect(
                    s,
                    now,
                    *color,
                    Seen {
                        now,
                        sender,
                        req,
                        resp,
                    },
                );
            }
            Response::Refused(r) => {
                let refused_face = matches!(r, hcsim_platform::api::Refusal::FaceNotVerified);
                if refused_face != refuse {
                    let expected = if refuse {
                        "refused (face not verified)".to_string()
                    } else {
                        "issued".to_string()
                    };
                    let e = self.event(now, sender, req, resp);
                    self.violate(
                        Some(s),
                        "registration",
                        now,
                        expected,
                        answer(resp),
                        String::new(),
                        e,
                    );
                }
            }
            _ => {}
        }
    }

    /// A declaration or temperature record the holder filed.
    #[allow(clippy::too_many_arguments)]
    fn filed(
        &mut self,
        now: Minute,
        sender: Sender,
        s: usize,
        req: &Request,
        resp: &Response,
        fact: Fact,
        kind: &'static str,
        t: DeciCelsius,
    ) {
        match resp {
            Response::Recorded { seq, color } => {
                self.slots[s].acked.push((*seq, kind, t));
                self.learn(now, sender, s, req, resp, Dated { at: now, fact }, false);
                self.expect(
                    s,
                    now,
                    *color,
                    Seen {
                        now,
                        sender,
                        req,
                        resp,
                    },
                );
            }
            _ => self.refused_registered(now, sender, s, req, resp),
        }
    }

    /// A registered code answered "not registered".
    fn refused_registered(
        &mut self,
        now: Minute,
        sender: Sender,
        s: usize,
        req: &Request,
        resp: &Response,
    ) {
        if let Response::Refused(hcsim_platform::api::Refusal::NotRegistered) = resp {
            if self.slots[s].code.is_some() {
                let e = self.event(now, sender, req, resp);
                self.violate(
                    Some(s),
                    "registration_lost",
                    now,
                    "a registered code".into(),
                    answer(resp),
                    String::new(),
                    e,
                );
            }
        }
    }

    fn code(&self, s: usize, now: Minute) -> Code {
        let t = &self.slots[s];
        code_at(self.scheme(t.home), &t.history, &self.risk, now)
    }

    /// Compares a color the platform gave with the model's.
    fn expect(&mut self, s: usize, now: Minute, actual: Color, x: Seen<'_>) -> Code {
        self.counts.checks += 1;
        let expected = self.code(s, now);
        if expected.color != actual {
            let home = self.slots[s].home;
            let lenient =
                self.scheme(home).decision(actual) < self.scheme(home).decision(expected.color);
            let kind = if expected.streak_short && lenient {
                "streak_skipped_day"
            } else {
                "wrong_code"
            };
            let detail = if kind == "streak_skipped_day" {
                "released before the required consecutive daily check-ins".to_string()
            } else {
                String::new()
            };
            self.violate(
                Some(s),
                kind,
                now,
                expected.color.to_string(),
                actual.to_string(),
                detail,
                self.event(x.now, x.sender, x.req, x.resp),
            );
        }
        expected
    }

    fn check_explanation(
        &mut self,
        s: usize,
        now: Minute,
        expected: &Code,
        shown: Option<Arc<str>>,
        x: Seen<'_>,
    ) {
        let home = self.slots[s].home;
        let want = self.scheme(home).explanation(expected);
        if shown != want {
            let show = |x: &Option<Arc<str>>| x.as_deref().unwrap_or("(none)").to_string();
            self.violate(
                Some(s),
                "wrong_explanation",
                now,
                show(&want),
                show(&shown),
                String::new(),
                self.event(x.now, x.sender, x.req, x.resp),
            );
        }
    }

    /// A verdict at one of the issuer's own checkpoints.
    fn check_local(
        &mut self,
        now: Minute,
        sender: Sender,
        s: usize,
        req: &Request,
        resp: &Response,
        v: &Verdict,
    ) {
        let x = Seen {
            now,
            sender,
            req,
            resp,
        };
        let expected = self.expect(s, now, v.color, x);
        if expected.color == v.color {
            let shown = v.explanation.as_ref().map(|x| x.reason.clone());
            self.check_explanation(s, now, &expected, shown, x);
        }
    }

    /// The decision the scanning province's table gives `v`'s color where
    /// `v` breaks it: a scan through the hub may be stricter, not more
    /// lenient.
    fn table_breach(&self, scanning: ProvinceId, v: &Verdict) -> Option<hcsim_platform::Decision> {
        let rule = self.scheme(scanning).decision(v.color)?;
        let wrong = if v.via_hub {
            invariants::more_lenient(v.decision, rule)
        } else {
            v.decision != rule
        };
        wrong.then_some(rule)
    }

    /// The scanning province's checkpoint table: a color it refuses is never
    /// admitted; a local verdict follows the table exactly.
    fn check_table(
        &mut self,
        now: Minute,
        sender: Sender,
        req: &Request,
        resp: &Response,
        scanning: ProvinceId,
        v: &Verdict,
    ) {
        self.counts.invariant_checks += 1;
        if let Some(rule) = self.table_breach(scanning, v) {
            let kind = if rule == hcsim_platform::Decision::Refuse {
                "refused_color_admitted"
            } else {
                "wrong_decision"
            };
            let e = self.event(now, sender, req, resp);
            let slot = self.slot_of_credential(match req {
                Request::Verify { credential, .. } => credential,
                _ => &Credential::IdCard(DocNumber(u64::MAX)),
            });
            self.violate(
                slot,
                kind,
                now,
                rule.to_string(),
                v.decision.to_string(),
                format!("{} scanned in {}", v.color, scanning.key()),
                e,
            );
        }
    }

    /// Recognition: a cross-province verdict is never more lenient than
    /// the issuer's own status and treatment of it.
    fn check_remote(&mut self, now: Minute, r: Remote) {
        self.counts.recognition_checks += 1;
        let expected = self.code(r.slot, now);
        let home = self.slots[r.slot].home;
        let issuer_decision = self.scheme(home).decision(expected.color);
        let v = &r.verdict;
        let lenient_color = v.color.severity() < expected.color.severity();
        let lenient_decision =
            issuer_decision.is_some_and(|d| invariants::more_lenient(v.decision, d));
        if lenient_color || lenient_decision {
            self.counts.recognition_disagreements += 1;
            let expected_text = match issuer_decision {
                Some(d) => format!("{} ({d} in {})", expected.color, home.key()),
                None => expected.color.to_string(),
            };
            self.violate(
                Some(r.slot),
                "recognition_more_lenient",
                now,
                expected_text,
                format!("{} ({})", v.color, v.decision),
                "a stricter status was treated more leniently across provinces".into(),
                r.event,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn violate(
        &mut self,
        slot: Option<usize>,
        kind: &str,
        now: Minute,
        expected: String,
        actual: String,
        detail: String,
        event: Event,
    ) {
        *self.counts.by_kind.entry(kind.to_string()).or_default() += 1;
        if self.violations.len() >= MAX_FILES {
            return;
        }
        // One reproducer per citizen: later disagreements about the same
        // person usually follow from the first.
        if let Some(s) = slot {
            if self.slots[s].reported {
                return;
            }
            self.slots[s].reported = true;
        }
        let mut history: Vec<Event> = match slot {
            Some(s) => self.slots[s]
                .events
                .iter()
                .chain(self.risk_events.iter())
                .filter(|e| e.order <= event.order)
                .map(Kept::event)
                .collect(),
            None => Vec::new(),
        };
        history.sort_by_key(|e| e.order);
        if history.last().is_none_or(|e| e.order != event.order) {
            history.push(event);
        }
        let mut rules = BTreeMap::new();
        let mut provinces: Vec<ProvinceId> = slot.map(|s| self.slots[s].home).into_iter().collect();
        for e in &history {
            if let Request::Verify { place, .. } | Request::PlaceScan { place, .. } = &e.request {
                provinces.push(place.county.province);
            }
        }
        for p in provinces {
            rules.insert(
                p.key().to_string(),
                self.setup.rule_files[p.index()].clone(),
            );
        }
        self.violations.push(Violation {
            kind: kind.to_string(),
            seed: self.setup.seed,
            scenario: self.setup.scenario.clone(),
            citizen: slot.map(|s| self.slots[s].citizen),
            province: slot.map(|s| self.slots[s].home.key().to_string()),
            at: now.to_string(),
            expected,
            actual,
            detail,
            rules,
            history,
        });
    }

    /// Requests that read back every tracked holder's journal, to confirm
    /// each acknowledged record is still there.
    pub fn audit_requests(&mut self) -> Vec<Request> {
        self.audit_slots.clear();
        let mut out = Vec::new();
        for (s, t) in self.slots.iter().enumerate() {
            if let (Some(code), false) = (t.code, t.acked.is_empty()) {
                self.audit_slots.push(s);
                out.push(Request::Records { code });
            }
        }
        out
    }

    /// The answers to `audit_requests`, in order.
    pub fn audit(&mut self, now: Minute, responses: &[Response]) {
        let slots = std::mem::take(&mut self.audit_slots);
        for (s, resp) in slots.into_iter().zip(responses) {
            let code = self.slots[s].code.expect("audited slots have a code");
            let req = Request::Records { code };
            let acked = self.slots[s].acked.clone();
            match resp {
                Response::Records { records, .. } => {
                    for (seq, kind, t) in acked {
                        self.counts.records_audited += 1;
                        let found = records
                            .iter()
                            .any(|r| r.seq == seq && r.kind == kind && r.temperature == Some(t));
                        if !found {
                            self.counts.lost_records += 1;
                            let e =
                                self.event(now, Sender::Citizen(self.slots[s].citizen), &req, resp);
                            self.violate(
                                Some(s),
                                "lost_record",
                                now,
                                format!("{kind} #{seq} ({} °C)", t.0 as f64 / 10.0),
                                "missing".into(),
                                "an acknowledged record is no longer readable".into(),
                                e,
                            );
                        }
                    }
                }
                Response::Busy => self.counts.audit_unanswered += acked.len() as u64,
                _ => {
                    self.counts.records_audited += acked.len() as u64;
                    self.counts.lost_records += acked.len() as u64;
                    let e = self.event(now, Sender::Citizen(self.slots[s].citizen), &req, resp);
                    self.violate(
                        Some(s),
                        "lost_record",
                        now,
                        format!("{} records", acked.len()),
                        answer(resp),
                        "the journal could not be read".into(),
                        e,
                    );
                }
            }
        }
    }

    /// Violations found so far (the first `MAX_FILES` with reproducers).
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    pub fn summary(&self) -> OracleSummary {
        let c = &self.counts;
        OracleSummary {
            sample: self.setup.share,
            citizens_checked: self.slots.len() as u64,
            checks: c.checks,
            invariant_checks: c.invariant_checks,
            violations: c.by_kind.values().sum(),
            by_kind: c.by_kind.clone(),
            recognition_checks: c.recognition_checks,
            recognition_disagreements: c.recognition_disagreements,
            records_audited: c.records_audited,
            lost_records: c.lost_records,
            audit_unanswered: c.audit_unanswered,
            violation_files: self.violations.len() as u64,
        }
    }
}

/// The fact a feed carries, dated as the platform's feed contract says: a
/// fact dated in the future counts from when it is received.
fn feed_fact(feed: &Feed, now: Minute) -> Option<Dated> {
    let (at, fact) = match *feed {
        Feed::Designation { status, at, .. } => (at, Fact::Designation(status)),
        Feed::Quarantine {
            kind, start, end, ..
        } => {
            if end <= start {
                return None;
            }
            (start, Fact::Quarantine { kind, end })
        }
        Feed::NatResult {
            at,
            positive,
            institution,
            ..
        } => (
            at,
            Fact::Nat {
                positive,
                institution,
            },
        ),
        Feed::IggResult { at, positive, .. } => (
            at,
            Fact::Inert {
                what: 1,
                detail: positive as u64,
            },
        ),
        Feed::SameBuildingCase { at, .. } => (at, Fact::SameBuilding),
        Feed::Stay { county, at, .. } => (at, Fact::Stay { county }),
        Feed::Entry {
            at,
            origin_country,
            flight,
            ..
        } => (
            at,
            Fact::Inert {
                what: 2,
                detail: (origin_country as u64) << 32 | flight as u64,
            },
        ),
        Feed::CreditViolation { at, .. } => (at, Fact::Inert { what: 3, detail: 0 }),
        Feed::AuthorityColor { color, at, .. } => (at, Fact::Authority(color)),
        // Roaming records are the hub's, for itinerary checks; provinces
        // acknowledge them and no rule reads them.
        Feed::RiskArea { .. } | Feed::Roaming { .. } => return None,
    };
    Some(Dated {
        at: at.min(now),
        fact,
    })
}

/// A short description of an answer.
fn answer(r: &Response) -> String {
    match r {
        Response::Refused(x) => format!("refused: {x:?}"),
        Response::Verdict(v) => format!("{} ({})", v.color, v.decision),
        other => match other.color() {
            Some(c) => c.to_string(),
            None => format!("{other:?}"),
        },
    }
}

/// Rule files of each province as a reproducer names them.
pub fn file_names(files: &[PathBuf]) -> Vec<String> {
    files.iter().map(|f| f.display().to_string()).collect()
}
