//! The HTTP client side: one keep-alive HTTP/1.1 connection (`Connection`)
//! and the `Platform` adapter over a remote `hcsim serve` (`HttpClient`).

use super::wire::{BatchReply, CensusReply, CountersReply};
use crate::port::{ColorCensus, Platform, PortError};
use bytes::Bytes;
use hcsim_platform::api::{Request, Response};
use hcsim_platform::{Minute, ProvinceId, PROVINCE_COUNT};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST};
use hyper::{Method, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use std::net::SocketAddr;
use std::time::Duration;

/// Why a request got no HTTP answer, or a non-2xx one.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("connection failed: {0}")]
    Protocol(#[from] hyper::Error),
    #[error("HTTP {status}: {message}")]
    Status { status: StatusCode, message: String },
}

impl HttpError {
    /// A short name for reports: `connect`, `timeout`, `protocol`, `http_503`.
    pub fn kind(&self) -> String {
        match self {
            HttpError::Connect { .. } => "connect".into(),
            HttpError::Timeout(_) => "timeout".into(),
            HttpError::Protocol(_) => "protocol".into(),
            HttpError::Status { status, .. } => format!("http_{}", status.as_u16()),
        }
    }
}

/// Parses `http://127.0.0.1:PORT` (or `localhost`, or `[::1]`). Anything but
/// a loopback address is refused: hcsim only ever targets this machine.
pub fn parse_target(url: &str) -> Result<SocketAddr, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("`{url}` is not an http:// URL"))?;
    let hostport = rest.trim_end_matches('/');
    let hostport = match hostport.strip_prefix("localhost:") {
        Some(port) => format!("127.0.0.1:{port}"),
        None => hostport.to_string(),
    };
    let addr: SocketAddr = hostport.parse().map_err(|_| {
        format!("`{url}` needs a literal address and a port, like http://127.0.0.1:8080")
    })?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{} is not a loopback address: hcsim only targets 127.0.0.0/8 or ::1",
            addr.ip()
        ));
    }
    Ok(addr)
}

/// One HTTP/1.1 connection, opened on first use and reopened after a
/// failure. Requests on it are sequential, as on any HTTP/1.1 connection.
pub struct Connection {
    addr: SocketAddr,
    host: HeaderValue,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Connection {
    pub fn new(addr: SocketAddr) -> Result<Connection, String> {
        if !addr.ip().is_loopback() {
            return Err(format!("{addr} is not a loopback address"));
        }
        let host = HeaderValue::from_str(&addr.to_string()).map_err(|e| e.to_string())?;
        Ok(Connection {
            addr,
            host,
            sender: None,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    async fn open(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, HttpError> {
        let mut sender = self.sender.take();
        if let Some(s) = &mut sender {
            if s.ready().await.is_err() {
                sender = None;
            }
        }
        let sender = match sender {
            Some(s) => s,
            None => self.connect().await?,
        };
        Ok(self.sender.insert(sender))
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, HttpError> {
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .map_err(|source| HttpError::Connect {
                addr: self.addr,
                source,
            })?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        // The connection's I/O runs as its own task; it ends when the
        // sender is dropped or the server closes.
        tokio::spawn(conn);
        Ok(sender)
    }

    /// `POST path` with a JSON body.
    pub async fn post(
        &mut self,
        path: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Bytes, HttpError> {
        self.request(Method::POST, path, body.into(), timeout).await
    }

    /// Sends one request and reads the whole answer, within `timeout`.
    /// Non-2xx answers are errors carrying the server's `error` text.
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, HttpError> {
        match tokio::time::timeout(timeout, self.exchange(method, path, body)).await {
            Ok(Ok(b)) => Ok(b),
            Ok(Err(e)) => {
                self.sender = None;
                Err(e)
            }
            Err(_) => {
                // A late answer would arrive on this connection and be read
                // as the next request's: start afresh.
                self.sender = None;
                Err(HttpError::Timeout(timeout))
            }
        }
    }

    async fn exchange(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<Bytes, HttpError> {
        let host = self.host.clone();
        let sender = self.open().await?;
        let mut req = hyper::Request::new(Full::new(body));
        *req.method_mut() = method;
        *req.uri_mut() = path.parse().map_err(|_| HttpError::Status {
            status: StatusCode::BAD_REQUEST,
            message: format!("bad path {path}"),
        })?;
        req.headers_mut().insert(HOST, host);
        req.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let resp = sender.send_request(req).await?;
        let status = resp.status();
        let bytes = resp.into_body().collect().await?.to_bytes();
        if status.is_success() {
            Ok(bytes)
        } else {
            let message = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            Err(HttpError::Status { status, message })
        }
    }
}

/// The `Platform` port over a remote `hcsim serve`: a tick's batch is one
/// `POST /v1/batch`, so the server answers it in the same three rounds as
/// the in-process platform.
pub struct HttpClient {
    conn: Connection,
    timeout: Duration,
}

#[derive(Serialize)]
struct BatchIn<'a> {
    now: String,
    requests: &'a [Request],
}

fn unavailable(e: impl std::fmt::Display) -> PortError {
    PortError::Unavailable(e.to_string())
}

impl HttpClient {
    /// `url` is `http://127.0.0.1:PORT`.
    pub fn new(url: &str) -> Result<HttpClient, PortError> {
        let addr = parse_target(url).map_err(PortError::Unavailable)?;
        Ok(HttpClient {
            conn: Connection::new(addr).map_err(PortError::Unavailable)?,
            timeout: Duration::from_secs(120),
        })
    }

    /// Makes sure the server holds no other run's state: resets it when it
    /// was started with `--allow-reset`, else accepts it only when nobody
    /// is registered and the hub has counted nothing.
    pub async fn start_fresh(&mut self) -> Result<(), PortError> {
        let reset = self
            .conn
            .request(Method::POST, "/v1/reset", Bytes::new(), self.timeout)
            .await;
        match reset {
            Ok(_) => return Ok(()),
            Err(HttpError::Status { status, .. })
                if status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND => {}
            Err(e) => return Err(unavailable(e)),
        }
        let c = self.counters().await?;
        if c.registered == 0 && c.hub == Default::default() {
            return Ok(());
        }
        Err(PortError::Unavailable(format!(
            "the server at {} holds another run's state ({} people registered) and was not \
             started with --allow-reset: restart it, or start it with --allow-reset",
            self.conn.addr(),
            c.registered
        )))
    }

    /// The hub's own counters and the people registered, as the server
    /// counts them.
    pub async fn counters(&mut self) -> Result<CountersReply, PortError> {
        let bytes = self
            .conn
            .request(Method::GET, "/v1/hub/counters", Bytes::new(), self.timeout)
            .await
            .map_err(unavailable)?;
        serde_json::from_slice(&bytes).map_err(|e| unavailable(format!("unreadable counters: {e}")))
    }

    /// How long one exchange may take (default two minutes: a tick-0
    /// registration burst is one large batch).
    pub fn with_timeout(mut self, timeout: Duration) -> HttpClient {
        self.timeout = timeout;
        self
    }
}

impl Platform for HttpClient {
    async fn exchange(
        &mut self,
        now: Minute,
        requests: Vec<Request>,
    ) -> Result<Vec<Response>, PortError> {
        let body = serde_json::to_vec(&BatchIn {
            now: now.to_string(),
            requests: &requests,
        })
        .map_err(unavailable)?;
        let bytes = self
            .conn
            .request(Method::POST, "/v1/batch", body.into(), self.timeout)
            .await
            .map_err(unavailable)?;
        let reply: BatchReply = serde_json::from_slice(&bytes)
            .map_err(|e| unavailable(format!("unreadable batch answer: {e}")))?;
        if reply.responses.len() != requests.len() {
            return Err(unavailable(format!(
                "{} answers to {} requests",
                reply.responses.len(),
                requests.len()
            )));
        }
        Ok(reply.responses.into_iter().map(Response::from).collect())
    }

    async fn census(&mut self, now: Minute) -> Result<ColorCensus, PortError> {
        let path = format!("/v1/census?now={now}");
        let bytes = self
            .conn
            .request(Method::GET, &path, Bytes::new(), self.timeout)
            .await
            .map_err(unavailable)?;
        let reply: CensusReply = serde_json::from_slice(&bytes)
            .map_err(|e| unavailable(format!("unreadable census: {e}")))?;
        let mut census = vec![[0u64; 5]; PROVINCE_COUNT];
        for row in &reply.provinces {
            let p = ProvinceId::parse(&row.province).ok_or_else(|| {
                unavailable(format!("census names unknown province {}", row.province))
            })?;
            census[p.index()] = row.counts();
        }
        Ok(census)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_loopback_only() {
        assert_eq!(
            parse_target("http://127.0.0.1:8080").unwrap(),
            "127.0.0.1:8080".parse().unwrap()
        );
        assert_eq!(
            parse_target("http://localhost:9/").unwrap(),
            "127.0.0.1:9".parse().unwrap()
        );
        assert!(parse_target("http://[::1]:80").is_ok());
        assert!(parse_target("http://10.0.0.1:80")
            .unwrap_err()
            .contains("loopback"));
        assert!(parse_target("http://example.org:80").is_err());
        assert!(parse_target("https://127.0.0.1:80").is_err());
    }
}
