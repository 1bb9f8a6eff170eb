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
use hcsim_platform::{Minute, ProvinceId};
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
    let mut codes: HashMap<CodeId, CodeId> = HashMap::new();
    let mut i = 0;
    let mut last = Minute::ZERO;
    while i < v.history.len() {
        let now = v.history[i].now;
        let batch: Vec<&Event> = v.history[i..].iter().take_while(|e| e.now == now).collect();
        i += batch.len();
        let requests: Vec<Request> = batch
            .iter()
            .map(|e| with_codes(&e.request, &codes))
            .collect();
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
                codes.insert(old, *code);
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

/// `r` with every code renamed as the fresh platform issued it.
fn with_codes(r: &Request, codes: &HashMap<CodeId, CodeId>) -> Request {
    let map = |c: &CodeId| codes.get(c).copied().unwrap_or(*c);
    let mut r = r.clone();
    match &mut r {
        Request::Declare { code, .. }
        | Request::Temperature { code, .. }
        | Request::PlaceScan { code, .. }
        | Request::Query { code }
        | Request::Offline { code }
        | Request::Records { code }
        | Request::ApplyFamily { proxy: code, .. } => *code = map(code),
        Request::Verify { credential, .. } => match credential {
            Credential::Code(code) | Credential::Offline { code, .. } => *code = map(code),
            Credential::IdCard(_) => {}
        },
        _ => {}
    }
    r
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
    let rules = crate::load::platform::rule_sets(&paths)?;
    Ok((rules, files))
}
