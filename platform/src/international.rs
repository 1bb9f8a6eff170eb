//! 防疫健康码国际版: the international version, for Chinese citizens flying
//! to China (source: seeds/001, the official FAQ).
//!
//! Self-contained so that the national hub can serve it: daily declarations
//! valid 24 h from filing, the consecutive streak from the 14th day before
//! boarding, the expiry reminder, trip-risk alerts, proxy filing for the
//! elderly and children, identity locking and the transit exemption.
//! Declarations are append-only: a wrongly declared symptom cannot be
//! withdrawn, it restarts the streak.

use crate::api::{IntlDeclaration, IntlStatus, Refusal, TripAlert};
use crate::identity::{DocKind, DocNumber, Identity};
use crate::rules::IntlParams;
use crate::time::{Minute, MINUTES_PER_DAY, MINUTES_PER_HOUR};
use rustc_hash::FxHashMap;

/// A leg's stop on the way to China.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Transit {
    /// ISO 3166 numeric code.
    pub country: u16,
    /// The passenger left the airport (then it is a departure, not a transit).
    pub left_airport: bool,
}

#[derive(Copy, Clone, Debug)]
struct Filed {
    seq: u64,
    at: Minute,
    d: IntlDeclaration,
}

#[derive(Debug)]
struct Person {
    identity: Identity,
    /// The account that files for this person when it is not their own.
    proxy: Option<u64>,
    /// People this account files for, in the order they were added.
    proxied: Vec<u32>,
    filed: Vec<Filed>,
}

pub struct IntlDeclarations {
    params: IntlParams,
    /// Account → the person it was verified as (locked).
    accounts: FxHashMap<u64, u32>,
    by_document: FxHashMap<DocNumber, u32>,
    people: Vec<Person>,
    seq: u64,
}

impl IntlDeclarations {
    pub fn new(params: IntlParams) -> IntlDeclarations {
        IntlDeclarations {
            params,
            accounts: FxHashMap::default(),
            by_document: FxHashMap::default(),
            people: Vec::new(),
            seq: 0,
        }
    }

    pub fn params(&self) -> &IntlParams {
        &self.params
    }

    /// Whether a passenger must declare: departing from a listed country
    /// does; transiting through one without leaving the airport does not.
    pub fn must_declare(&self, departure_country: u16, transits: &[Transit]) -> bool {
        let listed = |c: u16| {
            self.params
                .listed_countries
                .as_ref()
                .is_none_or(|l| l.binary_search(&c).is_ok())
        };
        listed(departure_country) || transits.iter().any(|t| t.left_airport && listed(t.country))
    }

    /// The person an account was verified as; the first identity locks the
    /// account, including which entry (ID card or passport) it used.
    fn account(&mut self, account: u64, identity: &Identity) -> Result<usize, Refusal> {
        if let Some(&i) = self.accounts.get(&account) {
            let locked = &self.people[i as usize].identity;
            return if same_person(locked, identity) {
                Ok(i as usize)
            } else {
                Err(Refusal::IdentityLocked)
            };
        }
        // A document already filed by someone else's account stays with it.
        if self.by_document.contains_key(&identity.number) {
            return Err(Refusal::IdentityLocked);
        }
        let i = self.add(identity, None);
        self.accounts.insert(account, i as u32);
        Ok(i)
    }

    fn add(&mut self, identity: &Identity, proxy: Option<u64>) -> usize {
        let i = self.people.len();
        self.people.push(Person {
            identity: *identity,
            proxy,
            proxied: Vec::new(),
            filed: Vec::new(),
        });
        self.by_document.insert(identity.number, i as u32);
        i
    }

    fn elderly_or_child(&self, age: u8) -> bool {
        age >= self.params.elderly_age || age <= self.params.child_max_age
    }

    /// Files one declaration, for the account's own person or (with
    /// `subject`) for an elderly person or child the account accompanies.
    pub fn declare(
        &mut self,
        now: Minute,
        account: u64,
        identity: &Identity,
        subject: Option<&Identity>,
        d: &IntlDeclaration,
    ) -> Result<(u64, IntlStatus), Refusal> {
        let filer = self.account(account, identity)?;
        let target = match subject {
            None => filer,
            Some(member) => {
                let proxy = &self.people[filer];
                if proxy.identity.doc != DocKind::IdCard {
                    return Err(Refusal::ProxyNotAllowed {
                        message: "a proxy must be verified with a resident ID card".into(),
                    });
                }
                if !self.valid_at(filer, now) {
                    return Err(Refusal::ProxyNotAllowed {
                        message: "a proxy must file their own declaration first".into(),
                    });
                }
                if !self.elderly_or_child(member.age) {
                    return Err(Refusal::ProxyNotAllowed {
                        message: format!(
                            "only people aged {} or more, or {} or under, can be declared by a proxy",
                            self.params.elderly_age, self.params.child_max_age
                        ),
                    });
                }
                match self.by_document.get(&member.number) {
                    Some(&m) => {
                        let m = m as usize;
                        let p = &self.people[m];
                        if !same_person(&p.identity, member) || p.proxy != Some(account) {
                            return Err(Refusal::IdentityLocked);
                        }
                        m
                    }
                    None => {
                        let m = self.add(member, Some(account));
                        self.people[filer].proxied.push(m as u32);
                        m
                    }
                }
            }
        };
        self.seq += 1;
        let seq = self.seq;
        self.people[target].filed.push(Filed {
            seq,
            at: now,
            d: *d,
        });
        Ok((seq, self.status_of(target, now)))
    }

    /// The status of the account's own code, or of a person it files for.
    pub fn status(
        &self,
        now: Minute,
        account: u64,
        subject: Option<DocNumber>,
    ) -> Result<IntlStatus, Refusal> {
        let &own = self.accounts.get(&account).ok_or(Refusal::NotRegistered)?;
        let target = match subject {
            None => own as usize,
            Some(doc) => {
                let &m = self.by_document.get(&doc).ok_or(Refusal::NotRegistered)?;
                if self.people[m as usize].proxy != Some(account) && m != own {
                    return Err(Refusal::NotRegistered);
                }
                m as usize
            }
        };
        Ok(self.status_of(target, now))
    }

    fn validity(&self) -> u32 {
        self.params.validity_hours * MINUTES_PER_HOUR
    }

    fn valid_at(&self, i: usize, now: Minute) -> bool {
        self.people[i]
            .filed
            .last()
            .is_some_and(|f| f.at <= now && now.since(f.at) < self.validity())
    }

    fn unfit(&self, d: &IntlDeclaration) -> bool {
        d.temperature >= self.params.fever || d.symptoms || d.positive_test || d.contact
    }

    /// The first declaration of the current streak: declarations no more
    /// than the validity apart, all fit, the newest still valid at `now`.
    fn streak_start(&self, i: usize, now: Minute) -> Option<Minute> {
        let filed = &self.people[i].filed;
        let last = filed.last()?;
        if now.since(last.at) >= self.validity() || self.unfit(&last.d) {
            return None;
        }
        let mut start = last.at;
        for pair in filed.windows(2).rev() {
            let (earlier, later) = (&pair[0], &pair[1]);
            if later.at.since(earlier.at) > self.validity() || self.unfit(&earlier.d) {
                break;
            }
            start = earlier.at;
        }
        Some(start)
    }

    /// The first calendar day from which daily declarations are required
    /// for a flight at `departure`.
    fn required_from_day(&self, departure: Minute) -> u32 {
        match self.params.transition {
            Some((s, e)) if (s.day()..=e.day()).contains(&departure.day()) => s.day(),
            _ => departure.day().saturating_sub(self.params.streak_days),
        }
    }

    fn status_of(&self, i: usize, now: Minute) -> IntlStatus {
        let p = &self.people[i];
        let last = p.filed.last();
        let valid_until = last.map(|f| f.at.plus_minutes(self.validity()));
        let valid = self.valid_at(i, now);
        let streak_start = self.streak_start(i, now);
        let departure = last.map(|f| f.d.departure);
        let mut alerts = Vec::new();
        if let Some(dep) = departure.filter(|d| *d > now) {
            let required = self.required_from_day(dep);
            // Broken or never started: the earliest new streak starts now.
            let earliest = streak_start.unwrap_or(now);
            if earliest.day() > required {
                alerts.push(TripAlert::StreakCannotComplete {
                    required_from_day: Minute(required * MINUTES_PER_DAY),
                    earliest_start: earliest,
                });
            }
            let window_from = dep.day().saturating_sub(self.params.streak_days);
            for f in p
                .filed
                .iter()
                .filter(|f| f.at.day() >= window_from && f.at <= dep && self.unfit(&f.d))
            {
                alerts.push(TripAlert::UnfitDeclaration {
                    seq: f.seq,
                    at: f.at,
                    fever: f.d.temperature >= self.params.fever,
                    symptoms: f.d.symptoms,
                    positive_test: f.d.positive_test,
                    contact: f.d.contact,
                });
            }
        }
        IntlStatus {
            holder: p.identity.masked(),
            valid,
            valid_until,
            reminder_at: valid_until
                .map(|t| Minute(t.0.saturating_sub(self.params.reminder_hours * MINUTES_PER_HOUR))),
            streak_start,
            streak_days: streak_start.map_or(0, |s| now.day().saturating_sub(s.day()) + 1),
            departure,
            alerts,
            proxied: p
                .proxied
                .iter()
                .map(|&m| self.people[m as usize].identity.masked())
                .collect(),
        }
    }
}

/// Name, document kind and number all match: the locked identity.
fn same_person(locked: &Identity, other: &Identity) -> bool {
    locked.number == other.number && locked.name == other.name && locked.doc == other.doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::DeciCelsius;
    use crate::identity::NameCode;

    fn t(s: &str) -> Minute {
        Minute::parse(s).unwrap()
    }

    fn person(number: u64, age: u8, doc: DocKind) -> Identity {
        Identity {
            doc,
            number: DocNumber(number),
            name: NameCode::new(number as u32 % 7, 1, Some(2)),
            age,
        }
    }

    fn decl(departure: &str) -> IntlDeclaration {
        IntlDeclaration {
            temperature: DeciCelsius(365),
            symptoms: false,
            positive_test: false,
            contact: false,
            flight: 1234,
            departure: t(departure),
        }
    }

    fn intl() -> IntlDeclarations {
        IntlDeclarations::new(IntlParams::default())
    }

    /// Declares daily at `hour` for `days` days from `from`.
    fn daily(
        x: &mut IntlDeclarations,
        acc: u64,
        id: &Identity,
        from: &str,
        days: u32,
        d: &IntlDeclaration,
    ) {
        let start = t(from);
        for k in 0..days {
            x.declare(start.plus_days(k), acc, id, None, d).unwrap();
        }
    }

    #[test]
    fn a_declaration_is_valid_24_hours_from_filing_with_a_reminder_2_hours_before() {
        let mut x = intl();
        let me = person(11010519800101001, 40, DocKind::IdCard);
        let (_, s) = x
            .declare(
                t("2020-05-01T21:30"),
                1,
                &me,
                None,
                &decl("2020-05-20T10:00"),
            )
            .unwrap();
        assert!(s.valid);
        assert_eq!(s.valid_until, Some(t("2020-05-02T21:30")));
        assert_eq!(s.reminder_at, Some(t("2020-05-02T19:30")));
        assert!(x.status(t("2020-05-02T21:29"), 1, None).unwrap().valid);
        assert!(!x.status(t("2020-05-02T21:30"), 1, None).unwrap().valid);
    }

    #[test]
    fn fourteen_daily_declarations_complete_the_streak_without_alert() {
        let mut x = intl();
        let me = person(1, 40, DocKind::Passport);
        daily(
            &mut x,
            1,
            &me,
            "2020-05-06T09:00",
            14,
            &decl("2020-05-20T10:00"),
        );
        let s = x.status(t("2020-05-19T12:00"), 1, None).unwrap();
        assert_eq!(s.streak_start, Some(t("2020-05-06T09:00")));
        assert_eq!(s.streak_days, 14);
        assert!(s.alerts.is_empty(), "{:?}", s.alerts);
    }

    #[test]
    fn a_gap_over_24_hours_breaks_the_streak_and_raises_the_alert() {
        let mut x = intl();
        let me = person(1, 40, DocKind::IdCard);
        let d = decl("2020-05-20T10:00");
        daily(&mut x, 1, &me, "2020-05-06T09:00", 5, &d);
        // Next filing 25 hours after the last one (05-10 09:00).
        let (_, s) = x.declare(t("2020-05-11T10:00"), 1, &me, None, &d).unwrap();
        assert_eq!(s.streak_start, Some(t("2020-05-11T10:00")));
        assert!(matches!(
            s.alerts.as_slice(),
            [TripAlert::StreakCannotComplete { .. }]
        ));
        // Expired now: the streak is gone, the alert stays.
        let s = x.status(t("2020-05-12T11:00"), 1, None).unwrap();
        assert!(!s.valid);
        assert_eq!(s.streak_start, None);
        assert_eq!(s.streak_days, 0);
    }

    #[test]
    fn a_declared_symptom_cannot_be_withdrawn_and_restarts_the_14_days() {
        let mut x = intl();
        let me = person(1, 40, DocKind::IdCard);
        let d = decl("2020-05-15T10:00");
        daily(&mut x, 1, &me, "2020-05-01T09:00", 5, &d);
        let wrong = IntlDeclaration {
            symptoms: true,
            ..d
        };
        let (_, s) = x
            .declare(t("2020-05-06T09:00"), 1, &me, None, &wrong)
            .unwrap();
        assert_eq!(s.streak_start, None);
        // The next fit filing starts a new streak; the unfit one stays on record.
        let (_, s) = x.declare(t("2020-05-07T09:00"), 1, &me, None, &d).unwrap();
        assert_eq!(s.streak_start, Some(t("2020-05-07T09:00")));
        assert!(s
            .alerts
            .iter()
            .any(|a| matches!(a, TripAlert::UnfitDeclaration { symptoms: true, .. })));
        // 14 days later the symptom is out of the window before departure.
        daily(
            &mut x,
            1,
            &me,
            "2020-05-08T09:00",
            13,
            &decl("2020-05-25T10:00"),
        );
        let s = x.status(t("2020-05-20T12:00"), 1, None).unwrap();
        assert!(s.alerts.is_empty(), "{:?}", s.alerts);
    }

    #[test]
    fn fever_at_37_3_in_the_window_raises_an_alert() {
        let mut x = intl();
        let me = person(1, 40, DocKind::IdCard);
        let hot = IntlDeclaration {
            temperature: DeciCelsius(373),
            ..decl("2020-05-20T10:00")
        };
        let (_, s) = x
            .declare(t("2020-05-10T09:00"), 1, &me, None, &hot)
            .unwrap();
        assert!(s
            .alerts
            .iter()
            .any(|a| matches!(a, TripAlert::UnfitDeclaration { fever: true, .. })));
        let mut x = intl();
        let ok = IntlDeclaration {
            temperature: DeciCelsius(372),
            ..decl("2020-05-20T10:00")
        };
        daily(&mut x, 1, &me, "2020-05-06T09:00", 1, &ok);
        let s = x.status(t("2020-05-06T10:00"), 1, None).unwrap();
        assert!(!s
            .alerts
            .iter()
            .any(|a| matches!(a, TripAlert::UnfitDeclaration { .. })));
    }

    #[test]
    fn flight_changes_and_corrections_do_not_break_the_streak() {
        let mut x = intl();
        let me = person(1, 40, DocKind::IdCard);
        daily(
            &mut x,
            1,
            &me,
            "2020-05-01T09:00",
            3,
            &decl("2020-05-20T10:00"),
        );
        let changed = IntlDeclaration {
            flight: 999,
            ..decl("2020-05-22T10:00")
        };
        let (_, s) = x
            .declare(t("2020-05-04T09:00"), 1, &me, None, &changed)
            .unwrap();
        assert_eq!(s.streak_start, Some(t("2020-05-01T09:00")));
        assert_eq!(s.departure, Some(t("2020-05-22T10:00")));
    }

    #[test]
    fn the_transition_period_requires_declaring_from_april_8() {
        let params = IntlParams {
            transition: Some((t("2020-04-08"), t("2020-04-22"))),
            ..IntlParams::default()
        };
        let mut x = IntlDeclarations::new(params);
        let me = person(1, 40, DocKind::IdCard);
        let d = decl("2020-04-15T10:00");
        let (_, s) = x.declare(t("2020-04-08T20:00"), 1, &me, None, &d).unwrap();
        assert!(s.alerts.is_empty(), "{:?}", s.alerts);
        let mut x = IntlDeclarations::new(IntlParams {
            transition: Some((t("2020-04-08"), t("2020-04-22"))),
            ..IntlParams::default()
        });
        let (_, s) = x.declare(t("2020-04-09T20:00"), 1, &me, None, &d).unwrap();
        assert!(matches!(
            s.alerts.as_slice(),
            [TripAlert::StreakCannotComplete { .. }]
        ));
    }

    #[test]
    fn name_id_and_entry_lock_at_the_first_verification() {
        let mut x = intl();
        let me = person(1, 40, DocKind::IdCard);
        let d = decl("2020-05-20T10:00");
        x.declare(t("2020-05-01T09:00"), 1, &me, None, &d).unwrap();
        let renamed = Identity {
            name: NameCode::new(9, 9, None),
            ..me
        };
        let passport = Identity {
            doc: DocKind::Passport,
            ..me
        };
        let other_doc = Identity {
            number: DocNumber(2),
            ..me
        };
        for id in [renamed, passport, other_doc] {
            assert_eq!(
                x.declare(t("2020-05-02T09:00"), 1, &id, None, &d)
                    .unwrap_err(),
                Refusal::IdentityLocked
            );
        }
        // Another account cannot take over the same document.
        assert_eq!(
            x.declare(t("2020-05-02T09:00"), 2, &me, None, &d)
                .unwrap_err(),
            Refusal::IdentityLocked
        );
    }

    #[test]
    fn proxy_filing_for_the_elderly_and_children_only_after_the_proxy_declared() {
        let mut x = intl();
        let proxy = person(1, 40, DocKind::IdCard);
        let grandma = person(2, 70, DocKind::IdCard);
        let child = person(3, 12, DocKind::Passport);
        let teen = person(4, 13, DocKind::IdCard);
        let d = decl("2020-05-20T10:00");
        // Not before the proxy's own declaration.
        assert!(matches!(
            x.declare(t("2020-05-01T08:00"), 1, &proxy, Some(&grandma), &d),
            Err(Refusal::ProxyNotAllowed { .. })
        ));
        x.declare(t("2020-05-01T09:00"), 1, &proxy, None, &d)
            .unwrap();
        x.declare(t("2020-05-01T09:05"), 1, &proxy, Some(&grandma), &d)
            .unwrap();
        x.declare(t("2020-05-01T09:06"), 1, &proxy, Some(&child), &d)
            .unwrap();
        assert!(matches!(
            x.declare(t("2020-05-01T09:07"), 1, &proxy, Some(&teen), &d),
            Err(Refusal::ProxyNotAllowed { .. })
        ));
        // Proxied codes show on the proxy's device.
        let s = x.status(t("2020-05-01T10:00"), 1, None).unwrap();
        assert_eq!(s.proxied.len(), 2);
        let g = x
            .status(t("2020-05-01T10:00"), 1, Some(grandma.number))
            .unwrap();
        assert!(g.valid);
        // Another account cannot see or file for them.
        let stranger = person(5, 30, DocKind::IdCard);
        x.declare(t("2020-05-01T09:00"), 2, &stranger, None, &d)
            .unwrap();
        assert_eq!(
            x.status(t("2020-05-01T10:00"), 2, Some(grandma.number))
                .unwrap_err(),
            Refusal::NotRegistered
        );
        assert_eq!(
            x.declare(t("2020-05-01T09:10"), 2, &stranger, Some(&grandma), &d)
                .unwrap_err(),
            Refusal::IdentityLocked
        );
    }

    #[test]
    fn a_proxy_verified_by_passport_cannot_file_for_others() {
        let mut x = intl();
        let proxy = person(1, 40, DocKind::Passport);
        let d = decl("2020-05-20T10:00");
        x.declare(t("2020-05-01T09:00"), 1, &proxy, None, &d)
            .unwrap();
        assert!(matches!(
            x.declare(
                t("2020-05-01T09:05"),
                1,
                &proxy,
                Some(&person(2, 75, DocKind::IdCard)),
                &d
            ),
            Err(Refusal::ProxyNotAllowed { .. })
        ));
    }

    #[test]
    fn transit_without_leaving_the_airport_needs_no_declaration() {
        let listed = IntlParams {
            listed_countries: Some(vec![250, 840]),
            ..IntlParams::default()
        };
        let x = IntlDeclarations::new(listed);
        let via_paris = Transit {
            country: 250,
            left_airport: false,
        };
        assert!(!x.must_declare(392, &[via_paris]));
        assert!(x.must_declare(
            392,
            &[Transit {
                left_airport: true,
                ..via_paris
            }]
        ));
        assert!(x.must_declare(840, &[]));
        assert!(
            intl().must_declare(392, &[]),
            "no list: every country is listed"
        );
    }

    #[test]
    fn statuses_carry_only_masked_identities() {
        let mut x = intl();
        let me = person(11010519491231002, 40, DocKind::IdCard);
        let (_, s) = x
            .declare(
                t("2020-05-01T09:00"),
                1,
                &me,
                None,
                &decl("2020-05-20T10:00"),
            )
            .unwrap();
        let json = format!("{:?}", s.holder);
        assert!(!json.contains(&me.document_string()));
        assert!(!json.contains(&me.name.full()));
    }
}
