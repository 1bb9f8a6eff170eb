//! A platform chosen at run time: the in-process one or a remote
//! `hcsim serve` (`hcsim run --target`).

use super::client::HttpClient;
use crate::port::{ColorCensus, Platform, PortError};
use hcsim_platform::api::{Request, Response};
use hcsim_platform::Minute;

pub enum LocalOrRemote<P> {
    Local(P),
    Remote(HttpClient),
}

impl<P: Platform> Platform for LocalOrRemote<P> {
    async fn exchange(
        &mut self,
        now: Minute,
        requests: Vec<Request>,
    ) -> Result<Vec<Response>, PortError> {
        match self {
            LocalOrRemote::Local(p) => p.exchange(now, requests).await,
            LocalOrRemote::Remote(c) => c.exchange(now, requests).await,
        }
    }

    async fn census(&mut self, now: Minute) -> Result<ColorCensus, PortError> {
        match self {
            LocalOrRemote::Local(p) => p.census(now).await,
            LocalOrRemote::Remote(c) => c.census(now).await,
        }
    }

    fn in_process(&self) -> bool {
        match self {
            LocalOrRemote::Local(p) => p.in_process(),
            LocalOrRemote::Remote(_) => false,
        }
    }
}
