//! TOML → validated `RuleSet`. serde checks shapes and unknown keys; this
//! module checks meaning (colors in the scheme, fields that fit the trigger,
//! numbers in range, a way back to green for every color) and points at the
//! line of the offending value.

use super::error::RuleError;
use super::{
    ColorSet, FamilyLimits, IntlParams, NatDisplay, QuarantineSet, Release, ResumeWorkRule,
    RuleSet, Trigger, TriggerOn, NOT_IN_SCHEME,
};
use crate::api::{CaseStatus, DeciCelsius, QuarantineKind, RiskLevel};
use crate::color::{Color, Decision, ALL_COLORS};
use crate::time::Minute;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;
use toml::Spanned;

type S<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuleSet {
    scheme: S<String>,
    #[serde(default)]
    title: Option<String>,
    colors: S<Vec<S<String>>>,
    #[serde(default)]
    explain: Option<S<Vec<S<String>>>>,
    checkpoint: S<RawCheckpoint>,
    #[serde(default)]
    parameters: Option<RawParameters>,
    #[serde(default)]
    registration: Option<RawRegistration>,
    #[serde(default)]
    family: Option<RawFamily>,
    #[serde(default)]
    resume_work: Option<RawResumeWork>,
    #[serde(default)]
    international: Option<RawIntl>,
    #[serde(default)]
    trigger: Vec<S<RawTrigger>>,
    #[serde(default)]
    release: BTreeMap<S<String>, S<RawRelease>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheckpoint {
    #[serde(default)]
    pass: Vec<S<String>>,
    #[serde(default)]
    refer: Vec<S<String>>,
    #[serde(default)]
    refuse: Vec<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParameters {
    fever: Option<S<f64>>,
    offline_valid_hours: Option<S<i64>>,
    nat_display: Option<S<String>>,
    credit_record: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegistration {
    require_face_verification: Option<bool>,
    minor_age: Option<S<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFamily {
    parent: Option<S<i64>>,
    child: Option<S<i64>>,
    spouse: Option<S<i64>>,
    relative: Option<S<i64>>,
    total: Option<S<i64>>,
    parent_min_age: Option<S<i64>>,
    child_max_age: Option<S<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResumeWork {
    nat_days_before_arrival: S<i64>,
    igg_positive: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIntl {
    validity_hours: Option<S<i64>>,
    reminder_hours: Option<S<i64>>,
    streak_days: Option<S<i64>>,
    fever: Option<S<f64>>,
    elderly_age: Option<S<i64>>,
    child_max_age: Option<S<i64>>,
    transition_start: Option<S<String>>,
    transition_end: Option<S<String>>,
    listed_countries: Option<S<Vec<i64>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrigger {
    on: S<String>,
    color: S<String>,
    reason: S<String>,
    status: Option<S<String>>,
    quarantine: Option<S<Vec<S<String>>>>,
    risk: Option<S<String>>,
    threshold: Option<S<f64>>,
    designated: Option<S<String>>,
    #[serde(rename = "while")]
    when: Option<S<Vec<S<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelease {
    min_days: Option<S<i64>>,
    checkins: Option<S<i64>>,
    quarantine_over: Option<bool>,
    negative_nat: Option<bool>,
    verified: Option<bool>,
    guidance: S<String>,
}

const TRIGGER_KINDS: &str = "case, quarantine, arrival, declaration, same_building, \
                             checkpoint_temperature, positive_nat, authority, unverified_minor";

/// Validation context: the text and origin, for errors with line numbers.
struct Ctx<'a> {
    text: &'a str,
    origin: &'a str,
    colors: Vec<Color>,
}

impl Ctx<'_> {
    fn err(&self, span: Range<usize>, field: &str, msg: impl Into<String>) -> RuleError {
        RuleError::at(self.origin, self.text, span, field, msg)
    }

    fn scheme_colors(&self) -> String {
        join(self.colors.iter().map(|c| c.as_str()))
    }

    /// A color that must be one of the scheme's.
    fn color(&self, s: &S<String>, field: &str) -> Result<Color, RuleError> {
        match Color::parse(s.get_ref()) {
            None => Err(self.err(
                s.span(),
                field,
                format!(
                    "unknown color `{}`, expected one of {}",
                    s.get_ref(),
                    self.scheme_colors()
                ),
            )),
            Some(c) if !self.colors.contains(&c) => Err(self.err(
                s.span(),
                field,
                format!(
                    "color `{c}` is not one of this scheme's colors ({})",
                    self.scheme_colors()
                ),
            )),
            Some(c) => Ok(c),
        }
    }

    fn color_set(&self, list: &[S<String>], field: &str) -> Result<ColorSet, RuleError> {
        let mut set = ColorSet::EMPTY;
        for s in list {
            set = set.with(self.color(s, field)?);
        }
        Ok(set)
    }

    fn int(&self, v: &S<i64>, field: &str, range: Range<i64>) -> Result<i64, RuleError> {
        let x = *v.get_ref();
        if range.contains(&x) {
            Ok(x)
        } else {
            Err(self.err(
                v.span(),
                field,
                format!(
                    "{x} is out of range: must be {}..={}",
                    range.start,
                    range.end - 1
                ),
            ))
        }
    }

    fn opt_int(
        &self,
        v: &Option<S<i64>>,
        field: &str,
        range: Range<i64>,
        default: i64,
    ) -> Result<i64, RuleError> {
        v.as_ref()
            .map_or(Ok(default), |v| self.int(v, field, range))
    }

    /// A body temperature in °C, one decimal, within what a thermometer shows.
    fn celsius(&self, v: &S<f64>, field: &str) -> Result<DeciCelsius, RuleError> {
        let x = *v.get_ref();
        if (35.0..=43.0).contains(&x) {
            Ok(DeciCelsius((x * 10.0).round() as u16))
        } else {
            Err(self.err(
                v.span(),
                field,
                format!("{x} °C is out of range: must be 35.0..=43.0"),
            ))
        }
    }

    fn text(&self, v: &S<String>, field: &str) -> Result<Arc<str>, RuleError> {
        let t = v.get_ref().trim();
        if t.is_empty() {
            Err(self.err(v.span(), field, "must not be empty"))
        } else {
            Ok(Arc::from(t))
        }
    }
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

pub(super) fn parse(text: &str, origin: &str) -> Result<RuleSet, RuleError> {
    let raw: RawRuleSet =
        toml::from_str(text).map_err(|e| RuleError::from_toml(origin, text, &e))?;
    let mut cx = Ctx {
        text,
        origin,
        colors: Vec::new(),
    };

    let scheme = raw.scheme.get_ref().trim().to_string();
    if scheme.is_empty() {
        return Err(cx.err(raw.scheme.span(), "scheme", "must not be empty"));
    }

    // Colors: known, distinct, green included, lenient → strict.
    for s in raw.colors.get_ref() {
        let c = Color::parse(s.get_ref()).ok_or_else(|| {
            cx.err(
                s.span(),
                "colors",
                format!(
                    "unknown color `{}`, expected one of {}",
                    s.get_ref(),
                    join(ALL_COLORS.iter().map(|c| c.as_str()))
                ),
            )
        })?;
        if cx.colors.contains(&c) {
            return Err(cx.err(s.span(), "colors", format!("color `{c}` is listed twice")));
        }
        if let Some(prev) = cx.colors.last() {
            if prev.severity() > c.severity() {
                return Err(cx.err(
                    s.span(),
                    "colors",
                    format!(
                        "`{prev}` is listed before `{c}`, but colors go from lenient to strict"
                    ),
                ));
            }
        }
        cx.colors.push(c);
    }
    if !cx.colors.contains(&Color::Green) {
        return Err(cx.err(
            raw.colors.span(),
            "colors",
            "the scheme must list `green`: every release leads back to it",
        ));
    }
    let mut rank = [NOT_IN_SCHEME; 5];
    for (i, c) in cx.colors.iter().enumerate() {
        rank[c.index()] = i as u8;
    }

    // Checkpoint: every scheme color gets exactly one decision.
    let cp = raw.checkpoint.get_ref();
    let mut decisions: [Option<Decision>; 5] = [None; 5];
    for (list, decision, field) in [
        (&cp.pass, Decision::Pass, "pass"),
        (&cp.refer, Decision::Refer, "refer"),
        (&cp.refuse, Decision::Refuse, "refuse"),
    ] {
        for s in list {
            let c = cx.color(s, field)?;
            if let Some(d) = decisions[c.index()] {
                return Err(cx.err(
                    s.span(),
                    field,
                    format!("color `{c}` already has the checkpoint decision `{d}`"),
                ));
            }
            decisions[c.index()] = Some(decision);
        }
    }
    for c in &cx.colors {
        if decisions[c.index()].is_none() {
            return Err(cx.err(
                raw.checkpoint.span(),
                "checkpoint",
                format!(
                    "color `{c}` has no checkpoint decision: list it under pass, refer or refuse"
                ),
            ));
        }
    }
    // A checkpoint that passes a strict color but refuses a lenient one
    // would invert the scheme's order.
    for pair in cx.colors.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if decisions[a.index()] > decisions[b.index()] {
            return Err(cx.err(
                raw.checkpoint.span(),
                "checkpoint",
                format!(
                    "`{b}` is stricter than `{a}` but gets a more lenient decision ({} vs {})",
                    decisions[b.index()].map_or("", |d| d.as_str()),
                    decisions[a.index()].map_or("", |d| d.as_str())
                ),
            ));
        }
    }

    let explain = match &raw.explain {
        Some(list) => cx.color_set(list.get_ref(), "explain")?,
        None => cx
            .colors
            .iter()
            .filter(|c| **c != Color::Green)
            .fold(ColorSet::EMPTY, |s, c| s.with(*c)),
    };

    let mut triggers = Vec::new();
    for t in &raw.trigger {
        triggers.push(trigger(&cx, t)?);
    }
    if triggers.len() >= u8::MAX as usize {
        return Err(cx.err(
            raw.trigger[u8::MAX as usize - 1].span(),
            "trigger",
            format!("{} triggers is out of range: at most 254", triggers.len()),
        ));
    }

    let mut releases: [Option<Release>; 5] = Default::default();
    for (key, r) in &raw.release {
        let c = cx.color(key, "release")?;
        if c == Color::Green {
            return Err(cx.err(
                key.span(),
                "release",
                "green needs no release: it is where releases lead",
            ));
        }
        releases[c.index()] = Some(release(&cx, r)?);
    }
    for c in &cx.colors {
        if *c != Color::Green && releases[c.index()].is_none() {
            return Err(cx.err(
                raw.colors.span(),
                "release",
                format!(
                    "color `{c}` has no [release.{c}]: nobody could get from {c} back to green"
                ),
            ));
        }
    }

    let mut fever = DeciCelsius(373);
    let mut offline_valid_hours = 24;
    let mut nat_display = NatDisplay::None;
    let mut credit_record = false;
    if let Some(p) = &raw.parameters {
        if let Some(f) = &p.fever {
            fever = cx.celsius(f, "fever")?;
        }
        offline_valid_hours =
            cx.opt_int(&p.offline_valid_hours, "offline_valid_hours", 1..721, 24)? as u32;
        if let Some(n) = &p.nat_display {
            nat_display = match n.get_ref().as_str() {
                "none" => NatDisplay::None,
                "latest_negative" => NatDisplay::LatestNegative,
                other => {
                    return Err(cx.err(
                        n.span(),
                        "nat_display",
                        format!("unknown NAT display `{other}`, expected none or latest_negative"),
                    ))
                }
            };
        }
        credit_record = p.credit_record.unwrap_or(false);
    }

    let (require_face_verification, minor_age) = match &raw.registration {
        Some(r) => (
            r.require_face_verification.unwrap_or(false),
            cx.opt_int(&r.minor_age, "minor_age", 1..22, 18)? as u8,
        ),
        None => (false, 18),
    };

    let family = match &raw.family {
        None => None,
        Some(f) => {
            let lim = |v: &Option<S<i64>>, field| -> Result<Option<u8>, RuleError> {
                v.as_ref()
                    .map(|v| cx.int(v, field, 0..51).map(|x| x as u8))
                    .transpose()
            };
            let age = |v: &Option<S<i64>>, field| -> Result<Option<u8>, RuleError> {
                v.as_ref()
                    .map(|v| cx.int(v, field, 0..121).map(|x| x as u8))
                    .transpose()
            };
            Some(FamilyLimits {
                parent: lim(&f.parent, "parent")?,
                child: lim(&f.child, "child")?,
                spouse: lim(&f.spouse, "spouse")?,
                relative: lim(&f.relative, "relative")?,
                total: lim(&f.total, "total")?,
                parent_min_age: age(&f.parent_min_age, "parent_min_age")?,
                child_max_age: age(&f.child_max_age, "child_max_age")?,
            })
        }
    };

    let resume_work = match &raw.resume_work {
        None => None,
        Some(r) => Some(ResumeWorkRule {
            nat_days_before_arrival: cx.int(
                &r.nat_days_before_arrival,
                "nat_days_before_arrival",
                1..31,
            )? as u16,
            igg_positive: r.igg_positive,
        }),
    };

    let international = match &raw.international {
        None => IntlParams::default(),
        Some(i) => intl(&cx, i)?,
    };

    let checkpoint_threshold_min = triggers
        .iter()
        .filter_map(|t| match t.on {
            TriggerOn::CheckpointTemperature { threshold } => Some(threshold),
            _ => None,
        })
        .min();

    Ok(RuleSet {
        title: raw.title.clone().unwrap_or_else(|| scheme.clone()),
        scheme,
        origin: origin.to_string(),
        colors: std::mem::take(&mut cx.colors),
        rank,
        decisions,
        explain,
        triggers,
        releases,
        fever,
        offline_valid_hours,
        nat_display,
        credit_record,
        require_face_verification,
        minor_age,
        family,
        resume_work,
        international,
        checkpoint_threshold_min,
        #[cfg(feature = "mutant")]
        mutant: None,
    })
}

fn trigger(cx: &Ctx, t: &S<RawTrigger>) -> Result<Trigger, RuleError> {
    let head = t.span();
    let r = t.get_ref();
    let kind = r.on.get_ref().as_str();
    let needs = |field: &str, what: &str| {
        cx.err(
            head.clone(),
            field,
            format!("`on = \"{kind}\"` needs `{field}` ({what})"),
        )
    };

    // Fields a trigger kind does not use are errors, not silently ignored.
    let present: [(&str, Option<Range<usize>>); 5] = [
        ("status", r.status.as_ref().map(|s| s.span())),
        ("quarantine", r.quarantine.as_ref().map(|s| s.span())),
        ("risk", r.risk.as_ref().map(|s| s.span())),
        ("threshold", r.threshold.as_ref().map(|s| s.span())),
        ("designated", r.designated.as_ref().map(|s| s.span())),
    ];
    let allowed: &[&str] = match kind {
        "case" => &["status", "quarantine"],
        "quarantine" => &["quarantine"],
        "arrival" => &["risk"],
        "checkpoint_temperature" => &["threshold"],
        "authority" => &["designated"],
        "declaration" | "same_building" | "positive_nat" | "unverified_minor" => &[],
        other => {
            return Err(cx.err(
                r.on.span(),
                "on",
                format!("unknown trigger `{other}`, expected one of {TRIGGER_KINDS}"),
            ))
        }
    };
    for (field, span) in &present {
        if let Some(span) = span {
            if !allowed.contains(field) {
                return Err(cx.err(
                    span.clone(),
                    field,
                    format!("`{field}` does not apply to `on = \"{kind}\"`"),
                ));
            }
        }
    }

    let quarantine_set = |list: &S<Vec<S<String>>>| -> Result<QuarantineSet, RuleError> {
        let mut set = QuarantineSet::NONE;
        for s in list.get_ref() {
            set = set.with(match s.get_ref().as_str() {
                "centralized" => QuarantineKind::Centralized,
                "home" => QuarantineKind::Home,
                other => {
                    return Err(cx.err(
                        s.span(),
                        "quarantine",
                        format!("unknown quarantine `{other}`, expected centralized or home"),
                    ))
                }
            });
        }
        if set.is_empty() {
            return Err(cx.err(list.span(), "quarantine", "the list is empty"));
        }
        Ok(set)
    };

    let on = match kind {
        "case" => {
            let s = r.status.as_ref().ok_or_else(|| {
                needs(
                    "status",
                    "confirmed, suspected, asymptomatic or close_contact",
                )
            })?;
            let status = match s.get_ref().as_str() {
                "confirmed" => CaseStatus::Confirmed,
                "suspected" => CaseStatus::Suspected,
                "asymptomatic" => CaseStatus::Asymptomatic,
                "close_contact" => CaseStatus::CloseContact,
                other => {
                    return Err(cx.err(
                        s.span(),
                        "status",
                        format!("unknown case status `{other}`, expected one of confirmed, suspected, asymptomatic, close_contact"),
                    ))
                }
            };
            let quarantine = match &r.quarantine {
                Some(q) => quarantine_set(q)?,
                None => QuarantineSet::NONE,
            };
            TriggerOn::Case { status, quarantine }
        }
        "quarantine" => {
            let q = r
                .quarantine
                .as_ref()
                .ok_or_else(|| needs("quarantine", "a list of centralized, home"))?;
            TriggerOn::Quarantine {
                kinds: quarantine_set(q)?,
            }
        }
        "arrival" => {
            let s = r
                .risk
                .as_ref()
                .ok_or_else(|| needs("risk", "medium or high"))?;
            let risk = match s.get_ref().as_str() {
                "medium" => RiskLevel::Medium,
                "high" => RiskLevel::High,
                "low" => {
                    return Err(cx.err(
                        s.span(),
                        "risk",
                        "arriving from a low-risk county is not a trigger: use medium or high",
                    ))
                }
                other => {
                    return Err(cx.err(
                        s.span(),
                        "risk",
                        format!("unknown risk level `{other}`, expected medium or high"),
                    ))
                }
            };
            TriggerOn::Arrival { risk }
        }
        "checkpoint_temperature" => {
            let v = r
                .threshold
                .as_ref()
                .ok_or_else(|| needs("threshold", "°C, e.g. 37.3"))?;
            TriggerOn::CheckpointTemperature {
                threshold: cx.celsius(v, "threshold")?,
            }
        }
        "authority" => {
            let s = r
                .designated
                .as_ref()
                .ok_or_else(|| needs("designated", "the color the authority designates"))?;
            let designated = Color::parse(s.get_ref()).ok_or_else(|| {
                cx.err(
                    s.span(),
                    "designated",
                    format!(
                        "unknown color `{}`, expected one of {}",
                        s.get_ref(),
                        join(ALL_COLORS.iter().map(|c| c.as_str()))
                    ),
                )
            })?;
            TriggerOn::Authority { designated }
        }
        "declaration" => TriggerOn::Declaration,
        "same_building" => TriggerOn::SameBuilding,
        "positive_nat" => TriggerOn::PositiveNat,
        _ => TriggerOn::UnverifiedMinor,
    };

    let color = cx.color(&r.color, "color")?;
    if color == Color::Green {
        return Err(cx.err(
            r.color.span(),
            "color",
            "a trigger cannot give `green`: green is where releases lead",
        ));
    }
    let when = match &r.when {
        Some(list) => {
            let set = cx.color_set(list.get_ref(), "while")?;
            if set.is_empty() {
                return Err(cx.err(list.span(), "while", "the list is empty"));
            }
            set
        }
        None => ColorSet::EMPTY,
    };
    Ok(Trigger {
        on,
        color,
        when,
        reason: cx.text(&r.reason, "reason")?,
    })
}

fn release(cx: &Ctx, r: &S<RawRelease>) -> Result<Release, RuleError> {
    let r = r.get_ref();
    Ok(Release {
        min_days: cx.opt_int(&r.min_days, "min_days", 0..366, 0)? as u16,
        checkins: cx.opt_int(&r.checkins, "checkins", 0..101, 0)? as u8,
        quarantine_over: r.quarantine_over.unwrap_or(false),
        negative_nat: r.negative_nat.unwrap_or(false),
        verified: r.verified.unwrap_or(false),
        guidance: cx.text(&r.guidance, "guidance")?,
    })
}

fn intl(cx: &Ctx, i: &RawIntl) -> Result<IntlParams, RuleError> {
    let d = IntlParams::default();
    let validity_hours = cx.opt_int(&i.validity_hours, "validity_hours", 1..169, 24)? as u32;
    let reminder_hours = cx.opt_int(&i.reminder_hours, "reminder_hours", 0..169, 2)? as u32;
    if reminder_hours >= validity_hours {
        let span = i.reminder_hours.as_ref().map_or(0..0, |s| s.span());
        return Err(cx.err(
            span,
            "reminder_hours",
            format!("{reminder_hours} must be less than validity_hours ({validity_hours})"),
        ));
    }
    let time = |v: &Option<S<String>>, field| -> Result<Option<Minute>, RuleError> {
        v.as_ref()
            .map(|s| Minute::parse(s.get_ref()).map_err(|m| cx.err(s.span(), field, m)))
            .transpose()
    };
    let start = time(&i.transition_start, "transition_start")?;
    let end = time(&i.transition_end, "transition_end")?;
    let transition = match (start, end) {
        (None, None) => None,
        (Some(s), Some(e)) if s <= e => Some((s, e)),
        (Some(_), Some(_)) => {
            let span = i.transition_end.as_ref().map_or(0..0, |s| s.span());
            return Err(cx.err(span, "transition_end", "is before transition_start"));
        }
        _ => {
            let (field, span) = match &i.transition_start {
                Some(s) => ("transition_end", s.span()),
                None => (
                    "transition_start",
                    i.transition_end.as_ref().map_or(0..0, |s| s.span()),
                ),
            };
            return Err(cx.err(
                span,
                field,
                "the transition needs both transition_start and transition_end",
            ));
        }
    };
    let listed_countries = match &i.listed_countries {
        None => None,
        Some(list) => {
            let mut out = Vec::new();
            for &c in list.get_ref() {
                if !(1..1000).contains(&c) {
                    return Err(cx.err(
                        list.span(),
                        "listed_countries",
                        format!("{c} is not an ISO 3166 numeric country code (1..=999)"),
                    ));
                }
                out.push(c as u16);
            }
            out.sort_unstable();
            out.dedup();
            Some(out)
        }
    };
    Ok(IntlParams {
        validity_hours,
        reminder_hours,
        streak_days: cx.opt_int(&i.streak_days, "streak_days", 1..61, d.streak_days as i64)? as u32,
        fever: match &i.fever {
            Some(f) => cx.celsius(f, "fever")?,
            None => d.fever,
        },
        elderly_age: cx.opt_int(&i.elderly_age, "elderly_age", 50..121, d.elderly_age as i64)?
            as u8,
        child_max_age: cx.opt_int(
            &i.child_max_age,
            "child_max_age",
            0..18,
            d.child_max_age as i64,
        )? as u8,
        transition,
        listed_countries,
    })
}
