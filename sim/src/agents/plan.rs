//! A citizen's day, derived rather than stored.
//!
//! The plan for a day is a pure function of (seed, citizen, day, the
//! citizen's attributes, the day's travel role). A citizen only stores which
//! step comes next, so a plan costs no memory and can be recomputed at every
//! wake with the same result.

use crate::rng::{agent_rng, mix, purpose};
use crate::scenario::Behaviour;
use crate::world::calendar::Calendar;
use crate::world::population::{Occupation, Person};
use rand::RngExt;

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Slot {
    /// Open the code, daily declaration/check-in, decide to travel.
    Morning,
    /// Home from the night shift, through the community gate.
    ShiftEnd,
    Commute,
    Depart,
    Bus,
    Hospital,
    Bank,
    Lunch,
    Arrive,
    Mall,
    Road,
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
    steps: [Step; MAX_STEPS],
    len: u8,
}

const MAX_STEPS: usize = 14;

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
    morning_at(rng.random(), rng.random())
}

/// Minutes of the day the morning step falls in: most people look at
/// their code around 07:00, the earliest from 05:00.
pub const MORNING: (u16, u16) = (300, 525);

fn morning_at(a: f64, b: f64) -> u16 {
    MORNING.0 + ((MORNING.1 - MORNING.0) as f64 * (a + b) / 2.0) as u16
}

/// Steps after midnight (a night at hospital, a late check-in, a freight
/// run) belong to the day before and end by this minute of the next day,
/// before anyone's morning (with room for a tick of up to 15 minutes).
pub const LATE_END: u16 = 1440 + 285;

/// Whether a wake at `minute_of_day` that is not a day's first step
/// belongs to the previous day's plan (a step after midnight).
pub fn past_midnight(minute_of_day: u32) -> bool {
    minute_of_day < MORNING.0 as u32
}

/// The citizen works a night shift (22:00–06:00) when they work at all.
pub fn night_shift(seed: u64, id: u32, person: &Person, b: &Behaviour) -> bool {
    person.occupation() == Occupation::Factory
        && unit(mix(seed, id as u64, 0x004e_4947_4854)) < b.night_shift // "NIGHT"
}

/// Whether the citizen goes to work or school on a day of this calendar:
/// schools close on rest days and in the breaks; on rest days some work
/// (shops and services are not modelled as jobs; factories and sites run).
pub fn works(seed: u64, id: u32, day: u32, person: &Person, calendar: Calendar) -> bool {
    let share = match (person.occupation(), calendar.rest_day()) {
        (Occupation::None, _) => 0.0,
        (Occupation::School, _) => f64::from(u8::from(!calendar.school_closed)),
        (_, false) => 1.0,
        (Occupation::Office, true) => 0.1,
        (Occupation::Factory, true) => 0.6,
        (Occupation::BuildingSite, true) => 0.7,
    };
    unit(mix(seed, id as u64, (day as u64) << 8 | 0x57)) < share // "W"
}

fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// When a day's work starts and ends, as ranges the times are drawn from
/// (a triangular draw: most people near the middle).
fn shift(occupation: Occupation) -> ((u16, u16), (u16, u16)) {
    match occupation {
        Occupation::Office => ((420, 570), (1020, 1170)),
        Occupation::Factory => ((390, 480), (990, 1080)),
        Occupation::BuildingSite => ((360, 450), (1050, 1140)),
        Occupation::School => ((410, 470), (960, 1050)),
        Occupation::None => ((0, 1), (0, 1)),
    }
}

/// The calendar of the plan's day and of the day before (whose night
/// shift ends this morning).
#[derive(Copy, Clone, Debug)]
pub struct Days {
    pub today: Calendar,
    pub yesterday: Calendar,
}

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
    days: Days,
) -> DayPlan {
    let mut rng = agent_rng(seed, id as u64, day as u64, purpose::DAY_PLAN);
    // Every slot draws (chance, time) in a fixed order whether used or not,
    // so one slot's outcome never shifts another's.
    let morning = (rng.random::<f64>(), morning_at(rng.random(), rng.random()));
    let mut draw = || -> (f64, f64) { (rng.random::<f64>(), rng.random::<f64>()) };
    let at = |(lo, hi): (u16, u16), u: f64| lo + ((hi - lo) as f64 * u) as u16;
    let commute = draw();
    let home_time = draw();
    let depart = draw();
    let leg = draw();
    let hospital = draw();
    let bank = draw();
    let bus = draw();
    let lunch = draw();
    let mall = draw();
    let road = draw();
    let hotel = draw();
    let venue = draw();
    let community = draw();

    let at_home = role == DayRole::Home;
    let out_and_about = matches!(role, DayRole::Home | DayRole::Away);
    let rest = days.today.rest_day();
    // Rest days (the national day week above all) fill restaurants, malls
    // and venues, and spread them from late morning.
    let leisure = if rest { 1.25 } else { 1.0 };
    let night = night_shift(seed, id, person, b);
    let working = at_home && !sick && works(seed, id, day, person, days.today);
    let (start, end) = shift(person.occupation());
    let mut steps = [Step {
        minute: 0,
        slot: Slot::Morning,
    }; MAX_STEPS];
    let mut len = 0;
    let mut push = |ok: bool, minute: u16, slot: Slot| {
        if ok {
            // Nothing comes before the morning's look at the code.
            let minute = if slot == Slot::Morning {
                minute
            } else {
                minute.clamp(morning.1 + 1, LATE_END - 1)
            };
            steps[len] = Step { minute, slot };
            len += 1;
        }
    };
    push(true, morning.1, Slot::Morning);
    push(
        night && at_home && !sick && works(seed, id, day.wrapping_sub(1), person, days.yesterday),
        morning.1 + 1 + (commute.0 * 10.0) as u16,
        Slot::ShiftEnd,
    );
    let commute_minute = if night {
        at((1260, 1320), commute.1)
    } else {
        // Triangular: the mean of two uniform draws.
        at(start, (commute.1 + home_time.0) / 2.0)
    };
    push(working, commute_minute, Slot::Commute);
    let travelling = matches!(role, DayRole::Outbound | DayRole::Inbound);
    let depart_minute = at((330, 720), depart.1);
    let arrive = (depart_minute + leg_minutes(flight, leg.1)).min(1430);
    push(travelling, depart_minute, Slot::Depart);
    push(travelling, arrive, Slot::Arrive);
    let hospital_p = if sick {
        (b.hospital * 20.0).min(0.6)
    } else {
        b.hospital
    };
    // A third of the sick go to the fever clinic at night (22:00–05:00).
    let hospital_minute = if sick && hospital.1 < 1.0 / 3.0 {
        at((1320, LATE_END), hospital.1 * 3.0)
    } else {
        at((480, 690), hospital.1)
    };
    push(
        at_home && hospital.0 < hospital_p,
        hospital_minute,
        Slot::Hospital,
    );
    push(
        at_home && bank.0 < b.bank,
        at((570, 1020), bank.1),
        Slot::Bank,
    );
    push(
        at_home && !working && bus.0 < b.bus,
        at((390, 1080), bus.1),
        Slot::Bus,
    );
    push(
        out_and_about && lunch.0 < (b.restaurant * leisure).min(1.0),
        at((660, 810), lunch.1),
        Slot::Lunch,
    );
    let leisure_from = if rest { 600 } else { 1020 };
    push(
        out_and_about && mall.0 < (b.mall * leisure).min(1.0),
        at((leisure_from, 1290), mall.1),
        Slot::Mall,
    );
    // Traffic checkpoints see drivers at every hour, freight at night.
    let road_minute = at((480, LATE_END), road.1);
    push(at_home && road.0 < b.road, road_minute, Slot::Road);
    let hotel_p = if matches!(role, DayRole::Outbound | DayRole::Away) {
        0.9
    } else {
        b.hotel
    };
    push(
        hotel.0 < hotel_p && role != DayRole::Inbound,
        if travelling {
            arrive + 30
        } else {
            at((840, 1410), hotel.1)
        },
        Slot::Hotel,
    );
    push(
        out_and_about && venue.0 < (b.venue * leisure).min(1.0),
        at((leisure_from.max(840), 1290), venue.1),
        Slot::Venue,
    );
    // Commuters pass the gate on their way home from work (the evening
    // peak); the night shift passed it this morning; others come back
    // from errands through the day.
    let community_minute = if working && !night {
        at(end, (home_time.1 + community.1) / 2.0)
    } else {
        at((540, 1290), community.1)
    };
    push(
        matches!(role, DayRole::Home | DayRole::Inbound) && community.0 < b.community,
        if travelling {
            arrive + 20
        } else {
            community_minute
        },
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
    use crate::world::calendar::DayKind;

    const WORKDAYS: Days = Days {
        today: Calendar {
            kind: DayKind::Workday,
            school_closed: false,
        },
        yesterday: Calendar {
            kind: DayKind::Workday,
            school_closed: false,
        },
    };

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
                let p = plan(
                    7,
                    id,
                    day,
                    &person,
                    role,
                    id % 3 == 0,
                    &b,
                    id % 5 == 0,
                    WORKDAYS,
                );
                assert_eq!(p.steps()[0].minute, morning_minute(7, id, day));
            }
        }
    }

    #[test]
    fn plans_are_reproducible_sorted_and_start_in_the_morning() {
        let person = Person::new(0, 0, 35, 1, true, Occupation::Office);
        let b = Behaviour::default();
        for day in 0..50 {
            let p1 = plan(
                9,
                4,
                day,
                &person,
                DayRole::Home,
                false,
                &b,
                false,
                WORKDAYS,
            );
            let p2 = plan(
                9,
                4,
                day,
                &person,
                DayRole::Home,
                false,
                &b,
                false,
                WORKDAYS,
            );
            assert_eq!(p1.steps(), p2.steps());
            assert_eq!(p1.steps()[0].slot, Slot::Morning);
            assert!(p1.steps().windows(2).all(|w| w[0].minute <= w[1].minute));
            assert!(p1.steps().iter().any(|s| s.slot == Slot::Commute));
        }
        let trip = plan(
            9,
            4,
            3,
            &person,
            DayRole::Outbound,
            false,
            &b,
            true,
            WORKDAYS,
        );
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

    fn commutes(person: &Person, today: Calendar) -> usize {
        let b = Behaviour::default();
        let days = Days {
            today,
            yesterday: today,
        };
        (0..200)
            .filter(|&id| {
                plan(3, id, 5, person, DayRole::Home, false, &b, false, days)
                    .steps()
                    .iter()
                    .any(|s| s.slot == Slot::Commute)
            })
            .count()
    }

    #[test]
    fn schools_close_on_holidays_and_in_the_breaks_offices_mostly_rest() {
        let pupil = Person::new(0, 0, 12, 3, false, Occupation::School);
        let clerk = Person::new(0, 0, 40, 3, true, Occupation::Office);
        let holiday = Calendar {
            kind: DayKind::Holiday,
            school_closed: true,
        };
        let winter_break = Calendar {
            kind: DayKind::Workday,
            school_closed: true,
        };
        assert_eq!(commutes(&pupil, WORKDAYS.today), 200);
        assert_eq!(commutes(&pupil, holiday), 0);
        assert_eq!(commutes(&pupil, winter_break), 0);
        assert_eq!(commutes(&clerk, winter_break), 200);
        assert!(commutes(&clerk, holiday) < 40);
    }

    /// Office workers go in between 07:00 and 09:30 and pass their
    /// community gate on the way home between 17:00 and 19:30.
    #[test]
    fn commuters_go_in_in_the_morning_and_come_home_in_the_evening() {
        let clerk = Person::new(0, 0, 40, 3, true, Occupation::Office);
        let b = Behaviour::default();
        let mut homes = 0;
        for id in 0..500 {
            let p = plan(3, id, 1, &clerk, DayRole::Home, false, &b, false, WORKDAYS);
            for s in p.steps() {
                match s.slot {
                    Slot::Commute => assert!((420..570).contains(&s.minute), "{s:?}"),
                    Slot::Community => {
                        assert!((1020..1170).contains(&s.minute), "{s:?}");
                        homes += 1;
                    }
                    _ => {}
                }
            }
        }
        assert!(homes > 300, "{homes} of 500 came home through the gate");
    }

    /// Steps after midnight end before anyone's morning, so a wake before
    /// the morning window that is not a day's first step is yesterday's.
    #[test]
    fn steps_after_midnight_end_before_the_next_morning() {
        let b = Behaviour {
            road: 1.0,
            hospital: 0.05,
            ..Behaviour::default()
        };
        let mut late = 0;
        for id in 0..300 {
            let person = Person::new(id, 0, 45, 1, true, Occupation::Factory);
            let p = plan(1, id, 2, &person, DayRole::Home, true, &b, false, WORKDAYS);
            assert_eq!(p.steps()[0].slot, Slot::Morning);
            for s in &p.steps()[1..] {
                assert!(s.minute < LATE_END, "{s:?}");
                if s.minute >= 1440 {
                    late += 1;
                    assert!(past_midnight((s.minute - 1440) as u32));
                }
            }
        }
        assert!(late > 0);
    }
}
