//! Scenario files: what to simulate, for how long, with which rules.
//!
//! Parsing is strict: unknown keys, wrong types and out-of-range values are
//! errors naming the file, line and key, because a silently ignored typo in a
//! capacity plan is worse than no plan.

mod error;
mod section;

pub use error::{line_of, InputError};
pub(crate) use section::{kind_name, Section};

use crate::capacity::config::{CapacityConfig, CapacityFile};
use crate::surge::{
    travel_multiplier, travel_surges, RunWindow, SurgeFile, SurgeSpec, TravelSurge,
};
use hcsim_platform::api::RiskLevel;
use hcsim_platform::region::province_keys;
use hcsim_platform::{Minute, ProvinceId};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub path: PathBuf,
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub start: Minute,
    pub duration_minutes: u32,
    pub tick_minutes: u32,
    pub population_scale: f64,
    /// Simulated provinces, in `ProvinceId` order.
    pub provinces: Vec<ProvinceId>,
    /// Fixed shard count: the unit of parallel work. Results depend on it,
    /// never on the thread count.
    pub shards: u32,
    pub behaviour: Behaviour,
    pub epidemic: Epidemic,
    /// Rule-set file per province key, plus "default" and "national".
    pub rules: BTreeMap<String, PathBuf>,
    /// Servers, service times and admission limits of the platforms.
    pub capacity: CapacityConfig,
    /// `[[surge]]` entries, in file order.
    pub surges: Vec<SurgeSpec>,
    /// `[[fault]]` entries, in file order.
    pub faults: Vec<crate::fault::FaultSpec>,
    /// `[oracle]`: which citizens the rule oracle checks.
    pub oracle: crate::oracle::OracleConfig,
}

/// What citizens do on an ordinary day. Probabilities are per citizen per day.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Behaviour {
    /// Opens (queries) their own code in the morning.
    pub open_code: f64,
    /// Green holders who declare although not required.
    pub voluntary_declare: f64,
    /// Share of working-age adults with a workplace they commute to.
    pub employed: f64,
    pub restaurant: f64,
    pub mall: f64,
    pub bank: f64,
    pub hospital: f64,
    pub venue: f64,
    pub hotel: f64,
    pub community: f64,
    /// Takes a long-distance bus within the province today (scanned at
    /// the city's bus station).
    pub bus: f64,
    /// Drives through a traffic checkpoint today (freight runs at night).
    pub road: f64,
    /// Share of factory workers on the night shift (22:00–06:00).
    pub night_shift: f64,
    /// Starts an interprovincial trip today.
    pub travel: f64,
    pub trip_days_mean: f64,
    /// Share of trips taken by air (the rest by train).
    pub flight_share: f64,
    /// Falls ill with fever or respiratory symptoms today.
    pub symptoms: f64,
    /// Smartphone ownership among people aged 65+ (the rest show an ID card).
    pub smartphone_elderly: f64,
    /// Smartphone ownership among children aged 12 and under.
    pub smartphone_child: f64,
    /// Applies for a first code today: a newcomer. Everyone else held one
    /// before the run started (registered untimed, `agents::registration`).
    /// 0.0002 after the 2020 roll-out: Fujian's 974,522 out-of-province
    /// applications by the end of June 2020 over its 41.54 M residents
    /// (DOMAIN.md) come to ~0.02 % a day over the roll-out's months.
    pub first_code: f64,
    /// Smartphone users who also hold the national code (防疫健康信息码) and
    /// show it at checkpoints.
    pub national_code: f64,
    /// Checkpoint scans at which a smartphone holder shows a forged code:
    /// the next serial under their own code's token, as someone counting
    /// serials would. 0 for real days; tests raise it to show that forged
    /// codes are refused and the oracle catches a platform that accepts them.
    pub forged_codes: f64,
    /// Trip destinations: false = gravity model (destination population
    /// over squared distance); true = every other province alike (to
    /// exercise every recognition pair at small scale).
    pub uniform_destinations: bool,
    /// Returns from abroad today on an inbound international flight.
    pub inbound: f64,
    /// Inbound passengers found positive at the port of entry.
    pub inbound_case: f64,
    /// Inbound passengers whose itinerary declaration leaves out a country.
    pub conceal: f64,
    /// Provinces whose residents file no manual health declaration: the
    /// code is computed from data alone (DOMAIN.md, Fujian).
    pub no_manual_declaration: Vec<String>,
    /// Spring-festival surges, set from `[[surge]]`: what `travel_at` reads.
    #[serde(skip)]
    pub travel_surges: Arc<Vec<TravelSurge>>,
}

impl Behaviour {
    /// Today's probability of starting a trip for a resident of `home`
    /// deciding at `now`: `travel` times any spring-festival multiplier.
    pub fn travel_at(&self, now: Minute, home: ProvinceId) -> f64 {
        (self.travel * travel_multiplier(&self.travel_surges, now, home)).min(1.0)
    }
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            open_code: 0.5,
            voluntary_declare: 0.05,
            employed: 0.8,
            restaurant: 0.45,
            mall: 0.3,
            bank: 0.04,
            hospital: 0.02,
            venue: 0.05,
            hotel: 0.01,
            community: 0.7,
            bus: 0.01,
            road: 0.03,
            night_shift: 0.2,
            travel: 0.004,
            trip_days_mean: 3.0,
            flight_share: 0.3,
            symptoms: 0.002,
            smartphone_elderly: 0.55,
            smartphone_child: 0.15,
            first_code: 0.0002,
            national_code: 0.02,
            forged_codes: 0.0,
            uniform_destinations: false,
            inbound: 0.0,
            inbound_case: 0.0,
            conceal: 0.1,
            no_manual_declaration: vec!["fujian".to_string()],
            travel_surges: Arc::default(),
        }
    }
}

/// The health authority's view of the epidemic.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Epidemic {
    /// New confirmed cases per million simulated residents per day: the
    /// count scales with `population_scale`, so a small world sees cases
    /// (the smoke and fault scenarios use it to exercise red codes).
    /// Because a case turns its county risky and the county is tested
    /// whole, the share of people mass-tested grows with the scale
    /// (`confirmed_per_day` avoids that). Unset: 0.5, or 0 where
    /// `confirmed_per_day` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_per_million_day: Option<f64>,
    /// New local confirmed cases a day in the whole country as it really
    /// is, at any `population_scale`: each simulated case stands for one
    /// real case, and what it sets off, the mass testing of its county,
    /// is scaled through the county's size, so the share of people tested
    /// is the same at 1/1000 as at full size. Cases are shared among
    /// provinces by population times `hotspots` weight, and the risk
    /// thresholds (50 cases, a cluster of 5 a day) are not scaled.
    /// Exclusive with `confirmed_per_million_day`.
    pub confirmed_per_day: f64,
    /// Provinces where cases concentrate, with their weight relative to 1.
    pub hotspots: BTreeMap<String, f64>,
    pub quarantine_days: u32,
    /// Routine NAT screening of people in exposed jobs (hospitals,
    /// transport, cold chain), as a share of the population per day. Every
    /// other test follows need: cases, contacts, quarantine releases,
    /// mass-testing rounds, yellow releases and travel where the rules ask
    /// for a negative result, arrivals from abroad.
    pub nat_per_day: f64,
    /// Days a mass-testing round takes to sample everyone in a county that
    /// turns medium or high risk (0: no rounds).
    pub mass_testing_days: u32,
    /// Co-workers at a case's workplace designated close contacts, at most.
    pub workplace_contacts: u32,
    /// Neighbouring households on each side told of a case in their
    /// building (same stairwell).
    pub building_households: u32,
    /// Hours from a NAT sample to its result (a result is published at
    /// `sample + nat_turnaround_hours`, never before the sample).
    pub nat_turnaround_hours: u32,
    /// Risk levels in force at the start.
    pub risk_areas: Vec<RiskAreaSpec>,
}

impl Default for Epidemic {
    fn default() -> Self {
        Epidemic {
            confirmed_per_million_day: None,
            confirmed_per_day: 0.0,
            hotspots: BTreeMap::new(),
            quarantine_days: 14,
            nat_per_day: 0.0,
            mass_testing_days: 3,
            workplace_contacts: 10,
            building_households: 2,
            nat_turnaround_hours: 12,
            risk_areas: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RiskAreaSpec {
    pub province: String,
    /// County index within the province (0 is the capital's first county).
    pub county: u16,
    pub level: RiskLevel,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    #[serde(default)]
    description: String,
    seed: u64,
    start: Spanned<String>,
    duration_hours: Spanned<f64>,
    #[serde(default = "one")]
    tick_minutes: Spanned<u32>,
    population_scale: Spanned<f64>,
    #[serde(default)]
    provinces: Option<Spanned<Vec<String>>>,
    #[serde(default = "default_shards")]
    shards: Spanned<u32>,
    #[serde(default)]
    behaviour: Option<Spanned<Behaviour>>,
    #[serde(default)]
    epidemic: Option<Spanned<Epidemic>>,
    #[serde(default)]
    rules: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    capacity: Option<CapacityFile>,
    #[serde(default)]
    surge: Vec<Spanned<SurgeFile>>,
    #[serde(default)]
    fault: Vec<Spanned<crate::fault::FaultFile>>,
    oracle: Option<Spanned<crate::oracle::OracleConfig>>,
}

fn one() -> Spanned<u32> {
    Spanned::new(0..0, 1)
}
fn default_shards() -> Spanned<u32> {
    Spanned::new(0..0, 32)
}

/// The largest population the engine addresses (u32 ids, with headroom).
const MAX_CITIZENS: f64 = 2.0e9;

impl Scenario {
    pub fn load(path: &Path) -> Result<Scenario, InputError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| InputError::whole_file(path, format!("cannot read scenario: {e}")))?;
        Scenario::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Scenario, InputError> {
        let raw: ScenarioFile =
            toml::from_str(text).map_err(|e| InputError::from_toml(path, text, &e))?;
        let at = |span: std::ops::Range<usize>, field: &str, msg: String| {
            InputError::at(path, text, span, field, msg)
        };

        let start =
            Minute::parse(raw.start.get_ref()).map_err(|m| at(raw.start.span(), "start", m))?;
        let hours = *raw.duration_hours.get_ref();
        if !(hours > 0.0 && hours <= 24.0 * 366.0) {
            return Err(at(
                raw.duration_hours.span(),
                "duration_hours",
                format!("{hours} is out of range: must be > 0 and at most 8784 (a year)"),
            ));
        }
        // A run is whole minutes; a duration that rounds to none would
        // write an empty summary that looks like a quiet day.
        if (hours * 60.0).round() < 1.0 {
            return Err(at(
                raw.duration_hours.span(),
                "duration_hours",
                format!("{hours} hours is less than a minute: a run lasts at least one minute"),
            ));
        }
        let tick = *raw.tick_minutes.get_ref();
        if !(1..=60).contains(&tick) {
            return Err(at(
                raw.tick_minutes.span(),
                "tick_minutes",
                format!("{tick} is out of range: must be 1..=60"),
            ));
        }
        let scale = *raw.population_scale.get_ref();
        if !(scale > 0.0 && scale * 1.4118e9 <= MAX_CITIZENS) {
            return Err(at(
                raw.population_scale.span(),
                "population_scale",
                format!("{scale} is out of range: must be > 0 and at most 1.4"),
            ));
        }
        let shards = *raw.shards.get_ref();
        if !(1..=4096).contains(&shards) {
            return Err(at(
                raw.shards.span(),
                "shards",
                format!("{shards} is out of range: must be 1..=4096"),
            ));
        }

        let provinces = match &raw.provinces {
            None => ProvinceId::all().collect(),
            Some(list) if list.get_ref().iter().any(|p| p == "all") => ProvinceId::all().collect(),
            Some(list) => {
                let mut ids = Vec::new();
                for key in list.get_ref() {
                    let id = ProvinceId::parse(key).ok_or_else(|| {
                        at(
                            list.span(),
                            "provinces",
                            format!("unknown province `{key}`; known: {}", province_keys()),
                        )
                    })?;
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                if ids.is_empty() {
                    return Err(at(list.span(), "provinces", "the list is empty".into()));
                }
                ids.sort();
                ids
            }
        };

        let behaviour = match raw.behaviour {
            Some(b) => {
                let span = b.span();
                let b = b.into_inner();
                validate_behaviour(&b).map_err(|(f, m)| {
                    let line_span = find_key(text, span.clone(), f).unwrap_or(span);
                    at(line_span, &format!("behaviour.{f}"), m)
                })?;
                b
            }
            None => Behaviour::default(),
        };
        let epidemic = match raw.epidemic {
            Some(e) => {
                let span = e.span();
                let e = e.into_inner();
                validate_epidemic(&e).map_err(|(f, m)| {
                    let line_span = find_key(text, span.clone(), &f).unwrap_or(span);
                    at(line_span, &format!("epidemic.{f}"), m)
                })?;
                e
            }
            None => Epidemic::default(),
        };
        if let Some((i, r)) =
            epidemic.risk_areas.iter().enumerate().find(|(_, r)| {
                ProvinceId::parse(&r.province).is_some_and(|p| !provinces.contains(&p))
            })
        {
            // The entry's own line: the first mention of its province after
            // the `risk_areas` key.
            let key = find_key(text, 0..text.len(), "risk_areas").unwrap_or(0..0);
            let quoted = format!("\"{}\"", r.province);
            let span = text[key.start..]
                .find(&quoted)
                .map_or(key.clone(), |i| key.start + i..key.start + i + quoted.len());
            return Err(at(
                span,
                &format!("epidemic.risk_areas[{i}].province"),
                format!(
                    "`{}` is not simulated: this scenario's provinces are {}",
                    r.province,
                    provinces
                        .iter()
                        .map(|p| p.key())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }

        let capacity = match &raw.capacity {
            Some(c) => crate::capacity::config::validate(path, text, c)?,
            None => CapacityConfig::default(),
        };
        let window = RunWindow {
            start,
            end: start.plus_minutes((hours * 60.0).round() as u32),
            provinces: &provinces,
        };
        let surges = crate::surge::validate(path, text, &raw.surge, &window)?;
        let faults = crate::fault::validate(path, text, &raw.fault, &window)?;
        let mut behaviour = behaviour;
        behaviour.travel_surges = Arc::new(travel_surges(&surges));

        let oracle = match raw.oracle {
            Some(o) => {
                let span = o.span();
                let o = o.into_inner();
                if let Some(share) = o.sample.filter(|s| !(0.0..=1.0).contains(s)) {
                    let line_span = find_key(text, span.clone(), "sample").unwrap_or(span);
                    return Err(at(
                        line_span,
                        "oracle.sample",
                        format!("{share} is out of range: a share must be within 0..=1"),
                    ));
                }
                o
            }
            None => crate::oracle::OracleConfig::default(),
        };

        let base = path.parent().unwrap_or(Path::new("."));
        let mut rules = BTreeMap::new();
        for (key, file) in &raw.rules {
            if key != "default"
                && key != "national"
                && key != "recognition"
                && ProvinceId::parse(key).is_none()
            {
                let span = find_key(text, 0..text.len(), key).unwrap_or(file.span());
                return Err(at(
                    span,
                    &format!("rules.{key}"),
                    format!(
                        "unknown province `{key}`; use a province key, `default`, `national` \
                         or `recognition` (the recognition policy)"
                    ),
                ));
            }
            let resolved = base.join(file.get_ref());
            if !resolved.is_file() {
                return Err(at(
                    file.span(),
                    &format!("rules.{key}"),
                    format!("rule-set file {} does not exist", resolved.display()),
                ));
            }
            rules.insert(key.clone(), resolved);
        }

        Ok(Scenario {
            path: path.to_path_buf(),
            name: raw.name,
            description: raw.description,
            seed: raw.seed,
            start,
            duration_minutes: (hours * 60.0).round() as u32,
            tick_minutes: tick,
            population_scale: scale,
            provinces,
            shards,
            behaviour,
            epidemic,
            rules,
            capacity,
            surges,
            faults,
            oracle,
        })
    }

    pub fn ticks(&self) -> u32 {
        self.duration_minutes.div_ceil(self.tick_minutes)
    }

    /// Reporting interval for timelines: ~96 points over the run, whole
    /// ticks, at least 5 minutes, and a length that divides a day or a
    /// whole number of days, so that a chart's points fall on the same
    /// hours every day and its axis can tick daily (a fortnight at 210
    /// minutes had a point on a whole hour only every 7 hours).
    pub fn interval_minutes(&self) -> u32 {
        const DAY: u32 = 1440;
        const NICE: [u32; 14] = [5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720];
        let raw = (self.duration_minutes / 96).max(5).max(self.tick_minutes);
        let ticks = raw.div_ceil(self.tick_minutes) * self.tick_minutes;
        // Where no such length is a whole number of ticks near the ~96
        // points (7-minute ticks), the whole ticks are kept.
        NICE.iter()
            .copied()
            .chain((1..=366).map(|days| days * DAY))
            .find(|&m| m >= raw && m % self.tick_minutes == 0)
            .filter(|&m| m < 2 * ticks)
            .unwrap_or(ticks)
    }

    pub fn end(&self) -> Minute {
        self.start.plus_minutes(self.duration_minutes)
    }

    /// The interprovincial recognition policy: `[rules] recognition`, else
    /// `recognition/policy.toml` next to the scenario if there is one.
    pub fn recognition_policy(&self) -> Option<PathBuf> {
        if let Some(f) = self.rules.get("recognition") {
            return Some(f.clone());
        }
        let beside = self
            .path
            .parent()
            .unwrap_or(Path::new("."))
            .join("recognition/policy.toml");
        beside.is_file().then_some(beside)
    }

    /// The rule-set file for a province: its own, else `default`.
    pub fn rules_for(&self, p: ProvinceId) -> Option<&Path> {
        self.rules
            .get(p.key())
            .or_else(|| self.rules.get("default"))
            .map(PathBuf::as_path)
    }
}

/// Finds `key =` inside `within`, for pointing at a nested field's line.
fn find_key(
    text: &str,
    within: std::ops::Range<usize>,
    key: &str,
) -> Option<std::ops::Range<usize>> {
    // A table's span may cover only its `[header]`: search on to the next
    // header so keys in the table's body are found.
    let within = table_body(text, within);
    let region = text.get(within.clone())?;
    let mut offset = 0;
    for line in region.split_inclusive('\n') {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix(key) {
            if rest.trim_start().starts_with('=') {
                let start = within.start + offset + (line.len() - t.len());
                return Some(start..start + key.len());
            }
        }
        offset += line.len();
    }
    None
}

/// `within` extended to the start of the next `[table]` header after its
/// first line (or the end of the text).
fn table_body(text: &str, within: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let Some(rest) = text.get(within.start..) else {
        return within;
    };
    let mut offset = 0;
    let mut end = text.len();
    for (i, line) in rest.split_inclusive('\n').enumerate() {
        if i > 0 && line.trim_start().starts_with('[') && within.start + offset >= within.end {
            end = within.start + offset;
            break;
        }
        offset += line.len();
    }
    within.start..end.max(within.end)
}

fn probability(name: &'static str, v: f64) -> Result<(), (&'static str, String)> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err((
            name,
            format!("{v} is out of range: a probability must be within 0..=1"),
        ))
    }
}

fn validate_behaviour(b: &Behaviour) -> Result<(), (&'static str, String)> {
    probability("open_code", b.open_code)?;
    probability("voluntary_declare", b.voluntary_declare)?;
    probability("employed", b.employed)?;
    probability("restaurant", b.restaurant)?;
    probability("mall", b.mall)?;
    probability("bank", b.bank)?;
    probability("hospital", b.hospital)?;
    probability("venue", b.venue)?;
    probability("hotel", b.hotel)?;
    probability("community", b.community)?;
    probability("bus", b.bus)?;
    probability("road", b.road)?;
    probability("night_shift", b.night_shift)?;
    probability("travel", b.travel)?;
    probability("flight_share", b.flight_share)?;
    probability("symptoms", b.symptoms)?;
    probability("smartphone_elderly", b.smartphone_elderly)?;
    probability("smartphone_child", b.smartphone_child)?;
    probability("first_code", b.first_code)?;
    probability("national_code", b.national_code)?;
    probability("forged_codes", b.forged_codes)?;
    probability("inbound", b.inbound)?;
    probability("inbound_case", b.inbound_case)?;
    probability("conceal", b.conceal)?;
    if let Some(k) = b
        .no_manual_declaration
        .iter()
        .find(|k| ProvinceId::parse(k).is_none())
    {
        return Err((
            "no_manual_declaration",
            format!("unknown province `{k}`; known: {}", province_keys()),
        ));
    }
    if !(b.trip_days_mean >= 1.0 && b.trip_days_mean <= 60.0) {
        return Err((
            "trip_days_mean",
            format!("{} is out of range: must be 1..=60 days", b.trip_days_mean),
        ));
    }
    Ok(())
}

impl Epidemic {
    /// Whether cases are counted for the whole country
    /// (`confirmed_per_day`) rather than per simulated million.
    pub fn counts_whole_country(&self) -> bool {
        self.confirmed_per_day > 0.0
    }

    /// `confirmed_per_million_day` as it applies.
    pub fn per_million_day(&self) -> f64 {
        match self.confirmed_per_million_day {
            Some(c) => c,
            None if self.counts_whole_country() => 0.0,
            None => 0.5,
        }
    }
}

fn validate_epidemic(e: &Epidemic) -> Result<(), (String, String)> {
    let c = e.per_million_day();
    if !(0.0..=100_000.0).contains(&c) {
        return Err((
            "confirmed_per_million_day".into(),
            format!("{c} is out of range: must be within 0..=100000"),
        ));
    }
    let n = e.confirmed_per_day;
    if !(0.0..=1_000_000.0).contains(&n) {
        return Err((
            "confirmed_per_day".into(),
            format!("{n} is out of range: must be within 0..=1000000"),
        ));
    }
    if n > 0.0 && c > 0.0 {
        return Err((
            "confirmed_per_day".into(),
            format!(
                "{n} is set with confirmed_per_million_day = {c}: set one of them \
                 (confirmed_per_million_day = 0 to count cases for the whole country)"
            ),
        ));
    }
    if !(0.0..=1.0).contains(&e.nat_per_day) {
        return Err((
            "nat_per_day".into(),
            format!(
                "{} is out of range: a share must be within 0..=1",
                e.nat_per_day
            ),
        ));
    }
    if !(1..=72).contains(&e.nat_turnaround_hours) {
        return Err((
            "nat_turnaround_hours".into(),
            format!("{} is out of range: must be 1..=72", e.nat_turnaround_hours),
        ));
    }
    for (field, value, max) in [
        ("mass_testing_days", e.mass_testing_days, 14),
        ("workplace_contacts", e.workplace_contacts, 100),
        ("building_households", e.building_households, 20),
    ] {
        if value > max {
            return Err((
                field.into(),
                format!("{value} is out of range: must be 0..={max}"),
            ));
        }
    }
    if !(1..=60).contains(&e.quarantine_days) {
        return Err((
            "quarantine_days".into(),
            format!("{} is out of range: must be 1..=60", e.quarantine_days),
        ));
    }
    for (k, w) in &e.hotspots {
        if ProvinceId::parse(k).is_none() {
            return Err((
                k.clone(),
                format!(
                    "unknown province `{k}` in hotspots; known: {}",
                    province_keys()
                ),
            ));
        }
        if !(*w >= 0.0 && *w <= 10_000.0) {
            return Err((
                k.clone(),
                format!("weight {w} is out of range: must be within 0..=10000"),
            ));
        }
    }
    for r in &e.risk_areas {
        match ProvinceId::parse(&r.province) {
            None => {
                return Err((
                    "province".into(),
                    format!("unknown province `{}` in risk_areas", r.province),
                ))
            }
            Some(_) if r.county >= crate::world::geography::MAX_COUNTIES_PER_PROVINCE => {
                return Err((
                    "county".into(),
                    format!(
                        "county {} is out of range: provinces have at most {} counties",
                        r.county,
                        crate::world::geography::MAX_COUNTIES_PER_PROVINCE
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Scenario, InputError> {
        Scenario::parse(Path::new("scenarios/t.toml"), text)
    }

    const MINIMAL: &str = "name = \"t\"\nseed = 7\nstart = \"2020-10-01T00:00\"\nduration_hours = 24\npopulation_scale = 0.0001\n";

    #[test]
    fn minimal_scenario_gets_defaults() {
        let s = parse(MINIMAL).unwrap();
        assert_eq!(s.provinces.len(), 31);
        assert_eq!(s.ticks(), 1440);
        assert_eq!(s.shards, 32);
    }

    #[test]
    fn typo_in_key_names_file_line_and_key() {
        let text = MINIMAL.replace("population_scale", "popualtion_scale");
        let e = parse(&text).unwrap_err().to_string();
        assert!(
            e.starts_with(
                "scenarios/t.toml:5: field `popualtion_scale`: unknown field `popualtion_scale`"
            ),
            "{e}"
        );
    }

    #[test]
    fn typo_in_nested_key_names_line() {
        let text = format!("{MINIMAL}\n[behaviour]\nrestaurnat = 0.3\n");
        let e = parse(&text).unwrap_err().to_string();
        assert!(
            e.starts_with("scenarios/t.toml:8: field `restaurnat`: unknown field `restaurnat`"),
            "{e}"
        );
    }

    #[test]
    fn out_of_range_value_names_line_and_key() {
        let text = format!("{MINIMAL}\n[behaviour]\nmall = 1.5\n");
        let e = parse(&text).unwrap_err().to_string();
        assert_eq!(e, "scenarios/t.toml:8: field `behaviour.mall`: 1.5 is out of range: a probability must be within 0..=1");
    }

    #[test]
    fn unknown_province_is_named() {
        let text = format!("{MINIMAL}provinces = [\"anhui\", \"atlantis\"]\n");
        let e = parse(&text).unwrap_err().to_string();
        assert!(
            e.starts_with("scenarios/t.toml:6: field `provinces`: unknown province `atlantis`"),
            "{e}"
        );
    }

    #[test]
    fn oracle_sample_out_of_range_is_named() {
        let text = format!("{MINIMAL}\n[oracle]\nsample = 2.0\n");
        let e = parse(&text).unwrap_err().to_string();
        assert_eq!(
            e,
            "scenarios/t.toml:8: field `oracle.sample`: 2 is out of range: a share must be within 0..=1"
        );
    }

    #[test]
    fn reporting_intervals_divide_a_day_or_span_whole_days() {
        let interval = |hours: u32, tick: u32| {
            let text = MINIMAL.replace("duration_hours = 24", &format!("duration_hours = {hours}"))
                + &format!("tick_minutes = {tick}\n");
            parse(&text).unwrap().interval_minutes()
        };
        assert_eq!(interval(24, 1), 15);
        assert_eq!(interval(14 * 24, 1), 240);
        assert_eq!(interval(17, 1), 10);
        assert_eq!(interval(4, 1), 5);
        assert_eq!(interval(720, 1), 480);
        assert_eq!(interval(24 * 365, 1), 4 * 1440);
        // No length dividing a day is a whole number of 7-minute ticks.
        assert_eq!(interval(24, 7), 21);
        for (hours, tick) in [(24, 1), (336, 5), (17, 3), (100, 60), (8760, 1)] {
            let m = interval(hours, tick);
            assert!(1440 % m == 0 || m % 1440 == 0, "{hours} h: {m}");
            assert_eq!(m % tick, 0, "{hours} h at {tick}-minute ticks: {m}");
        }
    }

    #[test]
    fn bad_start_time_is_named() {
        let e = parse(&MINIMAL.replace("2020-10-01T00:00", "2020-10-32T00:00"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("scenarios/t.toml:3: field `start`:"), "{e}");
    }
}
