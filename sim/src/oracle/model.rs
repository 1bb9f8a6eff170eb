//! The reference model: what a citizen's code must be at a moment,
//! recomputed from scratch from their whole history every time it is asked.
//!
//! It reads the rule set's *data* (colors, triggers, releases, checkpoint
//! table) through the parsed `RuleSet`, and calls nothing of the platform's
//! evaluator. Reusing the parser is deliberate: it is validated by its own
//! tests and by the policy cases, and a second TOML reader would only add a
//! second place for a parsing bug while checking nothing about evaluation.
//! The evaluation here follows the semantics written in
//! `scenarios/rules/README.md` and the platform's documented feed contract
//! (duplicates ignored, late facts count at their time, future-dated facts
//! count from receipt), phrased differently from the platform: no compact
//! state and no incremental updates, but a fold over the sorted history in
//! which every release condition is a predicate over that history, and
//! check-in streaks are recounted from the facts each time.

use hcsim_platform::api::{CaseStatus, CountyRef, QuarantineKind, RiskLevel};
use hcsim_platform::rules::{RuleSet, TriggerOn};
use hcsim_platform::{Color, Decision, Minute};
use std::collections::BTreeMap;
use std::sync::Arc;

const DAY: u32 = 1440;

/// One rule of a scheme, as the oracle reads it.
#[derive(Clone, Debug)]
struct Rule {
    on: TriggerOn,
    color: Color,
    /// Colors the person must hold for the rule to fire; empty = any.
    while_in: Vec<Color>,
    reason: Arc<str>,
}

/// A way back to green.
#[derive(Clone, Debug)]
struct Way {
    min_days: u32,
    checkins: u32,
    quarantine_over: bool,
    negative_nat: bool,
    verified: bool,
}

/// A scheme as the oracle sees it: data only.
#[derive(Clone, Debug)]
pub struct Scheme {
    pub name: String,
    /// Lenient → strict.
    colors: Vec<Color>,
    rules: Vec<Rule>,
    ways: [Option<Way>; 5],
    decisions: [Option<Decision>; 5],
    explained: [bool; 5],
    fever: u16,
    pub offline_valid_hours: u32,
    pub face_required: bool,
    pub minor_age: u8,
}

impl Scheme {
    pub fn read(r: &RuleSet) -> Scheme {
        let colors = r.colors().to_vec();
        let mut decisions = [None; 5];
        let mut ways: [Option<Way>; 5] = Default::default();
        let mut explained = [false; 5];
        for &c in &colors {
            // Only colors of the scheme: the table lookup, not the
            // platform's treatment of foreign colors.
            decisions[c.index()] = Some(r.decision(c));
            explained[c.index()] = r.explains(c);
            ways[c.index()] = r.release(c).map(|w| Way {
                min_days: w.min_days as u32,
                checkins: w.checkins as u32,
                quarantine_over: w.quarantine_over,
                negative_nat: w.negative_nat,
                verified: w.verified,
            });
        }
        let rules = r
            .triggers()
            .iter()
            .map(|t| Rule {
                on: t.on.clone(),
                color: t.color,
                while_in: t.when.iter().collect(),
                reason: t.reason.clone(),
            })
            .collect();
        Scheme {
            name: r.scheme().to_string(),
            colors,
            rules,
            ways,
            decisions,
            explained,
            fever: r.fever().0,
            offline_valid_hours: r.offline_valid_hours(),
            face_required: r.require_face_verification(),
            minor_age: r.minor_age(),
        }
    }

    /// Position lenient → strict; colors outside the scheme rank below all.
    fn rank(&self, c: Color) -> i32 {
        self.colors
            .iter()
            .position(|x| *x == c)
            .map_or(-1, |i| i as i32)
    }

    pub fn has_color(&self, c: Color) -> bool {
        self.colors.contains(&c)
    }

    /// The checkpoint treatment the scheme's own table gives a color.
    pub fn decision(&self, c: Color) -> Option<Decision> {
        self.decisions[c.index()]
    }

    pub fn gives_white_to_unverified_minors(&self) -> bool {
        self.rules
            .iter()
            .any(|r| matches!(r.on, TriggerOn::UnverifiedMinor))
    }

    /// The reason text shown with a color, if the scheme explains it.
    pub fn explanation(&self, code: &Code) -> Option<Arc<str>> {
        let c = code.color;
        if c == Color::Green || !self.explained[c.index()] || self.ways[c.index()].is_none() {
            return None;
        }
        code.rule.map(|i| self.rules[i].reason.clone())
    }

    fn unverified_rule(&self) -> Option<(usize, Color)> {
        self.rules
            .iter()
            .position(|r| matches!(r.on, TriggerOn::UnverifiedMinor))
            .map(|i| (i, self.rules[i].color))
    }
}

/// A fact about a person, as the platform acknowledged it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Fact {
    Registered {
        unverified_minor: bool,
    },
    Verified,
    Declared {
        temperature: u16,
        symptoms: bool,
        contact: bool,
    },
    /// A temperature taken at one of the home province's checkpoints.
    Reading {
        temperature: u16,
    },
    Designation(CaseStatus),
    Quarantine {
        kind: QuarantineKind,
        end: Minute,
    },
    Nat {
        positive: bool,
        institution: u16,
    },
    SameBuilding,
    /// Judged by the county's risk level in force at the stay.
    Stay {
        county: CountyRef,
    },
    Authority(Color),
    /// Kept, no effect on the color (IgG, entry, credit record).
    Inert {
        what: u8,
        detail: u64,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Dated {
    pub at: Minute,
    pub fact: Fact,
}

/// Risk levels per county over time, from the broadcasts acknowledged so far.
#[derive(Default, Clone, Debug)]
pub struct RiskHistory {
    changes: BTreeMap<CountyRef, Vec<(Minute, RiskLevel)>>,
}

impl RiskHistory {
    pub fn set(&mut self, county: CountyRef, at: Minute, level: RiskLevel) {
        let v = self.changes.entry(county).or_default();
        if !v.contains(&(at, level)) {
            v.push((at, level));
            v.sort_by_key(|(t, _)| *t);
        }
    }

    pub fn level_at(&self, county: CountyRef, at: Minute) -> RiskLevel {
        self.changes
            .get(&county)
            .and_then(|v| v.iter().rev().find(|(t, _)| *t <= at))
            .map_or(RiskLevel::Low, |(_, l)| *l)
    }
}

/// A person's facts in the order the rules see them: by time, then by
/// arrival.
#[derive(Default, Clone, Debug)]
pub struct History {
    facts: Vec<Dated>,
}

impl History {
    /// Adds a fact; an exact duplicate of a data feed is ignored (returns
    /// false), as the platform's feed contract says.
    pub fn add(&mut self, d: Dated, dedupe: bool) -> bool {
        if dedupe && self.facts.contains(&d) {
            return false;
        }
        let i = self.facts.partition_point(|f| f.at <= d.at);
        self.facts.insert(i, d);
        true
    }

    /// The quarantine order in force at `t`, if any: the latest order
    /// started by then, while it lasts.
    pub fn quarantined_at(&self, t: Minute) -> Option<(Minute, Minute)> {
        self.facts
            .iter()
            .filter_map(|d| match d.fact {
                Fact::Quarantine { end, .. } if d.at <= t => Some((d.at, end)),
                _ => None,
            })
            .next_back()
            .filter(|(_, end)| t < *end)
    }

    pub fn facts(&self) -> &[Dated] {
        &self.facts
    }

    /// Whether the person is a minor still missing face verification.
    pub fn unverified(&self) -> bool {
        let mut u = false;
        for f in &self.facts {
            match f.fact {
                Fact::Registered { unverified_minor } => u = unverified_minor,
                Fact::Verified => u = false,
                _ => {}
            }
        }
        u
    }
}

/// The code a person must have: color and the rule that explains it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Code {
    pub color: Color,
    pub rule: Option<usize>,
    /// The color's way back needs check-ins and fewer than required have
    /// been made on consecutive days (for diagnosing a premature release).
    pub streak_short: bool,
}

/// Everything the fold knows after some prefix of the history.
struct Fold<'a> {
    scheme: &'a Scheme,
    facts: &'a [Dated],
    color: Color,
    rule: Option<usize>,
    /// When the current color's clock started, and at which fact.
    clock: Minute,
    clock_fact: usize,
    /// Check-ins count after this fact (a trigger or an abnormal declaration).
    streak_from: usize,
    case: Option<CaseStatus>,
    quarantine: Option<(QuarantineKind, Minute)>,
    unverified: bool,
    /// Time of the latest fact seen.
    seen: Minute,
    /// Facts applied so far (prefix length).
    done: usize,
}

impl<'a> Fold<'a> {
    fn floor(&self) -> (Color, Option<usize>) {
        if self.unverified {
            if let Some((i, c)) = self.scheme.unverified_rule() {
                return (c, Some(i));
            }
        }
        (Color::Green, None)
    }

    /// Calendar days of the current streak and its last day, recounted from
    /// the normal declarations after the last reset.
    fn streak(&self) -> (u32, Option<u32>) {
        let mut n = 0;
        let mut last: Option<u32> = None;
        for f in &self.facts[self.streak_from.min(self.done)..self.done] {
            if let Fact::Declared {
                temperature,
                symptoms,
                contact,
            } = f.fact
            {
                if symptoms || contact || temperature >= self.scheme.fever {
                    continue;
                }
                let d = f.at.day();
                match last {
                    Some(l) if l == d => {}
                    Some(l) if l + 1 == d => {
                        n += 1;
                        last = Some(d);
                    }
                    _ => {
                        n = 1;
                        last = Some(d);
                    }
                }
            }
        }
        (n, last)
    }

    /// A negative NAT after the latest trigger (every non-floor color was
    /// entered by one, so `clock_fact` is set whenever this is asked).
    fn negative_nat_since_clock(&self) -> bool {
        self.facts[..self.done].iter().enumerate().any(|(i, f)| {
            i > self.clock_fact
                && matches!(
                    f.fact,
                    Fact::Nat {
                        positive: false,
                        ..
                    }
                )
        })
    }

    /// The earliest moment the way back completes with what is known, if
    /// it is no later than `limit`.
    fn release_by(&self, limit: Minute) -> Option<Minute> {
        let (floor, _) = self.floor();
        if self.color == floor {
            return None;
        }
        let way = self.scheme.ways[self.color.index()].as_ref()?;
        let own = self.scheme.rank(self.color);
        let mut x = self.clock.plus_minutes(way.min_days * DAY);
        // Standing rules at least as strict as the color hold it.
        for r in self
            .scheme
            .rules
            .iter()
            .filter(|r| self.scheme.rank(r.color) >= own)
        {
            match &r.on {
                TriggerOn::Case { status, quarantine } if self.case == Some(*status) => {
                    if quarantine.is_empty() {
                        return None;
                    }
                    if let Some((k, end)) = self.quarantine {
                        if quarantine.contains(k) {
                            x = x.max(end);
                        }
                    }
                }
                TriggerOn::Quarantine { kinds } => {
                    if let Some((k, end)) = self.quarantine {
                        if kinds.contains(k) {
                            x = x.max(end);
                        }
                    }
                }
                _ => {}
            }
        }
        if way.quarantine_over {
            if let Some((_, end)) = self.quarantine {
                x = x.max(end);
            }
        }
        if way.negative_nat && !self.negative_nat_since_clock() {
            return None;
        }
        if way.verified && self.unverified {
            return None;
        }
        // Conditions are only known to hold once the facts behind them are.
        x = x.max(self.seen);
        if way.checkins > 0 {
            let (n, last) = self.streak();
            let alive = last.is_some_and(|l| x.day() <= l + 1);
            if n < way.checkins || !alive {
                return None;
            }
        }
        (x <= limit).then_some(x)
    }

    fn settle(&mut self, limit: Minute) {
        if let Some(x) = self.release_by(limit) {
            let (c, r) = self.floor();
            self.color = c;
            self.rule = r;
            self.clock = x;
        }
    }

    fn in_quarantine(&self, t: Minute) -> Option<QuarantineKind> {
        self.quarantine.filter(|(_, end)| t < *end).map(|(k, _)| k)
    }

    /// Applies fact `i`.
    fn step(&mut self, i: usize, risk: &RiskHistory) {
        let Dated { at, fact } = self.facts[i];
        self.settle(at);
        let current = self.color;
        let in_q = self.in_quarantine(at);
        let mut fired: Vec<usize> = Vec::new();
        let rules = &self.scheme.rules;
        let mut matching = |pred: &dyn Fn(&TriggerOn) -> bool| {
            for (k, r) in rules.iter().enumerate() {
                if (r.while_in.is_empty() || r.while_in.contains(&current)) && pred(&r.on) {
                    fired.push(k);
                }
            }
        };
        match fact {
            Fact::Registered { unverified_minor } => {
                if unverified_minor {
                    self.unverified = true;
                    matching(&|on| matches!(on, TriggerOn::UnverifiedMinor));
                }
            }
            Fact::Verified => self.unverified = false,
            Fact::Declared {
                temperature,
                symptoms,
                contact,
            } => {
                if symptoms || contact || temperature >= self.scheme.fever {
                    self.streak_from = i + 1;
                    matching(&|on| matches!(on, TriggerOn::Declaration));
                }
            }
            Fact::Reading { temperature } => matching(
                &|on| matches!(on, TriggerOn::CheckpointTemperature { threshold } if temperature >= threshold.0),
            ),
            Fact::Designation(status) => {
                let now_case = (status != CaseStatus::Cleared).then_some(status);
                if now_case != self.case {
                    self.case = now_case;
                    if let Some(st) = now_case {
                        matching(&|on| match on {
                            TriggerOn::Case { status, quarantine } => {
                                *status == st
                                    && (quarantine.is_empty()
                                        || in_q.is_some_and(|k| quarantine.contains(k)))
                            }
                            _ => false,
                        });
                    }
                }
            }
            Fact::Quarantine { kind, end } => {
                if self.quarantine != Some((kind, end)) {
                    self.quarantine = Some((kind, end));
                    if at < end {
                        let case = self.case;
                        matching(&|on| match on {
                            TriggerOn::Quarantine { kinds } => kinds.contains(kind),
                            TriggerOn::Case { status, quarantine } => {
                                case == Some(*status) && quarantine.contains(kind)
                            }
                            _ => false,
                        });
                    }
                }
            }
            Fact::Nat { positive: true, .. } => {
                matching(&|on| matches!(on, TriggerOn::PositiveNat))
            }
            Fact::Nat {
                positive: false, ..
            } => {}
            Fact::SameBuilding => matching(&|on| matches!(on, TriggerOn::SameBuilding)),
            Fact::Stay { county } => {
                let level = risk.level_at(county, at);
                matching(&|on| matches!(on, TriggerOn::Arrival { risk } if *risk == level));
            }
            Fact::Authority(c) => matching(
                &|on| matches!(on, TriggerOn::Authority { designated } if *designated == c),
            ),
            Fact::Inert { .. } => {}
        }
        // The strictest fired rule; among equals, the first in the file.
        let best = fired.iter().copied().fold(None::<usize>, |b, k| match b {
            Some(j) if self.scheme.rank(rules[k].color) <= self.scheme.rank(rules[j].color) => {
                Some(j)
            }
            _ => Some(k),
        });
        if let Some(k) = best {
            let c = rules[k].color;
            if self.scheme.rank(c) >= self.scheme.rank(self.color) {
                self.color = c;
                self.rule = Some(k);
            }
            // New evidence restarts the clock even when not stricter.
            self.clock = at;
            self.clock_fact = i;
            self.streak_from = i + 1;
        }
        self.done = i + 1;
        self.seen = self.seen.max(at);
        self.settle(at);
    }
}

/// The code a person with this history must have at `t` (facts after `t`
/// are not considered).
pub fn code_at(scheme: &Scheme, history: &History, risk: &RiskHistory, t: Minute) -> Code {
    let facts = history.facts();
    let mut f = Fold {
        scheme,
        facts,
        color: Color::Green,
        rule: None,
        clock: Minute::ZERO,
        clock_fact: usize::MAX,
        streak_from: 0,
        case: None,
        quarantine: None,
        unverified: false,
        seen: Minute::ZERO,
        done: 0,
    };
    let known = facts.partition_point(|d| d.at <= t);
    for i in 0..known {
        f.step(i, risk);
    }
    f.settle(t);
    let streak_short = f.color != f.floor().0
        && scheme.ways[f.color.index()]
            .as_ref()
            .is_some_and(|w| w.checkins > 0 && f.streak().0 < w.checkins);
    Code {
        color: f.color,
        rule: f.rule,
        streak_short,
    }
}
