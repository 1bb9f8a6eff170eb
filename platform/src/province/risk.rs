//! Each platform's copy of the county risk levels, as a history per county
//! so that a stay is judged by the level in force when it happened, even if
//! the risk broadcast and the telecom record arrive in either order.

use crate::api::{CountyRef, RiskLevel};
use crate::time::Minute;
use rustc_hash::FxHashMap;

#[derive(Default)]
pub(crate) struct RiskTable {
    /// Changes per county, sorted by time. Counties never mentioned are low.
    changes: FxHashMap<CountyRef, Vec<(Minute, RiskLevel)>>,
}

impl RiskTable {
    /// Records a change; an exact duplicate is ignored.
    pub fn set(&mut self, county: CountyRef, at: Minute, level: RiskLevel) {
        let v = self.changes.entry(county).or_default();
        let i = v.partition_point(|(t, _)| *t <= at);
        if i > 0 && v[i - 1] == (at, level) {
            return;
        }
        v.insert(i, (at, level));
    }

    pub fn level_at(&self, county: CountyRef, at: Minute) -> RiskLevel {
        self.changes.get(&county).map_or(RiskLevel::Low, |v| {
            let i = v.partition_point(|(t, _)| *t <= at);
            if i == 0 {
                RiskLevel::Low
            } else {
                v[i - 1].1
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::ProvinceId;

    #[test]
    fn judges_by_the_level_in_force_whatever_the_arrival_order() {
        let c = CountyRef {
            province: ProvinceId(16),
            county: 3,
        };
        let mut t = RiskTable::default();
        t.set(c, Minute(200), RiskLevel::Low);
        t.set(c, Minute(100), RiskLevel::High);
        t.set(c, Minute(100), RiskLevel::High);
        assert_eq!(t.level_at(c, Minute(50)), RiskLevel::Low);
        assert_eq!(t.level_at(c, Minute(100)), RiskLevel::High);
        assert_eq!(t.level_at(c, Minute(199)), RiskLevel::High);
        assert_eq!(t.level_at(c, Minute(200)), RiskLevel::Low);
        assert_eq!(t.changes[&c].len(), 2);
    }
}
