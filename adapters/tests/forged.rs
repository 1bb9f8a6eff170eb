//! Forged and altered codes on every way in: `Direct` one request at a
//! time and by batch, the in-process platform, the HTTP client, and a raw HTTP
//! client counting serials upwards.

use super::*;
use bytes::Bytes;
use hcsim_adapters::http::{HttpClient, Server};
use hcsim_adapters::{InProcess, Platform};
use hcsim_platform::api::Refusal;
use hcsim_platform::{Issuer, Token};
use hyper::Method;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(20);

fn forged(code: CodeId) -> CodeId {
    CodeId {
        token: Token(code.token.0 ^ 0x8000_0000_0000_0001),
        ..code
    }
}

/// Runs `test` against `direct()` served over HTTP on loopback, then stops
/// the server.
fn served(test: impl AsyncFnOnce(std::net::SocketAddr)) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let server = Server::bind(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(direct()),
            at("2020-10-01T00:00"),
        )
        .await
        .unwrap();
        test(server.local_addr()).await;
        server.shutdown().await;
    });
}

fn national_apply() -> Request {
    Request::Apply {
        province: province("beijing"),
        identity: person(province("beijing"), 0),
        face_verified: true,
        national: true,
    }
}

/// Each request whose code the platform's keys (the default ones here) do
/// not sign is refused as forged; the same tick with genuine codes has no
/// such refusal.
fn assert_forged_refused(requests: &[Request], genuine: &[Response], forged: &[Response]) {
    let keys = hcsim_platform::CodeKeys::default();
    assert_eq!(genuine.len(), forged.len());
    let mut refused = 0;
    for ((req, g), f) in requests.iter().zip(genuine).zip(forged) {
        assert_ne!(g, &Response::Refused(Refusal::ForgedCode), "{req:?}");
        if req.code().is_some_and(|c| !keys.signs(&c)) {
            assert_eq!(f, &Response::Refused(Refusal::ForgedCode), "{req:?}");
            refused += 1;
        } else {
            assert_ne!(f, &Response::Refused(Refusal::ForgedCode), "{req:?}");
        }
    }
    assert!(
        refused >= 40,
        "only {refused} requests presented a forged code"
    );
}

/// A run through `platform`: registrations, a national code, then the busy
/// tick with every code forged, then with the genuine codes.
async fn forged_then_genuine(platform: &mut impl Platform) {
    let regs = platform
        .exchange(at("2020-10-01T07:00"), registrations())
        .await
        .unwrap();
    let codes = codes_of(&regs);
    let national = platform
        .exchange(at("2020-10-01T07:00"), vec![national_apply()])
        .await
        .unwrap();
    let national = codes_of(&national)[0];
    assert_eq!(national.issuer, Issuer::National);
    let tick = |codes: &[CodeId], national: CodeId| {
        let mut t = busy_tick(codes);
        t.push(Request::Query { code: national });
        t.push(Request::Verify {
            credential: Credential::Code(national),
            place: place(province("hubei"), CheckpointKind::Mall),
            temperature: None,
        });
        t
    };
    let forged_codes: Vec<CodeId> = codes.iter().map(|c| forged(*c)).collect();
    let now = at("2020-10-01T08:00");
    let forged_answers = platform
        .exchange(now, tick(&forged_codes, forged(national)))
        .await
        .unwrap();
    let requests = tick(&forged_codes, forged(national));
    let genuine = platform
        .exchange(now, tick(&codes, national))
        .await
        .unwrap();
    assert_forged_refused(&requests, &genuine, &forged_answers);
}

#[test]
fn direct_refuses_forged_codes_one_by_one_and_by_batch() {
    // `exchange` is the batch path; `handle` the one-request path.
    let mut batch = direct();
    futures::executor::block_on(forged_then_genuine(&mut batch));
    let single = direct();
    let regs: Vec<Response> = registrations()
        .iter()
        .map(|r| single.handle(at("2020-10-01T07:00"), r))
        .collect();
    let codes = codes_of(&regs);
    let forged_codes: Vec<CodeId> = codes.iter().map(|c| forged(*c)).collect();
    let now = at("2020-10-01T08:00");
    let requests = busy_tick(&forged_codes);
    let forged_answers: Vec<Response> = requests.iter().map(|r| single.handle(now, r)).collect();
    let genuine: Vec<Response> = busy_tick(&codes)
        .iter()
        .map(|r| single.handle(now, r))
        .collect();
    assert_forged_refused(&requests, &genuine, &forged_answers);
}

#[test]
fn the_in_process_platform_refuses_forged_codes_including_cross_province_scans() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let mut platform = InProcess::start(Some(Arc::new(pool)), platforms(), Hub::new());
    futures::executor::block_on(forged_then_genuine(&mut platform));
}

#[test]
fn the_http_client_gets_the_forged_code_refusal_back() {
    served(async |addr| {
        let mut client = HttpClient::new(&format!("http://{addr}"))
            .unwrap()
            .with_timeout(TIMEOUT);
        forged_then_genuine(&mut client).await;
    });
}

/// Someone counting serials upwards, with every token they could try
/// without the key (none, zeros, a genuine code's token reused), on the
/// one-code endpoints, a scan in another province (through the hub) and
/// `/v1/batch`: no answer carries a holder or a color.
#[test]
fn enumerating_serials_over_http_reads_no_holder() {
    served(async |addr| {
        let mut conn = hcsim_adapters::http::Connection::new(addr).unwrap();
        let mut post = async |path: &str, body: String| {
            let bytes = conn
                .request(Method::POST, path, Bytes::from(body), TIMEOUT)
                .await;
            match bytes {
                Ok(b) => String::from_utf8(b.to_vec()).unwrap(),
                Err(e) => format!("{e}"),
            }
        };
        // Twenty holders in Anhui; the attacker knows one genuine code.
        let mut own = String::new();
        for n in 0..20 {
            let identity = serde_json::to_string(&person(province("anhui"), n)).unwrap();
            let answer = post(
                "/v1/code/apply",
                format!(r#"{{"province":"anhui","identity":{identity},"face_verified":true}}"#),
            )
            .await;
            assert!(answer.contains("issued"), "{answer}");
            if n == 0 {
                let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
                own = v["code"]["token"].as_str().unwrap().to_string();
            }
        }
        let anhui = province("anhui").index();
        let refusal = serde_json::to_value(Response::Refused(Refusal::ForgedCode)).unwrap();
        let mut tried = 0;
        for serial in 1..40u32 {
            for token in ["0000000000000000", own.as_str(), "ffffffffffffffff"] {
                let code = format!(
                    r#"{{"issuer":{{"province":{anhui}}},"serial":{serial},"token":"{token}"}}"#
                );
                let place = |p: &str| {
                    let p = province(p).index();
                    format!(r#"{{"county":{{"province":{p},"county":0}},"kind":"mall"}}"#)
                };
                let answers = [
                    post("/v1/health-info/query", format!(r#"{{"code":{code}}}"#)).await,
                    post("/v1/code/offline", format!(r#"{{"code":{code}}}"#)).await,
                    post("/v1/records", format!(r#"{{"code":{code}}}"#)).await,
                    post(
                        "/v1/code/verify",
                        format!(
                            r#"{{"credential":{{"code":{code}}},"place":{}}}"#,
                            place("anhui")
                        ),
                    )
                    .await,
                    post(
                        "/v1/code/verify",
                        format!(
                            r#"{{"credential":{{"code":{code}}},"place":{}}}"#,
                            place("hubei")
                        ),
                    )
                    .await,
                ];
                for a in answers {
                    let v: serde_json::Value =
                        serde_json::from_str(&a).unwrap_or_else(|_| panic!("{a}"));
                    assert_eq!(v, refusal, "serial {serial} token {token}: {a}");
                    tried += 1;
                }
                let batch = post(
                    "/v1/batch",
                    format!(r#"{{"requests":[{{"op":"query","code":{code}}}]}}"#),
                )
                .await;
                assert!(
                    batch.contains("forged_code")
                        && !batch.contains("holder")
                        && !batch.contains("color"),
                    "{batch}"
                );
            }
        }
        assert_eq!(tried, 39 * 3 * 5);
        // The one genuine code still reads its own holder.
        let genuine = post(
            "/v1/health-info/query",
            format!(r#"{{"code":{{"issuer":{{"province":{anhui}}},"serial":0,"token":"{own}"}}}}"#),
        )
        .await;
        assert!(
            genuine.contains("holder") && genuine.contains("green"),
            "{genuine}"
        );
    });
}

/// An offline code saved over HTTP and edited before it is shown (its
/// saved minute moved on, its color changed, its seal guessed) is refused as
/// forged by its issuer and, through the hub, in another province; shown as
/// saved it gets a verdict in both.
#[test]
fn an_offline_code_edited_over_http_is_refused_as_forged() {
    served(async |addr| {
        let mut conn = hcsim_adapters::http::Connection::new(addr).unwrap();
        let mut post = async |path: &str, body: String| {
            let bytes = conn
                .request(Method::POST, path, Bytes::from(body), TIMEOUT)
                .await
                .unwrap();
            serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
        };
        let identity = serde_json::to_string(&person(province("anhui"), 0)).unwrap();
        let issued = post(
            "/v1/code/apply",
            format!(r#"{{"province":"anhui","identity":{identity},"face_verified":true,"now":"2020-10-01T08:00"}}"#),
        )
        .await;
        let code = issued["code"].to_string();
        let saved = post(
            "/v1/code/offline",
            format!(r#"{{"code":{code},"now":"2020-10-01T08:00"}}"#),
        )
        .await;
        assert_eq!(saved["result"], "offline_code", "{saved}");
        assert_eq!(saved["color"], "green", "{saved}");
        let seal = saved["seal"].as_str().unwrap().to_string();
        let offline = |issued: &str, color: &str, seal: &str| {
            format!(
                r#"{{"offline":{{"code":{code},"issued":{issued},"color":"{color}","seal":"{seal}"}}}}"#
            )
        };
        let saved_at = saved["issued"].to_string();
        let later = (saved["issued"].as_u64().unwrap() + 24 * 60).to_string();
        let flipped = format!("{:016x}", u64::from_str_radix(&seal, 16).unwrap() ^ 1);
        let refusal = serde_json::to_value(Response::Refused(Refusal::ForgedCode)).unwrap();
        let verify = |scanned_in: &str, credential: String, now: &str| {
            let p = province(scanned_in).index();
            format!(
                r#"{{"credential":{credential},"place":{{"county":{{"province":{p},"county":0}},"kind":"mall"}},"now":"{now}"}}"#
            )
        };
        // The server's clock only moves on: the day of saving first, in the
        // issuer's province and another.
        for scanned_in in ["anhui", "hubei"] {
            let now = "2020-10-01T09:00";
            let shown = post(
                "/v1/code/verify",
                verify(scanned_in, offline(&saved_at, "green", &seal), now),
            )
            .await;
            assert_eq!(shown["result"], "verdict", "{scanned_in}: {shown}");
            for edited in [
                offline(&saved_at, "white", &seal),
                offline(&saved_at, "green", &flipped),
            ] {
                let answer = post("/v1/code/verify", verify(scanned_in, edited.clone(), now)).await;
                assert_eq!(answer, refusal, "{scanned_in}: {edited}");
            }
        }
        // A day on, the saved code has expired; moved on a day it is forged.
        for scanned_in in ["anhui", "hubei"] {
            let now = "2020-10-02T09:00";
            let expired = post(
                "/v1/code/verify",
                verify(scanned_in, offline(&saved_at, "green", &seal), now),
            )
            .await;
            assert_eq!(
                expired,
                serde_json::to_value(Response::Refused(Refusal::OfflineExpired)).unwrap(),
                "{scanned_in}"
            );
            let kept_alive = offline(&later, "green", &seal);
            let answer = post(
                "/v1/code/verify",
                verify(scanned_in, kept_alive.clone(), now),
            )
            .await;
            assert_eq!(answer, refusal, "{scanned_in}: {kept_alive}");
        }
    });
}
