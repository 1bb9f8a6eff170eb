//! HTTP/1.1 on the generator's side of the wire: requests written straight
//! into a connection's output buffer, and answers read with no more parsing
//! than the status line, `Content-Length` and the body's leading `result`.
//!
//! The per-operation endpoints take the same bodies `hcsim serve` parses
//! (`hcsim_adapters::http::body`), so what is sent is what any client of
//! the API sends. A request's head is the same for every request of an
//! operation but for its length; its body is serialized into a scratch
//! buffer that keeps its capacity, so a request costs no allocation.

use super::workers::Answer;
use hcsim_adapters::http::body::{self, Body, DeclareBody, QueryBody, VerifyBody};
use hcsim_platform::api::Request;
use hcsim_platform::Minute;
use std::io::Write as _;
use std::ops::Range;

/// Writes requests for one target.
pub struct RequestWriter {
    /// `\r\nHost: ...\r\nContent-Type: application/json\r\nContent-Length: `
    head_tail: Vec<u8>,
    scratch: Vec<u8>,
    /// The last `now` written and its text: it changes once a virtual
    /// minute, formatting it is a calendar computation.
    now: Option<(Minute, [u8; 32], usize)>,
}

impl RequestWriter {
    pub fn new(host: &str) -> RequestWriter {
        let head_tail = format!(
            " HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: "
        )
        .into_bytes();
        RequestWriter {
            head_tail,
            scratch: Vec::with_capacity(1024),
            now: None,
        }
    }

    /// Appends `POST` of `req` at `now` to `out`.
    pub fn write(
        &mut self,
        out: &mut Vec<u8>,
        req: &Request,
        now: Minute,
    ) -> Result<(), serde_json::Error> {
        self.scratch.clear();
        let path = body_into(&mut self.scratch, req)?;
        // Every body is a JSON object: `now` goes in before its last brace.
        if self.scratch.last() == Some(&b'}') {
            self.scratch.pop();
            let comma: &[u8] = if self.scratch.len() > 1 { b"," } else { b"" };
            self.scratch.extend_from_slice(comma);
            self.scratch.extend_from_slice(b"\"now\":\"");
            let (text, len) = self.now_text(now);
            self.scratch.extend_from_slice(&text[..len]);
            self.scratch.extend_from_slice(b"\"}");
        }
        out.extend_from_slice(b"POST ");
        out.extend_from_slice(path.as_bytes());
        out.extend_from_slice(&self.head_tail);
        let _ = write!(out, "{}\r\n\r\n", self.scratch.len());
        out.extend_from_slice(&self.scratch);
        Ok(())
    }

    fn now_text(&mut self, now: Minute) -> ([u8; 32], usize) {
        if self.now.map(|(m, _, _)| m) != Some(now) {
            let mut text = [0u8; 32];
            let mut cursor = std::io::Cursor::new(&mut text[..]);
            let _ = write!(cursor, "{now}");
            let len = cursor.position() as usize;
            self.now = Some((now, text, len));
        }
        let (_, text, len) = self.now.expect("set above");
        (text, len)
    }
}

/// Serializes `req`'s body without `now` and names its endpoint. The
/// operations load mode sends are written field by field from the request;
/// any other goes through `body::encode`, which allocates.
fn body_into(out: &mut Vec<u8>, req: &Request) -> Result<&'static str, serde_json::Error> {
    match *req {
        Request::Verify {
            credential,
            place,
            temperature,
        } => {
            let b = VerifyBody {
                credential,
                place,
                temperature,
                now: None,
            };
            serde_json::to_writer(out, &b)?;
            Ok(VerifyBody::PATH)
        }
        Request::Query { code } => {
            serde_json::to_writer(out, &QueryBody { code, now: None })?;
            Ok(QueryBody::PATH)
        }
        Request::Declare {
            code,
            temperature,
            symptoms,
            contact,
        } => {
            let b = DeclareBody {
                code,
                temperature,
                symptoms,
                contact,
                now: None,
            };
            serde_json::to_writer(out, &b)?;
            Ok(DeclareBody::PATH)
        }
        _ => {
            let (path, bytes) = body::encode(req, None)?;
            out.extend_from_slice(&bytes);
            Ok(path)
        }
    }
}

/// One answer at the front of a connection's input.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// More bytes are needed.
    Partial,
    /// A whole answer: its status, where its body is, how many bytes it
    /// took, and whether the server closes the connection after it.
    Complete {
        status: u16,
        body: Range<usize>,
        len: usize,
        close: bool,
    },
    /// Not HTTP/1.1 this generator can follow; the connection is lost.
    Invalid(&'static str),
}

/// Headers beyond this many make an answer invalid: `hcsim serve` sends 3.
const HEADERS_MAX: usize = 32;
/// A larger answer is refused rather than buffered.
pub const BODY_MAX: usize = 16 * 1024 * 1024;

pub fn parse_response(buf: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; HEADERS_MAX];
    let mut resp = httparse::Response::new(&mut headers);
    let head = match resp.parse(buf) {
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Ok(httparse::Status::Complete(n)) => n,
        Err(_) => return Parsed::Invalid("protocol"),
    };
    let status = resp.code.unwrap_or(0);
    let mut length = None;
    let mut close = resp.version == Some(0);
    for h in resp.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            match std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
            {
                Some(n) if length.is_none_or(|l| l == n) => length = Some(n),
                _ => return Parsed::Invalid("protocol"),
            }
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            return Parsed::Invalid("unsupported_encoding");
        } else if h.name.eq_ignore_ascii_case("connection")
            && h.value.eq_ignore_ascii_case(b"close")
        {
            close = true;
        }
    }
    let length = match length {
        Some(n) => n,
        None if status < 200 || status == 204 || status == 304 => 0,
        // The body would run to the end of the connection: not what a
        // keep-alive server sends.
        None => return Parsed::Invalid("no_length"),
    };
    if status < 200 {
        // An interim answer (100 Continue) is never asked for.
        return Parsed::Invalid("protocol");
    }
    if length > BODY_MAX {
        return Parsed::Invalid("too_large");
    }
    if buf.len() < head + length {
        return Parsed::Partial;
    }
    Parsed::Complete {
        status,
        body: head..head + length,
        len: head + length,
        close,
    }
}

#[derive(serde::Deserialize)]
struct Head<'a> {
    #[serde(borrow)]
    result: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    refusal: Option<std::borrow::Cow<'a, str>>,
}

/// What an answer says: a non-2xx status is a failure; a 2xx body is a
/// `Response`, read only as far as its `result` tag (which serde writes
/// first) unless it is a refusal.
pub fn classify(status: u16, body: &[u8]) -> Answer {
    if !(200..300).contains(&status) {
        return Answer::Failed(format!("http_{status}"));
    }
    const TAG: &[u8] = br#"{"result":""#;
    if let Some(rest) = body.strip_prefix(TAG) {
        if let Some(end) = rest.iter().position(|&b| b == b'"') {
            match &rest[..end] {
                b"busy" => return Answer::Busy,
                b"refused" => {}
                _ => return Answer::Ok,
            }
        }
    }
    match serde_json::from_slice::<Head>(body) {
        Err(_) => Answer::Failed("unreadable".into()),
        Ok(h) if h.result == "busy" => Answer::Busy,
        Ok(h) if h.result == "refused" => {
            Answer::Refused(h.refusal.map_or_else(|| "other".into(), |r| r.into_owned()))
        }
        Ok(_) => Answer::Ok,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcsim_platform::api::{CodeId, Credential, DeciCelsius, Place, CHECKPOINT_KINDS};
    use hcsim_platform::{Issuer, ProvinceId};

    fn code() -> CodeId {
        CodeId {
            issuer: Issuer::Province(ProvinceId(3)),
            serial: 42,
            token: Default::default(),
        }
    }

    /// What the server's parser reads back from the written request.
    fn round_trip(req: &Request) -> (String, Vec<u8>) {
        let now = Minute::parse("2020-10-01T08:07").unwrap();
        let mut w = RequestWriter::new("127.0.0.1:9");
        let mut out = Vec::new();
        w.write(&mut out, req, now).unwrap();
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut parsed = httparse::Request::new(&mut headers);
        let head = match parsed.parse(&out).unwrap() {
            httparse::Status::Complete(n) => n,
            httparse::Status::Partial => panic!("partial request"),
        };
        let length: usize = parsed
            .headers
            .iter()
            .find(|h| h.name == "Content-Length")
            .map(|h| std::str::from_utf8(h.value).unwrap().parse().unwrap())
            .unwrap();
        assert_eq!(out.len(), head + length, "one request, nothing more");
        (parsed.path.unwrap().to_string(), out[head..].to_vec())
    }

    #[test]
    fn written_requests_parse_back_to_the_same_request_and_minute() {
        let now = Some(Minute::parse("2020-10-01T08:07").unwrap());
        let requests = [
            Request::Verify {
                credential: Credential::Code(code()),
                place: Place {
                    county: hcsim_platform::api::CountyRef {
                        province: ProvinceId(3),
                        county: 7,
                    },
                    kind: CHECKPOINT_KINDS[1],
                },
                temperature: Some(DeciCelsius(365)),
            },
            Request::Query { code: code() },
            Request::Declare {
                code: code(),
                temperature: DeciCelsius::NORMAL,
                symptoms: false,
                contact: true,
            },
            Request::Records { code: code() },
        ];
        for req in requests {
            let (path, body) = round_trip(&req);
            let (_, parse) = hcsim_adapters::http::server::ENDPOINTS
                .iter()
                .find(|(p, _)| *p == path)
                .unwrap_or_else(|| panic!("no endpoint {path}"));
            assert_eq!(parse(&body).unwrap(), (now, req.clone()), "{path}");
        }
    }

    #[test]
    fn answers_are_found_whole_or_asked_for_more() {
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 17\r\n\r\n{\"result\":\"busy\"}X";
        let Parsed::Complete {
            status, body, len, ..
        } = parse_response(ok)
        else {
            panic!("{:?}", parse_response(ok))
        };
        assert_eq!((status, len), (200, ok.len() - 1));
        assert_eq!(classify(status, &ok[body]), Answer::Busy);
        // Head cut short, then body cut short.
        assert_eq!(parse_response(&ok[..30]), Parsed::Partial);
        assert_eq!(parse_response(&ok[..50]), Parsed::Partial);
        assert_eq!(
            parse_response(b"garbage\r\n\r\n"),
            Parsed::Invalid("protocol")
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"),
            Parsed::Invalid("unsupported_encoding")
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\n\r\n"),
            Parsed::Invalid("no_length")
        );
        let close = b"HTTP/1.1 500 Oops\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        assert!(matches!(
            parse_response(close),
            Parsed::Complete {
                status: 500,
                close: true,
                ..
            }
        ));
    }

    #[test]
    fn bodies_are_classified_by_their_result() {
        assert_eq!(
            classify(200, br#"{"result":"verdict","pass":true}"#),
            Answer::Ok
        );
        assert_eq!(
            classify(200, br#"{"result":"refused","refusal":"unknown_code"}"#),
            Answer::Refused("unknown_code".into())
        );
        assert_eq!(classify(503, b"{}"), Answer::Failed("http_503".into()));
        assert_eq!(
            classify(200, b"not json"),
            Answer::Failed("unreadable".into())
        );
        // Key order is serde's, but a reordered body still reads.
        assert_eq!(classify(200, br#"{"x":1,"result":"busy"}"#), Answer::Busy);
    }
}
