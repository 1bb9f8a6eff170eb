//! The HTTP server: a `Direct` platform behind a JSON API (hyper, HTTP/1.1
//! with keep-alive). Endpoints are listed in `ENDPOINTS` and the README.
//!
//! Platform calls are microseconds long and take only per-province locks,
//! so they run inline on the runtime's workers rather than on a blocking
//! pool: a hand-off would cost more than the call.

use super::body::{self, Body, BodyError};
use super::wire::{CensusReply, CensusRow};
use crate::direct::Direct;
use bytes::Bytes;
use hcsim_platform::api::{Request, Response};
use hcsim_platform::{Minute, ProvinceId};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Largest body of a single-request endpoint.
pub const SINGLE_BODY_MAX: usize = 64 * 1024;
/// Largest `/v1/batch` body: a national tick-0 registration burst at
/// population_scale 0.001 is ~1.4 M requests, about 200 MiB of JSON.
pub const BATCH_BODY_MAX: usize = 512 * 1024 * 1024;

type Parser = fn(&[u8]) -> Result<(Option<Minute>, Request), BodyError>;

fn single<B: Body>(bytes: &[u8]) -> Result<(Option<Minute>, Request), BodyError> {
    body::parse::<B>(bytes)?.into_request()
}

const fn endpoint<B: Body>() -> (&'static str, Parser) {
    (B::PATH, single::<B>)
}

/// Every `POST` endpoint answered with one `Response`.
pub const ENDPOINTS: &[(&str, Parser)] = &[
    endpoint::<body::ApplyBody>(),
    endpoint::<body::FamilyBody>(),
    endpoint::<body::DeclareBody>(),
    endpoint::<body::TemperatureBody>(),
    endpoint::<body::VerifyBody>(),
    endpoint::<body::PlaceScanBody>(),
    endpoint::<body::QueryBody>(),
    endpoint::<body::OfflineBody>(),
    endpoint::<body::RecordsBody>(),
    endpoint::<body::FeedBody>(),
    endpoint::<body::TripDeclareBody>(),
    endpoint::<body::TripStatusBody>(),
    endpoint::<body::InboundBody>(),
];

struct State {
    platform: Arc<Direct>,
    /// The virtual clock: requests without `now` are served at it, and it
    /// advances to the latest `now` any request names.
    clock: AtomicU32,
}

impl State {
    fn now(&self, given: Option<Minute>) -> Minute {
        match given {
            Some(m) => {
                self.clock.fetch_max(m.0, Ordering::Relaxed);
                m
            }
            None => Minute(self.clock.load(Ordering::Relaxed)),
        }
    }
}

/// A running server. Dropping it without `shutdown` leaves it to the
/// runtime that spawned it.
pub struct Server {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Server {
    /// Binds `addr` (loopback only) and serves `platform` on the current
    /// tokio runtime. The virtual clock starts at `start`.
    pub async fn bind(
        addr: SocketAddr,
        platform: Arc<Direct>,
        start: Minute,
    ) -> std::io::Result<Server> {
        if !addr.ip().is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "{addr} is not a loopback address: hcsim serves on 127.0.0.0/8 or ::1 only"
                ),
            ));
        }
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let state = Arc::new(State {
            platform,
            clock: AtomicU32::new(start.0),
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, state, stopped));
        Ok(Server {
            local_addr,
            stop,
            task,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, lets open connections finish their current
    /// request, and waits for the accept loop to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, mut stopped: watch::Receiver<bool>) {
    loop {
        let stream = tokio::select! {
            _ = stopped.changed() => return,
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: back off instead of
                // spinning, and keep serving the connections already open.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stopped.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
}

type HttpResponse = hyper::Response<Full<Bytes>>;

fn json(status: StatusCode, body: Vec<u8>) -> HttpResponse {
    let mut r = hyper::Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn ok<T: Serialize>(value: &T) -> HttpResponse {
    match serde_json::to_vec(value) {
        Ok(v) => json(StatusCode::OK, v),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "", &e.to_string()),
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    field: &'a str,
}

fn error(status: StatusCode, field: &str, message: &str) -> HttpResponse {
    let error = if field.is_empty() {
        message.to_string()
    } else {
        format!("field `{field}`: {message}")
    };
    let body = serde_json::to_vec(&ErrorBody { error, field }).unwrap_or_default();
    json(status, body)
}

fn bad_request(e: &BodyError) -> HttpResponse {
    error(StatusCode::BAD_REQUEST, &e.field, &e.message)
}

async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, HttpResponse> {
    match Limited::new(body, limit).collect().await {
        Ok(b) => Ok(b.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "",
            &format!("body is larger than {limit} bytes"),
        )),
        Err(e) => Err(error(
            StatusCode::BAD_REQUEST,
            "",
            &format!("could not read body: {e}"),
        )),
    }
}

#[derive(Serialize)]
struct BatchOut<'a> {
    now: String,
    responses: &'a [Response],
}

/// What a path names.
enum Target {
    Health,
    Census,
    Batch,
    Single(Parser),
    Unknown,
}

fn target(path: &str) -> Target {
    match path {
        "/healthz" => Target::Health,
        "/v1/census" => Target::Census,
        "/v1/batch" => Target::Batch,
        _ => ENDPOINTS
            .iter()
            .find(|(p, _)| *p == path)
            .map_or(Target::Unknown, |(_, f)| Target::Single(*f)),
    }
}

async fn handle(
    state: Arc<State>,
    req: hyper::Request<Incoming>,
) -> Result<HttpResponse, Infallible> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path();
    let response = match (&parts.method, target(path)) {
        (&Method::GET, Target::Health) => json(StatusCode::OK, br#"{"status":"ok"}"#.to_vec()),
        (&Method::GET, Target::Census) => match body::now_from_query(parts.uri.query()) {
            Err(e) => bad_request(&e),
            Ok(given) => census(&state, given),
        },
        (&Method::POST, Target::Batch) => match read_body(body, BATCH_BODY_MAX).await {
            Err(r) => r,
            Ok(bytes) => batch(&state, &bytes),
        },
        (&Method::POST, Target::Single(parse)) => match read_body(body, SINGLE_BODY_MAX).await {
            Err(r) => r,
            Ok(bytes) => match parse(&bytes) {
                Err(e) => bad_request(&e),
                Ok((given, request)) => ok(&state.platform.handle(state.now(given), &request)),
            },
        },
        (m, Target::Health | Target::Census) => method_not_allowed(m, path, "GET"),
        (m, Target::Batch | Target::Single(_)) => method_not_allowed(m, path, "POST"),
        (m, Target::Unknown) => error(
            StatusCode::NOT_FOUND,
            "",
            &format!("no endpoint {m} {path}; see the README's HTTP API section"),
        ),
    };
    Ok(response)
}

fn census(state: &State, given: Option<Minute>) -> HttpResponse {
    let now = state.now(given);
    let provinces = state
        .platform
        .color_census(now)
        .into_iter()
        .zip(ProvinceId::all())
        .map(|(c, p)| CensusRow::new(p.key(), c))
        .collect();
    ok(&CensusReply {
        now: now.to_string(),
        provinces,
    })
}

fn batch(state: &State, bytes: &[u8]) -> HttpResponse {
    let parsed = body::parse::<body::BatchBody>(bytes)
        .and_then(|b| Ok((body::parse_now(b.now.as_deref())?, b.requests)));
    match parsed {
        Err(e) => bad_request(&e),
        Ok((given, requests)) => {
            let now = state.now(given);
            let responses = state.platform.handle_batch(now, &requests);
            ok(&BatchOut {
                now: now.to_string(),
                responses: &responses,
            })
        }
    }
}

fn method_not_allowed(m: &Method, path: &str, allowed: &'static str) -> HttpResponse {
    let mut r = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "",
        &format!("{m} is not allowed on {path}; use {allowed}"),
    );
    r.headers_mut()
        .insert(hyper::header::ALLOW, HeaderValue::from_static(allowed));
    r
}
