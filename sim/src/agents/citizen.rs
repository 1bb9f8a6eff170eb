//! Citizens: declare, open their code (most hold one before the run:
//! `registration`; newcomers apply), commute, shop, travel, and
//! get scanned. State is struct-of-arrays indexed by `id - base`.

use super::flight::{self, Boarding};
use super::plan::{past_midnight, plan, DayRole, Days, Slot};
use super::registration::{self, Registered, NO_CODE};
use super::{Env, Sink};
use crate::engine::message::{Agent, Notice, ShardMsg, Tag, Visit};
use crate::engine::wheel::Wheel;
use crate::metrics::{op_slot, restricts};
use crate::nat::{self, NatReason};
use crate::rng::{agent_rng, mix, purpose, unit};
use hcsim_platform::api::{
    CheckpointKind, CodeId, Credential, DeciCelsius, Feed, InboundRequest, IntlDeclaration, Issuer,
    Refusal, Relation, Request, Response,
};
use hcsim_platform::{Color, Minute};
use rand::RngExt;
use rustc_hash::FxHashMap;

const NONE16: u16 = u16::MAX;
/// The day before the run's first, as a day index (it wraps).
const EVE: u32 = u32::MAX;
const FLIGHT_BIT: u8 = 4;
/// Refused a code for want of face verification: waits for a household
/// adult to apply for them as family (Fujian's 家庭成员申领).
const FAMILY_BIT: u8 = 8;
/// The citizen has an entry in `Citizens::rare`.
const RARE_BIT: u8 = 16;
/// A newcomer who applied for their first code during the run.
const APPLIED_BIT: u8 = 32;

/// State only a few citizens have on a given day (a trip, an illness, an
/// isolation order, a national code, a recent entry from abroad), kept out
/// of the per-citizen arrays so that the common citizen costs 7 bytes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Rare {
    /// County the citizen is travelling to or staying in; NONE16 at home.
    away: u16,
    trip_end_day: u16,
    sick_until_day: u16,
    isolated_until_day: u16,
    /// Day of the last entry from abroad; NONE16 when none is recent.
    entered_day: u16,
    /// Serial of the national code, for those who hold one.
    national: u32,
    /// Day the citizen first saw their code yellow; NONE16 when not yellow.
    yellow_since: u16,
    /// Minute a NAT sample was taken whose result is not yet published;
    /// NO_SAMPLE when none.
    nat_sampled: u32,
    /// Day of the last sample the citizen sought; NONE16 when none.
    nat_day: u16,
    /// Minute the citizen arrived in `away`; the carriers record the stay
    /// once it has lasted `STAY_MINUTES`. NO_SAMPLE when none is pending.
    arrived_away: u32,
}

const NO_SAMPLE: u32 = u32::MAX;

/// The telecom itinerary lists the cities where a person stayed at least
/// four hours (DOMAIN.md, risk areas): passing through an airport or a
/// station leaves no record.
pub const STAY_MINUTES: u32 = 4 * 60;

impl Rare {
    const NONE: Rare = Rare {
        away: NONE16,
        trip_end_day: 0,
        sick_until_day: 0,
        isolated_until_day: 0,
        entered_day: NONE16,
        national: NO_CODE,
        yellow_since: NONE16,
        nat_sampled: NO_SAMPLE,
        nat_day: NONE16,
        arrived_away: NO_SAMPLE,
    };

    /// Nothing in it matters on `day` or later.
    fn spent(&self, day: u32) -> bool {
        self.away == NONE16
            && self.entered_day == NONE16
            && self.national == NO_CODE
            && self.yellow_since == NONE16
            && self.nat_sampled == NO_SAMPLE
            && self.arrived_away == NO_SAMPLE
            && self.sick_until_day as u32 <= day
            && self.isolated_until_day as u32 <= day
    }
}

pub struct Citizens {
    pub base: u32,
    /// By local index: what a wake reads first, in one place, so that it
    /// costs one cache miss rather than one per column.
    held: Vec<Held>,
    /// By local index; present only while `RARE_BIT` is set.
    rare: FxHashMap<u32, Rare>,
    /// Stays away from home the carriers will record, by the minute they
    /// reach `STAY_MINUTES` (then the citizen id): only travellers in
    /// their first hours at the destination are here.
    stays: std::collections::BinaryHeap<std::cmp::Reverse<(u32, u32)>>,
}

/// A citizen's own state between wakes.
#[derive(Copy, Clone)]
struct Held {
    code: u32,
    color: Color,
    /// The next step of today's plan.
    step: u8,
    /// Bits 0–1: today's `DayRole`; bit 2: the current trip is by air;
    /// `FAMILY_BIT`, `RARE_BIT`.
    state: u8,
}

impl Citizens {
    pub fn new(range: std::ops::Range<u32>) -> Citizens {
        let n = range.len();
        Citizens {
            base: range.start,
            held: vec![
                Held {
                    code: NO_CODE,
                    color: Color::Green,
                    step: 0,
                    state: 0,
                };
                n
            ],
            rare: FxHashMap::default(),
            stays: Default::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    pub fn heap_bytes(&self) -> usize {
        self.held.capacity() * std::mem::size_of::<Held>()
            // A hash table slot: key, value and one control byte.
            + self.rare.capacity() * (std::mem::size_of::<(u32, Rare)>() + 1)
            + self.stays.capacity() * 8
    }

    fn rare(&self, i: usize) -> Rare {
        if self.held[i].state & RARE_BIT == 0 {
            Rare::NONE
        } else {
            self.rare.get(&(i as u32)).copied().unwrap_or(Rare::NONE)
        }
    }

    fn rare_mut(&mut self, i: usize) -> &mut Rare {
        self.held[i].state |= RARE_BIT;
        self.rare.entry(i as u32).or_insert(Rare::NONE)
    }

    /// Drops the entry once nothing in it matters any more.
    fn tidy(&mut self, i: usize, day: u32) {
        if self.held[i].state & RARE_BIT != 0 && self.rare(i).spent(day) {
            self.rare.remove(&(i as u32));
            self.held[i].state &= !RARE_BIT;
        }
    }

    /// Reads what the wakes of `due` will read first, in a loop of
    /// independent loads. A tick's wakes are scattered over the shard's
    /// records and the world's people, so each wake began with cache
    /// misses it waited for one after another (a third of a day plan's
    /// time went to loading its person); issued together, they overlap.
    pub fn warm(&self, env: &Env, due: &[u32]) {
        let mut touched = 0u64;
        for &id in due {
            let i = (id - self.base) as usize;
            let person = &env.world.people[id as usize];
            touched ^= u64::from(person.age) ^ u64::from(self.held[i].code);
        }
        std::hint::black_box(touched);
    }

    /// Schedules every citizen's first wake of the run.
    pub fn start(&mut self, env: &Env, now: Minute, wheel: &mut Wheel) {
        let (day, minute) = (env.day_of(now), now.minute_of_day() as u16 + 1);
        for i in 0..self.len() {
            let id = self.base + i as u32;
            if day != 0 || !self.schedule_eve(env, id, minute, wheel) {
                self.schedule_from(env, id, day, minute, wheel);
            }
        }
    }

    /// Takes the codes issued before the run started.
    pub fn registered(&mut self, r: Registered) {
        // Copied, not moved: a vector that crossed a process boundary has
        // another capacity, and heap bytes are a deterministic figure.
        if r.codes.len() == self.held.len() {
            for (held, &code) in self.held.iter_mut().zip(&r.codes) {
                held.code = code;
            }
        }
        for (i, color) in r.colors {
            self.held[i as usize].color = color;
        }
        for (i, serial) in r.national {
            self.rare_mut(i as usize).national = serial;
        }
        for i in r.waiting_family {
            self.held[i as usize].state |= FAMILY_BIT;
        }
    }

    /// A newcomer applies for their first code on their day (at their
    /// first wake of it, or later if the run started after it).
    fn apply_if_new(&mut self, env: &Env, id: u32, now: Minute, sink: &mut Sink) {
        let i = (id - self.base) as usize;
        if self.held[i].code != NO_CODE || self.held[i].state & APPLIED_BIT != 0 {
            return;
        }
        if registration::first_code_day(env.world, env.behaviour, id)
            .is_some_and(|d| env.day_of(now) >= d)
        {
            self.held[i].state |= APPLIED_BIT;
            for request in registration::applications(env.world, env.behaviour, id) {
                self.send(env, id, request, sink);
            }
        }
    }

    fn send(&self, env: &Env, id: u32, request: Request, sink: &mut Sink) {
        sink.metrics.requests[op_slot(request.op())] += 1;
        sink.out.requests.push((
            Tag {
                shard: env.shard,
                agent: Agent::Citizen(id),
                aux: 0,
            },
            request,
        ));
    }

    fn plan_today(&self, env: &Env, id: u32, day: u32) -> super::plan::DayPlan {
        let i = (id - self.base) as usize;
        let person = &env.world.people[id as usize];
        let role = DayRole::from_bits(self.held[i].state);
        let sick = self.rare(i).sick_until_day as u32 > day;
        plan(
            env.seed,
            id,
            day,
            person,
            role,
            sick,
            env.behaviour,
            self.held[i].state & FLIGHT_BIT != 0,
            Days {
                today: env.world.calendar(day),
                yesterday: env.world.calendar_before(day),
            },
        )
    }

    /// Schedules the first step of `day` at or after `minute`, else tomorrow's first.
    fn schedule_from(&mut self, env: &Env, id: u32, day: u32, minute: u16, wheel: &mut Wheel) {
        let i = (id - self.base) as usize;
        let today = self.plan_today(env, id, day);
        match today.steps().iter().position(|s| s.minute >= minute) {
            Some(k) => {
                self.held[i].step = k as u8;
                wheel.schedule(env.tick_of(day, today.steps()[k].minute), id);
            }
            None => self.schedule_tomorrow(env, id, day, wheel),
        }
    }

    /// At the start of the run, the steps after midnight of the plan of
    /// the day before (a night at hospital, a freight run), from `minute`:
    /// false when none is left.
    fn schedule_eve(&mut self, env: &Env, id: u32, minute: u16, wheel: &mut Wheel) -> bool {
        let i = (id - self.base) as usize;
        let eve = self.plan_today(env, id, EVE);
        match eve.steps().iter().position(|s| s.minute >= 1440 + minute) {
            Some(k) => {
                self.held[i].step = k as u8;
                wheel.schedule(env.tick_of(EVE, eve.steps()[k].minute), id);
                true
            }
            None => false,
        }
    }

    fn schedule_tomorrow(&mut self, env: &Env, id: u32, day: u32, wheel: &mut Wheel) {
        let i = (id - self.base) as usize;
        self.held[i].step = 0;
        // Morning's time does not depend on tomorrow's role.
        let morning = super::plan::morning_minute(env.seed, id, day.wrapping_add(1));
        wheel.schedule(env.tick_of(day.wrapping_add(1), morning), id);
    }

    pub fn wake(&mut self, env: &Env, id: u32, now: Minute, wheel: &mut Wheel, sink: &mut Sink) {
        let i = (id - self.base) as usize;
        let k = self.held[i].step as usize;
        // A step after midnight belongs to yesterday's plan.
        let day = match env.day_of(now) {
            d if k > 0 && past_midnight(now.minute_of_day()) => d.wrapping_sub(1),
            d => d,
        };
        self.apply_if_new(env, id, now, sink);
        self.publish_result(env, id, now, sink);
        // A day's first step is always Morning (`plan` sorts it first), and
        // Morning may change the plan: draw the plan only after it.
        let steps = if k == 0 {
            self.morning(env, id, day, now, sink);
            self.plan_today(env, id, day)
        } else {
            let steps = self.plan_today(env, id, day);
            let Some(&step) = steps.steps().get(k) else {
                self.schedule_tomorrow(env, id, day, wheel);
                return;
            };
            let arrived = Minute(env.start.day().wrapping_add(day) * 1440 + step.minute as u32);
            self.go_out(env, id, day, step.slot, now, arrived.min(now), sink);
            steps
        };
        match steps.steps().get(k + 1) {
            Some(next) => {
                self.held[i].step = (k + 1) as u8;
                wheel.schedule(env.tick_of(day, next.minute), id);
            }
            None => self.schedule_tomorrow(env, id, day, wheel),
        }
    }

    fn code_of(&self, env: &Env, id: u32) -> Option<CodeId> {
        let serial = self.held[(id - self.base) as usize].code;
        (serial != NO_CODE).then(|| {
            env.world
                .code_keys
                .sign(Issuer::Province(env.world.home_province(id)), serial)
        })
    }

    fn morning(&mut self, env: &Env, id: u32, day: u32, now: Minute, sink: &mut Sink) {
        let i = (id - self.base) as usize;
        let b = env.behaviour;
        let mut rng = agent_rng(env.seed, id as u64, day as u64, purpose::HEALTH);
        let rare = self.rare(i);
        let isolated = rare.isolated_until_day as u32 > day;

        if rare.sick_until_day as u32 <= day && rng.random_bool(b.symptoms) {
            self.rare_mut(i).sick_until_day =
                (day + rng.random_range(2..=4u32)).min(NONE16 as u32 - 1) as u16;
            sink.metrics.symptom_onsets += 1;
        }
        let sick = self.rare(i).sick_until_day as u32 > day;

        let role = if rare.away != NONE16 {
            if rare.trip_end_day as u32 <= day {
                DayRole::Inbound
            } else {
                DayRole::Away
            }
        } else if !isolated
            && !sick
            && !restricts(self.held[i].color)
            && self.held[i].code != NO_CODE
            && rng.random_bool(b.travel_at(now, env.world.home_province(id)))
        {
            match env
                .world
                .travel
                .pick(env.world.home_province(id), rng.random::<u64>())
            {
                Some(dest) => {
                    let days = 1
                        + (-(b.trip_days_mean - 1.0).max(0.01) * (1.0 - rng.random::<f64>()).ln())
                            as u32;
                    let trip = self.rare_mut(i);
                    trip.away = dest as u16;
                    trip.trip_end_day = (day + days.min(60)) as u16;
                    self.held[i].state = (self.held[i].state & !FLIGHT_BIT)
                        | if rng.random_bool(b.flight_share) {
                            FLIGHT_BIT
                        } else {
                            0
                        };
                    sink.metrics.trips_started += 1;
                    DayRole::Outbound
                }
                None => DayRole::Home,
            }
        } else {
            DayRole::Home
        };
        self.held[i].state = (self.held[i].state & !3) | role as u8;
        self.tidy(i, day);

        let Some(code) = self.code_of(env, id) else {
            return;
        };
        self.inbound_services(env, id, day, now, role, isolated, sink);
        self.seek_test(env, id, day, now, role, sink);
        // Yellow and red holders must check in daily; the sick declare their
        // symptoms; a few greens declare anyway. Residents of a province
        // whose code is computed from data alone (Fujian) declare nothing.
        let must_check_in = !matches!(self.held[i].color, Color::Green | Color::White);
        let declares = env.world.declares[env.world.home_province(id).index()];
        if (sick || must_check_in || rng.random_bool(b.voluntary_declare)) && declares {
            let temperature = if sick {
                DeciCelsius(375 + rng.random_range(0..15u16))
            } else {
                DeciCelsius(362 + rng.random_range(0..8u16))
            };
            self.send(
                env,
                id,
                Request::Declare {
                    code,
                    temperature,
                    symptoms: sick,
                    contact: false,
                },
                sink,
            );
        }
        if env.world.people[id as usize].smartphone() && rng.random_bool(b.open_code) {
            self.send(env, id, Request::Query { code }, sink);
        }
        let _ = now;
    }

    /// Goes for a NAT where the home province's rules ask for a negative
    /// result: a yellow holder on the eve of the earliest release, again
    /// every third day while still yellow; a traveller leaving the
    /// province. Sampled now; the lab publishes the result a turnaround
    /// later (`publish_result`).
    fn seek_test(
        &mut self,
        env: &Env,
        id: u32,
        day: u32,
        now: Minute,
        role: DayRole,
        sink: &mut Sink,
    ) {
        let i = (id - self.base) as usize;
        let policy = env.world.nat_policy[env.world.home_province(id).index()];
        let rare = self.rare(i);
        let yellow = self.held[i].color == Color::Yellow;
        if yellow && rare.yellow_since == NONE16 {
            self.rare_mut(i).yellow_since = day.min(NONE16 as u32 - 1) as u16;
        } else if !yellow && rare.yellow_since != NONE16 {
            self.rare_mut(i).yellow_since = NONE16;
        }
        let rare = self.rare(i);
        if rare.nat_sampled != NO_SAMPLE {
            return;
        }
        let release_due = policy.yellow_release_days.is_some_and(|days| {
            yellow
                && day + 1 >= rare.yellow_since as u32 + days as u32
                && (rare.nat_day == NONE16 || day >= rare.nat_day as u32 + 3)
        });
        let reason = if release_due {
            NatReason::YellowRelease
        } else if role == DayRole::Outbound && policy.travel_days.is_some() {
            NatReason::Travel
        } else {
            return;
        };
        let r = self.rare_mut(i);
        r.nat_sampled = now.0;
        r.nat_day = day.min(NONE16 as u32 - 1) as u16;
        nat::count(&mut sink.metrics.nat, day, reason);
    }

    /// The lab's result of the citizen's pending sample, once the
    /// turnaround has passed: published at the citizen's first wake after
    /// it (the result is negative: cases are found by the authority).
    fn publish_result(&mut self, env: &Env, id: u32, now: Minute, sink: &mut Sink) {
        let i = (id - self.base) as usize;
        let sampled = self.rare(i).nat_sampled;
        if sampled == NO_SAMPLE || now < Minute(sampled).plus_hours(env.world.nat_turnaround_hours)
        {
            return;
        }
        self.rare_mut(i).nat_sampled = NO_SAMPLE;
        let request = Request::Feed {
            to: Some(env.world.home_province(id)),
            feed: Feed::NatResult {
                person: env.world.identity(id).number,
                at: Minute(sampled),
                positive: false,
                institution: 1 + (id % 50) as u16,
            },
        };
        self.send(env, id, request, sink);
        self.tidy(i, env.day_of(now));
    }

    /// Goes to the checkpoint of a step planned for minute `at` (the wake,
    /// `now`, is the tick it falls in).
    #[allow(clippy::too_many_arguments)]
    fn go_out(
        &mut self,
        env: &Env,
        id: u32,
        day: u32,
        slot: Slot,
        now: Minute,
        at: Minute,
        sink: &mut Sink,
    ) {
        let i = (id - self.base) as usize;
        let person = &env.world.people[id as usize];
        let home = person.county as u32;
        let role = DayRole::from_bits(self.held[i].state);
        let flight = self.held[i].state & FLIGHT_BIT != 0;
        let rare = self.rare(i);
        let away = rare.away as u32;
        let h = mix(env.seed, id as u64, (day as u64) << 8 | slot as u64);
        // People under isolation stay put (the order in force now, not on
        // the plan's day: a step after midnight is the next calendar
        // day's). A holder who knows their code is yellow, orange or red
        // stays home too: home observation or quarantine. They still go to
        // a fever clinic, which takes them, and a traveller still makes the
        // trip's legs: the stations and airports are where a code stops them.
        if rare.isolated_until_day as u32 > env.day_of(at)
            || (restricts(self.held[i].color)
                && !matches!(slot, Slot::Hospital | Slot::Depart | Slot::Arrive))
        {
            return;
        }
        let station = if flight {
            CheckpointKind::Airport
        } else {
            CheckpointKind::TrainStation
        };
        let (county, target) = match (slot, role) {
            (Slot::Commute, _) => match env.world.workplace(id) {
                Some(site) => (home, Target::Site(site)),
                None => return,
            },
            (Slot::Depart, DayRole::Outbound) => (home, Target::Hub(station)),
            (Slot::Arrive, DayRole::Outbound) => {
                self.rare_mut(i).arrived_away = at.0;
                let qualified = at.plus_minutes(STAY_MINUTES).0;
                self.stays.push(std::cmp::Reverse((qualified, id)));
                (away, Target::Hub(station))
            }
            (Slot::Depart, DayRole::Inbound) => (away, Target::Hub(station)),
            (Slot::Arrive, DayRole::Inbound) => {
                let r = self.rare_mut(i);
                r.away = NONE16;
                r.arrived_away = NO_SAMPLE;
                self.tidy(i, day);
                (home, Target::Hub(station))
            }
            (Slot::Depart | Slot::Arrive, _) => return,
            (Slot::Bus, _) => (home, Target::Hub(CheckpointKind::BusStation)),
            (Slot::Road, _) => (
                home,
                Target::Kind(CheckpointKind::TrafficCheckpoint, h >> 8),
            ),
            (Slot::Community | Slot::ShiftEnd, _) => (
                home,
                Target::Kind(CheckpointKind::Community, person.household as u64),
            ),
            (slot, role) => {
                let kind = match slot {
                    Slot::Hospital => CheckpointKind::Hospital,
                    Slot::Bank => CheckpointKind::Bank,
                    Slot::Lunch => CheckpointKind::Restaurant,
                    Slot::Mall => CheckpointKind::Mall,
                    Slot::Hotel => CheckpointKind::Hotel,
                    _ => CheckpointKind::Venue,
                };
                let county =
                    if matches!(role, DayRole::Away | DayRole::Outbound) && away != NONE16 as u32 {
                        away
                    } else {
                        home
                    };
                (county, Target::Kind(kind, h >> 8))
            }
        };
        let geo = &env.world.geography;
        let checkpoint = match target {
            Target::Hub(kind) => geo.city_hub(county, kind),
            Target::Site(site) => Some(site),
            Target::Kind(kind, pick) => {
                let r = &geo.county_checkpoints[county as usize][kind as usize];
                (!r.is_empty()).then(|| r.start + (pick % r.len() as u64) as u32)
            }
        };
        let Some(checkpoint) = checkpoint else { return };
        let sick = rare.sick_until_day as u32 > day;
        let temperature = if sick {
            DeciCelsius(374 + (h % 14) as u16)
        } else {
            DeciCelsius(360 + (h % 11) as u16)
        };
        let national = rare.national;
        let credential = match self.code_of(env, id) {
            // Holders of the national code show it: equal validity.
            Some(_) if person.smartphone() && national != NO_CODE => {
                Credential::Code(env.world.code_keys.sign(Issuer::National, national))
            }
            Some(code) if person.smartphone() => Credential::Code(code),
            _ => Credential::IdCard(env.world.identity(id).number),
        };
        let credential = match credential {
            // Drawn only when asked for, so ordinary days draw as before.
            Credential::Code(code)
                if env.behaviour.forged_codes > 0.0
                    && unit(mix(h, id as u64, 0x464f_5247)) < env.behaviour.forged_codes =>
            {
                Credential::Code(CodeId {
                    serial: code.serial.wrapping_add(1),
                    ..code
                })
            }
            c => c,
        };
        let (shard, local) = env.world.checkpoint_home(checkpoint);
        let visit = Visit {
            citizen: id,
            credential,
            temperature,
            arrived: at,
        };
        if matches!(slot, Slot::Depart | Slot::Arrive) && !flight {
            sink.metrics.travel.train_trips += u64::from(slot == Slot::Depart);
        } else if slot == Slot::Arrive {
            // The flight's landing scans its passengers at the airport.
            return;
        } else if slot == Slot::Depart {
            let from = geo.counties[county as usize].province;
            let to = if role == DayRole::Outbound {
                geo.counties[away as usize].province
            } else {
                env.world.home_province(id)
            };
            let flight = flight::domestic_id(day, from, to, now.minute_of_day() as u16);
            self.board(env, id, flight, credential, temperature, sink);
        }
        sink.out.messages.push((
            shard,
            ShardMsg::Arrive {
                checkpoint: local,
                visit,
            },
        ));
    }

    /// The carriers' itinerary records of stays away from home, sent to
    /// the home platform in the tick a stay reaches `STAY_MINUTES`, dated
    /// then (the record exists from that moment). The traveller then opens
    /// the code: the destination's checkpoints will ask for it, and any
    /// change the itinerary brings is sent to them by text message.
    pub fn carriers_record_stays(&mut self, env: &Env, now: Minute, sink: &mut Sink) {
        while let Some(&std::cmp::Reverse((qualified, id))) = self.stays.peek() {
            if qualified > now.0 {
                break;
            }
            self.stays.pop();
            self.carriers_record_stay(env, id, Minute(qualified), now, sink);
        }
    }

    fn carriers_record_stay(
        &mut self,
        env: &Env,
        id: u32,
        qualified: Minute,
        now: Minute,
        sink: &mut Sink,
    ) {
        let i = (id - self.base) as usize;
        let rare = self.rare(i);
        // Home again before the stay counted (or a later trip's arrival).
        if rare.away == NONE16
            || rare.arrived_away == NO_SAMPLE
            || Minute(rare.arrived_away).plus_minutes(STAY_MINUTES) != qualified
        {
            return;
        }
        self.rare_mut(i).arrived_away = NO_SAMPLE;
        let feed = Feed::Stay {
            person: env.world.identity(id).number,
            county: env.world.geography.counties[rare.away as usize].county_ref(),
            at: qualified,
        };
        let request = Request::Feed {
            to: Some(env.world.home_province(id)),
            feed,
        };
        sink.metrics.requests[op_slot(request.op())] += 1;
        sink.out.requests.push((
            Tag {
                shard: env.shard,
                agent: Agent::Telecom,
                aux: id,
            },
            request,
        ));
        self.open_code(env, id, sink);
        self.tidy(i, env.day_of(now));
    }

    /// The holder opens their code and learns its colour from the answer.
    fn open_code(&self, env: &Env, id: u32, sink: &mut Sink) {
        if let Some(code) = self.code_of(env, id) {
            self.send(env, id, Request::Query { code }, sink);
        }
    }

    fn board(
        &self,
        env: &Env,
        id: u32,
        flight: u32,
        credential: Credential,
        temperature: DeciCelsius,
        sink: &mut Sink,
    ) {
        let host = flight::host_shard(env.seed, flight, env.world.shards.len() as u32);
        let passenger = Boarding {
            citizen: id,
            document: env.world.identity(id).number,
            home: env.world.home_province(id),
            credential,
            temperature,
        };
        sink.out
            .messages
            .push((host, ShardMsg::Board { flight, passenger }));
    }

    /// Returning from abroad: the international declaration before the
    /// flight, the flight itself; then, over the next 14 days, the overseas
    /// itinerary declaration, the entry query at the community and the daily
    /// same-flight self-check.
    #[allow(clippy::too_many_arguments)]
    fn inbound_services(
        &mut self,
        env: &Env,
        id: u32,
        day: u32,
        now: Minute,
        role: DayRole,
        isolated: bool,
        sink: &mut Sink,
    ) {
        let i = (id - self.base) as usize;
        let b = env.behaviour;
        let document = env.world.identity(id).number;
        let home = env.world.home_province(id);
        let wave = |entered: u32| {
            10 + (mix(env.seed, id as u64, entered as u64 ^ 0x5741_5645) % 10) as u32
        };
        let entered_day = self.rare(i).entered_day;
        if entered_day != NONE16 {
            let entered = entered_day as u32;
            let since = day - entered;
            if since > 14 {
                self.rare_mut(i).entered_day = NONE16;
                return;
            }
            if since == 0 {
                return;
            }
            let flight = flight::inbound_id(entered, home, wave(entered));
            if since == 1 {
                let mut countries = vec![flight::origin_country(env.seed, flight)];
                countries.extend(flight::transit_country(env.seed, id, flight));
                let h = mix(env.seed, id as u64, 0x4849_4445); // "HIDE"
                if (h >> 11) as f64 / (1u64 << 53) as f64 <= b.conceal && b.conceal > 0.0 {
                    // Leaves out the last country: the transit, else all.
                    countries.pop();
                }
                self.send(
                    env,
                    id,
                    Request::Inbound(InboundRequest::ItineraryDeclare {
                        person: document,
                        countries,
                    }),
                    sink,
                );
                self.send(
                    env,
                    id,
                    Request::Inbound(InboundRequest::EntryQuery { person: document }),
                    sink,
                );
            }
            self.send(
                env,
                id,
                Request::Inbound(InboundRequest::SameFlightCheck { person: document }),
                sink,
            );
            return;
        }
        let h = mix(env.seed, id as u64, (day as u64) << 8 | 0x49); // "I"
        let returns = (h >> 11) as f64 / (1u64 << 53) as f64;
        if b.inbound == 0.0 || returns > b.inbound || role != DayRole::Home || isolated {
            return;
        }
        self.rare_mut(i).entered_day = day.min(NONE16 as u32 - 1) as u16;
        let flight = flight::inbound_id(day, home, wave(day));
        let identity = env.world.identity(id);
        self.send(
            env,
            id,
            Request::IntlDeclare {
                account: id as u64,
                identity,
                subject: None,
                declaration: IntlDeclaration {
                    temperature: DeciCelsius(364),
                    symptoms: false,
                    positive_test: false,
                    contact: false,
                    flight,
                    departure: now,
                },
            },
            sink,
        );
        let person = &env.world.people[id as usize];
        let credential = match self.code_of(env, id) {
            Some(code) if person.smartphone() => Credential::Code(code),
            _ => Credential::IdCard(identity.number),
        };
        self.board(env, id, flight, credential, DeciCelsius(364), sink);
    }

    pub fn reply(&mut self, env: &Env, id: u32, response: &Response, sink: &mut Sink) {
        let i = (id - self.base) as usize;
        match response {
            Response::Issued { code, .. } if code.issuer == Issuer::National => {
                self.rare_mut(i).national = code.serial;
            }
            Response::Issued { code, color } => {
                let first = self.held[i].code == NO_CODE;
                self.held[i].code = code.serial;
                self.held[i].color = *color;
                if first && env.world.people[id as usize].age >= 18 {
                    self.apply_for_waiting_family(env, id, sink);
                }
            }
            Response::Recorded { color, .. } => {
                sink.metrics.declarations_acked += 1;
                self.held[i].color = *color;
            }
            Response::Health { color, .. } => self.held[i].color = *color,
            Response::Refused(Refusal::FaceNotVerified) => {
                sink.metrics.refusals += 1;
                self.held[i].state |= FAMILY_BIT;
                // A household adult already holding a code applies now;
                // otherwise the first one to get a code does.
                let home = env.world.people[id as usize].household_members();
                if let Some(adult) = home
                    .clone()
                    .find(|&m| m != id && self.holds(m) && env.world.people[m as usize].age >= 18)
                {
                    self.apply_for_waiting_family(env, adult, sink);
                }
            }
            Response::Refused(_) => sink.metrics.refusals += 1,
            _ => {}
        }
    }

    fn holds(&self, id: u32) -> bool {
        id.checked_sub(self.base)
            .and_then(|i| self.held.get(i as usize))
            .is_some_and(|h| h.code != NO_CODE)
    }

    /// `adult` applies for every member of their household refused a code
    /// for want of face verification.
    fn apply_for_waiting_family(&mut self, env: &Env, adult: u32, sink: &mut Sink) {
        let a = (adult - self.base) as usize;
        let proxy = env.world.code_keys.sign(
            Issuer::Province(env.world.home_province(adult)),
            self.held[a].code,
        );
        let adult_age = env.world.people[adult as usize].age;
        for m in env.world.people[adult as usize].household_members() {
            let Some(k) = m.checked_sub(self.base).map(|k| k as usize) else {
                continue;
            };
            if k >= self.held.len() || self.held[k].state & FAMILY_BIT == 0 {
                continue;
            }
            self.held[k].state &= !FAMILY_BIT;
            let member = env.world.identity(m);
            let relation = if member.age < adult_age {
                Relation::Child
            } else {
                Relation::Parent
            };
            self.send(
                env,
                m,
                Request::ApplyFamily {
                    proxy,
                    member,
                    relation,
                },
                sink,
            );
        }
    }

    /// A notice reaches the citizen when it is sent: the order and the
    /// platform's text message on a change of colour are read at once, and
    /// the holder opens the code to see it (in the same tick as the feed
    /// that changed it, which the platform handles first).
    pub fn notice(&mut self, env: &Env, id: u32, notice: Notice, sink: &mut Sink) {
        let i = (id - self.base) as usize;
        match notice {
            Notice::Isolate { until_day } => {
                let until = until_day.min(NONE16 as u32 - 1) as u16;
                let rare = self.rare_mut(i);
                rare.isolated_until_day = rare.isolated_until_day.max(until);
            }
            Notice::ColorChanged => {}
        }
        self.open_code(env, id, sink);
    }
}

enum Target {
    /// A transport hub serving the county's city (airport: the capital's).
    Hub(CheckpointKind),
    /// One of the county's checkpoints of a kind, picked by a hash.
    Kind(CheckpointKind, u64),
    /// A given checkpoint (the citizen's workplace).
    Site(u32),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::message::Outbox;
    use crate::metrics::Metrics;
    use crate::scenario::Scenario;
    use crate::world::World;
    use hcsim_platform::ProvinceId;
    use std::path::Path;

    fn world() -> (Scenario, World) {
        let text = "name = \"t\"\nseed = 3\nstart = \"2020-10-01T00:00\"\nduration_hours = 24\n\
                    population_scale = 0.0001\nprovinces = [\"anhui\", \"hubei\"]\nshards = 1\n";
        let s = Scenario::parse(Path::new("t.toml"), text).unwrap();
        let w = World::build(&s);
        (s, w)
    }

    fn env<'a>(s: &'a Scenario, w: &'a World) -> Env<'a> {
        Env {
            world: w,
            behaviour: &s.behaviour,
            seed: s.seed,
            start: s.start,
            tick_minutes: 1,
            shard: 0,
        }
    }

    /// Every citizen of the world, each holding a code (serial = id).
    fn holders(w: &World) -> Citizens {
        let mut c = Citizens::new(0..w.citizens());
        for (i, held) in c.held.iter_mut().enumerate() {
            held.code = i as u32;
        }
        c
    }

    /// A citizen whose home county has a restaurant and a hospital.
    fn diner(w: &World) -> u32 {
        (0..w.citizens())
            .find(|&id| {
                let sites = &w.geography.county_checkpoints[w.people[id as usize].county as usize];
                !sites[CheckpointKind::Restaurant as usize].is_empty()
                    && !sites[CheckpointKind::Hospital as usize].is_empty()
            })
            .expect("a county with a restaurant and a hospital")
    }

    /// Sets citizen 0 out on a trip to `county` today.
    fn outbound(c: &mut Citizens, county: u32) {
        c.held[0].state = (c.held[0].state & !3) | DayRole::Outbound as u8;
        c.rare_mut(0).away = county as u16;
        c.rare_mut(0).trip_end_day = 3;
    }

    fn visits(out: &Outbox) -> usize {
        out.messages
            .iter()
            .filter(|(_, m)| matches!(m, ShardMsg::Arrive { .. }))
            .count()
    }

    #[test]
    fn a_holder_who_knows_the_code_is_yellow_or_red_stays_home_but_for_a_fever_clinic() {
        let (s, w) = world();
        let env = env(&s, &w);
        let id = diner(&w);
        let at = s.start.plus_minutes(12 * 60);
        for (color, lunch) in [
            (Color::Green, 1),
            (Color::Yellow, 0),
            (Color::Orange, 0),
            (Color::Red, 0),
        ] {
            let mut c = holders(&w);
            c.held[id as usize].color = color;
            let (mut out, mut metrics) = (Outbox::default(), Metrics::default());
            let mut sink = Sink {
                out: &mut out,
                metrics: &mut metrics,
            };
            c.go_out(&env, id, 0, Slot::Lunch, at, at, &mut sink);
            c.go_out(&env, id, 0, Slot::Mall, at, at, &mut sink);
            let before = visits(sink.out);
            assert!(before <= 2 * lunch, "{color:?}: {before} visits");
            if lunch == 1 {
                assert!(before >= 1, "a green holder goes out to lunch");
            }
            c.go_out(&env, id, 0, Slot::Hospital, at, at, &mut sink);
            assert_eq!(
                visits(sink.out),
                before + 1,
                "{color:?} at the fever clinic"
            );
        }
    }

    #[test]
    fn the_carriers_record_a_stay_once_it_has_lasted_four_hours() {
        let (s, w) = world();
        let env = env(&s, &w);
        let id = 0;
        let hubei = ProvinceId::parse("hubei").unwrap();
        let away = w.geography.province_counties[hubei.index()].start + 1;
        let mut c = holders(&w);
        let (mut out, mut metrics) = (Outbox::default(), Metrics::default());
        let mut sink = Sink {
            out: &mut out,
            metrics: &mut metrics,
        };
        outbound(&mut c, away);
        let arrived = s.start.plus_minutes(10 * 60);
        c.go_out(&env, id, 0, Slot::Arrive, arrived, arrived, &mut sink);
        let stays = |out: &Outbox| -> Vec<(Minute, u16)> {
            out.requests
                .iter()
                .filter_map(|(_, r)| match r {
                    Request::Feed {
                        feed: Feed::Stay { at, county, .. },
                        ..
                    } => Some((*at, county.county)),
                    _ => None,
                })
                .collect()
        };
        c.carriers_record_stays(&env, arrived.plus_minutes(STAY_MINUTES - 1), &mut sink);
        assert!(stays(sink.out).is_empty(), "recorded before four hours");
        let later = arrived.plus_minutes(STAY_MINUTES + 7);
        c.carriers_record_stays(&env, later, &mut sink);
        let county = w.geography.counties[away as usize].county_ref();
        assert_eq!(
            stays(sink.out),
            vec![(arrived.plus_minutes(STAY_MINUTES), county.county)]
        );
        // The traveller opens the code after the record, in the same tick.
        assert!(matches!(
            sink.out.requests.last(),
            Some((_, Request::Query { .. }))
        ));
        c.carriers_record_stays(&env, later.plus_hours(24), &mut sink);
        assert_eq!(stays(sink.out).len(), 1, "one record per stay");
    }

    #[test]
    fn a_traveller_home_within_four_hours_leaves_no_stay() {
        let (s, w) = world();
        let env = env(&s, &w);
        let mut c = holders(&w);
        let (mut out, mut metrics) = (Outbox::default(), Metrics::default());
        let mut sink = Sink {
            out: &mut out,
            metrics: &mut metrics,
        };
        outbound(&mut c, 1);
        let arrived = s.start.plus_minutes(10 * 60);
        c.go_out(&env, 0, 0, Slot::Arrive, arrived, arrived, &mut sink);
        c.held[0].state = (c.held[0].state & !3) | DayRole::Inbound as u8;
        let back = arrived.plus_minutes(180);
        c.go_out(&env, 0, 0, Slot::Arrive, back, back, &mut sink);
        c.carriers_record_stays(&env, arrived.plus_hours(24), &mut sink);
        assert!(!sink.out.requests.iter().any(|(_, r)| matches!(
            r,
            Request::Feed {
                feed: Feed::Stay { .. },
                ..
            }
        )));
    }

    #[test]
    fn a_text_message_or_an_order_makes_the_holder_open_the_code() {
        let (s, w) = world();
        let env = env(&s, &w);
        for notice in [Notice::ColorChanged, Notice::Isolate { until_day: 14 }] {
            let mut c = holders(&w);
            let (mut out, mut metrics) = (Outbox::default(), Metrics::default());
            let mut sink = Sink {
                out: &mut out,
                metrics: &mut metrics,
            };
            c.notice(&env, 5, notice, &mut sink);
            let code = c.code_of(&env, 5).unwrap();
            assert!(
                matches!(sink.out.requests.as_slice(), [(_, Request::Query { code: q })] if *q == code),
                "{notice:?}"
            );
        }
    }
}
