//! The HTTP server: a `Direct` platform behind a JSON API (hyper, HTTP/1.1
//! with keep-alive). Endpoints are listed in `ENDPOINTS` and the README.
//!
//! Platform calls are microseconds long and take only per-province locks,
//! so they run inline on the runtime's workers rather than on a blocking
//! pool: a hand-off would cost more than the call.
//!
//! Hostile or careless clients are bounded by `Limits`: connections past
//! the cap get the overflow service (`/healthz` answered, the rest `503`),
//! heads and idle connections time out, bodies time out and are held
//! against one byte budget for the whole server.

use super::body::{self, Body, BodyError};
use super::limits::{BodyBudget, BodyRefusal, Buffered, Limits};
use super::wire::{CensusReply, CensusRow, CountersReply};
use crate::direct::Direct;
use bytes::Bytes;
use hcsim_platform::api::{Request, Response};
use hcsim_platform::{Minute, ProvinceId};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Serialize;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

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

/// Builds a fresh platform: what `POST /v1/reset` swaps in.
pub type MakePlatform = Arc<dyn Fn() -> Direct + Send + Sync>;

struct State {
    /// The platform requests are served by; a reset swaps it whole, and a
    /// request already running finishes on the one it started with.
    platform: RwLock<Arc<Direct>>,
    /// Set when the server was started to allow `POST /v1/reset`.
    reset: Option<MakePlatform>,
    limits: Limits,
    budget: BodyBudget,
    clock: Clock,
}

/// The server's virtual time. A request's `now` is the time of that
/// request only; what it stores is never dated before what is stored
/// already, and a `now` outside the window is refused, so one client
/// cannot move time for the others.
struct Clock {
    first: Minute,
    last: Minute,
    /// The latest time anything was stored at: requests without `now` are
    /// served at it.
    stored: AtomicU32,
}

impl State {
    fn platform(&self) -> Arc<Direct> {
        self.platform
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Clock {
    fn new(start: Minute, window_days: u32) -> Clock {
        Clock {
            first: start,
            last: start.plus_days(window_days),
            stored: AtomicU32::new(start.0),
        }
    }

    fn within(&self, m: Minute) -> Result<Minute, BodyError> {
        if self.first <= m && m <= self.last {
            Ok(m)
        } else {
            Err(BodyError {
                field: "now".into(),
                message: format!(
                    "{m} is outside the server's window {} → {}",
                    self.first, self.last
                ),
            })
        }
    }

    fn restart(&self) {
        self.stored.store(self.first.0, Ordering::Relaxed);
    }

    /// The time a read is served at: its own `now`, else the latest stored.
    fn read_at(&self, given: Option<Minute>) -> Result<Minute, BodyError> {
        match given {
            Some(m) => self.within(m),
            None => Ok(Minute(self.stored.load(Ordering::Relaxed))),
        }
    }

    /// The time a request that may store something is served at: its own
    /// `now`, raised to the latest stored time if it is earlier (records
    /// never go back in time), else the latest stored time.
    fn write_at(&self, given: Option<Minute>) -> Result<Minute, BodyError> {
        let wanted = self.read_at(given)?.0;
        let before = self.stored.fetch_max(wanted, Ordering::Relaxed);
        Ok(Minute(wanted.max(before)))
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
    /// tokio runtime with the default `Limits`. The virtual clock starts at
    /// `start`.
    pub async fn bind(
        addr: SocketAddr,
        platform: Arc<Direct>,
        start: Minute,
    ) -> std::io::Result<Server> {
        Server::bind_with(addr, platform, start, Limits::default()).await
    }

    /// `bind` with the given bounds; a `now` is accepted from `start` to
    /// `limits.window_days` after it.
    pub async fn bind_with(
        addr: SocketAddr,
        platform: Arc<Direct>,
        start: Minute,
        limits: Limits,
    ) -> std::io::Result<Server> {
        Server::start(addr, platform, None, start, limits).await
    }

    /// `bind_with` a platform made by `make`, which `POST /v1/reset` calls
    /// again to start over (`hcsim serve --allow-reset`).
    pub async fn bind_resettable(
        addr: SocketAddr,
        make: MakePlatform,
        start: Minute,
        limits: Limits,
    ) -> std::io::Result<Server> {
        let platform = Arc::new(make());
        Server::start(addr, platform, Some(make), start, limits).await
    }

    async fn start(
        addr: SocketAddr,
        platform: Arc<Direct>,
        reset: Option<MakePlatform>,
        start: Minute,
        limits: Limits,
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
            platform: RwLock::new(platform),
            reset,
            budget: BodyBudget::new(limits.body_budget),
            clock: Clock::new(start, limits.window_days),
            limits,
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
    let served = Arc::new(Semaphore::new(state.limits.max_connections));
    let overflow = Arc::new(Semaphore::new(state.limits.max_overflow));
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
        if let Ok(permit) = served.clone().try_acquire_owned() {
            tokio::spawn(serve_connection(
                stream,
                state.clone(),
                permit,
                stopped.clone(),
            ));
        } else if let Ok(permit) = overflow.clone().try_acquire_owned() {
            tokio::spawn(serve_overflow(stream, state.limits.clone(), permit));
        } else {
            tokio::spawn(refuse_unread(stream));
        }
    }
}

/// A connection within the cap, served until it closes, times out or the
/// server stops; its permit goes back when it ends.
async fn serve_connection(
    stream: TcpStream,
    state: Arc<State>,
    _permit: OwnedSemaphorePermit,
    mut stopped: watch::Receiver<bool>,
) {
    let header_timeout = state.limits.header_timeout;
    let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stopped.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Past the connection cap: one request, no keep-alive, a short deadline.
/// `/healthz` is still answered so a supervisor can tell a full server from
/// a dead one; anything else gets `503`.
async fn serve_overflow(stream: TcpStream, limits: Limits, _permit: OwnedSemaphorePermit) {
    let deadline = limits.header_timeout.min(OVERFLOW_DEADLINE);
    let service = hyper::service::service_fn(|req: hyper::Request<Incoming>| async move {
        Ok::<_, Infallible>(overflow_answer(req.method(), req.uri().path()))
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(deadline)
        .keep_alive(false)
        .serve_connection(TokioIo::new(stream), service);
    let _ = tokio::time::timeout(deadline * 2, conn).await;
}

/// How long a connection in the overflow service has to send its head.
const OVERFLOW_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

fn overflow_answer(method: &Method, path: &str) -> HttpResponse {
    if method == Method::GET && path == "/healthz" {
        return health();
    }
    closing(error(
        StatusCode::SERVICE_UNAVAILABLE,
        "",
        "too many connections; retry later",
    ))
}

/// Past the overflow service too: the connection's first bytes are peeked
/// at for a moment (a health check sends its request at once), so a
/// supervisor still tells a full server from a dead one: `GET /healthz`
/// gets `200`, anything else `503`, written without reading the request;
/// then the connection is closed. Nothing is held past the peek's bytes.
async fn refuse_unread(mut stream: TcpStream) {
    const BODY: &str = r#"{"error":"too many connections; retry later"}"#;
    const HEALTHY: &str = r#"{"status":"ok"}"#;
    let reply = if asks_health(&stream).await {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{HEALTHY}",
            HEALTHY.len()
        )
    } else {
        format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
            BODY.len()
        )
    };
    let write = stream.write_all(reply.as_bytes());
    let _ = tokio::time::timeout(OVERFLOW_DEADLINE, write).await;
    let _ = stream.shutdown().await;
}

/// How long a connection past the overflow has to show `GET /healthz`.
const HEALTH_PEEK: std::time::Duration = std::time::Duration::from_millis(100);

/// Whether the first bytes on `stream`, within `HEALTH_PEEK`, are a
/// `GET /healthz` request line; they are peeked, not read.
async fn asks_health(stream: &TcpStream) -> bool {
    const LINE: &[u8] = b"GET /healthz ";
    let mut head = [0u8; LINE.len()];
    let peek = async {
        loop {
            match stream.peek(&mut head).await {
                Ok(n) if n == LINE.len() => return head == *LINE,
                Ok(n) if n > 0 && LINE.starts_with(&head[..n]) => {
                    // Part of the line so far: wait for the rest.
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
                _ => return false,
            }
        }
    };
    tokio::time::timeout(HEALTH_PEEK, peek)
        .await
        .unwrap_or(false)
}

fn health() -> HttpResponse {
    json(StatusCode::OK, br#"{"status":"ok"}"#.to_vec())
}

/// Tells the client, and hyper, that the connection ends with this answer:
/// a body left unread cannot be skipped to reach the next request.
fn closing(mut r: HttpResponse) -> HttpResponse {
    r.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    r
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

async fn read_body(
    state: &State,
    headers: &hyper::HeaderMap,
    body: Incoming,
    limit: usize,
) -> Result<Buffered, HttpResponse> {
    let announced = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let timeout = state.limits.body_timeout;
    let refusal = match state.budget.read(body, announced, limit, timeout).await {
        Ok(b) => return Ok(b),
        Err(r) => r,
    };
    let (status, message) = match refusal {
        BodyRefusal::TooLarge { limit } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body is larger than {limit} bytes"),
        ),
        BodyRefusal::OverBudget { budget } => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the server holds its budget of {budget} bytes of request bodies; retry later"),
        ),
        BodyRefusal::TimedOut { after } => (
            StatusCode::REQUEST_TIMEOUT,
            format!("the body did not arrive within {} s", after.as_secs_f64()),
        ),
        BodyRefusal::Broken(e) => (StatusCode::BAD_REQUEST, format!("could not read body: {e}")),
    };
    Err(closing(error(status, "", &message)))
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
    Counters,
    Reset,
    Batch,
    Single(Parser),
    Unknown,
}

fn target(path: &str) -> Target {
    match path {
        "/healthz" => Target::Health,
        "/v1/census" => Target::Census,
        "/v1/hub/counters" => Target::Counters,
        "/v1/reset" => Target::Reset,
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
        (&Method::GET, Target::Health) => health(),
        (&Method::GET, Target::Census) => match body::now_from_query(parts.uri.query()) {
            Err(e) => bad_request(&e),
            Ok(given) => census(&state, given),
        },
        (&Method::GET, Target::Counters) => counters(&state),
        (&Method::POST, Target::Reset) => reset(&state),
        (&Method::POST, Target::Batch) => {
            match read_body(&state, &parts.headers, body, state.limits.batch_body_max).await {
                Err(r) => r,
                Ok(b) => batch(&state, &b.bytes),
            }
        }
        (&Method::POST, Target::Single(parse)) => {
            match read_body(&state, &parts.headers, body, state.limits.single_body_max).await {
                Err(r) => r,
                Ok(b) => match parse(&b.bytes) {
                    Err(e) => bad_request(&e),
                    Ok((given, request)) => match state.clock.write_at(given) {
                        Err(e) => bad_request(&e),
                        Ok(now) => ok(&state.platform().handle(now, &request)),
                    },
                },
            }
        }
        (m, Target::Health | Target::Census | Target::Counters) => {
            method_not_allowed(m, path, "GET")
        }
        (m, Target::Batch | Target::Single(_) | Target::Reset) => {
            method_not_allowed(m, path, "POST")
        }
        (m, Target::Unknown) => error(
            StatusCode::NOT_FOUND,
            "",
            &format!("no endpoint {m} {path}; see the README's HTTP API section"),
        ),
    };
    Ok(response)
}

fn census(state: &State, given: Option<Minute>) -> HttpResponse {
    let now = match state.clock.read_at(given) {
        Ok(now) => now,
        Err(e) => return bad_request(&e),
    };
    let provinces = state
        .platform()
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
    let parsed = body::parse::<body::BatchBody>(bytes).and_then(|b| {
        let given = body::parse_now(b.now.as_deref())?;
        Ok((state.clock.write_at(given)?, b.requests))
    });
    match parsed {
        Err(e) => bad_request(&e),
        Ok((now, requests)) => {
            let responses = state.platform().handle_batch(now, &requests);
            ok(&BatchOut {
                now: now.to_string(),
                responses: &responses,
            })
        }
    }
}

fn counters(state: &State) -> HttpResponse {
    let platform = state.platform();
    ok(&CountersReply {
        registered: platform.registered() as u64,
        hub: platform.hub_counters(),
    })
}

/// Starts over with a fresh platform and the clock at the start: only on a
/// server started for it, so a shared server cannot be wiped by accident.
fn reset(state: &State) -> HttpResponse {
    let Some(make) = &state.reset else {
        return error(
            StatusCode::FORBIDDEN,
            "",
            "this server was not started with --allow-reset",
        );
    };
    let fresh = Arc::new(make());
    *state.platform.write().unwrap_or_else(|e| e.into_inner()) = fresh;
    state.clock.restart();
    json(StatusCode::OK, br#"{"status":"reset"}"#.to_vec())
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
