//! The health authority: designates cases and their household close
//! contacts, orders quarantine, publishes NAT results and county risk levels.
//! It runs at the tick barrier with its own random stream.

use crate::engine::message::{Notice, ShardMsg};
use crate::rng::{agent_rng, purpose};
use crate::scenario::Epidemic;
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
}

pub struct Authority {
    epidemic: Epidemic,
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

/// The shards spread the population's applications over the run's first
/// hour; the authority speaks of nobody before that.
pub const REGISTRATION_MINUTES: u32 = 60;

/// Samples are taken at testing sites between these minutes of the day.
const SAMPLING_HOURS: (u32, u32) = (8 * 60, 18 * 60);

impl Authority {
    pub fn new(world: &World, epidemic: &Epidemic, scale: f64) -> Authority {
        Authority {
            epidemic: epidemic.clone(),
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
    /// simulated day at the first tick of the day once the population has
    /// applied for its codes (registration takes the run's first hour), so
    /// that nothing the authority says about a person precedes the
    /// person's application.
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
        if self.last_day == Some(day) || now.since(start) < REGISTRATION_MINUTES {
            return d;
        }
        self.last_day = Some(day);
        let mut rng = agent_rng(world.seed, AUTHORITY_AGENT, day as u64, purpose::AUTHORITY);
        self.release(world, day, now, &mut d);
        self.new_cases(world, day, now, &mut rng, &mut d);
        self.nat_tests(world, now, &mut rng);
        self.update_risk(world, day, now, &mut d);
        d
    }

    fn feed(world: &World, id: u32, feed: Feed) -> Request {
        Request::Feed {
            to: Some(world.home_province(id)),
            feed,
        }
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
    }

    fn new_cases(
        &mut self,
        world: &World,
        day: u32,
        now: Minute,
        rng: &mut rand_pcg::Pcg64Mcg,
        d: &mut Directives,
    ) {
        for &p in &world.geography.provinces {
            let counties = world.geography.province_counties[p.index()].clone();
            let population: u64 = counties
                .clone()
                .map(|c| world.county_people[c as usize].len() as u64)
                .sum();
            let weight = self
                .epidemic
                .hotspots
                .iter()
                .find(|(k, _)| ProvinceId::parse(k) == Some(p))
                .map_or(1.0, |(_, w)| *w);
            let mean = self.epidemic.confirmed_per_million_day * population as f64 / 1e6 * weight;
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
                if self.active_cases.contains(&id) {
                    continue;
                }
                self.active_cases.insert(id);
                self.counts.confirmed += 1;
                *self.county_cases[county as usize].entry(day).or_default() += 1;
                self.designate(world, id, CaseStatus::Confirmed, day, now, d);
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
                for member in world.people[id as usize].household_members() {
                    if member != id && !self.active_cases.contains(&member) {
                        self.counts.close_contacts += 1;
                        self.designate(world, member, CaseStatus::CloseContact, day, now, d);
                    }
                }
            }
        }
    }

    fn release(&mut self, world: &World, day: u32, now: Minute, d: &mut Directives) {
        let due: Vec<u32> = self.releases.range(..=day).map(|(k, _)| *k).collect();
        for k in due {
            for (id, _) in self.releases.remove(&k).unwrap_or_default() {
                self.active_cases.remove(&id);
                self.counts.released += 1;
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
            }
        }
    }

    /// Samples taken today; their results join `pending`.
    fn nat_tests(&mut self, world: &World, now: Minute, rng: &mut rand_pcg::Pcg64Mcg) {
        let citizens = world.citizens();
        if citizens == 0 || self.epidemic.nat_per_day <= 0.0 {
            return;
        }
        let n = (citizens as f64 * self.epidemic.nat_per_day).round() as u64;
        let day_start = Minute(now.0 - now.minute_of_day());
        let turnaround = self.epidemic.nat_turnaround_hours;
        for _ in 0..n {
            let id = rng.random_range(0..citizens);
            let sampled = day_start
                .plus_minutes(rng.random_range(SAMPLING_HOURS.0..SAMPLING_HOURS.1))
                .max(now);
            let positive = self.active_cases.contains(&id);
            self.counts.nat_tests += 1;
            self.counts.nat_positive += u64::from(positive);
            let person = world.identity(id).number;
            self.pending
                .entry(sampled.plus_hours(turnaround))
                .or_default()
                .push(Self::feed(
                    world,
                    id,
                    Feed::NatResult {
                        person,
                        at: sampled,
                        positive,
                        institution: 1 + (id % 50) as u16,
                    },
                ));
        }
    }

    /// DOMAIN.md risk levels, with the 50-case threshold scaled to the
    /// simulated population: medium = new cases within 14 days; high = many
    /// cases in total and a cluster (several cases a day) within 14 days.
    fn update_risk(&mut self, world: &World, day: u32, now: Minute, d: &mut Directives) {
        let many = (50.0 * self.scale).max(3.0) as u32;
        let cluster = (5.0 * self.scale).max(2.0) as u32;
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
