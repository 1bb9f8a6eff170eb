//! One run of a scenario against the in-process platform: build the world,
//! start the actors, drive the ticks, write summary.json and performance.json.

use crate::capacity::{Capacity, CapacityReport, Timing};
use crate::engine::observer::TickChecker;
use crate::engine::registration::{register_population, Watchers};
use crate::engine::{drive, Cluster, EngineOutput, TickProgress};
use crate::memory;
use crate::metrics::{ProvinceScans, ISSUERS};
use crate::oracle::{Oracle, Setup};
use crate::platform_setup::PlatformSetup;
use crate::scenario::Scenario;
use crate::world::World;
use anyhow::Context as _;
use hcsim_adapters::http::LocalOrRemote;
use hcsim_adapters::InProcess;
use hcsim_platform::api::CHECKPOINT_KINDS;
use hcsim_platform::color::ALL_COLORS;
use hcsim_platform::{Decision, ProvinceId, PROVINCE_COUNT};
use hcsim_reports::summary::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

pub struct RunOptions {
    pub threads: usize,
    pub out_dir: PathBuf,
    pub progress: bool,
}

pub struct RunOutcome {
    pub summary: Summary,
    pub performance: Performance,
}

pub fn run(scenario: &Scenario, opts: &RunOptions) -> anyhow::Result<RunOutcome> {
    run_with(scenario, opts, &mut (), None, load_rules(scenario)?)
}

/// The platform's rule sets, recognition policy and national rules as the
/// scenario names them.
pub fn load_rules(scenario: &Scenario) -> anyhow::Result<PlatformSetup> {
    crate::platform_setup::setup(Some(scenario), &default_rules_dir(scenario))
}

/// `run`, with `observer` seeing every platform exchange (the policy diff's
/// per-citizen codes and histories).
pub fn run_observed(
    scenario: &Scenario,
    opts: &RunOptions,
    observer: &mut dyn crate::engine::observer::ExchangeObserver,
) -> anyhow::Result<RunOutcome> {
    run_with(scenario, opts, observer, None, load_rules(scenario)?)
}

/// `run`, against a remote `hcsim serve` at `target` (`http://127.0.0.1:PORT`)
/// instead of the in-process platform when one is given.
pub fn run_against(
    scenario: &Scenario,
    opts: &RunOptions,
    target: Option<&str>,
) -> anyhow::Result<RunOutcome> {
    run_with(scenario, opts, &mut (), target, load_rules(scenario)?)
}

/// `run` with the provinces' rule sets already loaded (index =
/// `ProvinceId`): what the mutation tests use to run a broken platform.
pub fn run_with_rules(
    scenario: &Scenario,
    opts: &RunOptions,
    rules: Vec<Arc<hcsim_platform::RuleSet>>,
) -> anyhow::Result<RunOutcome> {
    let mut setup = load_rules(scenario)?;
    setup.rules = rules;
    run_with(scenario, opts, &mut (), None, setup)
}

/// `run` over the workers of `cluster`: in process 0 the whole run, which
/// returns its outcome; in the others their share of the shards, which
/// returns `None`.
pub fn run_cluster(
    scenario: &Scenario,
    opts: &RunOptions,
    cluster: &Cluster,
    target: Option<&str>,
) -> anyhow::Result<Option<RunOutcome>> {
    if cluster.process != 0 {
        let setup = load_rules(scenario)?;
        let mut world = World::build(scenario);
        world.set_nat_policy(&setup.rules);
        // With the in-process platform, this process holds its share of
        // the provinces (`engine::hosting`).
        let held = match target {
            None => {
                let holders = crate::engine::hosting::plan_for(scenario, &world, cluster.processes);
                crate::engine::hosting::held_provinces(
                    &world,
                    &holders,
                    cluster.process as u32,
                    |p| setup.province(p),
                )
            }
            Some(_) => Vec::new(),
        };
        let world = Arc::new(world);
        crate::engine::follow(scenario, world, cluster, held)?;
        return Ok(None);
    }
    run_on(
        scenario,
        opts,
        cluster,
        &mut (),
        target,
        load_rules(scenario)?,
    )
    .map(Some)
}

fn run_with(
    scenario: &Scenario,
    opts: &RunOptions,
    observer: &mut dyn crate::engine::observer::ExchangeObserver,
    target: Option<&str>,
    setup: PlatformSetup,
) -> anyhow::Result<RunOutcome> {
    let cluster = Cluster::local(opts.threads);
    run_on(scenario, opts, &cluster, observer, target, setup)
}

fn run_on(
    scenario: &Scenario,
    opts: &RunOptions,
    cluster: &Cluster,
    observer: &mut dyn crate::engine::observer::ExchangeObserver,
    target: Option<&str>,
    setup: PlatformSetup,
) -> anyhow::Result<RunOutcome> {
    let rules = &setup.rules;
    let platform_faults = crate::fault::platform_faults(&scenario.faults);
    if target.is_some() && platform_faults != Default::default() {
        anyhow::bail!(
            "{}: hub partitions, slow hubs and crashes are injected into the in-process \
             platform; they cannot be applied to a remote --target",
            scenario.path.display()
        );
    }
    let remote = target
        .map(hcsim_adapters::http::HttpClient::new)
        .transpose()
        .context("connecting to the target platform")?;
    let threads = opts.threads.max(1);
    let rss_before = memory::current_rss_bytes();
    let wall = Instant::now();
    let cpu = crate::cpu::RunClock::start();
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .context("starting worker threads")?,
    );
    let mut world = pool.install(|| World::build(scenario));
    world.set_nat_policy(rules);
    let world = Arc::new(world);
    let mut oracle = (!scenario.oracle.disabled).then(|| oracle_for(scenario, &world, rules));
    // An in-process platform is answered on the workers' own threads.
    let mut workers = crate::engine::start(
        scenario,
        world.clone(),
        cluster,
        remote.is_none().then(|| pool.clone()),
    )?;
    let mut setup_seconds = wall.elapsed().as_secs_f64();

    // Where the provinces were held, when the run spreads them.
    let mut provinces_by_process = Vec::new();
    let mut progress = crate::progress::Progress::new(opts.progress, scenario.ticks());
    let output = actix::System::new().block_on(async {
        // A remote platform starts empty, or the run is refused before it
        // starts: another run's state would make every figure wrong.
        let remote = match remote {
            Some(mut client) => {
                client.start_fresh().await?;
                Some(client)
            }
            None => None,
        };
        let hosts = workers.take_host_link();
        provinces_by_process = hosts
            .as_ref()
            .map(|h| h.by_process(cluster.processes))
            .unwrap_or_default();
        let local = local_platform(&world, &setup, Some(pool.clone()), platform_faults, hosts);
        let fault_effects = local.fault_effects();
        let inner = match remote {
            Some(client) => LocalOrRemote::Remote(client),
            None => LocalOrRemote::Local(local),
        };
        let mut platform = capacity_over(inner, scenario, &world).with_pool(pool.clone());
        let mut on_tick = |p: &TickProgress| progress.tick(p);
        // Codes held before the clock starts: asked of the platform itself,
        // past the capacity model, so registration is not load; its time
        // is setup, not the tick loop's.
        let registering = Instant::now();
        let registered = register_population(
            &world,
            &scenario.behaviour,
            scenario.start,
            platform.inner(),
            Watchers {
                oracle: oracle.as_mut().map(|o| o as &mut dyn TickChecker),
                observer: &mut *observer,
                pool: Some(&pool),
            },
        )
        .await?;
        setup_seconds += registering.elapsed().as_secs_f64();
        let mut result = drive(
            scenario,
            world.clone(),
            workers,
            registered,
            &mut platform,
            oracle.as_mut().map(|o| o as &mut dyn TickChecker),
            &mut on_tick,
            observer,
            Some(pool.clone()),
        )
        .await;
        // Every acknowledged record of the checked citizens must still be
        // readable: asked of the platform itself, past the capacity model,
        // so the audit does not count as load.
        if let (Ok(_), Some(o)) = (&result, oracle.as_mut()) {
            let audit = o.audit_requests();
            if !audit.is_empty() {
                match hcsim_adapters::Platform::exchange(platform.inner(), scenario.end(), audit)
                    .await
                {
                    Ok(answers) => o.audit(scenario.end(), &answers),
                    Err(e) => result = Err(e.into()),
                }
            }
        }
        // A remote platform has no faults injected, so no answer was given
        // without the hub.
        let (counters, unreachable) = match platform.inner() {
            LocalOrRemote::Local(local) => {
                (local.hub_counters().await, local.unreachable_answers())
            }
            LocalOrRemote::Remote(client) => {
                (client.counters().await.map(|c| c.hub), [0; PROVINCE_COUNT])
            }
        };
        let counters = counters?;
        let effects = fault_effects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        result.map(|o| {
            (
                o,
                platform.report(&scenario.provinces),
                effects,
                counters,
                unreachable,
            )
        })
    })?;
    let (output, capacity, fault_effects, counters, unreachable) = output;
    let hub_summary = crate::recognition_report::hub_summary(
        &output.metrics,
        &setup.recognition,
        rules,
        counters,
        unreachable,
    );
    progress.finish();
    let wall_seconds = wall.elapsed().as_secs_f64();
    let cpu_seconds = cpu.read().map(|t| t.as_secs_f64());

    let mut summary = summarize(scenario, &world, &output, capacity, rules);
    summary.faults = output.faults.report(&fault_effects);
    summary.oracle = oracle.as_ref().map(|o| o.summary());
    summary.epidemic = crate::authority::totals(
        &output.authority,
        &output.metrics,
        hub_summary.same_flight_contacts,
    );
    summary.hub = hub_summary;
    summary.hub.recognition_policy =
        crate::outputs::beside_scenario(&scenario.path, &summary.hub.recognition_policy);
    summary.failing = hcsim_reports::failing::report(&summary);
    let peak = memory::peak_rss_bytes();
    let citizens = world.citizens() as u64;
    let mut performance = Performance {
        schema_version: SCHEMA_VERSION,
        threads,
        citizens,
        events_processed: output.events,
        wall_seconds,
        setup_seconds,
        events_per_second: output.events as f64 / (wall_seconds - setup_seconds).max(1e-9),
        speedup: scenario.duration_minutes as f64 * 60.0 / wall_seconds.max(1e-9),
        peak_rss_bytes: peak,
        rss_bytes_per_citizen: peak.saturating_sub(rss_before) as f64 / citizens.max(1) as f64,
        phases: output.phases,
        provinces_by_process,
        ..crate::engine::report::performance(scenario, cluster, &output, citizens, wall_seconds)
    };
    // Process 0's own figure, taken now: it holds the run's results after
    // its workers reported.
    if let Some(zero) = performance.peak_rss_bytes_by_process.first_mut() {
        *zero = peak;
    }
    crate::engine::report::add_cpu(&mut performance, cpu_seconds);
    let violations = oracle.as_ref().map_or(&[][..], |o| o.violations());
    crate::outputs::replace(&opts.out_dir, |dir| {
        write_outputs(dir, &summary, &performance)?;
        crate::oracle::violation::write_all(dir, violations)
    })?;
    Ok(RunOutcome {
        summary,
        performance,
    })
}

/// The rule oracle of a run, over the scenario's sample of citizens.
fn oracle_for(
    scenario: &Scenario,
    world: &World,
    rules: &[Arc<hcsim_platform::RuleSet>],
) -> Oracle {
    let files = crate::platform_setup::rule_files(Some(scenario), &default_rules_dir(scenario))
        .unwrap_or_default();
    Oracle::for_world(
        Setup {
            seed: scenario.seed,
            scenario: scenario.path.display().to_string(),
            rules: rules.to_vec(),
            rule_files: crate::oracle::file_names(&files),
            share: scenario.oracle.share(world.citizens()),
            // As `platform_setup::setup` derives the platform's.
            code_keys: hcsim_platform::CodeKeys::from_seed(scenario.seed),
        },
        world,
    )
}

pub fn write_outputs(
    dir: &Path,
    summary: &Summary,
    performance: &Performance,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating output directory {}", dir.display()))?;
    let path = dir.join("summary.json");
    std::fs::write(&path, summary.to_json())
        .with_context(|| format!("writing {}", path.display()))?;
    let path = dir.join("performance.json");
    let text = serde_json::to_string_pretty(performance)? + "\n";
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    hcsim_reports::html::write_report(dir, summary, Some(performance))?;
    Ok(())
}

fn issuer_key(slot: usize) -> String {
    if slot < PROVINCE_COUNT {
        ProvinceId(slot as u8).key().to_string()
    } else {
        "national".to_string()
    }
}

fn totals(p: &ProvinceScans, still_queued: u64) -> ScanTotals {
    let mut by_color = BTreeMap::new();
    for c in ALL_COLORS {
        if p.by_color[c.index()] > 0 {
            by_color.insert(c.to_string(), p.by_color[c.index()]);
        }
    }
    let mut by_decision = BTreeMap::new();
    for d in [Decision::Pass, Decision::Refer, Decision::Refuse] {
        by_decision.insert(d.to_string(), p.by_decision[d as usize]);
    }
    ScanTotals {
        total: p.scans,
        by_color,
        by_decision,
        busy: p.busy,
        unknown: p.unknown,
        via_hub: p.via_hub,
        closed: p.closed,
        wait_minutes_mean: mean_wait_minutes(p.wait_seconds_sum, p.scans),
        wait_minutes_max: max_wait_minutes(p.wait_seconds_max),
        still_queued,
    }
}

/// Rounds for output so tiny float differences never reach the file.
/// Checkpoint waits are measured in seconds and reported in minutes.
fn mean_wait_minutes(seconds_sum: u64, scans: u64) -> f64 {
    if scans > 0 {
        round3(seconds_sum as f64 / 60.0 / scans as f64)
    } else {
        0.0
    }
}

/// The longest wait to the nearest whole minute (the schema's unit): a
/// wait of seconds reads 0, not a minute.
fn max_wait_minutes(seconds: u64) -> u64 {
    (seconds + 30) / 60
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Where provinces a scenario names no rule set for find theirs: the
/// `rules/` directory beside the scenario file.
pub fn default_rules_dir(scenario: &Scenario) -> PathBuf {
    scenario
        .path
        .parent()
        .unwrap_or(Path::new("."))
        .join("rules")
}

/// The capacity model's clock: the scenario's start, ticks and intervals.
pub fn timing(scenario: &Scenario) -> Timing {
    Timing {
        seed: scenario.seed,
        start: scenario.start,
        tick_minutes: scenario.tick_minutes,
        interval_minutes: scenario.interval_minutes(),
        duration_minutes: scenario.duration_minutes,
    }
}

/// The in-process platform of `setup`, its rounds on `pool`, each province
/// and the hub sized for the world's population before anyone registers.
/// Provinces that `hosts` says other processes hold are only stand-ins
/// here, left empty.
pub fn local_platform(
    world: &World,
    setup: &PlatformSetup,
    pool: Option<Arc<rayon::ThreadPool>>,
    faults: hcsim_adapters::faults::PlatformFaults,
    hosts: Option<crate::engine::hosting::HostLink>,
) -> InProcess {
    use hcsim_adapters::hosting::ProvinceHosts;
    let residents = world.province_citizens().map(|n| n as usize);
    let mut hub = setup.hub();
    hub.reserve(&residents);
    let remote = |p: ProvinceId| hosts.as_ref().is_some_and(|h| h.remote(p));
    let local = InProcess::start_with_faults(
        pool,
        |p: ProvinceId| {
            let mut platform = setup.province(p);
            if !remote(p) {
                platform.reserve(residents[p.index()]);
            }
            platform
        },
        hub,
        faults,
    );
    match hosts {
        Some(hosts) => local.with_hosts(Box::new(hosts)),
        None => local,
    }
}

/// One whole run of `scenario` on one thread with the in-process
/// platform, no oracle and no progress output, each exchange shown to
/// `observer`: what the benches run. Returns the engine's output and the
/// wall time of its tick loop alone (start-up left out).
pub fn run_on_one_thread(
    scenario: &Scenario,
    world: &Arc<World>,
    setup: &PlatformSetup,
    observer: &mut dyn crate::engine::observer::ExchangeObserver,
) -> Result<(EngineOutput, std::time::Duration), crate::engine::EngineError> {
    actix::System::new().block_on(async {
        let local = local_platform(world, setup, None, Default::default(), None);
        let mut platform = capacity_over(local, scenario, world);
        let registered = register_population(
            world,
            &scenario.behaviour,
            scenario.start,
            platform.inner(),
            Watchers {
                oracle: None,
                observer: &mut *observer,
                pool: None,
            },
        )
        .await?;
        let started = Instant::now();
        let workers = crate::engine::start(scenario, world.clone(), &Cluster::local(1), None)?;
        let output = drive(
            scenario,
            world.clone(),
            workers,
            registered,
            &mut platform,
            None,
            &mut |_| {},
            observer,
            None,
        )
        .await;
        let elapsed = started.elapsed();
        output.map(|o| (o, elapsed))
    })
}

/// The scenario's capacity model over `inner`, with platforms whose server
/// count the scenario leaves open sized for the world's population.
pub fn capacity_over<P: hcsim_adapters::Platform>(
    inner: P,
    scenario: &Scenario,
    world: &World,
) -> Capacity<P> {
    Capacity::new(
        inner,
        &scenario.capacity,
        timing(scenario),
        &world.province_citizens(),
    )
    .reporting(&scenario.provinces)
}

fn summarize(
    scenario: &Scenario,
    world: &World,
    out: &EngineOutput,
    capacity: CapacityReport,
    rules: &[Arc<hcsim_platform::rules::RuleSet>],
) -> Summary {
    let m = &out.metrics;
    let mut national = ProvinceScans::default();
    let mut provinces = Vec::new();
    for &p in &scenario.provinces {
        let ps = &m.provinces[p.index()];
        national.scans += ps.scans;
        for i in 0..5 {
            national.by_color[i] += ps.by_color[i];
        }
        for i in 0..3 {
            national.by_decision[i] += ps.by_decision[i];
        }
        national.busy += ps.busy;
        national.unknown += ps.unknown;
        national.via_hub += ps.via_hub;
        national.closed += ps.closed;
        national.wait_seconds_sum += ps.wait_seconds_sum;
        national.wait_seconds_max = national.wait_seconds_max.max(ps.wait_seconds_max);
        let citizens: u64 = world.geography.province_counties[p.index()]
            .clone()
            .map(|c| world.county_people[c as usize].len() as u64)
            .sum();
        let census = out.census.get(p.index()).copied().unwrap_or_default();
        let colors_at_end = ALL_COLORS
            .iter()
            .filter(|c| census[c.index()] > 0)
            .map(|c| (c.to_string(), census[c.index()]))
            .collect();
        // Counts by checkpoint kind, named, the kinds never seen left out.
        let by_kind = |counts: &[u64; 15]| {
            CHECKPOINT_KINDS
                .iter()
                .zip(counts)
                .filter(|(_, n)| **n > 0)
                .map(|(kind, n)| (kind.as_str().to_string(), *n))
                .collect()
        };
        let scans_by_checkpoint = by_kind(&ps.by_kind);
        let scans_not_green_by_checkpoint = by_kind(&ps.not_green_by_kind);
        provinces.push(ProvinceSummary {
            province: p.key().to_string(),
            citizens,
            scheme: rules[p.index()].scheme().to_string(),
            colors_at_end,
            scans: totals(ps, 0),
            scans_by_checkpoint,
            scans_not_green_by_checkpoint,
        });
    }
    let mut recognition = Vec::new();
    for issuer in 0..ISSUERS {
        for receiver in 0..PROVINCE_COUNT {
            let c = m.recognition[issuer][receiver];
            if c.scans > 0 {
                recognition.push(RecognitionCell {
                    issuer: issuer_key(issuer),
                    receiver: ProvinceId(receiver as u8).key().to_string(),
                    scans: c.scans,
                    pass: c.pass,
                    refer: c.refer,
                    refuse: c.refuse,
                    unanswered: c.unanswered,
                });
            }
        }
    }
    let requests = hcsim_platform::api::OPS
        .iter()
        .enumerate()
        .filter(|(i, _)| m.requests[*i] > 0)
        .map(|(i, op)| (op.as_str().to_string(), m.requests[i]))
        .collect();
    let citizens = world.citizens() as u64;
    let world_bytes =
        (world.people.capacity() * std::mem::size_of::<crate::world::population::Person>()) as u64;
    let a = &out.authority;
    let interval = scenario.interval_minutes();
    let timeline = Timeline {
        interval_minutes: interval,
        // Every interval of the run, even one where shards recorded nothing,
        // so the platform's backlog shows while it drains.
        points: (0..m.timeline.len().max(capacity.timeline.len()))
            .map(|i| {
                (
                    i,
                    m.timeline.get(i).copied().unwrap_or_default(),
                    capacity.timeline.get(i).cloned().unwrap_or_default(),
                )
            })
            .map(|(i, t, load)| TimelinePoint {
                start: scenario.start.plus_minutes(i as u32 * interval).to_string(),
                scans: t.scans,
                pass: t.pass,
                refer: t.refer,
                refuse: t.refuse,
                busy: t.busy,
                unknown: t.unknown,
                via_hub: t.via_hub,
                declarations: t.declarations,
                queries: t.queries,
                wait_minutes_mean: mean_wait_minutes(t.wait_seconds_sum, t.scans),
                wait_minutes_max: max_wait_minutes(t.wait_seconds_max),
                platform_requests: load.requests,
                platform_busy: load.busy,
                busy_rate: load.busy_rate,
                latency_p99_ms: load.p99_ms,
                queue_depth_max: load.queue_depth_max,
            })
            .collect(),
        colors: out
            .colors_over_time
            .iter()
            .map(|(at, census)| ColorPoint {
                at: at.to_string(),
                provinces: scenario
                    .provinces
                    .iter()
                    .map(|p| {
                        let c = census.get(p.index()).copied().unwrap_or_default();
                        (
                            p.key().to_string(),
                            ALL_COLORS
                                .iter()
                                .filter(|k| c[k.index()] > 0)
                                .map(|k| (k.to_string(), c[k.index()]))
                                .collect(),
                        )
                    })
                    .collect(),
            })
            .collect(),
    };
    Summary {
        schema_version: SCHEMA_VERSION,
        scenario: ScenarioEcho {
            name: scenario.name.clone(),
            file: crate::outputs::scenario_file_name(&scenario.path),
            seed: scenario.seed,
            start: scenario.start.to_string(),
            end: scenario.end().to_string(),
            tick_minutes: scenario.tick_minutes,
            population_scale: scenario.population_scale,
            shards: scenario.shards,
            provinces: scenario
                .provinces
                .iter()
                .map(|p| p.key().to_string())
                .collect(),
            rules: scenario
                .rules
                .iter()
                .map(|(k, v)| (k.clone(), v.display().to_string()))
                .collect(),
        },
        citizens,
        checkpoints: world.geography.checkpoints.len() as u64,
        events_processed: out.events,
        requests,
        scans: totals(&national, out.still_queued),
        provinces,
        recognition,
        epidemic: crate::authority::totals(a, m, 0),
        behaviour: BehaviourTotals {
            declarations_acked: m.declarations_acked,
            refusals: m.refusals,
            trips_started: m.trips_started,
            symptom_onsets: m.symptom_onsets,
        },
        timeline,
        memory: ModelMemory {
            world_bytes,
            agent_bytes: out.agent_heap_bytes,
            bytes_per_citizen: round3(
                (world_bytes + out.agent_heap_bytes) as f64 / citizens.max(1) as f64,
            ),
        },
        latency: capacity.latency,
        capacity: CapacitySummary {
            platforms: capacity.platforms,
            retries: out.retries.clone(),
            surges: out.surges.clone(),
            degrade: scenario.capacity.degrade.name().to_string(),
            timeout_ms: scenario.capacity.timeout_ms,
        },
        faults: Default::default(),
        oracle: None,
        hub: HubSummary::default(),
        failing: Default::default(),
    }
}
