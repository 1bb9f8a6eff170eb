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

    /// The quarantine order a release waits for: the stored one, unless a
    /// test broke the platform on purpose.
    fn quarantine_of(&self, s: &State) -> Option<(QuarantineKind, Minute)> {
        #[cfg(feature = "mutant")]
        if self.mutant == Some(super::Mutant::QuarantineEndsEarly) {
            return s.quarantine().map(|(k, end)| (k, end.minus_days(1)));
        }
        s.quarantine()
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
                    if let Some((kind, end)) = self.quarantine_of(s) {
                        if quarantine.contains(kind) {
                            at = at.max(end);
                        }
                    }
                }
                TriggerOn::Quarantine { kinds } => {
                    if let Some((kind, end)) = self.quarantine_of(s) {
                        if kinds.contains(kind) {
                            at = at.max(end);
                        }
                    }
                }
                _ => {}
            }
        }
        if rel.quarantine_over {
            if let Some((_, end)) = self.quarantine_of(s) {
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
        #[cfg(feature = "mutant")]
        if self.mutant == Some(super::Mutant::StaleNegativeNat) {
            return;
        }
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

    use crate::time::MINUTES_PER_DAY;

    /// A rule set of the test scheme with the given triggers and releases.
    fn rules(body: &str) -> RuleSet {
        let text = format!(
            "scheme = \"t\"\ncolors = [\"green\", \"white\", \"yellow\", \"red\"]\n\
             [checkpoint]\npass = [\"green\", \"white\"]\nrefer = [\"yellow\"]\n\
             refuse = [\"red\"]\n{body}"
        );
        RuleSet::parse(&text, "t.toml").unwrap_or_else(|e| panic!("{e}"))
    }

    fn trigger(on: &str, color: &str) -> String {
        format!("[[trigger]]\non = \"{on}\"\ncolor = \"{color}\"\nreason = \"r\"\n")
    }

    /// Day `d` at `h`:00, Beijing time.
    fn at(d: u32, h: u32) -> Minute {
        Minute(d * MINUTES_PER_DAY + h * 60)
    }

    fn declare(temperature: u16) -> Fact {
        Fact::Declare {
            temperature: DeciCelsius(temperature),
            symptoms: false,
            contact: false,
        }
    }

    const RED_14: &str = "[release.red]\nmin_days = 14\nguidance = \"g\"\n";
    const YELLOW_7: &str = "[release.yellow]\nmin_days = 7\nguidance = \"g\"\n";
    const WHITE_VERIFIED: &str = "[release.white]\nverified = true\nguidance = \"g\"\n";

    #[test]
    fn yellow_needs_its_days_and_an_unbroken_streak_of_checkins() {
        let r = rules(&format!(
            "{}[release.yellow]\nmin_days = 7\ncheckins = 5\nguidance = \"g\"\n{RED_14}{WHITE_VERIFIED}",
            trigger("declaration", "yellow")
        ));
        let mut s = State::default();
        let c = r.apply(&mut s, at(0, 8), &declare(380));
        assert_eq!(c.iter().collect::<Vec<_>>(), [(at(0, 8), Color::Yellow)]);
        assert_eq!(
            (s.color(), s.reason(), s.since()),
            (Color::Yellow, Some(0), at(0, 8))
        );
        // Two normal check-ins on one day count once; days 1..=6 make 6.
        let mut whole = s;
        for d in 1..=6 {
            r.apply(&mut whole, at(d, 9), &declare(365));
            r.apply(&mut whole, at(d, 20), &declare(365));
        }
        assert_eq!({ whole.streak }, 6);
        // 7 days after the trigger, the streak alive (last check-in day 6).
        assert_eq!(r.release_at(&whole), Some(at(7, 8)));
        assert_eq!(r.at(&whole, Minute(at(7, 8).0 - 1)).color(), Color::Yellow);
        let released = r.at(&whole, at(7, 8));
        assert_eq!(
            (released.color(), released.since()),
            (Color::Green, at(7, 8))
        );
        assert_eq!(released.reason(), None);

        // Day 3 missed: the streak restarts at day 4 and reaches 5 on day 8,
        // when the check-in itself completes the release.
        let mut gap = s;
        for d in [1, 2, 4, 5, 6, 7] {
            r.apply(&mut gap, at(d, 9), &declare(365));
            assert_eq!(gap.color(), Color::Yellow, "day {d}");
        }
        assert_eq!(r.release_at(&gap), None);
        let c = r.apply(&mut gap, at(8, 9), &declare(365));
        assert_eq!(c.iter().collect::<Vec<_>>(), [(at(8, 9), Color::Green)]);

        // A streak that stopped two days before the release never completes
        // it without another check-in.
        let mut stopped = s;
        for d in 1..=5 {
            r.apply(&mut stopped, at(d, 9), &declare(365));
        }
        assert_eq!(r.release_at(&stopped), None);
        assert_eq!(r.at(&stopped, at(30, 0)).color(), Color::Yellow);
        // One on day 6 is enough.
        r.apply(&mut stopped, at(6, 9), &declare(365));
        assert_eq!(r.release_at(&stopped), Some(at(7, 8)));
    }

    #[test]
    fn an_abnormal_declaration_breaks_the_streak_and_fever_is_inclusive() {
        let r = rules(&format!(
            "{}{}[release.yellow]\nmin_days = 2\ncheckins = 2\nguidance = \"g\"\n{RED_14}{WHITE_VERIFIED}",
            trigger("positive_nat", "yellow"),
            trigger("declaration", "red"),
        ));
        let mut s = State::default();
        r.apply(&mut s, at(0, 8), &Fact::Nat { positive: true });
        r.apply(&mut s, at(1, 8), &declare(372));
        assert_eq!(s.color(), Color::Yellow, "37.2 is below the 37.3 fever");
        assert_eq!({ s.streak }, 1);
        // 37.3 is a fever: red, and the streak is gone.
        let mut hot = s;
        r.apply(&mut hot, at(1, 9), &declare(373));
        assert_eq!((hot.color(), hot.reason()), (Color::Red, Some(1)));
        assert_eq!((hot.streak, hot.last_day), (0, NO_DAY));
        let mut sick = s;
        let symptoms = Fact::Declare {
            temperature: DeciCelsius(365),
            symptoms: true,
            contact: false,
        };
        r.apply(&mut sick, at(1, 9), &symptoms);
        assert_eq!(sick.color(), Color::Red);
        let contact = Fact::Declare {
            temperature: DeciCelsius(365),
            symptoms: false,
            contact: true,
        };
        let mut met = s;
        r.apply(&mut met, at(1, 9), &contact);
        assert_eq!(met.color(), Color::Red);
        // Normal on day 2: two days after day 0's trigger, two check-ins.
        r.apply(&mut s, at(2, 9), &declare(365));
        assert_eq!(s.color(), Color::Green);
        assert_eq!(s.since(), at(2, 9));
    }

    #[test]
    fn a_trigger_that_is_not_stricter_restarts_the_clock_only() {
        let r = rules(&format!(
            "{}[release.red]\nmin_days = 14\nnegative_nat = true\nguidance = \"g\"\n{}{YELLOW_7}{WHITE_VERIFIED}",
            trigger("positive_nat", "red"),
            trigger("same_building", "yellow"),
        ));
        let mut s = State::default();
        r.apply(&mut s, at(0, 8), &Fact::Nat { positive: true });
        assert_eq!(r.release_at(&s), None, "no negative NAT yet");
        r.apply(&mut s, at(1, 8), &Fact::Nat { positive: false });
        assert_eq!(r.release_at(&s), Some(at(14, 8)));
        // Yellow evidence while red: still red for red's reason, but the
        // clock restarts and the negative NAT no longer counts.
        let c = r.apply(&mut s, at(5, 8), &Fact::SameBuilding);
        assert_eq!(c, Change::default());
        assert_eq!(
            (s.color(), s.reason(), s.since()),
            (Color::Red, Some(0), at(5, 8))
        );
        assert_eq!(r.release_at(&s), None);
        r.apply(&mut s, at(6, 8), &Fact::Nat { positive: false });
        assert_eq!(r.release_at(&s), Some(at(19, 8)));
        // The same color again restarts it too.
        r.apply(&mut s, at(7, 8), &Fact::Nat { positive: true });
        assert_eq!(
            (s.color(), s.reason(), s.since()),
            (Color::Red, Some(0), at(7, 8))
        );
        assert_eq!(r.release_at(&s), None);
        // A release due before a fact comes first in the change.
        r.apply(&mut s, at(8, 8), &Fact::Nat { positive: false });
        let c = r.apply(&mut s, at(30, 8), &Fact::SameBuilding);
        assert_eq!(
            c.iter().collect::<Vec<_>>(),
            [(at(21, 8), Color::Green), (at(30, 8), Color::Yellow)]
        );
        assert_eq!((s.reason(), s.applied()), (Some(1), at(30, 8)));
    }

    #[test]
    fn the_strictest_matching_trigger_wins_and_while_limits_a_trigger() {
        // Declared abnormal while yellow turns red (Anhui).
        let r = rules(&format!(
            "[[trigger]]\non = \"declaration\"\nwhile = [\"yellow\"]\ncolor = \"red\"\nreason = \"r\"\n\
             {}{RED_14}{YELLOW_7}{WHITE_VERIFIED}",
            trigger("declaration", "yellow"),
        ));
        let mut s = State::default();
        r.apply(&mut s, at(0, 8), &declare(380));
        assert_eq!((s.color(), s.reason()), (Color::Yellow, Some(1)));
        r.apply(&mut s, at(1, 8), &declare(380));
        assert_eq!((s.color(), s.reason()), (Color::Red, Some(0)));
        // Both match from yellow; the stricter wins whatever the order.
        let r = rules(&format!(
            "{}{}{}{RED_14}{YELLOW_7}{WHITE_VERIFIED}",
            trigger("declaration", "yellow"),
            trigger("declaration", "red"),
            trigger("declaration", "yellow"),
        ));
        let mut s = State::default();
        r.apply(&mut s, at(0, 8), &declare(380));
        assert_eq!((s.color(), s.reason()), (Color::Red, Some(1)));
        // Ties go to the first in the file.
        let r = rules(&format!(
            "{}{}{RED_14}{YELLOW_7}{WHITE_VERIFIED}",
            trigger("declaration", "yellow"),
            trigger("declaration", "yellow"),
        ));
        let mut s = State::default();
        r.apply(&mut s, at(0, 8), &declare(380));
        assert_eq!(s.reason(), Some(0));
    }

    #[test]
    fn each_fact_fires_only_its_own_triggers() {
        let r = rules(&format!(
            "[[trigger]]\non = \"arrival\"\nrisk = \"high\"\ncolor = \"red\"\nreason = \"r\"\n\
             [[trigger]]\non = \"arrival\"\nrisk = \"medium\"\ncolor = \"yellow\"\nreason = \"r\"\n\
             [[trigger]]\non = \"authority\"\ndesignated = \"yellow\"\ncolor = \"yellow\"\nreason = \"r\"\n\
             [[trigger]]\non = \"checkpoint_temperature\"\nthreshold = 38.0\nwhile = [\"green\"]\n\
             color = \"yellow\"\nreason = \"r\"\n{}{RED_14}{YELLOW_7}{WHITE_VERIFIED}",
            trigger("same_building", "red"),
        ));
        let color = |fact: Fact| {
            let mut s = State::default();
            r.apply(&mut s, at(0, 8), &fact);
            (s.color(), s.reason())
        };
        use RiskLevel::*;
        assert_eq!(color(Fact::Stay { level: High }), (Color::Red, Some(0)));
        assert_eq!(
            color(Fact::Stay { level: Medium }),
            (Color::Yellow, Some(1))
        );
        assert_eq!(color(Fact::Stay { level: Low }), (Color::Green, None));
        let authority = |c| Fact::Authority { color: c };
        assert_eq!(color(authority(Color::Yellow)), (Color::Yellow, Some(2)));
        assert_eq!(color(authority(Color::Red)), (Color::Green, None));
        let reading = |t| Fact::Reading {
            temperature: DeciCelsius(t),
        };
        assert_eq!(color(reading(379)), (Color::Green, None));
        assert_eq!(color(reading(380)), (Color::Yellow, Some(3)));
        assert_eq!(color(Fact::SameBuilding), (Color::Red, Some(4)));
        assert_eq!(color(Fact::Nat { positive: true }), (Color::Green, None));
        assert_eq!(color(Fact::Inert), (Color::Green, None));
        assert_eq!(color(declare(400)), (Color::Green, None));
    }

    #[test]
    fn a_quarantine_holds_its_color_until_it_ends() {
        // Guangdong: home quarantine gives a color released no earlier than
        // the quarantine's end.
        let r = rules(&format!(
            "[[trigger]]\non = \"quarantine\"\nquarantine = [\"home\"]\ncolor = \"yellow\"\nreason = \"r\"\n\
             {}{RED_14}{YELLOW_7}{WHITE_VERIFIED}",
            trigger("positive_nat", "red"),
        ));
        let home = |end| Fact::Quarantine {
            kind: QuarantineKind::Home,
            end,
        };
        let mut s = State::default();
        r.apply(&mut s, at(0, 8), &home(at(10, 0)));
        assert_eq!((s.color(), s.since()), (Color::Yellow, at(0, 8)));
        assert_eq!(r.release_at(&s), Some(at(10, 0)));
        assert_eq!(r.at(&s, Minute(at(10, 0).0 - 1)).color(), Color::Yellow);
        assert_eq!(r.at(&s, at(10, 0)).color(), Color::Green);
        // The same order again changes nothing, not even the clock.
        r.apply(&mut s, at(2, 8), &home(at(10, 0)));
        assert_eq!(s.since(), at(0, 8));
        // A centralized order replaces the home one: the home trigger no
        // longer holds yellow, whose 7 days end first.
        let mut moved = s;
        let centralized = Fact::Quarantine {
            kind: QuarantineKind::Centralized,
            end: at(20, 0),
        };
        r.apply(&mut moved, at(3, 8), &centralized);
        assert_eq!(moved.color(), Color::Yellow);
        assert_eq!(r.release_at(&moved), Some(at(7, 8)));
        // A longer order replacing the first holds yellow to its own end,
        // and restarts the clock.
        let mut extended = s;
        r.apply(&mut extended, at(4, 8), &home(at(20, 0)));
        assert_eq!(extended.since(), at(4, 8));
        assert_eq!(r.release_at(&extended), Some(at(20, 0)));
        // An order that has already ended fires nothing.
        let mut late = State::default();
        r.apply(&mut late, at(10, 0), &home(at(10, 0)));
        assert_eq!(late.color(), Color::Green);
        // A lower color's standing trigger does not hold a stricter one:
        // red from a NAT is released on its own 14 days.
        let mut both = State::default();
        r.apply(&mut both, at(0, 8), &home(at(30, 0)));
        r.apply(&mut both, at(1, 8), &Fact::Nat { positive: true });
        assert_eq!(both.color(), Color::Red);
        assert_eq!(r.release_at(&both), Some(at(15, 8)));
    }

    #[test]
    fn quarantine_over_waits_for_any_quarantine() {
        let r = rules(&format!(
            "{}[release.red]\nmin_days = 3\nquarantine_over = true\nguidance = \"g\"\n{YELLOW_7}{WHITE_VERIFIED}",
            trigger("positive_nat", "red"),
        ));
        let mut s = State::default();
        r.apply(&mut s, at(0, 8), &Fact::Nat { positive: true });
        assert_eq!(r.release_at(&s), Some(at(3, 8)));
        let q = Fact::Quarantine {
            kind: QuarantineKind::Centralized,
            end: at(9, 0),
        };
        r.apply(&mut s, at(1, 8), &q);
        assert_eq!(s.color(), Color::Red);
        assert_eq!(r.release_at(&s), Some(at(9, 0)));
    }

    #[test]
    fn a_case_designation_holds_red_while_it_stands() {
        let r = rules(&format!(
            "[[trigger]]\non = \"case\"\nstatus = \"confirmed\"\ncolor = \"red\"\nreason = \"r\"\n\
             [[trigger]]\non = \"case\"\nstatus = \"asymptomatic\"\nquarantine = [\"centralized\"]\n\
             color = \"red\"\nreason = \"r\"\n{RED_14}{YELLOW_7}{WHITE_VERIFIED}"
        ));
        let designate = |status| Fact::Designation { status };
        let centralized = |end| Fact::Quarantine {
            kind: QuarantineKind::Centralized,
            end,
        };
        // Confirmed: never released while designated; cleared, 14 days on.
        let mut s = State::default();
        r.apply(&mut s, at(0, 8), &designate(CaseStatus::Confirmed));
        assert_eq!((s.color(), s.reason()), (Color::Red, Some(0)));
        assert_eq!(r.release_at(&s), None);
        assert_eq!(r.at(&s, at(60, 0)).color(), Color::Red);
        // Designated again: nothing new, the clock keeps running.
        r.apply(&mut s, at(3, 8), &designate(CaseStatus::Confirmed));
        assert_eq!(s.since(), at(0, 8));
        r.apply(&mut s, at(20, 8), &designate(CaseStatus::Cleared));
        assert_eq!((s.color(), s.since()), (Color::Green, at(20, 8)));

        // Asymptomatic: red only while in centralized quarantine, held
        // until that quarantine ends.
        let mut s = State::default();
        r.apply(&mut s, at(0, 8), &centralized(at(20, 0)));
        assert_eq!(s.color(), Color::Green);
        r.apply(&mut s, at(1, 8), &designate(CaseStatus::Asymptomatic));
        assert_eq!((s.color(), s.reason()), (Color::Red, Some(1)));
        assert_eq!(r.release_at(&s), Some(at(20, 0)));
        // The quarantine ends exactly when the designation comes: no red.
        let mut s = State::default();
        r.apply(&mut s, at(0, 8), &centralized(at(5, 0)));
        r.apply(&mut s, at(5, 0), &designate(CaseStatus::Asymptomatic));
        assert_eq!(s.color(), Color::Green);
        // Designated first, quarantined later: the order fires the trigger.
        let mut s = State::default();
        r.apply(&mut s, at(0, 8), &designate(CaseStatus::Asymptomatic));
        assert_eq!(s.color(), Color::Green);
        r.apply(&mut s, at(2, 8), &centralized(at(30, 0)));
        assert_eq!((s.color(), s.since()), (Color::Red, at(2, 8)));
        assert_eq!(r.release_at(&s), Some(at(30, 0)));
        // Another designation is not the asymptomatic one: the quarantine no
        // longer holds red past its 14 days.
        let mut other = s;
        r.apply(&mut other, at(3, 8), &designate(CaseStatus::Suspected));
        assert_eq!(r.release_at(&other), Some(at(16, 8)));
    }

    #[test]
    fn an_unverified_minor_falls_back_to_white_until_verified() {
        let r = rules(&format!(
            "{}{}{RED_14}{YELLOW_7}{WHITE_VERIFIED}",
            trigger("positive_nat", "red"),
            trigger("unverified_minor", "white"),
        ));
        let mut s = State::default();
        r.apply(
            &mut s,
            at(0, 8),
            &Fact::Registered {
                unverified_minor: false,
            },
        );
        assert_eq!((s.color(), s.unverified()), (Color::Green, false));
        r.apply(
            &mut s,
            at(0, 8),
            &Fact::Registered {
                unverified_minor: true,
            },
        );
        assert_eq!(
            (s.color(), s.reason(), s.unverified()),
            (Color::White, Some(1), true)
        );
        assert_eq!(r.release_at(&s), None, "white is this person's floor");
        r.apply(&mut s, at(1, 8), &Fact::Nat { positive: true });
        assert_eq!(s.color(), Color::Red);
        assert_eq!(r.release_at(&s), Some(at(15, 8)));
        let back = r.at(&s, at(15, 8));
        assert_eq!(
            (back.color(), back.reason(), back.since()),
            (Color::White, Some(1), at(15, 8))
        );
        let c = r.apply(&mut s, at(16, 8), &Fact::Verified);
        assert_eq!(
            c.iter().collect::<Vec<_>>(),
            [(at(15, 8), Color::White), (at(16, 8), Color::Green)]
        );
        assert_eq!((s.reason(), s.unverified()), (None, false));
    }

    #[test]
    fn day_of_never_reaches_the_no_day_mark() {
        assert_eq!(day_of(at(3, 23)), 3);
        assert_eq!(day_of(Minute(u32::MAX)), NO_DAY - 1);
    }

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
