//! Provinces, cities, counties and checkpoints.
//!
//! Each province has a few real cities; each city a few counties (the
//! granularity of risk areas). Populations follow the 2020 census scaled by
//! the scenario; checkpoints follow population with per-type ratios.

use hcsim_platform::api::{CheckpointKind, CountyRef, RiskLevel, CHECKPOINT_KINDS};
use hcsim_platform::ProvinceId;

pub const MAX_COUNTIES_PER_PROVINCE: u16 = 8;

/// Cities per province, capital first. Municipalities are one city.
const CITIES: [&[&str]; 31] = [
    &["Beijing"],
    &["Tianjin"],
    &["Shijiazhuang", "Tangshan", "Baoding"],
    &["Taiyuan", "Datong", "Yuncheng"],
    &["Hohhot", "Baotou", "Ordos"],
    &["Shenyang", "Dalian", "Anshan"],
    &["Changchun", "Jilin", "Yanbian"],
    &["Harbin", "Qiqihar", "Daqing"],
    &["Shanghai"],
    &["Nanjing", "Suzhou", "Wuxi"],
    &["Hangzhou", "Ningbo", "Wenzhou"],
    &["Hefei", "Wuhu", "Fuyang"],
    &["Fuzhou", "Xiamen", "Quanzhou"],
    &["Nanchang", "Ganzhou", "Jiujiang"],
    &["Jinan", "Qingdao", "Yantai"],
    &["Zhengzhou", "Luoyang", "Nanyang"],
    &["Wuhan", "Yichang", "Xiangyang"],
    &["Changsha", "Zhuzhou", "Hengyang"],
    &["Guangzhou", "Shenzhen", "Dongguan"],
    &["Nanning", "Liuzhou", "Guilin"],
    &["Haikou", "Sanya"],
    &["Chongqing"],
    &["Chengdu", "Mianyang", "Nanchong"],
    &["Guiyang", "Zunyi"],
    &["Kunming", "Qujing", "Dali"],
    &["Lhasa", "Shigatse"],
    &["Xi'an", "Baoji", "Xianyang"],
    &["Lanzhou", "Tianshui"],
    &["Xining", "Haidong"],
    &["Yinchuan", "Shizuishan"],
    &["Urumqi", "Kashgar", "Yili"],
];

/// Share of a province's population living in its capital.
const CAPITAL_SHARE: f64 = 0.4;

fn city_share(cities_in_province: usize, capital: bool) -> f64 {
    match (cities_in_province, capital) {
        (1, _) => 1.0,
        (_, true) => CAPITAL_SHARE,
        (n, false) => (1.0 - CAPITAL_SHARE) / (n - 1) as f64,
    }
}

pub struct City {
    pub province: ProvinceId,
    pub name: &'static str,
    pub capital: bool,
    /// Global county indices.
    pub counties: std::ops::Range<u32>,
}

pub struct County {
    pub province: ProvinceId,
    /// Index within the province (what `CountyRef::county` holds).
    pub local: u16,
    pub city: u32,
    pub name: String,
    pub population: u32,
    pub initial_risk: RiskLevel,
}

impl County {
    pub fn county_ref(&self) -> CountyRef {
        CountyRef {
            province: self.province,
            county: self.local,
        }
    }
}

/// Checkpoint parameters per type: people served per checkpoint, opening
/// hours, lanes and scans per lane-minute.
pub struct CheckpointProfile {
    pub kind: CheckpointKind,
    /// One checkpoint per this many residents; 0 = one per city (transport
    /// hubs; the airport one per province, traffic checkpoints one per county).
    pub residents_per: u32,
    pub open_minute: u16,
    pub close_minute: u16,
    /// Lanes every checkpoint of the kind has at least.
    pub lanes: u8,
    pub scans_per_lane_minute: u16,
    /// Arrivals in the busiest minute per resident the checkpoint serves,
    /// with a quarter's headroom: what its lanes are sized for. From the
    /// day's shape (`agents::plan`): e.g. a community gate sees ~0.6 of its
    /// residents come home from work or school over 17:00–19:30, 70 % of
    /// them scanned, most near 18:00; a train station a city's trips (0.4 %
    /// a day, doubled by the spring-festival rush) over a morning.
    pub peak_share: f64,
}

pub fn profile(kind: CheckpointKind) -> CheckpointProfile {
    use CheckpointKind::*;
    #[rustfmt::skip]
    let (residents_per, open_h, close_h, lanes, rate, peak_share): (u32, f32, f32, u8, u16, f64) =
        match kind {
            Airport => (0, 5.0, 24.0, 8, 6, 2e-5),
            TrainStation => (0, 5.5, 23.5, 6, 8, 5e-5),
            BusStation => (0, 6.0, 21.0, 3, 8, 2.5e-5),
            // Emergency departments and fever clinics never close.
            Hospital => (20_000, 0.0, 24.0, 4, 6, 2e-4),
            Hotel => (5_000, 0.0, 24.0, 1, 4, 5e-5),
            BuildingSite => (3_000, 6.0, 19.0, 1, 10, 2e-3),
            TrafficCheckpoint => (0, 0.0, 24.0, 2, 6, 4e-5),
            Office => (300, 7.0, 21.0, 2, 12, 4e-3),
            // Night shifts.
            Factory => (600, 0.0, 24.0, 2, 12, 4e-3),
            School => (1_000, 6.5, 18.0, 3, 15, 6.3e-3),
            Bank => (3_000, 9.0, 17.0, 1, 6, 2e-4),
            Restaurant => (400, 10.0, 22.0, 1, 10, 8e-3),
            Mall => (5_000, 9.0, 22.0, 4, 12, 1.7e-3),
            Venue => (20_000, 9.0, 22.0, 6, 12, 3e-4),
            Community => (2_000, 0.0, 24.0, 1, 10, 7.5e-3),
        };
    CheckpointProfile {
        kind,
        residents_per,
        open_minute: (open_h * 60.0) as u16,
        close_minute: (close_h * 60.0) as u16,
        lanes,
        scans_per_lane_minute: rate,
        peak_share,
    }
}

impl CheckpointProfile {
    /// Lanes for a checkpoint serving `residents`: enough for its busiest
    /// minute, never fewer than the kind's minimum.
    pub fn lanes_for(&self, residents: u64) -> u16 {
        let peak = residents as f64 * self.peak_share;
        let needed = (peak / self.scans_per_lane_minute as f64).ceil();
        (needed.min(u16::MAX as f64) as u16).max(self.lanes as u16)
    }
}

#[derive(Clone, Copy, Debug)]
pub struct CheckpointSite {
    pub county: u32,
    pub kind: CheckpointKind,
    pub open_minute: u16,
    pub close_minute: u16,
    pub lanes: u16,
    pub scans_per_lane_minute: u16,
}

pub struct Geography {
    pub provinces: Vec<ProvinceId>,
    pub cities: Vec<City>,
    pub counties: Vec<County>,
    /// Per province index: global county range, or empty if not simulated.
    pub province_counties: Vec<std::ops::Range<u32>>,
    pub checkpoints: Vec<CheckpointSite>,
    /// Per county: for each checkpoint kind, the global checkpoint range.
    pub county_checkpoints: Vec<[std::ops::Range<u32>; 15]>,
}

impl Geography {
    pub fn build(
        provinces: &[ProvinceId],
        scale: f64,
        initial_risk: &[(ProvinceId, u16, RiskLevel)],
    ) -> Geography {
        let mut cities = Vec::new();
        let mut counties = Vec::new();
        let mut province_counties = vec![0..0; 31];
        for &p in provinces {
            let names = CITIES[p.index()];
            let population = (p.info().population_millions * 1e6 * scale)
                .round()
                .max(1.0) as u64;
            let first_county = counties.len() as u32;
            let mut local = 0u16;
            for (ci, &name) in names.iter().enumerate() {
                let capital = ci == 0;
                let county_count: u16 = match (names.len(), capital) {
                    (1, _) => MAX_COUNTIES_PER_PROVINCE,
                    (_, true) => 4,
                    _ => 2,
                };
                let city_index = cities.len() as u32;
                let start = counties.len() as u32;
                for k in 0..county_count {
                    let risk = initial_risk
                        .iter()
                        .find(|(rp, rc, _)| *rp == p && *rc == local)
                        .map_or(RiskLevel::Low, |r| r.2);
                    counties.push(County {
                        province: p,
                        local,
                        city: city_index,
                        name: format!("{name}-{}", k + 1),
                        population: 0,
                        initial_risk: risk,
                    });
                    local += 1;
                }
                cities.push(City {
                    province: p,
                    name,
                    capital,
                    counties: start..counties.len() as u32,
                });
            }
            province_counties[p.index()] = first_county..counties.len() as u32;
            // Distribute the population exactly: shares, then the remainder
            // to the first counties, so totals match the census scaling.
            let range = province_counties[p.index()].clone();
            let mut assigned = 0u64;
            let shares: Vec<f64> = range
                .clone()
                .map(|c| {
                    let county = &counties[c as usize];
                    let city = &cities[county.city as usize];
                    let n_in_city = city.counties.len() as f64;
                    city_share(names.len(), city.capital) / n_in_city
                })
                .collect();
            for (c, share) in range.clone().zip(&shares) {
                let n = (population as f64 * share).floor() as u64;
                counties[c as usize].population = n as u32;
                assigned += n;
            }
            let mut c = range.start;
            while assigned < population {
                counties[c as usize].population += 1;
                assigned += 1;
                c = if c + 1 == range.end {
                    range.start
                } else {
                    c + 1
                };
            }
        }

        let mut checkpoints = Vec::new();
        let mut county_checkpoints = Vec::with_capacity(counties.len());
        let served = |range: std::ops::Range<u32>| -> u64 {
            range.map(|c| counties[c as usize].population as u64).sum()
        };
        for (ci, county) in counties.iter().enumerate() {
            let city = &cities[county.city as usize];
            let first_in_city = city.counties.start == ci as u32;
            let ranges: [std::ops::Range<u32>; 15] = std::array::from_fn(|k| {
                let kind = CHECKPOINT_KINDS[k];
                let prof = profile(kind);
                let count = match kind {
                    CheckpointKind::Airport => u32::from(first_in_city && city.capital),
                    CheckpointKind::TrainStation | CheckpointKind::BusStation => {
                        u32::from(first_in_city)
                    }
                    CheckpointKind::TrafficCheckpoint => 1,
                    _ => (county.population / prof.residents_per).max(1),
                };
                // Residents each checkpoint of the kind serves.
                let residents = match kind {
                    CheckpointKind::Airport => {
                        served(province_counties[city.province.index()].clone())
                    }
                    CheckpointKind::TrainStation | CheckpointKind::BusStation => {
                        served(city.counties.clone())
                    }
                    _ => county.population as u64 / count.max(1) as u64,
                };
                let start = checkpoints.len() as u32;
                for _ in 0..count {
                    checkpoints.push(CheckpointSite {
                        county: ci as u32,
                        kind,
                        open_minute: prof.open_minute,
                        close_minute: prof.close_minute,
                        lanes: prof.lanes_for(residents),
                        scans_per_lane_minute: prof.scans_per_lane_minute,
                    });
                }
                start..checkpoints.len() as u32
            });
            county_checkpoints.push(ranges);
        }

        Geography {
            provinces: provinces.to_vec(),
            cities,
            counties,
            province_counties,
            checkpoints,
            county_checkpoints,
        }
    }

    /// Global county index of a province's county.
    pub fn county_index(&self, r: CountyRef) -> Option<u32> {
        let range = self.province_counties.get(r.province.index())?;
        let i = range.start + r.county as u32;
        (i < range.end).then_some(i)
    }

    /// The checkpoint of `kind` that serves transport for a county's city.
    pub fn city_hub(&self, county: u32, kind: CheckpointKind) -> Option<u32> {
        let city = &self.cities[self.counties[county as usize].city as usize];
        let province = city.province;
        // Airports are in the capital; other cities fly from there.
        let counties = if kind == CheckpointKind::Airport {
            self.province_counties[province.index()].clone()
        } else {
            city.counties.clone()
        };
        counties.into_iter().find_map(|c| {
            let r = &self.county_checkpoints[c as usize][kind as usize];
            (!r.is_empty()).then_some(r.start)
        })
    }

    pub fn population(&self) -> u64 {
        self.people_in(0..self.counties.len() as u32)
    }

    /// The people of the given counties.
    pub fn people_in(&self, counties: impl IntoIterator<Item = u32>) -> u64 {
        counties
            .into_iter()
            .map(|c| self.counties[c as usize].population as u64)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_geography_matches_census_scaling() {
        let g = Geography::build(&ProvinceId::all().collect::<Vec<_>>(), 0.001, &[]);
        assert_eq!(g.provinces.len(), 31);
        let gd = ProvinceId::parse("guangdong").unwrap();
        let gd_pop: u64 = g.province_counties[gd.index()]
            .clone()
            .map(|c| g.counties[c as usize].population as u64)
            .sum();
        assert_eq!(gd_pop, 126_010);
        assert!((g.population() as f64 - 1_409_770.0).abs() < 1_000.0);
        // Every county has every local checkpoint kind; every city a station.
        for (c, ranges) in g.county_checkpoints.iter().enumerate() {
            assert!(
                !ranges[CheckpointKind::Community as usize].is_empty(),
                "county {c}"
            );
            assert!(g.city_hub(c as u32, CheckpointKind::TrainStation).is_some());
            assert!(g.city_hub(c as u32, CheckpointKind::Airport).is_some());
        }
    }

    /// Every checkpoint has lanes for the busiest minute of the people it
    /// serves: a community gate for 2,000 residents sees ~15 of them come
    /// home in the evening's busiest minute, more than one lane scans.
    #[test]
    fn lanes_follow_the_demand_a_checkpoint_stands_for() {
        let g = Geography::build(&ProvinceId::all().collect::<Vec<_>>(), 0.01, &[]);
        let gate = profile(CheckpointKind::Community);
        assert!(gate.lanes_for(2_000) >= 2);
        for site in &g.checkpoints {
            let county = &g.counties[site.county as usize];
            let prof = profile(site.kind);
            let per_minute = site.lanes as f64 * site.scans_per_lane_minute as f64;
            let residents = match site.kind {
                CheckpointKind::Airport => g.province_counties[county.province.index()]
                    .clone()
                    .map(|c| g.counties[c as usize].population as f64)
                    .sum(),
                CheckpointKind::TrainStation | CheckpointKind::BusStation => g.cities
                    [county.city as usize]
                    .counties
                    .clone()
                    .map(|c| g.counties[c as usize].population as f64)
                    .sum(),
                CheckpointKind::TrafficCheckpoint => county.population as f64,
                kind => {
                    let n = g.county_checkpoints[site.county as usize][kind as usize].len();
                    (county.population as u64 / n as u64) as f64
                }
            };
            assert!(
                per_minute >= residents * prof.peak_share,
                "{:?} in {}: {per_minute}/min for {residents} residents",
                site.kind,
                county.name
            );
        }
    }
}
