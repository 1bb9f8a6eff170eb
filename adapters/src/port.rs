//! The port the simulation drives. Batched per tick: a tick's requests go in
//! together and come back in the same order, which is what lets a platform
//! process them in parallel and still answer deterministically.

use hcsim_platform::api::{CodeId, Feed, Issuer, Request, Response};
use hcsim_platform::hub::Hub;
use hcsim_platform::{Minute, ProvinceId};
use std::future::Future;

#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error("platform unavailable: {0}")]
    Unavailable(String),
}

/// Per-province color counts: green, white, yellow, orange, red.
pub type ColorCensus = Vec<[u64; 5]>;

pub trait Platform {
    /// Delivers one tick's requests at virtual time `now`. The i-th response
    /// answers the i-th request.
    fn exchange(
        &mut self,
        now: Minute,
        requests: Vec<Request>,
    ) -> impl Future<Output = Result<Vec<Response>, PortError>>;

    /// Color counts per province (index = `ProvinceId`) at `now`.
    fn census(&mut self, now: Minute) -> impl Future<Output = Result<ColorCensus, PortError>>;

    /// Whether `exchange` completes without waiting on anything outside
    /// this process, so it may be driven to completion on any thread.
    fn in_process(&self) -> bool {
        false
    }
}

/// Where a request is served.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Province(ProvinceId),
    Hub,
    Broadcast,
}

fn issuer_route(code: &CodeId) -> Route {
    match code.issuer {
        Issuer::Province(p) => Route::Province(p),
        Issuer::National => Route::Hub,
    }
}

pub fn route(req: &Request) -> Route {
    match req {
        Request::Apply {
            province,
            national: false,
            ..
        } => Route::Province(*province),
        Request::Apply { national: true, .. } => Route::Hub,
        Request::ApplyFamily { proxy, .. } => issuer_route(proxy),
        Request::Declare { code, .. }
        | Request::Temperature { code, .. }
        | Request::Query { code }
        | Request::Offline { code }
        | Request::Records { code } => issuer_route(code),
        Request::IntlDeclare { .. } | Request::IntlStatus { .. } | Request::Inbound(_) => {
            Route::Hub
        }
        Request::Verify { place, .. } | Request::PlaceScan { place, .. } => {
            Route::Province(place.county.province)
        }
        Request::Feed { to: Some(p), .. } => Route::Province(*p),
        Request::Feed { to: None, .. } => Route::Broadcast,
    }
}

/// National data the hub keeps a copy of as well (immigration entries,
/// roaming records, case designations), with the province it was sent to.
pub fn hub_copy(req: &Request) -> Option<(Option<ProvinceId>, Feed)> {
    match req {
        Request::Feed { to, feed } if Hub::wants_feed(feed) => Some((*to, feed.clone())),
        _ => None,
    }
}
