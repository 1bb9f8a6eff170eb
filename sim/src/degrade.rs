//! The client side of the degrade strategies (`[capacity] degrade`): what
//! people and checkpoint staff do when the platform answers "system busy"
//! or not at all. Runs at the tick barrier beside the retry loop
//! (`capacity::retry`); the platform side (time-outs, protection trip, rate
//! limiting) is in `capacity`.
//!
//! - `cache`: an app that got an answer for a code within the last
//!   `hours` shows that cached status instead of retrying; at a checkpoint
//!   the staff accept the cached screen.
//! - `idcard`: a checkpoint answered busy checks the person's ID card by
//!   hand instead of rescanning (the person waits `minutes` longer) and
//!   keeps checking ID cards, sending nothing to the platform, for
//!   `hold_minutes`.
//!
//! A person let through either way is still a scan the platform did not
//! answer: the checkpoint records it as busy, and the totals say how many
//! of those were covered by a cached code or an ID card.

use crate::capacity::config::Degrade;
use crate::engine::message::{Agent, Tag};
use hcsim_platform::api::{CodeId, Credential, Request, Response};
use hcsim_platform::Minute;
use hcsim_reports::summary::RetryTotals;
use rustc_hash::FxHashMap;

pub struct ClientDegrade {
    strategy: Degrade,
    /// Code → minute of the last answer its holder's app or a scanner got.
    cached: FxHashMap<CodeId, u32>,
    /// (shard, checkpoint) → minute until which it checks ID cards only.
    on_idcards: FxHashMap<(u32, u32), u32>,
}

/// The code a request is about, where the holder's app could cache it.
fn code_of(req: &Request) -> Option<CodeId> {
    match req {
        Request::Query { code } | Request::Offline { code } => Some(*code),
        Request::Verify {
            credential: Credential::Code(code) | Credential::Offline { code, .. },
            ..
        } => Some(*code),
        _ => None,
    }
}

impl ClientDegrade {
    pub fn new(strategy: Degrade) -> ClientDegrade {
        ClientDegrade {
            strategy,
            cached: FxHashMap::default(),
            on_idcards: FxHashMap::default(),
        }
    }

    /// Takes out of a tick's batch the scans of checkpoints that are on ID
    /// cards; returns the tags to answer busy directly (with the manual
    /// check added to the person's wait). Order of the rest is kept.
    pub fn divert(
        &mut self,
        now: Minute,
        tags: &mut Vec<Tag>,
        requests: &mut Vec<Request>,
        tries: &mut Vec<u8>,
        totals: &mut RetryTotals,
    ) -> Vec<Tag> {
        let Degrade::IdCard { minutes, .. } = self.strategy else {
            return Vec::new();
        };
        if self.on_idcards.is_empty() {
            return Vec::new();
        }
        let mut diverted = Vec::new();
        let mut keep = 0;
        for i in 0..requests.len() {
            let tag = tags[i];
            let held = match tag.agent {
                Agent::Checkpoint(local) => self
                    .on_idcards
                    .get(&(tag.shard, local))
                    .is_some_and(|&until| now.0 < until),
                _ => false,
            };
            if held && matches!(requests[i], Request::Verify { .. }) {
                totals.idcard_checks += 1;
                diverted.push(Tag {
                    aux: tag.aux.saturating_add(minutes),
                    ..tag
                });
                continue;
            }
            tags.swap(keep, i);
            requests.swap(keep, i);
            tries.swap(keep, i);
            keep += 1;
        }
        tags.truncate(keep);
        requests.truncate(keep);
        tries.truncate(keep);
        diverted
    }

    /// Notes an answer the client got (not "busy").
    pub fn observe(&mut self, now: Minute, req: &Request, response: &Response) {
        if !matches!(self.strategy, Degrade::Cache { .. }) || matches!(response, Response::Busy) {
            return;
        }
        if let Some(code) = code_of(req) {
            self.cached.insert(code, now.0);
        }
    }

    /// A busy answer: returns the tag to deliver it to when the client
    /// falls back instead of retrying, `None` when it retries as usual.
    pub fn fallback(
        &mut self,
        now: Minute,
        tag: Tag,
        req: &Request,
        totals: &mut RetryTotals,
    ) -> Option<Tag> {
        match self.strategy {
            Degrade::Cache { hours } => {
                let code = code_of(req)?;
                let at = *self.cached.get(&code)?;
                if now.0.saturating_sub(at) > hours * 60 {
                    return None;
                }
                match tag.agent {
                    Agent::Checkpoint(_) => totals.cached_shown += 1,
                    _ => totals.cached_app += 1,
                }
                Some(tag)
            }
            Degrade::IdCard {
                minutes,
                hold_minutes,
            } => {
                let Agent::Checkpoint(local) = tag.agent else {
                    return None;
                };
                if !matches!(req, Request::Verify { .. }) {
                    return None;
                }
                self.on_idcards
                    .insert((tag.shard, local), now.0 + hold_minutes);
                totals.idcard_checks += 1;
                Some(Tag {
                    aux: tag.aux.saturating_add(minutes),
                    ..tag
                })
            }
            Degrade::None | Degrade::Trip | Degrade::RateLimit { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcsim_platform::api::{CheckpointKind, CountyRef, Issuer, Place};
    use hcsim_platform::ProvinceId;

    fn code(serial: u32) -> CodeId {
        CodeId {
            issuer: Issuer::Province(ProvinceId(0)),
            serial,
            token: Default::default(),
        }
    }

    fn verify(serial: u32) -> Request {
        Request::Verify {
            credential: Credential::Code(code(serial)),
            place: Place {
                county: CountyRef {
                    province: ProvinceId(0),
                    county: 0,
                },
                kind: CheckpointKind::Mall,
            },
            temperature: None,
        }
    }

    fn at_checkpoint(local: u32) -> Tag {
        Tag {
            shard: 1,
            agent: Agent::Checkpoint(local),
            aux: 3,
        }
    }

    #[test]
    fn a_fresh_cached_status_replaces_the_retry_and_a_stale_one_does_not() {
        let mut d = ClientDegrade::new(Degrade::Cache { hours: 2 });
        let mut totals = RetryTotals::default();
        let tag = at_checkpoint(0);
        // Nothing cached yet: retry as usual.
        assert_eq!(d.fallback(Minute(100), tag, &verify(7), &mut totals), None);
        d.observe(
            Minute(100),
            &Request::Query { code: code(7) },
            &Response::Ack,
        );
        assert_eq!(
            d.fallback(Minute(220), tag, &verify(7), &mut totals),
            Some(tag)
        );
        assert_eq!(d.fallback(Minute(221), tag, &verify(7), &mut totals), None);
        // A busy answer fills nothing.
        d.observe(Minute(300), &verify(8), &Response::Busy);
        assert_eq!(d.fallback(Minute(301), tag, &verify(8), &mut totals), None);
        assert_eq!(totals.cached_shown, 1);
    }

    #[test]
    fn a_checkpoint_answered_busy_checks_id_cards_until_the_hold_ends() {
        let mut d = ClientDegrade::new(Degrade::IdCard {
            minutes: 2,
            hold_minutes: 10,
        });
        let mut totals = RetryTotals::default();
        let fell_back = d.fallback(Minute(50), at_checkpoint(4), &verify(1), &mut totals);
        assert_eq!(fell_back.map(|t| t.aux), Some(5));
        let mut tags = vec![at_checkpoint(4), at_checkpoint(5), at_checkpoint(4)];
        let mut requests = vec![verify(2), verify(3), Request::Query { code: code(4) }];
        let mut tries = vec![1, 1, 2];
        let out = d.divert(
            Minute(59),
            &mut tags,
            &mut requests,
            &mut tries,
            &mut totals,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(tags, vec![at_checkpoint(5), at_checkpoint(4)]);
        assert_eq!(tries, vec![1, 2]);
        assert_eq!(totals.idcard_checks, 2);
        // The hold is over: the checkpoint scans codes again.
        let mut tags = vec![at_checkpoint(4)];
        let mut requests = vec![verify(2)];
        let mut tries = vec![1];
        assert!(d
            .divert(
                Minute(60),
                &mut tags,
                &mut requests,
                &mut tries,
                &mut totals
            )
            .is_empty());
        assert_eq!(requests.len(), 1);
    }
}
