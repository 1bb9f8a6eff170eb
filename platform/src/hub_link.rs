//! How each province reaches the national hub: up, cut off, or slow.
//!
//! The link is checked where the hub answers (`HubRound`): a province that
//! cannot reach the hub, or whose answer would come after its hub timeout,
//! gets `HubAnswer::Unreachable`, which the province turns into "busy" —
//! never a green it cannot justify. A province that is cut off cannot
//! publish either, so the hub's copy of its codes may be stale; the hub
//! answers `Unreachable` about them too rather than vouch for an old status.

use crate::api::Issuer;
use crate::hub::{HubAnswer, HubQuery};
use crate::region::{ProvinceId, PROVINCE_COUNT};
use crate::time::Minute;

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum HubLink {
    #[default]
    Up,
    Partitioned,
    /// Answers take `added_ms` longer on average (half to one and a half
    /// times, varying per query); the province gives up after `timeout_ms`.
    Slow {
        added_ms: u32,
        timeout_ms: u32,
    },
}

/// The link of every province for one hub round.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HubLinks {
    /// Indexed by `ProvinceId`; empty when every link is up.
    links: Vec<HubLink>,
}

impl HubLinks {
    pub fn all_up() -> HubLinks {
        HubLinks::default()
    }

    pub fn set(&mut self, p: ProvinceId, link: HubLink) {
        if self.links.is_empty() {
            self.links = vec![HubLink::Up; PROVINCE_COUNT];
        }
        self.links[p.index()] = link;
    }

    pub fn get(&self, p: ProvinceId) -> HubLink {
        self.links.get(p.index()).copied().unwrap_or_default()
    }

    pub fn is_up(&self) -> bool {
        self.links.iter().all(|l| *l == HubLink::Up)
    }

    /// Whether the `k`-th query of the round at `now` gets no answer in
    /// time: the asking province is cut off, or its link is too slow.
    pub fn cut(&self, now: Minute, k: usize, q: &HubQuery) -> bool {
        match self.get(q.from) {
            HubLink::Up => false,
            HubLink::Partitioned => true,
            HubLink::Slow {
                added_ms,
                timeout_ms,
            } => slow_latency_ms(added_ms, now, k, q) >= timeout_ms as u64,
        }
    }

    /// The hub's `answer`, unless it is about a code of a province that is
    /// cut off (whose status the hub cannot know to be current).
    pub fn vouch(&self, q: &HubQuery, answer: HubAnswer) -> HubAnswer {
        let issuer = match (&answer, q.lookup) {
            (HubAnswer::Status { code, .. }, _) => code.issuer,
            (_, lookup) => match lookup.code() {
                Some(code) => code.issuer,
                None => return answer,
            },
        };
        match issuer {
            Issuer::Province(p) if self.get(p) == HubLink::Partitioned => HubAnswer::Unreachable,
            _ => answer,
        }
    }
}

/// The added latency of one query over a slow link: a fixed function of the
/// query, so runs repeat exactly.
fn slow_latency_ms(added_ms: u32, now: Minute, k: usize, q: &HubQuery) -> u64 {
    let mut h = (now.0 as u64) << 32 ^ (k as u64) ^ (q.from.0 as u64) << 24;
    // splitmix64 finaliser
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    let u = (h >> 11) as f64 / (1u64 << 53) as f64;
    (added_ms as f64 * (0.5 + u)).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::HubLookup;

    impl HubLinks {
        fn deliver(&self, now: Minute, k: usize, q: &HubQuery, answer: HubAnswer) -> HubAnswer {
            if self.cut(now, k, q) {
                HubAnswer::Unreachable
            } else {
                self.vouch(q, answer)
            }
        }
    }
    use crate::color::Color;
    use crate::identity::{DocKind, DocNumber, Identity, NameCode};
    use crate::token::CodeKeys;

    fn status(issuer: ProvinceId) -> HubAnswer {
        HubAnswer::Status {
            code: CodeKeys::default().sign(Issuer::Province(issuer), 1),
            holder: Identity {
                doc: DocKind::IdCard,
                number: DocNumber(11_010_119_800_101_001),
                name: NameCode::new(1, 2, None),
                age: 30,
            }
            .masked(),
            color: Color::Green,
            explanation: None,
            nat: None,
        }
    }

    fn query(from: ProvinceId) -> HubQuery {
        HubQuery {
            from,
            lookup: HubLookup::Document(DocNumber(1)),
        }
    }

    #[test]
    fn a_partition_cuts_both_the_province_and_what_it_issued() {
        let (a, b, c) = (ProvinceId(0), ProvinceId(1), ProvinceId(2));
        let mut links = HubLinks::all_up();
        assert_eq!(links.deliver(Minute(1), 0, &query(a), status(b)), status(b));
        links.set(a, HubLink::Partitioned);
        assert!(!links.is_up());
        let t = Minute(1);
        assert_eq!(
            links.deliver(t, 0, &query(a), status(b)),
            HubAnswer::Unreachable
        );
        assert_eq!(
            links.deliver(t, 0, &query(c), status(a)),
            HubAnswer::Unreachable
        );
        assert_eq!(links.deliver(t, 0, &query(c), status(b)), status(b));
        assert_eq!(
            links.deliver(t, 0, &query(c), HubAnswer::Unknown),
            HubAnswer::Unknown
        );
    }

    #[test]
    fn a_slow_link_times_out_the_queries_that_take_too_long() {
        let p = ProvinceId(5);
        let mut links = HubLinks::all_up();
        let count = |links: &HubLinks| {
            (0..1000)
                .filter(|k| {
                    links.deliver(Minute(7), *k, &query(p), status(ProvinceId(9)))
                        == HubAnswer::Unreachable
                })
                .count()
        };
        // Latency is uniform in 0.5..1.5 × 1000 ms: a 1200 ms timeout cuts ~30 %.
        links.set(
            p,
            HubLink::Slow {
                added_ms: 1000,
                timeout_ms: 1200,
            },
        );
        let cut = count(&links);
        assert!((200..400).contains(&cut), "{cut}");
        links.set(
            p,
            HubLink::Slow {
                added_ms: 1000,
                timeout_ms: 2000,
            },
        );
        assert_eq!(count(&links), 0);
    }
}
