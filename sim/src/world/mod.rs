//! The simulated world: geography, citizens, and the plan of which shard
//! hosts which counties. Immutable once built and shared by every shard.

pub mod calendar;
pub mod geography;
pub mod population;
pub mod travel;

use crate::scenario::Scenario;
use geography::Geography;
use hcsim_platform::api::RiskLevel;
use hcsim_platform::identity::{DocKind, DocNumber, Identity, NameCode};
use hcsim_platform::ProvinceId;
use population::Person;
use rayon::prelude::*;
use std::ops::Range;

pub struct ShardPlan {
    /// Global county indices, ascending.
    pub counties: Vec<u32>,
    /// Global citizen ids hosted here (contiguous).
    pub citizens: Range<u32>,
    /// Number of checkpoints hosted here.
    pub checkpoints: u32,
}

pub struct World {
    pub seed: u64,
    /// The simulated platforms' code keys (`PlatformSetup` derives the same
    /// from the seed): citizens keep only their code's serial and recompute
    /// its token when they show it, as the holder's phone would display it.
    pub code_keys: hcsim_platform::CodeKeys,
    pub geography: Geography,
    /// Indexed by global citizen id.
    pub people: Vec<Person>,
    pub shards: Vec<ShardPlan>,
    /// Per county: hosting shard, its citizens, and the local index of its
    /// first checkpoint inside that shard.
    pub county_shard: Vec<u32>,
    pub county_people: Vec<Range<u32>>,
    pub county_checkpoint_base: Vec<u32>,
    /// Cumulative county populations, for travel destinations (gravity by
    /// destination population).
    county_cumulative: Vec<u64>,
    /// Interprovincial trip destinations (gravity model).
    pub travel: travel::Travel,
    /// What each province's rules ask in NAT results (index =
    /// `ProvinceId`); none until `set_nat_policy` reads the rule sets.
    pub nat_policy: Vec<crate::nat::NatPolicy>,
    /// Hours from a NAT sample to its result.
    pub nat_turnaround_hours: u32,
    /// Whether residents file manual health declarations (index =
    /// `ProvinceId`; `behaviour.no_manual_declaration` lists those who don't).
    pub declares: Vec<bool>,
    /// The calendar of each day of the run, the day before and the day
    /// after, from the day before the start's.
    first_day: u32,
    start_day: u32,
    days: Vec<calendar::Calendar>,
    /// Calendar days the run spans (a day from 08:00 spans two).
    pub run_days: u32,
}

impl World {
    pub fn build(s: &Scenario) -> World {
        let risk: Vec<(ProvinceId, u16, RiskLevel)> = s
            .epidemic
            .risk_areas
            .iter()
            .filter_map(|r| Some((ProvinceId::parse(&r.province)?, r.county, r.level)))
            .collect();
        let geography = Geography::build(&s.provinces, s.population_scale, &risk);
        let shard_count = s.shards as usize;

        // Longest-processing-time assignment of counties to shards: balances
        // citizens per shard; ties broken by index so it is deterministic.
        let mut order: Vec<u32> = (0..geography.counties.len() as u32).collect();
        order.sort_by_key(|&c| {
            (
                std::cmp::Reverse(geography.counties[c as usize].population),
                c,
            )
        });
        let mut load = vec![0u64; shard_count];
        let mut county_shard = vec![0u32; geography.counties.len()];
        for c in order {
            let (shard, _) = load
                .iter()
                .enumerate()
                .min_by_key(|(i, l)| (**l, *i))
                .expect("at least one shard");
            county_shard[c as usize] = shard as u32;
            load[shard] += geography.counties[c as usize].population as u64 + 1;
        }

        let mut shards: Vec<ShardPlan> = (0..shard_count)
            .map(|_| ShardPlan {
                counties: Vec::new(),
                citizens: 0..0,
                checkpoints: 0,
            })
            .collect();
        for (c, &sh) in county_shard.iter().enumerate() {
            shards[sh as usize].counties.push(c as u32);
        }
        let mut county_people = vec![0..0; geography.counties.len()];
        let mut county_checkpoint_base = vec![0u32; geography.counties.len()];
        let mut next_id = 0u32;
        for plan in &mut shards {
            let start = next_id;
            for &c in &plan.counties {
                let n = geography.counties[c as usize].population;
                county_people[c as usize] = next_id..next_id + n;
                next_id += n;
                county_checkpoint_base[c as usize] = plan.checkpoints;
                plan.checkpoints += geography.county_checkpoints[c as usize]
                    .iter()
                    .map(|r| r.len() as u32)
                    .sum::<u32>();
            }
            plan.citizens = start..next_id;
        }

        let per_county: Vec<Vec<Person>> = shards
            .iter()
            .flat_map(|p| p.counties.iter().copied())
            .collect::<Vec<_>>()
            .par_iter()
            .map(|&c| {
                let r = &county_people[c as usize];
                population::generate_county(s.seed, c, r.len() as u32, r.start, &s.behaviour)
            })
            .collect();
        let mut people = Vec::with_capacity(next_id as usize);
        for v in per_county {
            people.extend(v);
        }

        let county_cumulative = geography
            .counties
            .iter()
            .scan(0u64, |acc, c| {
                *acc += c.population as u64;
                Some(*acc)
            })
            .collect();
        let travel = travel::Travel::build(&geography, s.behaviour.uniform_destinations);
        // From two days before the start: the eve's plan reads the eve's
        // own previous day, and every citizen plans the eve.
        let first_day = s.start.day().saturating_sub(2);
        let days = (first_day..=s.end().day() + 1).map(calendar::of).collect();
        let last = s.start.plus_minutes(s.duration_minutes.max(1) - 1);
        World {
            run_days: last.day() - s.start.day() + 1,
            first_day,
            start_day: s.start.day(),
            days,
            seed: s.seed,
            code_keys: hcsim_platform::CodeKeys::from_seed(s.seed),
            travel,
            geography,
            people,
            shards,
            county_shard,
            county_people,
            county_checkpoint_base,
            county_cumulative,
            nat_policy: vec![Default::default(); hcsim_platform::PROVINCE_COUNT],
            nat_turnaround_hours: s.epidemic.nat_turnaround_hours,
            declares: ProvinceId::all()
                .map(|p| {
                    !s.behaviour
                        .no_manual_declaration
                        .iter()
                        .any(|k| ProvinceId::parse(k) == Some(p))
                })
                .collect(),
        }
    }

    /// Whether people work and schools open on `day` of the run.
    pub fn calendar(&self, day: u32) -> calendar::Calendar {
        self.calendar_at(self.start_day.wrapping_add(day))
    }

    /// The calendar of the day before `day` of the run.
    pub fn calendar_before(&self, day: u32) -> calendar::Calendar {
        match self.start_day.wrapping_add(day).checked_sub(1) {
            Some(d) => self.calendar_at(d),
            None => calendar::of(0),
        }
    }

    fn calendar_at(&self, d: u32) -> calendar::Calendar {
        self.days
            .get(d.wrapping_sub(self.first_day) as usize)
            .copied()
            .unwrap_or_else(|| calendar::of(d))
    }

    /// Reads what each province's rules ask in NAT results (index =
    /// `ProvinceId`), so that people seek the tests their rules need.
    pub fn set_nat_policy(&mut self, rules: &[std::sync::Arc<hcsim_platform::RuleSet>]) {
        for (p, r) in rules.iter().enumerate().take(self.nat_policy.len()) {
            self.nat_policy[p] = crate::nat::NatPolicy::of(r);
        }
    }

    /// The checkpoint a citizen works or studies at: stable over the run,
    /// chosen by id among the county's sites of the occupation's kind.
    pub fn workplace(&self, id: u32) -> Option<u32> {
        use hcsim_platform::api::CheckpointKind;
        use population::Occupation;
        let person = &self.people[id as usize];
        let kind = match person.occupation() {
            Occupation::Office => CheckpointKind::Office,
            Occupation::Factory => CheckpointKind::Factory,
            Occupation::BuildingSite => CheckpointKind::BuildingSite,
            Occupation::School => CheckpointKind::School,
            Occupation::None => return None,
        };
        let r = &self.geography.county_checkpoints[person.county as usize][kind as usize];
        let pick = crate::rng::mix(self.seed, id as u64, 0x574f_524b); // "WORK"
        (!r.is_empty()).then(|| r.start + (pick % r.len() as u64) as u32)
    }

    pub fn citizens(&self) -> u32 {
        self.people.len() as u32
    }

    /// Simulated citizens per province (index = `ProvinceId`).
    pub fn province_citizens(&self) -> [u64; hcsim_platform::PROVINCE_COUNT] {
        std::array::from_fn(|p| {
            self.geography.province_counties[p]
                .clone()
                .map(|c| self.county_people[c as usize].len() as u64)
                .sum()
        })
    }

    pub fn shard_of_citizen(&self, id: u32) -> u32 {
        self.county_shard[self.people[id as usize].county as usize]
    }

    pub fn home_province(&self, id: u32) -> ProvinceId {
        self.geography.counties[self.people[id as usize].county as usize].province
    }

    /// The shard hosting a checkpoint and its index there.
    pub fn checkpoint_home(&self, checkpoint: u32) -> (u32, u32) {
        let site = &self.geography.checkpoints[checkpoint as usize];
        let county = site.county as usize;
        let first = self.geography.county_checkpoints[county][0].start;
        (
            self.county_shard[county],
            self.county_checkpoint_base[county] + (checkpoint - first),
        )
    }

    /// A trip destination county in another province, weighted by
    /// population; within the province only when it is the only one simulated.
    pub fn pick_destination(&self, home: ProvinceId, r: u64) -> Option<u32> {
        let total = *self.county_cumulative.last()?;
        if total == 0 {
            return None;
        }
        let only_one = self.geography.provinces.len() == 1;
        (0..8u64).find_map(|k| {
            let x = crate::rng::mix(r, k, 0x4445_5354) % total; // "DEST"
            let c = self.county_cumulative.partition_point(|&cum| cum <= x);
            (self.geography.counties[c].province != home || only_one).then_some(c as u32)
        })
    }

    /// The citizen's real-name identity. Derived, never stored: the document
    /// number embeds the region and the id so it is unique.
    pub fn identity(&self, id: u32) -> Identity {
        let p = &self.people[id as usize];
        let county = &self.geography.counties[p.county as usize];
        let region = county.province.info().admin_code as u64 * 10_000 + 100 + county.local as u64;
        let h = crate::rng::mix(self.seed, id as u64, 0x4e41_4d45); // "NAME"
        Identity {
            doc: DocKind::IdCard,
            number: DocNumber(region * 100_000_000_000 + id as u64),
            name: NameCode::new(
                (h % 97) as u32,
                ((h >> 8) % 89) as u32,
                (!(h >> 16).is_multiple_of(5)).then_some(((h >> 24) % 83) as u32),
            ),
            age: p.age,
        }
    }
}
