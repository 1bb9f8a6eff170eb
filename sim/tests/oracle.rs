//! The rule oracle: zero violations on the smoke day, violations with
//! working reproducers when the platform is deliberately broken, and
//! agreement with the platform on random histories.

use hcsim::cli::{exit, run as run_cli};
use hcsim::oracle::replay::replay;
use hcsim::oracle::violation::{Event, Sender, Violation};
use hcsim::run::{run_with_rules, RunOptions};
use hcsim::scenario::Scenario;
use hcsim_platform::api::{
    CaseStatus, CheckpointKind, CodeId, CountyRef, Credential, DeciCelsius, Feed, Place,
    QuarantineKind, Refusal, Request, Response, RiskLevel,
};
use hcsim_platform::identity::{DocKind, DocNumber, Identity, NameCode};
use hcsim_platform::rules::{Mutant, RuleSet};
use hcsim_platform::{Color, Issuer, Minute, ProvinceId};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

fn rules_file(name: &str) -> String {
    super::root()
        .join("scenarios/rules")
        .join(format!("{name}.toml"))
        .display()
        .to_string()
}

fn load(name: &str) -> RuleSet {
    RuleSet::load(std::path::Path::new(&rules_file(name))).unwrap()
}

/// Every province under `name`'s rules, the file named for each.
fn everywhere(rules: RuleSet, name: &str) -> (Vec<Arc<RuleSet>>, Vec<String>) {
    let r = Arc::new(rules);
    (
        ProvinceId::all().map(|_| r.clone()).collect(),
        ProvinceId::all().map(|_| rules_file(name)).collect(),
    )
}

/// Each province under its own rule set, as a smoke run loads them.
fn provincial(m: Option<Mutant>) -> Vec<Arc<RuleSet>> {
    provincial_in("smoke.toml", m)
}

/// Each province under its own rule set, as a run of `file` loads them.
fn provincial_in(file: &str, m: Option<Mutant>) -> Vec<Arc<RuleSet>> {
    let scenario = Scenario::load(&super::scenario(file)).unwrap();
    let files = hcsim::platform_setup::rule_files(
        Some(&scenario),
        &hcsim::run::default_rules_dir(&scenario),
    )
    .unwrap();
    files
        .iter()
        .map(|f| {
            let r = RuleSet::load(f).unwrap();
            Arc::new(match m {
                Some(m) => r.mutated(m),
                None => r,
            })
        })
        .collect()
}

fn smoke(dir: &std::path::Path, m: Option<Mutant>) -> hcsim::run::RunOutcome {
    let scenario = Scenario::load(&super::scenario("smoke.toml")).unwrap();
    let opts = RunOptions {
        threads: 2,
        out_dir: dir.to_path_buf(),
        progress: false,
    };
    run_with_rules(&scenario, &opts, provincial(m)).unwrap()
}

fn oracle_of(o: &hcsim::run::RunOutcome) -> hcsim_reports::summary::OracleSummary {
    o.summary
        .oracle
        .clone()
        .expect("the smoke run has an oracle")
}

#[test]
fn smoke_day_has_no_violations_and_a_broken_rule_has_reproducible_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let clean_run = smoke(&tmp.path().join("clean"), None);
    assert_eq!(run_cli::verdict(&clean_run.summary, false), exit::OK);
    let clean = oracle_of(&clean_run);
    assert_eq!(clean.violations, 0, "{:?}", clean.by_kind);
    assert_eq!(clean.citizens_checked, 14101, "smoke checks everyone");
    assert!(clean.checks > 50_000, "{}", clean.checks);
    assert!(clean.recognition_checks > 0);
    assert!(clean.records_audited > 0);
    assert_eq!(clean.lost_records, 0);
    assert!(!tmp.path().join("clean/violations").exists());

    // Anhui's "abnormal check-in while yellow → red" now fires for green
    // holders too: symptomatic declarations turn red instead of yellow.
    let out = tmp.path().join("mutant");
    let broken_run = smoke(&out, Some(Mutant::IgnoreWhile));
    let broken = oracle_of(&broken_run);
    assert!(broken.violations > 0, "the oracle missed a broken rule");
    assert!(broken.by_kind.get("wrong_code").copied().unwrap_or(0) > 0);
    let first = out.join("violations/001.json");
    let v = Violation::load(&first).unwrap();
    assert_eq!(v.kind, "wrong_code");
    assert_eq!(v.seed, 20201001);
    assert_eq!(v.province.as_deref(), Some("anhui"));
    assert!(v.citizen.is_some());
    assert!(v.history.len() >= 2, "registration and the declaration");
    assert_eq!(v.expected, "yellow");
    assert_eq!(v.actual, "red");
    let files = std::fs::read_dir(out.join("violations")).unwrap().count() as u64;
    assert_eq!(files, broken.violation_files);

    // `hcsim run` says so on the terminal and in its exit code, unless the
    // run is declared exploratory.
    assert_eq!(
        run_cli::verdict(&broken_run.summary, false),
        exit::CORRECTNESS
    );
    assert_eq!(run_cli::verdict(&broken_run.summary, true), exit::OK);
    let printed = run_cli::render_run(&broken_run, &out);
    let wrong = broken.by_kind["wrong_code"];
    assert!(
        printed.contains(&format!("{} violations (", broken.violations))
            && printed.contains(&format!("wrong_code {wrong}")),
        "{printed}"
    );
    let dir = format!("{}/violations/", out.display());
    assert!(
        printed.contains(&format!("reproducers     {dir} ({files} files")),
        "{printed}"
    );
    assert!(
        printed
            .lines()
            .any(|l| l.starts_with("wrote") && l.ends_with(&dir)),
        "{printed}"
    );

    // The reproducer reproduces against the broken platform only.
    let (rules, names) = (provincial(Some(Mutant::IgnoreWhile)), v.rules.clone());
    let names: Vec<String> = ProvinceId::all()
        .map(|p| names.get(p.key()).cloned().unwrap_or_default())
        .collect();
    let again = replay(&v, rules, names.clone());
    assert!(!again.violations.is_empty(), "replay did not reproduce");
    assert_eq!(again.violations[0].expected, "yellow");
    assert_eq!(again.violations[0].actual, "red");
    let fixed = replay(&v, provincial(None), names);
    assert!(fixed.violations.is_empty(), "{:?}", fixed.violations);
    assert!(fixed.checks > 0);

    // `hcsim replay` runs the history against the shipped (correct) rules.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_hcsim"))
        .args(["replay", first.to_str().unwrap()])
        .current_dir(super::root())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("violation       wrong_code (seed 20201001"),
        "{out}"
    );
    assert!(out.contains("expected yellow, platform said red"), "{out}");
    assert!(out.contains("not reproduced"), "{out}");
}

/// One deliberate bug per release and decision mechanism, each caught by
/// the oracle in a whole run of a shipped scenario (not a hand-built
/// history): a yellow code released a day before `min_days` (Anhui's
/// fortnight has yellow codes whose seven days run out); checkpoints
/// passing yellow codes (the smoke day scans yellow codes everywhere);
/// holders shown with one character too many; Fujian's orange and the
/// yellow codes scanned in Fujian decided without the recognition policy's
/// mapping (the smoke day has a few such scans); and a negative NAT from
/// before the trigger counted toward a release (Hubei's yellow codes in
/// the fortnight need one after it). The clean runs of both scenarios
/// show no violation (`smoke_day_…` here, `shipped.rs`).
#[test]
fn each_rule_mechanism_mutant_is_caught_on_a_shipped_scenario() {
    for (file, m, kind) in [
        ("anhui-fortnight.toml", Mutant::MinDaysShort, "wrong_code"),
        ("smoke.toml", Mutant::YellowPasses, "wrong_decision"),
        ("smoke.toml", Mutant::MaskOneShort, "unmasked_identity"),
        // The recognition scenario: cross-province scans of yellow and
        // red codes, which the smoke day no longer has since their
        // holders stay home.
        (
            "recognition.toml",
            Mutant::RecognitionUnmapped,
            "recognition_more_lenient",
        ),
        (
            "anhui-fortnight.toml",
            Mutant::StaleNegativeNat,
            "wrong_code",
        ),
    ] {
        let scenario = Scenario::load(&super::scenario(file)).unwrap();
        let found = mutant_run(&scenario, file, m);
        assert!(
            found.get(kind).copied().unwrap_or(0) > 0,
            "{file} under {m:?}: {found:?}"
        );
    }
}

/// Violations by kind of `scenario` under `m`.
fn mutant_run(scenario: &Scenario, file: &str, m: Mutant) -> BTreeMap<String, u64> {
    let tmp = tempfile::tempdir().unwrap();
    let opts = RunOptions {
        threads: 2,
        out_dir: tmp.path().to_path_buf(),
        progress: false,
    };
    run_with_rules(scenario, &opts, provincial_in(file, Some(m)))
        .unwrap()
        .summary
        .oracle
        .expect("an oracle")
        .by_kind
}

/// A large run follows a sample of its citizens, and tells the traffic
/// of everyone else apart on the pool; a decision table or masking broken
/// for everyone is still caught in that traffic, as often as when everyone
/// is followed.
#[test]
fn breaches_by_people_outside_the_sample_are_caught() {
    for (m, kind) in [
        (Mutant::YellowPasses, "wrong_decision"),
        (Mutant::MaskOneShort, "unmasked_identity"),
    ] {
        let mut scenario = Scenario::load(&super::scenario("smoke.toml")).unwrap();
        let everyone = mutant_run(&scenario, "smoke.toml", m)[kind];
        scenario.oracle.sample = Some(0.02);
        let sampled = mutant_run(&scenario, "smoke.toml", m)[kind];
        assert!(everyone > 0, "{m:?}");
        assert_eq!(sampled, everyone, "{m:?}: {kind}");
    }
}

const HOME: &str = "hebei";

fn home() -> ProvinceId {
    ProvinceId::parse(HOME).unwrap()
}

fn person(age: u8) -> Identity {
    Identity {
        doc: DocKind::IdCard,
        number: DocNumber::resident(home(), 1, 19_900_101, 7),
        name: NameCode::new(1, 2, Some(3)),
        age,
    }
}

/// The first code of `home()`, as a platform with the default keys signs it.
fn code() -> CodeId {
    hcsim_platform::CodeKeys::default().sign(Issuer::Province(home()), 0)
}

fn county(k: u16) -> CountyRef {
    CountyRef {
        province: home(),
        county: k,
    }
}

fn place(kind: CheckpointKind) -> Place {
    Place {
        county: county(0),
        kind,
    }
}

fn event(now: Minute, sender: Sender, request: Request) -> Event {
    Event {
        order: 0,
        now,
        sender,
        request,
        response: serde_json::Value::Null,
    }
}

/// A violation whose history is `events`, numbered in the order given.
fn history(mut events: Vec<Event>, rules: &str) -> Violation {
    for (i, e) in events.iter_mut().enumerate() {
        e.order = i as u64 + 1;
    }
    let mut rule_map = std::collections::BTreeMap::new();
    rule_map.insert(HOME.to_string(), rules_file(rules));
    Violation {
        kind: "test".into(),
        seed: 1,
        scenario: "test".into(),
        citizen: Some(0),
        province: Some(HOME.into()),
        at: String::new(),
        expected: String::new(),
        actual: String::new(),
        detail: String::new(),
        rules: rule_map,
        history: events,
    }
}

/// The citizen's application for a code, face verified, aged 30.
fn apply(now: Minute) -> Event {
    event(
        now,
        Sender::Citizen(0),
        Request::Apply {
            province: home(),
            identity: person(30),
            face_verified: true,
            national: false,
        },
    )
}

fn declare(now: Minute, symptoms: bool) -> Event {
    event(
        now,
        Sender::Citizen(0),
        Request::Declare {
            code: code(),
            temperature: DeciCelsius(if symptoms { 381 } else { 364 }),
            symptoms,
            contact: false,
        },
    )
}

#[test]
fn one_checkin_short_release_is_caught_as_a_skipped_streak_day() {
    let day0 = Minute::parse("2020-10-01T10:00").unwrap();
    let mut ev = vec![apply(day0), declare(day0.plus_minutes(1), true)];
    // Six check-ins at 08:00, the seventh at noon of day 7.
    for d in 1..=6 {
        ev.push(declare(Minute(day0.plus_days(d).0 - 120), false));
    }
    ev.push(declare(day0.plus_days(7).plus_hours(2), false));
    // Seven days after the trigger, before the seventh check-in.
    ev.push(event(
        day0.plus_days(7).plus_minutes(30),
        Sender::Citizen(0),
        Request::Query { code: code() },
    ));
    ev.sort_by_key(|e| e.now);
    let v = history(ev, "default");
    let (clean, names) = everywhere(load("default"), "default");
    let ok = replay(&v, clean, names.clone());
    assert!(ok.violations.is_empty(), "{:?}", ok.violations);
    assert!(ok.checks >= 9);
    let (broken, _) = everywhere(load("default").mutated(Mutant::OneCheckinShort), "default");
    let bad = replay(&v, broken, names);
    let kinds: Vec<&str> = bad.violations.iter().map(|v| v.kind.as_str()).collect();
    assert_eq!(kinds, ["streak_skipped_day"], "{:?}", bad.violations);
    assert_eq!(bad.violations[0].expected, "yellow");
    assert_eq!(bad.violations[0].actual, "green");
    assert!(bad.violations[0].history.len() >= 9);
}

/// One random step of a citizen's life, as the platform sees it.
#[derive(Clone, Debug)]
enum Step {
    Wait(u32),
    Apply {
        face: bool,
        age: u8,
    },
    Declare {
        t: u16,
        symptoms: bool,
        contact: bool,
    },
    Temperature(u16),
    Verify {
        id_card: bool,
        t: Option<u16>,
    },
    Offline {
        age_hours: u32,
        future: bool,
    },
    PlaceScan(u16),
    Query,
    SaveOffline,
    Designation(u8, u32),
    Quarantine {
        home: bool,
        back: u32,
        days: u32,
    },
    Nat {
        positive: bool,
        back: u32,
        ahead: u32,
    },
    Igg(bool),
    SameBuilding(u32),
    Stay(u16),
    Risk(u16, u8),
    Authority(u8, u32),
    Credit,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u32..3 * 1440).prop_map(Step::Wait),
        2 => (any::<bool>(), 5u8..80).prop_map(|(face, age)| Step::Apply { face, age }),
        4 => (360u16..392, prop::bool::weighted(0.2), prop::bool::weighted(0.1))
            .prop_map(|(t, symptoms, contact)| Step::Declare { t, symptoms, contact }),
        1 => (360u16..392).prop_map(Step::Temperature),
        3 => (any::<bool>(), prop::option::of(360u16..392))
            .prop_map(|(id_card, t)| Step::Verify { id_card, t }),
        1 => (0u32..48, prop::bool::weighted(0.1))
            .prop_map(|(age_hours, future)| Step::Offline { age_hours, future }),
        1 => (360u16..392).prop_map(Step::PlaceScan),
        2 => Just(Step::Query),
        1 => Just(Step::SaveOffline),
        2 => (0u8..5, 0u32..2 * 1440).prop_map(|(s, b)| Step::Designation(s, b)),
        1 => (any::<bool>(), 0u32..2 * 1440, 0u32..20)
            .prop_map(|(home, back, days)| Step::Quarantine { home, back, days }),
        2 => (any::<bool>(), 0u32..2 * 1440, 0u32..12 * 60)
            .prop_map(|(positive, back, ahead)| Step::Nat { positive, back, ahead }),
        1 => any::<bool>().prop_map(Step::Igg),
        1 => (0u32..1440).prop_map(Step::SameBuilding),
        2 => (0u16..3).prop_map(Step::Stay),
        1 => (0u16..3, 0u8..3).prop_map(|(c, l)| Step::Risk(c, l)),
        1 => (0u8..5, 0u32..1440).prop_map(|(c, b)| Step::Authority(c, b)),
        1 => Just(Step::Credit),
    ]
}

const STATUSES: [CaseStatus; 5] = [
    CaseStatus::Confirmed,
    CaseStatus::Suspected,
    CaseStatus::Asymptomatic,
    CaseStatus::CloseContact,
    CaseStatus::Cleared,
];
const COLORS: [Color; 5] = [
    Color::Green,
    Color::White,
    Color::Yellow,
    Color::Orange,
    Color::Red,
];
const LEVELS: [RiskLevel; 3] = [RiskLevel::Low, RiskLevel::Medium, RiskLevel::High];

fn to_events(steps: &[Step]) -> Vec<Event> {
    let mut now = Minute::parse("2020-10-01T06:00").unwrap();
    let doc = person(0).number;
    let feed = |feed: Feed| Request::Feed {
        to: Some(home()),
        feed,
    };
    let mut out = Vec::new();
    for s in steps {
        let (sender, request) = match *s {
            Step::Wait(m) => {
                now = now.plus_minutes(m);
                continue;
            }
            Step::Apply { face, age } => (
                Sender::Citizen(0),
                Request::Apply {
                    province: home(),
                    identity: person(age),
                    face_verified: face,
                    national: false,
                },
            ),
            Step::Declare {
                t,
                symptoms,
                contact,
            } => (
                Sender::Citizen(0),
                Request::Declare {
                    code: code(),
                    temperature: DeciCelsius(t),
                    symptoms,
                    contact,
                },
            ),
            Step::Temperature(t) => (
                Sender::Citizen(0),
                Request::Temperature {
                    code: code(),
                    temperature: DeciCelsius(t),
                    place: place(CheckpointKind::Office),
                },
            ),
            Step::Verify { id_card, t } => (
                Sender::Checkpoint,
                Request::Verify {
                    credential: if id_card {
                        Credential::IdCard(doc)
                    } else {
                        Credential::Code(code())
                    },
                    place: place(CheckpointKind::Mall),
                    temperature: t.map(DeciCelsius),
                },
            ),
            Step::Offline { age_hours, future } => {
                let issued = if future {
                    now.plus_hours(age_hours + 1)
                } else {
                    Minute(now.0.saturating_sub(age_hours * 60))
                };
                let code = code();
                (
                    Sender::Checkpoint,
                    Request::Verify {
                        // Sealed as the platform seals it: only its age is
                        // under test.
                        credential: Credential::Offline {
                            code,
                            issued,
                            color: Color::Green,
                            seal: hcsim_platform::CodeKeys::default().seal(
                                &code,
                                issued,
                                Color::Green,
                            ),
                        },
                        place: place(CheckpointKind::Bank),
                        temperature: None,
                    },
                )
            }
            Step::PlaceScan(t) => (
                Sender::Checkpoint,
                Request::PlaceScan {
                    code: code(),
                    place: place(CheckpointKind::Venue),
                    temperature: DeciCelsius(t),
                },
            ),
            Step::Query => (Sender::Citizen(0), Request::Query { code: code() }),
            Step::SaveOffline => (Sender::Citizen(0), Request::Offline { code: code() }),
            Step::Designation(k, back) => (
                Sender::Authority,
                feed(Feed::Designation {
                    person: doc,
                    status: STATUSES[k as usize],
                    at: Minute(now.0.saturating_sub(back)),
                }),
            ),
            Step::Quarantine {
                home: h,
                back,
                days,
            } => {
                let start = Minute(now.0.saturating_sub(back));
                (
                    Sender::Authority,
                    feed(Feed::Quarantine {
                        person: doc,
                        kind: if h {
                            QuarantineKind::Home
                        } else {
                            QuarantineKind::Centralized
                        },
                        start,
                        end: start.plus_days(days),
                    }),
                )
            }
            Step::Nat {
                positive,
                back,
                ahead,
            } => (
                Sender::Authority,
                feed(Feed::NatResult {
                    person: doc,
                    at: Minute(now.0.saturating_sub(back)).plus_minutes(ahead),
                    positive,
                    institution: 3,
                }),
            ),
            Step::Igg(positive) => (
                Sender::Authority,
                feed(Feed::IggResult {
                    person: doc,
                    at: now,
                    positive,
                }),
            ),
            Step::SameBuilding(back) => (
                Sender::Authority,
                feed(Feed::SameBuildingCase {
                    person: doc,
                    at: Minute(now.0.saturating_sub(back)),
                }),
            ),
            Step::Stay(c) => (
                Sender::Telecom(0),
                feed(Feed::Stay {
                    person: doc,
                    county: county(c),
                    at: now,
                }),
            ),
            // Risk levels are broadcast as they change, in force from the
            // next minute, as the authority does. A broadcast delivered
            // after a stay it predates is a known platform gap (the stay is
            // judged on receipt) that the oracle reports, so it is not
            // generated here.
            Step::Risk(c, l) => (
                Sender::Authority,
                Request::Feed {
                    to: None,
                    feed: Feed::RiskArea {
                        county: county(c),
                        level: LEVELS[l as usize],
                        at: now.plus_minutes(1),
                    },
                },
            ),
            Step::Authority(c, back) => (
                Sender::Authority,
                feed(Feed::AuthorityColor {
                    person: doc,
                    color: COLORS[c as usize],
                    at: Minute(now.0.saturating_sub(back)),
                }),
            ),
            Step::Credit => (
                Sender::Authority,
                feed(Feed::CreditViolation {
                    person: doc,
                    at: now,
                }),
            ),
        };
        out.push(event(now, sender, request));
    }
    out
}

const SCHEMES: [&str; 7] = [
    "national",
    "default",
    "anhui",
    "qinghai",
    "fujian",
    "guangdong",
    "hubei",
];

proptest! {
    // A fixed seed: the same cases on every run and machine.
    #![proptest_config(ProptestConfig {
        cases: 256,
        rng_seed: proptest::test_runner::RngSeed::Fixed(20201001),
        ..ProptestConfig::default()
    })]

    /// Random histories under every scheme: the platform never panics and
    /// the oracle agrees with every answer it gives.
    #[test]
    fn random_histories_never_panic_and_the_oracle_agrees(
        scheme in 0usize..SCHEMES.len(),
        (face, age) in (any::<bool>(), 5u8..80),
        rest in prop::collection::vec(step(), 0..60),
    ) {
        let name = SCHEMES[scheme];
        // Every history begins with the application: before it the oracle
        // tracks nobody and would agree vacuously.
        let mut steps = vec![Step::Apply { face, age }];
        steps.extend(rest);
        let events = to_events(&steps);
        let v = history(events, name);
        let (rules, names) = everywhere(load(name), name);
        let r = replay(&v, rules, names);
        prop_assert!(r.checks > 0, "{}: nothing was checked", name);
        // Future-dated NAT results exercise the platform's feed contract (a
        // fact counts from receipt), and random scans fall inside random
        // quarantines; the simulation never does either, which the oracle's
        // behaviour invariants report, not a rule disagreement.
        let disagreements: Vec<_> = r
            .violations
            .iter()
            .filter(|v| !matches!(v.kind.as_str(), "nat_causality" | "scan_in_isolation"))
            .collect();
        prop_assert!(disagreements.is_empty(), "{}: {:#?}", name, disagreements.first().map(|v| (&v.kind, &v.at, &v.expected, &v.actual, v.history.iter().map(|e| (e.now, e.request.clone(), e.response.clone())).collect::<Vec<_>>())));
    }
}

/// Cross-province scans under the recognition policy and inbound travellers
/// designated by the hub's same-flight check: the oracle follows both and
/// finds nothing wrong (a small, busier copy of `recognition.toml`).
#[test]
fn recognition_and_same_flight_contacts_agree_with_the_oracle() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = super::scenario("");
    let text = std::fs::read_to_string(super::scenario("recognition.toml"))
        .unwrap()
        .replace("population_scale = 0.0001", "population_scale = 0.00003")
        .replace("duration_hours = 48", "duration_hours = 36")
        .replace("inbound = 0.002", "inbound = 0.01")
        .replace("inbound_case = 0.05", "inbound_case = 0.2")
        .replace(
            "recognition = \"recognition/policy.toml\"",
            &format!(
                "recognition = {:?}\ndefault = {:?}",
                dir.join("recognition/policy.toml"),
                dir.join("rules/default.toml")
            ),
        );
    let path = tmp.path().join("recognition-small.toml");
    std::fs::write(&path, text).unwrap();
    let scenario = Scenario::load(&path).unwrap();
    let rules = hcsim::platform_setup::setup(Some(&scenario), &dir.join("rules"))
        .unwrap()
        .rules;
    let opts = RunOptions {
        threads: 2,
        out_dir: tmp.path().join("out"),
        progress: false,
    };
    let summary = run_with_rules(&scenario, &opts, rules).unwrap().summary;
    let hub = &summary.hub;
    assert!(hub.same_flight_contacts > 0, "{hub:?}");
    // Every arrival from abroad is quarantined and tested at the port;
    // the port's cases count, and their fellow passengers are contacts.
    let e = &summary.epidemic;
    assert!(e.inbound_quarantined > 0, "{e:?}");
    assert_eq!(e.inbound_quarantined, hub.inbound_entries, "{e:?} {hub:?}");
    assert!(e.port_cases > 0, "{e:?}");
    assert_eq!(e.contacts_by_setting["flight"], hub.same_flight_contacts);
    assert!(hub.cross_province_scans > 1000, "{hub:?}");
    let oracle = summary.oracle.expect("an oracle");
    assert!(oracle.recognition_checks > 1000, "{oracle:?}");
    assert_eq!(oracle.violations, 0, "{oracle:?}");
    assert_eq!(oracle.recognition_disagreements, 0, "{oracle:?}");
}

/// An oracle tracking the one citizen of these tests, under Hubei's rules.
fn tracking_one() -> hcsim::oracle::Oracle {
    let (rules, rule_files) = everywhere(load("hubei"), "hubei");
    let mut o = hcsim::oracle::Oracle::new(hcsim::oracle::Setup {
        seed: 1,
        scenario: "test".into(),
        rules,
        rule_files,
        share: 1.0,
        code_keys: Default::default(),
    });
    o.track(0, home(), person(30).number);
    o
}

fn nat_result(at: Minute) -> Request {
    Request::Feed {
        to: Some(home()),
        feed: Feed::NatResult {
            person: person(30).number,
            at,
            positive: false,
            institution: 1,
        },
    }
}

fn observe(
    o: &mut hcsim::oracle::Oracle,
    now: Minute,
    tag: hcsim::engine::message::Tag,
    r: Request,
    resp: hcsim_platform::Response,
) {
    o.observe(now, &[tag], &[r], &[resp]);
}

#[test]
fn a_nat_result_before_its_sample_or_the_application_is_a_violation() {
    use hcsim::engine::message::Tag;
    use hcsim_platform::Response;
    let now = Minute(2 * 1440 + 600);
    let citizen = Tag {
        shard: 0,
        agent: hcsim::engine::message::Agent::Citizen(0),
        aux: 0,
    };
    let apply = Request::Apply {
        province: home(),
        identity: person(30),
        face_verified: true,
        national: false,
    };
    let issued = Response::Issued {
        code: code(),
        color: Color::Green,
    };

    // Published before the person applied.
    let mut o = tracking_one();
    observe(
        &mut o,
        now,
        Tag::authority(),
        nat_result(now),
        Response::Ack,
    );
    assert_eq!(o.summary().by_kind.get("nat_causality"), Some(&1));
    assert!(o.violations()[0].detail.contains("application"));

    // Published before its sample was taken.
    let mut o = tracking_one();
    observe(&mut o, now, citizen, apply.clone(), issued.clone());
    observe(
        &mut o,
        now.plus_minutes(5),
        Tag::authority(),
        nat_result(now.plus_hours(10)),
        Response::Ack,
    );
    assert_eq!(o.summary().by_kind.get("nat_causality"), Some(&1));
    assert!(o.violations()[0].detail.contains("sample"));

    // Sampled in the morning, published at night after the application: fine.
    let mut o = tracking_one();
    observe(&mut o, now, citizen, apply, issued);
    observe(
        &mut o,
        now.plus_hours(12),
        Tag::authority(),
        nat_result(now.plus_hours(1)),
        Response::Ack,
    );
    assert_eq!(o.summary().violations, 0, "{:?}", o.summary());
}

#[test]
fn a_scan_of_a_quarantined_person_outside_what_the_order_allows_is_a_violation() {
    use hcsim::engine::message::{Agent, Tag};
    use hcsim_platform::Response;
    let now = Minute(2 * 1440 + 600);
    let citizen = Tag {
        shard: 0,
        agent: Agent::Citizen(0),
        aux: 0,
    };
    let checkpoint = |wait: u32| Tag {
        shard: 0,
        agent: Agent::Checkpoint(0),
        aux: hcsim::agents::checkpoint::scan_tag(wait, wait * 60),
    };
    let apply = Request::Apply {
        province: home(),
        identity: person(30),
        face_verified: true,
        national: false,
    };
    let issued = Response::Issued {
        code: code(),
        color: Color::Green,
    };
    let quarantine = Request::Feed {
        to: Some(home()),
        feed: Feed::Quarantine {
            person: person(30).number,
            kind: QuarantineKind::Home,
            start: now,
            end: now.plus_days(14),
        },
    };
    let scan = |kind| Request::Verify {
        credential: Credential::Code(code()),
        place: place(kind),
        temperature: None,
    };
    let verdict = |o: &mut hcsim::oracle::Oracle, at: Minute, wait: u32, kind| {
        // The platform's answer does not matter to this invariant: the
        // oracle judges where the person went.
        o.observe(at, &[checkpoint(wait)], &[scan(kind)], &[Response::Busy]);
    };
    let quarantined = || {
        let mut o = tracking_one();
        o.observe(
            now,
            &[citizen],
            std::slice::from_ref(&apply),
            std::slice::from_ref(&issued),
        );
        o.observe(
            now,
            &[Tag::authority()],
            std::slice::from_ref(&quarantine),
            &[Response::Ack],
        );
        o
    };

    let mut o = quarantined();
    verdict(&mut o, now.plus_hours(30), 2, CheckpointKind::Restaurant);
    assert_eq!(o.summary().by_kind.get("scan_in_isolation"), Some(&1));

    // A fever clinic is what the order allows; a queue joined before the
    // order, and a scan after it ended, are no breach.
    let mut o = quarantined();
    verdict(&mut o, now.plus_hours(30), 0, CheckpointKind::Hospital);
    verdict(&mut o, now.plus_minutes(3), 5, CheckpointKind::Mall);
    verdict(&mut o, now.plus_days(15), 0, CheckpointKind::Mall);
    assert_eq!(o.summary().violations, 0, "{:?}", o.summary());
}

/// Citizens who show a forged code (the next serial under their own token,
/// as someone counting serials would) are refused, and the oracle's
/// forged-code invariant holds; a platform that serves its codes without
/// checking the token hands out other holders' colors and is caught.
#[test]
fn a_forged_code_never_gets_a_color_and_a_platform_serving_one_is_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let mut scenario = Scenario::load(&super::scenario("smoke.toml")).unwrap();
    scenario.behaviour.forged_codes = 0.05;
    let run = |dir: &str, m: Option<Mutant>| {
        let opts = RunOptions {
            threads: 2,
            out_dir: tmp.path().join(dir),
            progress: false,
        };
        run_with_rules(&scenario, &opts, provincial(m)).unwrap()
    };
    let clean = run("clean", None);
    let oracle = oracle_of(&clean);
    assert_eq!(oracle.violations, 0, "{:?}", oracle.by_kind);
    // About 5 % of the day's code scans were forged, and refused.
    let scans = &clean.summary.scans;
    assert!(scans.unknown * 100 > scans.total * 2, "{scans:?}");

    let broken = run("mutant", Some(Mutant::AcceptForgedCodes));
    let caught = oracle_of(&broken)
        .by_kind
        .get("forged_code_colored")
        .copied()
        .unwrap_or(0);
    assert!(caught > 100, "{:?}", oracle_of(&broken).by_kind);
    let files = std::fs::read_dir(tmp.path().join("mutant/violations")).unwrap();
    let violations: Vec<Violation> = files
        .map(|f| Violation::load(&f.unwrap().path()).unwrap())
        .collect();
    let forged = violations
        .iter()
        .find(|v| v.kind == "forged_code_colored")
        .unwrap_or_else(|| {
            panic!(
                "{:?}",
                violations.iter().map(|v| &v.kind).collect::<Vec<_>>()
            )
        });

    // The reproducer carries the registration of the holder whose record
    // the forged code names: replayed against the platform that served
    // it, the forged code is colored again; against the clean one, refused.
    assert!(forged.citizen.is_some(), "{forged:?}");
    assert!(forged.history.len() >= 2, "{:?}", forged.history);
    let names: Vec<String> = ProvinceId::all()
        .map(|p| forged.rules.get(p.key()).cloned().unwrap_or_default())
        .collect();
    let again = replay(
        forged,
        provincial(Some(Mutant::AcceptForgedCodes)),
        names.clone(),
    );
    let kinds: Vec<&str> = again.violations.iter().map(|v| v.kind.as_str()).collect();
    assert_eq!(kinds, ["forged_code_colored"], "{:?}", again.violations);
    assert_eq!(again.violations[0].expected, forged.expected);
    assert_eq!(again.violations[0].actual, forged.actual);
    let last = again.steps.last().unwrap();
    assert_eq!(last.event, *forged.history.last().unwrap());
    assert!(last.response.color().is_some(), "{:?}", last.response);
    let fixed = replay(forged, provincial(None), names);
    assert!(fixed.violations.is_empty(), "{:?}", fixed.violations);
    assert_eq!(
        fixed.steps.last().unwrap().response,
        Response::Refused(Refusal::ForgedCode)
    );
}

/// A run of the scenario at `path` under its own rule files, each broken
/// by `m`; the oracle's findings.
fn oracle_under(
    path: &std::path::Path,
    m: Option<Mutant>,
    out: &std::path::Path,
) -> hcsim_reports::summary::OracleSummary {
    let scenario = Scenario::load(path).unwrap();
    let rules = hcsim::platform_setup::setup(Some(&scenario), &super::scenario("rules"))
        .unwrap()
        .rules
        .into_iter()
        .map(|r| match m {
            Some(m) => Arc::new((*r).clone().mutated(m)),
            None => r,
        })
        .collect();
    let opts = RunOptions {
        threads: 2,
        out_dir: out.to_path_buf(),
        progress: false,
    };
    run_with_rules(&scenario, &opts, rules)
        .unwrap()
        .summary
        .oracle
        .expect("an oracle")
}

/// `anhui-fortnight.toml` made to end quarantines: cases from the first
/// day, orders of 16 days (longer than any release's 14), 18 days run.
fn quarantines_that_end(dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(super::scenario("anhui-fortnight.toml"))
        .unwrap()
        .replace("duration_hours = 336", "duration_hours = 432")
        .replace(
            "confirmed_per_million_day = 0.0",
            "confirmed_per_million_day = 300.0\nquarantine_days = 16\nhotspots = { anhui = 5.0 }",
        )
        .replace(
            "anhui = \"rules/anhui.toml\"",
            &format!("anhui = {:?}", super::scenario("rules/anhui.toml")),
        );
    // Beside it, the shipped rules every province without its own file reads.
    std::os::unix::fs::symlink(super::scenario("rules"), dir.join("rules")).unwrap();
    let path = dir.join("quarantines-that-end.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// No shipped scenario ends a quarantine that holds a color: every
/// shipped release waits at least 14 days and every order lasts 14 days
/// from its trigger, so the end never binds (and only the fortnight runs
/// that long). The smallest run where it does: the fortnight with cases
/// from the first day and 16-day orders, over 18 days. Anhui's close
/// contacts are red only while quarantined; their release comes at the
/// order's end, a day after their 14 days and 14 check-ins.
#[test]
fn a_quarantine_released_before_its_end_is_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let path = quarantines_that_end(tmp.path());
    let clean = oracle_under(&path, None, &tmp.path().join("clean"));
    assert_eq!(clean.violations, 0, "{:?}", clean.by_kind);
    assert!(clean.checks > 100_000, "{}", clean.checks);
    let broken = oracle_under(
        &path,
        Some(Mutant::QuarantineEndsEarly),
        &tmp.path().join("mutant"),
    );
    assert!(
        broken.by_kind.get("wrong_code").copied().unwrap_or(0) > 0,
        "{:?}",
        broken.by_kind
    );
}

/// No citizen of a run saves an offline code (only the policy cases'
/// runner presents them), so offline expiry is shown on a fixed history:
/// a code saved at 10:00 and shown 30 hours later, past the 24 hours of
/// the default scheme and inside the broken platform's 48.
#[test]
fn an_offline_code_accepted_past_its_hours_is_caught() {
    let day0 = Minute::parse("2020-10-01T10:00").unwrap();
    let offline = Credential::Offline {
        code: code(),
        issued: day0.plus_minutes(5),
        color: Color::Green,
        seal: hcsim_platform::CodeKeys::default().seal(&code(), day0.plus_minutes(5), Color::Green),
    };
    let ev = vec![
        apply(day0),
        event(
            day0.plus_minutes(5),
            Sender::Citizen(0),
            Request::Offline { code: code() },
        ),
        // Within its hours: passed by both platforms.
        event(
            day0.plus_hours(23),
            Sender::Checkpoint,
            Request::Verify {
                credential: offline,
                place: place(CheckpointKind::Bank),
                temperature: None,
            },
        ),
        event(
            day0.plus_hours(30),
            Sender::Checkpoint,
            Request::Verify {
                credential: offline,
                place: place(CheckpointKind::Bank),
                temperature: None,
            },
        ),
    ];
    let v = history(ev, "default");
    let (clean, names) = everywhere(load("default"), "default");
    let ok = replay(&v, clean, names.clone());
    assert!(ok.violations.is_empty(), "{:?}", ok.violations);
    assert!(ok.checks >= 2, "{}", ok.checks);
    let (broken, _) = everywhere(
        load("default").mutated(Mutant::OfflineExpiresLate),
        "default",
    );
    let bad = replay(&v, broken, names);
    let kinds: Vec<&str> = bad.violations.iter().map(|v| v.kind.as_str()).collect();
    assert_eq!(kinds, ["offline_expired_accepted"], "{:?}", bad.violations);
    assert_eq!(bad.violations[0].at, day0.plus_hours(30).to_string());
}

/// Cases drawn on a day are people who already hold a code: with many
/// newcomers (a fifth of the smoke day's citizens apply during it), no
/// case's positive test precedes its holder's application.
#[test]
fn cases_are_never_found_before_their_holder_applied() {
    let tmp = tempfile::tempdir().unwrap();
    let mut scenario = Scenario::load(&super::scenario("smoke.toml")).unwrap();
    scenario.behaviour.first_code = 0.2;
    let opts = RunOptions {
        threads: 2,
        out_dir: tmp.path().to_path_buf(),
        progress: false,
    };
    let o = run_with_rules(&scenario, &opts, provincial(None)).unwrap();
    let oracle = oracle_of(&o);
    assert!(o.summary.epidemic.confirmed > 0, "cases were drawn");
    assert_eq!(oracle.violations, 0, "{:?}", oracle.by_kind);
}
