//! Who holds a code when a run starts, and what an application says.
//!
//! By the time a scenario starts most of its population already holds a
//! code (by October 2020 almost everyone did): they are registered before
//! the clock starts, untimed, as `load` registers its population, and
//! nobody's first hour is spent applying. Only newcomers apply during the
//! run, at `behaviour.first_code` a day (DOMAIN.md, Fujian: 974,522
//! out-of-province applications by the end of June 2020 against 41.54 M
//! residents, ~0.02 % a day over the roll-out's months).

use crate::rng::{agent_rng, mix, purpose, unit};
use crate::scenario::Behaviour;
use crate::world::World;
use bitcode::{Decode, Encode};
use hcsim_platform::api::{CodeId, Issuer, Relation, Request, Response};
use hcsim_platform::Color;
use rand::RngExt;

/// A serial that is no code.
pub const NO_CODE: u32 = u32::MAX;

/// The day of the run on which citizen `id` applies for their first code,
/// for a newcomer; `None` for everyone who held one before the run.
pub fn first_code_day(world: &World, b: &Behaviour, id: u32) -> Option<u32> {
    let h = mix(world.seed, id as u64, 0x4e45_5743); // "NEWC"
    let days = world.run_days.max(1);
    (b.first_code > 0.0 && unit(h) < (b.first_code * days as f64).min(1.0))
        .then(|| (mix(h, id as u64, 0x0044_4159) % days as u64) as u32) // "DAY"
}

/// Smartphone users hold the national code with probability
/// `national_code`, by a hash of their id (stable over the run).
pub fn holds_national_code(world: &World, b: &Behaviour, id: u32) -> bool {
    let share = b.national_code;
    let h = mix(world.seed, id as u64, 0x4e41_544c); // "NATL"
    share > 0.0 && world.people[id as usize].smartphone() && unit(h) <= share
}

/// The citizen's applications: their province's code, then the national
/// code for those who hold one.
pub fn applications(world: &World, b: &Behaviour, id: u32) -> Vec<Request> {
    let identity = world.identity(id);
    let mut rng = agent_rng(world.seed, id as u64, 0, purpose::APPLY);
    // Guangdong gives minors whose face verification fails a white code.
    let face_verified = identity.age >= 18 || rng.random_bool(0.95);
    let apply = |national| Request::Apply {
        province: world.home_province(id),
        identity,
        face_verified,
        national,
    };
    let mut out = vec![apply(false)];
    if holds_national_code(world, b, id) {
        out.push(apply(true));
    }
    out
}

/// `adult` (holding province code `serial`) applies for `member` of their
/// household as family (Fujian's 家庭成员申领).
pub fn family_application(world: &World, adult: u32, serial: u32, member: u32) -> Request {
    let proxy = world
        .code_keys
        .sign(Issuer::Province(world.home_province(adult)), serial);
    let member_identity = world.identity(member);
    let relation = if member_identity.age < world.people[adult as usize].age {
        Relation::Child
    } else {
        Relation::Parent
    };
    Request::ApplyFamily {
        proxy,
        member: member_identity,
        relation,
    }
}

/// One shard's citizens as registered before the run, by local index.
#[derive(Clone, Debug, Default, PartialEq, Encode, Decode)]
pub struct Registered {
    /// Province code serial; `NO_CODE` for newcomers and those refused.
    pub codes: Vec<u32>,
    /// Codes issued another colour than green.
    pub colors: Vec<(u32, Color)>,
    /// National code serials.
    pub national: Vec<(u32, u32)>,
    /// Refused for want of face verification with no household adult
    /// holding a code yet: the first one to get one applies for them.
    pub waiting_family: Vec<u32>,
}

impl Registered {
    /// Nobody registered yet: `len` citizens without a code.
    pub fn new(len: usize) -> Registered {
        Registered {
            codes: vec![NO_CODE; len],
            ..Registered::default()
        }
    }

    /// Takes the answer to local citizen `i`'s application.
    pub fn answer(&mut self, i: u32, response: &Response) {
        match response {
            Response::Issued { code, .. } if code.issuer == Issuer::National => {
                self.national.push((i, code.serial));
            }
            Response::Issued { code, color } => self.issue(i, code, *color),
            _ => {}
        }
    }

    fn issue(&mut self, i: u32, code: &CodeId, color: Color) {
        self.codes[i as usize] = code.serial;
        if color != Color::Green {
            self.colors.push((i, color));
        }
    }
}
