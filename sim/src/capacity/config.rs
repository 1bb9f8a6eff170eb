//! The scenario's `[capacity]` table: servers, service times and admission
//! limits per provincial platform and for the hub, and how clients retry
//! when told "system busy".
//!
//! ```toml
//! [capacity]
//! servers = 8                  # per province; omit to size from population
//! citizens_per_server = 5000   # the sizing rule when `servers` is omitted
//! service_ms = { verify = 8.0, declare = 15.0, query = 5.0, apply = 30.0, hub_query = 6.0, feed = 2.0 }
//! service_cv = 0.8             # spread of the LogNormal service times (sd / mean)
//! max_wait_ms = 2000           # predicted queue wait above this ⇒ "system busy"
//! scan_tries = 3               # checkpoint scanner: tries before "could not verify"
//! app_tries = 4                # citizen app: tries, with exponential back-off
//! app_backoff_minutes = 1      # first back-off; doubles after each busy answer
//! degrade = "trip"             # none | trip | ratelimit | cache | idcard (see `Degrade`)
//! timeout_ms = 15000           # a client gives up waiting for an answer after this
//! ratelimit_floor = 0.5        # ratelimit: share of capacity admitted after a trip
//! ratelimit_reopen_minutes = 30  # ratelimit: from the floor back to full capacity
//! cache_hours = 4              # cache: how old a cached status people still show
//! idcard_minutes = 1           # idcard: a manual ID-card check, added to the wait
//! idcard_hold_minutes = 30     # idcard: a checkpoint stays on ID cards this long
//!
//! [capacity.provinces.guangdong]
//! servers = 40
//!
//! [capacity.hub]
//! servers = 64
//! ```

use crate::scenario::{InputError, Section};
use hcsim_platform::api::Op;
use hcsim_platform::ProvinceId;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// Mean service time per operation class, in milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceMs {
    pub verify: f64,
    pub declare: f64,
    pub query: f64,
    pub apply: f64,
    pub hub_query: f64,
    pub feed: f64,
}

impl Default for ServiceMs {
    fn default() -> Self {
        ServiceMs {
            verify: 8.0,
            declare: 15.0,
            query: 5.0,
            apply: 30.0,
            hub_query: 6.0,
            feed: 2.0,
        }
    }
}

impl ServiceMs {
    pub fn for_op(&self, op: Op) -> f64 {
        match op {
            Op::Apply => self.apply,
            Op::Declare => self.declare,
            Op::Verify => self.verify,
            Op::Query => self.query,
            Op::HubQuery => self.hub_query,
            Op::Feed => self.feed,
        }
    }
}

/// One platform's capacity.
#[derive(Clone, Debug, PartialEq)]
pub struct PlatformSpec {
    /// `None`: sized from the simulated population (see `CapacityConfig`).
    pub servers: Option<u32>,
    pub service_ms: ServiceMs,
    pub max_wait_ms: u32,
}

/// How clients answer "system busy".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Scans of one person at a checkpoint, the first included, before the
    /// person counts as "could not verify". Staff rescan at the next tick.
    pub scan_tries: u32,
    /// Attempts of a citizen's app request, the first included.
    pub app_tries: u32,
    /// Wait before the app's first retry; doubles after each busy answer.
    pub app_backoff_minutes: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            scan_tries: 3,
            app_tries: 4,
            app_backoff_minutes: 1,
        }
    }
}

/// What the platform and its clients do when demand exceeds capacity
/// (DOMAIN.md: the degrade patterns seen in practice).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Degrade {
    /// No admission control: every request queues. A client stops waiting
    /// after `timeout_ms` and retries, but its request stays queued and
    /// still costs server time — queue until collapse.
    None,
    /// Protection trip: "system busy" when the predicted wait exceeds
    /// `max_wait_ms` (Guangdong, 2022-01-10). The default.
    Trip,
    /// Rate limiting with gradual reopening: when a request would wait
    /// longer than `max_wait_ms`, admissions drop to `floor` of the
    /// servers' capacity, then reopen linearly to full over
    /// `reopen_minutes` (Xi'an, 2022-01-04). Also trips as `Trip` does.
    RateLimit { floor: f64, reopen_minutes: u32 },
    /// `Trip`, and people whose app got an answer within `hours` show that
    /// cached status instead of retrying.
    Cache { hours: u32 },
    /// `Trip`, and a checkpoint answered busy checks the person's ID card
    /// by hand (`minutes` longer) and keeps doing so for `hold_minutes`
    /// without scanning codes.
    IdCard { minutes: u32, hold_minutes: u32 },
}

pub const DEGRADE_NAMES: [&str; 5] = ["none", "trip", "ratelimit", "cache", "idcard"];

impl Degrade {
    pub fn name(&self) -> &'static str {
        match self {
            Degrade::None => "none",
            Degrade::Trip => "trip",
            Degrade::RateLimit { .. } => "ratelimit",
            Degrade::Cache { .. } => "cache",
            Degrade::IdCard { .. } => "idcard",
        }
    }

    /// Whether the platform refuses work above its admission limit.
    pub fn admission(&self) -> bool {
        !matches!(self, Degrade::None)
    }
}

/// Degrade parameters as given, so a strategy chosen later (`hcsim
/// compare --vary degrade=...`) uses the scenario's values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DegradeParams {
    pub ratelimit_floor: f64,
    pub ratelimit_reopen_minutes: u32,
    pub cache_hours: u32,
    pub idcard_minutes: u32,
    pub idcard_hold_minutes: u32,
}

impl Default for DegradeParams {
    fn default() -> Self {
        DegradeParams {
            ratelimit_floor: 0.5,
            ratelimit_reopen_minutes: 30,
            cache_hours: 4,
            idcard_minutes: 1,
            idcard_hold_minutes: 30,
        }
    }
}

impl DegradeParams {
    /// The strategy called `name` with these parameters.
    pub fn strategy(&self, name: &str) -> Option<Degrade> {
        Some(match name {
            "none" => Degrade::None,
            "trip" => Degrade::Trip,
            "ratelimit" => Degrade::RateLimit {
                floor: self.ratelimit_floor,
                reopen_minutes: self.ratelimit_reopen_minutes,
            },
            "cache" => Degrade::Cache {
                hours: self.cache_hours,
            },
            "idcard" => Degrade::IdCard {
                minutes: self.idcard_minutes,
                hold_minutes: self.idcard_hold_minutes,
            },
            _ => return None,
        })
    }
}

/// The validated `[capacity]` table.
///
/// Sizing rule: a platform without `servers` gets
/// `max(4, ceil(simulated citizens / citizens_per_server))` servers, and the
/// hub `max(4, ceil(all simulated citizens / (20 × citizens_per_server)))`
/// (it only answers cross-province lookups, ~1 % of scans). Load scales
/// with simulated citizens, not with the census, so the rule keeps the same
/// utilisation at any `population_scale`. The default of 5,000 citizens per
/// server was sized when runs started unregistered and the first hour's
/// registration wave was the ordinary day's peak. With the population
/// registered before the clock it leaves wide headroom (national-day: no
/// platform ever queues, utilisation about 0.1 %), so the ordinary-day
/// scenarios see no busy answer; scenarios that study capacity set
/// `servers` or `citizens_per_server` themselves.
#[derive(Clone, Debug, PartialEq)]
pub struct CapacityConfig {
    pub defaults: PlatformSpec,
    pub citizens_per_server: u32,
    pub service_cv: f64,
    /// Per-province settings, already merged over `defaults`.
    pub provinces: BTreeMap<ProvinceId, PlatformSpec>,
    pub hub: PlatformSpec,
    pub retry: RetryPolicy,
    pub degrade: Degrade,
    pub degrade_params: DegradeParams,
    /// How long a client waits for an answer before it gives up.
    pub timeout_ms: u32,
}

pub const DEFAULT_CITIZENS_PER_SERVER: u32 = 5_000;
/// People give a code that will not load about a quarter of a minute.
pub const DEFAULT_TIMEOUT_MS: u32 = 15_000;
const MIN_SERVERS: u32 = 4;
/// The hub only answers cross-province lookups: a fraction of all traffic.
const HUB_CITIZENS_FACTOR: u64 = 20;

impl Default for CapacityConfig {
    fn default() -> Self {
        let defaults = PlatformSpec {
            servers: None,
            service_ms: ServiceMs::default(),
            max_wait_ms: 2000,
        };
        CapacityConfig {
            hub: defaults.clone(),
            defaults,
            citizens_per_server: DEFAULT_CITIZENS_PER_SERVER,
            service_cv: 0.8,
            provinces: BTreeMap::new(),
            retry: RetryPolicy::default(),
            degrade: Degrade::Trip,
            degrade_params: DegradeParams::default(),
            timeout_ms: DEFAULT_TIMEOUT_MS,
        }
    }
}

impl CapacityConfig {
    pub fn spec(&self, p: ProvinceId) -> &PlatformSpec {
        self.provinces.get(&p).unwrap_or(&self.defaults)
    }

    /// Servers of a province with `citizens` simulated citizens.
    pub fn province_servers(&self, p: ProvinceId, citizens: u64) -> u32 {
        self.spec(p)
            .servers
            .unwrap_or_else(|| sized(citizens, self.citizens_per_server as u64))
    }

    pub fn hub_servers(&self, all_citizens: u64) -> u32 {
        self.hub.servers.unwrap_or_else(|| {
            sized(
                all_citizens,
                self.citizens_per_server as u64 * HUB_CITIZENS_FACTOR,
            )
        })
    }

    /// Fixes a province's server count (capacity search).
    pub fn set_servers(&mut self, p: ProvinceId, servers: u32) {
        let defaults = self.defaults.clone();
        self.provinces.entry(p).or_insert(defaults).servers = Some(servers);
    }
}

fn sized(citizens: u64, per_server: u64) -> u32 {
    (citizens.div_ceil(per_server.max(1)) as u32).max(MIN_SERVERS)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CapacityFile {
    #[serde(default)]
    servers: Option<Spanned<u32>>,
    #[serde(default)]
    citizens_per_server: Option<Spanned<u32>>,
    #[serde(default)]
    service_ms: Option<ServiceFile>,
    #[serde(default)]
    service_cv: Option<Spanned<f64>>,
    #[serde(default)]
    max_wait_ms: Option<Spanned<u32>>,
    #[serde(default)]
    scan_tries: Option<Spanned<u32>>,
    #[serde(default)]
    app_tries: Option<Spanned<u32>>,
    #[serde(default)]
    app_backoff_minutes: Option<Spanned<u32>>,
    #[serde(default)]
    degrade: Option<Spanned<String>>,
    #[serde(default)]
    timeout_ms: Option<Spanned<u32>>,
    #[serde(default)]
    ratelimit_floor: Option<Spanned<f64>>,
    #[serde(default)]
    ratelimit_reopen_minutes: Option<Spanned<u32>>,
    #[serde(default)]
    cache_hours: Option<Spanned<u32>>,
    #[serde(default)]
    idcard_minutes: Option<Spanned<u32>>,
    #[serde(default)]
    idcard_hold_minutes: Option<Spanned<u32>>,
    #[serde(default)]
    provinces: BTreeMap<Spanned<String>, PlatformFile>,
    #[serde(default)]
    hub: Option<PlatformFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlatformFile {
    #[serde(default)]
    servers: Option<Spanned<u32>>,
    #[serde(default)]
    service_ms: Option<ServiceFile>,
    #[serde(default)]
    max_wait_ms: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceFile {
    #[serde(default)]
    verify: Option<Spanned<f64>>,
    #[serde(default)]
    declare: Option<Spanned<f64>>,
    #[serde(default)]
    query: Option<Spanned<f64>>,
    #[serde(default)]
    apply: Option<Spanned<f64>>,
    #[serde(default)]
    hub_query: Option<Spanned<f64>>,
    #[serde(default)]
    feed: Option<Spanned<f64>>,
}

/// Points errors at the file and line of the offending value.
/// The `[capacity]` table's checks, on top of those any section has.
struct Ctx<'a>(Section<'a>);

impl<'a> std::ops::Deref for Ctx<'a> {
    type Target = Section<'a>;
    fn deref(&self) -> &Section<'a> {
        &self.0
    }
}

impl Ctx<'_> {
    fn service(
        &self,
        file: &Option<ServiceFile>,
        prefix: &str,
        base: &ServiceMs,
    ) -> Result<ServiceMs, InputError> {
        let mut s = base.clone();
        let Some(f) = file else { return Ok(s) };
        let slots: [(&Option<Spanned<f64>>, &str, &mut f64); 6] = [
            (&f.verify, "verify", &mut s.verify),
            (&f.declare, "declare", &mut s.declare),
            (&f.query, "query", &mut s.query),
            (&f.apply, "apply", &mut s.apply),
            (&f.hub_query, "hub_query", &mut s.hub_query),
            (&f.feed, "feed", &mut s.feed),
        ];
        for (value, name, slot) in slots {
            if let Some(v) = value {
                let ms = *v.get_ref();
                // NaN fails both comparisons, so it is refused too.
                if !(ms > 0.0 && ms <= 60_000.0) {
                    return Err(self.err(
                        v.span(),
                        &format!("{prefix}.service_ms.{name}"),
                        format!("{ms} is out of range: a mean service time must be > 0 and at most 60000 ms"),
                    ));
                }
                *slot = ms;
            }
        }
        Ok(s)
    }

    fn platform(
        &self,
        f: &PlatformFile,
        prefix: &str,
        base: &PlatformSpec,
    ) -> Result<PlatformSpec, InputError> {
        Ok(PlatformSpec {
            servers: self
                .ranged(&f.servers, &format!("{prefix}.servers"), 1..=1_000_000, "")?
                .or(base.servers),
            service_ms: self.service(&f.service_ms, prefix, &base.service_ms)?,
            max_wait_ms: self
                .ranged(
                    &f.max_wait_ms,
                    &format!("{prefix}.max_wait_ms"),
                    0..=600_000,
                    " ms",
                )?
                .unwrap_or(base.max_wait_ms),
        })
    }
}

pub(crate) fn validate(
    path: &Path,
    text: &str,
    file: &CapacityFile,
) -> Result<CapacityConfig, InputError> {
    let cx = Ctx(Section::new(path, text, ""));
    let base = CapacityConfig::default();
    let top = PlatformFile {
        servers: file.servers.clone(),
        service_ms: None,
        max_wait_ms: file.max_wait_ms.clone(),
    };
    let mut defaults = cx.platform(&top, "capacity", &base.defaults)?;
    defaults.service_ms = cx.service(&file.service_ms, "capacity", &base.defaults.service_ms)?;
    let service_cv = cx
        .ranged(&file.service_cv, "capacity.service_cv", 0.0..=10.0, "")?
        .unwrap_or(base.service_cv);
    let citizens_per_server = cx
        .ranged(
            &file.citizens_per_server,
            "capacity.citizens_per_server",
            1..=1_000_000_000,
            "",
        )?
        .unwrap_or(base.citizens_per_server);
    let d = RetryPolicy::default();
    let retry = RetryPolicy {
        scan_tries: cx
            .ranged(&file.scan_tries, "capacity.scan_tries", 1..=10, "")?
            .unwrap_or(d.scan_tries),
        app_tries: cx
            .ranged(&file.app_tries, "capacity.app_tries", 1..=10, "")?
            .unwrap_or(d.app_tries),
        app_backoff_minutes: cx
            .ranged(
                &file.app_backoff_minutes,
                "capacity.app_backoff_minutes",
                1..=60,
                " minutes",
            )?
            .unwrap_or(d.app_backoff_minutes),
    };
    let dp = DegradeParams::default();
    let degrade_params = DegradeParams {
        ratelimit_floor: cx
            .ranged(
                &file.ratelimit_floor,
                "capacity.ratelimit_floor",
                0.01..=1.0,
                "",
            )?
            .unwrap_or(dp.ratelimit_floor),
        ratelimit_reopen_minutes: cx
            .ranged(
                &file.ratelimit_reopen_minutes,
                "capacity.ratelimit_reopen_minutes",
                1..=1440,
                " minutes",
            )?
            .unwrap_or(dp.ratelimit_reopen_minutes),
        cache_hours: cx
            .ranged(&file.cache_hours, "capacity.cache_hours", 1..=72, " hours")?
            .unwrap_or(dp.cache_hours),
        idcard_minutes: cx
            .ranged(
                &file.idcard_minutes,
                "capacity.idcard_minutes",
                0..=60,
                " minutes",
            )?
            .unwrap_or(dp.idcard_minutes),
        idcard_hold_minutes: cx
            .ranged(
                &file.idcard_hold_minutes,
                "capacity.idcard_hold_minutes",
                1..=1440,
                " minutes",
            )?
            .unwrap_or(dp.idcard_hold_minutes),
    };
    let degrade = match &file.degrade {
        None => Degrade::Trip,
        Some(d) => degrade_params.strategy(d.get_ref()).ok_or_else(|| {
            cx.err(
                d.span(),
                "capacity.degrade",
                format!(
                    "unknown strategy `{}`; known: {}",
                    d.get_ref(),
                    DEGRADE_NAMES.join(", ")
                ),
            )
        })?,
    };
    let timeout_ms = cx
        .ranged(
            &file.timeout_ms,
            "capacity.timeout_ms",
            100..=600_000,
            " ms",
        )?
        .unwrap_or(DEFAULT_TIMEOUT_MS);
    let mut provinces = BTreeMap::new();
    for (key, f) in &file.provinces {
        let p = cx.province(key, &format!("capacity.provinces.{}", key.get_ref()))?;
        let prefix = format!("capacity.provinces.{}", p.key());
        provinces.insert(p, cx.platform(f, &prefix, &defaults)?);
    }
    // The hub inherits service times and the admission limit, never the
    // provinces' server count: it is sized on its own.
    let hub_base = PlatformSpec {
        servers: None,
        ..defaults.clone()
    };
    let hub = match &file.hub {
        Some(f) => cx.platform(f, "capacity.hub", &hub_base)?,
        None => hub_base,
    };
    Ok(CapacityConfig {
        defaults,
        citizens_per_server,
        service_cv,
        provinces,
        hub,
        retry,
        degrade,
        degrade_params,
        timeout_ms,
    })
}
