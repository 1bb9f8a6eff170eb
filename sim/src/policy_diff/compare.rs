//! Comparing two runs' per-citizen code histories and summaries: who
//! changed, which transitions moved, person-days and refused scans.

use super::observe::CodeChange;
use hcsim_platform::color::ALL_COLORS;
use hcsim_platform::time::MINUTES_PER_DAY;
use hcsim_platform::{Color, Minute};
use hcsim_reports::policy_diff::{
    ColorDays, ColorsAt, ProvinceRefusals, Shift, TransitionChange, AB,
};
use hcsim_reports::summary::Summary;
use std::collections::{BTreeMap, BTreeSet};

/// A citizen's observed codes, in time order.
pub type Codes = Vec<(Minute, Color)>;

/// Every observed citizen's codes, by citizen.
pub fn by_citizen(changes: &[CodeChange]) -> BTreeMap<u32, Codes> {
    let mut out: BTreeMap<u32, Codes> = BTreeMap::new();
    for c in changes {
        out.entry(c.citizen).or_default().push((c.at, c.color));
    }
    out
}

/// How one citizen's history differs, for grouping and for the examples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenChange {
    pub citizen: u32,
    /// The first difference, as a group key ("yellow→green 2 days earlier").
    pub kind: String,
    /// The same with times, for a reader.
    pub detail: String,
}

#[derive(Default)]
struct Tally {
    a: u64,
    b: u64,
    unchanged: u64,
    shifted: BTreeMap<i64, u64>,
    only_a: u64,
    only_b: u64,
}

pub struct Comparison {
    pub changed: Vec<CitizenChange>,
    pub transitions: Vec<TransitionChange>,
}

fn transitions_of(codes: &Codes) -> BTreeMap<(usize, usize), Vec<Minute>> {
    let mut out: BTreeMap<(usize, usize), Vec<Minute>> = BTreeMap::new();
    for w in codes.windows(2) {
        out.entry((w[0].1.index(), w[1].1.index()))
            .or_default()
            .push(w[1].0);
    }
    out
}

fn days_between(a: Minute, b: Minute) -> i64 {
    let minutes = b.0 as i64 - a.0 as i64;
    (minutes as f64 / MINUTES_PER_DAY as f64).round() as i64
}

fn name(k: (usize, usize)) -> String {
    format!("{}→{}", ALL_COLORS[k.0], ALL_COLORS[k.1])
}

/// Compares every citizen seen in either run. The k-th occurrence of a
/// transition (say yellow→green) under A is matched with the k-th under B.
pub fn compare(a: &BTreeMap<u32, Codes>, b: &BTreeMap<u32, Codes>) -> Comparison {
    let empty = Codes::new();
    let citizens: BTreeSet<u32> = a.keys().chain(b.keys()).copied().collect();
    let mut tallies: BTreeMap<(usize, usize), Tally> = BTreeMap::new();
    let mut changed = Vec::new();
    for id in citizens {
        let ca = a.get(&id).unwrap_or(&empty);
        let cb = b.get(&id).unwrap_or(&empty);
        let (ta, tb) = (transitions_of(ca), transitions_of(cb));
        let mut first: Option<(Minute, String, String)> = None;
        let mut note = |at: Minute, kind: String, detail: String| {
            if first.as_ref().is_none_or(|(t, _, _)| at < *t) {
                first = Some((at, kind, detail));
            }
        };
        let keys: BTreeSet<(usize, usize)> = ta.keys().chain(tb.keys()).copied().collect();
        for k in keys {
            let none = Vec::new();
            let (xa, xb) = (ta.get(&k).unwrap_or(&none), tb.get(&k).unwrap_or(&none));
            let t = tallies.entry(k).or_default();
            t.a += xa.len() as u64;
            t.b += xb.len() as u64;
            for (ma, mb) in xa.iter().zip(xb) {
                if ma == mb {
                    t.unchanged += 1;
                } else {
                    let days = days_between(*ma, *mb);
                    *t.shifted.entry(days).or_default() += 1;
                    let when = hcsim_reports::policy_diff::shift_text(days);
                    note(
                        (*ma).min(*mb),
                        format!("{} {when} under B", name(k)),
                        format!("{} {when} under B (A: {ma}, B: {mb})", name(k)),
                    );
                }
            }
            for m in xa.iter().skip(xb.len()) {
                t.only_a += 1;
                note(
                    *m,
                    format!("{} only under A", name(k)),
                    format!("{} at {m} under A, not under B", name(k)),
                );
            }
            for m in xb.iter().skip(xa.len()) {
                t.only_b += 1;
                note(
                    *m,
                    format!("{} only under B", name(k)),
                    format!("{} at {m} under B, not under A", name(k)),
                );
            }
        }
        if ca != cb {
            let (_, kind, detail) = first.unwrap_or_else(|| {
                let show = |c: &Codes| c.first().map_or("none".to_string(), |x| x.1.to_string());
                let at = ca.first().or(cb.first()).map_or(Minute::ZERO, |x| x.0);
                let kind = format!("first code {} under A, {} under B", show(ca), show(cb));
                (at, kind.clone(), kind)
            });
            changed.push(CitizenChange {
                citizen: id,
                kind,
                detail,
            });
        }
    }
    let transitions = tallies
        .into_iter()
        .map(|(k, t)| TransitionChange {
            from: ALL_COLORS[k.0].to_string(),
            to: ALL_COLORS[k.1].to_string(),
            a: t.a,
            b: t.b,
            unchanged: t.unchanged,
            shifted: t
                .shifted
                .into_iter()
                .map(|(days, people)| Shift { days, people })
                .collect(),
            only_a: t.only_a,
            only_b: t.only_b,
        })
        .collect();
    Comparison {
        changed,
        transitions,
    }
}

/// Up to `n` changed citizens: one from each kind of change in turn, the
/// most common kind first, the lowest id within a kind.
pub fn pick_examples(changed: &[CitizenChange], n: usize) -> Vec<u32> {
    let mut groups: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for c in changed {
        groups.entry(&c.kind).or_default().push(c.citizen);
    }
    let mut groups: Vec<Vec<u32>> = groups.into_values().collect();
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    let mut picked = Vec::new();
    let mut round = 0;
    while picked.len() < n && groups.iter().any(|g| g.len() > round) {
        for g in &groups {
            if let Some(&id) = g.get(round) {
                if picked.len() < n {
                    picked.push(id);
                }
            }
        }
        round += 1;
    }
    picked
}

/// The census of `provinces` summed, at each point of the timeline.
fn census_at(
    point: &hcsim_reports::summary::ColorPoint,
    provinces: &[String],
) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for p in provinces {
        for (color, n) in point.provinces.get(p).into_iter().flatten() {
            *out.entry(color.clone()).or_default() += n;
        }
    }
    out
}

/// Census over time in `provinces`, A beside B.
pub fn colors_over_time(a: &Summary, b: &Summary, provinces: &[String]) -> Vec<ColorsAt> {
    a.timeline
        .colors
        .iter()
        .zip(&b.timeline.colors)
        .map(|(pa, pb)| ColorsAt {
            at: pa.at.clone(),
            a: census_at(pa, provinces),
            b: census_at(pb, provinces),
        })
        .collect()
}

/// Person-days per color: each census point stands for the time since the
/// previous point (the first, since the start).
pub fn person_days(summary: &Summary, provinces: &[String]) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let mut previous = Minute::parse(&summary.scenario.start).ok();
    for point in &summary.timeline.colors {
        let at = Minute::parse(&point.at).ok();
        let minutes = match (previous, at) {
            (Some(p), Some(t)) => t.since(p),
            _ => summary.timeline.interval_minutes,
        };
        previous = at;
        for (color, n) in census_at(point, provinces) {
            *out.entry(color).or_default() += n as f64 * minutes as f64 / MINUTES_PER_DAY as f64;
        }
    }
    out
}

pub fn person_days_ab(a: &Summary, b: &Summary, provinces: &[String]) -> Vec<ColorDays> {
    let (da, db) = (person_days(a, provinces), person_days(b, provinces));
    ALL_COLORS
        .iter()
        .map(|c| c.as_str())
        .filter(|c| da.contains_key(*c) || db.contains_key(*c))
        .map(|c| ColorDays {
            color: c.to_string(),
            a: round1(da.get(c).copied().unwrap_or(0.0)),
            b: round1(db.get(c).copied().unwrap_or(0.0)),
        })
        .collect()
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn refused(s: &Summary) -> BTreeMap<&str, u64> {
    s.provinces
        .iter()
        .map(|p| {
            (
                p.province.as_str(),
                p.scans.by_decision.get("refuse").copied().unwrap_or(0),
            )
        })
        .collect()
}

/// Refused scans per scanning province where A and B differ, and in all.
pub fn refusals(a: &Summary, b: &Summary) -> (Vec<ProvinceRefusals>, AB) {
    let (ra, rb) = (refused(a), refused(b));
    let keys: BTreeSet<&str> = ra.keys().chain(rb.keys()).copied().collect();
    let rows = keys
        .into_iter()
        .map(|k| ProvinceRefusals {
            province: k.to_string(),
            a: ra.get(k).copied().unwrap_or(0),
            b: rb.get(k).copied().unwrap_or(0),
        })
        .filter(|r| r.a != r.b)
        .collect();
    let total = |s: &Summary| s.scans.by_decision.get("refuse").copied().unwrap_or(0);
    (
        rows,
        AB {
            a: total(a),
            b: total(b),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(list: &[(u32, Color)]) -> Codes {
        list.iter().map(|(m, c)| (Minute(*m), *c)).collect()
    }

    #[test]
    fn matches_transitions_and_measures_shifts() {
        use Color::*;
        let day = MINUTES_PER_DAY;
        let a = BTreeMap::from([
            (1, codes(&[(0, Green), (10, Yellow), (10 + 7 * day, Green)])),
            (2, codes(&[(0, Green), (20, Yellow), (20 + 7 * day, Green)])),
            (3, codes(&[(0, Green)])),
            (4, codes(&[(0, Green), (30, Yellow)])),
        ]);
        let b = BTreeMap::from([
            (1, codes(&[(0, Green), (10, Yellow), (10 + 5 * day, Green)])),
            (2, codes(&[(0, Green), (20, Yellow), (20 + 7 * day, Green)])),
            (3, codes(&[(0, Green)])),
            (4, codes(&[(0, Green), (30, Yellow), (30 + 5 * day, Green)])),
        ]);
        let c = compare(&a, &b);
        assert_eq!(
            c.changed.iter().map(|x| x.citizen).collect::<Vec<_>>(),
            [1, 4]
        );
        assert_eq!(c.changed[0].kind, "yellow→green 2 days earlier under B");
        assert_eq!(c.changed[1].kind, "yellow→green only under B");
        let yg = c
            .transitions
            .iter()
            .find(|t| t.from == "yellow" && t.to == "green")
            .unwrap();
        assert_eq!(
            (yg.a, yg.b, yg.unchanged, yg.only_a, yg.only_b),
            (2, 3, 1, 0, 1)
        );
        assert_eq!(
            yg.shifted,
            [Shift {
                days: -2,
                people: 1
            }]
        );
        let gy = c.transitions.iter().find(|t| t.from == "green").unwrap();
        assert_eq!((gy.a, gy.b, gy.unchanged), (3, 3, 3));
        assert_eq!(pick_examples(&c.changed, 5), [1, 4]);
        assert_eq!(pick_examples(&c.changed, 1), [1]);
    }
}
