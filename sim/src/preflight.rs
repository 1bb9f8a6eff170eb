//! The memory preflight: before a run builds its world, estimate what each
//! of its processes will hold and refuse a run that cannot fit, rather than
//! abort on a failed allocation minutes in.
//!
//! The estimate follows the engine's layout (ARCHITECTURE.md, "Past one
//! machine"): process 0 holds the hub, the barrier's state and the oracle
//! for every citizen; every process holds the world's people, the agents of
//! its own shards and the provinces it is given (`engine::hosting`).

use crate::engine::hosting;
use crate::scenario::Scenario;
use crate::world::geography::Geography;
use hcsim_platform::PROVINCE_COUNT;
use std::fmt::Write as _;

/// Bytes per citizen one process holds, measured on the 100 M-citizen day:
/// 11.1 GiB peak (119 B a citizen all told, 118 B marginal from the 10 M
/// day). Over several processes process 0 keeps all of it but the
/// provinces' share (`PROVINCE_PER_CITIZEN`) for the citizens of
/// provinces held elsewhere: besides the hub, the barrier's state and the
/// oracle, it builds every shard's first delivery and buffers the other
/// processes' requests and replies, which outweigh the agents it no longer
/// hosts.
/// (Before the national scenarios counted cases for the whole country the
/// same day held 179 B a citizen: a per-million case rate put 21.5 M
/// people under county mass testing at 100 M, and their NAT results and
/// pending samples.)
const PER_CITIZEN_ONE_PROCESS: u64 = 120;
/// Of it, what a citizen's province holds (the person record, the document
/// index, the registration's journal entry), which goes with the province
/// to the process holding it: the 10 M day over 2 processes, the provinces
/// spread, moved 388 MiB out of process 0 and 402 MiB into process 1, which
/// held the provinces of 6.7 M citizens (~61 B each).
const PROVINCE_PER_CITIZEN: u64 = 62;
/// The most processes the preflight considers when it looks for the fewest
/// that fit.
const MAX_PROCESSES: usize = 1024;
/// Machines of this size are named when none like this one would do.
const LARGE_MACHINE: u64 = 128 << 30;
/// What every other process holds for every citizen: the world's 8-byte
/// person record.
const WORLD_PER_CITIZEN: u64 = 8;
/// And what it holds only for the citizens of its own shards: agent
/// columns, timer-wheel entries, checkpoint queues, the rare state of the
/// travelling, sick and tested, and their deliveries (2.4 GB for each of
/// processes 1–3 of the 100 M day over 4: 8 B for each of the 100 M and
/// ~59 B for each of its 25 M).
const AGENTS_PER_CITIZEN: u64 = 64;
/// What a run holds whatever its size: code, rule sets, thread stacks,
/// the geography, and the pages the allocator keeps for each thread
/// (~70 MiB of the 180 since mimalloc: the national day's peak minus its
/// citizens' 120 B each).
const FIXED_BYTES: u64 = 180 << 20;
/// Bytes process 0 holds per surge event while its window is held.
const EVENT_BYTES: u64 = 8;
/// Bytes process 0 holds for each open of a person acting in a surge, up
/// to `PER_PERSON_ACTING_MAX` a person: while the platform fails, each open
/// leaves a retry or a request in flight. Measured, beyond the citizens, the
/// mass testing and the events held: Guangdong's surge (2 opens) ~42 B a
/// person at 1/10 and ~36 B at full size; Xi'an's day of openings at every
/// door (140 opens, 9.7 M people) ~350 B; Xi'an's mass-testing round
/// (25 opens, 13.0 M people) ~560 B. 24 B an open, at most 600 B a person,
/// lies above all three.
const PER_OPEN_ACTING: u64 = 24;
const PER_PERSON_ACTING_MAX: u64 = 600;
/// Bytes process 0 holds for each person a mass-testing round samples, the
/// epidemic's (a case sends its county to testing) or a surge's: the sample
/// waiting for its turnaround and the result in the province's journal.
/// Measured on Guangdong at 1/10 (12.6 M people), runs alike but for their
/// cases: 9 cases sent 6.93 M people to testing and 2 sent 3.15 M, 218 MiB
/// apart, 60 B a person. (While it counted cases per simulated million,
/// ~63 a day, the full-size Guangdong replay tested nearly every county and
/// was killed at 24.4 GB.)
const PER_PERSON_SAMPLED: u64 = 60;

/// What each process of a run would hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    pub citizens: u64,
    /// Bytes, by process index.
    pub per_process: Vec<u64>,
}

impl Estimate {
    /// Over `processes`, for `residents` per province (index =
    /// `ProvinceId`); `pinned` provinces stay with process 0. Over one
    /// process, every byte per citizen is process 0's.
    pub fn of(residents: &[u64; PROVINCE_COUNT], processes: usize, pinned: &[bool]) -> Estimate {
        let citizens: u64 = residents.iter().sum();
        let processes = processes.max(1);
        let holders = hosting::holders(residents, processes, pinned);
        let mut held = vec![0u64; processes];
        for (p, &q) in holders.iter().enumerate() {
            held[q as usize] += residents[p];
        }
        let n = processes as u64;
        let own = |i: u64| citizens / n + u64::from(i < citizens % n);
        let per_process = (0..n)
            .map(|i| match i {
                0 => process_zero_floor(citizens) + held[0] * PROVINCE_PER_CITIZEN,
                _ => {
                    FIXED_BYTES
                        + citizens * WORLD_PER_CITIZEN
                        + own(i) * AGENTS_PER_CITIZEN
                        + held[i as usize] * PROVINCE_PER_CITIZEN
                }
            })
            .collect();
        Estimate {
            citizens,
            per_process,
        }
    }

    pub fn total(&self) -> u64 {
        self.per_process.iter().sum()
    }

    pub fn largest(&self) -> u64 {
        self.per_process.iter().copied().max().unwrap_or(0)
    }
}

/// Where the processes run: all on this machine (`--processes P` alone,
/// or one process), or one per machine of a host file, each machine
/// checking its own share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    ThisMachine { processes: usize },
    OnePerMachine { processes: usize, process: usize },
}

/// Citizens the scenario simulates, from the same geography the world is
/// built from (it is small: counties, not people).
pub fn citizens(scenario: &Scenario) -> u64 {
    geography(scenario).population()
}

/// Citizens per province (index = `ProvinceId`).
pub fn residents(g: &Geography) -> [u64; PROVINCE_COUNT] {
    std::array::from_fn(|p| g.people_in(g.province_counties[p].clone()))
}

/// The geography the world will be built from: counties and checkpoints,
/// not people.
fn geography(scenario: &Scenario) -> Geography {
    Geography::build(&scenario.provinces, scenario.population_scale, &[])
}

/// Events the scenario's surges will bring: everyone a surge reaches,
/// times their actions.
pub fn surge_events(scenario: &Scenario, g: &Geography) -> u64 {
    crate::surge::expected_events(&scenario.surges, g)
}

/// What process 0 holds for the scenario's surges, which bring `events`
/// events: a window of them at a time (`surge::WINDOW_EVENTS`), 8 bytes
/// each, what the people acting have in flight, and the samples of a
/// mass-testing surge.
fn surge_bytes(scenario: &Scenario, g: &Geography, events: u64) -> u64 {
    let people: u64 = scenario
        .surges
        .iter()
        .map(|spec| {
            let people = crate::surge::expected_people(std::slice::from_ref(spec), g);
            let sampled = spec.kind == crate::surge::SurgeKind::MassTesting;
            people
                * ((u64::from(spec.opens.max(1)) * PER_OPEN_ACTING).min(PER_PERSON_ACTING_MAX)
                    + if sampled { PER_PERSON_SAMPLED } else { 0 })
        })
        .sum();
    events.min(crate::surge::WINDOW_EVENTS) * EVENT_BYTES + people
}

/// People the epidemic's cases will send to mass testing during the run.
/// A county is tested whole when a case first makes it risky
/// (`authority::Authority::update_risk`), so county by county the expected
/// number is its people times the chance that at least one of the run's
/// cases falls in it.
pub fn expected_mass_tested(scenario: &Scenario, g: &Geography) -> u64 {
    if scenario.epidemic.mass_testing_days == 0 {
        return 0;
    }
    // Cases are drawn at the start of each day the run touches.
    let first = scenario.start.minute_of_day();
    let days = (first + scenario.duration_minutes.max(1) - 1) / (24 * 60) + 1;
    let means = crate::authority::daily_case_means(
        &scenario.epidemic,
        g.provinces
            .iter()
            .map(|&p| (p, g.people_in(g.province_counties[p.index()].clone()))),
    );
    let mut tested = 0.0;
    for (p, population, mean) in means {
        if population == 0 || mean <= 0.0 {
            continue;
        }
        for c in g.province_counties[p.index()].clone() {
            let n = g.counties[c as usize].population as f64;
            let hit = 1.0 - (-mean * f64::from(days) * n / population as f64).exp();
            tested += n * hit;
        }
    }
    tested as u64
}

/// What process 0 holds beyond its share of the citizens, and what for.
struct Beyond {
    /// The surges' events and the people acting in them.
    events: u64,
    people: u64,
    surges: u64,
    /// People the epidemic's cases send to mass testing.
    tested: u64,
    testing: u64,
}

impl Beyond {
    fn of(scenario: &Scenario, g: &Geography) -> Beyond {
        let events = surge_events(scenario, g);
        let tested = expected_mass_tested(scenario, g);
        Beyond {
            events,
            people: crate::surge::expected_people(&scenario.surges, g),
            surges: surge_bytes(scenario, g, events),
            tested,
            testing: tested * PER_PERSON_SAMPLED,
        }
    }

    fn bytes(&self) -> u64 {
        self.surges + self.testing
    }
}

/// `Ok` when the run fits `available` bytes; otherwise the error a user
/// reads, naming the scenario's `population_scale`, the estimate, what is
/// available and how many processes would fit, if any would.
pub fn check(scenario: &Scenario, placement: Placement, available: u64) -> Result<(), String> {
    let g = geography(scenario);
    let citizens = g.population();
    let residents = residents(&g);
    let pinned = hosting::pinned(scenario);
    let estimate = |processes| Estimate::of(&residents, processes, &pinned);
    let beyond = Beyond::of(scenario, &g);
    let Beyond {
        events,
        people,
        surges,
        tested,
        testing,
    } = beyond;
    let extra = beyond.bytes();
    let (processes, needed) = match placement {
        Placement::ThisMachine { processes } => (processes, estimate(processes).total() + extra),
        Placement::OnePerMachine { processes, process } => (
            processes,
            estimate(processes).per_process[process.min(processes - 1)]
                + if process == 0 { extra } else { 0 },
        ),
    };
    if needed <= available {
        return Ok(());
    }
    let mut msg = String::new();
    let _ = write!(
        msg,
        "{}:{}: population_scale = {}: {} citizens would need {} in {} on this machine, \
         which has {} available",
        scenario.path.display(),
        line_of(scenario, "population_scale"),
        scenario.population_scale,
        grouped(citizens),
        gib(needed),
        match placement {
            Placement::ThisMachine { processes: 1 } => "one process".to_string(),
            Placement::ThisMachine { processes } => format!("{processes} processes"),
            Placement::OnePerMachine { process, .. } => format!("process {process}"),
        },
        gib(available),
    );
    if events > 0 {
        let _ = write!(
            msg,
            " (of it, {} for the surges' {} events and the {} people acting in them",
            gib(surges),
            grouped(events),
            grouped(people)
        );
    }
    if testing > 0 {
        let _ = write!(
            msg,
            "{} {} for the ~{:.1} M people its cases send to mass testing",
            if events > 0 { "," } else { " (of it," },
            gib(testing),
            tested as f64 / 1e6
        );
    }
    if events > 0 || testing > 0 {
        msg.push(')');
    }
    // Process 0 alone holds the surges and the mass testing: what it
    // has left for the rest bounds every machine (conservatively).
    let fewest =
        |machine: u64| processes_that_fit(&residents, machine.saturating_sub(extra), &pinned);
    match (placement, fewest(available)) {
        (Placement::ThisMachine { processes }, Some(1)) if processes > 1 => {
            let _ = write!(
                msg,
                "; it fits one process: each process added on this machine adds its copy \
                 of the world and its fixed cost (run it without --processes)"
            );
        }
        (_, Some(n)) if n > processes => {
            let _ = write!(
                msg,
                "; it needs {n} processes, one per machine like this one (--processes {n} \
                 --process I --hostfile FILE on each; ARCHITECTURE.md, \"Past one machine\")"
            );
        }
        (_, Some(_)) => {}
        (_, None) => {
            let _ = write!(
                msg,
                "; no number of processes fits machines like this one: process 0 holds the \
                 hub, the barrier and the oracle for every citizen, at least {}",
                gib(process_zero_floor(citizens) + extra)
            );
            match fewest(LARGE_MACHINE) {
                Some(1) => {
                    let _ = write!(
                        msg,
                        "; it fits one process on a machine of {}",
                        gib(LARGE_MACHINE)
                    );
                }
                Some(n) => {
                    let _ = write!(
                        msg,
                        "; on machines of {} it needs {n} processes, one per machine \
                         (ARCHITECTURE.md, \"Past one machine\")",
                        gib(LARGE_MACHINE)
                    );
                }
                None => {}
            }
        }
    }
    msg.push_str("; lower population_scale, or pass --no-preflight to try anyway");
    Err(msg)
}

/// What process 0 holds however many processes share the shards and the
/// provinces: everything per citizen but the agents it does not host and
/// the provinces it does not hold (see `PER_CITIZEN_ONE_PROCESS`; the
/// buffers of the other processes' requests and replies outweigh the
/// agents).
pub fn process_zero_floor(citizens: u64) -> u64 {
    FIXED_BYTES + citizens * (PER_CITIZEN_ONE_PROCESS - PROVINCE_PER_CITIZEN)
}

/// The fewest processes, one per machine of `available` bytes, whose
/// largest share fits; `None` when none does, as when process 0's floor
/// is more than a machine holds.
pub fn processes_that_fit(
    residents: &[u64; PROVINCE_COUNT],
    available: u64,
    pinned: &[bool],
) -> Option<usize> {
    let citizens: u64 = residents.iter().sum();
    if process_zero_floor(citizens) > available {
        return None;
    }
    (1..=MAX_PROCESSES).find(|&n| Estimate::of(residents, n, pinned).largest() <= available)
}

/// Memory this process may still take: `HCSIM_MEMORY_AVAILABLE` (bytes)
/// when set, for a machine whose own figures mislead and for tests that
/// must not depend on the machine; otherwise the kernel's MemAvailable,
/// and the cgroup's limit where one is set, whichever is smaller. `None`
/// where none can be read (not Linux): the preflight is then skipped.
pub fn available_bytes() -> Option<u64> {
    if let Some(bytes) = std::env::var("HCSIM_MEMORY_AVAILABLE")
        .ok()
        .and_then(|v| v.trim().parse().ok())
    {
        return Some(bytes);
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok();
    let available = meminfo.as_deref().and_then(|m| {
        m.lines()
            .find(|l| l.starts_with("MemAvailable:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map(|kib| kib * 1024)
    });
    let cgroup = (|| {
        let max = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok()?;
        let max: u64 = max.trim().parse().ok()?;
        let current: u64 = std::fs::read_to_string("/sys/fs/cgroup/memory.current")
            .ok()?
            .trim()
            .parse()
            .ok()?;
        Some(max.saturating_sub(current))
    })();
    match (available, cgroup) {
        (Some(a), Some(c)) => Some(a.min(c)),
        (a, c) => a.or(c),
    }
}

fn line_of(scenario: &Scenario, key: &str) -> usize {
    std::fs::read_to_string(&scenario.path)
        .ok()
        .and_then(|text| {
            text.lines()
                .position(|l| l.trim_start().starts_with(key))
                .map(|i| i + 1)
        })
        .unwrap_or(1)
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

fn grouped(n: u64) -> String {
    hcsim_reports::format::grouped(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(file: &str) -> Scenario {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        Scenario::load(&root.join(file)).unwrap()
    }

    /// The full-size Xi'an round drew 294.3 M queries and 15.8 M NAT
    /// results (measured): the estimate counts what its surge will draw.
    #[test]
    fn surge_events_are_estimated_from_who_a_surge_reaches() {
        let xian = shipped("incidents/full/xian-2022-01-04.toml");
        let events = surge_events(&xian, &geography(&xian)) as f64;
        assert!(
            (events / 310.1e6 - 1.0).abs() < 0.1,
            "{events} events estimated"
        );
        let smoke = shipped("smoke.toml");
        assert_eq!(surge_events(&smoke, &geography(&smoke)), 0);
    }

    /// The full-size Guangdong replay ran in 17.9 GiB on a 24 GiB machine
    /// (its 2 cases sent 31.5 M people to testing): the estimate lets it
    /// run there and stays above what it used; where only the population
    /// would fit, it is refused naming the surge and the testing.
    #[test]
    fn the_full_size_guangdong_replay_fits_24_gib_and_its_surge_is_counted() {
        let gd = shipped("incidents/full/guangdong-2022-01-10.toml");
        let g = geography(&gd);
        let measured = 19_186_233_344u64;
        check(&gd, Placement::ThisMachine { processes: 1 }, 22 << 30).unwrap();
        let needed = Estimate::of(&residents(&g), 1, &[]).total() + Beyond::of(&gd, &g).bytes();
        assert!(needed > measured, "{needed} B estimated");
        assert!(needed < measured / 10 * 12, "{needed} B estimated");
        let available = 16u64 << 30;
        assert!(Estimate::of(&residents(&g), 1, &[]).total() < available);
        let err = check(&gd, Placement::ThisMachine { processes: 1 }, available).unwrap_err();
        assert!(err.contains("for the surges'"), "{err}");
        assert!(err.contains("send to mass testing"), "{err}");
        assert!(err.contains("population_scale = 1"), "{err}");
    }

    /// Cases counted per simulated million test nearly every county at full
    /// size; a few real cases a day, a few counties (`expected_mass_tested`
    /// is what the authority's draws come to on average).
    #[test]
    fn the_people_sent_to_mass_testing_follow_the_cases() {
        let mut gd = shipped("incidents/full/guangdong-2022-01-10.toml");
        let g = geography(&gd);
        let few = expected_mass_tested(&gd, &g) as f64 / g.population() as f64;
        // 3 cases among 8 counties: each county tested with chance 1 - e^(-3/8).
        assert!((0.25..0.40).contains(&few), "{few}");
        gd.epidemic.confirmed_per_day = 0.0;
        gd.epidemic.confirmed_per_million_day = Some(0.5);
        let many = expected_mass_tested(&gd, &g) as f64 / g.population() as f64;
        assert!(many > 0.99, "{many}");
        gd.epidemic.mass_testing_days = 0;
        assert_eq!(expected_mass_tested(&gd, &g), 0);
    }

    /// The full-size Xi'an day of openings at every door (1.66 B events,
    /// drawn a window at a time) ran in 10.2 GiB and the mass-testing round
    /// in 14.6 GiB on a 24 GiB machine: the estimate lets both run there,
    /// and stays above what they used.
    #[test]
    fn a_surge_drawn_by_window_is_estimated_by_its_people_not_its_events() {
        for (file, measured_kib) in [
            ("incidents/full/xian-2021-12-20.toml", 10_426_648u64),
            ("incidents/full/xian-2022-01-04.toml", 15_309_000),
        ] {
            let xian = shipped(file);
            let g = geography(&xian);
            check(&xian, Placement::ThisMachine { processes: 1 }, 22 << 30).unwrap();
            let needed =
                Estimate::of(&residents(&g), 1, &[]).total() + Beyond::of(&xian, &g).bytes();
            assert!(needed > measured_kib << 10, "{file}: {needed} B estimated");
            assert!(check(&xian, Placement::ThisMachine { processes: 1 }, 8 << 30).is_err());
        }
        let xian = shipped("incidents/full/xian-2021-12-20.toml");
        let events = surge_events(&xian, &geography(&xian));
        assert!(events > 1_500_000_000, "{events} events");
    }

    /// 1,000 citizens in each province.
    fn even(n: u64) -> [u64; PROVINCE_COUNT] {
        [n; PROVINCE_COUNT]
    }

    #[test]
    fn one_process_holds_every_per_citizen_byte_plus_the_fixed_cost() {
        let e = Estimate::of(&even(1_000), 1, &[]);
        assert_eq!(e.per_process, vec![FIXED_BYTES + 31_000 * 120]);
    }

    #[test]
    fn process_zero_keeps_the_hub_and_the_provinces_go_with_their_holders() {
        let citizens = 31_000u64;
        let e = Estimate::of(&even(1_000), 4, &[]);
        let holders = hosting::holders(&even(1_000), 4, &[]);
        let held = |q: u32| holders.iter().filter(|&&h| h == q).count() as u64 * 1_000;
        assert_eq!(
            e.per_process[0],
            FIXED_BYTES + citizens * (120 - PROVINCE_PER_CITIZEN) + held(0) * PROVINCE_PER_CITIZEN
        );
        assert_eq!(
            e.per_process[3],
            FIXED_BYTES + citizens * 8 + 7_750 * 64 + held(3) * PROVINCE_PER_CITIZEN
        );
        // Every province is somewhere, once.
        let provinces: u64 = (0..4).map(held).sum();
        assert_eq!(provinces, citizens);
        // Process 0 holds fewer provinces than the others: it has the hub.
        assert!(held(0) < held(1), "{holders:?}");
        // A pinned province stays with process 0.
        let mut pinned = vec![false; PROVINCE_COUNT];
        pinned[30] = true;
        assert_eq!(hosting::holders(&even(1_000), 4, &pinned)[30], 0);
    }

    /// The 100 M day over 4 processes fits this 24 GiB machine; where four
    /// do not fit but one would, the refusal says so.
    #[test]
    fn the_hundred_million_day_fits_four_processes_on_24_gib() {
        let day = shipped("national-100m.toml");
        let machine = 24u64 << 30;
        check(&day, Placement::ThisMachine { processes: 4 }, machine).unwrap();
        let e = Estimate::of(&residents(&geography(&day)), 4, &[]);
        assert!(e.per_process[0] > 5_000_000_000, "{e:?}");
        assert!(e.per_process[1] > 2_400_000_000, "{e:?}");
        let err = check(&day, Placement::ThisMachine { processes: 4 }, 13 << 30).unwrap_err();
        assert!(err.contains("in 4 processes"), "{err}");
        assert!(err.contains("it fits one process"), "{err}");
        // Where process 0 alone does not fit, one large machine would.
        let err = check(&day, Placement::ThisMachine { processes: 4 }, 2 << 30).unwrap_err();
        assert!(err.contains("no number of processes fits"), "{err}");
        assert!(
            err.contains("it fits one process on a machine of 128.0 GiB"),
            "{err}"
        );
    }

    #[test]
    fn the_fewest_processes_that_fit_are_found_and_none_when_process_zero_cannot() {
        let gib = 1u64 << 30;
        let of = |total: u64| even(total / PROVINCE_COUNT as u64);
        // 100 M in one process: ~11.3 GiB.
        assert_eq!(processes_that_fit(&of(100_000_000), 24 * gib, &[]), Some(1));
        // 300 M: ~33.7 GiB in one process; spread, process 0 keeps ~17 GiB.
        let n = processes_that_fit(&of(300_000_000), 24 * gib, &[]).unwrap();
        assert!(n > 1, "{n}");
        let e = Estimate::of(&of(300_000_000), n, &[]);
        assert!(e.largest() <= 24 * gib);
        assert!(Estimate::of(&of(300_000_000), n - 1, &[]).largest() > 24 * gib);
        // The whole population: process 0 alone needs ~81 GiB, so no
        // machine of 24 GiB will do, and a few of 128 GiB will.
        let country = of(1_411_800_000);
        assert_eq!(processes_that_fit(&country, 24 * gib, &[]), None);
        let n = processes_that_fit(&country, 128 * gib, &[]).unwrap();
        assert!((2..=4).contains(&n), "{n}");
    }
}
