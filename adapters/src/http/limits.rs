//! What one client, or many, can hold of the server: connections, time and
//! buffered bytes. Each bound answers with a status rather than starving
//! the others; `hcsim serve` exposes every one as a flag.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The server's bounds. `Default` is what `hcsim serve` uses unless told
/// otherwise (the README's HTTP API section lists them).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Connections served at once. Past it a connection gets the overflow
    /// service: `/healthz` answered, anything else `503` and closed.
    pub max_connections: usize,
    /// Connections in the overflow service at once; past them a connection
    /// is answered `503` without being read, and closed.
    pub max_overflow: usize,
    /// Time a client has to send a request's head, and the longest a
    /// kept-alive connection may sit idle between requests (hyper starts
    /// the same timer for both). Slowloris connections end here.
    pub header_timeout: Duration,
    /// Time a client has to send a request's whole body once its head is
    /// in; a body announced and never sent ends here with `408`.
    pub body_timeout: Duration,
    /// Bytes of request bodies buffered across all requests at once; a body
    /// that would pass it is answered `503` (retry later).
    pub body_budget: usize,
    /// Largest body of a single-request endpoint (`413` past it).
    pub single_body_max: usize,
    /// Largest `/v1/batch` body (`413` past it).
    pub batch_body_max: usize,
    /// Days after the start that a request's `now` may name (`400` past
    /// them or before the start).
    pub window_days: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            // Below the usual 1,024 open files, with room for the overflow
            // service, the listener and the process's own files.
            max_connections: 768,
            max_overflow: 64,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            body_budget: 1024 * 1024 * 1024,
            single_body_max: 64 * 1024,
            // A national tick-0 registration burst at population_scale
            // 0.001 is ~1.4 M requests, about 200 MiB of JSON.
            batch_body_max: 512 * 1024 * 1024,
            // A leap year of scenario time.
            window_days: 366,
        }
    }
}

/// The bytes of request bodies held at once, across all connections.
#[derive(Clone)]
pub struct BodyBudget {
    bytes: Arc<Semaphore>,
    total: usize,
}

/// A body that was read, and the share of the budget it holds until the
/// request is answered.
pub struct Buffered {
    pub bytes: Bytes,
    _held: Option<OwnedSemaphorePermit>,
}

/// Why a body was not read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyRefusal {
    /// Larger than the endpoint takes (announced or as sent): `413`.
    TooLarge { limit: usize },
    /// The server buffers too much already: `503`.
    OverBudget { budget: usize },
    /// Not all of it arrived in time: `408`.
    TimedOut { after: Duration },
    /// The connection failed mid-body: `400`.
    Broken(String),
}

impl BodyBudget {
    pub fn new(total: usize) -> BodyBudget {
        let total = total.min(Semaphore::MAX_PERMITS);
        BodyBudget {
            bytes: Arc::new(Semaphore::new(total)),
            total,
        }
    }

    fn take(&self, n: usize) -> Result<Option<OwnedSemaphorePermit>, BodyRefusal> {
        if n == 0 {
            return Ok(None);
        }
        let n = u32::try_from(n).map_err(|_| BodyRefusal::OverBudget { budget: self.total })?;
        self.bytes
            .clone()
            .try_acquire_many_owned(n)
            .map(Some)
            .map_err(|_| BodyRefusal::OverBudget { budget: self.total })
    }

    /// Reads `body` whole within `limit` bytes and `timeout`, holding its
    /// bytes against the budget as they arrive. An announced length past
    /// `limit` is refused before a byte is read.
    pub async fn read(
        &self,
        body: Incoming,
        announced: Option<u64>,
        limit: usize,
        timeout: Duration,
    ) -> Result<Buffered, BodyRefusal> {
        if announced.is_some_and(|n| n > limit as u64) {
            return Err(BodyRefusal::TooLarge { limit });
        }
        let reading = self.collect(body, limit);
        match tokio::time::timeout(timeout, reading).await {
            Ok(r) => r,
            Err(_) => Err(BodyRefusal::TimedOut { after: timeout }),
        }
    }

    async fn collect(&self, mut body: Incoming, limit: usize) -> Result<Buffered, BodyRefusal> {
        let mut buf = BytesMut::new();
        let mut held: Option<OwnedSemaphorePermit> = None;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| BodyRefusal::Broken(e.to_string()))?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            if buf.len() + data.len() > limit {
                return Err(BodyRefusal::TooLarge { limit });
            }
            if let Some(p) = self.take(data.len())? {
                match held.as_mut() {
                    Some(h) => h.merge(p),
                    None => held = Some(p),
                }
            }
            buf.extend_from_slice(&data);
        }
        Ok(Buffered {
            bytes: buf.freeze(),
            _held: held,
        })
    }

    /// Bytes held by bodies being read or answered now.
    pub fn in_use(&self) -> usize {
        self.total - self.bytes.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_refuses_what_would_pass_it_and_returns_what_is_dropped() {
        let budget = BodyBudget::new(100);
        let a = budget.take(60).unwrap();
        assert_eq!(budget.in_use(), 60);
        assert_eq!(
            budget.take(41).unwrap_err(),
            BodyRefusal::OverBudget { budget: 100 }
        );
        let b = budget.take(40).unwrap();
        assert_eq!(budget.in_use(), 100);
        drop(a);
        drop(b);
        assert_eq!(budget.in_use(), 0);
        assert!(budget.take(0).unwrap().is_none());
    }
}
