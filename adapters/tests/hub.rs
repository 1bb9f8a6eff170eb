//! The hub through the in-process platform: partitions, the national code, and
//! the same-flight contact designation reaching the person's province.

use super::*;
use hcsim_adapters::{InProcess, Platform};
use hcsim_platform::api::{InboundAnswer, InboundRequest, Refusal};
use hcsim_platform::recognition::RecognitionPolicy;
use hcsim_platform::{Color, Decision, Issuer};

fn policy() -> Arc<RecognitionPolicy> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/recognition");
    Arc::new(RecognitionPolicy::load(&dir.join("policy.toml")).expect("policy"))
}

fn with_actors<T>(f: impl AsyncFnOnce(&mut InProcess) -> T) -> T {
    futures::executor::block_on(async {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build();
        let pol = policy();
        let mut make = platforms();
        let mut platform = InProcess::start(
            Some(std::sync::Arc::new(pool.expect("pool"))),
            move |p| make(p).with_recognition(pol.clone()),
            Hub::new(),
        );
        f(&mut platform).await
    })
}

fn scans_in(p: ProvinceId, codes: &[CodeId]) -> Vec<Request> {
    codes
        .iter()
        .map(|c| Request::Verify {
            credential: Credential::Code(*c),
            place: place(p, CheckpointKind::Mall),
            temperature: None,
        })
        .collect()
}

#[test]
fn a_province_cut_off_from_the_hub_never_passes_a_code_from_elsewhere() {
    let (during, after, local) = with_actors(async |x| {
        let regs = x
            .exchange(at("2020-10-01T07:00"), registrations())
            .await
            .unwrap();
        let codes = codes_of(&regs);
        let mut national = Vec::new();
        for n in 0..3 {
            let r = x
                .exchange(
                    at("2020-10-01T07:30"),
                    vec![Request::Apply {
                        province: province("beijing"),
                        identity: person(province("beijing"), n),
                        face_verified: true,
                        national: true,
                    }],
                )
                .await
                .unwrap();
            national.extend(codes_of(&r));
        }
        assert!(national.iter().all(|c| c.issuer == Issuer::National));
        let foreign: Vec<CodeId> = codes
            .iter()
            .copied()
            .filter(|c| c.issuer != Issuer::Province(province("guangdong")))
            .chain(national)
            .collect();
        let own: Vec<CodeId> = codes
            .iter()
            .copied()
            .filter(|c| c.issuer == Issuer::Province(province("guangdong")))
            .collect();
        x.set_hub_link(province("guangdong"), false);
        let during = x
            .exchange(
                at("2020-10-01T08:00"),
                scans_in(province("guangdong"), &foreign),
            )
            .await
            .unwrap();
        let local = x
            .exchange(
                at("2020-10-01T08:01"),
                scans_in(province("guangdong"), &own),
            )
            .await
            .unwrap();
        x.set_hub_link(province("guangdong"), true);
        let after = x
            .exchange(
                at("2020-10-01T09:00"),
                scans_in(province("guangdong"), &foreign),
            )
            .await
            .unwrap();
        (during, after, local)
    });
    // Guangdong's policy refers the holder to a manual check.
    assert!(during
        .iter()
        .all(|r| *r == Response::Refused(Refusal::HubUnreachable)));
    // Its own codes need no hub.
    assert!(local
        .iter()
        .all(|r| matches!(r, Response::Verdict(v) if !v.via_hub)));
    // Reconnected: the same people pass (all green).
    assert!(after
        .iter()
        .all(|r| matches!(r, Response::Verdict(v) if v.via_hub && v.decision == Decision::Pass)));
}

#[test]
fn a_same_flight_contact_turns_red_in_anhui_and_orange_in_fujian() {
    let (anhui, fujian) = with_actors(async |x| {
        let (a, f) = (province("anhui"), province("fujian"));
        let people = [person(a, 1), person(f, 2), person(province("beijing"), 3)];
        let homes = [a, f, province("beijing")];
        let regs: Vec<Request> = people
            .iter()
            .zip(homes)
            .map(|(p, home)| Request::Apply {
                province: home,
                identity: *p,
                face_verified: true,
                national: false,
            })
            .collect();
        let codes = codes_of(&x.exchange(at("2020-06-01T07:00"), regs).await.unwrap());
        let entries = people
            .iter()
            .zip(homes)
            .map(|(p, home)| Request::Feed {
                to: Some(home),
                feed: Feed::Entry {
                    person: p.number,
                    at: at("2020-06-01T10:00"),
                    origin_country: 840,
                    port: CountyRef {
                        province: province("shanghai"),
                        county: 0,
                    },
                    flight: 5101,
                },
            })
            .collect();
        x.exchange(at("2020-06-01T10:00"), entries).await.unwrap();
        // The Beijing passenger is confirmed three days later.
        let case = Request::Feed {
            to: Some(province("beijing")),
            feed: Feed::Designation {
                person: people[2].number,
                status: CaseStatus::Confirmed,
                at: at("2020-06-04T09:00"),
            },
        };
        x.exchange(at("2020-06-04T09:00"), vec![case])
            .await
            .unwrap();
        let checks = people[..2]
            .iter()
            .map(|p| Request::Inbound(InboundRequest::SameFlightCheck { person: p.number }))
            .collect();
        let answers = x.exchange(at("2020-06-04T20:00"), checks).await.unwrap();
        for a in &answers {
            assert_eq!(
                *a,
                Response::Inbound(InboundAnswer::SameFlight {
                    flights: vec![5101]
                })
            );
        }
        // The designation reaches the provinces with the next exchange.
        let q = x
            .exchange(
                at("2020-06-04T21:00"),
                vec![
                    Request::Query { code: codes[0] },
                    Request::Query { code: codes[1] },
                ],
            )
            .await
            .unwrap();
        (q[0].color(), q[1].color())
    });
    assert_eq!(anhui, Some(Color::Red));
    assert_eq!(fujian, Some(Color::Orange));
}
