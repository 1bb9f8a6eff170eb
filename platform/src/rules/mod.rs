//! Rule sets: each provincial scheme's colors, triggers and releases as data
//! (`scenarios/rules/*.toml`), so that a policy team changes behaviour by
//! editing a number, never code.
//!
//! - `load` turns TOML into a validated `RuleSet`, with errors that name the
//!   file, the line and the field;
//! - `eval` is the evaluator: how facts about a person move their compact
//!   state from color to color, and when the way back to green is complete.
//!
//! Semantics in one place (the case README repeats them for policy teams):
//! - A fact fires every trigger whose condition it meets; the strictest
//!   color among them wins (ties: the first trigger in the file).
//! - A trigger stricter than the current color sets that color and starts
//!   its clock. A trigger that is not stricter restarts the current color's
//!   clock: new evidence never shortens the way back.
//! - Case and quarantine triggers are *standing*: while their condition
//!   holds (designation not cleared, quarantine not over) the color cannot
//!   be released.
//! - A color is released to green when ALL conditions its release lists
//!   hold: days since the trigger, N consecutive normal daily check-ins
//!   after it (one per Beijing calendar day, a missed day breaks the
//!   streak), quarantine over, a negative NAT after the trigger, face
//!   verification done.

mod error;
mod eval;
mod load;

pub use error::{line_of, locate_toml_error, RuleError};
pub(crate) use eval::{Fact, State};

use crate::api::{CaseStatus, DeciCelsius, QuarantineKind, RiskLevel};
use crate::color::{Color, Decision, ALL_COLORS};
use std::path::Path;
use std::sync::Arc;

/// A set of colors as a bitmask over `Color::index()`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct ColorSet(u8);

impl ColorSet {
    pub const EMPTY: ColorSet = ColorSet(0);
    pub fn with(self, c: Color) -> ColorSet {
        ColorSet(self.0 | 1 << c.index())
    }
    pub fn contains(self, c: Color) -> bool {
        self.0 & (1 << c.index()) != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = Color> {
        ALL_COLORS.into_iter().filter(move |c| self.contains(*c))
    }
}

/// Quarantine kinds a trigger asks for, as a bitmask.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct QuarantineSet(u8);

impl QuarantineSet {
    pub const NONE: QuarantineSet = QuarantineSet(0);
    pub fn bit(k: QuarantineKind) -> u8 {
        match k {
            QuarantineKind::Centralized => 1,
            QuarantineKind::Home => 2,
        }
    }
    pub fn with(self, k: QuarantineKind) -> QuarantineSet {
        QuarantineSet(self.0 | Self::bit(k))
    }
    pub fn contains(self, k: QuarantineKind) -> bool {
        self.0 & Self::bit(k) != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// The fact a trigger reacts to.
#[derive(Clone, Debug, PartialEq)]
pub enum TriggerOn {
    /// A case designation; with a non-empty `quarantine`, only while the
    /// person is also in one of those quarantines (Anhui: asymptomatic under
    /// centralized quarantine). Standing.
    Case {
        status: CaseStatus,
        quarantine: QuarantineSet,
    },
    /// Being in centralized or home quarantine (Guangdong). Standing.
    Quarantine {
        kinds: QuarantineSet,
    },
    /// A telecom stay in a county whose risk level was exactly `risk` then.
    Arrival {
        risk: RiskLevel,
    },
    /// An abnormal declaration: symptoms, declared contact, or temperature at
    /// or above the rule set's `fever`. With `while`, the Anhui "abnormal
    /// check-in while yellow turns red".
    Declaration,
    /// A confirmed case in the same stairwell or office area.
    SameBuilding,
    /// A temperature at or above `threshold` taken at a checkpoint: a
    /// verification, a staff/kiosk record or a place-code scan.
    CheckpointTemperature {
        threshold: DeciCelsius,
    },
    PositiveNat,
    /// The authority designates a person `designated`.
    Authority {
        designated: Color,
    },
    /// A minor whose face verification failed (Guangdong's white code).
    UnverifiedMinor,
}

impl TriggerOn {
    pub fn name(&self) -> &'static str {
        match self {
            TriggerOn::Case { .. } => "case",
            TriggerOn::Quarantine { .. } => "quarantine",
            TriggerOn::Arrival { .. } => "arrival",
            TriggerOn::Declaration => "declaration",
            TriggerOn::SameBuilding => "same_building",
            TriggerOn::CheckpointTemperature { .. } => "checkpoint_temperature",
            TriggerOn::PositiveNat => "positive_nat",
            TriggerOn::Authority { .. } => "authority",
            TriggerOn::UnverifiedMinor => "unverified_minor",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Trigger {
    pub on: TriggerOn,
    pub color: Color,
    /// Only fires while the person holds one of these colors (empty: any).
    pub when: ColorSet,
    pub reason: Arc<str>,
}

/// The way back from a color to green. Every listed condition must hold.
#[derive(Clone, Debug, PartialEq)]
pub struct Release {
    pub min_days: u16,
    pub checkins: u8,
    pub quarantine_over: bool,
    pub negative_nat: bool,
    pub verified: bool,
    pub guidance: Arc<str>,
}

/// What Hubei shows of NAT results.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum NatDisplay {
    None,
    /// Only the most recent negative result.
    LatestNegative,
}

/// Per-relation limits on family applications; `None` is unlimited.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FamilyLimits {
    pub parent: Option<u8>,
    pub child: Option<u8>,
    pub spouse: Option<u8>,
    pub relative: Option<u8>,
    pub total: Option<u8>,
    pub parent_min_age: Option<u8>,
    pub child_max_age: Option<u8>,
}

/// Hubei's resume-work rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResumeWorkRule {
    pub nat_days_before_arrival: u16,
    pub igg_positive: bool,
}

/// Parameters of the international version (防疫健康码国际版).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntlParams {
    pub validity_hours: u32,
    pub reminder_hours: u32,
    pub streak_days: u32,
    pub fever: DeciCelsius,
    /// Proxy filing is allowed for people at least this old (the source
    /// names no age).
    pub elderly_age: u8,
    pub child_max_age: u8,
    /// 2020-04-08 … 04-22: flights in this window need daily declarations
    /// from its first day instead of 14 days.
    pub transition: Option<(crate::time::Minute, crate::time::Minute)>,
    /// Countries of departure that require declaring; `None` lists all.
    pub listed_countries: Option<Vec<u16>>,
}

impl Default for IntlParams {
    fn default() -> Self {
        IntlParams {
            validity_hours: 24,
            reminder_hours: 2,
            streak_days: 14,
            fever: DeciCelsius(373),
            elderly_age: 70,
            child_max_age: 12,
            transition: None,
            listed_countries: None,
        }
    }
}

/// A validated rule set. Built only by `RuleSet::parse`/`load`, so every
/// invariant `load` checks holds for every instance.
#[derive(Clone, Debug)]
pub struct RuleSet {
    scheme: String,
    title: String,
    origin: String,
    colors: Vec<Color>,
    /// Scheme rank (0 = most lenient) by `Color::index()`; `NOT_IN_SCHEME`.
    rank: [u8; 5],
    decisions: [Option<Decision>; 5],
    explain: ColorSet,
    triggers: Vec<Trigger>,
    releases: [Option<Release>; 5],
    fever: DeciCelsius,
    offline_valid_hours: u32,
    nat_display: NatDisplay,
    credit_record: bool,
    require_face_verification: bool,
    minor_age: u8,
    family: Option<FamilyLimits>,
    resume_work: Option<ResumeWorkRule>,
    international: IntlParams,
    /// Lowest checkpoint-temperature threshold: readings below it change
    /// nothing and are not journaled at verification.
    checkpoint_threshold_min: Option<DeciCelsius>,
    #[cfg(feature = "mutant")]
    mutant: Option<Mutant>,
}

/// Deliberate rule bugs, compiled only with the `mutant` feature, so the
/// oracle's tests can show it catches a broken platform.
#[cfg(feature = "mutant")]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Mutant {
    /// A release needing N consecutive check-ins completes after N − 1
    /// (yellow → green after 6 check-ins instead of 7).
    OneCheckinShort,
    /// Triggers fire whatever color the person holds (`while` ignored).
    IgnoreWhile,
    /// A release completes a day before its `min_days` have passed.
    MinDaysShort,
    /// Checkpoints pass a yellow code whatever the checkpoint table says.
    YellowPasses,
    /// Not a rule: the province acknowledges the journal records of every
    /// 8th person without writing them to its durable log, so a crash and
    /// restart loses them (what the fault audit must detect).
    UnloggedRecord,
    /// Not a rule: the province serves its own codes without checking their
    /// token, so a guessed serial reads its holder (what the oracle's
    /// forged-code invariant must detect).
    AcceptForgedCodes,
    /// A quarantine order is taken to end a day before its `end`, so the
    /// color it holds (standing trigger, `quarantine_over`) is released a
    /// day early.
    QuarantineEndsEarly,
    /// A trigger leaves an earlier negative NAT standing: the release's
    /// "negative NAT after the trigger" reads any negative result since
    /// registration, not only those sampled after the clock started.
    StaleNegativeNat,
    /// A scan of another province's code is decided on the issuer's color
    /// as shown, without the recognition policy's mapping (a Fujian orange
    /// code is referred, not refused, where the policy makes it red).
    RecognitionUnmapped,
    /// Offline codes are accepted for a day longer than the scheme's
    /// `offline_valid_hours`.
    OfflineExpiresLate,
    /// Holders are shown with one more character of their document number
    /// than the mask allows (8 of 18 for an ID card).
    MaskOneShort,
}

const NOT_IN_SCHEME: u8 = u8::MAX;

impl RuleSet {
    pub fn load(path: &Path) -> Result<RuleSet, RuleError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| RuleError::whole_file(&origin, format!("cannot read rule set: {e}")))?;
        RuleSet::parse(&text, &origin)
    }

    /// Parses and validates a rule set; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<RuleSet, RuleError> {
        load::parse(text, origin)
    }

    pub fn scheme(&self) -> &str {
        &self.scheme
    }
    pub fn title(&self) -> &str {
        &self.title
    }
    pub fn origin(&self) -> &str {
        &self.origin
    }
    /// The scheme's colors, lenient → strict.
    pub fn colors(&self) -> &[Color] {
        &self.colors
    }
    pub fn has_color(&self, c: Color) -> bool {
        self.rank[c.index()] != NOT_IN_SCHEME
    }
    /// True when `a` is stricter than `b` in this scheme.
    pub fn stricter(&self, a: Color, b: Color) -> bool {
        self.rank[a.index()] > self.rank[b.index()] || self.rank[b.index()] == NOT_IN_SCHEME
    }
    pub fn triggers(&self) -> &[Trigger] {
        &self.triggers
    }
    pub fn release(&self, c: Color) -> Option<&Release> {
        self.releases[c.index()].as_ref()
    }
    /// The checkpoint decision for a color. A color outside the scheme (a
    /// code from elsewhere) is treated by severity, never more leniently.
    pub fn decision(&self, c: Color) -> Decision {
        self.decisions[c.index()].unwrap_or(match c.severity() {
            0 => Decision::Pass,
            3 => Decision::Refuse,
            _ => Decision::Refer,
        })
    }
    pub fn explains(&self, c: Color) -> bool {
        self.explain.contains(c)
    }
    pub fn fever(&self) -> DeciCelsius {
        self.fever
    }
    pub fn offline_valid_hours(&self) -> u32 {
        self.offline_valid_hours
    }
    pub fn nat_display(&self) -> NatDisplay {
        self.nat_display
    }
    pub fn credit_record(&self) -> bool {
        self.credit_record
    }
    pub fn require_face_verification(&self) -> bool {
        self.require_face_verification
    }
    pub fn minor_age(&self) -> u8 {
        self.minor_age
    }
    pub fn family(&self) -> Option<&FamilyLimits> {
        self.family.as_ref()
    }
    pub fn resume_work(&self) -> Option<&ResumeWorkRule> {
        self.resume_work.as_ref()
    }
    pub fn international(&self) -> &IntlParams {
        &self.international
    }
    /// Whether any trigger gives the white code to unverified minors.
    pub fn has_unverified_minor(&self) -> bool {
        self.triggers
            .iter()
            .any(|t| t.on == TriggerOn::UnverifiedMinor)
    }
    /// This rule set with a deliberate bug (tests of the oracle only).
    #[cfg(feature = "mutant")]
    pub fn mutated(mut self, m: Mutant) -> RuleSet {
        self.mutant = Some(m);
        self
    }

    /// The deliberate bug this rule set carries, if any.
    #[cfg(feature = "mutant")]
    pub fn mutant(&self) -> Option<Mutant> {
        self.mutant
    }

    /// The decision a checkpoint of this province gives a color it shows:
    /// `decision`, unless a test broke the platform on purpose. (The
    /// oracle reads `decision` itself, so the bug sits here.)
    pub(crate) fn checkpoint_decision(&self, c: Color) -> Decision {
        #[cfg(feature = "mutant")]
        if self.mutant == Some(Mutant::YellowPasses) && c == Color::Yellow {
            return Decision::Pass;
        }
        self.decision(c)
    }

    /// Whether a checkpoint reading is worth journaling and evaluating.
    pub fn checkpoint_reading_matters(&self, t: DeciCelsius) -> bool {
        t >= self.fever || self.checkpoint_threshold_min.is_some_and(|m| t >= m)
    }
}

#[cfg(test)]
mod tests;
