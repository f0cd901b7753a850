//! Seats and workers: a fixed pool of worker threads; the one holding a seat waits on the
//! seat's poller and drives ready connections, the others stand by.
//!
//! ```text
//!   first seat's worker (its poller reports the listeners) ── accept, register ──┐
//!   (the acceptor thread: retries after a failure, the last accepts at shutdown)  │
//!                                                                                 ▼
//!                                                     seat's poller (mio) ◄── park ───┐
//!                                                 │ ready keys                        │
//!                                                 ▼                                   │
//!   seats (one per CPU, a poller each): the worker holding a seat waits on its poller, │
//!   then drives each ready connection itself (no hand-off) ───────────────────────────┘
//!                                                 ▲
//!   monitor: a seat whose worker has been inside one request for a tick or two is given
//!   to a standby worker, so a slow handler never stalls the connections behind it; it
//!   also closes parked connections whose deadline passed (slowloris, idle keep-alive)
//!   and wakes queued requests (see `monitor`).
//! ```
//!
//! Only as many workers as there are seats wait for readiness, so on one CPU the common case
//! runs without a thread switch per request, or per new connection. The other workers stand by for handlers that
//! block. No thread is ever created after start.

use std::time::{Duration, Instant};

use crate::connection::{drive, Conn, Outcome, Worker};
use crate::io::lock;
use crate::io::poller::Ready;
use crate::runtime::acceptor::{accept_on_seat, is_listener_key};
use crate::runtime::seats::Seat;
use crate::runtime::shared::Shared;
use crate::runtime::slab::{Expiring, Park};

impl Expiring for Conn {
    fn deadline(&self) -> Instant {
        self.deadline
    }

    fn in_flight(&self) -> bool {
        // A connection not heard from yet is kept through the start of a shutdown too.
        Conn::in_flight(self) || self.unheard()
    }

    fn wakes_at_deadline(&self) -> bool {
        Conn::wakes_at_deadline(self)
    }

    fn winds_down(&self) -> bool {
        Conn::winds_down(self)
    }
}

/// A worker thread: holds a seat, serves what the poller reports, stands by when its seat
/// was given away.
pub(crate) fn worker_main(shared: &Shared, id: usize) {
    let mut w = Worker::new(&shared.engine, id as u64 + 1);
    w.cell = Some(&shared.seats.workers[id]);
    let mut events = mio::Events::with_capacity(64);
    let mut keys = Vec::with_capacity(64);
    while let Some((s, epoch)) = shared.seats.take(&shared.exit, id) {
        let seat = &shared.seats.seats[s];
        let poller = &shared.engine.pollers[s];
        // Keys served since the poller was last asked, and how many may be before it is
        // asked again while keys are queued.
        let mut served = 0;
        let mut turn = SLICE;
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
                Some(ready) => {
                    handle(shared, &mut w, ready, seat, epoch);
                    served += 1;
                    if served >= turn {
                        // A long queue (a burst of streams' chunks, say): what the sockets
                        // reported since goes first, so requests are not stuck behind it.
                        served = 0;
                        turn = SLICE + look(poller, &mut events, &mut keys, seat, Some(Duration::ZERO));
                    }
                }
                None => {
                    served = 0;
                    turn = SLICE + look(poller, &mut events, &mut keys, seat, None);
                    shared.engine.site.clock.tick();
                }
            }
        }
    }
}

/// Keys served from a seat's queue between two looks at its poller while the queue is not
/// empty.
const SLICE: usize = 32;

/// Waits (at most `timeout`) for the poller's reports and queues them: those of sockets at
/// the front, in their order, resumed ones at the back. Returns how many went to the front.
fn look(
    poller: &crate::io::poller::Poller,
    events: &mut mio::Events,
    keys: &mut Vec<Ready>,
    seat: &Seat,
    timeout: Option<Duration>,
) -> usize {
    if poller.wait(events, keys, timeout).is_err() {
        // Nothing sensible to do but slow down and try again.
        std::thread::sleep(Duration::from_millis(10));
        return 0;
    }
    let mut q = lock(&seat.queue);
    let fresh = keys.iter().filter(|r| !r.resumed).count();
    for r in keys.iter().filter(|r| !r.resumed).rev() {
        q.keys.push_front(*r);
    }
    q.keys.extend(keys.iter().filter(|r| r.resumed).copied());
    fresh
}

/// Serves one ready connection.
fn handle(shared: &Shared, w: &mut Worker<'_>, ready: Ready, seat: &Seat, epoch: u64) {
    let key = ready.key;
    if is_listener_key(key) {
        accept_on_seat(shared);
        return;
    }
    let Some(mut conn) = lock(&shared.slab).take(key, ready.hangup) else {
        return;
    };
    let mut hangup = ready.hangup;
    w.key = key;
    w.resumed = ready.resumed;
    loop {
        let outcome = drive(w, &mut conn, hangup);
        w.resumed = false; // a further turn answers a report that may be the socket's
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
                    q.keys.push_back(Ready { key, hangup: false, resumed: false });
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
            Outcome::Park | Outcome::Yield => lock(&shared.slab).park(key, conn),
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

/// Closes a busy connection and frees its slot. Closing the socket takes it out of its
/// poller (epoll and kqueue forget a closed descriptor, mio on Windows drops its
/// registration with the socket), so it is not deregistered first: a system call less per
/// connection. A report already on its way carries the old key and is ignored.
fn close(shared: &Shared, key: u64, conn: Box<Conn>) {
    drop(conn);
    lock(&shared.slab).remove(key);
}
