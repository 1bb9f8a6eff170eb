//! Reading the platform's JSON answers back into `api::Response`, for the
//! HTTP client adapter.
//!
//! The platform's response types are serialize-only, and `MaskedIdentity`
//! can only be made by masking an `Identity`. So this module mirrors the
//! response types with `Deserialize` and rebuilds each masked holder from a
//! stand-in identity chosen to mask to exactly the strings on the wire. The
//! stand-in never leaves this module, and a string that is not a masked
//! form (a full ID number, say) is rejected rather than rebuilt: the client
//! upholds the privacy invariant instead of trusting the server with it.

use hcsim_platform::api::{
    CodeId, Explanation, InboundAnswer, IntlStatus, Issuer, JournalKind, NatShown, RecordView,
    Refusal, Response, ResumeBasis, TripAlert, Verdict,
};
use hcsim_platform::identity::{DocKind, DocNumber, Identity, MaskedIdentity, NameCode};
use hcsim_platform::{Color, Decision, Minute};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Per-province color counts as the server sends them.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct CensusRow {
    pub province: String,
    pub green: u64,
    pub white: u64,
    pub yellow: u64,
    pub orange: u64,
    pub red: u64,
}

impl CensusRow {
    /// Counts in `Color::index()` order.
    pub fn counts(&self) -> [u64; 5] {
        [self.green, self.white, self.yellow, self.orange, self.red]
    }
    pub fn new(province: &str, c: [u64; 5]) -> CensusRow {
        CensusRow {
            province: province.to_string(),
            green: c[0],
            white: c[1],
            yellow: c[2],
            orange: c[3],
            red: c[4],
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct CensusReply {
    pub now: String,
    pub provinces: Vec<CensusRow>,
}

/// The answer to `POST /v1/batch`, as the client reads it.
#[derive(Deserialize)]
pub(crate) struct BatchReply {
    pub responses: Vec<WireResponse>,
}

#[derive(Deserialize)]
struct WireMasked {
    name: String,
    document: String,
}

fn masked<'de, D: Deserializer<'de>>(d: D) -> Result<MaskedIdentity, D::Error> {
    let w = WireMasked::deserialize(d)?;
    rebuild_masked(&w.name, &w.document).map_err(serde::de::Error::custom)
}

fn masked_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<MaskedIdentity>, D::Error> {
    Vec::<WireMasked>::deserialize(d)?
        .iter()
        .map(|w| rebuild_masked(&w.name, &w.document).map_err(serde::de::Error::custom))
        .collect()
}

/// Masked names, each with a name code that masks to it. Names keep the
/// surname and the last character, so one code per shown form suffices.
fn names() -> &'static HashMap<String, NameCode> {
    static NAMES: OnceLock<HashMap<String, NameCode>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut map = HashMap::new();
        // The tables are a few dozen characters; codes wrap around them,
        // so 128 × 128 covers every shown form.
        for s in 0..128 {
            for g in std::iter::once(None).chain((0..128).map(Some)) {
                let name = NameCode::new(s, 0, g);
                let id = Identity {
                    doc: DocKind::Passport,
                    number: DocNumber(0),
                    name,
                    age: 0,
                };
                map.entry(id.masked().name().to_string()).or_insert(name);
            }
        }
        map
    })
}

fn digits(s: &str) -> Option<u64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
}

/// A document number whose masked form is `shown`: the shown digits kept,
/// the hidden ones chosen (for an ID card, so the check digit matches).
fn document_for(shown: &str) -> Option<(DocKind, DocNumber)> {
    if !hcsim_platform::identity::is_masked_document(shown) {
        return None;
    }
    let b = shown.as_bytes();
    match b.len() {
        18 => {
            let head = digits(&shown[..3])?;
            let tail = digits(&shown[14..17])?;
            // Two free digits with weights 9 and 10 reach every residue
            // mod 11, so some pair gives the shown check character.
            (0..100).find_map(|pair: u64| {
                let n = head * 100_000_000_000_000 + pair * 1000 + tail;
                let number = DocNumber(n);
                (number.resident_string().as_bytes()[17] == b[17])
                    .then_some((DocKind::IdCard, number))
            })
        }
        9 if b[0] == b'E' => {
            let tail = digits(&shown[7..9])?;
            Some((DocKind::Passport, DocNumber(tail)))
        }
        _ => None,
    }
}

/// Rebuilds a `MaskedIdentity` from its displayed strings, refusing any
/// string that is not a masked form.
pub fn rebuild_masked(name: &str, document: &str) -> Result<MaskedIdentity, String> {
    let code = *names()
        .get(name)
        .ok_or_else(|| format!("holder name `{name}` is not a masked name"))?;
    let (doc, number) = document_for(document)
        .ok_or_else(|| "holder document is not a masked number".to_string())?;
    let m = Identity {
        doc,
        number,
        name: code,
        age: 0,
    }
    .masked();
    if m.name() == name && m.document() == document {
        Ok(m)
    } else {
        Err("holder is not a masked identity".into())
    }
}

/// A journal kind, read by name: one the platform writes, or an error.
struct RecordKind(JournalKind);

impl<'de> Deserialize<'de> for RecordKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RecordKind, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        JournalKind::parse(&s)
            .map(RecordKind)
            .ok_or_else(|| serde::de::Error::custom(format!("unexpected record kind `{s}`")))
    }
}

#[derive(Deserialize)]
pub(crate) struct WireVerdict {
    color: Color,
    issuer: Issuer,
    decision: Decision,
    #[serde(deserialize_with = "masked")]
    holder: MaskedIdentity,
    explanation: Option<Explanation>,
    nat: Option<NatShown>,
    via_hub: bool,
    resume_work: Option<ResumeBasis>,
}

#[derive(Deserialize)]
pub(crate) struct WireRecord {
    seq: u64,
    at: Minute,
    kind: RecordKind,
    temperature: Option<hcsim_platform::api::DeciCelsius>,
    symptoms: bool,
    contact: bool,
}

#[derive(Deserialize)]
#[serde(tag = "alert", rename_all = "snake_case")]
pub(crate) enum WireAlert {
    StreakCannotComplete {
        required_from_day: Minute,
        earliest_start: Minute,
    },
    UnfitDeclaration {
        seq: u64,
        at: Minute,
        fever: bool,
        symptoms: bool,
        positive_test: bool,
        contact: bool,
    },
}

#[derive(Deserialize)]
pub(crate) struct WireIntlStatus {
    #[serde(deserialize_with = "masked")]
    holder: MaskedIdentity,
    valid: bool,
    valid_until: Option<Minute>,
    reminder_at: Option<Minute>,
    streak_start: Option<Minute>,
    streak_days: u32,
    departure: Option<Minute>,
    alerts: Vec<WireAlert>,
    #[serde(deserialize_with = "masked_list")]
    proxied: Vec<MaskedIdentity>,
}

/// `api::Response` as it arrives over the wire.
#[derive(Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub(crate) enum WireResponse {
    Issued {
        code: CodeId,
        color: Color,
    },
    Recorded {
        seq: u64,
        color: Color,
    },
    Verdict(WireVerdict),
    Health {
        color: Color,
        #[serde(deserialize_with = "masked")]
        holder: MaskedIdentity,
        explanation: Option<Explanation>,
        nat: Option<NatShown>,
        credit_violations: Option<u16>,
        resume_work: Option<ResumeBasis>,
    },
    OfflineCode {
        code: CodeId,
        issued: Minute,
        color: Color,
        seal: hcsim_platform::token::Token,
    },
    Refused(Refusal),
    Records {
        code: CodeId,
        records: Vec<WireRecord>,
    },
    IntlRecorded {
        seq: u64,
        status: WireIntlStatus,
    },
    IntlStatus(WireIntlStatus),
    Inbound(InboundAnswer),
    Ack,
    Busy,
}

/// Reads one `Response` as a per-operation endpoint sends it.
pub fn decode_response(bytes: &[u8]) -> Result<Response, serde_json::Error> {
    serde_json::from_slice::<WireResponse>(bytes).map(Response::from)
}

impl From<WireIntlStatus> for IntlStatus {
    fn from(w: WireIntlStatus) -> IntlStatus {
        IntlStatus {
            holder: w.holder,
            valid: w.valid,
            valid_until: w.valid_until,
            reminder_at: w.reminder_at,
            streak_start: w.streak_start,
            streak_days: w.streak_days,
            departure: w.departure,
            alerts: w
                .alerts
                .into_iter()
                .map(|a| match a {
                    WireAlert::StreakCannotComplete {
                        required_from_day,
                        earliest_start,
                    } => TripAlert::StreakCannotComplete {
                        required_from_day,
                        earliest_start,
                    },
                    WireAlert::UnfitDeclaration {
                        seq,
                        at,
                        fever,
                        symptoms,
                        positive_test,
                        contact,
                    } => TripAlert::UnfitDeclaration {
                        seq,
                        at,
                        fever,
                        symptoms,
                        positive_test,
                        contact,
                    },
                })
                .collect(),
            proxied: w.proxied,
        }
    }
}

impl From<WireResponse> for Response {
    fn from(w: WireResponse) -> Response {
        match w {
            WireResponse::Issued { code, color } => Response::Issued { code, color },
            WireResponse::Recorded { seq, color } => Response::Recorded { seq, color },
            WireResponse::Verdict(v) => Response::Verdict(Verdict {
                color: v.color,
                issuer: v.issuer,
                decision: v.decision,
                holder: v.holder,
                explanation: v.explanation,
                nat: v.nat,
                via_hub: v.via_hub,
                resume_work: v.resume_work,
            }),
            WireResponse::Health {
                color,
                holder,
                explanation,
                nat,
                credit_violations,
                resume_work,
            } => Response::Health {
                color,
                holder,
                explanation,
                nat,
                credit_violations,
                resume_work,
            },
            WireResponse::OfflineCode {
                code,
                issued,
                color,
                seal,
            } => Response::OfflineCode {
                code,
                issued,
                color,
                seal,
            },
            WireResponse::Refused(r) => Response::Refused(r),
            WireResponse::Records { code, records } => Response::Records {
                code,
                records: records
                    .into_iter()
                    .map(|r| RecordView {
                        seq: r.seq,
                        at: r.at,
                        kind: r.kind.0,
                        temperature: r.temperature,
                        symptoms: r.symptoms,
                        contact: r.contact,
                    })
                    .collect(),
            },
            WireResponse::IntlRecorded { seq, status } => Response::IntlRecorded {
                seq,
                status: Box::new(status.into()),
            },
            WireResponse::IntlStatus(s) => Response::IntlStatus(Box::new(s.into())),
            WireResponse::Inbound(a) => Response::Inbound(a),
            WireResponse::Ack => Response::Ack,
            WireResponse::Busy => Response::Busy,
        }
    }
}

/// `GET /v1/hub/counters`: what a run's report reads from the platform
/// itself, and whether it holds anything yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountersReply {
    /// People registered in all provinces together.
    pub registered: u64,
    pub hub: hcsim_platform::hub::HubCounters,
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcsim_platform::ProvinceId;

    #[test]
    fn masked_identities_round_trip() {
        let beijing = ProvinceId::parse("beijing").unwrap();
        for (i, doc) in [DocKind::IdCard, DocKind::Passport].into_iter().enumerate() {
            for seq in 0..40u16 {
                let id = Identity {
                    doc,
                    number: DocNumber::resident(
                        beijing,
                        seq,
                        19800101 + seq as u32,
                        seq * 7 + i as u16,
                    ),
                    name: NameCode::new(
                        seq as u32,
                        seq as u32 * 3,
                        (seq % 3 != 0).then_some(seq as u32 * 5),
                    ),
                    age: 30,
                };
                let m = id.masked();
                assert_eq!(rebuild_masked(m.name(), m.document()), Ok(m), "{m:?}");
            }
        }
    }

    #[test]
    fn unmasked_document_is_refused() {
        let id = Identity {
            doc: DocKind::IdCard,
            number: DocNumber(11010519491231002),
            name: NameCode::new(2, 0, Some(1)),
            age: 40,
        };
        let m = id.masked();
        assert!(rebuild_masked(m.name(), &id.document_string()).is_err());
        assert!(rebuild_masked(&id.name.full(), m.document()).is_err());
    }
}
