//! Surges: the days and hours when demand on the platform jumps (DOMAIN.md,
//! "Real surges"), as scenario data, and the driver that produces them.
//!
//! ```toml
//! [[surge]]
//! kind = "announcement"        # morning_rush | spring_festival | mass_testing | announcement
//! province = "shaanxi"         # required except for spring_festival (default: all)
//! city = "Xi'an"               # optional: one city of the province
//! start = "2021-12-20T08:30"   # Beijing time
//! duration_minutes = 20        # or duration_hours, days, end: start → end of the peak
//! share = 0.8                  # of the citizens it reaches (all kinds but spring_festival)
//! ramp_minutes = 5             # linear rise from start to the peak (≤ the duration)
//! decay_minutes = 15           # exponential fall after the peak (time constant)
//! factor = 10.0                # optional: peak rate multiplier for `hcsim load`
//! opens = 1                    # announcement, mass_testing: code openings per person
//!
//! [[surge]]
//! kind = "spring_festival"
//! start = "2021-02-05T00:00"
//! days = 3
//! multiplier = 8.0             # cross-province travel probability ×8 at the peak
//! ```
//!
//! Each surge has one shape: intensity 0 → 1 over the ramp, 1 until the end
//! of the peak, then e^(−t/decay) for five time constants.
//! - `announcement`: each selected smartphone owner opens (queries) their
//!   code `opens` times, each at a time drawn from the shape (a rule that
//!   makes people show their code at every door has them open it all day).
//! - `mass_testing`: each selected resident gets a NAT result at a time
//!   drawn from the shape; smartphone owners refresh their code 0–29
//!   minutes later.
//! - `morning_rush`: each selected worker or pupil is scanned once more on
//!   the way (metro and bus gates: the county's traffic checkpoint), with a
//!   code where they have one, else their ID card.
//! - `spring_festival`: the citizens' daily travel probability is
//!   multiplied by `1 + (multiplier − 1) × intensity` when they decide in the
//!   morning (`Behaviour::travel_at`).
//!
//! Who takes part and when is a hash of (seed, citizen, surge), so the
//! driver stores only a sorted list of events, and a day of a billion of
//! them can be drawn a window of minutes at a time from the same hashes.

use crate::engine::message::{Agent, Tag};
use crate::rng::mix;
use crate::scenario::{kind_name, InputError, Section};
use crate::world::geography::Geography;
use crate::world::population::Occupation;
use crate::world::World;
use hcsim_platform::api::{
    CheckpointKind, CodeId, Credential, DeciCelsius, Feed, Issuer, Place, Request, Response,
};
use hcsim_platform::{Minute, ProvinceId};
use hcsim_reports::summary::SurgeTotals;
use rayon::prelude::*;
use serde::Deserialize;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SurgeKind {
    MorningRush,
    SpringFestival,
    MassTesting,
    Announcement,
}

const KINDS: [(&str, SurgeKind); 4] = [
    ("morning_rush", SurgeKind::MorningRush),
    ("spring_festival", SurgeKind::SpringFestival),
    ("mass_testing", SurgeKind::MassTesting),
    ("announcement", SurgeKind::Announcement),
];

impl SurgeKind {
    pub fn as_str(self) -> &'static str {
        kind_name(&KINDS, self)
    }
}

/// Decay is cut off after this many time constants (e^−5 < 1 %).
const DECAY_SPAN: f64 = 5.0;

/// When a surge is on, and how strongly.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Shape {
    pub start: Minute,
    /// From `start` to the end of the peak.
    pub duration_minutes: u32,
    pub ramp_minutes: u32,
    pub decay_minutes: u32,
}

impl Shape {
    /// Intensity in 0..=1 at `m` minutes after the start.
    pub fn intensity(&self, m: f64) -> f64 {
        let (r, d, k) = (
            self.ramp_minutes as f64,
            self.duration_minutes as f64,
            self.decay_minutes as f64,
        );
        if m < 0.0 {
            0.0
        } else if m < r {
            m / r
        } else if m < d {
            1.0
        } else if k > 0.0 && m < d + DECAY_SPAN * k {
            (-(m - d) / k).exp()
        } else {
            0.0
        }
    }

    pub fn at(&self, now: Minute) -> f64 {
        self.intensity(now.0 as f64 - self.start.0 as f64)
    }

    /// The last minute the surge has any effect.
    pub fn end(&self) -> Minute {
        self.start.plus_minutes(
            self.duration_minutes + (DECAY_SPAN * self.decay_minutes as f64).ceil() as u32,
        )
    }

    /// Minutes after the start at which the `u`-quantile (0 ≤ u < 1) of
    /// events falls, for events spread in proportion to the intensity.
    pub fn quantile(&self, u: f64) -> f64 {
        let (r, d, k) = (
            self.ramp_minutes as f64,
            self.duration_minutes as f64,
            self.decay_minutes as f64,
        );
        let ramp = r / 2.0;
        let hold = d - r;
        let tail = k * (1.0 - (-DECAY_SPAN).exp());
        let x = u.clamp(0.0, 1.0) * (ramp + hold + tail);
        if x < ramp {
            (2.0 * r * x).sqrt()
        } else if x < ramp + hold || k == 0.0 {
            r + (x - ramp)
        } else {
            let y = ((x - ramp - hold) / k).min(1.0 - 1e-12);
            d - k * (1.0 - y).ln()
        }
    }
}

/// A validated `[[surge]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SurgeSpec {
    pub kind: SurgeKind,
    /// `None`: every simulated province (spring_festival only).
    pub province: Option<ProvinceId>,
    /// The city's name as the world model spells it.
    pub city: Option<&'static str>,
    pub shape: Shape,
    /// Share of the citizens reached (not spring_festival).
    pub share: f64,
    /// Peak travel multiplier (spring_festival).
    pub multiplier: f64,
    /// Code openings per person reached (announcement, mass_testing).
    pub opens: u32,
}

impl SurgeSpec {
    /// The counties whose people the surge reaches: its city, else its
    /// province, else every simulated county.
    pub fn counties(&self, g: &Geography) -> Vec<u32> {
        match (self.province, self.city) {
            (Some(p), Some(city)) => g
                .cities
                .iter()
                .filter(|c| c.province == p && c.name == city)
                .flat_map(|c| c.counties.clone())
                .collect(),
            (Some(p), None) => g.province_counties[p.index()].clone().collect(),
            (None, _) => (0..g.counties.len() as u32).collect(),
        }
    }
}

/// What the citizen's morning asks: how much more likely travel is today.
#[derive(Clone, Debug, PartialEq)]
pub struct TravelSurge {
    pub province: Option<ProvinceId>,
    pub shape: Shape,
    pub multiplier: f64,
}

/// The largest multiplier in force for residents of `home` at `now` (1
/// outside every spring_festival surge).
pub fn travel_multiplier(surges: &[TravelSurge], now: Minute, home: ProvinceId) -> f64 {
    surges
        .iter()
        .filter(|s| s.province.is_none_or(|p| p == home))
        .map(|s| 1.0 + (s.multiplier - 1.0) * s.shape.at(now))
        .fold(1.0, f64::max)
}

pub fn travel_surges(specs: &[SurgeSpec]) -> Vec<TravelSurge> {
    specs
        .iter()
        .filter(|s| s.kind == SurgeKind::SpringFestival)
        .map(|s| TravelSurge {
            province: s.province,
            shape: s.shape,
            multiplier: s.multiplier,
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SurgeFile {
    kind: Spanned<String>,
    #[serde(default)]
    province: Option<Spanned<String>>,
    #[serde(default)]
    city: Option<Spanned<String>>,
    start: Spanned<String>,
    #[serde(default)]
    end: Option<Spanned<String>>,
    #[serde(default)]
    duration_minutes: Option<Spanned<f64>>,
    #[serde(default)]
    duration_hours: Option<Spanned<f64>>,
    #[serde(default)]
    days: Option<Spanned<f64>>,
    #[serde(default)]
    share: Option<Spanned<f64>>,
    #[serde(default)]
    multiplier: Option<Spanned<f64>>,
    #[serde(default)]
    ramp_minutes: Option<Spanned<f64>>,
    #[serde(default)]
    decay_minutes: Option<Spanned<f64>>,
    #[serde(default)]
    opens: Option<Spanned<u32>>,
    /// Read by `hcsim load` (its rate multiplier); checked here, not used.
    #[serde(default)]
    factor: Option<Spanned<f64>>,
}

/// What the run covers, for checking that a surge falls inside it.
pub(crate) struct RunWindow<'a> {
    pub start: Minute,
    pub end: Minute,
    pub provinces: &'a [ProvinceId],
}

fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The world model's spelling of a city of `p`, matched loosely
/// (`Xi'an`, `xian`, `XIAN`).
fn find_city(p: ProvinceId, name: &str) -> Result<&'static str, String> {
    let g = Geography::build(&[p], 1e-6, &[]);
    g.cities
        .iter()
        .find(|c| norm(c.name) == norm(name))
        .map(|c| c.name)
        .ok_or_else(|| {
            let known: Vec<&str> = g.cities.iter().map(|c| c.name).collect();
            format!(
                "unknown city `{name}` in {}; known: {}",
                p.key(),
                known.join(", ")
            )
        })
}

pub(crate) fn validate(
    path: &Path,
    text: &str,
    files: &[Spanned<SurgeFile>],
    run: &RunWindow,
) -> Result<Vec<SurgeSpec>, InputError> {
    let mut specs = Vec::new();
    for (n, entry) in files.iter().enumerate() {
        let f = entry.get_ref();
        let section = Section::new(path, text, format!("surge[{}]", n + 1));
        if n == MAX_SURGES {
            return Err(section.err(
                entry.span(),
                "kind",
                format!("a scenario has at most {MAX_SURGES} surges"),
            ));
        }
        let err = |span: Range<usize>, name: &str, msg: String| section.err(span, name, msg);
        let missing = |name: &str, why: &str| err(entry.span(), name, format!("missing: {why}"));
        let number = |v: &Option<Spanned<f64>>, name: &str, lo: f64, hi: f64| {
            section.ranged(v, name, lo..=hi, "")
        };

        let kind = section.kind(&KINDS, &f.kind, "surge")?;
        let festival = kind == SurgeKind::SpringFestival;

        let province = match &f.province {
            None if festival => None,
            None => {
                return Err(missing(
                    "province",
                    &format!("a `{}` surge happens in one province", kind.as_str()),
                ))
            }
            Some(k) => {
                let p = section.province(k, "province")?;
                if !run.provinces.contains(&p) {
                    return Err(err(
                        k.span(),
                        "province",
                        format!("{} is not simulated: add it to `provinces`", p.key()),
                    ));
                }
                Some(p)
            }
        };
        let city = match (&f.city, province) {
            (None, _) => None,
            (Some(c), _) if festival => {
                return Err(err(
                    c.span(),
                    "city",
                    "does not apply to a spring_festival surge".into(),
                ))
            }
            (Some(c), Some(p)) => {
                Some(find_city(p, c.get_ref()).map_err(|m| err(c.span(), "city", m))?)
            }
            (Some(c), None) => return Err(err(c.span(), "city", "needs a `province`".into())),
        };

        let start =
            Minute::parse(f.start.get_ref()).map_err(|m| err(f.start.span(), "start", m))?;
        let durations = [
            f.end.as_ref().map(|e| e.span()),
            f.duration_minutes.as_ref().map(|e| e.span()),
            f.duration_hours.as_ref().map(|e| e.span()),
            f.days.as_ref().map(|e| e.span()),
        ];
        let given: Vec<Range<usize>> = durations.into_iter().flatten().collect();
        if given.len() != 1 {
            let span = given.get(1).cloned().unwrap_or(entry.span());
            return Err(err(
                span,
                "duration_minutes",
                "give exactly one of `duration_minutes`, `duration_hours`, `days` or `end`".into(),
            ));
        }
        const YEAR_MINUTES: f64 = 366.0 * 1440.0;
        let minutes = if let Some(e) = &f.end {
            let end = Minute::parse(e.get_ref()).map_err(|m| err(e.span(), "end", m))?;
            if end <= start {
                return Err(err(
                    e.span(),
                    "end",
                    format!("{end} is not after start {start}"),
                ));
            }
            end.since(start) as f64
        } else if let Some(m) = number(&f.duration_minutes, "duration_minutes", 1.0, YEAR_MINUTES)?
        {
            m
        } else if let Some(h) = number(
            &f.duration_hours,
            "duration_hours",
            1.0 / 60.0,
            YEAR_MINUTES / 60.0,
        )? {
            h * 60.0
        } else {
            number(&f.days, "days", 1.0 / 1440.0, 366.0)?.unwrap_or(1.0) * 1440.0
        };
        let duration_minutes = minutes.round() as u32;

        let share = number(&f.share, "share", 0.0, 1.0)?;
        let multiplier = number(&f.multiplier, "multiplier", 1.0, 1000.0)?;
        match (festival, share, multiplier, &f.share, &f.multiplier) {
            (true, _, None, _, _) => {
                return Err(missing("multiplier", "how many times the usual travel probability, at the peak"))
            }
            (true, _, _, Some(s), _) => {
                return Err(err(s.span(), "share", "does not apply to a spring_festival surge: it multiplies travel for everyone".into()))
            }
            (false, None, _, _, _) => return Err(missing("share", "the share of citizens the surge reaches, 0..=1")),
            (false, _, _, _, Some(m)) => {
                return Err(err(m.span(), "multiplier", format!("applies to spring_festival surges only; a `{}` surge reaches `share` of the citizens", kind.as_str())))
            }
            _ => {}
        }
        let ramp = number(&f.ramp_minutes, "ramp_minutes", 0.0, YEAR_MINUTES)?
            .unwrap_or(0.0)
            .round() as u32;
        if ramp > duration_minutes {
            let span = f.ramp_minutes.as_ref().map_or(entry.span(), |r| r.span());
            return Err(err(
                span,
                "ramp_minutes",
                format!("{ramp} is longer than the surge's duration ({duration_minutes} minutes): the ramp is part of it"),
            ));
        }
        let decay = number(&f.decay_minutes, "decay_minutes", 0.0, YEAR_MINUTES)?
            .unwrap_or(0.0)
            .round() as u32;
        number(&f.factor, "factor", 0.0, 10_000.0)?;
        let opens = match &f.opens {
            None => 1,
            Some(o) if !matches!(kind, SurgeKind::Announcement | SurgeKind::MassTesting) => {
                return Err(err(
                    o.span(),
                    "opens",
                    format!(
                        "applies to announcement and mass_testing surges only, not `{}`",
                        kind.as_str()
                    ),
                ))
            }
            Some(o) if (1..=1000).contains(o.get_ref()) => *o.get_ref(),
            Some(o) => {
                return Err(err(
                    o.span(),
                    "opens",
                    format!("{} is out of range: must be within 1..=1000", o.get_ref()),
                ))
            }
        };

        let shape = Shape {
            start,
            duration_minutes,
            ramp_minutes: ramp,
            decay_minutes: decay,
        };
        if start >= run.end || shape.end() <= run.start {
            return Err(err(
                f.start.span(),
                "start",
                format!(
                    "the surge ({start} → {}) does not overlap the run ({} → {})",
                    shape.end(),
                    run.start,
                    run.end
                ),
            ));
        }
        specs.push(SurgeSpec {
            kind,
            province,
            city,
            shape,
            share: share.unwrap_or(0.0),
            multiplier: multiplier.unwrap_or(1.0),
            opens,
        });
    }
    Ok(specs)
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    NatResult = 0,
    Query = 1,
    Scan = 2,
}

/// One citizen's part in a surge. Field order is the replay order.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Event {
    at: u32,
    surge: u16,
    citizen: u32,
    action: Action,
}

/// Events are kept packed into one word each, whose order is the replay
/// order: minutes since the run's start (a run lasts at most a year),
/// surge, citizen, action. A full-size replay holds hundreds of millions.
const AT_BITS: u32 = 20;
const SURGE_BITS: u32 = 10;
/// The most `[[surge]]` entries a scenario may have.
pub const MAX_SURGES: usize = 1 << SURGE_BITS;
/// A tick's events at least this many are turned into requests on the
/// pool: below it, splitting the work costs more than it saves.
const PARALLEL_EVENTS: usize = 4096;

impl Event {
    /// `None` when it falls outside what a run can reach.
    fn pack(self, base: u32) -> Option<u64> {
        let offset = self.at.checked_sub(base)?;
        (offset < 1 << AT_BITS && (self.surge as usize) < MAX_SURGES).then_some(
            (offset as u64) << (64 - AT_BITS)
                | (self.surge as u64) << 34
                | (self.citizen as u64) << 2
                | self.action as u64,
        )
    }

    fn unpack(k: u64, base: u32) -> Event {
        Event {
            at: base + (k >> (64 - AT_BITS)) as u32,
            surge: ((k >> 34) & (MAX_SURGES as u64 - 1)) as u16,
            citizen: (k >> 2) as u32,
            action: match k & 3 {
                0 => Action::NatResult,
                1 => Action::Query,
                _ => Action::Scan,
            },
        }
    }
}

/// What one event made: what it counts towards, and its request if any.
type Made = (Counted, Option<(Tag, Request)>);

/// What one event counted towards its surge's totals.
#[derive(Copy, Clone)]
enum Counted {
    NatResult,
    Query,
    WithoutCode,
    Scan,
}

const NO_CODE: u32 = u32::MAX;
const SURGE_SALT: u64 = 0x5355_5247_0000_0000; // "SURG"

fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Events a window of the driver holds at most, about: 512 MB. A surge
/// expected to bring more is drawn a window of minutes at a time, each
/// window from the same hashes, so the events and their order are those of
/// drawing them all at once (a full-size Xi'an day is ~1.3 B events).
pub const WINDOW_EVENTS: u64 = 64 << 20;

/// Share of people with a smartphone, who alone open a code: 0.744 in
/// the full-size Xi'an round (`world::population` draws it by age).
const SMARTPHONE_SHARE: f64 = 0.75;

/// About how many events `specs` bring in `g`: everyone a surge reaches,
/// times their actions.
pub fn expected_events(specs: &[SurgeSpec], g: &Geography) -> u64 {
    specs.iter().map(|s| expected(s, g).1).sum::<f64>() as u64
}

/// About how many people act in `specs`' surges in `g`.
pub fn expected_people(specs: &[SurgeSpec], g: &Geography) -> u64 {
    specs.iter().map(|s| expected(s, g).0).sum::<f64>() as u64
}

/// The people who act in surge `spec`, and their events.
fn expected(spec: &SurgeSpec, g: &Geography) -> (f64, f64) {
    let reached = g.people_in(spec.counties(g)) as f64 * spec.share;
    let opens = spec.opens.max(1) as f64;
    match spec.kind {
        SurgeKind::Announcement => (
            reached * SMARTPHONE_SHARE,
            reached * SMARTPHONE_SHARE * opens,
        ),
        SurgeKind::MassTesting => (reached, reached * (1.0 + SMARTPHONE_SHARE * opens)),
        SurgeKind::MorningRush => (reached, reached),
        SurgeKind::SpringFestival => (0.0, 0.0),
    }
}

/// The surge driver: runs at the tick barrier like the health authority.
pub struct Surges {
    seed: u64,
    specs: Vec<SurgeSpec>,
    /// The counties each surge reaches.
    counties: Vec<Vec<u32>>,
    /// Packed (`Event::pack`), sorted: those of the windows drawn so far
    /// that are not yet sent; minutes counted from `base`.
    events: Vec<u64>,
    base: u32,
    next: usize,
    /// Events at minutes before this are drawn.
    drawn_to: u32,
    /// Minutes per window.
    window: u32,
    /// No event falls at this minute or later.
    last: u32,
    /// Citizen → code serial, learnt from registrations, for the queries
    /// the driver sends on citizens' behalf. Empty when no surge needs it.
    codes: Vec<u32>,
    pub totals: Vec<SurgeTotals>,
}

impl Surges {
    /// The surges of `specs`, with their first window of events drawn.
    pub fn new(
        world: &World,
        specs: &[SurgeSpec],
        run_start: Minute,
        pool: Option<&rayon::ThreadPool>,
    ) -> Surges {
        Self::windowed(world, specs, run_start, pool, WINDOW_EVENTS)
    }

    /// As `new`, a window holding about `window_events` events.
    fn windowed(
        world: &World,
        specs: &[SurgeSpec],
        run_start: Minute,
        pool: Option<&rayon::ThreadPool>,
        window_events: u64,
    ) -> Surges {
        let g = &world.geography;
        let base = run_start.0;
        // A mass-testing query follows its result by up to 29 minutes.
        let last = specs
            .iter()
            .map(|s| s.shape.end().0 + 30)
            .max()
            .unwrap_or(base)
            .clamp(base, base + (1 << AT_BITS));
        let windows = expected_events(specs, g).div_ceil(window_events).max(1) as u32;
        let needs_codes = specs.iter().any(|s| s.kind != SurgeKind::SpringFestival);
        let mut surges = Surges {
            seed: world.seed,
            specs: specs.to_vec(),
            counties: specs.iter().map(|s| s.counties(g)).collect(),
            events: Vec::new(),
            base,
            next: 0,
            drawn_to: base,
            window: (last - base).div_ceil(windows).max(1),
            last,
            codes: if needs_codes {
                vec![NO_CODE; world.citizens() as usize]
            } else {
                Vec::new()
            },
            totals: Vec::new(),
        };
        let reached = surges.draw_window(world, pool);
        surges.totals = specs
            .iter()
            .zip(reached)
            .map(|(spec, citizens)| SurgeTotals {
                kind: spec.kind.as_str().to_string(),
                province: spec.province.map_or("all", |p| p.key()).to_string(),
                city: spec.city.map(str::to_string),
                start: spec.shape.start.to_string(),
                end: spec.shape.end().to_string(),
                citizens,
                ..SurgeTotals::default()
            })
            .collect();
        surges
    }

    /// Draws the next window's events, per county on `pool` when there is
    /// one (each county's in id order, then the window sorted: the same
    /// events in the same order however many threads draw them), in place
    /// of those already sent. Returns how many people each surge reaches.
    fn draw_window(&mut self, world: &World, pool: Option<&rayon::ThreadPool>) -> Vec<u64> {
        let from = self.drawn_to;
        let to = (from + self.window).min(self.last);
        self.events.drain(..self.next);
        self.next = 0;
        let mut window = Vec::new();
        let mut reached = Vec::with_capacity(self.specs.len());
        for (s, spec) in self.specs.iter().enumerate() {
            let draw = |c: &u32| county_events(world, spec, s, *c, self.base, from..to);
            let parts: Vec<(Vec<u64>, u64)> = match pool {
                Some(pool) => pool.install(|| self.counties[s].par_iter().map(draw).collect()),
                None => self.counties[s].iter().map(draw).collect(),
            };
            window.reserve_exact(parts.iter().map(|(e, _)| e.len()).sum());
            let mut people = 0u64;
            for (e, r) in parts {
                window.extend(e);
                people += r;
            }
            reached.push(people);
        }
        match pool {
            Some(pool) => pool.install(|| window.par_sort_unstable()),
            None => window.sort_unstable(),
        }
        // Every event of this window falls after every one still held.
        self.events.extend(window);
        self.drawn_to = to;
        reached
    }

    /// Learns citizens' code serials from the platform's answers to their
    /// registrations.
    pub fn observe(&mut self, tag: &Tag, response: &Response) {
        if let (Agent::Citizen(id), Response::Issued { code, .. }) = (tag.agent, response) {
            self.learn(id, code.serial);
        }
    }

    /// Learns a code issued before the clock started.
    pub fn learn(&mut self, id: u32, serial: u32) {
        if let Some(slot) = self.codes.get_mut(id as usize) {
            *slot = serial;
        }
    }

    /// The requests the surges make at `now`, with the tag their answer
    /// goes to: queries answer to the citizen, scans to the checkpoint.
    /// A large tick's requests are made on `pool` (signing each code is
    /// the cost), in event order either way.
    pub fn step(
        &mut self,
        world: &World,
        now: Minute,
        pool: Option<&rayon::ThreadPool>,
    ) -> Vec<(Tag, Request)> {
        while self.drawn_to <= now.0 && self.drawn_to < self.last {
            self.draw_window(world, pool);
        }
        let base = self.base;
        let due = self.events[self.next..].partition_point(|&k| Event::unpack(k, base).at <= now.0);
        let batch = &self.events[self.next..self.next + due];
        let make = |&k: &u64| {
            let e = Event::unpack(k, base);
            (e.surge, self.request(world, now, e))
        };
        let made: Vec<(u16, Made)> = match pool {
            Some(pool) if batch.len() >= PARALLEL_EVENTS => {
                pool.install(|| batch.par_iter().map(make).collect())
            }
            _ => batch.iter().map(make).collect(),
        };
        self.next += due;
        let mut out = Vec::with_capacity(made.len());
        for (surge, (counted, request)) in made {
            let t = &mut self.totals[surge as usize];
            match counted {
                Counted::NatResult => t.nat_results += 1,
                Counted::Query => t.queries += 1,
                Counted::WithoutCode => t.without_code += 1,
                Counted::Scan => t.scans += 1,
            }
            out.extend(request);
        }
        out
    }

    fn code(&self, world: &World, id: u32) -> Option<CodeId> {
        let serial = *self.codes.get(id as usize)?;
        (serial != NO_CODE).then(|| {
            world
                .code_keys
                .sign(Issuer::Province(world.home_province(id)), serial)
        })
    }

    fn request(&self, world: &World, now: Minute, e: Event) -> Made {
        let id = e.citizen;
        let citizen_tag = Tag {
            shard: world.shard_of_citizen(id),
            agent: Agent::Citizen(id),
            aux: 0,
        };
        match e.action {
            Action::NatResult => {
                let feed = Feed::NatResult {
                    person: world.identity(id).number,
                    at: now,
                    positive: false,
                    institution: 1 + (id % 50) as u16,
                };
                let to = Some(world.home_province(id));
                (
                    Counted::NatResult,
                    Some((Tag::authority(), Request::Feed { to, feed })),
                )
            }
            Action::Query => match self.code(world, id) {
                Some(code) => (Counted::Query, Some((citizen_tag, Request::Query { code }))),
                None => (Counted::WithoutCode, None),
            },
            Action::Scan => {
                let county = world.people[id as usize].county as usize;
                let g = &world.geography;
                let site =
                    g.county_checkpoints[county][CheckpointKind::TrafficCheckpoint as usize].start;
                let (shard, local) = world.checkpoint_home(site);
                let credential = match self.code(world, id) {
                    Some(code) if world.people[id as usize].smartphone() => Credential::Code(code),
                    _ => Credential::IdCard(world.identity(id).number),
                };
                let h = mix(self.seed, id as u64, now.0 as u64);
                let scan = (
                    Tag {
                        shard,
                        agent: Agent::Checkpoint(local),
                        aux: 0,
                    },
                    Request::Verify {
                        credential,
                        place: Place {
                            county: g.counties[county].county_ref(),
                            kind: CheckpointKind::TrafficCheckpoint,
                        },
                        temperature: Some(DeciCelsius(360 + (h % 8) as u16)),
                    },
                );
                (Counted::Scan, Some(scan))
            }
        }
    }
}

/// Surge `s`'s events at minutes in `window` among the people of county
/// `c`, in id order, and how many people it reaches there (whenever their
/// events fall).
fn county_events(
    world: &World,
    spec: &SurgeSpec,
    s: usize,
    c: u32,
    base: u32,
    window: Range<u32>,
) -> (Vec<u64>, u64) {
    let salt = SURGE_SALT | s as u64;
    let mut events = Vec::new();
    let mut reached = 0u64;
    for id in world.county_people[c as usize].clone() {
        if spec.kind == SurgeKind::SpringFestival {
            reached += 1;
            continue;
        }
        let person = &world.people[id as usize];
        let eligible = match spec.kind {
            SurgeKind::Announcement => person.smartphone(),
            SurgeKind::MorningRush => person.occupation() != Occupation::None,
            _ => true,
        };
        let h = mix(world.seed, id as u64, salt);
        if !eligible || unit(h) >= spec.share {
            continue;
        }
        reached += 1;
        let when = spec.shape.quantile(unit(mix(h, id as u64, salt)));
        let at = spec.shape.start.0 + when as u32;
        let mut push = |at: u32, action| {
            if !window.contains(&at) {
                return;
            }
            let e = Event {
                at,
                surge: s as u16,
                citizen: id,
                action,
            };
            events.extend(e.pack(base));
        };
        // Further openings at independent times from the shape.
        let again = |k: u32| {
            let u = unit(mix(h, id as u64, salt ^ ((k as u64) << 20)));
            spec.shape.start.0 + spec.shape.quantile(u) as u32
        };
        match spec.kind {
            SurgeKind::Announcement => {
                push(at, Action::Query);
                for k in 1..spec.opens {
                    push(again(k), Action::Query);
                }
            }
            SurgeKind::MorningRush => push(at, Action::Scan),
            SurgeKind::MassTesting => {
                push(at, Action::NatResult);
                if person.smartphone() {
                    push(at + (h % 30) as u32, Action::Query);
                    for k in 1..spec.opens {
                        push(again(k), Action::Query);
                    }
                }
            }
            SurgeKind::SpringFestival => {}
        }
    }
    (events, reached)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(d: u32, r: u32, k: u32) -> Shape {
        Shape {
            start: Minute(1000),
            duration_minutes: d,
            ramp_minutes: r,
            decay_minutes: k,
        }
    }

    /// The packed word sorts as the event does (minute, surge, citizen,
    /// action) and gives it back whole; what no run reaches is dropped.
    #[test]
    fn packed_events_keep_their_order_and_their_fields() {
        let base = 1_000_000;
        let e = |at, surge, citizen, action| Event {
            at,
            surge,
            citizen,
            action,
        };
        let mut events = vec![
            e(base + 5, 0, u32::MAX, Action::Scan),
            e(base + 4, 1023, 7, Action::Query),
            e(base + 4, 2, 9, Action::Query),
            e(base + 4, 2, 9, Action::NatResult),
            e(base + 4, 2, 8, Action::Scan),
            e(base + (1 << AT_BITS) - 1, 0, 0, Action::Query),
            e(base, 0, 0, Action::NatResult),
        ];
        let mut packed: Vec<u64> = events.iter().map(|e| e.pack(base).unwrap()).collect();
        packed.sort_unstable();
        events.sort();
        let back: Vec<Event> = packed.iter().map(|&k| Event::unpack(k, base)).collect();
        assert_eq!(back, events);
        assert_eq!(e(base - 1, 0, 0, Action::Query).pack(base), None);
        assert_eq!(
            e(base + (1 << AT_BITS), 0, 0, Action::Query).pack(base),
            None
        );
        assert_eq!(
            e(base, MAX_SURGES as u16, 0, Action::Query).pack(base),
            None
        );
    }

    /// Every event a run sends, tick by tick, with what it counted.
    fn sent(mut surges: Surges, world: &World, ticks: std::ops::Range<u32>) -> Vec<String> {
        for id in 0..world.citizens() {
            surges.learn(id, id);
        }
        let sent = ticks
            .map(|m| format!("{m}: {:?}", surges.step(world, Minute(m), None)))
            .collect();
        let totals = surges.totals.iter().map(|t| {
            format!(
                "{} {} {} {} {}",
                t.citizens, t.nat_results, t.queries, t.without_code, t.scans
            )
        });
        [sent, totals.collect::<Vec<_>>()].concat()
    }

    #[test]
    fn drawing_a_window_at_a_time_sends_what_drawing_all_at_once_sends() {
        let text = "name = \"t\"\nseed = 5\nstart = \"2022-01-04T08:00\"\nduration_hours = 3\n\
                    population_scale = 0.001\nprovinces = [\"shaanxi\"]\nshards = 2\n\
                    [[surge]]\nkind = \"mass_testing\"\nprovince = \"shaanxi\"\n\
                    start = \"2022-01-04T09:00\"\nend = \"2022-01-04T09:40\"\nramp_minutes = 5\n\
                    decay_minutes = 4\nshare = 0.9\nopens = 3\n\
                    [[surge]]\nkind = \"announcement\"\nprovince = \"shaanxi\"\ncity = \"Xi'an\"\n\
                    start = \"2022-01-04T07:30\"\nend = \"2022-01-04T10:00\"\nramp_minutes = 20\n\
                    decay_minutes = 10\nshare = 0.5\nopens = 4\n";
        let s = crate::scenario::Scenario::parse(std::path::Path::new("t.toml"), text).unwrap();
        let w = World::build(&s);
        let expected = expected_events(&s.surges, &w.geography);
        assert!(expected > 50_000, "{expected} events expected");
        let minutes = s.start.0..s.start.0 + 180;
        let at_once = Surges::windowed(&w, &s.surges, s.start, None, u64::MAX);
        assert_eq!(at_once.window, at_once.last - at_once.base, "one window");
        let whole = sent(at_once, &w, minutes.clone());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        for window_events in [expected / 7, 1_000] {
            let windowed = Surges::windowed(&w, &s.surges, s.start, Some(&pool), window_events);
            assert!(windowed.window < 60, "{} minutes a window", windowed.window);
            assert!(windowed.events.len() < expected as usize / 3);
            assert_eq!(sent(windowed, &w, minutes.clone()), whole);
        }
        assert!(whole.iter().filter(|l| l.contains("NatResult")).count() > 30);
    }

    #[test]
    fn intensity_ramps_holds_and_decays() {
        let s = shape(30, 10, 20);
        assert_eq!(s.intensity(-1.0), 0.0);
        assert_eq!(s.intensity(5.0), 0.5);
        assert_eq!(s.intensity(20.0), 1.0);
        assert!((s.intensity(50.0) - (-1.0f64).exp()).abs() < 1e-12);
        assert_eq!(s.intensity(30.0 + 100.0), 0.0);
        assert_eq!(s.end(), Minute(1130));
    }

    #[test]
    fn quantiles_follow_the_intensity() {
        let s = shape(30, 10, 20);
        // Mass: ramp 5, hold 20, tail ≈ 19.87.
        let total = 5.0 + 20.0 + 20.0 * (1.0 - (-5.0f64).exp());
        assert!((s.quantile(5.0 / total) - 10.0).abs() < 1e-9);
        assert!((s.quantile(2.5 / total) - 50f64.sqrt()).abs() < 1e-9);
        assert!((s.quantile(25.0 / total) - 30.0).abs() < 1e-9);
        let mut last = -1.0;
        for k in 0..1000 {
            let q = s.quantile(k as f64 / 1000.0);
            assert!(q >= last && q <= 130.0, "{k}: {q}");
            last = q;
        }
        // No decay: everything within the duration.
        assert!(shape(30, 0, 0).quantile(0.999_999) <= 30.0);
    }

    #[test]
    fn travel_multiplier_takes_the_largest_surge_of_the_province() {
        let gd = ProvinceId::parse("guangdong").unwrap();
        let sc = ProvinceId::parse("sichuan").unwrap();
        let surges = vec![
            TravelSurge {
                province: None,
                shape: shape(60, 0, 0),
                multiplier: 3.0,
            },
            TravelSurge {
                province: Some(sc),
                shape: shape(60, 0, 0),
                multiplier: 9.0,
            },
        ];
        assert_eq!(travel_multiplier(&surges, Minute(1010), gd), 3.0);
        assert_eq!(travel_multiplier(&surges, Minute(1010), sc), 9.0);
        assert_eq!(travel_multiplier(&surges, Minute(2000), sc), 1.0);
    }
}
