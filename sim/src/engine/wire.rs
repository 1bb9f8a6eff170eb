//! How engine records cross a process boundary. The platform's types have
//! internally tagged enums (their JSON is the HTTP API's), which a
//! non-self-describing format such as timely's bincode cannot read back; a
//! record therefore travels as one MessagePack byte string inside bincode.
//! MessagePack describes itself as JSON does, at a fraction of the cost:
//! JSON made the 10 M day over two processes spend 67 of its 104 s
//! encoding and decoding 12.1 GB.
//!
//! Between workers of one process timely moves records without serializing
//! them, so only what really leaves the process pays for this, and the
//! bytes counted here are exactly the payload sent to other processes.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::atomic::{AtomicU64, Ordering};

static SENT_BYTES: AtomicU64 = AtomicU64::new(0);

/// Payload bytes serialized for other processes so far by this process.
pub fn bytes_sent() -> u64 {
    SENT_BYTES.load(Ordering::Relaxed)
}

/// A record as it crosses the exchange.
#[derive(Clone, Debug)]
pub struct Wire<T>(pub T);

impl<T: Serialize> Serialize for Wire<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Human-readable, as JSON was: an internally tagged enum is read
        // back through serde's buffered content, which takes every value
        // in its human-readable form (a document number as a string).
        let mut bytes = Vec::new();
        self.0
            .serialize(&mut rmp_serde::Serializer::new(&mut bytes).with_human_readable())
            .map_err(serde::ser::Error::custom)?;
        SENT_BYTES.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        s.serialize_bytes(&bytes)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Wire<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bytes: serde_bytes_buf::Buf = Deserialize::deserialize(d)?;
        T::deserialize(&mut rmp_serde::Deserializer::from_read_ref(&bytes.0).with_human_readable())
            .map(Wire)
            .map_err(serde::de::Error::custom)
    }
}

/// A byte string as serde's data model has it, without another crate.
mod serde_bytes_buf {
    use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};
    use std::fmt;

    pub struct Buf(pub Vec<u8>);

    impl<'de> Deserialize<'de> for Buf {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Buf;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a byte string")
                }
                fn visit_bytes<E>(self, v: &[u8]) -> Result<Buf, E> {
                    Ok(Buf(v.to_vec()))
                }
                fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Buf, E> {
                    Ok(Buf(v))
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Buf, A::Error> {
                    let mut out = Vec::new();
                    while let Some(b) = seq.next_element()? {
                        out.push(b);
                    }
                    Ok(Buf(out))
                }
            }
            d.deserialize_byte_buf(V)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::message::{ShardMsg, Tag};
    use hcsim_platform::api::Response;
    use hcsim_platform::Color;

    #[test]
    fn internally_tagged_platform_types_survive_bincode() {
        let before = bytes_sent();
        let reply = |response| ShardMsg::Reply {
            tag: Tag::authority(),
            response,
        };
        let wire = Wire(vec![
            reply(Response::Busy),
            reply(Response::Ack),
            reply(Response::Recorded {
                seq: 7,
                color: Color::Yellow,
            }),
        ]);
        let bytes = bincode::serialize(&wire).expect("serializes");
        let back: Wire<Vec<ShardMsg>> = bincode::deserialize(&bytes).expect("reads back");
        assert_eq!(format!("{:?}", back.0), format!("{:?}", wire.0));
        assert!(bytes_sent() > before);
    }
}
