//! What load mode sends: a registered sample of the scenario's citizens and
//! a deterministic request for every arrival.
//!
//! Arrival i's request is a pure function of (seed, i): which citizen, which
//! operation, which checkpoint. So two runs of the same scenario offer the
//! same requests in the same order, and any worker may build any arrival.

use crate::rng::mix;
use crate::world::World;
use hcsim_platform::api::{
    CodeId, CountyRef, Credential, DeciCelsius, Place, Request, Response, CHECKPOINT_KINDS,
};
use hcsim_platform::identity::DocNumber;
use hcsim_platform::Minute;
use serde::Serialize;
use std::sync::Arc;

/// Anything that can say what arrival i asks.
pub trait RequestSource: Send + Sync + 'static {
    fn request(&self, i: u64) -> Request;
}

impl<F: Fn(u64) -> Request + Send + Sync + 'static> RequestSource for F {
    fn request(&self, i: u64) -> Request {
        self(i)
    }
}

/// Relative weights of the operations.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mix {
    /// 码核验 at a checkpoint.
    pub verify: u32,
    /// 健康信息查询: the holder opens their code.
    pub query: u32,
    /// 健康打卡: the daily declaration.
    pub declare: u32,
}

impl Default for Mix {
    fn default() -> Mix {
        Mix {
            verify: 85,
            query: 10,
            declare: 5,
        }
    }
}

impl Mix {
    /// Parses `verify=85,query=10,declare=5` (missing operations weigh 0).
    pub fn parse(s: &str) -> Result<Mix, String> {
        let mut m = Mix {
            verify: 0,
            query: 0,
            declare: 0,
        };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not op=weight"))?;
            let w: u32 = v
                .trim()
                .parse()
                .map_err(|_| format!("weight `{v}` of `{k}` is not a whole number"))?;
            match k.trim() {
                "verify" => m.verify = w,
                "query" => m.query = w,
                "declare" => m.declare = w,
                other => {
                    return Err(format!(
                        "unknown operation `{other}`: use verify, query, declare"
                    ))
                }
            }
        }
        if m.total() == 0 || m.total() > 1_000_000 {
            return Err("weights must add up to between 1 and 1000000".into());
        }
        Ok(m)
    }
    fn total(&self) -> u64 {
        self.verify as u64 + self.query as u64 + self.declare as u64
    }
}

/// Shares of verifications that are cross-province (answered via the hub)
/// and by ID card (people without a smartphone), per thousand.
const CROSS_PROVINCE_PER_MILLE: u64 = 100;
const ID_CARD_PER_MILLE: u64 = 50;
/// Purpose tag so load draws are unrelated to the simulation's.
const PURPOSE: u64 = 0x4c4f_4144; // "LOAD"

#[derive(Copy, Clone, Debug)]
struct Citizen {
    code: CodeId,
    document: DocNumber,
    home: CountyRef,
}

pub struct Workload {
    seed: u64,
    mix: Mix,
    world: Arc<World>,
    people: Vec<Citizen>,
}

/// Every `stride`-th citizen, so a sample keeps the provinces' mix.
pub fn sample(world: &World, people: usize) -> Vec<u32> {
    let n = world.citizens() as usize;
    if n == 0 {
        return Vec::new();
    }
    let take = people.clamp(1, n);
    (0..take).map(|k| (k * n / take) as u32).collect()
}

/// The registrations (码生成) of the sampled citizens.
pub fn applications(world: &World, ids: &[u32]) -> Vec<Request> {
    ids.iter()
        .map(|&id| Request::Apply {
            province: world.home_province(id),
            identity: world.identity(id),
            face_verified: true,
            national: false,
        })
        .collect()
}

impl Workload {
    /// Keeps the citizens whose registration was issued a code.
    pub fn new(
        seed: u64,
        mix: Mix,
        world: Arc<World>,
        ids: &[u32],
        issued: &[Response],
    ) -> Workload {
        let people = ids
            .iter()
            .zip(issued)
            .filter_map(|(&id, r)| match r {
                Response::Issued { code, .. } => {
                    let p = &world.people[id as usize];
                    Some(Citizen {
                        code: *code,
                        document: world.identity(id).number,
                        home: world.geography.counties[p.county as usize].county_ref(),
                    })
                }
                _ => None,
            })
            .collect();
        Workload {
            seed,
            mix,
            world,
            people,
        }
    }

    pub fn registered(&self) -> usize {
        self.people.len()
    }

    fn verify(&self, c: &Citizen, h: u64) -> Request {
        let county = if h % 1000 < CROSS_PROVINCE_PER_MILLE {
            self.world
                .pick_destination(c.home.province, h >> 40)
                .map_or(c.home, |d| {
                    self.world.geography.counties[d as usize].county_ref()
                })
        } else {
            c.home
        };
        let credential = if (h >> 10) % 1000 < ID_CARD_PER_MILLE {
            Credential::IdCard(c.document)
        } else {
            Credential::Code(c.code)
        };
        Request::Verify {
            credential,
            place: Place {
                county,
                kind: CHECKPOINT_KINDS[((h >> 20) % CHECKPOINT_KINDS.len() as u64) as usize],
            },
            // 36.0–36.9 °C: checkpoints read normal temperatures, which is
            // the common case and changes no one's color.
            temperature: Some(DeciCelsius(360 + ((h >> 30) % 10) as u16)),
        }
    }
}

impl RequestSource for Workload {
    fn request(&self, i: u64) -> Request {
        let h = mix(self.seed ^ PURPOSE, i, 1);
        let c = &self.people[(h % self.people.len().max(1) as u64) as usize];
        let pick = mix(self.seed ^ PURPOSE, i, 2);
        let w = pick % self.mix.total();
        if w < self.mix.verify as u64 {
            self.verify(c, mix(self.seed ^ PURPOSE, i, 3))
        } else if w < self.mix.verify as u64 + self.mix.query as u64 {
            Request::Query { code: c.code }
        } else {
            Request::Declare {
                code: c.code,
                temperature: DeciCelsius::NORMAL,
                symptoms: false,
                contact: false,
            }
        }
    }
}

/// The moment registrations are filed: the run's virtual start, before its
/// first scan. Not earlier: `hcsim serve` refuses a `now` before its own
/// start, which is the scenario's start when `--from` is left alone.
pub fn registration_time(start: Minute) -> Minute {
    start
}
