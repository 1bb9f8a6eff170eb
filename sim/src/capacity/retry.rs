//! Clients that get "system busy" try again: the checkpoint's scanner
//! rescans the person a tick later, the citizen's app retries with
//! exponential back-off. Retries are what turn a surge into an outage (the
//! retried requests join the next tick's surge), so they are part of the
//! load, not an afterthought.
//!
//! The retry loop runs at the tick barrier, where the request is still at
//! hand: an agent sees only the final answer (or the last "busy", when it
//! gives up). A rescanned person's recorded checkpoint wait includes the
//! minutes lost to retries.

use super::config::RetryPolicy;
use crate::engine::message::{Agent, Tag};
use hcsim_platform::api::Request;
use hcsim_reports::summary::RetryTotals;
use std::collections::BTreeMap;

/// A request sent again, with the attempts made so far.
pub struct Pending {
    pub tries: u8,
    pub tag: Tag,
    pub request: Request,
}

pub struct Retries {
    policy: RetryPolicy,
    tick_minutes: u32,
    /// Tick → requests due then, in the order they were answered busy.
    due: BTreeMap<u32, Vec<Pending>>,
    pub totals: RetryTotals,
}

impl Retries {
    pub fn new(policy: RetryPolicy, tick_minutes: u32) -> Retries {
        Retries {
            policy,
            tick_minutes: tick_minutes.max(1),
            due: BTreeMap::new(),
            totals: RetryTotals::default(),
        }
    }

    /// Requests to send again at `tick`.
    pub fn take_due(&mut self, tick: u32) -> Vec<Pending> {
        self.due.remove(&tick).unwrap_or_default()
    }

    /// Requests still waiting to be retried (after the run, for the record).
    pub fn pending(&self) -> usize {
        self.due.values().map(Vec::len).sum()
    }

    /// Notes the retries the run ended before sending, by kind.
    pub fn close(&mut self) {
        for p in self.due.values().flatten() {
            match p.tag.agent {
                Agent::Checkpoint(_) => self.totals.scan_retries_pending += 1,
                _ => self.totals.app_retries_pending += 1,
            }
        }
    }

    /// A request answered busy at `tick` after `tries` attempts. Returns
    /// the tag to deliver the busy answer to when the client gives up, or
    /// `None` when it will try again.
    pub fn busy(&mut self, tick: u32, tries: u8, tag: Tag, request: Request) -> Option<Tag> {
        let tries_u32 = tries as u32;
        let (delay_ticks, tag) = match tag.agent {
            Agent::Checkpoint(_) if tries_u32 < self.policy.scan_tries => {
                self.totals.scan_retries += 1;
                let tag = Tag {
                    aux: tag.aux.saturating_add(self.tick_minutes),
                    ..tag
                };
                (1, tag)
            }
            Agent::Checkpoint(_) => {
                self.totals.scan_gave_up += 1;
                return Some(tag);
            }
            Agent::Citizen(_) if tries_u32 < self.policy.app_tries => {
                self.totals.app_retries += 1;
                let minutes = self.policy.app_backoff_minutes << (tries_u32 - 1).min(16);
                (minutes.div_ceil(self.tick_minutes).max(1), tag)
            }
            Agent::Citizen(_) => {
                self.totals.app_gave_up += 1;
                return Some(tag);
            }
            Agent::Telecom | Agent::Authority => return Some(tag),
        };
        self.due
            .entry(tick.saturating_add(delay_ticks))
            .or_default()
            .push(Pending {
                tries: tries.saturating_add(1),
                tag,
                request,
            });
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcsim_platform::api::{CodeId, Issuer};
    use hcsim_platform::ProvinceId;

    fn query() -> Request {
        Request::Query {
            code: CodeId {
                issuer: Issuer::Province(ProvinceId(0)),
                serial: 1,
                token: Default::default(),
            },
        }
    }

    fn tag(agent: Agent) -> Tag {
        Tag {
            shard: 0,
            agent,
            aux: 2,
        }
    }

    #[test]
    fn app_backs_off_exponentially_then_gives_up() {
        let policy = RetryPolicy {
            scan_tries: 2,
            app_tries: 4,
            app_backoff_minutes: 1,
        };
        let mut r = Retries::new(policy, 1);
        let mut tick = 10;
        let mut seen = Vec::new();
        let mut pending = Pending {
            tries: 1,
            tag: tag(Agent::Citizen(7)),
            request: query(),
        };
        loop {
            match r.busy(tick, pending.tries, pending.tag, pending.request) {
                Some(_) => break,
                None => {
                    let (&next, _) = r.due.iter().next().unwrap();
                    seen.push(next - tick);
                    tick = next;
                    pending = r.take_due(tick).pop().unwrap();
                }
            }
        }
        assert_eq!(seen, vec![1, 2, 4]);
        assert_eq!(r.totals.app_retries, 3);
        assert_eq!(r.totals.app_gave_up, 1);
    }

    #[test]
    fn scanner_rescans_next_tick_and_the_wait_grows() {
        let policy = RetryPolicy {
            scan_tries: 2,
            app_tries: 1,
            app_backoff_minutes: 1,
        };
        let mut r = Retries::new(policy, 5);
        assert!(r.busy(3, 1, tag(Agent::Checkpoint(4)), query()).is_none());
        let again = r.take_due(4);
        assert_eq!(again.len(), 1);
        assert_eq!((again[0].tries, again[0].tag.aux), (2, 7));
        let p = &again[0];
        assert_eq!(r.busy(4, p.tries, p.tag, query()), Some(p.tag));
        assert_eq!((r.totals.scan_retries, r.totals.scan_gave_up), (1, 1));
        // An app with a single try gives up at once.
        assert!(r.busy(4, 1, tag(Agent::Citizen(1)), query()).is_some());
        assert_eq!(r.pending(), 0);
    }
}
