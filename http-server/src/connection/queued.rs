//! The `Queued` phase: a complete request runs at once when a handler slot is free, or waits
//! parked in the bounded queue for one (oldest first); 503 when the queue is full or the
//! wait is over.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::flight::InFlight;
use super::worker::Worker;
use super::{Conn, Next, Phase};

/// Runs a complete request now if a handler slot is free, or parks it in the queue.
#[inline]
pub(super) fn dispatch(w: &mut Worker<'_>, conn: &mut Conn, mut f: Box<InFlight>) -> Next {
    let engine = w.engine;
    // Requests that wait already go first: a slot this turn holds goes to the oldest.
    if !engine.queue.is_empty() {
        w.release_slot();
    } else if w.take_slot() {
        return Next::Run(f);
    }
    let until = engine.site.clock.now() + engine.settings.queue_wait;
    if !engine.queue.push(w.key, until) {
        f.refuse_busy(&w.rbuf);
        return Next::Run(f);
    }
    f.queued_until = Some(until);
    park(w, conn, f, until)
}

/// A queued request's turn (or a report for its connection while it waits).
pub(super) fn resume(w: &mut Worker<'_>, conn: &mut Conn, mut f: Box<InFlight>) -> Next {
    let engine = w.engine;
    if w.take_slot() {
        engine.queue.remove(w.key);
        return Next::Run(f);
    }
    let now = engine.site.clock.now();
    let until = f.queued_until.unwrap_or(now);
    if now >= until || engine.stopping() && engine.wire.abort.load(Ordering::Relaxed) {
        engine.queue.remove(w.key);
        f.refuse_busy(&w.rbuf);
        return Next::Run(f);
    }
    engine.queue.ensure(w.key, until);
    park(w, conn, f, until)
}

fn park(w: &Worker<'_>, conn: &mut Conn, f: Box<InFlight>, until: Instant) -> Next {
    // A safety net: the monitor answers 503 at the end of the wait; a connection still
    // parked well after is closed.
    conn.deadline = until + w.engine.wire.timeouts.write;
    Next::Park(Phase::Queued(f))
}
