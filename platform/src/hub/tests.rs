//! The hub's own services: national code, inbound services.

use super::*;
use crate::api::{CaseStatus, CountyRef, InboundAnswer, InboundRequest, QuarantineKind};
use crate::identity::{DocKind, Identity, NameCode};
use crate::token::Token;

fn t(s: &str) -> Minute {
    Minute::parse(s).unwrap()
}

fn person(n: u64) -> Identity {
    Identity {
        doc: DocKind::IdCard,
        number: DocNumber(34010019800101000 + n),
        name: NameCode::new(n as u32 % 20, 1, None),
        age: 40,
    }
}

fn province(key: &str) -> ProvinceId {
    ProvinceId::parse(key).unwrap()
}

fn entry(hub: &mut Hub, who: u64, to: &str, at: &str, flight: u32, country: u16) {
    hub.note_feed(
        Some(province(to)),
        &Feed::Entry {
            person: person(who).number,
            at: t(at),
            origin_country: country,
            port: CountyRef {
                province: province("shanghai"),
                county: 0,
            },
            flight,
        },
    );
}

fn inbound(hub: &mut Hub, at: &str, req: InboundRequest) -> InboundAnswer {
    match hub.handle(t(at), &Request::Inbound(req)) {
        Response::Inbound(a) => a,
        other => panic!("{other:?}"),
    }
}

#[test]
fn national_code_shows_the_provincial_status_never_more_leniently() {
    let mut hub = Hub::new();
    let who = person(1);
    let Response::Issued { code, color } = hub.handle(
        t("2020-10-01T08:00"),
        &Request::Apply {
            province: province("fujian"),
            identity: who,
            face_verified: true,
            national: true,
        },
    ) else {
        panic!()
    };
    assert_eq!((code.issuer, color), (Issuer::National, Color::Green));
    hub.publish(&Publication {
        code: CodeKeys::default().sign(Issuer::Province(province("fujian")), 7),
        holder: who,
        color: Color::Orange,
        at: t("2020-10-01T09:00"),
        explanation: None,
        nat: None,
    });
    let q = HubQuery {
        from: province("guangdong"),
        lookup: HubLookup::Code(code),
    };
    match hub.query(&q) {
        HubAnswer::Status { code: c, color, .. } => {
            assert_eq!(c, code);
            assert_eq!(color, Color::Red, "orange is not a national color: red");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(hub.counters().national_codes, 1);
    assert_eq!(hub.counters().queries, 1);
}

#[test]
fn entry_query_answers_the_last_14_days() {
    let mut hub = Hub::new();
    entry(&mut hub, 1, "anhui", "2020-06-01T10:00", 801, 250);
    entry(&mut hub, 1, "anhui", "2020-06-10T10:00", 802, 840);
    let InboundAnswer::Entries { entries } = inbound(
        &mut hub,
        "2020-06-20T09:00",
        InboundRequest::EntryQuery {
            person: person(1).number,
        },
    ) else {
        panic!()
    };
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].origin_country, entries[0].flight), (840, 802));
    assert_eq!(hub.counters().entries, 2);
}

#[test]
fn an_itinerary_that_omits_a_country_on_record_is_flagged() {
    let mut hub = Hub::new();
    entry(&mut hub, 1, "anhui", "2020-06-10T10:00", 802, 840);
    hub.note_feed(
        Some(province("anhui")),
        &Feed::Roaming {
            person: person(1).number,
            country: 392,
            at: t("2020-06-05T10:00"),
        },
    );
    let declare = |countries: Vec<u16>| InboundRequest::ItineraryDeclare {
        person: person(1).number,
        countries,
    };
    let a = inbound(&mut hub, "2020-06-11T09:00", declare(vec![840, 392]));
    assert_eq!(a, InboundAnswer::Itinerary { concealed: vec![] });
    let a = inbound(&mut hub, "2020-06-11T09:00", declare(vec![840]));
    assert_eq!(
        a,
        InboundAnswer::Itinerary {
            concealed: vec![392]
        }
    );
    inbound(&mut hub, "2020-06-12T09:00", declare(vec![]));
    let c = hub.counters();
    assert_eq!((c.concealment_flags, c.concealing_people), (2, 1));
}

#[test]
fn a_case_on_the_same_flight_makes_a_close_contact_in_quarantine() {
    let mut hub = Hub::new();
    entry(&mut hub, 1, "anhui", "2020-06-10T10:00", 802, 840);
    entry(&mut hub, 2, "fujian", "2020-06-10T10:00", 802, 840);
    entry(&mut hub, 3, "fujian", "2020-06-11T10:00", 802, 840);
    let check = |n| InboundRequest::SameFlightCheck {
        person: person(n).number,
    };
    assert_eq!(
        inbound(&mut hub, "2020-06-12T09:00", check(1)),
        InboundAnswer::SameFlight { flights: vec![] }
    );
    hub.note_feed(
        Some(province("fujian")),
        &Feed::Designation {
            person: person(2).number,
            status: CaseStatus::Confirmed,
            at: t("2020-06-13T09:00"),
        },
    );
    assert_eq!(
        inbound(&mut hub, "2020-06-14T09:00", check(1)),
        InboundAnswer::SameFlight { flights: vec![802] }
    );
    // The same flight number a day later is another flight.
    assert_eq!(
        inbound(&mut hub, "2020-06-14T09:00", check(3)),
        InboundAnswer::SameFlight { flights: vec![] }
    );
    let out = hub.drain_outgoing();
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|(p, _)| *p == province("anhui")));
    assert!(matches!(
        out[0].1,
        Feed::Designation {
            status: CaseStatus::CloseContact,
            ..
        }
    ));
    assert!(matches!(
        out[1].1,
        Feed::Quarantine {
            kind: QuarantineKind::Centralized,
            ..
        }
    ));
    // A second check designates nobody twice.
    inbound(&mut hub, "2020-06-15T09:00", check(1));
    assert!(hub.drain_outgoing().is_empty());
    assert_eq!(hub.counters().same_flight_contacts, 1);
}

#[test]
fn status_record_stays_small() {
    assert!(std::mem::size_of::<Published>() <= 16);
    assert!(std::mem::align_of::<Published>() <= 4);
}

#[test]
fn rare_status_parts_follow_the_latest_publication() {
    let mut hub = Hub::new();
    let who = person(2);
    let code = CodeKeys::default().sign(Issuer::Province(province("hubei")), 3);
    let nat = NatShown {
        at: t("2020-10-01T07:00"),
        institution: 9,
    };
    let mut p = Publication {
        code,
        holder: who,
        color: Color::Green,
        at: t("2020-10-01T08:00"),
        explanation: None,
        nat: Some(nat),
    };
    hub.publish(&p);
    let ask = HubQuery {
        from: province("beijing"),
        lookup: HubLookup::Document(who.number),
    };
    assert_eq!(
        hub.query(&ask),
        HubAnswer::Status {
            code,
            holder: who.masked(),
            color: Color::Green,
            explanation: None,
            nat: Some(nat),
        }
    );
    p.nat = None;
    p.color = Color::Yellow;
    hub.publish(&p);
    assert_eq!(
        hub.query(&ask),
        HubAnswer::Status {
            code,
            holder: who.masked(),
            color: Color::Yellow,
            explanation: None,
            nat: None,
        }
    );
    assert!(hub.extras.is_empty());
    // A serial of a code never published is unknown, not a blank status.
    let unpublished = CodeKeys::default().sign(code.issuer, 1);
    assert_eq!(
        hub.query(&HubQuery {
            from: province("beijing"),
            lookup: HubLookup::Code(unpublished),
        }),
        HubAnswer::Unknown
    );
}

#[test]
fn the_first_code_published_for_a_document_keeps_it() {
    let mut hub = Hub::new();
    let who = person(3);
    let code = |p: &str, serial| CodeKeys::default().sign(Issuer::Province(province(p)), serial);
    for c in [code("hebei", 5), code("henan", 1)] {
        hub.publish(&Publication {
            code: c,
            holder: who,
            color: Color::Green,
            at: t("2020-10-01T08:00"),
            explanation: None,
            nat: None,
        });
    }
    match hub.query(&HubQuery {
        from: province("beijing"),
        lookup: HubLookup::Document(who.number),
    }) {
        HubAnswer::Status { code: c, .. } => assert_eq!(c, code("hebei", 5)),
        other => panic!("{other:?}"),
    }
}

/// The hub checks codes of every issuer: a cross-province query and a
/// national code's own requests refuse a token the issuer's key does not
/// give, whether or not the serial exists.
#[test]
fn the_hub_refuses_forged_codes_of_every_issuer() {
    let keys = CodeKeys::from_seed(3);
    let mut hub = Hub::new().with_code_keys(keys.clone());
    let who = person(4);
    let hubei = Issuer::Province(province("hubei"));
    hub.publish(&Publication {
        code: keys.sign(hubei, 0),
        holder: who,
        color: Color::Red,
        at: t("2020-10-01T08:00"),
        explanation: None,
        nat: None,
    });
    let Response::Issued { code: national, .. } = hub.handle(
        t("2020-10-01T08:00"),
        &Request::Apply {
            province: province("hubei"),
            identity: who,
            face_verified: true,
            national: true,
        },
    ) else {
        panic!()
    };
    assert!(keys.signs(&national));
    let ask = |code| HubQuery {
        from: province("beijing"),
        lookup: HubLookup::Code(code),
    };
    assert!(matches!(
        hub.query(&ask(keys.sign(hubei, 0))),
        HubAnswer::Status { .. }
    ));
    assert!(matches!(
        hub.query(&ask(national)),
        HubAnswer::Status { .. }
    ));
    let flip = |c: CodeId| CodeId {
        token: Token(c.token.0 ^ (1 << 63)),
        ..c
    };
    let forged = [
        flip(keys.sign(hubei, 0)),
        flip(national),
        // A serial that exists, under another platform secret's token.
        CodeKeys::default().sign(hubei, 0),
        // A serial nobody holds, under the genuine code's token.
        CodeId {
            serial: 1,
            ..keys.sign(hubei, 0)
        },
    ];
    for c in forged {
        assert_eq!(hub.query(&ask(c)), HubAnswer::Forged, "{c:?}");
    }
    for req in [
        Request::Query {
            code: flip(national),
        },
        Request::Offline {
            code: flip(national),
        },
    ] {
        assert_eq!(
            hub.handle(t("2020-10-01T09:00"), &req),
            Response::Refused(Refusal::ForgedCode)
        );
    }
    // By document the hub answers with the code as its issuer signs it.
    match hub.query(&HubQuery {
        from: province("beijing"),
        lookup: HubLookup::Document(who.number),
    }) {
        HubAnswer::Status { code, .. } => assert_eq!(code, keys.sign(hubei, 0)),
        other => panic!("{other:?}"),
    }
}

/// A round's publications applied on the pool leave the hub as applying
/// them one by one does: the first code of a document, the latest status
/// of a code and its rare parts set and cleared in order.
#[test]
fn publishing_a_round_on_the_pool_equals_publishing_in_order() {
    let keys = CodeKeys::default();
    let nat = NatShown {
        at: t("2020-10-01T07:00"),
        institution: 9,
    };
    let why = Explanation::new("contact".into(), "stay home".into());
    let mut publications = Vec::new();
    let mut codes = Vec::new();
    for serial in 0..3_000u32 {
        for p in 0..31u8 {
            let code = keys.sign(Issuer::Province(ProvinceId(p)), serial);
            // Documents shared between provinces: the first code published wins.
            let who = person(u64::from(serial) * 20 + u64::from(p % 20));
            codes.push(code);
            publications.push(Publication {
                code,
                holder: who,
                color: Color::Green,
                at: t("2020-10-01T08:00"),
                explanation: (serial % 7 == 0).then(|| why.clone()),
                nat: (serial % 5 == 0).then_some(nat),
            });
        }
    }
    // Later in the round, some codes change again: rare parts set and cleared.
    for k in (0..publications.len()).step_by(11) {
        let mut p = publications[k].clone();
        p.color = Color::Yellow;
        p.explanation = p.explanation.is_none().then(|| why.clone());
        p.nat = None;
        publications.push(p);
    }
    let per_province = vec![3_000; 31];
    let mut in_order = Hub::new();
    in_order.reserve(&per_province);
    let mut on_pool = Hub::new();
    on_pool.reserve(&per_province);
    assert!(publications.len() >= PUBLISH_ON_POOL_MIN);
    publications.iter().for_each(|p| in_order.publish(p));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    on_pool.publish_all(&publications, Some(&pool));
    assert_eq!(on_pool.extras, in_order.extras);
    assert!(!on_pool.extras.is_empty());
    let from = province("beijing");
    let documents = publications
        .iter()
        .map(|p| HubLookup::Document(p.holder.number));
    let by_code = codes.iter().map(|c| HubLookup::Code(*c));
    for lookup in documents.chain(by_code) {
        let q = HubQuery { from, lookup };
        assert_eq!(on_pool.answer(&q), in_order.answer(&q), "{lookup:?}");
    }
}
