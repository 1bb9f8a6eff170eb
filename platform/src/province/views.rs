//! What the platform shows: verdicts at checkpoints, the holder's own health
//! page, the journal. Personal data leaves only as `MaskedIdentity`.

use super::journal::{view, Record};
use super::ProvincePlatform;
use crate::api::{
    CodeId, Explanation, Issuer, NatShown, RecordView, Response, ResumeBasis, Verdict,
};
use crate::color::Color;
use crate::rules::{NatDisplay, State};
use crate::time::Minute;

impl ProvincePlatform {
    /// Why the code has its color and how to get back to green, for the
    /// colors the scheme explains (Guangdong: red).
    pub(super) fn explanation(&self, state: &State) -> Option<Explanation> {
        let color = state.color();
        if color == Color::Green || !self.rules.explains(color) {
            return None;
        }
        let trigger = self.rules.triggers().get(state.reason()?)?;
        let release = self.rules.release(color)?;
        Some(Explanation::new(
            trigger.reason.clone(),
            release.guidance.clone(),
        ))
    }

    /// Hubei shows only the most recent negative NAT result.
    pub(super) fn nat_shown(&self, i: usize) -> Option<NatShown> {
        match self.rules.nat_display() {
            NatDisplay::None => None,
            NatDisplay::LatestNegative => self.side.nat.get(&(i as u32))?.latest_negative,
        }
    }

    /// Person `i` as checkpoint staff and the holder see them: masked.
    fn holder(&self, i: usize) -> crate::identity::MaskedIdentity {
        let id = self.people[i].identity();
        #[cfg(feature = "mutant")]
        if self.rules.mutant() == Some(crate::rules::Mutant::MaskOneShort) {
            return id.masked_one_short();
        }
        id.masked()
    }

    pub(super) fn verdict(&self, i: usize, now: Minute) -> Verdict {
        let p = &self.people[i];
        let state = self.rules.at(&p.state, now);
        let color = state.color();
        Verdict {
            color,
            issuer: Issuer::Province(self.province),
            decision: self.rules.checkpoint_decision(color),
            holder: self.holder(i),
            explanation: self.explanation(&state),
            nat: self.nat_shown(i),
            via_hub: false,
            resume_work: self.green_code_resume(i, color, now),
        }
    }

    pub(super) fn health(&self, i: usize, now: Minute) -> Response {
        let p = &self.people[i];
        let state = self.rules.at(&p.state, now);
        Response::Health {
            color: state.color(),
            holder: self.holder(i),
            explanation: self.explanation(&state),
            nat: self.nat_shown(i),
            credit_violations: self
                .rules
                .credit_record()
                .then(|| self.side.credit.get(&(i as u32)).copied().unwrap_or(0)),
            resume_work: self.green_code_resume(i, state.color(), now),
        }
    }

    /// The third form of the resume-work rule: a green code carrying a
    /// qualifying result, checked as if arriving at the scan.
    fn green_code_resume(&self, i: usize, color: Color, now: Minute) -> Option<ResumeBasis> {
        if color != Color::Green {
            return None;
        }
        let rule = self.rules.resume_work()?;
        let side = self.side.nat.get(&(i as u32))?;
        if let Some(n) = side.latest_negative {
            if n.at <= now && now.since(n.at) <= rule.nat_days_before_arrival as u32 * 1440 {
                return Some(ResumeBasis::NegativeNat {
                    at: n.at,
                    institution: n.institution,
                });
            }
        }
        match side.latest_igg_positive {
            Some(at) if rule.igg_positive && at <= now => Some(ResumeBasis::PositiveIgg { at }),
            _ => None,
        }
    }

    /// Hubei: whether a person leaving may resume work at a destination
    /// reached at `arrival`: a negative NAT within the rule's days before
    /// arrival, or (if the rule accepts it) a positive IgG taken before.
    /// `None` when neither holds, the code is unknown, or the scheme has no
    /// such rule.
    pub fn resume_work_ok(&self, code: CodeId, arrival: Minute) -> Option<ResumeBasis> {
        let i = self.own(code)?;
        let rule = self.rules.resume_work()?;
        let window = rule.nat_days_before_arrival as u32 * 1440;
        let mut igg = None;
        // Newest first: the first qualifying NAT is the one to show.
        for (_, e) in self.journal.chain(self.people[i].head) {
            match e.record {
                Record::Nat {
                    positive: false,
                    institution,
                } if e.at <= arrival && arrival.since(e.at) <= window => {
                    return Some(ResumeBasis::NegativeNat {
                        at: e.at,
                        institution,
                    });
                }
                Record::Igg { positive: true } if rule.igg_positive && e.at <= arrival => {
                    igg = igg.or(Some(ResumeBasis::PositiveIgg { at: e.at }));
                }
                _ => {}
            }
        }
        igg
    }

    /// The holder's journal in `seq` order.
    pub fn records_of(&self, code: CodeId) -> Option<Vec<RecordView>> {
        let i = self.own(code)?;
        let mut v: Vec<RecordView> = self
            .journal
            .chain(self.people[i].head)
            .map(|(seq, e)| view(seq, &e))
            .collect();
        v.reverse();
        Some(v)
    }

    /// Records the holder filed (declarations, temperatures, place scans),
    /// in `seq` order; the last one is the one that counts.
    pub fn filed_records_of(&self, code: CodeId) -> Option<Vec<RecordView>> {
        let i = self.own(code)?;
        let mut v: Vec<RecordView> = self
            .journal
            .chain(self.people[i].head)
            .filter(|(_, e)| e.record.filed())
            .map(|(seq, e)| view(seq, &e))
            .collect();
        v.reverse();
        Some(v)
    }

    /// Qinghai: entries on the holder's credit record.
    pub fn credit_violations(&self, code: CodeId) -> Option<u16> {
        let i = self.own(code)?;
        Some(self.side.credit.get(&(i as u32)).copied().unwrap_or(0))
    }
}
