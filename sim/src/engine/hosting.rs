//! Provinces held by the processes of a run other than 0. Process 0 runs
//! the barrier and keeps the hub; the provinces' platforms (~62 B a
//! citizen) are spread over the processes by population, so that process 0
//! no longer holds every citizen's province record.
//!
//! The work travels through the engine's own dataflow: the barrier's
//! `HostLink` hands each exchange's remote batches to worker 0, which sends
//! them to the first worker of each holding process and gathers the
//! answers; those workers serve them whenever they wait (the barrier runs
//! while they wait for its deliveries, and registration before the first
//! tick), and after the run until worker 0 says it is over. Like every
//! stage of the tick, a call is complete when one answer per process asked
//! is in, and answers are merged in the order of the work, so nothing
//! depends on timing.

use super::barrier::Deliveries;
use super::dataflow::{lock, Answer, Handle, Mailbox};
use super::placement::Placement;
use super::wire::Wire;
use crate::world::World;
use bitcode::{Decode, Encode};
use hcsim_adapters::hosting::{serve, HostDone, HostWork, ProvinceHosts};
use hcsim_adapters::PortError;
use hcsim_platform::province::ProvincePlatform;
use hcsim_platform::{ProvinceId, PROVINCE_COUNT};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::Thread;
use std::time::Duration;
use timely::worker::Worker;

/// Which process holds each province (index = `ProvinceId`).
pub type Holders = [u32; PROVINCE_COUNT];

/// Provinces to processes, largest first, each to the process holding the
/// fewest citizens' records so far; process 0 starts with the hub's
/// (about a third of a province record per citizen of the country), and
/// provinces in `pinned` (those whose crashes the run injects, which
/// process 0's fault plan replays) stay with it. The same on every process.
pub fn holders(residents: &[u64; PROVINCE_COUNT], processes: usize, pinned: &[bool]) -> Holders {
    let mut holders = [0u32; PROVINCE_COUNT];
    if processes < 2 {
        return holders;
    }
    let total: u64 = residents.iter().sum();
    let mut load = vec![0u64; processes];
    load[0] = total / 3;
    for (p, &n) in residents.iter().enumerate() {
        if pinned.get(p).copied().unwrap_or(false) {
            load[0] += n;
        }
    }
    let mut order: Vec<usize> = (0..PROVINCE_COUNT)
        .filter(|&p| !pinned.get(p).copied().unwrap_or(false))
        .collect();
    order.sort_by_key(|&p| (std::cmp::Reverse(residents[p]), p));
    for p in order {
        let q = (0..processes).min_by_key(|&q| (load[q], q)).unwrap_or(0);
        load[q] += residents[p];
        holders[p] = q as u32;
    }
    holders
}

/// Provinces whose crashes the scenario injects: process 0 keeps them.
pub fn pinned(scenario: &crate::scenario::Scenario) -> Vec<bool> {
    let faults = crate::fault::platform_faults(&scenario.faults);
    ProvinceId::all().map(|p| faults.crashes_in(p)).collect()
}

/// The provinces' placement for `scenario` over `processes`.
pub fn plan_for(scenario: &crate::scenario::Scenario, world: &World, processes: usize) -> Holders {
    holders(&world.province_citizens(), processes, &pinned(scenario))
}

/// Provinces' platforms, each with its province.
pub type Provinces = Vec<(ProvinceId, ProvincePlatform)>;

/// The platforms of the provinces a process other than 0 holds, for its
/// first worker to take.
pub type Held = Mutex<Provinces>;

/// Records between worker 0 and the processes holding provinces.
#[derive(Clone, Debug, Encode, Decode)]
pub enum Host {
    /// Call `call`'s work for the provinces `to_worker`'s process holds.
    Work {
        to_worker: u32,
        call: u64,
        work: Vec<(ProvinceId, HostWork)>,
    },
    /// The answers to call `call`, from process `from`, in its work's order.
    Done {
        call: u64,
        from: u32,
        done: Vec<HostDone>,
    },
    /// The run is over: the holder may stop serving.
    Bye { to_worker: u32 },
}

impl Host {
    pub fn to_worker(&self) -> u64 {
        match self {
            Host::Work { to_worker, .. } | Host::Bye { to_worker } => *to_worker as u64,
            Host::Done { .. } => 0,
        }
    }
}

/// One call of the barrier: work per holding process, in province order.
pub struct Request {
    pub work: Vec<(u32, Vec<(ProvinceId, HostWork)>)>,
}

/// Each asked process's answers to one call, in the order of its work.
pub type Answers = Result<Vec<(u32, Vec<HostDone>)>, PortError>;

/// This process's workers, joined once the link is dropped: worker 0
/// serves the link until then.
pub type Guards = Arc<Mutex<Option<timely::communication::WorkerGuards<()>>>>;

/// The barrier's end: sends work to worker 0 and waits for its answers.
pub struct HostLink {
    holders: Holders,
    to: Option<mpsc::Sender<Request>>,
    from: mpsc::Receiver<Answers>,
    worker_0: Arc<OnceLock<Thread>>,
    /// The provinces of the last call, in the order of the work.
    asked: Vec<ProvinceId>,
    pub(super) guards: Guards,
}

/// Worker 0's end of the link.
pub struct HostClient {
    pub from: mpsc::Receiver<Request>,
    pub to: mpsc::Sender<Answers>,
    /// Set to worker 0's thread once it runs, so the barrier can wake it.
    pub thread: Arc<OnceLock<Thread>>,
}

/// The two ends of the link between the barrier and worker 0.
pub fn link(holders: Holders) -> (HostLink, HostClient) {
    let (to, from_barrier) = mpsc::channel();
    let (to_barrier, from) = mpsc::channel();
    let thread = Arc::new(OnceLock::new());
    (
        HostLink {
            holders,
            to: Some(to),
            from,
            worker_0: thread.clone(),
            asked: Vec::new(),
            guards: Default::default(),
        },
        HostClient {
            from: from_barrier,
            to: to_barrier,
            thread,
        },
    )
}

impl HostLink {
    /// The provinces each process holds (index = process), by key.
    pub fn by_process(&self, processes: usize) -> Vec<Vec<String>> {
        (0..processes as u32)
            .map(|q| {
                ProvinceId::all()
                    .filter(|p| self.holders[p.index()] == q)
                    .map(|p| p.key().to_string())
                    .collect()
            })
            .collect()
    }

    fn wake(&self) {
        if let Some(t) = self.worker_0.get() {
            t.unpark();
        }
    }
}

fn gone() -> PortError {
    PortError::Unavailable(
        "the engine's worker 0, which reaches the processes holding provinces, has stopped"
            .to_string(),
    )
}

impl ProvinceHosts for HostLink {
    fn remote(&self, province: ProvinceId) -> bool {
        self.holders[province.index()] != 0
    }

    fn send(&mut self, work: Vec<(ProvinceId, HostWork)>) -> Result<(), PortError> {
        self.asked = work.iter().map(|(p, _)| *p).collect();
        let mut by_process: Vec<(u32, Vec<(ProvinceId, HostWork)>)> = Vec::new();
        for (p, w) in work {
            let q = self.holders[p.index()];
            match by_process.iter_mut().find(|(h, _)| *h == q) {
                Some((_, v)) => v.push((p, w)),
                None => by_process.push((q, vec![(p, w)])),
            }
        }
        by_process.sort_by_key(|(q, _)| *q);
        let to = self.to.as_ref().ok_or_else(gone)?;
        to.send(Request { work: by_process }).map_err(|_| gone())?;
        self.wake();
        Ok(())
    }

    /// The answers, put back in the order the work was given.
    fn receive(&mut self) -> Result<Vec<HostDone>, PortError> {
        let answers = self.from.recv().map_err(|_| gone())??;
        let mut per_process: Vec<(u32, std::vec::IntoIter<HostDone>)> = answers
            .into_iter()
            .map(|(q, done)| (q, done.into_iter()))
            .collect();
        let mut out = Vec::with_capacity(self.asked.len());
        for p in &self.asked {
            let q = self.holders[p.index()];
            let next = per_process
                .iter_mut()
                .find(|(h, _)| *h == q)
                .and_then(|(_, it)| it.next());
            match next {
                Some(d) => out.push(d),
                None => {
                    return Err(PortError::Unavailable(format!(
                        "process {q}, which holds {}, did not answer its work",
                        p.key()
                    )))
                }
            }
        }
        Ok(out)
    }
}

impl Drop for HostLink {
    fn drop(&mut self) {
        // Worker 0 sees the line close, tells the holders the run is over,
        // and ends; its process's workers are joined here.
        self.to = None;
        self.wake();
        let guards = lock(&self.guards).take();
        if let Some(guards) = guards {
            for (i, r) in guards.join().into_iter().enumerate() {
                if let Err(e) = r {
                    eprintln!("error: worker thread {i} failed after the run: {e}");
                }
            }
        }
    }
}

/// Serves, on a holding process's first worker, every piece of work it
/// was sent; returns the answers to send back and whether the run is over.
pub fn serve_all(held: &mut Provinces, records: Vec<Host>, process: u32) -> (Vec<Host>, bool) {
    let mut out = Vec::new();
    let mut over = false;
    let mut records = records;
    // In the order they were sent: calls are numbered.
    records.sort_by_key(|r| match r {
        Host::Work { call, .. } => *call,
        _ => u64::MAX,
    });
    for r in records {
        match r {
            Host::Work { call, work, .. } => {
                let done = work
                    .into_iter()
                    .map(|(p, w)| match held.iter_mut().find(|(h, _)| *h == p) {
                        Some((_, platform)) => serve(platform, w),
                        None => HostDone::NotHeld,
                    })
                    .collect();
                out.push(Host::Done {
                    call,
                    from: process,
                    done,
                });
            }
            Host::Bye { .. } => over = true,
            Host::Done { .. } => {}
        }
    }
    (out, over)
}

/// One worker's line for the provinces held elsewhere: the records it
/// sends, and those it receives.
pub(super) struct HostLine {
    input: Handle<Host>,
    mailbox: Mailbox<Host>,
}

impl HostLine {
    pub(super) fn new(input: Handle<Host>, mailbox: Mailbox<Host>) -> HostLine {
        HostLine { input, mailbox }
    }

    /// Sends `records` now: a record leaves the exchange when its time
    /// closes, so each sending closes one (the times mean nothing else
    /// here; calls are numbered).
    fn send(&mut self, records: impl IntoIterator<Item = Host>) {
        for r in records {
            self.input.send(Wire(r));
        }
        let next = self.input.time() + 1;
        self.input.advance_to(next);
    }
}

/// What a worker does for the provinces held outside process 0: the first
/// worker of a holding process serves their work whenever it waits; worker
/// 0 sends it (`call`); the other workers have nothing to do.
pub(super) struct Holding {
    line: HostLine,
    /// On the first worker of a process other than 0: its provinces (none
    /// when the run does not spread them; it still answers, and waits for
    /// worker 0's word that the run is over).
    held: Option<Provinces>,
    process: u32,
    /// Worker 0's calls so far.
    calls: u64,
    /// Worker 0 has said the run is over.
    over: bool,
    /// Seconds spent serving the held provinces' work.
    pub(super) served: f64,
}

impl Holding {
    pub(super) fn new(line: HostLine, held: Option<Provinces>, process: u32) -> Holding {
        Holding {
            line,
            held,
            process,
            calls: 0,
            over: false,
            served: 0.0,
        }
    }

    /// Serves every piece of work received so far, if this worker holds
    /// provinces.
    pub(super) fn serve(&mut self) {
        let Some(held) = self.held.as_mut() else {
            return;
        };
        let records = self
            .line
            .mailbox
            .take_any(|r| !matches!(r, Host::Done { .. }));
        if records.is_empty() {
            return;
        }
        let clock = std::time::Instant::now();
        let (answers, over) = serve_all(held, records, self.process);
        self.line.send(answers);
        self.over |= over;
        self.served += clock.elapsed().as_secs_f64();
    }

    /// Worker 0: sends one call of the barrier to the holding processes and
    /// steps until each has answered.
    pub(super) fn call(
        &mut self,
        worker: &mut Worker,
        request: Request,
        threads: usize,
        abort: &AtomicBool,
    ) -> Answers {
        self.calls += 1;
        let call = self.calls;
        let asked = request.work.len();
        self.line
            .send(request.work.into_iter().map(|(q, work)| Host::Work {
                to_worker: q * threads as u32,
                call,
                work,
            }));
        let answered = |r: &Host| matches!(r, Host::Done { call: c, .. } if *c == call);
        while self.line.mailbox.count_any(answered) < asked {
            if abort.load(Ordering::Relaxed) {
                return Err(hcsim_adapters::PortError::Unavailable(
                    "the run stopped while provinces held elsewhere were working".to_string(),
                ));
            }
            worker.step_or_park(Some(Duration::from_millis(1)));
        }
        let mut answers: Vec<(u32, Vec<HostDone>)> = self
            .line
            .mailbox
            .take_any(answered)
            .into_iter()
            .filter_map(|r| match r {
                Host::Done { from, done, .. } => Some((from, done)),
                _ => None,
            })
            .collect();
        answers.sort_by_key(|(from, _)| *from);
        Ok(answers)
    }

    /// Worker 0: waits for the barrier's `answer`, passing on its calls to
    /// the holding processes meanwhile.
    pub(super) fn wait(
        &mut self,
        worker: &mut Worker,
        client: &HostClient,
        mut answer: Answer,
        threads: usize,
        abort: &AtomicBool,
    ) -> Option<Deliveries> {
        loop {
            if let Some(deliveries) = answer.poll() {
                return deliveries;
            }
            if let Ok(request) = client.from.try_recv() {
                let answers = self.call(worker, request, threads, abort);
                let _ = client.to.send(answers);
                continue;
            }
            worker.step_or_park(Some(Duration::from_millis(1)));
        }
    }

    /// Worker 0, after the run: passes on the barrier's calls (the census
    /// at the end, the oracle's audit) until the barrier's side is dropped,
    /// then tells the holding processes the run is over.
    pub(super) fn serve_link(
        &mut self,
        worker: &mut Worker,
        client: &HostClient,
        placement: Placement,
        abort: &AtomicBool,
    ) {
        loop {
            match client.from.try_recv() {
                Ok(request) => {
                    let answers = self.call(worker, request, placement.threads, abort);
                    let _ = client.to.send(answers);
                }
                Err(std::sync::mpsc::TryRecvError::Disconnected) => break,
                Err(std::sync::mpsc::TryRecvError::Empty) => {
                    worker.step_or_park(Some(Duration::from_millis(1)));
                }
            }
        }
        self.bye(placement);
    }

    /// Worker 0, at the very end: tells the other processes' first workers
    /// the run is over, whether or not they held provinces.
    pub(super) fn bye(&mut self, placement: Placement) {
        self.line.send((1..placement.processes).map(|q| Host::Bye {
            to_worker: (q * placement.threads) as u32,
        }));
    }

    /// A holding process's first worker, after the run: serves until
    /// worker 0 says the run is over.
    pub(super) fn serve_until_over(&mut self, worker: &mut Worker) {
        if self.held.is_none() {
            return;
        }
        self.serve();
        while !self.over {
            worker.step_or_park(None);
            self.serve();
        }
    }
}

/// The platforms of the provinces `process` holds, each sized for its
/// residents as process 0 would size it.
pub fn held_provinces(
    world: &World,
    holders: &Holders,
    process: u32,
    mut make: impl FnMut(ProvinceId) -> ProvincePlatform,
) -> Provinces {
    let residents = world.province_citizens();
    ProvinceId::all()
        .filter(|p| holders[p.index()] == process)
        .map(|p| {
            let mut platform = make(p);
            platform.reserve(residents[p.index()] as usize);
            (p, platform)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provinces_spread_by_population_with_the_pinned_on_process_0() {
        let mut residents = [10u64; PROVINCE_COUNT];
        residents[18] = 1000;
        let mut pinned = [false; PROVINCE_COUNT];
        pinned[3] = true;
        let h = holders(&residents, 3, &pinned);
        assert_eq!(h[3], 0);
        // The largest goes first, to the least loaded process after 0's hub.
        assert_eq!(h[18], 1);
        let on = |q| (0..PROVINCE_COUNT).filter(|&p| h[p] == q).count();
        assert!(on(2) > on(0), "{h:?}");
        assert_eq!(holders(&residents, 1, &pinned), [0; PROVINCE_COUNT]);
    }
}
