//! A citizen's day, derived rather than stored.
//!
//! The plan for a day is a pure function of (seed, citizen, day, the
//! citizen's attributes, the day's travel role). A citizen only stores which
//! step comes next, so a plan costs no memory and can be recomputed at every
//! wake with the same result.

use crate::rng::{agent_rng, purpose};
use crate::scenario::Behaviour;
use crate::world::population::{Occupation, Person};
use rand::RngExt;

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Slot {
    /// Open the code, daily declaration/check-in, decide to travel.
    Morning,
    Commute,
    Depart,
    Hospital,
    Bank,
    Lunch,
    Arrive,
    Mall,
    Hotel,
    Venue,
    Community,
}

/// Where the citizen is in a trip on a given day.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum DayRole {
    Home = 0,
    /// Leaves home for another province today.
    Outbound = 1,
    /// Spends the day in the destination.
    Away = 2,
    /// Travels back home today.
    Inbound = 3,
}

impl DayRole {
    pub fn from_bits(b: u8) -> DayRole {
        match b & 3 {
            1 => DayRole::Outbound,
            2 => DayRole::Away,
            3 => DayRole::Inbound,
            _ => DayRole::Home,
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub minute: u16,
    pub slot: Slot,
}

pub struct DayPlan {
    steps: [Step; 11],
    len: u8,
}

impl DayPlan {
    pub fn steps(&self) -> &[Step] {
        &self.steps[..self.len as usize]
    }
}

/// Minutes of a trip's leg: 2–4 h by air, 3–8 h by train.
pub fn leg_minutes(flight: bool, draw: f64) -> u16 {
    if flight {
        120 + (draw * 120.0) as u16
    } else {
        180 + (draw * 300.0) as u16
    }
}

/// The first step of a day (always `Morning`) without drawing the rest of
/// the plan: a citizen whose day is over only needs tomorrow's first wake.
pub fn morning_minute(seed: u64, id: u32, day: u32) -> u16 {
    let mut rng = agent_rng(seed, id as u64, day as u64, purpose::DAY_PLAN);
    let _chance: f64 = rng.random();
    rng.random_range(MORNING.0..MORNING.1)
}

/// Minutes of the day the morning step falls in.
const MORNING: (u16, u16) = (360, 450);

// Every input is a plain value the plan is a pure function of; bundling
// them in a struct would only move the list.
#[allow(clippy::too_many_arguments)]
pub fn plan(
    seed: u64,
    id: u32,
    day: u32,
    person: &Person,
    role: DayRole,
    sick: bool,
    b: &Behaviour,
    flight: bool,
) -> DayPlan {
    let mut rng = agent_rng(seed, id as u64, day as u64, purpose::DAY_PLAN);
    // Every slot draws (chance, time) in a fixed order whether used or not,
    // so one slot's outcome never shifts another's.
    let mut draw =
        |lo: u16, hi: u16| -> (f64, u16) { (rng.random::<f64>(), rng.random_range(lo..hi)) };
    let morning = draw(MORNING.0, MORNING.1);
    let commute = draw(450, 540);
    let depart = draw(540, 660);
    let leg = draw(0, 1000);
    let hospital = draw(540, 720);
    let bank = draw(600, 960);
    let lunch = draw(690, 780);
    let mall = draw(1080, 1260);
    let hotel = draw(1140, 1320);
    let venue = draw(1140, 1260);
    let community = draw(1200, 1320);

    let at_home = role == DayRole::Home;
    let out_and_about = matches!(role, DayRole::Home | DayRole::Away);
    let mut steps = [Step {
        minute: 0,
        slot: Slot::Morning,
    }; 11];
    let mut len = 0;
    let mut push = |ok: bool, minute: u16, slot: Slot| {
        if ok {
            steps[len] = Step { minute, slot };
            len += 1;
        }
    };
    push(true, morning.1, Slot::Morning);
    push(
        at_home && person.occupation() != Occupation::None && !sick,
        commute.1,
        Slot::Commute,
    );
    let travelling = matches!(role, DayRole::Outbound | DayRole::Inbound);
    let arrive = (depart.1 + leg_minutes(flight, leg.1 as f64 / 1000.0)).min(1430);
    push(travelling, depart.1, Slot::Depart);
    push(travelling, arrive, Slot::Arrive);
    let hospital_p = if sick {
        (b.hospital * 20.0).min(0.6)
    } else {
        b.hospital
    };
    push(
        at_home && hospital.0 < hospital_p,
        hospital.1,
        Slot::Hospital,
    );
    push(at_home && bank.0 < b.bank, bank.1, Slot::Bank);
    push(
        out_and_about && lunch.0 < b.restaurant,
        lunch.1,
        Slot::Lunch,
    );
    push(out_and_about && mall.0 < b.mall, mall.1, Slot::Mall);
    let hotel_p = if matches!(role, DayRole::Outbound | DayRole::Away) {
        0.9
    } else {
        b.hotel
    };
    push(
        hotel.0 < hotel_p && role != DayRole::Inbound,
        hotel.1.max(arrive + 30).min(1435),
        Slot::Hotel,
    );
    push(out_and_about && venue.0 < b.venue, venue.1, Slot::Venue);
    push(
        matches!(role, DayRole::Home | DayRole::Inbound) && community.0 < b.community,
        community.1.max(arrive + 20).min(1438),
        Slot::Community,
    );
    steps[..len].sort_by_key(|s| (s.minute, s.slot));
    DayPlan {
        steps,
        len: len as u8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn morning_minute_is_the_plans_first_step() {
        let b = Behaviour::default();
        for id in 0..200 {
            let person = Person::new(
                id,
                0,
                20 + (id % 50) as u8,
                1,
                id % 2 == 0,
                Occupation::Office,
            );
            for (day, role) in [
                (0, DayRole::Home),
                (3, DayRole::Outbound),
                (9, DayRole::Away),
            ] {
                let p = plan(7, id, day, &person, role, id % 3 == 0, &b, id % 5 == 0);
                assert_eq!(p.steps()[0].minute, morning_minute(7, id, day));
            }
        }
    }

    #[test]
    fn plans_are_reproducible_sorted_and_start_in_the_morning() {
        let person = Person::new(0, 0, 35, 1, true, Occupation::Office);
        let b = Behaviour::default();
        for day in 0..50 {
            let p1 = plan(9, 4, day, &person, DayRole::Home, false, &b, false);
            let p2 = plan(9, 4, day, &person, DayRole::Home, false, &b, false);
            assert_eq!(p1.steps(), p2.steps());
            assert_eq!(p1.steps()[0].slot, Slot::Morning);
            assert!(p1.steps().windows(2).all(|w| w[0].minute <= w[1].minute));
            assert!(p1.steps().iter().any(|s| s.slot == Slot::Commute));
        }
        let trip = plan(9, 4, 3, &person, DayRole::Outbound, false, &b, true);
        let depart = trip
            .steps()
            .iter()
            .position(|s| s.slot == Slot::Depart)
            .unwrap();
        let arrive = trip
            .steps()
            .iter()
            .position(|s| s.slot == Slot::Arrive)
            .unwrap();
        assert!(depart < arrive);
    }
}
