//! The virtual users of an in-process target: `connections` workers that
//! take arrivals in schedule order, wait for each one's intended time, send
//! it, and record; and the recording both generators share (the HTTP one
//! is `pipelined`).
//!
//! Coordinated omission: a worker that is still waiting for an answer
//! cannot send the next arrival on time. Measuring from the actual send
//! would then hide the wait of every arrival that queued behind a slow
//! answer, which is exactly the latency a citizen at the checkpoint sees.
//! So the headline latency is measured from the *intended* send time; the
//! latency from the actual send is kept beside it ("uncorrected") so the
//! difference shows how much queueing the target caused.

use super::arrivals::{Clock, Schedule};
use super::workload::RequestSource;
use hcsim_adapters::Direct;
use hcsim_platform::api::{Request, Response};
use hcsim_platform::Minute;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How one request ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The platform answered (verdict, health, recorded...).
    Ok,
    /// The platform answered "system busy".
    Busy,
    /// The platform refused; the refusal's name.
    Refused(String),
    /// No answer: `timeout`, `connect`, `http_500`, ...
    Failed(String),
}

impl Answer {
    /// The error kind for reports; `None` for a normal answer.
    pub fn error(&self) -> Option<String> {
        match self {
            Answer::Ok => None,
            Answer::Busy => Some("busy".into()),
            Answer::Refused(r) => Some(format!("refused_{r}")),
            Answer::Failed(f) => Some(f.clone()),
        }
    }
    /// Whether the platform itself answered (the latency is a platform's).
    pub fn answered(&self) -> bool {
        !matches!(self, Answer::Failed(_))
    }
}

pub fn classify(r: &Response) -> Answer {
    match r {
        Response::Busy => Answer::Busy,
        Response::Refused(refusal) => Answer::Refused(
            serde_json::to_value(refusal)
                .ok()
                .and_then(|v| {
                    v.get("refusal")
                        .and_then(|k| k.as_str())
                        .map(str::to_string)
                })
                .unwrap_or_else(|| "other".into()),
        ),
        _ => Answer::Ok,
    }
}

/// One virtual user's way to the platform.
pub trait Session: Send + 'static {
    fn call(&mut self, now: Minute, req: &Request) -> impl Future<Output = Answer> + Send;
}

/// Straight into a shared in-process platform.
pub struct InProcSession(pub Arc<Direct>);

impl Session for InProcSession {
    fn call(&mut self, now: Minute, req: &Request) -> impl Future<Output = Answer> + Send {
        let answer = classify(&self.0.handle(now, req));
        std::future::ready(answer)
    }
}

/// Latencies are recorded in microseconds, up to an hour, 3 significant
/// figures (~190 KiB per histogram).
const LATENCY_MAX_US: u64 = 3_600_000_000;
/// A send this much later than intended counts as late.
pub const LATE_US: u64 = 2_000;

pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_MAX_US, 3).expect("constant histogram bounds are valid")
}

/// What a group of workers measured.
pub struct Recorder {
    /// From the intended send time to the answer.
    pub corrected: Histogram<u64>,
    /// From the actual send to the answer.
    pub uncorrected: Histogram<u64>,
    /// From the intended to the actual send.
    pub send_lag: Histogram<u64>,
    /// `corrected` since the last progress tick.
    pub interval: Histogram<u64>,
    pub ok: u64,
    /// Answered by the platform: `ok`, busy and refused.
    pub answered: u64,
    pub errors: BTreeMap<String, u64>,
    /// Sent late because every connection was still waiting for an answer.
    pub late_no_connection: u64,
    /// Sent late although a connection was free: the generator's timer or
    /// CPU fell behind.
    pub late_generator: u64,
    pub last_done: Option<Instant>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            corrected: histogram(),
            uncorrected: histogram(),
            send_lag: histogram(),
            interval: histogram(),
            ok: 0,
            answered: 0,
            errors: BTreeMap::new(),
            late_no_connection: 0,
            late_generator: 0,
            last_done: None,
        }
    }
}

fn micros(d: Duration) -> u64 {
    (d.as_micros().min(u64::MAX as u128) as u64).max(1)
}

impl Recorder {
    pub(crate) fn record(&mut self, t: &Times, answer: &Answer) {
        let late = Duration::from_micros(LATE_US);
        self.send_lag
            .saturating_record(micros(t.sent.saturating_duration_since(t.intended)));
        if t.released.saturating_duration_since(t.intended) > late {
            self.late_generator += 1;
        } else if t.sent.saturating_duration_since(t.released) > late {
            // Queued: because every connection was waiting for an answer,
            // or because a free worker did not get the CPU in time.
            if t.all_busy {
                self.late_no_connection += 1;
            } else {
                self.late_generator += 1;
            }
        }
        if answer.answered() {
            self.answered += 1;
            let corrected = micros(t.done.saturating_duration_since(t.intended));
            self.corrected.saturating_record(corrected);
            self.interval.saturating_record(corrected);
            self.uncorrected
                .saturating_record(micros(t.done.saturating_duration_since(t.sent)));
        }
        match answer.error() {
            None => self.ok += 1,
            Some(kind) => *self.errors.entry(kind).or_default() += 1,
        }
        self.last_done = Some(self.last_done.map_or(t.done, |d| d.max(t.done)));
    }

    pub fn merge(&mut self, other: &Recorder) {
        // Same bounds on both sides, so `add` cannot fail.
        let _ = self.corrected.add(&other.corrected);
        let _ = self.uncorrected.add(&other.uncorrected);
        let _ = self.send_lag.add(&other.send_lag);
        self.ok += other.ok;
        self.answered += other.answered;
        for (k, n) in &other.errors {
            *self.errors.entry(k.clone()).or_default() += n;
        }
        self.late_no_connection += other.late_no_connection;
        self.late_generator += other.late_generator;
        self.last_done = match (self.last_done, other.last_done) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

pub(crate) struct Times {
    /// When the schedule wanted the request sent.
    pub intended: Instant,
    /// When the pacer handed it to the workers.
    pub released: Instant,
    /// When a worker sent it.
    pub sent: Instant,
    pub done: Instant,
    /// Every other connection was in a call (or, pipelined, had its fill
    /// of requests in flight) when this one took it.
    pub all_busy: bool,
}

/// How arrivals are released at their intended times.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Pacing {
    /// A dedicated thread sleeping to each arrival: ~0.1 ms precision. The
    /// async runtime's timer rounds every wake-up to the next millisecond,
    /// which would add up to 1 ms of generator lag to every corrected
    /// latency.
    Thread,
    /// The runtime's timer: coarse, but it follows tokio's paused clock, so
    /// tests can run a schedule deterministically in no time.
    Runtime,
}

/// One arrival, released to the workers.
struct Release {
    i: u64,
    offset: Duration,
    intended: Instant,
    released: Instant,
}

/// Everything the workers share.
pub struct Run {
    pub schedule: Schedule,
    pub clock: Clock,
    pub requests: Arc<dyn RequestSource>,
    pub pacing: Pacing,
    /// No arrival is sent after this long past the run's end; the rest are
    /// counted as dropped.
    pub send_grace: Duration,
    sent: AtomicU64,
    completed: AtomicU64,
    errors: AtomicU64,
    stop: AtomicBool,
    recorders: Vec<Mutex<Recorder>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One second of the run, for the progress line and the report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Tick {
    pub second: u32,
    pub requested: u64,
    pub completed: u64,
    pub errors: u64,
    /// CO-corrected p99 of the answers in this second, milliseconds.
    pub p99_ms: f64,
    pub in_flight: u64,
}

/// What `drive` hands back.
pub struct Driven {
    pub recorder: Recorder,
    pub started: Instant,
    pub sent: u64,
    pub completed: u64,
    /// Arrivals never sent: the run ended before a worker could take them.
    pub dropped: u64,
    /// Sent but never answered within the run's time limit.
    pub unfinished: u64,
    pub timeline: Vec<Tick>,
}

impl Run {
    pub fn new(
        schedule: Schedule,
        clock: Clock,
        requests: Arc<dyn RequestSource>,
        shards: usize,
    ) -> Run {
        Run {
            schedule,
            clock,
            requests,
            pacing: Pacing::Thread,
            send_grace: Duration::from_secs(1),
            sent: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            recorders: (0..shards.max(1))
                .map(|_| Mutex::new(Recorder::default()))
                .collect(),
        }
    }
}

/// Releases every arrival at its intended time, whatever the workers are
/// doing: the open model. Arrivals no worker is free to take wait in the
/// queue, and that wait is part of their corrected latency.
fn pace_on_thread(
    run: Arc<Run>,
    t0: Instant,
    queue: mpsc::UnboundedSender<Release>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let start = t0.into_std();
        for i in 0..run.schedule.len() {
            if run.stop.load(Ordering::Relaxed) {
                return;
            }
            let offset = run.schedule.offset(i);
            let due = start + offset;
            let now = std::time::Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            let release = Release {
                i,
                offset,
                intended: t0 + offset,
                released: Instant::now(),
            };
            if queue.send(release).is_err() {
                return;
            }
        }
    })
}

async fn pace_on_runtime(run: Arc<Run>, t0: Instant, queue: mpsc::UnboundedSender<Release>) {
    for i in 0..run.schedule.len() {
        if run.stop.load(Ordering::Relaxed) {
            return;
        }
        let offset = run.schedule.offset(i);
        tokio::time::sleep_until(t0 + offset).await;
        let release = Release {
            i,
            offset,
            intended: t0 + offset,
            released: Instant::now(),
        };
        if queue.send(release).is_err() {
            return;
        }
    }
}

type Queue = Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Release>>>;

struct Worker {
    slot: usize,
    connections: u64,
    queue: Queue,
    cutoff: Instant,
}

async fn worker<S: Session>(run: Arc<Run>, mut session: S, w: Worker) {
    let Worker {
        slot,
        connections,
        queue,
        cutoff,
    } = w;
    let recorder = &run.recorders[slot % run.recorders.len()];
    loop {
        // Idle workers line up on the lock (first come, first served) and
        // the one holding it takes the next arrival when it is released.
        let next = queue.lock().await.recv().await;
        let Some(r) = next else { return };
        let sent = Instant::now();
        if sent > cutoff {
            return;
        }
        let req = run.requests.request(r.i);
        // Counters of other threads may be seen out of step: saturate.
        let others = run
            .sent
            .fetch_add(1, Ordering::Relaxed)
            .saturating_sub(run.completed.load(Ordering::Relaxed));
        let answer = session.call(run.clock.now(r.offset), &req).await;
        let done = Instant::now();
        if answer.error().is_some() {
            run.errors.fetch_add(1, Ordering::Relaxed);
        }
        run.completed.fetch_add(1, Ordering::Relaxed);
        lock(recorder).record(
            &Times {
                intended: r.intended,
                released: r.released,
                sent,
                done,
                all_busy: others + 1 >= connections,
            },
            &answer,
        );
    }
}

/// Runs the schedule over `sessions` (one worker each) and returns what
/// they measured. Ends by itself: no arrival is sent later than
/// `send_grace` after the run, and answers are awaited at most `timeout`
/// beyond that. `on_tick` sees every second of progress.
pub async fn drive<S: Session>(
    run: Arc<Run>,
    sessions: Vec<S>,
    timeout: Duration,
    mut on_tick: impl FnMut(&Tick),
) -> Driven {
    // A short lead lets every worker start before the first arrival is due.
    let t0 = Instant::now() + Duration::from_millis(20);
    let cutoff = t0 + run.schedule.duration() + run.send_grace;
    let (tx, rx) = mpsc::unbounded_channel();
    let queue: Queue = Arc::new(tokio::sync::Mutex::new(rx));
    let pacer = match run.pacing {
        Pacing::Thread => Some(pace_on_thread(run.clone(), t0, tx)),
        Pacing::Runtime => {
            tokio::spawn(pace_on_runtime(run.clone(), t0, tx));
            None
        }
    };
    let connections = sessions.len() as u64;
    let handles: Vec<_> = sessions
        .into_iter()
        .enumerate()
        .map(|(slot, s)| {
            let w = Worker {
                slot,
                connections,
                queue: queue.clone(),
                cutoff,
            };
            tokio::spawn(worker(run.clone(), s, w))
        })
        .collect();
    let aborts: Vec<_> = handles.iter().map(|h| h.abort_handle()).collect();
    let limit = cutoff + timeout;

    let mut timeline = Vec::new();
    let mut all = futures::future::join_all(handles);
    let mut second = 0u32;
    let mut last_completed = 0;
    let mut last_errors = 0;
    loop {
        let tick_at = t0 + Duration::from_secs(second as u64 + 1);
        let finished = tokio::select! {
            _ = &mut all => true,
            _ = tokio::time::sleep_until(tick_at.min(limit)) => Instant::now() >= limit,
        };
        let now = Instant::now();
        if now > t0 {
            let elapsed = now.saturating_duration_since(t0).as_secs_f64();
            let from = second as f64;
            let mut interval = histogram();
            for r in &run.recorders {
                let mut r = lock(r);
                let _ = interval.add(&r.interval);
                r.interval.reset();
            }
            let completed = run.completed.load(Ordering::Relaxed);
            let errors = run.errors.load(Ordering::Relaxed);
            let tick = Tick {
                second: second + 1,
                requested: run
                    .schedule
                    .due_before(elapsed)
                    .saturating_sub(run.schedule.due_before(from)),
                completed: completed.saturating_sub(last_completed),
                errors: errors.saturating_sub(last_errors),
                p99_ms: interval.value_at_quantile(0.99) as f64 / 1000.0,
                in_flight: run.sent.load(Ordering::Relaxed).saturating_sub(completed),
            };
            // Partial last seconds are reported only if something happened.
            if elapsed >= from + 1.0 || tick.completed > 0 {
                on_tick(&tick);
                timeline.push(tick);
            }
            last_completed = completed;
            last_errors = errors;
            second += 1;
        }
        if finished {
            break;
        }
    }
    // Workers still waiting past the limit are stopped with their request
    // unanswered.
    drop(all);
    for a in aborts {
        a.abort();
    }
    run.stop.store(true, Ordering::Relaxed);
    // The pacer sleeps at most until the last arrival, which is before
    // `limit`; once stopped or past it, it returns at once.
    if let Some(p) = pacer {
        let _ = tokio::task::spawn_blocking(move || p.join()).await;
    }

    let mut recorder = Recorder::default();
    for r in &run.recorders {
        recorder.merge(&lock(r));
    }
    let sent = run.sent.load(Ordering::Relaxed);
    let completed = run.completed.load(Ordering::Relaxed);
    Driven {
        recorder,
        started: t0,
        sent,
        completed,
        dropped: run.schedule.len().saturating_sub(sent),
        unfinished: sent.saturating_sub(completed),
        timeline,
    }
}
