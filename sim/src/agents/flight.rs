//! Flights: agents hosted by shards, each holding its manifest. A flight is
//! known by an index derived from (day, origin, destination, departure
//! hour), so every shard names it alike without asking anyone; the shard
//! that hosts it is a hash of the index.
//!
//! Passengers board at their departure scan (`ShardMsg::Board`). When the
//! flight lands it delivers its manifest: every passenger is scanned at the
//! arrival airport, and an inbound international flight hands immigration
//! its manifest (entries, the carriers' roaming records, the port's tests).

use super::{Env, Sink};
use crate::engine::message::{Agent, Notice, ShardMsg, Tag, Visit};
use crate::metrics::op_slot;
use crate::rng::mix;
use bitcode::{Decode, Encode};
use hcsim_platform::api::{
    CaseStatus, CheckpointKind, Credential, DeciCelsius, Feed, QuarantineKind, Request,
};
use hcsim_platform::identity::DocNumber;
use hcsim_platform::{Minute, ProvinceId, PROVINCE_COUNT};
use std::collections::BTreeMap;

/// Departure waves per day (one per hour).
const WAVES: u32 = 24;
/// The origin slot of flights from abroad.
const ABROAD: u32 = PROVINCE_COUNT as u32;
const FLIGHT: u64 = 0x464c_4954; // "FLIT"
/// Arrivals from abroad are quarantined this long (DOMAIN.md: 14 days).
pub const INBOUND_QUARANTINE_DAYS: u32 = 14;

/// Where inbound flights come from (ISO 3166 numeric).
pub const COUNTRIES: [u16; 10] = [840, 250, 826, 392, 410, 276, 36, 124, 702, 380];

pub fn domestic_id(day: u32, origin: ProvinceId, dest: ProvinceId, depart_minute: u16) -> u32 {
    ((day * 32 + origin.index() as u32) * 32 + dest.index() as u32) * WAVES
        + (depart_minute as u32 / 60).min(WAVES - 1)
}

/// An inbound international flight landing at `port`'s capital airport.
pub fn inbound_id(day: u32, port: ProvinceId, wave: u32) -> u32 {
    ((day * 32 + ABROAD) * 32 + port.index() as u32) * WAVES + wave.min(WAVES - 1)
}

struct Parts {
    day: u32,
    origin: u32,
    dest: ProvinceId,
    wave: u32,
}

fn parts(id: u32) -> Parts {
    Parts {
        wave: id % WAVES,
        dest: ProvinceId(((id / WAVES) % 32) as u8),
        origin: (id / WAVES / 32) % 32,
        day: id / WAVES / 32 / 32,
    }
}

pub fn host_shard(seed: u64, flight: u32, shards: u32) -> u32 {
    (mix(seed, flight as u64, FLIGHT) % shards.max(1) as u64) as u32
}

/// Every passenger of an inbound flight comes from the same country.
pub fn origin_country(seed: u64, flight: u32) -> u16 {
    COUNTRIES[(mix(seed, flight as u64, 0x4354_5259) % COUNTRIES.len() as u64) as usize]
}

/// A country a passenger passed through on the way (30 %), on the carriers'
/// roaming record.
pub fn transit_country(seed: u64, citizen: u32, flight: u32) -> Option<u16> {
    let h = mix(seed, citizen as u64, flight as u64 ^ 0x5452_4e53);
    let c = COUNTRIES[(h % COUNTRIES.len() as u64) as usize];
    ((h >> 32) % 10 < 3 && c != origin_country(seed, flight)).then_some(c)
}

/// Departure, minutes after midnight of the flight's day: an hour after
/// its wave opens, once the wave's passengers are through the scan.
fn departure_minute(p: &Parts) -> u32 {
    p.wave * 60 + 60
}

/// When a flight lands. Domestic: block time from the distance between
/// capitals (~720 km/h plus 45 min); inbound flights land at half past
/// their wave's hour.
pub fn arrival(env: &Env, flight: u32) -> Minute {
    let p = parts(flight);
    let day_start = Minute((env.start.day() + p.day) * 1440);
    if p.origin == ABROAD {
        return day_start.plus_minutes(p.wave * 60 + 30);
    }
    let km = crate::world::travel::distance_km(ProvinceId(p.origin as u8), p.dest);
    day_start.plus_minutes(departure_minute(&p) + 45 + (km / 12.0) as u32)
}

/// A passenger as the manifest lists them.
#[derive(Copy, Clone, Debug, PartialEq, Encode, Decode)]
pub struct Boarding {
    pub citizen: u32,
    pub document: DocNumber,
    pub home: ProvinceId,
    pub credential: Credential,
    pub temperature: DeciCelsius,
}

struct Manifest {
    arrives: Minute,
    passengers: Vec<Boarding>,
}

/// The flights a shard hosts, by index (a `BTreeMap` so that landing order
/// is the index order, never a hash order).
#[derive(Default)]
pub struct Flights {
    open: BTreeMap<u32, Manifest>,
}

impl Flights {
    pub fn board(&mut self, env: &Env, flight: u32, passenger: Boarding) {
        self.open
            .entry(flight)
            .or_insert_with(|| Manifest {
                arrives: arrival(env, flight),
                passengers: Vec::new(),
            })
            .passengers
            .push(passenger);
    }

    /// Flights in the air, passengers aboard them.
    pub fn in_air(&self) -> (usize, usize) {
        (
            self.open.len(),
            self.open.values().map(|m| m.passengers.len()).sum(),
        )
    }

    pub fn heap_bytes(&self) -> usize {
        self.open
            .values()
            .map(|m| 48 + m.passengers.capacity() * std::mem::size_of::<Boarding>())
            .sum()
    }

    /// Lands every flight due by `now` and delivers its manifest.
    pub fn land(&mut self, env: &Env, now: Minute, sink: &mut Sink) {
        let due: Vec<u32> = self
            .open
            .iter()
            .filter(|(_, m)| m.arrives <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            let manifest = self.open.remove(&id).expect("listed above");
            deliver(env, id, &manifest.passengers, now, sink);
        }
    }
}

/// The arrival airport scans every passenger; immigration records an
/// inbound flight's passengers.
pub fn deliver(env: &Env, flight: u32, passengers: &[Boarding], now: Minute, sink: &mut Sink) {
    let p = parts(flight);
    let geo = &env.world.geography;
    let first = geo.province_counties[p.dest.index()].start;
    let airport = (!geo.province_counties[p.dest.index()].is_empty())
        .then(|| geo.city_hub(first, CheckpointKind::Airport))
        .flatten();
    if let Some(airport) = airport {
        let (shard, local) = env.world.checkpoint_home(airport);
        for b in passengers {
            sink.out.messages.push((
                shard,
                ShardMsg::Arrive {
                    checkpoint: local,
                    visit: Visit {
                        citizen: b.citizen,
                        credential: b.credential,
                        temperature: b.temperature,
                        arrived: now,
                    },
                },
            ));
        }
    }
    let t = &mut sink.metrics.travel;
    if p.origin != ABROAD {
        t.flights_landed += 1;
        t.flight_passengers += passengers.len() as u64;
        return;
    }
    t.inbound_flights += 1;
    t.inbound_passengers += passengers.len() as u64;
    let Some(airport) = airport else { return };
    let port = geo.counties[geo.checkpoints[airport as usize].county as usize].county_ref();
    let country = origin_country(env.seed, flight);
    for b in passengers {
        let mut feeds = vec![
            Feed::Roaming {
                person: b.document,
                country,
                at: now.minus_days(1),
            },
            Feed::Entry {
                person: b.document,
                at: now,
                origin_country: country,
                port,
                flight,
            },
        ];
        if let Some(c) = transit_country(env.seed, b.citizen, flight) {
            feeds.push(Feed::Roaming {
                person: b.document,
                country: c,
                at: now.minus_days(2),
            });
        }
        // Every arrival goes into the 14-day centralized quarantine: the
        // order reaches the home platform (the rules decide the code's
        // colour) and the traveller, who stays in until it ends.
        feeds.push(Feed::Quarantine {
            person: b.document,
            kind: QuarantineKind::Centralized,
            start: now,
            end: now.plus_days(INBOUND_QUARANTINE_DAYS),
        });
        sink.metrics.travel.inbound_quarantined += 1;
        sink.out.messages.push((
            env.world.shard_of_citizen(b.citizen),
            ShardMsg::Notice {
                citizen: b.citizen,
                // Out again the day after the order ends.
                notice: Notice::Isolate {
                    until_day: env.day_of(now) + INBOUND_QUARANTINE_DAYS + 1,
                },
            },
        ));
        // The port tests every arrival; a positive is confirmed there (a
        // rapid result), the negatives change nothing for a person already
        // in quarantine and are only counted.
        crate::nat::count(
            &mut sink.metrics.nat,
            env.day_of(now),
            crate::nat::NatReason::Port,
        );
        let h = mix(env.seed, b.citizen as u64, flight as u64 ^ 0x504f_5254);
        if (h >> 11) as f64 / (1u64 << 53) as f64 <= env.behaviour.inbound_case
            && env.behaviour.inbound_case > 0.0
        {
            sink.metrics.travel.inbound_cases += 1;
            feeds.push(Feed::NatResult {
                person: b.document,
                at: now,
                positive: true,
                institution: 0,
            });
            feeds.push(Feed::Designation {
                person: b.document,
                status: CaseStatus::Confirmed,
                at: now,
            });
        }
        for feed in feeds {
            let request = Request::Feed {
                to: Some(b.home),
                feed,
            };
            sink.metrics.requests[op_slot(request.op())] += 1;
            sink.out.requests.push((
                Tag {
                    shard: env.shard,
                    agent: Agent::Telecom,
                    aux: b.citizen,
                },
                request,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::message::Outbox;
    use crate::metrics::Metrics;
    use crate::scenario::Scenario;
    use crate::world::World;
    use std::path::Path;

    fn world(inbound_case: f64) -> (Scenario, World) {
        let text = format!(
            "name = \"t\"\nseed = 3\nstart = \"2020-10-01T00:00\"\nduration_hours = 24\n\
             population_scale = 0.00001\nprovinces = [\"anhui\", \"fujian\"]\nshards = 2\n\
             [behaviour]\ninbound_case = {inbound_case}\n"
        );
        let s = Scenario::parse(Path::new("t.toml"), &text).unwrap();
        let w = World::build(&s);
        (s, w)
    }

    fn passengers(w: &World, n: u32) -> Vec<Boarding> {
        (0..n)
            .map(|id| Boarding {
                citizen: id,
                document: w.identity(id).number,
                home: w.home_province(id),
                credential: Credential::Code(
                    w.code_keys
                        .sign(hcsim_platform::Issuer::Province(w.home_province(id)), id),
                ),
                temperature: DeciCelsius(365),
            })
            .collect()
    }

    #[test]
    fn a_flight_lands_when_due_and_its_airport_scans_every_passenger() {
        let (s, w) = world(0.0);
        let env = Env {
            world: &w,
            behaviour: &s.behaviour,
            seed: s.seed,
            start: s.start,
            tick_minutes: 1,
            shard: 0,
        };
        let (anhui, fujian) = (
            ProvinceId::parse("anhui").unwrap(),
            ProvinceId::parse("fujian").unwrap(),
        );
        let id = domestic_id(0, anhui, fujian, 9 * 60 + 10);
        let lands = arrival(&env, id);
        let mut flights = Flights::default();
        for b in passengers(&w, 3) {
            flights.board(&env, id, b);
        }
        assert_eq!(flights.in_air(), (1, 3));
        let (mut out, mut metrics) = (Outbox::default(), Metrics::default());
        let mut sink = Sink {
            out: &mut out,
            metrics: &mut metrics,
        };
        flights.land(&env, Minute(lands.0 - 1), &mut sink);
        assert!(sink.out.messages.is_empty());
        flights.land(&env, lands, &mut sink);
        assert_eq!(flights.in_air(), (0, 0));
        let airport = w
            .geography
            .city_hub(
                w.geography.province_counties[fujian.index()].start,
                CheckpointKind::Airport,
            )
            .unwrap();
        let (shard, local) = w.checkpoint_home(airport);
        let scanned: Vec<u32> = out
            .messages
            .iter()
            .map(|(to, m)| match m {
                ShardMsg::Arrive { checkpoint, visit } => {
                    assert_eq!((*to, *checkpoint), (shard, local));
                    assert_eq!(visit.arrived, lands);
                    visit.citizen
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(scanned, vec![0, 1, 2]);
        assert_eq!(
            (
                metrics.travel.flights_landed,
                metrics.travel.flight_passengers
            ),
            (1, 3)
        );
        assert!(
            out.requests.is_empty(),
            "a domestic manifest goes to nobody else"
        );
    }

    #[test]
    fn an_inbound_flight_hands_immigration_its_manifest() {
        let (s, w) = world(1.0);
        let env = Env {
            world: &w,
            behaviour: &s.behaviour,
            seed: s.seed,
            start: s.start,
            tick_minutes: 1,
            shard: 0,
        };
        let fujian = ProvinceId::parse("fujian").unwrap();
        let id = inbound_id(0, fujian, 14);
        let (mut out, mut metrics) = (Outbox::default(), Metrics::default());
        let mut sink = Sink {
            out: &mut out,
            metrics: &mut metrics,
        };
        let people = passengers(&w, 2);
        let country = origin_country(s.seed, id);
        deliver(&env, id, &people, arrival(&env, id), &mut sink);
        for b in &people {
            let feeds: Vec<&Feed> = out
                .requests
                .iter()
                .filter_map(|(_, r)| match r {
                    Request::Feed { to, feed }
                        if *to == Some(b.home) && feed.person() == Some(b.document) =>
                    {
                        Some(feed)
                    }
                    _ => None,
                })
                .collect();
            assert!(feeds.iter().any(
                |f| matches!(f, Feed::Entry { flight, origin_country: c, .. }
                if *flight == id && *c == country)
            ));
            // Every passenger tests positive at inbound_case = 1.
            assert!(feeds.iter().any(|f| matches!(
                f,
                Feed::Designation {
                    status: CaseStatus::Confirmed,
                    ..
                }
            )));
        }
        assert_eq!(
            (
                metrics.travel.inbound_flights,
                metrics.travel.inbound_passengers
            ),
            (1, 2)
        );
    }

    #[test]
    fn flight_indices_round_trip() {
        let (a, b) = (ProvinceId(11), ProvinceId(12));
        let id = domestic_id(3, a, b, 615);
        let p = parts(id);
        assert_eq!((p.day, p.origin, p.dest, p.wave), (3, 11, b, 10));
        let p = parts(inbound_id(5, b, 14));
        assert_eq!((p.day, p.origin, p.dest, p.wave), (5, ABROAD, b, 14));
        assert_ne!(domestic_id(3, a, b, 615), domestic_id(3, b, a, 615));
    }
}
