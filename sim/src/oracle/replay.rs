//! Replaying a violation: the recorded history, tick by tick, against a
//! fresh platform and a fresh oracle that tracks only that citizen.

use super::violation::{Event, Sender, Violation};
use super::{Oracle, Setup};
use crate::engine::message::{Agent, Tag};
use hcsim_adapters::Direct;
use hcsim_platform::api::{CodeId, Credential, Request, Response};
use hcsim_platform::hub::Hub;
use hcsim_platform::identity::DocNumber;
use hcsim_platform::province::ProvincePlatform;
use hcsim_platform::rules::RuleSet;
use hcsim_platform::{CodeKeys, Issuer, Minute, ProvinceId, Token};
use std::collections::HashMap;
use std::sync::Arc;

/// One replayed request and what the platform answers now.
pub struct Step {
    pub event: Event,
    pub response: Response,
}

pub struct Replayed {
    pub steps: Vec<Step>,
    /// What the fresh oracle found (empty: the divergence did not reproduce).
    pub violations: Vec<Violation>,
    pub checks: u64,
}

fn tag(sender: Sender) -> Tag {
    let (agent, aux) = match sender {
        Sender::Citizen(id) => (Agent::Citizen(id), 0),
        Sender::Checkpoint => (Agent::Checkpoint(0), 0),
        Sender::Authority => (Agent::Authority, 0),
        Sender::Telecom(id) => (Agent::Telecom, id),
    };
    Tag {
        shard: 0,
        agent,
        aux,
    }
}

/// The citizen's document, from their application or a feed about them.
fn document(v: &Violation) -> Option<DocNumber> {
    let citizen = v.citizen?;
    v.history
        .iter()
        .find_map(|e| match (&e.sender, &e.request) {
            (Sender::Citizen(id), Request::Apply { identity, .. }) if *id == citizen => {
                Some(identity.number)
            }
            _ => None,
        })
}

/// Replays `v` with `rules` (index = `ProvinceId`) and `rule_files` naming them.
pub fn replay(v: &Violation, rules: Vec<Arc<RuleSet>>, rule_files: Vec<String>) -> Replayed {
    let platform = Direct::new(
        |p| ProvincePlatform::new(p, rules[p.index()].clone()),
        Hub::new(),
    );
    let mut oracle = Oracle::new(Setup {
        seed: v.seed,
        scenario: v.scenario.clone(),
        rules: rules.clone(),
        rule_files,
        share: 1.0,
        // The replay's platform is built without keys: the default ones.
        code_keys: Default::default(),
    });
    let home = v.province.as_deref().and_then(ProvinceId::parse);
    if let (Some(c), Some(home), Some(doc)) = (v.citizen, home, document(v)) {
        oracle.track(c, home, doc);
    }
    let mut steps = Vec::new();
    let mut codes = Renamed::new(v.seed);
    let mut i = 0;
    let mut last = Minute::ZERO;
    while i < v.history.len() {
        let now = v.history[i].now;
        let batch: Vec<&Event> = v.history[i..].iter().take_while(|e| e.now == now).collect();
        i += batch.len();
        let requests: Vec<Request> = batch.iter().map(|e| codes.request(&e.request)).collect();
        let tags: Vec<Tag> = batch.iter().map(|e| tag(e.sender)).collect();
        let responses = platform.handle_batch(now, &requests);
        oracle.observe(now, &tags, &requests, &responses);
        // The fresh platform numbers codes afresh: later requests that name
        // the run's code must name this one.
        for (e, r) in batch.iter().zip(&responses) {
            if let (Some(old), Response::Issued { code, .. }) = (
                e.response
                    .get("code")
                    .and_then(|c| serde_json::from_value::<CodeId>(c.clone()).ok()),
                r,
            ) {
                codes.issued(old, *code);
            }
        }
        for (e, r) in batch.into_iter().zip(responses) {
            steps.push(Step {
                event: e.clone(),
                response: r,
            });
        }
        last = now;
    }
    let audit = oracle.audit_requests();
    if !audit.is_empty() {
        let answers = platform.handle_batch(last, &audit);
        oracle.audit(last, &answers);
    }
    Replayed {
        steps,
        checks: oracle.summary().checks,
        violations: oracle.violations().to_vec(),
    }
}

/// The run's codes as the fresh platform issued them. The fresh platform
/// numbers its registrations afresh and signs under its own keys, so a
/// code is renamed by issuer and serial. A code whose token is not the one
/// the run issued (forged or altered) keeps its difference from the
/// genuine token, so it names the same holder and is as forged in the
/// replay as it was in the run; an offline code's seal likewise.
struct Renamed {
    by_serial: HashMap<(Issuer, u32), (CodeId, CodeId)>,
    /// The run's keys (a run derives them from its seed), for the seals of
    /// offline codes, which a history does not show being made.
    run_keys: CodeKeys,
    replay_keys: CodeKeys,
}

impl Renamed {
    fn new(seed: u64) -> Renamed {
        Renamed {
            by_serial: HashMap::new(),
            run_keys: CodeKeys::from_seed(seed),
            // The replay's platform is built without keys: the default ones.
            replay_keys: CodeKeys::default(),
        }
    }

    /// `old`, issued in the run, is `new` in the replay.
    fn issued(&mut self, old: CodeId, new: CodeId) {
        self.by_serial.insert((old.issuer, old.serial), (old, new));
    }

    fn code(&self, c: CodeId) -> CodeId {
        match self.by_serial.get(&(c.issuer, c.serial)) {
            Some((old, new)) => CodeId {
                token: Token(new.token.0 ^ old.token.0 ^ c.token.0),
                ..*new
            },
            None => c,
        }
    }

    fn credential(&self, c: Credential) -> Credential {
        match c {
            Credential::Code(code) => Credential::Code(self.code(code)),
            Credential::Offline {
                code,
                issued,
                color,
                seal,
            } => {
                let renamed = self.code(code);
                if renamed == code {
                    return c;
                }
                let was = self.run_keys.seal(&code, issued, color);
                let now = self.replay_keys.seal(&renamed, issued, color);
                Credential::Offline {
                    code: renamed,
                    issued,
                    color,
                    seal: Token(now.0 ^ was.0 ^ seal.0),
                }
            }
            Credential::IdCard(_) => c,
        }
    }

    /// `r` with every code renamed.
    fn request(&self, r: &Request) -> Request {
        let mut r = r.clone();
        match &mut r {
            Request::Declare { code, .. }
            | Request::Temperature { code, .. }
            | Request::PlaceScan { code, .. }
            | Request::Query { code }
            | Request::Offline { code }
            | Request::Records { code }
            | Request::ApplyFamily { proxy: code, .. } => *code = self.code(*code),
            Request::Verify { credential, .. } => *credential = self.credential(*credential),
            _ => {}
        }
        r
    }
}

/// Loads the rule sets a violation names; provinces it does not name get
/// its home province's (they only answer for codes they did not issue).
pub fn load_rules(v: &Violation) -> anyhow::Result<(Vec<Arc<RuleSet>>, Vec<String>)> {
    use anyhow::Context;
    let fallback = v
        .province
        .as_ref()
        .and_then(|p| v.rules.get(p))
        .or_else(|| v.rules.values().next())
        .context("the violation names no rule set")?
        .clone();
    let files: Vec<String> = ProvinceId::all()
        .map(|p| {
            v.rules
                .get(p.key())
                .cloned()
                .unwrap_or_else(|| fallback.clone())
        })
        .collect();
    let paths: Vec<std::path::PathBuf> = files.iter().map(std::path::PathBuf::from).collect();
    let rules = crate::platform_setup::rule_sets(&paths)?;
    Ok((rules, files))
}
