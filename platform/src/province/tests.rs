//! Each seed system's transitions, driven through `handle` with the rule
//! sets shipped in `scenarios/rules/`.

use super::*;
use crate::api::{
    CaseStatus, CheckpointKind, CountyRef, DeciCelsius, Feed, QuarantineKind, Relation,
    ResumeBasis, RiskLevel,
};
use crate::color::Decision;
use crate::identity::{DocKind, NameCode};

fn rules(name: &str) -> Arc<RuleSet> {
    let text = match name {
        "anhui" => include_str!("../../../scenarios/rules/anhui.toml"),
        "qinghai" => include_str!("../../../scenarios/rules/qinghai.toml"),
        "fujian" => include_str!("../../../scenarios/rules/fujian.toml"),
        "guangdong" => include_str!("../../../scenarios/rules/guangdong.toml"),
        "hubei" => include_str!("../../../scenarios/rules/hubei.toml"),
        "national" => include_str!("../../../scenarios/rules/national.toml"),
        "default" => include_str!("../../../scenarios/rules/default.toml"),
        _ => unreachable!(),
    };
    Arc::new(RuleSet::parse(text, name).unwrap_or_else(|e| panic!("{e}")))
}

fn t(s: &str) -> Minute {
    Minute::parse(s).unwrap()
}

fn id(number: u64, age: u8) -> Identity {
    Identity {
        doc: DocKind::IdCard,
        number: DocNumber(number),
        name: NameCode::new(number as u32 % 30, 3, Some(4)),
        age,
    }
}

struct P {
    x: ProvincePlatform,
    code: CodeId,
    who: Identity,
}

fn platform(scheme: &str, province: &str) -> ProvincePlatform {
    ProvincePlatform::new(ProvinceId::parse(province).unwrap(), rules(scheme))
}

fn registered(scheme: &str, province: &str, at: &str) -> P {
    let mut x = platform(scheme, province);
    let who = id(34010119800101001, 40);
    let code = match done(x.handle(
        t(at),
        &Request::Apply {
            province: x.province(),
            identity: who,
            face_verified: true,
            national: false,
        },
    )) {
        Response::Issued { code, color } => {
            assert_eq!(color, Color::Green);
            code
        }
        other => panic!("{other:?}"),
    };
    P { x, code, who }
}

fn done(o: Outcome) -> Response {
    match o {
        Outcome::Done(r) => r,
        Outcome::NeedsHub(q) => panic!("needs hub: {q:?}"),
    }
}

fn county(province: &str, county: u16) -> CountyRef {
    CountyRef {
        province: ProvinceId::parse(province).unwrap(),
        county,
    }
}

impl P {
    fn req(&mut self, at: &str, r: Request) -> Response {
        done(self.x.handle(t(at), &r))
    }
    fn feed(&mut self, at: &str, feed: Feed) -> Response {
        self.req(at, Request::Feed { to: None, feed })
    }
    fn color(&mut self, at: &str) -> Color {
        match self.req(at, Request::Query { code: self.code }) {
            Response::Health { color, .. } => color,
            other => panic!("{other:?}"),
        }
    }
    fn declare(&mut self, at: &str, temperature: u16, symptoms: bool) -> Response {
        self.req(
            at,
            Request::Declare {
                code: self.code,
                temperature: DeciCelsius(temperature),
                symptoms,
                contact: false,
            },
        )
    }
    /// Normal check-ins at the same time of day for `days` days.
    fn checkins(&mut self, from: &str, days: u32) {
        let start = t(from);
        for k in 0..days {
            let at = start.plus_days(k).to_string();
            assert!(matches!(
                self.declare(&at, 365, false),
                Response::Recorded { .. }
            ));
        }
    }
    fn place(&self) -> Place {
        Place {
            county: county(self.x.province().key(), 1),
            kind: CheckpointKind::Office,
        }
    }
    fn scan(&mut self, at: &str, temperature: Option<u16>) -> Verdict {
        let place = self.place();
        match self.req(
            at,
            Request::Verify {
                credential: Credential::Code(self.code),
                place,
                temperature: temperature.map(DeciCelsius),
            },
        ) {
            Response::Verdict(v) => v,
            other => panic!("{other:?}"),
        }
    }
    fn stay(&mut self, at: &str, level: RiskLevel) {
        let c = county("hubei", 7);
        self.feed(
            at,
            Feed::RiskArea {
                county: c,
                level,
                at: t(at),
            },
        );
        let person = self.who.number;
        self.feed(
            at,
            Feed::Stay {
                person,
                county: c,
                at: t(at),
            },
        );
    }
    fn designate(&mut self, at: &str, status: CaseStatus) {
        let person = self.who.number;
        self.feed(
            at,
            Feed::Designation {
                person,
                status,
                at: t(at),
            },
        );
    }
    fn quarantine(&mut self, at: &str, kind: QuarantineKind, days: u32) {
        let person = self.who.number;
        let start = t(at);
        self.feed(
            at,
            Feed::Quarantine {
                person,
                kind,
                start,
                end: start.plus_days(days),
            },
        );
    }
    fn nat(&mut self, at: &str, positive: bool, institution: u16) {
        let person = self.who.number;
        self.feed(
            at,
            Feed::NatResult {
                person,
                at: t(at),
                positive,
                institution,
            },
        );
    }
}

// ---- Anhui -----------------------------------------------------------------

#[test]
fn anhui_yellow_turns_green_after_7_days_and_7_checkins() {
    let mut p = registered("anhui", "anhui", "2020-03-01T08:00");
    p.stay("2020-03-01T10:00", RiskLevel::Medium);
    assert_eq!(p.color("2020-03-01T10:00"), Color::Yellow);
    p.checkins("2020-03-01T20:00", 7);
    assert_eq!(p.color("2020-03-08T09:59"), Color::Yellow);
    assert_eq!(p.color("2020-03-08T10:00"), Color::Green);
}

#[test]
fn anhui_late_checkins_hold_yellow_past_the_7_days() {
    let mut p = registered("anhui", "anhui", "2020-03-01T08:00");
    p.stay("2020-03-01T10:00", RiskLevel::Medium);
    p.checkins("2020-03-03T20:00", 6);
    assert_eq!(p.color("2020-03-09T19:59"), Color::Yellow);
    p.checkins("2020-03-09T20:00", 1);
    assert_eq!(p.color("2020-03-09T20:00"), Color::Green);
}

#[test]
fn anhui_a_missed_day_breaks_the_streak() {
    let mut p = registered("anhui", "anhui", "2020-03-01T08:00");
    p.stay("2020-03-01T10:00", RiskLevel::Medium);
    p.checkins("2020-03-01T20:00", 3);
    p.checkins("2020-03-05T20:00", 4);
    assert_eq!(p.color("2020-03-09T12:00"), Color::Yellow);
    p.checkins("2020-03-09T20:00", 3);
    assert_eq!(p.color("2020-03-11T20:00"), Color::Green);
}

#[test]
fn anhui_abnormal_checkin_while_yellow_turns_red() {
    let mut p = registered("anhui", "anhui", "2020-03-01T08:00");
    p.same_building("2020-03-01T09:00");
    assert_eq!(p.color("2020-03-01T09:00"), Color::Yellow);
    p.checkins("2020-03-01T20:00", 2);
    match p.declare("2020-03-03T20:00", 366, true) {
        Response::Recorded { color, .. } => assert_eq!(color, Color::Red),
        other => panic!("{other:?}"),
    }
    // Red needs 14 days and 14 check-ins from the abnormal one.
    p.checkins("2020-03-04T20:00", 13);
    assert_eq!(p.color("2020-03-17T19:59"), Color::Red);
    p.checkins("2020-03-17T20:00", 1);
    assert_eq!(p.color("2020-03-17T20:00"), Color::Green);
}

#[test]
fn anhui_symptoms_while_green_turn_yellow() {
    let mut p = registered("anhui", "anhui", "2020-03-01T08:00");
    match p.declare("2020-03-01T09:00", 380, false) {
        Response::Recorded { color, .. } => assert_eq!(color, Color::Yellow),
        other => panic!("{other:?}"),
    }
}

#[test]
fn anhui_green_turns_yellow_at_an_abnormal_checkpoint_temperature() {
    let mut p = registered("anhui", "anhui", "2020-03-01T08:00");
    let v = p.scan("2020-03-01T09:00", Some(372));
    assert_eq!((v.color, v.decision), (Color::Green, Decision::Pass));
    let v = p.scan("2020-03-01T09:05", Some(373));
    assert_eq!((v.color, v.decision), (Color::Yellow, Decision::Refer));
    assert!(v.explanation.is_some());
}

#[test]
fn anhui_close_contact_is_red_only_under_quarantine_and_waits_for_its_end() {
    let mut p = registered("anhui", "anhui", "2020-03-01T08:00");
    p.designate("2020-03-01T09:00", CaseStatus::CloseContact);
    assert_eq!(p.color("2020-03-01T09:00"), Color::Green);
    p.quarantine("2020-03-01T10:00", QuarantineKind::Home, 20);
    assert_eq!(p.color("2020-03-01T10:00"), Color::Red);
    assert_eq!(p.scan("2020-03-01T11:00", None).decision, Decision::Refuse);
    p.checkins("2020-03-01T20:00", 20);
    assert_eq!(p.color("2020-03-21T09:59"), Color::Red);
    assert_eq!(p.color("2020-03-21T10:00"), Color::Green);
}

#[test]
fn anhui_asymptomatic_is_red_under_centralized_quarantine() {
    let mut p = registered("anhui", "anhui", "2020-03-01T08:00");
    p.quarantine("2020-03-01T09:00", QuarantineKind::Centralized, 14);
    p.designate("2020-03-01T10:00", CaseStatus::Asymptomatic);
    assert_eq!(p.color("2020-03-01T10:00"), Color::Red);
}

#[test]
fn anhui_confirmed_stays_red_until_cleared() {
    let mut p = registered("anhui", "anhui", "2020-03-01T08:00");
    p.designate("2020-03-01T09:00", CaseStatus::Confirmed);
    p.checkins("2020-03-01T20:00", 30);
    assert_eq!(p.color("2020-03-30T21:00"), Color::Red);
    p.designate("2020-03-31T09:00", CaseStatus::Cleared);
    assert_eq!(p.color("2020-03-31T09:00"), Color::Green);
}

#[test]
fn anhui_high_risk_arrival_and_designation_turn_red() {
    let mut p = registered("anhui", "anhui", "2020-03-01T08:00");
    p.stay("2020-03-01T09:00", RiskLevel::High);
    assert_eq!(p.color("2020-03-01T09:00"), Color::Red);
    let mut q = registered("anhui", "anhui", "2020-03-01T08:00");
    let person = q.who.number;
    q.feed(
        "2020-03-01T09:00",
        Feed::AuthorityColor {
            person,
            color: Color::Yellow,
            at: t("2020-03-01T09:00"),
        },
    );
    assert_eq!(q.color("2020-03-01T09:00"), Color::Yellow);
}

#[test]
fn a_changed_number_in_the_rule_set_changes_behaviour() {
    let text = include_str!("../../../scenarios/rules/anhui.toml")
        .replace("min_days = 7\ncheckins = 7", "min_days = 5\ncheckins = 5");
    let mut x = ProvincePlatform::new(
        ProvinceId::parse("anhui").unwrap(),
        Arc::new(RuleSet::parse(&text, "anhui-5.toml").unwrap()),
    );
    let who = id(1, 30);
    let code = match done(x.handle(
        t("2020-03-01T08:00"),
        &Request::Apply {
            province: x.province(),
            identity: who,
            face_verified: true,
            national: false,
        },
    )) {
        Response::Issued { code, .. } => code,
        other => panic!("{other:?}"),
    };
    let mut p = P { x, code, who };
    p.stay("2020-03-01T10:00", RiskLevel::Medium);
    p.checkins("2020-03-01T20:00", 5);
    assert_eq!(p.color("2020-03-06T10:00"), Color::Green);
}

// ---- Qinghai -----------------------------------------------------------

#[test]
fn qinghai_place_scan_with_fever_gives_yellow_and_data_gives_red() {
    let mut p = registered("qinghai", "qinghai", "2020-03-20T08:00");
    let place = p.place();
    let code = p.code;
    let scan = |p: &mut P, at: &str, temp: u16| match p.req(
        at,
        Request::PlaceScan {
            code,
            place,
            temperature: DeciCelsius(temp),
        },
    ) {
        Response::Verdict(v) => (v.color, v.decision),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        scan(&mut p, "2020-03-20T09:00", 365),
        (Color::Green, Decision::Pass)
    );
    assert_eq!(
        scan(&mut p, "2020-03-20T10:00", 376),
        (Color::Yellow, Decision::Refer)
    );
    p.designate("2020-03-20T11:00", CaseStatus::Suspected);
    assert_eq!(
        scan(&mut p, "2020-03-20T12:00", 365),
        (Color::Red, Decision::Refuse)
    );
    // Every place scan is a registration record.
    assert_eq!(p.x.filed_records_of(code).unwrap().len(), 3);
}

#[test]
fn qinghai_keeps_a_credit_record() {
    let mut p = registered("qinghai", "qinghai", "2020-03-20T08:00");
    let person = p.who.number;
    for at in ["2020-03-21T08:00", "2020-03-22T08:00", "2020-03-22T08:00"] {
        p.feed(at, Feed::CreditViolation { person, at: t(at) });
    }
    match p.req("2020-03-23T08:00", Request::Query { code: p.code }) {
        Response::Health {
            credit_violations, ..
        } => assert_eq!(credit_violations, Some(2), "the duplicate is not counted"),
        other => panic!("{other:?}"),
    }
    let mut a = registered("anhui", "anhui", "2020-03-20T08:00");
    match a.req("2020-03-23T08:00", Request::Query { code: a.code }) {
        Response::Health {
            credit_violations, ..
        } => assert_eq!(credit_violations, None),
        other => panic!("{other:?}"),
    }
}

// ---- Fujian ------------------------------------------------------------

#[test]
fn fujian_has_two_colors_computed_from_data() {
    let mut p = registered("fujian", "fujian", "2020-03-01T08:00");
    p.stay("2020-03-01T09:00", RiskLevel::Medium);
    let v = p.scan("2020-03-01T10:00", None);
    assert_eq!((v.color, v.decision), (Color::Orange, Decision::Refuse));
    assert!(v.explanation.is_some());
    // No declarations needed: 14 days later it is green again.
    assert_eq!(p.color("2020-03-15T08:59"), Color::Orange);
    assert_eq!(p.color("2020-03-15T09:00"), Color::Green);
    // A declaration is recorded, and declared symptoms count as data.
    match p.declare("2020-03-16T08:00", 366, true) {
        Response::Recorded { color, seq } => {
            assert_eq!(color, Color::Orange);
            let records = p.x.records_of(p.code).unwrap();
            assert!(records
                .iter()
                .any(|r| r.seq == seq && r.kind == "declaration"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn fujian_requires_face_verification() {
    let mut x = platform("fujian", "fujian");
    let r = done(x.handle(
        t("2020-03-01T08:00"),
        &Request::Apply {
            province: x.province(),
            identity: id(5, 40),
            face_verified: false,
            national: false,
        },
    ));
    assert_eq!(r, Response::Refused(Refusal::FaceNotVerified));
}

#[test]
fn fujian_family_limits_by_relation_and_in_total() {
    let mut p = registered("fujian", "fujian", "2020-03-01T08:00");
    let proxy = p.code;
    let mut n = 100;
    let mut apply = |p: &mut P, relation: Relation, age: u8| {
        n += 1;
        p.req(
            "2020-03-01T09:00",
            Request::ApplyFamily {
                proxy,
                member: id(n, age),
                relation,
            },
        )
    };
    for _ in 0..4 {
        assert!(matches!(
            apply(&mut p, Relation::Parent, 60),
            Response::Issued { .. }
        ));
    }
    assert_eq!(
        apply(&mut p, Relation::Parent, 60),
        Response::Refused(Refusal::FamilyLimit {
            relation: Relation::Parent,
            limit: 4
        })
    );
    assert_eq!(
        apply(&mut p, Relation::Child, 18),
        Response::Refused(Refusal::FamilyNotEligible {
            relation: Relation::Child
        })
    );
    assert_eq!(
        apply(&mut p, Relation::Parent, 54),
        Response::Refused(Refusal::FamilyNotEligible {
            relation: Relation::Parent
        })
    );
    for _ in 0..3 {
        assert!(matches!(
            apply(&mut p, Relation::Child, 10),
            Response::Issued { .. }
        ));
    }
    assert!(matches!(
        apply(&mut p, Relation::Spouse, 40),
        Response::Issued { .. }
    ));
    assert!(matches!(
        apply(&mut p, Relation::Spouse, 40),
        Response::Refused(Refusal::FamilyLimit { limit: 1, .. })
    ));
    for _ in 0..5 {
        assert!(matches!(
            apply(&mut p, Relation::Relative, 90),
            Response::Issued { .. }
        ));
    }
    assert!(matches!(
        apply(&mut p, Relation::Relative, 30),
        Response::Refused(Refusal::FamilyLimit { .. })
    ));
    assert_eq!(p.x.family_of(proxy).len(), 13);
}

#[test]
fn fujian_id_card_verification_for_people_without_a_phone() {
    let mut p = registered("fujian", "fujian", "2020-03-01T08:00");
    let place = p.place();
    let doc = p.who.number;
    match p.req(
        "2020-03-01T09:00",
        Request::Verify {
            credential: Credential::IdCard(doc),
            place,
            temperature: None,
        },
    ) {
        Response::Verdict(v) => assert_eq!((v.color, v.decision), (Color::Green, Decision::Pass)),
        other => panic!("{other:?}"),
    }
    // An ID card this platform does not know goes to the hub.
    let out = p.x.handle(
        t("2020-03-01T09:00"),
        &Request::Verify {
            credential: Credential::IdCard(DocNumber(42)),
            place,
            temperature: None,
        },
    );
    assert!(matches!(out, Outcome::NeedsHub(_)));
}

// ---- Guangdong -----------------------------------------------------------

#[test]
fn guangdong_red_is_refused_and_explains_why_and_how() {
    let mut p = registered("guangdong", "guangdong", "2020-03-01T08:00");
    p.quarantine("2020-03-01T09:00", QuarantineKind::Home, 14);
    let v = p.scan("2020-03-01T10:00", None);
    assert_eq!((v.color, v.decision), (Color::Red, Decision::Refuse));
    let e = v.explanation.expect("red holders see why");
    assert!(e.reason.contains("居家隔离"), "{}", e.reason);
    assert!(e.guidance.contains("解除指引"), "{}", e.guidance);
    // Release: 14 days, quarantine over and a negative NAT after the trigger.
    assert_eq!(p.color("2020-03-16T09:00"), Color::Red);
    p.nat("2020-03-16T10:00", false, 7);
    assert_eq!(p.color("2020-03-16T10:00"), Color::Green);
    assert!(p.scan("2020-03-16T11:00", None).explanation.is_none());
}

#[test]
fn guangdong_red_for_each_listed_group() {
    for (what, setup) in [
        ("confirmed", 0),
        ("positive", 1),
        ("suspected", 2),
        ("close contact", 3),
        ("high-risk arrival", 4),
        ("centralized quarantine", 5),
    ] {
        let mut p = registered("guangdong", "guangdong", "2020-03-01T08:00");
        match setup {
            0 => p.designate("2020-03-01T09:00", CaseStatus::Confirmed),
            1 => p.nat("2020-03-01T09:00", true, 3),
            2 => p.designate("2020-03-01T09:00", CaseStatus::Suspected),
            3 => p.designate("2020-03-01T09:00", CaseStatus::CloseContact),
            4 => p.stay("2020-03-01T09:00", RiskLevel::High),
            _ => p.quarantine("2020-03-01T09:00", QuarantineKind::Centralized, 14),
        }
        assert_eq!(p.color("2020-03-01T09:00"), Color::Red, "{what}");
    }
    // Medium-risk arrivals and symptoms are not on Guangdong's list.
    let mut p = registered("guangdong", "guangdong", "2020-03-01T08:00");
    p.stay("2020-03-01T09:00", RiskLevel::Medium);
    p.declare("2020-03-01T09:00", 390, true);
    assert_eq!(p.color("2020-03-01T09:00"), Color::Green);
}

#[test]
fn guangdong_white_code_for_minors_whose_face_verification_failed() {
    let mut x = platform("guangdong", "guangdong");
    let child = id(44010120100101001, 10);
    let apply = |x: &mut ProvincePlatform, who: Identity, face: bool| {
        done(x.handle(
            t("2020-03-01T08:00"),
            &Request::Apply {
                province: x.province(),
                identity: who,
                face_verified: face,
                national: false,
            },
        ))
    };
    let code = match apply(&mut x, child, false) {
        Response::Issued { code, color } => {
            assert_eq!(color, Color::White);
            code
        }
        other => panic!("{other:?}"),
    };
    let v = done(x.handle(
        t("2020-03-01T09:00"),
        &Request::Verify {
            credential: Credential::Code(code),
            place: Place {
                county: county("guangdong", 1),
                kind: CheckpointKind::School,
            },
            temperature: None,
        },
    ));
    match v {
        Response::Verdict(v) => assert_eq!((v.color, v.decision), (Color::White, Decision::Pass)),
        other => panic!("{other:?}"),
    }
    // An adult without face verification gets no code.
    assert_eq!(
        apply(&mut x, id(2, 30), false),
        Response::Refused(Refusal::FaceNotVerified)
    );
    // Verifying later turns the white code green, same code.
    assert_eq!(
        apply(&mut x, child, true),
        Response::Issued {
            code,
            color: Color::Green
        }
    );
}

#[test]
fn guangdong_records_are_append_only_and_the_latest_counts() {
    let mut p = registered("guangdong", "guangdong", "2020-03-01T08:00");
    let mut seqs = Vec::new();
    for (at, temp) in [("2020-03-01T09:00", 380), ("2020-03-01T10:00", 365)] {
        if let Response::Recorded { seq, .. } = p.declare(at, temp, false) {
            seqs.push(seq);
        }
    }
    let place = p.place();
    let code = p.code;
    p.req(
        "2020-03-01T11:00",
        Request::Temperature {
            code,
            temperature: DeciCelsius(364),
            place,
        },
    );
    match p.req("2020-03-01T12:00", Request::Records { code }) {
        Response::Records { records, .. } => {
            let filed: Vec<_> = records
                .iter()
                .filter(|r| r.kind != "registration")
                .collect();
            assert_eq!(filed.len(), 3);
            assert_eq!(filed[0].seq, seqs[0]);
            assert_eq!(filed[0].temperature, Some(DeciCelsius(380)));
            assert_eq!(filed[1].seq, seqs[1]);
            assert_eq!(filed.last().unwrap().kind, "temperature");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn offline_codes_expire_and_are_never_passed_after() {
    let mut p = registered("guangdong", "guangdong", "2020-03-01T08:00");
    let code = p.code;
    let saved = p
        .req("2020-03-01T08:00", Request::Offline { code })
        .offline_credential()
        .expect("an offline code");
    let place = p.place();
    let verify = |p: &mut P, at: &str| {
        p.req(
            at,
            Request::Verify {
                credential: saved,
                place,
                temperature: None,
            },
        )
    };
    assert!(
        matches!(verify(&mut p, "2020-03-01T09:00"), Response::Verdict(v) if v.decision == Decision::Pass)
    );
    // A saved green code does not hide a red that came later.
    p.designate("2020-03-01T12:00", CaseStatus::Confirmed);
    assert!(
        matches!(verify(&mut p, "2020-03-02T07:59"), Response::Verdict(v) if v.decision == Decision::Refuse)
    );
    assert_eq!(
        verify(&mut p, "2020-03-02T08:00"),
        Response::Refused(Refusal::OfflineExpired)
    );
}

/// The saved minute decides how long an offline code is valid: a holder
/// who moves it forward, or paints the saved color greener, shows a code
/// the platform did not make, refused as forged, by the issuer and (via
/// the hub) in another province alike.
#[test]
fn an_offline_code_edited_after_saving_is_refused_as_forged() {
    let mut p = registered("guangdong", "guangdong", "2020-03-01T08:00");
    let code = p.code;
    let saved = p
        .req("2020-03-01T08:00", Request::Offline { code })
        .offline_credential()
        .expect("an offline code");
    let Credential::Offline {
        issued,
        color,
        seal,
        ..
    } = saved
    else {
        unreachable!()
    };
    assert_eq!(color, Color::Green);
    let place = p.place();
    let verify = |p: &mut P, at: &str, credential| {
        p.req(
            at,
            Request::Verify {
                credential,
                place,
                temperature: None,
            },
        )
    };
    // A day later the saved code has expired; moved forward a day it
    // would pass again.
    assert_eq!(
        verify(&mut p, "2020-03-02T09:00", saved),
        Response::Refused(Refusal::OfflineExpired)
    );
    let kept_alive = Credential::Offline {
        code,
        issued: issued.plus_hours(24),
        color,
        seal,
    };
    assert_eq!(
        verify(&mut p, "2020-03-02T09:00", kept_alive),
        Response::Refused(Refusal::ForgedCode)
    );
    // Red since, the holder edits the color of a fresh save.
    p.designate("2020-03-02T10:00", CaseStatus::Confirmed);
    let red = p
        .req("2020-03-02T10:00", Request::Offline { code })
        .offline_credential()
        .unwrap();
    let Credential::Offline {
        issued,
        color,
        seal,
        ..
    } = red
    else {
        unreachable!()
    };
    assert_eq!(color, Color::Red);
    let painted = Credential::Offline {
        code,
        issued,
        color: Color::Green,
        seal,
    };
    assert_eq!(
        verify(&mut p, "2020-03-02T11:00", painted),
        Response::Refused(Refusal::ForgedCode)
    );
    assert!(matches!(
        verify(&mut p, "2020-03-02T11:00", red),
        Response::Verdict(v) if v.color == Color::Red
    ));
    // Elsewhere the hub checks the seal: the scanning province passes it on.
    let mut hub = crate::hub::Hub::new();
    for publication in p.x.drain_publications() {
        hub.publish(&publication);
    }
    let mut elsewhere = platform("hubei", "hubei");
    for (credential, sealed) in [(red, true), (painted, false)] {
        let Outcome::NeedsHub(q) = elsewhere.handle(
            t("2020-03-02T11:00"),
            &Request::Verify {
                credential,
                place: Place {
                    county: county("hubei", 0),
                    kind: CheckpointKind::Mall,
                },
                temperature: None,
            },
        ) else {
            panic!("a foreign offline code goes to the hub")
        };
        let crate::hub::HubLookup::Offline { seal: passed, .. } = q.lookup else {
            panic!("{q:?}")
        };
        let Credential::Offline { seal: shown, .. } = credential else {
            unreachable!()
        };
        assert_eq!(passed, shown);
        let answer = hub.query(&q);
        assert_eq!(
            matches!(answer, crate::hub::HubAnswer::Status { .. }),
            sealed,
            "{answer:?}"
        );
        if !sealed {
            assert_eq!(answer, crate::hub::HubAnswer::Forged);
        }
    }
}

// ---- Hubei ---------------------------------------------------------------

#[test]
fn hubei_shows_only_the_most_recent_negative_nat() {
    let mut p = registered("hubei", "hubei", "2020-04-20T08:00");
    p.nat("2020-04-21T09:00", false, 11);
    p.nat("2020-04-24T09:00", false, 12);
    // An older result delivered late does not replace the newer one.
    let person = p.who.number;
    p.feed(
        "2020-04-24T10:00",
        Feed::NatResult {
            person,
            at: t("2020-04-22T09:00"),
            positive: false,
            institution: 13,
        },
    );
    let v = p.scan("2020-04-25T09:00", None);
    assert_eq!(
        v.nat,
        Some(NatShown {
            at: t("2020-04-24T09:00"),
            institution: 12
        })
    );
    p.nat("2020-04-25T10:00", true, 14);
    let v = p.scan("2020-04-25T11:00", None);
    assert_eq!(v.color, Color::Red);
    assert_eq!(
        v.nat.map(|n| n.institution),
        Some(12),
        "a positive is never shown"
    );
}

#[test]
fn hubei_resume_work_needs_a_negative_nat_within_7_days_or_igg() {
    let mut p = registered("hubei", "hubei", "2020-04-20T08:00");
    let code = p.code;
    p.nat("2020-04-21T09:00", false, 11);
    assert!(matches!(
        p.x.resume_work_ok(code, t("2020-04-28T09:00")),
        Some(ResumeBasis::NegativeNat {
            institution: 11,
            ..
        })
    ));
    assert_eq!(p.x.resume_work_ok(code, t("2020-04-28T09:01")), None);
    let person = p.who.number;
    p.feed(
        "2020-04-29T09:00",
        Feed::IggResult {
            person,
            at: t("2020-04-29T09:00"),
            positive: true,
        },
    );
    assert!(matches!(
        p.x.resume_work_ok(code, t("2020-05-10T09:00")),
        Some(ResumeBasis::PositiveIgg { .. })
    ));
    // The green code carries it.
    assert!(p.scan("2020-04-29T10:00", None).resume_work.is_some());
}

#[test]
fn hubei_yellow_needs_a_negative_nat() {
    let mut p = registered("hubei", "hubei", "2020-04-20T08:00");
    assert_eq!(p.scan("2020-04-20T09:00", Some(381)).color, Color::Yellow);
    assert_eq!(p.color("2020-04-28T09:00"), Color::Yellow);
    p.nat("2020-04-28T10:00", false, 1);
    assert_eq!(p.color("2020-04-28T10:00"), Color::Green);
}

// ---- National and default -------------------------------------------------

#[test]
fn national_colors_follow_the_standard() {
    let mut p = registered("national", "beijing", "2020-03-01T08:00");
    // Data fine, on-site temperature abnormal: yellow.
    assert_eq!(p.scan("2020-03-01T09:00", Some(375)).color, Color::Yellow);
    p.declare("2020-03-01T20:00", 365, false);
    assert_eq!(p.color("2020-03-02T08:59"), Color::Yellow);
    assert_eq!(p.color("2020-03-02T09:00"), Color::Green);
    p.designate("2020-03-03T09:00", CaseStatus::Suspected);
    assert_eq!(p.color("2020-03-03T09:00"), Color::Red);
    // Close contacts are not red under the national standard alone.
    let mut q = registered("national", "beijing", "2020-03-01T08:00");
    q.designate("2020-03-01T09:00", CaseStatus::CloseContact);
    assert_eq!(q.color("2020-03-01T09:00"), Color::Green);
    let mut d = registered("default", "beijing", "2020-03-01T08:00");
    d.designate("2020-03-01T09:00", CaseStatus::CloseContact);
    assert_eq!(d.color("2020-03-01T09:00"), Color::Red);
}

// ---- Cross-cutting -------------------------------------------------------

#[test]
fn identity_locks_at_first_registration() {
    let mut p = registered("anhui", "anhui", "2020-03-01T08:00");
    let code = p.code;
    let same = Request::Apply {
        province: p.x.province(),
        identity: p.who,
        face_verified: true,
        national: false,
    };
    assert!(
        matches!(p.req("2020-03-02T08:00", same), Response::Issued { code: c, .. } if c == code)
    );
    for other in [
        Identity {
            name: NameCode::new(1, 1, None),
            ..p.who
        },
        Identity {
            doc: DocKind::Passport,
            ..p.who
        },
    ] {
        let r = p.req(
            "2020-03-02T08:00",
            Request::Apply {
                province: p.x.province(),
                identity: other,
                face_verified: true,
                national: false,
            },
        );
        assert_eq!(r, Response::Refused(Refusal::IdentityLocked));
    }
    assert_eq!(p.x.registered(), 1);
}

#[test]
fn duplicate_and_late_feeds_give_the_in_order_result() {
    // In order.
    let mut a = registered("anhui", "anhui", "2020-03-01T08:00");
    a.same_building("2020-03-01T09:00");
    a.checkins("2020-03-01T20:00", 7);
    // The same feed twice, the second after the check-ins.
    let mut b = registered("anhui", "anhui", "2020-03-01T08:00");
    b.same_building("2020-03-01T09:00");
    b.checkins("2020-03-01T20:00", 7);
    let person = b.who.number;
    b.feed(
        "2020-03-07T21:00",
        Feed::SameBuildingCase {
            person,
            at: t("2020-03-01T09:00"),
        },
    );
    // Delivered late: after the check-ins it precedes.
    let mut c = registered("anhui", "anhui", "2020-03-01T08:00");
    c.checkins("2020-03-01T20:00", 7);
    let person = c.who.number;
    c.feed(
        "2020-03-07T21:00",
        Feed::SameBuildingCase {
            person,
            at: t("2020-03-01T09:00"),
        },
    );
    for at in ["2020-03-07T21:00", "2020-03-08T08:59", "2020-03-08T09:00"] {
        let want = a.color(at);
        assert_eq!(b.color(at), want, "duplicate at {at}");
        assert_eq!(c.color(at), want, "late at {at}");
    }
    assert_eq!(a.color("2020-03-08T09:00"), Color::Green);
}

#[test]
fn facts_before_registration_color_the_new_code() {
    let mut x = platform("anhui", "anhui");
    let who = id(77, 30);
    done(x.handle(
        t("2020-03-01T09:00"),
        &Request::Feed {
            to: None,
            feed: Feed::Designation {
                person: who.number,
                status: CaseStatus::Confirmed,
                at: t("2020-03-01T09:00"),
            },
        },
    ));
    let r = done(x.handle(
        t("2020-03-02T09:00"),
        &Request::Apply {
            province: x.province(),
            identity: who,
            face_verified: true,
            national: false,
        },
    ));
    assert!(
        matches!(
            r,
            Response::Issued {
                color: Color::Red,
                ..
            }
        ),
        "{r:?}"
    );
}

#[test]
fn publishes_on_registration_on_changes_and_on_lazy_releases() {
    let mut p = registered("anhui", "anhui", "2020-03-01T08:00");
    let reg = p.x.drain_publications();
    assert_eq!(reg.len(), 1);
    assert_eq!(reg[0].color, Color::Green);
    p.stay("2020-03-01T10:00", RiskLevel::Medium);
    p.checkins("2020-03-01T20:00", 7);
    let pubs = p.x.drain_publications();
    assert_eq!(
        pubs.iter().map(|p| p.color).collect::<Vec<_>>(),
        [Color::Yellow]
    );
    assert!(pubs[0].explanation.is_some());
    // Nothing happens to the person at 03-08 10:00; the release is
    // published at the next request the platform handles.
    p.x.advance(t("2020-03-09T00:00"));
    let pubs = p.x.drain_publications();
    assert_eq!(pubs.len(), 1);
    assert_eq!(
        (pubs[0].color, pubs[0].at),
        (Color::Green, t("2020-03-08T10:00"))
    );
}

#[test]
fn census_counts_colors_at_the_given_time() {
    let mut p = registered("anhui", "anhui", "2020-03-01T08:00");
    p.stay("2020-03-01T10:00", RiskLevel::Medium);
    p.checkins("2020-03-01T20:00", 7);
    assert_eq!(p.x.census(t("2020-03-08T09:59"))[Color::Yellow.index()], 1);
    assert_eq!(p.x.census(t("2020-03-08T10:00"))[Color::Green.index()], 1);
}

#[test]
fn no_response_carries_an_unmasked_name_or_id() {
    let mut p = registered("guangdong", "guangdong", "2020-03-01T08:00");
    let full_doc = p.who.document_string();
    let full_name = p.who.name.full();
    p.quarantine("2020-03-01T09:00", QuarantineKind::Home, 14);
    let code = p.code;
    let place = p.place();
    let doc = p.who.number;
    let mut responses = vec![
        p.req("2020-03-01T10:00", Request::Query { code }),
        p.req("2020-03-01T10:00", Request::Offline { code }),
        p.req("2020-03-01T10:00", Request::Records { code }),
        p.declare("2020-03-01T10:00", 365, false),
        p.req(
            "2020-03-01T10:00",
            Request::Verify {
                credential: Credential::IdCard(doc),
                place,
                temperature: Some(DeciCelsius(380)),
            },
        ),
        p.req(
            "2020-03-01T10:00",
            Request::ApplyFamily {
                proxy: code,
                member: id(44010119500101002, 70),
                relation: Relation::Parent,
            },
        ),
    ];
    responses.push(Response::Verdict(p.scan("2020-03-01T10:00", None)));
    for r in &responses {
        let json = serde_json::to_string(r).unwrap();
        assert!(!json.contains(&full_doc), "{json}");
        assert!(!json.contains(&full_name), "{json}");
        assert!(!json.contains(&p.who.number.0.to_string()), "{json}");
    }
    for pubn in p.x.drain_publications() {
        // Publications carry the full identity to the hub, which masks it
        // in what it answers.
        let mut hub = crate::hub::Hub::new();
        hub.publish(&pubn);
        let answer = hub.query(&crate::hub::HubQuery {
            from: p.x.province(),
            lookup: crate::hub::HubLookup::Code(pubn.code),
        });
        let json = format!("{answer:?}");
        assert!(!json.contains(&full_doc), "{json}");
        assert!(!json.contains(&full_name), "{json}");
        match answer {
            crate::hub::HubAnswer::Status { holder, .. } => {
                assert!(crate::identity::is_masked_document(holder.document()))
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn hot_record_stays_small() {
    assert_eq!(std::mem::size_of::<Person>(), 36);
}

impl P {
    fn same_building(&mut self, at: &str) {
        let person = self.who.number;
        self.feed(at, Feed::SameBuildingCase { person, at: t(at) });
    }
}

#[test]
fn the_kept_census_matches_reading_everyone_as_states_change() {
    let everyone = |x: &ProvincePlatform, now: Minute| {
        let mut counts = [0u64; 5];
        for q in &x.people {
            counts[x.rules.at(&q.state, now).color().index()] += 1;
        }
        counts
    };
    let mut p = registered("anhui", "anhui", "2020-03-01T08:00");
    let mut people = vec![(p.who, p.code)];
    for k in 1..40u64 {
        let who = id(34010119800101001 + k, 40);
        let apply = Request::Apply {
            province: p.x.province(),
            identity: who,
            face_verified: true,
            national: false,
        };
        match done(p.x.handle(t("2020-03-01T08:00"), &apply)) {
            Response::Issued { code, .. } => people.push((who, code)),
            other => panic!("{other:?}"),
        }
    }
    let mut checked = 0;
    let mut check = |p: &mut P, now: Minute| {
        assert_eq!(p.x.census(now), everyone(&p.x, now), "at {now}");
        checked += 1;
    };
    // Yellow by a stay, released by 7 check-ins; yellow by a fever; a
    // quarantine; a close-contact designation and its clearing; a late
    // quarantine that makes the person's record replay.
    for day in 2..=11u32 {
        for (k, &(who, code)) in people.iter().enumerate() {
            (p.who, p.code) = (who, code);
            let at = |hhmm: &str| format!("2020-03-{day:02}T{hhmm}");
            match (k % 5, day) {
                // The 7th check-in comes before the 7 days are over: the
                // release (day 12, 10:00) comes with time alone.
                (0, 5) => {
                    p.stay(&at("10:00"), RiskLevel::Medium);
                    p.declare(&at("20:00"), 365, false);
                }
                (0, 6..=11) => {
                    p.declare(&at("20:00"), 365, false);
                }
                (1, 3) => {
                    p.declare(&at("09:00"), 385, true);
                }
                (2, 2) => p.quarantine(&at("10:00"), QuarantineKind::Home, 4),
                (3, 4) => p.designate(&at("09:00"), CaseStatus::CloseContact),
                (3, 11) => p.designate(&at("09:00"), CaseStatus::Cleared),
                (4, 5) => {
                    let person = p.who.number;
                    let start = t("2020-03-01T12:00");
                    p.feed(
                        &at("09:00"),
                        Feed::Quarantine {
                            person,
                            kind: QuarantineKind::Centralized,
                            start,
                            end: start.plus_days(6),
                        },
                    );
                }
                _ => {}
            }
        }
        let noon = t(&format!("2020-03-{day:02}T12:00"));
        check(&mut p, noon);
        check(&mut p, noon.plus_minutes(600));
    }
    // Time alone: releases come due between censuses, with and without the
    // platform having settled them.
    let mut now = t("2020-03-12T00:00");
    for step in 0..60 {
        check(&mut p, now);
        if step % 4 == 0 {
            p.x.advance(now);
            check(&mut p, now);
        }
        now = now.plus_minutes(7 * 60);
    }
    assert!(checked > 80);
    // Not everyone ends where they started: the census had something to track.
    assert!(p.x.census(t("2020-03-05T12:00"))[Color::Green.index()] < people.len() as u64);
}

/// Every request that presents a code: the genuine code is served, and the
/// same code with one token bit flipped, or with the serial changed under
/// the genuine token, is refused as forged and changes nothing.
#[test]
fn a_forged_or_altered_code_is_refused_on_every_request() {
    let mut p = registered("anhui", "anhui", "2020-10-01T08:00");
    let now = t("2020-10-01T09:00");
    let place = Place {
        county: county("anhui", 0),
        kind: CheckpointKind::Mall,
    };
    let requests = |code: CodeId| {
        vec![
            Request::Declare {
                code,
                temperature: DeciCelsius::NORMAL,
                symptoms: false,
                contact: false,
            },
            Request::Temperature {
                code,
                temperature: DeciCelsius::NORMAL,
                place,
            },
            Request::Verify {
                credential: Credential::Code(code),
                place,
                temperature: None,
            },
            Request::Verify {
                credential: Credential::Offline {
                    code,
                    issued: now,
                    color: Color::Green,
                    seal: crate::token::CodeKeys::default().seal(&code, now, Color::Green),
                },
                place,
                temperature: None,
            },
            Request::PlaceScan {
                code,
                place,
                temperature: DeciCelsius::NORMAL,
            },
            Request::Query { code },
            Request::Offline { code },
            Request::Records { code },
            Request::ApplyFamily {
                proxy: code,
                member: id(34010120100101002, 8),
                relation: Relation::Child,
            },
        ]
    };
    let flipped = CodeId {
        token: crate::token::Token(p.code.token.0 ^ 1),
        ..p.code
    };
    // Serial 0 is the genuine one; the next one, unregistered, under its token.
    let next = CodeId {
        serial: p.code.serial + 1,
        ..p.code
    };
    let before = p.x.journal.len();
    for forged in [flipped, next] {
        for req in requests(forged) {
            assert_eq!(
                done(p.x.handle(now, &req)),
                Response::Refused(Refusal::ForgedCode),
                "{req:?}"
            );
        }
    }
    assert_eq!(p.x.journal.len(), before, "a forged request wrote records");
    for req in requests(p.code) {
        let r = done(p.x.handle(now, &req));
        assert!(
            !matches!(r, Response::Refused(Refusal::ForgedCode)),
            "{req:?}: {r:?}"
        );
    }
    // Another province's code is the hub's to check, forged or not.
    let foreign = crate::token::CodeKeys::from_seed(99)
        .sign(Issuer::Province(ProvinceId::parse("hubei").unwrap()), 0);
    assert!(matches!(
        p.x.handle(
            now,
            &Request::Verify {
                credential: Credential::Code(foreign),
                place,
                temperature: None,
            }
        ),
        Outcome::NeedsHub(_)
    ));
}

/// Codes signed under another platform secret are refused: the key, not
/// the serial, decides.
#[test]
fn a_platform_refuses_codes_signed_under_another_secret() {
    let anhui = ProvinceId::parse("anhui").unwrap();
    let keys = crate::token::CodeKeys::from_seed(5);
    let mut x = platform("anhui", "anhui").with_code_key(keys.province(anhui).clone());
    let Response::Issued { code, .. } = done(x.handle(
        t("2020-10-01T08:00"),
        &Request::Apply {
            province: anhui,
            identity: id(34010119800101001, 40),
            face_verified: true,
            national: false,
        },
    )) else {
        panic!()
    };
    assert!(keys.signs(&code));
    let default_signed = crate::token::CodeKeys::default().sign(code.issuer, code.serial);
    assert_eq!(
        done(x.handle(
            t("2020-10-01T09:00"),
            &Request::Query {
                code: default_signed
            }
        )),
        Response::Refused(Refusal::ForgedCode)
    );
    assert!(matches!(
        done(x.handle(t("2020-10-01T09:00"), &Request::Query { code })),
        Response::Health { .. }
    ));
}

// ---- Boundaries a mutation run found unguarded ------------------------------

/// Hubei's rules with one line changed.
/// A Hubei resident holding a code (applied 2020-04-20 08:00) from a Hubei
/// platform running `rules`.
fn hubei_holder(rules: Arc<RuleSet>) -> P {
    let mut p = P {
        x: ProvincePlatform::new(ProvinceId::parse("hubei").unwrap(), rules),
        ..registered("hubei", "hubei", "2020-04-20T08:00")
    };
    p.code = match p.req(
        "2020-04-20T08:00",
        Request::Apply {
            province: p.x.province(),
            identity: p.who,
            face_verified: true,
            national: false,
        },
    ) {
        Response::Issued { code, .. } => code,
        other => panic!("{other:?}"),
    };
    p
}

fn hubei_with(from: &str, to: &str) -> Arc<RuleSet> {
    let text = include_str!("../../../scenarios/rules/hubei.toml").replace(from, to);
    assert!(text.contains(to));
    Arc::new(RuleSet::parse(&text, "hubei").unwrap_or_else(|e| panic!("{e}")))
}

#[test]
fn a_green_code_carries_a_negative_nat_for_exactly_seven_days() {
    let mut p = registered("hubei", "hubei", "2020-04-20T08:00");
    p.nat("2020-04-21T09:00", false, 11);
    // 7 × 1440 minutes after the sample, and not one more.
    assert_eq!(
        p.scan("2020-04-28T09:00", None).resume_work,
        Some(ResumeBasis::NegativeNat {
            at: t("2020-04-21T09:00"),
            institution: 11
        })
    );
    assert_eq!(p.scan("2020-04-28T09:01", None).resume_work, None);
    assert!(p.scan("2020-04-22T09:00", None).resume_work.is_some());
}

#[test]
fn a_positive_igg_counts_only_where_the_rule_accepts_it_and_after_it() {
    let igg = |p: &mut P, at: &str| {
        let person = p.who.number;
        p.feed(
            at,
            Feed::IggResult {
                person,
                at: t(at),
                positive: true,
            },
        );
    };
    let mut p = registered("hubei", "hubei", "2020-04-20T08:00");
    igg(&mut p, "2020-04-21T09:00");
    let code = p.code;
    assert_eq!(
        p.x.resume_work_ok(code, t("2020-04-21T08:59")),
        None,
        "an arrival before the test"
    );
    assert_eq!(
        p.x.resume_work_ok(code, t("2020-05-21T09:00")),
        Some(ResumeBasis::PositiveIgg {
            at: t("2020-04-21T09:00")
        })
    );
    let mut strict = hubei_holder(hubei_with("igg_positive = true", "igg_positive = false"));
    igg(&mut strict, "2020-04-21T09:00");
    let code = strict.code;
    assert_eq!(strict.x.resume_work_ok(code, t("2020-04-22T09:00")), None);
    assert_eq!(strict.scan("2020-04-22T09:00", None).resume_work, None);
}

#[test]
fn a_color_the_scheme_does_not_explain_shows_no_reason() {
    let mut p = hubei_holder(hubei_with(
        "explain = [\"yellow\", \"red\"]",
        "explain = [\"red\"]",
    ));
    let v = p.scan("2020-04-20T09:00", Some(381));
    assert_eq!((v.color, v.explanation), (Color::Yellow, None));
}

#[test]
fn the_latest_negative_nat_is_the_latest_sample_first_received_on_a_tie() {
    let mut p = registered("hubei", "hubei", "2020-04-20T08:00");
    let shown = |p: &mut P, at: &str| p.scan(at, None).nat.map(|n| n.institution);
    p.nat("2020-04-21T10:00", false, 1);
    p.nat("2020-04-21T10:00", false, 2);
    assert_eq!(shown(&mut p, "2020-04-21T11:00"), Some(1));
    p.nat("2020-04-21T12:00", false, 4);
    assert_eq!(shown(&mut p, "2020-04-21T13:00"), Some(4));
}

#[test]
fn an_offline_code_is_valid_from_the_minute_it_was_saved() {
    let mut p = registered("default", "hebei", "2020-03-01T08:00");
    let place = p.place();
    let offline = |issued: &str| Request::Verify {
        credential: Credential::Offline {
            code: p.code,
            issued: t(issued),
            color: Color::Green,
            seal: CodeKeys::default().seal(&p.code, t(issued), Color::Green),
        },
        place,
        temperature: None,
    };
    let (now, later) = (offline("2020-03-01T09:00"), offline("2020-03-01T09:01"));
    assert!(matches!(
        p.req("2020-03-01T09:00", now),
        Response::Verdict(_)
    ));
    assert_eq!(
        p.req("2020-03-01T09:00", later),
        Response::Refused(Refusal::OfflineExpired)
    );
}

#[test]
fn a_province_refuses_national_and_other_provinces_applications() {
    let mut p = registered("default", "hebei", "2020-03-01T08:00");
    let apply = |province: &str, national: bool| Request::Apply {
        province: ProvinceId::parse(province).unwrap(),
        identity: id(13010119800101002, 30),
        face_verified: true,
        national,
    };
    for (province, national) in [("hebei", true), ("beijing", false)] {
        assert_eq!(
            p.req("2020-03-01T09:00", apply(province, national)),
            Response::Refused(Refusal::WrongPlatform)
        );
    }
    assert_eq!(p.x.registered(), 1);
}

#[test]
fn counts_and_colors_read_back_from_the_platform() {
    let mut p = registered("hubei", "hubei", "2020-04-20T08:00");
    assert_eq!(p.x.registered(), 1);
    let before = p.x.journal_len();
    assert!(before >= 1, "the registration is journaled");
    p.declare("2020-04-20T09:00", 365, false);
    assert_eq!(p.x.journal_len(), before + 1);
    assert_eq!(
        p.x.color_of(p.code, t("2020-04-20T09:00")),
        Some(Color::Green)
    );
    p.scan("2020-04-20T10:00", Some(381));
    assert_eq!(
        p.x.color_of(p.code, t("2020-04-20T10:00")),
        Some(Color::Yellow)
    );

    let mut fresh = platform("default", "hebei");
    let empty = fresh.heap_bytes();
    fresh.reserve(1000);
    let person = std::mem::size_of::<Person>();
    assert!(fresh.heap_bytes() >= empty + 1000 * person);
    assert!(fresh.heap_bytes() < 2 * 1000 * person + fresh.by_document.heap_bytes() + 1);
}

#[test]
fn a_release_due_at_this_minute_is_published_at_it() {
    // National: yellow from a 37.5 reading, one check-in and a day.
    let mut p = registered("national", "beijing", "2020-03-01T08:00");
    assert_eq!(p.scan("2020-03-01T09:00", Some(375)).color, Color::Yellow);
    p.declare("2020-03-01T20:00", 365, false);
    p.x.drain_publications();
    p.x.advance(t("2020-03-02T08:59"));
    assert!(p.x.drain_publications().is_empty());
    p.x.advance(t("2020-03-02T09:00"));
    let out = p.x.drain_publications();
    let seen: Vec<(Color, Minute)> = out.iter().map(|x| (x.color, x.at)).collect();
    assert_eq!(seen, [(Color::Green, t("2020-03-02T09:00"))]);
}

#[test]
fn a_minor_is_one_under_the_minor_age_and_stays_white_until_verified() {
    let mut x = platform("guangdong", "guangdong");
    let apply = |x: &mut ProvincePlatform, age: u8, face: bool| {
        done(x.handle(
            t("2020-03-01T08:00"),
            &Request::Apply {
                province: x.province(),
                identity: id(44010120030101000 + age as u64, age),
                face_verified: face,
                national: false,
            },
        ))
    };
    assert!(matches!(
        apply(&mut x, 17, false),
        Response::Issued {
            color: Color::White,
            ..
        }
    ));
    assert!(
        matches!(
            apply(&mut x, 17, false),
            Response::Issued {
                color: Color::White,
                ..
            }
        ),
        "applying again unverified keeps the white code"
    );
    assert!(matches!(
        apply(&mut x, 17, true),
        Response::Issued {
            color: Color::Green,
            ..
        }
    ));
    assert_eq!(
        apply(&mut x, 18, false),
        Response::Refused(Refusal::FaceNotVerified)
    );
}

#[test]
fn a_family_member_applied_for_twice_keeps_one_code() {
    let mut p = registered("default", "hebei", "2020-03-01T08:00");
    let member = id(13010120100101005, 10);
    let family = |p: &mut P, member| {
        p.req(
            "2020-03-01T09:00",
            Request::ApplyFamily {
                proxy: p.code,
                member,
                relation: Relation::Child,
            },
        )
    };
    let first = family(&mut p, member);
    let Response::Issued { code, .. } = first else {
        panic!("{first:?}")
    };
    assert_eq!(family(&mut p, member), first);
    assert_eq!(p.x.registered(), 2);
    assert_ne!(code, p.code);
    let who = p.who;
    assert!(matches!(
        family(&mut p, who),
        Response::Refused(Refusal::Other { .. })
    ));
}

#[test]
fn a_stay_in_a_county_no_trigger_reads_is_not_journaled() {
    let mut p = registered("anhui", "anhui", "2020-03-01T08:00");
    let before = p.x.journal_len();
    p.stay("2020-03-01T09:00", RiskLevel::Low);
    assert_eq!(
        p.x.journal_len(),
        before,
        "no trigger reads a low-risk stay"
    );
    p.stay("2020-03-01T10:00", RiskLevel::Medium);
    assert_eq!(p.x.journal_len(), before + 1);
}

#[test]
fn recovery_counts_each_frame_and_drops_half_a_frame() {
    assert_eq!(format!("{:?}", DurableLog::new()), "DurableLog(0 bytes)");
    let log = DurableLog::new();
    let mut x = platform("hubei", "hubei").with_durable_log(log.clone());
    let mut codes = Vec::new();
    for n in [1, 2] {
        match done(x.handle(
            t("2020-04-20T08:00"),
            &Request::Apply {
                province: x.province(),
                identity: id(42010119800101000 + n, 40),
                face_verified: true,
                national: false,
            },
        )) {
            Response::Issued { code, .. } => codes.push(code),
            other => panic!("{other:?}"),
        }
    }
    done(x.handle(
        t("2020-04-20T09:00"),
        &Request::Declare {
            code: codes[0],
            temperature: DeciCelsius(365),
            symptoms: false,
            contact: false,
        },
    ));
    // Each registration is a `Registered` frame and its journaled
    // registration record; the declaration one record more.
    let expect = Recovery {
        entries: 5,
        records: 3,
        registered: 2,
        torn_bytes: 0,
    };
    let copy = DurableLog::from_bytes(log.bytes());
    let now = t("2020-04-20T10:00");
    let rules = rules("hubei");
    let (_, r) = ProvincePlatform::recover(x.province(), rules.clone(), copy, now).unwrap();
    assert_eq!(r, expect);
    // A torn write: the 8-byte header and half of a 5-byte risk entry
    // (variant, province, county, minute and level, a byte each).
    log.tear();
    let (_, r) = ProvincePlatform::recover(x.province(), rules, log, now).unwrap();
    assert_eq!(
        r,
        Recovery {
            torn_bytes: 10,
            ..expect
        }
    );
}

#[test]
fn a_filed_temperature_reads_back_with_its_value() {
    let mut p = registered("qinghai", "qinghai", "2020-03-20T08:00");
    let place = p.place();
    let code = p.code;
    p.req(
        "2020-03-20T09:00",
        Request::Temperature {
            code,
            temperature: DeciCelsius(366),
            place,
        },
    );
    let v = p.x.filed_records_of(code).unwrap();
    let last = v.last().unwrap();
    assert_eq!(
        (last.kind.as_str(), last.temperature),
        ("temperature", Some(DeciCelsius(366)))
    );
}

#[test]
fn a_fact_at_the_minute_already_applied_is_applied_not_replayed() {
    // A replay republishes the holder; a fact that changes nothing,
    // arriving at the minute of the last one, publishes nothing.
    let mut p = registered("hubei", "hubei", "2020-04-20T08:00");
    assert_eq!(p.scan("2020-04-20T09:00", Some(381)).color, Color::Yellow);
    p.x.drain_publications();
    p.declare("2020-04-20T09:00", 365, false);
    assert!(p.x.drain_publications().is_empty());
    // An older one is replayed, and the holder republished.
    p.declare("2020-04-20T08:30", 365, false);
    assert_eq!(p.x.drain_publications().len(), 1);
}

#[test]
fn a_green_code_carries_the_latest_positive_igg() {
    let mut p = registered("hubei", "hubei", "2020-04-20T08:00");
    let person = p.who.number;
    for at in ["2020-04-21T09:00", "2020-04-25T09:00", "2020-04-19T09:00"] {
        p.feed(
            "2020-04-25T10:00",
            Feed::IggResult {
                person,
                at: t(at),
                positive: true,
            },
        );
    }
    assert_eq!(
        p.scan("2020-04-26T09:00", None).resume_work,
        Some(ResumeBasis::PositiveIgg {
            at: t("2020-04-25T09:00")
        })
    );
}

#[test]
fn a_member_already_linked_is_not_linked_again_and_another_registered_one_is() {
    let mut p = registered("default", "hebei", "2020-03-01T08:00");
    let proxy = p.code;
    let child = id(13010120100101005, 10);
    let spouse = id(13010119800101006, 40);
    let family = |p: &mut P, member, relation| {
        p.req(
            "2020-03-01T09:00",
            Request::ApplyFamily {
                proxy,
                member,
                relation,
            },
        )
    };
    let Response::Issued {
        code: child_code, ..
    } = family(&mut p, child, Relation::Child)
    else {
        panic!("the child is not issued a code")
    };
    family(&mut p, child, Relation::Child);
    // The spouse registered on their own before the proxy applies for them.
    let Response::Issued {
        code: spouse_code, ..
    } = p.req(
        "2020-03-01T09:00",
        Request::Apply {
            province: p.x.province(),
            identity: spouse,
            face_verified: true,
            national: false,
        },
    )
    else {
        panic!("the spouse is not issued a code")
    };
    assert_eq!(
        family(&mut p, spouse, Relation::Spouse),
        Response::Issued {
            code: spouse_code,
            color: Color::Green
        }
    );
    // One link per member, in the order applied for: the repeated child
    // application is answered from the existing link, and an existing
    // registration that is not yet linked is linked.
    assert_eq!(
        p.x.family_of(proxy),
        vec![
            (child_code, Relation::Child),
            (spouse_code, Relation::Spouse)
        ]
    );
}

#[test]
fn entries_from_abroad_are_told_apart_by_flight_and_a_repeat_is_ignored() {
    let mut p = registered("anhui", "anhui", "2020-03-01T08:00");
    let person = p.who.number;
    let entry = |flight| Feed::Entry {
        person,
        at: t("2020-03-02T06:00"),
        origin_country: 81,
        port: county("anhui", 0),
        flight,
    };
    p.feed("2020-03-02T07:00", entry(101));
    // Same person, same minute, another flight: another entry.
    p.feed("2020-03-02T07:00", entry(202));
    // Immigration sends both again: each is found in the journal.
    p.feed("2020-03-02T08:00", entry(101));
    p.feed("2020-03-02T08:00", entry(202));
    let records: Vec<(u64, &str)> =
        p.x.records_of(p.code)
            .unwrap()
            .iter()
            .map(|r| (r.seq, r.kind.as_str()))
            .collect();
    assert_eq!(
        records,
        vec![(1, "registration"), (2, "entry"), (3, "entry")]
    );
    assert_eq!(p.x.journal_len(), 3);
}

#[test]
fn credit_violations_are_counted_for_the_holder_only() {
    let mut p = registered("qinghai", "qinghai", "2020-03-20T08:00");
    assert_eq!(p.x.credit_violations(p.code), Some(0));
    let person = p.who.number;
    for at in ["2020-03-21T08:00", "2020-03-22T08:00", "2020-03-22T08:00"] {
        p.feed(at, Feed::CreditViolation { person, at: t(at) });
    }
    assert_eq!(
        p.x.credit_violations(p.code),
        Some(2),
        "two days, the second sent twice"
    );
    let unknown = CodeId {
        serial: 1,
        ..p.code
    };
    assert_eq!(p.x.credit_violations(unknown), None);
}

#[test]
fn a_platform_hands_back_the_recognition_policy_it_was_given() {
    // The adapters rebuild a crashed province from `recognition()`: the
    // default policy in its place would take every foreign code as issued.
    let text = "[[treat]]\nissuer = \"hubei\"\nreceiver = \"anhui\"\nyellow = \"red\"\n";
    let policy = Arc::new(RecognitionPolicy::parse(text, "policy.toml").unwrap());
    let x = platform("anhui", "anhui").with_recognition(policy);
    let hubei = Issuer::Province(ProvinceId::parse("hubei").unwrap());
    let anhui = ProvinceId::parse("anhui").unwrap();
    let kept = x.recognition();
    assert_eq!(kept.origin(), "policy.toml");
    assert_eq!(kept.treat(hubei, anhui, Color::Yellow), Color::Red);
    assert_eq!(kept.treat(hubei, anhui, Color::Green), Color::Green);
}
