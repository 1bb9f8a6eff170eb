//! The 31 provincial-level regions of mainland China.
//!
//! Order is by administrative division code, which is also the order every
//! report uses, so `ProvinceId` is the index into `PROVINCES`.

use bitcode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Deserialized only within `0..PROVINCE_COUNT`: every platform table is
/// indexed by it, so a number from outside is checked where it is read.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Encode, Decode)]
#[serde(transparent)]
pub struct ProvinceId(pub u8);

impl<'de> Deserialize<'de> for ProvinceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ProvinceId, D::Error> {
        let i = u8::deserialize(d)?;
        if (i as usize) < PROVINCE_COUNT {
            Ok(ProvinceId(i))
        } else {
            Err(serde::de::Error::custom(format!(
                "province index {i} is out of range 0..={}",
                PROVINCE_COUNT - 1
            )))
        }
    }
}

pub struct Province {
    /// Lower-case ASCII key used in scenario and rule files.
    pub key: &'static str,
    pub name_zh: &'static str,
    /// First two digits of the administrative division code (and of ID numbers).
    pub admin_code: u8,
    /// 7th census (2020), millions.
    pub population_millions: f64,
}

macro_rules! provinces {
    ($( ($key:literal, $zh:literal, $code:literal, $pop:literal) ),* $(,)?) => {
        pub const PROVINCES: &[Province] = &[
            $( Province { key: $key, name_zh: $zh, admin_code: $code, population_millions: $pop } ),*
        ];
    };
}

provinces! {
    ("beijing", "北京", 11, 21.89),
    ("tianjin", "天津", 12, 13.87),
    ("hebei", "河北", 13, 74.61),
    ("shanxi", "山西", 14, 34.92),
    ("inner-mongolia", "内蒙古", 15, 24.05),
    ("liaoning", "辽宁", 21, 42.59),
    ("jilin", "吉林", 22, 24.07),
    ("heilongjiang", "黑龙江", 23, 31.85),
    ("shanghai", "上海", 31, 24.87),
    ("jiangsu", "江苏", 32, 84.75),
    ("zhejiang", "浙江", 33, 64.57),
    ("anhui", "安徽", 34, 61.03),
    ("fujian", "福建", 35, 41.54),
    ("jiangxi", "江西", 36, 45.19),
    ("shandong", "山东", 37, 101.53),
    ("henan", "河南", 41, 99.37),
    ("hubei", "湖北", 42, 57.75),
    ("hunan", "湖南", 43, 66.44),
    ("guangdong", "广东", 44, 126.01),
    ("guangxi", "广西", 45, 50.13),
    ("hainan", "海南", 46, 10.08),
    ("chongqing", "重庆", 50, 32.05),
    ("sichuan", "四川", 51, 83.67),
    ("guizhou", "贵州", 52, 38.56),
    ("yunnan", "云南", 53, 47.21),
    ("tibet", "西藏", 54, 3.65),
    ("shaanxi", "陕西", 61, 39.53),
    ("gansu", "甘肃", 62, 25.02),
    ("qinghai", "青海", 63, 5.92),
    ("ningxia", "宁夏", 64, 7.20),
    ("xinjiang", "新疆", 65, 25.85),
}

pub const PROVINCE_COUNT: usize = 31;

impl ProvinceId {
    pub fn all() -> impl Iterator<Item = ProvinceId> {
        (0..PROVINCE_COUNT as u8).map(ProvinceId)
    }
    pub fn info(self) -> &'static Province {
        &PROVINCES[self.0 as usize]
    }
    pub fn key(self) -> &'static str {
        self.info().key
    }
    pub fn index(self) -> usize {
        self.0 as usize
    }
    /// Looks a province up by its key (`guangdong`), Chinese name (`广东`) or
    /// admin code (`44`).
    pub fn parse(s: &str) -> Option<ProvinceId> {
        let s = s.trim();
        PROVINCES
            .iter()
            .position(|p| p.key == s || p.name_zh == s || p.admin_code.to_string() == s)
            .map(|i| ProvinceId(i as u8))
    }
    pub fn from_admin_code(code: u8) -> Option<ProvinceId> {
        PROVINCES
            .iter()
            .position(|p| p.admin_code == code)
            .map(|i| ProvinceId(i as u8))
    }
}

impl fmt::Display for ProvinceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Names the valid keys, for error messages about an unknown province.
pub fn province_keys() -> String {
    PROVINCES
        .iter()
        .map(|p| p.key)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_past_the_last_province_is_refused_when_read() {
        assert_eq!(
            serde_json::from_str::<ProvinceId>("30").unwrap(),
            ProvinceId(30)
        );
        let e = serde_json::from_str::<ProvinceId>("31").unwrap_err();
        assert!(e.to_string().contains("out of range 0..=30"), "{e}");
        assert!(serde_json::from_str::<ProvinceId>("255").is_err());
    }

    #[test]
    fn census_total_matches_domain_figure() {
        let total: f64 = PROVINCES.iter().map(|p| p.population_millions).sum();
        assert_eq!(PROVINCES.len(), PROVINCE_COUNT);
        // The census's 1,411.78 M includes ~2 M active-duty military that no
        // province counts; the 31 provincial figures sum to 1,409.77 M.
        assert!((total - 1409.77).abs() < 0.01, "total {total}");
    }

    #[test]
    fn parse_by_key_name_and_code() {
        assert_eq!(ProvinceId::parse("guangdong").unwrap().key(), "guangdong");
        assert_eq!(ProvinceId::parse("广东").unwrap().key(), "guangdong");
        assert_eq!(ProvinceId::parse("44").unwrap().key(), "guangdong");
        assert!(ProvinceId::parse("atlantis").is_none());
    }
}
