//! Nucleic-acid tests (NAT): why a sample is taken. Tests follow need —
//! the rules (a negative result to release a yellow code, to travel), the
//! epidemic (cases, contacts, mass-testing rounds around new cases) and the
//! ports — never a random draw over the population.

/// Why a sample was taken; the index of a count in `summary.json`'s
/// `epidemic.nat_by_reason`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum NatReason {
    /// The test that finds a case.
    Diagnosis = 0,
    /// A close contact, when designated.
    Contact = 1,
    /// At the end of a quarantine.
    QuarantineRelease = 2,
    /// A county's round after it turns medium or high risk.
    MassTesting = 3,
    /// A yellow holder whose rules release only on a negative result.
    YellowRelease = 4,
    /// A traveller leaving a province whose rules ask for a recent result.
    Travel = 5,
    /// Every arrival from abroad, at the port of entry.
    Port = 6,
    /// Routine screening of people in exposed jobs (`epidemic.nat_per_day`).
    Routine = 7,
}

pub const NAT_REASONS: usize = 8;

impl NatReason {
    pub const ALL: [NatReason; NAT_REASONS] = [
        NatReason::Diagnosis,
        NatReason::Contact,
        NatReason::QuarantineRelease,
        NatReason::MassTesting,
        NatReason::YellowRelease,
        NatReason::Travel,
        NatReason::Port,
        NatReason::Routine,
    ];

    pub fn name(self) -> &'static str {
        match self {
            NatReason::Diagnosis => "diagnosis",
            NatReason::Contact => "contact",
            NatReason::QuarantineRelease => "quarantine_release",
            NatReason::MassTesting => "mass_testing",
            NatReason::YellowRelease => "yellow_release",
            NatReason::Travel => "travel",
            NatReason::Port => "port",
            NatReason::Routine => "routine",
        }
    }
}

/// Samples taken per day (relative to the scenario's first day) by reason.
pub type NatDaily = Vec<[u64; NAT_REASONS]>;

pub fn count(daily: &mut NatDaily, day: u32, reason: NatReason) {
    let day = day as usize;
    if daily.len() <= day {
        daily.resize(day + 1, [0; NAT_REASONS]);
    }
    daily[day][reason as usize] += 1;
}

pub fn merge(into: &mut NatDaily, from: &NatDaily) {
    if into.len() < from.len() {
        into.resize(from.len(), [0; NAT_REASONS]);
    }
    for (a, b) in into.iter_mut().zip(from) {
        for (x, y) in a.iter_mut().zip(b) {
            *x += y;
        }
    }
}

/// What a province's rule set asks of a person in NAT results, read from
/// the rules so that people follow whatever rules a scenario loads.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct NatPolicy {
    /// Yellow releases only with a negative result, after this many days.
    pub yellow_release_days: Option<u16>,
    /// People leaving the province need a negative result from within
    /// this many days before arrival (Hubei's resume-work rule).
    pub travel_days: Option<u16>,
}

impl NatPolicy {
    pub fn of(rules: &hcsim_platform::RuleSet) -> NatPolicy {
        NatPolicy {
            yellow_release_days: rules
                .release(hcsim_platform::Color::Yellow)
                .filter(|r| r.negative_nat)
                .map(|r| r.min_days),
            travel_days: rules.resume_work().map(|r| r.nat_days_before_arrival),
        }
    }
}
