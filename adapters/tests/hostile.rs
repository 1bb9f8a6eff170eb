//! `hcsim serve` under hostile clients: slow heads, idle connections,
//! bodies announced and never sent, more connections than the cap, bodies
//! past the byte budget. Each probe is bounded; the assertions are about
//! what the server answers, with deadlines of several seconds for bounds of
//! one, so a loaded machine does not fail them.

use super::*;
use hcsim_adapters::http::{Limits, Server};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Far longer than any bound under test: a probe that waits this long has
/// found a server that does not enforce its limits.
const PATIENCE: Duration = Duration::from_secs(15);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn tight() -> Limits {
    Limits {
        max_connections: 8,
        max_overflow: 4,
        header_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        body_budget: 4096,
        single_body_max: 2048,
        batch_body_max: 3000,
        window_days: 1,
    }
}

async fn serve(limits: Limits) -> Server {
    Server::bind_with(
        "127.0.0.1:0".parse().unwrap(),
        Arc::new(direct()),
        at("2020-10-01T00:00"),
        limits,
    )
    .await
    .unwrap()
}

async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.unwrap()
}

/// The status of the first answer on `s`, or `None` when the server closed
/// the connection without one. Panics past `PATIENCE`.
async fn status(s: &mut TcpStream) -> Option<u16> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    let read = async {
        loop {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    };
    tokio::time::timeout(PATIENCE, read)
        .await
        .expect("the server neither answered nor closed the connection");
    let head = String::from_utf8_lossy(&buf);
    head.strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
}

/// A whole request on a fresh connection: its status.
async fn request(addr: SocketAddr, raw: &str) -> Option<u16> {
    let mut s = connect(addr).await;
    s.write_all(raw.as_bytes()).await.unwrap();
    status(&mut s).await
}

const HEALTH: &str = "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n";
const QUERY_BODY: &str =
    r#"{"code":{"issuer":{"province":1},"serial":0,"token":"0000000000000000"}}"#;

fn query() -> String {
    format!(
        "POST /v1/health-info/query HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n{QUERY_BODY}",
        QUERY_BODY.len()
    )
}

/// Half a request head, as slowloris sends it.
async fn slow_head(addr: SocketAddr) -> TcpStream {
    let mut s = connect(addr).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    s
}

#[test]
fn slowloris_fills_the_cap_and_healthz_still_answers_then_the_heads_time_out() {
    runtime().block_on(async {
        let server = serve(tight()).await;
        let addr = server.local_addr();
        let mut slow = Vec::new();
        for _ in 0..8 {
            slow.push(slow_head(addr).await);
        }
        // Let the accept loop hand every one of them a permit.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            request(addr, HEALTH).await,
            Some(200),
            "healthz over the cap"
        );
        assert_eq!(
            request(addr, &query()).await,
            Some(503),
            "work over the cap"
        );
        // hyper's header timeout ends each slow head (408, or a close).
        for s in &mut slow {
            let answer = status(s).await;
            assert!(matches!(answer, None | Some(408)), "{answer:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            request(addr, &query()).await,
            Some(200),
            "served again once they left"
        );
        server.shutdown().await;
    });
}

#[test]
fn past_the_overflow_service_connections_get_503_unread_and_healthz_200() {
    runtime().block_on(async {
        let server = serve(tight()).await;
        let addr = server.local_addr();
        let mut slow = Vec::new();
        for _ in 0..12 {
            slow.push(slow_head(addr).await);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        // Cap and overflow are full: answered at once, without being read.
        let mut s = connect(addr).await;
        assert_eq!(status(&mut s).await, Some(503));
        // A health check is still answered there: a full server is not a
        // dead one. Work is not, even when it arrives at once.
        assert_eq!(
            request(addr, HEALTH).await,
            Some(200),
            "healthz past the overflow"
        );
        assert_eq!(
            request(addr, &query()).await,
            Some(503),
            "work past the overflow"
        );
        drop(slow);
        server.shutdown().await;
    });
}

#[test]
fn an_idle_kept_alive_connection_is_closed() {
    runtime().block_on(async {
        let server = serve(tight()).await;
        let mut s = connect(server.local_addr()).await;
        s.write_all(HEALTH.as_bytes()).await.unwrap();
        assert_eq!(status(&mut s).await, Some(200));
        // Nothing more is sent: the server closes the connection (the
        // header timeout restarts when a connection falls idle).
        assert_eq!(status(&mut s).await, None);
        server.shutdown().await;
    });
}

#[test]
fn bodies_announced_too_large_or_never_sent_are_refused() {
    runtime().block_on(async {
        let server = serve(tight()).await;
        let addr = server.local_addr();
        // 1 GB announced: refused before a byte of it is read.
        let huge = "POST /v1/batch HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000000\r\n\r\n{\"req";
        assert_eq!(request(addr, huge).await, Some(413));
        // Within the limit, but only ten bytes ever come: timed out.
        let short = "POST /v1/health-info/query HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{\"code\":{";
        assert_eq!(request(addr, short).await, Some(408));
        // Sent past the limit without announcing it (chunked).
        let chunk = "x".repeat(2100);
        let chunked = format!(
            "POST /v1/health-info/query HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
            chunk.len()
        );
        assert_eq!(request(addr, &chunked).await, Some(413));
        assert_eq!(request(addr, HEALTH).await, Some(200));
        server.shutdown().await;
    });
}

#[test]
fn bodies_past_the_budget_across_requests_get_503() {
    runtime().block_on(async {
        let limits = Limits {
            body_budget: 2500,
            ..tight()
        };
        let server = serve(limits).await;
        let addr = server.local_addr();
        // One upload holds 2,000 bytes of the budget and stalls.
        let mut held = connect(addr).await;
        let part = "x".repeat(2000);
        held.write_all(
            format!("POST /v1/batch HTTP/1.1\r\nhost: x\r\ncontent-length: 2900\r\n\r\n{part}")
                .as_bytes(),
        )
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Another 1,000 would pass the budget of 2,500.
        let body = format!("{{\"requests\":[],\"pad\":\"{}\"}}", "y".repeat(980));
        let other = format!(
            "POST /v1/batch HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        assert_eq!(request(addr, &other).await, Some(503));
        // The stalled upload times out and gives its share back.
        assert_eq!(status(&mut held).await, Some(408));
        let ok = r#"{"requests":[]}"#;
        let small = format!(
            "POST /v1/batch HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n{ok}",
            ok.len()
        );
        assert_eq!(request(addr, &small).await, Some(200));
        server.shutdown().await;
    });
}
