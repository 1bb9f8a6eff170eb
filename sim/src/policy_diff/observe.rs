//! Watching a run's platform exchanges per citizen: the colors the platform
//! returned to or about each citizen (their own applications, check-ins and
//! queries, and scans of their code or ID card), and for a few watched
//! citizens the whole exchange history.

use super::history;
use crate::engine::message::{Agent, Tag};
pub use crate::engine::observer::ExchangeObserver;
use crate::world::World;
use hcsim_platform::api::{Credential, Issuer, Request, Response};
use hcsim_platform::color::ALL_COLORS;
use hcsim_platform::identity::DocNumber;
use hcsim_platform::{Color, Minute, PROVINCE_COUNT};
use hcsim_reports::policy_diff::HistoryEntry;
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, BTreeSet};

/// A citizen's observed color changed (the first observation included).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CodeChange {
    pub citizen: u32,
    pub at: Minute,
    pub color: Color,
}

const UNSEEN: u8 = u8::MAX;
const NOBODY: u32 = u32::MAX;

#[derive(Default)]
pub struct Recorder {
    /// Per citizen: index of the last observed color, or UNSEEN.
    last: Vec<u8>,
    /// In observation order, hence in time order per citizen.
    pub changes: Vec<CodeChange>,
    /// Per issuing province: code serial → citizen.
    codes: Vec<Vec<u32>>,
    /// Document number → citizen, for ID-card scans and authority feeds.
    documents: FxHashMap<DocNumber, u32>,
    /// Per citizen: home province index.
    pub homes: Vec<u8>,
    watch: BTreeSet<u32>,
    /// Watched citizens' masked name and document.
    pub holders: BTreeMap<u32, String>,
    pub histories: BTreeMap<u32, Vec<HistoryEntry>>,
}

impl Recorder {
    /// Records colors of everyone, and the full history of `watch`.
    pub fn new(watch: BTreeSet<u32>) -> Recorder {
        Recorder {
            watch,
            ..Recorder::default()
        }
    }

    fn ensure(&mut self, world: &World) {
        if !self.last.is_empty() || world.citizens() == 0 {
            return;
        }
        let n = world.citizens();
        self.last = vec![UNSEEN; n as usize];
        self.codes = vec![Vec::new(); PROVINCE_COUNT];
        self.documents.reserve(n as usize);
        self.homes = Vec::with_capacity(n as usize);
        for id in 0..n {
            self.documents.insert(world.identity(id).number, id);
            self.homes.push(world.home_province(id).index() as u8);
        }
        for &id in self.watch.iter().filter(|&&id| id < n) {
            let m = world.identity(id).masked();
            self.holders
                .insert(id, format!("{} {}", m.name(), m.document()));
        }
    }

    fn learn_code(&mut self, issuer: Issuer, serial: u32, citizen: u32) {
        if let Issuer::Province(p) = issuer {
            let table = &mut self.codes[p.index()];
            if table.len() <= serial as usize {
                table.resize(serial as usize + 1, NOBODY);
            }
            table[serial as usize] = citizen;
        }
    }

    fn by_code(&self, issuer: Issuer, serial: u32) -> Option<u32> {
        match issuer {
            Issuer::Province(p) => self.codes[p.index()]
                .get(serial as usize)
                .copied()
                .filter(|&c| c != NOBODY),
            Issuer::National => None,
        }
    }

    fn by_credential(&self, credential: &Credential) -> Option<u32> {
        match credential {
            Credential::Code(code) => self.by_code(code.issuer, code.serial),
            Credential::IdCard(number) => self.documents.get(number).copied(),
            Credential::Offline { code, .. } => self.by_code(code.issuer, code.serial),
        }
    }

    /// Whom a request concerns.
    fn subject(&self, tag: &Tag, request: &Request) -> Option<u32> {
        match tag.agent {
            Agent::Citizen(id) => Some(id),
            // The carriers' itinerary feed names the traveller in `aux`.
            Agent::Telecom => Some(tag.aux),
            Agent::Checkpoint(_) => match request {
                Request::Verify { credential, .. } => self.by_credential(credential),
                Request::PlaceScan { code, .. } | Request::Temperature { code, .. } => {
                    self.by_code(code.issuer, code.serial)
                }
                _ => None,
            },
            Agent::Authority => match request {
                Request::Feed { feed, .. } => {
                    feed.person().and_then(|d| self.documents.get(&d).copied())
                }
                _ => None,
            },
        }
    }
}

impl ExchangeObserver for Recorder {
    fn exchange(
        &mut self,
        world: &World,
        now: Minute,
        tag: &Tag,
        request: &Request,
        response: &Response,
    ) {
        self.ensure(world);
        if let (Agent::Citizen(id), Response::Issued { code, .. }) = (tag.agent, response) {
            self.learn_code(code.issuer, code.serial, id);
        }
        let Some(citizen) = self.subject(tag, request) else {
            return;
        };
        let Some(last) = self.last.get_mut(citizen as usize) else {
            return;
        };
        if let Some(color) = response.color() {
            if *last != color.index() as u8 {
                *last = color.index() as u8;
                self.changes.push(CodeChange {
                    citizen,
                    at: now,
                    color: ALL_COLORS[color.index()],
                });
            }
        }
        if self.watch.contains(&citizen) {
            self.histories
                .entry(citizen)
                .or_default()
                .push(history::entry(now, request, response));
        }
    }
}
