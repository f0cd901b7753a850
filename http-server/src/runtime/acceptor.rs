//! The acceptor thread: accepts and registers, nothing else.
//!
//! A server may listen on several endpoints; the acceptor waits on all of them in one
//! poller and accepts from each until it has nothing more. When the shutdown begins it
//! accepts what is already queued on every listener one last time (those connections are
//! served), then closes the listeners.

use std::io::{self, Write};
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

/// Accepts from `listener` until nothing is pending or accepting fails.
fn drain(shared: &Shared, listener: &dyn Listener) -> Drained {
    loop {
        match listener.accept() {
            Ok(io) => register(shared, io),
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

/// The acceptor thread: accepts and registers, nothing else; backs off when accepting fails
/// (for instance when the process is out of file descriptors).
pub(crate) fn acceptor_main(shared: &Shared, listeners: Vec<Box<dyn Listener>>, mut poll: AcceptPoll) {
    let mut backoff = Duration::from_millis(5);
    while !shared.stopping() {
        let mut failed = false;
        for l in &listeners {
            failed |= matches!(drain(shared, &**l), Drained::Failed);
        }
        if failed {
            poll.wait(Some(backoff));
            backoff = (backoff * 2).min(Duration::from_secs(1));
        } else {
            backoff = Duration::from_millis(5);
            poll.wait(None);
        }
    }
    // Connections the kernel completed before now would be reset by the close: take them.
    for l in &listeners {
        let _ = drain(shared, &**l);
    }
    drop(listeners);
}
