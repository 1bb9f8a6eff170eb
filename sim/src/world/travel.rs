//! Where interprovincial trips go: a gravity model over the provincial
//! capitals (destination population over squared distance), then a county
//! of the destination by population. Also the distances flights use.

use super::geography::Geography;
use hcsim_platform::{ProvinceId, PROVINCE_COUNT};

/// Provincial capitals (latitude, longitude), in `ProvinceId` order.
const CAPITALS: [(f64, f64); PROVINCE_COUNT] = [
    (39.9, 116.4), // beijing
    (39.1, 117.2), // tianjin
    (38.0, 114.5), // hebei: Shijiazhuang
    (37.9, 112.5), // shanxi: Taiyuan
    (40.8, 111.7), // inner-mongolia: Hohhot
    (41.8, 123.4), // liaoning: Shenyang
    (43.9, 125.3), // jilin: Changchun
    (45.8, 126.6), // heilongjiang: Harbin
    (31.2, 121.5), // shanghai
    (32.1, 118.8), // jiangsu: Nanjing
    (30.3, 120.2), // zhejiang: Hangzhou
    (31.8, 117.3), // anhui: Hefei
    (26.1, 119.3), // fujian: Fuzhou
    (28.7, 115.9), // jiangxi: Nanchang
    (36.7, 117.0), // shandong: Jinan
    (34.7, 113.6), // henan: Zhengzhou
    (30.6, 114.3), // hubei: Wuhan
    (28.2, 112.9), // hunan: Changsha
    (23.1, 113.3), // guangdong: Guangzhou
    (22.8, 108.3), // guangxi: Nanning
    (20.0, 110.3), // hainan: Haikou
    (29.6, 106.5), // chongqing
    (30.7, 104.1), // sichuan: Chengdu
    (26.6, 106.7), // guizhou: Guiyang
    (25.0, 102.7), // yunnan: Kunming
    (29.7, 91.1),  // tibet: Lhasa
    (34.3, 108.9), // shaanxi: Xi'an
    (36.1, 103.8), // gansu: Lanzhou
    (36.6, 101.8), // qinghai: Xining
    (38.5, 106.3), // ningxia: Yinchuan
    (43.8, 87.6),  // xinjiang: Urumqi
];

/// Great-circle distance between two capitals, km.
pub fn distance_km(a: ProvinceId, b: ProvinceId) -> f64 {
    let (la1, lo1) = CAPITALS[a.index()];
    let (la2, lo2) = CAPITALS[b.index()];
    let (p1, p2) = (la1.to_radians(), la2.to_radians());
    let dp = p2 - p1;
    let dl = (lo2 - lo1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

/// Below this, distance stops deterring travel (neighbouring capitals).
const MIN_KM: f64 = 150.0;

pub struct Travel {
    /// Per origin: cumulative integer weights over destination provinces
    /// (`ProvinceId` order); empty when the origin is not simulated.
    od: Vec<Vec<u64>>,
    /// Per province: cumulative county populations over its counties.
    counties: Vec<Vec<u64>>,
    first_county: Vec<u32>,
}

impl Travel {
    pub fn build(geo: &Geography, uniform: bool) -> Travel {
        let pop: Vec<u64> = (0..PROVINCE_COUNT)
            .map(|p| {
                geo.province_counties[p]
                    .clone()
                    .map(|c| geo.counties[c as usize].population as u64)
                    .sum()
            })
            .collect();
        let only_one = pop.iter().filter(|&&n| n > 0).count() == 1;
        let od = (0..PROVINCE_COUNT)
            .map(|o| {
                if pop[o] == 0 {
                    return Vec::new();
                }
                let mut acc = 0u64;
                (0..PROVINCE_COUNT)
                    .map(|d| {
                        let allowed = pop[d] > 0 && (d != o || only_one);
                        if allowed {
                            // Integer weights keep the draw portable.
                            acc += if uniform {
                                1_000_000
                            } else {
                                let km = distance_km(ProvinceId(o as u8), ProvinceId(d as u8))
                                    .max(MIN_KM);
                                (pop[d] as f64 * 1e9 / (km * km)).ceil() as u64
                            };
                        }
                        acc
                    })
                    .collect()
            })
            .collect();
        let counties = geo
            .province_counties
            .iter()
            .map(|r| {
                r.clone()
                    .scan(0u64, |acc, c| {
                        *acc += geo.counties[c as usize].population as u64;
                        Some(*acc)
                    })
                    .collect()
            })
            .collect();
        Travel {
            od,
            counties,
            first_county: geo.province_counties.iter().map(|r| r.start).collect(),
        }
    }

    /// A destination county for a trip from `home`, from a random `r`.
    pub fn pick(&self, home: ProvinceId, r: u64) -> Option<u32> {
        let od = &self.od[home.index()];
        let total = *od.last()?;
        if total == 0 {
            return None;
        }
        let dest = od.partition_point(|&cum| cum <= r % total);
        let cum = &self.counties[dest];
        let total = *cum.last()?;
        if total == 0 {
            return None;
        }
        let x = crate::rng::mix(r, 1, 0x4445_5354) % total; // "DEST"
        Some(self.first_county[dest] + cum.partition_point(|&c| c <= x) as u32)
    }

    /// Share of trips from `home` going to `dest`.
    pub fn share(&self, home: ProvinceId, dest: ProvinceId) -> f64 {
        let od = &self.od[home.index()];
        let Some(&total) = od.last() else { return 0.0 };
        let before = if dest.index() == 0 {
            0
        } else {
            od[dest.index() - 1]
        };
        (od[dest.index()] - before) as f64 / total.max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(k: &str) -> ProvinceId {
        ProvinceId::parse(k).unwrap()
    }

    #[test]
    fn gravity_prefers_near_and_populous_destinations() {
        let all: Vec<ProvinceId> = ProvinceId::all().collect();
        let geo = Geography::build(&all, 0.0002, &[]);
        let t = Travel::build(&geo, false);
        assert_eq!(t.share(p("beijing"), p("beijing")), 0.0);
        assert!(t.share(p("beijing"), p("hebei")) > t.share(p("beijing"), p("hainan")));
        assert!(t.share(p("guangdong"), p("guangxi")) > t.share(p("guangdong"), p("jilin")));
        let sum: f64 = all.iter().map(|&d| t.share(p("anhui"), d)).sum();
        assert!((sum - 1.0).abs() < 1e-9);
        let u = Travel::build(&geo, true);
        assert!((u.share(p("tibet"), p("hainan")) - 1.0 / 30.0).abs() < 1e-9);
        for r in 0..200u64 {
            let c = t.pick(p("anhui"), crate::rng::mix(7, r, 0)).unwrap();
            assert_ne!(geo.counties[c as usize].province, p("anhui"));
        }
    }
}
