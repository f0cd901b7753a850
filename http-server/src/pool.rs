//! The threads: an acceptor, a fixed pool of workers, and a monitor.
//!
//! ```text
//!   acceptor ── accept, register (edge-triggered) ──► seat's poller (mio) ◄── park ───┐
//!                                                 │ ready keys                        │
//!                                                 ▼                                   │
//!   seats (one per CPU): the worker holding a seat waits on the poller, then drives   │
//!   each ready connection itself (no hand-off) ───────────────────────────────────────┘
//!                                                 ▲
//!   monitor: a seat whose worker has been inside one request for a tick or two is given
//!   to a standby worker, so a slow handler never stalls the connections behind it; it
//!   also closes parked connections whose deadline passed (slowloris, idle keep-alive).
//! ```
//!
//! Only as many workers as there are seats wait for readiness, so on one CPU the common case
//! runs without a thread switch per request. The other workers stand by for handlers that
//! block. No thread is ever created after start.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::connection::{drive, Conn, Outcome, Worker};
use crate::hooks::ErrorEvent;
use crate::poller::{AcceptPoll, Ready};
use crate::server::Shared;
use crate::slab::Park;
use crate::transport::{Connection, Listener};

/// Locks a mutex, going on after a panic elsewhere (the data stays consistent: every
/// critical section here is panic-free).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

struct SeatQueue {
    epoch: u64,
    keys: VecDeque<Ready>,
}

struct Seat {
    queue: Mutex<SeatQueue>,
    owner: AtomicUsize,
}

struct Standby {
    vacant: Vec<usize>,
    waiting: usize,
}

/// The seats (places on the poller) and the workers standing by.
pub(crate) struct Seats {
    seats: Vec<Seat>,
    standby: Mutex<Standby>,
    cv: Condvar,
    /// Per worker: a tag of the request it is serving, 0 when idle.
    busy: Vec<AtomicU64>,
}

impl Seats {
    pub(crate) fn new(seats: usize, workers: usize) -> Seats {
        Seats {
            seats: (0..seats)
                .map(|_| Seat {
                    queue: Mutex::new(SeatQueue { epoch: 0, keys: VecDeque::new() }),
                    owner: AtomicUsize::new(usize::MAX),
                })
                .collect(),
            standby: Mutex::new(Standby { vacant: (0..seats).rev().collect(), waiting: 0 }),
            cv: Condvar::new(),
            busy: (0..workers).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Waits for a vacant seat; `None` when the pool is exiting.
    fn take(&self, shared: &Shared, worker: usize) -> Option<(usize, u64)> {
        let mut sb = lock(&self.standby);
        loop {
            if shared.exiting() {
                return None;
            }
            if let Some(s) = sb.vacant.pop() {
                drop(sb);
                let seat = &self.seats[s];
                seat.owner.store(worker, Ordering::Relaxed);
                let epoch = lock(&seat.queue).epoch;
                return Some((s, epoch));
            }
            sb.waiting += 1;
            sb = match self.cv.wait(sb) {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            sb.waiting -= 1;
        }
    }

    /// Gives seat `s` to a standby worker, if there is one.
    fn hand_off(&self, s: usize) -> bool {
        let mut sb = lock(&self.standby);
        if sb.waiting == 0 || sb.vacant.len() >= sb.waiting {
            return false;
        }
        lock(&self.seats[s].queue).epoch += 1;
        self.seats[s].owner.store(usize::MAX, Ordering::Relaxed);
        sb.vacant.push(s);
        drop(sb);
        self.cv.notify_one();
        true
    }

    pub(crate) fn wake_all(&self) {
        let _sb = lock(&self.standby);
        self.cv.notify_all();
    }
}

/// A worker thread: holds a seat, serves what the poller reports, stands by when its seat
/// was given away.
pub(crate) fn worker_main(shared: &Shared, id: usize) {
    let mut w = Worker::new(shared, id as u64 + 1);
    w.busy = Some(&shared.seats.busy[id]);
    let mut events = mio::Events::with_capacity(64);
    let mut keys = Vec::with_capacity(64);
    while let Some((s, epoch)) = shared.seats.take(shared, id) {
        let seat = &shared.seats.seats[s];
        let poller = &shared.pollers[s];
        loop {
            if shared.exiting() {
                return;
            }
            let next = {
                let mut q = lock(&seat.queue);
                if q.epoch != epoch {
                    break;
                }
                q.keys.pop_front()
            };
            match next {
                Some(ready) => handle(&mut w, ready, seat, epoch),
                None => {
                    if let Err(e) = poller.wait(&mut events, &mut keys) {
                        // Nothing sensible to do but slow down and try again.
                        let _ = e;
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                    shared.clock.tick();
                    let mut q = lock(&seat.queue);
                    q.keys.extend(keys.iter().copied());
                }
            }
        }
    }
}

/// Serves one ready connection.
fn handle(w: &mut Worker<'_>, ready: Ready, seat: &Seat, epoch: u64) {
    let shared = w.shared;
    let key = ready.key;
    let Some(mut conn) = lock(&shared.slab).take(key, ready.hangup) else {
        return;
    };
    let mut hangup = ready.hangup;
    w.key = key;
    loop {
        let outcome = drive(w, &mut conn, hangup);
        if outcome == Outcome::Again {
            hangup = false;
            continue;
        }
        if outcome == Outcome::Yield {
            let mut q = lock(&seat.queue);
            if q.epoch != epoch {
                // This worker lost its seat while serving: the seat's new holder may be asleep
                // in the poller and would not see a queued key, so go on serving here.
                continue;
            }
            // No report will come for bytes already read: queue it by hand, behind the others.
            let parked = lock(&shared.slab).park(key, conn);
            match parked {
                Park::Parked => {
                    q.keys.push_back(Ready { key, hangup: false });
                    return;
                }
                Park::Pending(c, h) => {
                    conn = c;
                    hangup = h;
                    continue;
                }
                Park::Closing(c) => {
                    drop(q);
                    close(shared, key, c);
                    return;
                }
            }
        }
        let parked = match outcome {
            Outcome::Park | Outcome::Yield | Outcome::Again => lock(&shared.slab).park(key, conn),
            Outcome::Close(_) => {
                close(shared, key, conn);
                return;
            }
        };
        match parked {
            Park::Parked => return,
            Park::Pending(c, h) => {
                conn = c;
                hangup = h;
            }
            Park::Closing(c) => {
                close(shared, key, c);
                return;
            }
        }
    }
}

/// Closes a busy connection and frees its slot.
fn close(shared: &Shared, key: u64, mut conn: Box<Conn>) {
    shared.poller_of(key).delete(conn.io.source());
    lock(&shared.slab).remove(key);
    drop(conn);
}

/// Closes parked connections that were taken out of the table.
#[allow(clippy::vec_box)] // the table keeps connections boxed; moving them out keeps the box
pub(crate) fn close_taken(conns: Vec<Box<Conn>>, now: Instant) {
    for mut conn in conns {
        // Closing the socket takes it out of its poller.
        if conn.deadline <= now {
            if let Some(notice) = conn.expiry_notice() {
                // A request that never finished arriving: say so (best effort, never
                // waiting), then abort.
                let _ = conn.io.write(notice);
                let _ = conn.io.flush();
                conn.io.hard_close();
            }
        }
        drop(conn);
    }
}

/// The monitor thread: seat hand-offs and deadlines.
pub(crate) fn monitor_main(shared: &Shared) {
    let seats = &shared.seats;
    let mut last_seen = vec![0u64; seats.seats.len()];
    let mut last_requests = 0u64;
    let t = &shared.config.timeouts;
    let sweep_every = (t.header.min(t.keep_alive).min(t.linger) / 4)
        .clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut next_sweep = Instant::now() + sweep_every;
    let mut expired = Vec::new();
    let mut expired_keys = Vec::new();
    while !shared.exiting() {
        let mut busy = false;
        for (i, seat) in seats.seats.iter().enumerate() {
            let owner = seat.owner.load(Ordering::Relaxed);
            let tag = seats.busy.get(owner).map_or(0, |b| b.load(Ordering::Relaxed));
            if tag != 0 {
                busy = true;
                if tag == last_seen[i] && seats.hand_off(i) {
                    last_seen[i] = 0;
                    continue;
                }
            }
            last_seen[i] = tag;
        }
        let now = shared.clock.tick();
        expire_responders(shared, now);
        schedule_queued(shared, now, &mut expired_keys);
        if now >= next_sweep {
            lock(&shared.slab).expire(now, &mut expired);
            close_taken(std::mem::take(&mut expired), now);
            next_sweep = now + sweep_every;
        }
        let requests = shared.requests.load(Ordering::Relaxed);
        let lively = busy || requests != last_requests;
        last_requests = requests;
        let tick = if lively { Duration::from_millis(2) } else { Duration::from_millis(50) };
        std::thread::park_timeout(tick.min(next_sweep.saturating_duration_since(now)));
    }
}

/// Schedules queued requests whose wait is over (their seat answers 503), and the oldest
/// one when a slot is free (a slot freed while the queue was being filled).
fn schedule_queued(shared: &Shared, now: Instant, keys: &mut Vec<u64>) {
    keys.clear();
    shared.queue.expired(now, keys);
    if shared.active.load(Ordering::Acquire) < shared.config.request_count_limit {
        keys.extend(shared.queue.pop());
    }
    for &key in keys.iter() {
        shared.poller_of(key).resume(key);
    }
}

/// Answers 503 for responders whose deadline passed, and forgets settled ones.
fn expire_responders(shared: &Shared, now: Instant) {
    let mut list = lock(&shared.deferred);
    if !list.is_empty() {
        list.retain(|p| !p.expire(now));
    }
}

/// A canned answer for connections beyond the connection limit.
const OVERLOADED: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\nConnection: close\r\n\r\n";

/// Puts a new connection into the table and the poller.
fn register(shared: &Shared, mut io: Box<dyn Connection>) {
    if lock(&shared.slab).live() >= shared.config.max_connections {
        let _ = io.write(OVERLOADED);
        return;
    }
    let deadline = shared.clock.tick() + shared.config.timeouts.header;
    let conn = Box::new(Conn::new(io, deadline));
    // Registered under the table's lock: a report cannot be handled before the entry is there.
    let _ = lock(&shared.slab)
        .insert_parked(conn, |c, key| shared.poller_of(key).add(c.io.source(), key).is_ok());
}

/// The acceptor thread: accepts and registers, nothing else; backs off when accepting fails
/// (for instance when the process is out of file descriptors).
pub(crate) fn acceptor_main(shared: &Shared, listener: Box<dyn Listener>, mut poll: AcceptPoll) {
    let mut backoff = Duration::from_millis(5);
    while !shared.stopping() {
        match listener.accept() {
            Ok(io) => {
                backoff = Duration::from_millis(5);
                register(shared, io);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                poll.wait(None);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                ) => {}
            Err(e) => {
                if let Some(h) = shared.registry.snapshot().error_hook.clone() {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        h(&ErrorEvent::Accept { error: &e })
                    }));
                }
                poll.wait(Some(backoff));
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
    drop(listener);
}
