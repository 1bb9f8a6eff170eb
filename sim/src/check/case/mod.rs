//! The case file format: TOML, one `[[case]]` per person, a timeline of
//! steps, each an action with optional expectations about its answer.
//! Parsing is strict: every field must fit its step's action, and errors
//! name the file, the line and the field. The format is documented for
//! policy teams in `scenarios/cases/README.md`.

mod step;

use super::error::CaseError;
use hcsim_platform::api::{
    CaseStatus, CheckpointKind, CountyRef, DeciCelsius, QuarantineKind, Relation, RiskLevel,
};
use hcsim_platform::color::{Color, Decision};
use hcsim_platform::identity::{DocKind, DocNumber, Identity, NameCode};
use hcsim_platform::region::province_keys;
use hcsim_platform::rules::line_of;
use hcsim_platform::{Minute, ProvinceId};
use serde::Deserialize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use step::{RawStep, FEEDS, NO_CODE};
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    case: Vec<Spanned<RawCase>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: Spanned<String>,
    province: Spanned<String>,
    #[serde(default)]
    rules: Option<Spanned<String>>,
    #[serde(default)]
    person: Option<Spanned<RawPerson>>,
    steps: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerson {
    age: Option<i64>,
    doc: Option<String>,
}

/// One step as written. Its fields are checked against the action.
#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    pub file: PathBuf,
    pub line: usize,
    pub province: ProvinceId,
    /// Where the case's rule set comes from.
    pub rules: PathBuf,
    /// The rules directory: other provinces' rule sets for cross-province
    /// scans, and `../recognition/policy.toml` beside it.
    pub rules_dir: Option<PathBuf>,
    pub person: Identity,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug)]
pub struct Step {
    pub line: usize,
    /// The action's name as written (`declare`, `scan`...).
    pub verb: String,
    /// When the fact happened.
    pub at: Minute,
    /// When the platform receives it (feeds may come late).
    pub delivered: Minute,
    /// Repeated daily this many times; expectations apply to the last.
    pub days: u32,
    pub action: Action,
    pub expect: Expect,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum By {
    Code,
    IdCard,
    Offline,
    /// The national code (applied for on first use).
    National,
}

#[derive(Clone, Debug)]
pub enum Action {
    Register {
        identity: Identity,
        face_verified: bool,
    },
    Family {
        member: Identity,
        relation: Relation,
    },
    Declare {
        temperature: DeciCelsius,
        symptoms: bool,
        contact: bool,
    },
    Temperature {
        temperature: DeciCelsius,
        place: CheckpointKind,
    },
    Scan {
        by: By,
        temperature: Option<DeciCelsius>,
        place: CheckpointKind,
        /// Scanned in another province: the receiver asks the hub.
        scanned_in: Option<ProvinceId>,
        /// False: the receiver cannot reach the hub.
        hub_link: bool,
    },
    PlaceScan {
        temperature: DeciCelsius,
        place: CheckpointKind,
    },
    Offline,
    Query,
    Records,
    Designate {
        status: CaseStatus,
    },
    Quarantine {
        kind: QuarantineKind,
        days: u32,
    },
    Risk {
        county: CountyRef,
        level: RiskLevel,
    },
    Stay {
        county: CountyRef,
    },
    Nat {
        positive: bool,
        institution: u16,
    },
    Igg {
        positive: bool,
    },
    SameBuilding,
    Authority {
        color: Color,
    },
    Credit,
    Entry {
        country: u16,
        /// Default: the `flight` step's.
        flight: Option<u32>,
    },
    /// The carriers' roaming record: the person's phone was in `country`.
    Roaming {
        country: u16,
    },
    /// Apply for the national code at the hub.
    National,
    EntryQuery,
    Itinerary {
        countries: Vec<u16>,
    },
    SameFlight,
    /// Another passenger of the person's last inbound flight is designated.
    CoPassenger {
        status: CaseStatus,
    },
    IntlDeclare {
        identity: Identity,
        subject: Option<Identity>,
        temperature: DeciCelsius,
        symptoms: bool,
        contact: bool,
        positive_test: bool,
        departure: Option<Minute>,
    },
    IntlStatus {
        subject: Option<Identity>,
    },
    Flight {
        departure: Minute,
        flight: u32,
    },
    ResumeWork {
        arrival: Minute,
    },
    /// International version: whether this trip needs declarations.
    Trip {
        country: u16,
        via: Option<(u16, bool)>,
    },
}

/// What a step expects of its answer; `None` fields are not checked.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    pub color: Option<Color>,
    pub decision: Option<Decision>,
    pub refused: Option<String>,
    pub explanation: Option<bool>,
    pub reason: Option<String>,
    pub guidance: Option<String>,
    /// `Some(None)`: no NAT result shown.
    pub nat: Option<Option<Minute>>,
    pub resume_work: Option<String>,
    pub credit: Option<u16>,
    pub records: Option<usize>,
    pub valid: Option<bool>,
    pub streak_days: Option<u32>,
    pub alert: Option<String>,
    pub reminder: Option<Minute>,
    pub must_declare: Option<bool>,
    /// The scan was answered "system busy".
    pub busy: Option<bool>,
    /// Entered China in the last 14 days.
    pub entered: Option<bool>,
    /// Countries the itinerary check flags as left out.
    pub concealed: Option<Vec<u16>>,
    /// The same-flight self-check found a case.
    pub same_flight: Option<bool>,
    /// Any color but this one.
    pub not_color: Option<Color>,
    /// The latest entry of the last 14 days: when, and the country of
    /// origin (ISO 3166 numeric).
    pub entered_at: Option<Minute>,
    pub origin: Option<u16>,
    /// When the declaration in force stops being valid: it names which of
    /// several declarations counts (the one filed 24 hours before).
    pub valid_until: Option<Minute>,
}

struct Cx<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Cx<'_> {
    fn err(&self, span: Range<usize>, field: &str, msg: impl Into<String>) -> CaseError {
        CaseError::at(self.file, self.text, span, field, msg)
    }
}

/// Parses one case file. `rules_dir` resolves rule-set names.
pub fn parse_file(
    file: &Path,
    text: &str,
    rules_dir: Option<&Path>,
) -> Result<Vec<Case>, CaseError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| CaseError::from_toml(file, text, &e))?;
    let cx = Cx { file, text };
    if raw.case.is_empty() {
        return Err(CaseError::whole_file(file, "no [[case]] in this file"));
    }
    let mut cases = Vec::new();
    for (index, c) in raw.case.iter().enumerate() {
        cases.push(case(&cx, c, index as u32, rules_dir)?);
    }
    Ok(cases)
}

fn time(cx: &Cx, span: &Range<usize>, field: &str, s: &str) -> Result<Minute, CaseError> {
    Minute::parse(s).map_err(|m| cx.err(span.clone(), field, m))
}

fn int(
    cx: &Cx,
    span: &Range<usize>,
    field: &str,
    v: i64,
    range: Range<i64>,
) -> Result<i64, CaseError> {
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(cx.err(
            span.clone(),
            field,
            format!(
                "{v} is out of range: must be {}..={}",
                range.start,
                range.end - 1
            ),
        ))
    }
}

fn celsius(cx: &Cx, span: &Range<usize>, field: &str, v: f64) -> Result<DeciCelsius, CaseError> {
    if (30.0..=45.0).contains(&v) {
        Ok(DeciCelsius((v * 10.0).round() as u16))
    } else {
        Err(cx.err(
            span.clone(),
            field,
            format!("{v} °C is out of range: must be 30.0..=45.0"),
        ))
    }
}

fn one_of<T: Copy>(
    cx: &Cx,
    span: &Range<usize>,
    field: &str,
    s: &str,
    choices: &[(&str, T)],
) -> Result<T, CaseError> {
    choices
        .iter()
        .find(|(k, _)| *k == s)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(k, _)| *k).collect();
            cx.err(
                span.clone(),
                field,
                format!(
                    "unknown {field} `{s}`, expected one of {}",
                    names.join(", ")
                ),
            )
        })
}

fn doc_kind(cx: &Cx, span: &Range<usize>, s: &str) -> Result<DocKind, CaseError> {
    one_of(
        cx,
        span,
        "doc",
        s,
        &[
            ("id_card", DocKind::IdCard),
            ("passport", DocKind::Passport),
        ],
    )
}

fn county(cx: &Cx, span: &Range<usize>, s: &str) -> Result<CountyRef, CaseError> {
    let bad = || {
        cx.err(
            span.clone(),
            "county",
            format!("`{s}` is not a county like `hubei:7` (province key : county index)"),
        )
    };
    let (p, c) = s.split_once(':').ok_or_else(bad)?;
    let province = ProvinceId::parse(p).ok_or_else(|| {
        cx.err(
            span.clone(),
            "county",
            format!("unknown province `{p}`; known: {}", province_keys()),
        )
    })?;
    let county = c.trim().parse::<u16>().map_err(|_| bad())?;
    Ok(CountyRef { province, county })
}

fn person_number(province: ProvinceId, index: u32, offset: u32) -> DocNumber {
    DocNumber::resident(province, 1, 19850101, ((index * 37 + offset) % 1000) as u16)
}

fn case(
    cx: &Cx,
    c: &Spanned<RawCase>,
    index: u32,
    rules_dir: Option<&Path>,
) -> Result<Case, CaseError> {
    let r = c.get_ref();
    let name = r.name.get_ref().trim().to_string();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(cx.err(
            r.name.span(),
            "name",
            "a case name is one word (letters, digits, `-`, `_`)",
        ));
    }
    let province = ProvinceId::parse(r.province.get_ref()).ok_or_else(|| {
        cx.err(
            r.province.span(),
            "province",
            format!(
                "unknown province `{}`; known: {}",
                r.province.get_ref(),
                province_keys()
            ),
        )
    })?;
    let rules = resolve_rules(cx, r.rules.as_ref(), province, rules_dir)?;

    let mut person = Identity {
        doc: DocKind::IdCard,
        number: person_number(province, index, 0),
        name: NameCode::new(index, 3, Some(5)),
        age: 35,
    };
    if let Some(p) = &r.person {
        let span = p.span();
        if let Some(age) = p.get_ref().age {
            person.age = int(cx, &span, "age", age, 0..121)? as u8;
        }
        if let Some(doc) = &p.get_ref().doc {
            person.doc = doc_kind(cx, &span, doc)?;
        }
    }

    let mut steps = Vec::new();
    let mut last = Minute::ZERO;
    let mut registered = false;
    let mut offline = false;
    let mut flight = false;
    for s in &r.steps {
        let step = step::step(cx, s, &person, province, index)?;
        let span = s.span();
        if step.delivered < last {
            return Err(cx.err(
                span,
                "at",
                format!(
                    "steps must be in time order: {} is before the previous step ({last})",
                    step.delivered
                ),
            ));
        }
        last = step.delivered.plus_days(step.days - 1);
        let needs_code =
            !FEEDS.contains(&step.verb.as_str()) && !NO_CODE.contains(&step.verb.as_str());
        if needs_code && !registered {
            return Err(cx.err(
                span,
                "do",
                format!(
                    "`{}` needs a registered person: add a `register` step before it",
                    step.verb
                ),
            ));
        }
        match &step.action {
            Action::Register { .. } => registered = true,
            Action::Offline => offline = true,
            Action::Flight { .. } => flight = true,
            Action::Scan {
                by: By::Offline, ..
            } if !offline => {
                return Err(cx.err(
                    span,
                    "by",
                    "`by = \"offline\"` needs an `offline` step before it",
                ));
            }
            Action::IntlDeclare {
                departure: None, ..
            } if !flight => {
                return Err(cx.err(
                    span,
                    "departure",
                    "`intl_declare` needs a departure: add a `flight` step or `departure`",
                ));
            }
            _ => {}
        }
        steps.push(step);
    }
    if steps.is_empty() {
        return Err(cx.err(c.span(), "steps", "the case has no steps"));
    }
    Ok(Case {
        name,
        file: cx.file.to_path_buf(),
        line: line_of(cx.text, c.span().start),
        province,
        rules,
        rules_dir: rules_dir.map(Path::to_path_buf),
        person,
        steps,
    })
}

/// `rules = "national"` names a file in the rules directory; a value with a
/// `/` or ending in `.toml` is a path relative to the case file. Without
/// `rules`, the province's own file, else `default.toml`.
fn resolve_rules(
    cx: &Cx,
    rules: Option<&Spanned<String>>,
    province: ProvinceId,
    rules_dir: Option<&Path>,
) -> Result<PathBuf, CaseError> {
    let base = cx.file.parent().unwrap_or(Path::new("."));
    let (path, span) = match rules {
        Some(r) if r.get_ref().contains('/') || r.get_ref().ends_with(".toml") => {
            (base.join(r.get_ref()), r.span())
        }
        Some(r) => {
            let dir = rules_dir.ok_or_else(|| {
                cx.err(
                    r.span(),
                    "rules",
                    "no rules directory (scenarios/rules) found above this case file",
                )
            })?;
            (dir.join(format!("{}.toml", r.get_ref())), r.span())
        }
        None => {
            let Some(dir) = rules_dir else {
                return Err(CaseError::whole_file(
                    cx.file,
                    "no rules directory (scenarios/rules) found above this case file; give `rules` in each case",
                ));
            };
            let own = dir.join(format!("{}.toml", province.key()));
            return Ok(if own.is_file() {
                own
            } else {
                dir.join("default.toml")
            });
        }
    };
    if !path.is_file() {
        return Err(cx.err(
            span,
            "rules",
            format!("rule-set file {} does not exist", path.display()),
        ));
    }
    Ok(path)
}
