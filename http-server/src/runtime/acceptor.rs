//! Accepting: the worker holding the first seat accepts, and the acceptor thread stands by.
//!
//! Every listener is registered with the first seat's poller, so a new connection costs no
//! thread switch: the worker that is woken by the listener accepts (until the listener
//! would block, or says nothing is queued: [`Listener::pending`]), registers each
//! connection with its seat's poller, and serves those of its
//! own seat when the poller reports their request. The acceptor thread has two jobs left:
//! when accepting fails in a way that calls for a pause (out of file descriptors...), it
//! tries again after a back-off that doubles up to a second until it succeeds (an
//! edge-triggered listener is not reported again for connections it already had); and when
//! the shutdown begins it accepts what is already queued on every listener one last time
//! (those connections are served), then closes the listeners.

use std::io::{self, Write};
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::connection::Conn;
use crate::handler::hooks::ErrorEvent;
use crate::io::lock;
use crate::io::poller::{AcceptPoll, Ready};
use crate::io::transport::{Connection, Listener};
use crate::runtime::shared::Shared;
use crate::runtime::slab::Park;

/// A canned answer for connections beyond the connection limit.
const OVERLOADED: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\nConnection: close\r\n\r\n";

/// The poller key of the first listener; the next ones count down from it. Its slot index
/// is one the connection table never reaches, and on 32-bit systems too it differs from the
/// token of a poller's waker.
const FIRST_LISTENER_KEY: u64 = 0xffff_ff00;

/// The poller key of listener `index` (fewer than 256 listeners have keys of their own; the
/// others share the last, which drains them all alike).
pub(crate) fn listener_key(index: usize) -> u64 {
    FIRST_LISTENER_KEY - (index.min(255) as u64)
}

/// True for the key of a listener (see [`listener_key`]).
pub(crate) fn is_listener_key(key: u64) -> bool {
    (FIRST_LISTENER_KEY - 255..=FIRST_LISTENER_KEY).contains(&key)
}

/// Accepts from every listener until none has a connection left ([`drain`]); true when
/// accepting failed on one in a way that calls for a pause.
fn drain_all(shared: &Shared) -> bool {
    let listeners = lock(&shared.accepting.listeners);
    let mut failed = false;
    for l in listeners.iter() {
        failed |= matches!(drain(shared, &**l), Drained::Failed);
    }
    failed
}

/// Accepts on the first seat's worker, its poller having reported a listener.
pub(crate) fn accept_on_seat(shared: &Shared) {
    if shared.stopping() {
        return;
    }
    let accepting = &shared.accepting;
    if drain_all(shared) && !accepting.retry.swap(true, Ordering::SeqCst) {
        accepting.wake();
    }
}

/// Puts a new connection into the table and the poller.
///
/// It is registered outside the table's lock, which every worker takes for every
/// connection it serves: registering a socket whose request is there wakes its seat's
/// worker at once (on one CPU, often in place of this thread), and a worker that found the
/// lock held would wait for this thread to run again. A report that comes before the
/// connection is parked is kept by the table ([`Park::Pending`]) and queued with the seat
/// here.
fn register(shared: &Shared, mut io: Box<dyn Connection>) {
    if lock(&shared.slab).live() >= shared.max_connections {
        let _ = io.write(OVERLOADED);
        return;
    }
    let deadline = shared.engine.site.clock.tick() + shared.engine.wire.timeouts.header;
    let mut conn = Box::new(Conn::new(io, deadline));
    let Some(key) = lock(&shared.slab).insert_busy() else {
        return;
    };
    let poller = shared.engine.poller_of(key);
    if poller.add(conn.io.source(), key).is_err() {
        lock(&shared.slab).remove(key);
        return;
    }
    let mut reported = None;
    loop {
        let parked = lock(&shared.slab).park(key, conn);
        match parked {
            Park::Parked => break,
            Park::Pending(c, hangup) => {
                conn = c;
                reported = Some(reported.unwrap_or(false) || hangup);
            }
            Park::Closing(c) => {
                drop(c);
                lock(&shared.slab).remove(key);
                return;
            }
        }
    }
    if let Some(hangup) = reported {
        // The seat's worker took the report and found no connection yet: queue it by hand.
        if let Some(seat) = shared.engine.pollers.iter().position(|p| std::sync::Arc::ptr_eq(p, poller)) {
            lock(&shared.seats.seats[seat].queue).keys.push_back(Ready { key, hangup, resumed: false });
            poller.wake();
        }
    }
}

/// What accepting from one listener until it would block came to.
enum Drained {
    /// Nothing more is pending.
    Empty,
    /// Accepting failed in a way that calls for a pause (out of file descriptors...).
    Failed,
}

/// Accepts from `listener` until nothing is pending (it would block, or the listener says
/// none is left: no call that finds nothing) or accepting fails.
fn drain(shared: &Shared, listener: &dyn Listener) -> Drained {
    loop {
        match listener.accept() {
            Ok(io) => {
                register(shared, io);
                if listener.pending() == Some(false) {
                    return Drained::Empty;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Drained::Empty,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                ) => {}
            Err(e) => {
                let event = ErrorEvent::Accept { error: &e };
                event.log();
                if let Some(h) = shared.engine.registry.snapshot().error_hook.clone() {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h(&event)));
                }
                return Drained::Failed;
            }
        }
    }
}

/// The acceptor thread: tries accepting again, backing off, after it failed (for instance
/// when the process is out of file descriptors); at the shutdown, accepts what is queued
/// one last time and closes the listeners.
pub(crate) fn acceptor_main(shared: &Shared, mut poll: AcceptPoll) {
    let accepting = &shared.accepting;
    let mut backoff = Duration::from_millis(5);
    while !shared.stopping() {
        if !accepting.retry.load(Ordering::SeqCst) {
            backoff = Duration::from_millis(5);
            poll.wait(None);
            continue;
        }
        poll.wait(Some(backoff));
        if shared.stopping() {
            break;
        }
        // Cleared first: a failure on the seat from now on asks for another try.
        accepting.retry.store(false, Ordering::SeqCst);
        if drain_all(shared) {
            accepting.retry.store(true, Ordering::SeqCst);
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }
    // Connections the kernel completed before now would be reset by the close: take them.
    let mut listeners = lock(&accepting.listeners);
    for l in listeners.iter() {
        let _ = drain(shared, &**l);
    }
    listeners.clear();
}
