//! One step of a case: its fields as written, which fields fit which
//! action, and the validated `Step`.

use super::{
    celsius, county, doc_kind, int, one_of, person_number, time, Action, By, Cx, Expect, Step,
};
use crate::check::error::CaseError;
use hcsim_platform::api::{
    CaseStatus, CheckpointKind, CountyRef, DeciCelsius, QuarantineKind, Relation, RiskLevel,
};
use hcsim_platform::color::{Color, Decision};
use hcsim_platform::identity::{DocKind, Identity, NameCode};
use hcsim_platform::region::province_keys;
use hcsim_platform::rules::line_of;
use hcsim_platform::ProvinceId;
use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    at: String,
    #[serde(rename = "do")]
    action: String,
    delivered: Option<String>,
    days: Option<i64>,
    // parameters
    temperature: Option<f64>,
    symptoms: Option<bool>,
    contact: Option<bool>,
    positive_test: Option<bool>,
    status: Option<String>,
    quarantine: Option<String>,
    quarantine_days: Option<i64>,
    county: Option<String>,
    level: Option<String>,
    result: Option<String>,
    institution: Option<i64>,
    designated: Option<String>,
    by: Option<String>,
    place: Option<String>,
    relation: Option<String>,
    age: Option<i64>,
    name: Option<i64>,
    doc: Option<String>,
    face_verified: Option<bool>,
    member: Option<i64>,
    subject_age: Option<i64>,
    departure: Option<String>,
    flight: Option<i64>,
    arrival: Option<String>,
    country: Option<i64>,
    via: Option<i64>,
    left_airport: Option<bool>,
    #[serde(rename = "in")]
    scanned_in: Option<String>,
    hub_link: Option<bool>,
    countries: Option<Vec<i64>>,
    // expectations
    color: Option<String>,
    decision: Option<String>,
    refused: Option<String>,
    explanation: Option<bool>,
    reason: Option<String>,
    guidance: Option<String>,
    nat: Option<String>,
    resume_work: Option<String>,
    credit: Option<i64>,
    records: Option<i64>,
    valid: Option<bool>,
    streak_days: Option<i64>,
    alert: Option<String>,
    reminder: Option<String>,
    must_declare: Option<bool>,
    busy: Option<bool>,
    entered: Option<bool>,
    concealed: Option<Vec<i64>>,
    same_flight: Option<bool>,
    not_color: Option<String>,
    entered_at: Option<String>,
    origin: Option<i64>,
    valid_until: Option<String>,
}

impl RawStep {
    /// Names of the fields this step sets, besides `at` and `do`.
    fn present(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        macro_rules! check {
            ($($f:ident),*) => { $( if self.$f.is_some() { v.push(stringify!($f)); } )* };
        }
        check!(
            delivered,
            days,
            temperature,
            symptoms,
            contact,
            positive_test,
            status,
            quarantine,
            quarantine_days,
            county,
            level,
            result,
            institution,
            designated,
            by,
            place,
            relation,
            age,
            name,
            doc,
            face_verified,
            member,
            subject_age,
            departure,
            flight,
            arrival,
            country,
            via,
            left_airport,
            hub_link,
            countries,
            color,
            decision,
            refused,
            explanation,
            reason,
            guidance,
            nat,
            resume_work,
            credit,
            records,
            valid,
            streak_days,
            alert,
            reminder,
            must_declare,
            busy,
            entered,
            concealed,
            same_flight,
            not_color,
            entered_at,
            origin,
            valid_until
        );
        if self.scanned_in.is_some() {
            v.push("in");
        }
        v
    }
}

pub(super) const FEEDS: &[&str] = &[
    "designate",
    "quarantine",
    "risk",
    "stay",
    "nat",
    "igg",
    "same_building",
    "authority",
    "credit",
    "entry",
    "roaming",
];

/// Parameters each action takes (expectations are checked separately).
fn params(action: &str) -> Option<&'static [&'static str]> {
    Some(match action {
        "register" => &["name", "doc", "age", "face_verified"],
        "family" => &["relation", "age", "member"],
        "declare" => &["temperature", "symptoms", "contact"],
        "checkin" | "offline" | "query" | "records" | "same_building" | "credit" => &[],
        "temperature" => &["temperature", "place"],
        "scan" => &["by", "temperature", "place", "in", "hub_link"],
        "place_scan" => &["temperature", "place"],
        "designate" => &["status"],
        "quarantine" => &["quarantine", "quarantine_days"],
        "risk" => &["county", "level"],
        "stay" => &["county"],
        "nat" => &["result", "institution"],
        "igg" => &["result"],
        "authority" => &["designated"],
        "entry" => &["country", "flight"],
        "roaming" => &["country"],
        "national" | "entry_query" | "same_flight" => &[],
        "itinerary" => &["countries"],
        "co_passenger" => &["status"],
        "intl_declare" => &[
            "temperature",
            "symptoms",
            "contact",
            "positive_test",
            "subject_age",
            "departure",
            "doc",
            "name",
        ],
        "intl_status" => &["subject_age"],
        "flight" => &["departure", "flight"],
        "resume_work" => &["arrival"],
        "trip" => &["country", "via", "left_airport"],
        _ => return None,
    })
}

const ACTIONS: &str = "register, family, declare, checkin, temperature, scan, place_scan, offline, query, records, \
                       designate, quarantine, risk, stay, nat, igg, same_building, authority, credit, entry, \
                       intl_declare, intl_status, flight, trip, resume_work, national, roaming, \
                       entry_query, itinerary, same_flight, co_passenger";

const INTL: &[&str] = &["intl_declare", "intl_status"];
/// Steps that need no registered person.
pub(super) const NO_CODE: &[&str] = &["register", "flight", "trip", "intl_declare", "intl_status"];

/// Whether an expectation can be checked on an action's answer.
fn expectation_fits(field: &str, action: &str) -> bool {
    let intl = INTL.contains(&action);
    match field {
        "color" | "not_color" => {
            !intl
                && !matches!(
                    action,
                    "flight" | "trip" | "resume_work" | "entry_query" | "itinerary"
                )
        }
        "decision" => matches!(action, "scan" | "place_scan"),
        "refused" => !matches!(
            action,
            "flight" | "trip" | "resume_work" | "entry_query" | "itinerary" | "same_flight"
        ),
        "must_declare" => action == "trip",
        "busy" => action == "scan",
        "entered" | "entered_at" | "origin" => action == "entry_query",
        "concealed" => action == "itinerary",
        "same_flight" => action == "same_flight",
        "explanation" | "reason" | "guidance" | "nat" => {
            matches!(action, "scan" | "place_scan" | "query")
        }
        "resume_work" => matches!(action, "resume_work" | "scan" | "query"),
        "credit" => action == "query",
        "records" => action == "records",
        "valid" | "streak_days" | "alert" | "reminder" | "valid_until" => intl,
        _ => false,
    }
}

const EXPECTATIONS: &[&str] = &[
    "color",
    "decision",
    "refused",
    "explanation",
    "reason",
    "guidance",
    "nat",
    "resume_work",
    "credit",
    "records",
    "valid",
    "streak_days",
    "alert",
    "reminder",
    "must_declare",
    "busy",
    "entered",
    "concealed",
    "same_flight",
    "not_color",
    "entered_at",
    "origin",
    "valid_until",
];

pub const REFUSALS: &[&str] = &[
    "identity_locked",
    "not_registered",
    "family_limit",
    "wrong_platform",
    "offline_expired",
    "face_not_verified",
    "family_not_eligible",
    "proxy_not_allowed",
    "hub_unreachable",
    "other",
];

pub const ALERTS: &[&str] = &["none", "streak_cannot_complete", "unfit_declaration"];

pub(super) fn step(
    cx: &Cx,
    s: &Spanned<RawStep>,
    person: &Identity,
    province: ProvinceId,
    index: u32,
) -> Result<Step, CaseError> {
    let span = s.span();
    let r = s.get_ref();
    let verb = r.action.as_str();
    let allowed = params(verb).ok_or_else(|| {
        cx.err(
            span.clone(),
            "do",
            format!("unknown action `{verb}`, expected one of {ACTIONS}"),
        )
    })?;
    for field in r.present() {
        let fits = if EXPECTATIONS.contains(&field) {
            expectation_fits(field, verb)
        } else {
            match field {
                "days" => true,
                "delivered" => FEEDS.contains(&verb),
                _ => allowed.contains(&field),
            }
        };
        if !fits {
            return Err(cx.err(
                span.clone(),
                field,
                format!("`{field}` does not apply to `do = \"{verb}\"`"),
            ));
        }
    }
    let need = |v: Option<&str>, field: &str| {
        v.map(str::to_string).ok_or_else(|| {
            cx.err(
                span.clone(),
                field,
                format!("`do = \"{verb}\"` needs `{field}`"),
            )
        })
    };

    let at = time(cx, &span, "at", &r.at)?;
    let delivered = match &r.delivered {
        Some(d) => time(cx, &span, "delivered", d)?,
        None => at,
    };
    let days = match r.days {
        Some(d) => int(cx, &span, "days", d, 1..367)? as u32,
        None => 1,
    };
    let temperature = r
        .temperature
        .map(|t| celsius(cx, &span, "temperature", t))
        .transpose()?;
    let place = match &r.place {
        Some(p) => CheckpointKind::parse(p).ok_or_else(|| {
            let kinds: Vec<&str> = hcsim_platform::api::CHECKPOINT_KINDS
                .iter()
                .map(|k| k.as_str())
                .collect();
            cx.err(
                span.clone(),
                "place",
                format!("unknown place `{p}`, expected one of {}", kinds.join(", ")),
            )
        })?,
        None => CheckpointKind::Office,
    };
    let county_of = |c: &Option<String>| match c {
        Some(c) => county(cx, &span, c),
        None => Ok(CountyRef {
            province: ProvinceId::parse("hubei").unwrap_or(ProvinceId(0)),
            county: 1,
        }),
    };
    let positive = |field: &str| -> Result<bool, CaseError> {
        let v = need(r.result.as_deref(), field)?;
        one_of(
            cx,
            &span,
            "result",
            &v,
            &[("positive", true), ("negative", false)],
        )
    };
    let color = |field: &str, v: &str| -> Result<Color, CaseError> {
        Color::parse(v).ok_or_else(|| {
            cx.err(
                span.clone(),
                field,
                format!("unknown color `{v}`, expected one of green, white, yellow, orange, red"),
            )
        })
    };
    let identity_with = |doc: &Option<String>,
                         name: Option<i64>,
                         age: Option<i64>|
     -> Result<Identity, CaseError> {
        let mut id = *person;
        if let Some(d) = doc {
            id.doc = doc_kind(cx, &span, d)?;
        }
        if let Some(n) = name {
            id.name = NameCode::new(
                int(cx, &span, "name", n, 0..1000)? as u32 + index + 1,
                7,
                None,
            );
        }
        if let Some(a) = age {
            id.age = int(cx, &span, "age", a, 0..121)? as u8;
        }
        Ok(id)
    };
    let subject = |age: Option<i64>| -> Result<Option<Identity>, CaseError> {
        age.map(|a| {
            Ok(Identity {
                doc: DocKind::IdCard,
                number: person_number(province, index, 500),
                name: NameCode::new(index + 11, 2, Some(9)),
                age: int(cx, &span, "subject_age", a, 0..121)? as u8,
            })
        })
        .transpose()
    };

    let action = match verb {
        "register" => Action::Register {
            identity: identity_with(&r.doc, r.name, r.age)?,
            face_verified: r.face_verified.unwrap_or(true),
        },
        "family" => {
            let rel = need(r.relation.as_deref(), "relation")?;
            let relation = one_of(
                cx,
                &span,
                "relation",
                &rel,
                &[
                    ("parent", Relation::Parent),
                    ("child", Relation::Child),
                    ("spouse", Relation::Spouse),
                    ("relative", Relation::Relative),
                ],
            )?;
            let default_age = match relation {
                Relation::Parent => 60,
                Relation::Child => 8,
                Relation::Spouse => 35,
                Relation::Relative => 40,
            };
            let k = int(cx, &span, "member", r.member.unwrap_or(0), 0..400)? as u32;
            Action::Family {
                member: Identity {
                    doc: DocKind::IdCard,
                    number: person_number(province, index, 1 + k),
                    name: NameCode::new(index + k + 1, 5, Some(k % 30)),
                    age: int(cx, &span, "age", r.age.unwrap_or(default_age), 0..121)? as u8,
                },
                relation,
            }
        }
        "declare" => Action::Declare {
            temperature: temperature.unwrap_or(DeciCelsius::NORMAL),
            symptoms: r.symptoms.unwrap_or(false),
            contact: r.contact.unwrap_or(false),
        },
        "checkin" => Action::Declare {
            temperature: DeciCelsius::NORMAL,
            symptoms: false,
            contact: false,
        },
        "temperature" => Action::Temperature {
            temperature: temperature.ok_or_else(|| {
                cx.err(
                    span.clone(),
                    "temperature",
                    "`do = \"temperature\"` needs `temperature`",
                )
            })?,
            place,
        },
        "scan" => Action::Scan {
            by: match &r.by {
                Some(b) => one_of(
                    cx,
                    &span,
                    "by",
                    b,
                    &[
                        ("code", By::Code),
                        ("id_card", By::IdCard),
                        ("offline", By::Offline),
                        ("national", By::National),
                    ],
                )?,
                None => By::Code,
            },
            temperature,
            place,
            scanned_in: r
                .scanned_in
                .as_deref()
                .map(|k| {
                    ProvinceId::parse(k).ok_or_else(|| {
                        cx.err(
                            span.clone(),
                            "in",
                            format!(
                                "unknown province `{k}`, expected one of {}",
                                province_keys()
                            ),
                        )
                    })
                })
                .transpose()?,
            hub_link: r.hub_link.unwrap_or(true),
        },
        "place_scan" => Action::PlaceScan {
            temperature: temperature.ok_or_else(|| {
                cx.err(
                    span.clone(),
                    "temperature",
                    "`do = \"place_scan\"` needs `temperature`",
                )
            })?,
            place,
        },
        "offline" => Action::Offline,
        "query" => Action::Query,
        "records" => Action::Records,
        "designate" => {
            let st = need(r.status.as_deref(), "status")?;
            Action::Designate {
                status: one_of(
                    cx,
                    &span,
                    "status",
                    &st,
                    &[
                        ("confirmed", CaseStatus::Confirmed),
                        ("suspected", CaseStatus::Suspected),
                        ("asymptomatic", CaseStatus::Asymptomatic),
                        ("close_contact", CaseStatus::CloseContact),
                        ("cleared", CaseStatus::Cleared),
                    ],
                )?,
            }
        }
        "quarantine" => {
            let q = need(r.quarantine.as_deref(), "quarantine")?;
            let days = r.quarantine_days.ok_or_else(|| {
                cx.err(
                    span.clone(),
                    "quarantine_days",
                    "`do = \"quarantine\"` needs `quarantine_days`",
                )
            })?;
            Action::Quarantine {
                kind: one_of(
                    cx,
                    &span,
                    "quarantine",
                    &q,
                    &[
                        ("centralized", QuarantineKind::Centralized),
                        ("home", QuarantineKind::Home),
                    ],
                )?,
                days: int(cx, &span, "quarantine_days", days, 1..366)? as u32,
            }
        }
        "risk" => {
            let l = need(r.level.as_deref(), "level")?;
            Action::Risk {
                county: county_of(&r.county)?,
                level: one_of(
                    cx,
                    &span,
                    "level",
                    &l,
                    &[
                        ("low", RiskLevel::Low),
                        ("medium", RiskLevel::Medium),
                        ("high", RiskLevel::High),
                    ],
                )?,
            }
        }
        "stay" => Action::Stay {
            county: county_of(&r.county)?,
        },
        "nat" => Action::Nat {
            positive: positive("result")?,
            institution: int(
                cx,
                &span,
                "institution",
                r.institution.unwrap_or(1),
                0..65536,
            )? as u16,
        },
        "igg" => Action::Igg {
            positive: positive("result")?,
        },
        "same_building" => Action::SameBuilding,
        "authority" => Action::Authority {
            color: color("designated", &need(r.designated.as_deref(), "designated")?)?,
        },
        "credit" => Action::Credit,
        "entry" => Action::Entry {
            country: int(cx, &span, "country", r.country.unwrap_or(840), 1..1000)? as u16,
            flight: r
                .flight
                .map(|f| int(cx, &span, "flight", f, 0..1_000_000).map(|f| f as u32))
                .transpose()?,
        },
        "roaming" => Action::Roaming {
            country: int(cx, &span, "country", r.country.unwrap_or(840), 1..1000)? as u16,
        },
        "national" => Action::National,
        "entry_query" => Action::EntryQuery,
        "same_flight" => Action::SameFlight,
        "itinerary" => Action::Itinerary {
            countries: countries(
                cx,
                &span,
                "countries",
                r.countries.as_deref().unwrap_or(&[]),
            )?,
        },
        "co_passenger" => {
            let st = need(r.status.as_deref(), "status")?;
            Action::CoPassenger {
                status: one_of(
                    cx,
                    &span,
                    "status",
                    &st,
                    &[
                        ("confirmed", CaseStatus::Confirmed),
                        ("suspected", CaseStatus::Suspected),
                    ],
                )?,
            }
        }
        "intl_declare" => Action::IntlDeclare {
            identity: identity_with(&r.doc, r.name, None)?,
            subject: subject(r.subject_age)?,
            temperature: temperature.unwrap_or(DeciCelsius::NORMAL),
            symptoms: r.symptoms.unwrap_or(false),
            contact: r.contact.unwrap_or(false),
            positive_test: r.positive_test.unwrap_or(false),
            departure: r
                .departure
                .as_ref()
                .map(|d| time(cx, &span, "departure", d))
                .transpose()?,
        },
        "intl_status" => Action::IntlStatus {
            subject: subject(r.subject_age)?,
        },
        "flight" => Action::Flight {
            departure: time(
                cx,
                &span,
                "departure",
                &need(r.departure.as_deref(), "departure")?,
            )?,
            flight: int(cx, &span, "flight", r.flight.unwrap_or(1), 0..1_000_000)? as u32,
        },
        "trip" => {
            let country = int(cx, &span, "country", r.country.unwrap_or(840), 1..1000)? as u16;
            let via = match r.via {
                Some(v) => Some((
                    int(cx, &span, "via", v, 1..1000)? as u16,
                    r.left_airport.unwrap_or(false),
                )),
                None if r.left_airport.is_some() => {
                    return Err(cx.err(span.clone(), "left_airport", "`left_airport` needs `via`"))
                }
                None => None,
            };
            Action::Trip { country, via }
        }
        _ => Action::ResumeWork {
            arrival: match &r.arrival {
                Some(a) => time(cx, &span, "arrival", a)?,
                None => at,
            },
        },
    };

    let expect = Expect {
        color: r.color.as_deref().map(|c| color("color", c)).transpose()?,
        not_color: r
            .not_color
            .as_deref()
            .map(|c| color("not_color", c))
            .transpose()?,
        entered_at: r
            .entered_at
            .as_deref()
            .map(|x| time(cx, &span, "entered_at", x))
            .transpose()?,
        origin: r
            .origin
            .map(|c| int(cx, &span, "origin", c, 1..1000).map(|c| c as u16))
            .transpose()?,
        valid_until: r
            .valid_until
            .as_deref()
            .map(|x| time(cx, &span, "valid_until", x))
            .transpose()?,
        decision: r
            .decision
            .as_deref()
            .map(|d| {
                Decision::parse(d).ok_or_else(|| {
                    cx.err(
                        span.clone(),
                        "decision",
                        format!("unknown decision `{d}`, expected one of pass, refer, refuse"),
                    )
                })
            })
            .transpose()?,
        refused: r
            .refused
            .as_deref()
            .map(|x| {
                one_of(
                    cx,
                    &span,
                    "refused",
                    x,
                    &REFUSALS.iter().map(|n| (*n, *n)).collect::<Vec<_>>(),
                )
                .map(str::to_string)
            })
            .transpose()?,
        explanation: r.explanation,
        reason: r.reason.clone(),
        guidance: r.guidance.clone(),
        nat: r
            .nat
            .as_deref()
            .map(|n| {
                if n == "none" {
                    Ok(None)
                } else {
                    time(cx, &span, "nat", n).map(Some)
                }
            })
            .transpose()?,
        resume_work: r
            .resume_work
            .as_deref()
            .map(|x| {
                one_of(
                    cx,
                    &span,
                    "resume_work",
                    x,
                    &[
                        ("none", "none"),
                        ("negative_nat", "negative_nat"),
                        ("positive_igg", "positive_igg"),
                    ],
                )
                .map(str::to_string)
            })
            .transpose()?,
        credit: r
            .credit
            .map(|c| int(cx, &span, "credit", c, 0..65536).map(|c| c as u16))
            .transpose()?,
        records: r
            .records
            .map(|c| int(cx, &span, "records", c, 0..100_000).map(|c| c as usize))
            .transpose()?,
        valid: r.valid,
        streak_days: r
            .streak_days
            .map(|c| int(cx, &span, "streak_days", c, 0..1000).map(|c| c as u32))
            .transpose()?,
        alert: r
            .alert
            .as_deref()
            .map(|x| {
                one_of(
                    cx,
                    &span,
                    "alert",
                    x,
                    &ALERTS.iter().map(|n| (*n, *n)).collect::<Vec<_>>(),
                )
                .map(str::to_string)
            })
            .transpose()?,
        reminder: r
            .reminder
            .as_deref()
            .map(|x| time(cx, &span, "reminder", x))
            .transpose()?,
        must_declare: r.must_declare,
        busy: r.busy,
        entered: r.entered,
        concealed: r
            .concealed
            .as_deref()
            .map(|c| countries(cx, &span, "concealed", c))
            .transpose()?,
        same_flight: r.same_flight,
    };
    Ok(Step {
        line: line_of(cx.text, span.start),
        verb: verb.to_string(),
        at,
        delivered,
        days,
        action,
        expect,
    })
}

fn countries(
    cx: &Cx,
    span: &std::ops::Range<usize>,
    field: &str,
    list: &[i64],
) -> Result<Vec<u16>, CaseError> {
    let mut v = list
        .iter()
        .map(|&c| int(cx, span, field, c, 1..1000).map(|c| c as u16))
        .collect::<Result<Vec<_>, _>>()?;
    v.sort_unstable();
    v.dedup();
    Ok(v)
}
