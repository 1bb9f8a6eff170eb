//! Faults as scenario data: what goes wrong, where and when.
//!
//! ```toml
//! [[fault]]
//! kind = "hub-partition"        # the province cannot reach the national hub
//! province = "guangdong"
//! from = "2020-10-01T08:00"
//! until = "2020-10-01T14:00"
//!
//! [[fault]]
//! kind = "slow-hub"             # hub answers come late; too late = unreachable
//! province = "sichuan"          # optional: every province
//! from = "2020-10-01T09:00"
//! until = "2020-10-01T11:00"
//! added_ms = 900                # added latency, 0.5–1.5 × this per query
//! timeout_ms = 1000             # the provinces' hub timeout (default 1000)
//!
//! [[fault]]
//! kind = "platform-crash"       # the provincial platform loses its memory
//! province = "anhui"
//! at = "2020-10-01T10:00"
//! restart_after = 30            # minutes; it recovers from its durable log
//!
//! [[fault]]
//! kind = "feed-delay"           # feeds issued in the window arrive late
//! feeds = ["nat"]               # designation, quarantine, nat, igg, risk-area, stay, entry, ...
//! from = "2020-10-01T00:00"
//! until = "2020-10-02T00:00"
//! delay_hours = 6
//!
//! [[fault]]
//! kind = "feed-duplicate"       # ... arrive twice
//! feeds = ["designation"]
//!
//! [[fault]]
//! kind = "feed-reorder"         # ... each held 0..=spread minutes, so later
//! feeds = ["designation", "quarantine"]   # ones overtake earlier ones
//! spread_minutes = 120
//! ```
//!
//! Feed faults are applied here, at the tick barrier, to the health
//! authority's feeds; platform faults (partition, slow hub, crash) by the
//! in-process adapter (`hcsim_adapters::faults`). Both are fixed functions
//! of the scenario and seed.

use crate::rng::mix;
use crate::scenario::{kind_name, InputError, Section};
use crate::surge::RunWindow;
use hcsim_adapters::faults::{Crash, Partition, PlatformFaultEffect, PlatformFaults, SlowHub};
use hcsim_platform::api::{Credential, Feed, Issuer, Refusal, Request, Response};
use hcsim_platform::{Color, Decision, Minute, ProvinceId};
use hcsim_reports::summary::{FaultReport, FaultSummary};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    HubPartition,
    SlowHub,
    PlatformCrash,
    FeedDelay,
    FeedDuplicate,
    FeedReorder,
}

const KINDS: [(&str, FaultKind); 6] = [
    ("hub-partition", FaultKind::HubPartition),
    ("slow-hub", FaultKind::SlowHub),
    ("platform-crash", FaultKind::PlatformCrash),
    ("feed-delay", FaultKind::FeedDelay),
    ("feed-duplicate", FaultKind::FeedDuplicate),
    ("feed-reorder", FaultKind::FeedReorder),
];

impl FaultKind {
    pub fn as_str(self) -> &'static str {
        kind_name(&KINDS, self)
    }

    fn is_feed(self) -> bool {
        matches!(
            self,
            FaultKind::FeedDelay | FaultKind::FeedDuplicate | FaultKind::FeedReorder
        )
    }
}

/// The data feeds, by the names scenario files use.
const FEEDS: [&str; 11] = [
    "designation",
    "quarantine",
    "nat",
    "igg",
    "same-building",
    "stay",
    "risk-area",
    "entry",
    "roaming",
    "credit",
    "authority-color",
];

fn feed_name(f: &Feed) -> &'static str {
    match f {
        Feed::Designation { .. } => "designation",
        Feed::Quarantine { .. } => "quarantine",
        Feed::NatResult { .. } => "nat",
        Feed::IggResult { .. } => "igg",
        Feed::SameBuildingCase { .. } => "same-building",
        Feed::Stay { .. } => "stay",
        Feed::RiskArea { .. } => "risk-area",
        Feed::Entry { .. } => "entry",
        Feed::Roaming { .. } => "roaming",
        Feed::CreditViolation { .. } => "credit",
        Feed::AuthorityColor { .. } => "authority-color",
    }
}

/// A validated `[[fault]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    pub kind: FaultKind,
    /// `None`: every province (slow-hub without one, feed faults).
    pub province: Option<ProvinceId>,
    /// The window: for a crash, from the crash to the restart.
    pub from: Minute,
    pub until: Minute,
    /// Feed names this fault touches (feed faults).
    pub feeds: Vec<&'static str>,
    pub added_ms: u32,
    pub timeout_ms: u32,
    pub delay_minutes: u32,
    pub spread_minutes: u32,
}

impl FaultSpec {
    fn covers(&self, now: Minute) -> bool {
        self.from <= now && now < self.until
    }

    fn touches(&self, feed: &Feed) -> bool {
        self.feeds.contains(&feed_name(feed))
    }
}

/// The platform faults of a scenario, for the in-process adapter.
pub fn platform_faults(specs: &[FaultSpec]) -> PlatformFaults {
    let mut plan = PlatformFaults::default();
    for (fault, s) in specs.iter().enumerate() {
        match (s.kind, s.province) {
            (FaultKind::HubPartition, Some(province)) => plan.partitions.push(Partition {
                fault,
                province,
                from: s.from,
                until: s.until,
            }),
            (FaultKind::SlowHub, province) => plan.slow.push(SlowHub {
                fault,
                province,
                from: s.from,
                until: s.until,
                added_ms: s.added_ms,
                timeout_ms: s.timeout_ms,
            }),
            (FaultKind::PlatformCrash, Some(province)) => plan.crashes.push(Crash {
                fault,
                province,
                at: s.from,
                restart: s.until,
            }),
            _ => {}
        }
    }
    plan
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultFile {
    kind: Spanned<String>,
    #[serde(default)]
    province: Option<Spanned<String>>,
    #[serde(default)]
    from: Option<Spanned<String>>,
    #[serde(default)]
    until: Option<Spanned<String>>,
    #[serde(default)]
    at: Option<Spanned<String>>,
    #[serde(default)]
    restart_after: Option<Spanned<i64>>,
    #[serde(default)]
    added_ms: Option<Spanned<i64>>,
    #[serde(default)]
    timeout_ms: Option<Spanned<i64>>,
    #[serde(default)]
    feeds: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    delay_hours: Option<Spanned<f64>>,
    #[serde(default)]
    spread_minutes: Option<Spanned<i64>>,
}

const WEEK_MINUTES: i64 = 7 * 1440;

pub(crate) fn validate(
    path: &Path,
    text: &str,
    files: &[Spanned<FaultFile>],
    run: &RunWindow,
) -> Result<Vec<FaultSpec>, InputError> {
    let mut specs = Vec::new();
    for (n, entry) in files.iter().enumerate() {
        let f = entry.get_ref();
        let section = Section::new(path, text, format!("fault[{}]", n + 1));
        let err = |span: Range<usize>, name: &str, msg: String| section.err(span, name, msg);
        let kind = section.kind(&KINDS, &f.kind, "fault")?;
        let missing = |name: &str, why: &str| {
            err(
                entry.span(),
                name,
                format!("missing: a `{}` fault needs {why}", kind.as_str()),
            )
        };
        let not_for = |span: Range<usize>, name: &str| {
            err(
                span,
                name,
                format!("does not apply to a `{}` fault", kind.as_str()),
            )
        };
        let whole = |v: &Option<Spanned<i64>>, name: &str, lo: i64, hi: i64, unit: &str| {
            let unit = format!(" {unit}");
            // Within `lo..=hi`, which callers keep inside `u32`.
            Ok::<_, InputError>(section.ranged(v, name, lo..=hi, &unit)?.map(|x| x as u32))
        };
        let time = |v: &Spanned<String>, name: &str| {
            Minute::parse(v.get_ref()).map_err(|m| err(v.span(), name, m))
        };

        // Which fields each kind takes.
        let crash = kind == FaultKind::PlatformCrash;
        let applies: [(&str, bool, Option<Range<usize>>); 9] = [
            ("from", !crash, f.from.as_ref().map(|x| x.span())),
            ("until", !crash, f.until.as_ref().map(|x| x.span())),
            ("at", crash, f.at.as_ref().map(|x| x.span())),
            (
                "restart_after",
                crash,
                f.restart_after.as_ref().map(|x| x.span()),
            ),
            (
                "added_ms",
                kind == FaultKind::SlowHub,
                f.added_ms.as_ref().map(|x| x.span()),
            ),
            (
                "timeout_ms",
                kind == FaultKind::SlowHub,
                f.timeout_ms.as_ref().map(|x| x.span()),
            ),
            ("feeds", kind.is_feed(), f.feeds.as_ref().map(|x| x.span())),
            (
                "delay_hours",
                kind == FaultKind::FeedDelay,
                f.delay_hours.as_ref().map(|x| x.span()),
            ),
            (
                "spread_minutes",
                kind == FaultKind::FeedReorder,
                f.spread_minutes.as_ref().map(|x| x.span()),
            ),
        ];
        for (name, ok, span) in applies {
            if let (false, Some(span)) = (ok, span) {
                return Err(not_for(span, name));
            }
        }

        let province = match &f.province {
            None => None,
            Some(k) if kind.is_feed() => return Err(not_for(k.span(), "province")),
            Some(k) => {
                let p = section.province(k, "province")?;
                if !run.provinces.contains(&p) {
                    return Err(err(
                        k.span(),
                        "province",
                        format!("{} is not simulated: add it to `provinces`", p.key()),
                    ));
                }
                Some(p)
            }
        };
        if province.is_none() && matches!(kind, FaultKind::HubPartition | FaultKind::PlatformCrash)
        {
            return Err(missing("province", "the province it happens to"));
        }

        let (from, until, window_span) = if crash {
            let at =
                f.at.as_ref()
                    .ok_or_else(|| missing("at", "the time of the crash"))?;
            let minutes = whole(
                &f.restart_after,
                "restart_after",
                1,
                WEEK_MINUTES,
                "minutes",
            )?
            .ok_or_else(|| missing("restart_after", "the minutes until the restart"))?;
            let from = time(at, "at")?;
            (from, from.plus_minutes(minutes), at.span())
        } else {
            let (from, until) = match (&f.from, &f.until) {
                (None, _) => return Err(missing("from", "the start of its window")),
                (_, None) => return Err(missing("until", "the end of its window")),
                (Some(a), Some(b)) => (a, b),
            };
            let (start, end) = (time(from, "from")?, time(until, "until")?);
            if end <= start {
                return Err(err(
                    until.span(),
                    "until",
                    format!("{end} is not after from {start}"),
                ));
            }
            (start, end, from.span())
        };
        if from < run.start || from >= run.end {
            let name = if crash { "at" } else { "from" };
            return Err(err(
                window_span,
                name,
                format!(
                    "{from} is outside the run ({} → {}): the fault would never happen",
                    run.start, run.end
                ),
            ));
        }

        let feeds = match &f.feeds {
            None if kind.is_feed() => {
                return Err(missing("feeds", "the feeds it touches, e.g. [\"nat\"]"))
            }
            None => Vec::new(),
            Some(list) => {
                let mut names = Vec::new();
                for name in list.get_ref() {
                    let known = FEEDS.iter().find(|f| **f == name).ok_or_else(|| {
                        err(
                            list.span(),
                            "feeds",
                            format!("unknown feed `{name}`; known: {}", FEEDS.join(", ")),
                        )
                    })?;
                    names.push(*known);
                }
                if names.is_empty() {
                    return Err(err(list.span(), "feeds", "the list is empty".into()));
                }
                names
            }
        };
        let added_ms = whole(&f.added_ms, "added_ms", 1, 600_000, "ms")?;
        if kind == FaultKind::SlowHub && added_ms.is_none() {
            return Err(missing("added_ms", "the latency it adds"));
        }
        let timeout_ms = whole(&f.timeout_ms, "timeout_ms", 1, 600_000, "ms")?.unwrap_or(1000);
        let delay_minutes = match &f.delay_hours {
            None if kind == FaultKind::FeedDelay => {
                return Err(missing("delay_hours", "how many hours late the feeds come"))
            }
            None => 0,
            Some(h) if *h.get_ref() > 0.0 && *h.get_ref() <= 720.0 => {
                (h.get_ref() * 60.0).round() as u32
            }
            Some(h) => {
                return Err(err(
                    h.span(),
                    "delay_hours",
                    format!(
                        "{} is out of range: must be > 0 and at most 720",
                        h.get_ref()
                    ),
                ))
            }
        };
        let spread_minutes = whole(
            &f.spread_minutes,
            "spread_minutes",
            1,
            WEEK_MINUTES,
            "minutes",
        )?;
        if kind == FaultKind::FeedReorder && spread_minutes.is_none() {
            return Err(missing("spread_minutes", "the longest a feed is held back"));
        }
        specs.push(FaultSpec {
            kind,
            province,
            from,
            until,
            feeds,
            added_ms: added_ms.unwrap_or(0),
            timeout_ms,
            delay_minutes,
            spread_minutes: spread_minutes.unwrap_or(0),
        });
    }
    Ok(specs)
}

/// Verdicts and feeds a fault touched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Touched {
    scans: u64,
    cross_province_scans: u64,
    pass: u64,
    refer: u64,
    refuse: u64,
    busy: u64,
    unknown: u64,
    cross_province_green: u64,
    feeds_delayed: u64,
    feeds_duplicated: u64,
    feeds_reordered: u64,
}

const FAULT_SALT: u64 = 0x4641_554c_5400_0000; // "FAULT"

/// The feed faults at the tick barrier, and what every fault touched.
pub struct Faults {
    seed: u64,
    specs: Vec<FaultSpec>,
    /// Feeds held back: (due minute, order held) → feed.
    held: BTreeMap<(u32, u64), Request>,
    next: u64,
    touched: Vec<Touched>,
}

impl Faults {
    pub fn new(seed: u64, specs: &[FaultSpec]) -> Faults {
        Faults {
            seed,
            specs: specs.to_vec(),
            held: BTreeMap::new(),
            next: 0,
            touched: vec![Touched::default(); specs.len()],
        }
    }

    fn hold(&mut self, due: Minute, req: Request) {
        self.held.insert((due.0, self.next), req);
        self.next += 1;
    }

    /// The authority's feeds of this tick, as they reach the platform: some
    /// held back, some twice, plus earlier ones that come due now.
    pub fn feeds(&mut self, now: Minute, issued: Vec<Request>) -> Vec<Request> {
        if self.specs.is_empty() {
            return issued;
        }
        let mut out = Vec::new();
        for (n, req) in issued.into_iter().enumerate() {
            let Request::Feed { feed, .. } = &req else {
                out.push(req);
                continue;
            };
            let mut copies = 1;
            let mut due = now;
            for (k, s) in self.specs.iter().enumerate() {
                if !s.covers(now) || !s.touches(feed) {
                    continue;
                }
                match s.kind {
                    FaultKind::FeedDuplicate if copies == 1 => {
                        copies = 2;
                        self.touched[k].feeds_duplicated += 1;
                    }
                    FaultKind::FeedDelay if due == now => {
                        due = now.plus_minutes(s.delay_minutes);
                        self.touched[k].feeds_delayed += 1;
                    }
                    FaultKind::FeedReorder if due == now => {
                        // Keyed by the feed's place among the tick's feeds,
                        // so other faults do not change how it is reordered.
                        let h = mix(
                            self.seed,
                            FAULT_SALT | k as u64,
                            (now.0 as u64) << 32 | n as u64,
                        );
                        due = now.plus_minutes((h % (s.spread_minutes as u64 + 1)) as u32);
                        self.touched[k].feeds_reordered += 1;
                    }
                    _ => {}
                }
            }
            for _ in 1..copies {
                self.hold(due, req.clone());
            }
            self.hold(due, req);
        }
        let later = self.held.split_off(&(now.0 + 1, 0));
        out.extend(std::mem::replace(&mut self.held, later).into_values());
        out
    }

    /// Feeds still held when the run ended.
    pub fn undelivered(&self) -> u64 {
        self.held.len() as u64
    }

    /// Notes the answer to a scan in a fault's province during its window.
    pub fn observe(&mut self, now: Minute, request: &Request, response: &Response) {
        let (province, cross) = match request {
            Request::Verify {
                credential, place, ..
            } => {
                let p = place.county.province;
                let cross = match credential {
                    Credential::Code(c) | Credential::Offline { code: c, .. } => {
                        c.issuer != Issuer::Province(p)
                    }
                    Credential::IdCard(d) => {
                        ProvinceId::from_admin_code((d.0 / 1_000_000_000_000_000) as u8)
                            .is_some_and(|q| q != p)
                    }
                };
                (p, cross)
            }
            Request::PlaceScan { code, place, .. } => {
                let p = place.county.province;
                (p, code.issuer != Issuer::Province(p))
            }
            _ => return,
        };
        for (k, s) in self.specs.iter().enumerate() {
            if s.kind.is_feed() || !s.covers(now) || s.province.is_some_and(|q| q != province) {
                continue;
            }
            let t = &mut self.touched[k];
            t.scans += 1;
            t.cross_province_scans += u64::from(cross);
            match response {
                Response::Verdict(v) => {
                    match v.decision {
                        Decision::Pass => t.pass += 1,
                        Decision::Refer => t.refer += 1,
                        Decision::Refuse => t.refuse += 1,
                    }
                    t.cross_province_green += u64::from(cross && v.color == Color::Green);
                }
                Response::Busy => t.busy += 1,
                // A province that refers when the hub does not answer says
                // so with this refusal rather than a verdict.
                Response::Refused(Refusal::HubUnreachable) => t.refer += 1,
                _ => t.unknown += 1,
            }
        }
    }

    /// The `faults` section of summary.json, with what the adapter saw.
    pub fn report(&self, platform: &[PlatformFaultEffect]) -> FaultReport {
        let mut report = FaultReport::default();
        for (k, s) in self.specs.iter().enumerate() {
            let t = &self.touched[k];
            let e = platform.get(k).cloned().unwrap_or_default();
            let audited = s.kind == FaultKind::PlatformCrash;
            report.records_recovered += e.records_recovered;
            report.lost_acknowledged_records += e.lost_acknowledged;
            report.acknowledged_checked += e.acknowledged_checked;
            report.crashes_recovered += u64::from(audited && e.restarted);
            report.acknowledged_unchecked += e.acknowledged_unchecked;
            if audited && !e.restarted {
                if let Some(p) = s.province {
                    report.down_at_end.push(p.key().to_string());
                }
            }
            report.faults.push(FaultSummary {
                kind: s.kind.as_str().to_string(),
                province: s.province.map_or("all", |p| p.key()).to_string(),
                from: s.from.to_string(),
                until: s.until.to_string(),
                feeds: s.feeds.iter().map(|f| f.to_string()).collect(),
                scans: t.scans,
                cross_province_scans: t.cross_province_scans,
                pass: t.pass,
                refer: t.refer,
                refuse: t.refuse,
                busy: t.busy,
                unknown: t.unknown,
                cross_province_green: t.cross_province_green,
                hub_unreachable: e.hub_unreachable,
                publications_held: e.publications_held,
                requests_while_down: e.requests_while_down,
                feeds_redelivered: e.feeds_redelivered,
                restarted: audited.then_some(e.restarted),
                records_recovered: e.records_recovered,
                registrations_recovered: e.registrations_recovered,
                torn_bytes_dropped: e.torn_bytes_dropped,
                acknowledged_checked: e.acknowledged_checked,
                lost_acknowledged_records: e.lost_acknowledged,
                acknowledged_unchecked: e.acknowledged_unchecked,
                feeds_delayed: t.feeds_delayed,
                feeds_duplicated: t.feeds_duplicated,
                feeds_reordered: t.feeds_reordered,
            });
        }
        report.feeds_undelivered = self.undelivered();
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcsim_platform::api::CaseStatus;
    use hcsim_platform::identity::DocNumber;

    fn spec(kind: FaultKind, feeds: &[&'static str]) -> FaultSpec {
        FaultSpec {
            kind,
            province: None,
            from: Minute(100),
            until: Minute(200),
            feeds: feeds.to_vec(),
            added_ms: 0,
            timeout_ms: 1000,
            delay_minutes: 60,
            spread_minutes: 30,
        }
    }

    fn designation(n: u64) -> Request {
        Request::Feed {
            to: None,
            feed: Feed::Designation {
                person: DocNumber(n),
                status: CaseStatus::Confirmed,
                at: Minute(100),
            },
        }
    }

    #[test]
    fn delays_duplicates_and_lets_others_through() {
        let mut f = Faults::new(
            1,
            &[
                spec(FaultKind::FeedDelay, &["designation"]),
                spec(FaultKind::FeedDuplicate, &["designation"]),
            ],
        );
        let risk = Request::Feed {
            to: None,
            feed: Feed::RiskArea {
                county: hcsim_platform::api::CountyRef {
                    province: ProvinceId(0),
                    county: 0,
                },
                level: hcsim_platform::api::RiskLevel::High,
                at: Minute(100),
            },
        };
        let now = f.feeds(Minute(100), vec![designation(1), risk.clone()]);
        assert_eq!(now, vec![risk]);
        assert!(f.feeds(Minute(159), Vec::new()).is_empty());
        assert_eq!(
            f.feeds(Minute(160), Vec::new()),
            vec![designation(1), designation(1)]
        );
        assert_eq!(f.undelivered(), 0);
        // Outside the window nothing happens.
        assert_eq!(
            f.feeds(Minute(200), vec![designation(2)]),
            vec![designation(2)]
        );
        let r = f.report(&[]);
        assert_eq!(r.faults[0].feeds_delayed, 1);
        assert_eq!(r.faults[1].feeds_duplicated, 1);
    }

    #[test]
    fn reordering_holds_each_feed_within_the_spread() {
        let mut f = Faults::new(7, &[spec(FaultKind::FeedReorder, &["designation"])]);
        let sent: Vec<Request> = (0..50).map(designation).collect();
        let mut got = f.feeds(Minute(100), sent.clone());
        for m in 101..=130 {
            got.extend(f.feeds(Minute(m), Vec::new()));
        }
        assert_eq!(got.len(), 50);
        assert_ne!(got, sent, "some feeds overtake others");
        let mut sorted = got.clone();
        sorted.sort_by_key(|r| match r {
            Request::Feed {
                feed: Feed::Designation { person, .. },
                ..
            } => person.0,
            _ => u64::MAX,
        });
        assert_eq!(sorted, sent);
    }
}
