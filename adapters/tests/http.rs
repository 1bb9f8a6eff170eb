//! The HTTP server and client: same answers as `Direct`, clear 400s.

use super::*;
use bytes::Bytes;
use hcsim_adapters::http::body::encode;
use hcsim_adapters::http::server::ENDPOINTS;
use hcsim_adapters::http::wire::decode_response;
use hcsim_adapters::http::{HttpClient, HttpError, Server};
use hcsim_adapters::{Direct, Platform};
use hyper::{Method, StatusCode};
use std::sync::Arc;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(20);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn serve() -> Server {
    let addr = "127.0.0.1:0".parse().unwrap();
    Server::bind(addr, Arc::new(direct()), at("2020-10-01T00:00"))
        .await
        .unwrap()
}

#[test]
fn http_client_answers_exactly_like_direct() {
    runtime().block_on(async {
        let server = serve().await;
        let mut client = HttpClient::new(&format!("http://{}", server.local_addr()))
            .unwrap()
            .with_timeout(TIMEOUT);
        let mut local: Direct = direct();

        let t0 = at("2020-10-01T07:00");
        let remote_regs = client.exchange(t0, registrations()).await.unwrap();
        let local_regs = local.exchange(t0, registrations()).await.unwrap();
        assert_eq!(remote_regs, local_regs);
        let codes = codes_of(&local_regs);
        for now in [at("2020-10-01T08:00"), at("2020-10-02T08:00")] {
            let remote = client.exchange(now, busy_tick(&codes)).await.unwrap();
            let local = local.exchange(now, busy_tick(&codes)).await.unwrap();
            for (i, (r, l)) in remote.iter().zip(&local).enumerate() {
                assert_eq!(r, l, "request {i}");
            }
            assert_eq!(remote.len(), local.len());
            assert!(remote
                .iter()
                .any(|r| matches!(r, Response::Verdict(v) if v.via_hub)));
        }
        let now = at("2020-10-02T09:00");
        assert_eq!(
            client.census(now).await.unwrap(),
            local.census(now).await.unwrap()
        );
        server.shutdown().await;
    });
}

async fn post(
    conn: &mut hcsim_adapters::http::Connection,
    path: &str,
    body: &str,
) -> Result<serde_json::Value, HttpError> {
    let bytes = conn
        .request(Method::POST, path, Bytes::from(body.to_string()), TIMEOUT)
        .await?;
    Ok(serde_json::from_slice(&bytes).unwrap())
}

fn status_of(r: Result<serde_json::Value, HttpError>) -> (u16, String) {
    match r {
        Err(HttpError::Status { status, message }) => (status.as_u16(), message),
        other => panic!("expected an HTTP error, got {other:?}"),
    }
}

const PLACE: &str = r#"{"county":{"province":0,"county":0},"kind":"mall"}"#;

#[test]
fn single_endpoints_serve_and_bad_input_gets_400_naming_the_field() {
    runtime().block_on(async {
        let server = serve().await;
        let mut conn = hcsim_adapters::http::Connection::new(server.local_addr()).unwrap();

        // Register, verify, query through the per-operation endpoints.
        let issued = post(
            &mut conn,
            "/v1/code/apply",
            r#"{"province":"beijing","identity":{"doc":"id_card","number":11010119800101123,"name":65793,"age":40},"face_verified":true,"now":"2020-10-01T08:00"}"#,
        )
        .await
        .unwrap();
        assert_eq!(issued["result"], "issued", "{issued}");
        let code = issued["code"].to_string();
        let verdict = post(
            &mut conn,
            "/v1/code/verify",
            &format!(r#"{{"credential":{{"code":{code}}},"place":{PLACE},"temperature":365}}"#),
        )
        .await
        .unwrap();
        assert_eq!(verdict["result"], "verdict", "{verdict}");
        assert_eq!(verdict["decision"], "pass", "{verdict}");
        let shown = verdict["holder"]["document"].as_str().unwrap();
        assert!(hcsim_platform::identity::is_masked_document(shown), "{shown}");
        assert!(!verdict.to_string().contains("11010119800101123"));
        let health = post(&mut conn, "/v1/health-info/query", &format!(r#"{{"code":{code}}}"#))
            .await
            .unwrap();
        assert_eq!(health["result"], "health");

        // Bad input: 400 with the field named.
        let cases: [(&str, String, &str); 7] = [
            (
                "/v1/code/verify",
                format!(r#"{{"credential":{{"code":{{"issuer":{{"province":0}},"serial":"x"}}}},"place":{PLACE}}}"#),
                "credential.code.serial",
            ),
            ("/v1/code/verify", format!(r#"{{"place":{PLACE}}}"#), "credential"),
            (
                "/v1/declaration",
                format!(r#"{{"code":{code},"temperature":365,"symptoms":false,"contact":false,"now":"yesterday"}}"#),
                "now",
            ),
            ("/v1/health-info/query", format!(r#"{{"code":{code},"colour":"red"}}"#), "colour"),
            ("/v1/code/apply", r#"{"province":"atlantis"}"#.into(), "province"),
            ("/v1/batch", format!(r#"{{"requests":[{{"op":"query","code":{code}}},{{"op":"fly"}}]}}"#), "requests[1].op"),
            ("/v1/feed", r#"{"to":"hubei","feed":{"feed":"stay"}}"#.into(), "feed.person"),
        ];
        for (path, body, field) in cases {
            let (status, message) = status_of(post(&mut conn, path, &body).await);
            assert_eq!(status, 400, "{path} {body}: {message}");
            assert!(message.contains(&format!("field `{field}`")), "{path}: {message}");
        }
        let (status, message) = status_of(post(&mut conn, "/v1/code/verify", "{not json").await);
        assert_eq!(status, 400);
        assert!(message.contains("not valid JSON"), "{message}");

        let (status, _) = status_of(post(&mut conn, "/v1/nowhere", "{}").await);
        assert_eq!(status, 404);
        let r = conn.request(Method::GET, "/v1/code/verify", Bytes::new(), TIMEOUT).await;
        assert!(matches!(r, Err(HttpError::Status { status: StatusCode::METHOD_NOT_ALLOWED, .. })));
        let health = conn.request(Method::GET, "/healthz", Bytes::new(), TIMEOUT).await.unwrap();
        assert_eq!(&health[..], br#"{"status":"ok"}"#);

        // Requests without `now` are served at the latest stored time.
        let census = conn.request(Method::GET, "/v1/census", Bytes::new(), TIMEOUT).await.unwrap();
        let census: serde_json::Value = serde_json::from_slice(&census).unwrap();
        assert_eq!(census["now"], "2020-10-01T08:00");
        assert_eq!(census["provinces"][0]["province"], "beijing");
        assert_eq!(census["provinces"][0]["green"], 1);
        server.shutdown().await;
    });
}

#[test]
fn client_refuses_non_loopback_targets() {
    assert!(HttpClient::new("http://192.168.1.1:80").is_err());
    assert!(hcsim_adapters::http::Connection::new("10.1.2.3:80".parse().unwrap()).is_err());
}

#[test]
fn per_operation_endpoints_answer_like_direct() {
    runtime().block_on(async {
        let server = serve().await;
        let mut conn = hcsim_adapters::http::Connection::new(server.local_addr()).unwrap();
        let local = direct();
        let mut via_http = Vec::new();
        let mut via_direct = Vec::new();
        let regs = registrations();
        let t0 = at("2020-10-01T07:00");
        for req in &regs {
            let (path, body) = encode(req, Some(t0)).unwrap();
            via_http.push(decode_response(&conn.post(path, body, TIMEOUT).await.unwrap()).unwrap());
            via_direct.push(local.handle(t0, req));
        }
        let codes = codes_of(&via_direct);
        let now = at("2020-10-01T08:00");
        for req in busy_tick(&codes) {
            let (path, body) = encode(&req, Some(now)).unwrap();
            let reply = conn.post(path, body, TIMEOUT).await.unwrap();
            via_http.push(decode_response(&reply).unwrap());
            via_direct.push(local.handle(now, &req));
        }
        assert_eq!(via_http, via_direct);
        server.shutdown().await;
    });
}

#[test]
fn every_request_round_trips_through_its_endpoint_body() {
    let codes = codes_of(&direct().handle_batch(at("2020-10-01T07:00"), &registrations()));
    let now = at("2020-10-01T08:00");
    for req in registrations().into_iter().chain(busy_tick(&codes)) {
        let (path, body) = encode(&req, Some(now)).unwrap();
        let (_, parse) = ENDPOINTS.iter().find(|(p, _)| *p == path).unwrap();
        assert_eq!(parse(&body).unwrap(), (Some(now), req), "{path}");
    }
}

#[test]
fn hostile_bodies_get_400s_that_name_the_field_and_echo_no_identity_number() {
    runtime().block_on(async {
        let server = serve().await;
        let mut conn = hcsim_adapters::http::Connection::new(server.local_addr()).unwrap();
        let cases: [(&str, &str, &str); 5] = [
            // A province past the last one once panicked the platform.
            (
                "/v1/health-info/query",
                r#"{"code":{"issuer":{"province":255},"serial":0,"token":"0000000000000000"}}"#,
                "field `code.issuer.province`: province index 255 is out of range 0..=30",
            ),
            (
                "/v1/code/verify",
                r#"{"credential":{"code":{"issuer":{"province":1},"serial":0,"token":"0000000000000000"}},"place":{"county":{"province":31,"county":0},"kind":"mall"}}"#,
                "field `place.county.province`",
            ),
            (
                "/v1/batch",
                r#"{"requests":[{"op":"query","code":{"issuer":{"province":200},"serial":0,"token":"0000000000000000"}}]}"#,
                "province index 200 is out of range",
            ),
            // A valid body followed by more is not one body.
            (
                "/v1/health-info/query",
                r#"{"code":{"issuer":{"province":1},"serial":0,"token":"0000000000000000"}}garbage"#,
                "trailing characters",
            ),
            (
                "/v1/code/apply",
                r#"{"province":"beijing","identity":{"doc":"id_card","number":"11010119800101123X","name":1,"age":40},"face_verified":true}"#,
                "field `identity.number`",
            ),
        ];
        for (path, body, want) in cases {
            let (status, message) = status_of(post(&mut conn, path, body).await);
            assert_eq!(status, 400, "{path} {body}: {message}");
            assert!(message.contains(want), "{path}: {message}");
            assert!(!message.contains("1101011980"), "{path}: {message}");
        }
        // The server is still up and still answers.
        let health = conn.request(Method::GET, "/healthz", Bytes::new(), TIMEOUT).await.unwrap();
        assert_eq!(&health[..], br#"{"status":"ok"}"#);
        server.shutdown().await;
    });
}

#[test]
fn a_requests_now_is_its_own_and_stored_time_never_goes_back() {
    runtime().block_on(async {
        let server = serve().await;
        let mut conn = hcsim_adapters::http::Connection::new(server.local_addr()).unwrap();
        let addr = server.local_addr();
        let census = |q: &'static str| async move {
            let mut c = hcsim_adapters::http::Connection::new(addr).unwrap();
            c.request(Method::GET, &format!("/v1/census{q}"), Bytes::new(), TIMEOUT)
                .await
        };
        // Far outside the window: refused, and the clock did not move.
        for q in ["?now=9999-12-31T23:59", "?now=2020-09-30T23:59", "?now=2021-10-03T00:00"] {
            match census(q).await {
                Err(HttpError::Status { status, message }) => {
                    assert_eq!(status, StatusCode::BAD_REQUEST, "{q}");
                    assert!(message.contains("field `now`") && message.contains("outside the server's window"), "{message}");
                }
                other => panic!("{q}: {other:?}"),
            }
        }
        // Within the window: a read at its own time that moves nothing.
        let read: serde_json::Value =
            serde_json::from_slice(&census("?now=2020-12-31T00:00").await.unwrap()).unwrap();
        assert_eq!(read["now"], "2020-12-31T00:00");
        let read: serde_json::Value = serde_json::from_slice(&census("").await.unwrap()).unwrap();
        assert_eq!(read["now"], "2020-10-01T00:00", "a read moved the clock");

        let issued = post(
            &mut conn,
            "/v1/code/apply",
            r#"{"province":"beijing","identity":{"doc":"id_card","number":11010119800101123,"name":65793,"age":40},"face_verified":true,"now":"2020-10-01T09:00"}"#,
        )
        .await
        .unwrap();
        let code = issued["code"].to_string();
        // A write dated before what is stored is stored at the latest time.
        post(
            &mut conn,
            "/v1/declaration",
            &format!(r#"{{"code":{code},"temperature":365,"symptoms":false,"contact":false,"now":"2020-10-01T08:00"}}"#),
        )
        .await
        .unwrap();
        let (status, message) = status_of(
            post(
                &mut conn,
                "/v1/declaration",
                &format!(r#"{{"code":{code},"temperature":365,"symptoms":false,"contact":false,"now":"9999-12-31T23:59"}}"#),
            )
            .await,
        );
        assert_eq!(status, 400, "{message}");
        let records = post(&mut conn, "/v1/records", &format!(r#"{{"code":{code}}}"#))
            .await
            .unwrap();
        let times: Vec<u64> = records["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["at"].as_u64().unwrap())
            .collect();
        let nine = u64::from(at("2020-10-01T09:00").0);
        assert!(times.len() >= 2, "{records}");
        assert!(times.iter().all(|t| *t == nine), "{records}");
        server.shutdown().await;
    });
}
