//! Code generation (码生成): real-name registration, for oneself or for a
//! family member. Name and document type lock at the first verification.

use super::journal::Record;
use super::ProvincePlatform;
use crate::api::{CodeId, Refusal, Relation, Response};
use crate::identity::Identity;
use crate::time::Minute;

impl ProvincePlatform {
    /// Finds a registered identity; a known document with another name or
    /// document kind is refused, never re-bound.
    fn locked(&self, identity: &Identity) -> Result<Option<usize>, Refusal> {
        match self.serial_of(identity.number) {
            None => Ok(None),
            Some(i) => {
                let p = &self.people[i];
                if p.name != identity.name || p.doc != identity.doc {
                    Err(Refusal::IdentityLocked)
                } else {
                    Ok(Some(i))
                }
            }
        }
    }

    pub(super) fn apply(
        &mut self,
        now: Minute,
        identity: &Identity,
        face_verified: bool,
    ) -> Response {
        match self.locked(identity) {
            Err(r) => Response::Refused(r),
            Ok(Some(i)) => {
                if face_verified && self.people[i].state.unverified() {
                    self.record(i, now, Record::Verification, now);
                }
                self.issued(i, now)
            }
            Ok(None) => {
                let mut unverified_minor = false;
                if self.rules.require_face_verification() && !face_verified {
                    if identity.age < self.rules.minor_age() && self.rules.has_unverified_minor() {
                        unverified_minor = true;
                    } else {
                        return Response::Refused(Refusal::FaceNotVerified);
                    }
                }
                let i = self.register(now, identity, unverified_minor);
                self.issued(i, now)
            }
        }
    }

    fn issued(&self, i: usize, now: Minute) -> Response {
        Response::Issued {
            code: self.code_of(i),
            color: self.rules.at(&self.people[i].state, now).color(),
        }
    }

    /// Adds a person; facts received before they registered are applied now.
    fn register(&mut self, now: Minute, identity: &Identity, unverified_minor: bool) -> usize {
        let i = self.add_person(identity);
        self.durable(|| super::LogEntry::Registered {
            identity: *identity,
        });
        let pending = self.side.pending.remove(&identity.number);
        let reg = Record::Registration { unverified_minor };
        match pending {
            None => {
                self.record(i, now, reg, now);
                // `record` publishes only color changes; registration is
                // always published.
                if self.rules.at(&self.people[i].state, now).color() == crate::color::Color::Green {
                    self.publish(i, now);
                }
            }
            Some(facts) => {
                for (at, rec) in facts {
                    self.journal_append(i, at, rec);
                    self.note_side(i, at, &rec);
                }
                self.journal_append(i, now, reg);
                self.replay(i, now);
                self.schedule_release(i);
            }
        }
        i
    }

    pub(super) fn apply_family(
        &mut self,
        now: Minute,
        proxy: CodeId,
        member: &Identity,
        relation: Relation,
    ) -> Response {
        let Some(p) = self.own(proxy) else {
            return Response::Refused(Refusal::NotRegistered);
        };
        let Some(limits) = self.rules.family().cloned() else {
            return Response::Refused(Refusal::Other {
                message: format!("{} offers no family application", self.rules.title()),
            });
        };
        let existing = match self.locked(member) {
            Err(r) => return Response::Refused(r),
            Ok(e) => e,
        };
        let links = self.side.family.get(&(p as u32));
        if let Some(m) = existing {
            if m == p {
                return Response::Refused(Refusal::Other {
                    message: "a user cannot apply for themselves as a family member".into(),
                });
            }
            if links.is_some_and(|l| l.iter().any(|(x, _)| *x as usize == m)) {
                return self.issued(m, now);
            }
        }
        let eligible = match relation {
            Relation::Parent => limits.parent_min_age.is_none_or(|a| member.age >= a),
            Relation::Child => limits.child_max_age.is_none_or(|a| member.age <= a),
            Relation::Spouse | Relation::Relative => true,
        };
        if !eligible {
            return Response::Refused(Refusal::FamilyNotEligible { relation });
        }
        let of_relation = links.map_or(0, |l| l.iter().filter(|(_, r)| *r == relation).count());
        let total = links.map_or(0, |l| l.len());
        let limit = match relation {
            Relation::Parent => limits.parent,
            Relation::Child => limits.child,
            Relation::Spouse => limits.spouse,
            Relation::Relative => limits.relative,
        };
        if let Some(limit) = limit.filter(|l| of_relation >= *l as usize) {
            return Response::Refused(Refusal::FamilyLimit { relation, limit });
        }
        if let Some(limit) = limits.total.filter(|l| total >= *l as usize) {
            return Response::Refused(Refusal::FamilyLimit { relation, limit });
        }
        // The member verifies their face on the proxy's phone.
        let m = match existing {
            Some(m) => m,
            None => self.register(now, member, false),
        };
        self.durable(|| super::LogEntry::Family {
            proxy: p as u32,
            member: m as u32,
            relation,
        });
        self.side
            .family
            .entry(p as u32)
            .or_default()
            .push((m as u32, relation));
        self.issued(m, now)
    }

    /// Codes a user applied for on behalf of family members, in order.
    pub fn family_of(&self, proxy: CodeId) -> Vec<(CodeId, Relation)> {
        self.own(proxy)
            .and_then(|p| self.side.family.get(&(p as u32)))
            .map_or_else(Vec::new, |l| {
                l.iter()
                    .map(|(m, r)| (self.code_of(*m as usize), *r))
                    .collect()
            })
    }
}
