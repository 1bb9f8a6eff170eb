//! Runs one case against a fresh `ProvincePlatform` (and the international
//! version's `IntlDeclarations`), step by step, and reports the first
//! difference between what the case expects and what the platform answered.
//! No simulation: the platform is driven directly, so a failure points at a
//! rule, not at a scenario.

use super::case::{Action, By, Case, Step};
use hcsim_platform::api::{
    CodeId, Credential, Feed, InboundAnswer, InboundRequest, IntlDeclaration, IntlStatus, Place,
    Refusal, Request, Response, ResumeBasis, TripAlert,
};
use hcsim_platform::color::Color;
use hcsim_platform::hub::{Hub, HubAnswer};
use hcsim_platform::identity::DocNumber;
use hcsim_platform::international::{IntlDeclarations, Transit};
use hcsim_platform::province::{Outcome, ProvincePlatform};
use hcsim_platform::recognition::RecognitionPolicy;
use hcsim_platform::ProvinceId;
use hcsim_platform::{CodeKeys, Minute, RuleSet};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The international version's account for the case's person.
const ACCOUNT: u64 = 1;

enum Got {
    Platform(Response),
    NeedsHub,
    Intl(Result<IntlStatus, Refusal>),
    Resume(Option<ResumeBasis>),
    MustDeclare(bool),
    /// Steps that only set up the runner (a flight).
    Nothing,
}

struct Run<'a> {
    case: &'a Case,
    x: ProvincePlatform,
    /// The national hub, fed with the case platform's publications.
    hub: Hub,
    /// Other provinces the person is scanned in, created on first use.
    receivers: BTreeMap<ProvinceId, ProvincePlatform>,
    policy: Arc<RecognitionPolicy>,
    national: Option<CodeId>,
    /// The person's last entry: when, on which flight, from where.
    entry: Option<(Minute, u32, u16)>,
    intl: IntlDeclarations,
    code: Option<CodeId>,
    /// The offline code last saved, shown as saved (seal included).
    offline: Option<Credential>,
    departure: Option<Minute>,
    flight: u32,
}

pub fn refusal_name(r: &Refusal) -> &'static str {
    match r {
        Refusal::IdentityLocked => "identity_locked",
        Refusal::NotRegistered => "not_registered",
        Refusal::ForgedCode => "forged_code",
        Refusal::FamilyLimit { .. } => "family_limit",
        Refusal::WrongPlatform => "wrong_platform",
        Refusal::OfflineExpired => "offline_expired",
        Refusal::FaceNotVerified => "face_not_verified",
        Refusal::FamilyNotEligible { .. } => "family_not_eligible",
        Refusal::ProxyNotAllowed { .. } => "proxy_not_allowed",
        Refusal::Other { .. } => "other",
        Refusal::HubUnreachable => "hub_unreachable",
    }
}

fn describe(got: &Got) -> String {
    match got {
        Got::Platform(r) => match r {
            Response::Issued { color, .. } => format!("code issued {color}"),
            Response::Recorded { color, .. } => format!("recorded, {color}"),
            Response::Verdict(v) => format!("{} / {}", v.color, v.decision),
            Response::Health { color, .. } => color.to_string(),
            Response::OfflineCode { color, .. } => format!("offline code {color}"),
            Response::Refused(Refusal::Other { message }) => format!("refusal other ({message})"),
            Response::Refused(r) => format!("refusal {}", refusal_name(r)),
            Response::Records { records, .. } => format!("{} records", records.len()),
            Response::Ack => "ack".into(),
            Response::Busy => "busy".into(),
            Response::Inbound(a) => format!("{a:?}"),
            other => format!("{other:?}"),
        },
        Got::NeedsHub => "a question for the national hub".into(),
        Got::Intl(Ok(s)) => format!("valid {} with a {}-day streak", s.valid, s.streak_days),
        Got::Intl(Err(r)) => format!("refusal {}", refusal_name(r)),
        Got::Resume(r) => resume_name(r).into(),
        Got::MustDeclare(b) => format!("must_declare {b}"),
        Got::Nothing => "nothing".into(),
    }
}

fn resume_name(r: &Option<ResumeBasis>) -> &'static str {
    match r {
        None => "none",
        Some(ResumeBasis::NegativeNat { .. }) => "negative_nat",
        Some(ResumeBasis::PositiveIgg { .. }) => "positive_igg",
    }
}

fn alert_name(a: &TripAlert) -> &'static str {
    match a {
        TripAlert::StreakCannotComplete { .. } => "streak_cannot_complete",
        TripAlert::UnfitDeclaration { .. } => "unfit_declaration",
    }
}

fn show_opt_time(t: Option<Minute>) -> String {
    t.map_or("none".into(), |t| t.to_string())
}

/// Runs a case; `Err` is the first difference, readable.
pub fn run_case(case: &Case, rules: Arc<RuleSet>) -> Result<(), String> {
    let intl = IntlDeclarations::new(rules.international().clone());
    let policy = Arc::new(recognition_policy(case)?);
    let mut run = Run {
        case,
        x: ProvincePlatform::new(case.province, rules).with_recognition(policy.clone()),
        hub: Hub::new(),
        receivers: BTreeMap::new(),
        policy,
        national: None,
        entry: None,
        intl,
        code: None,
        offline: None,
        departure: None,
        flight: 0,
    };
    for step in &case.steps {
        for k in 0..step.days {
            let at = step.at.plus_days(k);
            let now = step.delivered.plus_days(k);
            let got = run.perform(step, at, now);
            let last = k + 1 == step.days;
            run.check(step, &got, now, last).map_err(|m| {
                format!(
                    "at {now} {m} ({}:{}: {})",
                    case.file.display(),
                    step.line,
                    step.verb
                )
            })?;
        }
    }
    Ok(())
}

/// `recognition/policy.toml` beside the rules directory, else the default
/// (every color taken as issued).
fn recognition_policy(case: &Case) -> Result<RecognitionPolicy, String> {
    let file = case
        .rules_dir
        .as_deref()
        .and_then(Path::parent)
        .map(|d| d.join("recognition").join("policy.toml"));
    match file {
        Some(f) if f.is_file() => RecognitionPolicy::load(&f).map_err(|e| e.to_string()),
        _ => Ok(RecognitionPolicy::default()),
    }
}

impl Run<'_> {
    fn handle(&mut self, now: Minute, req: Request) -> Got {
        let outcome = self.x.handle(now, &req);
        self.publish();
        match outcome {
            Outcome::Done(r) => Got::Platform(r),
            Outcome::NeedsHub(_) => Got::NeedsHub,
        }
    }

    /// The case platform's status changes reach the hub at once.
    fn publish(&mut self) {
        for p in self.x.drain_publications() {
            self.hub.publish(&p);
        }
    }

    /// A province's platform for scans there, under its own rule set.
    fn receiver(&mut self, p: ProvinceId) -> Result<&mut ProvincePlatform, String> {
        if !self.receivers.contains_key(&p) {
            let dir = self
                .case
                .rules_dir
                .as_deref()
                .ok_or("a scan in another province needs the rules directory")?;
            let own = dir.join(format!("{}.toml", p.key()));
            let file = if own.is_file() {
                own
            } else {
                dir.join("default.toml")
            };
            let rules = RuleSet::load(&file).map_err(|e| e.to_string())?;
            let platform =
                ProvincePlatform::new(p, Arc::new(rules)).with_recognition(self.policy.clone());
            self.receivers.insert(p, platform);
        }
        Ok(self.receivers.get_mut(&p).expect("inserted above"))
    }

    /// A verification that may need the hub: at home (a national code) or
    /// in another province.
    fn verify(&mut self, now: Minute, req: Request, at: Option<ProvinceId>, link: bool) -> Got {
        self.publish();
        let home = self.case.province;
        let province = at.unwrap_or(home);
        let outcome = if province == home {
            self.x.handle(now, &req)
        } else {
            match self.receiver(province) {
                Ok(r) => r.handle(now, &req),
                Err(e) => return Got::Platform(Response::Refused(Refusal::Other { message: e })),
            }
        };
        self.publish();
        let query = match outcome {
            Outcome::Done(r) => return Got::Platform(r),
            Outcome::NeedsHub(q) => q,
        };
        let answer = if link {
            self.hub.query(&query)
        } else {
            HubAnswer::Unreachable
        };
        let x = if province == home {
            &mut self.x
        } else {
            self.receivers.get_mut(&province).expect("created above")
        };
        Got::Platform(x.finish_remote(now, &query, answer))
    }

    /// National data the hub keeps a copy of.
    fn copy_to_hub(&mut self, feed: &Feed) {
        if Hub::wants_feed(feed) {
            self.hub.note_feed(Some(self.case.province), feed);
        }
    }

    fn inbound(&mut self, now: Minute, service: InboundRequest) -> Got {
        let got = self.hub.handle(now, &Request::Inbound(service));
        // The hub's designations reach the person's platform at once.
        for (_, feed) in self.hub.drain_outgoing() {
            let to = Some(self.case.province);
            self.x.handle(now, &Request::Feed { to, feed });
        }
        self.publish();
        Got::Platform(got)
    }

    fn place(&self, kind: hcsim_platform::api::CheckpointKind) -> Place {
        Place {
            county: hcsim_platform::api::CountyRef {
                province: self.case.province,
                county: 1,
            },
            kind,
        }
    }

    fn feed(&mut self, now: Minute, feed: Feed) -> Got {
        self.copy_to_hub(&feed);
        let to = Some(self.case.province);
        self.handle(now, Request::Feed { to, feed })
    }

    fn perform(&mut self, step: &Step, at: Minute, now: Minute) -> Got {
        let person = self.case.person.number;
        // Validation guarantees a `register` step before any step needing a
        // code; an unissued code (registration refused) is "not registered".
        // Signed like a real code (the case's platforms use the default
        // keys), so it is unknown rather than forged.
        let code = self.code.unwrap_or_else(|| {
            CodeKeys::default().sign(
                hcsim_platform::Issuer::Province(self.case.province),
                u32::MAX,
            )
        });
        match &step.action {
            Action::Register {
                identity,
                face_verified,
            } => {
                let got = self.handle(
                    now,
                    Request::Apply {
                        province: self.case.province,
                        identity: *identity,
                        face_verified: *face_verified,
                        national: false,
                    },
                );
                if let Got::Platform(Response::Issued { code, .. }) = &got {
                    self.code.get_or_insert(*code);
                }
                got
            }
            Action::Family { member, relation } => self.handle(
                now,
                Request::ApplyFamily {
                    proxy: code,
                    member: *member,
                    relation: *relation,
                },
            ),
            Action::Declare {
                temperature,
                symptoms,
                contact,
            } => self.handle(
                now,
                Request::Declare {
                    code,
                    temperature: *temperature,
                    symptoms: *symptoms,
                    contact: *contact,
                },
            ),
            Action::Temperature { temperature, place } => {
                let place = self.place(*place);
                self.handle(
                    now,
                    Request::Temperature {
                        code,
                        temperature: *temperature,
                        place,
                    },
                )
            }
            Action::Scan {
                by,
                temperature,
                place,
                scanned_in,
                hub_link,
            } => {
                let credential = match by {
                    By::Code => Credential::Code(code),
                    By::National => Credential::Code(self.national.unwrap_or_else(|| {
                        CodeKeys::default().sign(hcsim_platform::Issuer::National, u32::MAX)
                    })),
                    By::IdCard => Credential::IdCard(person),
                    By::Offline => self.offline.unwrap_or(Credential::Code(code)),
                };
                let mut place = self.place(*place);
                if let Some(p) = scanned_in {
                    place.county.province = *p;
                }
                self.verify(
                    now,
                    Request::Verify {
                        credential,
                        place,
                        temperature: *temperature,
                    },
                    *scanned_in,
                    *hub_link,
                )
            }
            Action::PlaceScan { temperature, place } => {
                let place = self.place(*place);
                self.handle(
                    now,
                    Request::PlaceScan {
                        code,
                        place,
                        temperature: *temperature,
                    },
                )
            }
            Action::Offline => {
                let got = self.handle(now, Request::Offline { code });
                if let Got::Platform(r) = &got {
                    if let Some(saved) = r.offline_credential() {
                        self.offline = Some(saved);
                    }
                }
                got
            }
            Action::Query => self.handle(now, Request::Query { code }),
            Action::Records => self.handle(now, Request::Records { code }),
            Action::Designate { status } => self.feed(
                now,
                Feed::Designation {
                    person,
                    status: *status,
                    at,
                },
            ),
            Action::Quarantine { kind, days } => self.feed(
                now,
                Feed::Quarantine {
                    person,
                    kind: *kind,
                    start: at,
                    end: at.plus_days(*days),
                },
            ),
            Action::Risk { county, level } => self.handle(
                now,
                Request::Feed {
                    to: None,
                    feed: Feed::RiskArea {
                        county: *county,
                        level: *level,
                        at,
                    },
                },
            ),
            Action::Stay { county } => self.feed(
                now,
                Feed::Stay {
                    person,
                    county: *county,
                    at,
                },
            ),
            Action::Nat {
                positive,
                institution,
            } => self.feed(
                now,
                Feed::NatResult {
                    person,
                    at,
                    positive: *positive,
                    institution: *institution,
                },
            ),
            Action::Igg { positive } => self.feed(
                now,
                Feed::IggResult {
                    person,
                    at,
                    positive: *positive,
                },
            ),
            Action::SameBuilding => self.feed(now, Feed::SameBuildingCase { person, at }),
            Action::Authority { color } => self.feed(
                now,
                Feed::AuthorityColor {
                    person,
                    color: *color,
                    at,
                },
            ),
            Action::Credit => self.feed(now, Feed::CreditViolation { person, at }),
            Action::Entry { country, flight } => {
                let flight = flight.unwrap_or(self.flight);
                self.entry = Some((at, flight, *country));
                self.feed(
                    now,
                    Feed::Entry {
                        person,
                        at,
                        origin_country: *country,
                        port: hcsim_platform::api::CountyRef {
                            province: self.case.province,
                            county: 1,
                        },
                        flight,
                    },
                )
            }
            Action::Roaming { country } => self.feed(
                now,
                Feed::Roaming {
                    person,
                    country: *country,
                    at,
                },
            ),
            Action::National => {
                let identity = self.case.person;
                let got = self.hub.handle(
                    now,
                    &Request::Apply {
                        province: self.case.province,
                        identity,
                        face_verified: true,
                        national: true,
                    },
                );
                if let Response::Issued { code, .. } = &got {
                    self.national = Some(*code);
                }
                Got::Platform(got)
            }
            Action::EntryQuery => self.inbound(now, InboundRequest::EntryQuery { person }),
            Action::Itinerary { countries } => self.inbound(
                now,
                InboundRequest::ItineraryDeclare {
                    person,
                    countries: countries.clone(),
                },
            ),
            Action::SameFlight => self.inbound(now, InboundRequest::SameFlightCheck { person }),
            Action::CoPassenger { status } => {
                let Some((entered, flight, country)) = self.entry else {
                    return Got::Platform(Response::Refused(Refusal::Other {
                        message: "`co_passenger` needs an `entry` step before it".into(),
                    }));
                };
                // Another passenger of the same flight, of another province.
                let other = DocNumber(person.0 ^ 0x5a5a);
                let home = ProvinceId((self.case.province.0 + 1) % 31);
                self.hub.note_feed(
                    Some(home),
                    &Feed::Entry {
                        person: other,
                        at: entered,
                        origin_country: country,
                        port: hcsim_platform::api::CountyRef {
                            province: self.case.province,
                            county: 1,
                        },
                        flight,
                    },
                );
                self.hub.note_feed(
                    Some(home),
                    &Feed::Designation {
                        person: other,
                        status: *status,
                        at,
                    },
                );
                Got::Nothing
            }
            Action::IntlDeclare {
                identity,
                subject,
                temperature,
                symptoms,
                contact,
                positive_test,
                departure,
            } => {
                let d = IntlDeclaration {
                    temperature: *temperature,
                    symptoms: *symptoms,
                    positive_test: *positive_test,
                    contact: *contact,
                    flight: self.flight,
                    departure: departure.or(self.departure).unwrap_or(now),
                };
                Got::Intl(
                    self.intl
                        .declare(now, ACCOUNT, identity, subject.as_ref(), &d)
                        .map(|(_, s)| s),
                )
            }
            Action::IntlStatus { subject } => {
                Got::Intl(self.intl.status(now, ACCOUNT, subject.map(|s| s.number)))
            }
            Action::Flight { departure, flight } => {
                self.departure = Some(*departure);
                self.flight = *flight;
                Got::Nothing
            }
            Action::Trip { country, via } => {
                let transits: Vec<Transit> = via
                    .iter()
                    .map(|(country, left_airport)| Transit {
                        country: *country,
                        left_airport: *left_airport,
                    })
                    .collect();
                Got::MustDeclare(self.intl.must_declare(*country, &transits))
            }
            Action::ResumeWork { arrival } => Got::Resume(self.x.resume_work_ok(code, *arrival)),
        }
    }

    fn check(&mut self, step: &Step, got: &Got, now: Minute, last: bool) -> Result<(), String> {
        let e = &step.expect;
        let differ = |what: String| Err(format!("expected {what}, got {}", describe(got)));

        // Invariants that hold for every step, expected or not.
        match got {
            Got::NeedsHub => return differ("an answer from this platform".into()),
            Got::Platform(Response::Recorded { seq, .. }) => {
                let code = self.code.ok_or("a record without a code")?;
                let present = self
                    .x
                    .records_of(code)
                    .is_some_and(|r| r.iter().any(|r| r.seq == *seq));
                if !present {
                    return Err(format!(
                        "acknowledged record seq {seq} is missing from the journal"
                    ));
                }
            }
            _ => {}
        }
        let refusal = match got {
            Got::Platform(Response::Refused(r)) | Got::Intl(Err(r)) => Some(refusal_name(r)),
            _ => None,
        };
        if !last {
            return match refusal {
                Some(r) => Err(format!("unexpected refusal {r}")),
                None => Ok(()),
            };
        }
        match (&e.refused, refusal) {
            (Some(want), Some(r)) if want == r => {}
            (Some(want), _) => return differ(format!("refusal {want}")),
            (None, Some(_)) => return differ("no refusal".into()),
            (None, None) => {}
        }

        if let Some(want) = e.color {
            let color = match got {
                Got::Platform(r) => match r.color() {
                    Some(c) => c,
                    None => self.color_now(now)?,
                },
                _ => return differ(format!("{want}")),
            };
            if color != want {
                return Err(format!("expected {want}, got {color}"));
            }
        }
        if let Some(unwanted) = e.not_color {
            let color = match got {
                Got::Platform(r) => match r.color() {
                    Some(c) => c,
                    None => self.color_now(now)?,
                },
                _ => return differ(format!("any color but {unwanted}")),
            };
            if color == unwanted {
                return Err(format!("expected any color but {unwanted}, got {color}"));
            }
        }

        let (explanation, nat, resume) = match got {
            Got::Platform(Response::Verdict(v)) => {
                (Some(&v.explanation), Some(v.nat), Some(v.resume_work))
            }
            Got::Platform(Response::Health {
                explanation,
                nat,
                resume_work,
                ..
            }) => (Some(explanation), Some(*nat), Some(*resume_work)),
            Got::Resume(r) => (None, None, Some(*r)),
            _ => (None, None, None),
        };
        if let Some(want) = e.decision {
            match got {
                Got::Platform(Response::Verdict(v)) if v.decision == want => {}
                Got::Platform(Response::Verdict(v)) => {
                    return Err(format!("expected decision {want}, got {}", v.decision))
                }
                _ => return differ(format!("decision {want}")),
            }
        }
        if let Some(want) = e.explanation {
            let has = explanation.is_some_and(|x| x.is_some());
            if has != want {
                return Err(format!(
                    "expected {}an explanation, got {}",
                    if want { "" } else { "no " },
                    if has { "one" } else { "none" }
                ));
            }
        }
        for (want, part) in [(&e.reason, "reason"), (&e.guidance, "guidance")] {
            if let Some(want) = want {
                let text = explanation.and_then(|x| x.as_ref()).map(|x| match part {
                    "reason" => x.reason.to_string(),
                    _ => x.guidance.to_string(),
                });
                if !text.as_deref().is_some_and(|t| t.contains(want.as_str())) {
                    return Err(format!(
                        "expected a {part} containing \"{want}\", got {}",
                        text.map_or("no explanation".into(), |t| format!("\"{t}\""))
                    ));
                }
            }
        }
        if let Some(want) = e.nat {
            let shown = nat.flatten().map(|n| n.at);
            if shown != want {
                return Err(format!(
                    "expected NAT shown {}, got {}",
                    show_opt_time(want),
                    show_opt_time(shown)
                ));
            }
        }
        if let Some(want) = &e.resume_work {
            let have = resume.map_or("none", |r| resume_name(&r));
            if have != want {
                return Err(format!("expected resume_work {want}, got {have}"));
            }
        }
        if let Some(want) = e.credit {
            match got {
                Got::Platform(Response::Health {
                    credit_violations, ..
                }) if *credit_violations == Some(want) => {}
                Got::Platform(Response::Health {
                    credit_violations, ..
                }) => {
                    return Err(format!(
                        "expected {want} credit-record entries, got {}",
                        credit_violations.map_or("no credit record".into(), |c| c.to_string())
                    ))
                }
                _ => return differ(format!("{want} credit-record entries")),
            }
        }
        if let Some(want) = e.records {
            match got {
                Got::Platform(Response::Records { records, .. }) => {
                    let filed = records
                        .iter()
                        .filter(|r| {
                            matches!(
                                r.kind.as_str(),
                                "declaration" | "temperature" | "place_scan"
                            )
                        })
                        .count();
                    if filed != want {
                        return Err(format!("expected {want} filed records, got {filed}"));
                    }
                }
                _ => return differ(format!("{want} filed records")),
            }
        }
        if let Some(want) = e.busy {
            if matches!(got, Got::Platform(Response::Busy)) != want {
                return differ(format!("busy {want}"));
            }
        }
        if let Some(want) = e.entered {
            match got {
                Got::Platform(Response::Inbound(InboundAnswer::Entries { entries }))
                    if entries.is_empty() != want => {}
                _ => return differ(format!("entered {want}")),
            }
        }
        if e.entered_at.is_some() || e.origin.is_some() {
            let latest = match got {
                Got::Platform(Response::Inbound(InboundAnswer::Entries { entries })) => {
                    entries.last()
                }
                _ => return differ("an entry view".into()),
            };
            let Some(entry) = latest else {
                return Err("expected an entry, got none in the last 14 days".into());
            };
            if let Some(want) = e.entered_at {
                if entry.at != want {
                    return Err(format!("expected entry at {want}, got {}", entry.at));
                }
            }
            if let Some(want) = e.origin {
                if entry.origin_country != want {
                    return Err(format!(
                        "expected entry from country {want}, got {}",
                        entry.origin_country
                    ));
                }
            }
        }
        if let Some(want) = &e.concealed {
            match got {
                Got::Platform(Response::Inbound(InboundAnswer::Itinerary { concealed }))
                    if concealed == want => {}
                _ => return differ(format!("concealed {want:?}")),
            }
        }
        if let Some(want) = e.same_flight {
            match got {
                Got::Platform(Response::Inbound(InboundAnswer::SameFlight { flights }))
                    if flights.is_empty() != want => {}
                _ => return differ(format!("same_flight {want}")),
            }
        }
        if let Some(want) = e.must_declare {
            match got {
                Got::MustDeclare(b) if *b == want => {}
                _ => return differ(format!("must_declare {want}")),
            }
        }
        if let Got::Intl(Ok(s)) = got {
            if let Some(want) = e.valid {
                if s.valid != want {
                    return Err(format!("expected valid {want}, got valid {}", s.valid));
                }
            }
            if let Some(want) = e.streak_days {
                if s.streak_days != want {
                    return Err(format!(
                        "expected a {want}-day streak, got {}",
                        s.streak_days
                    ));
                }
            }
            if let Some(want) = e.valid_until {
                if s.valid_until != Some(want) {
                    return Err(format!(
                        "expected the declaration in force valid until {want}, got {}",
                        show_opt_time(s.valid_until)
                    ));
                }
            }
            if let Some(want) = e.reminder {
                if s.reminder_at != Some(want) {
                    return Err(format!(
                        "expected the reminder at {want}, got {}",
                        show_opt_time(s.reminder_at)
                    ));
                }
            }
            if let Some(want) = &e.alert {
                let names: Vec<&str> = s.alerts.iter().map(alert_name).collect();
                let ok = if want == "none" {
                    names.is_empty()
                } else {
                    names.contains(&want.as_str())
                };
                if !ok {
                    return Err(format!(
                        "expected alert {want}, got {}",
                        if names.is_empty() {
                            "none".to_string()
                        } else {
                            names.join(", ")
                        }
                    ));
                }
            }
        }
        Ok(())
    }

    fn color_now(&mut self, now: Minute) -> Result<Color, String> {
        let code = self
            .code
            .ok_or("expected a color, but no code was issued yet")?;
        match self.x.handle(now, &Request::Query { code }) {
            Outcome::Done(Response::Health { color, .. }) => Ok(color),
            Outcome::Done(other) => Err(format!("expected a color, the query answered {other:?}")),
            Outcome::NeedsHub(_) => Err("expected a color, the query needed the hub".into()),
        }
    }
}
