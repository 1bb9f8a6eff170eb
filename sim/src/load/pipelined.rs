//! The HTTP generator: a few threads, each an event loop over its share of
//! the connections, sending its share of the schedule.
//!
//! Thread k of T takes arrivals k, k+T, k+2T... and connections k, k+T...:
//! nothing is shared between threads while the run lasts but one small
//! lock per thread that its owner takes once a second to publish progress.
//! A thread's loop, each turn:
//!
//! 1. releases every arrival whose intended time has come (the open model:
//!    the schedule never waits for answers);
//! 2. hands each to the connection with the fewest requests in flight,
//!    below `--pipeline`; an arrival no connection has room for waits, and
//!    that wait is part of its corrected latency;
//! 3. writes what it queued, one `write` per connection for all of it
//!    (HTTP/1.1 pipelining);
//! 4. sleeps in epoll until a socket is ready or the next arrival is due
//!    (a timerfd: see `timer`), and reads every answer that came.
//!
//! Every request written is answered, fails (timeout, closed, protocol,
//! `http_5xx`...) or, past the run's time limit, counts as unfinished:
//! nothing sent is lost from the counts.

use super::http1::{classify, parse_response, Parsed, RequestWriter, BODY_MAX};
use super::timer::Timer;
use super::workers::{histogram, Answer, Driven, Recorder, Run, Tick, Times};
use hdrhistogram::Histogram;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use std::collections::VecDeque;
use std::io::{self, Read as _, Write as _};
use std::net::SocketAddr;
use std::sync::{mpsc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How the load reaches the target.
#[derive(Clone, Debug)]
pub struct Plan {
    pub addr: SocketAddr,
    pub connections: usize,
    pub threads: usize,
    /// Most requests in flight on one connection.
    pub pipeline: usize,
    pub timeout: Duration,
}

/// The largest `--pipeline`: beyond it a connection's answers queue for
/// longer than any checkpoint would wait.
pub const PIPELINE_MAX: usize = 1024;

const TIMER: Token = Token(usize::MAX);
/// Input buffer of a connection; grows for a larger answer, up to
/// `BODY_MAX` and its head.
const INPUT_BYTES: usize = 64 * 1024;
/// How often requests in flight are checked against `timeout`.
const EXPIRY_EVERY: Duration = Duration::from_millis(10);

/// What a thread has published: its progress since the last tick.
struct Published {
    interval: Histogram<u64>,
    sent: u64,
    completed: u64,
    errors: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

struct Pending {
    intended: Instant,
    released: Instant,
    sent: Instant,
    /// It waited because every connection had `pipeline` requests in flight.
    all_busy: bool,
}

/// An arrival released but not yet written.
struct Waiting {
    i: u64,
    intended: Instant,
    released: Instant,
}

struct Conn {
    stream: Option<TcpStream>,
    /// Connect not yet confirmed: nothing is written until it is.
    connecting: bool,
    out: Vec<u8>,
    written: usize,
    input: Vec<u8>,
    start: usize,
    end: usize,
    in_flight: VecDeque<Pending>,
}

impl Conn {
    fn new(pipeline: usize) -> Conn {
        Conn {
            stream: None,
            connecting: false,
            out: Vec::with_capacity(16 * 1024),
            written: 0,
            input: vec![0; INPUT_BYTES],
            start: 0,
            end: 0,
            in_flight: VecDeque::with_capacity(pipeline),
        }
    }

    /// Room to read into: moves unread bytes to the front, or grows.
    fn make_room(&mut self) -> bool {
        if self.end < self.input.len() {
            return true;
        }
        if self.start > 0 {
            self.input.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            return true;
        }
        if self.input.len() >= BODY_MAX + INPUT_BYTES {
            return false;
        }
        self.input.resize(self.input.len() * 2, 0);
        true
    }
}

/// What one thread hands back.
struct ShardResult {
    recorder: Recorder,
    sent: u64,
    completed: u64,
    dropped: u64,
    unfinished: u64,
}

struct Deadlines {
    t0: Instant,
    cutoff: Instant,
    limit: Instant,
}

struct Shard<'a> {
    run: &'a Run,
    plan: &'a Plan,
    at: Deadlines,
    poll: Poll,
    timer: Timer,
    conns: Vec<Conn>,
    writer: RequestWriter,
    next: u64,
    next_due: Option<Instant>,
    stride: u64,
    backlog: VecDeque<Waiting>,
    /// Since when every connection has had `pipeline` requests in flight
    /// and arrivals have waited; `None` while one has room.
    full_since: Option<Instant>,
    dirty: Vec<usize>,
    rotate: usize,
    recorder: Recorder,
    sent: u64,
    completed: u64,
    errors: u64,
    dropped: u64,
    slot: &'a Mutex<Published>,
    next_tick: Instant,
    next_expiry: Instant,
    now: Instant,
}

impl<'a> Shard<'a> {
    fn new(
        run: &'a Run,
        plan: &'a Plan,
        at: Deadlines,
        index: usize,
        threads: usize,
        slot: &'a Mutex<Published>,
    ) -> io::Result<Shard<'a>> {
        let poll = Poll::new()?;
        let timer = Timer::new(poll.registry(), TIMER)?;
        let connections = (index..plan.connections).step_by(threads).count();
        let now = Instant::now();
        Ok(Shard {
            run,
            plan,
            next_tick: at.t0 + Duration::from_secs(1),
            next_expiry: now + EXPIRY_EVERY,
            at,
            poll,
            timer,
            conns: (0..connections).map(|_| Conn::new(plan.pipeline)).collect(),
            writer: RequestWriter::new(&plan.addr.to_string()),
            next: index as u64,
            next_due: None,
            stride: threads as u64,
            backlog: VecDeque::new(),
            full_since: None,
            dirty: Vec::with_capacity(connections),
            rotate: 0,
            recorder: Recorder::default(),
            sent: 0,
            completed: 0,
            errors: 0,
            dropped: 0,
            slot,
            now,
        })
    }

    fn run(mut self) -> io::Result<ShardResult> {
        let mut events = Events::with_capacity(256);
        loop {
            self.release();
            self.dispatch();
            self.flush_dirty();
            if self.now >= self.next_expiry {
                self.expire();
                self.next_expiry = self.now + EXPIRY_EVERY;
            }
            if self.now >= self.next_tick {
                self.publish();
                while self.next_tick <= self.now {
                    self.next_tick += Duration::from_secs(1);
                }
            }
            let done = self.next >= self.run.schedule.len()
                && self.backlog.is_empty()
                && self.sent == self.completed;
            if done || self.now >= self.at.limit {
                break;
            }
            let mut wake = self.next_tick.min(self.at.limit);
            // While every connection is full, an arrival could only join
            // the queue: an answer, not the timer, is what lets it go.
            if let Some(due) = self.next_due.filter(|_| self.full_since.is_none()) {
                wake = wake.min(due);
            }
            if self.sent > self.completed {
                wake = wake.min(self.next_expiry);
            }
            self.timer.wake_by(wake, self.now)?;
            match self.poll.poll(&mut events, None) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
            self.now = Instant::now();
            for e in events.iter() {
                if e.token() == TIMER {
                    self.timer.fired();
                    continue;
                }
                let c = e.token().0;
                if e.is_writable() {
                    self.writable(c);
                }
                let closing = e.is_read_closed() || e.is_error();
                if e.is_readable() || closing {
                    self.read(c, closing);
                }
            }
        }
        let remaining = self.run.schedule.len().saturating_sub(self.next);
        self.dropped += self.backlog.len() as u64 + remaining.div_ceil(self.stride);
        self.publish();
        Ok(ShardResult {
            recorder: self.recorder,
            sent: self.sent,
            completed: self.completed,
            dropped: self.dropped,
            unfinished: self.sent - self.completed,
        })
    }

    /// Queues every arrival due by now. One due while every connection
    /// was full would have queued at once: it counts as released on time,
    /// and its wait as the connections'.
    fn release(&mut self) {
        let len = self.run.schedule.len();
        while self.next < len {
            let intended = self.at.t0 + self.run.schedule.offset(self.next);
            if intended > self.now {
                self.next_due = Some(intended);
                return;
            }
            let queued_on_time = self.full_since.is_some_and(|t| t <= intended);
            self.backlog.push_back(Waiting {
                i: self.next,
                intended,
                released: if queued_on_time { intended } else { self.now },
            });
            self.next += self.stride;
        }
        self.next_due = None;
    }

    /// Hands queued arrivals to connections with room.
    fn dispatch(&mut self) {
        if self.now > self.at.cutoff {
            self.dropped += self.backlog.len() as u64;
            self.backlog.clear();
            self.full_since = None;
            return;
        }
        while !self.backlog.is_empty() {
            let Some(c) = self.pick() else {
                self.full_since.get_or_insert(self.now);
                return;
            };
            let Some(w) = self.backlog.pop_front() else {
                return;
            };
            // An arrival not sent in the turn it was released waited
            // because every connection was full.
            let all_busy = w.released != self.now;
            self.send(c, w.i, w.intended, w.released, all_busy);
        }
        self.full_since = None;
    }

    /// The connection with the fewest requests in flight, below the bound.
    fn pick(&mut self) -> Option<usize> {
        let n = self.conns.len();
        let mut best: Option<(usize, usize)> = None;
        for k in 0..n {
            let c = (self.rotate + k) % n;
            let depth = self.conns[c].in_flight.len();
            if depth == 0 {
                best = Some((c, 0));
                break;
            }
            if depth < self.plan.pipeline && best.is_none_or(|(_, d)| depth < d) {
                best = Some((c, depth));
            }
        }
        let (c, _) = best?;
        self.rotate = (c + 1) % n;
        Some(c)
    }

    fn send(&mut self, c: usize, i: u64, intended: Instant, released: Instant, all_busy: bool) {
        let pending = Pending {
            intended,
            released,
            sent: self.now,
            all_busy,
        };
        self.sent += 1;
        if self.conns[c].stream.is_none() && self.connect(c).is_err() {
            self.complete(pending, Answer::Failed("connect".into()));
            return;
        }
        let req = self.run.requests.request(i);
        let minute = self
            .run
            .clock
            .now(intended.saturating_duration_since(self.at.t0));
        let conn = &mut self.conns[c];
        let was_empty = conn.out.len() == conn.written;
        if self.writer.write(&mut conn.out, &req, minute).is_err() {
            self.complete(pending, Answer::Failed("encode".into()));
            return;
        }
        conn.in_flight.push_back(pending);
        if was_empty {
            self.dirty.push(c);
        }
    }

    fn connect(&mut self, c: usize) -> io::Result<()> {
        let mut stream = TcpStream::connect(self.plan.addr)?;
        stream.set_nodelay(true)?;
        self.poll.registry().register(
            &mut stream,
            Token(c),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        let conn = &mut self.conns[c];
        conn.stream = Some(stream);
        conn.connecting = true;
        Ok(())
    }

    fn flush_dirty(&mut self) {
        let mut dirty = std::mem::take(&mut self.dirty);
        for c in dirty.drain(..) {
            self.flush(c);
        }
        self.dirty = dirty;
    }

    fn writable(&mut self, c: usize) {
        let conn = &mut self.conns[c];
        let Some(stream) = conn.stream.as_ref() else {
            return;
        };
        if conn.connecting {
            match stream.take_error() {
                Ok(None) => {}
                _ => return self.fail(c, "connect"),
            }
            match stream.peer_addr() {
                Ok(_) => conn.connecting = false,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                Err(_) => return self.fail(c, "connect"),
            }
        }
        self.flush(c);
    }

    /// Writes what is queued until done or the socket is full (a writable
    /// event resumes it).
    fn flush(&mut self, c: usize) {
        let conn = &mut self.conns[c];
        if conn.connecting {
            return;
        }
        let Some(stream) = conn.stream.as_mut() else {
            return;
        };
        while conn.written < conn.out.len() {
            match stream.write(&conn.out[conn.written..]) {
                Ok(0) => return self.fail(c, "closed"),
                Ok(n) => conn.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return self.fail(c, "reset"),
            }
        }
        conn.out.clear();
        conn.written = 0;
    }

    /// Reads until the socket is drained, taking every whole answer. A
    /// short read has taken all there was, unless the peer also closed
    /// (`closing`): then the end must be read too, as no new event comes.
    fn read(&mut self, c: usize, closing: bool) {
        loop {
            let conn = &mut self.conns[c];
            if conn.stream.is_none() {
                return;
            }
            if !conn.make_room() {
                return self.fail(c, "too_large");
            }
            let room = conn.input.len() - conn.end;
            let stream = conn.stream.as_mut().expect("checked above");
            let failed = if conn.connecting { "connect" } else { "reset" };
            match stream.read(&mut conn.input[conn.end..]) {
                Ok(0) => return self.fail(c, "closed"),
                Ok(n) => {
                    conn.end += n;
                    if !self.take_answers(c) {
                        return;
                    }
                    // More data would make a new event.
                    if n < room && !closing {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return self.fail(c, failed),
            }
        }
    }

    /// Matches whole answers to requests in flight, in order. False if the
    /// connection was lost.
    fn take_answers(&mut self, c: usize) -> bool {
        loop {
            let conn = &mut self.conns[c];
            let (answer, close) = match parse_response(&conn.input[conn.start..conn.end]) {
                Parsed::Partial => {
                    if conn.start == conn.end {
                        conn.start = 0;
                        conn.end = 0;
                    }
                    return true;
                }
                Parsed::Invalid(kind) => {
                    self.fail(c, kind);
                    return false;
                }
                Parsed::Complete {
                    status,
                    body,
                    len,
                    close,
                } => {
                    let at = conn.start;
                    conn.start += len;
                    (
                        classify(status, &conn.input[at + body.start..at + body.end]),
                        close,
                    )
                }
            };
            let Some(pending) = conn.in_flight.pop_front() else {
                self.fail(c, "unsolicited");
                return false;
            };
            self.complete(pending, answer);
            if close {
                self.fail(c, "closed");
                return false;
            }
        }
    }

    fn complete(&mut self, p: Pending, answer: Answer) {
        if answer != Answer::Ok {
            self.errors += 1;
        }
        self.completed += 1;
        let t = |i: Instant| tokio::time::Instant::from_std(i);
        self.recorder.record(
            &Times {
                intended: t(p.intended),
                released: t(p.released),
                sent: t(p.sent),
                done: t(self.now),
                all_busy: p.all_busy,
            },
            &answer,
        );
    }

    /// The connection is lost: every request on it fails with `kind`, and
    /// the next request to it opens a new one.
    fn fail(&mut self, c: usize, kind: &str) {
        let conn = &mut self.conns[c];
        if let Some(mut s) = conn.stream.take() {
            let _ = self.poll.registry().deregister(&mut s);
        }
        conn.connecting = false;
        conn.out.clear();
        conn.written = 0;
        conn.start = 0;
        conn.end = 0;
        while let Some(p) = self.conns[c].in_flight.pop_front() {
            self.complete(p, Answer::Failed(kind.to_string()));
        }
    }

    /// Connections whose oldest request has waited past `timeout` are
    /// given up: a late answer could not be told from the next one's.
    fn expire(&mut self) {
        for c in 0..self.conns.len() {
            let overdue = self.conns[c]
                .in_flight
                .front()
                .is_some_and(|p| self.now.saturating_duration_since(p.sent) > self.plan.timeout);
            if overdue {
                self.fail(c, "timeout");
            }
        }
    }

    fn publish(&mut self) {
        let mut slot = lock(self.slot);
        let _ = slot.interval.add(&self.recorder.interval);
        self.recorder.interval.reset();
        slot.sent = self.sent;
        slot.completed = self.completed;
        slot.errors = self.errors;
    }
}

/// A progress tick's figures, summed over the threads' latest publications.
struct Progress {
    interval: Histogram<u64>,
    sent: u64,
    completed: u64,
    errors: u64,
}

fn gather(slots: &[Mutex<Published>]) -> Progress {
    let mut p = Progress {
        interval: histogram(),
        sent: 0,
        completed: 0,
        errors: 0,
    };
    for s in slots {
        let mut s = lock(s);
        let _ = p.interval.add(&s.interval);
        s.interval.reset();
        p.sent += s.sent;
        p.completed += s.completed;
        p.errors += s.errors;
    }
    p
}

/// Runs the schedule against `plan.addr` and returns what was measured.
/// Ends by itself: no arrival is sent later than `run.send_grace` after
/// the schedule's end, answers are awaited at most `plan.timeout` beyond
/// that. `on_tick` sees every second of progress.
pub fn drive(run: &Run, plan: &Plan, mut on_tick: impl FnMut(&Tick)) -> io::Result<Driven> {
    let threads = plan.threads.clamp(1, plan.connections.max(1));
    let plan = &Plan {
        pipeline: plan.pipeline.clamp(1, PIPELINE_MAX),
        ..plan.clone()
    };
    // A short lead lets every thread start before the first arrival is due.
    let t0 = Instant::now() + Duration::from_millis(20);
    let cutoff = t0 + run.schedule.duration() + run.send_grace;
    let limit = cutoff + plan.timeout;
    let slots: Vec<Mutex<Published>> = (0..threads)
        .map(|_| {
            Mutex::new(Published {
                interval: histogram(),
                sent: 0,
                completed: 0,
                errors: 0,
            })
        })
        .collect();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let (results, timeline) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let at = Deadlines { t0, cutoff, limit };
                let slot = &slots[k];
                let done = done_tx.clone();
                scope.spawn(move || {
                    let result = Shard::new(run, plan, at, k, threads, slot).and_then(Shard::run);
                    let _ = done.send(());
                    result
                })
            })
            .collect();
        drop(done_tx);
        let timeline = watch(run, t0, &slots, threads, &done_rx, &mut on_tick);
        let results: Vec<io::Result<ShardResult>> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("a generator thread panicked")))
            })
            .collect();
        (results, timeline)
    });
    let mut driven = Driven {
        recorder: Recorder::default(),
        started: tokio::time::Instant::from_std(t0),
        sent: 0,
        completed: 0,
        dropped: 0,
        unfinished: 0,
        timeline,
    };
    for r in results {
        let r = r?;
        driven.recorder.merge(&r.recorder);
        driven.sent += r.sent;
        driven.completed += r.completed;
        driven.dropped += r.dropped;
        driven.unfinished += r.unfinished;
    }
    Ok(driven)
}

/// Emits a tick every second until every thread has ended. Threads publish
/// on the second; the tick reads them a little after.
fn watch(
    run: &Run,
    t0: Instant,
    slots: &[Mutex<Published>],
    threads: usize,
    done: &mpsc::Receiver<()>,
    on_tick: &mut impl FnMut(&Tick),
) -> Vec<Tick> {
    const READ_AFTER: Duration = Duration::from_millis(20);
    let mut timeline = Vec::new();
    let mut live = threads;
    let mut second = 0u32;
    let (mut last_completed, mut last_errors) = (0, 0);
    loop {
        let boundary = t0 + Duration::from_secs(second as u64 + 1);
        while live > 0 {
            let wait = (boundary + READ_AFTER).saturating_duration_since(Instant::now());
            match done.recv_timeout(wait) {
                Ok(()) => live -= 1,
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => live = 0,
            }
        }
        let elapsed = Instant::now()
            .saturating_duration_since(t0)
            .as_secs_f64()
            .min(second as f64 + 1.0);
        let p = gather(slots);
        let from = second as f64;
        let tick = Tick {
            second: second + 1,
            requested: run
                .schedule
                .due_before(elapsed)
                .saturating_sub(run.schedule.due_before(from)),
            completed: p.completed.saturating_sub(last_completed),
            errors: p.errors.saturating_sub(last_errors),
            p99_ms: p.interval.value_at_quantile(0.99) as f64 / 1000.0,
            in_flight: p.sent.saturating_sub(p.completed),
        };
        // A partial last second is reported only if something happened.
        if elapsed >= from + 1.0 || tick.completed > 0 {
            on_tick(&tick);
            timeline.push(tick);
        }
        last_completed = p.completed;
        last_errors = p.errors;
        second += 1;
        if live == 0 {
            return timeline;
        }
    }
}
