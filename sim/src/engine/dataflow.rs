//! The engine as a timely dataflow: every worker (a thread, in one process
//! or many) owns a fixed set of shards and runs their ticks; records travel
//! between workers through exchange channels keyed by their destination.
//!
//! One tick, on every worker:
//! 1. *deliveries* (replies of the previous tick, the authority's notices)
//!    come down from the barrier, keyed to the worker owning their shard;
//! 2. each owned shard runs its tick over its inbox;
//! 3. its *messages* to other shards go to their owners, its *requests*
//!    go up to worker 0, which hands them to the barrier.
//!
//! The tick is the timestamp. Every worker sends every receiver of a stage
//! exactly one record per tick, empty or not, so a stage is done when a
//! worker holds one from each sender: that is the barrier, and it needs no
//! round of timely's progress tracking to be known (the inputs still
//! advance each tick, so timely retires what is done). Receivers put what
//! they got in a canonical order (destination, then source shard) before
//! acting, so nothing depends on which worker hosted what or on arrival
//! order.

use super::barrier::{Deliveries, ShardBatch};
use super::hosting::{Held, Holding, Host, HostClient, HostLine};
use super::message::ShardMsg;
use super::placement::Placement;
use super::shard::Shard;
use super::wire::Wire;
use crate::metrics::Metrics;
use crate::scenario::Behaviour;
use crate::world::World;
use bitcode::{Decode, Encode};
use hcsim_platform::Minute;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::operators::{Input, Probe};
use timely::dataflow::{InputHandle, ProbeHandle, Scope};
use timely::worker::Worker;

/// What every worker needs to host shards; the same in every process.
pub struct EngineSpec {
    pub world: Arc<World>,
    pub behaviour: Behaviour,
    pub start: Minute,
    pub tick_minutes: u32,
    pub interval_minutes: u32,
    pub ticks: u32,
    pub placement: Placement,
    /// Shards built and started ahead of the first tick (`prepare`).
    pub prepared: Prepared,
    /// The provinces this process holds, if it is not process 0 and the
    /// run spreads them (`hosting.rs`).
    pub held: Held,
    /// The build and files of the run (`fingerprint.rs`); 0 in one process.
    pub fingerprint: u64,
}

/// Shards made ready before their worker runs, index = shard.
pub struct Prepared(Vec<Mutex<Slot>>);

enum Slot {
    Waiting,
    Ready(Box<Shard>),
    /// Its worker built it itself.
    Taken,
}

impl Prepared {
    pub fn new(shards: u32) -> Prepared {
        Prepared((0..shards).map(|_| Mutex::new(Slot::Waiting)).collect())
    }

    /// Builds and starts the shards of `process` not yet taken, in index
    /// order, each under its slot's lock: a worker wanting one being built
    /// waits for it rather than building it twice.
    pub fn prepare(&self, spec: &EngineSpec, process: usize) {
        let placement = spec.placement;
        let ours =
            (0..placement.shards).filter(|&i| placement.process_of(placement.owner(i)) == process);
        for i in ours {
            let mut slot = lock(&self.0[i as usize]);
            if matches!(*slot, Slot::Waiting) {
                let mut shard = new_shard(spec, i);
                shard.prestart();
                *slot = Slot::Ready(Box::new(shard));
            }
        }
    }

    /// Shard `i`, ready or not yet built: from now on its worker's own.
    fn take(&self, spec: &EngineSpec, i: u32) -> Shard {
        match std::mem::replace(&mut *lock(&self.0[i as usize]), Slot::Taken) {
            Slot::Ready(shard) => *shard,
            Slot::Waiting | Slot::Taken => new_shard(spec, i),
        }
    }
}

fn new_shard(spec: &EngineSpec, i: u32) -> Shard {
    Shard::new(
        i,
        spec.world.clone(),
        spec.behaviour.clone(),
        spec.start,
        spec.tick_minutes,
        spec.interval_minutes,
    )
}

/// A lock whose holder's panic is reported where it happened, not again
/// by everyone who takes the lock after.
pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A shard's figures at the end of the run.
#[derive(Clone, Debug, Encode, Decode)]
pub struct ShardReport {
    pub shard: u32,
    pub metrics: Metrics,
    pub heap_bytes: u64,
    pub queued: u64,
}

/// Where one worker's wall time went.
#[derive(Clone, Copy, Debug, Default, Encode, Decode)]
pub struct WorkerSeconds {
    pub worker: u32,
    /// Running its shards' ticks.
    pub agents: f64,
    /// Waiting for the other workers and the barrier.
    pub waiting: f64,
    /// Serving the provinces its process holds, while it waited (the first
    /// worker of a process other than 0 when they are spread).
    pub provinces: f64,
    /// Bytes this worker's process had sent to other processes by the end
    /// (reported by each process's first worker only).
    pub process_bytes_sent: u64,
    /// The peak resident memory of this worker's process by the end
    /// (likewise): what sizing machines for a cluster needs per process.
    pub process_peak_rss: u64,
    /// The CPU time of this worker's process by the end, in seconds
    /// (likewise; a process other than 0 runs nothing else).
    pub process_cpu_seconds: f64,
}

/// Worker 0's calls to the barrier, which runs on the thread that started
/// the run.
pub enum Call {
    /// Close tick `close.0` with its batches (shard order), then open tick
    /// `open`; the answer is the deliveries for the opened tick, or `None`
    /// when the barrier failed and the run must stop.
    Step {
        close: Option<(u32, Vec<ShardBatch>)>,
        open: Option<u32>,
        reply: tokio::sync::oneshot::Sender<Option<Deliveries>>,
        /// When worker 0 asked: the wait until the barrier takes the call
        /// is how long the last tick's watchers held the next tick up.
        asked: Instant,
        /// Worker 0's thread, woken once the answer is sent (it may be
        /// waiting for work for the provinces held elsewhere meanwhile).
        waker: std::thread::Thread,
    },
    /// The run is over: every shard's report and every worker's times.
    Finish {
        reports: Vec<ShardReport>,
        workers: Vec<WorkerSeconds>,
    },
}

/// The barrier's end of worker 0's line; `None` in other processes.
pub type BarrierLine = Arc<Mutex<Option<tokio::sync::mpsc::Sender<Call>>>>;

/// What one worker sends another at the end of its shards' tick: exactly
/// one record per (sender, receiver) pair and tick, possibly empty, so a
/// receiver knows the stage is complete once it holds one from every
/// worker, without waiting for timely to track the stage's progress.
#[derive(Clone, Debug, Encode, Decode)]
enum Up {
    /// The sender's shards' messages to the receiver's shards, as
    /// (destination shard, source shard, messages in emission order).
    Messages { to_worker: u32, messages: Vec<Sent> },
    /// The sender's shards' requests, to worker 0 for the barrier.
    Batches(Vec<ShardBatch>),
}

/// The barrier's deliveries for one worker's shards: exactly one per
/// worker and tick, from worker 0.
#[derive(Clone, Debug, Encode, Decode)]
struct Down {
    to_worker: u32,
    /// Process 0's fingerprint (`fingerprint.rs`), checked by every
    /// process as it takes its deliveries (a mismatch ends it at tick 0).
    fingerprint: u64,
    deliveries: Delivered,
}

#[derive(Clone, Debug, Encode, Decode)]
enum Last {
    Report(Box<ShardReport>),
    Seconds(WorkerSeconds),
}

pub(super) type Handle<T> = InputHandle<u64, CapacityContainerBuilder<Vec<Wire<T>>>>;

/// Records collected by one worker, with the tick they were sent at. A
/// worker waiting at one stage keeps receiving what faster workers already
/// send for the next, so records are taken by tick, never all at once.
pub(super) struct Mailbox<T>(Rc<RefCell<Vec<(u64, T)>>>);

impl<T> Mailbox<T> {
    fn take(&self, tick: u64) -> Vec<T> {
        self.take_if(tick, |_| true)
    }

    /// The records of `tick` that `of` picks; the others stay.
    fn take_if(&self, tick: u64, of: impl Fn(&T) -> bool) -> Vec<T> {
        self.take_where(|t, r| t == tick && of(r))
    }

    /// The records `of` picks, whatever their time.
    pub(super) fn take_any(&self, of: impl Fn(&T) -> bool) -> Vec<T> {
        self.take_where(|_, r| of(r))
    }

    fn take_where(&self, keep: impl Fn(u64, &T) -> bool) -> Vec<T> {
        let mut all = self.0.borrow_mut();
        let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut *all)
            .into_iter()
            .partition(|(t, r)| keep(*t, r));
        *all = later;
        now.into_iter().map(|(_, r)| r).collect()
    }

    fn count(&self, tick: u64, of: impl Fn(&T) -> bool) -> usize {
        self.count_where(|t, r| t == tick && of(r))
    }

    pub(super) fn count_any(&self, of: impl Fn(&T) -> bool) -> usize {
        self.count_where(|_, r| of(r))
    }

    fn count_where(&self, keep: impl Fn(u64, &T) -> bool) -> usize {
        self.0.borrow().iter().filter(|(t, r)| keep(*t, r)).count()
    }
}

/// An input whose records are exchanged to the worker `route` names and
/// collected there; `probe`, when given, passes a tick once all of it is
/// collected.
fn mailbox<T>(
    scope: &Scope<'_, u64>,
    input: &mut Handle<T>,
    route: impl Fn(&T) -> u64 + 'static,
    probe: Option<&ProbeHandle<u64>>,
) -> Mailbox<T>
where
    T: Clone + bitcode::Encode + bitcode::DecodeOwned + Send + 'static,
{
    let collected = Rc::new(RefCell::new(Vec::new()));
    let sink = collected.clone();
    let stream = scope
        .input_from(input)
        .unary::<CapacityContainerBuilder<Vec<()>>, _, _, _>(
            Exchange::new(move |w: &Wire<T>| route(&w.0)),
            "Mailbox",
            move |_, _| {
                move |input, _output| {
                    input.for_each(|cap, data| {
                        let t = cap.least().copied().unwrap_or_default();
                        sink.borrow_mut().extend(data.drain(..).map(|w| (t, w.0)));
                    });
                }
            },
        );
    if let Some(probe) = probe {
        stream.probe_with(probe);
    }
    Mailbox(collected)
}

/// What a worker does while it waits for records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idle {
    /// Sleeps until timely wakes it: the barrier's work runs on threads of
    /// its own, which need the core.
    Park,
    /// Takes work from the pool whose thread it runs on (the barrier's
    /// parallel steps, the watchers), and sleeps only after a while with
    /// nothing to do, in short naps, so work that arrives meanwhile waits
    /// at most a nap.
    Help,
}

/// How long a helping worker keeps looking for work before it naps.
const HELP_SPIN: Duration = Duration::from_millis(2);
/// A helping worker's nap: the longest that new pool work waits for it.
const HELP_NAP: Duration = Duration::from_micros(50);

/// Steps the worker until `complete` holds (a stage's records are all in, or
/// the frontier has passed a tick), waiting as `idle` says, or until the run
/// is aborted (a helping worker's peer may have died); returns the seconds
/// spent waiting.
fn gather(
    worker: &mut Worker,
    idle: Idle,
    abort: &AtomicBool,
    complete: impl Fn() -> bool,
    serve: &mut Holding,
) -> f64 {
    let clock = Instant::now();
    let mut idle_since = clock;
    while !complete() {
        match idle {
            Idle::Park => {
                worker.step_or_park(None);
                serve.serve();
            }
            Idle::Help => {
                if abort.load(Ordering::Relaxed) {
                    break;
                }
                worker.step();
                serve.serve();
                if complete() {
                    break;
                }
                if rayon::yield_now() == Some(rayon::Yield::Executed) {
                    idle_since = Instant::now();
                } else if idle_since.elapsed() < HELP_SPIN {
                    std::thread::yield_now();
                } else {
                    worker.step_or_park(Some(HELP_NAP));
                }
            }
        }
    }
    clock.elapsed().as_secs_f64()
}

/// How worker 0 reaches the barrier.
pub trait BarrierPort {
    /// Closes tick `close.0` with its batches (shard order), then opens
    /// tick `open`: the deliveries for the opened tick, or `None` when the
    /// barrier failed and the run must stop.
    fn step(
        &mut self,
        close: Option<(u32, Vec<ShardBatch>)>,
        open: Option<u32>,
    ) -> Option<Deliveries>;

    /// Like `step`, without waiting for the answer: `None` where the
    /// barrier answers only in `step` (it runs on worker 0's own thread).
    fn ask(
        &mut self,
        _close: Option<(u32, Vec<ShardBatch>)>,
        _open: Option<u32>,
    ) -> Option<Answer> {
        None
    }

    /// Runs worker 0's own shards' tick; a barrier at hand lets the last
    /// tick's watchers read it beside them.
    fn beside<R: Send>(&mut self, tick: impl FnOnce() -> R + Send) -> R {
        tick()
    }

    /// The run is over: every shard's report and every worker's times.
    fn finish(self, reports: Vec<ShardReport>, workers: Vec<WorkerSeconds>);
}

/// The barrier on another thread of this process, over a channel.
pub struct Line(pub tokio::sync::mpsc::Sender<Call>);

impl BarrierPort for Line {
    fn step(
        &mut self,
        close: Option<(u32, Vec<ShardBatch>)>,
        open: Option<u32>,
    ) -> Option<Deliveries> {
        call_barrier(&self.0, close, open)
    }

    fn ask(&mut self, close: Option<(u32, Vec<ShardBatch>)>, open: Option<u32>) -> Option<Answer> {
        ask_barrier(&self.0, close, open)
    }

    fn finish(self, reports: Vec<ShardReport>, workers: Vec<WorkerSeconds>) {
        let _ = self.0.blocking_send(Call::Finish { reports, workers });
    }
}

/// Asks the barrier for one step; `None` when it has stopped.
fn call_barrier(
    line: &tokio::sync::mpsc::Sender<Call>,
    close: Option<(u32, Vec<ShardBatch>)>,
    open: Option<u32>,
) -> Option<Deliveries> {
    let mut answer = ask_barrier(line, close, open)?;
    loop {
        if let Some(deliveries) = answer.poll() {
            return deliveries;
        }
        // The barrier wakes this thread when it answers.
        std::thread::park_timeout(Duration::from_millis(10));
    }
}

/// Sends the barrier one step without waiting for its answer.
fn ask_barrier(
    line: &tokio::sync::mpsc::Sender<Call>,
    close: Option<(u32, Vec<ShardBatch>)>,
    open: Option<u32>,
) -> Option<Answer> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    line.blocking_send(Call::Step {
        close,
        open,
        reply,
        asked: Instant::now(),
        waker: std::thread::current(),
    })
    .ok()?;
    Some(Answer {
        reply: answer,
        line: line.clone(),
    })
}

/// The barrier's answer to a step, when it comes.
pub struct Answer {
    reply: tokio::sync::oneshot::Receiver<Option<Deliveries>>,
    line: tokio::sync::mpsc::Sender<Call>,
}

impl Answer {
    /// The answer once it has come, `Some(None)` when none will: the
    /// barrier stopped, or the line closed (a run that ended before its
    /// barrier started; a step sent as the line closed may be left in it,
    /// so its reply would never be dropped).
    pub fn poll(&mut self) -> Option<Option<Deliveries>> {
        use tokio::sync::oneshot::error::TryRecvError;
        match self.reply.try_recv() {
            Ok(deliveries) => Some(deliveries),
            Err(TryRecvError::Closed) => Some(None),
            Err(TryRecvError::Empty) if self.line.is_closed() => Some(None),
            Err(TryRecvError::Empty) => None,
        }
    }
}

/// A shard's messages to another: (destination, source, messages in the
/// order they were emitted).
type Sent = (u32, u32, Vec<ShardMsg>);

/// The tick's deliveries by destination shard.
type Delivered = Vec<(u32, Vec<ShardMsg>)>;

/// The mailboxes of one worker's dataflow, and the inputs that feed them.
struct Lines {
    up_in: Handle<Up>,
    down_in: Handle<Down>,
    last_in: Handle<Last>,
    up: Mailbox<Up>,
    down: Mailbox<Down>,
    last: Mailbox<Last>,
    last_probe: ProbeHandle<u64>,
}

impl Lines {
    fn build(worker: &mut Worker) -> (Lines, HostLine) {
        let (mut up_in, mut down_in, mut last_in) = (Handle::new(), Handle::new(), Handle::new());
        let mut host_in = Handle::new();
        let last_probe = ProbeHandle::new();
        let (up, down, last, host) = worker.dataflow::<u64, _, _>(|scope| {
            let up = mailbox(
                &scope,
                &mut up_in,
                |r: &Up| match r {
                    Up::Messages { to_worker, .. } => *to_worker as u64,
                    Up::Batches(_) => 0,
                },
                None,
            );
            let down = mailbox(&scope, &mut down_in, |d: &Down| d.to_worker as u64, None);
            let last = mailbox(&scope, &mut last_in, |_: &Last| 0, Some(&last_probe));
            // A call is complete when its answers are counted in, not when
            // a frontier passes.
            let host = mailbox(&scope, &mut host_in, Host::to_worker, None);
            (up, down, last, host)
        });
        let lines = Lines {
            up_in,
            down_in,
            last_in,
            up,
            down,
            last,
            last_probe,
        };
        let host = HostLine::new(host_in, host);
        (lines, host)
    }

    /// Stage 1, on worker 0: the barrier's deliveries (`answer`) for the
    /// tick, one record for every worker, empty once the run has stopped
    /// so that no worker waits in vain. Returns whether the run has
    /// stopped.
    fn hand_down(
        &mut self,
        spec: &EngineSpec,
        answer: Option<Deliveries>,
        mut stopped: bool,
    ) -> bool {
        let placement = spec.placement;
        let mut per_worker: Vec<Delivered> = vec![Vec::new(); placement.workers()];
        match answer {
            Some(deliveries) => {
                for (to, messages) in deliveries.into_iter().enumerate() {
                    if !messages.is_empty() {
                        per_worker[placement.owner(to as u32)].push((to as u32, messages));
                    }
                }
            }
            None => stopped = true,
        }
        for (to_worker, deliveries) in per_worker.into_iter().enumerate() {
            self.down_in.send(Wire(Down {
                to_worker: to_worker as u32,
                fingerprint: spec.fingerprint,
                deliveries,
            }));
        }
        stopped
    }

    /// What the owned shards receive at tick `t`: the messages shards sent
    /// them at `t − 1` and the barrier's deliveries, each in canonical
    /// order (destination, then source shard). `Err` holds process 0's
    /// fingerprint when it is not `fingerprint`.
    fn inboxes(&self, t: u64, fingerprint: u64) -> Result<(Vec<Sent>, Delivered), u64> {
        let mut from_shards: Vec<Sent> = Vec::new();
        if t > 0 {
            for r in self.up.take(t - 1) {
                if let Up::Messages { messages, .. } = r {
                    from_shards.extend(messages);
                }
            }
        }
        let down = self.down.take(t);
        if let Some(d) = down.iter().find(|d| d.fingerprint != fingerprint) {
            return Err(d.fingerprint);
        }
        let mut delivered: Delivered = down.into_iter().flat_map(|d| d.deliveries).collect();
        from_shards.sort_by_key(|(to, from, _)| (*to, *from));
        delivered.sort_by_key(|(to, _)| *to);
        Ok((from_shards, delivered))
    }

    /// Stage 3: the messages to every worker and the requests to worker 0,
    /// one record to each receiver, empty or not.
    fn send_up(&mut self, outgoing: Vec<Vec<Sent>>, batches: Vec<ShardBatch>) {
        for (to_worker, messages) in outgoing.into_iter().enumerate() {
            self.up_in.send(Wire(Up::Messages {
                to_worker: to_worker as u32,
                messages,
            }));
        }
        self.up_in.send(Wire(Up::Batches(batches)));
    }

    /// Whether stage 3 of tick `t` is all in: a record of messages from
    /// every worker, and on worker 0 a record of batches from every one.
    fn up_complete(&self, t: u64, workers: usize, worker_0: bool) -> bool {
        self.up.count(t, |r| matches!(r, Up::Messages { .. })) >= workers
            && (!worker_0 || self.up.count(t, |r| matches!(r, Up::Batches(_))) >= workers)
    }

    /// On worker 0: every worker's batches of tick `t`, in shard order.
    fn take_batches(&self, t: u64) -> Vec<ShardBatch> {
        let mut batches: Vec<ShardBatch> = self
            .up
            .take_if(t, |r| matches!(r, Up::Batches(_)))
            .into_iter()
            .flat_map(|r| match r {
                Up::Batches(b) => b,
                Up::Messages { .. } => Vec::new(),
            })
            .collect();
        batches.sort_by_key(|b| b.shard);
        batches
    }
}

/// Stage 2: each owned shard's tick over its inbox, on the pool the worker
/// runs on when `parallel` (so an idle worker takes shards from a busy
/// one), else one after another. Returns the shards' requests and their
/// messages by receiving worker.
fn run_shards(
    shards: &mut [Shard],
    placement: Placement,
    now: Minute,
    from_shards: Vec<Sent>,
    delivered: Delivered,
    parallel: bool,
) -> (Vec<ShardBatch>, Vec<Vec<Sent>>) {
    let mut from_shards = from_shards.into_iter().peekable();
    let mut delivered = delivered.into_iter().peekable();
    let inboxes: Vec<Vec<ShardMsg>> = shards
        .iter()
        .map(|shard| {
            let mut inbox = Vec::new();
            while let Some((_, _, m)) = from_shards.next_if(|(to, _, _)| *to == shard.index) {
                inbox.extend(m);
            }
            while let Some((_, m)) = delivered.next_if(|(to, _)| *to == shard.index) {
                inbox.extend(m);
            }
            inbox
        })
        .collect();
    let tick = |(shard, inbox): (&mut Shard, Vec<ShardMsg>)| {
        let mut outbox = shard.tick(now, inbox);
        // Stable: each destination keeps the order of emission.
        outbox.messages.sort_by_key(|(to, _)| *to);
        outbox
    };
    let outboxes: Vec<_> = if parallel {
        use rayon::prelude::*;
        shards
            .par_iter_mut()
            .zip(inboxes)
            .with_max_len(1)
            .map(tick)
            .collect()
    } else {
        shards.iter_mut().zip(inboxes).map(tick).collect()
    };
    let mut batches = Vec::with_capacity(shards.len());
    let mut outgoing: Vec<Vec<Sent>> = vec![Vec::new(); placement.workers()];
    for (shard, outbox) in shards.iter().zip(outboxes) {
        for (to, msg) in outbox.messages {
            let out = &mut outgoing[placement.owner(to)];
            match out.last_mut() {
                Some((last, from, v)) if *last == to && *from == shard.index => v.push(msg),
                _ => out.push((to, shard.index, vec![msg])),
            }
        }
        batches.push(ShardBatch {
            shard: shard.index,
            events: outbox.events,
            requests: outbox.requests,
        });
    }
    (batches, outgoing)
}

/// One worker's whole run; worker 0 (of process 0) reaches the barrier
/// through `port`, the others get `None`; `host` is worker 0's end of the
/// barrier's line to the provinces held elsewhere, when there are any.
pub fn run_worker<B: BarrierPort>(
    worker: &mut Worker,
    spec: &EngineSpec,
    mut port: Option<B>,
    host: Option<HostClient>,
    abort: &AtomicBool,
    idle: Idle,
) {
    let index = worker.index();
    let placement = spec.placement;
    let workers = placement.workers();
    let mut shards: Vec<Shard> = placement
        .shards_of(index)
        .map(|i| spec.prepared.take(spec, i))
        .collect();
    if idle == Idle::Park {
        // On a thread of its own, started before the population registers:
        // the first day's plans are drawn meanwhile.
        for shard in &mut shards {
            shard.prestart();
        }
    }
    if let Some(host) = &host {
        let _ = host.thread.set(std::thread::current());
    }
    let (mut lines, host_line) = Lines::build(worker);
    let process = placement.process_of(index) as u32;
    // Every other process's first worker answers worker 0's calls, holding
    // provinces or not: one that was not given any answers that it does
    // not hold them, rather than leaving worker 0 waiting.
    let held = (process != 0 && placement.thread_of(index) == 0)
        .then(|| std::mem::take(&mut *lock(&spec.held)));
    let mut holding = Holding::new(host_line, held, process);
    // On the pool, another worker may take some of this one's shards.
    let parallel = idle == Idle::Help;
    let mut seconds = WorkerSeconds {
        worker: index as u32,
        ..Default::default()
    };
    // Worker 0: the last tick's batches, for the barrier's next call.
    let mut pending: Option<(u32, Vec<ShardBatch>)> = None;
    let mut stopped = false;
    let threads = placement.threads;
    for tick in 0..spec.ticks {
        let t = tick as u64;
        stopped |= abort.load(Ordering::Relaxed);
        if let Some(port) = &mut port {
            let close = pending.take();
            let answer = match (&host, stopped) {
                (_, true) => None,
                (Some(client), false) => port
                    .ask(close, Some(tick))
                    .and_then(|a| holding.wait(worker, client, a, threads, abort)),
                (None, false) => port.step(close, Some(tick)),
            };
            stopped = lines.hand_down(spec, answer, stopped);
        }
        lines.down_in.advance_to(t + 1);
        seconds.waiting += gather(
            worker,
            idle,
            abort,
            || lines.down.count(t, |_| true) >= 1,
            &mut holding,
        );

        let (from_shards, delivered) = lines
            .inboxes(t, spec.fingerprint)
            .unwrap_or_else(|theirs| super::fingerprint::refuse(process, theirs, spec.fingerprint));
        let (batches, outgoing) = if stopped {
            (Vec::new(), vec![Vec::new(); workers])
        } else {
            let now = spec.start.plus_minutes(tick * spec.tick_minutes);
            let shards = &mut shards;
            let tick = move || {
                let clock = Instant::now();
                let ran = run_shards(shards, placement, now, from_shards, delivered, parallel);
                (ran, clock.elapsed().as_secs_f64())
            };
            let (ran, agents) = match &mut port {
                Some(port) => port.beside(tick),
                None => tick(),
            };
            seconds.agents += agents;
            ran
        };

        lines.send_up(outgoing, batches);
        lines.up_in.advance_to(t + 1);
        seconds.waiting += gather(
            worker,
            idle,
            abort,
            || lines.up_complete(t, workers, index == 0),
            &mut holding,
        );
        if port.is_some() {
            pending = Some((tick, lines.take_batches(t)));
        }
    }

    // The last tick's requests still get their answers (and the observers
    // see them), though no shard runs again.
    if let (Some(port), false) = (&mut port, stopped) {
        let answer = match &host {
            Some(client) => port
                .ask(pending.take(), None)
                .and_then(|a| holding.wait(worker, client, a, threads, abort)),
            None => port.step(pending.take(), None),
        };
        stopped = answer.is_none();
    }
    if placement.thread_of(index) == 0 {
        seconds.process_bytes_sent = super::wire::bytes_sent();
        seconds.process_peak_rss = crate::memory::peak_rss_bytes();
        seconds.process_cpu_seconds = crate::cpu::process().as_secs_f64();
    }
    // Serving happened inside the waits; the census at the end and the
    // oracle's audit, served after these figures are sent, are not counted.
    seconds.provinces = holding.served;
    seconds.waiting = (seconds.waiting - holding.served).max(0.0);
    let t = spec.ticks as u64;
    let reports = finish(
        worker,
        &mut lines,
        &shards,
        seconds,
        t,
        idle,
        abort,
        &mut holding,
    );
    if let (Some(port), false, Some((reports, workers))) = (port, stopped, reports) {
        port.finish(reports, workers);
    }
    match &host {
        Some(client) => holding.serve_link(worker, client, placement, abort),
        None if index == 0 => holding.bye(placement),
        None => holding.serve_until_over(worker),
    }
}

/// Every shard's report and every worker's times, gathered on worker 0
/// (`None` elsewhere) once the frontier has passed the last tick.
#[allow(clippy::too_many_arguments)]
fn finish(
    worker: &mut Worker,
    lines: &mut Lines,
    shards: &[Shard],
    seconds: WorkerSeconds,
    t: u64,
    idle: Idle,
    abort: &AtomicBool,
    holding: &mut Holding,
) -> Option<(Vec<ShardReport>, Vec<WorkerSeconds>)> {
    lines.last_in.advance_to(t);
    for shard in shards {
        lines.last_in.send(Wire(Last::Report(Box::new(ShardReport {
            shard: shard.index,
            metrics: shard.metrics.clone(),
            heap_bytes: shard.heap_bytes() as u64,
            queued: shard.queued() as u64,
        }))));
    }
    lines.last_in.send(Wire(Last::Seconds(seconds)));
    lines.last_in.advance_to(t + 1);
    gather(
        worker,
        idle,
        abort,
        || !lines.last_probe.less_than(&(t + 1)),
        holding,
    );
    if worker.index() != 0 {
        return None;
    }
    let mut reports = Vec::new();
    let mut workers = Vec::new();
    for r in lines.last.take(t) {
        match r {
            Last::Report(r) => reports.push(*r),
            Last::Seconds(s) => workers.push(s),
        }
    }
    reports.sort_by_key(|r| r.shard);
    workers.sort_by_key(|w| w.worker);
    Some((reports, workers))
}
