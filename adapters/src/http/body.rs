//! Request bodies of the HTTP API: one per endpoint, carrying the fields of
//! the matching `api::Request` variant plus an optional `now`.
//!
//! The bodies mirror the variants instead of reusing `Request` because
//! `Request` is internally tagged, and serde buffers internally tagged
//! content before dispatching, which loses the path of a bad field; a plain
//! struct with `deny_unknown_fields` lets every 400 name the field.

use hcsim_platform::api::{
    CodeId, Credential, DeciCelsius, Feed, InboundRequest, IntlDeclaration, Place, Relation,
    Request,
};
use hcsim_platform::identity::{DocNumber, Identity};
use hcsim_platform::{Minute, ProvinceId};
use serde::de::{DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// A bad request: the field at fault (dotted path, `[i]` for list items)
/// and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyError {
    pub field: String,
    pub message: String,
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "field `{}`: {}", self.field, self.message)
        }
    }
}

/// Parses a JSON body. The fast path is plain serde_json; only a body that
/// fails is parsed again with path tracking, so good requests pay nothing
/// for the error's precision.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyError> {
    if let Ok(v) = serde_json::from_slice(bytes) {
        return Ok(v);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let err = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        // A valid value followed by anything but whitespace is not one body.
        Ok(v) => match de.end() {
            Ok(()) => return Ok(v),
            Err(e) => {
                return Err(BodyError {
                    field: String::new(),
                    message: format!("body is not valid JSON: {}", strip_position(&e.to_string())),
                })
            }
        },
        Err(e) => e,
    };
    let field = err.path().to_string();
    let inner = err.into_inner();
    let mut message = redact_numbers(&strip_position(&inner.to_string()));
    if inner.is_syntax() || inner.is_eof() {
        message = format!("body is not valid JSON: {message}");
    }
    // serde reports a missing field at the enclosing object; name the field
    // itself, which is what the caller has to add.
    let field = match missing_field(&message) {
        Some(name) if field == "." => name.to_string(),
        Some(name) => format!("{field}.{name}"),
        None if field == "." => String::new(),
        None => field,
    };
    Err(BodyError { field, message })
}

/// serde quotes the value it could not read (`invalid type: string
/// "11010119800101123X"`); a wrongly typed document number must not come
/// back in the answer, or in whatever log keeps it. Any word holding six
/// digits or more is replaced: no field name, key or count in a message
/// has that many.
fn redact_numbers(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.bytes().filter(u8::is_ascii_digit).count() >= 6 {
            out.push_str("(value withheld)");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in message.chars() {
        if c.is_alphanumeric() || c == '-' || c == '+' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// `missing field `x``  → `x`.
fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
}

/// Drops serde_json's " at line L column C" suffix: bodies are one line.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Beijing time, `2020-10-01T08:00`.
pub fn parse_now(now: Option<&str>) -> Result<Option<Minute>, BodyError> {
    now.map(|s| {
        Minute::parse(s).map_err(|message| BodyError {
            field: "now".into(),
            message,
        })
    })
    .transpose()
}

/// A province by key (`"anhui"`, `"安徽"`, `"34"`) or by index 0..=30.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ProvinceRef(pub ProvinceId);

impl<'de> Deserialize<'de> for ProvinceRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ProvinceRef, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ProvinceRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a province key like \"anhui\" or an index 0..=30")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ProvinceRef, E> {
                match u8::try_from(v) {
                    Ok(i) if (i as usize) < hcsim_platform::PROVINCE_COUNT => {
                        Ok(ProvinceRef(ProvinceId(i)))
                    }
                    _ => Err(E::custom(format!(
                        "province index {v} is out of range 0..=30"
                    ))),
                }
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ProvinceRef, E> {
                ProvinceId::parse(v)
                    .map(ProvinceRef)
                    .ok_or_else(|| E::custom(format!("unknown province `{v}`")))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for ProvinceRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.key())
    }
}

/// An endpoint's body: where it is posted, and the request it carries.
pub trait Body: DeserializeOwned + Serialize {
    const PATH: &'static str;
    fn into_request(self) -> Result<(Option<Minute>, Request), BodyError>;
}

macro_rules! bodies {
    ($(
        $(#[$doc:meta])*
        $name:ident at $path:literal { $( $(#[$fattr:meta])* $field:ident : $ty:ty ),* $(,)? }
        => |$s:ident| $build:expr;
    )*) => {$(
        $(#[$doc])*
        #[derive(Deserialize, Serialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $( $(#[$fattr])* pub $field: $ty, )*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub now: Option<String>,
        }
        impl Body for $name {
            const PATH: &'static str = $path;
            fn into_request(self) -> Result<(Option<Minute>, Request), BodyError> {
                let now = parse_now(self.now.as_deref())?;
                let $s = self;
                Ok((now, $build))
            }
        }
    )*};
}

bodies! {
    /// 码生成: real-name registration.
    ApplyBody at "/v1/code/apply" { province: ProvinceRef, identity: Identity,
                face_verified: bool, #[serde(default)] national: bool }
        => |b| Request::Apply { province: b.province.0, identity: b.identity,
                                face_verified: b.face_verified, national: b.national };
    /// Apply for a family member.
    FamilyBody at "/v1/family/apply" { proxy: CodeId, member: Identity, relation: Relation }
        => |b| Request::ApplyFamily { proxy: b.proxy, member: b.member, relation: b.relation };
    /// 健康申报 / 健康打卡: the daily health declaration and check-in.
    DeclareBody at "/v1/declaration" { code: CodeId, temperature: DeciCelsius, symptoms: bool,
                contact: bool }
        => |b| Request::Declare { code: b.code, temperature: b.temperature,
                                  symptoms: b.symptoms, contact: b.contact };
    /// A temperature taken by staff or a kiosk.
    TemperatureBody at "/v1/temperature" { code: CodeId, temperature: DeciCelsius, place: Place }
        => |b| Request::Temperature { code: b.code, temperature: b.temperature, place: b.place };
    /// 码核验: code verification at a checkpoint.
    VerifyBody at "/v1/code/verify" { credential: Credential, place: Place,
                 #[serde(default)] temperature: Option<DeciCelsius> }
        => |b| Request::Verify { credential: b.credential, place: b.place,
                                 temperature: b.temperature };
    /// The person scans the place code and adds their temperature.
    PlaceScanBody at "/v1/place-scan" { code: CodeId, place: Place, temperature: DeciCelsius }
        => |b| Request::PlaceScan { code: b.code, place: b.place, temperature: b.temperature };
    /// 健康信息查询: health-information query.
    QueryBody at "/v1/health-info/query" { code: CodeId }
        => |b| Request::Query { code: b.code };
    /// Save the code for offline display.
    OfflineBody at "/v1/code/offline" { code: CodeId }
        => |b| Request::Offline { code: b.code };
    /// The holder's append-only journal.
    RecordsBody at "/v1/records" { code: CodeId }
        => |b| Request::Records { code: b.code };
    /// Data from the health authority, immigration and carriers.
    FeedBody at "/v1/feed" { #[serde(default)] to: Option<ProvinceRef>, feed: Feed }
        => |b| Request::Feed { to: b.to.map(|p| p.0), feed: b.feed };
    /// 行程申报: the international version's daily declaration before a flight.
    TripDeclareBody at "/v1/trip-declaration" { account: u64, identity: Identity,
                      #[serde(default)] subject: Option<Identity>, declaration: IntlDeclaration }
        => |b| Request::IntlDeclare { account: b.account, identity: b.identity,
                                      subject: b.subject, declaration: b.declaration };
    /// Validity, streak and trip-risk alerts of an international code.
    TripStatusBody at "/v1/trip-declaration/status" { account: u64,
                      #[serde(default)] subject: Option<DocNumber> }
        => |b| Request::IntlStatus { account: b.account, subject: b.subject };
    /// The national hub's inbound-traveller services.
    InboundBody at "/v1/inbound" { service: InboundRequest }
        => |b| Request::Inbound(b.service);
}

fn encoded<B: Body>(b: B) -> Result<(&'static str, Vec<u8>), serde_json::Error> {
    Ok((B::PATH, serde_json::to_vec(&b)?))
}

/// The endpoint and body that carry `req` at `now`: what a client of the
/// per-operation API sends. `parse` of the body gives `req` back.
pub fn encode(
    req: &Request,
    now: Option<Minute>,
) -> Result<(&'static str, Vec<u8>), serde_json::Error> {
    let now = now.map(|m| m.to_string());
    match req.clone() {
        Request::Apply {
            province,
            identity,
            face_verified,
            national,
        } => encoded(ApplyBody {
            province: ProvinceRef(province),
            identity,
            face_verified,
            national,
            now,
        }),
        Request::ApplyFamily {
            proxy,
            member,
            relation,
        } => encoded(FamilyBody {
            proxy,
            member,
            relation,
            now,
        }),
        Request::Declare {
            code,
            temperature,
            symptoms,
            contact,
        } => encoded(DeclareBody {
            code,
            temperature,
            symptoms,
            contact,
            now,
        }),
        Request::Temperature {
            code,
            temperature,
            place,
        } => encoded(TemperatureBody {
            code,
            temperature,
            place,
            now,
        }),
        Request::Verify {
            credential,
            place,
            temperature,
        } => encoded(VerifyBody {
            credential,
            place,
            temperature,
            now,
        }),
        Request::PlaceScan {
            code,
            place,
            temperature,
        } => encoded(PlaceScanBody {
            code,
            place,
            temperature,
            now,
        }),
        Request::Query { code } => encoded(QueryBody { code, now }),
        Request::Offline { code } => encoded(OfflineBody { code, now }),
        Request::Records { code } => encoded(RecordsBody { code, now }),
        Request::Feed { to, feed } => encoded(FeedBody {
            to: to.map(ProvinceRef),
            feed,
            now,
        }),
        Request::IntlDeclare {
            account,
            identity,
            subject,
            declaration,
        } => encoded(TripDeclareBody {
            account,
            identity,
            subject,
            declaration,
            now,
        }),
        Request::IntlStatus { account, subject } => encoded(TripStatusBody {
            account,
            subject,
            now,
        }),
        Request::Inbound(service) => encoded(InboundBody { service, now }),
    }
}

/// `POST /v1/batch`: a tick's requests, answered in order, in the three
/// rounds of the in-process platform.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    #[serde(default)]
    pub now: Option<String>,
    pub requests: Vec<Request>,
}

/// Reads a `now` given as a query parameter (`GET /v1/census?now=...`).
pub fn now_from_query(query: Option<&str>) -> Result<Option<Minute>, BodyError> {
    let Some(q) = query else { return Ok(None) };
    for pair in q.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "now" => return parse_now(Some(&v.replace("%3A", ":").replace("%3a", ":"))),
            "" => {}
            other => {
                return Err(BodyError {
                    field: other.to_string(),
                    message: "unknown query parameter; expected `now`".into(),
                })
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_type_names_the_nested_field() {
        let e = parse::<VerifyBody>(
            br#"{"credential":{"code":{"issuer":{"province":11},"serial":"x"}},
                 "place":{"county":{"province":11,"county":0},"kind":"mall"}}"#,
        )
        .err()
        .unwrap();
        assert_eq!(e.field, "credential.code.serial");
        assert!(e.message.contains("expected u32"), "{e}");
    }

    #[test]
    fn missing_field_is_named_itself() {
        let e = parse::<QueryBody>(b"{}").err().unwrap();
        assert_eq!(e.field, "code");
        let e = parse::<VerifyBody>(br#"{"credential":{"code":{"issuer":{"province":1}}},"place":{"county":{"province":1,"county":0},"kind":"mall"}}"#)
            .err()
            .unwrap();
        assert_eq!(e.field, "credential.code.serial");
    }

    #[test]
    fn a_code_without_its_token_or_with_a_malformed_one_is_named() {
        let e = parse::<QueryBody>(br#"{"code":{"issuer":{"province":1},"serial":0}}"#)
            .err()
            .unwrap();
        assert_eq!(e.field, "code.token");
        for token in ["12", r#""ABCDEF0123456789""#, r#""abcdef012345678""#] {
            let body =
                format!(r#"{{"code":{{"issuer":{{"province":1}},"serial":0,"token":{token}}}}}"#);
            let e = parse::<QueryBody>(body.as_bytes()).err().unwrap();
            assert_eq!(e.field, "code.token", "{token}");
        }
    }

    #[test]
    fn unknown_field_is_refused() {
        let e = parse::<QueryBody>(
            br#"{"code":{"issuer":{"province":1},"serial":0,"token":"0000000000000000"},"cod":1}"#,
        )
        .err()
        .unwrap();
        assert_eq!(e.field, "cod");
    }

    #[test]
    fn province_by_key_or_index() {
        let b: ApplyBody = parse(br#"{"province":"anhui","identity":{"doc":"id_card","number":1,"name":0,"age":30},"face_verified":true}"#).unwrap();
        assert_eq!(b.province.0, ProvinceId::parse("anhui").unwrap());
        let e = parse::<ApplyBody>(br#"{"province":31,"identity":{"doc":"id_card","number":1,"name":0,"age":30},"face_verified":true}"#)
            .err()
            .unwrap();
        assert_eq!(e.field, "province");
    }

    #[test]
    fn trailing_characters_after_a_valid_body_are_refused() {
        let good = br#"{"code":{"issuer":{"province":1},"serial":0,"token":"0000000000000000"}}"#;
        assert!(parse::<QueryBody>(good).is_ok());
        for tail in [&b"x"[..], b"{}", b" ]", b"\n1"] {
            let body = [&good[..], tail].concat();
            let e = parse::<QueryBody>(&body).err().unwrap();
            assert!(e.message.contains("trailing characters"), "{e}");
        }
        assert!(parse::<QueryBody>(&[&good[..], b" \n\t"].concat()).is_ok());
    }

    #[test]
    fn a_wrongly_typed_document_number_is_named_not_echoed() {
        for number in [
            r#""11010119800101123X""#,
            "-11010119800101123",
            "1.1010119800101123e16",
            r#""E12345678""#,
        ] {
            let body = format!(
                r#"{{"province":"anhui","identity":{{"doc":"id_card","number":{number},"name":0,"age":30}},"face_verified":true}}"#
            );
            let e = parse::<ApplyBody>(body.as_bytes()).err().unwrap();
            assert_eq!(e.field, "identity.number");
            let shown = e.to_string();
            for digits in ["1010119800101123", "12345678"] {
                assert!(!shown.contains(digits), "{shown}");
            }
            assert!(shown.contains("expected u64"), "{shown}");
        }
        // Inside a batch the tagged request loses the path, but not the redaction.
        let body = br#"{"requests":[{"op":"apply","province":1,"identity":{"doc":"id_card","number":"11010119800101123X","name":0,"age":3},"face_verified":true}]}"#;
        let e = parse::<BatchBody>(body).err().unwrap();
        assert!(!e.to_string().contains("1101011980"), "{e}");
    }

    #[test]
    fn a_province_index_past_the_last_is_refused_wherever_it_appears() {
        let e = parse::<QueryBody>(
            br#"{"code":{"issuer":{"province":255},"serial":0,"token":"0000000000000000"}}"#,
        )
        .err()
        .unwrap();
        assert_eq!(e.field, "code.issuer.province");
        assert!(e.message.contains("out of range 0..=30"), "{e}");
        let e = parse::<VerifyBody>(br#"{"credential":{"code":{"issuer":{"province":1},"serial":0,"token":"0000000000000000"}},"place":{"county":{"province":31,"county":0},"kind":"mall"}}"#)
            .err()
            .unwrap();
        assert_eq!(e.field, "place.county.province");
    }

    #[test]
    fn bad_now_is_named() {
        let b: QueryBody =
            parse(br#"{"code":{"issuer":{"province":1},"serial":0,"token":"0000000000000000"},"now":"noon"}"#).unwrap();
        let e = b.into_request().err().unwrap();
        assert_eq!(e.field, "now");
    }

    #[test]
    fn census_query() {
        assert_eq!(
            now_from_query(Some("now=2020-10-01T08%3A00")).unwrap(),
            Some(Minute::parse("2020-10-01T08:00").unwrap())
        );
        assert_eq!(now_from_query(Some("then=1")).unwrap_err().field, "then");
    }
}
