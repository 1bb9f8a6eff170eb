use super::config::CapacityConfig;
use super::*;
use hcsim_platform::api::CodeId;
use hcsim_platform::identity::DocNumber;

/// Answers every request it is given and remembers them.
#[derive(Default)]
struct Recorder {
    got: Vec<Request>,
}

impl Platform for Recorder {
    async fn exchange(
        &mut self,
        _now: Minute,
        requests: Vec<Request>,
    ) -> Result<Vec<Response>, PortError> {
        let n = requests.len();
        self.got.extend(requests);
        Ok(vec![Response::Ack; n])
    }
    async fn census(&mut self, _now: Minute) -> Result<ColorCensus, PortError> {
        Ok(Vec::new())
    }
}

fn timing() -> Timing {
    Timing {
        seed: 1,
        start: Minute(0),
        tick_minutes: 1,
        interval_minutes: 5,
        duration_minutes: 30,
    }
}

fn anhui() -> ProvinceId {
    ProvinceId::parse("anhui").unwrap()
}

fn query(serial: u32) -> Request {
    Request::Query {
        code: CodeId {
            issuer: Issuer::Province(anhui()),
            serial,
            token: Default::default(),
        },
    }
}

fn config(servers: u32, service_ms: f64, max_wait_ms: u32) -> CapacityConfig {
    let mut c = CapacityConfig::default();
    c.defaults.servers = Some(servers);
    c.defaults.max_wait_ms = max_wait_ms;
    c.defaults.service_ms.query = service_ms;
    c.defaults.service_ms.verify = service_ms;
    c.hub.servers = Some(servers);
    c.hub.max_wait_ms = max_wait_ms;
    c.hub.service_ms.hub_query = service_ms;
    c.service_cv = 0.0;
    // Clients wait as long as it takes unless a test says otherwise.
    c.timeout_ms = 3_600_000;
    c
}

fn exchange(cap: &mut Capacity<Recorder>, now: u32, requests: Vec<Request>) -> Vec<Response> {
    futures::executor::block_on(cap.exchange(Minute(now), requests)).unwrap()
}

#[test]
fn admission_control_answers_busy_and_never_forwards_those_requests() {
    // One server, each query takes a whole minute, no queueing allowed: of
    // ten queries in one tick only the first to arrive is served.
    let mut cap = Capacity::new(
        Recorder::default(),
        &config(1, 60_000.0, 0),
        timing(),
        &[0; 31],
    );
    let answers = exchange(&mut cap, 0, (0..10).map(query).collect());
    let busy = answers.iter().filter(|r| **r == Response::Busy).count();
    assert_eq!(busy, 9);
    assert_eq!(cap.inner().got.len(), 1);
    // The one forwarded is the one answered.
    let served = answers.iter().position(|r| *r == Response::Ack).unwrap();
    assert_eq!(cap.inner().got[0], query(served as u32));
    // The server is still busy when the next tick's requests arrive early
    // in it: the backlog carries over.
    let answers = exchange(&mut cap, 1, vec![query(100)]);
    let report = cap.report(&[anhui()]);
    let anhui_load = &report.platforms[0];
    assert_eq!(anhui_load.requests, 11);
    assert_eq!(
        anhui_load.busy,
        9 + usize::from(answers[0] == Response::Busy) as u64
    );
    assert_eq!(report.latency["query"].busy, anhui_load.busy);
    assert_eq!(report.latency["query"].answered, 11 - anhui_load.busy);
}

#[test]
fn without_admission_control_late_answers_time_out_but_still_cost_server_time() {
    // One server, 30 s each, clients wait 35 s: six queries arriving within
    // one minute need three minutes of service, so the first is answered in
    // time and the last (starting after 150 s) cannot be.
    let mut c = config(1, 30_000.0, 0);
    c.degrade = config::Degrade::None;
    c.timeout_ms = 35_000;
    let mut cap = Capacity::new(Recorder::default(), &c, timing(), &[0; 31]);
    let answers = exchange(&mut cap, 0, (0..6).map(query).collect());
    let acked = answers.iter().filter(|r| **r == Response::Ack).count();
    assert!((1..=5).contains(&acked), "{acked} answered in time");
    assert_eq!(cap.inner().got.len(), acked);
    // Every request was served: the timed-out ones too.
    assert_eq!(cap.lanes[anhui().index()].station.busy_us, 180_000_000);
    let report = cap.report(&[anhui()]);
    assert_eq!(report.platforms[0].busy, 0);
    assert_eq!(report.platforms[0].timeouts, 6 - acked as u64);
}

#[test]
fn queued_requests_wait_for_the_server_and_latency_adds_up() {
    // One server, 10 s each, generous limit: six requests in a tick are all
    // served back to back, so the last one's latency is at least 60 s minus
    // the spread of arrivals (< 60 s) and the total server time is 60 s.
    let mut cap = Capacity::new(
        Recorder::default(),
        &config(1, 10_000.0, 600_000),
        timing(),
        &[0; 31],
    );
    let answers = exchange(&mut cap, 0, (0..6).map(query).collect());
    assert!(answers.iter().all(|r| *r == Response::Ack));
    assert_eq!(cap.lanes[anhui().index()].station.busy_us, 60_000_000);
    let report = cap.report(&[anhui()]);
    let q = &report.latency["query"];
    assert_eq!(q.answered, 6);
    assert!(q.max_ms >= 10_000.0 && q.max_ms <= 60_100.0, "{q:?}");
    // Arrivals are spread over the tick, so how many wait at once depends
    // on the draw; never more than the five behind the first.
    let depth = report.platforms[0].queue_depth_max;
    assert!((1..=5).contains(&depth), "{depth}");
    // The interval's figures are where the charts read them.
    assert_eq!(report.timeline[0].requests, 6);
    assert_eq!(report.timeline.len(), 6);
    assert_eq!(report.timeline[1].requests, 0);
}

#[test]
fn a_scan_of_another_provinces_code_also_queues_at_the_hub() {
    let beijing = ProvinceId::parse("beijing").unwrap();
    let place = hcsim_platform::api::Place {
        county: hcsim_platform::api::CountyRef {
            province: beijing,
            county: 0,
        },
        kind: hcsim_platform::api::CheckpointKind::Mall,
    };
    let scan = |credential| Request::Verify {
        credential,
        place,
        temperature: None,
    };
    let foreign = scan(Credential::Code(CodeId {
        issuer: Issuer::Province(anhui()),
        serial: 1,
        token: Default::default(),
    }));
    let local = scan(Credential::Code(CodeId {
        issuer: Issuer::Province(beijing),
        serial: 2,
        token: Default::default(),
    }));
    // An ID card says where it was issued: 34 is Anhui.
    let card = scan(Credential::IdCard(DocNumber(
        (34 * 10_000 + 101) * 100_000_000_000 + 5,
    )));
    let mut cap = Capacity::new(
        Recorder::default(),
        &config(4, 10.0, 2000),
        timing(),
        &[0; 31],
    );
    exchange(&mut cap, 0, vec![foreign, local, card]);
    let report = cap.report(&[beijing]);
    let hub = report
        .platforms
        .iter()
        .find(|p| p.platform == "hub")
        .unwrap();
    assert_eq!(hub.requests, 2);
    assert_eq!(hub.latency["hub_query"].answered, 2);
    let bj = &report.platforms[0];
    assert_eq!(bj.requests, 3);
    // Scans via the hub took both services: at least 20 ms end to end.
    assert_eq!(bj.latency["verify"].answered, 3);
    assert!(bj.latency["verify"].max_ms >= 20.0);
    assert!(bj.latency["verify"].p50_ms < 20.0 + 1.0);
}

#[test]
fn the_same_requests_give_the_same_figures() {
    let run = || {
        let mut cap = Capacity::new(
            Recorder::default(),
            &CapacityConfig::default(),
            timing(),
            &[50_000; 31],
        );
        for t in 0..20 {
            exchange(&mut cap, t, (0..300).map(query).collect());
        }
        let r = cap.report(&[anhui()]);
        (r.latency, r.platforms, r.timeline)
    };
    assert_eq!(run(), run());
}

#[test]
fn provinces_admitted_in_parallel_give_the_same_answers_and_figures() {
    // Every province, scans of other provinces' codes through the hub, and
    // too few servers, so queues, refusals, the rate limiter and the hub
    // all take part.
    let provinces: Vec<ProvinceId> = ProvinceId::all().collect();
    let request = |k: u32| {
        let here = provinces[k as usize % provinces.len()];
        let issuer = provinces[(k as usize / 3) % provinces.len()];
        let code = CodeId {
            issuer: Issuer::Province(issuer),
            serial: k,
            token: Default::default(),
        };
        if k.is_multiple_of(2) {
            Request::Query { code }
        } else {
            Request::Verify {
                credential: Credential::Code(code),
                place: hcsim_platform::api::Place {
                    county: hcsim_platform::api::CountyRef {
                        province: here,
                        county: 0,
                    },
                    kind: hcsim_platform::api::CheckpointKind::Mall,
                },
                temperature: None,
            }
        }
    };
    let mut c = config(2, 400.0, 1_000);
    c.degrade = config::Degrade::RateLimit {
        floor: 0.3,
        reopen_minutes: 5,
    };
    c.service_cv = 0.5;
    let run = |pool: Option<Arc<rayon::ThreadPool>>| {
        let mut cap = Capacity::new(Recorder::default(), &c, timing(), &[0; 31]);
        if let Some(pool) = pool {
            cap = cap.with_pool(pool);
        }
        let answers: Vec<Vec<Response>> = (0..12)
            .map(|t| exchange(&mut cap, t, (0..2_000).map(|k| request(k + t)).collect()))
            .collect();
        let r = cap.report(&provinces);
        (answers, r.latency, r.platforms, r.timeline)
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    let serial = run(None);
    let busy = serial.0.iter().flatten().filter(|r| **r == Response::Busy);
    assert!(busy.count() > 1_000, "the scenario must refuse some");
    assert_eq!(serial, run(Some(Arc::new(pool))));
}

/// A province's arrivals merged from its own stream and the broadcasts are
/// those of the two sorted together: the order one tick-wide sort gave.
#[test]
fn merged_arrivals_are_in_the_order_of_one_sort() {
    let own: Vec<(u64, u32)> = (0..500u32).map(|i| ((i as u64 * 7919) % 1000, i)).collect();
    let broadcast: Vec<(u64, u32)> = (500..540u32)
        .map(|i| ((i as u64 * 104_729) % 1000, i))
        .collect();
    let sorted = |mut v: Vec<(u64, u32)>| {
        v.sort_unstable();
        v
    };
    let (own, broadcast) = (sorted(own), sorted(broadcast));
    let all = sorted(own.iter().chain(&broadcast).copied().collect());
    let expected: Vec<u32> = all.iter().map(|&(_, i)| i).collect();
    assert_eq!(merge_arrivals(&own, &broadcast), expected);
    assert_eq!(merge_arrivals(&broadcast, &own), expected);
    assert_eq!(
        merge_arrivals(&own, &[]),
        own.iter().map(|&(_, i)| i).collect::<Vec<_>>()
    );
    assert!(merge_arrivals(&[], &[]).is_empty());
}
