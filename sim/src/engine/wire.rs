//! How engine records cross a process boundary: each record is one
//! `bitcode` byte string inside timely's bincode. The platform's serde
//! shape is the HTTP API's JSON (internally tagged enums, tokens and
//! document numbers as text), which a compact format cannot read back and
//! a self-describing one reads only through serde's buffered content:
//! MessagePack that way made the encoding and decoding ~30 % of process
//! 0's time on the national day over two processes. `bitcode`'s own
//! derive ignores that shape and checks what it reads (a malformed record
//! is an error, never a panic).
//!
//! Between workers of one process timely moves records without serializing
//! them, so only what really leaves the process pays for this, and the
//! bytes counted here are exactly the payload sent to other processes.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};

static SENT_BYTES: AtomicU64 = AtomicU64::new(0);

/// Payload bytes serialized for other processes so far by this process.
pub fn bytes_sent() -> u64 {
    SENT_BYTES.load(Ordering::Relaxed)
}

/// A record as it crosses the exchange.
#[derive(Clone, Debug)]
pub struct Wire<T>(pub T);

impl<T: bitcode::Encode> Serialize for Wire<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bytes = bitcode::encode(&self.0);
        SENT_BYTES.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        s.serialize_bytes(&bytes)
    }
}

/// Decodes straight from the bytes timely read, without copying them.
impl<'de, T: bitcode::DecodeOwned> Deserialize<'de> for Wire<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Record<T>(PhantomData<T>);
        impl<T: bitcode::DecodeOwned> Visitor<'_> for Record<T> {
            type Value = Wire<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a record's bitcode bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Wire<T>, E> {
                bitcode::decode(v).map(Wire).map_err(E::custom)
            }
        }
        d.deserialize_bytes(Record(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::message::{Agent, ShardMsg, Tag};
    use hcsim_adapters::hosting::{HostDone, HostWork, WireOutcome};
    use hcsim_platform::api::{
        CodeId, Credential, Explanation, Issuer, JournalKind, Place, RecordView, Request, Response,
        Verdict,
    };
    use hcsim_platform::identity::{DocKind, DocNumber, Identity, NameCode};
    use hcsim_platform::token::Token;
    use hcsim_platform::{Color, Decision, Minute, ProvinceId};

    fn across<T: bitcode::Encode + bitcode::DecodeOwned>(value: T) -> T {
        let bytes = bincode::serialize(&Wire(value)).expect("serializes");
        let back: Wire<T> = bincode::deserialize(&bytes).expect("reads back");
        back.0
    }

    fn beijing() -> ProvinceId {
        ProvinceId::parse("beijing").expect("a province")
    }

    #[test]
    fn platform_answers_cross_whole() {
        let before = bytes_sent();
        let holder = Identity {
            doc: DocKind::IdCard,
            number: DocNumber::resident(beijing(), 3, 19800101, 21),
            name: NameCode::new(1, 2, Some(3)),
            age: 40,
        }
        .masked();
        let code = CodeId {
            issuer: Issuer::Province(beijing()),
            serial: 12,
            token: Token(0xfeed_beef_0123_4567),
        };
        let reply = |response| ShardMsg::Reply {
            tag: Tag {
                shard: 3,
                agent: Agent::Citizen(9),
                aux: 5,
            },
            response,
        };
        let sent = vec![
            reply(Response::Busy),
            reply(Response::Recorded {
                seq: 7,
                color: Color::Yellow,
            }),
            reply(Response::Verdict(Verdict {
                color: Color::Red,
                issuer: Issuer::National,
                decision: Decision::Refuse,
                holder,
                explanation: Some(Explanation::new("a case".into(), "stay in".into())),
                nat: None,
                via_hub: true,
                resume_work: None,
            })),
            reply(Response::Records {
                code,
                records: vec![RecordView {
                    seq: 1,
                    at: Minute(60),
                    kind: JournalKind::PLACE_SCAN,
                    temperature: None,
                    symptoms: false,
                    contact: true,
                }],
            }),
        ];
        let back = across(sent.clone());
        assert_eq!(format!("{back:?}"), format!("{sent:?}"));
        assert!(format!("{back:?}").contains("place_scan"));
        assert!(bytes_sent() > before);
    }

    #[test]
    fn a_provinces_work_and_answers_cross_whole() {
        let work = HostWork::Round {
            now: Minute(600),
            requests: vec![(
                4,
                Request::Verify {
                    credential: Credential::IdCard(DocNumber::resident(beijing(), 1, 19900505, 7)),
                    place: Place {
                        county: hcsim_platform::api::CountyRef {
                            province: beijing(),
                            county: 2,
                        },
                        kind: hcsim_platform::api::CheckpointKind::TrainStation,
                    },
                    temperature: None,
                },
            )],
        };
        let back = across(vec![(beijing(), work.clone())]);
        assert_eq!(
            format!("{back:?}"),
            format!("{:?}", vec![(beijing(), work)])
        );
        let done = HostDone::Round {
            outcomes: vec![(4, WireOutcome::Done(Response::Ack))],
            publications: Vec::new(),
        };
        assert_eq!(format!("{:?}", across(done.clone())), format!("{done:?}"));
    }

    #[test]
    fn a_damaged_record_is_an_error_not_a_panic() {
        let sent = vec![ShardMsg::Reply {
            tag: Tag::authority(),
            response: Response::Issued {
                code: CodeId {
                    issuer: Issuer::National,
                    serial: 1,
                    token: Token(1),
                },
                color: Color::Green,
            },
        }];
        let whole = bitcode::encode(&sent);
        for cut in 0..whole.len() {
            let damaged = bincode::serialize(&serde_bytes(&whole[..cut])).expect("serializes");
            assert!(bincode::deserialize::<Wire<Vec<ShardMsg>>>(&damaged).is_err());
        }
        let mut flipped = whole.clone();
        for b in flipped.iter_mut() {
            *b = !*b;
        }
        let damaged = bincode::serialize(&serde_bytes(&flipped)).expect("serializes");
        // Read back or refused; never a panic.
        let _ = bincode::deserialize::<Wire<Vec<ShardMsg>>>(&damaged);
    }

    /// Bytes as `Wire` writes them.
    fn serde_bytes(b: &[u8]) -> impl Serialize + '_ {
        struct B<'a>(&'a [u8]);
        impl Serialize for B<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(self.0)
            }
        }
        B(b)
    }
}
