//! The health authority: designates cases and their close contacts (the
//! household, co-workers at the same workplace; neighbours in the same
//! building are told of a case there), orders quarantine, tests those the
//! epidemic puts in its way (cases, contacts, quarantine releases, a
//! mass-testing round in a county that turns risky, routine screening),
//! publishes NAT results and county risk levels. It runs at the tick
//! barrier with its own random stream.

use crate::agents::registration::first_code_day;
use crate::engine::message::{Notice, ShardMsg};
use crate::nat::{self, NatDaily, NatReason};
use crate::rng::{agent_rng, purpose};
use crate::scenario::{Behaviour, Epidemic};
use crate::world::World;
use hcsim_platform::api::{CaseStatus, Feed, QuarantineKind, Request, RiskLevel};
use hcsim_platform::{Minute, ProvinceId};
use rand::RngExt;
use rand_distr::{Distribution, Poisson};
use std::collections::BTreeMap;

#[derive(Default, Clone, Debug, PartialEq, Eq)]
pub struct AuthorityCounts {
    pub confirmed: u64,
    pub close_contacts: u64,
    pub released: u64,
    pub nat_tests: u64,
    pub nat_positive: u64,
    pub risk_changes: u64,
    /// Samples the authority took, per day and reason.
    pub nat_daily: NatDaily,
    /// Close contacts by where they met the case (`CONTACT_SETTINGS`).
    pub contacts: [u64; 2],
    /// Neighbours told of a case in their building.
    pub same_building: u64,
}

/// Where the authority's close contacts met their case, in
/// `AuthorityCounts::contacts` order.
pub const CONTACT_SETTINGS: [&str; 2] = ["household", "workplace"];

pub struct Authority {
    epidemic: Epidemic,
    /// Who applies for a first code during the run (`first_code_day`).
    behaviour: Behaviour,
    scale: f64,
    /// Cases per county per day (day → count), for risk levels.
    county_cases: Vec<BTreeMap<u32, u32>>,
    county_level: Vec<RiskLevel>,
    /// Release day → people to clear.
    releases: BTreeMap<u32, Vec<(u32, CaseStatus)>>,
    /// People currently designated as cases (NAT positive).
    active_cases: std::collections::BTreeSet<u32>,
    /// Lab results not yet back, by the minute they come back: a result
    /// is published at or after that minute, never before its sample.
    pending: BTreeMap<Minute, Vec<Request>>,
    published_risk: bool,
    last_day: Option<u32>,
    pub counts: AuthorityCounts,
}

/// Output of one authority step: feeds for the platform, notices for citizens.
#[derive(Default)]
pub struct Directives {
    pub requests: Vec<Request>,
    pub notices: Vec<(u32, ShardMsg)>,
}

const AUTHORITY_AGENT: u64 = u64::MAX - 1;

/// Samples are taken at testing sites between these minutes of the day.
const SAMPLING_HOURS: (u32, u32) = (8 * 60, 18 * 60);

impl Authority {
    pub fn new(world: &World, epidemic: &Epidemic, behaviour: &Behaviour, scale: f64) -> Authority {
        Authority {
            epidemic: epidemic.clone(),
            behaviour: behaviour.clone(),
            scale,
            county_cases: vec![BTreeMap::new(); world.geography.counties.len()],
            county_level: world
                .geography
                .counties
                .iter()
                .map(|c| c.initial_risk)
                .collect(),
            releases: BTreeMap::new(),
            active_cases: Default::default(),
            pending: BTreeMap::new(),
            published_risk: false,
            last_day: None,
            counts: AuthorityCounts::default(),
        }
    }

    /// Publishes the lab results due by `now`, and acts once per
    /// simulated day at the day's first tick: the population holds its
    /// codes before the clock starts (`engine::registration`), so there is
    /// no registration hour to wait for.
    pub fn step(&mut self, world: &World, start: Minute, now: Minute) -> Directives {
        let mut d = Directives::default();
        let due: Vec<Minute> = self.pending.range(..=now).map(|(k, _)| *k).collect();
        for k in due {
            d.requests
                .extend(self.pending.remove(&k).unwrap_or_default());
        }
        if !self.published_risk {
            self.published_risk = true;
            // Risk levels in force at the start are published to every platform.
            for county in &world.geography.counties {
                if county.initial_risk != RiskLevel::Low {
                    d.requests.push(Request::Feed {
                        to: None,
                        feed: Feed::RiskArea {
                            county: county.county_ref(),
                            level: county.initial_risk,
                            at: now,
                        },
                    });
                }
            }
        }
        let day = now.day() - start.day();
        if self.last_day == Some(day) {
            return d;
        }
        self.last_day = Some(day);
        let mut rng = agent_rng(world.seed, AUTHORITY_AGENT, day as u64, purpose::AUTHORITY);
        self.release(world, day, now, &mut d);
        self.new_cases(world, day, now, &mut rng, &mut d);
        self.nat_tests(world, day, now, &mut rng);
        self.update_risk(world, day, now, &mut rng, &mut d);
        d
    }

    fn feed(world: &World, id: u32, feed: Feed) -> Request {
        Request::Feed {
            to: Some(world.home_province(id)),
            feed,
        }
    }

    /// The platform texts a holder whose code the tick's feeds change; the
    /// holder opens it (`Citizens::notice`). Orders to isolate come with
    /// their own notice.
    fn text(world: &World, id: u32, d: &mut Directives) {
        d.notices.push((
            world.shard_of_citizen(id),
            ShardMsg::Notice {
                citizen: id,
                notice: Notice::ColorChanged,
            },
        ));
    }

    fn designate(
        &mut self,
        world: &World,
        id: u32,
        status: CaseStatus,
        day: u32,
        now: Minute,
        d: &mut Directives,
    ) {
        let person = world.identity(id).number;
        let days = self.epidemic.quarantine_days;
        let kind = if status == CaseStatus::CloseContact {
            QuarantineKind::Home
        } else {
            QuarantineKind::Centralized
        };
        d.requests.push(Self::feed(
            world,
            id,
            Feed::Designation {
                person,
                status,
                at: now,
            },
        ));
        d.requests.push(Self::feed(
            world,
            id,
            Feed::Quarantine {
                person,
                kind,
                start: now,
                end: now.plus_days(days),
            },
        ));
        d.notices.push((
            world.shard_of_citizen(id),
            ShardMsg::Notice {
                citizen: id,
                notice: Notice::Isolate {
                    until_day: day + days,
                },
            },
        ));
        self.releases
            .entry(day + days)
            .or_default()
            .push((id, status));
        if status == CaseStatus::CloseContact {
            self.sample(world, id, day, now, NatReason::Contact);
        }
    }

    /// Takes a sample now: the result (positive for an active case) is
    /// published a turnaround later.
    fn sample(&mut self, world: &World, id: u32, day: u32, at: Minute, reason: NatReason) {
        // A newcomer is not tested before the day after their application:
        // no result may precede it (the oracle's `nat_causality`).
        if first_code_day(world, &self.behaviour, id).is_some_and(|d| d >= day) {
            return;
        }
        let positive = self.active_cases.contains(&id);
        self.counts.nat_tests += 1;
        self.counts.nat_positive += u64::from(positive);
        nat::count(&mut self.counts.nat_daily, day, reason);
        let person = world.identity(id).number;
        self.pending
            .entry(at.plus_hours(world.nat_turnaround_hours))
            .or_default()
            .push(Self::feed(
                world,
                id,
                Feed::NatResult {
                    person,
                    at,
                    positive,
                    institution: 1 + (id % 50) as u16,
                },
            ));
    }

    /// Close contacts beyond the household: up to `workplace_contacts`
    /// co-workers at the case's workplace (the nearest by id, so the same
    /// people every time), and `building_households` neighbouring
    /// households on each side told of a case in their building.
    fn trace(&mut self, world: &World, case: u32, day: u32, now: Minute, d: &mut Directives) {
        let household = world.people[case as usize].household_members();
        for member in household.clone() {
            if member != case && !self.active_cases.contains(&member) {
                self.counts.close_contacts += 1;
                self.counts.contacts[0] += 1;
                self.designate(world, member, CaseStatus::CloseContact, day, now, d);
            }
        }
        let county = world.county_people[world.people[case as usize].county as usize].clone();
        if let Some(site) = world.workplace(case) {
            let cap = self.epidemic.workplace_contacts as usize;
            let coworkers: Vec<u32> = (case + 1..county.end)
                .chain(county.start..case)
                .filter(|&m| !household.contains(&m) && world.workplace(m) == Some(site))
                .filter(|m| !self.active_cases.contains(m))
                .take(cap)
                .collect();
            for m in coworkers {
                self.counts.close_contacts += 1;
                self.counts.contacts[1] += 1;
                self.designate(world, m, CaseStatus::CloseContact, day, now, d);
            }
        }
        let mut neighbours = Vec::new();
        let (mut before, mut after) = (household.start, household.end);
        for _ in 0..self.epidemic.building_households {
            if before > county.start {
                let h = world.people[before as usize - 1].household_members();
                neighbours.extend(h.clone());
                before = h.start;
            }
            if after < county.end {
                let h = world.people[after as usize].household_members();
                neighbours.extend(h.clone());
                after = h.end;
            }
        }
        for m in neighbours {
            self.counts.same_building += 1;
            let person = world.identity(m).number;
            d.requests.push(Self::feed(
                world,
                m,
                Feed::SameBuildingCase { person, at: now },
            ));
            Self::text(world, m, d);
        }
    }

    fn new_cases(
        &mut self,
        world: &World,
        day: u32,
        now: Minute,
        rng: &mut rand_pcg::Pcg64Mcg,
        d: &mut Directives,
    ) {
        let residents = |p: ProvinceId| -> u64 {
            world.geography.province_counties[p.index()]
                .clone()
                .map(|c| world.county_people[c as usize].len() as u64)
                .sum()
        };
        // Read before the draws, which change `self`.
        let means = daily_case_means(
            &self.epidemic,
            world.geography.provinces.iter().map(|&p| (p, residents(p))),
        );
        for (p, population, mean) in means {
            let counties = world.geography.province_counties[p.index()].clone();
            if mean <= 0.0 || population == 0 {
                continue;
            }
            let n = Poisson::new(mean)
                .map(|dist| dist.sample(rng) as u64)
                .unwrap_or(0);
            for _ in 0..n {
                let x = rng.random_range(0..population);
                let (mut acc, mut chosen) = (0u64, None);
                for c in counties.clone() {
                    let r = &world.county_people[c as usize];
                    if x < acc + r.len() as u64 {
                        chosen = Some((c, r.start + (x - acc) as u32));
                        break;
                    }
                    acc += r.len() as u64;
                }
                let Some((county, id)) = chosen else { continue };
                // A case is found by a test the platform publishes: not
                // before the person has applied for a code (`nat_causality`).
                if self.active_cases.contains(&id)
                    || first_code_day(world, &self.behaviour, id).is_some_and(|d| d >= day)
                {
                    continue;
                }
                self.active_cases.insert(id);
                self.counts.confirmed += 1;
                *self.county_cases[county as usize].entry(day).or_default() += 1;
                self.designate(world, id, CaseStatus::Confirmed, day, now, d);
                // The positive test that found the case, its result in hand.
                self.counts.nat_tests += 1;
                self.counts.nat_positive += 1;
                nat::count(&mut self.counts.nat_daily, day, NatReason::Diagnosis);
                let person = world.identity(id).number;
                d.requests.push(Self::feed(
                    world,
                    id,
                    Feed::NatResult {
                        person,
                        at: now,
                        positive: true,
                        institution: 1,
                    },
                ));
                self.trace(world, id, day, now, d);
            }
        }
    }

    fn release(&mut self, world: &World, day: u32, now: Minute, d: &mut Directives) {
        let due: Vec<u32> = self.releases.range(..=day).map(|(k, _)| *k).collect();
        for k in due {
            for (id, _) in self.releases.remove(&k).unwrap_or_default() {
                self.active_cases.remove(&id);
                self.counts.released += 1;
                self.counts.nat_tests += 1;
                nat::count(
                    &mut self.counts.nat_daily,
                    day,
                    NatReason::QuarantineRelease,
                );
                let person = world.identity(id).number;
                d.requests.push(Self::feed(
                    world,
                    id,
                    Feed::NatResult {
                        person,
                        at: now,
                        positive: false,
                        institution: 1,
                    },
                ));
                d.requests.push(Self::feed(
                    world,
                    id,
                    Feed::Designation {
                        person,
                        status: CaseStatus::Cleared,
                        at: now,
                    },
                ));
                Self::text(world, id, d);
            }
        }
    }

    /// Routine screening of people in exposed jobs (hospitals, transport,
    /// cold chain): `nat_per_day` of the population, sampled today.
    fn nat_tests(&mut self, world: &World, day: u32, now: Minute, rng: &mut rand_pcg::Pcg64Mcg) {
        let citizens = world.citizens();
        if citizens == 0 || self.epidemic.nat_per_day <= 0.0 {
            return;
        }
        let n = (citizens as f64 * self.epidemic.nat_per_day).round() as u64;
        let day_start = Minute(now.0 - now.minute_of_day());
        for _ in 0..n {
            let id = rng.random_range(0..citizens);
            let at = day_start
                .plus_minutes(rng.random_range(SAMPLING_HOURS.0..SAMPLING_HOURS.1))
                .max(now);
            self.sample(world, id, day, at, NatReason::Routine);
        }
    }

    /// Everyone living in county `c` is sampled over the next
    /// `mass_testing_days` days (全员核酸), a share a day.
    fn mass_testing(
        &mut self,
        world: &World,
        c: usize,
        day: u32,
        now: Minute,
        rng: &mut rand_pcg::Pcg64Mcg,
    ) {
        let days = self.epidemic.mass_testing_days;
        if days == 0 {
            return;
        }
        let day_start = Minute(now.0 - now.minute_of_day());
        for id in world.county_people[c].clone() {
            let d = id % days;
            let at = day_start
                .plus_days(d)
                .plus_minutes(rng.random_range(SAMPLING_HOURS.0..SAMPLING_HOURS.1))
                .max(now);
            self.sample(world, id, day + d, at, NatReason::MassTesting);
        }
    }

    /// DOMAIN.md risk levels, with the 50-case threshold scaled to the
    /// simulated population: medium = new cases within 14 days; high = many
    /// cases in total and a cluster (several cases a day) within 14 days.
    fn update_risk(
        &mut self,
        world: &World,
        day: u32,
        now: Minute,
        rng: &mut rand_pcg::Pcg64Mcg,
        d: &mut Directives,
    ) {
        // Cases counted for the whole country are real cases: the
        // thresholds apply as published.
        let scale = if self.epidemic.counts_whole_country() {
            1.0
        } else {
            self.scale
        };
        let many = (50.0 * scale).max(3.0) as u32;
        let cluster = (5.0 * scale).max(2.0) as u32;
        for c in 0..self.county_level.len() {
            let history = &self.county_cases[c];
            let total: u32 = history.values().sum();
            let recent = history.range(day.saturating_sub(13)..=day);
            let (recent_total, recent_max) =
                recent.fold((0, 0), |(t, m), (_, n)| (t + n, m.max(*n)));
            let computed = if recent_total == 0 {
                RiskLevel::Low
            } else if total > many && recent_max >= cluster {
                RiskLevel::High
            } else {
                RiskLevel::Medium
            };
            // Scenario-declared levels hold until cases say more.
            let level = computed.max(world.geography.counties[c].initial_risk);
            if level != self.county_level[c] {
                // New cases make a low-risk county risky: everyone is tested.
                if self.county_level[c] == RiskLevel::Low {
                    self.mass_testing(world, c, day, now, rng);
                }
                self.county_level[c] = level;
                self.counts.risk_changes += 1;
                d.requests.push(Request::Feed {
                    to: None,
                    feed: Feed::RiskArea {
                        county: world.geography.counties[c].county_ref(),
                        level,
                        at: now,
                    },
                });
            }
        }
    }
}

/// Each province's mean new cases a day, with its residents: the country's
/// cases shared by population times hotspot weight (`confirmed_per_day`),
/// or a rate per simulated million (`confirmed_per_million_day`). The
/// memory preflight reads the same figures to foresee the mass testing.
pub fn daily_case_means(
    epidemic: &Epidemic,
    provinces: impl Iterator<Item = (ProvinceId, u64)>,
) -> Vec<(ProvinceId, u64, f64)> {
    let weight = |p: ProvinceId| {
        epidemic
            .hotspots
            .iter()
            .find(|(k, _)| ProvinceId::parse(k) == Some(p))
            .map_or(1.0, |(_, w)| *w)
    };
    let provinces: Vec<(ProvinceId, u64, f64)> =
        provinces.map(|(p, n)| (p, n, weight(p))).collect();
    let weighted_total: f64 = provinces.iter().map(|&(_, n, w)| n as f64 * w).sum();
    let whole_country = epidemic.counts_whole_country() && weighted_total > 0.0;
    let (per_day, per_million) = (epidemic.confirmed_per_day, epidemic.per_million_day());
    provinces
        .into_iter()
        .map(|(p, population, weight)| {
            let mean = if whole_country {
                per_day * population as f64 * weight / weighted_total
            } else {
                per_million * population as f64 / 1e6 * weight
            };
            (p, population, mean)
        })
        .collect()
}

/// The `epidemic` section of `summary.json`: the authority's counts, the
/// tests people sought and the port's (from the shards' metrics), and the
/// hub's same-flight contacts.
pub fn totals(
    a: &AuthorityCounts,
    m: &crate::metrics::Metrics,
    same_flight_contacts: u64,
) -> hcsim_reports::summary::EpidemicTotals {
    let mut daily = a.nat_daily.clone();
    nat::merge(&mut daily, &m.nat);
    let by_reason = |counts: &[u64; nat::NAT_REASONS]| -> BTreeMap<String, u64> {
        NatReason::ALL
            .iter()
            .map(|r| (r.name().to_string(), counts[*r as usize]))
            .collect()
    };
    let mut all = [0u64; nat::NAT_REASONS];
    for d in &daily {
        for (x, y) in all.iter_mut().zip(d) {
            *x += y;
        }
    }
    let mut contacts: BTreeMap<String, u64> = CONTACT_SETTINGS
        .iter()
        .zip(a.contacts)
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    contacts.insert("flight".into(), same_flight_contacts);
    let cases = a.confirmed + m.travel.inbound_cases;
    let close_contacts = a.close_contacts + same_flight_contacts;
    hcsim_reports::summary::EpidemicTotals {
        confirmed: a.confirmed,
        close_contacts,
        released: a.released,
        nat_tests: all.iter().sum(),
        nat_positive: a.nat_positive + m.travel.inbound_cases,
        risk_changes: a.risk_changes,
        nat_by_reason: by_reason(&all),
        nat_daily: daily
            .iter()
            .enumerate()
            .map(|(day, d)| hcsim_reports::summary::NatDay {
                day: day as u32,
                total: d.iter().sum(),
                by_reason: by_reason(d),
            })
            .collect(),
        contacts_by_setting: contacts,
        contacts_per_case: if cases == 0 {
            0.0
        } else {
            close_contacts as f64 / cases as f64
        },
        same_building_notified: a.same_building,
        port_cases: m.travel.inbound_cases,
        inbound_quarantined: m.travel.inbound_quarantined,
    }
}
