//! The adapters' integration tests: one test binary, a module per area.

mod direct;
mod forged;
mod hostile;
mod hosting;
mod http;
mod hub;

use hcsim_platform::api::{
    CaseStatus, CheckpointKind, CodeId, CountyRef, Credential, DeciCelsius, Feed, Place, Relation,
    Request, Response, RiskLevel,
};
use hcsim_platform::hub::Hub;
use hcsim_platform::identity::{DocKind, DocNumber, Identity, NameCode};
use hcsim_platform::province::ProvincePlatform;
use hcsim_platform::rules::RuleSet;
use hcsim_platform::{Minute, ProvinceId};
use std::path::PathBuf;
use std::sync::Arc;

/// The bundled rule sets: a province's own file, else `default.toml`.
pub fn platforms() -> impl FnMut(ProvinceId) -> ProvincePlatform {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/rules");
    let default = Arc::new(RuleSet::load(&dir.join("default.toml")).expect("default rules"));
    move |p| {
        let own = dir.join(format!("{}.toml", p.key()));
        let rules = if own.is_file() {
            Arc::new(RuleSet::load(&own).expect("province rules"))
        } else {
            default.clone()
        };
        ProvincePlatform::new(p, rules)
    }
}

pub fn direct() -> hcsim_adapters::Direct {
    hcsim_adapters::Direct::new(platforms(), Hub::new())
}

pub fn at(s: &str) -> Minute {
    Minute::parse(s).unwrap()
}

pub fn province(key: &str) -> ProvinceId {
    ProvinceId::parse(key).unwrap()
}

/// A person of `province` numbered `n`: unique document, varied name and age.
pub fn person(province: ProvinceId, n: u16) -> Identity {
    Identity {
        doc: DocKind::IdCard,
        number: DocNumber::resident(province, n % 7, 19700101 + n as u32 % 28, n),
        name: NameCode::new(
            n as u32,
            n as u32 * 7,
            (!n.is_multiple_of(4)).then_some(n as u32 * 3),
        ),
        age: 20 + (n % 60) as u8,
    }
}

pub fn place(province: ProvinceId, kind: CheckpointKind) -> Place {
    Place {
        county: CountyRef {
            province,
            county: 0,
        },
        kind,
    }
}

const KEYS: [&str; 7] = [
    "beijing",
    "anhui",
    "fujian",
    "guangdong",
    "hubei",
    "qinghai",
    "sichuan",
];

/// Registration for a few people in provinces with different schemes.
pub fn registrations() -> Vec<Request> {
    KEYS.iter()
        .flat_map(|k| {
            (0..6).map(move |n| Request::Apply {
                province: province(k),
                identity: person(province(k), n),
                face_verified: true,
                national: false,
            })
        })
        .collect()
}

/// A tick exercising every kind of request, given the codes the
/// registrations returned (in `registrations()` order). Cross-province scans
/// and a registration in the same batch as its first scan are included on
/// purpose: they are where a per-request and a per-batch platform differ.
pub fn busy_tick(codes: &[CodeId]) -> Vec<Request> {
    let code = |k: usize, n: usize| codes[k * 6 + n];
    let mut reqs = Vec::new();
    for (k, key) in KEYS.iter().enumerate() {
        let here = province(key);
        let elsewhere = province(KEYS[(k + 1) % KEYS.len()]);
        reqs.push(Request::Verify {
            credential: Credential::Code(code(k, 0)),
            place: place(here, CheckpointKind::Mall),
            temperature: Some(DeciCelsius(365)),
        });
        reqs.push(Request::Verify {
            credential: Credential::Code(code(k, 1)),
            place: place(elsewhere, CheckpointKind::TrainStation),
            temperature: None,
        });
        reqs.push(Request::Verify {
            credential: Credential::IdCard(person(here, 2).number),
            place: place(elsewhere, CheckpointKind::Hospital),
            temperature: Some(DeciCelsius(385)),
        });
        reqs.push(Request::Declare {
            code: code(k, 3),
            temperature: DeciCelsius(380),
            symptoms: true,
            contact: false,
        });
        reqs.push(Request::Query { code: code(k, 3) });
        reqs.push(Request::Offline { code: code(k, 4) });
        reqs.push(Request::PlaceScan {
            code: code(k, 5),
            place: place(here, CheckpointKind::Restaurant),
            temperature: DeciCelsius(366),
        });
        reqs.push(Request::Temperature {
            code: code(k, 5),
            temperature: DeciCelsius(390),
            place: place(here, CheckpointKind::Office),
        });
        reqs.push(Request::Feed {
            to: Some(here),
            feed: Feed::Designation {
                person: person(here, 4).number,
                status: CaseStatus::Confirmed,
                at: at("2020-10-01T08:00"),
            },
        });
        // Scanned elsewhere in the same batch that registers them.
        let newcomer = person(here, 100);
        reqs.push(Request::Verify {
            credential: Credential::Code(
                hcsim_platform::CodeKeys::default().sign(hcsim_platform::Issuer::Province(here), 6),
            ),
            place: place(elsewhere, CheckpointKind::Airport),
            temperature: None,
        });
        reqs.push(Request::Apply {
            province: here,
            identity: newcomer,
            face_verified: true,
            national: false,
        });
        reqs.push(Request::ApplyFamily {
            proxy: code(k, 0),
            member: Identity {
                age: 8,
                ..person(here, 200)
            },
            relation: Relation::Child,
        });
        reqs.push(Request::Records { code: code(k, 3) });
    }
    reqs.push(Request::Feed {
        to: None,
        feed: Feed::RiskArea {
            county: CountyRef {
                province: province("hubei"),
                county: 0,
            },
            level: RiskLevel::High,
            at: at("2020-10-01T08:00"),
        },
    });
    reqs.push(Request::Verify {
        credential: Credential::Code(
            hcsim_platform::CodeKeys::default()
                .sign(hcsim_platform::Issuer::Province(province("tibet")), 999_999),
        ),
        place: place(province("beijing"), CheckpointKind::Bank),
        temperature: None,
    });
    reqs
}

pub fn codes_of(responses: &[Response]) -> Vec<CodeId> {
    responses
        .iter()
        .map(|r| match r {
            Response::Issued { code, .. } => *code,
            other => panic!("registration refused: {other:?}"),
        })
        .collect()
}
