//! The evaluator: a person's compact state, moved by facts, read lazily.
//!
//! Incremental per fact, lazy on time: nothing happens to a person between
//! facts except that release conditions may come true, and `release_at`
//! computes exactly when. The state is a pure fold over the person's facts in
//! time order, which is what lets the platform replay a person when a fact
//! arrives late.

use super::{RuleSet, TriggerOn};
use crate::api::{CaseStatus, DeciCelsius, QuarantineKind, RiskLevel};
use crate::color::Color;
use crate::time::Minute;

/// What the evaluator needs to know about one fact.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fact {
    Registered {
        unverified_minor: bool,
    },
    /// A later face verification of a minor who had a white code.
    Verified,
    Declare {
        temperature: DeciCelsius,
        symptoms: bool,
        contact: bool,
    },
    /// A temperature taken at a checkpoint (verification, staff/kiosk
    /// record, place-code scan).
    Reading {
        temperature: DeciCelsius,
    },
    Designation {
        status: CaseStatus,
    },
    Quarantine {
        kind: QuarantineKind,
        end: Minute,
    },
    Nat {
        positive: bool,
    },
    SameBuilding,
    /// A stay in a county of this risk level at the time.
    Stay {
        level: RiskLevel,
    },
    Authority {
        color: Color,
    },
    /// Kept in the journal, no effect on the color (IgG, entry, credit).
    Inert,
}

const NO_DAY: u16 = u16::MAX;
const NO_REASON: u8 = u8::MAX;

const NEG_NAT: u8 = 1;
const UNVERIFIED: u8 = 2;
const Q_SET: u8 = 4;
const Q_HOME: u8 = 8;
/// The case designation, `CASE_NONE` or a `CaseStatus` + 1, in the high bits.
const CASE_SHIFT: u8 = 4;
const CASE_NONE: u8 = 0;

/// A person's rule state, kept in the hot record: 18 bytes at 2-byte
/// alignment, so the record around it has no padding (a province holds one
/// per resident).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(C, packed(2))]
pub(crate) struct State {
    /// When the current color's clock started (its latest trigger).
    since: Minute,
    /// Time of the latest fact applied: facts before it are late.
    applied: Minute,
    quarantine_end: Minute,
    /// Beijing day of the last normal check-in counted in `streak`.
    last_day: u16,
    color: Color,
    /// Index of the trigger that explains the color.
    reason: u8,
    streak: u8,
    /// Bit flags below `CASE_SHIFT`, the case designation above.
    flags: u8,
}

impl Default for State {
    fn default() -> Self {
        State {
            since: Minute::ZERO,
            applied: Minute::ZERO,
            quarantine_end: Minute::ZERO,
            last_day: NO_DAY,
            color: Color::Green,
            reason: NO_REASON,
            streak: 0,
            flags: CASE_NONE << CASE_SHIFT,
        }
    }
}

impl State {
    pub fn color(&self) -> Color {
        self.color
    }
    pub fn since(&self) -> Minute {
        self.since
    }
    pub fn applied(&self) -> Minute {
        self.applied
    }
    /// Index into `RuleSet::triggers()` of the trigger behind the color.
    pub fn reason(&self) -> Option<usize> {
        (self.reason != NO_REASON).then_some(self.reason as usize)
    }
    fn case(&self) -> Option<CaseStatus> {
        const ALL: [CaseStatus; 5] = [
            CaseStatus::Confirmed,
            CaseStatus::Suspected,
            CaseStatus::Asymptomatic,
            CaseStatus::CloseContact,
            CaseStatus::Cleared,
        ];
        match self.flags >> CASE_SHIFT {
            CASE_NONE => None,
            n => Some(ALL[n as usize - 1]),
        }
    }
    fn set_case(&mut self, case: Option<CaseStatus>) {
        let n = case.map_or(CASE_NONE, |c| c as u8 + 1);
        self.flags = self.flags & ((1 << CASE_SHIFT) - 1) | n << CASE_SHIFT;
    }
    /// A minor whose face verification is still missing (white code).
    pub fn unverified(&self) -> bool {
        self.flags & UNVERIFIED != 0
    }
    fn quarantine(&self) -> Option<(QuarantineKind, Minute)> {
        (self.flags & Q_SET != 0).then(|| {
            let kind = if self.flags & Q_HOME != 0 {
                QuarantineKind::Home
            } else {
                QuarantineKind::Centralized
            };
            (kind, self.quarantine_end)
        })
    }
    fn in_quarantine(&self, t: Minute) -> Option<QuarantineKind> {
        self.quarantine()
            .filter(|(_, end)| t < *end)
            .map(|(k, _)| k)
    }
}

/// Color transitions one fact caused, in time order: a lazy release that
/// came due before the fact, then the color after it.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Change {
    pub steps: [Option<(Minute, Color)>; 2],
}

impl Change {
    fn push(&mut self, at: Minute, c: Color) {
        if self.steps[0].is_none() {
            self.steps[0] = Some((at, c));
        } else {
            self.steps[1] = Some((at, c));
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = (Minute, Color)> + '_ {
        self.steps.iter().flatten().copied()
    }
}

fn day_of(t: Minute) -> u16 {
    t.day().min(NO_DAY as u32 - 1) as u16
}

impl RuleSet {
    fn rank(&self, c: Color) -> u8 {
        self.rank[c.index()]
    }

    /// The color a person falls back to: green, or the white code while a
    /// minor's face verification is still missing.
    fn floor(&self, s: &State) -> (Color, u8) {
        if s.flags & UNVERIFIED != 0 {
            if let Some((i, t)) = self
                .triggers
                .iter()
                .enumerate()
                .find(|(_, t)| t.on == TriggerOn::UnverifiedMinor)
            {
                return (t.color, i as u8);
            }
        }
        (Color::Green, NO_REASON)
    }

    /// When the current color's release conditions all hold, if no further
    /// fact arrives; `None` if they never will without one.
    pub(crate) fn release_at(&self, s: &State) -> Option<Minute> {
        if s.color == self.floor(s).0 {
            return None;
        }
        let rel = self.release(s.color)?;
        #[cfg(feature = "mutant")]
        let min_days = match self.mutant {
            Some(super::Mutant::MinDaysShort) => (rel.min_days as u32).saturating_sub(1),
            _ => rel.min_days as u32,
        };
        #[cfg(not(feature = "mutant"))]
        let min_days = rel.min_days as u32;
        let mut at = s.since.plus_days(min_days);
        let own = self.rank(s.color);
        // Standing triggers hold every color up to theirs.
        for t in self.triggers.iter().filter(|t| self.rank(t.color) >= own) {
            match &t.on {
                TriggerOn::Case { status, quarantine } if s.case() == Some(*status) => {
                    if quarantine.is_empty() {
                        return None;
                    }
                    if let Some((kind, end)) = s.quarantine() {
                        if quarantine.contains(kind) {
                            at = at.max(end);
                        }
                    }
                }
                TriggerOn::Quarantine { kinds } => {
                    if let Some((kind, end)) = s.quarantine() {
                        if kinds.contains(kind) {
                            at = at.max(end);
                        }
                    }
                }
                _ => {}
            }
        }
        if rel.quarantine_over {
            if let Some((_, end)) = s.quarantine() {
                at = at.max(end);
            }
        }
        if rel.negative_nat && s.flags & NEG_NAT == 0 {
            return None;
        }
        if rel.verified && s.flags & UNVERIFIED != 0 {
            return None;
        }
        // Facts up to `applied` were seen without releasing: nothing that
        // depends on them can have come true earlier.
        at = at.max(s.applied);
        if rel.checkins > 0 {
            // The streak must still be alive at the release: a whole
            // calendar day without a check-in breaks it.
            #[cfg(feature = "mutant")]
            let needed = match self.mutant {
                Some(super::Mutant::OneCheckinShort) => rel.checkins - 1,
                _ => rel.checkins,
            };
            #[cfg(not(feature = "mutant"))]
            let needed = rel.checkins;
            if s.streak < needed || s.last_day == NO_DAY || day_of(at) > s.last_day + 1 {
                return None;
            }
        }
        Some(at)
    }

    /// Releases the person if the way back completed by `t`.
    fn settle(&self, s: &mut State, t: Minute) -> Option<Minute> {
        let at = self.release_at(s).filter(|at| *at <= t)?;
        let (color, reason) = self.floor(s);
        s.color = color;
        s.reason = reason;
        s.since = at;
        Some(at)
    }

    /// The state as of `now`, without changing the stored one.
    pub(crate) fn at(&self, s: &State, now: Minute) -> State {
        let mut c = *s;
        self.settle(&mut c, now);
        c
    }

    fn fire(&self, s: &mut State, t: Minute, trigger: usize, color: Color) {
        if self.stricter(color, s.color) || color == s.color {
            s.color = color;
            s.reason = trigger as u8;
        }
        // A trigger that is not stricter still restarts the clock: new
        // evidence never shortens the way back.
        s.since = t;
        s.streak = 0;
        s.last_day = NO_DAY;
        s.flags &= !NEG_NAT;
    }

    fn checkin(s: &mut State, t: Minute) {
        let d = day_of(t);
        if s.last_day == d {
            return;
        }
        s.streak = if s.last_day != NO_DAY && s.last_day + 1 == d {
            s.streak.saturating_add(1)
        } else {
            1
        };
        s.last_day = d;
    }

    /// Applies one fact at time `t` (facts must come in time order; the
    /// caller replays when one is late).
    pub(crate) fn apply(&self, s: &mut State, t: Minute, fact: &Fact) -> Change {
        let mut change = Change::default();
        if let Some(at) = self.settle(s, t) {
            change.push(at, s.color);
        }
        let before = s.color;
        let current = s.color;
        let in_q = s.in_quarantine(t);

        // The strictest matching trigger; ties go to the first in the file.
        let mut best: Option<(usize, Color)> = None;
        let mut fires = |matches: &dyn Fn(&TriggerOn) -> bool| {
            for (i, trig) in self.triggers.iter().enumerate() {
                #[cfg(feature = "mutant")]
                let ignore_while = self.mutant == Some(super::Mutant::IgnoreWhile);
                #[cfg(not(feature = "mutant"))]
                let ignore_while = false;
                if (ignore_while || trig.when.is_empty() || trig.when.contains(current))
                    && matches(&trig.on)
                    && best.is_none_or(|(_, c)| self.stricter(trig.color, c))
                {
                    best = Some((i, trig.color));
                }
            }
        };

        match *fact {
            Fact::Registered { unverified_minor } => {
                if unverified_minor {
                    s.flags |= UNVERIFIED;
                    fires(&|on| *on == TriggerOn::UnverifiedMinor);
                }
            }
            Fact::Verified => s.flags &= !UNVERIFIED,
            Fact::Declare {
                temperature,
                symptoms,
                contact,
            } => {
                if symptoms || contact || temperature >= self.fever {
                    s.streak = 0;
                    s.last_day = NO_DAY;
                    fires(&|on| *on == TriggerOn::Declaration);
                } else {
                    Self::checkin(s, t);
                }
            }
            Fact::Reading { temperature } => fires(
                &|on| matches!(on, TriggerOn::CheckpointTemperature { threshold } if temperature >= *threshold),
            ),
            Fact::Designation { status } => {
                let new = (status != CaseStatus::Cleared).then_some(status);
                if new != s.case() {
                    s.set_case(new);
                    if let Some(status) = new {
                        fires(&|on| match on {
                            TriggerOn::Case {
                                status: st,
                                quarantine,
                            } => {
                                *st == status
                                    && (quarantine.is_empty()
                                        || in_q.is_some_and(|k| quarantine.contains(k)))
                            }
                            _ => false,
                        });
                    }
                }
            }
            Fact::Quarantine { kind, end } => {
                if s.quarantine() != Some((kind, end)) {
                    s.flags = (s.flags | Q_SET) & !Q_HOME
                        | if kind == QuarantineKind::Home {
                            Q_HOME
                        } else {
                            0
                        };
                    s.quarantine_end = end;
                    if t < end {
                        let case = s.case();
                        fires(&|on| match on {
                            TriggerOn::Quarantine { kinds } => kinds.contains(kind),
                            TriggerOn::Case { status, quarantine } => {
                                case == Some(*status) && quarantine.contains(kind)
                            }
                            _ => false,
                        });
                    }
                }
            }
            Fact::Nat { positive: true } => fires(&|on| *on == TriggerOn::PositiveNat),
            Fact::Nat { positive: false } => s.flags |= NEG_NAT,
            Fact::SameBuilding => fires(&|on| *on == TriggerOn::SameBuilding),
            Fact::Stay { level } => fires(&|on| *on == TriggerOn::Arrival { risk: level }),
            Fact::Authority { color } => {
                fires(&|on| *on == TriggerOn::Authority { designated: color })
            }
            Fact::Inert => {}
        }
        if let Some((i, color)) = best {
            self.fire(s, t, i, color);
        }
        s.applied = s.applied.max(t);
        self.settle(s, t);
        if s.color != before {
            change.push(t, s.color);
        }
        change
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_stays_small() {
        assert_eq!(std::mem::size_of::<State>(), 18);
        assert_eq!(std::mem::align_of::<State>(), 2);
    }

    #[test]
    fn case_designation_round_trips_beside_the_flags() {
        let mut s = State::default();
        s.flags |= UNVERIFIED | Q_HOME;
        assert_eq!(s.case(), None);
        for c in [
            CaseStatus::Confirmed,
            CaseStatus::Suspected,
            CaseStatus::Asymptomatic,
            CaseStatus::CloseContact,
            CaseStatus::Cleared,
        ] {
            s.set_case(Some(c));
            assert_eq!(s.case(), Some(c));
            assert_eq!(s.flags & ((1 << CASE_SHIFT) - 1), UNVERIFIED | Q_HOME);
        }
        s.set_case(None);
        assert_eq!(s.case(), None);
        assert_eq!(s.flags, UNVERIFIED | Q_HOME);
    }
}
